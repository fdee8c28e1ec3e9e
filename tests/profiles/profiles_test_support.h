/* profiles_test_support.h - what the profiles component and smoke tests
 * share: a profiles server in-process with CURVE and an allow list of
 * principals (or the real binary, started elsewhere), one CURVE client per
 * principal, synchronous calls that keep the packed reply bytes (for the
 * privacy scans), citizens to put, replaying the log, and a raw byte scan
 * of every file under a directory. */
#ifndef PROFILES_TEST_SUPPORT_H
#define PROFILES_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/bus.h"
#include "jm/rpc.h"
#include "jm_proc.h"
#include "jm_test.h"
#include "profiles_profile.h"
#include "profiles_server.h"

#define PT_MAX_CLIENTS 8

struct pt_client {
    const char *principal;
    char public_key[JM_KEY_Z85_LEN + 1];
    char secret_key[JM_KEY_Z85_LEN + 1];
    jm_rpc_client_t *rpc;
};

struct pt {
    uv_loop_t loop;
    char dir[256];      /* the server's data directory */
    char key_file[300]; /* the server's key pair */
    char allow_file[300];
    char server_public[JM_KEY_Z85_LEN + 1];
    profiles_server_t *server;
    jm_bus_t *bus; /* the clients' */
    struct pt_client clients[PT_MAX_CLIENTS];
    size_t n_clients;
    bool curve;
    /* The config's agreement lines at the next (re)start; NULL: none. */
    const char *const *agreements;
};

/* Starts a server in a fresh directory. With principals (NULL-terminated)
 * the server runs CURVE with an allow list giving each its own key, and a
 * client per principal connects; with NULL it runs plain and one client
 * ("local") connects. */
void pt_start(struct pt *t, const char *const *principals);

/* Stops the server and starts it again on the same directory and keys;
 * the clients reconnect to the new endpoint. */
void pt_restart(struct pt *t);

/* The two halves, for a start that is to fail: pt_server_stop closes the
 * clients and the server; pt_server_new starts a server on t's directory
 * and returns profiles_server_new's result (t->server NULL on failure).
 * pt_restart then starts again. */
void pt_server_stop(struct pt *t);
int pt_server_new(struct pt *t);

/* Closes everything, checks the loop closes, removes the directory. */
void pt_stop(struct pt *t);

/* Tests of the real binary use t's loop, bus, first client and directory
 * with no in-process server. pt_stop_binary closes those and proc (which
 * stops the service), checks the loop closes and removes the directory.
 * pt_kill_unfinished is for a cmocka teardown: after a failed assertion
 * the test jumped past its cleanup, and a service left running would hold
 * the test's output pipe open. */
void pt_stop_binary(struct pt *t, jm_proc_t **proc);
void pt_kill_unfinished(jm_proc_t *proc, bool finished);

/* Sends req as principal and waits for the reply (fails the test after
 * 20 s). Returns the decoded reply (free with jm_msg_free); if packed is
 * not NULL, *packed gets the reply packed again: every field the server
 * sent, as bytes to scan (free()). */
jm_msg_t *pt_call(struct pt *t, const char *principal,
                  Jobmatch__V1__Request *req, uint8_t **packed, size_t *size);

/* The Reply inside msg. */
const Jobmatch__V1__Reply *pt_reply(jm_msg_t *msg);

/* Expects an Error with code (and path, unless NULL); frees msg. */
void pt_expect_error(jm_msg_t *msg, int code, const char *path);

/* A PutProfile of one citizen living in 2600 Glostrup (municipality 161),
 * valid as built; tests change fields before sending. */
struct pt_put {
    Jobmatch__V1__Request req;
    Jobmatch__V1__PutProfile put;
    Jobmatch__V1__PersonalData personal;
    Jobmatch__V1__CitizenProfile profile;
    Jobmatch__V1__Location home;
    Jobmatch__V1__JobKind kinds[1];
    Jobmatch__V1__SkillLevel skill;
    Jobmatch__V1__SkillLevel *skills[1];
};

void pt_put_init(struct pt_put *p, const char *cpr, const char *name,
                 const char *email);

/* Puts and expects Accepted: returns its seq, copies the id into id. */
uint64_t pt_put_ok(struct pt *t, const char *principal, struct pt_put *p,
                   char id[PROFILES_ID_LEN + 1]);

/* The log replayed from seq 0 as principal: every event batch's packed
 * bytes are handed to on_batch (may be NULL) and every event to on_event.
 * Returns the head seq; fails the test if seqs are not 1, 2, 3, ... */
typedef void (*pt_event_fn)(const Jobmatch__V1__Event *event, void *arg);
typedef void (*pt_bytes_fn)(const uint8_t *data, size_t size, void *arg);
uint64_t pt_replay_log(struct pt *t, const char *principal,
                       pt_event_fn on_event, pt_bytes_fn on_batch, void *arg);

/* How many of the needles (NULL-terminated) occur in the raw bytes of
 * any regular file under dir (recursively); found[i] is set for each
 * needle found, if found is not NULL. */
size_t pt_scan_dir(const char *dir, const char *const *needles, bool *found);

/* True if needle occurs in data. */
bool pt_contains(const uint8_t *data, size_t size, const char *needle);

#endif
