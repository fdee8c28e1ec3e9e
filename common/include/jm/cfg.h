/* cfg.h - table-driven configuration: "key value" files plus command-line
 * overrides.
 *
 * Each program declares one table of jm_cfg_entry (name, type, bounds,
 * default, offset of the field in its config struct), as Redis's
 * standardConfig does. From it jm_cfg parses files, fills defaults, checks
 * bounds, rejects unknown keys with file and line, maps "--data-dir DIR"
 * onto the key "data_dir", prints --help and the effective config.
 *
 * File syntax: one "key value" per line; '#' starts a comment line; the
 * value is the rest of the line with surrounding blanks trimmed, and may be
 * wrapped in double quotes to keep blanks. A list key may repeat. */
#ifndef JM_CFG_H
#define JM_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum jm_cfg_type {
    JM_CFG_T_END = 0,
    JM_CFG_T_STR,   /* char *, owned by the config (jm_cfg_release) */
    JM_CFG_T_INT,   /* int64_t, checked against [min, max] */
    JM_CFG_T_BOOL,  /* bool: yes/no, true/false, on/off, 1/0 */
    JM_CFG_T_LEVEL, /* int: a log level name (err..debug) */
    JM_CFG_T_LIST,  /* jm_strlist: every occurrence appends */
} jm_cfg_type;

/* A list value. items[count] is NULL. Owned by the config. */
typedef struct jm_strlist {
    char **items;
    size_t count;
} jm_strlist;

typedef struct jm_cfg_entry {
    const char *name; /* "data_dir"; on the command line "--data-dir" */
    jm_cfg_type type;
    size_t offset;       /* offsetof(struct X_config, field) */
    const char *def_str; /* default for STR and LEVEL (NULL allowed for STR) */
    int64_t def_int;     /* default for INT and BOOL */
    int64_t min, max;    /* bounds for INT */
    const char *help;    /* one line, for --help and -t */
    /* STR and LIST: NULL, or a check of each value given (not of the
     * default), so that a value that cannot work is refused where it is
     * written: "path:line: key \"value\": why" (a check of the whole
     * config, jm_cfg_program.check, cannot say the line). Returns false
     * with a one-line reason in why. */
    bool (*valid)(const char *value, char *why, size_t why_size);
} jm_cfg_entry;

#define JM_CFG_STR(name, off, def, help) \
    JM_CFG_STR_CHECKED(name, off, def, NULL, help)
#define JM_CFG_STR_CHECKED(name, off, def, valid, help)              \
    {                                                                \
        (name), JM_CFG_T_STR, (off), (def), 0, 0, 0, (help), (valid) \
    }
#define JM_CFG_INT(name, off, def, lo, hi, help)                           \
    {                                                                      \
        (name), JM_CFG_T_INT, (off), NULL, (def), (lo), (hi), (help), NULL \
    }
#define JM_CFG_BOOL(name, off, def, help)                             \
    {                                                                 \
        (name), JM_CFG_T_BOOL, (off), NULL, (def), 0, 1, (help), NULL \
    }
#define JM_CFG_LEVEL(name, off, def, help)                          \
    {                                                               \
        (name), JM_CFG_T_LEVEL, (off), (def), 0, 0, 0, (help), NULL \
    }
#define JM_CFG_LIST(name, off, help) JM_CFG_LIST_CHECKED(name, off, NULL, help)
#define JM_CFG_LIST_CHECKED(name, off, valid, help)                  \
    {                                                                \
        (name), JM_CFG_T_LIST, (off), NULL, 0, 0, 0, (help), (valid) \
    }
#define JM_CFG_END                                       \
    {                                                    \
        NULL, JM_CFG_T_END, 0, NULL, 0, 0, 0, NULL, NULL \
    }

/* A check for JM_CFG_*_CHECKED: a ZeroMQ endpoint the services can bind
 * or connect: tcp://HOST:PORT (PORT a number or '*'), ipc://PATH or
 * inproc://NAME, without blanks; "" passes (the keys where it means
 * "none"; the others say so themselves). */
bool jm_cfg_valid_endpoint(const char *value, char *why, size_t why_size);

/* Describes the program for --help and --version. */
typedef struct jm_cfg_program {
    const char *name;    /* "jobmatch-intake" */
    const char *summary; /* one line */
    const char *version; /* "0.1.0" */
    /* The service's own checks of the whole config (keys that must agree
     * with each other), or NULL: run by jm_cfg_from_args after every
     * source was applied, so that -t fails where the start would. Returns
     * 0, or nonzero with a one-line reason in err. */
    int (*check)(const void *cfg, char *err, size_t err_size);
} jm_cfg_program;

/* Fills every field of cfg from the table's defaults. Call once before
 * anything else; the config then owns its strings. */
void jm_cfg_defaults(void *cfg, const jm_cfg_entry *table);

/* Sets one key from text. Errors (unknown key, bad number, out of bounds)
 * return -EINVAL with a one-line reason in err. A LIST key appends. */
int jm_cfg_set(void *cfg, const jm_cfg_entry *table, const char *key,
               const char *value, char *err, size_t err_size);

/* Reads a config file. On error returns -EINVAL (or -errno if the file
 * cannot be read) and writes "path:line: reason" into err. */
int jm_cfg_load_file(void *cfg, const jm_cfg_entry *table, const char *path,
                     char *err, size_t err_size);

/* The whole command line: defaults, then the file named by -c/--config,
 * then every "--key value" / "--key=value" override in order (for a LIST
 * key, the first command-line occurrence replaces the file's values).
 * Also handles -h/--help, -v/--version and -t/--test-config (print the
 * effective config and exit).
 * Then the keys that mean nothing alone are checked, for any table that
 * declares them: allow_file set with key_file empty is refused ("allow_file
 * needs key_file: ..."), since the service would otherwise run in plain,
 * every caller plain_principal, the allow list ignored.
 * Returns 0: run; 1: done (help, version, test), exit 0; -EINVAL: bad
 * arguments or config, already reported on stderr (exit 2).
 * Calls jm_cfg_defaults itself. On any non-zero return the config has
 * already been released (jm_cfg_release), so a caller may simply exit;
 * releasing it again is harmless. */
int jm_cfg_from_args(void *cfg, const jm_cfg_entry *table,
                     const jm_cfg_program *program, int argc, char **argv);

/* Prints "key value" for every entry, with its help as a comment. */
void jm_cfg_print(const void *cfg, const jm_cfg_entry *table, FILE *out);

/* Frees the strings and lists the config owns; fields become NULL/empty. */
void jm_cfg_release(void *cfg, const jm_cfg_entry *table);

#endif
