/* SPDX-License-Identifier: MIT */
/*
 * Shared by the files of evcount-cli serve: serve.c (options, start and
 * stop), serve-http.c (requests and responses), serve-metrics.c (counters
 * and /metrics), serve-page.c (the page at /) and serve-reaper.c
 * (connections that trickle their request). libmicrohttpd runs a pool of
 * worker threads; each lazily opens its own read-only store, since a store
 * handle may be used by one thread at a time and per-worker handles need no
 * lock on the request path.
 */
#ifndef EVCOUNT_SERVE_H
#define EVCOUNT_SERVE_H

#include "cli.h"

#include <microhttpd.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- metrics (serve-metrics.c) ------------------------------------------- */

/* Requests are counted per endpoint, so that a scan of random paths cannot
 * grow the label set; every other path is "other". */
enum endpoint {
	EP_HOURLY,
	EP_COUNTS,
	EP_INGEST,
	EP_CUSTOMERS,
	EP_HEALTHZ,
	EP_METRICS,
	EP_PAGE,   /* GET /, the page */
	EP_ASSETS, /* the files it loads, under /assets/ */
	EP_OTHER,
	N_ENDPOINTS
};
/* The statuses the handler answers with, and the latency buckets. */
#define N_STATUSES 11
#define N_BOUNDS   12

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

/* ---- the server ---------------------------------------------------------- */

/* One per worker thread that has served a request: its stores (the
 * read-write one opened only for ingests), and the link that lets the
 * main thread close every store after the workers stopped. */
struct worker {
	evc_store *store;
	evc_store *writer;
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
	/* The store's health, for /healthz (serve-http.c), under
	 * health_lock: damaged once any request found it so, and the last
	 * probe of it, made at most once a second. */
	pthread_mutex_t health_lock;
	bool damaged;
	char damage[256];
	int64_t probed_ns; /* CLOCK_MONOTONIC; 0: never */
	int probe_rc;
	char probe_msg[256];
	/* Response bodies queued and not yet sent (or freed) may hold this
	 * many bytes at most: a large response that does not fit gets 503.
	 * What they hold now is `held`, reservations included. */
	size_t response_budget;
	atomic_size_t held;
	/* POST /ingest (serve-ingest.c): taken at all, and its largest
	 * body. */
	bool ingest_enabled;
	uint64_t max_ingest_body;
	/* The page as served: index.html with the token's presence written
	 * in (serve-page.c); NULL: as built. */
	char *page;
	size_t page_len;
};

/* What a request was answered with, for the metrics and the log. */
struct reply {
	struct server *server;
	unsigned status;
	enum endpoint endpoint;
	size_t reserved; /* bytes of the response budget held for its body */
};

/* ---- requests and responses (serve-http.c) ------------------------------- */

/* libmicrohttpd's access handler, and its request start and end hooks. */
enum MHD_Result serve_handle(void *cls, struct MHD_Connection *conn,
                             const char *url, const char *method,
                             const char *version, const char *upload_data,
                             size_t *upload_data_size, void **req_cls);
void *serve_request_begin(void *cls, const char *uri,
                          struct MHD_Connection *conn);
void serve_request_end(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);

/* The calling worker's store, opened on its first request; NULL if the
 * store cannot be opened (logged). After a store failure the handle is
 * dropped (logged), so that the next request opens the store afresh. */
evc_store *serve_worker_store(struct server *s);
void serve_worker_store_failed(struct server *s, int rc);
/* The calling worker, made on its first request; NULL when out of memory.
 * Its writer store fails as its store does. */
struct worker *serve_worker(struct server *s);
void serve_worker_writer_failed(struct server *s, int rc);
/* MHD_get_connection_values_n()'s iterator into a struct serve_params:
 * every query argument, repeated ones included. */
enum MHD_Result serve_collect_param(void *cls, enum MHD_ValueKind kind,
                                    const char *key, size_t key_size,
                                    const char *value, size_t value_size);

/* ---- /ingest (serve-ingest.c) -------------------------------------------- */

struct upload;
/* A POST to /ingest, its headers in: refused at once (*answered, with the
 * response queued), or its body to be taken into *out. */
enum MHD_Result serve_ingest_begin(struct server *s,
                                   struct MHD_Connection *conn,
                                   struct reply *rp, struct upload **out,
                                   bool *answered);
/* Each piece of the body as it arrives. */
void serve_ingest_data(struct server *s, struct upload *u, const char *data,
                       size_t n);
/* The body is in: ingest it and answer. */
enum MHD_Result serve_ingest_end(struct server *s, struct MHD_Connection *conn,
                                 struct reply *rp, struct upload *u);
void serve_upload_free(struct server *s, struct upload *u);
/* GET /ingest?stream=NAME: the stream's committed offset. */
enum MHD_Result serve_get_ingest(struct server *s, struct MHD_Connection *conn,
                                 struct reply *rp);

/* Hold `n` bytes of the response budget for a body about to be built,
 * in rp->reserved; false when they do not fit. */
bool serve_reserve(struct server *s, struct reply *rp, size_t n);

/* Queue a response; takes over `body`, malloc'ed. Its bytes count against
 * the response budget until libmicrohttpd frees it; rp->reserved is
 * given back. */
enum MHD_Result serve_send_body(struct MHD_Connection *conn, struct reply *rp,
                                unsigned status, const char *type, char *body,
                                size_t len, const char *allow, bool auth);
/* A body built with open_memstream(), closed here. */
enum MHD_Result serve_send_stream(struct MHD_Connection *conn, struct reply *rp,
                                  unsigned status, const char *type, FILE *f,
                                  char **buf, size_t *len);
/* {"error":"..."} with the formatted message, escaped. */
enum MHD_Result serve_send_error_ex(struct MHD_Connection *conn,
                                    struct reply *rp, unsigned status,
                                    const char *allow, bool auth,
                                    const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#define serve_send_error(conn, rp, status, ...)                                \
	serve_send_error_ex(conn, rp, status, NULL, false, __VA_ARGS__)
/* 503: the memory budget is held by requests and responses in flight. */
enum MHD_Result serve_send_busy(struct MHD_Connection *conn, struct reply *rp);
/* 500 for a store call that failed with rc: damaged, or another failure
 * (the detail is in the log, not the answer). */
enum MHD_Result serve_send_store_failure(struct MHD_Connection *conn,
                                         struct reply *rp, int rc);

/* ---- metrics (serve-metrics.c) ------------------------------------------- */

void serve_record_metrics(struct server *s, const struct reply *rp,
                          uint64_t ns);
enum MHD_Result serve_get_metrics(struct server *s, struct MHD_Connection *conn,
                                  struct reply *rp);

/* ---- the page (serve-page.c) -------------------------------------------- */

/* Write into s->page whether the page must ask for a token (s->token).
 * Returns 0, or -1 when out of memory. */
int serve_page_init(struct server *s);
void serve_page_free(struct server *s);
/* EP_PAGE or EP_ASSETS for the page's paths, else EP_OTHER. */
enum endpoint serve_page_endpoint(const char *url);
/* Answer a path of the page's (serve_page_endpoint() said so). */
enum MHD_Result serve_get_page(struct server *s, struct MHD_Connection *conn,
                               struct reply *rp, const char *url);

/* ---- slow senders (serve-reaper.c) --------------------------------------- */

/* From its start, or from the end of its previous response, a connection
 * that has sent something has this long to complete its request. */
#define REQUEST_DEADLINE_S 10

/* The reaper thread; start returns 0 or an errno value. */
int serve_reaper_start(struct server *s);
void serve_reaper_stop(struct server *s);
/* MHD_OPTION_NOTIFY_CONNECTION: lists a connection from start to end. */
void serve_conn_notify(void *cls, struct MHD_Connection *mc,
                       void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
/* The request is in (no deadline while it is answered); a response is out
 * (the deadline for the next request starts). */
void serve_conn_answering(struct MHD_Connection *mc);
void serve_conn_waiting(struct MHD_Connection *mc);

#endif /* EVCOUNT_SERVE_H */
