/*
 * Celery's task message, protocol version 2 with the JSON serializer, and
 * the result messages its rpc:// backend reads. Only the format: no
 * transport (broker.h delivers and publishes) and no execution.
 *
 * A task message (celery.app.amqp as_task_v2):
 *   headers     lang, task, id, root_id, parent_id, group, group_index,
 *               retries, eta, expires, timelimit [hard, soft], shadow,
 *               argsrepr, kwargsrepr, origin, ignore_result
 *   properties  correlation_id (= id), reply_to (the client's result queue),
 *               content_type application/json, content_encoding utf-8
 *   body        [args, kwargs, {callbacks, errbacks, chain, chord}]
 *
 * A result (celery.backends.rpc): published to the default exchange with
 * routing key reply_to and the task's correlation_id; body
 *   {"task_id", "status", "result", "traceback", "children"}
 * where a failure's result is the exception as Celery's JSON form has it:
 *   {"exc_type": NAME, "exc_message": [ARGS...], "exc_module": MODULE}.
 */
#ifndef WEFT_SERVE_CELERY_MSG_H
#define WEFT_SERVE_CELERY_MSG_H

#include <jansson.h>
#include <stddef.h>

#include "broker.h"

/* A Python exception, as the client will raise it. */
typedef struct celery_exc {
	const char *module; /* "builtins", "celery.exceptions", ... */
	const char *type;   /* "TypeError", "NotRegistered", ... */
	char message[1024];
} celery_exc;

/* A decoded task request. Strings are owned and "" when absent. */
typedef struct celery_req {
	char *id, *task, *root_id, *parent_id, *group;
	char *reply_to, *correlation_id;
	char *exchange, *routing_key; /* where the message came in */
	json_t *args;	 /* an array */
	json_t *kwargs;	 /* an object */
	json_t *embed;	 /* an object: callbacks, errbacks, chain, chord */
	json_t *headers; /* all of them, for what is not decoded above */
	double eta;	 /* UNIX time to run at; 0: now */
	double expires;	 /* UNIX time after which not to run; 0: never */
	double time_limit, soft_time_limit; /* seconds; 0: none */
	int retries;
	int ignore_result;
} celery_req;

/*
 * Decodes a delivered message. WEFT_OK: *r is filled (celery_req_clear
 * it). Otherwise the message cannot run: *exc says why, as the exception to
 * report (a kombu DecodeError or ContentDisallowed, a ValueError for a wrong
 * shape), and r->id, r->task, r->reply_to and r->correlation_id hold what
 * could be read, so a FAILURE can still be sent when there is an id.
 * Returns WEFT_EPARSE (bad JSON), WEFT_ENOSYS (unknown content type,
 * encoding or protocol), WEFT_ETYPE (wrong shape) or WEFT_ENOMEM.
 */
int celery_req_parse(const broker_msg *m, celery_req *r, celery_exc *exc);

/* Frees what *r owns and zeroes it. NULL ok. */
void celery_req_clear(celery_req *r);

/* Sets *exc; printf-style message. Returns exc. */
celery_exc *celery_exc_set(celery_exc *exc, const char *module,
    const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The body of a result message for task `id`: status "SUCCESS" with
 * `result` (borrowed JSON), or "FAILURE"/"REVOKED" with `exc` (result is
 * then ignored), or "STARTED" with `result`. A new NUL-terminated string
 * (free) and its length, or NULL when out of memory.
 */
char *celery_result_body(const char *id, const char *status,
    const json_t *result, const celery_exc *exc, size_t *len);

/* A message to publish, with the memory it points to. */
typedef struct celery_out {
	broker_out out;
	char *body;
	json_t *headers;
	char *id, *reply_to, *exchange, *routing_key;
} celery_out;

/*
 * The task message for a signature `sig` (a Celery signature dict: task,
 * args, kwargs, options, immutable), called as a child of `parent` with
 * `prev` (the parent's result, borrowed; NULL for none) prepended to its
 * args unless it is immutable, and `chain` (borrowed; NULL for none) as the
 * rest of its chain. Routing: the signature's queue, exchange and
 * routing_key options, else where the parent came from. WEFT_OK and *o
 * (celery_out_clear it), WEFT_ETYPE (not a signature; err says why) or
 * WEFT_ENOMEM.
 */
int celery_sig_message(const json_t *sig, const json_t *prev,
    const json_t *chain, const celery_req *parent, celery_out *o, char *err,
    size_t errsize);

void celery_out_clear(celery_out *o);

/* Seconds since the epoch for an ISO 8601 date-time as Python's
 * isoformat() writes it ("2024-05-01T12:00:00.5+02:00"; naive means UTC).
 * 0 and *t, or -1 when `s` is not one. */
int celery_parse_time(const char *s, double *t);

#endif
