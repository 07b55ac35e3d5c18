/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once bookkeeping: which stored source an input file is, where
 * counting it resumes, and how its source row advances with the counts at
 * each checkpoint (source.c); the same for tracked streams (stream.c). The
 * ingest driver calls these; besides them only retraction (retract.c)
 * writes sources.
 */
#ifndef EVC_SOURCE_H
#define EVC_SOURCE_H

#include "storage.h"

/* The first bytes of a file, fingerprinted to find copies of it. */
#define EVC_HEAD_BYTES 4096

/* An input file as opened for ingest. */
typedef struct evc_input {
	int fd;
	const char *path;
	char *realpath; /* owned */
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	unsigned char head[EVC_HEAD_BYTES];
	size_t head_len; /* min(size, EVC_HEAD_BYTES) */
} evc_input;

/* Open and describe an input file. EVC_ENOTFOUND, EVC_EIO on failure; a
 * non-regular file (pipe, device) gives EVC_OK with size UINT64_MAX. */
int evc__input_open(evc_input *in, const char *path, evc_error *err);
void evc__input_close(evc_input *in);
/* A store that many machines reach (storage.h: shared_paths) knows a file
 * by host and path: the input's realpath becomes "host:/resolved/path".
 * Call once, before the input is matched with sources. */
int evc__input_qualify(const evc_backend *be, evc_input *in, evc_error *err);
/* The fingerprint of the input's first bytes: the claim key of its write
 * transactions (storage.h). */
uint64_t evc__input_head_hash(const evc_input *in);
/* Extend h, the hash of the input's first *done bytes, to its first `to`
 * bytes (read with pread: the fd's offset stays). EVC_ECHANGED when the
 * input ends first, EVC_EIO on a read error. */
int evc__input_hash(evc_error *err, evc_input *in, uint64_t *done, uint64_t to,
                    evc_hash *h);

/* A source that may hold the same content as the input (its first bytes
 * are the input's), with its offset when the claim last looked. */
typedef struct evc_peer {
	int64_t id;
	uint64_t offset;
} evc_peer;

/* What an ingest of a file holds of its source between checkpoints. */
typedef struct evc_claim {
	evc_input *in;
	evc_source_row row;         /* the input's source, as last written */
	evc_hash prefix;            /* fingerprint state at row.offset */
	evc_ingest_stats committed; /* the ingest's stats at its last commit */
	uint64_t key;               /* evc__input_head_hash() */
	evc_peer *peers;            /* owned; as of the last commit */
	size_t n_peers, cap_peers;
} evc_claim;

/* In a write transaction: find which source the input is and where its
 * counting resumes (after the longest ingested prefix of any source it
 * starts with: its own, a copy's, a rename's), refuse it if its own
 * ingested part changed (EVC_ECHANGED; with `force` it becomes a new
 * source, counted from its start), write its source row and leave its fd
 * at the offset where counting resumes. Sets stats->source, bytes_skipped
 * and rows_skipped. */
int evc__source_claim(evc_store *store, evc_input *in, bool force,
                      evc_claim *claim, evc_ingest_stats *stats);
/* Free what a claim holds (not the claim). */
void evc__claim_free(evc_claim *claim);

/* At a checkpoint, in the claim's write transaction and with the counts up
 * to `ck` added: EVC_EBUSY when another ingest counted any of these bytes
 * meanwhile, under this input's name or another (a hard link, a copy, an
 * appended copy: any source whose ingested prefix is the input's content
 * and reaches past what this ingest committed), else advance the source
 * row to ck's offset with ck's row counters. Relies on the write lock of
 * storage.h: what it reads of sources cannot change before the commit.
 * Runs on the ingest's writing stage: failures go to `err`. */
int evc__source_checkpoint(const evc_backend *be, evc_db *db, evc_claim *claim,
                           const evc_ckpt *ck, const char *name,
                           evc_error *err);

/* The checks every correction makes of its arguments (erase.c): stats
 * pointed at `local` when NULL, and cleared; EVC_EINVAL, named after the
 * call, for no store or unknown flags. */
int evc__correction_args(evc_store *store, const char *name, unsigned flags,
                         evc_correction_stats **stats,
                         evc_correction_stats *local);
/* The fingerprint of a customer id, as erasures keep it (erase.c). */
uint64_t evc__customer_key(const char *id, size_t len);

/* ---- retraction's reading (ingest.c) ------------------------------------- */

/* A retraction reads its file's ingested bytes again through the ingest
 * pipeline, subtracting instead of adding, in the caller's write
 * transaction, which the caller commits once every file is read. */
typedef struct evc_replay {
	uint64_t limit; /* read [0, limit) of the file */
	void *ctx;
	/* Per record read, header lines included (header: true; then
	 * nothing else is set), with the input offset where it starts:
	 * `why` is the reason it is rejected, or NULL with its minute and
	 * warning; *take says whether to subtract it. A failure stops the
	 * reading. */
	int (*row)(void *ctx, evc_csv *csv, uint64_t start,
	           const evc_csv_record *rec, bool header, const char *why,
	           const char *warn, int64_t minute, bool *take);
	/* On the writing stage, after each set subtracted. */
	void (*subtracted)(void *ctx, const evc_hour_set *set,
	                   const evc_removal *r);
	/* Once everything read is subtracted, before the commit; a failure
	 * rolls back. */
	int (*finish)(void *ctx, evc_error *err);
} evc_replay;

/* Run the replay over `input` (its fd is read from offset 0) inside the
 * write transaction the caller began; rolls it back on failure. */
int evc__ingest_replay(evc_store *store, evc_input *input,
                       const evc_replay *replay, evc_ingest_stats *stats);

/* ---- tracked streams (stream.c) ----------------------------------------- */

/* What an ingest of a stream holds of its source between checkpoints. */
typedef struct evc_stream_claim {
	evc_source_row row;         /* as last written; id 0 before the first
	                               write. path is the caller's name. */
	evc_ingest_stats committed; /* the ingest's stats at its last commit */
	uint64_t key;               /* the claim key of its transactions */
} evc_stream_claim;

/* EVC_EINVAL, in err, for a name that is no stream's. */
int evc__stream_name_check(const char *name, evc_error *err);
/* The claim key of a stream's write transactions (storage.h). */
uint64_t evc__stream_key(const char *name);
/* The live source row of stream `name` (path and realpath not kept: the
 * row's path is `name`), if any. */
int evc__stream_find(const evc_backend *be, evc_db *db, const char *name,
                     evc_source_row *row, bool *found, evc_error *err);
/* In a write transaction: the stream's row as it is now, or a new one
 * (not yet written) at offset 0. `name` outlives the claim. */
int evc__stream_claim(evc_store *store, const char *name,
                      evc_stream_claim *claim);
/* At a checkpoint, as evc__source_checkpoint() for files: EVC_EBUSY when
 * another ingest moved the stream meanwhile, else the row advanced to
 * ck's offset (written for the first time if new). */
int evc__stream_checkpoint(const evc_backend *be, evc_db *db,
                           evc_stream_claim *claim, const evc_ckpt *ck,
                           evc_error *err);

#endif /* EVC_SOURCE_H */
