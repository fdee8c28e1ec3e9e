/* matcher_server.h - the matcher service: the view of its sources, the
 * index and live shortlists, the query api and the notifications, on one
 * libuv loop.
 *
 * Sockets: a ROUTER api (queries, Ping), a PUB for ShortlistChanged
 * (topic "shortlist"), and per source a DEALER (jm_follower: Ping, Fetch,
 * FetchSnapshot) plus a SUB to its ticks. Start-up: the view is loaded
 * from LMDB into the index before anything is served (so the answers
 * right after a restart are those before it, as of the cursors), then the
 * api binds and the followers catch up; the shortlists are built in the
 * background and queries compute what is not built yet. */
#ifndef MATCHER_SERVER_H
#define MATCHER_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "matcher_config.h"
#include "matcher_index.h"
#include "matcher_live.h"

typedef struct matcher_server matcher_server_t;

/* Starts the matcher on loop with config (which must outlive it). Writes
 * the ready line when serving. Caller owns *server_p. */
int matcher_server_new(matcher_server_t **server_p, uv_loop_t *loop,
                       const matcher_config *config);

/* Stops serving, closes everything (asynchronously: run the loop
 * afterwards). Safe on NULL. */
void matcher_server_destroy(matcher_server_t **server_p);

/* Bound endpoints (real ports); "" if none. Borrowed. */
const char *matcher_server_api_endpoint(matcher_server_t *server);
const char *matcher_server_publish_endpoint(matcher_server_t *server);

/* True if the server stopped itself because it must not serve (the CURVE
 * self-test let an unknown key in). */
bool matcher_server_failed(const matcher_server_t *server);

/* For tests: the index and the live lists. Borrowed. */
matcher_index_t *matcher_server_index(matcher_server_t *server);
matcher_live_t *matcher_server_live(matcher_server_t *server);

/* For tests: the applied seq of source i (0 before anything). */
uint64_t matcher_server_applied(matcher_server_t *server, unsigned source);

#endif
