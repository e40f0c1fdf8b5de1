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

typedef struct weft__tbuf_w {
	WEFT_CACHE_ALIGNED weft_trace_event *ev;
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
		t->w[i].n = 0;
		t->w[i].dropped = 0;
	}
}

void
weft_trace_free(weft_trace *t)
{
	if (!t)
		return;
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
weft__trace_add(
    weft_trace *t, int worker, uint32_t node, int64_t start, int64_t end)
{
	if (worker < 0 || (unsigned)worker >= t->nw)
		return;
	weft__tbuf_w *b = &t->w[worker];
	if (b->n == b->cap &&
	    weft__grow((void **)&b->ev, &b->cap, b->n + 1, sizeof *b->ev)) {
		b->dropped++;
		return;
	}
	weft_trace_event *e = &b->ev[b->n++];
	e->node_index = node;
	e->worker = worker;
	e->start_ns = start;
	e->end_ns = end;
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

int
weft_trace_get(const weft_trace *t, size_t i, weft_trace_event *out)
{
	if (!t || !out)
		return WEFT_EINVAL;
	for (unsigned k = 0; k < t->nw; k++) {
		if (i < t->w[k].n) {
			*out = t->w[k].ev[i];
			return WEFT_OK;
		}
		i -= t->w[k].n;
	}
	return WEFT_EINVAL;
}

int
weft_trace_worker_of(const weft_trace *t, weft_node n)
{
	int who = -1;
	int64_t last = INT64_MIN;
	uint32_t idx = (uint32_t)n.id;
	for (unsigned k = 0; t && k < t->nw; k++)
		for (size_t i = 0; i < t->w[k].n; i++)
			if (t->w[k].ev[i].node_index == idx &&
			    t->w[k].ev[i].start_ns >= last) {
				last = t->w[k].ev[i].start_ns;
				who = (int)k;
			}
	return who;
}

/* Writes s as a JSON string body (quotes and control bytes escaped). */
static void
weft__json_str(FILE *f, const char *s)
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
	if (!t || !g || !f)
		return WEFT_EINVAL;
	int64_t t0 = INT64_MAX;
	for (unsigned k = 0; k < t->nw; k++)
		for (size_t i = 0; i < t->w[k].n; i++)
			if (t->w[k].ev[i].start_ns < t0)
				t0 = t->w[k].ev[i].start_ns;
	fprintf(f, "{\"traceEvents\":[\n");
	int first = 1;
	for (unsigned k = 0; k < t->nw; k++) {
		fprintf(f,
		    "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
		    "\"tid\":%u,\"args\":{\"name\":\"worker %u\"}}",
		    first ? "" : ",\n", k, k);
		first = 0;
	}
	char key[256];
	for (unsigned k = 0; k < t->nw; k++)
		for (size_t i = 0; i < t->w[k].n; i++) {
			const weft_trace_event *e = &t->w[k].ev[i];
			fprintf(f, ",\n{\"name\":\"");
			if (e->node_index < g->n)
				weft__json_str(f, weft__graph_key(g,
				    e->node_index, key, sizeof key));
			fprintf(f,
			    "\",\"cat\":\"task\",\"ph\":\"X\",\"pid\":1,"
			    "\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f}",
			    e->worker, (double)(e->start_ns - t0) / 1e3,
			    (double)(e->end_ns - e->start_ns) / 1e3);
		}
	fprintf(f, "\n],\"displayTimeUnit\":\"ns\"}\n");
	return ferror(f) ? WEFT_EIO : WEFT_OK;
}
