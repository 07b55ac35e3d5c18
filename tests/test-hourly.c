/* SPDX-License-Identifier: MIT */
/* Hourly bucket semantics of evc_hourly(): flooring of the bounds, partial
 * buckets, edges of buckets and ranges, rollovers, offsets, limits, and a
 * differential test against a naive count. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define H 3600LL

/* Ingest one row per timestamp string for `cust`. */
static void ingest_times(evc_store *s, const char *cust,
                         const char *const *times)
{
	size_t cap = 1024, len = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	buf[0] = '\0';
	for (size_t i = 0; times[i] != NULL; i++) {
		char row[512];
		int n = snprintf(row, sizeof(row), "%s,click,%s,%s\n", cust,
		                 TU_UUID, times[i]);
		ck_assert(n > 0 && (size_t)n < sizeof(row));
		while (len + (size_t)n + 1 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		memcpy(buf + len, row, (size_t)n + 1);
		len += (size_t)n;
	}
	tu_ingest_ok(s, buf);
	free(buf);
}

#define TIMES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A store with `cust` holding the events at `times`. */
static evc_store *store_with(const char *cust, const char *const *times)
{
	evc_store *s = tu_mem_store();
	ingest_times(s, cust, times);
	return s;
}

/* Assert the whole result: first hour, bucket counts and partial flags
 * (partials may be NULL for "none partial"), effective bounds. */
static void expect(const evc_hourly_result *r, int64_t start, int64_t end,
                   int64_t first_hour, size_t n, const uint64_t *counts,
                   const int *partials)
{
	char b1[EVC_TIME_BUFSZ], b2[EVC_TIME_BUFSZ];
	ck_assert_msg(r->start == start, "start %s, want %s",
	              tu_fmt(r->start, b1), tu_fmt(start, b2));
	ck_assert_msg(r->end == end, "end %s, want %s", tu_fmt(r->end, b1),
	              tu_fmt(end, b2));
	ck_assert_uint_eq(r->n_buckets, n);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const evc_bucket *b = &r->buckets[i];
		ck_assert_msg(b->hour == first_hour + (int64_t)i * H,
		              "bucket %zu hour %s", i, tu_fmt(b->hour, b1));
		ck_assert_msg(b->count == counts[i],
		              "bucket %zu (%s): count %llu, want %llu", i,
		              tu_fmt(b->hour, b1), (unsigned long long)b->count,
		              (unsigned long long)counts[i]);
		int want_partial = partials ? partials[i] : 0;
		ck_assert_msg(b->partial == want_partial,
		              "bucket %zu (%s): partial %d, want %d", i,
		              tu_fmt(b->hour, b1), b->partial, want_partial);
		total += counts[i];
	}
	ck_assert_uint_eq(r->total, total);
}

#define U64S(...) ((const uint64_t[]){__VA_ARGS__})
#define INTS(...) ((const int[]){__VA_ARGS__})

/* ---- partial buckets ------------------------------------------------- */

START_TEST(intra_hour_range_one_partial_bucket)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:10:00Z", "2021-03-01T02:15:00Z",
	               "2021-03-01T02:20:00Z", "2021-03-01T02:44:59Z",
	               "2021-03-01T02:45:00Z", "2021-03-01T03:00:00Z"));
	int64_t a = ts("2021-03-01T02:15:00Z"), b = ts("2021-03-01T02:45:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, ts("2021-03-01T02:00:00Z"), 1, U64S(3), INTS(1));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(range_0215_to_1800)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:14:59Z", "2021-03-01T02:15:00Z",
	               "2021-03-01T02:59:59Z", "2021-03-01T03:00:00Z",
	               "2021-03-01T10:30:00Z", "2021-03-01T17:59:59.999Z",
	               "2021-03-01T18:00:00Z"));
	int64_t a = ts("2021-03-01T02:15:00Z"), b = ts("2021-03-01T18:00:00Z");
	uint64_t counts[16] = {0};
	int partials[16] = {0};
	counts[0] = 2;
	partials[0] = 1;
	counts[1] = 1;
	counts[8] = 1;
	counts[15] = 1;
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, ts("2021-03-01T02:00:00Z"), 16, counts, partials);
	ck_assert_int_eq(r->buckets[15].hour, ts("2021-03-01T17:00:00Z"));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(bounds_on_hours_no_partial)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T01:59:00Z", "2021-03-01T02:00:00Z",
	               "2021-03-01T04:59:00Z", "2021-03-01T05:00:00Z"));
	int64_t a = ts("2021-03-01T02:00:00Z"), b = ts("2021-03-01T05:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, a, 3, U64S(1, 0, 1), NULL);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(end_just_before_hour)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:58:59Z", "2021-03-01T02:59:00Z"));
	int64_t a = ts("2021-03-01T00:00:00Z"), b = ts("2021-03-01T02:59:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, a, 3, U64S(0, 0, 1), INTS(0, 0, 1));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(start_just_before_hour)
{
	evc_store *s = store_with("c", TIMES("2021-03-01T02:58:59Z",
	                                     "2021-03-01T02:59:30Z",
	                                     "2021-03-01T03:00:00Z"));
	int64_t a = ts("2021-03-01T02:59:00Z"), b = ts("2021-03-01T05:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, ts("2021-03-01T02:00:00Z"), 3, U64S(1, 1, 0),
	       INTS(1, 0, 0));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(start_just_after_hour)
{
	evc_store *s = store_with("c", TIMES("2021-03-01T03:00:59Z",
	                                     "2021-03-01T03:01:00Z",
	                                     "2021-03-01T04:00:00Z"));
	int64_t a = ts("2021-03-01T03:01:00Z"), b = ts("2021-03-01T05:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, ts("2021-03-01T03:00:00Z"), 2, U64S(1, 1), INTS(1, 0));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(end_just_after_hour)
{
	evc_store *s = store_with("c", TIMES("2021-03-01T03:00:00Z",
	                                     "2021-03-01T03:00:59Z",
	                                     "2021-03-01T03:01:00Z"));
	int64_t a = ts("2021-03-01T01:00:00Z"), b = ts("2021-03-01T03:01:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, b, a, 3, U64S(0, 0, 2), INTS(0, 0, 1));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(one_minute_range)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:14:59Z", "2021-03-01T02:15:00Z",
	               "2021-03-01T02:15:59.999Z", "2021-03-01T02:16:00Z"));
	int64_t a = ts("2021-03-01T02:15:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, a + 60);
	expect(r, a, a + 60, ts("2021-03-01T02:00:00Z"), 1, U64S(2), INTS(1));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

/* ---- edges of buckets and ranges --------------------------------------- */

START_TEST(first_and_last_minute_of_bucket)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T04:59:59.999Z", "2021-03-01T05:00:00Z",
	               "2021-03-01T05:59:59.999Z", "2021-03-01T06:00:00Z"));
	int64_t h5 = ts("2021-03-01T05:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", h5, h5 + H);
	expect(r, h5, h5 + H, h5, 1, U64S(2), NULL);
	evc_hourly_free(r);
	r = tu_hourly(s, "c", h5 - H, h5 + 2 * H);
	expect(r, h5 - H, h5 + 2 * H, h5 - H, 3, U64S(1, 2, 1), NULL);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(event_at_end_excluded_at_start_included)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:15:00Z", "2021-03-01T02:45:00Z"));
	int64_t a = ts("2021-03-01T02:15:00Z"), b = ts("2021-03-01T02:45:00Z");
	ck_assert_uint_eq(tu_bucket(s, "c", a, b, 0).count, 1);
	ck_assert_uint_eq(tu_total(s, "c", a - 60, b + 60), 2);
	ck_assert_uint_eq(tu_total(s, "c", a + 60, b), 0);
	ck_assert_uint_eq(tu_total(s, "c", b, b + 60), 1);
	ck_assert_uint_eq(tu_total(s, "c", a - 60, a), 0);
	evc_close(s);
}
END_TEST

/* ---- rollovers ---------------------------------------------------------- */

typedef struct rollover {
	const char *name;
	const char *ev1, *ev2;
	const char *hour1, *hour2; /* the two buckets, written out */
} rollover;

static const rollover rollovers[] = {
    {"day", "2021-03-01T23:30:00Z", "2021-03-02T00:30:00Z",
     "2021-03-01T23:00:00Z", "2021-03-02T00:00:00Z"},
    {"month", "2021-01-31T23:59:59Z", "2021-02-01T00:00:00Z",
     "2021-01-31T23:00:00Z", "2021-02-01T00:00:00Z"},
    {"year", "2020-12-31T23:59:00Z", "2021-01-01T00:00:00Z",
     "2020-12-31T23:00:00Z", "2021-01-01T00:00:00Z"},
    {"leap day", "2020-02-29T23:15:00Z", "2020-03-01T00:15:00Z",
     "2020-02-29T23:00:00Z", "2020-03-01T00:00:00Z"},
    {"february 28 in a common year", "2021-02-28T23:15:00Z",
     "2021-03-01T00:15:00Z", "2021-02-28T23:00:00Z", "2021-03-01T00:00:00Z"},
    {"century 2000", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z",
     "1999-12-31T23:00:00Z", "2000-01-01T00:00:00Z"},
    {"february 2100", "2100-02-28T23:30:00Z", "2100-03-01T00:30:00Z",
     "2100-02-28T23:00:00Z", "2100-03-01T00:00:00Z"},
    {"epoch", "1969-12-31T23:30:00Z", "1970-01-01T00:30:00Z",
     "1969-12-31T23:00:00Z", "1970-01-01T00:00:00Z"},
};

START_TEST(rollover_buckets)
{
	const rollover *ro = &rollovers[_i];
	evc_store *s = store_with("c", TIMES(ro->ev1, ro->ev2));
	int64_t h1 = ts(ro->hour1), h2 = ts(ro->hour2);
	ck_assert_msg(h2 == h1 + H, "%s: test data", ro->name);
	evc_hourly_result *r = tu_hourly(s, "c", h1 - H, h2 + 2 * H);
	expect(r, h1 - H, h2 + 2 * H, h1 - H, 4, U64S(0, 1, 1, 0), NULL);
	evc_hourly_free(r);
	/* Partial on both sides of the boundary. */
	r = tu_hourly(s, "c", h1 + 10 * 60, h2 + 50 * 60);
	ck_assert_uint_eq(r->n_buckets, 2);
	ck_assert_int_eq(r->buckets[0].hour, h1);
	ck_assert_int_eq(r->buckets[1].hour, h2);
	ck_assert_int_eq(r->buckets[0].partial, 1);
	ck_assert_int_eq(r->buckets[1].partial, 1);
	ck_assert_uint_eq(r->total, 2);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

/* ---- offsets ------------------------------------------------------------ */

START_TEST(offset_moves_event_to_previous_day)
{
	evc_store *s = store_with("c", TIMES("2021-03-01 00:30:00+01"));
	int64_t a = ts("2021-02-28T22:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, a + 4 * H);
	expect(r, a, a + 4 * H, a, 4, U64S(0, 1, 0, 0), NULL);
	ck_assert_int_eq(r->buckets[1].hour, ts("2021-02-28T23:00:00Z"));
	evc_hourly_free(r);
	ck_assert_uint_eq(tu_total(s, "c", ts("2021-03-01"), ts("2021-03-02")),
	                  0);
	evc_close(s);
}
END_TEST

START_TEST(offset_moves_event_to_next_day)
{
	evc_store *s = store_with("c", TIMES("2021-02-28 23:30:00-08:00"));
	int64_t a = ts("2021-03-01T06:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, a + 3 * H);
	expect(r, a, a + 3 * H, a, 3, U64S(0, 1, 0), NULL);
	ck_assert_int_eq(r->buckets[1].hour, ts("2021-03-01T07:00:00Z"));
	evc_hourly_free(r);
	ck_assert_uint_eq(tu_total(s, "c", ts("2021-02-28"), ts("2021-03-01")),
	                  0);
	evc_close(s);
}
END_TEST

START_TEST(bounds_with_offsets)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:14:00Z", "2021-03-01T02:15:00Z",
	               "2021-03-01T05:59:00Z", "2021-03-01T06:00:00Z"));
	int64_t a = ts("2021-03-01T03:15:00+01:00");
	int64_t b = ts("2021-02-28T22:00:00-08:00");
	ck_assert_int_eq(a, ts("2021-03-01T02:15:00Z"));
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, a, ts("2021-03-01T06:00:00Z"), ts("2021-03-01T02:00:00Z"), 4,
	       U64S(1, 0, 0, 1), INTS(1, 0, 0, 0));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

/* ---- flooring ------------------------------------------------------- */

START_TEST(bounds_with_seconds_floored)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:14:59Z", "2021-03-01T02:15:10Z",
	               "2021-03-01T03:09:59Z", "2021-03-01T03:10:10Z"));
	int64_t a = ts("2021-03-01T02:15:59Z"), b = ts("2021-03-01T03:10:30Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, b);
	expect(r, ts("2021-03-01T02:15:00Z"), ts("2021-03-01T03:10:00Z"),
	       ts("2021-03-01T02:00:00Z"), 2, U64S(1, 1), INTS(1, 1));
	evc_hourly_free(r);
	/* Seconds that floor onto an hour give a full bucket. */
	r = tu_hourly(s, "c", ts("2021-03-01T02:00:59Z"),
	              ts("2021-03-01T03:00:30Z"));
	expect(r, ts("2021-03-01T02:00:00Z"), ts("2021-03-01T03:00:00Z"),
	       ts("2021-03-01T02:00:00Z"), 1, U64S(2), NULL);
	evc_hourly_free(r);
	/* Before 1970 the floor goes down, not toward zero. */
	r = tu_hourly(s, "c", -30, 90);
	ck_assert_int_eq(r->start, -60);
	ck_assert_int_eq(r->end, 60);
	ck_assert_uint_eq(r->n_buckets, 2);
	ck_assert_int_eq(r->buckets[0].hour, -H);
	ck_assert_int_eq(r->buckets[1].hour, 0);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(start_not_before_end)
{
	evc_store *s = store_with("c", TIMES("2021-03-01T02:15:00Z"));
	int64_t a = ts("2021-03-01T02:15:00Z");
	evc_hourly_result *r = (evc_hourly_result *)&r;
	ck_assert_int_eq(evc_hourly(s, "c", a, a, &r), EVC_EINVAL);
	ck_assert_ptr_null(r);
	r = (evc_hourly_result *)&r;
	ck_assert_int_eq(evc_hourly(s, "c", a + H, a, &r), EVC_EINVAL);
	ck_assert_ptr_null(r);
	/* Different seconds, same minute once floored. */
	r = (evc_hourly_result *)&r;
	ck_assert_int_eq(evc_hourly(s, "c", a + 10, a + 50, &r), EVC_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_str_ne(evc_errmsg(s), "");
	evc_close(s);
}
END_TEST

/* ---- whole-range behaviour ------------------------------------------- */

START_TEST(out_of_order_and_duplicate_rows)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T04:10:00Z", "2021-03-01T02:10:00Z",
	               "2021-03-01T04:10:00Z", "2021-03-01T03:59:59Z",
	               "2021-03-01T02:10:00Z", "2021-03-01T04:10:00Z",
	               "2021-03-01T02:59:00Z"));
	int64_t a = ts("2021-03-01T02:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, a + 3 * H);
	expect(r, a, a + 3 * H, a, 3, U64S(3, 1, 3), NULL);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(counts_added_across_ingests)
{
	evc_store *s = store_with(
	    "c", TIMES("2021-03-01T02:10:00Z", "2021-03-01T03:10:00Z"));
	ingest_times(s, "c",
	             TIMES("2021-03-01T02:10:30Z", "2021-03-01T02:20:00Z",
	                   "2021-03-01T04:00:00Z"));
	int64_t a = ts("2021-03-01T02:00:00Z");
	evc_hourly_result *r = tu_hourly(s, "c", a, a + 3 * H);
	expect(r, a, a + 3 * H, a, 3, U64S(3, 1, 1), NULL);
	evc_hourly_free(r);
	/* Same minute from both ingests. */
	ck_assert_uint_eq(tu_total(s, "c", a + 10 * 60, a + 11 * 60), 2);
	evc_close(s);
}
END_TEST

START_TEST(absent_customer_all_zero)
{
	evc_store *s = store_with("c", TIMES("2021-03-01T02:10:00Z"));
	int64_t a = ts("2021-03-01T00:00:00Z");
	uint64_t zeros[24] = {0};
	evc_hourly_result *r = tu_hourly(s, "nobody", a, a + 24 * H);
	expect(r, a, a + 24 * H, a, 24, zeros, NULL);
	evc_hourly_free(r);
	/* Ids are exact bytes. */
	r = tu_hourly(s, "C", a, a + 24 * H);
	expect(r, a, a + 24 * H, a, 24, zeros, NULL);
	evc_hourly_free(r);
	r = tu_hourly(s, "c ", a, a + 24 * H);
	expect(r, a, a + 24 * H, a, 24, zeros, NULL);
	evc_hourly_free(r);
	r = tu_hourly(s, "", a, a + 24 * H);
	expect(r, a, a + 24 * H, a, 24, zeros, NULL);
	evc_hourly_free(r);
	evc_close(s);
	/* An empty store. */
	s = tu_mem_store();
	r = tu_hourly(s, "c", a + 30 * 60, a + 24 * H);
	ck_assert_uint_eq(r->n_buckets, 24);
	ck_assert_uint_eq(r->total, 0);
	ck_assert_int_eq(r->buckets[0].partial, 1);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(multi_day_range)
{
	evc_store *s = tu_mem_store();
	int64_t a = ts("2021-02-27T00:00:00Z");
	uint64_t counts[72];
	char *csv = malloc(72 * 3 * 128);
	size_t len = 0;
	ck_assert_ptr_nonnull(csv);
	csv[0] = '\0';
	for (int i = 0; i < 72; i++) {
		char t[EVC_TIME_BUFSZ];
		int n = 1 + i % 3;
		counts[i] = (uint64_t)n;
		ck_assert_int_eq(
		    evc_format_time(a + i * H + 30 * 60 + i, t, sizeof(t)), 20);
		for (int k = 0; k < n; k++)
			len += (size_t)sprintf(csv + len, "c,click,%s,%s\n",
			                       TU_UUID, t);
	}
	tu_ingest_ok(s, csv);
	free(csv);
	evc_hourly_result *r = tu_hourly(s, "c", a, a + 72 * H);
	expect(r, a, a + 72 * H, a, 72, counts, NULL);
	ck_assert_int_eq(r->buckets[48].hour, ts("2021-03-01T00:00:00Z"));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(customers_kept_apart)
{
	evc_store *s = tu_mem_store();
	ingest_times(s, "c", TIMES("2021-03-01T02:10:00Z"));
	ingest_times(s, "C",
	             TIMES("2021-03-01T02:10:00Z", "2021-03-01T02:11:00Z"));
	ingest_times(s, "c1",
	             TIMES("2021-03-01T02:10:00Z", "2021-03-01T02:11:00Z",
	                   "2021-03-01T02:12:00Z"));
	int64_t a = ts("2021-03-01T02:00:00Z");
	ck_assert_uint_eq(tu_total(s, "c", a, a + H), 1);
	ck_assert_uint_eq(tu_total(s, "C", a, a + H), 2);
	ck_assert_uint_eq(tu_total(s, "c1", a, a + H), 3);
	evc_close(s);
}
END_TEST

/* ---- limits ------------------------------------------------------- */

START_TEST(too_many_buckets)
{
	evc_store *s = tu_mem_store();
	evc_hourly_result *r = NULL;
	const int64_t max = EVC_HOURLY_MAX_BUCKETS;
	ck_assert_int_eq(evc_hourly(s, "c", 0, (max + 1) * H, &r), EVC_ERANGE);
	ck_assert_ptr_null(r);
	/* One minute into an extra hour is an extra bucket. */
	ck_assert_int_eq(evc_hourly(s, "c", 0, max * H + 60, &r), EVC_ERANGE);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(evc_hourly(s, "c", 30 * 60, max * H + 60, &r),
	                 EVC_ERANGE);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(evc_hourly(s, "c", EVC_TIME_MIN, EVC_TIME_MAX, &r),
	                 EVC_ERANGE);
	ck_assert_ptr_null(r);
	ck_assert_str_ne(evc_errmsg(s), "");
	/* Exactly the maximum is fine. A million buckets take minutes under
	 * valgrind, whose setup sets EVC_TEST_SCALE; the code path is the
	 * one every smaller query takes. */
	const char *scale = getenv("EVC_TEST_SCALE");
	if (scale && atoi(scale) > 1) {
		evc_close(s);
		return;
	}
	r = tu_hourly(s, "c", 30 * 60, max * H);
	ck_assert_uint_eq(r->n_buckets, (size_t)max);
	ck_assert_int_eq(r->buckets[0].partial, 1);
	ck_assert_int_eq(r->buckets[max - 1].hour, (max - 1) * H);
	ck_assert_uint_eq(r->total, 0);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(bounds_out_of_range)
{
	evc_store *s = tu_mem_store();
	evc_hourly_result *r = NULL;
	ck_assert_int_eq(
	    evc_hourly(s, "c", EVC_TIME_MIN - 60, EVC_TIME_MIN + H, &r),
	    EVC_ERANGE);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(
	    evc_hourly(s, "c", EVC_TIME_MIN - 1, EVC_TIME_MIN + H, &r),
	    EVC_ERANGE);
	ck_assert_int_eq(
	    evc_hourly(s, "c", EVC_TIME_MAX - H, EVC_TIME_MAX + 86400, &r),
	    EVC_ERANGE);
	ck_assert_int_eq(evc_hourly(s, "c", INT64_MIN, 0, &r), EVC_ERANGE);
	ck_assert_int_eq(evc_hourly(s, "c", 0, INT64_MAX, &r), EVC_ERANGE);
	ck_assert_int_eq(evc_hourly(s, "c", INT64_MIN, INT64_MAX, &r),
	                 EVC_ERANGE);
	ck_assert_int_eq(evc_hourly(s, "c", INT64_MAX - 100, INT64_MAX, &r),
	                 EVC_ERANGE);
	ck_assert_ptr_null(r);
	evc_close(s);
}
END_TEST

START_TEST(extreme_times_counted)
{
	evc_store *s = store_with(
	    "c", TIMES("0000-01-01T00:00:30Z", "0000-01-01T00:59:59Z",
	               "9999-12-31T23:58:30Z", "9999-12-31T23:59:59Z"));
	evc_hourly_result *r =
	    tu_hourly(s, "c", EVC_TIME_MIN, EVC_TIME_MIN + H);
	expect(r, EVC_TIME_MIN, EVC_TIME_MIN + H, EVC_TIME_MIN, 1, U64S(2),
	       NULL);
	evc_hourly_free(r);
	/* End at EVC_TIME_MAX floors to 23:59: the last minute is out. */
	int64_t h = ts("9999-12-31T23:00:00Z");
	r = tu_hourly(s, "c", EVC_TIME_MAX - 3599, EVC_TIME_MAX);
	expect(r, h, EVC_TIME_MAX - 59, h, 1, U64S(1), INTS(1));
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

START_TEST(null_arguments)
{
	evc_store *s = tu_mem_store();
	evc_hourly_result *r = NULL;
	ck_assert_int_eq(evc_hourly(NULL, "c", 0, H, &r), EVC_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(evc_hourly(s, NULL, 0, H, &r), EVC_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(evc_hourly(s, "c", 0, H, NULL), EVC_EINVAL);
	evc_close(s);
}
END_TEST

START_TEST(hours_before_1970)
{
	evc_store *s = store_with("c", TIMES("1969-12-31T22:30:00Z",
	                                     "1969-12-31T23:59:59Z",
	                                     "1969-12-31 19:30:00-05:00"));
	int64_t a = ts("1969-12-31T22:00:00Z");
	ck_assert_int_eq(a, -2 * H);
	evc_hourly_result *r = tu_hourly(s, "c", a, H);
	expect(r, a, H, a, 3, U64S(1, 1, 1), NULL);
	evc_hourly_free(r);
	evc_close(s);
}
END_TEST

/* ---- differential test against a naive count ---------------------------- */

enum { N_EVENTS = 3000, N_CUST = 3, N_QUERIES = 300 };

typedef struct event {
	int cust;
	int64_t t;
} event;

static const char *const cust_names[N_CUST] = {"alpha", "beta, inc",
                                               "\xce\xb3"};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Write t as a local time in a random zone style, via glibc's gmtime_r. */
static void format_random(uint64_t *st, int64_t t, char *buf, size_t len)
{
	static const char *const seps = "Tt ";
	int style = (int)tu_rand_below(st, 8);
	int off_min = 0;
	char zone[16] = "";

	switch (style) {
	case 0:
		strcpy(zone, "Z");
		break;
	case 1:
		strcpy(zone, "z");
		break;
	case 2:
		break; /* no zone: UTC */
	case 3:        /* +HH */
		off_min = ((int)tu_rand_below(st, 47) - 23) * 60;
		break;
	default: /* +HHMM, +HH:MM */
		off_min = (int)tu_rand_below(st, 2 * 1439 + 1) - 1439;
		break;
	}
	if (style >= 3) {
		int a = off_min < 0 ? -off_min : off_min;
		char sign = off_min < 0 ? '-' : '+';
		if (style == 3)
			snprintf(zone, sizeof(zone), "%c%02d", sign, a / 60);
		else if (style % 2 == 0)
			snprintf(zone, sizeof(zone), "%c%02d%02d", sign, a / 60,
			         a % 60);
		else
			snprintf(zone, sizeof(zone), "%c%02d:%02d", sign,
			         a / 60, a % 60);
	}
	time_t local = (time_t)(t + off_min * 60);
	struct tm tm;
	ck_assert_ptr_nonnull(gmtime_r(&local, &tm));
	char frac[16] = "";
	if (tu_rand_below(st, 2)) {
		int digits = 1 + (int)tu_rand_below(st, 9);
		frac[0] = '.';
		for (int i = 1; i <= digits; i++)
			frac[i] = (char)('0' + tu_rand_below(st, 10));
		frac[digits + 1] = '\0';
	}
	snprintf(buf, len, "%04d-%02d-%02d%c%02d:%02d:%02d%s%s",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         seps[tu_rand_below(st, 3)], tm.tm_hour, tm.tm_min, tm.tm_sec,
	         frac, zone);
}

START_TEST(differential_random_ranges)
{
	uint64_t st = 0xe7c0u + (uint64_t)_i;
	const int64_t base = ts("2021-02-27T00:00:00Z");
	const int64_t span = 3 * 86400;
	event *ev = malloc(N_EVENTS * sizeof(*ev));
	ck_assert_ptr_nonnull(ev);

	/* Two inputs, so the counts of both add up. */
	size_t cap = N_EVENTS * 128, len[2] = {0, 0};
	char *csv[2] = {malloc(cap), malloc(cap)};
	ck_assert_ptr_nonnull(csv[0]);
	ck_assert_ptr_nonnull(csv[1]);
	for (int i = 0; i < N_EVENTS; i++) {
		ev[i].cust = (int)tu_rand_below(&st, N_CUST);
		/* Cluster some events on hour and minute edges. */
		int64_t t = base + (int64_t)tu_rand_below(&st, (uint64_t)span);
		switch (tu_rand_below(&st, 6)) {
		case 0:
			t = floor_div(t, H) * H;
			break;
		case 1:
			t = floor_div(t, H) * H + H - 1;
			break;
		case 2:
			t = floor_div(t, 60) * 60;
			break;
		default:
			break;
		}
		if (i > 0 && tu_rand_below(&st, 20) == 0)
			t = ev[i - 1].t; /* duplicates */
		ev[i].t = t;
		char tsbuf[64];
		format_random(&st, t, tsbuf, sizeof(tsbuf));
		const char *name = cust_names[ev[i].cust];
		int k = (int)tu_rand_below(&st, 2);
		int n = snprintf(csv[k] + len[k], cap - len[k],
		                 strchr(name, ',') ? "\"%s\",click,%s,%s\n"
		                                   : "%s,click,%s,%s\n",
		                 name, TU_UUID, tsbuf);
		ck_assert(n > 0 && (size_t)n < cap - len[k]);
		len[k] += (size_t)n;
	}
	evc_store *s = tu_mem_store();
	for (int k = 0; k < 2; k++) {
		tu_ingest_ok(s, csv[k]);
		free(csv[k]);
	}

	uint64_t *want = malloc(200 * sizeof(*want));
	ck_assert_ptr_nonnull(want);
	for (int q = 0; q < N_QUERIES; q++) {
		int c = (int)tu_rand_below(&st, N_CUST);
		int64_t qa =
		    base - 2 * H +
		    (int64_t)tu_rand_below(&st, (uint64_t)span + 4 * H);
		int64_t qlen;
		switch (tu_rand_below(&st, 3)) {
		case 0:
			qlen = 1 + (int64_t)tu_rand_below(&st, 2 * H);
			break;
		case 1:
			qlen = 1 + (int64_t)tu_rand_below(&st, 30 * H);
			break;
		default:
			qlen = 1 + (int64_t)tu_rand_below(&st, 80 * H);
			break;
		}
		if (tu_rand_below(&st, 4) == 0)
			qa = floor_div(qa, H) * H; /* on an hour */
		int64_t qb = qa + qlen;
		int64_t S = floor_div(qa, 60) * 60, E = floor_div(qb, 60) * 60;
		if (S >= E) {
			evc_hourly_result *bad = NULL;
			ck_assert_int_eq(
			    evc_hourly(s, cust_names[c], qa, qb, &bad),
			    EVC_EINVAL);
			continue;
		}
		int64_t h0 = floor_div(S, H) * H;
		size_t n = (size_t)(floor_div(E - 1, H) * H - h0) / H + 1;
		ck_assert_uint_le(n, 200);
		memset(want, 0, n * sizeof(*want));
		uint64_t want_total = 0;
		for (int i = 0; i < N_EVENTS; i++) {
			if (ev[i].cust != c || ev[i].t < S || ev[i].t >= E)
				continue;
			want[(ev[i].t - h0) / H]++;
			want_total++;
		}
		evc_hourly_result *r = tu_hourly(s, cust_names[c], qa, qb);
		char b1[EVC_TIME_BUFSZ], b2[EVC_TIME_BUFSZ];
		ck_assert_int_eq(r->start, S);
		ck_assert_int_eq(r->end, E);
		ck_assert_msg(r->n_buckets == n,
		              "query %d [%s, %s): %zu buckets, want %zu", q,
		              tu_fmt(qa, b1), tu_fmt(qb, b2), r->n_buckets, n);
		ck_assert_uint_eq(r->total, want_total);
		for (size_t i = 0; i < n; i++) {
			int64_t h = h0 + (int64_t)i * H;
			int64_t lo = S > h ? S : h;
			int64_t hi = E < h + H ? E : h + H;
			int partial = hi - lo < H;
			ck_assert_int_eq(r->buckets[i].hour, h);
			ck_assert_msg(r->buckets[i].count == want[i],
			              "query %d %s [%s, %s) bucket %zu: %llu, "
			              "want %llu",
			              q, cust_names[c], tu_fmt(qa, b1),
			              tu_fmt(qb, b2), i,
			              (unsigned long long)r->buckets[i].count,
			              (unsigned long long)want[i]);
			ck_assert_int_eq(r->buckets[i].partial, partial);
		}
		evc_hourly_free(r);
	}
	free(want);
	free(ev);
	evc_close(s);
}
END_TEST

static Suite *hourly_suite(void)
{
	Suite *s = suite_create("hourly");
	TCase *tc;

	tc = tcase_create("partial_buckets");
	tcase_add_test(tc, intra_hour_range_one_partial_bucket);
	tcase_add_test(tc, range_0215_to_1800);
	tcase_add_test(tc, bounds_on_hours_no_partial);
	tcase_add_test(tc, end_just_before_hour);
	tcase_add_test(tc, start_just_before_hour);
	tcase_add_test(tc, start_just_after_hour);
	tcase_add_test(tc, end_just_after_hour);
	tcase_add_test(tc, one_minute_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, first_and_last_minute_of_bucket);
	tcase_add_test(tc, event_at_end_excluded_at_start_included);
	suite_add_tcase(s, tc);

	tc = tcase_create("rollovers");
	tcase_add_loop_test(tc, rollover_buckets, 0,
	                    (int)(sizeof(rollovers) / sizeof(rollovers[0])));
	tcase_add_test(tc, hours_before_1970);
	suite_add_tcase(s, tc);

	tc = tcase_create("offsets");
	tcase_add_test(tc, offset_moves_event_to_previous_day);
	tcase_add_test(tc, offset_moves_event_to_next_day);
	tcase_add_test(tc, bounds_with_offsets);
	suite_add_tcase(s, tc);

	tc = tcase_create("flooring");
	tcase_add_test(tc, bounds_with_seconds_floored);
	tcase_add_test(tc, start_not_before_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges");
	tcase_add_test(tc, out_of_order_and_duplicate_rows);
	tcase_add_test(tc, counts_added_across_ingests);
	tcase_add_test(tc, absent_customer_all_zero);
	tcase_add_test(tc, multi_day_range);
	tcase_add_test(tc, customers_kept_apart);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, too_many_buckets);
	tcase_add_test(tc, bounds_out_of_range);
	tcase_add_test(tc, extreme_times_counted);
	tcase_add_test(tc, null_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, differential_random_ranges, 0, 3);
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(hourly_suite)
