/*
 * Where each JSON value starts, for error messages.
 *
 * This is not a second JSON parser: jansson has already accepted the text,
 * so this pass only needs to find where values and keys begin. It is still
 * careful: every read is bounds-checked and anything unexpected stops it
 * with WEFT_EPARSE (messages then lose their positions, nothing worse).
 * It keeps an explicit stack, never the C stack, for nesting.
 */
#include <string.h>

#include "base/alloc.h"
#include "spec/spec_int.h"

static size_t
skip_ws(const char *t, size_t len, size_t i)
{
	while (i < len &&
	    (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* The offset just past the string that starts at t[i] == '"'. */
static size_t
skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return SPEC_NONE;
}

/* The offset past a number or true/false/null starting at t[i]. */
static size_t
skip_atom(const char *t, size_t len, size_t i)
{
	size_t s = i;
	while (i < len) {
		char c = t[i];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    c == '-' || c == '+' || c == '.' || c == 'E')
			i++;
		else
			break;
	}
	return i > s ? i : SPEC_NONE;
}

static int
push_entry(spec_posindex *px, size_t off, size_t *idx)
{
	if (weft__grow((void **)&px->e, &px->cap, px->n + 1, sizeof(*px->e)))
		return WEFT_ENOMEM;
	px->e[px->n] = (spec_pos) { off, 1 };
	*idx = px->n++;
	return WEFT_OK;
}

int
weft__spec_pos_scan(spec_posindex *px, const char *t, size_t len)
{
	size_t *stack = NULL, depth = 0, cap = 0, i, idx;
	int rc = WEFT_EPARSE;
	/* States: VALUE expects a value; AFTER follows one; KEY expects an
	 * object key (or '}' right after '{'). */
	enum { VALUE, AFTER, KEY } st = VALUE;
	int first = 0; /* just opened a container: it may close at once */

	px->n = 0;
	i = skip_ws(t, len, 0);
	for (;;) {
		i = skip_ws(t, len, i);
		if (st == AFTER) {
			if (depth == 0) {
				rc = skip_ws(t, len, i) == len ? WEFT_OK
							       : WEFT_EPARSE;
				break;
			}
			if (i >= len)
				break;
			if (t[i] == ',') {
				size_t top = stack[depth - 1];
				i++;
				st = t[px->e[top].off] == '{' ? KEY : VALUE;
				continue;
			}
			if (t[i] == '}' || t[i] == ']') {
				size_t top = stack[--depth];
				px->e[top].size = px->n - top;
				i++;
				continue;
			}
			break;
		}
		if (i >= len)
			break;
		if (first && (t[i] == '}' || t[i] == ']')) {
			first = 0;
			st = AFTER;
			continue;
		}
		first = 0;
		if (st == KEY) {
			if (t[i] != '"' || push_entry(px, i, &idx))
				break;
			i = skip_string(t, len, i);
			if (i == SPEC_NONE)
				break;
			i = skip_ws(t, len, i);
			if (i >= len || t[i] != ':')
				break;
			i++;
			st = VALUE;
			continue;
		}
		/* st == VALUE */
		if (push_entry(px, i, &idx)) {
			rc = WEFT_ENOMEM;
			break;
		}
		if (t[i] == '{' || t[i] == '[') {
			if (weft__grow((void **)&stack, &cap, depth + 1,
				sizeof(*stack))) {
				rc = WEFT_ENOMEM;
				break;
			}
			stack[depth++] = idx;
			st = t[i] == '{' ? KEY : VALUE;
			first = 1;
			i++;
			continue;
		}
		i = t[i] == '"' ? skip_string(t, len, i) : skip_atom(t, len, i);
		if (i == SPEC_NONE)
			break;
		st = AFTER;
	}
	weft__free(stack);
	if (rc != WEFT_OK)
		px->n = 0;
	return rc;
}

void
weft__spec_pos_free(spec_posindex *px)
{
	weft__free(px->e);
	memset(px, 0, sizeof(*px));
}

size_t
weft__spec_pos_child(const spec_posindex *px, size_t e)
{
	if (e == SPEC_NONE || e >= px->n || px->e[e].size < 2)
		return SPEC_NONE;
	return e + 1;
}

size_t
weft__spec_pos_next(const spec_posindex *px, size_t e)
{
	if (e == SPEC_NONE || e >= px->n || e + px->e[e].size >= px->n)
		return SPEC_NONE;
	return e + px->e[e].size;
}

size_t
weft__spec_pos_off(const spec_posindex *px, size_t e)
{
	return e == SPEC_NONE || e >= px->n ? SPEC_NONE : px->e[e].off;
}

void
weft__spec_line_col(
    const char *t, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (t[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)t[i] & 0xC0) != 0x80)
			c++;
	}
	*line = l;
	*col = c;
}
