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
#define _XOPEN_SOURCE 700 /* realpath */
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

typedef struct service_def {
    const char *name;    /* "intake"; also its data and config file name */
    const char *program; /* "jobmatch-intake" */

    /* The sockets it binds: the ready line's label and the config key
     * that sets the endpoint (the services' config tables). A source's
     * log is served on its api endpoint: no separate log socket. */
    struct {
        const char *label, *key;
    } sockets[3];
} service_def;

/* Indexed like cli_service. */
static const service_def services[NODE_SERVICES] = {
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
    path = node_path(n->dir, services[s].name);
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
            json_object_set_new(svcs, services[s].name, service_doc(n, s));
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
    const service_def *def = &services[s];
    node_child *child = n->children[s];
    node_setting settings[10];
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
    }
    rc = node_write_config(n->configs[s], def->name, settings, count);
    if (rc != 0)
        fprintf(stderr, "jobmatch: cannot write %s: %s\n", n->configs[s],
                strerror(-rc));
    free(data);
    return rc;
}

/* ---- finding the programs ---- */

static bool
executable(const char *path)
{
    return access(path, X_OK) == 0;
}

/* Where the service programs are, in this order:
 *   1. --bin-dir DIR, if given (and then only there);
 *   2. next to this jobmatch executable;
 *   3. ../sbin from it: an installed system (cmake --install puts jobmatch
 *      in PREFIX/bin and the services in PREFIX/sbin);
 *   4. the build tree's layout: build/services/cli/jobmatch next to
 *      build/services/<svc>/jobmatch-<svc>;
 *   5. every directory of PATH. */
static char *
find_program(node *n, int s, char *searched, size_t size)
{
    const service_def *def = &services[s];
    char path[PATH_MAX];
    const char *env_path;
    char *dirs, *save = NULL;

    searched[0] = '\0';
    if (n->bin_dir != NULL) {
        snprintf(path, sizeof(path), "%s/%s", n->bin_dir, def->program);
        snprintf(searched, size, "%s", path);
        return executable(path) ? jm_xstrdup(path) : NULL;
    }
    snprintf(path, sizeof(path), "%s/%s", n->self_dir, def->program);
    if (executable(path))
        return jm_xstrdup(path);
    snprintf(path, sizeof(path), "%s/../sbin/%s", n->self_dir, def->program);
    if (executable(path))
        return realpath(path, NULL);
    snprintf(path, sizeof(path), "%s/../%s/%s", n->self_dir, def->name,
             def->program);
    if (executable(path))
        return realpath(path, NULL);
    snprintf(searched, size, "%s, %s/../sbin, %s/../%s and PATH", n->self_dir,
             n->self_dir, n->self_dir, def->name);
    env_path = getenv("PATH");
    if (env_path == NULL)
        return NULL;
    dirs = jm_xstrdup(env_path);
    for (char *d = strtok_r(dirs, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof(path), "%s/%s", *d ? d : ".", def->program);
        if (executable(path)) {
            free(dirs);
            return jm_xstrdup(path);
        }
    }
    free(dirs);
    return NULL;
}

/* "jobmatch" if PATH finds this very program under that name; else its
 * path, relative to the working directory when below it (a build tree:
 * "build/release/services/cli/jobmatch"). Caller frees. */
static char *
display_name(const char *self_exe)
{
    char path[PATH_MAX], cwd[PATH_MAX];
    const char *env_path = getenv("PATH");
    char *dirs = jm_xstrdup(env_path != NULL ? env_path : ""), *save = NULL;
    size_t len;

    for (char *d = strtok_r(dirs, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
        char *real;
        bool same;

        snprintf(path, sizeof(path), "%s/jobmatch", d);
        if ((real = realpath(path, NULL)) == NULL)
            continue;
        same = strcmp(real, self_exe) == 0;
        free(real);
        if (same) {
            free(dirs);
            return jm_xstrdup("jobmatch");
        }
    }
    free(dirs);
    if (getcwd(cwd, sizeof(cwd)) != NULL && (len = strlen(cwd)) > 1 &&
        strncmp(self_exe, cwd, len) == 0 && self_exe[len] == '/')
        return jm_xstrdup(self_exe + len + 1);
    return jm_xstrdup(self_exe);
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
        .name = services[s].name,
        .argv = argv,
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
    node_note(n, false, "starting %s: %s -c %s", services[s].name,
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
            node_note(n, false, "%s ready (pid %ld) at %s", services[*s].name,
                      (long) node_child_pid(child), n->endpoints[*s]);
            continue;
        }
        ok = false;
        fflush(stdout);
        fprintf(stderr,
                "jobmatch: %s did not start (%s). Its last log lines (%s):\n",
                services[*s].name, node_child_exit_text(child), n->logs[*s]);
        node_child_print_tail(child, stderr);
        node_note(n, false, "%s did not start: %s", services[*s].name,
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

/* A child of an earlier node that died without stopping its children (a
 * SIGKILL) would still serve on this directory's stores. */
static bool
leftovers(node *n)
{
    char err[256];
    json_t *doc = node_json_load(n->dir, err, sizeof(err)), *svc;
    const char *name;
    bool found = false;

    if (doc == NULL)
        return false;
    json_object_foreach(json_object_get(doc, "services"), name, svc)
    {
        pid_t pid = (pid_t) json_integer_value(json_object_get(svc, "pid"));

        if (pid > 0 && node_pid_runs_in(pid, n->dir)) {
            fprintf(stderr,
                    "jobmatch: %s (pid %ld) of an earlier node still runs on "
                    "%s; stop it first (kill %ld)\n",
                    name, (long) pid, n->dir, (long) pid);
            found = true;
        }
    }
    json_decref(doc);
    return found;
}

/* ---- node start ---- */

static void
start_usage(FILE *out)
{
    fprintf(
        out,
        "usage: jobmatch node start --data-dir DIR [--sample] "
        "[--citizens N] [--orders M]\n"
        "                           [--foreground] [--plain] [--bin-dir "
        "DIR]\n"
        "                           [--ready-timeout S]\n"
        "\n"
        "Runs jobmatch-intake, jobmatch-profiles and jobmatch-matcher on\n"
        "loopback (ephemeral ports), each with its data in DIR/<service>,\n"
        "its config in DIR/etc and its log in DIR/log, and keeps them\n"
        "running until Ctrl-C (a service that dies is restarted on the same\n"
        "endpoints). DIR/node.json names the endpoints: other commands\n"
        "take `--node DIR`.\n"
        "\n"
        "  --sample         load sample data on the first start (jobmatch\n"
        "                   sample load) and show one explained shortlist\n"
        "  --citizens N     sample citizens (passed to sample load)\n"
        "  --orders M       sample job orders (passed to sample load)\n"
        "  --foreground     also show the services' log lines here\n"
        "  --plain          no CURVE: every caller is 'local' (by default\n"
        "                   the node makes keys in DIR/keys and allow\n"
        "                   lists in DIR/etc; --node DIR uses them)\n"
        "  --bin-dir DIR    where the service programs are (default: next\n"
        "                   to jobmatch, the build tree, then PATH)\n"
        "  --ready-timeout S  seconds to wait for each ready line (60)\n");
}

static int
parse_start(node *n, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        unsigned long long v;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            start_usage(stdout);
            return 1;
        } else if (strcmp(a, "--data-dir") == 0 && has_value) {
            n->dir_arg = argv[++i];
        } else if (strcmp(a, "--bin-dir") == 0 && has_value) {
            n->bin_dir = argv[++i];
        } else if (strcmp(a, "--sample") == 0) {
            n->sample = true;
        } else if (strcmp(a, "--foreground") == 0) {
            n->foreground = true;
        } else if (strcmp(a, "--plain") == 0) {
            n->plain = true;
        } else if ((strcmp(a, "--citizens") == 0 ||
                    strcmp(a, "--orders") == 0) &&
                   has_value && cli_parse_uint(argv[i + 1], 10000000, &v)) {
            if (a[2] == 'c')
                n->citizens = argv[++i];
            else
                n->orders = argv[++i];
        } else if (strcmp(a, "--ready-timeout") == 0 && has_value &&
                   cli_parse_uint(argv[i + 1], 3600, &v) && v > 0) {
            n->ready_timeout_ms = (unsigned) v * 1000;
            i++;
        } else {
            cli_usage_error(n->c, "node start: bad argument '%s'", a);
            start_usage(stderr);
            return -1;
        }
    }
    if (n->dir_arg == NULL) {
        cli_usage_error(n->c, "node start: --data-dir DIR is required");
        return -1;
    }
    if ((n->citizens != NULL || n->orders != NULL) && !n->sample) {
        cli_usage_error(n->c, "node start: --citizens and --orders go with "
                              "--sample");
        return -1;
    }
    return 0;
}

/* The key pairs and allow lists (node_keys.c), and the keys the node's
 * own requests use. */
static int
prepare_keys(node *n)
{
    const node_key *admitted[2] = {&n->client, &n->keys[CLI_MATCHER]};
    static const char *const principals[2] = {"admin", "service:matcher"};
    int rc;

    if ((rc = node_key_pair(n->dir, "client", &n->client)) != 0)
        return rc;
    for (int s = 0; s < NODE_SERVICES; s++) {
        if ((rc = node_key_pair(n->dir, services[s].name, &n->keys[s])) != 0)
            return rc;
    }
    for (int s = 0; s < NODE_SERVICES; s++) {
        char name[64];

        snprintf(name, sizeof(name), "etc/%s.allow", services[s].name);
        n->allows[s] = node_path(n->dir, name);
        /* Only sources admit the matcher: it reads their logs. */
        rc = node_write_allow(n->allows[s], admitted, principals,
                              s == CLI_MATCHER ? 1 : 2);
        if (rc != 0) {
            fprintf(stderr, "jobmatch: cannot write %s: %s\n", n->allows[s],
                    strerror(-rc));
            return rc;
        }
        memcpy(n->c->curve[s].server_key, n->keys[s].public_key,
               sizeof(n->c->curve[s].server_key));
        memcpy(n->c->curve[s].public_key, n->client.public_key,
               sizeof(n->c->curve[s].public_key));
        memcpy(n->c->curve[s].secret_key, n->client.secret_key,
               sizeof(n->c->curve[s].secret_key));
    }
    return 0;
}

/* Everything that needs no child yet: the directory, the lock, the
 * programs, the log, the keys. Returns an exit code (CLI_OK to go on). */
static int
prepare(node *n)
{
    const char *names[NODE_SERVICES];
    char err[PATH_MAX + 128], exe[PATH_MAX], searched[3 * PATH_MAX];
    ssize_t len;
    pid_t holder;
    int rc;

    for (int s = 0; s < NODE_SERVICES; s++)
        names[s] = services[s].name;
    n->dir =
        node_dir_prepare(n->dir_arg, names, NODE_SERVICES, err, sizeof(err));
    if (n->dir == NULL) {
        fprintf(stderr, "jobmatch: %s\n", err);
        return CLI_ERROR_REPLY;
    }
    if ((rc = node_lock(n->dir, &n->lock_fd, &holder)) != 0) {
        if (rc == -EBUSY)
            fprintf(stderr,
                    "jobmatch: a node already runs in %s (pid %ld); stop it "
                    "with `jobmatch node stop --data-dir %s`\n",
                    n->dir, (long) holder, n->dir_arg);
        else
            fprintf(stderr, "jobmatch: cannot lock %s/node.lock: %s\n", n->dir,
                    strerror(-rc));
        return CLI_ERROR_REPLY;
    }
    if (leftovers(n))
        return CLI_ERROR_REPLY;
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) {
        fprintf(stderr, "jobmatch: cannot find my own program: %s\n",
                strerror(errno));
        return CLI_ERROR_REPLY;
    }
    exe[len] = '\0';
    n->self_exe = jm_xstrdup(exe);
    *strrchr(exe, '/') = '\0';
    n->self_dir = jm_xstrdup(exe);
    n->prog = display_name(n->self_exe);
    n->prog_node = jm_xmalloc(strlen(n->prog) + strlen(n->dir_arg) + 9);
    sprintf(n->prog_node, "%s --node %s", n->prog, n->dir_arg);
    for (int s = 0; s < NODE_SERVICES; s++) {
        char name[64];

        n->programs[s] = find_program(n, s, searched, sizeof(searched));
        if (n->programs[s] == NULL) {
            fprintf(stderr, "jobmatch: cannot find %s (looked in %s)\n",
                    services[s].program, searched);
            return CLI_ERROR_REPLY;
        }
        snprintf(name, sizeof(name), "etc/%s.conf", services[s].name);
        n->configs[s] = node_path(n->dir, name);
        snprintf(name, sizeof(name), "log/%s.log", services[s].name);
        n->logs[s] = node_path(n->dir, name);
    }
    n->log = node_open_log(n->dir);
    if (!n->plain && prepare_keys(n) != 0)
        return CLI_ERROR_REPLY;
    return CLI_OK;
}

static void
print_summary(node *n)
{
    cli_table *t = cli_table_new("SERVICE", ">PID", "API", "LOG", NULL);

    printf("jobmatch node ready in %s\n\n", n->dir);
    for (int s = 0; s < NODE_SERVICES; s++) {
        cli_table_cell(t, "%s", services[s].name);
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
    if ((rc = parse_start(&n, argc, argv)) != 0) {
        rc = rc > 0 ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if ((rc = prepare(&n)) != CLI_OK)
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
            node_note(&n, false, "%s (pid %ld) ended: %s", services[s].name,
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
