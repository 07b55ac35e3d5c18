/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a damaged store. The input is the bytes of a store
 * file; the seeds are small valid stores (make-store-seeds.sh) and the
 * custom mutator damages them as disks and people do: bits flipped,
 * pages truncated, swapped, zeroed or copied over others, runs of bytes
 * overwritten, besides libFuzzer's own byte mutations.
 *
 * Every read call runs on the result: evc_check, evc_customers, evc_hourly
 * over each customer's span (partial hours at both ends), evc_counts of
 * every customer over the store's span (days in UTC, 15 minutes at
 * +05:45, and the top 3 by week in a zone of tzdata), evc_export,
 * evc_store_info and evc_sources. Checks: each returns a status, with a
 * message when it fails; no crash, hang or sanitizer report; and when
 * evc_check() finds the store sound, every other call succeeds and the
 * export's counts sum to the summary's rows_counted, to the customers'
 * totals and to the bucketed counts.
 */
#include "evc-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Failures must say why. */
#define FAILED_WITH_MESSAGE(st, rc)                                            \
	CHECK((rc) == EVC_OK || evc_errmsg(st)[0] != '\0')

#define MAX_CUSTOMERS 8

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

static char path[256], wal[270], shm[270];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/evc-fuzz-store-%ld.db", dir,
	         (long)getpid());
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	return 0;
}

struct customers {
	char *id[MAX_CUSTOMERS];
	int64_t first[MAX_CUSTOMERS], last[MAX_CUSTOMERS];
	size_t n;
	uint64_t total;
	int64_t span_first, span_last; /* over every customer */
};

static int on_customer(const evc_customer_info *c, void *payload)
{
	struct customers *x = payload;

	if (x->total == 0 && x->n == 0) {
		x->span_first = c->first_minute;
		x->span_last = c->last_minute;
	}
	if (c->first_minute < x->span_first)
		x->span_first = c->first_minute;
	if (c->last_minute > x->span_last)
		x->span_last = c->last_minute;
	x->total += c->total;
	if (x->n < MAX_CUSTOMERS) {
		x->id[x->n] = strdup(c->customer_id);
		CHECK(x->id[x->n]);
		x->first[x->n] = c->first_minute;
		x->last[x->n] = c->last_minute;
		x->n++;
	}
	return 0;
}

static int on_minute(const char *c, int64_t m, uint64_t n, void *payload)
{
	(void)c;
	(void)m;
	*(uint64_t *)payload += n;
	return 0;
}

struct counted {
	uint64_t total;
	size_t customers;
};

static int on_counts(const evc_customer_counts *c, void *payload)
{
	struct counted *x = payload;
	uint64_t sum = 0;

	CHECK(c->customer_id && c->customer_id[0]);
	for (size_t i = 0; i < c->n_buckets; i++) {
		CHECK(c->buckets[i].start < c->buckets[i].end);
		CHECK(i == 0 || c->buckets[i].start == c->buckets[i - 1].end);
		sum += c->buckets[i].count;
	}
	CHECK(sum == c->total);
	x->total += sum;
	x->customers++;
	return 0;
}

/* evc_counts over every customer and the store's whole span (at most a
 * year of it): the sum of every bucket in *total when it succeeds. */
static int count_all(evc_store *st, const struct customers *cs,
                     const char *bucket, const char *tz, size_t top,
                     struct counted *out)
{
	evc_counts_options o = EVC_COUNTS_OPTIONS_INIT;

	o.start = cs->span_first;
	o.end = cs->span_last + 60;
	if (o.end - o.start > 366 * 86400)
		o.end = o.start + 366 * 86400;
	o.bucket = bucket;
	o.tz = tz;
	o.top = top;
	*out = (struct counted){0};
	return evc_counts(st, &o, on_counts, out);
}

static int on_source(const evc_source_info *s, void *payload)
{
	CHECK(s->path && s->realpath);
	(*(uint64_t *)payload)++;
	return 0;
}

static int on_problem(const evc_problem *p, void *payload)
{
	CHECK(p->what && p->what[0]);
	(*(uint64_t *)payload)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	evc_store *st;
	uint64_t problems = 0, n_problems = 0, exported = 0, sources = 0;
	struct customers cs = {0};
	evc_store_summary sum;

	unlink(wal);
	unlink(shm);
	FILE *f = fopen(path, "wb");
	CHECK(f);
	CHECK(fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);

	int rc = evc_open(&st, path, EVC_OPEN_READONLY);
	if (rc != EVC_OK) {
		CHECK(st == NULL && evc_errmsg(NULL)[0]);
		return 0;
	}
	const int check_rc = evc_check(st, on_problem, &problems, &n_problems);
	FAILED_WITH_MESSAGE(st, check_rc);
	CHECK(problems == n_problems);
	CHECK(check_rc != EVC_OK || problems == 0);
	const bool sound = check_rc == EVC_OK;

	rc = evc_customers(st, on_customer, &cs);
	FAILED_WITH_MESSAGE(st, rc);
	CHECK(!sound || rc == EVC_OK);
	for (size_t i = 0; i < cs.n; i++) {
		evc_hourly_result *r = NULL;
		/* Partial hours at both ends; at most a year, far inside the
		 * library's limit. */
		int64_t lo = cs.first[i] - 3600 + 900;
		int64_t hi = cs.last[i] + 3600 + 1800;
		if (hi - lo > 366 * 86400)
			hi = lo + 366 * 86400;
		rc = evc_hourly(st, cs.id[i], lo, hi, &r);
		FAILED_WITH_MESSAGE(st, rc);
		CHECK(!sound || rc == EVC_OK || rc == EVC_ERANGE);
		CHECK((rc == EVC_OK) == (r != NULL));
		evc_hourly_free(r);
		free(cs.id[i]);
	}
	if (cs.total > 0 || cs.n > 0) {
		static const struct {
			const char *bucket, *tz;
			size_t top;
		} asks[] = {
		    {"day", "UTC", 0},
		    {"15m", "+05:45", 0},
		    {"week", "America/New_York", 3},
		};
		const bool whole =
		    cs.span_last + 60 - cs.span_first <= 366 * 86400;
		for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
			struct counted got;
			rc = count_all(st, &cs, asks[i].bucket, asks[i].tz,
			               asks[i].top, &got);
			FAILED_WITH_MESSAGE(st, rc);
			CHECK(!sound || rc == EVC_OK || rc == EVC_ERANGE ||
			      rc == EVC_ENOTFOUND);
			if (sound && rc == EVC_OK && whole && asks[i].top == 0)
				CHECK(got.total == cs.total);
		}
	}
	rc = evc_export(st, on_minute, &exported);
	FAILED_WITH_MESSAGE(st, rc);
	CHECK(!sound || rc == EVC_OK);
	const int info_rc = evc_store_info(st, &sum);
	FAILED_WITH_MESSAGE(st, info_rc);
	CHECK(!sound || info_rc == EVC_OK);
	if (sound)
		CHECK(sum.rows_counted == exported && cs.total == exported);
	rc = evc_sources(st, on_source, &sources);
	FAILED_WITH_MESSAGE(st, rc);
	CHECK(!sound || rc == EVC_OK);
	evc_close(st);
	return 0;
}

/* ---- damage -------------------------------------------------------------- */

static unsigned next(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* The page size the header declares (offset 16, big-endian; 1 is 64 KiB),
 * or 4096 when it is not one. */
static size_t page_size(const uint8_t *d, size_t n)
{
	if (n < 100)
		return 4096;
	const unsigned v = (unsigned)d[16] << 8 | d[17];
	if (v == 1)
		return 65536;
	if (v >= 512 && (v & (v - 1)) == 0)
		return v;
	return 4096;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed)
{
	unsigned s = seed;
	const size_t ps = page_size(data, size);
	const size_t pages = size / ps;

	if (pages < 2 || next(&s) % 4 == 0)
		return LLVMFuzzerMutate(data, size, max);
	/* Mostly past the first page, which holds the header and the
	 * schema: damage there is refused at open, the rest reaches the
	 * read paths. */
	const size_t a = 1 + next(&s) % (pages - 1);
	const size_t b = 1 + next(&s) % (pages - 1);
	uint8_t *pa = data + a * ps, *pb = data + b * ps;
	switch (next(&s) % 6) {
	case 0: /* bit flips */
		for (unsigned k = 1 + next(&s) % 4; k > 0; k--) {
			const size_t at = next(&s) % size;
			data[at] ^= (uint8_t)(1u << (next(&s) % 8));
		}
		return size;
	case 1: /* cut at a page boundary */
		return a * ps;
	case 2: /* two pages swapped */
		for (size_t i = 0; i < ps; i++) {
			const uint8_t t = pa[i];
			pa[i] = pb[i];
			pb[i] = t;
		}
		return size;
	case 3: /* a page zeroed */
		memset(pa, 0, ps);
		return size;
	case 4: /* a page copied over another */
		memmove(pb, pa, ps);
		return size;
	default: /* a run of bytes overwritten */
	{
		const size_t at = next(&s) % ps;
		const size_t len = 1 + next(&s) % 64;
		for (size_t i = at; i < at + len && i < ps; i++)
			pa[i] = (uint8_t)next(&s);
	}
		return size;
	}
}
