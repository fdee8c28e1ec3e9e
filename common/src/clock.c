/* clock.c - wall-clock time and proleptic Gregorian dates.
 *
 * A date is a day count since 1970-01-01, so that comparing and subtracting
 * dates is integer arithmetic. The conversions follow Howard Hinnant's
 * "chrono-compatible low-level date algorithms": shift the year to start in
 * March, so that the leap day is the last day of the shifted year, then
 * split the count into 400-year eras of exactly 146097 days. They hold for
 * every date an int32_t day count can name, with no tables and no loops.
 *
 * The fake clock is the only mutable state here; it exists for tests (a
 * deadline or "today" must be reproducible), and a service never sets it. */
#include "jm/clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

static int64_t fake_now_ms; /* 0: use the real clock */

int64_t
jm_clock_now_ms(void)
{
    struct timespec now;

    if (fake_now_ms != 0)
        return fake_now_ms;
    /* CLOCK_REALTIME cannot fail with a valid clock id and pointer. */
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void
jm_clock_set_fake(int64_t ms)
{
    fake_now_ms = ms;
}

int32_t
jm_clock_today(void)
{
    int64_t ms = jm_clock_now_ms();
    int64_t days = ms / MS_PER_DAY;

    /* C division truncates towards zero; a date needs the floor, or every
     * instant of 1969-12-31 would count as 1970-01-01. */
    if (ms % MS_PER_DAY < 0)
        days--;
    return (int32_t) days;
}

static bool
is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    if (month == 2 && is_leap(year))
        return 29;
    return days[month - 1];
}

bool
jm_date_valid(int year, int month, int day)
{
    if (month < 1 || month > 12 || day < 1)
        return false;
    return day <= days_in_month(year, month);
}

int32_t
jm_days_from_civil(int year, int month, int day)
{
    /* Years start on 1 March: January and February belong to the year
     * before, which puts 29 February at the end. */
    int y = month <= 2 ? year - 1 : year;
    /* Floor division by 400 for negative years too. */
    int era = (y >= 0 ? y : y - 399) / 400;
    int year_of_era = y - era * 400;                          /* [0, 399] */
    int month_from_march = month > 2 ? month - 3 : month + 9; /* [0, 11] */
    /* 153 days per 5 months (31+30+31+30+31) gives each month's offset
     * from 1 March: (153 * m + 2) / 5. */
    int day_of_year = (153 * month_from_march + 2) / 5 + day - 1; /* [0, 365] */
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
                     day_of_year; /* [0, 146096] */

    /* 719468 days lie between 0000-03-01 and 1970-01-01. */
    return (int32_t) ((int64_t) era * 146097 + day_of_era - 719468);
}

/* The inverse of jm_days_from_civil. */
static void
civil_from_days(int32_t days, int *year, int *month, int *day)
{
    int64_t z = (int64_t) days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t day_of_era = z - era * 146097; /* [0, 146096] */
    /* Remove the leap days (one per 4 years, none per 100, one per 400)
     * before dividing by 365. */
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                           day_of_era / 146096) /
                          365; /* [0, 399] */
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 -
                                        year_of_era / 100); /* [0, 365] */
    int64_t month_from_march = (5 * day_of_year + 2) / 153; /* [0, 11] */
    int64_t m =
        month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;

    *day = (int) (day_of_year - (153 * month_from_march + 2) / 5 + 1);
    *month = (int) m;
    *year = (int) (year_of_era + era * 400 + (m <= 2 ? 1 : 0));
}

/* Exactly n ASCII digits -> value; false on anything else. */
static bool
parse_digits(const char *text, int n, int *value)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (text[i] - '0');
    }
    *value = v;
    return true;
}

int
jm_date_parse(const char *text, int32_t *days)
{
    int year, month, day;

    /* Strict: the wire format is exactly "YYYY-MM-DD". Checking each
     * character (rather than sscanf) rejects "2024-2-01", signs, blanks
     * and trailing text. */
    if (text == NULL)
        return -EINVAL;
    for (int i = 0; i < 10; i++) {
        if (text[i] == '\0')
            return -EINVAL;
    }
    if (text[10] != '\0' || text[4] != '-' || text[7] != '-')
        return -EINVAL;
    if (!parse_digits(text, 4, &year) || !parse_digits(text + 5, 2, &month) ||
        !parse_digits(text + 8, 2, &day))
        return -EINVAL;
    /* The range covers every birth date and deadline jobmatch can meet, and
     * keeps typos such as 0224 or 9024 out. */
    if (year < 1900 || year > 2199 || !jm_date_valid(year, month, day))
        return -EINVAL;
    *days = jm_days_from_civil(year, month, day);
    return 0;
}

void
jm_date_format(int32_t days, char *buf, size_t size)
{
    int year, month, day;

    civil_from_days(days, &year, &month, &day);
    snprintf(buf, size, "%04d-%02d-%02d", year, month, day);
}
