/**
 * \file weft/value.h
 * \brief weft_value: the small tagged value that tasks take and return.
 *
 * A weft_value is 16 bytes and is passed by value. NIL, BOOL, INT and FLOAT
 * live inside it. STR, BYTES, LIST, F64S and PTR point to an immutable,
 * reference-counted heap object, so copying a value never copies its
 * payload: weft_value_retain() adds a reference (one atomic increment) and
 * weft_value_release() drops one, freeing the payload with the last.
 *
 * Ownership, in one rule: a weft_value you hold is either *owned* (you must
 * release it once) or *borrowed* (someone else releases it; do not). The
 * headers say which, for every function that takes or returns one.
 *
 * - Constructors return an owned value. The heap ones copy their input and
 *   return a *failed* NIL when memory runs out or the input is bad
 *   (weft_ptr() then calls the destructor, so nothing leaks); the `_new`
 *   forms return an error code instead. A failed NIL is NIL to every
 *   accessor, but weft_value_failed() tells it apart, weft_delayed()
 *   refuses it as a literal (WEFT_ENOMEM), and a task that returns it
 *   fails: a failed constructor never passes for a value.
 * - Accessors borrow: a pointer they return (weft_as_str(),
 *   weft_f64s_data(), ...) lives as long as the value it came from.
 * - Heap payloads are immutable once shared. The `_mut` accessors exist to
 *   fill a payload you just created and still hold alone.
 *
 * Values may be shared across threads freely; the reference count is atomic.
 * Releasing the same owned value twice is a bug (weft_value_release() sets
 * the released value to NIL, which makes a second release harmless).
 */
#ifndef WEFT_VALUE_H
#define WEFT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The type of a value. Numbers are stable (used in wire formats). */
typedef enum weft_type {
	WEFT_NIL = 0,	/**< no value (also: a failed constructor) */
	WEFT_BOOL = 1,	/**< true / false */
	WEFT_INT = 2,	/**< int64_t */
	WEFT_FLOAT = 3, /**< double */
	WEFT_STR = 4,	/**< immutable UTF-8 bytes, NUL-terminated */
	WEFT_BYTES = 5, /**< immutable bytes */
	WEFT_LIST = 6,	/**< immutable list of values */
	WEFT_F64S = 7,	/**< array of doubles */
	WEFT_PTR = 8,	/**< user pointer with a destructor */
} weft_type;

/** Opaque heap payload of STR, BYTES, LIST, F64S and PTR values. */
typedef struct weft_obj weft_obj;

/** A tagged value; treat the fields as private and use the functions. */
typedef struct weft_value {
	uint8_t type;	    /* weft_type */
	uint8_t reserved_[7];
	union {
		bool b;
		int64_t i;
		double f;
		weft_obj *obj;
	} u;
} weft_value;

/** Destructor of a WEFT_PTR payload; called once, with the pointer. */
typedef void (*weft_ptr_free_fn)(void *ptr);

/* -- constructors (each returns an owned value) ------------------------- */

WEFT_API weft_value weft_nil(void);
WEFT_API weft_value weft_bool(bool b);
WEFT_API weft_value weft_int(int64_t i);
WEFT_API weft_value weft_float(double d);

/** Copies the NUL-terminated string `s`. A failed NIL (weft_value_failed)
 *  if `s` is NULL or on no memory. */
WEFT_API weft_value weft_str(const char *s);
/** Copies `n` bytes of `s` (which may hold NULs) and adds a terminating NUL.
 *  `s` may be NULL when n is 0 (an empty string); a failed NIL if `s` is
 *  NULL and n > 0, or on no memory. */
WEFT_API weft_value weft_str_n(const char *s, size_t n);
/** Copies `n` bytes from `p` (`p` may be NULL when n is 0). A failed NIL
 *  if `p` is NULL and n > 0, or on no memory. */
WEFT_API weft_value weft_bytes(const void *p, size_t n);
/** Copies `n` doubles from `p`; p == NULL gives `n` zeros. */
WEFT_API weft_value weft_f64s(const double *p, size_t n);
/** A list of `n` items; each item is *retained* (the caller keeps its own).
 *  `items` == NULL gives `n` NILs. */
WEFT_API weft_value weft_list(size_t n, const weft_value *items);
/**
 * Wraps a user pointer. The value owns `ptr`: `free_fn(ptr)` is called once,
 * when the last reference is released (free_fn may be NULL: nothing to
 * call). On no memory, free_fn(ptr) is called at once and NIL is returned.
 */
WEFT_API weft_value weft_ptr(void *ptr, weft_ptr_free_fn free_fn);

/** Like weft_f64s(p, n) but reports failure: WEFT_OK, WEFT_ENOMEM (then
 *  *out is NIL) or WEFT_EINVAL (`out` is NULL). */
WEFT_API int weft_f64s_new(size_t n, const double *p, weft_value *out);
/**
 * A list of `n` NIL items to be filled with weft_list_set() before it is
 * shared. WEFT_OK, WEFT_ENOMEM (then *out is NIL) or WEFT_EINVAL (`out` is
 * NULL).
 */
WEFT_API int weft_list_new(size_t n, weft_value *out);
/**
 * Stores `item` at index `i` of a list made by weft_list_new() and not yet
 * shared. Takes ownership of `item` (also on error, when it is released);
 * the previous item is released. WEFT_EINVAL when `list` is NULL or not a
 * list, `i` is out of range, or the list is shared (its reference count is
 * above 1: then it is immutable, and this also refuses a list set into
 * itself).
 */
WEFT_API int weft_list_set(weft_value *list, size_t i, weft_value item);

/** True when `v` is the NIL a constructor (weft_str, weft_str_n,
 *  weft_bytes, weft_f64s, weft_list, weft_ptr) returned because it failed;
 *  false for weft_nil() and every other value. Releasing it is harmless. */
WEFT_API bool weft_value_failed(weft_value v);

/* -- reference counting ------------------------------------------------- */

/** Adds a reference and returns `v` (now owned once more). O(1). */
WEFT_API weft_value weft_value_retain(weft_value v);
/** Drops the reference `*v` holds and sets `*v` to NIL. NULL is ignored. */
WEFT_API void weft_value_release(weft_value *v);

/* -- accessors (all borrow; none fails: a wrong type gives a zero) ------ */

WEFT_API weft_type weft_type_of(weft_value v);
/** "nil", "bool", "int", "float", "str", "bytes", "list", "f64s", "ptr";
 *  "unknown" for any other number. Static storage. */
WEFT_API const char *weft_type_name(weft_type t);
WEFT_API bool weft_is_nil(weft_value v);
/** INT; a FLOAT truncated toward zero (saturating at INT64_MIN/INT64_MAX,
 *  NaN gives 0); BOOL as 0/1; otherwise 0. */
WEFT_API int64_t weft_as_int(weft_value v);
/** FLOAT; an INT converted; BOOL as 0/1; otherwise 0.0. */
WEFT_API double weft_as_float(weft_value v);
/** BOOL; INT/FLOAT != 0; otherwise false. */
WEFT_API bool weft_as_bool(weft_value v);
/** The NUL-terminated text of a STR, or NULL for other types. */
WEFT_API const char *weft_as_str(weft_value v);
/** Length in bytes of a STR or BYTES, items of a LIST, doubles of an F64S;
 *  0 for other types. */
WEFT_API size_t weft_len(weft_value v);
/** The bytes of a BYTES or STR value, or NULL. */
WEFT_API const void *weft_bytes_data(weft_value v);
/** Borrowed item `i` of a LIST; NIL when out of range or not a list. */
WEFT_API weft_value weft_list_get(weft_value v, size_t i);
/** The doubles of an F64S value, or NULL. */
WEFT_API const double *weft_f64s_data(weft_value v);
/** Writable doubles of an F64S value that the caller holds alone; NULL for
 *  other types and when the value is shared (reference count above 1). */
WEFT_API double *weft_f64s_data_mut(weft_value v);
/** The user pointer of a PTR value, or NULL. */
WEFT_API void *weft_ptr_get(weft_value v);

/**
 * Deep equality: same type and same content (lists item by item, F64S and
 * FLOAT by bit pattern, so NaN equals NaN and 0.0 differs from -0.0; PTR by
 * pointer identity). Iterative: lists nested beyond 32 levels take heap
 * memory, and if that runs out the answer is false (cannot prove equal).
 */
WEFT_API bool weft_value_equal(weft_value a, weft_value b);

#ifdef __cplusplus
}
#endif
#endif
