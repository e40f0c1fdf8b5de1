/* Graphviz DOT export of a graph, optionally coloured by a trace. */
#include <stdio.h>

#include "base/alloc.h"
#include "graph/graph.h"
#include "weft/trace.h"

/* Distinct, light fill colours for up to 12 workers; more wrap around. */
static const char *const weft__palette[] = { "#8dd3c7", "#ffffb3",
	"#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
	"#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f" };

static void
weft__dot_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

int
weft_graph_write_dot(const weft_graph *g, FILE *f, const struct weft_trace *trace)
{
	if (!g || !f)
		return WEFT_EINVAL;
	char key[256], name[96];
	/* who ran each node, from the trace: one pass over its events */
	int *worker = NULL;
	if (trace && g->n) {
		worker = weft__malloc(g->n * sizeof *worker);
		if (!worker)
			return WEFT_ENOMEM;
		for (uint32_t i = 0; i < g->n; i++)
			worker[i] = -1;
		weft_trace_event e;
		for (size_t k = 0; weft_trace_get(trace, k, &e) == WEFT_OK; k++)
			if (e.node_index < g->n)
				worker[e.node_index] = e.worker;
	}
	fprintf(f, "digraph weft {\n  rankdir=BT;\n"
		   "  node [shape=box, style=\"rounded,filled\", "
		   "fillcolor=white, fontname=\"monospace\"];\n");
	for (uint32_t i = 0; i < g->n; i++) {
		const weft__node *nd = &g->nodes[i];
		fprintf(f, "  n%u [label=\"", i);
		weft__dot_str(f, weft__graph_key(g, i, key, sizeof key));
		fprintf(f, "\\n");
		weft__dot_str(f, weft__fn_name(nd->fn, name, sizeof name));
		fprintf(f, "\"");
		int w = worker ? worker[i] : -1;
		if (weft__graph_persisted(g, i))
			fprintf(f, ", peripheries=2, fillcolor=\"#bbbbbb\"");
		else if (w >= 0)
			fprintf(f, ", fillcolor=\"%s\", tooltip=\"worker %d\"",
			    weft__palette[w % 12], w);
		fprintf(f, "];\n");
		const uint32_t *a = g->args + nd->arg0;
		for (uint32_t k = 0; k < nd->nargs; k++)
			if (a[k] != WEFT__LIT)
				fprintf(f, "  n%u -> n%u;\n", a[k], i);
	}
	fprintf(f, "}\n");
	weft__free(worker);
	return ferror(f) ? WEFT_EIO : WEFT_OK;
}
