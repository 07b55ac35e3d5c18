/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli customers: every customer of the store with its total and
 * the span of its events, from evc_customers(), as table, csv or json.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A table is aligned on its widest cell, so its rows are kept until the
 * end; csv and json are streamed. */
struct customers_ctx {
	enum cli_format format;
	uint64_t n;
	evc_customer_info *rows; /* customer_id points to our copy */
	size_t cap;
	bool nomem;
};

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

static void put_json_time(const char *t)
{
	if (t)
		printf("\"%s\"", t);
	else
		fputs("null", stdout);
}

static void print_json_row(const evc_customer_info *c, bool first_row)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];

	fputs(first_row ? "{\"customer_id\":" : ",{\"customer_id\":", stdout);
	cli_put_json_string(stdout, c->customer_id);
	printf(",\"total\":%" PRIu64 ",\"first_minute\":", c->total);
	put_json_time(span_time(c, c->first_minute, first));
	fputs(",\"last_minute\":", stdout);
	put_json_time(span_time(c, c->last_minute, last));
	putchar('}');
}

static int keep_row(struct customers_ctx *x, const evc_customer_info *c)
{
	evc_customer_info *r;
	char *id;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;

		r = realloc(x->rows, cap * sizeof(*r));
		if (!r)
			goto nomem;
		x->rows = r;
		x->cap = cap;
	}
	id = strdup(c->customer_id);
	if (!id)
		goto nomem;
	x->rows[x->n] = *c;
	x->rows[x->n].customer_id = id;
	return 0;
nomem:
	x->nomem = true;
	return 1;
}

static int on_customer(const evc_customer_info *c, void *payload)
{
	struct customers_ctx *x = payload;

	switch (x->format) {
	case FORMAT_CSV:
		print_csv_row(c);
		break;
	case FORMAT_JSON:
		print_json_row(c, x->n == 0);
		break;
	case FORMAT_TABLE:
		if (keep_row(x, c))
			return 1;
		break;
	}
	x->n++;
	/* A closed pipe or a full disk: no use listing the rest. */
	return ferror(stdout) ? 1 : 0;
}

static void print_table(const struct customers_ctx *x)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];
	/* Headers are the narrowest cells; times are all 20 wide. */
	int w_id = 11, w_total = 5;

	for (uint64_t i = 0; i < x->n; i++) {
		const evc_customer_info *c = &x->rows[i];

		w_id = cli_max_int(w_id, (int)strlen(c->customer_id));
		w_total = cli_max_int(w_total, cli_width_u64(c->total));
	}
	printf("%-*s  %*s  %-20s  %s\n", w_id, "customer_id", w_total, "total",
	       "first minute", "last minute");
	for (uint64_t i = 0; i < x->n; i++) {
		const evc_customer_info *c = &x->rows[i];
		const char *f = span_time(c, c->first_minute, first);
		const char *l = span_time(c, c->last_minute, last);

		printf("%-*s  %*" PRIu64 "  %-20s  %s\n", w_id, c->customer_id,
		       w_total, c->total, f ? f : "-", l ? l : "-");
	}
}

int cli_customers(evc_store *store, enum cli_format format)
{
	struct customers_ctx x = {.format = format};
	int rc;

	if (format == FORMAT_CSV)
		puts("customer_id,total,first_minute,last_minute");
	else if (format == FORMAT_JSON)
		fputs("{\"customers\":[", stdout);
	rc = evc_customers(store, on_customer, &x);
	if (rc == EVC_OK) {
		if (format == FORMAT_JSON)
			puts("]}");
		else if (format == FORMAT_TABLE)
			print_table(&x);
	}
	for (uint64_t i = 0; i < x.n && format == FORMAT_TABLE; i++)
		free((char *)x.rows[i].customer_id);
	free(x.rows);
	if (x.nomem) {
		fputs(PROG ": out of memory\n", stderr);
		return EXIT_FAIL;
	}
	/* A write error stopped the listing: main() reports it. */
	if (rc == EVC_EABORTED)
		return EXIT_FAIL;
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
