/* profiles_test_support.c - see profiles_test_support.h. */
#define _GNU_SOURCE /* memmem */
#include "profiles_test_support.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jm/log.h"
#include "jm/msg.h"

#define SKILL \
    "http://data.europa.eu/esco/skill/078861f5-b901-48a5-951e-a3ad0a4fa0bd"

int
pt_server_new(struct pt *t)
{
    struct profiles_config cfg;
    int rc;

    jm_cfg_defaults(&cfg, profiles_config_table);
    free(cfg.data_dir);
    cfg.data_dir = strdup(t->dir);
    free(cfg.api);
    cfg.api = strdup("tcp://127.0.0.1:*");
    cfg.housekeeping_ms = 50;
    for (size_t i = 0; t->agreements != NULL && t->agreements[i] != NULL; i++) {
        char err[256];

        assert_int_equal(jm_cfg_set(&cfg, profiles_config_table, "agreement",
                                    t->agreements[i], err, sizeof(err)),
                         0);
    }
    if (t->curve) {
        free(cfg.key_file);
        cfg.key_file = strdup(t->key_file);
        free(cfg.allow_file);
        cfg.allow_file = strdup(t->allow_file);
    }
    rc = profiles_server_new(&t->server, &t->loop, &cfg);
    jm_cfg_release(&cfg, profiles_config_table);
    return rc;
}

static void
start_server(struct pt *t)
{
    assert_int_equal(pt_server_new(t), 0);
}

static void
connect_clients(struct pt *t)
{
    const char *ep = profiles_server_api_endpoint(t->server);

    for (size_t i = 0; i < t->n_clients; i++) {
        struct pt_client *c = &t->clients[i];
        jm_rpc_client_opts opts = {.timeout_ms = 5000, .tries = 2};

        if (t->curve) {
            opts.sock.curve_server_key = t->server_public;
            opts.sock.curve_public_key = c->public_key;
            opts.sock.curve_secret_key = c->secret_key;
        }
        assert_int_equal(jm_rpc_client_new(&c->rpc, t->bus, &ep, 1, &opts), 0);
    }
}

void
pt_start(struct pt *t, const char *const *principals)
{
    char server_secret[JM_KEY_Z85_LEN + 1];
    FILE *allow;

    memset(t, 0, sizeof(*t));
    jm_log_set_level(JM_LOG_WARN);
    jm_test_tmpdir(t->dir, sizeof(t->dir));
    assert_int_equal(uv_loop_init(&t->loop), 0);
    t->curve = principals != NULL;
    if (t->curve) {
        /* Keys live beside, not inside, the data directory: the privacy
         * scans look at the data directory only. */
        snprintf(t->key_file, sizeof(t->key_file), "%s.server.key", t->dir);
        snprintf(t->allow_file, sizeof(t->allow_file), "%s.allow", t->dir);
        assert_int_equal(jm_keys_generate(t->server_public, server_secret), 0);
        assert_int_equal(
            jm_keys_save(t->key_file, t->server_public, server_secret), 0);
        allow = fopen(t->allow_file, "w");
        assert_non_null(allow);
        for (; principals[t->n_clients] != NULL; t->n_clients++) {
            struct pt_client *c = &t->clients[t->n_clients];

            assert_true(t->n_clients < PT_MAX_CLIENTS);
            c->principal = principals[t->n_clients];
            assert_int_equal(jm_keys_generate(c->public_key, c->secret_key), 0);
            fprintf(allow, "%s %s\n", c->public_key, c->principal);
        }
        fclose(allow);
    } else {
        t->clients[0].principal = "local";
        t->n_clients = 1;
    }
    start_server(t);
    assert_int_equal(jm_bus_new(&t->bus, &t->loop), 0);
    connect_clients(t);
}

void
pt_server_stop(struct pt *t)
{
    for (size_t i = 0; i < t->n_clients; i++)
        jm_rpc_client_destroy(&t->clients[i].rpc);
    profiles_server_destroy(&t->server);
    /* Let the closing handles finish before the store is reopened. */
    uv_run(&t->loop, UV_RUN_NOWAIT);
}

void
pt_restart(struct pt *t)
{
    pt_server_stop(t);
    start_server(t);
    connect_clients(t);
}

void
pt_stop(struct pt *t)
{
    for (size_t i = 0; i < t->n_clients; i++)
        jm_rpc_client_destroy(&t->clients[i].rpc);
    jm_bus_destroy(&t->bus);
    profiles_server_destroy(&t->server);
    jm_test_close_loop(&t->loop, 5000);
    jm_test_rmtree(t->dir);
    if (t->curve) {
        remove(t->key_file);
        remove(t->allow_file);
    }
}

void
pt_stop_binary(struct pt *t, jm_proc_t **proc)
{
    jm_rpc_client_destroy(&t->clients[0].rpc);
    jm_bus_destroy(&t->bus);
    jm_proc_destroy(proc);
    jm_test_close_loop(&t->loop, 5000);
    jm_test_rmtree(t->dir);
}

void
pt_kill_unfinished(jm_proc_t *proc, bool finished)
{
    if (!finished && proc != NULL)
        kill(jm_proc_pid(proc), SIGKILL);
}

/* ---- calls ---- */

struct waiter {
    bool done;
    int status;
    uint8_t *data;
    size_t size;
};

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct waiter *w = arg;

    w->done = true;
    w->status = status;
    /* The reply is borrowed: keep its bytes. Re-packing gives the bytes
     * the server sent (same message, canonical encoding). */
    if (status == 0)
        jm_msg_pack(&reply->base, &w->data, &w->size);
}

static bool
waiter_done(void *arg)
{
    return ((struct waiter *) arg)->done;
}

jm_msg_t *
pt_call(struct pt *t, const char *principal, Jobmatch__V1__Request *req,
        uint8_t **packed, size_t *size)
{
    struct waiter w = {0};
    jm_msg_t *msg = NULL;
    jm_error err = {0};
    struct pt_client *c = NULL;

    for (size_t i = 0; i < t->n_clients; i++) {
        if (strcmp(t->clients[i].principal, principal) == 0)
            c = &t->clients[i];
    }
    if (c == NULL)
        fail_msg("no client for principal %s", principal);
    assert_int_equal(jm_rpc_client_call(c->rpc, req, on_reply, &w), 0);
    assert_true(jm_test_run_until(&t->loop, waiter_done, &w, 20000));
    if (w.status != 0)
        fail_msg("call as %s failed: %d", principal, w.status);
    assert_int_equal(jm_msg_unpack(&msg, &jobmatch__v1__reply__descriptor,
                                   w.data, w.size, w.size + 1, &err),
                     0);
    if (packed != NULL) {
        *packed = w.data;
        *size = w.size;
    } else {
        free(w.data);
    }
    return msg;
}

const Jobmatch__V1__Reply *
pt_reply(jm_msg_t *msg)
{
    return (const Jobmatch__V1__Reply *) jm_msg_get(msg);
}

void
pt_expect_error(jm_msg_t *msg, int code, const char *path)
{
    const Jobmatch__V1__Reply *reply = pt_reply(msg);

    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ERROR)
        fail_msg("expected error %s, got reply body %d",
                 jm_error_code_name(code), reply->body_case);
    if ((int) reply->error->code != code ||
        (path != NULL && strcmp(reply->error->field_path, path) != 0))
        fail_msg("expected %s %s, got %s %s: %s", jm_error_code_name(code),
                 path ? path : "", jm_error_code_name(reply->error->code),
                 reply->error->field_path, reply->error->message);
    jm_msg_free(&msg);
}

/* ---- citizens ---- */

void
pt_put_init(struct pt_put *p, const char *cpr, const char *name,
            const char *email)
{
    memset(p, 0, sizeof(*p));
    jobmatch__v1__request__init(&p->req);
    jobmatch__v1__put_profile__init(&p->put);
    jobmatch__v1__personal_data__init(&p->personal);
    jobmatch__v1__citizen_profile__init(&p->profile);
    jobmatch__v1__location__init(&p->home);
    jobmatch__v1__skill_level__init(&p->skill);
    p->req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    p->req.put_profile = &p->put;
    p->put.personal = cpr ? &p->personal : NULL;
    p->put.profile = &p->profile;
    p->personal.cpr = (char *) cpr;
    p->personal.name = (char *) name;
    p->personal.email = (char *) (email ? email : "");
    p->home.postcode = "2600";
    p->home.municipality_code = "161";
    p->profile.home = &p->home;
    p->profile.max_travel_km = 30;
    p->profile.hours_per_week = 37;
    p->profile.target_group = "jobparat";
    p->kinds[0] = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    p->profile.job_kinds = p->kinds;
    p->profile.n_job_kinds = 1;
    p->skill.skill_uri = SKILL;
    p->skill.level = 3;
    p->skills[0] = &p->skill;
    p->profile.skills = p->skills;
    p->profile.n_skills = 1;
}

uint64_t
pt_put_ok(struct pt *t, const char *principal, struct pt_put *p,
          char id[PROFILES_ID_LEN + 1])
{
    jm_msg_t *msg = pt_call(t, principal, &p->req, NULL, NULL);
    const Jobmatch__V1__Reply *reply = pt_reply(msg);
    uint64_t seq;

    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ACCEPTED)
        fail_msg("put refused: %s %s: %s",
                 jm_error_code_name(reply->error->code),
                 reply->error->field_path, reply->error->message);
    assert_true(profiles_id_valid(reply->accepted->id));
    if (id != NULL)
        strcpy(id, reply->accepted->id);
    seq = reply->accepted->seq;
    jm_msg_free(&msg);
    return seq;
}

uint64_t
pt_replay_log(struct pt *t, const char *principal, pt_event_fn on_event,
              pt_bytes_fn on_batch, void *arg)
{
    uint64_t after = 0, head = 0;

    for (;;) {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__Fetch fetch = JOBMATCH__V1__FETCH__INIT;
        const Jobmatch__V1__EventBatch *batch;
        uint8_t *packed = NULL;
        size_t size = 0;
        jm_msg_t *msg;

        fetch.after_seq = after;
        fetch.credit = 100;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH;
        req.fetch = &fetch;
        msg = pt_call(t, principal, &req, &packed, &size);
        assert_int_equal(pt_reply(msg)->body_case,
                         JOBMATCH__V1__REPLY__BODY_EVENT_BATCH);
        batch = pt_reply(msg)->event_batch;
        assert_false(batch->snapshot_required);
        if (on_batch != NULL)
            on_batch(packed, size, arg);
        free(packed);
        head = batch->head_seq;
        for (size_t i = 0; i < batch->n_events; i++) {
            /* Contiguous from 1: nothing lost, nothing twice. */
            assert_int_equal(batch->events[i]->seq, after + 1);
            after = batch->events[i]->seq;
            if (on_event != NULL)
                on_event(batch->events[i], arg);
        }
        jm_msg_free(&msg);
        if (after >= head)
            break;
    }
    assert_int_equal(after, head);
    return head;
}

/* ---- scanning ---- */

bool
pt_contains(const uint8_t *data, size_t size, const char *needle)
{
    return memmem(data, size, needle, strlen(needle)) != NULL;
}

static size_t
scan_file(const char *path, const char *const *needles, bool *found)
{
    size_t size = 0, hits = 0;
    char *data = jm_test_read_file(path, &size);

    assert_non_null(data);
    for (size_t i = 0; needles[i] != NULL; i++) {
        if (pt_contains((const uint8_t *) data, size, needles[i])) {
            hits++;
            if (found != NULL)
                found[i] = true;
        }
    }
    free(data);
    return hits;
}

size_t
pt_scan_dir(const char *dir, const char *const *needles, bool *found)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t hits = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode))
            hits += pt_scan_dir(path, needles, found);
        else if (S_ISREG(st.st_mode))
            hits += scan_file(path, needles, found);
    }
    closedir(d);
    return hits;
}
