/* bus_test_support.h - the fixture and helpers shared by test_bus.c and
 * test_zap.c: a loop with a bus, closing stack handles, sending until a
 * DEALER is connected, and recording what a receive callback saw.
 *
 * static inline so that each test file compiles only what it uses. */
#ifndef JM_BUS_TEST_SUPPORT_H
#define JM_BUS_TEST_SUPPORT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/bus.h"
#include "jm_test.h"

#define ANY_PORT "tcp://127.0.0.1:*"

struct fixture {
    uv_loop_t loop;
    jm_bus_t *bus;
    bool finished; /* set by the last line of every test */
};

static inline int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(jm_bus_new(&f->bus, &f->loop), 0);
    *state = f;
    return 0;
}

static inline int
teardown(void **state)
{
    struct fixture *f = *state;

    /* A failed assertion jumped out of the test past its closes: sockets
     * are still open (jm_bus_destroy would abort) and handles on the dead
     * stack frame are still in the loop. Leave it all; cmocka reports the
     * failure after this returns. */
    if (!f->finished)
        return 0;
    jm_bus_destroy(&f->bus);
    jm_test_close_loop(&f->loop, 5000); /* asserts uv_loop_close() == 0 */
    free(f);
    return 0;
}

/* ---- small helpers ---- */

static inline void
on_handle_closed(uv_handle_t *handle)
{
    *(bool *) handle->data = true;
}

static inline bool
flag_set(void *arg)
{
    return *(bool *) arg;
}

/* Closes a handle that lives on the test's stack and runs the loop until
 * libuv is done with it, before the stack frame goes away. */
static inline void
close_handle(uv_loop_t *loop, void *handle)
{
    bool closed = false;

    ((uv_handle_t *) handle)->data = &closed;
    uv_close(handle, on_handle_closed);
    assert_true(jm_test_run_until(loop, flag_set, &closed, 5000));
}

/* A repeating 1 ms timer: keeps the loop waking up while a test waits on
 * a foreign (non-loop) zmq socket that cannot wake it. */
static inline void
on_tick(uv_timer_t *timer)
{
    (void) timer;
}

static inline void
ticker_start(uv_loop_t *loop, uv_timer_t *timer)
{
    assert_int_equal(uv_timer_init(loop, timer), 0);
    assert_int_equal(uv_timer_start(timer, on_tick, 1, 1), 0);
}

/* Sends one message every few ms until a send succeeds (a DEALER with
 * IMMEDIATE refuses while it is still connecting) or stop is set. */
struct retry_send {
    uv_timer_t timer;
    jm_sock_t *sock;
    const char *text;
    int sent;
    bool forever; /* keep sending after success (e.g. PUB while joining) */
};

static inline void
on_retry_send(uv_timer_t *timer)
{
    struct retry_send *r = timer->data;
    int rc = jm_sock_send(r->sock, NULL, r->text, strlen(r->text));

    if (rc == 0)
        r->sent++;
    else
        assert_int_equal(rc, -EAGAIN);
    if (rc == 0 && !r->forever)
        uv_timer_stop(timer);
}

static inline void
retry_send_start(uv_loop_t *loop, struct retry_send *r, jm_sock_t *sock,
                 const char *text)
{
    r->sock = sock;
    r->text = text;
    assert_int_equal(uv_timer_init(loop, &r->timer), 0);
    r->timer.data = r;
    assert_int_equal(uv_timer_start(&r->timer, on_retry_send, 0, 5), 0);
}

static inline void
retry_send_stop(uv_loop_t *loop, struct retry_send *r)
{
    close_handle(loop, &r->timer);
}

/* What a receive callback saw, copied out (the message is borrowed). */
struct seen {
    int count;
    char body[256];
    size_t body_size;
    char principal[64];
    bool principal_null;
    bool unlisted;
    char peer_id[256];
    size_t peer_id_len;
    bool delimiter;
    bool malformed;
    unsigned frames;
    size_t max_size;
    char topic[32];
    int untopical; /* messages whose topic was not "tick" */
};

static inline void
record(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct seen *s = arg;
    size_t n =
        msg->size < sizeof(s->body) - 1 ? msg->size : sizeof(s->body) - 1;

    (void) sock;
    s->count++;
    memcpy(s->body, msg->data, n);
    s->body[n] = '\0';
    s->body_size = msg->size;
    if (msg->size > s->max_size)
        s->max_size = msg->size;
    s->principal_null = msg->principal == NULL;
    s->unlisted = msg->unlisted;
    snprintf(s->principal, sizeof(s->principal), "%s",
             msg->principal ? msg->principal : "");
    if (msg->peer != NULL) {
        memcpy(s->peer_id, msg->peer->id, msg->peer->id_len);
        s->peer_id_len = msg->peer->id_len;
        s->delimiter = msg->peer->delimiter;
    }
    if (msg->topic != NULL && msg->topic_size < sizeof(s->topic)) {
        memcpy(s->topic, msg->topic, msg->topic_size);
        s->topic[msg->topic_size] = '\0';
        if (strcmp(s->topic, "tick") != 0)
            s->untopical++;
    }
    s->malformed = msg->malformed;
    s->frames = msg->frames;
}

static inline bool
seen_one(void *arg)
{
    return ((struct seen *) arg)->count > 0;
}

static inline bool
retry_sent(void *arg)
{
    return ((struct retry_send *) arg)->sent > 0;
}

struct zap_wait {
    jm_bus_t *bus;
    uint64_t accepted, refused;
};

static inline bool
zap_refused_at_least(void *arg)
{
    struct zap_wait *w = arg;
    uint64_t accepted, refused;

    jm_bus_zap_counts(w->bus, &accepted, &refused);
    return refused >= w->refused;
}

struct keys {
    char public_key[JM_KEY_Z85_LEN + 1];
    char secret_key[JM_KEY_Z85_LEN + 1];
};

static inline void
make_keys(struct keys *k)
{
    assert_int_equal(jm_keys_generate(k->public_key, k->secret_key), 0);
}

#endif
