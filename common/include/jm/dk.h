/* dk.h - Danish and ESCO reference data and the checks built on it.
 *
 * The tables (98 municipalities, 1,109 postcodes, 1,106 of them with
 * coordinates, the target-group code lists) are compiled in from data/ at
 * build time, so a service never needs a data file at run time. Sources and
 * licences are in data/README.md (DAWA, GeoNames CC BY 4.0). */
#ifndef JM_DK_H
#define JM_DK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jm_dk_municipality {
    const char *code; /* "101" */
    const char *name; /* "København" */
    const char *region;
    double latitude, longitude; /* rough centre (median of its postcodes) */
} jm_dk_municipality;

typedef struct jm_dk_postcode {
    const char *code;              /* "2100" */
    const char *name;              /* "København Ø" */
    const char *municipality_code; /* the main municipality */
    /* 0, 0 when unknown: 1431 and 1566 (not in GeoNames) and 0999 (its
     * GeoNames point lies in Skagen; see data/README.md). */
    double latitude, longitude;
    bool has_coordinates;
} jm_dk_postcode;

/* Look-ups; NULL when unknown. Results are static. */
const jm_dk_municipality *jm_dk_municipality_find(const char *code);
const jm_dk_postcode *jm_dk_postcode_find(const char *code);
size_t jm_dk_municipality_count(void);
const jm_dk_municipality *jm_dk_municipality_at(size_t index);
/* The index of m (a result of the look-ups above) in the table that
 * jm_dk_municipality_at walks: per-municipality arrays use it. */
size_t jm_dk_municipality_index(const jm_dk_municipality *m);
size_t jm_dk_postcode_count(void);
const jm_dk_postcode *jm_dk_postcode_at(size_t index);

/* CVR: 8 digits, first not 0, weights 2,7,6,5,4,3,2,1 sum to 0 mod 11. */
bool jm_dk_cvr_valid(const char *cvr);

/* P-number: 10 digits. */
bool jm_dk_pnumber_valid(const char *pnumber);

/* CPR: "DDMMYYSSSS" or "DDMMYY-SSSS" with a real birth date (century from
 * the 7th digit, as the CPR office defines it). No modulus-11 check: CPR
 * numbers without it have been issued since 2007. Writes the 10 digits
 * into normalized (11 bytes) and returns 0, or -EINVAL. */
int jm_dk_cpr_normalize(const char *cpr, char normalized[11]);

/* Great-circle distance in kilometres. */
double jm_geo_distance_km(double lat1, double lon1, double lat2, double lon2);

/* True for a plausible point in or near Denmark (54-58 N, 8-15.5 E). */
bool jm_geo_in_denmark(double latitude, double longitude);

/* ESCO URIs: "http://data.europa.eu/esco/skill/" or ".../occupation/"
 * followed by a lower-case UUID (8-4-4-4-12 hex). */
bool jm_esco_skill_uri_valid(const char *uri);
bool jm_esco_occupation_uri_valid(const char *uri);

/* ---- target groups: a versioned code list (data/target_groups.csv) ---- */

typedef struct jm_dk_target_group {
    const char *list;  /* list version, e.g. "2025" */
    const char *code;  /* "jobparat" */
    const char *label; /* Danish label */
    /* Bit (1 << JobKind) for every job kind the group may be matched to. */
    uint32_t job_kinds;
} jm_dk_target_group;

/* The list version used when a profile names none. */
const char *jm_dk_target_group_default_list(void);

/* NULL when the code is not in that list version (list NULL: default). */
const jm_dk_target_group *jm_dk_target_group_find(const char *list,
                                                  const char *code);
size_t jm_dk_target_group_count(void);
const jm_dk_target_group *jm_dk_target_group_at(size_t index);

#endif
