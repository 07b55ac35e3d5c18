/* SPDX-License-Identifier: MIT */
/*
 * The libevcount API on one page: open a store, ingest a CSV file, ask for
 * one customer's hourly counts.
 *
 * Usage: example-hourly FILE.csv [STORE]
 *
 * STORE defaults to ":memory:", a private store that disappears on exit; a
 * file name keeps the counts for later runs and for evcount-cli.
 */
#include <evcount.h>

#include <inttypes.h>
#include <stdio.h>

/* Customer 0 of gen-events, the busiest one in examples/data/sample.csv. */
#define CUSTOMER "e220a8397b1dcdaf6e789e6aa1b965f4"

struct counts {
	uint64_t rejected;
	uint64_t warned;
};

/* Lenient ingest skips a bad row and goes on; the callback is where an
 * application logs it. Returning non-zero would abort the whole input. */
static int on_reject(const evc_reject *r, void *payload)
{
	struct counts *c = payload;

	/* Warnings (e.g. a transaction id that is not a UUID) are counted
	 * rows, too common in real exports to be worth a line each. */
	if (r->warning) {
		c->warned++;
		return 0;
	}
	c->rejected++;
	fprintf(stderr, "%s:%" PRIu64 ": rejected: %s\n", r->source, r->line,
	        r->reason);
	return 0;
}

int main(int argc, char **argv)
{
	evc_store *store = NULL;
	evc_hourly_result *res = NULL;
	struct counts c = {0, 0};
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats stats;
	int64_t start, end;
	char hour[EVC_TIME_BUFSZ];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s FILE.csv [STORE]\n", argv[0]);
		return 2;
	}
	if (evc_open(&store, argc > 2 ? argv[2] : ":memory:",
	             EVC_OPEN_READWRITE | EVC_OPEN_CREATE) != EVC_OK) {
		fprintf(stderr, "open: %s\n", evc_errmsg(NULL));
		return 1;
	}

	opts.on_reject = on_reject;
	opts.payload = &c;
	if (evc_ingest_csv(store, argv[1], &opts, &stats) != EVC_OK)
		goto fail;
	printf("read %" PRIu64 " rows: %" PRIu64 " counted (%" PRIu64
	       " with warnings), %" PRIu64 " rejected\n",
	       stats.rows_read, stats.rows_counted, c.warned, c.rejected);

	/* The sample's first day. Store-less calls report through
	 * evc_errmsg(NULL). */
	if (evc_parse_time("2021-03-01", &start) != EVC_OK ||
	    evc_parse_time("2021-03-02T00:00:00Z", &end) != EVC_OK) {
		fprintf(stderr, "parse: %s\n", evc_errmsg(NULL));
		evc_close(store);
		return 1;
	}
	if (evc_hourly(store, CUSTOMER, start, end, &res) != EVC_OK)
		goto fail;

	printf("%s: %" PRIu64 " events\n", CUSTOMER, res->total);
	for (size_t i = 0; i < res->n_buckets; i++) {
		const evc_bucket *b = &res->buckets[i];

		evc_format_time(b->hour, hour, sizeof(hour));
		printf("%s %" PRIu64 "%s\n", hour, b->count,
		       b->partial ? " partial" : "");
	}
	evc_hourly_free(res);
	evc_close(store);
	return 0;

fail:
	fprintf(stderr, "%s\n", evc_errmsg(store));
	evc_close(store);
	return 1;
}
