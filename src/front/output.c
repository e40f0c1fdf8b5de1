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

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

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
		o->wanted = o->written + n;
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
	char small[512], *buf = small;
	va_list ap;
	int n;

	/* Measured first, so a long text is never cut. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || o->rc != WEFT_OK)
		return o->rc;
	if ((size_t)n >= sizeof(small) && !(buf = malloc((size_t)n + 1))) {
		o->rc = WEFT_ENOMEM;
		return o->rc;
	}
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	weft_front_out_put(o, buf, (size_t)n);
	if (buf != small)
		free(buf);
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
		weft_front_error("writing %s: %s %llu bytes, more than "
				 "--max-bytes %llu (raise it, or compute less)",
		    what, o->written ? "the output would pass" : "nothing "
			"written: it would be", (unsigned long long)o->wanted,
		    (unsigned long long)o->max_bytes);
	else
		weft_front_error("writing %s: %s", what, weft_strerror(o->rc));
	return -1;
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


/* The results' size, keys and punctuation included, exactly as
 * weft_front_print_results() writes them (saturating). WEFT_OK or
 * WEFT_ENOMEM. */
static int
results_size(const weft_spec *s, const weft_value *res, int text,
    uint64_t *total)
{
	unsigned flags = text ? WEFT_WRITE_TEXT : 0;
	size_t n = weft_spec_ntargets(s);

	*total = text ? 0 : 3; /* "{" "}\n" */
	for (size_t i = 0; i < n; i++) {
		weft_value k = weft_str(weft_spec_target_key(s, i));
		uint64_t ks = 0, vs = 0;
		int rc = weft_is_nil(k) ? WEFT_ENOMEM
					: weft_value_write_size(k, flags, &ks);
		weft_value_release(&k);
		if (rc == WEFT_OK)
			rc = weft_value_write_size(res[i], flags, &vs);
		if (rc != WEFT_OK)
			return rc;
		/* key ": " value, then "\n" (text) or ", " between (JSON) */
		*total = sat_add(*total, 2 + (text ? 1 : i ? 2 : 0));
		*total = sat_add(sat_add(*total, ks), vs);
	}
	return WEFT_OK;
}

int
weft_front_print_results(weft_front_out *o, const weft_spec *s,
    const weft_value *res, int text)
{
	size_t n = weft_spec_ntargets(s);

	/* All or nothing: half a JSON object on stdout is worse than an
	 * error alone. */
	if (o->max_bytes && o->rc == WEFT_OK) {
		uint64_t size;
		int rc = results_size(s, res, text, &size);
		if (rc != WEFT_OK || size > o->max_bytes - o->written) {
			o->wanted = sat_add(o->written, size);
			o->rc = rc != WEFT_OK ? rc : WEFT_ERANGE;
			return o->rc;
		}
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

int
weft_front_exit(int code)
{
	int failed;

	errno = 0;
	failed = fflush(stdout) != 0 || ferror(stdout);
	/* A command that failed already said why. */
	if (!failed || code != WEFT_FRONT_EXIT_OK)
		return code;
	weft_front_error("writing to standard output: %s",
	    strerror(errno ? errno : EIO));
	return WEFT_FRONT_EXIT_RUN;
}
