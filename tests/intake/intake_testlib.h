/* intake_testlib.h - what the intake tests share: a valid job order to
 * start from, and a synchronous client (a jm_rpc client on its own bus,
 * driven by running the test's loop until the answer is there, with a
 * deadline, never sleeping). */
#ifndef INTAKE_TESTLIB_H
#define INTAKE_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "jm/rpc.h"
#include "jobmatch/v1/envelope.pb-c.h"

#define IT_OCC_WAREHOUSE                                             \
    "http://data.europa.eu/esco/occupation/bea705fe-06ac-4147-b8e0-" \
    "6e8ac1208d8f"
#define IT_OCC_FORKLIFT                                              \
    "http://data.europa.eu/esco/occupation/eeac6251-1974-42f5-91ed-" \
    "513c6c883755"

/* A valid order (the shape of docs/examples/job-order.json) with storage
 * for its lists. */
typedef struct it_order {
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__Location workplace;
    Jobmatch__V1__SkillRequirement skills[3];
    Jobmatch__V1__SkillRequirement *essential[2];
    Jobmatch__V1__SkillRequirement *optional[1];
    Jobmatch__V1__LanguageRequirement language;
    Jobmatch__V1__LanguageRequirement *languages[1];
    Jobmatch__V1__Licence licence;
    char id[80]; /* ids are at most 64; room for tests of longer ones */
    char owner[4];
} it_order;

/* owner: a municipality code ("161"); the workplace is in Glostrup
 * whatever the owner. occupation NULL: warehouse worker. The deadline is
 * 2030-06-30 (tests freezing the clock later change it). */
void it_order_init(it_order *o, const char *owner, const char *occupation);

typedef struct it_client it_client;

/* A client of endpoint on loop (its own bus). timeout_ms per try. */
it_client *it_client_new(uv_loop_t *loop, const char *endpoint,
                         unsigned timeout_ms);

/* The same with CURVE: the server's public key and this client's pair. */
it_client *it_client_new_curve(uv_loop_t *loop, const char *endpoint,
                               unsigned timeout_ms, const char *server_key,
                               const char *public_key, const char *secret_key);
void it_client_destroy(it_client **client_p);

/* Sends req (a random request id if it has none) and runs the loop until
 * the reply arrives. Returns the reply, owned by the client until the next
 * call; fails the test if no reply came. */
const Jobmatch__V1__Reply *it_call(it_client *c, Jobmatch__V1__Request *req);

/* As it_call, but NULL if no reply came in time (a refused CURVE key). */
const Jobmatch__V1__Reply *it_call_try(it_client *c,
                                       Jobmatch__V1__Request *req);

/* Shorthands. rid NULL: a fresh request id. */
const Jobmatch__V1__Reply *it_submit(it_client *c, Jobmatch__V1__JobOrder *o,
                                     const uint8_t *rid);
const Jobmatch__V1__Reply *it_get(it_client *c, const char *id);
const Jobmatch__V1__Reply *it_set_status(it_client *c, const char *id,
                                         int status, uint32_t hires,
                                         uint64_t expected_version);
const Jobmatch__V1__Reply *it_outcome(it_client *c, const char *id,
                                      const char *profile, int status);

/* Head seq from Ping. */
uint64_t it_head(it_client *c);

/* The error code of reply, or 0 if it is not an Error. */
int it_error_code(const Jobmatch__V1__Reply *reply);

/* Fetches every event after after_seq up to the head, calling fn for each
 * (borrowed for the call). Returns the head seq the source reported. */
typedef void (*it_event_fn)(const Jobmatch__V1__Event *event, void *arg);
uint64_t it_fetch_all(it_client *c, uint64_t after_seq, it_event_fn fn,
                      void *arg);

/* Sum of open, filled, withdrawn and expired over all municipalities. */
uint32_t it_order_count(it_client *c);

/* Pages through ListOrders for municipality (and status, 0 = any), 500 to
 * a page, checking that every order listed matches; the number listed. */
size_t it_list_count(it_client *c, const char *municipality, int status);

/* The open orders of municipality by GetOrderStats for it alone. */
uint32_t it_open_in(it_client *c, const char *municipality);

#endif
