/* SPDX-License-Identifier: MIT */
/*
 * Private declarations shared by the library's modules and its white-box
 * tests. Nothing here is exported; the tests link the static internal
 * library built from the same sources.
 */
#ifndef EVC_INT_H
#define EVC_INT_H

#include "evcount.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVC_EXPORT       __attribute__((visibility("default")))
#define EVC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- errors (error.c) -------------------------------------------------- */

#define EVC_ERRMSG_MAX 512

/* A failure: its status and the message saying what failed. A store has
 * one (evc_errmsg()), each thread one for the calls that take no store,
 * and each stage of an ingest one of its own, so that threads never write
 * the same message. code is EVC_OK and msg "" when nothing failed. */
typedef struct evc_error {
	int code;
	char msg[EVC_ERRMSG_MAX];
} evc_error;

/* Record a failure in `err` (the calling thread's store-less slot when
 * NULL) and return `code`, so failures read
 * `return evc__fail(err, EVC_EIO, ...)`. */
int evc__fail(evc_error *err, int code, const char *fmt, ...) EVC_PRINTF(3, 4);
void evc__clear_error(evc_error *err);
/* The slot of a store, or the thread's when `store` is NULL. */
evc_error *evc__err(evc_store *store);

/* ---- allocation (alloc.c) ------------------------------------------------ */

/* malloc, calloc and strndup that a test can make fail; free with free(). */
void *evc__malloc(size_t n);
void *evc__calloc(size_t n, size_t size);
char *evc__strndup(const char *s, size_t n);
/* Test hook: make the nth allocation from now fail, once (0: never), and
 * tell whether it did. evc__alloc_fails() is the check itself, for other
 * allocators (mmap, SQLite's, in a test) to share the count. */
void evc__alloc_fail_nth(long n);
bool evc__alloc_fail_hit(void);
bool evc__alloc_fails(void);
/* Test hook: make the backends' own allocations share the count too.
 * Call with no store open. Returns EVC_OK or EVC_EDB. */
int evc__alloc_hook_backends(void);

/* ---- time (time.c) ----------------------------------------------------- */

#define EVC_TS_ALLOW_DATE 0x1u /* accept a bare YYYY-MM-DD */

/* Parse `len` bytes at `s`. On failure returns EVC_EPARSE and sets *why to
 * a static reason. */
int evc__parse_ts(const char *s, size_t len, unsigned flags, int64_t *out,
                  const char **why);
/* As evc__parse_ts() with EVC_TS_ALLOW_DATE, but a timestamp without an
 * offset gives its wall-clock time (seconds since 1970-01-01T00:00 read as
 * UTC), unchecked, and *has_offset false. */
int evc__parse_ts_wall(const char *s, size_t len, int64_t *out,
                       bool *has_offset, const char **why);
/* The last valid date seen by evc__parse_ts_cached(): rows come mostly in
 * time order, so most repeat the date of the row before, and the date's
 * checks and calendar arithmetic are a third of a timestamp's cost. */
typedef struct {
	char date[10]; /* YYYY-MM-DD, valid when days_valid */
	bool days_valid;
	int64_t days;
} evc_date_cache;
/* evc__parse_ts() without flags, reusing and updating `cache`; the result
 * is the same as evc__parse_ts()'s for any input and any cache state. */
int evc__parse_ts_cached(const char *s, size_t len, evc_date_cache *cache,
                         int64_t *out, const char **why);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t evc__days_from_civil(int64_t y, unsigned m, unsigned d);
void evc__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Of the proleptic Gregorian calendar; m is 1-12. */
bool evc__is_leap(int64_t y);
unsigned evc__days_in_month(int64_t y, unsigned m);
/* Floor division, valid for negative numerators. */
static inline int64_t evc__floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- content fingerprints (fingerprint.c) -------------------------------- */

/* A streaming 64-bit hash of a byte sequence: the same value whatever the
 * chunking of the updates. Not cryptographic: it detects accidental change
 * (an edited or rewritten input), nothing adversarial. */
typedef struct evc_hash {
	uint64_t lane[4];
	uint64_t len;
	unsigned char tail[32];
	unsigned n_tail;
} evc_hash;

void evc__hash_init(evc_hash *h);
void evc__hash_update(evc_hash *h, const void *data, size_t len);
uint64_t evc__hash_final(const evc_hash *h);

/* ---- CSV scanning (csv.c) ---------------------------------------------- */

#define EVC_CSV_FIELDS 4
/* Records longer than this are rejected without being held in memory. */
#define EVC_CSV_MAX_RECORD (1u << 20)
/* At most this much of a rejected record is kept for the report. */
#define EVC_CSV_REPORT_MAX 4096

typedef struct evc_csv_field {
	const char *ptr; /* unescaped bytes, not NUL-terminated */
	size_t len;
} evc_csv_field;

typedef struct evc_csv_record {
	uint64_t line;    /* 1-based line where the record starts */
	const char *text; /* raw record without its line end */
	size_t text_len;
	bool text_truncated; /* only the start of an oversized record */
	size_t n_fields;     /* fields seen (may exceed EVC_CSV_FIELDS) */
	evc_csv_field field[EVC_CSV_FIELDS];
	const char *error; /* structural problem (static), or NULL */
} evc_csv_record;

typedef struct evc_csv evc_csv;

/* A scanner reading `fd` (not closed by the scanner). `read_size` is the
 * size of each read(2), 0 for the default; tests vary it to prove that the
 * records do not depend on how the input arrives. */
int evc__csv_new(evc_csv **out, int fd, size_t read_size);
void evc__csv_free(evc_csv *csv);
/* 1: a record in *rec, valid until the next call; 0: end of input;
 * EVC_EIO (errno kept in *err) or EVC_ENOMEM on failure. Blank lines are
 * skipped, a leading UTF-8 BOM is dropped. */
int evc__csv_next(evc_csv *csv, evc_csv_record *rec, int *err);
uint64_t evc__csv_bytes(const evc_csv *csv);
/* Start at byte `offset` of the input (the fd is already positioned there),
 * on line `line`, with `hash` the fingerprint state of bytes [0, offset).
 * No BOM is looked for past offset 0. Call before the first next(). */
void evc__csv_resume(evc_csv *csv, uint64_t offset, uint64_t line,
                     const evc_hash *hash);
/* Take input offset `limit` as the end of input: nothing past it is read.
 * Call before the first next(). */
void evc__csv_set_limit(evc_csv *csv, uint64_t limit);
/* Follow mode: at the end of input an unterminated last record is held
 * back (not returned, not consumed). */
void evc__csv_set_follow(evc_csv *csv, bool follow);
/* True when the end of input held back an unterminated record. */
bool evc__csv_held(const evc_csv *csv);
/* The input offset just past the last returned record, the line the next
 * record starts on, and the fingerprint of bytes [0, offset). */
uint64_t evc__csv_offset(const evc_csv *csv);
uint64_t evc__csv_line(const evc_csv *csv);
const evc_hash *evc__csv_hash(evc_csv *csv);

/* ---- row checking (row.c) ------------------------------------------ */

#define EVC_REASON_MAX 160

/* Check a record as a row. Returns NULL when it is to be counted, with its
 * epoch minute in *minute and *warn set to a static warning or NULL; else
 * the reason it is rejected, written into `reason`. */
const char *evc__check_row(const evc_csv_record *rec, int64_t *minute,
                           const char **warn, char reason[EVC_REASON_MAX],
                           evc_date_cache *cache);
bool evc__is_uuid(const char *s, size_t len);
bool evc__is_header(const evc_csv_record *rec);

/* ---- packed minute counts (minutes.c) ------------------------------------ */

/* An hour's minute counts are stored as a blob of (minute 0-59, varint
 * count) pairs in increasing minute order, zero minutes left out. */
#define EVC_MINUTES_BLOB_MAX (60 * 11)

size_t evc__minutes_encode(const uint64_t counts[60], uint8_t *out);
/* Appends one pair (count > 0, minutes in increasing order) to a blob
 * being built at out; returns the bytes written. */
size_t evc__minutes_put(uint8_t *out, unsigned minute, uint64_t count);
/* The blob of the minute-wise sums of blobs a and b, at most
 * EVC_MINUTES_BLOB_MAX bytes, without unpacking either; false when either
 * is malformed. */
bool evc__minutes_merge(const uint8_t *a, size_t a_len, const uint8_t *b,
                        size_t b_len, uint8_t *out, size_t *out_len);
/* The blob of the minute-wise differences a - b: 0 with it in out (at most
 * a_len bytes); 1 when a minute of b exceeds a's (nothing to take it
 * from), -1 when either blob is malformed. */
int evc__minutes_subtract(const uint8_t *a, size_t a_len, const uint8_t *b,
                          size_t b_len, uint8_t *out, size_t *out_len);
/* The blob of minutes [lo, 60) of a blob (at most len bytes), and their
 * total; false when it is malformed. */
bool evc__minutes_keep_from(const uint8_t *blob, size_t len, unsigned lo,
                            uint8_t *out, size_t *out_len, uint64_t *total);
/* Returns false when the blob is malformed. */
bool evc__minutes_decode(const uint8_t *blob, size_t len, uint64_t counts[60]);
/* Sum of minutes [lo, hi) of a blob, and (all: may be NULL) of all its
 * minutes; false when malformed. */
bool evc__minutes_sum(const uint8_t *blob, size_t len, unsigned lo, unsigned hi,
                      uint64_t *sum, uint64_t *all);
/* The first and last minute with events; false when the blob is malformed
 * or empty (a stored hour never is). */
bool evc__minutes_span(const uint8_t *blob, size_t len, unsigned *first,
                       unsigned *last);

/* ---- aggregation (aggregate.c) ------------------------------------------ */

/* Counts per (customer, minute) for one batch, bounded in memory. Customers
 * are interned to small batch-local indexes. */
typedef struct evc_agg evc_agg;

typedef struct evc_agg_entry {
	uint32_t customer; /* batch-local customer index */
	int64_t minute;    /* epoch minute */
	uint64_t count;
} evc_agg_entry;

int evc__agg_new(evc_agg **out, size_t max_keys);
void evc__agg_free(evc_agg *agg);
/* Add one event. Returns EVC_OK; EVC_ERANGE when the batch is full (flush
 * and reset first); EVC_EINVAL after evc__agg_sorted() without a reset, or
 * for a minute outside [EVC_TIME_MIN / 60, EVC_TIME_MAX / 60]. */
int evc__agg_add(evc_agg *agg, const char *cust, size_t cust_len,
                 int64_t minute);
/* True when the batch should be flushed before more rows are added. */
bool evc__agg_full(evc_agg *agg);
size_t evc__agg_keys(evc_agg *agg);
size_t evc__agg_customers(const evc_agg *agg);
const char *evc__agg_customer(const evc_agg *agg, uint32_t idx, size_t *len);
/* Entries sorted by (customer index, minute), sorted in place: the batch
 * takes no more adds until evc__agg_reset(). Valid until the reset. */
const evc_agg_entry *evc__agg_sorted(evc_agg *agg, size_t *n);
void evc__agg_reset(evc_agg *agg);

/* ---- the ingest driver (ingest.c) --------------------------------------- */

/* Test hooks: keys per batch, and the input size from which aggregating and
 * writing run on threads of their own. Tests shrink them to exercise many
 * batches. */
extern size_t evc__ingest_batch_keys;
extern uint64_t evc__ingest_threaded_min;
/* Hour rows, and their blob bytes, per add_hours() call: 0 for the
 * backend's own figures, else at most those. */
extern size_t evc__ingest_hour_rows, evc__ingest_hour_bytes;

/* ---- pipeline stages (stage.c) ------------------------------------------ */

/* A checkpoint: commit the counts so far with the input's offset. Captured
 * by the parsing thread when the input reaches it. */
typedef struct evc_ckpt {
	uint64_t offset, prefix_hash, next_line;
	evc_ingest_stats stats; /* the rows read up to offset */
	bool last;              /* the input's end: no transaction after it */
} evc_ckpt;

/* Runs one job (with ckpt, a checkpoint after it). Returns a status; the
 * first failure sticks. */
typedef int (*evc_stage_fn)(void *ctx, void *job, const evc_ckpt *ckpt);
typedef struct evc_stage evc_stage;

#define EVC_STAGE_DEPTH_MAX 8

/* threaded: run jobs on a thread of their own (falls back to inline if no
 * thread can be made), at most depth (1 to EVC_STAGE_DEPTH_MAX) of them
 * outstanding; else run each job inline in evc__stage_submit(). */
int evc__stage_start(evc_stage **out, bool threaded, unsigned depth,
                     evc_stage_fn fn, void *ctx);
/* Wait until fewer than depth jobs are outstanding, then queue this one.
 * The job belongs to the stage until depth more submits, or finish,
 * return. Returns the first failure so far (the job is then not run). */
int evc__stage_submit(evc_stage *w, void *job, const evc_ckpt *ckpt);
/* Wait, stop the thread, free; returns the first failure. NULL is fine. */
int evc__stage_finish(evc_stage *w);
/* Jobs submitted and not finished yet (queued or running); 0 inline. */
unsigned evc__stage_outstanding(evc_stage *w);

/* ---- the store handle (store.c) ------------------------------------------ */

struct evc_backend;
struct evc_db;

struct evc_store {
	const struct evc_backend *be;
	struct evc_db *db;
	unsigned flags;
	char *path; /* for messages: credentials masked */
	char *name; /* as given to evc_open(), for the backend */
	evc_error err;
	/* While an ingest runs on this handle, its writing stage and the
	 * ingest's callbacks (which may call the store) take turns on the
	 * backend's connection. */
	bool ingesting;
	pthread_mutex_t use;
};

/* Around every public call that reaches the backend: clears the store's
 * error slot, and waits for the ingest's writer when called from one of
 * the ingest's callbacks. */
void evc__store_enter(evc_store *store);
void evc__store_leave(evc_store *store);
/* Around a call that writes counts (an ingest, a correction): refuses a
 * read-only store, and a handle already writing (from its own callback),
 * with a message naming `name`; marks the handle busy until leave. */
int evc__writer_enter(evc_store *store, const char *name);
void evc__writer_leave(evc_store *store);

#endif /* EVC_INT_H */
