/* A diamond and a fan-in, and what happens when a task fails.
 *
 *            load
 *           /    \
 *       clean    stats        (load runs once, shared by both)
 *           \    /
 *           report
 *
 * Then a fan-in: 100 chunks summed by one node; and a division by zero,
 * which fails the compute with the node's key and message while the graph
 * and the pool stay usable.
 */
#include <stdio.h>

#include <weft.h>

static int
load(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	(void)n;
	int64_t len = weft_as_int(a[0]);
	weft_value v;
	if (weft_f64s_new((size_t)len, NULL, &v) != WEFT_OK)
		return weft_fail(ctx, "cannot allocate %lld doubles", (long long)len);
	double *d = weft_f64s_data_mut(v);
	for (int64_t i = 0; i < len; i++)
		d[i] = (double)(i % 10) - 2.0;
	*out = v;
	return WEFT_OK;
}

static int
clean(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	(void)n;
	const double *d = weft_f64s_data(a[0]);
	size_t len = weft_len(a[0]);
	int64_t kept = 0;
	for (size_t i = 0; i < len; i++)
		kept += d[i] >= 0;
	*out = weft_int(kept);
	return WEFT_OK;
}

static int
stats(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	(void)n;
	const double *d = weft_f64s_data(a[0]);
	size_t len = weft_len(a[0]);
	double s = 0;
	for (size_t i = 0; i < len; i++)
		s += d[i];
	*out = weft_float(len ? s / (double)len : 0.0);
	return WEFT_OK;
}

static int
report(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	(void)n;
	char buf[128];
	snprintf(buf, sizeof buf, "kept %lld values, mean %.3f",
	    (long long)weft_as_int(a[0]), weft_as_float(a[1]));
	*out = weft_str(buf);
	return WEFT_OK;
}

static int
sum(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += weft_as_int(a[i]);
	*out = weft_int(s);
	return WEFT_OK;
}

static int
divide(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	if (weft_as_int(a[1]) == 0)
		return weft_fail(ctx, "division by zero");
	*out = weft_int(weft_as_int(a[0]) / weft_as_int(a[1]));
	return WEFT_OK;
}

int
main(void)
{
	weft_pool_opts po = { .threads = 2 };
	weft_pool *pool = weft_pool_new(&po);
	weft_graph *g = weft_graph_new();
	if (!pool || !g)
		return 1;
	weft_opts opts = { .pool = pool };

	weft_node ld = WEFT_DELAYED_NAMED(g, "load", load, weft_lit(weft_int(1000)));
	weft_node cl = WEFT_DELAYED_NAMED(g, "clean", clean, weft_ref(ld));
	weft_node st = WEFT_DELAYED_NAMED(g, "stats", stats, weft_ref(ld));
	weft_node rp = WEFT_DELAYED_NAMED(g, "report", report, weft_ref(cl), weft_ref(st));

	weft_arg chunks[100];
	for (int i = 0; i < 100; i++)
		chunks[i] = weft_ref(WEFT_DELAYED(g, sum, weft_lit(weft_int(i))));
	weft_node total = weft_delayed_named(g, "total", sum, 100, chunks);

	weft_node bad = WEFT_DELAYED_NAMED(g, "bad-div", divide, weft_ref(total),
	    weft_lit(weft_int(0)));
	if (!weft_node_ok(bad)) { /* one check covers every call above */
		fprintf(stderr, "diamond: %s\n", weft_graph_error(g));
		return 1;
	}

	weft_node targets[2] = { rp, total };
	weft_value r[2];
	int rc = weft_compute(g, 2, targets, r, &opts);
	if (rc == WEFT_OK) {
		printf("report: %s\n", weft_as_str(r[0]));
		printf("total:  %lld\n", (long long)weft_as_int(r[1]));
		weft_value_release(&r[0]);
		weft_value_release(&r[1]);
	}

	rc = weft_compute(g, 1, &bad, r, &opts);
	printf("bad-div: %s (%s)\n", weft_graph_error(g), weft_err_name(rc));

	weft_graph_free(g);
	weft_pool_free(pool);
	return rc == WEFT_ETASK ? 0 : 1;
}
