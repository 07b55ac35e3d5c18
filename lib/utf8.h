/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 validation, the one copy shared by the library (customer ids in
 * input rows) and the command line tool (arguments, JSON output). Depends
 * on nothing else of the library.
 */
#ifndef EVC_UTF8_H
#define EVC_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the well-formed UTF-8 sequence at s, of which `avail`
 * bytes may be read, and its code point in *cp; 0 when the bytes there are
 * not UTF-8 (a stray continuation byte, an overlong form, a surrogate, a
 * value past U+10FFFF, or a sequence cut short). */
size_t evc__utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp);

/* Whether all `len` bytes at s are UTF-8. */
bool evc__utf8_valid(const unsigned char *s, size_t len);

/* Why text cannot be shown as it is in one line: */
enum evc_unprintable {
	EVC_PRINTABLE = 0,
	EVC_NOT_UTF8,
	/* a C0 or C1 control character: U+0000-U+001F, U+007F-U+009F */
	EVC_CONTROL,
	/* a bidirectional embedding, override or isolate (U+202A-U+202E,
	 * U+2066-U+2069), which would reorder what follows it on screen */
	EVC_BIDI_CONTROL,
};

/* The first reason why `len` bytes at s are not printable text. */
enum evc_unprintable evc__utf8_unprintable(const unsigned char *s, size_t len);

#endif /* EVC_UTF8_H */
