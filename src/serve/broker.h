/*
 * A message broker connection, as the Celery worker sees it: consume from
 * queues with a prefetch window, publish, acknowledge or reject. The Celery
 * message format (celery_msg.h) is written against this interface only, so
 * another transport (Redis through hiredis, say) can sit beside the AMQP one
 * (broker_amqp.c) without touching it.
 *
 * Threads: a broker is used from one thread (rabbitmq-c is not thread-safe);
 * other threads wake that thread through their own means (an eventfd), and
 * broker_fd() lets it poll the connection and the wake-up together.
 *
 * Errors: WEFT_EIO means the connection is gone (broker stopped, network,
 * heartbeat missed, channel closed by the broker): free the broker and open
 * a new one; delivery tags of the old one mean nothing on the new one.
 * Messages delivered but not acknowledged are redelivered by the broker.
 */
#ifndef WEFT_SERVE_BROKER_H
#define WEFT_SERVE_BROKER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker broker;

/* A delivered message. Every string is NUL-terminated and "" when the
 * property was absent; all are owned by the message (broker_msg_clear). */
typedef struct broker_msg {
	uint64_t tag;	 /* delivery tag: for broker_ack / broker_reject */
	char *body;	 /* body_len bytes, plus a NUL after them */
	size_t body_len;
	json_t *headers; /* an object (empty when none) */
	char *content_type, *content_encoding;
	char *correlation_id, *reply_to;
	char *exchange, *routing_key; /* where it was published to */
	int redelivered;	      /* 1 when delivered before */
} broker_msg;

/* A message to publish. Strings may be NULL (property left out); the
 * structure and what it points to are only read during the call. */
typedef struct broker_out {
	const char *exchange;	 /* "" or NULL: the default exchange */
	const char *routing_key; /* a queue name, for the default exchange */
	const char *content_type, *content_encoding;
	const char *correlation_id, *reply_to;
	const json_t *headers; /* an object, or NULL */
	const void *body;
	size_t body_len;
	int persistent; /* 1: delivery mode 2 (survives a broker restart) */
} broker_out;

/*
 * Connects to `url` (amqp://USER:PASS@HOST:PORT/VHOST; the schemes pyamqp://
 * and librabbitmq:// that Celery users write mean the same), logs in and
 * opens a channel. `timeout_s` bounds the connect and every later
 * request/reply. `heartbeat_s` (0: none) is the heartbeat asked of the
 * broker: call broker_next() at least that often, even when the socket is
 * quiet, since heartbeats are sent and checked there. WEFT_OK and *out;
 * WEFT_EINVAL (a bad URL); WEFT_EIO (cannot connect or log in);
 * WEFT_ENOMEM. `err` says which and why.
 */
int broker_open(broker **out, const char *url, double timeout_s,
    unsigned heartbeat_s, char *err, size_t errsize);

/* Closes the connection (politely when it is still up) and frees. NULL ok. */
void broker_free(broker *b);

/*
 * Declares each queue the way Celery does by default (a durable direct
 * exchange and a durable queue, both named `name`, bound with routing key
 * `name`), sets the prefetch window, and starts consuming from them with
 * acknowledgements on (nothing is removed before broker_ack). 0 or WEFT_EIO.
 */
int broker_consume(broker *b, size_t n, const char *const *queues,
    unsigned prefetch, char *err, size_t errsize);

/* Changes the prefetch window (messages delivered and not yet acked). */
int broker_set_prefetch(broker *b, unsigned prefetch);

/* Stops consuming (messages already delivered stay ours to ack). */
int broker_cancel(broker *b);

/* The socket to poll for input, and whether input is already buffered (then
 * do not wait on the socket before calling broker_next). */
int broker_fd(const broker *b);
int broker_has_buffered(const broker *b);

/*
 * Waits up to `timeout_s` (0: just look) for the next delivery. WEFT_OK and
 * *m (broker_msg_clear it); WEFT_ETIMEDOUT; WEFT_EIO (connection gone);
 * WEFT_ENOMEM.
 */
int broker_next(broker *b, double timeout_s, broker_msg *m, char *err,
    size_t errsize);

/* Frees what a delivered message owns; zeroes it. NULL ok. */
void broker_msg_clear(broker_msg *m);

/* Publishes. 0, WEFT_ETYPE (a header that has no AMQP form), WEFT_ENOMEM
 * or WEFT_EIO. */
int broker_publish(broker *b, const broker_out *o, char *err, size_t errsize);

/* Acknowledges (the broker forgets the message) or rejects it (`requeue`
 * 0: dropped, or dead-lettered when the queue says so). With `multiple`,
 * every unacknowledged delivery up to `tag` is acknowledged at once (tags
 * grow with each delivery). 0 or WEFT_EIO. */
int broker_ack(broker *b, uint64_t tag, int multiple);
int broker_reject(broker *b, uint64_t tag, int requeue);

#endif
