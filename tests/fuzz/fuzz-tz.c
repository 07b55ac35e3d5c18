/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the TZif reader (lib/tz.c).
 *
 * The input is a TZif file, given to evc__tz_parse() as an exact-size
 * copy (ASan sees any read past its end). A refusal must be EVC_EPARSE or
 * EVC_EINVAL (leap seconds) with a message and no zone. An accepted zone
 * must be consistent at the instants sampled: the range's ends, its
 * changes as evc__tz_next_change() walks them from EVC_TIME_MIN (a
 * second before and after each too) and instants drawn from the input:
 * - offsets within RFC 9636's [-89999, 93599];
 * - first_at_or_after(t + offset(t)) <= t, and its result f is where the
 *   wall clock first reaches that time: f + offset(f) >= local and
 *   f - 1 + offset(f - 1) < local; first_at_or_after never decreases as
 *   the wall time grows;
 * - a next change is after t, within the range, changes the offset, and
 *   the offset is that of t up to it;
 * - a formatted time parses back to t, or the local time is out of the
 *   years 0000-9999, or the offset is 24 hours or more.
 * Inputs starting with '+' or '-' also go to evc__tz_load() as fixed
 * offsets (which open no file), up to their first NUL.
 */
#include "tz.h"

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

#define MAX_CHANGES 64

static void check_instant(const evc_tz *tz, int64_t t)
{
	if (t < EVC_TIME_MIN || t > EVC_TIME_MAX)
		return;
	const int32_t off = evc__tz_offset(tz, t);
	CHECK(off >= -89999 && off <= 93599);

	const int64_t l = t + off;
	const int64_t f = evc__tz_first_at_or_after(tz, l);
	CHECK(f >= EVC_TIME_MIN && f <= t);
	if (f > EVC_TIME_MIN) {
		CHECK(f + evc__tz_offset(tz, f) >= l);
		CHECK(f - 1 + evc__tz_offset(tz, f - 1) < l);
	}
	CHECK(evc__tz_first_at_or_after(tz, l - 1) <= f);
	CHECK(evc__tz_first_at_or_after(tz, l + 1) >= f);

	int64_t next;
	if (evc__tz_next_change(tz, t, &next)) {
		CHECK(next > t && next <= EVC_TIME_MAX);
		CHECK(evc__tz_offset(tz, next) != evc__tz_offset(tz, next - 1));
		CHECK(evc__tz_offset(tz, next - 1) == off);
		CHECK(evc__tz_offset(tz, t + (next - t) / 2) == off);
	} else {
		CHECK(evc__tz_offset(tz, EVC_TIME_MAX) == off);
	}

	char buf[EVC_TZ_TIME_BUFSZ];
	int64_t back;
	const int n = evc__tz_format(tz, t, buf, sizeof(buf));
	if (n > 0) {
		CHECK(n == 25 && strlen(buf) == 25);
		CHECK(evc_parse_time(buf, &back) == EVC_OK && back == t);
	} else {
		/* RFC 3339 has no offsets of 24 hours or more. */
		const int32_t whole = off / 60 * 60;
		CHECK(n == EVC_ERANGE);
		CHECK(t + whole < EVC_TIME_MIN || t + whole > EVC_TIME_MAX ||
		      whole <= -86400 || whole >= 86400);
	}
}

static void check_zone(const evc_tz *tz, const uint8_t *data, size_t size)
{
	CHECK(!evc__tz_is_utc(tz));
	check_instant(tz, EVC_TIME_MIN);
	check_instant(tz, EVC_TIME_MAX);
	check_instant(tz, 0);

	int64_t t = EVC_TIME_MIN, next;
	for (int i = 0; i < MAX_CHANGES && evc__tz_next_change(tz, t, &next);
	     i++) {
		check_instant(tz, next - 1);
		check_instant(tz, next);
		check_instant(tz, next + 1);
		t = next;
	}
	/* Instants from the input's bytes, folded into the range. */
	const uint64_t span = (uint64_t)(EVC_TIME_MAX - EVC_TIME_MIN) + 1;
	for (size_t i = 0; i + 8 <= size && i < 8 * 16; i += 8) {
		uint64_t v;
		memcpy(&v, data + i, 8);
		check_instant(tz, EVC_TIME_MIN + (int64_t)(v % span));
		/* and near the epoch, where the transitions are */
		check_instant(tz, (int64_t)(v % (200ULL * 366 * 86400)) -
		                      100LL * 366 * 86400);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	char why[256] = "";
	evc_tz *tz = (evc_tz *)why;

	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	const int rc = evc__tz_parse(&tz, "fuzz", copy, size, why, sizeof(why));
	if (rc == EVC_OK) {
		CHECK(tz != NULL);
		CHECK(strcmp(evc__tz_name(tz), "fuzz") == 0);
		check_zone(tz, data, size);
		evc__tz_free(tz);
	} else {
		CHECK(rc == EVC_EPARSE || rc == EVC_EINVAL);
		CHECK(tz == NULL);
		CHECK(why[0] != '\0' && strstr(why, "\"fuzz\"") != NULL);
	}

	if (size > 0 && (data[0] == '+' || data[0] == '-')) {
		char name[16];
		const size_t n =
		    size < sizeof(name) - 1 ? size : sizeof(name) - 1;
		memcpy(name, data, n);
		name[n] = '\0';
		const int lrc = evc__tz_load(&tz, name, why, sizeof(why));
		if (lrc == EVC_OK) {
			const int32_t off = evc__tz_offset(tz, 0);
			CHECK(off % 60 == 0 && off > -86400 && off < 86400);
			CHECK(!evc__tz_next_change(tz, EVC_TIME_MIN,
			                           &(int64_t){0}));
			check_instant(tz, 0);
			evc__tz_free(tz);
		} else {
			CHECK(lrc == EVC_EINVAL && tz == NULL && why[0]);
		}
	}
	free(copy);
	return 0;
}
