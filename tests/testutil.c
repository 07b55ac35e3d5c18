/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temporary files ---------------------------------------------------- */

typedef struct tu_tmp {
	char *path;
	pid_t owner;
	int is_dir; /* 0: a file, 1: a directory, 2: a name, no file */
} tu_tmp;

static tu_tmp *tmps;
static size_t n_tmps, cap_tmps;
static char *base_dir;
static pid_t base_owner;
static unsigned long tmp_seq;
static int atexit_done;

static void tu_register(char *path, int is_dir)
{
	if (n_tmps == cap_tmps) {
		size_t cap = cap_tmps ? cap_tmps * 2 : 32;
		tu_tmp *v = realloc(tmps, cap * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		tmps = v;
		cap_tmps = cap;
	}
	tmps[n_tmps].path = path;
	tmps[n_tmps].owner = getpid();
	tmps[n_tmps].is_dir = is_dir;
	n_tmps++;
}

/* A name that is not a file (a URI): only freed at cleanup. */
static void tu_register_name(char *name)
{
	tu_register(name, 2);
}

static void remove_with_suffix(const char *path, const char *suffix)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s%s", path, suffix);
	if (n > 0 && (size_t)n < sizeof(buf))
		unlink(buf);
}

void tu_cleanup(void)
{
	pid_t me = getpid();
	size_t keep = 0;

	/* Files first, newest first, then directories. */
	for (size_t i = n_tmps; i-- > 0;) {
		if (tmps[i].owner != me || tmps[i].is_dir)
			continue; /* directories below; names are no files */
		unlink(tmps[i].path);
		remove_with_suffix(tmps[i].path, "-journal");
		remove_with_suffix(tmps[i].path, "-wal");
		remove_with_suffix(tmps[i].path, "-shm");
	}
	for (size_t i = n_tmps; i-- > 0;) {
		if (tmps[i].owner == me && tmps[i].is_dir == 1)
			rmdir(tmps[i].path);
	}
	for (size_t i = 0; i < n_tmps; i++) {
		if (tmps[i].owner == me)
			free(tmps[i].path);
		else
			tmps[keep++] = tmps[i];
	}
	n_tmps = keep;
	if (keep == 0) {
		free(tmps);
		tmps = NULL;
		cap_tmps = 0;
	}
	if (base_dir != NULL && base_owner == me) {
		rmdir(base_dir);
		free(base_dir);
		base_dir = NULL;
	}
}

static void tu_atexit(void)
{
	tu_cleanup();
}

static const char *tu_base_dir(void)
{
	if (base_dir != NULL && base_owner == getpid())
		return base_dir;
	/* A forked test process makes its own directory: the parent's is
	 * the parent's to remove. */
	base_dir = NULL;
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	size_t n = strlen(tmp) + sizeof("/evc-test-XXXXXX");
	char *dir = malloc(n);
	ck_assert_ptr_nonnull(dir);
	snprintf(dir, n, "%s/evc-test-XXXXXX", tmp);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir,
	              strerror(errno));
	base_dir = dir;
	base_owner = getpid();
	tmp_seq = 0;
	if (!atexit_done) {
		atexit(tu_atexit);
		atexit_done = 1;
	}
	return base_dir;
}

static char *tu_new_name(const char *kind)
{
	const char *dir = tu_base_dir();
	size_t n = strlen(dir) + strlen(kind) + 32;
	char *path = malloc(n);
	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/%s%lu", dir, kind, ++tmp_seq);
	return path;
}

const char *tu_temp_path(void)
{
	char *path = tu_new_name("f");
	tu_register(path, 0);
	return path;
}

const char *tu_temp_dir(void)
{
	char *path = tu_new_name("d");
	ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s: %s", path,
	              strerror(errno));
	tu_register(path, 1);
	return path;
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

const char *tu_write_temp(const void *data, size_t len)
{
	const char *path = tu_temp_path();
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	write_all(fd, data, len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

const char *tu_write_temp_str(const char *s)
{
	return tu_write_temp(s, strlen(s));
}

int tu_open_temp(const void *data, size_t len)
{
	const char *path = tu_write_temp(data, len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

char *tu_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	ck_assert_ptr_nonnull(buf);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* ---- time ---------------------------------------------------------------- */

int64_t ts(const char *s)
{
	int64_t t = 0;
	int rc = evc_parse_time(s, &t);
	ck_assert_msg(rc == EVC_OK, "evc_parse_time(\"%s\") = %d (%s)", s, rc,
	              evc_errmsg(NULL));
	return t;
}

const char *tu_fmt(int64_t t, char buf[EVC_TIME_BUFSZ])
{
	if (evc_format_time(t, buf, EVC_TIME_BUFSZ) < 0)
		snprintf(buf, EVC_TIME_BUFSZ, "%lld", (long long)t);
	return buf;
}

/* ---- stores -------------------------------------------------------------- */

evc_store *tu_open_store(const char *path, unsigned flags)
{
	evc_store *s = NULL;
	int rc = evc_open(&s, path, flags);
	ck_assert_msg(rc == EVC_OK, "evc_open(%s, %#x) = %d (%s)", path, flags,
	              rc, evc_errmsg(NULL));
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Run one evc_open() expected to fail with `want`; the file's bytes must
 * be the same afterwards and the message must name the path. */
void tu_open_fails_unchanged(const char *path, unsigned flags, int want)
{
	size_t len0 = 0, len1 = 0;
	char *before = tu_read_file(path, &len0);
	evc_store *s = (evc_store *)&s; /* must be reset to NULL */
	int rc = evc_open(&s, path, flags);
	ck_assert_msg(rc == want, "evc_open(%s, %#x) = %d (%s), want %d", path,
	              flags, rc, evc_errmsg(NULL), want);
	ck_assert_ptr_null(s);
	const char *msg = evc_errmsg(NULL);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, path) != NULL, "message \"%s\" lacks %s", msg,
	              path);
	char *after = tu_read_file(path, &len1);
	if (before == NULL) {
		ck_assert_msg(after == NULL, "%s was created", path);
	} else {
		ck_assert_ptr_nonnull(after);
		ck_assert_uint_eq(len1, len0);
		ck_assert_msg(memcmp(before, after, len0) == 0,
		              "%s was modified", path);
	}
	free(before);
	free(after);
}

bool tu_pg(void)
{
	const char *uri = getenv("EVC_TEST_PG");
	return uri && *uri;
}

const char *tu_store_path(void)
{
	static unsigned long seq;

	if (!tu_pg())
		return tu_temp_path();
	/* One schema per store, named by process and count: forked tests
	 * and parallel suites each make their own. */
	const char *uri = getenv("EVC_TEST_PG");
	size_t n = strlen(uri) + 64;
	char *path = malloc(n);
	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s%cevcount_schema=t%ld_%lu", uri,
	         strchr(uri, '?') ? '&' : '?', (long)getpid(), ++seq);
	tu_register_name(path);
	return path;
}

evc_store *tu_mem_store(void)
{
	if (tu_pg())
		return tu_open_store(tu_store_path(),
		                     EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	return tu_open_store(":memory:", EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
}

/* ---- reject reports ------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
	if (s == NULL)
		return NULL;
	char *d = strdup(s);
	ck_assert_ptr_nonnull(d);
	return d;
}

int tu_collect(const evc_reject *reject, void *payload)
{
	tu_reports *r = payload;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		tu_report *v = realloc(r->v, cap * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		r->v = v;
		r->cap = cap;
	}
	tu_report *p = &r->v[r->n++];
	memset(p, 0, sizeof(*p));
	p->source = dup_or_null(reject->source);
	p->line = reject->line;
	p->warning = reject->warning;
	p->reason = dup_or_null(reject->reason);
	p->text_len = reject->text_len;
	p->text_truncated = reject->text_truncated;
	p->text = malloc(reject->text_len + 1);
	ck_assert_ptr_nonnull(p->text);
	if (reject->text_len > 0) {
		ck_assert_ptr_nonnull(reject->text);
		memcpy(p->text, reject->text, reject->text_len);
	}
	p->text[reject->text_len] = '\0';
	return (r->stop_at != 0 && r->n == r->stop_at) ? 1 : 0;
}

void tu_reports_free(tu_reports *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].source);
		free(r->v[i].reason);
		free(r->v[i].text);
	}
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

/* ---- ingesting strings --------------------------------------------------- */

int tu_ingest_mem(evc_store *store, const void *data, size_t len,
                  const evc_ingest_options *opts, evc_ingest_stats *stats)
{
	const char *path = tu_write_temp(data, len);
	return evc_ingest_csv(store, path, opts, stats);
}

int tu_ingest_str(evc_store *store, const char *csv,
                  const evc_ingest_options *opts, evc_ingest_stats *stats)
{
	return tu_ingest_mem(store, csv, strlen(csv), opts, stats);
}

typedef struct pipe_writer {
	int fd;
	const char *data;
	size_t len;
} pipe_writer;

static void *pipe_writer_main(void *arg)
{
	pipe_writer *w = arg;
	const char *p = w->data;
	size_t len = w->len;
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the reader stopped early */
		p += n;
		len -= (size_t)n;
	}
	close(w->fd);
	return NULL;
}

int tu_ingest_pipe(evc_store *store, const void *data, size_t len,
                   const char *name, const evc_ingest_options *opts,
                   evc_ingest_stats *stats)
{
	int fds[2];
	pthread_t th;

	/* A reader that stops early must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(fds), 0);
	pipe_writer w = {fds[1], data, len};
	ck_assert_int_eq(pthread_create(&th, NULL, pipe_writer_main, &w), 0);
	int rc = evc_ingest_fd(store, fds[0], name, opts, stats);
	/* Unblock the writer if the reader stopped early. */
	close(fds[0]);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	return rc;
}

void tu_ingest_ok(evc_store *store, const char *csv)
{
	tu_reports reps = {0};
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st;
	opts.on_reject = tu_collect;
	opts.payload = &reps;
	memset(&st, 0xa5, sizeof(st));
	int rc = tu_ingest_str(store, csv, &opts, &st);
	ck_assert_msg(rc == EVC_OK, "ingest = %d (%s)", rc, evc_errmsg(store));
	for (size_t i = 0; i < reps.n; i++)
		ck_assert_msg(reps.v[i].warning, "line %llu rejected: %s: %s",
		              (unsigned long long)reps.v[i].line,
		              reps.v[i].reason, reps.v[i].text);
	ck_assert_uint_eq(st.rows_rejected, 0);
	ck_assert_uint_eq(st.rows_counted, st.rows_read);
	tu_reports_free(&reps);
}

/* ---- queries ------------------------------------------------------------- */

evc_hourly_result *tu_hourly(evc_store *store, const char *customer,
                             int64_t start, int64_t end)
{
	evc_hourly_result *res = NULL;
	char b1[EVC_TIME_BUFSZ], b2[EVC_TIME_BUFSZ];
	int rc = evc_hourly(store, customer, start, end, &res);
	ck_assert_msg(rc == EVC_OK, "evc_hourly(%s, %s, %s) = %d (%s)",
	              customer, tu_fmt(start, b1), tu_fmt(end, b2), rc,
	              evc_errmsg(store));
	ck_assert_ptr_nonnull(res);
	uint64_t sum = 0;
	for (size_t i = 0; i < res->n_buckets; i++) {
		ck_assert_int_eq(evc__floor_div(res->buckets[i].hour, 3600) *
		                     3600,
		                 res->buckets[i].hour);
		if (i > 0)
			ck_assert_int_eq(res->buckets[i].hour,
			                 res->buckets[i - 1].hour + 3600);
		sum += res->buckets[i].count;
	}
	ck_assert_uint_eq(res->total, sum);
	return res;
}

evc_bucket tu_bucket(evc_store *store, const char *customer, int64_t start,
                     int64_t end, size_t i)
{
	evc_hourly_result *res = tu_hourly(store, customer, start, end);
	ck_assert_msg(i < res->n_buckets, "bucket %zu of %zu", i,
	              res->n_buckets);
	evc_bucket b = res->buckets[i];
	evc_hourly_free(res);
	return b;
}

uint64_t tu_total(evc_store *store, const char *customer, int64_t start,
                  int64_t end)
{
	evc_hourly_result *res = tu_hourly(store, customer, start, end);
	uint64_t total = res->total;
	evc_hourly_free(res);
	return total;
}

/* ---- random -------------------------------------------------------------- */

uint64_t tu_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t tu_rand_below(uint64_t *state, uint64_t n)
{
	return tu_rand(state) % n;
}

/* ---- the suite registry -------------------------------------------------- */

#define MAX_SUITES 32

static tu_suite_fn suites[MAX_SUITES];
static size_t n_suites;

void tu_register_suite(tu_suite_fn fn)
{
	if (n_suites == MAX_SUITES) {
		fputs("testutil: too many suites; raise MAX_SUITES\n", stderr);
		abort();
	}
	suites[n_suites++] = fn;
}

int main(void)
{
	if (n_suites == 0) {
		fputs("testutil: no suite linked in\n", stderr);
		return 1;
	}
	SRunner *sr = srunner_create(suites[0]());
	for (size_t i = 1; i < n_suites; i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_ENV);
	const int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
