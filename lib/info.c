/* SPDX-License-Identifier: MIT */
/*
 * Store contents: the customers with their totals and spans, and the
 * store's summary. The SQL is in storage.c; this file checks arguments and
 * turns a callback's stop into EVC_EABORTED, as evc_sources() does.
 */
#include "evc-int.h"

#include <string.h>

struct visit {
	evc_customer_fn fn;
	void *payload;
};

static int visit_one(const evc_customer_info *c, void *payload)
{
	const struct visit *v = payload;

	return v->fn(c, v->payload) ? EVC_EABORTED : EVC_OK;
}

EVC_EXPORT int evc_customers(evc_store *store, evc_customer_fn fn,
                             void *payload)
{
	struct visit v = {fn, payload};
	int rc;

	if (!store || !fn)
		return evc__fail(store, EVC_EINVAL,
		                 "evc_customers: NULL argument");
	rc = evc__db_customers(store, store->db, visit_one, &v);
	if (rc == EVC_EABORTED)
		return evc__fail(store, rc, "listing stopped by the callback");
	if (rc == EVC_OK)
		evc__clear_error(store);
	return rc;
}

EVC_EXPORT int evc_store_info(evc_store *store, evc_store_summary *out)
{
	evc_store_summary s;
	int rc;

	if (!store || !out)
		return evc__fail(store, EVC_EINVAL,
		                 "evc_store_info: NULL argument");
	/* Filled aside, so that a failure halfway leaves no mix in *out. */
	memset(&s, 0, sizeof(s));
	rc = evc__db_store_info(store, store->db, &s);
	if (rc != EVC_OK)
		return rc;
	*out = s;
	evc__clear_error(store);
	return EVC_OK;
}
