/* principal.c - the names of principals, read once for every service.
 *
 * Before this module intake, profiles and the matcher each had a parser,
 * and they differed at the edges (one accepted a bare "service" from a
 * key, one checked the code's length and the others did not). */
#include "jm/principal.h"

#include <string.h>

#include "jm/dk.h"
#include "jm/mem.h"

void
jm_principal_parse(const char *principal, jm_principal *out)
{
    static const struct {
        const char *prefix;
        jm_principal_kind kind;
    } municipal[] = {
        {"municipality:", JM_PRINCIPAL_MUNICIPALITY},
        {"consultant:", JM_PRINCIPAL_CONSULTANT},
        {"caseworker:", JM_PRINCIPAL_CASEWORKER},
    };

    JM_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    if (principal == NULL)
        return;
    if (strcmp(principal, "local") == 0) {
        out->kind = JM_PRINCIPAL_LOCAL;
    } else if (strcmp(principal, "admin") == 0) {
        out->kind = JM_PRINCIPAL_ADMIN;
    } else if (strcmp(principal, JM_PRINCIPAL_SELF_NAME) == 0) {
        out->kind = JM_PRINCIPAL_SELF;
    } else if (strncmp(principal, "service:", 8) == 0) {
        if (principal[8] != '\0')
            out->kind = JM_PRINCIPAL_SERVICE;
    } else if (strcmp(principal, "monitor") == 0 ||
               (strncmp(principal, "monitor:", 8) == 0 &&
                principal[8] != '\0')) {
        out->kind = JM_PRINCIPAL_MONITOR;
    } else {
        for (size_t i = 0; i < JM_COUNTOF(municipal); i++) {
            size_t n = strlen(municipal[i].prefix);
            const char *code = principal + n;

            if (strncmp(principal, municipal[i].prefix, n) == 0 &&
                strlen(code) == 3 && jm_dk_municipality_find(code) != NULL) {
                out->kind = municipal[i].kind;
                memcpy(out->municipality, code, 4);
                break;
            }
        }
    }
}

const char *
jm_principal_problem(const char *principal)
{
    size_t len = principal != NULL ? strlen(principal) : 0;

    if (len == 0)
        return "the principal is empty";
    if (len > JM_PRINCIPAL_MAX_LEN)
        return "the principal is longer than 255 bytes";
    /* Given to a caller, it would pass for the service's own housekeeping
     * (intake's expiry). */
    if (strcmp(principal, JM_PRINCIPAL_SELF_NAME) == 0)
        return "the principal \"service\" is reserved for the service's "
               "own requests; name the key \"service:<name>\"";
    /* It ends up in log lines and comparisons: no control characters. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) principal[i] < 0x20 || principal[i] == 0x7f)
            return "the principal holds a control character";
    return NULL;
}

bool
jm_principal_is_municipal(const jm_principal *p)
{
    JM_ASSERT(p != NULL);
    return p->kind == JM_PRINCIPAL_MUNICIPALITY ||
           p->kind == JM_PRINCIPAL_CONSULTANT ||
           p->kind == JM_PRINCIPAL_CASEWORKER;
}

bool
jm_principal_is_trusted(const jm_principal *p)
{
    JM_ASSERT(p != NULL);
    return p->kind == JM_PRINCIPAL_LOCAL || p->kind == JM_PRINCIPAL_ADMIN ||
           p->kind == JM_PRINCIPAL_SERVICE;
}

bool
jm_principal_sees_all(const char *principal)
{
    jm_principal p;

    jm_principal_parse(principal, &p);
    return jm_principal_is_trusted(&p);
}
