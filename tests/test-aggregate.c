/* SPDX-License-Identifier: MIT */
/* The per-batch (customer, minute) aggregation (evc__agg_*). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static evc_agg *new_agg(size_t max_keys)
{
	evc_agg *a = NULL;
	ck_assert_int_eq(evc__agg_new(&a, max_keys), EVC_OK);
	ck_assert_ptr_nonnull(a);
	return a;
}

static void add(evc_agg *a, const char *cust, int64_t minute)
{
	ck_assert_int_eq(evc__agg_add(a, cust, strlen(cust), minute), EVC_OK);
}

/* The name of a customer index as a NUL-terminated copy. */
static char *name_of(const evc_agg *a, uint32_t idx)
{
	size_t len = 9999;
	const char *p = evc__agg_customer(a, idx, &len);
	ck_assert_ptr_nonnull(p);
	char *s = malloc(len + 1);
	ck_assert_ptr_nonnull(s);
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Count of (cust, minute) in the sorted entries, 0 when absent. */
static uint64_t count_of(evc_agg *a, const char *cust, int64_t minute)
{
	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	uint64_t found = 0;
	int hits = 0;
	ck_assert(n == 0 || e != NULL);
	for (size_t i = 0; i < n; i++) {
		char *name = name_of(a, e[i].customer);
		if (strcmp(name, cust) == 0 && e[i].minute == minute) {
			found = e[i].count;
			hits++;
		}
		free(name);
	}
	ck_assert_int_le(hits, 1);
	return found;
}

START_TEST(counts_per_customer_and_minute)
{
	evc_agg *a = new_agg(1000);
	add(a, "alice", 100);
	add(a, "alice", 100);
	add(a, "alice", 101);
	add(a, "bob", 100);
	add(a, "alice", 100);
	ck_assert_uint_eq(evc__agg_keys(a), 3);
	ck_assert_uint_eq(evc__agg_customers(a), 2);
	ck_assert_uint_eq(count_of(a, "alice", 100), 3);
	ck_assert_uint_eq(count_of(a, "alice", 101), 1);
	ck_assert_uint_eq(count_of(a, "bob", 100), 1);
	ck_assert_uint_eq(count_of(a, "bob", 101), 0);
	evc__agg_free(a);
}
END_TEST

START_TEST(customer_interning)
{
	evc_agg *a = new_agg(1000);
	/* Ids are bytes with a length: prefixes and embedded NULs differ. */
	ck_assert_int_eq(evc__agg_add(a, "ab", 2, 1), EVC_OK);
	ck_assert_int_eq(evc__agg_add(a, "abc", 3, 1), EVC_OK);
	ck_assert_int_eq(evc__agg_add(a, "a\0b", 3, 1), EVC_OK);
	ck_assert_int_eq(evc__agg_add(a, "abcdef", 2, 2), EVC_OK); /* "ab" */
	ck_assert_uint_eq(evc__agg_customers(a), 3);
	ck_assert_uint_eq(evc__agg_keys(a), 4);

	int seen_ab = 0, seen_abc = 0, seen_nul = 0;
	for (uint32_t i = 0; i < evc__agg_customers(a); i++) {
		size_t len = 9999;
		const char *p = evc__agg_customer(a, i, &len);
		ck_assert_ptr_nonnull(p);
		if (len == 2 && memcmp(p, "ab", 2) == 0)
			seen_ab++;
		else if (len == 3 && memcmp(p, "abc", 3) == 0)
			seen_abc++;
		else if (len == 3 && memcmp(p, "a\0b", 3) == 0)
			seen_nul++;
		else
			ck_abort_msg("unexpected customer %u (len %zu)", i,
			             len);
	}
	ck_assert_int_eq(seen_ab, 1);
	ck_assert_int_eq(seen_abc, 1);
	ck_assert_int_eq(seen_nul, 1);

	/* The entries for "ab" carry both of its minutes. */
	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, 4);
	int ab_entries = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *p = evc__agg_customer(a, e[i].customer, &len);
		if (len == 2 && memcmp(p, "ab", 2) == 0) {
			ck_assert(e[i].minute == 1 || e[i].minute == 2);
			ck_assert_uint_eq(e[i].count, 1);
			ab_entries++;
		}
	}
	ck_assert_int_eq(ab_entries, 2);
	evc__agg_free(a);
}
END_TEST

/* A naive table to compare with. */
typedef struct naive_key {
	unsigned cust;
	int64_t minute;
	uint64_t count;
} naive_key;

START_TEST(sorted_matches_naive)
{
	enum { N_CUST = 37, N_MIN = 50, N_ADD = 20000 };
	static naive_key table[N_CUST * N_MIN];
	uint64_t st = 42 + (uint64_t)_i;
	char names[N_CUST][16];
	evc_agg *a = new_agg(1u << 20);
	size_t used = 0;

	memset(table, 0, sizeof(table));
	for (unsigned c = 0; c < N_CUST; c++)
		snprintf(names[c], sizeof(names[c]), "cust-%u", c * 7919u);
	for (int k = 0; k < N_ADD; k++) {
		unsigned c = (unsigned)tu_rand_below(&st, N_CUST);
		/* Minutes on both sides of the epoch, far apart. */
		int64_t m = ((int64_t)tu_rand_below(&st, N_MIN) - N_MIN / 2) *
		            (int64_t)(1 + _i * 1000003);
		add(a, names[c], m);
		size_t j;
		for (j = 0; j < used; j++)
			if (table[j].cust == c && table[j].minute == m)
				break;
		if (j == used) {
			table[used].cust = c;
			table[used].minute = m;
			table[used].count = 0;
			used++;
		}
		table[j].count++;
	}
	ck_assert_uint_eq(evc__agg_keys(a), used);

	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(n, used);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			int in_order = e[i - 1].customer < e[i].customer ||
			               (e[i - 1].customer == e[i].customer &&
			                e[i - 1].minute < e[i].minute);
			ck_assert_msg(in_order, "entry %zu out of order", i);
		}
		char *name = name_of(a, e[i].customer);
		unsigned c = N_CUST;
		for (unsigned k = 0; k < N_CUST; k++)
			if (strcmp(names[k], name) == 0)
				c = k;
		ck_assert_msg(c < N_CUST, "unknown customer %s", name);
		free(name);
		size_t j;
		for (j = 0; j < used; j++)
			if (table[j].cust == c &&
			    table[j].minute == e[i].minute)
				break;
		ck_assert_msg(j < used, "entry %zu not added", i);
		ck_assert_uint_eq(e[i].count, table[j].count);
		total += e[i].count;
	}
	ck_assert_uint_eq(total, N_ADD);
	evc__agg_free(a);
}
END_TEST

START_TEST(full_at_max_keys)
{
	evc_agg *a = new_agg(3);
	ck_assert(!evc__agg_full(a));
	add(a, "a", 1);
	add(a, "a", 2);
	ck_assert(!evc__agg_full(a));
	/* Repeats of known keys do not fill it. */
	for (int i = 0; i < 100; i++)
		add(a, "a", 1);
	ck_assert(!evc__agg_full(a));
	ck_assert_uint_eq(evc__agg_keys(a), 2);
	add(a, "b", 1);
	ck_assert_uint_eq(evc__agg_keys(a), 3);
	ck_assert(evc__agg_full(a));
	/* A new key does not fit: the caller must flush first. */
	ck_assert_int_eq(evc__agg_add(a, "c", 1, 1), EVC_ERANGE);
	ck_assert_int_eq(evc__agg_add(a, "a", 1, 3), EVC_ERANGE);
	ck_assert_uint_eq(evc__agg_keys(a), 3);
	ck_assert_uint_eq(count_of(a, "a", 1), 101);
	ck_assert_uint_eq(count_of(a, "b", 1), 1);
	evc__agg_free(a);
}
END_TEST

/* Large tables queue adds behind prefetches (see aggregate.c): counts stay
 * exact and the table fills at exactly max_keys distinct keys, with adds of
 * known keys still taken, as in the small table above. */
START_TEST(full_exactly_with_queued_adds)
{
	enum { MAX = 3000, N_CUST = 50, N_MIN = 200 };
	static uint64_t naive[N_CUST][N_MIN];
	uint64_t st = 7 + (uint64_t)_i;
	char names[N_CUST][16];
	size_t distinct = 0;
	evc_agg *a = new_agg(MAX);

	memset(naive, 0, sizeof(naive));
	for (unsigned c = 0; c < N_CUST; c++)
		snprintf(names[c], sizeof(names[c]), "c%u", c);
	for (;;) {
		const unsigned c = (unsigned)tu_rand_below(&st, N_CUST);
		const unsigned m = (unsigned)tu_rand_below(&st, N_MIN);
		const int rc = evc__agg_add(a, names[c], strlen(names[c]), m);
		if (rc == EVC_ERANGE) {
			/* Refused only as a new key of a full table. */
			ck_assert_uint_eq(naive[c][m], 0);
			ck_assert_uint_eq(distinct, MAX);
			break;
		}
		ck_assert_int_eq(rc, EVC_OK);
		distinct += naive[c][m]++ == 0;
	}
	ck_assert(evc__agg_full(a));
	ck_assert_uint_eq(evc__agg_keys(a), MAX);
	/* Known keys are still counted. */
	for (unsigned c = 0; c < N_CUST; c++)
		for (unsigned m = 0; m < N_MIN; m++)
			if (naive[c][m]) {
				add(a, names[c], m);
				naive[c][m]++;
			}
	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, MAX);
	for (size_t i = 0; i < n; i++) {
		char *s = name_of(a, e[i].customer);
		const int c = atoi(s + 1);
		free(s);
		ck_assert_int_ge(e[i].minute, 0);
		ck_assert_int_lt(e[i].minute, N_MIN);
		ck_assert_uint_eq(e[i].count, naive[c][e[i].minute]);
	}
	evc__agg_free(a);
}
END_TEST

START_TEST(reset_empties)
{
	evc_agg *a = new_agg(4);
	add(a, "x", 1);
	add(a, "y", 2);
	add(a, "z", 3);
	add(a, "w", 4);
	ck_assert(evc__agg_full(a));
	evc__agg_reset(a);
	ck_assert(!evc__agg_full(a));
	ck_assert_uint_eq(evc__agg_keys(a), 0);
	ck_assert_uint_eq(evc__agg_customers(a), 0);
	size_t n = 99;
	(void)evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, 0);
	/* Usable again, with nothing left over. */
	add(a, "y", 2);
	add(a, "y", 2);
	ck_assert_uint_eq(evc__agg_keys(a), 1);
	ck_assert_uint_eq(evc__agg_customers(a), 1);
	ck_assert_uint_eq(count_of(a, "y", 2), 2);
	ck_assert_uint_eq(count_of(a, "x", 1), 0);
	evc__agg_free(a);
}
END_TEST

START_TEST(no_adds_after_sorted_until_reset)
{
	evc_agg *a = new_agg(100);
	add(a, "x", 5);
	size_t n = 0;
	ck_assert_ptr_nonnull(evc__agg_sorted(a, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, 6), EVC_EINVAL);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, 5), EVC_EINVAL);
	/* The handed-out entries are untouched by the refused adds. */
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(e[0].minute, 5);
	ck_assert_uint_eq(e[0].count, 1);
	evc__agg_reset(a);
	add(a, "x", 6);
	ck_assert_uint_eq(count_of(a, "x", 6), 1);
	ck_assert_uint_eq(count_of(a, "x", 5), 0);
	evc__agg_free(a);
}
END_TEST

START_TEST(negative_minutes)
{
	evc_agg *a = new_agg(100);
	const int64_t min_minute = EVC_TIME_MIN / 60;
	const int64_t max_minute = EVC_TIME_MAX / 60;
	add(a, "c", 0);
	add(a, "c", -1);
	add(a, "c", -1);
	add(a, "c", -527040); /* 1969-01-01 */
	add(a, "c", min_minute);
	add(a, "c", max_minute);
	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(e[0].minute, min_minute);
	ck_assert_int_eq(e[1].minute, -527040);
	ck_assert_int_eq(e[2].minute, -1);
	ck_assert_uint_eq(e[2].count, 2);
	ck_assert_int_eq(e[3].minute, 0);
	ck_assert_int_eq(e[4].minute, max_minute);
	evc__agg_free(a);
}
END_TEST

/* The radix sort takes one pass per 11 bits on which keys differ and ends
 * in the table or in its scratch half depending on the number of passes:
 * 1 to 4 passes (minute spans of 2^8 to 2^32), one or two customers. */
static int cmp_minute(const void *x, const void *y)
{
	const int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

START_TEST(sorted_for_any_number_of_passes)
{
	enum { N = 3000 };
	static const unsigned span_bits[] = {8, 20, 30, 32};
	const unsigned bits = span_bits[_i % 4];
	const int customers = 1 + _i / 4;
	static int64_t want[2][N];
	uint64_t st = 99 + (uint64_t)_i;
	evc_agg *a = new_agg(1u << 14);
	size_t n_want[2] = {0, 0};

	for (int k = 0; k < N; k++) {
		const int c = (int)tu_rand_below(&st, (uint64_t)customers);
		int64_t m = (int64_t)tu_rand_below(&st, 1ULL << bits);
		if (bits > 8) /* both sides of 0, within the time range */
			m -= (int64_t)1 << (bits - 3);
		size_t j;
		for (j = 0; j < n_want[c]; j++)
			if (want[c][j] == m)
				break;
		if (j < n_want[c])
			continue; /* one event per key: counts are 1 */
		want[c][n_want[c]++] = m;
		add(a, c ? "second" : "first", m);
	}
	for (int c = 0; c < customers; c++)
		qsort(want[c], n_want[c], sizeof(want[c][0]), cmp_minute);
	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, n_want[0] + n_want[1]);
	size_t i = 0;
	for (uint32_t ci = 0; ci < (uint32_t)customers; ci++) {
		char *name = name_of(a, ci);
		const int c = strcmp(name, "second") == 0;
		free(name);
		for (size_t j = 0; j < n_want[c]; j++, i++) {
			ck_assert_uint_eq(e[i].customer, ci);
			ck_assert_int_eq(e[i].minute, want[c][j]);
			ck_assert_uint_eq(e[i].count, 1);
		}
	}
	evc__agg_free(a);
}
END_TEST

START_TEST(many_customers_grow)
{
	enum { N = 5000 };
	evc_agg *a = new_agg(1u << 20);
	char name[32];
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < N; i++) {
			snprintf(name, sizeof(name), "customer-%d", i);
			add(a, name, i % 7);
		}
	}
	ck_assert_uint_eq(evc__agg_customers(a), N);
	ck_assert_uint_eq(evc__agg_keys(a), N);
	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, N);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(e[i].count, 3);
		char *s = name_of(a, e[i].customer);
		int k = atoi(s + strlen("customer-"));
		ck_assert_int_eq(e[i].minute, k % 7);
		free(s);
	}
	evc__agg_free(a);
}
END_TEST

static Suite *aggregate_suite(void)
{
	Suite *s = suite_create("aggregate");
	TCase *tc;

	tc = tcase_create("counting");
	tcase_add_test(tc, counts_per_customer_and_minute);
	tcase_add_test(tc, negative_minutes);
	tcase_add_loop_test(tc, sorted_matches_naive, 0, 4);
	tcase_add_loop_test(tc, sorted_for_any_number_of_passes, 0, 8);
	suite_add_tcase(s, tc);

	tc = tcase_create("customers");
	tcase_add_test(tc, customer_interning);
	tcase_add_test(tc, many_customers_grow);
	suite_add_tcase(s, tc);

	tc = tcase_create("capacity");
	tcase_add_test(tc, full_at_max_keys);
	tcase_add_loop_test(tc, full_exactly_with_queued_adds, 0, 3);
	tcase_add_test(tc, reset_empties);
	tcase_add_test(tc, no_adds_after_sorted_until_reset);
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(aggregate_suite)
