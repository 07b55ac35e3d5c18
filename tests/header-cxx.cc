/* SPDX-License-Identifier: MIT */
/* The public header on its own, compiled as C++ with -pedantic -Werror and
 * linked with the shared library: its declarations must be usable as such. */
#include <evcount.h>

#include <cstdio>
#include <cstring>

static int fail(const char *what)
{
	fprintf(stderr, "header-cxx: %s\n", what);
	return 1;
}

/* Downstream code compares versions in the preprocessor. */
#if !defined(EVC_VERSION_NUMBER) || EVC_VERSION_NUMBER < 100
#error "EVC_VERSION_NUMBER cannot be used in #if"
#endif

int main(void)
{
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	static_assert(sizeof(evc_bucket) >= sizeof(int64_t), "bucket");
	evc_ingest_stats stats;
	evc_hourly_result *res = NULL;
	evc_store *store = NULL;
	char buf[EVC_TIME_BUFSZ];
	int64_t t = 0;

	if (strcmp(evc_version(), EVC_VERSION_STRING) != 0)
		return fail("evc_version() != EVC_VERSION_STRING");
	if (opts.version != EVC_INGEST_OPTIONS_VERSION || opts.flags != 0 ||
	    opts.on_reject != NULL || opts.on_progress != NULL)
		return fail("EVC_INGEST_OPTIONS_INIT");
	if (evc_strerror(EVC_OK) == NULL || evc_sqlite_version() == NULL)
		return fail("strings");
	if (evc_parse_time("2021-03-01T02:15:00Z", &t) != EVC_OK ||
	    t != 1614564900LL)
		return fail("evc_parse_time");
	if (evc_format_time(t, buf, sizeof(buf)) != 20 ||
	    strcmp(buf, "2021-03-01T02:15:00Z") != 0)
		return fail("evc_format_time");
	if (evc_open(&store, ":memory:",
	             EVC_OPEN_READWRITE | EVC_OPEN_CREATE) != EVC_OK)
		return fail("evc_open");
	memset(&stats, 0, sizeof(stats));
	if (evc_ingest_csv(store, "/nonexistent/evcount/input.csv", &opts,
	                   &stats) != EVC_ENOTFOUND)
		return fail("evc_ingest_csv on a missing file");
	if (evc_hourly(store, "c", t, t + 3600, &res) != EVC_OK ||
	    res->n_buckets != 2 || res->total != 0)
		return fail("evc_hourly");
	evc_hourly_free(res);
	evc_close(store);
	return 0;
}
