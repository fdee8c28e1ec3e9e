/* profiles_config.c - every setting of jobmatch-profiles, in one table
 * (the config file, the command line, --help and -t all come from it).
 * deploy/config/profiles.conf is the commented sample; a unit test parses
 * it with this table, so the two cannot drift apart.
 *
 * The defaults make `jobmatch-profiles --data-dir DIR --api ENDPOINT` a
 * working development server on loopback with no config file. */
#include <stddef.h>
#include <stdint.h>

#include "jm/sharing.h"
#include "profiles_server.h"

#define CFG(field) offsetof(struct profiles_config, field)

const jm_cfg_program profiles_program = {
    .name = "jobmatch-profiles",
    .summary = "citizens' competence profiles, progression and protected "
               "personal data",
    .version = JM_VERSION,
};

const jm_cfg_entry profiles_config_table[] = {
    JM_CFG_STR("data_dir", CFG(data_dir), "/var/lib/jobmatch/profiles",
               "LMDB store, key file and node secret (created if missing)"),
    JM_CFG_STR_CHECKED("api", CFG(api), "tcp://127.0.0.1:7201",
                       jm_cfg_valid_endpoint,
                       "api ROUTER endpoint (serves Fetch too)"),
    JM_CFG_STR_CHECKED(
        "log", CFG(log), "", jm_cfg_valid_endpoint,
        "separate log ROUTER endpoint for consumers; empty: the api"),
    JM_CFG_STR_CHECKED("tick", CFG(tick), "tcp://127.0.0.1:*",
                       jm_cfg_valid_endpoint,
                       "PUB endpoint announcing the log head; empty: none"),
    JM_CFG_STR("source_name", CFG(source_name), "profiles",
               "the log's source name (events carry it)"),
    JM_CFG_STR("key_file", CFG(key_file), "",
               "this server's CURVE key pair (jm_keys_save format, mode "
               "0600); empty: plain sockets, loopback only"),
    JM_CFG_STR("allow_file", CFG(allow_file), "",
               "CURVE allow list: 'PUBLIC_KEY principal' per line"),
    JM_CFG_STR("secret_file", CFG(secret_file), "",
               "32-byte node secret keying the CPR index (created 0600); "
               "empty: DATA_DIR/secret.key"),
    JM_CFG_STR("plain_principal", CFG(plain_principal), "local",
               "the principal of every caller when CURVE is off"),
    JM_CFG_LIST_CHECKED(
        "agreement", CFG(agreements), jm_sharing_valid,
        "'ORDER_MUNI CITIZEN_MUNI[,...]', the matcher's lines: that "
        "municipality's principals may read consenting citizens of those "
        "(repeat; none: every municipality's)"),
    JM_CFG_BOOL("accept_lost_keys", CFG(accept_lost_keys), 0,
                "start although keys.bin lacks key slots that records use, "
                "giving up those citizens' personal data (once, after a "
                "keys.bin lost for good; docs/operations.md)"),
    JM_CFG_LEVEL("log_level", CFG(log_level), "info",
                 "err, warn, notice, info or debug"),
    JM_CFG_BOOL("log_timestamps", CFG(log_timestamps), 0,
                "prefix log lines with the UTC time (outside systemd)"),
    JM_CFG_INT("max_request_size", CFG(max_request_size), 1 << 20, 1024,
               INT64_C(64) << 20, "largest request accepted, in bytes"),
    JM_CFG_INT("map_size_mb", CFG(map_size_mb), 1024, 16, 65536,
               "initial LMDB map size in MiB (sparse; grows when full)"),
    JM_CFG_INT("log_retain", CFG(log_retain), 0, 0, INT64_MAX / 2,
               "events kept in the log when pruning; 0: all"),
    JM_CFG_INT("idem_retain_hours", CFG(idem_retain_hours), 24, 1, 24 * 366,
               "how long request ids are remembered for duplicates"),
    JM_CFG_INT("housekeeping_ms", CFG(housekeeping_ms), 1000, 10, 3600000,
               "period of the housekeeping timer"),
    JM_CFG_END,
};
