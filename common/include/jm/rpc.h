/* rpc.h - requests and replies over the bus: the jobmatch.v1 envelope.
 *
 * Server side: a ROUTER socket whose every message is decoded in the
 * validation order of docs/protocol.md, each step with its own error code:
 *   1. frames not shaped [id, body] / [id, "", body]   -> MALFORMED
 *   2. body larger than max_request_size               -> TOO_LARGE
 *   3. not a Request (jm_msg_unpack: encoding, UTF-8, NUL, enums)
 *                                     -> MALFORMED / INVALID_FIELD / TOO_LARGE
 *   4. request_id not 16 bytes                          -> INVALID_FIELD
 *   5. body unset: with unknown fields -> UNSUPPORTED_TYPE, else MALFORMED
 * Only then does the handler see the request; it checks the body's own
 * fields and permissions and replies. A bad message never reaches service
 * code and never changes anything; it is logged once at warn.
 *
 * A handler replies at once (reads) or keeps the call and replies after
 * its group commit (writes). The call owns the unpacked request until the
 * reply is sent. A reply to a peer that has gone is dropped (logged at
 * debug): the client resends with the same request id and gets the stored
 * reply.
 *
 * Client side: a DEALER with Lazy Pirate retries over a list of endpoints:
 * a call that times out is resent with the same request id to the next
 * endpoint (writes are idempotent by request id), up to a number of tries. */
#ifndef JM_RPC_H
#define JM_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/bus.h"
#include "jm/msg.h"
#include "jobmatch/v1/envelope.pb-c.h"

/* ---- server ---- */

typedef struct jm_rpc_server jm_rpc_server_t;
typedef struct jm_rpc_call jm_rpc_call_t;

/* Called for every request that passed the envelope checks. req is owned
 * by the call: valid until the call is replied to. */
typedef void (*jm_rpc_handler_fn)(jm_rpc_call_t *call,
                                  const Jobmatch__V1__Request *req, void *arg);

/* Called after each loop turn in which requests arrived: flush the group
 * commit here. May be NULL. */
typedef void (*jm_rpc_drained_fn)(void *arg);

typedef struct jm_rpc_server_opts {
    const char *name;        /* log component; default "rpc" */
    size_t max_request_size; /* default 1 MiB */
    /* The principal of callers on a plain (non-CURVE) socket. Default
     * "local". Plain sockets are for loopback development only. One that
     * jm_principal_problem refuses ("service", empty, control characters)
     * fails jm_rpc_server_new with -EINVAL. */
    const char *plain_principal;
    jm_sock_opts sock; /* socket options (CURVE server keys, ...) */
} jm_rpc_server_opts;

/* Binds a ROUTER at endpoint. Caller owns *server_p. */
int jm_rpc_server_new(jm_rpc_server_t **server_p, jm_bus_t *bus,
                      const char *endpoint, const jm_rpc_server_opts *opts,
                      jm_rpc_handler_fn handler, jm_rpc_drained_fn drained,
                      void *arg);

/* Bound endpoint with the real port. Borrowed. */
const char *jm_rpc_server_endpoint(jm_rpc_server_t *server);

/* Outstanding calls are dropped without reply. Closes asynchronously (run
 * the loop afterwards). Safe on NULL. */
void jm_rpc_server_destroy(jm_rpc_server_t **server_p);

/* Counters for metrics and tests. */
typedef struct jm_rpc_stats {
    uint64_t requests; /* envelopes that reached the handler */
    uint64_t rejected; /* answered with an error before the handler */
    uint64_t replies;
    uint64_t dropped; /* replies that could not be sent */
} jm_rpc_stats;

void jm_rpc_server_get_stats(const jm_rpc_server_t *server, jm_rpc_stats *out);

/* The caller's principal: the ZAP principal of its CURVE key, or the plain
 * principal. Never NULL; borrowed until the reply. */
const char *jm_rpc_call_principal(const jm_rpc_call_t *call);

/* The CURVE (ZAP) domains of the services' sockets, each with its own allow
 * list: the apis admit every key of the service's allow_file; the sockets
 * that carry every municipality's records admit only the keys whose
 * principal sees all (jm_bus_allow_load's narrow list). */
#define JM_CURVE_DOMAIN_API     "jobmatch"         /* the ROUTER apis */
#define JM_CURVE_DOMAIN_LOG     "jobmatch.log"     /* ticks, log endpoint */
#define JM_CURVE_DOMAIN_PUBLISH "jobmatch.publish" /* ShortlistChanged */

/* The 16-byte request id. Borrowed until the reply. */
const uint8_t *jm_rpc_call_request_id(const jm_rpc_call_t *call);

/* A digest of the request's bytes as they arrived, so that a request id
 * sent again with another request can be told from a retry: the server's
 * key id (8 bytes), then SipHash-2-4 of the bytes under that key (8).
 * The key is random, made when the server is created and kept in memory
 * only: a request holds personal data (a CPR number), and a digest under
 * a key anyone knew, kept on disk with the idempotency records, would let
 * whoever reads the store confirm a guessed number offline, even of a
 * citizen since erased. Digests of another key id (made before a
 * restart) cannot be compared: jm_idem takes them for a retry. */
#define JM_RPC_DIGEST_LEN 16
const uint8_t *jm_rpc_call_request_digest(const jm_rpc_call_t *call);

/* A per-call slot for the handler's state across a group commit. */
void jm_rpc_call_set_data(jm_rpc_call_t *call, void *data);
void *jm_rpc_call_data(const jm_rpc_call_t *call);

/* Packs and sends reply (its request_id is set from the call), then frees
 * the call. The caller keeps ownership of reply. */
void jm_rpc_reply(jm_rpc_call_t *call, Jobmatch__V1__Reply *reply);

/* Replies with err as the body, then frees the call. */
void jm_rpc_reply_error(jm_rpc_call_t *call, const jm_error *err);

/* Sends a reply stored earlier (data: packed Reply bytes) for the same request
 * id, marked duplicate. Then frees the call. */
void jm_rpc_reply_stored(jm_rpc_call_t *call, const void *data, size_t size);

/* Sends a reply packed for this call with jm_rpc_pack_reply (not marked
 * duplicate), then frees the call: a reply packed once for the
 * idempotency record is sent as it is. */
void jm_rpc_reply_packed(jm_rpc_call_t *call, const void *data, size_t size);

/* Packs reply as it will be stored for idempotency (request_id set from
 * the call, duplicate false). Caller owns *data_p (free()). */
int jm_rpc_pack_reply(const jm_rpc_call_t *call, Jobmatch__V1__Reply *reply,
                      uint8_t **data_p, size_t *size_p);

/* ---- client ---- */

typedef struct jm_rpc_client jm_rpc_client_t;

/* status 0: reply is the decoded Reply (borrowed for the callback only;
 * it may be an Error body). -ETIMEDOUT: no endpoint answered in time.
 * -EPROTO: an answer arrived that was not a valid Reply. -ECANCELED: the
 * client was destroyed. */
typedef void (*jm_rpc_reply_fn)(int status, const Jobmatch__V1__Reply *reply,
                                void *arg);

typedef struct jm_rpc_client_opts {
    unsigned timeout_ms;   /* per try; default 3000 */
    unsigned tries;        /* default: 2 per endpoint */
    size_t max_reply_size; /* default 64 MiB */
    jm_sock_opts sock;     /* CURVE client keys, ... */
} jm_rpc_client_opts;

/* A client for endpoints[0..count-1] (tried in order, round robin on
 * failure). Caller owns *client_p. */
int jm_rpc_client_new(jm_rpc_client_t **client_p, jm_bus_t *bus,
                      const char *const *endpoints, size_t count,
                      const jm_rpc_client_opts *opts);

/* Sends req. If req->request_id is empty a random one is set (the client
 * keeps it for retries). The request is packed at once: the caller keeps
 * ownership of req. Several calls may be in flight; replies are matched by
 * request id. */
int jm_rpc_client_call(jm_rpc_client_t *client, Jobmatch__V1__Request *req,
                       jm_rpc_reply_fn cb, void *arg);

/* The endpoint currently in use. Borrowed. */
const char *jm_rpc_client_endpoint(const jm_rpc_client_t *client);

/* Calls in flight get -ECANCELED. Closes asynchronously. Safe on NULL. */
void jm_rpc_client_destroy(jm_rpc_client_t **client_p);

/* Fills id with 16 random bytes. */
void jm_rpc_new_request_id(uint8_t id[16]);

#endif
