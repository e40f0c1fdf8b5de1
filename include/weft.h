/**
 * \file weft.h
 * \brief weft: lazy task-graph parallel computing in C11.
 *
 * This umbrella header and the headers it includes are the whole public API:
 * if a function, type or macro does not appear in them, it is not a
 * published interface and may change without notice.
 *
 * \code
 * static int square(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
 * { *o = weft_int(weft_as_int(a[0]) * weft_as_int(a[0])); return WEFT_OK; }
 *
 * weft_graph *g = weft_graph_new();
 * weft_node x = WEFT_DELAYED(g, square, weft_lit(weft_int(7)));
 * weft_value r;
 * if (weft_compute(g, 1, &x, &r, NULL) == WEFT_OK)   // r = 49
 *         weft_value_release(&r);
 * weft_graph_free(g);
 * \endcode
 */
#ifndef WEFT_H
#define WEFT_H

#include "weft/version.h"
#include "weft/errno.h"
#include "weft/alloc.h"
#include "weft/value.h"
#include "weft/write.h"
#include "weft/graph.h"
#include "weft/pool.h"
#include "weft/compute.h"
#include "weft/future.h"
#include "weft/task.h"
#include "weft/trace.h"
#include "weft/registry.h"
#include "weft/spec.h"
#include "weft/array.h"
#include "weft/csv.h"

#endif
