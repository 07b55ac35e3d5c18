/* SPDX-License-Identifier: MIT */
/*
 * The check of an hourly query's arguments (see query-args.h): present,
 * a customer id that could match, timestamps the library parses, a start
 * before the end once both are floored to the minute as the library
 * floors them. How many hours a query may span is the library's one limit
 * (EVC_HOURLY_MAX_BUCKETS), the same for both front ends.
 */
#include "query-args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct query_dialect query_cli = {
    .name = {"--customer-id", "--start", "--end"},
    .cli_style = true,
};

const struct query_dialect query_http = {
    .name = {"customer_id", "start", "end"},
};

bool query_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* A bound the library parses, or the message saying why not, quoting the
 * value once whether or not the library's message does. */
static bool parse_bound(const char *name, const char *value, int64_t *out,
                        char *err, size_t errlen)
{
	const char *msg;

	if (evc_parse_time(value, out) == EVC_OK)
		return true;
	msg = cli_errmsg(NULL, EVC_EPARSE);
	if (strstr(msg, value))
		return query_fail(err, errlen, "%s: %s", name, msg);
	return query_fail(err, errlen, "%s: bad timestamp \"%s\": %s", name,
	                  value, msg);
}

bool query_check(const struct query_input *in, const struct query_dialect *d,
                 struct hourly_args *a, char *err, size_t errlen)
{
	const char *const *v = in->value;
	char what[64];

	for (int i = 0; i < N_QUERY_ARGS; i++) {
		if (v[i])
			continue;
		if (d->cli_style)
			snprintf(what, sizeof(what), "missing %s", d->name[i]);
		else
			snprintf(what, sizeof(what), "missing parameter \"%s\"",
			         d->name[i]);
		if (in->context)
			return query_fail(err, errlen, "%s: %s", in->context,
			                  what);
		return query_fail(err, errlen, "%s", what);
	}
	if (!*v[QUERY_CUSTOMER])
		return query_fail(err, errlen, "%s: empty customer id",
		                  d->name[QUERY_CUSTOMER]);
	/* An id that is not UTF-8 could match nothing and would make the
	 * JSON output invalid. */
	if (!cli_is_utf8(v[QUERY_CUSTOMER]))
		return query_fail(err, errlen, "%s: not valid UTF-8",
		                  d->name[QUERY_CUSTOMER]);
	a->customer_id = v[QUERY_CUSTOMER];
	if (!parse_bound(d->name[QUERY_START], v[QUERY_START], &a->start, err,
	                 errlen) ||
	    !parse_bound(d->name[QUERY_END], v[QUERY_END], &a->end, err,
	                 errlen))
		return false;
	/* Checked here rather than left to evc_hourly() so that the message
	 * names the arguments. */
	const int64_t s = cli_floor_minute(a->start) * 60;
	const int64_t e = cli_floor_minute(a->end) * 60;
	const char *floored =
	    a->start < a->end ? " once both are floored to the minute" : "";
	if (s >= e && d->cli_style)
		return query_fail(err, errlen,
		                  "%s \"%s\" is not before %s \"%s\"%s",
		                  d->name[QUERY_START], v[QUERY_START],
		                  d->name[QUERY_END], v[QUERY_END], floored);
	if (s >= e)
		return query_fail(err, errlen, "%s is not before %s%s",
		                  d->name[QUERY_START], d->name[QUERY_END],
		                  floored);
	return true;
}
