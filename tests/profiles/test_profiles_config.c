/* test_profiles_config.c - the settings table of jobmatch-profiles:
 * deploy/config/profiles.conf parses with it and matches the defaults
 * (the sample cannot drift from the code), and the contract outside
 * checks rely on, `--data-dir DIR --api ENDPOINT` with everything else at
 * its default and no config file. */
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm_test.h"
#include "profiles_server.h"

static void
assert_same_config(const struct profiles_config *a,
                   const struct profiles_config *b)
{
    assert_string_equal(a->data_dir, b->data_dir);
    assert_string_equal(a->api, b->api);
    assert_string_equal(a->log, b->log);
    assert_string_equal(a->tick, b->tick);
    assert_string_equal(a->source_name, b->source_name);
    assert_string_equal(a->key_file, b->key_file);
    assert_string_equal(a->allow_file, b->allow_file);
    assert_string_equal(a->secret_file, b->secret_file);
    assert_string_equal(a->plain_principal, b->plain_principal);
    assert_int_equal(a->log_level, b->log_level);
    assert_int_equal(a->log_timestamps, b->log_timestamps);
    assert_int_equal(a->max_request_size, b->max_request_size);
    assert_int_equal(a->map_size_mb, b->map_size_mb);
    assert_int_equal(a->log_retain, b->log_retain);
    assert_int_equal(a->idem_retain_hours, b->idem_retain_hours);
    assert_int_equal(a->housekeeping_ms, b->housekeeping_ms);
    assert_int_equal(a->agreements.count, b->agreements.count);
}

static void
test_sample_parses_and_states_the_defaults(void **state)
{
    struct profiles_config sample, defaults;
    char err[256] = "";

    (void) state;
    jm_cfg_defaults(&defaults, profiles_config_table);
    jm_cfg_defaults(&sample, profiles_config_table);
    if (jm_cfg_load_file(&sample, profiles_config_table, PROFILES_CONF, err,
                         sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_same_config(&sample, &defaults);
    jm_cfg_release(&sample, profiles_config_table);
    jm_cfg_release(&defaults, profiles_config_table);
}

static void
test_defaults_are_the_documented_ones(void **state)
{
    struct profiles_config cfg;

    (void) state;
    jm_cfg_defaults(&cfg, profiles_config_table);
    assert_string_equal(cfg.api, "tcp://127.0.0.1:7201");
    assert_string_equal(cfg.log, "");
    assert_string_equal(cfg.tick, "tcp://127.0.0.1:*");
    assert_string_equal(cfg.source_name, "profiles");
    assert_string_equal(cfg.data_dir, "/var/lib/jobmatch/profiles");
    assert_string_equal(cfg.plain_principal, "local");
    assert_string_equal(cfg.secret_file, "");
    assert_int_equal(cfg.log_level, JM_LOG_INFO);
    assert_int_equal(cfg.idem_retain_hours, 24);
    jm_cfg_release(&cfg, profiles_config_table);
}

static void
test_data_dir_and_api_on_the_command_line(void **state)
{
    char *argv[] = {"jobmatch-profiles",    "--data-dir", "/tmp/x", "--api",
                    "tcp://127.0.0.1:9999", NULL};
    struct profiles_config cfg, defaults;

    (void) state;
    assert_int_equal(jm_cfg_from_args(&cfg, profiles_config_table,
                                      &profiles_program, 5, argv),
                     0);
    assert_string_equal(cfg.data_dir, "/tmp/x");
    assert_string_equal(cfg.api, "tcp://127.0.0.1:9999");
    jm_cfg_defaults(&defaults, profiles_config_table);
    assert_string_equal(cfg.tick, defaults.tick);
    assert_int_equal(cfg.map_size_mb, defaults.map_size_mb);
    jm_cfg_release(&cfg, profiles_config_table);
    jm_cfg_release(&defaults, profiles_config_table);
}

/* The agreement lines are the matcher's, checked as the matcher checks
 * them: an operator pasting the matcher's line gets the same answer, and
 * a wrong one is named with what is wrong, not taken. */
static void
test_agreements_are_checked_as_the_matchers(void **state)
{
    struct profiles_config cfg;
    char err[512] = "";

    (void) state;
    jm_cfg_defaults(&cfg, profiles_config_table);
    assert_int_equal(jm_cfg_set(&cfg, profiles_config_table, "agreement",
                                "161 165,167,153", err, sizeof(err)),
                     0);
    assert_int_equal(cfg.agreements.count, 1);
    assert_int_not_equal(jm_cfg_set(&cfg, profiles_config_table, "agreement",
                                    "161 165,999", err, sizeof(err)),
                         0);
    assert_non_null(strstr(err, "999 is not one of the 98 municipality codes"));
    assert_int_not_equal(jm_cfg_set(&cfg, profiles_config_table, "agreement",
                                    "161 165 # Glostrup", err, sizeof(err)),
                         0);
    assert_non_null(strstr(err, "a comment goes on a line of its own"));
    assert_int_equal(cfg.agreements.count, 1);
    jm_cfg_release(&cfg, profiles_config_table);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_parses_and_states_the_defaults),
        cmocka_unit_test(test_defaults_are_the_documented_ones),
        cmocka_unit_test(test_data_dir_and_api_on_the_command_line),
        cmocka_unit_test(test_agreements_are_checked_as_the_matchers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
