/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once bookkeeping (source.c): which stored source an input file
 * is, where counting it resumes, and how its source row advances with the
 * counts at each checkpoint. The ingest driver calls these; nothing else
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
/* The fingerprint of the input's first bytes: the claim key of its write
 * transactions (storage.h). */
uint64_t evc__input_head_hash(const evc_input *in);

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

#endif /* EVC_SOURCE_H */
