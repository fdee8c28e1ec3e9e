/* matcher_view.c - the replicated view in LMDB and its way into the index
 * (see matcher_view.h).
 *
 * Applying an event writes LMDB and notes the id it touched. New URIs get
 * their term ids inside the same transaction ("terms", "terms.uri"), so a
 * record never refers to a term that is not durable with it. When the
 * batch is written, still inside its transaction (the follower's
 * prepared), the dictionary learns the new terms and the touched ids are
 * read back into the index; the commit follows. */
#include "matcher_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "jm/err.h"
#include "jm/fs.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "matcher_record.h"

#define KIND_ORDER   1
#define KIND_PROFILE 2
#define URI_KEY_MAX  400 /* LMDB keys are at most 511 bytes */

struct source_ctx {
    matcher_view_t *view;
    unsigned index;
    char cursor[24];
};

struct touched {
    uint8_t kind;
    uint8_t len;
    char id[64];
};

struct matcher_view {
    jm_store_t *store;
    jm_dbi orders, profiles, terms, terms_uri;
    matcher_index_t *ix;
    matcher_view_opts opts;
    struct source_ctx *sources;
    struct touched *touched;
    size_t ntouched, touched_cap;
    /* Terms 0 .. terms_durable-1 are committed in the store; the
     * dictionary may know more, learnt from a batch not yet committed. */
    size_t terms_durable;
    matcher_view_stats stats;
};

/* ---- helpers ---- */

static bool
id_ok(const char *id)
{
    size_t len = id ? strlen(id) : 0;

    return len > 0 && len <= 64;
}

/* Notes an id the transaction touched, to read back after the commit.
 * A redone batch notes them again: duplicates are removed then. */
static void
touch(matcher_view_t *view, uint8_t kind, const char *id)
{
    struct touched *t;

    if (view->ntouched == view->touched_cap) {
        view->touched_cap = view->touched_cap ? view->touched_cap * 2 : 256;
        view->touched =
            jm_xrealloc(view->touched, view->touched_cap * sizeof(*t));
    }
    t = &view->touched[view->ntouched++];
    t->kind = kind;
    t->len = (uint8_t) strlen(id);
    memcpy(t->id, id, t->len);
}

/* ---- terms, inside a write transaction ---- */

struct intern_ctx {
    matcher_view_t *view;
    jm_txn_t *txn;
};

static int
intern_txn(void *arg, const char *uri, uint16_t *id)
{
    struct intern_ctx *c = arg;
    matcher_view_t *view = c->view;
    size_t len = strlen(uri);
    uint8_t key[2];
    jm_val val, last;
    int found = matcher_dict_find(view->ix->dict, uri, len), rc;
    unsigned next;

    /* An id learnt from a transaction that did not commit (this batch's
     * first try, before the map grew) is not in the store: given again
     * below, in the same order, so the same id. */
    if (found >= 0 && (size_t) found < view->terms_durable) {
        *id = (uint16_t) found;
        return 0;
    }
    if (len == 0 || len > URI_KEY_MAX)
        return -ENOSPC; /* not a term we can keep: dropped */
    /* Given an id earlier in this transaction? */
    rc = jm_txn_get(c->txn, view->terms_uri, uri, len, &val);
    if (rc == 0 && val.size == 2) {
        *id = (uint16_t) (((const uint8_t *) val.data)[0] << 8 |
                          ((const uint8_t *) val.data)[1]);
        return 0;
    }
    if (rc != -ENOENT)
        return rc == 0 ? -EIO : rc;
    rc = jm_txn_last(c->txn, view->terms, &last, &val);
    if (rc == 0 && last.size == 2)
        next = (unsigned) (((const uint8_t *) last.data)[0] << 8 |
                           ((const uint8_t *) last.data)[1]) +
               1;
    else if (rc == -ENOENT)
        next = 0;
    else
        return rc == 0 ? -EIO : rc;
    if (next >= MATCHER_TERMS_MAX) {
        jm_log(JM_LOG_WARN, "matcher", "term dictionary full: %s dropped", uri);
        return -ENOSPC;
    }
    key[0] = (uint8_t) (next >> 8);
    key[1] = (uint8_t) next;
    if ((rc = jm_txn_put(c->txn, view->terms, key, 2, uri, len, 0)) != 0 ||
        (rc = jm_txn_put(c->txn, view->terms_uri, uri, len, key, 2, 0)) != 0)
        return rc;
    *id = (uint16_t) next;
    return 0;
}

/* ---- applying events ---- */

/* 1 if the view holds id from another source than this one (0 if not,
 * or -errno). Ids are the sources' own (a client may choose an order's
 * id), and two municipalities sharing a matcher may both use one: the
 * record first applied keeps the id, and the other source's events for
 * it change nothing (before, the last one applied won, and one
 * municipality's close took the other's open order out of every answer).
 * Logged each time, as the operator's to mend: the ids must differ. */
static int
held_by_another_source(matcher_view_t *view, jm_txn_t *txn, jm_dbi dbi,
                       uint8_t kind, const char *id, unsigned source)
{
    jm_val v;
    unsigned holder;
    int rc = jm_txn_get(txn, dbi, id, strlen(id), &v);

    if (rc == -ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    /* Every record starts with its format and its source (matcher_record.h). */
    holder = v.size >= 2 ? ((const uint8_t *) v.data)[1] : source;
    if (holder == source)
        return 0;
    view->stats.conflicts++;
    jm_log(JM_LOG_WARN, "matcher",
           "%s %s from source %u has the id of source %u's: ignored (ids must "
           "be unique across the sources of one matcher: docs/matching.md "
           "section 12)",
           kind == KIND_ORDER ? "order" : "citizen", id, source, holder);
    return 1;
}

/* Removals do not fail on an id the view does not have: events carry
 * state, and applying one twice must be harmless. */
static int
delete_record(matcher_view_t *view, jm_txn_t *txn, jm_dbi dbi, uint8_t kind,
              const char *id, unsigned source)
{
    int rc;

    if (!id_ok(id)) {
        view->stats.dropped++;
        return 0;
    }
    if ((rc = held_by_another_source(view, txn, dbi, kind, id, source)) != 0)
        return rc < 0 ? rc : 0;
    rc = jm_txn_del(txn, dbi, id, strlen(id));
    if (rc != 0 && rc != -ENOENT)
        return rc;
    touch(view, kind, id);
    return 0;
}

/* Only open orders are kept: any other status deletes the record, so a
 * closed order leaves the index at the next commit. */
static int
apply_order(struct source_ctx *sc, jm_txn_t *txn,
            const Jobmatch__V1__JobOrder *order)
{
    matcher_view_t *view = sc->view;
    _Alignas(8) uint8_t buf[MATCHER_ORDER_REC_MAX];
    struct intern_ctx ic = {view, txn};
    matcher_encoder enc = {view->opts.esco, intern_txn, &ic};
    int n, rc;

    if (order == NULL || !id_ok(order->id)) {
        view->stats.dropped++;
        return 0;
    }
    if (order->status != JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN)
        return delete_record(view, txn, view->orders, KIND_ORDER, order->id,
                             sc->index);
    if ((rc = held_by_another_source(view, txn, view->orders, KIND_ORDER,
                                     order->id, sc->index)) != 0)
        return rc < 0 ? rc : 0;
    n = matcher_record_order(&enc, order, (uint8_t) sc->index, buf);
    if (n < 0)
        return n;
    if ((rc = jm_txn_put(txn, view->orders, order->id, strlen(order->id), buf,
                         (size_t) n, 0)) != 0)
        return rc;
    touch(view, KIND_ORDER, order->id);
    return 0;
}

static int
apply_profile(struct source_ctx *sc, jm_txn_t *txn,
              const Jobmatch__V1__CitizenProfile *profile)
{
    matcher_view_t *view = sc->view;
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    struct intern_ctx ic = {view, txn};
    matcher_encoder enc = {view->opts.esco, intern_txn, &ic};
    int n, rc;

    if (profile == NULL || !id_ok(profile->id)) {
        view->stats.dropped++;
        return 0;
    }
    if ((rc = held_by_another_source(view, txn, view->profiles, KIND_PROFILE,
                                     profile->id, sc->index)) != 0)
        return rc < 0 ? rc : 0;
    n = matcher_record_profile(&enc, profile, (uint8_t) sc->index, buf);
    if (n < 0)
        return n;
    if ((rc = jm_txn_put(txn, view->profiles, profile->id, strlen(profile->id),
                         buf, (size_t) n, 0)) != 0)
        return rc;
    touch(view, KIND_PROFILE, profile->id);
    return 0;
}

static int
on_apply(jm_txn_t *txn, const Jobmatch__V1__Event *event, void *arg)
{
    struct source_ctx *sc = arg;
    matcher_view_t *view = sc->view;

    switch (event->body_case) {
    case JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED:
        return apply_order(
            sc, txn, event->order_changed ? event->order_changed->order : NULL);
    case JOBMATCH__V1__EVENT__BODY_ORDER_REMOVED:
        return delete_record(
            view, txn, view->orders, KIND_ORDER,
            event->order_removed ? event->order_removed->order_id : NULL,
            sc->index);
    case JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED:
        return apply_profile(
            sc, txn,
            event->profile_changed ? event->profile_changed->profile : NULL);
    case JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED:
        return delete_record(
            view, txn, view->profiles, KIND_PROFILE,
            event->profile_removed ? event->profile_removed->profile_id : NULL,
            sc->index);
    default:
        /* A kind of event this build does not know: not ours to judge. */
        view->stats.dropped++;
        return 0;
    }
}

/* ---- pending events: orders a source is committing ---- */

/* Terms for a record of events not yet committed: only those the store
 * holds (ids below terms_durable, which keep their meaning). Nothing is
 * learnt: a new term makes the record -ENOENT. */
static int
intern_durable(void *arg, const char *uri, uint16_t *id)
{
    const matcher_view_t *view = arg;
    int found = matcher_dict_find(view->ix->dict, uri, strlen(uri));

    if (found < 0 || (size_t) found >= view->terms_durable)
        return -ENOENT;
    *id = (uint16_t) found;
    return 0;
}

/* The follower's pending callback: each open order of the events becomes
 * a record as apply_order would store it, for events.pending_order. */
static void
on_pending(Jobmatch__V1__Event *const *events, size_t n, void *arg)
{
    struct source_ctx *sc = arg;
    matcher_view_t *view = sc->view;
    _Alignas(8) uint8_t buf[MATCHER_ORDER_REC_MAX];
    matcher_encoder enc = {view->opts.esco, intern_durable, view};

    if (view->opts.events.pending_order == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const Jobmatch__V1__JobOrder *order;
        int size;

        if (events[i]->body_case != JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED ||
            events[i]->order_changed == NULL)
            continue;
        order = events[i]->order_changed->order;
        if (order == NULL || !id_ok(order->id) ||
            order->status != JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN)
            continue;
        size = matcher_record_order(&enc, order, (uint8_t) sc->index, buf);
        if (size > 0)
            view->opts.events.pending_order(
                view->opts.arg, (const struct matcher_order_rec *) buf,
                (size_t) size);
    }
}

/* ---- snapshots: forget one source's records ---- */

struct collect {
    unsigned source; /* records of this source; or >= it with "from" */
    bool from;
    char (*ids)[65];
    size_t n, cap;
};

/* Keys of the records of one source (or of every source from a position
 * on, for sources no longer configured). */
static int
collect_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct collect *c = arg;
    unsigned source;

    if (val->size < 2 || key->size == 0 || key->size > 64)
        return 0;
    source = ((const uint8_t *) val->data)[1];
    if (c->from ? source < c->source : source != c->source)
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->ids = jm_xrealloc(c->ids, c->cap * sizeof(*c->ids));
    }
    memcpy(c->ids[c->n], key->data, key->size);
    c->ids[c->n][key->size] = '\0';
    c->n++;
    return 0;
}

/* Deletes the records of source (or of every source >= it) from dbi. */
static int
drop_source(matcher_view_t *view, jm_txn_t *txn, jm_dbi dbi, uint8_t kind,
            unsigned source, bool from)
{
    struct collect c = {.source = source, .from = from};
    int rc = jm_txn_scan(txn, dbi, NULL, 0, collect_one, &c);

    /* The walk must not write: delete afterwards. */
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        rc = jm_txn_del(txn, dbi, c.ids[i], strlen(c.ids[i]));
        if (rc == 0 && view != NULL)
            touch(view, kind, c.ids[i]);
    }
    free(c.ids);
    return rc;
}

static int
on_reset(jm_txn_t *txn, void *arg)
{
    struct source_ctx *sc = arg;
    matcher_view_t *view = sc->view;
    int rc;

    jm_log(JM_LOG_NOTICE, "matcher", "source %u: snapshot, dropping its view",
           sc->index);
    view->stats.resets++;
    if ((rc = drop_source(view, txn, view->orders, KIND_ORDER, sc->index,
                          false)) != 0)
        return rc;
    return drop_source(view, txn, view->profiles, KIND_PROFILE, sc->index,
                       false);
}

/* ---- after the commit: into the index ---- */

static int
touched_cmp(const void *a, const void *b)
{
    const struct touched *x = a, *y = b;
    int c;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    c = memcmp(x->id, y->id, x->len < y->len ? x->len : y->len);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Terms are stored under dense, increasing ids; they are learnt in id
 * order, so the dictionary's next id is always the next stored one. */
static int
load_term(const jm_val *key, const jm_val *val, void *arg)
{
    matcher_view_t *view = arg;
    const uint8_t *k = key->data;
    uint16_t id;
    int rc;

    if (key->size != 2)
        return -EIO;
    id = (uint16_t) (k[0] << 8 | k[1]);
    if ((rc = matcher_dict_add(view->ix->dict, id, val->data, val->size)) !=
        0) {
        jm_log(JM_LOG_ERR, "matcher", "term %u in the store: %s", id,
               jm_strerror(rc));
        return -EIO;
    }
    return 0;
}

/* Learns the terms stored after the committed ones, forgetting first
 * any learnt from a transaction that did not commit. */
static int
sync_terms(matcher_view_t *view, jm_txn_t *txn)
{
    size_t count = view->terms_durable;
    uint8_t key[2] = {(uint8_t) (count >> 8), (uint8_t) count};

    matcher_dict_truncate(view->ix->dict, count);
    return jm_txn_scan(txn, view->terms, key, 2, load_term, view);
}

/* Copies a record out of LMDB (whose values need not be aligned). */
static bool
read_record(jm_txn_t *txn, jm_dbi dbi, const char *id, size_t len, uint8_t *buf,
            size_t max, size_t *size)
{
    jm_val val;

    if (jm_txn_get(txn, dbi, id, len, &val) != 0 || val.size > max)
        return false;
    memcpy(buf, val.data, val.size);
    *size = val.size;
    return true;
}

/* One touched id: present in the store -> put in the index, absent ->
 * removed. The change is reported at once, before the next id, because a
 * removed slot may be reused by a later one in the same commit. */
static void
sync_one(matcher_view_t *view, jm_txn_t *txn, const struct touched *t)
{
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX > MATCHER_ORDER_REC_MAX
                                ? MATCHER_PROFILE_REC_MAX
                                : MATCHER_ORDER_REC_MAX];
    matcher_index_t *ix = view->ix;
    matcher_change ch = {
        .order = t->kind == KIND_ORDER, .id = t->id, .id_len = t->len};
    size_t size;

    if (ch.order) {
        if (read_record(txn, view->orders, t->id, t->len, buf, sizeof(buf),
                        &size) &&
            matcher_record_order_valid(buf, size)) {
            ch.slot = matcher_index_put_order(
                ix, (const struct matcher_order_rec *) (const void *) buf,
                size);
        } else {
            ch.removed = true;
            ch.slot = matcher_index_remove_order(ix, t->id, t->len);
        }
    } else {
        bool present = read_record(txn, view->profiles, t->id, t->len, buf,
                                   sizeof(buf), &size) &&
                       matcher_record_profile_valid(buf, size);
        matcher_change pre = ch;

        pre.removed = !present;
        pre.slot = matcher_index_find_profile(ix, t->id, t->len);
        if (pre.slot != MATCHER_NONE && view->opts.events.before != NULL)
            view->opts.events.before(view->opts.arg, &pre);
        if (present) {
            ch.slot = matcher_index_put_profile(
                ix, (const struct matcher_profile_rec *) (const void *) buf,
                size);
        } else {
            ch.removed = true;
            ch.slot = matcher_index_remove_profile(ix, t->id, t->len);
        }
    }
    if (ch.slot != MATCHER_NONE && view->opts.events.change != NULL)
        view->opts.events.change(view->opts.arg, &ch);
}

static int
sync_txn(jm_txn_t *txn, void *arg)
{
    matcher_view_t *view = arg;
    int rc = sync_terms(view, txn);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < view->ntouched; i++)
        sync_one(view, txn, &view->touched[i]);
    return 0;
}

/* Each touched id once (a batch redone after the map grew touched its
 * ids twice). */
static void
dedup_touched(matcher_view_t *view)
{
    size_t n = 0;

    if (view->ntouched > 1)
        qsort(view->touched, view->ntouched, sizeof(*view->touched),
              touched_cmp);
    for (size_t i = 0; i < view->ntouched; i++) {
        if (n == 0 || touched_cmp(&view->touched[n - 1], &view->touched[i]))
            view->touched[n++] = view->touched[i];
    }
    view->ntouched = n;
}

/* The touched ids from txn into the index, between the events' begin and
 * end: the live shortlists are recomputed and published in end. */
static int
sync_touched(matcher_view_t *view, jm_txn_t *txn, unsigned source,
             uint64_t last_seq)
{
    int rc;

    dedup_touched(view);
    if (view->opts.events.begin != NULL)
        view->opts.events.begin(view->opts.arg, view->ntouched, source,
                                last_seq);
    rc = sync_txn(txn, view);
    if (view->opts.events.end != NULL)
        view->opts.events.end(view->opts.arg);
    return rc;
}

/* Before the commit, in the batch's transaction: the index and the live
 * shortlists take the batch now, so that a new order's shortlist is
 * published while the commit's fdatasync runs rather than after it (it is
 * about 0.4 ms of an order's way to its shortlist). What is published is
 * committed at the source already; if this commit fails, on_aborted puts
 * the index back, and the batch is fetched again. */
static int
on_prepared(jm_txn_t *txn, uint64_t last_seq, void *arg)
{
    struct source_ctx *sc = arg;

    return sync_touched(sc->view, txn, sc->index, last_seq);
}

static void
on_committed(uint64_t last_seq, void *arg)
{
    struct source_ctx *sc = arg;
    matcher_view_t *view = sc->view;

    (void) last_seq;
    view->terms_durable = matcher_dict_count(view->ix->dict);
    view->ntouched = 0;
    view->stats.commits++;
}

struct resync {
    matcher_view_t *view;
    unsigned source;
    uint64_t last_seq;
};

static int
resync_txn(jm_txn_t *txn, void *arg)
{
    struct resync *r = arg;

    return sync_touched(r->view, txn, r->source, r->last_seq);
}

/* The commit failed after on_prepared: the touched ids are read again
 * from what is committed, which puts back (or takes out) what the batch
 * changed, and the dictionary forgets the batch's new terms. */
static void
on_aborted(uint64_t last_seq, void *arg)
{
    struct source_ctx *sc = arg;
    matcher_view_t *view = sc->view;
    struct resync r = {view, sc->index, last_seq};
    int rc = jm_store_read(view->store, resync_txn, &r);

    if (rc != 0) {
        /* Keep the ids: the next batch reads them again. */
        jm_log(JM_LOG_ERR, "matcher", "putting a failed batch back: %s",
               jm_strerror(rc));
        return;
    }
    view->ntouched = 0;
}

void
matcher_view_handler(matcher_view_t *view, unsigned source,
                     jm_follower_handler *handler, void **arg_out,
                     const char **cursor_name)
{
    JM_ASSERT(source < view->opts.sources);
    handler->apply = on_apply;
    handler->reset = on_reset;
    handler->prepared = on_prepared;
    handler->committed = on_committed;
    handler->aborted = on_aborted;
    handler->pending = on_pending;
    *arg_out = &view->sources[source];
    *cursor_name = view->sources[source].cursor;
}

/* ---- opening and loading ---- */

/* The records of sources no longer configured (positions past the last)
 * and their cursors: a source put back in that position later is read
 * again from the start of its log (or a snapshot), not from where the
 * dropped records had got to. */
static int
drop_unconfigured(jm_txn_t *txn, void *arg)
{
    matcher_view_t *view = arg;
    int rc = drop_source(NULL, txn, view->orders, KIND_ORDER,
                         view->opts.sources, true);

    if (rc == 0)
        rc = drop_source(NULL, txn, view->profiles, KIND_PROFILE,
                         view->opts.sources, true);
    for (unsigned i = view->opts.sources; rc == 0 && i < 256; i++) {
        char cursor[sizeof(view->sources[0].cursor)];

        snprintf(cursor, sizeof(cursor), "source-%u", i);
        rc = jm_cursor_forget(view->store, txn, cursor);
    }
    return rc;
}

struct load {
    matcher_view_t *view;
    uint32_t profiles, orders, bad;
};

/* Records are copied out of LMDB first: its values need not be aligned
 * for the record structs. A record that does not check out is skipped
 * and counted (a later event for it puts it back). */
static int
load_profile(const jm_val *key, const jm_val *val, void *arg)
{
    struct load *l = arg;
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];

    (void) key;
    if (val->size > sizeof(buf) ||
        !matcher_record_profile_valid(val->data, val->size)) {
        l->bad++;
        return 0;
    }
    memcpy(buf, val->data, val->size);
    if (matcher_index_put_profile(
            l->view->ix, (const struct matcher_profile_rec *) (void *) buf,
            val->size) == MATCHER_NONE)
        l->bad++;
    return 0;
}

static int
load_order(const jm_val *key, const jm_val *val, void *arg)
{
    struct load *l = arg;
    _Alignas(8) uint8_t buf[MATCHER_ORDER_REC_MAX];

    (void) key;
    if (val->size > sizeof(buf) ||
        !matcher_record_order_valid(val->data, val->size)) {
        l->bad++;
        return 0;
    }
    memcpy(buf, val->data, val->size);
    if (matcher_index_put_order(l->view->ix,
                                (const struct matcher_order_rec *) (void *) buf,
                                val->size) == MATCHER_NONE)
        l->bad++;
    return 0;
}

static int
load_txn(jm_txn_t *txn, void *arg)
{
    struct load *l = arg;
    matcher_view_t *view = l->view;
    uint64_t profiles, orders;
    int rc;

    /* The counts are LMDB's, kept in each tree's root: no scan. */
    if ((rc = sync_terms(view, txn)) != 0 ||
        (rc = jm_txn_count(txn, view->profiles, &profiles)) != 0 ||
        (rc = jm_txn_count(txn, view->orders, &orders)) != 0)
        return rc;
    if (profiles > UINT32_MAX || orders > UINT32_MAX)
        return -EIO; /* not a view this matcher wrote */
    /* Exactly the room needed: no slack from doubling. */
    matcher_index_reserve(view->ix, (uint32_t) profiles, (uint32_t) orders);
    matcher_index_bulk_begin(view->ix);
    rc = jm_txn_scan(txn, view->profiles, NULL, 0, load_profile, l);
    matcher_index_bulk_end(view->ix);
    if (rc != 0 ||
        (rc = jm_txn_scan(txn, view->orders, NULL, 0, load_order, l)) != 0)
        return rc;
    l->profiles = (uint32_t) profiles;
    l->orders = (uint32_t) orders;
    return 0;
}

int
matcher_view_open(matcher_view_t **view_p, matcher_index_t *ix,
                  const matcher_view_opts *opts)
{
    matcher_view_t *view = jm_xcalloc(1, sizeof(*view));
    /* The view and its cursors can always be fetched again from the
     * sources: one sync per commit, not two (jm_store_opts). */
    jm_store_opts sopts = {.map_size = opts->map_size, .refetchable = true};
    struct load l = {.view = view};
    uint64_t t0 = uv_hrtime();
    int rc;

    JM_ASSERT(opts->sources >= 1 && opts->sources <= 255);
    view->ix = ix;
    view->opts = *opts;
    view->sources = jm_xcalloc(opts->sources, sizeof(*view->sources));
    for (unsigned i = 0; i < opts->sources; i++) {
        view->sources[i].view = view;
        view->sources[i].index = i;
        snprintf(view->sources[i].cursor, sizeof(view->sources[i].cursor),
                 "source-%u", i);
    }
    if ((rc = jm_fs_mkdirs(opts->data_dir, 0750)) != 0) {
        jm_log(JM_LOG_ERR, "matcher", "cannot create %s: %s", opts->data_dir,
               jm_strerror(rc));
        goto fail;
    }
    if ((rc = jm_store_open(&view->store, opts->data_dir, &sopts)) != 0) {
        jm_log(JM_LOG_ERR, "matcher", "cannot open the store in %s: %s",
               opts->data_dir, jm_strerror(rc));
        goto fail;
    }
    if ((rc = jm_store_dbi(view->store, "orders", false, &view->orders)) != 0 ||
        (rc = jm_store_dbi(view->store, "profiles", false, &view->profiles)) !=
            0 ||
        (rc = jm_store_dbi(view->store, "terms", false, &view->terms)) != 0 ||
        (rc = jm_store_dbi(view->store, "terms.uri", false,
                           &view->terms_uri)) != 0)
        goto fail;
    if ((rc = jm_store_write(view->store, drop_unconfigured, view)) != 0)
        goto fail;
    if ((rc = jm_store_read(view->store, load_txn, &l)) != 0) {
        jm_log(JM_LOG_ERR, "matcher", "loading the view failed: %s",
               jm_strerror(rc));
        goto fail;
    }
    view->terms_durable = matcher_dict_count(ix->dict);
    view->stats.load_ms = (double) (uv_hrtime() - t0) / 1e6;
    if (l.bad > 0)
        jm_log(JM_LOG_WARN, "matcher", "%u unusable records skipped", l.bad);
    jm_log(JM_LOG_INFO, "matcher",
           "view loaded: %u citizens, %u open orders, %zu terms in %.0f ms",
           l.profiles, l.orders, matcher_dict_count(ix->dict),
           view->stats.load_ms);
    *view_p = view;
    return 0;

fail:
    matcher_view_destroy(&view);
    return rc < 0 ? rc : -EIO;
}

void
matcher_view_destroy(matcher_view_t **view_p)
{
    matcher_view_t *view = *view_p;

    if (view == NULL)
        return;
    jm_store_destroy(&view->store);
    free(view->sources);
    free(view->touched);
    free(view);
    *view_p = NULL;
}

jm_store_t *
matcher_view_store(matcher_view_t *view)
{
    return view->store;
}

void
matcher_view_get_stats(const matcher_view_t *view, matcher_view_stats *out)
{
    *out = view->stats;
}

struct profile_count {
    matcher_view_t *view;
    uint64_t held;
};

static int
count_profiles(jm_txn_t *txn, void *arg)
{
    struct profile_count *c = arg;

    return jm_txn_count(txn, c->view->profiles, &c->held);
}

int
matcher_view_profiles_left_out(matcher_view_t *view, uint64_t *out)
{
    struct profile_count c = {.view = view};
    int rc;

    *out = 0;
    if ((rc = jm_store_read(view->store, count_profiles, &c)) != 0)
        return rc;
    /* The index holds only what the store does (an aborted batch is put
     * back), so this cannot go below 0; the guard is for the reader. */
    *out = c.held > view->ix->plive ? c.held - view->ix->plive : 0;
    return 0;
}
