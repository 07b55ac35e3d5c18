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
#include <stdlib.h>
#include <string.h>

const struct query_dialect query_cli = {
    .name = {"--customer-id", "--start", "--end", "--tz", "--top",
             "--all-customers"},
    .cli_style = true,
};

const struct query_dialect query_http = {
    .name = {"customer_id", "start", "end", "tz", "top", "all_customers"},
};

bool query_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* A bound the library parses (in zone tz when it has no offset; NULL: UTC),
 * or the message saying why not, quoting the value once whether or not
 * the library's message does. */
static bool parse_bound(const char *name, const char *value, const char *tz,
                        int64_t *out, char *err, size_t errlen)
{
	const char *msg;

	if (evc_parse_time_in(value, tz, out) == EVC_OK)
		return true;
	msg = cli_errmsg(NULL, EVC_EPARSE);
	if (strstr(msg, value))
		return query_fail(err, errlen, "%s: %s", name, msg);
	return query_fail(err, errlen, "%s: bad timestamp \"%s\": %s", name,
	                  value, msg);
}

static bool missing(const struct query_input *in, const struct query_dialect *d,
                    enum query_arg i, const char *also, char *err,
                    size_t errlen)
{
	char what[96];

	if (d->cli_style)
		snprintf(what, sizeof(what), "missing %s%s", d->name[i], also);
	else
		snprintf(what, sizeof(what), "missing parameter \"%s\"%s",
		         d->name[i], also);
	if (in->context)
		return query_fail(err, errlen, "%s: %s", in->context, what);
	return query_fail(err, errlen, "%s", what);
}

/* A customer id that could match: an id that is not UTF-8 could match
 * nothing and would make the JSON output invalid. */
static bool check_customer(const struct query_dialect *d, const char *id,
                           char *err, size_t errlen)
{
	if (!*id)
		return query_fail(err, errlen, "%s: empty customer id",
		                  d->name[QUERY_CUSTOMER]);
	if (!cli_is_utf8(id))
		return query_fail(err, errlen, "%s: not valid UTF-8",
		                  d->name[QUERY_CUSTOMER]);
	return true;
}

/* Both bounds, then start before end once both are floored to the minute
 * as the library floors them (checked here so that the message names the
 * arguments). */
static bool check_range(const struct query_input *in,
                        const struct query_dialect *d, const char *tz,
                        int64_t *start, int64_t *end, char *err, size_t errlen)
{
	const char *const *v = in->value;

	if (!v[QUERY_START])
		return missing(in, d, QUERY_START, "", err, errlen);
	if (!v[QUERY_END])
		return missing(in, d, QUERY_END, "", err, errlen);
	if (!parse_bound(d->name[QUERY_START], v[QUERY_START], tz, start, err,
	                 errlen) ||
	    !parse_bound(d->name[QUERY_END], v[QUERY_END], tz, end, err,
	                 errlen))
		return false;
	const int64_t s = cli_floor_minute(*start) * 60;
	const int64_t e = cli_floor_minute(*end) * 60;
	const char *floored =
	    *start < *end ? " once both are floored to the minute" : "";
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

bool query_check(const struct query_input *in, const struct query_dialect *d,
                 struct hourly_args *a, char *err, size_t errlen)
{
	const char *const *v = in->value;

	if (!v[QUERY_CUSTOMER])
		return missing(in, d, QUERY_CUSTOMER, "", err, errlen);
	if (!v[QUERY_START])
		return missing(in, d, QUERY_START, "", err, errlen);
	if (!v[QUERY_END])
		return missing(in, d, QUERY_END, "", err, errlen);
	if (!check_customer(d, v[QUERY_CUSTOMER], err, errlen))
		return false;
	a->customer_id = v[QUERY_CUSTOMER];
	return check_range(in, d, NULL, &a->start, &a->end, err, errlen);
}

bool counts_check(const struct query_input *in, const struct query_dialect *d,
                  struct counts_args *a, char *err, size_t errlen)
{
	const char *const *v = in->value;
	const char *top = v[QUERY_TOP];

	a->all_customers = v[QUERY_ALL] != NULL;
	if (a->all_customers && in->n_customers)
		return query_fail(err, errlen, "%s and %s: one or the other",
		                  d->name[QUERY_CUSTOMER], d->name[QUERY_ALL]);
	if (!a->all_customers && !in->n_customers) {
		char also[64];
		snprintf(also, sizeof(also), " (or %s)", d->name[QUERY_ALL]);
		return missing(in, d, QUERY_CUSTOMER, also, err, errlen);
	}
	if (in->n_customers > COUNTS_MAX_CUSTOMERS)
		return query_fail(err, errlen, "%s: at most %d customers",
		                  d->name[QUERY_CUSTOMER],
		                  COUNTS_MAX_CUSTOMERS);
	for (size_t i = 0; i < in->n_customers; i++)
		if (!check_customer(d, in->customers[i], err, errlen))
			return false;
	a->customers = a->all_customers ? NULL : in->customers;
	a->n_customers = a->all_customers ? 0 : in->n_customers;
	a->top = 0;
	if (top) {
		char *end;
		unsigned long n = strtoul(top, &end, 10);
		if (*top < '1' || *top > '9' || *end || n > COUNTS_MAX_TOP)
			return query_fail(
			    err, errlen,
			    "%s: expected a number from 1 to %d, not "
			    "\"%s\"",
			    d->name[QUERY_TOP], COUNTS_MAX_TOP, top);
		a->top = (size_t)n;
	}
	a->tz = v[QUERY_TZ] ? v[QUERY_TZ] : "UTC";
	if (!*a->tz)
		return query_fail(err, errlen, "%s: empty time zone",
		                  d->name[QUERY_TZ]);
	/* The zone is loaded to read the bounds: an unknown one is named as
	 * the argument it is. */
	int64_t probe;
	const int rc = evc_parse_time_in("2000-01-01", a->tz, &probe);
	if (rc == EVC_ENOTFOUND || rc == EVC_EINVAL || rc == EVC_EPARSE ||
	    rc == EVC_EIO)
		return query_fail(err, errlen, "%s: %s", d->name[QUERY_TZ],
		                  cli_errmsg(NULL, rc));
	return check_range(in, d, a->tz, &a->start, &a->end, err, errlen);
}
