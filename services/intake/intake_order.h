/* intake_order.h - the rules of a job order: what a valid request looks
 * like, who may send it, and how an order changes (create, update, close,
 * candidate outcomes, expiry).
 *
 * Everything here is pure: it works on protobuf-c structs and the loaded
 * reference data, and knows nothing of sockets, loops or LMDB, so that
 * every rule is tested as a plain function (tests/intake/test_intake_order.c)
 * and intake_server.c only wires it to jm_source.
 *
 * Validation happens in two steps, as docs/protocol.md orders them:
 *   - intake_check_* look at the request alone (step 6, INVALID_FIELD with
 *     the field path) and at the caller's rights where the payload names
 *     the municipality (step 7, PERMISSION_DENIED);
 *   - intake_order_* apply a change to the stored order and may refuse it
 *     because of that order's state (step 8: CONFLICT, or a permission the
 *     stored owner decides).
 * Every function that refuses fills a jm_error and returns false (checks)
 * or a positive value (changes); a refused change has not touched the
 * order. */
#ifndef INTAKE_ORDER_H
#define INTAKE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/esco.h"
#include "jm/msg.h"
#include "jm/principal.h"
#include "jobmatch/v1/envelope.pb-c.h"

/* Limits of an order (docs/protocol.md, "Job orders"). */
#define INTAKE_TITLE_MAX       200
#define INTAKE_NAME_MAX        200 /* company_name, consultant */
#define INTAKE_DESCRIPTION_MAX 4000
#define INTAKE_NOTE_MAX        500
#define INTAKE_SKILLS_MAX      64 /* essential, and again optional */
#define INTAKE_LANGUAGES_MAX   16
#define INTAKE_LICENCES_MAX    16
#define INTAKE_POSITIONS_MAX   1000
#define INTAKE_HOURS_MAX       80
#define INTAKE_CANDIDATES_MAX  500
#define INTAKE_PAGE_DEFAULT    50
#define INTAKE_PAGE_MAX        500

/* A generated order id: "jo-" and 20 lower-case base32 characters ([2-7a-z],
 * NUL-terminated): 10 encode the creation time in milliseconds and 10 are
 * random (50 bits). Ids made later sort later, so new orders are appended
 * to the end of every id-keyed B-tree instead of dirtying a random page
 * each (docs/benchmarks.md, "Ingest"). */
#define INTAKE_ID_GENERATED_LEN 23
#define INTAKE_ID_RANDOM_BYTES  7

/* The reference data the checks use. esco NULL: the ESCO data could not be
 * loaded, and the checks that need it (ISCO of a known occupation) are
 * skipped; URI syntax is still checked. today: days since the epoch (a
 * deadline before it is in the past). */
typedef struct intake_rules {
    const jm_esco_t *esco;
    int32_t today;
} intake_rules;

/* ---- callers ----
 *
 * Who the caller is: jm_principal (jm/principal.h). What each kind may do
 * here is intake_may (services/intake/README.md, "Principals"). */

/* The operations, for intake_may. */
typedef enum intake_op {
    INTAKE_OP_SUBMIT,
    INTAKE_OP_UPDATE,
    INTAKE_OP_SET_STATUS,
    INTAKE_OP_OUTCOME,
    INTAKE_OP_READ,
    INTAKE_OP_STATS, /* counts per municipality: also for monitors */
} intake_op;

/* May caller do op on an order owned by owner (NULL: not known yet, only
 * the kind is checked)? Else fills err (PERMISSION_DENIED, at path). */
bool intake_may(const jm_principal *caller, intake_op op, const char *owner,
                const char *path, jm_error *err);

/* ---- step 6 (and 7 where the payload says): the request alone ---- */

/* A whole JobOrder as a client sends it, at path ("submit_order.order").
 * Client-editable fields are checked; service fields must be empty. id is
 * optional when !id_required. */
bool intake_check_order(const intake_rules *rules,
                        const Jobmatch__V1__JobOrder *order, const char *path,
                        bool id_required, jm_error *err);

bool intake_check_submit(const intake_rules *rules, const jm_principal *caller,
                         const Jobmatch__V1__SubmitOrder *body, jm_error *err);
bool intake_check_update(const intake_rules *rules, const jm_principal *caller,
                         const Jobmatch__V1__UpdateOrder *body, jm_error *err);
/* EXPIRED passes only for intake's own requests (JM_PRINCIPAL_SELF). */
bool intake_check_set_status(const jm_principal *caller,
                             const Jobmatch__V1__SetOrderStatus *body,
                             jm_error *err);
bool intake_check_outcome(const jm_principal *caller,
                          const Jobmatch__V1__RecordOutcome *body,
                          jm_error *err);
bool intake_check_get(const jm_principal *caller,
                      const Jobmatch__V1__GetOrder *body, jm_error *err);
/* The page token's syntax is the repository's (intake_repo_list). */
bool intake_check_list(const jm_principal *caller,
                       const Jobmatch__V1__ListOrders *body, jm_error *err);
bool intake_check_stats(const jm_principal *caller,
                        const Jobmatch__V1__GetOrderStats *body, jm_error *err);

/* ---- changes (step 8): pure functions of the stored order ---- */

/* Makes a generated id from the time and 7 random bytes into out. */
void intake_order_new_id(char out[INTAKE_ID_GENERATED_LEN + 1], int64_t now_ms,
                         const uint8_t random[INTAKE_ID_RANDOM_BYTES]);

/* Fills what the service derives: workplace coordinates from the postcode
 * (or the municipality's centre) when both are 0, isco_code from a known
 * occupation when empty. Strings set here are static or borrowed from
 * rules->esco. */
void intake_order_fill(const intake_rules *rules,
                       Jobmatch__V1__JobOrder *order);

/* A new order from a checked submit: *out becomes a shallow copy of in
 * (pointers into in stay shared) with id, version 1, status OPEN and the
 * times set, and derived fields filled. The workplace is copied into
 * *workplace (the caller's storage), so that in is never written. */
void intake_order_create(const intake_rules *rules, Jobmatch__V1__JobOrder *out,
                         Jobmatch__V1__Location *workplace,
                         const Jobmatch__V1__JobOrder *in, const char *id,
                         int64_t now_ms);

/* An update of stored by body (checked): CONFLICT if stored is closed,
 * its version is not body->expected_version, or the new positions are
 * fewer than its hired candidates; else *out is body's order
 * with stored's service fields, version + 1 (workplace copied into
 * *workplace, as for create). Returns 0 or 1 (err). */
int intake_order_update(const intake_rules *rules, Jobmatch__V1__JobOrder *out,
                        Jobmatch__V1__Location *workplace,
                        const Jobmatch__V1__JobOrder *stored,
                        const Jobmatch__V1__UpdateOrder *body, int64_t now_ms,
                        jm_error *err);

/* Closes order in place (FILLED with hires, WITHDRAWN, or EXPIRED when
 * the deadline is before today). CONFLICT if it is closed already or the
 * expected version (non-zero) differs; INVALID_FIELD if hires exceed the
 * positions. The path prefix names the body ("set_order_status"). Returns
 * 0 or 1 (err; order untouched). */
int intake_order_set_status(const intake_rules *rules,
                            Jobmatch__V1__JobOrder *order,
                            const Jobmatch__V1__SetOrderStatus *body,
                            int64_t now_ms, jm_error *err);

/* Adds or moves a candidate. CONFLICT on a withdrawn or expired order,
 * when the list is full, or for a hire beyond the order's positions (hired
 * candidates count as a close's hires do: at most the positions). New
 * arrays and entries come from alloc (request
 * memory: they are never freed one by one). Returns 0 or 1 (err). */
int intake_order_record_outcome(Jobmatch__V1__JobOrder *order,
                                const Jobmatch__V1__RecordOutcome *body,
                                int64_t now_ms, ProtobufCAllocator *alloc,
                                jm_error *err);

/* Days since the epoch of the order's deadline, or INT32_MAX if it has
 * none (stored orders always have one). */
int32_t intake_order_deadline_days(const Jobmatch__V1__JobOrder *order);

/* OPEN, FILLED: candidates may still be recorded. */
bool intake_order_is_open(const Jobmatch__V1__JobOrder *order);

/* ---- statistics ---- */

/* Accumulates orders of one municipality. */
typedef struct intake_stats_acc {
    char municipality[4];
    uint32_t open, filled, withdrawn, expired;
    uint32_t positions_open, hires;
    double *fill_days; /* days to fill of each filled order */
    size_t fill_count, fill_cap;
} intake_stats_acc;

void intake_stats_add(intake_stats_acc *acc,
                      const Jobmatch__V1__JobOrder *order);

/* Writes the totals, fill rate and median into out and frees the
 * accumulator's memory. */
void intake_stats_finish(intake_stats_acc *acc,
                         Jobmatch__V1__MunicipalityOrderStats *out);

#endif
