/* profiles_server.h - the profiles service: citizens' competence profiles,
 * their progression, their protected personal data and its erasure.
 *
 * A profiles server is an object on a libuv loop (tests create it
 * in-process; main.c is a thin wrapper). It is a jm_source (source.h):
 * api ROUTER, group commit, the event log with Fetch, snapshots and
 * ticks. What it adds is in services/profiles/README.md: the operations,
 * who may call them, and how personal data is protected and erased. */
#ifndef PROFILES_SERVER_H
#define PROFILES_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "jm/cfg.h"
#include "jm/source.h"

/* Every setting; the table in profiles_config.c describes each one. Fill
 * with jm_cfg_defaults(&cfg, profiles_config_table) or jm_cfg_from_args,
 * release with jm_cfg_release. */
struct profiles_config {
    char *data_dir;
    char *api;         /* api ROUTER endpoint */
    char *log;         /* separate log ROUTER; "" = the api serves Fetch */
    char *tick;        /* PUB for Tick; "" = none */
    char *source_name; /* the log's source name */
    char *key_file;    /* this server's CURVE key pair; "" = plain */
    char *allow_file;  /* "PUBLIC_KEY principal" lines, for CURVE */
    char *secret_file; /* node secret for CPR hashes; "" = DIR/secret.key */
    char *plain_principal;
    jm_strlist agreements; /* the matcher's "ORDER_MUNI CITIZEN_MUNI,..." */
    bool accept_lost_keys; /* start although keys.bin lacks slots in use */
    int log_level;
    bool log_timestamps;
    int64_t max_request_size;
    int64_t map_size_mb;
    int64_t log_retain;
    int64_t idem_retain_hours;
    int64_t housekeeping_ms;
};

extern const jm_cfg_entry profiles_config_table[];
extern const jm_cfg_program profiles_program;

typedef struct profiles_server profiles_server_t;

/* Starts a server on loop with cfg (borrowed: only needed during the
 * call). Initialises libsodium, loads (or creates) the node secret, opens
 * the key file and the store, zeroes key slots no record references, and
 * binds. Returns 0, or -errno (the reason is logged): -EPERM when the
 * secret or key file is readable by group or others. Caller owns
 * *server_p. */
int profiles_server_new(profiles_server_t **server_p, uv_loop_t *loop,
                        const struct profiles_config *cfg);

/* Stops serving and closes (asynchronously: run the loop afterwards).
 * Safe on NULL; sets *server_p to NULL. */
void profiles_server_destroy(profiles_server_t **server_p);

/* Bound endpoints (real ports). Borrowed. */
const char *profiles_server_api_endpoint(profiles_server_t *server);
const char *profiles_server_tick_endpoint(profiles_server_t *server);

/* The underlying source (head seq, store), for tests. Borrowed. */
jm_source_t *profiles_server_source(profiles_server_t *server);

/* True if the server stopped itself (CURVE self-test failed): exit 1. */
bool profiles_server_failed(const profiles_server_t *server);

#endif
