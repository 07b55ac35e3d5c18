/* SPDX-License-Identifier: MIT */
/*
 * The one check of a query's arguments, shared by the command line
 * (`hourly`, the one-shot form, `counts`) and serve (/hourly, /counts): the
 * same rules and the same messages, with each front end's names for the
 * arguments.
 */
#ifndef EVCOUNT_QUERY_ARGS_H
#define EVCOUNT_QUERY_ARGS_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>

enum query_arg {
	QUERY_CUSTOMER,
	QUERY_START,
	QUERY_END,
	QUERY_TZ,
	QUERY_TOP,
	QUERY_ALL,
	N_QUERY_ARGS
};

/* How a front end names the arguments and what it checks itself. */
struct query_dialect {
	const char *name[N_QUERY_ARGS]; /* in messages: "--start", "start" */
	/* Command line style: messages say "missing --end" and repeat the
	 * values given; else "missing parameter \"end\"" and no values. */
	bool cli_style;
};

extern const struct query_dialect query_cli, query_http;

/* The arguments as given, NULL when absent; `context` (NULL: none)
 * prefixes the message of a missing argument ("hourly: missing --end").
 * For counts, every customer id given is in customers[] (value[CUSTOMER]
 * is the first), and value[QUERY_ALL] non-NULL asks for all customers. */
struct query_input {
	const char *value[N_QUERY_ARGS];
	const char *const *customers;
	size_t n_customers;
	const char *context;
};

/* Check the arguments. Returns true with the customer and the bounds of
 * `a` set (the rest untouched), else false with a message in `err`. */
bool query_check(const struct query_input *in, const struct query_dialect *d,
                 struct hourly_args *a, char *err, size_t errlen);

/* Check the arguments of a counts query: customers (given or all), the
 * zone (loaded to read the bounds), the bounds as wall-clock times of the
 * zone when they have no offset, top. Sets every field of `a` but format,
 * sparse and bucket (which the library checks). */
bool counts_check(const struct query_input *in, const struct query_dialect *d,
                  struct counts_args *a, char *err, size_t errlen);

/* Format a refusal into err; returns false, for `return query_fail(...)`. */
bool query_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* EVCOUNT_QUERY_ARGS_H */
