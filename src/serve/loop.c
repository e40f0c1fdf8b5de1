/*
 * The epoll event loop (loop.h).
 *
 * Lock order: none. Everything here runs on the loop thread but
 * serve_loop_wake, which only writes the eventfd.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

/* epoll tags of the loop's own descriptors; connections use pointers. */
enum { TAG_LISTEN = 1, TAG_WAKE = 2, TAG_SIGNAL = 3 };

#define READ_CHUNK ((size_t)64 << 10)
#define READ_TURN ((size_t)256 << 10) /* per readiness, for fairness */
/* A paused connection is still read up to this much before it is taken
 * out of epoll's read set: a client that waits for its answer sends
 * nothing, so pausing costs no epoll_ctl calls in the common case. */
#define PAUSED_MAX ((size_t)64 << 10)

struct serve_conn {
	serve_loop *loop;
	int fd;
	uint32_t events; /* the epoll interest set now */
	serve_buf in, out;
	void *data;
	int paused, closing, dead, ready;
	int doomed; /* to close at the next safe point (see conn_doom) */
	double last_in; /* when bytes last arrived */
	serve_conn *prev, *next; /* every live connection */
	serve_conn *next_ready;	 /* input to look at again */
	serve_conn *next_dead;	 /* closed, freed at the end of a turn */
	serve_conn *next_doomed; /* to close */
};

struct serve_loop {
	int lfd, ep, wfd, sfd;
	serve_loop_hooks hooks;
	void *ud;
	size_t max_conns, nconns;
	double idle_s;
	int tick_ms;
	double last_tick;
	int stop;
	unsigned port;
	char host[256];
	serve_conn *conns, *ready, *dead, *doomed;
};

double
serve_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void
serve_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int
ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.u64 = tag;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int
listen_on(serve_loop *l, const char *host, unsigned port, char *err,
    size_t errsize)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int rc, fd = -1, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof portstr, "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsize, "cannot resolve host '%s': %s", host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errsize, "cannot listen on %s:%u: %s", host, port,
		    strerror(saved));
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		l->port = ntohs(ss.ss_family == AF_INET6
			? ((struct sockaddr_in6 *)&ss)->sin6_port
			: ((struct sockaddr_in *)&ss)->sin_port);
	l->lfd = fd;
	return 0;
}

serve_loop *
serve_loop_new(const serve_loop_opts *o, const serve_loop_hooks *hooks,
    void *ud, char *err, size_t errsize)
{
	serve_loop *l = calloc(1, sizeof *l);
	sigset_t set;

	if (!l) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	l->lfd = l->ep = l->wfd = l->sfd = -1;
	l->hooks = *hooks;
	l->ud = ud;
	l->max_conns = o->max_conns ? o->max_conns : 1024;
	l->idle_s = o->idle_s > 0 ? o->idle_s : 30;
	l->tick_ms = -1;
	snprintf(l->host, sizeof l->host, "%s", o->host ? o->host : "127.0.0.1");
	if (listen_on(l, l->host, o->port, err, errsize) != 0)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->ep < 0 || l->wfd < 0 || l->sfd < 0 ||
	    ep_add(l->ep, l->lfd, EPOLLIN, TAG_LISTEN) != 0 ||
	    ep_add(l->ep, l->wfd, EPOLLIN, TAG_WAKE) != 0 ||
	    ep_add(l->ep, l->sfd, EPOLLIN, TAG_SIGNAL) != 0) {
		snprintf(err, errsize, "cannot set up the event loop: %s",
		    strerror(errno));
		goto fail;
	}
	return l;
fail:
	serve_loop_free(l);
	return NULL;
}

unsigned
serve_loop_port(const serve_loop *l)
{
	return l->port;
}

const char *
serve_loop_host(const serve_loop *l)
{
	return l->host;
}

void
serve_loop_wake(serve_loop *l)
{
	uint64_t one = 1;
	ssize_t r = write(l->wfd, &one, sizeof one);
	(void)r; /* EAGAIN: the counter is already non-zero, a wake pends */
}

void
serve_loop_stop(serve_loop *l)
{
	l->stop = 1;
}

void
serve_loop_set_tick(serve_loop *l, int ms)
{
	l->tick_ms = ms;
}

/* -- connections -------------------------------------------------------- */

static void
conn_update(serve_conn *c)
{
	uint32_t ev = EPOLLRDHUP;
	if (!c->closing &&
	    (!c->paused || serve_buf_size(&c->in) < PAUSED_MAX))
		ev |= EPOLLIN;
	if (serve_buf_size(&c->out))
		ev |= EPOLLOUT;
	if (ev != c->events) {
		struct epoll_event e;
		memset(&e, 0, sizeof e);
		e.events = ev;
		e.data.ptr = c;
		epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

static void
conn_close_now(serve_conn *c)
{
	serve_loop *l = c->loop;
	if (c->dead)
		return;
	c->dead = 1;
	if (c->ready) {
		serve_conn **p = &l->ready;
		while (*p != c)
			p = &(*p)->next_ready;
		*p = c->next_ready;
		c->ready = 0;
	}
	if (l->hooks.on_close)
		l->hooks.on_close(l->ud, c);
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	c->next_dead = l->dead;
	l->dead = c;
}

/* A protocol's hook may hold pointers to its connection state while it
 * asks for a close (directly, or by a failed send), so closing waits for
 * the loop's next safe point: the hook returns first. */
static void
conn_doom(serve_conn *c)
{
	if (c->doomed || c->dead)
		return;
	c->doomed = 1;
	c->next_doomed = c->loop->doomed;
	c->loop->doomed = c;
}

static void
reap(serve_loop *l)
{
	while (l->doomed) {
		serve_conn *c = l->doomed;
		l->doomed = c->next_doomed;
		conn_close_now(c);
	}
}

int
serve_conn_fd(const serve_conn *c)
{
	return c->fd;
}

serve_buf *
serve_conn_input(serve_conn *c)
{
	return &c->in;
}

serve_buf *
serve_conn_output(serve_conn *c)
{
	return &c->out;
}

void *
serve_conn_data(const serve_conn *c)
{
	return c->data;
}

void
serve_conn_set_data(serve_conn *c, void *data)
{
	c->data = data;
}

void
serve_conn_flush(serve_conn *c)
{
	if (c->dead || c->doomed)
		return;
	if (c->out.failed) { /* a reply we could not build: give up */
		conn_doom(c);
		return;
	}
	while (serve_buf_size(&c->out)) {
		ssize_t n = send(c->fd, serve_buf_data(&c->out),
		    serve_buf_size(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			serve_buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_doom(c); /* the peer is gone */
		return;
	}
	if (c->closing && !serve_buf_size(&c->out)) {
		conn_doom(c);
		return;
	}
	conn_update(c);
}

void
serve_conn_send(serve_conn *c, const void *p, size_t n)
{
	serve_buf_add(&c->out, p, n);
	serve_conn_flush(c);
}

void
serve_conn_pause(serve_conn *c, int paused)
{
	if (c->dead || c->doomed)
		return;
	c->paused = paused;
	conn_update(c);
	if (!paused && serve_buf_size(&c->in) && !c->ready) {
		c->ready = 1;
		c->next_ready = c->loop->ready;
		c->loop->ready = c;
	}
}

void
serve_conn_close(serve_conn *c, int now)
{
	if (now) {
		conn_doom(c);
		return;
	}
	c->closing = 1;
	serve_conn_flush(c);
}

static void
conn_input(serve_conn *c)
{
	serve_loop *l = c->loop;
	if (!c->dead && !c->doomed && !c->closing && !c->paused &&
	    serve_buf_size(&c->in) && l->hooks.on_input(l->ud, c) != 0)
		conn_doom(c);
	reap(l);
}

static void
conn_read(serve_conn *c)
{
	size_t got = 0;
	int eof = 0;
	while (got < READ_TURN) {
		if (serve_buf_reserve(&c->in, READ_CHUNK) != 0) {
			conn_close_now(c);
			return;
		}
		size_t room = c->in.cap - c->in.len;
		ssize_t n = recv(c->fd, c->in.p + c->in.len, room, MSG_DONTWAIT);
		if (n > 0) {
			c->in.len += (size_t)n;
			got += (size_t)n;
			if ((size_t)n < room)
				break; /* drained: epoll says when more comes */
			continue;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		conn_close_now(c);
		return;
	}
	if (got)
		c->last_in = serve_now();
	conn_input(c);
	if (eof)
		conn_close_now(c);
	else if (!c->dead && c->paused)
		conn_update(c); /* past PAUSED_MAX: stop reading */
}

static void
accept_all(serve_loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: next turn */
		}
		serve_conn *c = NULL;
		if (l->nconns < l->max_conns)
			c = calloc(1, sizeof *c);
		if (!c) {
			close(fd); /* over the limit: the client sees a close */
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->loop = l;
		c->fd = fd;
		c->events = EPOLLIN | EPOLLRDHUP;
		c->last_in = serve_now();
		struct epoll_event e;
		memset(&e, 0, sizeof e);
		e.events = c->events;
		e.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = l->conns;
		if (l->conns)
			l->conns->prev = c;
		l->conns = c;
		l->nconns++;
	}
}

static void
free_dead(serve_loop *l)
{
	while (l->dead) {
		serve_conn *c = l->dead;
		l->dead = c->next_dead;
		serve_buf_free(&c->in);
		serve_buf_free(&c->out);
		free(c);
	}
}

static void
tick(serve_loop *l)
{
	double now = serve_now();
	if (l->tick_ms < 0 || (now - l->last_tick) * 1000 < l->tick_ms)
		return;
	l->last_tick = now;
	/* A partial message that stopped growing: a stuck or hostile peer
	 * holds a connection and its buffer, so it loses them. */
	for (serve_conn *c = l->conns, *next; c; c = next) {
		next = c->next;
		if (!c->paused && serve_buf_size(&c->in) &&
		    now - c->last_in > l->idle_s)
			conn_close_now(c);
	}
	if (l->hooks.on_tick)
		l->hooks.on_tick(l->ud);
	reap(l);
}

int
serve_loop_run(serve_loop *l, char *err, size_t errsize)
{
	struct epoll_event evs[64];
	l->last_tick = serve_now();
	while (!l->stop) {
		int timeout = l->ready ? 0 : l->tick_ms;
		int n = epoll_wait(l->ep, evs, 64, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsize, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == TAG_LISTEN) {
				accept_all(l);
			} else if (tag == TAG_WAKE) {
				uint64_t v;
				ssize_t r = read(l->wfd, &v, sizeof v);
				(void)r;
				if (l->hooks.on_wake)
					l->hooks.on_wake(l->ud);
				reap(l);
			} else if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;
				ssize_t r = read(l->sfd, &si, sizeof si);
				(void)r;
				l->stop = 1;
			} else {
				serve_conn *c = evs[i].data.ptr;
				uint32_t ev = evs[i].events;
				if (c->dead)
					continue;
				if (ev & EPOLLOUT)
					serve_conn_flush(c);
				reap(l);
				if (c->dead)
					continue;
				if (c->paused &&
				    (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
					conn_close_now(c); /* gone mid-call */
				else if (!c->closing &&
				    (ev & (EPOLLIN | EPOLLHUP | EPOLLERR |
					      EPOLLRDHUP)))
					conn_read(c);
				else if (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
					conn_close_now(c);
			}
		}
		/* Connections resumed during this turn, with input waiting. */
		while (l->ready) {
			serve_conn *c = l->ready;
			l->ready = c->next_ready;
			c->ready = 0;
			if (!c->paused)
				conn_input(c);
		}
		tick(l);
		reap(l);
		free_dead(l);
	}
	return 0;
}

void
serve_loop_free(serve_loop *l)
{
	if (!l)
		return;
	reap(l);
	while (l->conns)
		conn_close_now(l->conns);
	l->ready = NULL;
	free_dead(l);
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->ep >= 0)
		close(l->ep);
	if (l->wfd >= 0)
		close(l->wfd);
	if (l->sfd >= 0)
		close(l->sfd);
	free(l);
}
