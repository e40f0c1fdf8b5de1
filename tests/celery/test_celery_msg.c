/*
 * The Celery message format without a broker: dates, decoding task
 * messages (good and malformed), result bodies, and chain/callback messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "celery_msg.h"
#include "weft.h"

static void
test_times(void **state)
{
	double t;

	(void)state;
	assert_int_equal(celery_parse_time("1970-01-01T00:00:00", &t), 0);
	assert_true(t == 0);
	assert_int_equal(
	    celery_parse_time("2024-05-01T12:00:00.5+02:00", &t), 0);
	assert_true(t == 1714557600.5);
	assert_int_equal(celery_parse_time("2000-02-29T23:59:59Z", &t), 0);
	assert_true(t == 951868799);
	assert_int_equal(celery_parse_time("1969-12-31T23:00:00-01:30", &t), 0);
	assert_true(t == 1800);
	const char *bad[] = { "", "2024-05-01", "2024-13-01T00:00:00",
		"2024-05-01T12:00", "2024-05-01T12:00:00+2", "2024-05-01T12:00:00x",
		"2024-05-01T12:00:00.", "yesterday" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(celery_parse_time(bad[i], &t), -1);
}

/* A delivered message as the transport would hand it over. */
static broker_msg
msg(const char *headers, const char *body, const char *ctype)
{
	broker_msg m;

	memset(&m, 0, sizeof m);
	m.headers = json_loads(headers, 0, NULL);
	assert_non_null(m.headers);
	m.body = strdup(body);
	m.body_len = strlen(body);
	m.content_type = strdup(ctype);
	m.content_encoding = strdup("utf-8");
	m.correlation_id = strdup("");
	m.reply_to = strdup("client-oid");
	m.exchange = strdup("celery");
	m.routing_key = strdup("celery");
	return m;
}

static void
test_parse_good(void **state)
{
	broker_msg m = msg("{\"task\": \"app.add\", \"id\": \"T1\", "
			   "\"eta\": \"1970-01-01T00:01:00+00:00\", "
			   "\"expires\": null, \"timelimit\": [5, 2.5], "
			   "\"retries\": 3, \"root_id\": \"R\"}",
	    "[[4, 6], {}, {\"callbacks\": null, \"chain\": null}]",
	    "application/json");
	celery_req r;
	celery_exc e;

	(void)state;
	assert_int_equal(celery_req_parse(&m, &r, &e), WEFT_OK);
	assert_string_equal(r.task, "app.add");
	assert_string_equal(r.id, "T1");
	assert_string_equal(r.correlation_id, "T1"); /* id when none */
	assert_string_equal(r.reply_to, "client-oid");
	assert_int_equal(json_array_size(r.args), 2);
	assert_true(r.eta == 60 && r.expires == 0);
	assert_true(r.time_limit == 5 && r.soft_time_limit == 2.5);
	assert_int_equal(r.retries, 3);
	celery_req_clear(&r);
	broker_msg_clear(&m);
}

static void
expect_refused(const char *headers, const char *body, const char *ctype,
    int rc, const char *exc_type, const char *id)
{
	broker_msg m = msg(headers, body, ctype);
	celery_req r;
	celery_exc e;

	assert_int_equal(celery_req_parse(&m, &r, &e), rc);
	assert_string_equal(e.type, exc_type);
	assert_string_equal(r.id ? r.id : "", id);
	celery_req_clear(&r);
	broker_msg_clear(&m);
}

static void
test_parse_refusals(void **state)
{
	const char *h = "{\"task\": \"a.add\", \"id\": \"X\"}";

	(void)state;
	expect_refused(h, "[[1], {}, {", "application/json", WEFT_EPARSE,
	    "DecodeError", "X");
	expect_refused(h, "{\"args\": []}", "application/json", WEFT_ETYPE,
	    "ValueError", "X");
	expect_refused(h, "[1, {}, {}]", "application/json", WEFT_ETYPE,
	    "ValueError", "X");
	expect_refused(h, "[[], [], {}]", "application/json", WEFT_ETYPE,
	    "ValueError", "X");
	expect_refused(h, "[[], {}, {}]", "application/x-python-serialize",
	    WEFT_ENOSYS, "ContentDisallowed", "X");
	expect_refused("{\"task\": \"a\", \"id\": \"X\", \"eta\": \"soon\"}",
	    "[[], {}, {}]", "application/json", WEFT_ETYPE, "ValueError",
	    "X");
	expect_refused("{\"task\": \"a\", \"id\": \"X\", \"timelimit\": 5}",
	    "[[], {}, {}]", "application/json", WEFT_ETYPE, "ValueError",
	    "X");
	/* Protocol 1: the id is in the body, and still answered. */
	expect_refused("{}", "{\"task\": \"a.add\", \"id\": \"P1\"}",
	    "application/json", WEFT_ENOSYS, "ValueError", "P1");
}

static void
test_result_body(void **state)
{
	size_t len;
	json_t *v = json_integer(10), *j;
	char *s = celery_result_body("T", "SUCCESS", v, NULL, &len);
	celery_exc e;

	(void)state;
	j = json_loads(s, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "result")), 10);
	assert_string_equal(
	    json_string_value(json_object_get(j, "status")), "SUCCESS");
	assert_string_equal(
	    json_string_value(json_object_get(j, "task_id")), "T");
	assert_true(json_is_array(json_object_get(j, "children")));
	json_decref(j);
	free(s);
	celery_exc_set(&e, "builtins", "TypeError", "add() takes %d", 2);
	s = celery_result_body("T", "FAILURE", NULL, &e, &len);
	j = json_loads(s, 0, NULL);
	json_t *res = json_object_get(j, "result");
	assert_string_equal(
	    json_string_value(json_object_get(res, "exc_type")), "TypeError");
	assert_string_equal(
	    json_string_value(json_object_get(res, "exc_module")), "builtins");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(res, "exc_message"), 0)),
	    "add() takes 2");
	json_decref(j);
	free(s);
	json_decref(v);
}

static void
test_signature_messages(void **state)
{
	celery_req parent = { 0 };
	celery_out o;
	char err[256];
	json_t *prev = json_integer(3), *body;
	json_t *sig = json_loads("{\"task\": \"app.add\", \"args\": [4], "
				 "\"kwargs\": {}, \"options\": {\"task_id\": "
				 "\"C2\", \"reply_to\": \"oid\"}, "
				 "\"immutable\": false}",
	    0, NULL);
	json_t *rest = json_loads("[{\"task\": \"app.mul\"}]", 0, NULL);

	(void)state;
	parent.id = "P";
	parent.root_id = "";
	parent.exchange = "q";
	parent.routing_key = "q";
	assert_int_equal(celery_sig_message(sig, prev, rest, &parent, &o, err,
			     sizeof err),
	    WEFT_OK);
	assert_string_equal(o.out.correlation_id, "C2");
	assert_string_equal(o.out.reply_to, "oid");
	assert_string_equal(o.out.exchange, "q"); /* where the parent was */
	assert_string_equal(
	    json_string_value(json_object_get(o.headers, "parent_id")), "P");
	assert_string_equal(
	    json_string_value(json_object_get(o.headers, "root_id")), "P");
	body = json_loads(o.body, 0, NULL);
	/* The result first, then the signature's own args. */
	assert_int_equal(json_integer_value(json_array_get(
			     json_array_get(body, 0), 0)),
	    3);
	assert_int_equal(json_integer_value(json_array_get(
			     json_array_get(body, 0), 1)),
	    4);
	assert_true(json_equal(
	    json_object_get(json_array_get(body, 2), "chain"), rest));
	json_decref(body);
	celery_out_clear(&o);

	/* Immutable: no result prepended; a queue option routes it. */
	json_object_set_new(sig, "immutable", json_true());
	json_object_set_new(json_object_get(sig, "options"), "queue",
	    json_string("other"));
	assert_int_equal(celery_sig_message(sig, prev, NULL, &parent, &o, err,
			     sizeof err),
	    WEFT_OK);
	assert_string_equal(o.out.exchange, "other");
	assert_string_equal(o.out.routing_key, "other");
	body = json_loads(o.body, 0, NULL);
	assert_int_equal(json_array_size(json_array_get(body, 0)), 1);
	json_decref(body);
	celery_out_clear(&o);

	json_t *junk = json_string("not a signature");
	assert_int_equal(celery_sig_message(junk, prev, NULL, &parent, &o, err,
			     sizeof err),
	    WEFT_ETYPE);
	json_decref(junk);
	json_decref(sig);
	json_decref(rest);
	json_decref(prev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_result_body),
		cmocka_unit_test(test_signature_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
