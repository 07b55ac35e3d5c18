/* SPDX-License-Identifier: MIT */
/*
 * Time zones (lib/tz.c): offsets, the first instant at or after a wall
 * time, changes and formatting on real zones of the system's tzdata, at
 * edges whose answers are published: the dates of the DST rules and of
 * the zones' changes (as the IANA tz database's source files
 * northamerica, australasia, asia and europe record them, with their
 * references), each date checked to fall on the weekday its rule names.
 * Expected instants
 * are written as RFC 3339 strings with the offset in effect and parsed by
 * evc_parse_time(), which knows nothing of zones. Then names, fixed
 * offsets, $TZDIR, hand-built and corrupt TZif data, footers, threads and
 * allocation failures.
 */
#include "testutil.h"
#include "tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define H 3600
#define M 60

#define ZONEINFO "/usr/share/zoneinfo"

/* ck_assert*() passes its location to the parent through a pipe, a system
 * call per check: loops of thousands check with this instead. */
#define REQUIRE(cond, ...)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg(__VA_ARGS__);                             \
	} while (0)

/* Repetitions, divided by EVC_TEST_SCALE (set by the valgrind setup). */
static int scaled(int n)
{
	const char *env = getenv("EVC_TEST_SCALE");
	const int d = env ? atoi(env) : 1;
	return d > 1 ? n / d + 1 : n;
}

static evc_tz *load_ok(const char *name)
{
	char why[256] = "";
	evc_tz *tz = NULL;
	int rc = evc__tz_load(&tz, name, why, sizeof(why));
	ck_assert_msg(rc == EVC_OK, "load %s: %d (%s)", name, rc, why);
	ck_assert_ptr_nonnull(tz);
	ck_assert_str_eq(evc__tz_name(tz), name);
	return tz;
}

static evc_tz *parse_ok(const uint8_t *data, size_t len)
{
	char why[256] = "";
	evc_tz *tz = NULL;
	int rc = evc__tz_parse(&tz, "test", data, len, why, sizeof(why));
	ck_assert_msg(rc == EVC_OK, "parse: %d (%s)", rc, why);
	ck_assert_ptr_nonnull(tz);
	return tz;
}

/* A wall-clock time "YYYY-MM-DDTHH:MM:SS" as seconds, read as if UTC. */
static int64_t wall(const char *s)
{
	return ts(s);
}

/* ---- table-driven cases on real zones ------------------------------------ */

typedef enum {
	OFF,  /* the offset at instant `in` is `off` */
	AT,   /* first_at_or_after(wall time `in`) is instant `want` */
	FMT,  /* evc__tz_format(instant `in`) is `want` */
	NEXT, /* the next change after instant `in` is `want` (NULL: none) */
} case_kind;

typedef struct tz_case {
	case_kind kind;
	const char *zone;
	const char *in;
	const char *want;
	int32_t off;
} tz_case;

static void run_case(const tz_case *c)
{
	evc_tz *tz = load_ok(c->zone);
	char buf[EVC_TZ_TIME_BUFSZ], a[EVC_TIME_BUFSZ], b[EVC_TIME_BUFSZ];
	const int64_t in = ts(c->in);
	int64_t got, next = 0;

	switch (c->kind) {
	case OFF:
		ck_assert_msg(evc__tz_offset(tz, in) == c->off,
		              "%s at %s: offset %d, want %d", c->zone, c->in,
		              evc__tz_offset(tz, in), c->off);
		break;
	case AT:
		got = evc__tz_first_at_or_after(tz, in);
		ck_assert_msg(got == ts(c->want),
		              "%s: first_at_or_after(%s) = %s, want %s",
		              c->zone, c->in, tu_fmt(got, a), c->want);
		break;
	case FMT:
		ck_assert_int_eq(evc__tz_format(tz, in, buf, sizeof(buf)),
		                 (int)strlen(c->want));
		ck_assert_str_eq(buf, c->want);
		/* The string denotes exactly the instant. */
		ck_assert_int_eq(ts(buf), in);
		break;
	case NEXT:
		if (!c->want) {
			ck_assert_msg(!evc__tz_next_change(tz, in, &next),
			              "%s after %s: a change at %s", c->zone,
			              c->in, tu_fmt(next, a));
			break;
		}
		ck_assert_msg(evc__tz_next_change(tz, in, &next),
		              "%s after %s: no change", c->zone, c->in);
		ck_assert_msg(next == ts(c->want),
		              "%s after %s: next change %s, want %s", c->zone,
		              c->in, tu_fmt(next, b), c->want);
		break;
	}
	evc__tz_free(tz);
}

#define N_CASES(t) ((int)(sizeof(t) / sizeof(t[0])))
#define CASE_TEST(t)                                                           \
	START_TEST(t##_test)                                                   \
	{                                                                      \
		run_case(&t[_i]);                                              \
	}                                                                      \
	END_TEST

/* US rules since 2007 (Energy Policy Act of 2005): EST -5 to EDT -4 on
 * the second Sunday of March at 02:00 local, back on the first Sunday of
 * November at 02:00 local. In 2021: Sunday March 14 and Sunday
 * November 7. */
static const tz_case new_york_2021[] = {
    {OFF, "America/New_York", "2021-03-14T01:59:59-05:00", NULL, -5 * H},
    {OFF, "America/New_York", "2021-03-14T03:00:00-04:00", NULL, -4 * H},
    {OFF, "America/New_York", "2021-03-14T07:00:00Z", NULL, -4 * H},
    {OFF, "America/New_York", "2021-03-14T06:59:59Z", NULL, -5 * H},
    /* the skipped hour maps to its end, 03:00 EDT */
    {AT, "America/New_York", "2021-03-14T02:00:00", "2021-03-14T07:00:00Z", 0},
    {AT, "America/New_York", "2021-03-14T02:30:00", "2021-03-14T07:00:00Z", 0},
    {AT, "America/New_York", "2021-03-14T02:59:59", "2021-03-14T07:00:00Z", 0},
    {AT, "America/New_York", "2021-03-14T01:59:59", "2021-03-14T06:59:59Z", 0},
    {AT, "America/New_York", "2021-03-14T03:00:00", "2021-03-14T07:00:00Z", 0},
    {AT, "America/New_York", "2021-03-14T03:00:01", "2021-03-14T07:00:01Z", 0},
    {AT, "America/New_York", "2021-03-14T00:00:00", "2021-03-14T05:00:00Z", 0},
    {NEXT, "America/New_York", "2021-01-01T00:00:00Z", "2021-03-14T07:00:00Z",
     0},
    {NEXT, "America/New_York", "2021-03-14T06:59:59Z", "2021-03-14T07:00:00Z",
     0},
    /* fall back: 02:00 EDT becomes 01:00 EST; 01:00-01:59 happen twice
     * and the first pass wins */
    {OFF, "America/New_York", "2021-11-07T01:59:59-04:00", NULL, -4 * H},
    {OFF, "America/New_York", "2021-11-07T01:00:00-05:00", NULL, -5 * H},
    {AT, "America/New_York", "2021-11-07T01:00:00", "2021-11-07T05:00:00Z", 0},
    {AT, "America/New_York", "2021-11-07T01:30:00", "2021-11-07T05:30:00Z", 0},
    {AT, "America/New_York", "2021-11-07T01:59:59", "2021-11-07T05:59:59Z", 0},
    {AT, "America/New_York", "2021-11-07T02:00:00", "2021-11-07T07:00:00Z", 0},
    {AT, "America/New_York", "2021-11-07T00:59:59", "2021-11-07T04:59:59Z", 0},
    {NEXT, "America/New_York", "2021-03-14T07:00:00Z", "2021-11-07T06:00:00Z",
     0},
    {NEXT, "America/New_York", "2021-11-07T05:59:59Z", "2021-11-07T06:00:00Z",
     0},
    {NEXT, "America/New_York", "2021-11-07T06:00:00Z", "2022-03-13T07:00:00Z",
     0},
};
CASE_TEST(new_york_2021)

/* Lord Howe Island (tz: australasia): standard +10:30, DST +11 (a
 * 30-minute shift), on the first Sunday of October at 02:00 standard time
 * (to 02:30) and back on the first Sunday of April at 02:00 DST (to
 * 01:30). In 2021: Sunday April 4 and Sunday October 3. */
static const tz_case lord_howe[] = {
    {OFF, "Australia/Lord_Howe", "2021-04-04T01:59:59+11:00", NULL, 11 * H},
    {OFF, "Australia/Lord_Howe", "2021-04-04T01:30:00+10:30", NULL,
     10 * H + 30 * M},
    {AT, "Australia/Lord_Howe", "2021-04-04T01:30:00",
     "2021-04-04T01:30:00+11:00", 0},
    {AT, "Australia/Lord_Howe", "2021-04-04T01:45:00",
     "2021-04-04T01:45:00+11:00", 0},
    /* 02:00 is never reached before the change: after it, at 02:00+10:30 */
    {AT, "Australia/Lord_Howe", "2021-04-04T02:00:00",
     "2021-04-04T02:00:00+10:30", 0},
    {NEXT, "Australia/Lord_Howe", "2021-02-01T00:00:00Z",
     "2021-04-04T02:00:00+11:00", 0},
    {OFF, "Australia/Lord_Howe", "2021-10-03T01:59:59+10:30", NULL,
     10 * H + 30 * M},
    {OFF, "Australia/Lord_Howe", "2021-10-03T02:30:00+11:00", NULL, 11 * H},
    {AT, "Australia/Lord_Howe", "2021-10-03T02:00:00",
     "2021-10-03T02:30:00+11:00", 0},
    {AT, "Australia/Lord_Howe", "2021-10-03T02:15:00",
     "2021-10-03T02:30:00+11:00", 0},
    {AT, "Australia/Lord_Howe", "2021-10-03T02:30:00",
     "2021-10-03T02:30:00+11:00", 0},
    {AT, "Australia/Lord_Howe", "2021-10-03T01:59:59",
     "2021-10-03T01:59:59+10:30", 0},
    {NEXT, "Australia/Lord_Howe", "2021-04-04T02:00:00+10:30",
     "2021-10-03T02:00:00+10:30", 0},
    {FMT, "Australia/Lord_Howe", "2021-10-02T15:30:00Z",
     "2021-10-03T02:30:00+11:00", 0},
    {FMT, "Australia/Lord_Howe", "2021-10-02T15:29:59Z",
     "2021-10-03T01:59:59+10:30", 0},
};
CASE_TEST(lord_howe)

/* Samoa moved west of the date line at the end of Thursday
 * 2011-12-29 (-10, its DST) and went on with Saturday 2011-12-31 (+14):
 * Friday 2011-12-30 never happened there. */
static const tz_case apia_2011[] = {
    {OFF, "Pacific/Apia", "2011-12-29T23:59:59-10:00", NULL, -10 * H},
    {OFF, "Pacific/Apia", "2011-12-31T00:00:00+14:00", NULL, 14 * H},
    {AT, "Pacific/Apia", "2011-12-30T00:00:00", "2011-12-31T00:00:00+14:00", 0},
    {AT, "Pacific/Apia", "2011-12-30T12:00:00", "2011-12-31T00:00:00+14:00", 0},
    {AT, "Pacific/Apia", "2011-12-30T23:59:59", "2011-12-31T00:00:00+14:00", 0},
    {AT, "Pacific/Apia", "2011-12-31T00:00:00", "2011-12-31T00:00:00+14:00", 0},
    {AT, "Pacific/Apia", "2011-12-29T23:59:59", "2011-12-29T23:59:59-10:00", 0},
    {NEXT, "Pacific/Apia", "2011-12-29T12:00:00Z", "2011-12-31T00:00:00+14:00",
     0},
    {FMT, "Pacific/Apia", "2011-12-30T10:00:00Z", "2011-12-31T00:00:00+14:00",
     0},
    {FMT, "Pacific/Apia", "2011-12-30T09:59:59Z", "2011-12-29T23:59:59-10:00",
     0},
};
CASE_TEST(apia_2011)

/* India: IST, +05:30, since 1945, without DST. */
static const tz_case kolkata[] = {
    {OFF, "Asia/Kolkata", "2021-01-15T12:00:00Z", NULL, 5 * H + 30 * M},
    {OFF, "Asia/Kolkata", "2021-07-15T12:00:00Z", NULL, 5 * H + 30 * M},
    {AT, "Asia/Kolkata", "2021-07-15T00:00:00", "2021-07-14T18:30:00Z", 0},
    {FMT, "Asia/Kolkata", "2021-07-14T18:30:00Z", "2021-07-15T00:00:00+05:30",
     0},
    {NEXT, "Asia/Kolkata", "2021-01-01T00:00:00Z", NULL, 0},
};
CASE_TEST(kolkata)

/* Nepal: +05:30 until 1986-01-01 00:00 local, +05:45 since (tz: asia,
 * "5:30 - +0530 1986"): the first quarter of an hour of 1986 was
 * skipped. */
static const tz_case kathmandu[] = {
    {OFF, "Asia/Kathmandu", "1985-12-31T23:59:59+05:30", NULL, 5 * H + 30 * M},
    {OFF, "Asia/Kathmandu", "1986-01-01T00:15:00+05:45", NULL, 5 * H + 45 * M},
    {OFF, "Asia/Kathmandu", "2021-06-01T00:00:00Z", NULL, 5 * H + 45 * M},
    {AT, "Asia/Kathmandu", "1986-01-01T00:00:00", "1986-01-01T00:15:00+05:45",
     0},
    {AT, "Asia/Kathmandu", "1986-01-01T00:10:00", "1986-01-01T00:15:00+05:45",
     0},
    {AT, "Asia/Kathmandu", "1986-01-01T00:15:00", "1986-01-01T00:15:00+05:45",
     0},
    {AT, "Asia/Kathmandu", "1985-12-31T23:59:59", "1985-12-31T23:59:59+05:30",
     0},
    {NEXT, "Asia/Kathmandu", "1985-06-01T00:00:00Z", "1985-12-31T18:30:00Z", 0},
    {NEXT, "Asia/Kathmandu", "1985-12-31T18:30:00Z", NULL, 0},
    {FMT, "Asia/Kathmandu", "2021-06-01T00:00:00Z", "2021-06-01T05:45:00+05:45",
     0},
    {FMT, "Asia/Kathmandu", "1985-12-31T18:29:59Z", "1985-12-31T23:59:59+05:30",
     0},
};
CASE_TEST(kathmandu)

/* Chatham Islands: 45 minutes ahead of New Zealand, +12:45 and +13:45,
 * changing with it: the last Sunday of September at 02:45 standard time
 * and the first Sunday of April at 03:45 DST (NZ: 02:00 NZST, 03:00
 * NZDT). In 2021: Sunday April 4 and Sunday September 26. */
static const tz_case chatham[] = {
    {OFF, "Pacific/Chatham", "2021-04-04T03:44:59+13:45", NULL,
     13 * H + 45 * M},
    {OFF, "Pacific/Chatham", "2021-04-04T02:45:00+12:45", NULL,
     12 * H + 45 * M},
    {OFF, "Pacific/Chatham", "2021-04-03T14:00:00Z", NULL, 12 * H + 45 * M},
    {OFF, "Pacific/Chatham", "2021-09-26T02:44:59+12:45", NULL,
     12 * H + 45 * M},
    {OFF, "Pacific/Chatham", "2021-09-25T14:00:00Z", NULL, 13 * H + 45 * M},
    {AT, "Pacific/Chatham", "2021-09-26T03:00:00", "2021-09-26T03:45:00+13:45",
     0},
    {AT, "Pacific/Chatham", "2021-04-04T03:00:00", "2021-04-04T03:00:00+13:45",
     0},
    {AT, "Pacific/Chatham", "2021-04-04T03:45:00", "2021-04-04T03:45:00+12:45",
     0},
    {FMT, "Pacific/Chatham", "2021-09-25T14:00:00Z",
     "2021-09-26T03:45:00+13:45", 0},
    {NEXT, "Pacific/Chatham", "2021-05-01T00:00:00Z", "2021-09-25T14:00:00Z",
     0},
};
CASE_TEST(chatham)

/* Sydney (New South Wales): AEST +10, AEDT +11 from the first Sunday of
 * October 02:00 standard time to the first Sunday of April 03:00 DST: the
 * southern summer, across the new year. */
static const tz_case sydney[] = {
    {OFF, "Australia/Sydney", "2021-01-01T00:00:00Z", NULL, 11 * H},
    {OFF, "Australia/Sydney", "2020-12-31T23:59:59Z", NULL, 11 * H},
    {OFF, "Australia/Sydney", "2021-07-01T00:00:00Z", NULL, 10 * H},
    {OFF, "Australia/Sydney", "2021-04-04T02:59:59+11:00", NULL, 11 * H},
    {OFF, "Australia/Sydney", "2021-04-04T02:00:00+10:00", NULL, 10 * H},
    {OFF, "Australia/Sydney", "2021-10-03T01:59:59+10:00", NULL, 10 * H},
    {OFF, "Australia/Sydney", "2021-10-03T03:00:00+11:00", NULL, 11 * H},
    {AT, "Australia/Sydney", "2021-10-03T02:30:00", "2021-10-03T03:00:00+11:00",
     0},
    {AT, "Australia/Sydney", "2021-04-04T02:30:00", "2021-04-04T02:30:00+11:00",
     0},
    {AT, "Australia/Sydney", "2021-04-04T03:00:00", "2021-04-04T03:00:00+10:00",
     0},
    {NEXT, "Australia/Sydney", "2021-01-01T00:00:00Z", "2021-04-03T16:00:00Z",
     0},
    {NEXT, "Australia/Sydney", "2021-04-03T16:00:00Z", "2021-10-02T16:00:00Z",
     0},
};
CASE_TEST(sydney)

/* Russia: Moscow stayed on +04 after its last spring-forward, 2011-03-27
 * 02:00 MSK (+03), and came back to +03 on 2014-10-26 at 02:00 (+04). */
static const tz_case moscow[] = {
    {OFF, "Europe/Moscow", "2011-03-27T01:59:59+03:00", NULL, 3 * H},
    {OFF, "Europe/Moscow", "2011-03-27T03:00:00+04:00", NULL, 4 * H},
    {OFF, "Europe/Moscow", "2012-01-15T00:00:00Z", NULL, 4 * H},
    {OFF, "Europe/Moscow", "2013-07-15T00:00:00Z", NULL, 4 * H},
    {OFF, "Europe/Moscow", "2014-10-26T01:59:59+04:00", NULL, 4 * H},
    {OFF, "Europe/Moscow", "2014-10-26T01:00:00+03:00", NULL, 3 * H},
    {NEXT, "Europe/Moscow", "2011-03-26T23:00:00Z", "2014-10-26T02:00:00+04:00",
     0},
    {NEXT, "Europe/Moscow", "2014-10-25T22:00:00Z", NULL, 0},
    {AT, "Europe/Moscow", "2014-10-26T01:30:00", "2014-10-26T01:30:00+04:00",
     0},
    {AT, "Europe/Moscow", "2011-03-27T02:30:00", "2011-03-27T03:00:00+04:00",
     0},
};
CASE_TEST(moscow)

/* North Korea: +09 to +0830 on 2015-08-15 00:00 (back to 23:30 of the
 * 14th), and +0830 to +09 on 2018-05-04 23:30 (on to midnight). */
static const tz_case pyongyang[] = {
    {OFF, "Asia/Pyongyang", "2015-08-14T23:59:59+09:00", NULL, 9 * H},
    {OFF, "Asia/Pyongyang", "2015-08-14T23:30:00+08:30", NULL, 8 * H + 30 * M},
    {OFF, "Asia/Pyongyang", "2018-05-04T23:29:59+08:30", NULL, 8 * H + 30 * M},
    {OFF, "Asia/Pyongyang", "2018-05-05T00:00:00+09:00", NULL, 9 * H},
    {AT, "Asia/Pyongyang", "2015-08-14T23:45:00", "2015-08-14T23:45:00+09:00",
     0},
    {AT, "Asia/Pyongyang", "2018-05-04T23:45:00", "2018-05-05T00:00:00+09:00",
     0},
    {NEXT, "Asia/Pyongyang", "2015-01-01T00:00:00Z", "2015-08-14T15:00:00Z", 0},
    {NEXT, "Asia/Pyongyang", "2015-08-14T15:00:00Z", "2018-05-04T15:00:00Z", 0},
};
CASE_TEST(pyongyang)

/* Before 1970. New York kept local mean time, -4:56:02, until the
 * railways' standard time of 1883-11-18: at noon on the 75th meridian
 * (17:00 UT) clocks showing 12:03:58 went back to 12:00:00 EST (tz:
 * northamerica, "-4:56:02 - LMT 1883 Nov 18 17:00u"). In 1900 there was
 * no DST (the first US DST was 1918). */
static const tz_case before_1970[] = {
    {OFF, "America/New_York", "1900-06-01T12:00:00Z", NULL, -5 * H},
    {OFF, "America/New_York", "1900-01-01T12:00:00Z", NULL, -5 * H},
    {OFF, "America/New_York", "1883-11-18T16:59:59Z", NULL,
     -(4 * H + 56 * M + 2)},
    {OFF, "America/New_York", "1883-11-18T17:00:00Z", NULL, -5 * H},
    {OFF, "America/New_York", "1800-01-01T00:00:00Z", NULL,
     -(4 * H + 56 * M + 2)},
    {OFF, "America/New_York", "0000-01-01T00:00:00Z", NULL,
     -(4 * H + 56 * M + 2)},
    /* the offset truncated to -04:56, the local time that goes with it */
    {FMT, "America/New_York", "1883-11-18T16:59:59Z",
     "1883-11-18T12:03:59-04:56", 0},
    {FMT, "America/New_York", "1883-11-18T16:56:02Z",
     "1883-11-18T12:00:02-04:56", 0},
    {FMT, "America/New_York", "1883-11-18T17:00:00Z",
     "1883-11-18T12:00:00-05:00", 0},
    {FMT, "America/New_York", "1900-06-01T12:00:00Z",
     "1900-06-01T07:00:00-05:00", 0},
    /* 12:00:00 to 12:03:57 local happened twice: the first pass, in LMT */
    {AT, "America/New_York", "1883-11-18T12:00:00", "1883-11-18T16:56:02Z", 0},
    {AT, "America/New_York", "1883-11-18T12:03:57", "1883-11-18T16:59:59Z", 0},
    {AT, "America/New_York", "1883-11-18T12:03:58", "1883-11-18T17:03:58Z", 0},
    {AT, "America/New_York", "1883-11-18T11:00:00", "1883-11-18T15:56:02Z", 0},
    {NEXT, "America/New_York", "1800-01-01T00:00:00Z", "1883-11-18T17:00:00Z",
     0},
    {NEXT, "America/New_York", "1900-01-01T00:00:00Z",
     "1918-03-31T02:00:00-05:00", 0},
};
CASE_TEST(before_1970)

/* After 2037 the files list no transitions: the footer's rule
 * (EST5EDT,M3.2.0,M11.1.0) decides. In 2100: Sunday March 14, Sunday
 * November 7. Sydney's rule changes across the year's end; London's is
 * the EU's last Sundays of March and October at 01:00 UT. */
static const tz_case after_2037[] = {
    {OFF, "America/New_York", "2100-03-14T01:59:59-05:00", NULL, -5 * H},
    {OFF, "America/New_York", "2100-03-14T03:00:00-04:00", NULL, -4 * H},
    {OFF, "America/New_York", "2100-11-07T01:59:59-04:00", NULL, -4 * H},
    {OFF, "America/New_York", "2100-11-07T01:00:00-05:00", NULL, -5 * H},
    {OFF, "America/New_York", "9999-07-01T00:00:00Z", NULL, -4 * H},
    {OFF, "America/New_York", "9999-12-31T23:59:59Z", NULL, -5 * H},
    {AT, "America/New_York", "2100-03-14T02:30:00", "2100-03-14T07:00:00Z", 0},
    {AT, "America/New_York", "2100-11-07T01:30:00", "2100-11-07T05:30:00Z", 0},
    {AT, "America/New_York", "2100-11-07T02:00:00", "2100-11-07T07:00:00Z", 0},
    {NEXT, "America/New_York", "2100-01-01T00:00:00Z", "2100-03-14T07:00:00Z",
     0},
    {NEXT, "America/New_York", "2100-03-14T07:00:00Z", "2100-11-07T06:00:00Z",
     0},
    {NEXT, "America/New_York", "9999-11-07T06:00:00Z", NULL, 0},
    {FMT, "America/New_York", "2100-03-14T07:00:00Z",
     "2100-03-14T03:00:00-04:00", 0},
    {OFF, "Australia/Sydney", "2100-01-01T00:00:00Z", NULL, 11 * H},
    {OFF, "Australia/Sydney", "2099-12-31T13:00:00Z", NULL, 11 * H},
    {OFF, "Australia/Sydney", "2100-07-01T00:00:00Z", NULL, 10 * H},
    /* 2100: last Sunday of March is the 28th, of October the 31st */
    {OFF, "Europe/London", "2100-03-28T00:59:59Z", NULL, 0},
    {OFF, "Europe/London", "2100-03-28T01:00:00Z", NULL, H},
    {OFF, "Europe/London", "2100-10-31T00:59:59Z", NULL, H},
    {OFF, "Europe/London", "2100-10-31T01:00:00Z", NULL, 0},
    /* the transition the fat files list last (2037-11-01), then the rule */
    {NEXT, "America/New_York", "2037-11-01T06:00:00Z", "2038-03-14T07:00:00Z",
     0},
};
CASE_TEST(after_2037)

/* Formatting: Z only for the zone named UTC. */
static const tz_case formatting[] = {
    {FMT, "UTC", "2021-03-14T07:00:00Z", "2021-03-14T07:00:00Z", 0},
    {FMT, "Etc/UTC", "2021-03-14T07:00:00Z", "2021-03-14T07:00:00+00:00", 0},
    {FMT, "America/New_York", "2021-03-14T07:00:00Z",
     "2021-03-14T03:00:00-04:00", 0},
    {FMT, "America/New_York", "2021-03-14T06:59:59Z",
     "2021-03-14T01:59:59-05:00", 0},
    {FMT, "Asia/Kathmandu", "2021-12-31T18:15:00Z", "2022-01-01T00:00:00+05:45",
     0},
    {FMT, "Europe/London", "2021-01-15T12:00:00Z", "2021-01-15T12:00:00+00:00",
     0},
    {FMT, "Europe/London", "2021-07-15T12:00:00Z", "2021-07-15T13:00:00+01:00",
     0},
    {FMT, "Pacific/Chatham", "2021-01-01T00:00:00Z",
     "2021-01-01T13:45:00+13:45", 0},
    {FMT, "America/St_Johns", "2021-01-15T12:00:00Z",
     "2021-01-15T08:30:00-03:30", 0},
    {FMT, "+05:30", "2021-01-01T00:00:00Z", "2021-01-01T05:30:00+05:30", 0},
    {FMT, "-08", "2021-01-01T00:00:00Z", "2020-12-31T16:00:00-08:00", 0},
    {FMT, "+00:00", "2021-01-01T00:00:00Z", "2021-01-01T00:00:00+00:00", 0},
    {FMT, "UTC", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z", 0},
    {FMT, "UTC", "0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", 0},
    {FMT, "-08:00", "9999-12-31T23:59:59Z", "9999-12-31T15:59:59-08:00", 0},
};
CASE_TEST(formatting)

/* ---- UTC and fixed offsets ----------------------------------------------- */

START_TEST(utc_zone)
{
	evc_tz *tz = load_ok("UTC");
	int64_t next;
	char buf[EVC_TZ_TIME_BUFSZ];

	ck_assert(evc__tz_is_utc(tz));
	static const int64_t t[] = {EVC_TIME_MIN, -1, 0, 1615705200,
	                            EVC_TIME_MAX};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(evc__tz_offset(tz, t[i]), 0);
		ck_assert_int_eq(evc__tz_first_at_or_after(tz, t[i]), t[i]);
		ck_assert(!evc__tz_next_change(tz, t[i], &next));
	}
	/* Clamped into [EVC_TIME_MIN, EVC_TIME_MAX + 1]. */
	ck_assert_int_eq(evc__tz_first_at_or_after(tz, INT64_MIN),
	                 EVC_TIME_MIN);
	ck_assert_int_eq(evc__tz_first_at_or_after(tz, INT64_MAX),
	                 EVC_TIME_MAX + 1);
	ck_assert_int_eq(evc__tz_first_at_or_after(tz, EVC_TIME_MAX + 1),
	                 EVC_TIME_MAX + 1);
	ck_assert_int_eq(evc__tz_format(tz, 0, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	evc__tz_free(tz);

	/* Etc/UTC is a file of offset 0, not "UTC". */
	tz = load_ok("Etc/UTC");
	ck_assert(!evc__tz_is_utc(tz));
	ck_assert_int_eq(evc__tz_offset(tz, 0), 0);
	evc__tz_free(tz);
	evc__tz_free(NULL);
}
END_TEST

typedef struct fixed_case {
	const char *name;
	int32_t off; /* or 1: rejected */
} fixed_case;

static const fixed_case fixed[] = {
    {"+05:30", 5 * H + 30 * M},
    {"-08:00", -8 * H},
    {"+0530", 5 * H + 30 * M},
    {"-08", -8 * H},
    {"+00:00", 0},
    {"-00:00", 0},
    {"+00", 0},
    {"+23:59", 23 * H + 59 * M},
    {"-23:59", -(23 * H + 59 * M)},
    {"+05:45", 5 * H + 45 * M},
    {"+14", 14 * H},
    {"-0930", -(9 * H + 30 * M)},
    {"+24:00", 1},
    {"+24", 1},
    {"-99", 1},
    {"+05:60", 1},
    {"+0560", 1},
    {"+5", 1},
    {"+5:30", 1},
    {"+05:3", 1},
    {"+05:300", 1},
    {"+0530:", 1},
    {"+05-30", 1},
    {"+05.30", 1},
    {"+", 1},
    {"-", 1},
    {"+ab:cd", 1},
    {"+05:30 ", 1},
    {"+05:30Z", 1},
    {"+053", 1},
    {"+05305", 1},
    {"++05", 1},
    {"+VERSION", 1},
};

START_TEST(fixed_offsets)
{
	const fixed_case *c = &fixed[_i];
	char why[256] = "";
	evc_tz *tz = (evc_tz *)&why; /* must be reset */
	int rc = evc__tz_load(&tz, c->name, why, sizeof(why));

	if (c->off == 1) {
		ck_assert_msg(rc == EVC_EINVAL, "\"%s\": %d", c->name, rc);
		ck_assert_ptr_null(tz);
		ck_assert_msg(strstr(why, c->name) != NULL, "%s", why);
		return;
	}
	ck_assert_msg(rc == EVC_OK, "\"%s\": %d (%s)", c->name, rc, why);
	ck_assert(!evc__tz_is_utc(tz));
	ck_assert_str_eq(evc__tz_name(tz), c->name);
	int64_t next;
	for (int64_t t = EVC_TIME_MIN; t < EVC_TIME_MAX; t += 86400 * 997)
		REQUIRE(evc__tz_offset(tz, t) == c->off &&
		            evc__tz_first_at_or_after(tz, t + c->off) == t &&
		            !evc__tz_next_change(tz, t, &next),
		        "\"%s\" at %lld", c->name, (long long)t);
	evc__tz_free(tz);
}
END_TEST

/* ---- names --------------------------------------------------------------- */

typedef struct name_case {
	const char *name;
	int rc;
	const char *msg; /* a part of the message */
} name_case;

static char long_name[300];

static const name_case names[] = {
    {"", EVC_EINVAL, "empty"},
    {"..", EVC_EINVAL, "\"..\""},
    {".", EVC_EINVAL, "\"..\""},
    {"../etc/passwd", EVC_EINVAL, "\"..\""},
    {"America/../Europe/Paris", EVC_EINVAL, "\"..\""},
    {"./UTC", EVC_EINVAL, "\"..\""},
    {"America/..", EVC_EINVAL, "\"..\""},
    {"/etc/passwd", EVC_EINVAL, "absolute"},
    {"/usr/share/zoneinfo/UTC", EVC_EINVAL, "absolute"},
    {"America//New_York", EVC_EINVAL, "empty path component"},
    {"America/", EVC_EINVAL, "empty path component"},
    {"America/New York", EVC_EINVAL, "characters"},
    {"America/New_York\n", EVC_EINVAL, "characters"},
    {"America\\New_York", EVC_EINVAL, "characters"},
    {"Amérique/Paris", EVC_EINVAL, "characters"},
    {"America/New_York;rm", EVC_EINVAL, "characters"},
    {"~/zone", EVC_EINVAL, "characters"},
    {long_name, EVC_EINVAL, "longer than 255"},
    {"Mars/Olympus", EVC_ENOTFOUND,
     "unknown time zone \"Mars/Olympus\" (no such file under " ZONEINFO ")"},
    {"America/New_York/x", EVC_ENOTFOUND, "no such file"},
    {"Z", EVC_ENOTFOUND, "unknown time zone \"Z\""},
    {"America", EVC_ENOTFOUND, "is a directory"},
    {"zone.tab", EVC_EPARSE, "bad magic"},
    {"right/America/New_York", EVC_EINVAL,
     "leap-second time zones are not supported"},
};

START_TEST(bad_names)
{
	const name_case *c = &names[_i];
	char why[512] = "";
	evc_tz *tz = (evc_tz *)&why;

	memset(long_name, 'A', 256);
	if (strcmp(c->name, "zone.tab") == 0 ||
	    strncmp(c->name, "right/", 6) == 0) {
		char path[256];
		snprintf(path, sizeof(path), ZONEINFO "/%s", c->name);
		if (access(path, R_OK) != 0)
			return; /* not in this tzdata installation */
	}
	int rc = evc__tz_load(&tz, c->name, why, sizeof(why));
	ck_assert_msg(rc == c->rc, "\"%.40s\": %d, want %d (%s)", c->name, rc,
	              c->rc, why);
	ck_assert_ptr_null(tz);
	ck_assert_msg(strstr(why, c->msg) != NULL, "\"%.40s\": message \"%s\"",
	              c->name, why);
	/* The message fits any buffer, and none is fine too. */
	char small[8];
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(evc__tz_load(&tz, c->name, small, sizeof(small)),
	                 c->rc);
	ck_assert_int_eq(small[7], '\0');
	ck_assert_int_eq(evc__tz_load(&tz, c->name, NULL, 0), c->rc);
}
END_TEST

START_TEST(null_arguments)
{
	evc_tz *tz;
	char why[128];
	ck_assert_int_eq(evc__tz_load(&tz, NULL, why, sizeof(why)), EVC_EINVAL);
	ck_assert_ptr_null(tz);
	ck_assert_int_eq(evc__tz_load(NULL, "UTC", why, sizeof(why)),
	                 EVC_EINVAL);
	ck_assert_int_eq(
	    evc__tz_parse(&tz, NULL, (const uint8_t *)"x", 1, why, sizeof(why)),
	    EVC_EINVAL);
	ck_assert_int_eq(evc__tz_parse(&tz, "x", NULL, 1, why, sizeof(why)),
	                 EVC_EINVAL);
	ck_assert_int_eq(
	    evc__tz_parse(NULL, "x", (const uint8_t *)"x", 1, why, sizeof(why)),
	    EVC_EINVAL);
	/* No data at all is an empty file. */
	ck_assert_int_eq(evc__tz_parse(&tz, "x", NULL, 0, why, sizeof(why)),
	                 EVC_EPARSE);
	ck_assert_ptr_nonnull(strstr(why, "empty"));

	tz = load_ok("UTC");
	char buf[EVC_TZ_TIME_BUFSZ + 4];
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(evc__tz_format(tz, 0, NULL, 64), EVC_EINVAL);
	ck_assert_int_eq(evc__tz_format(NULL, 0, buf, sizeof(buf)), EVC_EINVAL);
	/* The buffer must hold any output, even where this one is short. */
	ck_assert_int_eq(evc__tz_format(tz, 0, buf, EVC_TZ_TIME_BUFSZ - 1),
	                 EVC_EINVAL);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_int_eq(evc__tz_format(tz, EVC_TIME_MAX + 1, buf, sizeof(buf)),
	                 EVC_ERANGE);
	ck_assert_int_eq(evc__tz_format(tz, EVC_TIME_MIN - 1, buf, sizeof(buf)),
	                 EVC_ERANGE);
	ck_assert_int_eq(evc__tz_format(tz, INT64_MIN, buf, sizeof(buf)),
	                 EVC_ERANGE);
	evc__tz_free(tz);

	/* A local time outside years 0000-9999 cannot be written. */
	tz = load_ok("America/New_York");
	ck_assert_int_eq(evc__tz_format(tz, EVC_TIME_MIN, buf, sizeof(buf)),
	                 EVC_ERANGE);
	ck_assert_int_eq(
	    evc__tz_format(tz, EVC_TIME_MIN + 5 * H, buf, sizeof(buf)), 25);
	ck_assert_str_eq(buf, "0000-01-01T00:04:00-04:56");
	evc__tz_free(tz);
	tz = load_ok("Asia/Kolkata");
	ck_assert_int_eq(evc__tz_format(tz, EVC_TIME_MAX, buf, sizeof(buf)),
	                 EVC_ERANGE);
	evc__tz_free(tz);
}
END_TEST

/* ---- $TZDIR -------------------------------------------------------------- */

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

START_TEST(tzdir_override)
{
	const char *dir = tu_temp_dir();
	char sub[4096], zone[4096], other[4096], msg[4096];
	char why[512] = "";
	evc_tz *tz;
	char *saved = getenv("TZDIR") ? strdup(getenv("TZDIR")) : NULL;

	snprintf(sub, sizeof(sub), "%s/Test", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(zone, sizeof(zone), "%s/Test/Zone", dir);
	copy_file(ZONEINFO "/America/New_York", zone);
	/* A file that "Test/../Other" would reach, were names not checked
	 * before any file is opened. */
	snprintf(other, sizeof(other), "%s/Other", dir);
	copy_file(ZONEINFO "/Asia/Kolkata", other);

	ck_assert_int_eq(setenv("TZDIR", dir, 1), 0);
	tz = load_ok("Test/Zone");
	ck_assert_int_eq(evc__tz_offset(tz, ts("2021-07-01T00:00:00Z")),
	                 -4 * H);
	evc__tz_free(tz);
	tz = load_ok("Other");
	ck_assert_int_eq(evc__tz_offset(tz, 0), 5 * H + 30 * M);
	evc__tz_free(tz);
	ck_assert_int_eq(evc__tz_load(&tz, "Test/../Other", why, sizeof(why)),
	                 EVC_EINVAL);
	/* The system's zones are not there. */
	ck_assert_int_eq(
	    evc__tz_load(&tz, "America/New_York", why, sizeof(why)),
	    EVC_ENOTFOUND);
	snprintf(msg, sizeof(msg),
	         "unknown time zone \"America/New_York\" (no such file under "
	         "%s)",
	         dir);
	ck_assert_str_eq(why, msg);
	/* UTC and fixed offsets need no file. */
	tz = load_ok("UTC");
	evc__tz_free(tz);
	tz = load_ok("+01:00");
	evc__tz_free(tz);

	/* Empty: the system's directory. */
	ck_assert_int_eq(setenv("TZDIR", "", 1), 0);
	tz = load_ok("America/New_York");
	evc__tz_free(tz);
	ck_assert_int_eq(evc__tz_load(&tz, "Test/Zone", why, sizeof(why)),
	                 EVC_ENOTFOUND);

	if (saved) {
		setenv("TZDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TZDIR");
	}
	unlink(zone);
	unlink(other);
	rmdir(sub);
}
END_TEST

/* ---- hand-built TZif data ------------------------------------------------ */

typedef struct b_type {
	int32_t utoff;
	uint8_t isdst, desig;
} b_type;

/* A TZif file: version 0 (1), '2', '3' or '4'; for version 2 and later
 * the data is written in the 64-bit block, after a version 1 block of
 * one type of offset v1_off (0 by default), and `footer` follows. */
typedef struct tzif {
	char version;
	size_t n_times;
	int64_t times[8];
	uint8_t idx[8];
	size_t n_types;
	b_type types[4];
	const char *chars;
	size_t charcnt;
	bool indicators; /* isstd and isut, all 0 */
	const char *footer;
	int32_t v1_off;
} tzif;

typedef struct bytes {
	uint8_t b[4096];
	size_t n;
	size_t hdr2; /* where the second header starts (version 2+) */
} bytes;

static void put(bytes *o, const void *p, size_t n)
{
	ck_assert_uint_le(o->n + n, sizeof(o->b));
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put32(bytes *o, uint32_t v)
{
	const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                      (uint8_t)(v >> 8), (uint8_t)v};
	put(o, b, 4);
}

static void put64(bytes *o, int64_t v)
{
	put32(o, (uint32_t)((uint64_t)v >> 32));
	put32(o, (uint32_t)v);
}

static void header(bytes *o, char version, uint32_t isut, uint32_t isstd,
                   uint32_t leap, uint32_t time, uint32_t type, uint32_t chr)
{
	static const uint8_t zero[15];
	put(o, "TZif", 4);
	put(o, &version, 1);
	put(o, zero, 15);
	put32(o, isut);
	put32(o, isstd);
	put32(o, leap);
	put32(o, time);
	put32(o, type);
	put32(o, chr);
}

static void build(const tzif *z, bytes *o)
{
	const size_t chars = z->charcnt ? z->charcnt : strlen(z->chars) + 1;
	const uint32_t ind = z->indicators ? (uint32_t)z->n_types : 0;
	const bool v2 = z->version != 0;

	o->n = 0;
	if (v2) {
		header(o, z->version, 0, 0, 0, 0, 1, 4);
		put32(o, (uint32_t)z->v1_off);
		put(o, "\0\0", 2);
		put(o, "V1\0\0", 4);
		o->hdr2 = o->n;
	}
	header(o, z->version, ind, ind, 0, (uint32_t)z->n_times,
	       (uint32_t)z->n_types, (uint32_t)chars);
	for (size_t i = 0; i < z->n_times; i++) {
		if (v2)
			put64(o, z->times[i]);
		else
			put32(o, (uint32_t)z->times[i]);
	}
	put(o, z->idx, z->n_times);
	for (size_t i = 0; i < z->n_types; i++) {
		put32(o, (uint32_t)z->types[i].utoff);
		put(o, &z->types[i].isdst, 1);
		put(o, &z->types[i].desig, 1);
	}
	put(o, z->chars, chars);
	for (uint32_t i = 0; i < 2 * ind; i++)
		put(o, "\0", 1);
	if (v2 && z->footer) {
		put(o, "\n", 1);
		put(o, z->footer, strlen(z->footer));
		put(o, "\n", 1);
	}
}

/* Two types, -05 and -04 (DST), changing at 1000 and 2000. */
static const tzif simple = {
    .version = '2',
    .n_times = 2,
    .times = {1000, 2000},
    .idx = {1, 0},
    .n_types = 2,
    .types = {{-5 * H, 0, 0}, {-4 * H, 1, 4}},
    .chars = "EST\0EDT",
    .charcnt = 8,
    .footer = "EST5",
};

START_TEST(built_simple)
{
	bytes o;
	build(&simple, &o);
	evc_tz *tz = parse_ok(o.b, o.n);
	int64_t next;

	ck_assert(!evc__tz_is_utc(tz));
	ck_assert_str_eq(evc__tz_name(tz), "test");
	/* Before the first transition: time type 0 (RFC 8536 3.2). */
	ck_assert_int_eq(evc__tz_offset(tz, EVC_TIME_MIN), -5 * H);
	ck_assert_int_eq(evc__tz_offset(tz, 999), -5 * H);
	ck_assert_int_eq(evc__tz_offset(tz, 1000), -4 * H);
	ck_assert_int_eq(evc__tz_offset(tz, 1999), -4 * H);
	ck_assert_int_eq(evc__tz_offset(tz, 2000), -5 * H);
	ck_assert_int_eq(evc__tz_offset(tz, EVC_TIME_MAX), -5 * H);
	ck_assert(evc__tz_next_change(tz, EVC_TIME_MIN, &next));
	ck_assert_int_eq(next, 1000);
	ck_assert(evc__tz_next_change(tz, 1000, &next));
	ck_assert_int_eq(next, 2000);
	ck_assert(!evc__tz_next_change(tz, 2000, &next));
	/* wall 1000 - 4h: the gap [1000 - 5h, 1000 - 4h) maps to 1000 */
	ck_assert_int_eq(evc__tz_first_at_or_after(tz, 1000 - 5 * H + 10),
	                 1000);
	ck_assert_int_eq(evc__tz_first_at_or_after(tz, 1000 - 5 * H - 1), 999);
	evc__tz_free(tz);

	/* Version 1: the same in 32-bit data, no footer. */
	tzif v1 = simple;
	v1.version = 0;
	build(&v1, &o);
	tz = parse_ok(o.b, o.n);
	ck_assert_int_eq(evc__tz_offset(tz, 999), -5 * H);
	ck_assert_int_eq(evc__tz_offset(tz, 1500), -4 * H);
	ck_assert_int_eq(evc__tz_offset(tz, 2000), -5 * H);
	ck_assert_int_eq(evc__tz_offset(tz, EVC_TIME_MAX), -5 * H);
	evc__tz_free(tz);

	/* Version 2 and later: the 64-bit block, not the version 1 one. */
	tzif v2 = simple;
	v2.v1_off = 7 * H;
	for (char v = '2'; v <= '4'; v++) {
		v2.version = v;
		build(&v2, &o);
		tz = parse_ok(o.b, o.n);
		ck_assert_int_eq(evc__tz_offset(tz, 0), -5 * H);
		ck_assert_int_eq(evc__tz_offset(tz, 1500), -4 * H);
		evc__tz_free(tz);
	}

	/* Without a footer, the last type holds after the last transition;
	 * an empty footer is no footer. */
	tzif nof = simple;
	nof.idx[1] = 1;
	nof.footer = "";
	build(&nof, &o);
	tz = parse_ok(o.b, o.n);
	ck_assert_int_eq(evc__tz_offset(tz, 2000), -4 * H);
	ck_assert_int_eq(evc__tz_offset(tz, EVC_TIME_MAX), -4 * H);
	ck_assert(evc__tz_next_change(tz, 0, &next));
	ck_assert_int_eq(next, 1000);
	ck_assert(!evc__tz_next_change(tz, 1000, &next));
	evc__tz_free(tz);

	/* Transitions that keep the offset are not changes; far-off
	 * transition times are fine. */
	tzif same = simple;
	same.n_times = 4;
	same.times[0] = INT64_MIN;
	same.times[1] = -5;
	same.times[2] = 1000;
	same.times[3] = INT64_MAX;
	same.idx[0] = 0;
	same.idx[1] = 0;
	same.idx[2] = 1;
	same.idx[3] = 1;
	same.footer = "EST4EDT,M3.2.0,M11.1.0";
	build(&same, &o);
	tz = parse_ok(o.b, o.n);
	ck_assert(evc__tz_next_change(tz, EVC_TIME_MIN, &next));
	ck_assert_int_eq(next, 1000);
	ck_assert(!evc__tz_next_change(tz, 1000, &next));
	ck_assert_int_eq(evc__tz_offset(tz, EVC_TIME_MAX), -4 * H);
	evc__tz_free(tz);
}
END_TEST

/* A file with one transition long ago and only the footer after it, as
 * zic writes for zones whose rules never changed. */
static evc_tz *footer_zone(const char *footer)
{
	tzif z = {
	    .version = '3',
	    .n_times = 1,
	    .times = {-3000000000LL * 1000},
	    .idx = {0},
	    .n_types = 1,
	    .types = {{0, 0, 0}},
	    .chars = "XXX",
	    .footer = footer,
	};
	bytes o;
	build(&z, &o);
	return parse_ok(o.b, o.n);
}

typedef struct footer_case {
	const char *footer;
	const char *utc; /* an instant */
	int32_t off;     /* the offset then */
} footer_case;

/* Each from the definition of the rule's date and time (POSIX TZ, with
 * RFC 9636 3.3.1's extensions) and the calendar: */
static const footer_case footers[] = {
    /* no DST */
    {"<+0530>-5:30", "2021-06-01T00:00:00Z", 5 * H + 30 * M},
    {"EST5", "2021-06-01T00:00:00Z", -5 * H},
    {"<-00>0", "2021-06-01T00:00:00Z", 0},
    {"XXX-24:59:59", "2021-06-01T00:00:00Z", 24 * H + 59 * M + 59},
    {"XXX+24", "2021-06-01T00:00:00Z", -24 * H},
    /* DST one hour ahead by default; no rule: the US rules */
    {"EST5EDT", "2021-03-14T06:59:59Z", -5 * H},
    {"EST5EDT", "2021-03-14T07:00:00Z", -4 * H},
    /* Jn: day n of 365, March 1 is J60 even in leap years (2020) */
    {"XXX3YYY,J60/0,J300/0", "2020-03-01T02:59:59Z", -3 * H},
    {"XXX3YYY,J60/0,J300/0", "2020-03-01T03:00:00Z", -2 * H},
    {"XXX3YYY,J60/0,J300/0", "2021-03-01T03:00:00Z", -2 * H},
    /* n: zero-based, February 29 counted: day 60 is March 1 in 2020, but
     * March 2 in 2021 */
    {"XXX3YYY,60/0,300/0", "2020-03-01T03:00:00Z", -2 * H},
    {"XXX3YYY,60/0,300/0", "2021-03-01T03:00:00Z", -3 * H},
    {"XXX3YYY,60/0,300/0", "2021-03-02T03:00:00Z", -2 * H},
    /* Mm.5.d is the last such day: March 2021's last Sunday is the 28th */
    {"XXX3YYY,M3.5.0/0,M10.5.0/0", "2021-03-28T02:59:59Z", -3 * H},
    {"XXX3YYY,M3.5.0/0,M10.5.0/0", "2021-03-28T03:00:00Z", -2 * H},
    /* a negative time: Greenland, "springing forward on March's last
     * Sunday at 01:00 UT (-02:00 local time)" (newtzset(3)) */
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2021-03-28T00:59:59Z", -3 * H},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2021-03-28T01:00:00Z", -2 * H},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2021-10-31T00:59:59Z", -2 * H},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2021-10-31T01:00:00Z", -3 * H},
    /* more than 24 hours: Israel, "March's fourth Thursday at 26:00
     * (i.e., 02:00 on the first Friday on or after March 23)": Friday
     * 2021-03-26 */
    {"IST-2IDT,M3.4.4/26,M10.5.0", "2021-03-26T01:59:59+02:00", 2 * H},
    {"IST-2IDT,M3.4.4/26,M10.5.0", "2021-03-26T03:00:00+03:00", 3 * H},
    /* and 147:00: Fiji's example, January's second Monday at 147:00 is
     * 03:00 on the first Sunday on or after January 14: 2021-01-17 */
    {"<+12>-12<+13>,M11.1.0,M1.2.1/147", "2021-01-17T02:59:59+13:00", 13 * H},
    {"<+12>-12<+13>,M11.1.0,M1.2.1/147", "2021-01-17T02:00:00+12:00", 12 * H},
    /* negative DST: Ireland, IST +1 in summer is "standard" */
    {"IST-1GMT0,M10.5.0,M3.5.0/1", "2021-01-15T00:00:00Z", 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", "2021-07-15T00:00:00Z", H},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", "2021-03-28T00:59:59Z", 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", "2021-03-28T01:00:00Z", H},
    /* DST all year: starts January 1 at 00:00, ends December 31 at 24:00
     * plus the DST offset difference (RFC 9636 3.3.1) */
    {"<-04>4<-03>,J1/0,J365/25", "2021-01-01T00:00:00Z", -3 * H},
    {"<-04>4<-03>,J1/0,J365/25", "2021-01-01T03:30:00Z", -3 * H},
    {"<-04>4<-03>,J1/0,J365/25", "2020-12-31T23:59:59Z", -3 * H},
    {"<-04>4<-03>,J1/0,J365/25", "2020-07-01T00:00:00Z", -3 * H},
    {"XXX3EDT4,0/0,J365/23", "2021-06-01T00:00:00Z", -4 * H},
    {"XXX3EDT4,0/0,J365/23", "2024-01-01T02:00:00Z", -4 * H},
    /* a change of next year's rule before this year ends in UTC: January
     * 1 00:00 at +10 is December 31 14:00 UT */
    {"<+10>-10<+11>,J1/0,J180/0", "2020-12-31T13:59:59Z", 10 * H},
    {"<+10>-10<+11>,J1/0,J180/0", "2020-12-31T14:00:00Z", 11 * H},
    /* and one of last year's after this one began: December 31 at 48:00
     * is January 2 */
    {"XXX3YYY,J365/48,J180/0", "2021-01-02T02:59:59Z", -3 * H},
    {"XXX3YYY,J365/48,J180/0", "2021-01-02T03:00:00Z", -2 * H},
    /* southern hemisphere, changes across the year's end */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2021-01-01T00:00:00Z", 11 * H},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2021-06-01T00:00:00Z", 10 * H},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2099-12-31T23:59:59Z", 11 * H},
};

START_TEST(footer_rules)
{
	const footer_case *c = &footers[_i];
	evc_tz *tz = footer_zone(c->footer);
	const int64_t t = ts(c->utc);

	ck_assert_msg(evc__tz_offset(tz, t) == c->off,
	              "\"%s\" at %s: offset %d, want %d", c->footer, c->utc,
	              evc__tz_offset(tz, t), c->off);
	/* The change that set it, if any, was at or before t. */
	int64_t prev = t - 400LL * 366 * 86400, next;
	while (evc__tz_next_change(tz, prev, &next) && next <= t)
		prev = next;
	ck_assert_int_eq(evc__tz_offset(tz, prev), c->off);
	evc__tz_free(tz);
}
END_TEST

/* The changes around a year's end come from the neighbouring years'
 * rules, whichever side of the UTC new year they fall. */
START_TEST(footer_year_edges)
{
	int64_t next;
	evc_tz *tz = footer_zone("XXX3YYY,J365/48,J180/0");
	ck_assert(evc__tz_next_change(tz, ts("2021-01-01T00:00:00Z"), &next));
	ck_assert_int_eq(next, ts("2021-01-02T03:00:00Z"));
	ck_assert(evc__tz_next_change(tz, next, &next));
	ck_assert_int_eq(next, ts("2021-06-29T00:00:00-02:00"));
	evc__tz_free(tz);
	tz = footer_zone("<+10>-10<+11>,J1/0,J180/0");
	ck_assert(evc__tz_next_change(tz, ts("2020-07-01T00:00:00Z"), &next));
	ck_assert_int_eq(next, ts("2020-12-31T14:00:00Z"));
	ck_assert_int_eq(
	    evc__tz_first_at_or_after(tz, wall("2021-01-01T00:30:00")),
	    ts("2021-01-01T01:00:00+11:00"));
	evc__tz_free(tz);
}
END_TEST

START_TEST(footer_only_zone)
{
	/* No transitions: the footer decides everywhere (RFC 9636 3.2). */
	tzif z = {
	    .version = '2',
	    .n_types = 1,
	    .types = {{-5 * H, 0, 0}},
	    .chars = "EST",
	    .footer = "EST5EDT,M3.2.0,M11.1.0",
	};
	bytes o;
	build(&z, &o);
	evc_tz *tz = parse_ok(o.b, o.n);
	ck_assert_int_eq(evc__tz_offset(tz, ts("1900-07-01T00:00:00Z")),
	                 -4 * H);
	ck_assert_int_eq(evc__tz_offset(tz, ts("0000-07-01T00:00:00Z")),
	                 -4 * H);
	ck_assert_int_eq(evc__tz_offset(tz, ts("0000-01-01T00:00:00Z")),
	                 -5 * H);
	ck_assert_int_eq(
	    evc__tz_first_at_or_after(tz, wall("2021-03-14T02:30:00")),
	    ts("2021-03-14T07:00:00Z"));
	evc__tz_free(tz);
}
END_TEST

/* ---- corrupt data -------------------------------------------------------- */

static int parse_rc(const uint8_t *data, size_t len, char *why, size_t n)
{
	evc_tz *tz = (evc_tz *)why;
	int rc = evc__tz_parse(&tz, "bad", data, len, why, n);
	REQUIRE(rc == EVC_OK || tz == NULL, "*out set on failure");
	evc__tz_free(tz);
	return rc;
}

static void expect_bad(const bytes *o, const char *msg)
{
	char why[512] = "";
	int rc = parse_rc(o->b, o->n, why, sizeof(why));
	ck_assert_msg(rc == EVC_EPARSE, "want EPARSE (%s): %d (%s)", msg, rc,
	              why);
	ck_assert_msg(strstr(why, msg) != NULL, "message \"%s\", want \"%s\"",
	              why, msg);
	ck_assert_msg(strstr(why, "time zone \"bad\"") != NULL, "%s", why);
}

/* Overwrite the 32-bit count k (0 isut ... 5 char) of the header at h. */
static void set_count(bytes *o, size_t h, int k, uint32_t v)
{
	uint8_t *p = o->b + h + 20 + 4 * k;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

START_TEST(corrupt_truncated)
{
	size_t len;
	char *data = tu_read_file(ZONEINFO "/America/New_York", &len);
	char why[512];

	ck_assert_ptr_nonnull(data);
	/* Every proper prefix is refused, as an exact-size copy that ASan
	 * and memcheck watch. */
	for (size_t n = 0; n < len; n++) {
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, data, n);
		int rc = parse_rc(p, n, why, sizeof(why));
		REQUIRE(rc == EVC_EPARSE, "prefix %zu of %zu: %d", n, len, rc);
		free(p);
	}
	ck_assert_int_eq(parse_rc((const uint8_t *)data, len, why, sizeof(why)),
	                 EVC_OK);
	free(data);

	bytes o;
	build(&simple, &o);
	o.n -= 3;
	expect_bad(&o, "unterminated footer");
	build(&simple, &o);
	o.n -= strlen(simple.footer) + 2;
	expect_bad(&o, "missing footer");
}
END_TEST

START_TEST(corrupt_headers)
{
	bytes o;

	build(&simple, &o);
	o.b[0] = 'X';
	expect_bad(&o, "bad magic");
	build(&simple, &o);
	o.b[o.hdr2 + 3] = 'x';
	expect_bad(&o, "bad magic in the second header");
	for (const char *v = "15\x01\xff"; *v; v++) {
		build(&simple, &o);
		o.b[4] = (uint8_t)*v;
		expect_bad(&o, "unsupported TZif version");
	}
	build(&simple, &o);
	o.b[o.hdr2 + 4] = '3';
	expect_bad(&o, "different versions");

	/* Counts past the end, up to the largest. */
	static const uint32_t big[] = {3, 1000, 0x7fffffff, 0xffffffff};
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		for (int k = 0; k < 6; k++) {
			build(&simple, &o);
			set_count(&o, o.hdr2, k, big[i]);
			char why[512];
			int rc = parse_rc(o.b, o.n, why, sizeof(why));
			ck_assert_msg(rc == EVC_EPARSE || rc == EVC_EINVAL,
			              "count %d = %u: %d", k, big[i], rc);
			build(&simple, &o);
			set_count(&o, 0, k, big[i]);
			rc = parse_rc(o.b, o.n, why, sizeof(why));
			ck_assert_msg(rc == EVC_EPARSE || rc == EVC_EINVAL,
			              "v1 count %d = %u: %d", k, big[i], rc);
		}
	}
	build(&simple, &o);
	set_count(&o, o.hdr2, 3, 0x7fffffff);
	expect_bad(&o, "runs past the end");
	build(&simple, &o);
	set_count(&o, 0, 5, 0x7fffffff);
	expect_bad(&o, "version 1 data block");
}
END_TEST

START_TEST(corrupt_data)
{
	bytes o;
	tzif z;

	z = simple;
	z.times[1] = 1000;
	build(&z, &o);
	expect_bad(&o, "not in ascending order");
	z.times[1] = 999;
	build(&z, &o);
	expect_bad(&o, "not in ascending order");
	z = simple;
	z.idx[1] = 2;
	build(&z, &o);
	expect_bad(&o, "transition 1 has local time type 2");
	z.idx[1] = 255;
	build(&z, &o);
	expect_bad(&o, "local time type 255");
	z = simple;
	z.n_types = 0;
	z.n_times = 0;
	build(&z, &o);
	expect_bad(&o, "no local time types");
	z = simple;
	z.types[1].utoff = INT32_MIN;
	build(&z, &o);
	expect_bad(&o, "out of range");
	z.types[1].utoff = 93600;
	build(&z, &o);
	expect_bad(&o, "UT offset 93600 s of local time type 1 out of range");
	z.types[1].utoff = -90000;
	build(&z, &o);
	expect_bad(&o, "out of range");
	z = simple;
	z.types[1].isdst = 2;
	build(&z, &o);
	expect_bad(&o, "DST flag");
	z = simple;
	z.types[1].desig = 8;
	build(&z, &o);
	expect_bad(&o, "designation");
	z = simple;
	z.chars = "EST\0EDTX";
	z.charcnt = 8;
	z.types[1].desig = 4;
	build(&z, &o);
	ck_assert_int_eq(o.b[o.n - strlen(z.footer) - 3], 'X');
	expect_bad(&o, "not NUL-terminated");

	/* Indicator counts must be 0 or the type count, values 0 or 1, and
	 * a UT indicator needs the standard one. */
	z = simple;
	z.indicators = true;
	build(&z, &o);
	evc__tz_free(parse_ok(o.b, o.n));
	set_count(&o, o.hdr2, 0, 1);
	expect_bad(&o, "UT/local indicators");
	build(&z, &o);
	set_count(&o, o.hdr2, 1, 1);
	expect_bad(&o, "standard/wall indicators");
	build(&z, &o);
	o.b[o.n - strlen(z.footer) - 3] = 2; /* the last isut */
	expect_bad(&o, "indicator");
	build(&z, &o);
	o.b[o.n - strlen(z.footer) - 3] = 1; /* UT but not standard */
	expect_bad(&o, "UT but not standard");

	/* Zero designation bytes. */
	z = simple;
	build(&z, &o);
	set_count(&o, o.hdr2, 5, 0);
	expect_bad(&o, "no time zone designations");

	/* Leap seconds are refused with EVC_EINVAL, even in hand-made data. */
	build(&simple, &o);
	bytes l = o;
	set_count(&l, l.hdr2, 2, 1);
	const size_t foot = strlen(simple.footer) + 2;
	memmove(l.b + l.n - foot + 12, l.b + l.n - foot, foot);
	memset(l.b + l.n - foot, 0, 12);
	l.n += 12;
	char why[512];
	ck_assert_int_eq(parse_rc(l.b, l.n, why, sizeof(why)), EVC_EINVAL);
	ck_assert_ptr_nonnull(
	    strstr(why, "leap-second time zones are not supported"));

	/* Footer framing. */
	build(&simple, &o);
	o.b[o.n - strlen(simple.footer) - 2] = 'x';
	expect_bad(&o, "footer does not start with a newline");
	/* Bytes after the footer are for later versions: ignored. */
	build(&simple, &o);
	put(&o, "more", 4);
	evc__tz_free(parse_ok(o.b, o.n));
}
END_TEST

static const char *const bad_footers[] = {
    "EST",
    "5",
    "E5",
    "ES5",
    "<ES>5",
    "<EST5",
    "<E$T>5",
    "EST+",
    "EST25",
    "EST5:60",
    "EST5:00:60",
    "EST5:",
    "EST5x",
    "EST5ED",
    "EST5EDT,",
    "EST5EDT,M3.2.0",
    "EST5EDT,M3.2.0,",
    "EST5EDT;M3.2.0,M11.1.0",
    "EST5EDT,M13.2.0,M11.1.0",
    "EST5EDT,M0.2.0,M11.1.0",
    "EST5EDT,M3.6.0,M11.1.0",
    "EST5EDT,M3.0.0,M11.1.0",
    "EST5EDT,M3.2.7,M11.1.0",
    "EST5EDT,M3.2,M11.1.0",
    "EST5EDT,M3,M11.1.0",
    "EST5EDT,J0,J365",
    "EST5EDT,J366,J1",
    "EST5EDT,366,1",
    "EST5EDT,M3.2.0/168,M11.1.0",
    "EST5EDT,M3.2.0/-168,M11.1.0",
    "EST5EDT,M3.2.0/2:60,M11.1.0",
    "EST5EDT,M3.2.0/,M11.1.0",
    "EST5EDT,M3.2.0,M11.1.0,",
    "EST5EDT,M3.2.0,M11.1.0x",
    "EST5EDT25,M3.2.0,M11.1.0",
    "EST5EDT,X3.2.0,M11.1.0",
    "EST 5",
    " EST5",
    "EST5\r",
    "EST5\t",
    "EST99999999999999999999",
    "EST5EDT,M3.2.0/99999999999,M11.1.0",
};

START_TEST(corrupt_footer)
{
	tzif z = simple;
	bytes o;
	char why[512];

	z.footer = bad_footers[_i];
	build(&z, &o);
	int rc = parse_rc(o.b, o.n, why, sizeof(why));
	ck_assert_msg(rc == EVC_EPARSE, "footer \"%s\": %d", z.footer, rc);
	ck_assert_msg(strstr(why, "footer") != NULL, "%s", why);
}
END_TEST

/* A NUL byte inside the footer's string. */
START_TEST(footer_nul)
{
	bytes o;
	build(&simple, &o);
	o.b[o.n - 2] = '\0';
	expect_bad(&o, "footer");
}
END_TEST

/* ---- properties on real zones -------------------------------------------- */

static const char *const sample_zones[] = {
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Europe/Dublin",
    "America/Nuuk",
    "Asia/Jerusalem",
    "Africa/Casablanca",
    "America/Sao_Paulo",
    "Antarctica/Troll",
    "Pacific/Kiritimati",
    "Asia/Manila",
    "America/Juneau",
    "Europe/Moscow",
    "UTC",
    "+05:45",
    "Factory",
};

/* For random instants: first_at_or_after(t + offset(t)) <= t, its result
 * is where the wall clock first reads that time, the next change is a
 * change with the offset constant up to it, and formatted times parse
 * back to the instant. */
START_TEST(consistency)
{
	const char *name = sample_zones[_i];
	char path[256];
	snprintf(path, sizeof(path), ZONEINFO "/%s", name);
	if (name[0] != '+' && strcmp(name, "UTC") != 0 && access(path, R_OK))
		return;
	evc_tz *tz = load_ok(name);
	uint64_t seed = 0x7a + (uint64_t)_i;
	char buf[EVC_TZ_TIME_BUFSZ], a[EVC_TIME_BUFSZ];
	const int64_t y1800 = ts("1800-01-01T00:00:00Z");

	for (int i = 0; i < scaled(20000); i++) {
		int64_t t, next, back;
		if (i % 2)
			t = y1800 +
			    (int64_t)tu_rand_below(&seed, 300ULL * 366 * 86400);
		else
			t = EVC_TIME_MIN +
			    (int64_t)tu_rand_below(
			        &seed, (uint64_t)(EVC_TIME_MAX - EVC_TIME_MIN));
		const int32_t off = evc__tz_offset(tz, t);
		const int64_t l = t + off;
		const int64_t f = evc__tz_first_at_or_after(tz, l);
		REQUIRE(f <= t, "%s: first(%lld) = %lld > %lld", name,
		        (long long)l, (long long)f, (long long)t);
		REQUIRE(f == EVC_TIME_MIN ||
		            (f + evc__tz_offset(tz, f) >= l &&
		             f - 1 + evc__tz_offset(tz, f - 1) < l),
		        "%s: first(%lld) = %s", name, (long long)l,
		        tu_fmt(f, a));
		if (evc__tz_next_change(tz, t, &next)) {
			REQUIRE(next > t && next <= EVC_TIME_MAX &&
			            evc__tz_offset(tz, next) !=
			                evc__tz_offset(tz, next - 1) &&
			            evc__tz_offset(tz, next - 1) == off &&
			            evc__tz_offset(tz, t + (next - t) / 2) ==
			                off,
			        "%s: next change after %s", name, tu_fmt(t, a));
		} else {
			REQUIRE(evc__tz_offset(tz, EVC_TIME_MAX) == off,
			        "%s: a change after %s", name, tu_fmt(t, a));
		}
		const int n = evc__tz_format(tz, t, buf, sizeof(buf));
		if (n > 0) {
			REQUIRE(n == (evc__tz_is_utc(tz) ? 20 : 25) &&
			            evc_parse_time(buf, &back) == EVC_OK &&
			            back == t,
			        "%s: %s formats as %s", name, tu_fmt(t, a),
			        buf);
		} else {
			REQUIRE(n == EVC_ERANGE &&
			            (t + off / 60 * 60 < EVC_TIME_MIN ||
			             t + off / 60 * 60 > EVC_TIME_MAX),
			        "%s: %s formats as %d", name, tu_fmt(t, a), n);
		}
	}
	evc__tz_free(tz);
}
END_TEST

/* ---- threads ------------------------------------------------------------- */

#define N_THREADS 4
#define N_PROBES  4000

static evc_tz *shared_tz;
static int64_t probe_t[N_PROBES], probe_first[N_PROBES];
static int32_t probe_off[N_PROBES];

static int n_rounds;

static void *probe_thread(void *arg)
{
	long bad = 0;
	for (int r = 0; r < n_rounds; r++) {
		for (int i = 0; i < N_PROBES; i++) {
			const int k =
			    (i * 7 + r * 13 + (int)(intptr_t)arg) % N_PROBES;
			bad += evc__tz_offset(shared_tz, probe_t[k]) !=
			       probe_off[k];
			bad += evc__tz_first_at_or_after(
			           shared_tz, probe_t[k]) != probe_first[k];
		}
		/* Loading and freeing other zones meanwhile. */
		evc_tz *tz;
		if (evc__tz_load(&tz, "Europe/Paris", NULL, 0) != EVC_OK)
			bad++;
		evc__tz_free(tz);
	}
	return (void *)(intptr_t)bad;
}

START_TEST(threads_share_a_zone)
{
	pthread_t th[N_THREADS];
	uint64_t seed = 99;

	n_rounds = scaled(20);
	shared_tz = load_ok("America/Sao_Paulo");
	for (int i = 0; i < N_PROBES; i++) {
		probe_t[i] =
		    ts("1900-01-01T00:00:00Z") +
		    (int64_t)tu_rand_below(&seed, 250ULL * 366 * 86400);
		probe_off[i] = evc__tz_offset(shared_tz, probe_t[i]);
		probe_first[i] =
		    evc__tz_first_at_or_after(shared_tz, probe_t[i]);
	}
	for (intptr_t i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, probe_thread, (void *)i), 0);
	for (int i = 0; i < N_THREADS; i++) {
		void *bad;
		ck_assert_int_eq(pthread_join(th[i], &bad), 0);
		ck_assert_int_eq((intptr_t)bad, 0);
	}
	evc__tz_free(shared_tz);
}
END_TEST

/* ---- allocation failures ------------------------------------------------- */

START_TEST(alloc_failures)
{
	static const char *const zones[] = {"America/New_York", "UTC",
	                                    "+05:30"};
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		for (long n = 1;; n++) {
			char why[256] = "";
			evc_tz *tz = (evc_tz *)why;
			evc__alloc_fail_nth(n);
			int rc = evc__tz_load(&tz, zones[z], why, sizeof(why));
			const bool hit = evc__alloc_fail_hit();
			evc__alloc_fail_nth(0);
			if (!hit) {
				ck_assert_int_eq(rc, EVC_OK);
				evc__tz_free(tz);
				break;
			}
			ck_assert_int_eq(rc, EVC_ENOMEM);
			ck_assert_ptr_null(tz);
			ck_assert_ptr_nonnull(strstr(why, "out of memory"));
			ck_assert_ptr_nonnull(strstr(why, zones[z]));
		}
	}
}
END_TEST

/* The zones are the system's, whatever $TZDIR says (tzdir_override sets
 * it itself). */
static void clear_tzdir(void)
{
	unsetenv("TZDIR");
}

static TCase *new_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, clear_tzdir, NULL);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *tz_suite(void);

Suite *tz_suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc;

#define LOOP(name, table)                                                      \
	tc = new_tcase(s, name);                                               \
	tcase_add_loop_test(tc, table##_test, 0, N_CASES(table))

	LOOP("new_york_2021", new_york_2021);
	LOOP("lord_howe", lord_howe);
	LOOP("apia_2011", apia_2011);
	LOOP("kolkata", kolkata);
	LOOP("kathmandu", kathmandu);
	LOOP("chatham", chatham);
	LOOP("sydney", sydney);
	LOOP("moscow", moscow);
	LOOP("pyongyang", pyongyang);
	LOOP("before_1970", before_1970);
	LOOP("after_2037", after_2037);
	LOOP("formatting", formatting);
#undef LOOP

	tc = new_tcase(s, "utc");
	tcase_add_test(tc, utc_zone);

	tc = new_tcase(s, "fixed_offsets");
	tcase_add_loop_test(tc, fixed_offsets, 0, N_CASES(fixed));

	tc = new_tcase(s, "bad_names");
	tcase_add_loop_test(tc, bad_names, 0, N_CASES(names));
	tcase_add_test(tc, null_arguments);

	tc = new_tcase(s, "tzdir");
	tcase_add_test(tc, tzdir_override);

	tc = new_tcase(s, "built");
	tcase_add_test(tc, built_simple);
	tcase_add_test(tc, footer_only_zone);
	tcase_add_test(tc, footer_year_edges);

	tc = new_tcase(s, "footer_rules");
	tcase_add_loop_test(tc, footer_rules, 0, N_CASES(footers));

	tc = new_tcase(s, "corrupt");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, corrupt_truncated);
	tcase_add_test(tc, corrupt_headers);
	tcase_add_test(tc, corrupt_data);
	tcase_add_loop_test(tc, corrupt_footer, 0, N_CASES(bad_footers));
	tcase_add_test(tc, footer_nul);

	tc = new_tcase(s, "consistency");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, consistency, 0, N_CASES(sample_zones));

	tc = new_tcase(s, "threads");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, threads_share_a_zone);

	tc = new_tcase(s, "alloc");
	tcase_add_test(tc, alloc_failures);

	return s;
}

TU_SUITE(tz_suite)
