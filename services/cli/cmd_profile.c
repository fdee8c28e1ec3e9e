/* cmd_profile.c - `jobmatch profile ...`: citizens' profiles in the
 * profiles service: put, get, find, assess, progress, consent, erase.
 *
 * Readable output shows ESCO labels next to skill and occupation URIs
 * (the shipped ESCO subset, loaded only for `get` and `find`), and the
 * personal part when the service sent it (caseworkers of the citizen's
 * municipality, admin, local development). --json prints the reply's
 * message as the .proto defines it. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli_commands.h"
#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/esco.h"
#include "jm/json.h"
#include "jm/log.h"
#include "jm/mem.h"

static const char usage_text[] =
    "usage: jobmatch profile COMMAND [ARGS...]\n"
    "\n"
    "Citizens' competence profiles. A citizen is known by a pseudonymous id\n"
    "(p-...); the CPR number, name and contact details stay protected in the\n"
    "profiles service.\n"
    "\n"
    "commands:\n"
    "  put FILE|- [--expected-version V]\n"
    "                              create or update a citizen from JSON "
    "(PutProfile);\n"
    "                              prints the pseudonymous id and seq\n"
    "  get ID                      show a profile (personal data for "
    "caseworkers)\n"
    "  find --cpr CPR              look a citizen up by CPR number "
    "(caseworkers)\n"
    "  assess ID --dimension D --score S [--date YYYY-MM-DD] [--assessor "
    "NAME]\n"
    "                              record a progress measurement (score "
    "1-10)\n"
    "  progress ID [--dimension D] a citizen's measurements, oldest first\n"
    "  consent ID --neighbour-matching yes|no [--date YYYY-MM-DD]\n"
    "                              may neighbouring municipalities match "
    "the citizen\n"
    "  erase ID                    erase the citizen (destroys the "
    "personal data)\n"
    "\n"
    "dimensions: job_readiness, danish, professional_skills, social_skills,\n"
    "health. `jobmatch profile COMMAND --help` for one command.\n";

/* -h and --help are accepted anywhere after the command. */
static bool
is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static int
sub_usage(cli *c, const char *line)
{
    return cli_usage_error(c, "usage: jobmatch profile %s", line);
}

/* Prints one line of help and returns true when args ask for it. */
static bool
sub_help(int argc, char **argv, const char *line, const char *what)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            printf("usage: jobmatch profile %s\n\n%s\n", line, what);
            return true;
        }
    }
    return false;
}

/* Sends req to profiles; on CLI_OK *msg_p owns a reply of body want.
 * Every command checks the body it expects, so that a reply of another
 * kind (a wrong endpoint answering) is an error, not a crash. */
static int
request(cli *c, Jobmatch__V1__Request *req, Jobmatch__V1__Reply__BodyCase want,
        jm_msg_t **msg_p)
{
    const Jobmatch__V1__Reply *reply;
    int rc;

    if ((rc = cli_request(c, CLI_PROFILES, req, msg_p)) != CLI_OK)
        return rc;
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(*msg_p);
    if ((rc = cli_reply_failed(c, reply)) == CLI_OK &&
        reply->body_case != want) {
        fprintf(stderr, "%s: unexpected answer from the profiles service\n",
                c->prog);
        rc = CLI_ERROR_REPLY;
    }
    if (rc != CLI_OK)
        jm_msg_free(msg_p);
    return rc;
}

static const Jobmatch__V1__Reply *
reply_of(jm_msg_t *msg)
{
    return (const Jobmatch__V1__Reply *) jm_msg_get(msg);
}

/* Dimensions as a person types them: "danish", "DANISH",
 * "PROGRESS_DIMENSION_DANISH" or "2". UNSPECIFIED is not a dimension to
 * record, so it is never matched. */
static int
parse_dimension(const char *text)
{
    const ProtobufCEnumDescriptor *d =
        &jobmatch__v1__progress_dimension__descriptor;

    for (unsigned i = 0; i < d->n_values; i++) {
        const char *short_name = jm_json_enum_short_name(d, d->values[i].value);

        if (d->values[i].value == 0)
            continue;
        if (strcasecmp(text, d->values[i].name) == 0 ||
            (short_name && strcasecmp(text, short_name) == 0) ||
            (text[0] >= '0' && text[0] <= '9' &&
             atoi(text) == d->values[i].value))
            return d->values[i].value;
    }
    return -1;
}

static const char *
enum_name(const ProtobufCEnumDescriptor *d, int value)
{
    const char *name = jm_json_enum_short_name(d, value);

    return name ? name : "?";
}

/* The reply's Accepted as JSON (--json: {id, seq, version}, the contract
 * outside checks rely on, and "duplicate": cli_print_accepted) or one
 * line. */
static void
print_accepted(cli *c, const Jobmatch__V1__Reply *reply, const char *what)
{
    const Jobmatch__V1__Accepted *a = reply->accepted;

    if (c->json) {
        cli_print_accepted(reply);
        return;
    }
    printf("%s %s (seq %llu", what, a->id, (unsigned long long) a->seq);
    if (a->version != 0)
        printf(", version %llu", (unsigned long long) a->version);
    printf(")%s\n",
           reply->duplicate ? " (already done: this is the first answer)" : "");
}

/* The user's login name: $USER, else the account's name (cron jobs and
 * systemd units run without $USER); NULL if neither is known. */
static const char *
login_name(void)
{
    const char *user = getenv("USER");
    const struct passwd *pw;

    if (user != NULL && user[0] != '\0')
        return user;
    pw = getpwuid(getuid());
    return pw != NULL ? pw->pw_name : NULL;
}

/* ---- put ---- */

/* What only the service sets in a CitizenProfile: dropped from a put's
 * file, so that `profile get --json` output (a ProfileReply: "profile"
 * and "personal", as in PutProfile) can be edited and sent back. */
static const char *const service_keys[] = {
    "version", "progress", "created_at_ms", "updated_at_ms", NULL,
};

/* put: the JSON file is read strictly (unknown keys are errors), so a
 * misspelt field is caught here and not silently dropped. */
static int
cmd_put(cli *c, int argc, char **argv)
{
    static const char line[] = "put FILE|- [--expected-version V]";
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    cli_record_fields fields = {"profile", service_keys, 0};
    Jobmatch__V1__PutProfile *put = NULL;
    const char *file = NULL, *version = NULL;
    unsigned long long expected = 0;
    jm_msg_t *msg = NULL;
    int rc;

    if (sub_help(argc, argv, line,
                 "Creates or updates a citizen from a PutProfile JSON object "
                 "(see\ndocs/examples/profile.json). Without profile.id the "
                 "CPR number\ndecides: a new citizen, or the one with that "
                 "number. Prints the\npseudonymous id and the log seq; --json "
                 "prints Accepted {id, seq, version}\nand \"duplicate\" "
                 "(true: the answer to the same put sent before with\n"
                 "--request-id).\n\n"
                 "An update is made against --expected-version, else the "
                 "file's\nexpected_version, else the profile's \"version\" "
                 "as `profile get --json`\nprinted it (a change made since is "
                 "then refused, not lost), else\nagainst whatever is stored. "
                 "What else the service sets (progress,\ntimes) is ignored: "
                 "`profile assess` records progress; consent\nchanges only "
                 "with `profile consent`."))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expected-version") == 0 && i + 1 < argc)
            version = argv[++i];
        else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
            file = argv[i];
        else
            return sub_usage(c, line);
    }
    if (file == NULL)
        return sub_usage(c, line);
    if (version != NULL &&
        (!cli_parse_uint(version, UINT64_MAX, &expected) || expected == 0))
        return cli_usage_error(c, "--expected-version: a version >= 1");
    if ((rc = cli_read_record(file, &jobmatch__v1__put_profile__descriptor,
                              &fields, (ProtobufCMessage **) &put)) != CLI_OK)
        return rc;
    if (expected != 0)
        put->expected_version = expected;
    else if (put->expected_version == 0)
        put->expected_version = fields.version;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    req.put_profile = put;
    rc = request(c, &req, JOBMATCH__V1__REPLY__BODY_ACCEPTED, &msg);
    if (rc == CLI_OK)
        print_accepted(c, reply_of(msg), "profile");
    jm_msg_free(&msg);
    jm_json_message_free(&put->base);
    return rc;
}

/* ---- get and find: one readable page ---- */

/* ESCO URIs with their English label in front: what a caseworker reads,
 * next to what a machine compares. */
static void
print_uris(jm_esco_t *esco, const char *title, char **uris, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const char *label = esco ? jm_esco_label(esco, uris[i]) : NULL;

        printf("  %-11s %s  <%s>\n", i == 0 ? title : "",
               label ? label : "(unknown)", uris[i]);
    }
}

/* The service stores the CPR number as 10 digits; people read it with
 * the dash. */
static void
print_personal(const Jobmatch__V1__PersonalData *p)
{
    const char *cpr = p->cpr ? p->cpr : "";

    printf("  name:       %s\n", p->name);
    if (strlen(cpr) == 10)
        printf("  CPR:        %.6s-%s\n", cpr, cpr + 6);
    else
        printf("  CPR:        %s\n", cpr);
    if (p->email && p->email[0])
        printf("  e-mail:     %s\n", p->email);
    if (p->phone && p->phone[0])
        printf("  phone:      %s\n", p->phone);
}

static void
print_home(const Jobmatch__V1__CitizenProfile *p)
{
    const jm_dk_postcode *pc;
    const jm_dk_municipality *m;

    if (p->home == NULL)
        return;
    pc = jm_dk_postcode_find(p->home->postcode);
    m = jm_dk_municipality_find(p->home->municipality_code);
    printf("  home:       %s %s, municipality %s %s (%.4f, %.4f)\n",
           p->home->postcode, pc ? pc->name : "", p->home->municipality_code,
           m ? m->name : "", p->home->latitude, p->home->longitude);
}

/* The readable page of `get` and `find`: personal part (when sent),
 * the matchable fields, then skills and the latest progress as tables. */
static void
print_profile(const Jobmatch__V1__ProfileReply *reply)
{
    const Jobmatch__V1__CitizenProfile *p = reply->profile;
    const jm_dk_target_group *group =
        jm_dk_target_group_find(p->target_group_list, p->target_group);
    jm_esco_t *esco = NULL;
    cli_table *t;

    /* Labels are a convenience: without the data, URIs alone. */
    if (jm_esco_load(&esco, NULL) != 0)
        esco = NULL;
    printf("profile %s, version %llu\n", p->id,
           (unsigned long long) p->version);
    if (reply->personal != NULL)
        print_personal(reply->personal);
    print_home(p);
    printf("  travel:     up to %u km\n", p->max_travel_km);
    printf("  hours:      %u per week, available from %s\n", p->hours_per_week,
           p->available_from && p->available_from[0] ? p->available_from
                                                     : "now");
    printf("  target:     %s (list %s%s%s)\n", p->target_group,
           p->target_group_list, group ? ": " : "", group ? group->label : "");
    printf("  job kinds: ");
    for (size_t i = 0; i < p->n_job_kinds; i++)
        printf(" %s", enum_name(&jobmatch__v1__job_kind__descriptor,
                                (int) p->job_kinds[i]));
    printf("\n");
    if (p->consent != NULL)
        printf("  consent:    neighbour matching %s%s%s\n",
               p->consent->neighbour_matching ? "yes" : "no",
               p->consent->given_on[0] ? ", given " : "", p->consent->given_on);
    if (p->caseworker && p->caseworker[0])
        printf("  caseworker: %s\n", p->caseworker);
    print_uris(esco, "wished:", p->wished_occupations, p->n_wished_occupations);
    print_uris(esco, "held:", p->held_occupations, p->n_held_occupations);
    for (size_t i = 0; i < p->n_languages; i++)
        printf("  %-11s %s %s\n", i == 0 ? "languages:" : "",
               p->languages[i]->language,
               enum_name(&jobmatch__v1__language_level__descriptor,
                         (int) p->languages[i]->level));
    for (size_t i = 0; i < p->n_licences; i++)
        printf("  %-11s %s\n", i == 0 ? "licences:" : "",
               enum_name(&jobmatch__v1__licence__descriptor,
                         (int) p->licences[i]));
    if (p->n_skills > 0) {
        printf("\n");
        t = cli_table_new(">LEVEL", ">LAST USED", "SKILL", "URI", NULL);
        for (size_t i = 0; i < p->n_skills; i++) {
            const char *label =
                esco ? jm_esco_label(esco, p->skills[i]->skill_uri) : NULL;

            cli_table_cell(t, "%u", p->skills[i]->level);
            if (p->skills[i]->last_used_year)
                cli_table_cell(t, "%u", p->skills[i]->last_used_year);
            else
                cli_table_cell(t, "-");
            cli_table_cell(t, "%s", label ? label : "(unknown)");
            cli_table_cell(t, "%s", p->skills[i]->skill_uri);
        }
        cli_table_print(t, stdout);
    }
    if (p->n_progress > 0) {
        printf("\n");
        t = cli_table_new("DIMENSION", ">SCORE", "DATE", "ASSESSOR", NULL);
        for (size_t i = 0; i < p->n_progress; i++) {
            cli_table_cell(
                t, "%s",
                enum_name(&jobmatch__v1__progress_dimension__descriptor,
                          (int) p->progress[i]->dimension));
            cli_table_cell(t, "%u", p->progress[i]->score);
            cli_table_cell(t, "%s", p->progress[i]->date);
            cli_table_cell(t, "%s", p->progress[i]->assessor);
        }
        cli_table_print(t, stdout);
    }
    jm_esco_destroy(&esco);
}

static int
show_profile(cli *c, Jobmatch__V1__Request *req)
{
    jm_msg_t *msg = NULL;
    int rc = request(c, req, JOBMATCH__V1__REPLY__BODY_PROFILE, &msg);

    if (rc != CLI_OK)
        return rc;
    if (c->json)
        cli_print_message(&reply_of(msg)->profile->base);
    else
        print_profile(reply_of(msg)->profile);
    jm_msg_free(&msg);
    return CLI_OK;
}

static int
cmd_get(cli *c, int argc, char **argv)
{
    static const char line[] = "get ID [--json]";
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;

    if (sub_help(argc, argv, line,
                 "Shows the citizen's profile, with ESCO labels next to "
                 "skills and\noccupations. The personal part (CPR number, "
                 "name, contact) is shown\nwhen the service sends it: to "
                 "caseworkers of the citizen's municipality."))
        return CLI_OK;
    if (argc != 2)
        return sub_usage(c, line);
    get.profile_id = argv[1];
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROFILE;
    req.get_profile = &get;
    return show_profile(c, &req);
}

static int
cmd_find(cli *c, int argc, char **argv)
{
    static const char line[] = "find --cpr CPR [--json]";
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__FindProfile find = JOBMATCH__V1__FIND_PROFILE__INIT;

    if (sub_help(argc, argv, line,
                 "Looks a citizen up by CPR number (DDMMYY-SSSS). For "
                 "caseworkers of the\ncitizen's municipality only."))
        return CLI_OK;
    if (argc != 3 || strcmp(argv[1], "--cpr") != 0)
        return sub_usage(c, line);
    find.cpr = argv[2];
    req.body_case = JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE;
    req.find_profile = &find;
    return show_profile(c, &req);
}

/* ---- assess, progress, consent, erase ---- */

/* Takes "--name VALUE" pairs after the id: names[i] gets its value.
 * Unknown names and a missing value are usage errors (false). */
static bool
take_options(int argc, char **argv, int first, const char *const *names,
             const char **values, size_t count)
{
    for (int i = first; i < argc; i += 2) {
        size_t k;

        for (k = 0; k < count; k++) {
            if (strcmp(argv[i], names[k]) == 0)
                break;
        }
        if (k == count || i + 1 >= argc)
            return false;
        values[k] = argv[i + 1];
    }
    return true;
}

/* Today as the service counts dates (UTC, jm_clock). */
static void
today(char buf[16])
{
    jm_date_format(jm_clock_today(), buf, 16);
}

/* assess: defaults that make the common case short (today, the login
 * name); the service checks the values again. */
static int
cmd_assess(cli *c, int argc, char **argv)
{
    static const char line[] = "assess ID --dimension D --score S "
                               "[--date YYYY-MM-DD] [--assessor NAME]";
    static const char *const names[] = {"--dimension", "--score", "--date",
                                        "--assessor"};
    const char *v[4] = {NULL, NULL, NULL, NULL};
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__RecordProgress rp = JOBMATCH__V1__RECORD_PROGRESS__INIT;
    Jobmatch__V1__ProgressMeasurement m =
        JOBMATCH__V1__PROGRESS_MEASUREMENT__INIT;
    unsigned long long score;
    const char *user;
    char date[16];
    jm_msg_t *msg = NULL;
    int dimension, rc;

    if (sub_help(argc, argv, line,
                 "Records a progress measurement: a score from 1 (far from) "
                 "to 10 (ready)\non a dimension (job_readiness, danish, "
                 "professional_skills,\nsocial_skills, health). The date "
                 "defaults to today, the assessor to\nyour login name. The "
                 "latest score per dimension travels to the matcher."))
        return CLI_OK;
    if (argc < 2 || !take_options(argc, argv, 2, names, v, 4) || v[0] == NULL ||
        v[1] == NULL)
        return sub_usage(c, line);
    if ((dimension = parse_dimension(v[0])) < 0)
        return cli_usage_error(c,
                               "unknown dimension '%s' (job_readiness, "
                               "danish, professional_skills, "
                               "social_skills, health)",
                               v[0]);
    if (!cli_parse_uint(v[1], 10, &score) || score == 0)
        return cli_usage_error(c, "--score needs a number from 1 to 10");
    today(date);
    m.dimension = (Jobmatch__V1__ProgressDimension) dimension;
    m.score = (uint32_t) score;
    m.date = (char *) (v[2] ? v[2] : date);
    user = login_name();
    m.assessor = (char *) (v[3] ? v[3] : user && user[0] ? user : "jobmatch");
    rp.profile_id = argv[1];
    rp.measurement = &m;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS;
    req.record_progress = &rp;
    rc = request(c, &req, JOBMATCH__V1__REPLY__BODY_ACCEPTED, &msg);
    if (rc == CLI_OK)
        print_accepted(c, reply_of(msg), "measurement recorded for");
    jm_msg_free(&msg);
    return rc;
}

/* progress: the trajectory as a table, oldest first as the service
 * sends it. */
static int
cmd_progress(cli *c, int argc, char **argv)
{
    static const char line[] = "progress ID [--dimension D] [--json]";
    static const char *const names[] = {"--dimension"};
    const char *v[1] = {NULL};
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProgress get = JOBMATCH__V1__GET_PROGRESS__INIT;
    const Jobmatch__V1__ProgressTrajectory *tr;
    jm_msg_t *msg = NULL;
    cli_table *t;
    int dimension = 0, rc;

    if (sub_help(argc, argv, line,
                 "A citizen's progress measurements, oldest first; one "
                 "dimension or all."))
        return CLI_OK;
    if (argc < 2 || !take_options(argc, argv, 2, names, v, 1))
        return sub_usage(c, line);
    if (v[0] != NULL && (dimension = parse_dimension(v[0])) < 0)
        return cli_usage_error(c, "unknown dimension '%s'", v[0]);
    get.profile_id = argv[1];
    get.dimension = (Jobmatch__V1__ProgressDimension) dimension;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS;
    req.get_progress = &get;
    if ((rc = request(c, &req, JOBMATCH__V1__REPLY__BODY_PROGRESS, &msg)) !=
        CLI_OK)
        return rc;
    tr = reply_of(msg)->progress;
    if (c->json) {
        cli_print_message(&tr->base);
    } else if (tr->n_measurements == 0) {
        printf("no measurements for %s\n", tr->profile_id);
    } else {
        t = cli_table_new("DATE", "DIMENSION", ">SCORE", "ASSESSOR", NULL);
        for (size_t i = 0; i < tr->n_measurements; i++) {
            const Jobmatch__V1__ProgressMeasurement *m = tr->measurements[i];

            cli_table_cell(t, "%s", m->date);
            cli_table_cell(
                t, "%s",
                enum_name(&jobmatch__v1__progress_dimension__descriptor,
                          (int) m->dimension));
            cli_table_cell(t, "%u", m->score);
            cli_table_cell(t, "%s", m->assessor);
        }
        cli_table_print(t, stdout);
    }
    jm_msg_free(&msg);
    return CLI_OK;
}

/* consent: yes or no, spelt out, so that a typo is not taken as "no". */
static int
cmd_consent(cli *c, int argc, char **argv)
{
    static const char line[] =
        "consent ID --neighbour-matching yes|no [--date YYYY-MM-DD]";
    static const char *const names[] = {"--neighbour-matching", "--date"};
    const char *v[2] = {NULL, NULL};
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetConsent sc = JOBMATCH__V1__SET_CONSENT__INIT;
    Jobmatch__V1__Consent consent = JOBMATCH__V1__CONSENT__INIT;
    jm_msg_t *msg = NULL;
    int rc;

    if (sub_help(argc, argv, line,
                 "Records whether the citizen may be matched with job orders "
                 "of the\nnode's neighbouring municipalities. The date "
                 "defaults to today."))
        return CLI_OK;
    if (argc < 2 || !take_options(argc, argv, 2, names, v, 2) || v[0] == NULL)
        return sub_usage(c, line);
    if (strcmp(v[0], "yes") == 0)
        consent.neighbour_matching = true;
    else if (strcmp(v[0], "no") != 0)
        return cli_usage_error(c, "--neighbour-matching takes yes or no");
    consent.given_on = (char *) (v[1] ? v[1] : "");
    sc.profile_id = argv[1];
    sc.consent = &consent;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_CONSENT;
    req.set_consent = &sc;
    rc = request(c, &req, JOBMATCH__V1__REPLY__BODY_ACCEPTED, &msg);
    if (rc == CLI_OK)
        print_accepted(c, reply_of(msg), "consent recorded for");
    jm_msg_free(&msg);
    return rc;
}

/* erase: no confirmation prompt (scripts use it); the help says it
 * cannot be undone. */
static int
cmd_erase(cli *c, int argc, char **argv)
{
    static const char line[] = "erase ID";
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__EraseProfile erase = JOBMATCH__V1__ERASE_PROFILE__INIT;
    jm_msg_t *msg = NULL;
    int rc;

    if (sub_help(argc, argv, line,
                 "Erases the citizen: the profile, its measurements and its "
                 "personal data\n(whose key is destroyed). Consumers of the "
                 "log are told to forget the\nprofile. This cannot be "
                 "undone."))
        return CLI_OK;
    if (argc != 2)
        return sub_usage(c, line);
    erase.profile_id = argv[1];
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE;
    req.erase_profile = &erase;
    rc = request(c, &req, JOBMATCH__V1__REPLY__BODY_ACCEPTED, &msg);
    if (rc == CLI_OK)
        print_accepted(c, reply_of(msg), "erased");
    jm_msg_free(&msg);
    return rc;
}

/* `jobmatch profile SUBCOMMAND ...`: argv[0] is "profile". */
int
cli_cmd_profile(cli *c, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(cli *c, int argc, char **argv);
    } subs[] = {
        {"put", cmd_put},           {"get", cmd_get},
        {"find", cmd_find},         {"assess", cmd_assess},
        {"progress", cmd_progress}, {"consent", cmd_consent},
        {"erase", cmd_erase},
    };

    const char *names[JM_COUNTOF(subs)];

    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (is_help(argv[1])) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < JM_COUNTOF(subs); i++) {
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(c, argc - 1, argv + 1);
        names[i] = subs[i].name;
    }
    return cli_unknown_command(c, "profile", argv[1], names, JM_COUNTOF(names));
}
