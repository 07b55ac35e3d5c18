/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once bookkeeping (source.c), driven step by step: two ingests of
 * one content under two names on two handles of one store, their claims
 * and checkpoints interleaved as two processes' transactions would be. The
 * one that would count bytes the other committed meanwhile must stop with
 * EVC_EBUSY; an ingest of other content with the same first bytes must
 * not.
 */
#include "source.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lines of about 60 bytes: the first 4 KiB (the head fingerprint) and a
 * few checkpoints fit well inside. */
#define N_LINES 400

static char *make_lines(const char *tag, size_t from, size_t n, size_t *len)
{
	size_t cap = n * 100, k = 0;
	char *s = malloc(cap);
	ck_assert_ptr_nonnull(s);
	for (size_t i = from; i < from + n; i++)
		k += (size_t)snprintf(s + k, cap - k,
		                      "%s%03zu,click," TU_UUID
		                      ",2021-03-01T%02zu:%02zu:00Z\n",
		                      tag, i % 7, (i / 60) % 24, i % 60);
	*len = k;
	return s;
}

/* The offset of the start of line `line` (1-based) of s. */
static uint64_t line_offset(const char *s, size_t line)
{
	const char *p = s;
	for (size_t i = 1; i < line; i++)
		p = strchr(p, '\n') + 1;
	return (uint64_t)(p - s);
}

struct ingest {
	evc_store *store;
	evc_input in;
	evc_claim claim;
	evc_ingest_stats stats;
	const char *content;
};

static uint64_t prefix_hash(const char *s, uint64_t len)
{
	evc_hash h;
	evc__hash_init(&h);
	evc__hash_update(&h, s, (size_t)len);
	return evc__hash_final(&h);
}

/* Open `path` and claim it in a new write transaction, as an ingest's
 * first transaction does. */
static void claim(struct ingest *g, evc_store *store, const char *path,
                  const char *content)
{
	memset(g, 0, sizeof(*g));
	g->store = store;
	g->content = content;
	ck_assert_int_eq(evc__input_open(&g->in, path, &store->err), EVC_OK);
	ck_assert_int_eq(store->be->begin_write(store->db,
	                                        evc__input_head_hash(&g->in),
	                                        &store->err),
	                 EVC_OK);
	ck_assert_int_eq(
	    evc__source_claim(store, &g->in, false, &g->claim, &g->stats),
	    EVC_OK);
}

/* A checkpoint at the start of line `line`, in the open transaction; on
 * success it is committed and the next transaction begun, as the writer
 * does. Returns the checkpoint's status. */
static int checkpoint(struct ingest *g, size_t line)
{
	evc_store *s = g->store;
	evc_ckpt ck = {0};
	evc_error err = {0};

	ck.offset = line_offset(g->content, line);
	ck.prefix_hash = prefix_hash(g->content, ck.offset);
	ck.next_line = line;
	int rc =
	    evc__source_checkpoint(s->be, s->db, &g->claim, &ck, "input", &err);
	if (rc != EVC_OK) {
		s->be->rollback(s->db);
		ck_assert_int_eq(err.code, rc);
		strcpy(s->err.msg, err.msg);
		return rc;
	}
	ck_assert_int_eq(s->be->commit(s->db, &s->err), EVC_OK);
	ck_assert_int_eq(s->be->begin_write(s->db, g->claim.key, &s->err),
	                 EVC_OK);
	return EVC_OK;
}

static void finish(struct ingest *g)
{
	g->store->be->rollback(g->store->db);
	evc__claim_free(&g->claim);
	evc__input_close(&g->in);
}

/* Two names of one content: a hard link, or a copy. */
static void two_names(const char *content, size_t len, bool link_it,
                      const char **a, const char **b)
{
	*a = tu_write_temp(content, len);
	if (link_it) {
		*b = tu_temp_path();
		ck_assert_int_eq(link(*a, *b), 0);
	} else {
		*b = tu_write_temp(content, len);
	}
}

/* A commits lines 1-99 of F; B, on another name of F, resumes there and
 * commits lines 100-199; A's next checkpoint would count them again. */
START_TEST(second_name_ahead_stops_the_first)
{
	size_t len;
	char *content = make_lines("c", 0, N_LINES, &len);
	const char *fa, *fb;
	two_names(content, len, _i == 0, &fa, &fb);
	const char *db = tu_temp_path();
	evc_store *sa = tu_open_store(db, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_store *sb = tu_open_store(db, EVC_OPEN_READWRITE);
	struct ingest a, b;

	claim(&a, sa, fa, content);
	ck_assert_int_eq(a.stats.source, EVC_SOURCE_NEW);
	ck_assert_int_eq(checkpoint(&a, 100), EVC_OK);
	/* B can only start between A's transactions (the write lock). */
	sa->be->rollback(sa->db);
	claim(&b, sb, fb, content);
	ck_assert_int_eq(b.stats.source, EVC_SOURCE_RESUMED);
	ck_assert_uint_eq(b.stats.bytes_skipped, line_offset(content, 100));
	ck_assert_int_eq(checkpoint(&b, 200), EVC_OK);
	sb->be->rollback(sb->db);
	/* A resumes its transactions: its next checkpoint is refused. */
	ck_assert_int_eq(sa->be->begin_write(sa->db, a.claim.key, &sa->err),
	                 EVC_OK);
	ck_assert_int_eq(checkpoint(&a, 250), EVC_EBUSY);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(sa), "same content"));
	ck_assert_ptr_nonnull(strstr(evc_errmsg(sa), fb));
	/* B goes on to the end. */
	ck_assert_int_eq(sb->be->begin_write(sb->db, b.claim.key, &sb->err),
	                 EVC_OK);
	ck_assert_int_eq(checkpoint(&b, N_LINES + 1), EVC_OK);
	finish(&a);
	finish(&b);
	evc_close(sa);
	evc_close(sb);
	free(content);
}
END_TEST

/* A's checkpoint falls short of what B committed, but still counts bytes
 * B counted: refused too. */
START_TEST(checkpoint_short_of_the_other_refused)
{
	size_t len;
	char *content = make_lines("c", 0, N_LINES, &len);
	const char *fa, *fb;
	two_names(content, len, _i == 0, &fa, &fb);
	const char *db = tu_temp_path();
	evc_store *sa = tu_open_store(db, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_store *sb = tu_open_store(db, EVC_OPEN_READWRITE);
	struct ingest a, b;

	claim(&a, sa, fa, content);
	ck_assert_int_eq(checkpoint(&a, 50), EVC_OK);
	sa->be->rollback(sa->db);
	claim(&b, sb, fb, content); /* resumes at line 50 */
	ck_assert_int_eq(checkpoint(&b, 300), EVC_OK);
	sb->be->rollback(sb->db);
	ck_assert_int_eq(sa->be->begin_write(sa->db, a.claim.key, &sa->err),
	                 EVC_OK);
	ck_assert_int_eq(checkpoint(&a, 120), EVC_EBUSY);
	finish(&a);
	finish(&b);
	evc_close(sa);
	evc_close(sb);
	free(content);
}
END_TEST

/* Other content whose first 4 KiB are the same: G's ingest moving ahead is
 * no reason to stop F's. */
START_TEST(same_head_other_content_goes_on)
{
	size_t len_common, len_f, len_g;
	char *common = make_lines("c", 0, 120, &len_common);
	char *tail_f = make_lines("f", 120, 200, &len_f);
	char *tail_g = make_lines("g", 120, 200, &len_g);
	ck_assert_uint_gt(len_common, EVC_HEAD_BYTES);
	char *f = malloc(len_common + len_f + 1);
	char *g = malloc(len_common + len_g + 1);
	memcpy(f, common, len_common);
	memcpy(f + len_common, tail_f, len_f + 1);
	memcpy(g, common, len_common);
	memcpy(g + len_common, tail_g, len_g + 1);
	const char *pf = tu_write_temp(f, len_common + len_f);
	const char *pg = tu_write_temp(g, len_common + len_g);
	const char *db = tu_temp_path();
	evc_store *sa = tu_open_store(db, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	evc_store *sb = tu_open_store(db, EVC_OPEN_READWRITE);
	struct ingest a, b;

	/* F past the common part: G shares F's head but not its prefix. */
	claim(&a, sa, pf, f);
	ck_assert_int_eq(checkpoint(&a, 150), EVC_OK);
	sa->be->rollback(sa->db);
	claim(&b, sb, pg, g);
	ck_assert_int_eq(b.stats.source, EVC_SOURCE_NEW);
	ck_assert_int_eq(checkpoint(&b, 250), EVC_OK);
	sb->be->rollback(sb->db);
	ck_assert_int_eq(sa->be->begin_write(sa->db, a.claim.key, &sa->err),
	                 EVC_OK);
	ck_assert_int_eq(checkpoint(&a, 300), EVC_OK);
	finish(&a);
	finish(&b);
	evc_close(sa);
	evc_close(sb);
	free(common);
	free(tail_f);
	free(tail_g);
	free(f);
	free(g);
}
END_TEST

static Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	/* Loop index 0: a hard link; 1: a copy. */
	TCase *tc = tcase_create("two_names_at_once");
	tcase_add_loop_test(tc, second_name_ahead_stops_the_first, 0, 2);
	tcase_add_loop_test(tc, checkpoint_short_of_the_other_refused, 0, 2);
	tcase_add_test(tc, same_head_other_content_goes_on);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(source_suite)
