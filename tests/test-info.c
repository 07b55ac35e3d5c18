/* SPDX-License-Identifier: MIT */
/* Store contents: evc_customers() (order, totals, first and last minutes,
 * stopping) and evc_store_info() (every field, on an empty store, with
 * rejects and streams, and from inside an ingest callback). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Three customers, named so that bytewise order differs from insertion
 * order; c2's events span hours and minutes so that first and last come
 * from different blobs and are not on the hour. */
static const char rows[] = "customer_id,event_type,transaction_id,timestamp\n"
                           "c2,click," TU_UUID ",2021-03-01T05:59:59Z\n"
                           "c2,click," TU_UUID ",2021-03-01T02:15:30Z\n"
                           "c2,click," TU_UUID ",2021-03-01T02:17:00Z\n"
                           "B1,click," TU_UUID ",2021-03-02T00:00:00Z\n"
                           "c10,click," TU_UUID ",2021-03-01T03:00:00+01:00\n"
                           "c10,click," TU_UUID ",2021-03-01T02:00:00Z\n";

struct seen {
	size_t n;
	char *id[8];
	evc_customer_info info[8];
	size_t stop_at; /* 1-based; 0: never */
};

static int collect(const evc_customer_info *c, void *payload)
{
	struct seen *s = payload;

	ck_assert_uint_lt(s->n, 8);
	s->id[s->n] = strdup(c->customer_id);
	s->info[s->n] = *c;
	s->info[s->n].customer_id = s->id[s->n];
	s->n++;
	return s->stop_at && s->n == s->stop_at;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->id[i]);
}

START_TEST(customers_ordered_with_spans)
{
	evc_store *st = tu_mem_store();
	struct seen s = {0};

	tu_ingest_ok(st, rows);
	ck_assert_int_eq(evc_customers(st, collect, &s), EVC_OK);
	ck_assert_str_eq(evc_errmsg(st), "");
	ck_assert_uint_eq(s.n, 3);
	/* Bytewise: uppercase first, "c10" before "c2". */
	ck_assert_str_eq(s.info[0].customer_id, "B1");
	ck_assert_str_eq(s.info[1].customer_id, "c10");
	ck_assert_str_eq(s.info[2].customer_id, "c2");
	ck_assert_uint_eq(s.info[0].total, 1);
	ck_assert_int_eq(s.info[0].first_minute, ts("2021-03-02"));
	ck_assert_int_eq(s.info[0].last_minute, ts("2021-03-02"));
	/* Both c10 events are 02:00 UTC: one minute. */
	ck_assert_uint_eq(s.info[1].total, 2);
	ck_assert_int_eq(s.info[1].first_minute, ts("2021-03-01T02:00:00Z"));
	ck_assert_int_eq(s.info[1].last_minute, ts("2021-03-01T02:00:00Z"));
	/* Floored to the minute, from two different hours. */
	ck_assert_uint_eq(s.info[2].total, 3);
	ck_assert_int_eq(s.info[2].first_minute, ts("2021-03-01T02:15:00Z"));
	ck_assert_int_eq(s.info[2].last_minute, ts("2021-03-01T05:59:00Z"));
	seen_free(&s);
	evc_close(st);
}
END_TEST

START_TEST(customers_empty_store)
{
	evc_store *st = tu_mem_store();
	struct seen s = {0};

	ck_assert_int_eq(evc_customers(st, collect, &s), EVC_OK);
	ck_assert_uint_eq(s.n, 0);
	evc_close(st);
}
END_TEST

START_TEST(customers_callback_stops)
{
	evc_store *st = tu_mem_store();
	struct seen s = {.stop_at = 2};

	tu_ingest_ok(st, rows);
	ck_assert_int_eq(evc_customers(st, collect, &s), EVC_EABORTED);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(st), "callback"));
	seen_free(&s);
	/* The store is still usable afterwards. */
	s = (struct seen){0};
	ck_assert_int_eq(evc_customers(st, collect, &s), EVC_OK);
	ck_assert_uint_eq(s.n, 3);
	seen_free(&s);
	evc_close(st);
}
END_TEST

START_TEST(null_arguments)
{
	evc_store *st = tu_mem_store();
	evc_store_summary sum;

	ck_assert_int_eq(evc_customers(NULL, collect, NULL), EVC_EINVAL);
	ck_assert_int_eq(evc_customers(st, NULL, NULL), EVC_EINVAL);
	ck_assert_int_eq(evc_store_info(NULL, &sum), EVC_EINVAL);
	ck_assert_int_eq(evc_store_info(st, NULL), EVC_EINVAL);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(st), "evc_store_info"));
	evc_close(st);
}
END_TEST

START_TEST(info_empty_store)
{
	evc_store *st = tu_mem_store();
	evc_store_summary sum;

	memset(&sum, 0xff, sizeof(sum));
	ck_assert_int_eq(evc_store_info(st, &sum), EVC_OK);
	ck_assert_uint_eq(sum.customers, 0);
	ck_assert_uint_eq(sum.sources, 0);
	ck_assert_uint_eq(sum.rows_counted, 0);
	ck_assert_uint_eq(sum.rows_rejected, 0);
	ck_assert_int_eq(sum.first_minute, 0);
	ck_assert_int_eq(sum.last_minute, 0);
	ck_assert_uint_gt(sum.file_size, 0);
	evc_close(st);
}
END_TEST

START_TEST(info_counts_files_and_streams)
{
	const char *path = tu_store_path();
	evc_store *st =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	const char bad[] = "c2,click," TU_UUID ",2021-03-01T99:00:00Z\n"
	                   "only,three,fields\n"
	                   "c3,click," TU_UUID ",2021-02-28T23:30:00Z\n";
	const char stream[] = "c4,click," TU_UUID ",2021-03-03T10:10:10Z\n"
	                      "broken\n";
	evc_store_summary sum;
	evc_ingest_stats stats;

	tu_ingest_ok(st, rows);
	ck_assert_int_eq(tu_ingest_str(st, bad, NULL, &stats), EVC_OK);
	ck_assert_uint_eq(stats.rows_rejected, 2);
	/* A stream: counted, but neither a source nor its reject recorded. */
	ck_assert_int_eq(
	    tu_ingest_pipe(st, stream, strlen(stream), "<pipe>", NULL, &stats),
	    EVC_OK);
	ck_assert_uint_eq(stats.rows_rejected, 1);

	ck_assert_int_eq(evc_store_info(st, &sum), EVC_OK);
	ck_assert_str_eq(evc_errmsg(st), "");
	ck_assert_uint_eq(sum.customers, 5);
	ck_assert_uint_eq(sum.sources, 2);
	ck_assert_uint_eq(sum.rows_counted, 6 + 1 + 1);
	ck_assert_uint_eq(sum.rows_rejected, 2);
	ck_assert_int_eq(sum.first_minute, ts("2021-02-28T23:30:00Z"));
	ck_assert_int_eq(sum.last_minute, ts("2021-03-03T10:10:00Z"));
	uint64_t n;
	ck_assert_int_eq(evc_customer_count(st, &n), EVC_OK);
	ck_assert_uint_eq(sum.customers, n);
	evc_close(st);

	/* The same from a read-only handle; the size is the file's once the
	 * log is checkpointed (the last close did that). */
	struct stat fst;
	ck_assert_int_eq(tu_pg() ? 0 : stat(path, &fst), 0);
	st = tu_open_store(path, EVC_OPEN_READONLY);
	evc_store_summary ro;
	ck_assert_int_eq(evc_store_info(st, &ro), EVC_OK);
	ck_assert_uint_eq(ro.rows_counted, sum.rows_counted);
	/* (PostgreSQL: the tables' size, test-pg.c checks it.) */
	ck_assert_uint_eq(ro.file_size,
	                  tu_pg() ? ro.file_size : (uint64_t)fst.st_size);
	evc_close(st);
}
END_TEST

/* Called from inside an ingest's transaction: must see the store and must
 * not end the ingest's transaction. */
static int info_in_callback(const evc_reject *r, void *payload)
{
	evc_store *st = payload;
	evc_store_summary sum;

	(void)r;
	ck_assert_int_eq(evc_store_info(st, &sum), EVC_OK);
	return 0;
}

START_TEST(info_inside_ingest_callback)
{
	evc_store *st = tu_mem_store();
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats stats;
	evc_store_summary sum;

	o.on_reject = info_in_callback;
	o.payload = st;
	o.threads = 1;
	ck_assert_int_eq(
	    tu_ingest_str(st,
	                  "a,click," TU_UUID ",2021-03-01T00:00:00Z\n"
	                  "bad\n"
	                  "a,click," TU_UUID ",2021-03-01T00:01:00Z\n",
	                  &o, &stats),
	    EVC_OK);
	ck_assert_int_eq(evc_store_info(st, &sum), EVC_OK);
	ck_assert_uint_eq(sum.rows_counted, 2);
	ck_assert_uint_eq(sum.rows_rejected, 1);
	evc_close(st);
}
END_TEST

static Suite *info_suite(void)
{
	Suite *s = suite_create("info");
	TCase *tc = tcase_create("customers");
	tcase_add_test(tc, customers_ordered_with_spans);
	tcase_add_test(tc, customers_empty_store);
	tcase_add_test(tc, customers_callback_stops);
	tcase_add_test(tc, null_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("store_info");
	tcase_add_test(tc, info_empty_store);
	tcase_add_test(tc, info_counts_files_and_streams);
	tcase_add_test(tc, info_inside_ingest_callback);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(info_suite)
