/* SPDX-License-Identifier: MIT */
/*
 * Counts in buckets of any width, in any time zone (evc_counts()).
 *
 * A query is planned once: the buckets' boundaries (buckets.c), then each
 * bucket's part of the range cut into the pieces the store answers
 * cheapest: whole UTC days (a day total each, when the bucket holds whole
 * days), whole hours (an hour total each) and the minutes of the hours a
 * boundary or a bound cuts (decoded from those hours' blobs only). The
 * pieces are the same for every customer; contiguous ones are read with
 * one visit of the store each. So a day in a whole-hour zone reads 24
 * hour totals and no minutes, a day in Asia/Kolkata decodes one hour, and
 * a UTC month reads its days.
 */
#include "buckets.h"
#include "storage.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CUSTOMER_ID 255

/* A part of one bucket: days [lo, hi], or hours [lo, hi] whole, or
 * minutes [min_lo, min_hi) of the hour lo (= hi). */
struct piece {
	int64_t lo, hi;
	size_t bucket;
	unsigned min_lo, min_hi;
	bool whole;
};

/* Contiguous pieces, read with one visit of the store. */
struct run {
	int64_t lo, hi;
	size_t first, n; /* pieces[first, first + n) */
};

struct plan {
	const evc_backend *be;
	evc_db *db;
	evc_store *store;
	int64_t start, end; /* the range, whole minutes */
	bool utc;
	size_t n_buckets;
	evc_count_bucket *tmpl; /* boundaries, offsets, partial */
	struct piece *hours, *days;
	size_t n_hours, n_days, cap_hours, cap_days;
	struct run *hour_runs, *day_runs;
	size_t n_hour_runs, n_day_runs;
	/* Per customer: */
	uint64_t *count;
	evc_count_bucket *out; /* the buckets handed over */
};

/* ---- planning ------------------------------------------------------------ */

static bool push(struct piece **v, size_t *n, size_t *cap, struct piece p)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		struct piece *nv = evc__malloc(ncap * sizeof(*nv));
		if (!nv)
			return false;
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		free(*v);
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = p;
	return true;
}

/* [u, v), whole minutes, as hour pieces of bucket i. */
static bool plan_hours(struct plan *p, size_t i, int64_t u, int64_t v)
{
	if (u >= v)
		return true;
	const int64_t hu = evc__floor_div(u, 3600);
	const int64_t hv = evc__floor_div(v - 1, 3600);
	const unsigned mu = (unsigned)((u - hu * 3600) / 60);
	const unsigned mv = (unsigned)((v - hv * 3600 + 59) / 60);

	if (hu == hv)
		return push(
		    &p->hours, &p->n_hours, &p->cap_hours,
		    (struct piece){hu, hu, i, mu, mv, mu == 0 && mv == 60});
	int64_t first = hu, last = hv;
	if (mu != 0) {
		if (!push(&p->hours, &p->n_hours, &p->cap_hours,
		          (struct piece){hu, hu, i, mu, 60, false}))
			return false;
		first = hu + 1;
	}
	if (mv != 60)
		last = hv - 1;
	if (first <= last && !push(&p->hours, &p->n_hours, &p->cap_hours,
	                           (struct piece){first, last, i, 0, 60, true}))
		return false;
	if (mv != 60)
		return push(&p->hours, &p->n_hours, &p->cap_hours,
		            (struct piece){hv, hv, i, 0, mv, false});
	return true;
}

/* Bucket i's part of the range, [x, y): its whole UTC days from the day
 * totals when the store has them, the rest from hours. */
static bool plan_bucket(struct plan *p, size_t i, int64_t x, int64_t y,
                        bool days)
{
	const int64_t dx = -evc__floor_div(-x, 86400); /* first whole day */
	const int64_t dy = evc__floor_div(y, 86400);   /* past the last */
	if (!days || dx >= dy)
		return plan_hours(p, i, x, y);
	return plan_hours(p, i, x, dx * 86400) &&
	       push(&p->days, &p->n_days, &p->cap_days,
	            (struct piece){dx, dy - 1, i, 0, 0, true}) &&
	       plan_hours(p, i, dy * 86400, y);
}

/* Group contiguous pieces (the minutes of one hour count as contiguous)
 * into runs. */
static struct run *make_runs(const struct piece *v, size_t n, size_t *n_runs)
{
	struct run *r = n ? evc__malloc(n * sizeof(*r)) : NULL;
	size_t k = 0;

	*n_runs = 0;
	if (n && !r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (k && v[i].lo <= r[k - 1].hi + 1) {
			if (v[i].hi > r[k - 1].hi)
				r[k - 1].hi = v[i].hi;
			r[k - 1].n++;
			continue;
		}
		r[k++] = (struct run){v[i].lo, v[i].hi, i, 1};
	}
	*n_runs = k;
	return r;
}

static void plan_free(struct plan *p)
{
	free(p->tmpl);
	free(p->hours);
	free(p->days);
	free(p->hour_runs);
	free(p->day_runs);
	free(p->count);
	free(p->out);
}

/* The buckets of w in tz over [start, end), their template and pieces. */
static int plan(struct plan *p, evc_store *store, const evc_tz *tz,
                const evc_width *w, int64_t start, int64_t end)
{
	evc_error *err = &store->err;
	int64_t *b;
	size_t n;
	int rc;

	memset(p, 0, sizeof(*p));
	p->store = store;
	p->be = store->be;
	p->db = store->db;
	p->start = start;
	p->end = end;
	p->utc = evc__tz_is_utc(tz);
	if ((rc = evc__bucket_bounds(tz, w, start, end, EVC_COUNTS_MAX_BUCKETS,
	                             &b, &n))) {
		if (rc == EVC_ERANGE)
			return evc__fail(err, rc,
			                 "range too wide: more than %d buckets",
			                 EVC_COUNTS_MAX_BUCKETS);
		return evc__fail(err, rc, "out of memory");
	}
	p->n_buckets = n;
	p->tmpl = evc__malloc(n * sizeof(*p->tmpl));
	p->out = evc__malloc(n * sizeof(*p->out));
	p->count = evc__malloc(n * sizeof(*p->count));
	bool ok = p->tmpl && p->out && p->count;
	const bool days = p->be->has_days(p->db);
	int32_t off = evc__tz_offset(tz, b[0]);
	for (size_t i = 0; ok && i < n; i++) {
		const int32_t next_off = evc__tz_offset(tz, b[i + 1]);
		p->tmpl[i] = (evc_count_bucket){
		    .start = b[i],
		    .end = b[i + 1],
		    .start_offset = off,
		    .end_offset = next_off,
		    .partial = start > b[i] || end < b[i + 1],
		};
		off = next_off;
		ok = plan_bucket(p, i, b[i] > start ? b[i] : start,
		                 b[i + 1] < end ? b[i + 1] : end, days);
	}
	free(b);
	if (ok) {
		p->hour_runs = make_runs(p->hours, p->n_hours, &p->n_hour_runs);
		p->day_runs = make_runs(p->days, p->n_days, &p->n_day_runs);
		ok = (p->hour_runs || !p->n_hours) &&
		     (p->day_runs || !p->n_days);
	}
	if (!ok) {
		plan_free(p);
		return evc__fail(err, EVC_ENOMEM, "out of memory");
	}
	return EVC_OK;
}

/* ---- filling ------------------------------------------------------------- */

/* A visit of one run, for one customer. */
struct visit {
	struct plan *p;
	const char *customer;
	const struct piece *piece;
	size_t at, end; /* pieces[at, end) of the run left */
	int64_t lo, hi, prev;
};

static int corrupt(struct visit *v, const char *unit, int64_t when,
                   const char *what)
{
	return evc__fail(&v->p->store->err, EVC_ECORRUPT,
	                 "%s: corrupt store: customer %s, %s %lld: %s",
	                 v->p->store->path, v->customer, unit, (long long)when,
	                 what);
}

static int fill_day(int64_t day, uint64_t total, void *payload)
{
	struct visit *v = payload;

	/* A damaged row can read as any day: only those asked for, each
	 * once. */
	if (day < v->lo || day > v->hi || day <= v->prev)
		return corrupt(v, "day", day,
		               "day totals out of order or out of range");
	if (total == 0)
		return corrupt(v, "day", day, "a day total without events");
	v->prev = day;
	while (v->at < v->end && v->piece[v->at].hi < day)
		v->at++;
	v->p->count[v->piece[v->at].bucket] += total;
	return EVC_OK;
}

static int fill_hour(int64_t hour, uint64_t total, const uint8_t *blob,
                     size_t len, void *payload)
{
	struct visit *v = payload;
	char buf[160];

	if (!blob) {
		if (hour < v->lo || hour > v->hi || hour <= v->prev)
			return corrupt(
			    v, "hour", hour,
			    "hour rows out of order or out of range");
		while (v->at < v->end && v->piece[v->at].hi < hour)
			v->at++;
		const struct piece *pc = &v->piece[v->at];
		if (!pc->whole)
			return EVC_WANT_MINUTES;
		if (total == 0)
			return corrupt(v, "hour", hour,
			               "an hour row without events");
		v->prev = hour;
		v->p->count[pc->bucket] += total;
		return EVC_OK;
	}
	const char *why =
	    evc__hour_problem(hour, total, blob, len, buf, sizeof(buf));
	if (why)
		return corrupt(v, "hour", hour, why);
	v->prev = hour;
	/* The hour's pieces, one per bucket it belongs to: one sum each, or
	 * one decoding for many. */
	size_t k = v->at, n = 0;
	while (k + n < v->end && v->piece[k + n].lo == hour)
		n++;
	if (n == 1) {
		uint64_t sum;
		evc__minutes_sum(blob, len, v->piece[k].min_lo,
		                 v->piece[k].min_hi, &sum, NULL);
		v->p->count[v->piece[k].bucket] += sum;
		return EVC_OK;
	}
	uint64_t minute[60];
	evc__minutes_decode(blob, len, minute);
	for (size_t j = k; j < k + n; j++) {
		uint64_t sum = 0;
		for (unsigned m = v->piece[j].min_lo; m < v->piece[j].min_hi;
		     m++)
			sum += minute[m];
		v->p->count[v->piece[j].bucket] += sum;
	}
	return EVC_OK;
}

/* A customer's counts (cust 0: unknown, all zero). */
static int fill(struct plan *p, int64_t cust, const char *name)
{
	evc_error *err = &p->store->err;
	int rc;

	memset(p->count, 0, p->n_buckets * sizeof(*p->count));
	if (cust == 0)
		return EVC_OK;
	for (size_t r = 0; r < p->n_day_runs; r++) {
		const struct run *run = &p->day_runs[r];
		struct visit v = {p,
		                  name,
		                  p->days,
		                  run->first,
		                  run->first + run->n,
		                  run->lo,
		                  run->hi,
		                  run->lo - 1};
		if ((rc = p->be->day_totals(p->db, cust, run->lo, run->hi,
		                            fill_day, &v, err)))
			return rc;
	}
	for (size_t r = 0; r < p->n_hour_runs; r++) {
		const struct run *run = &p->hour_runs[r];
		struct visit v = {p,
		                  name,
		                  p->hours,
		                  run->first,
		                  run->first + run->n,
		                  run->lo,
		                  run->hi,
		                  run->lo - 1};
		if ((rc = p->be->hours(p->db, cust, run->lo, run->hi,
		                       EVC_MINUTES_ON_DEMAND, fill_hour, &v,
		                       err)))
			return rc;
	}
	return EVC_OK;
}

/* Hand a filled customer over; 1 when the callback asked to stop. */
static int hand_over(struct plan *p, const char *name, bool sparse,
                     evc_counts_fn fn, void *payload)
{
	evc_customer_counts c = {
	    .customer_id = name,
	    .buckets = p->out,
	    .start = p->start,
	    .end = p->end,
	    .zone_is_utc = p->utc,
	};

	for (size_t i = 0; i < p->n_buckets; i++) {
		c.total += p->count[i];
		if (sparse && p->count[i] == 0)
			continue;
		p->out[c.n_buckets] = p->tmpl[i];
		p->out[c.n_buckets++].count = p->count[i];
	}
	if (sparse && c.total == 0)
		return 0;
	return fn(&c, payload) ? 1 : 0;
}

/* ---- which customers ----------------------------------------------------- */

struct every {
	struct plan *p;
	bool sparse;
	evc_counts_fn fn;
	void *payload;
	int stop;
};

static int each_customer(int64_t cust, const char *name, void *payload)
{
	struct every *e = payload;
	int rc = fill(e->p, cust, name);

	if (rc)
		return rc;
	if ((e->stop = hand_over(e->p, name, e->sparse, e->fn, e->payload)))
		return EVC_EABORTED;
	return EVC_OK;
}

/* The top N: a customer with its total, kept while it ranks. */
struct ranked {
	int64_t cust;
	uint64_t total;
	char *name;
};

struct top {
	struct plan *totals; /* one bucket: the range */
	struct ranked *v;    /* the best so far, best first */
	size_t n, max;
	bool nomem;
};

static bool ranks_before(uint64_t ta, const char *a, uint64_t tb, const char *b)
{
	return ta != tb ? ta > tb : strcmp(a, b) < 0;
}

static int rank_customer(int64_t cust, const char *name, void *payload)
{
	struct top *t = payload;
	int rc = fill(t->totals, cust, name);
	size_t i;

	if (rc)
		return rc;
	const uint64_t total = t->totals->count[0];
	const struct ranked *last = t->n ? &t->v[t->n - 1] : NULL;
	if (t->n == t->max &&
	    !ranks_before(total, name, last->total, last->name))
		return EVC_OK;
	char *copy = evc__strndup(name, strlen(name));
	if (!copy) {
		t->nomem = true;
		return EVC_ENOMEM;
	}
	if (t->n == t->max) {
		free(t->v[t->n - 1].name);
		i = t->n - 1;
	} else {
		i = t->n++;
	}
	/* Insertion into the few kept. */
	while (i > 0 &&
	       ranks_before(total, name, t->v[i - 1].total, t->v[i - 1].name)) {
		t->v[i] = t->v[i - 1];
		i--;
	}
	t->v[i] = (struct ranked){cust, total, copy};
	return EVC_OK;
}

/* ---- the call ------------------------------------------------------------ */

static int check_id(evc_store *store, const char *id)
{
	const size_t len = strlen(id);

	if (len == 0)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_counts: empty customer id");
	if (len > MAX_CUSTOMER_ID)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_counts: customer id longer than 255 "
		                 "bytes");
	if (!evc__utf8_valid((const unsigned char *)id, len))
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_counts: customer id is not valid UTF-8");
	return EVC_OK;
}

/* Ids, then their places in the list given: equal ids are adjacent, the
 * first given first. */
static int by_id_then_place(const void *a, const void *b)
{
	const char *const *x = *(const char *const *const *)a;
	const char *const *y = *(const char *const *const *)b;
	const int c = strcmp(*x, *y);
	return c ? c : (x > y) - (x < y);
}

/* Whether customers[i] repeats an id given before it: the first of the
 * ids equal to it, in `sorted`, is elsewhere. */
static bool repeats(const char *const *const *sorted, size_t n,
                    const char *const *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		const size_t mid = lo + (hi - lo) / 2;
		if (strcmp(*sorted[mid], *id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return sorted[lo] != id;
}

/* The customers given, each once, in the order given. */
static int given(struct plan *p, const evc_counts_options *o, struct top *t,
                 evc_counts_fn fn, void *payload)
{
	evc_store *store = p->store;
	const char *const **sorted = NULL;
	int rc = EVC_OK;

	if (o->n_customers > 1) {
		sorted = evc__malloc(o->n_customers * sizeof(*sorted));
		if (!sorted)
			return evc__fail(&store->err, EVC_ENOMEM,
			                 "out of memory");
		for (size_t i = 0; i < o->n_customers; i++)
			sorted[i] = &o->customers[i];
		qsort(sorted, o->n_customers, sizeof(*sorted),
		      by_id_then_place);
	}
	for (size_t i = 0; i < o->n_customers && rc == EVC_OK; i++) {
		const char *name = o->customers[i];
		int64_t cust;
		if (sorted && repeats(sorted, o->n_customers, &o->customers[i]))
			continue;
		if ((rc = p->be->customer(p->db, name, strlen(name), false,
		                          &cust, &store->err)))
			break;
		if (t) {
			rc = rank_customer(cust, name, t);
			continue;
		}
		if ((rc = fill(p, cust, name)))
			break;
		if (hand_over(p, name, o->sparse, fn, payload))
			rc = evc__fail(&store->err, EVC_EABORTED,
			               "counts stopped by the callback");
	}
	free(sorted);
	return rc;
}

static int counts(evc_store *store, const evc_counts_options *o,
                  evc_counts_fn fn, void *payload)
{
	evc_error *err = &store->err;
	char why[EVC_ERRMSG_MAX];
	evc_width w, all = {EVC_WIDTH_ALL, 0};
	evc_tz *tz = NULL;
	struct plan p, totals;
	int rc;

	if (o->start < EVC_TIME_MIN || o->start > EVC_TIME_MAX ||
	    o->end < EVC_TIME_MIN || o->end > EVC_TIME_MAX)
		return evc__fail(err, EVC_ERANGE,
		                 "query bounds must be within years 0000 to "
		                 "9999");
	const int64_t s = evc__floor_div(o->start, 60) * 60;
	const int64_t e = evc__floor_div(o->end, 60) * 60;
	if (s >= e)
		return evc__fail(err, EVC_EINVAL,
		                 "start must be before end (both are floored "
		                 "to the minute)");
	if ((rc = evc__width_parse(o->bucket ? o->bucket : "hour", &w, why,
	                           sizeof(why))))
		return evc__fail(err, rc, "%s", why);
	for (size_t i = 0; i < o->n_customers; i++)
		if (!o->customers[i])
			return evc__fail(err, EVC_EINVAL,
			                 "evc_counts: NULL customer id");
		else if ((rc = check_id(store, o->customers[i])))
			return rc;
	if ((rc = evc__tz_load(&tz, o->tz ? o->tz : "UTC", why, sizeof(why))))
		return evc__fail(err, rc, "%s", why);
	if ((rc = plan(&p, store, tz, &w, s, e))) {
		evc__tz_free(tz);
		return rc;
	}
	struct top t = {.totals = &totals, .max = o->top};
	if (o->top && (rc = plan(&totals, store, tz, &all, s, e)) == EVC_OK) {
		t.v = evc__calloc(o->top, sizeof(*t.v));
		if (!t.v)
			rc = evc__fail(err, EVC_ENOMEM, "out of memory");
		else if (o->customers)
			rc = given(&p, o, &t, fn, payload);
		else
			rc = p.be->customer_names(p.db, rank_customer, &t, err);
		if (t.nomem)
			rc = evc__fail(err, EVC_ENOMEM, "out of memory");
		/* The winners, best first. */
		for (size_t i = 0; rc == EVC_OK && i < t.n; i++) {
			if ((rc = fill(&p, t.v[i].cust, t.v[i].name)))
				break;
			if (hand_over(&p, t.v[i].name, o->sparse, fn, payload))
				rc =
				    evc__fail(err, EVC_EABORTED,
				              "counts stopped by the callback");
		}
		for (size_t i = 0; t.v && i < t.n; i++)
			free(t.v[i].name);
		free(t.v);
		plan_free(&totals);
	} else if (!o->top && o->customers) {
		rc = given(&p, o, NULL, fn, payload);
	} else if (!o->top) {
		struct every ev = {&p, o->sparse != 0, fn, payload, 0};
		rc = p.be->customer_names(p.db, each_customer, &ev, err);
		if (ev.stop)
			rc = evc__fail(err, EVC_EABORTED,
			               "counts stopped by the callback");
	}
	plan_free(&p);
	evc__tz_free(tz);
	return rc;
}

EVC_EXPORT int evc_counts(evc_store *store, const evc_counts_options *opts,
                          evc_counts_fn fn, void *payload)
{
	if (!store || !opts || !fn)
		return evc__fail(evc__err(store), EVC_EINVAL,
		                 "evc_counts: NULL argument");
	if (opts->version != EVC_COUNTS_OPTIONS_VERSION)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_counts: unsupported options version %u",
		                 opts->version);
	if (opts->n_customers && !opts->customers)
		return evc__fail(&store->err, EVC_EINVAL,
		                 "evc_counts: NULL customers");
	evc__store_enter(store);
	/* One snapshot for every customer, also while another process
	 * ingests. */
	int rc = store->be->begin_read(store->db, &store->err);
	if (rc == EVC_OK) {
		rc = counts(store, opts, fn, payload);
		store->be->end_read(store->db);
	}
	evc__store_leave(store);
	return rc;
}

/* ---- times in a zone ----------------------------------------------------- */

EVC_EXPORT int evc_format_local(int64_t t, int32_t utc_offset, char *buf,
                                size_t len)
{
	char utc[EVC_TIME_BUFSZ];

	if (!buf || len < EVC_LOCAL_TIME_BUFSZ)
		return EVC_EINVAL;
	/* RFC 3339 has no seconds in offsets: truncated towards zero, with
	 * the local time that goes with it, the string is still t. */
	const int32_t off = utc_offset / 60 * 60;
	const int32_t a = off < 0 ? -off : off;
	if (a >= 86400 || t < EVC_TIME_MIN || t > EVC_TIME_MAX ||
	    evc_format_time(t + off, utc, sizeof(utc)) < 0)
		return EVC_ERANGE;
	utc[19] = '\0'; /* drop the Z */
	return snprintf(buf, len, "%s%c%02d:%02d", utc, off < 0 ? '-' : '+',
	                a / 3600, a / 60 % 60);
}

EVC_EXPORT int evc_zone_offset(const char *tz, int64_t t, int32_t *out)
{
	char why[EVC_ERRMSG_MAX];
	evc_tz *zone;
	int rc;

	if (!tz || !out)
		return evc__fail(NULL, EVC_EINVAL,
		                 "evc_zone_offset: NULL argument");
	if ((rc = evc__tz_load(&zone, tz, why, sizeof(why))))
		return evc__fail(NULL, rc, "%s", why);
	*out = evc__tz_offset(zone, t);
	evc__tz_free(zone);
	evc__clear_error(NULL);
	return EVC_OK;
}

EVC_EXPORT int evc_parse_time_in(const char *str, const char *tz, int64_t *out)
{
	char why[EVC_ERRMSG_MAX];
	const char *reason;
	bool has_offset;
	int64_t t;
	evc_tz *zone;
	int rc;

	if (!str || !out)
		return evc__fail(NULL, EVC_EINVAL,
		                 "evc_parse_time_in: NULL argument");
	if (!tz || strcmp(tz, "UTC") == 0)
		return evc_parse_time(str, out);
	if ((rc = evc__parse_ts_wall(str, strlen(str), &t, &has_offset,
	                             &reason)))
		return evc__fail(NULL, rc, "bad timestamp \"%.64s\": %s", str,
		                 reason);
	if (!has_offset) {
		if ((rc = evc__tz_load(&zone, tz, why, sizeof(why))))
			return evc__fail(NULL, rc, "%s", why);
		t = evc__tz_first_at_or_after(zone, t);
		evc__tz_free(zone);
		if (t < EVC_TIME_MIN || t > EVC_TIME_MAX)
			return evc__fail(NULL, EVC_ERANGE,
			                 "bad timestamp \"%.64s\": time out of "
			                 "range (years 0000 to 9999 UTC)",
			                 str);
	}
	*out = t;
	evc__clear_error(NULL);
	return EVC_OK;
}
