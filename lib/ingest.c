/* SPDX-License-Identifier: MIT */
/*
 * The ingest driver: reads records from the CSV scanner, checks each row,
 * reports rejects and warnings, aggregates accepted rows into the bounded
 * batch and flushes full batches to storage, all inside one transaction per
 * input so that a failed ingest leaves the store as it was.
 */
#include "evc-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* 512k keys: a 24 MiB table, so an ingest stays well inside 64 MiB. */
#define BATCH_KEYS (1u << 19)
#define PROGRESS_EVERY (1u << 20)

struct ingest {
	evc_store *store;
	const char *name;
	const evc_ingest_options *opts;
	evc_ingest_stats *stats;
	evc_agg *agg;
	evc_csv *csv;
	uint64_t size;        /* 0 when unknown */
	uint64_t next_progress;
};

static int flush(struct ingest *in)
{
	evc_store *s = in->store;
	size_t n;
	const evc_agg_entry *e = evc__agg_sorted(in->agg, &n);
	uint64_t counts[60];
	uint8_t blob[EVC_MINUTES_BLOB_MAX];
	int rc = EVC_OK;

	for (size_t i = 0; i < n;) {
		const uint32_t ci = e[i].customer;
		size_t len;
		const char *name = evc__agg_customer(in->agg, ci, &len);
		int64_t cust;
		if ((rc = evc__db_customer(s, s->db, name, len, true, &cust)))
			return rc;
		/* Entries are sorted by (customer, minute): each hour's
		 * minutes are adjacent. */
		while (i < n && e[i].customer == ci) {
			const int64_t hour = evc__floor_div(e[i].minute, 60);
			uint64_t total = 0;
			memset(counts, 0, sizeof(counts));
			for (; i < n && e[i].customer == ci &&
			       evc__floor_div(e[i].minute, 60) == hour;
			     i++) {
				counts[e[i].minute - hour * 60] += e[i].count;
				total += e[i].count;
			}
			const size_t blen = evc__minutes_encode(counts, blob);
			if ((rc = evc__db_add_hour(s, s->db, cust, hour, total,
						   blob, blen)))
				return rc;
		}
	}
	in->stats->keys_touched += n;
	evc__agg_reset(in->agg);
	return EVC_OK;
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
		return evc__fail(in->store, EVC_EABORTED,
				 "%s:%llu: ingest stopped by the reject "
				 "callback",
				 in->name, (unsigned long long)rec->line);
	return EVC_OK;
}

static int progress(struct ingest *in)
{
	const uint64_t done = evc__csv_bytes(in->csv);
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
		return evc__fail(in->store, EVC_EABORTED,
				 "%s: ingest stopped by the progress callback",
				 in->name);
	return EVC_OK;
}

static int ingest_records(struct ingest *in)
{
	evc_csv_record rec;
	char reason[EVC_REASON_MAX];
	bool first = true;
	int rc, err = 0;

	while ((rc = evc__csv_next(in->csv, &rec, &err)) == 1) {
		if (first) {
			first = false;
			if (evc__is_header(&rec))
				continue;
		}
		in->stats->rows_read++;
		int64_t minute;
		const char *warn;
		const char *why = evc__check_row(&rec, &minute, &warn, reason);
		if (why) {
			in->stats->rows_rejected++;
			if ((rc = report(in, &rec, 0, why)))
				return rc;
			if (in->opts->flags & EVC_INGEST_STRICT)
				return evc__fail(in->store, EVC_EPARSE,
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
		rc = evc__agg_add(in->agg, rec.field[0].ptr, rec.field[0].len,
				  minute);
		if (rc == EVC_ERANGE) {
			if ((rc = flush(in)))
				return rc;
			rc = evc__agg_add(in->agg, rec.field[0].ptr,
					  rec.field[0].len, minute);
		}
		if (rc != EVC_OK)
			return evc__fail(in->store, rc, "%s: out of memory",
					 in->name);
		in->stats->rows_counted++;
		if ((rc = progress(in)))
			return rc;
	}
	in->stats->bytes = evc__csv_bytes(in->csv);
	if (rc == EVC_EIO)
		return evc__fail(in->store, EVC_EIO, "%s: read error: %s",
				 in->name, strerror(err));
	if (rc != 0)
		return evc__fail(in->store, rc, "%s: out of memory", in->name);
	return flush(in);
}

static int ingest_fd(evc_store *store, int fd, const char *name,
		     uint64_t size, const evc_ingest_options *opts,
		     evc_ingest_stats *stats)
{
	static const evc_ingest_options defaults = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats local;
	int rc;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (!opts)
		opts = &defaults;
	if (opts->version != EVC_INGEST_OPTIONS_VERSION)
		return evc__fail(store, EVC_EINVAL,
				 "%s: unsupported options version %u", name,
				 opts->version);
	if (!(store->flags & EVC_OPEN_READWRITE))
		return evc__fail(store, EVC_EREADONLY,
				 "%s: store %s is opened read-only", name,
				 store->path);

	struct ingest in = {
		.store = store,
		.name = name,
		.opts = opts,
		.stats = stats,
		.size = size,
	};
	if ((rc = evc__agg_new(&in.agg, BATCH_KEYS)) ||
	    (rc = evc__csv_new(&in.csv, fd, 0))) {
		rc = evc__fail(store, EVC_ENOMEM, "%s: out of memory", name);
		goto out;
	}
	if ((rc = evc__db_begin(store, store->db)))
		goto out;
	rc = ingest_records(&in);
	if (rc == EVC_OK)
		rc = evc__db_commit(store, store->db);
	if (rc != EVC_OK)
		evc__db_rollback(store->db);
	else
		evc__clear_error(store);
out:
	evc__csv_free(in.csv);
	evc__agg_free(in.agg);
	return rc;
}

EVC_EXPORT int evc_ingest_fd(evc_store *store, int fd, const char *name,
			     const evc_ingest_options *opts,
			     evc_ingest_stats *stats)
{
	if (!store)
		return evc__fail(NULL, EVC_EINVAL, "evc_ingest_fd: NULL store");
	if (fd < 0)
		return evc__fail(store, EVC_EINVAL, "evc_ingest_fd: bad fd");
	return ingest_fd(store, fd, name ? name : "<fd>", 0, opts, stats);
}

EVC_EXPORT int evc_ingest_csv(evc_store *store, const char *path,
			      const evc_ingest_options *opts,
			      evc_ingest_stats *stats)
{
	struct stat st;

	if (!store)
		return evc__fail(NULL, EVC_EINVAL,
				 "evc_ingest_csv: NULL store");
	if (!path)
		return evc__fail(store, EVC_EINVAL,
				 "evc_ingest_csv: NULL path");
	if (stats)
		memset(stats, 0, sizeof(*stats));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return evc__fail(store,
				 errno == ENOENT ? EVC_ENOTFOUND : EVC_EIO,
				 "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int rc = evc__fail(store, EVC_EIO, "%s: %s", path,
				   strerror(errno));
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return evc__fail(store, EVC_EIO, "%s: is a directory", path);
	}
	int rc = ingest_fd(store, fd, path,
			   S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, opts,
			   stats);
	close(fd);
	return rc;
}
