/* SPDX-License-Identifier: MIT */
/*
 * Tracked streams (evc_ingest_stream(), evc_stream_offset()): pieces of a
 * named stream count exactly once whatever their order of arrival, retries
 * and overlaps count nothing twice, gaps are refused with the offset to
 * send from, and a line cut by the end of a piece waits for the next.
 */
#include "source.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROW(c, t) c ",click," TU_UUID "," t "\n"

/* Six rows of which one is rejected: c1 four times, c2 once. */
static const char stream[] =
    "customer_id,event_type,transaction_id,timestamp\n" ROW(
        "c1", "2021-03-01T10:00:00Z") ROW("c1", "2021-03-01T10:01:00Z")
        ROW("c2", "2021-03-01T10:02:00Z") "c3,click," TU_UUID
                                          ",not-a-time\n" ROW(
                                              "c1", "2021-03-01T10:03:00Z")
                                              ROW("c1", "2021-03-01T11:00:00Z");

/* Send stream[from, to) as the piece at offset `from`. */
static int post(evc_store *s, const char *name, size_t from, size_t to,
                evc_ingest_stats *st, uint64_t *committed)
{
	const int fd = tu_open_temp(stream + from, to - from);
	const int rc =
	    evc_ingest_stream(s, name, from, fd, NULL, st, committed);
	close(fd);
	return rc;
}

static uint64_t c1_total(evc_store *s)
{
	return tu_total(s, "c1", ts("2021-03-01"), ts("2021-03-02"));
}

/* The offset of the start of line n (1-based) of `stream`. */
static size_t line_start(unsigned n)
{
	size_t off = 0;
	for (unsigned i = 1; i < n; i++)
		off = (size_t)(strchr(stream + off, '\n') - stream) + 1;
	return off;
}

START_TEST(pieces_in_order_count_once)
{
	evc_store *s = tu_mem_store();
	evc_ingest_stats st;
	uint64_t at = 99;
	const size_t cut = line_start(4), n = strlen(stream);

	ck_assert_int_eq(evc_stream_offset(s, "web", &at), EVC_OK);
	ck_assert_uint_eq(at, 0);
	ck_assert_int_eq(post(s, "web", 0, cut, &st, &at), EVC_OK);
	ck_assert_uint_eq(at, cut);
	ck_assert_uint_eq(st.rows_counted, 2);
	ck_assert_int_eq(st.source, EVC_SOURCE_NEW);
	ck_assert_int_eq(post(s, "web", cut, n, &st, &at), EVC_OK);
	ck_assert_uint_eq(at, n);
	ck_assert_uint_eq(st.rows_counted, 3);
	ck_assert_uint_eq(st.rows_rejected, 1);
	ck_assert_int_eq(st.source, EVC_SOURCE_RESUMED);
	ck_assert_uint_eq(c1_total(s), 4);
	ck_assert_int_eq(evc_stream_offset(s, "web", &at), EVC_OK);
	ck_assert_uint_eq(at, n);
	evc_close(s);
}
END_TEST

START_TEST(a_retry_at_the_same_offset_counts_nothing)
{
	evc_store *s = tu_mem_store();
	evc_ingest_stats st;
	uint64_t at;
	const size_t n = strlen(stream);

	ck_assert_int_eq(post(s, "web", 0, n, &st, &at), EVC_OK);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(post(s, "web", 0, n, &st, &at), EVC_OK);
		ck_assert_uint_eq(at, n);
		ck_assert_uint_eq(st.rows_counted, 0);
		ck_assert_uint_eq(st.bytes_skipped, n);
		ck_assert_int_eq(st.source, EVC_SOURCE_UNCHANGED);
	}
	ck_assert_uint_eq(c1_total(s), 4);
	evc_close(s);
}
END_TEST

START_TEST(an_overlap_counts_only_the_new_bytes)
{
	evc_store *s = tu_mem_store();
	evc_ingest_stats st;
	uint64_t at;
	const size_t a = line_start(3), b = line_start(6), n = strlen(stream);

	ck_assert_int_eq(post(s, "web", 0, b, &st, &at), EVC_OK);
	/* From an earlier offset, through and past the committed one. */
	ck_assert_int_eq(post(s, "web", a, n, &st, &at), EVC_OK);
	ck_assert_uint_eq(st.bytes_skipped, b - a);
	ck_assert_uint_eq(st.rows_counted, 2);
	ck_assert_uint_eq(at, n);
	ck_assert_uint_eq(c1_total(s), 4);
	evc_close(s);
}
END_TEST

START_TEST(a_gap_is_refused_naming_the_offset_to_send_from)
{
	evc_store *s = tu_mem_store();
	evc_ingest_stats st;
	uint64_t at;
	const size_t a = line_start(3), b = line_start(5);
	char want[64];

	ck_assert_int_eq(post(s, "web", 0, a, &st, &at), EVC_OK);
	at = 12345;
	ck_assert_int_eq(post(s, "web", b, strlen(stream), &st, &at),
	                 EVC_EOFFSET);
	ck_assert_uint_eq(at, a);
	snprintf(want, sizeof(want), "send from offset %zu", a);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), want));
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "stream web"));
	ck_assert_uint_eq(c1_total(s), 1);
	/* The first piece of a stream starts at 0. */
	ck_assert_int_eq(post(s, "other", a, b, &st, &at), EVC_EOFFSET);
	ck_assert_uint_eq(at, 0);
	evc_close(s);
}
END_TEST

START_TEST(a_line_cut_by_the_end_of_a_piece_waits_for_the_next)
{
	evc_store *s = tu_mem_store();
	evc_ingest_stats st;
	uint64_t at;
	const size_t line3 = line_start(3), cut = line3 + 10;

	ck_assert_int_eq(post(s, "web", 0, cut, &st, &at), EVC_OK);
	ck_assert_uint_eq(at, line3);
	ck_assert_uint_eq(st.rows_held, 1);
	ck_assert_uint_eq(st.rows_counted, 1);
	/* The next piece sends the line again, whole. */
	ck_assert_int_eq(post(s, "web", at, strlen(stream), &st, &at), EVC_OK);
	ck_assert_uint_eq(c1_total(s), 4);
	ck_assert_uint_eq(tu_total(s, "c2", ts("2021-03-01"), ts("2021-03-02")),
	                  1);
	evc_close(s);
}
END_TEST

/* A header line is line 1 of the stream only; rejects are numbered by the
 * stream's lines, whatever the piece. */
START_TEST(lines_are_the_streams)
{
	evc_store *s = tu_mem_store();
	tu_reports r = {0};
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st;
	uint64_t at;
	const size_t from = line_start(4);

	o.on_reject = tu_collect;
	o.payload = &r;
	ck_assert_int_eq(post(s, "web", 0, from, &st, &at), EVC_OK);
	ck_assert_uint_eq(st.rows_rejected, 0);
	const int fd = tu_open_temp(stream + from, strlen(stream) - from);
	ck_assert_int_eq(evc_ingest_stream(s, "web", from, fd, &o, &st, &at),
	                 EVC_OK);
	close(fd);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.v[0].line, 5);
	ck_assert_str_eq(r.v[0].source, "web");
	tu_reports_free(&r);
	/* A header past line 1 is a row, rejected. */
	static const char hdr[] =
	    "customer_id,event_type,transaction_id,timestamp\n";
	const int fd2 = tu_open_temp(hdr, strlen(hdr));
	ck_assert_int_eq(evc_ingest_stream(s, "web", at, fd2, NULL, &st, &at),
	                 EVC_OK);
	close(fd2);
	ck_assert_uint_eq(st.rows_rejected, 1);
	evc_close(s);
}
END_TEST

START_TEST(strict_counts_nothing_of_a_piece_with_a_bad_row)
{
	evc_store *s = tu_mem_store();
	evc_ingest_options o = EVC_INGEST_OPTIONS_INIT;
	evc_ingest_stats st;
	uint64_t at;

	o.flags = EVC_INGEST_STRICT;
	const int fd = tu_open_temp(stream, strlen(stream));
	ck_assert_int_eq(evc_ingest_stream(s, "web", 0, fd, &o, &st, &at),
	                 EVC_EPARSE);
	close(fd);
	ck_assert_uint_eq(at, 0);
	ck_assert_uint_eq(c1_total(s), 0);
	ck_assert_int_eq(evc_stream_offset(s, "web", &at), EVC_OK);
	ck_assert_uint_eq(at, 0);
	evc_close(s);
}
END_TEST

static int list_source(const evc_source_info *i, void *payload)
{
	evc_source_info *last = payload;
	*last = *i;
	last->path = last->realpath = NULL;
	return 0;
}

/* Streams are sources to list, but never what a file resumes from; and
 * streams of other names are other streams. */
START_TEST(streams_are_listed_apart_from_files)
{
	evc_store *s = tu_mem_store();
	evc_ingest_stats st;
	evc_source_info last;
	uint64_t at;
	const size_t n = strlen(stream);

	ck_assert_int_eq(post(s, "web", 0, n, &st, &at), EVC_OK);
	ck_assert_int_eq(evc_sources(s, list_source, &last), EVC_OK);
	ck_assert_int_eq(last.stream, 1);
	ck_assert_uint_eq(last.offset, n);
	ck_assert_uint_eq(last.rows_counted, 5);
	ck_assert_uint_eq(last.rows_rejected, 1);
	ck_assert_int_eq(last.retracted, 0);
	/* The same bytes as a file: a file of its own, counted again. */
	ck_assert_int_eq(tu_ingest_str(s, stream, NULL, &st), EVC_OK);
	ck_assert_int_eq(st.source, EVC_SOURCE_NEW);
	ck_assert_uint_eq(c1_total(s), 8);
	ck_assert_int_eq(post(s, "mobile", 0, n, &st, &at), EVC_OK);
	ck_assert_uint_eq(c1_total(s), 12);
	evc_store_summary sum;
	ck_assert_int_eq(evc_store_info(s, &sum), EVC_OK);
	ck_assert_uint_eq(sum.sources, 3);
	evc_close(s);
}
END_TEST

START_TEST(bad_names_and_arguments_are_refused)
{
	evc_store *s = tu_mem_store();
	uint64_t at;
	char long_name[EVC_STREAM_NAME_MAX + 2];
	const int fd = tu_open_temp(stream, strlen(stream));

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const char *bad[] = {"", long_name, "a\nb", "\xff",
	                     "a\xe2\x80\xae"
	                     "b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(
		    evc_ingest_stream(s, bad[i], 0, fd, NULL, NULL, &at),
		    EVC_EINVAL);
		ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "stream name"));
		ck_assert_int_eq(evc_stream_offset(s, bad[i], &at), EVC_EINVAL);
	}
	ck_assert_int_eq(evc_ingest_stream(s, NULL, 0, fd, NULL, NULL, &at),
	                 EVC_EINVAL);
	ck_assert_int_eq(evc_ingest_stream(s, "web", 0, -1, NULL, NULL, &at),
	                 EVC_EINVAL);
	ck_assert_int_eq(evc_ingest_stream(NULL, "web", 0, fd, NULL, NULL, &at),
	                 EVC_EINVAL);
	close(fd);
	evc_close(s);
	/* Read-only stores take no stream. */
	const char *path = tu_temp_path();
	s = tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_close(s);
	s = tu_open_store(path, EVC_OPEN_READONLY);
	const int fd2 = tu_open_temp(stream, strlen(stream));
	ck_assert_int_eq(evc_ingest_stream(s, "web", 0, fd2, NULL, NULL, &at),
	                 EVC_EREADONLY);
	close(fd2);
	evc_close(s);
}
END_TEST

/* Another ingest of the stream committed between two checkpoints of this
 * one: the next checkpoint refuses rather than count those bytes twice. */
START_TEST(a_stream_moved_meanwhile_is_busy)
{
	evc_store *s = tu_mem_store();
	evc_stream_claim claim;
	evc_ingest_stats st;
	uint64_t at;
	const size_t a = line_start(3), n = strlen(stream);

	ck_assert_int_eq(post(s, "web", 0, a, &st, &at), EVC_OK);
	ck_assert_int_eq(s->be->begin_write(s->db, 1, &s->err), EVC_OK);
	ck_assert_int_eq(evc__stream_claim(s, "web", &claim), EVC_OK);
	ck_assert_uint_eq(claim.row.offset, a);
	ck_assert_int_eq(s->be->commit(s->db, &s->err), EVC_OK);
	/* Meanwhile, another ingest. */
	ck_assert_int_eq(post(s, "web", a, n, &st, &at), EVC_OK);
	ck_assert_int_eq(s->be->begin_write(s->db, 1, &s->err), EVC_OK);
	const evc_ckpt ck = {.offset = n, .next_line = 8};
	evc_error err = {0};
	ck_assert_int_eq(
	    evc__stream_checkpoint(s->be, s->db, &claim, &ck, &err), EVC_EBUSY);
	ck_assert_ptr_nonnull(strstr(err.msg, "send again from offset"));
	s->be->rollback(s->db);
	ck_assert_uint_eq(c1_total(s), 4);
	evc_close(s);
}
END_TEST

static Suite *streams_suite(void)
{
	Suite *s = suite_create("streams");
	TCase *tc = tcase_create("exactly_once");
	tcase_add_test(tc, pieces_in_order_count_once);
	tcase_add_test(tc, a_retry_at_the_same_offset_counts_nothing);
	tcase_add_test(tc, an_overlap_counts_only_the_new_bytes);
	tcase_add_test(tc, a_gap_is_refused_naming_the_offset_to_send_from);
	tcase_add_test(tc, a_line_cut_by_the_end_of_a_piece_waits_for_the_next);
	tcase_add_test(tc, a_stream_moved_meanwhile_is_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_add_test(tc, lines_are_the_streams);
	tcase_add_test(tc, strict_counts_nothing_of_a_piece_with_a_bad_row);
	tcase_add_test(tc, streams_are_listed_apart_from_files);
	tcase_add_test(tc, bad_names_and_arguments_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(streams_suite)
