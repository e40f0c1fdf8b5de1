/* What Dask users rely on: pure-call dedup, getitem, persist, priorities
 * and memory-friendly order, callbacks, trace, DOT, fusion, and dynamic
 * tasks (spawn/wait). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static _Atomic int calls;

/* Exported (not static) so the dynamic linker can name it in keys. */
int weft_test_add(weft_ctx *c, size_t n, const weft_value *a, weft_value *o);
int
weft_test_add(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	calls++;
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += weft_as_int(a[i]);
	*o = weft_int(s);
	return WEFT_OK;
}

static int
mix_all(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	int64_t h = (int64_t)n;
	for (size_t i = 0; i < n; i++)
		h = tu_mix(h, weft_as_int(a[i]));
	*o = weft_int(h);
	return WEFT_OK;
}

static int
pair(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	calls++;
	weft_value items[2] = { weft_int(weft_as_int(a[0]) * 10),
		weft_str("second") };
	*o = weft_list(2, items);
	weft_value_release(&items[1]);
	return WEFT_OK;
}

static void
test_pure_dedup(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node a = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_lit(weft_int(1)), weft_lit(weft_int(2)) });
	weft_node b = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_lit(weft_int(1)), weft_lit(weft_int(2)) });
	weft_node c = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_lit(weft_int(2)), weft_lit(weft_int(1)) });
	assert_int_equal(a.id, b.id);
	assert_int_not_equal(a.id, c.id);
	weft_node d1 = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_ref(a), weft_lit(weft_str("x")) });
	weft_node d2 = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_ref(b), weft_lit(weft_str("x")) });
	assert_int_equal(d1.id, d2.id);
	assert_int_equal(weft_graph_size(g), 3);
	char key[128];
	weft_node_key(g, a, key, sizeof key);
	assert_int_equal(strncmp(key, "weft_test_add-", 14), 0);
	assert_int_equal(weft_graph_find(g, key).id, a.id);
	calls = 0;
	weft_node t[3] = { a, b, c };
	weft_value r[3];
	assert_int_equal(weft_compute(g, 3, t, r, NULL), WEFT_OK);
	assert_int_equal(calls, 2); /* a (== b) and c */
	assert_int_equal(weft_as_int(r[0]), 3);
	weft_graph_free(g);
}

/* Pure keys are cache keys (issue 12): for an exported function they
 * depend only on its name and the arguments' content, never on addresses,
 * so they are the same in every process and run. The expected strings
 * were computed once; address-space randomization (another run of this
 * test) must not change them. A static function's key starts "pure-". */
static void
test_pure_keys_stable_across_processes(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node a = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_lit(weft_int(1)), weft_lit(weft_float(2.5)) });
	weft_node b = weft_delayed_pure(g, weft_test_add, 2,
	    (weft_arg[]) { weft_ref(a), weft_lit(weft_str("x")) });
	weft_node s = weft_delayed_pure(g, mix_all, 1,
	    (weft_arg[]) { weft_lit(weft_int(1)) });
	char key[128];
	assert_string_equal(weft_node_key(g, a, key, sizeof key),
	    "weft_test_add-1b94cace7db88dcb");
	assert_string_equal(weft_node_key(g, b, key, sizeof key),
	    "weft_test_add-97343c66a00141c5");
	assert_int_equal(strncmp(weft_node_key(g, s, key, sizeof key),
			     "pure-", 5),
	    0);
	/* a failed constructor's NIL is refused, not hashed like a NIL */
	weft_node n1 = weft_delayed_pure(
	    g, weft_test_add, 1, (weft_arg[]) { weft_lit(weft_nil()) });
	assert_true(weft_node_ok(n1));
	weft_node n2 = weft_delayed_pure(
	    g, weft_test_add, 1, (weft_arg[]) { weft_lit(weft_str(NULL)) });
	assert_false(weft_node_ok(n2));
	assert_int_equal(weft_graph_errcode(g), WEFT_ENOMEM);
	weft_graph_free(g);
}

static void
test_getitem(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	calls = 0;
	weft_node p = WEFT_DELAYED(g, pair, weft_lit(weft_int(4)));
	weft_node first = weft_getitem(g, p, 0);
	weft_node second = weft_getitem(g, p, 1);
	assert_int_equal(weft_getitem(g, p, 0).id, first.id);
	weft_node bad = weft_getitem(g, p, 7);
	weft_value r[2];
	weft_node t[2] = { first, second };
	assert_int_equal(weft_compute(g, 2, t, r, NULL), WEFT_OK);
	assert_int_equal(calls, 1);
	assert_int_equal(weft_as_int(r[0]), 40);
	assert_string_equal(weft_as_str(r[1]), "second");
	weft_value_release(&r[1]);
	assert_int_equal(weft_compute(g, 1, &bad, r, NULL), WEFT_ETASK);
	assert_non_null(strstr(weft_graph_error(g), "no item 7 in a list of 2"));
	weft_graph_free(g);
}

static void
test_persist(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node a = WEFT_DELAYED(g, weft_test_add, weft_lit(weft_int(5)));
	weft_node b = WEFT_DELAYED(g, weft_test_add, weft_ref(a), weft_lit(weft_int(1)));
	weft_node c = WEFT_DELAYED(g, weft_test_add, weft_ref(b), weft_ref(a));
	calls = 0;
	assert_int_equal(weft_persist(g, 1, &b, NULL), WEFT_OK);
	assert_int_equal(calls, 2);
	assert_true(weft_is_persisted(g, b));
	assert_false(weft_is_persisted(g, a));
	calls = 0;
	weft_value r;
	assert_int_equal(weft_compute(g, 1, &c, &r, NULL), WEFT_OK);
	assert_int_equal(weft_as_int(r), 11);
	assert_int_equal(calls, 2); /* a (still needed by c) and c; not b */
	calls = 0;
	assert_int_equal(weft_compute(g, 1, &b, &r, NULL), WEFT_OK);
	assert_int_equal(weft_as_int(r), 6);
	assert_int_equal(calls, 0); /* a persisted target runs nothing */
	assert_int_equal(weft_release_persisted(g, 1, &b), 1);
	assert_false(weft_is_persisted(g, b));
	calls = 0;
	assert_int_equal(weft_compute(g, 1, &b, &r, NULL), WEFT_OK);
	assert_int_equal(calls, 2);
	assert_int_equal(weft_persist(g, 1, &c, NULL), WEFT_OK);
	assert_int_equal(weft_release_persisted(g, 0, NULL), 1);
	weft_graph_free(g);
}

/* -- order: priorities and memory ---------------------------------------- */

static int order_log[64];
/* logged() records its first argument; children of `root` log nil (0) */
static _Atomic int order_n;

static int
logged(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	order_log[order_n++] = (int)weft_as_int(a[0]);
	*o = weft_nil();
	return WEFT_OK;
}

static void
test_priorities(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 1 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	weft_node t[6];
	for (int i = 0; i < 6; i++) {
		t[i] = WEFT_DELAYED(g, logged, weft_lit(weft_int(i)));
		weft_node_set_priority(g, t[i], i == 3 ? 10 : i == 5 ? 5 : 0);
	}
	assert_int_equal(weft_node_set_priority(g, WEFT_NODE_NONE, 1), WEFT_EINVAL);
	order_n = 0;
	weft_value r[6];
	assert_int_equal(weft_compute(g, 6, t, r, &o), WEFT_OK);
	assert_int_equal(order_n, 6);
	assert_int_equal(order_log[0], 3);
	assert_int_equal(order_log[1], 5);
	/* the rest in creation order */
	assert_int_equal(order_log[2], 0);
	assert_int_equal(order_log[5], 4);
	weft_graph_free(g);

	/* one node freeing 20 successors at once: the best runs next, and
	 * more than the 8 the loop sorts locally must not overflow it */
	g = weft_graph_new();
	weft_node root = WEFT_DELAYED(g, logged, weft_lit(weft_int(-1)));
	weft_node kids[20];
	for (int i = 0; i < 20; i++) {
		kids[i] = WEFT_DELAYED(g, logged, weft_ref(root));
		weft_node_set_priority(g, kids[i], i == 17 ? 100 : 0);
	}
	order_n = 0;
	weft_value rk[20];
	assert_int_equal(weft_compute(g, 20, kids, rk, &o), WEFT_OK);
	assert_int_equal(order_n, 21);
	weft_graph_free(g);
	weft_pool_free(p);
}

static _Atomic int live, peak;

static void
chunk_free(void *p)
{
	free(p);
	live--;
}

static int
make_chunk(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	int now = ++live;
	int pk = peak;
	while (now > pk && !atomic_compare_exchange_weak(&peak, &pk, now))
		;
	int64_t *x = malloc(sizeof *x);
	*x = weft_as_int(a[0]);
	*o = weft_ptr(x, chunk_free);
	return WEFT_OK;
}

static int
merge(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += *(int64_t *)weft_ptr_get(a[i]);
	weft_value v = weft_nil();
	weft_value arg = weft_int(s);
	make_chunk(c, 1, &arg, &v);
	*o = v;
	return WEFT_OK;
}

static void
test_memory_stays_low(void **state)
{
	(void)state;
	/* 1,000 chunks (load -> process) reduced pairwise: depth-first order
	 * keeps only a few intermediates alive per worker. The graph is built
	 * breadth-first (all loads, then all processing, then the tree) to
	 * make sure the order comes from the scheduler, not the build. */
	enum { N = 1000 };
	for (unsigned threads = 1; threads <= 2; threads++) {
		weft_pool_opts po = { .threads = threads };
		weft_pool *p = weft_pool_new(&po);
		weft_opts o = { .pool = p };
		weft_graph *g = weft_graph_new();
		weft_node lvl[N];
		for (int i = 0; i < N; i++)
			lvl[i] = WEFT_DELAYED(g, make_chunk, weft_lit(weft_int(i)));
		for (int i = 0; i < N; i++)
			lvl[i] = WEFT_DELAYED(g, merge, weft_ref(lvl[i]));
		int n = N;
		while (n > 1) {
			int m = 0;
			for (int i = 0; i < n; i += 2)
				lvl[m++] = i + 1 < n
				    ? WEFT_DELAYED(g, merge, weft_ref(lvl[i]),
					  weft_ref(lvl[i + 1]))
				    : lvl[i];
			n = m;
		}
		live = peak = 0;
		weft_value r;
		assert_int_equal(weft_compute(g, 1, &lvl[0], &r, &o), WEFT_OK);
		assert_int_equal(*(int64_t *)weft_ptr_get(r), N * (N - 1) / 2);
		weft_value_release(&r);
		assert_int_equal(live, 0);
		/* log2(1000) pending partial sums + a few in flight, per worker */
		print_message("threads %u: peak %d live intermediates\n", threads,
		    (int)peak);
		assert_true(peak <= (int)threads * 16);
		weft_graph_free(g);
		weft_pool_free(p);
	}
}

/* -- callbacks, trace, dot -------------------------------------------------- */

typedef struct {
	_Atomic int start, pre, post, finish;
	_Atomic int bad;
	size_t ntasks;
	int rc;
} cb_state;

static void
cb_start(void *ud, size_t n)
{
	cb_state *s = ud;
	s->start++;
	s->ntasks = n;
}

static void
cb_pre(void *ud, const weft_task_info *ti)
{
	cb_state *s = ud;
	s->pre++;
	if (!ti->key || ti->start_ns <= 0 || ti->worker < 0)
		s->bad++;
}

static void
cb_post(void *ud, const weft_task_info *ti)
{
	cb_state *s = ud;
	s->post++;
	if (ti->end_ns < ti->start_ns)
		s->bad++;
	if (strcmp(ti->key, "last") == 0 && ti->rc != WEFT_OK)
		s->bad++;
}

static void
cb_finish(void *ud, int rc)
{
	cb_state *s = ud;
	s->finish++;
	s->rc = rc;
}

static void
test_callbacks_and_trace(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	cb_state st;
	memset(&st, 0, sizeof st);
	weft_callbacks cb = { cb_start, cb_pre, cb_post, cb_finish, &st };
	weft_trace *tr = weft_trace_new();
	weft_opts o = { .pool = p, .callbacks = &cb, .trace = tr };
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, weft_test_add, weft_lit(weft_int(1)));
	weft_arg args[50];
	for (int i = 0; i < 50; i++)
		args[i] = weft_ref(WEFT_DELAYED(g, weft_test_add, weft_ref(x)));
	weft_node last = weft_delayed_named(g, "last", weft_test_add, 50, args);
	weft_value r;
	assert_int_equal(weft_compute(g, 1, &last, &r, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r), 50);
	assert_int_equal(st.start, 1);
	assert_int_equal(st.ntasks, 52);
	assert_int_equal(st.pre, 52);
	assert_int_equal(st.post, 52);
	assert_int_equal(st.finish, 1);
	assert_int_equal(st.rc, WEFT_OK);
	assert_int_equal(st.bad, 0);
	assert_int_equal(weft_trace_count(tr), 52);
	weft_trace_event e;
	int seen_last = 0;
	for (size_t i = 0; weft_trace_get(tr, i, &e) == WEFT_OK; i++) {
		assert_true(e.end_ns >= e.start_ns);
		assert_true(e.worker >= 0 && e.worker < 2);
		seen_last += e.node_index == weft_node_index(g, last);
	}
	assert_int_equal(seen_last, 1);
	assert_true(weft_trace_worker_of(tr, last) >= 0);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(weft_trace_write_json(tr, g, f), WEFT_OK);
	fclose(f);
	assert_non_null(strstr(buf, "\"traceEvents\""));
	assert_non_null(strstr(buf, "\"name\":\"last\",\"cat\":\"task\",\"ph\":\"X\""));
	assert_non_null(strstr(buf, "\"name\":\"worker 1\""));
	free(buf);

	f = open_memstream(&buf, &len);
	weft_persist(g, 1, &x, &o);
	assert_int_equal(weft_graph_write_dot(g, f, tr), WEFT_OK);
	fclose(f);
	assert_non_null(strstr(buf, "digraph weft {"));
	assert_non_null(strstr(buf, "label=\"last\\nweft_test_add\""));
	assert_non_null(strstr(buf, "n0 -> n1;"));
	assert_non_null(strstr(buf, "peripheries=2")); /* x is persisted */
	assert_non_null(strstr(buf, "tooltip=\"worker"));
	free(buf);

	weft_trace_clear(tr);
	assert_int_equal(weft_trace_count(tr), 0);
	weft_trace_free(tr);
	weft_graph_free(g);
	weft_pool_free(p);
}

/* -- fusion --------------------------------------------------------------- */

static void
test_fusion_same_results(void **state)
{
	(void)state;
	uint64_t s = 7;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	int rounds = (int)(200 * tu_scale());
	for (int round = 0; round < rounds; round++) {
		size_t n = 1 + (size_t)(tu_rand(&s) % 500);
		weft_graph *g = weft_graph_new();
		weft_node *nodes = malloc(n * sizeof *nodes);
		for (size_t i = 0; i < n; i++) {
			/* mostly chains, sometimes joins: fusion has work */
			weft_arg a[3];
			size_t k = 0;
			if (i && tu_rand(&s) % 4)
				a[k++] = weft_ref(nodes[i - 1]);
			if (i > 2 && tu_rand(&s) % 5 == 0)
				a[k++] = weft_ref(nodes[tu_rand(&s) % (i - 1)]);
			a[k++] = weft_lit(weft_int((int64_t)(tu_rand(&s) % 100)));
			nodes[i] = weft_delayed(g, mix_all, k, a);
		}
		weft_node t[2] = { nodes[n - 1], nodes[tu_rand(&s) % n] };
		weft_value r1[2], r2[2];
		weft_opts fused = { .pool = p };
		weft_opts plain = { .pool = p, .flags = WEFT_NO_FUSE };
		assert_int_equal(weft_compute(g, 2, t, r1, &fused), WEFT_OK);
		assert_int_equal(weft_compute(g, 2, t, r2, &plain), WEFT_OK);
		assert_int_equal(weft_as_int(r1[0]), weft_as_int(r2[0]));
		assert_int_equal(weft_as_int(r1[1]), weft_as_int(r2[1]));
		free(nodes);
		weft_graph_free(g);
	}
	weft_pool_free(p);
}

/* -- spawn / wait -------------------------------------------------------------- */

static int
fib(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	int64_t k = weft_as_int(a[0]);
	if (k < 2) {
		*out = weft_int(k);
		return WEFT_OK;
	}
	weft_value x = weft_int(k - 1), y = weft_int(k - 2);
	weft_task *t[2] = { weft_spawn(c, fib, 1, &x), weft_spawn(c, fib, 1, &y) };
	if (!t[0] || !t[1])
		return weft_fail(c, "spawn failed");
	weft_value r[2];
	int rc = weft_wait(c, 2, t, r);
	if (rc == WEFT_OK)
		*out = weft_int(weft_as_int(r[0]) + weft_as_int(r[1]));
	return rc;
}

static int64_t
fib_seq(int64_t k)
{
	return k < 2 ? k : fib_seq(k - 1) + fib_seq(k - 2);
}

static void
test_fib_spawn(void **state)
{
	(void)state;
	int k = tu_scale() < 1 ? 22 : 30;
	for (unsigned threads = 1; threads <= 2; threads++) {
		weft_pool_opts po = { .threads = threads };
		weft_pool *p = weft_pool_new(&po);
		weft_opts o = { .pool = p };
		weft_graph *g = weft_graph_new();
		weft_node x = WEFT_DELAYED(g, fib, weft_lit(weft_int(k)));
		weft_value r;
		assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
		assert_int_equal(weft_as_int(r), fib_seq(k));
		weft_graph_free(g);
		weft_pool_free(p);
	}
}

static int
child_fail(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	(void)o;
	return weft_fail(c, "child %d broke", (int)weft_as_int(a[0]));
}

static _Atomic int orphans_ran;

static int
orphan(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	orphans_ran++;
	*o = weft_str("dropped");
	return WEFT_OK;
}

static int
parent(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	(void)a;
	weft_value v = weft_int(3);
	weft_task *t[2] = { weft_spawn(c, child_fail, 1, &v),
		weft_spawn(c, fib, 1, &v) };
	/* children never waited for are waited for when the task ends */
	weft_spawn(c, orphan, 0, NULL);
	weft_spawn(c, orphan, 0, NULL);
	weft_value r[2];
	int rc = weft_wait(c, 2, t, r);
	if (rc != WEFT_ETASK || weft_as_int(r[1]) != 2 || !weft_is_nil(r[0]))
		return weft_fail(c, "unexpected wait result %d", rc);
	if (strcmp(weft_ctx_child_error(c), "child 3 broke") != 0)
		return weft_fail(c, "bad message '%s'", weft_ctx_child_error(c));
	/* a task that is not ours */
	weft_task *none = NULL;
	if (weft_wait(c, 1, &none, NULL) != WEFT_OK)
		return weft_fail(c, "NULL task not skipped");
	*o = weft_int(1);
	return WEFT_OK;
}

static void
test_spawn_errors_and_orphans(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, parent);
	weft_value r;
	orphans_ran = 0;
	assert_int_equal(weft_compute(g, 1, &x, &r, NULL), WEFT_OK);
	assert_int_equal(weft_as_int(r), 1);
	assert_int_equal(orphans_ran, 2);
	assert_null(weft_spawn(NULL, fib, 0, NULL));
	assert_int_equal(weft_wait(NULL, 0, NULL, NULL), WEFT_EINVAL);
	weft_graph_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure_dedup),
		cmocka_unit_test(test_pure_keys_stable_across_processes),
		cmocka_unit_test(test_getitem),
		cmocka_unit_test(test_persist),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_memory_stays_low),
		cmocka_unit_test(test_callbacks_and_trace),
		cmocka_unit_test(test_fusion_same_results),
		cmocka_unit_test(test_fib_spawn),
		cmocka_unit_test(test_spawn_errors_and_orphans),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	weft_shutdown();
	return rc;
}
