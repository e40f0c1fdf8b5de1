/*
 * Fuzz target of the graph-file reader (weft/spec.h) and the graph builder
 * behind it.
 *
 * Each input is read as a graph file from memory, and the reader's promises
 * are checked rather than trusted:
 * - a failed load returns NULL with a one-line message naming the input,
 *   whose position lies within the text, and ENOMEM only when memory was
 *   really refused;
 * - a loaded spec is consistent (targets found in the graph, statistics
 *   that add up, functions in name order), and describes itself as
 *   `weft check` and `weft run --dot` do;
 * - when its graph is small and calls nothing slow, it is computed on a
 *   one-thread pool, twice (with and without fusing chains), and both runs
 *   agree;
 * - the same text is read again with the strict, no-cull and tight-limit
 *   options.
 * A broken promise aborts, which libFuzzer reports as a crash. Memory the
 * library asks for goes through a budget of BUDGET bytes per input
 * (weft_set_allocator), so that a file asking for a huge computation meets
 * ENOMEM instead of exhausting the machine; the library must handle that
 * like any other failure.
 *
 * The same code runs without libFuzzer through replay.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft.h>

#include "fuzz_check.h"
#include "fuzz_spec.h"

/* Bytes the library may allocate while one input runs (in total, frees are
 * not given back): enough for any small graph, too little for a graph that
 * builds million-item lists. */
#define BUDGET ((size_t)16 << 20)
/* Larger graphs are read and checked, not computed. */
#define MAX_TASKS 200
/* Functions that take time without doing work: never computed. */
static const char *const slow_fns[] = { "sleep_ms", "spin_us" };

#define NAME "fuzz"

static weft_registry *reg;
static weft_pool *pool;
static FILE *sink; /* /dev/null: output is produced, then dropped */

static atomic_size_t spent;
static atomic_int metered;

/* -- the allocator --------------------------------------------------------- */

static int
charge(size_t n)
{
	size_t was;

	if (!atomic_load_explicit(&metered, memory_order_relaxed))
		return 1;
	was = atomic_fetch_add_explicit(&spent, n, memory_order_relaxed);
	return was <= BUDGET && n <= BUDGET - was;
}

static void *
fz_malloc(void *ud, size_t n)
{
	(void)ud;
	return charge(n) ? malloc(n ? n : 1) : NULL;
}

static void *
fz_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	return charge(n) ? realloc(p, n ? n : 1) : NULL;
}

static void
fz_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static int
over_budget(void)
{
	return atomic_load_explicit(&spent, memory_order_relaxed) > BUDGET;
}

/* -- checks ---------------------------------------------------------------- */

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static size_t
count_lines(const uint8_t *data, size_t size)
{
	size_t n = 1;
	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

/* A load's result: either a spec, or an error that says where and why. */
static void
check_load(int rc, const weft_spec *s, const weft_spec_error *err,
    const uint8_t *data, size_t size)
{
	CHECK(terminated(err->message, sizeof(err->message)));
	CHECK(terminated(err->key, sizeof(err->key)));
	CHECK(err->code == rc);
	if (rc == WEFT_OK) {
		CHECK(s != NULL);
		return;
	}
	CHECK(s == NULL);
	CHECK(rc == WEFT_EPARSE || rc == WEFT_ETYPE || rc == WEFT_ENOTFOUND ||
	    rc == WEFT_EINVAL || rc == WEFT_ECYCLE || rc == WEFT_ERANGE ||
	    rc == WEFT_ENOMEM);
	/* Nothing in the hook refuses memory before the budget is spent. */
	CHECK(rc != WEFT_ENOMEM || over_budget());
	CHECK(err->message[0] != '\0');
	CHECK(strchr(err->message, '\n') == NULL);
	CHECK(strncmp(err->message, NAME ":", sizeof(NAME)) == 0);
	CHECK(strstr(err->message, "error: ") != NULL);
	if (err->line > 0) {
		char at[64];
		snprintf(at, sizeof(at), NAME ":%u:%u: ", err->line,
		    err->column);
		CHECK(err->column > 0);
		CHECK(err->line <= count_lines(data, size));
		CHECK(strncmp(err->message, at, strlen(at)) == 0);
	}
}

/* What `weft check` prints and `weft run --dot` writes, with the
 * invariants the header states. */
static void
check_spec(const weft_spec *s, int no_cull)
{
	weft_spec_stats st;
	weft_graph *g = weft_spec_graph(s);
	size_t nt = weft_spec_ntargets(s), nw = weft_spec_nwarnings(s);
	const weft_node *targets = weft_spec_targets(s);
	size_t calls = 0;
	const char *prev = NULL;
	int rc;

	CHECK(weft_spec_stats_get(s, &st) == WEFT_OK);
	CHECK(g != NULL);
	CHECK(st.tasks == weft_graph_size(g));
	CHECK(st.tasks <= st.keys);
	CHECK(!no_cull || st.tasks == st.keys);
	CHECK(st.depth <= st.tasks);
	CHECK(st.nested <= st.calls);
	CHECK(st.funcs <= st.calls);
	CHECK(nt == 0 || targets != NULL);
	for (size_t i = 0; i < nt; i++) {
		const char *key = weft_spec_target_key(s, i);
		CHECK(key != NULL);
		CHECK(weft_graph_find(g, key).id == targets[i].id);
		for (size_t j = 0; j < i && nt <= 1000; j++)
			CHECK(targets[j].id != targets[i].id);
	}
	CHECK(weft_spec_target_key(s, nt) == NULL);
	for (size_t i = 0; i < nw; i++) {
		const char *w = weft_spec_warning(s, i);
		CHECK(w != NULL);
		CHECK(strchr(w, '\n') == NULL);
		CHECK(strncmp(w, NAME ":", sizeof(NAME)) == 0);
	}
	CHECK(weft_spec_warning(s, nw) == NULL);
	for (size_t i = 0; i < st.funcs; i++) {
		size_t count = 0;
		const weft_func_info *f = weft_spec_func_used(s, i, &count);
		CHECK(f != NULL && f->name != NULL);
		CHECK(weft_registry_find(reg, f->name) == f);
		CHECK(count > 0);
		CHECK(!prev || strcmp(prev, f->name) < 0);
		prev = f->name;
		calls += count;
	}
	CHECK(calls == st.calls);
	CHECK(weft_spec_func_used(s, st.funcs, NULL) == NULL);
	CHECK(weft_spec_failure(s, NULL, NULL, NULL) == WEFT_ENOTFOUND);
	rc = weft_spec_write_dot(s, sink, NULL);
	CHECK(rc == WEFT_OK || (rc == WEFT_ENOMEM && over_budget()));
}

static int
computable(const weft_spec *s)
{
	weft_spec_stats st;
	const weft_func_info *f;

	if (weft_spec_stats_get(s, &st) != WEFT_OK || st.tasks > MAX_TASKS ||
	    weft_spec_ntargets(s) == 0)
		return 0;
	for (size_t i = 0; (f = weft_spec_func_used(s, i, NULL)) != NULL; i++)
		for (size_t j = 0; j < sizeof(slow_fns) / sizeof(*slow_fns);
		     j++)
			if (strcmp(f->name, slow_fns[j]) == 0)
				return 0;
	return 1;
}

/* What printing v costs: its items and bytes, a shared sublist counted
 * each time it appears (so a small graph can make a value that prints to
 * terabytes), or more than `cap` when it costs more. */
static size_t
print_cost(weft_value v, size_t cap)
{
	size_t n = 1 + weft_len(v);

	if (weft_type_of(v) == WEFT_LIST)
		for (size_t i = 0, len = weft_len(v); i < len && n <= cap; i++)
			n += print_cost(weft_list_get(v, i), cap - n);
	return n;
}

/* Results larger than this (print_cost) are not printed. */
#define PRINT_MAX ((size_t)1 << 20)

/* Computes the targets; returns the code, and the results as JSON in
 * `*text` (malloc'd, NULL on a write failure or when a result is too
 * large to print). */
static int
compute(weft_spec *s, unsigned flags, weft_trace *trace, char **text)
{
	weft_graph *g = weft_spec_graph(s);
	size_t nt = weft_spec_ntargets(s), len = 0;
	weft_value *res = calloc(nt, sizeof(*res));
	weft_opts o = { .pool = pool, .flags = flags, .trace = trace };
	FILE *mem;
	int rc, wrc = WEFT_OK;

	*text = NULL;
	CHECK(res != NULL);
	rc = weft_compute(g, nt, weft_spec_targets(s), res, &o);
	CHECK(rc == WEFT_OK || rc == WEFT_ETASK ||
	    (rc == WEFT_ENOMEM && over_budget()));
	if (rc == WEFT_ETASK) {
		const char *key, *fn, *msg;
		CHECK(weft_spec_failure(s, &key, &fn, &msg) == WEFT_OK);
		CHECK(msg != NULL);
		CHECK(!fn || weft_registry_find(reg, fn) != NULL);
	}
	mem = open_memstream(text, &len);
	CHECK(mem != NULL);
	for (size_t i = 0; i < nt; i++) {
		int r;
		if (rc != WEFT_OK)
			CHECK(weft_is_nil(res[i]));
		if (print_cost(res[i], PRINT_MAX) > PRINT_MAX) {
			wrc = WEFT_ERANGE;
			weft_value_release(&res[i]);
			continue;
		}
		r = weft_value_write(mem, res[i], 0);
		if (r == WEFT_OK)
			r = weft_value_write(sink, res[i], WEFT_WRITE_TEXT);
		CHECK(r == WEFT_OK || (r == WEFT_ENOMEM && over_budget()));
		if (r != WEFT_OK)
			wrc = r;
		fputc('\n', mem);
		weft_value_release(&res[i]);
	}
	CHECK(fclose(mem) == 0);
	free(res);
	if (wrc != WEFT_OK) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

/* Runs the spec's graph twice, fused and not, and compares. */
static void
run(weft_spec *s)
{
	weft_trace *trace = weft_trace_new();
	char *a, *b;
	int ra, rb, rc;

	ra = compute(s, 0, trace, &a);
	if (trace) {
		rc = weft_spec_write_dot(s, sink, trace);
		CHECK(rc == WEFT_OK || (rc == WEFT_ENOMEM && over_budget()));
		rc = weft_trace_write_json(trace, weft_spec_graph(s), sink);
		CHECK(rc == WEFT_OK || (rc == WEFT_ENOMEM && over_budget()));
	}
	weft_trace_free(trace);
	rb = compute(s, WEFT_NO_FUSE, NULL, &b);
	if (!over_budget()) {
		CHECK(ra == rb);
		CHECK(!a == !b);
		CHECK(!a || strcmp(a, b) == 0);
	}
	free(a);
	free(b);
}

/* -- libFuzzer's entry points ---------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const weft_allocator a = { fz_malloc, fz_realloc, fz_free,
		NULL };
	weft_pool_opts po = { .threads = 1, .bind = WEFT_BIND_NONE };

	(void)argc;
	(void)argv;
	if (reg)
		return 0;
	if (weft_set_allocator(&a) != WEFT_OK) {
		fputs("fuzz_spec: cannot set the allocator\n", stderr);
		abort();
	}
	reg = weft_registry_new();
	pool = weft_pool_new(&po);
	sink = fopen("/dev/null", "w");
	if (!reg || weft_registry_add_builtins(reg) != WEFT_OK || !pool ||
	    !sink) {
		fputs("fuzz_spec: cannot set up\n", stderr);
		abort();
	}
	return 0;
}

void
fuzz_spec_cleanup(void)
{
	weft_pool_free(pool);
	weft_registry_free(reg);
	if (sink)
		fclose(sink);
	pool = NULL;
	reg = NULL;
	sink = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	weft_spec *s = NULL, *s2 = NULL;
	weft_spec_error err;
	weft_spec_opts o;
	const char **keys = NULL;
	size_t nt = 0;
	int rc;

	if (!reg)
		LLVMFuzzerInitialize(NULL, NULL);
	atomic_store_explicit(&spent, 0, memory_order_relaxed);
	atomic_store_explicit(&metered, 1, memory_order_relaxed);

	rc = weft_spec_load_buffer(text, size, NAME, reg, NULL, &s, &err);
	check_load(rc, s, &err, data, size);
	if (s) {
		check_spec(s, 0);
		if (computable(s))
			run(s);
		nt = weft_spec_ntargets(s);
	}

	/* Again, strict, without the cull, under tight limits, and with the
	 * first load's targets (plus one repeated) given as an override. */
	atomic_store_explicit(&spent, 0, memory_order_relaxed);
	memset(&o, 0, sizeof(o));
	o.flags = WEFT_SPEC_STRICT | WEFT_SPEC_NO_CULL;
	o.max_depth = 1 + (unsigned)(size % 8);
	o.max_keys = 1 + size % 64;
	o.max_bytes = size % 3 == 0 ? size / 2 + 1 : 0;
	if (nt > 0) {
		keys = malloc((nt + 1) * sizeof(*keys));
		CHECK(keys != NULL);
		for (size_t i = 0; i < nt; i++)
			keys[i] = weft_spec_target_key(s, i);
		keys[nt] = keys[0];
		o.targets = keys;
		o.ntargets = nt + 1;
	}
	rc = weft_spec_load_buffer(text, size, NAME, reg, &o, &s2, &err);
	check_load(rc, s2, &err, data, size);
	if (s2) {
		check_spec(s2, 1);
		CHECK(weft_spec_ntargets(s2) == nt || nt == 0);
	}
	weft_spec_free(s2);
	free(keys);
	weft_spec_free(s);

	atomic_store_explicit(&metered, 0, memory_order_relaxed);
	return 0;
}
