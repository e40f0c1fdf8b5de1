/*
 * The plugin behind the Pyro4 example: the seed's server object, whose one
 * method turns "Input Data" into "Processed data: Input Data", as a weft
 * function. `weft serve --pyro --plugin weft_pyro4_plugin.so` serves it to
 * the seed's unchanged client (client.py), beside every built-in function.
 */
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define PREFIX "Processed data: "

/* process_data(data): "Processed data: " + data. */
static int
process_data(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	size_t plen = sizeof(PREFIX) - 1, len;
	char *buf;

	(void)n;
	if (weft_type_of(a[0]) != WEFT_STR)
		return weft_fail(ctx, "process_data wants a str, got a %s",
		    weft_type_name(weft_type_of(a[0])));
	len = weft_len(a[0]);
	buf = malloc(plen + len + 1);
	if (!buf)
		return weft_fail(ctx, "out of memory");
	memcpy(buf, PREFIX, plen);
	memcpy(buf + plen, weft_as_str(a[0]), len);
	*out = weft_str_n(buf, plen + len);
	free(buf);
	if (weft_type_of(*out) != WEFT_STR)
		return weft_fail(ctx, "out of memory");
	return WEFT_OK;
}

WEFT_PLUGIN_EXPORT int weft_plugin_init(weft_registry *reg);

WEFT_PLUGIN_EXPORT int
weft_plugin_init(weft_registry *reg)
{
	return weft_registry_add(reg, "process_data", process_data, 1, 1,
	    "process_data(data): \"Processed data: \" + data (the Pyro4 "
	    "example)");
}
