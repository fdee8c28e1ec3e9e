/* cmd_node.c - `jobmatch node start|status|stop`: a whole node on one
 * machine, for a newcomer's first hour and for development.
 *
 * `node start --data-dir DIR` runs jobmatch-intake and jobmatch-profiles,
 * waits for their ready lines, then runs jobmatch-matcher with both as its
 * sources, and supervises the three until Ctrl-C: a child that dies is
 * restarted with backoff on the same endpoints (each config file is
 * rewritten with the ports the service first bound, so node.json and the
 * matcher's sources stay valid). Everything an operator needs to see is in
 * DIR (node_dir.c). With --sample, the first start loads sample data with
 * `jobmatch sample load` and every start prints one explained shortlist.
 *
 * The start sequence is written as straight-line code that runs the loop
 * until a condition holds (run_until), rather than as a chain of
 * callbacks: the callbacks only record what happened. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_commands.h"
#include "jm/mem.h"
#include "node.h"

#define STOP_TIMEOUT_MS 10000

/* Indexed like cli_service. */
const node_service node_services[NODE_SERVICES] = {
    {"intake", "jobmatch-intake", {{"api", "api"}, {"tick", "tick"}}},
    {"profiles", "jobmatch-profiles", {{"api", "api"}, {"tick", "tick"}}},
    {"matcher", "jobmatch-matcher", {{"api", "api"}, {"publish", "publish"}}},
};

/* ---- small things ---- */

void
node_note(node *n, bool loud, const char *fmt, ...)
{
    char stamp[32], text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    node_time_text(stamp, sizeof(stamp));
    if (n->log != NULL) {
        fprintf(n->log, "%s %s\n", stamp, text);
        fflush(n->log);
    }
    if (loud) {
        fflush(stdout);
        fprintf(stderr, "jobmatch node: %s\n", text);
    }
}

void
node_run_until(node *n, bool (*pred)(node *n, void *arg), void *arg)
{
    /* The signal handles are referenced, so uv_run never returns at once
     * for lack of work: each turn waits for an event. */
    while (!pred(n, arg))
        uv_run(n->loop, UV_RUN_ONCE);
}

static bool
is_stopping(node *n, void *arg)
{
    (void) arg;
    return n->stopping;
}

static bool
timer_done(node *n, void *arg)
{
    (void) arg;
    return n->stopping || !uv_is_active((uv_handle_t *) &n->timer);
}

static void
on_pause(uv_timer_t *timer)
{
    (void) timer;
}

void
node_pause(node *n, uint64_t ms)
{
    uv_timer_start(&n->timer, on_pause, ms, 0);
    node_run_until(n, timer_done, NULL);
    uv_timer_stop(&n->timer);
}

/* ---- node.json ---- */

static json_t *
service_doc(node *n, int s)
{
    node_child *child = n->children[s];
    json_t *doc = json_object(), *endpoints = json_object();
    char *path;

    json_object_set_new(
        doc, "state",
        json_string(node_child_state_name(node_child_get_state(child))));
    json_object_set_new(doc, "pid", json_integer(node_child_pid(child)));
    json_object_set_new(doc, "restarts",
                        json_integer(node_child_restarts(child)));
    json_object_set_new(doc, "program", json_string(n->programs[s]));
    path = node_path(n->dir, node_services[s].name);
    json_object_set_new(doc, "data_dir", json_string(path));
    free(path);
    json_object_set_new(doc, "config", json_string(n->configs[s]));
    json_object_set_new(doc, "log_file", json_string(n->logs[s]));
    for (size_t i = 0; i < node_child_endpoint_count(child); i++) {
        const char *label = node_child_endpoint_label(child, i);

        json_object_set_new(endpoints, label,
                            json_string(node_child_endpoint(child, label)));
    }
    json_object_set_new(doc, "endpoints", endpoints);
    if (!n->plain)
        json_object_set_new(doc, "public_key",
                            json_string(n->keys[s].public_key));
    return doc;
}

void
node_save(node *n, const char *state)
{
    json_t *doc = json_object(), *svcs = json_object();
    char stamp[32], *path;
    int rc;

    node_time_text(stamp, sizeof(stamp));
    json_object_set_new(doc, "format", json_integer(1));
    json_object_set_new(doc, "state", json_string(state));
    json_object_set_new(doc, "pid", json_integer(getpid()));
    json_object_set_new(doc, "data_dir", json_string(n->dir));
    json_object_set_new(doc, "started_at", json_string(n->started_at));
    json_object_set_new(doc, "updated_at", json_string(stamp));
    path = node_path(n->dir, "log/node.log");
    json_object_set_new(doc, "log_file", json_string(path));
    free(path);
    json_object_set_new(doc, "sample_loaded", json_boolean(n->sample_loaded));
    json_object_set_new(doc, "curve", json_boolean(!n->plain));
    if (!n->plain)
        json_object_set_new(doc, "client_key_file",
                            json_string(n->client.path));
    for (int s = 0; s < NODE_SERVICES; s++) {
        if (n->children[s] != NULL)
            json_object_set_new(svcs, node_services[s].name, service_doc(n, s));
    }
    json_object_set_new(doc, "services", svcs);
    if ((rc = node_json_save(n->dir, doc)) != 0)
        node_note(n, true, "cannot write %s/node.json: %s", n->dir,
                  strerror(-rc));
    json_decref(doc);
}

/* ---- config files ---- */

/* Writes DIR/etc/<svc>.conf. Before the first start every socket is an
 * ephemeral port on loopback; once the service is ready, its file is
 * rewritten with the ports it bound, so a restart binds the same ones. */
static int
write_config(node *n, int s)
{
    const node_service *def = &node_services[s];
    node_child *child = n->children[s];
    node_setting settings[12];
    size_t count = 0;
    char *data = node_path(n->dir, def->name);
    int rc;

    settings[count++] =
        (node_setting){"data_dir", data, "LMDB store and keys of this service"};
    for (size_t i = 0; i < JM_COUNTOF(def->sockets) && def->sockets[i].key;
         i++) {
        const char *bound =
            child != NULL ? node_child_endpoint(child, def->sockets[i].label)
                          : NULL;

        settings[count++] = (node_setting){
            def->sockets[i].key,
            bound != NULL ? bound : "tcp://127.0.0.1:*",
            i == 0 ? (bound != NULL ? "bound at the first start (was "
                                      "tcp://127.0.0.1:*)"
                                    : "ephemeral ports on loopback")
                   : NULL,
        };
    }
    if (!n->plain) {
        settings[count++] = (node_setting){
            "key_file", n->keys[s].path,
            "CURVE: this service's key pair, and who may call it"};
        settings[count++] = (node_setting){"allow_file", n->allows[s], NULL};
    }
    if (s == CLI_MATCHER) {
        settings[count++] =
            (node_setting){"source", n->endpoints[CLI_INTAKE],
                           "the logs it follows: this node's intake..."};
        settings[count++] = (node_setting){"source", n->endpoints[CLI_PROFILES],
                                           "...and profiles"};
        if (!n->plain) {
            settings[count++] =
                (node_setting){"source_key", n->keys[CLI_INTAKE].public_path,
                               "their public keys, in the same order"};
            settings[count++] = (node_setting){
                "source_key", n->keys[CLI_PROFILES].public_path, NULL};
        }
    }
    rc = node_write_config(n->configs[s], def->name, settings, count);
    if (rc != 0)
        fprintf(stderr, "jobmatch: cannot write %s: %s\n", n->configs[s],
                strerror(-rc));
    free(data);
    return rc;
}

/* ---- the children ---- */

static void
on_child_event(node_child *child, void *arg)
{
    node *n = arg;
    node_child_state state = node_child_get_state(child);
    const char *name = node_child_name(child);

    if (!n->started || n->stopping || child == n->loader)
        return; /* the start and stop sequences report for themselves */
    switch (state) {
    case NODE_CHILD_BACKOFF:
        node_note(n, true,
                  "%s (pid %ld) died: %s; restarting it (restart %u); its "
                  "last lines:",
                  name, (long) node_child_pid(child),
                  node_child_exit_text(child), node_child_restarts(child) + 1);
        node_child_print_tail(child, stderr);
        break;
    case NODE_CHILD_READY:
        node_note(n, true, "%s is back (pid %ld)", name,
                  (long) node_child_pid(child));
        break;
    case NODE_CHILD_EXITED:
        node_note(n, true, "%s could not be restarted: %s", name,
                  node_child_exit_text(child));
        break;
    default:
        break;
    }
    node_save(n, "running");
}

static void
start_child(node *n, int s)
{
    const char *argv[] = {n->programs[s], "-c", n->configs[s], NULL};
    node_child_opts opts = {
        .name = node_services[s].name,
        .argv = argv,
        .setpriv = n->setpriv,
        .log_path = n->logs[s],
        .echo = n->foreground,
        .wait_ready = true,
        .restart = true,
        .ready_timeout_ms = n->ready_timeout_ms,
        .stop_timeout_ms = STOP_TIMEOUT_MS,
        .on_event = on_child_event,
        .arg = n,
    };

    node_child_new(&n->children[s], n->loop, &opts);
    node_note(n, false, "starting %s: %s -c %s", node_services[s].name,
              n->programs[s], n->configs[s]);
    node_child_start(n->children[s]);
}

static bool
settled(node *n, void *arg)
{
    const int *which = arg;

    if (n->stopping)
        return true;
    for (; *which >= 0; which++) {
        node_child_state st = node_child_get_state(n->children[*which]);

        if (st == NODE_CHILD_IDLE || st == NODE_CHILD_STARTING)
            return false;
    }
    return true;
}

/* Starts the services in which[] (ended by -1) and waits for their ready
 * lines. Returns false, having explained why, if one did not come up. */
static bool
start_services(node *n, const int *which)
{
    bool ok = true;

    for (const int *s = which; *s >= 0; s++) {
        if (write_config(n, *s) != 0)
            return false;
        start_child(n, *s);
    }
    node_run_until(n, settled, (void *) which);
    for (const int *s = which; *s >= 0 && !n->stopping; s++) {
        node_child *child = n->children[*s];

        if (node_child_get_state(child) == NODE_CHILD_READY) {
            free(n->endpoints[*s]);
            n->endpoints[*s] =
                jm_xstrdup(node_child_endpoint(child, "api") != NULL
                               ? node_child_endpoint(child, "api")
                               : "");
            write_config(n, *s); /* pin the bound ports */
            node_note(n, false, "%s ready (pid %ld) at %s",
                      node_services[*s].name, (long) node_child_pid(child),
                      n->endpoints[*s]);
            continue;
        }
        ok = false;
        fflush(stdout);
        fprintf(stderr,
                "jobmatch: %s did not start (%s). Its last log lines (%s):\n",
                node_services[*s].name, node_child_exit_text(child),
                n->logs[*s]);
        node_child_print_tail(child, stderr);
        node_note(n, false, "%s did not start: %s", node_services[*s].name,
                  node_child_exit_text(child));
    }
    return ok && !n->stopping;
}

static bool
all_exited(node *n, void *arg)
{
    (void) arg;
    for (int s = 0; s < NODE_SERVICES; s++) {
        if (n->children[s] != NULL && !node_child_done(n->children[s]))
            return false;
    }
    return n->loader == NULL || node_child_done(n->loader);
}

/* SIGTERM (or with now, SIGKILL) to every child still running. */
static void
stop_children(node *n, bool now)
{
    void (*stop)(node_child *) = now ? node_child_kill : node_child_stop;

    /* The matcher first: it follows the other two and would only log
     * their disappearance. All get SIGTERM in the same loop turn anyway. */
    for (int s = NODE_SERVICES - 1; s >= 0; s--) {
        if (n->children[s] != NULL)
            stop(n->children[s]);
    }
    if (n->loader != NULL)
        stop(n->loader);
}

static void
on_signal(uv_signal_t *handle, int signum)
{
    node *n = handle->data;

    if (n->stopping) {
        node_note(n, true, "second signal: killing the services now");
        stop_children(n, true);
        return;
    }
    n->stopping = true;
    node_note(n, true, "%s received, stopping the node",
              signum == SIGINT    ? "SIGINT"
              : signum == SIGTERM ? "SIGTERM"
                                  : "SIGHUP");
    stop_children(n, false);
}

/* ---- node start ---- */

static void
print_summary(node *n)
{
    cli_table *t = cli_table_new("SERVICE", ">PID", "API", "LOG", NULL);

    printf("jobmatch node ready in %s\n\n", n->dir);
    for (int s = 0; s < NODE_SERVICES; s++) {
        cli_table_cell(t, "%s", node_services[s].name);
        cli_table_cell(t, "%ld", (long) node_child_pid(n->children[s]));
        cli_table_cell(t, "%s", n->endpoints[s]);
        cli_table_cell(t, "%s", n->logs[s]);
    }
    cli_table_print(t, stdout);
    printf("\nTalk to it with `%s ...`, e.g. `%s ping matcher`.\n",
           n->prog_node, n->prog_node);
    fflush(stdout);
}

static void
cleanup(node *n)
{
    for (int s = 0; s < NODE_SERVICES; s++) {
        node_child_destroy(&n->children[s]);
        free(n->programs[s]);
        free(n->configs[s]);
        free(n->logs[s]);
        free(n->endpoints[s]);
        free(n->allows[s]);
        node_key_release(&n->keys[s]);
    }
    node_key_release(&n->client);
    node_child_destroy(&n->loader);
    for (size_t i = 0; i < JM_COUNTOF(n->signals); i++)
        uv_close((uv_handle_t *) &n->signals[i], NULL);
    uv_close((uv_handle_t *) &n->timer, NULL);
    /* The handles live in *n, on our caller's stack: let them close
     * before it goes (the close callbacks run in this turn). */
    uv_run(n->loop, UV_RUN_NOWAIT);
    if (n->log != NULL)
        fclose(n->log);
    if (n->lock_fd >= 0)
        close(n->lock_fd); /* releases the lock */
    free(n->dir);
    free(n->self_exe);
    free(n->self_dir);
    free(n->prog);
    free(n->prog_node);
    free(n->setpriv);
}

static int
node_start(cli *c, int argc, char **argv)
{
    static const int sources[] = {CLI_INTAKE, CLI_PROFILES, -1};
    static const int matcher[] = {CLI_MATCHER, -1};
    static const int signums[] = {SIGINT, SIGTERM, SIGHUP};
    node n = {.c = c, .loop = &c->loop, .lock_fd = -1};
    int rc;

    n.ready_timeout_ms = 60000;
    /* A closed stdout (`node start | head`) must not kill the node with
     * SIGPIPE and leave its services running. (Children get the default
     * back: libuv resets signal dispositions in a spawned child.) */
    signal(SIGPIPE, SIG_IGN);
    uv_timer_init(n.loop, &n.timer);
    for (size_t i = 0; i < JM_COUNTOF(n.signals); i++) {
        uv_signal_init(n.loop, &n.signals[i]);
        n.signals[i].data = &n;
        uv_signal_start(&n.signals[i], on_signal, signums[i]);
    }
    if ((rc = node_parse_start(&n, argc, argv)) != 0) {
        rc = rc > 0 ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if ((rc = node_prepare(&n)) != CLI_OK)
        goto out;
    node_time_text(n.started_at, sizeof(n.started_at));
    node_note(&n, false, "node starting in %s (pid %ld)", n.dir,
              (long) getpid());
    printf("Starting a jobmatch node in %s ...\n", n.dir);
    fflush(stdout);
    rc = CLI_ERROR_REPLY;
    if (!start_services(&n, sources) || !start_services(&n, matcher))
        goto stop;
    n.started = true;
    /* The node's own requests (welcome, catch-up) use these endpoints. */
    for (int s = 0; s < NODE_SERVICES; s++) {
        free(c->endpoints[s]);
        c->endpoints[s] = jm_xstrdup(n.endpoints[s]);
    }
    n.sample_loaded = node_sample_marked(&n);
    node_save(&n, "running");
    node_note(&n, false, "node ready");
    print_summary(&n);
    if (n.sample && !n.stopping)
        node_sample(&n);
    if (!n.stopping) {
        printf("\nnode running (pid %ld); Ctrl-C or `%s node stop "
               "--data-dir %s` stops it.\n",
               (long) getpid(), n.prog, n.dir_arg);
        fflush(stdout);
    }
    node_run_until(&n, is_stopping, NULL); /* until a signal */
    rc = CLI_OK;

stop:
    n.stopping = true;
    stop_children(&n, false); /* those a signal has not stopped yet */
    node_run_until(&n, all_exited, NULL);
    for (int s = 0; s < NODE_SERVICES; s++) {
        if (n.children[s] != NULL && node_child_pid(n.children[s]) > 0)
            node_note(&n, false, "%s (pid %ld) ended: %s",
                      node_services[s].name,
                      (long) node_child_pid(n.children[s]),
                      node_child_exit_text(n.children[s]));
    }
    if (n.dir != NULL && n.lock_fd >= 0) {
        bool any = false;

        for (int s = 0; s < NODE_SERVICES; s++)
            any = any || n.children[s] != NULL;
        if (any)
            node_save(&n, "stopped");
        node_note(&n, rc == CLI_OK, "node stopped");
    }
out:
    cleanup(&n);
    return rc;
}

/* ---- dispatch ---- */

int
cli_cmd_node(cli *c, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "start") == 0)
        return node_start(c, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "status") == 0)
        return node_status(c, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "stop") == 0)
        return node_stop(c, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
        return node_keygen(c, argc - 1, argv + 1);
    if (argc == 2 &&
        (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: jobmatch node start|status|stop --data-dir DIR\n"
               "       jobmatch node keygen FILE\n"
               "\n"
               "  start   run intake, profiles and matcher here until "
               "Ctrl-C\n"
               "  status  is the node running, and does each service "
               "answer?\n"
               "  stop    stop the node running in DIR\n"
               "  keygen  write a new CURVE key pair (for your own "
               "setup)\n"
               "\n"
               "`jobmatch node COMMAND --help` for each.\n");
        return CLI_OK;
    }
    return cli_usage_error(c, "usage: jobmatch node start|status|stop "
                              "--data-dir DIR (see jobmatch node --help)");
}
