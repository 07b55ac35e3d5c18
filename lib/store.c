/* SPDX-License-Identifier: MIT */
/*
 * The store handle: opening, closing, and the library's version.
 */
#include "evc-int.h"

#include <stdlib.h>
#include <string.h>

EVC_EXPORT const char *evc_version(void)
{
	return EVC_VERSION_STRING;
}

EVC_EXPORT int evc_open(evc_store **out, const char *path, unsigned flags)
{
	const unsigned mode = flags & (EVC_OPEN_READONLY | EVC_OPEN_READWRITE);

	if (out)
		*out = NULL;
	if (!out || !path)
		return evc__fail(NULL, EVC_EINVAL, "evc_open: NULL argument");
	if ((mode != EVC_OPEN_READONLY && mode != EVC_OPEN_READWRITE) ||
	    (flags & ~(EVC_OPEN_READONLY | EVC_OPEN_READWRITE |
		       EVC_OPEN_CREATE)) ||
	    ((flags & EVC_OPEN_CREATE) && mode != EVC_OPEN_READWRITE))
		return evc__fail(NULL, EVC_EINVAL,
				 "evc_open: %s: invalid flags 0x%x", path,
				 flags);

	evc_store *s = evc__calloc(1, sizeof(*s));
	if (!s || !(s->path = evc__strndup(path, strlen(path)))) {
		free(s);
		return evc__fail(NULL, EVC_ENOMEM, "%s: out of memory", path);
	}
	s->flags = flags;
	int rc = evc__db_open(s, &s->db, path, flags);
	if (rc != EVC_OK) {
		evc__fail(NULL, rc, "%s", s->errmsg);
		evc_close(s);
		return rc;
	}
	evc__clear_error(NULL);
	*out = s;
	return EVC_OK;
}

EVC_EXPORT void evc_close(evc_store *store)
{
	if (!store)
		return;
	evc__db_close(store->db);
	free(store->path);
	free(store);
}
