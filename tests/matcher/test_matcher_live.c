/* test_matcher_live.c - the live shortlists stay equal to a fresh
 * computation through random sequences of changes (citizens added,
 * changed, erased; orders added, replaced, closed), in small commits
 * followed one by one and in large ones rebuilt in the background (on one
 * thread and on three); and the notifications tell a subscriber exactly
 * the current lists. */
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/mem.h"
#include "jm_test.h"
#include "matcher_gen.h"
#include "matcher_live.h"

#define NOW_MS 1795435200000LL
#define SIZE   10

/* What a subscriber knows: the last ids published per order id. */
struct sub {
    char id[128][16];
    char ids[128][SIZE][16];
    size_t n[128];
    size_t orders;
    uint64_t count;
};

struct fixture {
    matcher_index_t *ix;
    matcher_live_t *live;
    gen_t g;
    struct sub sub;
};

static void
on_publish(void *arg, const char *order_id, size_t id_len,
           const matcher_hit *hits, size_t n, uint64_t cause_seq)
{
    struct fixture *f = arg;
    struct sub *s = &f->sub;
    size_t o;

    (void) cause_seq;
    for (o = 0; o < s->orders; o++) {
        if (strlen(s->id[o]) == id_len &&
            memcmp(s->id[o], order_id, id_len) == 0)
            break;
    }
    if (o == s->orders) {
        assert_true(s->orders < 128);
        memcpy(s->id[o], order_id, id_len);
        s->id[o][id_len] = '\0';
        s->orders++;
    }
    s->n[o] = n;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *id = matcher_slot_id(f->ix, hits[i].slot, &len);

        memcpy(s->ids[o][i], id, len);
        s->ids[o][i][len] = '\0';
    }
    s->count++;
}

static void
check_lists(struct fixture *f)
{
    matcher_hit fresh[SIZE];
    matcher_ctx ctx;

    matcher_ctx_now(&ctx);
    while (matcher_live_work(f->live, 100000))
        ;
    assert_int_equal(matcher_live_pending(f->live), 0);
    for (uint32_t o = 0; o < f->ix->oused; o++) {
        const struct matcher_order_rec *r = f->ix->orders[o].rec;
        const matcher_hit *kept;
        size_t n, nf, s;

        if (r == NULL)
            continue;
        kept = matcher_live_shortlist(f->live, o, &n, NULL);
        assert_non_null(kept);
        nf = matcher_topk_order(f->ix, &f->ix->orders[o], &ctx, SIZE, fresh,
                                NULL);
        assert_int_equal(n, nf);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(kept[i].slot, fresh[i].slot);
            assert_true(kept[i].score == fresh[i].score);
        }
        /* The subscriber's view of this order is the same list. */
        for (s = 0; s < f->sub.orders; s++) {
            if (strlen(f->sub.id[s]) == r->id_len &&
                memcmp(f->sub.id[s], matcher_order_id(r), r->id_len) == 0)
                break;
        }
        /* Every open order's list was published, an empty one too. */
        assert_true(s < f->sub.orders);
        assert_int_equal(f->sub.n[s], n);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *id = matcher_slot_id(f->ix, kept[i].slot, &len);

            assert_int_equal(strlen(f->sub.ids[s][i]), len);
            assert_memory_equal(f->sub.ids[s][i], id, len);
        }
    }
}

static void
change(struct fixture *f, bool order, bool removed, uint32_t slot,
       const char *id, size_t len)
{
    matcher_change ch = {order, removed, slot, id, len};

    matcher_live_change(f->live, &ch);
}

/* A citizen in the index is about to change or go, as matcher_view tells
 * the live lists before it changes the index. */
static void
before(struct fixture *f, bool removed, uint32_t slot)
{
    matcher_change ch = {false, removed, slot, "", 0};

    matcher_live_before(f->live, &ch);
}

/* One commit of n random changes, made in the index and then told to
 * the live lists in the same order, as matcher_view does. */
static void
commit(struct fixture *f, unsigned n)
{
    matcher_index_t *ix = f->ix;

    matcher_live_begin(f->live, n, 1);
    for (unsigned i = 0; i < n; i++) {
        unsigned what = gen_below(&f->g, 10);
        uint32_t slot;
        char id[72];
        size_t len;

        if (what < 3) { /* a new citizen */
            slot = gen_profile(&f->g, ix);
            change(f, false, false, slot, "", 0);
        } else if (what < 6) { /* a citizen changes */
            slot = gen_below(&f->g, ix->pused);
            if (!matcher_slot_live(ix, slot))
                continue;
            before(f, false, slot);
            gen_update_profile(&f->g, ix, slot);
            change(f, false, false, slot, "", 0);
        } else if (what < 8) { /* a citizen is erased */
            const char *old;

            slot = gen_below(&f->g, ix->pused);
            if (!matcher_slot_live(ix, slot))
                continue;
            old = matcher_slot_id(ix, slot, &len);

            memcpy(id, old, len);
            before(f, true, slot);
            assert_int_equal(matcher_index_remove_profile(ix, id, len), slot);
            change(f, false, true, slot, id, len);
        } else if (what == 8) { /* a new order */
            slot = gen_order(&f->g, ix);
            change(f, true, false, slot, "", 0);
        } else { /* an order closes */
            slot = gen_below(&f->g, ix->oused);
            if (ix->orders[slot].rec == NULL)
                continue;
            len = ix->orders[slot].rec->id_len;
            memcpy(id, matcher_order_id(ix->orders[slot].rec), len);
            assert_int_equal(matcher_index_remove_order(ix, id, len), slot);
            change(f, true, true, slot, id, len);
        }
    }
    matcher_live_end(f->live);
}

/* 600 citizens and 20 orders from seed, and their lists built and
 * announced (so that the subscriber knows every list from the start). */
static void
start(struct fixture *f, uint64_t seed, matcher_live_opts *lopts)
{
    gen_opts opts = {
        .profiles = 600,
        .orders = 20,
        .vocab = 60,
        .occupations = 10,
        .zipf = 1.0,
        .skills_min = 3,
        .skills_max = 12,
        .oskills_min = 2,
        .oskills_max = 8,
        .clones = 50,
        .seed = seed,
    };

    memset(f, 0, sizeof(*f));
    lopts->arg = f;
    matcher_index_new(&f->ix);
    gen_init(&f->g, &opts);
    gen_populate(&f->g, f->ix);
    matcher_live_new(&f->live, f->ix, lopts);
    matcher_live_rebuild(f->live, true);
    check_lists(f);
}

static void
stop(struct fixture *f)
{
    matcher_live_destroy(&f->live);
    gen_release(&f->g);
    matcher_index_destroy(&f->ix);
}

static void
test_lists_follow_changes(void **state)
{
    (void) state;
    jm_clock_set_fake(NOW_MS);
    for (uint64_t seed = 1; seed <= 6; seed++) {
        matcher_live_opts lopts = {
            .shortlist_size = SIZE,
            .batch_limit = 40,
            .immediate = 8,
            /* One thread, or the loop's with helpers (more than this
             * machine may have: the lists must not depend on it). */
            .threads = seed % 2 ? 1 : 3,
            .publish = on_publish,
        };
        struct fixture f;

        start(&f, seed, &lopts);
        for (unsigned round = 0; round < 60; round++) {
            /* Mostly small commits, now and then one too big to follow. */
            commit(&f, round % 15 == 14 ? 60 : 1 + gen_below(&f.g, 6));
            check_lists(&f);
        }
        {
            matcher_live_stats st;

            matcher_live_get_stats(f.live, &st);
            /* Both paths ran: citizens entering lists one by one, and
             * commits too large to follow. */
            assert_true(st.entered > 0);
            assert_true(st.rebuilds >= 3);
        }
        assert_true(f.sub.count > 20);
        stop(&f);
    }
    jm_clock_set_fake(0);
}

/* A new order nobody can take is published, with its empty list, once;
 * changes that leave it empty publish nothing more. */
static void
test_new_order_without_candidates_is_published_empty(void **state)
{
    matcher_live_opts lopts = {.shortlist_size = SIZE, .publish = on_publish};
    struct fixture f;
    struct matcher_order_rec *rec;
    uint64_t before;
    uint32_t slot;
    size_t size, s;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    start(&f, 11, &lopts);
    /* A generated order, asking for more hours than anyone offers. */
    slot = gen_order(&f.g, f.ix);
    size = matcher_order_size(f.ix->orders[slot].rec);
    rec = jm_xmalloc(size);
    memcpy(rec, f.ix->orders[slot].rec, size);
    assert_int_equal(
        matcher_index_remove_order(f.ix, matcher_order_id(rec), rec->id_len),
        slot);
    rec->hours = 81;
    before = f.sub.count;
    matcher_live_begin(f.live, 1, 1);
    slot = matcher_index_put_order(f.ix, rec, size);
    change(&f, true, false, slot, "", 0);
    matcher_live_end(f.live);
    assert_int_equal(f.sub.count, before + 1);
    for (s = 0; s < f.sub.orders; s++)
        if (strlen(f.sub.id[s]) == rec->id_len &&
            memcmp(f.sub.id[s], matcher_order_id(rec), rec->id_len) == 0)
            break;
    assert_true(s < f.sub.orders);
    assert_int_equal(f.sub.n[s], 0);
    /* The same order again (an update that changes nothing it is matched
     * on): still empty, nothing published. */
    matcher_live_begin(f.live, 1, 2);
    change(&f, true, false, slot, "", 0);
    matcher_live_end(f.live);
    assert_int_equal(f.sub.count, before + 1);
    check_lists(&f);
    free(rec);
    stop(&f);
    jm_clock_set_fake(0);
}

/* A new order with candidates, made by the generator and taken out of the
 * index again, announced as a source committing it would be: its list
 * computed ahead. Returns its record (the caller frees it) and the slot of
 * its best candidate now. */
static struct matcher_order_rec *
announce_new_order(struct fixture *f, size_t *size, uint32_t *best)
{
    for (;;) {
        uint32_t slot = gen_order(&f->g, f->ix);
        const struct matcher_order_rec *r = f->ix->orders[slot].rec;
        struct matcher_order_rec *copy;
        matcher_hit hits[SIZE];
        matcher_ctx ctx;
        size_t n;

        *size = matcher_order_size(r);
        copy = jm_xmalloc(*size);
        memcpy(copy, r, *size);
        matcher_ctx_now(&ctx);
        n = matcher_topk_order(f->ix, &f->ix->orders[slot], &ctx, SIZE, hits,
                               NULL);
        assert_int_equal(matcher_index_remove_order(
                             f->ix, matcher_order_id(copy), copy->id_len),
                         slot);
        if (n > 0) {
            *best = hits[0].slot;
            matcher_live_precompute(f->live, copy, *size);
            return copy;
        }
        free(copy);
    }
}

/* The order comes through the view, a commit of its own; then the counts
 * of lists computed ahead and used, and every list against a fresh
 * search. Frees rec. */
static void
arrives(struct fixture *f, struct matcher_order_rec *rec, size_t size,
        uint64_t made, uint64_t used)
{
    matcher_live_stats st;
    uint32_t slot;

    matcher_live_begin(f->live, 1, 1);
    slot = matcher_index_put_order(f->ix, rec, size);
    assert_int_not_equal(slot, MATCHER_NONE);
    change(f, true, false, slot, "", 0);
    matcher_live_end(f->live);
    free(rec);
    matcher_live_get_stats(f->live, &st);
    assert_int_equal(st.precomputed, made);
    assert_int_equal(st.precomputed_used, used);
    check_lists(f);
}

/* The citizen in slot, put again as they are: a change as the view makes
 * it (told before and after), which changes nothing they are matched on. */
static void
put_again(struct fixture *f, uint32_t slot)
{
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    size_t size = matcher_index_profile_record(f->ix, slot, buf);

    matcher_live_begin(f->live, 1, 3);
    before(f, false, slot);
    assert_int_equal(
        matcher_index_put_profile(
            f->ix, (const struct matcher_profile_rec *) (const void *) buf,
            size),
        slot);
    change(f, false, false, slot, "", 0);
    matcher_live_end(f->live);
}

/* A new citizen, a copy of the one in slot under another id of the same
 * length (so, as good a candidate as they are). */
static void
clone_of(struct fixture *f, uint32_t slot)
{
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    size_t size = matcher_index_profile_record(f->ix, slot, buf);
    struct matcher_profile_rec *r = (struct matcher_profile_rec *) buf;
    char *id = (char *) matcher_profile_id(r);
    uint32_t copy;

    id[0] = 'z'; /* the generator's ids start with 'p' */
    assert_int_equal(matcher_index_find_profile(f->ix, id, r->id_len),
                     MATCHER_NONE);
    matcher_live_begin(f->live, 1, 4);
    copy = matcher_index_put_profile(f->ix, r, size);
    assert_int_not_equal(copy, MATCHER_NONE);
    change(f, false, false, copy, "", 0);
    matcher_live_end(f->live);
}

/* A citizen who is not a candidate of rec (shares no term with it). */
static uint32_t
stranger_to(struct fixture *f, const struct matcher_order_rec *rec)
{
    for (uint32_t slot = 0; slot < f->ix->pused; slot++)
        if (matcher_slot_live(f->ix, slot) &&
            !matcher_shares_term(f->ix, slot, rec))
            return slot;
    fail_msg("every citizen is a candidate of the order");
    return MATCHER_NONE;
}

/* A list computed while the order's source commits it is the order's
 * list when it arrives only if a search then would find exactly it: the
 * same record, none of its candidates changed meanwhile, the same day. Each
 * case ends with every list checked against a fresh search. */
static void
test_precomputed_list_used_only_while_exact(void **state)
{
    matcher_live_opts lopts = {.shortlist_size = SIZE, .publish = on_publish};
    struct matcher_order_rec *rec;
    struct fixture f;
    uint32_t best;
    size_t size, len;
    const char *old_id;
    char id[72];

    (void) state;
    jm_clock_set_fake(NOW_MS);
    start(&f, 7, &lopts);

    /* Nothing changed meanwhile: used. */
    rec = announce_new_order(&f, &size, &best);
    arrives(&f, rec, size, 1, 1);

    /* Its best candidate was erased meanwhile: searched again (the list
     * computed ahead still holds them). */
    rec = announce_new_order(&f, &size, &best);
    matcher_live_begin(f.live, 1, 2);
    before(&f, true, best);
    old_id = matcher_slot_id(f.ix, best, &len);
    memcpy(id, old_id, len);
    assert_int_equal(matcher_index_remove_profile(f.ix, id, len), best);
    change(&f, false, true, best, id, len);
    matcher_live_end(f.live);
    arrives(&f, rec, size, 2, 1);

    /* The order committed differs from the one announced (the commit
     * failed and the seq was reused): here it asks for more hours than
     * anyone works, so nobody is eligible. */
    rec = announce_new_order(&f, &size, &best);
    rec->hours = 255;
    arrives(&f, rec, size, 3, 1);

    /* Midnight passed meanwhile: the day is part of the search. */
    rec = announce_new_order(&f, &size, &best);
    jm_clock_set_fake(NOW_MS + 24 * 3600 * 1000LL);
    arrives(&f, rec, size, 4, 1);

    /* And again with nothing in between: used. */
    rec = announce_new_order(&f, &size, &best);
    arrives(&f, rec, size, 5, 2);

    /* A citizen who is no candidate of the order changed meanwhile, twice
     * (profiles streaming beside orders): used. */
    rec = announce_new_order(&f, &size, &best);
    put_again(&f, stranger_to(&f, rec));
    put_again(&f, stranger_to(&f, rec));
    arrives(&f, rec, size, 6, 3);

    /* One of its candidates changed, even in nothing that matters: searched
     * again (whether their place moved is not worked out). */
    rec = announce_new_order(&f, &size, &best);
    put_again(&f, best);
    arrives(&f, rec, size, 7, 3);

    /* A new citizen as good as its best came meanwhile: searched again,
     * and they are in its list. */
    rec = announce_new_order(&f, &size, &best);
    clone_of(&f, best);
    arrives(&f, rec, size, 8, 3);

    stop(&f);
    jm_clock_set_fake(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_follow_changes),
        cmocka_unit_test(test_precomputed_list_used_only_while_exact),
        cmocka_unit_test(test_new_order_without_candidates_is_published_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
