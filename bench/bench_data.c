/* bench_data.c - the benchmark data set in matcher_core's index and in
 * PostgreSQL (see bench_data.h). */
#include "bench_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "jm/mem.h"
#include "matcher_record.h"

/* ---- the index ---- */

/* Term ids in order of first use, as the service's view assigns them. */
static int
intern(void *arg, const char *uri, uint16_t *id)
{
    matcher_dict_t *dict = arg;
    size_t len = strlen(uri), n;
    int rc = matcher_dict_find(dict, uri, len);

    if (rc >= 0) {
        *id = (uint16_t) rc;
        return 0;
    }
    n = matcher_dict_count(dict);
    if (n >= MATCHER_TERMS_MAX)
        return -ENOSPC;
    if ((rc = matcher_dict_add(dict, (uint16_t) n, uri, len)) != 0)
        return rc;
    *id = (uint16_t) n;
    return 0;
}

void
bench_data_build(bench_data *bd, const bench_data_opts *opts)
{
    jm_sample_opts sopts = {.seed = opts->seed,
                            .skills = opts->skills,
                            .occupation_pool = opts->occupation_pool,
                            .whole_groups = opts->whole_groups};
    matcher_encoder enc;
    uint8_t *buf = jm_xmalloc(MATCHER_PROFILE_REC_MAX > MATCHER_ORDER_REC_MAX
                                  ? MATCHER_PROFILE_REC_MAX
                                  : MATCHER_ORDER_REC_MAX);
    size_t heap0;
    uint64_t t0;
    int rc;

    memset(bd, 0, sizeof(*bd));
    if ((rc = jm_esco_load(&bd->esco, NULL)) != 0)
        bench_fail("cannot load ESCO (%d)", rc);
    matcher_ctx_now(&bd->ctx);
    sopts.today = bd->ctx.today;
    if (jm_sample_new(&bd->sample, bd->esco, &sopts) != 0)
        bench_fail("bad sample options");
    bd->profiles = opts->profiles;
    bd->orders = opts->orders;
    bd->profile_slot = jm_xcalloc(bd->profiles + 1, sizeof(uint32_t));
    bd->order_slot = jm_xcalloc(bd->orders + 1, sizeof(uint32_t));
    bd->profile_occupation = jm_xcalloc(bd->profiles + 1, sizeof(uint32_t));
    bd->order_occupation = jm_xcalloc(bd->orders + 1, sizeof(uint32_t));

    /* What the citizens cost in memory is what malloc holds after them
     * minus before: index, hot and cold records, postings, id map and the
     * term dictionary (shared with orders, but filled by citizens). */
    heap0 = bench_heap_bytes();
    matcher_index_new(&bd->ix);
    /* As the service loads its view at start (matcher_view.c): exactly the
     * room needed, postings appended and split and sorted once at the
     * end. The memory measured is therefore the steady state after a
     * (re)start; a matcher that grew citizen by citizen holds the doubling
     * slack of its arrays on top. */
    matcher_index_reserve(bd->ix, (uint32_t) bd->profiles,
                          (uint32_t) bd->orders);
    matcher_index_bulk_begin(bd->ix);
    enc.esco = bd->esco;
    enc.intern = intern;
    enc.arg = bd->ix->dict; /* the index owns its vocabulary */
    for (size_t i = 0; i < bd->profiles; i++) {
        jm_sample_citizen *c = jm_sample_citizen_new(bd->sample, i);
        char id[32];
        int size;

        (void) snprintf(id, sizeof(id), "p%07zu", i);
        c->profile.id = id;
        /* profiles copies the latest measurement per dimension into the
         * profile; the generated ones are one per dimension already. */
        c->profile.progress = c->progress;
        c->profile.n_progress = c->progress_count;
        bd->profile_occupation[i] = c->occupation;
        t0 = bench_now_ns();
        if ((size = matcher_record_profile(&enc, &c->profile, 0, buf)) <= 0)
            bench_fail("citizen %zu: record failed (%d)", i, size);
        bd->profile_slot[i] = matcher_index_put_profile(
            bd->ix, (const struct matcher_profile_rec *) buf, (size_t) size);
        bd->profile_load_ns += bench_now_ns() - t0;
        if (bd->profile_slot[i] == MATCHER_NONE)
            bench_fail("citizen %zu not indexed", i);
        c->profile.id = NULL; /* stack memory: not the arena's */
        jm_sample_citizen_destroy(&c);
    }
    t0 = bench_now_ns();
    matcher_index_bulk_end(bd->ix);
    bd->profile_load_ns += bench_now_ns() - t0;
    bd->profile_heap_bytes = bench_heap_bytes() - heap0;

    for (size_t j = 0; j < bd->orders; j++) {
        jm_sample_order *o = jm_sample_order_new(bd->sample, j);
        char id[32];
        int size;

        (void) snprintf(id, sizeof(id), "o%06zu", j);
        o->order.id = id;
        bd->order_occupation[j] = o->occupation;
        if ((size = matcher_record_order(&enc, &o->order, 0, buf)) <= 0)
            bench_fail("order %zu: record failed (%d)", j, size);
        bd->order_slot[j] = matcher_index_put_order(
            bd->ix, (const struct matcher_order_rec *) buf, (size_t) size);
        if (bd->order_slot[j] == MATCHER_NONE)
            bench_fail("order %zu not indexed", j);
        o->order.id = NULL;
        jm_sample_order_destroy(&o);
    }
    free(buf);
}

void
bench_data_free(bench_data *bd)
{
    matcher_index_destroy(&bd->ix);
    jm_sample_destroy(&bd->sample);
    jm_esco_destroy(&bd->esco);
    free(bd->profile_slot);
    free(bd->order_slot);
    free(bd->profile_occupation);
    free(bd->order_occupation);
}

const matcher_order *
bench_data_order(const bench_data *bd, size_t j)
{
    return &bd->ix->orders[bd->order_slot[j]];
}

uint32_t
bench_data_citizen_of_slot(const bench_data *bd, uint32_t slot)
{
    size_t len;
    const char *id = matcher_slot_id(bd->ix, slot, &len);
    uint32_t n = 0;

    /* "p%07u", not NUL-terminated in the record */
    for (size_t i = 1; i < len; i++)
        n = n * 10 + (uint32_t) (id[i] - '0');
    return n;
}

/* ---- PostgreSQL ---- */

static const char schema[] =
    "SET client_min_messages = warning;"
    "DROP TABLE IF EXISTS profile, profile_skill, profile_occ, profile_lang,"
    "  job_order, order_skill, order_lang;"
    "CREATE TABLE profile (id int PRIMARY KEY, kinds int NOT NULL,"
    "  hours int NOT NULL, range_km int NOT NULL, licences int NOT NULL,"
    "  home_muni int NOT NULL, consent bool NOT NULL, located bool NOT NULL,"
    "  progression int NOT NULL, available_from int, lat real, lon real);"
    "CREATE TABLE profile_skill (profile int NOT NULL, term int NOT NULL,"
    "  level int NOT NULL, year int NOT NULL);"
    "CREATE TABLE profile_occ (profile int NOT NULL, term int NOT NULL,"
    "  isco int NOT NULL);"
    "CREATE TABLE profile_lang (profile int NOT NULL, code text NOT NULL,"
    "  level int NOT NULL);"
    "CREATE TABLE job_order (id int PRIMARY KEY, kind int NOT NULL,"
    "  hours int NOT NULL, positions int NOT NULL, owner int NOT NULL,"
    "  licences int NOT NULL, occupation int, isco int NOT NULL,"
    "  located bool NOT NULL, start int, lat real, lon real);"
    "CREATE TABLE order_skill (order_id int NOT NULL, term int NOT NULL,"
    "  min_level int NOT NULL, essential bool NOT NULL);"
    "CREATE TABLE order_lang (order_id int NOT NULL, code text NOT NULL,"
    "  level int NOT NULL);";

/* The baseline gets the indexes a careful DBA would give this query: the
 * postings (skill -> citizens, covering the columns the score reads), the
 * occupation and ISCO look-ups, and the per-record children. */
static const char indexes[] =
    "CREATE INDEX ON profile_skill (term) INCLUDE (profile, level, year);"
    "CREATE INDEX ON profile_occ (term) INCLUDE (profile);"
    "CREATE INDEX ON profile_occ (isco) INCLUDE (profile, term);"
    "CREATE INDEX ON profile_lang (profile);"
    "CREATE INDEX ON order_skill (order_id);"
    "CREATE INDEX ON order_lang (order_id);";

static void
opt_int(char *buf, size_t size, int64_t value, bool present)
{
    if (present)
        (void) snprintf(buf, size, "%lld", (long long) value);
    else
        (void) snprintf(buf, size, "\\N");
}

static void
copy_profiles(const bench_data *bd, bench_pg *pg)
{
    const matcher_index_t *ix = bd->ix;

    bench_pg_copy_begin(pg, "profile");
    for (size_t i = 0; i < bd->profiles; i++) {
        _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
        const struct matcher_profile_rec *p = (const void *) buf;
        char avail[24];

        matcher_index_profile_record(ix, bd->profile_slot[i], buf);
        opt_int(avail, sizeof(avail), p->available_from,
                p->available_from != MATCHER_DATE_NONE);
        /* %.9g prints a float exactly: SQL's real holds the same value. */
        bench_pg_copy_row(
            pg, "%zu\t%u\t%u\t%u\t%u\t%u\t%s\t%s\t%u\t%s\t%.9g\t%.9g", i,
            p->kinds, p->hours, p->range_km, p->licences, p->home_muni,
            p->flags & MATCHER_PF_CONSENT ? "t" : "f",
            p->flags & MATCHER_PF_LOCATION ? "t" : "f", p->progression, avail,
            (double) p->lat, (double) p->lon);
    }
    bench_pg_copy_end(pg);
    bench_pg_copy_begin(pg, "profile_skill");
    for (size_t i = 0; i < bd->profiles; i++) {
        const struct matcher_cold *p = matcher_cold_of(ix, bd->profile_slot[i]);
        const struct matcher_pskill *s = matcher_cold_skills(p);

        for (unsigned k = 0; k < p->n_skills; k++)
            bench_pg_copy_row(pg, "%zu\t%u\t%u\t%u", i, s[k].term, s[k].level,
                              s[k].year);
    }
    bench_pg_copy_end(pg);
    bench_pg_copy_begin(pg, "profile_occ");
    for (size_t i = 0; i < bd->profiles; i++) {
        const struct matcher_cold *p = matcher_cold_of(ix, bd->profile_slot[i]);
        const struct matcher_cocc *occ = matcher_cold_occs(p);

        for (unsigned k = 0; k < p->n_occs; k++)
            bench_pg_copy_row(pg, "%zu\t%u\t%u", i, occ[k].term, occ[k].isco);
    }
    bench_pg_copy_end(pg);
    bench_pg_copy_begin(pg, "profile_lang");
    for (size_t i = 0; i < bd->profiles; i++) {
        const struct matcher_cold *p = matcher_cold_of(ix, bd->profile_slot[i]);
        const struct matcher_lang *l = matcher_cold_langs(p);

        for (unsigned k = 0; k < p->n_langs; k++)
            bench_pg_copy_row(pg, "%zu\t%c%c\t%u", i, l[k].code[0],
                              l[k].code[1], l[k].level);
    }
    bench_pg_copy_end(pg);
}

static void
copy_orders(const bench_data *bd, bench_pg *pg)
{
    bench_pg_copy_begin(pg, "job_order");
    for (size_t j = 0; j < bd->orders; j++) {
        const struct matcher_order_rec *r = bench_data_order(bd, j)->rec;
        char occ[24], start[24];

        opt_int(occ, sizeof(occ), r->occupation,
                r->occupation != MATCHER_TERM_NONE);
        opt_int(start, sizeof(start), r->start, r->start != MATCHER_DATE_NONE);
        bench_pg_copy_row(
            pg, "%zu\t%u\t%u\t%u\t%u\t%u\t%s\t%u\t%s\t%s\t%.9g\t%.9g", j,
            r->kind, r->hours, r->positions, r->owner_muni, r->licences, occ,
            r->isco, r->flags & MATCHER_OF_LOCATION ? "t" : "f", start,
            (double) r->lat, (double) r->lon);
    }
    bench_pg_copy_end(pg);
    bench_pg_copy_begin(pg, "order_skill");
    for (size_t j = 0; j < bd->orders; j++) {
        const struct matcher_order_rec *r = bench_data_order(bd, j)->rec;
        const struct matcher_oskill *s = matcher_order_skills(r);

        for (unsigned k = 0; k < (unsigned) r->n_ess + r->n_opt; k++)
            bench_pg_copy_row(pg, "%zu\t%u\t%u\t%s", j, s[k].term,
                              s[k].min_level, k < r->n_ess ? "t" : "f");
    }
    bench_pg_copy_end(pg);
    bench_pg_copy_begin(pg, "order_lang");
    for (size_t j = 0; j < bd->orders; j++) {
        const struct matcher_order_rec *r = bench_data_order(bd, j)->rec;
        const struct matcher_lang *l = matcher_order_langs(r);

        for (unsigned k = 0; k < r->n_langs; k++)
            bench_pg_copy_row(pg, "%zu\t%c%c\t%u", j, l[k].code[0],
                              l[k].code[1], l[k].level);
    }
    bench_pg_copy_end(pg);
}

double
bench_data_pg_load(const bench_data *bd, bench_pg *pg)
{
    uint64_t t0 = bench_now_ns();

    bench_pg_exec(pg, schema);
    copy_profiles(bd, pg);
    copy_orders(bd, pg);
    bench_pg_exec(pg, indexes);
    bench_pg_exec(pg, "VACUUM ANALYZE"); /* not in a multi-statement string */
    return (double) (bench_now_ns() - t0) / 1e9;
}

/* The candidates and hard filters of matcher_topk.h and matcher_score.h,
 * in SQL. "hit" sums, per citizen holding one of the order's skills, the
 * level-aware credits (matcher_credit) and recency tenths
 * (matcher_recency); "occ" finds the occupation fit; "ok" applies the hard
 * filters, with the haversine written exactly as jm_geo_distance_km
 * computes it (same operations, same order, same libm), so that the
 * scores below are bit-identical to the matcher's. */
#define CANDIDATES_SQL                                                        \
    "WITH o AS (SELECT * FROM job_order WHERE id = $1),"                      \
    " want AS (SELECT term, min_level, essential FROM order_skill"            \
    "          WHERE order_id = $1),"                                         \
    " n AS (SELECT count(*) FILTER (WHERE essential) AS ess,"                 \
    "              count(*) FILTER (WHERE NOT essential) AS opt FROM want),"  \
    " hit AS ("                                                               \
    "  SELECT ps.profile, count(*) AS overlap,"                               \
    "   sum(CASE WHEN w.essential THEN c.credit ELSE 0 END) AS ess,"          \
    "   sum(CASE WHEN w.essential THEN 0 ELSE c.credit END) AS opt,"          \
    "   sum(CASE WHEN ps.year = 0 THEN 5"                                     \
    "            WHEN $3 - (ps.year + 1900) <= 1 THEN 10"                     \
    "            WHEN $3 - (ps.year + 1900) >= 11 THEN 0"                     \
    "            ELSE 11 - ($3 - (ps.year + 1900)) END) AS rec"               \
    "  FROM want w JOIN profile_skill ps ON ps.term = w.term"                 \
    "  CROSS JOIN LATERAL (SELECT CASE"                                       \
    "   WHEN w.min_level = 0 OR ps.level >= w.min_level THEN 120"             \
    "   ELSE 60 * ps.level / w.min_level END AS credit) c"                    \
    "  GROUP BY ps.profile),"                                                 \
    " occ AS ("                                                               \
    "  SELECT po.profile,"                                                    \
    "   min(CASE WHEN po.term = o.occupation THEN 1 ELSE 2 END) AS fit"       \
    "  FROM o JOIN profile_occ po ON po.term = o.occupation"                  \
    "   OR (o.isco <> 0 AND po.isco = o.isco)"                                \
    "  GROUP BY po.profile),"                                                 \
    " cand AS ("                                                              \
    "  SELECT coalesce(h.profile, c.profile) AS profile,"                     \
    "   coalesce(h.overlap, 0) AS overlap, coalesce(h.ess, 0) AS ess,"        \
    "   coalesce(h.opt, 0) AS opt, coalesce(h.rec, 0) AS rec,"                \
    "   coalesce(c.fit, 0) AS fit"                                            \
    "  FROM hit h FULL JOIN occ c ON c.profile = h.profile),"                 \
    " ok AS ("                                                                \
    "  SELECT p.id, cand.overlap, cand.ess, cand.opt, cand.rec, cand.fit,"    \
    "   p.range_km, p.progression, d.km"                                      \
    "  FROM cand JOIN profile p ON p.id = cand.profile CROSS JOIN o"          \
    "  CROSS JOIN LATERAL (SELECT (p.lat::float8 - o.lat::float8)"            \
    "     * (pi() / 180.0::float8) AS dlat,"                                  \
    "    (p.lon::float8 - o.lon::float8) * (pi() / 180.0::float8) AS dlon) g" \
    "  CROSS JOIN LATERAL (SELECT least("                                     \
    "    sin(g.dlat / 2.0::float8) * sin(g.dlat / 2.0::float8)"               \
    "    + cos(o.lat::float8 * (pi() / 180.0::float8))"                       \
    "    * cos(p.lat::float8 * (pi() / 180.0::float8))"                       \
    "    * sin(g.dlon / 2.0::float8) * sin(g.dlon / 2.0::float8),"            \
    "    1.0::float8) AS a) h"                                                \
    "  CROSS JOIN LATERAL (SELECT 2.0::float8 * 6371.0088::float8"            \
    "    * asin(sqrt(h.a)) AS km) d"                                          \
    "  WHERE (p.home_muni = o.owner OR p.consent)"                            \
    "   AND o.kind > 0 AND (p.kinds >> o.kind) & 1 = 1"                       \
    "   AND p.hours >= o.hours"                                               \
    "   AND (o.licences & p.licences) = o.licences"                           \
    "   AND (p.available_from IS NULL OR p.available_from <= CASE"            \
    "        WHEN o.start IS NULL OR o.start < $2 THEN $2 ELSE o.start END)"  \
    "   AND o.located AND p.located AND d.km <= p.range_km"                   \
    "   AND NOT EXISTS (SELECT 1 FROM order_lang ol WHERE ol.order_id = o.id" \
    "    AND NOT EXISTS (SELECT 1 FROM profile_lang pl"                       \
    "     WHERE pl.profile = p.id AND pl.code = ol.code"                      \
    "      AND pl.level >= ol.level)))"

/* matcher_score's sum, part by part and in its order. */
static const char topk_sql[] = CANDIDATES_SQL
    " SELECT ok.id,"
    "  0.45::float8 * (CASE WHEN n.ess > 0"
    "   THEN ok.ess::float8 / (120 * n.ess)::float8 ELSE 1.0::float8 END)"
    "  + 0.10::float8 * (CASE WHEN n.opt > 0"
    "   THEN ok.opt::float8 / (120 * n.opt)::float8 ELSE 1.0::float8 END)"
    "  + CASE ok.fit WHEN 1 THEN 0.15::float8"
    "    WHEN 2 THEN 0.15::float8 * 0.5::float8 ELSE 0.0::float8 END"
    "  + CASE WHEN ok.range_km > 0 AND ok.km <= ok.range_km"
    "    THEN 0.10::float8 * (1.0::float8 - ok.km / ok.range_km::float8)"
    "    ELSE 0.0::float8 END"
    "  + CASE WHEN n.ess + n.opt > 0"
    "    THEN 0.10::float8 * (ok.rec::float8 / (10.0::float8"
    "     * (n.ess + n.opt)::float8)) ELSE 0.10::float8 END"
    "  + 0.10::float8 * (CASE WHEN ok.progression = 255 THEN 0.5::float8"
    "    ELSE ok.progression::float8 / 200.0::float8 END) AS score"
    " FROM ok, n ORDER BY score DESC, ok.id LIMIT $4";

static const char overlap_sql[] =
    CANDIDATES_SQL " SELECT ok.id, ok.overlap::float8 FROM ok"
                   " ORDER BY ok.overlap DESC, ok.id LIMIT $4";

void
bench_data_pg_prepare_topk(bench_pg *pg)
{
    bench_pg_prepare(pg, "topk", topk_sql, 4);
}

void
bench_data_pg_prepare_overlap(bench_pg *pg)
{
    bench_pg_prepare(pg, "overlap", overlap_sql, 4);
}

size_t
bench_data_pg_run(const bench_data *bd, bench_pg *pg, const char *name,
                  size_t j, size_t k, uint32_t *ids, double *scores)
{
    char order[24], today[24], year[24], limit[24];
    const char *params[4] = {order, today, year, limit};
    PGresult *res;
    size_t rows;

    (void) snprintf(order, sizeof(order), "%zu", j);
    (void) snprintf(today, sizeof(today), "%d", (int) bd->ctx.today);
    (void) snprintf(year, sizeof(year), "%d", bd->ctx.year);
    (void) snprintf(limit, sizeof(limit), "%zu", k);
    res = bench_pg_run(pg, name, 4, params);
    rows = (size_t) PQntuples(res);
    for (size_t r = 0; r < rows; r++) {
        ids[r] = (uint32_t) strtoul(PQgetvalue(res, (int) r, 0), NULL, 10);
        if (scores != NULL)
            scores[r] = strtod(PQgetvalue(res, (int) r, 1), NULL);
    }
    PQclear(res);
    return rows;
}
