/* SPDX-License-Identifier: MIT */
/*
 * Storage: the SQLite schema and every SQL statement of the library.
 *
 * Layout: customers are interned to integers; each (customer, hour) with
 * events is one row of a WITHOUT ROWID table keyed by (customer, hour)
 * holding the hour's total and its packed minute counts (minutes.c), so a
 * customer's time range is one primary-key range scan, whole hours are read
 * without decoding, and there are about 7x fewer rows than one per minute.
 * Keeping all SQL here leaves one module to write for another backend.
 */
#include "evc-int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 'EVC1' in the SQLite header's application_id field. */
#define EVC_APPLICATION_ID 0x45564331
#define EVC_SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000

struct evc_db {
	sqlite3 *db;
	const char *path; /* owned by the store */
	sqlite3_stmt *cust_get, *cust_add, *add_hours, *hours, *hour_totals;
	sqlite3_stmt *src_offset, *src_insert, *src_update;
};

static const char schema_sql[] =
	"CREATE TABLE customers ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE hour_counts ("
	" customer INTEGER NOT NULL,"
	" hour INTEGER NOT NULL," /* epoch hours */
	" total INTEGER NOT NULL,"
	" minutes BLOB NOT NULL,"
	" PRIMARY KEY (customer, hour)) WITHOUT ROWID;"
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
	" last_ingest INTEGER NOT NULL);";

/* Map SQLite's result to a status, with the store's message. */
static int db_fail(evc_store *store, evc_db *db, int rc, const char *what)
{
	const char *msg = db && db->db ? sqlite3_errmsg(db->db)
				       : sqlite3_errstr(rc);
	const char *path = db ? db->path : "?";
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return evc__fail(store, EVC_EBUSY,
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
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_PERM:
		code = EVC_EIO;
		break;
	default:
		code = EVC_EDB;
		break;
	}
	return evc__fail(store, code, "%s: %s: %s", path, what, msg);
}

static int exec(evc_store *store, evc_db *db, const char *sql,
		const char *what)
{
	int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? EVC_OK : db_fail(store, db, rc, what);
}

static int prepare(evc_store *store, evc_db *db, sqlite3_stmt **st,
		   const char *sql)
{
	if (*st)
		return EVC_OK;
	int rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    st, NULL);
	return rc == SQLITE_OK ? EVC_OK : db_fail(store, db, rc, "prepare");
}

/* The header facts that tell what a file is, read in one statement so they
 * come from one snapshot: read one by one, a store being created by another
 * process meanwhile would look like a foreign database. */
static int read_header(evc_store *store, evc_db *db, int64_t *app_id,
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
			       : db_fail(store, db, rc, "reading the header");
}

/* SQL function evc_merge_minutes(old, new): the sum of two packed hours,
 * so an upsert adds to what is stored instead of overwriting it. */
static void merge_minutes(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint8_t out[EVC_MINUTES_BLOB_MAX];
	size_t len;

	(void)argc;
	if (!evc__minutes_merge(sqlite3_value_blob(argv[0]),
				(size_t)sqlite3_value_bytes(argv[0]),
				sqlite3_value_blob(argv[1]),
				(size_t)sqlite3_value_bytes(argv[1]), out,
				&len)) {
		sqlite3_result_error(ctx, "corrupt minute counts in the store",
				     -1);
		return;
	}
	sqlite3_result_blob(ctx, out, (int)len, SQLITE_TRANSIENT);
}

/* Table-valued function evc_hour_rows(set): the rows of an evc_hour_set,
 * passed by pointer, so that one INSERT ... SELECT adds a whole set. The
 * pointer type tag keeps SQL text from passing anything else. */
#define HOUR_SET_TYPE "evc_hour_set"

enum { COL_CUSTOMER, COL_HOUR, COL_TOTAL, COL_MINUTES, COL_SET };

struct hour_rows_cursor {
	sqlite3_vtab_cursor base;
	const evc_hour_set *set;
	size_t i;
};

static int hour_rows_connect(sqlite3 *db, void *aux, int argc,
                             const char *const *argv, sqlite3_vtab **out,
                             char **err)
{
	(void)aux;
	(void)argc;
	(void)argv;
	(void)err;
	int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(customer, hour, "
	                                  "total, minutes, set_ HIDDEN)");
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_vtab *vtab = sqlite3_malloc(sizeof(*vtab));
	if (!vtab)
		return SQLITE_NOMEM;
	memset(vtab, 0, sizeof(*vtab));
	*out = vtab;
	return SQLITE_OK;
}

static int hour_rows_disconnect(sqlite3_vtab *vtab)
{
	sqlite3_free(vtab);
	return SQLITE_OK;
}

/* The only plan: the set argument given, by equality. */
static int hour_rows_best_index(sqlite3_vtab *vtab, sqlite3_index_info *info)
{
	(void)vtab;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c =
		    &info->aConstraint[i];
		if (c->iColumn != COL_SET ||
		    c->op != SQLITE_INDEX_CONSTRAINT_EQ)
			continue;
		if (!c->usable)
			return SQLITE_CONSTRAINT;
		info->aConstraintUsage[i].argvIndex = 1;
		info->aConstraintUsage[i].omit = 1;
		info->estimatedCost = 1;
		return SQLITE_OK;
	}
	return SQLITE_CONSTRAINT;
}

static int hour_rows_open(sqlite3_vtab *vtab, sqlite3_vtab_cursor **out)
{
	(void)vtab;
	struct hour_rows_cursor *cur = sqlite3_malloc(sizeof(*cur));
	if (!cur)
		return SQLITE_NOMEM;
	memset(cur, 0, sizeof(*cur));
	*out = &cur->base;
	return SQLITE_OK;
}

static int hour_rows_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static int hour_rows_filter(sqlite3_vtab_cursor *base, int idx_num,
                            const char *idx_str, int argc, sqlite3_value **argv)
{
	struct hour_rows_cursor *cur = (struct hour_rows_cursor *)base;
	(void)idx_num;
	(void)idx_str;
	/* NULL unless bound by evc__db_add_hours: then no rows. */
	cur->set =
	    argc == 1 ? sqlite3_value_pointer(argv[0], HOUR_SET_TYPE) : NULL;
	cur->i = 0;
	return SQLITE_OK;
}

static int hour_rows_next(sqlite3_vtab_cursor *base)
{
	((struct hour_rows_cursor *)base)->i++;
	return SQLITE_OK;
}

static int hour_rows_eof(sqlite3_vtab_cursor *base)
{
	const struct hour_rows_cursor *cur = (struct hour_rows_cursor *)base;
	return !cur->set || cur->i >= cur->set->n;
}

static int hour_rows_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx,
                            int col)
{
	const struct hour_rows_cursor *cur = (struct hour_rows_cursor *)base;
	const evc_hour_row *r = &cur->set->row[cur->i];

	switch (col) {
	case COL_CUSTOMER:
		sqlite3_result_int64(ctx, r->customer);
		break;
	case COL_HOUR:
		sqlite3_result_int64(ctx, r->hour);
		break;
	case COL_TOTAL:
		sqlite3_result_int64(ctx, (sqlite3_int64)r->total);
		break;
	case COL_MINUTES:
		sqlite3_result_blob(ctx, cur->set->blobs + r->blob_off,
		                    (int)r->blob_len, SQLITE_STATIC);
		break;
	default:
		sqlite3_result_null(ctx);
		break;
	}
	return SQLITE_OK;
}

static int hour_rows_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct hour_rows_cursor *)base)->i;
	return SQLITE_OK;
}

/* No xCreate: an eponymous-only table, never in a store's schema. */
static const sqlite3_module hour_rows_module = {
    .xConnect = hour_rows_connect,
    .xBestIndex = hour_rows_best_index,
    .xDisconnect = hour_rows_disconnect,
    .xOpen = hour_rows_open,
    .xClose = hour_rows_close,
    .xFilter = hour_rows_filter,
    .xNext = hour_rows_next,
    .xEof = hour_rows_eof,
    .xColumn = hour_rows_column,
    .xRowid = hour_rows_rowid,
};

/* Read the header and decide what the file is, before anything writes. */
static int check_or_create(evc_store *store, evc_db *db, unsigned flags)
{
	int64_t app_id, version, n_objects;
	int rc;

	if ((rc = read_header(store, db, &app_id, &version, &n_objects))) {
		if (rc == EVC_ENOTSTORE || rc == EVC_EDB)
			return evc__fail(store, EVC_ENOTSTORE,
					 "%s: not an evcount store (not a "
					 "database)",
					 db->path);
		return rc;
	}
	if (app_id == EVC_APPLICATION_ID) {
		if (version > EVC_SCHEMA_VERSION)
			return evc__fail(store, EVC_ESCHEMA,
					 "%s: store has schema version %lld, "
					 "this evcount reads up to %d; "
					 "upgrade evcount",
					 db->path, (long long)version,
					 EVC_SCHEMA_VERSION);
		if (version < 1)
			return evc__fail(store, EVC_ENOTSTORE,
					 "%s: not an evcount store (schema "
					 "version %lld)",
					 db->path, (long long)version);
		return EVC_OK;
	}
	if (app_id != 0 || n_objects != 0)
		return evc__fail(store, EVC_ENOTSTORE,
				 "%s: not an evcount store (another SQLite "
				 "database)",
				 db->path);
	if (!(flags & EVC_OPEN_CREATE) || !(flags & EVC_OPEN_READWRITE))
		return evc__fail(store, EVC_ENOTSTORE,
				 "%s: not an evcount store (empty file)",
				 db->path);

	/* 16 KiB pages, not SQLite's 4 KiB: an ingest's upserts land all
	 * over the table, and with fewer, larger pages each costs less (the
	 * writer thread's CPU for 10M rows: -11%); queries are unchanged.
	 * Only an empty file takes it; an existing store keeps its size.
	 * Another process may be creating it too: decide again under the
	 * write lock. */
	if ((rc = exec(store, db, "PRAGMA page_size = 16384",
		       "creating the store")) ||
	    (rc = exec(store, db, "BEGIN IMMEDIATE", "creating the store")))
		return rc;
	if ((rc = read_header(store, db, &app_id, &version, &n_objects)))
		goto fail;
	if (app_id == 0 && n_objects == 0) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "PRAGMA application_id = %d; PRAGMA user_version = "
			 "%d;",
			 EVC_APPLICATION_ID, EVC_SCHEMA_VERSION);
		if ((rc = exec(store, db, schema_sql, "creating the schema")) ||
		    (rc = exec(store, db, sql, "creating the schema")))
			goto fail;
	}
	if ((rc = exec(store, db, "COMMIT", "creating the store")))
		goto fail;
	/* Whoever created it, it must now be a store. */
	return check_or_create(store, db, flags & ~EVC_OPEN_CREATE);
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

int evc__db_open(evc_store *store, evc_db **out, const char *path,
		 unsigned flags)
{
	const bool memory = strcmp(path, ":memory:") == 0;
	struct stat st;
	int rc;

	if (!memory) {
		if (stat(path, &st) != 0) {
			if (errno != ENOENT)
				return evc__fail(store, EVC_EIO, "%s: %s",
						 path, strerror(errno));
			if (!(flags & EVC_OPEN_CREATE))
				return evc__fail(store, EVC_ENOTFOUND,
						 "%s: no such store", path);
		} else if (S_ISDIR(st.st_mode)) {
			return evc__fail(store, EVC_EIO,
					 "%s: is a directory, not a store",
					 path);
		}
		/* SQLite writes -wal and -shm beside the store: say so now
		 * rather than fail halfway or depend on leftovers. */
		if ((flags & EVC_OPEN_READWRITE) && !dir_writable(path))
			return evc__fail(store, EVC_EREADONLY,
					 "%s: the store's directory is not "
					 "writable",
					 path);
	}

	evc_db *db = evc__calloc(1, sizeof(*db));
	if (!db)
		return evc__fail(store, EVC_ENOMEM, "%s: out of memory", path);
	db->path = store->path;

	int sflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	if (flags & EVC_OPEN_READWRITE)
		sflags |= SQLITE_OPEN_READWRITE |
			  (flags & EVC_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
	else
		sflags |= SQLITE_OPEN_READONLY;
	rc = sqlite3_open_v2(path, &db->db, sflags, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(store, db, rc, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
	if ((rc = check_or_create(store, db, flags)))
		goto fail;
	if (flags & EVC_OPEN_READWRITE) {
		/* WAL: readers are never blocked by an ingest. */
		if ((rc = exec(store, db,
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
	rc = sqlite3_create_function(db->db, "evc_merge_minutes", 2,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				     merge_minutes, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_module(db->db, "evc_hour_rows",
		                           &hour_rows_module, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(store, db, rc, "registering functions");
		goto fail;
	}
	*out = db;
	return EVC_OK;
fail:
	evc__db_close(db);
	return rc;
}

void evc__db_close(evc_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->cust_get);
	sqlite3_finalize(db->cust_add);
	sqlite3_finalize(db->add_hours);
	sqlite3_finalize(db->hours);
	sqlite3_finalize(db->hour_totals);
	sqlite3_finalize(db->src_offset);
	sqlite3_finalize(db->src_insert);
	sqlite3_finalize(db->src_update);
	sqlite3_close_v2(db->db);
	free(db);
}

int evc__db_begin(evc_store *store, evc_db *db)
{
	return exec(store, db, "BEGIN IMMEDIATE", "starting a transaction");
}

int evc__db_commit(evc_store *store, evc_db *db)
{
	return exec(store, db, "COMMIT", "committing");
}

void evc__db_rollback(evc_db *db)
{
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Step a statement that returns nothing, then reset it for reuse. */
static int step_done(evc_store *store, evc_db *db, sqlite3_stmt *st,
		     const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? EVC_OK : db_fail(store, db, rc, what);
}

int evc__db_customer(evc_store *store, evc_db *db, const char *name,
		     size_t len, bool create, int64_t *id)
{
	int rc;

	if ((rc = prepare(store, db, &db->cust_get,
			  "SELECT id FROM customers WHERE name = ?1")))
		return rc;
	sqlite3_bind_text(db->cust_get, 1, name, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(db->cust_get);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(db->cust_get, 0) : 0;
	sqlite3_reset(db->cust_get);
	sqlite3_clear_bindings(db->cust_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(store, db, rc, "looking up a customer");
	if (*id != 0 || !create)
		return EVC_OK;

	if ((rc = prepare(store, db, &db->cust_add,
			  "INSERT INTO customers (name) VALUES (?1)")))
		return rc;
	sqlite3_bind_text(db->cust_add, 1, name, (int)len, SQLITE_STATIC);
	if ((rc = step_done(store, db, db->cust_add, "adding a customer")))
		return rc;
	*id = sqlite3_last_insert_rowid(db->db);
	return EVC_OK;
}

int evc__db_add_hours(evc_store *store, evc_db *db, const evc_hour_set *set)
{
	int rc;

	if (set->n == 0)
		return EVC_OK;
	/* "WHERE true" tells the parser that ON CONFLICT belongs to the
	 * INSERT, not to a join in the SELECT. */
	if ((rc = prepare(store, db, &db->add_hours,
	                  "INSERT INTO hour_counts (customer, hour, total, "
	                  "minutes) SELECT customer, hour, total, minutes "
	                  "FROM evc_hour_rows(?1) WHERE true "
	                  "ON CONFLICT (customer, hour) DO UPDATE SET "
	                  "total = total + excluded.total, "
	                  "minutes = evc_merge_minutes(minutes, "
	                  "excluded.minutes)")))
		return rc;
	sqlite3_bind_pointer(db->add_hours, 1, (void *)set, HOUR_SET_TYPE,
	                     NULL);
	return step_done(store, db, db->add_hours, "writing counts");
}

int evc__db_hours(evc_store *store, evc_db *db, int64_t customer,
		  int64_t hour_lo, int64_t hour_hi, bool minutes,
		  evc_hour_fn fn, void *payload)
{
	sqlite3_stmt **stp = minutes ? &db->hours : &db->hour_totals;
	int rc;

	/* Whole hours need only the totals: leaving the minute blobs
	 * unread is a good part of a long range's cost. */
	if ((rc = prepare(store, db, stp,
			  minutes ? "SELECT hour, total, minutes FROM "
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
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *blob = NULL;
		size_t len = 0;
		if (minutes) {
			blob = sqlite3_column_blob(st, 2);
			len = (size_t)sqlite3_column_bytes(st, 2);
		}
		int frc = fn(sqlite3_column_int64(st, 0),
			     (uint64_t)sqlite3_column_int64(st, 1), blob, len,
			     payload);
		if (frc != EVC_OK) {
			sqlite3_reset(st);
			return frc;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(store, db, rc, "reading counts");
	return EVC_OK;
}

int evc__db_all_hours(evc_store *store, evc_db *db, evc_all_hours_fn fn,
		      void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
		db->db,
		"SELECT c.name, h.hour, h.minutes FROM hour_counts h "
		"JOIN customers c ON c.id = h.customer ORDER BY c.name, h.hour",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(store, db, rc, "reading counts");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const uint8_t *blob = sqlite3_column_blob(st, 2);
		const size_t len = (size_t)sqlite3_column_bytes(st, 2);
		if (!name) {
			rc = SQLITE_NOMEM;
			break;
		}
		int frc = fn(name, sqlite3_column_int64(st, 1), blob, len,
			     payload);
		if (frc != EVC_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? EVC_OK
				 : db_fail(store, db, rc, "reading counts");
}

int evc__db_customer_count(evc_store *store, evc_db *db, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->db, "SELECT count(*) FROM customers",
				    -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? EVC_OK
			       : db_fail(store, db, rc, "counting customers");
}

#define SOURCE_COLUMNS                                                         \
	"path, realpath, dev, ino, size, mtime_ns, head_len, head_hash, "      \
	"offset, prefix_hash, next_line, rows_counted, rows_rejected, "        \
	"rows_warned, first_ingest, last_ingest"

int evc__db_sources(evc_store *store, evc_db *db, bool newest_first,
		    evc_source_row_fn fn, void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
		db->db,
		newest_first
			? "SELECT id, " SOURCE_COLUMNS
			  " FROM sources ORDER BY id DESC"
			: "SELECT id, " SOURCE_COLUMNS " FROM sources ORDER BY id",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(store, db, rc, "reading sources");
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
		if (!r.path || !r.realpath) {
			rc = SQLITE_NOMEM;
			break;
		}
		int frc = fn(&r, payload);
		if (frc != EVC_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(store, db, rc, "reading sources");
	return EVC_OK;
}

int evc__db_source_offset(evc_store *store, evc_db *db, int64_t id,
			  uint64_t *offset)
{
	int rc;

	if ((rc = prepare(store, db, &db->src_offset,
			  "SELECT offset FROM sources WHERE id = ?1")))
		return rc;
	sqlite3_bind_int64(db->src_offset, 1, id);
	rc = sqlite3_step(db->src_offset);
	*offset = rc == SQLITE_ROW
			  ? (uint64_t)sqlite3_column_int64(db->src_offset, 0)
			  : UINT64_MAX;
	sqlite3_reset(db->src_offset);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(store, db, rc, "reading a source");
	return EVC_OK;
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
}

int evc__db_source_insert(evc_store *store, evc_db *db, evc_source_row *row)
{
	int rc;

	if ((rc = prepare(store, db, &db->src_insert,
			  "INSERT INTO sources (" SOURCE_COLUMNS
			  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
			  "?10, ?11, ?12, ?13, ?14, ?15, ?16)")))
		return rc;
	bind_source(db->src_insert, row);
	if ((rc = step_done(store, db, db->src_insert, "adding a source")))
		return rc;
	row->id = sqlite3_last_insert_rowid(db->db);
	return EVC_OK;
}

int evc__db_source_update(evc_store *store, evc_db *db,
			  const evc_source_row *row)
{
	int rc;

	if ((rc = prepare(store, db, &db->src_update,
			  "UPDATE sources SET path = ?1, realpath = ?2, "
			  "dev = ?3, ino = ?4, size = ?5, mtime_ns = ?6, "
			  "head_len = ?7, head_hash = ?8, offset = ?9, "
			  "prefix_hash = ?10, next_line = ?11, "
			  "rows_counted = ?12, rows_rejected = ?13, "
			  "rows_warned = ?14, first_ingest = ?15, "
			  "last_ingest = ?16 WHERE id = ?17")))
		return rc;
	bind_source(db->src_update, row);
	sqlite3_bind_int64(db->src_update, 17, row->id);
	return step_done(store, db, db->src_update, "updating a source");
}

EVC_EXPORT const char *evc_sqlite_version(void)
{
	return sqlite3_libversion();
}

/* ---- store contents, for evc_customers() and evc_store_info() ----------- */

/* The first and last minute with events of a packed hour, as epoch seconds;
 * false when the blob is malformed or empty (a stored hour never is). */
static bool blob_span(int64_t hour, const uint8_t *blob, size_t len,
                      int64_t *first, int64_t *last)
{
	uint64_t counts[60];
	int lo = -1, hi = -1;

	if (!evc__minutes_decode(blob, len, counts))
		return false;
	for (int m = 0; m < 60; m++) {
		if (counts[m] == 0)
			continue;
		if (lo < 0)
			lo = m;
		hi = m;
	}
	if (lo < 0)
		return false;
	*first = hour * 3600 + lo * 60;
	*last = hour * 3600 + hi * 60;
	return true;
}

int evc__db_customers(evc_store *store, evc_db *db, evc_customer_row_fn fn,
                      void *payload)
{
	/* One pass over hour_counts for the totals and the first and last
	 * hours, then a primary-key lookup of each of those two rows: only
	 * their blobs are decoded. A customer without counts (none is ever
	 * stored, but the schema allows it) comes out with total 0. */
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    db->db,
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
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(store, db, rc, "reading customers");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		evc_customer_info c = {0};
		c.customer_id = (const char *)sqlite3_column_text(st, 0);
		if (!c.customer_id) {
			rc = SQLITE_NOMEM;
			break;
		}
		c.total = (uint64_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			int64_t unused;
			if (!blob_span(sqlite3_column_int64(st, 2),
			               sqlite3_column_blob(st, 3),
			               (size_t)sqlite3_column_bytes(st, 3),
			               &c.first_minute, &unused) ||
			    !blob_span(sqlite3_column_int64(st, 4),
			               sqlite3_column_blob(st, 5),
			               (size_t)sqlite3_column_bytes(st, 5),
			               &unused, &c.last_minute)) {
				sqlite3_finalize(st);
				return evc__fail(store, EVC_EDB,
				                 "%s: corrupt minute counts",
				                 db->path);
			}
		}
		int frc = fn(&c, payload);
		if (frc != EVC_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? EVC_OK
	                         : db_fail(store, db, rc, "reading customers");
}

/* The earliest (or latest) minute with events in the store: the rows of
 * the first (or last) stored hour, one per customer, decoded. */
static int store_edge(evc_store *store, evc_db *db, bool last, bool *found,
                      int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    db->db,
	    last ? "SELECT hour, minutes FROM hour_counts WHERE hour ="
	           " (SELECT max(hour) FROM hour_counts)"
	         : "SELECT hour, minutes FROM hour_counts WHERE hour ="
	           " (SELECT min(hour) FROM hour_counts)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(store, db, rc, "reading counts");
	*found = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t first, lastm;
		if (!blob_span(
		        sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
		        (size_t)sqlite3_column_bytes(st, 1), &first, &lastm)) {
			sqlite3_finalize(st);
			return evc__fail(store, EVC_EDB,
			                 "%s: corrupt minute counts", db->path);
		}
		const int64_t v = last ? lastm : first;
		if (!*found || (last ? v > *out : v < *out))
			*out = v;
		*found = true;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? EVC_OK
	                         : db_fail(store, db, rc, "reading counts");
}

int evc__db_store_info(evc_store *store, evc_db *db, evc_store_summary *out)
{
	/* One read transaction, so that the figures agree with each other
	 * even while another process ingests; none of our own when called
	 * inside one (from an ingest callback), which is not ours to end. */
	sqlite3_stmt *st = NULL;
	bool found;
	const bool own = sqlite3_get_autocommit(db->db) != 0;
	int rc = own ? exec(store, db, "BEGIN", "reading the store") : EVC_OK;
	if (rc)
		return rc;
	rc = sqlite3_prepare_v2(
	    db->db,
	    "SELECT (SELECT count(*) FROM customers),"
	    " (SELECT count(*) FROM sources),"
	    " (SELECT coalesce(sum(total), 0) FROM hour_counts),"
	    " (SELECT coalesce(sum(rows_rejected), 0) FROM sources),"
	    " (SELECT page_count FROM pragma_page_count)"
	    "  * (SELECT page_size FROM pragma_page_size)",
	    -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->customers = (uint64_t)sqlite3_column_int64(st, 0);
		out->sources = (uint64_t)sqlite3_column_int64(st, 1);
		out->rows_counted = (uint64_t)sqlite3_column_int64(st, 2);
		out->rows_rejected = (uint64_t)sqlite3_column_int64(st, 3);
		out->file_size = (uint64_t)sqlite3_column_int64(st, 4);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		rc = db_fail(store, db, rc, "reading the store");
		goto done;
	}
	out->first_minute = out->last_minute = 0;
	if ((rc = store_edge(store, db, false, &found, &out->first_minute)))
		goto done;
	rc = store_edge(store, db, true, &found, &out->last_minute);
done:
	if (own)
		evc__db_rollback(db);
	return rc;
}
