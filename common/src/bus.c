/* bus.c - the process's ZeroMQ context, and ZeroMQ sockets inside a libuv
 * loop. With zap.c, the only code in jobmatch that touches libzmq.
 *
 * The design decision a reader must know: ZMQ_FD is edge-triggered and
 * shared by send and receive (zmq_getsockopt(3), ZMQ_FD and ZMQ_EVENTS).
 * Any zmq call on a socket - a send, a getsockopt, a bind - may consume the
 * wake-up for messages that are already queued, and the fd then stays
 * quiet although the socket is readable. So the fd is never trusted to say
 * "readable"; it only wakes the loop:
 *
 *   uv_poll_t    on ZMQ_FD, UV_READABLE, empty callback: a wake-up only.
 *   uv_prepare_t runs before the loop blocks: asks ZMQ_EVENTS and, if a
 *                message is pending, starts the idle handle, which makes
 *                the loop poll with a zero timeout instead of blocking.
 *   uv_check_t   runs after the poll: drains up to drain_budget whole
 *                messages (zmq_msg_recv, ZMQ_DONTWAIT) and delivers them,
 *                then calls on_drained once (group commit), then re-asks
 *                ZMQ_EVENTS to keep or stop the idle handle.
 *   uv_idle_t    empty callback; active exactly while messages wait.
 *
 * Because the prepare step asks ZMQ_EVENTS before every block, a zmq call
 * made anywhere on the loop thread (a timer, another socket's callback)
 * cannot strand a message. Every send also re-asks at once (belt and
 * braces, and what zmq_getsockopt(3) tells applications to do).
 *
 * Closing is asynchronous (libuv): the four handles are uv_close'd, which
 * stops the poll handle (the fd leaves epoll) before zmq_close hands the
 * socket and its fd to libzmq's reaper; the struct is freed in the last
 * close callback. The drain loop checks a closing flag after every
 * delivery, so a receive callback may close its own socket. */
#include "bus_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"

#define DEFAULT_MAX_MSG_SIZE     ((int64_t) 64 * 1024 * 1024)
#define DEFAULT_HWM              100000
#define DEFAULT_HEARTBEAT_IVL_MS 2000
#define DEFAULT_RECONNECT_IVL_MS 100
#define DEFAULT_DRAIN_BUDGET     256
/* ZMTP 3.1 carries the heartbeat TTL in deciseconds in 16 bits. */
#define MAX_HEARTBEAT_TTL_MS 6553599

int
jm__zmq_err(void)
{
    int e = zmq_errno();

    /* libzmq's own codes (ETERM, EFSM, EMTHREAD) live above
     * ZMQ_HAUSNUMERO and mean a programming or shutdown problem here. */
    if (e <= 0 || e >= ZMQ_HAUSNUMERO)
        return -EIO;
    return -e;
}

bool
jm__key_valid(const char *key, uint8_t raw[32])
{
    uint8_t scratch[32];

    if (key == NULL || strlen(key) != JM_KEY_Z85_LEN)
        return false;
    /* zmq_z85_decode rejects characters outside the alphabet and 5-char
     * groups that overflow 32 bits. */
    return zmq_z85_decode(raw != NULL ? raw : scratch, key) != NULL;
}

bool
jm_keys_valid(const char *key)
{
    return jm__key_valid(key, NULL);
}

/* ---- the bus ---- */

int
jm_bus_new(jm_bus_t **bus_p, uv_loop_t *loop)
{
    jm_bus_t *self;
    int rc;

    JM_ASSERT(bus_p != NULL);
    JM_ASSERT(loop != NULL);
    self = jm_xcalloc(1, sizeof(*self));
    self->loop = loop;
    if ((self->ctx = zmq_ctx_new()) == NULL) {
        rc = jm__zmq_err();
        goto fail;
    }
    /* Not blocky: sockets default to LINGER 0, so zmq_ctx_term cannot wait
     * for unsent messages even if an option were forgotten. */
    if (zmq_ctx_set(self->ctx, ZMQ_BLOCKY, 0) != 0) {
        rc = jm__zmq_err();
        goto fail;
    }
    /* The ZAP handler is bound before any server socket exists: a CURVE
     * server without one accepts every key (DESIGN.md section 4). */
    if ((rc = jm__zap_start(self)) != 0)
        goto fail;
    *bus_p = self;
    return 0;

fail:
    if (self->ctx != NULL)
        zmq_ctx_term(self->ctx);
    free(self);
    return rc;
}

void
jm_bus_destroy(jm_bus_t **bus_p)
{
    jm_bus_t *self;

    if (bus_p == NULL || *bus_p == NULL)
        return;
    self = *bus_p;
    *bus_p = NULL;
    jm__zap_stop(self);
    /* zmq_ctx_term blocks until every socket of the context is closed: a
     * socket still open here would hang the process at shutdown. */
    JM_ASSERT(self->open_sockets == 0);
    while (zmq_ctx_term(self->ctx) != 0 && zmq_errno() == EINTR)
        ;
    free(self);
}

/* ---- socket options ---- */

static int
set_int(void *zsock, int option, int value)
{
    if (zmq_setsockopt(zsock, option, &value, sizeof(value)) != 0)
        return jm__zmq_err();
    return 0;
}

static int
set_bytes(void *zsock, int option, const void *value, size_t size)
{
    if (zmq_setsockopt(zsock, option, value, size) != 0)
        return jm__zmq_err();
    return 0;
}

/* Security options. A half-configured CURVE socket is refused rather than
 * silently left plain: plain is a decision, not an accident. */
static int
apply_curve(jm_sock_t *self, const jm_sock_opts *o)
{
    uint8_t server[32], public[32], secret[32];
    int rc = -EINVAL;

    if (o->curve_server_key != NULL) {
        if (!jm__key_valid(o->curve_server_key, server) ||
            !jm__key_valid(o->curve_public_key, public) ||
            !jm__key_valid(o->curve_secret_key, secret) ||
            o->curve_domain != NULL)
            goto out;
        if ((rc = set_bytes(self->zsock, ZMQ_CURVE_SERVERKEY, server, 32)) ||
            (rc = set_bytes(self->zsock, ZMQ_CURVE_PUBLICKEY, public, 32)) ||
            (rc = set_bytes(self->zsock, ZMQ_CURVE_SECRETKEY, secret, 32)))
            goto out;
    } else if (o->curve_secret_key != NULL) {
        /* A server must name its allow list; the ZAP handler refuses
         * unknown domains, so a missing one would lock everyone out
         * without saying why. */
        if (!jm__key_valid(o->curve_secret_key, secret) ||
            o->curve_domain == NULL || o->curve_domain[0] == '\0' ||
            strlen(o->curve_domain) > JM_CURVE_DOMAIN_MAX)
            goto out;
        if ((rc = set_int(self->zsock, ZMQ_CURVE_SERVER, 1)) ||
            (rc = set_bytes(self->zsock, ZMQ_CURVE_SECRETKEY, secret, 32)) ||
            (rc = set_bytes(self->zsock, ZMQ_ZAP_DOMAIN, o->curve_domain,
                            strlen(o->curve_domain))))
            goto out;
        self->curve_server = true;
        memcpy(self->curve_domain, o->curve_domain,
               strlen(o->curve_domain) + 1);
    } else if (o->curve_public_key != NULL || o->curve_domain != NULL) {
        goto out;
    }
    rc = 0;
out:
    /* The secret must not linger on the stack. */
    memset(secret, 0, sizeof(secret));
    return rc;
}

/* Every option is set before bind/connect: libzmq applies them to later
 * connections only (DESIGN.md section 2). */
static int
apply_options(jm_sock_t *self, const jm_sock_opts *o)
{
    void *z = self->zsock;
    int64_t max_size = o->max_msg_size ? o->max_msg_size : DEFAULT_MAX_MSG_SIZE;
    int ivl =
        o->heartbeat_ivl_ms ? o->heartbeat_ivl_ms : DEFAULT_HEARTBEAT_IVL_MS;
    int rc;

    if (o->max_msg_size < 0 || o->send_hwm < 0 || o->recv_hwm < 0 ||
        o->heartbeat_timeout_ms < 0 || o->reconnect_ivl_ms < 0)
        return -EINVAL;
    if ((rc = set_int(z, ZMQ_LINGER, 0)) ||
        /* An int here gives EINVAL and leaves the cap unset. */
        (rc = set_bytes(z, ZMQ_MAXMSGSIZE, &max_size, sizeof(max_size))) ||
        (rc =
             set_int(z, ZMQ_SNDHWM, o->send_hwm ? o->send_hwm : DEFAULT_HWM)) ||
        (rc =
             set_int(z, ZMQ_RCVHWM, o->recv_hwm ? o->recv_hwm : DEFAULT_HWM)) ||
        (rc = set_int(z, ZMQ_RECONNECT_IVL,
                      o->reconnect_ivl_ms ? o->reconnect_ivl_ms
                                          : DEFAULT_RECONNECT_IVL_MS)))
        return rc;
    if (ivl > 0) {
        int timeout =
            o->heartbeat_timeout_ms ? o->heartbeat_timeout_ms : 3 * ivl;
        /* The TTL asks the peer to drop us after the same silence. */
        int ttl =
            timeout < MAX_HEARTBEAT_TTL_MS ? timeout : MAX_HEARTBEAT_TTL_MS;

        if ((rc = set_int(z, ZMQ_HEARTBEAT_IVL, ivl)) ||
            (rc = set_int(z, ZMQ_HEARTBEAT_TIMEOUT, timeout)) ||
            (rc = set_int(z, ZMQ_HEARTBEAT_TTL, ttl)))
            return rc;
    }
    /* A reply to a gone peer is an error, not a silent drop; a DEALER does
     * not queue into pipes that are still connecting. */
    if (self->zmq_type == ZMQ_ROUTER &&
        (rc = set_int(z, ZMQ_ROUTER_MANDATORY, 1)))
        return rc;
    if (self->zmq_type == ZMQ_DEALER &&
        (rc = set_int(z, ZMQ_IMMEDIATE, o->queue_while_connecting ? 0 : 1)))
        return rc;
    if (o->routing_id != NULL &&
        (rc = set_bytes(z, ZMQ_ROUTING_ID, o->routing_id,
                        strlen(o->routing_id))))
        return rc;
    if ((rc = apply_curve(self, o)) != 0)
        return rc;
    if (self->zmq_type == ZMQ_SUB) {
        const char *prefix = o->subscribe != NULL ? o->subscribe : "";

        if ((rc = set_bytes(z, ZMQ_SUBSCRIBE, prefix, strlen(prefix))))
            return rc;
    } else if (o->subscribe != NULL) {
        return -EINVAL;
    }
    return 0;
}

/* ---- the loop adapter ---- */

static void
on_poll(uv_poll_t *handle, int status, int events)
{
    /* Only a wake-up: what is readable is decided by ZMQ_EVENTS in the
     * check step. An error status (the fd went away) needs nothing either:
     * the socket is being closed. */
    (void) handle;
    (void) status;
    (void) events;
}

static void
on_idle(uv_idle_t *handle)
{
    /* Its being active is the point: the loop polls without blocking. */
    (void) handle;
}

void
jm__sock_rearm(jm_sock_t *sock)
{
    int events = 0;
    size_t len = sizeof(events);

    if (sock->closing)
        return;
    if (zmq_getsockopt(sock->zsock, ZMQ_EVENTS, &events, &len) != 0)
        events = 0;
    if (events & ZMQ_POLLIN)
        uv_idle_start(&sock->idle, on_idle);
    else
        uv_idle_stop(&sock->idle);
}

static void
on_prepare(uv_prepare_t *handle)
{
    jm__sock_rearm(handle->data);
}

void
jm__frames_release(struct jm__frames *msg)
{
    for (unsigned i = 0; i < msg->stored; i++)
        zmq_msg_close(&msg->frame[i]);
    msg->stored = 0;
    msg->total = 0;
}

/* A failed receive (not only "none pending") is logged. */
bool
jm__sock_recv(jm_sock_t *self, struct jm__frames *msg)
{
    msg->stored = 0;
    msg->total = 0;
    for (;;) {
        /* Past JM__MAX_FRAMES the last slot is reused, so that it always
         * holds the last frame (the body) of an oversized message. */
        unsigned slot =
            msg->stored < JM__MAX_FRAMES ? msg->stored : JM__MAX_FRAMES - 1;
        zmq_msg_t *frame = &msg->frame[slot];

        if (slot < msg->stored)
            zmq_msg_close(frame);
        else
            msg->stored++;
        zmq_msg_init(frame);
        if (zmq_msg_recv(frame, self->zsock, ZMQ_DONTWAIT) < 0) {
            int rc = jm__zmq_err();

            /* Multipart messages arrive whole, so a failure after the
             * first frame is not EAGAIN; log it, it should not happen. */
            if (msg->total > 0 || rc != -EAGAIN)
                jm_log(JM_LOG_WARN, "bus", "receive on %s failed: %s",
                       self->endpoint, jm_strerror(rc));
            jm__frames_release(msg);
            return false;
        }
        msg->total++;
        if (!zmq_msg_more(frame))
            return true;
    }
}

static void
on_check(uv_check_t *handle)
{
    jm_sock_t *self = handle->data;
    struct jm__frames msg;
    unsigned delivered = 0;

    if (self->zmq_type == ZMQ_PUB)
        return; /* cannot receive; the prepare step still runs commands */
    /* The budget keeps one busy socket from starving the others and the
     * timers; what is left keeps the idle handle running. */
    while (!self->closing && delivered < self->drain_budget &&
           jm__sock_recv(self, &msg)) {
        self->deliver(self, &msg);
        jm__frames_release(&msg);
        delivered++;
    }
    /* A callback may have closed the socket: self is still allocated (it
     * is freed in the handles' close callbacks) but must not be used. */
    if (self->closing)
        return;
    if (delivered > 0 && self->on_drained != NULL)
        self->on_drained(self, self->arg);
    jm__sock_rearm(self);
}

static void
on_handle_closed(uv_handle_t *handle)
{
    jm_sock_t *self = handle->data;

    if (--self->open_handles == 0)
        free(self);
}

int
jm__sock_open(jm_sock_t **sock_p, jm_bus_t *bus, int zmq_type,
              const jm_sock_opts *opts, jm__deliver_fn deliver, void *arg)
{
    static const jm_sock_opts defaults;
    jm_sock_t *self;
    size_t len;
    int fd = -1;
    int rc;

    JM_ASSERT(sock_p != NULL);
    JM_ASSERT(bus != NULL);
    JM_ASSERT(deliver != NULL);
    self = jm_xcalloc(1, sizeof(*self));
    self->bus = bus;
    self->zmq_type = zmq_type;
    self->deliver = deliver;
    self->arg = arg;
    if (opts == NULL)
        opts = &defaults;
    self->drain_budget =
        opts->drain_budget ? opts->drain_budget : DEFAULT_DRAIN_BUDGET;
    if ((self->zsock = zmq_socket(bus->ctx, zmq_type)) == NULL) {
        rc = jm__zmq_err();
        goto fail;
    }
    if ((rc = apply_options(self, opts)) != 0)
        goto fail;
    len = sizeof(fd);
    if (zmq_getsockopt(self->zsock, ZMQ_FD, &fd, &len) != 0) {
        rc = jm__zmq_err();
        goto fail;
    }
    /* Poll first: it is the one init that can fail, and nothing needs
     * closing asynchronously yet if it does. */
    if ((rc = uv_poll_init(bus->loop, &self->poll, fd)) != 0)
        goto fail;
    uv_prepare_init(bus->loop, &self->prepare);
    uv_check_init(bus->loop, &self->check);
    uv_idle_init(bus->loop, &self->idle);
    self->poll.data = self->prepare.data = self->check.data = self;
    self->idle.data = self;
    self->open_handles = 4;
    bus->open_sockets++;
    /* One poll handle per fd (libuv); readable only: ZMQ_FD never signals
     * writability, and the state comes from ZMQ_EVENTS anyway. */
    if ((rc = uv_poll_start(&self->poll, UV_READABLE, on_poll)) != 0) {
        jm__sock_close(self);
        return rc;
    }
    uv_prepare_start(&self->prepare, on_prepare);
    uv_check_start(&self->check, on_check);
    *sock_p = self;
    return 0;

fail:
    if (self->zsock != NULL)
        zmq_close(self->zsock);
    free(self);
    return rc;
}

void
jm__sock_close(jm_sock_t *sock)
{
    if (sock->closing)
        return;
    sock->closing = true;
    jm__pubconns_stop(sock); /* the monitor stops before the socket closes */
    uv_idle_stop(&sock->idle);
    /* uv_close stops the poll handle, taking the fd out of epoll, before
     * zmq_close lets libzmq's reaper close that fd. */
    uv_close((uv_handle_t *) &sock->poll, on_handle_closed);
    uv_close((uv_handle_t *) &sock->prepare, on_handle_closed);
    uv_close((uv_handle_t *) &sock->check, on_handle_closed);
    uv_close((uv_handle_t *) &sock->idle, on_handle_closed);
    zmq_close(sock->zsock);
    sock->zsock = NULL;
    sock->bus->open_sockets--;
}

/* ---- socket monitors ---- */

int
jm__monitor_open(jm_sock_t **pair_p, jm_sock_t *watched, int events,
                 jm__deliver_fn deliver, void *arg)
{
    jm_bus_t *bus = watched->bus;
    char endpoint[96];
    int unlimited = 0;
    int rc;

    *pair_p = NULL;
    /* The endpoint is per context; the sequence keeps monitors apart. */
    snprintf(endpoint, sizeof(endpoint), "inproc://jm-monitor-%lu",
             ++bus->monitor_sequence);
    if (zmq_socket_monitor(watched->zsock, endpoint, events) != 0)
        return jm__zmq_err();
    if ((rc = jm__sock_open(pair_p, bus, ZMQ_PAIR, NULL, deliver, arg)) != 0)
        goto fail;
    /* libzmq's I/O thread sends the events blocking, holding a lock that
     * stopping the monitor takes too: a queue that could fill would let a
     * loop busy elsewhere stall every connection of the process, and the
     * close deadlock. Unlimited on our side makes the inproc pipe
     * unlimited; the loop drains it every turn, so it stays short. */
    if (zmq_setsockopt((*pair_p)->zsock, ZMQ_RCVHWM, &unlimited,
                       sizeof(unlimited)) != 0 ||
        zmq_connect((*pair_p)->zsock, endpoint) != 0) {
        rc = jm__zmq_err();
        goto fail;
    }
    return 0;

fail:
    jm__monitor_close(watched, *pair_p);
    *pair_p = NULL;
    return rc;
}

void
jm__monitor_close(jm_sock_t *watched, jm_sock_t *pair)
{
    /* Stopped before the PAIR closes: an event sent to a PAIR nobody
     * reads any more would block libzmq's I/O thread for good. */
    zmq_socket_monitor(watched->zsock, NULL, 0);
    if (pair != NULL)
        jm__sock_close(pair);
}

bool
jm__monitor_event(const struct jm__frames *event, uint16_t *id, uint32_t *value)
{
    const uint8_t *data;

    /* libzmq 4.3 events: [u16 event, u32 value][endpoint], host order. */
    if (event->total != 2 || zmq_msg_size((zmq_msg_t *) &event->frame[0]) != 6)
        return false;
    data = zmq_msg_data((zmq_msg_t *) &event->frame[0]);
    memcpy(id, data, sizeof(*id));
    memcpy(value, data + 2, sizeof(*value));
    return true;
}

/* ---- public sockets ---- */

static void
fill_peer(jm_peer *peer, const zmq_msg_t *frame)
{
    size_t size = zmq_msg_size(frame);

    /* libzmq limits routing ids to 255 bytes; clamp anyway. */
    if (size > sizeof(peer->id))
        size = sizeof(peer->id);
    memcpy(peer->id, zmq_msg_data((zmq_msg_t *) frame), size);
    peer->id_len = (uint8_t) size;
    peer->delimiter = false;
}

/* Turns frames into a jm_sock_msg: the shape checks of bus.h. */
static void
deliver_public(jm_sock_t *self, struct jm__frames *in)
{
    zmq_msg_t *last = &in->frame[in->stored - 1];
    jm_sock_msg msg = {0};
    jm_peer peer;

    msg.data = zmq_msg_data(last);
    msg.size = zmq_msg_size(last);
    msg.frames = in->total;
    switch (self->zmq_type) {
    case ZMQ_ROUTER:
        fill_peer(&peer, &in->frame[0]);
        msg.peer = &peer;
        if (in->total == 3 && zmq_msg_size(&in->frame[1]) == 0)
            peer.delimiter = true; /* a REQ client: echo it in replies */
        else if (in->total != 2)
            msg.malformed = true;
        break;
    case ZMQ_SUB:
        if (in->total == 2) {
            msg.topic = zmq_msg_data(&in->frame[0]);
            msg.topic_size = zmq_msg_size(&in->frame[0]);
        } else if (in->total != 1) {
            msg.malformed = true;
        }
        break;
    default:
        msg.malformed = in->total != 1;
        break;
    }
    /* The sender's key is what the ZAP handler admitted, carried as the
     * "User-Id" property of the frames the peer sent (the routing id
     * frame, made by the ROUTER itself, has none). Its principal is looked
     * up per message, in the list as it is now: a key taken off the list
     * (SIGHUP) is refused from its next message, not only from its next
     * connection, which libzmq would keep open for as long as the peer
     * likes. Plain sockets have no identity even if a peer sends a
     * "User-Id" property of its own. */
    if (self->curve_server) {
        const char *key = zmq_msg_gets(last, "User-Id");

        msg.principal =
            key ? jm__allow_principal(self->bus, self->curve_domain, key)
                : NULL;
        msg.unlisted = msg.principal == NULL;
    }
    if (self->on_recv != NULL)
        self->on_recv(self, &msg, self->arg);
}

int
jm_sock_new(jm_sock_t **sock_p, jm_bus_t *bus, jm_sock_type type,
            const jm_sock_opts *opts, jm_sock_recv_cb on_recv, void *arg)
{
    static const int zmq_types[] = {
        [JM_SOCK_ROUTER] = ZMQ_ROUTER,
        [JM_SOCK_DEALER] = ZMQ_DEALER,
        [JM_SOCK_PUB] = ZMQ_PUB,
        [JM_SOCK_SUB] = ZMQ_SUB,
    };
    int rc;

    JM_ASSERT(sock_p != NULL);
    JM_ASSERT(bus != NULL);
    JM_ASSERT((unsigned) type < JM_COUNTOF(zmq_types));
    if ((rc = jm__sock_open(sock_p, bus, zmq_types[type], opts, deliver_public,
                            arg)) != 0)
        return rc;
    (*sock_p)->on_recv = on_recv;
    /* Before the bind, so that no subscriber's connection is missed. */
    if ((*sock_p)->zmq_type == ZMQ_PUB && (*sock_p)->curve_server &&
        (rc = jm__pubconns_start(*sock_p)) != 0) {
        jm_sock_close(sock_p);
        return rc;
    }
    return 0;
}

void
jm_sock_set_drained_cb(jm_sock_t *sock, jm_sock_drained_cb on_drained)
{
    JM_ASSERT(sock != NULL);
    sock->on_drained = on_drained;
}

static int
read_endpoint(jm_sock_t *self)
{
    size_t len = sizeof(self->endpoint);

    if (zmq_getsockopt(self->zsock, ZMQ_LAST_ENDPOINT, self->endpoint, &len) !=
        0) {
        self->endpoint[0] = '\0';
        return jm__zmq_err();
    }
    return 0;
}

int
jm_sock_bind(jm_sock_t *sock, const char *endpoint)
{
    JM_ASSERT(sock != NULL && !sock->closing);
    JM_ASSERT(endpoint != NULL);
    if (zmq_bind(sock->zsock, endpoint) != 0)
        return jm__zmq_err();
    return read_endpoint(sock);
}

int
jm_sock_connect(jm_sock_t *sock, const char *endpoint)
{
    JM_ASSERT(sock != NULL && !sock->closing);
    JM_ASSERT(endpoint != NULL);
    if (zmq_connect(sock->zsock, endpoint) != 0)
        return jm__zmq_err();
    return read_endpoint(sock);
}

const char *
jm_sock_endpoint(jm_sock_t *sock)
{
    JM_ASSERT(sock != NULL);
    return sock->endpoint;
}

/* The host of a tcp:// endpoint (what stands before its last ':'), and
 * its length; NULL if the endpoint is not tcp:// or has no host. */
static const char *
tcp_host(const char *endpoint, size_t *len)
{
    const char *host, *colon;

    if (strncmp(endpoint, "tcp://", 6) != 0)
        return NULL;
    host = endpoint + 6;
    if ((colon = strrchr(host, ':')) == NULL || colon == host)
        return NULL;
    *len = (size_t) (colon - host);
    return host;
}

char *
jm_endpoint_via(const char *named, const char *via)
{
    static const char *const any[] = {
        "tcp://*:", "tcp://0.0.0.0:", "tcp://[::]:"};
    const char *host;
    size_t host_len;

    JM_ASSERT(named != NULL && via != NULL);
    if ((host = tcp_host(via, &host_len)) == NULL)
        return jm_xstrdup(named);
    for (size_t i = 0; i < JM_COUNTOF(any); i++) {
        size_t n = strlen(any[i]), size;
        char *out;

        if (strncmp(named, any[i], n) != 0)
            continue;
        size = 6 + host_len + 1 + strlen(named + n) + 1;
        out = jm_xmalloc(size);
        snprintf(out, size, "tcp://%.*s:%s", (int) host_len, host, named + n);
        return out;
    }
    return jm_xstrdup(named);
}

/* Is the host of a tcp:// endpoint written as a loopback one? */
static bool
tcp_host_is_loopback(const char *endpoint)
{
    size_t len;
    const char *host = tcp_host(endpoint, &len);

    return host != NULL && ((len > 4 && strncmp(host, "127.", 4) == 0) ||
                            (len == 5 && strncmp(host, "[::1]", 5) == 0) ||
                            (len == 9 && strncmp(host, "localhost", 9) == 0));
}

bool
jm_endpoint_on_remote_loopback(const char *named, const char *via)
{
    JM_ASSERT(named != NULL && via != NULL);
    return strncmp(via, "tcp://", 6) == 0 && tcp_host_is_loopback(named) &&
           !tcp_host_is_loopback(via);
}

int
jm_sock_send(jm_sock_t *sock, const jm_peer *to, const void *data, size_t size)
{
    int rc = 0;

    JM_ASSERT(sock != NULL && !sock->closing);
    JM_ASSERT(data != NULL || size == 0);
    if (sock->zmq_type == ZMQ_ROUTER) {
        JM_ASSERT(to != NULL && to->id_len > 0);
        /* With ROUTER_MANDATORY the first frame fails with EHOSTUNREACH
         * for a gone peer and EAGAIN at its high-water mark. The frames
         * after it go into the same pipe and cannot fail on their own. */
        if (zmq_send(sock->zsock, to->id, to->id_len,
                     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            (to->delimiter &&
             zmq_send(sock->zsock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)) {
            rc = jm__zmq_err();
            goto out;
        }
    } else {
        JM_ASSERT(to == NULL);
    }
    if (zmq_send(sock->zsock, data, size, ZMQ_DONTWAIT) < 0)
        rc = jm__zmq_err();
out:
    /* The send ran the socket's commands, which may have taken the fd's
     * edge for a message that arrived meanwhile. */
    jm__sock_rearm(sock);
    return rc;
}

int
jm_sock_publish(jm_sock_t *sock, const char *topic, const void *data,
                size_t size)
{
    int rc = 0;

    JM_ASSERT(sock != NULL && !sock->closing);
    JM_ASSERT(sock->zmq_type == ZMQ_PUB);
    JM_ASSERT(topic != NULL);
    JM_ASSERT(data != NULL || size == 0);
    if (zmq_send(sock->zsock, topic, strlen(topic),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(sock->zsock, data, size, ZMQ_DONTWAIT) < 0)
        rc = jm__zmq_err();
    jm__sock_rearm(sock);
    return rc;
}

void
jm_sock_close(jm_sock_t **sock_p)
{
    if (sock_p == NULL || *sock_p == NULL)
        return;
    jm__sock_close(*sock_p);
    *sock_p = NULL;
}

uv_loop_t *
jm_bus_loop(const jm_bus_t *bus)
{
    return bus->loop;
}
