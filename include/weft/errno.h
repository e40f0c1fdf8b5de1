/**
 * \file weft/errno.h
 * \brief Error codes.
 *
 * Every function that can fail returns an `int`: WEFT_OK (0) on success or
 * one of the negative codes below. Results travel through out-parameters.
 * errno is never the error channel. When a function that takes callbacks
 * fails before it starts its work (bad arguments, no memory to set up),
 * no callback is called. Once the work has started, the callbacks that
 * report its end are always called, with its result: a compute whose task
 * failed calls `finish` with WEFT_ETASK (weft/compute.h, weft_callbacks).
 */
#ifndef WEFT_ERRNO_H
#define WEFT_ERRNO_H

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** X(name, value, message): one table gives the enum, weft_strerror() and
 *  weft_err_name(). Values are stable: new codes are only appended. */
#define WEFT_ERRNO_MAP(X)                                                     \
	X(ENOMEM, -1, "out of memory")                                        \
	X(EINVAL, -2, "invalid argument")                                     \
	X(ETASK, -3, "a task failed")                                         \
	X(ECANCELED, -4, "canceled")                                          \
	X(ETIMEDOUT, -5, "timed out")                                         \
	X(ECYCLE, -6, "cycle in graph")                                       \
	X(ENOTFOUND, -7, "not found")                                         \
	X(EPARSE, -8, "parse error")                                          \
	X(EIO, -9, "input/output error")                                      \
	X(ETYPE, -10, "wrong value type")                                     \
	X(EUPSTREAM, -11, "an upstream task failed")                          \
	X(EBUSY, -12, "resource busy")                                        \
	X(ERANGE, -13, "out of range")                                        \
	X(ENOSYS, -14, "not supported")

typedef enum weft_errno {
	WEFT_OK = 0,
#define WEFT__ERRNO_ENUM(name, value, msg) WEFT_##name = (value),
	WEFT_ERRNO_MAP(WEFT__ERRNO_ENUM)
#undef WEFT__ERRNO_ENUM
} weft_errno;

/** \return a short English description of `code` (static storage; never
 *  NULL; unknown codes give "unknown error"). Thread-safe. */
WEFT_API const char *weft_strerror(int code);

/** \return the code's name, e.g. "WEFT_ETASK" (static storage; never NULL;
 *  unknown codes give "WEFT_E?"). Thread-safe. */
WEFT_API const char *weft_err_name(int code);

#ifdef __cplusplus
}
#endif
#endif
