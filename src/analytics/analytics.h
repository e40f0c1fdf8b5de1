/*
 * Private helpers shared by the chunked arrays (array*.c) and the CSV reader
 * (csv*.c): double-double accumulation, mergeable moments, and the fixed
 * reduction trees they are merged in. Only the public API is used to build
 * graphs, so that these functions are weft users like any other.
 */
#ifndef WEFT_ANALYTICS_ANALYTICS_H
#define WEFT_ANALYTICS_ANALYTICS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/array.h"
#include "weft/graph.h"
#include "weft/task.h"
#include "weft/value.h"

/* -- double-double sums -------------------------------------------------- */

/* hi + lo, |lo| <= ulp(hi)/2 after a normalisation. Accumulating every
 * term with TwoSum keeps ~106 bits, which makes the sum independent of the
 * order (the chunking) to within one final rounding. */
typedef struct weft__dd {
	double hi, lo;
} weft__dd;

/* Knuth's TwoSum: s + e == a + b exactly, with no branch. */
static inline void
weft__two_sum(double a, double b, double *s, double *e)
{
	double x = a + b;
	double bv = x - a;
	*e = (a - (x - bv)) + (b - bv);
	*s = x;
}

static inline void
weft__dd_add(weft__dd *a, double x)
{
	double s, e;
	weft__two_sum(a->hi, x, &s, &e);
	a->hi = s;
	a->lo += e;
}

static inline void
weft__dd_add_dd(weft__dd *a, weft__dd b)
{
	double s, e;
	weft__two_sum(a->hi, b.hi, &s, &e);
	/* An infinite (or NaN) sum is the answer, as it is when the terms
	 * are added one by one: renormalising it with the inf - inf junk of
	 * the low parts would make -inf + 1 a NaN (found by fuzz_csv). */
	if (!isfinite(s)) {
		a->hi = s;
		a->lo = 0;
		return;
	}
	e += a->lo + b.lo;
	/* renormalise so that lo stays small next to hi */
	weft__two_sum(s, e, &a->hi, &a->lo);
}

/* The rounded value. Once hi is infinite or NaN, lo holds inf - inf junk:
 * hi alone is the answer then. */
static inline double
weft__dd_value(weft__dd a)
{
	return isfinite(a.hi) ? a.hi + a.lo : a.hi;
}

/* -- mergeable moments --------------------------------------------------- */

/* Count, exact-ish sum, mean and M2 (sum of squared deviations), min, max
 * and NaN count of a set of doubles. Stored in an F64S value of
 * WEFT__MOM_LEN doubles between tasks: a marker, then the fields. */
typedef struct weft__mom {
	double n;
	weft__dd sum;
	double mean; /* the mean M2 is centred on */
	double m2;
	double min, max; /* +inf / -inf while empty */
	double nans;
} weft__mom;

#define WEFT__MOM_LEN 9
/* A marker in the stored form, so weft_stats_get() can tell a moments
 * value from any other F64S of the same length. */
#define WEFT__MOM_MAGIC 6.02214076e23

void weft__mom_init(weft__mom *m);
/* Adds x[0..n) (NaNs counted apart, and they make sum and m2 NaN). */
void weft__mom_add(weft__mom *m, const double *x, size_t n);
/* Adds one value: Welford's update. */
void weft__mom_push(weft__mom *m, double x);
/* m += o, Chan et al.'s pairwise combination. */
void weft__mom_merge(weft__mom *m, const weft__mom *o);
void weft__mom_store(const weft__mom *m, double *out);
void weft__mom_load(weft__mom *m, const double *in);
/* An owned F64S value holding `m`; NIL on no memory. */
weft_value weft__mom_value(const weft__mom *m);
/* The kernel that merges the moments values a[0..n) (n >= 1) into one:
 * the array's reduction tree and the array.merge builtin (array.c). */
int weft__k_mom_merge(weft_ctx *ctx, size_t n, const weft_value *a,
    weft_value *out);

/* -- other kernels (array_kern.c) ---------------------------------------- */

/* Fills x[0..n) with elements start.. of the generated array. */
void weft__gen_fill(const weft_gen *gen, size_t start, double *x, size_t n);
/* Sorts x ascending with NaNs last; returns the number of NaNs. */
size_t weft__sort_f64(double *x, size_t n);
/* Bytes of scratch weft__select_rank() needs for m runs. */
size_t weft__select_scratch(size_t m);
/* The element of rank k (0-based, k < total) of m sorted NaN-free runs. */
double weft__select_rank(size_t m, const double *const *run,
    const size_t *len, size_t k, void *scratch);
/* Adds numpy.histogram(x, nb, range=(lo, hi)) counts of p[0..len) to
 * cnt[0..nb). WEFT_OK or WEFT_ENOMEM. */
int weft__hist_fill(const double *p, size_t len, double lo, double hi,
    size_t nb, double *cnt);
/* The kernel that sums the F64S values a[0..n) (n >= 1) of one length
 * element by element: the histogram's reduction tree and the array.vadd
 * builtin (array.c). */
int weft__k_vec_add(weft_ctx *ctx, size_t n, const weft_value *a,
    weft_value *out);
/* numpy's interpolation of quantiles ('linear'). */
double weft__lerp(double a, double b, double t);
double weft__qindex(size_t n, double q);

/* -- reduction trees ----------------------------------------------------- */

/*
 * Node keys, for traces and error messages ("task 'csv1.frame' failed:
 * data.csv:7:3: ..."): formats the key into buf and returns it, or NULL
 * (an unnamed node) when `g` already has that key, say a node of the
 * caller's own. Names are a courtesy: nothing looks nodes up by them.
 */
const char *weft__key(weft_graph *g, char *buf, size_t size, const char *fmt,
    ...) WEFT_PRINTF(4, 5);
/* "<kind><q>" into buf for the smallest q >= 1 such that "<kind><q>.<probe>"
 * is not a key of g: a name prefix for the nodes of one array or query. */
void weft__prefix(weft_graph *g, const char *kind, const char *probe,
    char *buf, size_t size);

/*
 * Merges the results of in[0..n) with `merge` in a fixed tree of fan-in
 * `fanin`: level by level, consecutive groups of up to `fanin` nodes become
 * one merge node, so the tree (and so the floating-point result) depends on
 * n and fanin only. Each merge node gets `nlit` literal arguments first
 * (each retained per node; the caller keeps its own) and then its inputs.
 * n == 1 gives in[0] itself. Merge nodes are named "<name>-<level>-<i>"
 * when name is not NULL. WEFT_OK or the graph's error code.
 */
int weft__tree(weft_graph *g, const char *name, weft_fn merge, size_t nlit,
    const weft_value *lits, size_t n, const weft_node *in, unsigned fanin,
    weft_node *out);

/* A node `key` (may be NULL) calling fn(lits..., ref(in)) with the
 * literals retained. */
weft_node weft__node1(weft_graph *g, const char *key, weft_fn fn, weft_node in,
    size_t nlit, const weft_value *lits);

/* -- CSV (csv.c, csv_scan.c) ----------------------------------------------- */

/* Roles of a column in a query; values >= WEFT__R_VAL are value slots. */
enum { WEFT__R_SKIP = 0, WEFT__R_KEY = 1, WEFT__R_VAL = 2 };

/* Everything a range task needs: the file, its dialect and layout, and the
 * query. Immutable once built; shared by the tasks of one query through a
 * PTR literal, so it lives as long as the graph. */
typedef struct weft__csv_spec {
	char *path;
	char delim, quote;
	unsigned flags;
	size_t ncols;
	char **names;
	/* The version of the file the query reads, taken at open: every
	 * task that opens the file again checks it (issue 11.4), and reads
	 * no byte past `size`. */
	uint64_t size;	     /* file size at open */
	uint64_t dev, ino;
	int64_t mtime_s, mtime_ns;
	uint64_t data_start; /* first byte after the header */
	uint64_t header_lines;
	size_t nchunks;
	uint64_t chunk_bytes;
	unsigned fanin;
	/* the query */
	long key; /* column index, -1 for none */
	int key_type;
	size_t nval;	     /* value slots */
	size_t *val_col;     /* column of each slot */
	int *val_type;	     /* weft_csv_type of each slot */
	uint16_t *role;	     /* per column */
	int need_m2;	     /* some aggregate is var/std */
	size_t naggs;	     /* output columns after the key */
	int *agg_op;	     /* weft_agg of each */
	long *agg_slot;	     /* its value slot, -1 for COUNT of rows */
	char **agg_name;     /* "mean(x)" */
	int collect;	     /* weft_csv_column: keep the values */
} weft__csv_spec;

/* Per (group, value slot) accumulator: count, double-double sum, Welford
 * mean and M2, min, max. */
typedef struct weft__acc {
	double n, hi, lo, mean, m2, min, max;
} weft__acc;

/* The partial result of a range or of a merge of consecutive ranges. */
typedef struct weft__part {
	size_t nval, ngroups, gcap;
	int key_type;
	uint32_t *slots; /* open addressing: group index + 1, 0 = empty */
	size_t nslots;	 /* a power of two */
	uint64_t *hash;
	int64_t *ikey;
	uint64_t *koff; /* STR keys: offset and length in arena */
	uint32_t *klen;
	char *arena;
	size_t alen, acap;
	double *grows; /* rows per group */
	weft__acc *acc; /* ngroups * nval */
	uint32_t *direct; /* INT keys 0..4095: group + 1 (a cache) */
	double *col;	/* collect mode: the values */
	size_t ncol, colcap;
	uint64_t rows, skipped, lines;
	/* The first error and the first skipped row, lines counted from the
	 * first line of this partial. */
	int has_err, has_skip;
	uint64_t err_line, skip_line, err_off;
	uint32_t err_col, skip_col;
	char err_msg[200], skip_msg[200];
} weft__part;

weft__part *weft__part_new(const weft__csv_spec *sp);
void weft__part_free(weft__part *p);
/* A deep copy; NULL on no memory. */
weft__part *weft__part_copy(const weft__part *p);
/* a += b, where b covers the lines right after a's. WEFT_OK or ENOMEM. */
int weft__part_merge(weft__part *a, const weft__part *b);
/* Parses range `idx` into `pt`; `parity` is the quote parity at the range
 * start (WEFT_CSV_MULTILINE). WEFT_OK, or WEFT_EIO / WEFT_ENOMEM with a
 * message in msg. Bad rows are recorded in pt, not returned. */
int weft__csv_scan(const weft__csv_spec *sp, size_t idx, int parity,
    weft__part *pt, char *msg, size_t msgsize);
/* Quote characters in range `idx`: WEFT_OK or WEFT_EIO with a message. */
int weft__csv_count_quotes(const weft__csv_spec *sp, size_t idx,
    uint64_t *count, char *msg, size_t msgsize);
/* Opens sp->path for reading and checks that it is still the version
 * measured at open (device, inode, size, modification time). The file
 * descriptor, or -1 with a message ("data.csv: file changed since it was
 * opened"). */
int weft__csv_reopen(const weft__csv_spec *sp, char *msg, size_t msgsize);
/* Whether two specs read the same version of the same file. */
int weft__csv_same_version(const weft__csv_spec *a, const weft__csv_spec *b);
/* Byte range [*s, *e) of range idx (*e is UINT64_MAX for the last). */
void weft__csv_range(
    const weft__csv_spec *sp, size_t idx, uint64_t *s, uint64_t *e);

/* Text from a file as a one-line message shows it: its first
 * WEFT__SHOW_MAX bytes, with a quote, a backslash and a control byte (a
 * NUL, a newline) escaped as \", \\ and \xNN, and "..." when it is longer.
 * `buf` holds WEFT__SHOW_BUF bytes; returns it. */
#define WEFT__SHOW_MAX 40
#define WEFT__SHOW_BUF (4 * WEFT__SHOW_MAX + 4)
const char *weft__csv_show(char *buf, const char *s, const char *e);

struct weft_csv;
struct weft_csv_query;
/* The spec of query q on c (free with weft__csv_spec_free). Errors as
 * weft_csv_aggregate(). */
int weft__csv_query_spec(const struct weft_csv *c,
    const struct weft_csv_query *q, weft__csv_spec **out);
void weft__csv_spec_free(void *sp);
/* The frame / info value of a merged partial; weft_fail()s with the first
 * bad row when pt has one. */
int weft__csv_frame(weft_ctx *ctx, const weft__csv_spec *sp,
    const weft__part *pt, weft_value *out);
int weft__csv_info(weft_ctx *ctx, const weft__csv_spec *sp,
    const weft__part *pt, weft_value *out);

#endif
