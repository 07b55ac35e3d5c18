/* SPDX-License-Identifier: MIT */
/*
 * Validation of /hourly's query arguments (see serve-query.h): pure, no
 * server, no store.
 */
#include "serve-query.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const param_names[N_PARAMS] = {"customer_id", "start", "end",
                                                  "sparse"};

void serve_params_add(struct serve_params *p, const char *key,
                      const char *value, size_t value_size)
{
	for (int i = 0; i < N_PARAMS; i++) {
		if (strcmp(key, param_names[i]) == 0) {
			if (p->count[i]++ == 0) {
				p->value[i] = value;
				p->len[i] = value_size;
			}
			return;
		}
	}
	if (!p->unknown)
		p->unknown = key;
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

static bool bad_time(char *err, size_t errlen, const char *name,
                     const char *value)
{
	const char *msg = evc_errmsg(NULL);

	if (!msg || !*msg)
		msg = evc_strerror(EVC_EPARSE);
	if (strstr(msg, value))
		return fail(err, errlen, "%s: %s", name, msg);
	return fail(err, errlen, "%s: bad timestamp \"%s\": %s", name, value,
	            msg);
}

bool serve_parse_hourly(const struct serve_params *p, struct hourly_args *a,
                        char *err, size_t errlen)
{
	if (p->unknown)
		return fail(err, errlen, "unknown parameter \"%s\"",
		            p->unknown);
	for (int i = 0; i < N_PARAMS; i++) {
		if (p->count[i] > 1)
			return fail(err, errlen,
			            "parameter \"%s\" given more than once",
			            param_names[i]);
		/* A %00 in the query would cut the value short. */
		if (p->value[i] && strlen(p->value[i]) != p->len[i])
			return fail(err, errlen, "%s: contains a NUL byte",
			            param_names[i]);
	}
	for (int i = P_CUSTOMER; i <= P_END; i++) {
		if (!p->value[i])
			return fail(err, errlen, "missing parameter \"%s\"",
			            param_names[i]);
	}
	if (!*p->value[P_CUSTOMER])
		return fail(err, errlen, "customer_id: empty");
	if (!cli_is_utf8(p->value[P_CUSTOMER]))
		return fail(err, errlen, "customer_id: not valid UTF-8");
	memset(a, 0, sizeof(*a));
	a->customer_id = p->value[P_CUSTOMER];
	a->format = FORMAT_JSON;
	if (evc_parse_time(p->value[P_START], &a->start) != EVC_OK)
		return bad_time(err, errlen, "start", p->value[P_START]);
	if (evc_parse_time(p->value[P_END], &a->end) != EVC_OK)
		return bad_time(err, errlen, "end", p->value[P_END]);
	if (cli_floor_minute(a->start) >= cli_floor_minute(a->end))
		return fail(err, errlen, "start is not before end%s",
		            a->start < a->end ? " once both are floored to "
		                                "the minute"
		                              : "");
	/* A bare "sparse" (no '=') has a NULL value and means yes. */
	if (p->count[P_SPARSE]) {
		const char *v = p->value[P_SPARSE];

		if (!v || !*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
			a->sparse = true;
		else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0)
			return fail(err, errlen,
			            "sparse: expected 1, 0, true or false, not "
			            "\"%s\"",
			            v);
	}
	/* Floored bounds, as the library counts: a range that ends just past
	 * an hour has one more bucket. */
	if (cli_floor_div(cli_floor_minute(a->end) * 60 - 1, 3600) -
	        cli_floor_div(cli_floor_minute(a->start) * 60, 3600) >=
	    HTTP_MAX_BUCKETS)
		return fail(err, errlen, "range too wide: more than %d hours",
		            HTTP_MAX_BUCKETS);
	return true;
}
