/* A plugin whose init registers a function, then fails: the registry
 * must drop what it added. */
#include "weft.h"

static int
half(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx, (void)n, (void)a;
	*out = weft_nil();
	return WEFT_OK;
}

WEFT_PLUGIN_EXPORT int weft_plugin_init(weft_registry *reg);

WEFT_PLUGIN_EXPORT int
weft_plugin_init(weft_registry *reg)
{
	if (weft_registry_add(reg, "half_done", half, 0, 0, "never kept"))
		return WEFT_ENOMEM;
	return WEFT_EINVAL;
}
