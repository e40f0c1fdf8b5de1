/* Helpers of the CSV tests: temporary files, and a check that says why.
 * Include after <cmocka.h>. */
#ifndef WEFT_TEST_CSVUTIL_H
#define WEFT_TEST_CSVUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A new file in $TMPDIR (or /tmp) holding s[0..n); free with drop_file. */
static inline char *
write_file(const char *s, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(512);
	snprintf(path, 512, "%s/weft-csv-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, s, n) != (ssize_t)n) {
		fprintf(stderr, "cannot write %s\n", path);
		abort();
	}
	close(fd);
	return path;
}

static inline void
drop_file(char *path)
{
	unlink(path);
	free(path);
}

/* Fails the test with a message (printf-style) when cond is false. */
#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			print_error(__VA_ARGS__);                             \
			fail();                                               \
		}                                                             \
	} while (0)

#endif
