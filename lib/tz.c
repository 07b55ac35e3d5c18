/* SPDX-License-Identifier: MIT */
/*
 * Time zones: a reader of TZif files (RFC 8536; RFC 9636, which obsoletes
 * it, describes the same format and says more about edge cases) and of
 * the POSIX TZ string in their footer, fixed offsets and UTC.
 *
 * A zone is reduced at load to what the library asks of it, the UTC
 * offset as a function of time:
 * - a table of the instants at which the offset changes (the file's
 *   transitions, less those that change only the abbreviation or the DST
 *   flag), with the offset from each on, and the offset before the first;
 * - from the file's last transition on, when the file has a footer, the
 *   footer's rule: a standard offset and, optionally, a daylight offset
 *   with the yearly rules for changing to and from it.
 * Lookups binary-search the table; past it, the rule is evaluated for
 * the years around the instant (a few calendar computations, nothing
 * precomputed and nothing cached, so a zone stays immutable and can be
 * shared between threads).
 *
 * The rule's years are read as the tz reference code (localtime.c,
 * tzparse()) reads them: in each year the change to daylight time and the
 * change back happen at the rule's dates and times (in standard and in
 * daylight time respectively); a year whose daylight time would last the
 * whole year or more, or no time at all, has no changes, and a rule none
 * of whose years has a change is daylight time all year (RFC 9636 3.3.1:
 * "DST is in effect all year if it starts January 1 at 00:00 and ends
 * December 31 at 24:00 plus the difference between daylight saving and
 * standard time"). Changes of several years are ordered by instant; the
 * offset at t is the one set by the latest change at or before t. The
 * Gregorian calendar repeats every 400 years, and so does the rule.
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY         86400
#define DEFAULT_DIR "/usr/share/zoneinfo"
/* RFC 9636 3.2: "utoff ... in the range [-89999, 93599]", i.e. what POSIX
 * TZ strings can say: standard offsets of at most 24:59:59, daylight time
 * one hour ahead. Keeping offsets there keeps all arithmetic far from
 * overflow. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599
/* 400 Gregorian years: the period of the calendar and of any rule. */
#define CYCLE_YEARS 400
#define CYCLE_SECS  (146097LL * DAY)

/* ---- the zone ------------------------------------------------------------ */

enum rule_kind { RULE_JULIAN, RULE_DAY, RULE_MONTH };

/* A date and time of a POSIX TZ rule: Jn (1-365, February 29 never
 * counted), n (0-365, counted) or Mm.w.d (month, week 1-5 where 5 is the
 * last, weekday 0-6 from Sunday); `secs` is the local time of day. */
typedef struct tz_rule {
	enum rule_kind kind;
	int day, mon, week;
	int32_t secs;
} tz_rule;

/* A footer: a standard offset, and with has_dst a daylight offset and the
 * rules of the change to it (start) and back (end). With perpetual (no
 * year of the rule has a change), daylight time all the time. */
typedef struct tz_footer {
	int32_t std_off, dst_off;
	bool has_dst, perpetual;
	tz_rule start, end;
} tz_footer;

struct evc_tz {
	const char *name;
	bool utc;
	/* Offsets before at[0], and from at[i] on (i < n). */
	int32_t off0;
	size_t n;
	const int64_t *at;
	const int32_t *off;
	/* With has_footer, the footer decides from footer_from on (the file's
	 * last transition, or INT64_MIN for a file without any). */
	bool has_footer;
	int64_t footer_from;
	tz_footer footer;
	/* Bounds of every offset the zone can take. */
	int32_t min_off, max_off;
};

/* ---- messages ------------------------------------------------------------ */

EVC_PRINTF(3, 4)
static void say(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* `s` (n bytes) in a form safe to quote in a message: bytes outside
 * printable ASCII, quotes and backslashes as \xNN, cut after 64 bytes. */
static const char *quoted(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < size; i++) {
		const unsigned char c = (unsigned char)s[i];
		if (i == 64) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* Why a file could not be opened or read, without strerror(), which need
 * not be thread-safe. */
static const char *errno_text(int err, char *buf, size_t size)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "permission denied";
	case ELOOP:
		return "too many levels of symbolic links";
	case ENAMETOOLONG:
		return "path too long";
	case EIO:
		return "input/output error";
	case EMFILE:
	case ENFILE:
		return "too many open files";
	case ENOMEM:
		return "out of memory";
	default:
		snprintf(buf, size, "errno %d", err);
		return buf;
	}
}

/* ---- calendar ------------------------------------------------------------ */

/* Day of the week of a day since the epoch, 0 = Sunday (1970-01-01 was a
 * Thursday). */
static int weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int64_t year_of(int64_t t)
{
	int64_t y;
	unsigned m, d;

	evc__civil_from_days(evc__floor_div(t, DAY), &y, &m, &d);
	return y;
}

/* ---- footer rules -------------------------------------------------------- */

/* Seconds from local midnight of January 1 of year y (days jan1 since the
 * epoch) to the rule's local date and time in that year, as tzparse() and
 * transtime() of the tz code compute it. */
static int64_t rule_secs(const tz_rule *r, int64_t y, int64_t jan1)
{
	int64_t day;

	switch (r->kind) {
	case RULE_JULIAN:
		day = r->day - 1 + (evc__is_leap(y) && r->day >= 60);
		break;
	case RULE_DAY:
		day = r->day;
		break;
	default: {
		const int64_t first =
		    evc__days_from_civil(y, (unsigned)r->mon, 1);
		const int len = (int)evc__days_in_month(y, (unsigned)r->mon);
		int d = (r->day - weekday(first) + 7) % 7;
		for (int w = 1; w < r->week && d + 7 < len; w++)
			d += 7;
		day = first - jan1 + d;
		break;
	}
	}
	return day * DAY + r->secs;
}

/* A change of the footer's rule: from `at` on, offset `off`. */
typedef struct tz_change {
	int64_t at;
	int32_t off;
} tz_change;

/* A year's changes lie within SLOP of the year: a rule's time is at most
 * 167:59:59 from its date (RFC 9636 3.3.1), offsets are under 26 hours,
 * and day 365 of a common year is January 1 of the next. */
#define SLOP (9 * DAY)

/* The changes of year y (January 1 at days jan1 since the epoch), in
 * order: 0 or 2. */
static int year_changes(const tz_footer *f, int64_t y, int64_t jan1,
                        tz_change ch[2])
{
	const int64_t base = jan1 * DAY;
	int64_t s = rule_secs(&f->start, y, jan1) - f->std_off;
	int64_t e = rule_secs(&f->end, y, jan1) - f->dst_off;
	const int64_t year_secs = (evc__is_leap(y) ? 366 : 365) * (int64_t)DAY;

	if (e < s) { /* southern hemisphere: back to standard time first */
		ch[0] = (tz_change){base + e, f->std_off};
		ch[1] = (tz_change){base + s, f->dst_off};
		return 2;
	}
	if (s < e && e - s < year_secs) {
		ch[0] = (tz_change){base + s, f->dst_off};
		ch[1] = (tz_change){base + e, f->std_off};
		return 2;
	}
	return 0;
}

/* The footer's offset at t: that of the latest change at or before t.
 * Years are searched back from the one after t's (whose changes can come
 * before its January 1), each only while its changes, all before its end
 * plus SLOP, could be later than the best so far; since the rule has
 * changes, one is found within a cycle of years. */
static int32_t footer_offset(const tz_footer *f, int64_t t)
{
	if (!f->has_dst)
		return f->std_off;
	if (f->perpetual)
		return f->dst_off;

	const int64_t y = year_of(t);
	int64_t end = evc__days_from_civil(y + 2, 1, 1) * DAY, best_at = 0;
	int32_t best = f->std_off;
	bool have = false;

	for (int64_t z = y + 1; z >= y - CYCLE_YEARS - 2; z--) {
		const int64_t jan1 = evc__days_from_civil(z, 1, 1);
		if (have && best_at >= end + SLOP)
			break;
		end = jan1 * DAY;
		if (end - SLOP > t)
			continue;
		tz_change ch[2];
		const int n = year_changes(f, z, jan1, ch);
		/* Later in the order wins a tie: later years come first
		 * here, and a year's own changes are never simultaneous. */
		for (int i = n - 1; i >= 0; i--) {
			if (ch[i].at <= t && (!have || ch[i].at > best_at)) {
				have = true;
				best_at = ch[i].at;
				best = ch[i].off;
			}
		}
	}
	return best;
}

/* The first change of the footer's rule after x: false when it has none.
 * The mirror image of footer_offset(). */
static bool footer_next(const tz_footer *f, int64_t x, int64_t *next)
{
	if (!f->has_dst || f->perpetual)
		return false;

	const int64_t y = year_of(x);
	int64_t best = 0;
	bool have = false;

	for (int64_t z = y - 1; z <= y + CYCLE_YEARS + 2; z++) {
		const int64_t jan1 = evc__days_from_civil(z, 1, 1);
		if (have && best <= jan1 * DAY - SLOP)
			break;
		if (evc__days_from_civil(z + 1, 1, 1) * DAY + SLOP <= x)
			continue;
		tz_change ch[2];
		const int n = year_changes(f, z, jan1, ch);
		for (int i = 0; i < n; i++) {
			if (ch[i].at > x && (!have || ch[i].at < best)) {
				have = true;
				best = ch[i].at;
			}
		}
	}
	if (have)
		*next = best;
	return have;
}

/* ---- the zone's offset function ------------------------------------------ */

/* The number of table entries at or before t. */
static size_t table_index(const evc_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n;

	while (lo < hi) {
		const size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The offset at any t (not clamped: callers stay within a few days of the
 * supported range, and a footer rule's years thousands beyond it). */
static int32_t offset_at(const evc_tz *tz, int64_t t)
{
	if (tz->has_footer && t >= tz->footer_from)
		return footer_offset(&tz->footer, t);
	const size_t i = table_index(tz, t);
	return i ? tz->off[i - 1] : tz->off0;
}

/* The first instant after x at which the offset may change: a table entry,
 * the footer's start or a change of its rule. False when there is none. */
static bool next_boundary(const evc_tz *tz, int64_t x, int64_t *b)
{
	if (!tz->has_footer || x < tz->footer_from) {
		const size_t i = table_index(tz, x);
		/* Table entries are all before footer_from. */
		if (i < tz->n) {
			*b = tz->at[i];
			return true;
		}
		if (!tz->has_footer)
			return false;
		*b = tz->footer_from;
		return true;
	}
	return footer_next(&tz->footer, x, b);
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int32_t evc__tz_offset(const evc_tz *tz, int64_t t)
{
	return offset_at(tz, clamp64(t, EVC_TIME_MIN, EVC_TIME_MAX));
}

/* t + offset(t) rises with t between changes and jumps at them, and
 * offsets lie within [min_off, max_off]: the answer is at least
 * local - max_off (before, t + offset(t) < local) and at most
 * local - min_off (there, t + offset(t) >= local). Walk the stretches of
 * constant offset from the first bound: in the stretch [x, b) of offset o
 * the wall clock reaches `local` at max(x, local - o) if that is before b. */
int64_t evc__tz_first_at_or_after(const evc_tz *tz, int64_t local)
{
	/* Clamping `local` a few days out changes no clamped result. */
	const int64_t l =
	    clamp64(local, EVC_TIME_MIN - 3 * DAY, EVC_TIME_MAX + 3 * DAY);
	int64_t x = l - tz->max_off, b, t;
	int32_t o = offset_at(tz, x);

	for (;;) {
		t = l - o > x ? l - o : x;
		if (!next_boundary(tz, x, &b) || t < b)
			break;
		x = b;
		o = offset_at(tz, x);
	}
	return clamp64(t, EVC_TIME_MIN, EVC_TIME_MAX + 1);
}

bool evc__tz_next_change(const evc_tz *tz, int64_t t, int64_t *next)
{
	if (t >= EVC_TIME_MAX)
		return false;
	if (t < EVC_TIME_MIN)
		t = EVC_TIME_MIN;

	const int32_t o = offset_at(tz, t);
	int64_t x = t, b, rule_from = INT64_MAX;

	while (next_boundary(tz, x, &b) && b <= EVC_TIME_MAX) {
		if (offset_at(tz, b) != o) {
			*next = b;
			return true;
		}
		x = b;
		/* A footer's rule whose changes have all kept the offset for a
		 * whole cycle keeps it for ever (a contrived rule: real ones
		 * change the offset at every change). */
		if (tz->has_footer && x >= tz->footer_from) {
			if (rule_from == INT64_MAX)
				rule_from = x;
			else if (x - rule_from > CYCLE_SECS + 366 * DAY)
				return false;
		}
	}
	return false;
}

/* ---- formatting ---------------------------------------------------------- */

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

int evc__tz_format(const evc_tz *tz, int64_t t, char *buf, size_t len)
{
	if (!tz || !buf || len < EVC_TZ_TIME_BUFSZ)
		return EVC_EINVAL;
	if (t < EVC_TIME_MIN || t > EVC_TIME_MAX)
		return EVC_ERANGE;
	if (tz->utc)
		return evc_format_time(t, buf, len);

	/* Whole minutes, towards zero: the string denotes t exactly. */
	const int32_t off = offset_at(tz, t) / 60 * 60;
	const int64_t local = t + off;
	if (off <= -DAY || off >= DAY || local < EVC_TIME_MIN ||
	    local > EVC_TIME_MAX)
		return EVC_ERANGE;

	const int64_t days = evc__floor_div(local, DAY);
	const unsigned secs = (unsigned)(local - days * DAY);
	const unsigned aoff = (unsigned)(off < 0 ? -off : off) / 60;
	int64_t y;
	unsigned m, d;
	evc__civil_from_days(days, &y, &m, &d);

	char *p = buf;
	p = put2(p, (unsigned)(y / 100));
	p = put2(p, (unsigned)(y % 100));
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, secs / 3600);
	*p++ = ':';
	p = put2(p, secs / 60 % 60);
	*p++ = ':';
	p = put2(p, secs % 60);
	*p++ = off < 0 ? '-' : '+';
	p = put2(p, aoff / 60);
	*p++ = ':';
	p = put2(p, aoff % 60);
	*p = '\0';
	return (int)(p - buf);
}

/* ---- zones --------------------------------------------------------------- */

void evc__tz_free(evc_tz *tz)
{
	free(tz);
}

const char *evc__tz_name(const evc_tz *tz)
{
	return tz->name;
}

bool evc__tz_is_utc(const evc_tz *tz)
{
	return tz->utc;
}

/* A zone with room for n table entries and the name, in one allocation. */
static evc_tz *tz_new(const char *name, size_t n, int64_t **at, int32_t **off)
{
	const size_t name_len = strlen(name);
	const size_t at_pos = (sizeof(evc_tz) + 7) / 8 * 8;
	const size_t off_pos = at_pos + n * sizeof(int64_t);
	const size_t name_pos = off_pos + n * sizeof(int32_t);
	evc_tz *tz = evc__calloc(1, name_pos + name_len + 1);

	if (!tz)
		return NULL;
	char *base = (char *)tz;
	*at = (int64_t *)(void *)(base + at_pos);
	*off = (int32_t *)(void *)(base + off_pos);
	memcpy(base + name_pos, name, name_len + 1);
	tz->name = base + name_pos;
	tz->at = *at;
	tz->off = *off;
	return tz;
}

static int fixed_zone(evc_tz **out, const char *name, int32_t off, bool utc,
                      char *why, size_t why_len)
{
	int64_t *at;
	int32_t *offs;
	evc_tz *tz = tz_new(name, 0, &at, &offs);

	if (!tz) {
		say(why, why_len, "time zone \"%s\": out of memory", name);
		return EVC_ENOMEM;
	}
	tz->utc = utc;
	tz->off0 = tz->min_off = tz->max_off = off;
	*out = tz;
	return EVC_OK;
}

/* ---- POSIX TZ strings (footers) ------------------------------------------ */

typedef struct {
	const char *p, *end;
	const char *err;
} tz_scan;

static bool at_digit(const tz_scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static bool at_alpha(const tz_scan *s)
{
	return s->p < s->end && ((*s->p >= 'A' && *s->p <= 'Z') ||
	                         (*s->p >= 'a' && *s->p <= 'z'));
}

static bool eat(tz_scan *s, char c)
{
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static bool scan_fail(tz_scan *s, const char *err)
{
	if (!s->err)
		s->err = err;
	return false;
}

/* A decimal number in [min, max]. */
static bool scan_num(tz_scan *s, int min, int max, int *out, const char *what)
{
	int v = 0;

	if (!at_digit(s))
		return scan_fail(s, what);
	while (at_digit(s)) {
		v = v * 10 + (*s->p++ - '0');
		if (v > max)
			return scan_fail(s, what);
	}
	if (v < min)
		return scan_fail(s, what);
	*out = v;
	return true;
}

/* A designation: three or more letters, or <three or more of
 * [A-Za-z0-9+-]> (POSIX). */
static bool scan_name(tz_scan *s)
{
	const char *start = s->p;

	if (eat(s, '<')) {
		start = s->p;
		while (s->p < s->end && *s->p != '>') {
			const char c = *s->p;
			if (!((c >= 'A' && c <= 'Z') ||
			      (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '+' || c == '-'))
				return scan_fail(s, "bad character in a "
				                    "quoted designation");
			s->p++;
		}
		if (s->p - start < 3)
			return scan_fail(s, "designation shorter than 3 "
			                    "characters");
		if (!eat(s, '>'))
			return scan_fail(s, "unterminated quoted designation");
		return true;
	}
	while (at_alpha(s))
		s->p++;
	if (s->p - start < 3)
		return scan_fail(s, "designation shorter than 3 letters");
	return true;
}

/* [+-]hh[:mm[:ss]] in seconds, hours at most max_h, minutes and seconds
 * 00-59. */
static bool scan_hms(tz_scan *s, int max_h, int32_t *out, const char *what)
{
	int h, m = 0, sec = 0;
	bool neg = false;

	if (eat(s, '-'))
		neg = true;
	else
		eat(s, '+');
	if (!scan_num(s, 0, max_h, &h, what))
		return false;
	if (eat(s, ':')) {
		if (!scan_num(s, 0, 59, &m, what))
			return false;
		if (eat(s, ':') && !scan_num(s, 0, 59, &sec, what))
			return false;
	}
	*out = (int32_t)((h * 60 + m) * 60 + sec) * (neg ? -1 : 1);
	return true;
}

static bool scan_rule(tz_scan *s, tz_rule *r)
{
	if (eat(s, 'J')) {
		r->kind = RULE_JULIAN;
		if (!scan_num(s, 1, 365, &r->day, "bad Jn date (n is 1-365)"))
			return false;
	} else if (eat(s, 'M')) {
		r->kind = RULE_MONTH;
		if (!scan_num(s, 1, 12, &r->mon, "bad Mm.w.d month (1-12)"))
			return false;
		if (!eat(s, '.'))
			return scan_fail(s, "bad Mm.w.d date");
		if (!scan_num(s, 1, 5, &r->week, "bad Mm.w.d week (1-5)"))
			return false;
		if (!eat(s, '.'))
			return scan_fail(s, "bad Mm.w.d date");
		if (!scan_num(s, 0, 6, &r->day, "bad Mm.w.d weekday (0-6)"))
			return false;
	} else if (at_digit(s)) {
		r->kind = RULE_DAY;
		if (!scan_num(s, 0, 365, &r->day, "bad n date (0-365)"))
			return false;
	} else {
		return scan_fail(s, "expected a date (Jn, n or Mm.w.d)");
	}
	r->secs = 2 * 3600;
	/* RFC 9636 3.3.1 (version 3): hours -167 to 167. */
	if (eat(s, '/') &&
	    !scan_hms(s, 167, &r->secs, "bad rule time (hours -167 to 167)"))
		return false;
	return true;
}

/* Parse a footer's TZ string (not empty); on failure the reason is in
 * *err. Offsets are turned east-positive. */
static bool parse_footer(const char *str, size_t len, tz_footer *f,
                         const char **err)
{
	tz_scan s = {str, str + len, NULL};
	int32_t posix;

	memset(f, 0, sizeof(*f));
	if (!scan_name(&s) || !scan_hms(&s, 24, &posix,
	                                "bad standard offset (hh[:mm[:ss]], "
	                                "hours 0-24)"))
		goto fail;
	f->std_off = -posix;
	f->dst_off = f->std_off;
	if (s.p == s.end)
		return true;

	if (!scan_name(&s))
		goto fail;
	f->has_dst = true;
	f->dst_off = f->std_off + 3600;
	if (s.p < s.end && *s.p != ',') {
		if (!scan_hms(&s, 24, &posix,
		              "bad daylight offset "
		              "(hh[:mm[:ss]], hours 0-24)"))
			goto fail;
		f->dst_off = -posix;
	}
	if (s.p == s.end) {
		/* No rule: the tz code's default, the US rules. */
		f->start = (tz_rule){RULE_MONTH, 0, 3, 2, 7200};
		f->end = (tz_rule){RULE_MONTH, 0, 11, 1, 7200};
	} else {
		if (!eat(&s, ',') || !scan_rule(&s, &f->start)) {
			scan_fail(&s, "expected ',' and the start rule");
			goto fail;
		}
		if (!eat(&s, ',') || !scan_rule(&s, &f->end)) {
			scan_fail(&s, "expected ',' and the end rule");
			goto fail;
		}
		if (s.p != s.end) {
			scan_fail(&s, "unexpected text after the rules");
			goto fail;
		}
	}

	/* A year's changes depend only on whether it is a leap year and on
	 * the weekday of its January 1: 28 consecutive years within a
	 * century show all 14 kinds. None with a change: daylight time all
	 * year (tzparse(): "Perpetual DST"). */
	f->perpetual = true;
	for (int64_t y = 2000; y < 2028 && f->perpetual; y++) {
		tz_change ch[2];
		if (year_changes(f, y, evc__days_from_civil(y, 1, 1), ch))
			f->perpetual = false;
	}
	return true;
fail:
	*err = s.err ? s.err : "malformed";
	return false;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

#define HEADER_LEN 44

typedef struct {
	unsigned version; /* 1 to 4 */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

/* The header at data[pos]; false with the reason in *err. */
static bool read_header(const uint8_t *data, size_t len, size_t pos,
                        tzif_header *h, const char **err)
{
	if (len - pos < HEADER_LEN) {
		*err = pos == 0 && len == 0 ? "empty file"
		       : pos == 0           ? "truncated header"
		                            : "truncated second header";
		return false;
	}
	const uint8_t *p = data + pos;
	if (memcmp(p, "TZif", 4) != 0) {
		*err = pos == 0 ? "not a TZif file (bad magic)"
		                : "bad magic in the second header";
		return false;
	}
	if (p[4] == 0)
		h->version = 1;
	else if (p[4] >= '2' && p[4] <= '4')
		h->version = (unsigned)(p[4] - '0');
	else {
		*err = "unsupported TZif version";
		return false;
	}
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return true;
}

/* Bytes of the data block after a header; 64-bit arithmetic of 32-bit
 * counts cannot overflow. */
static uint64_t block_len(const tzif_header *h, unsigned time_size)
{
	return (uint64_t)h->timecnt * (time_size + 1) +
	       (uint64_t)h->typecnt * 6 + h->charcnt +
	       (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt +
	       h->isutcnt;
}

typedef struct {
	int code;
	char reason[160];
} tz_error;

EVC_PRINTF(3, 4)
static int bad(tz_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

static int parse_tzif(evc_tz **out, const char *name, const uint8_t *data,
                      size_t len, tz_error *e)
{
	tzif_header h;
	const char *err;
	size_t pos = 0;

	if (!read_header(data, len, 0, &h, &err))
		return bad(e, EVC_EPARSE, "%s", err);
	unsigned time_size = 4;
	uint64_t blen = block_len(&h, 4);
	if (blen > len - HEADER_LEN)
		return bad(e, EVC_EPARSE,
		           "version 1 data block (%llu bytes) runs past the "
		           "end of the file",
		           (unsigned long long)blen);
	pos = HEADER_LEN;
	if (h.version >= 2) {
		/* Use the 64-bit data; the 32-bit block is only skipped. */
		const unsigned version = h.version;
		pos += (size_t)blen;
		if (!read_header(data, len, pos, &h, &err))
			return bad(e, EVC_EPARSE, "%s", err);
		if (h.version != version)
			return bad(e, EVC_EPARSE,
			           "the two headers give different versions");
		time_size = 8;
		blen = block_len(&h, 8);
		pos += HEADER_LEN;
		if (blen > len - pos)
			return bad(e, EVC_EPARSE,
			           "data block (%llu bytes) runs past the end "
			           "of the file",
			           (unsigned long long)blen);
	}
	if (h.typecnt == 0)
		return bad(e, EVC_EPARSE, "no local time types");
	if (h.charcnt == 0)
		return bad(e, EVC_EPARSE, "no time zone designations");
	if (h.isutcnt != 0 && h.isutcnt != h.typecnt)
		return bad(e, EVC_EPARSE,
		           "%u UT/local indicators for %u local time types",
		           h.isutcnt, h.typecnt);
	if (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)
		return bad(e, EVC_EPARSE,
		           "%u standard/wall indicators for %u local time "
		           "types",
		           h.isstdcnt, h.typecnt);
	if (h.leapcnt != 0)
		return bad(e, EVC_EINVAL,
		           "leap-second time zones are not supported");

	const uint8_t *times = data + pos;
	const uint8_t *idx = times + (size_t)h.timecnt * time_size;
	const uint8_t *ttinfo = idx + h.timecnt;
	const uint8_t *chars = ttinfo + (size_t)h.typecnt * 6;
	const uint8_t *isstd = chars + h.charcnt;
	const uint8_t *isut = isstd + h.isstdcnt;
	const size_t end = pos + (size_t)blen;

	int64_t prev = 0;
	for (uint32_t i = 0; i < h.timecnt; i++) {
		const int64_t t = time_size == 8
		                      ? be64(times + (size_t)i * 8)
		                      : (int32_t)be32(times + (size_t)i * 4);
		if (i > 0 && t <= prev)
			return bad(e, EVC_EPARSE,
			           "transition times not in ascending order "
			           "(transition %u of %u)",
			           i, h.timecnt);
		prev = t;
		if (idx[i] >= h.typecnt)
			return bad(e, EVC_EPARSE,
			           "transition %u has local time type %u of "
			           "%u",
			           i, idx[i], h.typecnt);
	}
	for (uint32_t i = 0; i < h.typecnt; i++) {
		const uint8_t *tt = ttinfo + (size_t)i * 6;
		const int32_t utoff = (int32_t)be32(tt);
		if (utoff < UTOFF_MIN || utoff > UTOFF_MAX)
			return bad(e, EVC_EPARSE,
			           "UT offset %ld s of local time type %u out "
			           "of range",
			           (long)utoff, i);
		if (tt[4] > 1)
			return bad(e, EVC_EPARSE,
			           "DST flag of local time type %u is not 0 "
			           "or 1",
			           i);
		if (tt[5] >= h.charcnt ||
		    !memchr(chars + tt[5], 0, h.charcnt - tt[5]))
			return bad(e, EVC_EPARSE,
			           "designation of local time type %u out of "
			           "range or not NUL-terminated",
			           i);
		if ((h.isstdcnt && isstd[i] > 1) || (h.isutcnt && isut[i] > 1))
			return bad(e, EVC_EPARSE,
			           "standard/wall or UT/local indicator of "
			           "local time type %u is not 0 or 1",
			           i);
		if (h.isutcnt && isut[i] && !(h.isstdcnt && isstd[i]))
			return bad(e, EVC_EPARSE,
			           "local time type %u is UT but not standard "
			           "time",
			           i);
	}

	tz_footer footer;
	bool has_footer = false;
	if (h.version >= 2) {
		if (end == len)
			return bad(e, EVC_EPARSE,
			           "missing footer (the file ends after the "
			           "data block)");
		if (data[end] != '\n')
			return bad(e, EVC_EPARSE,
			           "footer does not start with a newline");
		const uint8_t *str = data + end + 1;
		const uint8_t *nl = memchr(str, '\n', len - end - 1);
		if (!nl)
			return bad(e, EVC_EPARSE, "unterminated footer");
		const size_t str_len = (size_t)(nl - str);
		if (str_len > 0) {
			if (!parse_footer((const char *)str, str_len, &footer,
			                  &err)) {
				char q[300];
				return bad(
				    e, EVC_EPARSE,
				    "bad TZ string \"%s\" in the footer: "
				    "%s",
				    quoted((const char *)str, str_len, q,
				           sizeof(q)),
				    err);
			}
			has_footer = true;
		}
	}

	/* RFC 9636 3.2: "Local time for timestamps before the first
	 * transition is specified by the first time type (time type 0)";
	 * glibc 2.36 takes the first non-DST type instead (as the tz code
	 * did before 2024b), which zic's output makes the same. From the last
	 * transition on, the footer rules (3.3: the last transition's type is
	 * only there to check the footer against), so with a footer the table
	 * stops before it. Entries that keep the offset are dropped. */
	const size_t used =
	    has_footer && h.timecnt > 0 ? h.timecnt - 1 : h.timecnt;
	const int32_t off0 = (int32_t)be32(ttinfo);
	int32_t cur = off0, lo = off0, hi = off0;
	size_t n = 0;
	for (size_t i = 0; i < used; i++) {
		const int32_t o = (int32_t)be32(ttinfo + (size_t)idx[i] * 6);
		n += o != cur;
		cur = o;
	}

	int64_t *at;
	int32_t *offs;
	evc_tz *tz = tz_new(name, n, &at, &offs);
	if (!tz)
		return bad(e, EVC_ENOMEM, "out of memory");
	cur = off0;
	n = 0;
	for (size_t i = 0; i < used; i++) {
		const int32_t o = (int32_t)be32(ttinfo + (size_t)idx[i] * 6);
		if (o == cur)
			continue;
		at[n] = time_size == 8 ? be64(times + i * 8)
		                       : (int32_t)be32(times + i * 4);
		offs[n++] = cur = o;
		lo = o < lo ? o : lo;
		hi = o > hi ? o : hi;
	}
	tz->n = n;
	tz->off0 = off0;
	tz->has_footer = has_footer;
	if (has_footer) {
		tz->footer = footer;
		tz->footer_from = INT64_MIN;
		if (h.timecnt > 0)
			tz->footer_from =
			    time_size == 8
			        ? be64(times + (size_t)(h.timecnt - 1) * 8)
			        : (int32_t)be32(times +
			                        (size_t)(h.timecnt - 1) * 4);
		const int32_t fo[2] = {footer.std_off, footer.dst_off};
		for (int k = 0; k < 2; k++) {
			lo = fo[k] < lo ? fo[k] : lo;
			hi = fo[k] > hi ? fo[k] : hi;
		}
	}
	tz->min_off = lo;
	tz->max_off = hi;
	*out = tz;
	return EVC_OK;
}

static void say_parse_error(char *why, size_t why_len, const char *name,
                            const char *path, const tz_error *e)
{
	char q[300];
	const char *qn = quoted(name, strlen(name), q, sizeof(q));

	if (e->code == EVC_ENOMEM)
		say(why, why_len, "time zone \"%s\": out of memory", qn);
	else if (e->code == EVC_EINVAL)
		say(why, why_len, "time zone \"%s\": %s", qn, e->reason);
	else if (path)
		say(why, why_len, "time zone \"%s\" (%s) is not valid TZif: %s",
		    qn, path, e->reason);
	else
		say(why, why_len, "time zone \"%s\" is not valid TZif: %s", qn,
		    e->reason);
}

int evc__tz_parse(evc_tz **out, const char *name, const uint8_t *data,
                  size_t len, char *why, size_t why_len)
{
	tz_error e;

	if (out)
		*out = NULL;
	if (!out || !name || (!data && len > 0)) {
		say(why, why_len, "evc__tz_parse: NULL argument");
		return EVC_EINVAL;
	}
	const int rc =
	    parse_tzif(out, name, data ? data : (const uint8_t *)"", len, &e);
	if (rc != EVC_OK)
		say_parse_error(why, why_len, name, NULL, &e);
	return rc;
}

/* ---- loading by name ----------------------------------------------------- */

/* "+HH", "+HHMM", "+HH:MM" (or '-'): EVC_OK with the offset, or
 * EVC_EINVAL. */
static int parse_fixed(const char *s, int32_t *off, const char **err)
{
	const size_t len = strlen(s);
	/* Where the minutes' digits are: +HH, +HHMM, +HH:MM. */
	const size_t mpos = len == 3 ? 0 : len == 5 ? 3 : len == 6 ? 4 : 1;
	int h, m = 0;

	for (size_t i = 1; i < len && mpos != 1; i++) {
		if (len == 6 && i == 3 ? s[i] != ':'
		                       : !(s[i] >= '0' && s[i] <= '9'))
			goto malformed;
	}
	if (mpos == 1)
		goto malformed;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	if (mpos)
		m = (s[mpos] - '0') * 10 + (s[mpos + 1] - '0');
	if (h > 23 || m > 59) {
		*err = h > 23 ? "offset hours out of range (00-23)"
		              : "offset minutes out of range (00-59)";
		return EVC_EINVAL;
	}
	*off = (int32_t)((h * 60 + m) * 60) * (s[0] == '-' ? -1 : 1);
	return EVC_OK;
malformed:
	*err = "malformed fixed offset (want +HH, +HHMM or +HH:MM)";
	return EVC_EINVAL;
}

/* NULL when `name` may be looked up under the zone directory, else why
 * not. */
static const char *check_name(const char *name)
{
	const size_t len = strnlen(name, EVC_TZ_NAME_MAX + 1);

	if (len == 0)
		return "empty time zone name";
	if (len > EVC_TZ_NAME_MAX)
		return "time zone name longer than 255 bytes";
	if (name[0] == '/')
		return "absolute paths are not allowed";
	for (size_t i = 0; i < len; i++) {
		const char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-' || c == '.' || c == '/'))
			return "only the characters A-Z a-z 0-9 _ + - . / "
			       "are allowed";
	}
	for (const char *p = name;;) {
		const char *slash = strchr(p, '/');
		const size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return "empty path component";
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return "\".\" and \"..\" path components are not "
			       "allowed";
		if (!slash)
			return NULL;
		p = slash + 1;
	}
}

/* The zone directory: $TZDIR if set and non-empty, else the system's. */
static const char *zone_dir(void)
{
	const char *dir = secure_getenv("TZDIR");
	return dir && dir[0] ? dir : DEFAULT_DIR;
}

/* Read the whole regular file at `path` (at most EVC_TZ_FILE_MAX bytes)
 * into a new buffer. */
static int read_zone_file(const char *path, const char *qname, const char *dir,
                          uint8_t **data, size_t *len, char *why,
                          size_t why_len)
{
	char eb[32];
	struct stat st;
	int fd, rc = EVC_OK;

	*data = NULL;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			say(why, why_len,
			    "unknown time zone \"%s\" (no such file under %s)",
			    qname, dir);
			return EVC_ENOTFOUND;
		}
		say(why, why_len, "time zone \"%s\": cannot open %s: %s", qname,
		    path, errno_text(errno, eb, sizeof(eb)));
		return EVC_EIO;
	}
	if (fstat(fd, &st) != 0) {
		say(why, why_len, "time zone \"%s\": cannot stat %s: %s", qname,
		    path, errno_text(errno, eb, sizeof(eb)));
		rc = EVC_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		say(why, why_len, "unknown time zone \"%s\" (%s is %s)", qname,
		    path,
		    S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
		rc = EVC_ENOTFOUND;
		goto out;
	}
	if (st.st_size > (off_t)EVC_TZ_FILE_MAX) {
		say(why, why_len,
		    "time zone \"%s\" (%s) is not valid TZif: larger than %u "
		    "bytes",
		    qname, path, EVC_TZ_FILE_MAX);
		rc = EVC_EPARSE;
		goto out;
	}
	/* One byte more than the size, to see a file that grew. */
	const size_t cap = (size_t)st.st_size + 1;
	uint8_t *buf = evc__malloc(cap);
	if (!buf) {
		say(why, why_len, "time zone \"%s\": out of memory", qname);
		rc = EVC_ENOMEM;
		goto out;
	}
	size_t got = 0;
	for (;;) {
		const ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			say(why, why_len,
			    "time zone \"%s\": cannot read %s: %s", qname, path,
			    errno_text(errno, eb, sizeof(eb)));
			free(buf);
			rc = EVC_EIO;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == cap) {
			say(why, why_len,
			    "time zone \"%s\": %s changed while being read",
			    qname, path);
			free(buf);
			rc = EVC_EIO;
			goto out;
		}
	}
	*data = buf;
	*len = got;
out:
	close(fd);
	return rc;
}

int evc__tz_load(evc_tz **out, const char *name, char *why, size_t why_len)
{
	char q[300];
	const char *err;
	int32_t off;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !name) {
		say(why, why_len, "evc__tz_load: NULL argument");
		return EVC_EINVAL;
	}
	const char *qname =
	    quoted(name, strnlen(name, EVC_TZ_NAME_MAX + 1), q, sizeof(q));
	if (strcmp(name, "UTC") == 0)
		return fixed_zone(out, name, 0, true, why, why_len);
	if (name[0] == '+' || name[0] == '-') {
		if ((rc = parse_fixed(name, &off, &err)) != EVC_OK) {
			say(why, why_len, "invalid time zone \"%s\": %s", qname,
			    err);
			return rc;
		}
		return fixed_zone(out, name, off, false, why, why_len);
	}
	if ((err = check_name(name)) != NULL) {
		say(why, why_len, "invalid time zone name \"%s\": %s", qname,
		    err);
		return EVC_EINVAL;
	}

	const char *dir = zone_dir();
	const size_t dir_len = strlen(dir), name_len = strlen(name);
	char *path = evc__malloc(dir_len + 1 + name_len + 1);
	if (!path) {
		say(why, why_len, "time zone \"%s\": out of memory", qname);
		return EVC_ENOMEM;
	}
	memcpy(path, dir, dir_len);
	path[dir_len] = '/';
	memcpy(path + dir_len + 1, name, name_len + 1);

	uint8_t *data;
	size_t len = 0;
	rc = read_zone_file(path, qname, dir, &data, &len, why, why_len);
	if (rc == EVC_OK) {
		tz_error e;
		rc = parse_tzif(out, name, data, len, &e);
		if (rc != EVC_OK)
			say_parse_error(why, why_len, name, path, &e);
		free(data);
	}
	free(path);
	return rc;
}
