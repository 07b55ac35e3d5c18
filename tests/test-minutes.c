/* SPDX-License-Identifier: MIT */
/* The packed per-hour minute counts (evc__minutes_*). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* Random counts: sparse or dense, small or huge, depending on the seed. */
static void random_counts(uint64_t seed, uint64_t counts[60])
{
	uint64_t st = seed;
	unsigned density = (unsigned)tu_rand_below(&st, 5); /* 0..4 of 4 */
	unsigned mag = (unsigned)tu_rand_below(&st, 4);

	for (int m = 0; m < 60; m++) {
		counts[m] = 0;
		if (tu_rand_below(&st, 4) >= density)
			continue;
		uint64_t v = tu_rand(&st);
		switch (mag) {
		case 0:
			v = v % 127 + 1;
			break;
		case 1:
			v = v % 100000 + 1;
			break;
		case 2:
			v = (v >> tu_rand_below(&st, 64)) | 1;
			break;
		default:
			v |= 1;
			break;
		}
		counts[m] = v;
	}
}

START_TEST(round_trip_random)
{
	uint64_t counts[60], back[60];
	uint8_t blob[EVC_MINUTES_BLOB_MAX + 16];

	random_counts(1000 + (uint64_t)_i, counts);
	memset(blob, 0xee, sizeof(blob));
	size_t len = evc__minutes_encode(counts, blob);
	ck_assert_uint_le(len, EVC_MINUTES_BLOB_MAX);
	for (size_t k = len; k < sizeof(blob); k++)
		ck_assert_uint_eq(blob[k], 0xee);
	memset(back, 0, sizeof(back));
	ck_assert(evc__minutes_decode(blob, len, back));
	for (int m = 0; m < 60; m++)
		ck_assert_msg(back[m] == counts[m], "minute %d: %llu != %llu",
		              m, (unsigned long long)back[m],
		              (unsigned long long)counts[m]);

	/* The blob is canonical: the same counts give the same bytes. */
	uint8_t again[EVC_MINUTES_BLOB_MAX];
	ck_assert_uint_eq(evc__minutes_encode(back, again), len);
	ck_assert_mem_eq(again, blob, len);
}
END_TEST

START_TEST(all_zero_is_empty_blob)
{
	uint64_t counts[60] = {0}, back[60];
	uint8_t blob[EVC_MINUTES_BLOB_MAX];
	uint64_t sum = 99;

	ck_assert_uint_eq(evc__minutes_encode(counts, blob), 0);
	memset(back, 0, sizeof(back));
	ck_assert(evc__minutes_decode(blob, 0, back));
	for (int m = 0; m < 60; m++)
		ck_assert_uint_eq(back[m], 0);
	ck_assert(evc__minutes_sum(blob, 0, 0, 60, &sum, NULL));
	ck_assert_uint_eq(sum, 0);
}
END_TEST

START_TEST(largest_counts_fit)
{
	uint64_t counts[60], back[60];
	uint8_t blob[EVC_MINUTES_BLOB_MAX];
	uint64_t sum = 0;

	for (int m = 0; m < 60; m++)
		counts[m] = UINT64_MAX;
	size_t len = evc__minutes_encode(counts, blob);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_le(len, EVC_MINUTES_BLOB_MAX);
	memset(back, 0, sizeof(back));
	ck_assert(evc__minutes_decode(blob, len, back));
	for (int m = 0; m < 60; m++)
		ck_assert(back[m] == UINT64_MAX);
	ck_assert(evc__minutes_sum(blob, len, 7, 8, &sum, NULL));
	ck_assert(sum == UINT64_MAX);
}
END_TEST

START_TEST(small_counts_layout)
{
	uint64_t counts[60] = {0};
	uint8_t blob[EVC_MINUTES_BLOB_MAX];

	/* (minute, varint count) pairs: one byte each below 128. */
	counts[5] = 1;
	ck_assert_uint_eq(evc__minutes_encode(counts, blob), 2);
	ck_assert_uint_eq(blob[0], 5);
	ck_assert_uint_eq(blob[1], 1);
	counts[0] = 3;
	counts[59] = 127;
	ck_assert_uint_eq(evc__minutes_encode(counts, blob), 6);
	static const uint8_t want[] = {0, 3, 5, 1, 59, 127};
	ck_assert_mem_eq(blob, want, sizeof(want));
}
END_TEST

START_TEST(sum_matches_naive)
{
	uint64_t counts[60];
	uint8_t blob[EVC_MINUTES_BLOB_MAX];

	random_counts(5000 + (uint64_t)_i, counts);
	/* Keep the sums from wrapping: at most 60 * 2^57. */
	for (int m = 0; m < 60; m++)
		counts[m] >>= 7;
	size_t len = evc__minutes_encode(counts, blob);
	for (unsigned lo = 0; lo <= 60; lo++) {
		for (unsigned hi = lo; hi <= 60; hi++) {
			uint64_t want = 0, got = 12345;
			for (unsigned m = lo; m < hi; m++)
				want += counts[m];
			ck_assert(
			    evc__minutes_sum(blob, len, lo, hi, &got, NULL));
			ck_assert_msg(got == want, "[%u, %u): %llu != %llu", lo,
			              hi, (unsigned long long)got,
			              (unsigned long long)want);
		}
	}
}
END_TEST

typedef struct bad_blob {
	const char *name;
	uint8_t bytes[8];
	size_t len;
} bad_blob;

static const bad_blob bad_blobs[] = {
    {"minute 60", {60, 1}, 2},
    {"minute 255", {255, 1}, 2},
    {"minute 60 after a good one", {3, 1, 60, 1}, 4},
    {"decreasing minutes", {59, 1, 3, 1}, 4},
    {"decreasing minutes later", {1, 1, 9, 2, 8, 1}, 6},
    {"truncated varint", {5, 0x80}, 2},
    {"truncated varint, two bytes", {5, 0xff, 0xff}, 3},
    {"minute without count", {5}, 1},
    {"minute without count after a pair", {5, 1, 6}, 3},
    {"repeated minute", {3, 1, 3, 1}, 4},
    {"zero count", {5, 0}, 2},
    {"zero count after a pair", {1, 1, 5, 0}, 4},
};

START_TEST(malformed_blob_rejected)
{
	const bad_blob *b = &bad_blobs[_i];
	uint64_t counts[60], sum;

	memset(counts, 0, sizeof(counts));
	ck_assert_msg(!evc__minutes_decode(b->bytes, b->len, counts),
	              "decode accepted: %s", b->name);
	ck_assert_msg(!evc__minutes_sum(b->bytes, b->len, 0, 60, &sum, NULL),
	              "sum accepted: %s", b->name);
	/* A merge fails on a malformed blob on either side. */
	const uint8_t good[] = {0, 1, 30, 2, 59, 3};
	uint8_t out[EVC_MINUTES_BLOB_MAX];
	size_t len;
	ck_assert_msg(!evc__minutes_merge(b->bytes, b->len, good, sizeof(good),
	                                  out, &len),
	              "merge accepted: %s", b->name);
	ck_assert_msg(!evc__minutes_merge(good, sizeof(good), b->bytes, b->len,
	                                  out, &len),
	              "merge accepted on the right: %s", b->name);
	ck_assert(!evc__minutes_merge(b->bytes, b->len, NULL, 0, out, &len));
	/* So do a subtraction and a cut. */
	uint64_t total;
	ck_assert_msg(
	    evc__minutes_subtract(b->bytes, b->len, NULL, 0, out, &len) == -1,
	    "subtract accepted: %s", b->name);
	ck_assert_msg(
	    !evc__minutes_keep_from(b->bytes, b->len, 0, out, &len, &total),
	    "keep_from accepted: %s", b->name);
}
END_TEST

/* Pairs appended one by one give the canonical blob. */
START_TEST(put_builds_the_encoded_blob)
{
	uint64_t counts[60];
	uint8_t want[EVC_MINUTES_BLOB_MAX], got[EVC_MINUTES_BLOB_MAX];

	random_counts(5000 + (uint64_t)_i, counts);
	const size_t len = evc__minutes_encode(counts, want);
	size_t n = 0;
	for (unsigned m = 0; m < 60; m++)
		if (counts[m])
			n += evc__minutes_put(got + n, m, counts[m]);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(got, want, len);
}
END_TEST

/* Merging packed blobs equals unpacking, adding and packing, sums that
 * wrap around included; either blob may be empty. */
START_TEST(merge_matches_unpacked_sum)
{
	uint64_t a[60], b[60], sum[60];
	uint8_t pa[EVC_MINUTES_BLOB_MAX], pb[EVC_MINUTES_BLOB_MAX];
	uint8_t want[EVC_MINUTES_BLOB_MAX], got[EVC_MINUTES_BLOB_MAX + 16];

	random_counts(7000 + (uint64_t)_i, a);
	random_counts(9000 + (uint64_t)_i * 3, b);
	if (_i % 10 == 0)
		memset(a, 0, sizeof(a));
	if (_i % 10 == 1)
		memset(b, 0, sizeof(b));
	if (_i % 10 == 2) {
		/* Every minute in both, some sums wrapping to 0. */
		for (unsigned m = 0; m < 60; m++) {
			a[m] = UINT64_MAX - m;
			b[m] = m % 3 == 0 ? m + 1 : 7;
		}
	}
	const size_t la = evc__minutes_encode(a, pa);
	const size_t lb = evc__minutes_encode(b, pb);
	for (unsigned m = 0; m < 60; m++)
		sum[m] = a[m] + b[m];
	const size_t lw = evc__minutes_encode(sum, want);
	size_t lg = 9999;
	memset(got, 0xee, sizeof(got));
	ck_assert(evc__minutes_merge(pa, la, pb, lb, got, &lg));
	ck_assert_uint_eq(lg, lw);
	ck_assert_mem_eq(got, want, lw);
	for (size_t k = lg; k < sizeof(got); k++)
		ck_assert_uint_eq(got[k], 0xee);
	/* And it commutes. */
	ck_assert(evc__minutes_merge(pb, lb, pa, la, got, &lg));
	ck_assert_uint_eq(lg, lw);
	ck_assert_mem_eq(got, want, lw);
}
END_TEST

START_TEST(subtract_matches_unpacked_difference)
{
	uint64_t a[60], b[60], diff[60];
	uint8_t pa[EVC_MINUTES_BLOB_MAX], pb[EVC_MINUTES_BLOB_MAX];
	uint8_t want[EVC_MINUTES_BLOB_MAX], got[EVC_MINUTES_BLOB_MAX + 16];
	uint64_t st = 555 + (uint64_t)_i;

	/* b takes a random part of each of a's minutes, or all of it. */
	random_counts(11000 + (uint64_t)_i, a);
	for (unsigned m = 0; m < 60; m++) {
		const unsigned how = (unsigned)tu_rand_below(&st, 4);
		b[m] = how == 0   ? 0
		       : how == 1 ? a[m]
		       : a[m]     ? tu_rand(&st) % (a[m] + 1)
		                  : 0;
		diff[m] = a[m] - b[m];
	}
	const size_t la = evc__minutes_encode(a, pa);
	const size_t lb = evc__minutes_encode(b, pb);
	const size_t lw = evc__minutes_encode(diff, want);
	size_t lg = 9999;
	memset(got, 0xee, sizeof(got));
	ck_assert_int_eq(evc__minutes_subtract(pa, la, pb, lb, got, &lg), 0);
	ck_assert_uint_eq(lg, lw);
	ck_assert_mem_eq(got, want, lw);
	ck_assert_uint_le(lg, la);
	for (size_t k = lg; k < sizeof(got); k++)
		ck_assert_uint_eq(got[k], 0xee);
	/* Adding b back gives a. */
	uint8_t back[EVC_MINUTES_BLOB_MAX];
	size_t lbk;
	ck_assert(evc__minutes_merge(got, lg, pb, lb, back, &lbk));
	ck_assert_uint_eq(lbk, la);
	ck_assert_mem_eq(back, pa, la);
}
END_TEST

START_TEST(subtract_refuses_to_go_below_zero)
{
	uint64_t a[60] = {0}, b[60] = {0};
	uint8_t pa[EVC_MINUTES_BLOB_MAX], pb[EVC_MINUTES_BLOB_MAX];
	uint8_t out[EVC_MINUTES_BLOB_MAX];
	size_t lo;

	a[5] = 3;
	a[40] = 1;
	/* More than there is in a minute a has. */
	b[5] = 4;
	size_t la = evc__minutes_encode(a, pa), lb = evc__minutes_encode(b, pb);
	ck_assert_int_eq(evc__minutes_subtract(pa, la, pb, lb, out, &lo), 1);
	/* A minute a does not have, before, between and after its own. */
	const unsigned missing[] = {0, 6, 59};
	for (size_t i = 0; i < 3; i++) {
		memset(b, 0, sizeof(b));
		b[missing[i]] = 1;
		lb = evc__minutes_encode(b, pb);
		ck_assert_int_eq(
		    evc__minutes_subtract(pa, la, pb, lb, out, &lo), 1);
	}
	/* Taking everything leaves the empty blob. */
	ck_assert_int_eq(evc__minutes_subtract(pa, la, pa, la, out, &lo), 0);
	ck_assert_uint_eq(lo, 0);
	/* Malformed either side. */
	const uint8_t bad[] = {7, 0};
	ck_assert_int_eq(evc__minutes_subtract(bad, 2, pa, la, out, &lo), -1);
	ck_assert_int_eq(evc__minutes_subtract(pa, la, bad, 2, out, &lo), -1);
}
END_TEST

START_TEST(keep_from_drops_the_earlier_minutes)
{
	uint64_t a[60], kept[60];
	uint8_t pa[EVC_MINUTES_BLOB_MAX], want[EVC_MINUTES_BLOB_MAX];
	uint8_t got[EVC_MINUTES_BLOB_MAX];
	const unsigned lo = (unsigned)(_i % 61);

	random_counts(13000 + (uint64_t)_i, a);
	uint64_t total = 0;
	for (unsigned m = 0; m < 60; m++) {
		kept[m] = m >= lo ? a[m] : 0;
		total += kept[m];
	}
	const size_t la = evc__minutes_encode(a, pa);
	const size_t lw = evc__minutes_encode(kept, want);
	size_t lg = 9999;
	uint64_t t = 1;
	ck_assert(evc__minutes_keep_from(pa, la, lo, got, &lg, &t));
	ck_assert_uint_eq(lg, lw);
	ck_assert_mem_eq(got, want, lw);
	ck_assert_uint_eq(t, total);
	const uint8_t bad[] = {9, 1, 9, 1};
	ck_assert(!evc__minutes_keep_from(bad, 4, lo, got, &lg, &t));
}
END_TEST

static Suite *minutes_suite(void)
{
	Suite *s = suite_create("minutes");
	TCase *tc;

	tc = tcase_create("encode_decode");
	tcase_add_loop_test(tc, round_trip_random, 0, 300);
	tcase_add_test(tc, all_zero_is_empty_blob);
	tcase_add_test(tc, largest_counts_fit);
	tcase_add_test(tc, small_counts_layout);
	tcase_add_loop_test(tc, put_builds_the_encoded_blob, 0, 100);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_add_loop_test(tc, merge_matches_unpacked_sum, 0, 300);
	suite_add_tcase(s, tc);

	tc = tcase_create("subtract");
	tcase_add_loop_test(tc, subtract_matches_unpacked_difference, 0, 300);
	tcase_add_test(tc, subtract_refuses_to_go_below_zero);
	tcase_add_loop_test(tc, keep_from_drops_the_earlier_minutes, 0, 122);
	suite_add_tcase(s, tc);

	tc = tcase_create("sum");
	tcase_add_loop_test(tc, sum_matches_naive, 0, 50);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, malformed_blob_rejected, 0,
	                    (int)(sizeof(bad_blobs) / sizeof(bad_blobs[0])));
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(minutes_suite)
