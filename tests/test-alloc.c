/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure: for every N, make the Nth allocation (the library's
 * own and its backend's, through evc__alloc_hook_backends()) fail during an
 * ingest and during a query. Each run must fail cleanly (a status with a
 * message) or succeed, leak nothing (ASan and valgrind watch this process), and
 * leave the store holding either its counts from before or the complete ingest.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dump {
	char buf[8192];
	size_t len;
};

static int collect(const char *customer, int64_t minute, uint64_t count,
                   void *payload)
{
	struct dump *d = payload;
	d->len += (size_t)snprintf(
	    d->buf + d->len, sizeof(d->buf) - d->len, "%s,%lld,%llu\n",
	    customer, (long long)minute, (unsigned long long)count);
	return 0;
}

/* The store's counts, read with no failure armed. */
static void export_store(const char *path, struct dump *d)
{
	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	d->len = 0;
	d->buf[0] = '\0';
	ck_assert_int_eq(evc_export(s, collect, d), EVC_OK);
	evc_close(s);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = tu_read_file(from, &len);
	ck_assert_ptr_nonnull(data);
	FILE *f = fopen(to, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(data);
}

static const char before_csv[] =
    "a,x,00000000-0000-4000-8000-000000000001,2021-03-01 00:01:00+00\n"
    "b,x,00000000-0000-4000-8000-000000000002,2021-03-01 01:02:00Z\n";
/* A store holding what `from` holds: a copy of the file (SQLite), or on
 * PostgreSQL, where a store is no file, the same ingest again. */
static void copy_store(const char *from, const char *to)
{
	if (!tu_pg()) {
		copy_file(from, to);
		return;
	}
	evc_store *s = tu_open_store(to, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	int fd = tu_open_temp(before_csv, strlen(before_csv));
	ck_assert_int_eq(evc_ingest_fd(s, fd, "before", NULL, NULL), EVC_OK);
	close(fd);
	evc_close(s);
}

static const char ingest_csv[] =
    "customer_id,event_type,transaction_id,timestamp\n"
    "a,x,00000000-0000-4000-8000-000000000003,2021-03-01 00:01:30+00\n"
    "c,x,not-a-uuid,2021-03-01T02:30:00+01:00\n"
    "\"d,1\",x,00000000-0000-4000-8000-000000000004,2021-03-01 03:00:00\n"
    "bad,x,y,2021-02-30 00:00:00\n"
    "a,x,00000000-0000-4000-8000-000000000005,2021-03-01 00:59:59.9Z\n";

/* The step (1 outside valgrind) between tried values of N. */
static long step(void)
{
	const char *env = getenv("EVC_TEST_SCALE");
	return env && atoi(env) > 1 ? atoi(env) / 4 + 1 : 1;
}

/* _i == 1: the threaded pipeline (aggregating and writing on threads of
 * their own) with a batch handed over every two keys, so that failures hit
 * the writer while the others run. */
START_TEST(ingest_fails_cleanly_at_every_allocation)
{
	const size_t batch_keys = evc__ingest_batch_keys;
	const uint64_t threaded_min = evc__ingest_threaded_min;
	if (_i == 1) {
		evc__ingest_batch_keys = 2;
		evc__ingest_threaded_min = 0;
	}
	const char *base = tu_store_path();
	const char *input = tu_write_temp_str(ingest_csv);
	struct dump before, after, got;
	long n, failures = 0;

	/* The store before, and what a complete ingest makes of it. */
	evc_store *s =
	    tu_open_store(base, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	int fd = tu_open_temp(before_csv, strlen(before_csv));
	ck_assert_int_eq(evc_ingest_fd(s, fd, "before", NULL, NULL), EVC_OK);
	close(fd);
	evc_close(s);
	export_store(base, &before);
	const char *full = tu_store_path();
	copy_store(base, full);
	s = tu_open_store(full, EVC_OPEN_READWRITE);
	ck_assert_int_eq(evc_ingest_csv(s, input, NULL, NULL), EVC_OK);
	evc_close(s);
	export_store(full, &after);
	ck_assert_str_ne(before.buf, after.buf);

	for (n = 1;; n += step()) {
		const char *path = tu_store_path();
		copy_store(base, path);
		evc__alloc_fail_nth(n);
		int rc = evc_open(&s, path, EVC_OPEN_READWRITE);
		if (rc == EVC_OK) {
			rc = evc_ingest_csv(s, input, NULL, NULL);
			if (rc != EVC_OK)
				ck_assert_msg(evc_errmsg(s)[0],
				              "N=%ld: status %d without a "
				              "message",
				              n, rc);
			evc_close(s);
		} else {
			ck_assert_ptr_null(s);
			ck_assert_msg(evc_errmsg(NULL)[0],
			              "N=%ld: open failed silently", n);
		}
		const bool hit = evc__alloc_fail_hit();
		evc__alloc_fail_nth(0);
		export_store(path, &got);
		if (!hit) {
			ck_assert_int_eq(rc, EVC_OK);
			ck_assert_str_eq(got.buf, after.buf);
			break;
		}
		failures += rc != EVC_OK;
		ck_assert_msg(strcmp(got.buf, before.buf) == 0 ||
		                  strcmp(got.buf, after.buf) == 0,
		              "N=%ld (status %d): the store holds neither the "
		              "counts from before nor the complete ingest:\n%s",
		              n, rc, got.buf);
		if (rc != EVC_OK)
			ck_assert_str_eq(got.buf, before.buf);
	}
	ck_assert_msg(failures > 10, "only %ld failing runs in %ld", failures,
	              n);
	evc__ingest_batch_keys = batch_keys;
	evc__ingest_threaded_min = threaded_min;
}
END_TEST

START_TEST(query_fails_cleanly_at_every_allocation)
{
	const char *path = tu_store_path();
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	int fd = tu_open_temp(ingest_csv, strlen(ingest_csv));
	ck_assert_int_eq(evc_ingest_fd(s, fd, "in", NULL, NULL), EVC_OK);
	close(fd);
	evc_close(s);

	const int64_t start = ts("2021-03-01T00:01:00Z");
	const int64_t end = ts("2021-03-01T03:30:00Z");
	long n;
	for (n = 1;; n++) {
		evc_hourly_result *res = NULL;
		evc__alloc_fail_nth(n);
		int rc = evc_open(&s, path, EVC_OPEN_READONLY);
		if (rc == EVC_OK) {
			rc = evc_hourly(s, "a", start, end, &res);
			if (rc != EVC_OK) {
				ck_assert_ptr_null(res);
				ck_assert_msg(evc_errmsg(s)[0],
				              "N=%ld: silent failure", n);
			}
		}
		const bool hit = evc__alloc_fail_hit();
		evc__alloc_fail_nth(0);
		if (rc == EVC_OK) {
			ck_assert_uint_eq(res->total, 2);
			ck_assert_uint_eq(res->buckets[0].count, 2);
		}
		evc_hourly_free(res);
		evc_close(s);
		if (!hit) {
			ck_assert_int_eq(rc, EVC_OK);
			break;
		}
	}
	ck_assert_int_gt(n, 10);
}
END_TEST

/* Before any store is opened: SQLite takes an allocator only then. Run in
 * the runner's process, ahead of the tests. */
static void hook_backends(void)
{
	ck_assert_int_eq(evc__alloc_hook_backends(), EVC_OK);
}

static Suite *alloc_suite(void)
{
	Suite *su = suite_create("alloc");
	TCase *tc = tcase_create("allocation_failure");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, hook_backends, NULL);
	tcase_add_loop_test(tc, ingest_fails_cleanly_at_every_allocation, 0, 2);
	tcase_add_test(tc, query_fails_cleanly_at_every_allocation);
	suite_add_tcase(su, tc);
	return su;
}

TU_SUITE(alloc_suite)
