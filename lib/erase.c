/* SPDX-License-Identifier: MIT */
/*
 * Erasures (evc_forget(), evc_prune()): counts removed for good, each in
 * one write transaction with its record, then the space given back to the
 * file system. The record keeps, for each live file source, the offset it
 * had reached, so that a later retraction of the source leaves out the
 * rows the erasure already removed (retract.c).
 */
#include "source.h"
#include "utf8.h"

#include <string.h>
#include <time.h>

int evc__correction_args(evc_store *store, const char *name, unsigned flags,
                         evc_correction_stats **stats,
                         evc_correction_stats *local)
{
	if (!*stats)
		*stats = local;
	memset(*stats, 0, sizeof(**stats));
	if (!store)
		return evc__fail(NULL, EVC_EINVAL, "%s: NULL store", name);
	if (flags & ~EVC_CORRECT_DRY_RUN)
		return evc__fail(&store->err, EVC_EINVAL, "%s: unknown flags",
		                 name);
	return EVC_OK;
}

uint64_t evc__customer_key(const char *id, size_t len)
{
	evc_hash h;

	evc__hash_init(&h);
	evc__hash_update(&h, id, len);
	return evc__hash_final(&h);
}

/* Run `remove` and record its erasure in one transaction, then give the
 * space back; dry, roll it all back. */
static int erase(evc_store *store, unsigned flags, const evc_erasure *e,
                 int (*remove)(evc_store *, const void *, evc_removal *,
                               bool *),
                 const void *arg, evc_correction_stats *stats)
{
	const evc_backend *be = store->be;
	evc_store_totals t;
	evc_removal rm = {0};
	bool any = false;
	int rc;

	if ((rc = be->totals(store->db, &t, &store->err)))
		return rc;
	stats->size_before = stats->size_after = t.size;
	if ((rc = be->begin_write(store->db, EVC_CLAIM_ALL, &store->err)))
		return rc;
	if ((rc = remove(store, arg, &rm, &any)) ||
	    (any && (rc = be->erasure_add(store->db, e, &store->err)))) {
		be->rollback(store->db);
		return rc;
	}
	stats->events = rm.events;
	stats->customers = rm.customers;
	stats->customers_removed = rm.customers_removed;
	stats->hours = stats->hours_removed = rm.hours;
	if (flags & EVC_CORRECT_DRY_RUN) {
		be->rollback(store->db);
		return EVC_OK;
	}
	if ((rc = be->commit(store->db, &store->err)))
		return rc;
	/* Committed: a failure to give the space back loses nothing, and a
	 * later erasure (or VACUUM) gives it back. */
	if (any && (rc = be->reclaim(store->db, &store->err)))
		return rc;
	if ((rc = be->totals(store->db, &t, &store->err)))
		return rc;
	stats->size_after = t.size;
	evc__clear_error(&store->err);
	return EVC_OK;
}

static int remove_customer(evc_store *store, const void *arg, evc_removal *rm,
                           bool *any)
{
	const char *id = arg;
	int64_t cust;
	int rc;

	if ((rc = store->be->customer(store->db, id, strlen(id), false, &cust,
	                              &store->err)) ||
	    cust == 0)
		return rc;
	*any = true;
	return store->be->forget(store->db, cust, rm, &store->err);
}

static int remove_before(evc_store *store, const void *arg, evc_removal *rm,
                         bool *any)
{
	int rc =
	    store->be->prune(store->db, *(const int64_t *)arg, rm, &store->err);
	*any = rm->events > 0;
	return rc;
}

EVC_EXPORT int evc_forget(evc_store *store, const char *customer_id,
                          unsigned flags, evc_correction_stats *stats)
{
	evc_correction_stats local;
	int rc;

	if ((rc = evc__correction_args(store, "evc_forget", flags, &stats,
	                               &local)))
		return rc;
	if (!customer_id)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_forget: NULL customer id");
	const size_t len = strlen(customer_id);
	if (len == 0 || len > 255 ||
	    !evc__utf8_valid((const unsigned char *)customer_id, len))
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_forget: the customer id must be 1 to 255 "
		                 "bytes of UTF-8");
	if ((rc = evc__writer_enter(store, "forget")))
		return rc;
	const evc_erasure e = {
	    .kind = EVC_ERASE_CUSTOMER,
	    .key = evc__customer_key(customer_id, len),
	    .at = (int64_t)time(NULL),
	};
	rc = erase(store, flags, &e, remove_customer, customer_id, stats);
	evc__writer_leave(store);
	return rc;
}

EVC_EXPORT int evc_prune(evc_store *store, int64_t before, unsigned flags,
                         evc_correction_stats *stats)
{
	evc_correction_stats local;
	int rc;

	if ((rc = evc__correction_args(store, "evc_prune", flags, &stats,
	                               &local)))
		return rc;
	if (before < EVC_TIME_MIN || before > EVC_TIME_MAX)
		return evc__fail(&store->err, EVC_ERANGE,
		                 "evc_prune: time out of range");
	if ((rc = evc__writer_enter(store, "prune")))
		return rc;
	const int64_t minute = evc__floor_div(before, 60) * 60;
	const evc_erasure e = {
	    .kind = EVC_ERASE_BEFORE,
	    .key = (uint64_t)minute,
	    .at = (int64_t)time(NULL),
	};
	rc = erase(store, flags, &e, remove_before, &minute, stats);
	evc__writer_leave(store);
	return rc;
}
