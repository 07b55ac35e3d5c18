/* SPDX-License-Identifier: MIT */
/*
 * A test shim for LD_PRELOAD: after each COMMIT of a SQLite store, the
 * process sleeps $EVC_TEST_COMMIT_GAP_MS milliseconds before it goes on,
 * so that another process waiting for the store's write lock gets it
 * between two checkpoints of an ingest, as it may by chance. Races that
 * would need that chance then happen every time (tests/test-resume.sh).
 * SQLite's prototype is written out: this is no user of the library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT; the project's flags define it already */
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*exec_fn)(void *, const char *, void *, void *, char **);

int sqlite3_exec(void *db, const char *sql, void *cb, void *arg, char **err);

int sqlite3_exec(void *db, const char *sql, void *cb, void *arg, char **err)
{
	static exec_fn real;
	const char *gap = getenv("EVC_TEST_COMMIT_GAP_MS");

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "sqlite3_exec");
	int rc = real(db, sql, cb, arg, err);
	if (rc == 0 && gap && strcmp(sql, "COMMIT") == 0) {
		const long ms = atol(gap);
		const struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return rc;
}
