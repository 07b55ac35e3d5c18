/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli customers: every customer of the store with its total and
 * the span of its events, from evc_customers(), as table, csv or json (the
 * body of serve's /customers too).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A table is aligned on its widest cell, so its rows are kept until the
 * end; csv and json are streamed. */
#define ROWS(l) ((evc_customer_info *)(l)->rows) /* ids: our copies */

/* A customer without events has no span: printed as nothing (csv), null
 * (json) or "-" (table), never as the epoch. */
static const char *span_time(const evc_customer_info *c, int64_t t,
                             char buf[EVC_TIME_BUFSZ])
{
	return c->total ? cli_fmt_time(t, buf) : NULL;
}

static void print_csv_row(const evc_customer_info *c)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];
	const char *f = span_time(c, c->first_minute, first);
	const char *l = span_time(c, c->last_minute, last);

	cli_put_csv_field(stdout, c->customer_id, strlen(c->customer_id));
	printf(",%" PRIu64 ",%s,%s\n", c->total, f ? f : "", l ? l : "");
}

static void put_json_time(FILE *f, const char *t)
{
	if (t)
		fprintf(f, "\"%s\"", t);
	else
		fputs("null", f);
}

static void print_json_row(FILE *f, const evc_customer_info *c, bool first_row)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];

	fputs(first_row ? "{\"customer_id\":" : ",{\"customer_id\":", f);
	cli_put_json_string(f, c->customer_id);
	fprintf(f, ",\"total\":%" PRIu64 ",\"first_minute\":", c->total);
	put_json_time(f, span_time(c, c->first_minute, first));
	fputs(",\"last_minute\":", f);
	put_json_time(f, span_time(c, c->last_minute, last));
	putc('}', f);
}

/* JSON goes to any stream, up to a limit: serve builds its body so. */
struct json_out {
	FILE *f;
	uint64_t n;
	size_t limit;
};

static int on_json_customer(const evc_customer_info *c, void *payload)
{
	struct json_out *o = payload;

	print_json_row(o->f, c, o->n++ == 0);
	if (ferror(o->f))
		return 1;
	return o->limit && (size_t)ftell(o->f) > o->limit ? 1 : 0;
}

int cli_customers_json(FILE *f, evc_store *store, size_t limit)
{
	struct json_out o = {.f = f, .limit = limit};
	int rc;

	fputs("{\"customers\":[", f);
	rc = evc_customers(store, on_json_customer, &o);
	if (rc == EVC_OK)
		fputs("]}\n", f);
	return rc;
}

static int on_customer(const evc_customer_info *c, void *payload)
{
	struct cli_listing *l = payload;
	evc_customer_info *r;

	/* csv or a table: json is cli_customers_json()'s. */
	if (l->format == FORMAT_CSV) {
		print_csv_row(c);
	} else {
		if (!(r = cli_listing_keep(l)))
			return 1;
		*r = *c;
		if (!(r->customer_id = strdup(c->customer_id))) {
			l->nomem = true;
			return 1;
		}
	}
	return cli_listing_next(l);
}

static void print_table(const struct cli_listing *x)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];
	/* Headers are the narrowest cells; times are all 20 wide. */
	int w_id = 11, w_total = 5;

	for (uint64_t i = 0; i < x->n; i++) {
		const evc_customer_info *c = &ROWS(x)[i];

		w_id = cli_max_int(w_id, (int)strlen(c->customer_id));
		w_total = cli_max_int(w_total, cli_width_u64(c->total));
	}
	printf("%-*s  %*s  %-20s  %s\n", w_id, "customer_id", w_total, "total",
	       "first minute", "last minute");
	for (uint64_t i = 0; i < x->n; i++) {
		const evc_customer_info *c = &ROWS(x)[i];
		const char *f = span_time(c, c->first_minute, first);
		const char *l = span_time(c, c->last_minute, last);

		printf("%-*s  %*" PRIu64 "  %-20s  %s\n", w_id, c->customer_id,
		       w_total, c->total, f ? f : "-", l ? l : "-");
	}
}

int cli_customers(evc_store *store, enum cli_format format)
{
	struct cli_listing l = {.format = format,
	                        .size = sizeof(evc_customer_info)};
	int rc;

	if (format == FORMAT_JSON)
		return cli_listing_end(&l, store,
		                       cli_customers_json(stdout, store, 0));
	if (format == FORMAT_CSV)
		puts("customer_id,total,first_minute,last_minute");
	rc = evc_customers(store, on_customer, &l);
	if (rc == EVC_OK && format == FORMAT_TABLE)
		print_table(&l);
	for (uint64_t i = 0; i < l.n && format == FORMAT_TABLE; i++)
		free((char *)ROWS(&l)[i].customer_id);
	return cli_listing_end(&l, store, rc);
}
