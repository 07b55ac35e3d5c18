/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli: command line front end of libevcount.
 *
 * This file turns the command line into checked arguments: one table of
 * commands (name, synopsis, help, run function) and one of options (which
 * commands take them). Everything is done by the library, called from the
 * cli-*.c file of each command.
 */
#include "cli.h"
#include "query-args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each command's bit; an option lists the commands it applies to. */
enum {
	CMD_INGEST = 0x1u,
	CMD_HOURLY = 0x2u,
	CMD_SOURCES = 0x4u,
	CMD_CUSTOMERS = 0x8u,
	CMD_STATS = 0x10u,
	CMD_EXPORT = 0x20u,
	CMD_SERVE = 0x40u, /* parses its own options, in serve.c */
	CMD_ONESHOT = 0x80u,
	CMD_CHECK = 0x100u,
	CMD_COUNTS = 0x200u,
	CMD_RETRACT = 0x400u,
	CMD_FORGET = 0x800u,
	CMD_PRUNE = 0x1000u,
};
/* Options before the command word, and those of every command but serve. */
#define CMD_ANY                                                                \
	(CMD_INGEST | CMD_HOURLY | CMD_SOURCES | CMD_CUSTOMERS | CMD_STATS |   \
	 CMD_EXPORT | CMD_ONESHOT | CMD_CHECK | CMD_COUNTS | CMD_RETRACT |     \
	 CMD_FORGET | CMD_PRUNE)
/* The corrections: --dry-run. */
#define CMD_CORRECT (CMD_RETRACT | CMD_FORGET | CMD_PRUNE)
/* The listings: --format table|json|csv and nothing else. */
#define CMD_LISTING (CMD_SOURCES | CMD_CUSTOMERS | CMD_STATS | CMD_CHECK)
#define CMD_QUERY   (CMD_HOURLY | CMD_ONESHOT | CMD_COUNTS)
#define CMD_LOADER  (CMD_INGEST | CMD_ONESHOT)

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
	OPT_ALL_CUSTOMERS,
	OPT_TOP,
	OPT_BUCKET,
	OPT_TZ,
	OPT_STREAM,
	OPT_OFFSET,
	OPT_DRY_RUN,
	OPT_BEFORE,
	OPT_ASCII,
};

struct opt_def {
	const char *name;
	int has_arg;
	int id;
	unsigned cmds;
	const char *arg;  /* placeholder shown in help */
	const char *help; /* NULL: an alias, left out of help */
};

/* An option may have several entries with the same id and name, for
 * commands that need it described differently (--format); getopt_long()
 * is given the first that applies. */
static const struct opt_def opt_defs[] = {
    {"db", required_argument, OPT_DB, CMD_ANY, "PATH",
     "the store (default: $EVCOUNT_DB, else ./evcount.db)"},
    {"strict", no_argument, OPT_STRICT, CMD_LOADER, NULL,
     "a rejected row fails the ingest of its FILE"},
    {"rejects", required_argument, OPT_REJECTS, CMD_LOADER, "FILE",
     "write rejected rows to FILE as CSV, not to stderr"},
    {"follow", no_argument, OPT_FOLLOW, CMD_LOADER, NULL,
     "hold back an unterminated last line (FILE grows)"},
    {"force", no_argument, OPT_FORCE, CMD_LOADER, NULL,
     "ingest a changed FILE again, as a new source"},
    {"checkpoint", required_argument, OPT_CHECKPOINT, CMD_LOADER, "SIZE",
     "commit every SIZE bytes (suffix K, M or G; 256M)"},
    {"no-progress", no_argument, OPT_NO_PROGRESS, CMD_LOADER, NULL,
     "no progress bar (else drawn on a terminal)"},
    {"stream", required_argument, OPT_STREAM, CMD_INGEST, "NAME",
     "ingest: FILE is bytes of the tracked stream NAME"},
    {"offset", required_argument, OPT_OFFSET, CMD_INGEST, "N",
     "ingest --stream: the stream offset of FILE's first byte"},
    {"customer-id", required_argument, OPT_CUSTOMER, CMD_QUERY | CMD_FORGET,
     "ID",
     "the customer to count (alias: --customer_id; counts, forget: repeat "
     "it)"},
    {"customer_id", required_argument, OPT_CUSTOMER, CMD_QUERY | CMD_FORGET,
     "ID", NULL},
    {"before", required_argument, OPT_BEFORE, CMD_PRUNE, "TS",
     "prune: remove every count before TS"},
    {"dry-run", no_argument, OPT_DRY_RUN, CMD_CORRECT, NULL,
     "say what would be removed, remove nothing"},
    {"start", required_argument, OPT_START, CMD_QUERY, "TS",
     "start of the range, inclusive"},
    {"end", required_argument, OPT_END, CMD_QUERY, "TS",
     "end of the range, exclusive"},
    {"format", required_argument, OPT_FORMAT, CMD_QUERY, "FMT",
     "table, chart, json or csv; default: table on a tty, else csv"},
    {"format", required_argument, OPT_FORMAT, CMD_LISTING, "FMT",
     "table, json or csv; default: table on a tty, else csv"},
    {"format", required_argument, OPT_FORMAT, CMD_EXPORT, "FMT",
     "export: csv or json; default: csv"},
    {"epoch", no_argument, OPT_EPOCH, CMD_EXPORT, NULL,
     "export: minutes as epoch seconds"},
    {"sparse", no_argument, OPT_SPARSE, CMD_QUERY, NULL,
     "leave out the hours (buckets) without events"},
    {"ascii", no_argument, OPT_ASCII, CMD_QUERY, NULL,
     "chart: bars of '#', not Unicode blocks"},
    {"all-customers", no_argument, OPT_ALL_CUSTOMERS, CMD_COUNTS, NULL,
     "counts: every customer of the store, by id"},
    {"top", required_argument, OPT_TOP, CMD_COUNTS, "N",
     "counts: the N customers with the largest totals"},
    {"bucket", required_argument, OPT_BUCKET, CMD_COUNTS, "W",
     "counts: minute, Nm, hour, Nh, day, week, month, all"},
    {"tz", required_argument, OPT_TZ, CMD_COUNTS, "ZONE",
     "counts: IANA zone, UTC or +HH:MM (default UTC)"},
    {"server", no_argument, OPT_SERVER, CMD_ONESHOT, NULL,
     "one-shot: after the ingest, serve queries over HTTP as serve does"},
    {"help", no_argument, OPT_HELP, CMD_ANY, NULL, "print this help and exit"},
    {"version", no_argument, OPT_VERSION, CMD_ANY, NULL,
     "print the versions and exit"},
};
#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))
/* parse_options() records the options seen as bits of an unsigned. */
_Static_assert(N_OPTS <= 32, "too many options for the seen mask");

/* Everything the command line said, before it is checked. */
struct cli {
	const struct command *cmd;
	const char *db;
	bool strict;
	const char *rejects;
	const char *customer_id;
	const char **customers; /* every --customer-id, in order */
	size_t n_customers;
	bool all_customers;
	const char *top;
	const char *bucket;
	const char *tz;
	const char *start;
	const char *end;
	const char *format;
	bool ascii;
	bool sparse;
	bool follow;
	bool force;
	bool no_progress;
	const char *checkpoint;
	bool epoch;
	bool server;
	const char *stream;
	const char *offset;
	bool dry_run;
	const char *before;
	char **operands;
	int n_operands;
};

/* ---- what the help says of each command ---------------------------------- */

static const char about_loader[] =
    "Input rows are customer_id,event_type,transaction_id,timestamp (CSV, "
    "optional\n"
    "header line). Each FILE is counted exactly once: the store remembers how "
    "far\n"
    "it has read it, under whatever path, so ingesting it again counts only "
    "the\n"
    "lines appended since (\"already ingested: 0 new rows\" when there are "
    "none), and\n"
    "a FILE whose ingested part changed is refused (--force counts it again, "
    "as a\n"
    "new source). Counts are committed every --checkpoint bytes: an "
    "interrupted\n"
    "ingest keeps them and the next one resumes there (--strict: one "
    "transaction).\n"
    "A last line without a newline is counted, unless --follow holds it back "
    "until\n"
    "it is complete. stdin ('-') is a stream, not a source: it is counted "
    "each\n"
    "time. Ingest stops at the first FILE that fails.\n"
    "\n"
    "A rejected row is reported (at most 10 per FILE on stderr) and skipped;\n"
    "--rejects writes them all as CSV records line,reason,text "
    "(file,line,reason,\n"
    "text with several FILEs). Each FILE ends with a summary line on "
    "stderr.\n";

static const char about_stream[] =
    "With --stream NAME --offset N, the one FILE ('-': stdin) is bytes N.. "
    "of the\n"
    "tracked stream NAME. The store keeps the stream's committed offset with "
    "its\n"
    "counts: bytes sent again count nothing, an N past the committed offset "
    "is\n"
    "refused (naming it), and a last line without a newline is held back: "
    "the\n"
    "summary gives the committed offset, where the next piece starts.\n";

static const char about_retract[] =
    "retract takes back exactly the counts that each FILE's ingests added: "
    "it reads\n"
    "the FILE again, checks it still holds the bytes ingested (else it "
    "refuses,\n"
    "subtracting nothing) and subtracts the rows they counted, all FILEs in "
    "one\n"
    "transaction. Ingesting a retracted FILE again counts it as new. A copy "
    "whose\n"
    "counts continue the original's must be retracted with it.\n";

static const char about_erase[] =
    "forget removes every count of a customer and its id (an erasure "
    "request);\n"
    "prune removes every count before a time (retention). Each is one "
    "transaction,\n"
    "then the space is given back to the file system. A FILE ingested before "
    "and\n"
    "retracted after loses nothing more of what was removed. --dry-run says "
    "what\n"
    "would go.\n";

static const char about_query[] =
    "TS is YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SS[.fraction] "
    "followed by Z,\n"
    "+HH, +HHMM, +HH:MM (or with -) or nothing (UTC), in years 0000 to "
    "9999. Both\n"
    "bounds are floored to the minute; an hour only partly inside the range "
    "is\n"
    "marked partial; a query spans at most 1,000,000 hours. Output goes to "
    "stdout,\n"
    "one row per hour (csv: hour,count,partial; json: one object).\n";

static const char about_chart[] =
    "--format chart draws a bar per bucket after its start and count, the "
    "largest\n"
    "count filling the width: COLUMNS, else the terminal's, else 80 (at "
    "least 10\n"
    "cells of bar). Bars are Unicode eighth blocks in a UTF-8 locale, else "
    "'#' (and\n"
    "with --ascii); a zero has no bar, any other count at least the "
    "smallest one;\n"
    "* marks a partial bucket. A footer gives the total, the maximum and the "
    "scale;\n"
    "counts draws a chart per customer, each to its own scale.\n";

static const char about_sources[] =
    "sources lists each ingested FILE: id, path (as last given), realpath, "
    "size,\n"
    "offset (bytes ingested), rows counted, rejected and warned, first and "
    "last\n"
    "ingest time (csv: a header line then one row per source; json: one "
    "object).\n";

static const char about_customers[] =
    "customers lists each customer id (ordered bytewise) with its total "
    "count\n"
    "and the first and last minute with events (csv: customer_id,total,\n"
    "first_minute,last_minute; json: one object).\n";

static const char about_stats[] =
    "stats summarises the store: customers, sources (files ingested), "
    "rows_counted\n"
    "(every counted event, stdin included), rows_rejected (by ingests of "
    "files),\n"
    "first_minute and last_minute with events, file_size (bytes of the "
    "store)\n"
    "(csv: a header line and one row; json: one object).\n";

static const char about_counts[] =
    "counts prints each customer's events in buckets of a width, on the "
    "wall clock of a\n"
    "time zone: minute, Nm (N dividing 1440), hour, Nh (N dividing 24), "
    "day, week (from\n"
    "Monday 00:00), month or all (one bucket: the range); a zone by IANA "
    "name, UTC\n"
    "(the default) or an offset such as +05:30. A bucket starts at the "
    "first instant\n"
    "the clock reads its label or later: a day can last 23 or 25 hours, a "
    "repeated\n"
    "hour is one bucket. TS without an offset is a wall-clock time of the "
    "zone.\n"
    "Buckets are partial when the range leaves out part of them; --sparse "
    "leaves out\n"
    "empty ones, and customers without events. csv: customer_id,start,end,"
    "count,\n"
    "partial; json: one object; table: a block per customer.\n";

static const char about_check[] =
    "check verifies the store as fsck does a file system: the storage's own "
    "integrity\n"
    "check, then every hour row (in range and in order, minute counts well "
    "formed,\n"
    "a total equal to the sum of its minutes, a customer id that resolves) "
    "and every\n"
    "source (offsets within the file). Each problem is printed with its "
    "customer,\n"
    "hour or source (csv: customer_id,hour,source_id,problem; json: one "
    "object);\n"
    "the exit status is 1 when there is any.\n";

static const char about_export[] =
    "export prints every non-zero count, ordered by customer id then minute "
    "(csv:\n"
    "customer_id,minute,count; json: one object {\"counts\":[...]}).\n";

/* ---- the commands -------------------------------------------------------- */

static int cmd_ingest(const struct cli *c);
static int cmd_hourly(const struct cli *c);
static int cmd_sources(const struct cli *c);
static int cmd_customers(const struct cli *c);
static int cmd_stats(const struct cli *c);
static int cmd_export(const struct cli *c);
static int cmd_check(const struct cli *c);
static int cmd_counts(const struct cli *c);
static int cmd_retract(const struct cli *c);
static int cmd_forget(const struct cli *c);
static int cmd_prune(const struct cli *c);
static int cmd_serve(const struct cli *c);
static int cmd_oneshot(const struct cli *c);

#define MAX_ABOUT 3

struct command {
	const char *name;     /* the command word; NULL for the one-shot form */
	const char *title;    /* as named in messages */
	unsigned bit;         /* CMD_* */
	const char *synopsis; /* after "evcount-cli [--db PATH] " */
	const char *summary;  /* its line in the list of commands */
	const char *about[MAX_ABOUT]; /* its --help paragraphs */
	int (*run)(const struct cli *c);
};

/* In the order help lists them; the one-shot form last, as it takes any
 * word that is no command. */
static const struct command commands[] = {
    {"ingest",
     "ingest",
     CMD_INGEST,
     "ingest [--strict] [--rejects FILE] [--follow]\n"
     "                   [--force] [--checkpoint SIZE] [--no-progress] "
     "FILE...\n"
     "       " PROG " [--db PATH] ingest --stream NAME --offset N "
     "[--strict]\n"
     "                   [--rejects FILE] FILE|-",
     "add the events of CSV FILEs to the store, each exactly once\n"
     "             ('-' reads stdin)",
     {about_loader, about_stream},
     cmd_ingest},
    {"hourly",
     "hourly",
     CMD_HOURLY,
     "hourly --customer-id ID --start TS --end TS\n"
     "                   [--format table|chart|json|csv] [--ascii] "
     "[--sparse]",
     "print a customer's event count for each UTC hour in [start, end)",
     {about_query, about_chart},
     cmd_hourly},
    {"counts",
     "counts",
     CMD_COUNTS,
     "counts --customer-id ID [--customer-id ID ...] | --all-customers\n"
     "                   [--top N] --start TS --end TS [--bucket W] "
     "[--tz ZONE]\n"
     "                   [--format table|chart|json|csv] [--ascii] "
     "[--sparse]",
     "print customers' event counts in buckets of any width, in any zone",
     {about_counts, about_chart},
     cmd_counts},
    {"sources",
     "sources",
     CMD_SOURCES,
     "sources [--format table|json|csv]",
     "list the files the store has ingested",
     {about_sources},
     cmd_sources},
    {"customers",
     "customers",
     CMD_CUSTOMERS,
     "customers [--format table|json|csv]",
     "list the customers with their totals and spans",
     {about_customers},
     cmd_customers},
    {"stats",
     "stats",
     CMD_STATS,
     "stats [--format table|json|csv]",
     "summarise the store: customers, sources, rows, span, size",
     {about_stats},
     cmd_stats},
    {"export",
     "export",
     CMD_EXPORT,
     "export [--format csv|json] [--epoch]",
     "print every (customer, minute) count of the store",
     {about_export},
     cmd_export},
    {"check",
     "check",
     CMD_CHECK,
     "check [--format table|json|csv]",
     "verify the store: its storage and every row",
     {about_check},
     cmd_check},
    {"retract",
     "retract",
     CMD_RETRACT,
     "retract [--dry-run] FILE...",
     "take back exactly the counts that FILEs added",
     {about_retract},
     cmd_retract},
    {"forget",
     "forget",
     CMD_FORGET,
     "forget --customer-id ID [--customer-id ID ...] [--dry-run]",
     "remove every count of a customer, and its id",
     {about_erase},
     cmd_forget},
    {"prune",
     "prune",
     CMD_PRUNE,
     "prune --before TS [--dry-run]",
     "remove every count before a time",
     {about_erase},
     cmd_prune},
    {"serve",
     "serve",
     CMD_SERVE,
     "serve [--listen HOST:PORT] [--threads N]\n"
     "                   [--token-file FILE] [--quiet] [--ingest FILE...]",
     "answer queries over HTTP, with a page that charts them",
     {NULL},
     cmd_serve},
    {NULL,
     "the one-shot form",
     CMD_ONESHOT,
     "FILE --customer-id ID --start TS --end TS\n"
     "                   [--format FMT] [--sparse] [--strict] [--rejects "
     "FILE] ...",
     "one-shot: ingest FILE, then query it as hourly does",
     {about_loader, about_query, about_chart},
     cmd_oneshot},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

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

int cli_parse_size(const char *opt, const char *arg, uint64_t *out)
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

/* ---- help ---------------------------------------------------------------- */

static void print_options(unsigned cmds)
{
	char lhs[64];

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (!d->help || !(d->cmds & cmds))
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

/* Whether `about` was printed by one of the first n commands. */
static bool printed_before(const char *about, size_t n, unsigned cmds)
{
	for (size_t i = 0; i < n; i++) {
		if (!(commands[i].bit & cmds))
			continue;
		for (size_t k = 0; k < MAX_ABOUT; k++)
			if (commands[i].about[k] == about)
				return true;
	}
	return false;
}

/* The help of one command, or of the tool (cmd NULL): the synopses, the
 * list of commands, what each one does, its options. */
static void print_help(const struct command *cmd)
{
	const unsigned cmds = cmd ? cmd->bit : CMD_ANY | CMD_SERVE;
	const char *lead = "Usage: ";

	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!(commands[i].bit & cmds))
			continue;
		printf("%s" PROG " [--db PATH] %s\n", lead,
		       commands[i].synopsis);
		lead = "       ";
	}
	putchar('\n');
	if (!cmd) {
		puts("Exact per-customer event counts per UTC hour, from a "
		     "store of per-minute counts.\n"
		     "\n"
		     "Commands:");
		for (size_t i = 0; i < N_COMMANDS; i++)
			printf("  %-9s  %s\n",
			       commands[i].name ? commands[i].name : "FILE",
			       commands[i].summary);
		puts("\n'" PROG " COMMAND --help' describes one command.\n");
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!(commands[i].bit & cmds))
			continue;
		for (size_t k = 0; k < MAX_ABOUT && commands[i].about[k]; k++)
			if (!printed_before(commands[i].about[k], i, cmds))
				puts(commands[i].about[k]);
	}
	puts("Options:");
	print_options(cmds);
	puts("\n"
	     "Environment:\n"
	     "  EVCOUNT_DB   the store when --db is not given\n"
	     "\n"
	     "Exit status:\n"
	     "  0  success\n"
	     "  1  failure: store, input or query error, a rejected row "
	     "with --strict,\n"
	     "     a FILE changed since it was ingested, a damaged store "
	     "(check: any\n"
	     "     problem found)\n"
	     "  2  usage error: bad option or argument");
}

static void print_version(void)
{
	printf(PROG " " EVC_VERSION_STRING " (libevcount %s, SQLite %s)\n",
	       evc_version(), evc_sqlite_version());
}

/* ---- parsing ------------------------------------------------------------- */

static const char *title(const struct command *cmd)
{
	return cmd ? cmd->title : PROG;
}

/* The option an argument names, exactly or as an unambiguous abbreviation
 * (*ambiguous tells), whatever the command: getopt_long() only knows those
 * of the command at hand, and an option of another command is no typo. */
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
static int bad_option(int ret, char **argv, const struct command *cmd)
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
		                       d->name, title(cmd));
	if (ambiguous)
		return cli_usage_error("ambiguous option '%.*s'", len, arg);
	return cli_usage_error("unknown option '%.*s'", len, arg);
}

/* Parse the options of argv[1..] that `cmd` (NULL: any) accepts, in
 * getopt_long()'s way: `stop` leaves the first operand and what follows it
 * unparsed, else operands are moved to the end. `seen` collects the
 * opt_defs indexes of the long options given. Returns -1 to go on, EXIT_OK
 * after --help or --version, EXIT_USAGE on a bad option. */
static int parse_options(struct cli *c, int argc, char **argv,
                         const struct command *cmd, bool stop, unsigned *seen)
{
	struct option longopts[N_OPTS + 1];
	const unsigned cmds = cmd ? cmd->bit : CMD_ANY;
	size_t n = 0;
	int map[N_OPTS];
	int ret, idx;

	for (size_t i = 0; i < N_OPTS; i++) {
		bool dup = false;

		if (!(opt_defs[i].cmds & cmds))
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
			print_help(cmd);
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
			if (!c->customer_id)
				c->customer_id = optarg;
			c->customers[c->n_customers++] = optarg;
			break;
		case OPT_ALL_CUSTOMERS:
			c->all_customers = true;
			break;
		case OPT_TOP:
			c->top = optarg;
			break;
		case OPT_BUCKET:
			c->bucket = optarg;
			break;
		case OPT_TZ:
			c->tz = optarg;
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
		case OPT_ASCII:
			c->ascii = true;
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
		case OPT_STREAM:
			c->stream = optarg;
			break;
		case OPT_OFFSET:
			c->offset = optarg;
			break;
		case OPT_DRY_RUN:
			c->dry_run = true;
			break;
		case OPT_BEFORE:
			c->before = optarg;
			break;
		default:
			return bad_option(ret, argv, cmd);
		}
	}
	return -1;
}

/* Whether option `id` applies to `cmd`, by any of its entries. */
static bool applies(int id, const struct command *cmd)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opt_defs[i].id == id && (opt_defs[i].cmds & cmd->bit))
			return true;
	return false;
}

/* The command a word names; the one-shot form for any other word. */
static const struct command *find_command(const char *word)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i].name && strcmp(commands[i].name, word) == 0)
			return &commands[i];
	return &commands[N_COMMANDS - 1];
}

/* Fill `c` from the command line. Returns -1 to go on, or an exit status:
 * EXIT_OK after --help or --version, EXIT_USAGE on a bad option. */
static int parse_command_line(struct cli *c, int argc, char **argv)
{
	unsigned seen = 0;
	char **sub_argv;
	int sub_argc, rc;

	/* The options before the first operand, which then tells the
	 * command. */
	rc = parse_options(c, argc, argv, NULL, true, &seen);
	if (rc != -1)
		return rc;
	if (optind >= argc)
		return cli_usage_error("missing command (ingest, hourly, "
		                       "counts, sources, export, customers, "
		                       "stats, check, retract, forget, prune "
		                       "or serve) or FILE");
	c->cmd = find_command(argv[optind]);
	/* serve has options of its own: only --db may come before it. */
	if (c->cmd->bit == CMD_SERVE) {
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
		if ((seen & (1u << i)) && !applies(opt_defs[i].id, c->cmd))
			return cli_usage_error(
			    "option '--%s' does not apply to %s",
			    opt_defs[i].name, c->cmd->title);
	}

	/* The rest, as if the command word were the program name: for the
	 * one-shot form that word is the FILE, picked up below. */
	sub_argc = argc - optind;
	sub_argv = argv + optind;
	rc = parse_options(c, sub_argc, sub_argv, c->cmd, false, &seen);
	if (rc != -1)
		return rc;
	c->operands = sub_argv + optind;
	c->n_operands = sub_argc - optind;
	if (c->cmd->bit == CMD_ONESHOT) {
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

/* The formats a command offers: export has no table (its rows are not for
 * reading), only the queries have a chart (a listing has no counts to
 * draw). */
enum format_offer {
	OFFER_EXPORT,
	OFFER_LISTING,
	OFFER_QUERY,
};

static int parse_format(const struct cli *c, enum format_offer offer,
                        enum cli_format dflt, enum cli_format *out)
{
	static const char *const names[] = {
	    [OFFER_EXPORT] = "csv or json",
	    [OFFER_LISTING] = "table, json or csv",
	    [OFFER_QUERY] = "table, chart, json or csv",
	};

	if (!c->format)
		*out = dflt;
	else if (offer != OFFER_EXPORT && strcmp(c->format, "table") == 0)
		*out = FORMAT_TABLE;
	else if (offer == OFFER_QUERY && strcmp(c->format, "chart") == 0)
		*out = FORMAT_CHART;
	else if (strcmp(c->format, "csv") == 0)
		*out = FORMAT_CSV;
	else if (strcmp(c->format, "json") == 0)
		*out = FORMAT_JSON;
	else
		return cli_usage_error(
		    "--format: unknown format \"%s\" (use %s)", c->format,
		    names[offer]);
	return EXIT_OK;
}

/* The default for output read by people or by programs alike. */
static enum cli_format tty_format(void)
{
	return isatty(STDOUT_FILENO) ? FORMAT_TABLE : FORMAT_CSV;
}

/* A query's --format, and with a chart how the terminal draws it. */
static int parse_query_format(const struct cli *c, enum cli_format *out,
                              struct chart_style *chart)
{
	int rc = parse_format(c, OFFER_QUERY, tty_format(), out);

	if (rc != EXIT_OK)
		return rc;
	if (c->ascii && *out != FORMAT_CHART)
		return cli_usage_error("--ascii: only with --format chart");
	if (*out == FORMAT_CHART)
		*chart = cli_chart_style(c->ascii);
	return EXIT_OK;
}

/* The query options, checked as /hourly's parameters are (query-args.c). */
static int check_hourly_args(const struct cli *c, struct hourly_args *q)
{
	const struct query_input in = {
	    .value = {[QUERY_CUSTOMER] = c->customer_id,
	              [QUERY_START] = c->start,
	              [QUERY_END] = c->end},
	    .context = c->cmd->title,
	};
	char err[512];

	if (!query_check(&in, &query_cli, q, err, sizeof(err)))
		return cli_usage_error("%s", err);
	if (c->n_customers > 1)
		return cli_usage_error("%s: one --customer-id (counts takes "
		                       "several)",
		                       c->cmd->title);
	q->sparse = c->sparse;
	return parse_query_format(c, &q->format, &q->chart);
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

/* Commands that take no operand say so of the first one given. */
static int no_operands(const struct cli *c)
{
	if (c->n_operands > 0)
		return cli_usage_error("%s: unexpected argument '%s'",
		                       c->cmd->title, c->operands[0]);
	return EXIT_OK;
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
	in->stream = c->stream;
	in->offset = 0;
	if (c->offset && !c->stream)
		return cli_usage_error("--offset: only with --stream");
	if (c->stream) {
		char *end;
		if (!c->offset)
			return cli_usage_error(
			    "--stream: needs --offset N, the stream offset of "
			    "the input's first byte");
		errno = 0;
		if (*c->offset < '0' || *c->offset > '9' ||
		    (in->offset = strtoull(c->offset, &end, 10), *end) ||
		    errno == ERANGE)
			return cli_usage_error(
			    "--offset: expected a byte offset, not \"%s\"",
			    c->offset);
		if (c->follow || c->force)
			return cli_usage_error(
			    "--stream: --%s does not apply to a stream",
			    c->follow ? "follow" : "force");
		if (c->n_operands != 1)
			return cli_usage_error(
			    "--stream: one FILE ('-': stdin), not %d",
			    c->n_operands);
	}
	if (c->checkpoint)
		return cli_parse_size("checkpoint", c->checkpoint,
		                      &in->checkpoint_bytes);
	return EXIT_OK;
}

/* Ingest into the store, creating it, then (with `q`) query it. */
static int ingest_then_query(const struct cli *c, const struct ingest_args *in,
                             const struct hourly_args *q)
{
	evc_store *store;
	int rc = open_store(&store, db_path(c),
	                    EVC_OPEN_READWRITE | EVC_OPEN_CREATE);

	if (rc != EXIT_OK)
		return rc;
	rc = cli_ingest(store, in);
	if (rc == EXIT_OK && q)
		rc = cli_hourly(store, q);
	evc_close(store);
	return rc;
}

static int cmd_ingest(const struct cli *c)
{
	struct ingest_args in;
	int rc;

	if (c->n_operands == 0)
		return cli_usage_error("ingest: missing FILE");
	rc = fill_ingest_args(c, &in);
	return rc != EXIT_OK ? rc : ingest_then_query(c, &in, NULL);
}

static int cmd_hourly(const struct cli *c)
{
	struct hourly_args q;
	evc_store *store;
	int rc;

	if ((rc = no_operands(c)) != EXIT_OK ||
	    (rc = check_hourly_args(c, &q)) != EXIT_OK ||
	    (rc = open_store(&store, db_path(c), EVC_OPEN_READONLY)) != EXIT_OK)
		return rc;
	rc = cli_hourly(store, &q);
	evc_close(store);
	return rc;
}

/* sources, customers, stats: a table about the store, read-only. */
static int run_listing(const struct cli *c,
                       int (*list)(evc_store *, enum cli_format))
{
	enum cli_format format;
	evc_store *store;
	int rc;

	if ((rc = no_operands(c)) != EXIT_OK ||
	    (rc = parse_format(c, OFFER_LISTING, tty_format(), &format)) !=
	        EXIT_OK ||
	    (rc = open_store(&store, db_path(c), EVC_OPEN_READONLY)) != EXIT_OK)
		return rc;
	rc = list(store, format);
	evc_close(store);
	return rc;
}

static int cmd_sources(const struct cli *c)
{
	return run_listing(c, cli_sources);
}

static int cmd_customers(const struct cli *c)
{
	return run_listing(c, cli_customers);
}

static int cmd_stats(const struct cli *c)
{
	return run_listing(c, cli_stats);
}

static int cmd_counts(const struct cli *c)
{
	const struct query_input in = {
	    .value = {[QUERY_CUSTOMER] = c->customer_id,
	              [QUERY_START] = c->start,
	              [QUERY_END] = c->end,
	              [QUERY_TZ] = c->tz,
	              [QUERY_TOP] = c->top,
	              [QUERY_ALL] = c->all_customers ? "" : NULL},
	    .customers = c->customers,
	    .n_customers = c->n_customers,
	    .context = "counts",
	};
	struct counts_args a = {.bucket = c->bucket ? c->bucket : "hour",
	                        .sparse = c->sparse};
	char err[512];
	evc_store *store;
	int rc;

	if ((rc = no_operands(c)) != EXIT_OK)
		return rc;
	if (!counts_check(&in, &query_cli, &a, err, sizeof(err)))
		return cli_usage_error("%s", err);
	if ((rc = parse_query_format(c, &a.format, &a.chart)) != EXIT_OK ||
	    (rc = open_store(&store, db_path(c), EVC_OPEN_READONLY)) != EXIT_OK)
		return rc;
	rc = cli_counts(store, &a);
	evc_close(store);
	return rc;
}

/* retract, forget, prune: read-write, and nothing created. */
static int open_for_correction(const struct cli *c, evc_store **store)
{
	return open_store(store, db_path(c), EVC_OPEN_READWRITE);
}

static int cmd_retract(const struct cli *c)
{
	evc_store *store;
	int rc;

	if (c->n_operands == 0)
		return cli_usage_error("retract: missing FILE");
	if ((rc = open_for_correction(c, &store)) != EXIT_OK)
		return rc;
	rc = cli_retract(store, (const char *const *)c->operands,
	                 (size_t)c->n_operands, c->dry_run);
	evc_close(store);
	return rc;
}

static int cmd_forget(const struct cli *c)
{
	evc_store *store;
	int rc;

	if ((rc = no_operands(c)) != EXIT_OK)
		return rc;
	if (c->n_customers == 0)
		return cli_usage_error("forget: missing --customer-id");
	for (size_t i = 0; i < c->n_customers; i++)
		if (!*c->customers[i] || !cli_is_utf8(c->customers[i]))
			return cli_usage_error("--customer-id: %s customer id",
			                       *c->customers[i] ? "not a UTF-8"
			                                        : "empty");
	if ((rc = open_for_correction(c, &store)) != EXIT_OK)
		return rc;
	rc = cli_forget(store, c->customers, c->n_customers, c->dry_run);
	evc_close(store);
	return rc;
}

static int cmd_prune(const struct cli *c)
{
	evc_store *store;
	int64_t before;
	int rc;

	if ((rc = no_operands(c)) != EXIT_OK)
		return rc;
	if (!c->before)
		return cli_usage_error("prune: missing --before");
	if (evc_parse_time(c->before, &before) != EVC_OK)
		return cli_usage_error("--before: bad timestamp \"%s\": %s",
		                       c->before, evc_errmsg(NULL));
	if ((rc = open_for_correction(c, &store)) != EXIT_OK)
		return rc;
	rc = cli_prune(store, before, c->dry_run);
	evc_close(store);
	return rc;
}

static int cmd_check(const struct cli *c)
{
	return run_listing(c, cli_check);
}

static int cmd_export(const struct cli *c)
{
	struct export_args a = {.epoch = c->epoch};
	evc_store *store;
	int rc;

	if ((rc = no_operands(c)) != EXIT_OK ||
	    (rc = parse_format(c, OFFER_EXPORT, FORMAT_CSV, &a.format)) !=
	        EXIT_OK ||
	    (rc = open_store(&store, db_path(c), EVC_OPEN_READONLY)) != EXIT_OK)
		return rc;
	rc = cli_export(store, &a);
	evc_close(store);
	return rc;
}

static int cmd_serve(const struct cli *c)
{
	return cli_serve_main(db_path(c), c->n_operands, c->operands);
}

/* The original tool's form: ingest FILE, then query. Every argument is
 * checked before the store is touched, so a usage error counts nothing. */
static int cmd_oneshot(const struct cli *c)
{
	const char *file = c->operands[0];
	struct ingest_args in;
	struct hourly_args q;
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
		    c->sparse || c->ascii)
			return cli_usage_error(
			    "--server takes no query options: "
			    "queries come over HTTP");
		return cli_serve_oneshot(db_path(c), &in);
	}
	rc = check_hourly_args(c, &q);
	return rc != EXIT_OK ? rc : ingest_then_query(c, &in, &q);
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	int rc;

	/* Room for every --customer-id there can be. */
	c.customers = calloc((size_t)argc + 1, sizeof(*c.customers));
	if (!c.customers) {
		perror(PROG);
		return EXIT_FAIL;
	}
	rc = parse_command_line(&c, argc, argv);
	if (rc == -1) {
		if (c.db && !*c.db)
			rc = cli_usage_error("--db: empty path");
		else
			rc = c.cmd->run(&c);
	}
	free(c.customers);
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror(PROG ": write error");
		return EXIT_FAIL;
	}
	return rc;
}
