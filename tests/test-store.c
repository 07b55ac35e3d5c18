/* SPDX-License-Identifier: MIT */
/* Opening and closing stores, refusing files that are not stores (without
 * touching them), error codes and messages, read-only stores, persistence.
 * What only the SQLite backend can tell is in test-sqlite.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char rows[] = "c1,click," TU_UUID ",2021-03-01T02:15:00Z\n"
                           "c1,click," TU_UUID ",2021-03-01T02:16:00Z\n"
                           "c2,click," TU_UUID ",2021-03-01T03:00:00Z\n";

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static const unsigned all_flags[] = {
    EVC_OPEN_READONLY,
    EVC_OPEN_READWRITE,
    EVC_OPEN_READWRITE | EVC_OPEN_CREATE,
};
#define N_FLAGS ((int)(sizeof(all_flags) / sizeof(all_flags[0])))

/* ---- opening ------------------------------------------------------------ */

START_TEST(open_memory_store)
{
	TU_SKIP_ON_PG(":memory: is a SQLite store");
	evc_store *s = NULL;
	ck_assert_int_eq(
	    evc_open(&s, ":memory:", EVC_OPEN_READWRITE | EVC_OPEN_CREATE),
	    EVC_OK);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(evc_errmsg(s), "");
	evc_close(s);
}
END_TEST

START_TEST(open_missing_without_create)
{
	const char *path = tu_store_path();
	tu_open_fails_unchanged(path, EVC_OPEN_READWRITE, EVC_ENOTFOUND);
	ck_assert(!file_exists(path));
}
END_TEST

START_TEST(open_missing_readonly)
{
	const char *path = tu_store_path();
	tu_open_fails_unchanged(path, EVC_OPEN_READONLY, EVC_ENOTFOUND);
	ck_assert(!file_exists(path));
}
END_TEST

START_TEST(open_missing_with_create)
{
	const char *path = tu_store_path();
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_close(s);
	ck_assert(tu_pg() || file_exists(path));
	/* Now a store: opens without CREATE and read-only. */
	evc_close(tu_open_store(path, EVC_OPEN_READWRITE));
	evc_close(tu_open_store(path, EVC_OPEN_READONLY));
}
END_TEST

START_TEST(open_empty_file_with_create)
{
	TU_SKIP_ON_PG("an empty file is a SQLite store's (test-pg.c: schemas)");
	const char *path = tu_write_temp("", 0);
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);
	s = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	evc_close(s);
}
END_TEST

START_TEST(open_text_file_is_not_store)
{
	TU_SKIP_ON_PG("files are SQLite stores (test-pg.c: foreign schemas)");
	const char *path = tu_write_temp_str(
	    "customer_id,event_type,transaction_id,timestamp\n"
	    "c1,click," TU_UUID ",2021-03-01T02:15:00Z\n");
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ENOTSTORE);
}
END_TEST

START_TEST(open_binary_garbage_is_not_store)
{
	TU_SKIP_ON_PG("files are SQLite stores (test-pg.c: foreign schemas)");
	char junk[8192];
	uint64_t st = 7;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)tu_rand(&st);
	const char *path = tu_write_temp(junk, sizeof(junk));
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ENOTSTORE);
}
END_TEST

START_TEST(open_bad_arguments)
{
	evc_store *s = (evc_store *)&s;
	ck_assert_int_eq(evc_open(&s, ":memory:", 0), EVC_EINVAL);
	ck_assert_ptr_null(s);
	s = (evc_store *)&s;
	ck_assert_int_eq(
	    evc_open(&s, ":memory:", EVC_OPEN_READONLY | EVC_OPEN_READWRITE),
	    EVC_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(
	    evc_open(&s, ":memory:", EVC_OPEN_READONLY | EVC_OPEN_CREATE),
	    EVC_EINVAL);
	ck_assert_int_eq(evc_open(&s, ":memory:", EVC_OPEN_CREATE), EVC_EINVAL);
	ck_assert_int_eq(evc_open(&s, ":memory:", EVC_OPEN_READWRITE | 0x100u),
	                 EVC_EINVAL);
	ck_assert_int_eq(evc_open(&s, NULL, EVC_OPEN_READWRITE), EVC_EINVAL);
	ck_assert_int_eq(
	    evc_open(NULL, ":memory:", EVC_OPEN_READWRITE | EVC_OPEN_CREATE),
	    EVC_EINVAL);
	ck_assert_str_ne(evc_errmsg(NULL), "");
}
END_TEST

START_TEST(close_and_free_null)
{
	evc_close(NULL);
	evc_hourly_free(NULL);
	/* Still usable afterwards. */
	evc_store *s = tu_mem_store();
	evc_close(s);
}
END_TEST

/* ---- messages ------------------------------------------------------------ */

START_TEST(strerror_distinct)
{
	const char *msgs[17];
	for (int code = 0; code >= EVC_EOFFSET; code--) {
		const char *m = evc_strerror(code);
		ck_assert_ptr_nonnull(m);
		ck_assert_msg(m[0] != '\0', "empty message for %d", code);
		ck_assert_msg(strcmp(m, "unknown error") != 0,
		              "code %d unknown", code);
		for (int k = 0; k < -code; k++)
			ck_assert_msg(strcmp(msgs[k], m) != 0,
			              "codes %d and %d share \"%s\"", -k, code,
			              m);
		msgs[-code] = m;
	}
	ck_assert_str_eq(evc_strerror(1), "unknown error");
	ck_assert_str_eq(evc_strerror(EVC_EOFFSET - 1), "unknown error");
	ck_assert_str_eq(evc_strerror(12345), "unknown error");
	ck_assert_str_eq(evc_strerror(INT32_MIN), "unknown error");
}
END_TEST

START_TEST(errmsg_after_failed_open_names_path)
{
	const char *path = tu_store_path();
	evc_store *s = NULL;
	ck_assert_int_eq(evc_open(&s, path, EVC_OPEN_READONLY), EVC_ENOTFOUND);
	const char *msg = evc_errmsg(NULL);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, path) != NULL, "\"%s\" lacks %s", msg, path);
}
END_TEST

/* The linked library is the one the header describes, and the header's
 * version macros, made by the build, agree with each other. */
START_TEST(version_strings)
{
	char parts[32];

	ck_assert_str_eq(evc_version(), EVC_VERSION_STRING);
	snprintf(parts, sizeof(parts), "%d.%d.%d", EVC_VERSION_MAJOR,
	         EVC_VERSION_MINOR, EVC_VERSION_PATCH);
	ck_assert_str_eq(parts, EVC_VERSION_STRING);
}
END_TEST

/* ---- read-only stores ------------------------------------------------ */

START_TEST(readonly_store_refuses_ingest)
{
	const char *path = tu_store_path();
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);

	/* (On PostgreSQL there is no file: the server refuses writes in the
	 * read-only session, and the counts below show none happened.) */
	size_t len0 = 0, len1 = 0;
	char *before = tu_read_file(path, &len0);
	ck_assert(tu_pg() || before);
	s = tu_open_store(path, EVC_OPEN_READONLY);
	evc_ingest_stats st;
	int rc = tu_ingest_str(s, rows, NULL, &st);
	ck_assert_int_eq(rc, EVC_EREADONLY);
	ck_assert_str_ne(evc_errmsg(s), "");
	/* Queries still work and see only the first ingest. */
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	evc_close(s);
	char *after = tu_read_file(path, &len1);
	ck_assert(tu_pg() || after);
	ck_assert_uint_eq(len0, len1);
	ck_assert(!before || memcmp(before, after, len0) == 0);
	free(before);
	free(after);
}
END_TEST

/* ---- persistence and isolation ------------------------------------------ */

START_TEST(reopen_keeps_counts)
{
	const char *path = tu_store_path();
	int64_t a = ts("2021-03-01T00:00:00Z"), b = ts("2021-03-01T06:00:00Z");
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);

	s = tu_open_store(path, EVC_OPEN_READWRITE);
	ck_assert_uint_eq(tu_bucket(s, "c1", a, b, 2).count, 2);
	ck_assert_uint_eq(tu_bucket(s, "c2", a, b, 3).count, 1);
	/* Add more and reopen again. */
	tu_ingest_ok(s, "c1,click," TU_UUID ",2021-03-01T02:59:59Z\n");
	evc_close(s);

	s = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_bucket(s, "c1", a, b, 2).count, 3);
	ck_assert_uint_eq(tu_total(s, "c1", a, b), 3);
	ck_assert_uint_eq(tu_total(s, "c2", a, b), 1);
	evc_close(s);
}
END_TEST

START_TEST(memory_stores_are_private)
{
	evc_store *s1 = tu_mem_store();
	evc_store *s2 = tu_mem_store();
	tu_ingest_ok(s1, rows);
	int64_t a = ts("2021-03-01"), b = ts("2021-03-02");
	ck_assert_uint_eq(tu_total(s1, "c1", a, b), 2);
	ck_assert_uint_eq(tu_total(s2, "c1", a, b), 0);
	evc_close(s1);
	evc_close(s2);
}
END_TEST

START_TEST(two_handles_same_file)
{
	const char *path = tu_store_path();
	int64_t a = ts("2021-03-01"), b = ts("2021-03-02");
	evc_store *w =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_store *r = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(r, "c1", a, b), 0);
	tu_ingest_ok(w, rows);
	ck_assert_uint_eq(tu_total(r, "c1", a, b), 2);
	ck_assert_uint_eq(tu_total(r, "c2", a, b), 1);
	evc_close(r);
	evc_close(w);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_test(tc, open_memory_store);
	tcase_add_test(tc, open_missing_without_create);
	tcase_add_test(tc, open_missing_readonly);
	tcase_add_test(tc, open_missing_with_create);
	tcase_add_test(tc, open_empty_file_with_create);
	tcase_add_test(tc, open_bad_arguments);
	tcase_add_test(tc, close_and_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse_foreign_files");
	tcase_add_loop_test(tc, open_text_file_is_not_store, 0, N_FLAGS);
	tcase_add_loop_test(tc, open_binary_garbage_is_not_store, 0, N_FLAGS);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_test(tc, strerror_distinct);
	tcase_add_test(tc, errmsg_after_failed_open_names_path);
	tcase_add_test(tc, version_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("readonly");
	tcase_add_test(tc, readonly_store_refuses_ingest);
	suite_add_tcase(s, tc);

	tc = tcase_create("persistence");
	tcase_add_test(tc, reopen_keeps_counts);
	tcase_add_test(tc, memory_stores_are_private);
	tcase_add_test(tc, two_handles_same_file);
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(store_suite)
