/* serve_fail (errbuf.h). */
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

int
serve_fail(char *err, size_t errsize, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return rc;
}
