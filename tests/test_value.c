/*
 * Unit tests of weft_value (src/graph/value.c): constructors, accessors,
 * ownership and reference counting, equality, and the two things that are
 * easy to get wrong: concurrent refcounting and releasing very deep lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "graph/value.h"
#include "weft/errno.h"
#include "weft/value.h"

/* A PTR destructor that counts its calls in the atomic int it is given, so a
 * test can see exactly when (and how often) a payload dies. */
static void
count_free(void *p)
{
	atomic_fetch_add_explicit((atomic_int *)p, 1, memory_order_relaxed);
}

static int
calls(atomic_int *c)
{
	return atomic_load(c);
}

static void
test_size(void **state)
{
	(void)state;
	assert_int_equal(sizeof(weft_value), 16);
}

static void
test_scalars(void **state)
{
	(void)state;
	weft_value n = weft_nil();
	assert_int_equal(weft_type_of(n), WEFT_NIL);
	assert_true(weft_is_nil(n));

	weft_value t = weft_bool(true), f = weft_bool(false);
	assert_int_equal(weft_type_of(t), WEFT_BOOL);
	assert_false(weft_is_nil(t));
	assert_true(weft_as_bool(t));
	assert_false(weft_as_bool(f));
	assert_int_equal(weft_as_int(t), 1);
	assert_int_equal(weft_as_int(f), 0);
	assert_true(weft_as_float(t) == 1.0);

	weft_value i = weft_int(-42);
	assert_int_equal(weft_type_of(i), WEFT_INT);
	assert_int_equal(weft_as_int(i), -42);
	assert_true(weft_as_float(i) == -42.0);
	assert_true(weft_as_bool(i));
	assert_false(weft_as_bool(weft_int(0)));
	assert_int_equal(weft_as_int(weft_int(INT64_MIN)), INT64_MIN);
	assert_int_equal(weft_as_int(weft_int(INT64_MAX)), INT64_MAX);

	weft_value d = weft_float(2.75);
	assert_int_equal(weft_type_of(d), WEFT_FLOAT);
	assert_true(weft_as_float(d) == 2.75);
	assert_int_equal(weft_as_int(d), 2);
	assert_int_equal(weft_as_int(weft_float(-2.75)), -2);
	assert_true(weft_as_bool(d));
	assert_false(weft_as_bool(weft_float(0.0)));
	assert_true(weft_as_bool(weft_float(NAN)));

	/* Conversions that would be undefined behavior in C saturate. */
	assert_int_equal(weft_as_int(weft_float(NAN)), 0);
	assert_int_equal(weft_as_int(weft_float(1e300)), INT64_MAX);
	assert_int_equal(weft_as_int(weft_float(-1e300)), INT64_MIN);
	assert_int_equal(weft_as_int(weft_float(INFINITY)), INT64_MAX);
	assert_int_equal(weft_as_int(weft_float(-INFINITY)), INT64_MIN);
	assert_int_equal(weft_as_int(weft_float(-9223372036854775808.0)),
	    INT64_MIN);

	/* Inline values hold no heap memory; releasing them is harmless. */
	assert_int_equal(weft__value_bytes(i), 0);
	assert_int_equal(weft__value_refs(i), 0);
	weft_value_release(&i);
	assert_true(weft_is_nil(i));
	weft_value_release(&d);
	weft_value_release(&t);
	weft_value_release(&n);
}

static void
test_str(void **state)
{
	(void)state;
	weft_value s = weft_str("hello");
	assert_int_equal(weft_type_of(s), WEFT_STR);
	assert_string_equal(weft_as_str(s), "hello");
	assert_int_equal(weft_len(s), 5);
	assert_memory_equal(weft_bytes_data(s), "hello", 5);
	assert_int_equal(weft__value_refs(s), 1);
	assert_true(weft__value_bytes(s) >= 6);

	/* The constructor copies its input. */
	char buf[] = "abc";
	weft_value c = weft_str(buf);
	buf[0] = 'X';
	assert_string_equal(weft_as_str(c), "abc");

	weft_value e = weft_str("");
	assert_int_equal(weft_type_of(e), WEFT_STR);
	assert_int_equal(weft_len(e), 0);
	assert_string_equal(weft_as_str(e), "");

	assert_true(weft_is_nil(weft_str(NULL)));

	weft_value_release(&s);
	assert_true(weft_is_nil(s));
	assert_null(weft_as_str(s));
	weft_value_release(&s); /* second release: now a no-op */
	weft_value_release(&c);
	weft_value_release(&e);
}

static void
test_str_n(void **state)
{
	(void)state;
	weft_value s = weft_str_n("a\0b\0c", 5);
	assert_int_equal(weft_type_of(s), WEFT_STR);
	assert_int_equal(weft_len(s), 5);
	const char *p = weft_as_str(s);
	assert_non_null(p);
	assert_memory_equal(p, "a\0b\0c", 5);
	assert_int_equal(p[5], '\0'); /* terminator added */

	/* Only the first n bytes are taken. */
	weft_value t = weft_str_n("abcdef", 3);
	assert_string_equal(weft_as_str(t), "abc");
	assert_int_equal(weft_len(t), 3);

	weft_value z = weft_str_n(NULL, 0);
	assert_int_equal(weft_type_of(z), WEFT_STR);
	assert_string_equal(weft_as_str(z), "");
	assert_true(weft_is_nil(weft_str_n(NULL, 3)));

	/* A different embedded byte makes them unequal. */
	weft_value s2 = weft_str_n("a\0b\0d", 5);
	weft_value s3 = weft_str_n("a\0b\0c", 5);
	assert_false(weft_value_equal(s, s2));
	assert_true(weft_value_equal(s, s3));

	weft_value_release(&s);
	weft_value_release(&t);
	weft_value_release(&z);
	weft_value_release(&s2);
	weft_value_release(&s3);
}

static void
test_bytes(void **state)
{
	(void)state;
	unsigned char src[4] = {0, 1, 0xff, 0};
	weft_value b = weft_bytes(src, sizeof src);
	src[1] = 9;
	assert_int_equal(weft_type_of(b), WEFT_BYTES);
	assert_int_equal(weft_len(b), 4);
	const unsigned char *d = weft_bytes_data(b);
	assert_non_null(d);
	assert_int_equal(d[0], 0);
	assert_int_equal(d[1], 1); /* copied, not aliased */
	assert_int_equal(d[2], 0xff);
	assert_null(weft_as_str(b)); /* BYTES is not STR */

	weft_value e = weft_bytes(NULL, 0);
	assert_int_equal(weft_type_of(e), WEFT_BYTES);
	assert_int_equal(weft_len(e), 0);
	assert_non_null(weft_bytes_data(e));
	assert_true(weft_is_nil(weft_bytes(NULL, 4)));

	/* Same content, different type: unequal. */
	weft_value s = weft_str_n("ab", 2);
	weft_value bb = weft_bytes("ab", 2);
	assert_false(weft_value_equal(s, bb));

	weft_value_release(&b);
	weft_value_release(&e);
	weft_value_release(&s);
	weft_value_release(&bb);
}

static void
test_f64s(void **state)
{
	(void)state;
	double src[3] = {1.5, -2.0, 3.25};
	weft_value a = weft_f64s(src, 3);
	src[0] = 100.0;
	assert_int_equal(weft_type_of(a), WEFT_F64S);
	assert_int_equal(weft_len(a), 3);
	const double *d = weft_f64s_data(a);
	assert_non_null(d);
	assert_int_equal((uintptr_t)d % _Alignof(double), 0);
	assert_true(d[0] == 1.5 && d[1] == -2.0 && d[2] == 3.25);

	weft_value z = weft_f64s(NULL, 4);
	assert_int_equal(weft_len(z), 4);
	for (size_t i = 0; i < 4; i++)
		assert_true(weft_f64s_data(z)[i] == 0.0);

	weft_value m;
	assert_int_equal(weft_f64s_new(5, NULL, &m), WEFT_OK);
	double *w = weft_f64s_data_mut(m);
	assert_non_null(w);
	for (size_t i = 0; i < 5; i++)
		w[i] = (double)i;
	assert_true(weft_f64s_data(m)[4] == 4.0);

	/* A shared payload is immutable: no writable pointer. */
	weft_value m2 = weft_value_retain(m);
	assert_null(weft_f64s_data_mut(m));
	weft_value_release(&m2);
	assert_non_null(weft_f64s_data_mut(m));

	weft_value e = weft_f64s(NULL, 0);
	assert_int_equal(weft_type_of(e), WEFT_F64S);
	assert_int_equal(weft_len(e), 0);

	assert_int_equal(weft_f64s_new(2, NULL, NULL), WEFT_EINVAL);

	weft_value_release(&a);
	weft_value_release(&z);
	weft_value_release(&m);
	weft_value_release(&e);
}

static void
test_ptr(void **state)
{
	(void)state;
	atomic_int n = 0;
	weft_value p = weft_ptr(&n, count_free);
	assert_int_equal(weft_type_of(p), WEFT_PTR);
	assert_ptr_equal(weft_ptr_get(p), &n);
	assert_int_equal(weft_len(p), 0);

	weft_value_release(&p);
	assert_int_equal(calls(&n), 1);
	assert_true(weft_is_nil(p));
	weft_value_release(&p);
	assert_int_equal(calls(&n), 1);

	/* No destructor is fine; so is wrapping NULL. */
	int x = 7;
	weft_value q = weft_ptr(&x, NULL);
	assert_ptr_equal(weft_ptr_get(q), &x);
	weft_value_release(&q);
	weft_value r = weft_ptr(NULL, NULL);
	assert_int_equal(weft_type_of(r), WEFT_PTR);
	assert_null(weft_ptr_get(r));
	weft_value_release(&r);
}

static void
test_refcount(void **state)
{
	(void)state;
	atomic_int n = 0;
	weft_value v = weft_ptr(&n, count_free);
	weft_value c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = weft_value_retain(v);
		assert_true(weft_value_equal(c[i], v));
	}
	assert_int_equal(weft__value_refs(v), 4);

	weft_value_release(&v);
	for (int i = 0; i < 2; i++) {
		weft_value_release(&c[i]);
		assert_int_equal(calls(&n), 0);
	}
	assert_int_equal(weft__value_refs(c[2]), 1);
	weft_value_release(&c[2]);
	assert_int_equal(calls(&n), 1);

	/* NULL and NIL are ignored. */
	weft_value_release(NULL);
	weft_value nil = weft_nil();
	weft_value_release(&nil);
	assert_true(weft_is_nil(weft_value_retain(weft_nil())));
}

static void
test_list_retains_items(void **state)
{
	(void)state;
	atomic_int n = 0;
	weft_value item = weft_ptr(&n, count_free);
	weft_value items[2] = {item, weft_int(5)};
	weft_value l = weft_list(2, items);
	assert_int_equal(weft_type_of(l), WEFT_LIST);
	assert_int_equal(weft_len(l), 2);
	assert_int_equal(weft__value_refs(item), 2);

	weft_value g = weft_list_get(l, 0); /* borrowed */
	assert_ptr_equal(weft_ptr_get(g), &n);
	assert_int_equal(weft_as_int(weft_list_get(l, 1)), 5);
	assert_true(weft_is_nil(weft_list_get(l, 2)));
	assert_int_equal(weft__value_refs(item), 2);

	weft_value_release(&item);
	assert_int_equal(calls(&n), 0);
	weft_value_release(&l);
	assert_int_equal(calls(&n), 1);

	/* Other order: list first, then the caller's copy. */
	atomic_int m = 0;
	weft_value it2 = weft_ptr(&m, count_free);
	weft_value l2 = weft_list(1, &it2);
	weft_value_release(&l2);
	assert_int_equal(calls(&m), 0);
	weft_value_release(&it2);
	assert_int_equal(calls(&m), 1);

	/* Items NULL: a list of NILs. Empty list. */
	weft_value l3 = weft_list(3, NULL);
	assert_int_equal(weft_len(l3), 3);
	assert_true(weft_is_nil(weft_list_get(l3, 2)));
	weft_value l4 = weft_list(0, NULL);
	assert_int_equal(weft_type_of(l4), WEFT_LIST);
	assert_int_equal(weft_len(l4), 0);
	weft_value_release(&l3);
	weft_value_release(&l4);
}

static void
test_list_new_set(void **state)
{
	(void)state;
	atomic_int a = 0, b = 0, c = 0, d = 0, e = 0;
	weft_value l;
	assert_int_equal(weft_list_new(2, &l), WEFT_OK);
	assert_int_equal(weft_len(l), 2);
	assert_true(weft_is_nil(weft_list_get(l, 0)));

	/* list_set takes ownership: no release by the caller. */
	assert_int_equal(weft_list_set(&l, 0, weft_ptr(&a, count_free)),
	    WEFT_OK);
	assert_int_equal(weft_list_set(&l, 1, weft_str("x")), WEFT_OK);
	assert_ptr_equal(weft_ptr_get(weft_list_get(l, 0)), &a);
	assert_string_equal(weft_as_str(weft_list_get(l, 1)), "x");

	/* Replacing an item releases the previous one. */
	assert_int_equal(weft_list_set(&l, 0, weft_ptr(&b, count_free)),
	    WEFT_OK);
	assert_int_equal(calls(&a), 1);

	/* Errors release the item too. */
	assert_int_equal(weft_list_set(&l, 2, weft_ptr(&c, count_free)),
	    WEFT_EINVAL);
	assert_int_equal(calls(&c), 1);
	weft_value notlist = weft_int(3);
	assert_int_equal(weft_list_set(&notlist, 0, weft_ptr(&d, count_free)),
	    WEFT_EINVAL);
	assert_int_equal(calls(&d), 1);
	assert_int_equal(weft_list_set(NULL, 0, weft_ptr(&e, count_free)),
	    WEFT_EINVAL);
	assert_int_equal(calls(&e), 1);

	/* A shared list is immutable, and a list cannot hold itself. */
	atomic_int f = 0;
	weft_value l2 = weft_value_retain(l);
	assert_int_equal(weft_list_set(&l, 1, weft_ptr(&f, count_free)),
	    WEFT_EINVAL);
	assert_int_equal(calls(&f), 1);
	weft_value_release(&l2);
	assert_int_equal(weft_list_set(&l, 1, weft_value_retain(l)),
	    WEFT_EINVAL);
	assert_int_equal(weft__value_refs(l), 1);
	assert_string_equal(weft_as_str(weft_list_get(l, 1)), "x");

	assert_int_equal(calls(&b), 0);
	weft_value_release(&l);
	assert_int_equal(calls(&b), 1);

	assert_int_equal(weft_list_new(1, NULL), WEFT_EINVAL);
}

static void
test_overflow(void **state)
{
	(void)state;
	/* Sizes whose byte count does not fit in size_t are no memory, not a
	 * wrapped-around small allocation. */
	weft_value v = weft_int(1);
	assert_int_equal(weft_f64s_new(SIZE_MAX, NULL, &v), WEFT_ENOMEM);
	assert_true(weft_is_nil(v));
	assert_int_equal(weft_f64s_new(SIZE_MAX / 8 + 1, NULL, &v),
	    WEFT_ENOMEM);
	v = weft_int(1);
	assert_int_equal(weft_list_new(SIZE_MAX / 16, &v), WEFT_ENOMEM);
	assert_true(weft_is_nil(v));
	assert_int_equal(weft_list_new(SIZE_MAX, &v), WEFT_ENOMEM);
	assert_true(weft_is_nil(weft_f64s(NULL, SIZE_MAX / 4)));
	double one = 1.0;
	assert_true(weft_is_nil(weft_f64s(&one, SIZE_MAX)));
	weft_value it = weft_int(1);
	assert_true(weft_is_nil(weft_list(SIZE_MAX / 8, &it)));
	assert_true(weft_is_nil(weft_str_n("x", SIZE_MAX)));
	assert_true(weft_is_nil(weft_str_n("x", SIZE_MAX - 8)));
	assert_true(weft_is_nil(weft_bytes("x", SIZE_MAX)));
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(weft_value_equal(weft_nil(), weft_nil()));
	assert_true(weft_value_equal(weft_int(3), weft_int(3)));
	assert_false(weft_value_equal(weft_int(3), weft_int(4)));
	assert_false(weft_value_equal(weft_int(1), weft_float(1.0)));
	assert_false(weft_value_equal(weft_int(1), weft_bool(true)));
	assert_false(weft_value_equal(weft_nil(), weft_int(0)));
	assert_true(weft_value_equal(weft_bool(true), weft_bool(true)));
	assert_false(weft_value_equal(weft_bool(true), weft_bool(false)));
	assert_true(weft_value_equal(weft_float(NAN), weft_float(NAN)));
	assert_true(weft_value_equal(weft_float(0.5), weft_float(0.5)));
	/* Bit pattern: -0.0 and 0.0 differ. */
	assert_false(weft_value_equal(weft_float(0.0), weft_float(-0.0)));

	weft_value s1 = weft_str("abc"), s2 = weft_str("abc");
	weft_value s3 = weft_str("abd"), s4 = weft_str("ab");
	assert_true(weft_value_equal(s1, s2));
	assert_false(weft_value_equal(s1, s3));
	assert_false(weft_value_equal(s1, s4));

	double x[3] = {1.0, NAN, -0.0};
	double y[3] = {1.0, NAN, 0.0};
	weft_value f1 = weft_f64s(x, 3), f2 = weft_f64s(x, 3);
	weft_value f3 = weft_f64s(y, 3), f4 = weft_f64s(x, 2);
	assert_true(weft_value_equal(f1, f2));
	assert_false(weft_value_equal(f1, f3));
	assert_false(weft_value_equal(f1, f4));

	int t1, t2;
	weft_value p1 = weft_ptr(&t1, NULL), p2 = weft_ptr(&t1, NULL);
	weft_value p3 = weft_ptr(&t2, NULL);
	assert_true(weft_value_equal(p1, p2));
	assert_false(weft_value_equal(p1, p3));

	/* Nested lists, equal by content. */
	weft_value in1[2] = {weft_int(1), s1};
	weft_value in2[2] = {weft_int(1), s2};
	weft_value in3[2] = {weft_int(1), s3};
	weft_value i1 = weft_list(2, in1), i2 = weft_list(2, in2);
	weft_value i3 = weft_list(2, in3);
	weft_value o1[3] = {i1, f1, weft_nil()};
	weft_value o2[3] = {i2, f2, weft_nil()};
	weft_value o3[3] = {i3, f2, weft_nil()};
	weft_value l1 = weft_list(3, o1), l2 = weft_list(3, o2);
	weft_value l3 = weft_list(3, o3), l4 = weft_list(2, o1);
	assert_true(weft_value_equal(l1, l2));
	assert_true(weft_value_equal(l1, l1));
	assert_false(weft_value_equal(l1, l3));
	assert_false(weft_value_equal(l1, l4));
	assert_false(weft_value_equal(l1, i1));
	weft_value e1 = weft_list(0, NULL), e2 = weft_list(0, NULL);
	assert_true(weft_value_equal(e1, e2));
	assert_false(weft_value_equal(e1, weft_nil()));

	weft_value all[] = {s1, s2, s3, s4, f1, f2, f3, f4, p1, p2, p3, i1, i2,
	    i3, l1, l2, l3, l4, e1, e2};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		weft_value_release(&all[i]);
}

/* Builds [[[...[leaf]...]]] `depth` levels deep; takes ownership of leaf. */
static weft_value
nest(size_t depth, weft_value leaf)
{
	weft_value v = leaf;
	for (size_t i = 0; i < depth; i++) {
		weft_value l;
		assert_int_equal(weft_list_new(1, &l), WEFT_OK);
		assert_int_equal(weft_list_set(&l, 0, v), WEFT_OK);
		v = l;
	}
	return v;
}

static void
test_equal_deep(void **state)
{
	(void)state;
	/* Far deeper than any C stack would allow with naive recursion. */
	const size_t depth = 200000;
	weft_value a = nest(depth, weft_int(1));
	weft_value b = nest(depth, weft_int(1));
	weft_value c = nest(depth, weft_int(2));
	weft_value d = nest(depth - 1, weft_int(1));
	assert_true(weft_value_equal(a, b));
	assert_false(weft_value_equal(a, c));
	assert_false(weft_value_equal(a, d));
	weft_value_release(&a);
	weft_value_release(&b);
	weft_value_release(&c);
	weft_value_release(&d);
}

static void
test_deep_release(void **state)
{
	(void)state;
	atomic_int n = 0;
	weft_value v = nest(1000000, weft_ptr(&n, count_free));
	assert_int_equal(weft_type_of(v), WEFT_LIST);
	weft_value_release(&v);
	assert_int_equal(calls(&n), 1);
	assert_true(weft_is_nil(v));
}

static void
test_deep_wide_release(void **state)
{
	(void)state;
	/* Each level holds a PTR, a shared PTR and the next level: the
	 * iterative release must drain every item of every dead list, and
	 * stop at items still referenced from outside. */
	const size_t depth = 100000;
	atomic_int n = 0, shared_n = 0;
	weft_value shared = weft_ptr(&shared_n, count_free);
	weft_value v = weft_nil();
	for (size_t i = 0; i < depth; i++) {
		weft_value l;
		assert_int_equal(weft_list_new(3, &l), WEFT_OK);
		assert_int_equal(weft_list_set(&l, 0, weft_ptr(&n, count_free)),
		    WEFT_OK);
		assert_int_equal(weft_list_set(&l, 1, v), WEFT_OK);
		assert_int_equal(
		    weft_list_set(&l, 2, weft_value_retain(shared)), WEFT_OK);
		v = l;
	}
	weft_value keep = weft_value_retain(weft_list_get(
	    weft_list_get(weft_list_get(v, 1), 1), 1)); /* level depth-3 */
	weft_value_release(&v);
	assert_int_equal(calls(&n), 3);
	assert_int_equal(calls(&shared_n), 0);
	assert_int_equal(weft__value_refs(shared), depth - 3 + 1);
	weft_value_release(&keep);
	assert_int_equal(calls(&n), (int)depth);
	assert_int_equal(calls(&shared_n), 0);
	weft_value_release(&shared);
	assert_int_equal(calls(&shared_n), 1);
}

/* A destructor that releases a value of its own: releases may nest. */
struct holder {
	weft_value inner;
	atomic_int *count;
};

static void
holder_free(void *p)
{
	struct holder *h = p;
	weft_value_release(&h->inner);
	count_free(h->count);
}

static void
test_reentrant_destructor(void **state)
{
	(void)state;
	atomic_int inner_n = 0, outer_n = 0;
	weft_value inner_ptr = weft_ptr(&inner_n, count_free);
	struct holder h = {weft_list(1, &inner_ptr), &outer_n};
	weft_value_release(&inner_ptr);
	weft_value outer = weft_ptr(&h, holder_free);
	weft_value l = weft_list(1, &outer);
	weft_value_release(&outer);
	weft_value_release(&l);
	assert_int_equal(calls(&outer_n), 1);
	assert_int_equal(calls(&inner_n), 1);
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(weft_type_name(WEFT_NIL), "nil");
	assert_string_equal(weft_type_name(WEFT_BOOL), "bool");
	assert_string_equal(weft_type_name(WEFT_INT), "int");
	assert_string_equal(weft_type_name(WEFT_FLOAT), "float");
	assert_string_equal(weft_type_name(WEFT_STR), "str");
	assert_string_equal(weft_type_name(WEFT_BYTES), "bytes");
	assert_string_equal(weft_type_name(WEFT_LIST), "list");
	assert_string_equal(weft_type_name(WEFT_F64S), "f64s");
	assert_string_equal(weft_type_name(WEFT_PTR), "ptr");
	assert_string_equal(weft_type_name((weft_type)99), "unknown");
}

static void
test_wrong_type(void **state)
{
	(void)state;
	atomic_int n = 0;
	weft_value vals[] = {weft_nil(), weft_bool(true), weft_int(7),
	    weft_float(1.5), weft_str("s"), weft_bytes("b", 1),
	    weft_list(0, NULL), weft_f64s(NULL, 2), weft_ptr(&n, count_free)};
	size_t nv = sizeof vals / sizeof vals[0];
	for (size_t i = 0; i < nv; i++) {
		weft_value v = vals[i];
		weft_type t = weft_type_of(v);
		assert_int_equal(t, (weft_type)i);
		if (t != WEFT_STR)
			assert_null(weft_as_str(v));
		if (t != WEFT_STR && t != WEFT_BYTES)
			assert_null(weft_bytes_data(v));
		if (t != WEFT_F64S) {
			assert_null(weft_f64s_data(v));
			assert_null(weft_f64s_data_mut(v));
		}
		if (t != WEFT_PTR)
			assert_null(weft_ptr_get(v));
		if (t != WEFT_LIST)
			assert_true(weft_is_nil(weft_list_get(v, 0)));
		if (t > WEFT_FLOAT) {
			assert_int_equal(weft_as_int(v), 0);
			assert_true(weft_as_float(v) == 0.0);
			assert_false(weft_as_bool(v));
		}
		if (t < WEFT_STR || t == WEFT_PTR)
			assert_int_equal(weft_len(v), 0);
	}
	assert_int_equal(weft_len(vals[7]), 2);

	/* A hand-zeroed heap-typed value (not made by a constructor) must not
	 * crash the accessors or the reference counting either. */
	weft_value bad = weft_nil();
	bad.type = WEFT_LIST;
	assert_int_equal(weft_len(bad), 0);
	assert_true(weft_is_nil(weft_list_get(bad, 0)));
	bad.type = WEFT_STR;
	assert_null(weft_as_str(bad));
	assert_null(weft_bytes_data(bad));
	assert_false(weft_value_equal(bad, vals[4]));
	(void)weft_value_retain(bad);
	weft_value_release(&bad);

	for (size_t i = 0; i < nv; i++)
		weft_value_release(&vals[i]);
	assert_int_equal(calls(&n), 1);
}

/* -- concurrency --------------------------------------------------------- */

#define THREADS 8
#define ROUNDS 100000

struct worker_arg {
	weft_value v; /* owned by the worker; released at its end */
	pthread_barrier_t *start;
};

static void *
worker(void *p)
{
	struct worker_arg *a = p;
	pthread_barrier_wait(a->start);
	for (int i = 0; i < ROUNDS; i++) {
		weft_value c = weft_value_retain(a->v);
		/* Read the payload through the copy, as a task would. */
		weft_value inner = weft_list_get(c, 0);
		if (weft_ptr_get(inner) == NULL)
			return p; /* flagged by the main thread */
		weft_value_release(&c);
	}
	weft_value_release(&a->v);
	return NULL;
}

static void
test_concurrent_refcount(void **state)
{
	(void)state;
	atomic_int n = 0;
	weft_value item = weft_ptr(&n, count_free);
	weft_value v = weft_list(1, &item);
	weft_value_release(&item);

	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS + 1), 0);
	pthread_t th[THREADS];
	struct worker_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i].v = weft_value_retain(v);
		args[i].start = &start;
		assert_int_equal(
		    pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	/* Drop our own reference first, so the last release happens on
	 * whichever worker finishes last. */
	weft_value_release(&v);
	pthread_barrier_wait(&start);
	for (int i = 0; i < THREADS; i++) {
		void *ret = &ret;
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(calls(&n), 1);
}

/* Two equal DAGs of shared sublists, built apart: 2^40 paths, 41 pairs.
 * Found by the fuzzer as a hang; the memo of proven pairs makes it fast. */
static weft_value
shared_dag(int levels, int64_t leaf)
{
	weft_value v = weft_int(leaf);
	for (int i = 0; i < levels; i++) {
		weft_value two[2] = { v, v };
		weft_value l = weft_list(2, two);
		weft_value_release(&v);
		v = l;
	}
	return v;
}

static void
test_equal_shared_sublists(void **state)
{
	(void)state;
	weft_value a = shared_dag(40, 1), b = shared_dag(40, 1);
	weft_value c = shared_dag(40, 2);
	assert_true(weft_value_equal(a, b));
	assert_false(weft_value_equal(a, c));
	weft_value_release(&a);
	weft_value_release(&b);
	weft_value_release(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_shared_sublists),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_str_n),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_f64s),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_list_retains_items),
		cmocka_unit_test(test_list_new_set),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_equal_deep),
		cmocka_unit_test(test_deep_release),
		cmocka_unit_test(test_deep_wide_release),
		cmocka_unit_test(test_reentrant_destructor),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_concurrent_refcount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
