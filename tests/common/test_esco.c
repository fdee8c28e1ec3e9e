/* test_esco.c - the shipped ESCO subset loads, holds what the ESCO CSV
 * export says (counts from tools/esco_compact.py, "software developer" and
 * its skills checked against the CSVs by hand), looks URIs up exactly, and
 * rejects missing or damaged files with the right code and a file:line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jm/esco.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm_test.h"

#define SOFTWARE_DEVELOPER \
    JM_ESCO_OCCUPATION_PREFIX "f2b15a0e-e65a-438a-affb-29b9d50b77d1"
#define COMPUTER_PROGRAMMING \
    JM_ESCO_SKILL_PREFIX "21d2f96d-35f7-4e3f-9745-c533d2dd6e97"
#define DEBUG_SOFTWARE \
    JM_ESCO_SKILL_PREFIX "2522a6ce-3202-4ac8-9f5b-b9cb5a3a83a1"

/* Keeps the last ERR line, so tests can check what a failure reports. */
struct capture {
    int errors;
    char message[512];
};

static void
capture_sink(int level, const char *component, const char *message, void *arg)
{
    struct capture *c = arg;

    if (level <= JM_LOG_ERR && strcmp(component, "esco") == 0) {
        c->errors++;
        (void) snprintf(c->message, sizeof(c->message), "%s", message);
    }
}

/* The shipped data, loaded once for the read-only tests. */
static int
setup_shipped(void **state)
{
    jm_esco_t *esco = NULL;
    uint64_t start = uv_hrtime();

    if (jm_esco_load(&esco, JM_TEST_ESCO_DIR) != 0)
        return -1;
    printf("jm_esco_load(%s): %.1f ms\n", JM_TEST_ESCO_DIR,
           (double) (uv_hrtime() - start) / 1e6);
    *state = esco;
    return 0;
}

static int
teardown_shipped(void **state)
{
    jm_esco_t *esco = *state;

    jm_esco_destroy(&esco);
    return 0;
}

static void
test_counts_match_the_script(void **state)
{
    const jm_esco_t *esco = *state;
    size_t essential = 0, optional = 0, without_essential = 0;
    const uint32_t *skills;

    /* tools/esco_compact.py on ESCO v1.1.1: every concept is released; one
     * relation occupation (67 rows) is not an occupation and was dropped. */
    assert_int_equal(jm_esco_skill_count(esco), 13896);
    assert_int_equal(jm_esco_occupation_count(esco), 3007);
    for (size_t i = 0; i < jm_esco_occupation_count(esco); i++) {
        size_t n = jm_esco_occupation_essential(esco, i, &skills);
        essential += n;
        without_essential += n == 0;
        optional += jm_esco_occupation_optional(esco, i, &skills);
    }
    assert_int_equal(essential, 64891);
    assert_int_equal(optional, 58897);
    assert_int_equal(without_essential, 1); /* "specialist dentist" */
}

static void
test_software_developer(void **state)
{
    const jm_esco_t *esco = *state;
    const uint32_t *skills;
    int occ = jm_esco_occupation_find(esco, SOFTWARE_DEVELOPER);
    int programming = jm_esco_skill_find(esco, COMPUTER_PROGRAMMING);
    int debug = jm_esco_skill_find(esco, DEBUG_SOFTWARE);
    size_t n;
    bool has_programming = false, has_debug = false;

    assert_true(occ >= 0);
    assert_string_equal(jm_esco_occupation_uri(esco, occ), SOFTWARE_DEVELOPER);
    assert_string_equal(jm_esco_occupation_label(esco, occ),
                        "software developer");
    assert_string_equal(jm_esco_occupation_isco(esco, occ), "2512");
    assert_string_equal(jm_esco_isco_label(esco, "2512"),
                        "Software developers");
    assert_string_equal(jm_esco_label(esco, SOFTWARE_DEVELOPER),
                        "software developer");

    /* occupationSkillRelations.csv lists 24 essential and 80 optional. */
    n = jm_esco_occupation_essential(esco, occ, &skills);
    assert_int_equal(n, 24);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_true(skills[i - 1] < skills[i]); /* ascending */
        has_programming |= (int) skills[i] == programming;
        has_debug |= (int) skills[i] == debug;
    }
    assert_true(has_programming && has_debug);
    assert_int_equal(jm_esco_occupation_optional(esco, occ, &skills), 80);

    /* Labels and types as skills_en.csv has them. */
    assert_string_equal(jm_esco_skill_label(esco, programming),
                        "computer programming");
    assert_int_equal(jm_esco_skill_type(esco, programming),
                     JM_ESCO_SKILL_TYPE_KNOWLEDGE);
    assert_string_equal(jm_esco_skill_label(esco, debug), "debug software");
    assert_int_equal(jm_esco_skill_type(esco, debug),
                     JM_ESCO_SKILL_TYPE_COMPETENCE);
    assert_string_equal(jm_esco_skill_uri(esco, debug), DEBUG_SOFTWARE);
    assert_string_equal(jm_esco_label(esco, DEBUG_SOFTWARE), "debug software");
}

/* Every skill and occupation is found at its own row (look-ups go through
 * a hash of the uuid), and a uuid one character off is not found. */
static void
test_every_uri_found_at_its_row(void **state)
{
    const jm_esco_t *esco = *state;
    char uri[128];

    for (size_t i = 0; i < jm_esco_skill_count(esco); i++) {
        snprintf(uri, sizeof(uri), "%s", jm_esco_skill_uri(esco, i));
        if (jm_esco_skill_find(esco, uri) != (int) i)
            fail_msg("skill %zu (%s) found at %d", i, uri,
                     jm_esco_skill_find(esco, uri));
        uri[strlen(uri) - 1 - i % 36] ^=
            1; /* '0'<->'1', 'a'<->'`', '-'<->',' */
        assert_int_equal(jm_esco_skill_find(esco, uri), -ENOENT);
    }
    for (size_t i = 0; i < jm_esco_occupation_count(esco); i++) {
        snprintf(uri, sizeof(uri), "%s", jm_esco_occupation_uri(esco, i));
        if (jm_esco_occupation_find(esco, uri) != (int) i)
            fail_msg("occupation %zu (%s) found at %d", i, uri,
                     jm_esco_occupation_find(esco, uri));
        uri[strlen(uri) - 1 - i % 36] ^= 1;
        assert_int_equal(jm_esco_occupation_find(esco, uri), -ENOENT);
    }
}

static void
test_skill_without_type_and_isco_levels(void **state)
{
    const jm_esco_t *esco = *state;
    int i = jm_esco_skill_find(esco, JM_ESCO_SKILL_PREFIX
                               "426ceaba-6867-481c-bb6b-aee3933da7d2");

    assert_true(i >= 0);
    assert_string_equal(jm_esco_skill_label(esco, i), "ICT safety");
    assert_int_equal(jm_esco_skill_type(esco, i), JM_ESCO_SKILL_TYPE_UNKNOWN);

    assert_string_equal(jm_esco_isco_label(esco, "2"), "Professionals");
    assert_string_equal(
        jm_esco_isco_label(esco, "25"),
        "Information and communications technology professionals");
    assert_string_equal(jm_esco_isco_label(esco, "0"),
                        "Armed forces occupations");
    assert_null(jm_esco_isco_label(esco, "9999"));
    assert_null(jm_esco_isco_label(esco, ""));
    assert_null(jm_esco_isco_label(esco, "25120"));
}

static void
test_unknown_and_malformed_uris_are_not_found(void **state)
{
    const jm_esco_t *esco = *state;
    static const char *const bad[] = {
        /* well-formed, but no such uuid */
        JM_ESCO_SKILL_PREFIX "00000000-0000-0000-0000-000000000000",
        /* upper-case hex: ESCO URIs are lower-case, matching is exact */
        JM_ESCO_SKILL_PREFIX "21D2F96D-35F7-4E3F-9745-C533D2DD6E97",
        /* one character short, one too many */
        JM_ESCO_SKILL_PREFIX "21d2f96d-35f7-4e3f-9745-c533d2dd6e9",
        JM_ESCO_SKILL_PREFIX "21d2f96d-35f7-4e3f-9745-c533d2dd6e97x",
        JM_ESCO_SKILL_PREFIX "21d2f96d-35f7-4e3f-9745-c533d2dd6e97/",
        /* other schemes and hosts, case, and the bare uuid */
        "Http://data.europa.eu/esco/skill/21d2f96d-35f7-4e3f-9745-c533d2dd6e97",
        "https://data.europa.eu/esco/skill/"
        "21d2f96d-35f7-4e3f-9745-c533d2dd6e97",
        "http://data.europa.eu/esco/skills/"
        "21d2f96d-35f7-4e3f-9745-c533d2dd6e97",
        "21d2f96d-35f7-4e3f-9745-c533d2dd6e97",
        JM_ESCO_SKILL_PREFIX,
        "",
    };

    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        assert_int_equal(jm_esco_skill_find(esco, bad[i]), -ENOENT);
        assert_int_equal(jm_esco_occupation_find(esco, bad[i]), -ENOENT);
    }
    /* A URI of the other kind is not found either. */
    assert_int_equal(jm_esco_skill_find(esco, SOFTWARE_DEVELOPER), -ENOENT);
    assert_int_equal(jm_esco_occupation_find(esco, COMPUTER_PROGRAMMING),
                     -ENOENT);
    assert_null(jm_esco_label(esco, bad[0]));
    assert_null(jm_esco_label(esco, ""));
}

/* ---- loading from a temporary directory --------------------------- */

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[512];
    FILE *f;

    (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

#define UUID1 "00000000-0000-0000-0000-000000000001"
#define UUID2 "00000000-0000-0000-0000-000000000002"
#define UUID3 "00000000-0000-0000-0000-000000000003"

/* A tiny valid data set: three skills, two occupations. */
static const char tiny_isco[] = "2\tProfessionals\n"
                                "25\tICT professionals\n"
                                "2512\tSoftware developers\n";
static const char tiny_skills[] =
    UUID1 "\tS\tdebug software\n" UUID2 "\tK\tcomputer programming\n" UUID3
          "\t\tICT safety\n";
static const char tiny_occupations[] =
    UUID1 "\t2512\tsoftware developer\n" UUID2 "\t2512\tsoftware tester\n";
static const char tiny_links[] = "0\t0,1\t2\n"
                                 "1\t\t0\n";

static void
write_tiny(const char *dir)
{
    write_file(dir, "isco_groups.tsv", tiny_isco, strlen(tiny_isco));
    write_file(dir, "skills.tsv", tiny_skills, strlen(tiny_skills));
    write_file(dir, "occupations.tsv", tiny_occupations,
               strlen(tiny_occupations));
    write_file(dir, "occupation_skills.tsv", tiny_links, strlen(tiny_links));
}

static void
test_tiny_data_set_loads(void **state)
{
    char dir[256];
    jm_esco_t *esco = NULL;
    const uint32_t *skills;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    write_tiny(dir);
    assert_int_equal(jm_esco_load(&esco, dir), 0);
    assert_int_equal(jm_esco_skill_count(esco), 3);
    assert_int_equal(jm_esco_occupation_count(esco), 2);
    assert_int_equal(jm_esco_skill_find(esco, JM_ESCO_SKILL_PREFIX UUID3), 2);
    assert_int_equal(jm_esco_skill_type(esco, 2), JM_ESCO_SKILL_TYPE_UNKNOWN);
    assert_int_equal(
        jm_esco_occupation_find(esco, JM_ESCO_OCCUPATION_PREFIX UUID2), 1);
    assert_int_equal(jm_esco_occupation_essential(esco, 0, &skills), 2);
    assert_int_equal(skills[0], 0);
    assert_int_equal(skills[1], 1);
    assert_int_equal(jm_esco_occupation_optional(esco, 0, &skills), 1);
    assert_int_equal(skills[0], 2);
    assert_int_equal(jm_esco_occupation_essential(esco, 1, &skills), 0);
    assert_int_equal(jm_esco_occupation_optional(esco, 1, &skills), 1);
    assert_int_equal(skills[0], 0);
    jm_esco_destroy(&esco);
    assert_null(esco);
    jm_esco_destroy(&esco); /* idempotent */
    jm_test_rmtree(dir);
}

static void
test_missing_files_are_enoent(void **state)
{
    struct capture c = {0};
    char dir[256], missing[300];
    jm_esco_t *esco = NULL;

    (void) state;
    jm_log_set_sink(capture_sink, &c);
    jm_test_tmpdir(dir, sizeof(dir));

    (void) snprintf(missing, sizeof(missing), "%s/nowhere", dir);
    assert_int_equal(jm_esco_load(&esco, missing), -ENOENT);
    assert_null(esco);
    assert_int_equal(c.errors, 1);
    assert_non_null(strstr(c.message, missing));
    assert_non_null(strstr(c.message, "missing"));

    /* Three of the four files are not enough. */
    write_tiny(dir);
    (void) snprintf(missing, sizeof(missing), "%s/occupation_skills.tsv", dir);
    assert_int_equal(unlink(missing), 0);
    assert_int_equal(jm_esco_load(&esco, dir), -ENOENT);
    assert_null(esco);
    assert_non_null(strstr(c.message, "occupation_skills.tsv: missing"));

    jm_log_set_sink(NULL, NULL);
    jm_test_rmtree(dir);
}

/* One damaged file on top of the tiny set, and where the error must point. */
struct damage {
    const char *file;
    const char *text;
    const char *where; /* expected in the log line */
};

static const struct damage damages[] = {
    {"skills.tsv", UUID1 "\tS\tdebug software\n" UUID2 "\tK\tcomp",
     "skills.tsv:2: last line has no newline"},
    {"skills.tsv", "", "skills.tsv: empty file"},
    {"skills.tsv", UUID2 "\tS\ta\n" UUID1 "\tS\tb\n",
     "skills.tsv:2: uuids not in ascending order"},
    {"skills.tsv", UUID1 "\tS\ta\n" UUID1 "\tS\tb\n",
     "skills.tsv:2: uuids not in ascending order"},
    {"skills.tsv", UUID1 "\tX\ta\n", "skills.tsv:1: skill type"},
    {"skills.tsv", UUID1 "\ta\n", "skills.tsv:1: too few fields"},
    {"skills.tsv", UUID1 "\tS\ta\tb\n", "skills.tsv:1: too many fields"},
    {"skills.tsv", "00000000-0000-0000-0000-00000000000A\tS\ta\n",
     "skills.tsv:1: not a lower-case uuid"},
    {"skills.tsv", UUID1 "\tS\t\n", "skills.tsv:1: empty label"},
    {"skills.tsv", UUID1 "\tS\ta\r\n", "skills.tsv:1: CR-LF"},
    {"occupations.tsv", UUID1 "\t2511\tx\n" UUID2 "\t2512\ty\n",
     "occupations.tsv:1: ISCO code"},
    {"occupations.tsv", UUID1 "\t25\tx\n" UUID2 "\t2512\ty\n",
     "occupations.tsv:1: ISCO code"},
    {"isco_groups.tsv", "2\tProfessionals\n2x\tBad\n2512\tSoftware\n",
     "isco_groups.tsv:2: ISCO code"},
    {"isco_groups.tsv", "25\tICT\n2\tProfessionals\n2512\tSoftware\n",
     "isco_groups.tsv:2: ISCO codes not in ascending order"},
    {"occupation_skills.tsv", "0\t0,3\t\n1\t\t0\n",
     "occupation_skills.tsv:1: skill row out of range"},
    {"occupation_skills.tsv", "0\t1,0\t\n1\t\t0\n",
     "occupation_skills.tsv:1: skill rows not strictly ascending"},
    {"occupation_skills.tsv", "0\t0,0\t\n1\t\t0\n",
     "occupation_skills.tsv:1: skill rows not strictly ascending"},
    {"occupation_skills.tsv", "0\t0,,1\t\n1\t\t0\n",
     "occupation_skills.tsv:1: bad skill row number"},
    {"occupation_skills.tsv", "0\t0,1,\t\n1\t\t0\n",
     "occupation_skills.tsv:1: bad skill row number"},
    {"occupation_skills.tsv", "0\t-1\t\n1\t\t0\n",
     "occupation_skills.tsv:1: bad skill row number"},
    {"occupation_skills.tsv", "0\t1234567890\t\n1\t\t0\n",
     "occupation_skills.tsv:1: bad skill row number"},
    {"occupation_skills.tsv", "0\t0,1\t1\n1\t\t0\n",
     "occupation_skills.tsv:1: a skill is both essential and optional"},
    {"occupation_skills.tsv", "0\t0\t\n", "fewer lines than occupations"},
    {"occupation_skills.tsv", "0\t0\t\n1\t\t\n2\t\t\n",
     "occupation_skills.tsv:3: more lines than occupations"},
    {"occupation_skills.tsv", "1\t0\t\n0\t\t0\n",
     "occupation_skills.tsv:1: occupation row"},
    {"occupation_skills.tsv", "00\t0\t\n1\t\t0\n",
     "occupation_skills.tsv:1: occupation row"},
};

static void
test_damaged_files_are_einval(void **state)
{
    struct capture c = {0};
    char dir[256];
    jm_esco_t *esco = NULL;

    (void) state;
    jm_log_set_sink(capture_sink, &c);
    jm_test_tmpdir(dir, sizeof(dir));
    for (size_t i = 0; i < JM_COUNTOF(damages); i++) {
        write_tiny(dir);
        write_file(dir, damages[i].file, damages[i].text,
                   strlen(damages[i].text));
        c.errors = 0;
        assert_int_equal(jm_esco_load(&esco, dir), -EINVAL);
        assert_null(esco);
        assert_int_equal(c.errors, 1); /* one line per failure */
        if (strstr(c.message, damages[i].where) == NULL)
            fail_msg("case %zu: log \"%s\" lacks \"%s\"", i, c.message,
                     damages[i].where);
    }
    /* A NUL byte would silently shorten a label. */
    write_file(dir, "skills.tsv", UUID1 "\tS\tab\0c\n",
               sizeof(UUID1 "\tS\tab\0c\n") - 1);
    assert_int_equal(jm_esco_load(&esco, dir), -EINVAL);
    assert_non_null(strstr(c.message, "skills.tsv: NUL byte"));

    /* The undamaged set still loads: the cases above were the damage. */
    write_tiny(dir);
    assert_int_equal(jm_esco_load(&esco, dir), 0);
    jm_esco_destroy(&esco);
    jm_log_set_sink(NULL, NULL);
    jm_test_rmtree(dir);
}

/* A copy of the shipped data with skills.tsv cut off in mid-line, as an
 * interrupted copy or a full disk would leave it. */
static void
test_truncated_shipped_file_is_einval(void **state)
{
    static const char *const names[] = {"isco_groups.tsv", "skills.tsv",
                                        "occupations.tsv",
                                        "occupation_skills.tsv"};
    struct capture c = {0};
    char dir[256], path[512];
    jm_esco_t *esco = NULL;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    for (size_t i = 0; i < JM_COUNTOF(names); i++) {
        size_t size;
        char *text;

        (void) snprintf(path, sizeof(path), "%s/%s", JM_TEST_ESCO_DIR,
                        names[i]);
        assert_non_null(text = jm_test_read_file(path, &size));
        if (strcmp(names[i], "skills.tsv") == 0)
            size = size / 2 + 7; /* some way into a line */
        write_file(dir, names[i], text, size);
        free(text);
    }
    jm_log_set_sink(capture_sink, &c);
    assert_int_equal(jm_esco_load(&esco, dir), -EINVAL);
    assert_null(esco);
    assert_non_null(strstr(c.message, "skills.tsv:"));
    assert_non_null(strstr(c.message, "truncated"));
    jm_log_set_sink(NULL, NULL);
    jm_test_rmtree(dir);
}

static void
test_default_dir(void **state)
{
    struct stat st;
    char *dir;

    (void) state;
    assert_int_equal(setenv("JOBMATCH_DATA_DIR", "/srv/jobmatch-data", 1), 0);
    dir = jm_esco_default_dir();
    assert_string_equal(dir, "/srv/jobmatch-data/esco");
    free(dir);

    /* Empty counts as unset: the installed copy if any, else the source. */
    assert_int_equal(setenv("JOBMATCH_DATA_DIR", "", 1), 0);
    dir = jm_esco_default_dir();
    if (stat(JM_TEST_ESCO_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode))
        assert_string_equal(dir, JM_TEST_ESCO_INSTALL_DIR);
    else
        assert_string_equal(dir, JM_TEST_ESCO_DIR);
    free(dir);
    assert_int_equal(unsetenv("JOBMATCH_DATA_DIR"), 0);
}

int
main(void)
{
    const struct CMUnitTest shipped[] = {
        cmocka_unit_test(test_counts_match_the_script),
        cmocka_unit_test(test_software_developer),
        cmocka_unit_test(test_every_uri_found_at_its_row),
        cmocka_unit_test(test_skill_without_type_and_isco_levels),
        cmocka_unit_test(test_unknown_and_malformed_uris_are_not_found),
    };
    const struct CMUnitTest loading[] = {
        cmocka_unit_test(test_tiny_data_set_loads),
        cmocka_unit_test(test_missing_files_are_enoent),
        cmocka_unit_test(test_damaged_files_are_einval),
        cmocka_unit_test(test_truncated_shipped_file_is_einval),
        cmocka_unit_test(test_default_dir),
    };
    int failed;

    failed = cmocka_run_group_tests_name("shipped", shipped, setup_shipped,
                                         teardown_shipped);
    failed += cmocka_run_group_tests_name("loading", loading, NULL, NULL);
    return failed;
}
