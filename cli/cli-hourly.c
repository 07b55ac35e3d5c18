/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli hourly: one evc_hourly() call, printed as table, csv, json or
 * a chart (chart.c).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>

static bool shown(const struct hourly_args *a, const evc_bucket *b)
{
	return !a->sparse || b->count != 0;
}

void cli_hourly_json(FILE *f, const struct hourly_args *a,
                     const evc_hourly_result *r, int64_t as_of)
{
	char t[EVC_TIME_BUFSZ];
	bool first = true;

	fputs("{\"customer_id\":", f);
	cli_put_json_string(f, a->customer_id);
	fprintf(f, ",\"start\":\"%s\"", cli_fmt_time(r->start, t));
	fprintf(f, ",\"end\":\"%s\"", cli_fmt_time(r->end, t));
	fprintf(f, ",\"total\":%" PRIu64 ",\"buckets\":[", r->total);
	for (size_t i = 0; i < r->n_buckets; i++) {
		const evc_bucket *b = &r->buckets[i];

		if (!shown(a, b))
			continue;
		fprintf(f,
		        "%s{\"hour\":\"%s\",\"count\":%" PRIu64
		        ",\"partial\":%s}",
		        first ? "" : ",", cli_fmt_time(b->hour, t), b->count,
		        b->partial ? "true" : "false");
		first = false;
	}
	fputc(']', f);
	cli_put_as_of(f, as_of);
	fputs("}\n", f);
}

static void print_csv(const struct hourly_args *a, const evc_hourly_result *r)
{
	char t[EVC_TIME_BUFSZ];

	puts("hour,count,partial");
	for (size_t i = 0; i < r->n_buckets; i++) {
		const evc_bucket *b = &r->buckets[i];

		if (shown(a, b))
			printf("%s,%" PRIu64 ",%d\n", cli_fmt_time(b->hour, t),
			       b->count, b->partial ? 1 : 0);
	}
}

static void print_table(const struct hourly_args *a, const evc_hourly_result *r)
{
	char t[EVC_TIME_BUFSZ], digits[24];
	/* The total is the widest count; "count" is the narrowest column. */
	int w = snprintf(digits, sizeof(digits), "%" PRIu64, r->total);

	if (w < 5)
		w = 5;
	printf("%-20s  %*s  %s\n", "hour", w, "count", "partial");
	for (size_t i = 0; i < r->n_buckets; i++) {
		const evc_bucket *b = &r->buckets[i];

		if (!shown(a, b))
			continue;
		/* No marker, no trailing blanks. */
		printf("%-20s  %*" PRIu64 "%s\n", cli_fmt_time(b->hour, t), w,
		       b->count, b->partial ? "  partial" : "");
	}
	printf("%-20s  %*" PRIu64 "\n", "total", w, r->total);
}

static void print_chart(const struct hourly_args *a, const evc_hourly_result *r)
{
	char t[EVC_TIME_BUFSZ];
	uint64_t max = 0;
	struct chart c;

	for (size_t i = 0; i < r->n_buckets; i++)
		if (r->buckets[i].count > max)
			max = r->buckets[i].count;
	cli_chart_start(&c, stdout, &a->chart, 20, max);
	for (size_t i = 0; i < r->n_buckets; i++) {
		const evc_bucket *b = &r->buckets[i];

		if (shown(a, b))
			cli_chart_bar(&c, cli_fmt_time(b->hour, t), b->count,
			              b->partial);
	}
	cli_chart_end(&c, r->total);
}

int cli_hourly(evc_store *store, const struct hourly_args *a)
{
	evc_hourly_result *r;
	int64_t as_of = 0;
	int rc;

	/* Read first: the counts then include every ingest up to it. */
	if (a->format == FORMAT_JSON && (rc = evc_as_of(store, &as_of))) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	rc = evc_hourly(store, a->customer_id, a->start, a->end, &r);
	if (rc != EVC_OK) {
		/* Too many hours (or bounds the library refuses) is the
		 * caller's mistake, not a failure of the store. */
		if (rc == EVC_ERANGE || rc == EVC_EINVAL)
			return cli_usage_error("%s", cli_errmsg(store, rc));
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	switch (a->format) {
	case FORMAT_JSON:
		cli_hourly_json(stdout, a, r, as_of);
		break;
	case FORMAT_CSV:
		print_csv(a, r);
		break;
	case FORMAT_TABLE:
		print_table(a, r);
		break;
	case FORMAT_CHART:
		print_chart(a, r);
		break;
	}
	evc_hourly_free(r);
	return EXIT_OK;
}
