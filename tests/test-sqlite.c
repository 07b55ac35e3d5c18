/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's own checks, which need SQLite itself to set up:
 * other SQLite databases and stores of a newer schema are refused without
 * being touched, and evc_sqlite_version() is the library in use. The only
 * test that includes <sqlite3.h>.
 */
#include "testutil.h"

#include <sqlite3.h>

static const char rows[] = "c1,click," TU_UUID ",2021-03-01T02:15:00Z\n"
                           "c1,click," TU_UUID ",2021-03-01T02:16:00Z\n"
                           "c2,click," TU_UUID ",2021-03-01T03:00:00Z\n";

static void sqlite_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
	sqlite3_free(err);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static const unsigned all_flags[] = {
    EVC_OPEN_READONLY,
    EVC_OPEN_READWRITE,
    EVC_OPEN_READWRITE | EVC_OPEN_CREATE,
};
#define N_FLAGS ((int)(sizeof(all_flags) / sizeof(all_flags[0])))

START_TEST(open_other_sqlite_db_is_not_store)
{
	const char *path = tu_temp_path();
	sqlite_exec(path, "CREATE TABLE t(x INTEGER, y TEXT);"
	                  "INSERT INTO t VALUES (1, 'one');");
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ENOTSTORE);
	/* Still the same database. */
	sqlite_exec(path, "SELECT x FROM t;");
}
END_TEST

START_TEST(open_newer_schema)
{
	const char *path = tu_temp_path();
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);
	sqlite_exec(path, "PRAGMA user_version = 999;");
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ESCHEMA);
}
END_TEST

START_TEST(sqlite_version_is_the_linked_one)
{
	ck_assert_str_eq(evc_sqlite_version(), sqlite3_libversion());
}
END_TEST

static Suite *sqlite_suite(void)
{
	Suite *s = suite_create("sqlite");
	TCase *tc = tcase_create("refuse_foreign_databases");
	tcase_add_loop_test(tc, open_other_sqlite_db_is_not_store, 0, N_FLAGS);
	tcase_add_loop_test(tc, open_newer_schema, 0, N_FLAGS);
	suite_add_tcase(s, tc);

	tc = tcase_create("version");
	tcase_add_test(tc, sqlite_version_is_the_linked_one);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(sqlite_suite)
