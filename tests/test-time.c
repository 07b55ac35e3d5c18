/* SPDX-License-Identifier: MIT */
/* Time parsing (evc_parse_time, evc__parse_ts), formatting and the civil
 * date arithmetic, checked against tables and against glibc's timegm(). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 2021-03-01T00:00:00Z */
#define D0 1614556800LL
#define H  3600LL
#define M  60LL

typedef struct good_case {
	const char *str;
	int64_t want;
} good_case;

static const good_case good[] = {
    {"2021-03-01T02:15:00Z", D0 + 2 * H + 15 * M},
    {"2021-03-01t02:15:00z", D0 + 2 * H + 15 * M},
    {"2021-03-01 02:15:00Z", D0 + 2 * H + 15 * M},
    {"2021-03-01T02:15:00", D0 + 2 * H + 15 * M},
    {"2021-03-01 02:15:00", D0 + 2 * H + 15 * M},
    {"2021-03-01T02:15:00.5Z", D0 + 2 * H + 15 * M},
    {"2021-03-01T02:15:00.0", D0 + 2 * H + 15 * M},
    {"2021-03-01T02:15:00.123456789Z", D0 + 2 * H + 15 * M},
    {"2021-03-01T02:15:59.999999999Z", D0 + 2 * H + 15 * M + 59},
    {"2021-03-01T02:15:59.999999999", D0 + 2 * H + 15 * M + 59},
    /* real-data shapes */
    {"2021-03-01 00:01:11.055+00", D0 + 71},
    {"2021-03-01 00:03:21.74+00", D0 + 3 * M + 21},
    {"2021-03-01 01:54:37+00", D0 + H + 54 * M + 37},
    /* offsets */
    {"2021-03-01 00:30:00+01", D0 - 30 * M},
    {"2021-03-01 00:30:00+0100", D0 - 30 * M},
    {"2021-03-01 00:30:00+01:00", D0 - 30 * M},
    {"2021-02-28 23:30:00-08:00", D0 + 7 * H + 30 * M},
    {"2021-02-28 23:30:00-0800", D0 + 7 * H + 30 * M},
    {"2021-02-28 23:30:00-08", D0 + 7 * H + 30 * M},
    {"2021-03-01T12:00:00+05:30", D0 + 12 * H - 5 * H - 30 * M},
    {"2021-03-01T12:00:00-05:30", D0 + 12 * H + 5 * H + 30 * M},
    {"2021-03-01T12:00:00+0545", D0 + 12 * H - 5 * H - 45 * M},
    {"2021-03-01T00:00:00+23:59", D0 - 23 * H - 59 * M},
    {"2021-03-01T00:00:00-23:59", D0 + 23 * H + 59 * M},
    {"2021-03-01T00:00:00+00:00", D0},
    {"2021-03-01T00:00:00-00:00", D0},
    {"2021-03-01T00:00:00-00", D0},
    {"2021-03-01T00:00:00.25-01", D0 + H},
    {"2021-03-01T23:59:59.1+00:00", D0 + 86399},
    {"2021-03-01T00:00:00.999+00:01", D0 - M},
    /* bare date: midnight UTC */
    {"2021-03-01", D0},
    /* calendar edges */
    {"2020-02-29T12:00:00Z", 1582977600LL},
    {"2000-02-29T00:00:00Z", 951782400LL},
    {"2021-02-28T23:59:59Z", D0 - 1},
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01", 0},
    {"1969-12-31T23:59:59Z", -1},
    /* the fraction floors to the second, also before the epoch */
    {"1969-12-31T23:59:59.5Z", -1},
    {"1970-01-01T00:00:00+01", -H},
    {"0000-01-01T00:00:00Z", EVC_TIME_MIN},
    {"0000-01-01", EVC_TIME_MIN},
    {"9999-12-31T23:59:59Z", EVC_TIME_MAX},
    {"9999-12-31T23:59:59.999999999Z", EVC_TIME_MAX},
    {"9999-12-31", EVC_TIME_MAX - 86399},
};

START_TEST(parse_accepts_valid_forms)
{
	const good_case *c = &good[_i];
	int64_t t = 12345;
	int rc = evc_parse_time(c->str, &t);
	ck_assert_msg(rc == EVC_OK, "evc_parse_time(\"%s\") = %d (%s)", c->str,
	              rc, evc_errmsg(NULL));
	ck_assert_msg(t == c->want, "\"%s\": got %lld, want %lld", c->str,
	              (long long)t, (long long)c->want);

	/* The internal parser gives the same result on exactly the bytes. */
	const char *why = NULL;
	t = 12345;
	rc = evc__parse_ts(c->str, strlen(c->str), EVC_TS_ALLOW_DATE, &t, &why);
	ck_assert_msg(rc == EVC_OK, "evc__parse_ts(\"%s\") = %d (%s)", c->str,
	              rc, why ? why : "?");
	ck_assert_int_eq(t, c->want);
}
END_TEST

static const char *const bad[] = {
    "",
    " ",
    "abc",
    "2021",
    "2021-03",
    /* leading / trailing spaces and garbage */
    " 2021-03-01T00:00:00Z",
    "\t2021-03-01T00:00:00Z",
    "2021-03-01T00:00:00Z ",
    "2021-03-01T00:00:00 ",
    "2021-03-01 00:01:11.055+00 ",
    "2021-03-01T00:00:00\n",
    "2021-03-01 ",
    " 2021-03-01",
    "2021-03-01T00:00:00Zx",
    "2021-03-01T00:00:00ZZ",
    "2021-03-01T00:00:00+01:00Z",
    "2021-03-01T00:00:00+01:00:00",
    "2021-03-01T00:00:00 Z",
    "2021-03-01T00:00:00 +01",
    "2021-03-01T00:00:00UTC",
    "2021-03-01T00:00:00GMT",
    /* fraction */
    "2021-03-01T00:00:00.Z",
    "2021-03-01T00:00:00.",
    "2021-03-01T00:00:00.+01",
    "2021-03-01T00:00:00.1234567890Z",
    "2021-03-01T00:00:00.1234567890",
    "2021-03-01T00:00:00.1.2Z",
    "2021-03-01T00:00:00,5Z",
    "2021-03-01T00:00:00.5aZ",
    /* shape */
    "2021-03-01X00:00:00Z",
    "2021-03-01TT00:00:00Z",
    "2021-03-0100:00:00Z",
    "2021-3-01T00:00:00Z",
    "2021-03-1T00:00:00Z",
    "21-03-01T00:00:00Z",
    "02021-03-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "-001-01-01T00:00:00Z",
    "+2021-03-01T00:00:00Z",
    "2021/03/01T00:00:00Z",
    "2021-03-01T0:00:00Z",
    "2021-03-01T00:0:00Z",
    "2021-03-01T00:00:0Z",
    "2021-03-01T00:00Z",
    "2021-03-01T00:00",
    "2021-03-01T00",
    "2021-03-01T",
    "2021-03-01T00-00-00Z",
    "2021-03-01T1a:00:00Z",
    "2021-03-01T00:00:00+",
    "2021-03-01T00:00:00+1",
    "2021-03-01T00:00:00+010",
    "2021-03-01T00:00:00+01:",
    "2021-03-01T00:00:00+01:0",
    "2021-03-01T00:00:00+01000",
    "2021-03-01T00:00:00+01:000",
    "2021-03-01T00:00:00+0a",
    /* calendar */
    "2021-02-29T00:00:00Z",
    "2021-02-29",
    "2100-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2021-04-31T00:00:00Z",
    "2021-06-31T00:00:00Z",
    "2021-09-31T00:00:00Z",
    "2021-11-31T00:00:00Z",
    "2021-01-32T00:00:00Z",
    "2021-02-30T00:00:00Z",
    "2020-02-30T00:00:00Z",
    "2021-00-10T00:00:00Z",
    "2021-13-10T00:00:00Z",
    "2021-03-00T00:00:00Z",
    "2021-13-01",
    "2021-00-01",
    /* field ranges */
    "2021-03-01T24:00:00Z",
    "2021-03-01T23:60:00Z",
    "2021-03-01T23:59:60Z",
    "2021-03-01T99:00:00Z",
    /* offset ranges */
    "2021-03-01T00:00:00+24",
    "2021-03-01T00:00:00+24:00",
    "2021-03-01T00:00:00-24:00",
    "2021-03-01T00:00:00+2400",
    "2021-03-01T00:00:00+05:60",
    "2021-03-01T00:00:00+0560",
    "2021-03-01T00:00:00-05:60",
    "2021-03-01T00:00:00+99",
};

START_TEST(parse_rejects_invalid_forms)
{
	const char *s = bad[_i];
	int64_t t = 0;
	int rc = evc_parse_time(s, &t);
	ck_assert_msg(rc == EVC_EPARSE, "evc_parse_time(\"%s\") = %d, want %d",
	              s, rc, EVC_EPARSE);
	const char *msg = evc_errmsg(NULL);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(msg[0] != '\0', "no message for \"%s\"", s);

	const char *why = NULL;
	rc = evc__parse_ts(s, strlen(s), EVC_TS_ALLOW_DATE, &t, &why);
	ck_assert_msg(rc == EVC_EPARSE, "evc__parse_ts(\"%s\") = %d", s, rc);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(why[0] != '\0', "empty reason for \"%s\"", s);
}
END_TEST

START_TEST(parse_null_arguments)
{
	int64_t t;
	ck_assert_int_eq(evc_parse_time(NULL, &t), EVC_EINVAL);
	ck_assert_int_eq(evc_parse_time("2021-03-01T00:00:00Z", NULL),
	                 EVC_EINVAL);
}
END_TEST

START_TEST(parse_error_message_is_set)
{
	int64_t t;
	ck_assert_int_eq(evc_parse_time("2021-02-29T00:00:00Z", &t),
	                 EVC_EPARSE);
	ck_assert_str_ne(evc_errmsg(NULL), "");
	ck_assert_int_eq(evc_parse_time("2021-03-01T25:00:00Z", &t),
	                 EVC_EPARSE);
	ck_assert_str_ne(evc_errmsg(NULL), "");
}
END_TEST

START_TEST(internal_bare_date_needs_flag)
{
	int64_t t = 7;
	const char *why = NULL;
	ck_assert_int_eq(evc__parse_ts("2021-03-01", 10, 0, &t, &why),
	                 EVC_EPARSE);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_ne(why, "");
	ck_assert_int_eq(
	    evc__parse_ts("2021-03-01", 10, EVC_TS_ALLOW_DATE, &t, &why),
	    EVC_OK);
	ck_assert_int_eq(t, D0);
	/* The flag does not make a broken date valid. */
	ck_assert_int_eq(
	    evc__parse_ts("2021-02-29", 10, EVC_TS_ALLOW_DATE, &t, &why),
	    EVC_EPARSE);
	/* Without the flag full timestamps still parse. */
	ck_assert_int_eq(evc__parse_ts("2021-03-01T00:00:00Z", 20, 0, &t, &why),
	                 EVC_OK);
	ck_assert_int_eq(t, D0);
}
END_TEST

START_TEST(internal_respects_length)
{
	int64_t t = 0;
	const char *why = NULL;
	/* Bytes past len are not looked at. */
	const char *s = "2021-03-01T02:15:00Zgarbage";
	ck_assert_int_eq(evc__parse_ts(s, 20, 0, &t, &why), EVC_OK);
	ck_assert_int_eq(t, D0 + 2 * H + 15 * M);
	/* Cut before the zone: no zone means UTC. */
	ck_assert_int_eq(evc__parse_ts(s, 19, 0, &t, &why), EVC_OK);
	ck_assert_int_eq(t, D0 + 2 * H + 15 * M);
	/* Cut inside the seconds. */
	ck_assert_int_eq(evc__parse_ts(s, 18, 0, &t, &why), EVC_EPARSE);
	/* Nothing. */
	ck_assert_int_eq(evc__parse_ts(s, 0, EVC_TS_ALLOW_DATE, &t, &why),
	                 EVC_EPARSE);
	/* Not NUL-terminated. */
	char buf[26];
	memcpy(buf, "2021-03-01 00:03:21.74+00", 25);
	buf[25] = '9';
	ck_assert_int_eq(evc__parse_ts(buf, 25, 0, &t, &why), EVC_OK);
	ck_assert_int_eq(t, D0 + 3 * M + 21);
	/* A NUL inside the given length is garbage. */
	ck_assert_int_eq(
	    evc__parse_ts("2021-03-01T02:15:00\0Z", 21, 0, &t, &why),
	    EVC_EPARSE);
	ck_assert_int_eq(
	    evc__parse_ts("2021-03-01T02:15:00Z\0", 21, 0, &t, &why),
	    EVC_EPARSE);
}
END_TEST

/* ---- formatting ------------------------------------------------------- */

START_TEST(format_known_values)
{
	char buf[EVC_TIME_BUFSZ];
	ck_assert_int_eq(evc_format_time(0, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	ck_assert_int_eq(evc_format_time(-1, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	ck_assert_int_eq(evc_format_time(D0 + 2 * H + 15 * M, buf, sizeof(buf)),
	                 20);
	ck_assert_str_eq(buf, "2021-03-01T02:15:00Z");
	ck_assert_int_eq(evc_format_time(EVC_TIME_MIN, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "0000-01-01T00:00:00Z");
	ck_assert_int_eq(evc_format_time(EVC_TIME_MAX, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
	ck_assert_int_eq(evc_format_time(951782400LL, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "2000-02-29T00:00:00Z");
}
END_TEST

START_TEST(format_out_of_range)
{
	char buf[64];
	ck_assert_int_eq(evc_format_time(EVC_TIME_MIN - 1, buf, sizeof(buf)),
	                 EVC_ERANGE);
	ck_assert_int_eq(evc_format_time(EVC_TIME_MAX + 1, buf, sizeof(buf)),
	                 EVC_ERANGE);
	ck_assert_int_eq(evc_format_time(INT64_MIN, buf, sizeof(buf)),
	                 EVC_ERANGE);
	ck_assert_int_eq(evc_format_time(INT64_MAX, buf, sizeof(buf)),
	                 EVC_ERANGE);
}
END_TEST

START_TEST(format_small_buffer)
{
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(evc_format_time(0, buf, 20), EVC_EINVAL);
	ck_assert_int_eq(evc_format_time(0, buf, 1), EVC_EINVAL);
	ck_assert_int_eq(evc_format_time(0, buf, 0), EVC_EINVAL);
	/* Nothing written past what was offered. */
	ck_assert_int_eq(buf[20], 'x');
	ck_assert_int_eq(evc_format_time(0, NULL, 64), EVC_EINVAL);
	ck_assert_int_eq(evc_format_time(0, buf, 21), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	ck_assert_int_eq(evc_format_time(0, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}
END_TEST

/* ---- against glibc timegm() ------------------------------------------- */

static const int ref_years[] = {
    1969, 1970, 1971, 1972, 1999, 2000, 2001, 2099, 2100, 2101,
    0,    1,    4,    100,  400,  1582, 1600, 1900, 9998, 9999,
};

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int md[12] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

static int64_t ref_timegm(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	return (int64_t)t;
}

START_TEST(every_day_matches_timegm)
{
	static const int tod[][3] = {{0, 0, 0}, {12, 34, 56}, {23, 59, 59}};
	int y = ref_years[_i];
	int days = 0;

	for (int mo = 1; mo <= 12; mo++) {
		for (int d = 1; d <= month_days(y, mo); d++) {
			for (size_t k = 0; k < 3; k++) {
				char s[64], want_s[64];
				char got_s[EVC_TIME_BUFSZ + 8];
				int h = tod[k][0], mi = tod[k][1],
				    se = tod[k][2];
				int64_t want = ref_timegm(y, mo, d, h, mi, se);
				int64_t t = 0;

				snprintf(want_s, sizeof(want_s),
				         "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
				         mo, d, h, mi, se);
				ck_assert_msg(evc_parse_time(want_s, &t) ==
				                  EVC_OK,
				              "reject %s", want_s);
				ck_assert_msg(t == want, "%s: %lld != %lld",
				              want_s, (long long)t,
				              (long long)want);
				/* Round trip through the formatter. */
				memset(got_s, 0, sizeof(got_s));
				ck_assert_int_eq(
				    evc_format_time(t, got_s, EVC_TIME_BUFSZ),
				    20);
				ck_assert_str_eq(got_s, want_s);
				/* Space separator, offset +05:30. */
				snprintf(s, sizeof(s),
				         "%04d-%02d-%02d %02d:%02d:%02d+05:30",
				         y, mo, d, h, mi, se);
				int64_t off = 0;
				if (evc_parse_time(s, &off) == EVC_OK) {
					ck_assert_int_eq(off,
					                 want - 5 * H - 30 * M);
				} else {
					/* Only where the UTC time would be
					 * before year 0. */
					ck_assert_msg(want - 5 * H - 30 * M <
					                  EVC_TIME_MIN,
					              "reject %s", s);
				}
			}
			/* Midnight by the bare date and the civil helpers. */
			char ds[64];
			int64_t t = 0;
			int64_t want = ref_timegm(y, mo, d, 0, 0, 0);
			snprintf(ds, sizeof(ds), "%04d-%02d-%02d", y, mo, d);
			ck_assert_int_eq(evc_parse_time(ds, &t), EVC_OK);
			ck_assert_int_eq(t, want);
			int64_t z =
			    evc__days_from_civil(y, (unsigned)mo, (unsigned)d);
			ck_assert_int_eq(z * 86400, want);
			int64_t yy = -1;
			unsigned mm = 0, dd = 0;
			evc__civil_from_days(z, &yy, &mm, &dd);
			ck_assert_int_eq(yy, y);
			ck_assert_uint_eq(mm, (unsigned)mo);
			ck_assert_uint_eq(dd, (unsigned)d);
			days++;
		}
		/* The day after the month's last is rejected. */
		char s[64];
		int64_t t;
		snprintf(s, sizeof(s), "%04d-%02d-%02dT00:00:00Z", y, mo,
		         month_days(y, mo) + 1);
		ck_assert_msg(evc_parse_time(s, &t) == EVC_EPARSE,
		              "accepted %s", s);
	}
	ck_assert_int_eq(days, is_leap(y) ? 366 : 365);
}
END_TEST

/* ---- civil arithmetic -------------------------------------------------- */

START_TEST(civil_known_days)
{
	ck_assert_int_eq(evc__days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(evc__days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(evc__days_from_civil(1970, 1, 2), 1);
	ck_assert_int_eq(evc__days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(evc__days_from_civil(2021, 3, 1), D0 / 86400);
	ck_assert_int_eq(evc__days_from_civil(0, 1, 1) * 86400, EVC_TIME_MIN);
	ck_assert_int_eq(evc__days_from_civil(9999, 12, 31) * 86400 + 86399,
	                 EVC_TIME_MAX);
}
END_TEST

/* Walk every day from 0000-01-01 to 9999-12-31 with a naive calendar. */
START_TEST(civil_round_trip_all_days)
{
	int64_t y = 0;
	unsigned m = 1, d = 1;
	int64_t z0 = evc__days_from_civil(0, 1, 1);
	int64_t z = z0;

	for (;;) {
		int64_t gy;
		unsigned gm, gd;
		ck_assert_int_eq(evc__days_from_civil(y, m, d), z);
		evc__civil_from_days(z, &gy, &gm, &gd);
		if (gy != y || gm != m || gd != d)
			ck_abort_msg(
			    "day %lld: got %lld-%u-%u, want %lld-%u-%u",
			    (long long)z, (long long)gy, gm, gd, (long long)y,
			    m, d);
		if (y == 9999 && m == 12 && d == 31)
			break;
		if (++d > (unsigned)month_days((int)y, (int)m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
		z++;
	}
	ck_assert_int_eq(z - z0 + 1, 3652425); /* 10000 years of days */
}
END_TEST

START_TEST(floor_div_negatives)
{
	ck_assert_int_eq(evc__floor_div(7, 2), 3);
	ck_assert_int_eq(evc__floor_div(-7, 2), -4);
	ck_assert_int_eq(evc__floor_div(-8, 2), -4);
	ck_assert_int_eq(evc__floor_div(0, 60), 0);
	ck_assert_int_eq(evc__floor_div(59, 60), 0);
	ck_assert_int_eq(evc__floor_div(60, 60), 1);
	ck_assert_int_eq(evc__floor_div(-1, 60), -1);
	ck_assert_int_eq(evc__floor_div(-60, 60), -1);
	ck_assert_int_eq(evc__floor_div(-61, 60), -2);
	ck_assert_int_eq(evc__floor_div(7, -2), -4);
	ck_assert_int_eq(evc__floor_div(-7, -2), 3);
	ck_assert_int_eq(evc__floor_div(EVC_TIME_MIN, 3600),
	                 EVC_TIME_MIN / 3600);
	ck_assert_int_eq(evc__floor_div(EVC_TIME_MIN - 1, 60),
	                 EVC_TIME_MIN / 60 - 1);

	static const int64_t divs[] = {1, 2, 3, 7, 60, 3600, 86400};
	for (size_t k = 0; k < sizeof(divs) / sizeof(divs[0]); k++) {
		int64_t b = divs[k];
		for (int64_t a = -200000; a <= 200000; a += 7) {
			int64_t q = evc__floor_div(a, b);
			ck_assert_msg(q * b <= a && a < (q + 1) * b,
			              "floor_div(%lld, %lld) = %lld",
			              (long long)a, (long long)b, (long long)q);
		}
	}
}
END_TEST

/* The ingest's date cache never changes a result: timestamps drawn from
 * few dates (valid, invalid, malformed) and times (valid, invalid, with
 * offsets), in random order, parse the same with the cache as without. */
START_TEST(date_cache_same_as_uncached)
{
	static const char *const dates[] = {
	    "2021-03-01", "2021-03-02", "2021-02-28", "2021-02-29",
	    "2020-02-29", "2021-13-01", "2021-03-0x", "0000-01-01",
	    "9999-12-31", "2021/03/01", "1969-12-31",
	};
	static const char *const times[] = {
	    "",
	    " 00:01:11.055+00",
	    "T23:59:59Z",
	    " 24:00:00+00",
	    " 12:00:00-08:00",
	    " 12:00:00+05:30",
	    " 12:60:00",
	    "x",
	    " 00:00:00.1234567890",
	    " 23:59:59-23:59",
	    " 00:00:00+14",
	};
	const size_t n_dates = sizeof(dates) / sizeof(dates[0]);
	const size_t n_times = sizeof(times) / sizeof(times[0]);
	evc_date_cache cache = {0};
	uint64_t seed = 7;
	unsigned hits = 0;

	for (int i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		const unsigned r = (unsigned)(seed >> 33);
		char s[64];
		/* Mostly the date of the row before, as in real input. */
		static size_t d;
		if (r % 4 == 0)
			d = r / 4 % n_dates;
		const int len = snprintf(s, sizeof(s), "%s%s", dates[d],
		                         times[r / 64 % n_times]);
		/* Also cut short, down to below a whole date. */
		const size_t cut = r % 7 == 0 ? (size_t)len - r / 7 % 12 : 0;
		const size_t n =
		    cut > 0 && cut < (size_t)len ? cut : (size_t)len;
		const bool cached_before = cache.days_valid && n >= 10 &&
		                           memcmp(s, cache.date, 10) == 0;
		int64_t plain = 0, cached = 0;
		const char *why_plain = NULL, *why_cached = NULL;
		const int rc_plain = evc__parse_ts(s, n, 0, &plain, &why_plain);
		const int rc_cached =
		    evc__parse_ts_cached(s, n, &cache, &cached, &why_cached);
		ck_assert_msg(rc_plain == rc_cached, "\"%.*s\": %d vs %d",
		              (int)n, s, rc_plain, rc_cached);
		if (rc_plain == EVC_OK)
			ck_assert_int_eq(plain, cached);
		else
			ck_assert_str_eq(why_plain, why_cached);
		hits += cached_before;
	}
	/* The cache was used, not just filled. */
	ck_assert_uint_gt(hits, 5000);
}
END_TEST

static Suite *time_suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc;

	tc = tcase_create("parse_valid");
	tcase_add_loop_test(tc, parse_accepts_valid_forms, 0,
	                    (int)(sizeof(good) / sizeof(good[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_invalid");
	tcase_add_loop_test(tc, parse_rejects_invalid_forms, 0,
	                    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, parse_null_arguments);
	tcase_add_test(tc, parse_error_message_is_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_internal");
	tcase_add_test(tc, internal_bare_date_needs_flag);
	tcase_add_test(tc, internal_respects_length);
	tcase_add_test(tc, date_cache_same_as_uncached);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, format_known_values);
	tcase_add_test(tc, format_out_of_range);
	tcase_add_test(tc, format_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("reference_timegm");
	tcase_add_loop_test(tc, every_day_matches_timegm, 0,
	                    (int)(sizeof(ref_years) / sizeof(ref_years[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("civil");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, civil_known_days);
	tcase_add_test(tc, civil_round_trip_all_days);
	tcase_add_test(tc, floor_div_negatives);
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(time_suite)
