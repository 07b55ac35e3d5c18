/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL backend (see storage.h): a store is a schema of a
 * PostgreSQL database, reached through libpq by a connection URI (pg-name.c
 * takes the name apart). Layout, as in the SQLite backend: customers
 * interned to integers, one hour_counts row per (customer, hour) with its
 * total and packed minutes (minutes.c) keyed by (customer, hour), and the
 * sources; plus evcount_store, whose one row says what the schema is.
 *
 * Concurrency is what differs. Ingesters on many machines write one store,
 * and must neither wait for each other nor deadlock:
 * - begin_write() takes a transaction-scoped advisory lock on the claim
 *   (the input's head fingerprint): only ingests of the same input wait
 *   for each other, and source matching and the checkpoint check see
 *   every commit of a competitor (READ COMMITTED: each statement reads
 *   the latest commits).
 * - Hour rows and new customers are not written to the shared tables while
 *   an interval is ingested: add_hours() COPYs each set into a temporary
 *   staging table, which nobody else sees or locks. At the commit (or
 *   before a read inside the transaction, which must see its own writes)
 *   they are merged in: the staged rows are read back with the stored ones
 *   (no locks), summed here with evc__minutes_merge() (no server-side
 *   function: the store works on managed servers that install none), and
 *   written back in key order (an INSERT of the new ones, an UPDATE of
 *   the stored ones), which updates a row only where
 *   its total is still the one read. Rows are locked from that statement
 *   to the COMMIT only, in key order, so two merges wait for each other
 *   rather than deadlock. A key another ingest wrote first is redone (see
 *   merge_hours()); a deadlock with a reader's early merge is retried from
 *   a savepoint. On Citus, merges take turns instead (citus_serial()).
 * - Customer ids are a 63-bit hash of the name (probing on to the next id
 *   when a different name holds it): no sequence, the same id in every
 *   store, and on Citus the id can be the distribution column of
 *   hour_counts and customers alike.
 */
#include "pg-int.h"
#include "pg-libpq.h"
#include "pg-spill.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVC_PG_MAGIC "evcount"
/* The library's schema 3 (sqlite.c): day totals, what sources are,
 * erasures, the store's own facts. PostgreSQL stores of the versions
 * before were never released: they are refused, not migrated. */
#define EVC_SCHEMA_VERSION     3
#define EVC_SCHEMA_VERSION_SQL "3" /* the same, in the schema's SQL */
#define EVC_SCHEMA_OLDEST      3

/* Hour rows per add_hours() COPY: as SQLite's sets. */
#define SET_ROWS  32768u
#define SET_BYTES (1024u << 10)
/* Waiting for another ingest of the same input, as SQLite's busy timeout;
 * and for hour rows another ingest's merge holds. */
#define CLAIM_LOCK_TIMEOUT "5s"
#define MERGE_LOCK_TIMEOUT "60s"
/* Rows per FETCH from a cursor. */
#define FETCH_ROWS 32768
/* Merges retried after a deadlock, and rounds of a merge for the keys
 * another ingest wrote meanwhile. */
#define MERGE_TRIES 8
/* Customers whose ids are remembered; the cache starts over past it. */
#define CACHE_MAX (1u << 18)
#define COPY_BUF  (64u << 10)

#define STR_(x) #x
#define STR(x)  STR_(x)

/* The UTC day of an epoch hour, rounded down before 1970 too. */
#define DAY_OF_HOUR(h)                                                         \
	"(CASE WHEN " h " >= 0 THEN " h " / 24 ELSE -((23 - " h ") / 24) END)"

/* ---- ids of customers ---------------------------------------------------- */

/* Customer ids (> 0) and their names, open addressing. */
struct idmap {
	struct slot {
		int64_t id; /* 0: empty */
		uint32_t off, len;
	} * slot;
	size_t cap, n; /* cap: a power of two, or 0 */
	char *names;
	size_t names_len, names_cap;
};

static size_t slot_of(const struct idmap *m, int64_t id)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
	return (size_t)(x >> 17) & (m->cap - 1);
}

static const struct slot *idmap_get(const struct idmap *m, int64_t id)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(m, id);; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].id == id)
			return &m->slot[i];
		if (m->slot[i].id == 0)
			return NULL;
	}
}

static void idmap_clear(struct idmap *m)
{
	if (m->slot)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = m->names_len = 0;
}

static void idmap_free(struct idmap *m)
{
	free(m->slot);
	free(m->names);
	memset(m, 0, sizeof(*m));
}

static int idmap_put(struct idmap *m, int64_t id, const char *name, size_t len)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct slot *s = evc__calloc(cap, sizeof(*s));
		if (!s)
			return EVC_ENOMEM;
		struct idmap grown = *m;
		grown.slot = s;
		grown.cap = cap;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slot[i].id)
				continue;
			size_t j = slot_of(&grown, m->slot[i].id);
			while (s[j].id)
				j = (j + 1) & (cap - 1);
			s[j] = m->slot[i];
		}
		free(m->slot);
		*m = grown;
	}
	if (m->names_len + len > m->names_cap) {
		size_t cap = (m->names_len + len) * 2 + 4096;
		char *p = evc__malloc(cap);
		if (!p)
			return EVC_ENOMEM;
		if (m->names)
			memcpy(p, m->names, m->names_len);
		free(m->names);
		m->names = p;
		m->names_cap = cap;
	}
	size_t i = slot_of(m, id);
	while (m->slot[i].id)
		i = (i + 1) & (m->cap - 1);
	memcpy(m->names + m->names_len, name, len);
	m->slot[i] = (struct slot){id, (uint32_t)m->names_len, (uint32_t)len};
	m->names_len += len;
	m->n++;
	return EVC_OK;
}

static bool slot_is(const struct idmap *m, const struct slot *s,
                    const char *name, size_t len)
{
	return s->len == len && memcmp(m->names + s->off, name, len) == 0;
}

/* The first id a customer's name may have: 63 bits of its fingerprint,
 * never 0. Part of the store's format: it must never change. */
static int64_t first_id(const char *name, size_t len)
{
	evc_hash h;
	evc__hash_init(&h);
	evc__hash_update(&h, name, len);
	const int64_t id = (int64_t)(evc__hash_final(&h) >> 1);
	return id ? id : 1;
}

static int64_t next_id(int64_t id)
{
	return id == INT64_MAX ? 1 : id + 1;
}

/* ---- the connection ------------------------------------------------------ */

enum stmt {
	ST_CUSTOMER,
	ST_HOURS,
	ST_HOUR_TOTALS,
	ST_DAYS,
	ST_SRC_INSERT,
	ST_SRC_UPDATE,
	N_STMTS
};

struct evc_db {
	PGconn *conn;
	evc_pg_name name;
	char qschema[80];   /* "schema", quoted */
	int64_t lock_space; /* mixed into advisory lock keys */
	bool readonly;
	bool citus;       /* the citus extension is there: sizes differ */
	bool temp_ready;  /* the session's staging tables exist */
	bool in_write;    /* begin_write() .. commit() or rollback() */
	bool own_read;    /* begin_read() opened the transaction */
	bool merged;      /* this write transaction merged already */
	bool serial;      /* merges take the store's lock (Citus) */
	unsigned cursors; /* open cursors, for their names */
	size_t staged;    /* hour rows staged since the last merge */
	evc_spill *spill; /* and their counts */
	char sqlstate[6]; /* of the last failure */
	bool prepared[N_STMTS];
	struct idmap cache; /* committed customers seen */
	struct idmap fresh; /* customers made by this transaction */
	int64_t *fresh_ids; /* in the order made */
	size_t n_fresh, fresh_cap, fresh_merged;
	int64_t removals; /* meta's removals when the cache was filled */
	int64_t note;     /* note_ingest()'s time, written at the commit */
};

#define SOURCE_COLUMNS                                                         \
	"path, realpath, dev, ino, size, mtime_ns, head_len, head_hash, "      \
	"\"offset\", prefix_hash, next_line, rows_counted, rows_rejected, "    \
	"rows_warned, first_ingest, last_ingest, kind, counted_from, "         \
	"retracted"

/* '@' stands for the quoted schema. */
static const char *const stmt_sql[N_STMTS] = {
    [ST_CUSTOMER] = "SELECT name FROM @.customers WHERE id = $1::int8",
    [ST_HOURS] = "SELECT hour, total, minutes FROM @.hour_counts WHERE "
                 "customer = $1::int8 AND hour BETWEEN $2::int8 AND "
                 "$3::int8 ORDER BY hour",
    [ST_HOUR_TOTALS] = "SELECT hour, total FROM @.hour_counts WHERE "
                       "customer = $1::int8 AND hour BETWEEN $2::int8 AND "
                       "$3::int8 ORDER BY hour",
    [ST_DAYS] = "SELECT day, total FROM @.day_counts WHERE customer = "
                "$1::int8 AND day BETWEEN $2::int8 AND $3::int8 ORDER BY day",
    [ST_SRC_INSERT] = "INSERT INTO @.sources (" SOURCE_COLUMNS
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                      "$11, $12, $13, $14, $15, $16, $17, $18, $19) "
                      "RETURNING id",
    [ST_SRC_UPDATE] = "UPDATE @.sources SET path = $1, realpath = $2, "
                      "dev = $3, ino = $4, size = $5, mtime_ns = $6, "
                      "head_len = $7, head_hash = $8, \"offset\" = $9, "
                      "prefix_hash = $10, next_line = $11, "
                      "rows_counted = $12, rows_rejected = $13, "
                      "rows_warned = $14, first_ingest = $15, "
                      "last_ingest = $16, kind = $17, counted_from = $18, "
                      "retracted = $19 WHERE id = $20",
};

static const char schema_sql[] =
    "CREATE TABLE @.evcount_store ("
    " magic text NOT NULL,"
    " schema_version integer NOT NULL);"
    "INSERT INTO @.evcount_store VALUES ('" EVC_PG_MAGIC
    "', " EVC_SCHEMA_VERSION_SQL ");"
    /* Bytewise order, as SQLite's and the export's. */
    "CREATE TABLE @.customers ("
    " id bigint PRIMARY KEY,"
    " name text COLLATE \"C\" NOT NULL);"
    "CREATE TABLE @.hour_counts ("
    " customer bigint NOT NULL,"
    " hour bigint NOT NULL," /* epoch hours */
    " total bigint NOT NULL,"
    " minutes bytea NOT NULL," /* packed (minute, varint count) pairs */
    " PRIMARY KEY (customer, hour))"
    /* Room on each page for updated rows: an update that stays on its
     * page leaves the index alone (a HOT update; merging into the 10M-row
     * benchmark's store: 775 -> 469 ms for 80k rows). */
    " WITH (fillfactor = 85);"
    /* The sum of each (customer, UTC day)'s hour totals, kept in step
     * with hour_counts by every write. */
    "CREATE TABLE @.day_counts ("
    " customer bigint NOT NULL,"
    " day bigint NOT NULL," /* epoch days */
    " total bigint NOT NULL,"
    " PRIMARY KEY (customer, day))"
    " WITH (fillfactor = 85);"
    "CREATE TABLE @.sources ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " path text NOT NULL,"
    " realpath text NOT NULL," /* host:/resolved/path */
    " dev bigint NOT NULL,"
    " ino bigint NOT NULL,"
    " size bigint NOT NULL,"
    " mtime_ns bigint NOT NULL,"
    " head_len bigint NOT NULL,"
    " head_hash bigint NOT NULL,"
    " \"offset\" bigint NOT NULL,"
    " prefix_hash bigint NOT NULL,"
    " next_line bigint NOT NULL,"
    " rows_counted bigint NOT NULL,"
    " rows_rejected bigint NOT NULL,"
    " rows_warned bigint NOT NULL,"
    " first_ingest bigint NOT NULL,"
    " last_ingest bigint NOT NULL,"
    " kind bigint NOT NULL," /* 0: a file, 1: a tracked stream */
    " counted_from bigint NOT NULL,"
    " retracted bigint NOT NULL);" /* epoch seconds; 0: live */
    /* Each forget or prune, and the offset each live file source had
     * reached then. */
    "CREATE TABLE @.erasures ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " kind bigint NOT NULL," /* 0: a customer, 1: before a time */
    " key bigint NOT NULL,"  /* the id's fingerprint, or the time */
    " at bigint NOT NULL);"
    "CREATE TABLE @.erased_sources ("
    " source bigint NOT NULL,"
    " erasure bigint NOT NULL,"
    " \"offset\" bigint NOT NULL,"
    " PRIMARY KEY (source, erasure));"
    /* The store's own facts: last_ingest (epoch seconds) and removals
     * (how many corrections removed customers: a handle that remembers
     * customers' ids forgets them when it changes). */
    "CREATE TABLE @.meta ("
    " key text COLLATE \"C\" PRIMARY KEY,"
    " value bigint NOT NULL);";

/* The session's own staging tables: invisible to other sessions, never
 * locked by them, emptied by every commit and rollback. */
static const char temp_sql[] =
    /* The staged keys; their counts are in the spill. */
    "CREATE TEMP TABLE IF NOT EXISTS evc_stage (customer int8, hour int8)"
    " ON COMMIT DELETE ROWS;"
    /* The staged hours' sums per UTC day, made here: the day totals'
     * deltas. */
    "CREATE TEMP TABLE IF NOT EXISTS evc_days (customer int8, day int8,"
    " total int8) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS evc_out (customer int8, hour int8,"
    " total int8, minutes bytea, existed bool, old_total int8)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS evc_done (customer int8, hour int8)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS evc_newcust (id int8, name text)"
    " ON COMMIT DELETE ROWS;"
    /* What a correction subtracts. */
    "CREATE TEMP TABLE IF NOT EXISTS evc_sub (customer int8, hour int8,"
    " total int8, minutes bytea) ON COMMIT DELETE ROWS";

/* Copy `tmpl` with each '@' replaced by the quoted schema. */
static char *expand(const evc_db *db, const char *tmpl)
{
	size_t n = 0, q = strlen(db->qschema);
	for (const char *p = tmpl; *p; p++)
		n += *p == '@' ? q : 1;
	char *out = evc__malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = tmpl; *p; p++) {
		if (*p == '@') {
			memcpy(o, db->qschema, q);
			o += q;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* ---- failures ------------------------------------------------------------ */

static int code_of(const char *state)
{
	static const struct {
		const char *state;
		int code;
	} map[] = {
	    {"40P01", EVC_EBUSY},     /* deadlock_detected */
	    {"40001", EVC_EBUSY},     /* serialization_failure */
	    {"55P03", EVC_EBUSY},     /* lock_not_available (timeout) */
	    {"25006", EVC_EREADONLY}, /* read_only_sql_transaction */
	    {"42501", EVC_EREADONLY}, /* insufficient_privilege */
	    {"53100", EVC_EFULL},     /* disk_full */
	    {"XX001", EVC_ECORRUPT},  /* data_corrupted */
	    {"XX002", EVC_ECORRUPT},  /* index_corrupted */
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(state, map[i].state) == 0)
			return map[i].code;
	/* connection_exception, operator_intervention (shutdown) */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0)
		return EVC_EIO;
	return EVC_EDB;
}

/* libpq's message on one line: its continuation lines joined. */
static void one_line(char *out, size_t size, const char *msg)
{
	size_t n = 0;
	bool space = false;
	for (const char *p = msg ? msg : ""; *p && n + 1 < size; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			out[n++] = ' ';
		space = false;
		out[n++] = *p;
	}
	out[n] = '\0';
}

/* Record a failure of `what`, from `res` (cleared) or the connection. */
static int db_fail(evc_db *db, evc_error *err, PGresult *res, const char *what)
{
	char msg[EVC_ERRMSG_MAX];
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code;

	if (PQstatus(db->conn) == CONNECTION_BAD) {
		code = EVC_EIO;
		state = NULL;
		primary = NULL;
	} else if (state) {
		code = code_of(state);
	} else {
		/* No result, or one without a server error: libpq itself. */
		code = res ? EVC_EDB : EVC_ENOMEM;
	}
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	one_line(msg, sizeof(msg),
	         primary ? primary : PQerrorMessage(db->conn));
	if (!msg[0])
		snprintf(msg, sizeof(msg), "%s",
		         res ? "unexpected result" : "out of memory");
	PQclear(res);
	evc_error *e = err ? err : evc__err(NULL);
	if (code == EVC_EBUSY)
		evc__fail(e, code,
		          "%s: store is busy (another ingest holds what this "
		          "one needs): %s: %s",
		          db->name.display, what, msg);
	else if (code == EVC_EIO && PQstatus(db->conn) == CONNECTION_BAD)
		evc__fail(e, code, "%s: %s: connection to the server lost: %s",
		          db->name.display, what, msg);
	else
		evc__fail(e, code, "%s: %s: %s", db->name.display, what, msg);
	evc__pg_scrub(&db->name, e->msg, sizeof(e->msg));
	return code;
}

static bool result_ok(const PGresult *res)
{
	const ExecStatusType s = PQresultStatus(res);
	return res && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
}

/* Run SQL (possibly several statements, '@' for the schema) on the
 * session as it is; the last statement's result in *out (NULL: none
 * wanted). */
static int sql_result(evc_db *db, evc_error *err, const char *tmpl,
                      const char *what, PGresult **out)
{
	char *sql = expand(db, tmpl);
	if (!sql)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	PGresult *res = PQexec(db->conn, sql);
	free(sql);
	if (!result_ok(res))
		return db_fail(db, err, res, what);
	if (out)
		*out = res;
	else
		PQclear(res);
	return EVC_OK;
}

static int exec_sql(evc_db *db, evc_error *err, const char *tmpl,
                    const char *what)
{
	return sql_result(db, err, tmpl, what, NULL);
}

/* ---- the session --------------------------------------------------------- */

static void quiet(void *arg, const char *message);

/* The settings of each session of a handle. Read-only handles read in
 * read-only transactions: the server refuses any write, whatever a bug
 * here would try. JIT compiling costs more than any statement here
 * saves. */
static const char *session_sql(const evc_db *db)
{
	return db->readonly ? "SET client_encoding = 'UTF8';"
	                      "SET jit = off;"
	                      "SET default_transaction_read_only = on"
	                    : "SET client_encoding = 'UTF8';"
	                      "SET jit = off;"
	                      /* A merge sorts and joins an interval's
	                       * hours at once. */
	                      "SET work_mem = '64MB'";
}

/* A connection that failed: why, as libpq says it, without a password. */
static int cannot_connect(evc_db *db, evc_error *err)
{
	char msg[EVC_ERRMSG_MAX];
	evc_error *e = err ? err : evc__err(NULL);

	one_line(msg, sizeof(msg), PQerrorMessage(db->conn));
	const int rc = evc__fail(e, EVC_EIO, "%s: cannot connect: %s",
	                         db->name.display, msg);
	evc__pg_scrub(&db->name, e->msg, sizeof(e->msg));
	return rc;
}

/* Whether the server ended the session while it was idle, outside a
 * transaction (a restart, a crash, pg_terminate_backend(),
 * idle_session_timeout). Nothing is sent to an idle session but its end,
 * a last message then EOF: anything to read is taken for it. */
static bool session_ended(evc_db *db)
{
	if (PQstatus(db->conn) != CONNECTION_OK ||
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		return false;
	struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN};
	return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Before a statement: a session the server ended while the handle was
 * idle is started anew, with the same settings, so that a handle held
 * across a server restart (each worker of `serve` holds one) answers
 * again at once rather than failing its next call. Outside a transaction
 * the old session held nothing but what is made again on first use: the
 * prepared statements and the staging tables. */
static int revive(evc_db *db, evc_error *err)
{
	if (!session_ended(db))
		return EVC_OK;
	PQreset(db->conn);
	memset(db->prepared, 0, sizeof(db->prepared));
	db->temp_ready = false;
	if (PQstatus(db->conn) != CONNECTION_OK)
		return cannot_connect(db, err);
	PQsetNoticeProcessor(db->conn, quiet, NULL);
	return exec_sql(db, err, session_sql(db), "setting up the session");
}

/* Run SQL (possibly several statements, '@' for the schema), no result. */
static int exec(evc_db *db, evc_error *err, const char *tmpl, const char *what)
{
	const int rc = revive(db, err);
	return rc ? rc : exec_sql(db, err, tmpl, what);
}

/* Run one statement with text parameters ('@' for the schema); binary
 * results in *out (NULL: none wanted). */
static int query(evc_db *db, evc_error *err, const char *tmpl, int n,
                 const char *const *values, const int *lens, const int *fmts,
                 PGresult **out, const char *what)
{
	int rc = revive(db, err);
	if (rc)
		return rc;
	char *sql = expand(db, tmpl);
	if (!sql)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	PGresult *res =
	    PQexecParams(db->conn, sql, n, NULL, values, lens, fmts, 1);
	free(sql);
	if (!result_ok(res))
		return db_fail(db, err, res, what);
	if (out)
		*out = res;
	else
		PQclear(res);
	return EVC_OK;
}

/* A prepared statement of the table, prepared on first use. */
static int run_stmt(evc_db *db, evc_error *err, enum stmt s, int n,
                    const char *const *values, const int *lens, const int *fmts,
                    PGresult **out, const char *what)
{
	char name[16];
	int rc = revive(db, err);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "evc_%d", (int)s);
	if (!db->prepared[s]) {
		char *sql = expand(db, stmt_sql[s]);
		if (!sql)
			return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
			                 db->name.display);
		PGresult *res = PQprepare(db->conn, name, sql, 0, NULL);
		free(sql);
		if (!result_ok(res))
			return db_fail(db, err, res, what);
		PQclear(res);
		db->prepared[s] = true;
	}
	PGresult *res =
	    PQexecPrepared(db->conn, name, n, values, lens, fmts, 1);
	if (!result_ok(res))
		return db_fail(db, err, res, what);
	if (out)
		*out = res;
	else
		PQclear(res);
	return EVC_OK;
}

/* ---- binary values ------------------------------------------------------- */

static void put_be64(char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (char)(v & 0xff);
}

static uint64_t get_be64(const char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

/* Column c of row r as a bigint (binary format); 0 when NULL. */
static int64_t col_i64(const PGresult *res, int r, int c)
{
	if (PQgetisnull(res, r, c) || PQgetlength(res, r, c) != 8)
		return 0;
	return (int64_t)get_be64(PQgetvalue(res, r, c));
}

/* Binary bigint parameters. */
struct params {
	char buf[20][8];
	const char *value[20];
	int len[20], fmt[20];
	int n;
};

static void param_i64(struct params *p, int64_t v)
{
	put_be64(p->buf[p->n], (uint64_t)v);
	p->value[p->n] = p->buf[p->n];
	p->len[p->n] = 8;
	p->fmt[p->n] = 1;
	p->n++;
}

static void param_text(struct params *p, const char *s, size_t len)
{
	p->value[p->n] = s;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* ---- COPY in binary ------------------------------------------------------ */

struct copy {
	evc_db *db;
	evc_error *err;
	size_t len, cap;
	bool failed;
	char buf[];
};

/* A buffer of cap bytes (COPY_BUF: what one PQputCopyData sends). */
static struct copy *copy_new(size_t cap)
{
	struct copy *c = evc__malloc(sizeof(*c) + cap);
	if (c)
		c->cap = cap;
	return c;
}

static int copy_send(struct copy *c)
{
	if (c->len && PQputCopyData(c->db->conn, c->buf, (int)c->len) != 1) {
		c->failed = true;
		return db_fail(c->db, c->err, NULL, "writing counts");
	}
	c->len = 0;
	return EVC_OK;
}

#define COPY_HEADER_LEN 19

/* Empty c but for the binary COPY header. */
static void copy_reset(struct copy *c, evc_db *db, evc_error *err)
{
	static const char header[COPY_HEADER_LEN] =
	    "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

	c->db = db;
	c->err = err;
	c->failed = false;
	memcpy(c->buf, header, sizeof(header));
	c->len = sizeof(header);
}

/* Start the COPY statement sql; what c holds is its first data. */
static int copy_open(struct copy *c, const char *sql)
{
	PGresult *res = PQexec(c->db->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return db_fail(c->db, c->err, res, "writing counts");
	PQclear(res);
	return EVC_OK;
}

static int copy_begin(struct copy *c, evc_db *db, evc_error *err,
                      const char *sql)
{
	copy_reset(c, db, err);
	return copy_open(c, sql);
}

/* Room for n more bytes. */
static int copy_room(struct copy *c, size_t n)
{
	return c->len + n > c->cap ? copy_send(c) : EVC_OK;
}

static void copy_i16(struct copy *c, int v)
{
	c->buf[c->len++] = (char)((v >> 8) & 0xff);
	c->buf[c->len++] = (char)(v & 0xff);
}

static void copy_i64(struct copy *c, int64_t v)
{
	static const char len8[4] = {0, 0, 0, 8};
	memcpy(c->buf + c->len, len8, 4);
	put_be64(c->buf + c->len + 4, (uint64_t)v);
	c->len += 12;
}

static void copy_bytes(struct copy *c, const void *p, size_t n)
{
	c->buf[c->len++] = (char)((n >> 24) & 0xff);
	c->buf[c->len++] = (char)((n >> 16) & 0xff);
	c->buf[c->len++] = (char)((n >> 8) & 0xff);
	c->buf[c->len++] = (char)(n & 0xff);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void copy_bool(struct copy *c, bool v)
{
	static const char len1[4] = {0, 0, 0, 1};
	memcpy(c->buf + c->len, len1, 4);
	c->buf[c->len + 4] = v ? 1 : 0;
	c->len += 5;
}

/* End the COPY; with `rc` a failure already, abandon it. */
static int copy_end(struct copy *c, int rc)
{
	evc_db *db = c->db;

	if (rc == EVC_OK && copy_room(c, 2) == EVC_OK) {
		copy_i16(c, -1);
		rc = copy_send(c);
	} else if (rc == EVC_OK) {
		rc = EVC_EDB;
	}
	if (PQputCopyEnd(db->conn, rc == EVC_OK ? NULL : "abandoned") != 1 &&
	    rc == EVC_OK)
		rc = db_fail(db, c->err, NULL, "writing counts");
	PGresult *res;
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (rc == EVC_OK && !result_ok(res)) {
			rc = db_fail(db, c->err, res, "writing counts");
			continue;
		}
		PQclear(res);
	}
	return rc;
}

/* ---- opening --------------------------------------------------------------
 */

static void quiet(void *arg, const char *message)
{
	/* Notices ("relation already exists, skipping") are not failures,
	 * and the library never prints. */
	(void)arg;
	(void)message;
}

struct state {
	bool exists, has_store_table, magic_ok;
	int64_t objects, version;
};

/* What the schema holds: read in READ COMMITTED, each statement seeing
 * every commit before it, so a store created meanwhile by another process
 * is seen whole (it is created in one transaction) or not at all. */
static int read_state(evc_db *db, evc_error *err, struct state *st)
{
	char reg[96];
	PGresult *res = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(reg, sizeof(reg), "%s.evcount_store", db->qschema);
	const char *values[2] = {db->name.schema, reg};
	const int lens[2] = {(int)strlen(db->name.schema), (int)strlen(reg)};
	const int fmts[2] = {1, 1};
	if ((rc = query(db, err,
	                "SELECT n.oid IS NOT NULL,"
	                " coalesce((SELECT count(*) FROM pg_class c"
	                "  WHERE c.relnamespace = n.oid), 0)"
	                " + coalesce((SELECT count(*) FROM pg_proc p"
	                "  WHERE p.pronamespace = n.oid), 0)"
	                " + coalesce((SELECT count(*) FROM pg_type t"
	                "  WHERE t.typnamespace = n.oid AND t.typrelid = 0"
	                "  AND t.typcategory <> 'A'), 0),"
	                " n.oid IS NOT NULL AND to_regclass($2::text) IS NOT "
	                "NULL"
	                " FROM (SELECT (SELECT oid FROM pg_namespace"
	                "  WHERE nspname = $1::text) AS oid) n",
	                2, values, lens, fmts, &res, "reading the schema")))
		return rc;
	st->exists = *PQgetvalue(res, 0, 0) == 1;
	st->objects = col_i64(res, 0, 1);
	st->has_store_table = *PQgetvalue(res, 0, 2) == 1;
	PQclear(res);
	if (!st->has_store_table)
		return EVC_OK;
	if ((rc = query(db, err,
	                "SELECT magic = '" EVC_PG_MAGIC
	                "', schema_version::int8 FROM @.evcount_store",
	                0, NULL, NULL, NULL, &res, "reading the schema")))
		return rc;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    !PQgetisnull(res, 0, 1)) {
		st->magic_ok = *PQgetvalue(res, 0, 0) == 1;
		st->version = col_i64(res, 0, 1);
	}
	PQclear(res);
	return EVC_OK;
}

static int create_store(evc_db *db, evc_error *err)
{
	struct state st;
	char sql[160];
	int rc;

	/* Two processes creating the store at once: one creates it, the
	 * other then finds it. The key is the schema's own. */
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
	         (long long)(db->lock_space ^ 0x4556433143524541LL));
	if ((rc = exec(db, err, sql, "creating the store")))
		return rc;
	if ((rc = read_state(db, err, &st)))
		goto fail;
	if (!st.exists || (st.objects == 0 && !st.has_store_table)) {
		PGresult *res = NULL;
		if ((rc = query(db, err,
		                "SELECT current_setting('server_encoding') IN "
		                "('UTF8', 'SQL_ASCII')",
		                0, NULL, NULL, NULL, &res,
		                "creating the store")))
			goto fail;
		const bool utf8 = *PQgetvalue(res, 0, 0) == 1;
		PQclear(res);
		if (!utf8) {
			rc = evc__fail(err, EVC_EDB,
			               "%s: the database's encoding is not "
			               "UTF8: customer ids are UTF-8",
			               db->name.display);
			goto fail;
		}
		if ((!st.exists && (rc = exec(db, err, "CREATE SCHEMA @",
		                              "creating the store"))) ||
		    (rc = exec(db, err, schema_sql, "creating the schema")))
			goto fail;
	}
	if ((rc = exec(db, err, "COMMIT", "creating the store")))
		goto fail;
	return EVC_OK;
fail:
	PQclear(PQexec(db->conn, "ROLLBACK"));
	return rc;
}

/* Decide what the schema is before anything writes (see the SQLite
 * backend's check_or_create). */
static int check_or_create(evc_db *db, evc_error *err, unsigned flags)
{
	struct state st;
	int rc;

	if ((rc = read_state(db, err, &st)))
		return rc;
	if (st.has_store_table) {
		if (!st.magic_ok || st.version < 1)
			return evc__fail(
			    err, EVC_ENOTSTORE,
			    "%s: not an evcount store (schema %s "
			    "has an evcount_store table of another "
			    "kind)",
			    db->name.display, db->name.schema);
		if (st.version > EVC_SCHEMA_VERSION)
			return evc__fail(err, EVC_ESCHEMA,
			                 "%s: store has schema version %lld, "
			                 "this evcount reads up to %d; "
			                 "upgrade evcount",
			                 db->name.display,
			                 (long long)st.version,
			                 EVC_SCHEMA_VERSION);
		if (st.version < EVC_SCHEMA_OLDEST)
			return evc__fail(err, EVC_ESCHEMA,
			                 "%s: store has schema version %lld, "
			                 "from a development version of "
			                 "evcount, which this one does not "
			                 "read; ingest its files again into a "
			                 "new store",
			                 db->name.display,
			                 (long long)st.version);
		return EVC_OK;
	}
	if (st.objects > 0)
		return evc__fail(err, EVC_ENOTSTORE,
		                 "%s: not an evcount store (schema %s holds "
		                 "other objects)",
		                 db->name.display, db->name.schema);
	if (!(flags & EVC_OPEN_CREATE)) {
		if (!st.exists)
			return evc__fail(err, EVC_ENOTFOUND,
			                 "%s: no such store (no schema %s)",
			                 db->name.display, db->name.schema);
		return evc__fail(err, EVC_ENOTSTORE,
		                 "%s: not an evcount store (schema %s is "
		                 "empty)",
		                 db->name.display, db->name.schema);
	}
	if ((rc = create_store(db, err)))
		return rc;
	/* Whoever created it, it must now be a store. */
	return check_or_create(db, err, flags & ~EVC_OPEN_CREATE);
}

static void pg_close(evc_db *db);

static int pg_open(evc_db **out, const char *path, unsigned flags,
                   evc_error *err)
{
	const char *why;
	int rc;

	if (evc__libpq_load(&why) != EVC_OK) {
		char *display = evc__pg_display_name(path);
		rc = evc__fail(err, EVC_EIO, "%s: %s",
		               display ? display : "PostgreSQL store", why);
		free(display);
		return rc;
	}
	evc_db *db = evc__calloc(1, sizeof(*db));
	if (!db || !(db->spill = evc__spill_new())) {
		free(db);
		return evc__fail(err, EVC_ENOMEM, "out of memory");
	}
	if ((rc = evc__pg_name_parse(path, &db->name, err))) {
		evc__spill_free(db->spill);
		free(db);
		return rc;
	}
	snprintf(db->qschema, sizeof(db->qschema), "\"%s\"", db->name.schema);
	db->lock_space = first_id(db->name.schema, strlen(db->name.schema));
	db->readonly = !(flags & EVC_OPEN_READWRITE);

	/* The URI goes to libpq as it is (less evcount's parameter): its
	 * environment (PGPASSWORD, PGPASSFILE, PGSSLMODE...) applies. */
	const char *const keys[] = {"dbname", "fallback_application_name",
	                            NULL};
	const char *const values[] = {db->name.conninfo, "evcount", NULL};
	db->conn = PQconnectdbParams(keys, values, 1);
	if (!db->conn) {
		rc = evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		               db->name.display);
		goto fail;
	}
	PQsetNoticeProcessor(db->conn, quiet, NULL);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		rc = cannot_connect(db, err);
		goto fail;
	}
	if ((rc = exec_sql(db, err, session_sql(db), "setting up the session")))
		goto fail;
	if ((rc = check_or_create(db, err, flags)))
		goto fail;
	PGresult *res = NULL;
	if ((rc = query(db, err,
	                "SELECT to_regclass('pg_catalog.pg_dist_partition') "
	                "IS NOT NULL",
	                0, NULL, NULL, NULL, &res, "reading the schema")))
		goto fail;
	db->citus = *PQgetvalue(res, 0, 0) == 1;
	PQclear(res);
	*out = db;
	return EVC_OK;
fail:
	pg_close(db);
	return rc;
}

static void pg_close(evc_db *db)
{
	if (!db)
		return;
	/* An open transaction ends with the session: rolled back. */
	PQfinish(db->conn);
	evc__pg_name_free(&db->name);
	idmap_free(&db->cache);
	idmap_free(&db->fresh);
	free(db->fresh_ids);
	evc__spill_free(db->spill);
	free(db);
}

/* ---- transactions -------------------------------------------------------- */

static bool in_transaction(const evc_db *db)
{
	return PQtransactionStatus(db->conn) != PQTRANS_IDLE;
}

static void forget_transaction(evc_db *db)
{
	db->in_write = db->own_read = db->merged = db->serial = false;
	db->staged = 0;
	evc__spill_clear(db->spill);
	db->note = 0;
	db->cursors = 0;
	idmap_clear(&db->fresh);
	db->n_fresh = db->fresh_merged = 0;
}

/* On Citus, with hour_counts distributed, a merge cannot compare what it
 * writes with what it read (MERGE from a coordinator's table into a
 * distributed one is not supported, nor an upsert condition that reads
 * one): merges take a lock of the store's from the merge to the commit,
 * and write with a plain upsert. Only merges wait for each other; the
 * ingests still stage their intervals side by side. */
static int citus_serial(evc_db *db, evc_error *err)
{
	char reg[96];
	PGresult *res = NULL;
	int rc;

	snprintf(reg, sizeof(reg), "%s.hour_counts", db->qschema);
	const char *values[1] = {reg};
	const int lens[1] = {(int)strlen(reg)};
	const int fmts[1] = {1};
	if ((rc = query(db, err,
	                "SELECT EXISTS (SELECT 1 FROM pg_dist_partition"
	                " WHERE logicalrelid = to_regclass($1::text))",
	                1, values, lens, fmts, &res, "starting a transaction")))
		return rc;
	db->serial = *PQgetvalue(res, 0, 0) == 1;
	PQclear(res);
	return EVC_OK;
}

/* The store-wide key: every writer holds it shared, a correction
 * (EVC_CLAIM_ALL) alone. */
#define STORE_KEY 0x4556433153544f52LL

/* Run SQL whose last statement returns one bigint ('@' for the schema). */
static int exec_i64(evc_db *db, evc_error *err, const char *tmpl,
                    const char *what, int64_t *out)
{
	PGresult *res = NULL;
	int rc = revive(db, err);
	if (rc || (rc = sql_result(db, err, tmpl, what, &res)))
		return rc;
	if (PQntuples(res) != 1 || PQnfields(res) != 1) {
		PQclear(res);
		return evc__fail(err, EVC_EDB, "%s: %s: unexpected result",
		                 db->name.display, what);
	}
	/* Text format: PQexec returns no binary results. */
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return EVC_OK;
}

static int pg_begin_write(evc_db *db, uint64_t claim, evc_error *err)
{
	char sql[640];
	int64_t removals = 0;
	int rc;

	/* Before the staging tables are looked for: a new session has
	 * none. */
	if ((rc = revive(db, err)))
		return rc;
	if (in_transaction(db))
		return evc__fail(err, EVC_EBUSY,
		                 "%s: a transaction is already open on this "
		                 "handle",
		                 db->name.display);
	if (!db->temp_ready) {
		if ((rc = exec(db, err, temp_sql, "starting a transaction")))
			return rc;
		db->temp_ready = true;
	}
	/* The store's key shared, then the claim's lock, each waited for a
	 * while: ingests of other inputs take other locks and go on; a
	 * stream (0) takes none of its own. A correction takes the store's
	 * key alone, waiting for every writer and making each wait. Then
	 * whether a correction removed customers since the handle last
	 * looked (its cache of ids would name them still). */
	const long long store_key = (long long)(db->lock_space ^ STORE_KEY);
	int n = snprintf(sql, sizeof(sql),
	                 "BEGIN; SET LOCAL lock_timeout = '" CLAIM_LOCK_TIMEOUT
	                 "'; SELECT pg_advisory_xact_lock%s(%lld);",
	                 claim == EVC_CLAIM_ALL ? "" : "_shared", store_key);
	if (claim && claim != EVC_CLAIM_ALL)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n,
		              " SELECT pg_advisory_xact_lock(%lld);",
		              (long long)((int64_t)claim ^ db->lock_space));
	snprintf(sql + n, sizeof(sql) - (size_t)n,
	         " SET LOCAL lock_timeout = '" MERGE_LOCK_TIMEOUT "';"
	         " SELECT coalesce((SELECT value FROM @.meta"
	         " WHERE key = 'removals'), 0)");
	rc = exec_i64(db, err, sql, "starting a transaction", &removals);
	if (rc != EVC_OK) {
		if (in_transaction(db))
			PQclear(PQexec(db->conn, "ROLLBACK"));
		return rc;
	}
	forget_transaction(db);
	db->in_write = true;
	if (removals != db->removals) {
		idmap_clear(&db->cache);
		db->removals = removals;
	}
	if (db->citus && (rc = citus_serial(db, err)))
		return rc;
	return EVC_OK;
}

static int merge(evc_db *db, evc_error *err);

static int pg_commit(evc_db *db, evc_error *err)
{
	int rc;

	if ((rc = merge(db, err)))
		return rc;
	/* The time of the ingest, written last: the row is every ingest's,
	 * and is locked only from here to the COMMIT. */
	if (db->note) {
		char sql[224];
		snprintf(
		    sql, sizeof(sql),
		    "INSERT INTO @.meta AS m (key, value) VALUES "
		    "('last_ingest', %lld) ON CONFLICT (key) DO UPDATE SET "
		    "value = excluded.value WHERE m.value < excluded.value",
		    (long long)db->note);
		if ((rc = exec(db, err, sql, "noting the ingest")))
			return rc;
	}
	PGresult *res = PQexec(db->conn, "COMMIT");
	if (!result_ok(res))
		return db_fail(db, err, res, "committing");
	/* A transaction that failed ends in a rollback, said so only by the
	 * command tag. */
	const bool committed = strcmp(PQcmdStatus(res), "COMMIT") == 0;
	PQclear(res);
	if (!committed) {
		forget_transaction(db);
		return evc__fail(err, EVC_EDB,
		                 "%s: committing: the transaction was rolled "
		                 "back",
		                 db->name.display);
	}
	/* The customers it made are committed customers now. */
	if (db->cache.n + db->n_fresh > CACHE_MAX)
		idmap_clear(&db->cache);
	for (size_t i = 0; i < db->n_fresh; i++) {
		const struct slot *s = idmap_get(&db->fresh, db->fresh_ids[i]);
		if (s && idmap_put(&db->cache, s->id, db->fresh.names + s->off,
		                   s->len) != EVC_OK) {
			idmap_clear(&db->cache); /* only a cache */
			break;
		}
	}
	forget_transaction(db);
	return EVC_OK;
}

static void pg_rollback(evc_db *db)
{
	if (PQtransactionStatus(db->conn) == PQTRANS_ACTIVE) {
		/* A COPY left open by a failure. */
		PQputCopyEnd(db->conn, "abandoned");
		PGresult *res;
		while ((res = PQgetResult(db->conn)) != NULL)
			PQclear(res);
	}
	if (in_transaction(db))
		PQclear(PQexec(db->conn, "ROLLBACK"));
	forget_transaction(db);
}

static int pg_begin_read(evc_db *db, evc_error *err)
{
	if (in_transaction(db))
		return EVC_OK;
	int rc =
	    exec(db, err, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	         "reading the store");
	db->own_read = rc == EVC_OK;
	return rc;
}

static void pg_end_read(evc_db *db)
{
	if (!db->own_read)
		return;
	PQclear(PQexec(db->conn, "COMMIT"));
	db->own_read = false;
}

/* Inside a write transaction, reads see its writes: what is staged is
 * merged first. */
static int before_read(evc_db *db, evc_error *err)
{
	return db->in_write ? merge(db, err) : EVC_OK;
}

/* ---- customers ----------------------------------------------------------- */

static int pg_customer(evc_db *db, const char *name, size_t len, bool create,
                       int64_t *out, evc_error *err)
{
	/* What the store answers is remembered unless it may be this
	 * transaction's own, uncommitted, merged write. */
	const bool cacheable = !(db->in_write && db->merged);
	int64_t id = first_id(name, len);
	int rc;

	*out = 0;
	for (;; id = next_id(id)) {
		const struct idmap *m = &db->fresh;
		const struct slot *s = idmap_get(m, id);
		if (!s)
			s = idmap_get(m = &db->cache, id);
		if (s) {
			if (slot_is(m, s, name, len)) {
				*out = id;
				return EVC_OK;
			}
			continue; /* another customer's id: probe on */
		}
		struct params p = {.n = 0};
		PGresult *res = NULL;
		param_i64(&p, id);
		if ((rc = run_stmt(db, err, ST_CUSTOMER, p.n, p.value, p.len,
		                   p.fmt, &res, "looking up a customer")))
			return rc;
		const bool found = PQntuples(res) > 0;
		const char *got = found ? PQgetvalue(res, 0, 0) : NULL;
		const size_t got_len =
		    found ? (size_t)PQgetlength(res, 0, 0) : 0;
		const bool same =
		    found && got_len == len && memcmp(got, name, len) == 0;
		if (found && cacheable) {
			if (db->cache.n >= CACHE_MAX)
				idmap_clear(&db->cache);
			if (idmap_put(&db->cache, id, got, got_len) != EVC_OK)
				idmap_clear(&db->cache);
		}
		PQclear(res);
		if (same) {
			*out = id;
			return EVC_OK;
		}
		if (found)
			continue;
		if (!create)
			return EVC_OK;
		/* New: made in this transaction, inserted at its merge. */
		if (db->n_fresh == db->fresh_cap) {
			size_t cap = db->fresh_cap ? db->fresh_cap * 2 : 256;
			int64_t *v = evc__malloc(cap * sizeof(*v));
			if (!v)
				return evc__fail(err, EVC_ENOMEM,
				                 "%s: out of memory",
				                 db->name.display);
			if (db->fresh_ids)
				memcpy(v, db->fresh_ids,
				       db->n_fresh * sizeof(*v));
			free(db->fresh_ids);
			db->fresh_ids = v;
			db->fresh_cap = cap;
		}
		if (idmap_put(&db->fresh, id, name, len) != EVC_OK)
			return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
			                 db->name.display);
		db->fresh_ids[db->n_fresh++] = id;
		*out = id;
		return EVC_OK;
	}
}

/* A statement returning one bigint. */
static int query_u64(evc_db *db, evc_error *err, const char *tmpl,
                     const char *what, uint64_t *out)
{
	PGresult *res = NULL;
	int rc = query(db, err, tmpl, 0, NULL, NULL, NULL, &res, what);
	if (rc)
		return rc;
	*out = (uint64_t)col_i64(res, 0, 0);
	PQclear(res);
	return EVC_OK;
}

static int pg_customer_count(evc_db *db, uint64_t *out, evc_error *err)
{
	int rc = before_read(db, err);
	return rc ? rc
	          : query_u64(db, err, "SELECT count(*) FROM @.customers",
	                      "counting customers", out);
}

/* ---- writing counts ------------------------------------------------------ */

static int spill_failed(evc_db *db, evc_error *err, int rc)
{
	if (rc == EVC_ENOMEM)
		return evc__fail(err, rc, "%s: out of memory",
		                 db->name.display);
	if (rc == EVC_ECORRUPT)
		return evc__fail(
		    err, rc, "%s: staged counts did not read back as written",
		    db->name.display);
	return evc__fail(err, rc, "%s: staging counts in a temporary file: %s",
	                 db->name.display, strerror(errno));
}

static int pg_add_hours(evc_db *db, const evc_hour_set *set, evc_error *err)
{
	struct copy *c;
	int rc;

	if (set->n == 0)
		return EVC_OK;
	/* A merge makes room for the run. */
	if (evc__spill_runs(db->spill) == EVC_SPILL_RUNS &&
	    (rc = merge(db, err)))
		return rc;
	if ((rc = evc__spill_add(db->spill, set)))
		return spill_failed(db, err, rc);
	if (!(c = copy_new(COPY_BUF)))
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	rc = copy_begin(c, db, err,
	                "COPY pg_temp.evc_stage FROM STDIN (FORMAT binary)");
	if (rc == EVC_OK) {
		for (size_t i = 0; i < set->n && rc == EVC_OK; i++) {
			const evc_hour_row *r = &set->row[i];
			if ((rc = copy_room(c, 2 + 2 * 12)))
				break;
			copy_i16(c, 2);
			copy_i64(c, r->customer);
			copy_i64(c, r->hour);
		}
		rc = copy_end(c, rc);
	}
	/* And the set's sums per (customer, day), one per run of a set in
	 * key order: the server adds up a few rows per day, not every
	 * staged hour. */
	if (rc == EVC_OK)
		rc = copy_begin(
		    c, db, err,
		    "COPY pg_temp.evc_days FROM STDIN (FORMAT binary)");
	if (rc == EVC_OK) {
		for (size_t i = 0; i < set->n && rc == EVC_OK;) {
			const int64_t customer = set->row[i].customer;
			const int64_t day =
			    evc__floor_div(set->row[i].hour, 24);
			uint64_t total = 0;
			for (; i < set->n && set->row[i].customer == customer &&
			       evc__floor_div(set->row[i].hour, 24) == day;
			     i++)
				total += set->row[i].total;
			if ((rc = copy_room(c, 2 + 3 * 12)))
				break;
			copy_i16(c, 3);
			copy_i64(c, customer);
			copy_i64(c, day);
			copy_i64(c, (int64_t)total);
		}
		rc = copy_end(c, rc);
	}
	free(c);
	if (rc == EVC_OK)
		db->staged += set->n;
	return rc;
}

static int by_id(const void *a, const void *b)
{
	const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The customers made since the last merge, inserted in id order (the
 * order every merge inserts in: no deadlock), then checked: another
 * ingest may have given one of their ids to another name meanwhile. */
static int merge_customers(evc_db *db, evc_error *err, struct copy *c)
{
	const size_t n = db->n_fresh - db->fresh_merged;
	int64_t *ids = evc__malloc(n * sizeof(*ids));
	int rc;

	if (!ids)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	memcpy(ids, db->fresh_ids + db->fresh_merged, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), by_id);
	rc = copy_begin(c, db, err,
	                "COPY pg_temp.evc_newcust FROM STDIN (FORMAT binary)");
	if (rc) {
		free(ids);
		return rc;
	}
	for (size_t i = 0; i < n && rc == EVC_OK; i++) {
		const struct slot *s = idmap_get(&db->fresh, ids[i]);
		if ((rc = copy_room(c, 2 + 12 + 4 + s->len)))
			break;
		copy_i16(c, 2);
		copy_i64(c, ids[i]);
		copy_bytes(c, db->fresh.names + s->off, s->len);
	}
	free(ids);
	if ((rc = copy_end(c, rc)))
		return rc;
	PGresult *res = NULL;
	if ((rc = exec(db, err,
	               "INSERT INTO @.customers (id, name) SELECT id, name"
	               " FROM pg_temp.evc_newcust ORDER BY id"
	               " ON CONFLICT DO NOTHING",
	               "adding customers")) ||
	    (rc = query(db, err,
	                "SELECT n.name FROM pg_temp.evc_newcust n"
	                " JOIN @.customers c ON c.id = n.id"
	                " WHERE c.name <> n.name LIMIT 1",
	                0, NULL, NULL, NULL, &res, "adding customers")))
		return rc;
	if (PQntuples(res) > 0) {
		rc = evc__fail(err, EVC_EBUSY,
		               "%s: store is busy: another ingest gave "
		               "customer \"%.64s\"'s id to another customer "
		               "meanwhile; nothing counted since the last "
		               "checkpoint (ingest again)",
		               db->name.display, PQgetvalue(res, 0, 0));
		PQclear(res);
		return rc;
	}
	PQclear(res);
	return EVC_OK;
}

/* One stored or staged hour, summed as the merge reads them. */
struct acc {
	bool have, existed;
	int64_t customer, hour;
	uint64_t total, old_total;
	size_t len;
	uint8_t blob[EVC_MINUTES_BLOB_MAX];
};

static int corrupt(evc_db *db, evc_error *err, int64_t hour)
{
	return evc__fail(err, EVC_ECORRUPT,
	                 "%s: corrupt minute counts in hour %lld",
	                 db->name.display, (long long)hour);
}

static int emit(struct copy *c, struct acc *a, size_t *n_new, size_t *n_old)
{
	int rc = copy_room(c, 2 + 4 * 12 + 4 + a->len + 5);
	if (rc)
		return rc;
	copy_i16(c, 6);
	copy_i64(c, a->customer);
	copy_i64(c, a->hour);
	copy_i64(c, (int64_t)a->total);
	copy_bytes(c, a->blob, a->len);
	copy_bool(c, a->existed);
	copy_i64(c, (int64_t)a->old_total);
	*(a->existed ? n_old : n_new) += 1;
	a->have = false;
	return EVC_OK;
}

#define OUT_COPY_SQL "COPY pg_temp.evc_out FROM STDIN (FORMAT binary)"

/* Where a merge's sums go: all into evc_out, or, direct, those of keys
 * read as new straight into hour_counts (a COPY writes them in batches:
 * 0.65x the time of an INSERT from a staging table, which first has to
 * be written too), and those of stored keys into evc_out for one UPDATE,
 * held back in `held` meanwhile, as one COPY is open at a time. */
struct sums {
	evc_db *db;
	evc_error *err;
	struct copy *out;  /* its COPY open while a FETCH is summed */
	struct copy *held; /* direct: stored keys' sums, COPY data */
	char *new_sql;     /* direct: the COPY into hour_counts */
	struct acc a;
	size_t n_new, n_old;
};

#define HELD_BUF (1u << 20)
/* One evc_out row as COPY data. */
#define OUT_ROW_BYTES(len) (2 + 4 * 12 + 4 + (len) + 5)

/* COPY the held rows into evc_out (between the COPYs into hour_counts). */
static int send_held(struct sums *s)
{
	if (s->held->len == COPY_HEADER_LEN)
		return EVC_OK;
	int rc = copy_open(s->held, OUT_COPY_SQL);
	rc = copy_end(s->held, rc);
	copy_reset(s->held, s->db, s->err);
	return rc;
}

static int emit_sum(struct sums *s)
{
	struct acc *a = &s->a;
	int rc;

	if (!s->held)
		return emit(s->out, a, &s->n_new, &s->n_old);
	if (!a->existed) {
		if ((rc = copy_room(s->out, 2 + 3 * 12 + 4 + a->len)))
			return rc;
		copy_i16(s->out, 4);
		copy_i64(s->out, a->customer);
		copy_i64(s->out, a->hour);
		copy_i64(s->out, (int64_t)a->total);
		copy_bytes(s->out, a->blob, a->len);
		s->n_new++;
		a->have = false;
		return EVC_OK;
	}
	/* Full: the COPY into hour_counts pauses while held is sent. */
	if (s->held->len + OUT_ROW_BYTES(a->len) + 2 > s->held->cap &&
	    ((rc = copy_end(s->out, EVC_OK)) || (rc = send_held(s)) ||
	     (rc = copy_begin(s->out, s->db, s->err, s->new_sql))))
		return rc;
	/* With that room, held never sends. */
	return emit(s->held, a, &s->n_new, &s->n_old);
}

/* What sum_hours() writes. */
enum sum_to {
	SUM_TO_OUT, /* every key's sum into evc_out */
	SUM_DIRECT, /* new keys' into hour_counts, stored ones' into evc_out */
	SUM_TO_STORED, /* the stored keys' into evc_out, the others left out */
};

/* The stored rows of the staged keys, a FETCH at a time; rows[at] is the
 * next. The COPY of the sums pauses for each FETCH. */
struct stored {
	PGresult *res;
	int at, n;
	bool done;
};

static int fetch_stored(struct sums *s, struct stored *st, enum sum_to to)
{
	const char *sql = to == SUM_DIRECT ? s->new_sql : OUT_COPY_SQL;
	int rc;

	PQclear(st->res);
	st->res = NULL;
	if ((rc = copy_end(s->out, EVC_OK)) ||
	    (to == SUM_DIRECT && (rc = send_held(s))) ||
	    (rc = query(s->db, s->err,
	                "FETCH " STR(FETCH_ROWS) " FROM evc_merge", 0, NULL,
	                NULL, NULL, &st->res, "merging counts")))
		return rc;
	st->at = 0;
	st->n = PQntuples(st->res);
	st->done = st->n < FETCH_ROWS;
	return copy_begin(s->out, s->db, s->err, sql);
}

/* The staged hours (the spill's runs) summed with the stored ones: each
 * key's sum written as `to` says. */
static int sum_hours(evc_db *db, evc_error *err, struct copy *c, enum sum_to to,
                     size_t *n_new, size_t *n_old)
{
	struct sums *s = evc__calloc(1, sizeof(*s));
	struct stored st = {.done = true};
	int rc;

	if (!s || (to == SUM_DIRECT &&
	           (!(s->held = copy_new(HELD_BUF)) ||
	            !(s->new_sql = expand(db, "COPY @.hour_counts (customer,"
	                                      " hour, total, minutes) FROM"
	                                      " STDIN (FORMAT binary)"))))) {
		rc = evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		               db->name.display);
		goto out;
	}
	s->db = db;
	s->err = err;
	s->out = c;
	if (to == SUM_DIRECT)
		copy_reset(s->held, db, err);
	if ((rc = evc__spill_rewind(db->spill))) {
		rc = spill_failed(db, err, rc);
		goto out;
	}
	/* The planner knows nothing of a temporary table unless told
	 * (0.1 s for an interval of the 10M-row benchmark): it sorted the
	 * whole store for a merge join. Told, it weighs hashing the store
	 * against probing its index per staged key by their sizes (forcing
	 * the hash join would cost each commit the store's size). */
	if (db->staged >= 10000 &&
	    (rc = exec(db, err, "ANALYZE pg_temp.evc_stage", "merging counts")))
		goto out;
	/* A cursor reads the store as it was when declared: the rows COPYed
	 * into hour_counts meanwhile are not read back. */
	if ((rc = exec(db, err,
	               "DECLARE evc_merge NO SCROLL CURSOR FOR"
	               " SELECT customer, hour, total, minutes"
	               " FROM @.hour_counts WHERE (customer, hour) IN"
	               " (SELECT customer, hour FROM pg_temp.evc_stage)"
	               " ORDER BY customer, hour",
	               "merging counts")))
		goto out;
	st.done = false;
	if ((rc = copy_begin(c, db, err,
	                     to == SUM_DIRECT ? s->new_sql : OUT_COPY_SQL)))
		goto out;
	struct acc *a = &s->a;
	for (;;) {
		uint64_t total;
		rc = evc__spill_next(db->spill, &a->customer, &a->hour, &total,
		                     a->blob, &a->len);
		if (rc <= 0) {
			if (rc < 0)
				rc = spill_failed(db, err, rc);
			break;
		}
		if (st.at == st.n && !st.done &&
		    (rc = fetch_stored(s, &st, to)))
			break;
		a->existed = false;
		a->old_total = 0;
		if (st.at < st.n && col_i64(st.res, st.at, 0) == a->customer &&
		    col_i64(st.res, st.at, 1) == a->hour) {
			const int r = st.at++;
			const size_t len = (size_t)PQgetlength(st.res, r, 3);
			uint8_t sum[EVC_MINUTES_BLOB_MAX];
			size_t sum_len;
			if (!evc__minutes_merge(
			        a->blob, a->len,
			        (const uint8_t *)PQgetvalue(st.res, r, 3), len,
			        sum, &sum_len)) {
				rc = corrupt(db, err, a->hour);
				break;
			}
			memcpy(a->blob, sum, sum_len);
			a->len = sum_len;
			a->existed = true;
			a->old_total = (uint64_t)col_i64(st.res, r, 2);
		} else if (to == SUM_TO_STORED) {
			continue;
		}
		a->total = a->old_total + total;
		if ((rc = emit_sum(s)))
			break;
	}
	/* Every stored row read is of a staged key, each in turn. */
	if (rc == EVC_OK && (st.at < st.n || !st.done))
		rc = evc__fail(err, EVC_EDB,
		               "%s: merging counts: stored hours out of order",
		               db->name.display);
	if ((rc = copy_end(c, rc)) == EVC_OK && to == SUM_DIRECT)
		rc = send_held(s);
	if (rc == EVC_OK)
		rc = exec(db, err, "CLOSE evc_merge", "merging counts");
	*n_new = s->n_new;
	*n_old = s->n_old;
out:
	PQclear(st.res);
	if (s) {
		free(s->held);
		free(s->new_sql);
	}
	free(s);
	return rc;
}

/* Run a statement that writes rows; *n: how many. */
static int exec_count(evc_db *db, evc_error *err, const char *tmpl,
                      const char *what, size_t *n)
{
	PGresult *res = NULL;
	int rc = revive(db, err);
	if (rc || (rc = sql_result(db, err, tmpl, what, &res)))
		return rc;
	*n = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return EVC_OK;
}

/* The sums in evc_out written in one statement, in key order (evc_out
 * is written in that order and read in it): an insert, or, where the row
 * exists, an update if its total is still the one read (every merge adds
 * events, so a total only grows). Either way the row ends up locked, and
 * two merges wait for each other rather than deadlock. */
#define UPSERT_SQL                                                             \
	"INSERT INTO @.hour_counts AS h (customer, hour, total, minutes)"      \
	" SELECT customer, hour, total, minutes FROM pg_temp.evc_out"          \
	" ON CONFLICT (customer, hour) DO UPDATE SET total = excluded.total,"  \
	" minutes = excluded.minutes WHERE h.total = (SELECT o.old_total"      \
	" FROM pg_temp.evc_out o WHERE o.customer = excluded.customer"         \
	" AND o.hour = excluded.hour AND o.existed)"

/* The stored rows' sums written as if nobody else wrote: by a nested loop
 * over evc_out, in key order (those read as new were COPYed in already;
 * one MERGE, which probes the index for each new row before inserting
 * it, took 2.8 s against 1.8 s for an INSERT and this UPDATE over the
 * 10M-row benchmark's four intervals). A row merged into meanwhile is
 * left alone. Its plan settings are undone after it, not at the commit. */
#define UPDATE_OLD_SQL                                                         \
	"SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;"   \
	" UPDATE @.hour_counts h SET total = o.total, minutes = o.minutes"     \
	" FROM pg_temp.evc_out o WHERE o.existed AND h.customer = o.customer"  \
	" AND h.hour = o.hour AND h.total = o.old_total"
#define UPDATE_OLD_DONE_SQL "RESET enable_hashjoin; RESET enable_mergejoin"

/* The staged hours into the store: summed with the stored ones as read
 * (without locks), then written where nobody wrote meanwhile: new keys by
 * a COPY, stored ones by an UPDATE; or, when somebody did (a key another
 * ingest inserted meanwhile fails the COPY), summed afresh and written by
 * the upsert, which notes the keys it wrote. The keys another ingest
 * wrote first (inserted while we took them for new, or merged into since
 * we read them) are, after the upsert, locked by this transaction: they
 * are read again and summed afresh. */
static int merge_hours(evc_db *db, evc_error *err, struct copy *c)
{
	size_t n_new, n_old, written = 0;
	int rc;

	if (db->serial) {
		/* Nobody else merges until this transaction ends. */
		if ((rc = sum_hours(db, err, c, SUM_TO_OUT, &n_new, &n_old)) ||
		    (rc = exec_count(
		         db, err,
		         "INSERT INTO @.hour_counts AS h (customer,"
		         " hour, total, minutes) SELECT customer,"
		         " hour, total, minutes FROM pg_temp.evc_out"
		         " ON CONFLICT (customer, hour) DO UPDATE SET"
		         " total = excluded.total,"
		         " minutes = excluded.minutes",
		         "writing counts", &written)))
			return rc;
		return written == n_new + n_old
		           ? EVC_OK
		           : evc__fail(err, EVC_EDB,
		                       "%s: writing counts: %zu rows of %zu "
		                       "written",
		                       db->name.display, written,
		                       n_new + n_old);
	}
	if ((rc = exec(db, err, "SAVEPOINT evc_write", "writing counts")))
		return rc;
	rc = sum_hours(db, err, c, SUM_DIRECT, &n_new, &n_old);
	if (rc == EVC_OK && n_old > 0 &&
	    (rc = exec_count(db, err, UPDATE_OLD_SQL, "writing counts",
	                     &written)) == EVC_OK)
		rc = exec(db, err, UPDATE_OLD_DONE_SQL, "writing counts");
	if (rc == EVC_OK && written == n_old)
		return exec(db, err, "RELEASE SAVEPOINT evc_write",
		            "writing counts");
	/* unique_violation: a key inserted meanwhile. */
	if (rc != EVC_OK && (strcmp(db->sqlstate, "23505") != 0 ||
	                     PQtransactionStatus(db->conn) == PQTRANS_ACTIVE))
		return rc;
	/* Again, noting which keys it wrote (the upsert looks each
	 * conflicting key up in evc_out: an index, for this once). */
	if ((rc = exec(db, err, "ROLLBACK TO SAVEPOINT evc_write",
	               "writing counts")) ||
	    (rc = sum_hours(db, err, c, SUM_TO_OUT, &n_new, &n_old)) ||
	    (rc = exec(db, err,
	               "CREATE INDEX evc_out_key ON pg_temp.evc_out"
	               " (customer, hour)",
	               "writing counts")) ||
	    (rc = exec_count(db, err,
	                     "WITH w AS (" UPSERT_SQL
	                     " RETURNING h.customer, h.hour) INSERT INTO"
	                     " pg_temp.evc_done SELECT customer, hour FROM w",
	                     "writing counts", &written)) ||
	    (rc = exec(db, err,
	               "DROP INDEX pg_temp.evc_out_key;"
	               " RELEASE SAVEPOINT evc_write",
	               "writing counts")))
		return rc;
	if (written == n_new + n_old)
		return EVC_OK;
	const size_t lost = n_new + n_old - written;
	size_t updated = 0;
	if ((rc = exec(db, err,
	               "DELETE FROM pg_temp.evc_stage s USING"
	               " pg_temp.evc_done d WHERE s.customer = d.customer"
	               " AND s.hour = d.hour;"
	               " TRUNCATE pg_temp.evc_out, pg_temp.evc_done",
	               "merging counts")) ||
	    (rc = sum_hours(db, err, c, SUM_TO_STORED, &n_new, &n_old)) ||
	    (rc = exec_count(db, err,
	                     "UPDATE @.hour_counts h SET total = o.total,"
	                     " minutes = o.minutes FROM pg_temp.evc_out o"
	                     " WHERE h.customer = o.customer"
	                     " AND h.hour = o.hour",
	                     "writing counts", &updated)))
		return rc;
	if (n_new != 0 || updated != lost)
		return evc__fail(err, EVC_EDB,
		                 "%s: merging counts: %zu of %zu rows that "
		                 "another ingest wrote first were found again",
		                 db->name.display, updated, lost);
	return EVC_OK;
}

static int merge_once(evc_db *db, evc_error *err, struct copy *c)
{
	int rc;

	if (db->fresh_merged < db->n_fresh &&
	    (rc = merge_customers(db, err, c)))
		return rc;
	if (db->staged == 0)
		return EVC_OK;
	/* The day totals first, in key order as every merge writes them: an
	 * upsert that adds, whoever wrote the row since. Their rows stay
	 * locked to the COMMIT, so merges that share a (customer, day) take
	 * turns: written after the hours instead, such merges overlapped,
	 * and each redid the hours the other wrote first (four ingesters of
	 * the benchmark's overlapping files: 1.3x-1.8x one ingester's wall
	 * time, against 0.5x-1.0x taking turns, on 2 cores). */
	if ((rc = exec(db, err,
	               "INSERT INTO @.day_counts AS d (customer, day, total)"
	               " SELECT customer, day, sum(total)::int8 FROM"
	               " pg_temp.evc_days GROUP BY 1, 2 ORDER BY 1, 2"
	               " ON CONFLICT (customer, day) DO UPDATE"
	               " SET total = d.total + excluded.total",
	               "writing day totals")))
		return rc;
	return merge_hours(db, err, c);
}

/* Merge what the transaction staged into the shared tables (from a
 * savepoint, so that a deadlock with an early merge of a reader's can be
 * tried again). */
static int merge(evc_db *db, evc_error *err)
{
	struct copy *c;
	int rc = EVC_OK;

	if (db->staged == 0 && db->fresh_merged == db->n_fresh)
		return EVC_OK;
	if (!(c = copy_new(COPY_BUF)))
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	if (db->serial && !db->merged) {
		char sql[96];
		snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)",
		         (long long)(db->lock_space ^ 0x4556433143495455LL));
		if ((rc = exec(db, err, sql, "merging counts"))) {
			free(c);
			return rc;
		}
	}
	for (unsigned try = 1;; try++) {
		db->sqlstate[0] = '\0';
		if ((rc = exec(db, err, "SAVEPOINT evc_merge",
		               "merging counts")))
			break;
		if ((rc = merge_once(db, err, c)) == EVC_OK) {
			rc = exec(
			    db, err,
			    "TRUNCATE pg_temp.evc_stage, pg_temp.evc_days,"
			    " pg_temp.evc_out, pg_temp.evc_newcust,"
			    " pg_temp.evc_done; RELEASE SAVEPOINT evc_merge",
			    "merging counts");
			break;
		}
		if (rc != EVC_EBUSY || strcmp(db->sqlstate, "40P01") != 0 ||
		    try == MERGE_TRIES ||
		    PQtransactionStatus(db->conn) == PQTRANS_ACTIVE)
			break;
		/* The staging tables are as they were at the savepoint. */
		if ((rc = exec(db, err, "ROLLBACK TO SAVEPOINT evc_merge",
		               "merging counts")))
			break;
	}
	free(c);
	if (rc == EVC_OK) {
		db->staged = 0;
		evc__spill_clear(db->spill);
		db->fresh_merged = db->n_fresh;
		db->merged = true;
	}
	return rc;
}

/* ---- reading counts ------------------------------------------------------ */

static int pg_hours(evc_db *db, int64_t customer, int64_t hour_lo,
                    int64_t hour_hi, evc_minutes_read minutes, evc_hour_fn fn,
                    void *payload, evc_error *err)
{
	const bool with = minutes != EVC_TOTALS_ONLY;
	struct params p = {.n = 0};
	PGresult *res = NULL;
	int rc, frc = EVC_OK;

	if ((rc = before_read(db, err)))
		return rc;
	param_i64(&p, customer);
	param_i64(&p, hour_lo);
	param_i64(&p, hour_hi);
	/* Whole hours need only the totals. Minutes on demand come with
	 * the rows: a second round trip for the few asked for costs more
	 * than their bytes. */
	if ((rc = run_stmt(db, err, with ? ST_HOURS : ST_HOUR_TOTALS, p.n,
	                   p.value, p.len, p.fmt, &res, "reading counts")))
		return rc;
	const int n = PQntuples(res);
	for (int r = 0; r < n && frc == EVC_OK; r++) {
		const int64_t hour = col_i64(res, r, 0);
		const uint64_t total = (uint64_t)col_i64(res, r, 1);
		const uint8_t *blob = NULL;
		size_t len = 0;
		if (minutes == EVC_WITH_MINUTES) {
			blob = (const uint8_t *)PQgetvalue(res, r, 2);
			len = (size_t)PQgetlength(res, r, 2);
		}
		frc = fn(hour, total, blob, len, payload);
		if (frc == EVC_WANT_MINUTES && minutes == EVC_MINUTES_ON_DEMAND)
			frc = fn(hour, total,
			         (const uint8_t *)PQgetvalue(res, r, 2),
			         (size_t)PQgetlength(res, r, 2), payload);
	}
	PQclear(res);
	return frc;
}

/* Visit the rows of a query through a cursor, FETCH_ROWS at a time (in a
 * read-only transaction of its own when none is open): what a large store
 * holds never sits in memory whole, and the callback may call the store
 * between fetches. */
typedef int (*row_fn)(const PGresult *res, int row, void *ctx);

static int visit(evc_db *db, evc_error *err, const char *tmpl, const char *what,
                 row_fn fn, void *ctx)
{
	char sql[64], *decl = NULL;
	const bool own = !in_transaction(db);
	const unsigned depth = db->cursors;
	PGresult *res = NULL;
	int rc, frc = EVC_OK;

	if (own && (rc = exec(db, err,
	                      "BEGIN ISOLATION LEVEL REPEATABLE READ READ "
	                      "ONLY",
	                      what)))
		return rc;
	char *body = expand(db, tmpl);
	size_t dlen = body ? strlen(body) + 64 : 0;
	if (!body || !(decl = evc__malloc(dlen))) {
		free(body);
		rc = evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		               db->name.display);
		goto out;
	}
	snprintf(decl, dlen, "DECLARE evc_visit%u NO SCROLL CURSOR FOR %s",
	         depth, body);
	free(body);
	res = PQexec(db->conn, decl);
	free(decl);
	if (!result_ok(res)) {
		rc = db_fail(db, err, res, what);
		res = NULL;
		goto out;
	}
	PQclear(res);
	res = NULL;
	db->cursors++;
	snprintf(sql, sizeof(sql), "FETCH %d FROM evc_visit%u", FETCH_ROWS,
	         depth);
	for (;;) {
		res = PQexecParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
		if (!result_ok(res)) {
			rc = db_fail(db, err, res, what);
			res = NULL;
			goto out;
		}
		const int n = PQntuples(res);
		for (int r = 0; r < n && frc == EVC_OK; r++)
			frc = fn(res, r, ctx);
		PQclear(res);
		res = NULL;
		if (frc != EVC_OK || n < FETCH_ROWS)
			break;
	}
	snprintf(sql, sizeof(sql), "CLOSE evc_visit%u", depth);
	rc = exec(db, err, sql, what);
out:
	db->cursors = depth;
	if (own)
		PQclear(PQexec(db->conn, rc == EVC_OK ? "COMMIT" : "ROLLBACK"));
	return frc != EVC_OK ? frc : rc;
}

struct scanned {
	evc_scan_fn fn;
	void *payload;
};

/* A row of (customer, name, hour, total, minutes). */
static int scanned_row(const PGresult *res, int r, void *ctx)
{
	const struct scanned *v = ctx;
	const evc_scanned_hour h = {
	    .customer = col_i64(res, r, 0),
	    .name = PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1),
	    .hour = col_i64(res, r, 2),
	    .total = (uint64_t)col_i64(res, r, 3),
	    .blob = (const uint8_t *)PQgetvalue(res, r, 4),
	    .blob_len = (size_t)PQgetlength(res, r, 4),
	};
	return v->fn(&h, v->payload);
}

static int pg_scan_hours(evc_db *db, bool by_name, evc_scan_fn fn,
                         void *payload, evc_error *err)
{
	struct scanned v = {fn, payload};
	int rc;

	if ((rc = before_read(db, err)))
		return rc;
	if (!by_name)
		return visit(db, err,
		             "SELECT h.customer, c.name, h.hour, h.total,"
		             " h.minutes FROM @.hour_counts h LEFT JOIN"
		             " @.customers c ON c.id = h.customer"
		             " ORDER BY h.customer, h.hour",
		             "reading counts", scanned_row, &v);
	/* By name, then the first row of a customer id that no customer
	 * has, if any (only in a damaged store), as on SQLite. */
	if ((rc = visit(db, err,
	                "SELECT c.id, c.name, h.hour, h.total, h.minutes"
	                " FROM @.customers c JOIN @.hour_counts h"
	                " ON h.customer = c.id ORDER BY c.name, h.hour",
	                "reading counts", scanned_row, &v)))
		return rc;
	return visit(db, err,
	             "SELECT h.customer, NULL::text, h.hour, h.total,"
	             " h.minutes FROM @.hour_counts h WHERE NOT EXISTS"
	             " (SELECT 1 FROM @.customers c WHERE c.id = h.customer)"
	             " LIMIT 1",
	             "reading counts", scanned_row, &v);
}

struct names {
	evc_name_fn fn;
	void *payload;
};

static int name_row(const PGresult *res, int r, void *ctx)
{
	const struct names *v = ctx;
	return v->fn(col_i64(res, r, 0), PQgetvalue(res, r, 1), v->payload);
}

static int pg_customer_names(evc_db *db, evc_name_fn fn, void *payload,
                             evc_error *err)
{
	struct names v = {fn, payload};
	int rc = before_read(db, err);
	return rc ? rc
	          : visit(db, err,
	                  "SELECT id, name FROM @.customers ORDER BY name",
	                  "reading customers", name_row, &v);
}

struct customer_rows {
	evc_customer_row_fn fn;
	void *payload;
};

static int customer_row(const PGresult *res, int r, void *ctx)
{
	const struct customer_rows *v = ctx;
	evc_customer_row c = {0};

	c.name = PQgetvalue(res, r, 0);
	c.total = (uint64_t)col_i64(res, r, 1);
	c.has_hours = !PQgetisnull(res, r, 2) && !PQgetisnull(res, r, 4);
	if (c.has_hours) {
		c.first_hour = col_i64(res, r, 2);
		c.first_blob = (const uint8_t *)PQgetvalue(res, r, 3);
		c.first_len = (size_t)PQgetlength(res, r, 3);
		c.last_hour = col_i64(res, r, 4);
		c.last_blob = (const uint8_t *)PQgetvalue(res, r, 5);
		c.last_len = (size_t)PQgetlength(res, r, 5);
	}
	return v->fn(&c, v->payload);
}

static int pg_customers(evc_db *db, evc_customer_row_fn fn, void *payload,
                        evc_error *err)
{
	struct customer_rows v = {fn, payload};
	int rc = before_read(db, err);
	/* As in the SQLite backend: one pass over hour_counts for totals
	 * and bounds, then a key lookup of each bounding row. */
	return rc ? rc
	          : visit(db, err,
	                  "SELECT c.name, coalesce(t.total, 0), lo.hour,"
	                  " lo.minutes, hi.hour, hi.minutes FROM @.customers c"
	                  " LEFT JOIN (SELECT customer, sum(total)::int8 AS"
	                  "  total, min(hour) AS lo, max(hour) AS hi"
	                  "  FROM @.hour_counts GROUP BY customer) t"
	                  "  ON t.customer = c.id"
	                  " LEFT JOIN @.hour_counts lo"
	                  "  ON lo.customer = c.id AND lo.hour = t.lo"
	                  " LEFT JOIN @.hour_counts hi"
	                  "  ON hi.customer = c.id AND hi.hour = t.hi"
	                  " ORDER BY c.name",
	                  "reading customers", customer_row, &v);
}

static int pg_edge_hours(evc_db *db, bool latest, evc_hour_fn fn, void *payload,
                         evc_error *err)
{
	PGresult *res = NULL;
	int rc, frc = EVC_OK;

	if ((rc = before_read(db, err)) ||
	    (rc = query(db, err,
	                latest ? "SELECT hour, total, minutes FROM "
	                         "@.hour_counts WHERE hour = (SELECT "
	                         "max(hour) FROM @.hour_counts)"
	                       : "SELECT hour, total, minutes FROM "
	                         "@.hour_counts WHERE hour = (SELECT "
	                         "min(hour) FROM @.hour_counts)",
	                0, NULL, NULL, NULL, &res, "reading counts")))
		return rc;
	const int n = PQntuples(res);
	for (int r = 0; r < n && frc == EVC_OK; r++)
		frc = fn(col_i64(res, r, 0), (uint64_t)col_i64(res, r, 1),
		         (const uint8_t *)PQgetvalue(res, r, 2),
		         (size_t)PQgetlength(res, r, 2), payload);
	PQclear(res);
	return frc;
}

static int pg_totals(evc_db *db, evc_store_totals *out, evc_error *err)
{
	PGresult *res = NULL;
	int rc;

	/* The size: every table of the schema with its indexes and TOAST
	 * (on Citus, with its shards on every node). */
	const char *const values[1] = {db->name.schema};
	const int lens[1] = {(int)strlen(db->name.schema)};
	const int fmts[1] = {1};
	if ((rc = before_read(db, err)) ||
	    (rc = query(
	         db, err,
	         db->citus
	             ? "SELECT (SELECT count(*) FROM @.customers),"
	               " (SELECT count(*) FROM @.sources WHERE retracted = 0),"
	               " (SELECT coalesce(sum(total), 0)::int8 FROM "
	               "@.hour_counts),"
	               " (SELECT coalesce(sum(rows_rejected), 0)::int8 FROM "
	               "@.sources WHERE retracted = 0),"
	               " (SELECT coalesce(sum(CASE WHEN EXISTS (SELECT 1 "
	               "FROM pg_dist_partition d WHERE d.logicalrelid = "
	               "c.oid) THEN citus_total_relation_size(c.oid) ELSE "
	               "pg_total_relation_size(c.oid) END), 0)::int8"
	               "  FROM pg_class c JOIN pg_namespace n ON n.oid ="
	               " c.relnamespace WHERE n.nspname = $1::text"
	               " AND c.relkind IN ('r', 'p', 'm')),"
	               " (SELECT coalesce(max(value), 0)::int8 FROM @.meta"
	               " WHERE key = 'last_ingest')"
	             : "SELECT (SELECT count(*) FROM @.customers),"
	               " (SELECT count(*) FROM @.sources WHERE retracted = 0),"
	               " (SELECT coalesce(sum(total), 0)::int8 FROM "
	               "@.hour_counts),"
	               " (SELECT coalesce(sum(rows_rejected), 0)::int8 FROM "
	               "@.sources WHERE retracted = 0),"
	               " (SELECT coalesce(sum(pg_total_relation_size(c.oid)),"
	               " 0)::int8 FROM pg_class c JOIN pg_namespace n"
	               " ON n.oid = c.relnamespace WHERE n.nspname = $1::text"
	               " AND c.relkind IN ('r', 'p', 'm')),"
	               " (SELECT coalesce(max(value), 0)::int8 FROM @.meta"
	               " WHERE key = 'last_ingest')",
	         1, values, lens, fmts, &res, "reading the store")))
		return rc;
	out->customers = (uint64_t)col_i64(res, 0, 0);
	out->sources = (uint64_t)col_i64(res, 0, 1);
	out->rows_counted = (uint64_t)col_i64(res, 0, 2);
	out->rows_rejected = (uint64_t)col_i64(res, 0, 3);
	out->size = (uint64_t)col_i64(res, 0, 4);
	out->last_ingest = col_i64(res, 0, 5);
	PQclear(res);
	return EVC_OK;
}

static int pg_last_ingest(evc_db *db, int64_t *out, evc_error *err)
{
	int rc = before_read(db, err);
	return rc ? rc
	          : exec_i64(db, err,
	                     "SELECT coalesce(max(value), 0)::int8 FROM @.meta"
	                     " WHERE key = 'last_ingest'",
	                     "reading the store", out);
}

/* ---- sources ------------------------------------------------------------- */

static int pg_sources(evc_db *db, bool newest_first, evc_source_row_fn fn,
                      void *payload, evc_error *err)
{
	PGresult *res = NULL;
	int rc, frc = EVC_OK;

	if ((rc = query(db, err,
	                newest_first ? "SELECT id, " SOURCE_COLUMNS
	                               " FROM @.sources ORDER BY id DESC"
	                             : "SELECT id, " SOURCE_COLUMNS
	                               " FROM @.sources ORDER BY id",
	                0, NULL, NULL, NULL, &res, "reading sources")))
		return rc;
	const int n = PQntuples(res);
	for (int r = 0; r < n && frc == EVC_OK; r++) {
		evc_source_row s;
		int c = 0;
		s.id = col_i64(res, r, c++);
		s.path = PQgetvalue(res, r, c++);
		s.realpath = PQgetvalue(res, r, c++);
		s.dev = (uint64_t)col_i64(res, r, c++);
		s.ino = (uint64_t)col_i64(res, r, c++);
		s.size = (uint64_t)col_i64(res, r, c++);
		s.mtime_ns = col_i64(res, r, c++);
		s.head_len = (uint64_t)col_i64(res, r, c++);
		s.head_hash = (uint64_t)col_i64(res, r, c++);
		s.offset = (uint64_t)col_i64(res, r, c++);
		s.prefix_hash = (uint64_t)col_i64(res, r, c++);
		s.next_line = (uint64_t)col_i64(res, r, c++);
		s.rows_counted = (uint64_t)col_i64(res, r, c++);
		s.rows_rejected = (uint64_t)col_i64(res, r, c++);
		s.rows_warned = (uint64_t)col_i64(res, r, c++);
		s.first_ingest = col_i64(res, r, c++);
		s.last_ingest = col_i64(res, r, c++);
		s.kind = (evc_source_kind)col_i64(res, r, c++);
		s.counted_from = col_i64(res, r, c++);
		s.retracted = col_i64(res, r, c++);
		frc = fn(&s, payload);
	}
	PQclear(res);
	return frc;
}

static void source_params(struct params *p, const evc_source_row *r)
{
	param_text(p, r->path, strlen(r->path));
	param_text(p, r->realpath, strlen(r->realpath));
	param_i64(p, (int64_t)r->dev);
	param_i64(p, (int64_t)r->ino);
	param_i64(p, (int64_t)r->size);
	param_i64(p, r->mtime_ns);
	param_i64(p, (int64_t)r->head_len);
	param_i64(p, (int64_t)r->head_hash);
	param_i64(p, (int64_t)r->offset);
	param_i64(p, (int64_t)r->prefix_hash);
	param_i64(p, (int64_t)r->next_line);
	param_i64(p, (int64_t)r->rows_counted);
	param_i64(p, (int64_t)r->rows_rejected);
	param_i64(p, (int64_t)r->rows_warned);
	param_i64(p, r->first_ingest);
	param_i64(p, r->last_ingest);
	param_i64(p, (int64_t)r->kind);
	param_i64(p, r->counted_from);
	param_i64(p, r->retracted);
}

static int pg_source_insert(evc_db *db, evc_source_row *row, evc_error *err)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	int rc;

	source_params(&p, row);
	if ((rc = run_stmt(db, err, ST_SRC_INSERT, p.n, p.value, p.len, p.fmt,
	                   &res, "adding a source")))
		return rc;
	row->id = col_i64(res, 0, 0);
	PQclear(res);
	return EVC_OK;
}

static int pg_source_update(evc_db *db, const evc_source_row *row,
                            evc_error *err)
{
	struct params p = {.n = 0};

	source_params(&p, row);
	param_i64(&p, row->id);
	return run_stmt(db, err, ST_SRC_UPDATE, p.n, p.value, p.len, p.fmt,
	                NULL, "updating a source");
}

/* ---- corrections --------------------------------------------------------- */

static int64_t day_of_hour(int64_t hour)
{
	return hour >= 0 ? hour / 24 : -((23 - hour) / 24);
}

/* Run one statement with binary bigint parameters ('@' for the schema);
 * *n: the rows it wrote (NULL: not wanted). */
static int exec_params(evc_db *db, evc_error *err, const char *tmpl,
                       const struct params *p, const char *what, size_t *n)
{
	PGresult *res = NULL;
	int rc =
	    query(db, err, tmpl, p->n, p->value, p->len, p->fmt, &res, what);
	if (rc)
		return rc;
	if (n)
		*n = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return EVC_OK;
}

/* A customer's id string, for a message ("?" when it has none). */
static void customer_name(evc_db *db, int64_t id, char *buf, size_t size)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	evc_error scratch;

	snprintf(buf, size, "(unknown)");
	param_i64(&p, id);
	if (run_stmt(db, &scratch, ST_CUSTOMER, p.n, p.value, p.len, p.fmt,
	             &res, "looking up a customer") != EVC_OK)
		return;
	if (PQntuples(res) > 0)
		snprintf(buf, size, "%.255s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

static int lacks(evc_db *db, evc_error *err, int64_t customer, int64_t hour,
                 bool missing)
{
	char name[256], when[EVC_TIME_BUFSZ];

	customer_name(db, customer, name, sizeof(name));
	if (evc_format_time(hour * 3600, when, sizeof(when)) < 0)
		snprintf(when, sizeof(when), "?");
	return evc__fail(err, EVC_ECORRUPT,
	                 "%s: corrupt store: it lacks counts to be subtracted "
	                 "(customer %s %s in hour %s)",
	                 db->name.display, name,
	                 missing ? "has no counts"
	                         : "holds fewer events than are to be taken",
	                 when);
}

/* COPY a set's rows into a staging table. */
static int copy_set(evc_db *db, evc_error *err, struct copy *c, const char *sql,
                    const evc_hour_set *set)
{
	int rc = copy_begin(c, db, err, sql);
	if (rc)
		return rc;
	for (size_t i = 0; i < set->n && rc == EVC_OK; i++) {
		const evc_hour_row *r = &set->row[i];
		if ((rc = copy_room(c, 2 + 3 * 12 + 4 + r->blob_len)))
			break;
		copy_i16(c, 4);
		copy_i64(c, r->customer);
		copy_i64(c, r->hour);
		copy_i64(c, (int64_t)r->total);
		copy_bytes(c, set->blobs + r->blob_off, r->blob_len);
	}
	return copy_end(c, rc);
}

/* The hour rows in evc_out written back: those left with nothing
 * removed (*dropped: how many), the others updated. */
static int write_back(evc_db *db, evc_error *err, size_t *dropped)
{
	int rc =
	    exec_count(db, err,
	               "DELETE FROM @.hour_counts h USING pg_temp.evc_out o"
	               " WHERE h.customer = o.customer AND h.hour = o.hour"
	               " AND o.total = 0",
	               "subtracting counts", dropped);
	return rc ? rc
	          : exec(db, err,
	                 "UPDATE @.hour_counts h SET total = o.total,"
	                 " minutes = o.minutes FROM pg_temp.evc_out o"
	                 " WHERE h.customer = o.customer AND h.hour = o.hour"
	                 " AND o.total > 0",
	                 "subtracting counts");
}

/* The differences of the rows of `res` (taken, then stored), checked;
 * with `c`, COPYed into evc_out. */
static int take_rows(evc_db *db, evc_error *err, struct copy *c, struct acc *a,
                     const PGresult *res)
{
	size_t n_new = 0, n_old = 0;
	int rc = EVC_OK;

	if (c && (rc = copy_begin(c, db, err,
	                          "COPY pg_temp.evc_out FROM STDIN "
	                          "(FORMAT binary)")))
		return rc;
	for (int r = 0; r < PQntuples(res) && rc == EVC_OK; r++) {
		const int64_t cust = col_i64(res, r, 0);
		const int64_t hour = col_i64(res, r, 1);
		const uint64_t taken = (uint64_t)col_i64(res, r, 2);
		if (PQgetisnull(res, r, 4)) {
			rc = lacks(db, err, cust, hour, true);
			break;
		}
		const uint64_t stored = (uint64_t)col_i64(res, r, 4);
		const size_t stored_len = (size_t)PQgetlength(res, r, 5);
		size_t len;
		if (stored_len > sizeof(a->blob)) {
			rc = corrupt(db, err, hour);
			break;
		}
		const int d = evc__minutes_subtract(
		    (const uint8_t *)PQgetvalue(res, r, 5), stored_len,
		    (const uint8_t *)PQgetvalue(res, r, 3),
		    (size_t)PQgetlength(res, r, 3), a->blob, &len);
		if (d < 0) {
			rc = corrupt(db, err, hour);
			break;
		}
		if (d > 0 || stored < taken) {
			rc = lacks(db, err, cust, hour, false);
			break;
		}
		if (!c)
			continue;
		a->have = a->existed = true;
		a->customer = cust;
		a->hour = hour;
		a->total = stored - taken;
		a->old_total = stored;
		a->len = len;
		rc = emit(c, a, &n_new, &n_old);
	}
	return c ? copy_end(c, rc) : rc;
}

/* The stored hours with what is to be taken from them (evc_sub), the
 * differences into evc_out. A correction holds the store alone: what is
 * read cannot change before it is written. */
static int take_hours(evc_db *db, evc_error *err, struct copy *c, size_t n)
{
	struct acc *a = evc__calloc(1, sizeof(*a));
	PGresult *res = NULL;
	int rc;

	if (!a)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	if ((rc = query(db, err,
	                "SELECT s.customer, s.hour, s.total, s.minutes,"
	                " h.total, h.minutes FROM pg_temp.evc_sub s"
	                " LEFT JOIN @.hour_counts h ON h.customer ="
	                " s.customer AND h.hour = s.hour"
	                " ORDER BY s.customer, s.hour",
	                0, NULL, NULL, NULL, &res, "subtracting counts")))
		goto out;
	if ((size_t)PQntuples(res) != n) {
		rc = evc__fail(err, EVC_EDB,
		               "%s: subtracting counts: %d rows read of %zu",
		               db->name.display, PQntuples(res), n);
		goto out;
	}
	/* Checked whole before the COPY: naming what is missing takes a
	 * query. */
	if ((rc = take_rows(db, err, NULL, a, res)) == EVC_OK)
		rc = take_rows(db, err, c, a, res);
out:
	PQclear(res);
	free(a);
	return rc;
}

static int drop_customers_left_empty(evc_db *db, evc_error *err,
                                     const char *sql, const char *doing,
                                     uint64_t *removed);

static int pg_subtract_hours(evc_db *db, const evc_hour_set *set,
                             evc_removal *out, evc_error *err)
{
	struct copy *c;
	size_t dropped = 0, days = 0;
	int64_t want = 0;
	int rc;

	if (set->n == 0)
		return EVC_OK;
	if ((rc = before_read(db, err)))
		return rc;
	if (!(c = copy_new(COPY_BUF)))
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	/* The hours, then the day totals: each day of the set loses the
	 * sum of its hours, and holds at least that much. */
	if ((rc = copy_set(db, err, c,
	                   "COPY pg_temp.evc_sub FROM STDIN (FORMAT binary)",
	                   set)) ||
	    (rc = take_hours(db, err, c, set->n)) ||
	    (rc = write_back(db, err, &dropped)) ||
	    (rc = exec_i64(
	         db, err,
	         "SELECT count(*) FROM (SELECT DISTINCT customer, " DAY_OF_HOUR(
	             "hour") " FROM pg_temp.evc_sub) d",
	         "subtracting day totals", &want)) ||
	    (rc = exec_count(
	         db, err,
	         "UPDATE @.day_counts d SET total = d.total - s.total FROM"
	         " (SELECT customer, " DAY_OF_HOUR(
	             "hour") " AS day, sum(total)::int8 AS total"
	                     " FROM pg_temp.evc_sub GROUP BY 1, 2) s"
	                     " WHERE d.customer = s.customer AND d.day = s.day"
	                     " AND d.total >= s.total",
	         "subtracting day totals", &days)))
		goto out;
	if ((int64_t)days != want) {
		rc = evc__fail(err, EVC_ECORRUPT,
		               "%s: corrupt store: it lacks counts to be "
		               "subtracted (a day total is less than its hours "
		               "to be taken)",
		               db->name.display);
		goto out;
	}
	/* A customer left with nothing is no customer any more. */
	if ((rc = drop_customers_left_empty(
	         db, err,
	         "DELETE FROM @.customers c WHERE c.id IN (SELECT DISTINCT"
	         " customer FROM pg_temp.evc_sub) AND NOT EXISTS (SELECT 1"
	         " FROM @.hour_counts h WHERE h.customer = c.id)"
	         " RETURNING c.id",
	         "subtracting counts", &out->customers_removed)) ||
	    (rc = exec(db, err,
	               "DELETE FROM @.day_counts d USING (SELECT DISTINCT"
	               " customer, " DAY_OF_HOUR(
	                   "hour") " AS day FROM pg_temp.evc_sub) s"
	                           " WHERE d.customer = s.customer"
	                           " AND d.day = s.day AND d.total = 0;"
	                           " TRUNCATE pg_temp.evc_sub, pg_temp.evc_out",
	               "subtracting day totals")))
		goto out;
	out->hours += dropped;
out:
	free(c);
	return rc;
}

/* The customer at id `id`, if any: its name (malloc'ed) in *name. */
static int customer_at(evc_db *db, evc_error *err, int64_t id, char **name)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	int rc;

	*name = NULL;
	param_i64(&p, id);
	if ((rc = run_stmt(db, err, ST_CUSTOMER, p.n, p.value, p.len, p.fmt,
	                   &res, "removing customers")))
		return rc;
	if (PQntuples(res) > 0 &&
	    !(*name = evc__strndup(PQgetvalue(res, 0, 0),
	                           (size_t)PQgetlength(res, 0, 0))))
		rc = evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		               db->name.display);
	PQclear(res);
	return rc;
}

/* Move a customer and its counts from id `from` to id `to` (free). */
static int move_customer(evc_db *db, evc_error *err, int64_t from, int64_t to)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO @.customers (id, name) SELECT %lld, name FROM"
	         " @.customers WHERE id = %lld;"
	         " INSERT INTO @.hour_counts (customer, hour, total, minutes)"
	         " SELECT %lld, hour, total, minutes FROM @.hour_counts"
	         " WHERE customer = %lld;"
	         " DELETE FROM @.hour_counts WHERE customer = %lld;"
	         " INSERT INTO @.day_counts (customer, day, total)"
	         " SELECT %lld, day, total FROM @.day_counts"
	         " WHERE customer = %lld;"
	         " DELETE FROM @.day_counts WHERE customer = %lld;"
	         " DELETE FROM @.customers WHERE id = %lld",
	         (long long)to, (long long)from, (long long)to, (long long)from,
	         (long long)from, (long long)to, (long long)from,
	         (long long)from, (long long)from);
	return exec(db, err, sql, "removing customers");
}

/* A customer's id is the first free one from its name's (first_id()), and
 * a lookup probes from there to the first free id: a removed customer
 * must leave no gap before one that probed past it. The customers from
 * `hole` on, up to the next free id, are put again at the first free id
 * of their probe (a move only when ids collided, never in practice). */
static int close_hole(evc_db *db, evc_error *err, int64_t hole)
{
	int rc = EVC_OK;

	for (int64_t j = next_id(hole); rc == EVC_OK; j = next_id(j)) {
		char *name;
		if ((rc = customer_at(db, err, j, &name)) || !name)
			return rc;
		const int64_t home = first_id(name, strlen(name));
		free(name);
		/* The first free id from its home, before j. */
		for (int64_t k = home; k != j && rc == EVC_OK; k = next_id(k)) {
			char *other;
			if ((rc = customer_at(db, err, k, &other)))
				break;
			if (!other) {
				rc = move_customer(db, err, j, k);
				break;
			}
			free(other);
		}
	}
	return rc;
}

/* After customers were removed (ids[0..n)): their gaps closed, and every
 * handle told to forget the ids it remembers. */
static int removed_customers(evc_db *db, evc_error *err, const int64_t *ids,
                             size_t n)
{
	PGresult *res = NULL;
	int rc;

	if (n == 0)
		return EVC_OK;
	idmap_clear(&db->cache);
	if ((rc = exec(db, err,
	               "INSERT INTO @.meta AS m (key, value) VALUES"
	               " ('removals', 1) ON CONFLICT (key) DO UPDATE"
	               " SET value = m.value + 1",
	               "removing customers")))
		return rc;
	/* The ids after each, as an array literal. */
	char *list = evc__malloc(n * 21 + 3), *o = list;
	if (!list)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	*o++ = '{';
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s%lld", i ? "," : "",
		             (long long)next_id(ids[i]));
	*o++ = '}';
	*o = '\0';
	const char *values[1] = {list};
	rc = query(db, err,
	           "SELECT id FROM @.customers WHERE id = ANY ($1::int8[])"
	           " ORDER BY id",
	           1, values, NULL, NULL, &res, "removing customers");
	free(list);
	if (rc)
		return rc;
	for (int r = 0; r < PQntuples(res) && rc == EVC_OK; r++) {
		const int64_t after = col_i64(res, r, 0);
		rc = close_hole(db, err, after == 1 ? INT64_MAX : after - 1);
	}
	PQclear(res);
	return rc;
}

/* Runs `sql`, a DELETE of customers ... RETURNING their ids, and closes
 * the holes their ids leave (removed_customers); adds how many went to
 * *removed. */
static int drop_customers_left_empty(evc_db *db, evc_error *err,
                                     const char *sql, const char *doing,
                                     uint64_t *removed)
{
	PGresult *res = NULL;
	int64_t *ids = NULL;
	int rc;

	if ((rc = query(db, err, sql, 0, NULL, NULL, NULL, &res, doing)))
		return rc;
	const size_t n = (size_t)PQntuples(res);
	if (n && !(ids = evc__malloc(n * sizeof(*ids)))) {
		PQclear(res);
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = col_i64(res, (int)i, 0);
	PQclear(res);
	rc = removed_customers(db, err, ids, n);
	free(ids);
	if (rc == EVC_OK)
		*removed += n;
	return rc;
}

static int pg_forget(evc_db *db, int64_t customer, evc_removal *out,
                     evc_error *err)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	size_t removed = 0;
	int rc;

	if ((rc = before_read(db, err)))
		return rc;
	param_i64(&p, customer);
	if ((rc = query(db, err,
	                "SELECT coalesce(sum(total), 0)::int8, count(*)"
	                " FROM @.hour_counts WHERE customer = $1::int8",
	                p.n, p.value, p.len, p.fmt, &res,
	                "forgetting a customer")))
		return rc;
	const uint64_t events = (uint64_t)col_i64(res, 0, 0);
	const uint64_t hours = (uint64_t)col_i64(res, 0, 1);
	PQclear(res);
	if ((rc = exec_params(db, err,
	                      "DELETE FROM @.hour_counts WHERE customer = "
	                      "$1::int8",
	                      &p, "forgetting a customer", NULL)) ||
	    (rc = exec_params(db, err,
	                      "DELETE FROM @.day_counts WHERE customer = "
	                      "$1::int8",
	                      &p, "forgetting a customer", NULL)) ||
	    (rc = exec_params(db, err,
	                      "DELETE FROM @.customers WHERE id = $1::int8", &p,
	                      "forgetting a customer", &removed)) ||
	    (removed && (rc = removed_customers(db, err, &customer, 1))))
		return rc;
	out->events += events;
	out->hours += hours;
	out->customers += hours > 0 ? 1 : 0;
	out->customers_removed += removed;
	return EVC_OK;
}

/* The boundary hour of a prune cut at minute m: what it loses in
 * evc_out (only rows that lose anything), its events and the customers
 * that had lost nothing before it. */
static int cut_boundary(evc_db *db, evc_error *err, struct copy *c,
                        const struct params *p, int64_t hour, unsigned m,
                        uint64_t *events, uint64_t *customers)
{
	struct acc *a = evc__calloc(1, sizeof(*a));
	PGresult *res = NULL;
	size_t n_new = 0, n_old = 0;
	int rc;

	if (!a)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 db->name.display);
	if ((rc = query(db, err,
	                "SELECT b.customer, b.total, b.minutes, EXISTS (SELECT"
	                " 1 FROM @.hour_counts e WHERE e.customer = b.customer"
	                " AND e.hour < $1::int8) FROM @.hour_counts b"
	                " WHERE b.hour = $1::int8 ORDER BY b.customer",
	                p->n, p->value, p->len, p->fmt, &res, "pruning")) ||
	    (rc = copy_begin(c, db, err,
	                     "COPY pg_temp.evc_out FROM STDIN "
	                     "(FORMAT binary)")))
		goto out;
	for (int r = 0; r < PQntuples(res) && rc == EVC_OK; r++) {
		const uint8_t *blob = (const uint8_t *)PQgetvalue(res, r, 2);
		const size_t len = (size_t)PQgetlength(res, r, 2);
		const uint64_t stored = (uint64_t)col_i64(res, r, 1);
		uint64_t taken, kept;
		if (len > sizeof(a->blob) ||
		    !evc__minutes_sum(blob, len, 0, m, &taken, NULL) ||
		    !evc__minutes_keep_from(blob, len, m, a->blob, &a->len,
		                            &kept)) {
			rc = corrupt(db, err, hour);
			break;
		}
		if (taken == 0)
			continue;
		*events += taken;
		*customers += *PQgetvalue(res, r, 3) == 1 ? 0 : 1;
		a->have = a->existed = true;
		a->customer = col_i64(res, r, 0);
		a->hour = hour;
		a->total = stored - taken;
		a->old_total = stored;
		rc = emit(c, a, &n_new, &n_old);
	}
	rc = copy_end(c, rc);
out:
	PQclear(res);
	free(a);
	return rc;
}

static int pg_prune(evc_db *db, int64_t before, evc_removal *out,
                    evc_error *err)
{
	const int64_t hour = evc__floor_div(before, 3600);
	const unsigned minute = (unsigned)((before - hour * 3600) / 60);
	const int64_t day = day_of_hour(hour);
	struct params p = {.n = 0}, pd = {.n = 0};
	PGresult *res = NULL;
	uint64_t events = 0, customers = 0;
	size_t dropped = 0;
	struct copy *c = NULL;
	int rc;

	if ((rc = before_read(db, err)))
		return rc;
	param_i64(&p, hour);
	param_i64(&pd, day);
	/* What goes: the hours before, the boundary hour's first minutes,
	 * and whose they are. */
	if ((rc = query(db, err,
	                "SELECT coalesce(sum(total), 0)::int8, count(*),"
	                " count(DISTINCT customer) FROM @.hour_counts"
	                " WHERE hour < $1::int8",
	                p.n, p.value, p.len, p.fmt, &res, "pruning")))
		return rc;
	events = (uint64_t)col_i64(res, 0, 0);
	const uint64_t hours = (uint64_t)col_i64(res, 0, 1);
	customers = (uint64_t)col_i64(res, 0, 2);
	PQclear(res);
	res = NULL;
	if (minute > 0) {
		if (!(c = copy_new(COPY_BUF)))
			return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
			                 db->name.display);
		rc = cut_boundary(db, err, c, &p, hour, minute, &events,
		                  &customers);
		free(c);
		if (rc || (rc = write_back(db, err, &dropped)) ||
		    (rc = exec(db, err, "TRUNCATE pg_temp.evc_out", "pruning")))
			return rc;
	}
	/* The boundary day's totals summed again from what is left of its
	 * hours. */
	if ((rc = exec_params(db, err,
	                      "DELETE FROM @.hour_counts WHERE hour < $1::int8",
	                      &p, "pruning", NULL)) ||
	    (rc = exec_params(db, err,
	                      "DELETE FROM @.day_counts WHERE day <= $1::int8",
	                      &pd, "pruning", NULL)) ||
	    (rc = exec_params(db, err,
	                      "INSERT INTO @.day_counts (customer, day, total)"
	                      " SELECT customer, $1::int8, sum(total)::int8"
	                      " FROM @.hour_counts WHERE hour BETWEEN"
	                      " $1::int8 * 24 AND $1::int8 * 24 + 23"
	                      " GROUP BY customer",
	                      &pd, "pruning", NULL)) ||
	    (rc = drop_customers_left_empty(
	         db, err,
	         "DELETE FROM @.customers c WHERE NOT EXISTS (SELECT 1"
	         " FROM @.hour_counts h WHERE h.customer = c.id)"
	         " RETURNING c.id",
	         "pruning", &out->customers_removed)))
		return rc;
	out->events += events;
	out->hours += hours + dropped;
	out->customers += customers;
	return EVC_OK;
}

static int pg_erasure_add(evc_db *db, const evc_erasure *e, evc_error *err)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	int rc;

	param_i64(&p, (int64_t)e->kind);
	param_i64(&p, (int64_t)e->key);
	param_i64(&p, e->at);
	if ((rc = query(db, err,
	                "INSERT INTO @.erasures (kind, key, at) VALUES"
	                " ($1::int8, $2::int8, $3::int8) RETURNING id",
	                p.n, p.value, p.len, p.fmt, &res,
	                "recording an erasure")))
		return rc;
	struct params q = {.n = 0};
	param_i64(&q, col_i64(res, 0, 0));
	PQclear(res);
	return exec_params(db, err,
	                   "INSERT INTO @.erased_sources (source, erasure,"
	                   " \"offset\") SELECT id, $1::int8, \"offset\" FROM"
	                   " @.sources WHERE kind = 0 AND retracted = 0"
	                   " AND \"offset\" > 0",
	                   &q, "recording an erasure", NULL);
}

static int pg_erasures(evc_db *db, int64_t source, evc_erasure_fn fn,
                       void *payload, evc_error *err)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	int rc, frc = EVC_OK;

	param_i64(&p, source);
	if ((rc = query(db, err,
	                "SELECT e.kind, e.key, e.at, s.\"offset\" FROM"
	                " @.erased_sources s JOIN @.erasures e ON e.id ="
	                " s.erasure WHERE s.source = $1::int8 ORDER BY e.id",
	                p.n, p.value, p.len, p.fmt, &res, "reading erasures")))
		return rc;
	for (int r = 0; r < PQntuples(res) && frc == EVC_OK; r++) {
		const evc_erasure e = {
		    .kind = (evc_erasure_kind)col_i64(res, r, 0),
		    .key = (uint64_t)col_i64(res, r, 1),
		    .at = col_i64(res, r, 2),
		    .offset = (uint64_t)col_i64(res, r, 3),
		};
		frc = fn(&e, payload);
	}
	PQclear(res);
	return frc;
}

/* VACUUM: the space of removed rows is made free for the store's later
 * writes, and the empty pages at the end of each table go back to the
 * file system (what lies between stays the tables' until an
 * administrator's VACUUM FULL, which locks them meanwhile). Readers and
 * writers go on meanwhile. */
static int pg_reclaim(evc_db *db, evc_error *err)
{
	if (in_transaction(db))
		return evc__fail(err, EVC_EINVAL,
		                 "%s: giving space back: a transaction is open",
		                 db->name.display);
	return exec(db, err,
	            "VACUUM @.hour_counts, @.day_counts, @.customers,"
	            " @.sources, @.erasures, @.erased_sources, @.meta",
	            "giving space back");
}

static int pg_note_ingest(evc_db *db, int64_t now, evc_error *err)
{
	(void)err;
	/* Written at the commit (pg_commit()). */
	if (now > db->note)
		db->note = now;
	return EVC_OK;
}

/* ---- day totals ---------------------------------------------------------- */

static bool pg_has_days(evc_db *db)
{
	(void)db;
	return true;
}

static int pg_day_totals(evc_db *db, int64_t customer, int64_t day_lo,
                         int64_t day_hi, evc_day_fn fn, void *payload,
                         evc_error *err)
{
	struct params p = {.n = 0};
	PGresult *res = NULL;
	int rc, frc = EVC_OK;

	if ((rc = before_read(db, err)))
		return rc;
	param_i64(&p, customer);
	param_i64(&p, day_lo);
	param_i64(&p, day_hi);
	if ((rc = run_stmt(db, err, ST_DAYS, p.n, p.value, p.len, p.fmt, &res,
	                   "reading day totals")))
		return rc;
	for (int r = 0; r < PQntuples(res) && frc == EVC_OK; r++)
		frc = fn(col_i64(res, r, 0), (uint64_t)col_i64(res, r, 1),
		         payload);
	PQclear(res);
	return frc;
}

struct day_rows {
	evc_day_row_fn fn;
	void *payload;
};

static int day_row(const PGresult *res, int r, void *ctx)
{
	const struct day_rows *v = ctx;
	return v->fn(col_i64(res, r, 0), col_i64(res, r, 1),
	             (uint64_t)col_i64(res, r, 2), v->payload);
}

static int pg_scan_days(evc_db *db, evc_day_row_fn fn, void *payload,
                        evc_error *err)
{
	struct day_rows v = {fn, payload};
	int rc = before_read(db, err);
	return rc ? rc
	          : visit(db, err,
	                  "SELECT customer, day, total FROM @.day_counts"
	                  " ORDER BY customer, day",
	                  "reading day totals", day_row, &v);
}

/* ---- the backend's own check --------------------------------------------- */

struct integrity {
	evc_db *db;
	evc_error *err;
	int (*fn)(const char *, void *);
	void *payload;
	int rc; /* a failure of a lookup */
};

/* Every customer found by its name: no free id between its name's first
 * id and its own. */
static int reachable_row(const PGresult *res, int r, void *ctx)
{
	struct integrity *v = ctx;
	const int64_t id = col_i64(res, r, 0);
	const char *name = PQgetvalue(res, r, 1);
	char buf[400];

	for (int64_t k = first_id(name, (size_t)PQgetlength(res, r, 1));
	     k != id; k = next_id(k)) {
		char *other;
		if ((v->rc = customer_at(v->db, v->err, k, &other)))
			return v->rc;
		if (!other) {
			snprintf(buf, sizeof(buf),
			         "customer %.255s (id %lld) cannot be found by "
			         "its id string: id %lld is free",
			         name, (long long)id, (long long)k);
			return v->fn(buf, v->payload) ? EVC_EABORTED : EVC_OK;
		}
		free(other);
	}
	return EVC_OK;
}

static int pg_integrity(evc_db *db, int (*fn)(const char *, void *),
                        void *payload, evc_error *err)
{
	struct integrity v = {db, err, fn, payload, EVC_OK};
	PGresult *res = NULL;
	char buf[400];
	int rc;

	/* The invariants of this schema that no constraint keeps (Citus
	 * refuses a UNIQUE name): each customer id string once, found
	 * where its lookup probes. PostgreSQL's own checks of its pages
	 * (data checksums, amcheck) are its administrator's. */
	if ((rc = before_read(db, err)) ||
	    (rc = query(db, err,
	                "SELECT name, count(*) FROM @.customers GROUP BY name"
	                " HAVING count(*) > 1 ORDER BY name LIMIT 100",
	                0, NULL, NULL, NULL, &res, "checking integrity")))
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		snprintf(buf, sizeof(buf),
		         "customer %.255s is stored %lld times",
		         PQgetvalue(res, r, 0), (long long)col_i64(res, r, 1));
		if (fn(buf, payload)) {
			PQclear(res);
			return EVC_EABORTED;
		}
	}
	PQclear(res);
	rc = visit(db, err, "SELECT id, name FROM @.customers ORDER BY id",
	           "checking integrity", reachable_row, &v);
	return v.rc ? v.rc : rc;
}

const evc_backend evc__pg_backend = {
    .version = EVC_BACKEND_VERSION,
    .name = "PostgreSQL",
    .set_rows = SET_ROWS,
    .set_bytes = SET_BYTES,
    .handles = evc__pg_handles,
    .open = pg_open,
    .close = pg_close,
    .begin_write = pg_begin_write,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .begin_read = pg_begin_read,
    .end_read = pg_end_read,
    .customer = pg_customer,
    .customer_count = pg_customer_count,
    .add_hours = pg_add_hours,
    .subtract_hours = pg_subtract_hours,
    .forget = pg_forget,
    .prune = pg_prune,
    .erasure_add = pg_erasure_add,
    .erasures = pg_erasures,
    .reclaim = pg_reclaim,
    .note_ingest = pg_note_ingest,
    .hours = pg_hours,
    .has_days = pg_has_days,
    .day_totals = pg_day_totals,
    .scan_days = pg_scan_days,
    .customer_names = pg_customer_names,
    .scan_hours = pg_scan_hours,
    .customers = pg_customers,
    .edge_hours = pg_edge_hours,
    .totals = pg_totals,
    .last_ingest = pg_last_ingest,
    .integrity = pg_integrity,
    .sources = pg_sources,
    .source_insert = pg_source_insert,
    .source_update = pg_source_update,
    .shared_paths = true,
    .display_name = evc__pg_display_name,
};
