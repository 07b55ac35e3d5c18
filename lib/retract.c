/* SPDX-License-Identifier: MIT */
/*
 * Retraction (evc_retract()): taking back exactly what files' ingests
 * added. Which sources are a file's (those under its resolved path whose
 * ingested prefix it still holds), whether other files' counts depend on
 * them, which of their rows an erasure removed since, and the reading of
 * the files again through the ingest pipeline (evc__ingest_replay()), all
 * in one write transaction.
 *
 * Each source row counted one contiguous range of its file,
 * [counted_from, offset) (source.c keeps it so), so a row read again is
 * the source's when it starts in that range; an erasure recorded with the
 * source at offset o removed the source's rows before o that it matches.
 */
#include "source.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A source being retracted. */
struct target {
	evc_source_row row; /* path and realpath: those of its file */
	size_t file;
	evc_erasure *erasures;
	size_t n_erasures, cap_erasures;
	uint64_t counted, rejected, warned; /* as read again */
	bool verified;                      /* its prefix hash matched */
};

/* A (customer, hour) or customer seen among the rows subtracted, for the
 * stats: an open-addressing set. */
struct keyset {
	int64_t (*slot)[2];
	size_t cap, n;
	bool nomem;
};

struct retraction {
	evc_store *store;
	evc_input *in; /* n_files of them */
	size_t n_files;
	evc_source_row *live; /* the live file sources, strings copied */
	size_t n_live, cap_live;
	struct target *t;
	size_t n_t;
	/* The file being read again: its targets, by counted_from. */
	size_t file, first, n;
	size_t next_check; /* the next of them whose offset to verify at */
	struct keyset hours, customers;
	uint64_t events, hours_removed, customers_removed, rows;
	char why[256];
};

/* ---- sets ------------------------------------------------------------------
 */

static uint64_t mix(int64_t a, int64_t b)
{
	uint64_t x = (uint64_t)a * 0x9e3779b97f4a7c15u ^ (uint64_t)b;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9u;
	return x ^ (x >> 29);
}

static void keyset_add(struct keyset *s, int64_t a, int64_t b)
{
	if (s->nomem)
		return;
	if (2 * (s->n + 1) > s->cap) {
		const size_t cap = s->cap ? 2 * s->cap : 1024;
		int64_t(*v)[2] = evc__malloc(cap * sizeof(*v));
		if (!v) {
			s->nomem = true;
			return;
		}
		for (size_t i = 0; i < cap; i++)
			v[i][0] = INT64_MIN;
		for (size_t i = 0; i < s->cap; i++) {
			if (s->slot[i][0] == INT64_MIN)
				continue;
			size_t k =
			    mix(s->slot[i][0], s->slot[i][1]) & (cap - 1);
			while (v[k][0] != INT64_MIN)
				k = (k + 1) & (cap - 1);
			v[k][0] = s->slot[i][0];
			v[k][1] = s->slot[i][1];
		}
		free(s->slot);
		s->slot = v;
		s->cap = cap;
	}
	size_t k = mix(a, b) & (s->cap - 1);
	while (s->slot[k][0] != INT64_MIN) {
		if (s->slot[k][0] == a && s->slot[k][1] == b)
			return;
		k = (k + 1) & (s->cap - 1);
	}
	s->slot[k][0] = a;
	s->slot[k][1] = b;
	s->n++;
}

/* ---- which sources ----------------------------------------------------------
 */

static int keep_live(const evc_source_row *r, void *payload)
{
	struct retraction *x = payload;

	if (r->kind != EVC_KIND_FILE || r->retracted)
		return EVC_OK;
	if (x->n_live == x->cap_live) {
		const size_t cap = x->cap_live ? 2 * x->cap_live : 16;
		evc_source_row *v = evc__malloc(cap * sizeof(*v));
		if (!v)
			return EVC_ENOMEM;
		if (x->n_live)
			memcpy(v, x->live, x->n_live * sizeof(*v));
		free(x->live);
		x->live = v;
		x->cap_live = cap;
	}
	evc_source_row *c = &x->live[x->n_live];
	*c = *r;
	c->path = evc__strndup(r->path, strlen(r->path));
	c->realpath = evc__strndup(r->realpath, strlen(r->realpath));
	if (!c->path || !c->realpath) {
		free((char *)c->path);
		free((char *)c->realpath);
		return EVC_ENOMEM;
	}
	x->n_live++;
	return EVC_OK;
}

static int by_offset(const void *a, const void *b)
{
	const struct target *x = a, *y = b;
	if (x->file != y->file)
		return (x->file > y->file) - (x->file < y->file);
	return (x->row.offset > y->row.offset) -
	       (x->row.offset < y->row.offset);
}

/* The sources of file f: those recorded under its resolved path whose
 * ingested prefix it still holds (an older content, ingested before a
 * forced re-ingest, is not what it holds now). */
static int find_targets(struct retraction *x, size_t f)
{
	evc_error *err = &x->store->err;
	evc_input *in = &x->in[f];
	const size_t first = x->n_t;
	size_t n_path = 0;
	int rc;

	for (size_t i = 0; i < x->n_live; i++) {
		const evc_source_row *r = &x->live[i];
		if (strcmp(r->realpath, in->realpath) != 0)
			continue;
		n_path++;
		if (r->offset > in->size)
			continue;
		struct target *t = &x->t[x->n_t++];
		memset(t, 0, sizeof(*t));
		t->row = *r;
		t->file = f;
	}
	if (n_path == 0)
		return evc__fail(err, EVC_ENOTFOUND,
		                 "%s: refused: it was never ingested, or was "
		                 "retracted already; nothing subtracted",
		                 in->path);
	/* One pass over the file, shortest prefix first. */
	qsort(x->t + first, x->n_t - first, sizeof(*x->t), by_offset);
	evc_hash h;
	uint64_t done = 0;
	size_t keep = first;
	evc__hash_init(&h);
	for (size_t i = first; i < x->n_t; i++) {
		struct target *t = &x->t[i];
		rc = evc__input_hash(err, in, &done, t->row.offset, &h);
		if (rc != EVC_OK && rc != EVC_ECHANGED)
			return rc;
		if (rc == EVC_OK && (t->row.offset == 0 ||
		                     evc__hash_final(&h) == t->row.prefix_hash))
			x->t[keep++] = *t;
	}
	x->n_t = keep;
	if (keep == first)
		return evc__fail(err, EVC_ECHANGED,
		                 "%s: refused: it no longer holds what was "
		                 "ingested from it (rewritten, truncated or "
		                 "edited); nothing subtracted",
		                 in->path);
	for (size_t i = first; i < x->n_t; i++) {
		struct target *t = &x->t[i];
		if (t->row.counted_from == EVC_FROM_UNKNOWN)
			return evc__fail(
			    err, EVC_EINVAL,
			    "%s: refused: it was ingested by an "
			    "evcount older than 0.3, which did not "
			    "record where its counting started; it "
			    "cannot be retracted exactly",
			    in->path);
		if (i > first &&
		    (uint64_t)t->row.counted_from < x->t[i - 1].row.offset)
			return evc__fail(err, EVC_ECORRUPT,
			                 "%s: corrupt store: its sources %lld "
			                 "and %lld counted the same bytes",
			                 in->path,
			                 (long long)x->t[i - 1].row.id,
			                 (long long)t->row.id);
		t->row.path = in->path;
		t->row.realpath = in->realpath;
	}
	return EVC_OK;
}

static bool is_target(const struct retraction *x, int64_t id)
{
	for (size_t i = 0; i < x->n_t; i++)
		if (x->t[i].row.id == id)
			return true;
	return false;
}

/* A live source not retracted that may have resumed from a target's
 * counting (it starts with the same bytes and counted only from past the
 * target's start) would be left claiming bytes nobody counts any more. */
static int check_dependents(struct retraction *x)
{
	for (size_t i = 0; i < x->n_live; i++) {
		const evc_source_row *q = &x->live[i];
		if (is_target(x, q->id) || q->counted_from == 0)
			continue;
		for (size_t k = 0; k < x->n_t; k++) {
			const evc_source_row *t = &x->t[k].row;
			const bool shares = t->head_len < q->head_len ||
			                    (t->head_len == q->head_len &&
			                     t->head_hash == q->head_hash);
			/* q resumed at some source's offset then, and t's
			 * offset now is at least what it was. */
			if (!shares ||
			    (q->counted_from != EVC_FROM_UNKNOWN &&
			     (q->counted_from <= t->counted_from ||
			      (uint64_t)q->counted_from > t->offset)))
				continue;
			return evc__fail(
			    &x->store->err, EVC_EINVAL,
			    "%s: refused: the counts of %s may continue from "
			    "this file's (it was ingested from byte %lld on, "
			    "after what this file had counted); retract both "
			    "at once; nothing subtracted",
			    t->path, q->path, (long long)q->counted_from);
		}
	}
	return EVC_OK;
}

static int add_erasure(const evc_erasure *e, void *payload)
{
	struct target *t = payload;

	if (e->offset <= (uint64_t)t->row.counted_from)
		return EVC_OK; /* before any of its own rows */
	if (t->n_erasures == t->cap_erasures) {
		const size_t cap = t->cap_erasures ? 2 * t->cap_erasures : 4;
		evc_erasure *v = evc__malloc(cap * sizeof(*v));
		if (!v)
			return EVC_ENOMEM;
		if (t->n_erasures)
			memcpy(v, t->erasures, t->n_erasures * sizeof(*v));
		free(t->erasures);
		t->erasures = v;
		t->cap_erasures = cap;
	}
	t->erasures[t->n_erasures++] = *e;
	return EVC_OK;
}

/* ---- reading the files again ------------------------------------------------
 */

/* Whether an erasure made after the row was counted removed it. */
static bool erased(const struct target *t, uint64_t start,
                   const evc_csv_record *rec, int64_t minute)
{
	uint64_t id_key = 0;
	bool have_key = false;

	for (size_t i = 0; i < t->n_erasures; i++) {
		const evc_erasure *e = &t->erasures[i];
		if (start >= e->offset)
			continue; /* counted after it */
		if (e->kind == EVC_ERASE_BEFORE &&
		    minute * 60 < (int64_t)e->key)
			return true;
		if (e->kind == EVC_ERASE_CUSTOMER) {
			if (!have_key) {
				id_key = evc__customer_key(rec->field[0].ptr,
				                           rec->field[0].len);
				have_key = true;
			}
			if (id_key == e->key)
				return true;
		}
	}
	return false;
}

static int replay_row(void *ctx, evc_csv *csv, uint64_t start,
                      const evc_csv_record *rec, bool header, const char *why,
                      const char *warn, int64_t minute, bool *take)
{
	struct retraction *x = ctx;
	const uint64_t end = evc__csv_offset(csv);
	struct target *t = NULL;

	(void)warn;
	/* The source whose range holds the row. */
	for (size_t i = x->first; i < x->first + x->n; i++)
		if ((uint64_t)x->t[i].row.counted_from <= start &&
		    start < x->t[i].row.offset)
			t = &x->t[i];
	if (!header && t) {
		if (why) {
			t->rejected++;
		} else {
			t->counted++;
			t->warned += warn != NULL;
			*take = !erased(t, start, rec, minute);
			x->rows += *take;
		}
	}
	/* Each source's offset is a record's end: the fingerprint there is
	 * checked as the reading passes it. */
	while (x->next_check < x->first + x->n &&
	       x->t[x->next_check].row.offset <= end) {
		struct target *c = &x->t[x->next_check++];
		if (c->row.offset == 0) {
			c->verified = true;
			continue;
		}
		if (c->row.offset < end ||
		    evc__hash_final(evc__csv_hash(csv)) != c->row.prefix_hash)
			return evc__fail(&x->store->err, EVC_ECHANGED,
			                 "%s: refused: it changed while being "
			                 "read again; nothing subtracted",
			                 x->in[x->file].path);
		c->verified = true;
	}
	return EVC_OK;
}

static void subtracted(void *ctx, const evc_hour_set *set, const evc_removal *r)
{
	struct retraction *x = ctx;

	for (size_t i = 0; i < set->n; i++) {
		const evc_hour_row *h = &set->row[i];
		x->events += h->total;
		keyset_add(&x->hours, h->customer, h->hour);
		keyset_add(&x->customers, h->customer, 0);
	}
	x->hours_removed += r->hours;
	x->customers_removed += r->customers_removed;
}

/* Every row of the file's sources read again as the ingests read them,
 * then each source marked retracted. */
static int finish_file(void *ctx, evc_error *err)
{
	struct retraction *x = ctx;
	const evc_backend *be = x->store->be;
	const int64_t now = (int64_t)time(NULL);
	int rc;

	if (x->hours.nomem || x->customers.nomem)
		return evc__fail(err, EVC_ENOMEM, "out of memory");
	for (size_t i = x->first; i < x->first + x->n; i++) {
		struct target *t = &x->t[i];
		if (!t->verified)
			return evc__fail(
			    err, EVC_ECHANGED,
			    "%s: refused: it is shorter than what "
			    "was ingested from it; nothing subtracted",
			    t->row.path);
		if (t->counted != t->row.rows_counted ||
		    t->rejected != t->row.rows_rejected)
			return evc__fail(
			    err, EVC_ECHANGED,
			    "%s: refused: read again, bytes %lld to %llu give "
			    "%llu rows counted and %llu rejected where the "
			    "ingest found %llu and %llu (ingested by an "
			    "evcount "
			    "with other row rules?); nothing subtracted",
			    t->row.path, (long long)t->row.counted_from,
			    (unsigned long long)t->row.offset,
			    (unsigned long long)t->counted,
			    (unsigned long long)t->rejected,
			    (unsigned long long)t->row.rows_counted,
			    (unsigned long long)t->row.rows_rejected);
		t->row.retracted = now;
		if ((rc = be->source_update(x->store->db, &t->row, err)))
			return rc;
	}
	return EVC_OK;
}

static int replay_file(struct retraction *x, size_t f)
{
	evc_ingest_stats st;
	size_t first = 0, n = 0;

	for (size_t i = 0; i < x->n_t; i++)
		if (x->t[i].file == f) {
			if (n == 0)
				first = i;
			n++;
		}
	x->file = f;
	x->first = x->next_check = first;
	x->n = n;
	const evc_replay replay = {
	    .limit = x->t[first + n - 1].row.offset,
	    .ctx = x,
	    .row = replay_row,
	    .subtracted = subtracted,
	    .finish = finish_file,
	};
	return evc__ingest_replay(x->store, &x->in[f], &replay, &st);
}

/* ---- the call -------------------------------------------------------------
 */

static int retract(struct retraction *x, const char *const *paths,
                   unsigned flags, evc_correction_stats *stats)
{
	evc_store *store = x->store;
	const evc_backend *be = store->be;
	evc_store_totals before, after;
	int rc;

	for (size_t f = 0; f < x->n_files; f++) {
		if ((rc = evc__input_open(&x->in[f], paths[f], &store->err)) ||
		    (rc = evc__input_qualify(be, &x->in[f], &store->err)))
			return rc;
		if (x->in[f].size == UINT64_MAX)
			return evc__fail(&store->err, EVC_EINVAL,
			                 "%s: not a regular file: only files "
			                 "can be retracted",
			                 paths[f]);
		for (size_t g = 0; g < f; g++)
			if (strcmp(x->in[g].realpath, x->in[f].realpath) == 0)
				return evc__fail(&store->err, EVC_EINVAL,
				                 "%s: given twice", paths[f]);
	}
	if ((rc = be->totals(store->db, &before, &store->err)) ||
	    (rc = be->begin_write(store->db, EVC_CLAIM_ALL, &store->err)))
		return rc;
	rc = be->sources(store->db, true, keep_live, x, &store->err);
	if (rc == EVC_ENOMEM && !store->err.code)
		rc = evc__fail(&store->err, EVC_ENOMEM, "out of memory");
	if (rc == EVC_OK &&
	    !(x->t = evc__calloc(x->n_live ? x->n_live : 1, sizeof(*x->t))))
		rc = evc__fail(&store->err, EVC_ENOMEM, "out of memory");
	for (size_t f = 0; rc == EVC_OK && f < x->n_files; f++)
		rc = find_targets(x, f);
	if (rc == EVC_OK)
		rc = check_dependents(x);
	for (size_t i = 0; rc == EVC_OK && i < x->n_t; i++) {
		rc = be->erasures(store->db, x->t[i].row.id, add_erasure,
		                  &x->t[i], &store->err);
		if (rc == EVC_ENOMEM && !store->err.code)
			rc =
			    evc__fail(&store->err, EVC_ENOMEM, "out of memory");
	}
	for (size_t f = 0; rc == EVC_OK && f < x->n_files; f++)
		rc = replay_file(x, f); /* rolls back on failure */
	if (rc != EVC_OK) {
		be->rollback(store->db);
		return rc;
	}
	stats->events = x->events;
	stats->rows = x->rows;
	stats->customers = x->customers.n;
	stats->hours = x->hours.n;
	stats->hours_removed = x->hours_removed;
	stats->customers_removed = x->customers_removed;
	stats->sources = x->n_t;
	stats->size_before = stats->size_after = before.size;
	if (flags & EVC_CORRECT_DRY_RUN) {
		be->rollback(store->db);
		return EVC_OK;
	}
	if ((rc = be->commit(store->db, &store->err)))
		return rc;
	if (be->totals(store->db, &after, &store->err) == EVC_OK)
		stats->size_after = after.size;
	evc__clear_error(&store->err);
	return EVC_OK;
}

EVC_EXPORT int evc_retract(evc_store *store, const char *const *paths,
                           size_t n_paths, unsigned flags,
                           evc_correction_stats *stats)
{
	evc_correction_stats local;
	int rc;

	if ((rc = evc__correction_args(store, "evc_retract", flags, &stats,
	                               &local)))
		return rc;
	if (!paths || n_paths == 0)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_retract: no file given");
	for (size_t i = 0; i < n_paths; i++)
		if (!paths[i])
			return evc__fail(&store->err, EVC_EINVAL,
			                 "evc_retract: NULL path");
	if ((rc = evc__writer_enter(store, "retract")))
		return rc;
	struct retraction x = {.store = store, .n_files = n_paths};
	x.in = evc__calloc(n_paths, sizeof(*x.in));
	if (!x.in) {
		rc = evc__fail(&store->err, EVC_ENOMEM, "out of memory");
	} else {
		for (size_t f = 0; f < n_paths; f++)
			x.in[f].fd = -1;
		rc = retract(&x, paths, flags, stats);
	}
	for (size_t f = 0; x.in && f < n_paths; f++)
		evc__input_close(&x.in[f]);
	free(x.in);
	for (size_t i = 0; i < x.n_live; i++) {
		free((char *)x.live[i].path);
		free((char *)x.live[i].realpath);
	}
	free(x.live);
	for (size_t i = 0; i < x.n_t; i++)
		free(x.t[i].erasures);
	free(x.t);
	free(x.hours.slot);
	free(x.customers.slot);
	evc__writer_leave(store);
	return rc;
}
