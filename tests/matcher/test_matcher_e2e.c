/* test_matcher_e2e.c - the three real binaries together: jobmatch-intake,
 * jobmatch-profiles and jobmatch-matcher (started with only --data-dir,
 * --api and two --source, intake's being its separate log endpoint), and
 * the real `jobmatch` CLI:
 *   - the order of docs/examples/job-order.json and the citizen of
 *     docs/examples/profile.json, submitted through intake and profiles,
 *     make a shortlist of one in `jobmatch match order ID --json`
 *     (candidates[0].profile_id, score, parts);
 *   - a ShortlistChanged notification arrives after a submit;
 *   - the matcher killed with SIGKILL and restarted catches up and gives
 *     the same answers as before;
 *   - a second matcher on the same sources gives identical answers, and
 *     the CLI fails over from a dead endpoint to a live one;
 *   - a closed order and an erased citizen disappear;
 *   - intake's log endpoint reports the api's head, and the matchers
 *     following it took no snapshot. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "jm/json.h"
#include "jm/log.h"
#include "jm/rpc.h"
#include "jm_proc.h"
#include "jm_test.h"

struct fx {
    uv_loop_t loop;
    char dir[256];
    jm_proc_t *intake, *profiles, *matcher, *matcher2;
    char matcher_ep[256], matcher2_ep[256];
    jm_bus_t *bus;
    jm_rpc_client_t *to_intake, *to_profiles;
    jm_sock_t *sub;
    char changed_order[72];
    size_t changed_n;
    char *out;
    char *candidates; /* the last match's "candidates", as JSON */
};

/* ---- processes ---- */

static jm_proc_t *
start(struct fx *f, const char *name, const char *const *argv)
{
    char log_path[320];
    jm_proc_t *proc;

    snprintf(log_path, sizeof(log_path), "%s/%s.log", f->dir, name);
    assert_int_equal(jm_proc_start(&proc, &f->loop, argv, log_path, 20000), 0);
    return proc;
}

static jm_proc_t *
start_matcher(struct fx *f, const char *data, char *ep, size_t ep_size)
{
    const char *argv[] = {MATCHER_BIN,
                          "--data-dir",
                          data,
                          "--api",
                          "tcp://127.0.0.1:*",
                          "--source",
                          jm_proc_endpoint(f->intake, "log"),
                          "--source",
                          jm_proc_endpoint(f->profiles, "api"),
                          NULL};
    jm_proc_t *proc =
        start(f, data[strlen(data) - 1] == '2' ? "matcher2" : "matcher", argv);

    snprintf(ep, ep_size, "%s", jm_proc_endpoint(proc, "api"));
    return proc;
}

/* Runs jobmatch ARGS... (NULL-terminated); stdout into f->out; returns the
 * exit code. */
static int
run_cli(struct fx *f, const char *first, ...)
{
    const char *argv[32] = {JOBMATCH_BIN, "--timeout", "2000"};
    size_t argc = 3;
    va_list ap;
    int rc;

    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    free(f->out);
    rc = jm_proc_run(argv, &f->out);
    assert_true(rc >= 0);
    return rc;
}

/* `jobmatch --matcher EP match order ID --explain --json`: the number of
 * candidates, or -1 if the command failed. f->candidates gets the
 * candidates (ids, scores, parts, skills) as compact JSON: the answer,
 * without the search's counts (which a list kept live reports as of its
 * last recomputation). */
static int
match_count(struct fx *f, const char *ep, const char *order)
{
    json_error_t err;
    json_t *json, *c;
    int n;

    free(f->candidates);
    f->candidates = NULL;
    if (run_cli(f, "--matcher", ep, "match", "order", order, "--explain",
                "--json", NULL) != 0)
        return -1;
    json = json_loads(f->out, 0, &err);
    assert_non_null(json);
    c = json_object_get(json, "candidates");
    n = json_is_array(c) ? (int) json_array_size(c) : -1;
    f->candidates = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(f->candidates);
    json_decref(json);
    return n;
}

/* Waits (polling the CLI, bounded) until the order has want candidates. */
static void
wait_count(struct fx *f, const char *ep, const char *order, int want)
{
    uint64_t deadline = uv_hrtime() + 20000000000ULL;
    int n = -2;

    while (uv_hrtime() < deadline && (n = match_count(f, ep, order)) != want)
        ;
    if (n != want)
        fail_msg("order %s: %d candidates, want %d", order, n, want);
}

/* `jobmatch --intake EP ping intake`: the head seq it prints. */
static long long
ping_head(struct fx *f, const char *ep)
{
    const char *at;
    long long head = -1;

    assert_int_equal(run_cli(f, "--intake", ep, "ping", "intake", NULL), 0);
    at = strstr(f->out, "head seq ");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "head seq %lld", &head), 1);
    return head;
}

static int
count_of(const char *text, const char *part)
{
    int n = 0;

    for (const char *at = text; (at = strstr(at, part)) != NULL; at++)
        n++;
    return n;
}

/* ---- requests to intake and profiles ---- */

struct wait {
    bool done;
    int status;
    char id[72];
};

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct wait *w = arg;

    w->done = true;
    w->status = status;
    if (status == 0 && reply->body_case == JOBMATCH__V1__REPLY__BODY_ACCEPTED)
        snprintf(w->id, sizeof(w->id), "%s", reply->accepted->id);
    else if (status == 0)
        w->status = -EPROTO;
}

static bool
done(void *arg)
{
    return ((struct wait *) arg)->done;
}

static void
send_write(struct fx *f, jm_rpc_client_t *client, Jobmatch__V1__Request *req,
           char *id_out)
{
    struct wait w = {0};

    assert_int_equal(jm_rpc_client_call(client, req, on_reply, &w), 0);
    assert_true(jm_test_run_until(&f->loop, done, &w, 10000));
    assert_int_equal(w.status, 0);
    if (id_out != NULL)
        strcpy(id_out, w.id);
}

static ProtobufCMessage *
example(const char *file, const ProtobufCMessageDescriptor *desc)
{
    char path[512], err[256];
    json_error_t jerr;
    json_t *json;
    ProtobufCMessage *msg = NULL;

    snprintf(path, sizeof(path), "%s/%s", JM_TEST_EXAMPLES_DIR, file);
    json = json_load_file(path, 0, &jerr);
    assert_non_null(json);
    if (jm_json_to_message(json, desc, &msg, err, sizeof(err)) != 0)
        fail_msg("%s: %s", file, err);
    json_decref(json);
    return msg;
}

static void
submit_order(struct fx *f, char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    ProtobufCMessage *order =
        example("job-order.json", &jobmatch__v1__job_order__descriptor);

    submit.order = (Jobmatch__V1__JobOrder *) order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &submit;
    send_write(f, f->to_intake, &req, id);
    jm_json_message_free(order);
}

/* The citizen of profile.json, under CPR number 0101900000 + n. */
static void
put_citizen(struct fx *f, unsigned n, char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__PutProfile *put = (Jobmatch__V1__PutProfile *) example(
        "profile.json", &jobmatch__v1__put_profile__descriptor);
    char cpr[24], *old = put->personal->cpr;

    if (n > 0) {
        snprintf(cpr, sizeof(cpr), "010190-%04u", n % 10000);
        put->personal->cpr = cpr;
    }
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    req.put_profile = put;
    send_write(f, f->to_profiles, &req, id);
    put->personal->cpr = old;
    jm_json_message_free(&put->base);
}

/* ---- notifications ---- */

static void
on_shortlist(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    struct fx *f = arg;
    Jobmatch__V1__ShortlistChanged *sc =
        jobmatch__v1__shortlist_changed__unpack(NULL, m->size, m->data);

    (void) sock;
    assert_non_null(sc);
    snprintf(f->changed_order, sizeof(f->changed_order), "%s", sc->order_id);
    f->changed_n = sc->n_profile_ids;
    jobmatch__v1__shortlist_changed__free_unpacked(sc, NULL);
}

struct expect {
    struct fx *f;
    const char *order;
    size_t n;
};

static bool
notified(void *arg)
{
    struct expect *e = arg;

    return strcmp(e->f->changed_order, e->order) == 0 &&
           e->f->changed_n == e->n;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char intake_data[300], profiles_data[300];

    assert_non_null(f);
    jm_log_set_level(JM_LOG_ERR);
    jm_test_tmpdir(f->dir, sizeof(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(intake_data, sizeof(intake_data), "%s/intake", f->dir);
    snprintf(profiles_data, sizeof(profiles_data), "%s/profiles", f->dir);
    {
        const char *a[] = {
            INTAKE_BIN,          "--data-dir", intake_data,         "--api",
            "tcp://127.0.0.1:*", "--log",      "tcp://127.0.0.1:*", NULL};
        const char *b[] = {PROFILES_BIN, "--data-dir",        profiles_data,
                           "--api",      "tcp://127.0.0.1:*", NULL};

        f->intake = start(f, "intake", a);
        f->profiles = start(f, "profiles", b);
    }
    assert_int_equal(jm_bus_new(&f->bus, &f->loop), 0);
    {
        const char *ep = jm_proc_endpoint(f->intake, "api");

        assert_int_equal(jm_rpc_client_new(&f->to_intake, f->bus, &ep, 1, NULL),
                         0);
        ep = jm_proc_endpoint(f->profiles, "api");
        assert_int_equal(
            jm_rpc_client_new(&f->to_profiles, f->bus, &ep, 1, NULL), 0);
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    jm_sock_close(&f->sub);
    jm_rpc_client_destroy(&f->to_intake);
    jm_rpc_client_destroy(&f->to_profiles);
    jm_bus_destroy(&f->bus);
    jm_proc_destroy(&f->matcher2);
    jm_proc_destroy(&f->matcher);
    jm_proc_destroy(&f->profiles);
    jm_proc_destroy(&f->intake);
    jm_test_close_loop(&f->loop, 10000);
    jm_test_rmtree(f->dir);
    free(f->out);
    free(f->candidates);
    free(f);
    return 0;
}

/* ---- the test ---- */

/* A loopback endpoint where no matcher answers, and none can come while
 * the returned descriptor is open: a TCP port bound and never listened on
 * (connections to it are refused, as to a killed matcher's; the killed
 * matcher's own port was used before, until the restarted one was given
 * the same port again). */
static int
reserve_dead_endpoint(char *ep, size_t size)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &addr, &len), 0);
    snprintf(ep, size, "tcp://127.0.0.1:%u", ntohs(addr.sin_port));
    return fd;
}

static void
test_three_binaries(void **state)
{
    struct fx *f = *state;
    char data[300], data2[300], order[72], order2[72], citizen[72], extra[72];
    jm_sock_opts sub_opts = {.subscribe = "shortlist"};
    json_t *json, *cand, *parts;
    json_error_t jerr;
    char *before, failover[600], dead_ep[256];
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetOrderStatus st = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    Jobmatch__V1__EraseProfile er = JOBMATCH__V1__ERASE_PROFILE__INIT;
    bool got = false;
    size_t have = 1;
    int dead_fd;

    snprintf(data, sizeof(data), "%s/matcher", f->dir);
    snprintf(data2, sizeof(data2), "%s/matcher2", f->dir);
    f->matcher = start_matcher(f, data, f->matcher_ep, sizeof(f->matcher_ep));

    /* The example pair, through the services: a shortlist of one. */
    submit_order(f, order);
    put_citizen(f, 0, citizen);
    wait_count(f, f->matcher_ep, order, 1);
    json = json_loads(f->out, 0, &jerr);
    cand = json_array_get(json_object_get(json, "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(cand, "profile_id")),
                        citizen);
    assert_true(json_is_real(json_object_get(cand, "score")));
    assert_true(json_real_value(json_object_get(cand, "score")) > 0.5);
    parts = json_object_get(cand, "parts");
    assert_true(json_is_object(parts));
    assert_int_equal(json_object_size(parts), 6);
    assert_true(json_real_value(json_object_get(parts, "occupation")) > 0.1);
    json_decref(json);

    /* A notification after a submit (PUB loses what is sent before the
     * subscription arrives: each round adds a citizen and waits). */
    assert_int_equal(
        jm_sock_new(&f->sub, f->bus, JM_SOCK_SUB, &sub_opts, on_shortlist, f),
        0);
    assert_int_equal(
        jm_sock_connect(f->sub, jm_proc_endpoint(f->matcher, "publish")), 0);
    for (unsigned round = 1; round <= 20 && !got; round++) {
        struct expect e = {f, order, ++have};

        put_citizen(f, round, extra);
        got = jm_test_run_until(&f->loop, notified, &e, 1000);
    }
    assert_true(got);
    submit_order(f, order2);
    wait_count(f, f->matcher_ep, order2, (int) have);

    /* SIGKILL and restart: the same answers. */
    assert_int_equal(match_count(f, f->matcher_ep, order), (int) have);
    before = strdup(f->candidates);
    jm_proc_signal_wait(f->matcher, SIGKILL, 5000);
    assert_int_equal(jm_proc_restart(f->matcher, 20000), 0);
    snprintf(f->matcher_ep, sizeof(f->matcher_ep), "%s",
             jm_proc_endpoint(f->matcher, "api"));
    assert_int_equal(match_count(f, f->matcher_ep, order), (int) have);
    assert_string_equal(f->candidates, before);

    /* A second matcher: identical answers; and fail-over in the CLI. */
    f->matcher2 =
        start_matcher(f, data2, f->matcher2_ep, sizeof(f->matcher2_ep));
    wait_count(f, f->matcher2_ep, order, (int) have);
    assert_string_equal(f->candidates, before);
    dead_fd = reserve_dead_endpoint(dead_ep, sizeof(dead_ep));
    snprintf(failover, sizeof(failover), "%s,%s", dead_ep, f->matcher2_ep);
    assert_int_equal(match_count(f, failover, order), (int) have);
    assert_string_equal(f->candidates, before);
    close(dead_fd);
    free(before);

    /* The other commands, and a usage error. */
    assert_int_equal(run_cli(f, "--matcher", f->matcher_ep, "matcher", "stats",
                             "--json", NULL),
                     0);
    assert_non_null(strstr(f->out, "\"applied_seq\""));
    /* Following intake's log endpoint costs no snapshot: its Pong says
     * the head the api says (it said 0, and the matcher took a snapshot
     * at every poll). */
    assert_int_equal(count_of(f->out, "\"snapshots\": 0,"), 2);
    assert_int_equal(ping_head(f, jm_proc_endpoint(f->intake, "log")),
                     ping_head(f, jm_proc_endpoint(f->intake, "api")));
    assert_int_equal(run_cli(f, "--matcher", f->matcher_ep, "gaps", "profile",
                             citizen, "--json", NULL),
                     0);
    assert_non_null(strstr(f->out, "\"orders_in_reach\": 2"));
    assert_int_equal(run_cli(f, "--matcher", f->matcher_ep, "assign",
                             "--municipality", "161", "--exact", "--json",
                             NULL),
                     0);
    assert_non_null(strstr(f->out, "\"ASSIGN_MODE_EXACT\""));
    assert_int_equal(
        run_cli(f, "--matcher", f->matcher_ep, "match", "order", NULL), 2);

    /* Closed and erased: gone. */
    st.order_id = order;
    st.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS;
    req.set_order_status = &st;
    send_write(f, f->to_intake, &req, NULL);
    er.profile_id = citizen;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE;
    req.erase_profile = &er;
    send_write(f, f->to_profiles, &req, NULL);
    wait_count(f, f->matcher_ep, order, -1);
    assert_int_equal(run_cli(f, "--matcher", f->matcher_ep, "match", "order",
                             order, "--json", NULL),
                     1);
    assert_true(strstr(f->out, "ERROR_CODE_NOT_FOUND") != NULL);
    wait_count(f, f->matcher_ep, order2, (int) have - 1);
    assert_true(strstr(f->out, citizen) == NULL);
    assert_int_equal(run_cli(f, "--matcher", f->matcher_ep, "match", "profile",
                             citizen, NULL),
                     1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_binaries, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
