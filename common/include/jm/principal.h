/* principal.h - who a caller is, read from its principal.
 *
 * A caller's identity is only the principal its CURVE key is listed with
 * (DESIGN.md section 4), or the plain principal on development sockets.
 * Every service reads the same names the same way here; what each kind may
 * do is the service's own rule (intake_may, profiles_may_*, the matcher's
 * scope). */
#ifndef JM_PRINCIPAL_H
#define JM_PRINCIPAL_H

#include <stdbool.h>

/* The principal of a service's own requests (intake's expiry). No key can
 * be listed with it: jm_bus_allow refuses it. */
#define JM_PRINCIPAL_SELF_NAME "service"

/* The longest principal, in bytes: idempotency records keep its length in
 * one byte, and it ends up in log lines. */
#define JM_PRINCIPAL_MAX_LEN 255

typedef enum jm_principal_kind {
    JM_PRINCIPAL_UNKNOWN = 0,  /* anything else: refused everything */
    JM_PRINCIPAL_LOCAL,        /* "local": plain development sockets */
    JM_PRINCIPAL_ADMIN,        /* "admin" */
    JM_PRINCIPAL_SELF,         /* "service": the service's own requests */
    JM_PRINCIPAL_SERVICE,      /* "service:<name>": another jobmatch service */
    JM_PRINCIPAL_MUNICIPALITY, /* "municipality:<code>": its systems */
    JM_PRINCIPAL_CONSULTANT,   /* "consultant:<code>": company consultant */
    JM_PRINCIPAL_CASEWORKER,   /* "caseworker:<code>" */
    /* "monitor" or "monitor:<name>": a monitoring system, which may ask
     * for counts (Ping, order and matcher statistics) and nothing that
     * holds a record (`jobmatch metrics`; docs/operations.md). */
    JM_PRINCIPAL_MONITOR,
} jm_principal_kind;

typedef struct jm_principal {
    jm_principal_kind kind;
    char municipality[4]; /* the three municipal kinds: "161"; else "" */
} jm_principal;

/* Reads principal (NULL reads as unknown). A municipal kind whose code is
 * not one of the 98 municipalities is UNKNOWN: a typo in an allow list
 * locks the key out instead of granting a municipality nobody has. */
void jm_principal_parse(const char *principal, jm_principal *out);

/* Why principal cannot be given to callers (a key's in an allow list, the
 * plain principal of a service's sockets): empty, longer than
 * JM_PRINCIPAL_MAX_LEN, holding a control character, or the reserved
 * JM_PRINCIPAL_SELF_NAME. NULL when it can. A name the services do not
 * know (jm_principal_parse: UNKNOWN) is not a problem here: it is refused
 * everything, which is how an operator locks a key out. */
const char *jm_principal_problem(const char *principal);

/* The kinds whose rights are limited to one municipality. */
bool jm_principal_is_municipal(const jm_principal *p);

/* local, admin and service:<name>: see jm_principal_sees_all. */
bool jm_principal_is_trusted(const jm_principal *p);

/* Whether principal is trusted with every record of every municipality:
 * "admin", "service:<name>" (another jobmatch service) and "local" (the
 * plain principal of development sockets). The event logs, their ticks and
 * the matcher's notifications carry records of every municipality, so only
 * these may read them (DESIGN.md section 4); the municipal principals get
 * their own part through the services' queries. */
bool jm_principal_sees_all(const char *principal);

#endif
