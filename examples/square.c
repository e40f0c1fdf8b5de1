/* The classic delayed example: square each of 1..5 as a deferred call,
 * then compute all five at once on the default pool.
 *
 *     $ ./build/examples/square
 *     (1, 4, 9, 16, 25)
 */
#include <stdio.h>

#include <weft.h>

static int
square(weft_ctx *ctx, size_t nargs, const weft_value *args, weft_value *out)
{
	(void)ctx;
	(void)nargs;
	int64_t x = weft_as_int(args[0]);
	*out = weft_int(x * x);
	return WEFT_OK;
}

int
main(void)
{
	weft_graph *g = weft_graph_new();
	if (!g)
		return 1;
	weft_node sq[5];
	for (int i = 0; i < 5; i++) /* nothing runs yet: this builds a graph */
		sq[i] = WEFT_DELAYED(g, square, weft_lit(weft_int(i + 1)));

	weft_value r[5];
	int rc = weft_compute(g, 5, sq, r, NULL); /* NULL: the default pool */
	if (rc != WEFT_OK) {
		fprintf(stderr, "square: %s\n", weft_graph_error(g));
		weft_graph_free(g);
		return 1;
	}
	printf("(");
	for (int i = 0; i < 5; i++) {
		printf("%lld%s", (long long)weft_as_int(r[i]), i < 4 ? ", " : ")\n");
		weft_value_release(&r[i]);
	}
	weft_graph_free(g);
	weft_shutdown();
	return 0;
}
