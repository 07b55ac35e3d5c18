/* SPDX-License-Identifier: MIT */
/*
 * The storage contract: what the library asks of a store backend, and what
 * a backend may assume of the library. A backend is a versioned table of
 * operations (struct evc_backend), modelled on sqlite3_module and
 * git_refdb_backend; evc_open() picks one by the store's name (store.c)
 * and the rest of the library reaches the store only through it. The
 * SQLite backend (sqlite.c, sqlite-vtab.c) is the reference
 * implementation; it is built as a library of its own, the only one that
 * depends on sqlite3.
 *
 * What a store holds (the schema is the backend's business):
 * - customers: customer ids interned to integer ids (> 0) chosen by the
 *   backend;
 * - hour rows: for each (customer, UTC hour) with events, the hour's total
 *   and its packed minute counts (the blob format of minutes.c, which the
 *   backend stores and returns as opaque bytes, and merges only through
 *   evc__minutes_merge());
 * - day totals: for each (customer, UTC day) with events, the sum of its
 *   hour totals, which add_hours() keeps in step with the hour rows;
 * - sources: one evc_source_row per ingested file or tracked stream
 *   (source.c and stream.c own their meaning), retracted ones included;
 * - erasures: each forget or prune (erase.c), with the offset every live
 *   file source had reached then, so that a later retract of a source
 *   subtracts nothing that the erasure already removed;
 * - the time of the last committed ingest.
 *
 * Transactions and locks:
 * - begin_write() opens a write transaction and takes the write lock at
 *   once (SQLite: BEGIN IMMEDIATE), waiting a while for another writer and
 *   then failing with EVC_EBUSY. Until the transaction ends, no other
 *   writer commits anything the transaction's reads of sources could have
 *   seen: source matching (a new ingest claiming a file's next bytes) and
 *   the concurrent-ingest check of each checkpoint (source.c) rely on this.
 *   A backend whose writers must not wait for each other may narrow the
 *   lock, but never below "writers of sources with the same head
 *   fingerprint" (`claim`: the head hash of the input, 0 for an untracked
 *   stream, which needs no lock on sources, a tracked stream's key, or
 *   EVC_CLAIM_ALL for a correction, which every writer must wait for).
 * - Inside a write transaction every read sees the transaction's own
 *   writes. commit() makes all of them durable at once, the source rows
 *   with the counts they account for; rollback() drops all of them and
 *   never fails (a transaction it cannot roll back is gone with the
 *   connection).
 * - Outside a transaction each call reads one snapshot of its own.
 *   begin_read() .. end_read() make the calls between read one snapshot
 *   (evc_store_info()'s figures agree with each other while another
 *   process ingests). Inside a write transaction both do nothing: the
 *   transaction is the snapshot, and not theirs to end.
 * - A connection is used by one thread at a time; the library serialises
 *   its own threads' use of it (store.c).
 *
 * Nothing read from a store is trusted: the library checks what it uses
 * (hours in range and in order, minute blobs, totals against minutes) and
 * fails with EVC_ECORRUPT, naming what is wrong, rather than misread.
 *
 * Errors: every operation that can fail returns an evc_status and, on
 * failure, writes a message naming the store and the operation to `err`.
 * EVC_EBUSY: another writer holds the store; EVC_ECORRUPT: what the store
 * holds breaks its invariants; EVC_EDB: anything else the backend reports.
 * Visitor callbacks return EVC_OK to go on, anything else to stop: the
 * operation then returns that status without writing a message.
 */
#ifndef EVC_STORAGE_H
#define EVC_STORAGE_H

#include "evc-int.h"

typedef struct evc_db evc_db; /* a backend's open store */

/* ---- what passes between the library and a backend ---------------------- */

/* One hour of one customer's counts, to be added to what the store holds
 * for it. Its packed minutes are blobs[blob_off, +blob_len) of its set. */
typedef struct evc_hour_row {
	int64_t customer, hour; /* a backend customer id; epoch hours */
	uint64_t total;
	uint32_t blob_off, blob_len;
} evc_hour_row;

/* Hour rows on their way to the store, at most the backend's set_rows rows
 * and set_bytes blob bytes; the ingest fills them in (customer, hour)
 * order, each (customer, hour) at most once per set. */
typedef struct evc_hour_set {
	size_t n, blobs_len;
	evc_hour_row *row;
	uint8_t *blobs;
} evc_hour_set;

/* A stored hour, as visited. `blob` is NULL when the visit asked for totals
 * only, or for minutes on demand and this call is the first for the row:
 * then returning EVC_WANT_MINUTES has the backend call again with the
 * blob. Valid during the callback only. */
typedef int (*evc_hour_fn)(int64_t hour, uint64_t total, const uint8_t *blob,
                           size_t blob_len, void *payload);
#define EVC_WANT_MINUTES 1

/* What an hours visit reads of each row. */
typedef enum evc_minutes_read {
	EVC_TOTALS_ONLY,
	EVC_WITH_MINUTES,
	EVC_MINUTES_ON_DEMAND,
} evc_minutes_read;

/* A stored day total (the sum of the day's hour totals; UTC days). */
typedef int (*evc_day_fn)(int64_t day, uint64_t total, void *payload);
/* A stored day total with its customer, as scan_days visits it. */
typedef int (*evc_day_row_fn)(int64_t customer, int64_t day, uint64_t total,
                              void *payload);
/* A customer: the backend's id and the customer id string. */
typedef int (*evc_name_fn)(int64_t customer, const char *name, void *payload);
/* A stored hour with its customer, as scan_hours visits it: the backend's
 * customer id and the customer id string it stands for, NULL when no
 * customer has that id (only in a damaged store). */
typedef struct evc_scanned_hour {
	int64_t customer;
	const char *name;
	int64_t hour;
	uint64_t total;
	const uint8_t *blob;
	size_t blob_len;
} evc_scanned_hour;
typedef int (*evc_scan_fn)(const evc_scanned_hour *h, void *payload);

/* A customer and the two hour rows that bound its events; first_* and
 * last_* are meaningful only when has_hours. */
typedef struct evc_customer_row {
	const char *name;
	uint64_t total;
	bool has_hours;
	int64_t first_hour, last_hour;
	const uint8_t *first_blob, *last_blob;
	size_t first_len, last_len;
} evc_customer_row;
typedef int (*evc_customer_row_fn)(const evc_customer_row *row, void *payload);

/* Store-wide figures, read in one snapshot. */
typedef struct evc_store_totals {
	uint64_t customers, sources, rows_counted, rows_rejected;
	uint64_t size;       /* bytes the backend reports for the store */
	int64_t last_ingest; /* note_ingest()'s latest time; 0: none */
} evc_store_totals;

/* What a source is. */
typedef enum evc_source_kind {
	EVC_KIND_FILE = 0,
	EVC_KIND_STREAM = 1, /* a named stream: path is its name */
} evc_source_kind;

/* counted_from of a source recorded before sources kept it. */
#define EVC_FROM_UNKNOWN (-1)

/* One row of the sources table (source.c gives it meaning). Strings belong
 * to whoever filled it; as visited, valid during the callback only. */
typedef struct evc_source_row {
	int64_t id;
	evc_source_kind kind;
	const char *path, *realpath;
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	uint64_t head_len, head_hash; /* fingerprint of the first bytes */
	uint64_t offset, prefix_hash; /* ingested prefix and its fingerprint */
	uint64_t next_line;           /* line number at offset */
	uint64_t rows_counted, rows_rejected, rows_warned;
	int64_t first_ingest, last_ingest;
	/* This source counted the bytes [counted_from, offset) itself; those
	 * before were counted through another source (a copy's, or an older
	 * source of the same file). EVC_FROM_UNKNOWN when not recorded. */
	int64_t counted_from;
	int64_t retracted; /* epoch seconds of its retraction; 0: live */
} evc_source_row;
typedef int (*evc_source_row_fn)(const evc_source_row *row, void *payload);

/* What a removal took out of the store. */
typedef struct evc_removal {
	uint64_t events;            /* the counts removed */
	uint64_t hours;             /* hour rows removed */
	uint64_t customers;         /* customers that lost counts */
	uint64_t customers_removed; /* of those, left with none, removed */
} evc_removal;

/* A forget (a customer's counts) or a prune (every count before a time). */
typedef enum evc_erasure_kind {
	EVC_ERASE_CUSTOMER = 0,
	EVC_ERASE_BEFORE = 1,
} evc_erasure_kind;

typedef struct evc_erasure {
	evc_erasure_kind kind;
	/* EVC_ERASE_CUSTOMER: the fingerprint of the customer id (the id
	 * itself is what was to be erased). EVC_ERASE_BEFORE: the time,
	 * epoch seconds of a whole minute. */
	uint64_t key;
	int64_t at; /* epoch seconds */
	/* As visited for a source: that source's offset when the erasure
	 * was made. */
	uint64_t offset;
} evc_erasure;
typedef int (*evc_erasure_fn)(const evc_erasure *e, void *payload);

/* ---- the operations ------------------------------------------------------ */

#define EVC_BACKEND_VERSION 2

/* The claim of a correction (retract, forget, prune): the whole store. */
#define EVC_CLAIM_ALL UINT64_MAX

typedef struct evc_backend {
	unsigned version; /* EVC_BACKEND_VERSION */
	const char *name; /* for messages: "SQLite" */
	/* The largest set add_hours() takes, chosen by the backend for its
	 * own costs (SQLite: its statement journal). */
	size_t set_rows, set_bytes;

	/* Whether `path` names a store of this backend. */
	bool (*handles)(const char *path);
	/* Open (with EVC_OPEN_CREATE, create) the store. Refuses, without
	 * modifying it, what is not a store (EVC_ENOTSTORE) or a store of a
	 * newer schema (EVC_ESCHEMA); EVC_ENOTFOUND when it does not exist
	 * and may not be created. `path` outlives the handle. */
	int (*open)(evc_db **out, const char *path, unsigned flags,
	            evc_error *err);
	/* NULL is allowed. An open transaction is rolled back. */
	void (*close)(evc_db *db);

	int (*begin_write)(evc_db *db, uint64_t claim, evc_error *err);
	int (*commit)(evc_db *db, evc_error *err);
	void (*rollback)(evc_db *db);
	int (*begin_read)(evc_db *db, evc_error *err);
	void (*end_read)(evc_db *db);

	/* The id of a customer; *id is 0 when it has none and `create` is
	 * false. With `create`, in a write transaction, one is made. */
	int (*customer)(evc_db *db, const char *name, size_t len, bool create,
	                int64_t *id, evc_error *err);
	int (*customer_count)(evc_db *db, uint64_t *out, evc_error *err);
	/* Add each row's total and minutes to what the store holds for its
	 * (customer, hour), in the open write transaction. */
	int (*add_hours)(evc_db *db, const evc_hour_set *set, evc_error *err);
	/* Subtract each row's total and minutes from what the store holds
	 * for its (customer, hour), in the open write transaction, with the
	 * day totals; an hour (or day) left with nothing is removed, and
	 * counted in out->hours, as is a customer left with no hours
	 * (out->customers_removed). EVC_ECORRUPT, naming the hour, when the
	 * store lacks what is to be subtracted (a missing hour, a minute
	 * that would go below zero): the caller rolls back. */
	int (*subtract_hours)(evc_db *db, const evc_hour_set *set,
	                      evc_removal *out, evc_error *err);
	/* In the open write transaction, remove every count of a customer
	 * (its hours and day totals) and the customer itself. */
	int (*forget)(evc_db *db, int64_t customer, evc_removal *out,
	              evc_error *err);
	/* In the open write transaction, remove every minute count before
	 * `before` (epoch seconds, a whole minute), keeping the day totals
	 * in step, and the customers left with no hours. */
	int (*prune)(evc_db *db, int64_t before, evc_removal *out,
	             evc_error *err);
	/* In the open write transaction, record an erasure (e->offset is
	 * ignored) with the offset of every live file source now. */
	int (*erasure_add)(evc_db *db, const evc_erasure *e, evc_error *err);
	/* Visit the erasures recorded with a source, oldest first. */
	int (*erasures)(evc_db *db, int64_t source, evc_erasure_fn fn,
	                void *payload, evc_error *err);
	/* Outside any transaction: give the space the store no longer uses
	 * back to the file system (SQLite: VACUUM). */
	int (*reclaim)(evc_db *db, evc_error *err);
	/* In the open write transaction: an ingest commits now (epoch
	 * seconds); the store keeps the latest such time (totals). */
	int (*note_ingest)(evc_db *db, int64_t now, evc_error *err);
	/* Visit the stored hours of a customer in [hour_lo, hour_hi], in
	 * order, with their minute blobs as `minutes` says. */
	int (*hours)(evc_db *db, int64_t customer, int64_t hour_lo,
	             int64_t hour_hi, evc_minutes_read minutes, evc_hour_fn fn,
	             void *payload, evc_error *err);
	/* Whether the store keeps day totals (day_totals, scan_days): a
	 * store of an older schema opened read-only may not. */
	bool (*has_days)(evc_db *db);
	/* Visit the day totals of a customer in [day_lo, day_hi], in order;
	 * a day total is the sum of that UTC day's hour totals. */
	int (*day_totals)(evc_db *db, int64_t customer, int64_t day_lo,
	                  int64_t day_hi, evc_day_fn fn, void *payload,
	                  evc_error *err);
	/* Visit every day total in (customer, day) key order. */
	int (*scan_days)(evc_db *db, evc_day_row_fn fn, void *payload,
	                 evc_error *err);
	/* Visit every customer, ordered by customer id (bytewise). */
	int (*customer_names)(evc_db *db, evc_name_fn fn, void *payload,
	                      evc_error *err);
	/* Visit every stored hour, ordered by customer id (bytewise) then
	 * hour when `by_name`, else in key order: the backend's customer id,
	 * then hour. */
	int (*scan_hours)(evc_db *db, bool by_name, evc_scan_fn fn,
	                  void *payload, evc_error *err);
	/* Visit every customer, ordered by customer id (bytewise). */
	int (*customers)(evc_db *db, evc_customer_row_fn fn, void *payload,
	                 evc_error *err);
	/* Visit the rows of the earliest (or latest) stored hour, one per
	 * customer that has events then, in no particular order. */
	int (*edge_hours)(evc_db *db, bool latest, evc_hour_fn fn,
	                  void *payload, evc_error *err);
	int (*totals)(evc_db *db, evc_store_totals *out, evc_error *err);
	/* totals()'s last_ingest alone, without its scans: every query's
	 * answer carries it. */
	int (*last_ingest)(evc_db *db, int64_t *out, evc_error *err);
	/* The backend's own check of its storage (SQLite: PRAGMA
	 * integrity_check): fn is called once per problem it finds, in its
	 * own words. Finding problems is no failure of the call. */
	int (*integrity)(evc_db *db, int (*fn)(const char *problem, void *),
	                 void *payload, evc_error *err);

	/* Visit the sources (retracted ones too), newest first or oldest
	 * first. */
	int (*sources)(evc_db *db, bool newest_first, evc_source_row_fn fn,
	               void *payload, evc_error *err);
	/* Add a source (sets row->id), or write every column of one. */
	int (*source_insert)(evc_db *db, evc_source_row *row, evc_error *err);
	int (*source_update)(evc_db *db, const evc_source_row *row,
	                     evc_error *err);

	/* For backends that many machines reach (zero in the others): */
	/* A resolved path names a file on one machine only: source.c
	 * qualifies a source's realpath with the host's name
	 * ("host:/abs/path"); copies are still found by content. */
	bool shared_paths;
	/* The store's name for messages and the handle, credentials masked
	 * (malloc'ed, NULL when out of memory); NULL: the name as given. */
	char *(*display_name)(const char *path);
} evc_backend;

/* ---- what the library checks of what it reads (check.c) ----------------- */

/* The hours a store can hold: those of [EVC_TIME_MIN, EVC_TIME_MAX]. */
#define EVC_HOUR_MIN (EVC_TIME_MIN / 3600)
#define EVC_HOUR_MAX (EVC_TIME_MAX / 3600)

/* What is wrong with a stored hour row, in words (in buf), or NULL when
 * nothing: an hour outside the span, malformed minutes, a total that is
 * not the sum of its minutes. */
const char *evc__hour_problem(int64_t hour, uint64_t total, const uint8_t *blob,
                              size_t len, char *buf, size_t buflen);
/* What is wrong with a stored source row (in buf), or NULL. */
const char *evc__source_problem(const evc_source_row *r, char *buf,
                                size_t buflen);

/* The backends built in, and the one that handles a store's name. */
extern const evc_backend evc__sqlite_backend;
#ifdef EVC_HAVE_POSTGRESQL
extern const evc_backend evc__pg_backend;
#endif
const evc_backend *evc__backend_for(const char *path);

#endif /* EVC_STORAGE_H */
