/* matcher_query.c - checking, scoping and answering the matcher's queries
 * (see matcher_query.h).
 *
 * Validation follows docs/protocol.md: the body's fields first (invalid
 * field, with its path), then the caller's rights (permission denied),
 * then the state (not found). Strings in replies point into the index (its
 * dictionary lives as long as it does) or into the arena; the reply is
 * packed before anything can change the index. */
#include "matcher_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/dk.h"
#include "jm/mem.h"
#include "jm/principal.h"
#include "matcher_analysis.h"
#include "matcher_score.h"
#include "matcher_topk.h"

#define TOP_K_DEFAULT 10
#define TOP_K_MAX     200

/* ---- the arena ---- */

struct matcher_chunk {
    struct matcher_chunk *next;
    max_align_t data[];
};

void *
matcher_arena_alloc(matcher_arena *arena, size_t size)
{
    struct matcher_chunk *c = jm_xcalloc(1, sizeof(*c) + size);

    c->next = arena->chunks;
    arena->chunks = c;
    return c->data;
}

char *
matcher_arena_strndup(matcher_arena *arena, const char *s, size_t len)
{
    char *copy = matcher_arena_alloc(arena, len + 1);

    memcpy(copy, s, len);
    return copy;
}

void
matcher_arena_release(matcher_arena *arena)
{
    while (arena->chunks != NULL) {
        struct matcher_chunk *next = arena->chunks->next;

        free(arena->chunks);
        arena->chunks = next;
    }
}

/* var = a new message of type, initialised, in arena. */
#define NEW(arena, var, init)                                 \
    do {                                                      \
        (var) = matcher_arena_alloc((arena), sizeof(*(var))); \
        init(var);                                            \
    } while (0)

/* ---- scope ---- */

bool
matcher_scope_of(const char *principal, matcher_scope *scope)
{
    jm_principal p;

    jm_principal_parse(principal, &p);
    scope->all = jm_principal_is_trusted(&p);
    scope->owner = 0;
    if (scope->all)
        return true;
    if (jm_principal_is_municipal(&p))
        scope->owner = matcher_muni_code(p.municipality);
    return scope->owner != 0;
}

/* Scoped callers see their municipality's orders, and the citizens its
 * orders may be matched with (matcher_share_ok, the same rule as the
 * sharing filter). */
static bool
sees_order(const matcher_scope *s, const matcher_order *o)
{
    return s->all || o->rec->owner_muni == s->owner;
}

static bool
sees_profile(const matcher_index_t *ix, const matcher_scope *s, uint32_t slot)
{
    const matcher_hot *h = matcher_hot_of(ix, slot);

    return s->all ||
           matcher_share_ok(ix, s->owner, ix->sharing.allow[s->owner], h);
}

/* ---- pieces of replies ---- */

/* Ids in records are not NUL-terminated: copied into the arena. */
static char *
record_id(matcher_arena *a, const char *id, size_t len)
{
    return matcher_arena_strndup(a, id, len);
}

static char *
muni(matcher_arena *a, uint16_t code)
{
    char buf[4];

    matcher_muni_format(code, buf);
    return matcher_arena_strndup(a, buf, 3);
}

static Jobmatch__V1__ScoreParts *
parts_of(matcher_arena *a, const matcher_parts *p)
{
    Jobmatch__V1__ScoreParts *x;

    NEW(a, x, jobmatch__v1__score_parts__init);
    x->essential_skills = p->essential;
    x->optional_skills = p->optional;
    x->occupation = p->occupation;
    x->distance = p->distance;
    x->recency = p->recency;
    x->progression = p->progression;
    return x;
}

static Jobmatch__V1__SkillMatch **
skills_of(matcher_arena *a, const matcher_index_t *ix,
          const matcher_skill_match *m, size_t n)
{
    Jobmatch__V1__SkillMatch **out =
        matcher_arena_alloc(a, (n ? n : 1) * sizeof(*out));

    for (size_t i = 0; i < n; i++) {
        NEW(a, out[i], jobmatch__v1__skill_match__init);
        out[i]->skill_uri = (char *) matcher_dict_uri(ix->dict, m[i].term);
        out[i]->required_level = m[i].required_level;
        out[i]->citizen_level = m[i].citizen_level;
        out[i]->essential = m[i].essential;
    }
    return out;
}

/* Scores one pair again for the reply (the same numbers the search
 * found), with the explanation if asked. */
struct explained {
    double score, distance;
    matcher_parts parts;
    Jobmatch__V1__SkillMatch **matched, **missing;
    size_t n_matched, n_missing;
};

static void
explain(matcher_arena *a, matcher_index_t *ix, const matcher_order *o,
        uint32_t slot, const matcher_ctx *ctx, bool with_skills,
        struct explained *e)
{
    matcher_skill_match matched[130], missing[130];

    matcher_filter(ix, o, slot, ctx, false, &e->distance);
    e->score = matcher_score(ix, o, slot, ctx, e->distance, &e->parts);
    e->n_matched = e->n_missing = 0;
    e->matched = e->missing = NULL;
    if (!with_skills)
        return;
    matcher_explain(ix, o, slot, matched, &e->n_matched, missing,
                    &e->n_missing);
    e->matched = skills_of(a, ix, matched, e->n_matched);
    e->missing = skills_of(a, ix, missing, e->n_missing);
}

static bool
check_top_k(jm_error *err, const char *path, uint32_t top_k, size_t *k)
{
    if (top_k > TOP_K_MAX)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "top_k must be at most %d", TOP_K_MAX);
    *k = top_k ? top_k : TOP_K_DEFAULT;
    return true;
}

/* Finds an open order the caller may see, or fills err. */
static uint32_t
find_order(const matcher_query_ctx *q, const matcher_scope *scope,
           const char *path, const char *id, jm_error *err)
{
    uint32_t slot;

    if (!jm_check_id(err, path, id, true))
        return MATCHER_NONE;
    slot = matcher_index_find_order(q->ix, id, strlen(id));
    if (slot == MATCHER_NONE) {
        jm_error_set(err, JM_E_NOT_FOUND, path, "no open order %s", id);
        return MATCHER_NONE;
    }
    if (!sees_order(scope, &q->ix->orders[slot])) {
        jm_error_set(err, JM_E_PERMISSION_DENIED, path,
                     "order %s belongs to another municipality", id);
        return MATCHER_NONE;
    }
    return slot;
}

static uint32_t
find_profile(const matcher_query_ctx *q, const matcher_scope *scope,
             const char *path, const char *id, jm_error *err)
{
    uint32_t slot;

    if (!jm_check_id(err, path, id, true))
        return MATCHER_NONE;
    slot = matcher_index_find_profile(q->ix, id, strlen(id));
    if (slot == MATCHER_NONE) {
        jm_error_set(err, JM_E_NOT_FOUND, path, "no citizen %s", id);
        return MATCHER_NONE;
    }
    if (!sees_profile(q->ix, scope, slot)) {
        jm_error_set(err, JM_E_PERMISSION_DENIED, path,
                     "citizen %s is not shared with your municipality", id);
        return MATCHER_NONE;
    }
    return slot;
}

/* ---- MatchOrder ---- */

static int
match_order(const matcher_query_ctx *q, const matcher_scope *scope,
            const Jobmatch__V1__MatchOrder *m, matcher_arena *a,
            Jobmatch__V1__Reply *reply, jm_error *err)
{
    Jobmatch__V1__CandidateList *list;
    matcher_topk_stats stats = {0, 0, 0, 0};
    const matcher_hit *hits;
    matcher_hit *fresh = NULL;
    matcher_ctx ctx;
    uint32_t oslot;
    size_t k = 0, n = 0;

    if (!check_top_k(err, "match_order.top_k", m->top_k, &k))
        return 1;
    oslot = find_order(q, scope, "match_order.order_id", m->order_id, err);
    if (oslot == MATCHER_NONE)
        return 1;
    matcher_ctx_now(&ctx);
    /* The live shortlist, when it is current and long enough, is the
     * answer a computation would give (matcher_live; test_matcher_live):
     * its first k. Its counts are those of the search that last rebuilt
     * it. Otherwise the answer is computed now. */
    hits = k <= matcher_live_size(q->live)
               ? matcher_live_shortlist(q->live, oslot, &n, &stats)
               : NULL;
    if (hits == NULL) {
        hits = fresh = matcher_arena_alloc(a, k * sizeof(*fresh));
        n = matcher_topk_order(q->ix, &q->ix->orders[oslot], &ctx, k, fresh,
                               &stats);
    }
    if (n > k)
        n = k;
    NEW(a, list, jobmatch__v1__candidate_list__init);
    list->order_id = (char *) m->order_id;
    list->eligible = stats.eligible;
    list->considered = stats.considered;
    list->n_candidates = n;
    list->candidates = matcher_arena_alloc(a, (n ? n : 1) * sizeof(void *));
    for (size_t i = 0; i < n; i++) {
        Jobmatch__V1__CandidateMatch *c;
        struct explained e;
        size_t len;
        const char *id = matcher_slot_id(q->ix, hits[i].slot, &len);

        NEW(a, c, jobmatch__v1__candidate_match__init);
        explain(a, q->ix, &q->ix->orders[oslot], hits[i].slot, &ctx, m->explain,
                &e);
        c->profile_id = record_id(a, id, len);
        c->score = e.score;
        c->parts = parts_of(a, &e.parts);
        c->matched_skills = e.matched;
        c->n_matched_skills = e.n_matched;
        c->missing_skills = e.missing;
        c->n_missing_skills = e.n_missing;
        c->distance_km = e.distance;
        c->home_municipality =
            muni(a, matcher_hot_of(q->ix, hits[i].slot)->home_muni);
        list->candidates[i] = c;
    }
    reply->body_case = JOBMATCH__V1__REPLY__BODY_CANDIDATES;
    reply->candidates = list;
    return 0;
}

/* ---- MatchProfile ---- */

static int
match_profile(const matcher_query_ctx *q, const matcher_scope *scope,
              const Jobmatch__V1__MatchProfile *m, matcher_arena *a,
              Jobmatch__V1__Reply *reply, jm_error *err)
{
    Jobmatch__V1__OrderMatchList *list;
    matcher_topk_stats stats;
    matcher_hit *hits;
    matcher_ctx ctx;
    uint32_t slot;
    size_t k = 0, n;

    if (!check_top_k(err, "match_profile.top_k", m->top_k, &k))
        return 1;
    slot =
        find_profile(q, scope, "match_profile.profile_id", m->profile_id, err);
    if (slot == MATCHER_NONE)
        return 1;
    matcher_ctx_now(&ctx);
    hits = matcher_arena_alloc(a, k * sizeof(*hits));
    n = matcher_topk_profile(q->ix, slot, &ctx, scope->all ? 0 : scope->owner,
                             k, hits, &stats);
    NEW(a, list, jobmatch__v1__order_match_list__init);
    list->profile_id = (char *) m->profile_id;
    list->eligible = stats.eligible;
    list->n_orders = n;
    list->orders = matcher_arena_alloc(a, (n ? n : 1) * sizeof(void *));
    for (size_t i = 0; i < n; i++) {
        const matcher_order *o = &q->ix->orders[hits[i].slot];
        Jobmatch__V1__OrderMatch *x;
        struct explained e;

        NEW(a, x, jobmatch__v1__order_match__init);
        explain(a, q->ix, o, slot, &ctx, m->explain, &e);
        x->order_id = record_id(a, matcher_order_id(o->rec), o->rec->id_len);
        x->score = e.score;
        x->parts = parts_of(a, &e.parts);
        x->matched_skills = e.matched;
        x->n_matched_skills = e.n_matched;
        x->missing_skills = e.missing;
        x->n_missing_skills = e.n_missing;
        x->distance_km = e.distance;
        x->title = matcher_arena_strndup(a, matcher_order_title(o->rec),
                                         o->rec->title_len);
        x->occupation_uri =
            (char *) (o->rec->occupation == MATCHER_TERM_NONE
                          ? ""
                          : matcher_dict_uri(q->ix->dict, o->rec->occupation));
        x->owner_municipality = muni(a, o->rec->owner_muni);
        list->orders[i] = x;
    }
    reply->body_case = JOBMATCH__V1__REPLY__BODY_ORDER_MATCHES;
    reply->order_matches = list;
    return 0;
}

/* ---- GetSkillGaps ---- */

static int
skill_gaps(const matcher_query_ctx *q, const matcher_scope *scope,
           const Jobmatch__V1__GetSkillGaps *m, matcher_arena *a,
           Jobmatch__V1__Reply *reply, jm_error *err)
{
    Jobmatch__V1__SkillGapReport *r;
    matcher_gaps gaps;
    matcher_ctx ctx;
    uint32_t slot;
    size_t k = 0;

    if (!check_top_k(err, "get_skill_gaps.top_k", m->top_k, &k))
        return 1;
    slot =
        find_profile(q, scope, "get_skill_gaps.profile_id", m->profile_id, err);
    if (slot == MATCHER_NONE)
        return 1;
    matcher_ctx_now(&ctx);
    matcher_gaps_compute(q->ix, slot, &ctx, scope->all ? 0 : scope->owner, k,
                         &gaps);
    NEW(a, r, jobmatch__v1__skill_gap_report__init);
    r->profile_id = (char *) m->profile_id;
    r->orders_in_reach = gaps.in_reach;
    r->orders_matched = gaps.matched;
    r->n_gaps = gaps.n;
    r->gaps = matcher_arena_alloc(a, (gaps.n ? gaps.n : 1) * sizeof(void *));
    for (size_t i = 0; i < gaps.n; i++) {
        const matcher_gap *g = &gaps.gaps[i];
        Jobmatch__V1__SkillGap *x;

        NEW(a, x, jobmatch__v1__skill_gap__init);
        x->skill_uri = (char *) matcher_dict_uri(q->ix->dict, g->term);
        x->orders_unlocked = g->unlocked;
        x->orders_improved = g->improved;
        x->level_needed = g->level_needed;
        x->n_order_ids = g->norders;
        x->order_ids = matcher_arena_alloc(a, (g->norders ? g->norders : 1) *
                                                  sizeof(char *));
        for (uint32_t j = 0; j < g->norders; j++) {
            const struct matcher_order_rec *o = q->ix->orders[g->orders[j]].rec;

            x->order_ids[j] = record_id(a, matcher_order_id(o), o->id_len);
        }
        r->gaps[i] = x;
    }
    free(gaps.gaps);
    reply->body_case = JOBMATCH__V1__REPLY__BODY_SKILL_GAPS;
    reply->skill_gaps = r;
    return 0;
}

/* ---- GetOrderBottlenecks ---- */

static int
bottlenecks(const matcher_query_ctx *q, const matcher_scope *scope,
            const Jobmatch__V1__GetOrderBottlenecks *m, matcher_arena *a,
            Jobmatch__V1__Reply *reply, jm_error *err)
{
    Jobmatch__V1__BottleneckReport *r;
    matcher_bottlenecks b;
    matcher_ctx ctx;
    uint32_t oslot = find_order(q, scope, "get_order_bottlenecks.order_id",
                                m->order_id, err);

    if (oslot == MATCHER_NONE)
        return 1;
    matcher_ctx_now(&ctx);
    matcher_bottlenecks_compute(q->ix, oslot, &ctx, &b);
    NEW(a, r, jobmatch__v1__bottleneck_report__init);
    r->order_id = (char *) m->order_id;
    r->pool = b.pool;
    r->n_bottlenecks = b.n;
    r->bottlenecks = matcher_arena_alloc(a, (b.n ? b.n : 1) * sizeof(void *));
    for (size_t i = 0; i < b.n; i++) {
        Jobmatch__V1__Bottleneck *x;

        NEW(a, x, jobmatch__v1__bottleneck__init);
        x->requirement = matcher_arena_strndup(a, b.items[i].requirement,
                                               strlen(b.items[i].requirement));
        x->detail = matcher_arena_strndup(a, b.items[i].detail,
                                          strlen(b.items[i].detail));
        x->pool_without = b.items[i].pool_without;
        r->bottlenecks[i] = x;
    }
    free(b.items);
    reply->body_case = JOBMATCH__V1__REPLY__BODY_BOTTLENECKS;
    reply->bottlenecks = r;
    return 0;
}

/* ---- Assign ---- */

static int
assign(const matcher_query_ctx *q, const matcher_scope *scope,
       const Jobmatch__V1__Assign *m, matcher_arena *a,
       Jobmatch__V1__Reply *reply, jm_error *err)
{
    Jobmatch__V1__AssignmentResult *r;
    uint16_t munis[100];
    matcher_assign_opts opts = {.munis = munis};
    matcher_assignment res;
    matcher_ctx ctx;
    char path[64];

    if (!jm_check_count(err, "assign.municipality_codes",
                        m->n_municipality_codes, 0, 98) ||
        !jm_check_range(err, "assign.max_per_citizen", m->max_per_citizen, 0,
                        100) ||
        !jm_check_range(err, "assign.shortlist_factor", m->shortlist_factor, 0,
                        20))
        return 1;
    for (size_t i = 0; i < m->n_municipality_codes; i++) {
        jm_path(path, sizeof(path), "assign.municipality_codes[%zu]", i);
        if (!jm_check_digits(err, path, m->municipality_codes[i], 3, true))
            return 1;
        if (jm_dk_municipality_find(m->municipality_codes[i]) == NULL) {
            jm_error_set(err, JM_E_INVALID_FIELD, path,
                         "%s is not a Danish municipality code",
                         m->municipality_codes[i]);
            return 1;
        }
        munis[i] = matcher_muni_code(m->municipality_codes[i]);
        if (!scope->all && munis[i] != scope->owner) {
            jm_error_set(err, JM_E_PERMISSION_DENIED, path,
                         "you may assign only your municipality's orders");
            return 1;
        }
    }
    opts.nmunis = m->n_municipality_codes;
    if (!scope->all && opts.nmunis == 0) {
        munis[0] = scope->owner;
        opts.nmunis = 1;
    }
    opts.exact = m->mode == JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_EXACT;
    opts.max_per_citizen = m->max_per_citizen ? m->max_per_citizen : 3;
    opts.factor = m->shortlist_factor ? m->shortlist_factor : 2;
    matcher_ctx_now(&ctx);
    matcher_assign_run(q->ix, q->live, &ctx, &opts, &res);

    NEW(a, r, jobmatch__v1__assignment_result__init);
    r->mode = opts.exact ? JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_EXACT
                         : JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_GREEDY;
    r->total_score = res.total;
    r->greedy_total = res.greedy_total;
    r->exact_total = res.exact_total;
    r->gap = res.gap;
    r->orders = res.orders;
    r->orders_served = res.served;
    r->citizens = res.citizens;
    r->max_proposals_per_citizen = res.max_per_citizen;
    r->gini = res.gini;
    r->elapsed_us = res.elapsed_us;
    r->n_proposals = res.n;
    r->proposals = matcher_arena_alloc(a, (res.n ? res.n : 1) * sizeof(void *));
    for (size_t i = 0; i < res.n; i++) {
        const struct matcher_order_rec *o =
            q->ix->orders[res.proposals[i].order].rec;
        Jobmatch__V1__Proposal *x;
        size_t len;
        const char *id = matcher_slot_id(q->ix, res.proposals[i].profile, &len);

        NEW(a, x, jobmatch__v1__proposal__init);
        x->order_id = record_id(a, matcher_order_id(o), o->id_len);
        x->profile_id = record_id(a, id, len);
        x->score = res.proposals[i].score;
        r->proposals[i] = x;
    }
    free(res.proposals);
    reply->body_case = JOBMATCH__V1__REPLY__BODY_ASSIGNMENT;
    reply->assignment = r;
    return 0;
}

int
matcher_query(const matcher_query_ctx *q, const char *principal,
              const Jobmatch__V1__Request *req, matcher_arena *arena,
              Jobmatch__V1__Reply *reply, jm_error *err)
{
    matcher_scope scope;

    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER:
    case JOBMATCH__V1__REQUEST__BODY_MATCH_PROFILE:
    case JOBMATCH__V1__REQUEST__BODY_GET_SKILL_GAPS:
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER_BOTTLENECKS:
    case JOBMATCH__V1__REQUEST__BODY_ASSIGN:
        break;
    default:
        return -ENOTSUP;
    }
    if (!matcher_scope_of(principal, &scope)) {
        jm_error_set(err, JM_E_PERMISSION_DENIED, "",
                     "%s may not query the matcher", principal);
        return 1;
    }
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER:
        return match_order(q, &scope, req->match_order, arena, reply, err);
    case JOBMATCH__V1__REQUEST__BODY_MATCH_PROFILE:
        return match_profile(q, &scope, req->match_profile, arena, reply, err);
    case JOBMATCH__V1__REQUEST__BODY_GET_SKILL_GAPS:
        return skill_gaps(q, &scope, req->get_skill_gaps, arena, reply, err);
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER_BOTTLENECKS:
        return bottlenecks(q, &scope, req->get_order_bottlenecks, arena, reply,
                           err);
    default:
        return assign(q, &scope, req->assign, arena, reply, err);
    }
}
