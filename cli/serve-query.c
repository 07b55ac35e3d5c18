/* SPDX-License-Identifier: MIT */
/*
 * The query strings of /hourly and /counts (see serve-query.h): pure, no
 * server, no store. What the arguments must be is query-args.c's, as for
 * `hourly` and `counts`.
 */
#include "serve-query.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const param_names[N_PARAMS] = {
    "customer_id", "start", "end",           "sparse", "bucket",
    "tz",          "top",   "all_customers", "stream", "offset",
};

/* The parameters of each endpoint. */
#define HOURLY_PARAMS                                                          \
	(1u << P_CUSTOMER | 1u << P_START | 1u << P_END | 1u << P_SPARSE)
#define COUNTS_PARAMS                                                          \
	(HOURLY_PARAMS | 1u << P_BUCKET | 1u << P_TZ | 1u << P_TOP |           \
	 1u << P_ALL)
#define INGEST_PARAMS (1u << P_STREAM | 1u << P_OFFSET)

void serve_params_add(struct serve_params *p, const char *key,
                      const char *value, size_t value_size)
{
	for (int i = 0; i < N_PARAMS; i++) {
		if (strcmp(key, param_names[i]) != 0)
			continue;
		if (p->count[i]++ == 0) {
			p->value[i] = value;
			p->len[i] = value_size;
		}
		if (i != P_CUSTOMER || !value)
			return;
		if (strlen(value) != value_size)
			p->nul_customer = true;
		/* Past the most a query may name, the count says so. */
		if (p->n_customers == COUNTS_MAX_CUSTOMERS + 1)
			return;
		if (p->n_customers == p->cap_customers) {
			size_t cap =
			    p->cap_customers ? 2 * p->cap_customers : 8;
			const char **v =
			    realloc(p->customers, cap * sizeof(*v));
			if (!v) {
				p->nomem = true;
				return;
			}
			p->customers = v;
			p->cap_customers = cap;
		}
		p->customers[p->n_customers++] = value;
		return;
	}
	if (!p->unknown)
		p->unknown = key;
}

void serve_params_free(struct serve_params *p)
{
	free(p->customers);
	p->customers = NULL;
	p->n_customers = p->cap_customers = 0;
}

/* What every endpoint refuses: unknown, repeated or cut-short arguments.
 * `repeatable` may be given several times. */
static bool check_params(const struct serve_params *p, unsigned allowed,
                         unsigned repeatable, char *err, size_t errlen)
{
	if (p->unknown)
		return query_fail(err, errlen, "unknown parameter \"%s\"",
		                  p->unknown);
	if (p->nomem)
		return query_fail(err, errlen, "out of memory");
	for (int i = 0; i < N_PARAMS; i++) {
		if (p->count[i] && !(allowed & 1u << i))
			return query_fail(err, errlen,
			                  "unknown parameter \"%s\"",
			                  param_names[i]);
		if (p->count[i] > 1 && !(repeatable & 1u << i))
			return query_fail(
			    err, errlen,
			    "parameter \"%s\" given more than once",
			    param_names[i]);
		/* A %00 in the query would cut the value short. */
		if ((p->value[i] && strlen(p->value[i]) != p->len[i]) ||
		    (i == P_CUSTOMER && p->nul_customer))
			return query_fail(err, errlen,
			                  "%s: contains a NUL byte",
			                  param_names[i]);
	}
	return true;
}

/* A yes-or-no parameter: a bare name (no '=') means yes. */
static bool flag(const struct serve_params *p, enum serve_param i, bool *out,
                 char *err, size_t errlen)
{
	const char *v = p->value[i];

	*out = false;
	if (!p->count[i])
		return true;
	if (!v || !*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0)
		return query_fail(
		    err, errlen, "%s: expected 1, 0, true or false, not \"%s\"",
		    param_names[i], v);
	return true;
}

bool serve_parse_hourly(const struct serve_params *p, struct hourly_args *a,
                        char *err, size_t errlen)
{
	if (!check_params(p, HOURLY_PARAMS, 0, err, errlen))
		return false;
	memset(a, 0, sizeof(*a));
	a->format = FORMAT_JSON;
	const struct query_input in = {
	    .value = {[QUERY_CUSTOMER] = p->value[P_CUSTOMER],
	              [QUERY_START] = p->value[P_START],
	              [QUERY_END] = p->value[P_END]},
	};
	return query_check(&in, &query_http, a, err, errlen) &&
	       flag(p, P_SPARSE, &a->sparse, err, errlen);
}

bool serve_parse_counts(const struct serve_params *p, struct counts_args *a,
                        char *err, size_t errlen)
{
	bool all;

	if (!check_params(p, COUNTS_PARAMS, 1u << P_CUSTOMER, err, errlen))
		return false;
	if (p->count[P_CUSTOMER] > COUNTS_MAX_CUSTOMERS)
		return query_fail(err, errlen,
		                  "customer_id: at most %d customers",
		                  COUNTS_MAX_CUSTOMERS);
	memset(a, 0, sizeof(*a));
	a->format = FORMAT_JSON;
	a->bucket = p->value[P_BUCKET] ? p->value[P_BUCKET] : "hour";
	if (!flag(p, P_SPARSE, &a->sparse, err, errlen) ||
	    !flag(p, P_ALL, &all, err, errlen))
		return false;
	const struct query_input in = {
	    .value = {[QUERY_CUSTOMER] =
	                  p->n_customers ? p->customers[0] : NULL,
	              [QUERY_START] = p->value[P_START],
	              [QUERY_END] = p->value[P_END],
	              [QUERY_TZ] = p->value[P_TZ],
	              [QUERY_TOP] = p->value[P_TOP],
	              [QUERY_ALL] = all ? "" : NULL},
	    .customers = p->customers,
	    .n_customers = p->n_customers,
	};
	/* An empty customer_id= reaches the check with its name. */
	if (p->count[P_CUSTOMER] && !p->n_customers)
		return query_fail(err, errlen,
		                  "customer_id: empty customer id");
	return counts_check(&in, &query_http, a, err, errlen);
}

bool serve_parse_ingest(const struct serve_params *p, bool need_offset,
                        const char **stream, uint64_t *offset, char *err,
                        size_t errlen)
{
	const char *v;
	char *end;

	if (!check_params(p, need_offset ? INGEST_PARAMS : 1u << P_STREAM, 0,
	                  err, errlen))
		return false;
	if (!p->count[P_STREAM] || !p->value[P_STREAM] || !*p->value[P_STREAM])
		return query_fail(err, errlen, "missing parameter \"stream\"");
	*stream = p->value[P_STREAM];
	*offset = 0;
	if (!need_offset)
		return true;
	v = p->value[P_OFFSET];
	if (!p->count[P_OFFSET] || !v)
		return query_fail(err, errlen,
		                  "missing parameter \"offset\" (the stream "
		                  "offset of the body's first byte)");
	errno = 0;
	if (*v < '0' || *v > '9' || (*offset = strtoull(v, &end, 10), *end) ||
	    errno == ERANGE)
		return query_fail(err, errlen,
		                  "offset: expected a byte offset, not \"%s\"",
		                  v);
	return true;
}
