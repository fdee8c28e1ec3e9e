/* intake_repo.c - job orders and their indexes in LMDB (see intake_repo.h
 * for the layout).
 *
 * Index keys end in the order id, so every key is unique and an index
 * entry needs no value. The status byte sits right after the municipality
 * and the occupation, so that "open orders of municipality 101" and "open
 * orders for this occupation" are plain key-prefix scans. Paging tokens are
 * the hex of an index tag and the last key returned: opaque to clients,
 * stateless for us, and stable while orders are added. */
#include "intake_repo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake_keyset.h"
#include "intake_order.h"
#include "jm/dk.h"
#include "jm/log.h"
#include "jm/mem.h"

#define KEY_MAX INTAKE_KEY_MAX /* 4 + 64 is the longest index key */
#define ID_MAX  64

static int rebuild(jm_txn_t *txn, void *arg);

int
intake_repo_open(intake_repo *repo, jm_store_t *store)
{
    int rc;

    memset(repo, 0, sizeof(*repo));
    if ((rc = jm_store_dbi(store, "orders", false, &repo->orders)) != 0 ||
        (rc = jm_store_dbi(store, "by_status", false, &repo->by_status)) != 0)
        return rc;
    repo->by_municipality = intake_keyset_new();
    repo->open_by_deadline = intake_keyset_new();
    if ((rc = jm_store_read(store, rebuild, repo)) != 0) {
        intake_repo_close(repo);
        return rc;
    }
    jm_log(JM_LOG_INFO, "intake",
           "in-memory indexes rebuilt: %zu orders, %zu open",
           intake_keyset_count(repo->by_municipality),
           intake_keyset_count(repo->open_by_deadline));
    return 0;
}

void
intake_repo_close(intake_repo *repo)
{
    intake_keyset_free(&repo->by_municipality);
    intake_keyset_free(&repo->open_by_deadline);
    free(repo->pending);
    repo->pending = NULL;
    repo->n_pending = repo->cap_pending = 0;
}

int
intake_repo_get(const intake_repo *repo, jm_txn_t *txn, const char *id,
                ProtobufCAllocator *alloc, Jobmatch__V1__JobOrder **out)
{
    jm_val val;
    int rc = jm_txn_get(txn, repo->orders, id, strlen(id), &val);

    if (rc != 0)
        return rc;
    *out = jobmatch__v1__job_order__unpack(alloc, val.size, val.data);
    if (*out == NULL) {
        jm_log(JM_LOG_ERR, "intake", "stored order %s does not decode", id);
        return -EIO;
    }
    return 0;
}

int
intake_repo_exists(const intake_repo *repo, jm_txn_t *txn, const char *id)
{
    jm_val val;

    return jm_txn_get(txn, repo->orders, id, strlen(id), &val);
}

/* ---- index keys ---- */

struct key {
    uint8_t data[KEY_MAX];
    size_t size;
};

/* A change to an in-memory index made by the batch being written: applied
 * when the batch commits, forgotten if it fails or is redone. */
struct intake_index_change {
    int ix;
    bool add;
    struct key key;
};

enum { IX_MUNICIPALITY, IX_STATUS, IX_DEADLINE, IX_COUNT };

static intake_keyset *
index_set(const intake_repo *repo, int ix)
{
    return ix == IX_MUNICIPALITY ? repo->by_municipality
                                 : repo->open_by_deadline;
}

static void
key_add(struct key *k, const void *data, size_t size)
{
    JM_ASSERT(k->size + size <= KEY_MAX);
    memcpy(k->data + k->size, data, size);
    k->size += size;
}

/* The order's key in index ix; false if it has none there (a closed order
 * is not in open_by_deadline). Stored orders passed the checks, so their
 * codes have their fixed lengths. */
static bool
index_key(const Jobmatch__V1__JobOrder *o, int ix, struct key *k)
{
    uint8_t status = (uint8_t) o->status, day[4];
    int32_t deadline;

    k->size = 0;
    switch (ix) {
    case IX_MUNICIPALITY:
        key_add(k, o->owner_municipality, 3);
        key_add(k, &status, 1);
        break;
    case IX_STATUS:
        key_add(k, &status, 1);
        break;
    default:
        if (o->status != JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN)
            return false;
        deadline = intake_order_deadline_days(o);
        day[0] = (uint8_t) ((uint32_t) deadline >> 24);
        day[1] = (uint8_t) ((uint32_t) deadline >> 16);
        day[2] = (uint8_t) ((uint32_t) deadline >> 8);
        day[3] = (uint8_t) deadline;
        key_add(k, day, 4);
        break;
    }
    key_add(k, o->id, strlen(o->id));
    return true;
}

/* Changes index ix from key before (had) to key after (has): by_status in
 * the transaction, the in-memory ones once the transaction commits. */
static int
move_entry(intake_repo *repo, jm_txn_t *txn, int ix, const struct key *before,
           bool had, const struct key *after, bool has)
{
    int rc = 0;

    if (ix == IX_STATUS) {
        if (had)
            rc = jm_txn_del(txn, repo->by_status, before->data, before->size);
        if (rc == 0 && has)
            rc = jm_txn_put(txn, repo->by_status, after->data, after->size, "",
                            0, 0);
        return rc;
    }
    for (int add = 0; add < 2; add++) {
        struct intake_index_change *c;

        if (!(add ? has : had))
            continue;
        if (repo->n_pending == repo->cap_pending) {
            repo->cap_pending = repo->cap_pending ? 2 * repo->cap_pending : 64;
            repo->pending = jm_xrealloc(
                repo->pending, repo->cap_pending * sizeof(*repo->pending));
        }
        c = &repo->pending[repo->n_pending++];
        c->ix = ix;
        c->add = add;
        c->key = add ? *after : *before;
    }
    return 0;
}

int
intake_repo_put(intake_repo *repo, jm_txn_t *txn,
                const Jobmatch__V1__JobOrder *old,
                const Jobmatch__V1__JobOrder *order, const void *data,
                size_t size)
{
    size_t id_len = strlen(order->id);
    int rc = -EEXIST;

    /* A generated id sorts after every earlier one: appending fills each
     * page before starting the next, where an ordinary insert at the end
     * splits pages in half. A client's id, or an update, is not last
     * (LMDB says KEYEXIST) and goes in the ordinary way. */
    if (old == NULL)
        rc = jm_txn_put(txn, repo->orders, order->id, id_len, data, size,
                        JM_PUT_APPEND);
    if (rc == -EEXIST)
        rc = jm_txn_put(txn, repo->orders, order->id, id_len, data, size, 0);

    for (int ix = 0; rc == 0 && ix < IX_COUNT; ix++) {
        struct key before, after;
        bool had = old != NULL && index_key(old, ix, &before);
        bool has = index_key(order, ix, &after);

        if (had && has && before.size == after.size &&
            memcmp(before.data, after.data, before.size) == 0)
            continue;
        rc = move_entry(repo, txn, ix, &before, had, &after, has);
    }
    return rc;
}

void
intake_repo_begin(intake_repo *repo)
{
    repo->n_pending = 0;
}

void
intake_repo_committed(intake_repo *repo, int status)
{
    for (size_t i = 0; status == 0 && i < repo->n_pending; i++) {
        const struct intake_index_change *c = &repo->pending[i];
        intake_keyset *set = index_set(repo, c->ix);

        if (c->add)
            intake_keyset_add(set, c->key.data, c->key.size);
        else
            intake_keyset_del(set, c->key.data, c->key.size);
    }
    repo->n_pending = 0;
}

/* ---- listing ---- */

struct list {
    const intake_repo *repo;
    jm_txn_t *txn;
    const Jobmatch__V1__ListOrders *q;
    ProtobufCAllocator *alloc;
    char tag;          /* which index: 'o', 'm', 'c' or 's' */
    size_t id_offset;  /* where the id starts in the index's keys */
    struct key prefix; /* keys of this query start with it */
    struct key after;  /* the page token's key, skipped (size 0: none) */
    /* The only filter no index serves: an occupation within a
     * municipality. */
    bool filtered;
    size_t page_size;
    Jobmatch__V1__JobOrder **orders;
    size_t count;
    struct key last; /* key of the last order on the page */
    bool more;
    int rc;
};

static bool
has_prefix(const jm_val *key, const struct key *prefix)
{
    return key->size >= prefix->size &&
           memcmp(key->data, prefix->data, prefix->size) == 0;
}

static bool
contains(const jm_val *v, const char *s)
{
    size_t n = strlen(s);
    const char *d = v->data;

    for (size_t i = 0; n <= v->size && i <= v->size - n; i++) {
        if (d[i] == s[0] && memcmp(d + i, s, n) == 0)
            return true;
    }
    return false;
}

static int
list_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct list *l = arg;
    Jobmatch__V1__JobOrder *o;
    char id[ID_MAX + 1];
    jm_val record = *val;
    size_t n;

    if (!has_prefix(key, &l->prefix))
        return 1;
    if (l->after.size == key->size &&
        memcmp(l->after.data, key->data, key->size) == 0)
        return 0;
    if (l->tag != 'o') {
        n = key->size - l->id_offset;
        if (key->size < l->id_offset || n == 0 || n > ID_MAX)
            return -EIO;
        memcpy(id, (const char *) key->data + l->id_offset, n);
        id[n] = '\0';
        if (jm_txn_get(l->txn, l->repo->orders, id, n, &record) != 0)
            return -EIO; /* an index entry without its order */
    }
    /* The occupation filter: the packed order must hold the occupation's
     * URI to be worth unpacking (cheap, and most orders fail it); then it
     * is unpacked with malloc, so that the orders the filter drops do not
     * pile up in the request's memory. */
    if (l->filtered) {
        bool keep;

        if (!contains(&record, l->q->occupation_uri))
            return 0;
        o = jobmatch__v1__job_order__unpack(NULL, record.size, record.data);
        if (o == NULL)
            return -EIO;
        keep = strcmp(o->occupation_uri, l->q->occupation_uri) == 0;
        jobmatch__v1__job_order__free_unpacked(o, NULL);
        if (!keep)
            return 0;
    }
    if (l->count == l->page_size) {
        l->more = true;
        return 1;
    }
    o = jobmatch__v1__job_order__unpack(l->alloc, record.size, record.data);
    if (o == NULL)
        return -EIO;
    l->orders[l->count++] = o;
    l->last.size = 0;
    key_add(&l->last, key->data, key->size);
    return 0;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes a page token into l->after; false if it is not one of ours for
 * this query. */
static bool
decode_token(struct list *l, const char *token)
{
    size_t len = strlen(token);
    uint8_t bytes[KEY_MAX + 1] = {0};

    if (len < 4 || len % 2 != 0 || len / 2 > sizeof(bytes))
        return false;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_value(token[2 * i]), lo = hex_value(token[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        bytes[i] = (uint8_t) (hi << 4 | lo);
    }
    if (bytes[0] != (uint8_t) l->tag)
        return false;
    l->after.size = 0;
    key_add(&l->after, bytes + 1, len / 2 - 1);
    return l->after.size > l->prefix.size &&
           memcmp(l->after.data, l->prefix.data, l->prefix.size) == 0;
}

static char *
encode_token(const struct list *l)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = l->last.size + 1;
    char *out = l->alloc->alloc(l->alloc->allocator_data, 2 * n + 1);
    uint8_t first = (uint8_t) l->tag;

    JM_ASSERT(out != NULL);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = i == 0 ? first : l->last.data[i - 1];

        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[2 * n] = '\0';
    return out;
}

/* Picks the index that serves the query best. An occupation is a filter
 * on whatever index the other criteria pick (see the README: an
 * occupation index would cost a random page write per new order). */
static void
plan(struct list *l, const char *municipality)
{
    const Jobmatch__V1__ListOrders *q = l->q;
    uint8_t status = (uint8_t) q->status;

    l->prefix.size = 0;
    l->filtered = q->occupation_uri[0] != '\0';
    if (municipality[0] != '\0') {
        l->tag = 'm';
        l->id_offset = 4;
        key_add(&l->prefix, municipality, 3);
    } else if (status != 0) {
        l->tag = 's';
        l->id_offset = 1;
    } else {
        l->tag = 'o';
        l->id_offset = 0;
        return;
    }
    if (status != 0)
        key_add(&l->prefix, &status, 1);
}

int
intake_repo_list(const intake_repo *repo, jm_txn_t *txn,
                 const Jobmatch__V1__ListOrders *q, const char *municipality,
                 ProtobufCAllocator *alloc, Jobmatch__V1__OrderList *out,
                 jm_error *err)
{
    struct list l = {.repo = repo, .txn = txn, .q = q, .alloc = alloc};
    const struct key *start;
    int rc;

    plan(&l, municipality);
    if (q->page_token[0] != '\0' && !decode_token(&l, q->page_token)) {
        jm_error_set(err, JM_E_INVALID_FIELD, "list_orders.page_token",
                     "is not a page token of this query (pass "
                     "next_page_token back with the same filters)");
        return 1;
    }
    l.page_size = q->page_size ? q->page_size : INTAKE_PAGE_DEFAULT;
    l.orders =
        alloc->alloc(alloc->allocator_data, l.page_size * sizeof(*l.orders));
    JM_ASSERT(l.orders != NULL);
    start = l.after.size > 0 ? &l.after : &l.prefix;
    if (l.tag == 'm')
        rc = intake_keyset_scan(repo->by_municipality, start->data, start->size,
                                list_one, &l);
    else
        rc = jm_txn_scan(txn, l.tag == 'o' ? repo->orders : repo->by_status,
                         start->data, start->size, list_one, &l);
    if (rc != 0)
        return rc;
    out->orders = l.orders;
    out->n_orders = l.count;
    if (l.more)
        out->next_page_token = encode_token(&l);
    return 0;
}

/* ---- statistics ---- */

struct stats {
    const intake_repo *repo;
    jm_txn_t *txn;
    intake_stats_acc *accs; /* one per municipality, in table order */
    intake_stats_acc all;   /* every order counted in accs */
    bool by_index;          /* walking by_municipality, not orders */
    struct key prefix;
};

static bool
read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;

        v |= (uint64_t) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* JobOrder's field numbers (intake.proto; numbers never change). */
enum {
    F_POSITIONS = 16,
    F_DEADLINE = 19,
    F_OWNER = 21,
    F_STATUS = 23,
    F_HIRES = 24,
    F_CREATED = 26,
    F_CLOSED = 28,
};

/* The few fields statistics need, read from the packed order without
 * unpacking the rest (skills, texts, candidates): the scan of every order
 * is then a walk over bytes. Stored orders are our own packing; anything
 * that does not parse is a damaged store. */
struct summary {
    Jobmatch__V1__JobOrder order; /* only the fields read below */
    char owner[4];
    char deadline[16];
};

static bool
summarize(const jm_val *v, struct summary *sum)
{
    const uint8_t *p = v->data, *end = p + v->size;
    Jobmatch__V1__JobOrder *o = &sum->order;

    jobmatch__v1__job_order__init(o);
    sum->owner[0] = sum->deadline[0] = '\0';
    o->owner_municipality = sum->owner;
    o->deadline = sum->deadline;
    while (p < end) {
        uint64_t tag, value, len;

        if (!read_varint(&p, end, &tag))
            return false;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &value))
                return false;
            switch (tag >> 3) {
            case F_POSITIONS:
                o->positions = (uint32_t) value;
                break;
            case F_STATUS:
                o->status = (Jobmatch__V1__OrderStatus) value;
                break;
            case F_HIRES:
                o->hires = (uint32_t) value;
                break;
            case F_CREATED:
                o->created_at_ms = (int64_t) value;
                break;
            case F_CLOSED:
                o->closed_at_ms = (int64_t) value;
                break;
            default:
                break;
            }
            break;
        case 1:
        case 5:
            if ((size_t) (end - p) < ((tag & 7) == 1 ? 8u : 4u))
                return false;
            p += (tag & 7) == 1 ? 8 : 4;
            break;
        case 2:
            if (!read_varint(&p, end, &len) || len > (uint64_t) (end - p))
                return false;
            if (tag >> 3 == F_OWNER && len == 3) {
                memcpy(sum->owner, p, 3);
                sum->owner[3] = '\0';
            } else if (tag >> 3 == F_DEADLINE && len < sizeof(sum->deadline)) {
                memcpy(sum->deadline, p, len);
                sum->deadline[len] = '\0';
            }
            p += len;
            break;
        default:
            return false;
        }
    }
    return true;
}

static int
stats_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct stats *s = arg;
    jm_val record = *val;
    struct summary sum;
    const jm_dk_municipality *m;

    if (s->by_index) {
        if (!has_prefix(key, &s->prefix))
            return 1;
        if (key->size <= 4 ||
            jm_txn_get(s->txn, s->repo->orders, (const char *) key->data + 4,
                       key->size - 4, &record) != 0)
            return -EIO;
    }
    if (!summarize(&record, &sum))
        return -EIO;
    m = jm_dk_municipality_find(sum.owner);
    if (m != NULL) {
        intake_stats_add(&s->accs[jm_dk_municipality_index(m)], &sum.order);
        intake_stats_add(&s->all, &sum.order);
    }
    return 0;
}

static int
cmp_code(const void *a, const void *b)
{
    const Jobmatch__V1__MunicipalityOrderStats *x =
        *(Jobmatch__V1__MunicipalityOrderStats *const *) a;
    const Jobmatch__V1__MunicipalityOrderStats *y =
        *(Jobmatch__V1__MunicipalityOrderStats *const *) b;

    return strcmp(x->municipality_code, y->municipality_code);
}

int
intake_repo_stats(const intake_repo *repo, jm_txn_t *txn,
                  const char *municipality, ProtobufCAllocator *alloc,
                  Jobmatch__V1__OrderStats *out)
{
    size_t n = jm_dk_municipality_count(), count = 0;
    struct stats s = {.repo = repo, .txn = txn};
    Jobmatch__V1__MunicipalityOrderStats **list;
    int rc;

    s.accs = jm_xcalloc(n, sizeof(*s.accs));
    if (municipality[0] != '\0') {
        s.by_index = true;
        key_add(&s.prefix, municipality, 3);
        rc = intake_keyset_scan(repo->by_municipality, s.prefix.data, 3,
                                stats_one, &s);
    } else {
        rc = jm_txn_scan(txn, repo->orders, NULL, 0, stats_one, &s);
    }
    list = alloc->alloc(alloc->allocator_data, n * sizeof(*list));
    JM_ASSERT(list != NULL);
    for (size_t i = 0; i < n; i++) {
        const jm_dk_municipality *m = jm_dk_municipality_at(i);
        intake_stats_acc *a = &s.accs[i];
        bool wanted = municipality[0] != '\0'
                          ? strcmp(m->code, municipality) == 0
                          : a->open + a->filled + a->withdrawn + a->expired > 0;

        if (rc == 0 && wanted) {
            Jobmatch__V1__MunicipalityOrderStats *st =
                alloc->alloc(alloc->allocator_data, sizeof(*st));

            JM_ASSERT(st != NULL);
            jobmatch__v1__municipality_order_stats__init(st);
            st->municipality_code = (char *) m->code;
            intake_stats_finish(a, st);
            list[count++] = st;
        }
        free(a->fill_days);
    }
    free(s.accs);
    if (rc != 0) {
        free(s.all.fill_days);
        return rc;
    }
    qsort(list, count, sizeof(*list), cmp_code);
    out->municipalities = list;
    out->n_municipalities = count;
    out->total = alloc->alloc(alloc->allocator_data, sizeof(*out->total));
    JM_ASSERT(out->total != NULL);
    jobmatch__v1__municipality_order_stats__init(out->total);
    intake_stats_finish(&s.all, out->total);
    return 0;
}

/* ---- rebuilding the in-memory indexes ---- */

static int
rebuild_one(const jm_val *key, const jm_val *val, void *arg)
{
    intake_repo *repo = arg;
    struct summary sum;
    char id[ID_MAX + 1];
    struct key k;

    if (key->size == 0 || key->size > ID_MAX || !summarize(val, &sum) ||
        strlen(sum.owner) != 3) {
        jm_log(JM_LOG_ERR, "intake", "a stored order does not decode");
        return -EIO;
    }
    memcpy(id, key->data, key->size);
    id[key->size] = '\0';
    sum.order.id = id;
    if (index_key(&sum.order, IX_MUNICIPALITY, &k))
        intake_keyset_add(repo->by_municipality, k.data, k.size);
    if (index_key(&sum.order, IX_DEADLINE, &k))
        intake_keyset_add(repo->open_by_deadline, k.data, k.size);
    return 0;
}

/* Every order's entries, read from the packed orders without unpacking
 * them (about 0.1 s per 100,000 orders). */
static int
rebuild(jm_txn_t *txn, void *arg)
{
    intake_repo *repo = arg;

    return jm_txn_scan(txn, repo->orders, NULL, 0, rebuild_one, repo);
}

/* ---- expiry ---- */

struct due {
    int32_t today;
    size_t limit, count;
    intake_repo_id_fn fn;
    void *arg;
};

static int
due_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct due *d = arg;
    const uint8_t *k = key->data;
    char id[ID_MAX + 1];
    int32_t day;

    (void) val;
    if (key->size <= 4 || key->size > 4 + ID_MAX)
        return -EIO;
    day = (int32_t) ((uint32_t) k[0] << 24 | (uint32_t) k[1] << 16 |
                     (uint32_t) k[2] << 8 | k[3]);
    if (day >= d->today || d->count == d->limit)
        return 1;
    memcpy(id, k + 4, key->size - 4);
    id[key->size - 4] = '\0';
    d->count++;
    return d->fn(id, d->arg);
}

int
intake_repo_due(const intake_repo *repo, int32_t today, size_t limit,
                intake_repo_id_fn fn, void *arg)
{
    struct due d = {today, limit, 0, fn, arg};

    return intake_keyset_scan(repo->open_by_deadline, NULL, 0, due_one, &d);
}

/* ---- snapshots ---- */

/* One order as the event a consumer would have seen (OrderChanged,
 * change SNAPSHOT). */
static int
snap_one(const jm_val *key, const jm_val *val, jm_snapshot_page_t *page,
         void *arg)
{
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__OrderChanged changed = JOBMATCH__V1__ORDER_CHANGED__INIT;
    Jobmatch__V1__JobOrder *order;

    (void) key;
    (void) arg;
    order = jobmatch__v1__job_order__unpack(NULL, val->size, val->data);
    if (order == NULL)
        return -EIO;
    changed.order = order;
    changed.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_SNAPSHOT;
    event.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
    event.order_changed = &changed;
    jm_snapshot_page_add(page, &event);
    jobmatch__v1__job_order__free_unpacked(order, NULL);
    return 0;
}

int
intake_repo_snapshot(jm_txn_t *txn, const void *after_key, size_t after_size,
                     size_t limit, jm_snapshot_page_t *page, void *arg)
{
    const intake_repo *repo = arg;

    return jm_snapshot_scan(txn, repo->orders, after_key, after_size, limit,
                            page, snap_one, NULL);
}
