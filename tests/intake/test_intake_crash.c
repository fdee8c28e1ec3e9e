/* test_intake_crash.c - the real jobmatch-intake killed with SIGKILL at
 * random moments while clients submit thousands of orders.
 *
 * Four clients keep 16 submits each in flight. At random points of the
 * run the service is killed and restarted on the same data directory. The
 * clients behave as real ones do: a request without an answer is sent
 * again with the same request id (jm_rpc's Lazy Pirate retry), so every
 * request must end up accepted exactly once. Afterwards:
 *   - every acknowledged order is there (GetOrder);
 *   - the log's seqs are contiguous from 1 to the head, the head is the
 *     number of requests, and the event at each acknowledged seq is that
 *     order's creation: no request created two orders, none was lost;
 *   - sending every request id again gives "duplicate" with the original
 *     id and seq, and no new seq.
 * Usage: test_intake_crash PATH_TO_JOBMATCH_INTAKE */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "intake_testlib.h"
#include "jm/bus.h"
#include "jm/mem.h"
#include "jm/rpc.h"
#include "jm_proc.h"
#include "jm_test.h"

#define CLIENTS    4
#define WINDOW     16
#define PER_CLIENT 1000
#define TOTAL      (CLIENTS * PER_CLIENT)
#define KILLS      7

static const char *intake_binary;

struct request {
    struct run *run;
    int client;
    uint8_t rid[16];
    char id[32];
    uint64_t seq;
    bool acked;
    bool duplicate_ok; /* the resend at the end was answered as expected */
};

struct run {
    uv_loop_t loop;
    char dir[256];
    char api[300];
    jm_proc_t *proc;
    jm_bus_t *bus;
    jm_rpc_client_t *clients[CLIENTS];
    it_order order;
    struct request *reqs; /* client c owns [c * PER_CLIENT, ...) */
    size_t next[CLIENTS]; /* next request of each client to send */
    size_t acked;
    size_t kill_at[KILLS]; /* acked counts at which to kill, ascending */
    int kills;
    uv_timer_t killer;
    size_t storm_duplicates; /* first answers lost to a kill, resent */
    bool resending;          /* the final duplicate round */
    size_t resent_ok;
    int errors;
};

static void send_request(struct run *run, struct request *r);

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct request *r = arg;
    struct run *run = r->run;

    if (status == -ECANCELED)
        return;
    /* A real client: no answer, or "try again", means the same request
     * with the same id once more. */
    if (status != 0 || (reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR &&
                        reply->error->retryable)) {
        send_request(run, r);
        return;
    }
    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ACCEPTED) {
        fprintf(stderr, "unexpected reply %d: %s\n", reply->body_case,
                reply->error ? reply->error->message : "");
        run->errors++;
        return;
    }
    if (run->resending) {
        if (reply->duplicate && strcmp(reply->accepted->id, r->id) == 0 &&
            reply->accepted->seq == r->seq)
            r->duplicate_ok = true;
        else
            run->errors++;
        run->resent_ok++;
    } else if (!r->acked) {
        r->acked = true;
        run->storm_duplicates += reply->duplicate;
        snprintf(r->id, sizeof(r->id), "%s", reply->accepted->id);
        r->seq = reply->accepted->seq;
        run->acked++;
    } else if (reply->accepted->seq != r->seq ||
               strcmp(reply->accepted->id, r->id) != 0) {
        /* A late second answer to a resend must be the same answer. */
        run->errors++;
    }
    if (run->next[r->client] < PER_CLIENT) {
        size_t i = (size_t) r->client * PER_CLIENT + run->next[r->client]++;

        send_request(run, &run->reqs[i]);
    }
}

static void
send_request(struct run *run, struct request *r)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;

    body.order = &run->order.order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &body;
    req.request_id.data = r->rid;
    req.request_id.len = 16;
    assert_int_equal(
        jm_rpc_client_call(run->clients[r->client], &req, on_reply, r), 0);
}

static void
start_window(struct run *run)
{
    for (int c = 0; c < CLIENTS; c++) {
        run->next[c] = 0;
        for (int k = 0; k < WINDOW; k++) {
            size_t i = (size_t) c * PER_CLIENT + run->next[c]++;

            send_request(run, &run->reqs[i]);
        }
    }
}

/* Checked from the loop: kill and restart when the run passes the next
 * random point. The restart blocks the loop until the ready line; the
 * clients' retries do the rest. */
static void
on_killer(uv_timer_t *timer)
{
    struct run *run = timer->data;

    if (run->kills == KILLS || run->acked < run->kill_at[run->kills])
        return;
    jm_proc_signal_wait(run->proc, SIGKILL, 5000);
    run->kills++;
    assert_int_equal(jm_proc_restart(run->proc, 30000), 0);
}

static int
cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *) a, y = *(const size_t *) b;

    return (x > y) - (x < y);
}

static bool
all_acked(void *arg)
{
    struct run *run = arg;

    return run->errors > 0 || (run->acked == TOTAL && run->kills == KILLS);
}

static bool
all_resent(void *arg)
{
    struct run *run = arg;

    return run->errors > 0 || run->resent_ok == TOTAL;
}

/* ---- checks after the storm ---- */

struct log_check {
    struct run *run;
    size_t *by_seq; /* request index by seq, or SIZE_MAX */
    uint64_t next_seq;
};

static void
check_event(const Jobmatch__V1__Event *ev, void *arg)
{
    struct log_check *lc = arg;
    size_t i;

    assert_int_equal(ev->seq, lc->next_seq);
    lc->next_seq++;
    assert_true(ev->seq >= 1 && ev->seq <= TOTAL);
    assert_int_equal(ev->body_case, JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED);
    assert_int_equal(ev->order_changed->change,
                     JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED);
    i = lc->by_seq[ev->seq];
    /* Every seq belongs to exactly one acknowledged request. */
    assert_true(i != SIZE_MAX);
    assert_string_equal(ev->order_changed->order->id, lc->run->reqs[i].id);
}

static void
test_kill_storm(void **state)
{
    struct run *run = jm_xcalloc(1, sizeof(*run));
    const char *argv[8];
    char data[300], log_path[300];
    jm_rpc_client_opts opts = {.timeout_ms = 400, .tries = 100000};
    struct log_check lc = {.run = run, .next_seq = 1};
    const char *api;
    it_client *check;
    int status;

    (void) state;
    jm_test_tmpdir(run->dir, sizeof(run->dir));
    assert_int_equal(uv_loop_init(&run->loop), 0);
    /* ipc:// in the private directory: the restarted service binds the
     * same endpoint, so the clients simply reconnect. */
    snprintf(run->api, sizeof(run->api), "ipc://%s/api", run->dir);
    snprintf(data, sizeof(data), "%s/data", run->dir);
    snprintf(log_path, sizeof(log_path), "%s/intake.log", run->dir);
    argv[0] = intake_binary;
    argv[1] = "--data-dir";
    argv[2] = data;
    argv[3] = "--api";
    argv[4] = run->api;
    argv[5] = "--log-level";
    argv[6] = "notice";
    argv[7] = NULL;
    assert_int_equal(
        jm_proc_start(&run->proc, &run->loop, argv, log_path, 30000), 0);

    run->reqs = jm_xcalloc(TOTAL, sizeof(*run->reqs));
    for (size_t i = 0; i < TOTAL; i++) {
        run->reqs[i].run = run;
        run->reqs[i].client = (int) (i / PER_CLIENT);
        jm_test_random(run->reqs[i].rid, 16);
    }
    /* Kill points: random acknowledged counts, the last well before the
     * end so that every kill lands in the middle of traffic. */
    for (int k = 0; k < KILLS; k++) {
        uint32_t r;

        jm_test_random(&r, sizeof(r));
        run->kill_at[k] = 1 + r % (TOTAL * 9 / 10);
    }
    qsort(run->kill_at, KILLS, sizeof(size_t), cmp_size);
    it_order_init(&run->order, "161", NULL);

    assert_int_equal(jm_bus_new(&run->bus, &run->loop), 0);
    api = run->api;
    for (int c = 0; c < CLIENTS; c++)
        assert_int_equal(
            jm_rpc_client_new(&run->clients[c], run->bus, &api, 1, &opts), 0);
    uv_timer_init(&run->loop, &run->killer);
    run->killer.data = run;
    uv_timer_start(&run->killer, on_killer, 1, 1);

    start_window(run);
    assert_true(jm_test_run_until(&run->loop, all_acked, run, 180000));
    assert_int_equal(run->errors, 0);
    assert_int_equal(run->kills, KILLS);
    uv_timer_stop(&run->killer);
    printf("%d kills at", KILLS);
    for (int k = 0; k < KILLS; k++)
        printf(" %zu", run->kill_at[k]);
    printf(" acknowledged orders; %zu first answers were lost to a kill and "
           "came back as duplicates\n",
           run->storm_duplicates);

    /* The log: contiguous seqs, one creation per request. */
    lc.by_seq = jm_xmalloc((TOTAL + 1) * sizeof(size_t));
    for (size_t s = 0; s <= TOTAL; s++)
        lc.by_seq[s] = SIZE_MAX;
    for (size_t i = 0; i < TOTAL; i++) {
        assert_true(run->reqs[i].acked);
        assert_true(run->reqs[i].seq >= 1 && run->reqs[i].seq <= TOTAL);
        assert_true(lc.by_seq[run->reqs[i].seq] == SIZE_MAX);
        lc.by_seq[run->reqs[i].seq] = i;
    }
    check = it_client_new(&run->loop, run->api, 5000);
    assert_int_equal(it_fetch_all(check, 0, check_event, &lc), TOTAL);
    assert_int_equal(lc.next_seq, TOTAL + 1);
    assert_int_equal(it_head(check), TOTAL);

    /* Every acknowledged order is there. */
    for (size_t i = 0; i < TOTAL; i++) {
        const Jobmatch__V1__Reply *r = it_get(check, run->reqs[i].id);

        assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ORDER);
        assert_string_equal(r->order->id, run->reqs[i].id);
    }
    assert_int_equal(it_order_count(check), TOTAL);
    /* The in-memory indexes were rebuilt from the orders at each start:
     * listing and statistics by municipality see every order, once. */
    assert_int_equal(it_list_count(check, "161", 1), TOTAL);
    assert_int_equal(it_open_in(check, "161"), TOTAL);

    /* Every request id again: the first answer, marked duplicate. */
    run->resending = true;
    start_window(run);
    assert_true(jm_test_run_until(&run->loop, all_resent, run, 120000));
    assert_int_equal(run->errors, 0);
    for (size_t i = 0; i < TOTAL; i++)
        assert_true(run->reqs[i].duplicate_ok);
    assert_int_equal(it_head(check), TOTAL);

    /* And it still stops cleanly. */
    status = jm_proc_signal_wait(run->proc, SIGTERM, 10000);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    it_client_destroy(&check);
    for (int c = 0; c < CLIENTS; c++)
        jm_rpc_client_destroy(&run->clients[c]);
    jm_bus_destroy(&run->bus);
    uv_close((uv_handle_t *) &run->killer, NULL);
    jm_proc_destroy(&run->proc);
    jm_test_close_loop(&run->loop, 5000);
    jm_test_rmtree(run->dir);
    free(lc.by_seq);
    free(run->reqs);
    free(run);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_storm),
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH_TO_JOBMATCH_INTAKE\n", argv[0]);
        return 2;
    }
    intake_binary = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
