/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the Check unit tests: temporary files, store fixtures,
 * ingesting strings, collecting reject reports, time parsing and hourly
 * queries that assert success.
 *
 * Temporary files live in a private directory under $TMPDIR (or /tmp) made
 * per process; everything in it is removed at exit (also in forked test
 * processes, which remove only what they made).
 */
#ifndef EVC_TESTUTIL_H
#define EVC_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "evc-int.h"

/* ---- temporary files ---------------------------------------------------- */

/* A fresh path in the private temp directory that does not exist yet. The
 * string is owned by testutil; the file (and SQLite's -journal, -wal and
 * -shm files next to it) is removed at exit. */
const char *tu_temp_path(void);
/* Write `len` bytes to a new temp file and return its path (as above). */
const char *tu_write_temp(const void *data, size_t len);
const char *tu_write_temp_str(const char *s);
/* A new temp directory (removed at exit when empty). */
const char *tu_temp_dir(void);
/* An fd open for reading on a new temp file holding `data`. */
int tu_open_temp(const void *data, size_t len);
/* The whole file, malloc'd and NUL-terminated; NULL when it cannot be read. */
char *tu_read_file(const char *path, size_t *len);
/* Remove every temp file this process made. Also run at exit. */
void tu_cleanup(void);

/* ---- time ---------------------------------------------------------------- */

/* Parse with evc_parse_time(), asserting success. */
int64_t ts(const char *s);
/* Format with evc_format_time() into buf (for messages). */
const char *tu_fmt(int64_t t, char buf[EVC_TIME_BUFSZ]);

/* ---- stores -------------------------------------------------------------- */

/* The tests run against PostgreSQL when $EVC_TEST_PG is the URI of an
 * empty database (tests/pg-run.sh sets it), else against SQLite. */
bool tu_pg(void);
/* A store name that does not exist yet: a new temp path (SQLite), or the
 * $EVC_TEST_PG URI with a schema of its own (PostgreSQL). Owned by
 * testutil. */
const char *tu_store_path(void);
/* Leave a test that SQLite alone can run, saying so on stderr. */
#define TU_SKIP_ON_PG(why)                                                     \
	do {                                                                   \
		if (tu_pg()) {                                                 \
			fprintf(stderr, "%s: skipped on PostgreSQL: %s\n",     \
			        __func__, why);                                \
			return;                                                \
		}                                                              \
	} while (0)

/* A fresh private store: ":memory:", or a new PostgreSQL schema; asserts
 * success. */
evc_store *tu_mem_store(void);
/* evc_open() asserting success. */
evc_store *tu_open_store(const char *path, unsigned flags);
/* evc_open() expected to fail with `want`: *out is NULL, the message names
 * the path and the file's bytes are the same afterwards. */
void tu_open_fails_unchanged(const char *path, unsigned flags, int want);

/* ---- reject reports ------------------------------------------------------ */

typedef struct tu_report {
	char *source;
	uint64_t line;
	int warning;
	char *reason;
	char *text; /* NUL-terminated copy of text_len bytes */
	size_t text_len;
	int text_truncated;
} tu_report;

typedef struct tu_reports {
	tu_report *v;
	size_t n;
	size_t cap;
	/* When non-zero, the callback returns 1 on this (1-based) report. */
	size_t stop_at;
} tu_reports;

/* An evc_reject_fn collecting copies into the tu_reports payload. */
int tu_collect(const evc_reject *reject, void *payload);
void tu_reports_free(tu_reports *r);

/* ---- ingesting strings --------------------------------------------------- */

/* Ingest `len` bytes through evc_ingest_csv() on a temp file. */
int tu_ingest_mem(evc_store *store, const void *data, size_t len,
                  const evc_ingest_options *opts, evc_ingest_stats *stats);
/* As tu_ingest_mem() with strlen(csv). */
int tu_ingest_str(evc_store *store, const char *csv,
                  const evc_ingest_options *opts, evc_ingest_stats *stats);
/* Ingest through evc_ingest_fd() on a pipe fed by a writer thread. */
int tu_ingest_pipe(evc_store *store, const void *data, size_t len,
                   const char *name, const evc_ingest_options *opts,
                   evc_ingest_stats *stats);
/* Ingest `csv`, asserting EVC_OK and that no row was rejected. */
void tu_ingest_ok(evc_store *store, const char *csv);

/* ---- queries ------------------------------------------------------------- */

/* evc_hourly() asserting EVC_OK and the result's basic invariants (bucket
 * hours consecutive, total = sum of counts). */
evc_hourly_result *tu_hourly(evc_store *store, const char *customer,
                             int64_t start, int64_t end);
/* Bucket i of evc_hourly(); asserts i < n_buckets. */
evc_bucket tu_bucket(evc_store *store, const char *customer, int64_t start,
                     int64_t end, size_t i);
/* The total of evc_hourly(). */
uint64_t tu_total(evc_store *store, const char *customer, int64_t start,
                  int64_t end);

/* ---- deterministic pseudo-random numbers ----------------------------------
 */

/* splitmix64: the same sequence on every platform for a given seed. */
uint64_t tu_rand(uint64_t *state);
/* Uniform in [0, n), n > 0. */
uint64_t tu_rand_below(uint64_t *state, uint64_t n);

/* ---- the suite registry -------------------------------------------------- */

/* TU_SUITE(fn) after a file's suite function registers it; the main of
 * testutil.c runs every suite linked into its binary, or the one CK_RUN_SUITE names
 * (CK_RUN_CASE narrows it to a test case, CK_VERBOSITY sets the output). */
typedef Suite *(*tu_suite_fn)(void);
void tu_register_suite(tu_suite_fn fn);
#define TU_SUITE(fn)                                                           \
	__attribute__((constructor)) static void tu_register_##fn(void)        \
	{                                                                      \
		tu_register_suite(fn);                                         \
	}

/* A fixed valid UUID for rows. */
#define TU_UUID "ffdc83be-b2b3-4d8c-8712-b9aa418f2791"

#endif /* EVC_TESTUTIL_H */
