/* SPDX-License-Identifier: MIT */
/*
 * Shared by the two files of the SQLite backend: sqlite.c (the schema and
 * every statement) and sqlite-vtab.c (the SQL functions it registers on
 * each connection). Nothing outside the backend includes this header.
 */
#ifndef EVC_SQLITE_INT_H
#define EVC_SQLITE_INT_H

#include "storage.h"

#include <sqlite3.h>

/* Register evc_merge_minutes(old, new), the sum of two packed hours, and
 * evc_hour_rows(set), a table-valued function over an evc_hour_set. */
int evc__sqlite_register(sqlite3 *db);
/* Bind `set` to parameter `i` of a statement reading evc_hour_rows(?i). */
int evc__sqlite_bind_set(sqlite3_stmt *st, int i, const evc_hour_set *set);

#endif /* EVC_SQLITE_INT_H */
