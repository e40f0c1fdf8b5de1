/*
 * Dynamic tasks: weft_spawn / weft_wait inside a running task.
 *
 * A child is a pointer job (sched.h) pushed on the spawning worker's own
 * deque, so an idle worker can steal it. weft_wait runs other work until
 * the child is done: the parent's worker pops its own children first
 * (LIFO), so an unstolen child runs inline, as in Cilk.
 *
 * Child records come from a per-thread free list: the parent allocates and
 * frees them on its own worker, so the hot path has no lock and no malloc
 * once warm. The list is freed when the thread exits.
 */
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "base/alloc.h"
#include "run/run.h"
#include "weft/task.h"

#define WEFT__CHILD_INLINE_ARGS 4

struct weft_task {
	weft__pjob job;
	weft__run *run;
	uint32_t node; /* the spawning task's node: children share its key */
	weft_fn fn;
	size_t nargs;
	weft_value *args;
	weft_value inl[WEFT__CHILD_INLINE_ARGS];
	weft_value result;
	int rc;
	char *msg;		 /* failure message (owned) or NULL */
	_Atomic uint32_t done;
	weft_ctx *parent;
	weft_task *next; /* in the parent's list, or the free list */
};

static _Thread_local weft_task *weft__free_tasks;
static tss_t weft__tasks_key;
static once_flag weft__tasks_once = ONCE_FLAG_INIT;

static void
drop_free_list(void *unused)
{
	/* thread-locals are still there while key destructors run */
	(void)unused;
	weft_task *t = weft__free_tasks;
	weft__free_tasks = NULL;
	while (t) {
		weft_task *n = t->next;
		weft__free(t);
		t = n;
	}
}

static void
tasks_init(void)
{
	/* the destructor frees a thread's cached records when it exits */
	if (tss_create(&weft__tasks_key, drop_free_list) != thrd_success)
		weft__tasks_key = 0;
}

static weft_task *
task_alloc(void)
{
	weft_task *t = weft__free_tasks;
	if (t) {
		weft__free_tasks = t->next;
		return t;
	}
	call_once(&weft__tasks_once, tasks_init);
	/* any non-NULL value arms the destructor for this thread */
	if (!tss_get(weft__tasks_key))
		tss_set(weft__tasks_key, &weft__free_tasks);
	return weft__malloc(sizeof *t);
}

static void
task_recycle(weft_task *t)
{
	if (t->args != t->inl)
		weft__free(t->args);
	t->next = weft__free_tasks;
	weft__free_tasks = t;
}

static void
child_run(weft__pjob *j, weft__worker *w)
{
	weft_task *t = (weft_task *)j;
	weft__run *r = t->run;
	if (weft_atomic_load_relaxed(&r->failed)) {
		t->rc = WEFT_ECANCELED;
	} else {
		weft_ctx ctx;
		ctx.run = r;
		ctx.node = t->node;
		ctx.w = w;
		ctx.worker = (int)weft__worker_index(w);
		ctx.has_msg = 0;
		ctx.children = NULL;
		t->rc = t->fn(&ctx, t->nargs, t->args, &t->result);
		if (ctx.children)
			weft__ctx_wait_children(&ctx);
		if (t->rc != WEFT_OK) {
			weft_value_release(&t->result);
			t->msg = weft__strdup(ctx.has_msg ? ctx.msg
						      : weft_strerror(t->rc));
		}
	}
	for (size_t i = 0; i < t->nargs; i++)
		weft_value_release(&t->args[i]);
	weft_atomic_store_release(&t->done, 1);
}

weft_task *
weft_spawn(weft_ctx *ctx, weft_fn fn, size_t nargs, const weft_value *args)
{
	if (!ctx || !fn || (nargs && !args))
		return NULL;
	weft__worker *w = ctx->w;
	weft_task *t = task_alloc();
	if (!t)
		return NULL;
	t->job.run = child_run;
	t->run = ctx->run;
	t->node = ctx->node;
	t->fn = fn;
	t->nargs = nargs;
	t->args = t->inl;
	if (nargs > WEFT__CHILD_INLINE_ARGS) {
		t->args = weft__malloc(nargs * sizeof *t->args);
		if (!t->args) {
			t->args = t->inl;
			task_recycle(t);
			return NULL;
		}
	}
	for (size_t i = 0; i < nargs; i++)
		t->args[i] = weft_value_retain(args[i]);
	t->result = weft_nil();
	t->rc = WEFT_OK;
	t->msg = NULL;
	weft_atomic_store_relaxed(&t->done, 0);
	t->parent = ctx;
	t->next = ctx->children;
	ctx->children = t;
	if (w && weft__pjob_fits(&t->job)) {
		weft__worker_push(w, weft__pjob_encode(&t->job));
		weft__worker_notify(w);
	} else {
		child_run(&t->job, w); /* no queue to put it on */
	}
	return t;
}

/* Takes t off its parent's list of children. */
static int
child_unlink(weft_ctx *ctx, weft_task *t)
{
	for (weft_task **p = &ctx->children; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			return 1;
		}
	return 0;
}

static void
join(weft__worker *w, weft_task *t)
{
	if (w)
		weft__worker_help_until(w, &t->done);
	else
		while (!weft_atomic_load_acquire(&t->done))
			weft_cpu_relax();
}

int
weft_wait(weft_ctx *ctx, size_t n, weft_task **tasks, weft_value *results)
{
	if (!ctx || (n && !tasks))
		return WEFT_EINVAL;
	int rc = WEFT_OK;
	ctx->child_msg[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (results)
			results[i] = weft_nil();
		weft_task *t = tasks[i];
		if (!t)
			continue;
		if (t->parent != ctx || !child_unlink(ctx, t)) {
			if (rc == WEFT_OK)
				rc = WEFT_EINVAL;
			continue;
		}
		join(ctx->w, t);
		if (t->rc != WEFT_OK && rc == WEFT_OK) {
			rc = t->rc;
			snprintf(ctx->child_msg, sizeof ctx->child_msg, "%s",
			    t->msg ? t->msg : weft_strerror(t->rc));
		}
		if (results)
			results[i] = t->result;
		else
			weft_value_release(&t->result);
		weft__free(t->msg);
		task_recycle(t);
	}
	return rc;
}

void
weft__ctx_wait_children(weft_ctx *ctx)
{
	while (ctx->children) {
		weft_task *t = ctx->children;
		weft_wait(ctx, 1, &t, NULL);
	}
}

const char *
weft_ctx_child_error(const weft_ctx *ctx)
{
	return ctx ? ctx->child_msg : "";
}
