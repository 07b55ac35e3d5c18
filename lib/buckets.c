/* SPDX-License-Identifier: MIT */
/*
 * Bucket widths and their boundaries in a time zone (see buckets.h).
 * Labels are wall-clock times, in seconds since 1970-01-01T00:00 read as
 * UTC; each becomes an instant through evc__tz_first_at_or_after(), which
 * holds the zone's rules.
 */
#include "buckets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int evc__width_parse(const char *s, evc_width *out, char *why, size_t len)
{
	static const struct {
		const char *name;
		evc_width w;
	} named[] = {
	    {"minute", {EVC_WIDTH_MINUTES, 1}},
	    {"hour", {EVC_WIDTH_MINUTES, 60}},
	    {"day", {EVC_WIDTH_MINUTES, 1440}},
	    {"week", {EVC_WIDTH_WEEK, 0}},
	    {"month", {EVC_WIDTH_MONTH, 0}},
	    {"all", {EVC_WIDTH_ALL, 0}},
	};

	if (!s || !out)
		return EVC_EINVAL;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (strcmp(s, named[i].name) == 0) {
			*out = named[i].w;
			return EVC_OK;
		}
	}
	/* Nm or Nh: 1 to 4 digits, no sign, no leading zero. */
	size_t digits = strspn(s, "0123456789");
	if (digits >= 1 && digits <= 4 && s[0] != '0' &&
	    (s[digits] == 'm' || s[digits] == 'h') && s[digits + 1] == '\0') {
		const unsigned n = (unsigned)atoi(s);
		const unsigned minutes = s[digits] == 'h' ? n * 60 : n;
		if (minutes >= 1 && minutes <= 1440 && 1440 % minutes == 0) {
			*out = (evc_width){EVC_WIDTH_MINUTES, minutes};
			return EVC_OK;
		}
		if (why)
			snprintf(why, len,
			         "bucket width \"%s\" does not divide a day "
			         "(minutes must divide 1440, hours 24)",
			         s);
		return EVC_EINVAL;
	}
	if (why)
		snprintf(
		    why, len,
		    "unknown bucket width \"%.40s\" (minute, Nm, hour, Nh, "
		    "day, week, month or all)",
		    s);
	return EVC_EINVAL;
}

const char *evc__width_name(const evc_width *w, char buf[EVC_WIDTH_NAME_MAX])
{
	switch (w->unit) {
	case EVC_WIDTH_WEEK:
		return "week";
	case EVC_WIDTH_MONTH:
		return "month";
	case EVC_WIDTH_ALL:
		return "all";
	case EVC_WIDTH_MINUTES:
		break;
	}
	if (w->minutes == 1)
		return "minute";
	if (w->minutes == 60)
		return "hour";
	if (w->minutes == 1440)
		return "day";
	if (w->minutes % 60 == 0)
		snprintf(buf, EVC_WIDTH_NAME_MAX, "%uh", w->minutes / 60);
	else
		snprintf(buf, EVC_WIDTH_NAME_MAX, "%um", w->minutes);
	return buf;
}

/* The label at or before wall time `local`. */
static int64_t floor_label(const evc_width *w, int64_t local)
{
	const int64_t days = evc__floor_div(local, 86400);
	int64_t y;
	unsigned m, d;

	switch (w->unit) {
	case EVC_WIDTH_WEEK:
		/* 1970-01-01 was a Thursday, day 3 of an ISO week. */
		return (days - (days + 3 - evc__floor_div(days + 3, 7) * 7)) *
		       86400;
	case EVC_WIDTH_MONTH:
		evc__civil_from_days(days, &y, &m, &d);
		return evc__days_from_civil(y, m, 1) * 86400;
	default: {
		const int64_t step = (int64_t)w->minutes * 60;
		return evc__floor_div(local, step) * step;
	}
	}
}

/* The label `k` labels after (k = 1) or before (k = -1) `label`. */
static int64_t step_label(const evc_width *w, int64_t label, int k)
{
	int64_t y;
	unsigned m, d;

	switch (w->unit) {
	case EVC_WIDTH_WEEK:
		return label + (int64_t)k * 7 * 86400;
	case EVC_WIDTH_MONTH:
		evc__civil_from_days(evc__floor_div(label, 86400), &y, &m, &d);
		if (k > 0 && m == 12)
			return evc__days_from_civil(y + 1, 1, 1) * 86400;
		if (k < 0 && m == 1)
			return evc__days_from_civil(y - 1, 12, 1) * 86400;
		return evc__days_from_civil(y, (unsigned)((int)m + k), 1) *
		       86400;
	default:
		return label + (int64_t)k * w->minutes * 60;
	}
}

/* The first whole minute at which the clock reads `label` or later. */
static int64_t boundary(const evc_tz *tz, int64_t label)
{
	const int64_t t = evc__tz_first_at_or_after(tz, label);
	return -evc__floor_div(-t, 60) * 60;
}

int evc__bucket_bounds(const evc_tz *tz, const evc_width *w, int64_t start,
                       int64_t end, size_t max, int64_t **out, size_t *n)
{
	size_t cap = 64, k = 0;
	int64_t *b;

	*out = NULL;
	*n = 0;
	if (start >= end || max == 0)
		return EVC_EINVAL;
	if (w->unit == EVC_WIDTH_ALL) {
		if (!(b = evc__malloc(2 * sizeof(*b))))
			return EVC_ENOMEM;
		b[0] = start;
		b[1] = end;
		*out = b;
		*n = 1;
		return EVC_OK;
	}
	/* The label whose bucket holds start: the last one whose boundary is
	 * at or before it. The label of start's wall time is near: a gap can
	 * put its boundary after start, a repeated hour the next label's
	 * before it. */
	int64_t label = floor_label(w, start + evc__tz_offset(tz, start));
	for (int i = 0; i < 1000 && boundary(tz, label) > start; i++)
		label = step_label(w, label, -1);
	for (int i = 0;
	     i < 1000 && boundary(tz, step_label(w, label, 1)) <= start; i++)
		label = step_label(w, label, 1);
	if (boundary(tz, label) > start)
		return EVC_ERANGE; /* no such zone in tzdata */

	if (!(b = evc__malloc(cap * sizeof(*b))))
		return EVC_ENOMEM;
	b[k++] = boundary(tz, label);
	while (b[k - 1] < end) {
		label = step_label(w, label, 1);
		const int64_t next = boundary(tz, label);
		/* A label the clock skips ends no bucket. */
		if (next <= b[k - 1])
			continue;
		if (k > max) {
			free(b);
			return EVC_ERANGE;
		}
		if (k == cap) {
			int64_t *nb = evc__malloc(2 * cap * sizeof(*b));
			if (!nb) {
				free(b);
				return EVC_ENOMEM;
			}
			memcpy(nb, b, cap * sizeof(*b));
			free(b);
			b = nb;
			cap *= 2;
		}
		b[k++] = next;
	}
	*out = b;
	*n = k - 1;
	return EVC_OK;
}
