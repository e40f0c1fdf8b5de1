/*
 * A rank that dies in the middle of a compute: rank 1 kills itself (as
 * the OOM killer or a node failure would) while ranks 0 and 2 wait for
 * its values. MPI must take the job down; run_kill.sh checks that the
 * launcher ends with an error, and soon, instead of hanging.
 *
 * With the argument "hang", rank 1's task hangs instead, and the
 * compute's timeout_s must end the job. With "absent", rank 1 never calls
 * the compute at all (it is stuck elsewhere): the others' timeout_s must
 * cover the collectives that start a compute too, and end the job (issue
 * 11: they used to wait in an allgather for ever). (Not a rank that
 * finalizes and exits: Open MPI 4.1's launcher may then crash or hang
 * when the others abort, whatever the library does.)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "weft.h"
#include "weft/mpi.h"

static int
f_val(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	*out = weft_int(weft_as_int(a[0]) + 1);
	return WEFT_OK;
}

static int hang;

static int
f_die(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	struct timespec ts = { hang ? 120 : 0, hang ? 0 : 200 * 1000000L };
	(void)c;
	(void)n;
	(void)a;
	(void)out;
	nanosleep(&ts, NULL);
	raise(SIGKILL);
	return WEFT_OK;
}

int
main(int argc, char **argv)
{
	weft_mpi *m;
	weft_mpi_graph *g;
	weft_node a, d, s;
	weft_value res;
	weft_mpi_compute_opts o = { 0 };
	int rc;

	int absent = argc > 1 && strcmp(argv[1], "absent") == 0;
	hang = argc > 1 && strcmp(argv[1], "hang") == 0;
	o.timeout_s = hang || absent ? 3 : 0;
	if (weft_mpi_init(&argc, &argv, NULL, &m) != WEFT_OK) {
		fprintf(stderr, "init failed\n");
		weft_mpi_finalize(m);
		return 2;
	}
	if (weft_mpi_size(m) != 3) {
		fprintf(stderr, "test_mpi_kill: needs 3 ranks, not %d\n",
		    weft_mpi_size(m));
		weft_mpi_finalize(m);
		return 2;
	}
	g = weft_mpi_graph_new(m);
	a = WEFT_MPI_DELAYED(g, f_val, weft_lit(weft_int(1)));
	d = WEFT_MPI_DELAYED(g, f_die, weft_ref(a));
	s = WEFT_MPI_DELAYED(g, f_val, weft_ref(d));
	weft_mpi_set_owner(g, a, 0);
	weft_mpi_set_owner(g, d, 1);
	weft_mpi_set_owner(g, s, 2);
	if (absent && weft_mpi_rank(m) == 1) {
		struct timespec ts = { 120, 0 };
		nanosleep(&ts, NULL);
		fprintf(stderr, "test_mpi_kill: rank 1 was not stopped\n");
		return 1;
	}
	rc = weft_mpi_compute(g, 1, &s, &res, &o);
	/* Not reached on any rank when MPI does its job. */
	fprintf(stderr, "test_mpi_kill: rank %d: compute returned %d\n",
	    weft_mpi_rank(m), rc);
	weft_value_release(&res);
	weft_mpi_graph_free(g);
	weft_mpi_finalize(m);
	return 0;
}
