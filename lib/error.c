/* SPDX-License-Identifier: MIT */
/*
 * Status codes, their fixed descriptions, and the error slots that keep
 * the message of the last failure: one per store, one per thread for the
 * calls that take no store.
 */
#include "evc-int.h"

#include <stdio.h>

/* Store-less calls (evc_open, evc_parse_time) have no handle to keep their
 * message in, so it lives per thread. */
static _Thread_local evc_error thread_error;

evc_error *evc__err(evc_store *store)
{
	return store ? &store->err : &thread_error;
}

int evc__fail(evc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		err = &thread_error;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void evc__clear_error(evc_error *err)
{
	if (!err)
		err = &thread_error;
	err->code = EVC_OK;
	err->msg[0] = '\0';
}

EVC_EXPORT const char *evc_errmsg(const evc_store *store)
{
	return store ? store->err.msg : thread_error.msg;
}

EVC_EXPORT const char *evc_strerror(int code)
{
	switch ((evc_status)code) {
	case EVC_OK:
		return "success";
	case EVC_EINVAL:
		return "invalid argument";
	case EVC_EPARSE:
		return "malformed input";
	case EVC_EIO:
		return "input/output error";
	case EVC_EDB:
		return "database error";
	case EVC_ENOMEM:
		return "out of memory";
	case EVC_ENOTSTORE:
		return "not an evcount store";
	case EVC_ESCHEMA:
		return "store written by a newer evcount";
	case EVC_EBUSY:
		return "store is busy";
	case EVC_ERANGE:
		return "out of range";
	case EVC_EREADONLY:
		return "store is read-only";
	case EVC_EABORTED:
		return "aborted by callback";
	case EVC_ECHANGED:
		return "input changed since it was ingested";
	case EVC_ENOTFOUND:
		return "no such file";
	case EVC_EFULL:
		return "disk full";
	case EVC_ECORRUPT:
		return "store is damaged";
	case EVC_EOFFSET:
		return "offset past the stream's committed offset";
	}
	return "unknown error";
}
