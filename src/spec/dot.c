/*
 * Graphviz DOT of a spec's graph. Unlike weft_graph_write_dot(), which can
 * only name the C function every node runs (the spec evaluator), this one
 * labels each key with its computation as the file wrote it:
 * "z\nadd(y, mul(x, 10))".
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "graph/graph.h"
#include "lib/lib.h"
#include "spec/spec_int.h"
#include "weft/trace.h"

/* Labels stop growing here; the DOT stays readable for big literals. */
#define LABEL_MAX 60

/* The same light colours as weft_graph_write_dot, one per worker. */
static const char *const palette[] = { "#8dd3c7", "#ffffb3", "#bebada",
	"#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9",
	"#bc80bd", "#ccebc5", "#ffed6f" };

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

/* A DOT string body: quotes and backslashes escaped, one line. */
static void
put_escaped(FILE *f, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	}
	if (*s)
		fputs("...", f);
}

/* Who ran each node last, from one pass over the trace (asking the trace
 * node by node would cost a pass per node). NULL when out of memory. */
static int *
workers_of(const weft_spec *s, const weft_trace *trace)
{
	size_t n = weft_graph_size(s->g);
	int *w = weft__malloc((n ? n : 1) * sizeof(*w));
	int64_t *when = weft__malloc((n ? n : 1) * sizeof(*when));
	weft_trace_event e;

	if (!w || !when) {
		weft__free(w);
		weft__free(when);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		w[i] = -1;
		when[i] = INT64_MIN;
	}
	for (size_t i = 0; weft_trace_get(trace, i, &e) == WEFT_OK; i++)
		if (e.node_index < n && e.start_ns >= when[e.node_index]) {
			when[e.node_index] = e.start_ns;
			w[e.node_index] = e.worker;
		}
	weft__free(when);
	return w;
}

int
weft_spec_write_dot(const weft_spec *s, FILE *f, const weft_trace *trace)
{
	weft__buf b = { 0 };
	int *worker = NULL;

	if (!s || !f)
		return WEFT_EINVAL;
	if (trace && !(worker = workers_of(s, trace)))
		return WEFT_ENOMEM;
	fprintf(f, "digraph weft {\n  rankdir=BT;\n"
		   "  node [shape=box, style=\"rounded,filled\", "
		   "fillcolor=white, fontname=\"monospace\"];\n");
	for (size_t i = 0; i < s->nkeys; i++) {
		const spec_key *k = &s->keys[i];
		uint32_t idx;
		int w = -1;
		if (!k->built)
			continue;
		idx = weft__graph_index(s->g, k->node);
		if (worker && idx != WEFT__NONE)
			w = worker[idx];
		b.len = 0;
		label(s, k, k->task.e, &b);
		if (b.oom) {
			weft__buf_free(&b);
			weft__free(worker);
			return WEFT_ENOMEM;
		}
		fprintf(f, "  k%zu [label=\"", i);
		put_escaped(f, k->name, 200);
		fputs("\\n", f);
		put_escaped(f, b.p ? b.p : "", LABEL_MAX);
		fputc('"', f);
		if (w >= 0)
			fprintf(f, ", fillcolor=\"%s\", tooltip=\"worker %d\"",
			    palette[w % 12], w);
		fputs("];\n", f);
		for (uint32_t j = 0; j < k->ndeps; j++)
			fprintf(f, "  k%u -> k%zu;\n", k->deps[j], i);
	}
	fputs("}\n", f);
	weft__buf_free(&b);
	weft__free(worker);
	return ferror(f) ? WEFT_EIO : WEFT_OK;
}
