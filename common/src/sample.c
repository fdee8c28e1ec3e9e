/* sample.c - the sample-data generator: PRNG, tables built from the
 * reference data, the draws citizens and orders share, and citizens.
 * Orders and companies are in sample_order.c.
 *
 * Reproducibility rules (see sample.h): every draw goes through
 * jm_sample_rng; item i of a stream is seeded from (seed, stream, i) only;
 * weights are integers; tables are built in a fixed order from the
 * compiled-in Danish tables and the ESCO table's index order. The one
 * floating-point step is the Zipf weight for exponents other than 1. */
#include "jm/sample.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/mem.h"
#include "sample_internal.h"

/* ---- PRNG: splitmix64 seeds xoshiro256** (Blackman and Vigna) ---- */

uint64_t
jm_sample_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void
jm_sample_rng_seed(jm_sample_rng *rng, uint64_t seed)
{
    /* Consecutive splitmix64 outputs; they cannot all be zero. */
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        rng->s[i] = jm_sample_mix(seed - 0x9e3779b97f4a7c15ULL);
    }
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
jm_sample_rng_next(jm_sample_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t
jm_sample_rng_below(jm_sample_rng *rng, uint64_t n)
{
    /* Reject the top partial interval so that x % n is uniform: the
     * threshold is 2^64 mod n. */
    uint64_t threshold, x;

    JM_ASSERT(n > 0); /* before the division below */
    threshold = (0 - n) % n;
    do {
        x = jm_sample_rng_next(rng);
    } while (x < threshold);
    return x % n;
}

int64_t
jm_sample_rng_range(jm_sample_rng *rng, int64_t lo, int64_t hi)
{
    JM_ASSERT(lo <= hi);
    return lo + (int64_t) jm_sample_rng_below(rng, (uint64_t) (hi - lo) + 1);
}

bool
jm_sample_rng_percent(jm_sample_rng *rng, unsigned percent)
{
    return jm_sample_rng_below(rng, 100) < percent;
}

void
sample_item_rng(const struct jm_sample *sample, int stream, uint64_t index,
                jm_sample_rng *rng)
{
    uint64_t h = jm_sample_mix(sample->seed ^ jm_sample_mix((uint64_t) stream));

    jm_sample_rng_seed(rng, jm_sample_mix(h + index));
}

size_t
sample_weighted(jm_sample_rng *rng, const unsigned *weights, size_t count)
{
    uint64_t total = 0, r;

    for (size_t i = 0; i < count; i++)
        total += weights[i];
    JM_ASSERT(total > 0);
    r = jm_sample_rng_below(rng, total);
    for (size_t i = 0; i < count; i++) {
        if (r < weights[i])
            return i;
        r -= weights[i];
    }
    return count - 1; /* not reached */
}

void
sample_pick(jm_sample_rng *rng, const uint32_t *from, size_t n, size_t count,
            uint32_t *out)
{
    uint32_t *copy;

    JM_ASSERT(count <= n);
    if (count == 0) /* from may then be no array at all */
        return;
    copy = jm_xmalloc(n * sizeof(*copy));
    memcpy(copy, from, n * sizeof(*copy));
    /* A partial Fisher-Yates shuffle: the first count slots. */
    for (size_t i = 0; i < count; i++) {
        size_t j = i + (size_t) jm_sample_rng_below(rng, n - i);
        uint32_t tmp = copy[i];

        copy[i] = copy[j];
        copy[j] = tmp;
        out[i] = copy[i];
    }
    free(copy);
}

bool
sample_contains(const uint32_t *list, size_t count, uint32_t value)
{
    for (size_t i = 0; i < count; i++) {
        if (list[i] == value)
            return true;
    }
    return false;
}

/* ---- the arena ---- */

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
};

struct jm_sample_arena {
    struct arena_block *head;
};

#define ARENA_BLOCK 4096 /* a citizen of ~25 skills takes about 3 KiB */

struct jm_sample_arena *
sample_arena_new(void)
{
    return jm_xcalloc(1, sizeof(struct jm_sample_arena));
}

void
sample_arena_free(struct jm_sample_arena *arena)
{
    struct arena_block *b, *next;

    if (arena == NULL)
        return;
    for (b = arena->head; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(arena);
}

void *
sample_alloc(struct jm_sample_arena *arena, size_t size)
{
    const size_t align = sizeof(max_align_t);
    struct arena_block *b = arena->head;
    void *p;

    size = (size + align - 1) / align * align;
    if (b == NULL || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;

        b = jm_xmalloc(sizeof(*b) + cap);
        b->size = cap;
        b->used = 0;
        b->next = arena->head;
        arena->head = b;
    }
    p = (char *) b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *
sample_printf(struct jm_sample_arena *arena, const char *fmt, ...)
{
    va_list ap;
    int len;
    char *s;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    JM_ASSERT(len >= 0);
    s = sample_alloc(arena, (size_t) len + 1);
    va_start(ap, fmt);
    (void) vsnprintf(s, (size_t) len + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- names (common Danish names: public knowledge, not real people) ---- */

static const char *const female_names[] = {
    "Anne",      "Kirsten", "Mette",     "Hanne",    "Anna",     "Helle",
    "Susanne",   "Lene",    "Maria",     "Marianne", "Inge",     "Karen",
    "Camilla",   "Louise",  "Charlotte", "Pia",      "Lone",     "Julie",
    "Sofie",     "Ida",     "Emma",      "Laura",    "Cecilie",  "Mathilde",
    "Caroline",  "Line",    "Katrine",   "Maja",     "Freja",    "Clara",
    "Emilie",    "Sara",    "Signe",     "Tina",     "Birgitte", "Dorthe",
    "Christina", "Nanna",   "Josefine",  "Astrid",   "Bodil",    "Gitte",
};

static const char *const male_names[] = {
    "Peter",   "Michael",   "Lars",     "Jens",   "Thomas", "Henrik",
    "Søren",   "Christian", "Martin",   "Jan",    "Niels",  "Anders",
    "Morten",  "Jesper",    "Mads",     "Rasmus", "Per",    "Hans",
    "Kim",     "Mikkel",    "Frederik", "Jørgen", "Ole",    "Kasper",
    "Nikolaj", "Andreas",   "Jakob",    "Jonas",  "Emil",   "Mathias",
    "Oliver",  "William",   "Lucas",    "Magnus", "Victor", "Tobias",
    "Simon",   "Anton",     "Kristian", "Poul",   "Bent",   "Carsten",
};

static const char *const surnames[] = {
    "Jensen",       "Nielsen",   "Hansen",      "Pedersen",  "Andersen",
    "Christensen",  "Larsen",    "Sørensen",    "Rasmussen", "Jørgensen",
    "Petersen",     "Madsen",    "Kristensen",  "Olsen",     "Thomsen",
    "Christiansen", "Poulsen",   "Johansen",    "Møller",    "Mortensen",
    "Knudsen",      "Jakobsen",  "Jacobsen",    "Mikkelsen", "Olesen",
    "Frederiksen",  "Laursen",   "Henriksen",   "Lund",      "Schmidt",
    "Eriksen",      "Holm",      "Kristiansen", "Clausen",   "Simonsen",
    "Svendsen",     "Andreasen", "Iversen",     "Jeppesen",  "Vestergaard",
    "Mogensen",     "Nissen",    "Lauridsen",   "Jespersen", "Frandsen",
    "Østergaard",   "Kjær",      "Dam",         "Berg",      "Bech",
};

const char *
sample_first_name(jm_sample_rng *rng, bool female)
{
    if (female)
        return female_names[jm_sample_rng_below(rng, JM_COUNTOF(female_names))];
    return male_names[jm_sample_rng_below(rng, JM_COUNTOF(male_names))];
}

const char *
sample_surname(jm_sample_rng *rng)
{
    return surnames[jm_sample_rng_below(rng, JM_COUNTOF(surnames))];
}

/* Lower-case ASCII for an e-mail local part: æ ae, ø oe, å aa; other
 * non-ASCII letters dropped. */
void
sample_ascii_fold(const char *in, char *out, size_t size)
{
    static const struct {
        const char *utf8, *ascii;
    } folds[] = {{"æ", "ae"}, {"ø", "oe"}, {"å", "aa"}, {"Æ", "ae"},
                 {"Ø", "oe"}, {"Å", "aa"}, {"é", "e"},  {"ü", "u"}};

    size_t n = 0;

    while (*in && n + 3 < size) {
        unsigned char c = (unsigned char) *in;
        size_t i;

        if (c < 0x80) {
            out[n++] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
            in++;
            continue;
        }
        for (i = 0; i < JM_COUNTOF(folds); i++) {
            size_t len = strlen(folds[i].utf8);

            if (strncmp(in, folds[i].utf8, len) == 0) {
                n += (size_t) snprintf(out + n, size - n, "%s", folds[i].ascii);
                in += len;
                break;
            }
        }
        if (i == JM_COUNTOF(folds)) { /* skip one whole code point */
            in++;
            while (((unsigned char) *in & 0xC0) == 0x80)
                in++;
        }
    }
    out[n] = '\0';
}

/* Bytes of the first UTF-8 code point of s ("Ø" is two). */
static size_t
code_point_len(const char *s)
{
    size_t n = 1;

    while (n < 4 && ((unsigned char) s[n] & 0xC0) == 0x80)
        n++;
    return n;
}

char *
sample_staff(const struct jm_sample *sample, struct jm_sample_arena *arena,
             jm_sample_rng *rng, int kind, const char *municipality_code,
             char initials[9])
{
    const jm_dk_municipality *m = jm_dk_municipality_find(municipality_code);
    uint64_t member = jm_sample_rng_below(rng, 5);
    jm_sample_rng who;
    const char *first, *last;

    /* Five staff members per jobcentre and kind, fixed by the seed: the
     * same caseworker appears on many citizens, as in real life. */
    sample_item_rng(sample, STREAM_STAFF,
                    ((uint64_t) kind << 40) ^
                        ((uint64_t) strtoul(municipality_code, NULL, 10) << 8) ^
                        member,
                    &who);
    first = sample_first_name(&who, jm_sample_rng_percent(&who, 60));
    last = sample_surname(&who);
    if (initials != NULL) {
        size_t a = code_point_len(first), b = code_point_len(last);

        memcpy(initials, first, a);
        memcpy(initials + a, last, b);
        initials[a + b] = '\0';
    }
    return sample_printf(arena, "%s %s, Jobcenter %s", first, last,
                         m != NULL ? m->name : municipality_code);
}

/* ---- places ---- */

Jobmatch__V1__Location *
sample_location(struct jm_sample_arena *arena, const jm_dk_postcode *postcode)
{
    Jobmatch__V1__Location *loc = sample_alloc(arena, sizeof(*loc));

    jobmatch__v1__location__init(loc);
    /* Borrowed from the compiled-in tables (see sample.h, Ownership). */
    loc->postcode = (char *) postcode->code;
    loc->municipality_code = (char *) postcode->municipality_code;
    loc->latitude = postcode->latitude;
    loc->longitude = postcode->longitude;
    return loc;
}

const jm_dk_postcode *
sample_postcode(const struct jm_sample *sample, jm_sample_rng *rng)
{
    const struct sample_town *town =
        &sample->towns[jm_sample_rng_below(rng, sample->town_count)];

    return jm_dk_postcode_at(
        sample->postcodes[town->first + jm_sample_rng_below(rng, town->count)]);
}

uint32_t
sample_occupation(const struct jm_sample *sample, jm_sample_rng *rng)
{
    return sample->pool[jm_sample_rng_below(rng, sample->pool_count)];
}

uint32_t
sample_zipf_skill(const struct jm_sample *sample, jm_sample_rng *rng)
{
    uint64_t r =
        jm_sample_rng_below(rng, sample->zipf_cum[sample->zipf_count - 1]);
    size_t lo = 0, hi = sample->zipf_count - 1;

    /* The first rank whose cumulative weight exceeds r. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sample->zipf_cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return sample->zipf_skill[lo];
}

bool
sample_is_logistics(const char *isco)
{
    static const char *const groups[] = {"4321", "8344", "9333",
                                         "9321", "9329", "9334"};

    for (size_t i = 0; i < JM_COUNTOF(groups); i++) {
        if (strcmp(isco, groups[i]) == 0)
            return true;
    }
    return false;
}

/* ---- the generator ---- */

/* ISCO-08 unit groups that are common in Danish jobcentre orders (the
 * author's judgement from public job boards: care, cleaning, retail,
 * kitchens, warehouses, transport, building trades, offices, IT). A pool
 * favours them, so that small demo data looks like a jobcentre's. */
static const char *const common_isco[] = {
    "2221", "2341", "2411", "2512", "3313", "3322", "3341", "4110",
    "4222", "4311", "4321", "5120", "5131", "5141", "5153", "5223",
    "5230", "5311", "5321", "5322", "5414", "6121", "7112", "7115",
    "7126", "7131", "7212", "7231", "7411", "7512", "7522", "8160",
    "8219", "8322", "8331", "8332", "8344", "9111", "9112", "9211",
    "9214", "9313", "9321", "9329", "9333", "9412",
};

#define MIN_ESSENTIAL 5 /* an order asks for 5-15 essential skills */

static bool
is_common_isco(const char *isco)
{
    for (size_t i = 0; i < JM_COUNTOF(common_isco); i++) {
        if (strcmp(isco, common_isco[i]) == 0)
            return true;
    }
    return false;
}

struct isco_entry {
    const char *isco;
    uint32_t occupation;
};

static int
compare_isco(const void *a, const void *b)
{
    const struct isco_entry *x = a, *y = b;
    int c = strcmp(x->isco, y->isco);

    return c != 0 ? c
                  : (x->occupation > y->occupation) -
                        (x->occupation < y->occupation);
}

static int
compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}

static int
compare_postcode_name(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    int c = strcmp(jm_dk_postcode_at(x)->name, jm_dk_postcode_at(y)->name);

    return c != 0 ? c : (x > y) - (x < y);
}

/* The occupation pool (see jm_sample_opts.occupation_pool). */
static uint64_t
sample_weighted_total(const unsigned *weights, size_t count)
{
    uint64_t total = 0;

    for (size_t i = 0; i < count; i++)
        total += weights[i];
    return total;
}

static int
build_pool(struct jm_sample *self, size_t wanted, bool whole_groups)
{
    size_t n = jm_esco_occupation_count(self->esco), eligible = 0;
    unsigned *weight = jm_xcalloc(n, sizeof(*weight));
    const uint32_t *ess;
    jm_sample_rng rng;

    for (size_t o = 0; o < n; o++) {
        /* Armed forces occupations (ISCO major group 0) are not placed
         * through jobcentre orders. */
        if (jm_esco_occupation_essential(self->esco, o, &ess) >=
                MIN_ESSENTIAL &&
            jm_esco_occupation_isco(self->esco, o)[0] != '0') {
            weight[o] = 1;
            eligible++;
        }
    }
    if (wanted > eligible) {
        free(weight);
        return -EINVAL;
    }
    self->pool = jm_xcalloc(eligible, sizeof(uint32_t));
    if (wanted == 0) {
        for (size_t o = 0; o < n; o++) {
            if (weight[o] != 0)
                self->pool[self->pool_count++] = (uint32_t) o;
        }
        free(weight);
        return 0;
    }
    /* Common groups share a weight of 60 among their eligible members,
     * so a group with many ESCO occupations (44 kinds of shop assistant)
     * does not crowd out the rest; every other occupation weighs 1. */
    for (size_t i = 0; i < n; i++) {
        const uint32_t *first = self->by_isco + i;
        const char *isco = jm_esco_occupation_isco(self->esco, *first);
        size_t run = 0, members = 0;

        while (i + run < n &&
               strcmp(jm_esco_occupation_isco(self->esco, first[run]), isco) ==
                   0) {
            members += weight[first[run]] != 0;
            run++;
        }
        for (size_t k = 0; k < run; k++) {
            if (weight[first[k]] != 0 && is_common_isco(isco))
                weight[first[k]] = members < 60 ? 60 / (unsigned) members : 1;
        }
        i += run - 1;
    }
    sample_item_rng(self, STREAM_POOL, 0, &rng);
    while (self->pool_count < wanted) { /* without replacement */
        size_t o = sample_weighted(&rng, weight, n);
        const char *isco = jm_esco_occupation_isco(self->esco, o);

        self->pool[self->pool_count++] = (uint32_t) o;
        weight[o] = 0;
        /* Whole groups: the rest of o's ISCO unit group comes along (its
         * eligible members), so that the pool holds close neighbours. */
        for (size_t i = 0; whole_groups && i < n; i++) {
            uint32_t other = self->by_isco[i];

            if (weight[other] != 0 &&
                strcmp(jm_esco_occupation_isco(self->esco, other), isco) == 0) {
                self->pool[self->pool_count++] = other;
                weight[other] = 0;
            }
        }
        if (sample_weighted_total(weight, n) == 0)
            break; /* every eligible occupation is in */
    }
    qsort(self->pool, self->pool_count, sizeof(uint32_t), compare_u32);
    free(weight);
    return 0;
}

/* Postcodes with coordinates in the chosen municipalities, grouped into
 * towns by name. */
static int
build_places(struct jm_sample *self, const jm_sample_opts *opts)
{
    size_t n = jm_dk_postcode_count(), count = 0;

    for (size_t i = 0; i < opts->municipality_count; i++) {
        if (jm_dk_municipality_find(opts->municipalities[i]) == NULL)
            return -EINVAL;
    }
    self->postcodes = jm_xcalloc(n, sizeof(uint32_t));
    for (size_t p = 0; p < n; p++) {
        const jm_dk_postcode *pc = jm_dk_postcode_at(p);
        bool wanted = opts->municipality_count == 0;

        for (size_t i = 0; i < opts->municipality_count && !wanted; i++)
            wanted =
                strcmp(pc->municipality_code, opts->municipalities[i]) == 0;
        if (wanted && pc->has_coordinates)
            self->postcodes[count++] = (uint32_t) p;
    }
    /* Every municipality is some postcode's main one (checked in the
     * tests), so a valid list never leaves this empty. */
    JM_ASSERT(count > 0);
    qsort(self->postcodes, count, sizeof(uint32_t), compare_postcode_name);
    self->towns = jm_xcalloc(count, sizeof(*self->towns));
    for (size_t i = 0; i < count; i++) {
        struct sample_town *t = &self->towns[self->town_count];

        if (i > 0 &&
            strcmp(jm_dk_postcode_at(self->postcodes[i])->name,
                   jm_dk_postcode_at(self->postcodes[i - 1])->name) == 0) {
            self->towns[self->town_count - 1].count++;
            continue;
        }
        t->first = (uint32_t) i;
        t->count = 1;
        self->town_count++;
    }
    return 0;
}

static void
build_zipf(struct jm_sample *self, double exponent)
{
    size_t n = jm_esco_skill_count(self->esco);
    jm_sample_rng rng;
    uint64_t sum = 0;

    self->zipf_count = n;
    self->zipf_skill = jm_xmalloc(n * sizeof(uint32_t));
    self->zipf_cum = jm_xmalloc(n * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++)
        self->zipf_skill[i] = (uint32_t) i;
    /* Which skill is most popular is part of the seed's choice. */
    sample_item_rng(self, STREAM_ZIPF, 0, &rng);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t) jm_sample_rng_below(&rng, i + 1);
        uint32_t tmp = self->zipf_skill[i];

        self->zipf_skill[i] = self->zipf_skill[j];
        self->zipf_skill[j] = tmp;
    }
    /* Integer weights 2^40 / k^s: exact integer division for s = 1. */
    for (size_t k = 1; k <= n; k++) {
        uint64_t w =
            exponent == 1.0
                ? (UINT64_C(1) << 40) / k
                : (uint64_t) (1099511627776.0 / pow((double) k, exponent));

        sum += w > 0 ? w : 1;
        self->zipf_cum[k - 1] = sum;
    }
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;

        a = b;
        b = t;
    }
    return a;
}

/* Birth dates 18 to 66 years before today, 4,000 serials per date (the
 * ones whose 7th digit gives the right century): an affine map with a
 * multiplier coprime to the space is a bijection on it. */
static void
build_cpr(struct jm_sample *self)
{
    int32_t last = self->today - 6575; /* 18 years */
    jm_sample_rng rng;

    self->birth_first = self->today - 24107; /* 66 years */
    self->cpr_space = (uint64_t) (last - self->birth_first + 1) * 4000;
    JM_ASSERT(self->cpr_space >= JM_SAMPLE_CPR_SPACE);
    sample_item_rng(self, STREAM_CPR, 0, &rng);
    self->cpr_a = 1 + jm_sample_rng_below(&rng, self->cpr_space - 1);
    while (gcd(self->cpr_a, self->cpr_space) != 1)
        self->cpr_a++;
    self->cpr_b = jm_sample_rng_below(&rng, self->cpr_space);
}

int
jm_sample_new(jm_sample_t **sample_p, const jm_esco_t *esco,
              const jm_sample_opts *opts)
{
    struct jm_sample *self = NULL;
    struct isco_entry *entries;
    double exponent = opts->zipf_exponent == 0 ? 1.0 : opts->zipf_exponent;
    char date[16];
    int rc;

    JM_ASSERT(sample_p != NULL && esco != NULL && opts != NULL);
    if (!(exponent > 0 && exponent < 10))
        return -EINVAL;
    self = jm_xcalloc(1, sizeof(*self));
    self->esco = esco;
    self->seed = opts->seed;
    self->skills = opts->skills;
    self->today = opts->today != 0 ? opts->today : jm_clock_today();
    jm_date_format(self->today, date, sizeof(date));
    self->today_year = atoi(date);
    self->occupation_count = jm_esco_occupation_count(esco);
    entries = jm_xmalloc(self->occupation_count * sizeof(*entries));
    for (size_t o = 0; o < self->occupation_count; o++) {
        entries[o].isco = jm_esco_occupation_isco(esco, o);
        entries[o].occupation = (uint32_t) o;
    }
    qsort(entries, self->occupation_count, sizeof(*entries), compare_isco);
    self->by_isco = jm_xmalloc(self->occupation_count * sizeof(uint32_t));
    for (size_t o = 0; o < self->occupation_count; o++)
        self->by_isco[o] = entries[o].occupation;
    free(entries);
    if ((rc = build_places(self, opts)) != 0 ||
        (rc = build_pool(self, opts->occupation_pool, opts->whole_groups)) != 0)
        goto fail;
    build_zipf(self, exponent);
    build_cpr(self);
    *sample_p = self;
    return 0;

fail:
    jm_sample_destroy(&self);
    return rc;
}

void
jm_sample_destroy(jm_sample_t **sample_p)
{
    struct jm_sample *self = *sample_p;

    if (self == NULL)
        return;
    free(self->pool);
    free(self->by_isco);
    free(self->postcodes);
    free(self->towns);
    free(self->zipf_skill);
    free(self->zipf_cum);
    free(self);
    *sample_p = NULL;
}

size_t
jm_sample_occupations(const jm_sample_t *sample, const uint32_t **occupations)
{
    *occupations = sample->pool;
    return sample->pool_count;
}

uint32_t
sample_related_occupation(const struct jm_sample *sample, uint32_t occupation,
                          jm_sample_rng *rng)
{
    const char *isco = jm_esco_occupation_isco(sample->esco, occupation);
    size_t lo = 0, hi = sample->occupation_count, first, count = 0;

    /* The first occupation of the same ISCO group, then the run. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(jm_esco_occupation_isco(sample->esco, sample->by_isco[mid]),
                   isco) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    first = lo;
    while (first + count < sample->occupation_count &&
           strcmp(jm_esco_occupation_isco(sample->esco,
                                          sample->by_isco[first + count]),
                  isco) == 0)
        count++;
    return sample->by_isco[first + jm_sample_rng_below(rng, count)];
}
