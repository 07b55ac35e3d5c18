/* SPDX-License-Identifier: MIT */
/**
 * @file evcount.h
 * @brief libevcount: exact per-customer hourly event counts over a store of
 *        per-(customer, minute) aggregates.
 *
 * The one public header of libevcount. Everything the library exports is
 * declared here with the `evc_` / `EVC_` prefix.
 *
 * Conventions, valid for every function below unless its documentation says
 * otherwise:
 * - Functions that can fail return an ::evc_status: ::EVC_OK (0) on success,
 *   a negative code on failure. The message describing the last failure on a
 *   store is returned by evc_errmsg(); failures of calls without a store
 *   (evc_open(), evc_parse_time(), ...) are described by evc_errmsg(NULL),
 *   which is per thread.
 * - Out-parameters are named `out`. A `T **out` means the caller owns the
 *   result and frees it with that type's own free function. On failure `*out`
 *   is set to NULL.
 * - The library never prints and never exits.
 * - Thread safety: an ::evc_store handle may be used by one thread at a time.
 *   Separate handles (to the same file or to different files) may be used
 *   concurrently from separate threads. Functions that take no store are
 *   thread-safe. The callbacks of an ingest run on the thread that called
 *   it, and may call the functions that read the same store (they wait for
 *   the ingest's own threads, and see its counts so far); an ingest started
 *   from them fails with ::EVC_EBUSY, and they must not close the store.
 * - Times are UTC seconds since the Unix epoch (`int64_t`), within
 *   [::EVC_TIME_MIN, ::EVC_TIME_MAX] (years 0000 to 9999).
 */
#ifndef EVCOUNT_H
#define EVCOUNT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup version Version
 * @{
 */
/* EVC_VERSION_MAJOR, _MINOR, _PATCH and _STRING, made by the build. */
#include "evcount-version.h"
/** The version as one comparable number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define EVC_VERSION_NUMBER                                                     \
	(EVC_VERSION_MAJOR * 10000 + EVC_VERSION_MINOR * 100 + EVC_VERSION_PATCH)

/**
 * @return the version of the library actually linked, "MAJOR.MINOR.PATCH";
 *         a static string.
 * @since 0.1.0
 */
const char *evc_version(void);

/** @} */

/**
 * @defgroup errors Status codes and messages
 * @{
 */

/** Status codes. 0 is success, every failure is negative. */
typedef enum evc_status {
	EVC_OK = 0,             /**< success */
	EVC_EINVAL = -1,        /**< invalid argument */
	EVC_EPARSE = -2,        /**< malformed input (time string, strict ingest) */
	EVC_EIO = -3,           /**< input/output error (open, read, stat, ...) */
	EVC_EDB = -4,           /**< the store's backend failed */
	EVC_ENOMEM = -5,        /**< out of memory */
	EVC_ENOTSTORE = -6,     /**< the file is not an evcount store */
	EVC_ESCHEMA = -7,       /**< the store has a newer schema than this library */
	EVC_EBUSY = -8,         /**< the store is busy (another writer holds it) */
	EVC_ERANGE = -9,        /**< value or range out of the supported limits */
	EVC_EREADONLY = -10,    /**< write to a store opened read-only or unwritable */
	EVC_EABORTED = -11,     /**< a callback asked to stop */
	EVC_ECHANGED = -12,     /**< an already ingested input has changed */
	EVC_ENOTFOUND = -13,    /**< no such file or store */
	EVC_EFULL = -14,        /**< disk or file size limit reached */
	EVC_ECORRUPT = -15,     /**< the store's contents are damaged
				     (@since 0.2.0) */
	EVC_EOFFSET = -16,      /**< an offset past a stream's committed
				     offset (@since 0.3.0) */
} evc_status;

/**
 * @param code a status code.
 * @return a fixed English description of @p code; a static string. Unknown
 *         codes give "unknown error".
 * @since 0.1.0
 */
const char *evc_strerror(int code);

/** Opaque handle to an open store. */
typedef struct evc_store evc_store;

/**
 * The message describing the last failure.
 *
 * @param store a store, or NULL for the last failure, in the calling thread,
 *        of a function that takes no store (or of a failed evc_open()).
 * @return a NUL-terminated message naming what failed (file, line, reason)
 *         or "" when nothing failed. The string is owned by the library and
 *         valid until the next call on @p store (or, for NULL, the next
 *         store-less call in this thread).
 * @since 0.1.0
 */
const char *evc_errmsg(const evc_store *store);
/** @} */

/**
 * @defgroup store Opening and closing a store
 * @{
 */

/** Open for reading only; the file is never modified. */
#define EVC_OPEN_READONLY 0x1u
/** Open for reading and writing. */
#define EVC_OPEN_READWRITE 0x2u
/** With ::EVC_OPEN_READWRITE: create the store if the file does not exist
 *  or is empty. */
#define EVC_OPEN_CREATE 0x4u

/**
 * Open (and with ::EVC_OPEN_CREATE, create) a store.
 *
 * A store is a SQLite file, or (when the library is built with PostgreSQL
 * support) a schema of a PostgreSQL database named by a libpq connection
 * URI starting with `postgresql://` or `postgres://`, for example
 * `postgresql://evcount@db.example.com/metrics?evcount_schema=prod`:
 * - `evcount_schema=NAME` chooses the schema, `evcount` by default (1 to
 *   63 letters, digits and underscores, not starting with a digit). It is
 *   evcount's own parameter, removed before libpq sees the URI; every
 *   other part goes to libpq as it is, so its environment (`PGPASSWORD`,
 *   `PGPASSFILE`, `PGSSLMODE`, ...) and parameters (`sslmode=`, `host=`
 *   for a Unix socket, ...) work as libpq documents them.
 * - A password in the URI is masked ("***") in every message and in the
 *   name the handle reports.
 * - With ::EVC_OPEN_CREATE, the schema and its tables are created in one
 *   transaction (an existing empty schema is used); several processes
 *   creating the same store at once end with one store. A schema holding
 *   anything else is refused (::EVC_ENOTSTORE), a store of a newer schema
 *   version too (::EVC_ESCHEMA), or of the development versions before
 *   schema 3 (::EVC_ESCHEMA), untouched. A missing schema without
 *   ::EVC_OPEN_CREATE is ::EVC_ENOTFOUND.
 * - Read-only handles read in read-only transactions: the server refuses
 *   any write.
 * - Several processes on several machines may ingest into one store at
 *   once: ingests of different files do not wait for each other; their
 *   sources are told apart by host name and path (evc_source_info.realpath
 *   is `host:/resolved/path`), and copies by content, as on SQLite.
 * - A connection failure is ::EVC_EIO; a lost server fails the call in
 *   progress, and a later call on the handle fails too: open the store
 *   again.
 *
 * @param out receives the new handle; the caller closes it with evc_close().
 * @param path a file name, ":memory:" for a private in-memory store, or a
 *        PostgreSQL URI (above).
 * @param flags ::EVC_OPEN_READONLY, or ::EVC_OPEN_READWRITE optionally with
 *        ::EVC_OPEN_CREATE.
 * @retval EVC_OK success.
 * @retval EVC_EINVAL bad flags or NULL argument.
 * @retval EVC_ENOTFOUND the file does not exist and ::EVC_OPEN_CREATE was
 *         not given.
 * @retval EVC_ENOTSTORE the file is not an evcount store (another
 *         database, or not a database). The file is not modified.
 * @retval EVC_ESCHEMA the store was written by a newer evcount. The file is
 *         not modified.
 * @retval EVC_EIO, EVC_EREADONLY, EVC_EDB, EVC_ENOMEM other failures.
 * On failure `*out` is NULL and evc_errmsg(NULL) says why.
 * @since 0.1.0
 */
int evc_open(evc_store **out, const char *path, unsigned flags);

/**
 * Close a store and free the handle. NULL is allowed and does nothing.
 * @since 0.1.0
 */
void evc_close(evc_store *store);
/** @} */

/**
 * @defgroup time Time parsing and formatting
 * @{
 */

/** Smallest supported time: 0000-01-01T00:00:00Z. */
#define EVC_TIME_MIN (-62167219200LL)
/** Largest supported time: 9999-12-31T23:59:59Z. */
#define EVC_TIME_MAX (253402300799LL)
/** Buffer size that fits any evc_format_time() output with its NUL. */
#define EVC_TIME_BUFSZ 21

/**
 * Parse a timestamp to UTC epoch seconds.
 *
 * Accepted: `YYYY-MM-DD`, then `T`, `t` or a space, then `HH:MM:SS`, an
 * optional fraction of 1 to 9 digits after `.`, then `Z`, `z`, `+HH`,
 * `+HHMM`, `+HH:MM` (or with `-`), or nothing (UTC). A bare date
 * `YYYY-MM-DD` means midnight UTC. Calendar dates, field ranges (hour 00-23,
 * minute and second 00-59) and offsets (hours 00-23, minutes 00-59) are
 * validated. The fraction is discarded (times are floored to the second).
 *
 * @param str NUL-terminated string.
 * @param out receives the time.
 * @retval EVC_OK success.
 * @retval EVC_EPARSE malformed; evc_errmsg(NULL) says what is wrong.
 * @retval EVC_EINVAL NULL argument.
 * @since 0.1.0
 */
int evc_parse_time(const char *str, int64_t *out);

/**
 * Format a time as `YYYY-MM-DDTHH:MM:SSZ`.
 *
 * @param t time in [::EVC_TIME_MIN, ::EVC_TIME_MAX].
 * @param buf destination; at least ::EVC_TIME_BUFSZ bytes to fit any time.
 * @param len size of @p buf.
 * @return the length written (20, without the NUL) on success,
 *         ::EVC_ERANGE if @p t is out of range, ::EVC_EINVAL if @p buf is NULL
 *         or @p len is too small.
 * @since 0.1.0
 */
int evc_format_time(int64_t t, char *buf, size_t len);
/** @} */

/**
 * @defgroup ingest Ingesting CSV
 *
 * Input rows are `customer_id,event_type,transaction_id,timestamp` (RFC
 * 4180: quoted fields, `""` escapes, LF or CRLF, an optional UTF-8 BOM and an
 * optional header line with those column names, as line 1 of an input
 * only). Each accepted row adds one to its customer's count for the minute
 * of its timestamp. A row is rejected (not counted) when it does not have
 * 4 fields, its customer id is empty, longer than 255 bytes, not UTF-8 or
 * holds control characters (C0 or C1) or bidirectional embeddings,
 * overrides or isolates (U+202A-U+202E, U+2066-U+2069), or its timestamp is
 * malformed or outside [::EVC_TIME_MIN, ::EVC_TIME_MAX]. A row whose
 * transaction id is not a UUID is counted and reported as a warning.
 *
 * Exactly once: evc_ingest_csv() records each input file as a source (its
 * identity, a fingerprint of its content and the byte offset ingested up
 * to) in the same transaction as the counts. Ingesting a file again, under
 * the same or another path, counts only what was appended since; a file
 * whose ingested part changed is refused with ::EVC_ECHANGED. Two ingests of
 * the same content at once (one file under two names, or a copy) never
 * count a byte twice: the one that would count bytes the other committed
 * meanwhile fails with ::EVC_EBUSY. Large inputs
 * are committed in checkpoints; a process killed at any point leaves the
 * counts of exactly the checkpointed prefix, and the next ingest of the
 * file resumes there. evc_ingest_fd() reads a stream (pipe, stdin) that
 * cannot be resumed: it is counted once per call, in one transaction.
 * @{
 */

/** Strict mode: the first rejected row fails the call and nothing of the
 *  input is counted (the input is then ingested in one transaction, without
 *  intermediate checkpoints). Default is lenient: rejects are reported and
 *  skipped. */
#define EVC_INGEST_STRICT 0x1u
/** The file is still being written: an unterminated last line is held back
 *  and counted by a later ingest once complete. By default an input is
 *  taken as complete and a last line without a newline is counted. */
#define EVC_INGEST_FOLLOW 0x2u
/** Ingest a file whose already ingested part changed as a new source, from
 *  its start. The caller takes responsibility for double counting. */
#define EVC_INGEST_FORCE 0x4u

/** Default checkpoint interval of evc_ingest_options.checkpoint_bytes: a
 *  crash loses well under a second of ingest, and each commit, which
 *  rewrites the pages of every hour the rows touched, is rare. */
#define EVC_CHECKPOINT_DEFAULT (256u << 20)

/** A rejected row, or a row counted with a warning, as reported to
 *  evc_ingest_options.on_reject. Valid only during the callback. */
typedef struct evc_reject {
	const char *source; /**< input name, as given to the ingest call */
	uint64_t line;      /**< 1-based line on which the record starts */
	int warning;        /**< 0: rejected, not counted; 1: counted, a warning */
	const char *reason; /**< why, in words, NUL-terminated */
	const char *text;   /**< the record as read, without its line end;
				 not NUL-terminated */
	size_t text_len;    /**< bytes at @ref text */
	int text_truncated; /**< 1 when @ref text holds only the record's start */
} evc_reject;

/**
 * Called for each rejected row and each warning.
 * @return 0 to go on; anything else stops the ingest, which then fails with
 *         ::EVC_EABORTED and counts nothing of the input.
 */
typedef int (*evc_reject_fn)(const evc_reject *reject, void *payload);

/** Progress of an ingest, as reported to evc_ingest_options.on_progress. */
typedef struct evc_progress {
	const char *source;   /**< input name */
	uint64_t bytes_done;  /**< bytes read so far */
	uint64_t bytes_total; /**< input size, 0 when unknown (pipes) */
	uint64_t rows_read;   /**< rows read so far */
} evc_progress;

/**
 * Called from time to time during an ingest (about every MiB read).
 * @return 0 to go on; anything else stops as for ::evc_reject_fn.
 */
typedef int (*evc_progress_fn)(const evc_progress *progress, void *payload);

/** The version of ::evc_ingest_options this header describes. */
#define EVC_INGEST_OPTIONS_VERSION 1

/** Ingest options. Initialise with ::EVC_INGEST_OPTIONS_INIT. */
typedef struct evc_ingest_options {
	unsigned version;             /**< ::EVC_INGEST_OPTIONS_VERSION */
	unsigned flags;               /**< 0 or any of ::EVC_INGEST_STRICT,
					   ::EVC_INGEST_FOLLOW and
					   ::EVC_INGEST_FORCE */
	evc_reject_fn on_reject;      /**< may be NULL */
	evc_progress_fn on_progress;  /**< may be NULL */
	void *payload;                /**< passed to both callbacks */
	uint64_t checkpoint_bytes;    /**< commit about every this many bytes
					   of input; 0 means
					   ::EVC_CHECKPOINT_DEFAULT */
	unsigned threads;             /**< 0: automatic (for inputs over a
					   few MiB, aggregating and store
					   writes each on a thread of their
					   own while the calling thread
					   parses); 1: everything on the
					   calling thread. The store ends up
					   the same either way. Callbacks are
					   always called on the calling
					   thread. */
} evc_ingest_options;

/** Initialiser of ::evc_ingest_options with every default. */
#define EVC_INGEST_OPTIONS_INIT                                                \
	{ EVC_INGEST_OPTIONS_VERSION, 0, NULL, NULL, NULL, 0, 0 }

/** What an ingest found about its input, in evc_ingest_stats.source. */
typedef enum evc_source_state {
	EVC_SOURCE_STREAM = 0,    /**< a stream: not tracked (evc_ingest_fd) */
	EVC_SOURCE_NEW = 1,       /**< never ingested before */
	EVC_SOURCE_RESUMED = 2,   /**< ingested before: only the new part was
				       read (appended, or an interrupted
				       ingest resumed) */
	EVC_SOURCE_UNCHANGED = 3, /**< already wholly ingested: 0 new rows */
	EVC_SOURCE_FORCED = 4,    /**< changed, ingested anew by
				       ::EVC_INGEST_FORCE */
} evc_source_state;

/** What an ingest did. */
typedef struct evc_ingest_stats {
	uint64_t rows_read;     /**< records read (blank lines and a header
				     line excluded) */
	uint64_t rows_counted;  /**< rows added to the counts */
	uint64_t rows_rejected; /**< rows not counted */
	uint64_t rows_warned;   /**< counted rows that carried a warning */
	uint64_t bytes;         /**< bytes read */
	uint64_t keys_touched;  /**< (customer, minute) aggregates written; a
				     key written in two batches counts twice */
	uint64_t bytes_skipped; /**< bytes not read again: already ingested */
	uint64_t rows_skipped;  /**< rows in those bytes (counted or rejected
				     by earlier ingests) */
	uint64_t rows_held;     /**< unterminated last lines held back
				     (::EVC_INGEST_FOLLOW): 0 or 1 */
	evc_source_state source; /**< what the input was to the store */
} evc_ingest_stats;

/**
 * Ingest a CSV file, exactly once (see @ref ingest).
 *
 * @param store a store opened with ::EVC_OPEN_READWRITE.
 * @param path the file; "-" is not special here (see evc_ingest_fd()).
 * @param opts options, or NULL for the defaults.
 * @param stats receives what was done (also on failure: what was read up to
 *        the failure); may be NULL.
 * @retval EVC_OK success (rejected rows in lenient mode are not a failure).
 * @retval EVC_EPARSE strict mode and a row was rejected; nothing counted.
 * @retval EVC_ENOTFOUND, EVC_EIO the file cannot be opened or read.
 * @retval EVC_ECHANGED the part of the file ingested before has changed
 *         (rewritten, truncated, edited); nothing is counted. See
 *         ::EVC_INGEST_FORCE.
 * @retval EVC_EABORTED a callback returned non-zero.
 * @retval EVC_EBUSY the store is busy: another writer held it past the
 *         busy timeout, or another ingest of the same file moved ahead.
 * @retval EVC_EREADONLY, EVC_EFULL, EVC_EDB, EVC_ENOMEM store failures.
 * On any failure the store holds exactly the checkpoints committed before
 * it (none in strict mode), and a later ingest resumes after them.
 *
 * A SQLite store also needs room for a temporary file meanwhile (see
 * @ref sqlite).
 * A PostgreSQL store stages each checkpoint's counts in temporary tables
 * of the session, on the server, and merges them into the store at the
 * commit.
 * @since 0.1.0
 */
int evc_ingest_csv(evc_store *store, const char *path,
		   const evc_ingest_options *opts, evc_ingest_stats *stats);

/**
 * Ingest CSV read from an open file descriptor (a file, a pipe, stdin).
 * The descriptor is read to its end and not closed.
 *
 * @param store a store opened with ::EVC_OPEN_READWRITE.
 * @param fd an open, readable descriptor.
 * @param name the input's name for messages and reports (e.g. "<stdin>").
 * @param opts options, or NULL for the defaults.
 * @param stats receives what was done; may be NULL.
 * @return as evc_ingest_csv(), without ::EVC_ECHANGED.
 * @since 0.1.0
 */
int evc_ingest_fd(evc_store *store, int fd, const char *name,
		  const evc_ingest_options *opts, evc_ingest_stats *stats);

/**
 * @defgroup streams Tracked streams
 *
 * A tracked stream is a named sequence of CSV bytes that arrives in pieces
 * (a pipe, HTTP posts) and is counted exactly once, as a file is: the store
 * keeps the stream's committed offset, the bytes counted so far, with the
 * counts, in the same transaction. Each piece says at which offset of the
 * stream it starts. A piece that starts at or before the committed offset
 * counts only its bytes past it (a retry counts nothing); one that starts
 * past it is refused with ::EVC_EOFFSET, since bytes in between are
 * missing. An unterminated last line is held back, as with
 * ::EVC_INGEST_FOLLOW: the committed offset stays before it, and the next
 * piece sends it again, completed. The header line is skipped only at
 * offset 0 (line 1); line numbers in reports count from the stream's
 * start.
 * @{
 */

/** Longest stream name, in bytes. */
#define EVC_STREAM_NAME_MAX 255

/**
 * Ingest bytes @p offset.. of stream @p stream, read from @p fd to its end.
 *
 * @param store a store opened with ::EVC_OPEN_READWRITE.
 * @param stream the stream's name: 1 to ::EVC_STREAM_NAME_MAX bytes of
 *        UTF-8 without control characters.
 * @param offset where in the stream the bytes read from @p fd start.
 * @param fd an open, readable descriptor, read to its end, not closed.
 * @param opts options, or NULL for the defaults (::EVC_INGEST_FORCE and
 *        ::EVC_INGEST_FOLLOW do not apply: a stream always holds back an
 *        unterminated last line).
 * @param stats what was done; bytes_skipped counts the bytes of the piece
 *        already counted before; may be NULL.
 * @param committed receives the stream's committed offset after the call
 *        (also on failure: where the next piece should start); may be
 *        NULL.
 * @retval EVC_OK success, including a piece wholly counted before.
 * @retval EVC_EOFFSET @p offset is past the committed offset; nothing is
 *         counted; the message and @p committed say where to resume.
 * @retval EVC_EINVAL a bad name or argument.
 * @retval EVC_EBUSY another ingest of the same stream committed meanwhile
 *         (send again from @p committed), or the store stayed busy.
 * @return otherwise as evc_ingest_fd().
 * @since 0.3.0
 */
int evc_ingest_stream(evc_store *store, const char *stream, uint64_t offset,
		      int fd, const evc_ingest_options *opts,
		      evc_ingest_stats *stats, uint64_t *committed);

/**
 * The committed offset of a stream: where its next piece starts (0 for a
 * stream never ingested).
 * @retval EVC_OK, EVC_EINVAL, EVC_EDB, EVC_EBUSY
 * @since 0.3.0
 */
int evc_stream_offset(evc_store *store, const char *stream,
		      uint64_t *committed);
/** @} */

/** An ingested source, as listed by evc_sources(). */
typedef struct evc_source_info {
	int64_t id;             /**< the source's number in the store */
	const char *path;       /**< path as given at the last ingest */
	const char *realpath;   /**< resolved absolute path */
	uint64_t size;          /**< file size at the last ingest */
	uint64_t offset;        /**< bytes ingested (the checkpointed prefix) */
	uint64_t rows_counted;  /**< rows counted from it, all ingests */
	uint64_t rows_rejected; /**< rows rejected */
	uint64_t rows_warned;   /**< rows counted with a warning */
	int64_t first_ingest;   /**< epoch seconds of the first ingest */
	int64_t last_ingest;    /**< epoch seconds of the last checkpoint */
	int stream;             /**< 1 for a tracked stream (path is its
				     name, realpath empty) (@since 0.3.0) */
	int64_t retracted;      /**< epoch seconds of its retraction by
				     evc_retract(), 0 while it counts
				     (@since 0.3.0) */
} evc_source_info;

/** Called per source; return 0 to go on, non-zero to stop (the call then
 *  returns ::EVC_EABORTED). */
typedef int (*evc_source_fn)(const evc_source_info *source, void *payload);

/**
 * Visit the store's sources in the order they were first ingested.
 * The strings in @p source are valid only during the callback.
 * @retval EVC_OK, EVC_EABORTED, EVC_EDB, EVC_EBUSY
 * @since 0.1.0
 */
int evc_sources(evc_store *store, evc_source_fn fn, void *payload);
/** @} */

/**
 * Count the customers the store holds counts for.
 * @param store an open store.
 * @param out receives the number of distinct customer ids ever counted.
 * @retval EVC_OK, EVC_EINVAL, EVC_EDB, EVC_EBUSY
 * @since 0.1.0
 */
int evc_customer_count(evc_store *store, uint64_t *out);

/**
 * @defgroup query Hourly counts
 * @{
 */

/** Largest number of hour buckets one evc_hourly() call returns (about 114
 *  years); wider ranges fail with ::EVC_ERANGE. evcount-cli's `hourly` and
 *  serve's `/hourly` have this limit too. */
#define EVC_HOURLY_MAX_BUCKETS 1000000

/** One UTC hour's count. */
typedef struct evc_bucket {
	int64_t hour;    /**< start of the hour, epoch seconds */
	uint64_t count;  /**< events in the part of the hour within the range */
	int partial;     /**< 1 when the range covers less than the whole hour */
} evc_bucket;

/** The result of evc_hourly(); freed with evc_hourly_free(). */
typedef struct evc_hourly_result {
	int64_t start;       /**< effective start: the given start floored to
				  the minute */
	int64_t end;         /**< effective end, likewise */
	uint64_t total;      /**< sum of all bucket counts */
	size_t n_buckets;    /**< number of buckets */
	evc_bucket *buckets; /**< every hour intersecting [start, end), in order,
				  zeros included */
} evc_hourly_result;

/**
 * Count a customer's events per UTC hour.
 *
 * Both bounds are floored to the minute. Bucket h counts the events with
 * max(start, h) <= t < min(end, h + 3600), and is partial when that window
 * is shorter than the hour. An unknown customer is not an error: every
 * bucket is zero.
 *
 * @param store an open store.
 * @param customer_id NUL-terminated customer id.
 * @param start inclusive start, in [::EVC_TIME_MIN, ::EVC_TIME_MAX].
 * @param end exclusive end; after start once both are floored.
 * @param out receives the result; free it with evc_hourly_free().
 * @retval EVC_OK success.
 * @retval EVC_EINVAL NULL argument, or start not before end.
 * @retval EVC_ERANGE a bound out of range, or more than
 *         ::EVC_HOURLY_MAX_BUCKETS buckets.
 * @retval EVC_EDB, EVC_EBUSY, EVC_ENOMEM store failures.
 * @since 0.1.0
 */
int evc_hourly(evc_store *store, const char *customer_id, int64_t start,
	       int64_t end, evc_hourly_result **out);

/**
 * Free a result of evc_hourly(). NULL is allowed and does nothing.
 * @since 0.1.0
 */
void evc_hourly_free(evc_hourly_result *result);

/** Called per stored (customer, minute) count by evc_export(); return 0 to
 *  go on, non-zero to stop (evc_export() then returns ::EVC_EABORTED). */
typedef int (*evc_minute_fn)(const char *customer_id, int64_t minute,
			     uint64_t count, void *payload);

/**
 * Visit every non-zero (customer, minute) count of the store, ordered by
 * customer id (bytewise) then time: a full export of what the store knows.
 * @p minute is the minute's start in epoch seconds; @p customer_id is valid
 * only during the callback.
 * @retval EVC_OK, EVC_EABORTED, EVC_EDB, EVC_EBUSY, EVC_ENOMEM
 * @since 0.1.0
 */
int evc_export(evc_store *store, evc_minute_fn fn, void *payload);
/** @} */

/**
 * @defgroup counts Counts in buckets of any width, in any time zone
 *
 * evc_counts() answers for one, many or all customers, in buckets of
 * `minute`, `Nm` (N dividing 1440: 5m, 15m, 30m, ...), `hour`, `Nh` (N
 * dividing 24), `day`, `week` (ISO: from Monday 00:00), `month` or `all`
 * (one bucket: the range), on the wall clock of a time zone: an IANA name
 * read from the system's tzdata (`$TZDIR`, else /usr/share/zoneinfo),
 * `UTC`, or a fixed offset (`+05:30`).
 *
 * Boundaries are wall-clock times: for a label L (a multiple of the width
 * counted from local midnight; a local midnight; a Monday midnight; the
 * 1st of a month at midnight) the boundary is the first instant at which
 * the zone's clock reads L or later, rounded up to a whole UTC minute.
 * Buckets are the non-empty intervals between consecutive boundaries: a
 * day with a spring-forward change lasts 23 hours, one with a fall-back
 * 25; a repeated hour is one bucket holding both passes; a skipped label
 * has no bucket. An event counts in the bucket holding the start of its
 * UTC minute. The range is [start, end), both floored to the minute; a
 * bucket is partial when the range leaves out part of it.
 *
 * Thread safety: as any call on a store; zones are loaded per call.
 * @{
 */

/** Largest number of buckets per customer one evc_counts() call gives;
 *  wider ranges fail with ::EVC_ERANGE. */
#define EVC_COUNTS_MAX_BUCKETS 1000000

/** The version of ::evc_counts_options this header describes. */
#define EVC_COUNTS_OPTIONS_VERSION 1

/** What to count. Initialise with ::EVC_COUNTS_OPTIONS_INIT. */
typedef struct evc_counts_options {
	unsigned version;               /**< ::EVC_COUNTS_OPTIONS_VERSION */
	const char *const *customers;   /**< customer ids, or NULL for every
					     customer of the store */
	size_t n_customers;             /**< entries at @ref customers */
	int64_t start;                  /**< inclusive, epoch seconds */
	int64_t end;                    /**< exclusive, epoch seconds */
	const char *bucket;             /**< the width, as above; NULL:
					     "hour" */
	const char *tz;                 /**< the zone; NULL: "UTC" */
	size_t top;                     /**< 0: every customer asked for; N:
					     only the N with the largest
					     totals in the range (ties by id),
					     largest first */
	int sparse;                     /**< 1: leave out buckets with a zero
					     count, and customers without
					     events in the range */
} evc_counts_options;

/** Initialiser of ::evc_counts_options: every customer, hour buckets,
 *  UTC; set start and end. */
#define EVC_COUNTS_OPTIONS_INIT                                                \
	{ EVC_COUNTS_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, NULL, 0, 0 }

/** One bucket of a customer's counts. */
typedef struct evc_count_bucket {
	int64_t start;        /**< the bucket's first instant, epoch seconds
				   (its boundary, not clamped to the range) */
	int64_t end;          /**< the next bucket's first instant */
	int32_t start_offset; /**< the zone's UTC offset at @ref start,
				   seconds east (for local times: see
				   evc_format_local()) */
	int32_t end_offset;   /**< the zone's UTC offset at @ref end */
	uint64_t count;       /**< events in the part of the bucket within the
				   range */
	int partial;          /**< 1 when the range leaves out part of the
				   bucket */
} evc_count_bucket;

/** A customer's counts, as evc_counts() hands them over. Valid only during
 *  the callback. */
typedef struct evc_customer_counts {
	const char *customer_id; /**< NUL-terminated */
	uint64_t total;          /**< the sum of the buckets' counts */
	size_t n_buckets;        /**< buckets at @ref buckets */
	const evc_count_bucket *buckets; /**< in order; every bucket that
					      intersects the range, zeros
					      included unless sparse */
	int64_t start;           /**< the range's effective start: the given
				      one floored to the minute */
	int64_t end;             /**< the effective end */
	int zone_is_utc;         /**< 1 for the zone "UTC": its times are
				      written with "Z" (evc_format_time()) */
} evc_customer_counts;

/** Called per customer by evc_counts(); return 0 to go on, non-zero to
 *  stop (evc_counts() then returns ::EVC_EABORTED). */
typedef int (*evc_counts_fn)(const evc_customer_counts *counts,
                             void *payload);

/**
 * Count customers' events in buckets of a width, in a time zone (see
 * @ref counts).
 *
 * The customers are those of @p opts (in that order, each once), or every
 * customer of the store ordered by id (bytewise), or with
 * evc_counts_options.top the N with the largest totals in the range,
 * largest first, ties by id. An unknown customer is not an error: every
 * bucket is zero. Results are streamed: one customer's buckets are held
 * at a time (with top, N customers'), whatever the number of customers.
 *
 * @param store an open store.
 * @param opts what to count; version ::EVC_COUNTS_OPTIONS_VERSION.
 * @param fn called once per customer, in order.
 * @param payload passed to @p fn.
 * @retval EVC_OK success.
 * @retval EVC_EINVAL NULL argument, unknown options version, a customer id
 *         that is empty, not UTF-8 or longer than 255 bytes, start not
 *         before end once floored, or an unknown bucket width (the message
 *         says which).
 * @retval EVC_ENOTFOUND an unknown time zone (named in the message).
 * @retval EVC_EPARSE a time zone file that is not valid TZif.
 * @retval EVC_ERANGE a bound out of [::EVC_TIME_MIN, ::EVC_TIME_MAX], or
 *         more than ::EVC_COUNTS_MAX_BUCKETS buckets.
 * @retval EVC_EABORTED @p fn returned non-zero.
 * @retval EVC_EDB, EVC_EBUSY, EVC_ECORRUPT, EVC_ENOMEM store failures.
 * @since 0.2.0
 */
int evc_counts(evc_store *store, const evc_counts_options *opts,
               evc_counts_fn fn, void *payload);

/** Buffer size that fits any evc_format_local() output with its NUL. */
#define EVC_LOCAL_TIME_BUFSZ 26

/**
 * Format a time as an RFC 3339 local time with its offset,
 * `YYYY-MM-DDTHH:MM:SS+HH:MM`, for a zone whose UTC offset at @p t is
 * @p utc_offset seconds east (as evc_counts() reports them). RFC 3339
 * offsets have no seconds: an offset with seconds (local mean time, before
 * about 1900) is written truncated towards zero to whole minutes, with the
 * local time that goes with it, so that the string denotes exactly @p t.
 *
 * @param buf destination; at least ::EVC_LOCAL_TIME_BUFSZ bytes.
 * @return the length written (25, without the NUL); ::EVC_ERANGE when
 *         @p t or its local time is outside years 0000 to 9999, or the
 *         offset is a day or more; ::EVC_EINVAL for a NULL or too small
 *         buffer.
 * @since 0.2.0
 */
int evc_format_local(int64_t t, int32_t utc_offset, char *buf, size_t len);

/**
 * The UTC offset of zone @p tz at @p t, in seconds east, for writing a
 * time of the zone with evc_format_local().
 *
 * @retval EVC_OK success; EVC_ENOTFOUND, EVC_EPARSE, EVC_EINVAL an unknown
 *         or malformed zone, or a NULL argument (evc_errmsg(NULL) says
 *         which).
 * @since 0.2.0
 */
int evc_zone_offset(const char *tz, int64_t t, int32_t *out);

/**
 * Parse a timestamp as evc_parse_time() does, except that one without an
 * offset (a bare date, or a date and time without one) is a wall-clock
 * time of zone @p tz, resolved as bucket boundaries are: the first instant
 * at which the zone's clock reads it or later. With @p tz NULL or "UTC",
 * the same as evc_parse_time().
 *
 * @retval EVC_OK success.
 * @retval EVC_EPARSE malformed; EVC_ENOTFOUND, EVC_EPARSE an unknown or
 *         malformed zone; EVC_ERANGE a time outside years 0000 to 9999;
 *         EVC_EINVAL a NULL argument. evc_errmsg(NULL) says what is wrong.
 * @since 0.2.0
 */
int evc_parse_time_in(const char *str, const char *tz, int64_t *out);
/** @} */

/**
 * @defgroup corrections Corrections: retract a file, forget a customer, prune
 *
 * Each correction is one transaction: interrupted at any instant, it
 * leaves the store as it was before it or as it is after it.
 *
 * evc_retract() subtracts exactly what a file's ingested prefix added: it
 * reads the file again, checks it against the fingerprint of what was
 * ingested, and subtracts the rows its sources counted, then marks them
 * retracted; ingesting the file again counts it as new. evc_forget() and
 * evc_prune() remove counts for good (an erasure request, retention) and
 * give the space back to the file system. An erasure is remembered with
 * the offsets the files ingested before it had reached, so that a later
 * retraction of such a file subtracts nothing the erasure removed: counts
 * never go below zero, and what remains is what the remaining sources
 * counted, less the erasures. For a forget that memory is a 64-bit
 * fingerprint of the customer id, not the id.
 * @{
 */

/** Do everything and report it, then roll back: nothing changes. */
#define EVC_CORRECT_DRY_RUN 0x1u

/** What a correction did (or, with ::EVC_CORRECT_DRY_RUN, would do). */
typedef struct evc_correction_stats {
	uint64_t events;        /**< events subtracted or removed */
	uint64_t rows;          /**< evc_retract(): rows read again and
				     subtracted (those an erasure had removed
				     already excepted) */
	uint64_t customers;     /**< customers whose counts changed */
	uint64_t customers_removed; /**< of those, customers left with no
				     counts, removed (evc_forget(): the
				     customer; evc_prune(): those whose
				     counts were all before the time) */
	uint64_t hours;         /**< (customer, hour) rows changed or
				     removed */
	uint64_t hours_removed; /**< of those, rows left with nothing */
	uint64_t sources;       /**< evc_retract(): sources retracted */
	uint64_t size_before;   /**< the store's size before, bytes */
	uint64_t size_after;    /**< and after (forget and prune give the
				     space back) */
} evc_correction_stats;

/**
 * Retract files: subtract exactly the counts their ingested prefixes
 * added, in one transaction.
 *
 * Each file must be readable and start with the bytes that were ingested
 * from it (their fingerprint is checked as they are read again). Its
 * sources are those recorded under its resolved path whose ingested part
 * it still holds. Files whose counts depend on one another (a copy
 * ingested from where the original had been counted up to, and the
 * original grown further after that) must be retracted in one call.
 *
 * @param store a store opened with ::EVC_OPEN_READWRITE.
 * @param paths the files; @p n_paths of them, at least one.
 * @param flags 0 or ::EVC_CORRECT_DRY_RUN.
 * @param stats what was done; may be NULL.
 * @retval EVC_OK success.
 * @retval EVC_ENOTFOUND a file does not exist, or was never ingested (or
 *         was retracted already).
 * @retval EVC_ECHANGED a file no longer holds what was ingested from it,
 *         or its rows no longer read as they did.
 * @retval EVC_EINVAL a file whose counts another file's continue (retract
 *         them together), or one ingested by evcount before 0.3, which
 *         did not record where each source's counting started.
 * @retval EVC_ECORRUPT the store lacks counts the file added.
 * @retval EVC_EIO, EVC_EBUSY, EVC_EREADONLY, EVC_EDB, EVC_ENOMEM failures.
 * Nothing is changed on failure.
 * @since 0.3.0
 */
int evc_retract(evc_store *store, const char *const *paths, size_t n_paths,
		unsigned flags, evc_correction_stats *stats);

/**
 * Remove every count of a customer, and the customer id itself, then give
 * the space back to the file system. (On PostgreSQL: a VACUUM of the
 * store's tables, which makes the removed rows' space free for later
 * writes and gives back the empty pages at the end of each table; readers
 * and writers go on meanwhile.)
 *
 * @param store a store opened with ::EVC_OPEN_READWRITE.
 * @param customer_id the customer; an unknown one removes nothing.
 * @param flags 0 or ::EVC_CORRECT_DRY_RUN.
 * @param stats what was done; may be NULL.
 * @retval EVC_OK, EVC_EINVAL, EVC_EBUSY, EVC_EREADONLY, EVC_EDB,
 *         EVC_ENOMEM
 * @since 0.3.0
 */
int evc_forget(evc_store *store, const char *customer_id, unsigned flags,
	       evc_correction_stats *stats);

/**
 * Remove every count of a minute before @p before (floored to the minute),
 * then give the space back to the file system. Customers left without
 * counts are removed.
 *
 * @retval EVC_OK, EVC_EINVAL, EVC_ERANGE, EVC_EBUSY, EVC_EREADONLY,
 *         EVC_EDB, EVC_ENOMEM
 * @since 0.3.0
 */
int evc_prune(evc_store *store, int64_t before, unsigned flags,
	      evc_correction_stats *stats);
/** @} */

/**
 * @defgroup info Store contents
 *
 * Summaries of what a store holds, for listings and monitoring. Each call
 * reads one consistent snapshot, also while another process ingests.
 * @{
 */

/** A customer, as visited by evc_customers(). */
typedef struct evc_customer_info {
	const char *customer_id; /**< NUL-terminated; valid only during the
				      callback */
	uint64_t total;          /**< events counted for the customer, all
				      time */
	int64_t first_minute;    /**< start of the first minute with events,
				      epoch seconds; 0 when total is 0 */
	int64_t last_minute;     /**< start of the last minute with events,
				      epoch seconds; 0 when total is 0 */
} evc_customer_info;

/** Called per customer by evc_customers(); return 0 to go on, non-zero to
 *  stop (evc_customers() then returns ::EVC_EABORTED). */
typedef int (*evc_customer_fn)(const evc_customer_info *customer,
			       void *payload);

/**
 * Visit every customer of the store, ordered by customer id (bytewise, as
 * evc_export()), with its total and the span of its events.
 *
 * @param store an open store.
 * @param fn called once per customer.
 * @param payload passed to @p fn.
 * @retval EVC_OK success.
 * @retval EVC_EINVAL NULL argument.
 * @retval EVC_EABORTED @p fn returned non-zero.
 * @retval EVC_EDB, EVC_EBUSY, EVC_ENOMEM store failures.
 * @since 0.1.0
 */
int evc_customers(evc_store *store, evc_customer_fn fn, void *payload);

/** A store's summary, filled by evc_store_info(). */
typedef struct evc_store_summary {
	uint64_t customers;     /**< distinct customer ids, as
				     evc_customer_count() */
	uint64_t sources;       /**< files ingested (as evc_sources() lists;
				     streams are not sources) */
	uint64_t rows_counted;  /**< events counted: the sum of every stored
				     count, streams included */
	uint64_t rows_rejected; /**< rows rejected by ingests of files; those
				     of streams are not recorded */
	int64_t first_minute;   /**< start of the earliest minute with events,
				     epoch seconds; 0 when the store is empty */
	int64_t last_minute;    /**< start of the latest minute with events;
				     0 when the store is empty */
	uint64_t file_size;     /**< bytes of the store, as its backend
				     reports them (SQLite: page count times
				     page size: the file's size once its
				     write-ahead log is checkpointed); on
				     PostgreSQL, the size of the schema's
				     tables with their indexes and TOAST
				     (pg_total_relation_size; on Citus,
				     citus_total_relation_size for
				     distributed tables: every shard) */
} evc_store_summary;

/**
 * Summarise a store: customers, sources, counted and rejected rows, the
 * time span of its events and its size.
 *
 * @param store an open store.
 * @param out receives the summary; left unspecified on failure.
 * @retval EVC_OK success.
 * @retval EVC_EINVAL NULL argument.
 * @retval EVC_EDB, EVC_EBUSY, EVC_ENOMEM store failures.
 * @since 0.1.0
 */
int evc_store_info(evc_store *store, evc_store_summary *out);

/**
 * The time of the store's last committed ingest (of a file, a stream or a
 * descriptor), for telling a quiet hour from a late pipeline. Read it
 * before a query: the query's counts then include at least every ingest
 * committed up to that time.
 *
 * @param out receives epoch seconds; 0 when nothing was ever ingested.
 * @retval EVC_OK, EVC_EINVAL, EVC_EDB, EVC_EBUSY
 * @since 0.3.0
 */
int evc_as_of(evc_store *store, int64_t *out);
/** @} */

/**
 * @defgroup check Checking a store
 *
 * What a store holds is read with care: every call that reads it checks
 * what it uses (hours in range and in order, minute counts well formed,
 * totals equal to the sum of their minutes, customer ids that resolve) and
 * fails with ::EVC_ECORRUPT, naming what is wrong, rather than answer
 * from a damaged store. evc_check() looks at all of it.
 * @{
 */

/** A problem found by evc_check(). Valid only during the callback. */
typedef struct evc_problem {
	const char *what;        /**< the problem, in words */
	const char *customer_id; /**< the customer concerned, or NULL; an
				      unresolved id reads "#N" */
	int has_hour;            /**< 1 when @ref hour is set */
	int64_t hour;            /**< start of the hour concerned, epoch
				      seconds */
	int64_t source_id;       /**< the source concerned (as listed by
				      evc_sources()), or 0 */
} evc_problem;

/** Called per problem by evc_check(); return 0 to go on, non-zero to stop
 *  (evc_check() then returns ::EVC_EABORTED). */
typedef int (*evc_problem_fn)(const evc_problem *problem, void *payload);

/**
 * Verify a store, as `git fsck` verifies a repository: the backend's own
 * integrity check (SQLite: `PRAGMA integrity_check`), then evcount's
 * invariants over every stored hour (in the span of years 0000 to 9999, in
 * order, minute counts well formed, totals equal to the sum of their
 * minutes, customer ids that resolve) and every source (offsets within
 * the file's size, line numbers and row counters that fit). Reads one
 * snapshot; never writes.
 *
 * @param store an open store.
 * @param fn called once per problem; may be NULL.
 * @param payload passed to @p fn.
 * @param n_problems receives the number of problems found; may be NULL.
 * @retval EVC_OK the store is sound.
 * @retval EVC_ECORRUPT problems were found, each reported to @p fn;
 *         damage the backend cannot read past is the last of them.
 * @retval EVC_EABORTED @p fn returned non-zero.
 * @retval EVC_EINVAL, EVC_EDB, EVC_EBUSY, EVC_EIO, EVC_ENOMEM the check could
 *         not run.
 * @since 0.2.0
 */
int evc_check(evc_store *store, evc_problem_fn fn, void *payload,
              uint64_t *n_problems);
/** @} */

/**
 * @defgroup sqlite SQLite stores
 *
 * A store named by a file path (or ":memory:") is a SQLite database in WAL
 * mode: the files NAME-wal and NAME-shm live beside it, and the directory
 * must be writable to open it for writing. While an ingest adds counts,
 * SQLite keeps a temporary statement journal (at most about the store's
 * size at a time) in the first writable directory of $SQLITE_TMPDIR,
 * $TMPDIR, /var/tmp, /usr/tmp, /tmp and the current one.
 * @{
 */

/**
 * @return the version of the SQLite library SQLite stores use; a static
 *         string.
 * @since 0.1.0
 */
const char *evc_sqlite_version(void);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* EVCOUNT_H */
