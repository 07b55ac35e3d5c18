/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's own checks, which need SQLite itself to set up:
 * other SQLite databases and stores of a newer schema are refused without
 * being touched, evc_sqlite_version() is the library in use, and stores
 * damaged behind the library's back (rows edited with SQL, a bit flipped
 * in the file) give EVC_ECORRUPT with what is wrong, never a crash or a
 * wrong answer, and evc_check() finds each problem. The only test that
 * includes <sqlite3.h>.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- damaged stores ------------------------------------------------------ */

/* c1: 02:15 and 02:16 (a partial hour when the range starts at 02:15),
 * 03:00 x2; c2: 03:00; c3: the next day. Epoch hour of 02:00 is 448490. */
static const char damage_rows[] = "c1,click," TU_UUID ",2021-03-01T02:15:00Z\n"
                                  "c1,click," TU_UUID ",2021-03-01T02:16:00Z\n"
                                  "c1,click," TU_UUID ",2021-03-01T03:00:00Z\n"
                                  "c1,click," TU_UUID ",2021-03-01T03:00:30Z\n"
                                  "c2,click," TU_UUID ",2021-03-01T03:00:00Z\n"
                                  "c3,click," TU_UUID ",2021-03-02T10:00:00Z\n";
#define HOUR_0200 448490

static const char *damaged_store(const char *sql)
{
	const char *path = tu_temp_path();
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, damage_rows);
	evc_close(s);
	if (sql)
		sqlite_exec(path, sql);
	return path;
}

static int count_minute(const char *c, int64_t m, uint64_t n, void *p)
{
	(void)c;
	(void)m;
	*(uint64_t *)p += n;
	return 0;
}

static int count_customer(const evc_customer_info *c, void *p)
{
	(void)c;
	(*(uint64_t *)p)++;
	return 0;
}

static int count_source(const evc_source_info *src, void *p)
{
	(void)src;
	(*(uint64_t *)p)++;
	return 0;
}

struct problems {
	char text[4096];
	size_t len;
};

static int collect_problem(const evc_problem *p, void *payload)
{
	struct problems *x = payload;
	char when[EVC_TIME_BUFSZ] = "";
	if (p->has_hour)
		evc_format_time(p->hour, when, sizeof(when));
	x->len += (size_t)snprintf(x->text + x->len, sizeof(x->text) - x->len,
	                           "%s|%s|%s|%lld\n",
	                           p->customer_id ? p->customer_id : "", when,
	                           p->what, (long long)p->source_id);
	return 0;
}

/* What each read call and evc_check() say of a store: EVC_OK, or the
 * status with its message holding `want` (a substring). */
static void expect(evc_store *s, int got, int want, const char *needle,
                   const char *call)
{
	ck_assert_msg(got == want, "%s: %d (%s), want %d", call, got,
	              evc_errmsg(s), want);
	if (want != EVC_OK && needle)
		ck_assert_msg(strstr(evc_errmsg(s), needle),
		              "%s: \"%s\" lacks %s", call, evc_errmsg(s),
		              needle);
}

struct damage {
	const char *name;
	const char *sql;
	int hourly_partial; /* c1 from 02:15 to 04:00 */
	int hourly_whole;   /* c1 from 02:00 to 04:00 */
	int export;
	int customers;
	int stats;
	int sources;
	const char *needle;  /* in every corrupt-store message */
	const char *problem; /* in evc_check()'s report */
};

static const struct damage damages[] = {
    {"total not the sum of its minutes",
     "UPDATE hour_counts SET total = total + 1 WHERE hour = 448490",
     EVC_ECORRUPT, EVC_OK, EVC_ECORRUPT, EVC_OK, EVC_OK, EVC_OK,
     "is not the sum", "c1|2021-03-01T02:00:00Z|total 3 is not the sum"},
    {"minute 60",
     "UPDATE hour_counts SET minutes = x'3c01' WHERE hour = 448490",
     EVC_ECORRUPT, EVC_OK, EVC_ECORRUPT, EVC_ECORRUPT, EVC_ECORRUPT, EVC_OK,
     "malformed", "c1|2021-03-01T02:00:00Z|malformed minute counts"},
    {"no customer has the id",
     "INSERT INTO hour_counts VALUES (999, 448491, 1, x'0001')", EVC_OK, EVC_OK,
     EVC_ECORRUPT, EVC_OK, EVC_OK, EVC_OK, "999",
     "#999|2021-03-01T03:00:00Z|hour row of a customer id that no customer"},
    {"hour past year 9999",
     "UPDATE hour_counts SET hour = 99999999 WHERE customer = 3", EVC_OK,
     EVC_OK, EVC_ECORRUPT, EVC_ECORRUPT, EVC_ECORRUPT, EVC_OK,
     "outside years 0000 to 9999", "c3||hour 99999999 is outside years"},
    {"day total off its hours",
     "UPDATE day_counts SET total = total + 1 WHERE customer = 1", EVC_OK,
     EVC_OK, EVC_OK, EVC_OK, EVC_OK, EVC_OK, NULL,
     "c1|2021-03-01T00:00:00Z|day total 5 is not the sum of the day's hours, "
     "4"},
    {"offset past the file's size", "UPDATE sources SET offset = size + 10",
     EVC_OK, EVC_OK, EVC_OK, EVC_OK, EVC_OK, EVC_ECORRUPT,
     "past the file's size", "||offset "},
};

START_TEST(damaged_rows_are_corrupt_not_misread)
{
	const struct damage *d = &damages[_i];
	const char *path = damaged_store(d->sql);
	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	evc_hourly_result *res = NULL;
	evc_store_summary sum;
	uint64_t n = 0, problems = 0;
	struct problems p = {0};

	expect(s,
	       evc_hourly(s, "c1", ts("2021-03-01T02:15:00Z"),
	                  ts("2021-03-01T04:00:00Z"), &res),
	       d->hourly_partial, d->needle, "hourly, partial");
	if (res)
		ck_assert_uint_eq(res->total, 4);
	evc_hourly_free(res);
	res = NULL;
	expect(s,
	       evc_hourly(s, "c1", ts("2021-03-01T02:00:00Z"),
	                  ts("2021-03-01T04:00:00Z"), &res),
	       d->hourly_whole, d->needle, "hourly, whole hours");
	evc_hourly_free(res);
	expect(s, evc_export(s, count_minute, &n), d->export, d->needle,
	       "export");
	expect(s, evc_customers(s, count_customer, &n), d->customers, d->needle,
	       "customers");
	expect(s, evc_store_info(s, &sum), d->stats, d->needle, "store_info");
	expect(s, evc_sources(s, count_source, &n), d->sources, d->needle,
	       "sources");
	ck_assert_int_eq(evc_check(s, collect_problem, &p, &problems),
	                 EVC_ECORRUPT);
	ck_assert_uint_ge(problems, 1);
	ck_assert_msg(strstr(p.text, d->problem), "%s: check reported:\n%s",
	              d->name, p.text);
	evc_close(s);
}
END_TEST

/* What schema 3 added, taken away again: a store of schema 2. */
#define BACK_TO_SCHEMA_2                                                       \
	"DROP TABLE erasures; DROP TABLE erased_sources; DROP TABLE meta;"     \
	"ALTER TABLE sources DROP COLUMN kind;"                                \
	"ALTER TABLE sources DROP COLUMN counted_from;"                        \
	"ALTER TABLE sources DROP COLUMN retracted;"                           \
	"PRAGMA user_version = 2;"

/* A store of schema 1 (before day totals): read as it is when opened
 * read-only, upgraded in one transaction when opened read-write. */
START_TEST(schema_1_read_then_upgraded)
{
	const char *path =
	    damaged_store(BACK_TO_SCHEMA_2 "DROP TABLE day_counts;"
	                                   "PRAGMA user_version = 1;");
	size_t len0, len1;
	char *before = tu_read_file(path, &len0);
	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  4);
	ck_assert_int_eq(evc_check(s, NULL, NULL, NULL), EVC_OK);
	evc_close(s);
	char *after = tu_read_file(path, &len1);
	ck_assert_uint_eq(len0, len1);
	ck_assert(memcmp(before, after, len0) == 0);
	free(before);
	free(after);

	s = tu_open_store(path, EVC_OPEN_READWRITE);
	ck_assert_int_eq(evc_check(s, NULL, NULL, NULL), EVC_OK);
	tu_ingest_ok(s, "c1,click," TU_UUID ",2021-03-01T23:00:00Z\n");
	ck_assert_int_eq(evc_check(s, NULL, NULL, NULL), EVC_OK);
	evc_close(s);
	/* Now schema 3 with the day totals of the old rows and the new. */
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(
	        db,
	        "SELECT (SELECT user_version FROM "
	        "pragma_user_version), (SELECT total FROM "
	        "day_counts d JOIN customers c ON c.id = "
	        "d.customer WHERE c.name = 'c1' AND d.day = 18687)",
	        -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 3);
	ck_assert_int_eq(sqlite3_column_int(st, 1), 5);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

/* A store of schema 2 (before retraction and erasures): read as it is
 * read-only; upgraded read-write, where each source learns whether it
 * counted from its start, and the store its last ingest. */
START_TEST(schema_2_read_then_upgraded)
{
	const char *path = damaged_store(BACK_TO_SCHEMA_2);
	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	evc_store_summary sum;
	ck_assert_int_eq(evc_store_info(s, &sum), EVC_OK);
	ck_assert_uint_eq(sum.sources, 1);
	ck_assert_int_eq(evc_check(s, NULL, NULL, NULL), EVC_OK);
	evc_close(s);

	s = tu_open_store(path, EVC_OPEN_READWRITE);
	ck_assert_int_eq(evc_check(s, NULL, NULL, NULL), EVC_OK);
	evc_close(s);
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db,
	                       "SELECT (SELECT user_version FROM "
	                       "pragma_user_version), (SELECT counted_from "
	                       "FROM sources), (SELECT value = (SELECT "
	                       "last_ingest FROM sources) FROM meta WHERE key "
	                       "= 'last_ingest'), (SELECT count(*) FROM "
	                       "erasures)",
	                       -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 3);
	ck_assert_int_eq(sqlite3_column_int(st, 1), 0);
	ck_assert_int_eq(sqlite3_column_int(st, 2), 1);
	ck_assert_int_eq(sqlite3_column_int(st, 3), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(sound_store_checks_clean)
{
	const char *path = damaged_store(NULL);
	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	uint64_t problems = 99;
	struct problems p = {0};
	ck_assert_int_eq(evc_check(s, collect_problem, &p, &problems), EVC_OK);
	ck_assert_uint_eq(problems, 0);
	ck_assert_str_eq(p.text, "");
	evc_close(s);
}
END_TEST

/* One bit of the key of one of c1's 300 hour rows flipped in the file:
 * the row now reads as an hour of 1991 amid c1's hours of 2021, and the
 * scan of a range across it returns it where 2021 hours were asked for
 * (the crash this test was written for: its bucket index was used
 * unchecked). */
START_TEST(flipped_key_bit_is_corrupt_not_a_crash)
{
	const char *path = tu_temp_path();
	evc_store *w =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	const int64_t t0 = ts("2021-03-01T00:00:00Z"); /* hour 448488 */
	char *csv = malloc(300 * 80), when[EVC_TIME_BUFSZ];
	size_t n = 0;
	ck_assert_ptr_nonnull(csv);
	for (int h = 0; h < 300; h++)
		n += (size_t)snprintf(csv + n, 300 * 80 - n,
		                      "c1,click," TU_UUID ",%s\n",
		                      tu_fmt(t0 + h * 3600 + 60, when));
	tu_ingest_ok(w, csv);
	free(csv);
	evc_close(w);

	size_t len, hits = 0;
	unsigned char *b = (unsigned char *)tu_read_file(path, &len);
	ck_assert_ptr_nonnull(b);
	/* Hour 448600 = 0x06d858, stored as a 24-bit integer. */
	for (size_t i = 0; i + 3 <= len; i++) {
		if (b[i] == 0x06 && b[i + 1] == 0xd8 && b[i + 2] == 0x58) {
			b[i] = 0x02;
			hits++;
		}
	}
	ck_assert_uint_eq(hits, 1);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(b);

	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	evc_hourly_result *res = NULL;
	int rc = evc_hourly(s, "c1", ts("2021-03-01T02:15:00Z"),
	                    ts("2021-03-13T00:00:00Z"), &res);
	ck_assert_msg(rc == EVC_ECORRUPT, "hourly: %d (%s)", rc, evc_errmsg(s));
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "customer c1"));
	ck_assert_ptr_null(res);
	uint64_t problems = 0;
	ck_assert_int_eq(evc_check(s, NULL, NULL, &problems), EVC_ECORRUPT);
	ck_assert_uint_ge(problems, 1);
	evc_close(s);
}
END_TEST

static Suite *sqlite_suite(void)
{
	Suite *s = suite_create("sqlite");
	TCase *tc = tcase_create("refuse_foreign_databases");
	tcase_add_loop_test(tc, open_other_sqlite_db_is_not_store, 0, N_FLAGS);
	tcase_add_loop_test(tc, open_newer_schema, 0, N_FLAGS);
	suite_add_tcase(s, tc);

	tc = tcase_create("damaged_stores");
	tcase_add_loop_test(tc, damaged_rows_are_corrupt_not_misread, 0,
	                    (int)(sizeof(damages) / sizeof(damages[0])));
	tcase_add_test(tc, sound_store_checks_clean);
	tcase_add_test(tc, schema_1_read_then_upgraded);
	tcase_add_test(tc, schema_2_read_then_upgraded);
	tcase_add_test(tc, flipped_key_bit_is_corrupt_not_a_crash);
	suite_add_tcase(s, tc);

	tc = tcase_create("version");
	tcase_add_test(tc, sqlite_version_is_the_linked_one);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(sqlite_suite)
