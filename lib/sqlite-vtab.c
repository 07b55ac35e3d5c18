/* SPDX-License-Identifier: MIT */
/*
 * The SQL functions the SQLite backend adds to each connection:
 * evc_merge_minutes(old, new), which sums two packed hours so that an
 * upsert adds to what is stored instead of overwriting it;
 * evc_subtract_minutes(old, taken), its inverse, an SQLITE_CONSTRAINT
 * error rather than a count below zero; evc_minutes_from(blob, m) and
 * evc_minutes_sum(blob, lo, hi), the minutes of an hour from m on and the
 * sum of minutes [lo, hi), for cutting an hour at a time; and
 * evc_hour_rows(set), an eponymous table-valued function over the rows of
 * an evc_hour_set passed by pointer, so that one INSERT ... SELECT adds a
 * whole set (a statement per row spent a quarter of the writer's time in
 * statement set-up).
 */
#include "sqlite-int.h"

#include <string.h>

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

static void subtract_minutes(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv)
{
	uint8_t out[EVC_MINUTES_BLOB_MAX];
	size_t len;

	(void)argc;
	switch (evc__minutes_subtract(
	    sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]),
	    sqlite3_value_blob(argv[1]), (size_t)sqlite3_value_bytes(argv[1]),
	    out, &len)) {
	case 0:
		sqlite3_result_blob(ctx, out, (int)len, SQLITE_TRANSIENT);
		return;
	case 1:
		sqlite3_result_error(ctx,
		                     "a minute count would go below zero: the "
		                     "store lacks what is to be subtracted",
		                     -1);
		sqlite3_result_error_code(ctx, SQLITE_CONSTRAINT);
		return;
	default:
		sqlite3_result_error(ctx, "corrupt minute counts in the store",
		                     -1);
		return;
	}
}

static void minutes_from(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint8_t out[EVC_MINUTES_BLOB_MAX];
	size_t len;
	uint64_t total;
	const sqlite3_int64 lo = sqlite3_value_int64(argv[1]);

	(void)argc;
	if (!evc__minutes_keep_from(sqlite3_value_blob(argv[0]),
	                            (size_t)sqlite3_value_bytes(argv[0]),
	                            lo < 0    ? 0
	                            : lo > 60 ? 60
	                                      : (unsigned)lo,
	                            out, &len, &total)) {
		sqlite3_result_error(ctx, "corrupt minute counts in the store",
		                     -1);
		return;
	}
	sqlite3_result_blob(ctx, out, (int)len, SQLITE_TRANSIENT);
}

static void minutes_sum(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const sqlite3_int64 lo = sqlite3_value_int64(argv[1]);
	const sqlite3_int64 hi = sqlite3_value_int64(argv[2]);
	uint64_t sum;

	(void)argc;
	if (!evc__minutes_sum(sqlite3_value_blob(argv[0]),
	                      (size_t)sqlite3_value_bytes(argv[0]),
	                      lo < 0    ? 0
	                      : lo > 60 ? 60
	                                : (unsigned)lo,
	                      hi < 0    ? 0
	                      : hi > 60 ? 60
	                                : (unsigned)hi,
	                      &sum, NULL)) {
		sqlite3_result_error(ctx, "corrupt minute counts in the store",
		                     -1);
		return;
	}
	sqlite3_result_int64(ctx, (sqlite3_int64)sum);
}

/* The pointer type tag keeps SQL text from passing anything else. */
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
	/* NULL unless bound by evc__sqlite_bind_set(): then no rows. */
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

int evc__sqlite_register(sqlite3 *db)
{
	static const struct {
		const char *name;
		int args;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} functions[] = {
	    {"evc_merge_minutes", 2, merge_minutes},
	    {"evc_subtract_minutes", 2, subtract_minutes},
	    {"evc_minutes_from", 2, minutes_from},
	    {"evc_minutes_sum", 3, minutes_sum},
	};
	int rc = SQLITE_OK;

	for (size_t i = 0;
	     rc == SQLITE_OK && i < sizeof(functions) / sizeof(functions[0]);
	     i++)
		rc = sqlite3_create_function(db, functions[i].name,
		                             functions[i].args,
		                             SQLITE_UTF8 | SQLITE_DETERMINISTIC,
		                             NULL, functions[i].fn, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_module(db, "evc_hour_rows",
		                           &hour_rows_module, NULL);
	return rc;
}

int evc__sqlite_bind_set(sqlite3_stmt *st, int i, const evc_hour_set *set)
{
	return sqlite3_bind_pointer(st, i, (void *)set, HOUR_SET_TYPE, NULL);
}
