/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve: the hourly query over HTTP, with libmicrohttpd.
 *
 *   evcount-cli [--db PATH] serve [--listen HOST:PORT] [--threads N]
 *                                 [--token-file FILE] [--quiet]
 *                                 [--ingest FILE...]
 *
 * Endpoints: GET /hourly (the JSON of `hourly --format json`, byte for
 * byte), GET /healthz and GET /metrics (Prometheus text format).
 *
 * Threads: libmicrohttpd runs a pool of N workers, each with its own epoll
 * set. The access handler runs on the worker that owns the connection, and
 * each worker lazily opens its own read-only store: a store handle may only
 * be used by one thread at a time, and per-worker handles need no lock on
 * the request path. The main thread only waits for SIGINT/SIGTERM.
 */
#include "cli.h"
#include "serve-query.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LISTEN  "127.0.0.1:8000"
#define DEFAULT_THREADS 2
#define MAX_THREADS     256
/* Past this many simultaneous connections new ones are refused at accept
 * rather than starving the workers' memory. */
#define CONNECTION_LIMIT 512
/* Idle connections (keep-alive or not) are closed after this long with
 * nothing received or sent. */
#define CONNECTION_TIMEOUT_S 10
/* From its start, or from the end of its previous response, a connection
 * that has sent something has this long to complete its request (see
 * "slow senders" below). As long as the idle timeout: an honest client
 * that got that far in time sends the rest within milliseconds. */
#define REQUEST_DEADLINE_S 10
/* How often the reaper looks for connections past the deadline: it is
 * enforced this much late at most. */
#define REAP_INTERVAL_MS 250
/* Per-connection memory pool: it holds the request line and headers, so it
 * bounds them (see the 414/431 note in serve_start()). */
#define CONNECTION_MEMORY 16384
/* How long SIGINT/SIGTERM waits for requests in progress to finish. */
#define DRAIN_TIMEOUT_MS 3000

/* ---- metrics ------------------------------------------------------------ */

/* Requests are counted per endpoint, so that a scan of random paths cannot
 * grow the label set; every other path is "other". */
enum endpoint { EP_HOURLY, EP_HEALTHZ, EP_METRICS, EP_OTHER, N_ENDPOINTS };
static const char *const endpoint_names[N_ENDPOINTS] = {"/hourly", "/healthz",
                                                        "/metrics", "other"};

/* Every status the handler itself answers with; libmicrohttpd's own errors
 * (414, 431, malformed requests) never reach it and are not counted. */
static const unsigned statuses[] = {200, 400, 401, 404, 405, 500, 503};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

/* Upper bounds in seconds: request latencies are expected well under 1 ms,
 * the tail shows store or CPU contention. */
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001,
                                        0.0025, 0.005,   0.01,   0.025,
                                        0.05,   0.1,     0.25,   1.0};
#define N_BOUNDS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

struct metrics {
	atomic_uint_fast64_t requests[N_ENDPOINTS][N_STATUSES];
	/* Non-cumulative: bucket i counts latencies in (bound[i-1],
	 * bound[i]], the last one those past every bound; /metrics sums
	 * them up as Prometheus wants. */
	atomic_uint_fast64_t latency[N_BOUNDS + 1];
	atomic_uint_fast64_t latency_sum_ns;
	atomic_uint_fast64_t latency_count;
	atomic_int in_flight;
	atomic_uint_fast64_t slow_dropped;
};

/* ---- server state ------------------------------------------------------- */

/* One per worker thread that has served a request: its store, and the link
 * that lets the main thread close every store after the workers stopped. */
struct worker {
	evc_store *store;
	struct worker *next;
};

struct server {
	const char *db;
	const char *token; /* NULL: no authentication */
	size_t token_len;
	bool quiet;
	struct metrics m;
	pthread_mutex_t workers_lock;
	struct worker *workers;
	/* The connections, for the reaper (see "slow senders"). */
	pthread_mutex_t conns_lock;
	pthread_cond_t reaper_wake; /* on CLOCK_MONOTONIC */
	struct conn *conns;         /* under conns_lock */
	bool reaper_stop;           /* under conns_lock */
	pthread_t reaper;
};

/* Each worker finds its own store here; the pointer is also on the
 * server's list, which owns it. */
static _Thread_local struct worker *this_worker;

/* Per request, from the request line to the completion callback. */
struct request {
	struct timespec start;
	bool headers_seen;
	bool bad_escape; /* the raw URL has a malformed or NUL %-escape */
};

/* libmicrohttpd passes malformed escapes through as text and cuts decoded
 * strings at an escaped NUL (so "/healthz%00x" would read "/healthz"):
 * refuse both, looking at the URL as it came. */
static bool bad_escape(const char *uri)
{
	for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%')) {
		if (!isxdigit((unsigned char)p[1]) ||
		    !isxdigit((unsigned char)p[2]) ||
		    (p[1] == '0' && p[2] == '0'))
			return true;
	}
	return false;
}

static uint64_t elapsed_ns(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - since->tv_sec) * 1000000000u +
	       (uint64_t)(now.tv_nsec - since->tv_nsec);
}

/* The calling worker's store, opened on its first request; NULL if the
 * store cannot be opened (logged). */
static evc_store *worker_store(struct server *s)
{
	struct worker *w = this_worker;
	int rc;

	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return NULL;
		pthread_mutex_lock(&s->workers_lock);
		w->next = s->workers;
		s->workers = w;
		pthread_mutex_unlock(&s->workers_lock);
		this_worker = w;
	}
	if (!w->store) {
		rc = evc_open(&w->store, s->db, EVC_OPEN_READONLY);
		if (rc != EVC_OK)
			fprintf(stderr, PROG ": serve: %s\n",
			        cli_errmsg(NULL, rc));
	}
	return w->store;
}

/* After a store failure the handle is dropped, so that the next request
 * opens the store afresh rather than repeating a failure that a reopen
 * would cure (a replaced file, a transient I/O error). */
static void worker_store_failed(struct server *s, int rc)
{
	struct worker *w = this_worker;

	fprintf(stderr, PROG ": serve: %s\n", cli_errmsg(w->store, rc));
	evc_close(w->store);
	w->store = NULL;
}

/* ---- responses ---------------------------------------------------------- */

struct reply {
	unsigned status;
	enum endpoint endpoint;
};

/* Takes over `body`, malloc'ed, which libmicrohttpd frees. */
static enum MHD_Result send_body(struct MHD_Connection *conn, struct reply *rp,
                                 unsigned status, const char *type, char *body,
                                 size_t len, const char *allow, bool auth)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* Counts change with every ingest: a cache could only serve stale
	 * ones. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-store");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (auth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"evcount\"");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	rp->status = status;
	return ret;
}

/* A body built with open_memstream(); NULL if that failed. */
static enum MHD_Result send_stream(struct MHD_Connection *conn,
                                   struct reply *rp, unsigned status,
                                   const char *type, FILE *f, char **buf,
                                   size_t *len)
{
	if (fclose(f) != 0 || !*buf) {
		free(*buf);
		return MHD_NO;
	}
	return send_body(conn, rp, status, type, *buf, *len, NULL, false);
}

static enum MHD_Result
send_error_ex(struct MHD_Connection *conn, struct reply *rp, unsigned status,
              const char *allow, bool auth, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* {"error":"..."}: the message is formatted, then escaped, because it may
 * quote what the client sent. */
static enum MHD_Result send_error_ex(struct MHD_Connection *conn,
                                     struct reply *rp, unsigned status,
                                     const char *allow, bool auth,
                                     const char *fmt, ...)
{
	char msg[512], *buf = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	fputs("{\"error\":", f);
	cli_put_json_string(f, msg);
	fputs("}\n", f);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return MHD_NO;
	}
	return send_body(conn, rp, status, "application/json", buf, len, allow,
	                 auth);
}

#define send_error(conn, rp, status, ...)                                      \
	send_error_ex(conn, rp, status, NULL, false, __VA_ARGS__)

/* ---- authentication ----------------------------------------------------- */

/* Whether a == b, in a time that depends on the lengths only: every byte
 * of the longer string is looked at whatever the first difference, so that
 * response times do not tell how much of a guess was right. */
static bool equal_ct(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen > blen ? alen : blen;
	volatile unsigned char diff = 0;

	/* Folds in every bit of the length difference. */
	for (size_t x = alen ^ blen; x; x >>= 8)
		diff |= (unsigned char)(x | 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ca = i < alen ? (unsigned char)a[i] : 0;
		unsigned char cb = i < blen ? (unsigned char)b[i] : 0;

		diff |= ca ^ cb;
	}
	return diff == 0;
}

static bool authorized(const struct server *s, struct MHD_Connection *conn)
{
	const char *h;
	size_t len;

	if (!s->token)
		return true;
	if (MHD_lookup_connection_value_n(
	        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
	        strlen(MHD_HTTP_HEADER_AUTHORIZATION), &h, &len) != MHD_YES ||
	    !h)
		return false;
	/* RFC 6750: the scheme is case-insensitive, then one or more
	 * spaces. */
	if (len < 7 || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	len -= 7;
	while (len > 0 && *h == ' ') {
		h++;
		len--;
	}
	return equal_ct(h, len, s->token, s->token_len);
}

/* ---- /hourly ------------------------------------------------------------ */

/* Sees every query argument, repeated ones included, which
 * MHD_lookup_connection_value() would hide behind the first. */
static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind,
                                     const char *key, size_t key_size,
                                     const char *value, size_t value_size)
{
	serve_params_add(cls, key, value, value_size);
	return MHD_YES;
}

static enum MHD_Result get_hourly(struct server *s, struct MHD_Connection *conn,
                                  struct reply *rp)
{
	struct serve_params p = {0};
	struct hourly_args a;
	evc_hourly_result *r;
	evc_store *store;
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *f;
	int rc;

	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect_param,
	                            &p);
	if (!serve_parse_hourly(&p, &a, err, sizeof(err)))
		return send_error(conn, rp, 400, "%s", err);

	store = worker_store(s);
	if (!store)
		return send_error(conn, rp, 500, "store unavailable");
	rc = evc_hourly(store, a.customer_id, a.start, a.end, &r);
	if (rc == EVC_ERANGE || rc == EVC_EINVAL)
		return send_error(conn, rp, 400, "%s", cli_errmsg(store, rc));
	if (rc != EVC_OK) {
		worker_store_failed(s, rc);
		return send_error(conn, rp, 500, "store failure");
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		evc_hourly_free(r);
		return MHD_NO;
	}
	cli_hourly_json(f, &a, r);
	evc_hourly_free(r);
	return send_stream(conn, rp, 200, "application/json", f, &buf, &len);
}

/* ---- /healthz and /metrics ---------------------------------------------- */

static enum MHD_Result
get_healthz(struct server *s, struct MHD_Connection *conn, struct reply *rp)
{
	evc_hourly_result *r;
	evc_store *store = worker_store(s);
	char *body;
	int rc;

	if (!store)
		return send_error(conn, rp, 503, "store unavailable");
	/* Opening alone reads little: one indexed lookup proves the tables
	 * are readable. */
	rc = evc_hourly(store, "healthz", 0, 60, &r);
	if (rc != EVC_OK) {
		worker_store_failed(s, rc);
		return send_error(conn, rp, 503, "store unavailable");
	}
	evc_hourly_free(r);
	body = strdup("{\"status\":\"ok\"}\n");
	if (!body)
		return MHD_NO;
	return send_body(conn, rp, 200, "application/json", body, strlen(body),
	                 NULL, false);
}

struct source_totals {
	uint64_t sources, counted, rejected;
};

static int add_source(const evc_source_info *src, void *payload)
{
	struct source_totals *t = payload;

	t->sources++;
	t->counted += src->rows_counted;
	t->rejected += src->rows_rejected;
	return 0;
}

static void put_metric_head(FILE *f, const char *name, const char *type,
                            const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static enum MHD_Result
get_metrics(struct server *s, struct MHD_Connection *conn, struct reply *rp)
{
	struct metrics *m = &s->m;
	struct source_totals t = {0};
	uint64_t customers = 0;
	evc_store *store;
	uint64_t cum = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	store = worker_store(s);
	if (!store)
		return send_error(conn, rp, 500, "store unavailable");
	rc = evc_sources(store, add_source, &t);
	if (rc == EVC_OK)
		rc = evc_customer_count(store, &customers);
	if (rc != EVC_OK) {
		worker_store_failed(s, rc);
		return send_error(conn, rp, 500, "store failure");
	}
	f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;

	put_metric_head(f, "evcount_http_requests_total", "counter",
	                "HTTP requests answered, by endpoint and status.");
	for (int e = 0; e < N_ENDPOINTS; e++) {
		for (size_t i = 0; i < N_STATUSES; i++) {
			uint64_t n = atomic_load_explicit(&m->requests[e][i],
			                                  memory_order_relaxed);

			/* Absent series read as 0 in PromQL: printing only
			 * those seen keeps the page short. */
			if (n)
				fprintf(f,
				        "evcount_http_requests_total{endpoint="
				        "\"%s\",status=\"%u\"} %" PRIu64 "\n",
				        endpoint_names[e], statuses[i], n);
		}
	}

	put_metric_head(f, "evcount_http_request_duration_seconds", "histogram",
	                "Time from the request line to the queued response.");
	for (size_t i = 0; i <= N_BOUNDS; i++) {
		cum +=
		    atomic_load_explicit(&m->latency[i], memory_order_relaxed);
		if (i < N_BOUNDS)
			fprintf(f,
			        "evcount_http_request_duration_seconds_bucket{"
			        "le=\"%g\"} %" PRIu64 "\n",
			        latency_bounds[i], cum);
		else
			fprintf(f,
			        "evcount_http_request_duration_seconds_bucket{"
			        "le=\"+Inf\"} %" PRIu64 "\n",
			        cum);
	}
	fprintf(f, "evcount_http_request_duration_seconds_sum %.9f\n",
	        (double)atomic_load_explicit(&m->latency_sum_ns,
	                                     memory_order_relaxed) /
	            1e9);
	/* The buckets are read one by one while requests go on: _count is
	 * their sum rather than its own counter, so that it always equals
	 * the +Inf bucket as Prometheus requires. */
	fprintf(f, "evcount_http_request_duration_seconds_count %" PRIu64 "\n",
	        cum);

	put_metric_head(f, "evcount_http_requests_in_flight", "gauge",
	                "Requests being answered.");
	fprintf(f, "evcount_http_requests_in_flight %d\n",
	        atomic_load_explicit(&m->in_flight, memory_order_relaxed));

	put_metric_head(f, "evcount_http_slow_connections_dropped_total",
	                "counter",
	                "Connections closed for not completing a request in "
	                "time.");
	fprintf(f, "evcount_http_slow_connections_dropped_total %" PRIu64 "\n",
	        (uint64_t)atomic_load_explicit(&m->slow_dropped,
	                                       memory_order_relaxed));

	put_metric_head(f, "evcount_store_customers", "gauge",
	                "Customers with counts in the store.");
	fprintf(f, "evcount_store_customers %" PRIu64 "\n", customers);
	put_metric_head(f, "evcount_store_sources", "gauge",
	                "Input files ingested into the store.");
	fprintf(f, "evcount_store_sources %" PRIu64 "\n", t.sources);
	put_metric_head(f, "evcount_store_rows_counted", "gauge",
	                "Rows counted from all sources.");
	fprintf(f, "evcount_store_rows_counted %" PRIu64 "\n", t.counted);
	put_metric_head(f, "evcount_store_rows_rejected", "gauge",
	                "Rows rejected from all sources.");
	fprintf(f, "evcount_store_rows_rejected %" PRIu64 "\n", t.rejected);

	return send_stream(conn, rp, 200, "text/plain; version=0.0.4", f, &buf,
	                   &len);
}

/* ---- slow senders ------------------------------------------------------- */

/*
 * libmicrohttpd's CONNECTION_TIMEOUT is an idle timeout: every byte resets
 * it, so a client that sends its request a byte a second holds its
 * connection for ever, and CONNECTION_LIMIT such clients take the server
 * (slowloris). 0.9.75 has no request deadline, so one is kept here: a
 * connection has REQUEST_DEADLINE_S, from its start or from the end of its
 * previous response, until the handler answers its request (headers and
 * any body in). A reaper thread shuts down those past the deadline that
 * sent something meanwhile. Those that sent nothing are idle, not slow:
 * they are left to the idle timeout, which closes them at about the same
 * point, and are neither counted nor logged.
 *
 * The reaper shuts the socket down rather than closing it: the descriptor
 * stays libmicrohttpd's, which sees the end of the stream and closes and
 * frees the connection as if the client had gone. libmicrohttpd 0.9.75
 * calls the CLOSED notification before it closes the descriptor (daemon.c:
 * MHD_cleanup_connections() and the failure path of
 * new_connection_process_(); connections that fail before that were never
 * STARTED), and conn_notify() takes conns_lock to unlink the connection:
 * under conns_lock a listed descriptor is still its connection's, never a
 * number since reused by another.
 *
 * On the request path this costs an atomic store when the handler answers
 * and a clock read when a request completes.
 */

struct conn {
	struct conn *prev, *next; /* on server.conns, under conns_lock */
	int fd;
	/* CLOCK_MONOTONIC ns since the connection has been waiting for a
	 * complete request; 0 while one is being answered. Written by the
	 * connection's worker, read by the reaper. */
	atomic_int_fast64_t waiting_since;
	/* A request was answered: waiting_since is the end of the last
	 * response, not the start of the connection. */
	atomic_bool reused;
	bool dropped; /* under conns_lock: shut down, not yet closed */
};

/* Kernel timestamps are in jiffies (1 to 10 ms): data within this much of
 * the end of a response may have come before it. */
#define SENT_SLACK_NS 50000000

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Whether the peer of `fd` sent anything since `since`, as the kernel's
 * TCP statistics tell: libmicrohttpd reads whatever arrives, so nothing is
 * left to peek at. When they cannot tell, yes: the deadline then holds
 * for idle connections too. */
static bool sent_since(int fd, bool reused, int64_t since, int64_t now)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return true;
	/* Before the first request any byte counts (the time of the last
	 * data starts at the handshake, a little before `since`). */
	if (!reused)
		return len < offsetof(struct tcp_info, tcpi_bytes_received) +
		                 sizeof(ti.tcpi_bytes_received) ||
		       ti.tcpi_bytes_received > 0;
	return (int64_t)ti.tcpi_last_data_recv * 1000000 + SENT_SLACK_NS <
	       now - since;
}

/* Shuts down the connections past the deadline (under conns_lock) and
 * returns how many, with the address of the first in *first. */
static unsigned reap(struct server *s, struct sockaddr_storage *first,
                     socklen_t *first_len)
{
	int64_t now = now_ns(), since;
	unsigned n = 0;

	for (struct conn *c = s->conns; c; c = c->next) {
		/* Acquire: pairs with the release in conn_waiting(), so
		 * that `reused` is at least as new as `since`. */
		since = atomic_load_explicit(&c->waiting_since,
		                             memory_order_acquire);
		if (c->dropped || since == 0 ||
		    now - since < (int64_t)REQUEST_DEADLINE_S * 1000000000)
			continue;
		if (!sent_since(
		        c->fd,
		        atomic_load_explicit(&c->reused, memory_order_relaxed),
		        since, now))
			continue;
		if (n == 0) {
			*first_len = sizeof(*first);
			if (getpeername(c->fd, (struct sockaddr *)first,
			                first_len) != 0)
				*first_len = 0;
		}
		shutdown(c->fd, SHUT_RDWR);
		c->dropped = true;
		n++;
	}
	atomic_fetch_add_explicit(&s->m.slow_dropped, n, memory_order_relaxed);
	return n;
}

/* One line per pass, not per connection: a flood of slow clients logs at
 * most 1000 / REAP_INTERVAL_MS lines a second. */
static void log_drops(unsigned n, const struct sockaddr_storage *first,
                      socklen_t first_len)
{
	char host[NI_MAXHOST];

	if (n > 1)
		fprintf(stderr,
		        PROG ": serve: dropped %u connections: no complete "
		             "request within %d s\n",
		        n, REQUEST_DEADLINE_S);
	else if (first_len > 0 &&
	         getnameinfo((const struct sockaddr *)first, first_len, host,
	                     sizeof(host), NULL, 0, NI_NUMERICHOST) == 0)
		fprintf(stderr,
		        PROG ": serve: dropped a connection from %s: no "
		             "complete request within %d s\n",
		        host, REQUEST_DEADLINE_S);
	else
		fprintf(stderr,
		        PROG ": serve: dropped a connection: no complete "
		             "request within %d s\n",
		        REQUEST_DEADLINE_S);
}

static void *reaper_main(void *arg)
{
	struct server *s = arg;
	struct sockaddr_storage first;
	socklen_t first_len = 0;
	struct timespec wake;
	unsigned n;

	pthread_mutex_lock(&s->conns_lock);
	while (!s->reaper_stop) {
		clock_gettime(CLOCK_MONOTONIC, &wake);
		wake.tv_nsec += REAP_INTERVAL_MS * 1000000L;
		if (wake.tv_nsec >= 1000000000L) {
			wake.tv_sec++;
			wake.tv_nsec -= 1000000000L;
		}
		while (!s->reaper_stop &&
		       pthread_cond_timedwait(&s->reaper_wake, &s->conns_lock,
		                              &wake) != ETIMEDOUT)
			;
		if (s->reaper_stop)
			break;
		n = reap(s, &first, &first_len);
		if (n) {
			/* Not under the lock: stderr may block, and every
			 * connection's start and end takes it. */
			pthread_mutex_unlock(&s->conns_lock);
			log_drops(n, &first, first_len);
			pthread_mutex_lock(&s->conns_lock);
		}
	}
	pthread_mutex_unlock(&s->conns_lock);
	return NULL;
}

/* Returns 0 or an errno value. */
static int reaper_start(struct server *s)
{
	return pthread_create(&s->reaper, NULL, reaper_main, s);
}

static void reaper_stop(struct server *s)
{
	pthread_mutex_lock(&s->conns_lock);
	s->reaper_stop = true;
	pthread_cond_signal(&s->reaper_wake);
	pthread_mutex_unlock(&s->conns_lock);
	pthread_join(s->reaper, NULL);
}

/* MHD_OPTION_NOTIFY_CONNECTION: lists a connection from its start to its
 * end. One that cannot be listed (no memory) has the idle timeout only. */
static void conn_notify(void *cls, struct MHD_Connection *mc,
                        void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(mc,
		                             MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return;
		c->fd = ci->connect_fd;
		atomic_init(&c->waiting_since, now_ns());
		atomic_init(&c->reused, false);
		pthread_mutex_lock(&s->conns_lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->conns_lock);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		c = *socket_context;
		pthread_mutex_lock(&s->conns_lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&s->conns_lock);
		free(c);
		*socket_context = NULL;
	}
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The request is in: no deadline while it is answered. */
static void conn_answering(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);

	if (c)
		atomic_store_explicit(&c->waiting_since, 0,
		                      memory_order_relaxed);
}

/* A response is out: the deadline for the next request starts. */
static void conn_waiting(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);

	if (c) {
		atomic_store_explicit(&c->reused, true, memory_order_relaxed);
		atomic_store_explicit(&c->waiting_since, now_ns(),
		                      memory_order_release);
	}
}

/* ---- request dispatch --------------------------------------------------- */

static void record(struct server *s, const struct reply *rp, uint64_t ns)
{
	struct metrics *m = &s->m;
	size_t i, b;

	for (i = 0; i < N_STATUSES; i++) {
		if (statuses[i] == rp->status) {
			atomic_fetch_add_explicit(&m->requests[rp->endpoint][i],
			                          1, memory_order_relaxed);
			break;
		}
	}
	for (b = 0; b < N_BOUNDS; b++) {
		if ((double)ns <= latency_bounds[b] * 1e9)
			break;
	}
	atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_sum_ns, ns, memory_order_relaxed);
}

/* The path as decoded by libmicrohttpd may hold any byte: escape what
 * could forge or garble log lines, and cut it short. */
static void log_request(const char *method, const char *url, unsigned status,
                        uint64_t ns)
{
	char path[256];
	size_t n = 0;

	for (const unsigned char *u = (const unsigned char *)url;
	     *u && n + 5 < sizeof(path); u++) {
		if (*u < 0x20 || *u >= 0x7f || *u == '\\')
			n += (size_t)snprintf(path + n, sizeof(path) - n,
			                      "\\x%02x", *u);
		else
			path[n++] = (char)*u;
	}
	path[n] = '\0';
	/* One fprintf per line: stdio locks the stream, so lines from
	 * concurrent workers do not interleave. */
	fprintf(stderr, "%s %s %u %.3fms\n", method, path, status,
	        (double)ns / 1e6);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	struct request *req = *req_cls;
	struct reply rp = {0, EP_OTHER};
	enum MHD_Result ret;
	uint64_t ns;

	/* GET and HEAD are answered on the second call, once the request is
	 * complete: a response queued before that makes libmicrohttpd close
	 * the connection, and keep-alive is most of the speed of a busy
	 * client. A request body is read and dropped. Other methods are
	 * refused at once, so that their bodies are not even read. */
	if (req && (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	            strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)) {
		if (!req->headers_seen) {
			req->headers_seen = true;
			return MHD_YES;
		}
		if (*upload_data_size) {
			*upload_data_size = 0;
			return MHD_YES;
		}
	}

	conn_answering(conn);
	if (strcmp(url, "/hourly") == 0)
		rp.endpoint = EP_HOURLY;
	else if (strcmp(url, "/healthz") == 0)
		rp.endpoint = EP_HEALTHZ;
	else if (strcmp(url, "/metrics") == 0)
		rp.endpoint = EP_METRICS;

	if (rp.endpoint != EP_HEALTHZ && !authorized(s, conn))
		ret = send_error_ex(conn, &rp, 401, NULL, true,
		                    "missing or wrong bearer token");
	else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	         strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		ret = send_error_ex(conn, &rp, 405, "GET, HEAD", false,
		                    "method %s not allowed", method);
	else if (req && req->bad_escape)
		ret = send_error(conn, &rp, 400,
		                 "malformed or NUL %%-escape in the URL");
	else if (rp.endpoint == EP_HOURLY)
		ret = get_hourly(s, conn, &rp);
	else if (rp.endpoint == EP_HEALTHZ)
		ret = get_healthz(s, conn, &rp);
	else if (rp.endpoint == EP_METRICS)
		ret = get_metrics(s, conn, &rp);
	else
		ret = send_error(conn, &rp, 404, "no such endpoint");

	if (req && rp.status) {
		ns = elapsed_ns(&req->start);
		record(s, &rp, ns);
		if (!s->quiet)
			log_request(method, url, rp.status, ns);
	}
	return ret;
}

/* Called with the request line, before the headers: the start of the
 * request for its latency, and of its time in flight. */
static void *request_begin(void *cls, const char *uri,
                           struct MHD_Connection *conn)
{
	struct server *s = cls;
	struct request *req = malloc(sizeof(*req));

	if (req) {
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		req->headers_seen = false;
		req->bad_escape = bad_escape(uri);
		atomic_fetch_add(&s->m.in_flight, 1);
	}
	return req;
}

static void request_end(void *cls, struct MHD_Connection *conn, void **req_cls,
                        enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;

	/* Also when the connection is to close after it: harmless, it is
	 * unlisted as it does. */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_waiting(conn);
	if (*req_cls) {
		atomic_fetch_sub(&s->m.in_flight, 1);
		free(*req_cls);
		*req_cls = NULL;
	}
}

/* ---- start and stop ----------------------------------------------------- */

struct serve_opts {
	const char *listen; /* as given, for messages */
	char host[256];     /* empty: the loopback */
	char port[8];
	unsigned threads;
	const char *token_file;
	bool quiet;
};

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)
		                  ->sin_addr.s_addr) >>
		        24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* HOST:PORT, or [HOST]:PORT for IPv6, into o->host and o->port. Returns
 * EXIT_OK or EXIT_USAGE (reported). */
static int parse_listen(const char *arg, struct serve_opts *o)
{
	const char *colon = strrchr(arg, ':'), *h = arg, *p;
	unsigned long pn;
	size_t hlen;
	char *end;

	if (!colon)
		return cli_usage_error("--listen: expected HOST:PORT, not "
		                       "\"%s\"",
		                       arg);
	hlen = (size_t)(colon - h);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	p = colon + 1;
	errno = 0;
	pn = strtoul(p, &end, 10);
	/* strtoul() would take a sign or leading blanks. */
	if (*p < '0' || *p > '9' || *end || errno || pn > 65535)
		return cli_usage_error("--listen: bad port \"%s\"", p);
	if (hlen >= sizeof(o->host))
		return cli_usage_error("--listen: host name too long");
	memcpy(o->host, h, hlen);
	o->host[hlen] = '\0';
	snprintf(o->port, sizeof(o->port), "%lu", pn);
	o->listen = arg;
	return EXIT_OK;
}

/* Bind the address ourselves rather than through libmicrohttpd: errors get
 * a clear message, names resolve, and the bound port (for port 0) is known
 * before the server starts. Returns the listening socket or -1
 * (reported). */
static int bind_listen(const struct serve_opts *o, bool *loopback)
{
	struct addrinfo hints = {0}, *res, *ai;
	char shown[NI_MAXHOST], sport[NI_MAXSERV];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	const char *listen_arg = o->listen;
	int fd = -1, rc, one = 1, err = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	/* An empty host is the loopback, not every interface: exposing the
	 * counts must be asked for by name (0.0.0.0 or ::). */
	rc = getaddrinfo(*o->host ? o->host : "127.0.0.1", o->port, &hints,
	                 &res);
	if (rc != 0) {
		fprintf(stderr, PROG ": --listen %s: %s\n", listen_arg,
		        gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		            ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		/* A restart must not wait for the old connections'
		 * TIME_WAIT. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, PROG ": --listen %s: %s\n", listen_arg,
		        strerror(err));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, shown, sizeof(shown),
	                sport, sizeof(sport),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		fprintf(stderr, PROG ": --listen %s: %s\n", listen_arg,
		        strerror(errno));
		close(fd);
		return -1;
	}
	*loopback = is_loopback((struct sockaddr *)&ss);
	/* Always printed, --quiet or not: with port 0 it is the only way to
	 * learn the port. */
	if (ss.ss_family == AF_INET6)
		fprintf(stderr, "listening on http://[%s]:%s\n", shown, sport);
	else
		fprintf(stderr, "listening on http://%s:%s\n", shown, sport);
	return fd;
}

/* The token: --token-file's first line, else $EVCOUNT_TOKEN, else none.
 * Returns EXIT_OK or EXIT_FAIL (reported); *out is malloc'ed. */
static int load_token(const char *file, char **out)
{
	const char *env = getenv("EVCOUNT_TOKEN");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	*out = NULL;
	if (!file) {
		if (!env)
			return EXIT_OK;
		if (!*env) {
			fprintf(stderr, PROG ": EVCOUNT_TOKEN is empty\n");
			return EXIT_FAIL;
		}
		line = strdup(env);
		n = line ? (ssize_t)strlen(line) : -1;
	} else {
		f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, PROG ": --token-file %s: %s\n", file,
			        strerror(errno));
			return EXIT_FAIL;
		}
		n = getline(&line, &cap, f);
		fclose(f);
		if (n < 0)
			n = 0;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
	}
	if (!line) {
		if (file) {
			fprintf(stderr, PROG ": --token-file %s: empty\n",
			        file);
			return EXIT_FAIL;
		}
		perror(PROG);
		return EXIT_FAIL;
	}
	if (n == 0) {
		fprintf(stderr, PROG ": --token-file %s: empty first line\n",
		        file);
		free(line);
		return EXIT_FAIL;
	}
	/* Such a token could not be sent in a header, or would be cut at
	 * the NUL. */
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c <= 0x20 || c == 0x7f) {
			fprintf(stderr,
			        PROG ": the token holds a space or a control "
			             "character\n");
			free(line);
			return EXIT_FAIL;
		}
	}
	*out = line;
	return EXIT_OK;
}

/* libmicrohttpd's own messages (requests it refuses, failures to start),
 * marked as such. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	fprintf(stderr, PROG ": libmicrohttpd: %s\n", msg);
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

static int serve(const char *db, const struct serve_opts *o)
{
	struct server *s;
	struct MHD_Daemon *d;
	sigset_t set, old;
	bool loopback = false;
	char *token;
	int fd, rc, sig;
	unsigned flags;
	evc_store *probe;

	rc = load_token(o->token_file, &token);
	if (rc != EXIT_OK)
		return rc;
	/* Fail now rather than with a 500 on every request. */
	rc = evc_open(&probe, db, EVC_OPEN_READONLY);
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(NULL, rc));
		free(token);
		return EXIT_FAIL;
	}
	evc_close(probe);

	s = calloc(1, sizeof(*s));
	if (!s) {
		perror(PROG);
		free(token);
		return EXIT_FAIL;
	}
	s->db = db;
	s->token = token;
	s->token_len = token ? strlen(token) : 0;
	s->quiet = o->quiet;
	pthread_mutex_init(&s->workers_lock, NULL);
	pthread_mutex_init(&s->conns_lock, NULL);
	{
		pthread_condattr_t ca;

		/* The reaper's waits must not stretch or shrink with the
		 * wall clock. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->reaper_wake, &ca);
		pthread_condattr_destroy(&ca);
	}

	fd = bind_listen(o, &loopback);
	if (fd < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (!loopback && !token)
		fprintf(stderr, PROG ": warning: listening beyond the loopback "
		                     "without a token: anyone who can reach it "
		                     "can read the counts\n");

	/* Blocked before the workers exist, which inherit the mask: only
	 * the main thread, in sigwait(), ever takes these signals. SIGPIPE
	 * is blocked too, for a peer that goes away mid-response. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	/* After the mask, which it inherits; before the server, so that
	 * a failure leaves nothing to stop. */
	rc = reaper_start(s);
	if (rc != 0) {
		fprintf(stderr, PROG ": serve: cannot start a thread: %s\n",
		        strerror(rc));
		close(fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		rc = EXIT_FAIL;
		goto out;
	}

	/* A pool of 1 is no pool, as libmicrohttpd warns: one polling thread
	 * is what it runs without the option. */
	struct MHD_OptionItem pool[] = {
	    {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
	     (intptr_t)o->threads, NULL},
	    {MHD_OPTION_END, 0, NULL},
	};

	/* ITC: MHD_quiesce_daemon() needs it with a thread pool. TURBO: read
	 * and write before asking epoll, which on keep-alive connections
	 * mostly succeeds; it raised requests/s by about half here. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
	        MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
	             ? MHD_USE_EPOLL
	             : MHD_USE_POLL;
	/* 414 and 431: libmicrohttpd 0.9.75 keeps the request line and
	 * headers in the connection's memory pool (CONNECTION_MEMORY): a
	 * request line that does not fit is answered 414 URI Too Long, and
	 * headers that do not fit 431 Request Header Fields Too Large, both
	 * by libmicrohttpd itself before the handler is called, with a small
	 * HTML body (not our JSON: 0.9.75 has no hook for it), then the
	 * connection is closed. With 16 KiB, measured: a URL up to about
	 * 15.8 KB is served; from about 16.3 KB it gets 414 (431 when the
	 * request line fits but the headers after it do not); in between
	 * the request fits but leaves no room for the response headers, and
	 * libmicrohttpd closes the connection without a response. The logger
	 * comes first so that it also sees the messages about the options that
	 * follow it. */
	d = MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, request_begin, s,
	    MHD_OPTION_NOTIFY_COMPLETED, request_end, s,
	    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, PROG ": serve: cannot start the HTTP server\n");
		reaper_stop(s);
		close(fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		rc = EXIT_FAIL;
		goto out;
	}

	sig = wait_for_signal();
	if (!s->quiet)
		fprintf(stderr, PROG ": serve: %s, shutting down\n",
		        strsignal(sig));
	/* No new connections; those open go on until their requests are
	 * answered, then MHD_stop_daemon() closes what is left (idle
	 * keep-alive connections). */
	fd = MHD_quiesce_daemon(d);
	for (int ms = 0;
	     ms < DRAIN_TIMEOUT_MS && atomic_load(&s->m.in_flight) > 0;
	     ms += 10)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	MHD_stop_daemon(d);
	/* After it: every connection has been unlisted. */
	reaper_stop(s);
	/* Only now: a worker thread may use the socket until it stopped. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	rc = EXIT_OK;

out:
	/* The workers are gone: their stores can be closed from here. */
	while (s->workers) {
		struct worker *w = s->workers;

		s->workers = w->next;
		evc_close(w->store);
		free(w);
	}
	pthread_mutex_destroy(&s->workers_lock);
	pthread_cond_destroy(&s->reaper_wake);
	pthread_mutex_destroy(&s->conns_lock);
	free(token);
	free(s);
	return rc;
}

/* ---- command line ------------------------------------------------------- */

static void print_serve_help(void)
{
	puts("Usage: " PROG " [--db PATH] serve [--listen HOST:PORT] "
	     "[--threads N]\n"
	     "                   [--token-file FILE] [--quiet] "
	     "[--ingest FILE...]\n"
	     "\n"
	     "Answer hourly queries over HTTP until SIGINT or SIGTERM.\n"
	     "\n"
	     "Endpoints (GET or HEAD):\n"
	     "  /hourly?customer_id=ID&start=TS&end=TS[&sparse=1]\n"
	     "           the JSON of 'hourly --format json' for the same "
	     "query\n"
	     "  /healthz {\"status\":\"ok\"} if the store is readable, else "
	     "503\n"
	     "  /metrics request counts, latencies and store facts, in the "
	     "Prometheus text\n"
	     "           format\n"
	     "Query values are URL-encoded: send a '+' in a timestamp as "
	     "%2B. Errors are\n"
	     "{\"error\":\"...\"} with 400 (bad, missing or repeated "
	     "parameter), 401, 404, 405,\n"
	     "414, 431 or 500. With a token every endpoint but /healthz "
	     "needs the header\n"
	     "'Authorization: Bearer TOKEN'.\n"
	     "\n"
	     "Options:\n"
	     "      --listen HOST:PORT   address to listen on (default "
	     "127.0.0.1:8000; port 0:\n"
	     "                           any free port; the address is "
	     "printed on stderr)\n"
	     "      --threads N          worker threads (default 2)\n"
	     "      --token-file FILE    require the bearer token on FILE's "
	     "first line\n"
	     "                           (default: $EVCOUNT_TOKEN, else no "
	     "token)\n"
	     "      --quiet              no line per request on stderr\n"
	     "      --ingest FILE...     first ingest FILE and every operand, "
	     "as ingest does\n"
	     "      --db PATH            the store (default: $EVCOUNT_DB, "
	     "else ./evcount.db)\n"
	     "  -h, --help               print this help and exit");
}

enum serve_opt_id {
	SO_LISTEN = 256,
	SO_THREADS,
	SO_TOKEN_FILE,
	SO_QUIET,
	SO_INGEST,
	SO_DB,
};

/* Ingest the files (lenient, as `ingest` does) with a store of our own,
 * closed before the server opens its read-only ones. */
static int ingest_first(const char *db, const struct ingest_args *in)
{
	evc_store *store;
	int rc = evc_open(&store, db, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);

	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(NULL, rc));
		return EXIT_FAIL;
	}
	rc = cli_ingest(store, in);
	evc_close(store);
	return rc;
}

int cli_serve_main(const char *db, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, SO_LISTEN},
	    {"threads", required_argument, NULL, SO_THREADS},
	    {"token-file", required_argument, NULL, SO_TOKEN_FILE},
	    {"quiet", no_argument, NULL, SO_QUIET},
	    {"ingest", required_argument, NULL, SO_INGEST},
	    {"db", required_argument, NULL, SO_DB},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct serve_opts o = {.threads = DEFAULT_THREADS};
	struct ingest_args in = {0};
	unsigned long n;
	char *end;
	int ret, rc;

	parse_listen(DEFAULT_LISTEN, &o);
	/* Room for every argument: the --ingest values and the operands. */
	in.files = calloc((size_t)argc + 1, sizeof(*in.files));
	if (!in.files) {
		perror(PROG);
		return EXIT_FAIL;
	}
	optind = 0;
	opterr = 0;
	while ((ret = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ret) {
		case SO_LISTEN:
			if (parse_listen(optarg, &o) != EXIT_OK) {
				free(in.files);
				return EXIT_USAGE;
			}
			break;
		case SO_THREADS:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			/* strtoul() would take a sign or blanks. */
			if (*optarg < '0' || *optarg > '9' || *end || errno ||
			    n < 1 || n > MAX_THREADS) {
				free(in.files);
				return cli_usage_error(
				    "--threads: expected 1 to %d, not \"%s\"",
				    MAX_THREADS, optarg);
			}
			o.threads = (unsigned)n;
			break;
		case SO_TOKEN_FILE:
			o.token_file = optarg;
			break;
		case SO_QUIET:
			o.quiet = true;
			break;
		case SO_INGEST:
			in.files[in.n_files++] = optarg;
			break;
		case SO_DB:
			if (!*optarg) {
				free(in.files);
				return cli_usage_error("--db: empty path");
			}
			db = optarg;
			break;
		case 'h':
			print_serve_help();
			free(in.files);
			return EXIT_OK;
		case ':':
			free(in.files);
			return cli_usage_error("option '%s' needs a value",
			                       argv[optind - 1]);
		default:
			free(in.files);
			return cli_usage_error("serve: unknown option '%s'",
			                       argv[optind - 1]);
		}
	}
	if (optind < argc && in.n_files == 0) {
		free(in.files);
		return cli_usage_error("serve: unexpected argument '%s'",
		                       argv[optind]);
	}
	while (optind < argc)
		in.files[in.n_files++] = argv[optind++];
	rc = in.n_files ? ingest_first(db, &in) : EXIT_OK;
	free(in.files);
	if (rc != EXIT_OK)
		return rc;
	return serve(db, &o);
}

int cli_serve_oneshot(const char *db, const struct ingest_args *in)
{
	struct serve_opts o = {.threads = DEFAULT_THREADS};
	int rc;

	parse_listen(DEFAULT_LISTEN, &o);
	rc = ingest_first(db, in);
	return rc != EXIT_OK ? rc : serve(db, &o);
}
