/* SPDX-License-Identifier: MIT */
/*
 * Source identity: which stored source an input file is, and whether the
 * part of it ingested before is still intact. A file is the same source
 * when it has the same resolved path or device and inode (then its ingested
 * prefix must be unchanged, or it is refused), or when its content starts
 * with exactly the ingested prefix of a stored source (a copy or a rename,
 * possibly with rows appended since).
 */
#include "evc-int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONTENT_CANDIDATES 8
#define VERIFY_CHUNK (1u << 20)

int evc__input_open(evc_store *store, evc_input *in, const char *path)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->path = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return evc__fail(store, errno == ENOENT ? EVC_ENOTFOUND : EVC_EIO,
				 "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int rc = evc__fail(store, EVC_EIO, "%s: %s", path,
				   strerror(errno));
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return evc__fail(store, EVC_EIO,
				 "%s: is a directory, not a CSV file", path);
	}
	in->fd = fd;
	if (!S_ISREG(st.st_mode)) {
		in->size = UINT64_MAX;
		return EVC_OK;
	}
	in->realpath = realpath(path, NULL);
	if (!in->realpath) {
		int rc = evc__fail(store, EVC_EIO, "%s: %s", path,
				   strerror(errno));
		evc__input_close(in);
		return rc;
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
			int rc = evc__fail(store, EVC_EIO, "%s: read error: %s",
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

struct candidates {
	const evc_input *in;
	bool have_identity;
	evc_source_row identity;
	char identity_path[PATH_MAX];
	size_t n_content;
	evc_source_row content[MAX_CONTENT_CANDIDATES];
};

static int collect(const evc_source_row *r, void *payload)
{
	struct candidates *c = payload;
	const evc_input *in = c->in;

	/* Newest first: after a forced re-ingest the new source wins. */
	if (!c->have_identity &&
	    (strcmp(r->realpath, in->realpath) == 0 ||
	     (r->dev == in->dev && r->ino == in->ino))) {
		c->have_identity = true;
		c->identity = *r;
		snprintf(c->identity_path, sizeof(c->identity_path), "%s",
			 r->path);
		c->identity.path = c->identity.realpath = c->identity_path;
		return EVC_OK;
	}
	if (c->n_content < MAX_CONTENT_CANDIDATES && r->head_len <= in->head_len &&
	    head_hash(in, (size_t)r->head_len) == r->head_hash) {
		c->content[c->n_content] = *r;
		c->content[c->n_content].path = NULL;
		c->content[c->n_content].realpath = NULL;
		c->n_content++;
	}
	return EVC_OK;
}

static int by_offset(const void *a, const void *b)
{
	const evc_source_row *x = a, *y = b;
	return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Extend h, the hash of the input's first *done bytes, to its first `to`
 * bytes. EVC_ECHANGED when the input ends first. */
static int hash_more(evc_store *store, evc_input *in, uint64_t *done,
		     uint64_t to, evc_hash *h)
{
	char *buf = malloc(VERIFY_CHUNK);
	if (!buf)
		return evc__fail(store, EVC_ENOMEM, "out of memory");
	int rc = EVC_OK;
	while (*done < to) {
		size_t want = to - *done < VERIFY_CHUNK ? (size_t)(to - *done)
							: VERIFY_CHUNK;
		ssize_t n = pread(in->fd, buf, want, (off_t)*done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = evc__fail(store, EVC_EIO, "%s: read error: %s",
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

/* Hash the input's first `offset` bytes, leaving the fd just after them. */
static int hash_prefix(evc_store *store, evc_input *in, uint64_t offset,
		       evc_hash *h)
{
	uint64_t done = 0;

	evc__hash_init(h);
	int rc = hash_more(store, in, &done, offset, h);
	if (rc == EVC_OK && lseek(in->fd, (off_t)offset, SEEK_SET) < 0)
		rc = evc__fail(store, EVC_EIO, "%s: seek: %s", in->path,
			       strerror(errno));
	return rc;
}

/* EVC_OK when the input still starts with the source's ingested prefix,
 * EVC_ECHANGED with m->what when not. */
static int verify(evc_store *store, evc_input *in, const evc_source_row *r,
		  evc_match *m)
{
	if (in->size < r->offset) {
		snprintf(m->what, sizeof(m->what),
			 "it is %llu bytes now, %llu bytes were ingested "
			 "(truncated or rewritten)",
			 (unsigned long long)in->size,
			 (unsigned long long)r->offset);
		return EVC_ECHANGED;
	}
	int rc = hash_prefix(store, in, r->offset, &m->prefix);
	if (rc == EVC_OK && evc__hash_final(&m->prefix) == r->prefix_hash)
		return EVC_OK;
	if (rc != EVC_OK && rc != EVC_ECHANGED)
		return rc;
	snprintf(m->what, sizeof(m->what),
		 "the first %llu bytes, ingested before, have changed "
		 "(rewritten or edited)",
		 (unsigned long long)r->offset);
	return EVC_ECHANGED;
}

int evc__source_match(evc_store *store, evc_input *in, evc_match *m)
{
	struct candidates *c = calloc(1, sizeof(*c));
	int rc;

	memset(m, 0, sizeof(*m));
	if (!c)
		return evc__fail(store, EVC_ENOMEM, "out of memory");
	c->in = in;
	if ((rc = evc__db_sources(store, store->db, true, collect, c)))
		goto out;
	if (c->have_identity) {
		m->row = c->identity;
		rc = verify(store, in, &c->identity, m);
		if (rc == EVC_OK)
			m->kind = EVC_MATCH_RESUME;
		else if (rc == EVC_ECHANGED)
			m->kind = EVC_MATCH_CHANGED;
		else
			goto out;
		rc = EVC_OK;
		goto out;
	}
	/* Of the sources this input's content continues, resume the one with
	 * the longest ingested prefix: one pass, shortest prefix first. */
	qsort(c->content, c->n_content, sizeof(c->content[0]), by_offset);
	m->kind = EVC_MATCH_NEW;
	evc_hash h;
	uint64_t hashed = 0;
	evc__hash_init(&h);
	for (size_t i = 0; i < c->n_content; i++) {
		const evc_source_row *r = &c->content[i];
		if (r->offset > in->size)
			break;
		rc = hash_more(store, in, &hashed, r->offset, &h);
		if (rc == EVC_ECHANGED)
			break;
		if (rc != EVC_OK)
			goto out;
		if (evc__hash_final(&h) == r->prefix_hash) {
			m->kind = EVC_MATCH_RESUME;
			m->row = *r;
			m->prefix = h;
		}
	}
	if (m->kind == EVC_MATCH_RESUME &&
	    lseek(in->fd, (off_t)m->row.offset, SEEK_SET) < 0) {
		rc = evc__fail(store, EVC_EIO, "%s: seek: %s", in->path,
			       strerror(errno));
		goto out;
	}
	rc = EVC_OK;
out:
	m->row.path = m->row.realpath = NULL; /* pointed into c */
	free(c);
	return rc;
}

struct list {
	evc_source_fn fn;
	void *payload;
};

static int list_one(const evc_source_row *r, void *payload)
{
	const struct list *l = payload;
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
	};
	return l->fn(&info, l->payload) ? EVC_EABORTED : EVC_OK;
}

EVC_EXPORT int evc_sources(evc_store *store, evc_source_fn fn, void *payload)
{
	if (!store || !fn)
		return evc__fail(store, EVC_EINVAL, "evc_sources: NULL argument");
	struct list l = {fn, payload};
	int rc = evc__db_sources(store, store->db, false, list_one, &l);
	if (rc == EVC_EABORTED)
		return evc__fail(store, rc, "listing stopped by the callback");
	if (rc == EVC_OK)
		evc__clear_error(store);
	return rc;
}
