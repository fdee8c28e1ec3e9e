/* err.c - text for the negative-errno codes of jm_common. */
#include "jm/err.h"

#include <string.h>

const char *
jm_strerror(int rc)
{
    if (rc == 0)
        return "success";
    /* strerror() is enough: every code we return is a negated errno. It is
     * not thread-safe in theory, but each process runs one thread. */
    return strerror(rc < 0 ? -rc : rc);
}
