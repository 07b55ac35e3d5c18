/* SPDX-License-Identifier: MIT */
/*
 * Differential tests of the ingest fast paths against naive versions
 * written here for clarity only: the word-at-a-time UUID and customer id
 * checks, the one-pass CSV line scan (and its hand-off to the RFC 4180 state
 * machine), and the packed-key aggregation table with its radix sort.
 * Inputs are generated (seeded, so failures reproduce) and adversarial:
 * every single-byte change of a valid value, block and buffer boundaries,
 * colliding keys, the extremes of the supported range.
 */
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return (size_t)(rng_next(s) % n);
}

/* Random case counts, divided by EVC_TEST_SCALE (set by the valgrind
 * setup): the exhaustive cases keep their size, only repetition shrinks. */
static int scaled(int n)
{
	const char *env = getenv("EVC_TEST_SCALE");
	const int d = env ? atoi(env) : 1;
	return d > 1 ? n / d + 1 : n;
}

/* ---- UUIDs ----------------------------------------------------------------
 */

static bool naive_is_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		const char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!strchr("0123456789abcdefABCDEF", c) || c == 0) {
			return false;
		}
	}
	return true;
}

START_TEST(uuid_every_byte_change)
{
	static const char *const valid[] = {
	    "123004ef-8df5-40e6-a195-4dcc47b1e89d",
	    "ABCDEF01-2345-6789-ABCD-EF0123456789",
	    "00000000-0000-0000-0000-000000000000",
	    "ffffffff-FFFF-aAaA-9999-fFfFfFfFfFfF",
	};
	char buf[40];

	for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
		memcpy(buf, valid[v], 36);
		ck_assert(evc__is_uuid(buf, 36));
		for (size_t i = 0; i < 36; i++) {
			for (unsigned b = 0; b < 256; b++) {
				buf[i] = (char)b;
				ck_assert_msg(evc__is_uuid(buf, 36) ==
				                  naive_is_uuid(buf, 36),
				              "uuid %zu, byte %zu = 0x%02x", v,
				              i, b);
			}
			buf[i] = valid[v][i];
		}
	}
}
END_TEST

START_TEST(uuid_random)
{
	static const char alphabet[] = "0123456789abcdefABCDEFgG-/:@`\x7f\x80 ";
	uint64_t st = 7;
	char buf[64];

	for (int n = 0; n < scaled(200000); n++) {
		const size_t len = 34 + rng_below(&st, 5);
		for (size_t i = 0; i < len; i++) {
			const bool dash =
			    i == 8 || i == 13 || i == 18 || i == 23;
			/* Mostly well-formed, so that the later checks run. */
			if (rng_below(&st, 40) != 0)
				buf[i] =
				    dash ? '-' : alphabet[rng_below(&st, 22)];
			else
				buf[i] = alphabet[rng_below(
				    &st, sizeof(alphabet) - 1)];
		}
		ck_assert_msg(evc__is_uuid(buf, len) == naive_is_uuid(buf, len),
		              "case %d: %.*s", n, (int)len, buf);
	}
}
END_TEST

/* ---- customer ids, through evc__check_row ----------------------------------
 */

static bool naive_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned c = s[i], n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (unsigned k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		const uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static const char *naive_customer(const unsigned char *p, size_t len)
{
	if (len == 0)
		return "empty customer id";
	if (len > 255)
		return "customer id longer than 255 bytes";
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "control character in customer id";
	if (!naive_utf8(p, len))
		return "customer id is not valid UTF-8";
	/* C1 controls U+0080-U+009F are C2 80 to C2 9F; the bidirectional
	 * embeddings and overrides U+202A-U+202E are E2 80 AA to E2 80 AE,
	 * the isolates U+2066-U+2069 E2 81 A6 to E2 81 A9. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return "control character in customer id";
		if (i + 2 < len && p[i] == 0xe2 &&
		    ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa &&
		      p[i + 2] <= 0xae) ||
		     (p[i + 1] == 0x81 && p[i + 2] >= 0xa6 &&
		      p[i + 2] <= 0xa9)))
			return "bidirectional control character in customer id";
	}
	return NULL;
}

static void check_customer_case(const unsigned char *id, size_t len)
{
	static const char ts[] = "2021-03-01 00:02:44.858Z";
	static const char uuid[] = "123004ef-8df5-40e6-a195-4dcc47b1e89d";
	evc_csv_record rec;
	char reason[EVC_REASON_MAX];
	int64_t minute;
	const char *warn;

	memset(&rec, 0, sizeof(rec));
	rec.n_fields = 4;
	rec.field[0].ptr = (const char *)id;
	rec.field[0].len = len;
	rec.field[1].ptr = "INGEST";
	rec.field[1].len = 6;
	rec.field[2].ptr = uuid;
	rec.field[2].len = 36;
	rec.field[3].ptr = ts;
	rec.field[3].len = sizeof(ts) - 1;
	const char *got = evc__check_row(&rec, &minute, &warn, reason, NULL);
	const char *want = naive_customer(id, len);
	if (!want)
		ck_assert_msg(got == NULL, "len %zu: rejected: %s", len, got);
	else
		ck_assert_msg(got && strcmp(got, want) == 0,
		              "len %zu: got %s, want %s", len,
		              got ? got : "(counted)", want);
}

START_TEST(customer_every_byte_change)
{
	unsigned char id[300];

	for (size_t len = 1; len <= 40; len++) {
		for (size_t i = 0; i < len; i++)
			id[i] = (unsigned char)"0123456789abcdef"[i % 16];
		for (size_t i = 0; i < len; i++) {
			for (unsigned b = 0; b < 256; b++) {
				id[i] = (unsigned char)b;
				check_customer_case(id, len);
			}
			id[i] = (unsigned char)"0123456789abcdef"[i % 16];
		}
	}
}
END_TEST

/* C1 controls and bidirectional overrides are refused as control
 * characters are; their neighbours in the code space are letters like any
 * other. */
START_TEST(customer_c1_and_bidi_controls)
{
	static const struct {
		const char *id;
		const char *why; /* NULL: counted */
	} cases[] = {
	    {"a\xc2\x80", "control character in customer id"},  /* U+0080 */
	    {"a\xc2\x85z", "control character in customer id"}, /* NEL */
	    {"\xc2\x9f", "control character in customer id"},   /* U+009F */
	    {"\xc2\xa0", NULL},                                 /* NBSP */
	    {"x\xe2\x80\xaa", "bidirectional control character in customer id"},
	    {"x\xe2\x80\xae" "1",
	     "bidirectional control character in customer id"},
	    {"\xe2\x81\xa6", "bidirectional control character in customer id"},
	    {"\xe2\x81\xa9", "bidirectional control character in customer id"},
	    {"\xe2\x80\xa9", NULL}, /* U+2029, no override */
	    {"\xe2\x80\xaf", NULL}, /* U+202F */
	    {"\xe2\x81\xa5", NULL}, /* U+2065 */
	    {"\xe2\x81\xaa", NULL}, /* U+206A */
	};
	char reason[EVC_REASON_MAX];
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const unsigned char *id = (const unsigned char *)cases[k].id;
		const size_t len = strlen(cases[k].id);
		check_customer_case(id, len);
		evc_csv_record rec = {.n_fields = 4};
		int64_t minute;
		const char *warn;
		rec.field[0] = (evc_csv_field){cases[k].id, len};
		rec.field[1] = (evc_csv_field){"x", 1};
		rec.field[2] = (evc_csv_field){"x", 1};
		rec.field[3] = (evc_csv_field){"2021-03-01T00:00:00Z", 20};
		const char *got =
		    evc__check_row(&rec, &minute, &warn, reason, NULL);
		if (cases[k].why)
			ck_assert_msg(got && strcmp(got, cases[k].why) == 0,
			              "case %zu: %s", k, got ? got : "counted");
		else
			ck_assert_msg(!got, "case %zu: %s", k, got);
	}
}
END_TEST

START_TEST(customer_random)
{
	/* Printable ASCII, controls, DEL and the UTF-8 lead and
	 * continuation bytes that make valid and invalid sequences. */
	static const unsigned char pool[] = {
	    'a',  'Z',  '0',  ' ',  '~',  0x00, 0x1f, 0x7f, 0x80, 0x85,
	    0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0x81, 0xa6,
	    0xa9, 0xaa, 0xae, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
	};
	unsigned char id[300];
	uint64_t st = 11;

	for (int n = 0; n < scaled(100000); n++) {
		const size_t len = rng_below(&st, 4) == 0 ? rng_below(&st, 300)
		                                          : rng_below(&st, 40);
		const unsigned rare = 1 + (unsigned)rng_below(&st, 64);
		for (size_t i = 0; i < len; i++)
			id[i] =
			    rng_below(&st, rare) == 0
			        ? pool[rng_below(&st, sizeof(pool))]
			        : (unsigned char)(0x20 + rng_below(&st, 0x5f));
		check_customer_case(id, len);
	}
}
END_TEST

/* ---- CSV: generated records, serialized, scanned back -----------------------
 */

typedef struct gen_rec {
	size_t n_fields;
	char *field[8];
	size_t flen[8];
	uint64_t line;
} gen_rec;

/* Serialize fields; a field holding a quote, comma, CR or LF must be
 * quoted, others are quoted at random. Returns the physical lines used. */
static size_t put_record(uint64_t *st, const gen_rec *r, char *out, size_t *n,
                         bool crlf)
{
	size_t lines = 1;
	for (size_t k = 0; k < r->n_fields; k++) {
		if (k)
			out[(*n)++] = ',';
		bool special = false;
		for (size_t i = 0; i < r->flen[k]; i++)
			special |= strchr("\",\r\n", r->field[k][i]) != NULL &&
			           r->field[k][i] != 0;
		const bool q = special || rng_below(st, 20) == 0;
		if (q)
			out[(*n)++] = '"';
		for (size_t i = 0; i < r->flen[k]; i++) {
			const char c = r->field[k][i];
			if (c == '"')
				out[(*n)++] = '"';
			lines += c == '\n';
			out[(*n)++] = c;
		}
		if (q)
			out[(*n)++] = '"';
	}
	if (crlf)
		out[(*n)++] = '\r';
	out[(*n)++] = '\n';
	return lines;
}

static int temp_fd(const void *data, size_t len)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fflush(f);
	int fd = dup(fileno(f));
	fclose(f);
	ck_assert_int_ge(fd, 0);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void scan_and_compare(const char *data, size_t len, const gen_rec *want,
                             size_t n_want, size_t read_size)
{
	int fd = temp_fd(data, len);
	evc_csv *csv = NULL;
	evc_csv_record rec;
	int rc, err = 0;
	size_t n = 0;

	ck_assert_int_eq(evc__csv_new(&csv, fd, read_size), EVC_OK);
	while ((rc = evc__csv_next(csv, &rec, &err)) == 1) {
		ck_assert_msg(n < n_want,
		              "read size %zu: extra record at line "
		              "%llu",
		              read_size, (unsigned long long)rec.line);
		const gen_rec *w = &want[n];
		ck_assert_msg(rec.error == NULL,
		              "read size %zu: record %zu: %s", read_size, n,
		              rec.error);
		ck_assert_uint_eq(rec.line, w->line);
		ck_assert_uint_eq(rec.n_fields, w->n_fields);
		for (size_t k = 0; k < w->n_fields && k < EVC_CSV_FIELDS; k++) {
			ck_assert_msg(rec.field[k].len == w->flen[k] &&
			                  memcmp(rec.field[k].ptr, w->field[k],
			                         w->flen[k]) == 0,
			              "read size %zu: record %zu field %zu",
			              read_size, n, k);
		}
		n++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, n_want);
	ck_assert_uint_eq(evc__csv_bytes(csv), len);
	evc__csv_free(csv);
	close(fd);
}

START_TEST(csv_generated)
{
	/* Mostly plain bytes, so that many records take the fast path and
	 * their commas fall on every offset of the 8- and 16-byte blocks. */
	static const char plain[] = "abcdefghij0123456789 -:.+T";
	static const char special[] = ",\"\r\n";
	enum { N_REC = 3000 };
	static gen_rec recs[N_REC];
	static char store[N_REC * 8 * 48];
	static char data[N_REC * 8 * 100 + 16];
	static const size_t sizes[] = {0, 1, 3, 7, 8, 15, 16, 17, 100, 4096};
	uint64_t st = 1000 + (uint64_t)_i;
	size_t used = 0, len = 0;
	uint64_t line = 1;
	const bool crlf = _i % 2 == 1;

	for (size_t r = 0; r < N_REC; r++) {
		gen_rec *g = &recs[r];
		g->n_fields = 1 + rng_below(&st, 7);
		const bool quoty = rng_below(&st, 8) == 0;
		for (size_t k = 0; k < g->n_fields; k++) {
			const size_t fl = rng_below(&st, 4) == 0
			                      ? rng_below(&st, 48)
			                      : rng_below(&st, 12);
			g->field[k] = store + used;
			g->flen[k] = fl;
			for (size_t i = 0; i < fl; i++)
				store[used++] = quoty && rng_below(&st, 6) == 0
				                    ? special[rng_below(&st, 4)]
				                    : plain[rng_below(&st, 26)];
		}
		/* A record of one empty field is a blank line: skipped. */
		if (g->n_fields == 1 && g->flen[0] == 0) {
			g->field[0] = "x";
			g->flen[0] = 1;
		}
		g->line = line;
		line += put_record(&st, g, data, &len, crlf);
	}
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		scan_and_compare(data, len, recs, N_REC, sizes[s]);
	/* Without the last LF: the last record ends at the end of input. */
	if (!crlf)
		scan_and_compare(data, len - 1, recs, N_REC, 5);
}
END_TEST

/* Lines of every length near the block sizes, commas at every offset. */
START_TEST(csv_block_boundaries)
{
	static char data[1 << 20];
	static gen_rec recs[4096];
	static char store[1 << 20];
	size_t len = 0, used = 0, n = 0;
	uint64_t st = 5;

	for (size_t ll = 1; ll <= 70; ll++) {
		for (size_t rep = 0; rep < 6; rep++) {
			gen_rec *g = &recs[n];
			char *f = store + used;
			size_t nf = 1, start = 0;
			g->field[0] = f;
			for (size_t i = 0; i < ll; i++) {
				const bool comma =
				    i > 0 && rng_below(&st, 4) == 0;
				f[i] = comma ? ',' : (char)('a' + i % 26);
				if (comma && nf < 8) {
					g->flen[nf - 1] = i - start;
					start = i + 1;
					g->field[nf] = f + start;
					nf++;
				} else if (comma) {
					f[i] = 'z';
				}
			}
			g->flen[nf - 1] = ll - start;
			g->n_fields = nf;
			if (nf == 1 && ll == 0)
				continue;
			memcpy(data + len, f, ll);
			len += ll;
			data[len++] = '\n';
			used += ll;
			g->line = n + 1;
			n++;
		}
	}
	static const size_t sizes[] = {0, 1, 2, 9, 16, 31, 33};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		scan_and_compare(data, len, recs, n, sizes[s]);
}
END_TEST

/* ---- aggregation ------------------------------------------------------------
 */

typedef struct nkey {
	uint32_t cust;
	int64_t minute;
	uint64_t count;
} nkey;

static int cmp_nkey(const void *pa, const void *pb)
{
	const nkey *a = pa, *b = pb;
	if (a->cust != b->cust)
		return a->cust < b->cust ? -1 : 1;
	return (a->minute > b->minute) - (a->minute < b->minute);
}

/* Add `n_add` events drawn by `draw` into a batch of `max_keys` and into a
 * naive list, then compare the sorted batch with the sorted list. */
typedef void (*draw_fn)(uint64_t *st, unsigned *cust, int64_t *minute,
                        unsigned n_cust);

static void agg_case(size_t max_keys, unsigned n_cust, size_t n_add,
                     draw_fn draw, uint64_t seed)
{
	evc_agg *a = NULL;
	/* The naive side: every event, sorted and counted at the end. */
	nkey *ev = calloc(n_add + 2, sizeof(*ev));
	size_t n_ev = 0;
	uint64_t st = seed;
	char name[32];

	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(evc__agg_new(&a, max_keys), EVC_OK);
	while (n_ev < n_add && !evc__agg_full(a)) {
		unsigned c;
		int64_t m;
		draw(&st, &c, &m, n_cust);
		const int len = snprintf(name, sizeof(name), "c%u", c);
		ck_assert_int_eq(evc__agg_add(a, name, (size_t)len, m), EVC_OK);
		ev[n_ev++] = (nkey){c, m, 1};
	}
	if (evc__agg_full(a) && evc__agg_customers(a) < 1000) {
		/* A new key does not fit; a known one still counts. */
		ck_assert_int_eq(evc__agg_add(a, "c0", 2, 123456789),
		                 EVC_ERANGE);
		const int len = snprintf(name, sizeof(name), "c%u", ev[0].cust);
		ck_assert_int_eq(
		    evc__agg_add(a, name, (size_t)len, ev[0].minute), EVC_OK);
		ev[n_ev++] = ev[0];
	}
	qsort(ev, n_ev, sizeof(*ev), cmp_nkey);
	size_t n_naive = 0;
	for (size_t i = 0; i < n_ev; i++) {
		if (n_naive > 0 && cmp_nkey(&ev[n_naive - 1], &ev[i]) == 0)
			ev[n_naive - 1].count++;
		else
			ev[n_naive++] = ev[i];
	}
	ck_assert_uint_eq(evc__agg_keys(a), n_naive);

	size_t n = 0;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, n_naive);
	/* Batch-local customer indexes differ from the naive numbering:
	 * map each entry back through its name, then compare sorted. */
	nkey *got = calloc(n + 1, sizeof(*got));
	ck_assert_ptr_nonnull(got);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *p = evc__agg_customer(a, e[i].customer, &len);
		ck_assert_ptr_nonnull(p);
		ck_assert(len > 1 && len < sizeof(name) && p[0] == 'c');
		/* Names are not NUL-terminated in the batch. */
		memcpy(name, p + 1, len - 1);
		name[len - 1] = '\0';
		got[i] = (nkey){(uint32_t)strtoul(name, NULL, 10), e[i].minute,
		                e[i].count};
		if (i > 0)
			ck_assert_msg(e[i - 1].customer < e[i].customer ||
			                  (e[i - 1].customer == e[i].customer &&
			                   e[i - 1].minute < e[i].minute),
			              "entry %zu out of order", i);
	}
	qsort(got, n, sizeof(*got), cmp_nkey);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(got[i].cust, ev[i].cust);
		ck_assert_int_eq(got[i].minute, ev[i].minute);
		ck_assert_uint_eq(got[i].count, ev[i].count);
	}
	free(got);
	free(ev);
	evc__agg_free(a);
}

#define MIN_MINUTE (EVC_TIME_MIN / 60)
#define MAX_MINUTE (EVC_TIME_MAX / 60)

/* Roughly in time order, like real exports. */
static void draw_steady(uint64_t *st, unsigned *c, int64_t *m, unsigned n)
{
	static int64_t t;
	t += (int64_t)rng_below(st, 3);
	*c = (unsigned)rng_below(st, n);
	*m = 26000000 + t / 4 + (int64_t)rng_below(st, 7) - 3;
}

/* Anywhere in the supported range, extremes included. */
static void draw_wide(uint64_t *st, unsigned *c, int64_t *m, unsigned n)
{
	*c = (unsigned)rng_below(st, n);
	switch (rng_below(st, 8)) {
	case 0:
		*m = MIN_MINUTE + (int64_t)rng_below(st, 3);
		break;
	case 1:
		*m = MAX_MINUTE - (int64_t)rng_below(st, 3);
		break;
	case 2:
		*m = -1 - (int64_t)rng_below(st, 3);
		break;
	default:
		*m = MIN_MINUTE +
		     (int64_t)(rng_next(st) %
		               (uint64_t)(MAX_MINUTE - MIN_MINUTE + 1));
	}
}

/* One customer, dense consecutive minutes: every home block full, the
 * worst case for probing, and keys that differ only in their low bits. */
static void draw_dense(uint64_t *st, unsigned *c, int64_t *m, unsigned n)
{
	*c = (unsigned)rng_below(st, n < 2 ? n : 2);
	*m = (int64_t)rng_below(st, 4096);
}

START_TEST(agg_matches_naive)
{
	static const struct {
		size_t max_keys;
		unsigned n_cust;
		size_t n_add;
		draw_fn draw;
	} cases[] = {
	    {1, 1, 10, draw_dense},
	    {47, 3, 500, draw_dense}, /* around the insertion sort cut */
	    {48, 3, 500, draw_wide},
	    {49, 100, 500, draw_wide},
	    {767, 50, 5000, draw_wide}, /* widened array > table */
	    {767, 1, 5000, draw_dense},
	    {4096, 3000, 40000, draw_steady}, /* customer table grows */
	    {20000, 5, 200000, draw_dense},
	    {20000, 600, 60000, draw_steady},
	    {30000, 40000, 60000, draw_wide},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		agg_case(cases[k].max_keys, cases[k].n_cust, cases[k].n_add,
		         cases[k].draw, 99 + k + (uint64_t)_i * 1000);
}
END_TEST

START_TEST(agg_minute_range)
{
	evc_agg *a = NULL;
	ck_assert_int_eq(evc__agg_new(&a, 8), EVC_OK);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, MIN_MINUTE), EVC_OK);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, MAX_MINUTE), EVC_OK);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, MIN_MINUTE - 1), EVC_EINVAL);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, MAX_MINUTE + 1), EVC_EINVAL);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, INT64_MIN), EVC_EINVAL);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, INT64_MAX), EVC_EINVAL);
	size_t n;
	const evc_agg_entry *e = evc__agg_sorted(a, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(e[0].minute, MIN_MINUTE);
	ck_assert_int_eq(e[1].minute, MAX_MINUTE);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, 0), EVC_EINVAL);
	evc__agg_reset(a);
	ck_assert_int_eq(evc__agg_add(a, "x", 1, 0), EVC_OK);
	evc__agg_free(a);
}
END_TEST

/* Batches reused across resets give the same result as fresh ones. */
START_TEST(agg_reuse_after_reset)
{
	evc_agg *a = NULL;
	uint64_t st = 3;
	ck_assert_int_eq(evc__agg_new(&a, 1000), EVC_OK);
	for (int round = 0; round < 5; round++) {
		uint64_t want = 0;
		while (!evc__agg_full(a)) {
			char name[16];
			const int len = snprintf(name, sizeof(name), "n%u",
			                         (unsigned)rng_below(&st, 300));
			ck_assert_int_eq(
			    evc__agg_add(a, name, (size_t)len,
			                 (int64_t)rng_below(&st, 5000)),
			    EVC_OK);
			want++;
		}
		size_t n;
		const evc_agg_entry *e = evc__agg_sorted(a, &n);
		uint64_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += e[i].count;
		ck_assert_uint_eq(n, 1000);
		ck_assert_uint_eq(total, want);
		evc__agg_reset(a);
	}
	evc__agg_free(a);
}
END_TEST

static Suite *fastpath_suite(void)
{
	Suite *s = suite_create("fastpath");
	TCase *tc = tcase_create("uuid");
	tcase_add_test(tc, uuid_every_byte_change);
	tcase_add_test(tc, uuid_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("customer");
	tcase_add_test(tc, customer_every_byte_change);
	tcase_add_test(tc, customer_random);
	tcase_add_test(tc, customer_c1_and_bidi_controls);
	suite_add_tcase(s, tc);

	tc = tcase_create("csv");
	tcase_add_loop_test(tc, csv_generated, 0, 6);
	tcase_add_test(tc, csv_block_boundaries);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("aggregate");
	tcase_add_loop_test(tc, agg_matches_naive, 0, 3);
	tcase_add_test(tc, agg_minute_range);
	tcase_add_test(tc, agg_reuse_after_reset);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(fastpath_suite)
