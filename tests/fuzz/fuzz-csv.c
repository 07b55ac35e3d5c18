/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the CSV scanner (csv.c).
 *
 * Input: byte 0 and byte 1 choose two read sizes, the rest is the CSV. The
 * scanner must return the same records (line, fields, error, text) at both
 * read sizes (the second in follow mode), and the same as the byte-at-a-time
 * RFC 4180 reference below, which spells out the rules csv.c implements:
 * - a quote opens a quoted field only at the field's start; "" inside it
 *   is one quote; LFs inside it belong to the field;
 * - a quote inside an unquoted field is kept as a literal byte and makes
 *   the record an error ("quote inside an unquoted field");
 * - after a closing quote only a comma or the line end may come, else the
 *   record is an error ("text after a closing quote"; the field's value is
 *   then unspecified);
 * - an input that ends inside a quoted field is an error;
 * - a CR just before the LF (or before the end of input) is part of the
 *   line end, anywhere else it is data;
 * - empty lines (or a lone CR) are skipped; a UTF-8 BOM at the very start
 *   is dropped;
 * - a record's line is the physical line of its first byte (1-based);
 * - text is the record's raw bytes without its line end (a record cut by
 *   the end of input inside quotes keeps a trailing CR).
 * Follow mode must return the same records but hold back a last record
 * that no LF terminates; offsets, line counters and the fingerprint are
 * checked too. Records stay below EVC_CSV_MAX_RECORD (run with -max_len).
 */
#include "evc-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

struct bytes {
	char *p;
	size_t len;
};

struct rec {
	uint64_t line;
	size_t n_fields;
	struct bytes field[EVC_CSV_FIELDS];
	bool field_unspec[EVC_CSV_FIELDS]; /* reference only */
	const char *error;
	struct bytes text;
	bool truncated;
	bool by_lf;        /* reference only */
	size_t start, end; /* reference only: raw extent */
};

struct recs {
	struct rec *r;
	size_t n, cap;
	bool held;
	uint64_t offset, line, bytes, hash;
};

static struct bytes dup_bytes(const char *p, size_t len)
{
	struct bytes b = {malloc(len ? len : 1), len};
	CHECK(b.p);
	if (len)
		memcpy(b.p, p, len);
	return b;
}

static struct rec *push(struct recs *rs)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 16;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		CHECK(rs->r);
	}
	struct rec *r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void free_recs(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		for (size_t k = 0; k < EVC_CSV_FIELDS; k++)
			free(rs->r[i].field[k].p);
		free(rs->r[i].text.p);
	}
	free(rs->r);
}

static bool same_bytes(const struct bytes *a, const struct bytes *b)
{
	return a->len == b->len && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

static bool same_error(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void dump(const char *what, size_t i, const struct rec *r)
{
	fprintf(stderr,
	        "%s record %zu: line %llu, %zu fields, error %s, "
	        "text \"%.*s\"\n",
	        what, i, (unsigned long long)r->line, r->n_fields,
	        r->error ? r->error : "none", (int)r->text.len, r->text.p);
	for (size_t k = 0; k < r->n_fields && k < EVC_CSV_FIELDS; k++)
		fprintf(stderr, "  field %zu: \"%.*s\"%s\n", k,
		        (int)r->field[k].len, r->field[k].p,
		        r->field_unspec[k] ? " (unspecified)" : "");
}

/* Records of `a` and `b` must be identical; fields the reference leaves
 * unspecified (in `b`) are not compared. */
static void compare(const char *what, const struct recs *a,
                    const struct recs *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct rec *x = &a->r[i], *y = &b->r[i];
		bool ok = x->line == y->line && x->n_fields == y->n_fields &&
		          same_error(x->error, y->error) &&
		          same_bytes(&x->text, &y->text) &&
		          x->truncated == y->truncated;
		for (size_t k = 0; ok && k < x->n_fields && k < EVC_CSV_FIELDS;
		     k++)
			ok = y->field_unspec[k] ||
			     same_bytes(&x->field[k], &y->field[k]);
		if (!ok) {
			fprintf(stderr, "%s: record %zu differs\n", what, i);
			dump("scanner", i, x);
			dump("expected", i, y);
			abort();
		}
	}
}

static void scan(int fd, size_t read_size, bool follow, struct recs *out)
{
	evc_csv *c = NULL;
	evc_csv_record rec;
	int err = 0, rc;

	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(evc__csv_new(&c, fd, read_size) == EVC_OK);
	evc__csv_set_follow(c, follow);
	memset(out, 0, sizeof(*out));
	while ((rc = evc__csv_next(c, &rec, &err)) == 1) {
		struct rec *r = push(out);
		r->line = rec.line;
		r->n_fields = rec.n_fields;
		r->error = rec.error;
		r->truncated = rec.text_truncated;
		r->text = dup_bytes(rec.text, rec.text_len);
		for (size_t k = 0; k < rec.n_fields && k < EVC_CSV_FIELDS; k++)
			r->field[k] =
			    dup_bytes(rec.field[k].ptr, rec.field[k].len);
	}
	CHECK(rc == 0);
	out->held = evc__csv_held(c);
	out->offset = evc__csv_offset(c);
	out->line = evc__csv_line(c);
	out->bytes = evc__csv_bytes(c);
	out->hash = evc__hash_final(evc__csv_hash(c));
	evc__csv_free(c);
}

/* ---- the reference --------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, char ch)
{
	if (b->len == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->p = realloc(b->p, b->cap);
		CHECK(b->p);
	}
	b->p[b->len++] = ch;
}

static void set_error(struct rec *r, const char *why)
{
	if (!r->error)
		r->error = why;
}

/* One field at *pos, stored as field k of r. Returns what ended it: ','
 * (another field follows, *pos past the comma), '\n' (*pos on the LF) or 0
 * (the end of input). */
static int ref_field(const char *d, size_t n, size_t *pos, struct rec *r,
                     size_t k, bool *open_at_eof)
{
	struct buf v = {0};
	bool quoted = false, unspec = false;
	size_t p = *pos;
	int term = -1;

	if (p < n && d[p] == '"') {
		quoted = true;
		p++;
		for (;;) {
			if (p == n) {
				set_error(r, "quoted field not closed before "
				             "the end of input");
				*open_at_eof = true;
				term = 0;
				break;
			}
			if (d[p] == '"') {
				if (p + 1 < n && d[p + 1] == '"') {
					put(&v, '"');
					p += 2;
					continue;
				}
				p++;
				break;
			}
			put(&v, d[p++]);
		}
		if (term == 0 || p == n) {
			term = 0;
		} else if (d[p] == ',') {
			term = ',';
		} else if (d[p] == '\n') {
			term = '\n';
		} else if (d[p] == '\r' && (p + 1 == n || d[p + 1] == '\n')) {
			p++;
			term = p == n ? 0 : '\n';
		} else {
			set_error(r, "text after a closing quote");
			unspec = true;
		}
	}
	if (term < 0) {
		/* Unquoted, or what follows a misplaced closing quote. */
		for (;;) {
			if (p == n) {
				term = 0;
				break;
			}
			if (d[p] == ',' || d[p] == '\n') {
				term = d[p];
				break;
			}
			if (d[p] == '"')
				set_error(r, "quote inside an unquoted field");
			put(&v, d[p++]);
		}
		/* The last field's CR is the line end's. */
		if (!quoted && term != ',' && v.len && v.p[v.len - 1] == '\r')
			v.len--;
	}
	if (k < EVC_CSV_FIELDS) {
		r->field[k] = dup_bytes(v.p, v.len);
		r->field_unspec[k] = unspec;
	}
	free(v.p);
	*pos = term == ',' ? p + 1 : p;
	return term;
}

static void reference(const char *d, size_t n, struct recs *out)
{
	size_t pos = 0;
	uint64_t line = 1;

	memset(out, 0, sizeof(*out));
	if (n >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	while (pos < n) {
		/* Blank lines. */
		if (d[pos] == '\n') {
			pos++;
			line++;
			continue;
		}
		if (d[pos] == '\r' && (pos + 1 == n || d[pos + 1] == '\n')) {
			pos++; /* and its LF, if any, next round */
			continue;
		}

		struct rec *r = push(out);
		bool open_at_eof = false;
		size_t k = 0;
		r->line = line;
		r->start = pos;
		while (ref_field(d, n, &pos, r, k++, &open_at_eof) == ',')
			;
		r->n_fields = k;
		r->end = pos;
		r->by_lf = pos < n;
		size_t tl = pos - r->start;
		if (!open_at_eof && tl && d[r->start + tl - 1] == '\r')
			tl--;
		r->text = dup_bytes(d + r->start, tl);
		for (size_t i = r->start; i < pos; i++)
			line += d[i] == '\n';
		if (r->by_lf) {
			line++;
			pos++;
		}
	}
	out->line = line;
}

static uint64_t hash_of(const char *d, size_t n)
{
	evc_hash h;
	evc__hash_init(&h);
	evc__hash_update(&h, d, n);
	return evc__hash_final(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {0, 1,  2,  3,  4,  5,   7,
	                               8, 15, 16, 17, 64, 511, 4096};
	const size_t n_sizes = sizeof(sizes) / sizeof(sizes[0]);

	if (size < 2 || size > EVC_CSV_MAX_RECORD / 2)
		return 0;
	const size_t rs_a = sizes[data[0] % n_sizes];
	const size_t rs_b = sizes[data[1] % n_sizes];
	const char *d = (const char *)data + 2;
	const size_t n = size - 2;

	int fd = memfd_create("fuzz-csv", 0);
	CHECK(fd >= 0);
	CHECK(n == 0 || write(fd, d, n) == (ssize_t)n);

	/* Two scans (each scanner allocates two MiB, which ASan makes
	 * costly): lenient at one read size, follow mode at the other. */
	struct recs a, f, ref;
	scan(fd, rs_a, false, &a);
	scan(fd, rs_b, true, &f);
	reference(d, n, &ref);
	CHECK(close(fd) == 0);

	/* As the reference says. */
	if (a.n != ref.n) {
		fprintf(stderr, "scanner: %zu records, reference: %zu\n", a.n,
		        ref.n);
		for (size_t i = 0; i < a.n; i++)
			dump("scanner", i, &a.r[i]);
		for (size_t i = 0; i < ref.n; i++)
			dump("expected", i, &ref.r[i]);
		abort();
	}
	compare("reference", &a, &ref, a.n);
	CHECK(!a.held);
	CHECK(a.bytes == n && a.offset == n);
	CHECK(a.line == ref.line);
	CHECK(a.hash == hash_of(d, n));

	/* Follow mode, at the other read size: the same records, every
	 * byte of every field, except that a last record no LF ends is held
	 * back, unconsumed. */
	const bool hold = ref.n > 0 && !ref.r[ref.n - 1].by_lf;
	CHECK(f.held == hold);
	CHECK(f.n == ref.n - hold);
	compare("read size and follow mode", &f, &a, f.n);
	const uint64_t f_off = hold ? ref.r[ref.n - 1].start : n;
	CHECK(f.offset == f_off);
	CHECK(f.line == (hold ? ref.r[ref.n - 1].line : ref.line));
	CHECK(f.hash == hash_of(d, f_off));

	free_recs(&a);
	free_recs(&f);
	free_recs(&ref);
	return 0;
}
