/* node_status.c - `jobmatch node status` and `jobmatch node stop`: look at,
 * and stop, a node started by `jobmatch node start` in another process.
 *
 * Whether a node runs is decided by its lock (DIR/node.lock), not by
 * node.json: the lock dies with the node process, while node.json stays
 * behind after a crash. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "jm/mem.h"
#include "node.h"

static const char *const names[NODE_SERVICES] = {"intake", "profiles",
                                                 "matcher"};

/* --data-dir DIR, or the global --node DIR. Returns NULL (usage printed)
 * if neither was given or an argument is unknown; 1 in *help for -h. */
static const char *
parse_dir(cli *c, int argc, char **argv, const char *usage, unsigned *wait_s,
          bool *help)
{
    const char *dir = c->node_dir;

    *help = false;
    for (int i = 1; i < argc; i++) {
        unsigned long long v;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("%s", usage);
            *help = true;
            return NULL;
        } else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (wait_s != NULL && strcmp(argv[i], "--wait") == 0 &&
                   i + 1 < argc && cli_parse_uint(argv[i + 1], 3600, &v)) {
            *wait_s = (unsigned) v;
            i++;
        } else {
            cli_usage_error(c, "bad argument '%s'", argv[i]);
            fprintf(stderr, "%s", usage);
            return NULL;
        }
    }
    if (dir == NULL) {
        cli_usage_error(c, "--data-dir DIR is required");
        fprintf(stderr, "%s", usage);
    }
    return dir;
}

/* ---- status ---- */

typedef struct row {
    long pid;
    const char *api, *log_file;
    long restarts;
    bool answers;
    char version[32];
    unsigned long long head_seq;
} row;

static void
ping(cli *c, int s, row *r)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping body = JOBMATCH__V1__PING__INIT;
    const Jobmatch__V1__Reply *reply;
    jm_msg_t *msg = NULL;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &body;
    if (cli_request(c, (cli_service) s, &req, &msg) != CLI_OK)
        return;
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if (reply->body_case == JOBMATCH__V1__REPLY__BODY_PONG) {
        r->answers = true;
        snprintf(r->version, sizeof(r->version), "%s", reply->pong->version);
        r->head_seq = (unsigned long long) reply->pong->head_seq;
    }
    jm_msg_free(&msg);
}

static void
print_json(const char *dir, json_t *doc, pid_t holder, const row *rows)
{
    json_t *out = json_object(), *svcs = json_object();

    json_object_set_new(out, "data_dir", json_string(dir));
    json_object_set_new(out, "running", json_boolean(holder != 0));
    json_object_set_new(out, "pid", json_integer(holder));
    json_object_set(out, "started_at", json_object_get(doc, "started_at"));
    for (int s = 0; s < NODE_SERVICES; s++) {
        json_t *svc = json_object();

        json_object_set_new(svc, "pid", json_integer(rows[s].pid));
        json_object_set_new(svc, "api", json_string(rows[s].api));
        json_object_set_new(svc, "answers", json_boolean(rows[s].answers));
        json_object_set_new(svc, "version", json_string(rows[s].version));
        json_object_set_new(svc, "head_seq",
                            json_integer((json_int_t) rows[s].head_seq));
        json_object_set_new(svc, "restarts", json_integer(rows[s].restarts));
        json_object_set_new(svc, "log_file", json_string(rows[s].log_file));
        json_object_set_new(svcs, names[s], svc);
    }
    json_object_set_new(out, "services", svcs);
    cli_print_json(out);
}

int
node_status(cli *c, int argc, char **argv)
{
    static const char usage[] =
        "usage: jobmatch node status --data-dir DIR\n\n"
        "Is the node in DIR running, and does each service answer a ping?\n"
        "Exit status 0 if every service answers, 3 if not.\n";
    char err[1024];
    row rows[NODE_SERVICES] = {0};
    bool help, all = true;
    const char *dir = parse_dir(c, argc, argv, usage, NULL, &help);
    json_t *doc;
    pid_t holder;

    if (dir == NULL)
        return help ? CLI_OK : CLI_USAGE;
    if ((doc = node_json_load(dir, err, sizeof(err))) == NULL) {
        fprintf(stderr, "%s: %s\n", c->prog, err);
        return CLI_UNREACHABLE;
    }
    holder = node_lock_holder(dir);
    if (node_client_setup(c, doc, true) != CLI_OK) {
        json_decref(doc);
        return CLI_USAGE;
    }
    for (int s = 0; s < NODE_SERVICES; s++) {
        json_t *svc =
            json_object_get(json_object_get(doc, "services"), names[s]);
        row *r = &rows[s];

        r->pid = (long) json_integer_value(json_object_get(svc, "pid"));
        r->restarts =
            (long) json_integer_value(json_object_get(svc, "restarts"));
        r->api = json_string_value(
            json_object_get(json_object_get(svc, "endpoints"), "api"));
        r->log_file = json_string_value(json_object_get(svc, "log_file"));
        if (holder != 0 && r->api != NULL)
            ping(c, s, r);
        all = all && r->answers;
    }
    if (c->json) {
        print_json(dir, doc, holder, rows);
    } else {
        cli_table *t =
            cli_table_new("SERVICE", ">PID", "STATE", "API", "VERSION",
                          ">HEAD SEQ", ">RESTARTS", "LOG", NULL);

        if (holder != 0)
            printf("node in %s: running (pid %ld) since %s\n\n", dir,
                   (long) holder,
                   json_string_value(json_object_get(doc, "started_at")));
        else
            printf("node in %s: not running\n\n", dir);
        for (int s = 0; s < NODE_SERVICES; s++) {
            const row *r = &rows[s];

            cli_table_cell(t, "%s", names[s]);
            cli_table_cell(t, "%ld", r->pid);
            cli_table_cell(t, "%s",
                           r->answers    ? "answers"
                           : holder != 0 ? "NOT ANSWERING"
                                         : "stopped");
            cli_table_cell(t, "%s", r->api != NULL ? r->api : "-");
            cli_table_cell(t, "%s", r->answers ? r->version : "-");
            /* The matcher keeps no log of its own (its sources' heads are
             * in `matcher stats`): no head to show, rather than a 0. */
            if (r->answers && s != CLI_MATCHER)
                cli_table_cell(t, "%llu", r->head_seq);
            else
                cli_table_cell(t, "%s", "-");
            cli_table_cell(t, "%ld", r->restarts);
            cli_table_cell(t, "%s", r->log_file != NULL ? r->log_file : "-");
        }
        cli_table_print(t, stdout);
    }
    json_decref(doc);
    return holder != 0 && all ? CLI_OK : CLI_UNREACHABLE;
}

/* ---- stop ---- */

typedef struct stop_wait {
    uv_timer_t timer;
    const char *dir;
    uint64_t deadline;
    bool gone;
} stop_wait;

static void
on_check(uv_timer_t *timer)
{
    stop_wait *w = timer->data;

    /* There is no event for "another process released its lock": look
     * again every 50 ms, until the deadline. */
    w->gone = node_lock_holder(w->dir) == 0;
    if (w->gone || uv_now(timer->loop) >= w->deadline)
        uv_timer_stop(timer);
}

int
node_stop(cli *c, int argc, char **argv)
{
    static const char usage[] =
        "usage: jobmatch node stop --data-dir DIR [--wait SECONDS]\n\n"
        "Stops the node running in DIR (SIGTERM to `jobmatch node start`,\n"
        "which stops its services) and waits until it has ended (default\n"
        "30 s). A node that is not running is not an error.\n";
    unsigned wait_s = 30;
    bool help;
    const char *dir = parse_dir(c, argc, argv, usage, &wait_s, &help);
    stop_wait w = {.dir = dir};
    pid_t holder;

    if (dir == NULL)
        return help ? CLI_OK : CLI_USAGE;
    holder = node_lock_holder(dir);
    if (holder == 0) {
        printf("no node runs in %s\n", dir);
        return CLI_OK;
    }
    if (kill(holder, SIGTERM) != 0 && errno != ESRCH) {
        fprintf(stderr, "%s: cannot signal the node (pid %ld): %s\n", c->prog,
                (long) holder, strerror(errno));
        return CLI_ERROR_REPLY;
    }
    uv_timer_init(&c->loop, &w.timer);
    w.timer.data = &w;
    w.deadline = uv_now(&c->loop) + (uint64_t) wait_s * 1000;
    uv_timer_start(&w.timer, on_check, 0, 50);
    while (uv_is_active((uv_handle_t *) &w.timer))
        uv_run(&c->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *) &w.timer, NULL);
    uv_run(&c->loop, UV_RUN_NOWAIT);
    if (!w.gone) {
        fprintf(stderr, "%s: the node (pid %ld) still runs after %u s\n",
                c->prog, (long) holder, wait_s);
        return CLI_ERROR_REPLY;
    }
    printf("node in %s (pid %ld) stopped\n", dir, (long) holder);
    return CLI_OK;
}
