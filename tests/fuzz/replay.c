/*
 * Runs saved fuzz inputs through the fuzz target without libFuzzer, so
 * that every build (gcc too) checks that no input of the corpus and no
 * crash found before breaks the reader again.
 *
 * usage: fuzz_NAME_replay PATH...   (files, or folders of files; names
 * starting with '.' are skipped, folders are read in name order)
 *
 * An input that runs longer than TIMEOUT_S seconds is a hang, as it is for
 * scripts/fuzz (libFuzzer's -timeout): the program names it and fails.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_target.h"

#define TIMEOUT_S 20

static void
on_alarm(int sig)
{
	static const char msg[] = "replay: the input above hangs (over "
				  "20 s)\n";
	ssize_t r;

	(void)sig;
	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	_exit(3);
}

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return 1;
	}
	for (;;) {
		size_t got;
		if (len == cap) {
			unsigned char *nb;
			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				fprintf(stderr, "replay: out of memory\n");
				return 1;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	/* Flushed first, so that a crash names its input. */
	printf("%s (%zu bytes)\n", path, len);
	fflush(stdout);
	alarm(TIMEOUT_S);
	LLVMFuzzerTestOneInput(buf, len);
	alarm(0);
	free(buf);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(const char *path, size_t *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open folder %s\n", path);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;
			cap = cap ? 2 * cap : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				bad = 1;
				break;
			}
			names = nn;
		}
		names[n] = malloc(strlen(path) + strlen(de->d_name) + 2);
		if (!names[n]) {
			bad = 1;
			break;
		}
		sprintf(names[n], "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (bad)
		fprintf(stderr, "replay: out of memory\n");
	else if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (!bad) {
			bad |= replay_file(names[i]);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH...\n", argv[0]);
		return 2;
	}
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && !bad; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file %s\n", argv[i]);
			bad = 1;
		} else if (S_ISDIR(st.st_mode))
			bad = replay_dir(argv[i], &count);
		else {
			bad = replay_file(argv[i]);
			count++;
		}
	}
	fuzz_target_cleanup();
	if (!bad)
		printf("replayed %zu inputs\n", count);
	return bad;
}
