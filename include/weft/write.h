/**
 * \file weft/write.h
 * \brief Writing values as JSON or plain text, to a FILE or to any sink.
 *
 * The writer walks a value once, in constant C stack (a list nested a
 * million deep is fine), and hands its text to a sink piece by piece; it
 * allocates only its walk stack. Lists may share sublists, so a value of a
 * few kilobytes in memory can describe far more text than any disk holds:
 * a sink that counts what it was given and refuses past a limit stops the
 * walk at once (weft_value_write_to()), which is how a program bounds its
 * output.
 *
 * Thread-safety: the functions here only read the value; any number of
 * threads may write the same value at once to different sinks.
 */
#ifndef WEFT_WRITE_H
#define WEFT_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/errno.h"
#include "weft/value.h"
#include "weft/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags of weft_value_write() and weft_value_write_to(). */
enum weft_write_flags {
	/** Plain text: a string as is (not quoted), NaN and infinities as
	 *  nan/inf. Without it: JSON, where NaN and infinities are null. */
	WEFT_WRITE_TEXT = 1u << 0,
};

/**
 * Where weft_value_write_to() puts its text: `n` bytes at `s` (not
 * NUL-terminated; n may be 0), with the `ud` given to the writer. Returns
 * WEFT_OK to go on, or a negative WEFT_E* code to stop the walk: the writer
 * then returns that code, and calls the sink no more.
 */
typedef int (*weft_write_fn)(void *ud, const char *s, size_t n);

/**
 * Writes `v` (borrowed) through `sink`: ints as integers, floats with
 * round-trip precision (always with a '.' or an exponent), strings quoted
 * and escaped (invalid UTF-8 as U+FFFD), lists and f64s as arrays, null,
 * true/false, bytes as {"bytes": "<hex>"}, pointers as "<ptr 0x...>".
 * `flags` is 0 (JSON) or WEFT_WRITE_TEXT (see weft_write_flags; in text, a
 * string inside a list is still quoted, so a list reads back as JSON).
 *
 * Returns WEFT_OK, the first error code the sink returned (the text written
 * so far is then a prefix of the whole), WEFT_ENOMEM (the walk's stack),
 * or WEFT_EINVAL (no sink, unknown flags).
 */
WEFT_API int weft_value_write_to(
    weft_write_fn sink, void *ud, weft_value v, unsigned flags);

/**
 * Writes `v` (borrowed) to `f`, as weft_value_write_to() describes. It stops
 * at the first failed write (it does not walk the rest of a huge value into
 * a full disk or a closed pipe) and returns WEFT_EIO then; errno tells why
 * (EPIPE, ENOSPC, ...), as fwrite() left it. Other returns: WEFT_OK,
 * WEFT_ENOMEM, WEFT_EINVAL (no file, unknown flags). Nothing is flushed:
 * the caller's fflush() reports what stdio still holds.
 */
WEFT_API int weft_value_write(FILE *f, weft_value v, unsigned flags);

/**
 * Sets `*size` to the number of bytes weft_value_write_to() would write for
 * `v` with `flags`, without writing. A list shared many times inside `v` is
 * measured once, so this takes time in proportion to the memory `v` holds,
 * not to its text: a value that would print as terabytes is measured in
 * microseconds (and a program can refuse it before writing anything). The
 * count saturates at UINT64_MAX.
 *
 * Returns WEFT_OK, WEFT_ENOMEM (its table of lists), or WEFT_EINVAL (no
 * `size`, unknown flags).
 */
WEFT_API int weft_value_write_size(
    weft_value v, unsigned flags, uint64_t *size);

#ifdef __cplusplus
}
#endif
#endif
