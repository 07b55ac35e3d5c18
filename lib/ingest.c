/* SPDX-License-Identifier: MIT */
/*
 * The ingest driver, a pipeline of three stages: the calling thread reads
 * records from the CSV scanner, checks each row and reports rejects and
 * warnings, and passes accepted rows on in chunks; the aggregating stage
 * adds them to a bounded batch; the writing stage sorts full batches, adds
 * them to the store and commits checkpoints. With input large
 * enough, each stage has a thread of its own (stage.c), so an ingest uses
 * every core it has; else they run inline, in the same order. Counts and
 * the input's offset are committed together at checkpoints, so a failed
 * or killed ingest leaves exactly the checkpointed prefix.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 256k keys: an 8 MiB table. Three of them (one aggregated into, up to
 * two queued for the writer or being written) and the store's 24 MiB page
 * cache keep an ingest inside 64 MiB, and let the aggregator go on while
 * the writer takes longer than usual on a batch (a checkpoint's commit).
 * Batches twice the size, two of them, saved the writer 10% of its work
 * (fewer hours written twice) but the stages waited for each other: 1.8 s
 * against 1.7 s for the 10M-row benchmark file. A fourth batch gained
 * nothing once the writer's statements were batched; its 8 MiB do more in
 * the page cache. */
#define BATCH_KEYS (1u << 18)
#define BATCHES    3
/* Below this, threads cost more than they save. */
#define THREADED_MIN_BYTES (4u << 20)
/* Rows per chunk passed from parsing to aggregating: large enough that
 * handing a chunk over costs nothing next to parsing it, small enough to
 * stay in L2 (two chunks of ~0.5 MiB). */
#define CHUNK_ROWS  8192
#define CHUNK_NAMES (CHUNK_ROWS * 48)

size_t evc__ingest_batch_keys = BATCH_KEYS;
uint64_t evc__ingest_threaded_min = THREADED_MIN_BYTES;
size_t evc__ingest_hour_rows, evc__ingest_hour_bytes;
#define PROGRESS_EVERY (1u << 20)

/* Accepted rows on their way from parsing to aggregating: the customer id
 * bytes (the read buffer they point into moves on) and the minute. */
struct chunk {
	size_t n, names_len;
	bool checkpoint; /* commit ck after these rows */
	bool last;       /* the input's end: flush the batch */
	evc_ckpt ck;
	uint32_t name_off[CHUNK_ROWS];
	uint8_t name_len[CHUNK_ROWS]; /* ids are at most 255 bytes */
	int64_t minute[CHUNK_ROWS];
	char names[CHUNK_NAMES];
};

/* Which stage failed first: its message is the ingest's. */
enum origin { NO_FAILURE, PARSER, AGGREGATOR, WRITER };

struct ingest {
	evc_store *store;
	const evc_backend *be;
	const char *name;
	const evc_ingest_options *opts;
	evc_ingest_stats *stats;
	struct chunk *chunk[2]; /* filled, and being aggregated */
	unsigned cur_chunk;     /* the chunk being filled */
	evc_stage *aggregator;
	bool stage_failed; /* a chunk hand-over returned a stage's failure */
	atomic_int first_failure; /* enum origin */
	evc_csv *csv;
	evc_date_cache dates;
	uint64_t size; /* 0 when unknown */
	uint64_t next_progress;
	evc_claim *claim;         /* a file's source, or NULL */
	evc_stream_claim *stream; /* a tracked stream's, or NULL */
	const evc_replay *replay; /* a retraction's reading, or NULL */
	uint64_t checkpoint_at;   /* input offset of the next checkpoint */
	uint64_t checkpoint_bytes;
	/* Owned by the aggregating stage while it runs: */
	evc_error aerr;
	evc_agg *batch[BATCHES]; /* a ring: aggregated into, then written */
	unsigned n_batches, cur; /* the batch being aggregated into */
	evc_stage *writer;
	/* Owned by the writing stage while it runs: */
	evc_error werr;
	evc_hour_set hours; /* rows on their way to the store */
	size_t set_rows, set_bytes;
	uint64_t keys_written;
};

/* A stage's own failure (not one passed on from the stage after it). */
static int failed(struct ingest *in, enum origin who, int rc)
{
	int none = NO_FAILURE;
	atomic_compare_exchange_strong(&in->first_failure, &none, (int)who);
	return rc;
}

/* Whether the input has a source row that advances at checkpoints. */
static bool tracked(const struct ingest *in)
{
	return in->claim || in->stream;
}

/* Writer side: add the hour rows gathered so far to the store (or, for a
 * retraction, take them from it). */
static int flush_hours(struct ingest *in)
{
	evc_hour_set *set = &in->hours;
	int rc;

	if (in->replay) {
		evc_removal r = {0};
		rc = in->be->subtract_hours(in->store->db, set, &r, &in->werr);
		if (rc == EVC_OK)
			in->replay->subtracted(in->replay->ctx, set, &r);
	} else {
		rc = in->be->add_hours(in->store->db, set, &in->werr);
	}
	set->n = set->blobs_len = 0;
	return rc;
}

/* Writer side: turn a sorted batch into hour rows, (customer, hour) order,
 * and add them to the store in sets of the backend's size. */
static int write_batch(struct ingest *in, evc_agg *batch)
{
	evc_hour_set *set = &in->hours;
	size_t n;
	const evc_agg_entry *e = evc__agg_sorted(batch, &n);
	int rc;

	for (size_t i = 0; i < n;) {
		const uint32_t ci = e[i].customer;
		size_t len;
		const char *name = evc__agg_customer(batch, ci, &len);
		int64_t cust;
		/* A retraction creates nothing: a customer that is not there
		 * has nothing to take from. */
		if ((rc = in->be->customer(in->store->db, name, len,
		                           !in->replay, &cust, &in->werr)))
			return rc;
		if (cust == 0)
			return evc__fail(&in->werr, EVC_ECORRUPT,
			                 "%s: corrupt store: customer %.*s has "
			                 "no counts to take back",
			                 in->store->path, (int)len, name);
		/* Entries are sorted by (customer, minute): each hour's
		 * minutes are adjacent. */
		while (i < n && e[i].customer == ci) {
			if (set->n >= in->set_rows ||
			    set->blobs_len + EVC_MINUTES_BLOB_MAX >
			        in->set_bytes) {
				if ((rc = flush_hours(in)))
					return rc;
			}
			const int64_t hour = evc__floor_div(e[i].minute, 60);
			const int64_t end = (hour + 1) * 60;
			evc_hour_row *row = &set->row[set->n++];
			uint8_t *blob = set->blobs + set->blobs_len;
			uint64_t total = 0;
			size_t blen = 0;
			/* Each (customer, minute) is one entry, in minute
			 * order: the blob is built as it is read. */
			for (;
			     i < n && e[i].customer == ci && e[i].minute < end;
			     i++) {
				blen += evc__minutes_put(
				    blob + blen,
				    (unsigned)(e[i].minute - hour * 60),
				    e[i].count);
				total += e[i].count;
			}
			*row =
			    (evc_hour_row){.customer = cust,
			                   .hour = hour,
			                   .total = total,
			                   .blob_off = (uint32_t)set->blobs_len,
			                   .blob_len = (uint32_t)blen};
			set->blobs_len += blen;
		}
	}
	in->keys_written += n;
	return flush_hours(in);
}

/* The hour set, as large as the backend takes (tests make it smaller). */
static int hours_new(struct ingest *in)
{
	in->set_rows = in->be->set_rows;
	in->set_bytes = in->be->set_bytes;
	if (evc__ingest_hour_rows && evc__ingest_hour_rows < in->set_rows)
		in->set_rows = evc__ingest_hour_rows;
	if (evc__ingest_hour_bytes && evc__ingest_hour_bytes < in->set_bytes)
		in->set_bytes = evc__ingest_hour_bytes;
	in->hours.row = evc__malloc(in->set_rows * sizeof(evc_hour_row));
	in->hours.blobs = evc__malloc(in->set_bytes);
	in->hours.n = in->hours.blobs_len = 0;
	return in->hours.row && in->hours.blobs ? EVC_OK : EVC_ENOMEM;
}

static int report(struct ingest *in, const evc_csv_record *rec, int warning,
                  const char *reason)
{
	if (!in->opts->on_reject)
		return EVC_OK;
	const evc_reject r = {
	    .source = in->name,
	    .line = rec->line,
	    .warning = warning,
	    .reason = reason,
	    .text = rec->text,
	    .text_len = rec->text_len,
	    .text_truncated = rec->text_truncated,
	};
	if (in->opts->on_reject(&r, in->opts->payload))
		return evc__fail(&in->store->err, EVC_EABORTED,
		                 "%s:%llu: ingest stopped by the reject "
		                 "callback",
		                 in->name, (unsigned long long)rec->line);
	return EVC_OK;
}

static int progress(struct ingest *in)
{
	const uint64_t done = evc__csv_offset(in->csv);
	if (!in->opts->on_progress || done < in->next_progress)
		return EVC_OK;
	in->next_progress = done + PROGRESS_EVERY;
	const evc_progress p = {
	    .source = in->name,
	    .bytes_done = done,
	    .bytes_total = in->size,
	    .rows_read = in->stats->rows_read,
	};
	if (in->opts->on_progress(&p, in->opts->payload))
		return evc__fail(&in->store->err, EVC_EABORTED,
		                 "%s: ingest stopped by the progress callback",
		                 in->name);
	return EVC_OK;
}

/* Writer side: commit the counts so far together with the source's new
 * offset, so a crash at any instant leaves counts of exactly the committed
 * prefix. */
static int write_checkpoint(struct ingest *in, const evc_ckpt *ck)
{
	evc_db *db = in->store->db;
	int rc;

	if ((rc = in->claim ? evc__source_checkpoint(in->be, db, in->claim, ck,
	                                             in->name, &in->werr)
	                    : evc__stream_checkpoint(in->be, db, in->stream, ck,
	                                             &in->werr)) ||
	    (rc = in->be->note_ingest(db, (int64_t)time(NULL), &in->werr)) ||
	    (rc = in->be->commit(db, &in->werr)))
		return rc;
	if (in->claim)
		in->claim->committed = ck->stats;
	else
		in->stream->committed = ck->stats;
	const uint64_t key = in->claim ? in->claim->key : in->stream->key;
	if (!ck->last && (rc = in->be->begin_write(db, key, &in->werr)))
		return rc;
	return EVC_OK;
}

/* The writing stage's job: a batch, then maybe a checkpoint. It has the
 * store's connection to itself meanwhile (see evc__store_enter()). */
static int write_job(void *ctx, void *batch, const evc_ckpt *ck)
{
	struct ingest *in = ctx;
	pthread_mutex_lock(&in->store->use);
	int rc = write_batch(in, batch);
	if (rc == EVC_OK && ck)
		rc = write_checkpoint(in, ck);
	pthread_mutex_unlock(&in->store->use);
	return rc != EVC_OK && in->werr.code ? failed(in, WRITER, rc) : rc;
}

/* Aggregating side: hand the current batch (and a checkpoint) to the
 * writer and go on with the next batch of the ring, which the writer has
 * finished with. Whichever stage is ahead sorts the batch (5 ms): with the
 * writer still busy, the aggregator (a merge into a full store: second
 * 10M-row file 1.56-1.58 s -> 1.47-1.50 s); else the writer, in time it
 * would spend waiting, while the parser goes on (first file 1.12-1.17 s ->
 * 1.09-1.15 s; sorting here, the parser waited for a free chunk). */
static int hand_over(struct ingest *in, const evc_ckpt *ck)
{
	size_t n;

	if (evc__stage_outstanding(in->writer) > 0)
		(void)evc__agg_sorted(in->batch[in->cur], &n);
	int rc = evc__stage_submit(in->writer, in->batch[in->cur], ck);
	if (rc != EVC_OK)
		return rc;
	in->cur = (in->cur + 1) % in->n_batches;
	/* Emptying the batch the writer is done with (8 MiB of stores) is
	 * done here: the writer has the most work. */
	evc__agg_reset(in->batch[in->cur]);
	return EVC_OK;
}

/* The aggregating stage's job: add a chunk of rows to the batch, handing
 * the batch over when it is full, at a checkpoint and at the end. */
static int aggregate_job(void *ctx, void *job, const evc_ckpt *unused)
{
	struct ingest *in = ctx;
	const struct chunk *c = job;
	int rc;

	(void)unused;
	for (size_t i = 0; i < c->n; i++) {
		const char *id = c->names + c->name_off[i];
		rc = evc__agg_add(in->batch[in->cur], id, c->name_len[i],
		                  c->minute[i]);
		if (rc == EVC_ERANGE) {
			if ((rc = hand_over(in, NULL)))
				return rc;
			rc = evc__agg_add(in->batch[in->cur], id,
			                  c->name_len[i], c->minute[i]);
		}
		if (rc != EVC_OK) /* rows were checked: not expected */
			return failed(
			    in, AGGREGATOR,
			    evc__fail(&in->aerr, rc,
			              "%s: internal error aggregating "
			              "rows",
			              in->name));
	}
	if (c->checkpoint || c->last)
		return hand_over(in, c->checkpoint ? &c->ck : NULL);
	return EVC_OK;
}

/* Parser side: hand the current chunk (and a checkpoint) to the
 * aggregating stage and go on with the other one. */
static int pass_on(struct ingest *in, bool checkpoint, bool last)
{
	struct chunk *c = in->chunk[in->cur_chunk];

	c->checkpoint = checkpoint;
	c->last = last;
	if (checkpoint) {
		c->ck.offset = evc__csv_offset(in->csv);
		c->ck.prefix_hash = evc__hash_final(evc__csv_hash(in->csv));
		c->ck.next_line = evc__csv_line(in->csv);
		c->ck.stats = *in->stats;
		c->ck.last = last;
		in->checkpoint_at = c->ck.offset + in->checkpoint_bytes;
	}
	int rc = evc__stage_submit(in->aggregator, c, NULL);
	if (rc != EVC_OK) {
		in->stage_failed = true;
		return rc;
	}
	in->cur_chunk ^= 1;
	c = in->chunk[in->cur_chunk];
	c->n = 0;
	c->names_len = 0;
	return EVC_OK;
}

static int add_row(struct ingest *in, const evc_csv_field *id, int64_t minute)
{
	struct chunk *c = in->chunk[in->cur_chunk];
	int rc;

	if (c->n == CHUNK_ROWS || c->names_len + id->len > CHUNK_NAMES) {
		if ((rc = pass_on(in, false, false)))
			return rc;
		c = in->chunk[in->cur_chunk];
	}
	memcpy(c->names + c->names_len, id->ptr, id->len);
	c->name_off[c->n] = (uint32_t)c->names_len;
	c->name_len[c->n] = (uint8_t)id->len;
	c->minute[c->n] = minute;
	c->names_len += id->len;
	c->n++;
	return EVC_OK;
}

static int ingest_records(struct ingest *in)
{
	evc_error *err = &in->store->err;
	const evc_replay *replay = in->replay;
	evc_csv_record rec;
	char reason[EVC_REASON_MAX];
	int rc, ioerr = 0;
	uint64_t start = evc__csv_offset(in->csv); /* of the next record */

	while ((rc = evc__csv_next(in->csv, &rec, &ioerr)) == 1) {
		/* A header is line 1 of an input and nothing else: the same
		 * bytes count the same whether they come whole or appended
		 * in pieces. */
		if (rec.line == 1 && evc__is_header(&rec)) {
			if (replay &&
			    (rc = replay->row(replay->ctx, in->csv, start, &rec,
			                      true, NULL, NULL, 0, NULL)))
				return rc;
			start = evc__csv_offset(in->csv);
			continue;
		}
		in->stats->rows_read++;
		if ((rc = progress(in)))
			return rc;
		int64_t minute;
		const char *warn;
		const char *why =
		    evc__check_row(&rec, &minute, &warn, reason, &in->dates);
		if (replay) {
			/* A retraction takes back what the ingest counted,
			 * the replay saying which rows those are. */
			bool take = false;
			if ((rc = replay->row(replay->ctx, in->csv, start, &rec,
			                      false, why, warn, minute, &take)))
				return rc;
			start = evc__csv_offset(in->csv);
			if (take) {
				if ((rc = add_row(in, &rec.field[0], minute)))
					return rc;
				in->stats->rows_counted++;
			}
			continue;
		}
		if (why) {
			in->stats->rows_rejected++;
			if ((rc = report(in, &rec, 0, why)))
				return rc;
			if (in->opts->flags & EVC_INGEST_STRICT)
				return evc__fail(err, EVC_EPARSE,
				                 "%s:%llu: %s (strict mode: "
				                 "nothing counted)",
				                 in->name,
				                 (unsigned long long)rec.line,
				                 why);
			continue;
		}
		if (warn) {
			in->stats->rows_warned++;
			if ((rc = report(in, &rec, 1, warn)))
				return rc;
		}
		if ((rc = add_row(in, &rec.field[0], minute)))
			return rc;
		in->stats->rows_counted++;
		if (tracked(in) &&
		    evc__csv_offset(in->csv) >= in->checkpoint_at &&
		    (rc = pass_on(in, true, false)))
			return rc;
	}
	in->stats->bytes = evc__csv_bytes(in->csv);
	if (rc == EVC_EIO)
		return evc__fail(err, EVC_EIO, "%s: read error: %s", in->name,
		                 strerror(ioerr));
	if (rc != 0)
		return evc__fail(err, rc, "%s: out of memory", in->name);
	in->stats->rows_held = evc__csv_held(in->csv);
	return pass_on(in, tracked(in), true);
}

/* The status of a finished pipeline: the parser's own failure, or the
 * first failure of a stage, with its message in the store's slot. */
static int outcome(struct ingest *in, int rc, int arc, int wrc)
{
	evc_store *store = in->store;

	if (rc != EVC_OK && !in->stage_failed)
		failed(in, PARSER, rc);
	switch (atomic_load(&in->first_failure)) {
	case WRITER:
		store->err = in->werr;
		return wrc;
	case AGGREGATOR:
		store->err = in->aerr;
		return arc;
	default:
		return rc;
	}
}

/* Read the input to its end inside the transaction the caller began;
 * commits on success, rolls back the open transaction on failure. */
static int run(struct ingest *in, int fd, const evc_hash *prefix)
{
	evc_store *store = in->store;
	int rc = EVC_OK;

	/* Streams have no known size: they may be large. */
	const bool threaded =
	    in->opts->threads != 1 &&
	    (in->size == 0 || in->size >= evc__ingest_threaded_min);
	/* Inline, each job is done before the next: one of each. */
	in->n_batches = threaded ? BATCHES : 1;
	for (unsigned i = 0; i < in->n_batches && rc == EVC_OK; i++)
		rc = evc__agg_new(&in->batch[i], evc__ingest_batch_keys);
	if (rc != EVC_OK || hours_new(in) != EVC_OK ||
	    !(in->chunk[0] = evc__malloc(sizeof(struct chunk))) ||
	    (threaded && !(in->chunk[1] = evc__malloc(sizeof(struct chunk)))) ||
	    (rc = evc__csv_new(&in->csv, fd, 0)) ||
	    (rc = evc__stage_start(&in->writer, threaded, in->n_batches - 1,
	                           write_job, in)) ||
	    (rc = evc__stage_start(&in->aggregator, threaded, 1, aggregate_job,
	                           in))) {
		rc = evc__fail(&store->err, EVC_ENOMEM, "%s: out of memory",
		               in->name);
		goto out;
	}
	if (!threaded)
		in->chunk[1] = in->chunk[0];
	in->chunk[0]->n = in->chunk[0]->names_len = 0;
	if (in->replay)
		evc__csv_set_limit(in->csv, in->replay->limit);
	if (tracked(in)) {
		const evc_source_row *src =
		    in->claim ? &in->claim->row : &in->stream->row;
		evc__csv_resume(in->csv, src->offset, src->next_line, prefix);
		/* A stream's piece may stop anywhere: its last line waits for
		 * the next piece. */
		evc__csv_set_follow(in->csv, in->stream || (in->opts->flags &
		                                            EVC_INGEST_FOLLOW));
		in->checkpoint_bytes = in->opts->checkpoint_bytes
		                           ? in->opts->checkpoint_bytes
		                           : EVC_CHECKPOINT_DEFAULT;
		/* Strict mode counts nothing of a failing input: one
		 * transaction. */
		if (in->opts->flags & EVC_INGEST_STRICT)
			in->checkpoint_bytes = UINT64_MAX / 2;
		in->checkpoint_at = src->offset + in->checkpoint_bytes;
	}
	rc = ingest_records(in);
	/* The aggregator first: its last job may hand the writer a batch. */
	const int arc = evc__stage_finish(in->aggregator);
	const int wrc = evc__stage_finish(in->writer);
	in->aggregator = NULL;
	in->writer = NULL;
	rc = outcome(in, rc, arc, wrc);
	in->stats->bytes = evc__csv_bytes(in->csv);
	in->stats->keys_touched = in->keys_written;
	if (rc == EVC_OK && in->replay) {
		/* A retraction commits, once every file is read again, what
		 * its replays confirm. */
		rc = in->replay->finish(in->replay->ctx, &store->err);
	} else if (rc == EVC_OK && !tracked(in) &&
	           (rc = in->be->note_ingest(store->db, (int64_t)time(NULL),
	                                     &store->err)) == EVC_OK) {
		rc = in->be->commit(store->db, &store->err);
	}
out:
	evc__stage_finish(in->aggregator);
	evc__stage_finish(in->writer);
	if (rc != EVC_OK)
		in->be->rollback(store->db);
	else
		evc__clear_error(&store->err);
	evc__csv_free(in->csv);
	if (in->chunk[1] != in->chunk[0])
		free(in->chunk[1]);
	free(in->chunk[0]);
	free(in->hours.row);
	free(in->hours.blobs);
	for (unsigned i = 0; i < BATCHES; i++)
		evc__agg_free(in->batch[i]);
	return rc;
}

static int ingest_stream(evc_store *store, int fd, const char *name,
                         const evc_ingest_options *opts,
                         evc_ingest_stats *stats)
{
	struct ingest in = {
	    .store = store,
	    .be = store->be,
	    .name = name,
	    .opts = opts,
	    .stats = stats,
	};
	/* A stream claims no source: it is counted once per call. */
	int rc = store->be->begin_write(store->db, 0, &store->err);
	return rc ? rc : run(&in, fd, NULL);
}

static int ingest_file(evc_store *store, evc_input *input,
                       const evc_ingest_options *opts, evc_ingest_stats *stats)
{
	evc_claim claim;
	int rc;

	if ((rc = store->be->begin_write(store->db, evc__input_head_hash(input),
	                                 &store->err)))
		return rc;
	if ((rc =
	         evc__source_claim(store, input, opts->flags & EVC_INGEST_FORCE,
	                           &claim, stats))) {
		store->be->rollback(store->db);
		return rc;
	}
	struct ingest in = {
	    .store = store,
	    .be = store->be,
	    .name = input->path,
	    .opts = opts,
	    .stats = stats,
	    .size = input->size,
	    .claim = &claim,
	};
	rc = run(&in, input->fd, &claim.prefix);
	evc__claim_free(&claim);
	if (rc == EVC_OK && stats->source == EVC_SOURCE_RESUMED &&
	    stats->rows_read == 0)
		stats->source = EVC_SOURCE_UNCHANGED;
	return rc;
}

/* Read and drop n bytes of fd (fewer at its end: *done says how many);
 * an errno on failure. */
static int skip_bytes(int fd, uint64_t n, uint64_t *done)
{
	char buf[65536];

	*done = 0;
	while (*done < n) {
		const size_t want =
		    n - *done < sizeof(buf) ? (size_t)(n - *done) : sizeof(buf);
		const ssize_t got = read(fd, buf, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno;
		if (got == 0)
			break;
		*done += (uint64_t)got;
	}
	return 0;
}

static int ingest_tracked_stream(evc_store *store, const char *stream,
                                 uint64_t offset, int fd,
                                 const evc_ingest_options *opts,
                                 evc_ingest_stats *stats, uint64_t *committed)
{
	evc_stream_claim claim;
	evc_hash none;
	int rc;

	if ((rc = store->be->begin_write(store->db, evc__stream_key(stream),
	                                 &store->err)))
		return rc;
	if ((rc = evc__stream_claim(store, stream, &claim))) {
		store->be->rollback(store->db);
		return rc;
	}
	*committed = claim.row.offset;
	if (offset > claim.row.offset) {
		store->be->rollback(store->db);
		return evc__fail(&store->err, EVC_EOFFSET,
		                 "stream %s: offset %llu is past the committed "
		                 "offset %llu: bytes %llu to %llu are missing; "
		                 "send from offset %llu",
		                 stream, (unsigned long long)offset,
		                 (unsigned long long)claim.row.offset,
		                 (unsigned long long)claim.row.offset,
		                 (unsigned long long)offset,
		                 (unsigned long long)claim.row.offset);
	}
	/* The piece's bytes counted before: read past, not again. */
	if ((rc = skip_bytes(fd, claim.row.offset - offset,
	                     &stats->bytes_skipped))) {
		store->be->rollback(store->db);
		return evc__fail(&store->err, EVC_EIO,
		                 "stream %s: read error: %s", stream,
		                 strerror(rc));
	}
	stats->source = claim.row.id ? EVC_SOURCE_RESUMED : EVC_SOURCE_NEW;
	if (stats->bytes_skipped < claim.row.offset - offset) {
		/* Wholly counted before: a retry. */
		store->be->rollback(store->db);
		stats->source = EVC_SOURCE_UNCHANGED;
		return EVC_OK;
	}
	evc__hash_init(&none);
	struct ingest in = {
	    .store = store,
	    .be = store->be,
	    .name = stream,
	    .opts = opts,
	    .stats = stats,
	    .stream = &claim,
	};
	rc = run(&in, fd, &none);
	*committed = claim.row.offset;
	if (rc == EVC_OK && stats->source == EVC_SOURCE_RESUMED &&
	    stats->rows_read == 0)
		stats->source = EVC_SOURCE_UNCHANGED;
	return rc;
}

int evc__ingest_replay(evc_store *store, evc_input *input,
                       const evc_replay *replay, evc_ingest_stats *stats)
{
	static const evc_ingest_options defaults = EVC_INGEST_OPTIONS_INIT;
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (lseek(input->fd, 0, SEEK_SET) != 0)
		return evc__fail(&store->err, EVC_EIO, "%s: seek: %s",
		                 input->path, strerror(errno));
	struct ingest in = {
	    .store = store,
	    .be = store->be,
	    .name = input->path,
	    .opts = &defaults,
	    .stats = stats,
	    .size = replay->limit,
	    .replay = replay,
	};
	/* The caller's write transaction is the retraction's only one. */
	rc = run(&in, input->fd, NULL);
	return rc;
}

/* The checks every entry point makes, and the handle marked busy: its
 * callbacks may call the store meanwhile, but not ingest into it. */
static int enter(evc_store *store, const char *name,
                 const evc_ingest_options **opts)
{
	static const evc_ingest_options defaults = EVC_INGEST_OPTIONS_INIT;

	if (!*opts)
		*opts = &defaults;
	if ((*opts)->version != EVC_INGEST_OPTIONS_VERSION)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "%s: unsupported options version %u", name,
		                 (*opts)->version);
	return evc__writer_enter(store, name);
}

EVC_EXPORT int evc_ingest_fd(evc_store *store, int fd, const char *name,
                             const evc_ingest_options *opts,
                             evc_ingest_stats *stats)
{
	evc_ingest_stats local;
	int rc;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (!store)
		return evc__fail(NULL, EVC_EINVAL, "evc_ingest_fd: NULL store");
	if (fd < 0)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_ingest_fd: bad fd");
	if (!name)
		name = "<fd>";
	if ((rc = enter(store, name, &opts)))
		return rc;
	rc = ingest_stream(store, fd, name, opts, stats);
	evc__writer_leave(store);
	return rc;
}

EVC_EXPORT int evc_ingest_stream(evc_store *store, const char *stream,
                                 uint64_t offset, int fd,
                                 const evc_ingest_options *opts,
                                 evc_ingest_stats *stats, uint64_t *committed)
{
	evc_ingest_stats local;
	uint64_t at;
	int rc;

	if (!stats)
		stats = &local;
	if (!committed)
		committed = &at;
	memset(stats, 0, sizeof(*stats));
	*committed = 0;
	if (!store)
		return evc__fail(NULL, EVC_EINVAL,
		                 "evc_ingest_stream: NULL store");
	if (!stream || fd < 0)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_ingest_stream: %s",
		                 stream ? "bad fd" : "NULL stream name");
	if ((rc = evc__stream_name_check(stream, &store->err)) ||
	    (rc = enter(store, stream, &opts)))
		return rc;
	rc = ingest_tracked_stream(store, stream, offset, fd, opts, stats,
	                           committed);
	evc__writer_leave(store);
	return rc;
}

EVC_EXPORT int evc_ingest_csv(evc_store *store, const char *path,
                              const evc_ingest_options *opts,
                              evc_ingest_stats *stats)
{
	evc_ingest_stats local;
	evc_input input;
	int rc;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (!store)
		return evc__fail(NULL, EVC_EINVAL,
		                 "evc_ingest_csv: NULL store");
	if (!path)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_ingest_csv: NULL path");
	if ((rc = enter(store, path, &opts)))
		return rc;
	if ((rc = evc__input_open(&input, path, &store->err)) == EVC_OK) {
		if (input.size == UINT64_MAX) /* a pipe or device */
			rc = ingest_stream(store, input.fd, path, opts, stats);
		else
			rc = ingest_file(store, &input, opts, stats);
		evc__input_close(&input);
	}
	evc__writer_leave(store);
	return rc;
}
