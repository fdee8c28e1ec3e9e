/* sharing.c - the sharing agreements between municipalities (see
 * jm/sharing.h). */
#include "jm/sharing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/dk.h"
#include "jm/mem.h"

/* Reads a municipality code at *p (three digits, one of the 98) and
 * moves past it. */
static bool
read_muni(const char **p, uint16_t *code_out, char *why, size_t why_size)
{
    const char *s = *p;
    char code[4];
    size_t len = 0;

    while (len < 3 && s[len] >= '0' && s[len] <= '9')
        len++;
    if (len == 0) {
        snprintf(why, why_size, "a municipality code is missing%s",
                 *s == ',' ? " (an empty place in the list)" : "");
        return false;
    }
    memcpy(code, s, len);
    code[len] = '\0';
    if (len < 3 || (s[3] >= '0' && s[3] <= '9') ||
        jm_dk_municipality_find(code) == NULL) {
        snprintf(why, why_size, "%.*s is not one of the 98 municipality codes",
                 (int) strspn(s, "0123456789"), s);
        return false;
    }
    *code_out = (uint16_t) ((code[0] - '0') * 100 + (code[1] - '0') * 10 +
                            (code[2] - '0'));
    *p += 3;
    return true;
}

bool
jm_sharing_parse(const char *line, uint16_t *owner, uint16_t *munis, size_t *n,
                 char *why, size_t why_size)
{
    static const char want[] =
        "want 'ORDER_MUNI CITIZEN_MUNI[,CITIZEN_MUNI...]' (municipality "
        "codes; a comment goes on a line of its own)";
    const char *p = line;

    *n = 0;
    if (!read_muni(&p, owner, why, why_size))
        return false;
    if (*p != ' ' && *p != '\t') {
        snprintf(why, why_size, "%s", want);
        return false;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0') {
        snprintf(why, why_size, "%s", want);
        return false;
    }
    for (;;) {
        if (*n >= JM_SHARING_MUNIS_MAX) {
            snprintf(why, why_size, "more than %d municipalities",
                     JM_SHARING_MUNIS_MAX);
            return false;
        }
        if (!read_muni(&p, &munis[*n], why, why_size))
            return false;
        (*n)++;
        if (*p == '\0')
            return true;
        if (*p != ',') {
            snprintf(why, why_size, "%s", want);
            return false;
        }
        p++;
        if (*p == '\0') {
            snprintf(why, why_size,
                     "a municipality code is missing (the list ends with "
                     "',')");
            return false;
        }
    }
}

bool
jm_sharing_valid(const char *line, char *why, size_t why_size)
{
    uint16_t owner, munis[JM_SHARING_MUNIS_MAX];
    size_t n;

    return jm_sharing_parse(line, &owner, munis, &n, why, why_size);
}

void
jm_sharing_add_codes(jm_sharing *s, uint16_t owner, const uint16_t *munis,
                     size_t n)
{
    JM_ASSERT(owner < JM_SHARING_CODES);
    s->any = true;
    if (s->allow[owner] == NULL)
        s->allow[owner] = jm_xcalloc(JM_SHARING_WORDS, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        if (munis[i] < JM_SHARING_CODES)
            s->allow[owner][munis[i] >> 6] |= 1ULL << (munis[i] & 63);
    }
}

int
jm_sharing_add(jm_sharing *s, char *const *lines, size_t n, char *err,
               size_t err_size)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t owner, munis[JM_SHARING_MUNIS_MAX];
        size_t count;
        char why[256];

        if (!jm_sharing_parse(lines[i], &owner, munis, &count, why,
                              sizeof(why))) {
            snprintf(err, err_size, "agreement \"%s\": %s", lines[i], why);
            return -EINVAL;
        }
        jm_sharing_add_codes(s, owner, munis, count);
    }
    return 0;
}

/* "161" -> 161; anything but three digits -> JM_SHARING_CODES. */
static unsigned
code_of(const char *code)
{
    if (code == NULL || strlen(code) != 3 || strspn(code, "0123456789") != 3)
        return JM_SHARING_CODES;
    return (unsigned) ((code[0] - '0') * 100 + (code[1] - '0') * 10 +
                       (code[2] - '0'));
}

bool
jm_sharing_allows(const jm_sharing *s, const char *viewer, const char *home)
{
    unsigned v = code_of(viewer), h = code_of(home);

    if (v >= JM_SHARING_CODES || h >= JM_SHARING_CODES)
        return false;
    return jm_sharing_allows_code(s, v, h);
}

void
jm_sharing_release(jm_sharing *s)
{
    for (size_t i = 0; i < JM_SHARING_CODES; i++) {
        free(s->allow[i]);
        s->allow[i] = NULL;
    }
    s->any = false;
}
