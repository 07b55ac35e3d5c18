/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend (see storage.h): the schema, the checks that tell a
 * store from another file, and every SQL statement the library runs.
 *
 * Layout: customers are interned to integers; each (customer, hour) with
 * events is one row of a WITHOUT ROWID table keyed by (customer, hour)
 * holding the hour's total and its packed minute counts (minutes.c), so a
 * customer's time range is one primary-key range scan, whole hours are read
 * without decoding, and there are about 7x fewer rows than one per minute.
 * The file is in WAL mode: readers are never blocked by an ingest.
 */
#include "sqlite-int.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 'EVC1' in the SQLite header's application_id field. */
#define EVC_APPLICATION_ID 0x45564331
/* 1: customers, hour_counts, sources; 2: day_counts, the hour totals of
 * each (customer, UTC day), so that a range's totals read a row a day;
 * 3: sources' kind, counted_from and retracted, erasures, meta. */
#define EVC_SCHEMA_VERSION 3
#define BUSY_TIMEOUT_MS    5000

/* Hour rows per add_hours() statement. Each is an INSERT ... SELECT over
 * evc_hour_rows(), and a multi-row upsert makes SQLite keep a statement
 * journal holding each page the statement touches, once per statement: a
 * temporary file in $SQLITE_TMPDIR, $TMPDIR or /var/tmp, about 300 MB of
 * page-cache writes for the 10M-row benchmark file. Larger sets touch each
 * page fewer times (32768 rows against 8192: -4% ingest wall time, +1 MB
 * resident). */
#define SET_ROWS  32768u
#define SET_BYTES (1024u << 10)

struct evc_db {
	sqlite3 *db;
	const char *path; /* owned by the store */
	bool own_read;    /* begin_read() opened the transaction */
	int version;      /* the schema's: older ones are read as they are */
	bool has_days;    /* day_counts exists: schema 2, not 1 read-only */
	sqlite3_stmt *cust_get, *cust_add, *add_hours, *hours, *hour_totals;
	sqlite3_stmt *add_days, *days, *names;
	sqlite3_stmt *sub_hours, *sub_days, *drop_hours, *drop_days;
	sqlite3_stmt *drop_customers;
	sqlite3_stmt *src_insert, *src_update, *note, *last_ingest;
	evc_hour_set *day_set; /* add_hours()'s day totals, made on use */
};

/* The day totals, kept with the hour rows they sum (schema version 2). */
#define DAY_COUNTS_SQL                                                         \
	"CREATE TABLE day_counts ("                                            \
	" customer INTEGER NOT NULL,"                                          \
	" day INTEGER NOT NULL," /* epoch days, UTC */                         \
	" total INTEGER NOT NULL,"                                             \
	" PRIMARY KEY (customer, day)) WITHOUT ROWID;"
/* Schema version 3: what sources are, erasures and their offsets, and the
 * store's own facts. */
#define SOURCES_V3_SQL                                                         \
	"ALTER TABLE sources ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"      \
	"ALTER TABLE sources ADD COLUMN counted_from INTEGER NOT NULL "        \
	"DEFAULT -1;"                                                          \
	"ALTER TABLE sources ADD COLUMN retracted INTEGER NOT NULL "           \
	"DEFAULT 0;"
#define ERASURES_SQL                                                           \
	"CREATE TABLE erasures ("                                              \
	" id INTEGER PRIMARY KEY,"                                             \
	" kind INTEGER NOT NULL," /* 0: a customer, 1: before a time */        \
	" key INTEGER NOT NULL,"  /* the id's fingerprint, or the time */      \
	" at INTEGER NOT NULL);"                                               \
	"CREATE TABLE erased_sources ("                                        \
	" source INTEGER NOT NULL,"                                            \
	" erasure INTEGER NOT NULL,"                                           \
	" offset INTEGER NOT NULL," /* the source's, when it was made */       \
	" PRIMARY KEY (source, erasure)) WITHOUT ROWID;"                       \
	"CREATE TABLE meta ("                                                  \
	" key TEXT PRIMARY KEY,"                                               \
	" value INTEGER NOT NULL) WITHOUT ROWID;"
/* The UTC day of an epoch hour, rounded down before 1970 too. */
#define DAY_OF_HOUR(h)                                                         \
	"(CASE WHEN " h " >= 0 THEN " h " / 24 ELSE -((23 - " h ") / 24) END)"

static const char schema_sql[] =
    "CREATE TABLE customers ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE hour_counts ("
    " customer INTEGER NOT NULL,"
    " hour INTEGER NOT NULL," /* epoch hours */
    " total INTEGER NOT NULL,"
    " minutes BLOB NOT NULL,"
    " PRIMARY KEY (customer, hour)) WITHOUT ROWID;" DAY_COUNTS_SQL
    /* What was ingested from each input file, committed together with
     * the counts it produced: the basis of exactly-once ingest. */
    "CREATE TABLE sources ("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL,"
    " realpath TEXT NOT NULL,"
    " dev INTEGER NOT NULL,"
    " ino INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " head_len INTEGER NOT NULL,"
    " head_hash INTEGER NOT NULL,"
    " offset INTEGER NOT NULL,"
    " prefix_hash INTEGER NOT NULL,"
    " next_line INTEGER NOT NULL,"
    " rows_counted INTEGER NOT NULL,"
    " rows_rejected INTEGER NOT NULL,"
    " rows_warned INTEGER NOT NULL,"
    " first_ingest INTEGER NOT NULL,"
    " last_ingest INTEGER NOT NULL);" SOURCES_V3_SQL ERASURES_SQL;

/* Map SQLite's result to a status, with a message naming the store. */
static int db_fail(evc_db *db, evc_error *err, int rc, const char *what)
{
	const char *msg =
	    db && db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc);
	const char *path = db ? db->path : "?";
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return evc__fail(err, EVC_EBUSY,
		                 "%s: store is busy (another process is "
		                 "writing to it): %s",
		                 path, what);
	case SQLITE_READONLY:
		code = EVC_EREADONLY;
		break;
	case SQLITE_FULL:
		code = EVC_EFULL;
		break;
	case SQLITE_NOMEM:
		code = EVC_ENOMEM;
		break;
	case SQLITE_NOTADB:
		code = EVC_ENOTSTORE;
		break;
	case SQLITE_CORRUPT:
		code = EVC_ECORRUPT;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_PERM:
		code = EVC_EIO;
		break;
	default:
		code = EVC_EDB;
		break;
	}
	return evc__fail(err, code, "%s: %s: %s", path, what, msg);
}

static int exec(evc_db *db, evc_error *err, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? EVC_OK : db_fail(db, err, rc, what);
}

static int prepare(evc_db *db, evc_error *err, sqlite3_stmt **st,
                   const char *sql)
{
	if (*st)
		return EVC_OK;
	int rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	                            st, NULL);
	return rc == SQLITE_OK ? EVC_OK : db_fail(db, err, rc, "prepare");
}

/* A one-off statement, finalized by the caller. */
static int prepare_once(evc_db *db, evc_error *err, sqlite3_stmt **st,
                        const char *sql, const char *what)
{
	int rc = sqlite3_prepare_v2(db->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? EVC_OK : db_fail(db, err, rc, what);
}

/* Step a statement that returns nothing, then reset it for reuse. */
static int step_done(evc_db *db, evc_error *err, sqlite3_stmt *st,
                     const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? EVC_OK : db_fail(db, err, rc, what);
}

/* The end of a visit: the statement reset (persistent) or finalized, and
 * the callback's stop (frc), else the last step's result, as a status. */
static int end_visit(evc_db *db, evc_error *err, sqlite3_stmt *st,
                     bool persistent, int rc, int frc, const char *what)
{
	if (persistent)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	if (frc != EVC_OK)
		return frc;
	return rc == SQLITE_DONE ? EVC_OK : db_fail(db, err, rc, what);
}

/* The header facts that tell what a file is, read in one statement so they
 * come from one snapshot: read one by one, a store being created by another
 * process meanwhile would look like a foreign database. */
static int read_header(evc_db *db, evc_error *err, int64_t *app_id,
                       int64_t *version, int64_t *n_objects)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    db->db,
	    "SELECT (SELECT application_id FROM pragma_application_id),"
	    " (SELECT user_version FROM pragma_user_version),"
	    " (SELECT count(*) FROM sqlite_schema)",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*app_id = sqlite3_column_int64(st, 0);
			*version = sqlite3_column_int64(st, 1);
			*n_objects = sqlite3_column_int64(st, 2);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? EVC_OK
	                       : db_fail(db, err, rc, "reading the header");
}

/* Older schemas to the current one, in one transaction with the new
 * version, so that a crash leaves the old version as it was: 1 to 2 adds
 * the day totals, built from the hour rows; 2 to 3 what sources are (a
 * source is known to have counted from its start when no other source it
 * could have resumed from exists), erasures, and the last ingest as the
 * sources knew it. Another process may be migrating too: decide under the
 * lock. */
static int migrate(evc_db *db, evc_error *err)
{
	int64_t app_id, version, n_objects;
	char sql[128];
	int rc;

	if ((rc = exec(db, err, "BEGIN IMMEDIATE", "upgrading the store")) ||
	    (rc = read_header(db, err, &app_id, &version, &n_objects)))
		goto fail;
	if (version == 1 &&
	    (rc = exec(db, err,
	               DAY_COUNTS_SQL
	               "INSERT INTO day_counts (customer, day, total) "
	               "SELECT customer, " DAY_OF_HOUR(
	                   "hour") ", sum(total) FROM hour_counts "
	                           "GROUP BY 1, 2;",
	               "upgrading the store")))
		goto fail;
	if (version >= 1 && version < 3 &&
	    (rc = exec(db, err,
	               SOURCES_V3_SQL ERASURES_SQL
	               "UPDATE sources SET counted_from = 0 WHERE NOT EXISTS "
	               "(SELECT 1 FROM sources s WHERE s.id <> sources.id "
	               "AND s.offset > 0 AND s.head_len <= sources.head_len "
	               "AND (s.head_len < sources.head_len OR s.head_hash = "
	               "sources.head_hash));"
	               "INSERT INTO meta (key, value) SELECT 'last_ingest', "
	               "max(last_ingest) FROM sources HAVING count(*) > 0;",
	               "upgrading the store")))
		goto fail;
	if (version < EVC_SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		         EVC_SCHEMA_VERSION);
		if ((rc = exec(db, err, sql, "upgrading the store")))
			goto fail;
	}
	if ((rc = exec(db, err, "COMMIT", "upgrading the store")))
		goto fail;
	db->has_days = true;
	db->version = EVC_SCHEMA_VERSION;
	return EVC_OK;
fail:
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Read the header and decide what the file is, before anything writes. */
static int check_or_create(evc_db *db, evc_error *err, unsigned flags)
{
	int64_t app_id, version, n_objects;
	int rc;

	if ((rc = read_header(db, err, &app_id, &version, &n_objects))) {
		if (rc == EVC_ENOTSTORE || rc == EVC_EDB || rc == EVC_ECORRUPT)
			return evc__fail(err, EVC_ENOTSTORE,
			                 "%s: not an evcount store (not a "
			                 "database)",
			                 db->path);
		return rc;
	}
	if (app_id == EVC_APPLICATION_ID) {
		if (version > EVC_SCHEMA_VERSION)
			return evc__fail(err, EVC_ESCHEMA,
			                 "%s: store has schema version %lld, "
			                 "this evcount reads up to %d; "
			                 "upgrade evcount",
			                 db->path, (long long)version,
			                 EVC_SCHEMA_VERSION);
		if (version < 1)
			return evc__fail(err, EVC_ENOTSTORE,
			                 "%s: not an evcount store (schema "
			                 "version %lld)",
			                 db->path, (long long)version);
		if (version < EVC_SCHEMA_VERSION &&
		    (flags & EVC_OPEN_READWRITE))
			return migrate(db, err);
		db->has_days = version >= 2;
		db->version = (int)version;
		return EVC_OK;
	}
	if (app_id != 0 || n_objects != 0)
		return evc__fail(err, EVC_ENOTSTORE,
		                 "%s: not an evcount store (another SQLite "
		                 "database)",
		                 db->path);
	if (!(flags & EVC_OPEN_CREATE) || !(flags & EVC_OPEN_READWRITE))
		return evc__fail(err, EVC_ENOTSTORE,
		                 "%s: not an evcount store (empty file)",
		                 db->path);

	/* 16 KiB pages, not SQLite's 4 KiB: an ingest's upserts land all
	 * over the table, and with fewer, larger pages each costs less (the
	 * writer thread's CPU for 10M rows: -11%); queries are unchanged.
	 * Only an empty file takes it; an existing store keeps its size.
	 * Another process may be creating it too: decide again under the
	 * write lock. */
	if ((rc = exec(db, err, "PRAGMA page_size = 16384",
	               "creating the store")) ||
	    (rc = exec(db, err, "BEGIN IMMEDIATE", "creating the store")))
		return rc;
	if ((rc = read_header(db, err, &app_id, &version, &n_objects)))
		goto fail;
	if (app_id == 0 && n_objects == 0) {
		char sql[128];
		snprintf(sql, sizeof(sql),
		         "PRAGMA application_id = %d; PRAGMA user_version = "
		         "%d;",
		         EVC_APPLICATION_ID, EVC_SCHEMA_VERSION);
		if ((rc = exec(db, err, schema_sql, "creating the schema")) ||
		    (rc = exec(db, err, sql, "creating the schema")))
			goto fail;
	}
	if ((rc = exec(db, err, "COMMIT", "creating the store")))
		goto fail;
	/* Whoever created it, it must now be a store. */
	return check_or_create(db, err, flags & ~EVC_OPEN_CREATE);
fail:
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static bool dir_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return access(".", W_OK) == 0;
	if (slash == path)
		return access("/", W_OK) == 0;
	char *dir = evc__strndup(path, (size_t)(slash - path));
	if (!dir)
		return true; /* let SQLite tell */
	const bool ok = access(dir, W_OK) == 0;
	free(dir);
	return ok;
}

static void sqlite_close(evc_db *db);

static int sqlite_open(evc_db **out, const char *path, unsigned flags,
                       evc_error *err)
{
	const bool memory = strcmp(path, ":memory:") == 0;
	struct stat st;
	int rc;

	if (!memory) {
		if (stat(path, &st) != 0) {
			if (errno != ENOENT)
				return evc__fail(err, EVC_EIO, "%s: %s", path,
				                 strerror(errno));
			if (!(flags & EVC_OPEN_CREATE))
				return evc__fail(err, EVC_ENOTFOUND,
				                 "%s: no such store", path);
		} else if (S_ISDIR(st.st_mode)) {
			return evc__fail(err, EVC_EIO,
			                 "%s: is a directory, not a store",
			                 path);
		}
		/* SQLite writes -wal and -shm beside the store: say so now
		 * rather than fail halfway or depend on leftovers. */
		if ((flags & EVC_OPEN_READWRITE) && !dir_writable(path))
			return evc__fail(err, EVC_EREADONLY,
			                 "%s: the store's directory is not "
			                 "writable",
			                 path);
	}

	evc_db *db = evc__calloc(1, sizeof(*db));
	if (!db)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory", path);
	db->path = path;

	int sflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	if (flags & EVC_OPEN_READWRITE)
		sflags |= SQLITE_OPEN_READWRITE |
		          (flags & EVC_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
	else
		sflags |= SQLITE_OPEN_READONLY;
	rc = sqlite3_open_v2(path, &db->db, sflags, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, err, rc, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
	if ((rc = check_or_create(db, err, flags)))
		goto fail;
	if (flags & EVC_OPEN_READWRITE) {
		/* WAL: readers are never blocked by an ingest. */
		if ((rc = exec(db, err,
		               "PRAGMA journal_mode = WAL;"
		               "PRAGMA synchronous = NORMAL;"
		               /* A store the size of the 10M-row benchmark's
		                * (20-25 MB) mostly fits: with 16 MiB, an
		                * ingest into it spilled dirty pages to the
		                * WAL and read them back (1 GB of copies for
		                * the second file). */
		               "PRAGMA cache_size = -24576;"
		               /* With a persistent WAL, a size limit is what
		                * makes the last close empty it: else every
		                * later reader rebuilds its index from it. */
		               "PRAGMA journal_size_limit = 67108864;",
		               "setting up the store")))
			goto fail;
		/* Keep -wal and -shm after the last writer closes: readers
		 * in a directory they cannot write need them to exist. */
		int persist = 1;
		sqlite3_file_control(db->db, "main", SQLITE_FCNTL_PERSIST_WAL,
		                     &persist);
	}
	rc = evc__sqlite_register(db->db);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, err, rc, "registering functions");
		goto fail;
	}
	*out = db;
	return EVC_OK;
fail:
	sqlite_close(db);
	return rc;
}

static void sqlite_close(evc_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->cust_get);
	sqlite3_finalize(db->cust_add);
	sqlite3_finalize(db->add_hours);
	sqlite3_finalize(db->hours);
	sqlite3_finalize(db->hour_totals);
	sqlite3_finalize(db->add_days);
	sqlite3_finalize(db->days);
	sqlite3_finalize(db->names);
	if (db->day_set)
		free(db->day_set->row);
	free(db->day_set);
	sqlite3_finalize(db->sub_hours);
	sqlite3_finalize(db->sub_days);
	sqlite3_finalize(db->drop_hours);
	sqlite3_finalize(db->drop_days);
	sqlite3_finalize(db->drop_customers);
	sqlite3_finalize(db->src_insert);
	sqlite3_finalize(db->src_update);
	sqlite3_finalize(db->note);
	sqlite3_finalize(db->last_ingest);
	/* An open transaction is rolled back by the close. */
	sqlite3_close_v2(db->db);
	free(db);
}

static bool sqlite_handles(const char *path)
{
	(void)path;
	return true; /* every name that no other backend takes */
}

/* ---- transactions -------------------------------------------------------- */

static int sqlite_begin_write(evc_db *db, uint64_t claim, evc_error *err)
{
	/* The lock is the whole store's, whatever the claim. */
	(void)claim;
	return exec(db, err, "BEGIN IMMEDIATE", "starting a transaction");
}

static int sqlite_commit(evc_db *db, evc_error *err)
{
	return exec(db, err, "COMMIT", "committing");
}

static void sqlite_rollback(evc_db *db)
{
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	db->own_read = false;
}

static int sqlite_begin_read(evc_db *db, evc_error *err)
{
	if (!sqlite3_get_autocommit(db->db))
		return EVC_OK;
	int rc = exec(db, err, "BEGIN", "reading the store");
	db->own_read = rc == EVC_OK;
	return rc;
}

static void sqlite_end_read(evc_db *db)
{
	if (db->own_read)
		sqlite_rollback(db);
}

/* ---- customers and counts ------------------------------------------------ */

static int sqlite_customer(evc_db *db, const char *name, size_t len,
                           bool create, int64_t *id, evc_error *err)
{
	int rc;

	if ((rc = prepare(db, err, &db->cust_get,
	                  "SELECT id FROM customers WHERE name = ?1")))
		return rc;
	sqlite3_bind_text(db->cust_get, 1, name, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(db->cust_get);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(db->cust_get, 0) : 0;
	sqlite3_reset(db->cust_get);
	sqlite3_clear_bindings(db->cust_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, err, rc, "looking up a customer");
	if (*id != 0 || !create)
		return EVC_OK;

	if ((rc = prepare(db, err, &db->cust_add,
	                  "INSERT INTO customers (name) VALUES (?1)")))
		return rc;
	sqlite3_bind_text(db->cust_add, 1, name, (int)len, SQLITE_STATIC);
	if ((rc = step_done(db, err, db->cust_add, "adding a customer")))
		return rc;
	*id = sqlite3_last_insert_rowid(db->db);
	return EVC_OK;
}

/* A statement returning one integer. */
static int query_u64(evc_db *db, evc_error *err, const char *sql,
                     const char *what, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare_once(db, err, &st, sql, what);
	if (rc)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? EVC_OK : db_fail(db, err, rc, what);
}

static int sqlite_customer_count(evc_db *db, uint64_t *out, evc_error *err)
{
	return query_u64(db, err, "SELECT count(*) FROM customers",
	                 "counting customers", out);
}

static int64_t day_of_hour(int64_t hour)
{
	return hour >= 0 ? hour / 24 : -((23 - hour) / 24);
}

/* The day totals of a set of hour rows: rows come in (customer, hour)
 * order, so each (customer, day) is one run. The day goes where the hour
 * was. */
static int day_totals_of(evc_db *db, const evc_hour_set *set, evc_error *err)
{
	evc_hour_set *d = db->day_set;

	if (!d) {
		d = evc__calloc(1, sizeof(*d));
		if (!d || !(d->row = evc__malloc(SET_ROWS * sizeof(*d->row)))) {
			free(d);
			return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
			                 db->path);
		}
		db->day_set = d;
	}
	d->n = d->blobs_len = 0;
	for (size_t i = 0; i < set->n; i++) {
		const evc_hour_row *r = &set->row[i];
		const int64_t day = day_of_hour(r->hour);
		evc_hour_row *last = d->n ? &d->row[d->n - 1] : NULL;
		if (last && last->customer == r->customer && last->hour == day)
			last->total += r->total;
		else
			d->row[d->n++] = (evc_hour_row){.customer = r->customer,
			                                .hour = day,
			                                .total = r->total};
	}
	return EVC_OK;
}

static int sqlite_add_hours(evc_db *db, const evc_hour_set *set, evc_error *err)
{
	int rc;

	if (set->n == 0)
		return EVC_OK;
	if (set->n > SET_ROWS)
		return evc__fail(err, EVC_EINVAL,
		                 "%s: %zu hour rows, at most %u per set",
		                 db->path, set->n, SET_ROWS);
	/* "WHERE true" tells the parser that ON CONFLICT belongs to the
	 * INSERT, not to a join in the SELECT. */
	if ((rc = prepare(db, err, &db->add_hours,
	                  "INSERT INTO hour_counts (customer, hour, total, "
	                  "minutes) SELECT customer, hour, total, minutes "
	                  "FROM evc_hour_rows(?1) WHERE true "
	                  "ON CONFLICT (customer, hour) DO UPDATE SET "
	                  "total = total + excluded.total, "
	                  "minutes = evc_merge_minutes(minutes, "
	                  "excluded.minutes)")))
		return rc;
	evc__sqlite_bind_set(db->add_hours, 1, set);
	if ((rc = step_done(db, err, db->add_hours, "writing counts")) ||
	    !db->has_days)
		return rc;
	/* The day totals move with the hours, in the same transaction. */
	if ((rc = day_totals_of(db, set, err)) ||
	    (rc = prepare(db, err, &db->add_days,
	                  "INSERT INTO day_counts (customer, day, total) "
	                  "SELECT customer, hour, total FROM "
	                  "evc_hour_rows(?1) WHERE true ON CONFLICT "
	                  "(customer, day) DO UPDATE SET total = total + "
	                  "excluded.total")))
		return rc;
	evc__sqlite_bind_set(db->add_days, 1, db->day_set);
	return step_done(db, err, db->add_days, "writing day totals");
}

/* ---- corrections ----------------------------------------------------------
 */

/* Step a one-off statement of one row of integers into v[0..n). */
static int query_row(evc_db *db, evc_error *err, sqlite3_stmt *st, int64_t *v,
                     int n, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(st, i);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? EVC_OK : db_fail(db, err, rc, what);
}

/* What a subtraction of `set` found missing, in words, for a message. */
static void name_missing(evc_db *db, const evc_hour_set *set, char *buf,
                         size_t len)
{
	sqlite3_stmt *st = NULL;

	snprintf(buf, len, "an hour holds fewer events than are to be taken");
	if (sqlite3_prepare_v2(
	        db->db,
	        "SELECT c.name, r.hour FROM evc_hour_rows(?1) r LEFT JOIN "
	        "hour_counts h ON h.customer = r.customer AND h.hour = r.hour "
	        "LEFT JOIN customers c ON c.id = r.customer WHERE h.customer "
	        "IS NULL LIMIT 1",
	        -1, &st, NULL) != SQLITE_OK)
		return;
	evc__sqlite_bind_set(st, 1, set);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char hour[EVC_TIME_BUFSZ];
		if (evc_format_time(sqlite3_column_int64(st, 1) * 3600, hour,
		                    sizeof(hour)) < 0)
			snprintf(hour, sizeof(hour), "?");
		snprintf(buf, len, "customer %s has no counts in hour %s",
		         name ? name : "(unknown)", hour);
	}
	sqlite3_finalize(st);
}

/* Take `set` (hour or day rows) from `table` with the statements given,
 * then drop the rows left at zero; `rows` gets how many were dropped. */
static int take_rows(evc_db *db, evc_error *err, const evc_hour_set *set,
                     sqlite3_stmt **sub, const char *sub_sql,
                     sqlite3_stmt **drop, const char *drop_sql,
                     uint64_t *dropped)
{
	char why[320];
	int rc;

	if ((rc = prepare(db, err, sub, sub_sql)))
		return rc;
	evc__sqlite_bind_set(*sub, 1, set);
	rc = sqlite3_step(*sub);
	sqlite3_reset(*sub);
	sqlite3_clear_bindings(*sub);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return evc__fail(err, EVC_ECORRUPT, "%s: corrupt store: %s",
		                 db->path, sqlite3_errmsg(db->db));
	if (rc != SQLITE_DONE)
		return db_fail(db, err, rc, "subtracting counts");
	const sqlite3_int64 changed = sqlite3_changes64(db->db);
	if ((size_t)changed != set->n) {
		name_missing(db, set, why, sizeof(why));
		return evc__fail(err, EVC_ECORRUPT,
		                 "%s: corrupt store: it lacks counts to be "
		                 "subtracted (%s)",
		                 db->path, why);
	}
	if ((rc = prepare(db, err, drop, drop_sql)))
		return rc;
	evc__sqlite_bind_set(*drop, 1, set);
	if ((rc = step_done(db, err, *drop, "subtracting counts")))
		return rc;
	*dropped += (uint64_t)sqlite3_changes64(db->db);
	return EVC_OK;
}

static int sqlite_subtract_hours(evc_db *db, const evc_hour_set *set,
                                 evc_removal *out, evc_error *err)
{
	uint64_t days = 0;
	int rc;

	if (set->n == 0)
		return EVC_OK;
	if (set->n > SET_ROWS)
		return evc__fail(err, EVC_EINVAL,
		                 "%s: %zu hour rows, at most %u per set",
		                 db->path, set->n, SET_ROWS);
	/* A row that holds fewer events than are taken is not updated, and
	 * the count of updated rows tells. */
	if ((rc = take_rows(db, err, set, &db->sub_hours,
	                    "UPDATE hour_counts SET total = hour_counts.total "
	                    "- r.total, minutes = evc_subtract_minutes("
	                    "hour_counts.minutes, r.minutes) FROM "
	                    "evc_hour_rows(?1) AS r WHERE hour_counts.customer "
	                    "= r.customer AND hour_counts.hour = r.hour AND "
	                    "hour_counts.total >= r.total",
	                    &db->drop_hours,
	                    "DELETE FROM hour_counts WHERE total = 0 AND "
	                    "(customer, hour) IN (SELECT customer, hour FROM "
	                    "evc_hour_rows(?1))",
	                    &out->hours)) ||
	    !db->has_days)
		return rc;
	if ((rc = day_totals_of(db, set, err)) ||
	    (rc = take_rows(
	         db, err, db->day_set, &db->sub_days,
	         "UPDATE day_counts SET total = day_counts.total - "
	         "d.total FROM evc_hour_rows(?1) AS d WHERE "
	         "day_counts.customer = d.customer AND day_counts.day = "
	         "d.hour AND day_counts.total >= d.total",
	         &db->drop_days,
	         "DELETE FROM day_counts WHERE total = 0 AND (customer, "
	         "day) IN (SELECT customer, hour FROM "
	         "evc_hour_rows(?1))",
	         &days)))
		return rc;
	/* A customer left with nothing is no customer any more. */
	if ((rc = prepare(db, err, &db->drop_customers,
	                  "DELETE FROM customers WHERE id IN (SELECT customer "
	                  "FROM evc_hour_rows(?1)) AND NOT EXISTS (SELECT 1 "
	                  "FROM hour_counts h WHERE h.customer = "
	                  "customers.id)")))
		return rc;
	evc__sqlite_bind_set(db->drop_customers, 1, set);
	if ((rc = step_done(db, err, db->drop_customers, "subtracting counts")))
		return rc;
	out->customers_removed += (uint64_t)sqlite3_changes64(db->db);
	return EVC_OK;
}

static int sqlite_forget(evc_db *db, int64_t customer, evc_removal *out,
                         evc_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t v[2] = {0, 0};
	int rc;

	if ((rc = prepare_once(db, err, &st,
	                       "SELECT coalesce(sum(total), 0), count(*) FROM "
	                       "hour_counts WHERE customer = ?1",
	                       "forgetting a customer")))
		return rc;
	sqlite3_bind_int64(st, 1, customer);
	if ((rc = query_row(db, err, st, v, 2, "forgetting a customer")))
		return rc;
	static const char *const sql[] = {
	    "DELETE FROM hour_counts WHERE customer = ?1",
	    "DELETE FROM day_counts WHERE customer = ?1",
	    "DELETE FROM customers WHERE id = ?1",
	};
	for (size_t i = 0; i < 3; i++) {
		if ((rc = prepare_once(db, err, &st, sql[i],
		                       "forgetting a customer")))
			return rc;
		sqlite3_bind_int64(st, 1, customer);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_fail(db, err, rc, "forgetting a customer");
		if (i == 2)
			out->customers_removed +=
			    (uint64_t)sqlite3_changes64(db->db);
	}
	out->events += (uint64_t)v[0];
	out->hours += (uint64_t)v[1];
	out->customers += v[1] > 0 ? 1 : 0;
	return EVC_OK;
}

static int sqlite_prune(evc_db *db, int64_t before, evc_removal *out,
                        evc_error *err)
{
	const int64_t hour = evc__floor_div(before, 3600);
	const int64_t minute = (before - hour * 3600) / 60;
	const int64_t day = day_of_hour(hour);
	sqlite3_stmt *st = NULL;
	int64_t v[4] = {0, 0, 0, 0};
	int rc;

	/* What goes: the hours before, the boundary hour's first minutes,
	 * and whose they are. */
	if ((rc = prepare_once(
	         db, err, &st,
	         "SELECT (SELECT coalesce(sum(total), 0) FROM hour_counts "
	         "WHERE hour < ?1), (SELECT count(*) FROM hour_counts WHERE "
	         "hour < ?1), (SELECT coalesce(sum(evc_minutes_sum(minutes, 0, "
	         "?2)), 0) FROM hour_counts WHERE hour = ?1), (SELECT "
	         "count(DISTINCT customer) FROM hour_counts WHERE hour < ?1 OR "
	         "(hour = ?1 AND evc_minutes_sum(minutes, 0, ?2) > 0))",
	         "pruning")))
		return rc;
	sqlite3_bind_int64(st, 1, hour);
	sqlite3_bind_int64(st, 2, minute);
	if ((rc = query_row(db, err, st, v, 4, "pruning")))
		return rc;
	static const char *const sql[] = {
	    "DELETE FROM hour_counts WHERE hour < ?1",
	    "UPDATE hour_counts SET total = total - evc_minutes_sum(minutes, "
	    "0, ?2), minutes = evc_minutes_from(minutes, ?2) WHERE hour = ?1 "
	    "AND ?2 > 0",
	    "DELETE FROM hour_counts WHERE hour = ?1 AND total = 0",
	    "DELETE FROM day_counts WHERE day < ?3",
	    ("UPDATE day_counts SET total = (SELECT coalesce(sum(h.total), 0) "
	     "FROM hour_counts h WHERE h.customer = day_counts.customer AND "
	     "h.hour BETWEEN ?3 * 24 AND ?3 * 24 + 23) WHERE day = ?3"),
	    "DELETE FROM day_counts WHERE day = ?3 AND total = 0",
	    ("DELETE FROM customers WHERE NOT EXISTS (SELECT 1 FROM "
	     "hour_counts h WHERE h.customer = customers.id)"),
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (!db->has_days && i >= 3 && i <= 5)
			continue;
		if ((rc = prepare_once(db, err, &st, sql[i], "pruning")))
			return rc;
		const int64_t arg[3] = {hour, minute, day};
		for (int k = 1; k <= sqlite3_bind_parameter_count(st); k++)
			sqlite3_bind_int64(st, k, arg[k - 1]);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_fail(db, err, rc, "pruning");
		if (i == 2)
			out->hours += (uint64_t)sqlite3_changes64(db->db);
		if (i == 6)
			out->customers_removed +=
			    (uint64_t)sqlite3_changes64(db->db);
	}
	out->events += (uint64_t)(v[0] + v[2]);
	out->hours += (uint64_t)v[1];
	out->customers += (uint64_t)v[3];
	return EVC_OK;
}

static int sqlite_erasure_add(evc_db *db, const evc_erasure *e, evc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prepare_once(db, err, &st,
	                       "INSERT INTO erasures (kind, key, at) VALUES "
	                       "(?1, ?2, ?3)",
	                       "recording an erasure")))
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->kind);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->key);
	sqlite3_bind_int64(st, 3, e->at);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, rc, "recording an erasure");
	const sqlite3_int64 id = sqlite3_last_insert_rowid(db->db);
	if ((rc =
	         prepare_once(db, err, &st,
	                      "INSERT INTO erased_sources (source, erasure, "
	                      "offset) SELECT id, ?1, offset FROM sources "
	                      "WHERE kind = 0 AND retracted = 0 AND offset > 0",
	                      "recording an erasure")))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? EVC_OK
	                         : db_fail(db, err, rc, "recording an erasure");
}

static int sqlite_erasures(evc_db *db, int64_t source, evc_erasure_fn fn,
                           void *payload, evc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, frc = EVC_OK;

	if (db->version < 3)
		return EVC_OK;
	if ((rc = prepare_once(db, err, &st,
	                       "SELECT e.kind, e.key, e.at, s.offset FROM "
	                       "erased_sources s JOIN erasures e ON e.id = "
	                       "s.erasure WHERE s.source = ?1 ORDER BY e.id",
	                       "reading erasures")))
		return rc;
	sqlite3_bind_int64(st, 1, source);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const evc_erasure e = {
		    .kind = (evc_erasure_kind)sqlite3_column_int64(st, 0),
		    .key = (uint64_t)sqlite3_column_int64(st, 1),
		    .at = sqlite3_column_int64(st, 2),
		    .offset = (uint64_t)sqlite3_column_int64(st, 3),
		};
		if ((frc = fn(&e, payload)))
			break;
	}
	return end_visit(db, err, st, false, rc, frc, "reading erasures");
}

static int sqlite_reclaim(evc_db *db, evc_error *err)
{
	int rc;

	/* VACUUM rewrites the store into its pages in use; the checkpoint
	 * then moves them into the file and truncates it and the log. */
	if ((rc = exec(db, err, "VACUUM", "giving space back")))
		return rc;
	return exec(db, err, "PRAGMA wal_checkpoint(TRUNCATE)",
	            "giving space back");
}

static int sqlite_note_ingest(evc_db *db, int64_t now, evc_error *err)
{
	int rc;

	if ((rc = prepare(db, err, &db->note,
	                  "INSERT INTO meta (key, value) VALUES "
	                  "('last_ingest', ?1) ON CONFLICT (key) DO UPDATE "
	                  "SET value = max(value, excluded.value)")))
		return rc;
	sqlite3_bind_int64(db->note, 1, now);
	return step_done(db, err, db->note, "noting the ingest");
}

/* Step `st` and hand each row's (hour, total[, blob]) in columns 0-2 to
 * fn; the statement is reset (persistent) or finalized (one-off). */
static int visit_hours(evc_db *db, evc_error *err, sqlite3_stmt *st,
                       evc_minutes_read minutes, bool persistent,
                       evc_hour_fn fn, void *payload)
{
	int rc, frc = EVC_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const int64_t hour = sqlite3_column_int64(st, 0);
		const uint64_t total = (uint64_t)sqlite3_column_int64(st, 1);
		const uint8_t *blob = NULL;
		size_t len = 0;
		if (minutes == EVC_WITH_MINUTES) {
			blob = sqlite3_column_blob(st, 2);
			len = (size_t)sqlite3_column_bytes(st, 2);
		}
		frc = fn(hour, total, blob, len, payload);
		if (frc == EVC_WANT_MINUTES &&
		    minutes == EVC_MINUTES_ON_DEMAND) {
			/* The column is already there: only fetching it costs,
			 * and only the rows asked for pay. */
			blob = sqlite3_column_blob(st, 2);
			len = (size_t)sqlite3_column_bytes(st, 2);
			frc = fn(hour, total, blob ? blob : (const uint8_t *)"",
			         len, payload);
		}
		if (frc != EVC_OK)
			break;
	}
	return end_visit(db, err, st, persistent, rc, frc, "reading counts");
}

static int sqlite_hours(evc_db *db, int64_t customer, int64_t hour_lo,
                        int64_t hour_hi, evc_minutes_read minutes,
                        evc_hour_fn fn, void *payload, evc_error *err)
{
	const bool with = minutes != EVC_TOTALS_ONLY;
	sqlite3_stmt **stp = with ? &db->hours : &db->hour_totals;
	int rc;

	/* Whole hours need only the totals: leaving the minute blobs
	 * unread is a good part of a long range's cost. */
	if ((rc = prepare(db, err, stp,
	                  with ? "SELECT hour, total, minutes FROM "
	                         "hour_counts WHERE customer = ?1 AND "
	                         "hour BETWEEN ?2 AND ?3 ORDER BY hour"
	                       : "SELECT hour, total FROM hour_counts "
	                         "WHERE customer = ?1 AND hour BETWEEN ?2 "
	                         "AND ?3 ORDER BY hour")))
		return rc;
	sqlite3_stmt *st = *stp;
	sqlite3_bind_int64(st, 1, customer);
	sqlite3_bind_int64(st, 2, hour_lo);
	sqlite3_bind_int64(st, 3, hour_hi);
	return visit_hours(db, err, st, minutes, true, fn, payload);
}

static bool sqlite_has_days(evc_db *db)
{
	return db->has_days;
}

static int sqlite_day_totals(evc_db *db, int64_t customer, int64_t day_lo,
                             int64_t day_hi, evc_day_fn fn, void *payload,
                             evc_error *err)
{
	int rc, frc = EVC_OK;

	if ((rc = prepare(db, err, &db->days,
	                  "SELECT day, total FROM day_counts WHERE customer = "
	                  "?1 AND day BETWEEN ?2 AND ?3 ORDER BY day")))
		return rc;
	sqlite3_stmt *st = db->days;
	sqlite3_bind_int64(st, 1, customer);
	sqlite3_bind_int64(st, 2, day_lo);
	sqlite3_bind_int64(st, 3, day_hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((frc = fn(sqlite3_column_int64(st, 0),
		              (uint64_t)sqlite3_column_int64(st, 1), payload)))
			break;
	return end_visit(db, err, st, true, rc, frc, "reading day totals");
}

static int sqlite_scan_days(evc_db *db, evc_day_row_fn fn, void *payload,
                            evc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare_once(db, err, &st,
	                      "SELECT customer, day, total FROM day_counts "
	                      "ORDER BY customer, day",
	                      "reading day totals");
	int frc = EVC_OK;

	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((frc = fn(sqlite3_column_int64(st, 0),
		              sqlite3_column_int64(st, 1),
		              (uint64_t)sqlite3_column_int64(st, 2), payload)))
			break;
	return end_visit(db, err, st, false, rc, frc, "reading day totals");
}

static int sqlite_customer_names(evc_db *db, evc_name_fn fn, void *payload,
                                 evc_error *err)
{
	int rc, frc = EVC_OK;

	if ((rc = prepare(db, err, &db->names,
	                  "SELECT id, name FROM customers ORDER BY name")))
		return rc;
	sqlite3_stmt *st = db->names;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		if (!name) {
			rc = sqlite3_column_type(st, 1) == SQLITE_NULL
			         ? SQLITE_CORRUPT
			         : SQLITE_NOMEM;
			break;
		}
		if ((frc = fn(sqlite3_column_int64(st, 0), name, payload)))
			break;
	}
	return end_visit(db, err, st, true, rc, frc, "reading customers");
}

static int sqlite_edge_hours(evc_db *db, bool latest, evc_hour_fn fn,
                             void *payload, evc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare_once(
	    db, err, &st,
	    latest ? "SELECT hour, total, minutes FROM hour_counts WHERE "
	             "hour = (SELECT max(hour) FROM hour_counts)"
	           : "SELECT hour, total, minutes FROM hour_counts WHERE "
	             "hour = (SELECT min(hour) FROM hour_counts)",
	    "reading counts");
	return rc ? rc
	          : visit_hours(db, err, st, EVC_WITH_MINUTES, false, fn,
	                        payload);
}

/* Step a statement of (customer, name, hour, total, minutes) rows and
 * hand each to fn. */
static int visit_scanned(evc_db *db, evc_error *err, sqlite3_stmt *st,
                         evc_scan_fn fn, void *payload)
{
	int rc, frc = EVC_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const evc_scanned_hour h = {
		    .customer = sqlite3_column_int64(st, 0),
		    .name = (const char *)sqlite3_column_text(st, 1),
		    .hour = sqlite3_column_int64(st, 2),
		    .total = (uint64_t)sqlite3_column_int64(st, 3),
		    .blob = sqlite3_column_blob(st, 4),
		    .blob_len = (size_t)sqlite3_column_bytes(st, 4),
		};
		if (!h.name && sqlite3_column_type(st, 1) != SQLITE_NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		if ((frc = fn(&h, payload)) != EVC_OK)
			break;
	}
	return end_visit(db, err, st, false, rc, frc, "reading counts");
}

static int sqlite_scan_hours(evc_db *db, bool by_name, evc_scan_fn fn,
                             void *payload, evc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!by_name) {
		/* The table's own order: one pass, a rowid lookup per row. */
		rc = prepare_once(db, err, &st,
		                  "SELECT h.customer, c.name, h.hour, h.total, "
		                  "h.minutes FROM hour_counts h LEFT JOIN "
		                  "customers c ON c.id = h.customer ORDER BY "
		                  "h.customer, h.hour",
		                  "reading counts");
		return rc ? rc : visit_scanned(db, err, st, fn, payload);
	}
	/* By name: the customers' name index drives, each customer's hours
	 * are one range of the primary key, and nothing is sorted. Rows of a
	 * customer id that no customer has are not reached that way: one
	 * more pass finds the first, if any. */
	rc = prepare_once(db, err, &st,
	                  "SELECT c.id, c.name, h.hour, h.total, h.minutes "
	                  "FROM customers c JOIN hour_counts h ON h.customer "
	                  "= c.id ORDER BY c.name, h.hour",
	                  "reading counts");
	if (rc || (rc = visit_scanned(db, err, st, fn, payload)))
		return rc;
	rc = prepare_once(db, err, &st,
	                  "SELECT h.customer, NULL, h.hour, h.total, h.minutes "
	                  "FROM hour_counts h WHERE NOT EXISTS (SELECT 1 FROM "
	                  "customers c WHERE c.id = h.customer) LIMIT 1",
	                  "reading counts");
	return rc ? rc : visit_scanned(db, err, st, fn, payload);
}

struct problems {
	int (*fn)(const char *, void *);
	void *payload;
};

static int add_problem(void *payload, int argc, char **argv, char **cols)
{
	struct problems *p = payload;
	(void)cols;
	if (argc < 1 || !argv[0] || strcmp(argv[0], "ok") == 0)
		return 0;
	return p->fn(argv[0], p->payload) ? 1 : 0;
}

static int sqlite_integrity(evc_db *db, int (*fn)(const char *, void *),
                            void *payload, evc_error *err)
{
	struct problems p = {fn, payload};
	int rc = sqlite3_exec(db->db, "PRAGMA integrity_check", add_problem, &p,
	                      NULL);
	if (rc == SQLITE_ABORT)
		return EVC_EABORTED;
	return rc == SQLITE_OK ? EVC_OK
	                       : db_fail(db, err, rc, "checking integrity");
}

static int sqlite_customers(evc_db *db, evc_customer_row_fn fn, void *payload,
                            evc_error *err)
{
	/* One pass over hour_counts for the totals and the first and last
	 * hours, then a primary-key lookup of each of those two rows, whose
	 * blobs the caller decodes. A customer without counts (none is ever
	 * stored, but the schema allows it) comes out without hours. */
	sqlite3_stmt *st = NULL;
	int rc =
	    prepare_once(db, err, &st,
	                 "SELECT c.name, t.total, lo.hour, lo.minutes, hi.hour,"
	                 " hi.minutes FROM customers c"
	                 " LEFT JOIN (SELECT customer, sum(total) AS total,"
	                 "  min(hour) AS lo, max(hour) AS hi FROM hour_counts"
	                 "  GROUP BY customer) t ON t.customer = c.id"
	                 " LEFT JOIN hour_counts lo"
	                 "  ON lo.customer = c.id AND lo.hour = t.lo"
	                 " LEFT JOIN hour_counts hi"
	                 "  ON hi.customer = c.id AND hi.hour = t.hi"
	                 " ORDER BY c.name",
	                 "reading customers");
	if (rc)
		return rc;
	int frc = EVC_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		evc_customer_row c = {0};
		c.name = (const char *)sqlite3_column_text(st, 0);
		if (!c.name) {
			rc = SQLITE_NOMEM;
			break;
		}
		c.total = (uint64_t)sqlite3_column_int64(st, 1);
		c.has_hours = sqlite3_column_type(st, 2) != SQLITE_NULL;
		if (c.has_hours) {
			c.first_hour = sqlite3_column_int64(st, 2);
			c.first_blob = sqlite3_column_blob(st, 3);
			c.first_len = (size_t)sqlite3_column_bytes(st, 3);
			c.last_hour = sqlite3_column_int64(st, 4);
			c.last_blob = sqlite3_column_blob(st, 5);
			c.last_len = (size_t)sqlite3_column_bytes(st, 5);
		}
		if ((frc = fn(&c, payload)) != EVC_OK)
			break;
	}
	return end_visit(db, err, st, false, rc, frc, "reading customers");
}

static int sqlite_totals(evc_db *db, evc_store_totals *out, evc_error *err)
{
	sqlite3_stmt *st = NULL;
	/* Retracted sources are history: neither counted nor rejected. */
	int rc = prepare_once(
	    db, err, &st,
	    db->version >= 3
	        ? "SELECT (SELECT count(*) FROM customers),"
	          " (SELECT count(*) FROM sources WHERE retracted = 0),"
	          " (SELECT coalesce(sum(total), 0) FROM hour_counts),"
	          " (SELECT coalesce(sum(rows_rejected), 0) FROM sources"
	          "  WHERE retracted = 0),"
	          /* The file's size once its write-ahead log is
	           * checkpointed. */
	          " (SELECT page_count FROM pragma_page_count)"
	          "  * (SELECT page_size FROM pragma_page_size),"
	          " (SELECT coalesce(max(value), 0) FROM meta"
	          "  WHERE key = 'last_ingest')"
	        : "SELECT (SELECT count(*) FROM customers),"
	          " (SELECT count(*) FROM sources),"
	          " (SELECT coalesce(sum(total), 0) FROM hour_counts),"
	          " (SELECT coalesce(sum(rows_rejected), 0) FROM sources),"
	          " (SELECT page_count FROM pragma_page_count)"
	          "  * (SELECT page_size FROM pragma_page_size),"
	          " (SELECT coalesce(max(last_ingest), 0) FROM sources)",
	    "reading the store");
	if (rc)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->customers = (uint64_t)sqlite3_column_int64(st, 0);
		out->sources = (uint64_t)sqlite3_column_int64(st, 1);
		out->rows_counted = (uint64_t)sqlite3_column_int64(st, 2);
		out->rows_rejected = (uint64_t)sqlite3_column_int64(st, 3);
		out->size = (uint64_t)sqlite3_column_int64(st, 4);
		out->last_ingest = sqlite3_column_int64(st, 5);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? EVC_OK
	                       : db_fail(db, err, rc, "reading the store");
}

static int sqlite_last_ingest(evc_db *db, int64_t *out, evc_error *err)
{
	int rc = prepare(db, err, &db->last_ingest,
	                 db->version >= 3
	                     ? "SELECT coalesce(max(value), 0) FROM meta"
	                       " WHERE key = 'last_ingest'"
	                     : "SELECT coalesce(max(last_ingest), 0) FROM "
	                       "sources");
	if (rc)
		return rc;
	rc = sqlite3_step(db->last_ingest);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(db->last_ingest, 0);
	sqlite3_reset(db->last_ingest);
	return rc == SQLITE_ROW ? EVC_OK
	                        : db_fail(db, err, rc, "reading the store");
}

/* ---- sources ------------------------------------------------------------- */

#define SOURCE_COLUMNS                                                         \
	"path, realpath, dev, ino, size, mtime_ns, head_len, head_hash, "      \
	"offset, prefix_hash, next_line, rows_counted, rows_rejected, "        \
	"rows_warned, first_ingest, last_ingest, kind, counted_from, "         \
	"retracted"
/* What a store of schema 1 or 2, read as it is, has of them. */
#define SOURCE_COLUMNS_V2                                                      \
	"path, realpath, dev, ino, size, mtime_ns, head_len, head_hash, "      \
	"offset, prefix_hash, next_line, rows_counted, rows_rejected, "        \
	"rows_warned, first_ingest, last_ingest, 0, -1, 0"

static int sqlite_sources(evc_db *db, bool newest_first, evc_source_row_fn fn,
                          void *payload, evc_error *err)
{
	sqlite3_stmt *st = NULL;
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT id, %s FROM sources ORDER BY id%s",
	         db->version >= 3 ? SOURCE_COLUMNS : SOURCE_COLUMNS_V2,
	         newest_first ? " DESC" : "");
	int rc = prepare_once(db, err, &st, sql, "reading sources");
	if (rc)
		return rc;
	int frc = EVC_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		evc_source_row r;
		int c = 0;
		r.id = sqlite3_column_int64(st, c++);
		r.path = (const char *)sqlite3_column_text(st, c++);
		r.realpath = (const char *)sqlite3_column_text(st, c++);
		r.dev = (uint64_t)sqlite3_column_int64(st, c++);
		r.ino = (uint64_t)sqlite3_column_int64(st, c++);
		r.size = (uint64_t)sqlite3_column_int64(st, c++);
		r.mtime_ns = sqlite3_column_int64(st, c++);
		r.head_len = (uint64_t)sqlite3_column_int64(st, c++);
		r.head_hash = (uint64_t)sqlite3_column_int64(st, c++);
		r.offset = (uint64_t)sqlite3_column_int64(st, c++);
		r.prefix_hash = (uint64_t)sqlite3_column_int64(st, c++);
		r.next_line = (uint64_t)sqlite3_column_int64(st, c++);
		r.rows_counted = (uint64_t)sqlite3_column_int64(st, c++);
		r.rows_rejected = (uint64_t)sqlite3_column_int64(st, c++);
		r.rows_warned = (uint64_t)sqlite3_column_int64(st, c++);
		r.first_ingest = sqlite3_column_int64(st, c++);
		r.last_ingest = sqlite3_column_int64(st, c++);
		r.kind = (evc_source_kind)sqlite3_column_int64(st, c++);
		r.counted_from = sqlite3_column_int64(st, c++);
		r.retracted = sqlite3_column_int64(st, c++);
		if (!r.path || !r.realpath) {
			rc = SQLITE_NOMEM;
			break;
		}
		if ((frc = fn(&r, payload)) != EVC_OK)
			break;
	}
	return end_visit(db, err, st, false, rc, frc, "reading sources");
}

/* Bind every column of SOURCE_COLUMNS from ?1 on. */
static void bind_source(sqlite3_stmt *st, const evc_source_row *r)
{
	int c = 1;
	sqlite3_bind_text(st, c++, r->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c++, r->realpath, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->dev);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->ino);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->size);
	sqlite3_bind_int64(st, c++, r->mtime_ns);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->head_len);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->head_hash);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->offset);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->prefix_hash);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->next_line);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->rows_counted);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->rows_rejected);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->rows_warned);
	sqlite3_bind_int64(st, c++, r->first_ingest);
	sqlite3_bind_int64(st, c++, r->last_ingest);
	sqlite3_bind_int64(st, c++, (sqlite3_int64)r->kind);
	sqlite3_bind_int64(st, c++, r->counted_from);
	sqlite3_bind_int64(st, c++, r->retracted);
}

static int sqlite_source_insert(evc_db *db, evc_source_row *row, evc_error *err)
{
	int rc;

	if ((rc = prepare(db, err, &db->src_insert,
	                  "INSERT INTO sources (" SOURCE_COLUMNS
	                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	                  "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	                  "?19)")))
		return rc;
	bind_source(db->src_insert, row);
	if ((rc = step_done(db, err, db->src_insert, "adding a source")))
		return rc;
	row->id = sqlite3_last_insert_rowid(db->db);
	return EVC_OK;
}

static int sqlite_source_update(evc_db *db, const evc_source_row *row,
                                evc_error *err)
{
	int rc;

	if ((rc = prepare(db, err, &db->src_update,
	                  "UPDATE sources SET path = ?1, realpath = ?2, "
	                  "dev = ?3, ino = ?4, size = ?5, mtime_ns = ?6, "
	                  "head_len = ?7, head_hash = ?8, offset = ?9, "
	                  "prefix_hash = ?10, next_line = ?11, "
	                  "rows_counted = ?12, rows_rejected = ?13, "
	                  "rows_warned = ?14, first_ingest = ?15, "
	                  "last_ingest = ?16, kind = ?17, counted_from = ?18, "
	                  "retracted = ?19 WHERE id = ?20")))
		return rc;
	bind_source(db->src_update, row);
	sqlite3_bind_int64(db->src_update, 20, row->id);
	return step_done(db, err, db->src_update, "updating a source");
}

const evc_backend evc__sqlite_backend = {
    .version = EVC_BACKEND_VERSION,
    .name = "SQLite",
    .set_rows = SET_ROWS,
    .set_bytes = SET_BYTES,
    .handles = sqlite_handles,
    .open = sqlite_open,
    .close = sqlite_close,
    .begin_write = sqlite_begin_write,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .begin_read = sqlite_begin_read,
    .end_read = sqlite_end_read,
    .customer = sqlite_customer,
    .customer_count = sqlite_customer_count,
    .add_hours = sqlite_add_hours,
    .subtract_hours = sqlite_subtract_hours,
    .forget = sqlite_forget,
    .prune = sqlite_prune,
    .erasure_add = sqlite_erasure_add,
    .erasures = sqlite_erasures,
    .reclaim = sqlite_reclaim,
    .note_ingest = sqlite_note_ingest,
    .hours = sqlite_hours,
    .has_days = sqlite_has_days,
    .day_totals = sqlite_day_totals,
    .scan_days = sqlite_scan_days,
    .customer_names = sqlite_customer_names,
    .scan_hours = sqlite_scan_hours,
    .customers = sqlite_customers,
    .edge_hours = sqlite_edge_hours,
    .totals = sqlite_totals,
    .last_ingest = sqlite_last_ingest,
    .integrity = sqlite_integrity,
    .sources = sqlite_sources,
    .source_insert = sqlite_source_insert,
    .source_update = sqlite_source_update,
};

EVC_EXPORT const char *evc_sqlite_version(void)
{
	return sqlite3_libversion();
}

/* ---- test hook ----------------------------------------------------------- */

/* SQLite's allocations, sharing the library's failure count. */
static void *x_malloc(int n)
{
	return evc__alloc_fails() ? NULL : malloc((size_t)n);
}

static void x_free(void *p)
{
	free(p);
}

static void *x_realloc(void *p, int n)
{
	return evc__alloc_fails() ? NULL : realloc(p, (size_t)n);
}

static int x_size(void *p)
{
	return (int)malloc_usable_size(p);
}

static int x_roundup(int n)
{
	return (n + 7) & ~7;
}

static int x_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

static void x_shutdown(void *arg)
{
	(void)arg;
}

int evc__alloc_hook_backends(void)
{
	static const sqlite3_mem_methods mem = {
	    x_malloc,  x_free, x_realloc,  x_size,
	    x_roundup, x_init, x_shutdown, NULL,
	};
	/* SQLite takes an allocator only while it is not initialised; with
	 * no connection open, shutting it down first is harmless. */
	sqlite3_shutdown();
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK)
		return EVC_EDB;
	return sqlite3_initialize() == SQLITE_OK ? EVC_OK : EVC_EDB;
}
