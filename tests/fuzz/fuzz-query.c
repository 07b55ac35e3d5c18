/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the query string of serve's /hourly, checked by
 * serve_parse_hourly() (cli/serve-query.c) as cli/serve-http.c does for each
 * request, without a server.
 *
 * The input is the raw query string. It is split and decoded here as
 * libmicrohttpd does ('&' between arguments, '=' between name and value,
 * '+' is a space, %XX a byte; a name without '=' has a NULL value), then
 * the arguments go through serve_params_add() and serve_parse_hourly().
 *
 * Checks: a refusal has a message, which the error body escapes into valid
 * JSON (valid UTF-8, no raw control characters); an acceptance has exactly
 * one customer_id, start and end, no unknown argument, a non-empty UTF-8
 * customer id without NULs, bounds that evc_parse_time() gives and that
 * are ordered once floored, and a range that evc_hourly() answers in at
 * most EVC_HOURLY_MAX_BUCKETS buckets or refuses as too wide.
 */
#include "serve-query.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[N_PARAMS] = {"customer_id", "start",
	                                            "end", "sparse"};
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
		const size_t el = strnlen(err, sizeof(err));
		CHECK(el > 0 && el < sizeof(err));
		/* The error body, as send_error() writes it. */
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
	} else {
		CHECK(!unknown);
		for (int j = 0; j < N_PARAMS; j++)
			CHECK(seen[j] <= 1 && (j == P_SPARSE || seen[j] == 1));
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
	for (size_t i = 0; i < n_args; i++) {
		free(keys[i]);
		free(values[i]);
	}
	return 0;
}
