/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once bookkeeping of tracked streams (see source.h): a named
 * stream's source row holds its committed offset, advanced with the
 * counts at each checkpoint, so that a piece sent again counts nothing and
 * a piece past a gap is refused. The ingest driver calls these.
 */
#include "source.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int evc__stream_name_check(const char *name, evc_error *err)
{
	const size_t len = strlen(name);

	if (len == 0 || len > EVC_STREAM_NAME_MAX)
		return evc__fail(err, EVC_EINVAL,
		                 "stream name must be 1 to %d bytes, not %zu",
		                 EVC_STREAM_NAME_MAX, len);
	if (!evc__utf8_valid((const unsigned char *)name, len))
		return evc__fail(err, EVC_EINVAL,
		                 "stream name is not valid UTF-8");
	if (evc__utf8_unprintable((const unsigned char *)name, len))
		return evc__fail(err, EVC_EINVAL,
		                 "stream name holds control or bidirectional "
		                 "characters");
	return EVC_OK;
}

uint64_t evc__stream_key(const char *name)
{
	evc_hash h;

	/* Not the head fingerprint of any file: a stream's claim takes no
	 * lock on files' sources. */
	evc__hash_init(&h);
	evc__hash_update(&h, "stream\n", 7);
	evc__hash_update(&h, name, strlen(name));
	return evc__hash_final(&h) | 1;
}

struct find {
	const char *name;
	evc_source_row *row;
	bool found;
};

static int find_one(const evc_source_row *r, void *payload)
{
	struct find *f = payload;

	if (r->kind != EVC_KIND_STREAM || r->retracted ||
	    strcmp(r->path, f->name) != 0)
		return EVC_OK;
	*f->row = *r;
	f->row->path = f->name;
	f->row->realpath = "";
	f->found = true;
	return 1; /* the newest is the stream */
}

int evc__stream_find(const evc_backend *be, evc_db *db, const char *name,
                     evc_source_row *row, bool *found, evc_error *err)
{
	struct find f = {name, row, false};
	int rc = be->sources(db, true, find_one, &f, err);

	*found = f.found;
	return rc == 1 ? EVC_OK : rc;
}

int evc__stream_claim(evc_store *store, const char *name,
                      evc_stream_claim *claim)
{
	bool found;
	int rc;

	memset(claim, 0, sizeof(*claim));
	claim->key = evc__stream_key(name);
	if ((rc = evc__stream_find(store->be, store->db, name, &claim->row,
	                           &found, &store->err)))
		return rc;
	if (!found) {
		/* Written at the first checkpoint, with its first counts. */
		evc_source_row *r = &claim->row;
		r->kind = EVC_KIND_STREAM;
		r->path = name;
		r->realpath = "";
		r->next_line = 1;
		r->first_ingest = r->last_ingest = (int64_t)time(NULL);
		r->counted_from = 0;
	}
	return EVC_OK;
}

int evc__stream_checkpoint(const evc_backend *be, evc_db *db,
                           evc_stream_claim *claim, const evc_ckpt *ck,
                           evc_error *err)
{
	evc_source_row *r = &claim->row, now;
	const evc_ingest_stats *st = &ck->stats;
	bool found;
	int rc;

	if (ck->offset == r->offset)
		return EVC_OK;
	/* Between this ingest's transactions another may have committed
	 * bytes of the stream: then these would count twice. */
	if ((rc = evc__stream_find(be, db, r->path, &now, &found, err)))
		return rc;
	if (found != (r->id != 0) || (found && now.offset != r->offset))
		return evc__fail(
		    err, EVC_EBUSY,
		    "stream %s: store is busy: another ingest of "
		    "the stream committed meanwhile; nothing "
		    "counted from offset %llu on (send again from "
		    "offset %llu)",
		    r->path, (unsigned long long)r->offset,
		    (unsigned long long)(found ? now.offset : r->offset));
	r->offset = r->size = ck->offset;
	r->next_line = ck->next_line;
	r->rows_counted += st->rows_counted - claim->committed.rows_counted;
	r->rows_rejected += st->rows_rejected - claim->committed.rows_rejected;
	r->rows_warned += st->rows_warned - claim->committed.rows_warned;
	r->last_ingest = (int64_t)time(NULL);
	return r->id == 0 ? be->source_insert(db, r, err)
	                  : be->source_update(db, r, err);
}

EVC_EXPORT int evc_stream_offset(evc_store *store, const char *stream,
                                 uint64_t *committed)
{
	evc_source_row row;
	bool found;
	int rc;

	if (!store || !stream || !committed)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_stream_offset: NULL argument");
	if ((rc = evc__stream_name_check(stream, &store->err)))
		return rc;
	evc__store_enter(store);
	rc = evc__stream_find(store->be, store->db, stream, &row, &found,
	                      &store->err);
	evc__store_leave(store);
	if (rc == EVC_OK)
		*committed = found ? row.offset : 0;
	return rc;
}
