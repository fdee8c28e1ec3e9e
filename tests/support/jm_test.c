/* jm_test.c - the test harness (see jm_test.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "jm_test.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
jm_test_tmpdir(char *buf, size_t size)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    n = snprintf(buf, size, "%s/jmtest-XXXXXX", base);
    assert_true(n > 0 && (size_t) n < size);
    assert_non_null(mkdtemp(buf));
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    remove(path);
    return 0;
}

void
jm_test_rmtree(const char *dir)
{
    if (dir != NULL && dir[0] != '\0')
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void
jm_test_write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
}

static void
on_deadline(uv_timer_t *timer)
{
    *(bool *) timer->data = true;
}

static void
free_timer(uv_handle_t *handle)
{
    free(handle);
}

bool
jm_test_run_until(uv_loop_t *loop, jm_test_pred_fn pred, void *arg,
                  unsigned timeout_ms)
{
    uv_timer_t *timer = malloc(sizeof(*timer));
    bool expired = false;
    bool ok;

    assert_non_null(timer);
    assert_int_equal(uv_timer_init(loop, timer), 0);
    timer->data = &expired;
    assert_int_equal(uv_timer_start(timer, on_deadline, timeout_ms, 0), 0);
    while (!(ok = pred(arg)) && !expired)
        uv_run(loop, UV_RUN_ONCE);
    /* The timer is freed in its close callback, after this function has
     * returned, so it must not point at our stack any more. */
    timer->data = NULL;
    uv_timer_stop(timer);
    uv_close((uv_handle_t *) timer, free_timer);
    return ok;
}

static void
print_handle(uv_handle_t *handle, void *arg)
{
    (void) arg;
    fprintf(stderr, "leaked handle: %s%s\n", uv_handle_type_name(handle->type),
            uv_is_closing(handle) ? " (closing)" : "");
}

static void
on_close_deadline(uv_timer_t *timer)
{
    *(bool *) timer->data = true;
}

void
jm_test_close_loop(uv_loop_t *loop, unsigned timeout_ms)
{
    uv_timer_t timer;
    bool expired = false;
    int rc;

    /* An unref'd deadline timer: it bounds the wait for handles that are
     * closing, without itself keeping uv_run going. */
    uv_timer_init(loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, on_close_deadline, timeout_ms, 0);
    uv_unref((uv_handle_t *) &timer);
    while (!expired && uv_run(loop, UV_RUN_ONCE) != 0)
        ;
    uv_close((uv_handle_t *) &timer, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    rc = uv_loop_close(loop);
    if (rc != 0)
        uv_walk(loop, print_handle, NULL);
    assert_int_equal(rc, 0);
}

void
jm_test_random(void *buf, size_t len)
{
    assert_int_equal(uv_random(NULL, NULL, buf, len, 0, NULL), 0);
}

char *
jm_test_read_file(const char *path, size_t *size_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;

    if (f == NULL)
        return NULL;
    do {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    if (size_out != NULL)
        *size_out = len;
    return buf;
}

struct probe {
    int status;
    bool done;
};

static void
on_probe(int status, void *arg)
{
    struct probe *p = arg;

    p->status = status;
    p->done = true;
}

static bool
probe_done(void *arg)
{
    return ((struct probe *) arg)->done;
}

bool
jm_test_curve_admits(uv_loop_t *loop, const char *endpoint,
                     const char *server_key, jm_sock_type type,
                     const char *public_key, const char *secret_key)
{
    struct probe p = {0};
    jm_bus_t *bus;

    assert_int_equal(jm_bus_new(&bus, loop), 0);
    assert_int_equal(jm_bus_curve_probe(bus, endpoint, server_key, type,
                                        public_key, secret_key, 5000, on_probe,
                                        &p),
                     0);
    assert_true(jm_test_run_until(loop, probe_done, &p, 10000));
    jm_bus_destroy(&bus);
    if (p.status != 0 && p.status != -EACCES)
        fail_msg("no handshake result from %s: %d", endpoint, p.status);
    return p.status == -EACCES;
}
