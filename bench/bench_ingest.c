/* bench_ingest.c - durable job-order ingest: how many orders per second
 * intake acknowledges (each answered only after its LMDB transaction
 * committed with fsync), and how long each acknowledgement takes.
 *
 * N clients (DEALER sockets on one loop) each keep a window of submits in
 * flight and send the next one as soon as an answer arrives, for a fixed
 * number of orders or a fixed time. The orders are realistic and varied:
 * a random ESCO occupation with its essential skills (up to 8) and some
 * optional ones, a random municipality and one of its postcodes, a kind,
 * positions, hours, a deadline. They are packed once, up front (a client
 * library packs each request too, but here the client shares the machine
 * with the server and should cost as little as possible); each send only
 * writes a fresh request id into a copy.
 *
 * Latency is from the send to the Accepted reply. Prints one readable
 * summary and one "RESULT" line of key=value pairs for scripts.
 *
 *   bench_ingest --intake PATH [--clients 8] [--window 8] [--count 300000]
 *   bench_ingest --endpoint tcp://HOST:PORT ...   (a service already running)
 *
 * With --intake it starts the binary on a fresh data directory (under
 * --dir, default $TMPDIR), waits for its ready line and stops it at the
 * end. This is a program, not a test: bench/run_ingest.sh runs it. */
#define _GNU_SOURCE /* mkdtemp, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "jm/clock.h"
#include "jm/bus.h"
#include "jm/dk.h"
#include "jm/esco.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/msg.h"
#include "jobmatch/v1/envelope.pb-c.h"

extern char **environ;

#define TEMPLATES 2048

struct client;

struct bench {
    uv_loop_t *loop;
    jm_bus_t *bus;
    struct client *clients;
    unsigned nclients, window;
    uint64_t count;       /* orders to send in all (0: by duration) */
    uint64_t duration_ns; /* when count is 0 */
    uint64_t sent, acked, errors, duplicates;
    uint64_t t_start, t_end;
    bool stop_sending;
    uint8_t **templates;
    size_t *sizes;
    uint32_t *lat_us; /* one per acknowledged order */
    size_t lat_cap;
    uint8_t run_id[4];
};

struct client {
    struct bench *b;
    uint32_t index;
    jm_sock_t *sock;
    uint64_t next_seq;
    uint64_t *send_ns; /* by seq % ring */
    size_t ring;
};

/* ---- the orders ---- */

static void
make_templates(struct bench *b, const jm_esco_t *esco)
{
    static const char *const cvrs[] = {"35610006", "10403782", "25313763",
                                       "20756438", "29188505"};
    size_t nm = jm_dk_municipality_count(), np = jm_dk_postcode_count();
    uint32_t r[16];

    b->templates = jm_xcalloc(TEMPLATES, sizeof(uint8_t *));
    b->sizes = jm_xcalloc(TEMPLATES, sizeof(size_t));
    for (size_t t = 0; t < TEMPLATES; t++) {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;
        Jobmatch__V1__JobOrder o = JOBMATCH__V1__JOB_ORDER__INIT;
        Jobmatch__V1__Location wp = JOBMATCH__V1__LOCATION__INIT;
        Jobmatch__V1__SkillRequirement skills[12], *ess[8], *opt[4];
        Jobmatch__V1__LanguageRequirement lang =
            JOBMATCH__V1__LANGUAGE_REQUIREMENT__INIT;
        Jobmatch__V1__LanguageRequirement *langs[1] = {&lang};
        uint8_t zero_id[16] = {0};
        const uint32_t *es = NULL, *os = NULL;
        size_t occ, ne, no;
        const jm_dk_municipality *m;
        const jm_dk_postcode *pc = NULL;
        char title[256];

        uv_random(NULL, NULL, r, sizeof(r), 0, NULL);
        occ = r[0] % jm_esco_occupation_count(esco);
        ne = jm_esco_occupation_essential(esco, occ, &es);
        no = jm_esco_occupation_optional(esco, occ, &os);
        m = jm_dk_municipality_at(r[1] % nm);
        /* A postcode of that municipality (the first from a random start). */
        for (size_t k = 0; k < np && pc == NULL; k++) {
            const jm_dk_postcode *p = jm_dk_postcode_at((r[2] + k) % np);

            if (strcmp(p->municipality_code, m->code) == 0)
                pc = p;
        }
        if (pc == NULL)
            pc = jm_dk_postcode_find("2600");
        o.cvr = (char *) cvrs[r[3] % 5];
        o.company_name = "Benchmark ApS";
        snprintf(title, sizeof(title), "%.190s",
                 jm_esco_occupation_label(esco, occ));
        o.title = title;
        o.description = "Arbejdet består af de opgaver, stillingen "
                        "normalt indebærer. Vi tilbyder en god arbejdsplads "
                        "med gode kolleger.";
        o.occupation_uri = (char *) jm_esco_occupation_uri(esco, occ);
        ne = ne < 8 ? ne : 8;
        no = no < 4 ? no : 4;
        for (size_t i = 0; i < ne + no; i++) {
            jobmatch__v1__skill_requirement__init(&skills[i]);
            skills[i].skill_uri =
                (char *) jm_esco_skill_uri(esco, i < ne ? es[i] : os[i - ne]);
            skills[i].min_level = i < ne ? 1 + (r[4 + i % 8] % 3) : 0;
            if (i < ne)
                ess[i] = &skills[i];
            else
                opt[i - ne] = &skills[i];
        }
        o.essential_skills = ess;
        o.n_essential_skills = ne;
        o.optional_skills = opt;
        o.n_optional_skills = no;
        lang.language = "da";
        lang.min_level = 1 + r[12] % 6;
        o.languages = langs;
        o.n_languages = 1;
        o.kind = 1 + r[13] % 7;
        o.positions = 1 + r[14] % 5;
        o.hours_per_week = 15 + r[15] % 23;
        o.deadline = "2031-06-30";
        wp.postcode = (char *) pc->code;
        wp.municipality_code = (char *) m->code;
        o.workplace = &wp;
        o.owner_municipality = (char *) m->code;
        o.consultant = "Virksomhedskonsulent";
        body.order = &o;
        /* request_id first (field 1): bytes 2..17 of every packed request
         * are the id, rewritten per send. */
        req.request_id.data = zero_id;
        req.request_id.len = 16;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
        req.submit_order = &body;
        jm_msg_pack(&req.base, &b->templates[t], &b->sizes[t]);
        JM_ASSERT(b->templates[t][0] == 0x0a && b->templates[t][1] == 16);
    }
}

/* ---- sending and receiving ---- */

static uint64_t
now_ns(void)
{
    return uv_hrtime();
}

static void
send_next(struct client *c)
{
    struct bench *b = c->b;
    uint64_t seq = c->next_seq++;
    size_t t = (size_t) ((seq * 7919 + c->index * 104729) % TEMPLATES);
    uint8_t *msg = b->templates[t];
    int rc;

    if (b->stop_sending)
        return;
    if (b->count > 0 && b->sent >= b->count) {
        b->stop_sending = true;
        return;
    }
    /* The request id, laid out like jm_rpc_new_request_id's UUIDv7: the
     * time first (so ids grow, as real clients' do), then client and seq
     * (seq is how the reply finds its send time). */
    {
        uint64_t ms = (uint64_t) jm_clock_now_ms();

        for (int i = 0; i < 6; i++)
            msg[2 + i] = (uint8_t) (ms >> (40 - 8 * i));
        msg[8] = (uint8_t) c->index;
        msg[9] = b->run_id[0];
        memcpy(msg + 10, &seq, 8);
    }
    c->send_ns[seq % c->ring] = now_ns();
    rc = jm_sock_send(c->sock, NULL, msg, b->sizes[t]);
    if (rc != 0) {
        fprintf(stderr, "send: %s\n", uv_strerror(rc));
        b->errors++;
        return;
    }
    b->sent++;
}

static void
on_reply(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    struct client *c = arg;
    struct bench *b = c->b;
    const uint8_t *d = m->data;
    uint64_t seq, now = now_ns();
    size_t at = 18;

    (void) sock;
    if (m->size < 20 || d[0] != 0x0a || d[1] != 16) {
        b->errors++;
        return;
    }
    memcpy(&seq, d + 10, 8);
    /* Reply: request_id, then duplicate (field 2) if set, then the body:
     * accepted is field 10 (0x52), error field 9 (0x4a). */
    if (d[at] == 0x10) {
        b->duplicates++;
        at += 2;
    }
    if (at >= m->size || d[at] != 0x52) {
        Jobmatch__V1__Reply *r =
            jobmatch__v1__reply__unpack(NULL, m->size, m->data);

        if (r != NULL && r->body_case == JOBMATCH__V1__REPLY__BODY_ERROR &&
            b->errors < 5)
            fprintf(stderr, "error reply: %s %s: %s\n",
                    jm_error_code_name(r->error->code), r->error->field_path,
                    r->error->message);
        jobmatch__v1__reply__free_unpacked(r, NULL);
        b->errors++;
    } else {
        if (b->acked < b->lat_cap)
            b->lat_us[b->acked] =
                (uint32_t) ((now - c->send_ns[seq % c->ring]) / 1000);
        b->acked++;
        b->t_end = now;
    }
    if (b->count == 0 && now - b->t_start >= b->duration_ns)
        b->stop_sending = true;
    send_next(c);
}

/* ---- the service ---- */

struct service {
    pid_t pid;
    int fd;
    char api[256];
};

/* Starts the intake binary and reads its stderr up to the ready line. */
static int
start_service(struct service *s, const char *binary, const char *dir)
{
    char data[1100], line[4096];
    const char *argv[] = {
        binary,        "--data-dir", data, "--api", "tcp://127.0.0.1:*",
        "--log-level", "notice",     NULL};
    posix_spawn_file_actions_t fa;
    int fds[2];
    size_t len = 0;

    snprintf(data, sizeof(data), "%s/intake", dir);
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    if (posix_spawn(&s->pid, binary, &fa, NULL, (char *const *) argv,
                    environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -errno;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    s->fd = fds[0];
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        char ch;

        if (poll(&p, 1, 30000) <= 0 || read(s->fd, &ch, 1) != 1)
            return -ETIMEDOUT;
        if (ch != '\n') {
            if (len + 1 < sizeof(line))
                line[len++] = ch;
            continue;
        }
        line[len] = '\0';
        len = 0;
        if (strstr(line, ": ready ") != NULL) {
            const char *a = strstr(line, "api=");

            if (a == NULL)
                return -EPROTO;
            snprintf(s->api, sizeof(s->api), "%s", a + 4);
            *strchrnul(s->api, ' ') = '\0';
            return 0;
        }
    }
}

static void
stop_service(struct service *s)
{
    int status;

    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    close(s->fd);
}

/* ---- main ---- */

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench_ingest (--intake PATH | --endpoint EP) [--clients "
            "N] [--window W]\n"
            "                    [--count N | --duration SECONDS] [--dir "
            "DIR]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    struct bench b = {.nclients = 8, .window = 8, .count = 300000};
    struct service svc = {0};
    const char *binary = NULL, *endpoint = NULL, *base = getenv("TMPDIR");
    char dir[1024];
    jm_esco_t *esco = NULL;
    uv_loop_t loop;
    double secs;
    size_t n;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            usage();
        if (strcmp(a, "--intake") == 0)
            binary = v;
        else if (strcmp(a, "--endpoint") == 0)
            endpoint = v;
        else if (strcmp(a, "--clients") == 0)
            b.nclients = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(a, "--window") == 0)
            b.window = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(a, "--count") == 0)
            b.count = strtoull(v, NULL, 10);
        else if (strcmp(a, "--duration") == 0) {
            b.duration_ns = (uint64_t) (strtod(v, NULL) * 1e9);
            b.count = 0;
        } else if (strcmp(a, "--dir") == 0)
            base = v;
        else
            usage();
        i++;
    }
    if ((binary == NULL) == (endpoint == NULL) || b.nclients == 0 ||
        b.window == 0 || (b.count == 0 && b.duration_ns == 0))
        usage();
    jm_log_set_level(JM_LOG_WARN);
    if (jm_esco_load(&esco, NULL) != 0) {
        fprintf(stderr, "bench_ingest: the ESCO data is needed for orders\n");
        return 1;
    }
    make_templates(&b, esco);

    if (binary != NULL) {
        snprintf(dir, sizeof(dir), "%s/jm-bench-XXXXXX",
                 base != NULL && base[0] ? base : "/tmp");
        if (mkdtemp(dir) == NULL || start_service(&svc, binary, dir) != 0) {
            fprintf(stderr, "bench_ingest: cannot start %s\n", binary);
            return 1;
        }
        endpoint = svc.api;
    }

    uv_loop_init(&loop);
    b.loop = &loop;
    uv_random(NULL, NULL, b.run_id, sizeof(b.run_id), 0, NULL);
    b.lat_cap = b.count ? b.count : 50000000;
    b.lat_us = jm_xmalloc(b.lat_cap * sizeof(uint32_t));
    JM_ASSERT(jm_bus_new(&b.bus, &loop) == 0);
    b.clients = jm_xcalloc(b.nclients, sizeof(*b.clients));
    for (unsigned i = 0; i < b.nclients; i++) {
        struct client *c = &b.clients[i];
        jm_sock_opts opts = {.queue_while_connecting = true,
                             .heartbeat_ivl_ms = -1};

        c->b = &b;
        c->index = i;
        c->ring = (size_t) b.window * 4;
        c->send_ns = jm_xcalloc(c->ring, sizeof(uint64_t));
        JM_ASSERT(jm_sock_new(&c->sock, b.bus, JM_SOCK_DEALER, &opts, on_reply,
                              c) == 0);
        JM_ASSERT(jm_sock_connect(c->sock, endpoint) == 0);
    }
    b.t_start = now_ns();
    for (unsigned k = 0; k < b.window; k++)
        for (unsigned i = 0; i < b.nclients; i++)
            send_next(&b.clients[i]);
    while (b.acked + b.errors < b.sent || !b.stop_sending)
        uv_run(&loop, UV_RUN_ONCE);

    secs = (double) (b.t_end - b.t_start) / 1e9;
    n = b.acked < b.lat_cap ? b.acked : b.lat_cap;
    qsort(b.lat_us, n, sizeof(uint32_t), cmp_u32);
    printf("intake ingest: %u clients x window %u, %" PRIu64
           " orders acknowledged in %.2f s: %.0f orders/s\n",
           b.nclients, b.window, b.acked, secs, (double) b.acked / secs);
    printf("ack latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max "
           "%.2f ms; errors %" PRIu64 ", duplicates %" PRIu64 "\n",
           n ? b.lat_us[n / 2] / 1000.0 : 0,
           n ? b.lat_us[n * 99 / 100] / 1000.0 : 0,
           n ? b.lat_us[n * 999 / 1000] / 1000.0 : 0,
           n ? b.lat_us[n - 1] / 1000.0 : 0, b.errors, b.duplicates);
    printf("RESULT orders_per_s=%.0f p50_ms=%.3f p99_ms=%.3f acked=%" PRIu64
           " errors=%" PRIu64 "\n",
           (double) b.acked / secs, n ? b.lat_us[n / 2] / 1000.0 : 0,
           n ? b.lat_us[n * 99 / 100] / 1000.0 : 0, b.acked, b.errors);

    for (unsigned i = 0; i < b.nclients; i++) {
        jm_sock_close(&b.clients[i].sock);
        free(b.clients[i].send_ns);
    }
    jm_bus_destroy(&b.bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    stop_service(&svc);
    if (binary != NULL) {
        char cmd[1200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_ingest: could not remove %s\n", dir);
    }
    for (size_t t = 0; t < TEMPLATES; t++)
        free(b.templates[t]);
    free(b.templates);
    free(b.sizes);
    free(b.lat_us);
    free(b.clients);
    jm_esco_destroy(&esco);
    return b.errors ? 1 : 0;
}
