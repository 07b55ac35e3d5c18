/* SPDX-License-Identifier: MIT */
/*
 * Bucket widths and boundaries (buckets.c): where the buckets of a width
 * begin and end in a time zone, as UTC instants.
 *
 * For a label L (a multiple of the width counted from local midnight; a
 * local midnight; a Monday midnight; the 1st of a month at midnight) the
 * boundary is the first instant at which the zone's clock reads L or
 * later, rounded up to a whole UTC minute (counts have minute resolution:
 * an event belongs to the bucket holding the start of its UTC minute).
 * Buckets are the non-empty intervals between consecutive boundaries, so
 * a label the clock skips has no bucket and a repeated hour belongs to one
 * bucket, both passes of it.
 */
#ifndef EVC_BUCKETS_H
#define EVC_BUCKETS_H

#include "tz.h"

typedef enum evc_width_unit {
	EVC_WIDTH_MINUTES, /* n minutes, n dividing 1440: minute to day */
	EVC_WIDTH_WEEK,    /* ISO weeks, from Monday 00:00 */
	EVC_WIDTH_MONTH,   /* calendar months, from the 1st at 00:00 */
	EVC_WIDTH_ALL,     /* one bucket: the range */
} evc_width_unit;

typedef struct evc_width {
	evc_width_unit unit;
	unsigned minutes; /* EVC_WIDTH_MINUTES: 1 to 1440, dividing 1440 */
} evc_width;

/* Longest name evc__width_name() writes, with its NUL. */
#define EVC_WIDTH_NAME_MAX 16

/* Parse a width: "minute", "Nm" (N dividing 1440), "hour", "Nh" (N
 * dividing 24), "day", "week", "month" or "all". EVC_EINVAL with the
 * reason in `why` otherwise. */
int evc__width_parse(const char *s, evc_width *out, char *why, size_t len);
/* The canonical name of a width: "minute", "15m", "hour", "3h", "day",
 * "week", "month", "all". */
const char *evc__width_name(const evc_width *w, char buf[EVC_WIDTH_NAME_MAX]);

/*
 * The boundaries of the buckets of width `w` in zone `tz` that intersect
 * [start, end) (whole minutes, start < end): b[0] <= start < b[1] < ... <
 * b[n - 1] < end <= b[n], n buckets, in *out (n + 1 instants, malloc'ed,
 * the caller's to free) and *n. With EVC_WIDTH_ALL: start and end. At
 * most `max` buckets: EVC_ERANGE past that; EVC_ENOMEM.
 */
int evc__bucket_bounds(const evc_tz *tz, const evc_width *w, int64_t start,
                       int64_t end, size_t max, int64_t **out, size_t *n);

#endif /* EVC_BUCKETS_H */
