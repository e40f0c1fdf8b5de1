/*
 * Graph files across ranks. Rank 0 reads the file and broadcasts it; every
 * rank reads it with the one spec reader (weft_spec_load_buffer), which
 * keeps the "rank" fields for us (weft_spec_key_field), and the
 * compute runs the spec's own graph: each key a node, its nested tasks
 * inside it, exactly as in weft run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

struct weft_mpi_spec {
	weft_spec *ws;
	weft_mpi_graph *g; /* over the spec's graph (borrowed) */
};

/* -- loading ------------------------------------------------------------------- */

static void
set_err(weft_spec_error *err, int code, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

static void
set_err(weft_spec_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Rank 0 reads the file; every rank gets it, or rank 0's error. */
static int
share_file(weft_mpi *m, const char *path, const weft_spec_opts *opts,
    char **text, size_t *len, weft_spec_error *err)
{
	weft_spec_error e;
	uint64_t hdr[2] = { 0, 0 }; /* code (as unsigned), length */
	char *buf = NULL;
	size_t max = opts && opts->max_bytes ? opts->max_bytes
					      : WEFT_SPEC_MAX_BYTES_DEFAULT;

	memset(&e, 0, sizeof(e));
	if (m->rank == 0) {
		FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
		size_t cap = 0, n = 0;
		int bad = !f;
		while (!bad) {
			size_t got;
			if (wm_grow((void **)&buf, &cap, n + 65536, 1)) {
				bad = WEFT_ENOMEM;
				break;
			}
			got = fread(buf + n, 1, cap - n, f);
			n += got;
			if (n > max || (got == 0 && ferror(f)))
				bad = 1;
			if (got == 0)
				break;
		}
		if (f && f != stdin)
			fclose(f);
		if (bad == WEFT_ENOMEM) {
			e.code = WEFT_ENOMEM;
			snprintf(e.message, sizeof(e.message), "%s: out of memory",
			    path);
		} else if (bad) {
			/* Let the spec reader say it, in its words. */
			weft_spec *ws = NULL;
			int rc = strcmp(path, "-") == 0
			    ? WEFT_EIO
			    : weft_spec_load_file(path, m->reg, opts, &ws, &e);
			weft_spec_free(ws);
			if (rc == WEFT_OK || strcmp(path, "-") == 0) {
				e.code = WEFT_EIO;
				snprintf(e.message, sizeof(e.message),
				    "%s: cannot read the file", path);
			}
		}
		if (e.code != WEFT_OK) {
			free(buf);
			buf = NULL;
			n = 0;
		}
		hdr[0] = (uint64_t)(int64_t)e.code;
		hdr[1] = n;
	}
	wm_check(m, MPI_Bcast(hdr, 2, MPI_UINT64_T, 0, m->comm), "MPI_Bcast");
	if ((int64_t)hdr[0] != WEFT_OK) {
		wm_check(m,
		    MPI_Bcast(&e, (int)sizeof(e), MPI_BYTE, 0, m->comm),
		    "MPI_Bcast");
		if (err)
			*err = e;
		return e.code;
	}
	if (m->rank != 0) {
		buf = malloc(hdr[1] ? hdr[1] : 1);
		if (!buf)
			wm_fatal(m, "out of memory for a %llu-byte graph file",
			    (unsigned long long)hdr[1]);
	}
	for (uint64_t off = 0; off < hdr[1]; off += m->chunk) {
		size_t n = hdr[1] - off < m->chunk ? hdr[1] - off : m->chunk;
		wm_check(m,
		    MPI_Bcast(buf + off, (int)n, MPI_BYTE, 0, m->comm),
		    "MPI_Bcast");
	}
	*text = buf;
	*len = (size_t)hdr[1];
	return WEFT_OK;
}

/* Each built key's "rank" field, if any, becomes its owner. */
static int
set_owners(weft_mpi *m, weft_mpi_spec *s, weft_spec_error *err)
{
	weft_graph *wg = weft_spec_graph(s->ws);
	const char *name = weft_spec_name(s->ws);

	for (size_t i = 0; i < weft_graph_size(wg); i++) {
		weft_node n = weft_graph_node(wg, i);
		weft_node_view v;
		weft_value r;
		unsigned line = 0, col = 0;
		if (weft_node_view_get(wg, n, &v) != WEFT_OK || !v.key ||
		    weft_spec_key_field(s->ws, v.key, "rank", &r, &line,
			&col) != WEFT_OK)
			continue;
		if (weft_type_of(r) != WEFT_INT) {
			set_err(err, WEFT_ETYPE,
			    "%s:%u:%u: error: 'rank' is %s, not an integer (in "
			    "key '%s')",
			    name, line, col, weft_type_name(weft_type_of(r)),
			    v.key);
			return WEFT_ETYPE;
		}
		if (weft_as_int(r) < 0 || weft_as_int(r) >= m->size) {
			set_err(err, WEFT_ERANGE,
			    "%s:%u:%u: error: key '%s' asks for rank %lld, but "
			    "there are %d ranks",
			    name, line, col, v.key, (long long)weft_as_int(r),
			    m->size);
			return WEFT_ERANGE;
		}
		if (weft_mpi_set_owner(s->g, n, (int)weft_as_int(r)) !=
		    WEFT_OK) {
			set_err(err, WEFT_ENOMEM, "%s: out of memory", name);
			return WEFT_ENOMEM;
		}
	}
	return WEFT_OK;
}

int
weft_mpi_spec_load_file(weft_mpi *m, const char *path,
    const weft_spec_opts *opts, weft_mpi_spec **out, weft_spec_error *err)
{
	weft_mpi_spec *s = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	if (out)
		*out = NULL;
	if (!m || m->failed || !path || !out || !m->reg) {
		set_err(err, WEFT_EINVAL, "%s",
		    m && !m->reg ? "the context has no registry"
				 : "invalid arguments");
		return WEFT_EINVAL;
	}
	rc = share_file(m, path, opts, &text, &len, err);
	if (rc != WEFT_OK)
		return rc;
	/* From here on every rank has the same text and reaches the same
	 * verdict on its own. */
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, WEFT_ENOMEM, "%s: out of memory", path);
		free(text);
		return WEFT_ENOMEM;
	}
	rc = weft_spec_load_buffer(text, len,
	    strcmp(path, "-") ? path : "<stdin>", m->reg, opts, &s->ws, err);
	free(text);
	if (rc == WEFT_OK) {
		s->g = wm_graph_wrap(m, weft_spec_graph(s->ws), 0);
		if (!s->g) {
			rc = WEFT_ENOMEM;
			set_err(err, rc, "%s: out of memory", path);
		}
	}
	if (rc == WEFT_OK)
		rc = set_owners(m, s, err);
	if (rc != WEFT_OK) {
		weft_mpi_spec_free(s);
		return rc;
	}
	*out = s;
	return WEFT_OK;
}

void
weft_mpi_spec_free(weft_mpi_spec *s)
{
	if (!s)
		return;
	weft_mpi_graph_free(s->g);
	weft_spec_free(s->ws);
	free(s);
}

weft_mpi_graph *
weft_mpi_spec_graph(const weft_mpi_spec *s)
{
	return s ? s->g : NULL;
}

size_t
weft_mpi_spec_ntargets(const weft_mpi_spec *s)
{
	return s ? weft_spec_ntargets(s->ws) : 0;
}

const weft_node *
weft_mpi_spec_targets(const weft_mpi_spec *s)
{
	return s ? weft_spec_targets(s->ws) : NULL;
}

const char *
weft_mpi_spec_target_key(const weft_mpi_spec *s, size_t i)
{
	return s ? weft_spec_target_key(s->ws, i) : NULL;
}

size_t
weft_mpi_spec_nwarnings(const weft_mpi_spec *s)
{
	return s ? weft_spec_nwarnings(s->ws) : 0;
}

const char *
weft_mpi_spec_warning(const weft_mpi_spec *s, size_t i)
{
	return s ? weft_spec_warning(s->ws, i) : NULL;
}

weft_spec *
weft_mpi_spec_local(const weft_mpi_spec *s)
{
	return s ? s->ws : NULL;
}
