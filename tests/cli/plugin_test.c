/* A plugin for the tests: square (which fails on a non-int), greet, and
 * one with a long name (for the columns of 'weft funcs'). */
#include "weft.h"

static int
square(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	if (weft_type_of(a[0]) != WEFT_INT)
		return weft_fail(ctx, "square wants an int, got a %s",
		    weft_type_name(weft_type_of(a[0])));
	*out = weft_int(weft_as_int(a[0]) * weft_as_int(a[0]));
	return WEFT_OK;
}

static int
greet(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	const char *who = n ? weft_as_str(a[0]) : "world";
	(void)ctx;
	if (!who)
		return weft_fail(ctx, "greet wants a string");
	*out = weft_str(who[0] ? who : "nobody");
	return weft_is_nil(*out) ? weft_fail(ctx, "out of memory") : WEFT_OK;
}

WEFT_PLUGIN_EXPORT int weft_plugin_init(weft_registry *reg);

WEFT_PLUGIN_EXPORT int
weft_plugin_init(weft_registry *reg)
{
	int rc = weft_registry_add(reg, "square", square, 1, 1, "x * x");
	if (rc == WEFT_OK)
		rc = weft_registry_add(
		    reg, "greet", greet, 0, 1, "its argument, or 'world'");
	if (rc == WEFT_OK)
		rc = weft_registry_add(reg,
		    "greet_with_a_name_longer_than_the_column", greet, 0, 1,
		    "greet, under a long name");
	return rc;
}
