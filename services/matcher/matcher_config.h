/* matcher_config.h - the matcher's settings: one struct, filled from the
 * table in matcher_config.c by jm_cfg (defaults, then the file given with
 * -c, then "--key value" overrides; "source" and "agreement" repeat).
 * deploy/config/matcher.conf is the commented sample; a unit test parses
 * it with this table. */
#ifndef MATCHER_CONFIG_H
#define MATCHER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/cfg.h"
#include "matcher_index.h"

typedef struct matcher_config {
    char *data_dir;
    char *api;              /* ROUTER endpoint of the queries */
    char *publish;          /* PUB for ShortlistChanged; "" = none */
    jm_strlist sources;     /* api endpoints of intake / profiles services */
    jm_strlist source_keys; /* their CURVE public key files, in order */
    jm_strlist agreements;  /* "ORDER_MUNI CITIZEN_MUNI[,CITIZEN_MUNI...]" */
    int64_t shortlist_size;
    int64_t batch_limit;
    char *key_file;   /* this matcher's CURVE key pair; "" = plain */
    char *allow_file; /* "PUBLIC_KEY principal" lines */
    char *plain_principal;
    char *esco_dir; /* "" = jm_esco_default_dir() */
    int log_level;
    bool log_timestamps;
    int64_t max_request_size;
    int64_t map_size_mb;
    int64_t poll_ms;
    int64_t credit;
    int64_t housekeeping_ms;
    int64_t rebuild_slice_us;
    int64_t rebuild_threads; /* 0: matcher_par_default_threads(8) */
    int64_t max_citizens;    /* matcher_index_set_max_profiles */
} matcher_config;

extern const jm_cfg_entry matcher_config_table[];
extern const jm_cfg_program matcher_program;

/* Checks what the table cannot (at least one source, source keys in step
 * with sources, agreements naming real municipalities) and gives the
 * agreements to ix (NULL: only check). Returns 0, or -EINVAL with a
 * one-line reason in err. */
int matcher_config_check(const matcher_config *config, matcher_index_t *ix,
                         char *err, size_t err_size);

#endif
