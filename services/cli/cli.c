/* cli.c - the machinery every `jobmatch` subcommand shares (see cli.h).
 *
 * The CLI is a client like any other: it speaks the same protobuf envelope
 * over a DEALER, through jm_rpc's Lazy Pirate client, on a private libuv
 * loop that runs only while a request is outstanding. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jm/err.h"
#include "jm/esco.h"
#include "jm/json.h"
#include "jm/mem.h"
#include "jm/rpc.h"

static const char *const service_names[CLI_SERVICES] = {
    [CLI_INTAKE] = "intake",
    [CLI_PROFILES] = "profiles",
    [CLI_MATCHER] = "matcher",
};

/* ---- requests ---- */

struct wait {
    bool done;
    int status;
    uint8_t *data; /* the reply, re-packed: it is borrowed in the callback */
    size_t size;
};

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct wait *w = arg;

    w->done = true;
    w->status = status;
    if (status == 0)
        jm_msg_pack(&reply->base, &w->data, &w->size);
}

/* Splits "a,b,c" into a new array of new strings. */
static size_t
split_endpoints(const char *list, char ***out)
{
    size_t count = 1, n = 0;
    char **items;
    const char *start = list;

    for (const char *p = list; *p; p++)
        count += *p == ',';
    items = jm_xcalloc(count, sizeof(char *));
    for (const char *p = list;; p++) {
        if (*p == ',' || *p == '\0') {
            if (p > start)
                items[n++] = jm_xstrndup(start, (size_t) (p - start));
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    *out = items;
    return n;
}

/* ---- why a CURVE service is silent ---- */

struct probe {
    bool done;
    int status;
};

static void
on_probe(int status, void *arg)
{
    struct probe *p = arg;

    p->done = true;
    p->status = status;
}

int
cli_curve_probe(cli *c, cli_service service, const char *endpoint,
                jm_sock_type type)
{
    const cli_curve *k = &c->curve[service];
    struct probe p = {0};
    int rc;

    rc = jm_bus_curve_probe(
        c->bus, endpoint, k->server_key, type, k->public_key, k->secret_key,
        c->timeout_ms < 2000 ? c->timeout_ms : 2000, on_probe, &p);
    while (rc == 0 && !p.done)
        uv_run(&c->loop, UV_RUN_ONCE);
    return rc != 0 ? rc : p.status;
}

/* A service that does not answer may have refused our key: ZeroMQ drops
 * such a client without a word. With CURVE set, one more handshake, watched
 * (jm_bus_curve_probe), tells the user which of their keys is wrong; a
 * plain client gets a hint, since it cannot tell. */
static void
explain_silence(cli *c, cli_service service)
{
    const cli_curve *k = &c->curve[service];
    char *first, *comma;
    int rc;

    if (k->server_key[0] == '\0' && c->node_dir != NULL) {
        /* node_client_setup gives the node's keys to its own endpoints
         * only: another endpoint has its own server key. */
        fprintf(stderr,
                "%s: (--node %s gives keys for the node's own endpoints only; "
                "for %s: --key FILE with --%s-key KEY)\n",
                c->prog, c->node_dir, c->endpoints[service],
                service_names[service]);
        return;
    }
    if (k->server_key[0] == '\0') {
        fprintf(stderr,
                "%s: (if the service uses CURVE: --key FILE with --%s-key "
                "KEY, or --node DIR)\n",
                c->prog, service_names[service]);
        return;
    }
    first = jm_xstrdup(c->endpoints[service]);
    if ((comma = strchr(first, ',')) != NULL)
        *comma = '\0';
    rc = cli_curve_probe(c, service, first, JM_SOCK_DEALER);
    if (rc == 0)
        fprintf(stderr,
                "%s: the %s service at %s refused your key (public %s): it is "
                "not on the service's allow list\n",
                c->prog, service_names[service], first, k->public_key);
    else if (rc == -EPROTO)
        fprintf(stderr,
                "%s: the CURVE handshake with %s failed before your key was "
                "checked: is --%s-key (%s) that service's public key?\n",
                c->prog, first, service_names[service], k->server_key);
    free(first);
}

bool
cli_is_write(const Jobmatch__V1__Request *req)
{
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
    case JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER:
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS:
    case JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME:
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE:
    case JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS:
    case JOBMATCH__V1__REQUEST__BODY_SET_CONSENT:
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE:
        return true;
    default:
        return false;
    }
}

int
cli_request(cli *c, cli_service service, Jobmatch__V1__Request *req,
            jm_msg_t **reply_p)
{
    jm_rpc_client_t *client = NULL;
    struct wait w = {0};
    jm_error err = {0};
    int rc, exit_code;

    *reply_p = NULL;
    /* --request-id names one write: a command that makes none uses it for
     * nothing, one that makes several (sample load has its own ids)
     * cannot take it. */
    if (c->has_request_id && cli_is_write(req)) {
        if (req->request_id.len != 0 || c->writes++ > 0)
            return cli_usage_error(c, "--request-id names one write, and "
                                      "this command makes several");
        req->request_id.data = c->request_id;
        req->request_id.len = sizeof(c->request_id);
    }
    if ((exit_code = cli_client_new(c, service, &client)) != CLI_OK)
        return exit_code;
    if ((rc = jm_rpc_client_call(client, req, on_reply, &w)) != 0) {
        fprintf(stderr, "%s: cannot reach the %s service at %s: %s\n", c->prog,
                service_names[service], c->endpoints[service], jm_strerror(rc));
        exit_code = CLI_UNREACHABLE;
        goto out;
    }
    while (!w.done)
        uv_run(&c->loop, UV_RUN_ONCE);
    if (w.status != 0) {
        fprintf(stderr,
                "%s: the %s service at %s did not answer within %u ms%s "
                "(%s)\n",
                c->prog, service_names[service], c->endpoints[service],
                c->timeout_ms,
                strchr(c->endpoints[service], ',') ? " at any of them" : "",
                jm_strerror(w.status));
        explain_silence(c, service);
        exit_code = CLI_UNREACHABLE;
        goto out;
    }
    if (jm_msg_unpack(reply_p, &jobmatch__v1__reply__descriptor, w.data, w.size,
                      w.size + 1, &err) != 0) {
        fprintf(stderr, "%s: the reply does not decode: %s\n", c->prog,
                err.message);
        exit_code = CLI_UNREACHABLE;
    }

out:
    jm_rpc_client_destroy(&client);
    free(w.data);
    return exit_code;
}

/* A client for endpoints[0..count) of service, with its CURVE keys and
 * the timeout; tries each endpoint once. */
static int
client_for(cli *c, cli_service service, const char *const *endpoints,
           size_t count, jm_rpc_client_t **client_p)
{
    jm_rpc_client_opts opts = {0};
    int rc;

    if (c->bus == NULL && (rc = jm_bus_new(&c->bus, &c->loop)) != 0) {
        fprintf(stderr, "%s: cannot start messaging: %s\n", c->prog,
                jm_strerror(rc));
        return CLI_UNREACHABLE;
    }
    opts.timeout_ms = c->timeout_ms;
    opts.tries = (unsigned) (count > 1 ? count : 1);
    if (c->curve[service].server_key[0] != '\0') {
        opts.sock.curve_server_key = c->curve[service].server_key;
        opts.sock.curve_public_key = c->curve[service].public_key;
        opts.sock.curve_secret_key = c->curve[service].secret_key;
    }
    if ((rc = jm_rpc_client_new(client_p, c->bus, endpoints, count, &opts)) !=
        0) {
        fprintf(stderr, "%s: cannot reach the %s service at %s: %s\n", c->prog,
                service_names[service], endpoints[0], jm_strerror(rc));
        return CLI_UNREACHABLE;
    }
    return CLI_OK;
}

int
cli_client_new(cli *c, cli_service service, jm_rpc_client_t **client_p)
{
    char **endpoints = NULL;
    size_t count = 0;
    int exit_code;

    *client_p = NULL;
    if (c->endpoints[service] == NULL ||
        (count = split_endpoints(c->endpoints[service], &endpoints)) == 0) {
        fprintf(stderr,
                "%s: no endpoint for the %s service: give --%s ENDPOINT or "
                "--node DIR\n",
                c->prog, service_names[service], service_names[service]);
        free(endpoints);
        return CLI_USAGE;
    }
    exit_code = client_for(c, service, (const char *const *) endpoints, count,
                           client_p);
    for (size_t i = 0; i < count; i++)
        free(endpoints[i]);
    free(endpoints);
    return exit_code;
}

int
cli_client_at(cli *c, cli_service service, const char *endpoint,
              jm_rpc_client_t **client_p)
{
    *client_p = NULL;
    return client_for(c, service, &endpoint, 1, client_p);
}

size_t
cli_endpoints(const cli *c, cli_service service, char ***endpoints_p)
{
    *endpoints_p = NULL;
    return c->endpoints[service] != NULL
               ? split_endpoints(c->endpoints[service], endpoints_p)
               : 0;
}

const char *
cli_service_name(cli_service service)
{
    return service_names[service];
}

int
cli_reply_failed(cli *c, const Jobmatch__V1__Reply *reply)
{
    const Jobmatch__V1__Error *e = reply->error;

    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ERROR)
        return CLI_OK;
    fprintf(stderr, "%s: error: %s%s%s: %s%s\n", c->prog,
            jm_error_code_name(e->code), e->field_path[0] ? " " : "",
            e->field_path, e->message,
            e->retryable ? " (temporary: try again)" : "");
    if (c->json)
        cli_print_message(&reply->base);
    return CLI_ERROR_REPLY;
}

/* ---- JSON ---- */

static void strip_labels(json_t *json);

/* The largest JSON file read: far above any request the services accept
 * (their max_request_size), low enough that a wrong file (a disk image
 * given by mistake) is refused instead of read into memory. */
#define JSON_FILE_MAX (64u << 20)

/* Reads path ("-" = stdin) whole into *buf (NUL-terminated). Returns 0 or
 * prints why not and returns -1. */
static int
read_file(const char *path, const char *name, char **buf, size_t *size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t len = 0, cap = 0;
    char *data = NULL;

    if (f == NULL) {
        fprintf(stderr, "jobmatch: %s: %s\n", name, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;

        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            data = jm_xrealloc(data, cap + 1);
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
        if (len > JSON_FILE_MAX) {
            fprintf(stderr, "jobmatch: %s: larger than %u MiB: not a request\n",
                    name, JSON_FILE_MAX >> 20);
            break;
        }
        if (n == 0) {
            if (!ferror(f)) {
                if (f != stdin)
                    fclose(f);
                data[len] = '\0';
                *buf = data;
                *size = len;
                return 0;
            }
            fprintf(stderr, "jobmatch: %s: %s\n", name, strerror(errno));
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    free(data);
    return -1;
}

/* The record's "version" as printed: a number (jm_json prints uint64 as
 * one) or, from other tools, a string of digits. 0 if absent or neither. */
static uint64_t
json_version(json_t *value)
{
    const char *text;
    char *end;
    unsigned long long v;

    if (json_is_integer(value))
        return json_integer_value(value) > 0
                   ? (uint64_t) json_integer_value(value)
                   : 0;
    if (!json_is_string(value))
        return 0;
    text = json_string_value(value);
    errno = 0;
    v = strtoull(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && text[0] != '-' ? v : 0;
}

static void
drop_service_fields(json_t *json, cli_record_fields *fields)
{
    json_t *record =
        fields->object ? json_object_get(json, fields->object) : json;

    fields->version = 0;
    if (!json_is_object(record))
        return;
    fields->version = json_version(json_object_get(record, "version"));
    for (const char *const *key = fields->dropped; *key != NULL; key++)
        json_object_del(record, *key);
}

static bool label_key(const char *key, char *out, size_t size);

/* Whether a field holds ESCO URIs, by the schema's naming ("x_uri",
 * "x_uris", a profile's "x_occupations"): the same rule as label_key. */
static bool
holds_uris(const char *name)
{
    char unused[128];

    return label_key(name, unused, sizeof(unused));
}

static void warn_unknown_uris(const char *file, const ProtobufCMessage *msg,
                              const char *path, jm_esco_t **esco, bool *tried);

static void
warn_unknown_uri(const char *file, const char *path, const char *uri,
                 jm_esco_t **esco, bool *tried)
{
    if (uri == NULL || uri[0] == '\0')
        return;
    if (!*tried) {
        *tried = true;
        (void) jm_esco_load(esco, NULL); /* without it: no warnings */
    }
    if (*esco == NULL || jm_esco_label(*esco, uri) != NULL)
        return;
    fprintf(stderr,
            "jobmatch: warning: %s: %s: %s is not in the ESCO v1.1.1 "
            "classification shipped here; sent as it is (another ESCO version "
            "may know it), but it matches only the same URI: mistyped?\n",
            file, path, uri);
}

/* Warns of every URI in msg that the shipped ESCO does not know. The
 * services accept URIs of other ESCO versions (intake_check.c), so this
 * is the only place a typo in a UUID, which would leave an order that
 * nobody fully matches, can be pointed out. */
static void
warn_unknown_uris(const char *file, const ProtobufCMessage *msg,
                  const char *path, jm_esco_t **esco, bool *tried)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    char sub[256];

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *at = (const char *) msg + f->offset;
        size_t n = 1;
        const void *const *items = (const void *const *) at;

        if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
            !(f->type == PROTOBUF_C_TYPE_STRING && holds_uris(f->name)))
            continue;
        /* A oneof's members share their storage: only the set one. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *) ((const char *) msg + f->quantifier_offset) !=
                f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *) ((const char *) msg + f->quantifier_offset);
            items = *(const void *const *const *) at;
        }
        for (size_t k = 0; k < n; k++) {
            const void *item = items[k];

            if (f->label == PROTOBUF_C_LABEL_REPEATED)
                snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path,
                         path[0] ? "." : "", f->name, k);
            else
                snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
                         f->name);
            if (item == NULL)
                continue;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE)
                warn_unknown_uris(file, item, sub, esco, tried);
            else
                warn_unknown_uri(file, sub, item, esco, tried);
        }
    }
}

int
cli_read_record(const char *path, const ProtobufCMessageDescriptor *desc,
                cli_record_fields *fields, ProtobufCMessage **msg_p)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    json_error_t jerr;
    json_t *json;
    char err[512], *text;
    size_t size, skip = 0;
    int rc;

    if (read_file(path, name, &text, &size) != 0)
        return CLI_USAGE;
    /* A UTF-8 byte order mark, as Windows editors write it, is not JSON
     * but says nothing either: skipped. */
    if (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        skip = 3;
    json = json_loadb(text + skip, size - skip, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (json == NULL) {
        /* jansson quotes the text where it stopped ("... near '\"0703..."):
         * in a citizen's file that is a CPR number or a name, which must
         * not land in the logs of the systems that feed profiles. The
         * line and column say where. */
        char *near = strstr(jerr.text, " near '");

        if (near != NULL)
            *near = '\0';
        fprintf(stderr, "jobmatch: %s:%d:%d: %s\n", name, jerr.line,
                jerr.column, jerr.text);
        return CLI_USAGE;
    }
    strip_labels(json); /* what cli_print_json added reads back */
    if (fields != NULL)
        drop_service_fields(json, fields);
    rc = jm_json_to_message(json, desc, msg_p, err, sizeof(err));
    json_decref(json);
    if (rc != 0) {
        fprintf(stderr, "jobmatch: %s: %s\n", name, err);
        return CLI_USAGE;
    }
    if (fields != NULL) { /* a record to write */
        jm_esco_t *esco = NULL;
        bool tried = false;

        warn_unknown_uris(name, *msg_p, "", &esco, &tried);
        jm_esco_destroy(&esco);
    }
    return CLI_OK;
}

int
cli_read_json(const char *path, const ProtobufCMessageDescriptor *desc,
              ProtobufCMessage **msg_p)
{
    return cli_read_record(path, desc, NULL, msg_p);
}

/* ESCO labels next to the URIs of machine-readable output, as the tables
 * show them: "skill_uri" gets a "skill_label", "skill_uris" a
 * "skill_labels" array (null where a URI is unknown). The table is loaded
 * at the first URI only, and output without URIs is left as it is. */
struct labels {
    jm_esco_t *esco;
    bool tried;
};

static json_t *
label_of(struct labels *l, json_t *uri)
{
    const char *label = NULL;

    if (!l->tried) {
        l->tried = true;
        (void) jm_esco_load(&l->esco, NULL); /* without it: no labels */
    }
    if (l->esco != NULL && json_is_string(uri))
        label = jm_esco_label(l->esco, json_string_value(uri));
    return label ? json_string(label) : json_null();
}

/* The key for the labels of key if it names URIs ("x_uri" -> "x_label",
 * "x_uris" -> "x_labels"; a profile's "wished_occupations" and
 * "held_occupations" are URIs too -> "x_occupation_labels"), else false. */
static bool
label_key(const char *key, char *out, size_t size)
{
    static const char occupations[] = "_occupations";
    size_t len = strlen(key), olen = sizeof(occupations) - 1;

    if (len > olen && strcmp(key + len - olen, occupations) == 0)
        return snprintf(out, size, "%.*s_occupation_labels", (int) (len - olen),
                        key) < (int) size;

    if (len > 4 && strcmp(key + len - 4, "_uri") == 0)
        return snprintf(out, size, "%.*s_label", (int) (len - 4), key) <
               (int) size;
    if (len > 5 && strcmp(key + len - 5, "_uris") == 0)
        return snprintf(out, size, "%.*s_labels", (int) (len - 5), key) <
               (int) size;
    return false;
}

static void
add_labels(json_t *json, struct labels *l)
{
    const char *key;
    json_t *value, *labels;
    size_t i, n = 0;
    char name[128];

    struct {
        char name[128];
        json_t *value;
    } found[16];

    if (json_is_array(json)) {
        json_array_foreach(json, i, value) add_labels(value, l);
        return;
    }
    if (!json_is_object(json))
        return;
    /* Children first, then the new keys: an object must not change while
     * it is walked. */
    json_object_foreach(json, key, value)
    {
        add_labels(value, l);
        if (n < JM_COUNTOF(found) && label_key(key, name, sizeof(name)) &&
            json_object_get(json, name) == NULL) {
            memcpy(found[n].name, name, sizeof(name));
            found[n++].value = value;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (json_is_array(found[k].value)) {
            labels = json_array();
            json_array_foreach(found[k].value, i, value)
                json_array_append_new(labels, label_of(l, value));
        } else {
            labels = label_of(l, found[k].value);
        }
        json_object_set_new(json, found[k].name, labels);
    }
}

/* Removes the labels add_labels gives, so that printed output can be
 * edited and sent back: only a "x_label(s)" beside its "x_uri(s)" goes;
 * any other unknown key is still the schema's to reject. */
static void
strip_labels(json_t *json)
{
    const char *key;
    json_t *value;
    size_t i, n = 0;
    char name[128], gone[16][128];

    if (json_is_array(json)) {
        json_array_foreach(json, i, value) strip_labels(value);
        return;
    }
    if (!json_is_object(json))
        return;
    json_object_foreach(json, key, value)
    {
        strip_labels(value);
        if (n < JM_COUNTOF(gone) && label_key(key, name, sizeof(name)) &&
            json_object_get(json, name) != NULL)
            memcpy(gone[n++], name, sizeof(name));
    }
    for (size_t k = 0; k < n; k++)
        json_object_del(json, gone[k]);
}

void
cli_print_json(json_t *json)
{
    struct labels l = {NULL, false};

    add_labels(json, &l);
    jm_esco_destroy(&l.esco);
    json_dumpf(json, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(json);
}

void
cli_print_message(const ProtobufCMessage *msg)
{
    cli_print_json(jm_json_from_message(msg, 0));
}

void
cli_print_accepted(const Jobmatch__V1__Reply *reply)
{
    json_t *json = jm_json_from_message(&reply->accepted->base, 0);

    /* Always written, false too (unlike the message's own fields at
     * their default): a script tests it without knowing that rule. */
    json_object_set_new(json, "duplicate", json_boolean(reply->duplicate));
    cli_print_json(json);
}

int
cli_usage_error(cli *c, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

/* Words that mean the same to someone guessing a command: each list ends
 * with NULL. A group has at most one command of each meaning (an order is
 * closed, a citizen erased), so a word finds the one its group has. */
static const char *const same_meaning[][10] = {
    {"submit", "put", "create", "add", "new", "post", "send", "upload", NULL},
    {"get", "show", "view", "display", "cat", "read", "info", NULL},
    {"list", "ls", "all", "search", NULL},
    {"close", "delete", "remove", "rm", "del", "cancel", "withdraw", NULL},
    {"erase", "delete", "remove", "rm", "del", "forget", NULL},
    {"find", "lookup", "search", NULL},
    {"stats", "statistics", "status", NULL},
};

static bool
in_list(const char *const *list, const char *word)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, word) == 0)
            return true;
    return false;
}

/* Optimal string alignment distance (a swap of two neighbours is one
 * error, as in "lsit"), stopping at 3: only 0-2 matter here. */
static unsigned
typing_errors(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d[33][33];

    if (la > 32 || lb > 32 || (la > lb ? la - lb : lb - la) > 2)
        return 3;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned) i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned) j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned best = d[i - 1][j - 1] + cost;

            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb] < 3 ? d[la][lb] : 3;
}

static const char *
likely_meant(const char *word, const char *const names[], size_t count)
{
    const char *best = NULL;
    unsigned best_errors = 3;

    for (size_t m = 0; m < JM_COUNTOF(same_meaning); m++) {
        if (!in_list(same_meaning[m], word))
            continue;
        for (size_t i = 0; i < count; i++)
            if (in_list(same_meaning[m], names[i]))
                return names[i];
    }
    /* A one-letter word is within two errors of every short name. */
    if (strlen(word) < 3)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        unsigned errors = typing_errors(word, names[i]);

        if (errors < best_errors) {
            best = names[i];
            best_errors = errors;
        }
    }
    return best;
}

int
cli_unknown_command(cli *c, const char *group, const char *word,
                    const char *const names[], size_t count)
{
    const char *meant = likely_meant(word, names, count);

    fprintf(stderr, "%s: unknown %s%scommand '%s'", c->prog, group ? group : "",
            group ? " " : "", word);
    if (meant != NULL)
        fprintf(stderr, "; did you mean '%s%s%s'?", group ? group : "",
                group ? " " : "", meant);
    fprintf(stderr, " (see jobmatch %s%s--help)\n", group ? group : "",
            group ? " " : "");
    return CLI_USAGE;
}

bool
cli_parse_uint(const char *text, unsigned long long max,
               unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (text == NULL || *text < '0' || *text > '9')
        return false;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

/* ---- tables ---- */

#define CELL_MAX 72 /* an ESCO URI (69) fits whole */

struct cli_table {
    size_t columns;
    char **headers;
    bool *right;
    char **cells;
    size_t count, cap;
};

cli_table *
cli_table_new(const char *first_header, ...)
{
    cli_table *t = jm_xcalloc(1, sizeof(*t));
    va_list ap;
    const char *h;

    va_start(ap, first_header);
    for (h = first_header; h != NULL; h = va_arg(ap, const char *))
        t->columns++;
    va_end(ap);
    t->headers = jm_xcalloc(t->columns, sizeof(char *));
    t->right = jm_xcalloc(t->columns, sizeof(bool));
    va_start(ap, first_header);
    h = first_header;
    for (size_t i = 0; i < t->columns; i++, h = va_arg(ap, const char *)) {
        t->right[i] = h[0] == '>';
        t->headers[i] = jm_xstrdup(h + t->right[i]);
    }
    va_end(ap);
    return t;
}

void
cli_table_cell(cli_table *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = jm_xrealloc(t->cells, t->cap * sizeof(char *));
    }
    t->cells[t->count++] = jm_xstrdup(buf);
}

/* Display width of UTF-8 text: one column per code point (good enough for
 * Danish and the ESCO labels; no East Asian wide characters there). */
static size_t
width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        w += ((unsigned char) *s & 0xC0) != 0x80;
    return w;
}

/* Cuts s to at most max columns, ending in "...". */
static void
clip(char *s, size_t max)
{
    size_t w = 0;

    for (char *p = s; *p; p++) {
        if (((unsigned char) *p & 0xC0) == 0x80)
            continue;
        if (w == max - 3) {
            strcpy(p, "...");
            return;
        }
        w++;
    }
}

static void
print_cell(FILE *out, const char *s, size_t col_width, bool right, bool last)
{
    size_t pad = col_width - width(s);

    if (right)
        fprintf(out, "%*s%s", (int) pad, "", s);
    else
        fprintf(out, "%s%*s", s, last ? 0 : (int) pad, "");
    fputs(last ? "\n" : "  ", out);
}

void
cli_table_print(cli_table *t, FILE *out)
{
    size_t *w = jm_xcalloc(t->columns, sizeof(size_t));

    for (size_t i = 0; i < t->count; i++) {
        if (width(t->cells[i]) > CELL_MAX)
            clip(t->cells[i], CELL_MAX);
    }
    for (size_t i = 0; i < t->columns; i++)
        w[i] = width(t->headers[i]);
    for (size_t i = 0; i < t->count; i++) {
        size_t cw = width(t->cells[i]);

        if (cw > w[i % t->columns])
            w[i % t->columns] = cw;
    }
    for (size_t i = 0; i < t->columns; i++)
        print_cell(out, t->headers[i], w[i], t->right[i], i + 1 == t->columns);
    for (size_t i = 0; i < t->count; i++) {
        size_t col = i % t->columns;

        print_cell(out, t->cells[i], w[col], t->right[col],
                   col + 1 == t->columns || i + 1 == t->count);
    }
    for (size_t i = 0; i < t->count; i++)
        free(t->cells[i]);
    for (size_t i = 0; i < t->columns; i++)
        free(t->headers[i]);
    free(t->cells);
    free(t->headers);
    free(t->right);
    free(w);
    free(t);
}

/* ---- files ---- */

int
cli_write_file(const char *path, const char *text, unsigned mode)
{
    size_t len = strlen(path) + 8;
    char *tmp = jm_xmalloc(len);
    size_t size = strlen(text);
    int fd, rc = 0;

    snprintf(tmp, len, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t) mode);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, text + done, size - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        done += (size_t) n;
    }
    /* fsync before rename: after a crash the new name must not point at
     * an empty file. */
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
out:
    free(tmp);
    return rc;
}
