/**
 * \file weft/array.h
 * \brief Chunked arrays of doubles: sources, map, and tree reductions, built
 * as ordinary weft graphs (Dask's `dask.array` for one dimension).
 *
 * A weft_array is a small handle that names N *chunk nodes* of one graph,
 * each giving a piece of a long array of doubles. Functions below add nodes
 * to that graph and return them; nothing runs until weft_compute(). The
 * nodes are plain weft nodes: they run on whatever pool the compute uses,
 * show in traces and DOT output, and can feed the caller's own delayed
 * calls.
 *
 * \code
 * weft_graph *g = weft_graph_new();
 * weft_array *a;
 * weft_gen gen = { .kind = WEFT_GEN_NORMAL, .a = 0.0, .b = 1.0, .seed = 42 };
 * weft_chunking ch = { .chunk_len = 1 << 20 };
 * if (weft_array_generate(g, &gen, 100000000, &ch, &a) == WEFT_OK) {
 *         weft_node st;
 *         weft_array_stats(a, &st);
 *         weft_value v;
 *         if (weft_compute(g, 1, &st, &v, NULL) == WEFT_OK) {
 *                 weft_stats s;
 *                 weft_stats_get(v, &s);    // s.mean, s.std, s.min, ...
 *                 weft_value_release(&v);
 *         }
 *         weft_array_free(a);
 * }
 * weft_graph_free(g);
 * \endcode
 *
 * **Results and rounding.** Reductions merge per-chunk partial results in a
 * fixed tree (fan-in weft_chunking.fanin), so for a given chunking the
 * result is the same bit for bit whatever the pool and its thread count.
 * Across chunkings:
 * - count, min, max, histogram and quantiles are exact, identical for
 *   every chunking;
 * - sums are accumulated in double-double (TwoSum in every lane and every
 *   merge), so a sum is within one rounding of the exact sum plus
 *   n * 2^-104 * sum(|x|): for all but pathologically cancelling data it is
 *   the correctly rounded sum, whatever the chunking. mean is that sum / n;
 * - variance uses a corrected two-pass over 512-element blocks merged with
 *   Chan's pairwise formula: its relative error is a small multiple of
 *   2^-53 times the condition number sqrt(1 + mean^2 * n / M2), and does
 *   not grow with n as the textbook sum-of-squares formula's does;
 * - dot rounds each product x[i]*y[i] once (which does not depend on the
 *   chunking) and sums the products as sums are summed above.
 *
 * NaN propagates (numpy's convention): a NaN element makes sum, mean, var,
 * std, min, max, dot and every quantile NaN; a histogram skips it. An empty
 * array has count 0, sum 0, and NaN for the rest.
 *
 * Thread-safety: like graph building (weft/graph.h): one thread builds on a
 * graph at a time. A weft_array handle belongs to its graph: free handles
 * before or after the graph, but use them only while it lives.
 */
#ifndef WEFT_ARRAY_H
#define WEFT_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "errno.h"
#include "graph.h"
#include "value.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A chunked array: a handle naming chunk nodes of one graph. Opaque. */
typedef struct weft_array weft_array;

/** The default chunk length: 2^17 doubles (1 MiB). */
#define WEFT_ARRAY_CHUNK_DEFAULT ((size_t)1 << 17)
/** The default fan-in of the reduction trees. */
#define WEFT_FANIN_DEFAULT 8u

/**
 * How to cut an array of `n` elements into chunks. Zero means default for
 * every field: `weft_chunking ch = { .chunk_len = 1 << 20 };` works.
 * The first rule that applies wins:
 * - `lens` != NULL: `nchunks` chunks of lengths lens[0..nchunks), which must
 *   add up to `n` (chunks of length 0 are allowed);
 * - `chunk_len` > 0: chunks of `chunk_len` elements, the last one shorter;
 * - `nchunks` > 0: `nchunks` chunks of near-equal length (some may be empty
 *   when n < nchunks);
 * - otherwise chunks of WEFT_ARRAY_CHUNK_DEFAULT elements.
 * An empty array (n == 0) has one empty chunk.
 */
typedef struct weft_chunking {
	size_t chunk_len;     /**< elements per chunk */
	size_t nchunks;	      /**< number of chunks (see above) */
	const size_t *lens;   /**< explicit lengths; copied */
	/** Partial results merged per tree node in reductions, 2..64;
	 *  0 = WEFT_FANIN_DEFAULT. */
	unsigned fanin;
	void *reserved[4]; /**< must be zero */
} weft_chunking;

/** Flags of weft_array_wrap(). */
enum weft_array_flags {
	/** Copy the data into the graph now (one F64S literal per chunk):
	 *  the caller's buffer may be freed at once. Without it the chunks
	 *  *borrow* the buffer (no copy): it must stay valid and unchanged
	 *  until the last compute of the graph has returned. */
	WEFT_ARRAY_COPY = 1u << 0,
};

/**
 * An array over `data[0..n)` (`data` may be NULL when n is 0). Without
 * WEFT_ARRAY_COPY the chunk nodes borrow `data` (see weft_array_flags): they
 * give views that the functions of this header read in place; a map()
 * copies each view into a WEFT_F64S value for the user's function.
 *
 * \return WEFT_OK and `*out` (free with weft_array_free()); WEFT_EINVAL
 * (NULL g or out, NULL data with n > 0, unknown flags, lengths that do not
 * add up to n, a fan-in out of range, nonzero reserved fields);
 * WEFT_ENOMEM; or the graph's error when a delayed call fails (the graph
 * then holds its message). On error `*out` is NULL and nodes already added
 * stay in the graph, unused.
 */
WEFT_API int weft_array_wrap(weft_graph *g, const double *data, size_t n,
    const weft_chunking *ch, unsigned flags, weft_array **out);

/** Kinds of generated arrays. */
typedef enum weft_gen_kind {
	/** x[i] = a + i * b */
	WEFT_GEN_RANGE = 0,
	/** uniform in [a, b) */
	WEFT_GEN_UNIFORM = 1,
	/** normal with mean a and standard deviation b (Box-Muller) */
	WEFT_GEN_NORMAL = 2,
} weft_gen_kind;

/** A generated array. The random kinds are counter-based: x[i] depends on
 *  (seed, i) only, so every chunking gives the same elements. */
typedef struct weft_gen {
	weft_gen_kind kind; /**< the generator */
	double a;	   /**< first parameter, see weft_gen_kind */
	double b;	   /**< second parameter */
	uint64_t seed;	   /**< seed of the random kinds */
	void *reserved[2]; /**< must be zero */
} weft_gen;

/**
 * An array of `n` generated elements: each chunk node makes its chunk (a
 * WEFT_F64S value) when it runs, so memory holds only the chunks in flight.
 * Errors as weft_array_wrap(), and WEFT_EINVAL for an unknown kind.
 */
WEFT_API int weft_array_generate(weft_graph *g, const weft_gen *gen,
    size_t n, const weft_chunking *ch, weft_array **out);

/**
 * An array whose chunks are the results of `nodes[0..nchunks)` of `g`,
 * which must be WEFT_F64S values (checked when the chunks are used: a task
 * fails with "chunk 3 is a str, not f64s"). Only `ch->fanin` of `ch` is
 * read (`ch` may be NULL). The length is unknown (weft_array_len()).
 * WEFT_EINVAL for nchunks == 0 or an invalid node.
 */
WEFT_API int weft_array_from_nodes(weft_graph *g, size_t nchunks,
    const weft_node *nodes, const weft_chunking *ch, weft_array **out);

/**
 * Map: a new array whose chunk i is `fn(chunk_i, extra[0], ...,
 * extra[nextra-1])`. `fn` gets chunk i as a borrowed WEFT_F64S value as
 * args[0], and must return an owned WEFT_F64S value (any length). Literals
 * in `extra` are owned by this call (also on failure): every map node gets
 * its own reference. The new array has the fan-in of `a` and an unknown
 * length. Errors as weft_array_wrap().
 */
WEFT_API int weft_array_map(weft_array *a, weft_fn fn, size_t nextra,
    const weft_arg *extra, weft_array **out);

/** Frees the handle (not its nodes, which belong to the graph). NULL is
 *  ok. */
WEFT_API void weft_array_free(weft_array *a);

/** The graph of the array. */
WEFT_API weft_graph *weft_array_graph(const weft_array *a);
/** Number of chunks (>= 1). */
WEFT_API size_t weft_array_nchunks(const weft_array *a);
/** Chunk node `i`, or WEFT_NODE_NONE when out of range. Its value is a
 *  WEFT_F64S, except for arrays that borrow (weft_array_wrap without
 *  WEFT_ARRAY_COPY), whose chunk nodes give private views: read those
 *  through the functions here, or map them. */
WEFT_API weft_node weft_array_chunk(const weft_array *a, size_t i);
/** Number of elements, or SIZE_MAX when unknown (map, from_nodes). */
WEFT_API size_t weft_array_len(const weft_array *a);

/* -- reductions: each adds nodes to the array's graph and stores in *out
 *    the node that gives the result. They return WEFT_OK, WEFT_EINVAL (NULL
 *    arguments, bad parameters), WEFT_ENOMEM or the graph's error code.
 *    Reductions of one array share one pass over it: asking for the sum and
 *    the std of `a` reads each chunk once. */

/** Sum of the elements (WEFT_FLOAT), see "Results and rounding". */
WEFT_API int weft_array_sum(weft_array *a, weft_node *out);
/** Number of elements (WEFT_INT). */
WEFT_API int weft_array_count(weft_array *a, weft_node *out);
/** Arithmetic mean (WEFT_FLOAT; NaN when empty). */
WEFT_API int weft_array_mean(weft_array *a, weft_node *out);
/** Smallest element (WEFT_FLOAT; NaN when empty or when a NaN is found). */
WEFT_API int weft_array_min(weft_array *a, weft_node *out);
/** Largest element (WEFT_FLOAT; NaN when empty or when a NaN is found). */
WEFT_API int weft_array_max(weft_array *a, weft_node *out);
/** Variance M2 / (count - ddof) (WEFT_FLOAT; numpy's var(ddof=...); NaN
 *  when count <= ddof). */
WEFT_API int weft_array_var(weft_array *a, unsigned ddof, weft_node *out);
/** sqrt of weft_array_var(). */
WEFT_API int weft_array_std(weft_array *a, unsigned ddof, weft_node *out);

/** All of the above in one value; decode it with weft_stats_get(). */
WEFT_API int weft_array_stats(weft_array *a, weft_node *out);

/** What weft_stats_get() decodes. var and std have ddof 0; the unbiased
 *  variance is m2 / (count - 1). */
typedef struct weft_stats {
	int64_t count; /**< non-NaN elements */
	double sum;  /**< of the non-NaN elements */
	double mean; /**< sum / count */
	double m2;   /**< sum of squared deviations from the mean */
	double var;  /**< m2 / count */
	double std;  /**< sqrt(var) */
	double min;  /**< smallest element */
	double max;  /**< largest element */
	int64_t nans; /**< NaN elements seen */
} weft_stats;

/** Decodes the value of a weft_array_stats() node (borrowed). WEFT_OK, or
 *  WEFT_ETYPE when `v` is not such a value (then `*out` is zeroed). */
WEFT_API int weft_stats_get(weft_value v, weft_stats *out);

/**
 * Dot product sum(a[i] * b[i]) (WEFT_FLOAT). The arrays must have the same
 * number of chunks (WEFT_EINVAL otherwise), and chunks of equal lengths,
 * which is checked when they run (a task fails: "dot: chunk 2 has 10 and
 * 12 elements"). Both must belong to the same graph.
 */
WEFT_API int weft_array_dot(weft_array *a, weft_array *b, weft_node *out);

/**
 * Histogram with `nbins` equal bins over [lo, hi] (numpy.histogram with
 * range=(lo, hi)): a WEFT_F64S of `nbins` counts. Bin i holds lo + i*w <=
 * x < lo + (i+1)*w with w = (hi - lo) / nbins, the last bin also holds
 * x == hi; elements outside [lo, hi] and NaNs are not counted. Bin edges
 * are computed as numpy computes them, so counts match numpy's exactly.
 * WEFT_EINVAL unless lo < hi (both finite) and 1 <= nbins <= 2^24.
 */
WEFT_API int weft_array_histogram(
    weft_array *a, double lo, double hi, size_t nbins, weft_node *out);

/**
 * Exact quantiles q[0..nq) (each in [0, 1]) with linear interpolation
 * (numpy.quantile's default method), as a WEFT_F64S of `nq` values: every
 * chunk is sorted in parallel, then each quantile is selected across the
 * sorted chunks without merging them. Memory: one sorted copy of the whole
 * array, so this is for arrays that fit in memory. An empty array or one
 * with a NaN gives NaNs. WEFT_EINVAL for nq == 0, NULL q, or a q outside
 * [0, 1].
 */
WEFT_API int weft_array_quantiles(
    weft_array *a, size_t nq, const double *q, weft_node *out);

#ifdef __cplusplus
}
#endif
#endif
