/*
 * The serve layer's error messages: functions that can fail take a caller's
 * buffer (`err`, `errsize`; NULL is fine) and fill it with what and why.
 */
#ifndef WEFT_SERVE_ERRBUF_H
#define WEFT_SERVE_ERRBUF_H

#include <stddef.h>

/* Writes the printf-style message into err (when not NULL) and returns rc,
 * so a failure is one line: `return serve_fail(err, n, WEFT_EIO, "...")`. */
int serve_fail(char *err, size_t errsize, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
