/* node_sample.c - `jobmatch node start --sample`: sample data on the first
 * start of a node directory, then one explained shortlist as a newcomer's
 * welcome (see node.h).
 *
 * The sample is loaded by running this same jobmatch program as a child,
 * `jobmatch --node DIR sample load`, exactly as a user would: the loader
 * then goes through the services' public API like any client, and the
 * node stays responsive (its loop keeps supervising) while it runs. The
 * matcher follows the logs asynchronously, so before showing a shortlist
 * the node waits until the matcher has applied both logs up to their
 * heads: otherwise the welcome would show whatever had arrived so far. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_commands.h"
#include "jm/esco.h"
#include "jm/mem.h"
#include "node.h"

#define CATCH_UP_MS   120000
#define ORDERS_TRIED  50
#define ELIGIBLE_K    200 /* MatchOrder's largest top_k */
#define WELCOME_TOP_K "5"

/* One request; the reply if it has the body wanted, else NULL (the
 * problem has been printed). Caller frees with jm_msg_free. */
static jm_msg_t *
ask(node *n, cli_service s, Jobmatch__V1__Request *req,
    Jobmatch__V1__Reply__BodyCase want)
{
    jm_msg_t *msg = NULL;
    const Jobmatch__V1__Reply *reply;

    if (cli_request(n->c, s, req, &msg) != CLI_OK)
        return NULL;
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if (cli_reply_failed(n->c, reply) != CLI_OK || reply->body_case != want)
        jm_msg_free(&msg);
    return msg;
}

static const Jobmatch__V1__Reply *
reply_of(jm_msg_t *msg)
{
    return (const Jobmatch__V1__Reply *) jm_msg_get(msg);
}

bool
node_sample_marked(const node *n)
{
    char *path = node_path(n->dir, "sample-loaded");
    bool marked = access(path, F_OK) == 0;

    free(path);
    return marked;
}

/* ---- loading ---- */

static bool
loader_done(node *n, void *arg)
{
    (void) arg;
    return node_child_get_state(n->loader) == NODE_CHILD_EXITED;
}

static bool
load(node *n)
{
    const char *const options[][2] = {
        {"--citizens", n->citizens},
        {"--orders", n->orders},
        {"--municipalities", n->municipalities},
    };
    const char *argv[8 + 2 * JM_COUNTOF(options)];
    node_child_opts opts = {
        .name = "sample",
        .argv = argv,
        .setpriv = n->setpriv,
        .stop_timeout_ms = 5000,
    };
    char stamp[32], args[512] = "", text[600], *path;
    char timeout[16] = "", shown_timeout[32] = ""; /* " --timeout MS" */
    size_t k = 0, len = 0;
    bool ok;

    argv[k++] = n->self_exe;
    argv[k++] = "--node";
    argv[k++] = n->dir;
    /* `jobmatch --timeout MS node start` is for a slow machine: the load
     * waits as long for each answer as the node does. */
    if (n->c->timeout_ms != CLI_DEFAULT_TIMEOUT_MS) {
        snprintf(timeout, sizeof(timeout), "%u", n->c->timeout_ms);
        snprintf(shown_timeout, sizeof(shown_timeout), " --timeout %s",
                 timeout);
        argv[k++] = "--timeout";
        argv[k++] = timeout;
    }
    argv[k++] = "sample";
    argv[k++] = "load";
    for (size_t i = 0; i < JM_COUNTOF(options); i++) {
        if (options[i][1] == NULL)
            continue;
        argv[k++] = options[i][0];
        argv[k++] = options[i][1];
        if (len < sizeof(args))
            len += (size_t) snprintf(args + len, sizeof(args) - len, " %s %s",
                                     options[i][0], options[i][1]);
    }
    argv[k] = NULL;
    printf("\nFirst start: loading sample data with `%s%s sample load%s`\n",
           n->prog_node, shown_timeout, args);
    fflush(stdout); /* the loader writes to our stdout too */
    node_note(n, false, "loading the sample");
    node_child_new(&n->loader, n->loop, &opts);
    if (node_child_start(n->loader) != 0) {
        fprintf(stderr, "jobmatch: %s\n", node_child_exit_text(n->loader));
        node_child_destroy(&n->loader);
        return false;
    }
    node_run_until(n, loader_done, NULL);
    ok = !n->stopping && node_child_exit_code(n->loader) == 0;
    if (!ok && !n->stopping) {
        fprintf(stderr,
                "jobmatch: sample load failed (%s); the node runs on without "
                "it. Try again with `%s%s sample load%s`.\n",
                node_child_exit_text(n->loader), n->prog_node, shown_timeout,
                args);
        node_note(n, false, "sample load failed: %s",
                  node_child_exit_text(n->loader));
    }
    node_child_destroy(&n->loader);
    if (!ok)
        return false;
    /* Only a complete load is remembered: a failed one is tried again at
     * the next start. */
    node_time_text(stamp, sizeof(stamp));
    snprintf(text, sizeof(text), "loaded %s by: jobmatch sample load%s\n",
             stamp, args);
    path = node_path(n->dir, "sample-loaded");
    if (cli_write_file(path, text, 0644) != 0)
        node_note(n, true, "cannot write %s", path);
    free(path);
    node_note(n, false, "sample loaded");
    return true;
}

/* ---- waiting for the matcher ---- */

/* True when the matcher has applied the log of service s up to its head. */
static bool
source_applied(node *n, cli_service s, const Jobmatch__V1__MatcherStats *stats)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    jm_msg_t *msg;
    const Jobmatch__V1__Pong *pong;
    bool applied = false;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    if ((msg = ask(n, s, &req, JOBMATCH__V1__REPLY__BODY_PONG)) == NULL)
        return false;
    pong = reply_of(msg)->pong;
    for (size_t i = 0; i < stats->n_sources; i++) {
        const Jobmatch__V1__SourceStatus *src = stats->sources[i];
        bool same = (pong->log_id[0] != '\0' &&
                     strcmp(src->log_id, pong->log_id) == 0) ||
                    strcmp(src->endpoint, n->endpoints[s]) == 0;

        if (same && src->applied_seq >= pong->head_seq)
            applied = true;
    }
    jm_msg_free(&msg);
    return applied;
}

static bool
caught_up(node *n)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetMatcherStats get = JOBMATCH__V1__GET_MATCHER_STATS__INIT;
    jm_msg_t *msg;
    bool done;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS;
    req.get_matcher_stats = &get;
    msg = ask(n, CLI_MATCHER, &req, JOBMATCH__V1__REPLY__BODY_MATCHER_STATS);
    if (msg == NULL)
        return false;
    done = source_applied(n, CLI_INTAKE, reply_of(msg)->matcher_stats) &&
           source_applied(n, CLI_PROFILES, reply_of(msg)->matcher_stats);
    jm_msg_free(&msg);
    return done;
}

static bool
wait_caught_up(node *n)
{
    uint64_t deadline = uv_now(n->loop) + CATCH_UP_MS;

    while (!n->stopping) {
        if (caught_up(n))
            return true;
        if (uv_now(n->loop) >= deadline)
            return false;
        node_pause(n, 100); /* re-check: the matcher pulls on its own */
    }
    return false;
}

/* ---- the welcome ---- */

typedef struct pick {
    char *order_id, *title, *company, *occupation, *postcode, *municipality;
    char *top_profile;
    uint32_t eligible;  /* pass every hard filter */
    bool exact;         /* eligible is the count, not a lower bound */
    uint32_t qualified; /* and have every essential skill at its level */
} pick;

static void
pick_free(pick *p)
{
    free(p->order_id);
    free(p->title);
    free(p->company);
    free(p->occupation);
    free(p->postcode);
    free(p->municipality);
    free(p->top_profile);
}

/* How many citizens meet every requirement of order_id, each essential
 * skill at its level included (the matcher's bottleneck report). */
static uint32_t
qualified(node *n, const char *order_id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrderBottlenecks get =
        JOBMATCH__V1__GET_ORDER_BOTTLENECKS__INIT;
    jm_msg_t *msg;
    uint32_t count;

    get.order_id = (char *) order_id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_BOTTLENECKS;
    req.get_order_bottlenecks = &get;
    msg = ask(n, CLI_MATCHER, &req, JOBMATCH__V1__REPLY__BODY_BOTTLENECKS);
    if (msg == NULL)
        return 0;
    count = reply_of(msg)->bottlenecks->pool;
    jm_msg_free(&msg);
    return count;
}

/* How many citizens pass every hard filter of order_id, and the best one
 * (*top_p, caller frees). The count is exact when the search found fewer
 * than ELIGIBLE_K (docs/matching.md: it prunes only then); else it is at
 * least that, and *exact_p says which. */
static uint32_t
eligible(node *n, const char *order_id, char **top_p, bool *exact_p)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder match = JOBMATCH__V1__MATCH_ORDER__INIT;
    const Jobmatch__V1__CandidateList *list;
    jm_msg_t *msg;
    uint32_t count;

    *top_p = NULL;
    match.order_id = (char *) order_id;
    match.top_k = ELIGIBLE_K;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &match;
    msg = ask(n, CLI_MATCHER, &req, JOBMATCH__V1__REPLY__BODY_CANDIDATES);
    if (msg == NULL)
        return 0;
    list = reply_of(msg)->candidates;
    count = list->n_candidates > 0 ? list->eligible : 0;
    *exact_p = list->n_candidates < ELIGIBLE_K;
    if (count > 0)
        *top_p = jm_xstrdup(list->candidates[0]->profile_id);
    jm_msg_free(&msg);
    return count;
}

/* Among the first open orders, the one with the most eligible citizens:
 * the most telling shortlist to show first. */
static bool
pick_order(node *n, pick *best)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__ListOrders list = JOBMATCH__V1__LIST_ORDERS__INIT;
    const Jobmatch__V1__OrderList *orders;
    jm_msg_t *msg;

    list.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
    list.page_size = ORDERS_TRIED;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS;
    req.list_orders = &list;
    msg = ask(n, CLI_INTAKE, &req, JOBMATCH__V1__REPLY__BODY_ORDER_LIST);
    if (msg == NULL)
        return false;
    orders = reply_of(msg)->order_list;
    for (size_t i = 0; i < orders->n_orders && !n->stopping; i++) {
        const Jobmatch__V1__JobOrder *o = orders->orders[i];
        char *top = NULL;
        bool exact = true;
        uint32_t count = eligible(n, o->id, &top, &exact);

        if (count <= best->eligible) {
            free(top);
            continue;
        }
        pick_free(best);
        *best = (pick){
            .order_id = jm_xstrdup(o->id),
            .title = jm_xstrdup(o->title),
            .company = jm_xstrdup(o->company_name),
            .occupation = jm_xstrdup(o->occupation_uri),
            .postcode = jm_xstrdup(o->workplace ? o->workplace->postcode : ""),
            .municipality = jm_xstrdup(o->owner_municipality),
            .top_profile = top,
            .eligible = count,
            .exact = exact,
        };
    }
    jm_msg_free(&msg);
    if (best->order_id == NULL)
        return false;
    best->qualified = qualified(n, best->order_id);
    return true;
}

/* "warehouse worker" for an ESCO occupation URI, or the URI. Caller
 * frees. */
static char *
occupation_label(const char *uri)
{
    jm_esco_t *esco = NULL;
    char *label;
    int i;

    if (jm_esco_load(&esco, NULL) != 0)
        return jm_xstrdup(uri);
    i = jm_esco_occupation_find(esco, uri);
    label =
        jm_xstrdup(i >= 0 ? jm_esco_occupation_label(esco, (size_t) i) : uri);
    jm_esco_destroy(&esco);
    return label;
}

static void
show_shortlist(node *n, const pick *p)
{
    char *argv[] = {"match",       "order",     p->order_id, "--top",
                    WELCOME_TOP_K, "--explain", NULL};
    char *label = occupation_label(p->occupation);

    printf("\n---------------------------------------------------------------"
           "-------\n"
           "A shortlist to start with\n\n"
           "  job order   %s: %s\n"
           "  company     %s\n"
           "  occupation  %s (ESCO)\n"
           "  workplace   postcode %s, owned by municipality %s\n\n"
           "%s%u citizens pass every hard filter of this order (job kind,\n"
           "hours, start, distance, licences, languages, consent); %u of them\n"
           "also have every essential skill at its level. The best %s,\n"
           "explained (the search stops reading as soon as nobody else could\n"
           "enter them, so it counts fewer):\n\n"
           "$ %s match order %s --top %s --explain\n",
           p->order_id, p->title, p->company, label, p->postcode,
           p->municipality, p->exact ? "" : "At least ", p->eligible,
           p->qualified, WELCOME_TOP_K, n->prog_node, p->order_id,
           WELCOME_TOP_K);
    fflush(stdout);
    free(label);
    if (cli_cmd_match != NULL) {
        /* The matcher's own command renders it, as the user will see it. */
        cli_cmd_match(n->c, (int) JM_COUNTOF(argv) - 1, argv);
    } else {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__MatchOrder match = JOBMATCH__V1__MATCH_ORDER__INIT;
        jm_msg_t *msg;

        match.order_id = p->order_id;
        match.top_k = 5;
        match.explain = true;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
        req.match_order = &match;
        msg = ask(n, CLI_MATCHER, &req, JOBMATCH__V1__REPLY__BODY_CANDIDATES);
        if (msg != NULL)
            cli_print_message(&reply_of(msg)->candidates->base);
        jm_msg_free(&msg);
    }
    fflush(stdout);
}

static void
show_next(node *n, const pick *p)
{
    char get[128], profile[128], gaps[128], assign[128];

    const struct {
        const char *args, *what;
    } next[] = {
        {"order list", "open job orders"},
        {get, "one order in full"},
        {profile, "the best orders for the top candidate"},
        {gaps, "the skills that would unlock more orders for them"},
        {assign, "propose citizens across all open positions"},
        {"matcher stats", "what the matcher holds"},
        {"matcher watch", "shortlists changing live (in a second terminal, "
                          "then submit an order)"},
    };

    snprintf(get, sizeof(get), "order get %s", p->order_id);
    snprintf(profile, sizeof(profile), "match profile %s --explain",
             p->top_profile);
    snprintf(gaps, sizeof(gaps), "gaps profile %s", p->top_profile);
    snprintf(assign, sizeof(assign), "assign --municipality %s",
             p->municipality);
    printf("\nTry next (--json for machine-readable output; --help on every "
           "level):\n");
    for (size_t i = 0; i < JM_COUNTOF(next); i++)
        printf("  %s %s\n      %s\n", n->prog_node, next[i].args, next[i].what);
    printf("  %s node status --data-dir %s\n      is every service up?\n",
           n->prog, n->dir_arg);
    fflush(stdout);
}

void
node_sample(node *n)
{
    pick best = {0};

    if (!n->sample_loaded) {
        if (cli_cmd_sample == NULL) {
            fprintf(stderr, "jobmatch: `jobmatch sample load` is not in this "
                            "build: no sample data\n");
            return;
        }
        if (!load(n))
            return;
        n->sample_loaded = true;
        node_save(n, "running");
    } else {
        printf("\nSample data was loaded at the first start of %s "
               "(%s/sample-loaded).\n",
               n->dir_arg, n->dir_arg);
    }
    printf("Waiting for the matcher to apply both logs...\n");
    fflush(stdout);
    if (!wait_caught_up(n)) {
        if (!n->stopping)
            node_note(n, true,
                      "the matcher has not caught up after %d s; the "
                      "shortlist below may be incomplete",
                      CATCH_UP_MS / 1000);
    }
    if (n->stopping)
        return;
    if (!pick_order(n, &best)) {
        printf("No open job order has eligible citizens yet.\n");
    } else {
        show_shortlist(n, &best);
        show_next(n, &best);
    }
    pick_free(&best);
}
