/*
 * Errors and option parsing for every front end: "PROG: MESSAGE" on
 * stderr, "--name VALUE" / "--name=VALUE", and numbers parsed strictly
 * (decimal digits only), so that "-j 2.5" or "-j 0x10" means the same, an
 * error, to every program.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

static const char *prog = "weft";
static int verbose = 1;

void
weft_front_set_prog(const char *p)
{
	prog = p ? p : "weft";
}

const char *
weft_front_prog(void)
{
	return prog;
}

void
weft_front_set_verbose(int v)
{
	verbose = v;
}

void
weft_front_error(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
weft_front_is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

int
weft_front_opt(int argc, char **argv, int *i, const char *name,
    const char *alias, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) == 0 && a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (strcmp(a, name) != 0 && !(alias && strcmp(a, alias) == 0))
		return 0;
	if (*i + 1 >= argc) {
		weft_front_error("option '%s' needs a value (see --help)", a);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

/* Digits only: strtoull alone would take " 7", "+7", "-7" (as a huge
 * number) and stop quietly at "2.5". */
static int
all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int
weft_front_parse_u64(const char *opt, const char *s, uint64_t min,
    uint64_t max, uint64_t *out)
{
	unsigned long long v;

	if (!s || !all_digits(s)) {
		weft_front_error("%s: '%s' is not a number (decimal digits "
				 "only)",
		    opt, s ? s : "");
		return -1;
	}
	errno = 0;
	v = strtoull(s, NULL, 10);
	if (errno == ERANGE || v < min || v > max) {
		weft_front_error("%s: '%s' is not a number from %llu to %llu",
		    opt, s, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

int
weft_front_parse_size(const char *opt, const char *s, size_t min,
    size_t max, size_t *out)
{
	uint64_t v;

	if (weft_front_parse_u64(opt, s, min, max, &v))
		return -1;
	*out = (size_t)v;
	return 0;
}

int
weft_front_parse_seconds(const char *opt, const char *s, double min,
    double max, double *out)
{
	const char *p = s ? s : "";
	int digits = 0;
	double v;

	/* [digits][.digits]: strtod would also take "1e9", "inf", "0x1p3"
	 * and leading blanks. */
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (!digits || *p) {
		weft_front_error("%s: '%s' is not a number of seconds", opt,
		    s ? s : "");
		return -1;
	}
	v = strtod(s, NULL);
	if (!(v >= min && v <= max)) {
		weft_front_error("%s: '%s' is not a number of seconds from %g "
				 "to %g",
		    opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}
