/* matcher_live.h - live shortlists: every open order's best
 * shortlist_size citizens, kept equal to a fresh computation as orders
 * and citizens change, and a notification when an order's list of ids
 * changes.
 *
 * When an order changes, its list is recomputed. When a citizen changes,
 * the orders whose lists hold them are recomputed (they may have fallen,
 * or moved), and the citizen is scored against every other open order
 * they could enter (the orders sharing a skill, occupation or ISCO group
 * with them: the index's order lists); they enter a list if they beat its
 * last. A citizen erased is taken out of every list at once. A batch of
 * changes too large to follow one by one (catching up after a restart, a
 * snapshot) marks every list stale instead, and the lists are rebuilt in
 * the background, a few milliseconds of work per loop turn; until an
 * order's list is current, queries compute its answer fresh.
 *
 * The lists are exact: test_matcher_live compares every current list
 * with matcher_topk_order after random sequences of changes. */
#ifndef MATCHER_LIVE_H
#define MATCHER_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher_index.h"
#include "matcher_topk.h"
#include "matcher_view.h"

typedef struct matcher_live matcher_live_t;

/* An order's list of ids changed (n 0: it has no candidates left, or it
 * closed). The hits are borrowed for the call. */
typedef void (*matcher_live_publish_fn)(void *arg, const char *order_id,
                                        size_t id_len, const matcher_hit *hits,
                                        size_t n, uint64_t cause_seq);

typedef struct matcher_live_opts {
    unsigned shortlist_size; /* 0: 20 */
    /* A commit touching more ids than this rebuilds every list in the
     * background instead of following each change; 0: 256. */
    unsigned batch_limit;
    /* Stale lists recomputed at once at the end of a commit, before the
     * rest go to the background; 0: 64. */
    unsigned immediate;
    /* Threads that recompute stale lists together (the caller's and
     * threads - 1 helpers, which only read the index while the caller
     * waits for them); 0: 1. The lists are the same for any number. */
    unsigned threads;
    matcher_live_publish_fn publish; /* may be NULL */
    void *arg;
} matcher_live_opts;

/* Every list starts stale (queued for the background). Caller owns
 * *live_p. */
void matcher_live_new(matcher_live_t **live_p, matcher_index_t *ix,
                      const matcher_live_opts *opts);
void matcher_live_destroy(matcher_live_t **live_p);

/* The view's events (matcher_view_events), forwarded. before: a citizen
 * is about to be replaced or removed (their slot still holds the old
 * record); change: the index went through it. */
void matcher_live_begin(matcher_live_t *live, size_t touched,
                        uint64_t cause_seq);
void matcher_live_before(matcher_live_t *live, const matcher_change *change);
void matcher_live_change(matcher_live_t *live, const matcher_change *change);
void matcher_live_end(matcher_live_t *live);

/* An open order that a source is committing and the view does not have
 * yet (matcher_view_events.pending_order): its list is computed now, while
 * the source's commit runs, and kept. When the order comes through the
 * view with the same record, its list is that one, if none of its
 * candidates came, changed or went meanwhile (the index's citizens_gen,
 * which changes of others carry along: matcher_shares_term), nothing else
 * raised citizens_gen, and the day is the same: exactly what a search then
 * would find. Otherwise it is computed again. */
void matcher_live_precompute(matcher_live_t *live,
                             const struct matcher_order_rec *rec, size_t size);

/* Marks every list stale. announce false: do not publish what the
 * rebuild finds (the first build after start: nothing "changed" for a
 * subscriber). */
void matcher_live_rebuild(matcher_live_t *live, bool announce);

/* Recomputes stale lists for about budget_us microseconds. Returns true
 * while stale lists remain. */
bool matcher_live_work(matcher_live_t *live, uint64_t budget_us);

/* Number of stale lists waiting. */
size_t matcher_live_pending(const matcher_live_t *live);

/* The current list of the order in oslot, best first, and the counts of
 * the search that last computed it plus the citizens scored against it
 * since (diagnostics: considered and eligible; the others are 0); NULL if
 * it is stale. Borrowed until the next
 * change. */
const matcher_hit *matcher_live_shortlist(const matcher_live_t *live,
                                          uint32_t oslot, size_t *n,
                                          matcher_topk_stats *stats);

unsigned matcher_live_size(const matcher_live_t *live);

typedef struct matcher_live_stats {
    uint64_t recomputed;       /* lists computed */
    uint64_t entered;          /* citizens that entered a list incrementally */
    uint64_t published;        /* notifications */
    uint64_t rebuilds;         /* times every list went stale */
    uint64_t precomputed;      /* lists computed ahead of their order */
    uint64_t precomputed_used; /* of those, used as the order's list */
    size_t bytes; /* heap held (lists and the citizen -> lists map) */
} matcher_live_stats;

void matcher_live_get_stats(const matcher_live_t *live,
                            matcher_live_stats *out);

#endif
