/* log.h - one line per event, levels as syslog numbers.
 *
 * jm_log(level, component, fmt, ...) skips the call (and the evaluation of
 * its arguments) when the level is filtered out. The default sink writes
 * one line to stderr prefixed with "<N>", which journald records as the
 * priority (sd-daemon(3)); outside systemd a timestamp can be added.
 * The level and the sink are process-wide, set once in main (or a test). */
#ifndef JM_LOG_H
#define JM_LOG_H

#include <stdbool.h>

enum jm_log_level {
    JM_LOG_ERR = 3,
    JM_LOG_WARN = 4,
    JM_LOG_NOTICE = 5,
    JM_LOG_INFO = 6,
    JM_LOG_DEBUG = 7,
};

/* A sink receives the formatted message without a trailing newline. The
 * strings are borrowed for the duration of the call. */
typedef void (*jm_log_sink_fn)(int level, const char *component,
                               const char *message, void *arg);

/* Messages with a level number above this are dropped. Default: INFO. */
void jm_log_set_level(int level);
int jm_log_get_level(void);

/* NULL restores the default stderr sink. */
void jm_log_set_sink(jm_log_sink_fn sink, void *arg);

/* Prefix stderr lines with an ISO-8601 UTC time (for runs outside
 * systemd). Default: off. */
void jm_log_set_timestamps(bool on);

/* "err", "warn", "notice", "info", "debug" (or 3-7) -> level; -EINVAL if
 * unknown. */
int jm_log_level_parse(const char *name, int *level);
const char *jm_log_level_name(int level);

void jm__log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define jm_log(level, component, ...)                   \
    do {                                                \
        if ((level) <= jm_log_get_level())              \
            jm__log((level), (component), __VA_ARGS__); \
    } while (0)

#endif
