/* cmd_order.c - `jobmatch order ...`: job orders in the intake service.
 *
 *   order submit FILE|-                      create (prints id and seq)
 *   order get ID                             one order, ESCO labels shown
 *   order list [--status S] [--municipality CODE] [--occupation URI]
 *              [--limit N]                   a table, following pages
 *   order update ID FILE|- [--expected-version V]
 *   order close ID --filled N | --withdrawn [--expected-version V]
 *   order outcome ID --profile PID --status S [--note TEXT]
 *   order stats [--municipality CODE]
 *
 * Input is JSON with the .proto field names (docs/examples/job-order.json);
 * --json prints the reply's message as JSON instead of a readable text.
 * Exit codes as in cli.h: 0 ok, 1 error reply, 2 usage, 3 unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli_commands.h"
#include "jm/dk.h"
#include "jm/esco.h"
#include "jm/json.h"
#include "jm/mem.h"

#define LIST_DEFAULT 50
#define LIST_MAX     100000
#define PAGE_MAX     500

static const char usage_text[] =
    "usage: jobmatch order COMMAND [ARGS]\n"
    "\n"
    "Job orders (jobordrer) in the intake service.\n"
    "\n"
    "commands:\n"
    "  submit FILE|-                 submit a new order (JSON, .proto field "
    "names)\n"
    "  get ID                        show one order\n"
    "  list [--status S] [--municipality CODE] [--occupation URI] "
    "[--limit N]\n"
    "                                list orders (default limit 50)\n"
    "  update ID FILE|- [--expected-version V]\n"
    "                                replace an open order's fields\n"
    "  close ID --filled N | --withdrawn [--expected-version V]\n"
    "                                close an order\n"
    "  outcome ID --profile PID --status S [--note TEXT]\n"
    "                                record a candidate's outcome\n"
    "  stats [--municipality CODE]   counts, fill rate, median days to fill\n"
    "\n"
    "`jobmatch order COMMAND --help` describes one command. Statuses: open,\n"
    "filled, withdrawn, expired; outcomes: proposed, presented, hired,\n"
    "rejected. Exit codes: 0 ok, 1 error reply, 2 usage, 3 unreachable.\n";

/* ---- helpers ---- */

static bool
wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

/* An enum value from its full name, its short name ("open") or its number;
 * 0 if none (0 is UNSPECIFIED, never a valid choice here). */
static int
parse_enum(const ProtobufCEnumDescriptor *desc, const char *text)
{
    for (unsigned i = 0; i < desc->n_values; i++) {
        const ProtobufCEnumValue *v = &desc->values[i];
        const char *short_name = jm_json_enum_short_name(desc, v->value);

        if (v->value == 0)
            continue;
        if (strcasecmp(text, v->name) == 0 ||
            (short_name != NULL && strcasecmp(text, short_name) == 0))
            return v->value;
    }
    return 0;
}

static const char *
short_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const char *s = jm_json_enum_short_name(desc, value);

    return s != NULL ? s : "?";
}

/* A command's options: "--name VALUE" (value set) or "--name" (flag
 * set). Everything else is positional. */
struct option {
    const char *name;
    const char **value;
    bool *flag;
};

/* Parses argv[1..] into opts and at most max positional arguments (at
 * least min). Returns CLI_OK or CLI_USAGE (reported with usage). */
static int
parse_args(cli *c, int argc, char **argv, const struct option *opts,
           const char **pos, int min, int max, const char *usage)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        const struct option *o = NULL;

        if (argv[i][0] == '-' && argv[i][1] == '-') {
            for (o = opts; o != NULL && o->name != NULL; o++) {
                if (strcmp(o->name, argv[i]) == 0)
                    break;
            }
            if (o == NULL || o->name == NULL)
                return cli_usage_error(c, "unknown option %s\n%s", argv[i],
                                       usage);
            if (o->flag != NULL) {
                *o->flag = true;
                continue;
            }
            if (i + 1 >= argc)
                return cli_usage_error(c, "%s needs a value\n%s", argv[i],
                                       usage);
            *o->value = argv[++i];
            continue;
        }
        if (n == max)
            return cli_usage_error(c, "unexpected argument '%s'\n%s", argv[i],
                                   usage);
        pos[n++] = argv[i];
    }
    if (n < min)
        return cli_usage_error(c, "%s", usage);
    return CLI_OK;
}

/* Sends req; on success *reply_p is the decoded reply (owned by *msg_p).
 * Returns the exit code (an error reply is reported here). */
static int
request(cli *c, Jobmatch__V1__Request *req, jm_msg_t **msg_p,
        const Jobmatch__V1__Reply **reply_p)
{
    int rc = cli_request(c, CLI_INTAKE, req, msg_p);

    if (rc != CLI_OK)
        return rc;
    *reply_p = (const Jobmatch__V1__Reply *) jm_msg_get(*msg_p);
    return cli_reply_failed(c, *reply_p);
}

/* The answer to a write: the Accepted object, or one readable line. */
static int
print_accepted(cli *c, const Jobmatch__V1__Reply *reply, const char *what)
{
    const Jobmatch__V1__Accepted *a = reply->accepted;

    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ACCEPTED)
        return cli_usage_error(c, "unexpected answer from intake");
    if (c->json) {
        cli_print_accepted(reply);
        return CLI_OK;
    }
    printf("%s %s: seq %llu, version %llu%s\n", what, a->id,
           (unsigned long long) a->seq, (unsigned long long) a->version,
           reply->duplicate ? " (already done: this is the first answer)" : "");
    return CLI_OK;
}

static void
format_time(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
        (void) snprintf(buf, size, "-");
        return;
    }
    (void) strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/* ---- submit ---- */

/* The fields of a JobOrder only the service sets: dropped from a file
 * (the service refuses them in a write), so that what `order get --json`
 * printed can be edited and sent back (cli_read_record). */
static const char *const service_keys[] = {
    "version",       "status",        "hires",        "candidates",
    "created_at_ms", "updated_at_ms", "closed_at_ms", NULL,
};

/* word, if a shell reads it as it is (a hint's command pasted as shown),
 * else placeholder: standard input ("-") cannot be read twice, and a path
 * with spaces or quotes would need quoting. */
static const char *
shell_word_or(const char *word, const char *placeholder)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                               "TUVWXYZ0123456789._/+,:@-";

    if (word == NULL || word[0] == '\0' || strcmp(word, "-") == 0 ||
        word[strspn(word, safe)] != '\0')
        return placeholder;
    return word;
}

/* Whether a submit was refused because its order's id is taken: by the
 * code and the field, which stay when the message's words change. */
static bool
order_exists(const Jobmatch__V1__Reply *reply)
{
    return reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR &&
           reply->error->code ==
               JOBMATCH__V1__ERROR_CODE__ERROR_CODE_CONFLICT &&
           strcmp(reply->error->field_path, "submit_order.order.id") == 0;
}

static int
cmd_submit(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    const Jobmatch__V1__Reply *reply;
    ProtobufCMessage *order = NULL;
    cli_record_fields fields = {NULL, service_keys, 0};
    const char *file = NULL;
    jm_msg_t *msg = NULL;
    int rc;

    if (wants_help(argc, argv)) {
        printf("usage: jobmatch order submit FILE|-\n\n"
               "Submits the job order in FILE (or stdin) as JSON with the "
               ".proto field\nnames (see docs/examples/job-order.json). "
               "Without an \"id\" the service\nmakes one. What the service "
               "sets (version, status, hires,\ncandidates, times) is "
               "ignored, so `order get --json` output of\nanother order, "
               "its id removed, is a template. Prints the id and the\nlog "
               "seq; with --json the Accepted object {id, seq, version} and\n"
               "\"duplicate\" (true: the answer to the same write sent "
               "before with\n--request-id).\n");
        return CLI_OK;
    }
    if ((rc = parse_args(c, argc, argv, NULL, &file, 1, 1,
                         "usage: jobmatch order submit FILE|-")) != CLI_OK)
        return rc;
    rc = cli_read_record(file, &jobmatch__v1__job_order__descriptor, &fields,
                         &order);
    if (rc != CLI_OK)
        return rc;
    body.order = (Jobmatch__V1__JobOrder *) order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &body;
    if ((rc = request(c, &req, &msg, &reply)) == CLI_OK)
        rc = print_accepted(c, reply, "submitted order");
    else if (rc == CLI_ERROR_REPLY && order_exists(reply))
        /* The service's message names the API's update_order (the words
         * for its clients, left as they are); a CLI user needs the
         * command. */
        fprintf(stderr,
                "%s: hint: change it with 'jobmatch order update %s %s'\n",
                c->prog, body.order->id, shell_word_or(file, "FILE"));
    jm_msg_free(&msg);
    jm_json_message_free(order);
    return rc;
}

/* ---- get ---- */

static void
print_uri(const jm_esco_t *esco, const char *label, const char *uri)
{
    const char *name = esco != NULL ? jm_esco_label(esco, uri) : NULL;

    if (name != NULL)
        printf("%s%s  <%s>\n", label, name, uri);
    else
        printf("%s<%s>\n", label, uri);
}

static void
print_skills(const jm_esco_t *esco, const char *title,
             Jobmatch__V1__SkillRequirement **skills, size_t n)
{
    char line[64];

    if (n == 0)
        return;
    printf("  %s:\n", title);
    for (size_t i = 0; i < n; i++) {
        if (skills[i]->min_level > 0)
            (void) snprintf(line, sizeof(line), "    [level >= %u] ",
                            skills[i]->min_level);
        else
            (void) snprintf(line, sizeof(line), "    ");
        print_uri(esco, line, skills[i]->skill_uri);
    }
}

static void
print_order(const Jobmatch__V1__JobOrder *o)
{
    jm_esco_t *esco = NULL;
    const jm_dk_postcode *pc = NULL;
    const jm_dk_municipality *owner =
        jm_dk_municipality_find(o->owner_municipality);
    char t1[40], t2[40], t3[40];
    const char *isco_label = NULL;

    /* Labels only: without the ESCO data the URIs are shown alone. */
    if (jm_esco_load(&esco, NULL) == 0 && o->isco_code[0] != '\0')
        isco_label = jm_esco_isco_label(esco, o->isco_code);
    printf("Order %s  (version %llu, %s)\n", o->id,
           (unsigned long long) o->version,
           short_name(&jobmatch__v1__order_status__descriptor, o->status));
    printf("  title:       %s\n", o->title);
    printf("  company:     %s  (CVR %s%s%s)\n",
           o->company_name[0] ? o->company_name : "-", o->cvr,
           o->p_number[0] ? ", P-number " : "", o->p_number);
    print_uri(esco, "  occupation:  ", o->occupation_uri);
    if (o->isco_code[0] != '\0')
        printf("  ISCO-08:     %s %s\n", o->isco_code,
               isco_label ? isco_label : "");
    if (o->disco_code[0] != '\0')
        printf("  DISCO-08:    %s\n", o->disco_code);
    printf("  kind:        %s, %u position%s, %u hours/week\n",
           short_name(&jobmatch__v1__job_kind__descriptor, o->kind),
           o->positions, o->positions == 1 ? "" : "s", o->hours_per_week);
    printf("  start:       %s    deadline: %s\n",
           o->start_date[0] ? o->start_date : "as soon as possible",
           o->deadline);
    if (o->workplace != NULL) {
        const jm_dk_municipality *m =
            jm_dk_municipality_find(o->workplace->municipality_code);

        pc = jm_dk_postcode_find(o->workplace->postcode);
        printf("  workplace:   %s %s, municipality %s %s (%.4f, %.4f)\n",
               o->workplace->postcode, pc ? pc->name : "",
               o->workplace->municipality_code, m ? m->name : "",
               o->workplace->latitude, o->workplace->longitude);
    }
    printf("  owner:       %s %s%s%s\n", o->owner_municipality,
           owner ? owner->name : "", o->consultant[0] ? "; consultant " : "",
           o->consultant);
    print_skills(esco, "essential skills", o->essential_skills,
                 o->n_essential_skills);
    print_skills(esco, "optional skills", o->optional_skills,
                 o->n_optional_skills);
    for (size_t i = 0; i < o->n_languages; i++)
        printf("  %s %s >= %s\n", i == 0 ? "languages: " : "           ",
               o->languages[i]->language,
               short_name(&jobmatch__v1__language_level__descriptor,
                          o->languages[i]->min_level));
    for (size_t i = 0; i < o->n_licences; i++)
        printf("  %s %s\n", i == 0 ? "licences:  " : "           ",
               short_name(&jobmatch__v1__licence__descriptor, o->licences[i]));
    if (o->status == JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED)
        printf("  hires:       %u\n", o->hires);
    if (o->n_candidates > 0) {
        printf("  candidates (%zu):\n", o->n_candidates);
        for (size_t i = 0; i < o->n_candidates; i++) {
            const Jobmatch__V1__CandidateOutcome *k = o->candidates[i];

            format_time(k->updated_at_ms, t1, sizeof(t1));
            printf("    %-20s %-10s %s%s%s\n", k->profile_id,
                   short_name(&jobmatch__v1__candidate_status__descriptor,
                              k->status),
                   t1, k->note[0] ? "  " : "", k->note);
        }
    }
    format_time(o->created_at_ms, t1, sizeof(t1));
    format_time(o->updated_at_ms, t2, sizeof(t2));
    format_time(o->closed_at_ms, t3, sizeof(t3));
    printf("  created %s, updated %s%s%s\n", t1, t2,
           o->closed_at_ms ? ", closed " : "", o->closed_at_ms ? t3 : "");
    if (o->description[0] != '\0')
        printf("\n%s\n", o->description);
    jm_esco_destroy(&esco);
}

static int
get_order(cli *c, const char *id, jm_msg_t **msg,
          const Jobmatch__V1__Reply **reply)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrder body = JOBMATCH__V1__GET_ORDER__INIT;

    body.order_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    req.get_order = &body;
    return request(c, &req, msg, reply);
}

static int
cmd_get(cli *c, int argc, char **argv)
{
    const Jobmatch__V1__Reply *reply;
    const char *id = NULL;
    jm_msg_t *msg = NULL;
    int rc;

    if (wants_help(argc, argv)) {
        printf("usage: jobmatch order get ID\n\nShows the order, with the "
               "ESCO labels of its occupation and skills;\nwith --json the "
               "JobOrder.\n");
        return CLI_OK;
    }
    if ((rc = parse_args(c, argc, argv, NULL, &id, 1, 1,
                         "usage: jobmatch order get ID")) != CLI_OK)
        return rc;
    if ((rc = get_order(c, id, &msg, &reply)) == CLI_OK) {
        if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ORDER)
            rc = cli_usage_error(c, "unexpected answer from intake");
        else if (c->json)
            cli_print_message(&reply->order->base);
        else
            print_order(reply->order);
    }
    jm_msg_free(&msg);
    return rc;
}

/* ---- list ---- */

static void
table_row(cli_table *t, const Jobmatch__V1__JobOrder *o)
{
    cli_table_cell(t, "%s", o->id);
    cli_table_cell(
        t, "%s",
        short_name(&jobmatch__v1__order_status__descriptor, o->status));
    cli_table_cell(t, "%s", o->owner_municipality);
    cli_table_cell(t, "%u", o->positions);
    cli_table_cell(t, "%s", o->deadline);
    cli_table_cell(t, "%llu", (unsigned long long) o->version);
    cli_table_cell(t, "%s", o->title);
}

static const char list_usage[] =
    "usage: jobmatch order list [--status S] [--municipality CODE]\n"
    "                           [--occupation URI] [--limit N]";

static int
cmd_list(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__ListOrders body = JOBMATCH__V1__LIST_ORDERS__INIT;
    const char *status = NULL, *limit_text = NULL;
    const char *municipality = "", *occupation = "";
    const struct option opts[] = {
        {"--status", &status, NULL},
        {"--municipality", &municipality, NULL},
        {"--occupation", &occupation, NULL},
        {"--limit", &limit_text, NULL},
        {NULL, NULL, NULL},
    };
    unsigned long long limit = LIST_DEFAULT;
    jm_msg_t **pages = NULL;
    size_t npages = 0, shown = 0;
    char *token = NULL;
    int rc;

    if (wants_help(argc, argv)) {
        printf("%s\n\nLists orders (of the owning municipality, with a "
               "status, for an ESCO\noccupation URI), following pages up to "
               "--limit orders (default %d).\nWith --json: {\"orders\": "
               "[...]}.\n",
               list_usage, LIST_DEFAULT);
        return CLI_OK;
    }
    rc = parse_args(c, argc, argv, opts, NULL, 0, 0, list_usage);
    if (rc != CLI_OK)
        return rc;
    if (status != NULL &&
        (body.status = (Jobmatch__V1__OrderStatus) parse_enum(
             &jobmatch__v1__order_status__descriptor, status)) == 0)
        return cli_usage_error(c, "--status: open, filled, withdrawn or "
                                  "expired");
    if (limit_text != NULL &&
        (!cli_parse_uint(limit_text, LIST_MAX, &limit) || limit == 0))
        return cli_usage_error(c, "--limit: 1 to %d", LIST_MAX);
    body.municipality_code = (char *) municipality;
    body.occupation_uri = (char *) occupation;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS;
    req.list_orders = &body;
    token = jm_xstrdup("");
    do {
        const Jobmatch__V1__Reply *reply;

        pages = jm_xrealloc(pages, (npages + 1) * sizeof(*pages));
        pages[npages] = NULL;
        body.page_token = token;
        body.page_size =
            (uint32_t) (limit - shown < PAGE_MAX ? limit - shown : PAGE_MAX);
        req.request_id.len = 0;
        rc = request(c, &req, &pages[npages++], &reply);
        if (rc != CLI_OK)
            goto out;
        shown += reply->order_list->n_orders;
        free(token);
        token = jm_xstrdup(reply->order_list->next_page_token);
    } while (token[0] != '\0' && shown < limit);

    if (c->json) {
        json_t *orders = json_array(), *doc = json_object();

        for (size_t p = 0; p < npages; p++) {
            const Jobmatch__V1__OrderList *list =
                ((const Jobmatch__V1__Reply *) jm_msg_get(pages[p]))
                    ->order_list;

            for (size_t i = 0; i < list->n_orders; i++)
                json_array_append_new(
                    orders, jm_json_from_message(&list->orders[i]->base, 0));
        }
        json_object_set_new(doc, "orders", orders);
        cli_print_json(doc);
    } else {
        cli_table *t = cli_table_new("ID", "STATUS", "OWNER", ">POS",
                                     "DEADLINE", ">VER", "TITLE", NULL);

        for (size_t p = 0; p < npages; p++) {
            const Jobmatch__V1__OrderList *list =
                ((const Jobmatch__V1__Reply *) jm_msg_get(pages[p]))
                    ->order_list;

            for (size_t i = 0; i < list->n_orders; i++)
                table_row(t, list->orders[i]);
        }
        cli_table_print(t, stdout);
        printf("%zu order%s%s\n", shown, shown == 1 ? "" : "s",
               token[0] != '\0' ? " (there are more: raise --limit)" : "");
    }

out:
    for (size_t p = 0; p < npages; p++)
        jm_msg_free(&pages[p]);
    free(pages);
    free(token);
    return rc;
}

/* ---- update ---- */

static const char update_usage[] =
    "usage: jobmatch order update ID FILE|- [--expected-version V]";

/* The stored version of order id, for an update made against it. This
 * read is the CLI's own first step, a GetOrder the user never sent, so its
 * errors (no such order, another municipality's, a malformed ID) are
 * reported at update_order.order.id, the field ID fills: the answer the
 * update itself gives when --expected-version sends it at once. */
static int
current_version(cli *c, const char *id, unsigned long long *version)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrder body = JOBMATCH__V1__GET_ORDER__INIT;
    const Jobmatch__V1__Reply *reply;
    jm_msg_t *msg = NULL;
    int rc;

    body.order_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    req.get_order = &body;
    if ((rc = cli_request(c, CLI_INTAKE, &req, &msg)) != CLI_OK)
        return rc;
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if (reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR &&
        strcmp(reply->error->field_path, "get_order.order_id") == 0) {
        Jobmatch__V1__Error renamed = *reply->error;
        Jobmatch__V1__Reply shown = *reply;

        renamed.field_path = (char *) "update_order.order.id";
        shown.error = &renamed;
        rc = cli_reply_failed(c, &shown);
    } else if ((rc = cli_reply_failed(c, reply)) == CLI_OK) {
        if (reply->body_case == JOBMATCH__V1__REPLY__BODY_ORDER)
            *version = reply->order->version;
        else
            rc = cli_usage_error(c, "unexpected answer from intake");
    }
    jm_msg_free(&msg);
    return rc;
}

static int
cmd_update(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__UpdateOrder body = JOBMATCH__V1__UPDATE_ORDER__INIT;
    const char *pos[2] = {NULL, NULL}, *version = NULL;
    const struct option opts[] = {
        {"--expected-version", &version, NULL},
        {NULL, NULL, NULL},
    };
    const Jobmatch__V1__Reply *reply;
    Jobmatch__V1__JobOrder *order = NULL;
    cli_record_fields fields = {NULL, service_keys, 0};
    unsigned long long expected = 0;
    jm_msg_t *msg = NULL;
    int rc;

    if (wants_help(argc, argv)) {
        printf("%s\n\nReplaces the fields of open order ID with those in "
               "FILE (JSON, as for\nsubmit). The change is made against "
               "--expected-version, else against\nthe \"version\" in FILE "
               "(as `order get --json` printed it: a change\nmade since is "
               "then refused, not lost), else against the current\nversion, "
               "read first. What else the service sets (status, hires,\n"
               "candidates, times) is ignored: `order close` and `order "
               "outcome`\nchange those.\n",
               update_usage);
        return CLI_OK;
    }
    if ((rc = parse_args(c, argc, argv, opts, pos, 2, 2, update_usage)))
        return rc;
    if (version != NULL &&
        (!cli_parse_uint(version, UINT64_MAX, &expected) || expected == 0))
        return cli_usage_error(c, "--expected-version: a version >= 1");
    rc = cli_read_record(pos[1], &jobmatch__v1__job_order__descriptor, &fields,
                         (ProtobufCMessage **) &order);
    if (rc != CLI_OK)
        return rc;
    if (expected == 0)
        expected = fields.version;
    if (order->id[0] != '\0' && strcmp(order->id, pos[0]) != 0) {
        rc = cli_usage_error(c, "the file is about order %s, not %s", order->id,
                             pos[0]);
        goto out;
    }
    if (expected == 0 && (rc = current_version(c, pos[0], &expected)) != CLI_OK)
        goto out;
    if (order->id[0] == '\0') {
        /* The message owns its strings (and frees them with it), except
         * protobuf-c's shared empty default. */
        if (order->id != protobuf_c_empty_string)
            free(order->id);
        order->id = jm_xstrdup(pos[0]);
    }
    body.order = order;
    body.expected_version = expected;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER;
    req.update_order = &body;
    if ((rc = request(c, &req, &msg, &reply)) == CLI_OK)
        rc = print_accepted(c, reply, "updated order");

out:
    jm_msg_free(&msg);
    jm_json_message_free(&order->base);
    return rc;
}

/* ---- close ---- */

static const char close_usage[] =
    "usage: jobmatch order close ID --filled N | --withdrawn "
    "[--expected-version V]";

static int
cmd_close(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetOrderStatus body = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    const char *id = NULL, *filled = NULL, *version = NULL;
    bool withdrawn = false;
    const struct option opts[] = {
        {"--filled", &filled, NULL},
        {"--withdrawn", NULL, &withdrawn},
        {"--expected-version", &version, NULL},
        {NULL, NULL, NULL},
    };
    const Jobmatch__V1__Reply *reply;
    unsigned long long n = 0, expected = 0;
    jm_msg_t *msg = NULL;
    int rc;

    if (wants_help(argc, argv)) {
        printf("%s\n\nCloses an open order: filled with N hires (1 to its "
               "positions), or\nwithdrawn. Orders past their deadline "
               "expire by themselves.\n",
               close_usage);
        return CLI_OK;
    }
    if ((rc = parse_args(c, argc, argv, opts, &id, 1, 1, close_usage)))
        return rc;
    if ((filled != NULL) == withdrawn)
        return cli_usage_error(c, "give one of --filled N and --withdrawn\n%s",
                               close_usage);
    if (filled != NULL && (!cli_parse_uint(filled, UINT32_MAX, &n) || n == 0))
        return cli_usage_error(c, "--filled: the number of hires, from 1 "
                                  "to the order's positions");
    if (version != NULL &&
        (!cli_parse_uint(version, UINT64_MAX, &expected) || expected == 0))
        return cli_usage_error(c, "--expected-version: a version >= 1");
    body.order_id = (char *) id;
    body.status = withdrawn ? JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_WITHDRAWN
                            : JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    body.hires = (uint32_t) n;
    body.expected_version = expected;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS;
    req.set_order_status = &body;
    if ((rc = request(c, &req, &msg, &reply)) == CLI_OK)
        rc = print_accepted(c, reply, "closed order");
    jm_msg_free(&msg);
    return rc;
}

/* ---- outcome ---- */

static const char outcome_usage[] =
    "usage: jobmatch order outcome ID --profile PID --status S [--note TEXT]";

static int
cmd_outcome(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__RecordOutcome body = JOBMATCH__V1__RECORD_OUTCOME__INIT;
    const char *id = NULL, *profile = NULL, *status = NULL, *note = "";
    const struct option opts[] = {
        {"--profile", &profile, NULL},
        {"--status", &status, NULL},
        {"--note", &note, NULL},
        {NULL, NULL, NULL},
    };
    const Jobmatch__V1__Reply *reply;
    jm_msg_t *msg = NULL;
    int rc;

    if (wants_help(argc, argv)) {
        printf("%s\n\nRecords where a candidate (a pseudonymous profile id) "
               "stands on the order:\nproposed, presented, hired or "
               "rejected. The same profile again moves its\nentry.\n",
               outcome_usage);
        return CLI_OK;
    }
    if ((rc = parse_args(c, argc, argv, opts, &id, 1, 1, outcome_usage)))
        return rc;
    if (profile == NULL || status == NULL)
        return cli_usage_error(c, "%s", outcome_usage);
    body.status = (Jobmatch__V1__CandidateStatus) parse_enum(
        &jobmatch__v1__candidate_status__descriptor, status);
    if (body.status == 0)
        return cli_usage_error(c, "--status: proposed, presented, hired or "
                                  "rejected");
    body.order_id = (char *) id;
    body.profile_id = (char *) profile;
    body.note = (char *) note;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME;
    req.record_outcome = &body;
    if ((rc = request(c, &req, &msg, &reply)) == CLI_OK)
        rc = print_accepted(c, reply, "recorded on order");
    jm_msg_free(&msg);
    return rc;
}

/* ---- stats ---- */

/* One row of the stats table, under its label. */
static void
stats_row(cli_table *t, const Jobmatch__V1__MunicipalityOrderStats *s,
          const char *label)
{
    cli_table_cell(t, "%s", label);
    cli_table_cell(t, "%u", s->open);
    cli_table_cell(t, "%u", s->filled);
    cli_table_cell(t, "%u", s->withdrawn);
    cli_table_cell(t, "%u", s->expired);
    cli_table_cell(t, "%u", s->positions_open);
    cli_table_cell(t, "%u", s->hires);
    /* Undefined until something closed or was filled: a dash, not a
     * 0 that reads as "none filled" or "filled at once". */
    if (s->filled + s->withdrawn + s->expired == 0)
        cli_table_cell(t, "-");
    else
        cli_table_cell(t, "%.0f%%", 100 * s->fill_rate);
    if (s->filled == 0)
        cli_table_cell(t, "-");
    else
        cli_table_cell(t, "%.1f", s->median_days_to_fill);
}

static const char stats_usage[] =
    "usage: jobmatch order stats [--municipality CODE]";

static int
cmd_stats(cli *c, int argc, char **argv)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrderStats body = JOBMATCH__V1__GET_ORDER_STATS__INIT;
    const char *municipality = "";
    const struct option opts[] = {
        {"--municipality", &municipality, NULL},
        {NULL, NULL, NULL},
    };
    const Jobmatch__V1__Reply *reply;
    jm_msg_t *msg = NULL;
    cli_table *t;
    int rc;

    if (wants_help(argc, argv)) {
        printf("%s\n\nPer municipality: open, filled, withdrawn and expired "
               "orders, open\npositions, hires, the fill rate (filled / "
               "closed) and the median days\nfrom submit to filled; with more "
               "than one municipality, a last row\n'all' over them together "
               "(its median over all their filled orders).\n",
               stats_usage);
        return CLI_OK;
    }
    if ((rc = parse_args(c, argc, argv, opts, NULL, 0, 0, stats_usage)))
        return rc;
    body.municipality_code = (char *) municipality;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS;
    req.get_order_stats = &body;
    if ((rc = request(c, &req, &msg, &reply)) != CLI_OK)
        goto out;
    if (c->json) {
        cli_print_message(&reply->order_stats->base);
        goto out;
    }
    t = cli_table_new("MUNICIPALITY", ">OPEN", ">FILLED", ">WITHDRAWN",
                      ">EXPIRED", ">POSITIONS", ">HIRES", ">FILL RATE",
                      ">MEDIAN DAYS", NULL);
    for (size_t i = 0; i < reply->order_stats->n_municipalities; i++) {
        const Jobmatch__V1__MunicipalityOrderStats *s =
            reply->order_stats->municipalities[i];
        const jm_dk_municipality *m =
            jm_dk_municipality_find(s->municipality_code);
        char label[64];

        (void) snprintf(label, sizeof(label), "%s %s", s->municipality_code,
                        m ? m->name : "");
        stats_row(t, s, label);
    }
    /* One row needs no sum under it; an older intake sends none. */
    if (reply->order_stats->n_municipalities > 1 &&
        reply->order_stats->total != NULL)
        stats_row(t, reply->order_stats->total, "all");
    cli_table_print(t, stdout);

out:
    jm_msg_free(&msg);
    return rc;
}

/* ---- dispatch ---- */

int
cli_cmd_order(cli *c, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(cli *c, int argc, char **argv);
    } commands[] = {
        {"submit", cmd_submit}, {"get", cmd_get},     {"list", cmd_list},
        {"update", cmd_update}, {"close", cmd_close}, {"outcome", cmd_outcome},
        {"stats", cmd_stats},
    };

    const char *names[JM_COUNTOF(commands)];

    if (argc < 2) {
        (void) fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        (void) fputs(usage_text, stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < JM_COUNTOF(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(c, argc - 1, argv + 1);
        names[i] = commands[i].name;
    }
    return cli_unknown_command(c, "order", argv[1], names, JM_COUNTOF(names));
}
