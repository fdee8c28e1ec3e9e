/* store_internal.h - what the store's own modules (cursor.c and friends)
 * share with store.c and nobody else sees. */
#ifndef JM_STORE_INTERNAL_H
#define JM_STORE_INTERNAL_H

#include "jm/store.h"

/* LMDB's compiled-in key limit (mdb_env_get_maxkeysize), also the limit of
 * a DUPSORT value. jm_store_open asserts the library agrees. */
#define JM__STORE_KEY_MAX 511

/* The database jm_store_open always opens for jm_cursor_*: cursors are
 * loaded and saved inside a caller's transaction, where opening a database
 * is no longer possible (it needs a write transaction of its own). */
#define JM__STORE_CURSORS_DB "cursors"

jm_dbi jm__store_cursors_dbi(const jm_store_t *store);

#endif
