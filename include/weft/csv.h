/**
 * \file weft/csv.h
 * \brief Reading a CSV file in parallel, by byte ranges, into aggregates
 * and group-by tables (Dask's `dask.dataframe.read_csv(...).groupby(...)`),
 * built as ordinary weft graphs.
 *
 * weft_csv_open() reads the header and the file size, and nothing else.
 * weft_csv_aggregate() then adds to a graph one task per byte range of the
 * file and a merge tree over them: each task reads its range with pread(),
 * parses only the columns asked for, and aggregates them per key in a hash
 * table; merges combine those tables in file order. Nothing runs until
 * weft_compute().
 *
 * \code
 * weft_csv *csv;
 * char err[256];
 * if (weft_csv_open("data.csv", NULL, &csv, err, sizeof err) != WEFT_OK)
 *         return fprintf(stderr, "%s\n", err), 1;
 * weft_csv_agg aggs[] = { { "x", WEFT_AGG_MEAN }, { "x", WEFT_AGG_COUNT } };
 * weft_csv_query q = { .group_by = "key", .key_type = WEFT_CSV_INT,
 *                      .naggs = 2, .aggs = aggs };
 * weft_node frame;
 * weft_csv_aggregate(csv, g, &q, &frame, NULL);
 * weft_value f;
 * if (weft_compute(g, 1, &frame, &f, &opts) == WEFT_OK) {
 *         weft_value keys = weft_frame_col(f, 0);        // LIST of INT
 *         const double *mean = weft_f64s_data(weft_frame_col(f, 1));
 *         ...
 *         weft_value_release(&f);
 * } else {
 *         fprintf(stderr, "%s\n", weft_graph_error(g));
 *         // "task 'node-40' failed: data.csv:17:9: column 'x': cannot
 *         //  parse \"1.2.3\" as a number"
 * }
 * weft_csv_free(csv);
 * \endcode
 *
 * **The dialect.** RFC 4180 with a choice of delimiter and quote: fields
 * separated by the delimiter, records by "\n" or "\r\n", a field may be
 * quoted, and a quote inside a quoted field is doubled. Blank lines are
 * skipped, before the header too (line numbers in messages count them). A
 * UTF-8 byte order mark before the header is skipped. A NUL byte is not
 * text: in the header it is refused, in a field it fails the row. The last
 * record may lack its newline.
 *
 * **Byte ranges.** The data (after the header) is cut into ranges of
 * weft_csv_opts.chunk_bytes; the task of range [s, e) parses the records
 * that *start* in it: from the first record start at or after s (s itself
 * when the byte before it is a newline) to the record that contains byte
 * e - 1, read to its end past e. The ranges tile the file: every record is
 * parsed exactly once.
 *
 * **Quoted newlines.** A newline inside quotes cannot be told from a record
 * end by a task that starts mid-file without knowing how many quotes came
 * before. By default such a field is refused with an error that says so
 * ("quoted field contains a newline; open with WEFT_CSV_MULTILINE").
 * With WEFT_CSV_MULTILINE the graph first counts the quotes of every range
 * (one cheap parallel pass), and each range task starts from the quote
 * parity of its start: such fields are then read correctly. A quote out
 * of place (inside an unquoted field, or after a closing quote) then fails
 * the compute even with WEFT_CSV_SKIP_BAD: the ranges after it would start
 * from a parity that counted it.
 *
 * **Bad rows.** A row with the wrong number of fields, or a value that does
 * not parse as its column's type, fails the compute with the file, the
 * line and the column (1-based, in bytes) of the *first* bad row of the
 * file, as a sequential reader would report it, whatever the chunking: the
 * merge keeps the earliest error in file order. With WEFT_CSV_SKIP_BAD such
 * rows are skipped and counted instead (see weft_csv_info).
 *
 * **Numbers and missing values.** FLOAT columns take decimal numbers in C
 * syntax ("1", "-2.5", "1e-3", "inf", "nan"), parsed with correct rounding
 * (the same double as strtod() in the C locale; unlike strtod(), not
 * hexadecimal: "0x10" is a bad value); INT columns take decimal integers
 * that fit int64_t. Surrounding spaces are allowed. An empty field
 * and NaN are *missing*: left out of that column's count, sum, mean, min,
 * max, var and std (pandas' skipna). A missing group key is a bad row.
 *
 * **A file that changes.** weft_csv_open() records the file's version
 * (device, inode, size, modification time), and every task that reads the
 * file checks it and reads no byte past the size measured then. A file
 * changed in between (rows appended, truncated, rewritten, replaced under
 * its name) fails the compute with "data.csv: file changed since it was
 * opened" rather than give the rows of another version. In graph files,
 * each csv.chunk task opens the file itself; csv.merge refuses partials
 * read from two versions of it with the same message.
 *
 * Thread-safety: a weft_csv is immutable after weft_csv_open(); several
 * graphs may use one at once. Free it whenever: the graphs built from it
 * keep what they need.
 */
#ifndef WEFT_CSV_H
#define WEFT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "array.h"
#include "errno.h"
#include "graph.h"
#include "registry.h"
#include "value.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opened CSV file: its path, dialect, header and size. Opaque. */
typedef struct weft_csv weft_csv;

/** Flags of weft_csv_opts. */
enum weft_csv_flags {
	/** The first line is data: the columns are named "0", "1", ... */
	WEFT_CSV_NO_HEADER = 1u << 0,
	/** Skip and count bad rows instead of failing. */
	WEFT_CSV_SKIP_BAD = 1u << 1,
	/** Read quoted fields that contain newlines (one more parallel pass
	 *  over the file; see "Quoted newlines"). */
	WEFT_CSV_MULTILINE = 1u << 2,
};

/** The default byte range per task: 16 MiB. */
#define WEFT_CSV_CHUNK_DEFAULT ((size_t)16 << 20)

/** Options of weft_csv_open(). Zero means default for every field. */
typedef struct weft_csv_opts {
	char delim;	    /**< field delimiter; 0 = ',' */
	char quote;	    /**< quote character; 0 = '"' */
	unsigned flags;	    /**< weft_csv_flags */
	/** Bytes per range task; 0 = WEFT_CSV_CHUNK_DEFAULT. At least 1. */
	size_t chunk_bytes;
	/** When nonzero: this many ranges of near-equal size instead. */
	size_t nchunks;
	/** Fan-in of the merge trees, 2..64; 0 = WEFT_FANIN_DEFAULT. */
	unsigned fanin;
	void *reserved[4]; /**< must be zero */
} weft_csv_opts;

/**
 * Opens `path`: reads its header line (or, with WEFT_CSV_NO_HEADER, counts
 * the fields of its first line) and its size. `opts` may be NULL.
 *
 * \return WEFT_OK and `*out` (free with weft_csv_free()); WEFT_EINVAL (NULL
 * path or out, a delimiter or quote that is '\\n', '\\r' or the same
 * character, bad options); WEFT_EIO (cannot open or read the file);
 * WEFT_EPARSE (an empty file, a header that is not valid: an unterminated
 * quote, an empty or duplicate column name); WEFT_ENOMEM. On error `*out`
 * is NULL and `err` (when not NULL) receives a one-line message of at most
 * `errsize` bytes that names the file: "data.csv: empty file (no header)".
 */
WEFT_API int weft_csv_open(const char *path, const weft_csv_opts *opts,
    weft_csv **out, char *err, size_t errsize);

/** Frees the handle. NULL is ok. Graphs built from it stay valid. */
WEFT_API void weft_csv_free(weft_csv *c);

/** Number of columns. */
WEFT_API size_t weft_csv_ncols(const weft_csv *c);
/** Name of column `i` (borrowed, valid until weft_csv_free), or NULL. */
WEFT_API const char *weft_csv_colname(const weft_csv *c, size_t i);
/** Index of the column named `name`, or -1 when there is none. */
WEFT_API long weft_csv_colindex(const weft_csv *c, const char *name);
/** Size of the file in bytes when it was opened. */
WEFT_API uint64_t weft_csv_size(const weft_csv *c);
/** Number of range tasks a query on `c` adds. */
WEFT_API size_t weft_csv_nchunks(const weft_csv *c);

/** The type a column is parsed as. */
typedef enum weft_csv_type {
	WEFT_CSV_FLOAT = 0, /**< double */
	WEFT_CSV_INT = 1,   /**< int64_t (aggregated as double) */
	WEFT_CSV_STR = 2,   /**< bytes (group keys only) */
} weft_csv_type;

/** An aggregate. Missing values are left out (see the file comment). */
typedef enum weft_agg {
	WEFT_AGG_COUNT = 0, /**< non-missing values; rows when column NULL */
	WEFT_AGG_SUM = 1,   /**< sum (0 when there is no value) */
	WEFT_AGG_MEAN = 2,  /**< sum / count (NaN when count is 0) */
	WEFT_AGG_MIN = 3,   /**< smallest (NaN when count is 0) */
	WEFT_AGG_MAX = 4,   /**< largest (NaN when count is 0) */
	WEFT_AGG_VAR = 5,   /**< M2 / (count - 1), pandas' ddof=1 */
	WEFT_AGG_STD = 6,   /**< sqrt of WEFT_AGG_VAR */
} weft_agg;

/** One output column: `op` of `column`. The sums are double-double, the
 *  variance Welford's per row and Chan's per merge (see weft/array.h). */
typedef struct weft_csv_agg {
	const char *column; /**< a column name (NULL only with COUNT) */
	weft_agg op;	    /**< the aggregation */
	weft_csv_type type; /**< FLOAT (default) or INT */
} weft_csv_agg;

/** A query: aggregates, optionally per group. */
typedef struct weft_csv_query {
	/** The key column, or NULL for one row over the whole file. */
	const char *group_by;
	/** Type of the key: WEFT_CSV_STR (compared as bytes) or _INT. The
	 *  default 0 (FLOAT) is read as STR: floats make poor keys. */
	weft_csv_type key_type;
	size_t naggs;		   /**< 1..256 */
	const weft_csv_agg *aggs;  /**< the output columns, in order */
	void *reserved[4];	   /**< must be zero */
} weft_csv_query;

/**
 * Adds to `g` the tasks that compute `q` over the file and stores in
 * `*frame` the node that gives the result, a *frame* (see weft_frame_*):
 * with group_by, one row per distinct key, sorted by key (INT keys
 * numerically, STR keys bytewise), and the key column first; without, one
 * row. Output columns are named "op(column)": "mean(x)", "count(x)", and
 * "count" for COUNT of rows. When `info` is not NULL, `*info` receives a
 * node giving a weft_csv_info value (rows read, bad rows skipped).
 *
 * \return WEFT_OK; WEFT_EINVAL (NULL arguments, an empty or too long aggs
 * list, a STR aggregate, reserved fields); WEFT_ENOTFOUND (a column name
 * that the header does not have; nothing is added to the graph);
 * WEFT_ENOMEM; or the graph's error code when a delayed call fails.
 */
WEFT_API int weft_csv_aggregate(weft_csv *c, weft_graph *g,
    const weft_csv_query *q, weft_node *frame, weft_node *info);

/**
 * One column as a chunked array (weft/array.h): chunk i is a WEFT_F64S of
 * the values of range i, in file order, missing values as NaN. `type` is
 * FLOAT or INT. Reductions, histograms and quantiles of the array then run
 * as usual (mind that NaN, and so a missing value, makes sum and
 * quantiles NaN). A bad row fails its range's task with the file, the byte
 * offset of the row and the column; with WEFT_CSV_SKIP_BAD it is left out.
 * Errors as weft_csv_aggregate(); the array is freed with
 * weft_array_free().
 */
WEFT_API int weft_csv_column(weft_csv *c, weft_graph *g, const char *column,
    weft_csv_type type, weft_array **out);

/* -- results -------------------------------------------------------------- */

/*
 * A frame is a plain weft value: a LIST whose item 0 is the LIST of column
 * names (STR) and items 1.. the columns, each a WEFT_F64S of the numbers or,
 * for the key column, a LIST of INT or STR. It prints as JSON like any value.
 * These accessors read it (all borrow, none fails: a value that is not a
 * frame gives 0 / NULL / NIL).
 */

/** Number of columns of the frame. */
WEFT_API size_t weft_frame_ncols(weft_value f);
/** Number of rows of the frame. */
WEFT_API size_t weft_frame_nrows(weft_value f);
/** Name of column `j`, or NULL. */
WEFT_API const char *weft_frame_name(weft_value f, size_t j);
/** Column `j` (borrowed): an F64S, or a LIST for the key column. */
WEFT_API weft_value weft_frame_col(weft_value f, size_t j);
/** Index of the column named `name`, or -1. */
WEFT_API long weft_frame_find(weft_value f, const char *name);

/** What the `info` node of weft_csv_aggregate() gives, decoded. */
typedef struct weft_csv_info {
	int64_t rows;	 /**< rows aggregated */
	int64_t skipped; /**< bad rows skipped (WEFT_CSV_SKIP_BAD) */
	int64_t lines;	 /**< lines of the file, header and blanks included */
	/** The first skipped row's message ("data.csv:7:3: ..."), borrowed
	 *  from the value; NULL when none was skipped. */
	const char *first_skipped;
} weft_csv_info;

/** Decodes an info value (borrowed). WEFT_OK or WEFT_ETYPE. */
WEFT_API int weft_csv_info_get(weft_value v, weft_csv_info *out);

/* -- graph files ----------------------------------------------------------- */

/**
 * Registers the analytics functions for graph files and the `weft` command
 * (see `weft funcs`): csv.chunk, csv.merge, csv.frame, csv.info (a CSV
 * file read and aggregated range by range), and array.gen, array.moments,
 * array.merge, array.stats, array.hist, array.vadd (generated arrays
 * reduced chunk by chunk). examples/analytics/csv_graph.py writes such a
 * graph. Returns WEFT_OK, WEFT_EINVAL (NULL, or a name already registered:
 * the others are still added) or WEFT_ENOMEM.
 */
WEFT_API int weft_registry_add_analytics(weft_registry *r);

#ifdef __cplusplus
}
#endif
#endif
