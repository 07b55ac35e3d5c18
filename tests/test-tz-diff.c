/* SPDX-License-Identifier: MIT */
/*
 * Differential test of lib/tz.c against glibc, over every zone of the
 * system's tzdata:
 *
 *   test-tz-diff [ZONEINFO [ZONE...]]   (default /usr/share/zoneinfo, all)
 *
 * The tree is walked without posix/ and right/ (copies, and leap-second
 * zones the library refuses), keeping the files that start with "TZif"
 * (not zone.tab, tzdata.zi, leapseconds, +VERSION...). Each distinct file
 * is checked in a child process of its own, with TZ=":/path/to/zone" and
 * tzset(), two children at a time (one per core):
 *
 * - every hour from 1900 to 2100, glibc's localtime_r() tm_gmtoff against
 *   evc__tz_offset(); where glibc's offset changes between two hours, the
 *   change is located to the second by bisection;
 * - every change evc__tz_next_change() reports, from year 0 to 9999,
 *   and every transition of the file, against glibc a second before, at
 *   and a second after it; and every change glibc shows in 1900-2100 must
 *   be one of those evc__tz_next_change() reports;
 * - evc__tz_first_at_or_after() on wall times around each change (in the
 *   gap or the overlap, at its edges, an hour off) and at random, against
 *   a linear scan of glibc's offset function as located above, and for a
 *   few of them against a second-by-second search of glibc's answers;
 * - the instants before the first transition.
 *
 * Past a file's last transition glibc re-parses the footer's TZ string at
 * every call (about a microsecond); from two days after it the hourly
 * comparison and the
 * checks of changes use TZ set to that footer string itself, which glibc
 * evaluates with the same code (tzset.c's __tz_compute) without the
 * re-parse, and the file is consulted every ~10 days and at every change
 * up to 2100 to confirm that both agree.
 *
 * Names that are links to a checked file are loaded and compared with it.
 *
 * Where glibc and RFC 8536/9636 disagree, the RFC wins, and only that case
 * is left out of the comparison (counted in the summary):
 * - before the first transition RFC 9636 3.2 says time type 0; glibc 2.36
 *   takes the first non-DST type (as the tz code did before 2024b; the
 *   glibc patch "Handle TZif time type 0 correctly" of January 2025 moves
 *   to type 0). Only a file whose type 0 is DST tells them apart; such
 *   files are checked against type 0 there instead.
 * - a file without transitions: RFC 9636 3.2 says the footer applies to
 *   all times; glibc 2.36 ignores the footer then and uses that type
 *   (the same patch changes this too).
 *   Such files are compared with glibc's reading of their footer, and
 *   with glibc's reading of the file too unless the footer says something
 *   else than type 0 (daylight time, another offset).
 *
 * EVC_TEST_SCALE (a divisor, default 1; the valgrind setup sets 20)
 * stretches the hourly step to that many hours and checks that fraction of
 * the changes and samples. Exits 0 when everything agrees, 1 otherwise.
 */
#include "tz.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOUR     3600
#define DAY      86400
#define Y1900    (-2208988800LL) /* 1900-01-01T00:00:00Z */
#define Y2101    4133980800LL    /* 2101-01-01T00:00:00Z */
#define MAX_FAIL 10              /* reports per zone */

static const char *root = "/usr/share/zoneinfo";
static int scale = 1;

/* ---- the zone list ------------------------------------------------------- */

typedef struct zone {
	char *name; /* relative to root */
	char *real; /* realpath */
	dev_t dev;
	ino_t ino;
	int canon; /* index of the zone whose file it is (itself or a link's
	              target), -1 until known */
} zone;

static zone *zones;
static size_t n_zones, cap_zones;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "tz-diff: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static bool is_tzif(const char *path)
{
	char magic[4];
	FILE *f = fopen(path, "rb");
	bool ok = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
	if (f)
		fclose(f);
	return ok;
}

static void walk(const char *rel)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel);
	DIR *d = opendir(dir);
	if (!d)
		die("cannot open %s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char name[4096], path[8192];
		struct stat lst, st;
		if (e->d_name[0] == '.')
			continue;
		if (!rel[0] && (!strcmp(e->d_name, "posix") ||
		                !strcmp(e->d_name, "right")))
			continue;
		snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "",
		         e->d_name);
		snprintf(path, sizeof(path), "%s/%s", root, name);
		if (lstat(path, &lst) != 0 || stat(path, &st) != 0)
			continue;
		if (S_ISDIR(lst.st_mode)) {
			walk(name);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !is_tzif(path))
			continue;
		if (n_zones == cap_zones) {
			cap_zones = cap_zones ? 2 * cap_zones : 1024;
			zones = realloc(zones, cap_zones * sizeof(*zones));
			if (!zones)
				die("out of memory");
		}
		zone *z = &zones[n_zones++];
		z->name = strdup(name);
		z->real = realpath(path, NULL);
		z->dev = st.st_dev;
		z->ino = st.st_ino;
		z->canon = S_ISLNK(lst.st_mode) ? -1 : (int)(n_zones - 1);
		if (!z->name || !z->real)
			die("out of memory");
	}
	closedir(d);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const zone *)a)->name, ((const zone *)b)->name);
}

/* Links point to the checked file with the same inode; a regular file
 * with the inode of an earlier one (a hard link) is a link too. */
static void find_canon(void)
{
	qsort(zones, n_zones, sizeof(*zones), by_name);
	for (size_t i = 0; i < n_zones; i++) {
		zones[i].canon = -1;
		for (size_t j = 0; j < i; j++) {
			if (zones[j].canon == (int)j &&
			    zones[j].dev == zones[i].dev &&
			    zones[j].ino == zones[i].ino) {
				zones[i].canon = (int)j;
				break;
			}
		}
		if (zones[i].canon < 0)
			zones[i].canon = (int)i;
	}
}

/* ---- what the test reads of a file itself ---------------------------------
 */

/* Enough of a TZif file to drive the comparison: where its transitions
 * start and end, type 0, the footer. Read here, not by the library. */
typedef struct zinfo {
	uint32_t timecnt;
	int64_t *at; /* the transitions, timecnt of them */
	int64_t first_at, last_at;
	int32_t type0_off;
	bool type0_dst;
	char footer[256]; /* empty: none */
} zinfo;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool read_info(const char *path, zinfo *zi)
{
	static uint8_t b[1 << 16];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	const size_t n = fread(b, 1, sizeof(b), f);
	fclose(f);
	memset(zi, 0, sizeof(*zi));
	if (n < 44 || b[4] < '2')
		return false;
	/* Skip the version 1 block: counts at 20..43. */
	size_t p = 44 + rd32(b + 32) * 5 + rd32(b + 36) * 6 + rd32(b + 40) +
	           rd32(b + 28) * 8 + rd32(b + 24) + rd32(b + 20);
	if (p + 44 > n)
		return false;
	const uint8_t *h = b + p;
	const uint32_t isut = rd32(h + 20), isstd = rd32(h + 24),
	               leap = rd32(h + 28), timecnt = rd32(h + 32),
	               typecnt = rd32(h + 36), charcnt = rd32(h + 40);
	const uint8_t *times = h + 44;
	const uint8_t *ttinfo = times + timecnt * 9;
	const size_t end = p + 44 + timecnt * 9 + typecnt * 6 + charcnt +
	                   leap * 12 + isstd + isut;
	if (end + 2 > n || b[end] != '\n')
		return false;
	zi->timecnt = timecnt;
	zi->at = malloc((timecnt ? timecnt : 1) * sizeof(int64_t));
	if (!zi->at)
		die("out of memory");
	for (uint32_t i = 0; i < timecnt; i++)
		zi->at[i] = (int64_t)((uint64_t)rd32(times + 8 * i) << 32 |
		                      rd32(times + 8 * i + 4));
	if (timecnt) {
		zi->first_at = zi->at[0];
		zi->last_at = zi->at[timecnt - 1];
	}
	zi->type0_off = (int32_t)rd32(ttinfo);
	zi->type0_dst = ttinfo[4];
	const uint8_t *nl = memchr(b + end + 1, '\n', n - end - 1);
	if (!nl || (size_t)(nl - b - end - 1) >= sizeof(zi->footer)) {
		free(zi->at);
		return false;
	}
	memcpy(zi->footer, b + end + 1, (size_t)(nl - b - end - 1));
	return true;
}

/* ---- one zone, in a child process ------------------------------------------
 */

typedef struct stats {
	long hours, changes, transitions, samples, brute, spots, mine_only;
	long type0_dst, footer_only; /* glibc/RFC cases left out */
	long failures;
} stats;

static stats st;
static const char *cur_name;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	if (st.failures++ >= MAX_FAIL)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cur_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static const char *fmt_utc(int64_t t, char *buf)
{
	if (evc_format_time(t, buf, EVC_TIME_BUFSZ) < 0)
		snprintf(buf, EVC_TIME_BUFSZ, "%lld", (long long)t);
	return buf;
}

/* glibc's TZ: the file, or the footer's TZ string. */
static void set_tz(const char *value)
{
	if (setenv("TZ", value, 1) != 0)
		die("setenv: %s", strerror(errno));
	tzset();
}

static long glibc_off(int64_t t)
{
	const time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return -999999;
	return tm.tm_gmtoff;
}

/* A change of glibc's offset, located to the second. */
typedef struct change {
	int64_t at;
	long before, after;
} change;

static change *gch;
static size_t n_gch, cap_gch;

static void add_change(int64_t at, long before, long after)
{
	if (n_gch == cap_gch) {
		cap_gch = cap_gch ? 2 * cap_gch : 1024;
		gch = realloc(gch, cap_gch * sizeof(*gch));
		if (!gch)
			die("out of memory");
	}
	gch[n_gch++] = (change){at, before, after};
}

/* glibc's offset is `before` at lo and something else at hi: record every
 * change in (lo, hi], each by bisection. */
static void locate(int64_t lo, int64_t hi, long before, long at_hi)
{
	while (before != at_hi) {
		int64_t a = lo, b = hi;
		while (b - a > 1) {
			const int64_t m = a + (b - a) / 2;
			if (glibc_off(m) == before)
				a = m;
			else
				b = m;
		}
		const long after = glibc_off(b);
		add_change(b, before, after);
		lo = b;
		before = after;
	}
}

/* Compare every step-th hour of [from, to) with glibc under the current
 * TZ, locating glibc's changes since prev_t (from, or the hour before). */
static void hourly(const evc_tz *tz, int64_t prev_t, int64_t from, int64_t to,
                   int64_t step)
{
	char a[EVC_TIME_BUFSZ];
	long prev = glibc_off(prev_t);

	for (int64_t t = from; t < to; t += step) {
		const long g = glibc_off(t);
		const int32_t m = evc__tz_offset(tz, t);
		st.hours++;
		if (g != m)
			fail("at %s: offset %d, glibc %ld", fmt_utc(t, a), m,
			     g);
		if (g != prev)
			locate(prev_t, t, prev, g);
		prev = g;
		prev_t = t;
	}
}

/* Mine a second before c, at c and a second after against glibc under
 * the current TZ. */
static void check_change(const evc_tz *tz, int64_t c, const char *what)
{
	char a[EVC_TIME_BUFSZ], b[EVC_TIME_BUFSZ];
	for (int64_t t = c - 1; t <= c + 1; t++) {
		if (t < EVC_TIME_MIN || t > EVC_TIME_MAX)
			continue;
		const long g = glibc_off(t);
		if (evc__tz_offset(tz, t) != g)
			fail("at %s (%s at %s %+d s): offset %d, glibc %ld",
			     fmt_utc(t, a), what, fmt_utc(c, b), (int)(t - c),
			     evc__tz_offset(tz, t), g);
	}
}

/* The first instant whose wall clock reads `l` or later, by a linear scan
 * of glibc's offset function over [Y1900, Y2101) as located. */
static int64_t scan_first(int64_t l, long off_1900)
{
	int64_t a = Y1900;
	long o = off_1900;
	for (size_t i = 0;; i++) {
		const int64_t b = i < n_gch ? gch[i].at : Y2101;
		const int64_t t = l - o > a ? l - o : a;
		if (t < b || i >= n_gch)
			return t;
		a = b;
		o = gch[i].after;
	}
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void check_first(const evc_tz *tz, int64_t l, long off_1900)
{
	char a[EVC_TIME_BUFSZ], b[EVC_TIME_BUFSZ], w[EVC_TIME_BUFSZ];
	/* Only where the answer is within the scanned span. */
	if (l < Y1900 + 3 * DAY || l >= Y2101 - 3 * DAY)
		return;
	const int64_t want = scan_first(l, off_1900);
	const int64_t got = evc__tz_first_at_or_after(tz, l);
	st.samples++;
	if (got != want)
		fail("first_at_or_after(wall %s) = %s, glibc %s", fmt_utc(l, w),
		     fmt_utc(got, a), fmt_utc(want, b));
}

/* The same by brute force: every second of the window in which the
 * answer must lie, given the offsets glibc shows around it. */
static void brute_first(const evc_tz *tz, int64_t l, long lo, long hi)
{
	char a[EVC_TIME_BUFSZ], b[EVC_TIME_BUFSZ], w[EVC_TIME_BUFSZ];
	int64_t t = l - hi - 60;
	while (t < l - lo + 60 && t + glibc_off(t) < l)
		t++;
	const int64_t got = evc__tz_first_at_or_after(tz, l);
	st.brute++;
	if (got != t)
		fail("first_at_or_after(wall %s) = %s, glibc by brute force %s",
		     fmt_utc(l, w), fmt_utc(got, a), fmt_utc(t, b));
}

/* Whether a footer is standard time only at offset `off` (then it says
 * what type 0 says, and glibc's reading of a file without transitions,
 * which ignores the footer, is the RFC's). */
static bool footer_is(const char *f, int32_t off)
{
	int h = 0, m = 0, sec = 0, n = 0;
	char sign = '+';

	if (*f == '<') {
		f = strchr(f, '>');
		if (!f)
			return false;
		f++;
	} else {
		while ((*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z'))
			f++;
	}
	if (*f == '+' || *f == '-')
		sign = *f++;
	if (sscanf(f, "%d%n:%d%n:%d%n", &h, &n, &m, &n, &sec, &n) < 1 ||
	    f[n] != '\0')
		return false;
	const int32_t posix = (h * 60 + m) * 60 + sec;
	return -(sign == '-' ? -posix : posix) == off;
}

static int run_zone(const zone *z)
{
	char path[8192], tzvar[8300], why[512], a[EVC_TIME_BUFSZ];
	zinfo zi;
	evc_tz *tz;
	int64_t c;

	cur_name = z->name;
	snprintf(path, sizeof(path), "%s/%s", root, z->name);
	if (!read_info(path, &zi)) {
		fail("cannot read %s as TZif version 2 or later", path);
		return 1;
	}
	if (evc__tz_load(&tz, z->name, why, sizeof(why)) != EVC_OK) {
		fail("%s", why);
		free(zi.at);
		return 1;
	}
	snprintf(tzvar, sizeof(tzvar), ":%s", path);
	set_tz(tzvar);

	/* Where glibc is asked through the footer instead of the file: from
	 * two days after the last transition (both are valid there), or
	 * everywhere for a file without transitions (RFC 9636 3.2: the
	 * footer applies to all times; glibc 2.36 uses a type). */
	const bool footer = zi.footer[0] != '\0';
	int64_t split = Y2101;
	if (footer)
		split = zi.timecnt ? zi.last_at + 2 * DAY : EVC_TIME_MIN;
	const int64_t step = HOUR * scale;
	const int64_t h_split =
	    split <= Y1900   ? Y1900
	    : split >= Y2101 ? Y2101
	                     : Y1900 + (split - Y1900 + step - 1) / step * step;

	/* Before the first transition: type 0 (RFC 9636 3.2), which glibc
	 * 2.36 takes only when it is not DST. */
	if (zi.timecnt && zi.first_at > EVC_TIME_MIN) {
		const int64_t before[] = {EVC_TIME_MIN, zi.first_at - 1,
		                          EVC_TIME_MIN +
		                              (zi.first_at - EVC_TIME_MIN) / 2};
		for (int i = 0; i < 3; i++) {
			const int32_t m = evc__tz_offset(tz, before[i]);
			if (m != zi.type0_off)
				fail("at %s: offset %d, type 0 says %d",
				     fmt_utc(before[i], a), m, zi.type0_off);
			if (zi.type0_dst)
				st.type0_dst++;
			else if (glibc_off(before[i]) != m)
				fail("at %s (before the first transition): "
				     "offset %d, glibc %ld",
				     fmt_utc(before[i], a), m,
				     glibc_off(before[i]));
		}
	}

	/* Every hour, by the file then by the footer. */
	long first_off = glibc_off(Y1900);
	hourly(tz, Y1900, Y1900, h_split, step);
	const size_t n_file_changes = n_gch;
	if (h_split < Y2101) {
		set_tz(zi.footer);
		if (h_split == Y1900)
			first_off = glibc_off(Y1900);
		hourly(tz, h_split > Y1900 ? h_split - step : Y1900, h_split,
		       Y2101, step);
	}

	/* My changes against glibc at and before each, in the footer's
	 * domain first (TZ is the footer now, if it is used at all). */
	long k = 0;
	if (h_split < Y2101) {
		for (int64_t t = split; evc__tz_next_change(tz, t, &c); t = c)
			if (c > split && k++ % scale == 0) {
				check_change(tz, c, "change");
				st.changes++;
			}
		set_tz(tzvar);
		/* The file agrees with its footer where both apply: at every
		 * change up to 2100 and every ~10 days. */
		const bool glibc_ignores_footer =
		    zi.timecnt == 0 && !footer_is(zi.footer, zi.type0_off);
		for (size_t i = n_file_changes; i < n_gch; i++) {
			if (glibc_ignores_footer) {
				st.footer_only++;
				continue;
			}
			for (int64_t t = gch[i].at - 1; t <= gch[i].at; t++) {
				if (glibc_off(t) != evc__tz_offset(tz, t))
					fail("at %s: the file says %ld, its "
					     "footer %d",
					     fmt_utc(t, a), glibc_off(t),
					     evc__tz_offset(tz, t));
			}
			st.spots++;
		}
		for (int64_t t = h_split; t < Y2101;
		     t += (240 * HOUR + 37 * 60) * scale) {
			if (glibc_ignores_footer) {
				st.footer_only++;
				continue;
			}
			if (glibc_off(t) != evc__tz_offset(tz, t))
				fail("at %s: offset %d, glibc (file) %ld",
				     fmt_utc(t, a), evc__tz_offset(tz, t),
				     glibc_off(t));
			st.spots++;
		}
	}
	for (int64_t t = EVC_TIME_MIN;
	     evc__tz_next_change(tz, t, &c) && c < split && c <= EVC_TIME_MAX;
	     t = c)
		if (k++ % scale == 0) {
			check_change(tz, c, "change");
			st.changes++;
		}
	/* And every transition of the file, whether it changes the offset or
	 * only the abbreviation or the DST flag. */
	for (uint32_t i = 0; i < zi.timecnt; i++) {
		if (zi.at[i] >= EVC_TIME_MIN && zi.at[i] <= EVC_TIME_MAX)
			check_change(tz, zi.at[i], "transition");
		st.transitions++;
	}

	/* Every change glibc showed is one of mine; mine that glibc's hourly
	 * samples cannot show (a change undone within the hour) were
	 * checked above. */
	size_t j = 0;
	long mine_in_span = 0;
	for (int64_t t = Y1900 - 1; evc__tz_next_change(tz, t, &c) && c < Y2101;
	     t = c) {
		mine_in_span++;
		while (j < n_gch && gch[j].at < c) {
			fail("glibc changes at %s, the library does not",
			     fmt_utc(gch[j].at, a));
			j++;
		}
		if (j < n_gch && gch[j].at == c)
			j++;
	}
	for (; j < n_gch; j++)
		fail("glibc changes at %s, the library does not",
		     fmt_utc(gch[j].at, a));
	if (mine_in_span > (long)n_gch)
		st.mine_only += mine_in_span - (long)n_gch;

	/* first_at_or_after around each change and at random. */
	for (size_t i = 0; i < n_gch; i += (size_t)scale) {
		static const int64_t d[] = {-3601, -1, 0, 1, 3601};
		const change *g = &gch[i];
		const long lo = g->before < g->after ? g->before : g->after;
		const long hi = g->before < g->after ? g->after : g->before;
		for (int k2 = 0; k2 < 5; k2++) {
			check_first(tz, g->at + g->before + d[k2], first_off);
			check_first(tz, g->at + g->after + d[k2], first_off);
		}
		for (int q = 1; q < 4; q++)
			check_first(tz, g->at + lo + (hi - lo) * q / 4,
			            first_off);
	}
	for (int i = 0; i < 200 / scale; i++)
		check_first(
		    tz,
		    Y1900 + (int64_t)(next_rand() % (uint64_t)(Y2101 - Y1900)),
		    first_off);
	/* By brute force: a middle, the first and the last change that the
	 * file decides (glibc's TZ is the file again); only the middle one
	 * when scaled down. */
	if (n_file_changes > 0) {
		const size_t pick[] = {n_file_changes / 2, 0,
		                       n_file_changes - 1};
		for (int i = 0; i < (scale > 1 ? 1 : 3); i++) {
			const change *g = &gch[pick[i]];
			const long lo =
			    g->before < g->after ? g->before : g->after;
			const long hi =
			    g->before < g->after ? g->after : g->before;
			brute_first(tz, g->at + (g->before + g->after) / 2, lo,
			            hi);
			brute_first(tz, g->at + g->before, lo, hi);
		}
	}

	evc__tz_free(tz);
	free(gch);
	free(zi.at);
	return st.failures != 0;
}

/* A link name gives the same offsets as the file it names. */
static long check_link(const zone *l, const zone *target)
{
	char why[512], a[EVC_TIME_BUFSZ];
	evc_tz *x, *y;
	long bad = 0;
	int64_t c;

	if (evc__tz_load(&x, l->name, why, sizeof(why)) != EVC_OK) {
		fprintf(stderr, "%s: %s\n", l->name, why);
		return 1;
	}
	if (evc__tz_load(&y, target->name, why, sizeof(why)) != EVC_OK) {
		fprintf(stderr, "%s: %s\n", target->name, why);
		evc__tz_free(x);
		return 1;
	}
	for (int64_t t = EVC_TIME_MIN;
	     evc__tz_next_change(y, t, &c) && c < Y2101; t = c) {
		if (evc__tz_offset(x, c) != evc__tz_offset(y, c) ||
		    evc__tz_offset(x, c - 1) != evc__tz_offset(y, c - 1)) {
			if (bad++ < 3)
				fprintf(stderr, "%s: differs from %s at %s\n",
				        l->name, target->name, fmt_utc(c, a));
		}
	}
	for (int i = 0; i < 1000; i++) {
		const int64_t t =
		    EVC_TIME_MIN +
		    (int64_t)(next_rand() %
		              (uint64_t)(EVC_TIME_MAX - EVC_TIME_MIN));
		bad += evc__tz_offset(x, t) != evc__tz_offset(y, t);
	}
	evc__tz_free(x);
	evc__tz_free(y);
	return bad != 0;
}

/* ---- the driver ------------------------------------------------------------
 */

typedef struct child {
	pid_t pid;
	int fd;
	size_t zone;
} child;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	const double t0 = now();
	const char *env = getenv("EVC_TEST_SCALE");
	stats total = {0};
	long failed = 0, distinct = 0, links = 0;

	if (argc > 1)
		root = argv[1];
	/* At most a day per step: the footer is asked from a day after the
	 * last transition, and about the hour before. */
	scale = env && atoi(env) > 1 ? atoi(env) : 1;
	scale = scale > 24 ? 24 : scale;
	/* The library reads the same tree glibc is given. */
	if (setenv("TZDIR", root, 1) != 0)
		die("setenv: %s", strerror(errno));

	walk("");
	if (n_zones == 0)
		die("no TZif files under %s", root);
	find_canon();
	/* Only the zones named (to look into one), as files of their own. */
	if (argc > 2) {
		for (size_t i = 0; i < n_zones; i++) {
			bool named = false;
			for (int a = 2; a < argc; a++)
				named |= strcmp(zones[i].name, argv[a]) == 0;
			zones[i].canon = named ? (int)i : -2;
		}
	}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const int slots = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	child run[8];
	int running = 0;
	size_t next = 0;

	for (;;) {
		while (running < slots && next < n_zones) {
			if (zones[next].canon != (int)next) {
				next++;
				continue;
			}
			int fds[2];
			if (pipe(fds) != 0)
				die("pipe: %s", strerror(errno));
			fflush(NULL);
			const pid_t pid = fork();
			if (pid < 0)
				die("fork: %s", strerror(errno));
			if (pid == 0) {
				close(fds[0]);
				/* A zone takes well under a second (a few
				 * under memcheck): a hang is a failure. */
				alarm(300);
				const int rc = run_zone(&zones[next]);
				if (write(fds[1], &st, sizeof(st)) !=
				    (ssize_t)sizeof(st))
					_exit(2);
				for (size_t i = 0; i < n_zones; i++) {
					free(zones[i].name);
					free(zones[i].real);
				}
				free(zones);
				exit(rc);
			}
			close(fds[1]);
			run[running++] = (child){pid, fds[0], next++};
			distinct++;
		}
		if (running == 0)
			break;
		int status;
		const pid_t pid = wait(&status);
		if (pid < 0)
			die("wait: %s", strerror(errno));
		for (int i = 0; i < running; i++) {
			if (run[i].pid != pid)
				continue;
			stats s;
			const bool got = read(run[i].fd, &s, sizeof(s)) ==
			                 (ssize_t)sizeof(s);
			close(run[i].fd);
			if (!got || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0) {
				failed++;
				fprintf(stderr, "%s: FAILED\n",
				        zones[run[i].zone].name);
			}
			if (got) {
				total.hours += s.hours;
				total.changes += s.changes;
				total.transitions += s.transitions;
				total.samples += s.samples;
				total.brute += s.brute;
				total.spots += s.spots;
				total.type0_dst += s.type0_dst;
				total.footer_only += s.footer_only;
				total.mine_only += s.mine_only;
			}
			run[i] = run[--running];
			break;
		}
	}

	for (size_t i = 0; i < n_zones; i++) {
		if (zones[i].canon == (int)i || zones[i].canon == -2)
			continue;
		links++;
		if (check_link(&zones[i], &zones[zones[i].canon]))
			failed++;
	}

	printf("tz-diff: %ld zone files and %ld links under %s, scale %d: "
	       "%ld hours, %ld changes and %ld transitions +-1 s, %ld "
	       "footer/file spot checks, "
	       "%ld first_at_or_after samples (%ld by brute force); %ld "
	       "changes undone within the hour; glibc/RFC cases left out: "
	       "%ld before a DST type 0, %ld by footers of files without "
	       "transitions; %.1f s\n",
	       distinct, links, root, scale, total.hours, total.changes,
	       total.transitions, total.spots, total.samples, total.brute,
	       total.mine_only, total.type0_dst, total.footer_only, now() - t0);
	if (failed)
		printf("tz-diff: %ld zones FAILED\n", failed);
	for (size_t i = 0; i < n_zones; i++) {
		free(zones[i].name);
		free(zones[i].real);
	}
	free(zones);
	return failed != 0;
}
