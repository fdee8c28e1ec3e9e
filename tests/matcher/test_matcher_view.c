/* test_matcher_view.c - the replicated view without sockets: events are
 * applied the way jm_follower applies them (inside jm_store_write, then
 * the committed callback), and the index follows the store: open orders
 * in, closed and removed ones out, citizens in and erased; a snapshot of
 * one source drops only its records; a batch applied twice changes
 * nothing more; a reopened view loads the same index (terms keep their
 * ids); records of sources no longer configured are dropped, and their
 * cursors, so that a source configured again is read again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"
#include "matcher_fixture.h"
#include "matcher_score.h"
#include "matcher_view.h"

struct fixture {
    char dir[256];
    matcher_index_t *ix;
    matcher_view_t *view;
    size_t begins, changes, removals;
    /* records made from pending events: how many, and the last one */
    size_t pendings;
    _Alignas(8) uint8_t pending_rec[MATCHER_ORDER_REC_MAX];
    size_t pending_size;
};

static void
on_begin(void *arg, size_t touched, unsigned source, uint64_t seq)
{
    struct fixture *f = arg;

    (void) touched;
    (void) source;
    (void) seq;
    f->begins++;
}

static void
on_change(void *arg, const matcher_change *change)
{
    struct fixture *f = arg;

    f->changes++;
    f->removals += change->removed;
}

static void
on_pending_order(void *arg, const struct matcher_order_rec *rec, size_t size)
{
    struct fixture *f = arg;

    f->pendings++;
    memcpy(f->pending_rec, rec, size);
    f->pending_size = size;
}

static void
open_view(struct fixture *f, unsigned sources)
{
    matcher_view_opts opts = {
        .data_dir = f->dir,
        .sources = sources,
        .esco = fx_esco(),
        .events = {.begin = on_begin,
                   .change = on_change,
                   .pending_order = on_pending_order},
        .arg = f,
    };

    matcher_index_new(&f->ix);
    assert_int_equal(matcher_view_open(&f->view, f->ix, &opts), 0);
}

static void
close_view(struct fixture *f)
{
    matcher_view_destroy(&f->view);
    matcher_index_destroy(&f->ix);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    jm_test_tmpdir(f->dir, sizeof(f->dir));
    open_view(f, 2);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    close_view(f);
    jm_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* A batch as jm_follower applies it: the events, then prepared, in one
 * transaction; fail makes the transaction end without committing after
 * prepared ran (as when the map is full at the commit). */
struct batch {
    jm_follower_handler h;
    void *arg;
    const Jobmatch__V1__Event *events[8];
    size_t n;
    bool reset, fail;
};

static int
batch_txn(jm_txn_t *txn, void *arg)
{
    struct batch *b = arg;
    int rc;

    if (b->reset && (rc = b->h.reset(txn, b->arg)) != 0)
        return rc;
    for (size_t i = 0; i < b->n; i++) {
        if ((rc = b->h.apply(txn, b->events[i], b->arg)) != 0)
            return rc;
    }
    if ((rc = b->h.prepared(txn, 42, b->arg)) != 0)
        return rc;
    return b->fail ? -EIO : 0;
}

static void
handler_for(struct fixture *f, unsigned source, struct batch *b)
{
    const char *cursor;

    matcher_view_handler(f->view, source, &b->h, &b->arg, &cursor);
    assert_string_equal(cursor, source == 0 ? "source-0" : "source-1");
}

/* twice: the batch's first try does not commit, and it is redone from the
 * start with nothing in between, as jm_store_write does after growing
 * the map. */
static void
run_batch(struct fixture *f, unsigned source, bool reset,
          const Jobmatch__V1__Event *const *events, size_t n, bool twice)
{
    struct batch b = {.n = n, .reset = reset};

    handler_for(f, source, &b);
    memcpy(b.events, events, n * sizeof(*events));
    if (twice) {
        b.fail = true;
        assert_int_equal(
            jm_store_write(matcher_view_store(f->view), batch_txn, &b), -EIO);
        b.fail = false;
    }
    assert_int_equal(jm_store_write(matcher_view_store(f->view), batch_txn, &b),
                     0);
    b.h.committed(42, b.arg);
}

static void
order_event(Jobmatch__V1__Event *ev, Jobmatch__V1__OrderChanged *oc,
            fx_order *o)
{
    jobmatch__v1__event__init(ev);
    jobmatch__v1__order_changed__init(oc);
    oc->order = &o->o;
    ev->body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
    ev->order_changed = oc;
}

static void
profile_event(Jobmatch__V1__Event *ev, Jobmatch__V1__ProfileChanged *pc,
              fx_profile *p)
{
    jobmatch__v1__event__init(ev);
    jobmatch__v1__profile_changed__init(pc);
    pc->profile = &p->p;
    ev->body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED;
    ev->profile_changed = pc;
}

static bool
has_order(struct fixture *f, const char *id)
{
    return matcher_index_find_order(f->ix, id, strlen(id)) != MATCHER_NONE;
}

static bool
has_profile(struct fixture *f, const char *id)
{
    return matcher_index_find_profile(f->ix, id, strlen(id)) != MATCHER_NONE;
}

/* The cursors as the follower keeps them (jm_cursor, in the view's store). */
struct cursor_op {
    const char *name;
    jm_cursor cursor;
};

static int
save_cursor_txn(jm_txn_t *txn, void *arg)
{
    struct cursor_op *op = arg;

    return jm_cursor_save(jm_txn_store(txn), txn, op->name, &op->cursor);
}

static int
load_cursor_txn(jm_txn_t *txn, void *arg)
{
    struct cursor_op *op = arg;
    int rc = jm_cursor_load(jm_txn_store(txn), txn, op->name, &op->cursor);

    return rc == -ENOENT ? 0 : rc;
}

static void
save_cursor(struct fixture *f, const char *name, uint64_t seq)
{
    struct cursor_op op = {.name = name};

    memset(op.cursor.log_id, 'a', 32);
    op.cursor.seq = seq;
    assert_int_equal(
        jm_store_write(matcher_view_store(f->view), save_cursor_txn, &op), 0);
}

/* The cursor's seq; 0 when there is none. */
static uint64_t
cursor_seq(struct fixture *f, const char *name)
{
    struct cursor_op op = {.name = name};

    assert_int_equal(
        jm_store_read(matcher_view_store(f->view), load_cursor_txn, &op), 0);
    return op.cursor.seq;
}

static void
test_events_reach_the_index(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Event e1, e2, e3, e4;
    Jobmatch__V1__OrderChanged oc1, oc2;
    Jobmatch__V1__ProfileChanged pc;
    Jobmatch__V1__OrderRemoved orm = JOBMATCH__V1__ORDER_REMOVED__INIT;
    Jobmatch__V1__ProfileRemoved prm = JOBMATCH__V1__PROFILE_REMOVED__INIT;
    const Jobmatch__V1__Event *batch[4];
    fx_order a, b;
    fx_profile p;

    fx_order_init(&a, "order-a");
    fx_order_skill(&a, FX_STACK_GOODS, 2, true);
    fx_order_init(&b, "order-b");
    fx_profile_init(&p, "citizen-1");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2025);
    order_event(&e1, &oc1, &a);
    order_event(&e2, &oc2, &b);
    profile_event(&e3, &pc, &p);
    batch[0] = &e1;
    batch[1] = &e2;
    batch[2] = &e3;
    run_batch(f, 0, false, batch, 3, true);
    assert_true(has_order(f, "order-a"));
    assert_true(has_order(f, "order-b"));
    assert_true(has_profile(f, "citizen-1"));
    assert_int_equal(f->changes, 6); /* read back by each try */

    /* Filled: out of the index at once; b removed; the citizen erased. */
    a.o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    orm.order_id = "order-b";
    jobmatch__v1__event__init(&e2);
    e2.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_REMOVED;
    e2.order_removed = &orm;
    prm.profile_id = "citizen-1";
    jobmatch__v1__event__init(&e4);
    e4.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED;
    e4.profile_removed = &prm;
    batch[0] = &e1;
    batch[1] = &e2;
    batch[2] = &e4;
    run_batch(f, 0, false, batch, 3, false);
    assert_false(has_order(f, "order-a"));
    assert_false(has_order(f, "order-b"));
    assert_false(has_profile(f, "citizen-1"));
    assert_int_equal(f->removals, 3);
    assert_int_equal(f->ix->olive, 0);
    assert_int_equal(f->ix->plive, 0);
}

/* The record made from a source's pending events (Tick.pending) is byte
 * for byte the one the index holds once the same event is applied: the
 * matcher's list computed ahead is used only then. Orders that are not
 * open, or name a term the store does not hold yet, make none, and
 * nothing is learnt from them. */
static void
test_pending_order_is_the_record_applied(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Event e1, e2;
    Jobmatch__V1__OrderChanged oc1, oc2;
    const Jobmatch__V1__Event *batch[1];
    Jobmatch__V1__Event *pending[1];
    struct batch b;
    fx_order a, c;
    size_t terms;
    uint32_t slot;

    fx_order_init(&a, "order-a");
    fx_order_skill(&a, FX_STACK_GOODS, 2, true);
    fx_order_skill(&a, FX_FORKLIFT, 0, false);
    order_event(&e1, &oc1, &a);
    batch[0] = &e1;
    run_batch(f, 1, false, batch, 1, false);

    /* Another order with the same terms, from source 1, announced. */
    fx_order_init(&c, "order-c");
    fx_order_skill(&c, FX_FORKLIFT, 3, true);
    fx_order_skill(&c, FX_STACK_GOODS, 0, false);
    c.o.hours_per_week = 20;
    order_event(&e2, &oc2, &c);
    pending[0] = &e2;
    memset(&b, 0, sizeof(b));
    handler_for(f, 1, &b);
    b.h.pending(pending, 1, b.arg);
    assert_int_equal(f->pendings, 1);
    assert_false(has_order(f, "order-c")); /* announced is not applied */

    batch[0] = &e2;
    run_batch(f, 1, false, batch, 1, false);
    slot = matcher_index_find_order(f->ix, "order-c", 7);
    assert_int_not_equal(slot, MATCHER_NONE);
    assert_int_equal(matcher_order_size(f->ix->orders[slot].rec),
                     f->pending_size);
    assert_memory_equal(f->ix->orders[slot].rec, f->pending_rec,
                        f->pending_size);

    /* A term nobody has used: no record, and the dictionary learns
     * nothing from events that may never commit. */
    terms = matcher_dict_count(f->ix->dict);
    fx_order_skill(&c, FX_BARCODE, 0, true);
    b.h.pending(pending, 1, b.arg);
    assert_int_equal(f->pendings, 1);
    assert_int_equal(matcher_dict_count(f->ix->dict), terms);

    /* Not open: nothing to search for. */
    a.o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN;
    pending[0] = &e1;
    b.h.pending(pending, 1, b.arg);
    assert_int_equal(f->pendings, 1);
}

static void
test_snapshot_drops_only_its_source(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Event e1, e2;
    Jobmatch__V1__ProfileChanged pc1, pc2;
    const Jobmatch__V1__Event *batch[2];
    fx_profile p, q;

    fx_profile_init(&p, "from-0");
    fx_profile_init(&q, "from-1");
    profile_event(&e1, &pc1, &p);
    profile_event(&e2, &pc2, &q);
    batch[0] = &e1;
    run_batch(f, 0, false, batch, 1, false);
    batch[0] = &e2;
    run_batch(f, 1, false, batch, 1, false);
    assert_true(has_profile(f, "from-0"));
    assert_true(has_profile(f, "from-1"));
    /* Source 1 snapshots: its first page holds nothing. */
    run_batch(f, 1, true, batch, 0, false);
    assert_true(has_profile(f, "from-0"));
    assert_false(has_profile(f, "from-1"));
}

/* The order of id in the index: its source and its hours; -1 if none. */
static int
order_source(struct fixture *f, const char *id, unsigned *hours)
{
    uint32_t slot = matcher_index_find_order(f->ix, id, strlen(id));

    if (slot == MATCHER_NONE)
        return -1;
    *hours = f->ix->orders[slot].rec->hours;
    return f->ix->orders[slot].rec->source;
}

/* Two sources with an order of the same id (a client chose it in two
 * municipalities): the record of the lower source position holds the id,
 * whichever arrived first, and the other waits aside: when the holder's
 * record goes (closed, removed, its source's snapshot), the other takes
 * the id. So two matchers that applied the same events in another order
 * answer alike. The same for a citizen's id. */
static void
test_same_id_from_two_sources_lower_position_holds_it(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Event e0, e1, e2;
    Jobmatch__V1__OrderChanged oc0, oc1;
    Jobmatch__V1__ProfileChanged pc;
    Jobmatch__V1__OrderRemoved orm = JOBMATCH__V1__ORDER_REMOVED__INIT;
    const Jobmatch__V1__Event *batch[1];
    matcher_view_stats st;
    fx_order of0, of1;
    fx_profile p;
    unsigned hours = 0;

    fx_order_init(&of0, "dup-7");
    of0.o.hours_per_week = 37;
    fx_order_init(&of1, "dup-7");
    of1.o.hours_per_week = 20;
    order_event(&e0, &oc0, &of0);
    order_event(&e1, &oc1, &of1);

    /* Source 1 first, then source 0: source 0's holds the id. */
    batch[0] = &e1;
    run_batch(f, 1, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 1);
    batch[0] = &e0;
    run_batch(f, 0, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 0);
    assert_int_equal(hours, 37);
    /* Source 1 changes its order again: still aside. */
    of1.o.hours_per_week = 25;
    batch[0] = &e1;
    run_batch(f, 1, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 0);
    assert_int_equal(hours, 37);

    /* Source 0 closes its order: source 1's, as last changed, takes the
     * id. */
    of0.o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    batch[0] = &e0;
    run_batch(f, 0, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 1);
    assert_int_equal(hours, 25);
    /* Source 0 opens it again: it holds the id again. */
    of0.o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
    run_batch(f, 0, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 0);
    /* Source 1 removes its order (aside): source 0's stays; then source
     * 0's goes and nothing is left. */
    orm.order_id = "dup-7";
    jobmatch__v1__event__init(&e2);
    e2.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_REMOVED;
    e2.order_removed = &orm;
    batch[0] = &e2;
    run_batch(f, 1, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 0);
    run_batch(f, 0, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), -1);

    /* Both again; source 0 takes a snapshot (its records dropped, its
     * first page empty): source 1's takes the id. */
    batch[0] = &e0;
    run_batch(f, 0, false, batch, 1, false);
    batch[0] = &e1;
    run_batch(f, 1, false, batch, 1, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 0);
    run_batch(f, 0, true, batch, 0, false);
    assert_int_equal(order_source(f, "dup-7", &hours), 1);
    assert_int_equal(hours, 25);

    /* A citizen's id: source 1's first, source 0's holds it after. */
    fx_profile_init(&p, "citizen-dup");
    profile_event(&e2, &pc, &p);
    batch[0] = &e2;
    run_batch(f, 1, false, batch, 1, false);
    run_batch(f, 0, false, batch, 1, false);
    assert_true(has_profile(f, "citizen-dup"));
    assert_int_equal(matcher_cold_of(f->ix, matcher_index_find_profile(
                                                f->ix, "citizen-dup", 11))
                         ->source,
                     0);
    matcher_view_get_stats(f->view, &st);
    assert_int_equal(st.conflicts, 6); /* each event for a shared id */
}

static void
test_reopen_loads_the_same_view(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Event e1, e2;
    Jobmatch__V1__OrderChanged oc;
    Jobmatch__V1__ProfileChanged pc;
    const Jobmatch__V1__Event *batch[2];
    fx_order o;
    fx_profile p;
    uint32_t slot;
    int term;

    fx_order_init(&o, "order-x");
    fx_order_skill(&o, FX_FORKLIFT, 3, true);
    fx_profile_init(&p, "citizen-x");
    fx_profile_skill(&p, FX_BARCODE, 2, 2020);
    fx_profile_skill(&p, FX_FORKLIFT, 4, 2024);
    order_event(&e1, &oc, &o);
    profile_event(&e2, &pc, &p);
    batch[0] = &e1;
    batch[1] = &e2;
    /* Redone: the terms its first try taught the dictionary must still be
     * stored by the second. */
    run_batch(f, 1, false, batch, 2, true);
    term = matcher_dict_find(f->ix->dict, FX_FORKLIFT, strlen(FX_FORKLIFT));
    assert_true(term >= 0);

    close_view(f);
    open_view(f, 2);
    assert_true(has_order(f, "order-x"));
    slot = matcher_index_find_profile(f->ix, "citizen-x", 9);
    assert_int_not_equal(slot, MATCHER_NONE);
    assert_int_equal(
        matcher_cold_level(matcher_cold_of(f->ix, slot), (uint16_t) term), 4);
    assert_int_equal(
        matcher_dict_find(f->ix->dict, FX_FORKLIFT, strlen(FX_FORKLIFT)), term);

    /* With one source configured, source 1's records go, and so does its
     * cursor: configured again, the source is read from the start of its
     * log (a cursor left at 7 would resume there, and its records would
     * stay lost while its status looked caught up). */
    save_cursor(f, "source-0", 5);
    save_cursor(f, "source-1", 7);
    close_view(f);
    open_view(f, 1);
    assert_false(has_order(f, "order-x"));
    assert_false(has_profile(f, "citizen-x"));
    assert_int_equal(cursor_seq(f, "source-0"), 5);
    assert_int_equal(cursor_seq(f, "source-1"), 0);
}

/* A batch whose commit fails after it reached the index: aborted puts
 * the index and the dictionary back as they were committed. */
static void
test_failed_commit_is_put_back(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Event e1, e2;
    Jobmatch__V1__OrderChanged oc1, oc2;
    const Jobmatch__V1__Event *batch[1];
    fx_order kept, lost, later;
    struct batch b = {.n = 1, .fail = true};
    size_t terms;
    int term;

    fx_order_init(&kept, "order-kept");
    fx_order_skill(&kept, FX_STACK_GOODS, 2, true);
    order_event(&e1, &oc1, &kept);
    batch[0] = &e1;
    run_batch(f, 0, false, batch, 1, false);
    terms = matcher_dict_count(f->ix->dict);

    /* The order changed to a skill the dictionary does not know yet:
     * prepared puts it in the index, then the commit fails. */
    fx_order_init(&lost, "order-kept");
    fx_order_skill(&lost, FX_FORKLIFT, 3, true);
    order_event(&e2, &oc2, &lost);
    handler_for(f, 0, &b);
    b.events[0] = &e2;
    assert_int_equal(jm_store_write(matcher_view_store(f->view), batch_txn, &b),
                     -EIO);
    assert_true(
        matcher_dict_find(f->ix->dict, FX_FORKLIFT, strlen(FX_FORKLIFT)) >= 0);
    b.h.aborted(41, b.arg);
    assert_true(has_order(f, "order-kept"));
    assert_int_equal(matcher_dict_count(f->ix->dict), terms);
    assert_true(
        matcher_dict_find(f->ix->dict, FX_FORKLIFT, strlen(FX_FORKLIFT)) < 0);
    {
        uint32_t slot = matcher_index_find_order(f->ix, "order-kept", 10);
        const struct matcher_order_rec *r = f->ix->orders[slot].rec;

        assert_int_equal(r->n_ess, 1);
        assert_string_equal(
            matcher_dict_uri(f->ix->dict, matcher_order_skills(r)[0].term),
            FX_STACK_GOODS);
    }

    /* The id the lost term had goes to the next new term, stored. */
    fx_order_init(&later, "order-later");
    fx_order_skill(&later, FX_BARCODE, 2, true);
    order_event(&e2, &oc2, &later);
    batch[0] = &e2;
    run_batch(f, 0, false, batch, 1, false);
    term = matcher_dict_find(f->ix->dict, FX_BARCODE, strlen(FX_BARCODE));
    assert_int_equal(term, (int) terms);
    close_view(f);
    open_view(f, 2);
    assert_int_equal(
        matcher_dict_find(f->ix->dict, FX_BARCODE, strlen(FX_BARCODE)), term);
    assert_true(
        matcher_dict_find(f->ix->dict, FX_FORKLIFT, strlen(FX_FORKLIFT)) < 0);
    assert_true(has_order(f, "order-kept"));
    assert_true(has_order(f, "order-later"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_reach_the_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_pending_order_is_the_record_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_drops_only_its_source,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_same_id_from_two_sources_lower_position_holds_it, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_reopen_loads_the_same_view, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_is_put_back, setup,
                                        teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    fx_esco_release();
    return rc;
}
