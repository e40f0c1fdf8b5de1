/*
 * What one graph holds in memory, by part (issue 17's budget of 64 B per
 * node + 8 B per edge): the resident memory (VmRSS) a fresh graph adds once
 * built, for n nodes of three kinds, each graph freed before the next:
 *   bare:    nodes without arguments           -> bytes per node
 *   literal: nodes with one literal argument   -> + bytes per literal
 *   edge:    node i refers to nodes i-1..i-4   -> + bytes per edge
 * Prints one JSON line. Run by bench/scale; n should be 10^6 or more, so
 * that the graph's arrays are mappings of their own (glibc maps blocks
 * over 32 MiB apart and unmaps them on free), which the next graph does
 * not find already resident. What a compute adds per node is weft-bench's
 * bytes_per_node minus its graph_bytes_per_node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft.h>

#include "bench.h"

#define FANIN 4

/* never run: the graphs are only built */
static int
t_nil(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	(void)a;
	*out = weft_nil();
	return WEFT_OK;
}

typedef enum { BARE, LITERAL, EDGE } kind;

/* Builds n nodes of kind k; the RSS they added in bytes, or -1. Counts the
 * edges made into *edges. */
static double
graph_bytes(size_t n, kind k, size_t *edges)
{
	long kb0 = bench_status_kb("VmRSS"), kb1;
	weft_graph *g = weft_graph_new();
	weft_node prev[FANIN];
	weft_arg args[FANIN];
	size_t ne = 0;
	int err;

	if (!g || kb0 < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t na = 0;
		if (k == LITERAL)
			args[na++] = weft_lit(weft_int((int64_t)i));
		else if (k == EDGE)
			for (; na < FANIN && na < i; na++)
				args[na] = weft_ref(prev[(i - 1 - na) % FANIN]);
		ne += k == EDGE ? na : 0;
		prev[i % FANIN] = weft_delayed(g, t_nil, na, na ? args : NULL);
	}
	kb1 = bench_status_kb("VmRSS");
	err = weft_graph_errcode(g);
	if (err != WEFT_OK)
		fprintf(stderr, "weft-graph-mem: building %zu nodes: %s\n", n,
		    weft_graph_error(g));
	weft_graph_free(g);
	/* the freed graph's arrays would stay in weft's block cache and be
	 * reused by the next graph, which would then add less */
	weft_shutdown();
	*edges = ne;
	return err == WEFT_OK && kb1 >= 0 ? (double)(kb1 - kb0) * 1024.0 : -1;
}

int
main(int argc, char **argv)
{
	size_t n = 10000000, edges = 0, none;
	char *end = NULL;

	if (argc == 3 && strcmp(argv[1], "--n") == 0) {
		n = strtoul(argv[2], &end, 10);
		if (*end || n < 1000 || n > 100000000)
			end = NULL;
	}
	if (argc != 1 && !end) {
		fprintf(stderr, "usage: %s [--n NODES]  (1000..10^8, default "
				"10^7; 10^6 or more for a true figure)\n",
		    argv[0]);
		return 2;
	}
	double bare = graph_bytes(n, BARE, &none);
	double lit = graph_bytes(n, LITERAL, &none);
	double edge = graph_bytes(n, EDGE, &edges);
	if (bare < 0 || lit < 0 || edge < 0)
		return 3;
	printf("{\"n\":%zu,\"edges\":%zu,\"node_bytes\":%.2f,"
	       "\"literal_bytes\":%.2f,\"edge_bytes\":%.2f,"
	       "\"peak_rss_kb\":%ld}\n",
	    n, edges, bare / (double)n, (lit - bare) / (double)n,
	    (edge - bare) / (double)edges, bench_status_kb("VmHWM"));
	return 0;
}
