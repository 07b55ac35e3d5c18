/* SPDX-License-Identifier: MIT */
/*
 * Loading libpq on first use (see pg-libpq.h): its soname, libpq.so.5,
 * has not changed since PostgreSQL 8.4.
 */
#define EVC_LIBPQ_NO_REDIRECT
#include "pg-libpq.h"

#include "evc-int.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define LIBPQ_SONAME "libpq.so.5"

#define EVC_LIBPQ_DEFINE(f) __typeof__(f) *evc__##f;
EVC_LIBPQ_FUNCS(EVC_LIBPQ_DEFINE)
#undef EVC_LIBPQ_DEFINE

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure;
static char reason[256];

static void load(void)
{
	/* Never closed: its functions stay in use until the process ends. */
	void *lib = dlopen(LIBPQ_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(reason, sizeof(reason),
		         "cannot load " LIBPQ_SONAME ": %s", dlerror());
		failure = reason;
		return;
	}
#define EVC_LIBPQ_LOOKUP(f)                                                    \
	if (!failure && !(*(void **)&evc__##f = dlsym(lib, #f))) {             \
		snprintf(reason, sizeof(reason),                               \
		         LIBPQ_SONAME " lacks " #f " (too old?)");             \
		failure = reason;                                              \
	}
	EVC_LIBPQ_FUNCS(EVC_LIBPQ_LOOKUP)
#undef EVC_LIBPQ_LOOKUP
}

int evc__libpq_load(const char **why)
{
	pthread_once(&once, load);
	*why = failure;
	return failure ? EVC_EIO : EVC_OK;
}
