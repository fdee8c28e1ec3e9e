/* cli.h - what every `jobmatch` subcommand shares: the endpoints of the
 * services, one synchronous request helper, JSON input, and output as
 * readable tables or (--json) one JSON document.
 *
 * Exit codes are part of the contract (README, docs):
 *   0 ok, 1 the service answered with an error (code, field and message on
 *   stderr), 2 usage error, 3 the service is unreachable or timed out. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <uv.h>

#include "jm/bus.h"
#include "jm/msg.h"
#include "jm/rpc.h"
#include "jobmatch/v1/envelope.pb-c.h"

enum {
    CLI_OK = 0,
    CLI_ERROR_REPLY = 1,
    CLI_USAGE = 2,
    CLI_UNREACHABLE = 3,
};

typedef enum cli_service {
    CLI_INTAKE,
    CLI_PROFILES,
    CLI_MATCHER,
    CLI_SERVICES
} cli_service;

/* CURVE client settings for one service (all empty: plain). */
typedef struct cli_curve {
    char server_key[JM_KEY_Z85_LEN + 1];
    char public_key[JM_KEY_Z85_LEN + 1];
    char secret_key[JM_KEY_Z85_LEN + 1];
} cli_curve;

/* How long a request waits for its answer, per try (--timeout). */
#define CLI_DEFAULT_TIMEOUT_MS 3000

typedef struct cli {
    /* Comma-separated endpoint lists; several only for the matcher. */
    char *endpoints[CLI_SERVICES];
    cli_curve curve[CLI_SERVICES];
    bool json; /* --json: machine-readable output */
    unsigned timeout_ms;
    const char *node_dir; /* --node DIR: endpoints and keys from node.json */
    /* --request-id: the id of the one write this command makes, so that a
     * script can send it again after a timeout (exit 3) without a second
     * write. */
    bool has_request_id;
    uint8_t request_id[16];
    unsigned writes;  /* writes sent with it: at most one */
    const char *prog; /* argv[0] for messages */
    uv_loop_t loop;
    jm_bus_t *bus; /* created on first request */
} cli;

/* A subcommand: argv[0] is its own name ("order"). Returns an exit code. */
typedef int (*cli_command_fn)(cli *c, int argc, char **argv);

typedef struct cli_command {
    const char *name;
    cli_command_fn run;
    const char *summary; /* one line for `jobmatch --help` */
} cli_command;

/* Sends req to service and waits for the reply (the loop runs until it
 * arrives, or the timeout with fail-over across the endpoints). On 0,
 * *reply_p owns the decoded Reply (free with jm_msg_free): it may hold an
 * Error body, which cli_reply_failed reports. Returns CLI_UNREACHABLE
 * (after printing which endpoints did not answer) or CLI_USAGE if no
 * endpoint is known for the service. */
/* Is req a write (a request intake or profiles records under its id)? */
bool cli_is_write(const Jobmatch__V1__Request *req);

int cli_request(cli *c, cli_service service, Jobmatch__V1__Request *req,
                jm_msg_t **reply_p);

/* For commands that keep many requests in flight (`sample load`): a client
 * for service with the same endpoints, CURVE keys, timeout and fail-over
 * as cli_request, which the caller drives itself: jm_rpc_client_call as
 * often as it likes (replies are matched by request id), then run c->loop
 * until its callbacks say it is done. On CLI_OK the caller owns *client_p
 * (jm_rpc_client_destroy). Else prints why and returns CLI_USAGE (no
 * endpoint known) or CLI_UNREACHABLE. */
int cli_client_new(cli *c, cli_service service, jm_rpc_client_t **client_p);

/* A client for one endpoint of service (of those cli_endpoints lists),
 * tried once: for commands that ask every instance (`metrics`). As
 * cli_client_new otherwise. */
int cli_client_at(cli *c, cli_service service, const char *endpoint,
                  jm_rpc_client_t **client_p);

/* The endpoints given for service, each a new string in a new array the
 * caller frees; returns how many (0 and NULL if none). */
size_t cli_endpoints(const cli *c, cli_service service, char ***endpoints_p);

/* "intake", "profiles", "matcher". */
const char *cli_service_name(cli_service service);

/* If reply is an Error, prints "error: CODE FIELD: MESSAGE" to stderr (and
 * with --json also the error object on stdout) and returns
 * CLI_ERROR_REPLY; else returns CLI_OK. */
int cli_reply_failed(cli *c, const Jobmatch__V1__Reply *reply);

/* One CURVE handshake with service at endpoint, as a client of type (a
 * DEALER for its api, a SUB for its publish socket), with the user's keys,
 * watched (jm_bus_curve_probe): 0 if the service refused the key, -EACCES
 * if it let it in, -EPROTO if the handshake failed before the key was
 * checked (a wrong server key), -ETIMEDOUT. Only with CURVE keys set. */
int cli_curve_probe(cli *c, cli_service service, const char *endpoint,
                    jm_sock_type type);

/* Reads a JSON object from path ("-" = stdin) and converts it into a
 * message of desc (strict: unknown keys are errors). Prints the problem
 * and returns CLI_USAGE on failure; on CLI_OK the caller owns *msg_p
 * (jm_json_message_free). */
int cli_read_json(const char *path, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **msg_p);

/* What the service sets in a record it printed, so that `get --json`
 * output can be edited and sent back as a write (the service refuses
 * these fields in a write): cli_read_record drops the keys in `dropped`
 * from the record (the object under key `object` in the file, or the
 * file's top level when NULL) and gives back the record's "version", the
 * version the edit was made from, for the write's expected version. */
typedef struct cli_record_fields {
    const char *object;
    const char *const *dropped; /* NULL-terminated */
    uint64_t version;           /* out: 0 when the record had none */
} cli_record_fields;

/* cli_read_json, with a record's service fields dropped as above. */
int cli_read_record(const char *path, const ProtobufCMessageDescriptor *desc,
                    cli_record_fields *fields, ProtobufCMessage **msg_p);

/* Prints msg as JSON (pretty, one document) to stdout. */
void cli_print_message(const ProtobufCMessage *msg);

/* Prints json (stealing the reference) to stdout. */
void cli_print_json(json_t *json);

/* Prints a write's answer, reply's Accepted, as JSON: {id, seq, version}
 * (the contract outside checks rely on) and "duplicate", true when this is
 * the stored answer to the same write sent before (a retry with
 * --request-id): the Accepted message alone cannot say so, the Reply
 * around it does. */
void cli_print_accepted(const Jobmatch__V1__Reply *reply);

/* "error: ..." on stderr with the program name; returns CLI_USAGE. */
int cli_usage_error(cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An unknown command word of group ("order", "profile"; NULL for the
 * top level) among names: says so, with the command the user most likely
 * meant (one of the same meaning, "submit" for "put", or a name within
 * two typing errors of word), and the help to read. Returns CLI_USAGE. */
int cli_unknown_command(cli *c, const char *group, const char *word,
                        const char *const names[], size_t count);

/* Parses a non-negative integer argument; false if it is not one. */
bool cli_parse_uint(const char *text, unsigned long long max,
                    unsigned long long *out);

/* Writes text to path through path.tmp, fsync and rename: a reader (a
 * monitoring agent, the node's supervisor) sees the old file or the new
 * one, never half of one. Returns 0 or -errno. */
int cli_write_file(const char *path, const char *text, unsigned mode);

/* ---- readable tables ---- */

typedef struct cli_table cli_table;

/* A table with the given column headers (NULL-terminated); a header
 * starting with '>' makes its column right-aligned (the '>' is not
 * printed). Never fails. */
cli_table *cli_table_new(const char *first_header, ...)
    __attribute__((sentinel));
/* Adds the next cell, filling rows left to right. */
void cli_table_cell(cli_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints with columns sized to their contents (UTF-8 aware), then frees
 * the table. Cells wider than 72 characters are cut with "...". */
void cli_table_print(cli_table *t, FILE *out);

#endif
