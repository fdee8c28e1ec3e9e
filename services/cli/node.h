/* node.h - `jobmatch node`: a whole local node (intake, profiles, matcher)
 * supervised by one foreground process. Private to the CLI.
 *
 *   cmd_node.c     the commands, and the start sequence and supervision
 *   node_prepare.c what comes before the first child: options, lock,
 *                  leftovers of an earlier node, programs, keys
 *   node_child.c   one supervised child process: spawn, its log, the ready
 *                  line, restart with backoff, stop (SIGTERM, then SIGKILL)
 *   node_dir.c     the node directory: lock file, generated configs,
 *                  node.json (written atomically) and cli_node_load
 *   node_keys.c    CURVE key pairs and allow lists; `node keygen`
 *   node_sample.c  --sample: the loader, and the welcome shortlist
 *   node_status.c  `node status` and `node stop`
 *
 * The supervisor runs on the CLI's own libuv loop (cli.loop), so requests
 * the node makes itself (the welcome shortlist, status pings) keep the
 * children supervised while they wait. Children are started detached
 * (their own session): a Ctrl-C on the terminal reaches only the node,
 * which then stops them once, in order, instead of each child receiving
 * the terminal's SIGINT and then the node's SIGTERM as a second signal
 * (which a service answers by exiting at once). */
#ifndef NODE_H
#define NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "cli.h"
#include "jm/bus.h"

#define NODE_SERVICES      CLI_SERVICES /* intake, profiles, matcher */
#define NODE_MAX_ENDPOINTS 8
#define NODE_TAIL_LINES    20

/* ---- one supervised child (node_child.c) ---- */

typedef struct node_child node_child;

typedef enum node_child_state {
    NODE_CHILD_IDLE,     /* not started yet */
    NODE_CHILD_STARTING, /* spawned, its ready line not seen yet */
    NODE_CHILD_READY,    /* serving (or running, if it has no ready line) */
    NODE_CHILD_BACKOFF,  /* died after being ready; restart timer runs */
    NODE_CHILD_STOPPING, /* SIGTERM sent; SIGKILL when the timer fires */
    NODE_CHILD_EXITED,   /* gone, and will not be started again */
} node_child_state;

/* Called on every change of state (from the loop). */
typedef void (*node_child_event_fn)(node_child *self, void *arg);

typedef struct node_child_opts {
    const char *name; /* "intake": log prefix and node.json key */
    /* argv[0] is the program's path; copied. The same argv is used for
     * every restart, so a restart binds what the config file says. */
    const char *const *argv;
    /* setpriv(1), to run argv as `setpriv --pdeathsig TERM -- argv...`:
     * the kernel then sends the child SIGTERM when the node dies, even by
     * SIGKILL, so no service outlives its node. NULL: run argv directly. */
    const char *setpriv;
    /* Its stderr goes here (appended); its stdout too. NULL: the child
     * shares the node's stdout and stderr (the sample loader's progress). */
    const char *log_path;
    bool echo;       /* also copy its stderr lines to ours, prefixed */
    bool wait_ready; /* it prints a ready line (the services) */
    bool restart;    /* restart it when it dies after having been ready */
    unsigned ready_timeout_ms;
    unsigned stop_timeout_ms; /* between SIGTERM and SIGKILL */
    node_child_event_fn on_event;
    void *arg;
} node_child_opts;

/* A child, not started. Caller owns *child_p (node_child_destroy). */
void node_child_new(node_child **child_p, uv_loop_t *loop,
                    const node_child_opts *opts);

/* Spawns it. Returns 0 or -errno from uv_spawn (-ENOENT: no such
 * program); the state is then EXITED. */
int node_child_start(node_child *self);

/* Asks it to stop: SIGTERM, then SIGKILL after stop_timeout_ms. A child
 * waiting to be restarted is simply not restarted. It ends in EXITED.
 * Calling it again changes nothing. */
void node_child_stop(node_child *self);

/* Like node_child_stop, but with SIGKILL at once. */
void node_child_kill(node_child *self);

/* Frees the child: kills it with SIGKILL if it still runs (call
 * node_child_stop and wait for EXITED first to stop it cleanly). Handles
 * close asynchronously: run the loop afterwards. Safe on NULL. */
void node_child_destroy(node_child **child_p);

const char *node_child_name(const node_child *self);
node_child_state node_child_get_state(const node_child *self);
const char *node_child_state_name(node_child_state state);
/* Of the current (or last) process; 0 before the first start. */
pid_t node_child_pid(const node_child *self);
unsigned node_child_restarts(const node_child *self);
/* True when it has EXITED and its stderr has been read to the end (or
 * given up on): nothing more will come from it. */
bool node_child_done(const node_child *self);
/* True once it has been ready (it is then restarted when it dies). */
bool node_child_was_ready(const node_child *self);
/* How the last process ended, in words ("exit status 1", "signal 9"), or
 * "" while it runs. Borrowed. */
const char *node_child_exit_text(const node_child *self);
/* The wait status of the last process: its exit status, or 128 + signal. */
int node_child_exit_code(const node_child *self);

/* The endpoints of its last ready line, in order. Borrowed until the next
 * restart. */
size_t node_child_endpoint_count(const node_child *self);
const char *node_child_endpoint_label(const node_child *self, size_t i);
const char *node_child_endpoint(const node_child *self, const char *label);

/* Prints its last log lines (at most NODE_TAIL_LINES), indented. */
void node_child_print_tail(const node_child *self, FILE *out);

/* ---- the node directory (node_dir.c) ---- */

/* Creates dir and its subdirectories (etc, log, and one per service) if
 * missing, and returns its absolute path (caller frees). On error returns
 * NULL with the reason in err. */
char *node_dir_prepare(const char *dir, const char *const *services,
                       size_t count, char *err, size_t err_size);

/* dir + "/" + name, a new string. */
char *node_path(const char *dir, const char *name);

/* Takes the node's lock: an fcntl write lock on DIR/node.lock, which
 * holds our pid. The lock dies with the process, so a crashed node leaves
 * no stale lock. Returns 0 with *fd_p open (keep it open: closing any
 * descriptor of the file releases the lock), -EBUSY with *holder_p the
 * running node's pid, or -errno. */
int node_lock(const char *dir, int *fd_p, pid_t *holder_p);

/* The pid of the process holding DIR/node.lock, or 0 if none (no node
 * runs there). Never 0 for our own lock: fcntl locks do not conflict
 * with their owner, so only call this from another process. */
pid_t node_lock_holder(const char *dir);

/* One "key value" line of a generated config file. */
typedef struct node_setting {
    const char *key;
    const char *value;
    const char *comment; /* written above it as "# ..."; may be NULL */
} node_setting;

/* Writes a service's config file (atomically), generated from settings.
 * Lines the operator added below the "local settings" marker of an
 * existing file are kept. Returns 0 or -errno. */
int node_write_config(const char *path, const char *service,
                      const node_setting *settings, size_t count);

/* Writes doc to DIR/node.json: to a temporary file, fsync, rename, so a
 * reader sees the old or the new file, never half of one. Mode 0600 (it
 * may name key files). Returns 0 or -errno. */
int node_json_save(const char *dir, json_t *doc);

/* Reads DIR/node.json. NULL if it is missing or unreadable, with the
 * reason in err. Caller owns the result (json_decref). */
json_t *node_json_load(const char *dir, char *err, size_t err_size);

/* Points c at the node described by doc (node.json): each service's api
 * endpoint and, for a CURVE node, the keys to reach it. With replace, it
 * overrides endpoints already set; else those (given on the command line)
 * are kept, and get the node's keys only if they are the node's own. Returns
 * CLI_OK, or CLI_USAGE if the node's client key cannot be read (printed). */
int node_client_setup(cli *c, json_t *doc, bool replace);

/* The current UTC time as "2025-01-31T12:00:00Z". */
void node_time_text(char *buf, size_t size);

/* Opens DIR/log/node.log for appending (close-on-exec). NULL on error. */
FILE *node_open_log(const char *dir);

/* True if process pid runs with dir in its command line: a service of a
 * node in dir (its -c names DIR/etc/...). Reads /proc/PID/cmdline. */
bool node_pid_runs_in(pid_t pid, const char *dir);

/* ---- CURVE keys (node_keys.c) ---- */

typedef struct node_key {
    char *path;        /* DIR/keys/<name>.key: the pair, 0600 */
    char *public_path; /* DIR/keys/<name>.pub: the public key only */
    char public_key[JM_KEY_Z85_LEN + 1];
    char secret_key[JM_KEY_Z85_LEN + 1];
} node_key;

/* Reads DIR/keys/<name>.key, creating the directory (0700) and a new key
 * pair (0600) if missing. Returns 0 or -errno (-EPERM: the file may be
 * read by others), having printed the problem. Release with
 * node_key_release. */
int node_key_pair(const char *dir, const char *name, node_key *key);
void node_key_release(node_key *key);

/* Writes an allow list: one "PUBLIC_KEY principal" line per key. */
int node_write_allow(const char *path, const node_key *const *keys,
                     const char *const *principals, size_t count);

/* `jobmatch node keygen FILE`: a key pair for an operator's own setup. */
int node_keygen(cli *c, int argc, char **argv);

/* ---- the running node (cmd_node.c, node_prepare.c, node_sample.c) ---- */

/* What the node runs (cmd_node.c): indexed like cli_service. */
typedef struct node_service {
    const char *name;    /* "intake"; also its data and config file name */
    const char *program; /* "jobmatch-intake" */

    /* The sockets it binds: the ready line's label and the config key
     * that sets the endpoint (the services' config tables). A source's
     * log is served on its api endpoint: no separate log socket. */
    struct {
        const char *label, *key;
    } sockets[3];
} node_service;

extern const node_service node_services[NODE_SERVICES];

typedef struct node {
    cli *c;
    uv_loop_t *loop; /* the CLI's loop */
    /* Options of `node start`. */
    const char *dir_arg; /* as given, for the commands we print */
    const char *bin_dir;
    /* For sample load; NULL: its defaults. */
    const char *citizens, *orders, *municipalities;
    bool sample, foreground;
    bool plain; /* --plain: no CURVE (every caller is "local") */
    unsigned ready_timeout_ms;
    /* State. */
    char *dir; /* absolute */
    char *self_exe, *self_dir;
    /* How the user runs this program ("jobmatch" when PATH finds it, else
     * its path), and that plus "--node DIR": for the commands we print. */
    char *prog, *prog_node;
    int lock_fd;
    FILE *log; /* DIR/log/node.log */
    char started_at[32];
    char *programs[NODE_SERVICES];
    char *configs[NODE_SERVICES];
    char *logs[NODE_SERVICES];
    char *setpriv;                  /* see node_child_opts; may be NULL */
    char *endpoints[NODE_SERVICES]; /* api endpoints as bound */
    char *allows[NODE_SERVICES];    /* DIR/etc/<svc>.allow */
    node_key keys[NODE_SERVICES];   /* each service's own pair */
    node_key client;                /* the node's clients: "admin" */
    node_child *children[NODE_SERVICES];
    node_child *loader; /* `jobmatch sample load`, while it runs */
    uv_signal_t signals[3];
    uv_timer_t timer; /* node_pause */
    bool started;     /* every service was ready once */
    bool stopping;    /* a signal came, or the start failed */
    bool sample_loaded;
} node;

/* `node start`'s options into n. Returns 0 to go on, 1 after --help, -1
 * after a usage error (printed). */
int node_parse_start(node *n, int argc, char **argv);

/* Everything before the first child: the directory, the lock, leftovers
 * of an earlier node, the programs, the log, the keys. Returns an exit
 * code (CLI_OK to go on), having printed why not. */
int node_prepare(node *n);

/* A line in DIR/log/node.log; with loud also on stderr. */
void node_note(node *n, bool loud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs the loop until pred is true. */
void node_run_until(node *n, bool (*pred)(node *n, void *arg), void *arg);

/* Runs the loop for ms, or until the node is stopping. */
void node_pause(node *n, uint64_t ms);

/* Rewrites DIR/node.json with the node's state ("running", "stopped"). */
void node_save(node *n, const char *state);

/* With --sample: loads the sample on the first start (the marker file
 * DIR/sample-loaded remembers it), waits until the matcher has applied
 * both logs, and prints one explained shortlist and what to try next. */
void node_sample(node *n);

/* True if DIR/sample-loaded exists. */
bool node_sample_marked(const node *n);

/* `jobmatch node status` and `jobmatch node stop` (node_sample.c). */
int node_status(cli *c, int argc, char **argv);
int node_stop(cli *c, int argc, char **argv);

#endif
