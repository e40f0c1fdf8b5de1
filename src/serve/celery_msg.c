/*
 * Celery protocol 2 messages and rpc:// results (see celery_msg.h). Read
 * from celery.app.amqp, celery.backends.rpc/base and celery.canvas; no
 * code of theirs is used.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "celery_msg.h"
#include "weft.h"

celery_exc *
celery_exc_set(celery_exc *exc, const char *module, const char *type,
    const char *fmt, ...)
{
	va_list ap;

	exc->module = module;
	exc->type = type;
	va_start(ap, fmt);
	vsnprintf(exc->message, sizeof exc->message, fmt, ap);
	va_end(ap);
	return exc;
}

/* -- time ----------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long
days_from_civil(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Reads exactly n digits. */
static int
digits(const char **p, int n, long *out)
{
	long v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

int
celery_parse_time(const char *s, double *t)
{
	long y, mo, d, h, mi, sec, oh = 0, om = 0;
	double frac = 0;
	const char *p = s;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (*p == '.') {
		double scale = 0.1;
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -1;
		oh *= sign;
		om *= sign;
	}
	if (*p)
		return -1;
	*t = (double)days_from_civil(y, mo, d) * 86400.0 +
	    (double)(h * 3600 + mi * 60 + sec) + frac -
	    (double)(oh * 3600 + om * 60);
	return 0;
}

/* -- decoding ------------------------------------------------------------- */

static char *
copy_str(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s ? s : "", n);
	return p;
}

/* A string header, or "" (a null or missing one, or not a string). */
static const char *
hstr(const json_t *h, const char *key)
{
	const char *s = json_string_value(json_object_get(h, key));
	return s ? s : "";
}

/* A number of seconds (integer or real), or 0 for null/missing. */
static int
seconds(const json_t *j, double *out)
{
	*out = 0;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_number(j) || json_number_value(j) < 0)
		return -1;
	*out = json_number_value(j);
	return 0;
}

/* A date header (ISO 8601 text, or null). */
static int
when(const json_t *h, const char *key, double *out, celery_exc *exc)
{
	const json_t *j = json_object_get(h, key);

	*out = 0;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j) || celery_parse_time(json_string_value(j), out)) {
		celery_exc_set(exc, "builtins", "ValueError",
		    "header '%s' is not an ISO 8601 date-time", key);
		return -1;
	}
	return 0;
}

static int
shape_error(celery_exc *exc, const char *what)
{
	celery_exc_set(exc, "builtins", "ValueError",
	    "malformed task message: %s", what);
	return WEFT_ETYPE;
}

/* Reads the body: [args, kwargs, embed]. */
static int
parse_body(const broker_msg *m, celery_req *r, celery_exc *exc)
{
	json_error_t je;
	json_t *body, *args, *kwargs, *embed;

	body = json_loadb(m->body, m->body_len, JSON_DECODE_ANY, &je);
	if (!body) {
		celery_exc_set(exc, "kombu.exceptions", "DecodeError",
		    "task body is not JSON: %s (line %d, column %d)", je.text,
		    je.line, je.column);
		return WEFT_EPARSE;
	}
	if (!json_is_array(body) || json_array_size(body) != 3) {
		json_decref(body);
		return shape_error(exc,
		    "the body is not [args, kwargs, embed] (protocol 2)");
	}
	args = json_array_get(body, 0);
	kwargs = json_array_get(body, 1);
	embed = json_array_get(body, 2);
	if (json_is_null(kwargs))
		kwargs = NULL;
	if (!json_is_array(args) || (kwargs && !json_is_object(kwargs)) ||
	    !(json_is_object(embed) || json_is_null(embed))) {
		json_decref(body);
		return shape_error(exc, "args must be a list, kwargs a mapping "
					"and embed a mapping");
	}
	r->args = json_incref(args);
	r->kwargs = kwargs ? json_incref(kwargs) : json_object();
	r->embed = json_is_object(embed) ? json_incref(embed) : json_object();
	json_decref(body);
	if (!r->kwargs || !r->embed) {
		celery_exc_set(exc, "builtins", "MemoryError", "out of memory");
		return WEFT_ENOMEM;
	}
	return WEFT_OK;
}

/* Reads the timing headers: eta, expires, timelimit. */
static int
parse_timing(const json_t *h, celery_req *r, celery_exc *exc)
{
	const json_t *tl = json_object_get(h, "timelimit");

	if (when(h, "eta", &r->eta, exc) || when(h, "expires", &r->expires, exc))
		return WEFT_ETYPE;
	if (tl && !json_is_null(tl)) {
		if (!json_is_array(tl) || json_array_size(tl) != 2 ||
		    seconds(json_array_get(tl, 0), &r->time_limit) ||
		    seconds(json_array_get(tl, 1), &r->soft_time_limit))
			return shape_error(exc, "timelimit is not [hard, soft] "
						"in seconds");
	}
	const json_t *ret = json_object_get(h, "retries");
	r->retries = json_is_integer(ret) ? (int)json_integer_value(ret) : 0;
	r->ignore_result = json_is_true(json_object_get(h, "ignore_result"));
	return WEFT_OK;
}

int
celery_req_parse(const broker_msg *m, celery_req *r, celery_exc *exc)
{
	const json_t *h = m->headers;
	int rc;

	memset(r, 0, sizeof *r);
	celery_exc_set(exc, "builtins", "MemoryError", "out of memory");
	r->id = copy_str(hstr(h, "id"));
	r->task = copy_str(hstr(h, "task"));
	r->root_id = copy_str(hstr(h, "root_id"));
	r->parent_id = copy_str(hstr(h, "parent_id"));
	r->group = copy_str(hstr(h, "group"));
	r->reply_to = copy_str(m->reply_to);
	r->correlation_id = copy_str(m->correlation_id[0] ? m->correlation_id
						     : hstr(h, "id"));
	r->exchange = copy_str(m->exchange);
	r->routing_key = copy_str(m->routing_key);
	r->headers = json_incref(m->headers);
	if (!r->id || !r->task || !r->root_id || !r->parent_id || !r->group ||
	    !r->reply_to || !r->correlation_id || !r->exchange ||
	    !r->routing_key)
		return WEFT_ENOMEM;
	/* Content: kombu's json serializer, UTF-8 text. */
	if (strcmp(m->content_type, "application/json") != 0) {
		celery_exc_set(exc, "kombu.exceptions", "ContentDisallowed",
		    "refusing to deserialize content of type '%s' (this "
		    "worker accepts application/json)",
		    m->content_type[0] ? m->content_type : "(none)");
		return WEFT_ENOSYS;
	}
	if (m->content_encoding[0] &&
	    strcmp(m->content_encoding, "utf-8") != 0 &&
	    strcmp(m->content_encoding, "utf8") != 0) {
		celery_exc_set(exc, "kombu.exceptions", "ContentDisallowed",
		    "unknown content encoding '%s' (this worker accepts utf-8)",
		    m->content_encoding);
		return WEFT_ENOSYS;
	}
	if (!r->task[0] || !r->id[0]) {
		/* Protocol 1 kept both in the body. */
		json_t *b = json_loadb(m->body, m->body_len, 0, NULL);
		const char *id = json_string_value(json_object_get(b, "id"));
		if (id && !r->id[0]) {
			free(r->id);
			r->id = copy_str(id);
		}
		json_decref(b);
		if (!r->id)
			return WEFT_ENOMEM;
		celery_exc_set(exc, "builtins", "ValueError",
		    "not a task message of Celery protocol 2 (no 'task' or "
		    "'id' header); protocol 1 is not supported");
		return WEFT_ENOSYS;
	}
	if ((rc = parse_timing(h, r, exc)) != WEFT_OK)
		return rc;
	return parse_body(m, r, exc);
}

void
celery_req_clear(celery_req *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->task);
	free(r->root_id);
	free(r->parent_id);
	free(r->group);
	free(r->reply_to);
	free(r->correlation_id);
	free(r->exchange);
	free(r->routing_key);
	json_decref(r->args);
	json_decref(r->kwargs);
	json_decref(r->embed);
	json_decref(r->headers);
	memset(r, 0, sizeof *r);
}

/* -- results -------------------------------------------------------------- */

char *
celery_result_body(const char *id, const char *status, const json_t *result,
    const celery_exc *exc, size_t *len)
{
	json_t *meta, *res;
	char *s = NULL;

	if (exc)
		res = json_pack("{s:s,s:[s],s:s}", "exc_type", exc->type,
		    "exc_message", exc->message, "exc_module", exc->module);
	else
		res = result ? json_incref((json_t *)result) : json_null();
	meta = json_pack("{s:s,s:s,s:o,s:o,s:[]}", "task_id", id, "status",
	    status, "result", res, "traceback",
	    exc ? json_sprintf("weft worker: %s: %s", exc->type, exc->message)
		: json_null(),
	    "children");
	if (meta)
		s = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	if (s)
		*len = strlen(s);
	return s;
}

/* -- signatures (chain, callbacks) ----------------------------------------- */

/* A random (version 4) UUID, as Celery's task ids are. */
static void
new_uuid(char out[37])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, b, sizeof b) : -1;

	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)sizeof b) /* unlikely; still unique enough */
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)rand();
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

/* Where a signature goes: its options, else where the parent came from. */
static void
route(const json_t *opts, const celery_req *parent, const char **exchange,
    const char **rkey)
{
	const json_t *q = json_object_get(opts, "queue");
	const char *qname = json_string_value(q);
	const char *ex = json_string_value(json_object_get(opts, "exchange"));
	const char *rk =
	    json_string_value(json_object_get(opts, "routing_key"));

	if (!qname && json_is_object(q)) /* a kombu Queue as a dict */
		qname = json_string_value(json_object_get(q, "name"));
	if (qname || rk || ex) {
		/* A queue of its own: Celery's missing-queue default is an
		 * exchange and routing key named after it. */
		*exchange = ex ? ex : qname ? qname : "";
		*rkey = rk ? rk : qname ? qname : "";
		return;
	}
	*exchange = parent->exchange;
	*rkey = parent->routing_key;
}

int
celery_sig_message(const json_t *sig, const json_t *prev, const json_t *chain,
    const celery_req *parent, celery_out *o, char *err, size_t errsize)
{
	const char *task = json_string_value(json_object_get(sig, "task"));
	const json_t *args = json_object_get(sig, "args");
	const json_t *kwargs = json_object_get(sig, "kwargs");
	const json_t *opts = json_object_get(sig, "options");
	const char *id, *reply_to, *exchange, *rkey;
	json_t *all_args, *body;
	char uuid[37];

	memset(o, 0, sizeof *o);
	if (!json_is_object(sig) || !task) {
		snprintf(err, errsize, "not a task signature (no 'task')");
		return WEFT_ETYPE;
	}
	if (args && !json_is_null(args) && !json_is_array(args)) {
		snprintf(err, errsize, "signature '%s': args is not a list",
		    task);
		return WEFT_ETYPE;
	}
	id = json_string_value(json_object_get(opts, "task_id"));
	if (!id) {
		new_uuid(uuid);
		id = uuid;
	}
	reply_to = json_string_value(json_object_get(opts, "reply_to"));
	route(opts, parent, &exchange, &rkey);

	all_args = json_array();
	if (prev && all_args &&
	    !json_is_true(json_object_get(sig, "immutable")))
		json_array_append(all_args, (json_t *)prev);
	if (all_args && json_is_array(args))
		json_array_extend(all_args, (json_t *)args);
	body = json_pack("[o,O,{s:O,s:O,s:O,s:O}]", all_args,
	    json_is_object(kwargs) ? kwargs : json_object(), "callbacks",
	    json_object_get(opts, "link") ? json_object_get(opts, "link")
					  : json_null(),
	    "errbacks",
	    json_object_get(opts, "link_error")
		? json_object_get(opts, "link_error")
		: json_null(),
	    "chain", chain ? chain : json_null(), "chord",
	    json_object_get(opts, "chord") ? json_object_get(opts, "chord")
					   : json_null());
	o->headers = json_pack("{s:s,s:s,s:s,s:n,s:n,s:n,s:O,s:i,s:[n,n],"
			       "s:s,s:s,s:s,s:b}",
	    "lang", "py", "task", task, "id", id, "shadow", "eta", "expires",
	    "group",
	    json_object_get(opts, "group_id") ? json_object_get(opts, "group_id")
					      : json_null(),
	    "retries", 0, "timelimit", "root_id",
	    parent->root_id[0] ? parent->root_id : parent->id, "parent_id",
	    parent->id, "origin", "weft-worker", "ignore_result", 0);
	o->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	o->id = copy_str(id);
	o->reply_to = copy_str(reply_to);
	o->exchange = copy_str(exchange);
	o->routing_key = copy_str(rkey);
	if (!o->headers || !o->body || !o->id || !o->reply_to ||
	    !o->exchange || !o->routing_key) {
		celery_out_clear(o);
		snprintf(err, errsize, "out of memory");
		return WEFT_ENOMEM;
	}
	o->out.exchange = o->exchange;
	o->out.routing_key = o->routing_key;
	o->out.content_type = "application/json";
	o->out.content_encoding = "utf-8";
	o->out.correlation_id = o->id;
	o->out.reply_to = o->reply_to;
	o->out.headers = o->headers;
	o->out.body = o->body;
	o->out.body_len = strlen(o->body);
	o->out.persistent = 1;
	return WEFT_OK;
}

void
celery_out_clear(celery_out *o)
{
	if (!o)
		return;
	free(o->body);
	json_decref(o->headers);
	free(o->id);
	free(o->reply_to);
	free(o->exchange);
	free(o->routing_key);
	memset(o, 0, sizeof *o);
}
