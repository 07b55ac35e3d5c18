/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli ingest: feed files to the library and report what it says.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Rejected rows shown on stderr per file: enough to see what is wrong
 * without burying the summary under a badly broken file. */
#define MAX_SHOWN 10

struct reject_ctx {
	const char *name; /* the input as named in messages */
	FILE *rejects;    /* the --rejects file, or NULL for stderr */
	bool with_file;   /* several inputs: the records name theirs */
	bool quiet;       /* strict: the failure message names the row */
	uint64_t shown;
	uint64_t hidden;
	int write_errno; /* nonzero once writing the rejects file failed */
};

/* One RFC 4180 field, quoted only when it has to be. */
static void put_csv_field(FILE *f, const char *s, size_t len)
{
	if (!memchr(s, ',', len) && !memchr(s, '"', len) &&
	    !memchr(s, '\r', len) && !memchr(s, '\n', len)) {
		fwrite(s, 1, len, f);
		return;
	}
	putc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			putc('"', f);
		putc(s[i], f);
	}
	putc('"', f);
}

/* Flushed at once so that a failing write stops the ingest while its
 * transaction can still be rolled back, rather than at exit after the
 * rows were committed with their rejects lost. */
static int flush_rejects(struct reject_ctx *x)
{
	if (fflush(x->rejects) == EOF || ferror(x->rejects)) {
		x->write_errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

static int on_reject(const evc_reject *r, void *payload)
{
	struct reject_ctx *x = payload;

	/* Counted rows: only the summary mentions them. */
	if (r->warning)
		return 0;
	if (x->rejects) {
		if (x->with_file) {
			put_csv_field(x->rejects, x->name, strlen(x->name));
			putc(',', x->rejects);
		}
		fprintf(x->rejects, "%" PRIu64 ",", r->line);
		put_csv_field(x->rejects, r->reason, strlen(r->reason));
		putc(',', x->rejects);
		put_csv_field(x->rejects, r->text, r->text_len);
		putc('\n', x->rejects);
		return flush_rejects(x) ? 1 : 0;
	}
	if (x->quiet)
		return 0;
	if (x->shown < MAX_SHOWN) {
		fprintf(stderr, "%s:%" PRIu64 ": rejected: %s\n", x->name,
		        r->line, r->reason);
		x->shown++;
	} else {
		x->hidden++;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static int ingest_one(evc_store *store, const char *file,
                      const struct ingest_args *a, FILE *rejects)
{
	bool is_stdin = strcmp(file, "-") == 0;
	struct reject_ctx x = {
	    .name = is_stdin ? "<stdin>" : file,
	    .rejects = rejects,
	    .with_file = a->n_files > 1,
	    .quiet = a->strict,
	};
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st = {0};
	double t0;
	int rc;

	opts.flags = a->strict ? EVC_INGEST_STRICT : 0;
	opts.on_reject = on_reject;
	opts.payload = &x;
	t0 = now();
	if (is_stdin)
		rc = evc_ingest_fd(store, STDIN_FILENO, x.name, &opts, &st);
	else
		rc = evc_ingest_csv(store, file, &opts, &st);
	if (x.hidden)
		fprintf(stderr, "... and %" PRIu64 " more rejected row%s\n",
		        x.hidden, plural(x.hidden));
	if (x.write_errno) {
		fprintf(stderr, PROG ": %s: write error: %s\n", a->rejects,
		        strerror(x.write_errno));
		fprintf(stderr, PROG ": %s: nothing counted\n", x.name);
		return EXIT_FAIL;
	}
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		return EXIT_FAIL;
	}
	fprintf(stderr,
	        "%s: %" PRIu64 " row%s counted, %" PRIu64 " rejected, %" PRIu64
	        " warned in %.2f s\n",
	        x.name, st.rows_counted, plural(st.rows_counted),
	        st.rows_rejected, st.rows_warned, now() - t0);
	return EXIT_OK;
}

int cli_ingest(evc_store *store, const struct ingest_args *a)
{
	FILE *rejects = NULL;
	int rc = EXIT_OK;

	if (a->rejects) {
		rejects = fopen(a->rejects, "w");
		if (!rejects) {
			fprintf(stderr, PROG ": %s: %s\n", a->rejects,
			        strerror(errno));
			return EXIT_FAIL;
		}
		fputs(a->n_files > 1 ? "file,line,reason,text\n"
		                     : "line,reason,text\n",
		      rejects);
		if (fflush(rejects) == EOF) {
			fprintf(stderr, PROG ": %s: write error: %s\n",
			        a->rejects, strerror(errno));
			fclose(rejects);
			return EXIT_FAIL;
		}
	}
	/* Each file is its own transaction: stopping at the first failure
	 * leaves the store holding exactly the files reported as counted. */
	for (int i = 0; i < a->n_files && rc == EXIT_OK; i++)
		rc = ingest_one(store, a->files[i], a, rejects);
	if (rejects && fclose(rejects) == EOF && rc == EXIT_OK) {
		fprintf(stderr, PROG ": %s: write error: %s\n", a->rejects,
		        strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}
