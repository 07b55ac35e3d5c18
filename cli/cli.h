/* SPDX-License-Identifier: MIT */
/*
 * Shared by the CLI's files: evcount-cli.c parses the command line and
 * validates it, cli-ingest.c and cli-hourly.c call the library and report.
 */
#ifndef EVCOUNT_CLI_H
#define EVCOUNT_CLI_H

#include <evcount.h>

#include <stdbool.h>
#include <stdint.h>

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
};

struct ingest_args {
	bool strict;
	const char *rejects; /* NULL: report rejected rows on stderr */
	char **files;        /* "-" is stdin */
	int n_files;
};

struct hourly_args {
	const char *customer_id;
	int64_t start;
	int64_t end;
	enum cli_format format;
	bool sparse;
};

/* Ingest every file of `a` into `store`, reporting on stderr. Returns an
 * exit status. */
int cli_ingest(evc_store *store, const struct ingest_args *a);

/* Query `store` and print the result on stdout. Returns an exit status. */
int cli_hourly(evc_store *store, const struct hourly_args *a);

/* The library's message for the last failure on `store` (NULL: store-less),
 * never empty so that an error line always says something. */
const char *cli_errmsg(const evc_store *store, int rc);

/* Print a usage error with the --help hint; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* EVCOUNT_CLI_H */
