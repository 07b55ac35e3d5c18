/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli sources: the inputs the store has ingested (files and tracked
 * streams, retracted ones too), from evc_sources(), as table, csv or json.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A table is aligned on its widest cell, so its rows are kept until the
 * end; csv and json are streamed. */
struct table_row {
	evc_source_info info; /* path and realpath point to our copies */
	char *path;
	char *realpath;
};

#define ROWS(l) ((struct table_row *)(l)->rows)

static const char *kind(const evc_source_info *s)
{
	return s->stream ? "stream" : "file";
}

static void print_csv_row(const evc_source_info *s)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ], gone[EVC_TIME_BUFSZ];

	printf("%" PRId64 ",", s->id);
	cli_put_csv_field(stdout, s->path, strlen(s->path));
	putchar(',');
	cli_put_csv_field(stdout, s->realpath, strlen(s->realpath));
	printf(",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
	       ",%s,%s,%s,%s\n",
	       s->size, s->offset, s->rows_counted, s->rows_rejected,
	       s->rows_warned, cli_fmt_time(s->first_ingest, first),
	       cli_fmt_time(s->last_ingest, last), kind(s),
	       s->retracted ? cli_fmt_time(s->retracted, gone) : "");
}

static void print_json_row(const evc_source_info *s, bool first_row)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ], gone[EVC_TIME_BUFSZ];

	printf("%s{\"id\":%" PRId64 ",\"path\":", first_row ? "" : ",", s->id);
	cli_put_json_string(stdout, s->path);
	fputs(",\"realpath\":", stdout);
	cli_put_json_string(stdout, s->realpath);
	printf(
	    ",\"size\":%" PRIu64 ",\"offset\":%" PRIu64
	    ",\"rows_counted\":%" PRIu64 ",\"rows_rejected\":%" PRIu64
	    ",\"rows_warned\":%" PRIu64
	    ",\"first_ingest\":\"%s\",\"last_ingest\":\"%s\",\"kind\":\"%s\","
	    "\"retracted\":",
	    s->size, s->offset, s->rows_counted, s->rows_rejected,
	    s->rows_warned, cli_fmt_time(s->first_ingest, first),
	    cli_fmt_time(s->last_ingest, last), kind(s));
	if (s->retracted)
		printf("\"%s\"}", cli_fmt_time(s->retracted, gone));
	else
		fputs("null}", stdout);
}

static int keep_row(struct cli_listing *l, const evc_source_info *s)
{
	struct table_row *r = cli_listing_keep(l);

	if (!r)
		return 1;
	r->info = *s;
	r->path = strdup(s->path);
	r->realpath = strdup(s->realpath);
	if (!r->path || !r->realpath) {
		free(r->path);
		free(r->realpath);
		l->nomem = true;
		return 1;
	}
	r->info.path = r->path;
	r->info.realpath = r->realpath;
	return 0;
}

static int on_source(const evc_source_info *s, void *payload)
{
	struct cli_listing *l = payload;

	switch (l->format) {
	case FORMAT_CSV:
		print_csv_row(s);
		break;
	case FORMAT_JSON:
		print_json_row(s, l->n == 0);
		break;
	case FORMAT_TABLE:
	case FORMAT_CHART: /* not offered: parse_format() */
		if (keep_row(l, s))
			return 1;
		break;
	}
	return cli_listing_next(l);
}

static void print_table(const struct cli_listing *x)
{
	char first[EVC_TIME_BUFSZ], last[EVC_TIME_BUFSZ];
	/* Headers are the narrowest cells. */
	int w_id = 2, w_path = 4, w_size = 4, w_off = 6, w_cnt = 7, w_rej = 8,
	    w_warn = 6;
	char gone[EVC_TIME_BUFSZ];

	for (uint64_t i = 0; i < x->n; i++) {
		const evc_source_info *s = &ROWS(x)[i].info;
		char id[24];

		w_id = cli_max_int(w_id,
		                   snprintf(id, sizeof(id), "%" PRId64, s->id));
		w_path = cli_max_int(w_path, (int)strlen(s->path));
		w_size = cli_max_int(w_size, cli_width_u64(s->size));
		w_off = cli_max_int(w_off, cli_width_u64(s->offset));
		w_cnt = cli_max_int(w_cnt, cli_width_u64(s->rows_counted));
		w_rej = cli_max_int(w_rej, cli_width_u64(s->rows_rejected));
		w_warn = cli_max_int(w_warn, cli_width_u64(s->rows_warned));
	}
	printf("%*s  %-6s  %-*s  %*s  %*s  %*s  %*s  %*s  %-20s  %-20s  "
	       "%-20s  %s\n",
	       w_id, "id", "kind", w_path, "path", w_size, "size", w_off,
	       "offset", w_cnt, "counted", w_rej, "rejected", w_warn, "warned",
	       "first ingest", "last ingest", "retracted", "realpath");
	for (uint64_t i = 0; i < x->n; i++) {
		const evc_source_info *s = &ROWS(x)[i].info;

		printf("%*" PRId64 "  %-6s  %-*s  %*" PRIu64 "  %*" PRIu64
		       "  %*" PRIu64 "  %*" PRIu64 "  %*" PRIu64
		       "  %-20s  %-20s  %-20s  %s\n",
		       w_id, s->id, kind(s), w_path, s->path, w_size, s->size,
		       w_off, s->offset, w_cnt, s->rows_counted, w_rej,
		       s->rows_rejected, w_warn, s->rows_warned,
		       cli_fmt_time(s->first_ingest, first),
		       cli_fmt_time(s->last_ingest, last),
		       s->retracted ? cli_fmt_time(s->retracted, gone) : "-",
		       s->realpath);
	}
}

int cli_sources(evc_store *store, enum cli_format format)
{
	struct cli_listing l = {.format = format,
	                        .size = sizeof(struct table_row)};
	int rc;

	if (format == FORMAT_CSV)
		puts("id,path,realpath,size,offset,rows_counted,rows_rejected,"
		     "rows_warned,first_ingest,last_ingest,kind,retracted");
	else if (format == FORMAT_JSON)
		fputs("{\"sources\":[", stdout);
	rc = evc_sources(store, on_source, &l);
	if (rc == EVC_OK) {
		if (format == FORMAT_JSON)
			puts("]}");
		else if (format == FORMAT_TABLE)
			print_table(&l);
	}
	for (uint64_t i = 0; i < l.n && format == FORMAT_TABLE; i++) {
		free(ROWS(&l)[i].path);
		free(ROWS(&l)[i].realpath);
	}
	return cli_listing_end(&l, store, rc);
}
