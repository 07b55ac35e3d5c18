/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli retract, forget and prune: the library's corrections, each
 * reported on stdout as one line saying what it took out of the store
 * (with --dry-run, what it would take).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void print_bytes(uint64_t n)
{
	if (n < 1000000)
		printf("%.1f kB", (double)n / 1e3);
	else if (n < 1000000000)
		printf("%.1f MB", (double)n / 1e6);
	else
		printf("%.2f GB", (double)n / 1e9);
}

/* "; store 1.2 MB, now 0.4 MB": the space given back. */
static void print_size(const evc_correction_stats *st, bool dry_run)
{
	if (dry_run || st->size_before == 0)
		return;
	fputs("; store ", stdout);
	print_bytes(st->size_before);
	fputs(", now ", stdout);
	print_bytes(st->size_after);
}

static void print_removed(const evc_correction_stats *st)
{
	printf("%" PRIu64 " event%s, %" PRIu64 " customer%s", st->events,
	       plural(st->events), st->customers, plural(st->customers));
	if (st->customers_removed)
		printf(" (%" PRIu64 " left with none, removed)",
		       st->customers_removed);
	printf(", %" PRIu64 " hour%s", st->hours, plural(st->hours));
}

static int failed(evc_store *store, int rc)
{
	fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
	return EXIT_FAIL;
}

int cli_retract(evc_store *store, const char *const *files, size_t n,
                bool dry_run)
{
	evc_correction_stats st;
	const int rc = evc_retract(store, files, n,
	                           dry_run ? EVC_CORRECT_DRY_RUN : 0, &st);

	if (rc != EVC_OK)
		return failed(store, rc);
	printf("%s ", dry_run ? "would retract" : "retracted");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", files[i]);
	printf(": %" PRIu64 " row%s in %" PRIu64 " source%s, ", st.rows,
	       plural(st.rows), st.sources, plural(st.sources));
	print_removed(&st);
	if (st.hours_removed)
		printf(" (%" PRIu64 " left empty, removed)", st.hours_removed);
	putchar('\n');
	return EXIT_OK;
}

int cli_forget(evc_store *store, const char *const *ids, size_t n, bool dry_run)
{
	for (size_t i = 0; i < n; i++) {
		evc_correction_stats st;
		const int rc = evc_forget(
		    store, ids[i], dry_run ? EVC_CORRECT_DRY_RUN : 0, &st);
		if (rc != EVC_OK)
			return failed(store, rc);
		printf("%s customer ", dry_run ? "would forget" : "forgot");
		cli_put_json_string(stdout, ids[i]);
		if (st.customers == 0) {
			puts(": no counts (an unknown customer)");
			continue;
		}
		printf(": %" PRIu64 " event%s in %" PRIu64 " hour%s", st.events,
		       plural(st.events), st.hours, plural(st.hours));
		print_size(&st, dry_run);
		putchar('\n');
	}
	return EXIT_OK;
}

int cli_prune(evc_store *store, int64_t before, bool dry_run)
{
	evc_correction_stats st;
	char t[EVC_TIME_BUFSZ];
	const int rc =
	    evc_prune(store, before, dry_run ? EVC_CORRECT_DRY_RUN : 0, &st);

	if (rc != EVC_OK)
		return failed(store, rc);
	printf("%s counts before %s: ", dry_run ? "would prune" : "pruned",
	       cli_fmt_time(cli_floor_minute(before) * 60, t));
	print_removed(&st);
	print_size(&st, dry_run);
	putchar('\n');
	return EXIT_OK;
}
