/* SPDX-License-Identifier: MIT */
/*
 * Checking a store, as `git fsck` checks a repository: the backend's own
 * integrity check, then evcount's invariants over every hour row and every
 * source. The same rules guard the read paths (query.c, info.c, source.c),
 * which fail with EVC_ECORRUPT where these report a problem.
 */
#include "storage.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *evc__hour_problem(int64_t hour, uint64_t total, const uint8_t *blob,
                              size_t len, char *buf, size_t buflen)
{
	uint64_t sum, all;

	if (hour < EVC_HOUR_MIN || hour > EVC_HOUR_MAX) {
		snprintf(buf, buflen,
		         "hour %" PRId64 " is outside years 0000 to 9999",
		         hour);
		return buf;
	}
	if (!evc__minutes_sum(blob, len, 0, 60, &sum, &all)) {
		snprintf(buf, buflen, "malformed minute counts");
		return buf;
	}
	if (all == 0) {
		snprintf(buf, buflen, "an hour row without events");
		return buf;
	}
	if (all != total) {
		snprintf(buf, buflen,
		         "total %" PRIu64 " is not the sum of its minutes, "
		         "%" PRIu64,
		         total, all);
		return buf;
	}
	return NULL;
}

const char *evc__source_problem(const evc_source_row *r, char *buf,
                                size_t buflen)
{
	if (r->offset > r->size)
		snprintf(buf, buflen,
		         "offset %" PRIu64 " is past the file's size, %" PRIu64,
		         r->offset, r->size);
	else if (r->head_len > r->size || r->head_len > 4096)
		snprintf(buf, buflen,
		         "fingerprinted %" PRIu64 " first bytes of "
		         "%" PRIu64,
		         r->head_len, r->size);
	else if (r->next_line == 0 || r->next_line - 1 > r->offset)
		snprintf(buf, buflen,
		         "line %" PRIu64 " cannot start at byte %" PRIu64,
		         r->next_line, r->offset);
	else if (r->rows_counted > r->offset || r->rows_rejected > r->offset)
		snprintf(buf, buflen,
		         "%" PRIu64 " rows counted and %" PRIu64
		         " rejected in %" PRIu64 " bytes",
		         r->rows_counted, r->rows_rejected, r->offset);
	else
		return NULL;
	return buf;
}

struct check {
	evc_store *store;
	evc_problem_fn fn;
	void *payload;
	uint64_t n;
	int64_t last_customer, last_hour;
	bool any_row;
	bool stopped; /* the callback asked to stop */
};

static int report(struct check *c, const char *what, const char *customer,
                  const int64_t *hour, int64_t source)
{
	const evc_problem p = {
	    .what = what,
	    .customer_id = customer,
	    .has_hour = hour != NULL,
	    .hour = hour ? *hour * 3600 : 0,
	    .source_id = source,
	};
	c->n++;
	if (c->fn && c->fn(&p, c->payload)) {
		c->stopped = true;
		return EVC_EABORTED;
	}
	return EVC_OK;
}

static int integrity_problem(const char *what, void *payload)
{
	char buf[EVC_ERRMSG_MAX];

	snprintf(buf, sizeof(buf), "storage: %s", what);
	return report(payload, buf, NULL, NULL, 0);
}

static int check_hour(const evc_scanned_hour *h, void *payload)
{
	struct check *c = payload;
	char buf[160], who[32];
	const char *name = h->name, *why;

	if (!name) {
		snprintf(who, sizeof(who), "#%" PRId64, h->customer);
		name = who;
		if (report(c, "hour row of a customer id that no customer has",
		           name, &h->hour, 0))
			return EVC_EABORTED;
	}
	/* The scan follows the key: a customer's hours ascend. */
	if (c->any_row && h->customer == c->last_customer &&
	    h->hour <= c->last_hour &&
	    report(c, "hour rows out of order", name, &h->hour, 0))
		return EVC_EABORTED;
	c->any_row = true;
	c->last_customer = h->customer;
	c->last_hour = h->hour;
	why = evc__hour_problem(h->hour, h->total, h->blob, h->blob_len, buf,
	                        sizeof(buf));
	return why ? report(c, why, name, &h->hour, 0) : EVC_OK;
}

static int check_source(const evc_source_row *r, void *payload)
{
	char buf[160];
	const char *why = evc__source_problem(r, buf, sizeof(buf));

	return why ? report(payload, why, NULL, NULL, r->id) : EVC_OK;
}

static int check(struct check *c)
{
	evc_store *s = c->store;
	const evc_backend *be = s->be;
	int rc;

	if ((rc = be->integrity(s->db, integrity_problem, c, &s->err)) ||
	    (rc = be->scan_hours(s->db, false, check_hour, c, &s->err)) ||
	    (rc = be->sources(s->db, false, check_source, c, &s->err)))
		return rc;
	return EVC_OK;
}

EVC_EXPORT int evc_check(evc_store *store, evc_problem_fn fn, void *payload,
                         uint64_t *n_problems)
{
	if (n_problems)
		*n_problems = 0;
	if (!store)
		return evc__fail(NULL, EVC_EINVAL, "evc_check: NULL store");
	struct check c = {.store = store, .fn = fn, .payload = payload};
	evc__store_enter(store);
	int rc = store->be->begin_read(store->db, &store->err);
	if (rc == EVC_OK) {
		rc = check(&c);
		store->be->end_read(store->db);
	}
	if (rc == EVC_ECORRUPT && !c.stopped) {
		/* Damage the backend cannot read past is a problem too. */
		report(&c, store->err.msg, NULL, NULL, 0);
	} else if (rc == EVC_EABORTED && c.stopped) {
		evc__fail(&store->err, rc, "check stopped by the callback");
	}
	if (n_problems)
		*n_problems = c.n;
	if (rc == EVC_OK && c.n > 0)
		rc = evc__fail(&store->err, EVC_ECORRUPT,
		               "%s: %" PRIu64 " problem%s found", store->path,
		               c.n, c.n == 1 ? "" : "s");
	else if (rc == EVC_ECORRUPT)
		rc = evc__fail(&store->err, EVC_ECORRUPT,
		               "%s: %" PRIu64 " problem%s found, the last one "
		               "where the store could not be read further",
		               store->path, c.n, c.n == 1 ? "" : "s");
	evc__store_leave(store);
	return rc;
}
