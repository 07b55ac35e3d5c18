/* SPDX-License-Identifier: MIT */
/*
 * The in-memory batch: per-(customer, minute) event counts of the rows read
 * since the last flush, in an open-addressing table of fixed size, with
 * customer ids interned to small indexes. Memory is bounded by construction:
 * evc__agg_full() tells the ingest driver to flush before the table, the
 * customer table or the name arena would grow.
 */
#include "evc-int.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX
#define MAX_CUSTOMERS (1u << 16)
#define MAX_NAME_BYTES (4u << 20)

struct customer {
	uint64_t hash;
	uint32_t off, len; /* name bytes in the arena */
};

struct evc_agg {
	evc_agg_entry *slots; /* customer == EMPTY marks a free slot */
	size_t mask, n_keys, max_keys;
	bool consumed;        /* slots were sorted in place */

	struct customer *cust;
	size_t n_cust;
	uint32_t *cust_slots; /* index + 1, 0 when free */
	size_t cust_mask;
	char *names;
	size_t names_len;
};

static size_t pow2_at_least(size_t n)
{
	size_t p = 16;
	while (p < n)
		p <<= 1;
	return p;
}

int evc__agg_new(evc_agg **out, size_t max_keys)
{
	evc_agg *a = calloc(1, sizeof(*a));
	if (!a)
		return EVC_ENOMEM;
	if (max_keys < 1)
		max_keys = 1;
	/* Load factor at most 3/4 keeps probes short. */
	const size_t n_slots = pow2_at_least(max_keys + max_keys / 3 + 1);
	a->slots = malloc(n_slots * sizeof(*a->slots));
	a->mask = n_slots - 1;
	a->max_keys = max_keys;
	a->cust = malloc(MAX_CUSTOMERS * sizeof(*a->cust));
	a->cust_mask = 2 * MAX_CUSTOMERS - 1;
	a->cust_slots = calloc(a->cust_mask + 1, sizeof(*a->cust_slots));
	a->names = malloc(MAX_NAME_BYTES);
	if (!a->slots || !a->cust || !a->cust_slots || !a->names) {
		evc__agg_free(a);
		return EVC_ENOMEM;
	}
	for (size_t i = 0; i <= a->mask; i++)
		a->slots[i].customer = EMPTY;
	*out = a;
	return EVC_OK;
}

void evc__agg_free(evc_agg *a)
{
	if (!a)
		return;
	free(a->slots);
	free(a->cust);
	free(a->cust_slots);
	free(a->names);
	free(a);
}

void evc__agg_reset(evc_agg *a)
{
	for (size_t i = 0; i <= a->mask; i++)
		a->slots[i].customer = EMPTY;
	memset(a->cust_slots, 0, (a->cust_mask + 1) * sizeof(*a->cust_slots));
	a->n_keys = 0;
	a->n_cust = 0;
	a->names_len = 0;
	a->consumed = false;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

/* Customer ids are short (32 hex bytes in real exports): eight bytes at a
 * time with a multiply-mix per word is plenty and fast. */
static uint64_t hash_bytes(const char *p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return mix64(h);
}

static int intern(evc_agg *a, const char *name, size_t len, uint32_t *idx)
{
	const uint64_t h = hash_bytes(name, len);
	for (size_t i = h & a->cust_mask;; i = (i + 1) & a->cust_mask) {
		const uint32_t s = a->cust_slots[i];
		if (s == 0) {
			if (a->n_cust >= MAX_CUSTOMERS ||
			    a->names_len + len > MAX_NAME_BYTES)
				return EVC_ERANGE; /* caller flushes first */
			struct customer *c = &a->cust[a->n_cust];
			c->hash = h;
			c->off = (uint32_t)a->names_len;
			c->len = (uint32_t)len;
			memcpy(a->names + a->names_len, name, len);
			a->names_len += len;
			a->cust_slots[i] = (uint32_t)++a->n_cust;
			*idx = (uint32_t)(a->n_cust - 1);
			return EVC_OK;
		}
		const struct customer *c = &a->cust[s - 1];
		if (c->hash == h && c->len == len &&
		    memcmp(a->names + c->off, name, len) == 0) {
			*idx = s - 1;
			return EVC_OK;
		}
	}
}

int evc__agg_add(evc_agg *a, const char *cust, size_t cust_len, int64_t minute)
{
	uint32_t ci;

	if (a->consumed)
		return EVC_EINVAL;
	int rc = intern(a, cust, cust_len, &ci);
	if (rc != EVC_OK)
		return rc;
	const uint64_t h = mix64(((uint64_t)ci << 40) ^ (uint64_t)minute);
	for (size_t i = h & a->mask;; i = (i + 1) & a->mask) {
		evc_agg_entry *e = &a->slots[i];
		if (e->customer == ci && e->minute == minute) {
			e->count++;
			return EVC_OK;
		}
		if (e->customer == EMPTY) {
			if (a->n_keys >= a->max_keys)
				return EVC_ERANGE; /* caller flushes first */
			e->customer = ci;
			e->minute = minute;
			e->count = 1;
			a->n_keys++;
			return EVC_OK;
		}
	}
}

bool evc__agg_full(const evc_agg *a)
{
	return a->n_keys >= a->max_keys || a->n_cust >= MAX_CUSTOMERS ||
	       a->names_len + 255 > MAX_NAME_BYTES;
}

size_t evc__agg_keys(const evc_agg *a)
{
	return a->n_keys;
}

size_t evc__agg_customers(const evc_agg *a)
{
	return a->n_cust;
}

const char *evc__agg_customer(const evc_agg *a, uint32_t idx, size_t *len)
{
	if (idx >= a->n_cust)
		return NULL;
	*len = a->cust[idx].len;
	return a->names + a->cust[idx].off;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const evc_agg_entry *x = pa, *y = pb;
	if (x->customer != y->customer)
		return x->customer < y->customer ? -1 : 1;
	return (x->minute > y->minute) - (x->minute < y->minute);
}

const evc_agg_entry *evc__agg_sorted(evc_agg *a, size_t *n)
{
	if (!a->consumed) {
		/* Compact the occupied slots to the front, then sort them in
		 * place: no second array, so the batch's memory stays put. */
		size_t k = 0;
		for (size_t i = 0; i <= a->mask; i++)
			if (a->slots[i].customer != EMPTY)
				a->slots[k++] = a->slots[i];
		qsort(a->slots, k, sizeof(*a->slots), cmp_entry);
		for (size_t i = k; i <= a->mask; i++)
			a->slots[i].customer = EMPTY;
		a->consumed = true;
	}
	*n = a->n_keys;
	return a->slots;
}
