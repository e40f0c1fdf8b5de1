/*
 * getitem nodes (Dask's `nout`): a node that takes item i of another
 * node's result. Its function reports a wrong type or index with
 * weft_fail, so it lives in the run layer; building the node uses only the
 * graph's public API.
 */
#include <inttypes.h>
#include <stdio.h>

#include "weft/compute.h"
#include "weft/task.h"

static int
getitem_fn(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	int64_t i = weft_as_int(a[1]);
	weft_type t = weft_type_of(a[0]);
	if (i < 0 || (size_t)i >= weft_len(a[0]) ||
	    (t != WEFT_LIST && t != WEFT_F64S))
		return weft_fail(ctx, "getitem: no item %" PRId64 " in a %s of %zu",
		    i, weft_type_name(t), weft_len(a[0]));
	if (t == WEFT_LIST)
		*out = weft_value_retain(weft_list_get(a[0], (size_t)i));
	else
		*out = weft_float(weft_f64s_data(a[0])[i]);
	return WEFT_OK;
}

weft_node
weft_getitem(weft_graph *g, weft_node n, size_t i)
{
	char kb[200], key[256];
	if (weft_node_index(g, n) != (size_t)-1) {
		snprintf(key, sizeof key, "getitem-%s-%zu",
		    weft_node_key(g, n, kb, sizeof kb), i);
		weft_node old = weft_graph_find(g, key);
		if (weft_node_ok(old))
			return old;
		return WEFT_DELAYED_NAMED(g, key, getitem_fn, weft_ref(n),
		    weft_lit(weft_int((int64_t)i)));
	}
	return WEFT_DELAYED(g, getitem_fn, weft_ref(n),
	    weft_lit(weft_int((int64_t)i))); /* reports the error */
}

