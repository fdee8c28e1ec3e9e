/* cfg.c - table-driven configuration (Redis standardConfig style).
 *
 * A program describes every setting once, in a jm_cfg_entry table: name,
 * type, default, bounds, help and where the value lives in its config
 * struct. Everything here is driven by that table: defaults, the file
 * parser, command-line overrides, --help and the -t dump. Adding a setting
 * is adding one table row; no code here knows any key.
 *
 * Sources apply in a fixed order: defaults, then the file named by -c, then
 * the command-line overrides in the order given. A later value replaces an
 * earlier one, except for LIST keys, which append. So that the command line
 * can still replace a list from the file, its first occurrence of a LIST key
 * clears the file's items before appending.
 *
 * File format details the header leaves open, decided here:
 * - only whole-line comments: "key value # note" has the value
 *   "value # note" (as in redis.conf);
 * - a quoted value runs from the first '"' to the last '"' of the line, with
 *   no escapes, so a value holding quotes can still be written, and the -t
 *   dump always reads back;
 * - an empty value ("") for a LIST key appends nothing: on the command line,
 *   --key "" thus empties a list the file had filled.
 *
 * One exception to "no code here knows any key": the keys every service
 * shares and that mean nothing alone (needs_rules below). Checking them
 * here, once, means no service can forget to, and a service that never
 * declared the keys is not affected. */
#include "jm/cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jm/log.h"
#include "jm/mem.h"

/* The field an entry describes, inside the caller's config struct. */
#define FIELD(cfg, entry, type) ((type *) ((char *) (cfg) + (entry)->offset))
#define CFIELD(cfg, entry, type) \
    ((const type *) ((const char *) (cfg) + (entry)->offset))

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds the entry for key[0..len). With dashes, '-' in the key matches '_'
 * in the name: the command line spells data_dir as --data-dir. */
static const jm_cfg_entry *
find_entry(const jm_cfg_entry *table, const char *key, size_t len, bool dashes)
{
    for (const jm_cfg_entry *e = table; e->name != NULL; e++) {
        size_t i;

        if (strlen(e->name) != len)
            continue;
        for (i = 0; i < len; i++) {
            char c = key[i];

            if (dashes && c == '-')
                c = '_';
            if (c != e->name[i])
                break;
        }
        if (i == len)
            return e;
    }
    return NULL;
}

static void
list_clear(jm_strlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    /* Keep the promise that items[count] is NULL, even when empty. */
    list->items = jm_xcalloc(1, sizeof(*list->items));
    list->count = 0;
}

static void
list_append(jm_strlist *list, const char *value)
{
    list->items =
        jm_xrealloc(list->items, (list->count + 2) * sizeof(*list->items));
    list->items[list->count++] = jm_xstrdup(value);
    list->items[list->count] = NULL;
}

/* The spellings people write in redis.conf, mosquitto.conf and systemd
 * units; case-insensitive, since "Yes" is no less clear. */
static bool
parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < JM_COUNTOF(yes); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool
parse_int(const char *text, int64_t *out)
{
    char *end;
    long long v;

    /* strtoll would skip leading blanks and accept "" as 0: refuse both. */
    if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '-' ||
          text[0] == '+'))
        return false;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return false;
    *out = (int64_t) v;
    return true;
}

/* Stores value into the entry's field; the one place that knows how each
 * type is parsed and checked. */
static int
set_value(void *cfg, const jm_cfg_entry *e, const char *value, char *err,
          size_t err_size)
{
    int64_t number;
    bool flag;
    int level;

    if (e->valid != NULL &&
        (e->type == JM_CFG_T_STR || e->type == JM_CFG_T_LIST)) {
        char why[256] = "";

        if (!e->valid(value, why, sizeof(why))) {
            set_err(err, err_size, "%s \"%s\": %s", e->name, value, why);
            return -EINVAL;
        }
    }
    switch (e->type) {
    case JM_CFG_T_STR: {
        char **field = FIELD(cfg, e, char *);

        free(*field);
        *field = jm_xstrdup(value);
        return 0;
    }
    case JM_CFG_T_INT:
        if (!parse_int(value, &number)) {
            set_err(err, err_size, "bad integer \"%s\" for %s", value, e->name);
            return -EINVAL;
        }
        if (number < e->min || number > e->max) {
            set_err(err, err_size,
                    "%s %" PRId64 " out of bounds (%" PRId64 " to %" PRId64 ")",
                    e->name, number, e->min, e->max);
            return -EINVAL;
        }
        *FIELD(cfg, e, int64_t) = number;
        return 0;
    case JM_CFG_T_BOOL:
        if (!parse_bool(value, &flag)) {
            set_err(err, err_size,
                    "bad boolean \"%s\" for %s (yes/no, true/false, on/off, "
                    "1/0)",
                    value, e->name);
            return -EINVAL;
        }
        *FIELD(cfg, e, bool) = flag;
        return 0;
    case JM_CFG_T_LEVEL:
        if (jm_log_level_parse(value, &level) != 0) {
            set_err(err, err_size,
                    "bad log level \"%s\" for %s (err, warn, notice, info, "
                    "debug)",
                    value, e->name);
            return -EINVAL;
        }
        *FIELD(cfg, e, int) = level;
        return 0;
    case JM_CFG_T_LIST:
        /* "" appends nothing (see the file comment). */
        if (value[0] != '\0')
            list_append(FIELD(cfg, e, jm_strlist), value);
        return 0;
    case JM_CFG_T_END:
        break;
    }
    JM_ASSERT(!"config table entry of unknown type");
    return -EINVAL;
}

void
jm_cfg_defaults(void *cfg, const jm_cfg_entry *table)
{
    JM_ASSERT(cfg != NULL && table != NULL);
    for (const jm_cfg_entry *e = table; e->name != NULL; e++) {
        switch (e->type) {
        case JM_CFG_T_STR:
            *FIELD(cfg, e, char *) =
                e->def_str != NULL ? jm_xstrdup(e->def_str) : NULL;
            break;
        case JM_CFG_T_INT:
            /* A default outside its own bounds is a bug in the table. */
            JM_ASSERT(e->def_int >= e->min && e->def_int <= e->max);
            *FIELD(cfg, e, int64_t) = e->def_int;
            break;
        case JM_CFG_T_BOOL:
            *FIELD(cfg, e, bool) = e->def_int != 0;
            break;
        case JM_CFG_T_LEVEL: {
            int level = JM_LOG_INFO;

            if (e->def_str != NULL) {
                int rc = jm_log_level_parse(e->def_str, &level);

                JM_ASSERT(rc == 0);
            }
            *FIELD(cfg, e, int) = level;
            break;
        }
        case JM_CFG_T_LIST: {
            jm_strlist *list = FIELD(cfg, e, jm_strlist);

            list->items = NULL;
            list->count = 0;
            list_clear(list);
            break;
        }
        case JM_CFG_T_END:
            break;
        }
    }
}

int
jm_cfg_set(void *cfg, const jm_cfg_entry *table, const char *key,
           const char *value, char *err, size_t err_size)
{
    const jm_cfg_entry *e;

    JM_ASSERT(cfg != NULL && table != NULL && key != NULL);
    e = find_entry(table, key, strlen(key), false);
    if (e == NULL) {
        set_err(err, err_size, "unknown key \"%s\"", key);
        return -EINVAL;
    }
    if (value == NULL) {
        set_err(err, err_size, "value missing for %s", key);
        return -EINVAL;
    }
    return set_value(cfg, e, value, err, err_size);
}

bool
jm_cfg_valid_endpoint(const char *value, char *why, size_t why_size)
{
    const char *rest, *colon;

    JM_ASSERT(value != NULL && why != NULL);
    if (value[0] == '\0')
        return true;
    for (const char *p = value; *p != '\0'; p++) {
        if (is_blank(*p) || *p == '\n') {
            snprintf(why, why_size, "blank inside an endpoint");
            return false;
        }
    }
    if (strncmp(value, "ipc://", 6) == 0 ||
        strncmp(value, "inproc://", 9) == 0) {
        if (strchr(value, '/')[2] != '\0')
            return true;
        snprintf(why, why_size, "no path after the transport");
        return false;
    }
    if (strncmp(value, "tcp://", 6) != 0) {
        snprintf(why, why_size,
                 "want tcp://HOST:PORT, ipc://PATH or inproc://NAME");
        return false;
    }
    rest = value + 6;
    colon = strrchr(rest, ':');
    if (colon == NULL || colon == rest) {
        snprintf(why, why_size, "want tcp://HOST:PORT (PORT a number or *)");
        return false;
    }
    if (strcmp(colon + 1, "*") != 0) {
        int64_t port;

        if (!parse_int(colon + 1, &port) || port < 1 || port > 65535) {
            snprintf(why, why_size,
                     "the port must be a number from 1 to 65535, or *");
            return false;
        }
    }
    return true;
}

/* One line of a config file, modified in place. */
static int
parse_line(void *cfg, const jm_cfg_entry *table, char *line, char *err,
           size_t err_size)
{
    char *key = line, *value, *end;
    size_t len = strlen(line);

    /* Trimming blanks also drops the '\r' of a file saved with CRLF line
     * ends, which would otherwise end up inside the value. */
    while (len > 0 && is_blank(line[len - 1]))
        line[--len] = '\0';
    while (is_blank(*key))
        key++;
    if (*key == '\0' || *key == '#')
        return 0;

    /* The key is the first word; everything after the blanks that follow
     * it is the value, inner blanks included. */
    for (end = key; *end != '\0' && !is_blank(*end); end++)
        ;
    value = end;
    while (is_blank(*value))
        value++;
    *end = '\0';
    if (*value == '\0')
        return jm_cfg_set(cfg, table, key, NULL, err, err_size);

    if (*value == '"') {
        /* First to last quote, no escapes: see the file comment. */
        size_t vlen = strlen(value);

        if (vlen < 2 || value[vlen - 1] != '"') {
            set_err(err, err_size, "unterminated quote in value of %s", key);
            return -EINVAL;
        }
        value[vlen - 1] = '\0';
        value++;
    }
    return jm_cfg_set(cfg, table, key, value, err, err_size);
}

int
jm_cfg_load_file(void *cfg, const jm_cfg_entry *table, const char *path,
                 char *err, size_t err_size)
{
    FILE *file;
    char *line = NULL;
    char reason[512];
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = 0;

    JM_ASSERT(cfg != NULL && table != NULL && path != NULL);
    if ((file = fopen(path, "r")) == NULL) {
        rc = -errno;
        set_err(err, err_size, "%s: %s", path, strerror(errno));
        return rc;
    }
    /* getline: no line-length limit, so a long value is never silently
     * split into a second, bogus line. */
    while ((len = getline(&line, &cap, file)) >= 0) {
        lineno++;
        /* A NUL would silently cut the line short: refuse the file. */
        if ((size_t) len != strlen(line)) {
            set_err(err, err_size, "%s:%u: NUL byte in line", path, lineno);
            rc = -EINVAL;
            goto out;
        }
        if ((rc = parse_line(cfg, table, line, reason, sizeof(reason))) != 0) {
            set_err(err, err_size, "%s:%u: %s", path, lineno, reason);
            goto out;
        }
    }
    if (ferror(file)) {
        set_err(err, err_size, "%s: read error", path);
        rc = -EIO;
    }

out:
    free(line);
    (void) fclose(file); /* read-only: nothing to lose on close */
    return rc;
}

/* ---- the command line ---- */

/* Help text for an option's value, e.g. "--max-conn INT". */
static const char *
type_word(jm_cfg_type type)
{
    switch (type) {
    case JM_CFG_T_STR:
        return "TEXT";
    case JM_CFG_T_INT:
        return "INT";
    case JM_CFG_T_BOOL:
        return "yes|no";
    case JM_CFG_T_LEVEL:
        return "LEVEL";
    case JM_CFG_T_LIST:
        return "TEXT";
    case JM_CFG_T_END:
        break;
    }
    return "?";
}

static void
print_option_name(const char *name, FILE *out)
{
    fputs("--", out);
    for (const char *p = name; *p != '\0'; p++)
        fputc(*p == '_' ? '-' : *p, out);
}

/* --help, generated from the table, so it cannot forget a setting. */
static void
print_usage(const jm_cfg_program *program, const jm_cfg_entry *table, FILE *out)
{
    fprintf(out, "Usage: %s [-c FILE] [-t] [-v] [-h] [--KEY VALUE]...\n",
            program->name);
    if (program->summary != NULL)
        fprintf(out, "%s\n", program->summary);
    fputs("\nOptions:\n"
          "  -c, --config FILE    read settings from FILE (\"key value\" "
          "lines)\n"
          "  -t, --test-config    print the effective settings and exit\n"
          "  -v, --version        print the version and exit\n"
          "  -h, --help           print this help and exit\n"
          "\nSettings: \"key value\" in the file, --key VALUE or "
          "--key=VALUE on the\ncommand line ('-' for '_'); the command line "
          "wins over the file.\n",
          out);
    for (const jm_cfg_entry *e = table; e->name != NULL; e++) {
        fputs("  ", out);
        print_option_name(e->name, out);
        fprintf(out, " %s\n      %s (", type_word(e->type),
                e->help != NULL ? e->help : "");
        switch (e->type) {
        case JM_CFG_T_STR:
            if (e->def_str != NULL)
                fprintf(out, "default: \"%s\"", e->def_str);
            else
                fputs("default: none", out);
            break;
        case JM_CFG_T_INT:
            fprintf(out, "default: %" PRId64 "; %" PRId64 " to %" PRId64,
                    e->def_int, e->min, e->max);
            break;
        case JM_CFG_T_BOOL:
            fprintf(out, "default: %s", e->def_int ? "yes" : "no");
            break;
        case JM_CFG_T_LEVEL:
            fprintf(out, "default: %s; err, warn, notice, info, debug",
                    e->def_str != NULL ? e->def_str : "info");
            break;
        case JM_CFG_T_LIST:
            fputs("default: empty; repeat to add", out);
            break;
        case JM_CFG_T_END:
            break;
        }
        fputs(")\n", out);
    }
}

static void report(const jm_cfg_program *program, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
report(const jm_cfg_program *program, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", program->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static bool
is_option(const char *arg, const char *short_name, const char *long_name)
{
    return strcmp(arg, short_name) == 0 || strcmp(arg, long_name) == 0;
}

/* A value that looks like the next option ("--x") means the value was
 * forgotten. A value that really starts with "--" can be given as
 * --key=--value. Single-dash values ("-5") are taken as values. */
static bool
looks_like_option(const char *arg)
{
    return arg[0] == '-' && arg[1] == '-' && arg[2] != '\0';
}

struct override {
    const jm_cfg_entry *entry;
    const char *value;
};

/* Reads "--key=value" or "--key value" at argv[*index]; advances *index
 * past the value. Reports and returns -EINVAL on an unknown key or a missing
 * value. */
static int
read_override(const jm_cfg_program *program, const jm_cfg_entry *table,
              int argc, char **argv, int *index, struct override *out)
{
    const char *arg = argv[*index];
    const char *key = arg + 2;
    const char *equals = strchr(key, '=');
    size_t key_len = equals != NULL ? (size_t) (equals - key) : strlen(key);

    out->entry = find_entry(table, key, key_len, true);
    if (out->entry == NULL) {
        report(program, "unknown option --%.*s (see --help)", (int) key_len,
               key);
        return -EINVAL;
    }
    if (equals != NULL) {
        out->value = equals + 1;
        return 0;
    }
    if (*index + 1 >= argc || looks_like_option(argv[*index + 1])) {
        report(program, "option %s needs a value", arg);
        return -EINVAL;
    }
    out->value = argv[++*index];
    return 0;
}

/* Applies the command-line overrides in order. The first occurrence of a
 * LIST key replaces what the file gave; later ones append. */
static int
apply_overrides(void *cfg, const jm_cfg_entry *table,
                const jm_cfg_program *program, const struct override *list,
                size_t count)
{
    size_t entries = 0;
    bool *replaced;
    char err[512];
    int rc = 0;

    /* One flag per table row: has this key's list been replaced yet? */
    while (table[entries].name != NULL)
        entries++;
    replaced = jm_xcalloc(entries + 1, sizeof(*replaced));
    for (size_t i = 0; i < count && rc == 0; i++) {
        const jm_cfg_entry *e = list[i].entry;
        size_t slot = (size_t) (e - table);

        if (e->type == JM_CFG_T_LIST && !replaced[slot]) {
            list_clear(FIELD(cfg, e, jm_strlist));
            replaced[slot] = true;
        }
        if ((rc = set_value(cfg, e, list[i].value, err, sizeof(err))) != 0)
            report(program, "command line: %s", err);
    }
    free(replaced);
    return rc;
}

/* ---- keys that need another ---- */

/* A key whose value is ignored unless another key is set too. The
 * service would start without it, doing less than the operator asked for
 * and saying nothing: an allow list without a key pair leaves the sockets
 * plain, so every caller gets plain_principal's rights (with the default
 * 'local', all of them, on profiles the citizens' personal data too) and
 * the list goes unread. */
static const struct {
    const char *key, *needs, *why;
} needs_rules[] = {
    {"allow_file", "key_file",
     "an allow list is used only with CURVE, which needs this service's own "
     "key pair; without one the sockets would be plain, every caller "
     "plain_principal (by default 'local', which may do everything) and "
     "the list unread. Set key_file too, or leave allow_file empty "
     "(docs/operations.md, \"CURVE keys and allow lists\")"},
};

/* Is the entry's value something rather than its "off" value? Only the
 * types a rule can name: a string or a list. */
static bool
entry_set(const void *cfg, const jm_cfg_entry *e)
{
    if (e->type == JM_CFG_T_STR) {
        const char *s = *CFIELD(cfg, e, char *);

        return s != NULL && s[0] != '\0';
    }
    if (e->type == JM_CFG_T_LIST)
        return CFIELD(cfg, e, jm_strlist)->count > 0;
    return true;
}

/* Runs after every source was applied: the file may set allow_file and
 * the command line empty key_file. Reports the first broken rule. */
static int
check_needs(const void *cfg, const jm_cfg_entry *table,
            const jm_cfg_program *program)
{
    for (size_t i = 0; i < JM_COUNTOF(needs_rules); i++) {
        const char *key = needs_rules[i].key, *needs = needs_rules[i].needs;
        const jm_cfg_entry *e = find_entry(table, key, strlen(key), false);
        const jm_cfg_entry *n = find_entry(table, needs, strlen(needs), false);

        if (e == NULL || n == NULL || !entry_set(cfg, e) || entry_set(cfg, n))
            continue;
        report(program, "%s needs %s: %s", key, needs, needs_rules[i].why);
        return -EINVAL;
    }
    return 0;
}

int
jm_cfg_from_args(void *cfg, const jm_cfg_entry *table,
                 const jm_cfg_program *program, int argc, char **argv)
{
    struct override *overrides;
    size_t override_count = 0;
    const char *config_path = NULL;
    bool help = false, version = false, test = false;
    char err[1024];
    int rc = -EINVAL;

    JM_ASSERT(cfg != NULL && table != NULL && program != NULL);
    JM_ASSERT(argc >= 1 && argv != NULL);
    jm_cfg_defaults(cfg, table);
    overrides = jm_xcalloc((size_t) argc, sizeof(*overrides));

    /* First the whole command line is read and checked, so that a typo is
     * reported before any file is opened, and -c may come after the
     * overrides without changing what wins. */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (is_option(arg, "-h", "--help")) {
            help = true;
        } else if (is_option(arg, "-v", "--version")) {
            version = true;
        } else if (is_option(arg, "-t", "--test-config")) {
            test = true;
        } else if (is_option(arg, "-c", "--config") ||
                   strncmp(arg, "--config=", 9) == 0) {
            const char *path = NULL;

            if (arg[1] != '-' || arg[8] == '\0') {
                /* "-c FILE" or "--config FILE" */
                if (i + 1 < argc && !looks_like_option(argv[i + 1]))
                    path = argv[++i];
            } else {
                path = arg + 9; /* "--config=FILE" */
            }
            if (path == NULL || path[0] == '\0') {
                report(program, "option %s needs a file name", arg);
                goto out;
            }
            if (config_path != NULL) {
                report(program, "only one config file may be given");
                goto out;
            }
            config_path = path;
        } else if (looks_like_option(arg)) {
            if (read_override(program, table, argc, argv, &i,
                              &overrides[override_count]) != 0)
                goto out;
            override_count++;
        } else {
            report(program, "unexpected argument \"%s\" (see --help)", arg);
            goto out;
        }
    }

    /* --help and --version answer even when the config file is broken:
     * they are what one reaches for to find out why. */
    if (help) {
        print_usage(program, table, stdout);
        rc = 1;
        goto out;
    }
    if (version) {
        printf("%s %s\n", program->name,
               program->version != NULL ? program->version : "");
        rc = 1;
        goto out;
    }
    if (config_path != NULL &&
        jm_cfg_load_file(cfg, table, config_path, err, sizeof(err)) != 0) {
        report(program, "%s", err);
        goto out;
    }
    if (apply_overrides(cfg, table, program, overrides, override_count) != 0)
        goto out;
    /* Before -t: a test of the config must fail where the start would. */
    if (check_needs(cfg, table, program) != 0)
        goto out;
    if (program->check != NULL && program->check(cfg, err, sizeof(err)) != 0) {
        report(program, "%s", err);
        goto out;
    }
    if (test) {
        jm_cfg_print(cfg, table, stdout);
        rc = 1;
        goto out;
    }
    rc = 0;

out:
    free(overrides);
    fflush(stdout);
    /* The caller exits on anything but 0; releasing here keeps that path
     * free of leaks (and jm_cfg_release stays safe to call again). */
    if (rc != 0)
        jm_cfg_release(cfg, table);
    return rc;
}

/* ---- printing and release ---- */

/* Writes a string value so that the file parser reads it back unchanged. */
static void
print_string(const char *s, FILE *out)
{
    size_t len = strlen(s);

    if (len == 0 || s[0] == '"' || is_blank(s[0]) || is_blank(s[len - 1]))
        fprintf(out, "\"%s\"\n", s);
    else
        fprintf(out, "%s\n", s);
}

void
jm_cfg_print(const void *cfg, const jm_cfg_entry *table, FILE *out)
{
    JM_ASSERT(cfg != NULL && table != NULL && out != NULL);
    for (const jm_cfg_entry *e = table; e->name != NULL; e++) {
        if (e->help != NULL)
            fprintf(out, "# %s\n", e->help);
        switch (e->type) {
        case JM_CFG_T_STR: {
            const char *s = *CFIELD(cfg, e, char *);

            if (s == NULL) {
                fprintf(out, "# %s is not set\n", e->name);
                break;
            }
            fprintf(out, "%s ", e->name);
            print_string(s, out);
            break;
        }
        case JM_CFG_T_INT:
            fprintf(out, "%s %" PRId64 "\n", e->name, *CFIELD(cfg, e, int64_t));
            break;
        case JM_CFG_T_BOOL:
            fprintf(out, "%s %s\n", e->name,
                    *CFIELD(cfg, e, bool) ? "yes" : "no");
            break;
        case JM_CFG_T_LEVEL:
            fprintf(out, "%s %s\n", e->name,
                    jm_log_level_name(*CFIELD(cfg, e, int)));
            break;
        case JM_CFG_T_LIST: {
            const jm_strlist *list = CFIELD(cfg, e, jm_strlist);

            if (list->count == 0)
                fprintf(out, "# %s is empty\n", e->name);
            for (size_t i = 0; i < list->count; i++) {
                fprintf(out, "%s ", e->name);
                print_string(list->items[i], out);
            }
            break;
        }
        case JM_CFG_T_END:
            break;
        }
    }
}

void
jm_cfg_release(void *cfg, const jm_cfg_entry *table)
{
    if (cfg == NULL || table == NULL)
        return;
    for (const jm_cfg_entry *e = table; e->name != NULL; e++) {
        if (e->type == JM_CFG_T_STR) {
            char **field = FIELD(cfg, e, char *);

            free(*field);
            *field = NULL;
        } else if (e->type == JM_CFG_T_LIST) {
            jm_strlist *list = FIELD(cfg, e, jm_strlist);

            for (size_t i = 0; i < list->count; i++)
                free(list->items[i]);
            free(list->items);
            list->items = NULL;
            list->count = 0;
        }
    }
}
