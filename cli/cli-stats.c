/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli stats: the store's summary, from evc_store_info(), as table
 * (one "name  value" line each), csv (a header and one row) or json (one
 * object). The names are the same in the three formats.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>

static void put_json_time(const char *t)
{
	if (t)
		printf("\"%s\"", t);
	else
		fputs("null", stdout);
}

int cli_stats(evc_store *store, enum cli_format format)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];
	const char *f = NULL, *l = NULL;
	evc_store_summary s;
	int rc;

	rc = evc_store_info(store, &s);
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	/* An empty store has no span: nothing rather than the epoch. */
	if (s.rows_counted) {
		f = cli_fmt_time(s.first_minute, first);
		l = cli_fmt_time(s.last_minute, last);
	}
	switch (format) {
	case FORMAT_TABLE:
	case FORMAT_CHART: /* not offered: parse_format() */
		printf("customers      %" PRIu64 "\n"
		       "sources        %" PRIu64 "\n"
		       "rows_counted   %" PRIu64 "\n"
		       "rows_rejected  %" PRIu64 "\n"
		       "first_minute   %s\n"
		       "last_minute    %s\n"
		       "file_size      %" PRIu64 "\n",
		       s.customers, s.sources, s.rows_counted, s.rows_rejected,
		       f ? f : "-", l ? l : "-", s.file_size);
		break;
	case FORMAT_CSV:
		puts("customers,sources,rows_counted,rows_rejected,"
		     "first_minute,last_minute,file_size");
		printf("%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		       ",%s,%s,%" PRIu64 "\n",
		       s.customers, s.sources, s.rows_counted, s.rows_rejected,
		       f ? f : "", l ? l : "", s.file_size);
		break;
	case FORMAT_JSON:
		printf("{\"customers\":%" PRIu64 ",\"sources\":%" PRIu64
		       ",\"rows_counted\":%" PRIu64
		       ",\"rows_rejected\":%" PRIu64 ",\"first_minute\":",
		       s.customers, s.sources, s.rows_counted, s.rows_rejected);
		put_json_time(f);
		fputs(",\"last_minute\":", stdout);
		put_json_time(l);
		printf(",\"file_size\":%" PRIu64 "}\n", s.file_size);
		break;
	}
	return EXIT_OK;
}
