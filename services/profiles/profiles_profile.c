/* profiles_profile.c - the rules of a citizen's profile (see
 * profiles_profile.h).
 *
 * The design decision to know: validation is complete before anything is
 * read or written, and stops at the first problem with its field path
 * (docs/protocol.md, step 6). What needs the store (does the id exist, is
 * the version current, does the CPR belong to this citizen) is decided
 * later, in the write transaction. Messages say what is wrong with a field
 * but never repeat its value: the values are personal data. (The home's
 * postcode and municipality code are named: jm_check_dk_codes says which
 * municipality a postcode lies in, and both codes are in the pseudonymous
 * profile that every event carries.) */
#include "profiles_profile.h"

#include <stdio.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jobmatch/v1/profiles.pb-c.h"
#include "jobmatch/v1/types.pb-c.h"

#define PATH_MAX_LEN 192

/* Ids are checked by form only (jm_check_profile_id, shared with intake,
 * which records outcomes of these ids): whether the citizen exists is the
 * store's business (NOT_FOUND), and a malformed id is a client bug that
 * deserves INVALID_FIELD instead. */
bool
profiles_id_valid(const char *id)
{
    jm_error err = {0};

    return jm_check_profile_id(&err, "", id, true);
}

/* ---- personal data ---- */

/* RFC 5322 "atext": what may stand in an unquoted local part. */
static bool
atom_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static bool
label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

/* The common subset of addresses real people have, not all of RFC 5322:
 * no quoted local parts, comments or address literals. Enough to catch
 * typing mistakes without refusing anyone a jobcentre would mail. */
bool
profiles_email_valid(const char *email)
{
    const char *at, *p;
    size_t len, local_len, labels = 0, label_len = 0;

    if (email == NULL)
        return false;
    len = strlen(email);
    at = strchr(email, '@');
    if (len > PROFILES_EMAIL_MAX || at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    local_len = (size_t) (at - email);
    if (local_len == 0 || local_len > 64 || email[0] == '.' || at[-1] == '.')
        return false;
    /* Dots only between atoms: "a..b" and a dot at either end are
     * invalid without quoting, which we do not accept. */
    for (p = email; p < at; p++) {
        if (*p == '.' ? p[1] == '.' : !atom_char(*p))
            return false;
    }
    /* Domain: labels of 1-63 characters, no hyphen at either end. */
    for (p = at + 1;; p++) {
        if (*p == '.' || *p == '\0') {
            if (label_len == 0 || label_len > 63 || p[-1] == '-')
                return false;
            labels++;
            label_len = 0;
            if (*p == '\0')
                break;
            continue;
        }
        if (!label_char(*p) || (label_len == 0 && *p == '-'))
            return false;
        label_len++;
    }
    /* A bare host ("a@localhost") is never a citizen's address. */
    return labels >= 2;
}

/* Digits with the usual separators: "+45 12 34 56 78", "(+45) 1234-5678".
 * 6 to 15 digits (E.164 allows at most 15). */
static bool
phone_valid(const char *phone)
{
    size_t digits = 0;

    /* '+' only opens the number (or its parenthesised country code):
     * "12+34" is a typing mistake, not a format. */
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (strchr(" +-()", *p) == NULL)
            return false;
        if (*p == '+' && p != phone && p[-1] != '(')
            return false;
    }
    return digits >= 6 && digits <= 15;
}

bool
profiles_profile_check_personal(const Jobmatch__V1__PersonalData *p,
                                const char *path, jm_error *err)
{
    char buf[PATH_MAX_LEN], cpr[11];

    /* The CPR number is what identifies a citizen across puts, so it is
     * always required with personal data; the name too (a caseworker must
     * know whom they call). Contact details are optional. */
    if (p->cpr == NULL || p->cpr[0] == '\0')
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.cpr", path),
                            "is required");
    if (jm_dk_cpr_normalize(p->cpr, cpr) != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.cpr", path),
                            "is not a CPR number (DDMMYY-SSSS with a real "
                            "birth date, not in the future)");
    /* The name is shown as it is (a caseworker's screen, `jobmatch profile
     * get`): nothing that reorders or breaks the line, and not blank. */
    if (!jm_check_display_text(err, jm_path(buf, sizeof(buf), "%s.name", path),
                               p->name, PROFILES_NAME_MAX, true, false))
        return false;
    if (p->email != NULL && p->email[0] != '\0' &&
        !profiles_email_valid(p->email))
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.email", path),
                            "is not an e-mail address (name@example.dk, at "
                            "most %d bytes)",
                            PROFILES_EMAIL_MAX);
    if (p->phone != NULL && p->phone[0] != '\0' &&
        (strlen(p->phone) > PROFILES_PHONE_MAX || !phone_valid(p->phone)))
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.phone", path),
                            "is not a phone number (6-15 digits, with spaces, "
                            "+, -, parentheses; at most %d bytes)",
                            PROFILES_PHONE_MAX);
    return true;
}

/* ---- the pseudonymous profile ---- */

/* The postcode and its municipality by the rule intake applies to a
 * workplace (jm_check_dk_codes: the paths are "...home.postcode" and
 * "...home.municipality_code"; their messages name the codes, which the
 * pseudonymous profile carries anyway). Not the workplace's distance rule
 * (jm_check_dk_place): the coordinates are replaced by the postcode's
 * centre whatever they are (data minimisation: an exact home address must
 * not travel to the matcher), and its messages would repeat them, which
 * may be the point of a citizen's home. Given, they must still be a point
 * in Denmark. */
static bool
check_home(const Jobmatch__V1__Location *home, const char *path, jm_error *err)
{
    char buf[PATH_MAX_LEN];

    if (home == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.home", path),
                            "is required");
    if (!jm_check_dk_codes(err, jm_path(buf, sizeof(buf), "%s.home", path),
                           home->postcode, home->municipality_code))
        return false;
    if ((home->latitude != 0 || home->longitude != 0) &&
        !jm_geo_in_denmark(home->latitude, home->longitude))
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.home.latitude", path),
                            "latitude/longitude are not a point in Denmark");
    return true;
}

static bool
check_job_kinds(const Jobmatch__V1__CitizenProfile *c,
                const jm_dk_target_group *group, const char *path,
                jm_error *err)
{
    char buf[PATH_MAX_LEN];
    uint32_t seen = 0;

    /* At least one kind: a citizen who may take no job cannot be matched,
     * which is surely not what the caseworker meant. */
    if (!jm_check_count(err, jm_path(buf, sizeof(buf), "%s.job_kinds", path),
                        c->n_job_kinds, 1, 8))
        return false;
    for (size_t i = 0; i < c->n_job_kinds; i++) {
        int kind = (int) c->job_kinds[i];

        jm_path(buf, sizeof(buf), "%s.job_kinds[%zu]", path, i);
        if (!jm_check_enum(err, buf, &jobmatch__v1__job_kind__descriptor, kind,
                           false))
            return false;
        if (kind >= 32 || (seen & (1u << kind)))
            return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                "is listed twice");
        seen |= 1u << kind;
        /* Which kinds a target group may take is law kept as data
         * (data/target_groups.csv), so that a reform changes a file, not
         * this code: fleksjob only for those visiteret to it, IGU only in
         * integration, and so on. */
        if (!(group->job_kinds & (1u << kind)))
            return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                "is not a kind of job target group '%s' "
                                "(list %s) may take",
                                group->code, group->list);
    }
    return true;
}

static bool
check_skills(const Jobmatch__V1__CitizenProfile *c, const char *path,
             int32_t today, jm_error *err)
{
    char buf[PATH_MAX_LEN], date[16];
    int year;

    /* "Last used" in a year not yet begun is a typing mistake; 1950 is
     * older than any working citizen's experience. */
    jm_date_format(today, date, sizeof(date));
    year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 +
           (date[2] - '0') * 10 + (date[3] - '0');
    if (!jm_check_count(err, jm_path(buf, sizeof(buf), "%s.skills", path),
                        c->n_skills, 0, PROFILES_SKILLS_MAX))
        return false;
    for (size_t i = 0; i < c->n_skills; i++) {
        const Jobmatch__V1__SkillLevel *s = c->skills[i];

        jm_path(buf, sizeof(buf), "%s.skills[%zu].skill_uri", path, i);
        if (s->skill_uri == NULL || s->skill_uri[0] == '\0')
            return jm_error_set(err, JM_E_INVALID_FIELD, buf, "is required");
        /* Syntax only: the service needs no ESCO tables, and a URI of a
         * newer ESCO version than the shipped subset is still a skill. */
        if (!jm_esco_skill_uri_valid(s->skill_uri))
            return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                "is not an ESCO skill URI");
        /* At most 200 skills: a quadratic duplicate check costs nothing. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->skills[j]->skill_uri, s->skill_uri) == 0)
                return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                    "repeats skills[%zu]", j);
        }
        if (!jm_check_range(
                err, jm_path(buf, sizeof(buf), "%s.skills[%zu].level", path, i),
                s->level, 1, 5))
            return false;
        jm_path(buf, sizeof(buf), "%s.skills[%zu].last_used_year", path, i);
        if (s->last_used_year != 0 &&
            !jm_check_range(err, buf, s->last_used_year,
                            PROFILES_FIRST_SKILL_YEAR, year))
            return false;
    }
    return true;
}

/* Wished and held occupations share the rules: ESCO occupation URIs (a
 * skill URI here is the classic mix-up), bounded, no repeats. */
static bool
check_occupations(char **uris, size_t count, const char *path,
                  const char *field, jm_error *err)
{
    char buf[PATH_MAX_LEN];

    if (!jm_check_count(err, jm_path(buf, sizeof(buf), "%s.%s", path, field),
                        count, 0, PROFILES_OCCUPATIONS_MAX))
        return false;
    for (size_t i = 0; i < count; i++) {
        jm_path(buf, sizeof(buf), "%s.%s[%zu]", path, field, i);
        if (!jm_esco_occupation_uri_valid(uris[i]))
            return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                "is not an ESCO occupation URI");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(uris[j], uris[i]) == 0)
                return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                    "repeats %s[%zu]", field, j);
        }
    }
    return true;
}

static bool
check_languages(const Jobmatch__V1__CitizenProfile *c, const char *path,
                jm_error *err)
{
    char buf[PATH_MAX_LEN];

    if (!jm_check_count(err, jm_path(buf, sizeof(buf), "%s.languages", path),
                        c->n_languages, 0, PROFILES_LANGUAGES_MAX))
        return false;
    for (size_t i = 0; i < c->n_languages; i++) {
        const char *lang = c->languages[i]->language;

        jm_path(buf, sizeof(buf), "%s.languages[%zu].language", path, i);
        /* Lower case only, as job orders write them: the matcher compares
         * the codes byte for byte. */
        if (lang == NULL || strlen(lang) != 2 || lang[0] < 'a' ||
            lang[0] > 'z' || lang[1] < 'a' || lang[1] > 'z')
            return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                "is not an ISO 639-1 code in lower case "
                                "(\"da\")");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->languages[j]->language, lang) == 0)
                return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                    "repeats languages[%zu]", j);
        }
        if (!jm_check_enum(
                err,
                jm_path(buf, sizeof(buf), "%s.languages[%zu].level", path, i),
                &jobmatch__v1__language_level__descriptor,
                (int) c->languages[i]->level, false))
            return false;
    }
    return true;
}

static bool
check_licences(const Jobmatch__V1__CitizenProfile *c, const char *path,
               jm_error *err)
{
    char buf[PATH_MAX_LEN];
    uint32_t seen = 0;

    for (size_t i = 0; i < c->n_licences; i++) {
        int licence = (int) c->licences[i];

        jm_path(buf, sizeof(buf), "%s.licences[%zu]", path, i);
        if (!jm_check_enum(err, buf, &jobmatch__v1__licence__descriptor,
                           licence, false))
            return false;
        if (licence >= 32 || (seen & (1u << licence)))
            return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                                "is listed twice");
        seen |= 1u << licence;
    }
    return true;
}

/* Consent is a fact about the past: a date after today cannot be when
 * it was given. No date is fine (SetConsent fills in today). */
static bool
check_consent(const Jobmatch__V1__Consent *consent, const char *path,
              int32_t today, jm_error *err)
{
    char buf[PATH_MAX_LEN];
    int32_t day = 0;

    if (consent == NULL)
        return true;
    jm_path(buf, sizeof(buf), "%s.given_on", path);
    if (!jm_check_date(err, buf, consent->given_on, false, &day))
        return false;
    if (day > today)
        return jm_error_set(err, JM_E_INVALID_FIELD, buf, "is in the future");
    return true;
}

/* Fields only the service sets: a client that fills them has misread the
 * protocol, and silently ignoring them would hide that. */
static bool
check_service_fields(const Jobmatch__V1__CitizenProfile *c, const char *path,
                     jm_error *err)
{
    char buf[PATH_MAX_LEN];

    if (c->version != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.version", path),
                            "is set by the service (use expected_version)");
    if (c->n_progress != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.progress", path),
                            "is set by the service (use RecordProgress)");
    if (c->created_at_ms != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.created_at_ms", path),
                            "is set by the service");
    if (c->updated_at_ms != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            jm_path(buf, sizeof(buf), "%s.updated_at_ms", path),
                            "is set by the service");
    return true;
}

bool
profiles_profile_check_citizen(const Jobmatch__V1__CitizenProfile *c,
                               const char *path, int32_t today, jm_error *err)
{
    char buf[PATH_MAX_LEN];
    const char *list;
    const jm_dk_target_group *group;

    /* In the order of the fields, so that a client fixing one error at a
     * time works down the message from the top. */
    if (!jm_check_profile_id(err, jm_path(buf, sizeof(buf), "%s.id", path),
                             c->id, false) ||
        !check_service_fields(c, path, err) || !check_home(c->home, path, err))
        return false;
    if (!jm_check_range(err,
                        jm_path(buf, sizeof(buf), "%s.max_travel_km", path),
                        c->max_travel_km, 1, PROFILES_TRAVEL_MAX_KM) ||
        !jm_check_range(err,
                        jm_path(buf, sizeof(buf), "%s.hours_per_week", path),
                        c->hours_per_week, 1, PROFILES_HOURS_MAX) ||
        !jm_check_date(err,
                       jm_path(buf, sizeof(buf), "%s.available_from", path),
                       c->available_from, false, NULL))
        return false;

    /* The target group: a code of a versioned list (data, not an enum). */
    list = c->target_group_list && c->target_group_list[0]
               ? c->target_group_list
               : NULL;
    if (list != NULL) {
        bool known = false;

        for (size_t i = 0; i < jm_dk_target_group_count(); i++)
            known |= strcmp(jm_dk_target_group_at(i)->list, list) == 0;
        if (!known)
            return jm_error_set(
                err, JM_E_INVALID_FIELD,
                jm_path(buf, sizeof(buf), "%s.target_group_list", path),
                "is not a known target-group list version");
    }
    jm_path(buf, sizeof(buf), "%s.target_group", path);
    if (c->target_group == NULL || c->target_group[0] == '\0')
        return jm_error_set(err, JM_E_INVALID_FIELD, buf, "is required");
    if ((group = jm_dk_target_group_find(list, c->target_group)) == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, buf,
                            "is not a group of target-group list %s",
                            list ? list : jm_dk_target_group_default_list());

    return check_job_kinds(c, group, path, err) &&
           check_skills(c, path, today, err) &&
           check_occupations(c->wished_occupations, c->n_wished_occupations,
                             path, "wished_occupations", err) &&
           check_occupations(c->held_occupations, c->n_held_occupations, path,
                             "held_occupations", err) &&
           check_languages(c, path, err) && check_licences(c, path, err) &&
           check_consent(c->consent,
                         jm_path(buf, sizeof(buf), "%s.consent", path), today,
                         err) &&
           jm_check_display_text(
               err, jm_path(buf, sizeof(buf), "%s.caseworker", path),
               c->caseworker, PROFILES_CASEWORKER_MAX, false, false);
}

bool
profiles_profile_check_measurement(const Jobmatch__V1__ProgressMeasurement *m,
                                   const char *path, int32_t today,
                                   jm_error *err)
{
    char buf[PATH_MAX_LEN];
    int32_t day = 0;

    if (m == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, path, "is required");
    /* A measurement records something that happened: a dimension, a
     * score on the 1-10 scale, a day not after today, and who judged. */
    if (!jm_check_enum(err, jm_path(buf, sizeof(buf), "%s.dimension", path),
                       &jobmatch__v1__progress_dimension__descriptor,
                       (int) m->dimension, false) ||
        !jm_check_range(err, jm_path(buf, sizeof(buf), "%s.score", path),
                        m->score, 1, PROFILES_SCORE_MAX) ||
        !jm_check_date(err, jm_path(buf, sizeof(buf), "%s.date", path), m->date,
                       true, &day))
        return false;
    if (day > today)
        return jm_error_set(err, JM_E_INVALID_FIELD, buf, "is in the future");
    return jm_check_display_text(
        err, jm_path(buf, sizeof(buf), "%s.assessor", path), m->assessor,
        PROFILES_ASSESSOR_MAX, true, false);
}

static bool
check_put(const Jobmatch__V1__PutProfile *put, int32_t today, jm_error *err)
{
    if (put->profile == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, "put_profile.profile",
                            "is required");
    /* Without an id, the CPR number is what identifies the citizen. */
    if (put->personal == NULL &&
        (put->profile->id == NULL || put->profile->id[0] == '\0'))
        return jm_error_set(err, JM_E_INVALID_FIELD, "put_profile.personal",
                            "is required when profile.id is empty (the CPR "
                            "number identifies the citizen)");
    if (put->personal != NULL &&
        !profiles_profile_check_personal(put->personal, "put_profile.personal",
                                         err))
        return false;
    return profiles_profile_check_citizen(put->profile, "put_profile.profile",
                                          today, err);
}

bool
profiles_profile_check_request(const Jobmatch__V1__Request *req, int32_t today,
                               jm_error *err)
{
    char cpr[11];

    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE:
        return check_put(req->put_profile, today, err);
    case JOBMATCH__V1__REQUEST__BODY_GET_PROFILE:
        return jm_check_profile_id(err, "get_profile.profile_id",
                                   req->get_profile->profile_id, true);
    case JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE:
        /* A malformed CPR number cannot match anyone: say so rather than
         * NOT_FOUND, so that the caseworker looks at the number. */
        if (req->find_profile->cpr == NULL || req->find_profile->cpr[0] == 0)
            return jm_error_set(err, JM_E_INVALID_FIELD, "find_profile.cpr",
                                "is required");
        if (jm_dk_cpr_normalize(req->find_profile->cpr, cpr) != 0)
            return jm_error_set(err, JM_E_INVALID_FIELD, "find_profile.cpr",
                                "is not a CPR number");
        return true;
    case JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS:
        return jm_check_profile_id(err, "record_progress.profile_id",
                                   req->record_progress->profile_id, true) &&
               profiles_profile_check_measurement(
                   req->record_progress->measurement,
                   "record_progress.measurement", today, err);
    case JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS:
        /* dimension 0 asks for all of them. */
        return jm_check_profile_id(err, "get_progress.profile_id",
                                   req->get_progress->profile_id, true) &&
               jm_check_enum(err, "get_progress.dimension",
                             &jobmatch__v1__progress_dimension__descriptor,
                             (int) req->get_progress->dimension, true);
    case JOBMATCH__V1__REQUEST__BODY_SET_CONSENT:
        if (!jm_check_profile_id(err, "set_consent.profile_id",
                                 req->set_consent->profile_id, true))
            return false;
        if (req->set_consent->consent == NULL)
            return jm_error_set(err, JM_E_INVALID_FIELD, "set_consent.consent",
                                "is required");
        return check_consent(req->set_consent->consent, "set_consent.consent",
                             today, err);
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE:
        return jm_check_profile_id(err, "erase_profile.profile_id",
                                   req->erase_profile->profile_id, true);
    default:
        return true;
    }
}

/* ---- principals ---- */

bool
profiles_may_write(const jm_principal *p, const char *municipality)
{
    switch (p->kind) {
    case JM_PRINCIPAL_LOCAL:
    case JM_PRINCIPAL_ADMIN:
        return true;
    case JM_PRINCIPAL_MUNICIPALITY:
    case JM_PRINCIPAL_CASEWORKER:
        return municipality != NULL &&
               strcmp(p->municipality, municipality) == 0;
    default:
        return false;
    }
}

/* The pseudonymous profile is what the matcher and the jobcentres' systems
 * work with; it names nobody, so every known role may read it, but for a
 * monitoring system, which is given counts and no records. */
bool
profiles_may_read(const jm_principal *p)
{
    return p->kind != JM_PRINCIPAL_UNKNOWN && p->kind != JM_PRINCIPAL_MONITOR;
}

/* Personal data only to those who work with the citizen: the home
 * municipality's caseworkers. A municipality's systems feed profiles in but
 * never read personal data back, which keeps the places holding CPR
 * numbers as few as they can be. */
bool
profiles_may_see_personal(const jm_principal *p, const char *municipality)
{
    switch (p->kind) {
    case JM_PRINCIPAL_LOCAL:
    case JM_PRINCIPAL_ADMIN:
        return true;
    case JM_PRINCIPAL_CASEWORKER:
        return municipality == NULL ||
               strcmp(p->municipality, municipality) == 0;
    default:
        return false;
    }
}
