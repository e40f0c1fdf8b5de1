/*
 * weft_value: inline scalars and reference-counted, immutable heap objects.
 *
 * Every heap payload is one allocation: a header (refcount, type, length)
 * followed by the data inline, so building a value costs one weft__malloc()
 * and reading it costs no extra pointer chase.
 */
#include "graph/value.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/atomic.h"
#include "weft/errno.h"
#include "weft/value.h"

/* Callers copy values freely and store them in flat arrays; a bigger value
 * would cost every task argument and result slot. */
_Static_assert(sizeof(weft_value) == 16, "weft_value must stay 16 bytes");

struct weft_obj {
	union {
		/* While the object is alive. */
		_Atomic size_t refs;
		/* Once it has died: links dead lists whose items are still to be
		 * released, so that releasing a deep list needs no recursion and
		 * no allocation (which could fail while freeing). */
		weft_obj *next_dead;
	} h;
	uint32_t type;
	/* STR/BYTES: bytes (STR without its NUL); LIST: items; F64S: doubles;
	 * PTR: 0. Mutable only while the object dies (see obj_destroy). */
	size_t len;
	/* The payload. Aligned for every kind we store in it. */
	alignas(double) alignas(weft_value) alignas(void *) unsigned char data[];
};

/* What a PTR object holds in its data. */
struct ptr_box {
	void *ptr;
	weft_ptr_free_fn free_fn;
};

#define OBJ_HDR offsetof(struct weft_obj, data)

static inline bool
is_heap_type(unsigned t)
{
	return t == WEFT_STR || t == WEFT_BYTES || t == WEFT_LIST ||
	    t == WEFT_F64S || t == WEFT_PTR;
}

/* The heap object of `v` if it has type `t`; NULL otherwise. Accessors go
 * through here so that a wrong type (or a hand-zeroed value) gives a zero
 * answer instead of a crash. */
static inline weft_obj *
obj_of(weft_value v, weft_type t)
{
	return v.type == t ? v.u.obj : NULL;
}

static inline weft_value *
list_items(weft_obj *o)
{
	return (weft_value *)(void *)o->data;
}

static inline double *
f64s_items(weft_obj *o)
{
	return (double *)(void *)o->data;
}

static inline struct ptr_box *
ptr_box(weft_obj *o)
{
	return (struct ptr_box *)(void *)o->data;
}

static inline weft_value
make_heap(weft_type t, weft_obj *o)
{
	weft_value v;
	memset(&v, 0, sizeof v);
	if (o) {
		v.type = (uint8_t)t;
		v.u.obj = o;
	}
	return v;
}

/*
 * Allocates an object of `n` elements of `elem` bytes plus `extra` bytes.
 * A size that does not fit in size_t is reported as no memory (NULL), like
 * any other allocation the machine cannot satisfy.
 */
static weft_obj *
obj_alloc(weft_type t, size_t n, size_t elem, size_t extra)
{
	if (elem && n > (SIZE_MAX - OBJ_HDR - extra) / elem)
		return NULL;
	weft_obj *o = weft__malloc(OBJ_HDR + n * elem + extra);
	if (!o)
		return NULL;
	atomic_init(&o->h.refs, 1);
	o->type = (uint32_t)t;
	o->len = n;
	return o;
}

/* Drops one reference; true when it was the last, and the caller now owns
 * the dead object. acq_rel: the release half publishes this thread's reads
 * and writes of the payload; the acquire half, taken by the last releaser,
 * makes every other thread's accesses happen before the free. */
static inline bool
obj_unref(weft_obj *o)
{
	return weft_atomic_sub_acq_rel(&o->h.refs, 1) == 1;
}

/* Frees a dead object and everything only it kept alive. Dead lists are
 * pushed onto a stack threaded through their own headers and drained one
 * item at a time (last item first), so a list nested a million levels deep
 * is released in constant C stack and with no allocation. */
static void
obj_destroy(weft_obj *o)
{
	weft_obj *dead = NULL;

	while (o) {
		if (o->type == WEFT_LIST) {
			o->h.next_dead = dead;
			dead = o;
		} else {
			if (o->type == WEFT_PTR) {
				struct ptr_box *b = ptr_box(o);
				if (b->free_fn)
					b->free_fn(b->ptr);
			}
			weft__free(o);
		}
		o = NULL;
		/* Find the next object whose last reference we drop. */
		while (!o && dead) {
			weft_obj *l = dead;
			if (l->len == 0) {
				dead = l->h.next_dead;
				weft__free(l);
				continue;
			}
			weft_value it = list_items(l)[--l->len];
			if (is_heap_type(it.type) && it.u.obj &&
			    obj_unref(it.u.obj))
				o = it.u.obj;
		}
	}
}

/* -- constructors -------------------------------------------------------- */

/* Each scalar constructor writes the whole 16 bytes at once: building a
 * value field by field after a memset made the caller's 16-byte load miss
 * store forwarding, which cost more than the rest of a small task. */
#define WEFT__SCALAR(t, field, x)                                             \
	((weft_value) { .type = (t), .u.field = (x) })

weft_value
weft_nil(void)
{
	return WEFT__SCALAR(WEFT_NIL, i, 0);
}

/* What a constructor returns when it fails: a NIL that says so, so that
 * weft_delayed and the run refuse it instead of taking it for a NIL the
 * caller meant (weft/value.h, weft_value_failed). */
static weft_value
failed_value(void)
{
	weft_value v = weft_nil();
	v.reserved_[0] = WEFT__VALUE_FAILED;
	return v;
}

bool
weft_value_failed(weft_value v)
{
	return v.type == WEFT_NIL && v.reserved_[0] == WEFT__VALUE_FAILED;
}

weft_value
weft_bool(bool b)
{
	weft_value v = WEFT__SCALAR(WEFT_BOOL, i, 0);
	v.u.b = b;
	return v;
}

weft_value
weft_int(int64_t i)
{
	return WEFT__SCALAR(WEFT_INT, i, i);
}

weft_value
weft_float(double d)
{
	return WEFT__SCALAR(WEFT_FLOAT, f, d);
}

weft_value
weft_str(const char *s)
{
	if (!s)
		return failed_value();
	return weft_str_n(s, strlen(s));
}

weft_value
weft_str_n(const char *s, size_t n)
{
	if (!s && n)
		return failed_value();
	weft_obj *o = obj_alloc(WEFT_STR, n, 1, 1);
	if (!o)
		return failed_value();
	if (n)
		memcpy(o->data, s, n);
	o->data[n] = '\0';
	return make_heap(WEFT_STR, o);
}

weft_value
weft_bytes(const void *p, size_t n)
{
	if (!p && n)
		return failed_value();
	weft_obj *o = obj_alloc(WEFT_BYTES, n, 1, 0);
	if (!o)
		return failed_value();
	if (n)
		memcpy(o->data, p, n);
	return make_heap(WEFT_BYTES, o);
}

int
weft_f64s_new(size_t n, const double *p, weft_value *out)
{
	if (!out)
		return WEFT_EINVAL;
	*out = weft_nil();
	weft_obj *o = obj_alloc(WEFT_F64S, n, sizeof(double), 0);
	if (!o)
		return WEFT_ENOMEM;
	double *d = f64s_items(o);
	if (p) {
		if (n)
			memcpy(d, p, n * sizeof(double));
	} else {
		/* A loop, not memset: all-bits-zero need not be 0.0. */
		for (size_t i = 0; i < n; i++)
			d[i] = 0.0;
	}
	*out = make_heap(WEFT_F64S, o);
	return WEFT_OK;
}

weft_value
weft_f64s(const double *p, size_t n)
{
	weft_value v;
	if (weft_f64s_new(n, p, &v) != WEFT_OK)
		return failed_value();
	return v;
}

int
weft_list_new(size_t n, weft_value *out)
{
	if (!out)
		return WEFT_EINVAL;
	*out = weft_nil();
	weft_obj *o = obj_alloc(WEFT_LIST, n, sizeof(weft_value), 0);
	if (!o)
		return WEFT_ENOMEM;
	weft_value *it = list_items(o);
	for (size_t i = 0; i < n; i++)
		it[i] = weft_nil();
	*out = make_heap(WEFT_LIST, o);
	return WEFT_OK;
}

weft_value
weft_list(size_t n, const weft_value *items)
{
	weft_value v;
	if (weft_list_new(n, &v) != WEFT_OK)
		return failed_value();
	if (items) {
		weft_value *it = list_items(v.u.obj);
		for (size_t i = 0; i < n; i++)
			it[i] = weft_value_retain(items[i]);
	}
	return v;
}

int
weft_list_set(weft_value *list, size_t i, weft_value item)
{
	weft_obj *o = list ? obj_of(*list, WEFT_LIST) : NULL;
	/* Acquire: if another holder has just released the list, its reads
	 * of the items happen before we overwrite one. Refusing a shared list
	 * also refuses the simplest cycle, a list set into itself. */
	if (!o || i >= o->len || weft_atomic_load_acquire(&o->h.refs) != 1) {
		weft_value_release(&item);
		return WEFT_EINVAL;
	}
	weft_value old = list_items(o)[i];
	list_items(o)[i] = item;
	weft_value_release(&old);
	return WEFT_OK;
}

weft_value
weft_ptr(void *ptr, weft_ptr_free_fn free_fn)
{
	weft_obj *o = obj_alloc(WEFT_PTR, 0, 0, sizeof(struct ptr_box));
	if (!o) {
		/* The value owned ptr from the call on; nobody else will free
		 * it, so the promise "called once" is kept here. */
		if (free_fn)
			free_fn(ptr);
		return failed_value();
	}
	ptr_box(o)->ptr = ptr;
	ptr_box(o)->free_fn = free_fn;
	return make_heap(WEFT_PTR, o);
}

/* -- reference counting -------------------------------------------------- */

weft_value
weft_value_retain(weft_value v)
{
	/* Relaxed: the caller already holds a reference, so the object cannot
	 * die concurrently, and a new reference publishes nothing. */
	if (is_heap_type(v.type) && v.u.obj)
		weft_atomic_add_relaxed(&v.u.obj->h.refs, 1);
	return v;
}

void
weft_value_release(weft_value *v)
{
	if (!v)
		return;
	weft_value old = *v;
	*v = weft_nil();
	if (is_heap_type(old.type) && old.u.obj && obj_unref(old.u.obj))
		obj_destroy(old.u.obj);
}

/* -- accessors ----------------------------------------------------------- */

weft_type
weft_type_of(weft_value v)
{
	return (weft_type)v.type;
}

const char *
weft_type_name(weft_type t)
{
	switch (t) {
	case WEFT_NIL:
		return "nil";
	case WEFT_BOOL:
		return "bool";
	case WEFT_INT:
		return "int";
	case WEFT_FLOAT:
		return "float";
	case WEFT_STR:
		return "str";
	case WEFT_BYTES:
		return "bytes";
	case WEFT_LIST:
		return "list";
	case WEFT_F64S:
		return "f64s";
	case WEFT_PTR:
		return "ptr";
	}
	return "unknown";
}

bool
weft_is_nil(weft_value v)
{
	return v.type == WEFT_NIL;
}

/* double -> int64_t without undefined behavior: casting NaN or a value out
 * of range is UB in C, so those saturate (NaN gives 0). */
static int64_t
float_to_int(double d)
{
	if (d != d)
		return 0;
	if (d >= 9223372036854775808.0)
		return INT64_MAX;
	if (d < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

int64_t
weft_as_int(weft_value v)
{
	switch (v.type) {
	case WEFT_INT:
		return v.u.i;
	case WEFT_FLOAT:
		return float_to_int(v.u.f);
	case WEFT_BOOL:
		return v.u.b ? 1 : 0;
	default:
		return 0;
	}
}

double
weft_as_float(weft_value v)
{
	switch (v.type) {
	case WEFT_FLOAT:
		return v.u.f;
	case WEFT_INT:
		return (double)v.u.i;
	case WEFT_BOOL:
		return v.u.b ? 1.0 : 0.0;
	default:
		return 0.0;
	}
}

bool
weft_as_bool(weft_value v)
{
	switch (v.type) {
	case WEFT_BOOL:
		return v.u.b;
	case WEFT_INT:
		return v.u.i != 0;
	case WEFT_FLOAT:
		return v.u.f != 0.0;
	default:
		return false;
	}
}

const char *
weft_as_str(weft_value v)
{
	weft_obj *o = obj_of(v, WEFT_STR);
	return o ? (const char *)o->data : NULL;
}

size_t
weft_len(weft_value v)
{
	switch (v.type) {
	case WEFT_STR:
	case WEFT_BYTES:
	case WEFT_LIST:
	case WEFT_F64S:
		return v.u.obj ? v.u.obj->len : 0;
	default:
		return 0;
	}
}

const void *
weft_bytes_data(weft_value v)
{
	if ((v.type == WEFT_BYTES || v.type == WEFT_STR) && v.u.obj)
		return v.u.obj->data;
	return NULL;
}

weft_value
weft_list_get(weft_value v, size_t i)
{
	weft_obj *o = obj_of(v, WEFT_LIST);
	if (!o || i >= o->len)
		return weft_nil();
	return list_items(o)[i];
}

const double *
weft_f64s_data(weft_value v)
{
	weft_obj *o = obj_of(v, WEFT_F64S);
	return o ? f64s_items(o) : NULL;
}

double *
weft_f64s_data_mut(weft_value v)
{
	weft_obj *o = obj_of(v, WEFT_F64S);
	/* Writing to a shared payload would race with its readers; refuse
	 * rather than corrupt. Acquire: as in weft_list_set(). */
	if (!o || weft_atomic_load_acquire(&o->h.refs) != 1)
		return NULL;
	return f64s_items(o);
}

void *
weft_ptr_get(weft_value v)
{
	weft_obj *o = obj_of(v, WEFT_PTR);
	return o ? ptr_box(o)->ptr : NULL;
}

/* -- equality ------------------------------------------------------------ */

/* Compares everything but list items. *descend is set when a and b are two
 * distinct lists of equal length whose items must be compared next. */
static bool
shallow_equal(weft_value a, weft_value b, bool *descend)
{
	*descend = false;
	if (a.type != b.type)
		return false;
	switch (a.type) {
	case WEFT_NIL:
		return true;
	case WEFT_BOOL:
		return a.u.b == b.u.b;
	case WEFT_INT:
		return a.u.i == b.u.i;
	case WEFT_FLOAT:
		/* Bit pattern, as documented: NaN equals itself, and a value
		 * equal to itself keeps dedup of pure calls sound. */
		return memcmp(&a.u.f, &b.u.f, sizeof(double)) == 0;
	default:
		break;
	}
	weft_obj *x = a.u.obj, *y = b.u.obj;
	if (x == y)
		return true;
	if (!x || !y || x->len != y->len)
		return false;
	switch (a.type) {
	case WEFT_STR:
	case WEFT_BYTES:
		return memcmp(x->data, y->data, x->len) == 0;
	case WEFT_F64S:
		return memcmp(x->data, y->data, x->len * sizeof(double)) == 0;
	case WEFT_PTR:
		return ptr_box(x)->ptr == ptr_box(y)->ptr;
	case WEFT_LIST:
		*descend = x->len > 0;
		return true;
	default:
		return false;
	}
}

/* One list pair being compared: the items from `i` on are still to do. */
struct eq_frame {
	const weft_obj *x, *y;
	const weft_value *a, *b;
	size_t n, i;
};

/* List pairs already proven equal. Lists may share sublists (a DAG of 40
 * levels, each holding its child twice, has 2^40 paths in 1 KB); without
 * this, two equal such DAGs built apart would be compared along every
 * path. With it, each pair is compared once. */
struct eq_memo {
	const weft_obj **k; /* pairs: k[2s], k[2s+1]; NULL = empty */
	size_t cap, n;
	bool off; /* no memory for it: compare without (slower, still exact) */
};

static size_t
eq_hash(const weft_obj *x, const weft_obj *y, size_t mask)
{
	uint64_t h = (uint64_t)(uintptr_t)x * 0x9E3779B97F4A7C15ull ^
	    (uint64_t)(uintptr_t)y * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h ^ (h >> 29)) & mask;
}

static bool
eq_memo_has(const struct eq_memo *m, const weft_obj *x, const weft_obj *y)
{
	if (!m->n)
		return false;
	for (size_t s = eq_hash(x, y, m->cap - 1);; s = (s + 1) & (m->cap - 1)) {
		if (!m->k[2 * s])
			return false;
		if (m->k[2 * s] == x && m->k[2 * s + 1] == y)
			return true;
	}
}

static void
eq_memo_add(struct eq_memo *m, const weft_obj *x, const weft_obj *y)
{
	if (m->off)
		return;
	if (2 * (m->n + 1) > m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 64;
		const weft_obj **nk = weft__malloc(2 * ncap * sizeof *nk);
		if (!nk || ncap > SIZE_MAX / 4 / sizeof *nk) {
			weft__free(nk);
			m->off = true;
			return;
		}
		memset(nk, 0, 2 * ncap * sizeof *nk);
		for (size_t s = 0; s < m->cap; s++) {
			if (!m->k[2 * s])
				continue;
			size_t t = eq_hash(m->k[2 * s], m->k[2 * s + 1], ncap - 1);
			while (nk[2 * t])
				t = (t + 1) & (ncap - 1);
			nk[2 * t] = m->k[2 * s];
			nk[2 * t + 1] = m->k[2 * s + 1];
		}
		weft__free(m->k);
		m->k = nk;
		m->cap = ncap;
	}
	size_t s = eq_hash(x, y, m->cap - 1);
	while (m->k[2 * s])
		s = (s + 1) & (m->cap - 1);
	m->k[2 * s] = x;
	m->k[2 * s + 1] = y;
	m->n++;
}

/* Deep equality without recursion: an explicit stack of list pairs, one
 * frame per level of nesting. The first EQ_INLINE levels live on the C
 * stack; deeper lists grow it on the heap. */
#define EQ_INLINE 32

bool
weft_value_equal(weft_value a, weft_value b)
{
	struct eq_frame inline_frames[EQ_INLINE];
	struct eq_frame *st = inline_frames;
	struct eq_memo memo = { NULL, 0, 0, false };
	size_t cap = EQ_INLINE, top = 0;
	bool eq = true;

	for (;;) {
		bool descend;
		if (!shallow_equal(a, b, &descend)) {
			eq = false;
			break;
		}
		if (descend && top > 0 && eq_memo_has(&memo, a.u.obj, b.u.obj))
			descend = false;
		if (descend) {
			if (top == cap) {
				/* No memory: we cannot prove equality, and the
				 * bool result has no error channel; say unequal. */
				if (cap > SIZE_MAX / 2 / sizeof *st) {
					eq = false;
					break;
				}
				struct eq_frame *ns =
				    weft__malloc(2 * cap * sizeof *st);
				if (!ns) {
					eq = false;
					break;
				}
				memcpy(ns, st, top * sizeof *st);
				if (st != inline_frames)
					weft__free(st);
				st = ns;
				cap *= 2;
			}
			st[top].x = a.u.obj;
			st[top].y = b.u.obj;
			st[top].a = list_items(a.u.obj);
			st[top].b = list_items(b.u.obj);
			st[top].n = a.u.obj->len;
			st[top].i = 0;
			top++;
		}
		while (top && st[top - 1].i == st[top - 1].n) {
			top--;
			if (top) /* a nested pair proven equal */
				eq_memo_add(&memo, st[top].x, st[top].y);
		}
		if (!top)
			break;
		struct eq_frame *f = &st[top - 1];
		a = f->a[f->i];
		b = f->b[f->i];
		f->i++;
	}
	if (st != inline_frames)
		weft__free(st);
	weft__free(memo.k);
	return eq;
}

/* -- internals ----------------------------------------------------------- */

size_t
weft__value_bytes(weft_value v)
{
	if (!is_heap_type(v.type) || !v.u.obj)
		return 0;
	weft_obj *o = v.u.obj;
	switch (v.type) {
	case WEFT_STR:
		return OBJ_HDR + o->len + 1;
	case WEFT_BYTES:
		return OBJ_HDR + o->len;
	case WEFT_F64S:
		return OBJ_HDR + o->len * sizeof(double);
	case WEFT_LIST:
		return OBJ_HDR + o->len * sizeof(weft_value);
	default:
		return OBJ_HDR + sizeof(struct ptr_box);
	}
}

size_t
weft__value_refs(weft_value v)
{
	if (!is_heap_type(v.type) || !v.u.obj)
		return 0;
	return weft_atomic_load_relaxed(&v.u.obj->h.refs);
}
