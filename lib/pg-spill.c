/* SPDX-License-Identifier: MIT */
/*
 * The spill of the PostgreSQL backend's staged hour sets (pg-spill.h): runs
 * appended to an unlinked temporary file, read back through one small
 * buffer per run and merged by a scan of the runs' heads (at most
 * EVC_SPILL_RUNS of them). The file stays in the page cache, not in the
 * process: a 256 MiB checkpoint interval of the 10M-row benchmark spills
 * about 15 MB.
 */
#include "pg-spill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A row as spilled: this, then len blob bytes. */
struct rec {
	int64_t customer, hour;
	uint64_t total;
	uint32_t len, zero; /* no padding: every byte written is set */
};

#define RUN_BUF (32u << 10)

struct run {
	off_t start, end; /* in the file */
	off_t pos;        /* of buf[0] */
	size_t have, at;  /* bytes in buf; the head's offset there */
	bool live;        /* a head is at buf + at */
	struct rec head;
	uint8_t *buf; /* RUN_BUF bytes while reading */
};

struct evc_spill {
	FILE *file;
	off_t len;
	size_t n_runs;
	struct run run[EVC_SPILL_RUNS];
};

evc_spill *evc__spill_new(void)
{
	return evc__calloc(1, sizeof(evc_spill));
}

void evc__spill_free(evc_spill *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < EVC_SPILL_RUNS; i++)
		free(sp->run[i].buf);
	if (sp->file)
		fclose(sp->file);
	free(sp);
}

size_t evc__spill_runs(const evc_spill *sp)
{
	return sp->n_runs;
}

void evc__spill_clear(evc_spill *sp)
{
	/* The disk back: a strict ingest's one transaction spills all. */
	if (sp->file && sp->len > 0 && ftruncate(fileno(sp->file), 0) != 0)
		errno = 0; /* the space stays taken, to be written over */
	sp->n_runs = 0;
	sp->len = 0;
}

static int io_failure(void)
{
	return errno == ENOSPC || errno == EFBIG ? EVC_EFULL : EVC_EIO;
}

/* A customer's rows in a set: row[first, first + n). */
struct group {
	int64_t customer;
	size_t first, n;
};

static int by_customer(const void *a, const void *b)
{
	const int64_t x = ((const struct group *)a)->customer;
	const int64_t y = ((const struct group *)b)->customer;
	return (x > y) - (x < y);
}

static int write_row(evc_spill *sp, const evc_hour_set *set,
                     const evc_hour_row *r)
{
	const struct rec h = {r->customer, r->hour, r->total, r->blob_len, 0};
	if (fwrite(&h, sizeof(h), 1, sp->file) != 1 ||
	    fwrite(set->blobs + r->blob_off, 1, r->blob_len, sp->file) !=
	        r->blob_len)
		return io_failure();
	sp->len += (off_t)(sizeof(h) + r->blob_len);
	return EVC_OK;
}

int evc__spill_add(evc_spill *sp, const evc_hour_set *set)
{
	struct group *g;
	size_t n_groups = 0;
	int rc = EVC_OK;

	if (sp->n_runs == EVC_SPILL_RUNS) {
		errno = EOVERFLOW;
		return EVC_EIO;
	}
	if (!sp->file && !(sp->file = tmpfile()))
		return io_failure();
	if (fseeko(sp->file, sp->len, SEEK_SET) != 0)
		return io_failure();
	/* The ingest's customers come in its own order: put theirs in the
	 * store's. */
	if (!(g = evc__malloc((set->n ? set->n : 1) * sizeof(*g))))
		return EVC_ENOMEM;
	for (size_t i = 0; i < set->n; i++) {
		if (n_groups == 0 ||
		    g[n_groups - 1].customer != set->row[i].customer)
			g[n_groups++] =
			    (struct group){set->row[i].customer, i, 0};
		g[n_groups - 1].n++;
	}
	qsort(g, n_groups, sizeof(*g), by_customer);
	const off_t start = sp->len;
	for (size_t k = 0; k < n_groups && rc == EVC_OK; k++)
		for (size_t i = g[k].first; i < g[k].first + g[k].n && !rc; i++)
			rc = write_row(sp, set, &set->row[i]);
	free(g);
	if (rc == EVC_OK && fflush(sp->file) != 0)
		rc = io_failure();
	if (rc) {
		sp->len = start;
		return rc;
	}
	struct run *run = &sp->run[sp->n_runs++];
	run->start = start;
	run->end = sp->len;
	return EVC_OK;
}

/* Move past `skip` bytes to the run's next row, making it the head (the
 * whole row in buf), or end the run. */
static int advance(evc_spill *sp, struct run *run, size_t skip)
{
	struct rec h;
	run->at += skip;
	run->live = false;
	size_t left = run->have - run->at;
	bool whole = left >= sizeof(h);
	if (whole) {
		memcpy(&h, run->buf + run->at, sizeof(h));
		whole =
		    h.len <= EVC_MINUTES_BLOB_MAX && left >= sizeof(h) + h.len;
	}
	if (!whole) {
		memmove(run->buf, run->buf + run->at, left);
		run->pos += (off_t)run->at;
		run->at = 0;
		off_t from = run->pos + (off_t)left;
		size_t want = RUN_BUF - left;
		if ((off_t)want > run->end - from)
			want = (size_t)(run->end - from);
		while (want > 0) {
			const ssize_t got = pread(fileno(sp->file),
			                          run->buf + left, want, from);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				if (got == 0)
					errno = EIO;
				return EVC_EIO;
			}
			left += (size_t)got;
			from += got;
			want -= (size_t)got;
		}
		run->have = left;
	}
	if (left == 0)
		return EVC_OK;
	if (left < sizeof(h))
		return EVC_ECORRUPT;
	memcpy(&h, run->buf + run->at, sizeof(h));
	if (h.len > EVC_MINUTES_BLOB_MAX || left < sizeof(h) + h.len)
		return EVC_ECORRUPT;
	run->head = h;
	run->live = true;
	return EVC_OK;
}

int evc__spill_rewind(evc_spill *sp)
{
	for (size_t i = 0; i < sp->n_runs; i++) {
		struct run *run = &sp->run[i];
		if (!run->buf && !(run->buf = evc__malloc(RUN_BUF)))
			return EVC_ENOMEM;
		run->pos = run->start;
		run->have = run->at = 0;
		int rc = advance(sp, run, 0);
		if (rc)
			return rc;
	}
	return EVC_OK;
}

static bool before(const struct rec *a, const struct rec *b)
{
	return a->customer < b->customer ||
	       (a->customer == b->customer && a->hour < b->hour);
}

int evc__spill_next(evc_spill *sp, int64_t *customer, int64_t *hour,
                    uint64_t *total, uint8_t *blob, size_t *len)
{
	const struct rec *low = NULL;
	for (size_t i = 0; i < sp->n_runs; i++)
		if (sp->run[i].live && (!low || before(&sp->run[i].head, low)))
			low = &sp->run[i].head;
	if (!low)
		return 0;
	const int64_t c = low->customer, h = low->hour;
	*customer = c;
	*hour = h;
	*total = 0;
	*len = 0;
	for (size_t i = 0; i < sp->n_runs; i++) {
		struct run *run = &sp->run[i];
		if (!run->live || run->head.customer != c ||
		    run->head.hour != h)
			continue;
		uint8_t sum[EVC_MINUTES_BLOB_MAX];
		size_t sum_len;
		const uint8_t *mine = run->buf + run->at + sizeof(struct rec);
		if (!evc__minutes_merge(blob, *len, mine, run->head.len, sum,
		                        &sum_len))
			return EVC_ECORRUPT;
		memcpy(blob, sum, sum_len);
		*len = sum_len;
		*total += run->head.total;
		int rc = advance(sp, run, sizeof(struct rec) + run->head.len);
		if (rc)
			return rc;
	}
	return 1;
}
