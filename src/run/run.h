/*
 * One compute over a graph. Private to the run layer; weft_ctx is defined
 * here because it is what a running task holds.
 */
#ifndef WEFT_RUN_RUN_H
#define WEFT_RUN_RUN_H

#include <stdint.h>

#include "graph/graph.h"
#include "sched/sched.h"

typedef struct weft__run weft__run;

struct weft_ctx {
	weft__run *run;
	uint32_t node;
	int worker;
	int has_msg;
	char key[128];
	char msg[1024];
};

#endif
