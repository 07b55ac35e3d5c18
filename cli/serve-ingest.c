/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve's /ingest: POST a piece of a tracked stream
 * (evc_ingest_stream()) as a text/csv body, and GET where a stream stands.
 * The body is kept in an anonymous memory file as it arrives, within
 * --max-ingest-body and the server's memory budget, then ingested on the
 * worker's read-write store handle; the answer says what was counted and
 * the committed offset, where the next piece starts. Retries are safe: the
 * store keeps each stream's offset with its counts.
 */
#include "serve-query.h"
#include "serve.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

/* Rejected rows named in an answer; all of them are counted. */
#define REJECTS_SHOWN 10

struct upload {
	int fd; /* the body so far; -1 once refused */
	uint64_t size;
	size_t held; /* bytes of the server's budget it holds */
	const char *stream;
	uint64_t offset;
	bool too_large, no_room, write_failed;
	char *name; /* owned copy of the stream name */
};

struct reject {
	uint64_t line;
	char reason[160];
};

struct answer {
	uint64_t shown;
	struct reject v[REJECTS_SHOWN];
};

static void give_back(struct server *s, struct upload *u)
{
	atomic_fetch_sub(&s->held, u->held);
	u->held = 0;
}

void serve_upload_free(struct server *s, struct upload *u)
{
	if (!u)
		return;
	give_back(s, u);
	if (u->fd >= 0)
		close(u->fd);
	free(u->name);
	free(u);
}

/* The calling worker's read-write store, opened on its first ingest. */
static evc_store *writer_store(struct server *s)
{
	struct worker *w = serve_worker(s);
	int rc;

	if (w && !w->writer) {
		rc = evc_open(&w->writer, s->db, EVC_OPEN_READWRITE);
		if (rc != EVC_OK)
			fprintf(stderr, PROG ": serve: %s\n",
			        cli_errmsg(NULL, rc));
	}
	return w ? w->writer : NULL;
}

static bool is_csv(const char *type)
{
	const size_t n = strcspn(type, " ;");
	return n == 8 && strncasecmp(type, "text/csv", 8) == 0;
}

/* The stream and offset of the query string. */
static bool parse_query(struct MHD_Connection *conn, bool need_offset,
                        char **name, uint64_t *offset, char *err, size_t errlen)
{
	struct serve_params p = {0};
	const char *stream;

	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
	                            serve_collect_param, &p);
	const bool ok =
	    serve_parse_ingest(&p, need_offset, &stream, offset, err, errlen);
	serve_params_free(&p);
	if (ok && !(*name = strdup(stream)))
		return query_fail(err, errlen, "out of memory");
	return ok;
}

enum MHD_Result serve_ingest_begin(struct server *s,
                                   struct MHD_Connection *conn,
                                   struct reply *rp, struct upload **out,
                                   bool *answered)
{
	const char *type, *length;
	char err[512];
	struct upload *u;

	*out = NULL;
	*answered = true;
	if (!s->ingest_enabled)
		return serve_send_error(conn, rp, 403,
		                        "ingest over HTTP is off (start the "
		                        "server with --ingest-enabled)");
	type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                   MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!type || !is_csv(type))
		return serve_send_error(conn, rp, 415,
		                        "the body must be text/csv, not %s",
		                        type ? type : "untyped");
	length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length && strtoull(length, NULL, 10) > s->max_ingest_body)
		return serve_send_error(conn, rp, 413,
		                        "body of %s bytes, past the limit of "
		                        "%" PRIu64 " bytes (--max-ingest-body)",
		                        length, s->max_ingest_body);
	if (!(u = calloc(1, sizeof(*u))))
		return MHD_NO;
	u->fd = -1;
	if (!parse_query(conn, true, &u->name, &u->offset, err, sizeof(err))) {
		free(u);
		return serve_send_error(conn, rp, 400, "%s", err);
	}
	u->fd = memfd_create("evcount-ingest", MFD_CLOEXEC);
	if (u->fd < 0) {
		serve_upload_free(s, u);
		return serve_send_error(
		    conn, rp, 500, "cannot hold the body: %s", strerror(errno));
	}
	*out = u;
	*answered = false;
	return MHD_YES;
}

void serve_ingest_data(struct server *s, struct upload *u, const char *data,
                       size_t n)
{
	if (u->too_large || u->no_room || u->write_failed)
		return;
	if (n > s->max_ingest_body - u->size) {
		u->too_large = true;
		return;
	}
	/* The body counts against the memory responses may hold. */
	size_t held = atomic_load(&s->held);
	do {
		if (held > s->response_budget ||
		    n > s->response_budget - held) {
			u->no_room = true;
			return;
		}
	} while (!atomic_compare_exchange_weak(&s->held, &held, held + n));
	u->held += n;
	for (size_t done = 0; done < n;) {
		const ssize_t w = write(u->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			u->write_failed = true;
			return;
		}
		done += (size_t)w;
	}
	u->size += n;
}

static int keep_reject(const evc_reject *r, void *payload)
{
	struct answer *a = payload;

	if (!r->warning && a->shown < REJECTS_SHOWN) {
		a->v[a->shown].line = r->line;
		snprintf(a->v[a->shown].reason, sizeof(a->v[0].reason), "%s",
		         r->reason);
		a->shown++;
	}
	return 0;
}

/* {"error":...,"stream":...,"committed_offset":N}: a refusal that says
 * where to go on from. */
static enum MHD_Result send_refusal(struct MHD_Connection *conn,
                                    struct reply *rp, unsigned status,
                                    const char *stream, uint64_t committed,
                                    const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return MHD_NO;
	fputs("{\"error\":", f);
	cli_put_json_string(f, msg);
	fputs(",\"stream\":", f);
	cli_put_json_string(f, stream);
	fprintf(f, ",\"committed_offset\":%" PRIu64 "}\n", committed);
	return serve_send_stream(conn, rp, status, "application/json", f, &buf,
	                         &len);
}

enum MHD_Result serve_ingest_end(struct server *s, struct MHD_Connection *conn,
                                 struct reply *rp, struct upload *u)
{
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st;
	struct answer a = {0};
	uint64_t committed = 0;
	evc_store *store;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (u->too_large)
		return serve_send_error(conn, rp, 413,
		                        "body past the limit of %" PRIu64
		                        " bytes (--max-ingest-body)",
		                        s->max_ingest_body);
	if (u->no_room)
		return serve_send_busy(conn, rp);
	if (u->write_failed || lseek(u->fd, 0, SEEK_SET) != 0)
		return serve_send_error(conn, rp, 500, "cannot hold the body");
	if (!(store = writer_store(s)))
		return serve_send_error(conn, rp, 500, "store unavailable");
	opts.on_reject = keep_reject;
	opts.payload = &a;
	rc = evc_ingest_stream(store, u->name, u->offset, u->fd, &opts, &st,
	                       &committed);
	give_back(s, u);
	if (rc == EVC_EOFFSET)
		return send_refusal(conn, rp, 409, u->name, committed,
		                    cli_errmsg(store, rc));
	if (rc == EVC_EBUSY)
		return send_refusal(conn, rp, 503, u->name, committed,
		                    cli_errmsg(store, rc));
	if (rc == EVC_EINVAL)
		return serve_send_error(conn, rp, 400, "%s",
		                        cli_errmsg(store, rc));
	if (rc != EVC_OK) {
		serve_worker_writer_failed(s, rc);
		return serve_send_store_failure(conn, rp, rc);
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	fputs("{\"stream\":", f);
	cli_put_json_string(f, u->name);
	fprintf(f,
	        ",\"offset\":%" PRIu64 ",\"committed_offset\":%" PRIu64
	        ",\"rows_counted\":%" PRIu64 ",\"rows_rejected\":%" PRIu64
	        ",\"rows_warned\":%" PRIu64 ",\"bytes_skipped\":%" PRIu64
	        ",\"held_back\":%s,\"rejects\":[",
	        u->offset, committed, st.rows_counted, st.rows_rejected,
	        st.rows_warned, st.bytes_skipped,
	        st.rows_held ? "true" : "false");
	for (uint64_t i = 0; i < a.shown; i++) {
		fprintf(f, "%s{\"line\":%" PRIu64 ",\"reason\":", i ? "," : "",
		        a.v[i].line);
		cli_put_json_string(f, a.v[i].reason);
		fputc('}', f);
	}
	fputs("]}\n", f);
	return serve_send_stream(conn, rp, 200, "application/json", f, &buf,
	                         &len);
}

enum MHD_Result serve_get_ingest(struct server *s, struct MHD_Connection *conn,
                                 struct reply *rp)
{
	uint64_t committed, unused;
	char err[512], *name = NULL;
	evc_store *store;
	int rc;

	if (!parse_query(conn, false, &name, &unused, err, sizeof(err)))
		return serve_send_error(conn, rp, 400, "%s", err);
	if (!(store = serve_worker_store(s))) {
		free(name);
		return serve_send_error(conn, rp, 500, "store unavailable");
	}
	rc = evc_stream_offset(store, name, &committed);
	if (rc != EVC_OK) {
		free(name);
		if (rc == EVC_EINVAL)
			return serve_send_error(conn, rp, 400, "%s",
			                        cli_errmsg(store, rc));
		serve_worker_store_failed(s, rc);
		return serve_send_error(conn, rp, 500, "store failure");
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		free(name);
		return MHD_NO;
	}
	fputs("{\"stream\":", f);
	cli_put_json_string(f, name);
	fprintf(f, ",\"committed_offset\":%" PRIu64 "}\n", committed);
	free(name);
	return serve_send_stream(conn, rp, 200, "application/json", f, &buf,
	                         &len);
}
