/*
 * The entry points of the graph-file fuzz target (fuzz_spec.c): those of
 * every target (fuzz_target.h); its cleanup keeps its own name.
 */
#ifndef WEFT_FUZZ_SPEC_H
#define WEFT_FUZZ_SPEC_H

#include "fuzz_target.h"

#define fuzz_spec_cleanup fuzz_target_cleanup

#endif
