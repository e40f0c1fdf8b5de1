/*
 * The front-end layer (src/front) and the value writer under it
 * (weft/write.h): strict numbers, pool options, the bounded writer, the
 * run options, and a writer that stops at its sink's first refusal and
 * measures what it would write exactly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front.h"

/* -- the writer ------------------------------------------------------------ */

/* A list of `levels` levels, each the one below twice: 2^levels leaves. */
static weft_value
shared_list(int levels)
{
	weft_value v = weft_int(7);

	for (int i = 0; i < levels; i++) {
		weft_value l;
		assert_int_equal(weft_list_new(2, &l), WEFT_OK);
		weft_list_set(&l, 0, weft_value_retain(v));
		weft_list_set(&l, 1, v);
		v = l;
	}
	return v;
}

struct capture {
	char *p;
	size_t len, cap;
	size_t calls, after_stop, stop_at;
	int stopped;
};

static int
capture_sink(void *ud, const char *s, size_t n)
{
	struct capture *c = ud;

	c->calls++;
	if (c->stopped) {
		c->after_stop++;
		return WEFT_EIO;
	}
	if (c->stop_at && c->len + n > c->stop_at) {
		c->stopped = 1;
		return WEFT_EIO;
	}
	if (c->len + n + 1 > c->cap) {
		c->cap = 2 * (c->len + n + 1);
		c->p = realloc(c->p, c->cap);
		assert_non_null(c->p);
	}
	memcpy(c->p + c->len, s, n);
	c->len += n;
	c->p[c->len] = '\0';
	return WEFT_OK;
}

static void
test_write_stops_at_first_error(void **state)
{
	weft_value v = shared_list(40); /* 5 TB of text */
	struct capture c = { 0 };

	(void)state;
	c.stop_at = 1000;
	assert_int_equal(weft_value_write_to(capture_sink, &c, v, 0), WEFT_EIO);
	assert_true(c.stopped);
	assert_int_equal(c.after_stop, 0); /* never called again */
	assert_true(c.len <= 1000);
	free(c.p);
	weft_value_release(&v);
}

static void
test_write_to_file_error(void **state)
{
	weft_value v = shared_list(40);
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	errno = 0;
	/* Ends at the first failed write, not after walking 5 TB. */
	assert_int_equal(weft_value_write(f, v, 0), WEFT_EIO);
	assert_int_equal(errno, ENOSPC);
	fclose(f);
	weft_value_release(&v);
	assert_int_equal(weft_value_write_to(NULL, NULL, v, 0), WEFT_EINVAL);
	assert_int_equal(
	    weft_value_write_to(capture_sink, NULL, v, 8), WEFT_EINVAL);
}

/* weft_value_write_size() is exactly what the writer writes. */
static void
check_size(weft_value v)
{
	for (unsigned flags = 0; flags <= WEFT_WRITE_TEXT; flags++) {
		struct capture c = { 0 };
		uint64_t size = 12345;
		assert_int_equal(
		    weft_value_write_to(capture_sink, &c, v, flags), WEFT_OK);
		assert_int_equal(weft_value_write_size(v, flags, &size), WEFT_OK);
		assert_int_equal(size, c.len);
		free(c.p);
	}
}

static void
test_write_size_exact(void **state)
{
	static const double d[] = { 0.1, -0.0, 1e300, 0.0 / 0.0, 1.0 / 0.0 };
	static const unsigned char raw[] = { 0, 1, 0xff, 0x80, 'a' };
	weft_value items[10], l, outer;
	uint64_t size;

	(void)state;
	items[0] = weft_nil();
	items[1] = weft_bool(true);
	items[2] = weft_int(-1234567890123);
	items[3] = weft_float(2.5);
	items[4] = weft_str("quote \" backslash \\ tab \t nl \n \x01 caf\xc3\xa9");
	items[5] = weft_str_n("bad \xff\xfe utf8", 12);
	items[6] = weft_bytes(raw, sizeof(raw));
	assert_int_equal(weft_f64s_new(5, d, &items[7]), WEFT_OK);
	items[8] = shared_list(5);
	assert_int_equal(weft_list_new(0, &items[9]), WEFT_OK);
	for (size_t i = 0; i < 10; i++)
		check_size(items[i]);
	/* A list of all of them, shared twice, and nested. */
	assert_int_equal(weft_list_new(10, &l), WEFT_OK);
	for (size_t i = 0; i < 10; i++)
		weft_list_set(&l, i, weft_value_retain(items[i]));
	assert_int_equal(weft_list_new(3, &outer), WEFT_OK);
	weft_list_set(&outer, 0, weft_value_retain(l));
	weft_list_set(&outer, 1, weft_value_retain(items[4]));
	weft_list_set(&outer, 2, l);
	check_size(outer);
	weft_value_release(&outer);
	for (size_t i = 0; i < 10; i++)
		weft_value_release(&items[i]);
	/* 2^40 leaves, measured at once: "7" per leaf, "[" "]" ", " per
	 * list. */
	outer = shared_list(40);
	assert_int_equal(weft_value_write_size(outer, 0, &size), WEFT_OK);
	assert_true(size == 5 * ((uint64_t)1 << 40) - 4);
	assert_int_equal(weft_value_write_size(outer, 2, &size), WEFT_EINVAL);
	assert_int_equal(weft_value_write_size(outer, 0, NULL), WEFT_EINVAL);
	weft_value_release(&outer);
}

/* -- numbers and options --------------------------------------------------- */

static void
test_parse_numbers(void **state)
{
	static const char *const bad[] = { "2.5", "0x10", "-1", " 1", "1 ",
		"", "+1", "1e3", "4097", "99999999999999999999999" };
	size_t n;
	uint64_t u;
	double d;

	(void)state;
	weft_front_set_verbose(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    weft_front_parse_size("-j", bad[i], 0, 4096, &n), -1);
	assert_int_equal(weft_front_parse_size("-j", NULL, 0, 4096, &n), -1);
	assert_int_equal(weft_front_parse_size("-j", "0", 0, 4096, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(weft_front_parse_size("-j", "4096", 0, 4096, &n), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(weft_front_parse_size("-j", "007", 0, 4096, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(weft_front_parse_u64("--max-bytes",
			     "18446744073709551615", 0, UINT64_MAX, &u),
	    0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(weft_front_parse_u64("--max-bytes",
			     "18446744073709551616", 0, UINT64_MAX, &u),
	    -1);
	static const char *const badsec[] = { "1e3", "inf", "nan", ".", "",
		"-1", "0x1p3", " 2", "2s" };
	for (size_t i = 0; i < sizeof(badsec) / sizeof(badsec[0]); i++)
		assert_int_equal(weft_front_parse_seconds(
				     "--timeout", badsec[i], 0, 1e9, &d),
		    -1);
	assert_int_equal(
	    weft_front_parse_seconds("--timeout", "0.5", 0, 1e9, &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(
	    weft_front_parse_seconds("--timeout", "3", 0, 1e9, &d), 0);
	assert_true(d == 3.0);
	assert_int_equal(
	    weft_front_parse_seconds("--timeout", "2.", 0, 1, &d), -1);
	weft_front_set_verbose(1);
}

static int
pool_opt(const char *name, const char *val, weft_pool_opts *po)
{
	char *argv[] = { (char *)"weft", (char *)name, (char *)val, NULL };
	int i = 1;

	return weft_front_pool_opt(3, argv, &i, WEFT_FRONT_POOL_ALL, po);
}

static void
test_pool_opts(void **state)
{
	weft_pool_opts po = { 0 };

	(void)state;
	weft_front_set_verbose(0);
	assert_int_equal(pool_opt("-j", "3", &po), 1);
	assert_int_equal(po.threads, 3);
	assert_int_equal(pool_opt("-j", "2.5", &po), -1);
	assert_int_equal(pool_opt("--bind", "pus", &po), 1);
	assert_int_equal(po.bind, WEFT_BIND_PUS);
	assert_int_equal(pool_opt("--bind", "socket", &po), -1);
	assert_int_equal(pool_opt("--topology", "package:2 core:2 pu:2", &po),
	    1);
	assert_string_equal(po.topology, "package:2 core:2 pu:2");
	/* Refused before hwloc would build millions of objects. */
	assert_int_equal(
	    pool_opt("--topology", "core:100000 pu:100000", &po), -1);
	assert_int_equal(pool_opt("--topology",
			     "package:99999999999999999999 pu:2", &po),
	    -1);
	assert_int_equal(pool_opt("--topology", "2 2048 2", &po), -1);
	assert_int_equal(pool_opt("--topology", "pu:4096", &po), 1);
	assert_int_equal(
	    pool_opt("--topology", "pu:2(indexes=0,1) core:3", &po), 1);
	assert_int_equal(pool_opt("--frob", "1", &po), 0);
	weft_front_set_verbose(1);
}

/* -- the bounded writer ---------------------------------------------------- */

static void
test_out_limit_and_errors(void **state)
{
	weft_front_out o;
	char buf[64] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	weft_value v = shared_list(3);

	(void)state;
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	weft_front_out_init(&o, f, 10);
	assert_int_equal(weft_front_out_puts(&o, "12345"), WEFT_OK);
	assert_int_equal(weft_front_out_printf(&o, "%d", 678), WEFT_OK);
	assert_int_equal(weft_front_out_puts(&o, "abc"), WEFT_ERANGE);
	/* sticky: nothing more, even what would fit */
	assert_int_equal(weft_front_out_puts(&o, "a"), WEFT_ERANGE);
	assert_true(o.written == 8 && o.wanted == 11);
	weft_front_out_flush(&o);
	assert_string_equal(buf, "12345678");
	weft_front_set_verbose(0);
	assert_int_equal(weft_front_out_end(&o, "x"), -1);
	fclose(f);

	f = fopen("/dev/full", "w");
	if (f) {
		weft_front_out_init(&o, f, 0);
		weft_front_out_value(&o, v, 0);
		assert_int_equal(weft_front_out_flush(&o), WEFT_EIO);
		assert_int_equal(o.err, ENOSPC);
		assert_int_equal(weft_front_out_end(&o, "x"), -1);
		fclose(f);
	}
	weft_front_set_verbose(1);
	weft_value_release(&v);
}

/* -- the options of weft run ----------------------------------------------- */

struct extra {
	int check;
	double timeout;
};

static int
extra_opt(void *ud, int argc, char **argv, int *i)
{
	struct extra *e = ud;
	const char *v;
	int m;

	if (strcmp(argv[*i], "--check") == 0) {
		e->check = 1;
		return 1;
	}
	m = weft_front_opt(argc, argv, i, "--timeout", NULL, &v);
	if (m <= 0)
		return m;
	return weft_front_parse_seconds("--timeout", v, 0, 1e9, &e->timeout)
	    ? -1
	    : 1;
}

static int
parse(int argc, const char **args, unsigned which, struct extra *e,
    weft_front_run_opts *o)
{
	return weft_front_run_parse(argc, (char **)args, 2, "run", which,
	    e ? extra_opt : NULL, e, o);
}

static void
test_run_parse(void **state)
{
	const char *all[] = { "weft", "run", "f.json", "-t", "a",
		"--target=b", "--plugin", "p.so", "--strict", "--max-nodes",
		"10", "--max-depth=5", "-j", "2", "--bind", "none",
		"--topology", "pu:2", "-o", "text", "--max-bytes", "100",
		"--stats", "--no-progress", "--trace", "t.json", "--dot",
		"g.dot", "--check", "--timeout", "1.5" };
	int n = (int)(sizeof(all) / sizeof(all[0]));
	struct extra e = { 0, 0 };
	weft_front_run_opts o;

	(void)state;
	assert_int_equal(parse(n, all, WEFT_FRONT_RUN_ALL, &e, &o), 0);
	assert_string_equal(o.file, "f.json");
	assert_int_equal(o.ntargets, 2);
	assert_string_equal(o.targets[1], "b");
	assert_int_equal(o.spec.ntargets, 2);
	assert_int_equal(o.nplugins, 1);
	assert_string_equal(o.plugins[0], "p.so");
	assert_true(o.spec.flags & WEFT_SPEC_STRICT);
	assert_int_equal(o.spec.max_keys, 10);
	assert_int_equal(o.spec.max_depth, 5);
	assert_int_equal(o.pool.threads, 2);
	assert_int_equal(o.pool.bind, WEFT_BIND_NONE);
	assert_string_equal(o.pool.topology, "pu:2");
	assert_true(o.text && o.stats && o.progress == 0);
	assert_true(o.max_bytes == 100);
	assert_string_equal(o.trace, "t.json");
	assert_string_equal(o.dot, "g.dot");
	assert_true(e.check == 1 && e.timeout == 1.5);
	weft_front_run_opts_free(&o);

	weft_front_set_verbose(0);
	/* Without the hook, --check is unknown; without POOL, -j is. */
	assert_int_equal(parse(n, all, WEFT_FRONT_RUN_ALL, NULL, &o), -1);
	weft_front_run_opts_free(&o);
	{
		const char *a[] = { "weft", "run", "f.json", "-j", "2" };
		assert_int_equal(parse(5, a, WEFT_FRONT_RUN_DOT, NULL, &o), -1);
		weft_front_run_opts_free(&o);
		assert_int_equal(parse(5, a, WEFT_FRONT_RUN_POOL, NULL, &o), 0);
		assert_true(o.max_bytes == WEFT_FRONT_MAX_BYTES_DEFAULT);
		assert_int_equal(o.progress, -1);
		weft_front_run_opts_free(&o);
	}
	{
		const char *a[] = { "weft", "run", "f.json", "-j", "2.5" };
		assert_int_equal(parse(5, a, WEFT_FRONT_RUN_ALL, NULL, &o), -1);
		weft_front_run_opts_free(&o);
	}
	{
		const char *a[] = { "weft", "run", "-h", "f.json" };
		assert_int_equal(parse(4, a, WEFT_FRONT_RUN_ALL, NULL, &o), 1);
		weft_front_run_opts_free(&o);
	}
	{
		const char *a[] = { "weft", "run", "--", "-f.json" };
		assert_int_equal(parse(4, a, WEFT_FRONT_RUN_ALL, NULL, &o), 0);
		assert_string_equal(o.file, "-f.json");
		weft_front_run_opts_free(&o);
	}
	{
		const char *a[] = { "weft", "run", "a.json", "b.json" };
		assert_int_equal(parse(4, a, WEFT_FRONT_RUN_ALL, NULL, &o), -1);
		weft_front_run_opts_free(&o);
	}
	{
		const char *a[] = { "weft", "run", "-t" };
		assert_int_equal(parse(3, a, WEFT_FRONT_RUN_ALL, NULL, &o), -1);
		weft_front_run_opts_free(&o);
	}
	weft_front_set_verbose(1);
}

static void
test_registry_hint(void **state)
{
	weft_registry *r = weft_front_registry();
	char buf[200];

	(void)state;
	assert_non_null(r);
	assert_non_null(weft_registry_find(r, "array.gen"));
	weft_front_unknown_hint(r, "summ", buf, sizeof(buf));
	assert_non_null(strstr(buf, "did you mean 'sum'"));
	weft_front_unknown_hint(r, "frobnicate_widgets", buf, sizeof(buf));
	assert_non_null(strstr(buf, "--plugin"));
	weft_front_set_verbose(0);
	assert_int_equal(weft_front_load_plugin(r, "no_such_plugin_xyz"), -1);
	weft_front_set_verbose(1);
	weft_registry_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_stops_at_first_error),
		cmocka_unit_test(test_write_to_file_error),
		cmocka_unit_test(test_write_size_exact),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_pool_opts),
		cmocka_unit_test(test_out_limit_and_errors),
		cmocka_unit_test(test_run_parse),
		cmocka_unit_test(test_registry_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
