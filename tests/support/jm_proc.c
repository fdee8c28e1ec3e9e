/* jm_proc.c - real service binaries under test (see jm_proc.h). */
#define _GNU_SOURCE /* pipe2 */
#include "jm_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jm/mem.h"

extern char **environ;

#define MAX_ENDPOINTS 8

struct jm_proc {
    uv_loop_t *loop;
    char **argv;
    char *log_path;
    pid_t pid;
    int fd;          /* read end of the child's stderr, until attached */
    uv_pipe_t *pipe; /* drains it after ready */
    FILE *log;
    char labels[MAX_ENDPOINTS][16];
    char endpoints[MAX_ENDPOINTS][128];
    size_t count;
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "... ready api=tcp://x log=tcp://y" -> labels and endpoints. */
static void
parse_ready(jm_proc_t *p, const char *line)
{
    const char *s = strstr(line, ": ready ");

    p->count = 0;
    if (s == NULL)
        return;
    s += strlen(": ready ");
    while (*s != '\0' && p->count < MAX_ENDPOINTS) {
        const char *eq = strchr(s, '='), *end;

        if (eq == NULL)
            break;
        end = strchr(eq, ' ');
        if (end == NULL)
            end = eq + strlen(eq);
        snprintf(p->labels[p->count], sizeof(p->labels[0]), "%.*s",
                 (int) (eq - s), s);
        snprintf(p->endpoints[p->count], sizeof(p->endpoints[0]), "%.*s",
                 (int) (end - eq - 1), eq + 1);
        p->count++;
        s = *end ? end + 1 : end;
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
on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    jm_proc_t *p = stream->data;

    if (n > 0 && p != NULL && p->log != NULL) {
        fwrite(buf->base, 1, (size_t) n, p->log);
        fflush(p->log);
    }
    if (n < 0)
        uv_read_stop(stream);
    free(buf->base);
}

static void
free_pipe(uv_handle_t *handle)
{
    free(handle);
}

static void
detach(jm_proc_t *p)
{
    if (p->pipe != NULL) {
        p->pipe->data = NULL;
        uv_close((uv_handle_t *) p->pipe, free_pipe);
        p->pipe = NULL;
    } else if (p->fd >= 0) {
        close(p->fd);
    }
    p->fd = -1;
}

static int
spawn_and_wait(jm_proc_t *p, unsigned timeout_ms)
{
    posix_spawn_file_actions_t actions;
    int fds[2];
    char line[4096];
    size_t len = 0;
    int64_t deadline = now_ms() + timeout_ms;
    int rc;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    rc = posix_spawn(&p->pid, p->argv[0], &actions, NULL, p->argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -rc;
    }
    p->fd = fds[0];
    p->count = 0;
    /* Read line by line until the ready line, copying all to the log. */
    for (;;) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int64_t left = deadline - now_ms();
        ssize_t n;
        char c;

        if (left <= 0 || poll(&pfd, 1, (int) left) <= 0)
            break;
        n = read(p->fd, &c, 1);
        if (n <= 0)
            break; /* the child died before it was ready */
        if (p->log != NULL)
            fputc(c, p->log);
        if (c != '\n') {
            if (len + 1 < sizeof(line))
                line[len++] = c;
            continue;
        }
        line[len] = '\0';
        len = 0;
        if (strstr(line, ": ready ") != NULL) {
            parse_ready(p, line);
            if (p->log != NULL)
                fflush(p->log);
            break;
        }
    }
    if (p->log != NULL)
        fflush(p->log);
    if (p->count == 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
        close(p->fd);
        p->fd = -1;
        return -ETIMEDOUT;
    }
    p->pipe = jm_xcalloc(1, sizeof(*p->pipe));
    uv_pipe_init(p->loop, p->pipe, 0);
    uv_pipe_open(p->pipe, p->fd);
    p->pipe->data = p;
    uv_read_start((uv_stream_t *) p->pipe, on_alloc, on_read);
    /* A draining pipe must not keep a test's loop alive on its own. */
    uv_unref((uv_handle_t *) p->pipe);
    return 0;
}

int
jm_proc_start(jm_proc_t **proc_p, uv_loop_t *loop, const char *const *argv,
              const char *log_path, unsigned timeout_ms)
{
    jm_proc_t *p = jm_xcalloc(1, sizeof(*p));
    size_t n = 0;
    int rc;

    while (argv[n] != NULL)
        n++;
    p->argv = jm_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        p->argv[i] = jm_xstrdup(argv[i]);
    p->loop = loop;
    p->fd = -1;
    if (log_path != NULL) {
        p->log_path = jm_xstrdup(log_path);
        p->log = fopen(log_path, "a");
    }
    rc = spawn_and_wait(p, timeout_ms);
    if (rc != 0) {
        jm_proc_destroy(&p);
        return rc;
    }
    *proc_p = p;
    return 0;
}

const char *
jm_proc_endpoint(const jm_proc_t *p, const char *label)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->labels[i], label) == 0)
            return p->endpoints[i];
    }
    return NULL;
}

pid_t
jm_proc_pid(const jm_proc_t *p)
{
    return p->pid;
}

int
jm_proc_signal_wait(jm_proc_t *p, int sig, unsigned timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int status = 0;

    if (p->pid <= 0)
        return -ECHILD;
    kill(p->pid, sig);
    /* waitpid has no timeout; poll with WNOHANG, waking on the pipe's
     * end-of-file (the child's exit closes it) rather than sleeping. */
    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);

        if (r == p->pid)
            break;
        if (now_ms() >= deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        if (p->fd >= 0) {
            struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
            char buf[4096];

            ssize_t n = 0;

            if (poll(&pfd, 1, 10) > 0)
                n = read(p->fd, buf, sizeof(buf));
            if (n > 0 && p->log != NULL) {
                fwrite(buf, 1, (size_t) n, p->log);
                fflush(p->log);
            }
        } else {
            struct timespec ts = {0, 1000000};

            nanosleep(&ts, NULL); /* only while reaping, never to sync */
        }
    }
    p->pid = 0;
    detach(p);
    return status;
}

int
jm_proc_restart(jm_proc_t *p, unsigned timeout_ms)
{
    if (p->pid > 0)
        jm_proc_signal_wait(p, SIGKILL, 5000);
    return spawn_and_wait(p, timeout_ms);
}

void
jm_proc_destroy(jm_proc_t **proc_p)
{
    jm_proc_t *p = *proc_p;

    if (p == NULL)
        return;
    if (p->pid > 0)
        jm_proc_signal_wait(p, SIGKILL, 5000);
    detach(p);
    if (p->log != NULL)
        fclose(p->log);
    for (size_t i = 0; p->argv[i] != NULL; i++)
        free(p->argv[i]);
    free(p->argv);
    free(p->log_path);
    free(p);
    *proc_p = NULL;
}

int
jm_proc_run(const char *const *argv, char **out_p)
{
    extern char **environ;
    posix_spawn_file_actions_t actions;
    size_t len = 0, cap = 4096;
    char *out = jm_xmalloc(cap);
    int fds[2], status = 0, rc;
    pid_t pid;
    ssize_t n;

    *out_p = NULL;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        free(out);
        return -errno;
    }
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                     O_WRONLY, 0);
    rc = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *) argv,
                     environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        free(out);
        return -rc;
    }
    while ((n = read(fds[0], out + len, cap - len - 1)) > 0) {
        len += (size_t) n;
        if (len + 1 == cap)
            out = jm_xrealloc(out, cap *= 2);
    }
    out[len] = '\0';
    close(fds[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        free(out);
        return -ECHILD;
    }
    *out_p = out;
    return WEXITSTATUS(status);
}
