/* SPDX-License-Identifier: MIT */
/*
 * bench-counts: in-process latency of evc_counts() through the public
 * API, each figure against a baseline taken in the same run.
 *
 * Usage: bench-counts DB CUSTOMER FROM [ITERATIONS]
 *
 * FROM is the first day of the store's data (YYYY-MM-DD). For CUSTOMER,
 * each zone case runs interleaved with evc_hourly() over the same UTC
 * span, call for call, so that both see the same machine; the line gives
 * both medians and their ratio:
 *
 *   year-day-new-york    day buckets, America/New_York, FROM's year
 *   year-day-kolkata     day buckets, Asia/Kolkata, FROM's year
 *   day-hour-kathmandu   hour buckets, Asia/Kathmandu, 24 h from FROM + 9
 *
 * The totals of each pair must agree over the span they share (the UTC
 * span of the local range), else the program fails: a fast wrong answer
 * does not pass. Then, over the 30 days from FROM, every customer in day
 * buckets (streamed) and the top 10 customers with their day buckets,
 * with the number of customers and the grand total, for comparison with
 * another engine answering the same question (tests/bench-duckdb.mjs).
 */
#include <evcount.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

struct tally {
	size_t customers, buckets;
	uint64_t total;
	int64_t start, end; /* of the last customer's range */
};

static int add_up(const evc_customer_counts *c, void *payload)
{
	struct tally *t = payload;
	t->customers++;
	t->buckets += c->n_buckets;
	t->total += c->total;
	t->start = c->start;
	t->end = c->end;
	return 0;
}

static evc_store *store;

static void fail(const char *what)
{
	fprintf(stderr, "bench-counts: %s: %s\n", what, evc_errmsg(store));
	exit(1);
}

static int64_t parse_in(const char *ts, const char *tz)
{
	int64_t t;
	if (evc_parse_time_in(ts, tz, &t) != EVC_OK) {
		fprintf(stderr, "bench-counts: %s\n", evc_errmsg(NULL));
		exit(2);
	}
	return t;
}

static double run_counts(const evc_counts_options *o, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	const double t0 = now_us();
	if (evc_counts(store, o, add_up, t) != EVC_OK)
		fail("evc_counts");
	return now_us() - t0;
}

static double run_hourly(const char *id, int64_t start, int64_t end,
                         uint64_t *total)
{
	evc_hourly_result *r;
	const double t0 = now_us();
	if (evc_hourly(store, id, start, end, &r) != EVC_OK)
		fail("evc_hourly");
	const double us = now_us() - t0;
	*total = r->total;
	evc_hourly_free(r);
	return us;
}

/* A zone case against evc_hourly() over its UTC span. */
static int zone_case(const char *name, const char *id, const char *from,
                     const char *to, const char *bucket, const char *tz,
                     long iters)
{
	const char *customers[] = {id};
	evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;
	o.customers = customers;
	o.n_customers = 1;
	o.start = parse_in(from, tz);
	o.end = parse_in(to, tz);
	o.bucket = bucket;
	o.tz = tz;
	double *a = malloc((size_t)iters * sizeof(*a));
	double *b = malloc((size_t)iters * sizeof(*b));
	struct tally t;
	uint64_t hourly_total = 0;
	if (!a || !b) {
		fprintf(stderr, "bench-counts: out of memory\n");
		exit(1);
	}
	for (long i = -5; i < iters; i++) {
		const double x = run_counts(&o, &t);
		const double y = run_hourly(id, o.start, o.end, &hourly_total);
		if (i >= 0) {
			a[i] = x;
			b[i] = y;
		}
	}
	const double ma = median(a, iters), mb = median(b, iters);
	printf("%-20s %5zu buckets total %-8" PRIu64 " p50 %8.1f us; "
	       "evc_hourly same span p50 %8.1f us; ratio %.2fx (target <= "
	       "1.5x)\n",
	       name, t.buckets, t.total, ma, mb, ma / mb);
	free(a);
	free(b);
	if (t.total != hourly_total) {
		fprintf(stderr,
		        "bench-counts: %s: total %" PRIu64
		        " but evc_hourly says %" PRIu64 "\n",
		        name, t.total, hourly_total);
		return 1;
	}
	return 0;
}

static void all_case(const char *name, int64_t start, int64_t end, size_t top,
                     long iters)
{
	evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;
	o.start = start;
	o.end = end;
	o.bucket = "day";
	o.top = top;
	double *v = malloc((size_t)iters * sizeof(*v));
	struct tally t;
	if (!v) {
		fprintf(stderr, "bench-counts: out of memory\n");
		exit(1);
	}
	for (long i = -2; i < iters; i++) {
		const double x = run_counts(&o, &t);
		if (i >= 0)
			v[i] = x;
	}
	printf("%-20s %zu customers, %zu buckets, total %" PRIu64
	       ": p50 %.2f ms over %ld runs\n",
	       name, t.customers, t.buckets, t.total, median(v, iters) / 1e3,
	       iters);
	free(v);
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr,
		        "usage: bench-counts DB CUSTOMER FROM [ITERATIONS]\n");
		return 2;
	}
	const long iters = argc == 5 ? strtol(argv[4], NULL, 10) : 200;
	const char *id = argv[2], *from = argv[3];
	if (iters < 1 || strlen(from) != 10) {
		fprintf(stderr, "bench-counts: bad FROM or iteration count\n");
		return 2;
	}
	if (evc_open(&store, argv[1], EVC_OPEN_READONLY) != EVC_OK) {
		fprintf(stderr, "bench-counts: %s\n", evc_errmsg(NULL));
		return 1;
	}
	/* FROM's year, and the day of 24 h in the middle of the data. */
	char y0[16], y1[16], d0[32], d1[32];
	const int year = atoi(from);
	snprintf(y0, sizeof(y0), "%04d-01-01", year % 10000);
	snprintf(y1, sizeof(y1), "%04d-01-01", (year + 1) % 10000);
	const int64_t mid = parse_in(from, "UTC") + 9 * 86400;
	char buf[EVC_TIME_BUFSZ];
	evc_format_time(mid, buf, sizeof(buf));
	snprintf(d0, sizeof(d0), "%.10sT00:00:00", buf);
	evc_format_time(mid + 86400, buf, sizeof(buf));
	snprintf(d1, sizeof(d1), "%.10sT00:00:00", buf);

	int bad = 0;
	bad |= zone_case("year-day-new-york", id, y0, y1, "day",
	                 "America/New_York", iters / 10 ? iters / 10 : 1);
	bad |= zone_case("year-day-kolkata", id, y0, y1, "day", "Asia/Kolkata",
	                 iters / 10 ? iters / 10 : 1);
	bad |= zone_case("day-hour-kathmandu", id, d0, d1, "hour",
	                 "Asia/Kathmandu", iters);

	const int64_t s = parse_in(from, "UTC");
	const long n = iters / 20 > 5 ? iters / 20 : 5;
	all_case("all-30d-day", s, s + 30 * 86400, 0, n);
	all_case("top10-30d-day", s, s + 30 * 86400, 10, n);
	evc_close(store);
	return bad;
}
