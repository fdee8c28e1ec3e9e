/* test_svc.c - stop on SIGTERM/SIGINT (once; a second signal exits), reload
 * on SIGHUP, the housekeeping tick, unref'd handles, and the ready line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jm/log.h"
#include "jm/svc.h"
#include "jm_test.h"

struct capture {
    int calls;
    int level;
    char component[32];
    char message[512];
};

static void
capture_sink(int level, const char *component, const char *message, void *arg)
{
    struct capture *c = arg;

    c->calls++;
    c->level = level;
    snprintf(c->component, sizeof(c->component), "%s", component);
    snprintf(c->message, sizeof(c->message), "%s", message);
}

/* A service stand-in: one ref'd timer is "everything else" the service
 * owns. Its first tick raises the signal; stop closes it. */
struct fake_service {
    uv_timer_t work;
    jm_svc_t *svc;
    int signum;
    int work_ticks;
    int stops;
    bool destroy_in_stop;
    bool gave_up;
};

static void
on_work(uv_timer_t *timer)
{
    struct fake_service *s = timer->data;

    if (s->work_ticks++ == 0) {
        raise(s->signum);
    } else if (s->work_ticks > 2000) {
        /* About 10 s without a stop: give up rather than hang. */
        s->gave_up = true;
        uv_close((uv_handle_t *) &s->work, NULL);
    }
}

static void
on_stop(void *arg)
{
    struct fake_service *s = arg;

    s->stops++;
    uv_close((uv_handle_t *) &s->work, NULL);
    if (s->destroy_in_stop)
        jm_svc_destroy(&s->svc);
}

static void
run_signal_case(int signum, bool destroy_in_stop)
{
    struct fake_service s = {.signum = signum,
                             .destroy_in_stop = destroy_in_stop};
    struct capture log = {0};
    uv_loop_t loop;

    jm_log_set_sink(capture_sink, &log);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(jm_svc_new(&s.svc, &loop, "intake", 0, NULL, on_stop, &s),
                     0);
    assert_int_equal(uv_timer_init(&loop, &s.work), 0);
    s.work.data = &s;
    assert_int_equal(uv_timer_start(&s.work, on_work, 5, 5), 0);

    /* Returns once stop closed the service's own handle: the signal
     * handles do not keep the loop alive. */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_false(s.gave_up);
    assert_int_equal(s.stops, 1);
    assert_int_equal(log.level, JM_LOG_NOTICE);
    assert_string_equal(log.component, "intake");
    assert_non_null(strstr(log.message, signum == SIGINT ? "SIGINT received"
                                                         : "SIGTERM received"));
    if (destroy_in_stop)
        assert_null(s.svc);
    jm_svc_destroy(&s.svc);
    jm_svc_destroy(&s.svc); /* idempotent */
    jm_test_close_loop(&loop, 1000);
    jm_log_set_sink(NULL, NULL);
}

static void
test_sigterm_calls_stop_once(void **state)
{
    (void) state;
    run_signal_case(SIGTERM, true);
}

static void
test_sigint_calls_stop_once(void **state)
{
    (void) state;
    run_signal_case(SIGINT, false);
}

static void
on_stop_raise_again(void *arg)
{
    (void) arg;
    raise(SIGTERM);
}

static void
on_first_tick_raise(uv_timer_t *timer)
{
    (void) timer;
    raise(SIGTERM);
}

static void
quiet_sink(int level, const char *component, const char *message, void *arg)
{
    (void) level;
    (void) component;
    (void) message;
    (void) arg;
}

/* In a child process, since the expected outcome is _exit(1). */
static void
test_second_signal_exits_at_once(void **state)
{
    pid_t pid;
    int status = 0;

    (void) state;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uv_loop_t loop;
        uv_timer_t timer;
        jm_svc_t *svc = NULL;

        alarm(10); /* a hang ends as SIGALRM, which the parent reports */
        jm_log_set_sink(quiet_sink, NULL);
        if (uv_loop_init(&loop) != 0 ||
            jm_svc_new(&svc, &loop, "child", 0, NULL, on_stop_raise_again,
                       NULL) != 0 ||
            uv_timer_init(&loop, &timer) != 0 ||
            uv_timer_start(&timer, on_first_tick_raise, 1, 1000) != 0)
            _exit(2);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(3); /* the second SIGTERM should have ended us first */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fail_msg("child did not exit (signal %d)",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    assert_int_equal(WEXITSTATUS(status), 1);
}

/* `jobmatch node` killed with kill -9: its services get SIGTERM (their
 * parent-death signal) with their stderr a pipe nobody reads any more.
 * Writing "SIGTERM received" there must fail with EPIPE, not end the
 * process by SIGPIPE's default action: the stop goes on, the store is
 * closed, and the status is 0. In a child, whose stderr is that pipe. */
static void
test_stderr_reader_gone(void **state)
{
    pid_t pid;
    int status = 0;

    (void) state;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct fake_service s = {.signum = SIGTERM, .destroy_in_stop = true};
        uv_loop_t loop;
        int fds[2];

        alarm(10); /* a hang ends as SIGALRM, which the parent reports */
        /* The default stderr sink, on a pipe whose reader is gone. */
        jm_log_set_sink(NULL, NULL);
        if (pipe(fds) != 0 || dup2(fds[1], STDERR_FILENO) < 0)
            _exit(2);
        close(fds[0]);
        close(fds[1]);
        if (uv_loop_init(&loop) != 0 ||
            jm_svc_new(&s.svc, &loop, "child", 0, NULL, on_stop, &s) != 0 ||
            uv_timer_init(&loop, &s.work) != 0)
            _exit(2);
        s.work.data = &s;
        if (uv_timer_start(&s.work, on_work, 1, 5) != 0)
            _exit(2);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (s.stops != 1)
            _exit(3);
        if (jm_svc_finish(&loop, "child", true, 0) != 0)
            _exit(4);
        /* The log lines were lost, and said so to the writer. */
        if (write(STDERR_FILENO, "x", 1) != -1 || errno != EPIPE)
            _exit(5);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("the service was killed by signal %d (SIGPIPE is %d) "
                 "instead of stopping",
                 WTERMSIG(status), SIGPIPE);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

struct ticks {
    int count;
};

static void
on_tick(void *arg)
{
    ((struct ticks *) arg)->count++;
}

static bool
three_ticks(void *arg)
{
    return ((struct ticks *) arg)->count >= 3;
}

static void
test_housekeeping_ticks(void **state)
{
    struct ticks ticks = {0};
    jm_svc_t *svc = NULL;
    uv_loop_t loop;

    (void) state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(
        jm_svc_new(&svc, &loop, "matcher", 2, on_tick, NULL, &ticks), 0);
    /* Signals and timer are unref'd: alone they keep nothing alive. */
    assert_int_equal(uv_loop_alive(&loop), 0);
    assert_true(jm_test_run_until(&loop, three_ticks, &ticks, 5000));
    jm_svc_destroy(&svc);
    assert_null(svc);
    jm_test_close_loop(&loop, 1000);
}

struct handle_count {
    int signals;
    int timers;
};

static void
count_handle(uv_handle_t *handle, void *arg)
{
    struct handle_count *count = arg;

    if (handle->type == UV_SIGNAL)
        count->signals++;
    else if (handle->type == UV_TIMER)
        count->timers++;
}

static void
test_handles_opened_and_closed(void **state)
{
    struct handle_count with = {0}, without = {0};
    jm_svc_t *svc = NULL, *svc2 = NULL;
    uv_loop_t loop;

    (void) state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(jm_svc_new(&svc, &loop, "x", 1000, on_tick, NULL, NULL),
                     0);
    uv_walk(&loop, count_handle, &with);
    assert_int_equal(with.signals, 3); /* INT, TERM, HUP */
    assert_int_equal(with.timers, 1);
    jm_svc_destroy(&svc);
    jm_test_close_loop(&loop, 1000);

    /* housekeeping_ms 0: no timer at all. */
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(jm_svc_new(&svc2, &loop, "x", 0, on_tick, NULL, NULL), 0);
    uv_walk(&loop, count_handle, &without);
    assert_int_equal(without.signals, 3);
    assert_int_equal(without.timers, 0);
    jm_svc_destroy(&svc2);
    jm_svc_destroy(NULL);
    jm_test_close_loop(&loop, 1000);
}

static void
test_ready_line_through_sink(void **state)
{
    struct capture log = {0};
    jm_svc_t *svc = NULL;
    uv_loop_t loop;

    (void) state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(jm_svc_new(&svc, &loop, "intake", 0, NULL, NULL, NULL), 0);
    jm_log_set_sink(capture_sink, &log);
    /* Stricter than notice: the ready line is written anyway. */
    jm_log_set_level(JM_LOG_ERR);
    jm_svc_ready(svc, "api", "tcp://127.0.0.1:40123", "log",
                 "tcp://127.0.0.1:40124", NULL);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.level, JM_LOG_NOTICE);
    assert_string_equal(log.component, "intake");
    assert_string_equal(log.message, "ready api=tcp://127.0.0.1:40123 "
                                     "log=tcp://127.0.0.1:40124");
    jm_svc_ready(svc, NULL);
    assert_int_equal(log.calls, 2);
    assert_string_equal(log.message, "ready");
    jm_log_set_level(JM_LOG_INFO);
    jm_log_set_sink(NULL, NULL);
    jm_svc_destroy(&svc);
    jm_test_close_loop(&loop, 1000);
}

static void
test_ready_line_on_stderr(void **state)
{
    char dir[256], path[300];
    jm_svc_t *svc = NULL;
    uv_loop_t loop;
    int file, saved;
    char *text;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/stderr", dir);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(jm_svc_new(&svc, &loop, "profiles", 0, NULL, NULL, NULL),
                     0);

    fflush(stderr);
    file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(file >= 0);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(file, STDERR_FILENO) >= 0);
    close(file);
    jm_log_set_level(JM_LOG_WARN);
    jm_svc_ready(svc, "api", "ipc:///tmp/p.sock", NULL);
    jm_log_set_level(JM_LOG_INFO);
    /* jm_svc_ready flushed: the line is in the file before we restore. */
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    text = jm_test_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text, "<5>profiles: ready api=ipc:///tmp/p.sock\n");
    free(text);
    jm_svc_destroy(&svc);
    jm_test_close_loop(&loop, 1000);
    jm_test_rmtree(dir);
}

/* SIGHUP: the service's reload, each time, and never the end of the
 * process (its default action); without a reload it is only logged.
 * The work timer raises SIGHUP twice, then SIGTERM once both were seen. */
struct hup_service {
    uv_timer_t work;
    jm_svc_t *svc;
    struct capture *log;
    int raised, reloads, stops, ticks;
    bool with_reload;
};

static void
on_hup_work(uv_timer_t *timer)
{
    struct hup_service *s = timer->data;
    int seen = s->with_reload
                   ? s->reloads
                   : (strstr(s->log->message, "nothing to read again") ? 1 : 0);

    if (++s->ticks > 2000) {
        uv_close((uv_handle_t *) &s->work, NULL); /* about 10 s: give up */
        return;
    }
    /* The next signal once the last one was handled. */
    if (s->raised == 0 || (s->raised == 1 && seen >= 1 && s->with_reload)) {
        s->raised++;
        raise(SIGHUP);
    } else if (seen >= s->raised && s->stops == 0 && s->raised < 3) {
        s->raised = 3;
        raise(SIGTERM);
    }
}

static void
on_hup_reload(void *arg)
{
    ((struct hup_service *) arg)->reloads++;
}

static void
on_hup_stop(void *arg)
{
    struct hup_service *s = arg;

    s->stops++;
    uv_close((uv_handle_t *) &s->work, NULL);
}

static void
run_sighup_case(bool with_reload)
{
    struct capture log = {0};
    struct hup_service s = {.log = &log, .with_reload = with_reload};
    uv_loop_t loop;

    jm_log_set_sink(capture_sink, &log);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(
        jm_svc_new(&s.svc, &loop, "profiles", 0, NULL, on_hup_stop, &s), 0);
    if (with_reload)
        jm_svc_on_reload(s.svc, on_hup_reload);
    assert_int_equal(uv_timer_init(&loop, &s.work), 0);
    s.work.data = &s;
    assert_int_equal(uv_timer_start(&s.work, on_hup_work, 5, 5), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(s.stops, 1);
    assert_int_equal(s.reloads, with_reload ? 2 : 0);
    assert_string_equal(log.component, "profiles");
    assert_non_null(strstr(log.message, "SIGTERM received"));
    jm_svc_destroy(&s.svc);
    jm_test_close_loop(&loop, 1000);
    jm_log_set_sink(NULL, NULL);
}

static void
test_sighup_reloads(void **state)
{
    (void) state;
    run_sighup_case(true);
}

static void
test_sighup_without_reload_is_only_logged(void **state)
{
    (void) state;
    run_sighup_case(false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_calls_stop_once),
        cmocka_unit_test(test_sigint_calls_stop_once),
        cmocka_unit_test(test_second_signal_exits_at_once),
        cmocka_unit_test(test_stderr_reader_gone),
        cmocka_unit_test(test_sighup_reloads),
        cmocka_unit_test(test_sighup_without_reload_is_only_logged),
        cmocka_unit_test(test_housekeeping_ticks),
        cmocka_unit_test(test_handles_opened_and_closed),
        cmocka_unit_test(test_ready_line_through_sink),
        cmocka_unit_test(test_ready_line_on_stderr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
