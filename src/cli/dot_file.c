/*
 * Drawing the graph: --dot OUT writes it as DOT, or has Graphviz's `dot`
 * draw it when an image is asked for.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

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
