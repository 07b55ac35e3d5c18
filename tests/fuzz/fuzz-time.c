/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: evc__parse_ts() and evc_format_time() against an
 * obviously correct reference written here in another shape: the grammar
 * is matched on a "shape" of the input (every digit mapped to 'd'), the
 * calendar is counted day by day a year and a month at a time, and the
 * result is checked against glibc's timegm() and gmtime_r(). Any
 * difference in accept/reject or in the value aborts.
 */
#include "evc-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static int ref_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int ref_mdays(long y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30,
	                          31, 31, 30, 31, 30, 31};
	return d[m - 1] + (m == 2 && ref_leap(y));
}

/* Days from 0000-01-01 to y-m-d, counted a year then a month at a time. */
static long ref_days_since_0(long y, int m, int d)
{
	long days = 0;
	for (long k = 0; k < y; k++)
		days += 365 + ref_leap(k);
	for (int k = 1; k < m; k++)
		days += ref_mdays(y, k);
	return days + d - 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int prefix_is(const char *shape, size_t len, const char *pat)
{
	size_t n = strlen(pat);
	return len >= n && memcmp(shape, pat, n) == 0;
}

/* 1 and the time in *out when accepted, 0 when rejected. */
static int ref_parse(const char *s, size_t len, int allow_date, int64_t *out)
{
	char *shape = malloc(len + 1);
	int ok = 0;
	int h = 0, mi = 0, se = 0, sign = 0, oh = 0, om = 0;
	CHECK(shape);
	for (size_t i = 0; i < len; i++)
		shape[i] = s[i] >= '0' && s[i] <= '9' ? 'd'
		           : s[i] == 'd'              ? '?'
		                                      : s[i];
	shape[len] = '\0';

	if (!prefix_is(shape, len, "dddd-dd-dd"))
		goto out;
	const long y = num(s, 4);
	const int m = num(s + 5, 2), d = num(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > ref_mdays(y, m))
		goto out;
	if (len == 10) {
		if (!allow_date)
			goto out;
	} else {
		if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
			goto out;
		if (!prefix_is(shape + 11, len - 11, "dd:dd:dd"))
			goto out;
		h = num(s + 11, 2);
		mi = num(s + 14, 2);
		se = num(s + 17, 2);
		if (h > 23 || mi > 59 || se > 59)
			goto out;
		const char *r = shape + 19;
		size_t rl = len - 19;
		if (rl > 0 && r[0] == '.') {
			size_t nd = 0;
			while (nd + 1 < rl && r[nd + 1] == 'd')
				nd++;
			if (nd < 1 || nd > 9)
				goto out;
			r += nd + 1;
			rl -= nd + 1;
		}
		const char *ro = s + (r - shape);
		if (rl == 1 && (r[0] == 'Z' || r[0] == 'z')) {
			/* UTC */
		} else if (rl == 0) {
			/* UTC */
		} else if (r[0] == '+' || r[0] == '-') {
			sign = r[0] == '-' ? -1 : 1;
			if (rl == 3 && memcmp(r + 1, "dd", 2) == 0) {
				oh = num(ro + 1, 2);
			} else if (rl == 5 && memcmp(r + 1, "dddd", 4) == 0) {
				oh = num(ro + 1, 2);
				om = num(ro + 3, 2);
			} else if (rl == 6 && memcmp(r + 1, "dd:dd", 5) == 0) {
				oh = num(ro + 1, 2);
				om = num(ro + 4, 2);
			} else {
				goto out;
			}
			if (oh > 23 || om > 59)
				goto out;
		} else {
			goto out;
		}
	}
	/* 1970-01-01 is day 719528 since 0000-01-01. */
	const int64_t t =
	    ((int64_t)ref_days_since_0(y, m, d) - 719528) * 86400 + h * 3600 +
	    mi * 60 + se - sign * (int64_t)(oh * 3600 + om * 60);
	if (t < EVC_TIME_MIN || t > EVC_TIME_MAX)
		goto out;

	/* Cross-check the wall time with glibc, before the offset. */
	struct tm tm = {0};
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	CHECK((int64_t)timegm(&tm) ==
	      t + sign * (int64_t)(oh * 3600 + om * 60));
	*out = t;
	ok = 1;
out:
	free(shape);
	return ok;
}

/* evc_format_time() must give what gmtime_r() says, and parse back. */
static void check_format(int64_t t)
{
	char buf[EVC_TIME_BUFSZ], want[64];
	int64_t back = 0;
	const char *why = NULL;
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < EVC_TIME_MIN || t > EVC_TIME_MAX) {
		CHECK(evc_format_time(t, buf, sizeof(buf)) == EVC_ERANGE);
		return;
	}
	CHECK(evc_format_time(t, buf, sizeof(buf)) == 20);
	CHECK(strlen(buf) == 20);
	CHECK(gmtime_r(&tt, &tm));
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec);
	CHECK(strcmp(buf, want) == 0);
	CHECK(evc__parse_ts(buf, 20, 0, &back, &why) == EVC_OK);
	CHECK(back == t);
	CHECK(evc_format_time(t, buf, EVC_TIME_BUFSZ - 1) == EVC_EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that ASan sees any read past the end. */
	char *s = malloc(size ? size : 1);
	CHECK(s);
	if (size)
		memcpy(s, data, size);

	for (unsigned flags = 0; flags <= EVC_TS_ALLOW_DATE; flags++) {
		int64_t got = 0, want = 0;
		const char *why = NULL;
		const int rc = evc__parse_ts(s, size, flags, &got, &why);
		const int ok = ref_parse(s, size, flags != 0, &want);
		if ((rc == EVC_OK) != ok) {
			fprintf(stderr, "accept mismatch: lib %d (%s) ref %d\n",
			        rc, why ? why : "-", ok);
			abort();
		}
		if (!ok) {
			CHECK(rc == EVC_EPARSE && why && *why);
			continue;
		}
		if (got != want) {
			fprintf(stderr, "value mismatch: lib %lld ref %lld\n",
			        (long long)got, (long long)want);
			abort();
		}
		check_format(got);
	}

	/* The ingest's cached parse: whatever date the cache holds from
	 * earlier inputs, and with this input's own date in it, the result
	 * is the uncached one, reason included. */
	static evc_date_cache cache;
	for (int pass = 0; pass < 2; pass++) {
		int64_t plain = 0, cached = 0;
		const char *why_plain = NULL, *why_cached = NULL;
		const int rc_plain =
		    evc__parse_ts(s, size, 0, &plain, &why_plain);
		const int rc_cached =
		    evc__parse_ts_cached(s, size, &cache, &cached, &why_cached);
		CHECK(rc_plain == rc_cached);
		if (rc_plain == EVC_OK)
			CHECK(plain == cached);
		else
			CHECK(strcmp(why_plain, why_cached) == 0);
	}

	/* The public entry point: the string up to its first NUL, dates
	 * allowed. */
	char *z = malloc(size + 1);
	CHECK(z);
	if (size)
		memcpy(z, data, size);
	z[size] = '\0';
	int64_t got = 0, want = 0;
	const int rc = evc_parse_time(z, &got);
	const int ok = ref_parse(z, strlen(z), 1, &want);
	CHECK((rc == EVC_OK) == ok);
	if (ok)
		CHECK(got == want);
	else
		CHECK(rc == EVC_EPARSE && *evc_errmsg(NULL));

	/* Any 64-bit time: format, then parse back. */
	if (size >= 8) {
		int64_t t;
		memcpy(&t, data, 8);
		check_format(t);
		/* Folded into the range too, so that most inputs format. */
		const uint64_t span =
		    (uint64_t)(EVC_TIME_MAX - EVC_TIME_MIN) + 1;
		check_format(EVC_TIME_MIN + (int64_t)((uint64_t)t % span));
	}
	free(z);
	free(s);
	return 0;
}
