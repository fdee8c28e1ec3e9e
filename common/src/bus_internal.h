/* bus_internal.h - what bus.c (context, loop adapter, sockets) and zap.c
 * (ZAP handler, allow lists, key files, CURVE self-test) share.
 *
 * The one idea to keep in mind: every ZeroMQ socket the bus reads from,
 * public or internal (the ZAP handler's ROUTER, a self-test's monitor PAIR),
 * is a jm_sock_t driven by the same loop adapter. Internal sockets differ
 * only in what they do with a whole received message (deliver). */
#ifndef JM_BUS_INTERNAL_H
#define JM_BUS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include <zmq.h>

#include "jm/bus.h"

/* Frames kept per received message. A ZAP request has 9 (with the ROUTER
 * envelope); anything longer is malformed for every use we have, so only
 * the first JM__MAX_FRAMES - 1 frames and the last one are kept. */
#define JM__MAX_FRAMES 16

/* One received message: frame[0 .. stored-1] are the first frames and
 * frame[stored-1] is always the last frame of the message; total counts
 * them all. Owned by the drain loop; a deliver function borrows it. */
struct jm__frames {
    zmq_msg_t frame[JM__MAX_FRAMES];
    unsigned stored;
    unsigned total;
};

typedef void (*jm__deliver_fn)(jm_sock_t *sock, struct jm__frames *msg);

struct jm__domain;
struct jm__selftest;
struct jm__pubconns;

struct jm_bus {
    uv_loop_t *loop;
    void *ctx;
    jm_sock_t *zap; /* the ZAP handler's ROUTER */
    struct jm__domain *domains;
    size_t domain_count;
    uint64_t zap_accepted;
    uint64_t zap_refused;
    unsigned open_sockets;          /* every jm_sock_t not yet closed */
    struct jm__selftest *selftests; /* in flight, cancelled by destroy */
    unsigned long monitor_sequence; /* unique inproc monitor endpoints */
    struct jm__pubconns *pubconns;  /* every CURVE PUB's connections */
};

struct jm_sock {
    jm_bus_t *bus;
    void *zsock;
    int zmq_type;
    bool curve_server; /* only then is "User-Id" read (the sender's key) */
    /* A CURVE server's allow list (ZAP domain): each message's key is
     * looked up there as the list is when it arrives. */
    char curve_domain[JM_CURVE_DOMAIN_MAX + 1];
    /* A CURVE PUB: its subscriber connections (pubconns.c). */
    struct jm__pubconns *pubconns;
    bool closing;
    unsigned open_handles; /* freed when the last close callback ran */
    unsigned drain_budget;
    uv_poll_t poll;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_idle_t idle;
    jm__deliver_fn deliver;
    jm_sock_recv_cb on_recv;
    jm_sock_drained_cb on_drained;
    void *arg;
    char endpoint[512];
};

/* Creates a socket of the raw ZeroMQ type zmq_type, applies opts (NULL:
 * defaults; ROUTER gets ROUTER_MANDATORY, DEALER IMMEDIATE) and starts the
 * loop adapter, which hands every whole message to deliver. arg is stored
 * in sock->arg. Caller owns *sock_p; close with jm__sock_close. */
int jm__sock_open(jm_sock_t **sock_p, jm_bus_t *bus, int zmq_type,
                  const jm_sock_opts *opts, jm__deliver_fn deliver, void *arg);

/* jm_sock_close without the pointer dance: safe inside deliver. */
void jm__sock_close(jm_sock_t *sock);

/* Checks ZMQ_EVENTS and starts the idle handle if a message is pending (so
 * the loop does not block on an fd that will not fire again). Called after
 * every send. */
void jm__sock_rearm(jm_sock_t *sock);

/* Receives one whole message into msg without waiting; false when none is
 * pending (msg is then empty). Release what it filled with
 * jm__frames_release. */
bool jm__sock_recv(jm_sock_t *sock, struct jm__frames *msg);
void jm__frames_release(struct jm__frames *msg);

/* A socket monitor of watched, read on the loop: a PAIR (*pair_p, a bus
 * socket like the others) whose deliver gets each of the events asked for
 * (ZMQ_EVENT_*) as a message; read it with jm__monitor_event. Its queue
 * is unbounded (see bus.c). Stop it with jm__monitor_close before closing
 * watched. On failure nothing is left open and *pair_p is NULL. */
int jm__monitor_open(jm_sock_t **pair_p, jm_sock_t *watched, int events,
                     jm__deliver_fn deliver, void *arg);
/* Stops watched's monitor, then closes pair (NULL: none). */
void jm__monitor_close(jm_sock_t *watched, jm_sock_t *pair);

/* A monitor's event (libzmq 4.3: [u16 id, u32 value][endpoint]) read into
 * *id and *value; false if msg is not one. */
bool jm__monitor_event(const struct jm__frames *msg, uint16_t *id,
                       uint32_t *value);

/* pubconns.c: starts keeping the subscriber connections of a CURVE PUB
 * (before it binds, so that none is missed). jm__sock_close stops it. */
int jm__pubconns_start(jm_sock_t *pub);
void jm__pubconns_stop(jm_sock_t *pub);

/* pubconns.c: a reload took at least one key off domain's allow list:
 * every subscriber connection of the PUB sockets of that domain is dropped
 * so that each is authenticated again (ZAP refuses the revoked key). */
void jm__pubconns_revoked(jm_bus_t *bus, const char *domain);

/* -errno for the last failed zmq call. */
int jm__zmq_err(void);

/* True if key is JM_KEY_Z85_LEN valid Z85 characters (NUL-terminated);
 * fills raw (32 bytes) when not NULL. */
bool jm__key_valid(const char *key, uint8_t raw[32]);

/* zap.c: the principal domain's allow list gives key (Z85, as the ZAP
 * handler returned it for the connection) now, or NULL if it is no longer
 * listed. Valid until the list changes (jm_bus_allow*): copy it to keep. */
const char *jm__allow_principal(const jm_bus_t *bus, const char *domain,
                                const char *key);

/* zap.c: binds the ZAP handler of bus (before any server socket). */
int jm__zap_start(jm_bus_t *bus);

/* zap.c: cancels self-tests in flight (their callbacks get -ECANCELED),
 * closes the ZAP socket and frees the allow lists. The context is still
 * alive; bus.c terminates it afterwards. */
void jm__zap_stop(jm_bus_t *bus);

#endif
