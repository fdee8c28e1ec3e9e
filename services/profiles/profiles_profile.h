/* profiles_profile.h - the rules of a citizen's profile, as pure functions
 * over the protobuf-c structs: field validation (with the field path of
 * the first problem) and who may do what (principals).
 *
 * Nothing here touches LMDB, sockets or keys, so every rule is a plain
 * unit test. Validators never echo the value they refuse (but the home's
 * postcode and municipality codes, which are pseudonymous): an error
 * message can end up in a log line, and the values here include CPR
 * numbers, names and e-mail addresses. */
#ifndef PROFILES_PROFILE_H
#define PROFILES_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "jm/msg.h"
#include "jm/principal.h"
#include "jobmatch/v1/envelope.pb-c.h"

/* A pseudonymous profile id: "p-" and 20 characters of the lower-case
 * base32 alphabet (a-z, 2-7): 100 random bits, never derived from the
 * CPR number. The form is jm/msg.h's (jm_check_profile_id), which other
 * services check the ids they are given against. */
#define PROFILES_ID_PREFIX "p-"
#define PROFILES_ID_LEN    JM_PROFILE_ID_LEN

/* Bounds (docs/protocol.md, profiles section). */
#define PROFILES_NAME_MAX         200
#define PROFILES_EMAIL_MAX        254
#define PROFILES_PHONE_MAX        32
#define PROFILES_TRAVEL_MAX_KM    300
#define PROFILES_HOURS_MAX        80
#define PROFILES_SKILLS_MAX       200
#define PROFILES_OCCUPATIONS_MAX  20
#define PROFILES_LANGUAGES_MAX    20
#define PROFILES_CASEWORKER_MAX   200
#define PROFILES_ASSESSOR_MAX     100
#define PROFILES_SCORE_MAX        10
#define PROFILES_FIRST_SKILL_YEAR 1950

/* True if id has the form of a pseudonymous profile id
 * (jm_check_profile_id). */
bool profiles_id_valid(const char *id);

/* ---- validation: each returns true, or fills err (INVALID_FIELD with
 * the path) and returns false. today is days since the epoch (UTC). ---- */

/* The body of req, whatever it is (put, get, find, progress, consent,
 * erase). Bodies profiles does not serve pass (the caller answers them
 * UNSUPPORTED_TYPE). */
bool profiles_profile_check_request(const Jobmatch__V1__Request *req,
                                    int32_t today, jm_error *err);

/* PersonalData at path ("put_profile.personal"): CPR required, name
 * required, e-mail and phone optional. */
bool profiles_profile_check_personal(const Jobmatch__V1__PersonalData *p,
                                     const char *path, jm_error *err);

/* CitizenProfile at path ("put_profile.profile"): every client field, and
 * the service-set fields (version, progress, created/updated) empty. */
bool profiles_profile_check_citizen(const Jobmatch__V1__CitizenProfile *c,
                                    const char *path, int32_t today,
                                    jm_error *err);

/* A progress measurement at path: dimension set, score 1-10, a date not
 * after today, assessor 1-100 bytes. */
bool
profiles_profile_check_measurement(const Jobmatch__V1__ProgressMeasurement *m,
                                   const char *path, int32_t today,
                                   jm_error *err);

/* The simple, bounded e-mail syntax profiles accepts (exposed for tests):
 * local@domain, local 1-64 bytes of the RFC 5322 atom characters with
 * single inner dots, domain of at least two dot-separated labels of
 * letters, digits and inner hyphens (1-63 bytes each), 254 bytes in all. */
bool profiles_email_valid(const char *email);

/* ---- principals (DESIGN.md section 4; services/profiles/README.md) ----
 *
 * Who the caller is: jm_principal (jm/principal.h); what each kind may do
 * here is below. */

/* May change (put, assess, consent, erase) a citizen whose home
 * municipality is municipality: local and admin always, municipality and
 * caseworker principals of that municipality. */
bool profiles_may_write(const jm_principal *p, const char *municipality);

/* May read pseudonymous profiles and progress: every known principal. */
bool profiles_may_read(const jm_principal *p);

/* May see the personal part of a citizen of municipality (and look
 * citizens up by CPR): local, admin, and caseworkers of that
 * municipality. municipality NULL asks "of some municipality" (the check
 * before the citizen is known). */
bool profiles_may_see_personal(const jm_principal *p, const char *municipality);

#endif
