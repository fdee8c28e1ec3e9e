/* matcher_record.h - compact records: what the matcher keeps of a citizen
 * profile and of an open job order, on disk and in memory.
 *
 * The matcher's LMDB view stores these instead of the protobuf messages,
 * for two reasons: a restart must load 200,000 profiles in well under a
 * second (decoding protobuf-c messages one malloc per field would not),
 * and the in-memory index must stay near 300 bytes per citizen. A profile
 * record is loaded by one memcpy into one heap block, and the index reads
 * it in place.
 *
 * Everything the filters and the score need is decided once, when the
 * event is applied: the home and workplace coordinates (from the
 * postcode's centre when the source gave none), the job kinds a citizen
 * may take (their own list intersected with what their target group
 * allows), licences as bit sets, the progression summary, the ISCO group
 * of every occupation. Skills and occupations are 16-bit term ids
 * (matcher_dict.h).
 *
 * Layout: a fixed header, then arrays, all in host byte order (the view is
 * derived data of this machine: delete the data directory and the matcher
 * rebuilds it from its sources). Field widths bound what is kept: at most
 * 255 skills, occupations and languages per profile, 64 + 64 skills per
 * order; the rest is dropped when the record is made. */
#ifndef MATCHER_RECORD_H
#define MATCHER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/esco.h"
#include "jobmatch/v1/intake.pb-c.h"
#include "jobmatch/v1/profiles.pb-c.h"

#define MATCHER_REC_PROFILE 0x50 /* 'P', format 1 */
#define MATCHER_REC_ORDER   0x4f /* 'O', format 1 */

/* available_from / start not given. */
#define MATCHER_DATE_NONE INT32_MIN
/* progression when the citizen has no measurement: scored as neutral. */
#define MATCHER_PROGRESS_NONE 255
#define MATCHER_PROGRESS_MAX  200 /* progression 1.0 */
/* ISCO-08 codes have at most 4 digits: every code is below this. */
#define MATCHER_ISCO_MAX 10000

enum {
    MATCHER_PF_CONSENT = 1 << 0,  /* may be matched by other municipalities */
    MATCHER_PF_LOCATION = 1 << 1, /* lat/lon are known */
};

struct matcher_pskill {
    uint16_t term;
    uint8_t level; /* 1-5 */
    uint8_t year;  /* last used, minus 1900; 0 = not known */
};

struct matcher_pocc {
    uint16_t term;
    uint16_t isco; /* ISCO-08 unit group as a number; 0 = not known */
    uint16_t held; /* 1 held, 0 wished */
};

struct matcher_lang {
    char code[2]; /* ISO 639-1, lower case */
    uint8_t level;
};

/* Is l the language of code (two lower-case letters)? */
static inline bool
matcher_lang_is(const struct matcher_lang *l, const char *code)
{
    return l->code[0] == code[0] && l->code[1] == code[1];
}

/* A citizen. Followed in memory by skills[n_skills] (sorted by term),
 * occs[n_occs], langs[n_langs], id[id_len]. */
struct matcher_profile_rec {
    uint8_t format; /* MATCHER_REC_PROFILE */
    uint8_t source; /* index of the source it came from */
    uint8_t kinds;  /* bit (1 << JobKind) for each kind allowed */
    uint8_t hours;  /* per week available */
    uint16_t range_km;
    uint16_t licences; /* bit (1 << Licence) */
    uint16_t home_muni;
    uint8_t flags;       /* MATCHER_PF_* */
    uint8_t progression; /* 0..200, or MATCHER_PROGRESS_NONE */
    int32_t available_from;
    float lat, lon;
    uint8_t n_skills, n_occs, n_langs, id_len;
};

/* An occupation as the index keeps it (4 bytes, not the record's 6): the
 * ISCO group in 15 bits (codes are below 10,000; 0 = not known). */
struct matcher_cocc {
    uint16_t term;
    uint16_t isco : 15;
    uint16_t held : 1;
};

/* What the index keeps of a citizen beside their hot record
 * (matcher_index.h): the arrays and id of the profile record behind a
 * 6-byte header. The record's other fields (place, range, hours, kinds,
 * licences, municipality, flags, progression, availability) are in the
 * hot record and are not kept twice; matcher_index_profile_record puts
 * the two together again. Followed by skills[n_skills] (sorted by term),
 * occs[n_occs] (as matcher_cocc), langs[n_langs], id[id_len]; 2-byte
 * aligned. */
struct matcher_cold {
    uint8_t source;
    uint8_t n_skills, n_occs, n_langs, id_len;
    uint8_t pad;
};

/* One skill an order asks for. */
struct matcher_oskill {
    uint16_t term;
    uint8_t min_level; /* 0 = any */
    uint8_t essential;
};

enum {
    MATCHER_OF_LOCATION = 1 << 0,
};

/* An open job order. Followed by skills[n_ess + n_opt] (essential first,
 * each group in the order's own order), langs[n_langs], id[id_len],
 * title[title_len]. */
struct matcher_order_rec {
    uint8_t format; /* MATCHER_REC_ORDER */
    uint8_t source;
    uint8_t kind;
    uint8_t hours;
    uint16_t positions;
    uint16_t owner_muni;
    uint16_t licences;
    uint16_t occupation; /* term, or MATCHER_TERM_NONE */
    uint16_t isco;       /* 0 = not known */
    uint8_t flags;       /* MATCHER_OF_* */
    uint8_t n_langs;
    int32_t start; /* MATCHER_DATE_NONE: as soon as possible */
    float lat, lon;
    uint8_t n_ess, n_opt, id_len, title_len;
};

#define MATCHER_PROFILE_REC_MAX                                           \
    (sizeof(struct matcher_profile_rec) +                                 \
     255 * (sizeof(struct matcher_pskill) + sizeof(struct matcher_pocc) + \
            sizeof(struct matcher_lang)) +                                \
     255)
#define MATCHER_ORDER_REC_MAX                                                 \
    (sizeof(struct matcher_order_rec) + 128 * sizeof(struct matcher_oskill) + \
     255 * sizeof(struct matcher_lang) + 255 + 255)

/* Term interning while a record is made: the id of uri (assigned if new),
 * 0; -ENOSPC when the dictionary is full (the term is dropped); other
 * -errno fail the record. The encoder reads *id only after a 0. */
typedef int (*matcher_intern_fn)(void *arg, const char *uri, uint16_t *id);

typedef struct matcher_encoder {
    const jm_esco_t *esco; /* occupation -> ISCO; may be NULL */
    matcher_intern_fn intern;
    void *arg;
} matcher_encoder;

/* Makes the record of profile into buf (MATCHER_PROFILE_REC_MAX bytes).
 * Returns its size (> 0), -EINVAL if the profile has no usable id, or the
 * intern function's error. */
int matcher_record_profile(const matcher_encoder *enc,
                           const Jobmatch__V1__CitizenProfile *profile,
                           uint8_t source, uint8_t *buf);

/* The same for an order (MATCHER_ORDER_REC_MAX bytes). */
int matcher_record_order(const matcher_encoder *enc,
                         const Jobmatch__V1__JobOrder *order, uint8_t source,
                         uint8_t *buf);

/* Checks that data is a whole, consistent record of the kind, as the
 * encoder makes them: the format byte and sizes, and every field the index
 * and the score rely on within its range (skills sorted and each once,
 * levels, kind, progression, ISCO codes, coordinates finite, languages,
 * UTF-8 ids and titles). For records read back from disk; data need not
 * be aligned. */
bool matcher_record_profile_valid(const void *data, size_t size);
bool matcher_record_order_valid(const void *data, size_t size);

/* The arrays of a record in memory (aligned as malloc aligns). */
static inline const struct matcher_pskill *
matcher_profile_skills(const struct matcher_profile_rec *p)
{
    return (const struct matcher_pskill *) (const void *) (p + 1);
}

static inline const struct matcher_pocc *
matcher_profile_occs(const struct matcher_profile_rec *p)
{
    return (
        const struct matcher_pocc *) (const void *) (matcher_profile_skills(p) +
                                                     p->n_skills);
}

static inline const struct matcher_lang *
matcher_profile_langs(const struct matcher_profile_rec *p)
{
    return (
        const struct matcher_lang *) (const void *) (matcher_profile_occs(p) +
                                                     p->n_occs);
}

static inline const char *
matcher_profile_id(const struct matcher_profile_rec *p)
{
    return (const char *) (matcher_profile_langs(p) + p->n_langs);
}

static inline size_t
matcher_profile_size(const struct matcher_profile_rec *p)
{
    return (size_t) (matcher_profile_id(p) - (const char *) p) + p->id_len;
}

static inline const struct matcher_oskill *
matcher_order_skills(const struct matcher_order_rec *o)
{
    return (const struct matcher_oskill *) (const void *) (o + 1);
}

static inline const struct matcher_lang *
matcher_order_langs(const struct matcher_order_rec *o)
{
    return (
        const struct matcher_lang *) (const void *) (matcher_order_skills(o) +
                                                     o->n_ess + o->n_opt);
}

static inline const char *
matcher_order_id(const struct matcher_order_rec *o)
{
    return (const char *) (matcher_order_langs(o) + o->n_langs);
}

static inline const char *
matcher_order_title(const struct matcher_order_rec *o)
{
    return matcher_order_id(o) + o->id_len;
}

static inline size_t
matcher_order_size(const struct matcher_order_rec *o)
{
    return (size_t) (matcher_order_title(o) - (const char *) o) + o->title_len;
}

static inline const struct matcher_pskill *
matcher_cold_skills(const struct matcher_cold *c)
{
    return (const struct matcher_pskill *) (const void *) (c + 1);
}

static inline const struct matcher_cocc *
matcher_cold_occs(const struct matcher_cold *c)
{
    return (
        const struct matcher_cocc *) (const void *) (matcher_cold_skills(c) +
                                                     c->n_skills);
}

static inline const struct matcher_lang *
matcher_cold_langs(const struct matcher_cold *c)
{
    return (const struct matcher_lang *) (const void *) (matcher_cold_occs(c) +
                                                         c->n_occs);
}

static inline const char *
matcher_cold_id(const struct matcher_cold *c)
{
    return (const char *) (matcher_cold_langs(c) + c->n_langs);
}

static inline size_t
matcher_cold_size(const struct matcher_cold *c)
{
    return (size_t) (matcher_cold_id(c) - (const char *) c) + c->id_len;
}

/* "101" -> 101; 0 for anything that is not 3 digits. */
uint16_t matcher_muni_code(const char *code);

/* 101 -> "101" into buf (4 bytes). */
void matcher_muni_format(uint16_t code, char buf[4]);

#endif
