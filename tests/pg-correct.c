/* SPDX-License-Identifier: MIT */
/*
 * What tests/test-pg-diff.sh needs of the library that the command line
 * does not offer (yet): corrections and tracked streams, on any store.
 *
 *   pg-correct STORE retract FILE...
 *   pg-correct STORE forget CUSTOMER_ID
 *   pg-correct STORE prune TS
 *   pg-correct STORE stream NAME OFFSET      (the piece on stdin)
 *
 * Prints what the call reports (the store's sizes left out: they are the
 * backend's own) on one line; exits 1 with the library's message on
 * stderr when it fails.
 */
#include <evcount.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: pg-correct STORE retract FILE... | forget ID "
	                "| prune TS | stream NAME OFFSET\n");
	return 2;
}

static void print_correction(const evc_correction_stats *st)
{
	printf("events %" PRIu64 " rows %" PRIu64 " customers %" PRIu64
	       " removed %" PRIu64 " hours %" PRIu64 " hours_removed %" PRIu64
	       " sources %" PRIu64 "\n",
	       st->events, st->rows, st->customers, st->customers_removed,
	       st->hours, st->hours_removed, st->sources);
}

int main(int argc, char **argv)
{
	evc_correction_stats st;
	evc_store *s;
	int rc;

	if (argc < 4)
		return usage();
	const char *cmd = argv[2];
	if (evc_open(&s, argv[1], EVC_OPEN_READWRITE) != EVC_OK) {
		fprintf(stderr, "pg-correct: %s\n", evc_errmsg(NULL));
		return 1;
	}
	if (strcmp(cmd, "retract") == 0) {
		rc = evc_retract(s, (const char *const *)argv + 3,
		                 (size_t)(argc - 3), 0, &st);
		if (rc == EVC_OK)
			print_correction(&st);
	} else if (strcmp(cmd, "forget") == 0 && argc == 4) {
		rc = evc_forget(s, argv[3], 0, &st);
		if (rc == EVC_OK)
			print_correction(&st);
	} else if (strcmp(cmd, "prune") == 0 && argc == 4) {
		int64_t before;
		rc = evc_parse_time(argv[3], &before);
		if (rc == EVC_OK)
			rc = evc_prune(s, before, 0, &st);
		if (rc == EVC_OK)
			print_correction(&st);
	} else if (strcmp(cmd, "stream") == 0 && argc == 5) {
		evc_ingest_stats in;
		uint64_t committed = 0;
		rc = evc_ingest_stream(s, argv[3], strtoull(argv[4], NULL, 10),
		                       0, NULL, &in, &committed);
		printf("committed %" PRIu64 " counted %" PRIu64
		       " rejected %" PRIu64 "\n",
		       committed, in.rows_counted, in.rows_rejected);
	} else {
		evc_close(s);
		return usage();
	}
	if (rc != EVC_OK)
		fprintf(stderr, "pg-correct: %s\n",
		        evc_errmsg(rc == EVC_EINVAL ? NULL : s));
	evc_close(s);
	return rc == EVC_OK ? 0 : 1;
}
