/*
 * The Pyro4 daemon (pyro.h): messages in, calls onto the pool, replies out.
 *
 * A connection has at most one call its client waits for; while it runs,
 * the connection is not read (a Pyro4 proxy sends one request at a time,
 * and a flood of requests then waits in the kernel, not in memory here).
 * Oneway calls run detached. A call's last task signals the loop through
 * the compute's posttask callback: the worker queues the call and writes
 * the loop's eventfd; the loop thread replies and frees the call.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pyjson.h"
#include "pyro.h"
#include "pyro_msg.h"
#include "pywrite.h"
#include "serpent.h"

#define pyro_atomic_add(p, x) atomic_fetch_add_explicit((p), (x), memory_order_acq_rel)
#define pyro_atomic_load(p) atomic_load_explicit((p), memory_order_acquire)
#define pyro_atomic_store(p, x) atomic_store_explicit((p), (x), memory_order_release)
#define pyro_atomic_swap(p, x) atomic_exchange_explicit((p), (x), memory_order_acq_rel)
#define pyro_atomic_cas(p, e, x) \
	atomic_compare_exchange_strong_explicit((p), (e), (x), \
	    memory_order_acq_rel, memory_order_acquire)

#define DAEMON_NAME "Pyro.Daemon"
#define COMPUTE_METHOD "compute"
/* How often the loop looks at running calls: deadlines, and a call whose
 * last task failed while other tasks of it still run. */
#define TICK_MS 20
#define TICK_FINISHING_MS 1

/* Who answers a one-function call (pyro_call.direct). The worker that ran
 * the function writes the answer itself when it can (ARMED -> SENDING ->
 * SENT): the client then has it one thread hand-off sooner. The loop takes
 * the answer back (ARMED -> OFF) to send an error, a timeout, or to close
 * the connection; once the worker is SENDING, the loop waits for SENT. */
enum direct_state { DIRECT_OFF, DIRECT_ARMED, DIRECT_SENDING, DIRECT_SENT };

enum call_kind {
	CALL_FN,	 /* one function: its value */
	CALL_GRAPH_ONE,	 /* compute(g, "key"): that key's value */
	CALL_GRAPH_LIST, /* compute(g, [keys]): a list */
	CALL_GRAPH_DICT, /* compute(g): {key: value} for the file's targets */
};

typedef struct pyro_conn pyro_conn;

typedef struct pyro_call {
	pyro_server *srv;
	pyro_conn *pc; /* the waiting client; NULL: oneway, or gone */
	struct pyro_call *prev, *next; /* in flight (loop thread) */
	struct pyro_call *next_done;   /* completion queue (srv->mu) */
	weft_graph *g;		       /* owned, or the spec's */
	weft_spec *spec;
	weft_future *f;
	weft_callbacks cb;
	_Atomic size_t ntasks, ended;
	_Atomic int signaled;
	int kind;
	int replied; /* the client got its answer (a timeout) */
	int drained; /* signaled and taken off the queue (loop thread) */
	uint16_t seq, serializer;
	int has_corr;
	unsigned char corr[16];
	double deadline; /* 0: none */
	char name[WEFT_FUNC_NAME_MAX + 1];
	/* Direct answers (CALL_FN; see enum direct_state). */
	const weft_func_info *fi;
	int fd;
	_Atomic int direct;
	serve_buf rest; /* what the worker could not send; the loop's after */
} pyro_call;

struct pyro_conn {
	serve_conn *c;
	pyro_server *srv;
	int connected;
	pyro_call *call;
	int stalled;
	pyro_conn *next_stalled;
};

struct pyro_server {
	char *object;
	const weft_registry *reg;
	weft_pool *pool;
	unsigned char *key;
	size_t keylen;
	size_t max_message, max_inflight;
	double call_timeout;
	char **oneway;
	size_t noneway;
	serve_loop *loop;
	pyro_call *inflight;
	size_t ninflight;
	pyro_conn *stalled;
	pthread_mutex_t mu; /* guards `done` only */
	pyro_call *done;
	pyro_stats stats;
};

/* -- replies ------------------------------------------------------------ */

/* What one request needs to be answered. */
typedef struct req {
	pyro_conn *pc;
	uint16_t seq, serializer, flags;
	const unsigned char *corr; /* 16 bytes, or NULL */
} req;

static int
send_msg(pyro_conn *pc, uint16_t type, uint16_t flags, uint16_t seq,
    uint16_t ser, const unsigned char *corr, const serve_buf *payload)
{
	pyro_server *s = pc->srv;
	pyro_ann ann;
	serve_buf *out = serve_conn_output(pc->c);

	if (payload->failed)
		return -1;
	if (corr) {
		memcpy(ann.id, "CORR", 4);
		ann.len = 16;
		ann.data = corr;
	}
	if (pyro_msg_write(out, type, flags, seq, ser, &ann, corr ? 1 : 0,
		serve_buf_data(payload), serve_buf_size(payload), s->key,
		s->keylen) != 0)
		return -1;
	serve_conn_flush(pc->c);
	return 0;
}

static void
write_exception(pyw *w, const char *cls, const char *msg)
{
	pyw_begin(w);
	pyw_open(w, '{');
	pyw_key(w, "__class__");
	pyw_cstr(w, cls);
	pyw_sep(w);
	pyw_key(w, "__exception__");
	pyw_bool(w, 1);
	pyw_sep(w);
	pyw_key(w, "args");
	pyw_open(w, '(');
	pyw_cstr(w, msg);
	pyw_close(w, ')', 1);
	pyw_sep(w);
	pyw_key(w, "attributes");
	pyw_open(w, '{');
	pyw_close(w, '}', 0);
	pyw_close(w, '}', 2);
}

/* Answers a request with a Python exception the proxy raises. Oneway
 * requests get nothing, as with Pyro4's own daemon. */
static int
reply_error(const req *r, const char *cls, const char *msg)
{
	serve_buf b = { 0 };
	pyw w = { &b, r->serializer == PYRO_SER_JSON };
	int rc = 0;

	r->pc->srv->stats.errors++;
	if (r->flags & PYRO_FLAGS_ONEWAY)
		return 0;
	write_exception(&w, cls, msg);
	rc = send_msg(r->pc, PYRO_MSG_RESULT, PYRO_FLAGS_EXCEPTION, r->seq,
	    w.json ? PYRO_SER_JSON : PYRO_SER_SERPENT, r->corr, &b);
	serve_buf_free(&b);
	return rc;
}

static int WEFT_PRINTF(3, 4)
reply_errorf(const req *r, const char *cls, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return reply_error(r, cls, msg);
}

/* -- metadata ----------------------------------------------------------- */

static const char *const daemon_methods[] = { "get_metadata", "ping", "info",
	"registered" };

static void
write_metadata(pyro_server *s, pyw *w, int daemon)
{
	size_t n = 0;
	pyw_open(w, '{');
	pyw_key(w, "methods");
	pyw_open(w, '(');
	if (daemon) {
		for (size_t i = 0; i < 4; i++, n++) {
			if (n)
				pyw_sep(w);
			pyw_cstr(w, daemon_methods[i]);
		}
	} else {
		size_t count = weft_registry_count(s->reg);
		for (size_t i = 0; i < count; i++, n++) {
			if (n)
				pyw_sep(w);
			pyw_cstr(w, weft_registry_at(s->reg, i)->name);
		}
		if (!weft_registry_find(s->reg, COMPUTE_METHOD)) {
			if (n)
				pyw_sep(w);
			pyw_cstr(w, COMPUTE_METHOD);
			n++;
		}
	}
	pyw_close(w, ')', n);
	pyw_sep(w);
	pyw_key(w, "oneway");
	pyw_open(w, '(');
	for (size_t i = 0; !daemon && i < s->noneway; i++) {
		if (i)
			pyw_sep(w);
		pyw_cstr(w, s->oneway[i]);
	}
	pyw_close(w, ')', daemon ? 0 : s->noneway);
	pyw_sep(w);
	pyw_key(w, "attrs");
	pyw_open(w, '(');
	pyw_close(w, ')', 0);
	pyw_close(w, '}', 3);
}

/* 1 for our object, 2 for the daemon, 0 for an unknown one. */
static int
object_kind(pyro_server *s, const pyv *id)
{
	if (pyv_is_str(id, s->object))
		return 1;
	if (pyv_is_str(id, DAEMON_NAME))
		return 2;
	return 0;
}

/* -- parsing the payload ------------------------------------------------ */

static int
parse_payload(const req *r, const unsigned char *data, size_t n,
    pyv_arena *a, pyv *out, char *err, size_t errsize)
{
	char why[512];
	int rc;
	if (r->serializer == PYRO_SER_JSON)
		rc = pyjson_parse((const char *)data, n, a, out, why, sizeof why);
	else
		rc = serpent_parse((const char *)data, n, a, out, why, sizeof why);
	if (rc != WEFT_OK)
		snprintf(err, errsize, "cannot read the %s data: %s",
		    r->serializer == PYRO_SER_JSON ? "json" : "serpent", why);
	return rc;
}

/* -- the connect handshake ---------------------------------------------- */

static int
handle_connect(pyro_conn *pc, const req *r, const pyro_header *h,
    const unsigned char *data)
{
	pyro_server *s = pc->srv;
	serve_buf b = { 0 };
	pyw w = { &b, r->serializer == PYRO_SER_JSON };
	pyv_arena a = { .limit = s->max_message * 8 + (1 << 16) };
	pyv v;
	char err[600];
	const char *fail = NULL;
	int rc;

	if (r->serializer != PYRO_SER_SERPENT && r->serializer != PYRO_SER_JSON) {
		snprintf(err, sizeof err,
		    "message used serializer that is not accepted: %u (weft "
		    "speaks serpent and json)", r->serializer);
		fail = err;
		w.json = 0;
	} else if (parse_payload(r, data, h->data_size, &a, &v, err, sizeof err) !=
	    WEFT_OK)
		fail = err;
	else if (v.kind != PYV_DICT)
		fail = "handshake data is not a dict";
	else if ((h->flags & PYRO_FLAGS_META_ON_CONNECT) &&
	    !object_kind(s, pyv_dict_get(&v, "object")))
		fail = "unknown object";
	pyw_begin(&w);
	if (fail) {
		pyw_cstr(&w, fail);
		rc = send_msg(pc, PYRO_MSG_CONNECTFAIL, 0, r->seq,
		    w.json ? PYRO_SER_JSON : PYRO_SER_SERPENT, r->corr, &b);
		serve_conn_close(pc->c, 0);
	} else {
		uint16_t flags = 0;
		if (h->flags & PYRO_FLAGS_META_ON_CONNECT) {
			flags = PYRO_FLAGS_META_ON_CONNECT;
			pyw_open(&w, '{');
			pyw_key(&w, "handshake");
			pyw_cstr(&w, "hello");
			pyw_sep(&w);
			pyw_key(&w, "meta");
			write_metadata(s, &w,
			    object_kind(s, pyv_dict_get(&v, "object")) == 2);
			pyw_close(&w, '}', 2);
		} else
			pyw_cstr(&w, "hello");
		rc = send_msg(pc, PYRO_MSG_CONNECTOK, flags, r->seq,
		    r->serializer, r->corr, &b);
		pc->connected = 1;
		s->stats.connections++;
	}
	serve_buf_free(&b);
	pyv_arena_free(&a);
	return rc;
}

/* -- calls -------------------------------------------------------------- */

static void call_signal(pyro_call *c);

static void
call_start_cb(void *ud, size_t ntasks)
{
	pyro_call *c = ud;
	pyro_atomic_store(&c->ntasks, ntasks);
}

/* On a worker, after each task: the last one, or a failed one (which ends
 * the compute), tells the loop. */
static void
call_posttask_cb(void *ud, const weft_task_info *ti)
{
	pyro_call *c = ud;
	size_t ended = pyro_atomic_add(&c->ended, 1) + 1;
	if (ti->rc != WEFT_OK || ended >= pyro_atomic_load(&c->ntasks))
		call_signal(c);
}

static void
call_signal(pyro_call *c)
{
	pyro_server *s = c->srv;
	if (pyro_atomic_swap(&c->signaled, 1))
		return;
	pthread_mutex_lock(&s->mu);
	c->next_done = s->done;
	s->done = c;
	pthread_mutex_unlock(&s->mu);
	serve_loop_wake(s->loop);
}

static void
call_free(pyro_call *c)
{
	weft_future_free(c->f);
	if (c->spec)
		weft_spec_free(c->spec);
	else
		weft_graph_free(c->g);
	serve_buf_free(&c->rest);
	free(c);
}

/* Takes the answer back from the workers (see enum direct_state): 1 when
 * the loop answers (the worker never will), 0 when a worker has sent or
 * is sending it (waited for: a non-blocking send is short). */
static int
direct_take_back(pyro_call *c)
{
	int st = DIRECT_ARMED;
	if (pyro_atomic_cas(&c->direct, &st, DIRECT_OFF) || st == DIRECT_OFF)
		return 1;
	while (pyro_atomic_load(&c->direct) == DIRECT_SENDING)
		sched_yield();
	return 0;
}

/* On the worker, right after the function: the answer, written to the
 * socket here when the loop has not taken it back. */
static void
direct_send(pyro_call *c, weft_value v)
{
	pyro_server *s = c->srv;
	serve_buf data = { 0 }, msg = { 0 };
	pyw w = { &data, c->serializer == PYRO_SER_JSON };
	pyro_ann ann;

	pyw_begin(&w);
	if (pyw_weft(&w, v, 0) != WEFT_OK || data.failed)
		goto out; /* the loop answers with the error */
	memcpy(ann.id, "CORR", 4);
	ann.len = 16;
	ann.data = c->corr;
	if (pyro_msg_write(&msg, PYRO_MSG_RESULT, 0, c->seq, c->serializer,
		&ann, c->has_corr ? 1 : 0, data.p, data.len, s->key,
		s->keylen) != 0 ||
	    msg.failed)
		goto out;
	int st = DIRECT_ARMED;
	if (!pyro_atomic_cas(&c->direct, &st, DIRECT_SENDING))
		goto out;
	while (serve_buf_size(&msg)) {
		ssize_t n = send(c->fd, serve_buf_data(&msg), serve_buf_size(&msg),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			serve_buf_consume(&msg, (size_t)n);
		else
			break; /* full, or gone: the loop sends the rest or sees */
	}
	serve_buf_add(&c->rest, serve_buf_data(&msg), serve_buf_size(&msg));
	pyro_atomic_store(&c->direct, DIRECT_SENT);
out:
	serve_buf_free(&data);
	serve_buf_free(&msg);
}

/* The task of a one-function call: args[0] is the call, the rest are the
 * function's. */
static int
call_direct(weft_ctx *ctx, size_t n, const weft_value *args, weft_value *out)
{
	pyro_call *c = weft_ptr_get(args[0]);
	int rc = c->fi->fn(ctx, n - 1, args + 1, out);
	if (rc == WEFT_OK)
		direct_send(c, *out);
	return rc;
}

static void update_tick(pyro_server *s);

/* Starts the compute of c's graph (targets[0..n)); on success c is in
 * flight and owned by the server. On failure replies and frees c. */
static int
call_launch(pyro_call *c, const req *r, size_t n, const weft_node *targets)
{
	pyro_server *s = c->srv;
	weft_opts o;

	memset(&o, 0, sizeof o);
	c->cb.start = call_start_cb;
	c->cb.posttask = call_posttask_cb;
	c->cb.ud = c;
	o.pool = s->pool;
	o.callbacks = &c->cb;
	pyro_atomic_store(&c->ntasks, (size_t)-1);
	c->fd = -1;
	if (c->kind == CALL_FN && !(r->flags & PYRO_FLAGS_ONEWAY) &&
	    !serve_buf_size(serve_conn_output(r->pc->c))) {
		c->fd = serve_conn_fd(r->pc->c);
		pyro_atomic_store(&c->direct, DIRECT_ARMED);
	}
	c->f = weft_compute_async(c->g, n, targets, &o);
	if (!c->f) {
		int rc = reply_errorf(r, "builtins.RuntimeError",
		    "%s: cannot start: %s", c->name, weft_graph_error(c->g));
		call_free(c);
		return rc;
	}
	if (pyro_atomic_load(&c->ntasks) == 0)
		call_signal(c); /* nothing to run */
	c->next = s->inflight;
	if (s->inflight)
		s->inflight->prev = c;
	s->inflight = c;
	s->ninflight++;
	s->stats.calls++;
	if (r->flags & PYRO_FLAGS_ONEWAY) {
		s->stats.oneway++;
		c->pc = NULL;
	} else {
		c->pc = r->pc;
		r->pc->call = c;
		serve_conn_pause(r->pc->c, 1);
	}
	update_tick(s);
	return 0;
}

static pyro_call *
call_new(pyro_server *s, const req *r, const char *name)
{
	pyro_call *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->srv = s;
	c->seq = r->seq;
	c->serializer = r->serializer;
	if (r->corr) {
		c->has_corr = 1;
		memcpy(c->corr, r->corr, 16);
	}
	snprintf(c->name, sizeof c->name, "%s", name);
	if (s->call_timeout > 0)
		c->deadline = serve_now() + s->call_timeout;
	return c;
}

static int
start_function(pyro_conn *pc, const req *r, const weft_func_info *fi,
    const pyv *vargs, const pyv *kwargs)
{
	pyro_server *s = pc->srv;
	size_t n = vargs->n;
	char err[600];

	if (kwargs->n)
		return reply_errorf(r, "builtins.TypeError",
		    "%s() takes positional arguments only (got keyword "
		    "argument '%.100s')", fi->name,
		    kwargs->u.items[0].kind == PYV_STR ? kwargs->u.items[0].u.s
						       : "?");
	if ((int)n < fi->min_args ||
	    (fi->max_args != WEFT_ARGS_ANY && (int)n > fi->max_args)) {
		char arity[64];
		return reply_errorf(r, "builtins.TypeError",
		    "%s() takes %s arguments (%zu given)", fi->name,
		    weft_func_arity(fi, arity, sizeof arity), n);
	}
	pyro_call *c = call_new(s, r, fi->name);
	weft_arg stack[9], *args = n + 1 > 9 ? calloc(n + 1, sizeof *args)
					     : stack;
	if (!c || !args || !(c->g = weft_graph_new())) {
		if (args != stack)
			free(args);
		if (c)
			free(c);
		return reply_error(r, "builtins.MemoryError", "out of memory");
	}
	c->kind = CALL_FN;
	c->fi = fi;
	/* A oneway call has no answer to send: the function itself runs. */
	int direct = !(r->flags & PYRO_FLAGS_ONEWAY);
	int rc = WEFT_OK;
	size_t made;
	if (direct) {
		args[0] = weft_lit(weft_ptr(c, NULL));
		if (weft_type_of(args[0].lit) != WEFT_PTR)
			rc = WEFT_ENOMEM;
	}
	for (made = 0; made < n && rc == WEFT_OK; made++) {
		weft_value v;
		rc = pyv_to_weft(&vargs->u.items[made], &v, err, sizeof err);
		if (rc != WEFT_OK)
			break;
		args[made + direct] = weft_lit(v);
	}
	if (rc != WEFT_OK) {
		/* The graph owns literals only once they are passed to it. */
		for (size_t i = 0; i < made + (size_t)direct; i++)
			weft_value_release(&args[i].lit);
		if (args != stack)
			free(args);
		call_free(c);
		if (rc == WEFT_ENOMEM)
			return reply_error(r, "builtins.MemoryError",
			    "out of memory");
		return reply_errorf(r, "builtins.TypeError", "%s(): argument "
		    "%zu: %s", fi->name, made + 1, err);
	}
	weft_node node = weft_delayed_named(c->g, fi->name,
	    direct ? call_direct : fi->fn, n + (size_t)direct, args);
	if (args != stack)
		free(args);
	if (!weft_node_ok(node)) {
		rc = reply_errorf(r, "builtins.RuntimeError", "%s: %s",
		    fi->name, weft_graph_error(c->g));
		call_free(c);
		return rc;
	}
	return call_launch(c, r, 1, &node);
}

/* compute(graph, targets=None): graph is JSON text (str or bytes) or a
 * dict ({"graph": ..., "targets": ...}, or just the graph's keys). */
static int
start_compute(pyro_conn *pc, const req *r, const pyv *vargs,
    const pyv *kwargs)
{
	pyro_server *s = pc->srv;
	const pyv *graph = vargs->n > 0 ? &vargs->u.items[0] : NULL;
	const pyv *targets = vargs->n > 1 ? &vargs->u.items[1] : NULL;
	const char *targetv[256];
	size_t ntargets = 0;
	int kind = CALL_GRAPH_DICT;

	for (size_t i = 0; i < kwargs->n; i++) {
		const pyv *k = &kwargs->u.items[2 * i];
		if (pyv_is_str(k, "graph") || pyv_is_str(k, "graph_json"))
			graph = &kwargs->u.items[2 * i + 1];
		else if (pyv_is_str(k, "targets") || pyv_is_str(k, "keys"))
			targets = &kwargs->u.items[2 * i + 1];
		else
			return reply_errorf(r, "builtins.TypeError",
			    "compute() got an unexpected keyword argument "
			    "'%.100s'", k->kind == PYV_STR ? k->u.s : "?");
	}
	if (vargs->n > 2)
		return reply_errorf(r, "builtins.TypeError",
		    "compute() takes 1 or 2 arguments (%zu given)", vargs->n);
	if (!graph)
		return reply_error(r, "builtins.TypeError",
		    "compute() needs a graph: compute(graph_json, targets)");
	if (targets && targets->kind == PYV_STR) {
		kind = CALL_GRAPH_ONE;
		targetv[ntargets++] = targets->u.s;
	} else if (targets && (targets->kind == PYV_LIST ||
				  targets->kind == PYV_TUPLE)) {
		kind = CALL_GRAPH_LIST;
		if (targets->n > sizeof targetv / sizeof targetv[0])
			return reply_errorf(r, "builtins.ValueError",
			    "compute(): more than %zu targets",
			    sizeof targetv / sizeof targetv[0]);
		for (size_t i = 0; i < targets->n; i++) {
			if (targets->u.items[i].kind != PYV_STR)
				return reply_errorf(r, "builtins.TypeError",
				    "compute(): target %zu is a %s, not a key",
				    i, pyv_kind_name(targets->u.items[i].kind));
			targetv[ntargets++] = targets->u.items[i].u.s;
		}
	} else if (targets && targets->kind != PYV_NONE)
		return reply_errorf(r, "builtins.TypeError",
		    "compute(): targets must be a key, a list of keys or None, "
		    "not %s", pyv_kind_name(targets->kind));

	/* The graph as JSON text for the spec reader. */
	serve_buf text = { 0 };
	const char *data;
	size_t len;
	if (graph->kind == PYV_STR || graph->kind == PYV_BYTES) {
		data = graph->u.s;
		len = graph->n;
	} else if (graph->kind == PYV_DICT && pyv_dict_get(graph, "data") &&
	    pyv_is_str(pyv_dict_get(graph, "encoding"), "base64")) {
		const pyv *d = pyv_dict_get(graph, "data");
		if (d->kind != PYV_STR || serve_buf_reserve(&text, d->n) != 0)
			return reply_error(r, "builtins.ValueError",
			    "compute(): bad bytes argument");
		long m = serve_base64_decode(d->u.s, d->n, text.p);
		if (m < 0) {
			serve_buf_free(&text);
			return reply_error(r, "builtins.ValueError",
			    "compute(): bad base64 in the bytes argument");
		}
		text.len = (size_t)m;
		data = (const char *)text.p;
		len = text.len;
	} else if (graph->kind == PYV_DICT) {
		pyw w = { &text, 1 };
		int whole = pyv_dict_get(graph, "graph") != NULL;
		if (!whole) {
			pyw_open(&w, '{');
			pyw_key(&w, "graph");
		}
		pyw_pyv(&w, graph);
		if (!whole)
			pyw_close(&w, '}', 1);
		if (text.failed) {
			serve_buf_free(&text);
			return reply_error(r, "builtins.MemoryError",
			    "out of memory");
		}
		data = (const char *)text.p;
		len = text.len;
	} else
		return reply_errorf(r, "builtins.TypeError",
		    "compute(): the graph must be JSON text or a dict, not %s",
		    pyv_kind_name(graph->kind));

	pyro_call *c = call_new(s, r, COMPUTE_METHOD);
	if (!c) {
		serve_buf_free(&text);
		return reply_error(r, "builtins.MemoryError", "out of memory");
	}
	weft_spec_opts so;
	weft_spec_error se;
	memset(&so, 0, sizeof so);
	so.targets = ntargets ? targetv : NULL;
	so.ntargets = ntargets;
	so.max_bytes = s->max_message;
	int rc = weft_spec_load_buffer(data, len, "graph", s->reg, &so,
	    &c->spec, &se);
	serve_buf_free(&text);
	if (rc != WEFT_OK) {
		free(c);
		return reply_errorf(r, "builtins.ValueError", "%s", se.message);
	}
	c->kind = kind;
	c->g = weft_spec_graph(c->spec);
	return call_launch(c, r, weft_spec_ntargets(c->spec),
	    weft_spec_targets(c->spec));
}

static int
handle_daemon_call(pyro_conn *pc, const req *r, const char *method,
    const pyv *vargs)
{
	pyro_server *s = pc->srv;
	serve_buf b = { 0 };
	pyw w = { &b, r->serializer == PYRO_SER_JSON };
	int rc;

	pyw_begin(&w);
	if (strcmp(method, "get_metadata") == 0) {
		int kind = vargs->n ? object_kind(s, &vargs->u.items[0]) : 0;
		if (!kind) {
			serve_buf_free(&b);
			return reply_error(r, "Pyro4.errors.DaemonError",
			    "unknown object");
		}
		write_metadata(s, &w, kind == 2);
	} else if (strcmp(method, "ping") == 0)
		pyw_none(&w);
	else if (strcmp(method, "info") == 0) {
		char info[512];
		snprintf(info, sizeof info,
		    "%s of weft %s bound on %s:%u, 2 objects registered. "
		    "Servertype: weft epoll loop, %u pool threads",
		    DAEMON_NAME, weft_version_string(),
		    serve_loop_host(s->loop), serve_loop_port(s->loop),
		    weft_pool_threads(s->pool));
		pyw_cstr(&w, info);
	} else if (strcmp(method, "registered") == 0) {
		pyw_open(&w, '[');
		pyw_cstr(&w, DAEMON_NAME);
		pyw_sep(&w);
		pyw_cstr(&w, s->object);
		pyw_close(&w, ']', 2);
	} else {
		serve_buf_free(&b);
		return reply_errorf(r, "builtins.AttributeError",
		    "remote object '%s' has no exposed attribute or method "
		    "'%.100s'", DAEMON_NAME, method);
	}
	rc = (r->flags & PYRO_FLAGS_ONEWAY)
	    ? 0
	    : send_msg(pc, PYRO_MSG_RESULT, 0, r->seq, r->serializer, r->corr,
		  &b);
	serve_buf_free(&b);
	return rc;
}

static int
handle_invoke(pyro_conn *pc, const req *r, const pyro_header *h,
    const unsigned char *data)
{
	pyro_server *s = pc->srv;
	pyv_arena a = { .limit = s->max_message * 8 + (1 << 16) };
	pyv v;
	const pyv *obj, *method, *vargs, *kwargs;
	char err[700];
	int rc;

	if (r->serializer != PYRO_SER_SERPENT && r->serializer != PYRO_SER_JSON) {
		req rs = *r;
		rs.serializer = PYRO_SER_SERPENT;
		return reply_errorf(&rs, "Pyro4.errors.SerializeError",
		    "message used serializer that is not accepted: %u (weft "
		    "speaks serpent and json)", r->serializer);
	}
	if (h->flags & (PYRO_FLAGS_BATCH | PYRO_FLAGS_KEEPSERIALIZED))
		return reply_errorf(r, "Pyro4.errors.ProtocolError",
		    "weft does not support %s",
		    (h->flags & PYRO_FLAGS_BATCH) ? "batched calls"
						  : "serialized blobs");
	if (parse_payload(r, data, h->data_size, &a, &v, err, sizeof err) !=
	    WEFT_OK) {
		pyv_arena_free(&a);
		return reply_error(r, "Pyro4.errors.SerializeError", err);
	}
	if (r->serializer == PYRO_SER_JSON) {
		obj = pyv_dict_get(&v, "object");
		method = pyv_dict_get(&v, "method");
		vargs = pyv_dict_get(&v, "params");
		kwargs = pyv_dict_get(&v, "kwargs");
	} else if ((v.kind == PYV_TUPLE || v.kind == PYV_LIST) && v.n == 4) {
		obj = &v.u.items[0];
		method = &v.u.items[1];
		vargs = &v.u.items[2];
		kwargs = &v.u.items[3];
	} else
		obj = method = vargs = kwargs = NULL;
	if (!obj || !method || !vargs || !kwargs || obj->kind != PYV_STR ||
	    method->kind != PYV_STR ||
	    (vargs->kind != PYV_TUPLE && vargs->kind != PYV_LIST) ||
	    kwargs->kind != PYV_DICT) {
		pyv_arena_free(&a);
		return reply_error(r, "Pyro4.errors.SerializeError",
		    "a call must be (object, method, vargs, kwargs)");
	}
	switch (object_kind(s, obj)) {
	case 2:
		rc = handle_daemon_call(pc, r, method->u.s, vargs);
		break;
	case 1: {
		const weft_func_info *fi = weft_registry_find(s->reg, method->u.s);
		if (fi)
			rc = start_function(pc, r, fi, vargs, kwargs);
		else if (strcmp(method->u.s, COMPUTE_METHOD) == 0)
			rc = start_compute(pc, r, vargs, kwargs);
		else {
			const char *hint = weft_registry_suggest(s->reg,
			    method->u.s);
			rc = reply_errorf(r, "builtins.AttributeError",
			    "remote object '%s' has no exposed attribute or "
			    "method '%.100s'%s%s%s", s->object, method->u.s,
			    hint ? " (did you mean '" : "", hint ? hint : "",
			    hint ? "'?)" : "");
		}
		break;
	}
	default:
		rc = reply_error(r, "Pyro4.errors.DaemonError", "unknown object");
	}
	pyv_arena_free(&a);
	return rc;
}

/* -- finished calls ----------------------------------------------------- */

static void
resume_stalled(pyro_server *s)
{
	while (s->stalled && s->ninflight < s->max_inflight) {
		pyro_conn *pc = s->stalled;
		s->stalled = pc->next_stalled;
		pc->stalled = 0;
		serve_conn_pause(pc->c, 0);
	}
}

static void
reply_result(pyro_call *c, int rc)
{
	pyro_conn *pc = c->pc;
	req r = { pc, c->seq, c->serializer, 0, c->has_corr ? c->corr : NULL };
	serve_buf b = { 0 };
	pyw w = { &b, c->serializer == PYRO_SER_JSON };

	if (rc != WEFT_OK) {
		reply_error(&r, rc == WEFT_ECANCELED ? "builtins.TimeoutError"
						     : "builtins.RuntimeError",
		    weft_future_error(c->f));
		return;
	}
	size_t n = c->spec ? weft_spec_ntargets(c->spec) : 1;
	weft_value one, *vals = n > 1 ? calloc(n, sizeof *vals) : &one;
	if (!vals) {
		reply_error(&r, "builtins.MemoryError", "out of memory");
		return;
	}
	weft_future_results(c->f, vals);
	pyw_begin(&w);
	int ok = WEFT_OK;
	if (c->kind == CALL_FN || c->kind == CALL_GRAPH_ONE)
		ok = pyw_weft(&w, vals[0], 0);
	else if (c->kind == CALL_GRAPH_LIST) {
		pyw_open(&w, '[');
		for (size_t i = 0; i < n && ok == WEFT_OK; i++) {
			if (i)
				pyw_sep(&w);
			ok = pyw_weft(&w, vals[i], 0);
		}
		pyw_close(&w, ']', n);
	} else {
		pyw_open(&w, '{');
		for (size_t i = 0; i < n && ok == WEFT_OK; i++) {
			if (i)
				pyw_sep(&w);
			pyw_key(&w, weft_spec_target_key(c->spec, i));
			ok = pyw_weft(&w, vals[i], 0);
		}
		pyw_close(&w, '}', n);
	}
	for (size_t i = 0; i < n; i++)
		weft_value_release(&vals[i]);
	if (vals != &one)
		free(vals);
	if (ok != WEFT_OK)
		reply_errorf(&r, "builtins.TypeError",
		    "%s: the result holds a value with no wire form (a "
		    "pointer, or nested too deep)", c->name);
	else if (send_msg(pc, PYRO_MSG_RESULT, 0, c->seq, c->serializer,
		     r.corr, &b) != 0)
		serve_conn_close(pc->c, 1);
	serve_buf_free(&b);
}

/* The loop thread, for a call whose compute may have ended: replies and
 * frees it when it has. */
static void
call_finish(pyro_server *s, pyro_call *c)
{
	int rc = weft_future_wait(c->f, 0);
	if (rc == WEFT_ETIMEDOUT)
		return; /* a failed task's siblings still run: next tick */
	if (c->pc && !c->replied) {
		pyro_conn *pc = c->pc;
		if (direct_take_back(c))
			reply_result(c, rc);
		else if (serve_buf_size(&c->rest))
			serve_conn_send(pc->c, serve_buf_data(&c->rest),
			    serve_buf_size(&c->rest));
		pc->call = NULL;
		serve_conn_pause(pc->c, 0);
	}
	if (c->pc)
		c->pc->call = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->inflight = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->ninflight--;
	call_free(c);
	resume_stalled(s);
}

static void
update_tick(pyro_server *s)
{
	int finishing = 0;
	for (pyro_call *c = s->inflight; c && !finishing; c = c->next)
		finishing = c->drained;
	/* Connections need a tick too, for the partial-message timeout. */
	serve_loop_set_tick(s->loop, finishing ? TICK_FINISHING_MS : TICK_MS);
}

static void
on_wake(void *ud)
{
	pyro_server *s = ud;
	pthread_mutex_lock(&s->mu);
	pyro_call *list = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->mu);
	while (list) {
		pyro_call *c = list;
		list = c->next_done;
		c->drained = 1;
		call_finish(s, c);
	}
	update_tick(s);
}

static void
on_tick(void *ud)
{
	pyro_server *s = ud;
	double now = serve_now();
	for (pyro_call *c = s->inflight, *next; c; c = next) {
		next = c->next;
		if (c->drained) {
			call_finish(s, c);
			continue;
		}
		if (pyro_atomic_load(&c->signaled))
			continue; /* queued: on_wake's */
		/* Past its time: the client hears so now; the compute is
		 * canceled (tasks running finish first) and freed when it
		 * ends. A task that never returns keeps its worker. */
		if (c->deadline > 0 && now > c->deadline && !c->replied &&
		    direct_take_back(c)) {
			weft_future_cancel(c->f);
			c->replied = 1;
			if (c->pc) {
				pyro_conn *pc = c->pc;
				req r = { pc, c->seq, c->serializer, 0,
					c->has_corr ? c->corr : NULL };
				reply_errorf(&r, "builtins.TimeoutError",
				    "%s: the call ran longer than %g s (the "
				    "server's --call-timeout); canceled",
				    c->name, s->call_timeout);
				pc->call = NULL;
				c->pc = NULL;
				serve_conn_pause(pc->c, 0);
			}
		} else if (weft_future_wait(c->f, 0) != WEFT_ETIMEDOUT &&
		    !pyro_atomic_load(&c->signaled)) {
			/* Ended without a signal (its last task was skipped).
			 * Every posttask has returned once the compute has
			 * ended, so none can queue it any more. */
			call_finish(s, c);
		}
	}
	update_tick(s);
}

/* -- input -------------------------------------------------------------- */

static int
on_input(void *ud, serve_conn *c)
{
	pyro_server *s = ud;
	pyro_conn *pc = serve_conn_data(c);
	char err[300];

	if (!pc) {
		pc = calloc(1, sizeof *pc);
		if (!pc)
			return -1;
		pc->c = c;
		pc->srv = s;
		serve_conn_set_data(c, pc);
	}
	while (!pc->call && !pc->stalled) {
		serve_buf *in = serve_conn_input(c);
		size_t have = serve_buf_size(in);
		const unsigned char *p = serve_buf_data(in);
		pyro_header h;
		pyro_ann anns[PYRO_MAX_ANNOTATIONS];
		size_t nanns = 0;

		if (have < PYRO_HEADER_SIZE)
			return 0;
		if (pyro_header_parse(p, &h, err, sizeof err) != 0)
			return -1; /* junk: nothing to answer, as Pyro4 */
		if ((size_t)h.data_size + h.ann_size > s->max_message)
			return -1; /* Pyro4 closes too: no seq to answer */
		size_t total = PYRO_HEADER_SIZE + h.ann_size + (size_t)h.data_size;
		if (have < total)
			return 0;
		if (h.type == PYRO_MSG_INVOKE && s->ninflight >= s->max_inflight) {
			/* Every call slot busy: wait, unread. */
			pc->stalled = 1;
			pc->next_stalled = s->stalled;
			s->stalled = pc;
			serve_conn_pause(c, 1);
			return 0;
		}
		if (pyro_anns_parse(p + PYRO_HEADER_SIZE, h.ann_size, anns,
			PYRO_MAX_ANNOTATIONS, &nanns, err, sizeof err) != 0)
			return -1;
		const unsigned char *data = p + PYRO_HEADER_SIZE + h.ann_size;
		const pyro_ann *corr = pyro_ann_find(anns, nanns, "CORR");
		req r = { pc, h.seq, h.serializer, h.flags,
			corr && corr->len == 16 ? corr->data : NULL };

		/* The HMAC, when either side has a key. */
		const pyro_ann *mac = pyro_ann_find(anns, nanns, "HMAC");
		const char *security = NULL;
		if (s->key && !mac)
			security = "hmac key config not symmetric";
		else if (!s->key && mac)
			security = "hmac key config not symmetric";
		else if (s->key) {
			unsigned char want[PYRO_HMAC_SIZE];
			volatile unsigned char diff = mac->len != PYRO_HMAC_SIZE;
			if (pyro_hmac(s->key, s->keylen, data, h.data_size, anns,
				nanns, want) != 0)
				return -1;
			for (size_t i = 0; !diff && i < PYRO_HMAC_SIZE; i++)
				diff |= (unsigned char)(want[i] ^ mac->data[i]);
			if (diff)
				security = "message hmac mismatch";
		}
		/* Compressed data (Pyro4's COMPRESSION) is inflated first;
		 * answers go out plain, which proxies take as well. */
		serve_buf inflated = { 0 };
		pyro_header hd = h;
		if ((h.flags & PYRO_FLAGS_COMPRESSED) && !security &&
		    (h.type == PYRO_MSG_CONNECT || h.type == PYRO_MSG_INVOKE)) {
			if (pyro_inflate(data, h.data_size, s->max_message,
				&inflated, err, sizeof err) != 0) {
				serve_buf_free(&inflated);
				if (h.type == PYRO_MSG_INVOKE && pc->connected) {
					int e = reply_error(&r,
					    "Pyro4.errors.SerializeError", err);
					serve_buf_consume(in, total);
					if (e != 0)
						return -1;
					continue;
				}
				return -1;
			}
			data = serve_buf_data(&inflated);
			hd.data_size = (uint32_t)serve_buf_size(&inflated);
			hd.flags &= (uint16_t)~PYRO_FLAGS_COMPRESSED;
		}
		int rc = 0;
		if (security) {
			/* Pyro4's daemon refuses a handshake with the reason
			 * and drops a connection that sends a bad request. */
			if (h.type == PYRO_MSG_CONNECT && !pc->connected) {
				serve_buf b = { 0 };
				pyw w = { &b, 0 };
				pyw_begin(&w);
				pyw_cstr(&w, security);
				send_msg(pc, PYRO_MSG_CONNECTFAIL, 0, h.seq,
				    PYRO_SER_SERPENT, NULL, &b);
				serve_buf_free(&b);
				serve_conn_close(c, 0);
				s->stats.errors++;
				return 0;
			}
			return -1;
		}
		if (h.type == PYRO_MSG_CONNECT && !pc->connected) {
			rc = handle_connect(pc, &r, &hd, data);
			serve_buf_free(&inflated);
			if (!pc->connected) { /* refused: closing */
				serve_buf_consume(in, total);
				return rc;
			}
		}
		else if (h.type == PYRO_MSG_PING && pc->connected) {
			serve_buf b = { 0 };
			serve_buf_add(&b, "pong", 4);
			rc = send_msg(pc, PYRO_MSG_PING, 0, h.seq, h.serializer,
			    r.corr, &b);
			serve_buf_free(&b);
		} else if (h.type == PYRO_MSG_INVOKE && pc->connected) {
			rc = handle_invoke(pc, &r, &hd, data);
			serve_buf_free(&inflated);
		} else {
			serve_buf_free(&inflated);
			return -1; /* out of order: a confused peer */
		}
		serve_buf_consume(in, total);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static void
on_close(void *ud, serve_conn *c)
{
	pyro_server *s = ud;
	pyro_conn *pc = serve_conn_data(c);
	if (!pc)
		return;
	if (pc->call) {
		/* The client vanished mid-call: stop what has not started,
		 * and let no worker write to the socket closing now. */
		weft_future_cancel(pc->call->f);
		direct_take_back(pc->call);
		pc->call->pc = NULL;
	}
	if (pc->stalled) {
		pyro_conn **p = &s->stalled;
		while (*p != pc)
			p = &(*p)->next_stalled;
		*p = pc->next_stalled;
	}
	serve_conn_set_data(c, NULL);
	free(pc);
}

const serve_loop_hooks pyro_server_hooks = { on_input, on_close, on_wake,
	on_tick };

/* -- the server --------------------------------------------------------- */

pyro_server *
pyro_server_new(const pyro_server_opts *o, char *err, size_t errsize)
{
	pyro_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->reg = o->reg;
	s->pool = o->pool;
	s->max_message = o->max_message ? o->max_message : (size_t)64 << 20;
	s->max_inflight = o->max_inflight ? o->max_inflight : 1024;
	s->call_timeout = o->call_timeout;
	s->object = strdup(o->object ? o->object : "weft");
	s->oneway = o->noneway ? calloc(o->noneway, sizeof *s->oneway) : NULL;
	if (!s->object || (o->noneway && !s->oneway))
		goto nomem;
	for (size_t i = 0; i < o->noneway; i++) {
		s->oneway[i] = strdup(o->oneway[i]);
		if (!s->oneway[i])
			goto nomem;
		s->noneway++;
	}
	if (o->hmac_key) {
		if (!pyro_hmac_available()) {
			snprintf(err, errsize,
			    "this weft was built without OpenSSL's libcrypto: "
			    "no HMAC keys");
			pyro_server_free(s);
			return NULL;
		}
		s->key = malloc(o->hmac_len ? o->hmac_len : 1);
		if (!s->key)
			goto nomem;
		memcpy(s->key, o->hmac_key, o->hmac_len);
		s->keylen = o->hmac_len;
	}
	return s;
nomem:
	snprintf(err, errsize, "out of memory");
	pyro_server_free(s);
	return NULL;
}

void
pyro_server_attach(pyro_server *s, serve_loop *loop)
{
	s->loop = loop;
	serve_loop_set_tick(loop, TICK_MS);
}

void
pyro_server_stats(const pyro_server *s, pyro_stats *out)
{
	*out = s->stats;
}

void
pyro_server_stop(pyro_server *s)
{
	if (!s)
		return;
	for (pyro_call *c = s->inflight; c; c = c->next)
		weft_future_cancel(c->f);
	while (s->inflight) {
		pyro_call *c = s->inflight;
		s->inflight = c->next;
		if (c->pc)
			c->pc->call = NULL;
		call_free(c); /* waits for its running tasks */
	}
	s->ninflight = 0;
	s->done = NULL; /* no compute runs now: nothing signals */
}

void
pyro_server_free(pyro_server *s)
{
	if (!s)
		return;
	pyro_server_stop(s);
	for (size_t i = 0; i < s->noneway; i++)
		free(s->oneway[i]);
	free(s->oneway);
	free(s->object);
	free(s->key);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
