/*
 * The run-time side of a graph file: every node of a spec's graph runs
 * weft__spec_eval_task(), which evaluates the key's computation, nested tasks
 * inline (as Dask does). Also the value writer of weft/spec.h.
 */
#include <stdio.h>

#include "base/alloc.h"
#include "lib/lib.h"
#include "spec/spec_int.h"

/* Argument arrays of nested calls up to this size live on the stack. */
#define SMALL_ARGS 8

static int eval(weft_ctx *ctx, spec_task *t, const spec_expr *e,
    const weft_value *deps, weft_value *out);

static int
eval_call(weft_ctx *ctx, spec_task *t, const spec_expr *e,
    const weft_value *deps, weft_value *out)
{
	weft_value small[SMALL_ARGS], *args = small;
	uint32_t done = 0;
	int rc = WEFT_OK;

	if (e->n > SMALL_ARGS) {
		args = weft__calloc(e->n, sizeof(*args));
		if (!args)
			return weft_fail(ctx, "out of memory for %u arguments",
			    (unsigned)e->n);
	}
	for (; done < e->n && rc == WEFT_OK; done++) {
		args[done] = weft_nil();
		rc = eval(ctx, t, e->kids[done], deps, &args[done]);
	}
	if (rc == WEFT_OK) {
		rc = e->fn->fn(ctx, e->n, args, out);
		if (rc != WEFT_OK) {
			weft_value_release(out);
			t->failed = e->fn;
		}
	}
	for (uint32_t i = 0; i < done; i++)
		weft_value_release(&args[i]);
	if (args != small)
		weft__free(args);
	return rc;
}

static int
eval(weft_ctx *ctx, spec_task *t, const spec_expr *e, const weft_value *deps,
    weft_value *out)
{
	switch (e->kind) {
	case X_LIT:
		*out = weft_value_retain(e->lit);
		return WEFT_OK;
	case X_ARG:
		*out = weft_value_retain(deps[e->n]);
		return WEFT_OK;
	case X_CALL:
		return eval_call(ctx, t, e, deps, out);
	default: {
		weft_value list;
		if (weft_list_new(e->n, &list) != WEFT_OK)
			return weft_fail(ctx, "out of memory for a list of %u",
			    (unsigned)e->n);
		for (uint32_t i = 0; i < e->n; i++) {
			weft_value it = weft_nil();
			int rc = eval(ctx, t, e->kids[i], deps, &it);
			if (rc != WEFT_OK) {
				weft_value_release(&list);
				return rc;
			}
			weft_list_set(&list, i, it);
		}
		*out = list;
		return WEFT_OK;
	}
	}
}

int
weft__spec_eval_task(
    weft_ctx *ctx, size_t nargs, const weft_value *args, weft_value *out)
{
	spec_task *t = weft_ptr_get(args[0]);
	int rc;

	t->failed = NULL;
	if (t->direct) {
		/* The node's arguments are the call's: no evaluation. */
		rc = t->e->fn->fn(ctx, nargs - 1, args + 1, out);
		if (rc != WEFT_OK)
			t->failed = t->e->fn;
		return rc;
	}
	return eval(ctx, t, t->e, args + 1, out);
}
