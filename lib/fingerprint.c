/* SPDX-License-Identifier: MIT */
/*
 * Content fingerprints of inputs: a streaming 64-bit hash, four independent
 * multiply-mix lanes over 32-byte blocks so it runs at several GB/s (the
 * ingested prefix of a file is hashed again each time it is ingested).
 */
#include "evc-int.h"

#include <string.h>

#define P1 0x9e3779b97f4a7c15ULL
#define P2 0xc2b2ae3d27d4eb4fULL

static inline uint64_t rotl(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t round64(uint64_t acc, uint64_t w)
{
	acc += w * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

void evc__hash_init(evc_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->lane[0] = P1 + P2;
	h->lane[1] = P2;
	h->lane[2] = 0;
	h->lane[3] = (uint64_t)0 - P1;
}

static void block(evc_hash *h, const unsigned char *p)
{
	uint64_t w[4];
	memcpy(w, p, 32);
	for (unsigned i = 0; i < 4; i++)
		h->lane[i] = round64(h->lane[i], w[i]);
}

void evc__hash_update(evc_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->len += len;
	if (h->n_tail) {
		size_t take = 32 - h->n_tail;
		if (take > len)
			take = len;
		memcpy(h->tail + h->n_tail, p, take);
		h->n_tail += (unsigned)take;
		p += take;
		len -= take;
		if (h->n_tail < 32)
			return;
		block(h, h->tail);
		h->n_tail = 0;
	}
	/* The lanes in locals: through h, every store could alias the
	 * input (char data), and the loop went through memory each round,
	 * at half the speed. */
	uint64_t l0 = h->lane[0], l1 = h->lane[1], l2 = h->lane[2],
	         l3 = h->lane[3];
	for (; len >= 32; p += 32, len -= 32) {
		uint64_t w[4];
		memcpy(w, p, 32);
		l0 = round64(l0, w[0]);
		l1 = round64(l1, w[1]);
		l2 = round64(l2, w[2]);
		l3 = round64(l3, w[3]);
	}
	h->lane[0] = l0;
	h->lane[1] = l1;
	h->lane[2] = l2;
	h->lane[3] = l3;
	memcpy(h->tail, p, len);
	h->n_tail = (unsigned)len;
}

uint64_t evc__hash_final(const evc_hash *h)
{
	uint64_t acc = rotl(h->lane[0], 1) + rotl(h->lane[1], 7) +
	               rotl(h->lane[2], 12) + rotl(h->lane[3], 18);
	for (unsigned i = 0; i < 4; i++)
		acc = (acc ^ round64(0, h->lane[i])) * P1 + P2;
	acc += h->len;
	for (unsigned i = 0; i < h->n_tail; i++)
		acc = rotl(acc ^ (h->tail[i] * P1), 11) * P2;
	acc ^= acc >> 33;
	acc *= P2;
	acc ^= acc >> 29;
	return acc;
}
