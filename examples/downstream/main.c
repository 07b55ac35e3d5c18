/* SPDX-License-Identifier: MIT */
/*
 * A program outside the evcount tree, built against an installed
 * libevcount (see Makefile and meson.build here): it opens a private
 * in-memory store, ingests a small file and prints one hour's bucket.
 *
 * Usage: downstream FILE.csv CUSTOMER HOUR
 * e.g.   downstream events.csv c1 2021-03-01T02:00:00Z
 */
#include <evcount.h>

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	evc_store *store = NULL;
	evc_hourly_result *res = NULL;
	int64_t hour;
	char buf[EVC_TIME_BUFSZ];

	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE.csv CUSTOMER HOUR\n", argv[0]);
		return 2;
	}
	if (evc_parse_time(argv[3], &hour) != EVC_OK ||
	    evc_open(&store, ":memory:",
	             EVC_OPEN_READWRITE | EVC_OPEN_CREATE) != EVC_OK) {
		fprintf(stderr, "%s\n", evc_errmsg(NULL));
		return 1;
	}
	if (evc_ingest_csv(store, argv[1], NULL, NULL) != EVC_OK ||
	    evc_hourly(store, argv[2], hour, hour + 3600, &res) != EVC_OK) {
		fprintf(stderr, "%s\n", evc_errmsg(store));
		evc_close(store);
		return 1;
	}
	evc_format_time(res->buckets[0].hour, buf, sizeof(buf));
	printf("%s %s %" PRIu64 "%s (libevcount %s)\n", argv[2], buf,
	       res->buckets[0].count, res->buckets[0].partial ? " partial" : "",
	       evc_version());
	evc_hourly_free(res);
	evc_close(store);
	return 0;
}
