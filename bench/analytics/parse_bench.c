/* Why the CSV hot path is hand-written: one thread, the benchmark file in
 * the page cache, the group-by mean of x per key computed four ways.
 *
 *   parse_bench FILE.csv [ROUNDS=5]
 *
 *   libcsv+strtod   Debian's libcsv (a callback per field) for splitting,
 *                   strtod/strtoll for the numbers (built only when
 *                   libcsv-dev is installed)
 *   split+strtod    a plain byte loop for splitting, strtod/strtoll
 *   split+weft      the same loop, weft's number parser (weft__parse_f64)
 *   weft            the library's range scan (weft_csv_aggregate, 1 thread)
 *
 * Each prints the median seconds and MB/s, and the means are checked
 * against weft's (same keys, same bits). Numbers: the file read once into
 * memory for the first three (no I/O), from the page cache for weft.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBCSV
#include <csv.h>
#endif

#include "analytics/analytics.h"
#include "base/decimal.h"
#include "weft.h"

#define KEYS 4096

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct acc {
	double sum[KEYS], n[KEYS];
};

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#ifdef HAVE_LIBCSV
struct lcsv {
	struct acc *a;
	size_t field;
	long key;
	int header;
};

static void
on_field(void *s, size_t len, void *data)
{
	struct lcsv *l = data;
	if (!l->header) {
		if (l->field == 1)
			l->key = strtol(s, NULL, 10);
		else if (l->field == 2 && l->key >= 0 && l->key < KEYS) {
			l->a->sum[l->key] += strtod(s, NULL);
			l->a->n[l->key] += 1;
		}
	}
	(void)len;
	l->field++;
}

static void
on_row(int c, void *data)
{
	struct lcsv *l = data;
	(void)c;
	l->field = 0;
	l->header = 0;
}

static void
run_libcsv(const char *buf, size_t n, struct acc *a)
{
	struct csv_parser p;
	csv_init(&p, CSV_APPEND_NULL);
	struct lcsv l = { a, 0, -1, 1 };
	csv_parse(&p, buf, n, on_field, on_row, &l);
	csv_fini(&p, on_field, on_row, &l);
	csv_free(&p);
}
#endif

/* A plain splitter: fields 1 (key) and 2 (x) of "id,key,x,y" rows. */
static void
run_split(const char *buf, size_t n, struct acc *a, int fast)
{
	const char *p = (const char *)memchr(buf, '\n', n) + 1, *end = buf + n;
	char tmp[64];
	while (p < end) {
		const char *f[4];
		size_t len[4], k = 0;
		const char *s = p;
		while (p < end && *p != '\n') {
			if (*p == ',') {
				if (k < 4) {
					f[k] = s;
					len[k] = (size_t)(p - s);
					k++;
				}
				s = p + 1;
			}
			p++;
		}
		if (k < 4) {
			f[k] = s;
			len[k] = (size_t)(p - s);
		}
		p++;
		long key;
		double x;
		if (fast) {
			int64_t kk;
			weft__parse_i64(f[1], f[1] + len[1], &kk);
			key = (long)kk;
			weft__parse_f64(f[2], f[2] + len[2], &x);
		} else {
			memcpy(tmp, f[1], len[1]);
			tmp[len[1]] = 0;
			key = strtol(tmp, NULL, 10);
			memcpy(tmp, f[2], len[2]);
			tmp[len[2]] = 0;
			x = strtod(tmp, NULL);
		}
		if (key >= 0 && key < KEYS) {
			a->sum[key] += x;
			a->n[key] += 1;
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: parse_bench FILE.csv [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return perror(argv[1]), 1;
	fseek(f, 0, SEEK_END);
	size_t n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(n + 1);
	if (!buf || fread(buf, 1, n, f) != n)
		return 1;
	fclose(f);
	buf[n] = 0;

	const char *names[4] = { "libcsv+strtod", "split+strtod", "split+weft",
		"weft" };
	double t[4][64];
	static struct acc acc[4];
	weft_pool_opts po = { .threads = 1 };
	weft_pool *pool = weft_pool_new(&po);
	weft_opts o = { .pool = pool };
	weft_value frame = weft_nil();
	for (int r = 0; r < rounds && r < 64; r++) {
		for (int m = 0; m < 4; m++) {
			memset(&acc[m], 0, sizeof acc[m]);
			double t0 = now();
			if (m == 0) {
#ifdef HAVE_LIBCSV
				run_libcsv(buf, n, &acc[m]);
#endif
			} else if (m < 3) {
				run_split(buf, n, &acc[m], m == 2);
			} else {
				weft_csv *c;
				weft_csv_open(argv[1], NULL, &c, NULL, 0);
				weft_graph *g = weft_graph_new();
				weft_csv_agg ag = { "x", WEFT_AGG_MEAN, WEFT_CSV_FLOAT };
				weft_csv_query q = { .group_by = "key",
					.key_type = WEFT_CSV_INT, .naggs = 1, .aggs = &ag };
				weft_node nd;
				weft_csv_aggregate(c, g, &q, &nd, NULL);
				weft_value_release(&frame);
				if (weft_compute(g, 1, &nd, &frame, &o) != WEFT_OK)
					return fprintf(stderr, "%s\n", weft_graph_error(g)), 1;
				weft_graph_free(g);
				weft_csv_free(c);
			}
			t[m][r] = now() - t0;
		}
	}
	printf("| method | median s | MB/s | means vs weft |\n| --- | ---: | ---: | --- |\n");
	weft_value keys = weft_frame_col(frame, 0);
	const double *mean = weft_f64s_data(weft_frame_col(frame, 1));
	for (int m = 0; m < 4; m++) {
#ifndef HAVE_LIBCSV
		if (m == 0) {
			printf("| libcsv+strtod | - | - | not built: install libcsv-dev |\n");
			continue;
		}
#endif
		qsort(t[m], (size_t)rounds, sizeof(double), cmp_d);
		double med = t[m][rounds / 2];
		double worst = 0;
		if (m < 3) {
			for (size_t i = 0; i < weft_len(keys); i++) {
				int64_t k = weft_as_int(weft_list_get(keys, i));
				double mm = acc[m].sum[k] / acc[m].n[k];
				double d = fabs(mm - mean[i]) / fabs(mean[i]);
				worst = d > worst ? d : worst;
			}
		}
		printf("| %s | %.3f | %.0f | %s%.1g |\n", names[m], med,
		    (double)n / med / 1e6, m < 3 ? "max rel diff " : "", worst);
	}
	weft_value_release(&frame);
	weft_pool_free(pool);
	free(buf);
	return 0;
}
