/* test_clock.c - the fake clock, today, and strict calendar dates. */
#include <errno.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"

static void
test_fake_clock_freezes_and_unfreezes(void **state)
{
    int64_t real;

    (void) state;
    jm_clock_set_fake(1700000000123);
    assert_int_equal(jm_clock_now_ms(), 1700000000123);
    assert_int_equal(jm_clock_now_ms(), 1700000000123);
    jm_clock_set_fake(0);
    real = jm_clock_now_ms();
    /* After 2023-11-14 and before 2100: the real clock is back. */
    assert_true(real > 1700000000000);
    assert_true(real < INT64_C(4102444800000));
}

static void
test_today_is_utc_day(void **state)
{
    char buf[16];

    (void) state;
    /* 2024-02-29T23:59:59.999Z is still the 29th; one ms later the 1st. */
    jm_clock_set_fake(INT64_C(1709251199999));
    jm_date_format(jm_clock_today(), buf, sizeof(buf));
    assert_string_equal(buf, "2024-02-29");
    jm_clock_set_fake(INT64_C(1709251200000));
    jm_date_format(jm_clock_today(), buf, sizeof(buf));
    assert_string_equal(buf, "2024-03-01");
    /* Before the epoch the day count must be floored, not truncated. */
    jm_clock_set_fake(-1);
    assert_int_equal(jm_clock_today(), -1);
    jm_clock_set_fake(0);
}

static void
test_leap_years(void **state)
{
    (void) state;
    assert_false(jm_date_valid(1900, 2, 29)); /* divisible by 100 */
    assert_true(jm_date_valid(2000, 2, 29));  /* divisible by 400 */
    assert_true(jm_date_valid(2024, 2, 29));
    assert_false(jm_date_valid(2023, 2, 29));
    assert_false(jm_date_valid(2100, 2, 29));
    assert_true(jm_date_valid(2024, 12, 31));
    assert_false(jm_date_valid(2024, 4, 31));
    assert_false(jm_date_valid(2024, 13, 1));
    assert_false(jm_date_valid(2024, 0, 1));
    assert_false(jm_date_valid(2024, 1, 0));
}

static void
test_known_day_numbers(void **state)
{
    int32_t days = 0;

    (void) state;
    assert_int_equal(jm_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(jm_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(jm_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(jm_days_from_civil(1900, 1, 1), -25567);
    /* 2024-02-29 = 1709164800 s since the epoch / 86400. */
    assert_int_equal(jm_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(jm_date_parse("2024-02-29", &days), 0);
    assert_int_equal(days, 19782);
}

static void
test_round_trip_over_three_centuries(void **state)
{
    int32_t first = jm_days_from_civil(1900, 1, 1);
    int32_t last = jm_days_from_civil(2199, 12, 31);
    int32_t expected_year = 1900, expected_month = 1, expected_day = 1;

    (void) state;
    /* Every day from 1900 to 2199: format, parse back, and check that the
     * text walks the calendar one day at a time. */
    for (int32_t d = first; d <= last; d++) {
        char buf[16], want[48];
        int32_t back = 0;

        jm_date_format(d, buf, sizeof(buf));
        snprintf(want, sizeof(want), "%04d-%02d-%02d", expected_year,
                 expected_month, expected_day);
        if (strcmp(buf, want) != 0)
            fail_msg("day %d formats as %s, expected %s", (int) d, buf, want);
        assert_int_equal(jm_date_parse(buf, &back), 0);
        assert_int_equal(back, d);

        if (jm_date_valid(expected_year, expected_month, expected_day + 1)) {
            expected_day++;
        } else if (expected_month < 12) {
            expected_month++;
            expected_day = 1;
        } else {
            expected_year++;
            expected_month = 1;
            expected_day = 1;
        }
    }
    /* 300 years, 73 of them leap (1900 and 2100 are not). */
    assert_int_equal(last - first + 1, 300 * 365 + 73);
}

static void
test_parse_is_strict(void **state)
{
    static const char *const bad[] = {
        "2024-2-01",   "2024-02-30", "2024-02-01x", " 2024-02-01",
        "2024-02-01 ", "2024/02/01", "24-02-01",    "",
        "2024-02-1",   "2024-13-01", "2024-00-10",  "2024-01-00",
        "1899-12-31",  "2200-01-01", "1900-02-29",  "2023-02-29",
        "+024-02-01",  "2024-0a-01", "20240201",    "2024-02-001",
    };
    int32_t days = 12345;

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jm_date_parse(bad[i], &days) != -EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    assert_int_equal(days, 12345); /* untouched on failure */
    assert_int_equal(jm_date_parse(NULL, &days), -EINVAL);
    assert_int_equal(jm_date_parse("1900-01-01", &days), 0);
    assert_int_equal(jm_date_parse("2199-12-31", &days), 0);
    assert_int_equal(jm_date_parse("2000-02-29", &days), 0);
}

static void
test_format_small_buffer_truncates(void **state)
{
    char buf[5];

    (void) state;
    memset(buf, 'x', sizeof(buf));
    jm_date_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_clock_freezes_and_unfreezes),
        cmocka_unit_test(test_today_is_utc_day),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_known_day_numbers),
        cmocka_unit_test(test_round_trip_over_three_centuries),
        cmocka_unit_test(test_parse_is_strict),
        cmocka_unit_test(test_format_small_buffer_truncates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
