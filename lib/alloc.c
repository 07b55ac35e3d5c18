/* SPDX-License-Identifier: MIT */
/*
 * The library's allocations: every one goes through here so that a test can
 * make the Nth fail and check that each failure is a clean EVC_ENOMEM (or
 * another clean error) that leaks nothing and leaves the store consistent.
 * Off unless a test arms it; then one atomic decrement per allocation.
 */
#include "evc-int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long countdown; /* 0: off; n: the nth allocation fails */
static atomic_bool hit;

void evc__alloc_fail_nth(long n)
{
	atomic_store(&hit, false);
	atomic_store(&countdown, n > 0 ? n : 0);
}

bool evc__alloc_fail_hit(void)
{
	return atomic_load(&hit);
}

bool evc__alloc_fails(void)
{
	long c = atomic_load_explicit(&countdown, memory_order_relaxed);
	while (c > 0) {
		if (atomic_compare_exchange_weak(&countdown, &c, c - 1)) {
			if (c == 1) {
				atomic_store(&hit, true);
				return true;
			}
			return false;
		}
	}
	return false;
}

void *evc__malloc(size_t n)
{
	return evc__alloc_fails() ? NULL : malloc(n);
}

void *evc__calloc(size_t n, size_t size)
{
	return evc__alloc_fails() ? NULL : calloc(n, size);
}

char *evc__strndup(const char *s, size_t n)
{
	return evc__alloc_fails() ? NULL : strndup(s, n);
}
