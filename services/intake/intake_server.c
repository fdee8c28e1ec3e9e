/* intake_server.c - intake's operations plugged into jm_source.
 *
 * jm_source owns the socket, the group commit, the idempotency records and
 * the log; this file decides, per request body, what is checked (check),
 * how it is answered from a read transaction (read) and what it writes
 * (apply). Every write stores the order with its indexes and appends one
 * OrderChanged event carrying the whole order, in the batch's transaction,
 * so the store and the log never disagree.
 *
 * apply must be redo-safe (jm_source redoes a batch after growing the
 * map): it only reads and writes inside the transaction and allocates from
 * request memory, and a generated id is simply generated again. */
#include "intake_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "intake_order.h"
#include "intake_repo.h"
#include "jm/bus.h"
#include "jm/clock.h"
#include "jm/err.h"
#include "jm/esco.h"
#include "jm/log.h"
#include "jm/mem.h"

#define DAY_MS            (24LL * 3600 * 1000)
#define EXPIRIES_PER_TICK 1000
#define ID_TRIES          4

struct intake_server {
    jm_source_t *source;
    intake_repo repo;
    jm_esco_t *esco;
    /* The last generated id's time and random part (see new_order_id). */
    int64_t last_id_ms;
    uint64_t last_id_random;
    /* Packing buffer for orders, reused across applies. */
    uint8_t *scratch;
    size_t scratch_cap;
    /* Strings jm_source borrows for its lifetime. */
    char *data_dir, *api, *log, *tick, *source_name, *allow_file;
    char *plain_principal;
};

static intake_rules
rules_at(const intake_server_t *s, int64_t now_ms)
{
    intake_rules rules = {s->esco, (int32_t) (now_ms / DAY_MS)};

    return rules;
}

/* ---- check: the request alone ---- */

static jm_source_kind
server_check(const Jobmatch__V1__Request *req, const char *principal,
             jm_error *err, void *arg)
{
    intake_server_t *s = arg;
    intake_rules rules = {s->esco, jm_clock_today()};
    jm_principal caller;
    bool ok;

    jm_principal_parse(principal, &caller);
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        ok = intake_check_submit(&rules, &caller, req->submit_order, err);
        return ok ? JM_SOURCE_WRITE : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER:
        ok = intake_check_update(&rules, &caller, req->update_order, err);
        return ok ? JM_SOURCE_WRITE : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS:
        ok = intake_check_set_status(&caller, req->set_order_status, err);
        return ok ? JM_SOURCE_WRITE : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME:
        ok = intake_check_outcome(&caller, req->record_outcome, err);
        return ok ? JM_SOURCE_WRITE : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER:
        ok = intake_check_get(&caller, req->get_order, err);
        return ok ? JM_SOURCE_READ : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS:
        ok = intake_check_list(&caller, req->list_orders, err);
        return ok ? JM_SOURCE_READ : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS:
        ok = intake_check_stats(&caller, req->get_order_stats, err);
        return ok ? JM_SOURCE_READ : JM_SOURCE_REJECT;
    default:
        /* err left empty: jm_source answers UNSUPPORTED_TYPE. */
        return JM_SOURCE_REJECT;
    }
}

/* ---- read ---- */

static int
not_found(jm_source_request *r, const char *path, const char *id)
{
    jm_error_set(&r->err, JM_E_NOT_FOUND, path, "there is no order %s", id);
    return 1;
}

/* A municipal caller without a municipality filter sees its own. */
static const char *
effective_municipality(const jm_principal *caller, const char *given)
{
    if (given[0] == '\0' && jm_principal_is_municipal(caller))
        return caller->municipality;
    return given;
}

static int
server_read(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    intake_server_t *s = arg;
    ProtobufCAllocator *alloc = jm_source_allocator(r);
    const Jobmatch__V1__Request *req = r->req;
    jm_principal caller;
    int rc;

    jm_principal_parse(r->principal, &caller);
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER: {
        Jobmatch__V1__JobOrder *order = NULL;

        rc = intake_repo_get(&s->repo, txn, req->get_order->order_id, alloc,
                             &order);
        if (rc == -ENOENT)
            return not_found(r, "get_order.order_id", req->get_order->order_id);
        if (rc != 0)
            return rc;
        if (!intake_may(&caller, INTAKE_OP_READ, order->owner_municipality,
                        "get_order.order_id", &r->err))
            return 1;
        r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ORDER;
        r->reply->order = order;
        return 0;
    }
    case JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS: {
        Jobmatch__V1__OrderList *list = jm_source_alloc(r, sizeof(*list));

        jobmatch__v1__order_list__init(list);
        rc = intake_repo_list(&s->repo, txn, req->list_orders,
                              effective_municipality(
                                  &caller, req->list_orders->municipality_code),
                              alloc, list, &r->err);
        if (rc != 0)
            return rc;
        r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ORDER_LIST;
        r->reply->order_list = list;
        return 0;
    }
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS: {
        Jobmatch__V1__OrderStats *stats = jm_source_alloc(r, sizeof(*stats));

        jobmatch__v1__order_stats__init(stats);
        rc = intake_repo_stats(
            &s->repo, txn,
            effective_municipality(&caller,
                                   req->get_order_stats->municipality_code),
            alloc, stats);
        if (rc != 0)
            return rc;
        r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ORDER_STATS;
        r->reply->order_stats = stats;
        return 0;
    }
    default:
        return -EINVAL; /* check never classifies anything else as a read */
    }
}

/* ---- apply: one write in the batch's transaction ---- */

/* Stores order (old: as it was before, NULL if new), appends its event
 * and fills the Accepted reply. */
static int
store_and_log(intake_server_t *s, jm_txn_t *txn, jm_source_request *r,
              const Jobmatch__V1__JobOrder *old, Jobmatch__V1__JobOrder *order,
              Jobmatch__V1__ChangeKind change)
{
    Jobmatch__V1__Accepted *accepted;
    size_t size = jobmatch__v1__job_order__get_packed_size(order);
    size_t need = size + JM_WIRE_LEN_FIELD_MAX(size) + JM_WIRE_VARINT_FIELD_MAX;
    size_t n;
    uint8_t *changed;
    uint64_t seq;
    int rc;

    /* The order is packed once: the stored record, and copied into the
     * OrderChanged {order = 1, change = 2} of its event (the bytes
     * protobuf-c would pack for that message). */
    if (need > s->scratch_cap) {
        s->scratch_cap = need * 2;
        s->scratch = jm_xrealloc(s->scratch, s->scratch_cap);
    }
    jobmatch__v1__job_order__pack(order, s->scratch);
    if ((rc = intake_repo_put(&s->repo, txn, old, order, s->scratch, size)))
        return rc;
    changed = s->scratch + size;
    n = jm_wire_put_len_field(changed, 1, s->scratch, size);
    if (change != 0)
        n += jm_wire_put_varint_field(changed + n, 2, (uint64_t) change);
    rc = jm_source_append_packed(s->source, txn,
                                 JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED,
                                 changed, n, &seq);
    if (rc != 0)
        return rc;
    accepted = jm_source_alloc(r, sizeof(*accepted));
    jobmatch__v1__accepted__init(accepted);
    accepted->id = order->id;
    accepted->seq = seq;
    accepted->version = order->version;
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ACCEPTED;
    r->reply->accepted = accepted;
    return 0;
}

/* The id a new order gets: the client's, or a fresh random one. */
static int
new_order_id(intake_server_t *s, jm_txn_t *txn, jm_source_request *r,
             const char **id_out)
{
    const char *given = r->req->submit_order->order->id;
    char id[INTAKE_ID_GENERATED_LEN + 1];
    uint8_t random[INTAKE_ID_RANDOM_BYTES];
    int rc;

    if (given[0] != '\0') {
        rc = intake_repo_exists(&s->repo, txn, given);
        if (rc == 0) {
            jm_error_set(&r->err, JM_E_CONFLICT, "submit_order.order.id",
                         "order %s exists already; change it with "
                         "update_order",
                         given);
            return 1;
        }
        *id_out = given;
        return rc == -ENOENT ? 0 : rc;
    }
    /* 50 random bits per millisecond: a collision is not expected, but
     * costs nothing to rule out. Within one millisecond the random part
     * counts up from the first one (as ULIDs do), so that ids keep their
     * order and the orders database is only ever appended to. */
    for (int i = 0; i < ID_TRIES; i++) {
        if (r->now_ms == s->last_id_ms && s->last_id_ms != 0) {
            s->last_id_random++;
        } else if (uv_random(NULL, NULL, random, sizeof(random), 0, NULL) !=
                   0) {
            return -EIO;
        } else {
            s->last_id_ms = r->now_ms;
            s->last_id_random = 0;
            for (size_t k = 0; k < sizeof(random); k++)
                s->last_id_random = s->last_id_random << 8 | random[k];
            /* Room to count up in: the top of the 50 bits stays clear. */
            s->last_id_random &= (UINT64_C(1) << 49) - 1;
        }
        for (size_t k = 0; k < sizeof(random); k++)
            random[k] = (uint8_t) (s->last_id_random >> (8 * (6 - k)));
        intake_order_new_id(id, r->now_ms, random);
        rc = intake_repo_exists(&s->repo, txn, id);
        if (rc == -ENOENT) {
            *id_out = jm_source_strdup(r, id);
            return 0;
        }
        if (rc != 0)
            return rc;
    }
    return -EIO;
}

static int
apply_submit(intake_server_t *s, jm_txn_t *txn, jm_source_request *r,
             const intake_rules *rules)
{
    Jobmatch__V1__JobOrder *order = jm_source_alloc(r, sizeof(*order));
    Jobmatch__V1__Location *workplace = jm_source_alloc(r, sizeof(*workplace));
    const char *id = NULL;
    int rc;

    if ((rc = new_order_id(s, txn, r, &id)) != 0)
        return rc;
    intake_order_create(rules, order, workplace, r->req->submit_order->order,
                        id, r->now_ms);
    return store_and_log(s, txn, r, NULL, order,
                         JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED);
}

/* Reads the order a change is about; NOT_FOUND or PERMISSION_DENIED
 * (against the stored owner) are rejections. */
static int
load_for_change(intake_server_t *s, jm_txn_t *txn, jm_source_request *r,
                const char *id, const char *path, intake_op op,
                Jobmatch__V1__JobOrder **order)
{
    jm_principal caller;
    int rc = intake_repo_get(&s->repo, txn, id, jm_source_allocator(r), order);

    if (rc == -ENOENT)
        return not_found(r, path, id);
    if (rc != 0)
        return rc;
    jm_principal_parse(r->principal, &caller);
    if (!intake_may(&caller, op, (*order)->owner_municipality, path, &r->err))
        return 1;
    return 0;
}

static int
apply_update(intake_server_t *s, jm_txn_t *txn, jm_source_request *r,
             const intake_rules *rules)
{
    const Jobmatch__V1__UpdateOrder *body = r->req->update_order;
    Jobmatch__V1__JobOrder *stored = NULL;
    Jobmatch__V1__JobOrder *order = jm_source_alloc(r, sizeof(*order));
    Jobmatch__V1__Location *workplace = jm_source_alloc(r, sizeof(*workplace));
    int rc;

    rc = load_for_change(s, txn, r, body->order->id, "update_order.order.id",
                         INTAKE_OP_UPDATE, &stored);
    if (rc != 0)
        return rc;
    if ((rc = intake_order_update(rules, order, workplace, stored, body,
                                  r->now_ms, &r->err)) != 0)
        return rc;
    return store_and_log(s, txn, r, stored, order,
                         JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_UPDATED);
}

static int
apply_set_status(intake_server_t *s, jm_txn_t *txn, jm_source_request *r,
                 const intake_rules *rules)
{
    const Jobmatch__V1__SetOrderStatus *body = r->req->set_order_status;
    Jobmatch__V1__JobOrder *order = NULL, before;
    int rc;

    rc = load_for_change(s, txn, r, body->order_id, "set_order_status.order_id",
                         INTAKE_OP_SET_STATUS, &order);
    if (rc != 0)
        return rc;
    before = *order; /* the index keys to move from */
    if ((rc = intake_order_set_status(rules, order, body, r->now_ms,
                                      &r->err)) != 0)
        return rc;
    return store_and_log(
        s, txn, r, &before, order,
        body->status == JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED
            ? JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_EXPIRED
            : JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_STATUS_CHANGED);
}

static int
apply_outcome(intake_server_t *s, jm_txn_t *txn, jm_source_request *r)
{
    const Jobmatch__V1__RecordOutcome *body = r->req->record_outcome;
    Jobmatch__V1__JobOrder *order = NULL, before;
    int rc;

    rc = load_for_change(s, txn, r, body->order_id, "record_outcome.order_id",
                         INTAKE_OP_OUTCOME, &order);
    if (rc != 0)
        return rc;
    before = *order;
    rc = intake_order_record_outcome(order, body, r->now_ms,
                                     jm_source_allocator(r), &r->err);
    if (rc != 0)
        return rc;
    return store_and_log(
        s, txn, r, &before, order,
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_OUTCOME_RECORDED);
}

static int
server_apply(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    intake_server_t *s = arg;
    intake_rules rules = rules_at(s, r->now_ms);

    switch (r->req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        return apply_submit(s, txn, r, &rules);
    case JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER:
        return apply_update(s, txn, r, &rules);
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS:
        return apply_set_status(s, txn, r, &rules);
    case JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME:
        return apply_outcome(s, txn, r);
    default:
        return -EINVAL; /* check never classifies anything else as a write */
    }
}

/* ---- snapshot and housekeeping ---- */

static int
server_snapshot(jm_txn_t *txn, const void *after_key, size_t after_size,
                size_t limit, jm_snapshot_page_t *page, void *arg)
{
    intake_server_t *s = arg;

    return intake_repo_snapshot(txn, after_key, after_size, limit, page,
                                &s->repo);
}

static int
queue_expiry(const char *id, void *arg)
{
    intake_server_t *s = arg;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetOrderStatus body = JOBMATCH__V1__SET_ORDER_STATUS__INIT;

    body.order_id = (char *) id;
    body.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS;
    req.set_order_status = &body;
    /* Copied, and applied in the flush that follows this tick. */
    jm_source_submit(s->source, &req);
    return 0;
}

/* Expires open orders whose deadline day has passed: each becomes an
 * ordinary write (SetOrderStatus EXPIRED from the principal "service"),
 * so it gets its event and its checks like any other change. */
static void
server_housekeeping(jm_source_t *source, void *arg)
{
    intake_server_t *s = arg;
    int rc;

    (void) source;
    /* The deadline index is in memory: no transaction needed. */
    rc = intake_repo_due(&s->repo, jm_clock_today(), EXPIRIES_PER_TICK,
                         queue_expiry, s);
    if (rc != 0)
        jm_log(JM_LOG_WARN, "intake", "cannot look for expired orders: %s",
               jm_strerror(rc));
}

/* The in-memory indexes follow the commits (intake_repo.h). */
static void
server_begin(jm_source_t *source, void *arg)
{
    intake_server_t *s = arg;

    (void) source;
    intake_repo_begin(&s->repo);
}

static void
server_committed(jm_source_t *source, int status, void *arg)
{
    intake_server_t *s = arg;

    (void) source;
    intake_repo_committed(&s->repo, status);
}

static const jm_source_ops intake_ops = {
    .check = server_check,
    .read = server_read,
    .apply = server_apply,
    .snapshot = server_snapshot,
    .housekeeping = server_housekeeping,
    .begin = server_begin,
    .committed = server_committed,
};

static int
open_dbs(jm_store_t *store, void *arg)
{
    intake_server_t *s = arg;

    return intake_repo_open(&s->repo, store);
}

/* ---- life ---- */

static char *
dup_or_empty(const char *s)
{
    return jm_xstrdup(s != NULL ? s : "");
}

static void
load_esco(intake_server_t *s)
{
    char *dir = jm_esco_default_dir();
    int rc = jm_esco_load(&s->esco, dir);

    if (rc != 0)
        jm_log(JM_LOG_WARN, "intake",
               "no ESCO data in %s (%s): occupations are checked for their "
               "URI syntax only, and isco_code is not filled",
               dir, jm_strerror(rc));
    free(dir);
}

int
intake_server_new(intake_server_t **server_p, uv_loop_t *loop,
                  const intake_config *config)
{
    intake_server_t *s = jm_xcalloc(1, sizeof(*s));
    jm_source_config sc = {0};
    int rc;

    s->data_dir = dup_or_empty(config->data_dir);
    s->api = dup_or_empty(config->api);
    s->log = dup_or_empty(config->log);
    s->tick = dup_or_empty(config->tick);
    s->source_name = dup_or_empty(config->source_name);
    s->allow_file = dup_or_empty(config->allow_file);
    s->plain_principal = dup_or_empty(config->plain_principal);
    load_esco(s);

    sc.service = "intake";
    sc.source_name = s->source_name;
    sc.data_dir = s->data_dir;
    sc.api_endpoint = s->api;
    sc.log_endpoint = s->log;
    sc.tick_endpoint = s->tick;
    sc.announce_pending = true; /* the matcher prepares new orders */
    sc.max_request_size = (size_t) config->max_request_size;
    sc.map_size = (size_t) config->map_size_mb << 20;
    sc.log_retain = config->log_retain;
    sc.idem_retain_ms = config->idem_retain_hours * 3600 * 1000;
    sc.housekeeping_ms = (unsigned) config->housekeeping_ms;
    sc.key_file = config->key_file;
    sc.allow_file = s->allow_file;
    sc.plain_principal = s->plain_principal[0] ? s->plain_principal : NULL;
    rc = jm_source_new(&s->source, loop, &sc, &intake_ops, open_dbs, s);
    if (rc != 0)
        goto fail;
    *server_p = s;
    return 0;

fail:
    intake_server_destroy(&s);
    return rc;
}

void
intake_server_destroy(intake_server_t **server_p)
{
    intake_server_t *s = *server_p;

    if (s == NULL)
        return;
    jm_source_destroy(&s->source);
    intake_repo_close(&s->repo);
    jm_esco_destroy(&s->esco);
    free(s->scratch);
    free(s->data_dir);
    free(s->api);
    free(s->log);
    free(s->tick);
    free(s->source_name);
    free(s->allow_file);
    free(s->plain_principal);
    free(s);
    *server_p = NULL;
}

jm_source_t *
intake_server_source(intake_server_t *server)
{
    return server->source;
}

bool
intake_server_failed(const intake_server_t *server)
{
    return server->source != NULL && jm_source_failed(server->source);
}
