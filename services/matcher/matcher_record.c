/* matcher_record.c - making and checking compact records (see
 * matcher_record.h).
 *
 * The decisions taken here, once per event, are part of the match model
 * (docs/matching.md): where a citizen lives and a workplace is when the
 * source gave no coordinates (the postcode's centre, else the
 * municipality's), which job kinds a citizen may take, what "progression"
 * means as one number. */
#include "matcher_record.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/log.h"
#include "jm/msg.h"
#include "matcher_dict.h"

#define MAX_ORDER_SKILLS 64 /* per group; intake allows no more */

/* The value of code when it is exactly n ASCII digits ("101", "9333");
 * 0 for anything else (atoi would take "-123" or "12ab"). */
static uint16_t
digits_value(const char *code, size_t n)
{
    unsigned v = 0;

    if (code == NULL || strlen(code) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (code[i] < '0' || code[i] > '9')
            return 0;
        v = v * 10 + (unsigned) (code[i] - '0');
    }
    return (uint16_t) v;
}

uint16_t
matcher_muni_code(const char *code)
{
    return digits_value(code, 3);
}

void
matcher_muni_format(uint16_t code, char buf[4])
{
    buf[0] = (char) ('0' + code / 100 % 10);
    buf[1] = (char) ('0' + code / 10 % 10);
    buf[2] = (char) ('0' + code % 10);
    buf[3] = '\0';
}

/* Coordinates the distance code can use: finite, on the globe. */
static bool
place_ok(float lat, float lon)
{
    return isfinite(lat) && isfinite(lon) && fabsf(lat) <= 90.0f &&
           fabsf(lon) <= 180.0f;
}

/* The place of loc: its coordinates when given (and usable: a source is
 * another program), else its postcode's centre, else its municipality's;
 * false if none is known. */
static bool
resolve_location(const Jobmatch__V1__Location *loc, float *lat, float *lon)
{
    const jm_dk_postcode *pc;
    const jm_dk_municipality *m;

    if (loc == NULL)
        return false;
    if ((loc->latitude != 0.0 || loc->longitude != 0.0) &&
        place_ok((float) loc->latitude, (float) loc->longitude)) {
        *lat = (float) loc->latitude;
        *lon = (float) loc->longitude;
        return true;
    }
    pc = jm_dk_postcode_find(loc->postcode);
    if (pc != NULL && pc->has_coordinates) {
        *lat = (float) pc->latitude;
        *lon = (float) pc->longitude;
        return true;
    }
    m = jm_dk_municipality_find(loc->municipality_code);
    if (m != NULL && (m->latitude != 0.0 || m->longitude != 0.0)) {
        *lat = (float) m->latitude;
        *lon = (float) m->longitude;
        return true;
    }
    return false;
}

static uint16_t
licence_bits(const Jobmatch__V1__Licence *licences, size_t n)
{
    uint16_t bits = 0;

    for (size_t i = 0; i < n; i++) {
        if (licences[i] > 0 && licences[i] < 16)
            bits |= (uint16_t) (1u << licences[i]);
    }
    return bits;
}

static uint8_t
lang_level(int level)
{
    return (uint8_t) (level < 0 ? 0 : level > 255 ? 255 : level);
}

/* A language code we can compare: two lower-case letters. */
static bool
lang_code(const char *code, char out[2])
{
    if (code == NULL || strlen(code) != 2)
        return false;
    for (int i = 0; i < 2; i++) {
        char c = code[i];

        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (c < 'a' || c > 'z')
            return false;
        out[i] = c;
    }
    return true;
}

static uint16_t
isco_of(const matcher_encoder *enc, const char *occupation_uri)
{
    int index;

    if (enc->esco == NULL || occupation_uri == NULL)
        return 0;
    index = jm_esco_occupation_find(enc->esco, occupation_uri);
    if (index < 0)
        return 0;
    return digits_value(jm_esco_occupation_isco(enc->esco, (size_t) index), 4);
}

static int
pskill_cmp(const void *a, const void *b)
{
    const struct matcher_pskill *x = a, *y = b;

    return (x->term > y->term) - (x->term < y->term);
}

/* The kinds a citizen may take: their own list, limited to what their
 * target group allows; an empty list means "whatever the group allows".
 * A target group this build does not know allows nothing. */
static uint8_t
profile_kinds(const Jobmatch__V1__CitizenProfile *p)
{
    const jm_dk_target_group *g = jm_dk_target_group_find(
        p->target_group_list[0] ? p->target_group_list : NULL, p->target_group);
    uint32_t own = 0;

    if (g == NULL) {
        jm_log(JM_LOG_DEBUG, "matcher",
               "profile %s: unknown target group %s/%s: no job kind allowed",
               p->id, p->target_group_list, p->target_group);
        return 0;
    }
    for (size_t i = 0; i < p->n_job_kinds; i++) {
        if (p->job_kinds[i] > 0 && p->job_kinds[i] < 8)
            own |= 1u << p->job_kinds[i];
    }
    if (p->n_job_kinds == 0)
        own = 0xfe;
    return (uint8_t) (own & g->job_kinds & 0xfe);
}

/* The mean of the latest measurement of every dimension, 1..10 mapped to
 * 0..MATCHER_PROGRESS_MAX. */
static uint8_t
profile_progression(const Jobmatch__V1__CitizenProfile *p)
{
    unsigned sum = 0, n = 0;

    for (size_t i = 0; i < p->n_progress; i++) {
        unsigned s = p->progress[i]->score;

        if (s < 1 || s > 10)
            continue;
        sum += s - 1;
        n++;
    }
    if (n == 0)
        return MATCHER_PROGRESS_NONE;
    /* Rounded integer arithmetic: the same on every machine. */
    return (uint8_t) ((sum * MATCHER_PROGRESS_MAX + n * 9 / 2) / (n * 9));
}

static bool
valid_id(const char *id)
{
    size_t len = id ? strlen(id) : 0;

    return len > 0 && len <= 64;
}

int
matcher_record_profile(const matcher_encoder *enc,
                       const Jobmatch__V1__CitizenProfile *p, uint8_t source,
                       uint8_t *buf)
{
    struct matcher_profile_rec *r = (struct matcher_profile_rec *) buf;
    struct matcher_pskill *skills = (struct matcher_pskill *) (r + 1);
    struct matcher_pocc *occs;
    struct matcher_lang *langs;
    size_t n = 0, m = 0, l = 0;
    int32_t days;
    int rc;

    if (!valid_id(p->id))
        return -EINVAL;
    memset(r, 0, sizeof(*r));
    r->format = MATCHER_REC_PROFILE;
    r->source = source;
    r->kinds = profile_kinds(p);
    r->hours = (uint8_t) (p->hours_per_week > 255 ? 255 : p->hours_per_week);
    r->range_km =
        (uint16_t) (p->max_travel_km > 65535 ? 65535 : p->max_travel_km);
    r->licences = licence_bits(p->licences, p->n_licences);
    r->home_muni = matcher_muni_code(p->home ? p->home->municipality_code : "");
    if (p->consent != NULL && p->consent->neighbour_matching)
        r->flags |= MATCHER_PF_CONSENT;
    if (resolve_location(p->home, &r->lat, &r->lon))
        r->flags |= MATCHER_PF_LOCATION;
    r->progression = profile_progression(p);
    r->available_from = MATCHER_DATE_NONE;
    if (p->available_from[0] != '\0' &&
        jm_date_parse(p->available_from, &days) == 0)
        r->available_from = days;

    for (size_t i = 0; i < p->n_skills && n < 255; i++) {
        const Jobmatch__V1__SkillLevel *s = p->skills[i];
        uint16_t term;
        unsigned year = s->last_used_year;

        if ((rc = enc->intern(enc->arg, s->skill_uri, &term)) == -ENOSPC)
            continue;
        if (rc != 0)
            return rc;
        skills[n].term = term;
        skills[n].level = (uint8_t) (s->level < 1   ? 1
                                     : s->level > 5 ? 5
                                                    : s->level);
        skills[n].year =
            (uint8_t) (year > 1900 && year < 2155 ? year - 1900 : 0);
        n++;
    }
    /* Sorted by term for the merge with an order's skills; a skill listed
     * twice keeps its highest level and latest year. */
    qsort(skills, n, sizeof(*skills), pskill_cmp);
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && skills[m - 1].term == skills[i].term) {
            if (skills[i].level > skills[m - 1].level)
                skills[m - 1].level = skills[i].level;
            if (skills[i].year > skills[m - 1].year)
                skills[m - 1].year = skills[i].year;
        } else {
            skills[m++] = skills[i];
        }
    }
    r->n_skills = (uint8_t) m;

    occs = (struct matcher_pocc *) (skills + m);
    m = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        char **uris = pass ? p->held_occupations : p->wished_occupations;
        size_t count = pass ? p->n_held_occupations : p->n_wished_occupations;

        for (size_t i = 0; i < count && m < 255; i++) {
            uint16_t term;
            size_t j;

            if ((rc = enc->intern(enc->arg, uris[i], &term)) == -ENOSPC)
                continue;
            if (rc != 0)
                return rc;
            for (j = 0; j < m && occs[j].term != term; j++)
                ;
            if (j == m) {
                occs[m].term = term;
                occs[m].isco = isco_of(enc, uris[i]);
                occs[m].held = 0;
                m++;
            }
            if (pass == 1)
                occs[j].held = 1;
        }
    }
    r->n_occs = (uint8_t) m;

    langs = (struct matcher_lang *) (occs + m);
    for (size_t i = 0; i < p->n_languages && l < 255; i++) {
        if (!lang_code(p->languages[i]->language, langs[l].code))
            continue;
        langs[l].level = lang_level(p->languages[i]->level);
        l++;
    }
    r->n_langs = (uint8_t) l;
    r->id_len = (uint8_t) strlen(p->id);
    memcpy(langs + l, p->id, r->id_len);
    return (int) matcher_profile_size(r);
}

/* Adds the order's skills of one group, skipping duplicates of skills
 * already listed (a skill both essential and optional counts as
 * essential). */
static int
add_order_skills(const matcher_encoder *enc, struct matcher_oskill *skills,
                 size_t *n, Jobmatch__V1__SkillRequirement **reqs, size_t count,
                 uint8_t essential)
{
    size_t added = 0;
    int rc;

    for (size_t i = 0; i < count && added < MAX_ORDER_SKILLS; i++) {
        uint16_t term;
        size_t j;

        if ((rc = enc->intern(enc->arg, reqs[i]->skill_uri, &term)) == -ENOSPC)
            continue;
        if (rc != 0)
            return rc;
        for (j = 0; j < *n && skills[j].term != term; j++)
            ;
        if (j < *n)
            continue;
        skills[*n].term = term;
        skills[*n].min_level =
            (uint8_t) (reqs[i]->min_level > 5 ? 5 : reqs[i]->min_level);
        skills[*n].essential = essential;
        (*n)++;
        added++;
    }
    return 0;
}

/* Longest prefix of s of at most max bytes that ends on a UTF-8
 * character boundary. */
static size_t
utf8_prefix(const char *s, size_t max)
{
    size_t len = strlen(s);

    if (len <= max)
        return len;
    len = max;
    while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80)
        len--;
    return len;
}

int
matcher_record_order(const matcher_encoder *enc,
                     const Jobmatch__V1__JobOrder *o, uint8_t source,
                     uint8_t *buf)
{
    struct matcher_order_rec *r = (struct matcher_order_rec *) buf;
    struct matcher_oskill *skills = (struct matcher_oskill *) (r + 1);
    struct matcher_lang *langs;
    size_t n = 0, l = 0, ess;
    char *id, *title;
    int32_t days;
    int rc;

    if (!valid_id(o->id))
        return -EINVAL;
    memset(r, 0, sizeof(*r));
    r->format = MATCHER_REC_ORDER;
    r->source = source;
    r->kind = (uint8_t) (o->kind > 0 && o->kind < 8 ? o->kind : 0);
    r->hours = (uint8_t) (o->hours_per_week > 255 ? 255 : o->hours_per_week);
    r->positions = (uint16_t) (o->positions > 65535 ? 65535 : o->positions);
    r->owner_muni = matcher_muni_code(o->owner_municipality);
    r->licences = licence_bits(o->licences, o->n_licences);
    r->occupation = MATCHER_TERM_NONE;
    if (o->occupation_uri[0] != '\0') {
        uint16_t term;

        /* Only a term given is used: an intern function that fails may
         * have written anything (a full dictionary drops the term). */
        rc = enc->intern(enc->arg, o->occupation_uri, &term);
        if (rc == 0)
            r->occupation = term;
        else if (rc != -ENOSPC)
            return rc;
    }
    r->isco = digits_value(o->isco_code, 4); /* an ISCO-08 unit group */
    if (r->isco == 0)
        r->isco = isco_of(enc, o->occupation_uri);
    if (resolve_location(o->workplace, &r->lat, &r->lon))
        r->flags |= MATCHER_OF_LOCATION;
    r->start = MATCHER_DATE_NONE;
    if (o->start_date[0] != '\0' && jm_date_parse(o->start_date, &days) == 0)
        r->start = days;

    if ((rc = add_order_skills(enc, skills, &n, o->essential_skills,
                               o->n_essential_skills, 1)) != 0)
        return rc;
    ess = n;
    if ((rc = add_order_skills(enc, skills, &n, o->optional_skills,
                               o->n_optional_skills, 0)) != 0)
        return rc;
    r->n_ess = (uint8_t) ess;
    r->n_opt = (uint8_t) (n - ess);

    langs = (struct matcher_lang *) (skills + n);
    for (size_t i = 0; i < o->n_languages && l < 255; i++) {
        if (!lang_code(o->languages[i]->language, langs[l].code))
            continue;
        langs[l].level = lang_level(o->languages[i]->min_level);
        l++;
    }
    r->n_langs = (uint8_t) l;
    id = (char *) (langs + l);
    r->id_len = (uint8_t) strlen(o->id);
    memcpy(id, o->id, r->id_len);
    title = id + r->id_len;
    r->title_len = (uint8_t) utf8_prefix(o->title, 255);
    memcpy(title, o->title, r->title_len);
    return (int) matcher_order_size(r);
}

/* ---- checks of a record read back ----
 *
 * A record read back from the store passes only if it holds what the
 * encoder above makes: the sizes, and every field the index and the score
 * use as an index, a shift or a bound within its range (a store damaged on
 * disk must not crash the matcher, nor make its pruned search differ from
 * the scan; tests/fuzz/fuzz_record.c checks both). The arrays are read
 * with memcpy: the store's values need not be aligned. */

static bool
langs_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct matcher_lang l;

        memcpy(&l, p + i * sizeof(l), sizeof(l));
        if (l.code[0] < 'a' || l.code[0] > 'z' || l.code[1] < 'a' ||
            l.code[1] > 'z')
            return false;
    }
    return true;
}

bool
matcher_record_profile_valid(const void *data, size_t size)
{
    const uint8_t *p = data;
    struct matcher_profile_rec r;
    size_t need;

    if (size < sizeof(r))
        return false;
    memcpy(&r, data, sizeof(r));
    need = sizeof(r) + r.n_skills * sizeof(struct matcher_pskill) +
           r.n_occs * sizeof(struct matcher_pocc) +
           r.n_langs * sizeof(struct matcher_lang) + r.id_len;
    if (r.format != MATCHER_REC_PROFILE || r.id_len == 0 || need != size)
        return false;
    if ((r.kinds & 1) != 0 || r.home_muni >= 1000 ||
        (r.flags & ~(MATCHER_PF_CONSENT | MATCHER_PF_LOCATION)) != 0 ||
        (r.progression > MATCHER_PROGRESS_MAX &&
         r.progression != MATCHER_PROGRESS_NONE) ||
        ((r.flags & MATCHER_PF_LOCATION) && !place_ok(r.lat, r.lon)))
        return false;
    p += sizeof(r);
    /* Skills: levels 1-5, sorted by term, each once (lookups halve). */
    for (unsigned i = 0; i < r.n_skills;
         i++, p += sizeof(struct matcher_pskill)) {
        struct matcher_pskill sk, prev;

        memcpy(&sk, p, sizeof(sk));
        if (sk.level < 1 || sk.level > 5)
            return false;
        if (i > 0) {
            memcpy(&prev, p - sizeof(prev), sizeof(prev));
            if (prev.term >= sk.term)
                return false;
        }
    }
    /* Occupations: each once, a known kind of hold, an ISCO code. */
    for (unsigned i = 0; i < r.n_occs; i++) {
        struct matcher_pocc oc, other;

        memcpy(&oc, p + i * sizeof(oc), sizeof(oc));
        if (oc.held > 1 || oc.isco >= MATCHER_ISCO_MAX)
            return false;
        for (unsigned j = 0; j < i; j++) {
            memcpy(&other, p + j * sizeof(other), sizeof(other));
            if (other.term == oc.term)
                return false;
        }
    }
    p += r.n_occs * sizeof(struct matcher_pocc);
    if (!langs_ok(p, r.n_langs))
        return false;
    p += r.n_langs * sizeof(struct matcher_lang);
    return jm_utf8_valid(p, r.id_len);
}

bool
matcher_record_order_valid(const void *data, size_t size)
{
    const uint8_t *p = data;
    struct matcher_order_rec r;
    size_t need, n;

    if (size < sizeof(r))
        return false;
    memcpy(&r, data, sizeof(r));
    need = sizeof(r) + (r.n_ess + r.n_opt) * sizeof(struct matcher_oskill) +
           r.n_langs * sizeof(struct matcher_lang) + r.id_len + r.title_len;
    if (r.format != MATCHER_REC_ORDER || r.id_len == 0 || need != size)
        return false;
    if (r.kind >= 8 || r.owner_muni >= 1000 || r.isco >= MATCHER_ISCO_MAX ||
        r.n_ess > MAX_ORDER_SKILLS || r.n_opt > MAX_ORDER_SKILLS ||
        (r.flags & ~MATCHER_OF_LOCATION) != 0 ||
        ((r.flags & MATCHER_OF_LOCATION) && !place_ok(r.lat, r.lon)))
        return false;
    p += sizeof(r);
    /* Skills: each once over both groups, a level 0-5. */
    n = (size_t) r.n_ess + r.n_opt;
    for (size_t i = 0; i < n; i++) {
        struct matcher_oskill sk, other;

        memcpy(&sk, p + i * sizeof(sk), sizeof(sk));
        if (sk.min_level > 5)
            return false;
        for (size_t j = 0; j < i; j++) {
            memcpy(&other, p + j * sizeof(other), sizeof(other));
            if (other.term == sk.term)
                return false;
        }
    }
    p += n * sizeof(struct matcher_oskill);
    if (!langs_ok(p, r.n_langs))
        return false;
    p += r.n_langs * sizeof(struct matcher_lang);
    return jm_utf8_valid(p, r.id_len) &&
           jm_utf8_valid(p + r.id_len, r.title_len);
}
