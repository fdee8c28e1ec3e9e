/* test_follower.c - a toy source service built on jm_source (one database
 * of job orders by id) and a follower that copies its log into another
 * store. Shows: writes are answered after commit with contiguous seqs; a
 * duplicate request id changes nothing; the follower applies every event
 * once, resumes from its cursor, and takes a snapshot when the events it
 * needs were pruned or the source's store was replaced. */
#include "follower_test_support.h"

static void
test_writes_get_contiguous_seqs_and_duplicates_change_nothing(void **state)
{
    struct fixture *f = *state;
    uint8_t rid[16] = {42};
    struct until u = {f, 0, 0};

    submit_many(f, 0, 200); /* all in flight at once: group commit */
    assert_int_equal(f->last_seq, 200);
    assert_int_equal(jm_source_head(f->source), 200);

    submit(f, "order-x", rid);
    u.answered = f->answered + 1;
    assert_true(jm_test_run_until(&f->loop, answered, &u, 5000));
    assert_int_equal(f->last_seq, 201);
    assert_false(f->last_duplicate);
    /* The same request again: the first reply, marked duplicate, and no
     * new event. */
    submit(f, "order-x", rid);
    u.answered = f->answered + 1;
    assert_true(jm_test_run_until(&f->loop, answered, &u, 5000));
    assert_int_equal(f->last_seq, 201);
    assert_true(f->last_duplicate);
    assert_int_equal(jm_source_head(f->source), 201);
    /* Another request under that id: an error (CONFLICT, test_intake_
     * server), and no new event either. */
    {
        int errors = f->errors;

        submit(f, "order-y", rid);
        u.answered = f->answered + 1;
        assert_true(jm_test_run_until(&f->loop, answered, &u, 5000));
        assert_int_equal(f->errors, errors + 1);
        assert_int_equal(jm_source_head(f->source), 201);
    }
}

static void
test_follower_applies_each_event_once_and_resumes(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 100};

    submit_many(f, 0, 100);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.applied, 100);
    assert_int_equal(f->consumer.resets, 0);

    /* Live: new writes arrive through ticks and fetches. */
    submit_many(f, 100, 20);
    u.committed = 120;
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.applied, 120);

    /* Writes made one at a time by a consumer that keeps up come with
     * their tick, no Fetch needed. */
    write_one_at_a_time_until(f, &u, 1000, tick_batches, 3);

    /* A new follower on the same store resumes from the saved cursor. */
    jm_follower_destroy(&f->follower);
    submit_many(f, 120, 5);
    follow(f);
    u.committed += 5;
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.applied, (int) u.committed);
}

/* A small commit's events are announced before it commits (Tick.pending):
 * a consumer at the head is told of them, and then applies the same
 * events when the commit's tick or a Fetch brings them. */
static void
test_small_commit_is_announced_before_it_commits(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 1};

    submit_many(f, 0, 1);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    write_one_at_a_time_until(f, &u, 100, pending_batches, 3);
    /* every announced event was the one then applied under its seq */
    assert_true(f->consumer.pending_confirmed >= 3);
}

/* A source that does not announce (profiles: nobody prepares for it)
 * still ticks each commit's events, and never a pending one. */
static void
test_source_without_announcements_ticks_only_commits(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 1};
    jm_follower_status st;

    f->no_pending = true;
    restart_source(f);
    submit_many(f, 0, 1);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    write_one_at_a_time_until(f, &u, 100, tick_batches, 3);
    jm_follower_get_status(f->follower, &st);
    assert_true(st.pending_batches == 0);
    assert_int_equal(f->consumer.pending_confirmed, 0);
}

/* A source restarted at the same api endpoint ticks from another port
 * (the default picks a free one). The follower, which kept its place,
 * learns the new port from the Pong its next poll asks for, and commits
 * come with their ticks again instead of waiting for polls from then on.
 * (The api is an ipc:// path here, so that the restarted source is found
 * at the same endpoint without a fixed port.) */
static void
test_follower_finds_the_ticks_of_a_restarted_source(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 1};
    jm_follower_status st;

    snprintf(f->api, sizeof(f->api), "ipc://%s/api", f->dst_dir);
    restart_source(f);
    submit_many(f, 0, 1);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    write_one_at_a_time_until(f, &u, 100, tick_batches, 3);

    restart_source(f);
    jm_follower_get_status(f->follower, &st);
    write_one_at_a_time_until(f, &u, 200, tick_batches, st.tick_batches + 3);
}

static int
count_seen(const jm_val *key, const jm_val *val, void *arg)
{
    (void) key;
    (void) val;
    (*(int *) arg)++;
    return 0;
}

static int
count_seen_txn(jm_txn_t *txn, void *arg)
{
    struct consumer *c = arg;
    int n = 0;
    int rc = jm_txn_scan(txn, c->seen, NULL, 0, count_seen, &n);

    c->applied = n;
    return rc;
}

/* A batch that fails in prepared is not committed: aborted is told, with
 * the cursor where it was, and the batch is fetched and applied again. */
static void
test_batch_failing_before_commit_is_aborted_and_redone(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 40};

    submit_many(f, 0, 40);
    f->consumer.fail_prepared = 1;
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.aborts, 1);
    assert_int_equal(f->consumer.aborted, 0);
    assert_int_equal(f->consumer.committed, 40);
    assert_int_equal(
        jm_store_read(f->consumer.store, count_seen_txn, &f->consumer), 0);
    assert_int_equal(f->consumer.applied, 40);
}

struct snapshots {
    struct fixture *f;
    uint32_t want;
    uint64_t committed;
};

static bool
snapshot_done(void *arg)
{
    struct snapshots *s = arg;
    jm_follower_status st;

    jm_follower_get_status(s->f->follower, &st);
    return st.snapshots >= s->want && st.applied_seq >= s->committed &&
           !st.snapshotting;
}

/* Housekeeping prunes on its own timer; wait until the log reports a
 * first seq past the start (observed through a Fetch from seq 0). */
struct prune_probe {
    struct fixture *f;
    bool done;
    bool required;
};

static void
on_probe(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct prune_probe *p = arg;

    p->done = true;
    p->required = status == 0 &&
                  reply->body_case == JOBMATCH__V1__REPLY__BODY_EVENT_BATCH &&
                  reply->event_batch->snapshot_required;
}

static bool
probe_done(void *arg)
{
    return ((struct prune_probe *) arg)->done;
}

static void
wait_pruned(struct fixture *f)
{
    for (int i = 0; i < 200; i++) {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__Fetch fetch = JOBMATCH__V1__FETCH__INIT;
        struct prune_probe p = {f, false, false};

        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH;
        req.fetch = &fetch;
        assert_int_equal(jm_rpc_client_call(f->client, &req, on_probe, &p), 0);
        assert_true(jm_test_run_until(&f->loop, probe_done, &p, 5000));
        if (p.required)
            return;
    }
    fail_msg("the log was never pruned");
}

static void
test_snapshot_when_log_pruned(void **state)
{
    struct fixture *f = *state;
    struct snapshots s = {f, 1, 60};

    /* A source that keeps only the last 10 events. */
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    start_source(f, 10);
    connect_client(f);
    submit_many(f, 0, 60);
    /* Housekeeping (every 20 ms) prunes to the last 10. */
    wait_pruned(f);

    follow(f);
    assert_true(jm_test_run_until(&f->loop, snapshot_done, &s, 10000));
    assert_int_equal(f->consumer.resets, 1);
    /* 60 live records (the snapshot), possibly plus events replayed after
     * its as_of seq; never fewer. */
    assert_true(f->consumer.applied >= 60);
}

static void
test_snapshot_when_source_replaced(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 30};
    struct snapshots s = {f, 1, 5};

    submit_many(f, 0, 30);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));

    /* The source's store is wiped and restarted: a new log id. */
    jm_follower_destroy(&f->follower);
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    jm_test_rmtree(f->src_dir);
    start_source(f, 0);
    connect_client(f);
    submit_many(f, 500, 5);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, snapshot_done, &s, 10000));
    assert_int_equal(f->consumer.resets, 1);
}

/* A source restored from an older backup keeps its log id, but its log
 * went back: the seqs after the backup are gone and will be reused for
 * other events. A follower whose cursor is past the restored head must
 * notice and take a snapshot, or it would skip the new events and keep
 * the lost ones. */
static void
test_snapshot_when_source_restored_from_backup(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 30};
    struct snapshots s = {f, 1, 15};
    char backup[256];

    submit_many(f, 0, 10);
    jm_test_tmpdir(backup, sizeof(backup));
    assert_int_equal(jm_store_copy(jm_source_store(f->source), backup), 0);
    submit_many(f, 10, 20);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));

    /* Restore: the backup replaces the source's store. */
    jm_follower_destroy(&f->follower);
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    jm_test_rmtree(f->src_dir);
    assert_int_equal(rename(backup, f->src_dir), 0);
    start_source(f, 0);
    assert_int_equal(jm_source_head(f->source), 10);
    connect_client(f);
    submit_many(f, 500, 5); /* seqs 11..15 again, other records */
    follow(f);
    assert_true(jm_test_run_until(&f->loop, snapshot_done, &s, 10000));
    assert_int_equal(f->consumer.resets, 1);
}

static void
on_watchdog(uv_timer_t *timer)
{
    (void) timer;
    fail_msg("uv_run did not return after SIGTERM: the source left a handle "
             "open");
}

/* A stop signal ends the loop: the source closes everything it opened on
 * it, the bus (and its ZAP handler) included, so that main's uv_run
 * returns and the process exits. */
static void
test_stop_signal_ends_the_loop(void **state)
{
    uv_loop_t loop;
    uv_timer_t watchdog;
    char dir[256];
    struct toy toy = {0};
    jm_source_t *source = NULL;
    jm_source_config config = {
        .service = "toy",
        .data_dir = dir,
        .api_endpoint = "tcp://127.0.0.1:*",
        .tick_endpoint = "tcp://127.0.0.1:*",
        .announce_pending = true,
    };

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(
        jm_source_new(&source, &loop, &config, &toy_ops, toy_open_dbs, &toy),
        0);
    toy.source = source;
    /* Unref'd: it fires only if something else keeps the loop running. */
    uv_timer_init(&loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, 10000, 0);
    uv_unref((uv_handle_t *) &watchdog);
    assert_int_equal(raise(SIGTERM), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *) &watchdog, NULL);
    jm_source_destroy(&source);
    jm_test_close_loop(&loop, 5000);
    jm_test_rmtree(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_writes_get_contiguous_seqs_and_duplicates_change_nothing,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_small_commit_is_announced_before_it_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_source_without_announcements_ticks_only_commits, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_batch_failing_before_commit_is_aborted_and_redone, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_applies_each_event_once_and_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_when_log_pruned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_finds_the_ticks_of_a_restarted_source, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_when_source_replaced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_snapshot_when_source_restored_from_backup, setup, teardown),
        cmocka_unit_test(test_stop_signal_ends_the_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
