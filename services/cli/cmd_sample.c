/* cmd_sample.c - `jobmatch sample load`: generate citizens and job orders
 * from the ESCO classification and the Danish postcodes (jm/sample.h) and
 * submit them through profiles and intake, many requests in flight.
 *
 * Each citizen is a PutProfile, followed by a RecordProgress per
 * progression measurement once its pseudonymous id is known; each order is
 * a SubmitOrder. Up to --window requests are outstanding at once (the
 * services group-commit what arrives in one loop turn, so a window is what
 * makes a load fast).
 *
 * Request ids are derived from the seed, the options and the item, so a
 * load that is run again (after a crash, or by `node start --sample` on a
 * restart) is answered from the services' idempotency records instead of
 * creating anything twice; an order id that already exists (after those
 * records expired) counts as already loaded too. Retryable errors
 * (UNAVAILABLE) are resent with the same request id after a pause. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_commands.h"
#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/err.h"
#include "jm/esco.h"
#include "jm/mem.h"
#include "jm/sample.h"

#define MAX_MUNICIPALITIES 98
#define MAX_ATTEMPTS       5
#define TICK_MS            100
#define ERRORS_SHOWN       5

enum job_kind { JOB_CITIZEN = 1, JOB_ORDER = 2 };

struct loader;

/* One citizen or order on its way through the services. */
struct job {
    struct loader *loader;
    enum job_kind kind;
    uint64_t index;
    jm_sample_citizen *citizen;
    jm_sample_order *order;
    size_t step; /* citizen: 0 PutProfile, k: measurement k-1 */
    char *profile_id;
    unsigned attempts;
    struct job *next_retry;
};

struct loader {
    cli *c;
    jm_sample_t *sample;
    jm_rpc_client_t *client[2]; /* profiles, intake */
    uint64_t id_key;            /* request ids: seed + options + day */
    uint64_t citizens, orders;  /* wanted */
    uint64_t next_citizen, next_order;
    unsigned window, in_flight;
    struct job *retry;
    uv_timer_t tick;
    bool tty, unreachable;
    uint64_t started_ns, drawn_ns;
    /* outcomes */
    uint64_t citizens_done, orders_done, measurements, existing, failed;
    unsigned errors_shown;
};

static void send_job(struct job *job);

static void
usage(FILE *out)
{
    fprintf(
        out,
        "usage: jobmatch sample load [--citizens N] [--orders M]\n"
        "                            [--municipalities CODES] [--seed S]\n"
        "                            [--occupations K] [--skills "
        "esco|zipf]\n"
        "                            [--window W]\n"
        "\n"
        "Generates citizens and job orders from real reference data and\n"
        "submits them through the profiles and intake services:\n"
        "occupations and their essential and optional skills from the\n"
        "ESCO classification, homes and workplaces at real Danish\n"
        "postcodes, fake but plausible Danish names, valid CPR and CVR\n"
        "numbers, e-mail addresses at example.dk.\n"
        "\n"
        "  --citizens N        citizens to create (default 500)\n"
        "  --orders M          job orders to create (default 100)\n"
        "  --municipalities L  only these municipalities: codes or names,\n"
        "                      comma-separated (\"101,147\"); default all\n"
        "  --seed S            the same seed gives the same data "
        "(default 1)\n"
        "  --occupations K     draw from K ESCO occupations (default\n"
        "                      citizens/8, 20-400): fewer occupations,\n"
        "                      more citizens per order\n"
        "  --skills MODE       esco (skills of the occupation, default) "
        "or\n"
        "                      zipf (Zipf over all ESCO skills, for "
        "benchmarks)\n"
        "  --window W          requests in flight (default 64)\n"
        "\n"
        "Loading the same options again changes nothing (request ids are\n"
        "derived from them). The seed names the people and the orders\n"
        "(CPR numbers, order ids sample-SEED-N): the same seed with other\n"
        "options updates those citizens with the new data and skips the\n"
        "orders whose ids exist; give another --seed for a second, separate\n"
        "set. A progress bar goes to stderr on a terminal;\n"
        "--json prints {citizens, orders, failed, seconds, ...}.\n"
        "\n"
        "This service uses the ESCO classification of the European "
        "Commission.\n");
}

/* ---- request ids ---- */

static void
request_id(const struct loader *l, const struct job *job, uint8_t id[16])
{
    uint64_t a = jm_sample_mix(l->id_key ^ ((uint64_t) job->kind << 56));
    uint64_t b = jm_sample_mix(a ^ jm_sample_mix(job->index) ^
                               ((uint64_t) job->step << 40));

    for (int i = 0; i < 8; i++) {
        id[i] = (uint8_t) (a >> (8 * i));
        id[8 + i] = (uint8_t) (b >> (8 * i));
    }
}

/* ---- progress ---- */

static double
elapsed_s(const struct loader *l)
{
    return (double) (uv_hrtime() - l->started_ns) / 1e9;
}

static void
draw_bar(struct loader *l, bool final)
{
    uint64_t total = l->citizens + l->orders;
    uint64_t done = l->citizens_done + l->orders_done + l->failed;
    unsigned filled = total ? (unsigned) (done * 30 / total) : 30;
    char bar[31];

    if (!l->tty)
        return;
    memset(bar, '#', filled);
    memset(bar + filled, '.', 30 - filled);
    bar[30] = '\0';
    fprintf(stderr,
            "\r[%s] %3u%%  citizens %llu/%llu  orders %llu/%llu  "
            "failed %llu ",
            bar, total ? (unsigned) (done * 100 / total) : 100,
            (unsigned long long) l->citizens_done,
            (unsigned long long) l->citizens,
            (unsigned long long) l->orders_done, (unsigned long long) l->orders,
            (unsigned long long) l->failed);
    if (final)
        fputc('\n', stderr);
    l->drawn_ns = uv_hrtime();
}

/* ---- jobs ---- */

static bool
finished(const struct loader *l)
{
    bool more = !l->unreachable &&
                (l->next_citizen < l->citizens || l->next_order < l->orders);

    return !more && l->in_flight == 0 && l->retry == NULL;
}

static void
job_free(struct job *job)
{
    jm_sample_citizen_destroy(&job->citizen);
    jm_sample_order_destroy(&job->order);
    free(job->profile_id);
    free(job);
}

/* Starts new jobs while the window has room: orders and citizens
 * alternate, so that both services work at once. */
static void
fill_window(struct loader *l)
{
    while (!l->unreachable && l->in_flight < l->window &&
           (l->next_citizen < l->citizens || l->next_order < l->orders)) {
        struct job *job = jm_xcalloc(1, sizeof(*job));
        bool citizen =
            l->next_citizen < l->citizens &&
            (l->next_order >= l->orders ||
             l->next_citizen * l->orders <= l->next_order * l->citizens);

        job->loader = l;
        if (citizen) {
            job->kind = JOB_CITIZEN;
            job->index = l->next_citizen++;
            job->citizen = jm_sample_citizen_new(l->sample, job->index);
        } else {
            job->kind = JOB_ORDER;
            job->index = l->next_order++;
            job->order = jm_sample_order_new(l->sample, job->index);
        }
        send_job(job);
    }
}

static void
report_error(struct loader *l, const struct job *job,
             const Jobmatch__V1__Error *e)
{
    if (l->errors_shown++ >= ERRORS_SHOWN)
        return;
    if (l->tty)
        fputc('\n', stderr);
    fprintf(stderr, "%s: %s %llu%s: %s%s%s: %s\n", l->c->prog,
            job->kind == JOB_CITIZEN ? "citizen" : "order",
            (unsigned long long) job->index,
            job->step > 0 ? " (progress measurement)" : "",
            jm_error_code_name(e->code), e->field_path[0] ? " " : "",
            e->field_path, e->message);
}

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct job *job = arg;
    struct loader *l = job->loader;
    const Jobmatch__V1__Error *e;

    l->in_flight--;
    if (status != 0) {
        /* The client tried every endpoint: the service is down. */
        cli_service service =
            job->kind == JOB_CITIZEN ? CLI_PROFILES : CLI_INTAKE;

        if (!l->unreachable && status != -ECANCELED)
            fprintf(stderr,
                    "%s%s: the %s service at %s did not answer within %u ms "
                    "(%s)\n",
                    l->tty ? "\n" : "", l->c->prog,
                    service == CLI_PROFILES ? "profiles" : "intake",
                    l->c->endpoints[service], l->c->timeout_ms,
                    jm_strerror(status));
        l->unreachable = true;
        job_free(job);
        return;
    }
    if (reply->body_case == JOBMATCH__V1__REPLY__BODY_ACCEPTED) {
        if (reply->duplicate && job->step == 0)
            l->existing++;
        if (job->kind == JOB_CITIZEN && job->step == 0)
            job->profile_id = jm_xstrdup(reply->accepted->id);
        l->measurements += job->step > 0;
        job->attempts = 0;
        if (job->kind == JOB_CITIZEN &&
            job->step++ < job->citizen->progress_count) {
            send_job(job);
            return;
        }
        if (job->kind == JOB_CITIZEN)
            l->citizens_done++;
        else
            l->orders_done++;
        job_free(job);
        fill_window(l);
        return;
    }
    e = reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR ? reply->error
                                                            : NULL;
    if (e != NULL && e->retryable && ++job->attempts < MAX_ATTEMPTS) {
        job->next_retry = l->retry; /* resent by the next tick */
        l->retry = job;
        return;
    }
    if (e != NULL && job->kind == JOB_ORDER && e->code == JM_E_CONFLICT &&
        job->step == 0) {
        /* The order id exists: loaded before, its request record gone. */
        l->existing++;
        l->orders_done++;
    } else {
        static const Jobmatch__V1__Error unexpected = {.code = JM_E_MALFORMED,
                                                       .field_path = "",
                                                       .message =
                                                           "unexpected reply"};

        report_error(l, job, e != NULL ? e : &unexpected);
        l->failed++;
    }
    job_free(job);
    fill_window(l);
}

static void
send_job(struct job *job)
{
    struct loader *l = job->loader;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__PutProfile put = JOBMATCH__V1__PUT_PROFILE__INIT;
    Jobmatch__V1__RecordProgress progress = JOBMATCH__V1__RECORD_PROGRESS__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    jm_rpc_client_t *client;
    uint8_t id[16];
    int rc;

    request_id(l, job, id);
    req.request_id.data = id;
    req.request_id.len = sizeof(id);
    if (job->kind == JOB_ORDER) {
        submit.order = &job->order->order;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
        req.submit_order = &submit;
        client = l->client[1];
    } else if (job->step == 0) {
        put.personal = &job->citizen->personal;
        put.profile = &job->citizen->profile;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
        req.put_profile = &put;
        client = l->client[0];
    } else {
        progress.profile_id = job->profile_id;
        progress.measurement = job->citizen->progress[job->step - 1];
        req.body_case = JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS;
        req.record_progress = &progress;
        client = l->client[0];
    }
    if ((rc = jm_rpc_client_call(client, &req, on_reply, job)) != 0) {
        fprintf(stderr, "%s: cannot send: %s\n", l->c->prog, jm_strerror(rc));
        l->unreachable = true;
        job_free(job);
        return;
    }
    l->in_flight++;
}

static void
on_tick(uv_timer_t *timer)
{
    struct loader *l = timer->data;
    struct job *retry = l->retry;

    l->retry = NULL;
    while (retry != NULL) {
        struct job *next = retry->next_retry;

        if (l->unreachable)
            job_free(retry);
        else
            send_job(retry);
        retry = next;
    }
    draw_bar(l, false);
}

/* ---- options ---- */

struct options {
    unsigned long long citizens, orders, seed, occupations, window;
    const char *municipalities[MAX_MUNICIPALITIES];
    size_t municipality_count;
    jm_sample_skills skills;
    char *municipality_text;
};

/* "101,Frederiksberg" -> codes. Returns false after printing the bad one. */
static bool
parse_municipalities(cli *c, struct options *o, char *text)
{
    for (char *item = strtok(text, ","); item != NULL;
         item = strtok(NULL, ",")) {
        const jm_dk_municipality *m = jm_dk_municipality_find(item);

        for (size_t i = 0; m == NULL && i < jm_dk_municipality_count(); i++) {
            if (strcmp(jm_dk_municipality_at(i)->name, item) == 0)
                m = jm_dk_municipality_at(i);
        }
        if (m == NULL) {
            cli_usage_error(c,
                            "unknown municipality '%s' (a 3-digit code "
                            "such as 101, or a name such as Aarhus)",
                            item);
            return false;
        }
        if (o->municipality_count == MAX_MUNICIPALITIES) {
            cli_usage_error(c, "more municipalities than Denmark has");
            return false;
        }
        o->municipalities[o->municipality_count++] = m->code;
    }
    return true;
}

static int
parse_options(cli *c, int argc, char **argv, struct options *o)
{
    static const struct {
        const char *name;
        size_t offset;
        unsigned long long min, max;
    } numbers[] = {
        {"--citizens", offsetof(struct options, citizens), 0, 10000000},
        {"--orders", offsetof(struct options, orders), 0, 10000000},
        {"--seed", offsetof(struct options, seed), 0, UINT64_MAX},
        {"--occupations", offsetof(struct options, occupations), 1, 3007},
        {"--window", offsetof(struct options, window), 1, 4096},
    };

    for (int i = 2; i < argc; i++) {
        bool taken = false;

        if (i + 1 >= argc)
            return cli_usage_error(c,
                                   "%s needs a value (see jobmatch sample "
                                   "load --help)",
                                   argv[i]);
        for (size_t k = 0; k < JM_COUNTOF(numbers) && !taken; k++) {
            unsigned long long *v =
                (unsigned long long *) ((char *) o + numbers[k].offset);

            if (strcmp(argv[i], numbers[k].name) != 0)
                continue;
            if (!cli_parse_uint(argv[i + 1], numbers[k].max, v) ||
                *v < numbers[k].min)
                return cli_usage_error(c, "%s needs a number from %llu to %llu",
                                       argv[i], numbers[k].min, numbers[k].max);
            taken = true;
        }
        if (!taken && strcmp(argv[i], "--municipalities") == 0) {
            free(o->municipality_text);
            o->municipality_text = jm_xstrdup(argv[i + 1]);
            o->municipality_count = 0;
            if (!parse_municipalities(c, o, o->municipality_text))
                return CLI_USAGE;
            taken = true;
        }
        if (!taken && strcmp(argv[i], "--skills") == 0) {
            if (strcmp(argv[i + 1], "esco") != 0 &&
                strcmp(argv[i + 1], "zipf") != 0)
                return cli_usage_error(c, "--skills is esco or zipf");
            o->skills = argv[i + 1][0] == 'z' ? JM_SAMPLE_SKILLS_ZIPF
                                              : JM_SAMPLE_SKILLS_ESCO;
            taken = true;
        }
        if (!taken)
            return cli_usage_error(c,
                                   "unknown option '%s' (see jobmatch "
                                   "sample load --help)",
                                   argv[i]);
        i++;
    }
    return CLI_OK;
}

/* ---- the command ---- */

static void
on_tick_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void
print_summary(const struct loader *l)
{
    double seconds = elapsed_s(l);

    if (l->c->json) {
        cli_print_json(json_pack("{s:I, s:I, s:I, s:f, s:I, s:I}", "citizens",
                                 (json_int_t) l->citizens_done, "orders",
                                 (json_int_t) l->orders_done, "failed",
                                 (json_int_t) l->failed, "seconds",
                                 round(seconds * 1000) / 1000, "measurements",
                                 (json_int_t) l->measurements, "already_loaded",
                                 (json_int_t) l->existing));
        return;
    }
    printf("loaded %llu citizens (%llu progress measurements) and %llu job "
           "orders in %.1f s",
           (unsigned long long) l->citizens_done,
           (unsigned long long) l->measurements,
           (unsigned long long) l->orders_done, seconds);
    if (l->existing > 0)
        printf(", %llu of them there before (same seed)",
               (unsigned long long) l->existing);
    printf("; %llu failed\n", (unsigned long long) l->failed);
}

/* What makes request ids differ between loads that generate different
 * data: the generator's inputs, and the day (dates are relative to it). */
static uint64_t
options_key(const struct options *o, int32_t today)
{
    uint64_t h = jm_sample_mix(o->seed);

    h = jm_sample_mix(h ^ o->occupations) ^ (uint64_t) o->skills;
    h = jm_sample_mix(h ^ (uint64_t) today);
    for (size_t i = 0; i < o->municipality_count; i++)
        h = jm_sample_mix(h ^ strtoull(o->municipalities[i], NULL, 10));
    return h;
}

static int
run_load(cli *c, struct options *o)
{
    jm_sample_opts sopts = {0};
    jm_esco_t *esco = NULL;
    struct loader *l = jm_xcalloc(1, sizeof(*l));
    char *dir = jm_esco_default_dir();
    int rc;

    l->c = c;
    l->citizens = o->citizens;
    l->orders = o->orders;
    l->window = (unsigned) o->window;
    l->tty = isatty(STDERR_FILENO) == 1;
    if (jm_esco_load(&esco, dir) != 0) {
        rc = cli_usage_error(c,
                             "cannot load the ESCO data from %s (set "
                             "JOBMATCH_DATA_DIR to the directory holding "
                             "esco/)",
                             dir);
        goto out;
    }
    if (o->occupations == 0 && o->skills == JM_SAMPLE_SKILLS_ESCO) {
        o->occupations = o->citizens / 8;
        o->occupations = o->occupations < 20    ? 20
                         : o->occupations > 400 ? 400
                                                : o->occupations;
    }
    sopts.seed = o->seed;
    sopts.skills = o->skills;
    sopts.municipalities = o->municipalities;
    sopts.municipality_count = o->municipality_count;
    sopts.occupation_pool = (size_t) o->occupations;
    sopts.today = jm_clock_today();
    if (jm_sample_new(&l->sample, esco, &sopts) != 0) {
        rc = cli_usage_error(c, "--occupations is larger than the number of "
                                "ESCO occupations that can be drawn");
        goto out;
    }
    l->id_key = options_key(o, sopts.today);
    if ((o->citizens > 0 &&
         (rc = cli_client_new(c, CLI_PROFILES, &l->client[0])) != CLI_OK) ||
        (o->orders > 0 &&
         (rc = cli_client_new(c, CLI_INTAKE, &l->client[1])) != CLI_OK))
        goto out;

    l->started_ns = uv_hrtime();
    uv_timer_init(&c->loop, &l->tick);
    l->tick.data = l;
    uv_timer_start(&l->tick, on_tick, TICK_MS, TICK_MS);
    fill_window(l);
    while (!finished(l))
        uv_run(&c->loop, UV_RUN_ONCE);
    draw_bar(l, true);
    print_summary(l);
    rc = l->unreachable  ? CLI_UNREACHABLE
         : l->failed > 0 ? CLI_ERROR_REPLY
                         : CLI_OK;

out:
    jm_rpc_client_destroy(&l->client[0]);
    jm_rpc_client_destroy(&l->client[1]);
    jm_sample_destroy(&l->sample);
    if (l->started_ns != 0) /* the timer frees l once it is closed */
        uv_close((uv_handle_t *) &l->tick, on_tick_closed);
    else
        free(l);
    jm_esco_destroy(&esco);
    free(dir);
    return rc;
}

int
cli_cmd_sample(cli *c, int argc, char **argv)
{
    struct options o = {
        .citizens = 500, .orders = 100, .seed = 1, .window = 64};
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
    }
    if (argc < 2 || strcmp(argv[1], "load") != 0) {
        usage(stderr);
        return CLI_USAGE;
    }
    /* Its request ids come from the seed (a rerun is a retry already). */
    if (c->has_request_id)
        return cli_usage_error(c, "--request-id names one write, and sample "
                                  "load makes many (its ids come from the "
                                  "seed: run it again to retry)");
    if ((rc = parse_options(c, argc, argv, &o)) == CLI_OK)
        rc = run_load(c, &o);
    free(o.municipality_text);
    return rc;
}
