/* bench_live.c - the matcher as a running service, fed by the real intake
 * and profiles: how fast a submitted order's shortlist is published, and
 * how fast a matcher killed with SIGKILL is back with correct answers.
 *
 * bench/run_live.sh starts intake and profiles, loads them with
 * `jobmatch sample load`, and runs this program with the matcher's command
 * line after "--". This program then:
 *   1. starts the matcher (uv_spawn, stderr scanned for the ready line)
 *      and waits until it has applied both logs up to their heads and
 *      has no live shortlist left to rebuild;
 *   2. submits --orders new orders to intake, one at a time, each timed
 *      from the send to intake's Accepted reply and to the matcher's
 *      ShortlistChanged notification for that order (SUB socket, topic
 *      "shortlist");
 *   3. records the top-20 answers (MatchOrder) of --answers orders, kills
 *      the matcher with SIGKILL, starts it again on the same data
 *      directory, and times the ready line and the first moment all those
 *      answers are identical again (ids and scores).
 *
 *   bench_live --intake EP --profiles EP [--orders N] [--answers K]
 *              [--seed S] [--first I] [--json] -- MATCHER COMMAND LINE...
 *
 * --first: the sample index of the first order submitted (default
 * 100000000); runs against the same intake need ranges of their own,
 * since an order id can be submitted only once. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench_util.h"
#include "jm/bus.h"
#include "jm/esco.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/rpc.h"
#include "jm/sample.h"

#define TOP_K        20
#define WAIT_MS      30000 /* any single wait */
#define NOTIFY_MS    2000 /* an order without a notification by then has none */
#define ORDER_OFFSET 100000000u /* order indexes beyond what was loaded */

struct options {
    const char *intake, *profiles;
    char **matcher_argv;
    size_t orders, answers;
    uint64_t seed, first;
    bool json;
};

/* ---- the matcher process ---- */

struct matcher {
    uv_process_t proc;
    uv_pipe_t err;
    bool running, ready, closing;
    char line[4096];
    size_t len;
    char api[256], publish[256];
    uint64_t ready_ns;
};

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct matcher *m = h->data;

    /* Lines are assembled in m->line; a longer one is cut (not needed). */
    if (m->len >= sizeof(m->line) - 1)
        m->len = 0;
    buf->base = m->line + m->len;
    buf->len = sizeof(m->line) - 1 - m->len;
}

static void
take_endpoint(const char *line, const char *label, char *out, size_t size)
{
    const char *p = strstr(line, label);

    if (p != NULL) {
        p += strlen(label);
        (void) snprintf(out, size, "%.*s", (int) strcspn(p, " \n"), p);
    }
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct matcher *m = s->data;
    char *nl;

    if (n <= 0)
        return;
    m->len += (size_t) n;
    m->line[m->len] = '\0';
    while ((nl = strchr(m->line, '\n')) != NULL) {
        *nl = '\0';
        if (!m->ready && strstr(m->line, ": ready ") != NULL) {
            take_endpoint(m->line, " api=", m->api, sizeof(m->api));
            take_endpoint(m->line, " publish=", m->publish, sizeof(m->publish));
            m->ready = true;
            m->ready_ns = bench_now_ns();
        }
        m->len -= (size_t) (nl + 1 - m->line);
        memmove(m->line, nl + 1, m->len + 1);
    }
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int signal)
{
    struct matcher *m = p->data;

    m->running = false;
}

static void
matcher_start(uv_loop_t *loop, struct matcher *m, char **argv)
{
    uv_process_options_t po = {0};
    uv_stdio_container_t stdio[3];
    int rc;

    memset(m, 0, sizeof(*m));
    uv_pipe_init(loop, &m->err, 0);
    m->err.data = m;
    m->proc.data = m;
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = 2; /* the matcher's stdout: our stderr */
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *) &m->err;
    po.file = argv[0];
    po.args = argv;
    po.stdio = stdio;
    po.stdio_count = 3;
    po.exit_cb = on_exit_cb;
    if ((rc = uv_spawn(loop, &m->proc, &po)) != 0)
        bench_fail("cannot start %s: %s", argv[0], uv_strerror(rc));
    m->running = true;
    uv_read_start((uv_stream_t *) &m->err, on_alloc, on_read);
}

static void
matcher_close(struct matcher *m)
{
    uv_close((uv_handle_t *) &m->proc, NULL);
    uv_close((uv_handle_t *) &m->err, NULL);
}

/* ---- waiting ---- */

static void
on_timeout(uv_timer_t *t)
{
    *(bool *) t->data = true;
}

/* Runs the loop until *flag or ms elapsed; returns *flag. */
static bool
run_until(uv_loop_t *loop, const bool *flag, unsigned ms)
{
    uv_timer_t timer;
    bool expired = false;

    uv_timer_init(loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, on_timeout, ms, 0);
    while (!*flag && !expired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *) &timer, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag;
}

/* ---- one synchronous request ---- */

struct call {
    bool done;
    int status;
    uint64_t done_ns;
    jm_msg_t *reply;
};

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct call *c = arg;
    uint8_t *data;
    size_t size;
    jm_error err;

    c->done = true;
    c->done_ns = bench_now_ns();
    c->status = status;
    if (status != 0)
        return;
    /* Borrowed for the callback only: keep a decoded copy. */
    jm_msg_pack(&reply->base, &data, &size);
    if (jm_msg_unpack(&c->reply, &jobmatch__v1__reply__descriptor, data, size,
                      size + 1, &err) != 0)
        c->status = -EPROTO;
    free(data);
}

static const Jobmatch__V1__Reply *
request(uv_loop_t *loop, jm_rpc_client_t *client, Jobmatch__V1__Request *req,
        struct call *c)
{
    memset(c, 0, sizeof(*c));
    if (jm_rpc_client_call(client, req, on_reply, c) != 0 ||
        !run_until(loop, &c->done, WAIT_MS) || c->status != 0)
        return NULL;
    return (const Jobmatch__V1__Reply *) jm_msg_get(c->reply);
}

static jm_rpc_client_t *
client_for(jm_bus_t *bus, const char *endpoint)
{
    jm_rpc_client_opts opts = {.timeout_ms = 10000, .tries = 1};
    jm_rpc_client_t *c = NULL;

    if (jm_rpc_client_new(&c, bus, &endpoint, 1, &opts) != 0)
        bench_fail("no client for %s", endpoint);
    return c;
}

/* ---- caught up? ---- */

static bool
source_head(uv_loop_t *loop, jm_rpc_client_t *source, char *log_id, size_t size,
            uint64_t *head)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    const Jobmatch__V1__Reply *r;
    struct call c;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    if ((r = request(loop, source, &req, &c)) == NULL ||
        r->body_case != JOBMATCH__V1__REPLY__BODY_PONG)
        bench_fail("a source does not answer Ping");
    (void) snprintf(log_id, size, "%s", r->pong->log_id);
    *head = r->pong->head_seq;
    jm_msg_free(&c.reply);
    return true;
}

/* The matcher's MatcherStats (the reply in c: jm_msg_free(&c->reply)). */
static const Jobmatch__V1__Reply *
matcher_stats(uv_loop_t *loop, jm_rpc_client_t *matcher, struct call *c)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetMatcherStats get = JOBMATCH__V1__GET_MATCHER_STATS__INIT;
    const Jobmatch__V1__Reply *r;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS;
    req.get_matcher_stats = &get;
    if ((r = request(loop, matcher, &req, c)) == NULL ||
        r->body_case != JOBMATCH__V1__REPLY__BODY_MATCHER_STATS)
        bench_fail("the matcher does not answer GetMatcherStats");
    return r;
}

/* True when the matcher has applied both sources up to their heads and
 * has no live shortlist left to recompute (a start rebuilds every list in
 * the background; an order submitted meanwhile would wait behind them, and
 * the figure would time the start, not the live path). */
static bool
caught_up(uv_loop_t *loop, jm_rpc_client_t *matcher,
          jm_rpc_client_t *sources[2])
{
    struct call c;
    const Jobmatch__V1__Reply *r = matcher_stats(loop, matcher, &c);
    bool ok = r->matcher_stats->stale_shortlists == 0;

    for (int s = 0; s < 2 && ok; s++) {
        char log_id[128];
        uint64_t head;
        bool found = false;

        source_head(loop, sources[s], log_id, sizeof(log_id), &head);
        for (size_t i = 0; i < r->matcher_stats->n_sources; i++) {
            const Jobmatch__V1__SourceStatus *st = r->matcher_stats->sources[i];

            if (strcmp(st->log_id, log_id) == 0 && st->applied_seq >= head)
                found = true;
        }
        ok = found;
    }
    jm_msg_free(&c.reply);
    return ok;
}

/* The matcher's counts of new orders' shortlists computed while intake
 * was committing them, and of those used. */
static void
precomputed_counts(uv_loop_t *loop, jm_rpc_client_t *matcher, uint64_t *made,
                   uint64_t *used)
{
    struct call c;
    const Jobmatch__V1__Reply *r = matcher_stats(loop, matcher, &c);

    *made = r->matcher_stats->shortlists_precomputed;
    *used = r->matcher_stats->precomputed_used;
    jm_msg_free(&c.reply);
}

static void
wait_caught_up(uv_loop_t *loop, jm_rpc_client_t *matcher,
               jm_rpc_client_t *sources[2])
{
    uint64_t deadline = bench_now_ns() + 600 * 1000000000ull;

    while (!caught_up(loop, matcher, sources)) {
        bool never = false;

        if (bench_now_ns() > deadline)
            bench_fail("the matcher did not catch up within 10 minutes");
        (void) run_until(loop, &never, 50); /* poll every 50 ms */
    }
}

/* ---- order submitted -> shortlist published ---- */

struct watch {
    char order_id[128]; /* the order whose notification is awaited */
    bool notified;
    uint64_t notified_ns;
    size_t candidates; /* in the notification */
};

static void
on_shortlist(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct watch *w = arg;
    Jobmatch__V1__ShortlistChanged *sc;
    jm_msg_t *m = NULL;
    jm_error err;

    if (jm_msg_unpack(&m, &jobmatch__v1__shortlist_changed__descriptor,
                      msg->data, msg->size, msg->size + 1, &err) != 0)
        return;
    sc = (Jobmatch__V1__ShortlistChanged *) jm_msg_get(m);
    if (!w->notified && strcmp(sc->order_id, w->order_id) == 0) {
        w->notified = true;
        w->notified_ns = bench_now_ns();
        w->candidates = sc->n_profile_ids;
    }
    jm_msg_free(&m);
}

struct latency {
    double *to_published, *to_accepted, *accepted_to_published;
    size_t n, silent;
};

/* Submits order index and waits for its Accepted reply and its
 * notification. Returns false if the order has no candidates (its
 * notification is an empty list, or none came): the latency is that of
 * orders with a shortlist, as it was measured before empty first lists
 * were published. */
static bool
submit_one(uv_loop_t *loop, jm_rpc_client_t *intake, jm_sample_t *sample,
           uint64_t index, struct watch *w, double out[3])
{
    jm_sample_order *o = jm_sample_order_new(sample, index);
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    struct call c = {0};
    uint64_t t0;
    bool ok;

    (void) snprintf(w->order_id, sizeof(w->order_id), "%s", o->order.id);
    w->notified = false;
    submit.order = &o->order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &submit;
    t0 = bench_now_ns();
    if (jm_rpc_client_call(intake, &req, on_reply, &c) != 0 ||
        !run_until(loop, &c.done, WAIT_MS) || c.status != 0)
        bench_fail("intake did not answer SubmitOrder");
    if (((const Jobmatch__V1__Reply *) jm_msg_get(c.reply))->body_case !=
        JOBMATCH__V1__REPLY__BODY_ACCEPTED)
        bench_fail("intake refused order %s", o->order.id);
    ok = run_until(loop, &w->notified, NOTIFY_MS) && w->candidates > 0;
    if (ok) {
        out[0] = (double) (w->notified_ns - t0) / 1e6;
        out[1] = (double) (c.done_ns - t0) / 1e6;
        out[2] = ((double) w->notified_ns - (double) c.done_ns) / 1e6;
    }
    jm_msg_free(&c.reply);
    jm_sample_order_destroy(&o);
    return ok;
}

static void
measure_live(uv_loop_t *loop, jm_bus_t *bus, const struct options *o,
             jm_rpc_client_t *intake, const char *publish, struct latency *lat)
{
    jm_sock_opts sopts = {.subscribe = "shortlist"};
    jm_sample_opts gopts = {.seed = o->seed, .skills = JM_SAMPLE_SKILLS_ZIPF};
    jm_esco_t *esco = NULL;
    jm_sample_t *sample = NULL;
    jm_sock_t *sub = NULL;
    struct watch w = {0};
    double t[3];

    if (jm_esco_load(&esco, NULL) != 0 ||
        jm_sample_new(&sample, esco, &gopts) != 0)
        bench_fail("cannot load ESCO");
    if (jm_sock_new(&sub, bus, JM_SOCK_SUB, &sopts, on_shortlist, &w) != 0 ||
        jm_sock_connect(sub, publish) != 0)
        bench_fail("cannot subscribe to %s", publish);
    /* A SUB socket misses what is published while it joins: the first
     * orders only make sure the subscription is in place. */
    for (uint64_t i = 0; i < 5; i++)
        (void) submit_one(loop, intake, sample, o->first + i, &w, t);
    lat->to_published = jm_xcalloc(o->orders, sizeof(double));
    lat->to_accepted = jm_xcalloc(o->orders, sizeof(double));
    lat->accepted_to_published = jm_xcalloc(o->orders, sizeof(double));
    for (uint64_t i = 0; i < o->orders; i++) {
        if (!submit_one(loop, intake, sample, o->first + 5 + i, &w, t)) {
            lat->silent++;
            continue;
        }
        lat->to_published[lat->n] = t[0];
        lat->to_accepted[lat->n] = t[1];
        lat->accepted_to_published[lat->n++] = t[2];
    }
    jm_sock_close(&sub);
    jm_sample_destroy(&sample);
    jm_esco_destroy(&esco);
}

/* ---- kill -9 and back ---- */

struct answer {
    size_t n;
    char ids[TOP_K][32];
    double scores[TOP_K];
};

/* The top 20 of an order; false if the matcher did not answer with a list. */
static bool
ask(uv_loop_t *loop, jm_rpc_client_t *matcher, const char *order_id,
    struct answer *a)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder mo = JOBMATCH__V1__MATCH_ORDER__INIT;
    const Jobmatch__V1__Reply *r;
    struct call c;
    bool ok;

    mo.order_id = (char *) order_id;
    mo.top_k = TOP_K;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &mo;
    r = request(loop, matcher, &req, &c);
    ok = r != NULL && r->body_case == JOBMATCH__V1__REPLY__BODY_CANDIDATES;
    if (ok) {
        a->n = r->candidates->n_candidates < TOP_K ? r->candidates->n_candidates
                                                   : TOP_K;
        for (size_t i = 0; i < a->n; i++) {
            (void) snprintf(a->ids[i], sizeof(a->ids[i]), "%s",
                            r->candidates->candidates[i]->profile_id);
            a->scores[i] = r->candidates->candidates[i]->score;
        }
    }
    jm_msg_free(&c.reply);
    return ok;
}

static bool
same_answer(const struct answer *a, const struct answer *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->ids[i], b->ids[i]) != 0 || a->scores[i] != b->scores[i])
            return false;
    }
    return true;
}

struct restart {
    double ready_ms, correct_ms;
    size_t rounds;
};

static void
measure_restart(uv_loop_t *loop, jm_bus_t *bus, const struct options *o,
                struct matcher *m, jm_rpc_client_t **matcher,
                struct restart *out)
{
    struct answer *before = jm_xcalloc(o->answers, sizeof(*before));
    struct answer now;
    bool all = false;
    uint64_t t0;

    for (size_t i = 0; i < o->answers; i++) {
        char id[64];

        (void) snprintf(id, sizeof(id), "sample-%llu-%zu",
                        (unsigned long long) o->seed, i);
        if (!ask(loop, *matcher, id, &before[i]))
            bench_fail("no answer for order %s before the kill", id);
    }
    jm_rpc_client_destroy(matcher);
    uv_process_kill(&m->proc, SIGKILL);
    while (m->running)
        uv_run(loop, UV_RUN_ONCE);
    matcher_close(m);
    uv_run(loop, UV_RUN_NOWAIT);

    t0 = bench_now_ns();
    matcher_start(loop, m, o->matcher_argv);
    if (!run_until(loop, &m->ready, WAIT_MS))
        bench_fail("the matcher did not restart within %u ms", WAIT_MS);
    out->ready_ms = (double) (m->ready_ns - t0) / 1e6;
    *matcher = client_for(bus, m->api);
    /* Ask again and again until every answer is the one from before. */
    while (!all) {
        if (bench_now_ns() - t0 > (uint64_t) WAIT_MS * 1000000u)
            bench_fail("answers still differ %u ms after the restart", WAIT_MS);
        all = true;
        out->rounds++;
        for (size_t i = 0; i < o->answers && all; i++) {
            char id[64];

            (void) snprintf(id, sizeof(id), "sample-%llu-%zu",
                            (unsigned long long) o->seed, i);
            all =
                ask(loop, *matcher, id, &now) && same_answer(&now, &before[i]);
        }
    }
    out->correct_ms = (double) (bench_now_ns() - t0) / 1e6;
    free(before);
}

/* ---- main ---- */

static void
parse(int argc, char **argv, struct options *o)
{
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";

        if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(argv[i], "--intake") == 0)
            o->intake = v;
        else if (strcmp(argv[i], "--profiles") == 0)
            o->profiles = v;
        else if (strcmp(argv[i], "--orders") == 0)
            o->orders = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--answers") == 0)
            o->answers = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--first") == 0)
            o->first = strtoull(v, NULL, 10);
        else
            break;
        i++;
    }
    if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc ||
        o->intake == NULL || o->profiles == NULL || o->answers == 0)
        bench_fail("usage: bench_live --intake EP --profiles EP [--orders N] "
                   "[--answers K] [--seed S] [--first I] [--json] -- "
                   "MATCHER ARGS...");
    o->matcher_argv = argv + i + 1;
}

int
main(int argc, char **argv)
{
    struct options o = {
        .orders = 1000, .answers = 20, .seed = 1, .first = ORDER_OFFSET};
    struct latency lat = {0};
    struct restart rs = {0};
    struct matcher m;
    jm_rpc_client_t *sources[2], *matcher;
    jm_bus_t *bus = NULL;
    uv_loop_t loop;
    char machine[256];
    uint64_t pre_made, pre_used;

    jm_log_set_level(JM_LOG_WARN);
    parse(argc, argv, &o);
    bench_machine(machine, sizeof(machine));
    uv_loop_init(&loop);
    if (jm_bus_new(&bus, &loop) != 0)
        bench_fail("no bus");
    sources[0] = client_for(bus, o.intake);
    sources[1] = client_for(bus, o.profiles);

    matcher_start(&loop, &m, o.matcher_argv);
    if (!run_until(&loop, &m.ready, WAIT_MS))
        bench_fail("the matcher did not become ready");
    matcher = client_for(bus, m.api);
    wait_caught_up(&loop, matcher, sources);
    measure_live(&loop, bus, &o, sources[0], m.publish, &lat);
    wait_caught_up(&loop, matcher, sources);
    precomputed_counts(&loop, matcher, &pre_made, &pre_used);
    measure_restart(&loop, bus, &o, &m, &matcher, &rs);

    if (o.json)
        printf("{\"orders\":%zu,\"silent\":%zu,"
               "\"published_p50_ms\":%.3f,\"published_p99_ms\":%.3f,"
               "\"accepted_p50_ms\":%.3f,\"accepted_p99_ms\":%.3f,"
               "\"after_accept_p50_ms\":%.3f,\"after_accept_p99_ms\":%.3f,"
               "\"precomputed\":%llu,\"precomputed_used\":%llu,"
               "\"restart_ready_ms\":%.1f,\"restart_correct_ms\":%.1f}\n",
               lat.n, lat.silent, bench_percentile(lat.to_published, lat.n, 50),
               bench_percentile(lat.to_published, lat.n, 99),
               bench_percentile(lat.to_accepted, lat.n, 50),
               bench_percentile(lat.to_accepted, lat.n, 99),
               bench_percentile(lat.accepted_to_published, lat.n, 50),
               bench_percentile(lat.accepted_to_published, lat.n, 99),
               (unsigned long long) pre_made, (unsigned long long) pre_used,
               rs.ready_ms, rs.correct_ms);
    else {
        printf("machine: %s\n", machine);
        printf("orders submitted one at a time: %zu with a shortlist, %zu "
               "without (an empty one, or no notification)\n",
               lat.n, lat.silent);
        printf("submit -> shortlist published   p50 %.3f ms  p99 %.3f ms\n",
               bench_percentile(lat.to_published, lat.n, 50),
               bench_percentile(lat.to_published, lat.n, 99));
        printf("submit -> intake accepted       p50 %.3f ms  p99 %.3f ms\n",
               bench_percentile(lat.to_accepted, lat.n, 50),
               bench_percentile(lat.to_accepted, lat.n, 99));
        printf("accepted -> published           p50 %.3f ms  p99 %.3f ms\n",
               bench_percentile(lat.accepted_to_published, lat.n, 50),
               bench_percentile(lat.accepted_to_published, lat.n, 99));
        printf("shortlists computed while intake committed the order: %llu, "
               "used: %llu\n",
               (unsigned long long) pre_made, (unsigned long long) pre_used);
        printf("kill -9, restart: ready line after %.1f ms, all %zu answers "
               "identical after %.1f ms (%zu rounds of queries)\n",
               rs.ready_ms, o.answers, rs.correct_ms, rs.rounds);
    }

    jm_rpc_client_destroy(&matcher);
    jm_rpc_client_destroy(&sources[0]);
    jm_rpc_client_destroy(&sources[1]);
    uv_process_kill(&m.proc, SIGTERM);
    while (m.running)
        uv_run(&loop, UV_RUN_ONCE);
    matcher_close(&m);
    jm_bus_destroy(&bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(lat.to_published);
    free(lat.to_accepted);
    free(lat.accepted_to_published);
    return 0;
}
