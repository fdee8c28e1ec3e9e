/* toy_sources.c - toy intake and profiles services (see toy_sources.h). */
#include "toy_sources.h"

#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"

struct toy_source {
    bool orders; /* else profiles */
    jm_dbi records;
    jm_source_t *source;
};

static int
open_dbs(jm_store_t *store, void *arg)
{
    toy_source_t *toy = arg;

    return jm_store_dbi(store, "records", false, &toy->records);
}

static jm_source_kind
check(const Jobmatch__V1__Request *req, const char *principal, jm_error *err,
      void *arg)
{
    toy_source_t *toy = arg;

    (void) principal;
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        if (!toy->orders || req->submit_order->order == NULL ||
            !jm_check_id(err, "submit_order.order.id",
                         req->submit_order->order->id, true))
            return JM_SOURCE_REJECT;
        return JM_SOURCE_WRITE;
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS:
        return toy->orders ? JM_SOURCE_WRITE : JM_SOURCE_REJECT;
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE:
        if (toy->orders || req->put_profile->profile == NULL ||
            !jm_check_id(err, "put_profile.profile.id",
                         req->put_profile->profile->id, true))
            return JM_SOURCE_REJECT;
        return JM_SOURCE_WRITE;
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE:
        return toy->orders ? JM_SOURCE_REJECT : JM_SOURCE_WRITE;
    default:
        return JM_SOURCE_REJECT;
    }
}

static int
accept_write(toy_source_t *toy, jm_txn_t *txn, jm_source_request *r,
             Jobmatch__V1__Event *event, const char *id)
{
    Jobmatch__V1__Accepted *a;
    uint64_t seq;
    int rc;

    if ((rc = jm_source_append(toy->source, txn, event, &seq)) != 0)
        return rc;
    a = jm_source_alloc(r, sizeof(*a));
    jobmatch__v1__accepted__init(a);
    a->id = jm_source_strdup(r, id);
    a->seq = seq;
    a->version = 1;
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ACCEPTED;
    r->reply->accepted = a;
    return 0;
}

static int
put(toy_source_t *toy, jm_txn_t *txn, const char *id,
    const ProtobufCMessage *msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;

    jm_msg_pack(msg, &data, &size);
    rc = jm_txn_put(txn, toy->records, id, strlen(id), data, size, 0);
    free(data);
    return rc;
}

static int
apply(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    toy_source_t *toy = arg;
    const Jobmatch__V1__Request *req = r->req;
    Jobmatch__V1__Event ev = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__OrderChanged oc = JOBMATCH__V1__ORDER_CHANGED__INIT;
    Jobmatch__V1__ProfileChanged pc = JOBMATCH__V1__PROFILE_CHANGED__INIT;
    Jobmatch__V1__ProfileRemoved pr = JOBMATCH__V1__PROFILE_REMOVED__INIT;
    Jobmatch__V1__JobOrder *order;
    jm_val val;
    int rc;

    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        order = req->submit_order->order;
        order->status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
        if ((rc = put(toy, txn, order->id, &order->base)) != 0)
            return rc;
        oc.order = order;
        oc.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED;
        ev.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
        ev.order_changed = &oc;
        return accept_write(toy, txn, r, &ev, order->id);
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS: {
        const char *id = req->set_order_status->order_id;

        rc = jm_txn_get(txn, toy->records, id, strlen(id), &val);
        if (rc == -ENOENT) {
            jm_error_set(&r->err, JM_E_NOT_FOUND, "", "no order %s", id);
            return 1;
        }
        if (rc != 0)
            return rc;
        order = jobmatch__v1__job_order__unpack(jm_source_allocator(r),
                                                val.size, val.data);
        if (order == NULL)
            return -EIO;
        order->status = req->set_order_status->status;
        if ((rc = put(toy, txn, id, &order->base)) != 0)
            return rc;
        oc.order = order;
        oc.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_STATUS_CHANGED;
        ev.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
        ev.order_changed = &oc;
        return accept_write(toy, txn, r, &ev, id);
    }
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE: {
        Jobmatch__V1__CitizenProfile *p = req->put_profile->profile;

        if ((rc = put(toy, txn, p->id, &p->base)) != 0)
            return rc;
        pc.profile = p;
        pc.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_UPDATED;
        ev.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED;
        ev.profile_changed = &pc;
        return accept_write(toy, txn, r, &ev, p->id);
    }
    default: {
        const char *id = req->erase_profile->profile_id;

        rc = jm_txn_del(txn, toy->records, id, strlen(id));
        if (rc != 0 && rc != -ENOENT)
            return rc;
        pr.profile_id = (char *) id;
        ev.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED;
        ev.profile_removed = &pr;
        return accept_write(toy, txn, r, &ev, id);
    }
    }
}

struct snap {
    toy_source_t *toy;
    jm_snapshot_page_t *page;
    size_t limit, count;
};

static int
snap_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct snap *w = arg;
    Jobmatch__V1__Event ev = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__OrderChanged oc = JOBMATCH__V1__ORDER_CHANGED__INIT;
    Jobmatch__V1__ProfileChanged pc = JOBMATCH__V1__PROFILE_CHANGED__INIT;

    if (w->count == w->limit) {
        jm_snapshot_page_set_next(w->page, key->data, key->size);
        return 1;
    }
    if (w->toy->orders) {
        oc.order = jobmatch__v1__job_order__unpack(NULL, val->size, val->data);
        if (oc.order == NULL)
            return -EIO;
        oc.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_SNAPSHOT;
        ev.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
        ev.order_changed = &oc;
        jm_snapshot_page_add(w->page, &ev);
        jobmatch__v1__job_order__free_unpacked(oc.order, NULL);
    } else {
        pc.profile =
            jobmatch__v1__citizen_profile__unpack(NULL, val->size, val->data);
        if (pc.profile == NULL)
            return -EIO;
        pc.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_SNAPSHOT;
        ev.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED;
        ev.profile_changed = &pc;
        jm_snapshot_page_add(w->page, &ev);
        jobmatch__v1__citizen_profile__free_unpacked(pc.profile, NULL);
    }
    w->count++;
    return 0;
}

static int
snapshot(jm_txn_t *txn, const void *after_key, size_t after_size, size_t limit,
         jm_snapshot_page_t *page, void *arg)
{
    toy_source_t *toy = arg;
    struct snap w = {toy, page, limit, 0};

    return jm_txn_scan(txn, toy->records, after_key, after_size, snap_one, &w);
}

static int
read_nothing(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    (void) txn;
    (void) arg;
    jm_error_set(&r->err, JM_E_UNSUPPORTED, "", "toy");
    return 1;
}

static const jm_source_ops toy_ops = {
    .check = check,
    .read = read_nothing,
    .apply = apply,
    .snapshot = snapshot,
};

int
toy_source_new(toy_source_t **toy_p, uv_loop_t *loop, const char *kind,
               const char *data_dir)
{
    return toy_source_new_as(toy_p, loop, kind, data_dir, NULL);
}

int
toy_source_new_as(toy_source_t **toy_p, uv_loop_t *loop, const char *kind,
                  const char *data_dir, const char *principal)
{
    toy_source_t *toy = jm_xcalloc(1, sizeof(*toy));
    jm_source_config config = {
        .service = kind,
        .data_dir = data_dir,
        .api_endpoint = "tcp://127.0.0.1:*",
        .tick_endpoint = "tcp://127.0.0.1:*",
        /* as the real services: intake announces, profiles does not */
        .announce_pending = strcmp(kind, "orders") == 0,
        .housekeeping_ms = 50,
        .plain_principal = principal,
    };
    int rc;

    toy->orders = strcmp(kind, "orders") == 0;
    rc = jm_source_new(&toy->source, loop, &config, &toy_ops, open_dbs, toy);
    if (rc != 0) {
        free(toy);
        return rc;
    }
    *toy_p = toy;
    return 0;
}

void
toy_source_destroy(toy_source_t **toy_p)
{
    toy_source_t *toy = *toy_p;

    if (toy == NULL)
        return;
    jm_source_destroy(&toy->source);
    free(toy);
    *toy_p = NULL;
}

const char *
toy_source_endpoint(toy_source_t *toy)
{
    return jm_source_api_endpoint(toy->source);
}

uint64_t
toy_source_head(toy_source_t *toy)
{
    return jm_source_head(toy->source);
}
