/* SPDX-License-Identifier: MIT */
/*
 * Corrections: evc_retract() takes back exactly what a file added,
 * evc_forget() and evc_prune() remove counts for good, and any sequence of
 * them and of ingests leaves the store equal to an independent count of
 * what remains (a model kept here, event by event). Counts never go below
 * zero, a dry run changes nothing, and a refused correction changes
 * nothing.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CUST    4
#define N_MINUTES 360        /* six hours from T0 */
#define T0        1614556800 /* 2021-03-01T00:00:00Z */

static const char *const cust[N_CUST] = {"a", "b", "c", "d"};

/* ---- the store as a table of counts -------------------------------------- */

struct table {
	uint64_t n[N_CUST][N_MINUTES];
	bool other; /* a count outside the table */
};

static int to_table(const char *id, int64_t minute, uint64_t count,
                    void *payload)
{
	struct table *t = payload;
	const int64_t m = (minute - T0) / 60;
	for (int c = 0; c < N_CUST; c++)
		if (strcmp(id, cust[c]) == 0 && m >= 0 && m < N_MINUTES) {
			t->n[c][m] = count;
			return 0;
		}
	t->other = true;
	return 0;
}

/* The store's counts equal `want`, and the store checks clean. */
static void store_is(evc_store *s, const struct table *want, const char *when)
{
	struct table got;
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(evc_export(s, to_table, &got), EVC_OK);
	ck_assert_msg(!got.other, "%s: counts outside the table", when);
	for (int c = 0; c < N_CUST; c++)
		for (int m = 0; m < N_MINUTES; m++)
			if (got.n[c][m] != want->n[c][m])
				ck_abort_msg(
				    "%s: %s minute %d: %llu, want %llu", when,
				    cust[c], m, (unsigned long long)got.n[c][m],
				    (unsigned long long)want->n[c][m]);
	uint64_t problems = 1;
	ck_assert_msg(evc_check(s, NULL, NULL, &problems) == EVC_OK,
	              "%s: check: %s", when, evc_errmsg(s));
	ck_assert_uint_eq(problems, 0);
}

/* ---- files ------------------------------------------------------------------
 */

/* A row of customer c at minute m (second s of it). */
static void put_row(FILE *f, int c, int m, int sec)
{
	char t[EVC_TIME_BUFSZ];
	evc_format_time(T0 + m * 60 + sec, t, sizeof(t));
	fprintf(f, "%s,click,%s,%s\n", cust[c], TU_UUID, t);
}

static const char *write_file(const char *text)
{
	return tu_write_temp_str(text);
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int retract1(evc_store *s, const char *path, unsigned flags,
                    evc_correction_stats *st)
{
	return evc_retract(s, &path, 1, flags, st);
}

static void ingest_file(evc_store *s, const char *path)
{
	ck_assert_msg(evc_ingest_csv(s, path, NULL, NULL) == EVC_OK, "%s",
	              evc_errmsg(s));
}

static const char *file_a(void)
{
	return write_file("customer_id,event_type,transaction_id,timestamp\n"
	                  "a,click," TU_UUID ",2021-03-01T00:00:10Z\n"
	                  "a,click," TU_UUID ",2021-03-01T00:00:20Z\n"
	                  "b,click," TU_UUID ",2021-03-01T01:30:00Z\n"
	                  "x,click," TU_UUID ",bad-time\n"
	                  "c,click," TU_UUID ",2021-03-01T02:59:59Z\n");
}

static const char *file_b(void)
{
	return write_file("a,click," TU_UUID ",2021-03-01T00:00:30Z\n"
	                  "b,click," TU_UUID ",2021-03-01T01:30:30Z\n"
	                  "d,click," TU_UUID ",2021-03-01T05:00:00Z\n");
}

static void set(struct table *t, int c, int m, uint64_t n)
{
	t->n[c][m] = n;
}

/* ---- retract
 * ----------------------------------------------------------------- */

START_TEST(retract_takes_back_exactly_what_the_file_added)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a(), *b = file_b();
	evc_correction_stats st;
	struct table want = {0};

	ingest_file(s, a);
	ingest_file(s, b);
	ck_assert_int_eq(retract1(s, a, 0, &st), EVC_OK);
	set(&want, 0, 0, 1);
	set(&want, 1, 90, 1);
	set(&want, 3, 300, 1);
	store_is(s, &want, "after retracting a");
	ck_assert_uint_eq(st.events, 4);
	ck_assert_uint_eq(st.rows, 4);
	ck_assert_uint_eq(st.customers, 3);
	ck_assert_uint_eq(st.hours, 3);
	ck_assert_uint_eq(st.hours_removed, 1); /* c's 02:00 */
	ck_assert_uint_eq(st.customers_removed, 1); /* c, with it */
	ck_assert_uint_eq(st.sources, 1);
	uint64_t n_customers;
	ck_assert_int_eq(evc_customer_count(s, &n_customers), EVC_OK);
	ck_assert_uint_eq(n_customers, 3);
	evc_store_summary sum;
	ck_assert_int_eq(evc_store_info(s, &sum), EVC_OK);
	ck_assert_uint_eq(sum.sources, 1);
	ck_assert_uint_eq(sum.rows_rejected, 0);
	ck_assert_uint_eq(sum.rows_counted, 3);
	evc_close(s);
}
END_TEST

START_TEST(a_dry_run_reports_and_changes_nothing)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a(), *b = file_b();
	evc_correction_stats dry, real;
	struct table want = {0};

	ingest_file(s, a);
	ingest_file(s, b);
	ck_assert_int_eq(evc_export(s, to_table, &want), EVC_OK);
	ck_assert_int_eq(retract1(s, a, EVC_CORRECT_DRY_RUN, &dry), EVC_OK);
	store_is(s, &want, "after the dry run");
	ck_assert_int_eq(retract1(s, a, 0, &real), EVC_OK);
	ck_assert_uint_eq(dry.events, real.events);
	ck_assert_uint_eq(dry.rows, real.rows);
	ck_assert_uint_eq(dry.customers, real.customers);
	ck_assert_uint_eq(dry.hours, real.hours);
	ck_assert_uint_eq(dry.hours_removed, real.hours_removed);
	evc_close(s);
}
END_TEST

static int find_retracted(const evc_source_info *i, void *payload)
{
	int *n = payload;
	*n += i->retracted != 0;
	return 0;
}

START_TEST(a_retracted_file_ingested_again_counts_as_new)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a();
	evc_ingest_stats ist;
	struct table want = {0};
	int retracted = 0;

	ingest_file(s, a);
	ck_assert_int_eq(evc_export(s, to_table, &want), EVC_OK);
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_OK);
	ck_assert_int_eq(evc_ingest_csv(s, a, NULL, &ist), EVC_OK);
	ck_assert_int_eq(ist.source, EVC_SOURCE_NEW);
	ck_assert_uint_eq(ist.rows_counted, 4);
	store_is(s, &want, "ingested again");
	ck_assert_int_eq(evc_sources(s, find_retracted, &retracted), EVC_OK);
	ck_assert_int_eq(retracted, 1);
	/* Retracted twice is retracted once: the new source goes now. */
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_OK);
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_ENOTFOUND);
	struct table none = {0};
	store_is(s, &none, "retracted again");
	evc_close(s);
}
END_TEST

START_TEST(only_the_ingested_prefix_is_taken_back)
{
	evc_store *s = tu_mem_store();
	const char *b = file_b();
	struct table want = {0};

	ingest_file(s, b);
	append(b, "a,click," TU_UUID ",2021-03-01T03:00:00Z\n");
	/* Grown, not ingested again: its new row was never counted. */
	ck_assert_int_eq(retract1(s, b, 0, NULL), EVC_OK);
	store_is(s, &want, "grown then retracted");
	/* Grown and ingested in two parts: both parts go. */
	const char *a = file_a();
	ingest_file(s, a);
	append(a, "d,click," TU_UUID ",2021-03-01T04:00:00Z\n");
	ingest_file(s, a);
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_OK);
	store_is(s, &want, "ingested in two parts then retracted");
	evc_close(s);
}
END_TEST

START_TEST(refused_retractions_change_nothing)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a(), *b = file_b();
	struct table want = {0};

	ingest_file(s, a);
	ck_assert_int_eq(evc_export(s, to_table, &want), EVC_OK);
	/* Never ingested. */
	ck_assert_int_eq(retract1(s, b, 0, NULL), EVC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "never ingested"));
	/* Gone. */
	ck_assert_int_eq(retract1(s, "/nonexistent/file.csv", 0, NULL),
	                 EVC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "/nonexistent/file.csv"));
	/* Changed: the same size, an edited row. */
	size_t len;
	char *text = tu_read_file(a, &len);
	char *p = strstr(text, "00:00:20");
	p[6] = '3';
	FILE *f = fopen(a, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	free(text);
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_ECHANGED);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "no longer holds"));
	/* One good file and one bad: neither is retracted. */
	const char *both[] = {b, a};
	ingest_file(s, b);
	struct table with_b = {0};
	ck_assert_int_eq(evc_export(s, to_table, &with_b), EVC_OK);
	ck_assert_int_eq(evc_retract(s, both, 2, 0, NULL), EVC_ECHANGED);
	store_is(s, &with_b, "after the refusals");
	/* A directory, a file given twice, no file. */
	ck_assert_int_eq(retract1(s, tu_temp_dir(), 0, NULL), EVC_EIO);
	const char *twice[] = {b, b};
	ck_assert_int_eq(evc_retract(s, twice, 2, 0, NULL), EVC_EINVAL);
	ck_assert_int_eq(evc_retract(s, twice, 0, 0, NULL), EVC_EINVAL);
	ck_assert_int_eq(evc_retract(s, NULL, 1, 0, NULL), EVC_EINVAL);
	ck_assert_int_eq(evc_retract(s, twice, 1, 0x100, NULL), EVC_EINVAL);
	store_is(s, &with_b, "after the bad calls");
	evc_close(s);
}
END_TEST

/* A copy ingested after its original resumes where the original's count
 * ends, so it counted nothing of its own: retracting the original alone
 * would leave the copy claiming bytes nobody counts. */
START_TEST(files_whose_counts_depend_on_each_other_go_together)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a();
	size_t len;
	char *text = tu_read_file(a, &len);
	const char *copy = tu_write_temp(text, len);
	evc_ingest_stats ist;
	struct table none = {0};

	ingest_file(s, a);
	append(copy, "d,click," TU_UUID ",2021-03-01T04:00:00Z\n");
	ck_assert_int_eq(evc_ingest_csv(s, copy, NULL, &ist), EVC_OK);
	ck_assert_uint_eq(ist.rows_counted, 1);
	ck_assert_uint_eq(ist.bytes_skipped, len);
	/* The original grows past the copy: its counting goes on from the
	 * copy's end. */
	append(a, "d,click," TU_UUID ",2021-03-01T04:00:00Z\n"
	          "b,click," TU_UUID ",2021-03-01T04:30:00Z\n");
	ck_assert_int_eq(evc_ingest_csv(s, a, NULL, &ist), EVC_OK);
	ck_assert_uint_eq(ist.rows_counted, 1);
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_EINVAL);
	ck_assert_ptr_nonnull(strstr(evc_errmsg(s), "retract both at once"));
	ck_assert_int_eq(retract1(s, copy, 0, NULL), EVC_EINVAL);
	const char *both[] = {copy, a};
	evc_correction_stats st;
	ck_assert_int_eq(evc_retract(s, both, 2, 0, &st), EVC_OK);
	ck_assert_uint_eq(st.sources, 3);
	ck_assert_uint_eq(st.rows, 6);
	store_is(s, &none, "both retracted");
	free(text);
	evc_close(s);
}
END_TEST

/* ---- forget and prune
 * ---------------------------------------------------------- */

static int find_customer(const evc_customer_info *c, void *payload)
{
	bool *found = payload;
	*found |= strcmp(c->customer_id, "a") == 0;
	return 0;
}

START_TEST(forget_removes_a_customer_and_its_id)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a(), *b = file_b();
	evc_correction_stats st;
	struct table want = {0};
	bool found = false;

	ingest_file(s, a);
	ingest_file(s, b);
	ck_assert_int_eq(evc_forget(s, "a", EVC_CORRECT_DRY_RUN, &st), EVC_OK);
	ck_assert_uint_eq(st.events, 3);
	ck_assert_int_eq(evc_customers(s, find_customer, &found), EVC_OK);
	ck_assert(found);
	ck_assert_int_eq(evc_forget(s, "a", 0, &st), EVC_OK);
	ck_assert_uint_eq(st.events, 3);
	ck_assert_uint_eq(st.customers, 1);
	ck_assert_uint_eq(st.customers_removed, 1);
	ck_assert_uint_eq(st.hours, 1);
	found = false;
	ck_assert_int_eq(evc_customers(s, find_customer, &found), EVC_OK);
	ck_assert(!found);
	set(&want, 1, 90, 2);
	set(&want, 2, 179, 1);
	set(&want, 3, 300, 1);
	store_is(s, &want, "a forgotten");
	/* An unknown customer: nothing to remove. */
	ck_assert_int_eq(evc_forget(s, "a", 0, &st), EVC_OK);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_int_eq(evc_forget(s, "", 0, &st), EVC_EINVAL);
	ck_assert_int_eq(evc_forget(s, NULL, 0, &st), EVC_EINVAL);
	/* A retraction after it takes nothing more of a. */
	ck_assert_int_eq(retract1(s, a, 0, &st), EVC_OK);
	ck_assert_uint_eq(st.rows, 2);
	set(&want, 1, 90, 1);
	set(&want, 2, 179, 0);
	store_is(s, &want, "a forgotten, then file a retracted");
	evc_close(s);
}
END_TEST

/* A customer forgotten, then counted again by a new file: retracting a
 * file ingested before the forget leaves the new counts alone. */
START_TEST(counts_made_after_an_erasure_survive_a_retraction)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a();
	const char *later =
	    write_file("a,click," TU_UUID ",2021-03-01T00:00:40Z\n");
	struct table want = {0};

	ingest_file(s, a);
	ck_assert_int_eq(evc_forget(s, "a", 0, NULL), EVC_OK);
	ingest_file(s, later);
	ck_assert_int_eq(evc_prune(s, ts("2021-03-01T01:00:00Z"), 0, NULL),
	                 EVC_OK);
	ck_assert_int_eq(retract1(s, a, 0, NULL), EVC_OK);
	store_is(s, &want, "all of a's file gone, the later a pruned");
	evc_close(s);
}
END_TEST

START_TEST(prune_cuts_an_hour_at_the_minute)
{
	evc_store *s = tu_mem_store();
	const char *a = file_a(), *b = file_b();
	evc_correction_stats st;
	struct table want = {0};

	ingest_file(s, a);
	ingest_file(s, b);
	/* 01:30:20 is floored to 01:30: b's 01:30 rows stay. */
	ck_assert_int_eq(evc_prune(s, ts("2021-03-01T01:30:20Z"), 0, &st),
	                 EVC_OK);
	ck_assert_uint_eq(st.events, 3);
	ck_assert_uint_eq(st.customers, 1);
	ck_assert_uint_eq(st.customers_removed, 1);
	set(&want, 1, 90, 2);
	set(&want, 2, 179, 1);
	set(&want, 3, 300, 1);
	store_is(s, &want, "pruned before 01:30");
	ck_assert_int_eq(evc_prune(s, ts("2021-03-01T01:31:00Z"), 0, &st),
	                 EVC_OK);
	ck_assert_uint_eq(st.events, 2);
	ck_assert_uint_eq(st.hours, 1);
	set(&want, 1, 90, 0);
	store_is(s, &want, "pruned before 01:31");
	ck_assert_uint_eq(tu_total(s, "c", ts("2021-03-01"), ts("2021-03-02")),
	                  1);
	ck_assert_int_eq(evc_prune(s, EVC_TIME_MAX + 1, 0, &st), EVC_ERANGE);
	evc_close(s);
}
END_TEST

START_TEST(forget_and_prune_give_the_space_back)
{
	const char *path = tu_temp_path();
	evc_store *s =
	    tu_open_store(path, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);
	char *csv = malloc(4u << 20);
	size_t n = 0;
	evc_correction_stats st;

	/* Many hours of one customer, a few of another. */
	for (int h = 0; h < 20000; h++)
		n += (size_t)sprintf(
		    csv + n,
		    "big,click," TU_UUID ",2021-%02d-%02dT%02d:%02d:00Z\n",
		    1 + h / 24 / 28 % 12, 1 + h / 24 % 28, h % 24, h % 60);
	n += (size_t)sprintf(csv + n,
	                     "small,click," TU_UUID ",2021-03-01T00:00:00Z\n");
	ck_assert_int_eq(tu_ingest_mem(s, csv, n, NULL, NULL), EVC_OK);
	ck_assert_int_eq(evc_forget(s, "big", 0, &st), EVC_OK);
	ck_assert_uint_gt(st.size_before, 0);
	ck_assert_msg(st.size_after * 2 < st.size_before, "size %llu then %llu",
	              (unsigned long long)st.size_before,
	              (unsigned long long)st.size_after);
	/* And the file itself, not only the store's own figure (a
	 * PostgreSQL store has no file of its own). */
	if (!tu_pg()) {
		size_t len;
		char *bytes = tu_read_file(path, &len);
		ck_assert_uint_le(len, st.size_after);
		free(bytes);
	}
	free(csv);
	evc_close(s);
}
END_TEST

/* ---- any order
 * ------------------------------------------------------------------ */

#define N_FILES 4

struct model {
	struct table counts;
	/* What each file's live sources added that is still counted. */
	struct table from[N_FILES];
	bool live[N_FILES];
	/* Each file's rows, as (customer, minute), and how many there are on
	 * disk and were ingested. */
	int row_c[N_FILES][64], row_m[N_FILES][64];
	int n_rows[N_FILES], n_ingested[N_FILES];
	const char *path[N_FILES];
};

static void add_rows(struct model *md, int f, uint64_t *st, int n)
{
	FILE *out = fopen(md->path[f], "a");
	ck_assert_ptr_nonnull(out);
	for (int i = 0; i < n && md->n_rows[f] < 64; i++) {
		const int c = (int)tu_rand_below(st, N_CUST);
		const int m = (int)tu_rand_below(st, N_MINUTES);
		put_row(out, c, m, (int)tu_rand_below(st, 60));
		md->row_c[f][md->n_rows[f]] = c;
		md->row_m[f][md->n_rows[f]++] = m;
		if (tu_rand_below(st, 8) == 0)
			fputs("x,click,y,not-a-time\n", out); /* rejected */
	}
	fclose(out);
}

START_TEST(any_order_leaves_what_remains)
{
	uint64_t st = 0xc0ffee + (uint64_t)_i * 7919;
	evc_store *s = tu_mem_store();
	struct model *md = calloc(1, sizeof(*md));
	char when[160];

	for (int f = 0; f < N_FILES; f++) {
		md->path[f] = write_file("");
		add_rows(md, f, &st, 5 + (int)tu_rand_below(&st, 20));
	}
	for (int step = 0; step < 40; step++) {
		const int op = (int)tu_rand_below(&st, 10);
		const int f = (int)tu_rand_below(&st, N_FILES);
		if (op < 4) {
			/* Grow the file, maybe, and ingest it. */
			if (tu_rand_below(&st, 2))
				add_rows(md, f, &st,
				         1 + (int)tu_rand_below(&st, 5));
			ingest_file(s, md->path[f]);
			for (int i = md->n_ingested[f]; i < md->n_rows[f];
			     i++) {
				md->counts
				    .n[md->row_c[f][i]][md->row_m[f][i]]++;
				md->from[f]
				    .n[md->row_c[f][i]][md->row_m[f][i]]++;
			}
			md->n_ingested[f] = md->n_rows[f];
			md->live[f] = true;
			snprintf(when, sizeof(when), "step %d: ingest %d", step,
			         f);
		} else if (op < 7) {
			const int rc = retract1(s, md->path[f], 0, NULL);
			if (!md->live[f]) {
				ck_assert_int_eq(rc, EVC_ENOTFOUND);
				continue;
			}
			ck_assert_msg(rc == EVC_OK, "step %d: %s", step,
			              evc_errmsg(s));
			for (int c = 0; c < N_CUST; c++)
				for (int m = 0; m < N_MINUTES; m++) {
					md->counts.n[c][m] -=
					    md->from[f].n[c][m];
					md->from[f].n[c][m] = 0;
				}
			md->live[f] = false;
			md->n_ingested[f] = 0;
			snprintf(when, sizeof(when), "step %d: retract %d",
			         step, f);
		} else if (op < 9) {
			const int c = (int)tu_rand_below(&st, N_CUST);
			ck_assert_int_eq(evc_forget(s, cust[c], 0, NULL),
			                 EVC_OK);
			for (int m = 0; m < N_MINUTES; m++) {
				md->counts.n[c][m] = 0;
				for (int g = 0; g < N_FILES; g++)
					md->from[g].n[c][m] = 0;
			}
			snprintf(when, sizeof(when), "step %d: forget %s", step,
			         cust[c]);
		} else {
			const int before = (int)tu_rand_below(&st, N_MINUTES);
			ck_assert_int_eq(
			    evc_prune(s, T0 + before * 60 + 17, 0, NULL),
			    EVC_OK);
			for (int c = 0; c < N_CUST; c++)
				for (int m = 0; m < before; m++) {
					md->counts.n[c][m] = 0;
					for (int g = 0; g < N_FILES; g++)
						md->from[g].n[c][m] = 0;
				}
			snprintf(when, sizeof(when), "step %d: prune before %d",
			         step, before);
		}
		store_is(s, &md->counts, when);
	}
	free(md);
	evc_close(s);
}
END_TEST

static Suite *corrections_suite(void)
{
	Suite *s = suite_create("corrections");
	TCase *tc = tcase_create("retract");
	tcase_add_test(tc, retract_takes_back_exactly_what_the_file_added);
	tcase_add_test(tc, a_dry_run_reports_and_changes_nothing);
	tcase_add_test(tc, a_retracted_file_ingested_again_counts_as_new);
	tcase_add_test(tc, only_the_ingested_prefix_is_taken_back);
	tcase_add_test(tc, refused_retractions_change_nothing);
	tcase_add_test(tc, files_whose_counts_depend_on_each_other_go_together);
	suite_add_tcase(s, tc);

	tc = tcase_create("erase");
	tcase_add_test(tc, forget_removes_a_customer_and_its_id);
	tcase_add_test(tc, counts_made_after_an_erasure_survive_a_retraction);
	tcase_add_test(tc, prune_cuts_an_hour_at_the_minute);
	tcase_add_test(tc, forget_and_prune_give_the_space_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("any_order");
	tcase_add_loop_test(tc, any_order_leaves_what_remains, 0, 40);
	suite_add_tcase(s, tc);
	return s;
}

TU_SUITE(corrections_suite)
