/* SPDX-License-Identifier: MIT */
/*
 * Concurrency through the public API only: the header promises that
 * separate store handles, to the same file, may be used from separate
 * threads at once, and that the functions taking no store are thread-safe
 * (evc_errmsg(NULL) being per thread). This builds a store from a generated
 * fixture, computes the answers of a set of queries on one thread, then
 * has 8 threads, each on its own read-only handle, run 2000 of those
 * queries in a shuffled order and compare every bucket with the
 * single-threaded answer, while also parsing and formatting times and
 * checking that each sees its own evc_errmsg(NULL).
 *
 *   test-threads [DIR]      (DIR for the store, default $TMPDIR or /tmp)
 *
 * EVC_TEST_SCALE (a divisor, default 1) reduces the queries per thread,
 * for runs under valgrind. Exits 0 on success, 1 with a message on the
 * first difference.
 */
#include <evcount.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_THREADS   8
#define N_QUERIES   2000 /* per thread */
#define N_REF       97   /* distinct reference queries */
#define N_CUSTOMERS 40
#define N_ROWS      60000

struct ref {
	char customer[32];
	int64_t start, end;
	evc_hourly_result *res;
};

static char store_path[4096];
static struct ref refs[N_REF];
static int queries_per_thread = N_QUERIES;
static atomic_int failures;
/* All threads start querying at once, so that their queries overlap. */
static pthread_barrier_t start_line;

/* Deterministic 64-bit generator (splitmix64). */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "test-threads: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	atomic_fetch_add(&failures, 1);
}

/* 2021-03-01T00:00:00Z and the fixture's span, 10 days. */
#define T0   1614556800LL
#define SPAN (10 * 86400LL)

static int write_fixture(const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t seed = 42;
	char ts[EVC_TIME_BUFSZ];

	if (!f)
		return -1;
	fputs("customer_id,event_type,transaction_id,timestamp\n", f);
	for (long i = 0; i < N_ROWS; i++) {
		uint64_t r = next_rand(&seed);
		int64_t t = T0 + (int64_t)(r % (uint64_t)SPAN);

		evc_format_time(t, ts, sizeof(ts));
		fprintf(f,
		        "cust-%02u,click,00000000-0000-4000-8000-%012ld,%s\n",
		        (unsigned)((r >> 40) % N_CUSTOMERS), i, ts);
	}
	return fclose(f);
}

static int same_result(const evc_hourly_result *a, const evc_hourly_result *b)
{
	if (a->start != b->start || a->end != b->end || a->total != b->total ||
	    a->n_buckets != b->n_buckets)
		return 0;
	for (size_t i = 0; i < a->n_buckets; i++) {
		if (a->buckets[i].hour != b->buckets[i].hour ||
		    a->buckets[i].count != b->buckets[i].count ||
		    a->buckets[i].partial != b->buckets[i].partial)
			return 0;
	}
	return 1;
}

static void *worker(void *arg)
{
	const long id = (long)(intptr_t)arg;
	uint64_t seed = 1000 + (uint64_t)id;
	char bad[64], buf[EVC_TIME_BUFSZ];
	evc_store *st;
	int64_t t;

	if (evc_open(&st, store_path, EVC_OPEN_READONLY) != EVC_OK) {
		fail("thread %ld: cannot open the store", id);
		pthread_barrier_wait(&start_line);
		return NULL;
	}
	pthread_barrier_wait(&start_line);
	for (int q = 0; q < queries_per_thread; q++) {
		const struct ref *r = &refs[next_rand(&seed) % N_REF];
		evc_hourly_result *res;

		if (evc_hourly(st, r->customer, r->start, r->end, &res) !=
		    EVC_OK) {
			fail("%s: evc_hourly failed in thread %ld",
			     evc_errmsg(st), id);
			break;
		}
		if (!same_result(res, r->res)) {
			fail("%s: result differs in thread %ld", r->customer,
			     id);
			evc_hourly_free(res);
			break;
		}
		evc_hourly_free(res);

		/* Store-less calls, and this thread's own last error. */
		if (q % 16 == 0) {
			snprintf(bad, sizeof(bad), "2021-13-%02ldT00:00:00Z",
			         id + 1);
			if (evc_parse_time(bad, &t) != EVC_EPARSE ||
			    !strstr(evc_errmsg(NULL), bad)) {
				fail("evc_errmsg(NULL) is not this thread's: "
				     "%s (thread %ld)",
				     evc_errmsg(NULL), id);
				break;
			}
			if (evc_parse_time("2021-03-01T02:15:00Z", &t) !=
			        EVC_OK ||
			    t != T0 + 2 * 3600 + 15 * 60 ||
			    evc_format_time(t + id, buf, sizeof(buf)) != 20) {
				fail("time parse/format failed: %s (thread "
				     "%ld)",
				     buf, id);
				break;
			}
		}
	}
	evc_close(st);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("TMPDIR");
	const char *scale = getenv("EVC_TEST_SCALE");
	char csv[4096];
	pthread_t th[N_THREADS];
	evc_store *st;
	uint64_t seed = 7;
	int rc;

	if (!dir || !*dir)
		dir = "/tmp";
	if (scale && atoi(scale) > 1)
		queries_per_thread = N_QUERIES / atoi(scale);
	if (queries_per_thread < 50)
		queries_per_thread = 50;
	snprintf(store_path, sizeof(store_path), "%s/evc-threads-%ld.db", dir,
	         (long)getpid());
	snprintf(csv, sizeof(csv), "%s/evc-threads-%ld.csv", dir,
	         (long)getpid());

	if (write_fixture(csv) != 0) {
		fprintf(stderr, "test-threads: cannot write %s\n", csv);
		return 1;
	}
	rc = evc_open(&st, store_path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	if (rc == EVC_OK)
		rc = evc_ingest_csv(st, csv, NULL, NULL);
	if (rc != EVC_OK) {
		fprintf(stderr, "test-threads: %s\n",
		        st ? evc_errmsg(st) : evc_errmsg(NULL));
		return 1;
	}

	/* The reference answers, single-threaded: known and unknown
	 * customers, ranges from a minute to the whole span and beyond,
	 * bounds anywhere in the minute. */
	for (int i = 0; i < N_REF; i++) {
		struct ref *r = &refs[i];
		uint64_t x = next_rand(&seed);
		int64_t len = i % 7 == 0 ? 60 : (int64_t)(x % (SPAN + 86400));

		if (i % 11 == 0)
			snprintf(r->customer, sizeof(r->customer), "nobody-%d",
			         i);
		else
			snprintf(r->customer, sizeof(r->customer), "cust-%02u",
			         (unsigned)(x >> 48) % N_CUSTOMERS);
		r->start = T0 - 86400 + (int64_t)(next_rand(&seed) % SPAN);
		r->end = r->start + (len < 60 ? 60 : len);
		if (evc_hourly(st, r->customer, r->start, r->end, &r->res) !=
		    EVC_OK) {
			fprintf(stderr, "test-threads: %s\n", evc_errmsg(st));
			return 1;
		}
	}
	evc_close(st);

	pthread_barrier_init(&start_line, NULL, N_THREADS);
	for (long i = 0; i < N_THREADS; i++) {
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i)) {
			fprintf(stderr, "test-threads: pthread_create\n");
			return 1;
		}
	}
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start_line);

	uint64_t total = 0;
	for (int i = 0; i < N_REF; i++) {
		total += refs[i].res->total;
		evc_hourly_free(refs[i].res);
	}
	unlink(csv);
	unlink(store_path);
	{
		char side[4200];

		snprintf(side, sizeof(side), "%s-wal", store_path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", store_path);
		unlink(side);
	}
	if (atomic_load(&failures))
		return 1;
	if (total == 0) {
		fprintf(stderr, "test-threads: every reference is empty\n");
		return 1;
	}
	printf("%d threads x %d queries on separate handles: every result "
	       "equals the single-threaded one\n",
	       N_THREADS, queries_per_thread);
	return 0;
}
