/* commit.c - group commit: every request queued in one loop turn goes into
 * one write transaction, and the replies go out after it commits.
 *
 * An fsync'd LMDB commit costs milliseconds; one per request would cap a
 * service at a few hundred writes a second. One per loop turn costs the
 * same fsync for the whole batch (DESIGN.md sections 3 and 5). The price
 * is that one item failing the batch (-errno from apply) fails all of
 * them, so apply rejects what it can by reading (a positive status) and
 * keeps -errno for real trouble.
 *
 * No uv handles: the owner calls jm_commit_flush from its own callback,
 * which keeps this module a plain object that tests drive directly. */
#include "jm/store.h"

#include <errno.h>
#include <stdlib.h>

#include "jm/mem.h"

struct jm_commit {
    jm_store_t *store;
    jm_commit_apply_fn apply;
    jm_commit_done_fn done;
    jm_commit_committed_fn committed; /* optional, once per flush */
    jm_commit_begin_fn begin;         /* optional, once per attempt */
    jm_commit_prepared_fn prepared;   /* optional, once per attempt */
    void *arg;
    void **items; /* the queue, in arrival order */
    size_t count;
    size_t cap;
    int *status; /* per item of the batch being flushed */
    size_t status_cap;
    bool flushing;
    bool destroying;
    jm_commit_stats stats;
};

/* What one flush hands to jm_store_write. */
struct batch {
    jm_commit_t *self;
    void **items;
    size_t count;
    unsigned calls; /* more than one: the batch was redone */
};

int
jm_commit_new(jm_commit_t **commit_p, jm_store_t *store,
              jm_commit_apply_fn apply, jm_commit_done_fn done, void *arg)
{
    jm_commit_t *self;

    JM_ASSERT(commit_p != NULL);
    JM_ASSERT(store != NULL);
    JM_ASSERT(apply != NULL);
    JM_ASSERT(done != NULL);
    self = jm_xcalloc(1, sizeof(*self));
    self->store = store;
    self->apply = apply;
    self->done = done;
    self->arg = arg;
    *commit_p = self;
    return 0;
}

void
jm_commit_destroy(jm_commit_t **commit_p)
{
    jm_commit_t *self;
    size_t i;

    JM_ASSERT(commit_p != NULL);
    self = *commit_p;
    if (self == NULL)
        return;
    /* Destroying from a done callback would free the queue under flush. */
    JM_ASSERT(!self->flushing);
    /* Every queued item still hears back once, so its owner can answer
     * the request ("shutting down") and free it. Queueing more from here
     * is a bug: jm_commit_add asserts. */
    self->destroying = true;
    for (i = 0; i < self->count; i++)
        self->done(self->items[i], -ECANCELED, self->arg);
    free(self->items);
    free(self->status);
    free(self);
    *commit_p = NULL;
}

void
jm_commit_add(jm_commit_t *commit, void *item)
{
    JM_ASSERT(commit != NULL);
    JM_ASSERT(!commit->destroying);
    if (commit->count == commit->cap) {
        commit->cap = commit->cap ? commit->cap * 2 : 16;
        commit->items =
            jm_xrealloc(commit->items, commit->cap * sizeof(*commit->items));
    }
    commit->items[commit->count++] = item;
}

size_t
jm_commit_pending(const jm_commit_t *commit)
{
    JM_ASSERT(commit != NULL);
    return commit->count;
}

/* The transaction body. Redo-safe as long as each apply is: every call
 * starts again from the first item and rewrites every status. */
static int
apply_all(jm_txn_t *txn, void *arg)
{
    struct batch *b = arg;
    jm_commit_t *self = b->self;
    size_t i;
    int rc;

    b->calls++;
    if (self->begin != NULL)
        self->begin(self->arg);
    for (i = 0; i < b->count; i++) {
        if ((rc = self->apply(txn, b->items[i], self->arg)) < 0)
            return rc;
        self->status[i] = rc;
    }
    if (self->prepared != NULL)
        self->prepared(txn, self->arg);
    return 0;
}

void
jm_commit_on_committed(jm_commit_t *commit, jm_commit_committed_fn fn)
{
    JM_ASSERT(commit != NULL);
    commit->committed = fn;
}

void
jm_commit_on_begin(jm_commit_t *commit, jm_commit_begin_fn fn)
{
    JM_ASSERT(commit != NULL);
    commit->begin = fn;
}

void
jm_commit_on_prepared(jm_commit_t *commit, jm_commit_prepared_fn fn)
{
    JM_ASSERT(commit != NULL);
    commit->prepared = fn;
}

int
jm_commit_flush(jm_commit_t *commit)
{
    struct batch b = {commit, NULL, 0, 0};
    size_t i, cap;
    int rc;

    JM_ASSERT(commit != NULL);
    JM_ASSERT(!commit->flushing);
    if (commit->count == 0)
        return 0;
    /* Take the whole queue: items that done callbacks queue go into a
     * fresh one and wait for the next flush. */
    b.items = commit->items;
    b.count = commit->count;
    cap = commit->cap;
    commit->items = NULL;
    commit->count = 0;
    commit->cap = 0;
    if (commit->status_cap < b.count) {
        commit->status_cap = b.count;
        commit->status =
            jm_xrealloc(commit->status, b.count * sizeof(*commit->status));
    }

    commit->flushing = true;
    rc = jm_store_write(commit->store, apply_all, &b);
    for (i = 0; rc != 0 && i < b.count; i++)
        commit->status[i] = rc; /* nothing was committed */
    commit->stats.batches++;
    commit->stats.items += b.count;
    if (b.count > commit->stats.largest_batch)
        commit->stats.largest_batch = b.count;
    if (b.calls > 1)
        commit->stats.redos++;
    /* Only now, after the commit returned, may anyone hear "accepted". */
    if (commit->committed != NULL)
        commit->committed(rc, commit->arg);
    for (i = 0; i < b.count; i++)
        commit->done(b.items[i], commit->status[i], commit->arg);
    commit->flushing = false;

    /* Keep the batch's array as the next queue unless done callbacks
     * already started one. */
    if (commit->items == NULL) {
        commit->items = b.items;
        commit->cap = cap;
    } else {
        free(b.items);
    }
    return rc;
}

void
jm_commit_get_stats(const jm_commit_t *commit, jm_commit_stats *out)
{
    JM_ASSERT(commit != NULL);
    JM_ASSERT(out != NULL);
    *out = commit->stats;
}
