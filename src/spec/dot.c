/*
 * The spec's labels for the one DOT writer (weft_graph_write_dot_opts in
 * the run layer): each key's box shows its computation as the file wrote
 * it, "z\nadd(y, mul(x, 10))", instead of the evaluator every node runs.
 */
#include <stdio.h>
#include <string.h>

#include "lib/lib.h"
#include "spec/spec_int.h"
#include "weft/trace.h"

/* Labels stop growing here; the DOT stays readable for big literals. */
#define LABEL_MAX 60

static void
label(const weft_spec *s, const spec_key *k, const spec_expr *e,
    weft__buf *b)
{
	if (b->len > LABEL_MAX)
		return;
	switch (e->kind) {
	case X_LIT:
		if (weft_type_of(e->lit) == WEFT_LIST && weft_len(e->lit) > 8)
			weft__buf_printf(b, "[%zu items]", weft_len(e->lit));
		else
			weft__repr(weft__buf_sink, b, e->lit, WEFT__REPR_JSON);
		return;
	case X_ARG:
		weft__buf_puts(b, s->keys[k->deps[e->n]].name);
		return;
	case X_CALL:
		weft__buf_printf(b, "%s(", e->fn->name);
		break;
	default:
		weft__buf_puts(b, "[");
	}
	for (uint32_t i = 0; i < e->n && b->len <= LABEL_MAX; i++) {
		if (i)
			weft__buf_puts(b, ", ");
		label(s, k, e->kids[i], b);
	}
	weft__buf_puts(b, e->kind == X_CALL ? ")" : "]");
}

/* The spec's label of node `n`: its computation as the file wrote it.
 * A spec node runs the evaluator with its spec_task as literal 0. */
static const char *
spec_label(void *ud, const weft_graph *g, weft_node n, char *buf, size_t size)
{
	const weft_spec *s = ud;
	weft_node_view v;
	weft_arg a0;
	if (weft_node_view_get(g, n, &v) != WEFT_OK ||
	    v.fn != weft__spec_eval_task ||
	    weft_node_arg(g, n, 0, &a0) != WEFT_OK || weft_arg_is_ref(&a0))
		return NULL;
	const spec_task *t = weft_ptr_get(weft_arg_value(&a0));
	if (!t || t->spec != s)
		return NULL;
	weft__buf b = { 0 };
	label(s, &s->keys[t->key], t->e, &b);
	if (b.oom) {
		weft__buf_free(&b);
		return NULL;
	}
	snprintf(buf, size, "%s", b.p ? b.p : "");
	weft__buf_free(&b);
	return buf;
}

void
weft_spec_dot_opts(const weft_spec *s, weft_dot_opts *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	if (!s)
		return;
	opts->label = spec_label;
	opts->ud = (void *)(uintptr_t)s;
}

int
weft_spec_write_dot(const weft_spec *s, FILE *f, const weft_trace *trace)
{
	if (!s || !f)
		return WEFT_EINVAL;
	weft_dot_opts o;
	weft_spec_dot_opts(s, &o);
	o.trace = trace;
	return weft_graph_write_dot_opts(s->g, f, &o, NULL);
}
