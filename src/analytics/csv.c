/*
 * CSV files as weft graphs (weft/csv.h): opening (header and size), the
 * graph of a query (one scan task per byte range, a merge tree, a finisher),
 * and the frame the finisher builds. The parsing itself is csv_scan.c.
 */
#include "analytics/analytics.h"

#include "base/alloc.h"
#include "base/memhash.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/array.h"
#include "weft/csv.h"
#include "weft/errno.h"
#include "weft/graph.h"
#include "weft/value.h"

struct weft_csv {
	weft__csv_spec base; /* the file part; query fields unset */
};

/* -- specs ---------------------------------------------------------------------- */

static void
spec_free(void *v)
{
	weft__csv_spec *sp = v;
	if (!sp)
		return;
	weft__free(sp->path);
	if (sp->names)
		for (size_t i = 0; i < sp->ncols; i++)
			weft__free(sp->names[i]);
	weft__free(sp->names);
	weft__free(sp->val_col);
	weft__free(sp->val_type);
	weft__free(sp->role);
	weft__free(sp->agg_op);
	weft__free(sp->agg_slot);
	if (sp->agg_name)
		for (size_t i = 0; i < sp->naggs; i++)
			weft__free(sp->agg_name[i]);
	weft__free(sp->agg_name);
	weft__free(sp);
}

/* A copy of the file part of `b`, for a query to fill in. */
static weft__csv_spec *
spec_clone(const weft__csv_spec *b)
{
	weft__csv_spec *sp = weft__calloc(1, sizeof *sp);
	if (!sp)
		return NULL;
	*sp = *b;
	sp->names = NULL;
	sp->path = weft__strdup(b->path);
	sp->names = weft__calloc(b->ncols, sizeof *sp->names);
	sp->role = weft__calloc(b->ncols, sizeof *sp->role);
	if (!sp->path || !sp->names || !sp->role) {
		spec_free(sp);
		return NULL;
	}
	for (size_t i = 0; i < b->ncols; i++) {
		sp->names[i] = weft__strdup(b->names[i]);
		if (!sp->names[i]) {
			spec_free(sp);
			return NULL;
		}
	}
	return sp;
}

/* -- opening ---------------------------------------------------------------------- */

static void
seterr(char *err, size_t n, const char *fmt, ...) WEFT_PRINTF(3, 4);

static void
seterr(char *err, size_t n, const char *fmt, ...)
{
	if (!err || !n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* Appends c to the header field f (fl bytes used of fc), doubling it as
 * it fills; 0 when out of memory (f is then still the caller's). */
static int
field_push(char **f, size_t *fl, size_t *fc, char c)
{
	if (*fl + 1 >= *fc) {
		size_t nc = *fc ? 2 * *fc : 32;
		char *t = weft__realloc(*f, nc);
		if (!t)
			return 0;
		*f = t;
		*fc = nc;
	}
	(*f)[(*fl)++] = c;
	return 1;
}

/* Splits the first record of buf[0..len) into fields (quotes undone).
 * Returns the number of bytes it took (newline included), 0 when the
 * record does not end in buf (and `eof` is not set), HDR_QUOTE for a bad
 * quote, HDR_NUL for a NUL byte in a field, HDR_NOMEM. */
enum { HDR_QUOTE = -1, HDR_NUL = -2, HDR_NOMEM = -3 };

static long
split_header(const char *buf, size_t len, int eof, char dl, char qt,
    char ***names, size_t *nf)
{
	size_t i = 0, n = 0, cap = 0;
	char **v = NULL;
	char *f = NULL;
	size_t fl = 0, fc = 0;
	int code = HDR_QUOTE;
	for (;;) {
		/* one field */
		fl = 0;
		int quoted = i < len && buf[i] == qt;
		if (quoted) {
			i++;
			for (;;) {
				if (i >= len)
					goto partial;
				if (buf[i] == qt) {
					if (i + 1 < len && buf[i + 1] == qt) {
						i++;
					} else if (i + 1 >= len && !eof) {
						goto partial;
					} else {
						i++;
						break;
					}
				}
				if (!field_push(&f, &fl, &fc, buf[i++]))
					goto nomem;
			}
			if (i < len && buf[i] == '\r' && i + 1 < len &&
			    buf[i + 1] == '\n')
				i++;
			if (i < len && buf[i] != dl && buf[i] != '\n')
				goto bad;
		} else {
			while (i < len && buf[i] != dl && buf[i] != '\n') {
				if (!field_push(&f, &fl, &fc, buf[i++]))
					goto nomem;
			}
			if (fl && f[fl - 1] == '\r' && i < len && buf[i] == '\n')
				fl--;
		}
		if (i >= len && !eof)
			goto partial;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **t = weft__realloc(v, cap * sizeof *t);
			if (!t)
				goto nomem;
			v = t;
		}
		if (fl && memchr(f, '\0', fl)) {
			code = HDR_NUL;
			goto bad;
		}
		v[n] = weft__malloc(fl + 1);
		if (!v[n])
			goto nomem;
		if (fl)
			memcpy(v[n], f, fl);
		v[n][fl] = 0;
		n++;
		if (i < len && buf[i] == dl) {
			i++;
			continue;
		}
		if (i < len)
			i++; /* the newline */
		break;
	}
	weft__free(f);
	*names = v;
	*nf = n;
	return (long)i;
nomem:
	code = HDR_NOMEM;
partial:
bad:
	weft__free(f);
	for (size_t k = 0; k < n; k++)
		weft__free(v[k]);
	weft__free(v);
	if (code == HDR_QUOTE && i >= len && !eof)
		return 0; /* partial */
	return code;
}

/* Skips blank lines ("\n", "\r\n") at the start of buf[0..len): the
 * bytes they take, and their number in *lines. Stops early before a lone
 * '\r' at the end when more may follow (not eof). */
static size_t
skip_blank(const char *buf, size_t len, int eof, uint64_t *lines)
{
	size_t i = 0;
	for (;;) {
		if (i < len && buf[i] == '\n')
			i++;
		else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
			i += 2;
		else if (i + 1 == len && buf[i] == '\r' && !eof)
			return i;
		else
			return i;
		(*lines)++;
	}
}

/* The header: what weft_csv_open() reads before the data. */
struct header {
	char **names;
	size_t n;
	uint64_t start; /* file offset of the header line */
	uint64_t end;	/* of the first byte after it */
	uint64_t blank; /* blank lines before it */
	uint64_t bom;	/* 3 with a byte order mark, else 0 */
};

/* Reads the first record after the byte order mark and any blank lines,
 * no further than `size` (the version of the file measured at open). */
static int
read_header(int fd, uint64_t size, const char *path, char dl, char qt,
    struct header *h, char *err, size_t errsize)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	uint64_t off = 0; /* file offset of buf[0] */
	int rc = WEFT_OK, first = 1;
	memset(h, 0, sizeof *h);
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			char *t = weft__realloc(buf, cap);
			if (!t) {
				rc = WEFT_ENOMEM;
				break;
			}
			buf = t;
		}
		size_t want = cap - len;
		uint64_t pos = off + len;
		if (size - pos < want)
			want = (size_t)(size - pos);
		ssize_t k = want ? pread(fd, buf + len, want, (off_t)pos) : 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			seterr(err, errsize, "%s: read error: %s", path,
			    strerror(errno));
			rc = WEFT_EIO;
			break;
		}
		len += (size_t)k;
		int eof = k == 0 || off + len == size;
		if (first && (len >= 3 || eof)) {
			first = 0;
			if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
				h->bom = 3;
			memmove(buf, buf + h->bom, len - h->bom);
			len -= h->bom;
			off += h->bom;
		} else if (first) {
			continue;
		}
		/* Blank lines before the header are skipped like any other
		 * (and dropped, so that a file of them needs no memory). */
		size_t sk = skip_blank(buf, len, eof, &h->blank);
		memmove(buf, buf + sk, len - sk);
		len -= sk;
		off += sk;
		if (len == 0 && eof) {
			seterr(err, errsize, "%s: empty file (no header)", path);
			rc = WEFT_EPARSE;
			break;
		}
		if (len == 0 || (len == 1 && buf[0] == '\r' && !eof))
			continue;
		long took = split_header(buf, len, eof, dl, qt, &h->names, &h->n);
		if (took == HDR_NOMEM) {
			rc = WEFT_ENOMEM;
			break;
		}
		if (took < 0) {
			seterr(err, errsize, "%s:%llu: header: %s", path,
			    (unsigned long long)(h->blank + 1),
			    took == HDR_NUL ?
				"a NUL byte in a column name (not a text file?)" :
				"unterminated or misplaced quote");
			rc = WEFT_EPARSE;
			break;
		}
		if (took > 0) {
			h->start = off;
			h->end = off + (uint64_t)took;
			break;
		}
	}
	weft__free(buf);
	if (rc == WEFT_ENOMEM)
		seterr(err, errsize, "%s: out of memory", path);
	return rc;
}

/* Refuses an empty or repeated column name. A hash set of the names: a
 * header of 40,000 columns took seconds with a pairwise comparison. */
static int
check_names(char **names, size_t n, const char *path, uint64_t line,
    char *err, size_t errsize)
{
	for (size_t i = 0; i < n; i++)
		if (!names[i][0]) {
			seterr(err, errsize,
			    "%s:%llu: header: column %zu has no name", path,
			    (unsigned long long)line, i + 1);
			return WEFT_EPARSE;
		}
	size_t ns = 16;
	while (ns < 2 * n)
		ns *= 2;
	uint32_t *set = weft__calloc(ns, sizeof *set);
	if (!set) {
		seterr(err, errsize, "%s: out of memory", path);
		return WEFT_ENOMEM;
	}
	int rc = WEFT_OK;
	for (size_t i = 0; i < n && rc == WEFT_OK; i++) {
		size_t len = strlen(names[i]);
		size_t j = weft__hash_mem(names[i], len) & (ns - 1);
		for (; set[j]; j = (j + 1) & (ns - 1))
			if (strcmp(names[set[j] - 1], names[i]) == 0) {
				char nm[WEFT__SHOW_BUF];
				seterr(err, errsize,
				    "%s:%llu: header: duplicate column name "
				    "'%s'",
				    path, (unsigned long long)line,
				    weft__csv_show(nm, names[i], names[i] + len));
				rc = WEFT_EPARSE;
				break;
			}
		set[j] = (uint32_t)(i + 1);
	}
	weft__free(set);
	return rc;
}

int
weft_csv_open(const char *path, const weft_csv_opts *opts, weft_csv **out,
    char *err, size_t errsize)
{
	weft_csv_opts z;
	memset(&z, 0, sizeof z);
	if (out)
		*out = NULL;
	if (!opts)
		opts = &z;
	if (!path || !out) {
		seterr(err, errsize, "csv: NULL argument");
		return WEFT_EINVAL;
	}
	char dl = opts->delim ? opts->delim : ',';
	char qt = opts->quote ? opts->quote : '"';
	if (dl == '\n' || dl == '\r' || qt == '\n' || qt == '\r' || dl == qt ||
	    (opts->flags & ~7u) || opts->fanin == 1 || opts->fanin > 64 ||
	    opts->reserved[0] || opts->reserved[1] || opts->reserved[2] ||
	    opts->reserved[3]) {
		seterr(err, errsize, "%s: invalid options", path);
		return WEFT_EINVAL;
	}
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		seterr(err, errsize, "%s: cannot open: %s", path, strerror(errno));
		return WEFT_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errsize, "%s: not a regular file", path);
		close(fd);
		return WEFT_EIO;
	}
	uint64_t size = (uint64_t)st.st_size;
	struct header h;
	int rc = read_header(fd, size, path, dl, qt, &h, err, errsize);
	close(fd);
	if (rc != WEFT_OK)
		return rc;
	weft_csv *c = weft__calloc(1, sizeof *c);
	weft__csv_spec *sp = c ? &c->base : NULL;
	if (!c || !(sp->path = weft__strdup(path))) {
		for (size_t i = 0; i < h.n; i++)
			weft__free(h.names[i]);
		weft__free(h.names);
		weft__free(c);
		seterr(err, errsize, "%s: out of memory", path);
		return WEFT_ENOMEM;
	}
	sp->delim = dl;
	sp->quote = qt;
	sp->flags = opts->flags;
	sp->size = size;
	sp->dev = (uint64_t)st.st_dev;
	sp->ino = (uint64_t)st.st_ino;
	sp->mtime_s = (int64_t)st.st_mtim.tv_sec;
	sp->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
	sp->ncols = h.n;
	sp->names = h.names;
	sp->key = -1;
	if (opts->flags & WEFT_CSV_NO_HEADER) {
		for (size_t i = 0; i < h.n; i++) {
			char num[24];
			snprintf(num, sizeof num, "%zu", i);
			weft__free(h.names[i]);
			h.names[i] = weft__strdup(num);
			if (!h.names[i])
				rc = WEFT_ENOMEM;
		}
		/* The blank lines before the first record are data lines
		 * then: the scan skips and counts them. */
		sp->data_start = h.bom;
		sp->header_lines = 0;
	} else {
		sp->data_start = h.end;
		sp->header_lines = h.blank + 1;
		rc = check_names(h.names, h.n, path, h.blank + 1, err, errsize);
	}
	uint64_t d = size - sp->data_start;
	if (opts->nchunks) {
		sp->nchunks = opts->nchunks;
		sp->chunk_bytes = d / sp->nchunks + (d % sp->nchunks != 0);
		if (sp->chunk_bytes == 0)
			sp->chunk_bytes = 1;
	} else {
		sp->chunk_bytes =
		    opts->chunk_bytes ? opts->chunk_bytes : WEFT_CSV_CHUNK_DEFAULT;
		sp->nchunks = (size_t)(d / sp->chunk_bytes +
		    (d % sp->chunk_bytes != 0));
		if (sp->nchunks == 0)
			sp->nchunks = 1;
	}
	if (rc == WEFT_OK && sp->nchunks > WEFT_MAX_NODES / 4) {
		seterr(err, errsize, "%s: too many chunks (%zu)", path,
		    sp->nchunks);
		rc = WEFT_EINVAL;
	}
	sp->fanin = opts->fanin ? opts->fanin : WEFT_FANIN_DEFAULT;
	if (rc != WEFT_OK) {
		if (rc == WEFT_ENOMEM)
			seterr(err, errsize, "%s: out of memory", path);
		weft_csv_free(c);
		return rc;
	}
	*out = c;
	return WEFT_OK;
}

void
weft_csv_free(weft_csv *c)
{
	if (!c)
		return;
	weft__free(c->base.path);
	if (c->base.names)
		for (size_t i = 0; i < c->base.ncols; i++)
			weft__free(c->base.names[i]);
	weft__free(c->base.names);
	weft__free(c);
}

size_t
weft_csv_ncols(const weft_csv *c)
{
	return c ? c->base.ncols : 0;
}

const char *
weft_csv_colname(const weft_csv *c, size_t i)
{
	return c && i < c->base.ncols ? c->base.names[i] : NULL;
}

long
weft_csv_colindex(const weft_csv *c, const char *name)
{
	if (!c || !name)
		return -1;
	for (size_t i = 0; i < c->base.ncols; i++)
		if (strcmp(c->base.names[i], name) == 0)
			return (long)i;
	return -1;
}

uint64_t
weft_csv_size(const weft_csv *c)
{
	return c ? c->base.size : 0;
}

size_t
weft_csv_nchunks(const weft_csv *c)
{
	return c ? c->base.nchunks : 0;
}

/* -- tasks --------------------------------------------------------------------------- */

static const weft__csv_spec *
spec_of(weft_value v)
{
	return weft_ptr_get(v);
}

static void
part_free_v(void *p)
{
	weft__part_free(p);
}

static const weft__part *
part_of(weft_value v)
{
	return weft_ptr_get(v);
}

/* Quote parity at the start of range idx, from the parity node's F64S. */
static int
parity_of(size_t n, const weft_value *a, size_t idx)
{
	if (n < 3)
		return 0;
	const double *p = weft_f64s_data(a[2]);
	return p && idx < weft_len(a[2]) ? (int)p[idx] : 0;
}

/* Parses the range of a scan or col task (spec, idx[, parities]) into
 * *pt; WEFT_OK, or the task's failure. */
static int
scan_task(weft_ctx *ctx, size_t n, const weft_value *a, weft__part **pt)
{
	const weft__csv_spec *sp = spec_of(a[0]);
	size_t idx = (size_t)weft_as_int(a[1]);
	char msg[512];
	*pt = weft__part_new(sp);
	if (!*pt)
		return weft_fail(ctx, "%s: out of memory", sp->path);
	int rc = weft__csv_scan(sp, idx, parity_of(n, a, idx), *pt, msg,
	    sizeof msg);
	if (rc != WEFT_OK) {
		weft__part_free(*pt);
		*pt = NULL;
		return weft_fail(ctx, "%s", msg);
	}
	return WEFT_OK;
}

/* scan(spec, idx[, parities]) -> part */
static int
k_scan(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__part *pt;
	int rc = scan_task(ctx, n, a, &pt);
	if (rc != WEFT_OK)
		return rc;
	*out = weft_ptr(pt, part_free_v);
	return weft_is_nil(*out) ? weft_fail(ctx, "out of memory") : WEFT_OK;
}

/* qcount(spec, idx) -> INT */
static int
k_qcount(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	uint64_t q;
	char msg[512];
	if (weft__csv_count_quotes(spec_of(a[0]), (size_t)weft_as_int(a[1]),
		&q, msg, sizeof msg) != WEFT_OK)
		return weft_fail(ctx, "%s", msg);
	*out = weft_int((int64_t)q);
	return WEFT_OK;
}

/* parity(count...) -> F64S of the quote parity before each range */
static int
k_parity(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	if (weft_f64s_new(n, NULL, out) != WEFT_OK)
		return weft_fail(ctx, "out of memory");
	double *d = weft_f64s_data_mut(*out);
	uint64_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		d[i] = (double)(acc & 1);
		acc += (uint64_t)weft_as_int(a[i]);
	}
	return WEFT_OK;
}

/* merge(part...) -> part: the inputs are consecutive ranges, in order */
static int
k_merge(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__part *m = weft__part_copy(part_of(a[0]));
	if (!m)
		return weft_fail(ctx, "merge: out of memory");
	for (size_t i = 1; i < n; i++) {
		if (weft__part_merge(m, part_of(a[i])) != WEFT_OK) {
			weft__part_free(m);
			return weft_fail(ctx, "merge: out of memory");
		}
	}
	*out = weft_ptr(m, part_free_v);
	return weft_is_nil(*out) ? weft_fail(ctx, "out of memory") : WEFT_OK;
}

static int
fail_row(weft_ctx *ctx, const weft__csv_spec *sp, const weft__part *pt)
{
	return weft_fail(ctx, "%s:%llu:%lu: %s", sp->path,
	    (unsigned long long)(sp->header_lines + pt->err_line + 1),
	    (unsigned long)pt->err_col, pt->err_msg);
}

/* For sorting the groups by key. */
struct keyref {
	int64_t i;
	const char *s;
	size_t n, g;
};

static int
cmp_ikey(const void *x, const void *y)
{
	int64_t a = ((const struct keyref *)x)->i, b = ((const struct keyref *)y)->i;
	return (a > b) - (a < b);
}

static int
cmp_skey(const void *x, const void *y)
{
	const struct keyref *a = x, *b = y;
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->s, b->s, n) : 0;
	if (c)
		return c;
	return (a->n > b->n) - (a->n < b->n);
}

/* M2 / (n - 1). The reader skips NaN and its numbers are finite, so a
 * variance is never NaN in truth: a NaN here is inf - inf from a mean or an
 * M2 that overflowed (values near 1e308), and where that happens first
 * depends on the order of the merges, that is on the ranges. Report such
 * an overflow as +inf, the same for any split of the file. */
static double
var_value(const weft__acc *a)
{
	double v = a->m2 / (a->n - 1);

	return v != v && isfinite(a->min) && isfinite(a->max) ? INFINITY : v;
}

static double
agg_value(int op, const weft__acc *a, double rows)
{
	switch (op) {
	case WEFT_AGG_COUNT:
		return a ? a->n : rows;
	case WEFT_AGG_SUM: {
		weft__dd s = { a->hi, a->lo };
		return weft__dd_value(s);
	}
	case WEFT_AGG_MEAN: {
		weft__dd s = { a->hi, a->lo };
		return a->n > 0 ? weft__dd_value(s) / a->n : NAN;
	}
	case WEFT_AGG_MIN:
		return a->n > 0 ? a->min : NAN;
	case WEFT_AGG_MAX:
		return a->n > 0 ? a->max : NAN;
	case WEFT_AGG_VAR:
		return a->n > 1 ? var_value(a) : NAN;
	default:
		return a->n > 1 ? sqrt(var_value(a)) : NAN;
	}
}

int
weft__csv_frame(weft_ctx *ctx, const weft__csv_spec *sp, const weft__part *pt,
    weft_value *out)
{
	if (pt->has_err)
		return fail_row(ctx, sp, pt);
	int keyed = sp->key >= 0;
	size_t ng = keyed ? pt->ngroups : 1;
	size_t ncol = sp->naggs + (size_t)keyed;
	struct keyref *kr = weft__malloc((ng ? ng : 1) * sizeof *kr);
	weft_value f = weft_nil(), names = weft_nil();
	int rc = kr ? weft_list_new(ncol + 1, &f) : WEFT_ENOMEM;
	if (rc == WEFT_OK)
		rc = weft_list_new(ncol, &names);
	if (rc != WEFT_OK)
		goto nomem;
	for (size_t g = 0; g < ng; g++) {
		kr[g].g = g;
		if (keyed && sp->key_type == WEFT_CSV_INT)
			kr[g].i = pt->ikey[g];
		else if (keyed) {
			kr[g].s = pt->arena ? pt->arena + pt->koff[g] : "";
			kr[g].n = pt->klen[g];
		}
	}
	if (keyed)
		qsort(kr, ng, sizeof *kr,
		    sp->key_type == WEFT_CSV_INT ? cmp_ikey : cmp_skey);
	size_t j = 0;
	if (keyed) {
		weft_value kc;
		if (weft_list_new(ng, &kc) != WEFT_OK)
			goto nomem;
		for (size_t g = 0; g < ng; g++) {
			weft_value k = sp->key_type == WEFT_CSV_INT ?
			    weft_int(kr[g].i) :
			    weft_str_n(kr[g].s, kr[g].n);
			if (weft_is_nil(k) ||
			    weft_list_set(&kc, g, k) != WEFT_OK) {
				weft_value_release(&kc);
				goto nomem;
			}
		}
		if (weft_list_set(&names, 0, weft_str(sp->names[sp->key])) ||
		    weft_list_set(&f, 1, kc))
			goto nomem;
		j = 1;
	}
	for (size_t k = 0; k < sp->naggs; k++, j++) {
		weft_value col;
		if (weft_f64s_new(ng, NULL, &col) != WEFT_OK)
			goto nomem;
		double *d = weft_f64s_data_mut(col);
		long s = sp->agg_slot[k];
		for (size_t g = 0; g < ng; g++) {
			size_t gi = kr[g].g;
			int have = gi < pt->ngroups;
			const weft__acc *ac =
			    s < 0 ? NULL : have ? &pt->acc[gi * pt->nval + (size_t)s] : NULL;
			weft__acc empty = { 0, 0, 0, 0, 0, INFINITY, -INFINITY };
			if (s >= 0 && !ac)
				ac = &empty;
			d[g] = agg_value(sp->agg_op[k], ac, have ? pt->grows[gi] : 0);
		}
		if (weft_list_set(&names, j, weft_str(sp->agg_name[k])) ||
		    weft_list_set(&f, j + 1, col))
			goto nomem;
	}
	if (weft_list_set(&f, 0, names) != WEFT_OK) {
		names = weft_nil();
		goto nomem;
	}
	weft__free(kr);
	*out = f;
	return WEFT_OK;
nomem:
	weft__free(kr);
	weft_value_release(&names);
	weft_value_release(&f);
	return weft_fail(ctx, "frame: out of memory");
}

int
weft__csv_info(weft_ctx *ctx, const weft__csv_spec *sp, const weft__part *pt,
    weft_value *out)
{
	if (pt->has_err)
		return fail_row(ctx, sp, pt);
	weft_value l;
	if (weft_list_new(4, &l) != WEFT_OK)
		return weft_fail(ctx, "info: out of memory");
	weft_list_set(&l, 0, weft_int((int64_t)pt->rows));
	weft_list_set(&l, 1, weft_int((int64_t)pt->skipped));
	weft_list_set(&l, 2, weft_int((int64_t)(pt->lines + sp->header_lines)));
	if (pt->has_skip) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s:%llu:%lu: %s", sp->path,
		    (unsigned long long)(sp->header_lines + pt->skip_line + 1),
		    (unsigned long)pt->skip_col, pt->skip_msg);
		weft_list_set(&l, 3, weft_str(msg));
	}
	*out = l;
	return WEFT_OK;
}

/* frame(spec, part) -> frame */
static int
k_frame(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	return weft__csv_frame(ctx, spec_of(a[0]), part_of(a[1]), out);
}

/* info(spec, part) -> [rows, skipped, lines, first_skipped | nil] */
static int
k_info(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	return weft__csv_info(ctx, spec_of(a[0]), part_of(a[1]), out);
}

/* col(spec, idx[, parities]) -> F64S of the column's values in range idx */
static int
k_col(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	const weft__csv_spec *sp = spec_of(a[0]);
	weft__part *pt;
	int rc = scan_task(ctx, n, a, &pt);
	if (rc != WEFT_OK)
		return rc;
	if (pt->has_err) {
		/* Lines before this range are unknown here: give the byte
		 * offset of the row. */
		rc = weft_fail(ctx, "%s: row at byte %llu: %s", sp->path,
		    (unsigned long long)pt->err_off, pt->err_msg);
		weft__part_free(pt);
		return rc;
	}
	rc = weft_f64s_new(pt->ncol, pt->col, out);
	weft__part_free(pt);
	return rc == WEFT_OK ? WEFT_OK : weft_fail(ctx, "out of memory");
}

/* -- building the graph ---------------------------------------------------------- */

static int
graph_err(weft_graph *g)
{
	int rc = weft_graph_errcode(g);
	return rc != WEFT_OK ? rc : WEFT_ENOMEM;
}

/* The value slot of (column, type), added when new. */
static long
slot_of(weft__csv_spec *sp, size_t col, int type)
{
	for (size_t s = 0; s < sp->nval; s++)
		if (sp->val_col[s] == col && sp->val_type[s] == type)
			return (long)s;
	/* A column is parsed as one type per query. */
	if (sp->role[col] != WEFT__R_SKIP)
		return -2;
	size_t s = sp->nval++;
	sp->val_col[s] = col;
	sp->val_type[s] = type;
	sp->role[col] = (uint16_t)(WEFT__R_VAL + s);
	return (long)s;
}

static const char *const op_names[] = { "count", "sum", "mean", "min", "max",
	"var", "std" };

/* The range tasks of `sp` (kern per range), with the quote-count pass
 * first in multiline mode. parts[] receives the nodes. */
static int
range_nodes(weft__csv_spec *sp, weft_value spv, weft_graph *g, weft_fn kern,
    const char *name, const char *what, weft_node *parts)
{
	char kb[96];
	size_t n = sp->nchunks;
	weft_node par = WEFT_NODE_NONE;
	if (sp->flags & WEFT_CSV_MULTILINE) {
		weft_arg *qa = weft__calloc(n, sizeof *qa);
		if (!qa)
			return WEFT_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			weft_node q = WEFT_DELAYED_NAMED(g,
			    weft__key(g, kb, sizeof kb, "%s.quotes-%zu", name, i),
			    k_qcount,
			    weft_lit(weft_value_retain(spv)),
			    weft_lit(weft_int((int64_t)i)));
			if (!weft_node_ok(q)) {
				weft__free(qa);
				return graph_err(g);
			}
			qa[i] = weft_ref(q);
		}
		par = weft_delayed_named(g,
		    weft__key(g, kb, sizeof kb, "%s.parity", name), k_parity, n,
		    qa);
		weft__free(qa);
		if (!weft_node_ok(par))
			return graph_err(g);
	}
	for (size_t i = 0; i < n; i++) {
		weft_arg args[3] = { weft_lit(weft_value_retain(spv)),
			weft_lit(weft_int((int64_t)i)), weft_ref(par) };
		parts[i] = weft_delayed_named(g,
		    weft__key(g, kb, sizeof kb, "%s.%s-%zu", name, what, i), kern,
		    weft_node_ok(par) ? 3 : 2, args);
		if (!weft_node_ok(parts[i]))
			return graph_err(g);
	}
	return WEFT_OK;
}

int
weft__csv_query_spec(
    const weft_csv *c, const weft_csv_query *q, weft__csv_spec **out)
{
	if (!c || !q || !q->aggs || q->naggs == 0 ||
	    q->naggs > 256 || q->reserved[0] || q->reserved[1] ||
	    q->reserved[2] || q->reserved[3])
		return WEFT_EINVAL;
	for (size_t k = 0; k < q->naggs; k++) {
		const weft_csv_agg *ag = &q->aggs[k];
		if ((int)ag->op < WEFT_AGG_COUNT || ag->op > WEFT_AGG_STD ||
		    (ag->type != WEFT_CSV_FLOAT && ag->type != WEFT_CSV_INT) ||
		    (!ag->column && ag->op != WEFT_AGG_COUNT))
			return WEFT_EINVAL;
		if (ag->column && weft_csv_colindex(c, ag->column) < 0)
			return WEFT_ENOTFOUND;
	}
	if (q->group_by && weft_csv_colindex(c, q->group_by) < 0)
		return WEFT_ENOTFOUND;
	weft__csv_spec *sp = spec_clone(&c->base);
	if (!sp)
		return WEFT_ENOMEM;
	sp->key = q->group_by ? weft_csv_colindex(c, q->group_by) : -1;
	sp->key_type = q->key_type == WEFT_CSV_INT ? WEFT_CSV_INT : WEFT_CSV_STR;
	if (sp->key >= 0)
		sp->role[sp->key] = WEFT__R_KEY;
	sp->val_col = weft__calloc(q->naggs, sizeof *sp->val_col);
	sp->val_type = weft__calloc(q->naggs, sizeof *sp->val_type);
	sp->agg_op = weft__calloc(q->naggs, sizeof *sp->agg_op);
	sp->agg_slot = weft__calloc(q->naggs, sizeof *sp->agg_slot);
	sp->agg_name = weft__calloc(q->naggs, sizeof *sp->agg_name);
	if (!sp->val_col || !sp->val_type || !sp->agg_op || !sp->agg_slot ||
	    !sp->agg_name) {
		spec_free(sp);
		return WEFT_ENOMEM;
	}
	sp->naggs = q->naggs;
	for (size_t k = 0; k < q->naggs; k++) {
		const weft_csv_agg *ag = &q->aggs[k];
		long s = -1;
		if (ag->column) {
			s = slot_of(sp, (size_t)weft_csv_colindex(c, ag->column),
			    ag->type);
			if (s == -2) { /* the key, or another type */
				spec_free(sp);
				return WEFT_EINVAL;
			}
		}
		sp->agg_op[k] = ag->op;
		sp->agg_slot[k] = s;
		if (ag->op == WEFT_AGG_VAR || ag->op == WEFT_AGG_STD)
			sp->need_m2 = 1;
		char nm[300];
		if (ag->column)
			snprintf(nm, sizeof nm, "%s(%s)", op_names[ag->op],
			    ag->column);
		else
			snprintf(nm, sizeof nm, "count");
		sp->agg_name[k] = weft__strdup(nm);
		if (!sp->agg_name[k]) {
			spec_free(sp);
			return WEFT_ENOMEM;
		}
	}
	*out = sp;
	return WEFT_OK;
}

void
weft__csv_spec_free(void *sp)
{
	spec_free(sp);
}

int
weft_csv_aggregate(weft_csv *c, weft_graph *g, const weft_csv_query *q,
    weft_node *frame, weft_node *info)
{
	if (!c || !g || !frame)
		return WEFT_EINVAL;
	weft__csv_spec *sp;
	int rc0 = weft__csv_query_spec(c, q, &sp);
	if (rc0 != WEFT_OK)
		return rc0;
	weft_value spv = weft_ptr(sp, spec_free);
	if (weft_is_nil(spv))
		return WEFT_ENOMEM;
	char name[32], tn[48], kb[64];
	weft__prefix(g, "csv", "scan-0", name, sizeof name);
	snprintf(tn, sizeof tn, "%s.merge", name);
	weft_node *parts = weft__malloc(sp->nchunks * sizeof *parts);
	int rc = parts ? range_nodes(sp, spv, g, k_scan, name, "scan", parts) :
			 WEFT_ENOMEM;
	weft_node root;
	if (rc == WEFT_OK)
		rc = weft__tree(g, tn, k_merge, 0, NULL, sp->nchunks, parts,
		    sp->fanin, &root);
	weft__free(parts);
	if (rc == WEFT_OK) {
		*frame = WEFT_DELAYED_NAMED(g,
		    weft__key(g, kb, sizeof kb, "%s.frame", name), k_frame,
		    weft_lit(weft_value_retain(spv)),
		    weft_ref(root));
		if (!weft_node_ok(*frame))
			rc = graph_err(g);
	}
	if (rc == WEFT_OK && info) {
		*info = WEFT_DELAYED_NAMED(g,
		    weft__key(g, kb, sizeof kb, "%s.info", name), k_info,
		    weft_lit(weft_value_retain(spv)),
		    weft_ref(root));
		if (!weft_node_ok(*info))
			rc = graph_err(g);
	}
	weft_value_release(&spv);
	return rc;
}

int
weft_csv_column(weft_csv *c, weft_graph *g, const char *column,
    weft_csv_type type, weft_array **out)
{
	if (out)
		*out = NULL;
	if (!c || !g || !column || !out ||
	    (type != WEFT_CSV_FLOAT && type != WEFT_CSV_INT))
		return WEFT_EINVAL;
	long col = weft_csv_colindex(c, column);
	if (col < 0)
		return WEFT_ENOTFOUND;
	weft__csv_spec *sp = spec_clone(&c->base);
	if (!sp)
		return WEFT_ENOMEM;
	sp->val_col = weft__calloc(1, sizeof *sp->val_col);
	sp->val_type = weft__calloc(1, sizeof *sp->val_type);
	if (!sp->val_col || !sp->val_type) {
		spec_free(sp);
		return WEFT_ENOMEM;
	}
	sp->collect = 1;
	slot_of(sp, (size_t)col, type);
	weft_value spv = weft_ptr(sp, spec_free);
	if (weft_is_nil(spv))
		return WEFT_ENOMEM;
	char name[32];
	weft__prefix(g, "csvcol", "range-0", name, sizeof name);
	weft_node *parts = weft__malloc(sp->nchunks * sizeof *parts);
	int rc = parts ? range_nodes(sp, spv, g, k_col, name, "range", parts) :
			 WEFT_ENOMEM;
	if (rc == WEFT_OK) {
		weft_chunking ch;
		memset(&ch, 0, sizeof ch);
		ch.fanin = sp->fanin;
		rc = weft_array_from_nodes(g, sp->nchunks, parts, &ch, out);
	}
	weft__free(parts);
	weft_value_release(&spv);
	return rc;
}

/* -- frames and info --------------------------------------------------------------- */

size_t
weft_frame_ncols(weft_value f)
{
	return weft_len(weft_list_get(f, 0));
}

size_t
weft_frame_nrows(weft_value f)
{
	return weft_frame_ncols(f) ? weft_len(weft_list_get(f, 1)) : 0;
}

const char *
weft_frame_name(weft_value f, size_t j)
{
	return weft_as_str(weft_list_get(weft_list_get(f, 0), j));
}

weft_value
weft_frame_col(weft_value f, size_t j)
{
	if (j >= weft_frame_ncols(f))
		return weft_nil();
	return weft_list_get(f, j + 1);
}

long
weft_frame_find(weft_value f, const char *name)
{
	size_t n = weft_frame_ncols(f);
	for (size_t j = 0; name && j < n; j++) {
		const char *s = weft_frame_name(f, j);
		if (s && strcmp(s, name) == 0)
			return (long)j;
	}
	return -1;
}

int
weft_csv_info_get(weft_value v, weft_csv_info *out)
{
	if (!out)
		return WEFT_EINVAL;
	memset(out, 0, sizeof *out);
	if (weft_type_of(v) != WEFT_LIST || weft_len(v) != 4 ||
	    weft_type_of(weft_list_get(v, 0)) != WEFT_INT)
		return WEFT_ETYPE;
	out->rows = weft_as_int(weft_list_get(v, 0));
	out->skipped = weft_as_int(weft_list_get(v, 1));
	out->lines = weft_as_int(weft_list_get(v, 2));
	out->first_skipped = weft_as_str(weft_list_get(v, 3));
	return WEFT_OK;
}
