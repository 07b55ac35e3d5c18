/* SPDX-License-Identifier: MIT */
/*
 * Hourly buckets: clamps the caller's bounds to the store's minute
 * resolution, lays out every UTC hour intersecting [start, end), and fills
 * them from one range scan of the customer's stored hours. Whole hours take
 * the stored total; only the (at most two) partial hours decode minutes.
 * Also the full export of every stored minute.
 */
#include "storage.h"

#include <stdlib.h>
#include <string.h>

struct fill {
	evc_store *store;
	const char *customer;
	evc_hourly_result *res;
	int64_t first_hour; /* epoch hours of buckets[0] */
	int64_t lo, hi;     /* the hours this visit asked for */
	int64_t prev;       /* the last hour visited; lo - 1 before */
};

static int corrupt_hour(struct fill *f, int64_t hour, const char *what)
{
	return evc__fail(&f->store->err, EVC_ECORRUPT,
	                 "%s: corrupt store: customer %s, hour %lld: %s",
	                 f->store->path, f->customer, (long long)hour, what);
}

static int fill_hour(int64_t hour, uint64_t total, const uint8_t *blob,
                     size_t blob_len, void *payload)
{
	struct fill *f = payload;
	char buf[160];

	/* A damaged row can decode to any hour: only those asked for, each
	 * once, index the buckets. */
	if (hour < f->lo || hour > f->hi || hour <= f->prev)
		return corrupt_hour(f, hour,
		                    "hour rows out of order or out of range");
	f->prev = hour;
	evc_bucket *b = &f->res->buckets[hour - f->first_hour];
	if (!b->partial) {
		if (total == 0)
			return corrupt_hour(f, hour,
			                    "an hour row without events");
		b->count = total;
		return EVC_OK;
	}
	const char *why =
	    evc__hour_problem(hour, total, blob, blob_len, buf, sizeof(buf));
	if (why)
		return corrupt_hour(f, hour, why);
	const int64_t lo = f->res->start > b->hour ? f->res->start : b->hour;
	const int64_t hi =
	    f->res->end < b->hour + 3600 ? f->res->end : b->hour + 3600;
	evc__minutes_sum(blob, blob_len, (unsigned)((lo - b->hour) / 60),
	                 (unsigned)((hi - b->hour) / 60), &b->count, NULL);
	return EVC_OK;
}

/* Fill the buckets of hours [lo, hi] from the store. */
static int fill(struct fill *f, int64_t cust, int64_t lo, int64_t hi,
                evc_minutes_read minutes)
{
	f->lo = lo;
	f->hi = hi;
	f->prev = lo - 1;
	return f->store->be->hours(f->store->db, cust, lo, hi, minutes,
	                           fill_hour, f, &f->store->err);
}

static int hourly(evc_store *store, const char *customer_id, int64_t start,
                  int64_t end, evc_hourly_result **out)
{
	const evc_backend *be = store->be;
	evc_error *err = &store->err;

	if (start < EVC_TIME_MIN || start > EVC_TIME_MAX ||
	    end < EVC_TIME_MIN || end > EVC_TIME_MAX)
		return evc__fail(err, EVC_ERANGE,
		                 "query bounds must be within years 0000 to "
		                 "9999");
	const int64_t s = evc__floor_div(start, 60) * 60;
	const int64_t e = evc__floor_div(end, 60) * 60;
	if (s >= e)
		return evc__fail(err, EVC_EINVAL,
		                 "start must be before end (both are floored "
		                 "to the minute)");
	const int64_t h0 = evc__floor_div(s, 3600);
	const int64_t h1 = evc__floor_div(e - 1, 3600);
	const int64_t nb = h1 - h0 + 1;
	if (nb > EVC_HOURLY_MAX_BUCKETS)
		return evc__fail(err, EVC_ERANGE,
		                 "range too wide: %lld hours, at most %d per "
		                 "query",
		                 (long long)nb, EVC_HOURLY_MAX_BUCKETS);

	evc_hourly_result *res =
	    evc__malloc(sizeof(*res) + (size_t)nb * sizeof(evc_bucket));
	if (!res)
		return evc__fail(err, EVC_ENOMEM, "out of memory");
	res->start = s;
	res->end = e;
	res->total = 0;
	res->n_buckets = (size_t)nb;
	res->buckets = (evc_bucket *)(res + 1);
	for (int64_t i = 0; i < nb; i++) {
		evc_bucket *b = &res->buckets[i];
		b->hour = (h0 + i) * 3600;
		b->count = 0;
		b->partial = s > b->hour || e < b->hour + 3600;
	}

	int64_t cust;
	int rc = be->customer(store->db, customer_id, strlen(customer_id),
	                      false, &cust, err);
	if (rc == EVC_OK && cust != 0) {
		/* Only the first and last hours can be partial: they alone
		 * need their minutes. */
		struct fill f = {.store = store,
		                 .customer = customer_id,
		                 .res = res,
		                 .first_hour = h0};
		int64_t lo = h0, hi = h1;
		if (res->buckets[0].partial) {
			rc = fill(&f, cust, h0, h0, EVC_WITH_MINUTES);
			lo = h0 + 1;
		}
		if (rc == EVC_OK && hi >= lo &&
		    res->buckets[res->n_buckets - 1].partial) {
			rc = fill(&f, cust, h1, h1, EVC_WITH_MINUTES);
			hi = h1 - 1;
		}
		if (rc == EVC_OK && hi >= lo)
			rc = fill(&f, cust, lo, hi, EVC_TOTALS_ONLY);
	}
	if (rc != EVC_OK) {
		free(res);
		return rc;
	}
	for (size_t i = 0; i < res->n_buckets; i++)
		res->total += res->buckets[i].count;
	*out = res;
	return EVC_OK;
}

EVC_EXPORT int evc_hourly(evc_store *store, const char *customer_id,
                          int64_t start, int64_t end, evc_hourly_result **out)
{
	if (out)
		*out = NULL;
	if (!store || !customer_id || !out)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_hourly: NULL argument");
	evc__store_enter(store);
	const int rc = hourly(store, customer_id, start, end, out);
	evc__store_leave(store);
	return rc;
}

EVC_EXPORT void evc_hourly_free(evc_hourly_result *result)
{
	free(result);
}

struct export
{
	evc_store *store;
	evc_minute_fn fn;
	void *payload;
};

static int export_hour(const evc_scanned_hour *h, void *payload)
{
	const struct export *x = payload;
	char buf[160];
	uint64_t counts[60];

	if (!h->name)
		return evc__fail(&x->store->err, EVC_ECORRUPT,
		                 "%s: corrupt store: hour rows of customer id "
		                 "%lld, which no customer has",
		                 x->store->path, (long long)h->customer);
	const char *why = evc__hour_problem(h->hour, h->total, h->blob,
	                                    h->blob_len, buf, sizeof(buf));
	if (why)
		return evc__fail(
		    &x->store->err, EVC_ECORRUPT,
		    "%s: corrupt store: customer %s, hour %lld: %s",
		    x->store->path, h->name, (long long)h->hour, why);
	evc__minutes_decode(h->blob, h->blob_len, counts);
	for (unsigned m = 0; m < 60; m++)
		if (counts[m] && x->fn(h->name, (h->hour * 60 + m) * 60,
		                       counts[m], x->payload))
			return evc__fail(&x->store->err, EVC_EABORTED,
			                 "export stopped by the callback");
	return EVC_OK;
}

EVC_EXPORT int evc_export(evc_store *store, evc_minute_fn fn, void *payload)
{
	if (!store || !fn)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_export: NULL argument");
	struct export x = {store, fn, payload};
	evc__store_enter(store);
	const int rc = store->be->scan_hours(store->db, true, export_hour, &x,
	                                     &store->err);
	evc__store_leave(store);
	return rc;
}

EVC_EXPORT int evc_customer_count(evc_store *store, uint64_t *out)
{
	if (!store || !out)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_customer_count: NULL argument");
	evc__store_enter(store);
	const int rc = store->be->customer_count(store->db, out, &store->err);
	evc__store_leave(store);
	return rc;
}
