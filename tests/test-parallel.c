/* SPDX-License-Identifier: MIT */
/*
 * The threaded ingest (parse on the caller's thread, aggregate and write on
 * a thread each) against the single-threaded one: over generated input in
 * many small batches and checkpoints, both must leave exactly the same
 * store, and both must equal a naive count made here.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ROWS 40000
#define N_CUST 37
/* Three days, and the few minutes of jitter past them. */
#define MINUTES (3 * 1440 + 10)

struct dump {
	char *buf;
	size_t len, cap;
};

static int collect(const char *customer, int64_t minute, uint64_t count,
                   void *payload)
{
	struct dump *d = payload;
	char line[400];
	int n = snprintf(line, sizeof(line), "%s,%lld,%llu\n", customer,
	                 (long long)minute, (unsigned long long)count);
	if (d->len + (size_t)n + 1 > d->cap) {
		d->cap = (d->cap + (size_t)n + 1) * 2;
		d->buf = realloc(d->buf, d->cap);
		ck_assert_ptr_nonnull(d->buf);
	}
	memcpy(d->buf + d->len, line, (size_t)n + 1);
	d->len += (size_t)n;
	return 0;
}

static char *export_all(evc_store *s)
{
	struct dump d = {0};
	ck_assert_int_eq(evc_export(s, collect, &d), EVC_OK);
	return d.buf ? d.buf : strdup("");
}

/* Rows of N_CUST customers over three days, mostly in time order with some
 * far out of order, with +00, Z and +05:30 offsets; also the naive count
 * per (customer, minute) in `counts`. */
static char *make_input(uint64_t seed, uint32_t *counts, size_t *len)
{
	size_t cap = (size_t)N_ROWS * 100, n = 0;
	char *csv = malloc(cap);
	ck_assert_ptr_nonnull(csv);
	const int64_t t0 = ts("2021-03-01T00:00:00Z");
	for (int i = 0; i < N_ROWS; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		const unsigned r = (unsigned)(seed >> 33);
		const unsigned cust = r % N_CUST;
		int64_t t = t0 + (int64_t)i * 3 * 86400 / N_ROWS + r % 300;
		if (r % 20 == 0)
			t = t0 + (int64_t)(r % (3 * 86400));
		const int64_t minute = t / 60 - t0 / 60;
		counts[cust * MINUTES + minute]++;
		static const char *const offsets[] = {"+00", "Z", "+05:30"};
		const unsigned o = r % 3;
		const int64_t local = t + (o == 2 ? 5 * 3600 + 1800 : 0);
		char when[EVC_TIME_BUFSZ];
		tu_fmt(local, when);
		when[10] = ' ';
		when[19] = '\0';
		n += (size_t)snprintf(csv + n, cap - n,
		                      "cust%02u,INGEST,%08x-0000-4000-8000-"
		                      "000000000000,%s%s\n",
		                      cust, r, when, offsets[o]);
	}
	*len = n;
	return csv;
}

static char *naive_export(const uint32_t *counts)
{
	struct dump d = {0};
	const int64_t t0 = ts("2021-03-01T00:00:00Z");
	/* cust%02u sorts like the numbers */
	for (unsigned c = 0; c < N_CUST; c++) {
		char name[16];
		snprintf(name, sizeof(name), "cust%02u", c);
		for (int m = 0; m < MINUTES; m++)
			if (counts[c * MINUTES + m])
				collect(name, t0 + m * 60,
				        counts[c * MINUTES + m], &d);
	}
	return d.buf;
}

static char *ingest_with(const char *path, unsigned threads, bool stream)
{
	evc_store *s = tu_mem_store();
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st;
	o.threads = threads;
	o.checkpoint_bytes = 64 * 1024;
	if (stream) {
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(evc_ingest_fd(s, fileno(f), "x", &o, &st),
		                 EVC_OK);
		fclose(f);
	} else {
		ck_assert_int_eq(evc_ingest_csv(s, path, &o, &st), EVC_OK);
	}
	ck_assert_uint_eq(st.rows_counted, N_ROWS);
	char *out = export_all(s);
	evc_close(s);
	return out;
}

/* Compare two exports; on a difference, show the first differing lines
 * (whole exports are too long for a Check message). */
static void assert_same(const char *what, const char *a, const char *b)
{
	size_t i = 0, line = 1;
	while (a[i] && a[i] == b[i]) {
		line += a[i] == '\n';
		i++;
	}
	if (!a[i] && !b[i])
		return;
	while (i > 0 && a[i - 1] != '\n')
		i--;
	ck_abort_msg("%s differ at line %zu: \"%.60s\" vs \"%.60s\"", what,
	             line, a + i, b + i);
}

static void check_same(bool stream, size_t batch_keys)
{
	static uint32_t counts[N_CUST * MINUTES];
	size_t len;

	memset(counts, 0, sizeof(counts));
	char *csv = make_input(42 + batch_keys, counts, &len);
	const char *path = tu_write_temp(csv, len);
	evc__ingest_batch_keys = batch_keys;
	evc__ingest_threaded_min = 0;
	char *single = ingest_with(path, 1, stream);
	char *threaded = ingest_with(path, 0, stream);
	char *naive = naive_export(counts);
	assert_same("single-threaded and naive", single, naive);
	assert_same("threaded and single-threaded", threaded, single);
	free(single);
	free(threaded);
	free(naive);
	free(csv);
}

START_TEST(file_many_batches_same_store)
{
	check_same(false, 500);
}
END_TEST

START_TEST(file_one_key_batches_same_store)
{
	check_same(false, 1);
}
END_TEST

START_TEST(stream_many_batches_same_store)
{
	check_same(true, 700);
}
END_TEST

/* A batch's hours go to the store in sets of rows, one statement each: a
 * set that fills up on rows or on blob bytes is written and the next one
 * started mid-batch, mid-customer. */
START_TEST(hour_sets_split_on_rows)
{
	evc__ingest_hour_rows = 3;
	check_same(false, 5000);
}
END_TEST

START_TEST(hour_sets_split_on_bytes)
{
	evc__ingest_hour_bytes = EVC_MINUTES_BLOB_MAX + 40;
	check_same(true, 5000);
}
END_TEST

/* A parser-side failure while batches are in flight waits for the writer,
 * rolls everything back and reports the parser's reason. */
static int abort_late(const evc_progress *p, void *payload)
{
	(void)payload;
	return p->rows_read > N_ROWS / 2;
}

START_TEST(abort_while_writing_leaves_nothing)
{
	static uint32_t counts[N_CUST * MINUTES];
	size_t len;
	char *csv = make_input(7, counts, &len);
	const char *path = tu_write_temp(csv, len);
	evc__ingest_batch_keys = 300;
	evc__ingest_threaded_min = 0;
	evc_store *s = tu_mem_store();
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	o.flags = EVC_INGEST_STRICT; /* one transaction */
	o.on_progress = abort_late;
	ck_assert_int_eq(evc_ingest_csv(s, path, &o, NULL), EVC_EABORTED);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "progress callback"));
	char *out = export_all(s);
	ck_assert_str_eq(out, "");
	free(out);
	evc_close(s);
	free(csv);
}
END_TEST

/* What an ingest's progress callback sees of its own store. */
struct peek {
	evc_store *store;
	const char *path; /* for the refused nested ingest */
	unsigned calls;
	uint64_t last_counted;
	int nested_rc;
};

static int count_source(const evc_source_info *src, void *payload)
{
	(void)src;
	(*(unsigned *)payload)++;
	return 0;
}

static int count_customer(const evc_customer_info *c, void *payload)
{
	(void)c;
	(*(unsigned *)payload)++;
	return 0;
}

/* Called on the caller's thread while the writer thread adds counts: each
 * call into the store must wait its turn on the connection and see a
 * store that only grows. */
static int peek_store(const evc_progress *p, void *payload)
{
	struct peek *k = payload;
	evc_store_summary sum;
	evc_hourly_result *res;
	unsigned n = 0;

	k->calls++;
	ck_assert_int_eq(evc_store_info(k->store, &sum), EVC_OK);
	ck_assert_uint_ge(sum.rows_counted, k->last_counted);
	ck_assert_uint_le(sum.rows_counted, p->rows_read);
	k->last_counted = sum.rows_counted;
	ck_assert_int_eq(evc_hourly(k->store, "cust03",
	                            ts("2021-03-01T00:00:00Z"),
	                            ts("2021-03-04T00:00:00Z"), &res),
	                 EVC_OK);
	ck_assert_uint_le(res->total, p->rows_read);
	evc_hourly_free(res);
	ck_assert_int_eq(evc_sources(k->store, count_source, &n), EVC_OK);
	ck_assert_int_eq(evc_customers(k->store, count_customer, &n), EVC_OK);
	k->nested_rc = evc_ingest_csv(k->store, k->path, NULL, NULL);
	return 0;
}

START_TEST(callbacks_call_the_store_during_a_threaded_ingest)
{
	static uint32_t counts[N_CUST * MINUTES];
	size_t len1, len2;
	memset(counts, 0, sizeof(counts));
	char *a = make_input(11, counts, &len1);
	char *b = make_input(12, counts, &len2);
	/* Past the size from which the ingest runs on three threads. */
	size_t len = 0;
	char *csv = malloc(3 * (len1 + len2));
	ck_assert_ptr_nonnull(csv);
	for (int k = 0; k < 3; k++) {
		memcpy(csv + len, a, len1);
		memcpy(csv + len + len1, b, len2);
		len += len1 + len2;
	}
	ck_assert_uint_gt(len, evc__ingest_threaded_min);
	for (size_t i = 0; i < N_CUST * MINUTES; i++)
		counts[i] *= 3;
	const char *path = tu_write_temp(csv, len);
	/* Small batches and checkpoints: the writer is busy throughout. */
	evc__ingest_batch_keys = 300;
	evc_store *s = tu_mem_store();
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	struct peek k = {.store = s, .path = path};
	o.checkpoint_bytes = 64 * 1024;
	o.on_progress = peek_store;
	o.payload = &k;
	ck_assert_int_eq(evc_ingest_csv(s, path, &o, NULL), EVC_OK);
	ck_assert_uint_ge(k.calls, 5);
	/* An ingest started from a callback is refused, and the one that
	 * called it goes on. */
	ck_assert_int_eq(k.nested_rc, EVC_EBUSY);
	char *got = export_all(s), *want = naive_export(counts);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	evc_close(s);
	free(csv);
	free(a);
	free(b);
}
END_TEST

static Suite *parallel_suite(void)
{
	Suite *su = suite_create("parallel");
	TCase *tc = tcase_create("writer_thread");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, file_many_batches_same_store);
	tcase_add_test(tc, file_one_key_batches_same_store);
	tcase_add_test(tc, stream_many_batches_same_store);
	tcase_add_test(tc, hour_sets_split_on_rows);
	tcase_add_test(tc, hour_sets_split_on_bytes);
	tcase_add_test(tc, abort_while_writing_leaves_nothing);
	suite_add_tcase(su, tc);

	tc = tcase_create("callbacks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, callbacks_call_the_store_during_a_threaded_ingest);
	suite_add_tcase(su, tc);
	return su;
}

TU_SUITE(parallel_suite)
