/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once bookkeeping (see source.h): which stored source an input
 * file is, whether the part of it ingested before is still intact, and its
 * source row from the claim at the start of an ingest to each checkpoint.
 * A file is the same source when it has the same resolved path (then its
 * ingested prefix must be unchanged, or it is refused), or when its
 * content starts with exactly the ingested prefix of a stored source (a
 * copy or a rename, possibly with rows appended since).
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CANDIDATES 64
#define VERIFY_CHUNK   (1u << 20)

int evc__input_open(evc_input *in, const char *path, evc_error *err)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->path = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return evc__fail(err, errno == ENOENT ? EVC_ENOTFOUND : EVC_EIO,
		                 "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int rc =
		    evc__fail(err, EVC_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return evc__fail(err, EVC_EIO,
		                 "%s: is a directory, not a CSV file", path);
	}
	in->fd = fd;
	if (!S_ISREG(st.st_mode)) {
		in->size = UINT64_MAX;
		return EVC_OK;
	}
	char resolved[PATH_MAX];
	if (!realpath(path, resolved)) {
		int rc =
		    evc__fail(err, EVC_EIO, "%s: %s", path, strerror(errno));
		evc__input_close(in);
		return rc;
	}
	in->realpath = evc__strndup(resolved, strlen(resolved));
	if (!in->realpath) {
		evc__input_close(in);
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory", path);
	}
	in->dev = (uint64_t)st.st_dev;
	in->ino = (uint64_t)st.st_ino;
	in->size = (uint64_t)st.st_size;
	in->mtime_ns =
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	const size_t want =
	    in->size < EVC_HEAD_BYTES ? (size_t)in->size : EVC_HEAD_BYTES;
	while (in->head_len < want) {
		ssize_t n = pread(fd, in->head + in->head_len,
		                  want - in->head_len, (off_t)in->head_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = evc__fail(err, EVC_EIO, "%s: read error: %s",
			                   path, strerror(errno));
			evc__input_close(in);
			return rc;
		}
		if (n == 0)
			break; /* shrank meanwhile */
		in->head_len += (size_t)n;
	}
	return EVC_OK;
}

void evc__input_close(evc_input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	free(in->realpath);
	in->realpath = NULL;
}

static uint64_t head_hash(const evc_input *in, size_t len)
{
	evc_hash h;
	evc__hash_init(&h);
	evc__hash_update(&h, in->head, len);
	return evc__hash_final(&h);
}

uint64_t evc__input_head_hash(const evc_input *in)
{
	return head_hash(in, in->head_len);
}

struct candidates {
	const evc_input *in;
	evc_claim *claim; /* collects the peers */
	bool nomem;
	size_t n;
	evc_source_row row[MAX_CANDIDATES];
	bool identity[MAX_CANDIDATES];
	bool have_identity;
};

/* Whether a source's first bytes are the input's: it may be a copy. */
static bool shares_head(const evc_input *in, const evc_source_row *r)
{
	return r->head_len <= in->head_len &&
	       head_hash(in, (size_t)r->head_len) == r->head_hash;
}

static bool add_peer(evc_peer **v, size_t *n, size_t *cap,
                     const evc_source_row *r)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 8;
		evc_peer *nv = evc__malloc(ncap * sizeof(*nv));
		if (!nv)
			return false;
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		free(*v);
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (evc_peer){r->id, r->offset};
	return true;
}

/* Sources this input may be: the newest one recorded under its resolved
 * path (its identity), and those whose first bytes it shares (copies,
 * renames). Device and inode are not identity: inodes are reused as soon
 * as a file is deleted, so they would refuse unrelated new files. */
static int collect(const evc_source_row *r, void *payload)
{
	struct candidates *c = payload;
	const evc_input *in = c->in;
	evc_claim *cl = c->claim;

	/* A retracted source counts for nothing any more; streams are not
	 * files. */
	if (r->retracted || r->kind != EVC_KIND_FILE)
		return EVC_OK;
	/* Newest first: after a forced re-ingest the new source wins. */
	bool identity =
	    !c->have_identity && strcmp(r->realpath, in->realpath) == 0;
	const bool shared = shares_head(in, r);
	if (shared && !add_peer(&cl->peers, &cl->n_peers, &cl->cap_peers, r)) {
		c->nomem = true;
		return EVC_ENOMEM;
	}
	if (!identity && !shared)
		return EVC_OK;
	/* A copy with nothing ingested has nothing to resume from. */
	if (!identity && r->offset == 0)
		return EVC_OK;
	if (c->n == MAX_CANDIDATES) {
		if (!identity)
			return EVC_OK;
		/* The input's own source must never be crowded out by copy
		 * candidates, or the input would be counted again. */
		c->n--;
	}
	c->row[c->n] = *r;
	c->row[c->n].path = c->row[c->n].realpath = NULL; /* not kept */
	c->identity[c->n] = identity;
	c->have_identity |= identity;
	c->n++;
	return EVC_OK;
}

static int by_offset(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int evc__input_hash(evc_error *err, evc_input *in, uint64_t *done, uint64_t to,
                    evc_hash *h)
{
	char *buf = evc__malloc(VERIFY_CHUNK);
	if (!buf)
		return evc__fail(err, EVC_ENOMEM, "out of memory");
	int rc = EVC_OK;
	while (*done < to) {
		size_t want = to - *done < VERIFY_CHUNK ? (size_t)(to - *done)
		                                        : VERIFY_CHUNK;
		ssize_t n = pread(in->fd, buf, want, (off_t)*done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = evc__fail(err, EVC_EIO, "%s: read error: %s",
			               in->path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			rc = EVC_ECHANGED; /* shrank while being read */
			goto out;
		}
		evc__hash_update(h, buf, (size_t)n);
		*done += (uint64_t)n;
	}
out:
	free(buf);
	return rc;
}

typedef enum match_kind {
	MATCH_NEW,     /* no source of its own (may resume a copy's) */
	MATCH_RESUME,  /* has its own source; its prefix is intact */
	MATCH_CHANGED, /* ingested before; its ingested part changed */
} match_kind;

struct match {
	match_kind kind;
	evc_source_row row; /* RESUME, CHANGED: the input's own source */
	/* The longest ingested prefix of any source the input starts with
	 * (its own, a copy's, a rename's): where counting resumes. */
	uint64_t resume_offset, resume_line, resume_rows;
	evc_hash prefix; /* state after resume_offset bytes */
	char what[256];  /* CHANGED: what changed, in words */
};

static void describe_change(struct match *m, const evc_input *in,
                            const evc_source_row *r)
{
	if (in->size < r->offset)
		snprintf(m->what, sizeof(m->what),
		         "it is %llu bytes now, %llu bytes were ingested "
		         "(truncated or rewritten)",
		         (unsigned long long)in->size,
		         (unsigned long long)r->offset);
	else
		snprintf(m->what, sizeof(m->what),
		         "its first %llu bytes, ingested before, have changed "
		         "(rewritten or edited)",
		         (unsigned long long)r->offset);
}

/* Which stored source the input is and where counting resumes; the
 * input's fd is left at resume_offset (unless CHANGED). Runs inside the
 * claim's write transaction, so that no other ingest claims the same
 * input meanwhile. */
static int match(evc_store *store, evc_input *in, evc_claim *claim,
                 struct match *m)
{
	evc_error *err = &store->err;
	struct candidates *c = evc__calloc(1, sizeof(*c));
	uint64_t order[MAX_CANDIDATES]; /* offset << 8 | index */
	int rc;

	memset(m, 0, sizeof(*m));
	evc__hash_init(&m->prefix);
	if (!c)
		return evc__fail(err, EVC_ENOMEM, "out of memory");
	c->in = in;
	c->claim = claim;
	if ((rc = store->be->sources(store->db, true, collect, c, err))) {
		if (c->nomem)
			rc = evc__fail(err, EVC_ENOMEM, "out of memory");
		goto out;
	}
	m->kind = MATCH_NEW;
	for (size_t i = 0; i < c->n; i++) {
		order[i] = c->row[i].offset << 8 | i;
		if (c->identity[i]) {
			m->kind = MATCH_RESUME;
			m->row = c->row[i];
		}
	}
	/* The input's already counted part is the longest ingested prefix
	 * of any source it starts with: one pass, shortest prefix first.
	 * Its own source's prefix must be intact, or it has changed. */
	qsort(order, c->n, sizeof(order[0]), by_offset);
	evc_hash h;
	uint64_t hashed = 0;
	evc__hash_init(&h);
	for (size_t k = 0; k < c->n; k++) {
		const size_t i = order[k] & 0xff;
		const evc_source_row *r = &c->row[i];
		bool intact = r->offset <= in->size;
		/* An empty prefix cannot have changed: sources recorded with
		 * nothing ingested (a 0-byte file, a held back first line)
		 * carry no prefix hash. */
		if (intact && r->offset > 0) {
			rc = evc__input_hash(err, in, &hashed, r->offset, &h);
			if (rc != EVC_OK && rc != EVC_ECHANGED)
				goto out;
			intact = rc == EVC_OK &&
			         evc__hash_final(&h) == r->prefix_hash;
		}
		if (intact && r->offset >= m->resume_offset) {
			m->resume_offset = r->offset;
			m->resume_line = r->next_line;
			m->resume_rows = r->rows_counted + r->rows_rejected;
			m->prefix = h;
		} else if (!intact && c->identity[i]) {
			m->kind = MATCH_CHANGED;
			describe_change(m, in, r);
			break;
		}
	}
	if (m->kind != MATCH_CHANGED &&
	    lseek(in->fd, (off_t)m->resume_offset, SEEK_SET) < 0) {
		rc = evc__fail(err, EVC_EIO, "%s: seek: %s", in->path,
		               strerror(errno));
		goto out;
	}
	rc = EVC_OK;
out:
	free(c);
	return rc;
}

/* A store that many machines reach knows a file by host and path: the
 * same path on another machine is another file (its copies are still
 * found by content). */
int evc__input_qualify(const evc_backend *be, evc_input *in, evc_error *err)
{
	char host[256];

	if (!be->shared_paths)
		return EVC_OK;

	if (gethostname(host, sizeof(host)) != 0)
		return evc__fail(err, EVC_EIO, "%s: host name: %s", in->path,
		                 strerror(errno));
	host[sizeof(host) - 1] = '\0';
	const size_t n = strlen(host) + strlen(in->realpath) + 2;
	char *q = evc__malloc(n);
	if (!q)
		return evc__fail(err, EVC_ENOMEM, "%s: out of memory",
		                 in->path);
	snprintf(q, n, "%s:%s", host, in->realpath);
	free(in->realpath);
	in->realpath = q;
	return EVC_OK;
}

static void describe_input(evc_source_row *row, const evc_input *in)
{
	row->path = in->path;
	row->realpath = in->realpath;
	row->dev = in->dev;
	row->ino = in->ino;
	row->size = in->size;
	row->mtime_ns = in->mtime_ns;
}

int evc__source_claim(evc_store *store, evc_input *in, bool force,
                      evc_claim *claim, evc_ingest_stats *stats)
{
	evc_error *err = &store->err;
	evc_source_row *row = &claim->row;
	struct match m;
	int rc;

	memset(claim, 0, sizeof(*claim));
	claim->in = in;
	claim->key = evc__input_head_hash(in);
	if ((rc = evc__input_qualify(store->be, in, err)))
		return rc;
	if ((rc = match(store, in, claim, &m)))
		return rc;
	if (m.kind == MATCH_CHANGED && !force)
		return evc__fail(
		    err, EVC_ECHANGED,
		    "%s: refused: this file was ingested before and "
		    "%s; nothing counted (--force ingests it as a "
		    "new source)",
		    in->path, m.what);
	if (m.kind == MATCH_CHANGED) {
		/* --force: a new source, counted from the start. */
		m.resume_offset = m.resume_line = m.resume_rows = 0;
		evc__hash_init(&m.prefix);
		if (lseek(in->fd, 0, SEEK_SET) != 0)
			return evc__fail(err, EVC_EIO, "%s: seek: %s", in->path,
			                 strerror(errno));
	}
	/* Each source row counts one contiguous range of its file, so that
	 * a retraction can read back exactly what it counted: a file whose
	 * counting goes on past what another source (a copy) counted after
	 * it goes on in a new row. */
	if (m.kind == MATCH_RESUME && m.resume_offset <= m.row.offset) {
		*row = m.row;
	} else {
		/* A new source, in the same transaction as its first
		 * checkpoint: a concurrent ingest of the same file waits and
		 * then finds it. */
		memset(row, 0, sizeof(*row));
		row->kind = EVC_KIND_FILE;
		row->head_len = in->head_len;
		row->head_hash = claim->key;
		row->next_line = 1;
		row->first_ingest = row->last_ingest = (int64_t)time(NULL);
		row->counted_from = (int64_t)m.resume_offset;
	}
	describe_input(row, in);
	/* Bytes counted through another source (a copy, a rename) count as
	 * ingested for this one too. */
	if (m.resume_offset > row->offset) {
		row->offset = m.resume_offset;
		row->next_line = m.resume_line;
		row->prefix_hash = evc__hash_final(&m.prefix);
	}
	claim->prefix = m.prefix;
	rc = row->id == 0 ? store->be->source_insert(store->db, row, err)
	                  : store->be->source_update(store->db, row, err);
	if (rc != EVC_OK)
		return rc;
	stats->source = m.kind == MATCH_CHANGED ? EVC_SOURCE_FORCED
	                : m.resume_offset > 0   ? EVC_SOURCE_RESUMED
	                                        : EVC_SOURCE_NEW;
	stats->bytes_skipped = m.resume_offset;
	stats->rows_skipped = m.resume_rows;
	return EVC_OK;
}

void evc__claim_free(evc_claim *claim)
{
	free(claim->peers);
	claim->peers = NULL;
	claim->n_peers = claim->cap_peers = 0;
}

/* What a checkpoint reads of the sources: its own source's offset, and
 * the sources sharing the input's first bytes now. */
struct look {
	const evc_claim *claim;
	uint64_t own_offset; /* UINT64_MAX: gone */
	bool own_retracted;
	evc_peer *peers;
	size_t n_peers, cap_peers;
	/* The first source that may have counted what this ingest is about
	 * to commit: it moved since the claim last looked, and reaches past
	 * the claim's committed offset. */
	evc_source_row ahead;
	char ahead_path[256];
	bool found;
	bool nomem;
};

static uint64_t offset_then(const evc_claim *claim, int64_t id)
{
	for (size_t i = 0; i < claim->n_peers; i++)
		if (claim->peers[i].id == id)
			return claim->peers[i].offset;
	return 0; /* not a source then: nothing of it was seen */
}

static int look(const evc_source_row *r, void *payload)
{
	struct look *l = payload;
	const evc_claim *claim = l->claim;

	if (r->id == claim->row.id) {
		l->own_offset = r->offset;
		l->own_retracted = r->retracted != 0;
		return EVC_OK;
	}
	if (r->retracted || r->kind != EVC_KIND_FILE ||
	    !shares_head(claim->in, r))
		return EVC_OK;
	if (!add_peer(&l->peers, &l->n_peers, &l->cap_peers, r)) {
		l->nomem = true;
		return EVC_ENOMEM;
	}
	if (!l->found && r->offset > claim->row.offset &&
	    r->offset > offset_then(claim, r->id)) {
		l->found = true;
		l->ahead = *r;
		snprintf(l->ahead_path, sizeof(l->ahead_path), "%s", r->path);
	}
	return EVC_OK;
}

/* Whether the input starts with the ingested prefix of `r`: then what `r`
 * counted is this input's content. A prefix longer than the input cannot
 * be checked against it, and counts as the same content: only a wrong
 * refusal, never a double count, can come of that. */
static int same_content(evc_error *err, evc_input *in, const evc_source_row *r,
                        bool *same)
{
	evc_hash h;
	uint64_t done = 0;

	*same = true;
	if (r->offset > in->size)
		return EVC_OK;
	evc__hash_init(&h);
	int rc = evc__input_hash(err, in, &done, r->offset, &h);
	if (rc == EVC_ECHANGED) /* shrank meanwhile: refuse */
		return EVC_OK;
	if (rc != EVC_OK)
		return rc;
	*same = evc__hash_final(&h) == r->prefix_hash;
	return EVC_OK;
}

int evc__source_checkpoint(const evc_backend *be, evc_db *db, evc_claim *claim,
                           const evc_ckpt *ck, const char *name, evc_error *err)
{
	evc_source_row *src = &claim->row;
	const evc_ingest_stats *st = &ck->stats;
	struct look l = {.claim = claim, .own_offset = UINT64_MAX};
	bool same = false;
	int rc;

	if (ck->offset == src->offset)
		return EVC_OK;
	/* Another ingest of this content, under this name or another, may
	 * have committed since this one last did: then these rows would be
	 * counted twice. */
	if ((rc = be->sources(db, true, look, &l, err))) {
		if (l.nomem)
			rc = evc__fail(err, EVC_ENOMEM, "out of memory");
		goto out;
	}
	if (l.own_retracted) {
		rc = evc__fail(err, EVC_EBUSY,
		               "%s: store is busy: this file was retracted "
		               "meanwhile; nothing counted from line %llu on "
		               "(ingest it again to count it as new)",
		               name, (unsigned long long)src->next_line);
		goto out;
	}
	if (l.own_offset != src->offset) {
		rc = evc__fail(err, EVC_EBUSY,
		               "%s: store is busy: another ingest of this file "
		               "committed meanwhile; nothing counted from line "
		               "%llu on",
		               name, (unsigned long long)src->next_line);
		goto out;
	}
	if (l.found && (rc = same_content(err, claim->in, &l.ahead, &same)))
		goto out;
	if (l.found && same) {
		rc = evc__fail(err, EVC_EBUSY,
		               "%s: store is busy: another ingest of the same "
		               "content (%s) committed meanwhile; nothing "
		               "counted from line %llu on",
		               name, l.ahead_path,
		               (unsigned long long)src->next_line);
		goto out;
	}
	src->offset = ck->offset;
	src->prefix_hash = ck->prefix_hash;
	src->next_line = ck->next_line;
	src->rows_counted += st->rows_counted - claim->committed.rows_counted;
	src->rows_rejected +=
	    st->rows_rejected - claim->committed.rows_rejected;
	src->rows_warned += st->rows_warned - claim->committed.rows_warned;
	src->last_ingest = (int64_t)time(NULL);
	if ((rc = be->source_update(db, src, err)))
		goto out;
	/* Under the write lock until the commit: this is what the sources
	 * will be when it lands. */
	free(claim->peers);
	claim->peers = l.peers;
	claim->n_peers = l.n_peers;
	claim->cap_peers = l.cap_peers;
	l.peers = NULL;
out:
	free(l.peers);
	return rc;
}

struct list {
	evc_store *store;
	evc_source_fn fn;
	void *payload;
};

static int list_one(const evc_source_row *r, void *payload)
{
	const struct list *l = payload;
	char buf[160];
	const char *why = evc__source_problem(r, buf, sizeof(buf));

	if (why)
		return evc__fail(&l->store->err, EVC_ECORRUPT,
		                 "%s: corrupt store: source %lld: %s",
		                 l->store->path, (long long)r->id, why);
	const evc_source_info info = {
	    .id = r->id,
	    .path = r->path,
	    .realpath = r->realpath,
	    .size = r->size,
	    .offset = r->offset,
	    .rows_counted = r->rows_counted,
	    .rows_rejected = r->rows_rejected,
	    .rows_warned = r->rows_warned,
	    .first_ingest = r->first_ingest,
	    .last_ingest = r->last_ingest,
	    .stream = r->kind == EVC_KIND_STREAM,
	    .retracted = r->retracted,
	};
	if (l->fn(&info, l->payload))
		return evc__fail(&l->store->err, EVC_EABORTED,
		                 "listing stopped by the callback");
	return EVC_OK;
}

EVC_EXPORT int evc_sources(evc_store *store, evc_source_fn fn, void *payload)
{
	if (!store || !fn)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_sources: NULL argument");
	struct list l = {store, fn, payload};
	evc__store_enter(store);
	const int rc =
	    store->be->sources(store->db, false, list_one, &l, &store->err);
	evc__store_leave(store);
	return rc;
}
