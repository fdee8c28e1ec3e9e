/* log.c - level filter and the default journald-friendly stderr sink.
 *
 * The level and sink are the only process-wide mutable state besides the
 * ZeroMQ context (STYLE.md 4.4); both are set in main before the loop runs,
 * and every process is single-threaded. */
#include "jm/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int log_level = JM_LOG_INFO;
static jm_log_sink_fn log_sink;
static void *log_sink_arg;
static bool log_timestamps;

static const char *const level_names[] = {
    [JM_LOG_ERR] = "err",   [JM_LOG_WARN] = "warn",   [JM_LOG_NOTICE] = "notice",
    [JM_LOG_INFO] = "info", [JM_LOG_DEBUG] = "debug",
};

void
jm_log_set_level(int level)
{
    log_level = level;
}

int
jm_log_get_level(void)
{
    return log_level;
}

void
jm_log_set_sink(jm_log_sink_fn sink, void *arg)
{
    log_sink = sink;
    log_sink_arg = arg;
}

void
jm_log_set_timestamps(bool on)
{
    log_timestamps = on;
}

int
jm_log_level_parse(const char *name, int *level)
{
    for (int lvl = JM_LOG_ERR; lvl <= JM_LOG_DEBUG; lvl++) {
        if (strcasecmp(name, level_names[lvl]) == 0) {
            *level = lvl;
            return 0;
        }
    }
    if (name[0] >= '3' && name[0] <= '7' && name[1] == '\0') {
        *level = name[0] - '0';
        return 0;
    }
    return -EINVAL;
}

const char *
jm_log_level_name(int level)
{
    if (level < JM_LOG_ERR || level > JM_LOG_DEBUG)
        return "?";
    return level_names[level];
}

void
jm__log(int level, const char *component, const char *fmt, ...)
{
    char message[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);

    /* One event is one line: a newline inside a message (say, from a
     * client-supplied string) would let a peer forge log lines. */
    for (char *p = message; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }

    if (log_sink != NULL) {
        log_sink(level, component, message, log_sink_arg);
        return;
    }
    if (log_timestamps) {
        char stamp[32];
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "<%d>%s.%03ldZ %s: %s\n", level, stamp,
                now.tv_nsec / 1000000, component, message);
    } else {
        fprintf(stderr, "<%d>%s: %s\n", level, component, message);
    }
}
