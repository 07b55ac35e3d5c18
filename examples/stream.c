/* SPDX-License-Identifier: MIT */
/*
 * Ingest CSV from standard input, as a pipeline stage would: progress and
 * rejected rows are reported on stderr as they happen, a summary on stdout
 * at the end.
 *
 * Usage: gen-events ... | example-stream [STORE]
 *
 * STORE defaults to ":memory:". Standard input is a stream: the store does
 * not track it as a source, so feeding the same data twice counts it twice
 * (evc_ingest_csv() on a file counts it once).
 */
#include <evcount.h>

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

struct report {
	uint64_t rejected;
	uint64_t warned;
	uint64_t progress_calls;
};

/* Called about every MiB, and once at the start. A pipe has no size, so
 * there is no percentage: bytes and rows are what an operator can watch. */
static int on_progress(const evc_progress *p, void *payload)
{
	struct report *r = payload;

	r->progress_calls++;
	if (p->bytes_total)
		fprintf(stderr,
		        "%s: %" PRIu64 "/%" PRIu64 " bytes, %" PRIu64 " rows\n",
		        p->source, p->bytes_done, p->bytes_total, p->rows_read);
	else
		fprintf(stderr, "%s: %" PRIu64 " bytes, %" PRIu64 " rows\n",
		        p->source, p->bytes_done, p->rows_read);
	/* Returning non-zero here would cancel the ingest (EVC_EABORTED),
	 * with nothing of the stream counted. */
	return 0;
}

/* Each rejected row, and each row counted with a warning. The text is not
 * NUL-terminated and is only valid during the call. */
static int on_reject(const evc_reject *rj, void *payload)
{
	struct report *r = payload;

	if (rj->warning) {
		r->warned++;
		return 0;
	}
	r->rejected++;
	fprintf(stderr, "%s:%" PRIu64 ": rejected: %s: %.*s%s\n", rj->source,
	        rj->line, rj->reason, (int)rj->text_len, rj->text,
	        rj->text_truncated ? "..." : "");
	return 0;
}

int main(int argc, char **argv)
{
	evc_store *store = NULL;
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats stats;
	struct report r = {0, 0, 0};
	uint64_t customers;
	int rc;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [STORE] < FILE.csv\n", argv[0]);
		return 2;
	}
	if (evc_open(&store, argc > 1 ? argv[1] : ":memory:",
	             EVC_OPEN_READWRITE | EVC_OPEN_CREATE) != EVC_OK) {
		fprintf(stderr, "open: %s\n", evc_errmsg(NULL));
		return 1;
	}
	opts.on_progress = on_progress;
	opts.on_reject = on_reject;
	opts.payload = &r;
	rc = evc_ingest_fd(store, STDIN_FILENO, "<stdin>", &opts, &stats);
	if (rc != EVC_OK) {
		/* The stream is one transaction: nothing of it was counted. */
		fprintf(stderr, "ingest: %s\n", evc_errmsg(store));
		evc_close(store);
		return 1;
	}
	if (evc_customer_count(store, &customers) != EVC_OK) {
		fprintf(stderr, "count: %s\n", evc_errmsg(store));
		evc_close(store);
		return 1;
	}
	printf("read %" PRIu64 " rows (%" PRIu64 " bytes): %" PRIu64
	       " counted (%" PRIu64 " with warnings), %" PRIu64
	       " rejected; %" PRIu64 " customers in the store\n",
	       stats.rows_read, stats.bytes, stats.rows_counted, r.warned,
	       r.rejected, customers);
	evc_close(store);
	return 0;
}
