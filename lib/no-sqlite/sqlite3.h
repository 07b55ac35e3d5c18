/* SPDX-License-Identifier: MIT */
/*
 * Found before the system's <sqlite3.h> by everything but the SQLite
 * backend and its own tests (lib/meson.build): the storage contract,
 * lib/storage.h, is the only way to the store.
 */
#error "only the SQLite backend (lib/sqlite.c, lib/sqlite-vtab.c) includes <sqlite3.h>; use lib/storage.h"
