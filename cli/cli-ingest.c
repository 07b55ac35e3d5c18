/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli ingest: feed files to the library and report what it says,
 * with a progress bar on a terminal.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Rejected rows shown on stderr per file: enough to see what is wrong
 * without burying the summary under a badly broken file. */
#define MAX_SHOWN 10

/* A bar for a short ingest would only flicker: it is drawn for inputs
 * larger than this, or once an ingest has run PROGRESS_AFTER seconds. */
#define PROGRESS_MIN_BYTES (8u << 20)
#define PROGRESS_AFTER     0.5
/* Seconds between redraws: often enough to look alive, seldom enough to
 * cost nothing and stay readable. */
#define PROGRESS_EVERY 0.25

struct progress {
	bool enabled;
	bool drawn;          /* the bar is on screen: clear it before output */
	double t0;           /* when the ingest started */
	double last_draw;    /* when the bar was last drawn, 0: never */
	bool have_base;      /* base_* hold the first report */
	double base_t;       /* rates are measured from the first report: */
	uint64_t base_bytes; /* bytes_done starts at the resumed offset */
	uint64_t base_rows;
};

struct ingest_ctx {
	const char *name; /* the input as named in messages */
	FILE *rejects;    /* the --rejects file, or NULL for stderr */
	bool with_file;   /* several inputs: the records name theirs */
	bool quiet;       /* strict: the failure message names the row */
	uint64_t shown;
	uint64_t hidden;
	int write_errno; /* nonzero once writing the rejects file failed */
	struct progress bar;
};

/* Flushed at once so that a failing write stops the ingest while its
 * transaction can still be rolled back, rather than at exit after the
 * rows were committed with their rejects lost. */
static int flush_rejects(struct ingest_ctx *x)
{
	if (fflush(x->rejects) == EOF || ferror(x->rejects)) {
		x->write_errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Erase the bar, so that the next line on stderr starts clean. */
static void clear_bar(struct progress *b)
{
	if (!b->drawn)
		return;
	fputs("\r\033[K", stderr);
	b->drawn = false;
}

static int on_reject(const evc_reject *r, void *payload)
{
	struct ingest_ctx *x = payload;

	/* Counted rows: only the summary mentions them. */
	if (r->warning)
		return 0;
	if (x->rejects) {
		if (x->with_file) {
			cli_put_csv_field(x->rejects, x->name, strlen(x->name));
			putc(',', x->rejects);
		}
		fprintf(x->rejects, "%" PRIu64 ",", r->line);
		cli_put_csv_field(x->rejects, r->reason, strlen(r->reason));
		putc(',', x->rejects);
		cli_put_csv_field(x->rejects, r->text, r->text_len);
		putc('\n', x->rejects);
		return flush_rejects(x) ? 1 : 0;
	}
	if (x->quiet)
		return 0;
	if (x->shown < MAX_SHOWN) {
		clear_bar(&x->bar);
		fprintf(stderr, "%s:%" PRIu64 ": rejected: %s\n", x->name,
		        r->line, r->reason);
		x->shown++;
	} else {
		x->hidden++;
	}
	return 0;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void fmt_bytes(char *buf, size_t len, uint64_t n)
{
	if (n < 1000000)
		snprintf(buf, len, "%.1f kB", (double)n / 1e3);
	else if (n < 1000000000)
		snprintf(buf, len, "%.1f MB", (double)n / 1e6);
	else
		snprintf(buf, len, "%.2f GB", (double)n / 1e9);
}

static void fmt_count(char *buf, size_t len, double n)
{
	if (n >= 1e6)
		snprintf(buf, len, "%.1fM", n / 1e6);
	else if (n >= 1e3)
		snprintf(buf, len, "%.1fk", n / 1e3);
	else
		snprintf(buf, len, "%.0f", n);
}

static void fmt_eta(char *buf, size_t len, double s)
{
	unsigned long t;

	/* Past 100 hours the estimate is noise. */
	if (!(s >= 0 && s < 360000)) {
		snprintf(buf, len, "--:--");
		return;
	}
	t = (unsigned long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60,
		         t % 60);
	else
		snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

static int term_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static void draw_bar(struct progress *b, const evc_progress *p, double t)
{
	char done[32], total[32], rows[32], eta[32], stats[160];
	double dt = t - b->base_t;
	double bytes_s = 0, rows_s = 0;
	size_t n = 0, name_len = strlen(p->source);
	int cols = term_columns();
	size_t room;

	/* Rates over less time than this are mostly the first report's
	 * noise. */
	if (dt >= 0.1) {
		bytes_s = (double)(p->bytes_done - b->base_bytes) / dt;
		rows_s = (double)(p->rows_read - b->base_rows) / dt;
	}
	fmt_bytes(done, sizeof(done), p->bytes_done);
	if (p->bytes_total) {
		uint64_t left = p->bytes_total > p->bytes_done
		                    ? p->bytes_total - p->bytes_done
		                    : 0;
		double pct = left ? 100.0 * (double)p->bytes_done /
		                        (double)p->bytes_total
		                  : 100.0;

		fmt_bytes(total, sizeof(total), p->bytes_total);
		n = (size_t)snprintf(stats, sizeof(stats), " %s / %s  %3.0f%%",
		                     done, total, pct);
		fmt_eta(eta, sizeof(eta),
		        bytes_s > 0 ? (double)left / bytes_s : -1);
	} else {
		n = (size_t)snprintf(stats, sizeof(stats), " %s", done);
	}
	if (bytes_s > 0) {
		fmt_count(rows, sizeof(rows), rows_s);
		n += (size_t)snprintf(stats + n, sizeof(stats) - n,
		                      "  %s rows/s  %.1f MB/s", rows,
		                      bytes_s / 1e6);
	}
	if (p->bytes_total)
		snprintf(stats + n, sizeof(stats) - n, "  ETA %s", eta);

	/* One line shorter than the terminal: a line that wraps cannot be
	 * redrawn in place. The name gives way first, keeping its end. */
	room = (size_t)(cols > 1 ? cols - 1 : 0);
	room = room > strlen(stats) + 1 ? room - strlen(stats) - 1 : 0;
	if (name_len <= room)
		fprintf(stderr, "\r%s:%s\033[K", p->source, stats);
	else if (room > 3)
		fprintf(stderr, "\r...%s:%s\033[K",
		        p->source + name_len - (room - 3), stats);
	else
		fprintf(stderr, "\r%.*s\033[K", cols > 1 ? cols - 1 : 0,
		        stats + 1);
	fflush(stderr);
	b->drawn = true;
	b->last_draw = t;
}

static int on_progress(const evc_progress *p, void *payload)
{
	struct ingest_ctx *x = payload;
	struct progress *b = &x->bar;
	double t = now();

	if (!b->have_base) {
		b->have_base = true;
		b->base_t = t;
		b->base_bytes = p->bytes_done;
		b->base_rows = p->rows_read;
	}
	if (b->last_draw == 0) {
		bool big = p->bytes_total > b->base_bytes &&
		           p->bytes_total - b->base_bytes > PROGRESS_MIN_BYTES;

		if (!big && t - b->t0 < PROGRESS_AFTER)
			return 0;
	} else if (t - b->last_draw < PROGRESS_EVERY) {
		return 0;
	}
	draw_bar(b, p, t);
	return 0;
}

/* The closing line of one input. */
static void print_summary(const char *name, const evc_ingest_stats *st,
                          double elapsed)
{
	const char *held = st->rows_held
	                       ? ", 1 unterminated last line held back "
	                         "(--follow)"
	                       : "";

	if (st->source == EVC_SOURCE_UNCHANGED) {
		fprintf(stderr,
		        "%s: already ingested: 0 new rows%s (checked in %.2f "
		        "s)\n",
		        name, held, elapsed);
		return;
	}
	fprintf(stderr,
	        "%s: %" PRIu64 " row%s counted, %" PRIu64 " rejected, %" PRIu64
	        " warned",
	        name, st->rows_counted, plural(st->rows_counted),
	        st->rows_rejected, st->rows_warned);
	if (st->source == EVC_SOURCE_RESUMED)
		fprintf(stderr,
		        ", %" PRIu64 " skipped (already ingested: resumed at "
		        "byte %" PRIu64 ")",
		        st->rows_skipped, st->bytes_skipped);
	fprintf(stderr, "%s in %.2f s (%.1f MB/s)\n", held, elapsed,
	        elapsed > 0 ? (double)st->bytes / elapsed / 1e6 : 0.0);
}

/* The closing line of a piece of a tracked stream. */
static void print_stream_summary(const char *name, const char *stream,
                                 const evc_ingest_stats *st, uint64_t committed,
                                 double elapsed)
{
	fprintf(stderr,
	        "%s: %" PRIu64 " row%s counted, %" PRIu64 " rejected, %" PRIu64
	        " warned",
	        name, st->rows_counted, plural(st->rows_counted),
	        st->rows_rejected, st->rows_warned);
	if (st->bytes_skipped)
		fprintf(stderr, ", %" PRIu64 " bytes already counted, skipped",
		        st->bytes_skipped);
	if (st->rows_held)
		fprintf(stderr, ", an unterminated last line held back");
	fprintf(stderr,
	        " in %.2f s; stream %s committed to offset %" PRIu64 "\n",
	        elapsed, stream, committed);
}

/* After a failure, what the store kept of the input: nothing of a stream
 * or in strict mode, else the file's checkpoints, which a later ingest
 * resumes after. */
static void print_kept(const char *name, bool strict,
                       const evc_ingest_stats *st)
{
	if (strict || st->source == EVC_SOURCE_STREAM)
		fprintf(stderr, PROG ": %s: nothing counted\n", name);
	else
		fprintf(stderr,
		        PROG ": %s: counted up to its last checkpoint, if it "
		             "reached one; ingesting it again resumes there\n",
		        name);
}

static int ingest_one(evc_store *store, const char *file,
                      const struct ingest_args *a, FILE *rejects)
{
	bool is_stdin = strcmp(file, "-") == 0;
	struct ingest_ctx x = {
	    .name = is_stdin ? "<stdin>" : file,
	    .rejects = rejects,
	    .with_file = a->n_files > 1,
	    .quiet = a->strict,
	    .bar.enabled = a->progress && isatty(STDERR_FILENO),
	};
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st = {0};
	double t0, elapsed;
	int rc;

	opts.flags = (a->strict ? EVC_INGEST_STRICT : 0) |
	             (a->follow ? EVC_INGEST_FOLLOW : 0) |
	             (a->force ? EVC_INGEST_FORCE : 0);
	opts.checkpoint_bytes = a->checkpoint_bytes;
	opts.on_reject = on_reject;
	if (x.bar.enabled)
		opts.on_progress = on_progress;
	opts.payload = &x;
	t0 = now();
	x.bar.t0 = t0;
	uint64_t committed = 0;
	if (a->stream) {
		const int fd =
		    is_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, PROG ": %s: cannot open: %s\n", file,
			        strerror(errno));
			return EXIT_FAIL;
		}
		rc = evc_ingest_stream(store, a->stream, a->offset, fd, &opts,
		                       &st, &committed);
		if (!is_stdin)
			close(fd);
	} else if (is_stdin) {
		rc = evc_ingest_fd(store, STDIN_FILENO, x.name, &opts, &st);
	} else {
		rc = evc_ingest_csv(store, file, &opts, &st);
	}
	elapsed = now() - t0;
	clear_bar(&x.bar);
	if (x.hidden)
		fprintf(stderr, "... and %" PRIu64 " more rejected row%s\n",
		        x.hidden, plural(x.hidden));
	if (st.source == EVC_SOURCE_FORCED)
		fprintf(stderr,
		        PROG ": %s: changed since it was ingested; --force: "
		             "ingested again as a new source\n",
		        x.name);
	if (x.write_errno) {
		fprintf(stderr, PROG ": %s: write error: %s\n", a->rejects,
		        strerror(x.write_errno));
		print_kept(x.name, a->strict, &st);
		return EXIT_FAIL;
	}
	if (rc != EVC_OK && a->stream) {
		/* The stream's committed offset is where to go on from. */
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		fprintf(stderr,
		        PROG ": stream %s: committed offset %" PRIu64 "\n",
		        a->stream, committed);
		return EXIT_FAIL;
	}
	if (rc != EVC_OK) {
		/* EVC_ECHANGED's message names the file and what changed. */
		fprintf(stderr, PROG ": %s\n", cli_errmsg(store, rc));
		/* Strict mode counts nothing and says so. */
		if (!a->strict && rc != EVC_ECHANGED &&
		    (st.rows_read > 0 || st.bytes > 0))
			print_kept(x.name, a->strict, &st);
		return EXIT_FAIL;
	}
	if (a->stream)
		print_stream_summary(x.name, a->stream, &st, committed,
		                     elapsed);
	else
		print_summary(x.name, &st, elapsed);
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
	/* Stopping at the first failure leaves the store holding the files
	 * reported as counted, and of the failed one at most its
	 * checkpoints, which the next ingest resumes after. */
	for (int i = 0; i < a->n_files && rc == EXIT_OK; i++)
		rc = ingest_one(store, a->files[i], a, rejects);
	if (rejects && fclose(rejects) == EOF && rc == EXIT_OK) {
		fprintf(stderr, PROG ": %s: write error: %s\n", a->rejects,
		        strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}
