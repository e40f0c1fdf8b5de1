/*
 * How a fuzz target checks a promise of the code under test: when broken,
 * it says which (file, line, condition) and aborts, which libFuzzer
 * reports as a crash.
 */
#ifndef WEFT_FUZZ_CHECK_H
#define WEFT_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                             \
	do {                                                                 \
		if (!(c))                                                    \
			fuzz_broken(__FILE__, __LINE__, #c);                 \
	} while (0)

static inline _Noreturn void
fuzz_broken(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: broken promise: %s\n", file, line, what);
	abort();
}

#endif
