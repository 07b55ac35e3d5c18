/* SPDX-License-Identifier: MIT */
/*
 * The query strings of evcount-cli serve's /hourly, /counts and /ingest,
 * checked without libmicrohttpd: the request handler collects the decoded query
 * arguments, serve_parse_hourly() and serve_parse_counts() check them
 * (with query-args.c, as `hourly` and `counts` do). Separate so that
 * tests/fuzz/fuzz-query.c can drive the checks without a server.
 */
#ifndef EVCOUNT_SERVE_QUERY_H
#define EVCOUNT_SERVE_QUERY_H

#include "cli.h"
#include "query-args.h"

#include <stdbool.h>
#include <stddef.h>

enum serve_param {
	P_CUSTOMER,
	P_START,
	P_END,
	P_SPARSE,
	P_BUCKET,
	P_TZ,
	P_TOP,
	P_ALL,
	P_STREAM,
	P_OFFSET,
	N_PARAMS
};

/* The query arguments of one request, repeated ones counted. */
struct serve_params {
	const char *value[N_PARAMS]; /* the first one given; NULL: no '=' */
	size_t len[N_PARAMS];        /* its decoded length, NULs included */
	unsigned count[N_PARAMS];
	const char *unknown; /* the first argument of no known name */
	/* Every customer_id, in order (/counts takes several); malloc'ed,
	 * freed by serve_params_free(). */
	const char **customers;
	size_t n_customers, cap_customers;
	bool nomem;
	bool nul_customer; /* a customer_id holds a %00 */
};

/* Note one decoded query argument: `value` is NUL-terminated but may hold
 * NULs within its `value_size` bytes (a %00), or is NULL for a bare key.
 * The strings must outlive `p`. */
void serve_params_add(struct serve_params *p, const char *key,
                      const char *value, size_t value_size);
void serve_params_free(struct serve_params *p);

/* Check /hourly's arguments. Returns true with `a` filled (JSON format),
 * else false with the message of the 400 answer in `err`. */
bool serve_parse_hourly(const struct serve_params *p, struct hourly_args *a,
                        char *err, size_t errlen);

/* Check /counts's arguments, as serve_parse_hourly() does /hourly's. The
 * customers of `a` point into `p`. */
bool serve_parse_counts(const struct serve_params *p, struct counts_args *a,
                        char *err, size_t errlen);

/* Check /ingest's arguments: stream, and (need_offset: for a POST) offset,
 * a byte offset. *stream points into `p`. */
bool serve_parse_ingest(const struct serve_params *p, bool need_offset,
                        const char **stream, uint64_t *offset, char *err,
                        size_t errlen);

#endif /* EVCOUNT_SERVE_QUERY_H */
