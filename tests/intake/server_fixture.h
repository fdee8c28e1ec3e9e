/* server_fixture.h - an intake server in-process for the component tests:
 * a private loop, a temporary data directory, ephemeral endpoints, and a
 * synchronous client (intake_testlib.h) connected to it. */
#ifndef SERVER_FIXTURE_H
#define SERVER_FIXTURE_H

#include <stdint.h>
#include <uv.h>

#include "intake_server.h"
#include "intake_testlib.h"

#define DAY_MS (INT64_C(24) * 3600 * 1000)
/* 2027-03-01 12:00 UTC */
#define T0_MS (INT64_C(1803902400) * 1000)

enum { OPEN = 1, FILLED, WITHDRAWN, EXPIRED };

enum { PROPOSED = 1, PRESENTED, HIRED, REJECTED };

/* Well-formed pseudonymous profile ids: intake checks the form only (it
 * cannot know whether the citizen exists). */
#define FX_PROFILE_A "p-aaaaaaaaaaaaaaaaaaaa"
#define FX_PROFILE_B "p-bbbbbbbbbbbbbbbbbbbb"
#define FX_PROFILE_C "p-cccccccccccccccccccc"

struct fixture {
    uv_loop_t loop;
    char dir[256];
    intake_server_t *server;
    it_client *c;
    /* Extra config (key file, allow list): "key value" pairs, NULL-ended. */
    const char *const *extra;
};

/* Starts the server with the plain principal and the housekeeping period
 * (ms, as text), and connects f->c (plain). */
void fx_start(struct fixture *f, const char *principal,
              const char *housekeeping);

/* Stops the server and the client; the data stays for a restart. */
void fx_stop(struct fixture *f);

/* cmocka setup/teardown: a fresh directory, loop and server ("local"). */
int fx_setup(void **state);
int fx_teardown(void **state);

/* The head seq, read from the source in-process. */
uint64_t fx_head(struct fixture *f);

/* Submits o and fails the test unless it is accepted; the id goes to id
 * (may be NULL). Returns the seq. */
uint64_t fx_submit_ok(struct fixture *f, it_order *o, char *id, size_t size);

/* The reply is an Error with code (and, if path is not NULL, path), not
 * retryable. */
void fx_expect_error(const Jobmatch__V1__Reply *r, int code, const char *path);

#endif
