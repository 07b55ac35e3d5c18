/* SPDX-License-Identifier: MIT */
/*
 * Timestamp parsing and formatting: the RFC 3339-like grammar of the
 * input, proleptic Gregorian calendar arithmetic, UTC epoch seconds.
 * Hand-written because it runs once per input row: fixed-position digit
 * reads and days-from-civil arithmetic, no mktime/strptime or locale.
 */
#include "evc-int.h"

#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian
 * date, no tables, no loops. */
int64_t evc__days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void evc__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe =
	    (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool evc__is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned evc__days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30,
	                                        31, 31, 30, 31, 30, 31};
	return m == 2 && evc__is_leap(y) ? 29 : mdays[m - 1];
}

static inline bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Two digits at s, or -1. */
static inline int two(const char *s)
{
	if (!digit(s[0]) || !digit(s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

#define FAIL(reason)                                                           \
	do {                                                                   \
		*why = (reason);                                               \
		return EVC_EPARSE;                                             \
	} while (0)

/* The date at s (10 bytes) as days since the epoch, checked. */
static int parse_date(const char *s, int64_t *days, const char **why)
{
	const int year_hi = two(s), year_lo = two(s + 2);
	const int mon = two(s + 5), day = two(s + 8);

	if (year_hi < 0 || year_lo < 0 || s[4] != '-' || mon < 0 ||
	    s[7] != '-' || day < 0)
		FAIL("date is not YYYY-MM-DD");
	const unsigned year = (unsigned)(year_hi * 100 + year_lo);
	if (mon < 1 || mon > 12)
		FAIL("month out of range");
	if (day < 1 || (unsigned)day > evc__days_in_month(year, (unsigned)mon))
		FAIL("day out of range for the month");
	*days = evc__days_from_civil(year, (unsigned)mon, (unsigned)day);
	return EVC_OK;
}

static int parse_ts(const char *s, size_t len, unsigned flags,
                    evc_date_cache *cache, int64_t *out, const char **why,
                    bool *has_offset)
{
	int hh = 0, mm = 0, ss = 0;
	int64_t off = 0, days;
	bool offset = false;
	size_t pos;
	int rc;

	if (len < 10)
		FAIL(len == 0 ? "empty timestamp" : "timestamp too short");
	if (cache && cache->days_valid && memcmp(s, cache->date, 10) == 0) {
		days = cache->days;
	} else {
		if ((rc = parse_date(s, &days, why)) != EVC_OK)
			return rc;
		if (cache) {
			memcpy(cache->date, s, 10);
			cache->days = days;
			cache->days_valid = true;
		}
	}

	if (len == 10) {
		if (!(flags & EVC_TS_ALLOW_DATE))
			FAIL("time of day missing");
		pos = 10;
		goto done;
	}
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		FAIL("date and time not separated by 'T' or a space");
	if (len < 19)
		FAIL("time is not HH:MM:SS");
	hh = two(s + 11);
	mm = two(s + 14);
	ss = two(s + 17);
	if (hh < 0 || s[13] != ':' || mm < 0 || s[16] != ':' || ss < 0)
		FAIL("time is not HH:MM:SS");
	if (hh > 23)
		FAIL("hour out of range");
	if (mm > 59)
		FAIL("minute out of range");
	if (ss > 59)
		FAIL("second out of range");
	pos = 19;

	if (pos < len && s[pos] == '.') {
		size_t first = ++pos;
		while (pos < len && digit(s[pos]))
			pos++;
		if (pos == first)
			FAIL("no digits after the decimal point");
		if (pos - first > 9)
			FAIL("more than 9 fraction digits");
	}

	if (pos < len) {
		const char c = s[pos];
		offset = true;
		if (c == 'Z' || c == 'z') {
			pos++;
		} else if (c == '+' || c == '-') {
			int oh, om = 0;
			oh = pos + 3 <= len ? two(s + pos + 1) : -1;
			if (oh < 0)
				FAIL("offset is not +HH, +HHMM or +HH:MM");
			pos += 3;
			if (pos < len) {
				if (s[pos] == ':')
					pos++;
				om = pos + 2 <= len ? two(s + pos) : -1;
				if (om < 0)
					FAIL("offset is not +HH, +HHMM or "
					     "+HH:MM");
				pos += 2;
			}
			if (oh > 23)
				FAIL("offset hours out of range");
			if (om > 59)
				FAIL("offset minutes out of range");
			off = (int64_t)oh * 3600 + om * 60;
			if (c == '-')
				off = -off;
		} else {
			FAIL("unexpected character after the time");
		}
	}
	if (pos != len)
		FAIL("unexpected text after the offset");

done:;
	const int64_t t = days * 86400 + hh * 3600 + mm * 60 + ss - off;
	if (has_offset)
		*has_offset = offset;
	/* A wall time is checked once it is an instant. */
	if ((offset || !has_offset) && (t < EVC_TIME_MIN || t > EVC_TIME_MAX))
		FAIL("time out of range (years 0000 to 9999 UTC)");
	*out = t;
	return EVC_OK;
}

int evc__parse_ts(const char *s, size_t len, unsigned flags, int64_t *out,
                  const char **why)
{
	return parse_ts(s, len, flags, NULL, out, why, NULL);
}

int evc__parse_ts_cached(const char *s, size_t len, evc_date_cache *cache,
                         int64_t *out, const char **why)
{
	return parse_ts(s, len, 0, cache, out, why, NULL);
}

int evc__parse_ts_wall(const char *s, size_t len, int64_t *out,
                       bool *has_offset, const char **why)
{
	return parse_ts(s, len, EVC_TS_ALLOW_DATE, NULL, out, why, has_offset);
}

EVC_EXPORT int evc_parse_time(const char *str, int64_t *out)
{
	const char *why = NULL;

	if (!str || !out)
		return evc__fail(NULL, EVC_EINVAL,
		                 "evc_parse_time: NULL argument");
	const size_t len = strlen(str);
	int rc = evc__parse_ts(str, len, EVC_TS_ALLOW_DATE, out, &why);
	if (rc != EVC_OK)
		return evc__fail(NULL, rc, "bad timestamp \"%.64s\": %s", str,
		                 why);
	evc__clear_error(NULL);
	return EVC_OK;
}

EVC_EXPORT int evc_format_time(int64_t t, char *buf, size_t len)
{
	int64_t y;
	unsigned m, d;

	if (!buf || len < EVC_TIME_BUFSZ)
		return EVC_EINVAL;
	if (t < EVC_TIME_MIN || t > EVC_TIME_MAX)
		return EVC_ERANGE;
	const int64_t days = evc__floor_div(t, 86400);
	const int64_t secs = t - days * 86400;
	evc__civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
	         (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	return 20;
}
