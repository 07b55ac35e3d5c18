/* SPDX-License-Identifier: MIT */
/*
 * gen-events: a fast, deterministic generator of synthetic event CSV for
 * fixtures, the sample data and benchmarks.
 *
 * Usage: gen-events [OPTION]...
 *
 * Writes rows `customer_id,event_type,transaction_id,timestamp` without a
 * header, each ending with LF, shaped like the production export.
 *
 *   --rows N          rows to write, malformed ones included (default 1000)
 *   --customers N     distinct customers, 1 to 10000000 (default 1000)
 *   --days N          length of the period in days (default 30)
 *   --start DATE      first day of the period, YYYY-MM-DD, UTC
 *                     (default 2021-03-01)
 *   --seed N          PRNG seed (default 1). The same options and seed give
 *                     the same bytes on every platform.
 *   --malformed P     per mille of malformed rows, 0 to 1000 (default 0);
 *                     the other rows are those written without it
 *   --zipf S          Zipf exponent of customer popularity, >= 0; 0 is
 *                     uniform (default 1.1: with 1000 customers the top one
 *                     sends about 18% of the rows)
 *   -o, --output FILE write to FILE instead of standard output
 *   -h, --help        show a summary of the options
 *
 * Shape of the data:
 * - Customer ids are 32 lowercase hex characters derived from the customer
 *   number alone, so customer 0 (the most popular) has the same id whatever
 *   the seed or the other options.
 * - Timestamps advance steadily across [start, start + days) with a jitter
 *   of up to 3 minutes either way; 5% of the rows are far out of order
 *   (uniform anywhere in the period). Every UTC instant lies in the period.
 * - Timestamps look like `2021-03-01 00:01:11.055+00`: milliseconds with
 *   trailing zeros dropped (so 0 to 3 fraction digits, as in the export),
 *   offset `+00` on 90% of the rows, else `+00:00`, `Z`, `+05:30` or
 *   `-08:00` with the local time shifted to keep the UTC instant.
 * - The event type is INGEST. Transaction ids are random v4 UUIDs, but 2%
 *   are not UUIDs: a UUID with a `-N` suffix, the event time written as
 *   `Wed Mar  3 12:39:35 PST 2021`, or test strings such as `test1`.
 * - Malformed rows, when asked for, are still one line each (no quotes), so
 *   that line counts stay simple: 3 or 5 fields, an empty customer id, an
 *   impossible date (February 30), hour 24, minute 60, month 13, an empty or
 *   a non-time timestamp.
 *
 * Only libc is used; rows are formatted by hand into a large buffer because
 * printf per row would make the generator slower than what it feeds.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY    86400000LL
#define JITTER_MS     180000LL /* +-3 minutes */
#define OUT_BUFSZ     (1u << 20)
#define MAX_ROW       256 /* bytes; the longest row is about 120 */
#define MAX_CUSTOMERS 10000000ULL
#define MAX_DAYS      3000000ULL
#define DEFAULT_ZIPF  1.1

/* Offsets in minutes and how they are written; the first is the common one
 * and is chosen with probability 900/1000, the others share the rest. */
static const struct {
	int minutes;
	const char *text;
} offsets[] = {
    {0, "+00"}, {0, "+00:00"}, {0, "Z"}, {330, "+05:30"}, {-480, "-08:00"},
};

static const char hexdig[] = "0123456789abcdef";

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1) with 53 random bits: exact in any IEEE double, so the
 * output does not depend on the platform. */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n) for n <= 2^53; the bias is far below what matters. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(rng_unit(r) * (double)n);
}

/* ---- Calendar (proleptic Gregorian, H. Hinnant's algorithms) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, unsigned m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30,
	                         31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* ---- Hand formatting ---- */

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

static char *put4(char *p, unsigned v)
{
	p = put2(p, v / 100);
	return put2(p, v % 100);
}

static char *putstr(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *putu64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *puthex(char *p, uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		*p++ = hexdig[(v >> (4 * i)) & 0xf];
	return p;
}

static char *put_uuid(char *p, struct rng *r)
{
	uint64_t hi = rng_next(r), lo = rng_next(r);

	/* Version 4, variant 10xx, like the UUIDs in the export. */
	hi = (hi & ~0xf000ULL) | 0x4000ULL;
	lo = (lo & ~(0xcULL << 60)) | (0x8ULL << 60);
	p = puthex(p, hi >> 32, 8);
	*p++ = '-';
	p = puthex(p, hi >> 16, 4);
	*p++ = '-';
	p = puthex(p, hi, 4);
	*p++ = '-';
	p = puthex(p, lo >> 48, 4);
	*p++ = '-';
	return puthex(p, lo, 12);
}

/* Converting a day number to a date is the costly part of a timestamp, and
 * consecutive rows mostly fall on the same day. */
struct day_cache {
	int64_t day;
	int64_t y;
	unsigned m, d;
};

static void day_lookup(struct day_cache *c, int64_t day)
{
	if (day != c->day) {
		c->day = day;
		civil_from_days(day, &c->y, &c->m, &c->d);
	}
}

/* Broken-down local time of a UTC instant at an offset. */
struct tm_parts {
	int64_t y;
	unsigned mon, d, h, min, s, ms;
	int64_t day;
};

static void split_time(struct day_cache *c, int64_t utc_ms, int off_min,
                       struct tm_parts *t)
{
	int64_t local = utc_ms + (int64_t)off_min * 60000;
	int64_t day = floor_div(local, MS_PER_DAY);
	unsigned ms_of_day = (unsigned)(local - day * MS_PER_DAY);

	day_lookup(c, day);
	t->day = day;
	t->y = c->y;
	t->mon = c->m;
	t->d = c->d;
	t->h = ms_of_day / 3600000;
	t->min = ms_of_day / 60000 % 60;
	t->s = ms_of_day / 1000 % 60;
	t->ms = ms_of_day % 1000;
}

static char *put_date(char *p, int64_t y, unsigned m, unsigned d)
{
	p = put4(p, (unsigned)y);
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	return put2(p, d);
}

static char *put_clock(char *p, unsigned h, unsigned min, unsigned s)
{
	p = put2(p, h);
	*p++ = ':';
	p = put2(p, min);
	*p++ = ':';
	return put2(p, s);
}

/* Milliseconds with trailing zeros dropped, as the export writes them. */
static char *put_fraction(char *p, unsigned ms)
{
	if (ms == 0)
		return p;
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	if (ms % 100 == 0)
		return p;
	*p++ = (char)('0' + ms / 10 % 10);
	if (ms % 10 == 0)
		return p;
	*p++ = (char)('0' + ms % 10);
	return p;
}

/* The event time as `date` prints it in California; fixed at PST because
 * the export's strings are, whatever the season. */
static char *put_pst_string(char *p, struct day_cache *c, int64_t utc_ms)
{
	static const char wdays[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm_parts t;

	split_time(c, utc_ms, -480, &t);
	/* 1970-01-01 was a Thursday. */
	int wd = (int)(((t.day % 7) + 7 + 4) % 7);

	memcpy(p, wdays + 3 * wd, 3);
	p += 3;
	*p++ = ' ';
	memcpy(p, months + 3 * (t.mon - 1), 3);
	p += 3;
	*p++ = ' ';
	*p++ = t.d < 10 ? ' ' : (char)('0' + t.d / 10);
	*p++ = (char)('0' + t.d % 10);
	*p++ = ' ';
	p = put_clock(p, t.h, t.min, t.s);
	p = putstr(p, " PST ");
	return put4(p, (unsigned)t.y);
}

static char *put_txid(char *p, struct rng *r, struct day_cache *c,
                      int64_t utc_ms)
{
	/* 2% are not UUIDs, in roughly the export's mix. */
	if (rng_below(r, 1000) >= 20)
		return put_uuid(p, r);

	uint64_t kind = rng_below(r, 100);

	if (kind < 60) {
		p = put_uuid(p, r);
		*p++ = '-';
		*p++ = (char)('0' + rng_below(r, 4));
		return p;
	}
	if (kind < 85)
		return put_pst_string(p, c, utc_ms);
	if (kind < 95) {
		static const char *const tests[] = {"test1", "test2", "qwer"};
		return putstr(p, tests[rng_below(r, 3)]);
	}
	p = putstr(p, "alice-testing-proxy-ingest-");
	return putu64(p, rng_below(r, 100));
}

/* ---- Zipf weights without libm ----
 *
 * Only + - * / are used, which IEEE 754 rounds the same everywhere, so the
 * weights (and hence the output) do not depend on the libm at hand. */

/* Natural logarithm of x >= 1. */
static double log_ge1(double x)
{
	static const double ln2 = 0.6931471805599453094;
	int e = 0;

	/* x = m * 2^e with m in [0.75, 1.5), so the series below converges
	 * fast. */
	while (x >= 1.5) {
		x /= 2;
		e++;
	}
	/* log(m) = 2 atanh(z), z = (m - 1) / (m + 1), |z| <= 0.2 */
	double z = (x - 1) / (x + 1), z2 = z * z, term = z, sum = 0;

	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return 2 * sum + e * ln2;
}

/* e^y for y <= 0. */
static double exp_le0(double y)
{
	static const double ln2 = 0.6931471805599453094;
	int k = 0;

	/* y = r - k ln2 with r in (-ln2, 0]. */
	while (y <= -ln2) {
		y += ln2;
		k++;
		if (k > 1100)
			return 0; /* below the smallest double */
	}
	double sum = 1, term = 1;

	for (int n = 1; n < 25; n++) {
		term *= y / n;
		sum += term;
	}
	while (k--)
		sum /= 2;
	return sum;
}

/* ---- Generator ---- */

struct gen {
	uint64_t rows;
	uint64_t customers;
	uint64_t days;
	uint64_t seed;
	uint64_t malformed; /* per mille */
	double zipf;
	int64_t start_ms;
	char *ids;   /* customers * 32 hex characters, not NUL-terminated */
	double *cdf; /* cdf[k]: probability of customers 0..k */
};

static void make_ids(struct gen *g)
{
	for (uint64_t k = 0; k < g->customers; k++) {
		/* The id depends on k alone, never on the seed. */
		uint64_t st = k;
		uint64_t a = splitmix64(&st), b = splitmix64(&st);
		char *p = g->ids + 32 * k;

		p = puthex(p, a, 16);
		puthex(p, b, 16);
	}
}

static void make_cdf(struct gen *g)
{
	double sum = 0;

	for (uint64_t k = 0; k < g->customers; k++) {
		sum += exp_le0(-g->zipf * log_ge1((double)(k + 1)));
		g->cdf[k] = sum;
	}
	for (uint64_t k = 0; k < g->customers; k++)
		g->cdf[k] /= sum;
	/* Rounding must not leave a gap above the last customer. */
	g->cdf[g->customers - 1] = 2.0;
}

static uint64_t pick_customer(const struct gen *g, struct rng *r)
{
	double u = rng_unit(r);
	uint64_t lo = 0, hi = g->customers - 1;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (g->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int64_t pick_time(const struct gen *g, struct rng *r, uint64_t row)
{
	int64_t period = (int64_t)g->days * MS_PER_DAY;

	/* 5% far out of order. */
	if (rng_below(r, 100) < 5)
		return g->start_ms + (int64_t)rng_below(r, (uint64_t)period);

	double step = (double)period / (double)g->rows;
	int64_t t = g->start_ms + (int64_t)((double)row * step) +
	            (int64_t)rng_below(r, 2 * JITTER_MS + 1) - JITTER_MS;

	if (t < g->start_ms)
		t = g->start_ms;
	if (t >= g->start_ms + period)
		t = g->start_ms + period - 1;
	return t;
}

enum malformed_kind {
	BAD_3_FIELDS,
	BAD_5_FIELDS,
	BAD_EMPTY_CUSTOMER,
	BAD_FEB_30,
	BAD_HOUR_24,
	BAD_MINUTE_60,
	BAD_MONTH_13,
	BAD_EMPTY_TIME,
	BAD_NOT_A_TIME,
	BAD_KINDS
};

static char *put_row(char *p, const struct gen *g, struct rng *r,
                     struct day_cache *c, uint64_t row)
{
	int bad = -1;
	/* One draw per row, whatever the outcome, and every field drawn even
	 * when left out: --malformed then only spoils the rows it hits and
	 * leaves the others as they are without it. */
	uint64_t x = rng_next(r);

	if (((x >> 32) * 1000 >> 32) < g->malformed)
		bad = (int)((x & 0xffffffffu) % BAD_KINDS);

	uint64_t cust = pick_customer(g, r);
	int64_t utc = pick_time(g, r, row);
	uint64_t o = rng_below(r, 1000);
	int off = o < 900 ? 0 : 1 + (int)((o - 900) / 25);

	if (bad != BAD_EMPTY_CUSTOMER) {
		memcpy(p, g->ids + 32 * cust, 32);
		p += 32;
	}
	p = putstr(p, ",INGEST,");
	char *txid = p;

	p = put_txid(p, r, c, utc);
	*p++ = ',';
	if (bad == BAD_3_FIELDS)
		p = txid;

	struct tm_parts t;

	split_time(c, utc, offsets[off].minutes, &t);
	switch (bad) {
	case BAD_FEB_30:
		t.mon = 2;
		t.d = 30;
		break;
	case BAD_HOUR_24:
		t.h = 24;
		break;
	case BAD_MINUTE_60:
		t.min = 60;
		break;
	case BAD_MONTH_13:
		t.mon = 13;
		break;
	case BAD_EMPTY_TIME:
		*p++ = '\n';
		return p;
	case BAD_NOT_A_TIME:
		p = putstr(p, "not a time");
		*p++ = '\n';
		return p;
	default:
		break;
	}
	p = put_date(p, t.y, t.mon, t.d);
	*p++ = ' ';
	p = put_clock(p, t.h, t.min, t.s);
	p = put_fraction(p, t.ms);
	p = putstr(p, offsets[off].text);
	if (bad == BAD_5_FIELDS)
		p = putstr(p, ",extra");
	*p++ = '\n';
	return p;
}

static int generate(const struct gen *g, FILE *out)
{
	struct rng r;
	struct day_cache c = {INT64_MIN, 0, 0, 0};
	char *buf = malloc(OUT_BUFSZ + MAX_ROW);
	char *p;

	if (!buf)
		return -1;
	rng_seed(&r, g->seed);
	p = buf;
	for (uint64_t row = 0; row < g->rows; row++) {
		p = put_row(p, g, &r, &c, row);
		if ((size_t)(p - buf) >= OUT_BUFSZ) {
			if (fwrite(buf, 1, (size_t)(p - buf), out) !=
			    (size_t)(p - buf))
				break;
			p = buf;
		}
	}
	if (p > buf)
		fwrite(buf, 1, (size_t)(p - buf), out);
	free(buf);
	return ferror(out) ? -1 : 0;
}

/* ---- Command line ---- */

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "Usage: %s [OPTION]...\n"
	        "Write synthetic event CSV (customer_id,event_type,"
	        "transaction_id,timestamp).\n"
	        "\n"
	        "  --rows N          rows to write (default 1000)\n"
	        "  --customers N     distinct customers (default 1000)\n"
	        "  --days N          length of the period in days "
	        "(default 30)\n"
	        "  --start DATE      first day, YYYY-MM-DD (default "
	        "2021-03-01)\n"
	        "  --seed N          PRNG seed (default 1)\n"
	        "  --malformed P     per mille of malformed rows (default 0)\n"
	        "  --zipf S          Zipf exponent of customer popularity "
	        "(default %.1f)\n"
	        "  -o, --output FILE write to FILE instead of standard "
	        "output\n"
	        "  -h, --help        show this help\n",
	        prog, DEFAULT_ZIPF);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_date(const char *s, int64_t *days)
{
	unsigned v[3] = {0, 0, 0};
	const unsigned widths[3] = {4, 2, 2};

	for (int f = 0; f < 3; f++) {
		for (unsigned i = 0; i < widths[f]; i++, s++) {
			if (*s < '0' || *s > '9')
				return -1;
			v[f] = v[f] * 10 + (unsigned)(*s - '0');
		}
		if (*s != (f < 2 ? '-' : '\0'))
			return -1;
		s++;
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    (int)v[2] > days_in_month(v[0], v[1]))
		return -1;
	*days = days_from_civil(v[0], v[1], v[2]);
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_ROWS = 256,
		O_CUSTOMERS,
		O_DAYS,
		O_START,
		O_SEED,
		O_BAD,
		O_ZIPF
	};
	static const struct option longopts[] = {
	    {"rows", required_argument, NULL, O_ROWS},
	    {"customers", required_argument, NULL, O_CUSTOMERS},
	    {"days", required_argument, NULL, O_DAYS},
	    {"start", required_argument, NULL, O_START},
	    {"seed", required_argument, NULL, O_SEED},
	    {"malformed", required_argument, NULL, O_BAD},
	    {"zipf", required_argument, NULL, O_ZIPF},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct gen g = {
	    .rows = 1000,
	    .customers = 1000,
	    .days = 30,
	    .seed = 1,
	    .malformed = 0,
	    .zipf = DEFAULT_ZIPF,
	};
	int64_t start_day = days_from_civil(2021, 3, 1);
	const char *output = NULL;
	const char *prog = argv[0] ? argv[0] : "gen-events";
	int opt;

	while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		int bad = 0;
		char *end;

		switch (opt) {
		case O_ROWS:
			bad = parse_u64(optarg, 0, UINT64_MAX, &g.rows);
			break;
		case O_CUSTOMERS:
			bad = parse_u64(optarg, 1, MAX_CUSTOMERS, &g.customers);
			break;
		case O_DAYS:
			bad = parse_u64(optarg, 1, MAX_DAYS, &g.days);
			break;
		case O_START:
			bad = parse_date(optarg, &start_day);
			break;
		case O_SEED:
			bad = parse_u64(optarg, 0, UINT64_MAX, &g.seed);
			break;
		case O_BAD:
			bad = parse_u64(optarg, 0, 1000, &g.malformed);
			break;
		case O_ZIPF:
			errno = 0;
			g.zipf = strtod(optarg, &end);
			bad = errno || end == optarg || *end ||
			      !(g.zipf >= 0) || g.zipf > 100;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout, prog);
			return 0;
		default:
			usage(stderr, prog);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "%s: invalid value for --%s: '%s'\n",
			        prog, longopts[opt - O_ROWS].name, optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
		        argv[optind]);
		usage(stderr, prog);
		return 2;
	}

	/* Local times, shifted by up to a day, must stay 4-digit years. */
	int64_t y_first, y_last;
	unsigned m, d;

	civil_from_days(start_day - 1, &y_first, &m, &d);
	civil_from_days(start_day + (int64_t)g.days, &y_last, &m, &d);
	if (y_first < 0 || y_last > 9999) {
		fprintf(stderr,
		        "%s: the period must lie within 0000-01-02 and "
		        "9999-12-30\n",
		        prog);
		return 2;
	}
	g.start_ms = start_day * MS_PER_DAY;

	g.ids = malloc(32 * g.customers);
	g.cdf = malloc(sizeof(*g.cdf) * g.customers);
	if (!g.ids || !g.cdf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	make_ids(&g);
	make_cdf(&g);

	FILE *out = stdout;

	if (output && !(out = fopen(output, "wb"))) {
		fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
		free(g.ids);
		free(g.cdf);
		return 1;
	}
	int rc = generate(&g, out);

	if (fclose(out) != 0)
		rc = -1;
	if (rc) {
		fprintf(stderr, "%s: %s: write error: %s\n", prog,
		        output ? output : "<stdout>", strerror(errno));
		if (output)
			remove(output);
	}
	free(g.ids);
	free(g.cdf);
	return rc ? 1 : 0;
}
