/*
 * The hot path of the CSV reader: one byte range of a file read with
 * pread() in 1 MiB blocks and parsed in place into per-key accumulators.
 *
 * Why hand-written: bench/analytics/parse_bench, one thread, the 307 MB
 * benchmark file (group-by mean of x), measured 204 MB/s for Debian's
 * libcsv 3.0.3 with strtod(), 316 MB/s for a plain splitting loop with
 * strtod(), 910 MB/s for the same loop with the parser below, and 892 MB/s
 * for this file's scan including its reads: strtod() is two thirds of the
 * cost, libcsv's callback per field most of the rest. So:
 * - the buffer always ends with a newline (a sentinel is added at end of
 *   file), so scanning an unquoted field needs no bounds check;
 * - only the columns the query names are parsed; others are skipped;
 * - numbers take a fast path that is still correctly rounded (exact
 *   integer mantissa and power of ten, one rounding), and fall back to
 *   strtod() for the rest;
 * - per-key hash tables are small and stay in L1 for typical key counts;
 * - short unquoted rows, most of a data file, are split by vector compares
 *   (SSE2, or AVX2 where the CPU has it, checked at run time): one pass
 *   marks delimiters, newlines, quotes and '\r' in 64-bit masks, and the
 *   fields the query names are read straight from their positions. Any
 *   other row takes the general parser. On the benchmark file's group-by
 *   (one thread, median of 9 computes) the CPU time went from 0.331 s to
 *   0.289 s: the numbers' digits and division are now most of the rest.
 */
#include "analytics/analytics.h"

#include "base/alloc.h"
#include "base/decimal.h"
#include "base/memhash.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft/csv.h"

#define BLOCK ((size_t)256 << 10)
#define TAIL_READ ((size_t)64 << 10)
/* Zero bytes kept after the data, for the word reads of skip_field and
 * the 64-byte reads of classify (a zero byte is never a delimiter, quote
 * or newline, so they find nothing there). */
#define SLACK 64

/* -- numbers ------------------------------------------------------------------ */

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

/* Accumulates the run of digits at p into *m (wrapping past 19 digits:
 * the callers count the digits and refuse that) and returns its end. */
static inline const char *
digit_run(const char *p, uint64_t *m)
{
	while ((unsigned)(*p - '0') < 10)
		*m = *m * 10 + (unsigned)(*p++ - '0');
	return p;
}

/* The optional '-' and the run of digits at *pp, shared by both fast
 * parsers: sets *neg and *m, moves *pp past them and returns how many
 * digits there were. */
static inline size_t
sign_digits(const char **pp, int *neg, uint64_t *m)
{
	const char *p = *pp, *s;
	*neg = *p == '-';
	s = p += *neg;
	*m = 0;
	*pp = digit_run(p, m);
	return (size_t)(*pp - s);
}

/* The common shapes, parsed while scanning: "[-]digits[.digits]" with at
 * most 19 digits, exact under Clinger's condition. Anything else (and a
 * terminator other than delimiter or newline) returns 0 and the caller
 * takes the general path. The buffer ends with a newline, so the loops
 * need no bounds. */
static inline int
fast_f64(const char **pp, double *out)
{
	const char *p = *pp;
	int neg;
	uint64_t m;
	size_t nd = sign_digits(&p, &neg, &m), nf = 0;
	if (*p == '.') {
		const char *f = ++p;
		p = digit_run(p, &m);
		nf = (size_t)(p - f);
		nd += nf;
	}
	if (nd == 0 || nd > 19 || nf > 22 || m > ((uint64_t)1 << 53))
		return 0;
	double v = nf ? (double)m / weft__pow10[nf] : (double)m;
	*out = neg ? -v : v;
	*pp = p;
	return 1;
}

static inline int
fast_i64(const char **pp, int64_t *out)
{
	const char *p = *pp;
	int neg;
	uint64_t m;
	size_t nd = sign_digits(&p, &neg, &m);
	if (nd == 0 || nd > 18)
		return 0;
	*out = neg ? -(int64_t)m : (int64_t)m;
	*pp = p;
	return 1;
}

/* Up to the next delimiter or newline, eight bytes at a time where the
 * byte order allows (the buffer keeps 16 zero bytes of slack after its
 * data, so reading a word past the last newline stays inside it). */
static inline const char *
skip_field(const char *p, char delim, const uint8_t *cls)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                           \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	const uint64_t dm = ones * (unsigned char)delim, nm = ones * '\n';
	(void)cls;
	for (;;) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t a = w ^ dm, b = w ^ nm;
		/* exact for the lowest matching byte, which is all we use */
		uint64_t z = (((a - ones) & ~a) | ((b - ones) & ~b)) & high;
		if (z)
			return p + (__builtin_ctzll(z) >> 3);
		p += 8;
	}
#else
	(void)delim;
	while (!cls[(unsigned char)*p])
		p++;
	return p;
#endif
}

/* -- groups -------------------------------------------------------------------- */

weft__part *
weft__part_new(const weft__csv_spec *sp)
{
	weft__part *p = weft__calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->nval = sp->nval;
	p->key_type = sp->key < 0 ? -1 : sp->key_type;
	return p;
}

void
weft__part_free(weft__part *p)
{
	if (!p)
		return;
	weft__free(p->slots);
	weft__free(p->hash);
	weft__free(p->ikey);
	weft__free(p->koff);
	weft__free(p->klen);
	weft__free(p->arena);
	weft__free(p->grows);
	weft__free(p->acc);
	weft__free(p->col);
	weft__free(p->direct);
	weft__free(p);
}

/* A copy of s[0..n); NULL only for a NULL s or no memory. A zero-size
 * array that exists (the accumulators of a query with no value column)
 * gets a copy too: a NULL there would read as no memory (issue 11.2). */
static void *
dup_mem(const void *s, size_t n)
{
	if (!s)
		return NULL;
	void *d = weft__malloc(n);
	if (d && n)
		memcpy(d, s, n);
	return d;
}

weft__part *
weft__part_copy(const weft__part *s)
{
	weft__part *p = weft__malloc(sizeof *p);
	if (!p)
		return NULL;
	*p = *s;
	size_t gc = s->gcap;
	p->slots = dup_mem(s->slots, s->nslots * sizeof *s->slots);
	p->hash = dup_mem(s->hash, gc * sizeof *s->hash);
	p->ikey = dup_mem(s->ikey, gc * sizeof *s->ikey);
	p->koff = dup_mem(s->koff, gc * sizeof *s->koff);
	p->klen = dup_mem(s->klen, gc * sizeof *s->klen);
	p->arena = dup_mem(s->arena, s->acap);
	p->grows = dup_mem(s->grows, gc * sizeof *s->grows);
	p->acc = dup_mem(s->acc, gc * s->nval * sizeof *s->acc);
	p->col = dup_mem(s->col, s->colcap * sizeof *s->col);
	p->direct = NULL; /* a cache: rebuilt on use */
	if ((s->slots && !p->slots) || (s->hash && !p->hash) ||
	    (s->ikey && !p->ikey) || (s->koff && !p->koff) ||
	    (s->klen && !p->klen) || (s->arena && !p->arena) ||
	    (s->grows && !p->grows) || (s->acc && !p->acc) ||
	    (s->col && !p->col)) {
		weft__part_free(p);
		return NULL;
	}
	return p;
}

static int
grow(void **ptr, size_t n, size_t elem)
{
	void *q = weft__realloc(*ptr, n * elem);
	if (!q)
		return 0;
	*ptr = q;
	return 1;
}

/* Makes room for one more group. */
static int
reserve_group(weft__part *p)
{
	if (p->ngroups < p->gcap && 2 * (p->ngroups + 1) <= p->nslots)
		return 1;
	if (p->ngroups == p->gcap) {
		size_t c = p->gcap ? 2 * p->gcap : 16, nv = p->nval ? p->nval : 1;
		if (c > UINT32_MAX - 1)
			return 0;
		if (!grow((void **)&p->hash, c, sizeof *p->hash) ||
		    !grow((void **)&p->grows, c, sizeof *p->grows) ||
		    !grow((void **)&p->acc, c * nv, sizeof *p->acc))
			return 0;
		if (p->key_type == WEFT_CSV_INT) {
			if (!grow((void **)&p->ikey, c, sizeof *p->ikey))
				return 0;
		} else if (p->key_type >= 0) {
			if (!grow((void **)&p->koff, c, sizeof *p->koff) ||
			    !grow((void **)&p->klen, c, sizeof *p->klen))
				return 0;
		}
		p->gcap = c;
	}
	if (2 * (p->ngroups + 1) > p->nslots) {
		size_t ns = p->nslots ? 2 * p->nslots : 32;
		uint32_t *sl = weft__calloc(ns, sizeof *sl);
		if (!sl)
			return 0;
		for (size_t g = 0; g < p->ngroups; g++) {
			size_t i = p->hash[g] & (ns - 1);
			while (sl[i])
				i = (i + 1) & (ns - 1);
			sl[i] = (uint32_t)(g + 1);
		}
		weft__free(p->slots);
		p->slots = sl;
		p->nslots = ns;
	}
	return 1;
}

static void
init_group(weft__part *p, size_t g, uint64_t h)
{
	p->hash[g] = h;
	p->grows[g] = 0;
	for (size_t s = 0; s < p->nval; s++) {
		weft__acc *a = &p->acc[g * p->nval + s];
		a->n = a->hi = a->lo = a->mean = a->m2 = 0;
		a->min = INFINITY;
		a->max = -INFINITY;
	}
}

/* Keys in [0, DIRECT) find their group in a flat array first. */
#define DIRECT 4096

/* The group of INT key k, added when new; SIZE_MAX on no memory. */
static size_t
group_int(weft__part *p, int64_t k)
{
	if ((uint64_t)k < DIRECT && p->direct && p->direct[k])
		return p->direct[k] - 1;
	uint64_t h = weft__mix64((uint64_t)k);
	if (p->nslots) {
		size_t mask = p->nslots - 1, i = h & mask;
		for (uint32_t s; (s = p->slots[i]) != 0; i = (i + 1) & mask)
			if (p->ikey[s - 1] == k)
				return s - 1;
	}
	if (!reserve_group(p))
		return SIZE_MAX;
	size_t g = p->ngroups++, mask = p->nslots - 1, i = h & mask;
	while (p->slots[i])
		i = (i + 1) & mask;
	p->slots[i] = (uint32_t)(g + 1);
	p->ikey[g] = k;
	init_group(p, g, h);
	if ((uint64_t)k < DIRECT) {
		/* a cache only: every group is in the hash table too */
		if (!p->direct)
			p->direct = weft__calloc(DIRECT, sizeof *p->direct);
		if (p->direct)
			p->direct[k] = (uint32_t)(g + 1);
	}
	return g;
}

/* The group of STR key s[0..n), added when new; SIZE_MAX on no memory. */
static size_t
group_str(weft__part *p, const char *s, size_t n, uint64_t h)
{
	if (p->nslots) {
		size_t mask = p->nslots - 1, i = h & mask;
		for (uint32_t x; (x = p->slots[i]) != 0; i = (i + 1) & mask) {
			size_t g = x - 1;
			if (p->hash[g] == h && p->klen[g] == n &&
			    (n == 0 || memcmp(p->arena + p->koff[g], s, n) == 0))
				return g;
		}
	}
	if (n > UINT32_MAX || !reserve_group(p))
		return SIZE_MAX;
	if (p->alen + n > p->acap) {
		size_t c = p->acap ? 2 * p->acap : 1024;
		while (c < p->alen + n)
			c *= 2;
		if (!grow((void **)&p->arena, c, 1))
			return SIZE_MAX;
		p->acap = c;
	}
	size_t g = p->ngroups++, mask = p->nslots - 1, i = h & mask;
	while (p->slots[i])
		i = (i + 1) & mask;
	p->slots[i] = (uint32_t)(g + 1);
	if (n)
		memcpy(p->arena + p->alen, s, n);
	p->koff[g] = p->alen;
	p->klen[g] = (uint32_t)n;
	p->alen += n;
	init_group(p, g, h);
	return g;
}

static size_t
group_one(weft__part *p)
{
	if (p->ngroups)
		return 0;
	if (!reserve_group(p))
		return SIZE_MAX;
	p->ngroups = 1;
	p->slots[0] = 1;
	init_group(p, 0, 0);
	return 0;
}

static void
acc_merge(weft__acc *a, const weft__acc *b)
{
	if (b->n == 0)
		return;
	weft__dd s = { a->hi, a->lo }, t = { b->hi, b->lo };
	weft__dd_add_dd(&s, t);
	a->hi = s.hi;
	a->lo = s.lo;
	if (a->n == 0) {
		a->mean = b->mean;
		a->m2 = b->m2;
	} else {
		double n = a->n + b->n, d = b->mean - a->mean;
		a->mean += d * (b->n / n);
		a->m2 += b->m2 + d * d * (a->n * b->n / n);
	}
	a->n += b->n;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
}

int
weft__part_merge(weft__part *a, const weft__part *b)
{
	for (size_t g = 0; g < b->ngroups; g++) {
		size_t t;
		if (a->key_type == WEFT_CSV_INT)
			t = group_int(a, b->ikey[g]);
		else if (a->key_type >= 0)
			t = group_str(a, b->arena ? b->arena + b->koff[g] : "",
			    b->klen[g], b->hash[g]);
		else
			t = group_one(a);
		if (t == SIZE_MAX)
			return WEFT_ENOMEM;
		a->grows[t] += b->grows[g];
		for (size_t s = 0; s < a->nval; s++)
			acc_merge(&a->acc[t * a->nval + s],
			    &b->acc[g * b->nval + s]);
	}
	if (b->ncol) {
		if (a->ncol + b->ncol > a->colcap) {
			if (!grow((void **)&a->col, a->ncol + b->ncol,
				sizeof *a->col))
				return WEFT_ENOMEM;
			a->colcap = a->ncol + b->ncol;
		}
		memcpy(a->col + a->ncol, b->col, b->ncol * sizeof *b->col);
		a->ncol += b->ncol;
	}
	/* Errors: the earliest in file order wins; b's lines come after
	 * all of a's. */
	if (!a->has_err && b->has_err) {
		a->has_err = 1;
		a->err_line = a->lines + b->err_line;
		a->err_col = b->err_col;
		a->err_off = b->err_off;
		memcpy(a->err_msg, b->err_msg, sizeof a->err_msg);
	}
	if (!a->has_skip && b->has_skip) {
		a->has_skip = 1;
		a->skip_line = a->lines + b->skip_line;
		a->skip_col = b->skip_col;
		memcpy(a->skip_msg, b->skip_msg, sizeof a->skip_msg);
	}
	a->rows += b->rows;
	a->skipped += b->skipped;
	a->lines += b->lines;
	return WEFT_OK;
}

/* -- reading ----------------------------------------------------------------------- */

void
weft__csv_range(const weft__csv_spec *sp, size_t idx, uint64_t *s, uint64_t *e)
{
	*s = sp->data_start + (uint64_t)idx * sp->chunk_bytes;
	*e = idx + 1 == sp->nchunks ?
	    UINT64_MAX :
	    sp->data_start + (uint64_t)(idx + 1) * sp->chunk_bytes;
}

struct rd {
	int fd;
	char *buf;
	size_t cap, len;
	uint64_t off;	/* file offset of buf[0] */
	uint64_t end;	/* the file size at open: nothing past it is read */
	int eof;	/* off + len == end */
	int changed;	/* the file ended before `end` */
};

/* Drops buf[0..keep), then reads up to `want` more bytes. Leaves one byte
 * of room for the end-of-file sentinel, and SLACK zero bytes after it. */
static int
rd_fill(struct rd *r, size_t keep, size_t want)
{
	if (keep) {
		memmove(r->buf, r->buf + keep, r->len - keep);
		r->len -= keep;
		r->off += keep;
	}
	if (r->cap - r->len < want + 1 + SLACK) {
		size_t c = r->len + want + 1 + SLACK;
		char *b = weft__realloc(r->buf, c);
		if (!b)
			return WEFT_ENOMEM;
		r->buf = b;
		r->cap = c;
	}
	/* Bytes appended since the open are not read. */
	uint64_t pos = r->off + r->len;
	if (pos >= r->end)
		want = 0;
	else if (r->end - pos < want)
		want = (size_t)(r->end - pos);
	size_t got = 0;
	while (got < want) {
		ssize_t k = pread(r->fd, r->buf + r->len + got, want - got,
		    (off_t)(pos + got));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return WEFT_EIO;
		}
		if (k == 0) { /* truncated since the open */
			r->changed = 1;
			return WEFT_EIO;
		}
		got += (size_t)k;
	}
	r->len += got;
	r->eof = pos + got >= r->end;
	memset(r->buf + r->len, 0, SLACK);
	return WEFT_OK;
}

/* State of one range's parse. */
struct sc {
	/* The byte classes of the 64 bytes at wbase, a bit per byte: the
	 * fast path's window (NULL: none yet). */
	const char *wbase;
	uint64_t wdl, wnl, wodd; /* delimiter; newline; quote or '\r' */
	int fast;		 /* the fast path is worth trying */
	int avx2;
	uint64_t nfast, nslow;
	const weft__csv_spec *sp;
	weft__part *pt;
	uint8_t cls[256]; /* 1: delimiter or newline, stops a field */
	double *vals;
	char *tmp; /* unescaped quoted key */
	size_t tmpcap;
	uint64_t line;	 /* newlines before the current row, in this range */
	uint64_t rowoff; /* file offset of the current row */
	int stop;	 /* an error ended the range */
	int fatal;	 /* the error being recorded cannot be skipped */
	int oom;
};

enum { ROW_OK, ROW_BAD, ROW_MORE, ROW_SLOW };

static void
row_error(struct sc *c, uint64_t line, size_t col, const char *fmt, ...)
    WEFT_PRINTF(4, 5);

/* Records a bad row: the first one as the range's error (and stop), or,
 * skipping, the first skipped row's message. A row whose quotes are out
 * of place (c->fatal) is never skipped in WEFT_CSV_MULTILINE mode: the
 * ranges after it start from a quote parity that counted its quotes, so
 * the rest of the file could not be read the same whatever the chunking. */
static void
row_error(struct sc *c, uint64_t line, size_t col, const char *fmt, ...)
{
	weft__part *p = c->pt;
	va_list ap;
	va_start(ap, fmt);
	if ((c->sp->flags & WEFT_CSV_SKIP_BAD) && !c->fatal) {
		p->skipped++;
		if (!p->has_skip) {
			p->has_skip = 1;
			p->skip_line = line;
			p->skip_col = (uint32_t)(col > UINT32_MAX ? UINT32_MAX : col);
			vsnprintf(p->skip_msg, sizeof p->skip_msg, fmt, ap);
		}
	} else if (!p->has_err) {
		p->has_err = 1;
		p->err_line = line;
		p->err_col = (uint32_t)(col > UINT32_MAX ? UINT32_MAX : col);
		p->err_off = c->rowoff;
		vsnprintf(p->err_msg, sizeof p->err_msg, fmt, ap);
		c->stop = 1;
	}
	va_end(ap);
}

const char *
weft__csv_show(char *buf, const char *s, const char *e)
{
	size_t k = 0;
	for (const char *p = s; p < e && p < s + WEFT__SHOW_MAX; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\') {
			buf[k++] = '\\';
			buf[k++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7F) {
			snprintf(buf + k, 5, "\\x%02X", ch);
			k += 4;
		} else {
			buf[k++] = (char)ch;
		}
	}
	if (e - s > WEFT__SHOW_MAX)
		for (int i = 0; i < 3; i++)
			buf[k++] = '.';
	buf[k] = 0;
	return buf;
}

/* "column 'x': cannot parse "1.2.3" as a number", or the NUL byte that
 * made a field unreadable (a binary file, or a text file in UTF-16). */
static void
bad_value(struct sc *c, uint64_t line, size_t col, const char *name,
    const char *fs, const char *fe, const char *what)
{
	char sh[WEFT__SHOW_BUF], nm[WEFT__SHOW_BUF];
	weft__csv_show(nm, name, name + strlen(name));
	if (memchr(fs, '\0', (size_t)(fe - fs)))
		row_error(c, line, col,
		    "column '%s': a NUL byte in \"%s\" (not a text file?)", nm,
		    weft__csv_show(sh, fs, fe));
	else
		row_error(c, line, col, "column '%s': cannot parse \"%s\" as %s",
		    nm, weft__csv_show(sh, fs, fe), what);
}

/* Adds a parsed row (its values in c->vals, its key) to the partial.
 * ROW_OK, or ROW_BAD with c->oom set. */
static inline __attribute__((always_inline)) int
add_row(struct sc *c, int64_t ikey, const char *skey, size_t sklen)
{
	const weft__csv_spec *sp = c->sp;
	weft__part *pt = c->pt;
	size_t g;
	if (sp->key < 0)
		g = sp->collect ? 0 : group_one(pt);
	else if (sp->key_type == WEFT_CSV_INT)
		g = group_int(pt, ikey);
	else
		g = group_str(pt, skey, sklen, weft__hash_mem(skey, sklen));
	if (g == SIZE_MAX) {
		c->oom = 1;
		return ROW_BAD;
	}
	pt->rows++;
	if (sp->collect) {
		if (pt->ncol == pt->colcap) {
			size_t n = pt->colcap ? 2 * pt->colcap : 4096;
			if (!grow((void **)&pt->col, n, sizeof *pt->col)) {
				c->oom = 1;
				return ROW_BAD;
			}
			pt->colcap = n;
		}
		pt->col[pt->ncol++] = c->vals[0];
		return ROW_OK;
	}
	pt->grows[g] += 1;
	weft__acc *acc = &pt->acc[g * pt->nval];
	for (size_t s = 0; s < pt->nval; s++) {
		double x = c->vals[s];
		if (x != x)
			continue;
		weft__acc *a = &acc[s];
		double sum, e;
		a->n += 1;
		weft__two_sum(a->hi, x, &sum, &e);
		a->hi = sum;
		a->lo += e;
		if (sp->need_m2) {
			double d = x - a->mean;
			a->mean += d / a->n;
			a->m2 += d * (x - a->mean);
		}
		if (x < a->min)
			a->min = x;
		if (x > a->max)
			a->max = x;
	}
	return ROW_OK;
}

/* -- the fast path: rows split by byte classes ----------------------------- */

/*
 * Most rows of a data file are short, unquoted and well formed. For them
 * the fields can be found without looking at each byte in turn: one pass
 * of vector compares marks the delimiters, newlines and the bytes that
 * need the general parser (quotes, '\r') in 64-bit masks, and the field
 * boundaries are the set bits. Only the columns the query names are then
 * parsed; the others are never read. A row that is not of that kind (or
 * whose numbers are not of the common shapes) goes to parse_row, which
 * gives it the same meaning; so the fast path changes no result.
 */
#if defined(__x86_64__) && defined(__SSE2__) && defined(__GNUC__)
#include <immintrin.h>
#define WEFT__CLASSIFY 1

static void
classify_sse2(struct sc *c, const char *p)
{
	const __m128i vd = _mm_set1_epi8(c->sp->delim), vn = _mm_set1_epi8('\n');
	const __m128i vq = _mm_set1_epi8(c->sp->quote), vr = _mm_set1_epi8('\r');
	uint64_t dl = 0, nl = 0, odd = 0;
	for (int i = 0; i < 4; i++) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		dl |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vd))
		    << (16 * i);
		nl |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vn))
		    << (16 * i);
		odd |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_or_si128(
			   _mm_cmpeq_epi8(b, vq), _mm_cmpeq_epi8(b, vr)))
		    << (16 * i);
	}
	c->wbase = p;
	c->wdl = dl;
	c->wnl = nl;
	c->wodd = odd;
}

/* The same with 32-byte compares, where the CPU has AVX2 (checked at run
 * time: the library is built for plain x86-64). */
__attribute__((target("avx2"))) static void
classify_avx2(struct sc *c, const char *p)
{
	const __m256i vd = _mm256_set1_epi8(c->sp->delim);
	const __m256i vn = _mm256_set1_epi8('\n');
	const __m256i vq = _mm256_set1_epi8(c->sp->quote);
	const __m256i vr = _mm256_set1_epi8('\r');
	__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
#define WEFT__MASK(x)                                                         \
	((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, (x))) | \
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(                          \
		_mm256_cmpeq_epi8(hi, (x)))                                    \
		<< 32)
	c->wbase = p;
	c->wdl = WEFT__MASK(vd);
	c->wnl = WEFT__MASK(vn);
	c->wodd = WEFT__MASK(vq) | WEFT__MASK(vr);
#undef WEFT__MASK
}

static int
cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") != 0;
}
#else
static int
cpu_has_avx2(void)
{
	return 0;
}
#endif

/* The row at p through the masks, or ROW_SLOW for parse_row. */
static inline int
fast_row(struct sc *c, const char *p, const char **next)
{
#ifdef WEFT__CLASSIFY
	const weft__csv_spec *sp = c->sp;
	uintptr_t k = (uintptr_t)p - (uintptr_t)c->wbase;
	uint64_t nl;
	/* The window, when it holds this row's newline; else a new one. */
	if (k >= 64 || (nl = c->wnl >> k) == 0) {
		if (c->avx2)
			classify_avx2(c, p);
		else
			classify_sse2(c, p);
		k = 0;
		nl = c->wnl;
		if (!nl) /* longer than 64 bytes */
			return ROW_SLOW;
	}
	uint64_t nlbit = nl & (0 - nl), before = nlbit - 1;
	uint64_t dl = (c->wdl >> k) & before;
	/* A blank line, a quote or '\r', a wrong field count: parse_row
	 * says what they mean. */
	if (nlbit == 1 || ((c->wodd >> k) & before))
		return ROW_SLOW;
	int64_t ikey = 0;
	const char *skey = NULL;
	size_t sklen = 0;
	const char *fs = p;
	for (size_t col = 0;; col++) {
		const char *fe = p + __builtin_ctzll(dl ? dl : nlbit);
		if (col >= sp->ncols || (!dl && col + 1 != sp->ncols))
			return ROW_SLOW; /* too many fields, or too few */
		uint16_t role = sp->role[col];
		const char *q = fs;
		if (role >= WEFT__R_VAL) {
			size_t s = role - WEFT__R_VAL;
			if (sp->val_type[s] == WEFT_CSV_FLOAT) {
				if (!fast_f64(&q, &c->vals[s]) || q != fe)
					return ROW_SLOW;
			} else {
				int64_t iv;
				if (!fast_i64(&q, &iv) || q != fe)
					return ROW_SLOW;
				c->vals[s] = (double)iv;
			}
		} else if (role == WEFT__R_KEY) {
			if (sp->key_type == WEFT_CSV_INT) {
				if (!fast_i64(&q, &ikey) || q != fe)
					return ROW_SLOW;
			} else {
				skey = fs;
				sklen = (size_t)(fe - fs);
			}
		}
		if (!dl)
			break;
		dl &= dl - 1;
		fs = fe + 1;
	}
	*next = p + __builtin_ctzll(nlbit) + 1;
	c->pt->lines++;
	return add_row(c, ikey, skey, sklen);
#else
	(void)c;
	(void)p;
	(void)next;
	return ROW_SLOW;
#endif
}

/*
 * Parses the row at p; the region [p, end) ends with a newline. Sets *next
 * past the row. ROW_MORE: a quoted field runs past `end` (multiline mode;
 * more data is needed).
 */
static int
parse_row(struct sc *c, const char *p, const char *end, const char **next)
{
	const weft__csv_spec *sp = c->sp;
	weft__part *pt = c->pt;
	const char delim = sp->delim, quote = sp->quote;
	const int multi = (sp->flags & WEFT_CSV_MULTILINE) != 0;
	const char *ls = p; /* start of the current physical line */
	uint64_t nl = 0;    /* newlines inside quoted fields so far */
	size_t col = 0;
	int64_t ikey = 0;
	const char *skey = NULL;
	size_t sklen = 0;

	if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* blank line */
		*next = p + (*p == '\r' ? 2 : 1);
		pt->lines++;
		return ROW_OK;
	}
	if (multi) {
		/* The whole record first: a bad row is then skipped to its
		 * end, once, and never parsed again with more data. */
		int inq = 0;
		const char *t = p;
		for (; t < end && (*t != '\n' || inq); t++)
			inq ^= *t == quote;
		if (t == end)
			return ROW_MORE;
	}
	for (;;) {
		const char *fs, *fe;
		int esc = 0;
		if (*p == quote) {
			const char *q = p + 1;
			for (;;) {
				while (q < end && *q != quote && *q != '\n')
					q++;
				if (q == end)
					return ROW_MORE;
				if (*q == '\n') {
					if (!multi) {
						row_error(c, c->line + nl,
						    (size_t)(p - ls) + 1,
						    "quoted field contains a "
						    "newline; open with "
						    "WEFT_CSV_MULTILINE to read "
						    "such fields");
						goto bad;
					}
					nl++;
					q++;
					continue;
				}
				if (q + 1 < end && q[1] == quote) {
					esc = 1;
					q += 2;
					continue;
				}
				break;
			}
			fs = p + 1;
			fe = q;
			p = q + 1;
			if (*p == '\r' && p[1] == '\n')
				p++;
			if (*p != delim && *p != '\n') {
				c->fatal = multi;
				row_error(c, c->line + nl, (size_t)(p - ls) + 1,
				    "unexpected character after a closing "
				    "quote");
				goto bad;
			}
			/* ls for columns: the last newline inside the field */
			for (const char *t = fe; nl && t > fs; t--)
				if (t[-1] == '\n') {
					ls = t;
					break;
				}
		} else {
			fs = p;
			uint16_t r0 = col < sp->ncols ? sp->role[col] : WEFT__R_SKIP;
			const char *q = p;
			if (r0 >= WEFT__R_VAL) {
				size_t s = r0 - WEFT__R_VAL;
				double v;
				if (sp->val_type[s] == WEFT_CSV_FLOAT &&
				    fast_f64(&q, &v) && c->cls[(unsigned char)*q]) {
					c->vals[s] = v;
					p = q;
					goto next;
				}
			} else if (r0 == WEFT__R_KEY &&
			    sp->key_type == WEFT_CSV_INT) {
				if (fast_i64(&q, &ikey) &&
				    c->cls[(unsigned char)*q]) {
					p = q;
					goto next;
				}
			}
			p = skip_field(p, delim, c->cls);
			fe = p;
			if (*p == '\n' && fe > fs && fe[-1] == '\r')
				fe--;
			/* The quote-count pass took it for an opening or
			 * closing quote. */
			const char *sq;
			if (multi && (sq = memchr(fs, quote, (size_t)(fe - fs)))) {
				c->fatal = 1;
				row_error(c, c->line + nl, (size_t)(sq - ls) + 1,
				    "a quote inside an unquoted field (with "
				    "WEFT_CSV_MULTILINE, a field that holds a "
				    "quote must be quoted)");
				goto bad;
			}
		}
		uint16_t role = col < sp->ncols ? sp->role[col] : WEFT__R_SKIP;
		if (col >= sp->ncols) {
			row_error(c, c->line + nl, (size_t)(fs - ls) + 1,
			    "expected %zu fields, found more", sp->ncols);
			goto bad;
		}
		if (role >= WEFT__R_VAL) {
			size_t s = role - WEFT__R_VAL;
			const char *a = fs, *b = fe;
			trim(&a, &b);
			double v = NAN;
			int ok = 1;
			if (a == b) {
				v = NAN;
			} else if (sp->val_type[s] == WEFT_CSV_INT) {
				int64_t iv;
				ok = weft__parse_i64(a, b, &iv);
				v = (double)iv;
			} else {
				ok = weft__parse_f64(a, b, &v);
			}
			if (!ok) {
				bad_value(c, c->line + nl, (size_t)(fs - ls) + 1,
				    sp->names[col], fs, fe,
				    sp->val_type[s] == WEFT_CSV_INT ?
					"an integer" :
					"a number");
				goto bad;
			}
			c->vals[s] = v;
		} else if (role == WEFT__R_KEY) {
			if (sp->key_type == WEFT_CSV_INT) {
				const char *a = fs, *b = fe;
				trim(&a, &b);
				if (a == b) {
					char nm[WEFT__SHOW_BUF];
					const char *n = sp->names[col];
					row_error(c, c->line + nl,
					    (size_t)(fs - ls) + 1,
					    "column '%s': missing key",
					    weft__csv_show(nm, n, n + strlen(n)));
					goto bad;
				}
				if (!weft__parse_i64(a, b, &ikey)) {
					bad_value(c, c->line + nl,
					    (size_t)(fs - ls) + 1, sp->names[col],
					    fs, fe, "an integer");
					goto bad;
				}
			} else if (esc) {
				size_t n = (size_t)(fe - fs);
				if (n > c->tmpcap) {
					char *t = weft__realloc(c->tmp, n);
					if (!t) {
						c->oom = 1;
						return ROW_BAD;
					}
					c->tmp = t;
					c->tmpcap = n;
				}
				size_t k = 0;
				for (const char *t = fs; t < fe; t++) {
					c->tmp[k++] = *t;
					if (*t == quote)
						t++;
				}
				skey = c->tmp;
				sklen = k;
			} else {
				skey = fs;
				sklen = (size_t)(fe - fs);
			}
		}
	next:
		if (*p == delim) {
			p++;
			col++;
			continue;
		}
		p++; /* the newline */
		break;
	}
	if (col + 1 != sp->ncols) {
		row_error(c, c->line + nl, (size_t)(p - ls),
		    "expected %zu fields, found %zu", sp->ncols, col + 1);
		*next = p;
		pt->lines += 1 + nl;
		return ROW_BAD;
	}
	*next = p;
	pt->lines += 1 + nl;
	return add_row(c, ikey, skey, sklen);

bad:
	/* Skip to the end of the record: of the physical line, or with
	 * WEFT_CSV_MULTILINE the first newline outside quotes (counting the
	 * quotes as the quote-count pass does; every error that leaves a
	 * quote open is fatal, so p is outside quotes here). */
	for (int inq = 0; p < end && (*p != '\n' || inq); p++) {
		if (multi && *p == quote)
			inq ^= 1;
		else if (*p == '\n')
			nl++;
	}
	*next = p < end ? p + 1 : end;
	pt->lines += 1 + nl;
	return ROW_BAD;
}

/* Index just past the last newline in buf[from..len), or `from`. */
static size_t
last_nl(const char *buf, size_t from, size_t len)
{
	for (size_t i = len; i > from; i--)
		if (buf[i - 1] == '\n')
			return i;
	return from;
}

int
weft__csv_reopen(const weft__csv_spec *sp, char *msg, size_t msgsize)
{
	int fd = open(sp->path, O_RDONLY);
	struct stat st;
	if (fd < 0) {
		snprintf(msg, msgsize, "%s: cannot open: %s", sp->path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(msg, msgsize, "%s: cannot read its size: %s", sp->path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_dev != sp->dev || (uint64_t)st.st_ino != sp->ino ||
	    (uint64_t)st.st_size != sp->size ||
	    (int64_t)st.st_mtim.tv_sec != sp->mtime_s ||
	    (int64_t)st.st_mtim.tv_nsec != sp->mtime_ns) {
		snprintf(msg, msgsize, "%s: file changed since it was opened",
		    sp->path);
		close(fd);
		return -1;
	}
	return fd;
}

int
weft__csv_same_version(const weft__csv_spec *a, const weft__csv_spec *b)
{
	return strcmp(a->path, b->path) == 0 && a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns;
}

/* Moves r to the first record start at or after s (s > data_start). Sets
 * *cur to its index in the buffer, or returns with r->eof and *cur ==
 * r->len when the range holds no record start. */
static int
seek_start(const weft__csv_spec *sp, struct rd *r, uint64_t s, uint64_t e,
    int parity, size_t *cur)
{
	const int multi = (sp->flags & WEFT_CSV_MULTILINE) != 0;
	r->off = s - 1;
	int inq = -1;
	for (;;) {
		int rc = rd_fill(r, r->len, e - r->off < BLOCK ? TAIL_READ : BLOCK);
		if (rc != WEFT_OK)
			return rc;
		/* Each round drops what the last one looked at. */
		for (size_t i = 0; i < r->len; i++) {
			char ch = r->buf[i];
			if (multi && inq < 0) /* state before byte s-1 */
				inq = parity ^ (ch == sp->quote);
			if (multi && ch == sp->quote) {
				inq ^= 1;
			} else if (ch == '\n' && !(multi && inq)) {
				*cur = i + 1;
				return WEFT_OK;
			}
		}
		*cur = r->len;
		if (r->eof)
			return WEFT_OK;
	}
}

int
weft__csv_scan(const weft__csv_spec *sp, size_t idx, int parity,
    weft__part *pt, char *msg, size_t msgsize)
{
	uint64_t s, e;
	weft__csv_range(sp, idx, &s, &e);
	struct sc c;
	memset(&c, 0, sizeof c);
	c.sp = sp;
	c.pt = pt;
	c.cls[(unsigned char)sp->delim] = 1;
	c.cls['\n'] = 1;
	c.fast = 1;
	c.avx2 = cpu_has_avx2();
	c.vals = weft__malloc((sp->nval ? sp->nval : 1) * sizeof *c.vals);
	struct rd r;
	memset(&r, 0, sizeof r);
	r.fd = -1;
	int rc = WEFT_OK;
	if (!c.vals) {
		rc = WEFT_ENOMEM;
		goto out;
	}
	/* An empty range past the end reads nothing; range 0 still checks
	 * the file's version, so that a query of a header-only file sees
	 * rows appended since. */
	if (s >= sp->size && idx > 0)
		goto out;
	r.end = sp->size;
	r.fd = weft__csv_reopen(sp, msg, msgsize);
	if (r.fd < 0) {
		rc = WEFT_EIO;
		goto out;
	}
	size_t cur = 0;
	if (idx == 0) {
		r.off = s;
	} else {
		r.len = 0;
		rc = seek_start(sp, &r, s, e, parity, &cur);
		if (rc != WEFT_OK)
			goto io;
		if (cur >= r.len && r.eof)
			goto out;
	}
	for (;;) {
		if (r.off + cur >= e)
			break;
		/* The buffer moved or changed: classify afresh. */
		c.wbase = NULL;
		size_t rend;
		if (r.eof) {
			/* All the rest is here: it is the region, ended by a
			 * sentinel newline when the file lacks one (rd_fill
			 * kept room). */
			if (r.len > cur && r.buf[r.len - 1] != '\n')
				r.buf[r.len++] = '\n';
			rend = r.len;
			if (rend == cur)
				break;
		} else {
			rend = last_nl(r.buf, cur, r.len);
		}
		int more = rend == cur;
		while (!more && cur < rend) {
			if (r.off + cur >= e)
				goto out;
			const char *next = NULL;
			c.rowoff = r.off + cur;
			int st = c.fast ? fast_row(&c, r.buf + cur, &next) :
					  ROW_SLOW;
			if (st == ROW_SLOW) {
				st = parse_row(&c, r.buf + cur, r.buf + rend,
				    &next);
				/* Files of long or quoted rows: stop trying. */
				if (++c.nslow > 256 && c.nslow > c.nfast)
					c.fast = 0;
			} else {
				c.nfast++;
			}
			if (st == ROW_MORE) {
				if (r.eof) {
					c.rowoff = r.off + cur;
					row_error(&c, c.line, 1,
					    "unterminated quoted field");
					goto out;
				}
				more = 1;
				break;
			}
			if (c.oom) {
				rc = WEFT_ENOMEM;
				goto out;
			}
			if (c.stop)
				goto out;
			cur = (size_t)(next - r.buf);
			c.line = pt->lines;
		}
		if (r.off + cur >= e || (r.eof && cur >= r.len))
			break;
		uint64_t pos = r.off + r.len;
		/* Up to the range end and a little past it (the last record
		 * continues there), at most a block: small ranges stay cheap. */
		size_t want = pos < e && e - pos < BLOCK - TAIL_READ ?
		    (size_t)(e - pos) + TAIL_READ :
		    pos < e ? BLOCK : TAIL_READ;
		/* A record longer than the buffer: read more of it. */
		if (more && cur == 0 && r.len >= want)
			want = r.len;
		rc = rd_fill(&r, cur, want);
		if (rc != WEFT_OK)
			goto io;
		cur = 0;
	}
	goto out;
io:
	if (rc == WEFT_EIO && r.changed)
		snprintf(msg, msgsize, "%s: file changed since it was opened",
		    sp->path);
	else if (rc == WEFT_EIO)
		snprintf(msg, msgsize, "%s: read error: %s", sp->path,
		    strerror(errno));
out:
	if (rc == WEFT_ENOMEM)
		snprintf(msg, msgsize, "%s: out of memory", sp->path);
	if (r.fd >= 0)
		close(r.fd);
	weft__free(r.buf);
	weft__free(c.vals);
	weft__free(c.tmp);
	return rc;
}

int
weft__csv_count_quotes(const weft__csv_spec *sp, size_t idx, uint64_t *count,
    char *msg, size_t msgsize)
{
	uint64_t s, e;
	weft__csv_range(sp, idx, &s, &e);
	*count = 0;
	if (s >= sp->size)
		return WEFT_OK;
	if (e > sp->size)
		e = sp->size;
	int fd = weft__csv_reopen(sp, msg, msgsize);
	if (fd < 0)
		return WEFT_EIO;
	char *buf = weft__malloc(BLOCK);
	int rc = buf ? WEFT_OK : WEFT_ENOMEM;
	uint64_t n = 0;
	for (uint64_t off = s; rc == WEFT_OK && off < e;) {
		size_t want = e - off < BLOCK ? (size_t)(e - off) : BLOCK;
		ssize_t k = pread(fd, buf, want, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(msg, msgsize, "%s: read error: %s", sp->path,
			    strerror(errno));
			rc = WEFT_EIO;
			break;
		}
		if (k == 0) {
			snprintf(msg, msgsize,
			    "%s: file changed since it was opened", sp->path);
			rc = WEFT_EIO;
			break;
		}
		for (const char *p = buf, *end = buf + k;
		     (p = memchr(p, sp->quote, (size_t)(end - p))) != NULL; p++)
			n++;
		off += (uint64_t)k;
	}
	if (rc == WEFT_ENOMEM)
		snprintf(msg, msgsize, "%s: out of memory", sp->path);
	weft__free(buf);
	close(fd);
	*count = n;
	return rc;
}
