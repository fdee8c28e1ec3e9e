/* intake_check.c - step 6 and 7 of docs/protocol.md for intake: every
 * field of every request body, and who may send it (see intake_order.h).
 *
 * Fields are checked in .proto order and the first failure is the answer,
 * so a client fixing its input sees one problem at a time, each with the
 * field path it can act on ("submit_order.order.essential_skills[2]
 * .skill_uri"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "intake_order.h"
#include "jm/dk.h"

/* ISO 639-1, the two-letter language codes (deprecated ones left out).
 * Sorted, so that a look-up is a binary search over 2-byte entries. */
static const char iso639_1[] =
    "aaabaeafakamanarasavayazbabebgbibmbnbobrbscacechcocrcscucvcydadedvdz"
    "eeeleneoeseteufafffifjfofrfygagdglgngugvhahehihohrhthuhyhziaidieigii"
    "ikioisitiujajvkakgkikjkkklkmknkokrkskukvkwkylalblglilnloltlulvmgmhmi"
    "mkmlmnmrmsmtmynanbndnengnlnnnonrnvnyocojomorospapiplpsptqurmrnrorurw"
    "sascsdsesgsiskslsmsnsosqsrssstsusvswtatetgthtitktltntotrtstttwtyuguk"
    "uruzvevivowawoxhyiyozazhzu";

static bool
language_known(const char *code)
{
    size_t lo = 0, hi = (sizeof(iso639_1) - 1) / 2;

    if (strlen(code) != 2)
        return false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strncmp(code, iso639_1 + 2 * mid, 2);

        if (cmp == 0)
            return true;
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* ---- callers ---- */

static const char *const op_names[] = {
    [INTAKE_OP_SUBMIT] = "submit orders",
    [INTAKE_OP_UPDATE] = "update orders",
    [INTAKE_OP_SET_STATUS] = "close orders",
    [INTAKE_OP_OUTCOME] = "record candidate outcomes",
    [INTAKE_OP_READ] = "read orders",
    [INTAKE_OP_STATS] = "read order statistics",
};

bool
intake_may(const jm_principal *caller, intake_op op, const char *owner,
           const char *path, jm_error *err)
{
    bool allowed;

    switch (caller->kind) {
    case JM_PRINCIPAL_LOCAL:
    case JM_PRINCIPAL_ADMIN:
        return true;
    case JM_PRINCIPAL_SELF:
        /* Its own housekeeping: expiring orders past their deadline. */
        allowed = op == INTAKE_OP_SET_STATUS;
        break;
    case JM_PRINCIPAL_SERVICE:
        allowed = op == INTAKE_OP_READ || op == INTAKE_OP_STATS;
        break;
    case JM_PRINCIPAL_MUNICIPALITY:
    case JM_PRINCIPAL_CONSULTANT:
        allowed = true;
        break;
    case JM_PRINCIPAL_CASEWORKER:
        allowed = op == INTAKE_OP_READ || op == INTAKE_OP_OUTCOME ||
                  op == INTAKE_OP_STATS;
        break;
    case JM_PRINCIPAL_MONITOR:
        /* Counts, never an order. */
        allowed = op == INTAKE_OP_STATS;
        break;
    default:
        allowed = false;
        break;
    }
    /* The caller's kind, not a field, is what is wrong: no path (an
     * integrator sent to owner_municipality would look for a fault
     * there). */
    if (!allowed)
        return jm_error_set(err, JM_E_PERMISSION_DENIED, "",
                            "this caller may not %s", op_names[op]);
    /* The payload's or the stored order's municipality must be the
     * caller's own (DESIGN.md section 4). */
    if (jm_principal_is_municipal(caller) && owner != NULL &&
        strcmp(owner, caller->municipality) != 0)
        return jm_error_set(err, JM_E_PERMISSION_DENIED, path,
                            "the order belongs to municipality %s, not to "
                            "the caller's %s",
                            owner, caller->municipality);
    return true;
}

/* ---- fields ----
 *
 * The checks of one order name fields relative to the order ("cvr",
 * "essential_skills[2].skill_uri"), and intake_check_order puts the
 * body's prefix in front once, on failure: a valid order, the common case,
 * formats no path at all. */

/* Names the field of a check that failed with an empty path; formatted
 * only now. Returns false. */
static bool __attribute__((format(printf, 2, 3)))
failed_at(jm_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void) vsnprintf(err->field_path, sizeof(err->field_path), fmt, ap);
    va_end(ap);
    return false;
}

static bool
check_municipality(jm_error *err, const char *path, const char *code)
{
    if (!jm_check_digits(err, path, code, 3, true))
        return false;
    if (jm_dk_municipality_find(code) == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "%s is not one of the 98 municipality codes", code);
    return true;
}

/* The postcode, its municipality and the coordinates agree
 * (jm_check_dk_place; profiles applies its postcode and municipality rule
 * to a citizen's home, whose coordinates it replaces by the postcode's). */
static bool
check_workplace(jm_error *err, const Jobmatch__V1__Location *loc)
{
    if (loc == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, "workplace",
                            "is required");
    return jm_check_dk_place(err, "workplace", loc->postcode,
                             loc->municipality_code, loc->latitude,
                             loc->longitude);
}

/* The same skill URI. Both were checked to be the skill prefix and a
 * 36-character uuid (the earlier one by an earlier step of the loop, or
 * of the essential list), so only the uuids are compared: an order of
 * 13 skills makes 78 comparisons, and whole URIs share 33 bytes. */
static bool
same_skill(const char *a, const char *b)
{
    const size_t skip = sizeof(JM_ESCO_SKILL_PREFIX) - 1;

    return memcmp(a + skip, b + skip, 36) == 0;
}

/* An earlier entry with the same URI: its list and index, or -1. */
static int
find_duplicate(const Jobmatch__V1__JobOrder *o, const char *uri, bool essential,
               size_t index, bool *in_essential)
{
    size_t n = essential ? index : o->n_essential_skills;

    *in_essential = true;
    for (size_t i = 0; i < n; i++) {
        if (same_skill(o->essential_skills[i]->skill_uri, uri))
            return (int) i;
    }
    *in_essential = false;
    for (size_t i = 0; !essential && i < index; i++) {
        if (same_skill(o->optional_skills[i]->skill_uri, uri))
            return (int) i;
    }
    return -1;
}

static bool
check_skills(jm_error *err, const Jobmatch__V1__JobOrder *o, bool essential)
{
    const char *name = essential ? "essential_skills" : "optional_skills";
    Jobmatch__V1__SkillRequirement **list =
        essential ? o->essential_skills : o->optional_skills;
    size_t count = essential ? o->n_essential_skills : o->n_optional_skills;

    if (!jm_check_count(err, name, count, 0, INTAKE_SKILLS_MAX))
        return false;
    for (size_t i = 0; i < count; i++) {
        const Jobmatch__V1__SkillRequirement *s = list[i];
        bool in_essential;
        int dup;

        if (s->skill_uri[0] == '\0') {
            jm_error_set(err, JM_E_INVALID_FIELD, "", "is required");
            return failed_at(err, "%s[%zu].skill_uri", name, i);
        }
        if (!jm_esco_skill_uri_valid(s->skill_uri)) {
            jm_error_set(err, JM_E_INVALID_FIELD, "",
                         "is not an ESCO skill URI (%s<uuid>)",
                         JM_ESCO_SKILL_PREFIX);
            return failed_at(err, "%s[%zu].skill_uri", name, i);
        }
        dup = find_duplicate(o, s->skill_uri, essential, i, &in_essential);
        if (dup >= 0) {
            jm_error_set(
                err, JM_E_INVALID_FIELD, "", "repeats the skill of %s[%d]",
                in_essential ? "essential_skills" : "optional_skills", dup);
            return failed_at(err, "%s[%zu].skill_uri", name, i);
        }
        if (!jm_check_range(err, "", s->min_level, 0, 5))
            return failed_at(err, "%s[%zu].min_level", name, i);
    }
    return true;
}

static bool
check_languages(jm_error *err, const Jobmatch__V1__JobOrder *o)
{
    if (!jm_check_count(err, "languages", o->n_languages, 0,
                        INTAKE_LANGUAGES_MAX))
        return false;
    for (size_t i = 0; i < o->n_languages; i++) {
        const Jobmatch__V1__LanguageRequirement *l = o->languages[i];

        if (!language_known(l->language)) {
            jm_error_set(err, JM_E_INVALID_FIELD, "",
                         "'%s' is not an ISO 639-1 code in lower case "
                         "(\"da\", \"en\")",
                         l->language);
            return failed_at(err, "languages[%zu].language", i);
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(o->languages[k]->language, l->language) == 0) {
                jm_error_set(err, JM_E_INVALID_FIELD, "",
                             "repeats languages[%zu]", k);
                return failed_at(err, "languages[%zu].language", i);
            }
        }
        if (!jm_check_enum(err, "", &jobmatch__v1__language_level__descriptor,
                           l->min_level, false))
            return failed_at(err, "languages[%zu].min_level", i);
    }
    return true;
}

static bool
check_licences(jm_error *err, const Jobmatch__V1__JobOrder *o)
{
    if (!jm_check_count(err, "licences", o->n_licences, 0, INTAKE_LICENCES_MAX))
        return false;
    for (size_t i = 0; i < o->n_licences; i++) {
        if (!jm_check_enum(err, "", &jobmatch__v1__licence__descriptor,
                           o->licences[i], false))
            return failed_at(err, "licences[%zu]", i);
        for (size_t k = 0; k < i; k++) {
            if (o->licences[k] == o->licences[i]) {
                jm_error_set(err, JM_E_INVALID_FIELD, "",
                             "repeats licences[%zu]", k);
                return failed_at(err, "licences[%zu]", i);
            }
        }
    }
    return true;
}

/* The occupation and its classification codes. */
static bool
check_occupation(const intake_rules *rules, jm_error *err,
                 const Jobmatch__V1__JobOrder *o)
{
    const char *isco = o->isco_code;
    int index = -1;

    if (o->occupation_uri[0] == '\0')
        return jm_error_set(err, JM_E_INVALID_FIELD, "occupation_uri",
                            "is required");
    if (!jm_esco_occupation_uri_valid(o->occupation_uri))
        return jm_error_set(err, JM_E_INVALID_FIELD, "occupation_uri",
                            "is not an ESCO occupation URI (%s<uuid>)",
                            JM_ESCO_OCCUPATION_PREFIX);
    if (rules->esco != NULL)
        index = jm_esco_occupation_find(rules->esco, o->occupation_uri);
    if (!jm_check_digits(err, "isco_code", isco, 4, false))
        return false;
    /* An occupation another ESCO version knows is accepted as it is; one
     * we know must agree with its ISCO group. */
    if (index >= 0) {
        const char *known =
            jm_esco_occupation_isco(rules->esco, (size_t) index);

        if (isco[0] != '\0' && strcmp(isco, known) != 0)
            return jm_error_set(
                err, JM_E_INVALID_FIELD, "isco_code",
                "%s is not the ISCO-08 group of the occupation (%s, \"%s\"); "
                "leave it empty to have it filled",
                isco, known,
                jm_esco_occupation_label(rules->esco, (size_t) index));
        isco = known;
    }
    if (!jm_check_digits(err, "disco_code", o->disco_code, 6, false))
        return false;
    if (o->disco_code[0] != '\0' && isco[0] != '\0' &&
        strncmp(o->disco_code, isco, 4) != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD, "disco_code",
                            "must start with the ISCO-08 group %s", isco);
    return true;
}

/* Fields only the service sets: a client sending them is confused about
 * what it is doing, and we say so instead of silently ignoring them. */
static bool
check_service_fields(jm_error *err, const Jobmatch__V1__JobOrder *o)
{
    const char *field = NULL;

    if (o->version != 0)
        field = "version";
    else if (o->status != 0)
        field = "status";
    else if (o->hires != 0)
        field = "hires";
    else if (o->n_candidates != 0)
        field = "candidates";
    else if (o->created_at_ms != 0)
        field = "created_at_ms";
    else if (o->updated_at_ms != 0)
        field = "updated_at_ms";
    else if (o->closed_at_ms != 0)
        field = "closed_at_ms";
    if (field == NULL)
        return true;
    return jm_error_set(err, JM_E_INVALID_FIELD, field,
                        "is set by the service; leave it empty");
}

/* Every field, with paths relative to the order. */
static bool
check_fields(const intake_rules *rules, const Jobmatch__V1__JobOrder *o,
             bool id_required, jm_error *err)
{
    int32_t deadline;

    if (!jm_check_id(err, "id", o->id, id_required) ||
        !jm_check_digits(err, "cvr", o->cvr, 8, true))
        return false;
    if (!jm_dk_cvr_valid(o->cvr))
        return jm_error_set(err, JM_E_INVALID_FIELD, "cvr",
                            "%s is not a CVR number (the modulus-11 check "
                            "fails)",
                            o->cvr);
    /* Texts are shown as they are (`jobmatch order list` on a terminal, a
     * jobcentre's screen): jm_check_display_text keeps out what would
     * change how the text around it is shown, and blank values. */
    if (!jm_check_digits(err, "p_number", o->p_number, 10, false) ||
        !jm_check_display_text(err, "company_name", o->company_name,
                               INTAKE_NAME_MAX, false, false) ||
        !jm_check_display_text(err, "title", o->title, INTAKE_TITLE_MAX, true,
                               false) ||
        !jm_check_display_text(err, "description", o->description,
                               INTAKE_DESCRIPTION_MAX, false, true))
        return false;
    if (!check_occupation(rules, err, o) || !check_skills(err, o, true) ||
        !check_skills(err, o, false) || !check_languages(err, o) ||
        !check_licences(err, o))
        return false;
    if (!jm_check_enum(err, "kind", &jobmatch__v1__job_kind__descriptor,
                       o->kind, false) ||
        !jm_check_range(err, "positions", o->positions, 1,
                        INTAKE_POSITIONS_MAX) ||
        !jm_check_range(err, "hours_per_week", o->hours_per_week, 1,
                        INTAKE_HOURS_MAX) ||
        !jm_check_date(err, "start_date", o->start_date, false, NULL) ||
        !jm_check_date(err, "deadline", o->deadline, true, &deadline))
        return false;
    if (deadline < rules->today)
        return jm_error_set(err, JM_E_INVALID_FIELD, "deadline",
                            "%s is in the past", o->deadline);
    if (!check_workplace(err, o->workplace) ||
        !check_municipality(err, "owner_municipality", o->owner_municipality) ||
        !jm_check_display_text(err, "consultant", o->consultant,
                               INTAKE_NAME_MAX, false, false))
        return false;
    return check_service_fields(err, o);
}

bool
intake_check_order(const intake_rules *rules, const Jobmatch__V1__JobOrder *o,
                   const char *path, bool id_required, jm_error *err)
{
    char relative[sizeof(err->field_path)];

    if (o == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, path, "is required");
    if (check_fields(rules, o, id_required, err))
        return true;
    memcpy(relative, err->field_path, sizeof(relative));
    /* Paths are far shorter than the buffer; a cut one stays a prefix. */
    if (snprintf(err->field_path, sizeof(err->field_path), "%s.%.160s", path,
                 relative) < 0)
        err->field_path[0] = '\0';
    return false;
}

/* ---- request bodies ---- */

bool
intake_check_submit(const intake_rules *rules, const jm_principal *caller,
                    const Jobmatch__V1__SubmitOrder *body, jm_error *err)
{
    if (!intake_check_order(rules, body->order, "submit_order.order", false,
                            err))
        return false;
    return intake_may(caller, INTAKE_OP_SUBMIT, body->order->owner_municipality,
                      "submit_order.order.owner_municipality", err);
}

bool
intake_check_update(const intake_rules *rules, const jm_principal *caller,
                    const Jobmatch__V1__UpdateOrder *body, jm_error *err)
{
    if (!intake_check_order(rules, body->order, "update_order.order", true,
                            err))
        return false;
    if (body->expected_version == 0)
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            "update_order.expected_version",
                            "is required: the version the change was made "
                            "against");
    return intake_may(caller, INTAKE_OP_UPDATE, body->order->owner_municipality,
                      "update_order.order.owner_municipality", err);
}

bool
intake_check_set_status(const jm_principal *caller,
                        const Jobmatch__V1__SetOrderStatus *body, jm_error *err)
{
    const char *path = "set_order_status.status";

    if (!jm_check_id(err, "set_order_status.order_id", body->order_id, true) ||
        !jm_check_enum(err, path, &jobmatch__v1__order_status__descriptor,
                       body->status, false))
        return false;
    switch (body->status) {
    case JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED:
        if (!jm_check_range(err, "set_order_status.hires", body->hires, 1,
                            INTAKE_POSITIONS_MAX))
            return false;
        break;
    case JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN:
        if (body->hires != 0)
            return jm_error_set(err, JM_E_INVALID_FIELD,
                                "set_order_status.hires",
                                "must be 0 for a withdrawn order");
        break;
    case JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_EXPIRED:
        if (caller->kind != JM_PRINCIPAL_SELF)
            return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                "EXPIRED is set by the service when the "
                                "deadline has passed");
        break;
    default:
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "must be FILLED or WITHDRAWN");
    }
    return intake_may(caller, INTAKE_OP_SET_STATUS, NULL, "", err);
}

bool
intake_check_outcome(const jm_principal *caller,
                     const Jobmatch__V1__RecordOutcome *body, jm_error *err)
{
    /* The profile id by its form only: whether the citizen exists only the
     * profiles service knows (docs/protocol.md). */
    if (!jm_check_id(err, "record_outcome.order_id", body->order_id, true) ||
        !jm_check_profile_id(err, "record_outcome.profile_id", body->profile_id,
                             true) ||
        !jm_check_enum(err, "record_outcome.status",
                       &jobmatch__v1__candidate_status__descriptor,
                       body->status, false) ||
        !jm_check_display_text(err, "record_outcome.note", body->note,
                               INTAKE_NOTE_MAX, false, true))
        return false;
    return intake_may(caller, INTAKE_OP_OUTCOME, NULL, "", err);
}

bool
intake_check_get(const jm_principal *caller, const Jobmatch__V1__GetOrder *body,
                 jm_error *err)
{
    if (!jm_check_id(err, "get_order.order_id", body->order_id, true))
        return false;
    return intake_may(caller, INTAKE_OP_READ, NULL, "", err);
}

/* An optional municipality filter; a municipal caller may name only its
 * own (empty means its own: see intake_repo_list). The filter names no
 * single order, so the refusal says what the caller may read instead of
 * whose an order is. */
static bool
check_filter_municipality(const jm_principal *caller, intake_op op,
                          const char *path, const char *code, jm_error *err)
{
    if (code[0] != '\0' && !check_municipality(err, path, code))
        return false;
    if (!intake_may(caller, op, NULL, path, err))
        return false;
    if (code[0] != '\0' && jm_principal_is_municipal(caller) &&
        strcmp(code, caller->municipality) != 0)
        return jm_error_set(err, JM_E_PERMISSION_DENIED, path,
                            "this caller may only read municipality %s's %s",
                            caller->municipality,
                            op == INTAKE_OP_STATS ? "order statistics"
                                                  : "orders");
    return true;
}

bool
intake_check_list(const jm_principal *caller,
                  const Jobmatch__V1__ListOrders *body, jm_error *err)
{
    if (!check_filter_municipality(caller, INTAKE_OP_READ,
                                   "list_orders.municipality_code",
                                   body->municipality_code, err) ||
        !jm_check_enum(err, "list_orders.status",
                       &jobmatch__v1__order_status__descriptor, body->status,
                       true) ||
        !jm_check_range(err, "list_orders.page_size", body->page_size, 0,
                        INTAKE_PAGE_MAX))
        return false;
    if (body->occupation_uri[0] != '\0' &&
        !jm_esco_occupation_uri_valid(body->occupation_uri))
        return jm_error_set(err, JM_E_INVALID_FIELD,
                            "list_orders.occupation_uri",
                            "is not an ESCO occupation URI (%s<uuid>)",
                            JM_ESCO_OCCUPATION_PREFIX);
    return true;
}

bool
intake_check_stats(const jm_principal *caller,
                   const Jobmatch__V1__GetOrderStats *body, jm_error *err)
{
    return check_filter_municipality(caller, INTAKE_OP_STATS,
                                     "get_order_stats.municipality_code",
                                     body->municipality_code, err);
}
