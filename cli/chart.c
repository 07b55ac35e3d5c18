/* SPDX-License-Identifier: MIT */
/*
 * The terminal chart of `hourly` and `counts` (--format chart): one
 * horizontal bar per bucket after its label and count, a footer with the
 * total, the maximum and the scale. This file owns the layout, the
 * scaling and the glyphs, and where the width and the character set come
 * from (COLUMNS, the terminal, the locale); the commands hand it their
 * buckets one at a time, so a chart streams like the other formats.
 */
#include "cli.h"

#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Below this many cells a bar can no longer show a shape: a narrower
 * terminal gets lines this long anyway, which it wraps. */
#define CHART_MIN_BAR 10
/* COLUMNS beyond this is a mistake, not a terminal. */
#define CHART_MAX_COLUMNS 10000
/* Counts are shifted below 2^44 before they are multiplied by a bar's
 * resolution (under 2^17 units at CHART_MAX_COLUMNS), which keeps the
 * products within 64 bits exactly: no bar shows more than 44 bits. */
#define SCALE_BITS 44

/* U+2588 FULL BLOCK, then U+2589 to U+258F: seven eighths down to one. */
static const char *const eighths[9] = {
    "",       "\u258f", "\u258e", "\u258d", "\u258c",
    "\u258b", "\u258a", "\u2589", "\u2588",
};

/* COLUMNS when it is a width, else the terminal's, else 80: a pipe gets
 * the same chart on every run. */
static int chart_columns(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (env && *env >= '1' && *env <= '9') {
		char *end;
		long n = strtol(env, &end, 10);

		if (!*end && n <= CHART_MAX_COLUMNS)
			return (int)n;
	}
	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col < CHART_MAX_COLUMNS ? ws.ws_col
		                                     : CHART_MAX_COLUMNS;
	return 80;
}

/* Whether the user's locale writes UTF-8. The locale is set only to ask:
 * everything else the tool prints or parses stays in the C locale. */
static bool utf8_locale(void)
{
	bool utf8 = false;

	if (setlocale(LC_CTYPE, "")) {
		utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
		setlocale(LC_CTYPE, "C");
	}
	return utf8;
}

struct chart_style cli_chart_style(bool ascii)
{
	return (struct chart_style){.columns = chart_columns(),
	                            .unicode = !ascii && utf8_locale()};
}

void cli_chart_start(struct chart *c, FILE *f, const struct chart_style *s,
                     int label_width, uint64_t max)
{
	const int count_width = cli_width_u64(max);
	/* The label, two blanks, the count, a blank, the partial mark and a
	 * blank before the bar. */
	const int fixed = label_width + 2 + count_width + 3;

	*c = (struct chart){.f = f,
	                    .unicode = s->unicode,
	                    .label_width = label_width,
	                    .count_width = count_width,
	                    .bar_width =
	                        cli_max_int(s->columns - fixed, CHART_MIN_BAR),
	                    .max = max,
	                    .scaled_max = max};
	while (c->scaled_max >> SCALE_BITS) {
		c->scaled_max >>= 1;
		c->shift++;
	}
}

/* The bar's length in units (eighths of a cell, or cells in ASCII): the
 * largest count fills the bar's width, the others are in proportion,
 * rounded to the nearest unit, and a count above zero is never drawn as
 * nothing. */
static uint64_t bar_units(const struct chart *c, uint64_t count)
{
	const uint64_t width = (uint64_t)c->bar_width * (c->unicode ? 8 : 1);
	const uint64_t n = count >> c->shift;
	uint64_t units;

	if (count == 0 || c->max == 0)
		return 0;
	units = (2 * n * width + c->scaled_max) / (2 * c->scaled_max);
	return units ? units : 1;
}

void cli_chart_bar(struct chart *c, const char *label, uint64_t count,
                   bool partial)
{
	uint64_t units = bar_units(c, count);

	fprintf(c->f, "%-*s  %*" PRIu64, c->label_width, label, c->count_width,
	        count);
	if (partial)
		c->any_partial = true;
	/* No trailing blanks: a zero ends with its count or its mark. */
	if (units == 0) {
		fputs(partial ? " *\n" : "\n", c->f);
		return;
	}
	fputs(partial ? " * " : "   ", c->f);
	if (!c->unicode) {
		while (units--)
			putc('#', c->f);
	} else {
		for (; units >= 8; units -= 8)
			fputs(eighths[8], c->f);
		fputs(eighths[units], c->f);
	}
	putc('\n', c->f);
}

/* What one full cell stands for, `max` events over `cells`, to the digits
 * a reader can use: none from 100 on, two from 1, four below (which the
 * bound on COLUMNS keeps above zero); "=" when that is exact. */
static void put_scale(FILE *f, bool unicode, uint64_t max, uint64_t cells)
{
	const uint64_t q = max / cells;
	int decimals = q >= 100 ? 0 : q >= 1 ? 2 : 4;
	uint64_t unit = 1, x, rem;

	for (int i = 0; i < decimals; i++)
		unit *= 10;
	if (decimals == 0) {
		x = q;
		rem = max % cells;
	} else {
		/* max < 100 * cells here: these products are small. */
		x = max * unit / cells;
		rem = max * unit % cells;
	}
	fputs(rem == 0 ? "= " : unicode ? "\u2248 " : "~ ", f);
	if (rem >= cells - rem)
		x++;
	uint64_t frac = x % unit;
	while (decimals > 0 && frac % 10 == 0) {
		frac /= 10;
		decimals--;
	}
	fprintf(f, "%" PRIu64, x / unit);
	if (decimals)
		fprintf(f, ".%0*" PRIu64, decimals, frac);
}

void cli_chart_end(struct chart *c, uint64_t total)
{
	fprintf(c->f, "total %" PRIu64 ", max %" PRIu64, total, c->max);
	if (c->max == 0) {
		fputs(", nothing to scale", c->f);
	} else {
		fprintf(c->f, ", %s ", c->unicode ? eighths[8] : "#");
		put_scale(c->f, c->unicode, c->max, (uint64_t)c->bar_width);
		fputs(" events", c->f);
	}
	if (c->any_partial)
		fputs(", * partial", c->f);
	putc('\n', c->f);
}
