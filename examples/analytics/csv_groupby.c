/* Group-by aggregation of a CSV file on a weft pool.
 *
 *   csv_groupby FILE.csv [options]
 *     --key NAME        group by this column (default "key"; "" = no grouping)
 *     --str-key         compare keys as strings (default: integers)
 *     --col NAME        aggregate this column (default "x")
 *     --agg LIST        comma-separated: count,sum,mean,min,max,var,std
 *                       (default "mean")
 *     --threads N       pool size (default: one per core)
 *     --chunk-mb M      MiB per range task (default 16)
 *     --skip-bad        skip bad rows (and count them) instead of failing
 *     --multiline       allow newlines inside quoted fields
 *     --repeat R        run the compute R times, report each time
 *     --quiet           print only timings
 *
 * Prints one line per group, then a timing line on stderr:
 *   time_s=0.312 cpu_s=0.60 bytes=306878305 MBps=983.6 rows=10000000
 *   skipped=0 threads=2 chunks=19
 * (cpu_s: CPU time of the process during the compute, all threads)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft.h>

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double
cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int
parse_op(const char *s, weft_agg *op)
{
	static const char *names[] = { "count", "sum", "mean", "min", "max",
		"var", "std" };
	for (int i = 0; i < 7; i++)
		if (strcmp(s, names[i]) == 0) {
			*op = (weft_agg)i;
			return 1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *key = "key", *col = "x", *aggs = "mean";
	unsigned threads = 0, flags = 0;
	int str_key = 0, repeat = 1, quiet = 0;
	double chunk_mb = 16;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--key") == 0 && v)
			key = v, i++;
		else if (strcmp(a, "--col") == 0 && v)
			col = v, i++;
		else if (strcmp(a, "--agg") == 0 && v)
			aggs = v, i++;
		else if (strcmp(a, "--threads") == 0 && v)
			threads = (unsigned)atoi(v), i++;
		else if (strcmp(a, "--chunk-mb") == 0 && v)
			chunk_mb = atof(v), i++;
		else if (strcmp(a, "--repeat") == 0 && v)
			repeat = atoi(v), i++;
		else if (strcmp(a, "--str-key") == 0)
			str_key = 1;
		else if (strcmp(a, "--skip-bad") == 0)
			flags |= WEFT_CSV_SKIP_BAD;
		else if (strcmp(a, "--multiline") == 0)
			flags |= WEFT_CSV_MULTILINE;
		else if (strcmp(a, "--quiet") == 0)
			quiet = 1;
		else if (a[0] != '-' && !path)
			path = a;
		else {
			fprintf(stderr, "csv_groupby: bad argument '%s' (see the "
					"comment at the top of csv_groupby.c)\n",
			    a);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: csv_groupby FILE.csv [--key K] [--col C] "
				"[--agg mean,std,...] [--threads N] [--chunk-mb M]\n");
		return 2;
	}

	weft_csv_agg agg[16];
	size_t nagg = 0;
	char *list = strdup(aggs);
	weft_csv *csv = NULL;
	weft_pool *pool = NULL;
	weft_graph *g = NULL;
	weft_value r[2] = { weft_nil(), weft_nil() };
	int rc = WEFT_OK, status = 1;
	if (!list) {
		fprintf(stderr, "csv_groupby: out of memory\n");
		return 1;
	}
	for (char *t = strtok(list, ","); t && nagg < 16; t = strtok(NULL, ",")) {
		if (!parse_op(t, &agg[nagg].op)) {
			fprintf(stderr, "csv_groupby: unknown aggregate '%s'\n", t);
			status = 2;
			goto done;
		}
		agg[nagg].column = col;
		agg[nagg].type = WEFT_CSV_FLOAT;
		nagg++;
	}

	weft_csv_opts co = { .flags = flags,
		.chunk_bytes = (size_t)(chunk_mb * 1048576.0) };
	char err[512];
	if (weft_csv_open(path, &co, &csv, err, sizeof err) != WEFT_OK) {
		fprintf(stderr, "csv_groupby: %s\n", err);
		goto done;
	}
	/* Name a missing column here: weft_csv_aggregate only says
	 * WEFT_ENOTFOUND, and nothing has run, so the graph has no message. */
	const char *names[2] = { key[0] ? key : NULL, col };
	for (int i = 0; i < 2; i++)
		if (names[i] && weft_csv_colindex(csv, names[i]) < 0) {
			fprintf(stderr, "csv_groupby: %s: no column '%s' in the "
					"header\n",
			    path, names[i]);
			goto done;
		}
	weft_pool_opts po = { .threads = threads };
	pool = weft_pool_new(&po);
	g = weft_graph_new();
	if (!pool || !g) {
		fprintf(stderr, "csv_groupby: cannot start\n");
		goto done;
	}
	weft_csv_query q = { .group_by = key[0] ? key : NULL,
		.key_type = str_key ? WEFT_CSV_STR : WEFT_CSV_INT,
		.naggs = nagg, .aggs = agg };
	weft_node nodes[2];
	rc = weft_csv_aggregate(csv, g, &q, &nodes[0], &nodes[1]);
	if (rc != WEFT_OK) {
		fprintf(stderr, "csv_groupby: %s: %s\n", path,
		    rc == WEFT_EINVAL ? "the key column cannot be aggregated" :
					weft_strerror(rc));
		goto done;
	}
	weft_opts opts = { .pool = pool };
	for (int it = 0; it < repeat; it++) {
		weft_value_release(&r[0]);
		weft_value_release(&r[1]);
		double t0 = now(), c0 = cpu_now();
		rc = weft_compute(g, 2, nodes, r, &opts);
		double t = now() - t0, cpu = cpu_now() - c0;
		if (rc != WEFT_OK) {
			fprintf(stderr, "csv_groupby: %s\n", weft_graph_error(g));
			goto done;
		}
		weft_csv_info info;
		weft_csv_info_get(r[1], &info);
		double bytes = (double)weft_csv_size(csv);
		fprintf(stderr,
		    "time_s=%.4f cpu_s=%.4f bytes=%.0f MBps=%.1f rows=%lld "
		    "skipped=%lld threads=%u chunks=%zu\n",
		    t, cpu, bytes, bytes / t / 1e6, (long long)info.rows,
		    (long long)info.skipped, weft_pool_threads(pool),
		    weft_csv_nchunks(csv));
		if (info.first_skipped && it == 0)
			fprintf(stderr, "first skipped row: %s\n",
			    info.first_skipped);
	}
	if (!quiet) {
		weft_value f = r[0];
		size_t nc = weft_frame_ncols(f), nr = weft_frame_nrows(f);
		for (size_t j = 0; j < nc; j++)
			printf("%s%s", j ? "," : "", weft_frame_name(f, j));
		printf("\n");
		for (size_t i = 0; i < nr; i++) {
			for (size_t j = 0; j < nc; j++) {
				weft_value c = weft_frame_col(f, j);
				if (j)
					printf(",");
				if (weft_type_of(c) == WEFT_F64S)
					printf("%.17g", weft_f64s_data(c)[i]);
				else if (weft_type_of(weft_list_get(c, i)) == WEFT_INT)
					printf("%lld", (long long)weft_as_int(
							   weft_list_get(c, i)));
				else
					printf("%s", weft_as_str(weft_list_get(c, i)));
			}
			printf("\n");
		}
	}
	status = 0;
done:
	/* One way out, so that every path frees what it made. */
	weft_value_release(&r[0]);
	weft_value_release(&r[1]);
	free(list);
	weft_graph_free(g);
	weft_pool_free(pool);
	weft_csv_free(csv);
	weft_shutdown();
	return status;
}
