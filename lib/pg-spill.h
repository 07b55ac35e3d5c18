/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL backend's spill: the hour sets a write transaction
 * stages, kept on the client in an unlinked temporary file as sorted runs,
 * and read back as one stream in (customer, hour) order with each key's
 * rows summed. The server is sent the staged keys only; their minutes go
 * to it once, as sums.
 */
#ifndef EVC_PG_SPILL_H
#define EVC_PG_SPILL_H

#include "storage.h"

/* Runs one spill merges at most: a merge is due when it has this many. */
#define EVC_SPILL_RUNS 64

typedef struct evc_spill evc_spill;

/* Returns NULL when out of memory; the file is made on the first run. */
evc_spill *evc__spill_new(void);
void evc__spill_free(evc_spill *sp);

/* Append `set` (each customer's rows together, its hours ascending, each
 * key once) as a run, in key order. EVC_EIO or
 * EVC_EFULL with errno set, EVC_ENOMEM; the spill is then as before. */
int evc__spill_add(evc_spill *sp, const evc_hour_set *set);
size_t evc__spill_runs(const evc_spill *sp);
/* Forget every run. */
void evc__spill_clear(evc_spill *sp);

/* Start reading the runs merged, from the first key; may be called again
 * to read them again. EVC_EIO with errno set, EVC_ENOMEM. */
int evc__spill_rewind(evc_spill *sp);
/* The next key and the sum of its rows (blob: at most
 * EVC_MINUTES_BLOB_MAX bytes): 1; 0 at the end; EVC_EIO with errno set;
 * EVC_ECORRUPT when the file does not read back as written. */
int evc__spill_next(evc_spill *sp, int64_t *customer, int64_t *hour,
                    uint64_t *total, uint8_t *blob, size_t *len);

#endif
