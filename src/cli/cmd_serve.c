/*
 * `weft serve --pyro`: a Pyro4 daemon whose object's methods are weft's
 * functions (built-ins, analytics, plugins), each call a task on the pool.
 * The protocol is src/serve/pyro.c, the event loop src/serve/loop.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loop.h"
#include "pyro.h"

static const char serve_usage[] =
    "usage: weft serve --pyro [OPTIONS]\n"
    "\n"
    "Serve weft's functions to Pyro4 clients: a Pyro4 daemon with one\n"
    "object whose methods are the functions 'weft funcs' lists (and those\n"
    "of --plugin), plus compute(graph_json, targets) to run a whole graph.\n"
    "Each call runs as a task on the worker pool; one thread serves every\n"
    "connection. Prints 'URI: PYRO:NAME@HOST:PORT' when ready, and serves\n"
    "until SIGINT or SIGTERM.\n"
    "\n"
    "    import Pyro4\n"
    "    p = Pyro4.Proxy(\"PYRO:weft@127.0.0.1:9090\")\n"
    "    p.add(1, 2)                              # 3\n"
    "    p.compute('{\"graph\": {\"x\": [\"add\", 1, 2]}}', \"x\")   # 3\n"
    "\n"
    "options:\n"
    "  --pyro               speak Pyro4 (protocol 48: serpent and json)\n"
    "  --host HOST          address to listen on (default 127.0.0.1: this\n"
    "                       machine only; another is your explicit choice)\n"
    "  --port N             port (default 0: any free port; see the URI)\n"
    "  --object NAME        the object's name in the URI (default weft)\n"
    "  --plugin LIB.so      load more functions from a plugin "
    "(repeatable)\n"
    "  -j, --threads N      worker threads (default: one per core but one,\n"
    "                       left to the thread that serves connections)\n"
    "  --bind cores|pus|none  where workers run (default none: the\n"
    "                       kernel moves them off busy cores)\n"
    "  --hmac-key-file F    sign and check messages with the key in F\n"
    "                       (Pyro4's HMAC; a trailing newline is dropped)\n"
    "  --oneway FUNC        tell proxies to call FUNC oneway (repeatable)\n"
    "  --max-message BYTES  largest message (default 67108864)\n"
    "  --max-connections N  connections at once (default 1024)\n"
    "  --max-calls N        calls running at once; more wait, unread\n"
    "                       (default 1024)\n"
    "  --call-timeout S     answer TimeoutError after S seconds and cancel\n"
    "                       the call (default 0: no limit)\n"
    "  --idle-timeout S     close a connection whose message stays half-sent\n"
    "                       S seconds (default 30)\n"
    "\n"
    "Junk, a message over the limit, a half-sent message or a\n"
    "client that vanishes closes that connection only.\n";

#define MAX_ONEWAY 64

struct serve_opts {
	int pyro;
	const char *host, *object, *keyfile;
	size_t port, max_message, max_conns, max_calls;
	double idle;
	weft_pool_opts pool; /* -j, --bind, --topology */
	double call_timeout;
	const char *oneway[MAX_ONEWAY];
	size_t noneway;
	weft_registry *reg;
};

/* 1: help shown; 0: ok; -1: bad usage (reported). */
static int
parse_args(int argc, char **argv, struct serve_opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v;
		int m;
		if (weft_front_is_help(a)) {
			fputs(serve_usage, stdout);
			return 1;
		}
		if (strcmp(a, "--pyro") == 0)
			o->pyro = 1;
		else if ((m = weft_front_opt(argc, argv, &i, "--host", NULL, &v))) {
			if (m < 0)
				return -1;
			o->host = v;
		} else if ((m = weft_front_opt(argc, argv, &i, "--port", NULL, &v))) {
			if (m < 0 || weft_front_parse_size(a, v, 0, 65535, &o->port))
				return -1;
		} else if ((m = weft_front_opt(argc, argv, &i, "--object", NULL, &v))) {
			if (m < 0)
				return -1;
			if (!*v || strchr(v, '@')) {
				weft_front_error("--object: '%s' is not a Pyro object "
					  "name", v);
				return -1;
			}
			o->object = v;
		} else if ((m = weft_front_opt(argc, argv, &i, "--plugin", NULL, &v))) {
			if (m < 0 || weft_front_load_plugin(o->reg, v))
				return -1;
		} else if ((m = weft_front_pool_opt(argc, argv, &i,
				WEFT_FRONT_POOL_ALL, &o->pool))) {
			if (m < 0)
				return -1;
		} else if ((m = weft_front_opt(argc, argv, &i, "--hmac-key-file", NULL,
				&v))) {
			if (m < 0)
				return -1;
			o->keyfile = v;
		} else if ((m = weft_front_opt(argc, argv, &i, "--oneway", NULL, &v))) {
			if (m < 0)
				return -1;
			if (o->noneway == MAX_ONEWAY) {
				weft_front_error("--oneway: at most %d", MAX_ONEWAY);
				return -1;
			}
			o->oneway[o->noneway++] = v;
		} else if ((m = weft_front_opt(argc, argv, &i, "--max-message", NULL,
				&v))) {
			if (m < 0 ||
			    weft_front_parse_size(a, v, 1024, 0x7FFFFFFF, &o->max_message))
				return -1;
		} else if ((m = weft_front_opt(argc, argv, &i, "--max-connections",
				NULL, &v))) {
			if (m < 0 || weft_front_parse_size(a, v, 1, 100000, &o->max_conns))
				return -1;
		} else if ((m = weft_front_opt(argc, argv, &i, "--max-calls", NULL,
				&v))) {
			if (m < 0 || weft_front_parse_size(a, v, 1, 4000, &o->max_calls))
				return -1;
		} else if ((m = weft_front_opt(argc, argv, &i, "--idle-timeout",
				NULL, &v))) {
			if (m < 0 || weft_front_parse_seconds(a, v, 0.001, 1e7,
					 &o->idle))
				return -1;
		} else if ((m = weft_front_opt(argc, argv, &i, "--call-timeout", NULL,
				&v))) {
			if (m < 0 || weft_front_parse_seconds(a, v, 0, 1e7,
					 &o->call_timeout))
				return -1;
		} else {
			weft_front_error("serve: unknown option '%s' (see 'weft serve "
				  "--help')", a);
			return -1;
		}
	}
	if (!o->pyro) {
		weft_front_error("serve: which protocol? --pyro is the one there is "
			  "(see 'weft serve --help')");
		return -1;
	}
	for (size_t i = 0; i < o->noneway; i++)
		if (!weft_registry_find(o->reg, o->oneway[i])) {
			weft_front_error("--oneway: no function '%s' (see 'weft funcs')",
			    o->oneway[i]);
			return -1;
		}
	return 0;
}

/* The key file's bytes, less one trailing newline. NULL (reported). */
static char *
read_key(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		weft_front_error("--hmac-key-file: cannot open '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	buf = malloc(4097);
	n = buf ? fread(buf, 1, 4097, f) : 0;
	fclose(f);
	if (!buf || n > 4096) {
		weft_front_error("--hmac-key-file: '%s' is %s", path,
		    buf ? "longer than 4096 bytes" : "unreadable: out of memory");
		free(buf);
		return NULL;
	}
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	if (!n) {
		weft_front_error("--hmac-key-file: '%s' is empty", path);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int
cmd_serve(int argc, char **argv)
{
	struct serve_opts o;
	weft_pool *pool = NULL;
	pyro_server *srv = NULL;
	serve_loop *loop = NULL;
	char *key = NULL, err[512];
	size_t keylen = 0;
	int code = EXIT_USAGE, rc;

	memset(&o, 0, sizeof o);
	/* Unbound unless asked: a server shares its machine, and a worker
	 * pinned to a core another process keeps busy waits a time slice
	 * per call (1-7 ms measured here), where the kernel would move an
	 * unbound one to an idle core. */
	o.pool.bind = WEFT_BIND_NONE;
	/* Calls come one by one from each client, ~100 us apart: a worker
	 * that keeps looking for 300 us after a task often takes the next
	 * call without a wake-up (the pool's default is 50 us; 1 ms cost
	 * more than it saved on a busy 2-core machine). */
	o.pool.spin_us = 300;
	o.reg = weft_front_registry();
	if (!o.reg)
		return EXIT_RUN;
	rc = parse_args(argc, argv, &o);
	if (rc != 0) {
		code = rc > 0 ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if (o.keyfile && !(key = read_key(o.keyfile, &keylen)))
		goto out;
	code = EXIT_RUN;
	/* Before any thread starts, so that the pool's workers inherit the
	 * mask and the signals reach the loop's signalfd alone. */
	serve_block_signals();
	if (o.pool.threads == 0) {
		/* One worker per core but one: the loop thread is busy too
		 * (reading, parsing, answering), and on 2 cores one worker
		 * served up to 3x the calls two did. */
		weft_pool *probe = weft_front_pool_new(&o.pool);
		if (!probe)
			goto out;
		unsigned n = weft_pool_threads(probe);
		weft_pool_free(probe);
		o.pool.threads = n > 1 ? n - 1 : 1;
	}
	pool = weft_front_pool_new(&o.pool);
	if (!pool)
		goto out;
	{
		pyro_server_opts so = { 0 };
		so.object = o.object ? o.object : "weft";
		so.reg = o.reg;
		so.pool = pool;
		so.hmac_key = key;
		so.hmac_len = keylen;
		so.max_message = o.max_message;
		so.call_timeout = o.call_timeout;
		so.max_inflight = o.max_calls;
		so.oneway = o.oneway;
		so.noneway = o.noneway;
		srv = pyro_server_new(&so, err, sizeof err);
		if (!srv) {
			weft_front_error("serve: %s", err);
			goto out;
		}
	}
	{
		serve_loop_opts lo = { 0 };
		lo.host = o.host;
		lo.port = (unsigned)o.port;
		lo.max_conns = o.max_conns;
		lo.idle_s = o.idle;
		loop = serve_loop_new(&lo, &pyro_server_hooks, srv, err,
		    sizeof err);
		if (!loop) {
			weft_front_error("serve: %s", err);
			goto out;
		}
		pyro_server_attach(srv, loop);
	}
	{
		const char *host = serve_loop_host(loop);
		int v6 = strchr(host, ':') != NULL;
		printf("URI: PYRO:%s@%s%s%s:%u\n", o.object ? o.object : "weft",
		    v6 ? "[" : "", host, v6 ? "]" : "", serve_loop_port(loop));
		fflush(stdout);
	}
	if (serve_loop_run(loop, err, sizeof err) != 0)
		weft_front_error("serve: %s", err);
	else
		code = EXIT_OK;
	{
		pyro_stats st;
		pyro_server_stats(srv, &st);
		fprintf(stderr,
		    "weft serve: stopped after %zu connections, %zu calls "
		    "(%zu oneway), %zu errors answered\n",
		    st.connections, st.calls, st.oneway, st.errors);
	}
out:
	pyro_server_stop(srv);
	serve_loop_free(loop);
	pyro_server_free(srv);
	weft_pool_free(pool);
	weft_registry_free(o.reg);
	free(key);
	return code;
}
