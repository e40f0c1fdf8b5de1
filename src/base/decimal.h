/*
 * Decimal text [s, e) to numbers (decimal.c). Both accept exactly what the
 * C library would read in the "C" locale from the whole range, and nothing
 * around it: no spaces, no hexadecimal (strtod's "0x10" is refused), no
 * trailing text.
 */
#ifndef WEFT_BASE_DECIMAL_H
#define WEFT_BASE_DECIMAL_H

#include <stdint.h>

/* 1e0 .. 1e22, each exact in a double. */
extern const double weft__pow10[23];

/* A decimal floating-point number ("1", "-2.5e3", "inf", "nan"), correctly
 * rounded (the double strtod() gives). 1 and *out, or 0 when [s, e) is not
 * such a number. */
int weft__parse_f64(const char *s, const char *e, double *out);
/* A decimal integer that fits int64_t, with an optional sign. 1 and *out,
 * or 0. */
int weft__parse_i64(const char *s, const char *e, int64_t *out);

#endif
