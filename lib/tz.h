/* SPDX-License-Identifier: MIT */
/*
 * Time zones (tz.c): IANA zones read from the system's TZif files
 * (RFC 8536, obsoleted by RFC 9636 with the same format), fixed offsets
 * and UTC, for bucketed counts in local time.
 *
 * The library reads the TZif data itself: no TZ variable, no tzset(), no
 * localtime(), so any number of zones can be used at once from any
 * thread. A loaded zone is immutable: every function below that takes a
 * `const evc_tz *` may be called on the same zone from several threads at
 * once, without locking. Loading and freeing are thread-safe too: they
 * touch no shared state, except that evc__tz_load() reads $TZDIR, which
 * nothing may change (setenv) meanwhile, as for any getenv().
 *
 * Times are UTC seconds since the epoch, as everywhere in the library;
 * "local" times are wall-clock seconds since 1970-01-01T00:00 read as if
 * they were UTC (local = t + offset). Offsets are seconds east of UTC.
 */
#ifndef EVC_TZ_H
#define EVC_TZ_H

#include "evc-int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest zone name evc__tz_load() takes, in bytes. */
#define EVC_TZ_NAME_MAX 255
/* Largest zone file evc__tz_load() reads (real ones are under 4 KiB). */
#define EVC_TZ_FILE_MAX (1u << 20)
/* Buffer size that fits any evc__tz_format() output with its NUL:
 * "YYYY-MM-DDTHH:MM:SS+HH:MM". */
#define EVC_TZ_TIME_BUFSZ 26

/* A loaded zone, immutable after load: safe to share between threads. */
typedef struct evc_tz evc_tz;

/*
 * Load a zone by name.
 *
 * - "UTC" (exactly): UTC, built in, no file read; evc__tz_is_utc() is
 *   true. Every other name, "Etc/UTC" included, is read from its file.
 * - A fixed offset: "+HH:MM", "+HHMM" or "+HH" (or with '-'), hours 00-23,
 *   minutes 00-59; "+00:00" is a fixed zone of offset 0 (not UTC: it
 *   formats times with "+00:00").
 * - Anything else is an IANA name (e.g. "America/New_York"), read from
 *   $TZDIR when that is set and non-empty (ignored in set-uid programs),
 *   else from /usr/share/zoneinfo. The name is checked before any file is
 *   opened: 1 to EVC_TZ_NAME_MAX bytes of [A-Za-z0-9_+-./], not starting
 *   with '/', no empty, "." or ".." components.
 *
 * On success *out is a new zone, owned by the caller, who frees it with
 * evc__tz_free(); its name is a copy of `name`. On failure *out is NULL
 * and, when `why` is not NULL, `why` (why_len bytes, NUL-terminated,
 * truncated if need be) says what went wrong, naming the zone, e.g.
 * `unknown time zone "Mars/Olympus" (no such file under /usr/share/zoneinfo)`.
 *
 * Returns EVC_OK; EVC_EINVAL for a NULL argument, a malformed name or
 * offset, or a leap-second ("right/") zone, which is not supported;
 * EVC_ENOTFOUND when no file has that name (or it is a directory or not a
 * regular file); EVC_EPARSE when the file is not valid TZif (the message
 * says what is wrong); EVC_EIO when the file cannot be read; EVC_ENOMEM.
 * Thread-safe.
 */
int evc__tz_load(evc_tz **out, const char *name, char *why, size_t why_len);

/*
 * Make a zone from TZif bytes: evc__tz_load() without the file, for tests
 * and fuzzers. `data` is only read, and not kept; `name` (not checked, not
 * NULL) is copied as the zone's name. The zone is never UTC in the sense
 * of evc__tz_is_utc(), whatever its name and data. Returns EVC_OK,
 * EVC_EPARSE, EVC_EINVAL (NULL arguments, leap seconds) or EVC_ENOMEM,
 * with *out and `why` as for evc__tz_load(). Thread-safe.
 *
 * Accepted: versions 1 to 4 (the 64-bit data of version 2 and later is
 * used, the version 1 block only skipped), without leap seconds, with
 * every count checked against the size, transitions in strictly
 * ascending order, type indexes in range, UT offsets within RFC 9636's
 * [-89999, 93599], designations NUL-terminated, and for version 2 and
 * later a newline-enclosed footer that is empty or a valid POSIX TZ
 * string (std offset [dst [offset] [,start[/time],end[/time]]], dates Jn,
 * n or Mm.w.d, times with hours -167 to 167 as version 3 allows; a
 * missing rule means ",M3.2.0,M11.1.0", as in the tz code). Bytes after
 * the footer are ignored (RFC 9636 lets later versions append data).
 */
int evc__tz_parse(evc_tz **out, const char *name, const uint8_t *data,
                  size_t len, char *why, size_t why_len);

/* Free a zone. NULL is allowed and does nothing. */
void evc__tz_free(evc_tz *tz);

/* The zone's name as given to evc__tz_load() or evc__tz_parse(); valid
 * until the zone is freed. */
const char *evc__tz_name(const evc_tz *tz);

/* True for the zone loaded as "UTC" (the name, not a file of offset 0):
 * evc__tz_format() writes its times with "Z". */
bool evc__tz_is_utc(const evc_tz *tz);

/*
 * The UTC offset in seconds (local = t + offset) in effect at the UTC
 * instant t. t is clamped into [EVC_TIME_MIN, EVC_TIME_MAX].
 *
 * Before a file's first transition, time type 0 applies (RFC 8536 and
 * RFC 9636 section 3.2); from its last transition on, the footer's TZ
 * string when there is one (else the last transition's type); with no
 * transitions at all, the footer, else type 0 (RFC 9636).
 */
int32_t evc__tz_offset(const evc_tz *tz, int64_t t);

/*
 * The first instant t (UTC seconds) at which the zone's wall clock reads
 * `local` or later: the minimum t with t + offset(t) >= local. A wall time
 * skipped by a forward change (a spring-forward gap) maps to the end of the
 * gap; a wall time that occurs twice (a fall-back) maps to its first
 * occurrence. The result is clamped into [EVC_TIME_MIN, EVC_TIME_MAX + 1];
 * any int64_t `local` is accepted.
 */
int64_t evc__tz_first_at_or_after(const evc_tz *tz, int64_t local);

/*
 * The next instant strictly after t at which the offset changes (the
 * first s > t with offset(s) != offset(s - 1)), if there is one at or
 * before EVC_TIME_MAX: true and *next set. False, *next untouched, when
 * the offset never changes again within the range. A t before
 * EVC_TIME_MIN is taken as EVC_TIME_MIN. Transitions that change only the
 * abbreviation or the DST flag are not changes.
 */
bool evc__tz_next_change(const evc_tz *tz, int64_t t, int64_t *next);

/*
 * Write t as an RFC 3339 local time with its offset, NUL-terminated:
 * "2021-03-14T03:00:00-04:00", or "2021-03-14T07:00:00Z" for the UTC zone.
 *
 * RFC 3339 offsets have no seconds, and before ~1900 most zones kept local
 * mean time with offsets such as -4:56:02. Such an offset is written
 * truncated towards zero to whole minutes (-04:56), with the local time
 * that goes with that truncated offset (t - 4:56), so that the string still
 * denotes exactly the instant t, not the wall clock of the time.
 *
 * `len` must be at least EVC_TZ_TIME_BUFSZ, whatever the output's length.
 * Returns the length written (20 or 25, without the NUL); EVC_EINVAL for a
 * NULL argument or a smaller buffer; EVC_ERANGE when t is outside
 * [EVC_TIME_MIN, EVC_TIME_MAX], or its local time is outside years
 * 0000-9999, or the truncated offset is 24 hours or more (none in tzdata),
 * which RFC 3339 cannot write.
 */
int evc__tz_format(const evc_tz *tz, int64_t t, char *buf, size_t len);

#endif /* EVC_TZ_H */
