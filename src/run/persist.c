/*
 * weft_persist: a compute whose results the graph keeps (graph/attrs.c
 * holds them), so later computes take them as ready values.
 */
#include "base/alloc.h"
#include "run/run.h"

int
weft_persist(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts)
{
	if (!g || (n && !targets))
		return WEFT_EINVAL;
	weft_value *res = weft__calloc(n ? n : 1, sizeof *res);
	if (!res)
		return weft__graph_set_error(g, WEFT_ENOMEM, "persist: out of memory");
	int rc = weft_compute(g, n, targets, res, opts);
	for (size_t i = 0; rc == WEFT_OK && i < n; i++) {
		rc = weft__graph_persist_set(
		    g, (uint32_t)targets[i].id, res[i]);
		res[i] = weft_nil();
		if (rc != WEFT_OK)
			weft__graph_set_error(g, rc, "persist: out of memory");
	}
	for (size_t i = 0; i < n; i++)
		weft_value_release(&res[i]);
	weft__free(res);
	return rc;
}
