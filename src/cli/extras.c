/*
 * What `weft run` shows besides results: the progress bar (from compute
 * callbacks), and the graph as DOT, rendered by Graphviz when an image is
 * asked for.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

double
cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* -- progress ------------------------------------------------------------ */

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
cli_progress_init(struct cli_progress *p, weft_callbacks *cb)
{
	atomic_init(&p->done, 0);
	atomic_init(&p->total, 0);
	p->t0 = cli_now();
	p->tty = isatty(STDERR_FILENO);
	memset(cb, 0, sizeof(*cb));
	cb->start = on_start;
	cb->posttask = on_posttask;
	cb->ud = p;
}

static void
put_duration(char *buf, size_t size, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
		    t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

void
cli_progress_draw(struct cli_progress *p, int final)
{
	enum { WIDTH = 30 };
	size_t done = atomic_load_explicit(&p->done, memory_order_relaxed);
	size_t total = atomic_load_explicit(&p->total, memory_order_relaxed);
	double el = cli_now() - p->t0, frac, rate;
	char bar[WIDTH + 1], e[32], eta[32];
	size_t fill;

	if (total && done > total)
		done = total; /* fused tasks may be counted differently */
	frac = total ? (double)done / (double)total : final ? 1.0 : 0.0;
	fill = (size_t)(frac * WIDTH);
	for (size_t i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[WIDTH] = '\0';
	rate = el > 0 ? (double)done / el : 0;
	put_duration(e, sizeof(e), el);
	if (!final && rate > 0 && total > done)
		put_duration(eta, sizeof(eta), (double)(total - done) / rate);
	else
		snprintf(eta, sizeof(eta), "-");
	fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu tasks | %.0f tasks/s | %s "
			"elapsed | ETA %s",
	    bar, frac * 100, done, total, rate, e, final ? "0:00" : eta);
	if (p->tty)
		fputs("\033[K", stderr);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* -- DOT ------------------------------------------------------------------- */

/* True when an executable `name` is on PATH. */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n > 0 && n + strlen(name) + 2 < sizeof(buf)) {
			memcpy(buf, path, n);
			buf[n] = '/';
			strcpy(buf + n + 1, name);
			if (access(buf, X_OK) == 0)
				return 1;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}

int
cli_dot_check(const char *path, const char **format)
{
	const char *ext = strrchr(path, '.');
	static const char *const images[] = { "svg", "png", "pdf" };

	*format = NULL;
	if (ext && (strcmp(ext, ".dot") == 0 || strcmp(ext, ".gv") == 0))
		return 0;
	for (size_t i = 0; ext && i < sizeof(images) / sizeof(images[0]); i++)
		if (strcmp(ext + 1, images[i]) == 0)
			*format = images[i];
	if (!*format) {
		weft_front_error("--dot: '%s' should end in .dot or .gv (the graph), "
			  "or .svg, .png or .pdf (an image, drawn by Graphviz)",
		    path);
		return -1;
	}
	if (!on_path("dot")) {
		weft_front_error("--dot: drawing '%s' needs Graphviz's 'dot', which "
			  "is not on PATH: install Graphviz, or ask for a .dot "
			  "file",
		    path);
		return -1;
	}
	return 0;
}

/* Pipes the DOT into `dot -T<format> -o path`. */
static int
render(const weft_spec *s, const weft_trace *t, const char *path,
    const char *format)
{
	char tflag[16], oflag[] = "-o", prog[] = "dot";
	char *argv[] = { prog, tflag, oflag, (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	struct sigaction ign, old;
	int fds[2], status = 0, rc;
	pid_t pid;
	FILE *f;

	snprintf(tflag, sizeof(tflag), "-T%s", format);
	if (pipe(fds) != 0) {
		weft_front_error("--dot: cannot start 'dot': %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (rc != 0) {
		close(fds[1]);
		weft_front_error("--dot: cannot start 'dot': %s", strerror(rc));
		return -1;
	}
	/* If dot dies early, writing gets EPIPE rather than killing us. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	f = fdopen(fds[1], "w");
	rc = f ? weft_spec_write_dot(s, f, t) : WEFT_ENOMEM;
	if (f)
		fclose(f);
	else
		close(fds[1]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc != WEFT_OK || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		weft_front_error("--dot: 'dot -T%s' failed to draw '%s'", format, path);
		return -1;
	}
	return 0;
}

int
cli_dot_write(const weft_spec *s, const weft_trace *t, const char *path,
    const char *format)
{
	FILE *f;
	int rc;

	if (format)
		return render(s, t, path, format);
	f = fopen(path, "w");
	if (!f) {
		weft_front_error("--dot: cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	rc = weft_spec_write_dot(s, f, t);
	if (fclose(f) != 0 && rc == WEFT_OK)
		rc = WEFT_EIO;
	if (rc != WEFT_OK) {
		weft_front_error("--dot: cannot write '%s': %s", path,
		    weft_strerror(rc));
		return -1;
	}
	return 0;
}
