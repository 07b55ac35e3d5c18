/* SPDX-License-Identifier: MIT */
/*
 * Output helpers shared by the subcommands: JSON strings, CSV fields, times
 * and the --format names, so that every command escapes the same way.
 */
#include "cli.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t cli_utf8_len(const unsigned char *s)
{
	uint32_t cp;

	/* A NUL is no continuation byte: reading stops there. */
	return evc__utf8_seq(s, strnlen((const char *)s, 4), &cp);
}

bool cli_is_utf8(const char *s)
{
	return evc__utf8_valid((const unsigned char *)s, strlen(s));
}

int64_t cli_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

int64_t cli_floor_minute(int64_t t)
{
	return cli_floor_div(t, 60);
}

void cli_put_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putc('"', f);
	while (*s) {
		size_t n = cli_utf8_len(s);

		if (n == 0) {
			/* File names are bytes, JSON is Unicode: a byte that
			 * is not UTF-8 can only be replaced. */
			fputs("\\ufffd", f);
			s++;
		} else if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
		} else if (*s < 0x20) {
			fprintf(f, "\\u%04x", *s++);
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	putc('"', f);
}

void cli_put_csv_field(FILE *f, const char *s, size_t len)
{
	if (!memchr(s, ',', len) && !memchr(s, '"', len) &&
	    !memchr(s, '\r', len) && !memchr(s, '\n', len)) {
		fwrite(s, 1, len, f);
		return;
	}
	putc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			putc('"', f);
		putc(s[i], f);
	}
	putc('"', f);
}

const char *cli_errmsg(const evc_store *store, int rc)
{
	const char *msg = evc_errmsg(store);

	return msg && *msg ? msg : evc_strerror(rc);
}

void cli_put_as_of(FILE *f, int64_t as_of)
{
	char t[EVC_TIME_BUFSZ];

	if (as_of)
		fprintf(f, ",\"as_of\":\"%s\"", cli_fmt_time(as_of, t));
	else
		fputs(",\"as_of\":null", f);
}

const char *cli_fmt_time(int64_t t, char buf[EVC_TIME_BUFSZ])
{
	/* Times printed come from the library, so within range; the fallback
	 * only keeps a library bug from printing garbage. */
	if (evc_format_time(t, buf, EVC_TIME_BUFSZ) < 0)
		snprintf(buf, EVC_TIME_BUFSZ, "%" PRId64, t);
	return buf;
}

int cli_width_u64(uint64_t v)
{
	char digits[24];

	return snprintf(digits, sizeof(digits), "%" PRIu64, v);
}

int cli_max_int(int a, int b)
{
	return a > b ? a : b;
}

void *cli_listing_keep(struct cli_listing *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *rows = realloc(l->rows, cap * l->size);

		if (!rows) {
			l->nomem = true;
			return NULL;
		}
		l->rows = rows;
		l->cap = cap;
	}
	return (char *)l->rows + l->n * l->size;
}

int cli_listing_next(struct cli_listing *l)
{
	l->n++;
	/* No use listing the rest. */
	return ferror(stdout) ? 1 : 0;
}

int cli_listing_end(struct cli_listing *l, const evc_store *store, int rc)
{
	free(l->rows);
	l->rows = NULL;
	if (l->nomem) {
		fputs(PROG ": out of memory\n", stderr);
		return EXIT_FAIL;
	}
	/* A write error stopped the listing: main() reports it. */
	if (rc == EVC_EABORTED)
		return EXIT_FAIL;
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
