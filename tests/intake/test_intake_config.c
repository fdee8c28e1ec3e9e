/* test_intake_config.c - deploy/config/intake.conf parses with the
 * service's own table, names every key, and holds exactly the defaults: the
 * sample cannot drift from the code. And the command-line contract:
 * "--data-dir DIR --api ENDPOINT" is all the service needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake_config.h"
#include "jm/log.h"
#include "jm_test.h"

#define SAMPLE JM_TEST_SOURCE_DIR "/deploy/config/intake.conf"

static void
test_sample_parses_and_holds_the_defaults(void **state)
{
    intake_config loaded, defaults;
    char err[256] = "";
    int rc;

    (void) state;
    jm_cfg_defaults(&defaults, intake_config_table);
    jm_cfg_defaults(&loaded, intake_config_table);
    /* Parsed over values that differ from every default, so that a key
     * missing from the file shows up as a difference below. */
    loaded.max_request_size = 1;
    loaded.map_size_mb = 2;
    loaded.log_retain = 3;
    loaded.idem_retain_hours = 4;
    loaded.housekeeping_ms = 5;
    loaded.log_level = JM_LOG_ERR;
    loaded.log_timestamps = true;
    rc = jm_cfg_load_file(&loaded, intake_config_table, SAMPLE, err,
                          sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    for (const jm_cfg_entry *e = intake_config_table; e->name != NULL; e++) {
        const char *a = (const char *) &loaded + e->offset;
        const char *b = (const char *) &defaults + e->offset;

        switch (e->type) {
        case JM_CFG_T_STR:
            if (strcmp(*(char *const *) a, *(char *const *) b) != 0)
                fail_msg("%s: sample '%s', default '%s'", e->name,
                         *(char *const *) a, *(char *const *) b);
            break;
        case JM_CFG_T_INT:
            if (*(const int64_t *) a != *(const int64_t *) b)
                fail_msg("%s differs from its default", e->name);
            break;
        case JM_CFG_T_BOOL:
            if (*(const bool *) a != *(const bool *) b)
                fail_msg("%s differs from its default", e->name);
            break;
        case JM_CFG_T_LEVEL:
            if (*(const int *) a != *(const int *) b)
                fail_msg("%s differs from its default", e->name);
            break;
        default:
            fail_msg("%s: a type the sample test does not know", e->name);
        }
    }
    jm_cfg_release(&loaded, intake_config_table);
    jm_cfg_release(&defaults, intake_config_table);
}

/* Each key is on a line of its own in the sample (not only in comments). */
static void
test_sample_names_every_key(void **state)
{
    char *text = jm_test_read_file(SAMPLE, NULL);
    char needle[64];

    (void) state;
    assert_non_null(text);
    for (const jm_cfg_entry *e = intake_config_table; e->name != NULL; e++) {
        snprintf(needle, sizeof(needle), "\n%s ", e->name);
        if (strstr(text, needle) == NULL)
            fail_msg("the sample has no line for %s", e->name);
    }
    free(text);
}

static void
test_contract_defaults(void **state)
{
    char *argv[] = {"jobmatch-intake", "--data-dir",        "/tmp/x",
                    "--api",           "tcp://127.0.0.1:*", NULL};
    intake_config c;

    (void) state;
    assert_int_equal(
        jm_cfg_from_args(&c, intake_config_table, &intake_program, 5, argv), 0);
    assert_string_equal(c.data_dir, "/tmp/x");
    assert_string_equal(c.api, "tcp://127.0.0.1:*");
    assert_string_equal(c.log, "");
    assert_string_equal(c.tick, "tcp://127.0.0.1:*");
    assert_string_equal(c.source_name, "intake");
    assert_string_equal(c.key_file, "");
    assert_string_equal(c.plain_principal, "local");
    assert_int_equal(c.max_request_size, 1024 * 1024);
    jm_cfg_release(&c, intake_config_table);
    jm_cfg_defaults(&c, intake_config_table);
    assert_string_equal(c.api, "tcp://127.0.0.1:7101");
    assert_string_equal(c.data_dir, "/var/lib/jobmatch/intake");
    jm_cfg_release(&c, intake_config_table);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_parses_and_holds_the_defaults),
        cmocka_unit_test(test_sample_names_every_key),
        cmocka_unit_test(test_contract_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
