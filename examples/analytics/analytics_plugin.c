/* The analytics functions (csv.chunk, csv.merge, csv.frame, csv.info,
 * array.gen, array.moments, ...) as a plugin for `weft run`, for a `weft`
 * built without them in its registry:
 *
 *   python3 examples/analytics/csv_graph.py data.csv 8 > groupby.json
 *   weft run --plugin build/examples/analytics/weft_analytics.so groupby.json
 */
#include <weft.h>

WEFT_PLUGIN_EXPORT int weft_plugin_init(weft_registry *reg);

WEFT_PLUGIN_EXPORT int
weft_plugin_init(weft_registry *reg)
{
	return weft_registry_add_analytics(reg);
}
