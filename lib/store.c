/* SPDX-License-Identifier: MIT */
/*
 * The store handle: opening a store with the backend its name calls for,
 * closing it, the turns that an ingest's threads and its callbacks take on
 * the backend, and the library's version.
 */
#include "storage.h"

#include <stdlib.h>
#include <string.h>

EVC_EXPORT const char *evc_version(void)
{
	return EVC_VERSION_STRING;
}

/* The first backend that handles the name; SQLite takes every name. */
const evc_backend *evc__backend_for(const char *path)
{
	static const evc_backend *const backends[] = {
#ifdef EVC_HAVE_POSTGRESQL
	    &evc__pg_backend, /* postgresql:// and postgres:// URIs */
#endif
	    &evc__sqlite_backend,
	};

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->handles(path))
			return backends[i];
	return NULL;
}

/* The name for messages: a URI's password never shows. */
static char *display_name(const evc_backend *be, const char *path)
{
	return be->display_name ? be->display_name(path)
	                        : evc__strndup(path, strlen(path));
}

EVC_EXPORT int evc_open(evc_store **out, const char *path, unsigned flags)
{
	const unsigned mode = flags & (EVC_OPEN_READONLY | EVC_OPEN_READWRITE);

	if (out)
		*out = NULL;
	if (!out || !path)
		return evc__fail(NULL, EVC_EINVAL, "evc_open: NULL argument");
	const evc_backend *be = evc__backend_for(path);
	if (!be)
		return evc__fail(NULL, EVC_EINVAL,
		                 "evc_open: %s: no backend for this store",
		                 path);
	evc_store *s = evc__calloc(1, sizeof(*s));
	if (!s || !(s->path = display_name(be, path)) ||
	    !(s->name = evc__strndup(path, strlen(path)))) {
		if (s)
			free(s->path);
		free(s);
		return evc__fail(NULL, EVC_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&s->use, NULL);
	if ((mode != EVC_OPEN_READONLY && mode != EVC_OPEN_READWRITE) ||
	    (flags &
	     ~(EVC_OPEN_READONLY | EVC_OPEN_READWRITE | EVC_OPEN_CREATE)) ||
	    ((flags & EVC_OPEN_CREATE) && mode != EVC_OPEN_READWRITE)) {
		evc__fail(NULL, EVC_EINVAL, "evc_open: %s: invalid flags 0x%x",
		          s->path, flags);
		evc_close(s);
		return EVC_EINVAL;
	}
	s->be = be;
	s->flags = flags;
	int rc = be->open(&s->db, s->name, flags, NULL);
	if (rc != EVC_OK) {
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
	if (store->db)
		store->be->close(store->db);
	pthread_mutex_destroy(&store->use);
	free(store->path);
	free(store->name);
	free(store);
}

void evc__store_enter(evc_store *store)
{
	/* Only the thread running an ingest (and so its callbacks) sees the
	 * flag set: a handle is used by one thread at a time. */
	if (store->ingesting)
		pthread_mutex_lock(&store->use);
	evc__clear_error(&store->err);
}

void evc__store_leave(evc_store *store)
{
	if (store->ingesting)
		pthread_mutex_unlock(&store->use);
}

int evc__writer_enter(evc_store *store, const char *name)
{
	if (store->ingesting)
		return evc__fail(&store->err, EVC_EBUSY,
		                 "%s: an ingest is already running on this "
		                 "store handle (called from its callback?)",
		                 name);
	if (!(store->flags & EVC_OPEN_READWRITE))
		return evc__fail(&store->err, EVC_EREADONLY,
		                 "%s: store %s is opened read-only", name,
		                 store->path);
	store->ingesting = true;
	return EVC_OK;
}

void evc__writer_leave(evc_store *store)
{
	store->ingesting = false;
}
