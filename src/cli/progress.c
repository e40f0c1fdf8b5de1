/*
 * The progress line of `weft run` on stderr: while a big file is read and
 * built, the phase and the time so far; while it runs, a bar of tasks done
 * (from compute callbacks). By default it shows only on a terminal and
 * only once the command has taken PROGRESS_DELAY seconds, so a quick run
 * prints nothing; --progress shows it always, from the start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* A run shorter than this is not worth a progress line. */
#define PROGRESS_DELAY 0.5

double
cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
cli_progress_init(struct cli_progress *p, int mode)
{
	memset(p, 0, sizeof(*p));
	atomic_init(&p->done, 0);
	atomic_init(&p->total, 0);
	p->t0 = cli_now();
	p->tty = isatty(STDERR_FILENO);
	p->mode = mode;
}

static void
on_start(void *ud, size_t ntasks)
{
	struct cli_progress *p = ud;
	atomic_store_explicit(&p->total, ntasks, memory_order_relaxed);
}

static void
on_posttask(void *ud, const weft_task_info *ti)
{
	struct cli_progress *p = ud;
	(void)ti;
	atomic_fetch_add_explicit(&p->done, 1, memory_order_relaxed);
}

void
cli_progress_callbacks(struct cli_progress *p, weft_callbacks *cb)
{
	p->t_run = cli_now();
	memset(cb, 0, sizeof(*cb));
	cb->start = on_start;
	cb->posttask = on_posttask;
	cb->ud = p;
}

static void
put_duration(char *buf, size_t size, double s)
{
	long t = s < 0 ? 0 : (long)s;
	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
		    t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

/* Whether the line is to be drawn now. */
static int
visible(struct cli_progress *p)
{
	if (p->mode == CLI_PROGRESS_ON || p->shown)
		return 1;
	return p->mode == CLI_PROGRESS_AUTO &&
	    cli_now() - p->t0 >= PROGRESS_DELAY;
}

static void
end_draw(struct cli_progress *p, int final)
{
	if (p->tty)
		fputs("\033[K", stderr); /* what a longer line left */
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	p->shown = !final;
}

void
cli_progress_phase(struct cli_progress *p, const char *what)
{
	char e[32];

	if (!visible(p))
		return;
	put_duration(e, sizeof(e), cli_now() - p->t0);
	fprintf(stderr, "\r[%s] %s elapsed", what, e);
	end_draw(p, 0);
}

void
cli_progress_draw(struct cli_progress *p, int final)
{
	enum { WIDTH = 30 };
	size_t done = atomic_load_explicit(&p->done, memory_order_relaxed);
	size_t total = atomic_load_explicit(&p->total, memory_order_relaxed);
	double now = cli_now(), el = now - p->t0, frac, rate;
	char bar[WIDTH + 1], e[32], eta[32];
	size_t fill;

	/* A quick run ends before the line was ever drawn: nothing then. */
	if (!visible(p) || (final && !p->shown && p->mode != CLI_PROGRESS_ON))
		return;
	if (total && done > total)
		done = total; /* fused tasks may be counted differently */
	frac = total ? (double)done / (double)total : final ? 1.0 : 0.0;
	fill = (size_t)(frac * WIDTH);
	for (size_t i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[WIDTH] = '\0';
	/* The rate from the run's start: the file's reading is not tasks. */
	rate = now > p->t_run ? (double)done / (now - p->t_run) : 0;
	put_duration(e, sizeof(e), el);
	if (!final && rate > 0 && total > done)
		put_duration(eta, sizeof(eta), (double)(total - done) / rate);
	else
		snprintf(eta, sizeof(eta), "-");
	fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu tasks | %.0f tasks/s | %s "
			"elapsed | ETA %s",
	    bar, frac * 100, done, total, rate, e, final ? "0:00" : eta);
	end_draw(p, final);
}

void
cli_progress_clear(struct cli_progress *p)
{
	if (!p->shown)
		return;
	fputc('\n', stderr);
	fflush(stderr);
	p->shown = 0;
}

/* -- waiting for a job on another thread, drawing meanwhile --------------- */

struct job {
	void (*fn)(void *);
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void *
job_main(void *v)
{
	struct job *j = v;

	j->fn(j->arg);
	pthread_mutex_lock(&j->mu);
	j->done = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

int
cli_progress_wait(struct cli_progress *p, const char *what,
    void (*fn)(void *), void *arg)
{
	struct job j = { fn, arg, PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, 0 };
	pthread_t t;

	if (p->mode == CLI_PROGRESS_OFF ||
	    pthread_create(&t, NULL, job_main, &j) != 0) {
		fn(arg); /* nothing to draw, or no thread: just do it */
		return 0;
	}
	pthread_mutex_lock(&j.mu);
	while (!j.done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000; /* redraw 10 times a second */
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		/* Wakes at once when the job ends: a quick load waits for
		 * nothing. */
		if (pthread_cond_timedwait(&j.cv, &j.mu, &ts) == ETIMEDOUT &&
		    !j.done) {
			pthread_mutex_unlock(&j.mu);
			cli_progress_phase(p, what);
			pthread_mutex_lock(&j.mu);
		}
	}
	pthread_mutex_unlock(&j.mu);
	pthread_join(t, NULL);
	pthread_mutex_destroy(&j.mu);
	pthread_cond_destroy(&j.cv);
	return 0;
}
