/* test_log.c - level filtering, the sink, and one line per event. */
#include <string.h>

#include "jm/log.h"
#include "jm_test.h"

struct capture {
    int calls;
    int level;
    char component[32];
    char message[256];
};

static void
capture_sink(int level, const char *component, const char *message,
             void *arg)
{
    struct capture *c = arg;

    c->calls++;
    c->level = level;
    snprintf(c->component, sizeof(c->component), "%s", component);
    snprintf(c->message, sizeof(c->message), "%s", message);
}

static int evaluations;

static int
counted(void)
{
    return ++evaluations;
}

static void
test_filtered_messages_are_not_formatted(void **state)
{
    struct capture c = {0};

    (void) state;
    jm_log_set_sink(capture_sink, &c);
    jm_log_set_level(JM_LOG_WARN);
    evaluations = 0;
    jm_log(JM_LOG_DEBUG, "t", "value %d", counted());
    assert_int_equal(c.calls, 0);
    assert_int_equal(evaluations, 0); /* arguments not even evaluated */
    jm_log(JM_LOG_ERR, "t", "value %d", counted());
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, JM_LOG_ERR);
    assert_string_equal(c.component, "t");
    assert_string_equal(c.message, "value 1");
    jm_log_set_sink(NULL, NULL);
    jm_log_set_level(JM_LOG_INFO);
}

static void
test_newlines_cannot_forge_lines(void **state)
{
    struct capture c = {0};

    (void) state;
    jm_log_set_sink(capture_sink, &c);
    jm_log(JM_LOG_WARN, "t", "bad title %s", "x\n<3>intake: forged");
    assert_null(strchr(c.message, '\n'));
    assert_string_equal(c.message, "bad title x <3>intake: forged");
    jm_log_set_sink(NULL, NULL);
}

static void
test_level_names_parse(void **state)
{
    int level = 0;

    (void) state;
    assert_int_equal(jm_log_level_parse("debug", &level), 0);
    assert_int_equal(level, JM_LOG_DEBUG);
    assert_int_equal(jm_log_level_parse("WARN", &level), 0);
    assert_int_equal(level, JM_LOG_WARN);
    assert_int_equal(jm_log_level_parse("4", &level), 0);
    assert_int_equal(level, JM_LOG_WARN);
    assert_true(jm_log_level_parse("loud", &level) < 0);
    assert_string_equal(jm_log_level_name(JM_LOG_NOTICE), "notice");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filtered_messages_are_not_formatted),
        cmocka_unit_test(test_newlines_cannot_forge_lines),
        cmocka_unit_test(test_level_names_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
