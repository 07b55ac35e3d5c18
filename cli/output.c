/* SPDX-License-Identifier: MIT */
/*
 * Output helpers shared by the subcommands: JSON strings, CSV fields, times
 * and the --format names, so that every command escapes the same way.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t cli_utf8_len(const unsigned char *s)
{
	unsigned c = *s, n, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (unsigned i = 1; i <= n; i++) {
		/* Also stops at the NUL, which is no continuation byte. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF. */
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n + 1;
}

bool cli_is_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t n; *u; u += n) {
		n = cli_utf8_len(u);
		if (n == 0)
			return false;
	}
	return true;
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
