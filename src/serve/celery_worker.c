/*
 * `weft worker`'s engine (see celery_worker.h): one thread owns the broker
 * connection and every job's life; pool workers only push finished jobs
 * onto a list and poke an eventfd.
 *
 * A job's life: delivered -> (waiting for its eta) -> running -> done ->
 * chain/callbacks published -> result published -> acked -> freed. A job
 * past its hard time limit gets its FAILURE and ack at the limit and is
 * "abandoned": freed when its task finally returns (a C function cannot be
 * killed from outside; it can poll weft_ctx_canceled()).
 *
 * After a lost connection the broker redelivers every unacked message, so
 * jobs of the old connection ("orphans", told apart by a generation
 * number) finish without publishing anything: their messages run again.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "celery_msg.h"
#include "celery_worker.h"
#include "jsonval.h"

/* NEW: decoded, not started. ETA: held until its eta. ABANDONED: answered
 * (time limit), its task still running. */
enum job_state { J_NEW, J_ETA, J_RUNNING, J_ABANDONED };

struct worker;

struct job {
	struct job *next_done, *next_started; /* hand-back lists (w->mu) */
	struct job *prev, *next;	      /* all jobs (broker thread) */
	struct worker *w;
	celery_req req;
	uint64_t tag;
	unsigned gen; /* connection it came on */
	enum job_state state;
	const weft_func_info *fn;
	weft_graph *g;
	weft_future *f;
	weft_callbacks cb;
	_Atomic int64_t started_ns; /* set by the pool when the task starts */
	int fn_rc;		    /* the task's return code (pool, then us) */
	double eta_at;		    /* monotonic seconds to start at */
	int soft_canceled;
};

struct worker {
	const celery_worker_opts *o;
	broker *b;
	unsigned gen;
	int consuming;
	unsigned prefetch, neta;
	struct job *jobs; /* every live job */
	size_t nlive;	  /* jobs not abandoned nor orphaned */
	pthread_mutex_t mu;
	struct job *done, *started; /* pushed by pool workers */
	char host[256];
	unsigned long ok, failed;
	/* Acks of finished jobs, sent together at the end of a drain. */
	uint64_t *acks;
	size_t nacks, acks_cap;
};

/* The signal handler's only way in. */
static int wake_fd = -1;
static volatile sig_atomic_t stop_requests;

/* Seconds on a clock: CLOCK_MONOTONIC for deadlines, CLOCK_REALTIME to
 * compare with the UNIX times of eta and expires. */
static double
clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#define mono_now() clock_s(CLOCK_MONOTONIC)
#define unix_now() clock_s(CLOCK_REALTIME)

static void
wake(void)
{
	uint64_t one = 1;
	ssize_t r = write(wake_fd, &one, sizeof one);
	(void)r; /* a full counter already means "wake up" */
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requests++;
	wake();
}

static void
logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
logf_(const char *fmt, ...)
{
	va_list ap;
	fputs("weft worker: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The URL without its password, for messages. */
static void
safe_url(const char *url, char *buf, size_t size)
{
	const char *s = strstr(url, "://"), *at = strrchr(url, '@'), *colon;

	snprintf(buf, size, "%s", url);
	if (!s || !at || at < s)
		return;
	colon = memchr(s + 3, ':', (size_t)(at - s - 3));
	if (colon)
		snprintf(buf, size, "%.*s:***%s", (int)(colon - url), url, at);
}

/* -- pool side: the only code that runs on pool workers ------------------- */

static void
on_pretask(void *ud, const weft_task_info *ti)
{
	struct job *j = ud;
	atomic_store_explicit(&j->started_ns, ti->start_ns ? ti->start_ns : 1,
	    memory_order_release);
	if (j->w->o->track_started) {
		pthread_mutex_lock(&j->w->mu);
		j->next_started = j->w->started;
		j->w->started = j;
		pthread_mutex_unlock(&j->w->mu);
		wake();
	}
}

static void
on_posttask(void *ud, const weft_task_info *ti)
{
	struct job *j = ud;
	pthread_mutex_lock(&j->w->mu);
	j->fn_rc = ti->rc;
	j->next_done = j->w->done;
	j->w->done = j;
	pthread_mutex_unlock(&j->w->mu);
	wake();
}

/* -- jobs ------------------------------------------------------------------ */

static void
job_link(struct worker *w, struct job *j)
{
	j->next = w->jobs;
	j->prev = NULL;
	if (w->jobs)
		w->jobs->prev = j;
	w->jobs = j;
	w->nlive++;
}

/* Unlinks and frees. The compute must have ended (or never started). */
static void
job_free(struct worker *w, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		w->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	if (j->state != J_ABANDONED && j->gen == w->gen)
		w->nlive--;
	weft_future_free(j->f);
	weft_graph_free(j->g);
	celery_req_clear(&j->req);
	free(j);
}

/* -- publishing ------------------------------------------------------------ */

static void lost(struct worker *w, const char *why);

static int
publish(struct worker *w, const broker_out *out)
{
	char err[512];

	if (!w->b)
		return WEFT_EIO;
	int rc = broker_publish(w->b, out, err, sizeof err);
	if (rc == WEFT_EIO)
		lost(w, err);
	else if (rc != WEFT_OK)
		logf_("cannot publish: %s", err);
	return rc;
}

/* Publishes a result meta to the request's reply queue, when it has one. */
static int
reply(struct worker *w, const celery_req *r, const char *status,
    const json_t *result, const celery_exc *exc)
{
	size_t len;
	char *body;
	int rc;

	if (!r->reply_to || !r->reply_to[0] || !r->id || !r->id[0])
		return WEFT_OK;
	body = celery_result_body(r->id, status, result, exc, &len);
	if (!body) {
		logf_("task %s: out of memory for its result", r->id);
		return WEFT_ENOMEM;
	}
	broker_out o = { .exchange = "",
		.routing_key = r->reply_to,
		.content_type = "application/json",
		.content_encoding = "utf-8",
		.correlation_id = r->correlation_id[0] ? r->correlation_id
						       : r->id,
		.body = body,
		.body_len = len };
	rc = publish(w, &o);
	free(body);
	return rc;
}

static void
ack(struct worker *w, uint64_t tag)
{
	if (w->b && broker_ack(w->b, tag, 0) != WEFT_OK)
		lost(w, "ack failed: connection lost");
}

/* Queues the ack of a finished job: its result is published already. */
static void
ack_later(struct worker *w, uint64_t tag)
{
	if (w->nacks == w->acks_cap) {
		size_t cap = w->acks_cap ? 2 * w->acks_cap : 64;
		uint64_t *a = realloc(w->acks, cap * sizeof *a);
		if (!a) {
			ack(w, tag);
			return;
		}
		w->acks = a;
		w->acks_cap = cap;
	}
	w->acks[w->nacks++] = tag;
}

static int
tag_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Sends the queued acks: one "multiple" ack for those below every
 * delivery still held (the usual case with short tasks), one each for
 * the rest. Tasks finish out of order, so a held message may sit between
 * two finished ones: it must not be acked with them. */
static void
flush_acks(struct worker *w)
{
	uint64_t held = UINT64_MAX;
	size_t i = 0;

	if (!w->nacks)
		return;
	for (struct job *j = w->jobs; j; j = j->next)
		if (j->gen == w->gen && j->state != J_ABANDONED && j->tag < held)
			held = j->tag;
	qsort(w->acks, w->nacks, sizeof *w->acks, tag_cmp);
	while (i < w->nacks && w->acks[i] < held)
		i++;
	if (i && w->b && broker_ack(w->b, w->acks[i - 1], i > 1) != WEFT_OK)
		lost(w, "ack failed: connection lost");
	for (; i < w->nacks && w->b; i++)
		ack(w, w->acks[i]);
	w->nacks = 0;
}

static void
reject(struct worker *w, uint64_t tag, int requeue)
{
	if (w->b && broker_reject(w->b, tag, requeue) != WEFT_OK)
		lost(w, "reject failed: connection lost");
}

/* A FAILURE for a task that never ran (cannot run, or unknown). */
static void
refuse(struct worker *w, const celery_req *r, uint64_t tag,
    const celery_exc *exc, int ack_it)
{
	logf_("task %s[%s] refused: %s: %s", r->task && r->task[0] ? r->task
								  : "?",
	    r->id && r->id[0] ? r->id : "no id", exc->type, exc->message);
	w->failed++;
	reply(w, r, "FAILURE", NULL, exc);
	if (ack_it)
		ack(w, tag);
	else
		reject(w, tag, 0); /* never redelivered: it can never run */
}

/* -- running ---------------------------------------------------------------- */

/* "add() takes 2 positional arguments but 3 were given", as Python says. */
static int
check_call(const weft_func_info *fi, const celery_req *r, celery_exc *exc)
{
	size_t n = json_array_size(r->args);
	long lo = fi->min_args, hi = fi->max_args;

	if (json_object_size(r->kwargs)) {
		char names[512] = "";
		const char *k;
		json_t *v;
		json_object_foreach(r->kwargs, k, v)
		{
			size_t l = strlen(names);
			snprintf(names + l, sizeof names - l, "%s'%s'",
			    l ? ", " : "", k);
		}
		celery_exc_set(exc, "builtins", "TypeError",
		    "%s() got unexpected keyword argument(s) %s (weft "
		    "functions take positional arguments only)",
		    fi->name, names);
		return -1;
	}
	if ((long)n >= lo && (hi == WEFT_ARGS_ANY || (long)n <= hi))
		return 0;
	if (hi == lo)
		celery_exc_set(exc, "builtins", "TypeError",
		    "%s() takes %ld positional argument%s but %zu %s given",
		    fi->name, lo, lo == 1 ? "" : "s", n,
		    n == 1 ? "was" : "were");
	else if (hi == WEFT_ARGS_ANY)
		celery_exc_set(exc, "builtins", "TypeError",
		    "%s() takes at least %ld positional argument%s but %zu "
		    "%s given",
		    fi->name, lo, lo == 1 ? "" : "s", n,
		    n == 1 ? "was" : "were");
	else
		celery_exc_set(exc, "builtins", "TypeError",
		    "%s() takes from %ld to %ld positional arguments but %zu "
		    "%s given",
		    fi->name, lo, hi, n, n == 1 ? "was" : "were");
	return -1;
}

/* The function a task name runs: --task NAME=FUNC, else the name's last
 * dotted part, else the whole name. */
static const weft_func_info *
lookup(const struct worker *w, const char *task)
{
	const celery_worker_opts *o = w->o;
	const char *dot = strrchr(task, '.');

	for (size_t i = 0; i < o->ntask_map; i++) {
		const char *eq = strchr(o->task_map[i], '=');
		if (eq && (size_t)(eq - o->task_map[i]) == strlen(task) &&
		    strncmp(o->task_map[i], task, strlen(task)) == 0)
			return weft_registry_find(o->reg, eq + 1);
	}
	if (dot && dot[1]) {
		const weft_func_info *fi = weft_registry_find(o->reg, dot + 1);
		if (fi)
			return fi;
	}
	return weft_registry_find(o->reg, task);
}

/* Builds the one-node graph and starts it. On failure *exc says why. */
static int
start(struct worker *w, struct job *j, celery_exc *exc)
{
	size_t n = json_array_size(j->req.args);
	weft_arg *args = calloc(n ? n : 1, sizeof *args);
	weft_node node;
	char err[512];

	if (!args || !(j->g = weft_graph_new())) {
		free(args);
		celery_exc_set(exc, "builtins", "MemoryError", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		weft_value v;
		if (jsonval_to_value(json_array_get(j->req.args, i), 0, &v, err,
			sizeof err) != WEFT_OK) {
			for (size_t k = 0; k < i; k++)
				weft_value_release(&args[k].lit);
			free(args);
			celery_exc_set(exc, "builtins", "TypeError",
			    "%s(): argument %zu: %s", j->fn->name, i + 1, err);
			return -1;
		}
		args[i] = weft_lit(v);
	}
	node = weft_delayed(j->g, j->fn->fn, n, args); /* owns the literals */
	free(args);
	j->cb.pretask = on_pretask;
	j->cb.posttask = on_posttask;
	j->cb.ud = j;
	weft_opts opts = { .pool = w->o->pool, .callbacks = &j->cb };
	if (weft_node_ok(node))
		j->f = weft_compute_async(j->g, 1, &node, &opts);
	if (!j->f) {
		celery_exc_set(exc, "builtins", "RuntimeError",
		    "cannot start the task: %s", weft_graph_error(j->g));
		return -1;
	}
	j->state = J_RUNNING;
	return 0;
}

/* Starts a job now, or answers for it when it cannot start. */
static void
run_or_refuse(struct worker *w, struct job *j)
{
	celery_exc exc;

	if (j->req.expires > 0 && unix_now() > j->req.expires) {
		celery_exc_set(&exc, "celery.exceptions", "TaskRevokedError",
		    "expired");
		logf_("task %s[%s] expired", j->req.task, j->req.id);
		reply(w, &j->req, "REVOKED", NULL, &exc);
		ack(w, j->tag);
		job_free(w, j);
		return;
	}
	if (start(w, j, &exc) != 0) {
		refuse(w, &j->req, j->tag, &exc, 1);
		job_free(w, j);
	}
}

/* A delivered message: decode, check, start (or wait for its eta). */
static void
on_message(struct worker *w, broker_msg *m)
{
	struct job *j = calloc(1, sizeof *j);
	celery_exc exc;
	int rc;

	if (!j) {
		/* Unacked: it comes back after a reconnect or to another
		 * worker; meanwhile give it back now. */
		reject(w, m->tag, 1);
		return;
	}
	j->w = w;
	j->tag = m->tag;
	j->gen = w->gen;
	atomic_init(&j->started_ns, 0);
	rc = celery_req_parse(m, &j->req, &exc);
	job_link(w, j);
	if (rc != WEFT_OK) {
		refuse(w, &j->req, j->tag, &exc, 0);
		job_free(w, j);
		return;
	}
	if (stop_requests) {
		reject(w, j->tag, 1); /* shutting down: for another worker */
		job_free(w, j);
		return;
	}
	j->fn = lookup(w, j->req.task);
	if (!j->fn) {
		celery_exc_set(&exc, "celery.exceptions", "NotRegistered",
		    "%s", j->req.task);
		refuse(w, &j->req, j->tag, &exc, 0);
		job_free(w, j);
		return;
	}
	if (check_call(j->fn, &j->req, &exc) != 0) {
		refuse(w, &j->req, j->tag, &exc, 1);
		job_free(w, j);
		return;
	}
	if (j->req.eta > 0 && j->req.eta > unix_now()) {
		/* Held unacked until then; like Celery, widen the prefetch
		 * window so held tasks do not starve the others. */
		j->state = J_ETA;
		j->eta_at = mono_now() + (j->req.eta - unix_now());
		w->neta++;
		if (broker_set_prefetch(w->b, w->prefetch + w->neta) != WEFT_OK)
			lost(w, "basic.qos failed");
		return;
	}
	run_or_refuse(w, j);
}

/* -- finishing --------------------------------------------------------------- */

/* The Python exception for a failed weft task. */
static void
task_exc(const struct job *j, const char *errmsg, celery_exc *exc)
{
	/* "task 'KEY' failed: MESSAGE" is a stable form; keep MESSAGE. */
	const char *m = strstr(errmsg, "failed: ");
	const char *type = "TaskError", *module = "weft";

	m = m ? m + 8 : errmsg;
	switch (j->fn_rc) {
	case WEFT_ETYPE:
		type = "TypeError", module = "builtins";
		break;
	case WEFT_EINVAL:
	case WEFT_ERANGE:
		type = "ValueError", module = "builtins";
		break;
	case WEFT_ENOMEM:
		type = "MemoryError", module = "builtins";
		break;
	case WEFT_ETIMEDOUT:
		type = "TimeoutError", module = "builtins";
		break;
	default:
		/* weft_fail() always says WEFT_ETASK; the built-ins' words
		 * tell the common Python kinds apart. */
		if (strstr(m, "by zero"))
			type = "ZeroDivisionError", module = "builtins";
		else if (strstr(m, "overflow"))
			type = "OverflowError", module = "builtins";
		else if (strstr(m, "not a number") ||
		    strstr(m, "cannot compare") || strstr(m, "expected a"))
			type = "TypeError", module = "builtins";
	}
	celery_exc_set(exc, module, type, "%s: %s", j->fn->name, m);
}

/* Applies one signature (chain step or callback) with the result. */
static void
apply_sig(struct worker *w, struct job *j, const json_t *sig,
    const json_t *result, const json_t *chain)
{
	celery_out o;
	char err[256];

	if (celery_sig_message(sig, result, chain, &j->req, &o, err,
		sizeof err) != WEFT_OK) {
		logf_("task %s[%s]: cannot apply its follow-up: %s",
		    j->req.task, j->req.id, err);
		return;
	}
	publish(w, &o.out);
	celery_out_clear(&o);
}

/* Chain first (the next step gets the result prepended), then links:
 * both before the result, as Celery does, so children exist when the
 * client sees SUCCESS. */
static void
follow_ups(struct worker *w, struct job *j, const json_t *result)
{
	const json_t *chain = json_object_get(j->req.embed, "chain");
	const json_t *links = json_object_get(j->req.embed, "callbacks");
	size_t n = json_array_size(chain), i;
	const json_t *sig;

	if (n) {
		json_t *rest = json_array();
		for (i = 0; rest && i + 1 < n; i++)
			json_array_append(rest, json_array_get(chain, i));
		apply_sig(w, j, json_array_get(chain, n - 1), result,
		    rest && json_array_size(rest) ? rest : NULL);
		json_decref(rest);
	}
	json_array_foreach(links, i, sig)
	    apply_sig(w, j, sig, result, NULL);
}

static void
on_done(struct worker *w, struct job *j)
{
	weft_value v = weft_nil();
	json_t *result = NULL;
	celery_exc exc;
	char err[512];
	int rc;

	if (j->state == J_ABANDONED || j->gen != w->gen) {
		job_free(w, j); /* answered already, or coming back anyway */
		return;
	}
	rc = weft_future_results(j->f, &v); /* ends at once: it is done */
	if (rc == WEFT_OK && jsonval_from_value(v, 0, &result, err,
				 sizeof err) != WEFT_OK) {
		celery_exc_set(&exc, "kombu.exceptions", "EncodeError",
		    "%s: the result has no JSON form: %s", j->fn->name, err);
		rc = WEFT_ETYPE;
	} else if (rc == WEFT_ECANCELED && j->soft_canceled) {
		celery_exc_set(&exc, "celery.exceptions",
		    "SoftTimeLimitExceeded", "soft time limit (%gs) exceeded",
		    j->req.soft_time_limit);
	} else if (rc != WEFT_OK) {
		task_exc(j, weft_future_error(j->f), &exc);
	}
	weft_value_release(&v);
	if (rc == WEFT_OK) {
		w->ok++;
		follow_ups(w, j, result);
		if (w->o->verbose)
			logf_("task %s[%s] succeeded", j->req.task, j->req.id);
		if (!j->req.ignore_result)
			reply(w, &j->req, "SUCCESS", result, NULL);
	} else {
		w->failed++;
		logf_("task %s[%s] failed: %s: %s", j->req.task, j->req.id,
		    exc.type, exc.message);
		reply(w, &j->req, "FAILURE", NULL, &exc);
	}
	json_decref(result);
	if (j->gen == w->gen) /* publishing may have lost the connection */
		ack_later(w, j->tag);
	job_free(w, j);
}

static void
on_started(struct worker *w, struct job *j)
{
	if (j->state != J_RUNNING || j->gen != w->gen)
		return;
	json_t *info = json_pack("{s:i,s:s}", "pid", (int)getpid(), "hostname",
	    w->host);
	reply(w, &j->req, "STARTED", info, NULL);
	json_decref(info);
}

/* Takes what the pool handed back. Started events first: a quick task
 * may have both waiting, and STARTED must not follow SUCCESS. */
static void
drain(struct worker *w)
{
	struct job *done, *started, *next;
	uint64_t n;

	if (read(wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
		logf_("eventfd: %s", strerror(errno));
	pthread_mutex_lock(&w->mu);
	done = w->done;
	started = w->started;
	w->done = w->started = NULL;
	pthread_mutex_unlock(&w->mu);
	for (; started; started = next) {
		next = started->next_started;
		on_started(w, started);
	}
	/* The list is newest first; answer oldest first. */
	struct job *fifo = NULL;
	for (; done; done = next) {
		next = done->next_done;
		done->next_done = fifo;
		fifo = done;
	}
	for (; fifo; fifo = next) {
		next = fifo->next_done;
		on_done(w, fifo);
	}
	flush_acks(w);
}

/* -- timers: eta and time limits --------------------------------------------- */

/* Handles what is due; returns seconds until the next thing (<= 1). */
static double
timers(struct worker *w)
{
	double now = mono_now(), next = 1.0;
	unsigned gen = w->gen;
	struct job *j, *nj;

	/* Publishing may lose the connection, and lost() frees waiting jobs
	 * (nj among them): stop walking then. */
	for (j = w->jobs; j && w->gen == gen; j = nj) {
		nj = j->next;
		if (j->state == J_ETA) {
			if (now >= j->eta_at) {
				w->neta--;
				j->state = J_NEW;
				run_or_refuse(w, j);
			} else if (j->eta_at - now < next) {
				next = j->eta_at - now;
			}
			continue;
		}
		if (j->state != J_RUNNING || j->gen != w->gen)
			continue;
		double hard = j->req.time_limit, soft = j->req.soft_time_limit;
		int64_t t0 = atomic_load_explicit(&j->started_ns,
		    memory_order_acquire);
		if ((hard <= 0 && soft <= 0) || !t0) {
			if (hard > 0 || soft > 0)
				next = next > 0.05 ? 0.05 : next;
			continue;
		}
		double ran = now - (double)t0 * 1e-9;
		if (soft > 0 && !j->soft_canceled && ran >= soft) {
			j->soft_canceled = 1;
			weft_future_cancel(j->f);
		}
		if (hard > 0 && ran >= hard) {
			celery_exc exc;
			celery_exc_set(&exc, "celery.exceptions",
			    "TimeLimitExceeded", "%g", hard);
			logf_("task %s[%s]: hard time limit (%gs) exceeded",
			    j->req.task, j->req.id, hard);
			w->failed++;
			reply(w, &j->req, "FAILURE", NULL, &exc);
			ack(w, j->tag);
			weft_future_cancel(j->f);
			j->state = J_ABANDONED;
			if (j->gen == w->gen)
				w->nlive--;
			continue;
		}
		double left = (soft > 0 && !j->soft_canceled ? soft : hard) - ran;
		if (left > 0 && left < next)
			next = left;
	}
	return next < 0 ? 0 : next;
}

/* -- the connection ------------------------------------------------------------ */

static void
lost(struct worker *w, const char *why)
{
	struct job *j, *nj;

	if (!w->b)
		return;
	logf_("connection lost (%s); unacknowledged tasks will be "
	      "redelivered",
	    why);
	broker_free(w->b);
	w->b = NULL;
	w->consuming = 0;
	/* Waiting jobs go; running ones finish unseen (orphans). */
	for (j = w->jobs; j; j = nj) {
		nj = j->next;
		if (j->state == J_ETA)
			job_free(w, j);
		else if (j->state != J_ABANDONED && j->gen == w->gen)
			w->nlive--;
	}
	w->neta = 0;
	w->nacks = 0; /* those messages come back: their replies went out */
	w->gen++;
}

/* Sleeps up to `s` seconds unless a signal or a finished job comes. */
static void
nap(struct worker *w, double s)
{
	struct pollfd p = { wake_fd, POLLIN, 0 };
	if (poll(&p, 1, (int)(s * 1000)) > 0)
		drain(w);
}

static int
connect_(struct worker *w, double *backoff)
{
	const celery_worker_opts *o = w->o;
	static const char *const dflt[] = { "celery" };
	char err[512], url[512];

	safe_url(o->broker_url, url, sizeof url);
	int rc = broker_open(&w->b, o->broker_url, 10.0, o->heartbeat_s, err,
	    sizeof err);
	if (rc == WEFT_OK) {
		rc = broker_consume(w->b, o->nqueues ? o->nqueues : 1,
		    o->nqueues ? o->queues : dflt, w->prefetch, err,
		    sizeof err);
		if (rc != WEFT_OK) {
			broker_free(w->b);
			w->b = NULL;
		}
	}
	if (rc == WEFT_EINVAL || rc == WEFT_ENOMEM) {
		logf_("%s", err);
		return rc;
	}
	if (rc != WEFT_OK) {
		logf_("%s; retrying in %.1fs", err, *backoff);
		nap(w, *backoff);
		*backoff = *backoff * 2 > o->max_backoff_s ? o->max_backoff_s
							    : *backoff * 2;
		return WEFT_EIO;
	}
	*backoff = 0.1;
	w->consuming = 1;
	logf_("ready: %s, queue%s %s%s, prefetch %u, %u threads", url,
	    o->nqueues > 1 ? "s" : "", o->nqueues ? o->queues[0] : "celery",
	    o->nqueues > 1 ? ", ..." : "", w->prefetch,
	    weft_pool_threads(o->pool));
	return WEFT_OK;
}

/* Stop consuming; give back what waits for an eta. */
static void
begin_shutdown(struct worker *w)
{
	struct job *j, *nj;

	logf_("warm shutdown: finishing %zu running task%s", w->nlive - w->neta,
	    w->nlive - w->neta == 1 ? "" : "s");
	if (w->b && w->consuming && broker_cancel(w->b) != WEFT_OK)
		lost(w, "basic.cancel failed");
	w->consuming = 0;
	for (j = w->jobs; j; j = nj) {
		nj = j->next;
		if (j->state == J_ETA) {
			/* Errors do not matter: a closed connection requeues
			 * it as well. */
			if (w->b)
				broker_reject(w->b, j->tag, 1);
			w->neta--;
			job_free(w, j);
		}
	}
}

/* Reads what the broker has, a bounded batch at a time. */
static void
receive(struct worker *w)
{
	broker_msg m;
	char err[512];

	for (int i = 0; i < 256 && w->b; i++) {
		int rc = broker_next(w->b, 0, &m, err, sizeof err);
		if (rc == WEFT_ETIMEDOUT)
			return;
		if (rc == WEFT_EIO) {
			lost(w, err);
			return;
		}
		if (rc != WEFT_OK) {
			logf_("%s", err);
			return;
		}
		on_message(w, &m);
		broker_msg_clear(&m);
	}
}

static int
loop(struct worker *w)
{
	double backoff = 0.1;
	int shutting = 0;

	for (;;) {
		if (stop_requests >= 2) {
			/* Running C functions cannot be stopped, only left:
			 * the broker redelivers their messages. */
			logf_("cold shutdown: unacknowledged tasks will be "
			      "redelivered");
			fflush(stderr);
			_exit(1);
		}
		if (stop_requests && !shutting) {
			shutting = 1;
			begin_shutdown(w);
		}
		if (shutting && w->nlive == 0)
			return 0;
		if (!w->b && !shutting) {
			int rc = connect_(w, &backoff);
			if (rc != WEFT_OK && rc != WEFT_EIO)
				return rc;
			continue;
		}
		double t = timers(w);
		if (t > w->o->heartbeat_s / 4.0)
			t = w->o->heartbeat_s / 4.0;
		struct pollfd p[2] = { { wake_fd, POLLIN, 0 },
			{ w->b ? broker_fd(w->b) : -1, POLLIN, 0 } };
		if (w->b && broker_has_buffered(w->b))
			t = 0;
		int n = poll(p, 2, (int)(t * 1000 + 0.999));
		if (n < 0 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			return WEFT_EIO;
		}
		if (p[0].revents)
			drain(w);
		/* Also when the socket is quiet: heartbeats are sent and
		 * checked inside rabbitmq-c's reads. */
		if (w->b)
			receive(w);
	}
}

int
celery_worker_run(const celery_worker_opts *opts)
{
	celery_worker_opts o = *opts;
	struct worker w;
	struct sigaction sa, old_term, old_int;
	int rc;

	if (!o.broker_url || !o.reg || !o.pool) {
		logf_("a broker URL, a registry and a pool are needed");
		return WEFT_EINVAL;
	}
	if (o.max_backoff_s <= 0)
		o.max_backoff_s = 5.0;
	if (o.heartbeat_s == 0)
		o.heartbeat_s = 30;
	memset(&w, 0, sizeof w);
	w.o = &o;
	/* Celery's default window is 4 per process, sized for Python tasks;
	 * weft's tasks are short C calls, and a window this wide keeps the
	 * broker's round trip off the critical path (bench/celery). */
	w.prefetch = o.prefetch ? o.prefetch : 32 * weft_pool_threads(o.pool);
	if (gethostname(w.host, sizeof w.host - 1) != 0)
		strcpy(w.host, "localhost");
	pthread_mutex_init(&w.mu, NULL);
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wake_fd < 0) {
		logf_("eventfd: %s", strerror(errno));
		return WEFT_EIO;
	}
	stop_requests = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	signal(SIGPIPE, SIG_IGN); /* a dead broker must not kill us */

	rc = loop(&w);

	/* A fatal error may leave computes running: wait for them
	 * (canceled) before their graphs go. */
	while (w.jobs) {
		struct job *j = w.jobs;
		weft_future_cancel(j->f);
		weft_future_wait(j->f, -1);
		j->state = J_ABANDONED;
		job_free(&w, j);
	}
	if (w.b) {
		broker_free(w.b);
		w.b = NULL;
	}
	logf_("stopped: %lu succeeded, %lu failed", w.ok, w.failed);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	close(wake_fd);
	wake_fd = -1;
	free(w.acks);
	pthread_mutex_destroy(&w.mu);
	return rc;
}
