/* test_sample.c - the sample generator is reproducible (known answers for
 * the PRNG and a golden hash of generated items, independent of the order
 * items are made in), and everything it makes passes the field rules of
 * docs/protocol.md: identifiers, codes, ranges, counts, dates, skills taken
 * from the right ESCO occupation, homes and workplaces in the requested
 * municipalities, distinct CPR numbers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/esco.h"
#include "jm/msg.h"
#include "jm/sample.h"
#include "jm_test.h"

#define TODAY_TEXT  "2026-03-16"
#define GOLDEN_ESCO 0x467d954878f24b06ULL
#define GOLDEN_ZIPF 0x8e32bc8177ae44bdULL

static int32_t today;

static int
setup(void **state)
{
    jm_esco_t *esco = NULL;

    if (jm_esco_load(&esco, JM_TEST_ESCO_DIR) != 0)
        return -1;
    if (jm_date_parse(TODAY_TEXT, &today) != 0)
        return -1;
    /* CPR birth dates are checked against "today" too. */
    jm_clock_set_fake((int64_t) today * 86400000 + 43200000);
    *state = esco;
    return 0;
}

static int
teardown(void **state)
{
    jm_esco_t *esco = *state;

    jm_esco_destroy(&esco);
    jm_clock_set_fake(0);
    return 0;
}

static jm_sample_t *
make(const jm_esco_t *esco, uint64_t seed, jm_sample_skills skills)
{
    jm_sample_opts opts = {.seed = seed, .skills = skills, .today = today};
    jm_sample_t *sample = NULL;

    assert_int_equal(jm_sample_new(&sample, esco, &opts), 0);
    return sample;
}

static uint64_t
fnv1a(uint64_t h, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t
hash_message(uint64_t h, const ProtobufCMessage *msg)
{
    uint8_t *data;
    size_t size;

    assert_int_equal(jm_msg_pack(msg, &data, &size), 0);
    h = fnv1a(h, data, size);
    free(data);
    return h;
}

static uint64_t
hash_citizen(uint64_t h, const jm_sample_citizen *c)
{
    h = hash_message(h, &c->personal.base);
    h = hash_message(h, &c->profile.base);
    for (size_t i = 0; i < c->progress_count; i++)
        h = hash_message(h, &c->progress[i]->base);
    return h;
}

/* ---- the PRNG ---- */

static void
test_rng_known_answers(void **state)
{
    jm_sample_rng a, b;
    unsigned counts[6] = {0};

    /* splitmix64's first output for state 0 (Vigna's reference code). */
    assert_true(jm_sample_mix(0) == 0xe220a8397b1dcdafULL);
    jm_sample_rng_seed(&a, 12345);
    jm_sample_rng_seed(&b, 12345);
    for (int i = 0; i < 1000; i++)
        assert_true(jm_sample_rng_next(&a) == jm_sample_rng_next(&b));
    jm_sample_rng_seed(&b, 12346);
    assert_true(jm_sample_rng_next(&a) != jm_sample_rng_next(&b));

    /* Uniform below n: each of 6 faces within 5 % of 10,000. */
    for (int i = 0; i < 60000; i++)
        counts[jm_sample_rng_below(&a, 6)]++;
    for (int f = 0; f < 6; f++)
        assert_in_range(counts[f], 9500, 10500);
    for (int i = 0; i < 1000; i++) {
        int64_t v = jm_sample_rng_range(&a, -3, 3);

        assert_true(v >= -3 && v <= 3);
    }
}

/* ---- reproducibility ---- */

static void
test_same_seed_same_data_in_any_order(void **state)
{
    const jm_esco_t *esco = *state;
    jm_sample_t *s1 = make(esco, 7, JM_SAMPLE_SKILLS_ESCO);
    jm_sample_t *s2 = make(esco, 7, JM_SAMPLE_SKILLS_ESCO);
    jm_sample_t *s3 = make(esco, 8, JM_SAMPLE_SKILLS_ESCO);
    uint64_t forward[50], differs = 0;

    for (uint64_t i = 0; i < 50; i++) {
        jm_sample_citizen *c = jm_sample_citizen_new(s1, i);

        forward[i] = hash_citizen(0, c);
        jm_sample_citizen_destroy(&c);
        assert_null(c);
    }
    for (uint64_t i = 50; i-- > 0;) { /* backwards, another generator */
        jm_sample_citizen *c = jm_sample_citizen_new(s2, i);
        jm_sample_citizen *d = jm_sample_citizen_new(s3, i);

        assert_true(hash_citizen(0, c) == forward[i]);
        differs += hash_citizen(0, d) != forward[i];
        jm_sample_citizen_destroy(&c);
        jm_sample_citizen_destroy(&d);
    }
    assert_int_equal(differs, 50);
    jm_sample_citizen_destroy(&(jm_sample_citizen *){NULL});
    jm_sample_destroy(&s1);
    jm_sample_destroy(&s2);
    jm_sample_destroy(&s3);
    assert_null(s1);
}

/* A fixed seed and day must give these bytes on every machine and build:
 * if this fails after a deliberate change to the generator, update the
 * constants (and say so in the commit: sample data changed). */
static void
test_golden_hash(void **state)
{
    const jm_esco_t *esco = *state;
    jm_sample_t *esco_mode = make(esco, 42, JM_SAMPLE_SKILLS_ESCO);
    jm_sample_t *zipf_mode = make(esco, 42, JM_SAMPLE_SKILLS_ZIPF);
    uint64_t h_esco = 0xcbf29ce484222325ULL, h_zipf = h_esco;

    for (uint64_t i = 0; i < 20; i++) {
        jm_sample_citizen *c = jm_sample_citizen_new(esco_mode, i);
        jm_sample_order *o = jm_sample_order_new(esco_mode, i);
        jm_sample_citizen *zc = jm_sample_citizen_new(zipf_mode, i);
        jm_sample_order *zo = jm_sample_order_new(zipf_mode, i);

        h_esco = hash_message(hash_citizen(h_esco, c), &o->order.base);
        h_zipf = hash_message(hash_citizen(h_zipf, zc), &zo->order.base);
        jm_sample_citizen_destroy(&c);
        jm_sample_order_destroy(&o);
        jm_sample_citizen_destroy(&zc);
        jm_sample_order_destroy(&zo);
    }
    printf("golden: esco %#llx zipf %#llx\n", (unsigned long long) h_esco,
           (unsigned long long) h_zipf);
    assert_true(h_esco == GOLDEN_ESCO);
    assert_true(h_zipf == GOLDEN_ZIPF);
    jm_sample_destroy(&esco_mode);
    jm_sample_destroy(&zipf_mode);
}

/* ---- validity ---- */

static bool
in_list(const uint32_t *list, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == v)
            return true;
    }
    return false;
}

static void
check_location(const Jobmatch__V1__Location *loc, const char *const *allowed,
               size_t allowed_count)
{
    const jm_dk_postcode *pc = jm_dk_postcode_find(loc->postcode);
    bool ok = allowed_count == 0;

    assert_non_null(pc);
    assert_string_equal(loc->municipality_code, pc->municipality_code);
    assert_non_null(jm_dk_municipality_find(loc->municipality_code));
    assert_true(jm_geo_in_denmark(loc->latitude, loc->longitude));
    for (size_t i = 0; i < allowed_count; i++)
        ok = ok || strcmp(allowed[i], loc->municipality_code) == 0;
    assert_true(ok);
}

static void
check_date_after(const char *text, int32_t not_before, bool required)
{
    jm_error err = {0};
    int32_t days = INT32_MAX;

    assert_true(jm_check_date(&err, "date", text, required, &days));
    if (text[0] != '\0')
        assert_true(days >= not_before);
}

static void
check_citizen(const jm_esco_t *esco, const jm_sample_citizen *c,
              const char *const *allowed, size_t allowed_count, bool zipf)
{
    const Jobmatch__V1__CitizenProfile *p = &c->profile;
    const jm_dk_target_group *group;
    jm_error err = {0};
    char cpr[11];
    int32_t days;
    const uint32_t *ess, *opt;
    size_t ne = jm_esco_occupation_essential(esco, c->occupation, &ess);
    size_t no = jm_esco_occupation_optional(esco, c->occupation, &opt);
    size_t from_occupation = 0;
    size_t len = strlen(c->personal.email);

    assert_int_equal(jm_dk_cpr_normalize(c->personal.cpr, cpr), 0);
    assert_true(
        jm_check_text(&err, "name", c->personal.name, 200, true, false));
    assert_true(len > 11 &&
                strcmp(c->personal.email + len - 11, "@example.dk") == 0);
    for (const char *e = c->personal.email; *e; e++)
        assert_true((unsigned char) *e < 0x80 && *e != ' ');
    assert_string_equal(p->id, "");
    assert_int_equal(p->n_progress, 0);
    check_location(p->home, allowed, allowed_count);
    assert_in_range(p->max_travel_km, 1, 300);
    assert_in_range(p->hours_per_week, 1, 80);
    check_date_after(p->available_from, today, false);
    group = jm_dk_target_group_find(p->target_group_list, p->target_group);
    assert_non_null(group);
    assert_true(p->n_job_kinds > 0);
    for (size_t i = 0; i < p->n_job_kinds; i++) {
        assert_true(jm_check_enum(&err, "kind",
                                  &jobmatch__v1__job_kind__descriptor,
                                  p->job_kinds[i], false));
        assert_true(group->job_kinds & (1u << p->job_kinds[i]));
    }
    assert_in_range(p->n_skills, zipf ? 10 : 1, zipf ? 30 : 40);
    for (size_t i = 0; i < p->n_skills; i++) {
        const Jobmatch__V1__SkillLevel *s = p->skills[i];

        assert_true(jm_esco_skill_uri_valid(s->skill_uri));
        assert_int_equal(jm_esco_skill_find(esco, s->skill_uri),
                         (int) c->skill_index[i]);
        assert_in_range(s->level, 1, 5);
        assert_true(s->last_used_year == 0 ||
                    (s->last_used_year >= 2010 && s->last_used_year <= 2026));
        assert_false(in_list(c->skill_index, i, c->skill_index[i]));
        from_occupation += in_list(ess, ne, c->skill_index[i]) ||
                           in_list(opt, no, c->skill_index[i]);
    }
    /* esco mode: noise is at most 4 skills. */
    if (!zipf)
        assert_true(from_occupation + 4 >= p->n_skills);
    for (size_t i = 0; i < p->n_wished_occupations; i++)
        assert_true(jm_esco_occupation_find(esco, p->wished_occupations[i]) >=
                    0);
    for (size_t i = 0; i < p->n_held_occupations; i++)
        assert_true(jm_esco_occupation_find(esco, p->held_occupations[i]) >= 0);
    assert_true(p->n_languages >= 1);
    assert_string_equal(p->languages[0]->language, "da");
    for (size_t i = 0; i < p->n_languages; i++) {
        assert_int_equal(strlen(p->languages[i]->language), 2);
        assert_true(jm_check_enum(&err, "lang",
                                  &jobmatch__v1__language_level__descriptor,
                                  (int) p->languages[i]->level, false));
    }
    for (size_t i = 0; i < p->n_licences; i++) {
        assert_true(jm_check_enum(&err, "lic",
                                  &jobmatch__v1__licence__descriptor,
                                  (int) p->licences[i], false));
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(p->licences[i], p->licences[j]);
    }
    assert_non_null(p->consent);
    assert_true(
        jm_check_date(&err, "consent", p->consent->given_on, true, &days));
    assert_true(days <= today);
    assert_true(
        jm_check_text(&err, "caseworker", p->caseworker, 200, true, false));
    for (size_t i = 0; i < c->progress_count; i++) {
        const Jobmatch__V1__ProgressMeasurement *m = c->progress[i];

        assert_in_range(m->dimension, 1, 5);
        assert_in_range(m->score, 1, 10);
        assert_true(jm_check_date(&err, "m", m->date, true, &days));
        assert_true(days <= today);
        assert_true(
            jm_check_text(&err, "assessor", m->assessor, 200, true, false));
    }
    assert_int_equal(err.code, 0);
}

static void
check_order(const jm_esco_t *esco, const jm_sample_order *so,
            const char *const *allowed, size_t allowed_count, bool zipf)
{
    const Jobmatch__V1__JobOrder *o = &so->order;
    const uint32_t *ess, *opt;
    size_t ne = jm_esco_occupation_essential(esco, so->occupation, &ess);
    size_t no = jm_esco_occupation_optional(esco, so->occupation, &opt);
    jm_error err = {0};
    int32_t deadline;

    assert_true(jm_check_id(&err, "id", o->id, true));
    assert_true(jm_dk_cvr_valid(o->cvr));
    assert_true(o->p_number[0] == '\0' || jm_dk_pnumber_valid(o->p_number));
    assert_true(
        jm_check_text(&err, "company", o->company_name, 200, true, false));
    assert_true(jm_check_text(&err, "title", o->title, 200, true, false));
    assert_true(
        jm_check_text(&err, "description", o->description, 4000, false, true));
    assert_int_equal(jm_esco_occupation_find(esco, o->occupation_uri),
                     (int) so->occupation);
    assert_string_equal(o->isco_code,
                        jm_esco_occupation_isco(esco, so->occupation));
    assert_in_range(o->n_essential_skills, 5, 15);
    assert_in_range(o->n_optional_skills, 0, zipf ? 3 : 5);
    for (size_t i = 0; i < o->n_essential_skills; i++) {
        assert_int_equal(
            jm_esco_skill_find(esco, o->essential_skills[i]->skill_uri),
            (int) so->essential_index[i]);
        assert_in_range(o->essential_skills[i]->min_level, 0, 5);
        assert_false(in_list(so->essential_index, i, so->essential_index[i]));
        if (!zipf)
            assert_true(in_list(ess, ne, so->essential_index[i]));
    }
    for (size_t i = 0; i < o->n_optional_skills; i++) {
        assert_int_equal(
            jm_esco_skill_find(esco, o->optional_skills[i]->skill_uri),
            (int) so->optional_index[i]);
        assert_in_range(o->optional_skills[i]->min_level, 0, 5);
        assert_false(in_list(so->optional_index, i, so->optional_index[i]));
        assert_false(in_list(so->essential_index, o->n_essential_skills,
                             so->optional_index[i]));
        if (!zipf)
            assert_true(in_list(opt, no, so->optional_index[i]));
    }
    for (size_t i = 0; i < o->n_languages; i++) {
        assert_int_equal(strlen(o->languages[i]->language), 2);
        assert_in_range(o->languages[i]->min_level, 1, 7);
    }
    for (size_t i = 0; i < o->n_licences; i++)
        assert_in_range(o->licences[i], 1, 9);
    assert_true(jm_check_enum(&err, "kind", &jobmatch__v1__job_kind__descriptor,
                              o->kind, false));
    assert_in_range(o->positions, 1, 1000);
    assert_in_range(o->hours_per_week, 1, 80);
    assert_true(jm_check_date(&err, "deadline", o->deadline, true, &deadline));
    assert_true(deadline > today);
    check_date_after(o->start_date, deadline, false);
    check_location(o->workplace, allowed, allowed_count);
    assert_string_equal(o->owner_municipality, o->workplace->municipality_code);
    assert_true(
        jm_check_text(&err, "consultant", o->consultant, 200, true, false));
    assert_int_equal(o->version, 0);
    assert_int_equal(o->status, 0);
    assert_int_equal(err.code, 0);
}

static void
test_generated_data_is_valid(void **state)
{
    const jm_esco_t *esco = *state;

    for (int mode = 0; mode < 2; mode++) {
        jm_sample_t *s =
            make(esco, 1000 + (uint64_t) mode, (jm_sample_skills) mode);

        for (uint64_t i = 0; i < 3000; i++) {
            jm_sample_citizen *c = jm_sample_citizen_new(s, i);
            jm_sample_order *o = jm_sample_order_new(s, i);

            check_citizen(esco, c, NULL, 0, mode == JM_SAMPLE_SKILLS_ZIPF);
            check_order(esco, o, NULL, 0, mode == JM_SAMPLE_SKILLS_ZIPF);
            jm_sample_citizen_destroy(&c);
            jm_sample_order_destroy(&o);
        }
        jm_sample_destroy(&s);
    }
}

static int
compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* CPR numbers decide "new citizen or update" in profiles: a load of N
 * citizens must not collide. */
static void
test_cpr_numbers_are_distinct(void **state)
{
    const jm_esco_t *esco = *state;
    jm_sample_t *s = make(esco, 99, JM_SAMPLE_SKILLS_ESCO);

    enum { N = 20000 };

    char **cprs = calloc(N, sizeof(char *));

    for (uint64_t i = 0; i < N; i++) {
        jm_sample_citizen *c = jm_sample_citizen_new(s, i);

        cprs[i] = strdup(c->personal.cpr);
        jm_sample_citizen_destroy(&c);
    }
    qsort(cprs, N, sizeof(char *), compare_str);
    for (size_t i = 1; i < N; i++)
        assert_string_not_equal(cprs[i - 1], cprs[i]);
    for (size_t i = 0; i < N; i++)
        free(cprs[i]);
    free(cprs);
    jm_sample_destroy(&s);
}

static void
test_zipf_skills_are_skewed(void **state)
{
    const jm_esco_t *esco = *state;
    jm_sample_t *s = make(esco, 5, JM_SAMPLE_SKILLS_ZIPF);
    size_t n = jm_esco_skill_count(esco), top = 0, used = 0;
    unsigned *count = calloc(n, sizeof(unsigned));

    for (uint64_t i = 0; i < 5000; i++) {
        jm_sample_citizen *c = jm_sample_citizen_new(s, i);

        for (size_t k = 0; k < c->profile.n_skills; k++)
            count[c->skill_index[k]]++;
        jm_sample_citizen_destroy(&c);
    }
    for (size_t k = 0; k < n; k++) {
        top = count[k] > top ? count[k] : top;
        used += count[k] > 0;
    }
    /* Rank 1 draws ~10 % of all picks (1/H(13896)), so nearly every
     * citizen has it; yet the tail is long: thousands of skills occur. */
    assert_true(top > 4000);
    assert_true(used > 3000);
    free(count);
    jm_sample_destroy(&s);
}

static void
test_restricted_to_municipalities(void **state)
{
    const jm_esco_t *esco = *state;
    static const char *const codes[] = {"101", "147"};
    jm_sample_opts opts = {.seed = 3,
                           .today = today,
                           .municipalities = codes,
                           .municipality_count = 2,
                           .occupation_pool = 20};
    jm_sample_t *s = NULL;
    const uint32_t *pool;

    assert_int_equal(jm_sample_new(&s, esco, &opts), 0);
    assert_int_equal(jm_sample_occupations(s, &pool), 20);
    for (size_t i = 1; i < 20; i++)
        assert_true(pool[i - 1] < pool[i]);
    for (uint64_t i = 0; i < 500; i++) {
        jm_sample_citizen *c = jm_sample_citizen_new(s, i);
        jm_sample_order *o = jm_sample_order_new(s, i);

        check_citizen(esco, c, codes, 2, false);
        check_order(esco, o, codes, 2, false);
        assert_true(in_list(pool, 20, c->occupation));
        assert_true(in_list(pool, 20, o->occupation));
        jm_sample_citizen_destroy(&c);
        jm_sample_order_destroy(&o);
    }
    jm_sample_destroy(&s);
}

/* whole_groups: the pool is a union of complete ISCO unit groups (as far
 * as their occupations can be drawn at all). */
static void
test_pool_of_whole_groups(void **state)
{
    const jm_esco_t *esco = *state;
    jm_sample_opts opts = {.seed = 11,
                           .today = today,
                           .occupation_pool = 30,
                           .whole_groups = true};
    jm_sample_t *s = NULL;
    const uint32_t *pool;
    size_t n;

    assert_int_equal(jm_sample_new(&s, esco, &opts), 0);
    n = jm_sample_occupations(s, &pool);
    assert_true(n >= 30);
    for (size_t o = 0; o < jm_esco_occupation_count(esco); o++) {
        const uint32_t *ess;
        bool grouped = false;

        if (jm_esco_occupation_essential(esco, o, &ess) < 5 ||
            jm_esco_occupation_isco(esco, o)[0] == '0')
            continue; /* never drawn */
        for (size_t i = 0; i < n; i++)
            grouped = grouped || strcmp(jm_esco_occupation_isco(esco, pool[i]),
                                        jm_esco_occupation_isco(esco, o)) == 0;
        assert_int_equal(grouped, in_list(pool, n, (uint32_t) o));
    }
    jm_sample_destroy(&s);
}

static void
test_every_municipality_alone(void **state)
{
    const jm_esco_t *esco = *state;

    for (size_t m = 0; m < jm_dk_municipality_count(); m++) {
        const char *code = jm_dk_municipality_at(m)->code;
        jm_sample_opts opts = {.seed = m,
                               .today = today,
                               .municipalities = &code,
                               .municipality_count = 1};
        jm_sample_t *s = NULL;
        jm_sample_order *o;

        assert_int_equal(jm_sample_new(&s, esco, &opts), 0);
        o = jm_sample_order_new(s, 0);
        assert_string_equal(o->order.owner_municipality, code);
        jm_sample_order_destroy(&o);
        jm_sample_destroy(&s);
    }
}

static void
test_bad_options(void **state)
{
    const jm_esco_t *esco = *state;
    static const char *const bad[] = {"101", "999"};
    jm_sample_opts opts = {
        .seed = 1, .municipalities = bad, .municipality_count = 2};
    jm_sample_t *s = NULL;

    assert_int_equal(jm_sample_new(&s, esco, &opts), -EINVAL);
    assert_null(s);
    opts.municipality_count = 0;
    opts.occupation_pool = 100000;
    assert_int_equal(jm_sample_new(&s, esco, &opts), -EINVAL);
    opts.occupation_pool = 0;
    opts.zipf_exponent = -1;
    assert_int_equal(jm_sample_new(&s, esco, &opts), -EINVAL);
    assert_null(s);
    jm_sample_destroy(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_known_answers),
        cmocka_unit_test(test_same_seed_same_data_in_any_order),
        cmocka_unit_test(test_golden_hash),
        cmocka_unit_test(test_generated_data_is_valid),
        cmocka_unit_test(test_cpr_numbers_are_distinct),
        cmocka_unit_test(test_zipf_skills_are_skewed),
        cmocka_unit_test(test_restricted_to_municipalities),
        cmocka_unit_test(test_pool_of_whole_groups),
        cmocka_unit_test(test_every_municipality_alone),
        cmocka_unit_test(test_bad_options),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
