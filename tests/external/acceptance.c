/* A program outside the project: it uses only the public names and is
 * compiled against the build tree through weft-uninstalled.pc (see run.sh).
 * Exit 0 when every check holds; otherwise it says which failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft.h>

static int failures;
#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__,       \
			    __LINE__, #cond);                                 \
			failures++;                                           \
		}                                                             \
	} while (0)

static int runs_of_dependent;

static int
square(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	*o = weft_int(weft_as_int(a[0]) * weft_as_int(a[0]));
	return WEFT_OK;
}

static int
sum(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += weft_as_int(a[i]);
	*o = weft_int(s);
	return WEFT_OK;
}

static int
dependent(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	runs_of_dependent++;
	return sum(c, n, a, o);
}

static int
divide(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	if (weft_as_int(a[1]) == 0)
		return weft_fail(c, "division by zero");
	*o = weft_int(weft_as_int(a[0]) / weft_as_int(a[1]));
	return WEFT_OK;
}

static int
greet(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	char buf[64];
	snprintf(buf, sizeof buf, "hello, %s", weft_as_str(a[0]));
	*o = weft_str(buf);
	return WEFT_OK;
}

static int
mix(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	uint64_t h = n;
	for (size_t i = 0; i < n; i++)
		h = (h * 1000003u) ^ (uint64_t)weft_as_int(a[i]);
	*o = weft_int((int64_t)(h & 0x7FFFFFFFFFFFll));
	return WEFT_OK;
}

static void
square_example(void)
{
	weft_graph *g = weft_graph_new();
	weft_node t[5];
	for (int i = 0; i < 5; i++)
		t[i] = WEFT_DELAYED(g, square, weft_lit(weft_int(i + 1)));
	weft_value r[5];
	CHECK(weft_compute(g, 5, t, r, NULL) == WEFT_OK);
	for (int i = 0; i < 5; i++)
		CHECK(weft_as_int(r[i]) == (i + 1) * (i + 1));
	weft_graph_free(g);
}

static void
diamond_and_error(weft_pool *p)
{
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	weft_node a = WEFT_DELAYED(g, square, weft_lit(weft_int(4)));
	weft_node b = WEFT_DELAYED(g, sum, weft_ref(a), weft_lit(weft_int(1)));
	weft_node c = WEFT_DELAYED(g, sum, weft_ref(a), weft_ref(a));
	weft_node d = WEFT_DELAYED(g, sum, weft_ref(b), weft_ref(c));
	weft_value r;
	CHECK(weft_compute(g, 1, &d, &r, &o) == WEFT_OK);
	CHECK(weft_as_int(r) == 17 + 32);

	weft_node bad = WEFT_DELAYED_NAMED(g, "bad-div", divide, weft_ref(d),
	    weft_lit(weft_int(0)));
	weft_node dep = WEFT_DELAYED(g, dependent, weft_ref(bad));
	runs_of_dependent = 0;
	CHECK(weft_compute(g, 1, &dep, &r, &o) == WEFT_ETASK);
	CHECK(strcmp(weft_graph_error(g),
		  "task 'bad-div' failed: division by zero") == 0);
	CHECK(runs_of_dependent == 0);
	CHECK(weft_type_of(r) == WEFT_NIL);
	/* the graph is usable afterwards */
	weft_node ok = WEFT_DELAYED(g, divide, weft_ref(d), weft_lit(weft_int(7)));
	CHECK(weft_compute(g, 1, &ok, &r, &o) == WEFT_OK);
	CHECK(weft_as_int(r) == 7);
	weft_graph_free(g);
}

static void
fan_in(weft_pool *p)
{
	enum { N = 10000 };
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	weft_arg *args = malloc(N * sizeof *args);
	for (int i = 0; i < N; i++)
		args[i] = weft_ref(WEFT_DELAYED(g, square, weft_lit(weft_int(i))));
	weft_node s = weft_delayed(g, sum, N, args);
	weft_value r;
	CHECK(weft_compute(g, 1, &s, &r, &o) == WEFT_OK);
	int64_t want = 0;
	for (int64_t i = 0; i < N; i++)
		want += i * i;
	CHECK(weft_as_int(r) == want);
	free(args);
	weft_graph_free(g);
}

static void
chain(weft_pool *p)
{
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, sum, weft_lit(weft_int(0)));
	for (int i = 1; i < 1000000; i++)
		x = WEFT_DELAYED(g, sum, weft_ref(x), weft_lit(weft_int(1)));
	weft_value r;
	CHECK(weft_compute(g, 1, &x, &r, &o) == WEFT_OK);
	CHECK(weft_as_int(r) == 999999);
	weft_graph_free(g);
}

static void
strings(void)
{
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, greet, weft_lit(weft_str("weft")));
	weft_value r;
	CHECK(weft_compute(g, 1, &x, &r, NULL) == WEFT_OK);
	CHECK(weft_type_of(r) == WEFT_STR && strcmp(weft_as_str(r), "hello, weft") == 0);
	weft_value_release(&r);
	weft_graph_free(g);
}

static void
random_dags(weft_pool *p, unsigned seed)
{
	weft_opts o = { .pool = p };
	srand(seed);
	for (int round = 0; round < 100; round++) {
		int n = 1 + rand() % 2000;
		weft_graph *g = weft_graph_new();
		weft_node *nodes = malloc((size_t)n * sizeof *nodes);
		int64_t *want = malloc((size_t)n * sizeof *want);
		for (int i = 0; i < n; i++) {
			weft_arg args[4];
			int k = i ? rand() % 5 : 0;
			uint64_t h = (uint64_t)k + (i == 0 || k == 0);
			if (k == 0) {
				args[0] = weft_lit(weft_int(i));
				h = 1;
				h = (h * 1000003u) ^ (uint64_t)i;
				k = 1;
			} else {
				h = (uint64_t)k;
				for (int j = 0; j < k; j++) {
					int in = rand() % i;
					args[j] = weft_ref(nodes[in]);
					h = (h * 1000003u) ^ (uint64_t)want[in];
				}
			}
			want[i] = (int64_t)(h & 0x7FFFFFFFFFFFll);
			nodes[i] = weft_delayed(g, mix, (size_t)k, args);
		}
		weft_node t[3] = { nodes[n - 1], nodes[rand() % n], nodes[0] };
		weft_value r[3];
		CHECK(weft_compute(g, 3, t, r, &o) == WEFT_OK);
		CHECK(weft_as_int(r[0]) == want[n - 1]);
		CHECK(weft_as_int(r[1]) == want[weft_node_index(g, t[1])]);
		CHECK(weft_as_int(r[2]) == want[0]);
		free(nodes);
		free(want);
		weft_graph_free(g);
	}
}

int
main(void)
{
	square_example();
	strings();
	const unsigned threads[3] = { 1, 2, 4 };
	for (int i = 0; i < 3; i++) {
		weft_pool_opts po = { .threads = threads[i] };
		weft_pool *p = weft_pool_new(&po);
		CHECK(p != NULL);
		if (!p)
			continue;
		diamond_and_error(p);
		fan_in(p);
		random_dags(p, 7u + threads[i]);
		if (threads[i] == 2)
			chain(p);
		weft_pool_free(p);
	}
	weft_shutdown();
	if (failures) {
		fprintf(stderr, "acceptance: %d check(s) failed\n", failures);
		return 1;
	}
	printf("acceptance: all checks passed\n");
	return 0;
}
