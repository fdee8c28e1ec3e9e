/* intake_server.h - the intake service as an object on a caller's loop:
 * jm_source (socket, group commit, log, idempotency) with intake's domain
 * (intake_order.h) and records (intake_repo.h) plugged in.
 *
 * main.c runs one on the default loop; the component tests run one on a
 * private loop with ephemeral endpoints and a temporary data directory. */
#ifndef INTAKE_SERVER_H
#define INTAKE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "intake_config.h"
#include "jm/source.h"

typedef struct intake_server intake_server_t;

/* Loads the ESCO data (a warning, and ESCO-based checks off, if it is
 * missing), the CURVE key pair if configured, opens the store and starts
 * serving on loop (the ready line is written when it serves). config is
 * copied as far as needed; the caller may release it afterwards. Caller
 * owns *server_p. Returns 0 or -errno (logged). */
int intake_server_new(intake_server_t **server_p, uv_loop_t *loop,
                      const intake_config *config);

/* Stops serving and closes (asynchronously: run the loop afterwards).
 * Safe on NULL; sets *server_p to NULL. */
void intake_server_destroy(intake_server_t **server_p);

/* The skeleton underneath (head seq, endpoints, store). Borrowed. */
jm_source_t *intake_server_source(intake_server_t *server);

/* True if the server refused to serve (CURVE self-test). */
bool intake_server_failed(const intake_server_t *server);

#endif
