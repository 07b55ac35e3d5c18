/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli export: every (customer, minute) count of the store, from
 * evc_export(), as csv or json.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct export_ctx {
	const struct export_args *a;
	bool first;
};

static void put_minute(const struct export_args *a, int64_t minute)
{
	char t[EVC_TIME_BUFSZ];

	if (a->epoch)
		printf("%" PRId64, minute);
	else if (a->format == FORMAT_JSON)
		printf("\"%s\"", cli_fmt_time(minute, t));
	else
		fputs(cli_fmt_time(minute, t), stdout);
}

static int on_minute(const char *customer_id, int64_t minute, uint64_t count,
                     void *payload)
{
	struct export_ctx *x = payload;

	if (x->a->format == FORMAT_JSON) {
		fputs(x->first ? "{\"customer_id\":" : ",{\"customer_id\":",
		      stdout);
		cli_put_json_string(stdout, customer_id);
		fputs(",\"minute\":", stdout);
		put_minute(x->a, minute);
		printf(",\"count\":%" PRIu64 "}", count);
	} else {
		cli_put_csv_field(stdout, customer_id, strlen(customer_id));
		putchar(',');
		put_minute(x->a, minute);
		printf(",%" PRIu64 "\n", count);
	}
	x->first = false;
	/* A closed pipe or a full disk: no use exporting the rest. */
	return ferror(stdout) ? 1 : 0;
}

int cli_export(evc_store *store, const struct export_args *a)
{
	struct export_ctx x = {.a = a, .first = true};
	int rc;

	if (a->format == FORMAT_JSON)
		fputs("{\"counts\":[", stdout);
	else
		puts("customer_id,minute,count");
	rc = evc_export(store, on_minute, &x);
	/* A write error stopped the export: main() reports it. */
	if (rc == EVC_EABORTED)
		return EXIT_FAIL;
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	if (a->format == FORMAT_JSON)
		puts("]}");
	return EXIT_OK;
}
