/* SPDX-License-Identifier: MIT */
/*
 * Row checking: what makes a CSV record a countable event (four fields, a
 * sane customer id, a valid timestamp) and what only earns a warning (a
 * transaction id that is not a UUID). Runs once per input row.
 */
#include "evc-int.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_CUSTOMER_ID 255

/* Words are loaded with memcpy so that the byte at the lowest address is
 * the same byte of the word whatever the endianness: masks are built from
 * byte strings the same way. */
static inline uint64_t load64(const void *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* High bit of each byte set when that byte of w is in [lo, hi]; w must have
 * no byte >= 0x80 and lo must be at least 1, so no byte carries. */
static inline uint64_t in_range(uint64_t w, unsigned lo, unsigned hi)
{
	const uint64_t ge_lo = w + ONES * (0x80 - lo);
	const uint64_t gt_hi = w + ONES * (0x7f - hi);
	return ge_lo & ~gt_hi & HIGH;
}

/* All eight bytes are hexadecimal digits. Branch-free: a byte loop over
 * random hex mispredicts on nearly every digit/letter switch, and this runs
 * once per row. */
static inline bool hex8(uint64_t w)
{
	if (w & HIGH)
		return false;
	const uint64_t digit = in_range(w, '0', '9');
	/* Setting bit 5 folds 'A'-'F' onto 'a'-'f' and nothing else onto
	 * them; digits are tested on the unfolded bytes. */
	const uint64_t letter = in_range(w | ONES * 0x20, 'a', 'f');
	return (digit | letter) == HIGH;
}

bool evc__is_uuid(const char *s, size_t len)
{
	/* Bytes 8-15 and 16-23 each hold two of the dashes (at 8, 13 and at
	 * 18, 23): they are checked, then replaced by a digit so that the
	 * word passes as hex. Bytes 24-35 are checked as 24-31 and 28-35. */
	static const unsigned char dash_a[8] = {0xff, 0, 0, 0, 0, 0xff, 0, 0};
	static const unsigned char dash_b[8] = {0, 0, 0xff, 0, 0, 0, 0, 0xff};

	if (len != 36)
		return false;
	const uint64_t ma = load64(dash_a), mb = load64(dash_b);
	const uint64_t wa = load64(s + 8), wb = load64(s + 16);
	if ((wa & ma) != (ma & ONES * '-') || (wb & mb) != (mb & ONES * '-'))
		return false;
	return hex8(load64(s)) && hex8((wa & ~ma) | (ma & ONES * '0')) &&
	       hex8((wb & ~mb) | (mb & ONES * '0')) && hex8(load64(s + 24)) &&
	       hex8(load64(s + 28));
}

static bool field_is(const evc_csv_field *f, const char *name)
{
	return f->len == strlen(name) && strncasecmp(f->ptr, name, f->len) == 0;
}

bool evc__is_header(const evc_csv_record *rec)
{
	return rec->n_fields == 4 && !rec->error &&
	       field_is(&rec->field[0], "customer_id") &&
	       field_is(&rec->field[1], "event_type") &&
	       field_is(&rec->field[2], "transaction_id") &&
	       field_is(&rec->field[3], "timestamp");
}

static const char *check_customer(const evc_csv_field *f)
{
	const unsigned char *p = (const unsigned char *)f->ptr;
	if (f->len == 0)
		return "empty customer id";
	if (f->len > MAX_CUSTOMER_ID)
		return "customer id longer than 255 bytes";
	/* Printable ASCII, the usual case, is checked a word at a time; any
	 * other byte sends the id through the byte loop below. */
	size_t i = 0;
	for (; i + 8 <= f->len; i += 8) {
		const uint64_t w = load64(p + i);
		if ((w & HIGH) || in_range(w, 0x20, 0x7e) != HIGH)
			break;
	}
	bool ascii = true;
	for (; i < f->len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "control character in customer id";
		ascii &= p[i] < 0x80;
	}
	if (ascii)
		return NULL;
	if (!evc__utf8_valid(p, f->len))
		return "customer id is not valid UTF-8";
	/* No C1 controls or bidirectional overrides either: they would
	 * garble tables or reorder what follows them on screen. */
	switch (evc__utf8_unprintable(p, f->len)) {
	case EVC_PRINTABLE:
	case EVC_NOT_UTF8:
		break;
	case EVC_CONTROL:
		return "control character in customer id";
	case EVC_BIDI_CONTROL:
		return "bidirectional control character in customer id";
	}
	return NULL;
}

/* Copy at most `max` bytes of a field for a message, printable only. */
static void printable(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < cap; i++) {
		const unsigned char c = (unsigned char)src[i];
		dst[n++] = c < 0x20 || c == 0x7f || c == '"' ? '?' : (char)c;
	}
	if (n + 4 >= cap && len > n) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

const char *evc__check_row(const evc_csv_record *rec, int64_t *minute,
                           const char **warn, char reason[EVC_REASON_MAX],
                           evc_date_cache *cache)
{
	const char *why;
	int64_t t;

	*warn = NULL;
	if (rec->error) {
		snprintf(reason, EVC_REASON_MAX, "%s", rec->error);
		return reason;
	}
	if (rec->n_fields != EVC_CSV_FIELDS) {
		snprintf(reason, EVC_REASON_MAX, "expected 4 fields, found %zu",
		         rec->n_fields);
		return reason;
	}
	if ((why = check_customer(&rec->field[0]))) {
		snprintf(reason, EVC_REASON_MAX, "%s", why);
		return reason;
	}
	const evc_csv_field *ts = &rec->field[3];
	if (evc__parse_ts_cached(ts->ptr, ts->len, cache, &t, &why) != EVC_OK) {
		char shown[48];
		printable(shown, sizeof(shown), ts->ptr, ts->len);
		snprintf(reason, EVC_REASON_MAX, "bad timestamp \"%s\": %s",
		         shown, why);
		return reason;
	}
	*minute = evc__floor_div(t, 60);
	if (!evc__is_uuid(rec->field[2].ptr, rec->field[2].len))
		*warn = "transaction id is not a UUID";
	return NULL;
}
