/* SPDX-License-Identifier: MIT */
/*
 * Streaming RFC 4180 record scanner over a file descriptor.
 *
 * Owns the read buffer and turns bytes into records: fields, the line each
 * record starts on, its raw text for reports, and structural errors. Lines
 * without quotes take a fast path (memchr for the line end and the commas);
 * anything else runs a resumable byte-at-a-time state machine, so a record
 * may span any number of reads and the result never depends on how the
 * input was chunked. Records longer than EVC_CSV_MAX_RECORD are scanned to
 * their end without being held, which bounds memory whatever the input.
 */
#include "evc-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define DEFAULT_READ_SIZE (1u << 20)

enum scan_state {
	S_FIELD,     /* at the start of a field */
	S_UNQUOTED,  /* inside an unquoted field */
	S_QUOTED,    /* inside a quoted field */
	S_QUOTE,     /* a quote inside a quoted field: escape or close */
	S_CLOSED,    /* after a closing quote */
	S_CLOSED_CR, /* after a closing quote and a CR */
};

struct field_span {
	size_t start, end; /* offsets from the record start */
	bool quoted;       /* content holds "" escapes */
};

/* The fast path's look at the line at the read position: where it ends,
 * whether it holds a quote and where its first commas are, found in one
 * pass. Kept while the line is incomplete so that each refill scans only
 * the new bytes. */
struct line_scan {
	uint64_t at;    /* input offset of the line start (scanner-relative) */
	size_t scanned; /* bytes examined, when no LF was found yet */
	size_t len;     /* bytes before the LF, valid when lf */
	bool lf;
	bool quote;
	size_t n_commas; /* before the LF or the scanned end */
	size_t comma[EVC_CSV_FIELDS];
};

/* The slow path's state, kept across reads while a record is incomplete. */
struct scan {
	bool active;
	enum scan_state state;
	size_t pos;       /* next byte to examine, from the record start */
	size_t discarded; /* bytes of an oversized record already dropped */
	size_t n_fields;
	size_t cur_start; /* start of the current field */
	bool cur_quoted;
	size_t close_pos;  /* offset of the closing quote */
	uint64_t newlines; /* inside quoted fields */
	bool oversized;
	const char *error;
	struct field_span field[EVC_CSV_FIELDS];
};

struct evc_csv {
	int fd;
	char *buf;
	size_t cap, start, end; /* unread bytes are buf[start, end) */
	size_t read_size;
	bool eof;
	bool at_input_start; /* a BOM may still come */
	bool follow;         /* hold back an unterminated last record */
	bool held;
	uint64_t line;  /* line of the next record */
	uint64_t bytes; /* read by this scanner */
	uint64_t base;  /* input offset of the first byte read */
	uint64_t limit; /* input offset taken as the end of input */
	evc_hash hash;  /* of the input up to buf[hashed] */
	size_t hashed;
	struct scan scan;
	struct line_scan ls;
	char *scratch; /* unescaped quoted fields */
	char report[EVC_CSV_REPORT_MAX];
};

int evc__csv_new(evc_csv **out, int fd, size_t read_size)
{
	evc_csv *c = evc__calloc(1, sizeof(*c));
	if (!c)
		return EVC_ENOMEM;
	c->fd = fd;
	c->read_size = read_size ? read_size : DEFAULT_READ_SIZE;
	/* Room for a whole maximal record plus one read after it. */
	c->cap = EVC_CSV_MAX_RECORD + c->read_size + 1;
	c->buf = evc__malloc(c->cap);
	c->scratch = evc__malloc(EVC_CSV_MAX_RECORD + 1);
	if (!c->buf || !c->scratch) {
		evc__csv_free(c);
		return EVC_ENOMEM;
	}
	c->line = 1;
	c->limit = UINT64_MAX;
	c->at_input_start = true;
	c->ls.at = UINT64_MAX;
	evc__hash_init(&c->hash);
	*out = c;
	return EVC_OK;
}

void evc__csv_free(evc_csv *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->scratch);
	free(c);
}

uint64_t evc__csv_bytes(const evc_csv *c)
{
	return c->bytes;
}

/* Read more input after the unread bytes. */
static void hash_consumed(evc_csv *c)
{
	evc__hash_update(&c->hash, c->buf + c->hashed, c->start - c->hashed);
	c->hashed = c->start;
}

static int refill(evc_csv *c, int *err)
{
	hash_consumed(c);
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
		c->hashed = 0;
	}
	size_t want = c->cap - c->end;
	if (want > c->read_size)
		want = c->read_size;
	const uint64_t at = c->base + c->bytes;
	if (at >= c->limit) {
		c->eof = true;
		return EVC_OK;
	}
	if (c->limit - at < want)
		want = (size_t)(c->limit - at);
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->end, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			return EVC_EIO;
		}
		if (n == 0)
			c->eof = true;
		c->end += (size_t)n;
		c->bytes += (uint64_t)n;
		return EVC_OK;
	}
}

static void clear_record(evc_csv_record *rec)
{
	memset(rec, 0, sizeof(*rec));
}

static void set_oversized(evc_csv *c, evc_csv_record *rec, const char *rec_p,
                          size_t avail)
{
	const size_t n =
	    avail < EVC_CSV_REPORT_MAX ? avail : EVC_CSV_REPORT_MAX;
	memcpy(c->report, rec_p, n);
	rec->text = c->report;
	rec->text_len = n;
	rec->text_truncated = true;
	rec->error = "record longer than 1048576 bytes";
}

/* Text without its line end; a CR before the LF is part of the line end. */
static size_t strip_cr(const char *p, size_t len)
{
	return len > 0 && p[len - 1] == '\r' ? len - 1 : len;
}

static void note_special(struct line_scan *ls, const char *p, size_t at)
{
	if (p[at] == ',') {
		if (ls->n_commas < EVC_CSV_FIELDS)
			ls->comma[ls->n_commas] = at;
		ls->n_commas++;
	} else if (p[at] == '"') {
		ls->quote = true;
	} else {
		ls->len = at;
		ls->lf = true;
	}
}

/* Bit i of the result is set when byte i of the block is a LF, a quote or
 * a comma. */
#ifdef __SSE2__
#define BLOCK 16
static inline unsigned block_mask(const char *p)
{
	const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i m =
	    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('\n')),
	                              _mm_cmpeq_epi8(b, _mm_set1_epi8('"'))),
	                 _mm_cmpeq_epi8(b, _mm_set1_epi8(',')));
	return (unsigned)_mm_movemask_epi8(m);
}
#else
/* Eight bytes at a time, exact per byte (no false positives from borrows).
 * Bit i of the mask stands for the byte at p + i whatever the endianness. */
#define BLOCK 8
static inline uint64_t has_byte(uint64_t w, unsigned char ch)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	const uint64_t x = w ^ (0x0101010101010101ULL * ch);
	return ~(((x & low7) + low7) | x | low7);
}

static inline unsigned block_mask(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	const uint64_t hit =
	    has_byte(w, '\n') | has_byte(w, '"') | has_byte(w, ',');
	unsigned m = 0;
	for (unsigned i = 0; i < 8; i++) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		const unsigned bit = 63 - 8 * i;
#else
		const unsigned bit = 8 * i + 7;
#endif
		m |= (unsigned)((hit >> bit) & 1u) << i;
	}
	return m;
}
#endif

/* Continue scanning the line at p (avail bytes buffered) up to its LF or
 * the end of the buffered bytes. One pass finds the LF, the quotes and the
 * commas, where separate memchr calls would walk the line five times. */
static void scan_line(struct line_scan *ls, const char *p, size_t avail)
{
	size_t i = ls->scanned;
	for (; i + BLOCK <= avail; i += BLOCK) {
		unsigned m = block_mask(p + i);
		while (m) {
			note_special(ls, p, i + (size_t)__builtin_ctz(m));
			if (ls->lf)
				return;
			m &= m - 1;
		}
	}
	for (; i < avail; i++) {
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n') {
			note_special(ls, p, i);
			if (ls->lf)
				return;
		}
	}
	ls->scanned = avail;
}

/* A line without quotes: split on the commas the line scan found. */
static int fast_record(evc_csv *c, evc_csv_record *rec, const char *p,
                       size_t len, size_t consumed)
{
	const struct line_scan *ls = &c->ls;
	const uint64_t line = c->line;

	c->line += consumed > len; /* a LF was consumed */
	c->start += consumed;
	if (len > EVC_CSV_MAX_RECORD) {
		clear_record(rec);
		rec->line = line;
		rec->n_fields = ls->n_commas + 1;
		set_oversized(c, rec, p, len);
	} else {
		/* Member by member: clear_record()'s memset compiles to a
		 * rep stos, whose start-up was a fifth of this function's
		 * time on ~100-byte lines. */
		len = strip_cr(p, len);
		rec->line = line;
		rec->text = p;
		rec->text_len = len;
		rec->text_truncated = false;
		rec->n_fields = ls->n_commas + 1;
		rec->error = NULL;
		size_t f = 0;
		for (size_t k = 0; k < EVC_CSV_FIELDS; k++) {
			if (k >= rec->n_fields) {
				rec->field[k].ptr = NULL;
				rec->field[k].len = 0;
				continue;
			}
			/* A comma is never the stripped CR, so only the last
			 * field ends at the stripped length. */
			const size_t fe = k < ls->n_commas ? ls->comma[k] : len;
			rec->field[k].ptr = p + f;
			rec->field[k].len = fe - f;
			f = fe + 1;
		}
	}
	return 1;
}

static void end_field(struct scan *s, size_t end)
{
	if (!s->oversized && s->n_fields < EVC_CSV_FIELDS) {
		struct field_span *f = &s->field[s->n_fields];
		f->start = s->cur_start;
		f->end = end;
		f->quoted = s->cur_quoted;
	}
	s->n_fields++;
}

static void scan_error(struct scan *s, const char *why)
{
	if (!s->error)
		s->error = why;
}

/* Run the state machine over p[s->pos, n). Returns true at the record's
 * terminating LF, leaving s->pos on it. */
static bool scan_bytes(struct scan *s, const char *p, size_t n)
{
	size_t i = s->pos;
	while (i < n) {
		const char ch = p[i];
		switch (s->state) {
		case S_FIELD:
			if (ch == '"') {
				s->cur_quoted = true;
				s->cur_start = i + 1;
				s->state = S_QUOTED;
				i++;
				continue;
			}
			s->cur_quoted = false;
			s->cur_start = i;
			s->state = S_UNQUOTED;
			continue;
		case S_UNQUOTED:
			if (ch == ',') {
				end_field(s, i);
				s->state = S_FIELD;
			} else if (ch == '\n') {
				end_field(s, i);
				s->pos = i;
				return true;
			} else if (ch == '"') {
				scan_error(s, "quote inside an unquoted field");
			}
			i++;
			continue;
		case S_QUOTED: {
			const char *q = memchr(p + i, '"', n - i);
			const size_t stop = q ? (size_t)(q - p) : n;
			for (const char *nl = p + i;
			     (nl = memchr(nl, '\n', stop - (size_t)(nl - p)));
			     nl++)
				s->newlines++;
			i = stop;
			if (q) {
				s->state = S_QUOTE;
				i++;
			}
			continue;
		}
		case S_QUOTE:
			if (ch == '"') {
				s->state = S_QUOTED;
				i++;
				continue;
			}
			s->close_pos = i - 1;
			s->state = S_CLOSED;
			continue;
		case S_CLOSED:
			if (ch == ',') {
				end_field(s, s->close_pos);
				s->state = S_FIELD;
			} else if (ch == '\n') {
				end_field(s, s->close_pos);
				s->pos = i;
				return true;
			} else if (ch == '\r') {
				s->state = S_CLOSED_CR;
			} else {
				scan_error(s, "text after a closing quote");
				s->state = S_UNQUOTED;
				continue;
			}
			i++;
			continue;
		case S_CLOSED_CR:
			if (ch == '\n') {
				end_field(s, s->close_pos);
				s->pos = i;
				return true;
			}
			scan_error(s, "text after a closing quote");
			s->state = S_UNQUOTED;
			continue;
		}
	}
	s->pos = n;
	return false;
}

/* The input ended inside the record: close its last field. */
static void scan_finish(struct scan *s, size_t n)
{
	switch (s->state) {
	case S_FIELD:
		s->cur_quoted = false;
		s->cur_start = n;
		end_field(s, n);
		break;
	case S_UNQUOTED:
		end_field(s, n);
		break;
	case S_QUOTED:
		scan_error(s,
		           "quoted field not closed before the end of input");
		end_field(s, n);
		break;
	case S_QUOTE:
		end_field(s, n - 1);
		break;
	case S_CLOSED:
	case S_CLOSED_CR:
		end_field(s, s->close_pos);
		break;
	}
}

/* Copy a quoted field's content without its "" escapes. */
static size_t unescape(const char *src, size_t len, char *dst)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		dst[n++] = src[i];
		if (src[i] == '"' && i + 1 < len && src[i + 1] == '"')
			i++;
	}
	return n;
}

static void slow_emit(evc_csv *c, evc_csv_record *rec, const char *p,
                      size_t text_end, bool by_lf)
{
	struct scan *s = &c->scan;

	rec->line = c->line;
	rec->n_fields = s->n_fields;
	c->line += s->newlines + (by_lf ? 1 : 0);
	if (s->oversized)
		return; /* text and error were set when it overflowed */
	rec->error = s->error;
	const bool in_quotes = s->state == S_QUOTED;
	rec->text = p;
	rec->text_len = in_quotes ? text_end : strip_cr(p, text_end);

	size_t used = 0;
	const size_t nf =
	    s->n_fields < EVC_CSV_FIELDS ? s->n_fields : EVC_CSV_FIELDS;
	for (size_t k = 0; k < nf; k++) {
		struct field_span *f = &s->field[k];
		size_t end = f->end;
		if (!f->quoted) {
			/* The last field's CR belongs to the line end. */
			if (k + 1 == s->n_fields && end > f->start &&
			    end == text_end && p[end - 1] == '\r')
				end--;
			rec->field[k].ptr = p + f->start;
			rec->field[k].len = end - f->start;
		} else {
			rec->field[k].ptr = c->scratch + used;
			rec->field[k].len = unescape(
			    p + f->start, end - f->start, c->scratch + used);
			used += rec->field[k].len;
		}
	}
}

static int slow_record(evc_csv *c, evc_csv_record *rec, int *err)
{
	struct scan *s = &c->scan;

	if (!s->active) {
		memset(s, 0, sizeof(*s));
		s->active = true;
		s->state = S_FIELD;
	}
	clear_record(rec);
	for (;;) {
		const char *p = c->buf + c->start;
		const size_t avail = c->end - c->start;
		if (scan_bytes(s, p, avail)) {
			if (!s->oversized && s->pos > EVC_CSV_MAX_RECORD) {
				set_oversized(c, rec, p, s->pos);
				s->oversized = true;
			}
			slow_emit(c, rec, p, s->pos, true);
			c->start += s->pos + 1;
			s->active = false;
			return 1;
		}
		if (c->eof && c->follow && s->discarded == 0) {
			s->active = false;
			c->held = true;
			return 0;
		}
		if (c->eof) {
			scan_finish(s, avail);
			if (!s->oversized && avail > EVC_CSV_MAX_RECORD) {
				set_oversized(c, rec, p, avail);
				s->oversized = true;
			}
			slow_emit(c, rec, p, avail, false);
			c->start += avail;
			s->active = false;
			return 1;
		}
		if (s->discarded + avail > EVC_CSV_MAX_RECORD) {
			if (!s->oversized) {
				set_oversized(c, rec, p, avail);
				s->oversized = true;
			}
			/* Nothing scanned is needed any more. */
			s->discarded += s->pos;
			c->start += s->pos;
			s->pos = 0;
		}
		int rc = refill(c, err);
		if (rc != EVC_OK) {
			s->active = false;
			return rc;
		}
	}
}

int evc__csv_next(evc_csv *c, evc_csv_record *rec, int *err)
{
	for (;;) {
		if (c->scan.active)
			return slow_record(c, rec, err);
		if (c->at_input_start) {
			/* A BOM can only be recognised whole. */
			if (c->end - c->start < 3 && !c->eof) {
				int rc = refill(c, err);
				if (rc != EVC_OK)
					return rc;
				continue;
			}
			c->at_input_start = false;
			if (c->end - c->start >= 3 &&
			    memcmp(c->buf + c->start, "\xEF\xBB\xBF", 3) == 0)
				c->start += 3;
		}
		const char *p = c->buf + c->start;
		const size_t avail = c->end - c->start;
		if (avail == 0) {
			if (c->eof)
				return 0;
			int rc = refill(c, err);
			if (rc != EVC_OK)
				return rc;
			continue;
		}
		struct line_scan *ls = &c->ls;
		const uint64_t at = c->bytes - avail;
		if (ls->at != at) {
			ls->at = at;
			ls->scanned = 0;
			ls->lf = false;
			ls->quote = false;
			ls->n_commas = 0;
		}
		if (!ls->lf)
			scan_line(ls, p, avail);
		const char *nl = ls->lf ? p + ls->len : NULL;
		if (!nl && !c->eof && avail <= EVC_CSV_MAX_RECORD) {
			int rc = refill(c, err);
			if (rc != EVC_OK)
				return rc;
			continue;
		}
		if (!nl && !c->eof)
			return slow_record(c, rec, err);
		const size_t len = nl ? (size_t)(nl - p) : avail;
		if (!nl && c->follow && strip_cr(p, len) > 0) {
			c->held = true;
			return 0;
		}
		if (ls->quote)
			return slow_record(c, rec, err);
		if (strip_cr(p, len) == 0) { /* blank line */
			c->start += nl ? len + 1 : len;
			c->line += nl != NULL;
			continue;
		}
		return fast_record(c, rec, p, len, nl ? len + 1 : len);
	}
}

void evc__csv_resume(evc_csv *c, uint64_t offset, uint64_t line,
                     const evc_hash *hash)
{
	c->base = offset;
	c->line = line;
	c->hash = *hash;
	c->at_input_start = offset == 0;
}

void evc__csv_set_limit(evc_csv *c, uint64_t limit)
{
	c->limit = limit;
}

void evc__csv_set_follow(evc_csv *c, bool follow)
{
	c->follow = follow;
}

bool evc__csv_held(const evc_csv *c)
{
	return c->held;
}

uint64_t evc__csv_offset(const evc_csv *c)
{
	return c->base + c->bytes - (c->end - c->start);
}

uint64_t evc__csv_line(const evc_csv *c)
{
	return c->line;
}

const evc_hash *evc__csv_hash(evc_csv *c)
{
	hash_consumed(c);
	return &c->hash;
}
