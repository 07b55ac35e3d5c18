/* SPDX-License-Identifier: MIT */
/* The CSV scanner (evc__csv_*): RFC 4180 records, line numbers, malformed
 * quoting, oversized records, and records that do not depend on the size
 * of the reads. */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rec_copy {
	uint64_t line;
	size_t n_fields;
	char *field[EVC_CSV_FIELDS];
	size_t flen[EVC_CSV_FIELDS];
	char *text;
	size_t text_len;
	bool truncated;
	const char *error;
} rec_copy;

typedef struct scan_result {
	rec_copy *v;
	size_t n;
	uint64_t bytes;
} scan_result;

static char *copy_bytes(const char *p, size_t len)
{
	char *d = malloc(len + 1);
	ck_assert_ptr_nonnull(d);
	if (len > 0)
		memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

static void scan(const void *data, size_t len, size_t read_size,
                 scan_result *out)
{
	int fd = tu_open_temp(data, len);
	evc_csv *csv = NULL;
	evc_csv_record rec;
	size_t cap = 0;
	int rc, err = 0;

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(evc__csv_new(&csv, fd, read_size), EVC_OK);
	ck_assert_ptr_nonnull(csv);
	while ((rc = evc__csv_next(csv, &rec, &err)) == 1) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = realloc(out->v, cap * sizeof(*out->v));
			ck_assert_ptr_nonnull(out->v);
		}
		rec_copy *c = &out->v[out->n++];
		memset(c, 0, sizeof(*c));
		c->line = rec.line;
		c->n_fields = rec.n_fields;
		for (size_t i = 0; i < EVC_CSV_FIELDS && i < rec.n_fields;
		     i++) {
			c->field[i] =
			    copy_bytes(rec.field[i].ptr, rec.field[i].len);
			c->flen[i] = rec.field[i].len;
		}
		c->text = copy_bytes(rec.text, rec.text_len);
		c->text_len = rec.text_len;
		c->truncated = rec.text_truncated;
		c->error = rec.error;
	}
	ck_assert_msg(rc == 0, "evc__csv_next = %d (errno %d)", rc, err);
	/* The end is sticky. */
	ck_assert_int_eq(evc__csv_next(csv, &rec, &err), 0);
	out->bytes = evc__csv_bytes(csv);
	evc__csv_free(csv);
	close(fd);
}

static void scan_free(scan_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t k = 0; k < EVC_CSV_FIELDS; k++)
			free(r->v[i].field[k]);
		free(r->v[i].text);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void scan_str(const char *s, scan_result *out)
{
	scan(s, strlen(s), 0, out);
}

/* Record i has exactly these fields (NULL-terminated list). */
static void assert_fields(const scan_result *r, size_t i, uint64_t line,
                          const char *const *fields)
{
	ck_assert_msg(i < r->n, "record %zu of %zu", i, r->n);
	const rec_copy *c = &r->v[i];
	size_t n = 0;
	while (fields[n] != NULL)
		n++;
	ck_assert_uint_eq(c->line, line);
	ck_assert_uint_eq(c->n_fields, n);
	for (size_t k = 0; k < n && k < EVC_CSV_FIELDS; k++) {
		ck_assert_uint_eq(c->flen[k], strlen(fields[k]));
		ck_assert_str_eq(c->field[k], fields[k]);
	}
	ck_assert_msg(c->error == NULL, "record %zu: unexpected error %s", i,
	              c->error);
	ck_assert(!c->truncated);
}

#define FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- well-formed input ------------------------------------------------- */

START_TEST(simple_records)
{
	scan_result r;
	scan_str("a,b,c,d\n1,2,3,4\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("a", "b", "c", "d"));
	assert_fields(&r, 1, 2, FIELDS("1", "2", "3", "4"));
	ck_assert_str_eq(r.v[0].text, "a,b,c,d");
	ck_assert_str_eq(r.v[1].text, "1,2,3,4");
	scan_free(&r);
}
END_TEST

START_TEST(quoted_fields_and_escapes)
{
	scan_result r;
	scan_str("\"a,b\",\"c\"\"d\",\"\",x\n\"say \"\"hi\"\"\"\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("a,b", "c\"d", "", "x"));
	ck_assert_str_eq(r.v[0].text, "\"a,b\",\"c\"\"d\",\"\",x");
	assert_fields(&r, 1, 2, FIELDS("say \"hi\""));
	scan_free(&r);
}
END_TEST

START_TEST(newlines_inside_quotes_count_lines)
{
	scan_result r;
	/* lines: 1 "a, 2 (blank), 3 b",c, 4 (blank), 5 d, 6 "x, 7 y", 8 e */
	scan_str("\"a\n\nb\",c\n\nd\n\"x\ny\"\ne\n", &r);
	ck_assert_uint_eq(r.n, 4);
	assert_fields(&r, 0, 1, FIELDS("a\n\nb", "c"));
	ck_assert_str_eq(r.v[0].text, "\"a\n\nb\",c");
	assert_fields(&r, 1, 5, FIELDS("d"));
	assert_fields(&r, 2, 6, FIELDS("x\ny"));
	assert_fields(&r, 3, 8, FIELDS("e"));
	scan_free(&r);
}
END_TEST

START_TEST(crlf_line_ends)
{
	scan_result r;
	scan_str("a,b\r\nc,d\r\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("a", "b"));
	assert_fields(&r, 1, 2, FIELDS("c", "d"));
	ck_assert_str_eq(r.v[0].text, "a,b");
	ck_assert_str_eq(r.v[1].text, "c,d");
	scan_free(&r);
}
END_TEST

START_TEST(crlf_inside_quotes_kept)
{
	scan_result r;
	scan_str("\"x\r\ny\",z\r\nw\r\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("x\r\ny", "z"));
	assert_fields(&r, 1, 3, FIELDS("w"));
	scan_free(&r);
}
END_TEST

START_TEST(mixed_lf_and_crlf)
{
	scan_result r;
	scan_str("a\nb\r\nc\nd\r\n", &r);
	ck_assert_uint_eq(r.n, 4);
	assert_fields(&r, 0, 1, FIELDS("a"));
	assert_fields(&r, 1, 2, FIELDS("b"));
	assert_fields(&r, 2, 3, FIELDS("c"));
	assert_fields(&r, 3, 4, FIELDS("d"));
	scan_free(&r);
}
END_TEST

START_TEST(bom_dropped_at_start_only)
{
	scan_result r;
	scan_str("\xEF\xBB\xBF"
	         "a,b\n\xEF\xBB\xBF"
	         "c\n",
	         &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("a", "b"));
	ck_assert_str_eq(r.v[0].text, "a,b");
	/* A BOM later is data. */
	assert_fields(&r, 1, 2,
	              FIELDS("\xEF\xBB\xBF"
	                     "c"));
	scan_free(&r);
}
END_TEST

START_TEST(bom_only_and_bom_blank_line)
{
	scan_result r;
	scan_str("\xEF\xBB\xBF", &r);
	ck_assert_uint_eq(r.n, 0);
	scan_free(&r);
	scan_str("\xEF\xBB\xBF\nx\n", &r);
	ck_assert_uint_eq(r.n, 1);
	assert_fields(&r, 0, 2, FIELDS("x"));
	scan_free(&r);
}
END_TEST

START_TEST(blank_lines_skipped)
{
	scan_result r;
	scan_str("\n\na\n\n\nb\n\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 3, FIELDS("a"));
	assert_fields(&r, 1, 6, FIELDS("b"));
	scan_free(&r);
	scan_str("a\r\n\r\nb\r\n\r\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("a"));
	assert_fields(&r, 1, 3, FIELDS("b"));
	scan_free(&r);
	scan_str("\n\n\r\n\n", &r);
	ck_assert_uint_eq(r.n, 0);
	scan_free(&r);
}
END_TEST

START_TEST(last_line_without_newline)
{
	scan_result r;
	scan_str("a,b\nc,d", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 1, 2, FIELDS("c", "d"));
	ck_assert_str_eq(r.v[1].text, "c,d");
	scan_free(&r);
	scan_str("\"q,\"\"\"", &r);
	ck_assert_uint_eq(r.n, 1);
	assert_fields(&r, 0, 1, FIELDS("q,\""));
	scan_free(&r);
}
END_TEST

START_TEST(empty_input)
{
	scan_result r;
	scan_str("", &r);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_eq(r.bytes, 0);
	scan_free(&r);
}
END_TEST

START_TEST(field_count_beyond_four)
{
	scan_result r;
	scan_str("1,2,3,4,5,6\na\n,\n,,,\n,,,,\n", &r);
	ck_assert_uint_eq(r.n, 5);
	ck_assert_uint_eq(r.v[0].n_fields, 6);
	ck_assert_str_eq(r.v[0].field[0], "1");
	ck_assert_str_eq(r.v[0].field[3], "4");
	ck_assert_str_eq(r.v[0].text, "1,2,3,4,5,6");
	ck_assert_ptr_null(r.v[0].error);
	assert_fields(&r, 1, 2, FIELDS("a"));
	assert_fields(&r, 2, 3, FIELDS("", ""));
	assert_fields(&r, 3, 4, FIELDS("", "", "", ""));
	ck_assert_uint_eq(r.v[4].n_fields, 5);
	scan_free(&r);
}
END_TEST

START_TEST(quoted_empty_field_is_a_record)
{
	scan_result r;
	scan_str("\"\"\nx\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS(""));
	ck_assert_str_eq(r.v[0].text, "\"\"");
	assert_fields(&r, 1, 2, FIELDS("x"));
	scan_free(&r);
}
END_TEST

START_TEST(nul_byte_is_data)
{
	static const char in[] = "a\0b,c\n\"\0\",d\n";
	scan_result r;
	scan(in, sizeof(in) - 1, 0, &r);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.v[0].n_fields, 2);
	ck_assert_uint_eq(r.v[0].flen[0], 3);
	ck_assert_mem_eq(r.v[0].field[0], "a\0b", 3);
	ck_assert_uint_eq(r.v[0].text_len, 5);
	ck_assert_mem_eq(r.v[0].text, "a\0b,c", 5);
	ck_assert_ptr_null(r.v[0].error);
	ck_assert_uint_eq(r.v[1].line, 2);
	ck_assert_uint_eq(r.v[1].flen[0], 1);
	ck_assert_int_eq(r.v[1].field[0][0], '\0');
	ck_assert_str_eq(r.v[1].field[1], "d");
	scan_free(&r);
}
END_TEST

START_TEST(bytes_counted)
{
	static const char in[] = "\xEF\xBB\xBF"
	                         "a,b\r\n\n\"c\nd\",e";
	scan_result r;
	scan(in, sizeof(in) - 1, 0, &r);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.bytes, sizeof(in) - 1);
	scan_free(&r);
}
END_TEST

/* ---- malformed quoting ------------------------------------------------- */

START_TEST(quote_inside_unquoted_field)
{
	scan_result r;
	scan_str("a\"b,c\nd,e\n", &r);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.v[0].line, 1);
	ck_assert_ptr_nonnull(r.v[0].error);
	ck_assert_str_ne(r.v[0].error, "");
	ck_assert_str_eq(r.v[0].text, "a\"b,c");
	assert_fields(&r, 1, 2, FIELDS("d", "e"));
	scan_free(&r);
}
END_TEST

START_TEST(text_after_closing_quote)
{
	scan_result r;
	scan_str("\"ab\"x,c\nd,e\n\"ab\" ,c\r\nf\n", &r);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_ptr_nonnull(r.v[0].error);
	ck_assert_uint_eq(r.v[0].line, 1);
	ck_assert_str_eq(r.v[0].text, "\"ab\"x,c");
	assert_fields(&r, 1, 2, FIELDS("d", "e"));
	ck_assert_ptr_nonnull(r.v[2].error);
	ck_assert_uint_eq(r.v[2].line, 3);
	ck_assert_str_eq(r.v[2].text, "\"ab\" ,c");
	assert_fields(&r, 3, 4, FIELDS("f"));
	scan_free(&r);
}
END_TEST

START_TEST(unterminated_quote_at_eof)
{
	scan_result r;
	scan_str("ok,1\na,\"bc\nd,e\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("ok", "1"));
	ck_assert_uint_eq(r.v[1].line, 2);
	ck_assert_ptr_nonnull(r.v[1].error);
	ck_assert_str_ne(r.v[1].error, "");
	scan_free(&r);
	scan_str("\"", &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_ptr_nonnull(r.v[0].error);
	scan_free(&r);
}
END_TEST

START_TEST(well_formed_records_have_no_error)
{
	scan_result r;
	scan_str("a,\"b\"\"\",c\n\"\",\"\"\"\"\n", &r);
	ck_assert_uint_eq(r.n, 2);
	assert_fields(&r, 0, 1, FIELDS("a", "b\"", "c"));
	assert_fields(&r, 1, 2, FIELDS("", "\""));
	scan_free(&r);
}
END_TEST

/* ---- oversized records ------------------------------------------------- */

static char *make_oversized(size_t *len, bool quoted)
{
	size_t body = EVC_CSV_MAX_RECORD + 100;
	size_t cap = body + 64;
	char *buf = malloc(cap);
	size_t n = 0;
	ck_assert_ptr_nonnull(buf);
	memcpy(buf + n, "x,y\n", 4);
	n += 4;
	if (quoted) {
		/* 1 + 5 * k bytes of "AAAA\n" lines inside quotes. */
		buf[n++] = '"';
		for (size_t k = 0; k < body / 5; k++) {
			memcpy(buf + n, "AAAA\n", 5);
			n += 5;
		}
		memcpy(buf + n, "\",b\n", 4);
		n += 4;
	} else {
		memset(buf + n, 'A', body);
		n += body;
		memcpy(buf + n, ",b\n", 3);
		n += 3;
	}
	memcpy(buf + n, "c,d\n", 4);
	n += 4;
	*len = n;
	return buf;
}

START_TEST(oversized_record_truncated)
{
	size_t len;
	char *in = make_oversized(&len, false);
	scan_result r;
	scan(in, len, 0, &r);
	ck_assert_uint_eq(r.n, 3);
	assert_fields(&r, 0, 1, FIELDS("x", "y"));
	ck_assert_uint_eq(r.v[1].line, 2);
	ck_assert_ptr_nonnull(r.v[1].error);
	ck_assert(r.v[1].truncated);
	ck_assert_uint_gt(r.v[1].text_len, 0);
	ck_assert_uint_le(r.v[1].text_len, EVC_CSV_REPORT_MAX);
	ck_assert_int_eq(r.v[1].text[0], 'A');
	assert_fields(&r, 2, 3, FIELDS("c", "d"));
	ck_assert_uint_eq(r.bytes, len);
	scan_free(&r);
	free(in);
}
END_TEST

START_TEST(oversized_quoted_multiline_keeps_line_numbers)
{
	size_t len;
	char *in = make_oversized(&len, true);
	size_t lines_inside = (EVC_CSV_MAX_RECORD + 100) / 5;
	scan_result r;
	scan(in, len, 0, &r);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.v[1].line, 2);
	ck_assert_ptr_nonnull(r.v[1].error);
	ck_assert(r.v[1].truncated);
	ck_assert_uint_le(r.v[1].text_len, EVC_CSV_REPORT_MAX);
	/* The record spans lines 2 .. 2 + lines_inside. */
	assert_fields(&r, 2, 3 + lines_inside, FIELDS("c", "d"));
	scan_free(&r);
	free(in);
}
END_TEST

START_TEST(record_below_limit_kept_whole)
{
	size_t flen = EVC_CSV_MAX_RECORD - 64;
	size_t len = flen + 8;
	char *in = malloc(len);
	ck_assert_ptr_nonnull(in);
	memset(in, 'B', flen);
	memcpy(in + flen, ",x\nc,d\n", 7);
	len = flen + 7;
	scan_result r;
	scan(in, len, 0, &r);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_ptr_null(r.v[0].error);
	ck_assert(!r.v[0].truncated);
	ck_assert_uint_eq(r.v[0].n_fields, 2);
	ck_assert_uint_eq(r.v[0].flen[0], flen);
	ck_assert_uint_eq(r.v[0].text_len, flen + 2);
	ck_assert_str_eq(r.v[0].field[1], "x");
	assert_fields(&r, 1, 2, FIELDS("c", "d"));
	scan_free(&r);
	free(in);
}
END_TEST

/* ---- the records do not depend on the read size ------------------------ */

typedef struct corpus_entry {
	const char *data;
	size_t len;
} corpus_entry;

#define C(s)                                                                   \
	{                                                                      \
		s, sizeof(s) - 1                                               \
	}

static const corpus_entry corpus[] = {
    C("a,b,c,d\n1,2,3,4\n"),
    C("\"a,b\",\"c\"\"d\",\"\",x\n"),
    C("\"a\nb\",c\nnext,1\n"),
    C("a,b\r\nc,d\r\n"),
    C("\"x\r\ny\",z\r\nw\r\n"),
    C("\xEF\xBB\xBF"
      "a,b\n\xEF\xBB\xBF"
      "b\n"),
    C("\xEF\xBB\xBF"),
    C("\xEF\xBB"),
    C("\xEF\xBB\xBF\xEF\xBB\xBF,\n"),
    C("\n\na\n\n\nb\n"),
    C("a\r\n\r\nb\r\n"),
    C("a,b\nc,d"),
    C(""),
    C("\n"),
    C("\r\n\r\n"),
    C("1,2,3,4,5,6\n,\n,,,\na\n"),
    C("a\"b,c\nd,e\n"),
    C("\"ab\"x,c\nd,e\n"),
    C("\"ab\"\"\"x\"\",c\r\nd,e\n"),
    C("a,\"bc\nd,e\n"),
    C("\"a\n\nb\",c\n\nd\n"),
    C("a\0b,c\n\0\n\"\0\"\n"),
    C("\"\"\n\"\"\"\"\n"),
    C("x,\"y\"\r\n\"\r\",\"\n\"\r\n"),
    C("a,b\r"),
    C("a\rb,c\n"),
    C("\"a\"\"\n"),
    C("a,\"b\"\"\",c\n"),
    C("\",\",\",\"\n,,\"\"\n"),
    C("customer_id,event_type,transaction_id,timestamp\n"
      "c1,click," TU_UUID ",2021-03-01 00:01:11.055+00\r\n"
      "\"acme, inc\",\"buy\"," TU_UUID ",2021-03-01 00:03:21.74+00\n"
      "\n"
      "c2,view,Wed Mar  3 12:39:35 PST 2021,2021-03-01 01:54:37+00"),
};

#define N_STATIC ((int)(sizeof(corpus) / sizeof(corpus[0])))
#define N_RANDOM 12
#define N_CORPUS (N_STATIC + N_RANDOM + 2)

static char *make_random(unsigned seed, size_t *len)
{
	static const char *const atoms[] = {
	    "a",    "bc",  ",",        "\"", "\"\"",         "\n",
	    "\r\n", "\r",  "\n\n",     "\0", "\xEF\xBB\xBF", "xyz",
	    ",\"",  "\",", "\xC3\xA9",
	};
	uint64_t st = seed * 7919u + 1;
	size_t n = 200 + tu_rand_below(&st, 3000);
	size_t cap = n * 4 + 4, pos = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	if (seed % 3 == 0) {
		memcpy(buf, "\xEF\xBB\xBF", 3);
		pos = 3;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = tu_rand_below(&st, sizeof(atoms) / sizeof(atoms[0]));
		size_t alen = k == 9 ? 1 : strlen(atoms[k]);
		memcpy(buf + pos, atoms[k], alen);
		pos += alen;
	}
	*len = pos;
	return buf;
}

static bool same_record(const rec_copy *a, const rec_copy *b)
{
	if (a->line != b->line || a->n_fields != b->n_fields ||
	    a->text_len != b->text_len || a->truncated != b->truncated)
		return false;
	if ((a->error == NULL) != (b->error == NULL))
		return false;
	if (a->error != NULL && strcmp(a->error, b->error) != 0)
		return false;
	if (memcmp(a->text, b->text, a->text_len) != 0)
		return false;
	for (size_t k = 0; k < EVC_CSV_FIELDS && k < a->n_fields; k++) {
		if (a->flen[k] != b->flen[k] ||
		    memcmp(a->field[k], b->field[k], a->flen[k]) != 0)
			return false;
	}
	return true;
}

START_TEST(records_independent_of_read_size)
{
	static const size_t sizes[] = {1, 2, 3, 7, 64, 1021, 4096, 65536};
	const char *data;
	size_t len;
	char *owned = NULL;
	bool big = false;

	if (_i < N_STATIC) {
		data = corpus[_i].data;
		len = corpus[_i].len;
	} else if (_i < N_STATIC + N_RANDOM) {
		owned = make_random((unsigned)(_i - N_STATIC), &len);
		data = owned;
	} else {
		owned = make_oversized(&len, _i == N_STATIC + N_RANDOM + 1);
		data = owned;
		big = true;
	}

	scan_result ref;
	scan(data, len, 0, &ref);
	ck_assert_uint_eq(ref.bytes, len);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		if (big && sizes[s] < 64)
			continue; /* millions of tiny reads: too slow */
		scan_result got;
		scan(data, len, sizes[s], &got);
		ck_assert_msg(got.n == ref.n,
		              "read size %zu: %zu records, default: %zu",
		              sizes[s], got.n, ref.n);
		for (size_t i = 0; i < ref.n; i++)
			ck_assert_msg(same_record(&got.v[i], &ref.v[i]),
			              "read size %zu: record %zu (line %llu, "
			              "default line %llu) differs",
			              sizes[s], i,
			              (unsigned long long)got.v[i].line,
			              (unsigned long long)ref.v[i].line);
		ck_assert_uint_eq(got.bytes, len);
		scan_free(&got);
	}
	scan_free(&ref);
	free(owned);
}
END_TEST

/* ---- input fingerprints (fingerprint.c) -------------------------------- */

/* Stores keep these values (sources' head and prefix hashes): a change to
 * the function would make every earlier input look rewritten. */
static const struct {
	size_t len;
	uint64_t hash;
} fingerprints[] = {
    {0, 0x381330c2bebc6fb6ULL},   {1, 0x2bb824cab5000ebcULL},
    {7, 0xd06299d796686972ULL},   {31, 0x58844a01baf09396ULL},
    {32, 0x295e1cdd95762358ULL},  {33, 0xf12aa8e8b172e5f0ULL},
    {64, 0x442f926b3fbb5911ULL},  {100, 0x51d43d83e4747006ULL},
    {200, 0x7fa106ef85e29f94ULL},
};

static void fingerprint_input(unsigned char buf[200])
{
	for (int i = 0; i < 200; i++)
		buf[i] = (unsigned char)(i * 37 + 11);
}

START_TEST(fingerprint_known_values)
{
	unsigned char buf[200];
	fingerprint_input(buf);
	evc_hash h;
	evc__hash_init(&h);
	evc__hash_update(&h, buf, fingerprints[_i].len);
	ck_assert_msg(evc__hash_final(&h) == fingerprints[_i].hash,
	              "%zu bytes: 0x%016llx", fingerprints[_i].len,
	              (unsigned long long)evc__hash_final(&h));
}
END_TEST

/* Fed in any pieces, the same bytes give the same fingerprint. */
START_TEST(fingerprint_independent_of_pieces)
{
	unsigned char buf[200];
	fingerprint_input(buf);
	for (size_t piece = 1; piece <= 70; piece++) {
		evc_hash h;
		evc__hash_init(&h);
		for (size_t at = 0; at < 200; at += piece)
			evc__hash_update(&h, buf + at,
			                 200 - at < piece ? 200 - at : piece);
		ck_assert_msg(evc__hash_final(&h) == fingerprints[8].hash,
		              "pieces of %zu", piece);
	}
}
END_TEST

static Suite *csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc;

	tc = tcase_create("records");
	tcase_add_test(tc, simple_records);
	tcase_add_test(tc, quoted_fields_and_escapes);
	tcase_add_test(tc, newlines_inside_quotes_count_lines);
	tcase_add_test(tc, field_count_beyond_four);
	tcase_add_test(tc, quoted_empty_field_is_a_record);
	tcase_add_test(tc, nul_byte_is_data);
	tcase_add_test(tc, bytes_counted);
	tcase_add_test(tc, well_formed_records_have_no_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("line_ends");
	tcase_add_test(tc, crlf_line_ends);
	tcase_add_test(tc, crlf_inside_quotes_kept);
	tcase_add_test(tc, mixed_lf_and_crlf);
	tcase_add_test(tc, blank_lines_skipped);
	tcase_add_test(tc, last_line_without_newline);
	tcase_add_test(tc, empty_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("bom");
	tcase_add_test(tc, bom_dropped_at_start_only);
	tcase_add_test(tc, bom_only_and_bom_blank_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed_quoting");
	tcase_add_test(tc, quote_inside_unquoted_field);
	tcase_add_test(tc, text_after_closing_quote);
	tcase_add_test(tc, unterminated_quote_at_eof);
	suite_add_tcase(s, tc);

	tc = tcase_create("oversized");
	tcase_add_test(tc, oversized_record_truncated);
	tcase_add_test(tc, oversized_quoted_multiline_keeps_line_numbers);
	tcase_add_test(tc, record_below_limit_kept_whole);
	suite_add_tcase(s, tc);

	tc = tcase_create("fingerprint");
	tcase_add_loop_test(
	    tc, fingerprint_known_values, 0,
	    (int)(sizeof(fingerprints) / sizeof(fingerprints[0])));
	tcase_add_test(tc, fingerprint_independent_of_pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("read_size_invariance");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, records_independent_of_read_size, 0, N_CORPUS);
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(csv_suite)
