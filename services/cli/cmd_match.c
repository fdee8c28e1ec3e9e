/* cmd_match.c - the matcher's commands:
 *
 *   match order ID [--top K] [--explain]     best citizens for an order
 *   match profile ID [--top K] [--explain]   best open orders for a citizen
 *   match bottlenecks ID                     what narrows an order's pool
 *   gaps profile ID [--top K]                skills that would unlock most
 *   assign --municipality CODES [--exact] [--max-per-citizen N]
 *          [--factor F]                      proposals across all positions
 *   matcher stats                            counts and sources
 *   matcher watch [--order ID] [--count N]   notifications (cmd_watch.c)
 *
 * Readable tables show ESCO labels next to URIs (this service uses the
 * ESCO classification of the European Commission); --json prints the
 * reply's message as JSON with every field, zeros included (so a
 * candidate's "parts" always has all six). The endpoints come from
 * --matcher EP[,EP...]: a query goes to the next when one does not
 * answer. Exit codes as in cli.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "jm/esco.h"
#include "jm/json.h"
#include "jm/log.h"
#include "jm/mem.h"

#define TOP_MAX 200

static const char match_usage[] =
    "usage: jobmatch match order ID [--top K] [--explain]\n"
    "       jobmatch match profile ID [--top K] [--explain]\n"
    "       jobmatch match bottlenecks ID\n"
    "\n"
    "  order ID        the best citizens for an open job order, with their\n"
    "                  score and its parts\n"
    "  profile ID      the best open orders for a citizen (pseudonymous id)\n"
    "  bottlenecks ID  how many citizens meet every requirement of an\n"
    "                  order, and how many would without each one\n"
    "\n"
    "  --top K         how many (1-200, default 10)\n"
    "  --explain       list matched and missing skills with their levels\n"
    "\n"
    "The score and its parts are described in docs/matching.md.\n";

static const char gaps_usage[] =
    "usage: jobmatch gaps profile ID [--top K]\n"
    "\n"
    "The essential skills a citizen lacks that would unlock the most open\n"
    "orders within their reach (every other requirement met), with the\n"
    "orders. UNLOCKS: orders where it is the only skill missing; IMPROVES:\n"
    "every order it is missing in (those unlocked too); LEVEL: the highest\n"
    "those orders ask for. --top K: how many skills (default 10).\n";

static const char assign_usage[] =
    "usage: jobmatch assign --municipality CODES [--exact]\n"
    "                       [--max-per-citizen N] [--factor F]\n"
    "\n"
    "Proposes citizens to the open positions of the orders of the given\n"
    "municipalities (comma-separated codes, e.g. 161,165): each order up to\n"
    "positions x F proposals (default 2), each citizen at most N times\n"
    "(default 3), the total score as high as possible. Orders with the\n"
    "fewest candidates are served first. --exact solves it exactly (a\n"
    "min-cost flow) and reports how far greedy is from it.\n";

static const char matcher_usage[] =
    "usage: jobmatch matcher stats\n"
    "       jobmatch matcher watch [--order ID] [--count N]\n"
    "\n"
    "  stats   counts of the matcher's index, its sources and how far it has\n"
    "          read their logs\n"
    "  watch   the \"shortlist changed\" notifications as they come\n"
    "          (jobmatch matcher watch --help)\n";

/* ---- helpers ---- */

struct opts {
    const char *top;
    const char *order;
    const char *count;
    const char *municipality;
    const char *max_per_citizen;
    const char *factor;
    bool explain, exact, help;
    const char *pos[3];
    int npos;
};

static int
parse(cli *c, int argc, char **argv, struct opts *o, const char *usage)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **value = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
        } else if (strcmp(a, "--explain") == 0) {
            o->explain = true;
        } else if (strcmp(a, "--exact") == 0) {
            o->exact = true;
        } else if (strcmp(a, "--top") == 0) {
            value = &o->top;
        } else if (strcmp(a, "--municipality") == 0) {
            value = &o->municipality;
        } else if (strcmp(a, "--max-per-citizen") == 0) {
            value = &o->max_per_citizen;
        } else if (strcmp(a, "--factor") == 0) {
            value = &o->factor;
        } else if (strcmp(a, "--order") == 0) {
            value = &o->order;
        } else if (strcmp(a, "--count") == 0) {
            value = &o->count;
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_usage_error(c, "unknown option %s\n%s", a, usage);
        } else if (o->npos < 3) {
            o->pos[o->npos++] = a;
        } else {
            return cli_usage_error(c, "too many arguments\n%s", usage);
        }
        if (value != NULL) {
            if (i + 1 >= argc)
                return cli_usage_error(c, "%s needs a value\n%s", a, usage);
            *value = argv[++i];
        }
    }
    return CLI_OK;
}

static int
parse_top(cli *c, const char *text, uint32_t *top)
{
    unsigned long long v;

    *top = 0;
    if (text == NULL)
        return CLI_OK;
    if (!cli_parse_uint(text, TOP_MAX, &v) || v == 0)
        return cli_usage_error(c, "--top needs a number from 1 to %d", TOP_MAX);
    *top = (uint32_t) v;
    return CLI_OK;
}

/* ESCO labels for readable output; without the data, URIs only. */
static const char *
label(const jm_esco_t *esco, const char *uri)
{
    const char *l = esco ? jm_esco_label(esco, uri) : NULL;

    return l != NULL ? l : uri;
}

static jm_esco_t *
load_esco(cli *c)
{
    jm_esco_t *esco = NULL;

    if (c->json)
        return NULL;
    /* Quietly: the CLI logs at warn, and the labels are a nicety. */
    if (jm_esco_load(&esco, NULL) != 0)
        return NULL;
    return esco;
}

/* Sends req; on CLI_OK *msg_p owns the reply and *reply_p points into it,
 * which has the expected body. */
static int
ask(cli *c, Jobmatch__V1__Request *req, int body, jm_msg_t **msg_p,
    const Jobmatch__V1__Reply **reply_p)
{
    int rc = cli_request(c, CLI_MATCHER, req, msg_p);

    if (rc != CLI_OK)
        return rc;
    *reply_p = (const Jobmatch__V1__Reply *) jm_msg_get(*msg_p);
    if ((rc = cli_reply_failed(c, *reply_p)) != CLI_OK)
        return rc;
    if ((int) (*reply_p)->body_case != body) {
        fprintf(stderr, "%s: unexpected answer from the matcher\n", c->prog);
        return CLI_UNREACHABLE;
    }
    return CLI_OK;
}

static void
print_json(const ProtobufCMessage *msg)
{
    cli_print_json(jm_json_from_message(msg, JM_JSON_DEFAULTS));
}

static void
print_skills(const jm_esco_t *esco, const char *what,
             Jobmatch__V1__SkillMatch **skills, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Jobmatch__V1__SkillMatch *s = skills[i];

        printf("      %-8s %s%s", what, label(esco, s->skill_uri),
               s->essential ? "" : " (optional)");
        /* A citizen below the required level still gets partial credit
         * (docs/matching.md); say so rather than let "has" read as met. */
        if (s->citizen_level == 0 && s->required_level > 0)
            printf(" - needs level %u", s->required_level);
        else if (s->citizen_level > 0 && s->citizen_level < s->required_level)
            printf(" - level %u, needs %u (below: partial credit)",
                   s->citizen_level, s->required_level);
        else if (s->citizen_level > 0 && s->required_level > 0)
            printf(" - level %u, needs %u", s->citizen_level,
                   s->required_level);
        /* Minimum level 0 means any level (docs/matching.md), as `gaps`
         * says: "needs 0" would read as a level below the lowest. */
        else if (s->citizen_level > 0)
            printf(" - level %u, needs any level", s->citizen_level);
        printf("\n");
    }
}

/* The --explain block of one ranked entry: its skills, met and missing. */
static void
print_explanation(const jm_esco_t *esco, size_t rank, const char *id,
                  Jobmatch__V1__SkillMatch **matched, size_t n_matched,
                  Jobmatch__V1__SkillMatch **missing, size_t n_missing)
{
    printf("  %zu. %s\n", rank, id);
    print_skills(esco, "has", matched, n_matched);
    print_skills(esco, "missing", missing, n_missing);
}

/* ---- match ---- */

static int
match_order(cli *c, const struct opts *o)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder m = JOBMATCH__V1__MATCH_ORDER__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__CandidateList *list;
    jm_msg_t *msg = NULL;
    jm_esco_t *esco = NULL;
    cli_table *t;
    int rc;

    if ((rc = parse_top(c, o->top, &m.top_k)) != CLI_OK)
        return rc;
    m.order_id = (char *) o->pos[1];
    m.explain = o->explain;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &m;
    if ((rc = ask(c, &req, JOBMATCH__V1__REPLY__BODY_CANDIDATES, &msg,
                  &reply)) != CLI_OK)
        goto out;
    list = reply->candidates;
    if (c->json) {
        print_json(&list->base);
        goto out;
    }
    esco = load_esco(c);
    /* The search stops reading once nobody else can enter the top k, so
     * with a full list its counts are lower bounds (docs/matching.md 7). */
    if (list->n_candidates < (m.top_k ? m.top_k : 10)) /* 0: the default */
        printf("order %s: %zu candidate%s, every citizen who passes the hard "
               "filters\n",
               list->order_id, list->n_candidates,
               list->n_candidates == 1 ? "" : "s");
    else
        printf("order %s: the best %zu of at least %u citizens who pass the "
               "hard filters\n  (counted until nobody else could enter the "
               "top %zu; %u looked at)\n",
               list->order_id, list->n_candidates, list->eligible,
               list->n_candidates, list->considered);
    t = cli_table_new(">#", "citizen", ">score", ">essential", ">optional",
                      ">occupation", ">distance", ">recency", ">progression",
                      ">km", "home", NULL);
    for (size_t i = 0; i < list->n_candidates; i++) {
        const Jobmatch__V1__CandidateMatch *x = list->candidates[i];
        const Jobmatch__V1__ScoreParts *p = x->parts;

        cli_table_cell(t, "%zu", i + 1);
        cli_table_cell(t, "%s", x->profile_id);
        cli_table_cell(t, "%.3f", x->score);
        cli_table_cell(t, "%.3f", p ? p->essential_skills : 0);
        cli_table_cell(t, "%.3f", p ? p->optional_skills : 0);
        cli_table_cell(t, "%.3f", p ? p->occupation : 0);
        cli_table_cell(t, "%.3f", p ? p->distance : 0);
        cli_table_cell(t, "%.3f", p ? p->recency : 0);
        cli_table_cell(t, "%.3f", p ? p->progression : 0);
        cli_table_cell(t, "%.1f", x->distance_km);
        cli_table_cell(t, "%s", x->home_municipality);
    }
    cli_table_print(t, stdout);
    for (size_t i = 0; o->explain && i < list->n_candidates; i++) {
        const Jobmatch__V1__CandidateMatch *x = list->candidates[i];

        print_explanation(esco, i + 1, x->profile_id, x->matched_skills,
                          x->n_matched_skills, x->missing_skills,
                          x->n_missing_skills);
    }
out:
    jm_esco_destroy(&esco);
    jm_msg_free(&msg);
    return rc;
}

static int
match_profile(cli *c, const struct opts *o)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchProfile m = JOBMATCH__V1__MATCH_PROFILE__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__OrderMatchList *list;
    jm_msg_t *msg = NULL;
    jm_esco_t *esco = NULL;
    cli_table *t;
    int rc;

    if ((rc = parse_top(c, o->top, &m.top_k)) != CLI_OK)
        return rc;
    m.profile_id = (char *) o->pos[1];
    m.explain = o->explain;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_PROFILE;
    req.match_profile = &m;
    if ((rc = ask(c, &req, JOBMATCH__V1__REPLY__BODY_ORDER_MATCHES, &msg,
                  &reply)) != CLI_OK)
        goto out;
    list = reply->order_matches;
    if (c->json) {
        print_json(&list->base);
        goto out;
    }
    esco = load_esco(c);
    printf("citizen %s: %zu order%s (%u eligible)\n", list->profile_id,
           list->n_orders, list->n_orders == 1 ? "" : "s", list->eligible);
    t = cli_table_new(">#", "order", ">score", "title", "occupation", "owner",
                      ">km", NULL);
    for (size_t i = 0; i < list->n_orders; i++) {
        const Jobmatch__V1__OrderMatch *x = list->orders[i];

        cli_table_cell(t, "%zu", i + 1);
        cli_table_cell(t, "%s", x->order_id);
        cli_table_cell(t, "%.3f", x->score);
        cli_table_cell(t, "%s", x->title);
        cli_table_cell(t, "%s", label(esco, x->occupation_uri));
        cli_table_cell(t, "%s", x->owner_municipality);
        cli_table_cell(t, "%.1f", x->distance_km);
    }
    cli_table_print(t, stdout);
    for (size_t i = 0; o->explain && i < list->n_orders; i++) {
        const Jobmatch__V1__OrderMatch *x = list->orders[i];

        print_explanation(esco, i + 1, x->order_id, x->matched_skills,
                          x->n_matched_skills, x->missing_skills,
                          x->n_missing_skills);
    }
out:
    jm_esco_destroy(&esco);
    jm_msg_free(&msg);
    return rc;
}

static int
match_bottlenecks(cli *c, const struct opts *o)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrderBottlenecks m =
        JOBMATCH__V1__GET_ORDER_BOTTLENECKS__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__BottleneckReport *r;
    jm_msg_t *msg = NULL;
    jm_esco_t *esco = NULL;
    cli_table *t;
    int rc;

    m.order_id = (char *) o->pos[1];
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_BOTTLENECKS;
    req.get_order_bottlenecks = &m;
    if ((rc = ask(c, &req, JOBMATCH__V1__REPLY__BODY_BOTTLENECKS, &msg,
                  &reply)) != CLI_OK)
        goto out;
    r = reply->bottlenecks;
    if (c->json) {
        print_json(&r->base);
        goto out;
    }
    esco = load_esco(c);
    printf("order %s: %u candidate%s meet every requirement\n", r->order_id,
           r->pool, r->pool == 1 ? "" : "s");
    t = cli_table_new("requirement", "detail", ">without it", NULL);
    for (size_t i = 0; i < r->n_bottlenecks; i++) {
        const Jobmatch__V1__Bottleneck *b = r->bottlenecks[i];
        char detail[256];
        const char *uri_end = strchr(b->detail, ' ');

        /* A skill's detail starts with its URI: show the label too. */
        snprintf(detail, sizeof(detail), "%s", b->detail);
        if (strncmp(b->detail, JM_ESCO_SKILL_PREFIX,
                    strlen(JM_ESCO_SKILL_PREFIX)) == 0) {
            char uri[160];
            size_t len =
                uri_end ? (size_t) (uri_end - b->detail) : strlen(b->detail);

            snprintf(uri, sizeof(uri), "%.*s", (int) len, b->detail);
            snprintf(detail, sizeof(detail), "%s%s", label(esco, uri),
                     uri_end ? uri_end : "");
        }
        cli_table_cell(t, "%s", b->requirement);
        cli_table_cell(t, "%s", detail);
        cli_table_cell(t, "%u", b->pool_without);
    }
    cli_table_print(t, stdout);
out:
    jm_esco_destroy(&esco);
    jm_msg_free(&msg);
    return rc;
}

int
cli_cmd_match(cli *c, int argc, char **argv)
{
    struct opts o;
    int rc = parse(c, argc, argv, &o, match_usage);

    if (rc != CLI_OK)
        return rc;
    if (o.help) {
        fputs(match_usage, stdout);
        return CLI_OK;
    }
    if (o.npos != 2)
        return cli_usage_error(c, "%s", match_usage);
    if (strcmp(o.pos[0], "order") == 0)
        return match_order(c, &o);
    if (strcmp(o.pos[0], "profile") == 0)
        return match_profile(c, &o);
    if (strcmp(o.pos[0], "bottlenecks") == 0)
        return match_bottlenecks(c, &o);
    return cli_usage_error(c, "match what? '%s'\n%s", o.pos[0], match_usage);
}

/* ---- gaps ---- */

int
cli_cmd_gaps(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetSkillGaps m = JOBMATCH__V1__GET_SKILL_GAPS__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__SkillGapReport *r;
    jm_msg_t *msg = NULL;
    jm_esco_t *esco = NULL;
    struct opts o;
    cli_table *t;
    int rc = parse(c, argc, argv, &o, gaps_usage);

    if (rc != CLI_OK)
        return rc;
    if (o.help) {
        fputs(gaps_usage, stdout);
        return CLI_OK;
    }
    if (o.npos != 2 || strcmp(o.pos[0], "profile") != 0)
        return cli_usage_error(c, "%s", gaps_usage);
    if ((rc = parse_top(c, o.top, &m.top_k)) != CLI_OK)
        return rc;
    m.profile_id = (char *) o.pos[1];
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_SKILL_GAPS;
    req.get_skill_gaps = &m;
    if ((rc = ask(c, &req, JOBMATCH__V1__REPLY__BODY_SKILL_GAPS, &msg,
                  &reply)) != CLI_OK)
        goto out;
    r = reply->skill_gaps;
    if (c->json) {
        print_json(&r->base);
        goto out;
    }
    esco = load_esco(c);
    printf("citizen %s: %u open order%s within reach, %u fully covered\n",
           r->profile_id, r->orders_in_reach,
           r->orders_in_reach == 1 ? "" : "s", r->orders_matched);
    t = cli_table_new("skill", ">unlocks", ">improves", ">level",
                      "orders unlocked", NULL);
    for (size_t i = 0; i < r->n_gaps; i++) {
        const Jobmatch__V1__SkillGap *g = r->gaps[i];
        char ids[256] = "";
        size_t at = 0;

        for (size_t j = 0; j < g->n_order_ids && at < sizeof(ids) - 1; j++)
            at += (size_t) snprintf(ids + at, sizeof(ids) - at, "%s%s",
                                    j ? ", " : "", g->order_ids[j]);
        cli_table_cell(t, "%s", label(esco, g->skill_uri));
        cli_table_cell(t, "%u", g->orders_unlocked);
        cli_table_cell(t, "%u", g->orders_improved);
        if (g->level_needed > 0)
            cli_table_cell(t, "%u", g->level_needed);
        else
            cli_table_cell(t, "any"); /* no order asks for a level */
        cli_table_cell(t, "%s", ids);
    }
    cli_table_print(t, stdout);
out:
    jm_esco_destroy(&esco);
    jm_msg_free(&msg);
    return rc;
}

/* ---- assign ---- */

int
cli_cmd_assign(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Assign m = JOBMATCH__V1__ASSIGN__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__AssignmentResult *r;
    char *codes[100], *list = NULL;
    char elapsed[32];
    unsigned long long v;
    jm_msg_t *msg = NULL;
    struct opts o;
    cli_table *t;
    int rc = parse(c, argc, argv, &o, assign_usage);

    if (rc != CLI_OK)
        return rc;
    if (o.help) {
        fputs(assign_usage, stdout);
        return CLI_OK;
    }
    if (o.npos != 0 || o.municipality == NULL)
        return cli_usage_error(c, "%s", assign_usage);
    /* The matcher reads no codes as "every municipality the caller may
     * see", so an empty list or code (an unset shell variable, a stray
     * comma) must not reach it: it would widen the scope, not narrow it.
     * strtok_r would skip empty fields silently; split by hand. */
    if (o.municipality[0] == '\0')
        return cli_usage_error(c,
                               "--municipality needs at least one code "
                               "(the list is empty)\n%s",
                               assign_usage);
    list = jm_xstrdup(o.municipality);
    for (char *code = list, *comma; code != NULL;
         code = comma != NULL ? comma + 1 : NULL) {
        if ((comma = strchr(code, ',')) != NULL)
            *comma = '\0';
        if (code[0] == '\0') {
            rc = cli_usage_error(c,
                                 "--municipality '%s': code %zu is empty "
                                 "(a comma too many?)",
                                 o.municipality,
                                 (size_t) m.n_municipality_codes + 1);
            goto out;
        }
        if (m.n_municipality_codes == 100) {
            rc = cli_usage_error(c, "too many municipalities");
            goto out;
        }
        codes[m.n_municipality_codes++] = code;
    }
    m.municipality_codes = codes;
    m.mode = o.exact ? JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_EXACT
                     : JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_GREEDY;
    if (o.max_per_citizen != NULL) {
        if (!cli_parse_uint(o.max_per_citizen, 100, &v) || v == 0) {
            rc = cli_usage_error(c, "--max-per-citizen needs 1-100");
            goto out;
        }
        m.max_per_citizen = (uint32_t) v;
    }
    if (o.factor != NULL) {
        if (!cli_parse_uint(o.factor, 20, &v) || v == 0) {
            rc = cli_usage_error(c, "--factor needs 1-20");
            goto out;
        }
        m.shortlist_factor = (uint32_t) v;
    }
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ASSIGN;
    req.assign = &m;
    if ((rc = ask(c, &req, JOBMATCH__V1__REPLY__BODY_ASSIGNMENT, &msg,
                  &reply)) != CLI_OK)
        goto out;
    r = reply->assignment;
    if (c->json) {
        print_json(&r->base);
        goto out;
    }
    printf("%s: %zu proposal%s to %u of %u orders, %u citizen%s; total "
           "%.3f\n",
           r->mode == JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_EXACT ? "exact"
                                                                   : "greedy",
           r->n_proposals, r->n_proposals == 1 ? "" : "s", r->orders_served,
           r->orders, r->citizens, r->citizens == 1 ? "" : "s", r->total_score);
    if (r->mode == JOBMATCH__V1__ASSIGN_MODE__ASSIGN_MODE_EXACT)
        printf("greedy %.3f, exact %.3f: greedy is %.2f%% below\n",
               r->greedy_total, r->exact_total, r->gap * 100.0);
    /* Small runs take microseconds: "0.0 ms" would say nothing. */
    if (r->elapsed_us < 1000)
        snprintf(elapsed, sizeof(elapsed), "%lld us",
                 (long long) r->elapsed_us);
    else
        snprintf(elapsed, sizeof(elapsed), "%.1f ms", r->elapsed_us / 1000.0);
    printf("at most %u proposal%s per citizen, Gini %.3f, %s\n",
           r->max_proposals_per_citizen,
           r->max_proposals_per_citizen == 1 ? "" : "s", r->gini, elapsed);
    t = cli_table_new("order", "citizen", ">score", NULL);
    for (size_t i = 0; i < r->n_proposals; i++) {
        cli_table_cell(t, "%s", r->proposals[i]->order_id);
        cli_table_cell(t, "%s", r->proposals[i]->profile_id);
        cli_table_cell(t, "%.3f", r->proposals[i]->score);
    }
    cli_table_print(t, stdout);
out:
    free(list);
    jm_msg_free(&msg);
    return rc;
}

/* ---- matcher ---- */

int
cli_cmd_matcher(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetMatcherStats m = JOBMATCH__V1__GET_MATCHER_STATS__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__MatcherStats *s;
    jm_msg_t *msg = NULL;
    struct opts o;
    cli_table *t;
    int rc = parse(c, argc, argv, &o, matcher_usage);

    if (rc != CLI_OK)
        return rc;
    if (o.npos == 1 && strcmp(o.pos[0], "watch") == 0 &&
        cli_matcher_watch != NULL)
        return cli_matcher_watch(c, o.order, o.count, o.help);
    if (o.help) {
        fputs(matcher_usage, stdout);
        return CLI_OK;
    }
    if (o.npos != 1 || strcmp(o.pos[0], "stats") != 0 || o.order != NULL ||
        o.count != NULL)
        return cli_usage_error(c, "%s", matcher_usage);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS;
    req.get_matcher_stats = &m;
    if ((rc = ask(c, &req, JOBMATCH__V1__REPLY__BODY_MATCHER_STATS, &msg,
                  &reply)) != CLI_OK)
        goto out;
    s = reply->matcher_stats;
    if (c->json) {
        print_json(&s->base);
        goto out;
    }
    printf("%u open orders, %u citizens, %u skills indexed; %llu queries, "
           "%llu events applied\n",
           s->open_orders, s->profiles, s->skills_indexed,
           (unsigned long long) s->queries,
           (unsigned long long) s->events_applied);
    printf("%llu shortlist changes published; %llu new orders' shortlists "
           "computed while their source committed them, %llu of them used\n",
           (unsigned long long) s->shortlists_published,
           (unsigned long long) s->shortlists_precomputed,
           (unsigned long long) s->precomputed_used);
    if (s->stale_shortlists > 0)
        printf("%u shortlists are being recomputed in the background\n",
               s->stale_shortlists);
    if (s->profiles_left_out > 0)
        printf("WARNING: %llu citizens are left out of every answer (the "
               "matcher's limit of\ncitizens; its log names them)\n",
               (unsigned long long) s->profiles_left_out);
    t = cli_table_new("endpoint", "source", ">applied", ">head", "connected",
                      ">snapshots", ">ticks", NULL);
    for (size_t i = 0; i < s->n_sources; i++) {
        const Jobmatch__V1__SourceStatus *x = s->sources[i];

        cli_table_cell(t, "%s", x->endpoint);
        cli_table_cell(t, "%s", x->source);
        cli_table_cell(t, "%llu", (unsigned long long) x->applied_seq);
        cli_table_cell(t, "%llu", (unsigned long long) x->head_seq);
        cli_table_cell(t, "%s", x->connected ? "yes" : "no");
        cli_table_cell(t, "%u", x->snapshots);
        /* "-": no tick socket followed (the matcher only polls). */
        if (x->tick_endpoint[0] != '\0')
            cli_table_cell(t, "%llu", (unsigned long long) x->tick_batches);
        else
            cli_table_cell(t, "-");
    }
    cli_table_print(t, stdout);
    for (size_t i = 0; i < s->n_sources; i++) {
        const Jobmatch__V1__SourceStatus *x = s->sources[i];

        if (x->problem[0] != '\0')
            printf("%s: %s\n", x->endpoint, x->problem);
    }
out:
    jm_msg_free(&msg);
    return rc;
}
