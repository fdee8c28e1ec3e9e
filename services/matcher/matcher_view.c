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
    /* Records whose id a record of a lower source position holds (an id
     * two sources both use): id, 0, position -> record. */
    jm_dbi orders_aside, profiles_aside;
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

/* Ids are the sources' own (a client may choose an order's id), and two
 * municipalities sharing a matcher may both use one. Each source's record
 * is kept: the one of the lowest source position holds the id (in the
 * main database, the one the index and every answer see), the others wait
 * aside and take the id, lowest position first, when the holder's record
 * goes. So what a matcher answers depends only on what each source holds,
 * not on the order in which their events arrived, and two matchers with
 * the same sources agree. (Before, the last event applied won, and one
 * municipality's close took the other's open order out of every answer.)
 * Each event for a shared id is logged: the operator's to mend. */

static void
dbis_of(const matcher_view_t *view, uint8_t kind, jm_dbi *main, jm_dbi *aside)
{
    *main = kind == KIND_ORDER ? view->orders : view->profiles;
    *aside = kind == KIND_ORDER ? view->orders_aside : view->profiles_aside;
}

/* The aside key of (id, source): id, a 0 byte (ids hold none), source. */
static size_t
aside_key(uint8_t key[66], const char *id, unsigned source)
{
    size_t len = strlen(id);

    memcpy(key, id, len);
    key[len] = 0;
    key[len + 1] = (uint8_t) source;
    return len + 2;
}

/* Every record starts with its format and its source (matcher_record.h). */
static unsigned
source_of(const jm_val *record, unsigned otherwise)
{
    return record->size >= 2 ? ((const uint8_t *) record->data)[1] : otherwise;
}

static void
note_shared_id(matcher_view_t *view, uint8_t kind, const char *id,
               unsigned source, unsigned holder)
{
    view->stats.conflicts++;
    jm_log(JM_LOG_WARN, "matcher",
           "%s %s from source %u has the id of source %u's: the lower "
           "source's record is the one matched (ids must be unique across "
           "the sources of one matcher: docs/matching.md section 12)",
           kind == KIND_ORDER ? "order" : "citizen", id, source, holder);
}

/* Puts the record of (id, source) where it belongs: holding the id if no
 * lower source does (the holder it displaces goes aside), else aside. */
static int
put_record(matcher_view_t *view, jm_txn_t *txn, uint8_t kind, const char *id,
           unsigned source, const void *record, size_t size)
{
    jm_dbi main, aside;
    uint8_t key[66];
    size_t len = strlen(id);
    unsigned holder;
    jm_val v;
    int rc;

    dbis_of(view, kind, &main, &aside);
    rc = jm_txn_get(txn, main, id, len, &v);
    if (rc != 0 && rc != -ENOENT)
        return rc;
    if (rc == 0 && (holder = source_of(&v, source)) != source) {
        note_shared_id(view, kind, id, source, holder);
        if (source > holder)
            return jm_txn_put(txn, aside, key, aside_key(key, id, source),
                              record, size, 0);
        {
            /* v is LMDB's until the next write: copied first. */
            uint8_t *held = jm_xmalloc(v.size);
            size_t held_size = v.size;

            memcpy(held, v.data, held_size);
            rc = jm_txn_put(txn, aside, key, aside_key(key, id, holder), held,
                            held_size, 0);
            free(held);
            if (rc != 0)
                return rc;
        }
    }
    if ((rc = jm_txn_put(txn, main, id, len, record, size, 0)) != 0)
        return rc;
    touch(view, kind, id);
    return 0;
}

struct lowest_aside {
    const char *id;
    size_t len;
    uint8_t key[66];
    size_t key_size;
    uint8_t *record;
    size_t size;
};

static int
take_lowest_aside(const jm_val *key, const jm_val *val, void *arg)
{
    struct lowest_aside *l = arg;

    if (key->size != l->len + 2 || memcmp(key->data, l->id, l->len) != 0 ||
        ((const uint8_t *) key->data)[l->len] != 0)
        return 1; /* past the id's keys */
    memcpy(l->key, key->data, key->size);
    l->key_size = key->size;
    l->record = jm_xmalloc(val->size);
    memcpy(l->record, val->data, val->size);
    l->size = val->size;
    return 1;
}

/* The holder of id went: the record of the lowest source waiting aside,
 * if any, takes the id. */
static int
promote_aside(matcher_view_t *view, jm_txn_t *txn, uint8_t kind, const char *id)
{
    struct lowest_aside l = {.id = id, .len = strlen(id)};
    jm_dbi main, aside;
    uint8_t start[66];
    int rc;

    dbis_of(view, kind, &main, &aside);
    memcpy(start, id, l.len);
    start[l.len] = 0;
    if ((rc = jm_txn_scan(txn, aside, start, l.len + 1, take_lowest_aside,
                          &l)) != 0 ||
        l.record == NULL)
        goto out;
    if ((rc = jm_txn_del(txn, aside, l.key, l.key_size)) == 0)
        rc = jm_txn_put(txn, main, id, l.len, l.record, l.size, 0);
out:
    free(l.record);
    return rc;
}

/* The record of (id, source) goes: the holder's, and another takes the
 * id; or one waiting aside. Removals do not fail on an id the view does
 * not have: events carry state, and applying one twice must be
 * harmless. */
static int
delete_record(matcher_view_t *view, jm_txn_t *txn, uint8_t kind, const char *id,
              unsigned source)
{
    jm_dbi main, aside;
    uint8_t key[66];
    unsigned holder;
    jm_val v;
    int rc;

    if (!id_ok(id)) {
        view->stats.dropped++;
        return 0;
    }
    dbis_of(view, kind, &main, &aside);
    rc = jm_txn_get(txn, main, id, strlen(id), &v);
    if (rc != 0 && rc != -ENOENT)
        return rc;
    if (rc == -ENOENT || (holder = source_of(&v, source)) != source) {
        if (rc == 0)
            note_shared_id(view, kind, id, source, holder);
        rc = jm_txn_del(txn, aside, key, aside_key(key, id, source));
        return rc == -ENOENT ? 0 : rc;
    }
    if ((rc = jm_txn_del(txn, main, id, strlen(id))) != 0 ||
        (rc = promote_aside(view, txn, kind, id)) != 0)
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
    int n;

    if (order == NULL || !id_ok(order->id)) {
        view->stats.dropped++;
        return 0;
    }
    if (order->status != JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN)
        return delete_record(view, txn, KIND_ORDER, order->id, sc->index);
    n = matcher_record_order(&enc, order, (uint8_t) sc->index, buf);
    if (n < 0)
        return n;
    return put_record(view, txn, KIND_ORDER, order->id, sc->index, buf,
                      (size_t) n);
}

static int
apply_profile(struct source_ctx *sc, jm_txn_t *txn,
              const Jobmatch__V1__CitizenProfile *profile)
{
    matcher_view_t *view = sc->view;
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    struct intern_ctx ic = {view, txn};
    matcher_encoder enc = {view->opts.esco, intern_txn, &ic};
    int n;

    if (profile == NULL || !id_ok(profile->id)) {
        view->stats.dropped++;
        return 0;
    }
    n = matcher_record_profile(&enc, profile, (uint8_t) sc->index, buf);
    if (n < 0)
        return n;
    return put_record(view, txn, KIND_PROFILE, profile->id, sc->index, buf,
                      (size_t) n);
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
            view, txn, KIND_ORDER,
            event->order_removed ? event->order_removed->order_id : NULL,
            sc->index);
    case JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED:
        return apply_profile(
            sc, txn,
            event->profile_changed ? event->profile_changed->profile : NULL);
    case JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED:
        return delete_record(
            view, txn, KIND_PROFILE,
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
    bool aside; /* the keys of the aside database */

    struct collected {
        uint8_t len;
        char key[66];
    } * keys;

    size_t n, cap;
};

/* Keys of the records of one source (or of every source from a position
 * on, for sources no longer configured): in the main database the record
 * says its source, aside the key's last byte does. */
static int
collect_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct collect *c = arg;
    unsigned source;

    if (val->size < 2 || key->size == 0 || key->size > 66)
        return 0;
    source = c->aside ? ((const uint8_t *) key->data)[key->size - 1]
                      : ((const uint8_t *) val->data)[1];
    if (c->from ? source < c->source : source != c->source)
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->keys = jm_xrealloc(c->keys, c->cap * sizeof(*c->keys));
    }
    c->keys[c->n].len = (uint8_t) key->size;
    memcpy(c->keys[c->n].key, key->data, key->size);
    c->n++;
    return 0;
}

/* Deletes the records of source (or of every source >= it) of a kind:
 * first those waiting aside, then those holding an id, whose place the
 * lowest record left aside takes. note: the ids are noted to read back
 * into the index (not at open, before the index is loaded). */
static int
drop_source(matcher_view_t *view, jm_txn_t *txn, uint8_t kind, unsigned source,
            bool from, bool note)
{
    struct collect c = {.source = source, .from = from, .aside = true};
    jm_dbi main, aside;
    int rc;

    dbis_of(view, kind, &main, &aside);
    /* The walks must not write: delete afterwards. */
    rc = jm_txn_scan(txn, aside, NULL, 0, collect_one, &c);
    for (size_t i = 0; rc == 0 && i < c.n; i++)
        rc = jm_txn_del(txn, aside, c.keys[i].key, c.keys[i].len);
    c.n = 0;
    c.aside = false;
    if (rc == 0)
        rc = jm_txn_scan(txn, main, NULL, 0, collect_one, &c);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        char id[65];

        memcpy(id, c.keys[i].key, c.keys[i].len);
        id[c.keys[i].len] = '\0';
        if ((rc = jm_txn_del(txn, main, id, c.keys[i].len)) == 0 &&
            (rc = promote_aside(view, txn, kind, id)) == 0 && note)
            touch(view, kind, id);
    }
    free(c.keys);
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
    if ((rc = drop_source(view, txn, KIND_ORDER, sc->index, false, true)) != 0)
        return rc;
    return drop_source(view, txn, KIND_PROFILE, sc->index, false, true);
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
    int rc =
        drop_source(view, txn, KIND_ORDER, view->opts.sources, true, false);

    if (rc == 0)
        rc = drop_source(view, txn, KIND_PROFILE, view->opts.sources, true,
                         false);
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
        (rc = jm_store_dbi(view->store, "orders.aside", false,
                           &view->orders_aside)) != 0 ||
        (rc = jm_store_dbi(view->store, "profiles.aside", false,
                           &view->profiles_aside)) != 0 ||
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
