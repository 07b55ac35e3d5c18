/* SPDX-License-Identifier: MIT */
/*
 * Counts in buckets of any width, in any time zone: the boundary rule at
 * real transitions (table-driven; expected instants worked out by hand
 * from the published transitions named in each row), widths, evc_counts()
 * over a store (one, many, all and the top customers, partial buckets,
 * sparse output, errors), and a differential test against a per-minute
 * count over generated data with random widths, zones and ranges.
 */
#include "buckets.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static evc_tz *zone(const char *name)
{
	char why[256];
	evc_tz *tz = NULL;
	int rc = evc__tz_load(&tz, name, why, sizeof(why));
	ck_assert_msg(rc == EVC_OK, "%s: %s", name, why);
	return tz;
}

static evc_width width(const char *name)
{
	evc_width w;
	char why[160];
	ck_assert_msg(evc__width_parse(name, &w, why, sizeof(why)) == EVC_OK,
	              "%s: %s", name, why);
	return w;
}

/* ---- the boundary rule at real transitions ---------------------------------
 */

struct bounds_case {
	const char *what;
	const char *tz, *width;
	const char *start, *end; /* the range, UTC */
	/* Every boundary, UTC, b[0] to b[n]: NULL-terminated. */
	const char *b[8];
};

static const struct bounds_case bounds_cases[] = {
    /* America/New_York: EST (-5) to EDT (-4) on 2021-03-14 at 02:00. */
    {"New York, spring forward: a 23-hour day",
     "America/New_York",
     "day",
     "2021-03-14T12:00:00Z",
     "2021-03-14T13:00:00Z",
     {"2021-03-14T05:00:00Z", "2021-03-15T04:00:00Z"}},
    {"New York, spring forward: no 02:00 hour",
     "America/New_York",
     "hour",
     "2021-03-14T06:00:00Z",
     "2021-03-14T09:00:00Z",
     {"2021-03-14T06:00:00Z", "2021-03-14T07:00:00Z", "2021-03-14T08:00:00Z",
      "2021-03-14T09:00:00Z"}},
    /* EDT to EST on 2021-11-07 at 02:00: 01:00-02:00 twice. */
    {"New York, fall back: a 25-hour day",
     "America/New_York",
     "day",
     "2021-11-07T12:00:00Z",
     "2021-11-07T13:00:00Z",
     {"2021-11-07T04:00:00Z", "2021-11-08T05:00:00Z"}},
    {"New York, fall back: the 01:00 hour holds both passes",
     "America/New_York",
     "hour",
     "2021-11-07T05:30:00Z",
     "2021-11-07T06:30:00Z",
     {"2021-11-07T05:00:00Z", "2021-11-07T07:00:00Z"}},
    {"New York, fall back: 30-minute buckets, 01:30 holds 90 minutes",
     "America/New_York",
     "30m",
     "2021-11-07T05:00:00Z",
     "2021-11-07T07:00:00Z",
     {"2021-11-07T05:00:00Z", "2021-11-07T05:30:00Z", "2021-11-07T07:00:00Z"}},
    /* Australia/Lord_Howe: +10:30 to +11 on 2021-10-03 at 02:00 (to
     * 02:30), back on 2021-04-04 at 02:00 (to 01:30). */
    {"Lord Howe, spring: the hour after the change is 30 minutes",
     "Australia/Lord_Howe",
     "hour",
     "2021-10-02T14:30:00Z",
     "2021-10-02T16:30:00Z",
     {"2021-10-02T14:30:00Z", "2021-10-02T15:30:00Z", "2021-10-02T16:00:00Z",
      "2021-10-02T17:00:00Z"}},
    {"Lord Howe, autumn: the hour of the change is 90 minutes",
     "Australia/Lord_Howe",
     "hour",
     "2021-04-03T14:00:00Z",
     "2021-04-03T15:30:00Z",
     {"2021-04-03T14:00:00Z", "2021-04-03T15:30:00Z"}},
    /* Pacific/Apia: from -10 to +14 at the end of 2011-12-29, skipping
     * 2011-12-30. */
    {"Apia: 2011-12-30 has no bucket",
     "Pacific/Apia",
     "day",
     "2011-12-29T10:00:00Z",
     "2011-12-31T10:00:00Z",
     {"2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z", "2011-12-31T10:00:00Z"}},
    /* Asia/Kolkata, +05:30 since 1945. */
    {"Kolkata: days from 18:30 UTC",
     "Asia/Kolkata",
     "day",
     "2021-03-01T00:00:00Z",
     "2021-03-02T00:00:00Z",
     {"2021-02-28T18:30:00Z", "2021-03-01T18:30:00Z", "2021-03-02T18:30:00Z"}},
    /* Asia/Kathmandu, +05:45 since 1986. */
    {"Kathmandu: hours from a quarter past",
     "Asia/Kathmandu",
     "hour",
     "2021-03-01T00:00:00Z",
     "2021-03-01T01:00:00Z",
     {"2021-02-28T23:15:00Z", "2021-03-01T00:15:00Z", "2021-03-01T01:15:00Z"}},
    /* Pacific/Chatham: +13:45 in its summer, until 2021-04-04. */
    {"Chatham: midnight at 10:15 UTC",
     "Pacific/Chatham",
     "day",
     "2021-03-01T12:00:00Z",
     "2021-03-01T13:00:00Z",
     {"2021-03-01T10:15:00Z", "2021-03-02T10:15:00Z"}},
    /* Australia/Sydney: +11 to +10 on 2021-04-04 at 03:00. */
    {"Sydney, autumn: a 25-hour day",
     "Australia/Sydney",
     "day",
     "2021-04-04T00:00:00Z",
     "2021-04-04T01:00:00Z",
     {"2021-04-03T13:00:00Z", "2021-04-04T14:00:00Z"}},
    /* Europe/Moscow: +3 to +4 for good on 2011-03-27 at 02:00; +4 to +3
     * on 2014-10-26 at 02:00. */
    {"Moscow 2011: standard offset +3 to +4, a 23-hour day",
     "Europe/Moscow",
     "day",
     "2011-03-27T12:00:00Z",
     "2011-03-27T13:00:00Z",
     {"2011-03-26T21:00:00Z", "2011-03-27T20:00:00Z"}},
    {"Moscow 2014: standard offset +4 to +3, a 25-hour day",
     "Europe/Moscow",
     "day",
     "2014-10-26T12:00:00Z",
     "2014-10-26T13:00:00Z",
     {"2014-10-25T20:00:00Z", "2014-10-26T21:00:00Z"}},
    /* Before 1970: New York's DST began on the last Sunday of April. */
    {"New York 1960: a 23-hour day",
     "America/New_York",
     "day",
     "1960-04-24T12:00:00Z",
     "1960-04-24T13:00:00Z",
     {"1960-04-24T05:00:00Z", "1960-04-25T04:00:00Z"}},
    /* After 2037, past the listed transitions: the footer's rule, second
     * Sunday of March and first of November (2100-03-14, 2100-11-07). */
    {"New York 2100, spring: the footer rule",
     "America/New_York",
     "day",
     "2100-03-14T12:00:00Z",
     "2100-03-14T13:00:00Z",
     {"2100-03-14T05:00:00Z", "2100-03-15T04:00:00Z"}},
    {"New York 2100, autumn: the footer rule",
     "America/New_York",
     "day",
     "2100-11-07T12:00:00Z",
     "2100-11-07T13:00:00Z",
     {"2100-11-07T04:00:00Z", "2100-11-08T05:00:00Z"}},
    /* Local mean time, -4:56:02, until 1883-11-18: midnight is at
     * 04:56:02 UTC, a boundary at the next whole minute. */
    {"New York 1883, local mean time: boundaries round up to a minute",
     "America/New_York",
     "day",
     "1883-11-10T12:00:00Z",
     "1883-11-10T13:00:00Z",
     {"1883-11-10T04:57:00Z", "1883-11-11T04:57:00Z"}},
    {"a fixed offset, +05:30",
     "+05:30",
     "day",
     "2021-03-01T00:00:00Z",
     "2021-03-01T01:00:00Z",
     {"2021-02-28T18:30:00Z", "2021-03-01T18:30:00Z"}},
    {"ISO weeks across a year end: from Monday 2020-12-28",
     "UTC",
     "week",
     "2021-01-01T00:00:00Z",
     "2021-01-05T00:00:00Z",
     {"2020-12-28T00:00:00Z", "2021-01-04T00:00:00Z", "2021-01-11T00:00:00Z"}},
    {"months of 31, 28 and 31 days",
     "UTC",
     "month",
     "2021-01-15T00:00:00Z",
     "2021-03-02T00:00:00Z",
     {"2021-01-01T00:00:00Z", "2021-02-01T00:00:00Z", "2021-03-01T00:00:00Z",
      "2021-04-01T00:00:00Z"}},
    {"a leap February, 29 days; April, 30",
     "UTC",
     "month",
     "2024-02-10T00:00:00Z",
     "2024-04-10T00:00:00Z",
     {"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z",
      "2024-05-01T00:00:00Z"}},
    {"New York months: each from local midnight",
     "America/New_York",
     "month",
     "2021-03-01T12:00:00Z",
     "2021-03-31T12:00:00Z",
     {"2021-03-01T05:00:00Z", "2021-04-01T04:00:00Z"}},
    {"all: the range itself",
     "America/New_York",
     "all",
     "2021-03-01T12:34:00Z",
     "2021-03-09T01:00:00Z",
     {"2021-03-01T12:34:00Z", "2021-03-09T01:00:00Z"}},
};

START_TEST(boundaries_at_real_transitions)
{
	const struct bounds_case *c = &bounds_cases[_i];
	evc_tz *tz = zone(c->tz);
	const evc_width w = width(c->width);
	int64_t *b;
	size_t n, want = 0;

	while (want < 8 && c->b[want])
		want++;
	ck_assert_int_eq(
	    evc__bucket_bounds(tz, &w, ts(c->start), ts(c->end), 1000, &b, &n),
	    EVC_OK);
	char got[EVC_TIME_BUFSZ];
	ck_assert_msg(n + 1 == want, "%s: %zu buckets, want %zu (first %s)",
	              c->what, n, want - 1, tu_fmt(b[0], got));
	for (size_t i = 0; i < want; i++)
		ck_assert_msg(b[i] == ts(c->b[i]),
		              "%s: boundary %zu is %s, want %s", c->what, i,
		              tu_fmt(b[i], got), c->b[i]);
	free(b);
	evc__tz_free(tz);
}
END_TEST

START_TEST(widths_parse_and_name)
{
	static const char *const good[] = {
	    "minute", "1m",  "5m",  "15m",   "30m", "90m",  "hour",  "1h", "2h",
	    "3h",     "12h", "24h", "1440m", "day", "week", "month", "all"};
	static const char *const names[] = {
	    "minute", "minute", "5m",   "15m",   "30m", "90m",
	    "hour",   "hour",   "2h",   "3h",    "12h", "day",
	    "day",    "day",    "week", "month", "all"};
	static const char *const bad[] = {
	    "",  "0m", "7m",    "5h",    "25h", "-5m", "05m",
	    "5", "m",  "hours", "2880m", "1d",  "1 h", "99999m"};
	char buf[EVC_WIDTH_NAME_MAX], why[160];
	evc_width w;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(evc__width_parse(good[i], &w, why, sizeof(why)) ==
		                  EVC_OK,
		              "%s: %s", good[i], why);
		ck_assert_str_eq(evc__width_name(&w, buf), names[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(evc__width_parse(bad[i], &w, why, sizeof(why)) ==
		                  EVC_EINVAL,
		              "%s accepted", bad[i]);
		ck_assert(why[0] != '\0');
	}
}
END_TEST

START_TEST(too_many_buckets_refused)
{
	evc_tz *tz = zone("UTC");
	const evc_width w = width("minute");
	int64_t *b = (int64_t *)&b;
	size_t n = 7;
	ck_assert_int_eq(evc__bucket_bounds(tz, &w, ts("2021-03-01"),
	                                    ts("2021-03-02"), 1439, &b, &n),
	                 EVC_ERANGE);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(evc__bucket_bounds(tz, &w, ts("2021-03-01"),
	                                    ts("2021-03-02"), 1440, &b, &n),
	                 EVC_OK);
	ck_assert_uint_eq(n, 1440);
	free(b);
	evc__tz_free(tz);
}
END_TEST

/* ---- evc_counts() over a store ----------------------------------------------
 */

struct got {
	size_t n;
	char id[16][64];
	uint64_t total[16];
	size_t n_buckets[16];
	evc_count_bucket b[16][64];
	int utc;
};

static int keep(const evc_customer_counts *c, void *payload)
{
	struct got *g = payload;
	ck_assert_uint_lt(g->n, 16);
	snprintf(g->id[g->n], sizeof(g->id[0]), "%s", c->customer_id);
	g->total[g->n] = c->total;
	g->n_buckets[g->n] = c->n_buckets;
	for (size_t i = 0; i < c->n_buckets && i < 64; i++)
		g->b[g->n][i] = c->buckets[i];
	g->utc = c->zone_is_utc;
	g->n++;
	return 0;
}

static struct got *count(evc_store *s, const char *const *ids, size_t n,
                         const char *start, const char *end, const char *bucket,
                         const char *tz, size_t top, int sparse)
{
	static struct got g;
	evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;
	memset(&g, 0, sizeof(g));
	o.customers = ids;
	o.n_customers = n;
	o.start = ts(start);
	o.end = ts(end);
	o.bucket = bucket;
	o.tz = tz;
	o.top = top;
	o.sparse = sparse;
	int rc = evc_counts(s, &o, keep, &g);
	ck_assert_msg(rc == EVC_OK, "evc_counts: %s", evc_errmsg(s));
	return &g;
}

/* New York's repeated hour: 01:30 EDT (05:30Z) and 01:30 EST (06:30Z). */
START_TEST(repeated_hour_is_one_bucket_with_both_passes)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, "ny,click," TU_UUID ",2021-11-07T05:30:00Z\n"
	                "ny,click," TU_UUID ",2021-11-07T06:30:00Z\n"
	                "ny,click," TU_UUID ",2021-11-07T07:10:00Z\n");
	const char *ids[] = {"ny"};
	struct got *g =
	    count(s, ids, 1, "2021-11-07T04:00:00Z", "2021-11-07T08:00:00Z",
	          "hour", "America/New_York", 0, 0);
	ck_assert_uint_eq(g->n, 1);
	ck_assert_uint_eq(g->n_buckets[0], 3);
	ck_assert_int_eq(g->b[0][1].start, ts("2021-11-07T05:00:00Z"));
	ck_assert_int_eq(g->b[0][1].end, ts("2021-11-07T07:00:00Z"));
	ck_assert_int_eq(g->b[0][1].start_offset, -4 * 3600);
	ck_assert_int_eq(g->b[0][1].end_offset, -5 * 3600);
	ck_assert_uint_eq(g->b[0][1].count, 2);
	ck_assert_uint_eq(g->b[0][2].count, 1);
	ck_assert_uint_eq(g->total[0], 3);
	ck_assert_int_eq(g->utc, 0);
	char local[EVC_LOCAL_TIME_BUFSZ];
	ck_assert_int_eq(evc_format_local(g->b[0][1].start,
	                                  g->b[0][1].start_offset, local,
	                                  sizeof(local)),
	                 25);
	ck_assert_str_eq(local, "2021-11-07T01:00:00-04:00");
	evc_close(s);
}
END_TEST

/* Kolkata days split the 18:00 UTC hour: 18:29 belongs to one day, 18:30
 * to the next; the range's ends make partial buckets. */
START_TEST(half_hour_zone_splits_hours_by_minute)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, "k,click," TU_UUID ",2021-03-01T18:29:59Z\n"
	                "k,click," TU_UUID ",2021-03-01T18:30:00Z\n"
	                "k,click," TU_UUID ",2021-03-01T18:31:00Z\n"
	                "k,click," TU_UUID ",2021-03-02T03:00:00Z\n");
	const char *ids[] = {"k"};
	struct got *g =
	    count(s, ids, 1, "2021-03-01T12:00:00Z", "2021-03-02T12:00:00Z",
	          "day", "Asia/Kolkata", 0, 0);
	ck_assert_uint_eq(g->n_buckets[0], 2);
	ck_assert_int_eq(g->b[0][0].start, ts("2021-02-28T18:30:00Z"));
	ck_assert_uint_eq(g->b[0][0].count, 1);
	ck_assert_int_eq(g->b[0][0].partial, 1);
	ck_assert_uint_eq(g->b[0][1].count, 3);
	ck_assert_int_eq(g->b[0][1].partial, 1);
	/* The whole range: one bucket, not partial. */
	g = count(s, ids, 1, "2021-03-01T12:00:00Z", "2021-03-02T12:00:00Z",
	          "all", "Asia/Kolkata", 0, 0);
	ck_assert_uint_eq(g->n_buckets[0], 1);
	ck_assert_uint_eq(g->b[0][0].count, 4);
	ck_assert_int_eq(g->b[0][0].partial, 0);
	evc_close(s);
}
END_TEST

/* Whole UTC days come from the day totals, the range's ends from hours
 * and minutes: the sums agree with hourly buckets. */
START_TEST(utc_days_agree_with_hours)
{
	evc_store *s = tu_mem_store();
	char csv[8192], when[EVC_TIME_BUFSZ];
	size_t n = 0;
	const int64_t t0 = ts("2021-03-01T00:00:00Z");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(csv + n, sizeof(csv) - n,
		                      "d,click," TU_UUID ",%s\n",
		                      tu_fmt(t0 + (int64_t)i * 3 * 3607, when));
	tu_ingest_ok(s, csv);
	const char *ids[] = {"d"};
	struct got *g = count(s, ids, 1, "2021-03-01T07:07:00Z",
	                      "2021-03-05T13:13:00Z", "day", "UTC", 0, 0);
	ck_assert_uint_eq(g->n_buckets[0], 5);
	ck_assert_int_eq(g->b[0][0].partial, 1);
	ck_assert_int_eq(g->b[0][1].partial, 0);
	ck_assert_int_eq(g->b[0][4].partial, 1);
	ck_assert_int_eq(g->utc, 1);
	uint64_t day[5];
	for (int i = 0; i < 5; i++)
		day[i] = g->b[0][i].count;
	const uint64_t total = g->total[0];
	g = count(s, ids, 1, "2021-03-01T07:07:00Z", "2021-03-05T13:13:00Z",
	          "hour", "UTC", 0, 0);
	ck_assert_uint_eq(g->total[0], total);
	ck_assert_uint_eq(total, tu_total(s, "d", ts("2021-03-01T07:07:00Z"),
	                                  ts("2021-03-05T13:13:00Z")));
	(void)day;
	evc_close(s);
}
END_TEST

START_TEST(many_all_top_and_sparse)
{
	evc_store *s = tu_mem_store();
	/* b: 3 events, a and c: 2 each (a tie, by id), z: 1 outside. */
	tu_ingest_ok(s, "b,click," TU_UUID ",2021-03-01T01:00:00Z\n"
	                "b,click," TU_UUID ",2021-03-01T02:00:00Z\n"
	                "b,click," TU_UUID ",2021-03-01T03:00:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T01:00:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T01:30:00Z\n"
	                "a,click," TU_UUID ",2021-03-01T04:00:00Z\n"
	                "a,click," TU_UUID ",2021-03-01T04:59:00Z\n"
	                "z,click," TU_UUID ",2021-04-01T00:00:00Z\n");
	const char *R0 = "2021-03-01T00:00:00Z", *R1 = "2021-03-01T06:00:00Z";
	/* Many, in the order given, a repeat once, an unknown one zero. */
	const char *ids[] = {"c", "nobody", "a", "c"};
	struct got *g = count(s, ids, 4, R0, R1, "hour", NULL, 0, 0);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->id[0], "c");
	ck_assert_str_eq(g->id[1], "nobody");
	ck_assert_str_eq(g->id[2], "a");
	ck_assert_uint_eq(g->total[1], 0);
	ck_assert_uint_eq(g->n_buckets[1], 6);
	/* All, by id. */
	g = count(s, NULL, 0, R0, R1, "hour", NULL, 0, 0);
	ck_assert_uint_eq(g->n, 4);
	ck_assert_str_eq(g->id[0], "a");
	ck_assert_str_eq(g->id[3], "z");
	ck_assert_uint_eq(g->total[3], 0);
	/* Sparse: z, without events in the range, is left out; only
	 * buckets with counts. */
	g = count(s, NULL, 0, R0, R1, "hour", NULL, 0, 1);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->id[0], "a");
	ck_assert_uint_eq(g->n_buckets[0], 1);
	ck_assert_uint_eq(g->b[0][0].count, 2);
	/* Top 2: b, then a before c (a tie, by id). */
	g = count(s, NULL, 0, R0, R1, "day", NULL, 2, 0);
	ck_assert_uint_eq(g->n, 2);
	ck_assert_str_eq(g->id[0], "b");
	ck_assert_uint_eq(g->total[0], 3);
	ck_assert_str_eq(g->id[1], "a");
	/* Top among the given. */
	const char *some[] = {"c", "z", "a"};
	g = count(s, some, 3, R0, R1, "all", NULL, 1, 0);
	ck_assert_uint_eq(g->n, 1);
	ck_assert_str_eq(g->id[0], "a");
	/* Top more than there are: all of them, ranked. */
	g = count(s, NULL, 0, R0, R1, "all", NULL, 10, 0);
	ck_assert_uint_eq(g->n, 4);
	ck_assert_str_eq(g->id[3], "z");
	evc_close(s);
}
END_TEST

static int stop_at_first(const evc_customer_counts *c, void *payload)
{
	(void)c;
	++*(int *)payload;
	return 1;
}

START_TEST(bad_options_are_refused)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, "a,click," TU_UUID ",2021-03-01T01:00:00Z\n");
	evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;
	struct got g;
	int calls = 0;
	o.start = ts("2021-03-01");
	o.end = ts("2021-03-02");

	o.bucket = "7m";
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_EINVAL);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "7m"));
	o.bucket = "hour";
	o.tz = "Mars/Olympus";
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "Mars/Olympus"));
	o.tz = "../../etc/passwd";
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_EINVAL);
	o.tz = NULL;
	o.bucket = "minute";
	o.end = ts("4021-03-02");
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_ERANGE);
	o.end = o.start + 59;
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_EINVAL);
	o.end = ts("2021-03-02");
	const char *empty[] = {""};
	o.customers = empty;
	o.n_customers = 1;
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_EINVAL);
	o.customers = NULL;
	o.n_customers = 0;
	o.version = 99;
	ck_assert_int_eq(evc_counts(s, &o, keep, &g), EVC_EINVAL);
	o.version = EVC_COUNTS_OPTIONS_VERSION;
	ck_assert_int_eq(evc_counts(s, &o, stop_at_first, &calls),
	                 EVC_EABORTED);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(evc_counts(NULL, &o, keep, &g), EVC_EINVAL);
	evc_close(s);
}
END_TEST

START_TEST(bounds_without_offset_are_wall_clock)
{
	int64_t t;
	/* March on New York's calendar: from 05:00Z. */
	ck_assert_int_eq(
	    evc_parse_time_in("2021-03-01", "America/New_York", &t), EVC_OK);
	ck_assert_int_eq(t, ts("2021-03-01T05:00:00Z"));
	/* A skipped wall time: the end of the gap. */
	ck_assert_int_eq(
	    evc_parse_time_in("2021-03-14T02:30:00", "America/New_York", &t),
	    EVC_OK);
	ck_assert_int_eq(t, ts("2021-03-14T07:00:00Z"));
	/* A repeated one: its first pass. */
	ck_assert_int_eq(
	    evc_parse_time_in("2021-11-07 01:30:00", "America/New_York", &t),
	    EVC_OK);
	ck_assert_int_eq(t, ts("2021-11-07T05:30:00Z"));
	/* With an offset, the zone does not matter. */
	ck_assert_int_eq(
	    evc_parse_time_in("2021-03-01T00:00:00+01:00", "Asia/Kolkata", &t),
	    EVC_OK);
	ck_assert_int_eq(t, ts("2021-02-28T23:00:00Z"));
	ck_assert_int_eq(evc_parse_time_in("2021-03-01", NULL, &t), EVC_OK);
	ck_assert_int_eq(t, ts("2021-03-01T00:00:00Z"));
	ck_assert_int_eq(evc_parse_time_in("2021-03-01", "No/Such_Zone", &t),
	                 EVC_ENOTFOUND);
	ck_assert_int_eq(
	    evc_parse_time_in("9999-12-31T23:00:00", "Pacific/Honolulu", &t),
	    EVC_ERANGE);
	ck_assert_int_eq(evc_parse_time_in("2021-13-01", "UTC", &t),
	                 EVC_EPARSE);
}
END_TEST

START_TEST(local_times_formatted)
{
	char b[EVC_LOCAL_TIME_BUFSZ];
	ck_assert_int_eq(evc_format_local(ts("2021-03-14T07:00:00Z"), -4 * 3600,
	                                  b, sizeof(b)),
	                 25);
	ck_assert_str_eq(b, "2021-03-14T03:00:00-04:00");
	evc_format_local(ts("2021-03-01T00:00:00Z"), 5 * 3600 + 45 * 60, b,
	                 sizeof(b));
	ck_assert_str_eq(b, "2021-03-01T05:45:00+05:45");
	evc_format_local(ts("2021-01-01T00:00:00Z"), 0, b, sizeof(b));
	ck_assert_str_eq(b, "2021-01-01T00:00:00+00:00");
	/* -4:56:02 is written -04:56, with the local time that goes with it:
	 * the same instant. */
	evc_format_local(ts("1883-11-10T04:57:00Z"), -17762, b, sizeof(b));
	ck_assert_str_eq(b, "1883-11-10T00:01:00-04:56");
	ck_assert_int_eq(evc_format_local(0, 0, b, 25), EVC_EINVAL);
	ck_assert_int_eq(evc_format_local(EVC_TIME_MAX, 3600, b, sizeof(b)),
	                 EVC_ERANGE);
}
END_TEST

START_TEST(zone_offsets_either_side_of_a_change)
{
	int32_t off = 1;
	/* New York springs forward at 07:00Z on 14 March 2021. */
	ck_assert_int_eq(evc_zone_offset("America/New_York",
	                                 ts("2021-03-14T06:59:59Z"), &off),
	                 EVC_OK);
	ck_assert_int_eq(off, -5 * 3600);
	evc_zone_offset("America/New_York", ts("2021-03-14T07:00:00Z"), &off);
	ck_assert_int_eq(off, -4 * 3600);
	evc_zone_offset("Asia/Kathmandu", ts("2021-03-01T00:00:00Z"), &off);
	ck_assert_int_eq(off, 5 * 3600 + 45 * 60);
	evc_zone_offset("-09:30", 0, &off);
	ck_assert_int_eq(off, -(9 * 3600 + 30 * 60));
	evc_zone_offset("UTC", 0, &off);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(evc_zone_offset("Mars/Base", 0, &off), EVC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(NULL), "Mars/Base"));
	ck_assert_int_eq(evc_zone_offset(NULL, 0, &off), EVC_EINVAL);
	ck_assert_int_eq(evc_zone_offset("UTC", 0, NULL), EVC_EINVAL);
}
END_TEST

/* ---- against a per-minute count ---------------------------------------------
 */

#define DIFF_CUSTOMERS 5
#define DIFF_MINUTES   (60 * 24 * 80) /* 80 days from T0 */
#define DIFF_EVENTS    6000

static const char *const diff_zones[] = {
    "UTC",          "America/New_York",   "Australia/Lord_Howe",
    "Asia/Kolkata", "Asia/Kathmandu",     "Pacific/Chatham",
    "Europe/Paris", "America/Sao_Paulo",  "+05:30",
    "-09:30",       "Australia/Adelaide", "Europe/London",
};
static const char *const diff_widths[] = {
    "minute", "5m", "15m", "30m",  "90m",   "hour", "2h",
    "3h",     "8h", "day", "week", "month", "all"};

/* The label of a wall time, as the widths define them, with no help from
 * buckets.c. */
static int64_t naive_label(const char *w, int64_t wall)
{
	const int64_t day = evc__floor_div(wall, 86400);
	if (strcmp(w, "all") == 0)
		return 0;
	if (strcmp(w, "week") == 0) {
		int64_t d = day;
		while (evc__floor_div(d + 3, 7) * 7 != d + 3)
			d--; /* back to a Monday */
		return d * 86400;
	}
	if (strcmp(w, "month") == 0) {
		int64_t y;
		unsigned m, dd;
		evc__civil_from_days(day, &y, &m, &dd);
		return evc__days_from_civil(y, m, 1) * 86400;
	}
	int64_t step;
	if (strcmp(w, "minute") == 0)
		step = 60;
	else if (strcmp(w, "hour") == 0)
		step = 3600;
	else if (strcmp(w, "day") == 0)
		step = 86400;
	else
		step = atoi(w) * (w[strlen(w) - 1] == 'h' ? 3600 : 60);
	return evc__floor_div(wall, step) * step;
}

/* The latest wall time the zone's clock has read by the end of the
 * minute starting at t (`before`: by its start), second by second where
 * the offset changes. */
static int64_t clock_max(const evc_tz *tz, int64_t t, int64_t before)
{
	int64_t best = before;
	const int32_t a = evc__tz_offset(tz, t), b = evc__tz_offset(tz, t + 59);
	if (a == b)
		return t + a > best ? t + a : best;
	for (int64_t x = t; x < t + 60; x++)
		if (x + evc__tz_offset(tz, x) > best)
			best = x + evc__tz_offset(tz, x);
	return best;
}

struct diff_check {
	int64_t T0, a, b;
	const int64_t *label_of;
	uint32_t (*events)[DIFF_MINUTES];
	const char *what;
	const evc_tz *tz;
	const char *w;
};

/* One customer's buckets against the labels of the range's minutes: each
 * bucket's count is that of the minutes with its label, the buckets tile
 * the range, and partial is set exactly at the range's ends. */
/* Plain checks in the per-minute loop: each ck_assert is a message down
 * Check's pipe, millions of them here. */
#define DIFF_FAIL(...)                                                         \
	do {                                                                   \
		ck_abort_msg(__VA_ARGS__);                                     \
		return 1;                                                      \
	} while (0)

static int verify(const evc_customer_counts *c, void *payload)
{
	const struct diff_check *k = payload;
	const unsigned cust = (unsigned)atoi(c->customer_id + 1);
	size_t bucket = 0;
	uint64_t sum = 0, total = 0;

	if (c->n_buckets == 0 || c->buckets[0].start > k->T0 + k->a * 60 ||
	    c->buckets[c->n_buckets - 1].end < k->T0 + k->b * 60)
		DIFF_FAIL("%s %s: the buckets do not cover the range", k->what,
		          c->customer_id);
	for (int64_t m = k->a; m < k->b; m++) {
		const int64_t t = k->T0 + m * 60;
		while (bucket < c->n_buckets && c->buckets[bucket].end <= t) {
			if (c->buckets[bucket].count != sum)
				DIFF_FAIL("%s %s: bucket %zu counts %llu, want "
				          "%llu",
				          k->what, c->customer_id, bucket,
				          (unsigned long long)c->buckets[bucket]
				              .count,
				          (unsigned long long)sum);
			sum = 0;
			bucket++;
		}
		if (bucket >= c->n_buckets || c->buckets[bucket].start > t)
			DIFF_FAIL("%s: minute %lld in no bucket", k->what,
			          (long long)m);
		/* Minutes of one bucket share a label, the next bucket's is
		 * another. */
		const bool starts = c->buckets[bucket].start == t;
		if (m > k->a && starts && k->label_of[m] == k->label_of[m - 1])
			DIFF_FAIL("%s: minute %lld starts a bucket but has the "
			          "label of the one before",
			          k->what, (long long)m);
		if (m > k->a && !starts && k->label_of[m] != k->label_of[m - 1])
			DIFF_FAIL(
			    "%s: minute %lld has another label within one "
			    "bucket",
			    k->what, (long long)m);
		sum += k->events[cust][m];
		total += k->events[cust][m];
	}
	ck_assert_msg(c->buckets[bucket].count == sum, "%s: last bucket",
	              k->what);
	ck_assert_uint_eq(bucket + 1, c->n_buckets);
	ck_assert_uint_eq(c->total, total);
	for (size_t i = 0; i < c->n_buckets; i++) {
		const evc_count_bucket *bk = &c->buckets[i];
		const bool partial = bk->start < c->start || bk->end > c->end;
		if ((i + 1 < c->n_buckets && bk->end != bk[1].start) ||
		    bk->partial != (strcmp(k->w, "all") ? partial : 0) ||
		    bk->start_offset != evc__tz_offset(k->tz, bk->start))
			DIFF_FAIL("%s: bucket %zu: end, partial or offset",
			          k->what, i);
	}
	return 0;
}

START_TEST(counts_equal_a_per_minute_count)
{
	static uint32_t events[DIFF_CUSTOMERS][DIFF_MINUTES];
	static int64_t label_of[DIFF_MINUTES];
	const int64_t T0 = ts("2021-01-20T00:00:00Z");
	uint64_t st = 99;
	char *csv = malloc(DIFF_EVENTS * 90), when[EVC_TIME_BUFSZ];
	size_t n = 0;

	memset(events, 0, sizeof(events));
	ck_assert_ptr_nonnull(csv);
	for (int i = 0; i < DIFF_EVENTS; i++) {
		const unsigned c = (unsigned)tu_rand_below(&st, DIFF_CUSTOMERS);
		const int64_t m =
		    (int64_t)tu_rand_below(&st, DIFF_MINUTES - 1440);
		events[c][m]++;
		n += (size_t)snprintf(
		    csv + n, DIFF_EVENTS * 90 - n, "c%u,x," TU_UUID ",%s\n", c,
		    tu_fmt(T0 + m * 60 + (int64_t)(i % 60), when));
	}
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, csv);
	free(csv);

	const int rounds = 40 / (getenv("EVC_TEST_SCALE") ? 4 : 1);
	for (int r = 0; r < rounds; r++) {
		const char *z = diff_zones[tu_rand_below(
		    &st, sizeof(diff_zones) / sizeof(diff_zones[0]))];
		const char *w = diff_widths[tu_rand_below(
		    &st, sizeof(diff_widths) / sizeof(diff_widths[0]))];
		const int64_t span =
		    strcmp(w, "minute") == 0 || strcmp(w, "5m") == 0
		        ? 3 * 1440
		        : DIFF_MINUTES;
		int64_t a = (int64_t)tu_rand_below(&st, (uint64_t)span);
		int64_t b = (int64_t)tu_rand_below(&st, (uint64_t)span);
		if (a > b) {
			const int64_t x = a;
			a = b;
			b = x;
		}
		if (a == b)
			b++;
		evc_tz *tz = zone(z);
		/* The label of every minute of the range: the clock's latest
		 * reading by then names it (the first instant the clock reads
		 * a label starts its bucket). */
		int64_t m0 = a > 1440 ? a - 1440 : 0, best = INT64_MIN;
		for (int64_t m = m0; m < b; m++) {
			const int64_t t = T0 + m * 60;
			const int64_t wall = t + evc__tz_offset(tz, t);
			if (m >= a)
				label_of[m] =
				    naive_label(w, wall > best ? wall : best);
			best = clock_max(tz, t, best);
		}

		evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;
		o.start = T0 + a * 60 + (r % 3 == 0 ? 17 : 0);
		o.end = T0 + b * 60 + (r % 5 == 0 ? 42 : 0);
		o.bucket = w;
		o.tz = z;
		struct diff_check chk = {T0,     a,    b,  label_of,
		                         events, NULL, tz, w};
		char what[128];
		snprintf(what, sizeof(what), "%s %s minutes %lld-%lld", z, w,
		         (long long)a, (long long)b);
		chk.what = what;
		ck_assert_int_eq(evc_counts(s, &o, verify, &chk), EVC_OK);
		evc__tz_free(tz);
	}
	evc_close(s);
}
END_TEST

static Suite *counts_suite(void)
{
	Suite *s = suite_create("counts");
	TCase *tc = tcase_create("boundaries");
	tcase_add_loop_test(
	    tc, boundaries_at_real_transitions, 0,
	    (int)(sizeof(bounds_cases) / sizeof(bounds_cases[0])));
	tcase_add_test(tc, widths_parse_and_name);
	tcase_add_test(tc, too_many_buckets_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_test(tc, repeated_hour_is_one_bucket_with_both_passes);
	tcase_add_test(tc, half_hour_zone_splits_hours_by_minute);
	tcase_add_test(tc, utc_days_agree_with_hours);
	tcase_add_test(tc, many_all_top_and_sparse);
	tcase_add_test(tc, bad_options_are_refused);
	tcase_add_test(tc, bounds_without_offset_are_wall_clock);
	tcase_add_test(tc, local_times_formatted);
	tcase_add_test(tc, zone_offsets_either_side_of_a_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, counts_equal_a_per_minute_count);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(counts_suite)
