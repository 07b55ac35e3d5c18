/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve without libmicrohttpd: the command exists, so that
 * scripts get a clear failure rather than "unknown command".
 */
#include "cli.h"

#include <stdio.h>

static int no_http(void)
{
	fputs(PROG ": serve: built without HTTP support (libmicrohttpd)\n",
	      stderr);
	return EXIT_FAIL;
}

int cli_serve_main(const char *db, int argc, char **argv)
{
	return no_http();
}

int cli_serve_oneshot(const char *db, const struct ingest_args *in)
{
	return no_http();
}
