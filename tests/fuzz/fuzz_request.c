/* fuzz_request.c - any bytes as a Request frame, through what each service
 * does with one before touching its store:
 *
 *   - jm_msg_unpack, the wire checks every service runs first (sizes,
 *     depth, UTF-8, unknown fields);
 *   - intake's checks of its bodies, as a municipality and as admin;
 *   - profiles' checks of its bodies;
 *   - the matcher's queries (match order and profile, gaps, bottlenecks,
 *     assignment) on a small index of real ESCO skills, as a municipality
 *     and as admin; a reply it makes must pack;
 *   - what intake then does with a request its checks passed, to the
 *     example order as intake stored it (create, update, status, outcome:
 *     the pure functions of intake_order.h): the result must pack, an
 *     update raises the version by one, a status change closes the order
 *     or fills it, a refusal says why;
 *   - an order intake created or a profile profiles accepted, made into
 *     the matcher's compact record (what the matcher does with what they
 *     log): the record must pass the matcher's own record check.
 *
 * What must hold: no crash or sanitizer report, an error reply for what is
 * refused, and the properties above. */
#include <string.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "intake_order.h"
#include "jm/clock.h"
#include "jm/esco.h"
#include "jm/json.h"
#include "jm/msg.h"
#include "jm/principal.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "matcher_dict.h"
#include "matcher_fixture.h"
#include "matcher_live.h"
#include "matcher_query.h"
#include "matcher_record.h"
#include "profiles_profile.h"

/* As the services' default max_request_size. */
#define MAX_REQUEST (1024 * 1024)

static matcher_index_t *ix;
static matcher_live_t *live;
static const jm_esco_t *esco;
static size_t fixture_terms; /* the dictionary as fuzz_index left it */

/* intake's checks of req's body as who; true if it is an intake body that
 * passed them. */
static bool
intake_checks(const Jobmatch__V1__Request *req, const char *who)
{
    intake_rules rules = {.esco = esco, .today = jm_clock_today()};
    jm_principal p;
    jm_error err = {0};
    bool ok = true;

    jm_principal_parse(who, &p);
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        ok = intake_check_submit(&rules, &p, req->submit_order, &err);
        break;
    case JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER:
        ok = intake_check_update(&rules, &p, req->update_order, &err);
        break;
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS:
        ok = intake_check_set_status(&p, req->set_order_status, &err);
        break;
    case JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME:
        ok = intake_check_outcome(&p, req->record_outcome, &err);
        break;
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER:
        ok = intake_check_get(&p, req->get_order, &err);
        break;
    case JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS:
        ok = intake_check_list(&p, req->list_orders, &err);
        break;
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS:
        ok = intake_check_stats(&p, req->get_order_stats, &err);
        break;
    default:
        return false;
    }
    /* A refusal names its field and says why. */
    fuzz_check(ok || (err.code != 0 && err.message[0] != '\0'));
    return ok;
}

/* The records the matcher makes of an order intake stored and of a
 * profile profiles accepted: made, then checked as the matcher checks
 * what it reads back. */
static _Alignas(8) uint8_t
    record_buf[MATCHER_PROFILE_REC_MAX > MATCHER_ORDER_REC_MAX
                   ? MATCHER_PROFILE_REC_MAX
                   : MATCHER_ORDER_REC_MAX];

static void
matcher_record_job(const Jobmatch__V1__JobOrder *order)
{
    matcher_encoder enc = {esco, fx_intern, ix->dict};
    int n = matcher_record_order(&enc, order, 0, record_buf);

    if (n > 0)
        fuzz_check(matcher_record_order_valid(record_buf, (size_t) n));
}

static void
matcher_record_citizen(const Jobmatch__V1__CitizenProfile *checked)
{
    matcher_encoder enc = {esco, fx_intern, ix->dict};
    Jobmatch__V1__CitizenProfile profile = *checked;
    int n;

    profile.id = "p-fuzz"; /* profiles sets it */
    n = matcher_record_profile(&enc, &profile, 0, record_buf);
    if (n > 0)
        fuzz_check(matcher_record_profile_valid(record_buf, (size_t) n));
}

static ProtobufCMessage *example(const char *file,
                                 const ProtobufCMessageDescriptor *desc);

/* ---- intake's changes: what a checked request does to a stored order ---- */

/* Request memory, as intake's allocator gives it: freed all at once. */
struct arena {
    void *blocks[256];
    unsigned n;
};

static void *
arena_alloc(void *data, size_t size)
{
    struct arena *a = data;

    fuzz_check(a->n < sizeof(a->blocks) / sizeof(a->blocks[0]));
    a->blocks[a->n] = malloc(size ? size : 1);
    fuzz_check(a->blocks[a->n] != NULL);
    return a->blocks[a->n++];
}

static void
arena_free(void *data, void *p)
{
    (void) data;
    (void) p; /* freed with the arena */
}

static void
arena_release(struct arena *a)
{
    while (a->n > 0)
        free(a->blocks[--a->n]);
}

static void
packs(const Jobmatch__V1__JobOrder *order)
{
    uint8_t *packed = NULL;
    size_t size = 0;

    fuzz_check(jm_msg_pack(&order->base, &packed, &size) == 0);
    free(packed);
}

/* The stored order the changes apply to: docs/examples/job-order.json as
 * intake creates it. */
static const Jobmatch__V1__JobOrder *
stored_order(const intake_rules *rules)
{
    static Jobmatch__V1__JobOrder stored;
    static Jobmatch__V1__Location workplace;
    static ProtobufCMessage *example_order;

    if (example_order == NULL) {
        example_order =
            example("job-order.json", &jobmatch__v1__job_order__descriptor);
        fuzz_check(example_order != NULL);
        intake_order_create(rules, &stored, &workplace,
                            (const Jobmatch__V1__JobOrder *) example_order,
                            "jo-stored", FUZZ_NOW_MS);
    }
    return &stored;
}

/* req passed intake's checks: it is applied as intake applies it (the
 * pure functions of intake_order.h), and the result must pack; a refusal
 * says why. */
static void
intake_changes(const Jobmatch__V1__Request *req, const intake_rules *rules)
{
    const Jobmatch__V1__JobOrder *stored = stored_order(rules);
    Jobmatch__V1__JobOrder out = *stored;
    Jobmatch__V1__Location workplace;
    struct arena arena = {.n = 0};
    ProtobufCAllocator alloc = {arena_alloc, arena_free, &arena};
    jm_error err = {0};
    int rc = 0;

    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        intake_order_create(rules, &out, &workplace, req->submit_order->order,
                            "jo-fuzz", FUZZ_NOW_MS);
        fuzz_check(out.version == 1 &&
                   out.status == JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
        packs(&out);
        matcher_record_job(&out);
        return;
    case JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER:
        rc = intake_order_update(rules, &out, &workplace, stored,
                                 req->update_order, FUZZ_NOW_MS, &err);
        if (rc == 0)
            fuzz_check(out.version == stored->version + 1);
        break;
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS:
        rc = intake_order_set_status(rules, &out, req->set_order_status,
                                     FUZZ_NOW_MS, &err);
        if (rc == 0)
            fuzz_check(!intake_order_is_open(&out) ||
                       out.status ==
                           JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED);
        break;
    case JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME:
        rc = intake_order_record_outcome(&out, req->record_outcome, FUZZ_NOW_MS,
                                         &alloc, &err);
        break;
    default:
        return;
    }
    if (rc == 0)
        packs(&out);
    else
        fuzz_check(err.code != 0 && err.message[0] != '\0');
    arena_release(&arena);
}

static void
matcher_queries(const Jobmatch__V1__Request *req, const char *who)
{
    matcher_query_ctx q = {ix, live};
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    matcher_arena arena = {NULL};
    jm_error err = {0};
    int rc = matcher_query(&q, who, req, &arena, &reply, &err);

    if (rc == 0) {
        uint8_t *packed = NULL;
        size_t size = 0;

        fuzz_check(jm_msg_pack(&reply.base, &packed, &size) == 0);
        free(packed);
    } else if (rc > 0) {
        fuzz_check(err.code != 0 && err.message[0] != '\0');
    }
    matcher_arena_release(&arena);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jm_msg_t *msg = NULL;
    jm_error err = {0};
    const Jobmatch__V1__Request *req;
    intake_rules rules;

    if (ix == NULL) {
        fuzz_index(&ix, &live, &esco);
        fixture_terms = matcher_dict_count(ix->dict);
    }
    /* The terms an earlier input's records added are forgotten: every
     * input meets the same index, and one that fails fails alone. */
    matcher_dict_truncate(ix->dict, fixture_terms);
    rules = (intake_rules){.esco = esco, .today = jm_clock_today()};
    if (jm_msg_unpack(&msg, &jobmatch__v1__request__descriptor, data, size,
                      MAX_REQUEST, &err) != 0) {
        fuzz_check(msg == NULL && err.code != 0);
        return 0;
    }
    req = (const Jobmatch__V1__Request *) jm_msg_get(msg);
    if (intake_checks(req, "municipality:161"))
        intake_changes(req, &rules);
    (void) intake_checks(req, "admin");
    if (!profiles_profile_check_request(req, jm_clock_today(), &err))
        fuzz_check(err.code != 0);
    else if (req->body_case == JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE &&
             req->put_profile->profile != NULL)
        matcher_record_citizen(req->put_profile->profile);
    matcher_queries(req, "municipality:161");
    matcher_queries(req, "admin");
    jm_msg_free(&msg);
    return 0;
}

/* ---- seeds: one request of each kind the targets above read ---- */

static int
seed(const char *dir, const char *name, const Jobmatch__V1__Request *req)
{
    uint8_t *packed = NULL;
    size_t size = 0;
    int rc;

    if (jm_msg_pack(&req->base, &packed, &size) != 0)
        return -1;
    rc = fuzz_write_file(dir, name, packed, size);
    free(packed);
    return rc;
}

/* A message of desc from a JSON file in docs/examples. */
static ProtobufCMessage *
example(const char *file, const ProtobufCMessageDescriptor *desc)
{
    char path[4096], err[256];
    ProtobufCMessage *msg = NULL;
    json_t *json;

    snprintf(path, sizeof(path), "%s/docs/examples/%s", JM_SOURCE_DIR, file);
    if ((json = json_load_file(path, 0, NULL)) == NULL)
        return NULL;
    if (jm_json_to_message(json, desc, &msg, err, sizeof(err)) != 0)
        msg = NULL;
    json_decref(json);
    return msg;
}

int
fuzz_write_seeds(const char *dir)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    Jobmatch__V1__MatchOrder mo = JOBMATCH__V1__MATCH_ORDER__INIT;
    Jobmatch__V1__MatchProfile mp = JOBMATCH__V1__MATCH_PROFILE__INIT;
    Jobmatch__V1__GetSkillGaps gaps = JOBMATCH__V1__GET_SKILL_GAPS__INIT;
    Jobmatch__V1__GetOrderBottlenecks bn =
        JOBMATCH__V1__GET_ORDER_BOTTLENECKS__INIT;
    Jobmatch__V1__Assign assign = JOBMATCH__V1__ASSIGN__INIT;
    char *munis[] = {"161", "165"};
    ProtobufCMessage *order =
        example("job-order.json", &jobmatch__v1__job_order__descriptor);
    ProtobufCMessage *profile =
        example("profile.json", &jobmatch__v1__put_profile__descriptor);
    int n = 0;

    if (order == NULL || profile == NULL)
        return -1;
    req.request_id.data = (uint8_t *) "0123456789abcdef";
    req.request_id.len = 16;
    submit.order = (Jobmatch__V1__JobOrder *) order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &submit;
    n += seed(dir, "submit_order", &req) == 0;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    req.put_profile = (Jobmatch__V1__PutProfile *) profile;
    n += seed(dir, "put_profile", &req) == 0;
    req.request_id.len = 0;
    mo.order_id = "o1";
    mo.top_k = 5;
    mo.explain = true;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &mo;
    n += seed(dir, "match_order", &req) == 0;
    mp.profile_id = "p1";
    mp.top_k = 3;
    mp.explain = true;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_PROFILE;
    req.match_profile = &mp;
    n += seed(dir, "match_profile", &req) == 0;
    gaps.profile_id = "p2";
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_SKILL_GAPS;
    req.get_skill_gaps = &gaps;
    n += seed(dir, "skill_gaps", &req) == 0;
    bn.order_id = "o3";
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_BOTTLENECKS;
    req.get_order_bottlenecks = &bn;
    n += seed(dir, "bottlenecks", &req) == 0;
    assign.municipality_codes = munis;
    assign.n_municipality_codes = 2;
    assign.max_per_citizen = 2;
    assign.mode = JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_EXACT;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ASSIGN;
    req.assign = &assign;
    n += seed(dir, "assign", &req) == 0;
    jm_json_message_free(order);
    jm_json_message_free(profile);
    return n;
}
