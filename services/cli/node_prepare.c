/* node_prepare.c - what `jobmatch node start` does before it starts any
 * child (see node.h): its options, the node directory and its lock, a
 * check for services an earlier node left running, the programs to run,
 * and the CURVE keys. Everything here can fail with a plain message and
 * nothing to undo but memory, which cmd_node.c's cleanup frees. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_commands.h"
#include "jm/mem.h"
#include "node.h"

/* ---- finding the programs ---- */

static bool
executable(const char *path)
{
    return access(path, X_OK) == 0;
}

/* The first executable name in PATH (or /usr/bin), or NULL. Caller
 * frees. */
static char *
find_in_path(const char *name)
{
    char path[PATH_MAX];
    const char *env_path = getenv("PATH");
    char *dirs = jm_xstrdup(env_path != NULL ? env_path : ""), *save = NULL;

    for (char *d = strtok_r(dirs, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof(path), "%s/%s", *d ? d : ".", name);
        if (executable(path)) {
            free(dirs);
            return jm_xstrdup(path);
        }
    }
    free(dirs);
    snprintf(path, sizeof(path), "/usr/bin/%s", name);
    return executable(path) ? jm_xstrdup(path) : NULL;
}

/* Where the service programs are, in this order:
 *   1. --bin-dir DIR, if given (and then only there);
 *   2. next to this jobmatch executable;
 *   3. ../sbin from it: an installed system (cmake --install puts jobmatch
 *      in PREFIX/bin and the services in PREFIX/sbin);
 *   4. the build tree's layout: build/services/cli/jobmatch next to
 *      build/services/<svc>/jobmatch-<svc>;
 *   5. every directory of PATH (then /usr/bin). */
static char *
find_program(node *n, int s, char *searched, size_t size)
{
    const node_service *def = &node_services[s];
    char path[PATH_MAX];

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
    return find_in_path(def->program);
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

static void
start_usage(FILE *out)
{
    fprintf(
        out,
        "usage: jobmatch node start --data-dir DIR [--sample [--citizens N]\n"
        "                           [--orders M] [--municipalities L]]\n"
        "                           [--foreground] [--plain] [--bin-dir DIR]\n"
        "                           [--ready-timeout S]\n"
        "\n"
        "Runs jobmatch-intake, jobmatch-profiles and jobmatch-matcher on\n"
        "loopback (ephemeral ports), each with its data in DIR/<service>,\n"
        "its config in DIR/etc and its log in DIR/log, and keeps them\n"
        "running until Ctrl-C (a service that dies is restarted on the same\n"
        "endpoints). DIR/node.json names the endpoints: other commands\n"
        "take `--node DIR`.\n"
        "\n"
        "  --sample           load sample data on the first start (jobmatch\n"
        "                     sample load) and show one explained shortlist\n"
        "  --citizens N       sample citizens  } passed to sample load on\n"
        "  --orders M         sample job orders } the first start (see\n"
        "  --municipalities L only these        } jobmatch sample load "
        "--help)\n"
        "  --foreground       also show the services' log lines here\n"
        "  --plain            no CURVE: every caller is 'local' (by default\n"
        "                     the node makes keys in DIR/keys and allow\n"
        "                     lists in DIR/etc; --node DIR uses them)\n"
        "  --bin-dir DIR      where the service programs are (default: next\n"
        "                     to jobmatch, ../sbin, the build tree, PATH)\n"
        "  --ready-timeout S  seconds to wait for each ready line (60)\n");
}

int
node_parse_start(node *n, int argc, char **argv)
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
        } else if (strcmp(a, "--municipalities") == 0 && has_value) {
            n->municipalities = argv[++i];
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
    if ((n->citizens != NULL || n->orders != NULL ||
         n->municipalities != NULL) &&
        !n->sample) {
        cli_usage_error(n->c, "node start: --citizens, --orders and "
                              "--municipalities go with --sample");
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
        if ((rc = node_key_pair(n->dir, node_services[s].name, &n->keys[s])) !=
            0)
            return rc;
    }
    for (int s = 0; s < NODE_SERVICES; s++) {
        char name[64];

        snprintf(name, sizeof(name), "etc/%s.allow", node_services[s].name);
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
int
node_prepare(node *n)
{
    const char *names[NODE_SERVICES];
    char err[PATH_MAX + 128], exe[PATH_MAX], searched[3 * PATH_MAX];
    ssize_t len;
    pid_t holder;
    int rc;

    for (int s = 0; s < NODE_SERVICES; s++)
        names[s] = node_services[s].name;
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
                    node_services[s].program, searched);
            return CLI_ERROR_REPLY;
        }
        snprintf(name, sizeof(name), "etc/%s.conf", node_services[s].name);
        n->configs[s] = node_path(n->dir, name);
        snprintf(name, sizeof(name), "log/%s.log", node_services[s].name);
        n->logs[s] = node_path(n->dir, name);
    }
    /* util-linux's setpriv (Debian: essential) ties each child's life to
     * the node's; without it a node killed by SIGKILL leaves its services
     * running (and the next start finds them: leftovers()). */
    n->setpriv = find_in_path("setpriv");
    n->log = node_open_log(n->dir);
    if (!n->plain && prepare_keys(n) != 0)
        return CLI_ERROR_REPLY;
    return CLI_OK;
}
