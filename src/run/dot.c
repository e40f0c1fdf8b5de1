/*
 * The one Graphviz DOT writer (weft/trace.h): a box per node, an edge per
 * reference; with a trace, each box filled with the colour of the worker
 * that ran it, failed tasks and tasks that never ran marked, and a legend.
 * The spec layer calls it with its own labels (weft_spec_write_dot).
 *
 * Big graphs are summarized: past opts->max_nodes nodes, one box per kind
 * of node (its label up to the first '('), with counts, and one edge per
 * pair of kinds, so Graphviz does not run for minutes on a picture nobody
 * can read. The writer says so in the DOT and in weft_dot_info.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "graph/graph.h"
#include "weft/trace.h"

#define LABEL_MAX 60 /* characters of a label line; longer ones end "..." */
#define MAX_GROUPS 200 /* kinds in a summary; the rest count as "other" */

/* Light, distinct fill colours for up to 12 workers; more wrap around. */
static const char *const palette[] = { "#8dd3c7", "#ffffb3", "#bebada",
	"#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd",
	"#ccebc5", "#ffed6f", "#a6cee3" };
#define NPALETTE (sizeof palette / sizeof palette[0])
#define FAILED_FILL "#fb8072"
#define FAILED_LINE "#b2182b"
#define PERSISTED_FILL "#bbbbbb"

/* What the trace says of a node. */
enum { ST_NONE = 0, ST_RAN = 1, ST_FAILED = 2 };

/* Writes `s` as the body of a DOT string: quotes and backslashes escaped,
 * control bytes as spaces, at most `max` characters then "...". */
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

/* Per node: who ran it last and how it ended, from one pass over the
 * trace (weft_trace_worker_of would cost a pass per node). */
typedef struct states {
	int *worker;	 /* -1: not in the trace */
	uint8_t *status; /* ST_* */
	const char **msg; /* a failed node's message (the trace's) */
	unsigned nworkers; /* 1 + the highest worker seen */
} states;

static int
states_load(states *st, const weft_graph *g, const weft_trace *t)
{
	size_t n = g->n ? g->n : 1;
	int64_t *when = weft__malloc(n * sizeof *when);
	st->worker = weft__malloc(n * sizeof *st->worker);
	st->status = weft__calloc(n, 1);
	st->msg = weft__calloc(n, sizeof *st->msg);
	if (!when || !st->worker || !st->status || !st->msg) {
		weft__free(when);
		return WEFT_ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++) {
		st->worker[i] = -1;
		when[i] = INT64_MIN;
	}
	weft_trace_event e;
	for (size_t k = 0; weft_trace_get(t, k, &e) == WEFT_OK; k++) {
		if (e.node_index >= g->n || e.start_ns < when[e.node_index])
			continue;
		when[e.node_index] = e.start_ns;
		st->worker[e.node_index] = e.worker;
		st->status[e.node_index] =
		    e.status == WEFT_OK ? ST_RAN : ST_FAILED;
		st->msg[e.node_index] = weft_trace_message(t, k);
		if (e.worker >= 0 && (unsigned)e.worker + 1 > st->nworkers)
			st->nworkers = (unsigned)e.worker + 1;
	}
	weft__free(when);
	return WEFT_OK;
}

static void
states_free(states *st)
{
	weft__free(st->worker);
	weft__free(st->status);
	weft__free((void *)st->msg);
}

/* The second line of node i's box: the caller's label, else the
 * function's name. */
static const char *
node_label(const weft_graph *g, uint32_t i, const weft_dot_opts *o,
    char *buf, size_t size)
{
	const char *l = NULL;
	if (o->label)
		l = o->label(o->ud, g, weft__graph_node(g, i), buf, size);
	return l ? l : weft__fn_label(g->nodes[i].fn, buf, size);
}

/* The attributes that show a node's state: persisted, failed, never ran
 * (with a trace), or its worker's colour. */
static void
put_state(FILE *f, const weft_graph *g, uint32_t i, const states *st,
    weft_dot_info *info)
{
	if (weft__graph_persisted(g, i)) {
		fprintf(f, ", peripheries=2, fillcolor=\"%s\"", PERSISTED_FILL);
		return;
	}
	if (!st->status)
		return;
	switch (st->status[i]) {
	case ST_FAILED:
		fprintf(f,
		    ", fillcolor=\"" FAILED_FILL "\", color=\"" FAILED_LINE
		    "\", penwidth=3, tooltip=\"failed on worker %d: ",
		    st->worker[i]);
		put_escaped(f, st->msg[i] ? st->msg[i] : "", 200);
		fputc('"', f);
		info->failed++;
		break;
	case ST_RAN:
		fprintf(f, ", fillcolor=\"%s\", tooltip=\"worker %d\"",
		    palette[(unsigned)st->worker[i] % NPALETTE], st->worker[i]);
		break;
	default:
		fputs(", style=\"rounded,dashed\", fontcolor=\"#777777\", "
		      "tooltip=\"did not run\"",
		    f);
		info->not_run++;
	}
}

/* The legend: a worker per colour, and the marks used. */
static void
put_legend(FILE *f, const states *st, const weft_dot_info *info, int persisted)
{
	fputs("  subgraph cluster_legend {\n    label=\"legend\"; "
	      "fontname=\"monospace\"; style=rounded; color=\"#999999\";\n",
	    f);
	unsigned shown = st->nworkers < NPALETTE ? st->nworkers : NPALETTE;
	for (unsigned w = 0; w < shown; w++) {
		fprintf(f, "    legend_w%u [label=\"worker %u", w, w);
		for (unsigned v = w + NPALETTE; v < st->nworkers; v += NPALETTE)
			fprintf(f, ", %u", v);
		fprintf(f, "\", fillcolor=\"%s\"];\n", palette[w]);
	}
	if (info->failed)
		fputs("    legend_failed [label=\"failed\", fillcolor=\"" FAILED_FILL
		      "\", color=\"" FAILED_LINE "\", penwidth=3];\n",
		    f);
	if (info->not_run)
		fputs("    legend_not_run [label=\"did not run\", "
		      "style=\"rounded,dashed\", fontcolor=\"#777777\"];\n",
		    f);
	if (persisted)
		fprintf(f, "    legend_persisted [label=\"persisted\", "
			   "peripheries=2, fillcolor=\"%s\"];\n",
		    PERSISTED_FILL);
	fputs("  }\n", f);
}

static int
write_full(FILE *f, const weft_graph *g, const weft_dot_opts *o,
    const states *st, weft_dot_info *info)
{
	char key[256], label[256];
	for (uint32_t i = 0; i < g->n; i++) {
		const weft__node *nd = &g->nodes[i];
		fprintf(f, "  n%" PRIu32 " [label=\"", i);
		put_escaped(f, weft__graph_key(g, i, key, sizeof key), LABEL_MAX);
		fputs("\\n", f);
		put_escaped(f, node_label(g, i, o, label, sizeof label),
		    LABEL_MAX);
		if (st->status && st->status[i] == ST_FAILED) {
			fputs("\\nFAILED: ", f);
			put_escaped(f, st->msg[i] ? st->msg[i] : "", LABEL_MAX);
		}
		fputc('"', f);
		put_state(f, g, i, st, info);
		fputs("];\n", f);
		const uint32_t *a = g->args + nd->arg0;
		for (uint32_t k = 0; k < nd->nargs; k++)
			if (a[k] != WEFT__LIT)
				fprintf(f, "  n%" PRIu32 " -> n%" PRIu32 ";\n",
				    a[k], i);
		info->boxes++;
	}
	return WEFT_OK;
}

/* -- the summary of a big graph ------------------------------------------- */

typedef struct group {
	char name[64];
	size_t nodes, failed, not_run;
} group;

/* The kind of a label: up to its first '(' (a call's function). */
static void
kind_of(const char *label, char *out, size_t size)
{
	size_t n = strcspn(label, "(");
	if (n >= size)
		n = size - 1;
	memcpy(out, label, n);
	out[n] = '\0';
}

static int
write_summary(FILE *f, const weft_graph *g, const weft_dot_opts *o,
    const states *st, weft_dot_info *info)
{
	group *gr = weft__calloc(MAX_GROUPS + 1, sizeof *gr);
	uint32_t *of = weft__malloc((g->n ? g->n : 1) * sizeof *of);
	size_t *edges = weft__calloc(
	    (size_t)(MAX_GROUPS + 1) * (MAX_GROUPS + 1), sizeof *edges);
	if (!gr || !of || !edges) {
		weft__free(gr);
		weft__free(of);
		weft__free(edges);
		return WEFT_ENOMEM;
	}
	size_t ng = 0;
	char label[256], kind[64];
	for (uint32_t i = 0; i < g->n; i++) {
		kind_of(node_label(g, i, o, label, sizeof label), kind,
		    sizeof kind);
		size_t k = 0;
		while (k < ng && strcmp(gr[k].name, kind))
			k++;
		if (k == ng && ng < MAX_GROUPS)
			snprintf(gr[ng++].name, sizeof gr->name, "%s", kind);
		else if (k == ng)
			k = MAX_GROUPS; /* "other" */
		of[i] = (uint32_t)k;
		gr[k].nodes++;
		if (st->status && st->status[i] == ST_FAILED)
			gr[k].failed++, info->failed++;
		else if (st->status && st->status[i] == ST_NONE &&
		    !weft__graph_persisted(g, i))
			gr[k].not_run++, info->not_run++;
		const weft__node *nd = &g->nodes[i];
		const uint32_t *a = g->args + nd->arg0;
		for (uint32_t j = 0; j < nd->nargs; j++)
			if (a[j] != WEFT__LIT)
				edges[(size_t)of[a[j]] * (MAX_GROUPS + 1) + k]++;
	}
	if (gr[MAX_GROUPS].nodes)
		snprintf(gr[MAX_GROUPS].name, sizeof gr->name, "(other kinds)");
	fprintf(f, "  summary [shape=note, fillcolor=\"#ffffcc\", label=\"");
	fprintf(f, "summarized: %zu nodes in %zu kinds\\n(more than %zu nodes;"
		   " weft_dot_opts.max_nodes)\"];\n",
	    (size_t)g->n, ng + (gr[MAX_GROUPS].nodes > 0), info->max_nodes);
	for (size_t k = 0; k <= MAX_GROUPS; k++) {
		if (!gr[k].nodes)
			continue;
		fprintf(f, "  g%zu [label=\"", k);
		put_escaped(f, gr[k].name, LABEL_MAX);
		fprintf(f, "\\n%zu nodes", gr[k].nodes);
		if (gr[k].failed)
			fprintf(f, ", %zu failed", gr[k].failed);
		if (gr[k].not_run)
			fprintf(f, ", %zu did not run", gr[k].not_run);
		fputc('"', f);
		if (gr[k].failed)
			fputs(", fillcolor=\"" FAILED_FILL "\", color=\"" FAILED_LINE
			      "\", penwidth=3",
			    f);
		fputs(", peripheries=2];\n", f);
		info->boxes++;
	}
	for (size_t a = 0; a <= MAX_GROUPS; a++)
		for (size_t b = 0; b <= MAX_GROUPS; b++) {
			size_t c = edges[a * (MAX_GROUPS + 1) + b];
			if (c)
				fprintf(f, "  g%zu -> g%zu [label=\"%zu\"];\n",
				    a, b, c);
		}
	weft__free(gr);
	weft__free(of);
	weft__free(edges);
	return WEFT_OK;
}

int
weft_graph_write_dot_opts(const weft_graph *g, FILE *f,
    const weft_dot_opts *opts, weft_dot_info *info)
{
	weft_dot_opts none;
	weft_dot_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof *info);
	if (!g || !f)
		return WEFT_EINVAL;
	if (!opts) {
		memset(&none, 0, sizeof none);
		opts = &none;
	}
	info->nodes = g->n;
	info->max_nodes = opts->max_nodes ? opts->max_nodes : WEFT_DOT_MAX_NODES;
	info->summarized = g->n > info->max_nodes;
	states st;
	memset(&st, 0, sizeof st);
	if (opts->trace && states_load(&st, g, opts->trace) != WEFT_OK) {
		states_free(&st);
		return WEFT_ENOMEM;
	}
	fputs("digraph weft {\n  rankdir=BT;\n"
	      "  node [shape=box, style=\"rounded,filled\", "
	      "fillcolor=white, fontname=\"monospace\"];\n",
	    f);
	int rc = info->summarized ? write_summary(f, g, opts, &st, info)
				  : write_full(f, g, opts, &st, info);
	if (rc == WEFT_OK && (opts->trace || g->npersisted))
		put_legend(f, &st, info, g->npersisted > 0);
	fputs("}\n", f);
	states_free(&st);
	if (rc != WEFT_OK)
		return rc;
	return ferror(f) ? WEFT_EIO : WEFT_OK;
}

int
weft_graph_write_dot(const weft_graph *g, FILE *f, const weft_trace *trace)
{
	weft_dot_opts o;
	memset(&o, 0, sizeof o);
	o.trace = trace;
	return weft_graph_write_dot_opts(g, f, &o, NULL);
}
