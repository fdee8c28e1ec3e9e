/* test_matcher_topk.c - the pruned top-k search returns exactly what an
 * exhaustive scan of every candidate returns (same citizens, same order,
 * bit-identical scores), over many random populations with Zipf skills,
 * cloned citizens (ties), updates and removals, before and after the index
 * is packed (signatures given, positions renumbered), at k from 1 to more
 * than there are eligible citizens, for orders nobody can reach and orders
 * that list a skill twice, seeded with stale answers and junk slots,
 * with and without sharing agreements, for
 * orders of a kind of job nobody may take; and it does prune. The
 * signatures and the cells' layout it relies on are checked here on their
 * own (the other bounds: test_matcher_bounds.c). The orders-for-a-citizen
 * search is checked against brute force too. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/mem.h"
#include "jm_test.h"
#include "matcher_fixture.h"
#include "matcher_gen.h"
#include "matcher_topk.h"

#define NOW_MS 1795435200000LL /* 2026-11-23 12:00 UTC */

static void
assert_same(matcher_index_t *ix, const matcher_order *o, const matcher_ctx *ctx,
            size_t k)
{
    matcher_hit *a = jm_xcalloc(k, sizeof(*a)), *b = jm_xcalloc(k, sizeof(*b));
    matcher_topk_stats sa, sb;
    size_t na = matcher_topk_order(ix, o, ctx, k, a, &sa);
    size_t nb = matcher_topk_order_scan(ix, o, ctx, k, b, &sb);

    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        if (a[i].slot != b[i].slot || a[i].score != b[i].score)
            fail_msg("order %.*s k=%zu: rank %zu differs: slot %u (%.17g) "
                     "vs %u (%.17g)",
                     (int) o->rec->id_len, matcher_order_id(o->rec), k, i,
                     a[i].slot, a[i].score, b[i].slot, b[i].score);
    }
    /* The pruned search never evaluates more than the candidates, and
     * finds every eligible one when fewer than k exist. */
    assert_true(sa.considered <= sb.considered);
    if (nb < k)
        assert_int_equal(sa.eligible, sb.eligible);
    free(a);
    free(b);
}

/* The search seeded with any slots (old answers of citizens since
 * changed or gone, slots out of range, repeats) answers as the scan. */
static void
assert_same_seeded(matcher_index_t *ix, const matcher_order *o,
                   const matcher_ctx *ctx, const matcher_hit *seed,
                   size_t nseed)
{
    matcher_hit a[10], b[10];
    size_t na = matcher_topk_order_seeded(ix, o, ctx, 10, a, NULL, seed, nseed);
    size_t nb = matcher_topk_order_scan(ix, o, ctx, 10, b, NULL);

    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].slot, b[i].slot);
        assert_true(a[i].score == b[i].score);
    }
}

static void
check_all_orders(matcher_index_t *ix, const matcher_ctx *ctx)
{
    static const size_t ks[] = {1, 3, 10, 50};

    for (uint32_t s = 0; s < ix->oused; s++) {
        if (ix->orders[s].rec == NULL)
            continue;
        for (size_t i = 0; i < JM_COUNTOF(ks); i++)
            assert_same(ix, &ix->orders[s], ctx, ks[i]);
    }
}

static void
test_pruned_equals_exhaustive(void **state)
{
    static matcher_hit old[32][12];
    size_t nold[32];
    matcher_ctx ctx;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        gen_opts opts = {
            .profiles = 1200,
            .orders = 25,
            .vocab = seed % 2 ? 150 : 600,
            .occupations = 60,
            .zipf = seed % 3 == 0 ? 0.8 : 1.1,
            .skills_min = 5,
            .skills_max = 25,
            .oskills_min = 1,
            .oskills_max = 15,
            .clones = 80,
            .seed = seed,
        };
        matcher_index_t *ix;
        gen_t g;

        matcher_index_new(&ix);
        gen_init(&g, &opts);
        if (seed % 4 == 0) {
            /* Sharing agreements (the search's table of municipalities a
             * consenting citizen may be seen from); codes of 1000 and up
             * are never allowed. */
            for (uint16_t owner = 100; owner < 900; owner++) {
                uint16_t munis[8];

                for (unsigned i = 0; i < JM_COUNTOF(munis); i++)
                    munis[i] = (uint16_t) (100 + gen_below(&g, 1000));
                matcher_index_add_agreement(ix, owner, munis,
                                            JM_COUNTOF(munis));
            }
        }
        gen_populate(&g, ix);
        check_all_orders(ix, &ctx);
        /* Every order's answer before the changes, to seed with after. */
        JM_ASSERT(ix->oused <= JM_COUNTOF(old));
        for (uint32_t s = 0; s < ix->oused; s++)
            nold[s] =
                matcher_topk_order(ix, &ix->orders[s], &ctx, 12, old[s], NULL);

        /* Live changes: remove some, replace some, add some. */
        for (unsigned i = 0; i < 150; i++) {
            uint32_t slot = gen_below(&g, ix->pused);
            size_t len;
            const char *id;

            if (!matcher_slot_live(ix, slot))
                continue;
            if (i % 2) {
                char copy[72];

                id = matcher_slot_id(ix, slot, &len);
                memcpy(copy, id, len);
                assert_int_equal(matcher_index_remove_profile(ix, copy, len),
                                 slot);
            } else {
                gen_update_profile(&g, ix, slot);
            }
        }
        for (unsigned i = 0; i < 100; i++)
            gen_profile(&g, ix);
        check_all_orders(ix, &ctx);
        for (uint32_t s = 0; s < ix->oused; s++) {
            matcher_hit junk[6];

            assert_same_seeded(ix, &ix->orders[s], &ctx, old[s], nold[s]);
            for (unsigned i = 0; i < JM_COUNTOF(junk); i++)
                junk[i].slot = i == 5   ? UINT32_MAX
                               : i == 4 ? junk[0].slot
                                        : gen_below(&g, ix->pused + 10);
            assert_same_seeded(ix, &ix->orders[s], &ctx, junk,
                               JM_COUNTOF(junk));
        }
        gen_release(&g);
        matcher_index_destroy(&ix);
    }
    jm_clock_set_fake(0);
}

/* The search reads nothing for an order of a kind of job nobody may take
 * (the index counts citizens per kind), and finds the first citizen who
 * may as soon as they come, and none once they go. */
static void
test_kind_nobody_may_take(void **state)
{
    gen_opts opts = {
        .profiles = 600,
        .orders = 40,
        .vocab = 80,
        .occupations = 20,
        .zipf = 1.0,
        .skills_min = 5,
        .skills_max = 15,
        .oskills_min = 1,
        .oskills_max = 6,
        .seed = 7,
    };
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    struct matcher_profile_rec *r = (struct matcher_profile_rec *) buf;
    matcher_topk_stats st;
    matcher_hit hits[5];
    matcher_index_t *ix;
    matcher_ctx ctx;
    uint32_t o = MATCHER_NONE, slot;
    size_t size;
    gen_t g;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    /* Nobody the generator makes may take kind 7 (adult apprentice): an
     * order of that kind (the first order, changed) has nobody to read. */
    _Alignas(8) uint8_t obuf[MATCHER_ORDER_REC_MAX];
    struct matcher_order_rec *orec = (struct matcher_order_rec *) obuf;

    assert_int_equal(ix->kind_count[7], 0);
    size = matcher_order_size(ix->orders[0].rec);
    assert_true(size <= sizeof(obuf));
    memcpy(obuf, ix->orders[0].rec, size);
    orec->kind = 7;
    o = matcher_index_put_order(ix, orec, size);
    assert_true(o != MATCHER_NONE);
    assert_int_equal(ix->orders[o].rec->kind, 7);
    assert_int_equal(matcher_topk_order(ix, &ix->orders[o], &ctx, 5, hits, &st),
                     0);
    assert_int_equal(st.reads, 0);
    /* A citizen who may: a copy of one holding the order's first skill,
     * near the workplace, free, with every licence and language. */
    for (slot = 0; slot < ix->pused; slot++) {
        if (matcher_is_candidate(ix, &ix->orders[o], slot))
            break;
    }
    assert_true(slot < ix->pused);
    size = matcher_index_profile_record(ix, slot, buf);
    r->kinds |= 1u << 7;
    r->lat = ix->orders[o].rec->lat;
    r->lon = ix->orders[o].rec->lon;
    r->hours = 40;
    r->licences = 0xffff;
    r->available_from = MATCHER_DATE_NONE;
    r->home_muni = ix->orders[o].rec->owner_muni;
    assert_int_equal(matcher_index_put_profile(ix, r, size), slot);
    assert_int_equal(ix->kind_count[7], 1);
    assert_same(ix, &ix->orders[o], &ctx, 5);
    if (ix->orders[o].rec->n_langs == 0)
        assert_int_equal(
            matcher_topk_order(ix, &ix->orders[o], &ctx, 5, hits, NULL), 1);
    /* Replaced without it, then back with it and removed. */
    r->kinds &= (uint8_t) ~(1u << 7);
    assert_int_equal(matcher_index_put_profile(ix, r, size), slot);
    assert_int_equal(ix->kind_count[7], 0);
    r->kinds |= 1u << 7;
    assert_int_equal(matcher_index_put_profile(ix, r, size), slot);
    assert_int_equal(
        matcher_index_remove_profile(ix, matcher_profile_id(r), r->id_len),
        slot);
    assert_int_equal(ix->kind_count[7], 0);
    assert_int_equal(matcher_topk_order(ix, &ix->orders[o], &ctx, 5, hits, &st),
                     0);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

/* A copy of order slot os under a new id, moved to (lat, lon) (NAN: left
 * where it is), with its first skill listed once more as optional when dup
 * is set; returns the new slot. */
static uint32_t
order_variant(matcher_index_t *ix, uint32_t os, const char *id, double lat,
              double lon, bool dup)
{
    _Alignas(8) uint8_t buf[MATCHER_ORDER_REC_MAX];
    const struct matcher_order_rec *from = ix->orders[os].rec;
    struct matcher_order_rec *r = (struct matcher_order_rec *) buf;
    unsigned n = (unsigned) from->n_ess + from->n_opt;
    struct matcher_oskill *skills = (struct matcher_oskill *) (r + 1);
    uint8_t *tail;

    *r = *from;
    memcpy(skills, matcher_order_skills(from), n * sizeof(*skills));
    if (dup && n > 0) {
        skills[n] = skills[0];
        skills[n].essential = 0;
        skills[n].min_level = 0;
        r->n_opt++;
        n++;
    }
    if (lat == lat) {
        r->lat = (float) lat;
        r->lon = (float) lon;
    }
    tail = (uint8_t *) (skills + n);
    memcpy(tail, matcher_order_langs(from),
           from->n_langs * sizeof(struct matcher_lang));
    tail += from->n_langs * sizeof(struct matcher_lang);
    r->id_len = (uint8_t) strlen(id);
    memcpy(tail, id, r->id_len);
    tail += r->id_len;
    memcpy(tail, matcher_order_title(from), from->title_len);
    tail += from->title_len;
    return matcher_index_put_order(ix, r, (size_t) (tail - buf));
}

/* Random changes: about a third of the picks removed, a third replaced,
 * then new citizens. */
static void
churn(gen_t *g, matcher_index_t *ix, unsigned changes, unsigned added)
{
    for (unsigned i = 0; i < changes; i++) {
        uint32_t slot = gen_below(g, ix->pused);
        size_t len;
        const char *id;
        char copy[256];

        if (!matcher_slot_live(ix, slot))
            continue;
        if (i % 3 == 0) {
            id = matcher_slot_id(ix, slot, &len);
            memcpy(copy, id, len);
            assert_int_equal(matcher_index_remove_profile(ix, copy, len), slot);
        } else {
            gen_update_profile(g, ix, slot);
        }
    }
    for (unsigned i = 0; i < added; i++)
        gen_profile(g, ix);
}

/* A packed index (split lists, signatures, positions by cell) stays exact
 * through changes that reuse freed positions, and when packed again; so
 * do orders placed where nobody can reach, orders listing a skill twice
 * (two terms on one signature bit), and k beyond the eligible. */
static void
test_packed_index_stays_exact(void **state)
{
    static const size_t ks[] = {1, 5, 20, 400};
    matcher_ctx ctx;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        gen_opts opts = {
            .profiles = 6000,
            .orders = 12,
            .vocab = seed == 2 ? 90 : 300, /* long lists: split by cell */
            .occupations = 30,
            .zipf = 1.0,
            .skills_min = 3,
            .skills_max = 20,
            .oskills_min = 1,
            .oskills_max = 12,
            .clones = 50,
            .seed = seed,
        };
        matcher_index_t *ix;
        uint32_t base;
        gen_t g;

        matcher_index_new(&ix);
        gen_init(&g, &opts);
        if (seed == 3) {
            /* a bulk load packs at its end */
            matcher_index_bulk_begin(ix);
            for (unsigned i = 0; i < opts.profiles; i++)
                gen_profile(&g, ix);
            matcher_index_bulk_end(ix);
            for (unsigned i = 0; i < opts.orders; i++)
                gen_order(&g, ix);
        } else {
            gen_populate(&g, ix);
            matcher_index_compact(ix);
        }
        base = ix->oused;
        order_variant(ix, 0, "far-away", 50.0, 20.0, false);
        order_variant(ix, 1, "twice", NAN, NAN, true);
        order_variant(ix, 2, "bornholm", 55.1, 14.9, true);
        assert_int_equal(ix->oused, base + 3);
        for (unsigned round = 0; round < 3; round++) {
            for (uint32_t s = 0; s < ix->oused; s++) {
                for (size_t i = 0; i < JM_COUNTOF(ks); i++)
                    assert_same(ix, &ix->orders[s], &ctx, ks[i]);
            }
            if (round == 0)
                churn(&g, ix, 600, 300);
            else
                matcher_index_compact(ix);
        }
        {
            matcher_hit hits[5];

            assert_int_equal(
                matcher_topk_order(ix, &ix->orders[base], &ctx, 5, hits, NULL),
                0);
        }
        gen_release(&g);
        matcher_index_destroy(&ix);
    }
    jm_clock_set_fake(0);
}

/* A citizen's record is kept in two parts (hot fields, cold arrays in the
 * slab): put together again it is the record that was put, byte for
 * byte; and under churn the slab's holes are packed away, so its size
 * follows the citizens, not the changes. */
static void
test_records_round_trip_and_slab_packs(void **state)
{
    gen_opts opts = {.profiles = 2000,
                     .orders = 10,
                     .vocab = 300,
                     .occupations = 60,
                     .zipf = 1.0,
                     .skills_min = 5,
                     .skills_max = 25,
                     .oskills_min = 3,
                     .oskills_max = 8,
                     .seed = 11};
    _Alignas(8) uint8_t want[MATCHER_PROFILE_REC_MAX];
    _Alignas(8) uint8_t got[MATCHER_PROFILE_REC_MAX];
    struct matcher_profile_rec *r = (struct matcher_profile_rec *) want;
    struct matcher_pskill *skills = (struct matcher_pskill *) (r + 1);
    matcher_index_t *ix;
    gen_t g;
    size_t size, live_after_load;
    uint32_t slot;
    char *p;

    (void) state;
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    /* Every field different from its neighbours' and from zero. */
    memset(want, 0, sizeof(want));
    r->format = MATCHER_REC_PROFILE;
    r->source = 3;
    r->kinds = 0x16;
    r->hours = 29;
    r->range_km = 37;
    r->licences = 0x0105;
    r->home_muni = 751;
    r->flags = MATCHER_PF_CONSENT | MATCHER_PF_LOCATION;
    r->progression = 123;
    r->available_from = 20461;
    r->lat = 56.1572f;
    r->lon = 10.2107f;
    r->n_skills = 3;
    r->n_occs = 1;
    r->n_langs = 2;
    r->id_len = 7;
    for (unsigned i = 0; i < 3; i++) {
        skills[i].term = (uint16_t) (10 + 7 * i);
        skills[i].level = (uint8_t) (2 + i);
        skills[i].year = (uint8_t) (120 + i);
    }
    {
        struct matcher_pocc *occ = (struct matcher_pocc *) (skills + 3);
        struct matcher_lang *lang = (struct matcher_lang *) (occ + 1);

        occ->term = 5;
        occ->isco = 4321;
        occ->held = 1;
        memcpy(lang[0].code, "da", 2);
        lang[0].level = 5;
        memcpy(lang[1].code, "en", 2);
        lang[1].level = 4;
        p = (char *) (lang + 2);
    }
    memcpy(p, "p-round", 7);
    size = (size_t) (p + 7 - (char *) want);
    assert_int_equal(size, matcher_profile_size(r));
    slot = matcher_index_put_profile(ix, r, size);
    assert_int_not_equal(slot, MATCHER_NONE);
    assert_int_equal(matcher_index_profile_record(ix, slot, got), size);
    assert_memory_equal(got, want, size);
    /* The Danish level and the English bucket went into the hot record's
     * flags, not back out. */
    assert_int_equal(matcher_hot_danish(matcher_hot_of(ix, slot)), 5);
    assert_int_equal(matcher_hot_english(matcher_hot_of(ix, slot)),
                     matcher_english_bucket(4));

    matcher_index_compact(ix);
    live_after_load = ix->cold_slab.live;
    assert_int_equal(ix->cold_slab.holes, 0);
    assert_int_equal(matcher_index_profile_record(ix, slot, got), size);
    assert_memory_equal(got, want, size);
    for (unsigned round = 0; round < 20; round++) {
        churn(&g, ix, 600, 200);
        /* Holes are packed away once they pass a quarter of the live. */
        assert_true(ix->cold_slab.holes <= ix->cold_slab.live / 4 + 4096 + 512);
    }
    assert_true(ix->cold_slab.bytes < 3 * (ix->cold_slab.live + 64 * 1024));
    assert_true(ix->cold_slab.live > live_after_load); /* 4,000 more citizens */
    /* Still the record that was put, wherever packing moved it (unless
     * the churn removed it). */
    slot = matcher_index_find_profile(ix, "p-round", 7);
    if (slot != MATCHER_NONE) {
        assert_int_equal(matcher_index_profile_record(ix, slot, got), size);
        assert_memory_equal(got, want, size);
    }
    gen_release(&g);
    matcher_index_destroy(&ix);
}

/* A citizen's signature has the bit of every skill they hold that has
 * one (a clear bit proves they do not hold it), before and after packing
 * and changes; packing gives the bits to the skills with the longest
 * lists. */
static void
test_signatures_cover_skills(void **state)
{
    gen_opts opts = {
        .profiles = 3000,
        .orders = 1,
        .vocab = 500,
        .occupations = 20,
        .zipf = 1.0,
        .skills_min = 3,
        .skills_max = 25,
        .oskills_min = 1,
        .oskills_max = 3,
        .seed = 9,
    };
    matcher_index_t *ix;
    uint32_t with = 0, shortest_with = UINT32_MAX, longest_without = 0;
    gen_t g;

    (void) state;
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    for (unsigned round = 0; round < 3; round++) {
        for (uint32_t slot = 0; slot < ix->pused; slot++) {
            const struct matcher_cold *p = matcher_cold_of(ix, slot);
            uint64_t sig;

            if (p == NULL)
                continue;
            assert_int_equal(ix->slot_at[ix->pos[slot]], slot);
            sig = ix->hot[ix->pos[slot]].sig;
            for (unsigned i = 0; i < p->n_skills; i++) {
                unsigned b = ix->sigbit[matcher_cold_skills(p)[i].term];

                assert_true(b == MATCHER_SIG_NONE || b < MATCHER_SIG_BITS);
                assert_true(b == MATCHER_SIG_NONE || (sig >> b & 1));
            }
        }
        if (round == 0)
            matcher_index_compact(ix);
        else
            churn(&g, ix, 300, 100);
    }
    matcher_index_compact(ix);
    for (uint32_t t = 0; t < ix->nterms; t++) {
        uint32_t n = ix->skill_profiles[t].count;

        if (ix->sigbit[t] != MATCHER_SIG_NONE) {
            with++;
            shortest_with = n < shortest_with ? n : shortest_with;
        } else if (n > longest_without) {
            longest_without = n;
        }
    }
    assert_int_equal(with, MATCHER_SIG_BITS);
    assert_true(shortest_with >= longest_without);
    gen_release(&g);
    matcher_index_destroy(&ix);
}

/* Where a split list's postings are: segment p holds exactly those of
 * the citizens living in populated cell p. Packed, the cells are numbered
 * in the grid's order and each list's segments lie in that order. */
static void
check_cell_layout(const matcher_index_t *ix, bool packed)
{
    for (uint32_t p = 0; p < ix->npcells; p++) {
        assert_int_equal(ix->cell_pcell[ix->pcell_cell[p]], p);
        if (packed && p > 0)
            assert_true(ix->pcell_cell[p - 1] < ix->pcell_cell[p]);
    }
    for (uint32_t t = 0; t < ix->nterms; t++) {
        const struct matcher_plist *pl = &ix->skill_profiles[t];
        uint32_t total = 0, end = 0;

        if (!matcher_plist_split_p(pl))
            continue;
        assert_true(pl->nsegs <= ix->npcells);
        for (uint32_t p = 0; p < pl->nsegs; p++) {
            const struct matcher_seg *seg = &pl->segs[p];

            for (uint32_t i = 0; i < seg->len; i++) {
                uint32_t pos = pl->items[seg->start + i] & MATCHER_SLOT_MASK;

                assert_true(pos < ix->npos);
                assert_int_not_equal(ix->slot_at[pos], MATCHER_NONE);
                assert_int_equal(matcher_hot_pcell(ix, &ix->hot[pos]), p);
            }
            if (packed && seg->len > 0) {
                assert_true(seg->start >= end);
                end = seg->start + seg->len;
            }
            total += seg->len;
        }
        assert_int_equal(total, pl->count);
    }
}

/* Cells are numbered as citizens first come to them; packing numbers them
 * again in the grid's order (so that cells next to each other on the map
 * have their segments next to each other in memory), moving every split
 * list's segments with them, and the search still equals the scan. */
static void
test_cells_numbered_in_grid_order(void **state)
{
    gen_opts opts = {
        .profiles = 6000,
        .orders = 12,
        .vocab = 90, /* long lists: split by cell */
        .occupations = 30,
        .zipf = 1.0,
        .skills_min = 3,
        .skills_max = 20,
        .oskills_min = 1,
        .oskills_max = 12,
        .seed = 21,
    };
    matcher_index_t *ix;
    matcher_ctx ctx;
    bool grid_order = true;
    gen_t g;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    check_cell_layout(ix, false);
    for (uint32_t p = 1; p < ix->npcells; p++)
        grid_order = grid_order && ix->pcell_cell[p - 1] < ix->pcell_cell[p];
    assert_false(grid_order); /* else the test would show nothing */
    for (unsigned round = 0; round < 2; round++) {
        matcher_index_compact(ix);
        check_cell_layout(ix, true);
        check_all_orders(ix, &ctx);
        churn(&g, ix, 600, 300);
        check_cell_layout(ix, false);
        check_all_orders(ix, &ctx);
    }
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

static void
test_pruning_skips_most_candidates(void **state)
{
    gen_opts opts = {
        .profiles = 20000,
        .orders = 40,
        .vocab = 3000,
        .occupations = 300,
        .zipf = 1.0,
        .skills_min = 10,
        .skills_max = 30,
        .oskills_min = 5,
        .oskills_max = 15,
        .seed = 7,
    };
    uint64_t considered = 0, candidates = 0;
    matcher_hit hits[20];
    matcher_index_t *ix;
    matcher_ctx ctx;
    gen_t g;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    matcher_index_compact(ix);
    for (uint32_t s = 0; s < ix->oused; s++) {
        matcher_topk_stats st, all;

        matcher_topk_order(ix, &ix->orders[s], &ctx, 20, hits, &st);
        matcher_topk_order_scan(ix, &ix->orders[s], &ctx, 20, hits, &all);
        assert_same(ix, &ix->orders[s], &ctx, 20); /* long, split lists */
        considered += st.considered;
        candidates += all.considered;
    }
    print_message("considered %llu of %llu candidates (%.1f%%)\n",
                  (unsigned long long) considered,
                  (unsigned long long) candidates,
                  100.0 * (double) considered / (double) candidates);
    assert_true(considered * 4 < candidates);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

/* Orders for a citizen, by brute force: every open order. */
static size_t
brute_profile(matcher_index_t *ix, uint32_t slot, const matcher_ctx *ctx,
              uint16_t owner, size_t k, matcher_hit *hits)
{
    matcher_heap heap;

    matcher_heap_init(&heap, ix, true, hits, k);
    for (uint32_t s = 0; s < ix->oused; s++) {
        const matcher_order *o = &ix->orders[s];
        double d;

        if (o->rec == NULL || !matcher_is_candidate(ix, o, slot) ||
            (owner != 0 && o->rec->owner_muni != owner))
            continue;
        if (matcher_filter(ix, o, slot, ctx, false, &d) != 0)
            continue;
        matcher_heap_push(&heap, s, matcher_score(ix, o, slot, ctx, d, NULL));
    }
    return matcher_heap_finish(&heap);
}

static void
test_orders_for_citizen_equal_brute_force(void **state)
{
    gen_opts opts = {
        .profiles = 400,
        .orders = 800,
        .vocab = 120,
        .occupations = 40,
        .zipf = 1.0,
        .skills_min = 5,
        .skills_max = 20,
        .oskills_min = 2,
        .oskills_max = 10,
        .seed = 11,
    };
    matcher_hit a[10], b[10];
    matcher_index_t *ix;
    matcher_ctx ctx;
    gen_t g;
    size_t found = 0;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    for (uint32_t slot = 0; slot < ix->pused; slot++) {
        uint16_t owner =
            slot % 3 == 0 ? matcher_hot_of(ix, slot)->home_muni : 0;
        size_t na = matcher_topk_profile(ix, slot, &ctx, owner, 10, a, NULL);
        size_t nb = brute_profile(ix, slot, &ctx, owner, 10, b);

        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].slot, b[i].slot);
            assert_true(a[i].score == b[i].score);
        }
        found += na;
    }
    /* The population is dense enough that most citizens find orders. */
    assert_true(found > ix->pused);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

/* Short lists are read through the populated cell of each posting's block
 * of positions (matcher_topk.c, within_reach): a holder of a rare skill
 * whose range just reaches the workplace is found, one whose range falls
 * just short is not, wherever they live; also a citizen who moved far
 * between two packings (their block still names the cell they left) and
 * one who came into a position freed there. The citizens stand at the
 * near edge of grid rows north and south of the workplace, where the
 * distance is the cell's least distance, so a bucket too high by one
 * would lose someone. */
#define EDGE_WORK_LAT 55.66
#define EDGE_WORK_LON 12.40
#define EDGE_FILLERS  70 /* more than a block (64 positions) */

static uint32_t
edge_citizen(matcher_index_t *ix, const char *id, const char *skill, double lat,
             unsigned range)
{
    fx_profile p;

    fx_profile_init(&p, id);
    fx_profile_home(&p, "2600", "161", lat, EDGE_WORK_LON);
    fx_profile_skill(&p, skill, 3, 2026);
    p.p.max_travel_km = range;
    return fx_put_profile(ix, &p);
}

static void
assert_edge_answer(matcher_index_t *ix, uint32_t order, const matcher_ctx *ctx,
                   const uint32_t *want, size_t nwant)
{
    matcher_hit hits[64];
    size_t n =
        matcher_topk_order(ix, fx_order_at(ix, order), ctx, 64, hits, NULL);

    assert_same(ix, fx_order_at(ix, order), ctx, 64);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        size_t j = 0;

        while (j < n && hits[j].slot != want[i])
            j++;
        if (j == n)
            fail_msg("citizen in slot %u, within their range, not found",
                     want[i]);
    }
}

static void
test_short_lists_reach_to_the_edge_of_each_range(void **state)
{
    /* Rows start every 0.2 degree from 54.0 N: the first latitude of a row
     * north of the workplace, the last of one south of it. */
    static const double edges[] = {55.8005, 56.0005, 56.2005, 56.4005, 56.6005,
                                   56.8005, 57.0005, 57.2005, 57.4005, 57.6005,
                                   55.5995, 55.3995, 55.1995, 54.9995};
    char rare[96], common[96], id[32];
    uint32_t want[32], far_filler = 0, order;
    size_t nwant = 0;
    matcher_index_t *ix;
    matcher_ctx ctx;
    fx_order o;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    fx_skill_uri(rare, sizeof(rare), 1);
    fx_skill_uri(common, sizeof(common), 2);
    for (size_t e = 0; e < JM_COUNTOF(edges); e++) {
        double d = jm_geo_distance_km(EDGE_WORK_LAT, EDGE_WORK_LON, edges[e],
                                      EDGE_WORK_LON);
        unsigned reaches = (unsigned) ceil(d), short_of = reaches - 1;

        assert_true(short_of < d && d <= reaches);
        snprintf(id, sizeof(id), "in-%zu", e);
        want[nwant++] = edge_citizen(ix, id, rare, edges[e], reaches);
        snprintf(id, sizeof(id), "out-%zu", e);
        edge_citizen(ix, id, rare, edges[e], short_of);
        /* Before and after them in the cell's positions (longer ranges
         * first): their block is the cell's alone. */
        for (unsigned i = 0; i < 2 * EDGE_FILLERS; i++) {
            snprintf(id, sizeof(id), "filler-%zu-%u", e, i);
            far_filler = edge_citizen(ix, id, common, edges[e],
                                      i < EDGE_FILLERS ? reaches + 50 : 0);
        }
    }
    /* Far north, 150 km away, with a 10 km range: out, until they move. */
    edge_citizen(ix, "mover", rare, 57.0005, 10);
    fx_order_init(&o, "rare-skill");
    fx_order_workplace(&o, "2600", "161", EDGE_WORK_LAT, EDGE_WORK_LON);
    fx_order_skill(&o, rare, 0, true);
    order = fx_put_order(ix, &o);
    matcher_index_compact(ix);
    assert_edge_answer(ix, order, &ctx, want, nwant);

    /* The mover comes to 2 km from the workplace, keeping their position
     * among the far row's citizens; a newcomer takes the position of a
     * far-row filler who left. Both within 10 km now. */
    want[nwant++] = edge_citizen(ix, "mover", rare, EDGE_WORK_LAT + 0.018, 10);
    snprintf(id, sizeof(id), "filler-%zu-%u", JM_COUNTOF(edges) - 1,
             2 * EDGE_FILLERS - 1);
    assert_int_equal(matcher_index_remove_profile(ix, id, strlen(id)),
                     far_filler);
    want[nwant++] =
        edge_citizen(ix, "newcomer", rare, EDGE_WORK_LAT + 0.027, 10);
    assert_edge_answer(ix, order, &ctx, want, nwant);
    matcher_index_compact(ix);
    assert_edge_answer(ix, order, &ctx, want, nwant);

    matcher_index_destroy(&ix);
    fx_esco_release();
    jm_clock_set_fake(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruned_equals_exhaustive),
        cmocka_unit_test(test_pruning_skips_most_candidates),
        cmocka_unit_test(test_kind_nobody_may_take),
        cmocka_unit_test(test_packed_index_stays_exact),
        cmocka_unit_test(test_records_round_trip_and_slab_packs),
        cmocka_unit_test(test_signatures_cover_skills),
        cmocka_unit_test(test_cells_numbered_in_grid_order),
        cmocka_unit_test(test_orders_for_citizen_equal_brute_force),
        cmocka_unit_test(test_short_lists_reach_to_the_edge_of_each_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
