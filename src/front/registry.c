/*
 * The function registry every front end starts from: the built-ins, the
 * analytics functions, and plugins found the way the README says (a path,
 * or a bare name looked for where weft keeps them).
 */
#define _GNU_SOURCE /* readlink */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"

#ifndef WEFT_PLUGIN_DIR
#define WEFT_PLUGIN_DIR "/usr/local/lib/weft"
#endif

weft_registry *
weft_front_registry(void)
{
	weft_registry *r = weft_registry_new();

	if (!r || weft_registry_add_builtins(r) != WEFT_OK ||
	    weft_registry_add_analytics(r) != WEFT_OK) {
		weft_front_error(
		    "cannot set up the function registry: out of memory");
		weft_registry_free(r);
		return NULL;
	}
	return r;
}

const char *
weft_front_plugin_dir(void)
{
	return WEFT_PLUGIN_DIR;
}

static int
is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/name, then dir/name.so, when either is a file; 1 found, 0 not. */
static int
try_dir(const char *dir, const char *name, char *out, size_t size)
{
	static const char *const ext[] = { "", ".so" };

	for (size_t k = 0; k < 2; k++) {
		int n = snprintf(out, size, "%s/%s%s", dir, name, ext[k]);
		if (n > 0 && (size_t)n < size && is_file(out))
			return 1;
	}
	return 0;
}

/* Where a bare plugin name is looked for, in order: here (what the user
 * sees with ls), next to the program (an installed bin/ or a build
 * folder), the build tree's examples/plugin for src/cli/weft, and the
 * prefix's plugin directory. */
static int
find_plugin(const char *name, char *out, size_t size)
{
	char self[PATH_MAX], dir[PATH_MAX + 32];
	ssize_t n;

	if (try_dir(".", name, out, size))
		return 1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (try_dir(self, name, out, size))
				return 1;
			snprintf(dir, sizeof(dir), "%s/../lib/weft", self);
			if (try_dir(dir, name, out, size))
				return 1;
		}
	}
	return try_dir(WEFT_PLUGIN_DIR, name, out, size);
}

int
weft_front_load_plugin(weft_registry *reg, const char *name)
{
	char err[512], path[PATH_MAX + 64];
	const char *use = name;
	int rc;

	if (!strchr(name, '/') && find_plugin(name, path, sizeof(path)))
		use = path;
	rc = weft_registry_load_plugin(reg, use, err, sizeof(err));
	if (rc != WEFT_OK) {
		if (!strchr(name, '/') && use == name)
			weft_front_error("%s (looked in ., next to %s, and "
					 "in %s)",
			    err, weft_front_prog(), WEFT_PLUGIN_DIR);
		else
			weft_front_error("%s", err);
		return -1;
	}
	return 0;
}

const char *
weft_front_unknown_hint(const weft_registry *reg, const char *name,
    char *buf, size_t size)
{
	const char *sug = weft_registry_suggest(reg, name);

	if (sug)
		snprintf(buf, size, " (did you mean '%s'?)", sug);
	else
		snprintf(buf, size,
		    " (not a built-in: a plugin may provide it, --plugin "
		    "LIB.so; 'weft funcs' lists what is loaded)");
	return buf;
}

void
weft_front_load_error(const weft_spec_error *err)
{
	fprintf(stderr, "%s\n", err->message);
	/* The reader knows nothing of --plugin: the hint is the front
	 * end's. A close name was already suggested ("did you mean"). */
	if (err->code == WEFT_ENOTFOUND &&
	    strstr(err->message, "unknown function '") &&
	    !strstr(err->message, "did you mean"))
		weft_front_error("no function of that name is loaded: a plugin "
				 "may provide it (--plugin LIB.so); 'weft "
				 "funcs' lists what is loaded");
}
