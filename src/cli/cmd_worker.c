/*
 * weft worker: serve Celery clients through a broker (RabbitMQ), running
 * their tasks with registered weft functions on the pool. The protocol
 * lives in src/serve (celery_worker.h); this file is options and set-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#ifdef WEFT_HAVE_AMQP
#include "celery_worker.h"
#endif

static const char worker_usage[] =
    "usage: weft worker [options]\n"
    "\n"
    "A Celery worker: consumes task messages (Celery protocol 2, JSON) from\n"
    "an AMQP broker, runs each task with the weft function of its name on\n"
    "all cores, and sends the result to the client's rpc:// result queue\n"
    "before acknowledging the message. Python clients stay unchanged:\n"
    "  app = Celery('celery_app', broker='pyamqp://guest@localhost//',\n"
    "               backend='rpc://')\n"
    "  @app.task\n"
    "  def add(x, y): return x + y        # runs weft's 'add'\n"
    "\n"
    "options:\n"
    "  -b, --broker URL     amqp://USER:PASS@HOST:PORT/VHOST (default:\n"
    "                       $CELERY_BROKER_URL, else "
    "amqp://guest:guest@localhost:5672//)\n"
    "  -Q, --queues Q[,Q]   queues to consume (repeatable; default "
    "celery)\n"
    "  -j, --threads N      worker threads (default 0: one per core)\n"
    "  --bind cores|pus|none  where workers run (default cores)\n"
    "  --topology T         plan placement for a synthetic hwloc topology\n"
    "  --prefetch N         messages in flight at once (default 32 per\n"
    "                       thread; 1 per thread spreads long tasks "
    "fairly\n"
    "                       over several workers)\n"
    "  --task NAME=FUNC     run Celery task NAME with function FUNC\n"
    "                       (repeatable; default: the name's last dotted "
    "part,\n"
    "                       celery_app.add -> add)\n"
    "  --plugin LIB.so      load more functions (repeatable)\n"
    "  --track-started      send the STARTED state when a task starts\n"
    "  --heartbeat S        AMQP heartbeat in seconds (default 30)\n"
    "  -v, --verbose        log every task\n"
    "\n"
    "Tasks take positional arguments only (keyword arguments fail with a\n"
    "TypeError); JSON arrays arrive as lists, objects are refused. Each\n"
    "message's eta/countdown, expires and time limits are honoured. SIGTERM\n"
    "or Ctrl-C: stop consuming, finish running tasks, exit 0 (a second\n"
    "one exits at once, status 1; unacknowledged tasks go back to the\n"
    "queue).\n"
    "\n"
    "exit status: 0 after a shutdown, 2 bad usage, 1 other errors\n";

#ifdef WEFT_HAVE_AMQP
/* Checks a --task NAME=FUNC against the registry. 0 or -1 (reported). */
static int
check_task_map(const weft_registry *reg, const char *m)
{
	const char *eq = strchr(m, '=');

	if (!eq || eq == m || !eq[1]) {
		weft_front_error("--task: '%s' is not NAME=FUNC", m);
		return -1;
	}
	if (!weft_registry_find(reg, eq + 1)) {
		const char *s = weft_registry_suggest(reg, eq + 1);
		weft_front_error("--task %s: no function '%s'%s%s%s", m, eq + 1,
		    s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		return -1;
	}
	return 0;
}

/* Adds the comma-separated names of `v` to queues[]. 0 or -1. */
static int
add_queues(char *v, const char **queues, size_t *n, size_t max)
{
	for (char *q = strtok(v, ","); q; q = strtok(NULL, ",")) {
		if (*n == max) {
			weft_front_error("-Q: at most %zu queues", max);
			return -1;
		}
		queues[(*n)++] = q;
	}
	return 0;
}

int
cmd_worker(int argc, char **argv)
{
	enum { MAXQ = 16 };
	const char *queues[MAXQ], *v;
	const char **tasks = calloc((size_t)argc, sizeof *tasks);
	celery_worker_opts wo = { 0 };
	weft_pool_opts po = { 0 };
	weft_registry *reg = NULL;
	weft_pool *pool = NULL;
	size_t nq = 0, nt = 0, prefetch = 0, beat = 0;
	int rc = EXIT_USAGE, m = 0;

	if (!tasks) {
		weft_front_error("out of memory");
		return EXIT_RUN;
	}
	wo.broker_url = getenv("CELERY_BROKER_URL");
	if (!wo.broker_url || !wo.broker_url[0])
		wo.broker_url = "amqp://guest:guest@localhost:5672//";
	if (!(reg = weft_front_registry())) {
		rc = EXIT_RUN;
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (weft_front_is_help(a)) {
			fputs(worker_usage, stdout);
			rc = EXIT_OK;
			goto out;
		} else if ((m = weft_front_opt(argc, argv, &i, "--broker", "-b",
				&v))) {
			wo.broker_url = v;
		} else if ((m = weft_front_opt(argc, argv, &i, "--queues", "-Q",
				&v))) {
			if (add_queues((char *)v, queues, &nq,
				MAXQ))
				goto out;
		} else if ((m = weft_front_pool_opt(argc, argv, &i,
				WEFT_FRONT_POOL_ALL, &po))) {
			/* -j N, --bind, --topology */
		} else if ((m = weft_front_opt(argc, argv, &i, "--prefetch", NULL,
				&v))) {
			if (weft_front_parse_size(a, v, 1, 65535, &prefetch))
				goto out;
		} else if ((m = weft_front_opt(argc, argv, &i, "--heartbeat",
				NULL, &v))) {
			if (weft_front_parse_size(a, v, 1, 65535, &beat))
				goto out;
			wo.heartbeat_s = (unsigned)beat;
		} else if ((m = weft_front_opt(argc, argv, &i, "--task", NULL, &v))) {
			tasks[nt++] = v;
		} else if ((m = weft_front_opt(argc, argv, &i, "--plugin", NULL,
				&v))) {
			if (weft_front_load_plugin(reg, v)) {
				rc = EXIT_USAGE;
				goto out;
			}
		} else if (strcmp(a, "--track-started") == 0) {
			wo.track_started = 1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			wo.verbose = 1;
		} else if (m == 0) {
			weft_front_error("worker: unknown option '%s' (see 'weft worker "
				  "--help')",
			    a);
			goto out;
		}
		if (m < 0)
			goto out;
	}
	for (size_t i = 0; i < nt; i++)
		if (check_task_map(reg, tasks[i]))
			goto out;
	if (!(pool = weft_front_pool_new(&po))) {
		rc = EXIT_RUN;
		goto out;
	}
	wo.queues = queues;
	wo.nqueues = nq;
	wo.reg = reg;
	wo.task_map = tasks;
	wo.ntask_map = nt;
	wo.pool = pool;
	wo.prefetch = (unsigned)prefetch;
	int wr = celery_worker_run(&wo);
	rc = wr == WEFT_OK ? EXIT_OK : wr == WEFT_EINVAL ? EXIT_USAGE : EXIT_RUN;
out:
	weft_pool_free(pool);
	weft_registry_free(reg);
	free(tasks);
	return rc;
}
#else
int
cmd_worker(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (weft_front_is_help(argv[i])) {
			fputs(worker_usage, stdout);
			return EXIT_OK;
		}
	weft_front_error("worker: this weft was built without librabbitmq "
		  "(rabbitmq-c), which the AMQP transport needs: install "
		  "librabbitmq-dev and rebuild");
	return EXIT_RUN;
}
#endif
