/* dk.c - Danish reference data and identifier checks.
 *
 * The tables come from data/ through cmake/EmbedData.cmake, sorted by code;
 * look-ups index them by the codes' numeric value. Everything here is a pure
 * function of its arguments and the compiled-in tables (plus "today" for CPR
 * dates), so any service may call it from the loop thread without I/O.
 *
 * The identifier rules are the public ones: CVR's modulus-11 check (the
 * Danish Business Authority), the CPR office's century table for the 7th
 * digit, and the ESCO URI scheme (a fixed prefix and a UUID). */
#include "jm/dk.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dk_tables.h"
#include "jm/clock.h"
#include "jm/mem.h"

#define EARTH_RADIUS_KM 6371.0088 /* IUGG mean radius */
/* M_PI is an XSI extension, not visible under plain _POSIX_C_SOURCE. */
#define PI 3.14159265358979323846

#define ESCO_SKILL_PREFIX      "http://data.europa.eu/esco/skill/"
#define ESCO_OCCUPATION_PREFIX "http://data.europa.eu/esco/occupation/"

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when s is exactly n ASCII digits. */
static bool
all_digits(const char *s, size_t n)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
    }
    return s[n] == '\0';
}

/* Codes are fixed-width digit strings: their numeric value indexes the
 * tables directly (a look-up was two binary searches of strcmp, about 3 %
 * of intake's loop thread per order). Built once, on first use, from the
 * compiled-in tables; any thread may look up. */
#define NO_ENTRY UINT16_MAX

static uint16_t municipality_by_code[1000];
static uint16_t postcode_by_code[10000];
static pthread_once_t code_index_once = PTHREAD_ONCE_INIT;

static unsigned
digits_value(const char *s, size_t n)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned) (s[i] - '0');
    return v;
}

static void
build_code_index(void)
{
    for (size_t i = 0; i < JM_COUNTOF(municipality_by_code); i++)
        municipality_by_code[i] = NO_ENTRY;
    for (size_t i = 0; i < JM_COUNTOF(postcode_by_code); i++)
        postcode_by_code[i] = NO_ENTRY;
    /* The tables' codes are checked when they are embedded; a malformed
     * one here would be a build defect, and is simply not found. */
    for (size_t i = 0; i < jm__dk_municipality_count; i++)
        if (all_digits(jm__dk_municipalities[i].code, 3))
            municipality_by_code[digits_value(jm__dk_municipalities[i].code,
                                              3)] = (uint16_t) i;
    for (size_t i = 0; i < jm__dk_postcode_count; i++)
        if (all_digits(jm__dk_postcodes[i].code, 4))
            postcode_by_code[digits_value(jm__dk_postcodes[i].code, 4)] =
                (uint16_t) i;
}

const jm_dk_municipality *
jm_dk_municipality_find(const char *code)
{
    unsigned at;

    /* The width check comes first: "0101" or "10" must not match, and it
     * refuses NULL and junk cheaply. */
    if (!all_digits(code, 3))
        return NULL;
    pthread_once(&code_index_once, build_code_index);
    at = municipality_by_code[digits_value(code, 3)];
    return at == NO_ENTRY ? NULL : &jm__dk_municipalities[at];
}

const jm_dk_postcode *
jm_dk_postcode_find(const char *code)
{
    unsigned at;

    if (!all_digits(code, 4))
        return NULL;
    pthread_once(&code_index_once, build_code_index);
    at = postcode_by_code[digits_value(code, 4)];
    return at == NO_ENTRY ? NULL : &jm__dk_postcodes[at];
}

size_t
jm_dk_municipality_count(void)
{
    return jm__dk_municipality_count;
}

const jm_dk_municipality *
jm_dk_municipality_at(size_t index)
{
    return index < jm__dk_municipality_count ? &jm__dk_municipalities[index]
                                             : NULL;
}

size_t
jm_dk_municipality_index(const jm_dk_municipality *m)
{
    JM_ASSERT(m >= jm__dk_municipalities &&
              m < jm__dk_municipalities + jm__dk_municipality_count);
    return (size_t) (m - jm__dk_municipalities);
}

size_t
jm_dk_postcode_count(void)
{
    return jm__dk_postcode_count;
}

const jm_dk_postcode *
jm_dk_postcode_at(size_t index)
{
    return index < jm__dk_postcode_count ? &jm__dk_postcodes[index] : NULL;
}

bool
jm_dk_cvr_valid(const char *cvr)
{
    static const int weights[8] = {2, 7, 6, 5, 4, 3, 2, 1};
    int sum = 0;

    if (!all_digits(cvr, 8) || cvr[0] == '0')
        return false;
    for (int i = 0; i < 8; i++)
        sum += weights[i] * (cvr[i] - '0');
    return sum % 11 == 0;
}

bool
jm_dk_pnumber_valid(const char *pnumber)
{
    return all_digits(pnumber, 10);
}

/* The CPR office's table: the 7th digit (first of the serial number) and
 * the two-digit year give the century. 0 means "no living citizen can have
 * this number" (born in the 1800s), which we treat as invalid. */
static int
cpr_century(int seventh, int yy)
{
    if (seventh <= 3)
        return 1900;
    if (seventh == 4 || seventh == 9)
        return yy <= 36 ? 2000 : 1900;
    return yy <= 57 ? 2000 : 0; /* 5-8; 1800s otherwise */
}

int
jm_dk_cpr_normalize(const char *cpr, char normalized[11])
{
    char digits[11];
    int day, month, yy, century;
    size_t len;

    if (cpr == NULL)
        return -EINVAL;
    len = strlen(cpr);
    if (len == 11 && cpr[6] == '-') {
        memcpy(digits, cpr, 6);
        memcpy(digits + 6, cpr + 7, 4);
    } else if (len == 10) {
        memcpy(digits, cpr, 10);
    } else {
        return -EINVAL;
    }
    digits[10] = '\0';
    if (!all_digits(digits, 10))
        return -EINVAL;

    day = (digits[0] - '0') * 10 + (digits[1] - '0');
    month = (digits[2] - '0') * 10 + (digits[3] - '0');
    yy = (digits[4] - '0') * 10 + (digits[5] - '0');
    if ((century = cpr_century(digits[6] - '0', yy)) == 0)
        return -EINVAL;
    if (!jm_date_valid(century + yy, month, day))
        return -EINVAL;
    /* A birth date after today is not a real one (2000s numbers run up to
     * 2036/2057 by the table, well past today). */
    if (jm_days_from_civil(century + yy, month, day) > jm_clock_today())
        return -EINVAL;
    memcpy(normalized, digits, 11);
    return 0;
}

double
jm_geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = PI / 180.0;
    double dlat = (lat2 - lat1) * rad;
    double dlon = (lon2 - lon1) * rad;
    /* Haversine: well conditioned for the short distances that matter
     * here, unlike the spherical law of cosines. */
    double a =
        sin(dlat / 2) * sin(dlat / 2) +
        cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

    /* Rounding can push a a hair past 1 for antipodal points. */
    if (a > 1.0)
        a = 1.0;
    return 2.0 * EARTH_RADIUS_KM * asin(sqrt(a));
}

bool
jm_geo_in_denmark(double latitude, double longitude)
{
    /* Written so that NaN fails every comparison and is refused. */
    return latitude >= 54.0 && latitude <= 58.0 && longitude >= 8.0 &&
           longitude <= 15.5;
}

/* What each character of "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" must be:
 * 'x' a lower-case hex digit, '-' a dash. */
static const char uuid_shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

/* The class of a byte in uuid_shape's terms; 0 for everything else
 * (NUL included, so a short string fails at its end). A table: digits
 * and letters mixed at random made the comparisons' branches mispredict. */
static const char uuid_class[256] = {
    ['0'] = 'x', ['1'] = 'x', ['2'] = 'x', ['3'] = 'x', ['4'] = 'x',
    ['5'] = 'x', ['6'] = 'x', ['7'] = 'x', ['8'] = 'x', ['9'] = 'x',
    ['a'] = 'x', ['b'] = 'x', ['c'] = 'x', ['d'] = 'x', ['e'] = 'x',
    ['f'] = 'x', ['-'] = '-',
};

/* prefix + "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case), nothing
 * after. ESCO publishes lower-case URIs; an upper-case one would be a
 * different string in every index, so it is refused, not folded. On the
 * ingest path for every skill of every order: the prefix is compared
 * with its known length, and the uuid is read once, byte by byte, up to
 * the first byte that does not fit (never past its NUL). */
static bool
esco_uri_valid(const char *uri, const char *prefix, size_t prefix_len)
{
    const unsigned char *uuid;

    if (uri == NULL || strncmp(uri, prefix, prefix_len) != 0)
        return false;
    uuid = (const unsigned char *) uri + prefix_len;
    for (size_t i = 0; i < sizeof(uuid_shape) - 1; i++) {
        if (uuid_class[uuid[i]] != uuid_shape[i])
            return false;
    }
    return uuid[sizeof(uuid_shape) - 1] == '\0';
}

bool
jm_esco_skill_uri_valid(const char *uri)
{
    return esco_uri_valid(uri, ESCO_SKILL_PREFIX,
                          sizeof(ESCO_SKILL_PREFIX) - 1);
}

bool
jm_esco_occupation_uri_valid(const char *uri)
{
    return esco_uri_valid(uri, ESCO_OCCUPATION_PREFIX,
                          sizeof(ESCO_OCCUPATION_PREFIX) - 1);
}

const char *
jm_dk_target_group_default_list(void)
{
    return jm__dk_target_group_default_list;
}

const jm_dk_target_group *
jm_dk_target_group_find(const char *list, const char *code)
{
    if (code == NULL)
        return NULL;
    if (list == NULL)
        list = jm__dk_target_group_default_list;
    /* A score of rows: a linear scan is the simplest correct search. */
    for (size_t i = 0; i < jm__dk_target_group_count; i++) {
        const jm_dk_target_group *g = &jm__dk_target_groups[i];

        if (strcmp(g->list, list) == 0 && strcmp(g->code, code) == 0)
            return g;
    }
    return NULL;
}

size_t
jm_dk_target_group_count(void)
{
    return jm__dk_target_group_count;
}

const jm_dk_target_group *
jm_dk_target_group_at(size_t index)
{
    return index < jm__dk_target_group_count ? &jm__dk_target_groups[index]
                                             : NULL;
}
