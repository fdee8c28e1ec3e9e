/* matcher_config.c - the table of the matcher's settings (see
 * matcher_config.h). The bounds are where a value stops making sense, not
 * tuning advice; deploy/config/matcher.conf explains each key. */
#include "matcher_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jm/sharing.h"

#define CFG(field) offsetof(matcher_config, field)

const jm_cfg_entry matcher_config_table[] = {
    JM_CFG_STR("data_dir", CFG(data_dir), "/var/lib/jobmatch/matcher",
               "directory of the LMDB view (created if missing)"),
    JM_CFG_STR_CHECKED("api", CFG(api), "tcp://127.0.0.1:7301",
                       jm_cfg_valid_endpoint,
                       "api endpoint (ROUTER) for match queries"),
    JM_CFG_STR_CHECKED("publish", CFG(publish), "tcp://127.0.0.1:*",
                       jm_cfg_valid_endpoint,
                       "PUB endpoint for ShortlistChanged (topic 'shortlist'); "
                       "empty: none"),
    JM_CFG_LIST_CHECKED("source", CFG(sources), jm_cfg_valid_endpoint,
                        "api endpoint of an intake or profiles service "
                        "(repeat)"),
    JM_CFG_LIST("source_key", CFG(source_keys),
                "CURVE public key file of the source at the same position"),
    JM_CFG_LIST_CHECKED(
        "agreement", CFG(agreements), jm_sharing_valid,
        "'ORDER_MUNI CITIZEN_MUNI[,...]': that municipality's orders "
        "may be matched with consenting citizens of those (repeat; "
        "none: all sharing allowed)"),
    JM_CFG_INT("shortlist_size", CFG(shortlist_size), 20, 1, 200,
               "citizens kept per open order, live"),
    JM_CFG_INT("batch_limit", CFG(batch_limit), 256, 1, 1000000,
               "ids changed in one commit beyond which every shortlist is "
               "rebuilt in the background"),
    JM_CFG_STR("key_file", CFG(key_file), "",
               "this matcher's CURVE key pair (mode 0600); empty: plain"),
    JM_CFG_STR("allow_file", CFG(allow_file), "",
               "CURVE allow list: 'PUBLIC_KEY principal' per line"),
    JM_CFG_STR("plain_principal", CFG(plain_principal), "local",
               "who every caller is when CURVE is off"),
    JM_CFG_STR("esco_dir", CFG(esco_dir), "",
               "the ESCO subset (occupation -> ISCO); empty: the default"),
    JM_CFG_LEVEL("log_level", CFG(log_level), "info",
                 "least important level logged: err, warn, notice, info, "
                 "debug"),
    JM_CFG_BOOL("log_timestamps", CFG(log_timestamps), 0,
                "prefix log lines with the time (outside journald)"),
    JM_CFG_INT("max_request_size", CFG(max_request_size), 1024 * 1024, 1024,
               16 * 1024 * 1024, "largest request accepted, in bytes"),
    JM_CFG_INT("map_size_mb", CFG(map_size_mb), 1024, 16, 65536,
               "initial LMDB map size in MiB (sparse; grows when full)"),
    JM_CFG_INT("poll_ms", CFG(poll_ms), 1000, 10, 600000,
               "fetch from each source at least this often (ticks make it "
               "fetch at once)"),
    JM_CFG_INT("credit", CFG(credit), 1024, 1, 4096,
               "events asked for per fetch"),
    JM_CFG_INT("housekeeping_ms", CFG(housekeeping_ms), 1000, 10, 3600000,
               "period of LMDB reader checks"),
    JM_CFG_INT("rebuild_slice_us", CFG(rebuild_slice_us), 5000, 100, 1000000,
               "longest stretch of background shortlist work per loop turn"),
    JM_CFG_INT("rebuild_threads", CFG(rebuild_threads), 0, 0, 64,
               "threads recomputing stale shortlists together (the loop's "
               "and helpers); 0: the machine's processors, at most 8"),
    JM_CFG_INT("max_citizens", CFG(max_citizens), MATCHER_SLOTS_MAX, 1,
               MATCHER_SLOTS_MAX,
               "most citizens held; one more is logged and left out of "
               "every answer (matcher stats: profiles_left_out)"),
    JM_CFG_END,
};

static int check_whole(const void *config, char *err, size_t err_size);

const jm_cfg_program matcher_program = {
    .name = "jobmatch-matcher",
    .summary = "Matches open job orders and citizens: live, explained, fair.",
    .version = JM_VERSION,
    .check = check_whole,
};

int
matcher_config_check(const matcher_config *config, matcher_index_t *ix,
                     char *err, size_t err_size)
{
    if (config->sources.count == 0) {
        snprintf(err, err_size,
                 "no source: give --source ENDPOINT (an intake and a "
                 "profiles api)");
        return -EINVAL;
    }
    if (config->sources.count > 64) {
        snprintf(err, err_size, "at most 64 sources");
        return -EINVAL;
    }
    if (config->source_keys.count != 0 &&
        config->source_keys.count != config->sources.count) {
        snprintf(err, err_size,
                 "%zu source_key lines for %zu sources: give one per source",
                 config->source_keys.count, config->sources.count);
        return -EINVAL;
    }
    /* The sources' keys are only used with the matcher's own pair (a
     * CURVE client needs both): without it the matcher would follow them
     * in plain and be refused without a word. */
    if (config->source_keys.count != 0 && config->key_file[0] == '\0') {
        snprintf(err, err_size,
                 "source_key needs key_file: the matcher's own key pair, "
                 "whose public key the sources' allow lists name "
                 "(service:matcher)");
        return -EINVAL;
    }
    /* The same log followed twice is applied twice (and its position in
     * the list says which records are whose). */
    for (size_t i = 0; i < config->sources.count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(config->sources.items[i], config->sources.items[j]) ==
                0) {
                snprintf(err, err_size,
                         "source %s is given twice (positions %zu and %zu)",
                         config->sources.items[i], j + 1, i + 1);
                return -EINVAL;
            }
        }
    }
    for (size_t i = 0; i < config->agreements.count; i++) {
        uint16_t owner, munis[JM_SHARING_MUNIS_MAX];
        size_t n;
        char why[256];

        if (!jm_sharing_parse(config->agreements.items[i], &owner, munis, &n,
                              why, sizeof(why))) {
            snprintf(err, err_size, "agreement \"%s\": %s",
                     config->agreements.items[i], why);
            return -EINVAL;
        }
        if (ix != NULL)
            matcher_index_add_agreement(ix, owner, munis, n);
    }
    return 0;
}

/* For -t: the sources, their keys and the agreements, as the start checks
 * them (an operator's "-t" passed a config whose agreement the start then
 * refused). */
static int
check_whole(const void *config, char *err, size_t err_size)
{
    return matcher_config_check(config, NULL, err, err_size);
}
