/* SPDX-License-Identifier: MIT */
/*
 * bench-query: in-process latency of evc_hourly() through the public API.
 *
 * Usage: bench-query DB CUSTOMER START END [ITERATIONS]
 *
 * Opens DB read-only, runs the same query ITERATIONS times (default 1000)
 * after a few warm-up calls, and prints the median, 90th and 99th
 * percentile in microseconds with the result's bucket count and total, so
 * a fast but wrong answer shows. Wall-clock per call, so run it on a quiet
 * machine or compare figures taken in the same run.
 */
#include <evcount.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	evc_store *store = NULL;
	int64_t start, end;

	if (argc < 5 || argc > 6) {
		fprintf(
		    stderr,
		    "usage: bench-query DB CUSTOMER START END [ITERATIONS]\n");
		return 2;
	}
	const long iters = argc == 6 ? strtol(argv[5], NULL, 10) : 1000;
	if (iters < 1) {
		fprintf(stderr, "bench-query: bad iteration count\n");
		return 2;
	}
	if (evc_parse_time(argv[3], &start) != EVC_OK ||
	    evc_parse_time(argv[4], &end) != EVC_OK) {
		fprintf(stderr, "bench-query: %s\n", evc_errmsg(NULL));
		return 2;
	}
	if (evc_open(&store, argv[1], EVC_OPEN_READONLY) != EVC_OK) {
		fprintf(stderr, "bench-query: %s\n", evc_errmsg(NULL));
		return 1;
	}
	double *lat = malloc((size_t)iters * sizeof(*lat));
	if (!lat) {
		fprintf(stderr, "bench-query: out of memory\n");
		return 1;
	}
	evc_hourly_result *r = NULL;
	size_t buckets = 0;
	uint64_t total = 0;
	for (long i = -10; i < iters; i++) {
		const double t0 = now_us();
		const int rc = evc_hourly(store, argv[2], start, end, &r);
		const double t1 = now_us();
		if (rc != EVC_OK) {
			fprintf(stderr, "bench-query: %s\n", evc_errmsg(store));
			return 1;
		}
		buckets = r->n_buckets;
		total = r->total;
		evc_hourly_free(r);
		if (i >= 0)
			lat[i] = t1 - t0;
	}
	qsort(lat, (size_t)iters, sizeof(*lat), cmp_double);
	printf("buckets=%zu total=%" PRIu64 " iterations=%ld p50=%.1f us "
	       "p90=%.1f us p99=%.1f us\n",
	       buckets, total, iters, lat[iters / 2], lat[iters * 9 / 10],
	       lat[iters * 99 / 100]);
	free(lat);
	evc_close(store);
	return 0;
}
