/*
 * weft_mpi_compute: one graph across the ranks.
 *
 * Every rank plans the same way (plan.c) and agrees on it with one
 * allgather. Then each rank runs the nodes it owns, in *waves*: a wave is
 * a plain weft graph, run with weft_compute_async on the rank's pool, of
 * every owned node whose inputs are all there, plus every node whose
 * missing inputs are all in the same wave. Values from other ranks and
 * from earlier waves enter a wave as literals; a wave's targets are its
 * nodes that someone outside it needs. A node that waits for a remote
 * value is simply not in any wave yet, so no worker ever blocks on the
 * network and a pool of one worker cannot deadlock.
 *
 * The calling thread is the progress thread: it launches waves, takes
 * their targets as they complete (weft_future_next), sends each value once
 * to every rank that needs it (MPI_Isend, never waiting), receives values
 * (MPI_Improbe/Mrecv), and starts the waves they complete. Workers never
 * call MPI.
 *
 * The end is collective: the ranks exchange how many messages each sent
 * to each, drain what nobody consumed (after a failure), wait for their
 * sends, and agree on the outcome: the failure of the lowest rank that had
 * one of its own, message and all, broadcast from it.
 */
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi/mpi_int.h"

enum { ST_NONE = 0, ST_PENDING, ST_SCHEDULED, ST_DONE, ST_RECEIVED };

struct wave {
	weft_graph *wg;
	weft_future *f;
	uint32_t *tg; /* global index of each of its targets */
	size_t ntg;
	uint32_t *nodes; /* global index of each node, in wave order */
	size_t nnodes;
};

struct sendrec {
	wm_out out;
	int pending; /* requests still in flight */
};

/* A failure notice (WM_TAG_CTRL). */
struct ctrl {
	uint32_t magic, epoch;
	int32_t code, origin;
};

typedef struct run {
	weft_mpi *m;
	weft_mpi_graph *g;
	wm_plan *p;
	const weft_mpi_compute_opts *o;
	weft_opts wo;
	int me, nr, root;
	uint32_t epoch;
	double deadline;

	/* per node, indexed like the graph */
	uint8_t *state;
	uint8_t *istgt;
	uint8_t *urgent; /* wave building: feeds a value another rank waits
			    for */
	uint32_t *blk;	  /* inputs whose value is not here yet */
	uint32_t *uses;	  /* pending local consumers of val[] */
	uint32_t *wstamp; /* the wave a node is in */
	uint32_t *cstamp, *wcnt; /* wave building: inputs in that wave */
	weft_node *wnode;
	weft_value *val;
	uint32_t *tfirst; /* first target position + 1 (result ranks) */
	uint32_t *tnext;  /* next position + 1 of the same node */

	uint32_t *ready;
	size_t nready, capready;
	uint32_t *wl, *wl2;
	size_t capwl, capwl2;
	weft_arg *args;
	size_t capargs;
	uint32_t *tbuf;
	weft_node *tnodes;
	size_t captbuf, captnodes;
	struct wave *waves;
	size_t nwaves, capwaves;
	uint32_t wave_seq;

	MPI_Request *reqs;
	struct sendrec **reqrec;
	size_t nreqs, capreqs, caprec, nlive;
	int *idx; /* MPI_Testsome's scratch */
	MPI_Status *stats;
	size_t capidx, capstats;

	uint64_t *sent;	 /* [2 * nr]: value headers, notices */
	uint64_t *recvd; /* [2 * nr] */
	int *rstamp;	 /* [nr]: destinations of one value */
	uint32_t rseq;

	size_t pending_nodes, pending_results;
	int stopping;
	int origin; /* this rank failed on its own */
	int err_code;
	char err_msg[WM_ERRMAX];
	weft_value *results;
	int want_results;
	weft_mpi_stats st;
} run;

static void
oom(run *r)
{
	wm_fatal(r->m, "out of memory in the progress loop");
}

static void
watchdog(run *r)
{
	wm_deadline(r->m, r->deadline, r->o ? r->o->timeout_s : 0.0);
}

/* -- failures --------------------------------------------------------------- */

static void post_notice(run *r);

/* This rank failed on its own: remember the first failure, tell the
 * others, stop. */
static void
fail_local(run *r, int code, const char *fmt, ...) WEFT_PRINTF(3, 4);

static void
fail_local(run *r, int code, const char *fmt, ...)
{
	va_list ap;

	if (r->stopping)
		return; /* the first failure wins; later ones are echoes */
	r->origin = 1;
	r->err_code = code;
	va_start(ap, fmt);
	vsnprintf(r->err_msg, sizeof(r->err_msg), fmt, ap);
	va_end(ap);
	r->stopping = 1;
	for (size_t w = 0; w < r->nwaves; w++)
		weft_future_cancel(r->waves[w].f);
	post_notice(r);
}

/* -- sending ---------------------------------------------------------------- */

static void
track(run *r, struct sendrec *s, MPI_Request q)
{
	if (wm_grow((void **)&r->reqs, &r->capreqs, r->nreqs + 1,
		sizeof(*r->reqs)) ||
	    wm_grow((void **)&r->reqrec, &r->caprec, r->nreqs + 1,
		sizeof(*r->reqrec)))
		oom(r);
	r->reqs[r->nreqs] = q;
	r->reqrec[r->nreqs] = s;
	r->nreqs++;
	r->nlive++;
	s->pending++;
}

static void
isend(run *r, struct sendrec *s, const void *buf, size_t len, int dest,
    int tag)
{
	MPI_Request q;

	wm_check(r->m,
	    MPI_Isend(buf, (int)len, MPI_BYTE, dest, tag, r->m->comm, &q),
	    "MPI_Isend");
	track(r, s, q);
}

static void
post_notice(run *r)
{
	struct sendrec *s = calloc(1, sizeof(*s));
	struct ctrl c = { WM_MAGIC, r->epoch, r->err_code, r->me };

	if (!s || !(s->out.buf = malloc(sizeof(c))))
		oom(r);
	s->out.hold = weft_nil();
	memcpy(s->out.buf, &c, sizeof(c));
	s->pending = 0;
	for (int d = 0; d < r->nr; d++) {
		if (d == r->me)
			continue;
		isend(r, s, s->out.buf, sizeof(c), d, WM_TAG_CTRL);
		r->sent[2 * d + 1]++;
	}
	if (s->pending == 0) {
		wm_out_free(&s->out);
		free(s);
	}
}

/* Ranks other than this one that need node p's value; fills r->rstamp
 * and returns how many. */
static int
dests(run *r, uint32_t p, int *list)
{
	const wm_plan *pl = r->p;
	int n = 0;

	r->rseq++;
	for (uint32_t a = pl->out_off[p]; a < pl->out_off[p + 1]; a++) {
		int d = pl->owner[pl->out[a]];
		if (d != r->me && r->rstamp[d] != (int)r->rseq) {
			r->rstamp[d] = (int)r->rseq;
			list[n++] = d;
		}
	}
	if (r->istgt[p]) {
		for (int d = 0; d < r->nr; d++) {
			if (d == r->me || r->rstamp[d] == (int)r->rseq)
				continue;
			if (r->root == WEFT_MPI_ALL || d == r->root) {
				r->rstamp[d] = (int)r->rseq;
				list[n++] = d;
			}
		}
	}
	return n;
}

static int
has_dests(run *r, uint32_t p)
{
	const wm_plan *pl = r->p;

	for (uint32_t a = pl->out_off[p]; a < pl->out_off[p + 1]; a++)
		if (pl->owner[pl->out[a]] != r->me)
			return 1;
	return r->istgt[p] && r->nr > 1 &&
	    (r->root == WEFT_MPI_ALL || r->root != r->me);
}

static void
send_value(run *r, uint32_t p, weft_value v, int *list)
{
	int nd = dests(r, p, list);
	struct sendrec *s;
	char why[512], kb[32];
	int rc;

	if (nd == 0)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		oom(r);
	rc = wm_pack(r->m, v, p, r->epoch, &s->out, why, sizeof(why));
	if (rc != WEFT_OK) {
		free(s);
		fail_local(r, rc,
		    "value of node '%s' (%s) cannot be sent to rank %d: %s",
		    wm_key(r->p, p, kb, sizeof(kb)),
		    weft_type_name(weft_type_of(v)), list[0], why);
		return;
	}
	for (int k = 0; k < nd; k++) {
		int d = list[k];
		isend(r, s, s->out.buf, s->out.buflen, d, WM_TAG_DATA);
		for (uint32_t b = 0; b < s->out.nbody; b++) {
			size_t off = (size_t)b * s->out.chunk;
			size_t len = s->out.len - off < s->out.chunk
			    ? s->out.len - off
			    : s->out.chunk;
			isend(r, s, s->out.body + off, len, d, WM_TAG_BODY);
		}
		r->sent[2 * d]++;
		r->st.msgs_sent++;
		r->st.bytes_sent += s->out.buflen + (s->out.body ? s->out.len : 0);
	}
}

/* Frees the records of completed sends. Returns 1 if any completed. */
static int
poll_sends(run *r)
{
	int nout = 0;
	size_t j = 0;

	if (r->nlive == 0) {
		r->nreqs = 0;
		return 0;
	}
	/* Real statuses, not MPI_STATUSES_IGNORE: GCC 12 takes MPICH's
	 * (MPI_Status *)1 for a zero-sized array and refuses the call. */
	if (wm_grow((void **)&r->idx, &r->capidx, r->nreqs, sizeof(*r->idx)) ||
	    wm_grow((void **)&r->stats, &r->capstats, r->nreqs,
		sizeof(*r->stats)))
		oom(r);
	wm_check(r->m,
	    MPI_Testsome((int)r->nreqs, r->reqs, &nout, r->idx, r->stats),
	    "MPI_Testsome");
	if (nout == MPI_UNDEFINED)
		nout = 0;
	for (int k = 0; k < nout; k++) {
		struct sendrec *s = r->reqrec[r->idx[k]];
		r->reqrec[r->idx[k]] = NULL;
		r->nlive--;
		if (--s->pending == 0) {
			wm_out_free(&s->out);
			free(s);
		}
	}
	/* Compact once most entries are done (Testsome skips the nulls,
	 * but still walks them). */
	if (nout && r->nlive * 2 < r->nreqs) {
		for (size_t i = 0; i < r->nreqs; i++)
			if (r->reqrec[i]) {
				r->reqs[j] = r->reqs[i];
				r->reqrec[j] = r->reqrec[i];
				j++;
			}
		r->nreqs = j;
	}
	return nout > 0;
}

/* -- values arriving ---------------------------------------------------------- */

static void
push_ready(run *r, uint32_t c)
{
	if (wm_grow((void **)&r->ready, &r->capready, r->nready + 1,
		sizeof(*r->ready)))
		oom(r);
	r->ready[r->nready++] = c;
}

/* Node p's value (owned) is here: from a wave of this rank or from its
 * owner. */
static void
have_value(run *r, uint32_t p, weft_value v, int *list)
{
	const wm_plan *pl = r->p;
	uint32_t uses = 0;

	if (r->stopping) {
		weft_value_release(&v);
		return;
	}
	if (pl->owner[p] == r->me) {
		r->state[p] = ST_DONE;
		send_value(r, p, v, list);
		if (r->stopping) {
			weft_value_release(&v);
			return;
		}
	} else {
		r->state[p] = ST_RECEIVED;
		if (r->tfirst[p])
			r->pending_results--;
	}
	for (uint32_t t = r->tfirst[p]; t; t = r->tnext[t - 1])
		r->results[t - 1] = weft_value_retain(v);
	for (uint32_t a = pl->out_off[p]; a < pl->out_off[p + 1]; a++) {
		uint32_t c = pl->out[a];
		if (pl->owner[c] != r->me || r->state[c] != ST_PENDING)
			continue;
		uses++;
		if (--r->blk[c] == 0)
			push_ready(r, c);
	}
	if (uses) {
		r->val[p] = v;
		r->uses[p] = uses;
	} else {
		weft_value_release(&v);
	}
}

/* Receives the body messages of a value from `src` into a new value. */
static int
recv_payload(run *r, const wm_hdr *h, int src, const unsigned char *inl,
    size_t inlen, weft_value *out, char *why, size_t whysize)
{
	unsigned char *buf = NULL, *dst;
	size_t len = (size_t)h->len;
	int rc = WEFT_OK;

	*out = weft_nil();
	if (h->nbody == 0) {
		if (inlen != len) {
			snprintf(why, whysize, "a malformed value message");
			return WEFT_EIO;
		}
		return wm_unpack(r->m, inl, len, out, why, whysize);
	}
	if (h->chunk == 0 ||
	    (uint64_t)h->nbody != (h->len + h->chunk - 1) / h->chunk) {
		wm_fatal(r->m, "malformed message from rank %d", src);
	}
	if ((h->flags & WM_RAW) && h->type == WEFT_F64S) {
		/* Straight into the new array: no copy at all. */
		if (weft_f64s_new(len / sizeof(double), NULL, out) != WEFT_OK)
			oom(r);
		dst = (unsigned char *)weft_f64s_data_mut(*out);
	} else {
		buf = malloc(len ? len : 1);
		if (!buf)
			oom(r);
		dst = buf;
	}
	for (uint32_t b = 0; b < h->nbody; b++) {
		size_t off = (size_t)b * (size_t)h->chunk;
		size_t n = len - off < h->chunk ? len - off : (size_t)h->chunk;
		wm_check(r->m,
		    MPI_Recv(dst + off, (int)n, MPI_BYTE, src, WM_TAG_BODY,
			r->m->comm, MPI_STATUS_IGNORE),
		    "MPI_Recv");
	}
	if (buf) {
		if (!(h->flags & WM_RAW))
			rc = wm_unpack(r->m, buf, len, out, why, whysize);
		else if (h->type == WEFT_STR)
			*out = weft_str_n((const char *)buf, len);
		else if (h->type == WEFT_BYTES)
			*out = weft_bytes(buf, len);
		else
			wm_fatal(r->m, "malformed message from rank %d", src);
		if (rc == WEFT_OK && weft_is_nil(*out) &&
		    h->type != WEFT_NIL)
			oom(r);
		free(buf);
	}
	return rc;
}

static void
recv_data(run *r, MPI_Message *msg, const MPI_Status *st, int *list)
{
	int cnt = 0, src = st->MPI_SOURCE;
	unsigned char *buf;
	wm_hdr h;
	weft_value v;
	char why[512], kb[32];
	uint32_t p;
	int rc;

	wm_check(r->m, MPI_Get_count(st, MPI_BYTE, &cnt), "MPI_Get_count");
	buf = malloc(cnt > 0 ? (size_t)cnt : 1);
	if (!buf)
		oom(r);
	wm_check(r->m,
	    MPI_Mrecv(buf, cnt, MPI_BYTE, msg, MPI_STATUS_IGNORE), "MPI_Mrecv");
	r->recvd[2 * src]++;
	if ((size_t)cnt < sizeof(h))
		wm_fatal(r->m, "malformed message from rank %d", src);
	memcpy(&h, buf, sizeof(h));
	if (h.magic != WM_MAGIC || h.epoch != r->epoch)
		wm_fatal(r->m,
		    "message from rank %d of compute %" PRIu32
		    " arrived during compute %" PRIu32,
		    src, h.epoch, r->epoch);
	rc = recv_payload(r, &h, src, buf + sizeof(h), (size_t)cnt - sizeof(h),
	    &v, why, sizeof(why));
	free(buf);
	r->st.msgs_recv++;
	r->st.bytes_recv += (size_t)cnt + (h.nbody ? (size_t)h.len : 0);
	p = h.node;
	if (r->stopping) {
		weft_value_release(&v);
		return;
	}
	if (p >= r->p->n || !r->p->isneed[p] || r->p->owner[p] != src ||
	    r->state[p] == ST_RECEIVED)
		wm_fatal(r->m, "unexpected value of node %" PRIu32
			       " from rank %d (do all ranks build the same "
			       "graph?)",
		    p, src);
	if (rc != WEFT_OK) {
		fail_local(r, rc, "value of node '%s' from rank %d: %s",
		    wm_key(r->p, p, kb, sizeof(kb)), src, why);
		return;
	}
	have_value(r, p, v, list);
}

static void
recv_ctrl(run *r, MPI_Message *msg, const MPI_Status *st)
{
	struct ctrl c;
	int cnt = 0;

	wm_check(r->m, MPI_Get_count(st, MPI_BYTE, &cnt), "MPI_Get_count");
	if (cnt != (int)sizeof(c))
		wm_fatal(r->m, "malformed notice from rank %d", st->MPI_SOURCE);
	wm_check(r->m, MPI_Mrecv(&c, cnt, MPI_BYTE, msg, MPI_STATUS_IGNORE),
	    "MPI_Mrecv");
	r->recvd[2 * st->MPI_SOURCE + 1]++;
	if (!r->stopping) {
		/* Another rank failed: stop too. Its message comes at the
		 * end, with everyone's agreement. */
		r->stopping = 1;
		for (size_t w = 0; w < r->nwaves; w++)
			weft_future_cancel(r->waves[w].f);
	}
}

/* Takes every message waiting for this rank. Returns 1 if any. */
static int
poll_recv(run *r, int *list)
{
	int busy = 0, flag;
	MPI_Message msg;
	MPI_Status st;

	for (;;) {
		wm_check(r->m,
		    MPI_Improbe(MPI_ANY_SOURCE, WM_TAG_DATA, r->m->comm, &flag,
			&msg, &st),
		    "MPI_Improbe");
		if (!flag)
			break;
		recv_data(r, &msg, &st, list);
		busy = 1;
	}
	for (;;) {
		wm_check(r->m,
		    MPI_Improbe(MPI_ANY_SOURCE, WM_TAG_CTRL, r->m->comm, &flag,
			&msg, &st),
		    "MPI_Improbe");
		if (!flag)
			break;
		recv_ctrl(r, &msg, &st);
		busy = 1;
	}
	return busy;
}

/* -- waves -------------------------------------------------------------------- */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/*
 * Other ranks wait for what this rank sends: run that, and what it needs,
 * first. Urgency flows from each value that leaves the rank back to its
 * inputs in the wave (wl is in topological order, so one backward sweep
 * does it). The urgent nodes then go first in wl, still in topological
 * order (they need no other node of the wave), and weft, which starts
 * roots and runs ready nodes depth-first in creation order, starts the
 * chains that feed the neighbours before the rest. (weft_node_set_priority
 * would say it more directly; see the notes of issue 7 on why not yet.)
 */
static void
order_urgent_first(run *r, size_t n, uint32_t W)
{
	const wm_plan *pl = r->p;
	size_t nu = 0, k2 = 0;

	for (size_t k = n; k-- > 0;) {
		uint32_t p = r->wl[k];
		if (!r->urgent[p] && !has_dests(r, p))
			continue;
		r->urgent[p] = 1;
		nu++;
		for (uint32_t a = pl->in_off[p]; a < pl->in_off[p + 1]; a++) {
			uint32_t q = pl->in[a];
			if (r->wstamp[q] == W && r->state[q] == ST_SCHEDULED)
				r->urgent[q] = 1;
		}
	}
	if (nu == 0 || nu == n) {
		for (size_t k = 0; nu && k < n; k++)
			r->urgent[r->wl[k]] = 0;
		return;
	}
	if (wm_grow((void **)&r->wl2, &r->capwl2, n, sizeof(*r->wl2)))
		oom(r);
	for (size_t k = 0; k < n; k++)
		if (r->urgent[r->wl[k]])
			r->wl2[k2++] = r->wl[k];
	for (size_t k = 0; k < n; k++) {
		if (!r->urgent[r->wl[k]])
			r->wl2[k2++] = r->wl[k];
		r->urgent[r->wl[k]] = 0;
	}
	memcpy(r->wl, r->wl2, n * sizeof(*r->wl));
}

/* Builds and starts a wave from the ready nodes. */
static void
launch(run *r)
{
	const wm_plan *pl = r->p;
	uint32_t W = ++r->wave_seq;
	size_t n = 0, nt = 0;
	struct wave w = { 0 };
	char kb[32];

	/* The ready nodes, then whatever they complete, breadth first. */
	for (size_t k = 0; k < r->nready; k++) {
		uint32_t p = r->ready[k];
		if (r->state[p] != ST_PENDING)
			continue;
		if (wm_grow((void **)&r->wl, &r->capwl, n + 1, sizeof(*r->wl)))
			oom(r);
		r->state[p] = ST_SCHEDULED;
		r->wstamp[p] = W;
		r->wl[n++] = p;
	}
	r->nready = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t p = r->wl[k];
		for (uint32_t a = pl->out_off[p]; a < pl->out_off[p + 1]; a++) {
			uint32_t c = pl->out[a];
			if (pl->owner[c] != r->me || r->state[c] != ST_PENDING)
				continue;
			if (r->cstamp[c] != W) {
				r->cstamp[c] = W;
				r->wcnt[c] = 0;
			}
			if (++r->wcnt[c] < r->blk[c])
				continue;
			if (wm_grow((void **)&r->wl, &r->capwl, n + 1,
				sizeof(*r->wl)))
				oom(r);
			r->state[c] = ST_SCHEDULED;
			r->wstamp[c] = W;
			r->wl[n++] = c;
		}
	}
	if (n == 0)
		return;
	/* Inputs before their consumers: node order is a topological
	 * order, since a node refers only to nodes made before it. A large
	 * wave is put in order by one sweep over the plan instead. */
	if (n > 64 && n > pl->nneed / 16) {
		size_t k = 0;
		for (size_t j = 0; j < pl->nneed; j++)
			if (r->wstamp[pl->need[j]] == W &&
			    r->state[pl->need[j]] == ST_SCHEDULED)
				r->wl[k++] = pl->need[j];
	} else {
		qsort(r->wl, n, sizeof(*r->wl), cmp_u32);
	}
	order_urgent_first(r, n, W);
	w.wg = weft_graph_new();
	if (!w.wg || wm_grow((void **)&r->tbuf, &r->captbuf, n, sizeof(*r->tbuf)) ||
	    wm_grow((void **)&r->tnodes, &r->captnodes, n, sizeof(*r->tnodes)))
		oom(r);
	for (size_t k = 0; k < n; k++) {
		uint32_t p = r->wl[k];
		const struct wm_node *nd = &pl->nodes[p];
		if (wm_grow((void **)&r->args, &r->capargs, nd->nargs + 1,
			sizeof(*r->args)))
			oom(r);
		for (uint32_t a = 0; a < nd->nargs; a++) {
			const struct wm_arg *ar = &pl->args[nd->arg0 + a];
			uint32_t q = ar->ref ? ar->ref - 1 : 0;
			if (!ar->ref)
				r->args[a] = weft_lit(weft_value_retain(ar->lit));
			else if (r->wstamp[q] == W &&
			    r->state[q] == ST_SCHEDULED)
				r->args[a] = weft_ref(r->wnode[q]);
			else
				r->args[a] = weft_lit(weft_value_retain(r->val[q]));
		}
		/* Only keys the user gave: naming every node would cost a
		 * third of the distributed path (wave_failed maps default
		 * keys back). */
		r->wnode[p] = weft_delayed_named(w.wg,
		    nd->key, nd->fn, nd->nargs,
		    r->args);
		if (!weft_node_ok(r->wnode[p])) {
			fail_local(r, weft_graph_errcode(w.wg),
			    "cannot build node '%s': %s",
			    wm_key(pl, p, kb, sizeof(kb)),
			    weft_graph_error(w.wg));
			weft_graph_free(w.wg);
			return;
		}
		/* This consumer no longer needs the values it took. */
		for (uint32_t a = pl->in_off[p]; a < pl->in_off[p + 1]; a++) {
			uint32_t q = pl->in[a];
			if (r->wstamp[q] == W && r->state[q] == ST_SCHEDULED)
				continue;
			if (--r->uses[q] == 0)
				weft_value_release(&r->val[q]);
		}
	}
	/* Targets: what someone outside the wave needs. */
	for (size_t k = 0; k < n; k++) {
		uint32_t p = r->wl[k];
		int out = r->tfirst[p] != 0 || has_dests(r, p);
		for (uint32_t a = pl->out_off[p];
		     !out && a < pl->out_off[p + 1]; a++) {
			uint32_t c = pl->out[a];
			out = pl->owner[c] == r->me && r->state[c] == ST_PENDING;
		}
		if (out) {
			r->tbuf[nt] = p;
			r->tnodes[nt] = r->wnode[p];
			nt++;
		}
	}
	w.nnodes = n;
	w.nodes = malloc(n * sizeof(*w.nodes));
	w.tg = malloc((nt ? nt : 1) * sizeof(*w.tg));
	if (!w.tg || !w.nodes)
		oom(r);
	memcpy(w.nodes, r->wl, n * sizeof(*w.nodes));
	memcpy(w.tg, r->tbuf, nt * sizeof(*w.tg));
	w.ntg = nt;
	w.f = weft_compute_async(w.wg, nt, r->tnodes, &r->wo);
	if (!w.f) {
		fail_local(r, weft_graph_errcode(w.wg), "%s",
		    weft_graph_error(w.wg));
		weft_graph_free(w.wg);
		free(w.tg);
		free(w.nodes);
		return;
	}
	if (wm_grow((void **)&r->waves, &r->capwaves, r->nwaves + 1,
		sizeof(*r->waves)))
		oom(r);
	r->waves[r->nwaves++] = w;
	r->st.waves++;
}

static void
wave_free(run *r, size_t i)
{
	weft_future_free(r->waves[i].f);
	weft_graph_free(r->waves[i].wg);
	free(r->waves[i].tg);
	free(r->waves[i].nodes);
	r->waves[i] = r->waves[--r->nwaves];
}

/* "task 'KEY' failed: MSG" (weft_compute's form) -> the node's key in
 * the graph (the wave's own default key differs) and the message. */
static void
wave_failed(run *r, size_t i, int rc)
{
	const struct wave *w = &r->waves[i];
	const char *e = weft_future_error(w->f);
	const char *q = strncmp(e, "task '", 6) == 0 ? strstr(e + 6, "' failed: ")
						      : NULL;
	char key[WM_ERRMAX], kb[32];

	if (rc == WEFT_ECANCELED && r->stopping)
		return;
	if (q) {
		weft_node wn;
		snprintf(key, sizeof(key), "%.*s", (int)(q - e - 6), e + 6);
		wn = weft_graph_find(w->wg, key);
		for (size_t k = 0; weft_node_ok(wn) && k < w->nnodes; k++)
			if (r->wnode[w->nodes[k]].id == wn.id) {
				snprintf(key, sizeof(key), "%s",
				    wm_key(r->p, w->nodes[k], kb, sizeof(kb)));
				break;
			}
		fail_local(r, rc, "task '%s' failed on rank %d: %s", key,
		    r->me, q + 10);
	} else
		fail_local(r, rc, "rank %d: %s", r->me,
		    *e ? e : weft_strerror(rc));
}

/* Takes what wave i has finished; waits up to `timeout` s for the first.
 * Returns 1 if anything happened. */
static int
poll_wave(run *r, size_t i, double timeout, int *list)
{
	size_t idx;
	weft_value v;
	int rc = weft_future_next(r->waves[i].f, timeout, &idx, &v);
	int busy = 0;

	while (rc == WEFT_OK) {
		have_value(r, r->waves[i].tg[idx], v, list);
		busy = 1;
		rc = weft_future_next(r->waves[i].f, 0, &idx, &v);
	}
	if (rc == WEFT_ETIMEDOUT)
		return busy;
	if (rc == WEFT_ENOTFOUND)
		r->pending_nodes -= r->waves[i].nnodes; /* all ran */
	else
		wave_failed(r, i, rc);
	wave_free(r, i);
	return 1;
}

/* -- the loop ----------------------------------------------------------------- */

static void
idle_wait(run *r, unsigned idle, int *list)
{
	/* Yield first: a value may be microseconds away, and a yield costs
	 * nothing when no one else wants the core and gives it away when
	 * someone does. Then sleep longer and longer, up to 100 us: MPI
	 * cannot wake us, so this bounds the latency of a message that
	 * arrives while all is quiet, at ~10k wake-ups a second. A running
	 * wave wakes us as soon as it has a result. */
	if (idle < 64) {
		sched_yield();
		return;
	}
	long us = idle >= 68 ? 100 : 10L << (idle - 64);
	if (us > 100)
		us = 100;
	if (r->nwaves) {
		poll_wave(r, 0, (double)us * 1e-6, list);
		return;
	}
	struct timespec ts = { 0, us * 1000L };
	double t0 = r->pending_nodes ? wm_now() : 0;
	nanosleep(&ts, NULL);
	if (r->pending_nodes)
		r->st.starved += wm_now() - t0;
}

static void
loop(run *r, int *list)
{
	unsigned idle = 0;

	for (;;) {
		int busy = 0;
		if (!r->stopping && r->nready) {
			launch(r);
			busy = 1;
		}
		for (size_t i = 0; i < r->nwaves && !r->stopping;) {
			size_t before = r->nwaves;
			busy |= poll_wave(r, i, 0, list);
			if (r->nwaves == before)
				i++;
		}
		busy |= poll_recv(r, list);
		busy |= poll_sends(r);
		if (r->stopping)
			return;
		if (r->pending_nodes == 0 && r->pending_results == 0 &&
		    r->nwaves == 0)
			return;
		watchdog(r);
		if (busy) {
			idle = 0;
			continue;
		}
		idle_wait(r, idle < 1000 ? idle++ : idle, list);
	}
}

static int
sends_moved(void *ud)
{
	return poll_sends(ud);
}

/* Polls a non-blocking collective to its end, keeping sends moving. */
static void
wait_req(run *r, MPI_Request *q, const char *what)
{
	wm_wait(r->m, q, r->deadline, r->o ? r->o->timeout_s : 0.0, what,
	    sends_moved, r);
}

/* The collective end: every rank, whatever happened. */
static void
finish(run *r, int *list)
{
	uint64_t *expect = calloc((size_t)r->nr * 2, sizeof(*expect));
	MPI_Request q;
	struct {
		int32_t code;
		char msg[WM_ERRMAX];
	} out;
	int mine, who = INT_MAX;

	if (!expect)
		oom(r);
	/* No wave may outlive the compute. */
	for (size_t i = 0; i < r->nwaves; i++)
		weft_future_cancel(r->waves[i].f);
	while (r->nwaves)
		wave_free(r, r->nwaves - 1);
	/* Whatever still arrives is drained, not used. */
	r->stopping = 1;
	wm_check(r->m,
	    MPI_Ialltoall(r->sent, 2, MPI_UINT64_T, expect, 2, MPI_UINT64_T,
		r->m->comm, &q),
	    "MPI_Ialltoall");
	wait_req(r, &q, "MPI_Ialltoall");
	for (int s = 0; s < r->nr; s++) {
		unsigned idle = 0;
		while (r->recvd[2 * s] < expect[2 * s] ||
		    r->recvd[2 * s + 1] < expect[2 * s + 1]) {
			if (poll_recv(r, list) | poll_sends(r)) {
				idle = 0;
				continue;
			}
			watchdog(r);
			if (idle++ < 8) {
				sched_yield();
			} else {
				struct timespec ts = { 0, 50000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	while (r->nlive) {
		poll_sends(r);
		watchdog(r);
	}
	free(expect);
	/* The lowest rank that failed on its own speaks for all. */
	mine = r->origin ? r->me : INT_MAX;
	wm_check(r->m,
	    MPI_Iallreduce(&mine, &who, 1, MPI_INT, MPI_MIN, r->m->comm, &q),
	    "MPI_Iallreduce");
	wait_req(r, &q, "MPI_Iallreduce");
	if (who == INT_MAX) {
		r->err_code = WEFT_OK;
		return;
	}
	memset(&out, 0, sizeof(out));
	if (who == r->me) {
		out.code = r->err_code;
		snprintf(out.msg, sizeof(out.msg), "%s", r->err_msg);
	}
	wm_check(r->m,
	    MPI_Ibcast(&out, (int)sizeof(out), MPI_BYTE, who, r->m->comm, &q),
	    "MPI_Ibcast");
	wait_req(r, &q, "MPI_Ibcast");
	r->err_code = out.code ? out.code : WEFT_ETASK;
	snprintf(r->err_msg, sizeof(r->err_msg), "%s", out.msg);
}

/* -- setup ---------------------------------------------------------------------- */

static int
run_alloc(run *r)
{
	size_t n = r->p->n ? r->p->n : 1;

	r->state = calloc(n, 1);
	r->istgt = calloc(n, 1);
	r->urgent = calloc(n, 1);
	r->blk = calloc(n, sizeof(uint32_t));
	r->uses = calloc(n, sizeof(uint32_t));
	r->wstamp = calloc(n, sizeof(uint32_t));
	r->cstamp = calloc(n, sizeof(uint32_t));
	r->wcnt = calloc(n, sizeof(uint32_t));
	r->wnode = calloc(n, sizeof(weft_node));
	r->val = calloc(n, sizeof(weft_value));
	r->tfirst = calloc(n, sizeof(uint32_t));
	r->tnext = calloc(r->p->ntargets ? r->p->ntargets : 1,
	    sizeof(uint32_t));
	r->sent = calloc((size_t)r->nr * 2, sizeof(uint64_t));
	r->recvd = calloc((size_t)r->nr * 2, sizeof(uint64_t));
	r->rstamp = calloc((size_t)r->nr, sizeof(int));
	if (!r->state || !r->istgt || !r->urgent || !r->blk || !r->uses || !r->wstamp ||
	    !r->cstamp || !r->wcnt || !r->wnode || !r->val || !r->tfirst ||
	    !r->tnext || !r->sent || !r->recvd || !r->rstamp)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < n; i++)
		r->val[i] = weft_nil();
	return WEFT_OK;
}

static void
run_free(run *r)
{
	if (r->val)
		for (size_t i = 0; i < r->p->n; i++)
			weft_value_release(&r->val[i]);
	free(r->state);
	free(r->istgt);
	free(r->urgent);
	free(r->blk);
	free(r->uses);
	free(r->wstamp);
	free(r->cstamp);
	free(r->wcnt);
	free(r->wnode);
	free(r->val);
	free(r->tfirst);
	free(r->tnext);
	free(r->sent);
	free(r->recvd);
	free(r->rstamp);
	free(r->ready);
	free(r->wl);
	free(r->wl2);
	free(r->args);
	free(r->tbuf);
	free(r->tnodes);
	free(r->waves);
	free(r->reqs);
	free(r->reqrec);
	free(r->idx);
	free(r->stats);
}

/* Per-node state from the plan. */
static void
run_init(run *r)
{
	const wm_plan *pl = r->p;

	for (size_t t = 0; t < pl->ntargets; t++) {
		uint32_t p = pl->tidx[t];
		r->istgt[p] = 1;
		if (!r->want_results)
			continue;
		/* chain positions of the same node, first one first */
		if (!r->tfirst[p]) {
			r->tfirst[p] = (uint32_t)t + 1;
			if (pl->owner[p] != r->me)
				r->pending_results++;
		} else {
			uint32_t at = r->tfirst[p];
			while (r->tnext[at - 1])
				at = r->tnext[at - 1];
			r->tnext[at - 1] = (uint32_t)t + 1;
		}
	}
	for (size_t k = 0; k < pl->nneed; k++) {
		uint32_t p = pl->need[k];
		if (pl->owner[p] != r->me)
			continue;
		r->state[p] = ST_PENDING;
		r->blk[p] = pl->in_off[p + 1] - pl->in_off[p];
		r->pending_nodes++;
		if (r->blk[p] == 0)
			push_ready(r, p);
	}
	r->st.tasks = r->pending_nodes;
}

/* -- the agreement before a compute --------------------------------------------- */

struct startinfo {
	int64_t rc;
	uint64_t hash;
};

/* Every rank learns every rank's verdict on its arguments and its graph
 * hash, so every rank reaches the same decision; a local error's message
 * comes from the lowest rank that had one. */
static int
agree_start(weft_mpi *m, weft_mpi_graph *g, int rc, uint64_t hash,
    const char *msg, double deadline, double timeout_s)
{
	struct startinfo mine = { rc, hash }, *all;
	int bad = -1, diff = -1;
	char text[WM_ERRMAX];
	MPI_Request q;

	all = calloc((size_t)m->size, sizeof(*all));
	if (!all)
		wm_fatal(m, "out of memory");
	/* Non-blocking, under the compute's deadline: a rank that never
	 * gets here (it failed before the compute, or hangs) must not leave
	 * the others waiting for ever. */
	wm_check(m,
	    MPI_Iallgather(&mine, (int)sizeof(mine), MPI_BYTE, all,
		(int)sizeof(mine), MPI_BYTE, m->comm, &q),
	    "MPI_Iallgather");
	wm_wait(m, &q, deadline, timeout_s, "MPI_Iallgather", NULL, NULL);
	for (int i = 0; i < m->size; i++) {
		if (bad < 0 && all[i].rc != WEFT_OK)
			bad = i;
		if (diff < 0 && all[i].hash != all[0].hash)
			diff = i;
	}
	if (bad >= 0) {
		snprintf(text, sizeof(text), "%s", msg);
		wm_check(m,
		    MPI_Ibcast(text, (int)sizeof(text), MPI_BYTE, bad, m->comm,
			&q),
		    "MPI_Ibcast");
		wm_wait(m, &q, deadline, timeout_s, "MPI_Ibcast", NULL, NULL);
		rc = (int)all[bad].rc;
		free(all);
		/* The same text on every rank, the failing one included. */
		if (m->size == 1)
			return wm_graph_fail(g, rc, "%s", text);
		return wm_graph_fail(g, rc, "rank %d: %s", bad, text);
	}
	free(all);
	if (diff >= 0)
		return wm_graph_fail(g, WEFT_EINVAL,
		    "the graph differs between ranks: rank %d built a "
		    "different graph than rank 0 (every rank must make the "
		    "same calls in the same order, with the same keys, "
		    "literals, owners and targets)",
		    diff);
	return WEFT_OK;
}

static int
copts_ok(const weft_mpi_compute_opts *o, int nranks)
{
	if (!o)
		return 1;
	for (size_t i = 0; i < sizeof(o->reserved) / sizeof(o->reserved[0]);
	     i++)
		if (o->reserved[i])
			return 0;
	return o->root == WEFT_MPI_ALL || (o->root >= 0 && o->root < nranks);
}

int
weft_mpi_compute(weft_mpi_graph *g, size_t n, const weft_node *targets,
    weft_value *results, const weft_mpi_compute_opts *opts)
{
	weft_mpi *m;
	wm_plan plan;
	run r;
	char msg[WM_ERRMAX] = "";
	int rc = WEFT_OK, *list = NULL, main_ok = 1;
	double t0 = wm_now();

	if (!g || g->m->failed)
		return WEFT_EINVAL;
	m = g->m;
	if (m->thread_level < MPI_THREAD_SERIALIZED)
		MPI_Is_thread_main(&main_ok);
	if (!main_ok)
		/* This thread may not call MPI at all: nothing collective
		 * can happen, the other ranks will wait. */
		return wm_graph_fail(g, WEFT_EINVAL,
		    "compute: MPI gives FUNNELED thread support and this is "
		    "not the thread that initialized MPI");
	g->errcode = WEFT_OK;
	g->err[0] = '\0';
	memset(&g->stats, 0, sizeof(g->stats));
	memset(&plan, 0, sizeof(plan));
	memset(&r, 0, sizeof(r));
	r.root = opts ? opts->root : 0;
	r.want_results = r.root == WEFT_MPI_ALL || r.root == m->rank;
	if (results)
		for (size_t i = 0; i < n; i++)
			results[i] = weft_nil();
	if (!copts_ok(opts, m->size)) {
		rc = WEFT_EINVAL;
		snprintf(msg, sizeof(msg),
		    "compute: bad options (root out of range or reserved "
		    "fields set)");
	} else if (n > 0 && !targets) {
		rc = WEFT_EINVAL;
		snprintf(msg, sizeof(msg),
		    "compute: %zu targets but a NULL targets array", n);
	} else if (n > 0 && !results && r.want_results) {
		rc = WEFT_EINVAL;
		snprintf(msg, sizeof(msg),
		    "compute: %zu targets but a NULL results array", n);
	} else if (n > UINT32_MAX / 2) {
		rc = WEFT_EINVAL;
		snprintf(msg, sizeof(msg), "compute: too many targets");
	}
	if (rc == WEFT_OK)
		rc = wm_plan_build(g, n, targets, m->size, r.root, opts, &plan,
		    msg, sizeof(msg));
	rc = agree_start(m, g, rc, plan.hash, msg,
	    opts && opts->timeout_s > 0 ? t0 + opts->timeout_s : 0,
	    opts ? opts->timeout_s : 0);
	m->epoch++;
	if (rc != WEFT_OK) {
		wm_plan_free(&plan);
		return rc;
	}
	if (wm_owners_fit(g) != WEFT_OK)
		wm_fatal(m, "out of memory starting a compute");
	for (size_t k = 0; k < plan.nneed; k++)
		g->planned[plan.need[k]] = plan.owner[plan.need[k]];

	r.m = m;
	r.g = g;
	r.p = &plan;
	r.o = opts;
	r.me = m->rank;
	r.nr = m->size;
	r.epoch = m->epoch;
	r.results = results;
	r.deadline = opts && opts->timeout_s > 0 ? t0 + opts->timeout_s : 0;
	r.wo.pool = m->pool;
	r.wo.flags = opts ? opts->flags : 0;
	r.wo.callbacks = opts ? opts->callbacks : NULL;
	list = malloc((size_t)m->size * sizeof(int));
	/* Out of memory here, after the ranks agreed to run, cannot be
	 * reported in step with the others: fatal. */
	if (!list || run_alloc(&r) != WEFT_OK)
		wm_fatal(m, "out of memory starting a compute of %zu nodes",
		    plan.nneed);
	run_init(&r);
	loop(&r, list);
	finish(&r, list);
	rc = r.err_code;
	if (rc != WEFT_OK) {
		wm_graph_fail(g, rc, "%s", r.err_msg);
		for (size_t i = 0; results && r.want_results && i < n; i++)
			weft_value_release(&results[i]);
	}
	r.st.nodes = plan.nneed;
	r.st.cross_edges = plan.cross_edges;
	r.st.seconds = wm_now() - t0;
	g->stats = r.st;
	run_free(&r);
	free(list);
	wm_plan_free(&plan);
	return rc;
}
