/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve's metrics: request counts by endpoint and status, a
 * latency histogram, and GET /metrics in the Prometheus text format with
 * the store's figures.
 */
#include "serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const endpoint_names[N_ENDPOINTS] = {
    "/hourly",  "/counts", "/ingest", "/customers", "/healthz",
    "/metrics", "/",       "/assets", "other"};

/* Every status the handler itself answers with; libmicrohttpd's own errors
 * (414, 431, malformed requests) never reach it and are not counted. */
static const unsigned statuses[] = {200, 400, 401, 403, 404, 405,
                                    409, 413, 415, 500, 503};
_Static_assert(sizeof(statuses) / sizeof(statuses[0]) == N_STATUSES,
               "N_STATUSES");

/* Upper bounds in seconds: request latencies are expected well under 1 ms,
 * the tail shows store or CPU contention. */
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001,
                                        0.0025, 0.005,   0.01,   0.025,
                                        0.05,   0.1,     0.25,   1.0};
_Static_assert(sizeof(latency_bounds) / sizeof(latency_bounds[0]) == N_BOUNDS,
               "N_BOUNDS");

void serve_record_metrics(struct server *s, const struct reply *rp, uint64_t ns)
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

static void put_metric_head(FILE *f, const char *name, const char *type,
                            const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum MHD_Result serve_get_metrics(struct server *s, struct MHD_Connection *conn,
                                  struct reply *rp)
{
	struct metrics *m = &s->m;
	evc_store_summary sum;
	evc_store *store;
	uint64_t cum = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	store = serve_worker_store(s);
	if (!store)
		return serve_send_error(conn, rp, 500, "store unavailable");
	/* The figures of `stats`, from one snapshot. */
	int64_t as_of = 0;
	rc = evc_store_info(store, &sum);
	if (rc == EVC_OK)
		rc = evc_as_of(store, &as_of);
	if (rc != EVC_OK) {
		serve_worker_store_failed(s, rc);
		return serve_send_error(conn, rp, 500, "store failure");
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
	fprintf(f, "evcount_store_customers %" PRIu64 "\n", sum.customers);
	put_metric_head(f, "evcount_store_sources", "gauge",
	                "Input files and tracked streams ingested into the "
	                "store, retracted ones left out.");
	fprintf(f, "evcount_store_sources %" PRIu64 "\n", sum.sources);
	put_metric_head(f, "evcount_store_rows_counted", "gauge",
	                "Events counted, from files and streams.");
	fprintf(f, "evcount_store_rows_counted %" PRIu64 "\n",
	        sum.rows_counted);
	put_metric_head(f, "evcount_store_rows_rejected", "gauge",
	                "Rows rejected by ingests of files.");
	fprintf(f, "evcount_store_rows_rejected %" PRIu64 "\n",
	        sum.rows_rejected);
	/* 0 until the first ingest: "never" needs no other value. */
	put_metric_head(f, "evcount_store_last_ingest_timestamp_seconds",
	                "gauge",
	                "When the store's last ingest committed, epoch "
	                "seconds (0: never).");
	fprintf(f, "evcount_store_last_ingest_timestamp_seconds %" PRId64 "\n",
	        as_of);

	return serve_send_stream(conn, rp, 200, "text/plain; version=0.0.4", f,
	                         &buf, &len);
}
