/* node_child.c - one child process of `jobmatch node start` (see node.h).
 *
 * Each spawn gets its own heap "run" (the uv_process_t and the pipe of its
 * stderr), freed when both handles have closed. The child object itself
 * outlives its runs, so a restart never reuses handle memory that libuv
 * may still touch, and a child can be freed while the pipe of a dead run
 * is still draining.
 *
 * The ready line is the services' contract (jm_svc_ready):
 *   <5>intake: ready api=tcp://127.0.0.1:40123 log=tcp://127.0.0.1:40124
 * Everything the child writes on stderr is appended to its log file, line
 * by line, and the last lines are kept to explain a failure. */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jm/mem.h"

#define LINE_MAX_BYTES 4096
#define TAIL_BYTES     256
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
/* A child that ran this long before dying starts again from the minimum
 * backoff: it was a crash, not a crash loop. */
#define STABLE_MS 30000
/* How long an exited child's stderr may take to reach end-of-file. */
#define DRAIN_MS 2000

struct run {
    uv_process_t process;
    uv_pipe_t pipe;
    node_child *child; /* NULL once detached from the child object */
    int open_handles;
    bool reading; /* the pipe is open and read */
    bool exited;  /* the exit callback came */
};

struct node_child {
    uv_loop_t *loop;
    node_child_opts opts;
    char *name;
    char **argv;  /* the program's own */
    char **spawn; /* what is spawned: argv, or setpriv ... -- argv */
    char *log_path;
    uv_timer_t timer; /* ready timeout, backoff, or SIGKILL delay */
    /* The last run, until its handles have closed (the pipe may still
     * drain after the exit callback). */
    struct run *run;
    node_child_state state;
    pid_t pid;
    bool was_ready;
    unsigned restarts;
    uint64_t started_ms;
    uint64_t backoff_ms;
    int exit_code;
    char exit_text[64];
    FILE *log;
    /* Partial stderr line carried between reads. */
    char line[LINE_MAX_BYTES];
    size_t line_len;
    char tail[NODE_TAIL_LINES][TAIL_BYTES];
    size_t tail_next, tail_count;
    char labels[NODE_MAX_ENDPOINTS][16];
    char endpoints[NODE_MAX_ENDPOINTS][128];
    size_t endpoint_count;
};

static void
set_state(node_child *self, node_child_state state)
{
    self->state = state;
    if (self->opts.on_event != NULL)
        self->opts.on_event(self, self->opts.arg);
}

/* ---- the child's stderr ---- */

/* "... ready api=tcp://x log=tcp://y" -> labels and endpoints. Returns
 * false if the line is not a ready line. */
static bool
parse_ready(node_child *self, const char *line)
{
    const char *s = strstr(line, ": ready");

    if (s == NULL || (s[7] != ' ' && s[7] != '\0'))
        return false;
    s += 7;
    self->endpoint_count = 0;
    while (*s == ' ')
        s++;
    while (*s != '\0' && self->endpoint_count < NODE_MAX_ENDPOINTS) {
        const char *eq = strchr(s, '='), *end;
        size_t n = self->endpoint_count;

        if (eq == NULL)
            break;
        end = strchr(eq, ' ');
        if (end == NULL)
            end = eq + strlen(eq);
        snprintf(self->labels[n], sizeof(self->labels[n]), "%.*s",
                 (int) (eq - s), s);
        snprintf(self->endpoints[n], sizeof(self->endpoints[n]), "%.*s",
                 (int) (end - eq - 1), eq + 1);
        self->endpoint_count++;
        s = end;
        while (*s == ' ')
            s++;
    }
    return true;
}

static void
on_line(node_child *self, const char *line)
{
    snprintf(self->tail[self->tail_next], TAIL_BYTES, "%s", line);
    self->tail_next = (self->tail_next + 1) % NODE_TAIL_LINES;
    if (self->tail_count < NODE_TAIL_LINES)
        self->tail_count++;
    if (self->log != NULL) {
        fputs(line, self->log);
        fputc('\n', self->log);
        fflush(self->log);
    }
    if (self->opts.echo)
        fprintf(stderr, "%-8s | %s\n", self->name, line);
    if (self->state == NODE_CHILD_STARTING && parse_ready(self, line)) {
        uv_timer_stop(&self->timer);
        self->was_ready = true;
        set_state(self, NODE_CHILD_READY);
    }
}

static void
on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void) handle;
    buf->base = jm_xmalloc(suggested);
    buf->len = suggested;
}

static void
on_run_close(uv_handle_t *handle)
{
    struct run *run = handle->data;

    if (--run->open_handles > 0)
        return;
    if (run->child != NULL && run->child->run == run)
        run->child->run = NULL;
    free(run);
}

/* The child object stops listening to run: a restart replaces it, or the
 * child is being freed. Its handles close and free it on their own. */
static void
detach_run(struct run *run)
{
    if (run->child != NULL && run->child->run == run)
        run->child->run = NULL;
    run->child = NULL;
    if (run->reading) {
        uv_read_stop((uv_stream_t *) &run->pipe);
        run->reading = false;
        uv_close((uv_handle_t *) &run->pipe, on_run_close);
    }
}

static bool
running(const node_child *self)
{
    return self->run != NULL && !self->run->exited;
}

static void
on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct run *run = stream->data;
    node_child *self = run->child;

    for (ssize_t i = 0; self != NULL && i < n; i++) {
        char c = buf->base[i];

        /* A line longer than the buffer is cut into pieces rather than
         * lost: the log keeps every byte. */
        if (c != '\n' && self->line_len + 1 < sizeof(self->line)) {
            self->line[self->line_len++] = c;
            continue;
        }
        self->line[self->line_len] = '\0';
        self->line_len = 0;
        on_line(self, self->line);
        if (c != '\n')
            self->line[self->line_len++] = c;
    }
    free(buf->base);
    if (n < 0) {
        /* End of file: the child (and anything it spawned) closed its
         * stderr. A last line without a newline still counts. */
        if (self != NULL && self->line_len > 0) {
            self->line[self->line_len] = '\0';
            self->line_len = 0;
            on_line(self, self->line);
        }
        run->reading = false;
        uv_close((uv_handle_t *) &run->pipe, on_run_close);
    }
}

/* ---- life and death ---- */

static void spawn_timer(node_child *self, uint64_t ms, uv_timer_cb cb);

static void
on_restart_due(uv_timer_t *timer)
{
    node_child *self = timer->data;

    if (self->state != NODE_CHILD_BACKOFF)
        return;
    self->restarts++;
    if (node_child_start(self) != 0)
        set_state(self, NODE_CHILD_EXITED);
}

/* The pipe of an exited child did not reach end-of-file: something it
 * started still holds it. Stop waiting for it. */
static void
on_drain_due(uv_timer_t *timer)
{
    node_child *self = timer->data;

    if (self->run != NULL && self->run->exited)
        detach_run(self->run);
}

static void
on_kill_due(uv_timer_t *timer)
{
    node_child *self = timer->data;

    if (running(self))
        kill(self->pid, SIGKILL);
}

static void
on_ready_timeout(uv_timer_t *timer)
{
    node_child *self = timer->data;

    if (self->state != NODE_CHILD_STARTING || !running(self))
        return;
    snprintf(self->exit_text, sizeof(self->exit_text), "no ready line in %u ms",
             self->opts.ready_timeout_ms);
    /* The exit callback decides what comes next (restart or give up). */
    kill(self->pid, SIGKILL);
}

static void
on_exit(uv_process_t *process, int64_t status, int term_signal)
{
    struct run *run = process->data;
    node_child *self = run->child;
    uint64_t ran_ms;

    run->exited = true;
    uv_close((uv_handle_t *) process, on_run_close);
    if (self == NULL)
        return;
    uv_timer_stop(&self->timer);
    /* A ready timeout already wrote why it was killed. */
    if (term_signal != 0 && strncmp(self->exit_text, "no ready", 8) != 0) {
        snprintf(self->exit_text, sizeof(self->exit_text),
                 "killed by signal %d", term_signal);
    } else if (term_signal == 0) {
        snprintf(self->exit_text, sizeof(self->exit_text), "exit status %d",
                 (int) status);
    }
    self->exit_code = term_signal != 0 ? 128 + term_signal : (int) status;
    if (self->state == NODE_CHILD_STOPPING || !self->opts.restart ||
        !self->was_ready) {
        /* Stopped by us, a one-shot child, or one that never became ready
         * (a config or start-up error: restarting would only loop). Its
         * last lines may still be in the pipe: give them a moment. */
        if (self->run->reading)
            spawn_timer(self, DRAIN_MS, on_drain_due);
        set_state(self, NODE_CHILD_EXITED);
        return;
    }
    ran_ms = uv_now(self->loop) - self->started_ms;
    if (ran_ms >= STABLE_MS || self->backoff_ms == 0)
        self->backoff_ms = BACKOFF_MIN_MS;
    else if (self->backoff_ms < BACKOFF_MAX_MS)
        self->backoff_ms *= 2;
    if (self->backoff_ms > BACKOFF_MAX_MS)
        self->backoff_ms = BACKOFF_MAX_MS;
    spawn_timer(self, self->backoff_ms, on_restart_due);
    set_state(self, NODE_CHILD_BACKOFF);
}

static void
spawn_timer(node_child *self, uint64_t ms, uv_timer_cb cb)
{
    uv_timer_stop(&self->timer);
    uv_timer_start(&self->timer, cb, ms, 0);
}

int
node_child_start(node_child *self)
{
    uv_process_options_t options = {0};
    uv_stdio_container_t stdio[3];
    struct run *run = jm_xcalloc(1, sizeof(*run));
    int log_fd = -1, rc;

    JM_ASSERT(!running(self));
    if (self->run != NULL)
        detach_run(self->run);
    if (self->log_path != NULL) {
        /* stdout goes straight to the log file; stderr through our pipe,
         * so that lines can be echoed, kept and searched for "ready". */
        log_fd = open(self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0640);
        if (log_fd < 0) {
            rc = -errno;
            free(run);
            snprintf(self->exit_text, sizeof(self->exit_text),
                     "cannot open %s: %s", self->log_path, strerror(-rc));
            self->state = NODE_CHILD_EXITED;
            return rc;
        }
    }
    stdio[0].flags = UV_IGNORE;
    if (log_fd >= 0) {
        stdio[1].flags = UV_INHERIT_FD;
        stdio[1].data.fd = log_fd;
        uv_pipe_init(self->loop, &run->pipe, 0);
        run->pipe.data = run;
        run->open_handles++;
        stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[2].data.stream = (uv_stream_t *) &run->pipe;
    } else {
        stdio[1].flags = UV_INHERIT_FD;
        stdio[1].data.fd = STDOUT_FILENO;
        stdio[2].flags = UV_INHERIT_FD;
        stdio[2].data.fd = STDERR_FILENO;
    }
    options.file = self->spawn != NULL ? self->spawn[0] : self->argv[0];
    options.args = self->spawn != NULL ? self->spawn : self->argv;
    options.stdio = stdio;
    options.stdio_count = 3;
    options.exit_cb = on_exit;
    options.flags = UV_PROCESS_DETACHED; /* its own session: see node.h */
    run->process.data = run;
    run->child = self;
    self->line_len = 0;
    self->exit_text[0] = '\0';
    rc = uv_spawn(self->loop, &run->process, &options);
    if (log_fd >= 0)
        close(log_fd); /* the child has its copy */
    if (rc != 0) {
        /* libuv requires the process handle to be closed even when the
         * spawn failed. */
        run->open_handles++;
        uv_close((uv_handle_t *) &run->process, on_run_close);
        if (log_fd >= 0)
            uv_close((uv_handle_t *) &run->pipe, on_run_close);
        run->child = NULL;
        snprintf(self->exit_text, sizeof(self->exit_text),
                 "cannot start %s: %s", self->argv[0], uv_strerror(rc));
        self->state = NODE_CHILD_EXITED;
        return rc;
    }
    run->open_handles++;
    self->run = run;
    self->pid = run->process.pid;
    self->started_ms = uv_now(self->loop);
    if (log_fd >= 0) {
        uv_read_start((uv_stream_t *) &run->pipe, on_alloc, on_read);
        run->reading = true;
    }
    if (self->opts.wait_ready) {
        spawn_timer(self, self->opts.ready_timeout_ms, on_ready_timeout);
        set_state(self, NODE_CHILD_STARTING);
    } else {
        set_state(self, NODE_CHILD_READY);
    }
    return 0;
}

void
node_child_stop(node_child *self)
{
    switch (self->state) {
    case NODE_CHILD_IDLE:
    case NODE_CHILD_BACKOFF:
        uv_timer_stop(&self->timer);
        set_state(self, NODE_CHILD_EXITED);
        break;
    case NODE_CHILD_STARTING:
    case NODE_CHILD_READY:
        kill(self->pid, SIGTERM);
        spawn_timer(self, self->opts.stop_timeout_ms, on_kill_due);
        set_state(self, NODE_CHILD_STOPPING);
        break;
    case NODE_CHILD_STOPPING:
    case NODE_CHILD_EXITED:
        break;
    }
}

void
node_child_kill(node_child *self)
{
    if (running(self))
        kill(self->pid, SIGKILL);
    else
        node_child_stop(self);
}

void
node_child_new(node_child **child_p, uv_loop_t *loop,
               const node_child_opts *opts)
{
    node_child *self = jm_xcalloc(1, sizeof(*self));
    size_t n = 0;

    self->loop = loop;
    self->opts = *opts;
    self->name = jm_xstrdup(opts->name);
    self->opts.name = self->name;
    while (opts->argv[n] != NULL)
        n++;
    self->argv = jm_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        self->argv[i] = jm_xstrdup(opts->argv[i]);
    self->opts.argv = NULL;
    if (opts->setpriv != NULL) {
        static const char *const wrap[] = {"--pdeathsig", "TERM", "--"};
        size_t k = 0;

        self->spawn = jm_xcalloc(n + 5, sizeof(char *));
        self->spawn[k++] = jm_xstrdup(opts->setpriv);
        for (size_t i = 0; i < JM_COUNTOF(wrap); i++)
            self->spawn[k++] = jm_xstrdup(wrap[i]);
        for (size_t i = 0; i < n; i++)
            self->spawn[k++] = jm_xstrdup(opts->argv[i]);
    }
    self->opts.setpriv = NULL;
    if (opts->log_path != NULL) {
        int fd = open(opts->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0640);

        self->log_path = jm_xstrdup(opts->log_path);
        self->log = fd >= 0 ? fdopen(fd, "a") : NULL;
    }
    self->opts.log_path = NULL;
    uv_timer_init(loop, &self->timer);
    self->timer.data = self;
    self->state = NODE_CHILD_IDLE;
    *child_p = self;
}

static void
on_timer_close(uv_handle_t *handle)
{
    node_child *self = handle->data;

    for (size_t i = 0; self->argv[i] != NULL; i++)
        free(self->argv[i]);
    free(self->argv);
    if (self->spawn != NULL) {
        for (size_t i = 0; self->spawn[i] != NULL; i++)
            free(self->spawn[i]);
        free(self->spawn);
    }
    free(self->name);
    free(self->log_path);
    if (self->log != NULL)
        fclose(self->log);
    free(self);
}

void
node_child_destroy(node_child **child_p)
{
    node_child *self = *child_p;

    if (self == NULL)
        return;
    *child_p = NULL;
    /* Still running: it must not outlive the node. Its run closes and
     * frees itself, no longer reporting to us. */
    if (running(self))
        kill(self->pid, SIGKILL);
    if (self->run != NULL)
        detach_run(self->run);
    uv_close((uv_handle_t *) &self->timer, on_timer_close);
}

/* ---- accessors ---- */

const char *
node_child_name(const node_child *self)
{
    return self->name;
}

node_child_state
node_child_get_state(const node_child *self)
{
    return self->state;
}

const char *
node_child_state_name(node_child_state state)
{
    static const char *const names[] = {
        [NODE_CHILD_IDLE] = "idle",         [NODE_CHILD_STARTING] = "starting",
        [NODE_CHILD_READY] = "ready",       [NODE_CHILD_BACKOFF] = "restarting",
        [NODE_CHILD_STOPPING] = "stopping", [NODE_CHILD_EXITED] = "exited",
    };

    return names[state];
}

pid_t
node_child_pid(const node_child *self)
{
    return self->pid;
}

unsigned
node_child_restarts(const node_child *self)
{
    return self->restarts;
}

bool
node_child_done(const node_child *self)
{
    return self->state == NODE_CHILD_EXITED && self->run == NULL;
}

bool
node_child_was_ready(const node_child *self)
{
    return self->was_ready;
}

const char *
node_child_exit_text(const node_child *self)
{
    return self->exit_text;
}

int
node_child_exit_code(const node_child *self)
{
    return self->exit_code;
}

size_t
node_child_endpoint_count(const node_child *self)
{
    return self->endpoint_count;
}

const char *
node_child_endpoint_label(const node_child *self, size_t i)
{
    JM_ASSERT(i < self->endpoint_count);
    return self->labels[i];
}

const char *
node_child_endpoint(const node_child *self, const char *label)
{
    for (size_t i = 0; i < self->endpoint_count; i++) {
        if (strcmp(self->labels[i], label) == 0)
            return self->endpoints[i];
    }
    return NULL;
}

void
node_child_print_tail(const node_child *self, FILE *out)
{
    size_t first = (self->tail_next + NODE_TAIL_LINES - self->tail_count) %
                   NODE_TAIL_LINES;

    for (size_t i = 0; i < self->tail_count; i++)
        fprintf(out, "    %s\n", self->tail[(first + i) % NODE_TAIL_LINES]);
}
