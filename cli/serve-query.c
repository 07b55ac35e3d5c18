/* SPDX-License-Identifier: MIT */
/*
 * The query string of /hourly (see serve-query.h): pure, no server, no
 * store. What the arguments must be is query-args.c's, as for `hourly`.
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

bool serve_parse_hourly(const struct serve_params *p, struct hourly_args *a,
                        char *err, size_t errlen)
{
	if (p->unknown)
		return query_fail(err, errlen, "unknown parameter \"%s\"",
		                  p->unknown);
	for (int i = 0; i < N_PARAMS; i++) {
		if (p->count[i] > 1)
			return query_fail(
			    err, errlen,
			    "parameter \"%s\" given more than once",
			    param_names[i]);
		/* A %00 in the query would cut the value short. */
		if (p->value[i] && strlen(p->value[i]) != p->len[i])
			return query_fail(err, errlen,
			                  "%s: contains a NUL byte",
			                  param_names[i]);
	}
	memset(a, 0, sizeof(*a));
	a->format = FORMAT_JSON;
	const struct query_input in = {
	    .value = {[QUERY_CUSTOMER] = p->value[P_CUSTOMER],
	              [QUERY_START] = p->value[P_START],
	              [QUERY_END] = p->value[P_END]},
	};
	if (!query_check(&in, &query_http, a, err, errlen))
		return false;
	/* A bare "sparse" (no '=') has a NULL value and means yes. */
	if (p->count[P_SPARSE]) {
		const char *v = p->value[P_SPARSE];

		if (!v || !*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
			a->sparse = true;
		else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0)
			return query_fail(
			    err, errlen,
			    "sparse: expected 1, 0, true or false, not "
			    "\"%s\"",
			    v);
	}
	return true;
}
