/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli: command line front end of libevcount.
 *
 *   evcount-cli [--db PATH] ingest [--strict] [--follow] ... FILE...
 *   evcount-cli [--db PATH] hourly --customer-id ID --start TS --end TS ...
 *   evcount-cli [--db PATH] sources [--format FMT]
 *   evcount-cli [--db PATH] export [--format FMT] [--epoch]
 *   evcount-cli [--db PATH] customers [--format FMT]
 *   evcount-cli [--db PATH] stats [--format FMT]
 *   evcount-cli FILE --customer-id ID --start TS --end TS ...   (one-shot)
 *
 * This file only turns the command line into checked arguments; everything
 * is done by the library, called from cli-ingest.c, cli-hourly.c,
 * cli-sources.c, cli-export.c, cli-customers.c and cli-stats.c.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EVCOUNT_CLI_VERSION
#define EVCOUNT_CLI_VERSION EVC_VERSION_STRING
#endif

/* The command line forms; an option lists those it is valid in. */
enum form {
	FORM_TOOL = 0x0u, /* no form chosen yet: options before a subcommand */
	FORM_INGEST = 0x1u,
	FORM_HOURLY = 0x2u,
	FORM_ONESHOT = 0x4u,
	FORM_SOURCES = 0x8u,
	FORM_EXPORT = 0x10u,
	FORM_SERVE = 0x20u, /* parses its own options, in cli-serve.c */
	FORM_CUSTOMERS = 0x40u,
	FORM_STATS = 0x80u,
};
#define FORM_ALL                                                               \
	(FORM_INGEST | FORM_HOURLY | FORM_ONESHOT | FORM_SOURCES |             \
	 FORM_EXPORT | FORM_CUSTOMERS | FORM_STATS)
/* The listings: --format table|json|csv and nothing else. */
#define FORM_LISTING (FORM_SOURCES | FORM_CUSTOMERS | FORM_STATS)
#define FORM_QUERY   (FORM_HOURLY | FORM_ONESHOT)
#define FORM_LOADER  (FORM_INGEST | FORM_ONESHOT)

enum opt_id {
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_DB = 256, /* past every char so that no id is a short option */
	OPT_STRICT,
	OPT_REJECTS,
	OPT_CUSTOMER,
	OPT_START,
	OPT_END,
	OPT_FORMAT,
	OPT_SPARSE,
	OPT_FOLLOW,
	OPT_FORCE,
	OPT_CHECKPOINT,
	OPT_NO_PROGRESS,
	OPT_EPOCH,
	OPT_SERVER,
};

struct opt_def {
	const char *name;
	int has_arg;
	int id;
	unsigned forms;
	const char *arg;  /* placeholder shown in help */
	const char *help; /* NULL: an alias, left out of help */
};

/* An option may have several entries with the same id and name, for forms
 * that need it described differently (--format); getopt_long() is given
 * the first that applies. */
static const struct opt_def opt_defs[] = {
    {"db", required_argument, OPT_DB, FORM_ALL, "PATH",
     "the store (default: $EVCOUNT_DB, else ./evcount.db)"},
    {"strict", no_argument, OPT_STRICT, FORM_LOADER, NULL,
     "a rejected row fails the ingest of its FILE"},
    {"rejects", required_argument, OPT_REJECTS, FORM_LOADER, "FILE",
     "write rejected rows to FILE as CSV, not to stderr"},
    {"follow", no_argument, OPT_FOLLOW, FORM_LOADER, NULL,
     "hold back an unterminated last line (FILE grows)"},
    {"force", no_argument, OPT_FORCE, FORM_LOADER, NULL,
     "ingest a changed FILE again, as a new source"},
    {"checkpoint", required_argument, OPT_CHECKPOINT, FORM_LOADER, "SIZE",
     "commit every SIZE bytes (suffix K, M or G; 256M)"},
    {"no-progress", no_argument, OPT_NO_PROGRESS, FORM_LOADER, NULL,
     "no progress bar (else drawn on a terminal)"},
    {"customer-id", required_argument, OPT_CUSTOMER, FORM_QUERY, "ID",
     "the customer to count (alias: --customer_id)"},
    {"customer_id", required_argument, OPT_CUSTOMER, FORM_QUERY, "ID", NULL},
    {"start", required_argument, OPT_START, FORM_QUERY, "TS",
     "start of the range, inclusive"},
    {"end", required_argument, OPT_END, FORM_QUERY, "TS",
     "end of the range, exclusive"},
    {"format", required_argument, OPT_FORMAT, FORM_QUERY | FORM_LISTING, "FMT",
     "table, json or csv; default: table on a tty, else csv"},
    {"format", required_argument, OPT_FORMAT, FORM_EXPORT, "FMT",
     "export: csv or json; default: csv"},
    {"epoch", no_argument, OPT_EPOCH, FORM_EXPORT, NULL,
     "export: minutes as epoch seconds"},
    {"sparse", no_argument, OPT_SPARSE, FORM_QUERY, NULL,
     "leave out the hours without events"},
    {"server", no_argument, OPT_SERVER, FORM_ONESHOT, NULL,
     "one-shot: after the ingest, serve queries over HTTP as serve does"},
    {"help", no_argument, OPT_HELP, FORM_ALL, NULL, "print this help and exit"},
    {"version", no_argument, OPT_VERSION, FORM_ALL, NULL,
     "print the versions and exit"},
};
#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))
/* parse_options() records the options seen as bits of an unsigned. */
_Static_assert(N_OPTS <= 32, "too many options for the seen mask");

/* Everything the command line said, before it is checked. */
struct cli {
	enum form form;
	const char *db;
	bool strict;
	const char *rejects;
	const char *customer_id;
	const char *start;
	const char *end;
	const char *format;
	bool sparse;
	bool follow;
	bool force;
	bool no_progress;
	const char *checkpoint;
	bool epoch;
	bool server;
	char **operands;
	int n_operands;
};

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	return EXIT_USAGE;
}

const char *cli_errmsg(const evc_store *store, int rc)
{
	const char *msg = evc_errmsg(store);

	return msg && *msg ? msg : evc_strerror(rc);
}

static const char *form_name(enum form form)
{
	switch (form) {
	case FORM_INGEST:
		return "ingest";
	case FORM_HOURLY:
		return "hourly";
	case FORM_ONESHOT:
		return "the one-shot form";
	case FORM_SOURCES:
		return "sources";
	case FORM_EXPORT:
		return "export";
	case FORM_CUSTOMERS:
		return "customers";
	case FORM_STATS:
		return "stats";
	default:
		return PROG;
	}
}

static void print_options(unsigned forms)
{
	char lhs[64];

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (!d->help || !(d->forms & forms))
			continue;
		if (d->id < 256)
			snprintf(lhs, sizeof(lhs), "-%c, --%s", d->id, d->name);
		else if (d->arg)
			snprintf(lhs, sizeof(lhs), "    --%s %s", d->name,
			         d->arg);
		else
			snprintf(lhs, sizeof(lhs), "    --%s", d->name);
		printf("  %-24s %s\n", lhs, d->help);
	}
}

static void print_help(enum form form)
{
	unsigned forms = form == FORM_TOOL ? FORM_ALL : (unsigned)form;
	const char *lead = "Usage: ";

	/* Each form's synopsis; the continuation lines line up under it. */
	if (forms & FORM_INGEST) {
		printf("%s" PROG " [--db PATH] ingest [--strict] "
		       "[--rejects FILE] [--follow]\n"
		       "                   [--force] [--checkpoint SIZE] "
		       "[--no-progress] FILE...\n",
		       lead);
		lead = "       ";
	}
	if (forms & FORM_HOURLY) {
		printf("%s" PROG " [--db PATH] hourly --customer-id ID "
		       "--start TS --end TS\n"
		       "                   [--format table|json|csv] "
		       "[--sparse]\n",
		       lead);
		lead = "       ";
	}
	if (forms & FORM_SOURCES) {
		printf("%s" PROG " [--db PATH] sources "
		       "[--format table|json|csv]\n",
		       lead);
		lead = "       ";
	}
	if (forms & FORM_EXPORT) {
		printf("%s" PROG " [--db PATH] export [--format csv|json] "
		       "[--epoch]\n",
		       lead);
		lead = "       ";
	}
	if (forms & FORM_CUSTOMERS) {
		printf("%s" PROG " [--db PATH] customers "
		       "[--format table|json|csv]\n",
		       lead);
		lead = "       ";
	}
	if (forms & FORM_STATS) {
		printf("%s" PROG " [--db PATH] stats "
		       "[--format table|json|csv]\n",
		       lead);
		lead = "       ";
	}
	if (forms & FORM_ONESHOT) {
		printf(
		    "%s" PROG " [--db PATH] FILE --customer-id ID "
		    "--start TS --end TS\n"
		    "                   [--format FMT] [--sparse] [--strict] "
		    "[--rejects FILE] ...\n",
		    lead);
	}
	putchar('\n');

	if (form == FORM_TOOL) {
		puts("Exact per-customer event counts per UTC hour, from a "
		     "store of per-minute counts.\n"
		     "\n"
		     "Commands:\n"
		     "  ingest     add the events of CSV FILEs to the store, "
		     "each exactly once\n"
		     "             ('-' reads stdin)\n"
		     "  hourly     print a customer's event count for each UTC "
		     "hour in [start, end)\n"
		     "  sources    list the files the store has ingested\n"
		     "  customers  list the customers with their totals and "
		     "spans\n"
		     "  stats      summarise the store: customers, sources, "
		     "rows, span, size\n"
		     "  export     print every (customer, minute) count of the "
		     "store\n"
		     "  serve      answer hourly queries over HTTP\n"
		     "  FILE       one-shot: ingest FILE, then query it as "
		     "hourly does\n"
		     "\n"
		     "'" PROG " COMMAND --help' describes one command.\n");
	}
	if (forms & FORM_LOADER) {
		puts(
		    "Input rows are customer_id,event_type,transaction_id,"
		    "timestamp (CSV, optional\n"
		    "header line). Each FILE is counted exactly once: the "
		    "store remembers how far\n"
		    "it has read it, under whatever path, so ingesting it "
		    "again counts only the\n"
		    "lines appended since (\"already ingested: 0 new rows\" "
		    "when there are none), and\n"
		    "a FILE whose ingested part changed is refused (--force "
		    "counts it again, as a\n"
		    "new source). Counts are committed every --checkpoint "
		    "bytes: an interrupted\n"
		    "ingest keeps them and the next one resumes there "
		    "(--strict: one transaction).\n"
		    "A last line without a newline is counted, unless --follow "
		    "holds it back until\n"
		    "it is complete. stdin ('-') is a stream, not a source: it "
		    "is counted each\n"
		    "time. Ingest stops at the first FILE that fails.\n"
		    "\n"
		    "A rejected row is reported (at most 10 per FILE on "
		    "stderr) and skipped;\n"
		    "--rejects writes them all as CSV records line,reason,text "
		    "(file,line,reason,\n"
		    "text with several FILEs). Each FILE ends with a summary "
		    "line on stderr.\n");
	}
	if (forms & FORM_QUERY) {
		puts("TS is YYYY-MM-DD (midnight UTC) or "
		     "YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z,\n"
		     "+HH:MM, -HH:MM or nothing (UTC). Both bounds are floored "
		     "to the minute; an hour\n"
		     "only partly inside the range is marked partial. Output "
		     "goes to stdout, one\n"
		     "row per hour (csv: hour,count,partial; json: one "
		     "object).\n");
	}
	if (forms & FORM_SOURCES) {
		puts("sources lists each ingested FILE: id, path (as last "
		     "given), realpath, size,\n"
		     "offset (bytes ingested), rows counted, rejected and "
		     "warned, first and last\n"
		     "ingest time (csv: a header line then one row per source; "
		     "json: one object).\n");
	}
	if (forms & FORM_EXPORT) {
		puts("export prints every non-zero count, ordered by customer "
		     "id then minute (csv:\n"
		     "customer_id,minute,count; json: one object "
		     "{\"counts\":[...]}).\n");
	}
	if (forms & FORM_CUSTOMERS) {
		puts("customers lists each customer id (ordered bytewise) "
		     "with its total count\n"
		     "and the first and last minute with events (csv: "
		     "customer_id,total,\n"
		     "first_minute,last_minute; json: one object).\n");
	}
	if (forms & FORM_STATS) {
		puts("stats summarises the store: customers, sources (files "
		     "ingested), rows_counted\n"
		     "(every counted event, stdin included), rows_rejected (by "
		     "ingests of files),\n"
		     "first_minute and last_minute with events, file_size "
		     "(bytes of the database)\n"
		     "(csv: a header line and one row; json: one object).\n");
	}
	puts("Options:");
	print_options(forms);
	puts("\n"
	     "Environment:\n"
	     "  EVCOUNT_DB   the store when --db is not given\n"
	     "\n"
	     "Exit status:\n"
	     "  0  success\n"
	     "  1  failure: store, input or query error, a rejected row "
	     "with --strict,\n"
	     "     a FILE changed since it was ingested\n"
	     "  2  usage error: bad option or argument");
}

static void print_version(void)
{
	printf(PROG " " EVCOUNT_CLI_VERSION " (libevcount %s, SQLite %s)\n",
	       evc_version(), evc_sqlite_version());
}

/* The option an argument names, exactly or as an unambiguous abbreviation
 * (*ambiguous tells), whatever the form: getopt_long() only knows those of
 * the form at hand, and an option of another form is no typo. */
static const struct opt_def *find_opt(const char *arg, bool *ambiguous)
{
	const struct opt_def *found = NULL;
	size_t len;

	*ambiguous = false;
	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	arg += 2;
	len = strcspn(arg, "=");
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (strncmp(d->name, arg, len) != 0)
			continue;
		if (strlen(d->name) == len)
			return d;
		if (found && found->id != d->id)
			*ambiguous = true;
		found = d;
	}
	return *ambiguous ? NULL : found;
}

/* How getopt_long() said an option is wrong, as a usage error. */
static int bad_option(int ret, char **argv, enum form form)
{
	const char *arg = argv[optind - 1];
	const struct opt_def *d;
	int len = (int)strcspn(arg, "=");
	bool ambiguous;

	if (ret == ':')
		return cli_usage_error("option '%.*s' needs a value", len, arg);
	if (optopt >= 256)
		return cli_usage_error("option '%.*s' does not take a value",
		                       len, arg);
	if (optopt > 0)
		return cli_usage_error("unknown option '-%c'", optopt);
	d = find_opt(arg, &ambiguous);
	if (d)
		return cli_usage_error("option '--%s' does not apply to %s",
		                       d->name, form_name(form));
	if (ambiguous)
		return cli_usage_error("ambiguous option '%.*s'", len, arg);
	return cli_usage_error("unknown option '%.*s'", len, arg);
}

/* Parse the options of argv[1..] that `form` accepts, in getopt_long()'s
 * way: `stop` leaves the first operand and what follows it unparsed, else
 * operands are moved to the end. `seen` collects the opt_defs indexes of the
 * long options given. Returns -1 to go on, EXIT_OK after --help or
 * --version, EXIT_USAGE on a bad option. */
static int parse_options(struct cli *c, int argc, char **argv, enum form form,
                         bool stop, unsigned *seen)
{
	struct option longopts[N_OPTS + 1];
	unsigned forms = form == FORM_TOOL ? FORM_ALL : (unsigned)form;
	size_t n = 0;
	int map[N_OPTS];
	int ret, idx;

	for (size_t i = 0; i < N_OPTS; i++) {
		bool dup = false;

		if (!(opt_defs[i].forms & forms))
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup ||
			      strcmp(longopts[j].name, opt_defs[i].name) == 0;
		if (dup)
			continue;
		longopts[n] =
		    (struct option){opt_defs[i].name, opt_defs[i].has_arg, NULL,
		                    opt_defs[i].id};
		map[n++] = (int)i;
	}
	longopts[n] = (struct option){0};

	/* 0 makes glibc start afresh: this is the second scan of argv. */
	optind = 0;
	opterr = 0;
	for (;;) {
		idx = -1;
		ret = getopt_long(argc, argv, stop ? "+:hV" : ":hV", longopts,
		                  &idx);
		if (ret == -1)
			break;
		if (idx >= 0)
			*seen |= 1u << map[idx];
		switch (ret) {
		case OPT_HELP:
			print_help(form);
			return EXIT_OK;
		case OPT_VERSION:
			print_version();
			return EXIT_OK;
		case OPT_DB:
			c->db = optarg;
			break;
		case OPT_STRICT:
			c->strict = true;
			break;
		case OPT_REJECTS:
			c->rejects = optarg;
			break;
		case OPT_CUSTOMER:
			c->customer_id = optarg;
			break;
		case OPT_START:
			c->start = optarg;
			break;
		case OPT_END:
			c->end = optarg;
			break;
		case OPT_FORMAT:
			c->format = optarg;
			break;
		case OPT_SPARSE:
			c->sparse = true;
			break;
		case OPT_FOLLOW:
			c->follow = true;
			break;
		case OPT_FORCE:
			c->force = true;
			break;
		case OPT_CHECKPOINT:
			c->checkpoint = optarg;
			break;
		case OPT_NO_PROGRESS:
			c->no_progress = true;
			break;
		case OPT_EPOCH:
			c->epoch = true;
			break;
		case OPT_SERVER:
			c->server = true;
			break;
		default:
			return bad_option(ret, argv, form);
		}
	}
	return -1;
}

/* Whether option `id` is valid in `form`, by any of its entries. */
static bool applies(int id, enum form form)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opt_defs[i].id == id && (opt_defs[i].forms & form))
			return true;
	return false;
}

/* Fill `c` from the command line. Returns -1 to go on, or an exit status:
 * EXIT_OK after --help or --version, EXIT_USAGE on a bad option. */
static int parse_command_line(struct cli *c, int argc, char **argv)
{
	unsigned seen = 0;
	const char *word;
	char **sub_argv;
	int sub_argc, rc;

	/* The options before the first operand, which then tells the form. */
	rc = parse_options(c, argc, argv, FORM_TOOL, true, &seen);
	if (rc != -1)
		return rc;
	if (optind >= argc)
		return cli_usage_error("missing command (ingest, hourly, "
		                       "sources, export, customers or stats) "
		                       "or FILE");
	word = argv[optind];
	if (strcmp(word, "ingest") == 0)
		c->form = FORM_INGEST;
	else if (strcmp(word, "hourly") == 0)
		c->form = FORM_HOURLY;
	else if (strcmp(word, "sources") == 0)
		c->form = FORM_SOURCES;
	else if (strcmp(word, "export") == 0)
		c->form = FORM_EXPORT;
	else if (strcmp(word, "customers") == 0)
		c->form = FORM_CUSTOMERS;
	else if (strcmp(word, "stats") == 0)
		c->form = FORM_STATS;
	else if (strcmp(word, "serve") == 0)
		c->form = FORM_SERVE;
	else
		c->form = FORM_ONESHOT;
	/* serve has options of its own: only --db may come before it. */
	if (c->form == FORM_SERVE) {
		for (size_t i = 0; i < N_OPTS; i++) {
			if ((seen & (1u << i)) && opt_defs[i].id != OPT_DB)
				return cli_usage_error(
				    "option '--%s' does not apply to serve",
				    opt_defs[i].name);
		}
		c->operands = argv + optind;
		c->n_operands = argc - optind;
		return -1;
	}
	for (size_t i = 0; i < N_OPTS; i++) {
		if ((seen & (1u << i)) && !applies(opt_defs[i].id, c->form))
			return cli_usage_error(
			    "option '--%s' does not apply to %s",
			    opt_defs[i].name, form_name(c->form));
	}

	/* The rest, as if the command word were the program name: for the
	 * one-shot form that word is the FILE, picked up below. */
	sub_argc = argc - optind;
	sub_argv = argv + optind;
	rc = parse_options(c, sub_argc, sub_argv, c->form, false, &seen);
	if (rc != -1)
		return rc;
	c->operands = sub_argv + optind;
	c->n_operands = sub_argc - optind;
	if (c->form == FORM_ONESHOT) {
		c->operands = sub_argv;
		if (c->n_operands > 0)
			return cli_usage_error("unexpected argument '%s' (the "
			                       "one-shot form takes one FILE)",
			                       sub_argv[optind]);
		c->n_operands = 1;
	}
	return -1;
}

static const char *db_path(const struct cli *c)
{
	const char *env;

	if (c->db)
		return c->db;
	env = getenv("EVCOUNT_DB");
	return env && *env ? env : "./evcount.db";
}

static int parse_time_arg(const char *opt, const char *arg, int64_t *out)
{
	const char *msg;

	if (evc_parse_time(arg, out) == EVC_OK)
		return EXIT_OK;
	msg = cli_errmsg(NULL, EVC_EPARSE);
	/* Quote the argument once, whether or not the library did. */
	if (strstr(msg, arg))
		return cli_usage_error("--%s: %s", opt, msg);
	return cli_usage_error("--%s: bad timestamp \"%s\": %s", opt, arg, msg);
}

/* --format, of which export has no table: its rows are not for reading. */
static int parse_format(const struct cli *c, bool table_ok,
                        enum cli_format dflt, enum cli_format *out)
{
	if (!c->format)
		*out = dflt;
	else if (table_ok && strcmp(c->format, "table") == 0)
		*out = FORMAT_TABLE;
	else if (strcmp(c->format, "csv") == 0)
		*out = FORMAT_CSV;
	else if (strcmp(c->format, "json") == 0)
		*out = FORMAT_JSON;
	else
		return cli_usage_error(
		    "--format: unknown format \"%s\" (use %s)", c->format,
		    table_ok ? "table, json or csv" : "csv or json");
	return EXIT_OK;
}

/* The default for output read by people or by programs alike. */
static enum cli_format tty_format(void)
{
	return isatty(STDOUT_FILENO) ? FORMAT_TABLE : FORMAT_CSV;
}

/* SIZE of --checkpoint: bytes, or K, M, G (powers of 1024). */
static int parse_size(const char *opt, const char *arg, uint64_t *out)
{
	unsigned long long n;
	unsigned shift = 0;
	char *end;

	/* strtoull() would take blanks and a sign. */
	if (*arg < '0' || *arg > '9')
		goto bad;
	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno == ERANGE)
		goto bad;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	}
	if (*end || n > (UINT64_MAX >> shift))
		goto bad;
	if (n == 0)
		return cli_usage_error("--%s: SIZE must be more than 0", opt);
	*out = (uint64_t)n << shift;
	return EXIT_OK;
bad:
	return cli_usage_error("--%s: bad size \"%s\" (bytes, or a number "
	                       "with K, M or G)",
	                       opt, arg);
}

static int check_hourly_args(const struct cli *c, struct hourly_args *q)
{
	int rc;

	if (!c->customer_id)
		return cli_usage_error("%s: missing --customer-id",
		                       form_name(c->form));
	if (!*c->customer_id)
		return cli_usage_error("--customer-id: empty customer id");
	if (!cli_is_utf8(c->customer_id))
		return cli_usage_error("--customer-id: not valid UTF-8");
	q->customer_id = c->customer_id;
	if (!c->start)
		return cli_usage_error("%s: missing --start",
		                       form_name(c->form));
	if (!c->end)
		return cli_usage_error("%s: missing --end", form_name(c->form));
	rc = parse_time_arg("start", c->start, &q->start);
	if (rc != EXIT_OK)
		return rc;
	rc = parse_time_arg("end", c->end, &q->end);
	if (rc != EXIT_OK)
		return rc;
	/* Checked here rather than left to evc_hourly() so that the message
	 * names the arguments. */
	if (cli_floor_minute(q->start) >= cli_floor_minute(q->end))
		return cli_usage_error(
		    "--start \"%s\" is not before --end \"%s\"%s", c->start,
		    c->end,
		    q->start < q->end ? " once both are floored to the minute"
		                      : "");
	q->sparse = c->sparse;
	return parse_format(c, true, tty_format(), &q->format);
}

static int open_store(evc_store **store, const char *path, unsigned flags)
{
	int rc = evc_open(store, path, flags);

	if (rc == EVC_OK)
		return EXIT_OK;
	fprintf(stderr, PROG ": %s\n", cli_errmsg(NULL, rc));
	/* A URI may hold a password: the line above names it masked. */
	if (rc == EVC_ENOTFOUND && strstr(path, "://"))
		fprintf(stderr, PROG ": no store there: ingest into it first, "
		                     "or name another with --db or "
		                     "EVCOUNT_DB\n");
	else if (rc == EVC_ENOTFOUND)
		fprintf(stderr,
		        PROG ": no store at \"%s\": ingest into it first, or "
		             "name another with --db or EVCOUNT_DB\n",
		        path);
	return EXIT_FAIL;
}

static int fill_ingest_args(const struct cli *c, struct ingest_args *in)
{
	in->strict = c->strict;
	in->follow = c->follow;
	in->force = c->force;
	in->progress = !c->no_progress;
	in->checkpoint_bytes = 0;
	in->rejects = c->rejects;
	in->files = c->operands;
	in->n_files = c->n_operands;
	if (c->checkpoint)
		return parse_size("checkpoint", c->checkpoint,
		                  &in->checkpoint_bytes);
	return EXIT_OK;
}

static int cmd_ingest(const struct cli *c)
{
	struct ingest_args in;
	evc_store *store;
	int rc;

	if (c->n_operands == 0)
		return cli_usage_error("ingest: missing FILE");
	rc = fill_ingest_args(c, &in);
	if (rc != EXIT_OK)
		return rc;
	rc = open_store(&store, db_path(c),
	                EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_ingest(store, &in);
	evc_close(store);
	return rc;
}

static int cmd_hourly(const struct cli *c)
{
	struct hourly_args q;
	evc_store *store;
	int rc;

	if (c->n_operands > 0)
		return cli_usage_error("hourly: unexpected argument '%s'",
		                       c->operands[0]);
	rc = check_hourly_args(c, &q);
	if (rc != EXIT_OK)
		return rc;
	rc = open_store(&store, db_path(c), EVC_OPEN_READONLY);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_hourly(store, &q);
	evc_close(store);
	return rc;
}

/* sources, customers, stats: a table about the store, read-only. */
static int cmd_listing(const struct cli *c, const char *name,
                       int (*list)(evc_store *, enum cli_format))
{
	enum cli_format format;
	evc_store *store;
	int rc;

	if (c->n_operands > 0)
		return cli_usage_error("%s: unexpected argument '%s'", name,
		                       c->operands[0]);
	rc = parse_format(c, true, tty_format(), &format);
	if (rc != EXIT_OK)
		return rc;
	rc = open_store(&store, db_path(c), EVC_OPEN_READONLY);
	if (rc != EXIT_OK)
		return rc;
	rc = list(store, format);
	evc_close(store);
	return rc;
}

static int cmd_export(const struct cli *c)
{
	struct export_args a = {.epoch = c->epoch};
	evc_store *store;
	int rc;

	if (c->n_operands > 0)
		return cli_usage_error("export: unexpected argument '%s'",
		                       c->operands[0]);
	rc = parse_format(c, false, FORMAT_CSV, &a.format);
	if (rc != EXIT_OK)
		return rc;
	rc = open_store(&store, db_path(c), EVC_OPEN_READONLY);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_export(store, &a);
	evc_close(store);
	return rc;
}

/* The original tool's form: ingest FILE, then query. Every argument is
 * checked before the store is touched, so a usage error counts nothing. */
static int cmd_oneshot(const struct cli *c)
{
	const char *file = c->operands[0];
	struct ingest_args in;
	struct hourly_args q;
	evc_store *store;
	int rc;

	/* A mistyped command reads as a FILE: say so rather than report a
	 * missing option or file. */
	if (strcmp(file, "-") != 0 && !strpbrk(file, "./") &&
	    access(file, F_OK) != 0)
		return cli_usage_error(
		    "unknown command '%s' (and no such FILE)", file);
	rc = fill_ingest_args(c, &in);
	if (rc != EXIT_OK)
		return rc;
	if (c->server) {
		if (c->customer_id || c->start || c->end || c->format ||
		    c->sparse)
			return cli_usage_error(
			    "--server takes no query options: "
			    "queries come over HTTP");
		return cli_serve_oneshot(db_path(c), &in);
	}
	rc = check_hourly_args(c, &q);
	if (rc != EXIT_OK)
		return rc;
	rc = open_store(&store, db_path(c),
	                EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_ingest(store, &in);
	if (rc == EXIT_OK)
		rc = cli_hourly(store, &q);
	evc_close(store);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	int rc;

	rc = parse_command_line(&c, argc, argv);
	if (rc == -1) {
		if (c.db && !*c.db)
			return cli_usage_error("--db: empty path");
		switch (c.form) {
		case FORM_INGEST:
			rc = cmd_ingest(&c);
			break;
		case FORM_HOURLY:
			rc = cmd_hourly(&c);
			break;
		case FORM_SOURCES:
			rc = cmd_listing(&c, "sources", cli_sources);
			break;
		case FORM_EXPORT:
			rc = cmd_export(&c);
			break;
		case FORM_CUSTOMERS:
			rc = cmd_listing(&c, "customers", cli_customers);
			break;
		case FORM_STATS:
			rc = cmd_listing(&c, "stats", cli_stats);
			break;
		case FORM_SERVE:
			rc = cli_serve_main(db_path(&c), c.n_operands,
			                    c.operands);
			break;
		default:
			rc = cmd_oneshot(&c);
			break;
		}
	}
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror(PROG ": write error");
		return EXIT_FAIL;
	}
	return rc;
}
