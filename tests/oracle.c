/* SPDX-License-Identifier: MIT */
/*
 * An independent count of events per (customer, minute) for the tests: a
 * deliberately naive reader of the generator's CSV (no quoting, glibc's
 * sscanf and timegm instead of the library's parsers), printing
 * `customer,minute,count` sorted like `evcount-cli export`. It does not
 * link libevcount, so the two can only agree by both being right.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct key {
	char cust[64];
	long long minute;
};

static int cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = strcmp(x->cust, y->cust);
	if (c)
		return c;
	return (x->minute > y->minute) - (x->minute < y->minute);
}

/* "YYYY-MM-DD HH:MM:SS[.fff](+HH|+HH:MM|+HHMM|Z|)" to epoch seconds. */
static int parse(const char *s, long long *out)
{
	struct tm tm = {0};
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2d%*1[ Tt]%2d:%2d:%2d%n", &tm.tm_year,
	           &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	           &n) != 6)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	long long t = (long long)timegm(&tm);
	if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1, oh = 0, om = 0;
		if (sscanf(s + 1, "%2d", &oh) != 1)
			return -1;
		const char *m = s + 3;
		if (*m == ':')
			m++;
		if (*m >= '0' && *m <= '9')
			sscanf(m, "%2d", &om);
		t -= sign * (oh * 3600 + om * 60);
	}
	*out = t;
	return 0;
}

int main(void)
{
	size_t n = 0, cap = 1 << 16;
	struct key *keys = malloc(cap * sizeof(*keys));
	char line[4096];

	while (keys && fgets(line, sizeof(line), stdin)) {
		char *f[4];
		char *p = line;
		int nf = 0;
		line[strcspn(line, "\r\n")] = '\0';
		while (nf < 4 && (f[nf++] = strsep(&p, ",")))
			;
		long long t;
		if (nf != 4 || !f[3] || p || !*f[0] || parse(f[3], &t) != 0)
			continue;
		if (n == cap)
			keys = realloc(keys, (cap *= 2) * sizeof(*keys));
		if (!keys)
			break;
		snprintf(keys[n].cust, sizeof(keys[n].cust), "%s", f[0]);
		keys[n].minute = (t >= 0 ? t / 60 : (t - 59) / 60) * 60;
		n++;
	}
	if (!keys) {
		fprintf(stderr, "oracle: out of memory\n");
		return 1;
	}
	qsort(keys, n, sizeof(*keys), cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && cmp(&keys[i], &keys[j]) == 0)
			j++;
		printf("%s,%lld,%zu\n", keys[i].cust, keys[i].minute, j - i);
		i = j;
	}
	free(keys);
	return 0;
}
