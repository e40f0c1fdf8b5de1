/*
 * The entry points of every fuzz target here (fuzz_spec.c, fuzz_write.c,
 * ...), shared by libFuzzer and by the replay program (replay.c), which
 * runs a target's code on its saved inputs in every build.
 */
#ifndef WEFT_FUZZ_TARGET_H
#define WEFT_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's hooks: set up once, then one input at a time. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frees what LLVMFuzzerInitialize made (the replay program calls it last,
 * so that a leak checker sees a clean exit). */
void fuzz_target_cleanup(void);

#endif
