/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a whole ingest of arbitrary bytes into a ":memory:"
 * store, then the export and a few hourly queries.
 *
 * Input: byte 0 holds the mode (bit 0: EVC_INGEST_STRICT, bit 1: the
 * reject callback stops the ingest at the first reject, bits 2-3: the
 * batch size, in keys, from 1 to the default, so that small inputs flush
 * many batches), the rest is the CSV, read through a memfd by
 * evc_ingest_fd().
 *
 * Checks: rows_read == rows_counted + rows_rejected; the callbacks saw
 * every reject and warning; the export holds exactly the counts that the
 * scanner and the row checks give record by record (header skipped), in
 * customer then time order, and sums to rows_counted; hourly totals agree
 * with them; a failed (strict or aborted) ingest counts nothing. ASan and
 * LeakSanitizer watch the rest.
 */
#include "evc-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

struct event {
	char *customer;
	int64_t minute; /* epoch seconds of the minute's start */
	uint64_t count;
};

struct events {
	struct event *e;
	size_t n, cap;
};

static void add(struct events *ev, const char *cust, size_t len, int64_t minute,
                uint64_t count)
{
	if (ev->n == ev->cap) {
		ev->cap = ev->cap ? 2 * ev->cap : 64;
		ev->e = realloc(ev->e, ev->cap * sizeof(*ev->e));
		CHECK(ev->e);
	}
	struct event *e = &ev->e[ev->n++];
	e->customer = strndup(cust, len);
	CHECK(e->customer);
	e->minute = minute;
	e->count = count;
}

static void free_events(struct events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->e[i].customer);
	free(ev->e);
}

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int c = strcmp(x->customer, y->customer);
	if (c)
		return c;
	return (x->minute > y->minute) - (x->minute < y->minute);
}

/* Sort and merge equal (customer, minute) keys. */
static void merge(struct events *ev)
{
	size_t k = 0;
	if (ev->n)
		qsort(ev->e, ev->n, sizeof(*ev->e), cmp_event);
	for (size_t i = 0; i < ev->n; i++) {
		if (k && cmp_event(&ev->e[k - 1], &ev->e[i]) == 0) {
			ev->e[k - 1].count += ev->e[i].count;
			free(ev->e[i].customer);
		} else {
			ev->e[k++] = ev->e[i];
		}
	}
	ev->n = k;
}

/* What the ingest should count, record by record. */
static void expected(int fd, struct events *ev, uint64_t *rejected,
                     uint64_t *warned)
{
	evc_csv *c = NULL;
	evc_csv_record rec;
	char reason[EVC_REASON_MAX];
	bool first = true;
	int err = 0, rc;

	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(evc__csv_new(&c, fd, 0) == EVC_OK);
	while ((rc = evc__csv_next(c, &rec, &err)) == 1) {
		if (first) {
			first = false;
			if (evc__is_header(&rec))
				continue;
		}
		int64_t minute;
		const char *warn;
		if (evc__check_row(&rec, &minute, &warn, reason, NULL)) {
			++*rejected;
			continue;
		}
		*warned += warn != NULL;
		add(ev, rec.field[0].ptr, rec.field[0].len, minute * 60, 1);
	}
	CHECK(rc == 0);
	evc__csv_free(c);
	merge(ev);
}

struct seen {
	uint64_t rejects, warnings;
	bool abort_first;
};

static int on_reject(const evc_reject *r, void *payload)
{
	struct seen *s = payload;

	CHECK(r->line >= 1);
	CHECK(r->reason && *r->reason);
	CHECK(r->text || r->text_len == 0);
	CHECK(!r->source || strcmp(r->source, "fuzz") == 0);
	/* Touch every byte of the text, for ASan. */
	volatile unsigned char sum = 0;
	for (size_t i = 0; i < r->text_len; i++)
		sum += (unsigned char)r->text[i];
	(void)sum;
	if (r->warning) {
		s->warnings++;
		return 0;
	}
	s->rejects++;
	return s->abort_first;
}

static int on_minute(const char *customer, int64_t minute, uint64_t count,
                     void *payload)
{
	struct events *got = payload;
	CHECK(count > 0);
	CHECK(minute % 60 == 0);
	add(got, customer, strlen(customer), minute, count);
	return 0;
}

/* Hourly counts of `customer` over [start, end) against the expected
 * events. */
static void check_hourly(evc_store *s, const struct events *want,
                         const char *customer, int64_t start, int64_t end)
{
	evc_hourly_result *r = NULL;
	const int64_t fs = evc__floor_div(start, 60) * 60;
	const int64_t fe = evc__floor_div(end, 60) * 60;

	int rc = evc_hourly(s, customer, start, end, &r);
	if (rc != EVC_OK) {
		CHECK(!r);
		CHECK(rc == EVC_ERANGE || rc == EVC_EINVAL);
		return;
	}
	CHECK(r->start == fs && r->end == fe);
	uint64_t total = 0, sum = 0;
	for (size_t i = 0; i < want->n; i++)
		if (strcmp(want->e[i].customer, customer) == 0 &&
		    want->e[i].minute >= fs && want->e[i].minute < fe)
			total += want->e[i].count;
	CHECK(r->total == total);
	CHECK(r->n_buckets >= 1);
	CHECK(r->buckets[0].hour == evc__floor_div(fs, 3600) * 3600);
	for (size_t i = 0; i < r->n_buckets; i++) {
		const int64_t h = r->buckets[i].hour;
		CHECK(h == r->buckets[0].hour + (int64_t)i * 3600);
		CHECK(r->buckets[i].partial == (h < fs || h + 3600 > fe));
		sum += r->buckets[i].count;
	}
	CHECK(r->buckets[r->n_buckets - 1].hour + 3600 >= fe);
	CHECK(sum == total);
	evc_hourly_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	const unsigned mode = data[0];
	const char *d = (const char *)data + 1;
	const size_t n = size - 1;

	int fd = memfd_create("fuzz-ingest", 0);
	CHECK(fd >= 0);
	CHECK(n == 0 || write(fd, d, n) == (ssize_t)n);

	struct events want = {0}, got = {0};
	uint64_t want_rejected = 0, want_warned = 0;
	expected(fd, &want, &want_rejected, &want_warned);
	uint64_t want_counted = 0;
	for (size_t i = 0; i < want.n; i++)
		want_counted += want.e[i].count;

	static const size_t batch_keys[4] = {1, 3, 16, 4096};
	evc__ingest_batch_keys = batch_keys[(mode >> 2) & 3];

	evc_store *s = NULL;
	CHECK(evc_open(&s, ":memory:", EVC_OPEN_READWRITE | EVC_OPEN_CREATE) ==
	      EVC_OK);
	struct seen seen = {0, 0, (mode & 2) != 0};
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	o.flags = mode & 1 ? EVC_INGEST_STRICT : 0;
	o.on_reject = on_reject;
	o.payload = &seen;
	evc_ingest_stats st;
	memset(&st, 0xa5, sizeof(st));
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	const int rc = evc_ingest_fd(s, fd, "fuzz", &o, &st);
	CHECK(close(fd) == 0);

	CHECK(st.source == EVC_SOURCE_STREAM);
	CHECK(st.rows_skipped == 0 && st.bytes_skipped == 0);
	CHECK(st.rows_held == 0);
	bool failed;
	if (want_rejected == 0) {
		CHECK(rc == EVC_OK);
		failed = false;
	} else if (seen.abort_first) {
		CHECK(rc == EVC_EABORTED);
		CHECK(seen.rejects == 1);
		failed = true;
	} else if (mode & 1) {
		CHECK(rc == EVC_EPARSE);
		CHECK(seen.rejects == 1);
		failed = true;
	} else {
		CHECK(rc == EVC_OK);
		failed = false;
	}
	if (rc != EVC_OK)
		CHECK(*evc_errmsg(s));
	if (!failed) {
		CHECK(st.rows_read == st.rows_counted + st.rows_rejected);
		CHECK(st.rows_counted == want_counted);
		CHECK(st.rows_rejected == want_rejected);
		CHECK(st.rows_warned == want_warned);
		CHECK(seen.rejects == want_rejected);
		CHECK(seen.warnings == want_warned);
		CHECK(st.bytes == n);
	}

	CHECK(evc_export(s, on_minute, &got) == EVC_OK);
	if (failed) {
		/* Nothing of a failed ingest is counted. */
		CHECK(got.n == 0);
	} else {
		/* Exactly the expected counts, in customer then time order. */
		CHECK(got.n == want.n);
		uint64_t sum = 0;
		for (size_t i = 0; i < got.n; i++) {
			CHECK(strcmp(got.e[i].customer, want.e[i].customer) ==
			      0);
			CHECK(got.e[i].minute == want.e[i].minute);
			CHECK(got.e[i].count == want.e[i].count);
			sum += got.e[i].count;
		}
		CHECK(sum == st.rows_counted);
	}
	uint64_t customers = 0;
	CHECK(evc_customer_count(s, &customers) == EVC_OK);

	/* Hourly queries: a few customers over the span of their events and
	 * around their first event, and a customer that is not there. */
	for (size_t i = 0, k = 0; i < want.n && k < 3; k++) {
		const char *cust = want.e[i].customer;
		size_t j = i;
		while (j + 1 < want.n &&
		       strcmp(want.e[j + 1].customer, cust) == 0)
			j++;
		const int64_t lo = want.e[i].minute, hi = want.e[j].minute;
		if (hi - lo < (int64_t)(EVC_HOURLY_MAX_BUCKETS - 2) * 3600)
			check_hourly(s, failed ? &got : &want, cust, lo,
			             hi + 60);
		check_hourly(s, failed ? &got : &want, cust, lo - 1, lo + 7261);
		i = j + 1;
	}
	check_hourly(s, &want, "\x01no such customer", 0, 86400);
	check_hourly(s, &want, "x", 59, 60); /* empty once floored */
	check_hourly(s, &want, "x", EVC_TIME_MAX - 3600, EVC_TIME_MAX + 1);

	evc_close(s);
	free_events(&want);
	free_events(&got);
	return 0;
}
