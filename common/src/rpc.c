/* rpc.c - the jobmatch.v1 envelope over the bus: a ROUTER server that
 * checks every request in the documented order before any service code
 * sees it, and a DEALER client with Lazy Pirate retries.
 *
 * The one design decision to know: a server call owns the unpacked request
 * until the reply is sent, so a handler can keep the call across a group
 * commit and reply after the LMDB transaction committed. */
#include "jm/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jm/clock.h"
#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"

#define DEFAULT_MAX_REQUEST (1024 * 1024)
#define DEFAULT_MAX_REPLY   (64 * 1024 * 1024)
#define DEFAULT_TIMEOUT_MS  3000

/* ------------------------------------------------------------------ */
/* server                                                              */
/* ------------------------------------------------------------------ */

struct jm_rpc_call {
    jm_rpc_server_t *server;
    jm_peer peer;
    char principal[JM_PRINCIPAL_MAX_LEN + 1];
    uint8_t request_id[16];
    uint8_t digest[JM_RPC_DIGEST_LEN]; /* of the request's bytes */
    jm_msg_t *msg;                     /* owns the Request */
    void *data;
    struct jm_rpc_call *prev, *next; /* outstanding calls */
};

struct jm_rpc_server {
    jm_sock_t *sock;
    char name[32];
    size_t max_request_size;
    char plain_principal[JM_PRINCIPAL_MAX_LEN + 1];
    /* The requests' digests: a key id, and the key, in memory only
     * (jm_rpc_call_request_digest). */
    uint8_t digest_key_id[8];
    uint8_t digest_key[crypto_shorthash_KEYBYTES];
    jm_rpc_handler_fn handler;
    jm_rpc_drained_fn drained;
    void *arg;
    jm_rpc_call_t *calls; /* outstanding, for destroy */
    jm_rpc_stats stats;
};

static void
send_packed(jm_rpc_server_t *server, const jm_peer *peer, const void *data,
            size_t size)
{
    int rc = jm_sock_send(server->sock, peer, data, size);

    if (rc == 0) {
        server->stats.replies++;
        return;
    }
    /* A peer that went away will resend with the same request id and get
     * the stored reply; a full pipe means a client that does not read. */
    server->stats.dropped++;
    jm_log(rc == -EHOSTUNREACH ? JM_LOG_DEBUG : JM_LOG_WARN, server->name,
           "reply dropped: %s", jm_strerror(rc));
}

static void
send_reply(jm_rpc_server_t *server, const jm_peer *peer,
           Jobmatch__V1__Reply *reply)
{
    uint8_t *data = NULL;
    size_t size = 0;

    jm_msg_pack(&reply->base, &data, &size);
    send_packed(server, peer, data, size);
    free(data);
}

/* The request id of a message we could not decode, if the sender put it
 * first as protobuf encoders do (tag 0x0a, length 16): the error reply can
 * then be matched by the client. */
static bool
sniff_request_id(const uint8_t *data, size_t size, uint8_t id[16])
{
    if (size < 18 || data[0] != 0x0a || data[1] != 16)
        return false;
    memcpy(id, data + 2, 16);
    return true;
}

/* Who sent m, for the log: its principal, or what stands for one. */
static const char *
sender(const jm_rpc_server_t *server, const jm_sock_msg *m)
{
    if (m->unlisted)
        return "a key no longer on the allow list";
    return m->principal ? m->principal : server->plain_principal;
}

static void
reject(jm_rpc_server_t *server, const jm_sock_msg *m, const uint8_t *id,
       const jm_error *err)
{
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__Error wire = JOBMATCH__V1__ERROR__INIT;

    server->stats.rejected++;
    jm_log(JM_LOG_WARN, server->name, "rejected request from %s: %s%s%s: %s",
           sender(server, m), jm_error_code_name(err->code),
           err->field_path[0] ? " " : "", err->field_path, err->message);
    if (m->peer == NULL)
        return;
    if (id != NULL) {
        reply.request_id.data = (uint8_t *) id;
        reply.request_id.len = 16;
    }
    jm_error_to_wire(err, &wire);
    reply.body_case = JOBMATCH__V1__REPLY__BODY_ERROR;
    reply.error = &wire;
    send_reply(server, m->peer, &reply);
}

static void
on_request(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    jm_rpc_server_t *server = arg;
    const Jobmatch__V1__Request *req;
    jm_error err = {0};
    jm_msg_t *msg = NULL;
    jm_rpc_call_t *call;
    uint8_t id[16];
    bool have_id = sniff_request_id(m->data, m->size, id);

    (void) sock;
    /* A key taken off the allow list after it connected (SIGHUP): nothing
     * it sends is read, whatever it is. */
    if (m->unlisted) {
        jm_error_set(&err, JM_E_PERMISSION_DENIED, "",
                     "your key is no longer on this service's allow list");
        reject(server, m, have_id ? id : NULL, &err);
        return;
    }
    /* Steps 1-5 of docs/protocol.md, each with its own code. */
    if (m->malformed) {
        /* Counted as the client sent them: the ROUTER's routing id is
         * not the client's frame. */
        jm_error_set(&err, JM_E_MALFORMED, "",
                     "a request is one frame, the packed Request (or an "
                     "empty frame and then it, as a REQ socket sends); got "
                     "%u frames",
                     m->frames > 0 ? m->frames - 1 : 0);
        reject(server, m, have_id ? id : NULL, &err);
        return;
    }
    if (m->size > server->max_request_size) {
        jm_error_set(&err, JM_E_TOO_LARGE, "",
                     "request of %zu bytes is over the limit of %zu bytes",
                     m->size, server->max_request_size);
        reject(server, m, have_id ? id : NULL, &err);
        return;
    }
    if (jm_msg_unpack(&msg, &jobmatch__v1__request__descriptor, m->data,
                      m->size, server->max_request_size, &err) != 0) {
        reject(server, m, have_id ? id : NULL, &err);
        return;
    }
    req = (const Jobmatch__V1__Request *) jm_msg_get(msg);
    if (!jm_check_request_id(&err, "request_id", &req->request_id)) {
        reject(server, m, NULL, &err);
        goto out;
    }
    if (req->body_case == JOBMATCH__V1__REQUEST__BODY__NOT_SET) {
        if (jm_msg_has_unknown_fields(&req->base))
            jm_error_set(&err, JM_E_UNSUPPORTED, "",
                         "the request body is of a type this service "
                         "does not know");
        else
            jm_error_set(&err, JM_E_MALFORMED, "", "the request has no body");
        reject(server, m, req->request_id.data, &err);
        goto out;
    }

    call = jm_xcalloc(1, sizeof(*call));
    call->server = server;
    call->peer = *m->peer;
    {
        /* Principals were checked to fit (jm_principal_problem); the
         * bound only keeps a longer one from overrunning. */
        const char *who = sender(server, m);
        size_t len = strnlen(who, sizeof(call->principal) - 1);

        memcpy(call->principal, who, len);
        call->principal[len] = '\0';
    }
    memcpy(call->request_id, req->request_id.data, 16);
    _Static_assert(sizeof(server->digest_key_id) + crypto_shorthash_BYTES ==
                       JM_RPC_DIGEST_LEN,
                   "a key id and a SipHash-2-4");
    memcpy(call->digest, server->digest_key_id, sizeof(server->digest_key_id));
    (void) crypto_shorthash(call->digest + sizeof(server->digest_key_id),
                            m->data, m->size, server->digest_key);
    call->msg = msg;
    msg = NULL;
    call->next = server->calls;
    if (server->calls != NULL)
        server->calls->prev = call;
    server->calls = call;
    server->stats.requests++;
    server->handler(call, req, server->arg);

out:
    jm_msg_free(&msg);
}

static void
on_drained(jm_sock_t *sock, void *arg)
{
    jm_rpc_server_t *server = arg;

    (void) sock;
    if (server->drained != NULL)
        server->drained(server->arg);
}

int
jm_rpc_server_new(jm_rpc_server_t **server_p, jm_bus_t *bus,
                  const char *endpoint, const jm_rpc_server_opts *opts,
                  jm_rpc_handler_fn handler, jm_rpc_drained_fn drained,
                  void *arg)
{
    jm_rpc_server_t *server = jm_xcalloc(1, sizeof(*server));
    jm_rpc_server_opts defaults = {0};
    const char *problem;
    int rc;

    JM_ASSERT(handler != NULL);
    if (opts == NULL)
        opts = &defaults;
    snprintf(server->name, sizeof(server->name), "%s",
             opts->name ? opts->name : "rpc");
    /* Checked like an allow list's principals: "service" would give every
     * plain caller the service's own rights. */
    if (opts->plain_principal != NULL &&
        (problem = jm_principal_problem(opts->plain_principal)) != NULL) {
        jm_log(JM_LOG_ERR, server->name, "plain_principal \"%s\": %s",
               opts->plain_principal, problem);
        rc = -EINVAL;
        goto fail;
    }
    snprintf(server->plain_principal, sizeof(server->plain_principal), "%s",
             opts->plain_principal ? opts->plain_principal : "local");
    server->max_request_size =
        opts->max_request_size ? opts->max_request_size : DEFAULT_MAX_REQUEST;
    server->handler = handler;
    server->drained = drained;
    server->arg = arg;
    /* A fresh key for this server's life (jm_rpc_call_request_digest). */
    if (sodium_init() < 0) {
        rc = -EIO;
        goto fail;
    }
    randombytes_buf(server->digest_key_id, sizeof(server->digest_key_id));
    crypto_shorthash_keygen(server->digest_key);

    rc = jm_sock_new(&server->sock, bus, JM_SOCK_ROUTER, &opts->sock,
                     on_request, server);
    if (rc != 0)
        goto fail;
    jm_sock_set_drained_cb(server->sock, on_drained);
    if ((rc = jm_sock_bind(server->sock, endpoint)) != 0)
        goto fail;
    *server_p = server;
    return 0;

fail:
    jm_sock_close(&server->sock);
    free(server);
    return rc;
}

const char *
jm_rpc_server_endpoint(jm_rpc_server_t *server)
{
    return jm_sock_endpoint(server->sock);
}

static void
call_free(jm_rpc_call_t *call)
{
    jm_rpc_server_t *server = call->server;

    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        server->calls = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
    jm_msg_free(&call->msg);
    free(call);
}

void
jm_rpc_server_destroy(jm_rpc_server_t **server_p)
{
    jm_rpc_server_t *server = *server_p;

    if (server == NULL)
        return;
    while (server->calls != NULL)
        call_free(server->calls);
    jm_sock_close(&server->sock);
    sodium_memzero(server->digest_key, sizeof(server->digest_key));
    free(server);
    *server_p = NULL;
}

void
jm_rpc_server_get_stats(const jm_rpc_server_t *server, jm_rpc_stats *out)
{
    *out = server->stats;
}

const char *
jm_rpc_call_principal(const jm_rpc_call_t *call)
{
    return call->principal;
}

const uint8_t *
jm_rpc_call_request_id(const jm_rpc_call_t *call)
{
    return call->request_id;
}

const uint8_t *
jm_rpc_call_request_digest(const jm_rpc_call_t *call)
{
    return call->digest;
}

void
jm_rpc_call_set_data(jm_rpc_call_t *call, void *data)
{
    call->data = data;
}

void *
jm_rpc_call_data(const jm_rpc_call_t *call)
{
    return call->data;
}

void
jm_rpc_reply(jm_rpc_call_t *call, Jobmatch__V1__Reply *reply)
{
    reply->request_id.data = call->request_id;
    reply->request_id.len = 16;
    send_reply(call->server, &call->peer, reply);
    reply->request_id.data = NULL;
    reply->request_id.len = 0;
    call_free(call);
}

void
jm_rpc_reply_error(jm_rpc_call_t *call, const jm_error *err)
{
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__Error wire = JOBMATCH__V1__ERROR__INIT;

    /* Requests the service turns down are logged at info: they are the
     * client's business, but an operator looking for a user's problem
     * wants to find them. "unavailable" is the service failing, not the
     * client (a full disk, a store it cannot write): a warning, so that
     * `journalctl -p warning` shows what the clients were told. */
    jm_log(err->code == JM_E_UNAVAILABLE ? JM_LOG_WARN : JM_LOG_INFO,
           call->server->name, "%s from %s: %s%s%s: %s",
           err->code == JM_E_UNAVAILABLE ? "unavailable" : "refused",
           call->principal, jm_error_code_name(err->code),
           err->field_path[0] ? " " : "", err->field_path, err->message);
    jm_error_to_wire(err, &wire);
    reply.body_case = JOBMATCH__V1__REPLY__BODY_ERROR;
    reply.error = &wire;
    jm_rpc_reply(call, &reply);
}

void
jm_rpc_reply_stored(jm_rpc_call_t *call, const void *data, size_t size)
{
    jm_error err = {0};
    jm_msg_t *msg = NULL;
    Jobmatch__V1__Reply *reply;

    /* The stored reply was packed by us with duplicate = false; decode it
     * to set the flag rather than patching bytes. */
    if (jm_msg_unpack(&msg, &jobmatch__v1__reply__descriptor, data, size,
                      size + 1, &err) != 0) {
        jm_log(JM_LOG_ERR, call->server->name,
               "stored reply does not decode: %s", err.message);
        jm_error_set(&err, JM_E_UNAVAILABLE, "",
                     "the stored reply for this request id is unreadable");
        err.retryable = false;
        jm_rpc_reply_error(call, &err);
        return;
    }
    reply = (Jobmatch__V1__Reply *) jm_msg_get(msg);
    reply->duplicate = true;
    jm_rpc_reply(call, reply);
    jm_msg_free(&msg);
}

void
jm_rpc_reply_packed(jm_rpc_call_t *call, const void *data, size_t size)
{
    send_packed(call->server, &call->peer, data, size);
    call_free(call);
}

int
jm_rpc_pack_reply(const jm_rpc_call_t *call, Jobmatch__V1__Reply *reply,
                  uint8_t **data_p, size_t *size_p)
{
    int rc;

    reply->request_id.data = (uint8_t *) call->request_id;
    reply->request_id.len = 16;
    reply->duplicate = false;
    rc = jm_msg_pack(&reply->base, data_p, size_p);
    reply->request_id.data = NULL;
    reply->request_id.len = 0;
    return rc;
}

/* ------------------------------------------------------------------ */
/* client                                                              */
/* ------------------------------------------------------------------ */

struct pending {
    uint8_t id[16];
    uint8_t *data; /* the packed request, resent on failover */
    size_t size;
    uint64_t deadline; /* uv_now() ms */
    unsigned tries_left;
    jm_rpc_reply_fn cb;
    void *arg;
    struct pending *next;
};

struct jm_rpc_client {
    jm_bus_t *bus;
    jm_sock_t *sock;
    uv_loop_t *loop;
    uv_timer_t timer;
    char **endpoints;
    size_t count;
    size_t current;
    jm_rpc_client_opts opts;
    struct pending *pending; /* in send order */
    bool closing;
};

static void on_reply(jm_sock_t *sock, const jm_sock_msg *m, void *arg);
static void on_timer(uv_timer_t *timer);

void
jm_rpc_new_request_id(uint8_t id[16])
{
    uint64_t ms;
    int rc;

    /* A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
     * Services keep a B-tree of request ids for idempotency; ids that grow
     * with time are inserted at its end, so a batch dirties a few pages
     * instead of one random page per request. uv_random without a loop
     * reads getrandom(2). */
    rc = uv_random(NULL, NULL, id, 16, 0, NULL);
    JM_ASSERT(rc == 0);
    ms = (uint64_t) jm_clock_now_ms();
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t) (ms >> (40 - 8 * i));
    id[6] = (uint8_t) (0x70 | (id[6] & 0x0f)); /* version 7 */
    id[8] = (uint8_t) (0x80 | (id[8] & 0x3f)); /* RFC 9562 variant */
}

static int
open_socket(jm_rpc_client_t *client)
{
    jm_sock_opts opts = client->opts.sock;
    int rc;

    /* One endpoint per socket: queue the request until the handshake is
     * done; the call's own deadline covers a server that never answers. */
    opts.queue_while_connecting = true;
    rc = jm_sock_new(&client->sock, client->bus, JM_SOCK_DEALER, &opts,
                     on_reply, client);

    if (rc != 0)
        return rc;
    rc = jm_sock_connect(client->sock, client->endpoints[client->current]);
    if (rc != 0) {
        jm_log(JM_LOG_ERR, "rpc", "cannot connect to %s: %s",
               client->endpoints[client->current], jm_strerror(rc));
        jm_sock_close(&client->sock);
    }
    return rc;
}

static void
arm_timer(jm_rpc_client_t *client)
{
    uint64_t now = uv_now(client->loop), earliest = UINT64_MAX;

    for (struct pending *p = client->pending; p != NULL; p = p->next) {
        if (p->deadline < earliest)
            earliest = p->deadline;
    }
    if (earliest == UINT64_MAX) {
        uv_timer_stop(&client->timer);
        return;
    }
    uv_timer_start(&client->timer, on_timer,
                   earliest > now ? earliest - now : 0, 0);
}

static void
send_pending(jm_rpc_client_t *client, struct pending *p)
{
    int rc = client->sock ? jm_sock_send(client->sock, NULL, p->data, p->size)
                          : -ENOTCONN;

    /* A send that fails (IMMEDIATE with no connected peer gives EAGAIN) is
     * not an error here: the deadline will move us to the next endpoint. */
    if (rc != 0)
        jm_log(JM_LOG_DEBUG, "rpc", "send to %s deferred: %s",
               client->endpoints[client->current], jm_strerror(rc));
    p->deadline = uv_now(client->loop) + client->opts.timeout_ms;
}

int
jm_rpc_client_new(jm_rpc_client_t **client_p, jm_bus_t *bus,
                  const char *const *endpoints, size_t count,
                  const jm_rpc_client_opts *opts)
{
    jm_rpc_client_t *client;
    int rc;

    if (count == 0)
        return -EINVAL;
    client = jm_xcalloc(1, sizeof(*client));
    client->bus = bus;
    if (opts != NULL)
        client->opts = *opts;
    if (client->opts.timeout_ms == 0)
        client->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (client->opts.tries == 0)
        client->opts.tries = (unsigned) (2 * count);
    if (client->opts.max_reply_size == 0)
        client->opts.max_reply_size = DEFAULT_MAX_REPLY;
    client->endpoints = jm_xcalloc(count, sizeof(char *));
    for (size_t i = 0; i < count; i++)
        client->endpoints[i] = jm_xstrdup(endpoints[i]);
    client->count = count;
    client->loop = jm_bus_loop(bus);
    if ((rc = open_socket(client)) != 0)
        goto fail;
    /* Initialised last: once it exists, the memory is freed in its close
     * callback. A stopped timer does not keep the loop alive. */
    uv_timer_init(client->loop, &client->timer);
    client->timer.data = client;
    *client_p = client;
    return 0;

fail:
    for (size_t i = 0; i < count; i++)
        free(client->endpoints[i]);
    free(client->endpoints);
    free(client);
    return rc;
}

static void
finish(jm_rpc_client_t *client, struct pending *p, int status,
       const Jobmatch__V1__Reply *reply)
{
    p->cb(status, reply, p->arg);
    free(p->data);
    free(p);
    (void) client;
}

static struct pending *
unlink_pending(jm_rpc_client_t *client, const uint8_t *id)
{
    for (struct pending **pp = &client->pending; *pp != NULL;
         pp = &(*pp)->next) {
        if (memcmp((*pp)->id, id, 16) == 0) {
            struct pending *p = *pp;

            *pp = p->next;
            p->next = NULL;
            return p;
        }
    }
    return NULL;
}

static void
on_reply(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    jm_rpc_client_t *client = arg;
    const Jobmatch__V1__Reply *reply;
    struct pending *p;
    jm_error err = {0};
    jm_msg_t *msg = NULL;
    uint8_t id[16];

    (void) sock;
    if (client->closing)
        return;
    if (jm_msg_unpack(&msg, &jobmatch__v1__reply__descriptor, m->data, m->size,
                      client->opts.max_reply_size, &err) != 0) {
        /* Without a request id we cannot say which call it answered; if we
         * can sniff one, fail that call, else drop it (the call times out). */
        jm_log(JM_LOG_WARN, "rpc", "undecodable reply from %s: %s",
               client->endpoints[client->current], err.message);
        if (sniff_request_id(m->data, m->size, id) &&
            (p = unlink_pending(client, id)) != NULL)
            finish(client, p, -EPROTO, NULL);
        return;
    }
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if (reply->request_id.len == 16 &&
        (p = unlink_pending(client, reply->request_id.data)) != NULL) {
        finish(client, p, 0, reply);
        if (!client->closing)
            arm_timer(client);
    }
    /* else: a late answer to a call that already timed out or moved on. */
    jm_msg_free(&msg);
}

/* Lazy Pirate: the server we talk to is not answering. Drop the socket
 * (late replies from it must not be mistaken for new ones), move to the
 * next endpoint and resend everything in flight with the same ids. */
static void
fail_over(jm_rpc_client_t *client)
{
    jm_sock_close(&client->sock);
    client->current = (client->current + 1) % client->count;
    jm_log(JM_LOG_INFO, "rpc", "no answer; trying %s",
           client->endpoints[client->current]);
    open_socket(client);
    for (struct pending *p = client->pending; p != NULL; p = p->next)
        send_pending(client, p);
}

static void
on_timer(uv_timer_t *timer)
{
    jm_rpc_client_t *client = timer->data;
    uint64_t now = uv_now(client->loop);
    bool expired = false;
    struct pending **pp = &client->pending;

    /* closing first: a callback that destroyed the client freed the
     * pending entries pp may point into. */
    while (!client->closing && *pp != NULL) {
        struct pending *p = *pp;

        if (p->deadline > now) {
            pp = &p->next;
            continue;
        }
        expired = true;
        if (p->tries_left > 1) {
            p->tries_left--;
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        finish(client, p, -ETIMEDOUT, NULL);
    }
    if (client->closing)
        return;
    if (expired && client->pending != NULL)
        fail_over(client);
    arm_timer(client);
}

int
jm_rpc_client_call(jm_rpc_client_t *client, Jobmatch__V1__Request *req,
                   jm_rpc_reply_fn cb, void *arg)
{
    struct pending *p;
    uint8_t fresh[16];

    JM_ASSERT(cb != NULL && !client->closing);
    if (req->request_id.len == 0) {
        jm_rpc_new_request_id(fresh);
        req->request_id.data = fresh;
        req->request_id.len = 16;
    } else if (req->request_id.len != 16) {
        return -EINVAL;
    }
    p = jm_xcalloc(1, sizeof(*p));
    memcpy(p->id, req->request_id.data, 16);
    jm_msg_pack(&req->base, &p->data, &p->size);
    if (req->request_id.data == fresh) {
        req->request_id.data = NULL;
        req->request_id.len = 0;
    }
    p->cb = cb;
    p->arg = arg;
    p->tries_left = client->opts.tries;
    /* Append: replies are matched by id, but resends keep the order. */
    {
        struct pending **pp = &client->pending;

        while (*pp != NULL)
            pp = &(*pp)->next;
        *pp = p;
    }
    send_pending(client, p);
    arm_timer(client);
    return 0;
}

const char *
jm_rpc_client_endpoint(const jm_rpc_client_t *client)
{
    return client->endpoints[client->current];
}

static void
on_client_closed(uv_handle_t *handle)
{
    jm_rpc_client_t *client = handle->data;

    for (size_t i = 0; i < client->count; i++)
        free(client->endpoints[i]);
    free(client->endpoints);
    free(client);
}

void
jm_rpc_client_destroy(jm_rpc_client_t **client_p)
{
    jm_rpc_client_t *client = *client_p;

    if (client == NULL)
        return;
    *client_p = NULL;
    if (client->closing)
        return;
    client->closing = true;
    while (client->pending != NULL) {
        struct pending *p = client->pending;

        client->pending = p->next;
        finish(client, p, -ECANCELED, NULL);
    }
    jm_sock_close(&client->sock);
    uv_timer_stop(&client->timer);
    uv_close((uv_handle_t *) &client->timer, on_client_closed);
}
