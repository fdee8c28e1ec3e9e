/* fuzz_config.c - any bytes as a service's config file (what an operator
 * writes in /etc/jobmatch), read with each service's own table, and for
 * the matcher also its own checks (sources, agreements).
 *
 * What must hold: no crash or sanitizer report; a refusal says where
 * ("path:line: reason"); everything read is released. */
#include <string.h>

#include "fuzz.h"
#include "intake_config.h"
#include "jm/cfg.h"
#include "matcher_config.h"
#include "profiles_server.h"

static void
one(const char *path, void *cfg, const jm_cfg_entry *table)
{
    char err[512] = "";

    jm_cfg_defaults(cfg, table);
    if (jm_cfg_load_file(cfg, table, path, err, sizeof(err)) != 0)
        fuzz_check(strncmp(err, path, strlen(path)) == 0);
    else if (table == matcher_config_table)
        (void) matcher_config_check(cfg, NULL, err, sizeof(err));
    jm_cfg_release(cfg, table);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    intake_config intake;
    struct profiles_config profiles;
    matcher_config matcher;
    const char *path = fuzz_input_file(data, size);

    one(path, &intake, intake_config_table);
    one(path, &profiles, profiles_config_table);
    one(path, &matcher, matcher_config_table);
    return 0;
}

/* The shipped samples, every key commented. */
int
fuzz_write_seeds(const char *dir)
{
    static const char *const files[] = {"intake.conf", "profiles.conf",
                                        "matcher.conf"};
    int n = 0;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char src[4096], buf[65536];
        FILE *f;
        size_t len;

        snprintf(src, sizeof(src), "%s/deploy/config/%s", JM_SOURCE_DIR,
                 files[i]);
        if ((f = fopen(src, "rb")) == NULL)
            return -1;
        len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        n += fuzz_write_file(dir, files[i], buf, len) == 0;
    }
    return n;
}
