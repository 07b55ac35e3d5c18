/* SPDX-License-Identifier: MIT */
/*
 * Shared by the CLI's files: evcount-cli.c parses the command line and
 * validates it; the cli-*.c files, one per command (cli-correct.c for
 * retract, forget and prune), call the library and report; output.c holds
 * the escaping and formatting they share, chart.c the terminal chart of
 * hourly and counts.
 */
#ifndef EVCOUNT_CLI_H
#define EVCOUNT_CLI_H

#include <evcount.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROG "evcount-cli"

/* The exit statuses documented in --help. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

enum cli_format {
	FORMAT_TABLE,
	FORMAT_CSV,
	FORMAT_JSON,
	FORMAT_CHART,
};

/* How a chart is drawn: its width in columns, and whether with Unicode
 * blocks (else '#'). */
struct chart_style {
	int columns;
	bool unicode;
};

struct ingest_args {
	bool strict;
	bool follow;               /* EVC_INGEST_FOLLOW */
	bool force;                /* EVC_INGEST_FORCE */
	bool progress;             /* a progress bar if stderr is a tty */
	uint64_t checkpoint_bytes; /* 0: the library's default */
	const char *rejects;       /* NULL: report rejected rows on stderr */
	char **files;              /* "-" is stdin */
	int n_files;
	const char *stream; /* non-NULL: files[0] is a piece of this stream */
	uint64_t offset;    /* the stream offset of its first byte */
};

struct hourly_args {
	const char *customer_id;
	int64_t start;
	int64_t end;
	enum cli_format format;
	struct chart_style chart; /* FORMAT_CHART */
	bool sparse;
};

/* The most customers one counts query names, and the largest --top. */
#define COUNTS_MAX_CUSTOMERS 10000
#define COUNTS_MAX_TOP       1000000

struct counts_args {
	const char *const *customers; /* NULL with all_customers */
	size_t n_customers;
	bool all_customers;
	size_t top; /* 0: not asked */
	int64_t start;
	int64_t end;
	const char *bucket; /* as given, checked by the library */
	const char *tz;     /* "UTC" when not given */
	enum cli_format format;
	struct chart_style chart; /* FORMAT_CHART */
	bool sparse;
};

struct export_args {
	enum cli_format format; /* FORMAT_CSV or FORMAT_JSON */
	bool epoch;             /* minutes as epoch seconds */
};

/* Ingest every file of `a` into `store`, reporting on stderr. Returns an
 * exit status. */
int cli_ingest(evc_store *store, const struct ingest_args *a);

/* Query `store` and print the result on stdout. Returns an exit status. */
int cli_hourly(evc_store *store, const struct hourly_args *a);

/* `r`, the result of the query `a`, as one JSON object and a newline: the
 * output of hourly --format json, and the body of serve's /hourly; as_of
 * is evc_as_of() read before the query. */
void cli_hourly_json(FILE *f, const struct hourly_args *a,
                     const evc_hourly_result *r, int64_t as_of);

/* Count and print on stdout. Returns an exit status. */
int cli_counts(evc_store *store, const struct counts_args *a);

/* What cli_counts() prints as JSON, to `f`; with `limit`, a stop (1) once
 * more than *limit bytes were written. Returns the library's status. */
int cli_counts_json(FILE *f, evc_store *store, const struct counts_args *a,
                    size_t limit);

/* evcount-cli serve, with argv[0] "serve": parses its own options,
 * serves until SIGINT or SIGTERM. Returns an exit status. */
int cli_serve_main(const char *db, int argc, char **argv);

/* The one-shot form with --server: ingest `in`, then serve with the
 * defaults. Returns an exit status. */
int cli_serve_oneshot(const char *db, const struct ingest_args *in);

/* The corrections: take back what files added, remove customers, remove
 * what is before a time; each reports on stdout what it did (or, dry,
 * would do). Return an exit status. */
int cli_retract(evc_store *store, const char *const *files, size_t n,
                bool dry_run);
int cli_forget(evc_store *store, const char *const *ids, size_t n,
               bool dry_run);
int cli_prune(evc_store *store, int64_t before, bool dry_run);

/* List the sources of `store` on stdout. Returns an exit status. */
int cli_sources(evc_store *store, enum cli_format format);

/* Print every (customer, minute) count of `store` on stdout. Returns an
 * exit status. */
int cli_export(evc_store *store, const struct export_args *a);

/* List the customers of `store` with their totals and spans on stdout.
 * Returns an exit status. */
int cli_customers(evc_store *store, enum cli_format format);

/* What cli_customers() prints as JSON, to `f`; with `limit`, a stop once
 * more than *limit bytes were written (EVC_EABORTED). Returns the
 * library's status. */
int cli_customers_json(FILE *f, evc_store *store, size_t limit);

/* Print the summary of `store` on stdout. Returns an exit status. */
int cli_stats(evc_store *store, enum cli_format format);

/* Verify `store`, printing each problem found on stdout. Returns EXIT_OK
 * when it is sound, else EXIT_FAIL. */
int cli_check(evc_store *store, enum cli_format format);

/* Length of the valid UTF-8 sequence at `s` (1 for ASCII, NUL included), 0
 * when it is not UTF-8. */
size_t cli_utf8_len(const unsigned char *s);

/* Whether all of `s` is UTF-8, as customer ids are: an id that is not
 * could match nothing and would make JSON output invalid. */
bool cli_is_utf8(const char *s);

/* Floor division (C's truncates towards zero, wrong before 1970), and the
 * library's flooring of query bounds to the minute. */
int64_t cli_floor_div(int64_t a, int64_t b);
int64_t cli_floor_minute(int64_t t);

/* `s` as a JSON string: quoted and escaped, bytes that are not UTF-8
 * replaced by U+FFFD. */
void cli_put_json_string(FILE *f, const char *s);

/* One RFC 4180 field, quoted only when it has to be. */
void cli_put_csv_field(FILE *f, const char *s, size_t len);

/* Table alignment: the printed width of `v`, and the larger of two widths. */
int cli_width_u64(uint64_t v);
int cli_max_int(int a, int b);

/* The "as_of" member closing a query's JSON object: the time of the
 * store's last ingest (null before any), written as `,"as_of":...`. */
void cli_put_as_of(FILE *f, int64_t as_of);

/* `t` as YYYY-MM-DDTHH:MM:SSZ in `buf`, which is returned. */
const char *cli_fmt_time(int64_t t, char buf[EVC_TIME_BUFSZ]);

/* The chart the terminal takes (chart.c): COLUMNS, else the width of the
 * terminal on stdout, else 80; Unicode blocks when the locale is UTF-8 and
 * not `ascii`. */
struct chart_style cli_chart_style(bool ascii);

/* One chart, drawn bar by bar: cli_chart_start() with the labels' width and
 * the largest count, cli_chart_bar() per bucket, cli_chart_end() for the
 * footer. */
struct chart {
	FILE *f;
	bool unicode;
	int label_width, count_width, bar_width;
	uint64_t max;
	uint64_t scaled_max; /* max >> shift: see bar_units() */
	unsigned shift;
	bool any_partial;
};
void cli_chart_start(struct chart *c, FILE *f, const struct chart_style *s,
                     int label_width, uint64_t max);
void cli_chart_bar(struct chart *c, const char *label, uint64_t count,
                   bool partial);
void cli_chart_end(struct chart *c, uint64_t total);

/* A listing (sources, customers): csv and json rows are printed as they
 * come, a table's rows are kept to align it on its widest cell. */
struct cli_listing {
	enum cli_format format;
	uint64_t n; /* rows seen */
	void *rows; /* a table's rows, `size` bytes each */
	size_t size, cap;
	bool nomem;
};

/* Room for one more kept row: `l->n` indexes it; NULL (and l->nomem set)
 * when out of memory. */
void *cli_listing_keep(struct cli_listing *l);

/* After a row: 1 (stop) when stdout failed, a closed pipe or a full disk,
 * else 0. */
int cli_listing_next(struct cli_listing *l);

/* The end of a listing whose library call returned `rc` and whose kept
 * rows' own strings are freed: frees the rows, reports a failure, returns
 * the exit status. */
int cli_listing_end(struct cli_listing *l, const evc_store *store, int rc);

/* The library's message for the last failure on `store` (NULL: store-less),
 * never empty so that an error line always says something. */
const char *cli_errmsg(const evc_store *store, int rc);

/* A SIZE option's value (--checkpoint, --max-response-memory): bytes, or a
 * number with K, M or G (powers of 1024), more than 0. Returns EXIT_OK, or
 * EXIT_USAGE (reported). */
int cli_parse_size(const char *opt, const char *arg, uint64_t *out);

/* Print a usage error with the --help hint; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* EVCOUNT_CLI_H */
