/* SPDX-License-Identifier: MIT */
/* Ingesting CSV (evc_ingest_csv, evc_ingest_fd): accepted, rejected and
 * warned rows, statistics, lenient and strict modes, callbacks, input
 * errors and how counts add up. */
#include "testutil.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER    "customer_id,event_type,transaction_id,timestamp\n"
#define T0        "2021-03-01T02:15:00Z"
#define ROW(cust) cust ",click," TU_UUID "," T0 "\n"

/* ---- a growable byte string ------------------------------------------ */

typedef struct sbuf {
	char *p;
	size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		ck_assert_ptr_nonnull(b->p);
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

EVC_PRINTF(2, 3)
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof(tmp));
	sb_add(b, tmp, (size_t)n);
}

/* ---- helpers ------------------------------------------------------------- */

typedef struct run {
	int rc;
	evc_ingest_stats st;
	tu_reports reps;
	const char *path;
} run;

static void run_ingest(evc_store *s, const void *data, size_t len,
                       unsigned flags, run *r)
{
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	memset(r, 0, sizeof(*r));
	opts.flags = flags;
	opts.on_reject = tu_collect;
	opts.payload = &r->reps;
	r->path = tu_write_temp(data, len);
	r->rc = evc_ingest_csv(s, r->path, &opts, &r->st);
}

static void run_str(evc_store *s, const char *csv, unsigned flags, run *r)
{
	run_ingest(s, csv, strlen(csv), flags, r);
}

static void assert_stats(const run *r, uint64_t read, uint64_t counted,
                         uint64_t rejected, uint64_t warned)
{
	ck_assert_uint_eq(r->st.rows_read, read);
	ck_assert_uint_eq(r->st.rows_counted, counted);
	ck_assert_uint_eq(r->st.rows_rejected, rejected);
	ck_assert_uint_eq(r->st.rows_warned, warned);
}

static int64_t day0(void)
{
	return ts("2021-03-01T00:00:00Z");
}

/* Events of `cust` on 2021-03-01. */
static uint64_t day_count(evc_store *s, const char *cust)
{
	return tu_total(s, cust, day0(), day0() + 86400);
}

/* ---- accepted rows -------------------------------------------------- */

START_TEST(rows_counted)
{
	evc_store *s = tu_mem_store();
	const char *in = ROW("c1") ROW("c1") ROW("c2");
	run r;
	run_str(s, in, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 3, 3, 0, 0);
	ck_assert_uint_eq(r.st.bytes, strlen(in));
	ck_assert_uint_eq(r.reps.n, 0);
	ck_assert_uint_eq(day_count(s, "c1"), 2);
	ck_assert_uint_eq(day_count(s, "c2"), 1);
	ck_assert_uint_eq(day_count(s, "c3"), 0);
	/* In the minute of the timestamp. */
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01T02:15:00Z"),
	                           ts("2021-03-01T02:16:00Z")),
	                  2);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01T02:16:00Z"),
	                           ts("2021-03-01T03:16:00Z")),
	                  0);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

START_TEST(header_skipped)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s, HEADER ROW("c1") ROW("c2"), 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 2, 2, 0, 0);
	ck_assert_uint_eq(r.reps.n, 0);
	tu_reports_free(&r.reps);

	/* With CRLF and after a BOM. */
	run_str(s,
	        "\xEF\xBB\xBF"
	        "customer_id,event_type,transaction_id,timestamp\r\n" ROW("c1"),
	        0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 1, 1, 0, 0);
	ck_assert_uint_eq(r.reps.n, 0);
	ck_assert_uint_eq(day_count(s, "c1"), 2);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

/* A header line is skipped on line 1 only: appended later, it is a row
 * like any other, rejected whether the file is ingested whole or in
 * pieces. */
START_TEST(header_after_line_1_is_a_row_however_it_arrives)
{
	const char *first = ROW("c1") ROW("c2");
	const char *appended = HEADER ROW("c3");
	char whole[512];
	snprintf(whole, sizeof(whole), "%s%s", first, appended);
	evc_ingest_stats st;

	/* Whole. */
	evc_store *s = tu_mem_store();
	ck_assert_int_eq(tu_ingest_str(s, whole, NULL, &st), EVC_OK);
	ck_assert_uint_eq(st.rows_rejected, 1);
	ck_assert_uint_eq(st.rows_counted, 3);
	evc_close(s);

	/* In pieces: the file grows between two ingests. */
	s = tu_mem_store();
	const char *path = tu_write_temp_str(first);
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, &st), EVC_OK);
	ck_assert_uint_eq(st.rows_rejected, 0);
	FILE *f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs(appended, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_RESUMED);
	ck_assert_uint_eq(st.rows_rejected, 1);
	ck_assert_uint_eq(st.rows_counted, 1);
	evc_close(s);
}
END_TEST

START_TEST(other_first_line_is_a_row)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s, "cust,type,tx,time\n" ROW("c1"), 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 2, 1, 1, 0);
	ck_assert_uint_eq(r.reps.n, 1);
	ck_assert_uint_eq(r.reps.v[0].line, 1);
	ck_assert_int_eq(r.reps.v[0].warning, 0);
	ck_assert_uint_eq(day_count(s, "cust"), 0);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

START_TEST(quoted_customer_ids_unescaped)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s,
	        "\"acme, inc\",click," TU_UUID "," T0 "\n"
	        "\"say \"\"hi\"\"\",click," TU_UUID "," T0 "\n"
	        "\"acme, inc\",\"click\",\"" TU_UUID "\",\"" T0 "\"\n",
	        0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 3, 3, 0, 0);
	ck_assert_uint_eq(day_count(s, "acme, inc"), 2);
	ck_assert_uint_eq(day_count(s, "say \"hi\""), 1);
	ck_assert_uint_eq(day_count(s, "\"acme, inc\""), 0);
	ck_assert_uint_eq(day_count(s, "acme"), 0);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

START_TEST(utf8_customer_ids_accepted)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, ROW("Jos\xC3\xA9") ROW("\xE6\x97\xA5\xE6\x9C\xAC")
	                    ROW("\xF0\x9F\x98\x80") ROW("a b"));
	ck_assert_uint_eq(day_count(s, "Jos\xC3\xA9"), 1);
	ck_assert_uint_eq(day_count(s, "\xE6\x97\xA5\xE6\x9C\xAC"), 1);
	ck_assert_uint_eq(day_count(s, "\xF0\x9F\x98\x80"), 1);
	ck_assert_uint_eq(day_count(s, "a b"), 1);
	evc_close(s);
}
END_TEST

START_TEST(customer_id_length_limit)
{
	char id255[256], id256[257];
	memset(id255, 'k', 255);
	id255[255] = '\0';
	memset(id256, 'k', 256);
	id256[256] = '\0';
	sbuf in = {0};
	sb_printf(&in, "%s,click,%s,%s\n", id255, TU_UUID, T0);
	sb_printf(&in, "%s,click,%s,%s\n", id256, TU_UUID, T0);

	evc_store *s = tu_mem_store();
	run r;
	run_ingest(s, in.p, in.len, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 2, 1, 1, 0);
	ck_assert_uint_eq(r.reps.n, 1);
	ck_assert_uint_eq(r.reps.v[0].line, 2);
	ck_assert_int_eq(r.reps.v[0].warning, 0);
	ck_assert_uint_eq(day_count(s, id255), 1);
	ck_assert_uint_eq(day_count(s, id256), 0);
	tu_reports_free(&r.reps);
	free(in.p);
	evc_close(s);
}
END_TEST

START_TEST(out_of_order_and_duplicates_counted)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, "c,click," TU_UUID ",2021-03-01T05:00:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T01:00:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T05:00:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T03:30:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T01:00:00Z\n"
	                "c,click," TU_UUID ",2021-03-01T05:00:00Z\n");
	int64_t a = day0();
	ck_assert_uint_eq(tu_bucket(s, "c", a, a + 6 * 3600, 1).count, 2);
	ck_assert_uint_eq(tu_bucket(s, "c", a, a + 6 * 3600, 3).count, 1);
	ck_assert_uint_eq(tu_bucket(s, "c", a, a + 6 * 3600, 5).count, 3);
	ck_assert_uint_eq(day_count(s, "c"), 6);
	evc_close(s);
}
END_TEST

START_TEST(same_minute_one_key)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s,
	        "c,click," TU_UUID ",2021-03-01T02:15:00Z\n"
	        "c,click," TU_UUID ",2021-03-01T02:15:30Z\n"
	        "c,click," TU_UUID ",2021-03-01T02:15:59.999Z\n"
	        "c,click," TU_UUID ",2021-03-01T02:16:00Z\n",
	        0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 4, 4, 0, 0);
	ck_assert_uint_eq(r.st.keys_touched, 2);
	ck_assert_uint_eq(tu_total(s, "c", ts("2021-03-01T02:15:00Z"),
	                           ts("2021-03-01T02:16:00Z")),
	                  3);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

/* ---- rejected rows ---------------------------------------------------- */

typedef struct bad_row {
	const char *name;
	const char *text; /* without line end */
	size_t len;
} bad_row;

#define B(name, s)                                                             \
	{                                                                      \
		name, s, sizeof(s) - 1                                         \
	}
#define REST ",click," TU_UUID "," T0

static const bad_row bad_rows[] = {
    B("three fields", "c1,click," TU_UUID),
    B("five fields", "c1" REST ",extra"),
    B("one field", "justone"),
    B("eight fields", "c1" REST ",a,b,c,d"),
    B("empty customer", REST),
    B("quoted empty customer", "\"\"" REST),
    B("control char 0x01", "c\x01"
                           "x" REST),
    B("tab in customer", "c\tx" REST),
    B("control char 0x1f", "c\x1f"
                           "x" REST),
    B("newline in quoted customer", "\"c\nx\"" REST),
    B("carriage return in quoted customer", "\"c\rx\"" REST),
    B("NUL in customer", "c\0x" REST),
    B("invalid UTF-8 0xff", "c\xff" REST),
    B("truncated UTF-8 sequence", "c\xc3" REST),
    B("truncated UTF-8 at end of id", "ab\xe6\x97" REST),
    B("lone continuation byte", "\x80x" REST),
    B("overlong UTF-8", "\xc0\xaf" REST),
    B("UTF-8 surrogate", "\xed\xa0\x80" REST),
    B("UTF-8 above U+10FFFF", "\xf4\x90\x80\x80" REST),
    B("timestamp garbage", "c1,click," TU_UUID ",garbage"),
    B("timestamp empty", "c1,click," TU_UUID ","),
    B("timestamp 2021-02-29", "c1,click," TU_UUID ",2021-02-29T00:00:00Z"),
    B("timestamp hour 24", "c1,click," TU_UUID ",2021-03-01T24:00:00Z"),
    B("timestamp leading space", "c1,click," TU_UUID ", " T0),
    B("timestamp trailing garbage", "c1,click," TU_UUID "," T0 "x"),
    B("timestamp offset +24", "c1,click," TU_UUID ",2021-03-01T02:15:00+24:00"),
    B("timestamp 10 fraction digits",
      "c1,click," TU_UUID ",2021-03-01T02:15:00.1234567890Z"),
    B("quote inside unquoted field", "c\"1" REST),
    B("text after closing quote", "\"c1\"x" REST),
    B("quote inside unquoted timestamp",
      "c1,click," TU_UUID ",2021-03-01\"T02:15:00Z"),
};

START_TEST(bad_row_rejected)
{
	const bad_row *b = &bad_rows[_i];
	sbuf in = {0};
	sb_add(&in, ROW("good1"), strlen(ROW("good1")));
	sb_add(&in, b->text, b->len);
	sb_add(&in, "\n", 1);
	sb_add(&in, ROW("good2"), strlen(ROW("good2")));

	evc_store *s = tu_mem_store();
	run r;
	run_ingest(s, in.p, in.len, 0, &r);
	ck_assert_msg(r.rc == EVC_OK, "%s: rc %d (%s)", b->name, r.rc,
	              evc_errmsg(s));
	ck_assert_msg(r.st.rows_rejected == 1 && r.st.rows_counted == 2,
	              "%s: rejected %llu counted %llu", b->name,
	              (unsigned long long)r.st.rows_rejected,
	              (unsigned long long)r.st.rows_counted);
	assert_stats(&r, 3, 2, 1, 0);
	ck_assert_uint_eq(r.st.bytes, in.len);
	ck_assert_uint_eq(r.reps.n, 1);
	const tu_report *p = &r.reps.v[0];
	ck_assert_uint_eq(p->line, 2);
	ck_assert_int_eq(p->warning, 0);
	ck_assert_ptr_nonnull(p->reason);
	ck_assert_str_ne(p->reason, "");
	ck_assert_str_eq(p->source, r.path);
	ck_assert_int_eq(p->text_truncated, 0);
	ck_assert_uint_eq(p->text_len, b->len);
	ck_assert_mem_eq(p->text, b->text, b->len);
	ck_assert_uint_eq(day_count(s, "good1"), 1);
	ck_assert_uint_eq(day_count(s, "good2"), 1);
	ck_assert_uint_eq(day_count(s, "c1"), 0);
	tu_reports_free(&r.reps);
	free(in.p);
	evc_close(s);
}
END_TEST

START_TEST(unterminated_quote_rejected)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s, ROW("good1") "c1,\"click," TU_UUID "," T0 "\n" ROW("c1"), 0,
	        &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	/* The open quote swallows the rest of the input: one record. */
	assert_stats(&r, 2, 1, 1, 0);
	ck_assert_uint_eq(r.reps.n, 1);
	ck_assert_uint_eq(r.reps.v[0].line, 2);
	ck_assert_int_eq(r.reps.v[0].warning, 0);
	ck_assert_uint_eq(day_count(s, "good1"), 1);
	ck_assert_uint_eq(day_count(s, "c1"), 0);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

START_TEST(reject_line_numbers_after_multiline_record)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s,
	        ROW("good1")                           /* line 1 */
	        "\"c\nx\"" REST "\n"                   /* lines 2-3 */
	        "\n"                                   /* line 4 */
	        "\"ok\nstill\"," TU_UUID ",x," T0 "\n" /* lines 5-6 */
	        "c2,click," TU_UUID ",bad\r\n"         /* line 7 */
	        ROW("good2"),                          /* line 8 */
	        0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 5, 2, 3, 0);
	ck_assert_uint_eq(r.reps.n, 3);
	ck_assert_uint_eq(r.reps.v[0].line, 2);
	ck_assert_uint_eq(r.reps.v[1].line, 5);
	ck_assert_uint_eq(r.reps.v[2].line, 7);
	/* The report's text has no line end. */
	ck_assert_str_eq(r.reps.v[2].text, "c2,click," TU_UUID ",bad");
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

START_TEST(oversized_row_rejected)
{
	sbuf in = {0};
	sb_add(&in, ROW("good1"), strlen(ROW("good1")));
	size_t big = EVC_CSV_MAX_RECORD + 4096;
	char *filler = malloc(big);
	ck_assert_ptr_nonnull(filler);
	memset(filler, 'z', big);
	sb_add(&in, filler, big);
	sb_add(&in, REST "\n", strlen(REST "\n"));
	sb_add(&in, ROW("good2"), strlen(ROW("good2")));
	free(filler);

	evc_store *s = tu_mem_store();
	run r;
	run_ingest(s, in.p, in.len, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 3, 2, 1, 0);
	ck_assert_uint_eq(r.st.bytes, in.len);
	ck_assert_uint_eq(r.reps.n, 1);
	ck_assert_uint_eq(r.reps.v[0].line, 2);
	ck_assert_int_eq(r.reps.v[0].text_truncated, 1);
	ck_assert_uint_gt(r.reps.v[0].text_len, 0);
	ck_assert_uint_le(r.reps.v[0].text_len, EVC_CSV_REPORT_MAX);
	ck_assert_int_eq(r.reps.v[0].text[0], 'z');
	ck_assert_uint_eq(day_count(s, "good2"), 1);
	tu_reports_free(&r.reps);
	free(in.p);
	evc_close(s);
}
END_TEST

/* ---- warnings ----------------------------------------------------------- */

static const char *const not_uuids[] = {
    "Wed Mar  3 12:39:35 PST 2021",
    "test1",
    TU_UUID "-0",
    "",
    "ffdc83beb2b34d8c8712b9aa418f2791",
    "{" TU_UUID "}",
    "ffdc83be-b2b3-4d8c-8712-b9aa418f279g",
    "ffdc83be-b2b3-4d8c-8712-b9aa418f279",
    "ffdc83be-b2b3-4d8c-8712b-9aa418f2791",
    " " TU_UUID,
};

START_TEST(non_uuid_transaction_warned)
{
	const char *tx = not_uuids[_i];
	ck_assert(!evc__is_uuid(tx, strlen(tx)));

	sbuf in = {0};
	sb_add(&in, ROW("c0"), strlen(ROW("c0")));
	sb_printf(&in, "c1,click,%s,%s\n", tx, T0);
	evc_store *s = tu_mem_store();
	run r;
	run_ingest(s, in.p, in.len, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 2, 2, 0, 1);
	ck_assert_uint_eq(r.reps.n, 1);
	ck_assert_uint_eq(r.reps.v[0].line, 2);
	ck_assert_int_eq(r.reps.v[0].warning, 1);
	ck_assert_str_ne(r.reps.v[0].reason, "");
	sbuf want = {0};
	sb_printf(&want, "c1,click,%s,%s", tx, T0);
	ck_assert_str_eq(r.reps.v[0].text, want.p);
	free(want.p);
	ck_assert_uint_eq(day_count(s, "c1"), 1);
	tu_reports_free(&r.reps);
	free(in.p);
	evc_close(s);
}
END_TEST

START_TEST(uuid_forms_accepted)
{
	static const char *const ok[] = {
	    TU_UUID,
	    "FFDC83BE-B2B3-4D8C-8712-B9AA418F2791",
	    "123e4567-e89b-12d3-a456-426614174000",
	    "00000000-0000-0000-0000-000000000000",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(evc__is_uuid(ok[i], strlen(ok[i])), "%s", ok[i]);
	/* Length is respected. */
	ck_assert(evc__is_uuid(TU_UUID "xyz", 36));
	ck_assert(!evc__is_uuid(TU_UUID, 35));
}
END_TEST

START_TEST(warnings_and_rejects_stats)
{
	evc_store *s = tu_mem_store();
	const char *in = HEADER "\n" ROW("a")
	    ROW("b") "a,click,test1," T0 "\n"
	             "\n"
	             ",click," TU_UUID "," T0 "\n"
	             "a,click," TU_UUID
	             ",nope\n" ROW("a") "b,view,Wed Mar  3 12:39:35 PST "
	                                "2021,2021-03-01 01:54:37+00\n"
	                                "b,click\n" ROW("c");
	run r;
	run_str(s, in, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 9, 6, 3, 2);
	ck_assert_uint_eq(r.st.bytes, strlen(in));
	ck_assert_uint_eq(r.reps.n, 5);
	static const uint64_t lines[] = {5, 7, 8, 10, 11};
	static const int warns[] = {1, 0, 0, 1, 0};
	for (size_t i = 0; i < 5; i++) {
		ck_assert_uint_eq(r.reps.v[i].line, lines[i]);
		ck_assert_int_eq(r.reps.v[i].warning, warns[i]);
	}
	ck_assert_uint_eq(day_count(s, "a"), 3);
	ck_assert_uint_eq(day_count(s, "b"), 2);
	ck_assert_uint_eq(day_count(s, "c"), 1);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

/* ---- lenient and strict -------------------------------------------------- */

START_TEST(lenient_goes_on)
{
	evc_store *s = tu_mem_store();
	sbuf in = {0};
	for (int i = 0; i < 13; i++) {
		if (i % 4 == 3)
			sb_printf(&in, "c,click,%s,2021-03-01T0%d:61:00Z\n",
			          TU_UUID, i % 10);
		else
			sb_printf(&in, "c,click,%s,2021-03-01T%02d:00:00Z\n",
			          TU_UUID, i);
	}
	run r;
	run_ingest(s, in.p, in.len, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 13, 10, 3, 0);
	ck_assert_uint_eq(r.reps.n, 3);
	ck_assert_uint_eq(r.reps.v[0].line, 4);
	ck_assert_uint_eq(r.reps.v[1].line, 8);
	ck_assert_uint_eq(r.reps.v[2].line, 12);
	ck_assert_uint_eq(day_count(s, "c"), 10);
	tu_reports_free(&r.reps);
	free(in.p);
	evc_close(s);
}
END_TEST

START_TEST(strict_fails_and_counts_nothing)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, ROW("c1") ROW("c2"));
	run r;
	run_str(s,
	        ROW("c1") ROW("c1") ROW("c3") ROW("c1") "c1,click\n" ROW("c1"),
	        EVC_INGEST_STRICT, &r);
	ck_assert_int_eq(r.rc, EVC_EPARSE);
	const char *msg = evc_errmsg(s);
	ck_assert_msg(strstr(msg, r.path) != NULL, "\"%s\" lacks %s", msg,
	              r.path);
	ck_assert_uint_eq(day_count(s, "c1"), 1);
	ck_assert_uint_eq(day_count(s, "c2"), 1);
	ck_assert_uint_eq(day_count(s, "c3"), 0);
	tu_reports_free(&r.reps);
	/* The store is still usable. */
	tu_ingest_ok(s, ROW("c3"));
	ck_assert_uint_eq(day_count(s, "c3"), 1);
	evc_close(s);
}
END_TEST

/* A large input, so the rows before the reject span several batches. */
static void big_input(sbuf *in, int n_rows, const char *tail)
{
	for (int i = 0; i < n_rows; i++) {
		char t[EVC_TIME_BUFSZ];
		ck_assert_int_eq(
		    evc_format_time(day0() + (int64_t)i * 60, t, sizeof(t)),
		    20);
		sb_printf(in, "big%d,click,%s,%s\n", i % 10, TU_UUID, t);
	}
	sb_add(in, tail, strlen(tail));
}

START_TEST(strict_large_input_counts_nothing)
{
	evc_store *s = tu_mem_store();
	sbuf in = {0};
	big_input(&in, 150000, "big1,click," TU_UUID ",garbage\n" ROW("big1"));
	int64_t lo = day0(), hi = day0() + 150000LL * 60;
	run r;
	run_ingest(s, in.p, in.len, EVC_INGEST_STRICT, &r);
	ck_assert_int_eq(r.rc, EVC_EPARSE);
	for (int c = 0; c < 10; c++) {
		char name[16];
		snprintf(name, sizeof(name), "big%d", c);
		ck_assert_uint_eq(tu_total(s, name, lo, hi), 0);
	}
	tu_reports_free(&r.reps);

	/* Lenient: everything but the reject. */
	run_ingest(s, in.p, in.len, 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 150002, 150001, 1, 0);
	ck_assert_uint_eq(tu_total(s, "big0", lo, hi), 15000);
	ck_assert_uint_eq(tu_total(s, "big1", lo, hi), 15001);
	tu_reports_free(&r.reps);
	free(in.p);
	evc_close(s);
}
END_TEST

START_TEST(strict_accepts_warnings)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s, ROW("c1") "c1,click,test1," T0 "\n", EVC_INGEST_STRICT, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 2, 2, 0, 1);
	ck_assert_uint_eq(day_count(s, "c1"), 2);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

/* ---- callbacks ------------------------------------------------------- */

START_TEST(reject_callback_aborts)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, "c1,view," TU_UUID "," T0 "\n");
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	tu_reports reps = {0};
	reps.stop_at = 1;
	opts.on_reject = tu_collect;
	opts.payload = &reps;
	evc_ingest_stats st;
	int rc = tu_ingest_str(s, ROW("c1") ROW("c2") "c1,click\n" ROW("c1"),
	                       &opts, &st);
	ck_assert_int_eq(rc, EVC_EABORTED);
	ck_assert_uint_eq(reps.n, 1);
	ck_assert_str_ne(evc_errmsg(s), "");
	ck_assert_uint_eq(day_count(s, "c1"), 1);
	ck_assert_uint_eq(day_count(s, "c2"), 0);
	tu_reports_free(&reps);
	evc_close(s);
}
END_TEST

START_TEST(warning_callback_aborts)
{
	evc_store *s = tu_mem_store();
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	tu_reports reps = {0};
	reps.stop_at = 1;
	opts.on_reject = tu_collect;
	opts.payload = &reps;
	int rc = tu_ingest_str(s, ROW("c1") "c1,click,test1," T0 "\n" ROW("c1"),
	                       &opts, NULL);
	ck_assert_int_eq(rc, EVC_EABORTED);
	ck_assert_uint_eq(reps.n, 1);
	ck_assert_int_eq(reps.v[0].warning, 1);
	ck_assert_uint_eq(day_count(s, "c1"), 0);
	tu_reports_free(&reps);
	evc_close(s);
}
END_TEST

typedef struct progress_log {
	size_t calls;
	uint64_t last_done;
	uint64_t total;
	uint64_t max_rows;
	int monotonic;
	int stop;
	char source[512];
} progress_log;

static int on_progress(const evc_progress *p, void *payload)
{
	progress_log *log = payload;
	if (log->calls > 0 && p->bytes_done < log->last_done)
		log->monotonic = 0;
	log->calls++;
	log->last_done = p->bytes_done;
	log->total = p->bytes_total;
	log->max_rows = p->rows_read;
	snprintf(log->source, sizeof(log->source), "%s",
	         p->source ? p->source : "(null)");
	return log->stop;
}

START_TEST(progress_reported)
{
	evc_store *s = tu_mem_store();
	sbuf in = {0};
	big_input(&in, 50000, ""); /* about 3.5 MiB */
	const char *path = tu_write_temp(in.p, in.len);
	progress_log log = {0};
	log.monotonic = 1;
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	opts.on_progress = on_progress;
	opts.payload = &log;
	evc_ingest_stats st;
	ck_assert_int_eq(evc_ingest_csv(s, path, &opts, &st), EVC_OK);
	ck_assert_uint_ge(log.calls, 1);
	ck_assert(log.monotonic);
	ck_assert_uint_le(log.last_done, in.len);
	ck_assert_uint_eq(log.total, in.len);
	ck_assert_uint_le(log.max_rows, 50000);
	ck_assert_str_eq(log.source, path);
	ck_assert_uint_eq(st.rows_counted, 50000);
	free(in.p);
	evc_close(s);
}
END_TEST

START_TEST(progress_callback_aborts)
{
	evc_store *s = tu_mem_store();
	sbuf in = {0};
	big_input(&in, 50000, "");
	progress_log log = {0};
	log.stop = 1;
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	opts.on_progress = on_progress;
	opts.payload = &log;
	int rc = tu_ingest_mem(s, in.p, in.len, &opts, NULL);
	ck_assert_int_eq(rc, EVC_EABORTED);
	ck_assert_uint_eq(log.calls, 1);
	for (int c = 0; c < 10; c++) {
		char name[16];
		snprintf(name, sizeof(name), "big%d", c);
		ck_assert_uint_eq(
		    tu_total(s, name, day0(), day0() + 50000LL * 60), 0);
	}
	free(in.p);
	evc_close(s);
}
END_TEST

/* ---- inputs --------------------------------------------------------- */

START_TEST(missing_file)
{
	evc_store *s = tu_mem_store();
	const char *path = tu_temp_path();
	evc_ingest_stats st;
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, &st), EVC_ENOTFOUND);
	const char *msg = evc_errmsg(s);
	ck_assert_msg(strstr(msg, path) != NULL, "\"%s\" lacks %s", msg, path);
	evc_close(s);
}
END_TEST

START_TEST(directory_is_io_error)
{
	evc_store *s = tu_mem_store();
	const char *dir = tu_temp_dir();
	ck_assert_int_eq(evc_ingest_csv(s, dir, NULL, NULL), EVC_EIO);
	ck_assert_str_ne(evc_errmsg(s), "");
	evc_close(s);
}
END_TEST

START_TEST(crlf_counts_like_lf)
{
	static const char *const rows[] = {
	    "a,click," TU_UUID ",2021-03-01T00:10:00Z",
	    "b,click," TU_UUID ",2021-03-01T01:10:00Z",
	    "\"a\",click," TU_UUID ",2021-03-01T01:59:59Z",
	    "a,click,test1,2021-03-01 05:00:00+01",
	    "a,click,x,bad",
	};
	sbuf lf = {0}, crlf = {0};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sb_printf(&lf, "%s\n", rows[i]);
		sb_printf(&crlf, "%s\r\n", rows[i]);
	}
	evc_store *s1 = tu_mem_store(), *s2 = tu_mem_store();
	run r1, r2;
	run_ingest(s1, lf.p, lf.len, 0, &r1);
	run_ingest(s2, crlf.p, crlf.len, 0, &r2);
	ck_assert_int_eq(r1.rc, EVC_OK);
	ck_assert_int_eq(r2.rc, EVC_OK);
	assert_stats(&r1, 5, 4, 1, 1);
	assert_stats(&r2, 5, 4, 1, 1);
	ck_assert_uint_eq(r2.st.bytes, crlf.len);
	ck_assert_uint_eq(r1.reps.n, r2.reps.n);
	for (size_t i = 0; i < r1.reps.n; i++) {
		ck_assert_uint_eq(r1.reps.v[i].line, r2.reps.v[i].line);
		ck_assert_str_eq(r1.reps.v[i].text, r2.reps.v[i].text);
	}
	static const char *const custs[] = {"a", "b"};
	for (size_t c = 0; c < 2; c++) {
		evc_hourly_result *h1 =
		    tu_hourly(s1, custs[c], day0(), day0() + 86400);
		evc_hourly_result *h2 =
		    tu_hourly(s2, custs[c], day0(), day0() + 86400);
		ck_assert_uint_eq(h1->n_buckets, 24);
		ck_assert_uint_eq(h2->n_buckets, 24);
		for (size_t i = 0; i < 24; i++)
			ck_assert_uint_eq(h1->buckets[i].count,
			                  h2->buckets[i].count);
		evc_hourly_free(h1);
		evc_hourly_free(h2);
	}
	ck_assert_uint_eq(tu_bucket(s2, "a", day0(), day0() + 86400, 1).count,
	                  1);
	ck_assert_uint_eq(tu_bucket(s2, "a", day0(), day0() + 86400, 4).count,
	                  1);
	tu_reports_free(&r1.reps);
	tu_reports_free(&r2.reps);
	free(lf.p);
	free(crlf.p);
	evc_close(s1);
	evc_close(s2);
}
END_TEST

START_TEST(bom_file)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s, "\xEF\xBB\xBF" ROW("c1") ROW("c2"), 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 2, 2, 0, 0);
	ck_assert_uint_eq(day_count(s, "c1"), 1);
	ck_assert_uint_eq(day_count(s, "\xEF\xBB\xBF"
	                               "c1"),
	                  0);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

START_TEST(counts_add_across_ingests)
{
	evc_store *s = tu_mem_store();
	tu_ingest_ok(s, ROW("c1") ROW("c2") "c1,click," TU_UUID
	                                    ",2021-03-01T03:00:00Z\n");
	tu_ingest_ok(s, "c1,click," TU_UUID ",2021-03-01T02:15:30Z\n"
	                "c1,click," TU_UUID ",2021-03-01T02:45:00Z\n"
	                "c3,click," TU_UUID ",2021-03-01T02:15:00Z\n");
	int64_t a = ts("2021-03-01T02:00:00Z");
	ck_assert_uint_eq(tu_bucket(s, "c1", a, a + 7200, 0).count, 3);
	ck_assert_uint_eq(tu_bucket(s, "c1", a, a + 7200, 1).count, 1);
	ck_assert_uint_eq(tu_total(s, "c1", ts("2021-03-01T02:15:00Z"),
	                           ts("2021-03-01T02:16:00Z")),
	                  2);
	ck_assert_uint_eq(day_count(s, "c2"), 1);
	ck_assert_uint_eq(day_count(s, "c3"), 1);
	evc_close(s);
}
END_TEST

START_TEST(ingest_from_pipe)
{
	evc_store *s = tu_mem_store();
	const char *in = HEADER ROW("p1") ROW("p1") "p1,click,x,bad\n";
	tu_reports reps = {0};
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	opts.on_reject = tu_collect;
	opts.payload = &reps;
	evc_ingest_stats st;
	int rc = tu_ingest_pipe(s, in, strlen(in), "<stdin>", &opts, &st);
	ck_assert_int_eq(rc, EVC_OK);
	ck_assert_uint_eq(st.rows_read, 3);
	ck_assert_uint_eq(st.rows_counted, 2);
	ck_assert_uint_eq(st.rows_rejected, 1);
	ck_assert_uint_eq(st.bytes, strlen(in));
	ck_assert_uint_eq(reps.n, 1);
	ck_assert_str_eq(reps.v[0].source, "<stdin>");
	ck_assert_uint_eq(reps.v[0].line, 4);
	ck_assert_uint_eq(day_count(s, "p1"), 2);
	tu_reports_free(&reps);
	evc_close(s);
}
END_TEST

START_TEST(ingest_fd_not_closed)
{
	evc_store *s = tu_mem_store();
	const char *in = ROW("f1") ROW("f2");
	int fd = tu_open_temp(in, strlen(in));
	evc_ingest_stats st;
	ck_assert_int_eq(evc_ingest_fd(s, fd, "file", NULL, &st), EVC_OK);
	ck_assert_uint_eq(st.rows_counted, 2);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_uint_eq(day_count(s, "f1"), 1);
	evc_close(s);
}
END_TEST

START_TEST(empty_input)
{
	evc_store *s = tu_mem_store();
	run r;
	run_str(s, "", 0, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 0, 0, 0, 0);
	ck_assert_uint_eq(r.st.bytes, 0);
	tu_reports_free(&r.reps);
	run_str(s, HEADER, EVC_INGEST_STRICT, &r);
	ck_assert_int_eq(r.rc, EVC_OK);
	assert_stats(&r, 0, 0, 0, 0);
	tu_reports_free(&r.reps);
	evc_close(s);
}
END_TEST

/* ---- exactly once ------------------------------------------------------- */

static void append_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(same_file_twice_counts_once)
{
	evc_store *s = tu_mem_store();
	const char *in = HEADER ROW("c1") ROW("c1") "c1,click,x,bad\n";
	const char *path = tu_write_temp_str(in);
	evc_ingest_stats st;
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_NEW);
	ck_assert_uint_eq(st.rows_counted, 2);
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_UNCHANGED);
	ck_assert_uint_eq(st.rows_counted, 0);
	ck_assert_uint_eq(st.rows_rejected, 0);
	ck_assert_uint_eq(day_count(s, "c1"), 2);
	/* A copy under another path is the same source. */
	const char *copy = tu_write_temp_str(in);
	ck_assert_int_eq(evc_ingest_csv(s, copy, NULL, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_UNCHANGED);
	ck_assert_uint_eq(st.rows_counted, 0);
	ck_assert_uint_eq(day_count(s, "c1"), 2);
	evc_close(s);
}
END_TEST

START_TEST(appended_rows_counted_once)
{
	evc_store *s = tu_mem_store();
	const char *first = ROW("c1") ROW("c2");
	const char *path = tu_write_temp_str(first);
	evc_ingest_stats st;
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, &st), EVC_OK);
	append_file(path, ROW("c1") "c1,click,x,bad\n" ROW("c3"));
	tu_reports reps = {0};
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	opts.on_reject = tu_collect;
	opts.payload = &reps;
	ck_assert_int_eq(evc_ingest_csv(s, path, &opts, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_RESUMED);
	ck_assert_uint_eq(st.bytes_skipped, strlen(first));
	ck_assert_uint_eq(st.rows_counted, 2);
	ck_assert_uint_eq(st.rows_rejected, 1);
	/* Line numbers continue from the skipped part. */
	ck_assert_uint_eq(reps.n, 1);
	ck_assert_uint_eq(reps.v[0].line, 4);
	ck_assert_int_eq(reps.v[0].warning, 0);
	tu_reports_free(&reps);
	ck_assert_uint_eq(day_count(s, "c1"), 2);
	ck_assert_uint_eq(day_count(s, "c2"), 1);
	ck_assert_uint_eq(day_count(s, "c3"), 1);
	evc_close(s);
}
END_TEST

START_TEST(changed_file_refused)
{
	evc_store *s = tu_mem_store();
	const char *path = tu_write_temp_str(ROW("c1") ROW("c2"));
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, NULL), EVC_OK);
	/* Rewrite the same file (same inode) with other content. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	const char *other = ROW("c9") ROW("c2") ROW("c2");
	ck_assert_int_eq(write(fd, other, strlen(other)),
	                 (ssize_t)strlen(other));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(evc_ingest_csv(s, path, NULL, NULL), EVC_ECHANGED);
	ck_assert_str_ne(evc_errmsg(s), "");
	ck_assert_uint_eq(day_count(s, "c1"), 1);
	ck_assert_uint_eq(day_count(s, "c2"), 1);
	ck_assert_uint_eq(day_count(s, "c9"), 0);
	/* FORCE ingests it anew. */
	evc_ingest_options opts = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st;
	opts.flags = EVC_INGEST_FORCE;
	ck_assert_int_eq(evc_ingest_csv(s, path, &opts, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_FORCED);
	ck_assert_uint_eq(st.rows_counted, 3);
	ck_assert_uint_eq(day_count(s, "c2"), 3);
	ck_assert_uint_eq(day_count(s, "c9"), 1);
	evc_close(s);
}
END_TEST

START_TEST(stream_counted_per_call)
{
	evc_store *s = tu_mem_store();
	const char *in = ROW("p1") ROW("p2");
	evc_ingest_stats st;
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(
		    tu_ingest_pipe(s, in, strlen(in), "<stdin>", NULL, &st),
		    EVC_OK);
		ck_assert_int_eq(st.source, EVC_SOURCE_STREAM);
		ck_assert_uint_eq(st.rows_counted, 2);
	}
	ck_assert_uint_eq(day_count(s, "p1"), 2);
	evc_close(s);
}
END_TEST

static Suite *ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc;

	tc = tcase_create("accepted_rows");
	tcase_add_test(tc, rows_counted);
	tcase_add_test(tc, header_skipped);
	tcase_add_test(tc, other_first_line_is_a_row);
	tcase_add_test(tc, header_after_line_1_is_a_row_however_it_arrives);
	tcase_add_test(tc, quoted_customer_ids_unescaped);
	tcase_add_test(tc, utf8_customer_ids_accepted);
	tcase_add_test(tc, customer_id_length_limit);
	tcase_add_test(tc, out_of_order_and_duplicates_counted);
	tcase_add_test(tc, same_minute_one_key);
	tcase_add_test(tc, empty_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejected_rows");
	tcase_add_loop_test(tc, bad_row_rejected, 0,
	                    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, unterminated_quote_rejected);
	tcase_add_test(tc, reject_line_numbers_after_multiline_record);
	tcase_add_test(tc, oversized_row_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_add_loop_test(tc, non_uuid_transaction_warned, 0,
	                    (int)(sizeof(not_uuids) / sizeof(not_uuids[0])));
	tcase_add_test(tc, uuid_forms_accepted);
	tcase_add_test(tc, warnings_and_rejects_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("modes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lenient_goes_on);
	tcase_add_test(tc, strict_fails_and_counts_nothing);
	tcase_add_test(tc, strict_large_input_counts_nothing);
	tcase_add_test(tc, strict_accepts_warnings);
	suite_add_tcase(s, tc);

	tc = tcase_create("callbacks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, reject_callback_aborts);
	tcase_add_test(tc, warning_callback_aborts);
	tcase_add_test(tc, progress_reported);
	tcase_add_test(tc, progress_callback_aborts);
	suite_add_tcase(s, tc);

	tc = tcase_create("inputs");
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, directory_is_io_error);
	tcase_add_test(tc, crlf_counts_like_lf);
	tcase_add_test(tc, bom_file);
	tcase_add_test(tc, counts_add_across_ingests);
	tcase_add_test(tc, ingest_from_pipe);
	tcase_add_test(tc, ingest_fd_not_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("exactly_once");
	tcase_add_test(tc, same_file_twice_counts_once);
	tcase_add_test(tc, appended_rows_counted_once);
	tcase_add_test(tc, changed_file_refused);
	tcase_add_test(tc, stream_counted_per_call);
	suite_add_tcase(s, tc);

	return s;
}

TU_SUITE(ingest_suite)
