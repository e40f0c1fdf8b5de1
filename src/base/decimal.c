/*
 * Decimal text to numbers, without a NUL terminator and without the
 * locale: the CSV reader's general path, and any layer that reads numbers
 * out of a larger text.
 *
 * strtod() needs a terminated copy and is slow (two thirds of a CSV scan's
 * time went there); most numbers in data files are short decimals, which
 * have an exact, correctly rounded fast path. The rest go to strtod() in
 * the "C" locale semantics the format promises.
 */
#include "base/decimal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

const double weft__pow10[23] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
	1e20, 1e21, 1e22 };

#if LDBL_MANT_DIG >= 64
/* 10^k exactly in a 64-bit mantissa for k <= 27 (5^27 < 2^64). */
static long double
p10l(int k)
{
	long double r = 1;
	for (int i = 0; i < k; i++)
		r *= 10;
	return r;
}
#endif

/* Whether [s, e) is ASCII `word`, in any case. */
static int
is_word(const char *s, const char *e, const char *word)
{
	for (; s < e && *word; s++, word++)
		if ((*s | 0x20) != *word)
			return 0;
	return s == e && !*word;
}

/* strtod() also reads hexadecimal ("0x10", "0x1p3"), "nan(...)" and
 * leading white space, none of which is a decimal number: only signs,
 * digits, '.', 'e' and the words inf, infinity and nan get to it. */
static int
decimal_chars(const char *s, const char *e)
{
	const char *p = s + (s < e && (*s == '-' || *s == '+'));
	if (is_word(p, e, "inf") || is_word(p, e, "infinity") ||
	    is_word(p, e, "nan"))
		return 1;
	for (; p < e; p++)
		if (!((unsigned)(*p - '0') < 10 || *p == '.' || *p == 'e' ||
			*p == 'E' || *p == '-' || *p == '+'))
			return 0;
	return 1;
}

/* strtod() on a NUL-terminated copy: the slow path, correctly rounded. */
static int
slow_f64(const char *s, const char *e, double *out)
{
	if (!decimal_chars(s, e))
		return 0;
	char tmp[128];
	size_t n = (size_t)(e - s);
	char *b = n < sizeof tmp ? tmp : weft__malloc(n + 1);
	if (!b)
		return 0;
	memcpy(b, s, n);
	b[n] = 0;
	char *end;
	errno = 0;
	double v = strtod(b, &end);
	int ok = n > 0 && end == b + n;
	/* Overflow gives +-HUGE_VAL (inf) and underflow a denormal or 0:
	 * the correctly rounded results, so ERANGE is not an error. */
	if (b != tmp)
		weft__free(b);
	if (ok)
		*out = v;
	return ok;
}

int
weft__parse_f64(const char *s, const char *e, double *out)
{
	const char *p = s;
	int neg = 0;
	if (p < e && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	uint64_t m = 0;
	int nd = 0, ex = 0, digits = 0, trunc = 0;
	while (p < e && (unsigned)(*p - '0') < 10) {
		if (nd < 19) {
			m = m * 10 + (unsigned)(*p - '0');
			nd += m != 0;
		} else {
			ex++;
			trunc |= *p != '0';
		}
		p++;
		digits++;
	}
	if (p < e && *p == '.') {
		p++;
		while (p < e && (unsigned)(*p - '0') < 10) {
			if (nd < 19) {
				m = m * 10 + (unsigned)(*p - '0');
				nd += m != 0;
				ex--;
			} else {
				trunc |= *p != '0';
			}
			p++;
			digits++;
		}
	}
	if (!digits)
		goto slow;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		int eneg = 0, ed = 0, ev = 0;
		if (p < e && (*p == '-' || *p == '+')) {
			eneg = *p == '-';
			p++;
		}
		while (p < e && (unsigned)(*p - '0') < 10) {
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
			p++;
			ed++;
		}
		if (!ed)
			goto slow;
		ex += eneg ? -ev : ev;
	}
	if (p != e || trunc)
		goto slow;
	double v;
	if (m == 0) {
		v = 0.0;
	} else if (m <= ((uint64_t)1 << 53) && ex >= -22 && ex <= 22) {
		/* Clinger's fast path: both operands exact, one rounding. */
		v = ex < 0 ? (double)m / weft__pow10[-ex] : (double)m * weft__pow10[ex];
#if LDBL_MANT_DIG >= 64
	} else if (ex >= -27 && ex <= 27) {
		/* m (< 2^64) and 10^|ex| are exact in the 64-bit mantissa of
		 * x87 long double, so L is the once-rounded result there.
		 * Rounding L again to double is the correct rounding of the
		 * exact value unless L sits exactly on a midpoint between two
		 * doubles (the only case where the two roundings can differ):
		 * that one case goes to strtod. */
		long double L = ex < 0 ? (long double)m / p10l(-ex) :
					 (long double)m * p10l(ex);
		int e2;
		long double f = frexpl(L, &e2);
		uint64_t bits = (uint64_t)ldexpl(f, 64);
		if ((bits & 0x7FF) == 0x400)
			goto slow;
		v = (double)L;
#endif
	} else {
		goto slow;
	}
	*out = neg ? -v : v;
	return 1;
slow:
	return slow_f64(s, e, out);
}

int
weft__parse_i64(const char *s, const char *e, int64_t *out)
{
	const char *p = s;
	int neg = 0;
	if (p < e && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	if (p == e)
		return 0;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < e; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d >= 10 || v > (lim - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 1;
}

