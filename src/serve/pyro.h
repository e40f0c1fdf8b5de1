/*
 * A Pyro4 daemon over weft: one exposed object whose methods are the
 * functions of a registry, plus `compute(graph, targets)` for whole graphs,
 * served to unmodified Pyro4 4.x proxies (protocol 48, serpent and json).
 *
 * What a proxy does, and what weft answers:
 * - connect: MSG_CONNECT with {"handshake": ..., "object": NAME}; weft
 *   answers MSG_CONNECTOK with "hello" and the object's metadata (methods:
 *   every function of the registry and "compute"; oneway: those named in
 *   the options; attrs: none), or MSG_CONNECTFAIL with the reason.
 * - invoke: MSG_INVOKE (object, method, vargs, kwargs). The call runs as a
 *   one-task graph on the pool; its result or error comes back as
 *   MSG_RESULT, an error as a serialized Python exception (RuntimeError
 *   for a failed task, TypeError for wrong arguments, AttributeError for
 *   an unknown method, TimeoutError past the call time limit) that the
 *   proxy raises. FLAGS_ONEWAY calls get no answer.
 * - the daemon object "Pyro.Daemon": get_metadata, ping, info, registered.
 * - MSG_PING: answered. Compressed requests are inflated (zlib); answers
 *   go out plain.
 * Not supported (an error reply, the connection stays): batched calls,
 * keep-serialized blobs, streamed results, attributes,
 * the marshal/pickle/dill/cloudpickle/msgpack serializers.
 *
 * The server is driven by an event loop (loop.h) through pyro_server_hooks;
 * everything runs on the loop thread but the completion signal a worker
 * sends when a call ends.
 */
#ifndef WEFT_SERVE_PYRO_H
#define WEFT_SERVE_PYRO_H

#include <stddef.h>

#include "loop.h"
#include "weft.h"

typedef struct pyro_server pyro_server;

typedef struct pyro_server_opts {
	const char *object;	   /* the object's name in the URI */
	const weft_registry *reg;  /* its methods; borrowed */
	weft_pool *pool;	   /* where calls run; borrowed */
	const void *hmac_key;	   /* NULL: no HMAC */
	size_t hmac_len;
	size_t max_message;	   /* data + annotations; 0: 64 MiB */
	double call_timeout;	   /* seconds; 0: none */
	size_t max_inflight;	   /* calls at once; 0: 1024 */
	const char *const *oneway; /* methods the proxy calls oneway */
	size_t noneway;
} pyro_server_opts;

/* NULL when out of memory or an option is invalid (err says). The strings
 * of opts are copied. */
pyro_server *pyro_server_new(const pyro_server_opts *o, char *err,
    size_t errsize);
/* The loop serving it (before serve_loop_run). */
void pyro_server_attach(pyro_server *s, serve_loop *loop);
/* The hooks to create the loop with (ud = the server). */
extern const serve_loop_hooks pyro_server_hooks;
/* Cancels the calls still running and waits for them; the loop must still
 * exist (call before serve_loop_free). */
void pyro_server_stop(pyro_server *s);
/* Frees the server (after serve_loop_free; stops it first if need be).
 * NULL is ok. */
void pyro_server_free(pyro_server *s);

/* Counters, for the shutdown line. */
typedef struct pyro_stats {
	size_t connections, calls, errors, oneway;
} pyro_stats;
void pyro_server_stats(const pyro_server *s, pyro_stats *out);

#endif
