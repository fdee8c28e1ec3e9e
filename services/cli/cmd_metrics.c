/* cmd_metrics.c - `jobmatch metrics [--out FILE]`: every service's
 * numbers in the Prometheus text format (version 0.0.4), for the
 * monitoring system a municipal operator already runs.
 *
 * One run asks intake (Ping, GetOrderStats), profiles (Ping) and every
 * matcher endpoint given (Ping, GetMatcherStats), all at once and each
 * endpoint once, so a service that is down costs one --timeout, not one
 * per question. A service that does not answer is `jobmatch_up 0`, not a
 * missing file or an empty scrape: that is what an alert looks at. With
 * --out the text replaces FILE through a temporary file and a rename
 * (cli_write_file), as node_exporter's textfile collector wants: it must
 * never read half a file.
 *
 * Exit status: 0 when every service answered every question; 1 when one
 * answered with an error (a key not allowed to read statistics); 3 when
 * one did not answer. The text (and FILE) is written in every case. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "jm/err.h"
#include "jm/mem.h"
#include "jobmatch/v1/intake.pb-c.h"
#include "jobmatch/v1/matcher.pb-c.h"

static const char metrics_usage[] =
    "usage: jobmatch metrics [--out FILE]\n"
    "\n"
    "Asks intake, profiles and every matcher given (--matcher EP,EP) for\n"
    "their numbers and prints them in the Prometheus text format: whether\n"
    "each answered (jobmatch_up), its log head, the orders per municipality\n"
    "and status, and per matcher its index, queries and how far behind each\n"
    "source it is (jobmatch_matcher_source_lag_events). A service that does\n"
    "not answer within --timeout is jobmatch_up 0.\n"
    "\n"
    "  --out FILE   write to FILE instead (through FILE.tmp and a rename, for\n"
    "               node_exporter's textfile collector: FILE ending in .prom)\n"
    "  --json       the same numbers as one JSON document\n"
    "\n"
    "Exit status 0 when every service answered, 1 when one answered an\n"
    "error (e.g. a key not allowed to read statistics: list it as\n"
    "'monitor'), 3 when one did not answer; the output is written in every\n"
    "case. docs/operations.md, \"Metrics\", names every metric and shows\n"
    "the systemd timer that runs this.\n";

/* ---- the metric families, in the order they are printed ---- */

enum family {
    F_UP,
    F_INFO,
    F_HEAD,
    F_ORDERS,
    F_POSITIONS,
    F_HIRES,
    F_FILL_RATE,
    F_MEDIAN_DAYS,
    F_M_ORDERS,
    F_M_PROFILES,
    F_M_SKILLS,
    F_M_QUERIES,
    F_M_EVENTS,
    F_M_STALE,
    F_M_PUBLISHED,
    F_M_PRECOMPUTED,
    F_M_PRECOMPUTED_USED,
    F_M_LEFT_OUT,
    F_S_APPLIED,
    F_S_HEAD,
    F_S_LAG,
    F_S_CONNECTED,
    F_S_SNAPSHOTS,
    F_S_TICKS,
    F_DURATION,
    F_COUNT
};

static const struct {
    const char *name, *type, *help;
} families[F_COUNT] = {
    [F_UP] = {"jobmatch_up", "gauge",
              "Whether the service answered within the timeout (1) or not "
              "(0)."},
    [F_INFO] = {"jobmatch_info", "gauge",
                "The version and log of each service that answered "
                "(always 1)."},
    [F_HEAD] = {"jobmatch_log_head_seq", "gauge",
                "The sequence number of the last committed event in the "
                "service's log: its writes so far."},
    [F_ORDERS] = {"jobmatch_orders", "gauge",
                  "Job orders in intake by owner municipality and status."},
    [F_POSITIONS] = {"jobmatch_positions_open", "gauge",
                     "Positions of the open orders, by owner municipality."},
    [F_HIRES] = {"jobmatch_hires", "gauge",
                 "Hires recorded on filled orders, by owner municipality."},
    [F_FILL_RATE] = {"jobmatch_fill_rate", "gauge",
                     "Filled orders of all closed (filled, withdrawn, "
                     "expired), by owner municipality; absent until one "
                     "closed."},
    [F_MEDIAN_DAYS] = {"jobmatch_median_days_to_fill", "gauge",
                       "Median days from submit to filled, by owner "
                       "municipality; absent until one was filled."},
    [F_M_ORDERS] = {"jobmatch_matcher_open_orders", "gauge",
                    "Open orders in the matcher's index."},
    [F_M_PROFILES] = {"jobmatch_matcher_profiles", "gauge",
                      "Citizens in the matcher's index."},
    [F_M_SKILLS] = {"jobmatch_matcher_skills_indexed", "gauge",
                    "Skills with at least one citizen or order in the "
                    "matcher's index."},
    [F_M_QUERIES] = {"jobmatch_matcher_queries_total", "counter",
                     "Queries the matcher answered since it started."},
    [F_M_EVENTS] = {"jobmatch_matcher_events_applied_total", "counter",
                    "Source events the matcher applied since it started."},
    [F_M_STALE] = {"jobmatch_matcher_stale_shortlists", "gauge",
                   "Live shortlists still to recompute (after a start or a "
                   "change touching many orders); notifications may lag "
                   "until 0."},
    [F_M_PUBLISHED] = {"jobmatch_matcher_shortlists_published_total", "counter",
                       "\"Shortlist changed\" notifications published."},
    [F_M_PRECOMPUTED] = {"jobmatch_matcher_shortlists_precomputed_total",
                         "counter",
                         "New orders' shortlists searched while their "
                         "source was committing them."},
    [F_M_PRECOMPUTED_USED] = {"jobmatch_matcher_precomputed_used_total",
                              "counter",
                              "Of those, the ones used when the order "
                              "arrived."},
    [F_M_LEFT_OUT] = {"jobmatch_matcher_profiles_left_out", "gauge",
                      "Citizens the matcher received but has no room for: "
                      "missing from every answer. Must be 0."},
    [F_S_APPLIED] = {"jobmatch_matcher_source_applied_seq", "gauge",
                     "The last event of the source the matcher applied."},
    [F_S_HEAD] = {"jobmatch_matcher_source_head_seq", "gauge",
                  "The source's log head as the matcher last heard it."},
    [F_S_LAG] = {"jobmatch_matcher_source_lag_events", "gauge",
                 "Events of the source the matcher has not applied yet "
                 "(head - applied)."},
    [F_S_CONNECTED] = {"jobmatch_matcher_source_connected", "gauge",
                       "Whether the matcher follows the source (1) or "
                       "not (0: silent, or it refuses the matcher's "
                       "key)."},
    [F_S_SNAPSHOTS] = {"jobmatch_matcher_source_snapshots_total", "counter",
                       "Snapshots of the source the matcher took (it was "
                       "behind the pruned log, or the log went back)."},
    [F_S_TICKS] = {"jobmatch_matcher_source_tick_batches_total", "counter",
                   "Batches that came with the source's after-commit tick; "
                   "one that stays 0 while applied grows means the matcher "
                   "only polls."},
    [F_DURATION] = {"jobmatch_metrics_duration_seconds", "gauge",
                    "How long this collection took."},
};

#define MAX_LABELS 4

struct sample {
    enum family family;
    size_t target; /* which service answered it: the order printed */
    size_t seq;    /* and within it, the order added */
    const char *keys[MAX_LABELS];
    char *values[MAX_LABELS];
    double value;
};

/* One endpoint of one service, asked its questions. */
struct target {
    struct scrape *scrape;
    size_t index;
    cli_service service;
    char *endpoint;
    jm_rpc_client_t *client;
    bool answered; /* at least one reply came */
    bool silent;   /* a call got no reply */
    bool error;    /* a reply was an Error */
};

struct scrape {
    cli *c;
    struct target *targets;
    size_t ntargets;
    unsigned pending;
    struct sample *samples;
    size_t nsamples, cap;
};

/* Adds a sample of family f with value, labelled by the NULL-ended
 * key, value pairs that follow (the values copied). */
static void
add(struct scrape *s, const struct target *t, enum family f, double value, ...)
{
    struct sample *x;
    va_list ap;
    size_t n = 0;
    const char *key;

    if (s->nsamples == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->samples = jm_xrealloc(s->samples, s->cap * sizeof(*s->samples));
    }
    x = &s->samples[s->nsamples];
    memset(x, 0, sizeof(*x));
    x->family = f;
    x->target = t != NULL ? t->index : s->ntargets;
    x->seq = s->nsamples++;
    x->value = value;
    va_start(ap, value);
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);

        JM_ASSERT(n < MAX_LABELS);
        x->keys[n] = key;
        x->values[n++] = jm_xstrdup(v);
    }
    va_end(ap);
}

/* ---- the answers ---- */

struct call {
    struct target *t;
    Jobmatch__V1__Request__BodyCase asked;
};

static void
took_pong(struct scrape *s, struct target *t, const Jobmatch__V1__Pong *p)
{
    const char *service = cli_service_name(t->service);

    add(s, t, F_INFO, 1, "service", service, "endpoint", t->endpoint, "version",
        p->version, "log_id", p->log_id, NULL);
    /* The matcher has no log of its own. */
    if (p->log_id[0] != '\0')
        add(s, t, F_HEAD, (double) p->head_seq, "service", service, "endpoint",
            t->endpoint, NULL);
}

static void
took_order_stats(struct scrape *s, struct target *t,
                 const Jobmatch__V1__OrderStats *st)
{
    static const char *const statuses[] = {"open", "filled", "withdrawn",
                                           "expired"};

    for (size_t i = 0; i < st->n_municipalities; i++) {
        const Jobmatch__V1__MunicipalityOrderStats *m = st->municipalities[i];
        const char *code = m->municipality_code;
        const uint32_t counts[] = {m->open, m->filled, m->withdrawn,
                                   m->expired};

        for (size_t k = 0; k < JM_COUNTOF(statuses); k++)
            add(s, t, F_ORDERS, counts[k], "municipality", code, "status",
                statuses[k], NULL);
        add(s, t, F_POSITIONS, m->positions_open, "municipality", code, NULL);
        add(s, t, F_HIRES, m->hires, "municipality", code, NULL);
        /* Undefined until an order closed, or one was filled: left out
         * rather than a 0 that reads as "none filled" or "at once". */
        if (m->filled + m->withdrawn + m->expired > 0)
            add(s, t, F_FILL_RATE, m->fill_rate, "municipality", code, NULL);
        if (m->filled > 0)
            add(s, t, F_MEDIAN_DAYS, m->median_days_to_fill, "municipality",
                code, NULL);
    }
}

static void
took_matcher_stats(struct scrape *s, struct target *t,
                   const Jobmatch__V1__MatcherStats *st)
{
    const char *ep = t->endpoint;

    add(s, t, F_M_ORDERS, st->open_orders, "endpoint", ep, NULL);
    add(s, t, F_M_PROFILES, st->profiles, "endpoint", ep, NULL);
    add(s, t, F_M_SKILLS, st->skills_indexed, "endpoint", ep, NULL);
    add(s, t, F_M_QUERIES, (double) st->queries, "endpoint", ep, NULL);
    add(s, t, F_M_EVENTS, (double) st->events_applied, "endpoint", ep, NULL);
    add(s, t, F_M_STALE, st->stale_shortlists, "endpoint", ep, NULL);
    add(s, t, F_M_PUBLISHED, (double) st->shortlists_published, "endpoint", ep,
        NULL);
    add(s, t, F_M_PRECOMPUTED, (double) st->shortlists_precomputed, "endpoint",
        ep, NULL);
    add(s, t, F_M_PRECOMPUTED_USED, (double) st->precomputed_used, "endpoint",
        ep, NULL);
    add(s, t, F_M_LEFT_OUT, (double) st->profiles_left_out, "endpoint", ep,
        NULL);
    for (size_t i = 0; i < st->n_sources; i++) {
        const Jobmatch__V1__SourceStatus *x = st->sources[i];
        /* The head is the last the matcher heard: after a source's
         * restore it may be below what was applied until the matcher
         * catches the change, and a lag is never negative. */
        uint64_t lag =
            x->head_seq > x->applied_seq ? x->head_seq - x->applied_seq : 0;

#define SOURCE_LABELS \
    "endpoint", ep, "source", x->source, "source_endpoint", x->endpoint, NULL
        add(s, t, F_S_APPLIED, (double) x->applied_seq, SOURCE_LABELS);
        add(s, t, F_S_HEAD, (double) x->head_seq, SOURCE_LABELS);
        add(s, t, F_S_LAG, (double) lag, SOURCE_LABELS);
        add(s, t, F_S_CONNECTED, x->connected, SOURCE_LABELS);
        add(s, t, F_S_SNAPSHOTS, x->snapshots, SOURCE_LABELS);
        /* Counted only where ticks are followed: else no sample, as the
         * table's "-" (a 0 would read as "ticks not coming"). */
        if (x->tick_endpoint[0] != '\0')
            add(s, t, F_S_TICKS, (double) x->tick_batches, SOURCE_LABELS);
#undef SOURCE_LABELS
    }
}

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct call *call = arg;
    struct target *t = call->t;
    struct scrape *s = t->scrape;
    cli *c = s->c;

    s->pending--;
    if (status != 0) {
        /* -ECANCELED: the client was closed; said below if need be. */
        t->silent = true;
        free(call);
        return;
    }
    t->answered = true;
    if (reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR) {
        const Jobmatch__V1__Error *e = reply->error;

        fprintf(stderr, "%s: the %s service at %s: %s: %s\n", c->prog,
                cli_service_name(t->service), t->endpoint,
                jm_error_code_name(e->code), e->message);
        t->error = true;
    } else if (call->asked == JOBMATCH__V1__REQUEST__BODY_PING &&
               reply->body_case == JOBMATCH__V1__REPLY__BODY_PONG) {
        took_pong(s, t, reply->pong);
    } else if (call->asked == JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS &&
               reply->body_case == JOBMATCH__V1__REPLY__BODY_ORDER_STATS) {
        took_order_stats(s, t, reply->order_stats);
    } else if (call->asked == JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS &&
               reply->body_case == JOBMATCH__V1__REPLY__BODY_MATCHER_STATS) {
        took_matcher_stats(s, t, reply->matcher_stats);
    } else {
        fprintf(stderr, "%s: the %s service at %s answered something else\n",
                c->prog, cli_service_name(t->service), t->endpoint);
        t->error = true;
    }
    free(call);
}

static void
ask(struct target *t, Jobmatch__V1__Request *req)
{
    struct call *call = jm_xmalloc(sizeof(*call));

    call->t = t;
    call->asked = req->body_case;
    if (jm_rpc_client_call(t->client, req, on_reply, call) != 0) {
        free(call);
        t->silent = true;
        return;
    }
    t->scrape->pending++;
}

/* Sends target t its questions. */
static void
ask_target(struct target *t)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    Jobmatch__V1__GetOrderStats order_stats =
        JOBMATCH__V1__GET_ORDER_STATS__INIT;
    Jobmatch__V1__GetMatcherStats matcher_stats =
        JOBMATCH__V1__GET_MATCHER_STATS__INIT;

    if (cli_client_at(t->scrape->c, t->service, t->endpoint, &t->client) !=
        CLI_OK) {
        t->silent = true;
        return;
    }
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    ask(t, &req);
    if (t->service == CLI_INTAKE) {
        /* Every municipality the caller may see ("" for admin, monitor). */
        req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS;
        req.get_order_stats = &order_stats;
        ask(t, &req);
    } else if (t->service == CLI_MATCHER) {
        req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS;
        req.get_matcher_stats = &matcher_stats;
        ask(t, &req);
    }
}

/* ---- the text ---- */

/* A label value as the format wants it: backslash, double quote and line
 * feed escaped. */
static void
put_label_value(FILE *out, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(out, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
}

static int
sample_cmp(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
print_text(const struct scrape *s, FILE *out)
{
    for (size_t i = 0; i < s->nsamples; i++) {
        const struct sample *x = &s->samples[i];

        if (i == 0 || s->samples[i - 1].family != x->family)
            fprintf(out, "# HELP %s %s\n# TYPE %s %s\n",
                    families[x->family].name, families[x->family].help,
                    families[x->family].name, families[x->family].type);
        fputs(families[x->family].name, out);
        for (size_t k = 0; k < MAX_LABELS && x->keys[k] != NULL; k++) {
            fprintf(out, "%c%s=\"", k == 0 ? '{' : ',', x->keys[k]);
            put_label_value(out, x->values[k]);
            fputc('"', out);
        }
        fputs(x->keys[0] != NULL ? "} " : " ", out);
        /* Counts exactly (every integer below 2^53 is a double), the rest
         * to nine figures. */
        if (x->value == (double) (int64_t) x->value)
            fprintf(out, "%" PRId64 "\n", (int64_t) x->value);
        else
            fprintf(out, "%.9g\n", x->value);
    }
}

static json_t *
to_json(const struct scrape *s)
{
    json_t *doc = json_object(), *list = json_array(), *family = NULL,
           *samples = NULL;

    for (size_t i = 0; i < s->nsamples; i++) {
        const struct sample *x = &s->samples[i];
        json_t *labels = json_object(), *one = json_object();

        if (i == 0 || s->samples[i - 1].family != x->family) {
            family = json_object();
            samples = json_array();
            json_object_set_new(family, "name",
                                json_string(families[x->family].name));
            json_object_set_new(family, "type",
                                json_string(families[x->family].type));
            json_object_set_new(family, "help",
                                json_string(families[x->family].help));
            json_object_set_new(family, "samples", samples);
            json_array_append_new(list, family);
        }
        for (size_t k = 0; k < MAX_LABELS && x->keys[k] != NULL; k++)
            json_object_set_new(labels, x->keys[k], json_string(x->values[k]));
        json_object_set_new(one, "labels", labels);
        json_object_set_new(one, "value", json_real(x->value));
        json_array_append_new(samples, one);
    }
    json_object_set_new(doc, "metrics", list);
    return doc;
}

/* Prints the samples (sorted here) to stdout, or replaces path. */
static int
emit(cli *c, struct scrape *s, const char *path)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out;
    int rc = CLI_OK, err;

    qsort(s->samples, s->nsamples, sizeof(*s->samples), sample_cmp);
    /* Formatted once, then printed or written whole. */
    if ((out = open_memstream(&text, &size)) == NULL)
        return cli_usage_error(c, "cannot format the metrics: %s",
                               strerror(errno));
    if (c->json) {
        json_t *doc = to_json(s);
        char *dump = json_dumps(doc, JSON_INDENT(2));

        fprintf(out, "%s\n", dump != NULL ? dump : "");
        free(dump);
        json_decref(doc);
    } else {
        print_text(s, out);
    }
    fclose(out);
    if (path == NULL) {
        fputs(text, stdout);
        rc = fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
    } else if ((err = cli_write_file(path, text, 0644)) != 0) {
        /* 0644: readable by the monitoring agent's user; the numbers are
         * counts, no personal data. */
        rc = cli_usage_error(c, "cannot write %s: %s", path, jm_strerror(err));
    }
    free(text);
    return rc;
}

int
cli_cmd_metrics(cli *c, int argc, char **argv)
{
    static const cli_service order[] = {CLI_INTAKE, CLI_PROFILES, CLI_MATCHER};
    struct scrape s = {.c = c};
    const char *path = NULL;
    uint64_t started = uv_hrtime();
    int rc = CLI_OK;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(metrics_usage, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc && path == NULL) {
            path = argv[++i];
            continue;
        }
        return cli_usage_error(c, "%s: %s\n%s", argv[i],
                               strcmp(argv[i], "--out") == 0
                                   ? "needs a file, once"
                                   : "unknown argument",
                               metrics_usage);
    }
    for (size_t k = 0; k < JM_COUNTOF(order); k++) {
        char **endpoints;
        size_t n = cli_endpoints(c, order[k], &endpoints);

        s.targets =
            jm_xrealloc(s.targets, (s.ntargets + n) * sizeof(*s.targets));
        for (size_t i = 0; i < n; i++) {
            struct target *t = &s.targets[s.ntargets];

            memset(t, 0, sizeof(*t));
            t->scrape = &s;
            t->index = s.ntargets++;
            t->service = order[k];
            t->endpoint = endpoints[i];
        }
        free(endpoints);
    }
    for (size_t i = 0; i < s.ntargets; i++)
        ask_target(&s.targets[i]);
    while (s.pending > 0)
        uv_run(&c->loop, UV_RUN_ONCE);
    for (size_t i = 0; i < s.ntargets; i++) {
        struct target *t = &s.targets[i];
        bool up = t->answered && !t->silent;

        add(&s, t, F_UP, up, "service", cli_service_name(t->service),
            "endpoint", t->endpoint, NULL);
        if (!up) {
            fprintf(stderr,
                    "%s: the %s service at %s did not answer within "
                    "%u ms\n",
                    c->prog, cli_service_name(t->service), t->endpoint,
                    c->timeout_ms);
            /* A CURVE service drops a key it does not list without a word:
             * a monitor key missing from an allow list looks like an
             * outage, and the journal should say which it is. */
            if (c->curve[t->service].server_key[0] != '\0' &&
                cli_curve_probe(c, t->service, t->endpoint, JM_SOCK_DEALER) ==
                    0)
                fprintf(stderr,
                        "%s: the %s service at %s refused the key %s: add it "
                        "to that service's allow list as 'monitor'\n",
                        c->prog, cli_service_name(t->service), t->endpoint,
                        c->curve[t->service].public_key);
            rc = CLI_UNREACHABLE;
        } else if (t->error && rc == CLI_OK) {
            rc = CLI_ERROR_REPLY;
        }
    }
    add(&s, NULL, F_DURATION, (double) (uv_hrtime() - started) / 1e9, NULL);
    {
        int out = emit(c, &s, path);

        if (out != CLI_OK)
            rc = out;
    }
    for (size_t i = 0; i < s.ntargets; i++) {
        jm_rpc_client_destroy(&s.targets[i].client);
        free(s.targets[i].endpoint);
    }
    for (size_t i = 0; i < s.nsamples; i++)
        for (size_t k = 0; k < MAX_LABELS; k++)
            free(s.samples[i].values[k]);
    free(s.samples);
    free(s.targets);
    return rc;
}
