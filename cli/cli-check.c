/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli check: evc_check()'s report, one problem a line (table), a
 * CSV record or a JSON object each; exit 1 when it found any.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct check_ctx {
	enum cli_format format;
	uint64_t n;
};

static int on_problem(const evc_problem *p, void *payload)
{
	struct check_ctx *x = payload;
	char hour[EVC_TIME_BUFSZ] = "";

	if (p->has_hour)
		cli_fmt_time(p->hour, hour);
	switch (x->format) {
	case FORMAT_TABLE:
	case FORMAT_CHART: /* not offered: parse_format() */
		if (p->customer_id)
			printf("customer %s", p->customer_id);
		if (p->has_hour)
			printf("%shour %s", p->customer_id ? ", " : "", hour);
		if (p->source_id)
			printf("source %" PRId64, p->source_id);
		printf("%s%s\n",
		       p->customer_id || p->has_hour || p->source_id ? ": "
		                                                     : "",
		       p->what);
		break;
	case FORMAT_CSV:
		if (p->customer_id)
			cli_put_csv_field(stdout, p->customer_id,
			                  strlen(p->customer_id));
		printf(",%s,", hour);
		if (p->source_id)
			printf("%" PRId64, p->source_id);
		putchar(',');
		cli_put_csv_field(stdout, p->what, strlen(p->what));
		putchar('\n');
		break;
	case FORMAT_JSON:
		fputs(x->n ? ",{\"customer_id\":" : "{\"customer_id\":",
		      stdout);
		if (p->customer_id)
			cli_put_json_string(stdout, p->customer_id);
		else
			fputs("null", stdout);
		if (p->has_hour)
			printf(",\"hour\":\"%s\"", hour);
		else
			fputs(",\"hour\":null", stdout);
		if (p->source_id)
			printf(",\"source_id\":%" PRId64, p->source_id);
		else
			fputs(",\"source_id\":null", stdout);
		fputs(",\"problem\":", stdout);
		cli_put_json_string(stdout, p->what);
		putchar('}');
		break;
	}
	x->n++;
	return ferror(stdout) ? 1 : 0;
}

int cli_check(evc_store *store, enum cli_format format)
{
	struct check_ctx x = {.format = format};
	uint64_t n = 0;
	int rc;

	if (format == FORMAT_CSV)
		puts("customer_id,hour,source_id,problem");
	else if (format == FORMAT_JSON)
		fputs("{\"problems\":[", stdout);
	rc = evc_check(store, on_problem, &x, &n);
	if (format == FORMAT_JSON)
		printf("],\"ok\":%s}\n", rc == EVC_OK ? "true" : "false");
	if (rc == EVC_OK) {
		fputs(PROG ": check: no problem found\n", stderr);
		return EXIT_OK;
	}
	/* A write error stopped the report: main() reports it. */
	if (rc != EVC_EABORTED)
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
	return EXIT_FAIL;
}
