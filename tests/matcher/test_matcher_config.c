/* test_matcher_config.c - deploy/config/matcher.conf parses with the
 * matcher's own table (so the sample cannot drift from the code), its
 * values are the ones it documents, and the checks the table cannot make
 * (sources, source keys, agreements) reject what they must. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm_test.h"
#include "matcher_config.h"

static void
test_sample_parses(void **state)
{
    matcher_config c;
    matcher_index_t *ix;
    char err[256];

    (void) state;
    jm_cfg_defaults(&c, matcher_config_table);
    if (jm_cfg_load_file(&c, matcher_config_table, MATCHER_CONF, err,
                         sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.data_dir, "/var/lib/jobmatch/matcher");
    assert_string_equal(c.api, "tcp://127.0.0.1:7301");
    assert_int_equal(c.sources.count, 2);
    assert_string_equal(c.sources.items[1], "tcp://127.0.0.1:7201");
    /* The agreements are examples, commented out: installed as it is, the
     * sample means what the program's default means, all sharing allowed
     * (one active line would limit every other municipality to its own
     * citizens). */
    assert_int_equal(c.agreements.count, 0);
    assert_int_equal(c.shortlist_size, 20);
    matcher_index_new(&ix);
    assert_int_equal(matcher_config_check(&c, ix, err, sizeof(err)), 0);
    assert_false(ix->sharing.any);
    matcher_index_destroy(&ix);
    jm_cfg_release(&c, matcher_config_table);

    /* The commented example, as an operator would enable it: 161 may see
     * 165 (a neighbour), not 101. */
    jm_cfg_defaults(&c, matcher_config_table);
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "source",
                                "tcp://127.0.0.1:7101", err, sizeof(err)),
                     0);
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "agreement",
                                "161 165,167,153", err, sizeof(err)),
                     0);
    matcher_index_new(&ix);
    assert_int_equal(matcher_config_check(&c, ix, err, sizeof(err)), 0);
    assert_true(ix->sharing.any);
    assert_true(jm_sharing_allows_code(&ix->sharing, 161, 165));
    assert_false(jm_sharing_allows_code(&ix->sharing, 161, 101));
    matcher_index_destroy(&ix);
    jm_cfg_release(&c, matcher_config_table);
}

static void
test_checks(void **state)
{
    /* Each refused where it is written (jm_cfg_set: the file's line or
     * the command line), naming what is wrong. */
    static const struct {
        const char *value, *why;
    } bad[] = {
        {"161", "want 'ORDER_MUNI CITIZEN_MUNI"},
        {"161 ", "want 'ORDER_MUNI CITIZEN_MUNI"},
        {"999 165", "999 is not one of the 98 municipality codes"},
        {"161 165,", "the list ends with ','"},
        {"161 165,,167", "an empty place in the list"},
        {"161 165;167", "want 'ORDER_MUNI"},
        {"161 1650", "1650 is not one of the 98"},
        {"abc 161", "a municipality code is missing"},
        {"161 165,999", "999 is not one of the 98"},
        {"161 165   # Glostrup", "a comment goes on a line of its own"},
    };

    matcher_config c;
    char err[256];

    (void) state;
    jm_cfg_defaults(&c, matcher_config_table);
    /* No source at all. */
    assert_int_equal(matcher_config_check(&c, NULL, err, sizeof(err)), -EINVAL);
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "source", "tcp://a:1",
                                err, sizeof(err)),
                     0);
    assert_int_equal(matcher_config_check(&c, NULL, err, sizeof(err)), 0);
    /* Source keys must pair with sources. */
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "source_key", "a",
                                err, sizeof(err)),
                     0);
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "source_key", "b",
                                err, sizeof(err)),
                     0);
    assert_int_equal(matcher_config_check(&c, NULL, err, sizeof(err)), -EINVAL);
    jm_cfg_release(&c, matcher_config_table);
    /* A source key without the matcher's own pair: it would follow the
     * source in plain (an operator's config did, and was refused). */
    jm_cfg_defaults(&c, matcher_config_table);
    jm_cfg_set(&c, matcher_config_table, "source", "tcp://a:1", err,
               sizeof(err));
    jm_cfg_set(&c, matcher_config_table, "source_key", "k", err, sizeof(err));
    assert_int_equal(matcher_config_check(&c, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "source_key needs key_file"));
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "key_file",
                                "/etc/jobmatch/matcher.key", err, sizeof(err)),
                     0);
    assert_int_equal(matcher_config_check(&c, NULL, err, sizeof(err)), 0);
    jm_cfg_release(&c, matcher_config_table);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];

        jm_cfg_defaults(&c, matcher_config_table);
        if (jm_cfg_set(&c, matcher_config_table, "agreement", bad[i].value, err,
                       sizeof(err)) != -EINVAL)
            fail_msg("agreement '%s' accepted", bad[i].value);
        snprintf(want, sizeof(want), "agreement \"%s\": ", bad[i].value);
        if (strncmp(err, want, strlen(want)) != 0 ||
            strstr(err, bad[i].why) == NULL)
            fail_msg("agreement '%s': \"%s\" does not say \"%s\"", bad[i].value,
                     err, bad[i].why);
        assert_int_equal(c.agreements.count, 0);
        jm_cfg_release(&c, matcher_config_table);
    }
    /* A source that is no endpoint, and one given twice (its log would be
     * applied twice). */
    jm_cfg_defaults(&c, matcher_config_table);
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "source",
                                "tcp://127.0.0.1", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "source \"tcp://127.0.0.1\": want"));
    jm_cfg_set(&c, matcher_config_table, "source", "tcp://a:1", err,
               sizeof(err));
    jm_cfg_set(&c, matcher_config_table, "source", "tcp://b:2", err,
               sizeof(err));
    jm_cfg_set(&c, matcher_config_table, "source", "tcp://a:1", err,
               sizeof(err));
    assert_int_equal(matcher_config_check(&c, NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err,
                        "source tcp://a:1 is given twice (positions 1 and 3)");
    jm_cfg_release(&c, matcher_config_table);
    /* -t checks what the start checks: an agreement the start refuses
     * fails the test of the config too (exit 2, not 0). */
    {
        char *argv[] = {
            "jobmatch-matcher", "--source", "tcp://a:1", "--agreement",
            "101 147,999",      "-t",       NULL};

        assert_int_equal(jm_cfg_from_args(&c, matcher_config_table,
                                          &matcher_program, 6, argv),
                         -EINVAL);
    }
    /* shortlist_size is bounded by the table. */
    jm_cfg_defaults(&c, matcher_config_table);
    assert_int_equal(jm_cfg_set(&c, matcher_config_table, "shortlist_size",
                                "500", err, sizeof(err)),
                     -EINVAL);
    jm_cfg_release(&c, matcher_config_table);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_parses),
        cmocka_unit_test(test_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
