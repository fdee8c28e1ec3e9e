/* matcher_view.h - the matcher's replicated view of its sources, in its
 * own LMDB, and the bridge from it to the in-memory index.
 *
 * Each source (an intake or a profiles service) is followed by a
 * jm_follower that applies batches of events to this store in one write
 * transaction with the source's cursor (exactly once in effect). The view
 * keeps:
 *   "orders"    order id   -> compact order record (open orders only)
 *   "profiles"  profile id -> compact profile record
 *   "terms"     be16 term id -> URI       (the dictionary, matcher_dict.h)
 *   "terms.uri" URI -> be16 term id
 * and the cursors ("source-N", jm_cursor) in the same environment. Every
 * record carries the index N of the source it came from, so that a
 * snapshot (the source's log was replaced or pruned past the cursor)
 * drops exactly that source's records.
 *
 * Applying an event only writes LMDB and notes the ids it touched. When
 * the whole batch is written, inside its transaction and just before the
 * commit (the follower's prepared callback), the view reads those ids back
 * through the transaction and puts or removes them in the index, and the
 * events below let the live shortlists be recomputed and published: while
 * the commit's fdatasync runs, not after it. That is safe because the view
 * holds only what its sources have committed and can send again: reading
 * back is idempotent, so a batch redone after the map grew leaves the same
 * index; and if the commit fails after all, the follower's aborted
 * callback reads the ids again from what is committed, which puts the
 * index back, and the batch is fetched again later.
 *
 * Orders that are no longer OPEN, OrderRemoved and ProfileRemoved delete
 * the record: they leave the index with their batch. */
#ifndef MATCHER_VIEW_H
#define MATCHER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/esco.h"
#include "jm/follower.h"
#include "jm/store.h"
#include "matcher_index.h"

typedef struct matcher_view matcher_view_t;

/* One change the index went through, reported right after it was made. */
typedef struct matcher_change {
    bool order;     /* an order (else a citizen) */
    bool removed;   /* left the index (else added or replaced) */
    uint32_t slot;  /* its slot (for a removal: the slot it had) */
    const char *id; /* borrowed for the call; not NUL-terminated */
    size_t id_len;
} matcher_change;

/* For each batch, before its commit (and again if the commit failed and
 * the index is put back): begin(n) with the number of ids touched, then
 * change() for each that changed the index, then end(). A citizen already in
 * the index who is replaced or removed is announced by before() first, while
 * their slot still holds the old record (may be NULL). cause_seq is the
 * source's seq after the batch. */
typedef struct matcher_view_events {
    void (*begin)(void *arg, size_t touched, unsigned source,
                  uint64_t cause_seq);
    void (*before)(void *arg, const matcher_change *change);
    void (*change)(void *arg, const matcher_change *change);
    void (*end)(void *arg);
    /* An open order that a source is committing (its Tick's pending
     * events): the record apply would store, if every term it names is
     * already known, borrowed for the call. Not in the view, and it may
     * never be. May be NULL. */
    void (*pending_order)(void *arg, const struct matcher_order_rec *rec,
                          size_t size);
} matcher_view_events;

typedef struct matcher_view_opts {
    const char *data_dir;  /* created if missing */
    size_t map_size;       /* 0: jm_store's default */
    unsigned sources;      /* number of sources (records of others go) */
    const jm_esco_t *esco; /* occupation -> ISCO group; may be NULL */
    matcher_view_events events;
    void *arg;
} matcher_view_opts;

/* Opens the store, drops records of sources that are no longer
 * configured, and loads the whole view into ix (which must be empty):
 * ready to answer before any follower has run. Caller owns *view_p. */
int matcher_view_open(matcher_view_t **view_p, matcher_index_t *ix,
                      const matcher_view_opts *opts);

/* Closes the store. No follower may still use it. Safe on NULL. */
void matcher_view_destroy(matcher_view_t **view_p);

jm_store_t *matcher_view_store(matcher_view_t *view);

/* The follower handler for source number source (< opts.sources); its arg
 * is *arg_out. The cursor name is "source-N". */
void matcher_view_handler(matcher_view_t *view, unsigned source,
                          jm_follower_handler *handler, void **arg_out,
                          const char **cursor_name);

/* Counters. */
typedef struct matcher_view_stats {
    uint64_t commits; /* batches whose changes reached the index */
    uint64_t resets;  /* snapshots begun */
    uint64_t dropped; /* events ignored: malformed or unusable */
    /* events ignored: their id is held by another source's record */
    uint64_t conflicts;
    double load_ms; /* time to load the view at open */
} matcher_view_stats;

void matcher_view_get_stats(const matcher_view_t *view,
                            matcher_view_stats *out);

/* Citizens the view holds that the index does not (each logged when it
 * happened): past the index's limit of citizens (matcher_index.h), or a
 * record the index could not use. They are matched with nothing until
 * they change again with room for them. Reads the store. */
int matcher_view_profiles_left_out(matcher_view_t *view, uint64_t *out);

#endif
