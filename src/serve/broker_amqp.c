/*
 * The broker interface (broker.h) over AMQP 0-9-1 with rabbitmq-c. One
 * connection, one channel (1). Headers travel as AMQP field tables and are
 * turned into JSON objects (and back), so the layer above never sees
 * rabbitmq-c's types.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "broker.h"
#include "errbuf.h"
#include "weft.h"

enum { CHANNEL = 1, FRAME_MAX = 131072 };

struct broker {
	amqp_connection_state_t conn;
	int open; /* the channel is open: close it politely at the end */
	char consumer_tags[16][64];
	size_t nconsumers;
};

static struct timeval
to_timeval(double s)
{
	struct timeval tv;

	if (s < 0)
		s = 0;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* What went wrong with the last request/reply, in words. */
static const char *
reply_text(amqp_rpc_reply_t r, char *buf, size_t size)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return "ok";
	case AMQP_RESPONSE_NONE:
		return "no reply (missing RPC reply type)";
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return amqp_error_string2(r.library_error);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			snprintf(buf, size, "broker closed the connection: %u %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (const char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			snprintf(buf, size, "broker closed the channel: %u %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (const char *)m->reply_text.bytes);
		} else {
			snprintf(buf, size, "broker error (method 0x%08x)",
			    (unsigned)r.reply.id);
		}
		return buf;
	}
	return "unknown reply";
}

/* WEFT_OK, or WEFT_EIO with `what` and why in err. */
static int
check_reply(broker *b, const char *what, char *err, size_t errsize)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(b->conn);
	char buf[300];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return WEFT_OK;
	return serve_fail(err, errsize, WEFT_EIO, "%s: %s", what,
	    reply_text(r, buf, sizeof buf));
}

/* -- opening ------------------------------------------------------------- */

/* A copy of `url` that rabbitmq-c parses as kombu would: pyamqp:// and
 * librabbitmq:// as amqp://, and a '/' inside the vhost ("amqp://h//" is
 * vhost "/") percent-encoded. */
static char *
normal_url(const char *url)
{
	static const char *const aliases[] = { "pyamqp://", "librabbitmq://" };
	const char *rest = url, *host, *path;
	char *s, *o;

	for (size_t i = 0; i < 2; i++)
		if (strncmp(url, aliases[i], strlen(aliases[i])) == 0)
			rest = url + strlen(aliases[i]) - 3; /* keep "://" */
	s = malloc(strlen(rest) * 3 + 8);
	if (!s)
		return NULL;
	host = strstr(rest, "://");
	path = host ? strchr(host + 3, '/') : NULL;
	o = s + sprintf(s, "%s%.*s", rest == url ? "" : "amqp",
		    path ? (int)(path + 1 - rest) : (int)strlen(rest), rest);
	for (const char *p = path ? path + 1 : ""; *p; p++)
		o += *p == '/' ? sprintf(o, "%%2f") : sprintf(o, "%c", *p);
	*o = 0;
	return s;
}

int
broker_open(broker **out, const char *url, double timeout_s,
    unsigned heartbeat_s, char *err, size_t errsize)
{
	struct amqp_connection_info ci;
	amqp_socket_t *sock;
	struct timeval tv = to_timeval(timeout_s);
	char *u = normal_url(url);
	broker *b;
	int rc;

	*out = NULL;
	if (!u)
		return serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(u, &ci) != AMQP_STATUS_OK) {
		free(u);
		return serve_fail(err, errsize, WEFT_EINVAL,
		    "'%s' is not a broker URL "
		    "(amqp://USER:PASS@HOST:PORT/VHOST)",
		    url);
	}
	if (ci.ssl) {
		free(u);
		return serve_fail(err, errsize, WEFT_EINVAL,
		    "'%s': amqps (TLS) is not supported", url);
	}
	/* kombu reads "amqp://host/" as the default vhost "/". */
	if (!ci.vhost || !ci.vhost[0])
		ci.vhost = "/";
	b = calloc(1, sizeof *b);
	if (!b || !(b->conn = amqp_new_connection())) {
		free(b);
		free(u);
		return serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
	}
	amqp_set_handshake_timeout(b->conn, &tv);
	amqp_set_rpc_timeout(b->conn, &tv);
	sock = amqp_tcp_socket_new(b->conn);
	if (!sock) {
		rc = serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
		goto bad;
	}
	rc = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (rc != AMQP_STATUS_OK) {
		rc = serve_fail(err, errsize, WEFT_EIO, "cannot connect to %s:%d: %s",
		    ci.host, ci.port, amqp_error_string2(rc));
		goto bad;
	}
	amqp_rpc_reply_t r = amqp_login(b->conn, ci.vhost, 0, FRAME_MAX,
	    heartbeat_s > 65535 ? 65535 : (int)heartbeat_s, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		char buf[300];
		rc = serve_fail(err, errsize, WEFT_EIO,
		    "cannot log in to %s:%d vhost '%s' as '%s': %s", ci.host,
		    ci.port, ci.vhost, ci.user, reply_text(r, buf, sizeof buf));
		goto bad;
	}
	amqp_channel_open(b->conn, CHANNEL);
	rc = check_reply(b, "cannot open a channel", err, errsize);
	if (rc != WEFT_OK)
		goto bad;
	b->open = 1;
	free(u);
	*out = b;
	return WEFT_OK;
bad:
	free(u);
	broker_free(b);
	return rc;
}

void
broker_free(broker *b)
{
	if (!b)
		return;
	if (b->open) {
		/* Bounded by the RPC timeout set at open. */
		amqp_channel_close(b->conn, CHANNEL, AMQP_REPLY_SUCCESS);
		amqp_connection_close(b->conn, AMQP_REPLY_SUCCESS);
	}
	amqp_destroy_connection(b->conn);
	free(b);
}

/* -- consuming ----------------------------------------------------------- */

int
broker_consume(broker *b, size_t n, const char *const *queues,
    unsigned prefetch, char *err, size_t errsize)
{
	int rc;

	if (n > sizeof b->consumer_tags / sizeof b->consumer_tags[0])
		return serve_fail(err, errsize, WEFT_EINVAL, "at most %zu queues",
		    sizeof b->consumer_tags / sizeof b->consumer_tags[0]);
	if (prefetch > 65535)
		prefetch = 65535; /* prefetch-count is a short */
	amqp_basic_qos(b->conn, CHANNEL, 0, (uint16_t)prefetch, 0);
	if ((rc = check_reply(b, "basic.qos", err, errsize)) != WEFT_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		amqp_bytes_t q = amqp_cstring_bytes(queues[i]);
		char what[300];

		snprintf(what, sizeof what, "cannot declare exchange '%s'",
		    queues[i]);
		amqp_exchange_declare(b->conn, CHANNEL, q,
		    amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
		if ((rc = check_reply(b, what, err, errsize)) != WEFT_OK)
			return rc;
		snprintf(what, sizeof what, "cannot declare queue '%s'",
		    queues[i]);
		amqp_queue_declare(b->conn, CHANNEL, q, 0, 1, 0, 0,
		    amqp_empty_table);
		if ((rc = check_reply(b, what, err, errsize)) != WEFT_OK)
			return rc;
		amqp_queue_bind(b->conn, CHANNEL, q, q, q, amqp_empty_table);
		if ((rc = check_reply(b, "queue.bind", err, errsize)) != WEFT_OK)
			return rc;
		amqp_basic_consume_ok_t *ok = amqp_basic_consume(b->conn,
		    CHANNEL, q, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
		snprintf(what, sizeof what, "cannot consume from '%s'",
		    queues[i]);
		if ((rc = check_reply(b, what, err, errsize)) != WEFT_OK)
			return rc;
		snprintf(b->consumer_tags[i], sizeof b->consumer_tags[i],
		    "%.*s", (int)ok->consumer_tag.len,
		    (const char *)ok->consumer_tag.bytes);
		b->nconsumers = i + 1;
	}
	return WEFT_OK;
}

int
broker_set_prefetch(broker *b, unsigned prefetch)
{
	if (prefetch > 65535)
		prefetch = 65535;
	amqp_basic_qos(b->conn, CHANNEL, 0, (uint16_t)prefetch, 0);
	return check_reply(b, "basic.qos", NULL, 0);
}

int
broker_cancel(broker *b)
{
	int rc = WEFT_OK;

	for (size_t i = 0; i < b->nconsumers; i++) {
		amqp_basic_cancel(b->conn, CHANNEL,
		    amqp_cstring_bytes(b->consumer_tags[i]));
		if (check_reply(b, "basic.cancel", NULL, 0) != WEFT_OK)
			rc = WEFT_EIO;
	}
	b->nconsumers = 0;
	return rc;
}

int
broker_fd(const broker *b)
{
	return amqp_get_sockfd(b->conn);
}

int
broker_has_buffered(const broker *b)
{
	return amqp_data_in_buffer(b->conn) || amqp_frames_enqueued(b->conn);
}

/* -- headers: AMQP field tables <-> JSON ----------------------------------- */

static json_t *table_to_json(const amqp_table_t *t);

static json_t *
bytes_to_json(amqp_bytes_t s)
{
	json_t *j = json_stringn(s.bytes ? s.bytes : "", s.len);
	/* Not UTF-8: no JSON string; the header reads as null. */
	return j ? j : json_null();
}

static json_t *
field_to_json(const amqp_field_value_t *f)
{
	switch (f->kind) {
	case AMQP_FIELD_KIND_BOOLEAN:
		return json_boolean(f->value.boolean);
	case AMQP_FIELD_KIND_I8:
		return json_integer(f->value.i8);
	case AMQP_FIELD_KIND_U8:
		return json_integer(f->value.u8);
	case AMQP_FIELD_KIND_I16:
		return json_integer(f->value.i16);
	case AMQP_FIELD_KIND_U16:
		return json_integer(f->value.u16);
	case AMQP_FIELD_KIND_I32:
		return json_integer(f->value.i32);
	case AMQP_FIELD_KIND_U32:
		return json_integer(f->value.u32);
	case AMQP_FIELD_KIND_I64:
		return json_integer(f->value.i64);
	case AMQP_FIELD_KIND_U64:
	case AMQP_FIELD_KIND_TIMESTAMP:
		return json_integer((json_int_t)f->value.u64);
	case AMQP_FIELD_KIND_F32:
		return isfinite(f->value.f32) ? json_real(f->value.f32)
					      : json_null();
	case AMQP_FIELD_KIND_F64:
		return isfinite(f->value.f64) ? json_real(f->value.f64)
					      : json_null();
	case AMQP_FIELD_KIND_DECIMAL:
		return json_real((double)f->value.decimal.value /
		    pow(10, f->value.decimal.decimals));
	case AMQP_FIELD_KIND_UTF8:
	case AMQP_FIELD_KIND_BYTES:
		return bytes_to_json(f->value.bytes);
	case AMQP_FIELD_KIND_ARRAY: {
		json_t *a = json_array();
		for (int i = 0; a && i < f->value.array.num_entries; i++)
			if (json_array_append_new(a,
				field_to_json(&f->value.array.entries[i])) != 0) {
				json_decref(a);
				a = NULL;
			}
		return a;
	}
	case AMQP_FIELD_KIND_TABLE:
		return table_to_json(&f->value.table);
	default:
		return json_null();
	}
}

static json_t *
table_to_json(const amqp_table_t *t)
{
	json_t *o = json_object();

	for (int i = 0; o && i < t->num_entries; i++) {
		const amqp_table_entry_t *e = &t->entries[i];
		char key[256];
		json_t *v = field_to_json(&e->value);

		snprintf(key, sizeof key, "%.*s", (int)e->key.len,
		    (const char *)e->key.bytes);
		if (!v || json_object_set_new(o, key, v) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* Builds the field of `j` with memory from `pool`; strings point into `j`,
 * which must outlive the publish. 0 or WEFT_ETYPE / WEFT_ENOMEM. */
static int json_to_table(const json_t *j, amqp_table_t *t, amqp_pool_t *pool);

static int
json_to_field(const json_t *j, amqp_field_value_t *f, amqp_pool_t *pool)
{
	switch (json_typeof(j)) {
	case JSON_NULL:
		f->kind = AMQP_FIELD_KIND_VOID;
		return WEFT_OK;
	case JSON_TRUE:
	case JSON_FALSE:
		f->kind = AMQP_FIELD_KIND_BOOLEAN;
		f->value.boolean = json_is_true(j);
		return WEFT_OK;
	case JSON_INTEGER:
		f->kind = AMQP_FIELD_KIND_I64;
		f->value.i64 = json_integer_value(j);
		return WEFT_OK;
	case JSON_REAL:
		f->kind = AMQP_FIELD_KIND_F64;
		f->value.f64 = json_real_value(j);
		return WEFT_OK;
	case JSON_STRING:
		f->kind = AMQP_FIELD_KIND_UTF8;
		f->value.bytes.bytes = (void *)json_string_value(j);
		f->value.bytes.len = json_string_length(j);
		return WEFT_OK;
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		f->kind = AMQP_FIELD_KIND_ARRAY;
		f->value.array.num_entries = (int)n;
		f->value.array.entries =
		    n ? amqp_pool_alloc(pool, n * sizeof(amqp_field_value_t))
		      : NULL;
		if (n && !f->value.array.entries)
			return WEFT_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			int rc = json_to_field(json_array_get(j, i),
			    &f->value.array.entries[i], pool);
			if (rc != WEFT_OK)
				return rc;
		}
		return WEFT_OK;
	}
	case JSON_OBJECT:
		f->kind = AMQP_FIELD_KIND_TABLE;
		return json_to_table(j, &f->value.table, pool);
	}
	return WEFT_ETYPE;
}

static int
json_to_table(const json_t *j, amqp_table_t *t, amqp_pool_t *pool)
{
	size_t n = json_object_size(j), i = 0;
	const char *key;
	json_t *v;

	t->num_entries = 0;
	t->entries = n ? amqp_pool_alloc(pool, n * sizeof(amqp_table_entry_t))
		       : NULL;
	if (n && !t->entries)
		return WEFT_ENOMEM;
	json_object_foreach((json_t *)j, key, v)
	{
		t->entries[i].key = amqp_cstring_bytes(key);
		int rc = json_to_field(v, &t->entries[i].value, pool);
		if (rc != WEFT_OK)
			return rc;
		t->num_entries = (int)++i;
	}
	return WEFT_OK;
}

/* -- receiving ------------------------------------------------------------ */

static char *
dup_bytes(amqp_bytes_t s)
{
	char *p = malloc(s.len + 1);

	if (p) {
		if (s.len)
			memcpy(p, s.bytes, s.len);
		p[s.len] = 0;
	}
	return p;
}

/* A property's text, or "" when the flag says it is absent. */
static char *
prop(const amqp_basic_properties_t *p, amqp_flags_t flag, amqp_bytes_t s)
{
	return dup_bytes((p->_flags & flag) ? s : amqp_empty_bytes);
}

/* consume_message met a frame that is not a delivery: read it and decide
 * whether the connection is still usable. */
static int
other_frame(broker *b, char *err, size_t errsize)
{
	amqp_frame_t frame;
	int rc = amqp_simple_wait_frame_noblock(b->conn, &frame,
	    &(struct timeval) { 0, 0 });

	if (rc == AMQP_STATUS_TIMEOUT)
		return WEFT_ETIMEDOUT;
	if (rc != AMQP_STATUS_OK)
		return serve_fail(err, errsize, WEFT_EIO, "connection lost: %s",
		    amqp_error_string2(rc));
	if (frame.frame_type != AMQP_FRAME_METHOD)
		return WEFT_ETIMEDOUT; /* a stray header or body: skip it */
	switch (frame.payload.method.id) {
	case AMQP_CHANNEL_CLOSE_METHOD:
		amqp_send_method(b->conn, CHANNEL,
		    AMQP_CHANNEL_CLOSE_OK_METHOD,
		    &(amqp_channel_close_ok_t) { 0 });
		b->open = 0;
		return serve_fail(err, errsize, WEFT_EIO, "the broker closed the "
						   "channel");
	case AMQP_CONNECTION_CLOSE_METHOD:
		amqp_send_method(b->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
		    &(amqp_connection_close_ok_t) { 0 });
		b->open = 0;
		return serve_fail(err, errsize, WEFT_EIO,
		    "the broker closed the connection");
	case AMQP_BASIC_CANCEL_METHOD:
		/* The queue was deleted under us: start again. */
		return serve_fail(err, errsize, WEFT_EIO,
		    "the broker canceled the consumer (queue deleted?)");
	default:
		return WEFT_ETIMEDOUT; /* basic.ack, qos-ok, ...: nothing to do */
	}
}

int
broker_next(broker *b, double timeout_s, broker_msg *m, char *err,
    size_t errsize)
{
	amqp_envelope_t env;
	struct timeval tv = to_timeval(timeout_s);
	amqp_rpc_reply_t r;
	const amqp_basic_properties_t *p;

	memset(m, 0, sizeof *m);
	amqp_maybe_release_buffers(b->conn);
	r = amqp_consume_message(b->conn, &env, &tv, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
			if (r.library_error == AMQP_STATUS_TIMEOUT)
				return WEFT_ETIMEDOUT;
			if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
				return other_frame(b, err, errsize);
			b->open = 0;
			return serve_fail(err, errsize, WEFT_EIO, "connection lost: %s",
			    amqp_error_string2(r.library_error));
		}
		char buf[300];
		b->open = 0;
		return serve_fail(err, errsize, WEFT_EIO, "%s",
		    reply_text(r, buf, sizeof buf));
	}
	p = &env.message.properties;
	m->tag = env.delivery_tag;
	m->redelivered = env.redelivered;
	m->body = dup_bytes(env.message.body);
	m->body_len = env.message.body.len;
	m->headers = (p->_flags & AMQP_BASIC_HEADERS_FLAG)
	    ? table_to_json(&p->headers)
	    : json_object();
	m->content_type =
	    prop(p, AMQP_BASIC_CONTENT_TYPE_FLAG, p->content_type);
	m->content_encoding =
	    prop(p, AMQP_BASIC_CONTENT_ENCODING_FLAG, p->content_encoding);
	m->correlation_id =
	    prop(p, AMQP_BASIC_CORRELATION_ID_FLAG, p->correlation_id);
	m->reply_to = prop(p, AMQP_BASIC_REPLY_TO_FLAG, p->reply_to);
	m->exchange = dup_bytes(env.exchange);
	m->routing_key = dup_bytes(env.routing_key);
	amqp_destroy_envelope(&env);
	if (!m->body || !m->headers || !m->content_type ||
	    !m->content_encoding || !m->correlation_id || !m->reply_to ||
	    !m->exchange || !m->routing_key) {
		/* Unacked: the broker delivers it again after a reconnect. */
		broker_msg_clear(m);
		return serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
	}
	return WEFT_OK;
}

void
broker_msg_clear(broker_msg *m)
{
	if (!m)
		return;
	free(m->body);
	json_decref(m->headers);
	free(m->content_type);
	free(m->content_encoding);
	free(m->correlation_id);
	free(m->reply_to);
	free(m->exchange);
	free(m->routing_key);
	memset(m, 0, sizeof *m);
}

/* -- sending -------------------------------------------------------------- */

static void
set_prop(amqp_basic_properties_t *p, amqp_flags_t flag, amqp_bytes_t *field,
    const char *s)
{
	if (s && s[0]) {
		p->_flags |= flag;
		*field = amqp_cstring_bytes(s);
	}
}

int
broker_publish(broker *b, const broker_out *o, char *err, size_t errsize)
{
	amqp_basic_properties_t p;
	amqp_pool_t pool;
	amqp_bytes_t body = { o->body_len, (void *)o->body };
	int rc = WEFT_OK;

	memset(&p, 0, sizeof p);
	set_prop(&p, AMQP_BASIC_CONTENT_TYPE_FLAG, &p.content_type,
	    o->content_type);
	set_prop(&p, AMQP_BASIC_CONTENT_ENCODING_FLAG, &p.content_encoding,
	    o->content_encoding);
	set_prop(&p, AMQP_BASIC_CORRELATION_ID_FLAG, &p.correlation_id,
	    o->correlation_id);
	set_prop(&p, AMQP_BASIC_REPLY_TO_FLAG, &p.reply_to, o->reply_to);
	p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
	p.delivery_mode = o->persistent ? 2 : 1;
	init_amqp_pool(&pool, 4096);
	if (o->headers && json_object_size(o->headers)) {
		p._flags |= AMQP_BASIC_HEADERS_FLAG;
		rc = json_to_table(o->headers, &p.headers, &pool);
	}
	if (rc == WEFT_OK) {
		int st = amqp_basic_publish(b->conn, CHANNEL,
		    amqp_cstring_bytes(o->exchange ? o->exchange : ""),
		    amqp_cstring_bytes(o->routing_key ? o->routing_key : ""),
		    0, 0, &p, body);
		if (st != AMQP_STATUS_OK) {
			b->open = st == AMQP_STATUS_SOCKET_ERROR ||
				st == AMQP_STATUS_CONNECTION_CLOSED
			    ? 0
			    : b->open;
			rc = serve_fail(err, errsize, WEFT_EIO, "publish: %s",
			    amqp_error_string2(st));
		}
	} else {
		serve_fail(err, errsize, rc, "publish: headers: %s",
		    rc == WEFT_ENOMEM ? "out of memory"
				      : "a value with no AMQP form");
	}
	empty_amqp_pool(&pool);
	return rc;
}

int
broker_ack(broker *b, uint64_t tag, int multiple)
{
	return amqp_basic_ack(b->conn, CHANNEL, tag, multiple != 0) ==
		AMQP_STATUS_OK
	    ? WEFT_OK
	    : WEFT_EIO;
}

int
broker_reject(broker *b, uint64_t tag, int requeue)
{
	return amqp_basic_reject(b->conn, CHANNEL, tag, requeue) ==
		AMQP_STATUS_OK
	    ? WEFT_OK
	    : WEFT_EIO;
}
