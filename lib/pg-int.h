/* SPDX-License-Identifier: MIT */
/*
 * Shared by the two files of the PostgreSQL backend: pg-name.c (what a
 * store's name says: the libpq URI, the schema, the secrets to keep out of
 * messages) and pg.c (the schema and every statement). Nothing outside the
 * backend includes this header but the tests.
 */
#ifndef EVC_PG_INT_H
#define EVC_PG_INT_H

#include "storage.h"

/* The store's schema when the name does not choose one. */
#define EVC_PG_SCHEMA_DEFAULT "evcount"
/* The URI query parameter that chooses it; removed before libpq sees the
 * URI (libpq refuses parameters it does not know). */
#define EVC_PG_SCHEMA_PARAM "evcount_schema"
#define EVC_PG_SECRETS_MAX  4

/* A store name taken apart. Every string is owned. */
typedef struct evc_pg_name {
	char *conninfo; /* the URI for libpq: evcount's parameter removed */
	char *display;  /* the name for messages: passwords masked */
	char *schema;   /* a plain identifier: [A-Za-z_][A-Za-z0-9_]{0,62} */
	/* Passwords the name holds, as written and percent-decoded: libpq
	 * may quote the URI's text in a message, so messages are scrubbed of
	 * them. */
	char *secret[EVC_PG_SECRETS_MAX];
	unsigned n_secrets;
} evc_pg_name;

/* Whether the name is a PostgreSQL URI (postgresql:// or postgres://). */
bool evc__pg_handles(const char *name);
/* Take a URI apart; EVC_EINVAL for a bad schema parameter, EVC_ENOMEM. */
int evc__pg_name_parse(const char *name, evc_pg_name *out, evc_error *err);
void evc__pg_name_free(evc_pg_name *n);
/* The name with its passwords masked (malloc'ed; NULL when out of
 * memory): what messages and the store handle show. */
char *evc__pg_display_name(const char *name);
/* Replace every secret of `n` in msg (NUL-terminated, in a buffer of
 * `size` bytes) with "***". */
void evc__pg_scrub(const evc_pg_name *n, char *msg, size_t size);

#endif /* EVC_PG_INT_H */
