/* order_sample.h - what the two order test files share: a valid job order
 * with storage for the longest lists, the rules of a frozen day
 * (2027-03-01, with the ESCO data loaded once per group), and the check of
 * an error's code and path. */
#ifndef ORDER_SAMPLE_H
#define ORDER_SAMPLE_H

#include <stdint.h>

#include "intake_order.h"
#include "jm/esco.h"
#include "jm/msg.h"

#define OCC_WAREHOUSE                                                \
    "http://data.europa.eu/esco/occupation/bea705fe-06ac-4147-b8e0-" \
    "6e8ac1208d8f"
#define OCC_UNKNOWN                                                  \
    "http://data.europa.eu/esco/occupation/00000000-0000-4000-8000-" \
    "000000000000"
#define SKILL(n) \
    "http://data.europa.eu/esco/skill/00000000-0000-4000-8000-00000000000" #n

/* The fake clock: 2027-03-01 12:00 UTC. */
#define NOW_MS (INT64_C(1803902400) * 1000)

/* Loaded by sample_group_setup. */
extern jm_esco_t *esco;

/* A valid order (the shape of docs/examples/job-order.json), with storage
 * for one more than the most of every list. */
struct sample {
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__Location workplace;
    Jobmatch__V1__SkillRequirement ess[INTAKE_SKILLS_MAX + 1];
    Jobmatch__V1__SkillRequirement opt[INTAKE_SKILLS_MAX + 1];
    Jobmatch__V1__SkillRequirement *ess_p[INTAKE_SKILLS_MAX + 1];
    Jobmatch__V1__SkillRequirement *opt_p[INTAKE_SKILLS_MAX + 1];
    char uris[2 * (INTAKE_SKILLS_MAX + 1)][80];
    Jobmatch__V1__LanguageRequirement lang[INTAKE_LANGUAGES_MAX + 1];
    Jobmatch__V1__LanguageRequirement *lang_p[INTAKE_LANGUAGES_MAX + 1];
    char lang_codes[INTAKE_LANGUAGES_MAX + 1][3];
    Jobmatch__V1__Licence licences[INTAKE_LICENCES_MAX + 1];
    Jobmatch__V1__CandidateOutcome cand;
    Jobmatch__V1__CandidateOutcome *cand_p[1];
    char big[INTAKE_DESCRIPTION_MAX + 2];
};

void sample_init(struct sample *s);

/* The rules of today (the frozen clock), with ESCO. */
intake_rules sample_rules(void);

/* cmocka group setup/teardown: load ESCO, freeze the clock. */
int sample_group_setup(void **state);
int sample_group_teardown(void **state);

/* err has code at path, or the test fails with what it has instead. */
void expect_error(const jm_error *err, int code, const char *path);

#endif
