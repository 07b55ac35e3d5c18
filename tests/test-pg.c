/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL backend's own checks, which need libpq itself to set up
 * or to look: schemas that are not stores (and newer stores) are refused
 * untouched, stores are created once however many create them at once,
 * passwords stay out of every message, a rolled-back ingest leaves no
 * customer behind, customer ids probe past a taken one, sources are known
 * by host and path, and the size is the tables'; corrections and writers
 * wait for each other, a removed customer leaves its id to nobody it
 * would hide, and the backend's own check finds what no constraint keeps;
 * a handle whose session the server ended starts a new one.
 * Run by tests/pg-run.sh
 * (suite pg); without $EVC_TEST_PG every test says it is skipped. The only
 * test that includes <libpq-fe.h>.
 */
#include "storage.h"
#include "testutil.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKIP_WITHOUT_PG()                                                      \
	do {                                                                   \
		if (!tu_pg()) {                                                \
			fprintf(stderr, "%s: skipped: no $EVC_TEST_PG\n",      \
			        __func__);                                     \
			return;                                                \
		}                                                              \
	} while (0)

static const char rows[] = "c1,click," TU_UUID ",2021-03-01T02:15:00Z\n"
                           "c1,click," TU_UUID ",2021-03-01T02:16:00Z\n"
                           "c2,click," TU_UUID ",2021-03-01T03:00:00Z\n";

static const unsigned all_flags[] = {
    EVC_OPEN_READONLY,
    EVC_OPEN_READWRITE,
    EVC_OPEN_READWRITE | EVC_OPEN_CREATE,
};
#define N_FLAGS ((int)(sizeof(all_flags) / sizeof(all_flags[0])))

/* The schema a tu_store_path() name chooses. */
static const char *schema_of(const char *path)
{
	const char *p = strstr(path, "evcount_schema=");
	ck_assert_ptr_nonnull(p);
	return p + strlen("evcount_schema=");
}

/* A connection to the test database, for looking behind the library. */
static PGconn *connect_db(void)
{
	PGconn *c = PQconnectdb(getenv("EVC_TEST_PG"));
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s",
	              PQerrorMessage(c));
	return c;
}

static void sql(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);
	const ExecStatusType st = PQresultStatus(r);
	ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s",
	              q, PQerrorMessage(c));
	PQclear(r);
}

/* The one value a query returns, as text (malloc'ed). */
static char *sql_value(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", q,
	              PQerrorMessage(c));
	ck_assert_int_eq(PQntuples(r), 1);
	char *v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static long long sql_int(PGconn *c, const char *q)
{
	char *v = sql_value(c, q);
	long long n = atoll(v);
	free(v);
	return n;
}

/* A statement naming one schema (fmt takes it once or more as %1$s). */
static void sqlf(PGconn *c, char *buf, size_t size, const char *fmt,
                 const char *schema)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(buf, size, fmt, schema);
#pragma GCC diagnostic pop
	sql(c, buf);
}

/* ---- what is not a store is refused, untouched ----------------------------
 */

START_TEST(foreign_schema_is_not_store)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	const char *schema = schema_of(path);
	char q[512];
	PGconn *c = connect_db();
	sqlf(c, q, sizeof(q),
	     "CREATE SCHEMA %1$s; CREATE TABLE %1$s.t (x int);"
	     "INSERT INTO %1$s.t VALUES (1)",
	     schema);
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ENOTSTORE);
	snprintf(q, sizeof(q),
	         "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n"
	         " ON n.oid = c.relnamespace WHERE n.nspname = '%s') * 10 +"
	         " (SELECT x FROM %s.t)",
	         schema, schema);
	ck_assert_int_eq(sql_int(c, q), 11); /* one table, its row */
	PQfinish(c);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);
	PGconn *c = connect_db();
	sqlf(c, q, sizeof(q),
	     "UPDATE %1$s.evcount_store SET schema_version = 999",
	     schema_of(path));
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ESCHEMA);
	snprintf(q, sizeof(q), "SELECT schema_version FROM %s.evcount_store",
	         schema_of(path));
	ck_assert_int_eq(sql_int(c, q), 999);
	PQfinish(c);
}
END_TEST

START_TEST(older_schema_is_refused)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);
	PGconn *c = connect_db();
	sqlf(c, q, sizeof(q),
	     "UPDATE %1$s.evcount_store SET schema_version = 1",
	     schema_of(path));
	tu_open_fails_unchanged(path, all_flags[_i], EVC_ESCHEMA);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(NULL), "version 1"));
	PQfinish(c);
}
END_TEST

START_TEST(empty_schema)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[256];
	PGconn *c = connect_db();
	sqlf(c, q, sizeof(q), "CREATE SCHEMA %1$s", schema_of(path));
	tu_open_fails_unchanged(path, EVC_OPEN_READONLY, EVC_ENOTSTORE);
	tu_open_fails_unchanged(path, EVC_OPEN_READWRITE, EVC_ENOTSTORE);
	/* Created in it, as SQLite does in an empty file. */
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	evc_close(s);
	PQfinish(c);
}
END_TEST

START_TEST(missing_schema_is_not_created)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[256];
	tu_open_fails_unchanged(path, EVC_OPEN_READONLY, EVC_ENOTFOUND);
	tu_open_fails_unchanged(path, EVC_OPEN_READWRITE, EVC_ENOTFOUND);
	PGconn *c = connect_db();
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'",
	         schema_of(path));
	ck_assert_int_eq(sql_int(c, q), 0);
	PQfinish(c);
}
END_TEST

START_TEST(bad_schema_parameter)
{
	SKIP_WITHOUT_PG();
	static const char *const bad[] = {"", "1abc", "a-b", "a\"b", "a%20b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[512];
		evc_store *s = NULL;
		snprintf(path, sizeof(path), "%s?evcount_schema=%s",
		         getenv("EVC_TEST_PG"), bad[i]);
		ck_assert_int_eq(evc_open(&s, path, EVC_OPEN_READONLY),
		                 EVC_EINVAL);
		ck_assert_ptr_nonnull(
		    strstr(evc_errmsg(NULL), "evcount_schema"));
	}
}
END_TEST

/* A URI without evcount_schema names the schema evcount; postgres:// is
 * the same as postgresql://, as in libpq. */
START_TEST(default_schema_is_evcount)
{
	SKIP_WITHOUT_PG();
	const char *uri = getenv("EVC_TEST_PG");
	PGconn *c = connect_db();
	sql(c, "DROP SCHEMA IF EXISTS evcount CASCADE");
	evc_store *s = tu_open_store(uri, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);
	ck_assert_int_eq(
	    sql_int(c, "SELECT sum(total) FROM evcount.hour_counts"), 3);
	PQfinish(c);
}
END_TEST

START_TEST(postgres_scheme_names_the_same_store)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	ck_assert_int_eq(strncmp(path, "postgresql://", 13), 0);
	char other[1024];
	snprintf(other, sizeof(other), "postgres://%s", path + 13);
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_close(s);
	s = tu_open_store(other, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	evc_close(s);
}
END_TEST

/* ---- creating at once -----------------------------------------------------
 */

struct opener {
	const char *path;
	int rc;
	char msg[512];
};

static void *open_create(void *arg)
{
	struct opener *o = arg;
	evc_store *s = NULL;
	o->rc = evc_open(&s, o->path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	snprintf(o->msg, sizeof(o->msg), "%s", evc_errmsg(NULL));
	evc_close(s);
	return NULL;
}

START_TEST(concurrent_create_makes_one_store)
{
	SKIP_WITHOUT_PG();
	enum { N = 6 };
	const char *path = tu_store_path();
	struct opener o[N];
	pthread_t th[N];
	char q[256];
	for (int i = 0; i < N; i++) {
		o[i].path = path;
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, open_create, &o[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(o[i].rc == EVC_OK, "opener %d: %d %s", i, o[i].rc,
		              o[i].msg);
	}
	PGconn *c = connect_db();
	snprintf(q, sizeof(q), "SELECT count(*) FROM %s.evcount_store",
	         schema_of(path));
	ck_assert_int_eq(sql_int(c, q), 1);
	PQfinish(c);
}
END_TEST

/* ---- credentials -----------------------------------------------------------
 */

/* The test URI with the password in it: postgresql://evcount:PW@... */
static char *uri_with_password(const char *pw, const char *schema)
{
	const char *uri = getenv("EVC_TEST_PG");
	const char *at = strchr(uri, '@');
	ck_assert_ptr_nonnull(at);
	size_t n = strlen(uri) + strlen(pw) + 128;
	char *out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%.*s:%s%s?evcount_schema=%s", (int)(at - uri), uri,
	         pw, at, schema);
	return out;
}

static void assert_no(const char *msg, const char *secret)
{
	ck_assert_msg(strstr(msg, secret) == NULL, "\"%s\" shows the password",
	              msg);
}

START_TEST(password_never_shows)
{
	SKIP_WITHOUT_PG();
	const char *pw = getenv("PGPASSWORD");
	ck_assert_ptr_nonnull(pw);
	char schema[64];
	snprintf(schema, sizeof(schema), "%s", schema_of(tu_store_path()));
	char *uri = uri_with_password(pw, schema);
	evc_store *s = NULL;

	/* The right password in the URI: it works, and the store's own
	 * messages (here: a missing input) show the URI masked. */
	unsetenv("PGPASSWORD");
	ck_assert_int_eq(evc_open(&s, uri, EVC_OPEN_READONLY), EVC_ENOTFOUND);
	assert_no(evc_errmsg(NULL), pw);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(NULL), "evcount:***@"));
	s = tu_open_store(uri, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_store_summary sum;
	ck_assert_int_eq(evc_store_info(s, &sum), EVC_OK);
	evc_close(s);
	s = tu_open_store(uri, EVC_OPEN_READONLY);
	ck_assert_int_eq(tu_ingest_str(s, rows, NULL, NULL), EVC_EREADONLY);
	assert_no(evc_errmsg(s), pw);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "evcount:***@"));
	evc_close(s);
	/* Bad flags: said before connecting, masked too. */
	ck_assert_int_eq(evc_open(&s, uri, 0), EVC_EINVAL);
	assert_no(evc_errmsg(NULL), pw);
	free(uri);

	/* A wrong password, in the URI or as a parameter, and a malformed
	 * one that libpq quotes back. */
	static const char *const wrong[] = {
	    "postgresql://evcount:WrongSecret42@%s?evcount_schema=x",
	    "postgresql://evcount@%s?password=WrongSecret42",
	    "postgresql://evcount:Wrong%%zzSecret42@%s",
	};
	const char *host = strchr(getenv("EVC_TEST_PG"), '@') + 1;
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		char u[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(u, sizeof(u), wrong[i], host);
#pragma GCC diagnostic pop
		ck_assert_int_ne(evc_open(&s, u, EVC_OPEN_READONLY), EVC_OK);
		ck_assert_str_ne(evc_errmsg(NULL), "");
		assert_no(evc_errmsg(NULL), "Secret42");
	}
	/* Without any password: refused, saying why. */
	ck_assert_int_eq(evc_open(&s, getenv("EVC_TEST_PG"), EVC_OPEN_READONLY),
	                 EVC_EIO);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(NULL), "password"));
	setenv("PGPASSWORD", pw, 1);
}
END_TEST

/* ---- what the store holds -------------------------------------------------
 */

START_TEST(size_is_the_tables)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	evc_store_summary sum;
	ck_assert_int_eq(evc_store_info(s, &sum), EVC_OK);
	PGconn *c = connect_db();
	snprintf(q, sizeof(q),
	         "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
	         " JOIN pg_namespace n ON n.oid = c.relnamespace"
	         " WHERE n.nspname = '%s' AND c.relkind = 'r'",
	         schema_of(path));
	ck_assert_uint_eq(sum.file_size, (uint64_t)sql_int(c, q));
	ck_assert_uint_gt(sum.file_size, 0);
	PQfinish(c);
	evc_close(s);
}
END_TEST

static int stop_at_second(const evc_reject *r, void *payload)
{
	(void)r;
	return ++*(int *)payload == 2;
}

START_TEST(failed_ingest_leaves_no_customer)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, "old,click," TU_UUID ",2021-03-01T00:00:00Z\n");
	/* New customers, counted in the same transaction as a row the
	 * callback stops at: all of it rolls back, threaded or not. */
	for (unsigned threads = 0; threads <= 1; threads++) {
		int calls = 0;
		evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
		o.on_reject = stop_at_second;
		o.payload = &calls;
		o.threads = threads;
		ck_assert_int_eq(
		    tu_ingest_str(s,
		                  "new1,click,x,"
		                  "2021-03-01T00:00:00Z\n"
		                  "new2,click," TU_UUID
		                  ",2021-03-01T01:00:00Z\n"
		                  "new3,click,y,2021-03-01T02:00:00Z\n",
		                  &o, NULL),
		    EVC_EABORTED);
	}
	uint64_t n;
	ck_assert_int_eq(evc_customer_count(s, &n), EVC_OK);
	ck_assert_uint_eq(n, 1);
	PGconn *c = connect_db();
	const char *sch = schema_of(path);
	snprintf(q, sizeof(q),
	         "SELECT (SELECT count(*) FROM %s.customers) * 100 +"
	         " (SELECT count(*) FROM %s.hour_counts) * 10 +"
	         " (SELECT count(*) FROM %s.sources)",
	         sch, sch, sch);
	ck_assert_int_eq(sql_int(c, q), 111);
	PQfinish(c);
	evc_close(s);
}
END_TEST

/* The id the backend tries first for a customer (pg.c's first_id). */
static long long first_id(const char *name)
{
	evc_hash h;
	evc__hash_init(&h);
	evc__hash_update(&h, name, strlen(name));
	long long id = (long long)(evc__hash_final(&h) >> 1);
	return id ? id : 1;
}

START_TEST(customer_id_taken_probes_on)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	PGconn *c = connect_db();
	/* Another name holding c1's id, as a 63-bit collision would. */
	snprintf(q, sizeof(q),
	         "INSERT INTO %s.customers VALUES (%lld, 'impostor')",
	         schema_of(path), first_id("c1"));
	sql(c, q);
	tu_ingest_ok(s, rows);
	tu_ingest_ok(s, "c1,click," TU_UUID ",2021-03-01T02:17:00Z\n");
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  3);
	ck_assert_uint_eq(
	    tu_total(s, "impostor", ts("2021-03-01"), ts("2021-03-02")), 0);
	snprintf(q, sizeof(q), "SELECT id FROM %s.customers WHERE name = 'c1'",
	         schema_of(path));
	ck_assert_int_eq(sql_int(c, q), first_id("c1") + 1);
	evc_close(s);
	/* A fresh handle (nothing cached) finds it too. */
	s = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  3);
	uint64_t n;
	ck_assert_int_eq(evc_customer_count(s, &n), EVC_OK);
	ck_assert_uint_eq(n, 3);
	evc_close(s);
	PQfinish(c);
}
END_TEST

static int first_realpath(const evc_source_info *src, void *payload)
{
	snprintf(payload, 1024, "%s", src->realpath);
	return 1;
}

START_TEST(sources_are_known_by_host)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	const char *input = tu_write_temp_str(rows);
	char q[1024], got[1024], host[256], want[2048], real[1024];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	ck_assert_int_eq(evc_ingest_csv(s, input, NULL, NULL), EVC_OK);
	evc_sources(s, first_realpath, got);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	ck_assert_ptr_nonnull(realpath(input, real));
	snprintf(want, sizeof(want), "%s:%s", host, real);
	ck_assert_str_eq(got, want);
	/* The same path on another machine is another file: ingesting this
	 * one again finds it by content, counts nothing new. */
	PGconn *c = connect_db();
	snprintf(q, sizeof(q),
	         "UPDATE %s.sources SET realpath = 'elsewhere:' || path",
	         schema_of(path));
	sql(c, q);
	evc_ingest_stats st;
	ck_assert_int_eq(evc_ingest_csv(s, input, NULL, &st), EVC_OK);
	ck_assert_uint_eq(st.rows_counted, 0);
	ck_assert_int_eq(st.source, EVC_SOURCE_UNCHANGED);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	snprintf(q, sizeof(q), "SELECT count(*) FROM %s.sources",
	         schema_of(path));
	ck_assert_int_eq(sql_int(c, q), 2);
	PQfinish(c);
	evc_close(s);
}
END_TEST

/* ---- two writers at once --------------------------------------------------
 */

struct writer {
	const char *store, *input;
	int rc;
	char msg[512];
};

static void *write_one(void *arg)
{
	struct writer *w = arg;
	evc_store *s = NULL;
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	o.checkpoint_bytes = 4096;
	w->rc = evc_open(&s, w->store, EVC_OPEN_READWRITE);
	if (w->rc == EVC_OK)
		w->rc = evc_ingest_csv(s, w->input, &o, NULL);
	snprintf(w->msg, sizeof(w->msg), "%s",
	         s ? evc_errmsg(s) : evc_errmsg(NULL));
	evc_close(s);
	return NULL;
}

START_TEST(writers_of_different_files_both_count)
{
	SKIP_WITHOUT_PG();
	enum { N = 4, ROWS = 3000 };
	const char *path = tu_store_path();
	struct writer w[N];
	pthread_t th[N];
	uint64_t rng = 11;
	evc_close(tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE));
	/* The same customers and hours in every file, in other orders. */
	for (int i = 0; i < N; i++) {
		size_t cap = ROWS * 80, n = 0;
		char *csv = malloc(cap);
		ck_assert_ptr_nonnull(csv);
		for (int r = 0; r < ROWS; r++)
			n +=
			    (size_t)snprintf(csv + n, cap - n,
			                     "c%02u,click," TU_UUID
			                     ",2021-03-01T%02u:%02u:00Z\n",
			                     (unsigned)tu_rand_below(&rng, 20),
			                     (unsigned)tu_rand_below(&rng, 24),
			                     (unsigned)tu_rand_below(&rng, 60));
		w[i].store = path;
		w[i].input = tu_write_temp(csv, n);
		free(csv);
	}
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, write_one, &w[i]),
		                 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(w[i].rc == EVC_OK, "writer %d: %s", i, w[i].msg);
	}
	evc_store *s = tu_open_store(path, EVC_OPEN_READONLY);
	evc_store_summary sum;
	ck_assert_int_eq(evc_store_info(s, &sum), EVC_OK);
	ck_assert_uint_eq(sum.rows_counted, N * ROWS);
	ck_assert_uint_eq(sum.customers, 20);
	ck_assert_uint_eq(sum.sources, N);
	evc_close(s);
}
END_TEST

/* Merges that share a (customer, day) take turns at its day total, so
 * another ingest never writes an hour between a merge's reading and its
 * writing; a writer that leaves the day totals alone can, and these tests
 * play one (from psql's side): an hour inserted, or one added to, after
 * the merge read it, waits for, then is summed with, not overwritten. */

/* A store of `first`, to which c1's 2 events in 05:07 and 1 in 05:09 are
 * added while c's transaction holds `q` (one statement naming the schema
 * as %1$s), committed once the ingest waits for it; the store, read-only. */
static evc_store *ingest_while_held(PGconn *c, const char *first, const char *q)
{
	const char *path = tu_store_path();
	char buf[512];
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, first);
	evc_close(s);
	struct writer w = {.store = path,
	                   .input = tu_write_temp_str(
	                       "c1,click," TU_UUID ",2021-03-01T05:07:10Z\n"
	                       "c1,click," TU_UUID ",2021-03-01T05:07:20Z\n"
	                       "c1,click," TU_UUID ",2021-03-01T05:09:00Z\n")};
	pthread_t th;
	sql(c, "BEGIN");
	sqlf(c, buf, sizeof(buf), q, schema_of(path));
	ck_assert_int_eq(pthread_create(&th, NULL, write_one, &w), 0);
	PGconn *watch = connect_db();
	int waited = 0;
	for (int i = 0; i < 3000 && !waited; i++) {
		waited = (int)sql_int(watch, "SELECT count(*) FROM pg_locks"
		                             " WHERE NOT granted");
		if (!waited)
			usleep(10000);
	}
	PQfinish(watch);
	sql(c, "COMMIT");
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(waited, "the ingest never waited for the held row");
	ck_assert_msg(w.rc == EVC_OK, "%s", w.msg);
	return tu_open_store(path, EVC_OPEN_READONLY);
}

#define HOUR_5                                                                 \
	"((extract(epoch FROM timestamptz '2021-03-01 05:00Z') / 3600)::int8)"
#define C1_ID "(SELECT id FROM %1$s.customers WHERE name = 'c1')"

/* c1's events from `from` to `to` (times of 2021-03-01, UTC). */
static uint64_t c1_events(evc_store *s, const char *from, const char *to)
{
	char a[32], b[32];
	snprintf(a, sizeof(a), "2021-03-01T%s:00Z", from);
	snprintf(b, sizeof(b), "2021-03-01T%s:00Z", to);
	return tu_total(s, "c1", ts(a), ts(b));
}

START_TEST(an_hour_inserted_after_the_merge_read_it_is_added_to)
{
	SKIP_WITHOUT_PG();
	PGconn *c = connect_db();
	/* 5 events in 05:07. */
	evc_store *s =
	    ingest_while_held(c, "c1,click," TU_UUID ",2021-03-01T01:00:00Z\n",
	                      "INSERT INTO %1$s.hour_counts VALUES (" C1_ID
	                      ", " HOUR_5 ", 5, '\\x0705')");
	ck_assert_uint_eq(c1_events(s, "05:00", "06:00"), 8);
	ck_assert_uint_eq(c1_events(s, "05:07", "05:08"), 7);
	ck_assert_uint_eq(c1_events(s, "05:09", "05:10"), 1);
	evc_close(s);
	PQfinish(c);
}
END_TEST

START_TEST(an_hour_added_to_after_the_merge_read_it_is_added_to_again)
{
	SKIP_WITHOUT_PG();
	PGconn *c = connect_db();
	/* 05:07's 1 event becomes 6. */
	evc_store *s = ingest_while_held(
	    c, "c1,click," TU_UUID ",2021-03-01T05:07:00Z\n",
	    "UPDATE %1$s.hour_counts SET total = 6, minutes = '\\x0706'"
	    " WHERE customer = " C1_ID " AND hour = " HOUR_5);
	ck_assert_uint_eq(c1_events(s, "05:00", "06:00"), 9);
	ck_assert_uint_eq(c1_events(s, "05:07", "05:08"), 8);
	evc_close(s);
	PQfinish(c);
}
END_TEST

/* ---- sessions ------------------------------------------------------------ */

/* The server ends the sessions of two idle handles (as a restart would):
 * each starts a new one at its next call, which answers, a write
 * included (its staging tables made again), rather than failing once. */
START_TEST(a_session_the_server_ended_is_started_anew)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	evc_store *w =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(w, rows);
	evc_store *r = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(r, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	PGconn *c = connect_db();
	ck_assert_int_ge(sql_int(c, "SELECT count(pg_terminate_backend(pid))"
	                            " FROM pg_stat_activity"
	                            " WHERE application_name = 'evcount'"),
	                 2);
	for (int i = 0; i < 500 && sql_int(c, "SELECT count(*) FROM"
	                                      " pg_stat_activity WHERE"
	                                      " application_name = 'evcount'");
	     i++)
		usleep(10000);
	ck_assert_uint_eq(tu_total(r, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	tu_ingest_ok(w, "c1,click," TU_UUID ",2021-03-01T05:00:00Z\n");
	ck_assert_uint_eq(tu_total(r, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  3);
	PQfinish(c);
	evc_close(r);
	evc_close(w);
}
END_TEST

/* ---- corrections --------------------------------------------------------- */

static int count_problem(const evc_problem *p, void *payload)
{
	char *seen = payload;
	strncat(seen, p->what, 1023 - strlen(seen));
	strncat(seen, "\n", 1023 - strlen(seen));
	return 0;
}

/* An impostor holds c1's first id, so c1 probed on past it; a prune
 * removes the impostor (it has no counts): c1 is moved back where its
 * lookup starts, and found by every handle. */
START_TEST(a_removed_id_leaves_no_gap)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512], seen[1024] = "";
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	PGconn *c = connect_db();
	snprintf(q, sizeof(q),
	         "INSERT INTO %s.customers VALUES (%lld, 'impostor')",
	         schema_of(path), first_id("c1"));
	sql(c, q);
	tu_ingest_ok(s, rows);
	evc_correction_stats st;
	ck_assert_int_eq(evc_prune(s, ts("2000-01-01"), 0, &st), EVC_OK);
	ck_assert_uint_eq(st.customers_removed, 1); /* the impostor */
	snprintf(q, sizeof(q), "SELECT id FROM %s.customers WHERE name = 'c1'",
	         schema_of(path));
	ck_assert_int_eq(sql_int(c, q), first_id("c1"));
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  2);
	tu_ingest_ok(s, "c1,click," TU_UUID ",2021-03-01T02:17:00Z\n");
	evc_close(s);
	s = tu_open_store(path, EVC_OPEN_READONLY);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  3);
	uint64_t n;
	ck_assert_int_eq(evc_customer_count(s, &n), EVC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_msg(evc_check(s, count_problem, seen, &n) == EVC_OK, "%s",
	              seen);
	evc_close(s);
	PQfinish(c);
}
END_TEST

/* Another handle remembers c1's id; after a forget, its next ingest of
 * c1 makes the customer again rather than count under a removed id. */
START_TEST(a_forgotten_customer_is_forgotten_by_every_handle)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char seen[1024] = "";
	evc_store *a =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_store *b = tu_open_store(path, EVC_OPEN_READWRITE);
	tu_ingest_ok(a, rows);
	ck_assert_int_eq(evc_forget(b, "c1", 0, NULL), EVC_OK);
	tu_ingest_ok(a, "c1,click," TU_UUID ",2021-03-01T05:00:00Z\n");
	ck_assert_uint_eq(tu_total(b, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  1);
	uint64_t n;
	ck_assert_int_eq(evc_customer_count(b, &n), EVC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_msg(evc_check(b, count_problem, seen, &n) == EVC_OK, "%s",
	              seen);
	evc_close(a);
	evc_close(b);
}
END_TEST

/* A correction waits for every writer, and every writer for it (each
 * wait as long as the claim's, then "busy"). */
START_TEST(corrections_and_writers_wait_for_each_other)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	evc_store *a =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_store *b = tu_open_store(path, EVC_OPEN_READWRITE);
	evc_error err = {0};
	tu_ingest_ok(a, rows);

	ck_assert_int_eq(a->be->begin_write(a->db, 42, &err), EVC_OK);
	ck_assert_int_eq(evc_forget(b, "c1", 0, NULL), EVC_EBUSY);
	a->be->rollback(a->db);

	ck_assert_int_eq(a->be->begin_write(a->db, EVC_CLAIM_ALL, &err),
	                 EVC_OK);
	ck_assert_int_eq(tu_ingest_str(b, rows, NULL, NULL), EVC_EBUSY);
	a->be->rollback(a->db);

	ck_assert_int_eq(evc_forget(b, "c1", 0, NULL), EVC_OK);
	ck_assert_uint_eq(tu_total(a, "c1", ts("2021-03-01"), ts("2021-03-02")),
	                  0);
	evc_close(a);
	evc_close(b);
}
END_TEST

/* What no constraint of the schema keeps: a customer id string stored
 * twice, a customer its lookup cannot reach. */
START_TEST(integrity_finds_what_no_constraint_keeps)
{
	SKIP_WITHOUT_PG();
	const char *path = tu_store_path();
	char q[512], seen[1024] = "";
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	tu_ingest_ok(s, rows);
	uint64_t n;
	ck_assert_int_eq(evc_check(s, count_problem, seen, &n), EVC_OK);
	PGconn *c = connect_db();
	snprintf(q, sizeof(q),
	         "INSERT INTO %s.customers VALUES (7, 'c2');"
	         " INSERT INTO %s.customers VALUES (%lld, 'lost')",
	         schema_of(path), schema_of(path), first_id("lost") + 1);
	sql(c, q);
	ck_assert_int_eq(evc_check(s, count_problem, seen, &n), EVC_ECORRUPT);
	ck_assert_msg(strstr(seen, "customer c2 is stored 2 times"), "%s",
	              seen);
	ck_assert_msg(strstr(seen, "customer lost (id"), "%s", seen);
	PQfinish(c);
	evc_close(s);
}
END_TEST

static Suite *pg_suite(void)
{
	Suite *s = suite_create("pg");
	TCase *tc = tcase_create("refuse_foreign_schemas");
	tcase_add_loop_test(tc, foreign_schema_is_not_store, 0, N_FLAGS);
	tcase_add_loop_test(tc, newer_schema_is_refused, 0, N_FLAGS);
	tcase_add_loop_test(tc, older_schema_is_refused, 0, N_FLAGS);
	tcase_add_test(tc, empty_schema);
	tcase_add_test(tc, missing_schema_is_not_created);
	tcase_add_test(tc, bad_schema_parameter);
	tcase_add_test(tc, default_schema_is_evcount);
	tcase_add_test(tc, postgres_scheme_names_the_same_store);
	tcase_add_test(tc, concurrent_create_makes_one_store);
	suite_add_tcase(s, tc);

	tc = tcase_create("credentials");
	tcase_add_test(tc, password_never_shows);
	suite_add_tcase(s, tc);

	tc = tcase_create("contents");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, size_is_the_tables);
	tcase_add_test(tc, failed_ingest_leaves_no_customer);
	tcase_add_test(tc, customer_id_taken_probes_on);
	tcase_add_test(tc, sources_are_known_by_host);
	tcase_add_test(tc, writers_of_different_files_both_count);
	tcase_add_test(tc,
	               an_hour_inserted_after_the_merge_read_it_is_added_to);
	tcase_add_test(
	    tc, an_hour_added_to_after_the_merge_read_it_is_added_to_again);
	suite_add_tcase(s, tc);

	tc = tcase_create("sessions");
	tcase_add_test(tc, a_session_the_server_ended_is_started_anew);
	suite_add_tcase(s, tc);

	tc = tcase_create("corrections");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_removed_id_leaves_no_gap);
	tcase_add_test(tc, a_forgotten_customer_is_forgotten_by_every_handle);
	tcase_add_test(tc, corrections_and_writers_wait_for_each_other);
	tcase_add_test(tc, integrity_finds_what_no_constraint_keeps);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(pg_suite)
