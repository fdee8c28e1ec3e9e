/* main.c - `jobmatch`: the one command-line client for every service.
 *
 * Global options may stand anywhere on the line (so that
 * `jobmatch match order ID --json` works as well as
 * `jobmatch --json match order ID`); everything else goes to the
 * subcommand. Endpoints come from --intake/--profiles/--matcher, else from
 * --node DIR (DIR/node.json, written by `jobmatch node start`), else the
 * services' loopback defaults. CURVE keys come from --node, or from --key
 * (the caller's pair) with --intake-key, --profiles-key, --matcher-key
 * (each service's public key), as on a node run by systemd. Without
 * --node, environment variables (JOBMATCH_INTAKE, JOBMATCH_KEY,
 * JOBMATCH_INTAKE_KEY, ...) give what the line does not: an operator's
 * shell profile names the node's endpoints and keys once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cli_commands.h"
#include "jm/err.h"
#include "jm/json.h"
#include "jm/log.h"
#include "jm/mem.h"

static const char *const default_endpoints[CLI_SERVICES] = {
    [CLI_INTAKE] = "tcp://127.0.0.1:7101",
    [CLI_PROFILES] = "tcp://127.0.0.1:7201",
    [CLI_MATCHER] = "tcp://127.0.0.1:7301",
};

static const cli_command commands[] = {
    {"order", cli_cmd_order,
     "job orders: submit, get, list, update, close, "
     "outcome, stats"},
    {"profile", cli_cmd_profile,
     "citizens: put, get, find, assess, "
     "progress, consent, erase"},
    {"match", cli_cmd_match,
     "best citizens for an order, best orders for a "
     "citizen"},
    {"gaps", cli_cmd_gaps,
     "skills that would unlock most orders for a "
     "citizen"},
    {"assign", cli_cmd_assign, "propose citizens across all open positions"},
    {"matcher", cli_cmd_matcher,
     "matcher statistics and sources; shortlists changing, live (watch)"},
    {"node", cli_cmd_node, "start a whole local node"},
    {"sample", cli_cmd_sample,
     "load sample citizens and job orders from "
     "ESCO and Danish postcodes"},
    {"ping", cli_cmd_ping, "check that a service answers"},
    {"metrics", cli_cmd_metrics,
     "every service's numbers, for Prometheus and other monitoring"},
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: jobmatch [global options] COMMAND [ARGS...]\n"
            "\n"
            "Matches job orders of companies with unemployed citizens, for\n"
            "Danish jobcentres.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < JM_COUNTOF(commands); i++) {
        if (commands[i].run != NULL)
            fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(
        out,
        "\n"
        "global options (anywhere on the line):\n"
        "  --intake EP        intake api endpoint (default %s)\n"
        "  --profiles EP      profiles api endpoint (default %s)\n"
        "  --matcher EP[,EP]  matcher endpoints, tried in turn (default "
        "%s)\n"
        "  --node DIR         take endpoints and keys from DIR/node.json\n"
        "  --key FILE         your CURVE key pair (mode 0600), for services\n"
        "                     whose key is given below\n"
        "  --intake-key K, --profiles-key K, --matcher-key K\n"
        "                     the service's public key (Z85, quoted) or a\n"
        "                     file with a 'public KEY' line: use CURVE\n"
        "  --json             machine-readable output (ESCO labels beside "
        "URIs)\n"
        "  --timeout MS       per try (default 3000)\n"
        "  --request-id ID    the id of this command's write (32 hex digits\n"
        "                     or a UUID): the same command again with it,\n"
        "                     after a timeout (exit 3), is applied once\n"
        "  -h, --help         this text; `jobmatch COMMAND --help` for a "
        "command\n"
        "  --version          print the version\n"
        "\n"
        "environment (read without --node; an option on the line wins):\n"
        "  JOBMATCH_INTAKE, JOBMATCH_PROFILES, JOBMATCH_MATCHER\n"
        "                     as --intake, --profiles, --matcher\n"
        "  JOBMATCH_KEY, JOBMATCH_INTAKE_KEY, JOBMATCH_PROFILES_KEY,\n"
        "  JOBMATCH_MATCHER_KEY\n"
        "                     as --key, --intake-key, --profiles-key,\n"
        "                     --matcher-key\n"
        "\n"
        "exit codes: 0 ok, 1 the service answered with an error,\n"
        "2 usage error, 3 service unreachable or timed out.\n",
        default_endpoints[CLI_INTAKE], default_endpoints[CLI_PROFILES],
        default_endpoints[CLI_MATCHER]);
}

/* The CURVE keys given on the line, applied after --node (which they
 * override, service by service). */
struct curve_args {
    const char *key_file;                 /* --key */
    const char *server_key[CLI_SERVICES]; /* --intake-key, ... */
    /* where each came from, for messages: the option or the variable */
    const char *key_file_from;
    const char *server_key_from[CLI_SERVICES];
};

static const char *const key_options[CLI_SERVICES] = {
    [CLI_INTAKE] = "--intake-key",
    [CLI_PROFILES] = "--profiles-key",
    [CLI_MATCHER] = "--matcher-key",
};

/* The variables that stand for the options when --node is not given. */
static const char *const endpoint_variables[CLI_SERVICES] = {
    [CLI_INTAKE] = "JOBMATCH_INTAKE",
    [CLI_PROFILES] = "JOBMATCH_PROFILES",
    [CLI_MATCHER] = "JOBMATCH_MATCHER",
};
static const char *const key_variables[CLI_SERVICES] = {
    [CLI_INTAKE] = "JOBMATCH_INTAKE_KEY",
    [CLI_PROFILES] = "JOBMATCH_PROFILES_KEY",
    [CLI_MATCHER] = "JOBMATCH_MATCHER_KEY",
};

static const char *
variable(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* What the line left out, from the environment (not with --node: a node
 * directory names its own endpoints and keys, and a variable set for
 * another node must not mix with them). */
static void
take_environment(cli *c, struct curve_args *keys)
{
    const char *v;

    if (c->node_dir != NULL)
        return;
    for (int s = 0; s < CLI_SERVICES; s++) {
        if (c->endpoints[s] == NULL && (v = variable(endpoint_variables[s])))
            c->endpoints[s] = jm_xstrdup(v);
        if (keys->server_key[s] == NULL && (v = variable(key_variables[s]))) {
            keys->server_key[s] = v;
            keys->server_key_from[s] = key_variables[s];
        }
    }
    if (keys->key_file == NULL && (v = variable("JOBMATCH_KEY"))) {
        keys->key_file = v;
        keys->key_file_from = "JOBMATCH_KEY";
    }
}

/* Takes the global options out of argv (compacting it). Returns -1 on a
 * usage error, 1 for --help/--version handled, 0 to go on. */
static int
take_globals(cli *c, int *argc, char **argv, struct curve_args *keys)
{
    static const char *const names[CLI_SERVICES] = {
        [CLI_INTAKE] = "--intake",
        [CLI_PROFILES] = "--profiles",
        [CLI_MATCHER] = "--matcher",
    };
    int out = 1;

    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        bool taken = false;

        for (int s = 0; s < CLI_SERVICES; s++) {
            if (strcmp(a, names[s]) == 0) {
                if (i + 1 >= *argc) {
                    cli_usage_error(c, "%s needs an endpoint", a);
                    return -1;
                }
                free(c->endpoints[s]);
                c->endpoints[s] = jm_xstrdup(argv[++i]);
                taken = true;
            } else if (strcmp(a, key_options[s]) == 0) {
                if (i + 1 >= *argc) {
                    cli_usage_error(c, "%s needs the service's public key", a);
                    return -1;
                }
                keys->server_key[s] = argv[++i];
                keys->server_key_from[s] = key_options[s];
                taken = true;
            }
        }
        if (taken)
            continue;
        if (strcmp(a, "--key") == 0) {
            if (i + 1 >= *argc) {
                cli_usage_error(c, "--key needs your key file");
                return -1;
            }
            keys->key_file = argv[++i];
            keys->key_file_from = "--key";
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            c->json = true;
        } else if (strcmp(a, "--node") == 0) {
            if (i + 1 >= *argc) {
                cli_usage_error(c, "--node needs a directory");
                return -1;
            }
            c->node_dir = argv[++i];
        } else if (strcmp(a, "--request-id") == 0) {
            size_t len = 0;

            if (i + 1 >= *argc ||
                sodium_hex2bin(c->request_id, sizeof(c->request_id),
                               argv[i + 1], strlen(argv[i + 1]), "-", &len,
                               NULL) != 0 ||
                len != sizeof(c->request_id)) {
                cli_usage_error(c, "--request-id needs 16 bytes: 32 hex "
                                   "digits, or a UUID (uuidgen)");
                return -1;
            }
            c->has_request_id = true;
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            unsigned long long ms;

            if (i + 1 >= *argc || !cli_parse_uint(argv[i + 1], 3600000, &ms) ||
                ms == 0) {
                cli_usage_error(c, "--timeout needs milliseconds (1-3600000)");
                return -1;
            }
            c->timeout_ms = (unsigned) ms;
            i++;
        } else if (strcmp(a, "--version") == 0 && out == 1) {
            printf("jobmatch %s\n", JM_VERSION);
            return 1;
        } else if ((strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) &&
                   out == 1) {
            usage(stdout);
            return 1;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* A service's public key as given: Z85 text, or a file whose "public"
 * line has it (a public-only file, or a pair the caller may read). */
static int
server_key_of(cli *c, const char *opt, const char *given,
              char key[JM_KEY_Z85_LEN + 1])
{
    int rc;

    /* A file first: a 40-character path of Z85 characters would decode. */
    if (access(given, F_OK) != 0 && jm_keys_valid(given)) {
        memcpy(key, given, JM_KEY_Z85_LEN + 1);
        return CLI_OK;
    }
    if ((rc = jm_keys_load(given, key, NULL)) != 0)
        return cli_usage_error(c,
                               "%s: '%s' is neither a public key (40 Z85 "
                               "characters) nor a readable key file: %s",
                               opt, given, jm_strerror(rc));
    return CLI_OK;
}

/* --key and --intake-key, ...: the services whose key is given are
 * reached with CURVE as the pair in --key. */
static int
apply_curve_args(cli *c, const struct curve_args *keys)
{
    char public_key[JM_KEY_Z85_LEN + 1], secret_key[JM_KEY_Z85_LEN + 1];
    bool any = false;
    int rc;

    for (int s = 0; s < CLI_SERVICES; s++)
        any |= keys->server_key[s] != NULL;
    if (keys->key_file == NULL) {
        for (int s = 0; s < CLI_SERVICES; s++) {
            if (keys->server_key[s] != NULL)
                return cli_usage_error(c,
                                       "%s needs --key FILE (or JOBMATCH_KEY):"
                                       " your own key pair (jobmatch node "
                                       "keygen FILE)",
                                       keys->server_key_from[s]);
        }
        return CLI_OK;
    }
    if (!any)
        return cli_usage_error(c,
                               "%s needs the public key of a service "
                               "(--intake-key, --profiles-key, "
                               "--matcher-key, or JOBMATCH_INTAKE_KEY, ...)",
                               keys->key_file_from);
    if ((rc = jm_keys_load(keys->key_file, public_key, secret_key)) != 0)
        return cli_usage_error(
            c, "%s %s: %s", keys->key_file_from, keys->key_file,
            rc == -EPERM ? "group or others may read it (chmod 0600)"
            : rc == -EINVAL
                ? "not a key file ('public KEY' and 'secret KEY' lines)"
                : jm_strerror(rc));
    for (int s = 0; s < CLI_SERVICES; s++) {
        if (keys->server_key[s] == NULL)
            continue;
        if ((rc = server_key_of(c, keys->server_key_from[s],
                                keys->server_key[s], c->curve[s].server_key)) !=
            CLI_OK)
            break;
        memcpy(c->curve[s].public_key, public_key, sizeof(public_key));
        memcpy(c->curve[s].secret_key, secret_key, sizeof(secret_key));
    }
    memset(secret_key, 0, sizeof(secret_key));
    return rc;
}

int
main(int argc, char **argv)
{
    cli c = {0};
    struct curve_args keys = {0};
    const char *names[JM_COUNTOF(commands)];
    size_t nnames = 0;
    int rc = CLI_USAGE;

    c.prog = "jobmatch";
    c.timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
    jm_log_set_level(JM_LOG_WARN);
    if (uv_loop_init(&c.loop) != 0) {
        fprintf(stderr, "jobmatch: cannot initialise the event loop\n");
        return CLI_UNREACHABLE;
    }
    switch (take_globals(&c, &argc, argv, &keys)) {
    case 1:
        rc = CLI_OK;
        goto out;
    case -1:
        goto out;
    }
    if (c.node_dir != NULL) {
        if (cli_node_load == NULL) {
            rc = cli_usage_error(&c, "--node is not in this build");
            goto out;
        }
        if ((rc = cli_node_load(&c)) != CLI_OK)
            goto out;
    }
    /* `jobmatch node ...` runs or writes things here and reaches a node's
     * services only through its directory: the variables a shell profile
     * sets for the client are not its own (and `node keygen` is how the
     * key JOBMATCH_KEY will name is made). */
    if (argc < 2 || strcmp(argv[1], "node") != 0)
        take_environment(&c, &keys);
    if ((rc = apply_curve_args(&c, &keys)) != CLI_OK)
        goto out;
    for (int s = 0; s < CLI_SERVICES; s++) {
        if (c.endpoints[s] == NULL)
            c.endpoints[s] = jm_xstrdup(default_endpoints[s]);
    }
    if (argc < 2) {
        usage(stderr);
        rc = CLI_USAGE;
        goto out;
    }
    rc = -1;
    for (size_t i = 0; i < JM_COUNTOF(commands); i++) {
        if (commands[i].run == NULL)
            continue; /* not in this build */
        if (strcmp(argv[1], commands[i].name) == 0) {
            rc = commands[i].run(&c, argc - 1, argv + 1);
            break;
        }
        names[nnames++] = commands[i].name;
    }
    if (rc == -1)
        rc = cli_unknown_command(&c, NULL, argv[1], names, nnames);

out:
    jm_bus_destroy(&c.bus);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    uv_loop_close(&c.loop);
    for (int s = 0; s < CLI_SERVICES; s++)
        free(c.endpoints[s]);
    return rc;
}
