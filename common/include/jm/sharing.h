/* sharing.h - the sharing agreements between municipalities.
 *
 * An agreement is a config line "ORDER_MUNI CITIZEN_MUNI[,CITIZEN_MUNI...]"
 * (municipality codes): that municipality's job orders may be matched with
 * the consenting citizens of those, and its principals may read them. The
 * matcher applies the agreements to what it matches and answers; profiles
 * to who may read a consenting citizen of another municipality. Both read
 * the same lines, so an operator writes them once per service in the same
 * form, and both parse them here. With no agreement at all, every
 * municipality may see every consenting citizen (one municipality's
 * node: the default). A citizen of one's own municipality needs no
 * agreement, and one who has not consented is never shared. */
#ifndef JM_SHARING_H
#define JM_SHARING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Municipality codes are three digits: below this. */
#define JM_SHARING_CODES 1000
/* Denmark's municipalities: an agreement names at most this many. */
#define JM_SHARING_MUNIS_MAX 98

/* Parses one agreement line: *owner the order's municipality, munis[0..*n)
 * the citizens' (munis holds JM_SHARING_MUNIS_MAX), as numbers (161).
 * False with the reason, naming the code at fault, in why. */
bool jm_sharing_parse(const char *line, uint16_t *owner, uint16_t *munis,
                      size_t *n, char *why, size_t why_size);

/* As jm_sharing_parse, only the verdict: a jm_cfg_entry's check. */
bool jm_sharing_valid(const char *line, char *why, size_t why_size);

/* Words of a municipality set: a bit per code below 1024. */
#define JM_SHARING_WORDS 16

/* The agreements of a config, as one table (the matcher's search reads
 * it in its inner loop, so it is visible). */
typedef struct jm_sharing {
    bool any; /* at least one agreement: only what they name is shared */
    /* allow[owner]: JM_SHARING_WORDS words, bit c for citizens living in
     * municipality c; NULL: none. */
    uint64_t *allow[JM_SHARING_CODES];
} jm_sharing;

/* Adds one parsed agreement (owner below JM_SHARING_CODES). */
void jm_sharing_add_codes(jm_sharing *s, uint16_t owner, const uint16_t *munis,
                          size_t n);

/* Adds the agreements lines[0..n) to s (zeroed, or added to before).
 * Returns 0, or -EINVAL with "agreement \"LINE\": why" in err (nothing of
 * that line added). */
int jm_sharing_add(jm_sharing *s, char *const *lines, size_t n, char *err,
                   size_t err_size);

/* May orders and principals of municipality `viewer` see a consenting
 * citizen living in `home`? (Codes as strings, "161"; the caller checks
 * the consent and that the two differ.) False for a code that is not
 * three digits. */
bool jm_sharing_allows(const jm_sharing *s, const char *viewer,
                       const char *home);

/* As jm_sharing_allows, with the codes as numbers. */
static inline bool
jm_sharing_allows_code(const jm_sharing *s, unsigned viewer, unsigned home)
{
    if (!s->any)
        return true;
    if (viewer >= JM_SHARING_CODES || home >= JM_SHARING_CODES ||
        s->allow[viewer] == NULL)
        return false;
    return s->allow[viewer][home >> 6] >> (home & 63) & 1;
}

void jm_sharing_release(jm_sharing *s);

#endif
