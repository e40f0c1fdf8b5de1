/*
 * weft_trace: per-worker event buffers, and Chrome trace-event JSON.
 *
 * Each worker appends only to its own buffer, so recording takes no lock
 * and shares no cache line. Buffers grow by doubling; an event that cannot
 * be stored for want of memory is counted as dropped, never fatal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "run/run.h"
#include "weft/trace.h"

/* An event and, for a failed task, its message (owned; NULL otherwise). */
typedef struct tevent {
	weft_trace_event e;
	char *msg;
} tevent;

typedef struct weft__tbuf_w {
	WEFT_CACHE_ALIGNED tevent *ev;
	size_t n, cap, dropped;
} weft__tbuf_w;

struct weft_trace {
	weft__tbuf_w *w;
	unsigned nw;
	int64_t t0; /* the earliest start, for relative times */
};

weft_trace *
weft_trace_new(void)
{
	return weft__calloc(1, sizeof(weft_trace));
}

void
weft_trace_clear(weft_trace *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nw; i++) {
		for (size_t k = 0; k < t->w[i].n; k++)
			weft__free(t->w[i].ev[k].msg);
		t->w[i].n = 0;
		t->w[i].dropped = 0;
	}
}

void
weft_trace_free(weft_trace *t)
{
	if (!t)
		return;
	weft_trace_clear(t);
	for (unsigned i = 0; i < t->nw; i++)
		weft__free(t->w[i].ev);
	weft__free_aligned(t->w);
	weft__free(t);
}

int
weft__trace_reserve(weft_trace *t, unsigned workers)
{
	if (workers <= t->nw)
		return WEFT_OK;
	weft__tbuf_w *nw = weft__calloc_aligned(workers, sizeof *nw,
	    WEFT_CACHE_LINE);
	if (!nw)
		return WEFT_ENOMEM;
	if (t->nw)
		memcpy(nw, t->w, t->nw * sizeof *nw);
	weft__free_aligned(t->w);
	t->w = nw;
	t->nw = workers;
	return WEFT_OK;
}

void
weft__trace_add(weft_trace *t, int worker, uint32_t node, int64_t start,
    int64_t end, int rc, const char *msg)
{
	if (worker < 0 || (unsigned)worker >= t->nw)
		return;
	weft__tbuf_w *b = &t->w[worker];
	if (b->n == b->cap &&
	    weft__grow((void **)&b->ev, &b->cap, b->n + 1, sizeof *b->ev)) {
		b->dropped++;
		return;
	}
	tevent *te = &b->ev[b->n++];
	weft_trace_event *e = &te->e;
	memset(e, 0, sizeof *e);
	e->node_index = node;
	e->worker = worker;
	e->start_ns = start;
	e->end_ns = end;
	e->status = rc;
	/* no memory for the message: the status still says it failed */
	te->msg = msg ? weft__strdup(msg) : NULL;
}

size_t
weft_trace_count(const weft_trace *t)
{
	size_t n = 0;
	for (unsigned i = 0; t && i < t->nw; i++)
		n += t->w[i].n;
	return n;
}

size_t
weft_trace_dropped(const weft_trace *t)
{
	size_t n = 0;
	for (unsigned i = 0; t && i < t->nw; i++)
		n += t->w[i].dropped;
	return n;
}

/* Event i, counting through the workers' buffers in order. */
static const tevent *
find(const weft_trace *t, size_t i)
{
	for (unsigned k = 0; k < t->nw; k++) {
		if (i < t->w[k].n)
			return &t->w[k].ev[i];
		i -= t->w[k].n;
	}
	return NULL;
}

int
weft_trace_get(const weft_trace *t, size_t i, weft_trace_event *out)
{
	if (!t || !out)
		return WEFT_EINVAL;
	const tevent *te = find(t, i);
	if (!te)
		return WEFT_EINVAL;
	*out = te->e;
	return WEFT_OK;
}

const char *
weft_trace_message(const weft_trace *t, size_t i)
{
	const tevent *te = t ? find(t, i) : NULL;
	if (!te || te->e.status == WEFT_OK)
		return NULL;
	return te->msg ? te->msg : "";
}

int
weft_trace_worker_of(const weft_trace *t, weft_node n)
{
	int who = -1;
	int64_t last = INT64_MIN;
	uint32_t idx = (uint32_t)n.id;
	for (unsigned k = 0; t && k < t->nw; k++)
		for (size_t i = 0; i < t->w[k].n; i++)
			if (t->w[k].ev[i].e.node_index == idx &&
			    t->w[k].ev[i].e.start_ns >= last) {
				last = t->w[k].ev[i].e.start_ns;
				who = (int)k;
			}
	return who;
}

/* Writes s as a JSON string body (quotes and control bytes escaped). */
static void
json_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

int
weft_trace_write_json(const weft_trace *t, const weft_graph *g, FILE *f)
{
	return weft_trace_write_json_labels(t, g, f, NULL, NULL);
}

int
weft_trace_write_json_labels(const weft_trace *t, const weft_graph *g,
    FILE *f, weft_label_fn label, void *ud)
{
	if (!t || !g || !f)
		return WEFT_EINVAL;
	int64_t t0 = INT64_MAX;
	for (unsigned k = 0; k < t->nw; k++)
		for (size_t i = 0; i < t->w[k].n; i++)
			if (t->w[k].ev[i].e.start_ns < t0)
				t0 = t->w[k].ev[i].e.start_ns;
	fprintf(f, "{\"traceEvents\":[\n");
	int first = 1;
	for (unsigned k = 0; k < t->nw; k++) {
		fprintf(f,
		    "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
		    "\"tid\":%u,\"args\":{\"name\":\"worker %u\"}}",
		    first ? "" : ",\n", k, k);
		first = 0;
	}
	char key[256], fn[128];
	for (unsigned k = 0; k < t->nw; k++)
		for (size_t i = 0; i < t->w[k].n; i++) {
			const tevent *te = &t->w[k].ev[i];
			const weft_trace_event *e = &te->e;
			int ok = e->status == WEFT_OK;
			int known = e->node_index < g->n;
			fprintf(f, ",\n{\"name\":\"");
			json_str(f, known ? weft__graph_key(g, e->node_index,
						key, sizeof key)
					  : "?");
			/* a failed task stands out: its own name suffix,
			 * category and colour ("terrible" is the trace
			 * viewers' red) */
			fprintf(f,
			    "%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,"
			    "\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,%s"
			    "\"args\":{\"function\":\"",
			    ok ? "" : " (failed)", ok ? "task" : "task,failed",
			    e->worker, (double)(e->start_ns - t0) / 1e3,
			    (double)(e->end_ns - e->start_ns) / 1e3,
			    ok ? "" : "\"cname\":\"terrible\",");
			const char *l = NULL;
			if (known && label)
				l = label(ud, g,
				    weft__graph_node(g, e->node_index), fn,
				    sizeof fn);
			if (known && !l)
				l = weft__fn_label(
				    g->nodes[e->node_index].fn, fn, sizeof fn);
			json_str(f, l ? l : "?");
			fprintf(f, "\",\"status\":\"%s\"",
			    ok ? "ok" : weft_err_name(e->status));
			if (!ok) {
				fprintf(f, ",\"error\":\"");
				json_str(f, te->msg ? te->msg : "");
				fputc('"', f);
			}
			fputs("}}", f);
		}
	fprintf(f, "\n],\"displayTimeUnit\":\"ns\"}\n");
	return ferror(f) ? WEFT_EIO : WEFT_OK;
}
