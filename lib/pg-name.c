/* SPDX-License-Identifier: MIT */
/*
 * What a PostgreSQL store's name says. The name is a libpq connection URI,
 * postgresql://[user[:password]@][host][:port][/dbname][?param=value&...],
 * passed to libpq as it is but for one parameter of evcount's own,
 * evcount_schema=NAME, the schema that holds the store (default evcount),
 * which is removed first: libpq refuses parameters it does not know.
 *
 * Passwords (in the user part or as password=...) never reach a message:
 * the display form masks them, and libpq's own messages, which may quote
 * parts of the URI, are scrubbed of them. The URI is split as libpq splits
 * it (fe-connect.c, conninfo_uri_parse_options): the user part is what
 * precedes the first '@' met before any '/', and parameters follow the
 * first '?' after it.
 */
#include "pg-int.h"

#include <stdlib.h>
#include <string.h>

static const char *const prefixes[] = {"postgresql://", "postgres://"};

static size_t prefix_len(const char *name)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return strlen(prefixes[i]);
	return 0;
}

bool evc__pg_handles(const char *name)
{
	return prefix_len(name) > 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [s, s + len) into a new string; a malformed escape is
 * kept as it is (libpq refuses it later, with its own message). */
static char *decode(const char *s, size_t len)
{
	char *out = evc__malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

/* A growing string; `failed` once an allocation failed. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct sbuf *b, const char *s, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = evc__malloc(cap);
		if (!p) {
			b->failed = true;
			return;
		}
		if (b->p)
			memcpy(p, b->p, b->len);
		free(b->p);
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void puts_(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static bool valid_schema(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		const char c = s[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static int add_secret(evc_pg_name *n, const char *s, size_t len)
{
	if (len == 0 || n->n_secrets + 2 > EVC_PG_SECRETS_MAX)
		return EVC_OK;
	char *raw = evc__strndup(s, len), *dec = decode(s, len);
	if (!raw || !dec) {
		free(raw);
		free(dec);
		return EVC_ENOMEM;
	}
	n->secret[n->n_secrets++] = raw;
	if (strcmp(dec, raw) != 0 && dec[0])
		n->secret[n->n_secrets++] = dec;
	else
		free(dec);
	return EVC_OK;
}

/* The split itself: conninfo and display built side by side. With `n`
 * NULL only the display form is made (into *display). */
static int split(const char *name, evc_pg_name *n, char **display,
                 evc_error *err)
{
	struct sbuf ci = {0}, dp = {0};
	const size_t pre = prefix_len(name);
	const char *p = name + pre, *q;
	char *schema = NULL;
	int rc = EVC_OK;

	put(&ci, name, pre);
	put(&dp, name, pre);
	/* The user part, as libpq finds it. */
	for (q = p; *q && *q != '@' && *q != '/'; q++)
		;
	if (*q == '@') {
		const char *colon = memchr(p, ':', (size_t)(q - p));
		put(&ci, p, (size_t)(q - p + 1));
		if (colon) {
			put(&dp, p, (size_t)(colon - p + 1));
			puts_(&dp, "***@");
			if (n && (rc = add_secret(n, colon + 1,
			                          (size_t)(q - colon - 1))))
				goto out;
		} else {
			put(&dp, p, (size_t)(q - p + 1));
		}
		p = q + 1;
	}
	/* Host, port and database, up to the parameters. */
	q = strchr(p, '?');
	if (!q) {
		puts_(&ci, p);
		puts_(&dp, p);
		goto out;
	}
	put(&ci, p, (size_t)(q - p));
	put(&dp, p, (size_t)(q - p + 1));
	bool first = true;
	for (p = q + 1; *p;) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const size_t klen = eq ? (size_t)(eq - p) : (size_t)(end - p);
		char *key = decode(p, klen);
		if (!key) {
			rc = EVC_ENOMEM;
			goto out;
		}
		const bool is_schema = strcmp(key, EVC_PG_SCHEMA_PARAM) == 0;
		const bool is_password = strcmp(key, "password") == 0;
		free(key);
		if (p != q + 1)
			puts_(&dp, "&");
		if (is_password && eq) {
			put(&dp, p, klen + 1);
			puts_(&dp, "***");
			if (n && (rc = add_secret(n, eq + 1,
			                          (size_t)(end - eq - 1))))
				goto out;
		} else {
			put(&dp, p, (size_t)(end - p));
		}
		if (is_schema) {
			free(schema);
			schema = eq ? decode(eq + 1, (size_t)(end - eq - 1))
			            : evc__strndup("", 0);
			if (!schema) {
				rc = EVC_ENOMEM;
				goto out;
			}
		} else {
			puts_(&ci, first ? "?" : "&");
			put(&ci, p, (size_t)(end - p));
			first = false;
		}
		p = *end ? end + 1 : end;
	}
out:
	if (rc == EVC_OK && (ci.failed || dp.failed || !dp.p))
		rc = EVC_ENOMEM;
	if (rc == EVC_OK && n) {
		if (!schema &&
		    !(schema = evc__strndup(EVC_PG_SCHEMA_DEFAULT,
		                            strlen(EVC_PG_SCHEMA_DEFAULT))))
			rc = EVC_ENOMEM;
		else if (!valid_schema(schema))
			rc = evc__fail(err, EVC_EINVAL,
			               "%s: " EVC_PG_SCHEMA_PARAM
			               " must be 1 to 63 letters, digits or "
			               "underscores, not starting with a digit",
			               dp.p);
	}
	if (rc == EVC_ENOMEM)
		evc__fail(err, EVC_ENOMEM, "out of memory");
	if (rc == EVC_OK && n) {
		n->conninfo = ci.p;
		n->display = dp.p;
		n->schema = schema;
		return EVC_OK;
	}
	free(ci.p);
	free(schema);
	if (rc == EVC_OK)
		*display = dp.p;
	else
		free(dp.p);
	return rc;
}

int evc__pg_name_parse(const char *name, evc_pg_name *out, evc_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = split(name, out, NULL, err);
	if (rc != EVC_OK)
		evc__pg_name_free(out);
	return rc;
}

void evc__pg_name_free(evc_pg_name *n)
{
	free(n->conninfo);
	free(n->display);
	free(n->schema);
	for (unsigned i = 0; i < n->n_secrets; i++)
		free(n->secret[i]);
	memset(n, 0, sizeof(*n));
}

char *evc__pg_display_name(const char *name)
{
	char *display = NULL;
	return split(name, NULL, &display, NULL) == EVC_OK ? display : NULL;
}

void evc__pg_scrub(const evc_pg_name *n, char *msg, size_t size)
{
	static const char mask[] = "***";

	for (unsigned i = 0; i < n->n_secrets; i++) {
		const char *s = n->secret[i];
		const size_t slen = strlen(s);
		char *hit = msg;
		while ((hit = strstr(hit, s)) != NULL) {
			const size_t tail = strlen(hit + slen);
			/* The mask is never longer than what it replaces
			 * but for 1- and 2-byte secrets: keep within size. */
			if ((size_t)(hit - msg) + sizeof(mask) - 1 + tail >=
			    size)
				break;
			memmove(hit + sizeof(mask) - 1, hit + slen, tail + 1);
			memcpy(hit, mask, sizeof(mask) - 1);
			hit += sizeof(mask) - 1;
		}
	}
}
