/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli counts: evc_counts() printed as JSON (one object, the body
 * of serve's /counts too), CSV in long form (customer_id,start,end,count,
 * partial), a table, a block per customer, or a chart per customer
 * (chart.c). Customers are printed as the library hands them over, so all
 * customers of a large store stream.
 * Times are RFC 3339 local times of the query's zone, with their offsets
 * ("Z" for UTC).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A time of the zone: "Z" for UTC, else its offset at t. */
static const char *local_time(int64_t t, int32_t offset, bool utc,
                              char buf[EVC_LOCAL_TIME_BUFSZ])
{
	if (utc ? evc_format_time(t, buf, EVC_LOCAL_TIME_BUFSZ) < 0
	        : evc_format_local(t, offset, buf, EVC_LOCAL_TIME_BUFSZ) < 0)
		snprintf(buf, EVC_LOCAL_TIME_BUFSZ, "%" PRId64, t);
	return buf;
}

struct out {
	FILE *f;
	const struct counts_args *a;
	size_t n;     /* customers printed */
	size_t limit; /* bytes: stop past it; 0: none */
	/* What comes before the first customer (a JSON head, a CSV header),
	 * written once the library has accepted the query: a refused one
	 * leaves stdout empty. */
	const char *head;
	bool head_done;
};

static void write_head(struct out *o)
{
	if (!o->head_done && o->head)
		fputs(o->head, o->f);
	o->head_done = true;
}

static void json_customer(struct out *o, const evc_customer_counts *c)
{
	char s[EVC_LOCAL_TIME_BUFSZ], e[EVC_LOCAL_TIME_BUFSZ];
	FILE *f = o->f;

	fputs(o->n ? ",{\"customer_id\":" : "{\"customer_id\":", f);
	cli_put_json_string(f, c->customer_id);
	fprintf(f, ",\"total\":%" PRIu64 ",\"buckets\":[", c->total);
	for (size_t i = 0; i < c->n_buckets; i++) {
		const evc_count_bucket *b = &c->buckets[i];
		fprintf(
		    f,
		    "%s{\"start\":\"%s\",\"end\":\"%s\",\"count\":%" PRIu64
		    ",\"partial\":%s}",
		    i ? "," : "",
		    local_time(b->start, b->start_offset, c->zone_is_utc, s),
		    local_time(b->end, b->end_offset, c->zone_is_utc, e),
		    b->count, b->partial ? "true" : "false");
	}
	fputs("]}", f);
}

static void csv_customer(struct out *o, const evc_customer_counts *c)
{
	char s[EVC_LOCAL_TIME_BUFSZ], e[EVC_LOCAL_TIME_BUFSZ];

	for (size_t i = 0; i < c->n_buckets; i++) {
		const evc_count_bucket *b = &c->buckets[i];
		cli_put_csv_field(o->f, c->customer_id, strlen(c->customer_id));
		fprintf(
		    o->f, ",%s,%s,%" PRIu64 ",%d\n",
		    local_time(b->start, b->start_offset, c->zone_is_utc, s),
		    local_time(b->end, b->end_offset, c->zone_is_utc, e),
		    b->count, b->partial ? 1 : 0);
	}
}

/* A block per customer, aligned on its own widest count: customers are
 * printed as they come. */
static void table_customer(struct out *o, const evc_customer_counts *c)
{
	char s[EVC_LOCAL_TIME_BUFSZ], e[EVC_LOCAL_TIME_BUFSZ];
	const int tw = c->zone_is_utc ? 20 : 25;
	const int w = cli_max_int(5, cli_width_u64(c->total));

	if (o->n)
		putc('\n', o->f);
	fputs("customer ", o->f);
	fputs(c->customer_id, o->f);
	fprintf(o->f, "\n%-*s  %-*s  %*s  %s\n", tw, "start", tw, "end", w,
	        "count", "partial");
	for (size_t i = 0; i < c->n_buckets; i++) {
		const evc_count_bucket *b = &c->buckets[i];
		fprintf(
		    o->f, "%-*s  %-*s  %*" PRIu64 "%s\n", tw,
		    local_time(b->start, b->start_offset, c->zone_is_utc, s),
		    tw, local_time(b->end, b->end_offset, c->zone_is_utc, e), w,
		    b->count, b->partial ? "  partial" : "");
	}
	fprintf(o->f, "%-*s  %-*s  %*" PRIu64 "\n", tw, "total", tw, "", w,
	        c->total);
}

/* A chart per customer, scaled to its own largest count: customers are
 * printed as they come, and a large one would flatten the others. */
static void chart_customer(struct out *o, const evc_customer_counts *c)
{
	char s[EVC_LOCAL_TIME_BUFSZ];
	uint64_t max = 0;
	struct chart ch;

	for (size_t i = 0; i < c->n_buckets; i++)
		if (c->buckets[i].count > max)
			max = c->buckets[i].count;
	if (o->n)
		putc('\n', o->f);
	fputs("customer ", o->f);
	fputs(c->customer_id, o->f);
	putc('\n', o->f);
	cli_chart_start(&ch, o->f, &o->a->chart, c->zone_is_utc ? 20 : 25, max);
	for (size_t i = 0; i < c->n_buckets; i++) {
		const evc_count_bucket *b = &c->buckets[i];

		cli_chart_bar(
		    &ch,
		    local_time(b->start, b->start_offset, c->zone_is_utc, s),
		    b->count, b->partial);
	}
	cli_chart_end(&ch, c->total);
}

static int on_counts(const evc_customer_counts *c, void *payload)
{
	struct out *o = payload;

	write_head(o);
	switch (o->a->format) {
	case FORMAT_JSON:
		json_customer(o, c);
		break;
	case FORMAT_CSV:
		csv_customer(o, c);
		break;
	case FORMAT_TABLE:
		table_customer(o, c);
		break;
	case FORMAT_CHART:
		chart_customer(o, c);
		break;
	}
	o->n++;
	if (ferror(o->f))
		return 1;
	return o->limit && (size_t)ftell(o->f) > o->limit ? 1 : 0;
}

/* The options of the library's call for these arguments. */
static evc_counts_options options(const struct counts_args *a)
{
	evc_counts_options opts = EVC_COUNTS_OPTIONS_INIT;

	opts.customers = a->customers;
	opts.n_customers = a->n_customers;
	opts.start = a->start;
	opts.end = a->end;
	opts.bucket = a->bucket;
	opts.tz = a->tz;
	opts.top = a->top;
	opts.sparse = a->sparse;
	return opts;
}

int cli_counts_json(FILE *f, evc_store *store, const struct counts_args *a,
                    size_t limit)
{
	char s[EVC_LOCAL_TIME_BUFSZ], e[EVC_LOCAL_TIME_BUFSZ], *head = NULL;
	const evc_counts_options opts = options(a);
	struct out o = {.f = f, .a = a, .limit = limit};
	const bool utc = strcmp(a->tz, "UTC") == 0;
	const int64_t start = cli_floor_minute(a->start) * 60;
	const int64_t end = cli_floor_minute(a->end) * 60;
	int32_t so = 0, eo = 0;
	size_t len;

	/* The zone read the bounds already: these cannot fail. */
	if (!utc && (evc_zone_offset(a->tz, start, &so) != EVC_OK ||
	             evc_zone_offset(a->tz, end, &eo) != EVC_OK))
		return EVC_ENOTFOUND;
	FILE *h = open_memstream(&head, &len);
	if (!h)
		return EVC_ENOMEM;
	fprintf(h, "{\"start\":\"%s\",\"end\":\"%s\",\"bucket\":",
	        local_time(start, so, utc, s), local_time(end, eo, utc, e));
	cli_put_json_string(h, a->bucket);
	fputs(",\"tz\":", h);
	cli_put_json_string(h, a->tz);
	fputs(",\"customers\":[", h);
	if (fclose(h) != 0 || !head) {
		free(head);
		return EVC_ENOMEM;
	}
	o.head = head;
	/* Read first: the counts then include every ingest up to it. */
	int64_t as_of = 0;
	int rc = evc_as_of(store, &as_of);
	if (rc == EVC_OK)
		rc = evc_counts(store, &opts, on_counts, &o);
	if (rc == EVC_OK) {
		write_head(&o);
		fputc(']', f);
		cli_put_as_of(f, as_of);
		fputs("}\n", f);
	}
	free(head);
	return rc;
}

int cli_counts(evc_store *store, const struct counts_args *a)
{
	int rc;

	if (a->format == FORMAT_JSON) {
		rc = cli_counts_json(stdout, store, a, 0);
	} else {
		const evc_counts_options opts = options(a);
		struct out o = {.f = stdout,
		                .a = a,
		                .head = a->format == FORMAT_CSV
		                            ? "customer_id,start,end,count,"
		                              "partial\n"
		                            : NULL};
		rc = evc_counts(store, &opts, on_counts, &o);
		if (rc == EVC_OK)
			write_head(&o);
	}
	if (rc == EVC_OK)
		return EXIT_OK;
	/* A write error stopped the output: main() reports it. */
	if (rc == EVC_EABORTED)
		return EXIT_FAIL;
	/* A width, zone or range the library refuses is the caller's
	 * mistake, not a failure of the store. */
	if (rc == EVC_EINVAL || rc == EVC_ERANGE || rc == EVC_ENOTFOUND)
		return cli_usage_error("%s", cli_errmsg(store, rc));
	fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
	return EXIT_FAIL;
}
