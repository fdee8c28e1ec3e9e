/* clock.h - wall-clock time and calendar dates, with one test seam.
 *
 * Dates on the wire are "YYYY-MM-DD" strings; inside, a date is the number
 * of days since 1970-01-01 (int32_t). The clock can be frozen by tests
 * (jm_clock_set_fake), the one seam that needs a mock (STYLE.md 4.13). */
#ifndef JM_CLOCK_H
#define JM_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unix time in milliseconds (CLOCK_REALTIME), or the fake time if set. */
int64_t jm_clock_now_ms(void);

/* Freeze the clock at ms (0 unfreezes). Tests only. */
void jm_clock_set_fake(int64_t ms);

/* Today's date (UTC) as days since the epoch. */
int32_t jm_clock_today(void);

/* "YYYY-MM-DD" with a real calendar date (years 1900-2199) -> days since
 * the epoch. Returns 0, or -EINVAL if the text is not such a date. */
int jm_date_parse(const char *text, int32_t *days);

/* days since the epoch -> "YYYY-MM-DD" into buf (at least 11 bytes). */
void jm_date_format(int32_t days, char *buf, size_t size);

/* Days since the epoch from a civil date; month 1-12, day 1-31 (not
 * checked). */
int32_t jm_days_from_civil(int year, int month, int day);

/* True when year-month-day is a real date of the Gregorian calendar. */
bool jm_date_valid(int year, int month, int day);

#endif
