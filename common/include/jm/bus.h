/* bus.h - ZeroMQ sockets inside a libuv loop. The only module that touches
 * libzmq.
 *
 * A jm_bus_t owns the process's ZeroMQ context for one uv loop and the ZAP
 * handler (inproc://zeromq.zap.01) that authenticates CURVE clients against
 * allow lists. A jm_sock_t is one ZeroMQ socket driven by the loop.
 *
 * Why the adapter looks the way it does (DESIGN.md section 3): ZMQ_FD is
 * edge-triggered and shared by send and receive, so one wake-up may stand
 * for many messages, and a send may make the socket readable without the
 * fd firing again. Each socket therefore has one uv_poll_t on ZMQ_FD
 * (UV_READABLE, empty callback) that only wakes the loop, a uv_prepare_t
 * that looks at ZMQ_EVENTS before the loop blocks and starts a uv_idle_t
 * when messages are pending (so the loop does not block), and a uv_check_t
 * that drains up to a budget of messages per loop turn. After every send
 * the socket re-checks ZMQ_EVENTS. Sends from timers and other callbacks
 * are therefore safe.
 *
 * Socket options set on every socket (DESIGN.md section 2): LINGER 0 (all
 * that matters is in LMDB; zmq_ctx_term must not hang), MAXMSGSIZE as
 * int64_t (a transport cap well above the application limit, which is
 * checked separately so that the peer gets a clear error), heartbeats, and
 * ROUTER_MANDATORY on ROUTER (a reply to a gone peer is an error, not a
 * silent drop) and IMMEDIATE on DEALER (do not queue into pipes that are
 * still connecting).
 *
 * Security (DESIGN.md section 4): a CURVE server socket names an allow-list
 * domain; the bus's ZAP handler, bound before any server socket and serviced
 * by the same loop, admits only listed public keys and gives each its
 * principal ("municipality:101", "service:matcher"). The principal reaches
 * receive callbacks from the message's "User-Id" property, never from
 * anything the client chose (a routing id is not an identity).
 *
 * All functions must be called on the loop's thread. */
#ifndef JM_BUS_H
#define JM_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct jm_bus jm_bus_t;
typedef struct jm_sock jm_sock_t;

/* Length of a Z85-encoded CURVE key, without the terminating NUL. */
#define JM_KEY_Z85_LEN 40
/* Longest allow-list (ZAP domain) name a CURVE server socket may have. */
#define JM_CURVE_DOMAIN_MAX 63

/* ---- the bus: context and ZAP handler ---- */

/* Creates the ZeroMQ context and binds and starts the ZAP handler on loop.
 * Caller owns *bus_p; destroy with jm_bus_destroy. */
int jm_bus_new(jm_bus_t **bus_p, uv_loop_t *loop);

/* Closes the ZAP handler and terminates the context. Every jm_sock_t of
 * this bus must have been closed before (asserted: zmq_ctx_term would
 * hang). Self-tests still running are cancelled. Handles close asynchronously:
 * run the loop afterwards so their close callbacks free the memory. Safe on
 * NULL; sets *bus_p to NULL. */
void jm_bus_destroy(jm_bus_t **bus_p);

/* The loop the bus runs on. Borrowed. */
uv_loop_t *jm_bus_loop(const jm_bus_t *bus);

/* Adds public_key (Z85) to the allow list of domain, with the principal
 * that requests from it will carry. Returns -EINVAL for a malformed key,
 * an empty principal, or the reserved principal of a service's own
 * requests (JM_PRINCIPAL_SELF_NAME, which no caller may pose as). A key
 * added twice takes the later principal. */
int jm_bus_allow(jm_bus_t *bus, const char *domain, const char *public_key,
                 const char *principal);

/* What a service does at start and at SIGHUP: loads the allow-list file
 * path into domain, one "PUBLIC_KEY_Z85 principal" per line, '#' comments.
 * The file is the domain's whole list: keys listed before and not in it
 * are refused from then on (new handshakes by the ZAP handler; messages
 * on connections made before arrive unlisted; and, as a PUB cannot tell
 * its subscribers apart, every subscriber connection of the domain's PUB
 * sockets is dropped, so that the listed ones reconnect through ZAP and
 * the revoked ones cannot), and a key whose principal changed has the new
 * one from its next message. If narrow is not NULL,
 * it is made again as a second list for the sockets that only some
 * callers may use (the event log's and the notifications'): the keys of
 * domain whose principal keep accepts (a list left empty refuses every
 * key). *count_p (if not NULL) gets the number of keys read. Returns
 * -EINVAL (with the line logged) on a bad line (what jm_bus_allow
 * refuses, or a third word), -errno if the file cannot be read; both lists
 * are then as they were. */
int jm_bus_allow_load(jm_bus_t *bus, const char *domain, const char *path,
                      const char *narrow, bool (*keep)(const char *principal),
                      size_t *count_p);

/* A service's SIGHUP: jm_bus_allow_load of path (NULL or "": nothing to
 * read, said so: CURVE is off or no allow list), logged as component who:
 * the keys read, or why the file was refused and the old list kept. */
void jm_bus_allow_reload(jm_bus_t *bus, const char *who, const char *domain,
                         const char *path, const char *narrow,
                         bool (*keep)(const char *principal));

/* Counts of ZAP decisions since jm_bus_new (for tests and metrics). */
void jm_bus_zap_counts(const jm_bus_t *bus, uint64_t *accepted,
                       uint64_t *refused);

/* ---- keys ---- */

/* Generates a CURVE key pair, Z85 text (41 bytes each, NUL-terminated). */
int jm_keys_generate(char public_key[JM_KEY_Z85_LEN + 1],
                     char secret_key[JM_KEY_Z85_LEN + 1]);

/* Is key a CURVE key in Z85 text (40 characters that decode)? */
bool jm_keys_valid(const char *key);

/* Writes "public KEY\nsecret KEY\n" to path with mode 0600 (created or
 * replaced atomically). */
int jm_keys_save(const char *path, const char *public_key,
                 const char *secret_key);

/* Reads a key file written by jm_keys_save. Returns -EPERM if the file is
 * readable by group or others (a secret key must be 0600; logged, with the
 * chmod that cures it, since "Operation not permitted" does not say), -EINVAL
 * if it is malformed (logged, with what is wrong), or -errno of the open or
 * read (not logged). secret_key may be NULL to read only the public key (a
 * public-only file "public KEY\n" is then accepted with any mode). */
int jm_keys_load(const char *path, char public_key[JM_KEY_Z85_LEN + 1],
                 char secret_key[JM_KEY_Z85_LEN + 1]);

/* jm_keys_load for a service, whose log is where its operator looks:
 * every failure is logged once, an open or read error as "cannot read
 * <what> <path>: <reason>" under component (what: "the key pair", "the
 * source key"), the others as jm_keys_load explains them. */
int jm_keys_load_logged(const char *component, const char *what,
                        const char *path, char public_key[JM_KEY_Z85_LEN + 1],
                        char secret_key[JM_KEY_Z85_LEN + 1]);

/* ---- sockets ---- */

typedef enum jm_sock_type {
    JM_SOCK_ROUTER,
    JM_SOCK_DEALER,
    JM_SOCK_PUB,
    JM_SOCK_SUB,
} jm_sock_type;

/* Options; zero means "the default" for every field. */
typedef struct jm_sock_opts {
    int64_t max_msg_size;     /* transport cap; default 64 MiB */
    int send_hwm;             /* default 100000 messages */
    int recv_hwm;             /* default 100000 messages */
    int heartbeat_ivl_ms;     /* default 2000; negative: off */
    int heartbeat_timeout_ms; /* default 3 x heartbeat_ivl_ms */
    int reconnect_ivl_ms;     /* default 100 */
    unsigned drain_budget;    /* messages delivered per loop turn; 256 */
    /* CURVE server: set curve_secret_key (this server's) and curve_domain
     * (the allow list to check clients against).
     * CURVE client: set curve_server_key (the server's public key) and this
     * client's curve_public_key and curve_secret_key.
     * All Z85. With none set the socket is plain (no security): only for
     * loopback and ipc:// development. */
    const char *curve_public_key;
    const char *curve_secret_key;
    const char *curve_server_key;
    const char *curve_domain;
    /* SUB: the prefix to subscribe to; NULL subscribes to everything. */
    const char *subscribe;
    /* DEALER: queue messages while the connection is being made (IMMEDIATE
     * off). Right for a client with one endpoint per socket (jm_rpc's Lazy
     * Pirate client): its first request leaves as soon as the handshake
     * completes instead of failing with -EAGAIN, and its own deadline
     * covers a peer that never comes. */
    bool queue_while_connecting;
    /* DEALER: the routing id (ZMQ_ROUTING_ID, 1-255 bytes, not starting
     * with a zero byte) a ROUTER sees in jm_peer.id; NULL lets the ROUTER
     * pick one. Chosen by the client, so it is an address for replies and
     * never an identity: the principal is unaffected by it. */
    const char *routing_id;
} jm_sock_opts;

/* Where a ROUTER message came from, to address the reply. Copy it if you
 * reply later; it is small. delimiter is set when the client sent an empty
 * frame after its routing id (a REQ socket), and is echoed in the reply. */
typedef struct jm_peer {
    unsigned char id[255];
    uint8_t id_len;
    bool delimiter;
} jm_peer;

/* One received message. Everything is borrowed for the duration of the
 * receive callback only; copy what you keep. */
typedef struct jm_sock_msg {
    const void *data; /* the body: the last frame */
    size_t size;
    /* ROUTER: the sender. NULL for other socket types. */
    const jm_peer *peer;
    /* On a CURVE server, the principal the allow list gives the sender's
     * key as the list is now (it may have been read again since the
     * sender connected); NULL on a plain socket. Valid during the
     * callback. */
    const char *principal;
    /* CURVE server: the sender's key was taken off the allow list after
     * it connected (principal NULL). Refuse the message: the connection
     * stays until the peer closes it, its requests do not. */
    bool unlisted;
    /* SUB: the first frame (the topic) when the message has two frames. */
    const void *topic;
    size_t topic_size;
    /* Frames in the message, the routing id included. A ROUTER message
     * shaped other than [id, body] or [id, "", body] arrives with
     * malformed set (and data/size the last frame), so the receiver can
     * answer "malformed" instead of guessing. */
    unsigned frames;
    bool malformed;
} jm_sock_msg;

typedef void (*jm_sock_recv_cb)(jm_sock_t *sock, const jm_sock_msg *msg,
                                void *arg);

/* Called once after each loop turn in which the socket delivered at least
 * one message: the place for group commit (flush what the turn queued). */
typedef void (*jm_sock_drained_cb)(jm_sock_t *sock, void *arg);

/* Creates a socket of type with opts (NULL: all defaults). on_recv may be
 * NULL for a socket that only sends (PUB); messages it receives are then
 * dropped. Returns -EINVAL for bad opts, for example a negative size or
 * high-water mark, a malformed key, a CURVE server without curve_domain,
 * a CURVE client without all three keys, subscribe on a socket that is
 * not a SUB (a half-configured CURVE socket is refused, never made plain).
 * Caller owns *sock_p; close with jm_sock_close. */
int jm_sock_new(jm_sock_t **sock_p, jm_bus_t *bus, jm_sock_type type,
                const jm_sock_opts *opts, jm_sock_recv_cb on_recv, void *arg);

void jm_sock_set_drained_cb(jm_sock_t *sock, jm_sock_drained_cb on_drained);

/* Binds or connects. Endpoints such as "tcp://127.0.0.1:*" pick a free
 * port: read it back with jm_sock_endpoint. Returns -errno (-EADDRINUSE,
 * -EINVAL for a malformed endpoint, ...). */
int jm_sock_bind(jm_sock_t *sock, const char *endpoint);
int jm_sock_connect(jm_sock_t *sock, const char *endpoint);

/* The last endpoint bound or connected (ZMQ_LAST_ENDPOINT), with the real
 * port. Borrowed; valid until the next bind/connect or close. */
const char *jm_sock_endpoint(jm_sock_t *sock);

/* An endpoint a peer names for another of its sockets (a Pong's tick or
 * publish endpoint), as this side can connect to it: a wildcard host
 * ("tcp://" then "*", "0.0.0.0" or "[::]", then ":P": bound on every
 * interface) means the host this side reached the peer at, the host of
 * via ("tcp://intake-101:7101" gives "tcp://intake-101:P"). Anything else,
 * and any endpoint when via is not tcp://, comes back as it is. Connecting
 * to 0.0.0.0 would reach this machine, not the peer. Returns a new string
 * (free it). */
char *jm_endpoint_via(const char *named, const char *via);

/* True if a peer reached at via names a tcp:// endpoint on its loopback
 * (127.x.x.x, [::1], localhost) while via's host is not written as one:
 * if the peer is on another machine, its socket cannot be reached from
 * here (a connection goes to this machine's own loopback). Only the text
 * is compared: a host name may still resolve to this machine. */
bool jm_endpoint_on_remote_loopback(const char *named, const char *via);

/* Sends one message (copied; the caller keeps data). On a ROUTER, to names
 * the peer; on other types it must be NULL. Never blocks. Returns 0,
 * -EAGAIN (high-water mark reached), -EHOSTUNREACH (ROUTER peer gone) or
 * another -errno. */
int jm_sock_send(jm_sock_t *sock, const jm_peer *to, const void *data,
                 size_t size);

/* PUB: sends [topic, data] as two frames. */
int jm_sock_publish(jm_sock_t *sock, const char *topic, const void *data,
                    size_t size);

/* Stops the loop handles and closes the ZeroMQ socket. Safe to call from
 * the socket's own receive callback (delivery stops after it returns).
 * Memory is freed in the handles' close callbacks: run the loop afterwards.
 * Safe on NULL; sets *sock_p to NULL. */
void jm_sock_close(jm_sock_t **sock_p);

/* ---- CURVE start-up self-test ---- */

/* Called with 0 if an unknown key was refused by the server at endpoint,
 * -EACCES if it was let in (ZAP is not guarding the socket), -ETIMEDOUT if
 * no handshake result came within timeout_ms, -EPROTO if the handshake
 * failed before authentication (typically a wrong server_key: nothing is
 * proven), -ECANCELED if the bus was destroyed first. Called exactly once,
 * after the self-test's sockets and timer have been closed. */
typedef void (*jm_bus_selftest_cb)(int status, void *arg);

/* Connects a throw-away CURVE client with a fresh random key to endpoint
 * (whose server public key is server_key) and watches the handshake with a
 * socket monitor. Services run it at start-up before declaring themselves
 * ready (DESIGN.md section 4). Returns -EINVAL (malformed server_key or
 * endpoint) without calling cb, else 0 and cb is called later. */
int jm_bus_curve_selftest(jm_bus_t *bus, const char *endpoint,
                          const char *server_key, unsigned timeout_ms,
                          jm_bus_selftest_cb cb, void *arg);

/* The same handshake watch with a given client key pair, and a SUB client
 * for a PUB server (client_type JM_SOCK_SUB) or a DEALER for a ROUTER: cb
 * gets 0 if the server refused that key, -EACCES if it let it in. Tests use
 * it to prove which principals a socket admits. */
int jm_bus_curve_probe(jm_bus_t *bus, const char *endpoint,
                       const char *server_key, jm_sock_type client_type,
                       const char *client_public_key,
                       const char *client_secret_key, unsigned timeout_ms,
                       jm_bus_selftest_cb cb, void *arg);

#endif
