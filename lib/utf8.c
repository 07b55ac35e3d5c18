/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 validation (see utf8.h), after RFC 3629: the shortest form only, no
 * surrogates, nothing past U+10FFFF.
 */
#include "utf8.h"

size_t evc__utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
	const unsigned c = avail ? s[0] : 0;
	size_t n;
	uint32_t v;

	if (avail == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (avail <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 2 && v < 0x800) || (n == 3 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return n + 1;
}

bool evc__utf8_valid(const unsigned char *s, size_t len)
{
	uint32_t cp;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = evc__utf8_seq(s + i, len - i, &cp)) == 0)
			return false;
	return true;
}

enum evc_unprintable evc__utf8_unprintable(const unsigned char *s, size_t len)
{
	uint32_t cp;

	for (size_t i = 0, n; i < len; i += n) {
		if ((n = evc__utf8_seq(s + i, len - i, &cp)) == 0)
			return EVC_NOT_UTF8;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return EVC_CONTROL;
		if ((cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return EVC_BIDI_CONTROL;
	}
	return EVC_PRINTABLE;
}
