/* SPDX-License-Identifier: MIT */
/*
 * The packed form of one hour's minute counts, as stored per (customer,
 * hour): (minute, varint count) pairs in increasing minute order, zero
 * minutes left out. Real hours touch a handful of minutes, so this is
 * a few bytes where 60 counters would be sixty.
 */
#include "evc-int.h"

static size_t put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return false;
		const uint8_t b = p[(*pos)++];
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

size_t evc__minutes_put(uint8_t *out, unsigned minute, uint64_t count)
{
	out[0] = (uint8_t)minute;
	return 1 + put_varint(out + 1, count);
}

size_t evc__minutes_encode(const uint64_t counts[60], uint8_t *out)
{
	size_t n = 0;
	for (unsigned m = 0; m < 60; m++)
		if (counts[m])
			n += evc__minutes_put(out + n, m, counts[m]);
	return n;
}

/* Walks a blob, calling back per minute; the one place that knows the
 * format's validity rules. */
#define FOR_EACH_MINUTE(blob, len, MIN, CNT, BODY)                             \
	do {                                                                   \
		size_t pos_ = 0;                                               \
		int prev_ = -1;                                                \
		while (pos_ < (len)) {                                         \
			const unsigned MIN = (blob)[pos_++];                   \
			uint64_t CNT;                                          \
			if ((int)MIN <= prev_ || MIN >= 60 ||                  \
			    !get_varint((blob), (len), &pos_, &CNT) ||         \
			    CNT == 0)                                          \
				return false;                                  \
			prev_ = (int)MIN;                                      \
			BODY                                                   \
		}                                                              \
	} while (0)

bool evc__minutes_decode(const uint8_t *blob, size_t len, uint64_t counts[60])
{
	for (unsigned m = 0; m < 60; m++)
		counts[m] = 0;
	FOR_EACH_MINUTE(blob, len, minute, count, { counts[minute] = count; });
	return true;
}

/* A blob being read pair by pair, with the same validity rules as
 * FOR_EACH_MINUTE. minute is 60 once the blob is used up. */
struct reader {
	const uint8_t *p;
	size_t len, pos;
	unsigned minute;
	uint64_t count;
};

static bool next_pair(struct reader *r)
{
	if (r->pos >= r->len) {
		r->minute = 60;
		return true;
	}
	const unsigned m = r->p[r->pos++];
	const bool first = r->pos == 1;
	if ((!first && m <= r->minute) || m >= 60 ||
	    !get_varint(r->p, r->len, &r->pos, &r->count) || r->count == 0)
		return false;
	r->minute = m;
	return true;
}

bool evc__minutes_merge(const uint8_t *a, size_t a_len, const uint8_t *b,
                        size_t b_len, uint8_t *out, size_t *out_len)
{
	struct reader x = {.p = a, .len = a_len}, y = {.p = b, .len = b_len};
	size_t n = 0;

	if (!next_pair(&x) || !next_pair(&y))
		return false;
	while (x.minute < 60 || y.minute < 60) {
		if (x.minute == y.minute) {
			/* A sum that wraps to 0 is left out, as encoding the
			 * unpacked sums would. */
			const uint64_t sum = x.count + y.count;
			if (sum)
				n += evc__minutes_put(out + n, x.minute, sum);
			if (!next_pair(&x) || !next_pair(&y))
				return false;
		} else if (x.minute < y.minute) {
			n += evc__minutes_put(out + n, x.minute, x.count);
			if (!next_pair(&x))
				return false;
		} else {
			n += evc__minutes_put(out + n, y.minute, y.count);
			if (!next_pair(&y))
				return false;
		}
	}
	*out_len = n;
	return true;
}

int evc__minutes_subtract(const uint8_t *a, size_t a_len, const uint8_t *b,
                          size_t b_len, uint8_t *out, size_t *out_len)
{
	struct reader x = {.p = a, .len = a_len}, y = {.p = b, .len = b_len};
	size_t n = 0;

	if (!next_pair(&x) || !next_pair(&y))
		return -1;
	while (x.minute < 60 || y.minute < 60) {
		if (y.minute < x.minute)
			return 1; /* a minute b has and a lacks */
		if (x.minute == y.minute) {
			if (y.count > x.count)
				return 1;
			if (x.count > y.count)
				n += evc__minutes_put(out + n, x.minute,
				                      x.count - y.count);
			if (!next_pair(&x) || !next_pair(&y))
				return -1;
		} else {
			n += evc__minutes_put(out + n, x.minute, x.count);
			if (!next_pair(&x))
				return -1;
		}
	}
	*out_len = n;
	return 0;
}

bool evc__minutes_keep_from(const uint8_t *blob, size_t len, unsigned lo,
                            uint8_t *out, size_t *out_len, uint64_t *total)
{
	size_t n = 0;
	uint64_t t = 0;
	FOR_EACH_MINUTE(blob, len, minute, count, {
		if (minute >= lo) {
			n += evc__minutes_put(out + n, minute, count);
			t += count;
		}
	});
	*out_len = n;
	*total = t;
	return true;
}

bool evc__minutes_sum(const uint8_t *blob, size_t len, unsigned lo, unsigned hi,
                      uint64_t *sum, uint64_t *all)
{
	uint64_t s = 0, a = 0;
	FOR_EACH_MINUTE(blob, len, minute, count, {
		if (minute >= lo && minute < hi)
			s += count;
		a += count;
	});
	*sum = s;
	if (all)
		*all = a;
	return true;
}

bool evc__minutes_span(const uint8_t *blob, size_t len, unsigned *first,
                       unsigned *last)
{
	int lo = -1, hi = -1;
	FOR_EACH_MINUTE(blob, len, minute, count, {
		(void)count;
		if (lo < 0)
			lo = (int)minute;
		hi = (int)minute;
	});
	if (lo < 0)
		return false;
	*first = (unsigned)lo;
	*last = (unsigned)hi;
	return true;
}
