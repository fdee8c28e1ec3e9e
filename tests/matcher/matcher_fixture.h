/* matcher_fixture.h - building citizens and job orders for the matcher's
 * tests: protobuf messages with sensible defaults (a jobparat citizen in
 * Glostrup, 2600, who matches an ordinary 37-hour order there), changed
 * field by field, then turned into compact records and put in an index
 * with an in-memory dictionary. */
#ifndef MATCHER_FIXTURE_H
#define MATCHER_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "jm/esco.h"
#include "matcher_index.h"
#include "matcher_record.h"

#define FX_MAX 64

/* Real ESCO URIs (docs/examples): warehouse skills and occupations. */
#define FX_SKILL(uuid)       "http://data.europa.eu/esco/skill/" uuid
#define FX_OCC(uuid)         "http://data.europa.eu/esco/occupation/" uuid
#define FX_OPERATE_WAREHOUSE FX_SKILL("078861f5-b901-48a5-951e-a3ad0a4fa0bd")
#define FX_RECEIVE_GOODS     FX_SKILL("2cae39d6-78c2-4ce3-bee8-628504371463")
#define FX_STACK_GOODS       FX_SKILL("3d086228-d7fc-4c23-972a-22b7d44a6173")
#define FX_PICK_ORDERS       FX_SKILL("ee5e2297-39cc-4ed6-89e5-d58016118a7f")
#define FX_FORKLIFT          FX_SKILL("28cb374e-6261-4133-8371-f9a5470145da")
#define FX_BARCODE           FX_SKILL("fd79b3c4-e264-41b5-bada-49ba5f317588")
#define FX_WMS               FX_SKILL("7c821387-b428-4f75-b5a7-7b038aa81cfd")
#define FX_WAREHOUSE_WORKER  FX_OCC("bea705fe-06ac-4147-b8e0-6e8ac1208d8f")
#define FX_MATERIALS_HANDLER FX_OCC("808becc8-5a4e-4e71-a043-c2ea32b56ae3")
#define FX_FORKLIFT_OPERATOR FX_OCC("eeac6251-1974-42f5-91ed-513c6c883755")

typedef struct fx_profile {
    Jobmatch__V1__CitizenProfile p;
    Jobmatch__V1__Location home;
    Jobmatch__V1__Consent consent;
    Jobmatch__V1__SkillLevel skill[FX_MAX];
    Jobmatch__V1__SkillLevel *skillp[FX_MAX];
    char *wished[8], *held[8];
    Jobmatch__V1__LanguageSkill lang[8];
    Jobmatch__V1__LanguageSkill *langp[8];
    Jobmatch__V1__Licence licences[10];
    Jobmatch__V1__JobKind kinds[8];
    Jobmatch__V1__ProgressMeasurement progress[6];
    Jobmatch__V1__ProgressMeasurement *progressp[6];
    char id[72];
    char uris[FX_MAX + 16][96]; /* storage for generated URIs */
    unsigned nuris;
} fx_profile;

typedef struct fx_order {
    Jobmatch__V1__JobOrder o;
    Jobmatch__V1__Location workplace;
    Jobmatch__V1__SkillRequirement ess[FX_MAX], opt[FX_MAX];
    Jobmatch__V1__SkillRequirement *essp[FX_MAX], *optp[FX_MAX];
    Jobmatch__V1__LanguageRequirement lang[8];
    Jobmatch__V1__LanguageRequirement *langp[8];
    Jobmatch__V1__Licence licences[10];
    char id[72];
    char uris[2 * FX_MAX + 4][96];
    unsigned nuris;
} fx_order;

/* Defaults: home 2600 Glostrup (161), range 25 km, 37 hours, available
 * now, target group jobparat (2025), kinds [ORDINARY], no consent. */
void fx_profile_init(fx_profile *f, const char *id);
void fx_profile_skill(fx_profile *f, const char *uri, unsigned level,
                      unsigned year);
void fx_profile_occupation(fx_profile *f, const char *uri, bool held);
void fx_profile_language(fx_profile *f, const char *code, unsigned level);
void fx_profile_licence(fx_profile *f, Jobmatch__V1__Licence licence);
void fx_profile_kind(fx_profile *f, Jobmatch__V1__JobKind kind);
void fx_profile_progress(fx_profile *f, unsigned score);
void fx_profile_home(fx_profile *f, const char *postcode, const char *muni,
                     double lat, double lon);

/* Defaults: ordinary job, 37 hours, 1 position, workplace 2600 Glostrup,
 * owner 161, occupation warehouse worker (ISCO 9333), no start. */
void fx_order_init(fx_order *f, const char *id);
void fx_order_skill(fx_order *f, const char *uri, unsigned min_level,
                    bool essential);
void fx_order_language(fx_order *f, const char *code, unsigned level);
void fx_order_licence(fx_order *f, Jobmatch__V1__Licence licence);
void fx_order_workplace(fx_order *f, const char *postcode, const char *muni,
                        double lat, double lon);

/* A stored URI "http://data.europa.eu/esco/skill/<n as a uuid>". */
const char *fx_skill_uri(char *buf, size_t size, unsigned n);

/* Records and index: ESCO is loaded once per process (for ISCO groups). */
const jm_esco_t *fx_esco(void);
void fx_esco_release(void);
uint32_t fx_put_profile(matcher_index_t *ix, const fx_profile *f);
uint32_t fx_put_order(matcher_index_t *ix, const fx_order *f);
/* The order in slot (asserts it exists). */
const matcher_order *fx_order_at(const matcher_index_t *ix, uint32_t slot);

/* Intern function for matcher_encoder over an index's dictionary. */
int fx_intern(void *arg, const char *uri, uint16_t *id);

#endif
