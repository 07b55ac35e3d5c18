/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the query strings of serve's /hourly and /counts,
 * checked by serve_parse_hourly() and serve_parse_counts()
 * (cli/serve-query.c) as cli/serve-http.c does for each request, without a
 * server.
 *
 * The input is the raw query string. It is split and decoded here as
 * libmicrohttpd does ('&' between arguments, '=' between name and value,
 * '+' is a space, %XX a byte; a name without '=' has a NULL value), then
 * the arguments go through serve_params_add() and both parsers.
 *
 * Checks: a refusal has a message, which the error body escapes into valid
 * JSON (valid UTF-8, no raw control characters). An /hourly acceptance has
 * exactly one customer_id, start and end, no unknown argument, a non-empty
 * UTF-8 customer id without NULs, bounds that evc_parse_time() gives and
 * that are ordered once floored, and a range that evc_hourly() answers in
 * at most EVC_HOURLY_MAX_BUCKETS buckets or refuses as too wide. A /counts
 * acceptance names customers or all of them (not both), each customer id
 * non-empty UTF-8 without NULs, ordered bounds, and evc_counts() answers
 * it or refuses it only for its width or size.
 */
#include "serve-query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#define MAX_ARGS 64

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0, n) into dst (NUL-terminated); returns the length. */
static size_t unescape(const char *s, size_t n, char *dst)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+') {
			dst[k++] = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
		           (hi = hexval(s[i + 1])) >= 0 &&
		           (lo = hexval(s[i + 2])) >= 0) {
			dst[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			dst[k++] = s[i];
		}
	}
	dst[k] = '\0';
	return k;
}

/* An independent UTF-8 check (RFC 3629 table 2 byte ranges). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned char lo = 0x80, hi = 0xbf;
		if (c <= 0x7f) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c == 0xe0) {
			len = 3;
			lo = 0xa0;
		} else if (c == 0xed) {
			len = 3;
			hi = 0x9f;
		} else if (c >= 0xe1 && c <= 0xef) {
			len = 3;
		} else if (c == 0xf0) {
			len = 4;
			lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3) {
			len = 4;
		} else if (c == 0xf4) {
			len = 4;
			hi = 0x8f;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += len;
	}
	return true;
}

static int64_t floor_to(int64_t t, int64_t unit)
{
	return t / unit - (t % unit < 0);
}

static evc_store *store;

/* A refusal: a message that the error body escapes into valid JSON, as
 * send_error() writes it. */
static void check_refusal(const char *err, size_t errsize)
{
	const size_t el = strnlen(err, errsize);
	CHECK(el > 0 && el < errsize);
	char *body = NULL;
	size_t bl = 0;
	FILE *f = open_memstream(&body, &bl);
	CHECK(f);
	cli_put_json_string(f, err);
	CHECK(fclose(f) == 0);
	CHECK(bl >= 2 && body[0] == '"' && body[bl - 1] == '"');
	CHECK(valid_utf8((const unsigned char *)body, bl));
	for (size_t i = 0; i < bl; i++)
		CHECK((unsigned char)body[i] >= 0x20);
	free(body);
}

static int first_only(const evc_customer_counts *c, void *payload)
{
	(void)payload;
	CHECK(c->n_buckets <= EVC_COUNTS_MAX_BUCKETS);
	CHECK(c->total == 0);
	return 1;
}

/* /ingest: a stream named, an offset that is the digits given. */
static void check_ingest(const struct serve_params *p, const unsigned *seen,
                         bool unknown)
{
	for (int need = 0; need < 2; need++) {
		const char *stream;
		uint64_t offset;
		char err[512];
		memset(err, 0x55, sizeof(err));
		if (!serve_parse_ingest(p, need, &stream, &offset, err,
		                        sizeof(err))) {
			check_refusal(err, sizeof(err));
			continue;
		}
		CHECK(!unknown && seen[P_STREAM] == 1 && *stream);
		CHECK(strlen(stream) == p->len[P_STREAM]);
		for (int j = 0; j < N_PARAMS; j++)
			CHECK(j == P_STREAM || (need && j == P_OFFSET) ||
			      seen[j] == 0);
		if (need) {
			char digits[32];
			snprintf(digits, sizeof(digits), "%" PRIu64, offset);
			/* Leading zeros aside, the offset is what was sent. */
			const char *v = p->value[P_OFFSET];
			while (v[0] == '0' && v[1])
				v++;
			CHECK(strcmp(digits, v) == 0);
		}
	}
}

static void check_counts(const struct serve_params *p, const unsigned *seen,
                         bool unknown)
{
	struct counts_args a;
	char err[512];
	memset(err, 0x55, sizeof(err));
	if (!serve_parse_counts(p, &a, err, sizeof(err))) {
		check_refusal(err, sizeof(err));
		return;
	}
	CHECK(!unknown);
	for (int j = 0; j < N_PARAMS; j++)
		CHECK(seen[j] <= 1 || j == P_CUSTOMER);
	CHECK(a.all_customers != (a.n_customers > 0));
	CHECK(a.n_customers <= COUNTS_MAX_CUSTOMERS);
	for (size_t i = 0; i < a.n_customers; i++) {
		const size_t cl = strlen(a.customers[i]);
		CHECK(cl > 0);
		CHECK(valid_utf8((const unsigned char *)a.customers[i], cl));
	}
	CHECK(a.format == FORMAT_JSON && a.bucket && a.tz);
	CHECK(floor_to(a.start, 60) < floor_to(a.end, 60));

	evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;
	o.customers = a.all_customers ? NULL : a.customers;
	o.n_customers = a.n_customers;
	o.start = a.start;
	o.end = a.end;
	o.bucket = a.bucket;
	o.tz = a.tz;
	o.top = a.top;
	o.sparse = a.sparse;
	const int rc = evc_counts(store, &o, first_only, NULL);
	/* The zone and bounds were checked: only the width and the size may
	 * be refused. */
	CHECK(rc == EVC_OK || rc == EVC_EABORTED || rc == EVC_ERANGE ||
	      rc == EVC_EINVAL);
	if (rc == EVC_EINVAL)
		CHECK(strstr(evc_errmsg(store), "bucket"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[N_PARAMS] = {
	    [P_CUSTOMER] = "customer_id",
	    [P_START] = "start",
	    [P_END] = "end",
	    [P_SPARSE] = "sparse",
	    [P_BUCKET] = "bucket",
	    [P_TZ] = "tz",
	    [P_TOP] = "top",
	    [P_ALL] = "all_customers",
	    [P_STREAM] = "stream",
	    [P_OFFSET] = "offset",
	};
	const char *q = (const char *)data;
	char *keys[MAX_ARGS], *values[MAX_ARGS];
	size_t n_args = 0;
	unsigned seen[N_PARAMS] = {0};
	bool unknown = false;

	if (!store)
		CHECK(evc_open(&store, ":memory:",
		               EVC_OPEN_READWRITE | EVC_OPEN_CREATE) == EVC_OK);

	struct serve_params p = {0};
	for (size_t i = 0; i < size && n_args < MAX_ARGS;) {
		size_t end = i;
		while (end < size && q[end] != '&')
			end++;
		if (end > i) {
			const char *eq = memchr(q + i, '=', end - i);
			const size_t kl = eq ? (size_t)(eq - (q + i)) : end - i;
			char *k = malloc(kl + 1);
			CHECK(k);
			unescape(q + i, kl, k);
			char *v = NULL;
			size_t vl = 0;
			if (eq) {
				const size_t rl = end - i - kl - 1;
				v = malloc(rl + 1);
				CHECK(v);
				vl = unescape(eq + 1, rl, v);
			}
			keys[n_args] = k;
			values[n_args++] = v;
			/* libmicrohttpd hands over keys as C strings. */
			serve_params_add(&p, k, v, vl);
			bool known = false;
			for (int j = 0; j < N_PARAMS; j++)
				if (strcmp(k, names[j]) == 0) {
					seen[j]++;
					known = true;
				}
			unknown |= !known;
		}
		i = end + 1;
	}

	struct hourly_args a;
	char err[512];
	memset(err, 0x55, sizeof(err));
	if (!serve_parse_hourly(&p, &a, err, sizeof(err))) {
		check_refusal(err, sizeof(err));
	} else {
		CHECK(!unknown);
		CHECK(seen[P_CUSTOMER] == 1 && seen[P_START] == 1 &&
		      seen[P_END] == 1 && seen[P_SPARSE] <= 1);
		/* /counts's parameters are unknown to /hourly. */
		CHECK(seen[P_BUCKET] + seen[P_TZ] + seen[P_TOP] + seen[P_ALL] ==
		      0);
		const size_t cl = strlen(a.customer_id);
		CHECK(cl == p.len[P_CUSTOMER] && cl > 0);
		CHECK(valid_utf8((const unsigned char *)a.customer_id, cl));
		CHECK(a.format == FORMAT_JSON);
		CHECK(strlen(p.value[P_START]) == p.len[P_START]);
		CHECK(strlen(p.value[P_END]) == p.len[P_END]);
		int64_t s0, e0;
		CHECK(evc_parse_time(p.value[P_START], &s0) == EVC_OK);
		CHECK(evc_parse_time(p.value[P_END], &e0) == EVC_OK);
		CHECK(s0 == a.start && e0 == a.end);
		CHECK(floor_to(a.start, 60) < floor_to(a.end, 60));
		if (seen[P_SPARSE] == 0)
			CHECK(!a.sparse);

		/* Past the library's one limit, a 400 naming it. */
		evc_hourly_result *r = NULL;
		const int rc =
		    evc_hourly(store, a.customer_id, a.start, a.end, &r);
		CHECK(rc == EVC_OK || rc == EVC_ERANGE);
		if (rc == EVC_OK) {
			CHECK(r->n_buckets >= 1 &&
			      r->n_buckets <= EVC_HOURLY_MAX_BUCKETS);
			CHECK(r->total == 0);
		} else {
			CHECK(strstr(evc_errmsg(store), "at most"));
		}
		evc_hourly_free(r);
	}
	check_counts(&p, seen, unknown);
	check_ingest(&p, seen, unknown);
	serve_params_free(&p);
	for (size_t i = 0; i < n_args; i++) {
		free(keys[i]);
		free(values[i]);
	}
	return 0;
}
