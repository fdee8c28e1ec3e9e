/* intake_order.c - how a job order changes: creation with the fields the
 * service derives, updates against a version, closing, candidate outcomes,
 * expiry, and the statistics over a set of orders (see intake_order.h).
 *
 * The life of an order:
 *
 *     submit -> OPEN --close FILLED (1 <= hires <= positions)--> FILLED
 *                    --close WITHDRAWN------------------------> WITHDRAWN
 *                    --deadline day passed (housekeeping)-----> EXPIRED
 *
 * Only an OPEN order may be updated; a closed order never changes status
 * again. Candidates may be recorded while it is OPEN or FILLED (a hire is
 * often recorded after the order was closed as filled). Every change sets
 * version + 1 and updated_at_ms. */
#include <stdlib.h>
#include <string.h>

#include "intake_order.h"
#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/mem.h"

#define DAY_MS (24.0 * 3600 * 1000)

#define S_OPEN      JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN
#define S_FILLED    JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED
#define S_WITHDRAWN JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN
#define S_EXPIRED   JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED
#define C_HIRED     JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_HIRED

/* Base32 with the digits first: the characters are those of RFC 4648's
 * lower-case alphabet, in an order where byte order is numeric order, so
 * that ids made later sort later. */
static const char id_alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";

void
intake_order_new_id(char out[INTAKE_ID_GENERATED_LEN + 1], int64_t now_ms,
                    const uint8_t random[INTAKE_ID_RANDOM_BYTES])
{
    uint64_t time = (uint64_t) now_ms, rnd = 0;

    memcpy(out, "jo-", 3);
    /* 10 characters of the time in milliseconds (50 bits: good until the
     * year 37,000), most significant first... */
    for (int i = 0; i < 10; i++)
        out[3 + i] = id_alphabet[(time >> (5 * (9 - i))) & 31];
    /* ...then 10 of randomness (50 of the 56 random bits). */
    for (int i = 0; i < INTAKE_ID_RANDOM_BYTES; i++)
        rnd = rnd << 8 | random[i];
    for (int i = 0; i < 10; i++)
        out[13 + i] = id_alphabet[(rnd >> (5 * (9 - i))) & 31];
    out[INTAKE_ID_GENERATED_LEN] = '\0';
}

void
intake_order_fill(const intake_rules *rules, Jobmatch__V1__JobOrder *order)
{
    Jobmatch__V1__Location *loc = order->workplace;

    if (loc != NULL && loc->latitude == 0 && loc->longitude == 0) {
        const jm_dk_postcode *pc = jm_dk_postcode_find(loc->postcode);
        const jm_dk_municipality *m =
            jm_dk_municipality_find(loc->municipality_code);

        /* Three postcodes have no known position (dk.h): the
         * municipality's centre is the next best guess for distances. */
        if (pc != NULL && pc->has_coordinates) {
            loc->latitude = pc->latitude;
            loc->longitude = pc->longitude;
        } else if (m != NULL) {
            loc->latitude = m->latitude;
            loc->longitude = m->longitude;
        }
    }
    if (order->isco_code[0] == '\0' && rules->esco != NULL) {
        int index = jm_esco_occupation_find(rules->esco, order->occupation_uri);

        if (index >= 0)
            order->isco_code =
                (char *) jm_esco_occupation_isco(rules->esco, (size_t) index);
    }
}

/* The workplace is copied: filling it must not write into the request,
 * which is the call's (and, for a redo, read again). */
static void
own_workplace(Jobmatch__V1__JobOrder *out, Jobmatch__V1__Location *storage)
{
    if (out->workplace != NULL) {
        *storage = *out->workplace;
        out->workplace = storage;
    }
}

void
intake_order_create(const intake_rules *rules, Jobmatch__V1__JobOrder *out,
                    Jobmatch__V1__Location *workplace,
                    const Jobmatch__V1__JobOrder *in, const char *id,
                    int64_t now_ms)
{
    *out = *in;
    own_workplace(out, workplace);
    out->id = (char *) id;
    out->version = 1;
    out->status = S_OPEN;
    out->hires = 0;
    out->n_candidates = 0;
    out->candidates = NULL;
    out->created_at_ms = now_ms;
    out->updated_at_ms = now_ms;
    out->closed_at_ms = 0;
    intake_order_fill(rules, out);
}

bool
intake_order_is_open(const Jobmatch__V1__JobOrder *order)
{
    return order->status == S_OPEN || order->status == S_FILLED;
}

static const char *
status_name(int status)
{
    switch (status) {
    case S_OPEN:
        return "open";
    case S_FILLED:
        return "filled";
    case S_WITHDRAWN:
        return "withdrawn";
    case S_EXPIRED:
        return "expired";
    default:
        return "in an unknown state";
    }
}

/* Candidates of order hired, other than profile_id (NULL: all). */
static uint32_t
hired_count(const Jobmatch__V1__JobOrder *order, const char *profile_id)
{
    uint32_t n = 0;

    for (size_t i = 0; i < order->n_candidates; i++) {
        const Jobmatch__V1__CandidateOutcome *c = order->candidates[i];

        n += c->status == C_HIRED &&
             (profile_id == NULL || strcmp(c->profile_id, profile_id) != 0);
    }
    return n;
}

int
intake_order_update(const intake_rules *rules, Jobmatch__V1__JobOrder *out,
                    Jobmatch__V1__Location *workplace,
                    const Jobmatch__V1__JobOrder *stored,
                    const Jobmatch__V1__UpdateOrder *body, int64_t now_ms,
                    jm_error *err)
{
    uint32_t hired;

    if (stored->status != S_OPEN) {
        jm_error_set(err, JM_E_CONFLICT, "update_order.order.id",
                     "order %s is %s; only open orders can be updated",
                     stored->id, status_name(stored->status));
        return 1;
    }
    if (stored->version != body->expected_version) {
        jm_error_set(err, JM_E_CONFLICT, "update_order.expected_version",
                     "order %s is at version %llu, not %llu: read it again "
                     "and redo the change",
                     stored->id, (unsigned long long) stored->version,
                     (unsigned long long) body->expected_version);
        return 1;
    }
    /* Hired candidates fit in the positions (intake_order_record_outcome);
     * fewer positions than hires would break that. */
    hired = hired_count(stored, NULL);
    if (body->order->positions < hired) {
        jm_error_set(err, JM_E_CONFLICT, "update_order.order.positions",
                     "is %u, but %u candidates of order %s are hired: move "
                     "them to another status first",
                     body->order->positions, hired, stored->id);
        return 1;
    }
    *out = *body->order;
    own_workplace(out, workplace);
    out->id = stored->id;
    out->version = stored->version + 1;
    out->status = stored->status;
    out->hires = stored->hires;
    out->n_candidates = stored->n_candidates;
    out->candidates = stored->candidates;
    out->created_at_ms = stored->created_at_ms;
    out->updated_at_ms = now_ms;
    out->closed_at_ms = stored->closed_at_ms;
    intake_order_fill(rules, out);
    return 0;
}

int32_t
intake_order_deadline_days(const Jobmatch__V1__JobOrder *order)
{
    int32_t days;

    if (jm_date_parse(order->deadline, &days) != 0)
        return INT32_MAX;
    return days;
}

int
intake_order_set_status(const intake_rules *rules,
                        Jobmatch__V1__JobOrder *order,
                        const Jobmatch__V1__SetOrderStatus *body,
                        int64_t now_ms, jm_error *err)
{
    if (order->status != S_OPEN) {
        jm_error_set(err, JM_E_CONFLICT, "set_order_status.order_id",
                     "order %s is %s already; a closed order does not change",
                     order->id, status_name(order->status));
        return 1;
    }
    if (body->expected_version != 0 &&
        body->expected_version != order->version) {
        jm_error_set(err, JM_E_CONFLICT, "set_order_status.expected_version",
                     "order %s is at version %llu, not %llu", order->id,
                     (unsigned long long) order->version,
                     (unsigned long long) body->expected_version);
        return 1;
    }
    if (body->status == S_FILLED && body->hires > order->positions) {
        jm_error_set(err, JM_E_INVALID_FIELD, "set_order_status.hires",
                     "is %u, but order %s has only %u position%s", body->hires,
                     order->id, order->positions,
                     order->positions == 1 ? "" : "s");
        return 1;
    }
    /* Re-checked here, inside the write: the order may have been given a
     * later deadline after the housekeeping found it due. */
    if (body->status == S_EXPIRED &&
        intake_order_deadline_days(order) >= rules->today) {
        jm_error_set(err, JM_E_CONFLICT, "set_order_status.status",
                     "order %s's deadline %s has not passed", order->id,
                     order->deadline);
        return 1;
    }
    order->status = body->status;
    order->hires = body->status == S_FILLED ? body->hires : 0;
    order->version++;
    order->updated_at_ms = now_ms;
    order->closed_at_ms = now_ms;
    return 0;
}

int
intake_order_record_outcome(Jobmatch__V1__JobOrder *order,
                            const Jobmatch__V1__RecordOutcome *body,
                            int64_t now_ms, ProtobufCAllocator *alloc,
                            jm_error *err)
{
    Jobmatch__V1__CandidateOutcome *entry = NULL;
    Jobmatch__V1__CandidateOutcome **grown;
    uint32_t hired;

    if (!intake_order_is_open(order)) {
        jm_error_set(err, JM_E_CONFLICT, "record_outcome.order_id",
                     "order %s is %s; candidates are recorded on open and "
                     "filled orders only",
                     order->id, status_name(order->status));
        return 1;
    }
    /* A hire takes a position, as a close's hires do (at most the
     * positions: intake_order_set_status); the same candidate hired again
     * takes none more. */
    hired = body->status == C_HIRED ? hired_count(order, body->profile_id) : 0;
    if (body->status == C_HIRED && hired >= order->positions) {
        jm_error_set(err, JM_E_CONFLICT, "record_outcome.status",
                     "order %s has %u position%s and %u hired already: move "
                     "a hired candidate to another status first, or give an "
                     "open order more positions",
                     order->id, order->positions,
                     order->positions == 1 ? "" : "s", hired);
        return 1;
    }
    for (size_t i = 0; i < order->n_candidates; i++) {
        if (strcmp(order->candidates[i]->profile_id, body->profile_id) == 0)
            entry = order->candidates[i];
    }
    if (entry == NULL) {
        if (order->n_candidates >= INTAKE_CANDIDATES_MAX) {
            jm_error_set(err, JM_E_CONFLICT, "record_outcome.profile_id",
                         "order %s has %d candidates already, the most an "
                         "order can have",
                         order->id, INTAKE_CANDIDATES_MAX);
            return 1;
        }
        grown = alloc->alloc(alloc->allocator_data,
                             (order->n_candidates + 1) * sizeof(*grown));
        entry = alloc->alloc(alloc->allocator_data, sizeof(*entry));
        JM_ASSERT(grown != NULL && entry != NULL);
        jobmatch__v1__candidate_outcome__init(entry);
        if (order->n_candidates > 0)
            memcpy(grown, order->candidates,
                   order->n_candidates * sizeof(*grown));
        grown[order->n_candidates++] = entry;
        order->candidates = grown;
        entry->profile_id = body->profile_id;
    }
    entry->status = body->status;
    entry->note = body->note;
    entry->updated_at_ms = now_ms;
    order->version++;
    order->updated_at_ms = now_ms;
    return 0;
}

/* ---- statistics ---- */

void
intake_stats_add(intake_stats_acc *acc, const Jobmatch__V1__JobOrder *order)
{
    switch (order->status) {
    case S_OPEN:
        acc->open++;
        acc->positions_open += order->positions;
        break;
    case S_FILLED:
        acc->filled++;
        acc->hires += order->hires;
        if (acc->fill_count == acc->fill_cap) {
            acc->fill_cap = acc->fill_cap ? 2 * acc->fill_cap : 64;
            acc->fill_days =
                jm_xrealloc(acc->fill_days, acc->fill_cap * sizeof(double));
        }
        acc->fill_days[acc->fill_count++] =
            (double) (order->closed_at_ms - order->created_at_ms) / DAY_MS;
        break;
    case S_WITHDRAWN:
        acc->withdrawn++;
        break;
    case S_EXPIRED:
        acc->expired++;
        break;
    default:
        break;
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

void
intake_stats_finish(intake_stats_acc *acc,
                    Jobmatch__V1__MunicipalityOrderStats *out)
{
    uint32_t closed = acc->filled + acc->withdrawn + acc->expired;
    size_t n = acc->fill_count;

    out->open = acc->open;
    out->filled = acc->filled;
    out->withdrawn = acc->withdrawn;
    out->expired = acc->expired;
    out->positions_open = acc->positions_open;
    out->hires = acc->hires;
    out->fill_rate = closed > 0 ? (double) acc->filled / closed : 0;
    out->median_days_to_fill = 0;
    if (n > 0) {
        qsort(acc->fill_days, n, sizeof(double), cmp_double);
        out->median_days_to_fill =
            n % 2 ? acc->fill_days[n / 2]
                  : (acc->fill_days[n / 2 - 1] + acc->fill_days[n / 2]) / 2;
    }
    free(acc->fill_days);
    acc->fill_days = NULL;
    acc->fill_count = acc->fill_cap = 0;
}
