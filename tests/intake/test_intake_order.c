/* test_intake_order.c - how an order changes, as pure functions: the
 * generated ids, creation with the derived fields, updates against a
 * version, closing, expiry, candidate outcomes, and the statistics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake_order.h"
#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/json.h"
#include "jm/mem.h"
#include "jm_test.h"
#include "order_sample.h"

/* ---- changes ---- */

static void
test_generated_ids(void **state)
{
    uint8_t zeros[INTAKE_ID_RANDOM_BYTES] = {0};
    uint8_t ones[INTAKE_ID_RANDOM_BYTES];
    uint8_t mixed[INTAKE_ID_RANDOM_BYTES] = {0x08, 0x86, 0x42};
    char id[INTAKE_ID_GENERATED_LEN + 1], later[INTAKE_ID_GENERATED_LEN + 1];
    jm_error err = {0};

    (void) state;
    memset(ones, 0xff, sizeof(ones));
    intake_order_new_id(id, 0, zeros);
    assert_string_equal(id, "jo-22222222222222222222");
    intake_order_new_id(id, 0, ones);
    assert_string_equal(id, "jo-2222222222zzzzzzzzzz");
    /* The time, then the low 50 random bits, 5 bits a character. */
    intake_order_new_id(id, NOW_MS, mixed);
    assert_string_equal(id, "jo-23ok2jghk26acc222222");
    assert_int_equal(strlen(id), INTAKE_ID_GENERATED_LEN);
    assert_true(jm_check_id(&err, "id", id, true));
    /* Later ids sort later, whatever their random part. */
    for (int64_t step = 1; step < (INT64_C(1) << 45); step *= 7) {
        intake_order_new_id(id, NOW_MS, ones);
        intake_order_new_id(later, NOW_MS + step, zeros);
        assert_true(strcmp(id, later) < 0);
    }
}

static void
test_create_fills_derived_fields(void **state)
{
    struct sample s;
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__Location wp;
    intake_rules r = sample_rules();

    (void) state;
    sample_init(&s);
    s.order.isco_code = "";
    intake_order_create(&r, &order, &wp, &s.order, "jo-x", NOW_MS);
    assert_string_equal(order.id, "jo-x");
    assert_int_equal(order.version, 1);
    assert_int_equal(order.status,
                     JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
    assert_int_equal(order.created_at_ms, NOW_MS);
    assert_int_equal(order.updated_at_ms, NOW_MS);
    assert_string_equal(order.isco_code, "9333");
    /* Glostrup's centroid, written into the copy, not the request. */
    assert_true(fabs(order.workplace->latitude - 55.6813) < 1e-6);
    assert_true(fabs(order.workplace->longitude - 12.4039) < 1e-6);
    assert_true(s.workplace.latitude == 0 && s.workplace.longitude == 0);
    /* A postcode without a position: the municipality's centre. */
    s.workplace.postcode = "1431";
    s.workplace.municipality_code = "101";
    intake_order_create(&r, &order, &wp, &s.order, "jo-y", NOW_MS);
    assert_true(jm_geo_in_denmark(order.workplace->latitude,
                                  order.workplace->longitude));
    /* Given coordinates and an ISCO code are kept; an unknown occupation
     * gets none. */
    s.workplace.latitude = 55.5;
    s.workplace.longitude = 12.1;
    s.order.occupation_uri = OCC_UNKNOWN;
    intake_order_create(&r, &order, &wp, &s.order, "jo-z", NOW_MS);
    assert_true(order.workplace->latitude == 55.5);
    assert_string_equal(order.isco_code, "");
}

static void
make_stored(struct sample *s, Jobmatch__V1__JobOrder *stored,
            Jobmatch__V1__Location *wp)
{
    intake_rules r = sample_rules();

    sample_init(s);
    intake_order_create(&r, stored, wp, &s->order, "jo-1", NOW_MS - 1000);
}

static void
test_update_rules(void **state)
{
    struct sample s, u;
    Jobmatch__V1__JobOrder stored, out;
    Jobmatch__V1__Location wp, wp2;
    Jobmatch__V1__UpdateOrder body = JOBMATCH__V1__UPDATE_ORDER__INIT;
    intake_rules r = sample_rules();
    jm_error err = {0};

    (void) state;
    make_stored(&s, &stored, &wp);
    stored.candidates = s.cand_p;
    stored.n_candidates = 1;
    sample_init(&u);
    u.order.id = "jo-1";
    u.order.title = "Truckfører";
    body.order = &u.order;
    body.expected_version = 2;
    assert_int_equal(
        intake_order_update(&r, &out, &wp2, &stored, &body, NOW_MS, &err), 1);
    expect_error(&err, JM_E_CONFLICT, "update_order.expected_version");
    memset(&err, 0, sizeof(err));
    body.expected_version = 1;
    assert_int_equal(
        intake_order_update(&r, &out, &wp2, &stored, &body, NOW_MS, &err), 0);
    assert_int_equal(out.version, 2);
    assert_string_equal(out.title, "Truckfører");
    assert_int_equal(out.created_at_ms, NOW_MS - 1000);
    assert_int_equal(out.updated_at_ms, NOW_MS);
    assert_int_equal(out.n_candidates, 1);
    assert_int_equal(out.status, JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
    /* Closed orders are not updated. */
    stored.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    assert_int_equal(
        intake_order_update(&r, &out, &wp2, &stored, &body, NOW_MS, &err), 1);
    expect_error(&err, JM_E_CONFLICT, "update_order.order.id");
}

static void
test_status_rules(void **state)
{
    struct sample s;
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__Location wp;
    Jobmatch__V1__SetOrderStatus body = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    intake_rules r = sample_rules();
    jm_error err = {0};

    (void) state;
    make_stored(&s, &order, &wp);
    body.order_id = "jo-1";
    body.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    body.hires = 3; /* 2 positions */
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     1);
    expect_error(&err, JM_E_INVALID_FIELD, "set_order_status.hires");
    memset(&err, 0, sizeof(err));
    body.hires = 2;
    body.expected_version = 5;
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     1);
    expect_error(&err, JM_E_CONFLICT, "set_order_status.expected_version");
    memset(&err, 0, sizeof(err));
    /* Not yet expired: the deadline is in June. */
    body.expected_version = 0;
    body.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED;
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     1);
    expect_error(&err, JM_E_CONFLICT, "set_order_status.status");
    memset(&err, 0, sizeof(err));
    assert_int_equal(order.version, 1);
    assert_int_equal(order.status,
                     JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN);

    body.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    body.expected_version = 1;
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     0);
    assert_int_equal(order.status,
                     JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED);
    assert_int_equal(order.hires, 2);
    assert_int_equal(order.version, 2);
    assert_int_equal(order.closed_at_ms, NOW_MS);
    /* Closed orders change no more. */
    body.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN;
    body.hires = 0;
    body.expected_version = 0;
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     1);
    expect_error(&err, JM_E_CONFLICT, "set_order_status.order_id");
}

static void
test_expiry_after_deadline(void **state)
{
    struct sample s;
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__Location wp;
    Jobmatch__V1__SetOrderStatus body = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    intake_rules r = sample_rules();
    jm_error err = {0};

    (void) state;
    make_stored(&s, &order, &wp);
    body.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED;
    order.deadline = "2027-03-01"; /* today: not yet */
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     1);
    memset(&err, 0, sizeof(err));
    r.today++; /* the next day */
    assert_int_equal(intake_order_set_status(&r, &order, &body, NOW_MS, &err),
                     0);
    assert_int_equal(order.status,
                     JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED);
    assert_int_equal(order.hires, 0);
    assert_int_equal(intake_order_deadline_days(&order), r.today - 1);
}

static void *
arena_alloc(void *data, size_t size)
{
    void **blocks = data;

    /* A small arena of blocks freed at the end of the test. */
    for (size_t i = 0; i < 2048; i++) {
        if (blocks[i] == NULL)
            return blocks[i] = jm_xcalloc(1, size);
    }
    fail_msg("test arena full");
    return NULL;
}

static void
arena_free(void *data, void *ptr)
{
    (void) data;
    (void) ptr;
}

static void
test_outcome_rules(void **state)
{
    struct sample s;
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__Location wp;
    Jobmatch__V1__RecordOutcome body = JOBMATCH__V1__RECORD_OUTCOME__INIT;
    void **blocks = jm_xcalloc(2048, sizeof(void *));
    ProtobufCAllocator alloc = {arena_alloc, arena_free, blocks};
    char ids[INTAKE_CANDIDATES_MAX + 1][16];
    jm_error err = {0};

    (void) state;
    make_stored(&s, &order, &wp);
    body.order_id = "jo-1";
    body.profile_id = "p-1";
    body.status = JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_PROPOSED;
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    assert_int_equal(order.n_candidates, 1);
    assert_int_equal(order.version, 2);
    /* The same profile again moves its entry. */
    body.status = JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_HIRED;
    body.note = "starter 1. april";
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS + 5, &alloc, &err),
        0);
    assert_int_equal(order.n_candidates, 1);
    assert_int_equal(order.candidates[0]->status,
                     JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_HIRED);
    assert_string_equal(order.candidates[0]->note, "starter 1. april");
    assert_int_equal(order.candidates[0]->updated_at_ms, NOW_MS + 5);
    assert_int_equal(order.version, 3);
    /* Up to 500 candidates; the 501st is refused, a known one still moves. */
    body.status = JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_PROPOSED;
    for (int i = 2; i <= INTAKE_CANDIDATES_MAX; i++) {
        snprintf(ids[i], sizeof(ids[i]), "p-%d", i);
        body.profile_id = ids[i];
        assert_int_equal(
            intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err),
            0);
    }
    assert_int_equal(order.n_candidates, INTAKE_CANDIDATES_MAX);
    body.profile_id = "p-new";
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 1);
    expect_error(&err, JM_E_CONFLICT, "record_outcome.profile_id");
    memset(&err, 0, sizeof(err));
    body.profile_id = "p-7";
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    /* FILLED still takes outcomes; WITHDRAWN does not. */
    order.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    order.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN;
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 1);
    expect_error(&err, JM_E_CONFLICT, "record_outcome.order_id");
    for (size_t i = 0; i < 2048; i++)
        free(blocks[i]);
    free(blocks);
}

/* Hired candidates fit in the order's positions, as a close's hires do
 * (set_order_status.hires <= positions): a hire beyond them is refused,
 * and so is an update to fewer positions than are hired. Moving a hired
 * candidate to another status frees the position. */
static void
test_hires_fit_the_positions(void **state)
{
    const Jobmatch__V1__CandidateStatus PRESENTED =
        JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_PRESENTED;
    const Jobmatch__V1__CandidateStatus HIRED =
        JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_HIRED;
    const Jobmatch__V1__CandidateStatus REJECTED =
        JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_REJECTED;
    struct sample s, u;
    Jobmatch__V1__JobOrder order, out;
    Jobmatch__V1__Location wp, wp2;
    Jobmatch__V1__RecordOutcome body = JOBMATCH__V1__RECORD_OUTCOME__INIT;
    Jobmatch__V1__UpdateOrder update = JOBMATCH__V1__UPDATE_ORDER__INIT;
    void **blocks = jm_xcalloc(2048, sizeof(void *));
    ProtobufCAllocator alloc = {arena_alloc, arena_free, blocks};
    intake_rules r = sample_rules();
    jm_error err = {0};

    (void) state;
    make_stored(&s, &order, &wp);
    assert_int_equal(order.positions, 2);
    body.order_id = "jo-1";
    body.status = HIRED;
    body.profile_id = "p-aaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    body.profile_id = "p-bbbbbbbbbbbbbbbbbbbb";
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    /* The same candidate hired again is still one hire. */
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    body.profile_id = "p-cccccccccccccccccccc";
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 1);
    expect_error(&err, JM_E_CONFLICT, "record_outcome.status");
    assert_non_null(strstr(err.message, "2 positions"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(order.n_candidates, 2);
    assert_int_equal(order.version, 4);
    /* On the list as anything else, a third candidate is fine. */
    body.status = PRESENTED;
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);

    /* Fewer positions than hired candidates: the update is refused. */
    sample_init(&u);
    u.order.id = "jo-1";
    u.order.positions = 1;
    update.order = &u.order;
    update.expected_version = order.version;
    assert_int_equal(
        intake_order_update(&r, &out, &wp2, &order, &update, NOW_MS, &err), 1);
    expect_error(&err, JM_E_CONFLICT, "update_order.order.positions");
    memset(&err, 0, sizeof(err));

    /* One hire turned down frees a position, for the update or another
     * candidate. */
    body.profile_id = "p-aaaaaaaaaaaaaaaaaaaa";
    body.status = REJECTED;
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    update.expected_version = order.version;
    assert_int_equal(
        intake_order_update(&r, &out, &wp2, &order, &update, NOW_MS, &err), 0);
    assert_int_equal(out.positions, 1);
    body.profile_id = "p-cccccccccccccccccccc";
    body.status = HIRED;
    assert_int_equal(
        intake_order_record_outcome(&order, &body, NOW_MS, &alloc, &err), 0);
    for (size_t i = 0; i < 2048; i++)
        free(blocks[i]);
    free(blocks);
}

static void
test_stats(void **state)
{
    Jobmatch__V1__JobOrder o = JOBMATCH__V1__JOB_ORDER__INIT;
    Jobmatch__V1__MunicipalityOrderStats out =
        JOBMATCH__V1__MUNICIPALITY_ORDER_STATS__INIT;
    intake_stats_acc acc = {0};
    const double day = 86400000.0;
    /* Filled after 1, 2, 10 and 4 days: median 3. */
    const int days[] = {1, 2, 10, 4};

    (void) state;
    for (size_t i = 0; i < JM_COUNTOF(days); i++) {
        o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
        o.hires = 1;
        o.created_at_ms = 1000;
        o.closed_at_ms = 1000 + (int64_t) (days[i] * day);
        intake_stats_add(&acc, &o);
    }
    o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
    o.positions = 3;
    intake_stats_add(&acc, &o);
    intake_stats_add(&acc, &o);
    o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN;
    intake_stats_add(&acc, &o);
    o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED;
    intake_stats_add(&acc, &o);
    intake_stats_add(&acc, &o);
    intake_stats_finish(&acc, &out);
    assert_int_equal(out.open, 2);
    assert_int_equal(out.filled, 4);
    assert_int_equal(out.withdrawn, 1);
    assert_int_equal(out.expired, 2);
    assert_int_equal(out.positions_open, 6);
    assert_int_equal(out.hires, 4);
    assert_true(fabs(out.fill_rate - 4.0 / 7.0) < 1e-9);
    assert_true(fabs(out.median_days_to_fill - 3.0) < 1e-9);
    assert_null(acc.fill_days);
    /* Nothing closed: no rate, no median. */
    memset(&acc, 0, sizeof(acc));
    acc.open = 1;
    intake_stats_finish(&acc, &out);
    assert_true(out.fill_rate == 0 && out.median_days_to_fill == 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_ids),
        cmocka_unit_test(test_create_fills_derived_fields),
        cmocka_unit_test(test_update_rules),
        cmocka_unit_test(test_status_rules),
        cmocka_unit_test(test_expiry_after_deadline),
        cmocka_unit_test(test_outcome_rules),
        cmocka_unit_test(test_hires_fit_the_positions),
        cmocka_unit_test(test_stats),
    };

    return cmocka_run_group_tests(tests, sample_group_setup,
                                  sample_group_teardown);
}
