/*
 * The one writer of every front end's standard output: every write is
 * checked as it goes, the first failure stops everything after it, and a
 * limit (--max-bytes) bounds the total. A graph file of 2 KB can describe
 * a value that prints as terabytes (lists that share their sublists): a
 * full disk, a closed pipe or the limit must end the walk at once, not at
 * the end of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

void
weft_front_out_init(weft_front_out *o, FILE *f, uint64_t max_bytes)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->max_bytes = max_bytes;
}

int
weft_front_out_put(weft_front_out *o, const char *s, size_t n)
{
	if (o->rc != WEFT_OK || n == 0)
		return o->rc;
	if (o->max_bytes && (n > o->max_bytes ||
				o->written > o->max_bytes - n)) {
		o->rc = WEFT_ERANGE;
		return o->rc;
	}
	errno = 0;
	if (fwrite(s, 1, n, o->f) != n || ferror(o->f)) {
		o->err = errno ? errno : EIO;
		o->rc = WEFT_EIO;
		return o->rc;
	}
	o->written += n;
	return WEFT_OK;
}

int
weft_front_out_sink(void *ud, const char *s, size_t n)
{
	return weft_front_out_put(ud, s, n);
}

int
weft_front_out_puts(weft_front_out *o, const char *s)
{
	return weft_front_out_put(o, s, strlen(s));
}

int
weft_front_out_printf(weft_front_out *o, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return o->rc;
	if ((size_t)n < sizeof(small))
		return weft_front_out_put(o, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (!big) {
		if (o->rc == WEFT_OK)
			o->rc = WEFT_ENOMEM;
		return o->rc;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	weft_front_out_put(o, big, (size_t)n);
	free(big);
	return o->rc;
}

int
weft_front_out_value(weft_front_out *o, weft_value v, unsigned flags)
{
	int rc;

	if (o->rc != WEFT_OK)
		return o->rc;
	rc = weft_value_write_to(weft_front_out_sink, o, v, flags);
	if (rc != WEFT_OK && o->rc == WEFT_OK)
		o->rc = rc; /* the walk's own failure: ENOMEM, EINVAL */
	return o->rc;
}

int
weft_front_out_flush(weft_front_out *o)
{
	errno = 0;
	if (fflush(o->f) != 0 && o->rc == WEFT_OK) {
		o->err = errno ? errno : EIO;
		o->rc = WEFT_EIO;
	}
	return o->rc;
}

int
weft_front_out_end(weft_front_out *o, const char *what)
{
	weft_front_out_flush(o);
	if (o->rc == WEFT_OK)
		return 0;
	if (o->rc == WEFT_EIO)
		weft_front_error("writing %s: %s", what, strerror(o->err));
	else if (o->rc == WEFT_ERANGE)
		weft_front_error("writing %s: the output would pass "
				 "--max-bytes %llu; nothing more written "
				 "(raise --max-bytes, or compute less)",
		    what, (unsigned long long)o->max_bytes);
	else
		weft_front_error("writing %s: %s", what, weft_strerror(o->rc));
	return -1;
}

/* Counts instead of writing; refuses past the limit so the walk of a huge
 * value ends there. */
struct counter {
	uint64_t n, limit;
};

static int
count_sink(void *ud, const char *s, size_t n)
{
	struct counter *c = ud;

	(void)s;
	c->n += n;
	return c->limit && c->n > c->limit ? WEFT_ERANGE : WEFT_OK;
}

uint64_t
weft_front_value_size(weft_value v, unsigned flags, uint64_t limit)
{
	struct counter c = { 0, limit };

	weft_value_write_to(count_sink, &c, v, flags);
	return c.limit && c.n > c.limit ? c.limit + 1 : c.n;
}

/* Writes a key: JSON-quoted, or as is in text. */
static int
put_key(weft_front_out *o, const char *key, int text)
{
	weft_value k;

	if (text)
		return weft_front_out_puts(o, key);
	k = weft_str(key);
	if (weft_is_nil(k)) {
		if (o->rc == WEFT_OK)
			o->rc = WEFT_ENOMEM;
		return o->rc;
	}
	weft_front_out_value(o, k, 0);
	weft_value_release(&k);
	return o->rc;
}

/* The results' size, keys and punctuation included, up to limit + 1. */
static uint64_t
results_size(const weft_spec *s, const weft_value *res, int text,
    uint64_t limit)
{
	size_t n = weft_spec_ntargets(s);
	uint64_t total = text ? 0 : 3, left; /* "{" "}\n" */

	for (size_t i = 0; i < n && (!limit || total <= limit); i++) {
		weft_value k = weft_str(weft_spec_target_key(s, i));
		/* key, ": ", then ", " or "\n" */
		total += 4 + weft_front_value_size(k, text ? WEFT_WRITE_TEXT : 0,
				 0);
		weft_value_release(&k);
		/* no need to walk a value past what is left */
		left = !limit ? 0 : total >= limit ? 1 : limit - total;
		total += weft_front_value_size(
		    res[i], text ? WEFT_WRITE_TEXT : 0, left);
	}
	return total;
}

int
weft_front_print_results(weft_front_out *o, const weft_spec *s,
    const weft_value *res, int text)
{
	size_t n = weft_spec_ntargets(s);

	/* All or nothing: half a JSON object on stdout is worse than an
	 * error alone. */
	if (o->max_bytes && o->rc == WEFT_OK &&
	    results_size(s, res, text, o->max_bytes) >
		o->max_bytes - o->written) {
		o->rc = WEFT_ERANGE;
		return o->rc;
	}
	if (!text)
		weft_front_out_puts(o, "{");
	for (size_t i = 0; i < n && o->rc == WEFT_OK; i++) {
		if (!text && i)
			weft_front_out_puts(o, ", ");
		put_key(o, weft_spec_target_key(s, i), text);
		weft_front_out_puts(o, ": ");
		weft_front_out_value(o, res[i], text ? WEFT_WRITE_TEXT : 0);
		if (text)
			weft_front_out_puts(o, "\n");
	}
	if (!text)
		weft_front_out_puts(o, "}\n");
	return weft_front_out_flush(o);
}
