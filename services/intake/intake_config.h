/* intake_config.h - the intake service's settings: one struct, filled
 * from the table in intake_config.c by jm_cfg (defaults, then the file
 * given with -c, then "--key value" overrides). deploy/config/intake.conf
 * is the commented sample; a unit test parses it with this table. */
#ifndef INTAKE_CONFIG_H
#define INTAKE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "jm/cfg.h"

typedef struct intake_config {
    char *data_dir;
    char *api;  /* ROUTER endpoint of the api (it serves Fetch too) */
    char *log;  /* optional separate log ROUTER; "" = none */
    char *tick; /* PUB for Tick; "" = none */
    char *source_name;
    char *key_file;   /* this server's CURVE key pair; "" = plain */
    char *allow_file; /* "PUBLIC_KEY principal" lines */
    char *plain_principal;
    int log_level;
    bool log_timestamps;
    int64_t max_request_size;
    int64_t map_size_mb;
    int64_t log_retain;
    int64_t idem_retain_hours;
    int64_t housekeeping_ms;
} intake_config;

/* The table (ends with JM_CFG_END) and the program's description. */
extern const jm_cfg_entry intake_config_table[];
extern const jm_cfg_program intake_program;

#endif
