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
#include <stdlib.h>
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
	else if (r->kind != EVC_KIND_FILE && r->kind != EVC_KIND_STREAM)
		snprintf(buf, buflen, "unknown kind %d", (int)r->kind);
	else if (r->counted_from < EVC_FROM_UNKNOWN ||
	         (r->counted_from > 0 && (uint64_t)r->counted_from > r->offset))
		snprintf(buf, buflen,
		         "counted from byte %" PRId64
		         ", past its offset %" PRIu64,
		         r->counted_from, r->offset);
	else if (r->retracted < 0)
		snprintf(buf, buflen, "retracted at %" PRId64, r->retracted);
	else
		return NULL;
	return buf;
}

/* A day total: as the day's hour rows sum, or as stored. */
struct day_sum {
	int64_t customer, day;
	uint64_t total;
	bool tainted; /* holds an hour reported wrong: not compared */
};

struct check {
	evc_store *store;
	evc_problem_fn fn;
	void *payload;
	uint64_t n;
	int64_t last_customer, last_hour;
	bool any_row;
	bool stopped; /* the callback asked to stop */
	bool nomem;
	/* The day totals the hour rows make, in key order, to hold against
	 * the stored ones; and the name of each customer id seen. */
	struct day_sum *sums;
	size_t n_sums, cap_sums;
	struct day_sum *days; /* the stored ones, as scanned */
	size_t n_days, cap_days;
	/* Customer id strings by backend id, read when a day total is found
	 * wrong. */
	struct name_of *names;
	size_t n_names, cap_names;
};

struct name_of {
	int64_t customer;
	char *name;
};

static int keep_name(int64_t customer, const char *name, void *payload)
{
	struct check *c = payload;

	if (c->n_names == c->cap_names) {
		size_t cap = c->cap_names ? 2 * c->cap_names : 256;
		struct name_of *v = evc__malloc(cap * sizeof(*v));
		if (!v)
			goto nomem;
		if (c->n_names)
			memcpy(v, c->names, c->n_names * sizeof(*v));
		free(c->names);
		c->names = v;
		c->cap_names = cap;
	}
	char *copy = evc__strndup(name, strlen(name));
	if (!copy)
		goto nomem;
	c->names[c->n_names++] = (struct name_of){customer, copy};
	return EVC_OK;
nomem:
	c->nomem = true;
	return EVC_ENOMEM;
}

static const char *name_of(struct check *c, int64_t customer, char *buf,
                           size_t len)
{
	if (!c->names &&
	    c->store->be->customer_names(c->store->db, keep_name, c,
	                                 &c->store->err) != EVC_OK)
		c->n_names = 0;
	for (size_t i = 0; i < c->n_names; i++)
		if (c->names[i].customer == customer)
			return c->names[i].name;
	snprintf(buf, len, "#%" PRId64, customer);
	return buf;
}

static int64_t day_of(int64_t hour)
{
	return evc__floor_div(hour, 24);
}

static bool push_day(struct day_sum **v, size_t *n, size_t *cap,
                     int64_t customer, int64_t day, uint64_t total,
                     bool tainted)
{
	if (*n && (*v)[*n - 1].customer == customer &&
	    (*v)[*n - 1].day == day) {
		(*v)[*n - 1].total += total;
		(*v)[*n - 1].tainted |= tainted;
		return true;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 1024;
		struct day_sum *nv = evc__malloc(ncap * sizeof(*nv));
		if (!nv)
			return false;
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		free(*v);
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct day_sum){customer, day, total, tainted};
	return true;
}

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
	const bool out_of_order =
	    c->any_row &&
	    (h->customer < c->last_customer ||
	     (h->customer == c->last_customer && h->hour <= c->last_hour));
	if (out_of_order &&
	    report(c, "hour rows out of order", name, &h->hour, 0))
		return EVC_EABORTED;
	c->any_row = true;
	c->last_customer = h->customer;
	c->last_hour = h->hour;
	why = evc__hour_problem(h->hour, h->total, h->blob, h->blob_len, buf,
	                        sizeof(buf));
	if (why && report(c, why, name, &h->hour, 0))
		return EVC_EABORTED;
	/* A wrong hour makes its day's total no evidence of more. */
	if (!push_day(&c->sums, &c->n_sums, &c->cap_sums, h->customer,
	              day_of(h->hour), h->total,
	              why != NULL || !h->name || out_of_order)) {
		c->nomem = true;
		return EVC_ENOMEM;
	}
	return EVC_OK;
}

static int collect_day(int64_t customer, int64_t day, uint64_t total,
                       void *payload)
{
	struct check *c = payload;

	if (c->n_days && (c->days[c->n_days - 1].customer > customer ||
	                  (c->days[c->n_days - 1].customer == customer &&
	                   c->days[c->n_days - 1].day >= day)))
		return report(c, "day totals out of order", NULL, NULL, 0);
	if (!push_day(&c->days, &c->n_days, &c->cap_days, customer, day, total,
	              false)) {
		c->nomem = true;
		return EVC_ENOMEM;
	}
	return EVC_OK;
}

/* The stored day totals against the hour rows' sums: both in key order,
 * a merge. Problems name the customer and the day's first hour. */
static int check_days(struct check *c)
{
	size_t i = 0, k = 0;
	char buf[160], who[32];

	while (i < c->n_sums || k < c->n_days) {
		const struct day_sum *h = i < c->n_sums ? &c->sums[i] : NULL;
		const struct day_sum *d = k < c->n_days ? &c->days[k] : NULL;
		const bool take_h =
		    h && (!d || h->customer < d->customer ||
		          (h->customer == d->customer && h->day <= d->day));
		const bool take_d =
		    d && (!h || d->customer < h->customer ||
		          (d->customer == h->customer && d->day <= h->day));
		const struct day_sum *x = take_h ? h : d;
		const uint64_t want = take_h ? h->total : 0;
		const uint64_t got = take_d ? d->total : 0;
		i += take_h;
		k += take_d;
		if (want == got || (take_h && h->tainted))
			continue;
		snprintf(buf, sizeof(buf),
		         "day total %" PRIu64 " is not the sum of the day's "
		         "hours, %" PRIu64,
		         got, want);
		const int64_t hour = x->day * 24;
		if (report(c, buf, name_of(c, x->customer, who, sizeof(who)),
		           &hour, 0))
			return EVC_EABORTED;
	}
	return EVC_OK;
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
	if (be->has_days(s->db) &&
	    ((rc = be->scan_days(s->db, collect_day, c, &s->err)) ||
	     (rc = check_days(c))))
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
	free(c.sums);
	free(c.days);
	for (size_t i = 0; i < c.n_names; i++)
		free(c.names[i].name);
	free(c.names);
	if (c.nomem)
		rc = evc__fail(&store->err, EVC_ENOMEM, "%s: out of memory",
		               store->path);
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
