/* intake_config.c - the table of the intake service's settings (see
 * intake_config.h). The bounds are where a value stops making sense, not
 * tuning advice; deploy/config/intake.conf explains each key. */
#include "intake_config.h"

#include <stddef.h>

#define CFG(field) offsetof(intake_config, field)

const jm_cfg_entry intake_config_table[] = {
    JM_CFG_STR("data_dir", CFG(data_dir), "/var/lib/jobmatch/intake",
               "directory of the LMDB environment (created if missing)"),
    JM_CFG_STR_CHECKED("api", CFG(api), "tcp://127.0.0.1:7101",
                       jm_cfg_valid_endpoint,
                       "api endpoint (ROUTER); it serves the log's Fetch too"),
    JM_CFG_STR_CHECKED(
        "log", CFG(log), "", jm_cfg_valid_endpoint,
        "separate log endpoint (ROUTER) for consumers; empty: none"),
    JM_CFG_STR_CHECKED("tick", CFG(tick), "tcp://127.0.0.1:*",
                       jm_cfg_valid_endpoint,
                       "PUB endpoint announcing the head seq; empty: none"),
    JM_CFG_STR("source_name", CFG(source_name), "intake",
               "the log's source name, as consumers see it"),
    JM_CFG_STR("key_file", CFG(key_file), "",
               "this server's CURVE key pair (mode 0600); empty: plain"),
    JM_CFG_STR("allow_file", CFG(allow_file), "",
               "CURVE allow list: 'PUBLIC_KEY principal' per line (needs "
               "key_file)"),
    JM_CFG_STR("plain_principal", CFG(plain_principal), "local",
               "who every caller is when CURVE is off"),
    JM_CFG_LEVEL("log_level", CFG(log_level), "info",
                 "least important level logged: err, warn, notice, info, "
                 "debug"),
    JM_CFG_BOOL("log_timestamps", CFG(log_timestamps), 0,
                "prefix log lines with the time (outside journald)"),
    JM_CFG_INT("max_request_size", CFG(max_request_size), INT64_C(1) << 20,
               1024, INT64_C(16) << 20, "largest request accepted, in bytes"),
    JM_CFG_INT("map_size_mb", CFG(map_size_mb), 1024, 16, 65536,
               "initial LMDB map size in MiB (sparse; grows when full)"),
    JM_CFG_INT("log_retain", CFG(log_retain), 0, 0, INT64_C(1) << 40,
               "events kept in the log after pruning; 0: all"),
    JM_CFG_INT("idem_retain_hours", CFG(idem_retain_hours), 24, 1,
               INT64_C(24) * 366,
               "hours a request id is remembered for duplicates"),
    JM_CFG_INT("housekeeping_ms", CFG(housekeeping_ms), 1000, 10, 3600000,
               "period of expiry, pruning and LMDB reader checks"),
    JM_CFG_END,
};

const jm_cfg_program intake_program = {
    .name = "jobmatch-intake",
    .summary = "Job orders of companies: the source of truth, with its log.",
    .version = JM_VERSION,
};
