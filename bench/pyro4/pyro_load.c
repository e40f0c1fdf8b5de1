/*
 * A Pyro4 load generator in C, so that a benchmark measures the server and
 * not the Python client (one Python process tops out near 12,000 calls/s
 * here, whatever serves it).
 *
 *   pyro_load HOST PORT OBJECT THREADS SECONDS
 *
 * Each thread opens one connection, does Pyro4's handshake (serpent), then
 * calls OBJECT.process_data("Input Data") back to back for SECONDS, each
 * call waiting for its answer as a proxy does, and checks every answer.
 * Prints one JSON line: calls, calls_per_s, p50_us, p99_us, errors.
 * The framing is weft's own (src/serve/pyro_msg.c); the bytes are what
 * Pyro4 4.82 sends.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "loop.h"
#include "pyro_msg.h"

static const char *host, *port, *object;
static double seconds;

struct worker {
	pthread_t t;
	double *lat; /* seconds per call */
	size_t n, cap;
	int errors;
};

static int
connect_to(void)
{
	struct addrinfo hints, *res;
	int fd = -1, one = 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int
read_full(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One request out, one answer in; the answer's data into *reply. */
static int
roundtrip(int fd, serve_buf *req, serve_buf *reply, pyro_header *h)
{
	unsigned char hdr[PYRO_HEADER_SIZE];
	char err[128];
	if (send(fd, serve_buf_data(req), serve_buf_size(req), MSG_NOSIGNAL) !=
	    (ssize_t)serve_buf_size(req))
		return -1;
	if (read_full(fd, hdr, sizeof hdr) ||
	    pyro_header_parse(hdr, h, err, sizeof err))
		return -1;
	serve_buf_clear(reply);
	size_t n = (size_t)h->ann_size + h->data_size;
	if (serve_buf_reserve(reply, n + 1) || read_full(fd, reply->p, n))
		return -1;
	reply->len = n;
	reply->p[n] = 0;
	return 0;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	serve_buf req = { 0 }, reply = { 0 }, data = { 0 };
	pyro_header h;
	int fd = connect_to();
	if (fd < 0) {
		w->errors++;
		return NULL;
	}
	serve_buf_printf(&data, "# serpent utf-8 python3.2\n"
				"{'handshake':'hello','object':'%s'}", object);
	pyro_msg_write(&req, PYRO_MSG_CONNECT, PYRO_FLAGS_META_ON_CONNECT, 0,
	    PYRO_SER_SERPENT, NULL, 0, data.p, data.len, NULL, 0);
	if (roundtrip(fd, &req, &reply, &h) || h.type != PYRO_MSG_CONNECTOK) {
		fprintf(stderr, "pyro_load: handshake refused: %.200s\n",
		    (char *)reply.p + h.ann_size);
		w->errors++;
		goto out;
	}
	serve_buf_clear(&data);
	serve_buf_printf(&data, "# serpent utf-8 python3.2\n"
				"('%s','process_data',('Input Data',),{})", object);
	double end = serve_now() + seconds;
	for (uint16_t seq = 1;; seq++) {
		double t0 = serve_now();
		if (t0 >= end)
			break;
		serve_buf_clear(&req);
		pyro_msg_write(&req, PYRO_MSG_INVOKE, 0, seq, PYRO_SER_SERPENT,
		    NULL, 0, data.p, data.len, NULL, 0);
		if (roundtrip(fd, &req, &reply, &h) || h.seq != seq ||
		    (h.flags & PYRO_FLAGS_EXCEPTION) ||
		    !strstr((char *)reply.p + h.ann_size,
			"Processed data: Input Data")) {
			w->errors++;
			break;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 4096;
			w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
			if (!w->lat)
				abort();
		}
		w->lat[w->n++] = serve_now() - t0;
	}
out:
	close(fd);
	serve_buf_free(&req);
	serve_buf_free(&reply);
	serve_buf_free(&data);
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s HOST PORT OBJECT THREADS SECONDS\n",
		    argv[0]);
		return 2;
	}
	host = argv[1];
	port = argv[2];
	object = argv[3];
	int nt = atoi(argv[4]);
	seconds = atof(argv[5]);
	if (nt < 1 || nt > 1024 || !(seconds > 0)) {
		fprintf(stderr, "pyro_load: bad THREADS or SECONDS\n");
		return 2;
	}
	struct worker *w = calloc((size_t)nt, sizeof *w);
	if (!w)
		return 1;
	for (int i = 0; i < nt; i++)
		pthread_create(&w[i].t, NULL, run, &w[i]);
	size_t total = 0;
	int errors = 0;
	for (int i = 0; i < nt; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	double *all = malloc((total ? total : 1) * sizeof *all);
	if (!all)
		return 1;
	size_t k = 0;
	for (int i = 0; i < nt; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof *all, bench_cmp_double);
	printf("{\"calls\": %zu, \"calls_per_s\": %.1f, \"p50_us\": %.1f, "
	       "\"p99_us\": %.1f, \"errors\": %d}\n",
	    total, total / seconds, total ? all[total / 2] * 1e6 : 0.0,
	    total ? all[(size_t)(total * 0.99)] * 1e6 : 0.0, errors);
	free(all);
	free(w);
	return errors ? 1 : 0;
}
