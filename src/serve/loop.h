/*
 * An event loop for the network front ends: one thread, epoll, many
 * connections, no thread per connection. Work goes to weft's pool; a
 * worker that finishes a call wakes the loop through an eventfd
 * (serve_loop_wake), and the loop thread sends the reply.
 *
 * The loop owns the sockets and their buffers; a protocol (pyro.c) sees
 * connections through hooks, all called on the loop thread. SIGINT and
 * SIGTERM end serve_loop_run (through a signalfd: the caller blocks both in
 * every thread first, see serve_block_signals).
 *
 * Limits: at most max_conns connections (more are accepted and closed at
 * once); a connection that holds a partial message for idle_s seconds
 * without sending more is closed; a connection is read at most 256 KiB at
 * a time, and while paused only until 64 KiB wait unparsed (then the
 * kernel pushes back).
 */
#ifndef WEFT_SERVE_LOOP_H
#define WEFT_SERVE_LOOP_H

#include <stddef.h>

#include "buf.h"

typedef struct serve_loop serve_loop;
typedef struct serve_conn serve_conn;

typedef struct serve_loop_hooks {
	/* New input on c: parse what is complete, consume it, queue replies
	 * with serve_conn_send. Return 0, or -1 to close c. */
	int (*on_input)(void *ud, serve_conn *c);
	/* c is closing (peer gone, error, shutdown): forget it. It is freed
	 * after the hook returns. */
	void (*on_close)(void *ud, serve_conn *c);
	/* serve_loop_wake was called (from any thread). */
	void (*on_wake)(void *ud);
	/* Called about every serve_loop_set_tick milliseconds. */
	void (*on_tick)(void *ud);
} serve_loop_hooks;

typedef struct serve_loop_opts {
	const char *host; /* NULL: 127.0.0.1 */
	unsigned port;	  /* 0: any free port (see serve_loop_port) */
	size_t max_conns; /* 0: 1024 */
	double idle_s;	  /* a partial message's patience; 0: 30 s */
} serve_loop_opts;

/* Seconds on the monotonic clock. */
double serve_now(void);

/* Blocks SIGINT, SIGTERM (delivered to the loop's signalfd instead) and
 * SIGPIPE in the calling thread, before any other thread starts, so that
 * threads started later inherit the mask. */
void serve_block_signals(void);

/* Binds and listens. NULL with the reason in err. */
serve_loop *serve_loop_new(const serve_loop_opts *o,
    const serve_loop_hooks *hooks, void *ud, char *err, size_t errsize);
/* The port listened on, and the host as given. */
unsigned serve_loop_port(const serve_loop *l);
const char *serve_loop_host(const serve_loop *l);
/* Serves until SIGINT/SIGTERM or serve_loop_stop. 0, or -1 on a failure
 * of epoll itself (reported in err). */
int serve_loop_run(serve_loop *l, char *err, size_t errsize);
/* Makes serve_loop_run return (loop thread). */
void serve_loop_stop(serve_loop *l);
/* Wakes the loop thread (on_wake). Any thread; async-signal-safe. */
void serve_loop_wake(serve_loop *l);
/* How often on_tick runs: milliseconds, or -1 for never. */
void serve_loop_set_tick(serve_loop *l, int ms);
/* Closes every connection (on_close for each) and frees the loop. */
void serve_loop_free(serve_loop *l);

/* The connection's socket, for a protocol that lets another thread write
 * a reply itself while the connection is paused and its output empty (the
 * protocol then keeps the two from overlapping, and on_close waits for
 * such a writer before the socket closes). */
int serve_conn_fd(const serve_conn *c);
/* A connection's unparsed input, and its protocol state. */
serve_buf *serve_conn_input(serve_conn *c);
void *serve_conn_data(const serve_conn *c);
void serve_conn_set_data(serve_conn *c, void *data);
/* Queues bytes to send, and sends what the socket takes now. */
void serve_conn_send(serve_conn *c, const void *p, size_t n);
/* The output buffer, to write a message in place; then serve_conn_flush. */
serve_buf *serve_conn_output(serve_conn *c);
void serve_conn_flush(serve_conn *c);
/* Stops reading c (a call is running for it) or starts again; when
 * reading starts again, on_input runs soon for input already buffered. */
void serve_conn_pause(serve_conn *c, int paused);
/* Closes c once its queued output is sent (or at once when `now`). */
void serve_conn_close(serve_conn *c, int now);

#endif
