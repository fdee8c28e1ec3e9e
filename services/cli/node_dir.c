/* node_dir.c - the node directory of `jobmatch node` (see node.h): the
 * lock, the generated config files and node.json, and cli_node_load, which
 * lets every other command talk to a node with `--node DIR`.
 *
 *   DIR/node.lock        fcntl lock + pid of the running node
 *   DIR/node.json        endpoints, pids, data dirs, log files (atomic)
 *   DIR/etc/<svc>.conf   what each service runs with
 *   DIR/log/<svc>.log    each service's stderr; DIR/log/node.log the node's
 *   DIR/<svc>/           each service's data directory (LMDB)
 *
 * Files are replaced atomically (temporary file, fsync, rename): a reader
 * (another `jobmatch --node DIR` command, or an operator) sees the old or
 * the new file, never half of one. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_commands.h"
#include "jm/bus.h"
#include "jm/err.h"
#include "jm/mem.h"

#define LOCAL_MARKER \
    "# ---- local settings (kept when the node rewrites this file)"

char *
node_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = jm_xmalloc(len);

    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

void
node_time_text(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
make_dir(const char *path)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

char *
node_dir_prepare(const char *dir, const char *const *services, size_t count,
                 char *err, size_t err_size)
{
    char *abs = NULL, *sub = NULL;
    int rc;

    if ((rc = make_dir(dir)) != 0) {
        snprintf(err, err_size, "cannot create %s: %s", dir, strerror(-rc));
        return NULL;
    }
    abs = realpath(dir, NULL);
    if (abs == NULL) {
        snprintf(err, err_size, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    for (size_t i = 0; i < count + 2; i++) {
        const char *name = i < count ? services[i] : i == count ? "etc" : "log";

        sub = node_path(abs, name);
        if ((rc = make_dir(sub)) != 0) {
            snprintf(err, err_size, "cannot create %s: %s", sub, strerror(-rc));
            free(sub);
            free(abs);
            return NULL;
        }
        free(sub);
    }
    return abs;
}

/* ---- the lock ---- */

int
node_lock(const char *dir, int *fd_p, pid_t *holder_p)
{
    char *path = node_path(dir, "node.lock");
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char text[32];
    int fd, rc = 0, len;

    *fd_p = -1;
    *holder_p = 0;
    /* O_CLOEXEC: the children must not inherit it (they would not hold
     * the lock, but a descriptor of the file in their hands is noise). */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0)
        return -errno;
    if (fcntl(fd, F_SETLK, &lk) != 0) {
        rc = errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
        if (rc == -EBUSY && fcntl(fd, F_GETLK, &lk) == 0 &&
            lk.l_type != F_UNLCK)
            *holder_p = lk.l_pid;
        close(fd);
        return rc;
    }
    len = snprintf(text, sizeof(text), "%ld\n", (long) getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t) len, 0) != len) {
        rc = -errno;
        close(fd);
        return rc;
    }
    *fd_p = fd;
    return 0;
}

pid_t
node_lock_holder(const char *dir)
{
    char *path = node_path(dir, "node.lock");
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    pid_t pid = 0;

    free(path);
    if (fd < 0)
        return 0;
    if (fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK)
        pid = lk.l_pid;
    close(fd);
    return pid;
}

/* ---- files ---- */

/* The part of an existing config file below the local marker, or "". */
static char *
local_part(const char *path)
{
    FILE *in = fopen(path, "r");
    char *text = NULL, *mark, *out;
    size_t len = 0;

    if (in == NULL)
        return jm_xstrdup("");
    for (;;) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof(buf), in);

        if (n == 0)
            break;
        text = jm_xrealloc(text, len + n + 1);
        memcpy(text + len, buf, n);
        len += n;
    }
    fclose(in);
    if (text == NULL)
        return jm_xstrdup("");
    text[len] = '\0';
    mark = strstr(text, LOCAL_MARKER);
    if (mark == NULL) {
        free(text);
        return jm_xstrdup("");
    }
    mark = strchr(mark, '\n');
    out = jm_xstrdup(mark != NULL ? mark + 1 : "");
    free(text);
    return out;
}

int
node_write_config(const char *path, const char *service,
                  const node_setting *settings, size_t count)
{
    char *local = local_part(path);
    char stamp[32], *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    int rc;

    if (out == NULL) {
        free(local);
        return -errno;
    }
    node_time_text(stamp, sizeof(stamp));
    fprintf(out,
            "# %s.conf - written by `jobmatch node start` (%s).\n"
            "#\n"
            "# This is what jobmatch-%s runs with in this node. The node\n"
            "# rewrites the lines above the local marker at every start: the\n"
            "# endpoints are ephemeral ports on loopback, pinned to the ports\n"
            "# the service bound (so a restarted service keeps its\n"
            "# endpoints). Add your own settings below the marker; see\n"
            "# deploy/config/%s.conf for every key.\n\n",
            service, stamp, service, service);
    for (size_t i = 0; i < count; i++) {
        if (settings[i].comment != NULL)
            fprintf(out, "# %s\n", settings[i].comment);
        fprintf(out, "%s %s\n", settings[i].key, settings[i].value);
    }
    fprintf(out, "\n%s\n%s", LOCAL_MARKER, local);
    fclose(out);
    rc = cli_write_file(path, text, 0640);
    free(text);
    free(local);
    return rc;
}

int
node_json_save(const char *dir, json_t *doc)
{
    char *path = node_path(dir, "node.json");
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t len = strlen(text);
    int rc;

    text = jm_xrealloc(text, len + 2);
    memcpy(text + len, "\n", 2);
    rc = cli_write_file(path, text, 0600);
    free(text);
    free(path);
    return rc;
}

json_t *
node_json_load(const char *dir, char *err, size_t err_size)
{
    char *path = node_path(dir, "node.json");
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

    if (doc == NULL) {
        if (access(path, F_OK) != 0)
            snprintf(err, err_size,
                     "%s not found: no node was started in %s (jobmatch "
                     "node start --data-dir %s)",
                     path, dir, dir);
        else
            snprintf(err, err_size, "%s:%d: %s", path, jerr.line, jerr.text);
    } else if (!json_is_object(doc) ||
               !json_is_object(json_object_get(doc, "services"))) {
        snprintf(err, err_size, "%s: not a node file (no \"services\")", path);
        json_decref(doc);
        doc = NULL;
    }
    free(path);
    return doc;
}

/* ---- --node DIR for every command ---- */

int
node_client_setup(cli *c, json_t *doc, bool replace)
{
    static const char *const names[CLI_SERVICES] = {
        [CLI_INTAKE] = "intake",
        [CLI_PROFILES] = "profiles",
        [CLI_MATCHER] = "matcher",
    };
    char public_key[JM_KEY_Z85_LEN + 1], secret_key[JM_KEY_Z85_LEN + 1];
    json_t *services = json_object_get(doc, "services");
    const char *key_file;
    int rc;

    /* A CURVE node: its client key pair, in a file only we may read. */
    key_file = json_string_value(json_object_get(doc, "client_key_file"));
    if (key_file != NULL &&
        (rc = jm_keys_load(key_file, public_key, secret_key)) != 0) {
        fprintf(stderr, "%s: the node's client key %s: %s\n", c->prog, key_file,
                jm_strerror(rc));
        return CLI_USAGE;
    }
    for (int s = 0; s < CLI_SERVICES; s++) {
        json_t *svc = json_object_get(services, names[s]);
        const char *api = json_string_value(
            json_object_get(json_object_get(svc, "endpoints"), "api"));
        const char *server_key =
            json_string_value(json_object_get(svc, "public_key"));

        /* An endpoint given on the command line wins; the node's keys are
         * then for it only if it is the node's own endpoint. */
        if (api == NULL)
            continue;
        if (c->endpoints[s] != NULL && !replace &&
            strcmp(c->endpoints[s], api) != 0)
            continue;
        free(c->endpoints[s]);
        c->endpoints[s] = jm_xstrdup(api);
        memset(&c->curve[s], 0, sizeof(c->curve[s]));
        if (key_file != NULL && server_key != NULL &&
            strlen(server_key) == JM_KEY_Z85_LEN) {
            memcpy(c->curve[s].server_key, server_key, JM_KEY_Z85_LEN + 1);
            memcpy(c->curve[s].public_key, public_key, JM_KEY_Z85_LEN + 1);
            memcpy(c->curve[s].secret_key, secret_key, JM_KEY_Z85_LEN + 1);
        }
    }
    memset(secret_key, 0, sizeof(secret_key));
    return CLI_OK;
}

int
cli_node_load(cli *c)
{
    char err[PATH_MAX + 256];
    json_t *doc = node_json_load(c->node_dir, err, sizeof(err));
    const char *state;
    int rc;

    if (doc == NULL) {
        fprintf(stderr, "%s: %s\n", c->prog, err);
        return CLI_USAGE;
    }
    if ((rc = node_client_setup(c, doc, false)) != CLI_OK) {
        json_decref(doc);
        return rc;
    }
    /* A stopped node's endpoints are dead: say so now rather than after a
     * timeout. The lock is the truth (node.json survives a crash). */
    state = json_string_value(json_object_get(doc, "state"));
    if (node_lock_holder(c->node_dir) == 0) {
        fprintf(stderr,
                "%s: the node in %s is not running (%s); start it with "
                "`jobmatch node start --data-dir %s`\n",
                c->prog, c->node_dir, state != NULL ? state : "no node.lock",
                c->node_dir);
        json_decref(doc);
        return CLI_UNREACHABLE;
    }
    json_decref(doc);
    return CLI_OK;
}

FILE *
node_open_log(const char *dir)
{
    char *path = node_path(dir, "log/node.log");
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

    free(path);
    return fd >= 0 ? fdopen(fd, "a") : NULL;
}

bool
node_pid_runs_in(pid_t pid, const char *dir)
{
    char path[64], buf[8192];
    size_t len, dir_len = strlen(dir);
    FILE *in;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long) pid);
    in = fopen(path, "r");
    if (in == NULL)
        return false; /* gone (or not ours to see) */
    len = fread(buf, 1, sizeof(buf) - 1, in);
    fclose(in);
    /* The arguments are NUL-separated: look for dir at the start of any
     * of them, followed by '/' or its end. */
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
        buf[len] = '\0';
        if (strncmp(buf + i, dir, dir_len) == 0 &&
            (buf[i + dir_len] == '/' || buf[i + dir_len] == '\0'))
            return true;
    }
    return false;
}
