/*
 * The entry points of a fuzz target (fuzz_spec.c, fuzz_csv.c), shared by
 * libFuzzer and by the replay program (replay.c), which runs the same code
 * on saved inputs in every build.
 */
#ifndef WEFT_FUZZ_TARGET_H
#define WEFT_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's hooks: set up once, then one input at a time. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frees what LLVMFuzzerInitialize made (the replay program calls it last,
 * so that a leak checker sees a clean exit). */
void fuzz_target_cleanup(void);

/* A promise of the code under test: when broken, says which and aborts,
 * which libFuzzer reports as a crash. */
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
