/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve's requests: the access handler, authentication, the
 * responses and the endpoints /hourly, /counts, /customers and /healthz
 * (/metrics is in serve-metrics.c, the page at / in serve-page.c).
 */
#include "serve-query.h"
#include "serve.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- each worker's store ------------------------------------------------ */

/* Each worker finds its own store here; the pointer is also on the
 * server's list, which owns it. */
static _Thread_local struct worker *this_worker;

/* Per request, from the request line to the completion callback. */
struct request {
	struct timespec start;
	bool headers_seen;
	bool bad_escape;       /* the raw URL has a malformed or NUL %-escape */
	struct upload *upload; /* a POST /ingest's body */
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

struct worker *serve_worker(struct server *s)
{
	struct worker *w = this_worker;

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
	return w;
}

/* The calling worker's store, opened on its first request; NULL if the
 * store cannot be opened (logged). */
evc_store *serve_worker_store(struct server *s)
{
	struct worker *w = serve_worker(s);
	int rc;

	if (!w)
		return NULL;
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
static void store_failed(struct server *s, evc_store **slot, int rc)
{
	const char *msg = cli_errmsg(*slot, rc);

	fprintf(stderr, PROG ": serve: %s\n", msg);
	/* A damaged store stays damaged: /healthz says so from now on. */
	if (rc == EVC_ECORRUPT) {
		pthread_mutex_lock(&s->health_lock);
		if (!s->damaged) {
			s->damaged = true;
			snprintf(s->damage, sizeof(s->damage), "%s", msg);
		}
		pthread_mutex_unlock(&s->health_lock);
	}
	evc_close(*slot);
	*slot = NULL;
}

void serve_worker_store_failed(struct server *s, int rc)
{
	store_failed(s, &this_worker->store, rc);
}

void serve_worker_writer_failed(struct server *s, int rc)
{
	store_failed(s, &this_worker->writer, rc);
}

/* ---- responses ---------------------------------------------------------- */

/* Takes over `body`, malloc'ed, which libmicrohttpd frees. */
bool serve_reserve(struct server *s, struct reply *rp, size_t n)
{
	size_t held = atomic_load(&s->held);

	do {
		if (held > s->response_budget || n > s->response_budget - held)
			return false;
	} while (!atomic_compare_exchange_weak(&s->held, &held, held + n));
	rp->reserved += n;
	return true;
}

/* A body on its way out, counted in the server's `held` until freed. */
struct held_body {
	struct server *s;
	char *body;
	size_t len;
};

static void free_held_body(void *cls)
{
	struct held_body *h = cls;

	atomic_fetch_sub(&h->s->held, h->len);
	free(h->body);
	free(h);
}

enum MHD_Result serve_send_body(struct MHD_Connection *conn, struct reply *rp,
                                unsigned status, const char *type, char *body,
                                size_t len, const char *allow, bool auth)
{
	struct server *s = rp->server;
	struct MHD_Response *resp = NULL;
	struct held_body *h = malloc(sizeof(*h));
	enum MHD_Result ret;

	/* Small bodies (errors) count too, but are never refused. */
	atomic_fetch_add(&s->held, len);
	atomic_fetch_sub(&s->held, rp->reserved);
	rp->reserved = 0;
	if (h) {
		*h = (struct held_body){s, body, len};
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
		    len, body, free_held_body, h);
	}
	if (!resp) {
		if (h)
			free_held_body(h);
		else {
			atomic_fetch_sub(&s->held, len);
			free(body);
		}
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
enum MHD_Result serve_send_stream(struct MHD_Connection *conn, struct reply *rp,
                                  unsigned status, const char *type, FILE *f,
                                  char **buf, size_t *len)
{
	if (fclose(f) != 0 || !*buf) {
		free(*buf);
		return MHD_NO;
	}
	return serve_send_body(conn, rp, status, type, *buf, *len, NULL, false);
}

enum MHD_Result serve_send_error_ex(struct MHD_Connection *conn,
                                    struct reply *rp, unsigned status,
                                    const char *allow, bool auth,
                                    const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* {"error":"..."}: the message is formatted, then escaped, because it may
 * quote what the client sent. */
enum MHD_Result serve_send_error_ex(struct MHD_Connection *conn,
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
	return serve_send_body(conn, rp, status, "application/json", buf, len,
	                       allow, auth);
}

#define serve_send_error(conn, rp, status, ...)                                \
	serve_send_error_ex(conn, rp, status, NULL, false, __VA_ARGS__)
enum MHD_Result serve_send_busy(struct MHD_Connection *conn, struct reply *rp)
{
	return serve_send_error(conn, rp, 503,
	                        "server busy: requests and responses being "
	                        "sent hold its --max-response-memory (%zu "
	                        "bytes); retry later",
	                        rp->server->response_budget);
}

enum MHD_Result serve_send_store_failure(struct MHD_Connection *conn,
                                         struct reply *rp, int rc)
{
	return serve_send_error(conn, rp, 500, "%s",
	                        rc == EVC_ECORRUPT ? "store damaged"
	                                           : "store failure");
}

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
enum MHD_Result serve_collect_param(void *cls, enum MHD_ValueKind kind,
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

	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
	                            serve_collect_param, &p);
	const bool ok = serve_parse_hourly(&p, &a, err, sizeof(err));
	serve_params_free(&p);
	if (!ok)
		return serve_send_error(conn, rp, 400, "%s", err);

	/* Room for the body before it is built, about 60 bytes a bucket:
	 * clients that read slowly must not make the server hold more than
	 * its budget. Past the library's limit, evc_hourly() says so. */
	const int64_t hours =
	    cli_floor_div(cli_floor_minute(a.end) * 60 - 1, 3600) -
	    cli_floor_div(cli_floor_minute(a.start) * 60, 3600) + 1;
	if (hours <= EVC_HOURLY_MAX_BUCKETS) {
		const size_t need = (size_t)hours * 64 + 512;
		if (need > s->response_budget)
			return serve_send_error(
			    conn, rp, 400,
			    "range too wide for this server: its %lld hours "
			    "need about %zu bytes, --max-response-memory is "
			    "%zu",
			    (long long)hours, need, s->response_budget);
		if (!serve_reserve(s, rp, need))
			return serve_send_busy(conn, rp);
	}
	store = serve_worker_store(s);
	if (!store)
		return serve_send_error(conn, rp, 500, "store unavailable");
	int64_t as_of = 0;
	rc = evc_as_of(store, &as_of);
	if (rc == EVC_OK)
		rc = evc_hourly(store, a.customer_id, a.start, a.end, &r);
	if (rc == EVC_ERANGE || rc == EVC_EINVAL)
		return serve_send_error(conn, rp, 400, "%s",
		                        cli_errmsg(store, rc));
	if (rc != EVC_OK) {
		serve_worker_store_failed(s, rc);
		return serve_send_store_failure(conn, rp, rc);
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		evc_hourly_free(r);
		return MHD_NO;
	}
	cli_hourly_json(f, &a, r, as_of);
	evc_hourly_free(r);
	return serve_send_stream(conn, rp, 200, "application/json", f, &buf,
	                         &len);
}
/* ---- /counts ------------------------------------------------------------ */

/* About how many bytes of JSON a counts query makes, from the width's
 * minutes and the customers it names: what the response budget holds for
 * it before it is built. 0 for a width the library will refuse. */
static size_t counts_size(evc_store *store, const struct counts_args *a)
{
	const char *w = a->bucket;
	const int64_t minutes =
	    (cli_floor_minute(a->end) - cli_floor_minute(a->start));
	int64_t width;
	char *end;

	if (strcmp(w, "minute") == 0)
		width = 1;
	else if (strcmp(w, "hour") == 0)
		width = 60;
	else if (strcmp(w, "day") == 0)
		width = 1440;
	else if (strcmp(w, "week") == 0)
		width = 10080;
	else if (strcmp(w, "month") == 0)
		width = 28 * 1440;
	else if (strcmp(w, "all") == 0)
		width = minutes;
	else if ((width = strtol(w, &end, 10)) > 0 &&
	         (strcmp(end, "m") == 0 || strcmp(end, "h") == 0))
		width *= *end == 'h' ? 60 : 1;
	else
		return 0;
	uint64_t customers = a->n_customers;
	if (a->all_customers && evc_customer_count(store, &customers) != EVC_OK)
		customers = 0;
	if (a->top && a->top < customers)
		customers = a->top;
	const uint64_t buckets = (uint64_t)(minutes / width) + 2;
	/* A bucket's JSON is about 90 bytes, a customer's head 60 with its
	 * id. */
	const double bytes = (double)customers * (double)(buckets * 90 + 320);
	return bytes > (double)SIZE_MAX / 2 ? SIZE_MAX / 2
	                                    : (size_t)bytes + 512;
}

static enum MHD_Result get_counts(struct server *s, struct MHD_Connection *conn,
                                  struct reply *rp)
{
	struct serve_params p = {0};
	struct counts_args a;
	evc_store *store;
	char *buf = NULL, err[512];
	size_t len = 0;
	int rc;

	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
	                            serve_collect_param, &p);
	if (!serve_parse_counts(&p, &a, err, sizeof(err))) {
		serve_params_free(&p);
		return serve_send_error(conn, rp, 400, "%s", err);
	}
	store = serve_worker_store(s);
	if (!store) {
		serve_params_free(&p);
		return serve_send_error(conn, rp, 500, "store unavailable");
	}
	/* Room for the result before it is built (sparse ones are smaller:
	 * never more than the budget is held for one); a result that grows
	 * past the budget is refused, never an out-of-memory. */
	size_t need = counts_size(store, &a);
	if (need > s->response_budget)
		need = s->response_budget;
	if (!serve_reserve(s, rp, need)) {
		serve_params_free(&p);
		return serve_send_busy(conn, rp);
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		serve_params_free(&p);
		return MHD_NO;
	}
	rc = cli_counts_json(f, store, &a, s->response_budget);
	serve_params_free(&p);
	if (rc != EVC_OK) {
		fclose(f);
		free(buf);
		if (rc == EVC_EABORTED)
			return serve_send_error(
			    conn, rp, 400,
			    "result too large: more than --max-response-memory "
			    "(%zu bytes); narrow the range or the customers, "
			    "or use a wider bucket, top or sparse",
			    s->response_budget);
		if (rc == EVC_EINVAL || rc == EVC_ERANGE || rc == EVC_ENOTFOUND)
			return serve_send_error(conn, rp, 400, "%s",
			                        cli_errmsg(store, rc));
		serve_worker_store_failed(s, rc);
		return serve_send_store_failure(conn, rp, rc);
	}
	return serve_send_stream(conn, rp, 200, "application/json", f, &buf,
	                         &len);
}

/* ---- /customers --------------------------------------------------------- */

/* The first query argument's name, if any: /customers takes none. */
static enum MHD_Result first_param(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
	const char **first = cls;

	*first = key;
	return MHD_NO;
}

/* The JSON of `customers --format json`, within the response budget as
 * /counts is: about 100 bytes a customer, plus its id, is held before it
 * is built, and a list that grows past the budget is refused. */
static enum MHD_Result
get_customers(struct server *s, struct MHD_Connection *conn, struct reply *rp)
{
	const char *param = NULL;
	evc_store *store;
	uint64_t customers;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, first_param,
	                          &param);
	if (param)
		return serve_send_error(conn, rp, 400,
		                        "unknown parameter \"%s\": /customers "
		                        "takes none",
		                        param);
	store = serve_worker_store(s);
	if (!store)
		return serve_send_error(conn, rp, 500, "store unavailable");
	if (evc_customer_count(store, &customers) != EVC_OK)
		customers = 0;
	const double bytes = (double)customers * 160 + 512;
	size_t need = bytes > (double)s->response_budget ? s->response_budget
	                                                 : (size_t)bytes;
	if (!serve_reserve(s, rp, need))
		return serve_send_busy(conn, rp);
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	rc = cli_customers_json(f, store, s->response_budget);
	if (rc != EVC_OK) {
		fclose(f);
		free(buf);
		if (rc == EVC_EABORTED)
			return serve_send_error(
			    conn, rp, 400,
			    "result too large: more than --max-response-memory "
			    "(%zu bytes)",
			    s->response_budget);
		serve_worker_store_failed(s, rc);
		return serve_send_store_failure(conn, rp, rc);
	}
	return serve_send_stream(conn, rp, 200, "application/json", f, &buf,
	                         &len);
}

/* ---- /healthz ----------------------------------------------------------- */

/* How long a probe of the store stands for /healthz: a scrape every few
 * seconds costs at most one read of the store's figures a second. */
#define PROBE_EVERY_NS 1000000000

static int64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* 200 when the store reads: it opens, its figures read (a pass over every
 * hour row's total and the edges' minutes, as `stats` does), and no
 * request found it damaged since the server started. Else 503, saying
 * why. */
static enum MHD_Result
get_healthz(struct server *s, struct MHD_Connection *conn, struct reply *rp)
{
	evc_store_summary sum;
	evc_store *store;
	char why[320];
	char *body;
	int rc;

	pthread_mutex_lock(&s->health_lock);
	if (s->damaged) {
		snprintf(why, sizeof(why), "store damaged: %s", s->damage);
		pthread_mutex_unlock(&s->health_lock);
		return serve_send_error(conn, rp, 503, "%s", why);
	}
	const int64_t now = monotonic_ns();
	if (s->probed_ns == 0 || now - s->probed_ns >= PROBE_EVERY_NS) {
		store = serve_worker_store(s);
		rc = store ? evc_store_info(store, &sum) : EVC_EIO;
		snprintf(s->probe_msg, sizeof(s->probe_msg), "%s",
		         store ? cli_errmsg(store, rc) : "cannot open it");
		s->probe_rc = rc;
		s->probed_ns = now;
		pthread_mutex_unlock(&s->health_lock);
		if (store && rc != EVC_OK)
			serve_worker_store_failed(s, rc);
		pthread_mutex_lock(&s->health_lock);
	}
	rc = s->probe_rc;
	snprintf(why, sizeof(why), "store unavailable: %s", s->probe_msg);
	pthread_mutex_unlock(&s->health_lock);
	if (rc != EVC_OK)
		return serve_send_error(conn, rp, 503, "%s", why);
	body = strdup("{\"status\":\"ok\"}\n");
	if (!body)
		return MHD_NO;
	return serve_send_body(conn, rp, 200, "application/json", body,
	                       strlen(body), NULL, false);
}

/* ---- request dispatch --------------------------------------------------- */

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

enum MHD_Result serve_handle(void *cls, struct MHD_Connection *conn,
                             const char *url, const char *method,
                             const char *version, const char *upload_data,
                             size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	struct request *req = *req_cls;
	struct reply rp = {.endpoint = EP_OTHER, .server = s};
	enum MHD_Result ret;
	uint64_t ns;

	/* A POST to /ingest is looked at once its headers are in (refused at
	 * once if it is to be), its body taken as it comes, and answered
	 * once it is all in. */
	if (req && strcmp(method, MHD_HTTP_METHOD_POST) == 0 &&
	    strcmp(url, "/ingest") == 0) {
		rp.endpoint = EP_INGEST;
		if (!req->headers_seen) {
			bool answered = true;
			req->headers_seen = true;
			if (!authorized(s, conn))
				ret = serve_send_error_ex(
				    conn, &rp, 401, NULL, true,
				    "missing or wrong bearer token");
			else if (req->bad_escape)
				ret = serve_send_error(
				    conn, &rp, 400,
				    "malformed or NUL %%-escape in the URL");
			else
				ret = serve_ingest_begin(
				    s, conn, &rp, &req->upload, &answered);
			if (!answered)
				return ret;
		} else if (*upload_data_size) {
			serve_ingest_data(s, req->upload, upload_data,
			                  *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		} else {
			serve_conn_answering(conn);
			ret = serve_ingest_end(s, conn, &rp, req->upload);
		}
		goto done;
	}

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

	serve_conn_answering(conn);
	if (strcmp(url, "/hourly") == 0)
		rp.endpoint = EP_HOURLY;
	else if (strcmp(url, "/counts") == 0)
		rp.endpoint = EP_COUNTS;
	else if (strcmp(url, "/ingest") == 0)
		rp.endpoint = EP_INGEST;
	else if (strcmp(url, "/customers") == 0)
		rp.endpoint = EP_CUSTOMERS;
	else if (strcmp(url, "/healthz") == 0)
		rp.endpoint = EP_HEALTHZ;
	else if (strcmp(url, "/metrics") == 0)
		rp.endpoint = EP_METRICS;
	else
		rp.endpoint = serve_page_endpoint(url);

	/* The page holds no counts: it asks for the token itself. */
	const bool tokenless = rp.endpoint == EP_HEALTHZ ||
	                       rp.endpoint == EP_PAGE ||
	                       rp.endpoint == EP_ASSETS;
	if (!tokenless && !authorized(s, conn))
		ret = serve_send_error_ex(conn, &rp, 401, NULL, true,
		                          "missing or wrong bearer token");
	else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	         strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		ret = serve_send_error_ex(
		    conn, &rp, 405,
		    rp.endpoint == EP_INGEST ? "GET, HEAD, POST" : "GET, HEAD",
		    false, "method %s not allowed", method);
	else if (req && req->bad_escape)
		ret = serve_send_error(conn, &rp, 400,
		                       "malformed or NUL %%-escape in the URL");
	else if (rp.endpoint == EP_HOURLY)
		ret = get_hourly(s, conn, &rp);
	else if (rp.endpoint == EP_COUNTS)
		ret = get_counts(s, conn, &rp);
	else if (rp.endpoint == EP_INGEST)
		ret = serve_get_ingest(s, conn, &rp);
	else if (rp.endpoint == EP_CUSTOMERS)
		ret = get_customers(s, conn, &rp);
	else if (rp.endpoint == EP_PAGE || rp.endpoint == EP_ASSETS)
		ret = serve_get_page(s, conn, &rp, url);
	else if (rp.endpoint == EP_HEALTHZ)
		ret = get_healthz(s, conn, &rp);
	else if (rp.endpoint == EP_METRICS)
		ret = serve_get_metrics(s, conn, &rp);
	else
		ret = serve_send_error(conn, &rp, 404, "no such endpoint");

done:
	if (req && rp.status) {
		ns = elapsed_ns(&req->start);
		serve_record_metrics(s, &rp, ns);
		if (!s->quiet)
			log_request(method, url, rp.status, ns);
	}
	return ret;
}

/* Called with the request line, before the headers: the start of the
 * request for its latency, and of its time in flight. */
void *serve_request_begin(void *cls, const char *uri,
                          struct MHD_Connection *conn)
{
	struct server *s = cls;
	struct request *req = malloc(sizeof(*req));

	if (req) {
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		req->headers_seen = false;
		req->bad_escape = bad_escape(uri);
		req->upload = NULL;
		atomic_fetch_add(&s->m.in_flight, 1);
	}
	return req;
}

void serve_request_end(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;

	/* Also when the connection is to close after it: harmless, it is
	 * unlisted as it does. */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		serve_conn_waiting(conn);
	if (*req_cls) {
		struct request *req = *req_cls;
		atomic_fetch_sub(&s->m.in_flight, 1);
		serve_upload_free(s, req->upload);
		free(req);
		*req_cls = NULL;
	}
}
