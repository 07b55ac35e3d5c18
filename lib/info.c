/* SPDX-License-Identifier: MIT */
/*
 * Store contents: the customers with their totals and spans, and the
 * store's summary. The backend hands over raw hour rows; the spans of
 * events are read off their minute blobs here.
 */
#include "storage.h"

#include <string.h>

struct visit {
	evc_store *store;
	evc_customer_fn fn;
	void *payload;
};

static int corrupt(evc_store *store, int64_t hour)
{
	return evc__fail(&store->err, EVC_ECORRUPT,
	                 "%s: corrupt store: hour %lld: %s", store->path,
	                 (long long)hour,
	                 hour < EVC_HOUR_MIN || hour > EVC_HOUR_MAX
	                     ? "outside years 0000 to 9999"
	                     : "malformed minute counts");
}

/* The first and last minute of a stored hour, if it is sound. */
static bool span_of(int64_t hour, const uint8_t *blob, size_t len,
                    unsigned *first, unsigned *last)
{
	return hour >= EVC_HOUR_MIN && hour <= EVC_HOUR_MAX &&
	       evc__minutes_span(blob, len, first, last);
}

static int visit_one(const evc_customer_row *row, void *payload)
{
	const struct visit *v = payload;
	evc_customer_info c = {.customer_id = row->name, .total = row->total};
	unsigned lo, hi, unused;

	if (row->has_hours) {
		if (!span_of(row->first_hour, row->first_blob, row->first_len,
		             &lo, &unused))
			return corrupt(v->store, row->first_hour);
		if (!span_of(row->last_hour, row->last_blob, row->last_len,
		             &unused, &hi))
			return corrupt(v->store, row->last_hour);
		c.first_minute = row->first_hour * 3600 + lo * 60;
		c.last_minute = row->last_hour * 3600 + hi * 60;
	}
	if (v->fn(&c, v->payload))
		return evc__fail(&v->store->err, EVC_EABORTED,
		                 "listing stopped by the callback");
	return EVC_OK;
}

EVC_EXPORT int evc_customers(evc_store *store, evc_customer_fn fn,
                             void *payload)
{
	struct visit v = {store, fn, payload};

	if (!store || !fn)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_customers: NULL argument");
	evc__store_enter(store);
	const int rc =
	    store->be->customers(store->db, visit_one, &v, &store->err);
	evc__store_leave(store);
	return rc;
}

/* The earliest (or latest) minute with events among the rows of the
 * store's first (or last) hour. */
struct edge {
	evc_store *store;
	bool latest, found;
	int64_t minute;
};

static int edge_row(int64_t hour, uint64_t total, const uint8_t *blob,
                    size_t len, void *payload)
{
	struct edge *e = payload;
	unsigned lo, hi;

	(void)total;
	if (!span_of(hour, blob, len, &lo, &hi))
		return corrupt(e->store, hour);
	const int64_t m = hour * 3600 + (e->latest ? hi : lo) * 60;
	if (!e->found || (e->latest ? m > e->minute : m < e->minute))
		e->minute = m;
	e->found = true;
	return EVC_OK;
}

static int summarise(evc_store *store, evc_store_summary *out)
{
	const evc_backend *be = store->be;
	evc_error *err = &store->err;
	evc_store_totals t;
	struct edge first = {store, false, false, 0};
	struct edge last = {store, true, false, 0};
	int rc;

	if ((rc = be->totals(store->db, &t, err)) ||
	    (rc = be->edge_hours(store->db, false, edge_row, &first, err)) ||
	    (rc = be->edge_hours(store->db, true, edge_row, &last, err)))
		return rc;
	out->customers = t.customers;
	out->sources = t.sources;
	out->rows_counted = t.rows_counted;
	out->rows_rejected = t.rows_rejected;
	out->file_size = t.size;
	out->first_minute = first.minute;
	out->last_minute = last.minute;
	return EVC_OK;
}

EVC_EXPORT int evc_store_info(evc_store *store, evc_store_summary *out)
{
	evc_store_summary s;
	int rc;

	if (!store || !out)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_store_info: NULL argument");
	/* Filled aside, so that a failure halfway leaves no mix in *out; in
	 * one snapshot, so that the figures agree with each other even while
	 * another process ingests. */
	memset(&s, 0, sizeof(s));
	evc__store_enter(store);
	rc = store->be->begin_read(store->db, &store->err);
	if (rc == EVC_OK) {
		rc = summarise(store, &s);
		store->be->end_read(store->db);
	}
	evc__store_leave(store);
	if (rc == EVC_OK)
		*out = s;
	return rc;
}

EVC_EXPORT int evc_as_of(evc_store *store, int64_t *out)
{
	if (!store || !out)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_as_of: NULL argument");
	evc__store_enter(store);
	const int rc = store->be->last_ingest(store->db, out, &store->err);
	evc__store_leave(store);
	return rc;
}
