/* SPDX-License-Identifier: MIT */
/*
 * The in-memory batch: per-(customer, minute) event counts of the rows read
 * since the last flush, in an open-addressing table of fixed size, with
 * customer ids interned to small indexes. Memory is bounded by construction:
 * evc__agg_full() tells the ingest driver to flush before the table, the
 * customer table or the name arena would grow.
 *
 * Each slot is 16 bytes: the (customer, minute) pair packed into one 64-bit
 * key whose integer order is (customer, minute) order, and the count. The
 * table is probed for every input row at random places, so it is kept small
 * and, where the kernel allows, on huge pages to spare TLB misses. The batch
 * is handed out sorted by an LSD radix sort of the keys whose scratch is the
 * table's unused half (no allocation, so memory stays put), then widened to
 * evc_agg_entry in the same mapping.
 *
 * Most adds miss the cache at their slot (the table is far larger than
 * L2), so adds are pipelined: an add prefetches its home slot and queues
 * the key; the key is inserted PENDING adds later, when its line has
 * arrived. Everything that looks at the table drains the queue first, and
 * near capacity adds go straight in, so callers see exact counts and the
 * same EVC_ERANGE point as without the queue.
 */
#include "evc-int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_CUSTOMERS  (1u << 16)
#define MAX_NAME_BYTES (4u << 20)
/* The customer table starts small and doubles as customers come: a few
 * thousand customers then probe a few KiB that stay in L1/L2, not 512 KiB
 * the batch's slot traffic keeps evicting. */
#define CUST_SLOTS_MIN 1024u
#define CUST_SLOTS_MAX (2 * MAX_CUSTOMERS)

/* Key layout: (customer index + 1) << MINUTE_BITS | (minute - MINUTE_MIN).
 * Every supported minute fits in MINUTE_BITS, and the customer part is
 * never 0, so key 0 marks a free slot and a zeroed table is empty. */
#define MINUTE_BITS 34
#define MINUTE_MIN  (EVC_TIME_MIN / 60)
#define MINUTE_MAX  (EVC_TIME_MAX / 60)
#define HUGE_PAGE   (2u << 20)
#define GROUP_BITS  4
#define GROUP_MASK  ((1u << GROUP_BITS) - 1)
/* Adds in flight: enough to cover a miss to L3 or memory at the rate rows
 * are parsed. */
#define PENDING 16u

struct slot {
	uint64_t key;
	uint64_t count;
};

struct customer {
	uint64_t hash;
	uint32_t off, len; /* name bytes in the arena */
};

struct evc_agg {
	struct slot *slots;
	size_t mask, n_keys, max_keys;
	void *map; /* the mapping holding slots */
	size_t map_len;
	size_t slots_bytes;        /* fits the table and the widened entries */
	bool consumed;             /* slots were sorted and widened in place */
	uint64_t pending[PENDING]; /* keys queued for insertion, a ring */
	unsigned pending_head, n_pending;

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

/* The slot array is mapped by hand to align it on a huge page, which
 * malloc does not promise, and to ask for huge pages. */
static int map_slots(evc_agg *a, size_t bytes)
{
	const size_t len = bytes + HUGE_PAGE;
	if (evc__alloc_fails())
		return EVC_ENOMEM;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return EVC_ENOMEM;
	const uintptr_t p =
	    ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
#ifdef MADV_HUGEPAGE
	if (bytes >= HUGE_PAGE)
		(void)madvise((void *)p, bytes, MADV_HUGEPAGE);
#endif
	a->map = m;
	a->map_len = len;
	a->slots = (struct slot *)p;
	a->slots_bytes = bytes;
	return EVC_OK;
}

int evc__agg_new(evc_agg **out, size_t max_keys)
{
	evc_agg *a = evc__calloc(1, sizeof(*a));
	if (!a)
		return EVC_ENOMEM;
	if (max_keys < 1)
		max_keys = 1;
	/* Load factor at most 3/4 keeps probes short. */
	const size_t n_slots = pow2_at_least(max_keys + max_keys / 3 + 1);
	/* The mapping also holds the sort's scratch half and the widened
	 * entries; at the usual sizes the table alone is that large. */
	size_t bytes = n_slots * sizeof(struct slot);
	if (bytes < 2 * max_keys * sizeof(struct slot))
		bytes = 2 * max_keys * sizeof(struct slot);
	if (bytes < max_keys * sizeof(evc_agg_entry))
		bytes = max_keys * sizeof(evc_agg_entry);
	a->mask = n_slots - 1;
	a->max_keys = max_keys;
	a->cust = evc__malloc(MAX_CUSTOMERS * sizeof(*a->cust));
	a->cust_mask = CUST_SLOTS_MIN - 1;
	a->cust_slots = evc__calloc(CUST_SLOTS_MAX, sizeof(*a->cust_slots));
	a->names = evc__malloc(MAX_NAME_BYTES);
	if (map_slots(a, bytes) != EVC_OK || !a->cust || !a->cust_slots ||
	    !a->names) {
		evc__agg_free(a);
		return EVC_ENOMEM;
	}
	/* A fresh anonymous mapping is zeroed: every slot is free. */
	*out = a;
	return EVC_OK;
}

void evc__agg_free(evc_agg *a)
{
	if (!a)
		return;
	if (a->map)
		munmap(a->map, a->map_len);
	free(a->cust);
	free(a->cust_slots);
	free(a->names);
	free(a);
}

void evc__agg_reset(evc_agg *a)
{
	/* After a sort the widened entries may reach past the table. */
	memset(a->slots, 0,
	       a->consumed ? a->slots_bytes
	                   : (a->mask + 1) * sizeof(struct slot));
	memset(a->cust_slots, 0, (a->cust_mask + 1) * sizeof(*a->cust_slots));
	a->n_keys = 0;
	a->n_cust = 0;
	a->names_len = 0;
	a->consumed = false;
	a->pending_head = 0;
	a->n_pending = 0;
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

/* Double the customer table (at most to CUST_SLOTS_MAX, which keeps the
 * load at 1/2) and insert every customer again. */
static void grow_customers(evc_agg *a)
{
	a->cust_mask = 2 * a->cust_mask + 1;
	memset(a->cust_slots, 0, (a->cust_mask + 1) * sizeof(*a->cust_slots));
	for (size_t k = 0; k < a->n_cust; k++) {
		size_t i = a->cust[k].hash & a->cust_mask;
		while (a->cust_slots[i] != 0)
			i = (i + 1) & a->cust_mask;
		a->cust_slots[i] = (uint32_t)k + 1;
	}
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
			if (2 * a->n_cust > a->cust_mask + 1 &&
			    a->cust_mask + 1 < CUST_SLOTS_MAX)
				grow_customers(a);
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

/* Sixteen consecutive minutes of a customer share a home block of sixteen
 * slots (four cache lines): rows arrive roughly in time order, so a
 * customer's next row usually finds its line still cached. */
static inline size_t home_of(const evc_agg *a, uint64_t key)
{
	return (size_t)(mix64(key >> GROUP_BITS) << GROUP_BITS |
	                (key & GROUP_MASK)) &
	       a->mask;
}

static int insert(evc_agg *a, uint64_t key)
{
	for (size_t i = home_of(a, key);; i = (i + 1) & a->mask) {
		struct slot *s = &a->slots[i];
		if (s->key == key) {
			s->count++;
			return EVC_OK;
		}
		if (s->key == 0) {
			if (a->n_keys >= a->max_keys)
				return EVC_ERANGE; /* caller flushes first */
			s->key = key;
			s->count = 1;
			a->n_keys++;
			return EVC_OK;
		}
	}
}

/* Queued keys never fail to insert: an add is queued only while the table
 * has room for every queued key being new. */
static void drain(evc_agg *a)
{
	for (; a->n_pending > 0; a->n_pending--) {
		(void)insert(a, a->pending[a->pending_head]);
		a->pending_head = (a->pending_head + 1) % PENDING;
	}
}

int evc__agg_add(evc_agg *a, const char *cust, size_t cust_len, int64_t minute)
{
	uint32_t ci;

	if (a->consumed || minute < MINUTE_MIN || minute > MINUTE_MAX)
		return EVC_EINVAL;
	int rc = intern(a, cust, cust_len, &ci);
	if (rc != EVC_OK)
		return rc;
	const uint64_t key =
	    ((uint64_t)ci + 1) << MINUTE_BITS | (uint64_t)(minute - MINUTE_MIN);
	if (a->n_keys + 2 * PENDING > a->max_keys) {
		drain(a);
		return insert(a, key);
	}
	__builtin_prefetch(&a->slots[home_of(a, key)], 1);
	if (a->n_pending < PENDING) {
		a->pending[(a->pending_head + a->n_pending++) % PENDING] = key;
		return EVC_OK;
	}
	/* The oldest key's line has had PENDING adds' time to arrive. */
	(void)insert(a, a->pending[a->pending_head]);
	a->pending[a->pending_head] = key;
	a->pending_head = (a->pending_head + 1) % PENDING;
	return EVC_OK;
}

bool evc__agg_full(evc_agg *a)
{
	drain(a);
	return a->n_keys >= a->max_keys || a->n_cust >= MAX_CUSTOMERS ||
	       a->names_len + 255 > MAX_NAME_BYTES;
}

size_t evc__agg_keys(evc_agg *a)
{
	drain(a);
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

/* LSD radix sort of the keys, stable counting passes of up to RADIX_BITS
 * bits between v and scratch (n slots each). Only bits on which the keys
 * differ get a pass: a batch's customer and minute bits sit far apart with
 * constant bits between, so a typical batch takes three passes. Returns
 * where the sorted slots ended up (v or scratch). */
#define RADIX_BITS 11

static struct slot *radix_sort(struct slot *v, struct slot *scratch, size_t n)
{
	_Static_assert(RADIX_BITS <= 16, "histograms on the stack");
	uint64_t diff = 0;
	for (size_t i = 1; i < n; i++)
		diff |= v[i].key ^ v[0].key;

	struct slot *src = v, *dst = scratch;
	for (unsigned pos = 0; pos < 64 && (diff >> pos) != 0;) {
		pos += (unsigned)__builtin_ctzll(diff >> pos);
		const unsigned width =
		    64 - pos < RADIX_BITS ? 64 - pos : RADIX_BITS;
		const uint64_t mask = (1ULL << width) - 1;
		size_t head[1u << RADIX_BITS] = {0};
		for (size_t i = 0; i < n; i++)
			head[(src[i].key >> pos) & mask]++;
		size_t sum = 0;
		for (size_t b = 0; b <= mask; b++) {
			const size_t c = head[b];
			head[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[head[(src[i].key >> pos) & mask]++] = src[i];
		struct slot *t = src;
		src = dst;
		dst = t;
		pos += width;
	}
	return src;
}

static inline evc_agg_entry widen(struct slot s)
{
	const evc_agg_entry x = {
	    .customer = (uint32_t)((s.key >> MINUTE_BITS) - 1),
	    .minute =
	        (int64_t)(s.key & ((1ULL << MINUTE_BITS) - 1)) + MINUTE_MIN,
	    .count = s.count,
	};
	return x;
}

const evc_agg_entry *evc__agg_sorted(evc_agg *a, size_t *n)
{
	drain(a);
	const size_t k = a->n_keys;

	/* An empty batch has nothing to hand out in place, so it stays open
	 * for adds. */
	if (!a->consumed && k > 0) {
		struct slot *v = a->slots;
		size_t j = 0;
		for (size_t i = 0; i <= a->mask; i++)
			if (v[i].key != 0)
				v[j++] = v[i];
		/* At most max_keys slots are in use, and the mapping is
		 * at least twice that: the rest is the sort's scratch. */
		const struct slot *sorted = radix_sort(v, v + k, k);
		evc_agg_entry *e = (evc_agg_entry *)(void *)a->slots;
		if (sorted == v) {
			/* Widen in place from the back: entry i's bytes end
			 * at or after slot i's, so every slot is read
			 * before it is overwritten. */
			for (size_t i = k; i-- > 0;)
				e[i] = widen(v[i]);
		} else {
			/* From the scratch half, from the front: entry i
			 * ends at byte 24 i + 24, slot i + 1 starts at
			 * 16 k + 16 i + 16, later for every i < k. */
			for (size_t i = 0; i < k; i++)
				e[i] = widen(sorted[i]);
		}
		a->consumed = true;
	}
	*n = k;
	return (const evc_agg_entry *)(void *)a->slots;
}
