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
    assert_false(ix->has_agreements);
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
    assert_true(ix->has_agreements);
    assert_true(ix->agreements[161][165 >> 6] >> (165 & 63) & 1);
    assert_false(ix->agreements[161][101 >> 6] >> (101 & 63) & 1);
    matcher_index_destroy(&ix);
    jm_cfg_release(&c, matcher_config_table);
}

static void
test_checks(void **state)
{
    static const char *const bad[] = {
        "161",         "161 ",     "999 165", "161 165,",
        "161 165;167", "161 1650", "abc 161", "161 165,999",
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
        jm_cfg_defaults(&c, matcher_config_table);
        jm_cfg_set(&c, matcher_config_table, "source", "tcp://a:1", err,
                   sizeof(err));
        jm_cfg_set(&c, matcher_config_table, "agreement", bad[i], err,
                   sizeof(err));
        if (matcher_config_check(&c, NULL, err, sizeof(err)) != -EINVAL)
            fail_msg("agreement '%s' accepted", bad[i]);
        assert_non_null(strstr(err, "agreement"));
        jm_cfg_release(&c, matcher_config_table);
    }
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
