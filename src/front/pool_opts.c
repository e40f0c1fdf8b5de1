/*
 * The pool options every front end takes: -j/--threads N, --bind
 * cores|pus|none, --topology "package:2 core:4 pu:2".
 */
#include <stdio.h>
#include <string.h>

#include "front.h"

/* The PUs a synthetic topology describes: the product of its counts
 * ("package:2 core:4 pu:2" is 16; hwloc also takes bare counts, "2 4 2").
 * hwloc builds every object before weft can look at the total, and a
 * string like "core:100000 pu:100000" keeps it busy for minutes: this is
 * checked first. Returns the product, capped at limit + 1; 0 when the
 * string has no count at all (hwloc will say what is wrong with it). */
static unsigned long long
synthetic_pus(const char *s, unsigned long long limit)
{
	unsigned long long total = 1;
	int any = 0;

	while (*s) {
		unsigned long long n = 0;
		const char *tok = s;
		size_t len = strcspn(s, " \t\n");
		const char *colon = memchr(tok, ':', len);
		const char *p = colon ? colon + 1 : tok;

		s += len;
		s += strspn(s, " \t\n");
		/* Attributes in parentheses ("pu:2(indexes=...)") follow the
		 * count; a token that does not start with one is not a level
		 * (hwloc rejects it, or it is an attribute). */
		if (*p < '0' || *p > '9')
			continue;
		for (; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (unsigned long long)(*p - '0');
			if (n > limit)
				n = limit + 1;
		}
		any = 1;
		total = n == 0 ? 0 : total * n;
		if (total > limit)
			total = limit + 1;
	}
	return any ? total : 0;
}

int
weft_front_pool_opt(int argc, char **argv, int *i, unsigned which,
    weft_pool_opts *po)
{
	const char *a = argv[*i], *v;
	size_t n;
	int m;

	if ((which & WEFT_FRONT_POOL_THREADS) &&
	    (m = weft_front_opt(argc, argv, i, "--threads", "-j", &v))) {
		if (m < 0 ||
		    weft_front_parse_size(a, v, 0, WEFT_FRONT_MAX_THREADS, &n))
			return -1;
		po->threads = (unsigned)n;
		return 1;
	}
	if ((which & WEFT_FRONT_POOL_BIND) &&
	    (m = weft_front_opt(argc, argv, i, "--bind", NULL, &v))) {
		if (m < 0)
			return -1;
		if (strcmp(v, "cores") == 0)
			po->bind = WEFT_BIND_CORES;
		else if (strcmp(v, "pus") == 0)
			po->bind = WEFT_BIND_PUS;
		else if (strcmp(v, "none") == 0)
			po->bind = WEFT_BIND_NONE;
		else {
			weft_front_error(
			    "--bind: '%s' is not cores, pus or none", v);
			return -1;
		}
		return 1;
	}
	if ((which & WEFT_FRONT_POOL_TOPOLOGY) &&
	    (m = weft_front_opt(argc, argv, i, "--topology", NULL, &v))) {
		if (m < 0)
			return -1;
		if (synthetic_pus(v, WEFT_FRONT_MAX_THREADS) >
		    WEFT_FRONT_MAX_THREADS) {
			weft_front_error("--topology: '%s' has more than %d "
					 "PUs (the counts multiply); weft "
					 "plans for at most %d",
			    v, WEFT_FRONT_MAX_THREADS, WEFT_FRONT_MAX_THREADS);
			return -1;
		}
		po->topology = v;
		return 1;
	}
	return 0;
}

const char *
weft_front_bind_name(weft_bind b)
{
	switch (b) {
	case WEFT_BIND_PUS:
		return "pus";
	case WEFT_BIND_NONE:
		return "none";
	default:
		return "cores";
	}
}

weft_pool *
weft_front_pool_new(const weft_pool_opts *po)
{
	int err = 0;
	weft_pool *p = weft_pool_new2(po, &err);

	if (!p) {
		if (po->threads)
			weft_front_error("cannot start %u worker threads: %s%s",
			    po->threads, weft_strerror(err),
			    po->topology ? " (is the --topology valid?)" : "");
		else
			weft_front_error("cannot start a pool: %s%s",
			    weft_strerror(err),
			    po->topology ? " (is the --topology valid?)" : "");
	}
	return p;
}
