/* test_json.c - protobuf-c <-> JSON: round trips that must reproduce the
 * packed bytes, the oneof rules, lenient enums, strict types and ranges,
 * base64, defaults, and error texts that name the path. Every error case
 * runs under ASan's leak check, which proves that half-built messages are
 * freed. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jm/json.h"
#include "jm/mem.h"
#include "jm_test.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "jobmatch/v1/intake.pb-c.h"
#include "jobmatch/v1/types.pb-c.h"

/* ---- helpers -------------------------------------------------------- */

/* JSON text written with single quotes, for readable test literals. */
static json_t *
load(const char *text)
{
    char *copy = strdup(text);
    json_error_t error;
    json_t *json;

    for (char *p = copy; *p != '\0'; p++) {
        if (*p == '\'')
            *p = '"';
    }
    /* JSON_ALLOW_NUL: the tests check that "\u0000" is refused by us. */
    json = json_loads(copy, JSON_ALLOW_NUL, &error);
    free(copy);
    if (json == NULL)
        fail_msg("bad test JSON %s: %s", text, error.text);
    return json;
}

static uint8_t *
pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(msg);
    buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(msg, buf), *len);
    return buf;
}

/* msg -> JSON -> text -> JSON -> message: the copy must pack to the same
 * bytes as the original. Returns the first JSON for further checks (the
 * caller decrefs it). */
static json_t *
assert_round_trip(const ProtobufCMessage *msg, unsigned flags)
{
    json_t *json = jm_json_from_message(msg, flags);
    char *text = json_dumps(json, JSON_COMPACT);
    json_t *again = json_loads(text, 0, NULL);
    ProtobufCMessage *copy = NULL;
    uint8_t *want, *got;
    size_t want_len, got_len;
    char err[256];

    assert_non_null(again);
    if (jm_json_to_message(again, msg->descriptor, &copy, err, sizeof(err)))
        fail_msg("%s (JSON %s)", err, text);
    want = pack(msg, &want_len);
    got = pack(copy, &got_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
    free(got);
    jm_json_message_free(copy);
    json_decref(again);
    free(text);
    return json;
}

/* Parses text as desc and returns the message (caller frees); fails the
 * test on error. */
static ProtobufCMessage *
parse_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    json_t *json = load(text);
    ProtobufCMessage *msg = NULL;
    char err[256];

    if (jm_json_to_message(json, desc, &msg, err, sizeof(err)) != 0)
        fail_msg("%s: unexpected error: %s", text, err);
    json_decref(json);
    return msg;
}

/* Parsing text as desc must fail with exactly the error text want. */
static void
parse_fails(const ProtobufCMessageDescriptor *desc, const char *text,
            const char *want)
{
    json_t *json = load(text);
    ProtobufCMessage *msg = (ProtobufCMessage *) &msg; /* must be reset */
    char err[256];

    assert_int_equal(jm_json_to_message(json, desc, &msg, err, sizeof(err)),
                     -EINVAL);
    assert_null(msg);
    assert_string_equal(err, want);
    json_decref(json);
}

static const char *
string_at(const json_t *obj, const char *key)
{
    json_t *value = json_object_get(obj, key);

    if (!json_is_string(value))
        fail_msg("key %s is not a string", key);
    return json_string_value(value);
}

/* ---- a full job order ------------------------------------------------ */

static Jobmatch__V1__SkillRequirement skill_a = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__skill_requirement__descriptor),
    "http://data.europa.eu/esco/skill/a", 3};
static Jobmatch__V1__SkillRequirement skill_b = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__skill_requirement__descriptor),
    "http://data.europa.eu/esco/skill/b", 0};
static Jobmatch__V1__SkillRequirement skill_c = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__skill_requirement__descriptor),
    "http://data.europa.eu/esco/skill/c", 5};
static Jobmatch__V1__LanguageRequirement danish = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__language_requirement__descriptor),
    "da", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B2};
static Jobmatch__V1__LanguageRequirement english = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__language_requirement__descriptor),
    "en", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_NATIVE};
static Jobmatch__V1__Location aarhus = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__location__descriptor), "8000", "751",
    56.1496, 10.2134};
static Jobmatch__V1__CandidateOutcome cand_1 = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__candidate_outcome__descriptor),
    "p-1", JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_HIRED,
    1767225600000, "startede 1. marts"};
static Jobmatch__V1__CandidateOutcome cand_2 = {
    PROTOBUF_C_MESSAGE_INIT(&jobmatch__v1__candidate_outcome__descriptor),
    "p-2", JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_REJECTED, -1, ""};

static Jobmatch__V1__SkillRequirement *essential[] = {&skill_a, &skill_b};
static Jobmatch__V1__SkillRequirement *optional[] = {&skill_c};
static Jobmatch__V1__LanguageRequirement *languages[] = {&danish, &english};
static Jobmatch__V1__Licence licences[] = {
    JOBMATCH__V1__LICENCE__LICENCE_DRIVING_C,
    JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT};
static Jobmatch__V1__CandidateOutcome *candidates[] = {&cand_1, &cand_2};

/* Every one of JobOrder's 28 fields set to a non-default value. */
static void
full_order(Jobmatch__V1__JobOrder *o)
{
    jobmatch__v1__job_order__init(o);
    o->id = "order-1";
    o->version = 7;
    o->cvr = "12345674";
    o->p_number = "1003388467";
    o->company_name = "Kørsel & Lager ApS";
    o->title = "Lagermedarbejder";
    o->description = "Plukning, pakning \"og\" truckkørsel\n";
    o->occupation_uri = "http://data.europa.eu/esco/occupation/x";
    o->isco_code = "4321";
    o->disco_code = "432100";
    o->n_essential_skills = 2;
    o->essential_skills = essential;
    o->n_optional_skills = 1;
    o->optional_skills = optional;
    o->n_languages = 2;
    o->languages = languages;
    o->n_licences = 2;
    o->licences = licences;
    o->kind = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    o->positions = 3;
    o->hours_per_week = 37;
    o->start_date = "2026-03-01";
    o->deadline = "2026-02-15";
    o->workplace = &aarhus;
    o->owner_municipality = "751";
    o->consultant = "kc-17";
    o->status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    o->hires = 1;
    o->n_candidates = 2;
    o->candidates = candidates;
    o->created_at_ms = 1767225600000;
    o->updated_at_ms = 1767225600001;
    o->closed_at_ms = 1767225600002;
}

static void
test_job_order_round_trip(void **state)
{
    Jobmatch__V1__JobOrder order;
    json_t *json, *skills, *workplace;

    (void) state;
    full_order(&order);
    json = assert_round_trip(&order.base, 0);
    /* Every field was set, so every field is written. */
    assert_int_equal(json_object_size(json),
                     jobmatch__v1__job_order__descriptor.n_fields);
    assert_string_equal(string_at(json, "kind"), "JOB_KIND_ORDINARY");
    assert_string_equal(string_at(json, "status"), "ORDER_STATUS_FILLED");
    assert_string_equal(string_at(json, "company_name"), "Kørsel & Lager ApS");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json, "licences"), 1)),
        "LICENCE_FORKLIFT");
    skills = json_object_get(json, "essential_skills");
    assert_int_equal(json_array_size(skills), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(skills, 0), "min_level")),
                     3);
    /* skill_b's min_level is 0: left out. */
    assert_null(json_object_get(json_array_get(skills, 1), "min_level"));
    assert_int_equal(json_integer_value(json_object_get(json, "version")), 7);
    assert_int_equal(json_integer_value(json_object_get(json, "created_at_ms")),
                     1767225600000);
    workplace = json_object_get(json, "workplace");
    assert_true(json_is_real(json_object_get(workplace, "latitude")));
    assert_string_equal(string_at(workplace, "postcode"), "8000");
    json_decref(json);
}

/* ---- oneofs ---------------------------------------------------------- */

static const uint8_t request_id[16] = {
    0, 1, 2, 3, 0xfb, 0xff, 0xfe, 0x80, 0x7f, 'a', 'b', 'c', 0, 0, 0x10, 0x20};

static void
test_reply_writes_only_the_set_member(void **state)
{
    Jobmatch__V1__Reply reply;
    Jobmatch__V1__Accepted accepted;
    ProtobufCMessage *back;
    json_t *json;

    (void) state;
    jobmatch__v1__reply__init(&reply);
    jobmatch__v1__accepted__init(&accepted);
    accepted.id = "order-9";
    accepted.seq = 42;
    accepted.version = 1;
    reply.request_id.data = (uint8_t *) request_id;
    reply.request_id.len = sizeof(request_id);
    reply.body_case = JOBMATCH__V1__REPLY__BODY_ACCEPTED;
    reply.accepted = &accepted;

    json = assert_round_trip(&reply.base, 0);
    assert_int_equal(json_object_size(json), 2); /* request_id, accepted */
    assert_null(json_object_get(json, "error"));
    assert_string_equal(string_at(json, "request_id"),
                        "AAECA/v//oB/YWJjAAAQIA==");
    assert_string_equal(string_at(json_object_get(json, "accepted"), "id"),
                        "order-9");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json, "accepted"), "seq")),
                     42);
    json_decref(json);

    /* The case comes back, not only the bytes. */
    back = parse_ok(&jobmatch__v1__reply__descriptor,
                    "{'accepted': {'id': 'x', 'seq': 3}}");
    assert_int_equal(((Jobmatch__V1__Reply *) back)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_int_equal(((Jobmatch__V1__Reply *) back)->accepted->seq, 3);
    jm_json_message_free(back);

    /* A set member at its default is still written: the case is the
     * information (ping has no fields at all). */
    back = parse_ok(&jobmatch__v1__request__descriptor, "{'ping': {}}");
    json = jm_json_from_message(back, 0);
    assert_non_null(json_object_get(json, "ping"));
    assert_int_equal(json_object_size(json), 1);
    json_decref(json);
    jm_json_message_free(back);
}

static void
test_request_with_submit_order(void **state)
{
    Jobmatch__V1__Request request;
    Jobmatch__V1__SubmitOrder submit;
    Jobmatch__V1__JobOrder order;
    json_t *json, *body;

    (void) state;
    full_order(&order);
    jobmatch__v1__submit_order__init(&submit);
    submit.order = &order;
    jobmatch__v1__request__init(&request);
    request.request_id.data = (uint8_t *) request_id;
    request.request_id.len = sizeof(request_id);
    request.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    request.submit_order = &submit;

    json = assert_round_trip(&request.base, 0);
    assert_int_equal(json_object_size(json), 2);
    body = json_object_get(json, "submit_order");
    assert_string_equal(string_at(json_object_get(body, "order"), "title"),
                        "Lagermedarbejder");
    json_decref(json);
}

static void
test_two_oneof_members_are_rejected(void **state)
{
    (void) state;
    parse_fails(&jobmatch__v1__request__descriptor,
                "{'submit_order': {'order': {'title': 't'}}, 'ping': {}}",
                "ping: only one of submit_order, ping may be set");
    parse_fails(&jobmatch__v1__reply__descriptor,
                "{'request_id': 'AAEC', 'accepted': {'id': 'x'},"
                " 'error': {'code': 'not_found'}}",
                "error: only one of accepted, error may be set");
}

/* ---- enums ----------------------------------------------------------- */

static void
test_enum_spellings(void **state)
{
    static const char *const accepted[] = {
        "{'kind': 'ordinary'}", "{'kind': 'Ordinary'}",
        "{'kind': 'JOB_KIND_ORDINARY'}", "{'kind': 'job_kind_ordinary'}",
        "{'kind': 1}"};
    ProtobufCMessage *msg;
    Jobmatch__V1__JobOrder *order;

    (void) state;
    for (size_t i = 0; i < JM_COUNTOF(accepted); i++) {
        msg = parse_ok(&jobmatch__v1__job_order__descriptor, accepted[i]);
        order = (Jobmatch__V1__JobOrder *) msg;
        assert_int_equal(order->kind,
                         JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY);
        jm_json_message_free(msg);
    }
    msg = parse_ok(&jobmatch__v1__job_order__descriptor,
                   "{'licences': ['driving_b', 'FORKLIFT', 9],"
                   " 'languages': [{'language': 'da', 'min_level': 'b1'}]}");
    order = (Jobmatch__V1__JobOrder *) msg;
    assert_int_equal(order->n_licences, 3);
    assert_int_equal(order->licences[0],
                     JOBMATCH__V1__LICENCE__LICENCE_DRIVING_B);
    assert_int_equal(order->licences[1],
                     JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    assert_int_equal(order->licences[2], JOBMATCH__V1__LICENCE__LICENCE_ADR);
    assert_int_equal(order->languages[0]->min_level,
                     JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1);
    jm_json_message_free(msg);

    parse_fails(&jobmatch__v1__job_order__descriptor, "{'kind': 'nope'}",
                "kind: unknown JobKind \"nope\"");
    parse_fails(&jobmatch__v1__job_order__descriptor, "{'kind': 99}",
                "kind: 99 is not a JobKind value");
    parse_fails(&jobmatch__v1__job_order__descriptor, "{'kind': ''}",
                "kind: unknown JobKind \"\"");
    parse_fails(&jobmatch__v1__job_order__descriptor,
                "{'kind': 'ordinary\\u0000x'}",
                "kind: contains a NUL character");
    parse_fails(&jobmatch__v1__job_order__descriptor, "{'kind': true}",
                "kind: expected a JobKind name or number, got a boolean");
    parse_fails(&jobmatch__v1__job_order__descriptor,
                "{'licences': ['driving_b', 'driving_q']}",
                "licences[1]: unknown Licence \"driving_q\"");
}

static void
test_enum_short_names(void **state)
{
    const char *name;

    (void) state;
    name = jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor,
                                   JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY);
    assert_string_equal(name, "ordinary");
    /* Static storage: the same pointer the second time. */
    assert_ptr_equal(
        jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor, 1), name);
    assert_string_equal(
        jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor, 7),
        "adult_apprentice");
    assert_string_equal(
        jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor, 0),
        "unspecified");
    assert_null(
        jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor, 99));
    assert_string_equal(
        jm_json_enum_short_name(&jobmatch__v1__licence__descriptor, 1),
        "driving_b");
    assert_string_equal(
        jm_json_enum_short_name(&jobmatch__v1__language_level__descriptor, 7),
        "native");
    /* Still right for the first enum after others were added. */
    assert_string_equal(
        jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor, 6), "igu");
}

/* ---- integers and reals ---------------------------------------------- */

static void
test_integer_ranges(void **state)
{
    const ProtobufCMessageDescriptor *d = &jobmatch__v1__job_order__descriptor;
    ProtobufCMessage *msg;
    Jobmatch__V1__JobOrder *order;
    json_t *json;

    (void) state;
    parse_fails(d, "{'positions': -1}", "positions: out of range for uint32");
    parse_fails(d, "{'positions': 4294967296}",
                "positions: out of range for uint32");
    parse_fails(d, "{'positions': '5'}",
                "positions: expected an integer, got a string");
    parse_fails(d, "{'positions': 1.5}",
                "positions: expected an integer, got a number");
    parse_fails(d, "{'version': -1}", "version: out of range for uint64");
    parse_fails(d, "{'version': '-1'}", "version: out of range for uint64");
    parse_fails(d, "{'version': '18446744073709551616'}",
                "version: out of range for uint64");
    parse_fails(d, "{'version': ' 12'}", "version: expected a decimal integer");
    parse_fails(d, "{'version': '12a'}", "version: expected a decimal integer");
    parse_fails(d, "{'version': '+12'}", "version: expected a decimal integer");
    parse_fails(d, "{'version': ''}", "version: expected a decimal integer");
    parse_fails(d, "{'created_at_ms': '9223372036854775808'}",
                "created_at_ms: out of range for int64");

    msg = parse_ok(d, "{'positions': 4294967295, 'version': '123',"
                      " 'created_at_ms': '-9223372036854775808',"
                      " 'updated_at_ms': -5, 'closed_at_ms': '0'}");
    order = (Jobmatch__V1__JobOrder *) msg;
    assert_int_equal(order->positions, 4294967295u);
    assert_int_equal(order->version, 123);
    assert_true(order->created_at_ms == INT64_MIN);
    assert_int_equal(order->updated_at_ms, -5);
    jm_json_message_free(msg);

    /* uint64 past json_int_t is written as a decimal string and read back
     * from it. */
    msg = parse_ok(d, "{'version': '18446744073709551615'}");
    order = (Jobmatch__V1__JobOrder *) msg;
    assert_true(order->version == UINT64_MAX);
    json = assert_round_trip(msg, 0);
    assert_string_equal(string_at(json, "version"), "18446744073709551615");
    json_decref(json);
    jm_json_message_free(msg);
}

static void
test_reals(void **state)
{
    const ProtobufCMessageDescriptor *d = &jobmatch__v1__location__descriptor;
    Jobmatch__V1__Location loc;
    ProtobufCMessage *msg;
    json_t *json;

    (void) state;
    msg = parse_ok(d, "{'latitude': 55, 'longitude': 12.5683}");
    assert_true(((Jobmatch__V1__Location *) msg)->latitude == 55.0);
    assert_true(((Jobmatch__V1__Location *) msg)->longitude == 12.5683);
    jm_json_message_free(msg);
    parse_fails(d, "{'latitude': '55'}",
                "latitude: expected a number, got a string");
    parse_fails(d, "{'latitude': 'NaN'}",
                "latitude: expected a number, got a string");

    /* Not representable in JSON: written as protobuf's canonical strings,
     * which reading refuses. */
    jobmatch__v1__location__init(&loc);
    loc.latitude = NAN;
    loc.longitude = -INFINITY;
    json = jm_json_from_message(&loc.base, 0);
    assert_string_equal(string_at(json, "latitude"), "NaN");
    assert_string_equal(string_at(json, "longitude"), "-Infinity");
    json_decref(json);
}

/* ---- types, keys, strings -------------------------------------------- */

static void
test_wrong_types_name_the_path(void **state)
{
    const ProtobufCMessageDescriptor *d = &jobmatch__v1__job_order__descriptor;

    (void) state;
    parse_fails(d, "{'title': {}}", "title: expected a string, got an object");
    parse_fails(d, "{'title': null}", "title: expected a string, got null");
    parse_fails(d, "{'workplace': []}",
                "workplace: expected an object, got an array");
    parse_fails(d, "{'essential_skills': {}}",
                "essential_skills: expected an array, got an object");
    parse_fails(d, "{'essential_skills': [{}, 'x']}",
                "essential_skills[1]: expected an object, got a string");
    parse_fails(d, "{'title': 't', 'nope': 1}", "nope: unknown field");
    parse_fails(d, "{'workplace': {'postcode': '8000', 'nope': 1}}",
                "workplace.nope: unknown field");
    parse_fails(d, "{'title': 'a\\u0000evil'}",
                "title: contains a NUL character");
    parse_fails(&jobmatch__v1__reply__descriptor, "{'duplicate': 1}",
                "duplicate: expected true or false, got a number");
    /* Deep paths, and errors after memory was already attached at every
     * level (strings, arrays, sub-messages, a oneof member). */
    parse_fails(&jobmatch__v1__submit_order__descriptor,
                "{'order': {'title': 't', 'essential_skills': [{'skill_uri':"
                " 'a'}, {'skill_uri': 'b'}, {'min_level': -1}]}}",
                "order.essential_skills[2].min_level: out of range for uint32");
    parse_fails(&jobmatch__v1__request__descriptor,
                "{'request_id': 'AAEC', 'submit_order': {'order': {"
                "'title': 't', 'workplace': {'postcode': '8000'},"
                " 'candidates': [{'profile_id': 'p', 'note': 5}]}}}",
                "submit_order.order.candidates[0].note: expected a string, "
                "got a number");

    /* jansson's parser refuses NUL in keys, but its API makes them. */
    {
        json_t *json = json_object();
        ProtobufCMessage *msg = NULL;
        char err[128];

        json_object_setn_new(json, "title\0x", 7, json_string("t"));
        assert_int_equal(jm_json_to_message(json, d, &msg, err, sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, "title: unknown field");
        json_decref(json);
    }
    /* The top level must be an object too. */
    {
        json_t *json = load("[1]");
        ProtobufCMessage *msg = NULL;
        char err[128];

        assert_int_equal(jm_json_to_message(json, d, &msg, err, sizeof(err)),
                         -EINVAL);
        assert_null(msg);
        assert_string_equal(err,
                            "expected an object for JobOrder, got an array");
        /* A NULL error buffer is allowed. */
        assert_int_equal(jm_json_to_message(json, d, &msg, NULL, 0), -EINVAL);
        json_decref(json);
    }
}

static void
test_invalid_utf8_is_replaced_on_output(void **state)
{
    Jobmatch__V1__JobOrder order;
    json_t *json;

    (void) state;
    /* protobuf-c unpacks any bytes into a string field (DESIGN.md 6). */
    jobmatch__v1__job_order__init(&order);
    order.title = "\xf0\x9f\x98\x80\xc0\x80\xf4\x90\x80\x80\xf8"
                  "a\xff"
                  "b\xc3\xa6\xe2\x82"
                  "c\xed\xa0\x80";
    json = jm_json_from_message(&order.base, 0);
    assert_string_equal(string_at(json, "title"),
                        "\xf0\x9f\x98\x80"         /* valid: kept */
                        "\xef\xbf\xbd\xef\xbf\xbd" /* overlong NUL */
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd" /* past U+10FFFF, then 0xf8 */
                        "a\xef\xbf\xbd"
                        "b\xc3\xa6\xef\xbf\xbd\xef\xbf\xbd"
                        "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(json);
}

/* ---- bytes ----------------------------------------------------------- */

static void
test_bytes_base64(void **state)
{
    uint8_t all[256];
    Jobmatch__V1__Request request;
    ProtobufCMessage *msg;
    json_t *json;

    (void) state;
    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (uint8_t) i;
    /* Every length mod 3, so every padding, and every byte value. */
    for (size_t len = 1; len <= sizeof(all); len += 85) {
        jobmatch__v1__request__init(&request);
        request.request_id.data = all;
        request.request_id.len = len;
        json = assert_round_trip(&request.base, 0);
        json_decref(json);
    }
    msg =
        parse_ok(&jobmatch__v1__request__descriptor, "{'request_id': 'aGk='}");
    assert_int_equal(((Jobmatch__V1__Request *) msg)->request_id.len, 2);
    assert_memory_equal(((Jobmatch__V1__Request *) msg)->request_id.data, "hi",
                        2);
    jm_json_message_free(msg);
    msg = parse_ok(&jobmatch__v1__request__descriptor, "{'request_id': ''}");
    assert_int_equal(((Jobmatch__V1__Request *) msg)->request_id.len, 0);
    jm_json_message_free(msg);

    parse_fails(&jobmatch__v1__request__descriptor,
                "{'request_id': 'not base64!'}", "request_id: invalid base64");
    parse_fails(&jobmatch__v1__request__descriptor, "{'request_id': 'aGk'}",
                "request_id: invalid base64"); /* padding missing */
    parse_fails(&jobmatch__v1__request__descriptor, "{'request_id': 'aG k='}",
                "request_id: invalid base64");
    parse_fails(&jobmatch__v1__request__descriptor, "{'request_id': 'aGl='}",
                "request_id: invalid base64"); /* non-zero trailing bits */
    parse_fails(&jobmatch__v1__request__descriptor, "{'request_id': 7}",
                "request_id: expected a base64 string, got a number");
}

/* ---- defaults -------------------------------------------------------- */

static void
test_defaults_left_out_unless_asked(void **state)
{
    Jobmatch__V1__JobOrder order;
    json_t *json;

    (void) state;
    jobmatch__v1__job_order__init(&order);
    order.title = "t";
    json = assert_round_trip(&order.base, 0);
    assert_int_equal(json_object_size(json), 1);
    assert_string_equal(string_at(json, "title"), "t");
    json_decref(json);

    /* With JM_JSON_DEFAULTS every field but the absent workplace (a
     * message: writing it would make it present) appears, and the output
     * still reads back to the same message. */
    json = assert_round_trip(&order.base, JM_JSON_DEFAULTS);
    assert_int_equal(json_object_size(json),
                     jobmatch__v1__job_order__descriptor.n_fields - 1);
    assert_null(json_object_get(json, "workplace"));
    assert_string_equal(string_at(json, "id"), "");
    assert_string_equal(string_at(json, "kind"), "JOB_KIND_UNSPECIFIED");
    assert_int_equal(json_integer_value(json_object_get(json, "positions")), 0);
    assert_true(json_is_array(json_object_get(json, "licences")));
    assert_int_equal(json_array_size(json_object_get(json, "licences")), 0);
    json_decref(json);

    /* A present but empty sub-message is {} (presence is information). */
    {
        Jobmatch__V1__Location empty;

        jobmatch__v1__location__init(&empty);
        order.workplace = &empty;
        json = assert_round_trip(&order.base, 0);
        assert_int_equal(json_object_size(json_object_get(json, "workplace")),
                         0);
        json_decref(json);
    }
}

/* ---- the types proto/ does not use ----------------------------------- */

/* A hand-written descriptor covering the scalar types and labels that the
 * jobmatch .proto files do not (yet) use: sint/sfixed/fixed, int32, float,
 * repeated strings and bytes, proto2 optional (has_) and required. Field
 * names sort in id order, so fields_sorted_by_name is the identity. */
typedef struct {
    ProtobufCMessage base;
    int32_t a_int32;
    int32_t b_sint32;
    int32_t c_sfixed32;
    int64_t d_sint64;
    int64_t e_sfixed64;
    uint32_t f_fixed32;
    uint64_t g_fixed64;
    float h_float;
    size_t n_i_names;
    char **i_names;
    size_t n_j_blobs;
    ProtobufCBinaryData *j_blobs;
    size_t n_k_floats;
    float *k_floats;
    protobuf_c_boolean has_l_opt;
    int32_t l_opt;
    char *m_req;
} AllTypes;

static const ProtobufCMessageDescriptor all_types_descriptor;

static void
all_types_init(ProtobufCMessage *msg)
{
    memset(msg, 0, sizeof(AllTypes));
    msg->descriptor = &all_types_descriptor;
}

#define FIELD(name, id, label, type, quantifier)                               \
    {                                                                          \
#name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type,           \
            quantifier, offsetof(AllTypes, name), NULL, NULL, 0, 0, NULL, NULL \
    }

static const ProtobufCFieldDescriptor all_types_fields[] = {
    FIELD(a_int32, 1, NONE, INT32, 0),
    FIELD(b_sint32, 2, NONE, SINT32, 0),
    FIELD(c_sfixed32, 3, NONE, SFIXED32, 0),
    FIELD(d_sint64, 4, NONE, SINT64, 0),
    FIELD(e_sfixed64, 5, NONE, SFIXED64, 0),
    FIELD(f_fixed32, 6, NONE, FIXED32, 0),
    FIELD(g_fixed64, 7, NONE, FIXED64, 0),
    FIELD(h_float, 8, NONE, FLOAT, 0),
    FIELD(i_names, 9, REPEATED, STRING, offsetof(AllTypes, n_i_names)),
    FIELD(j_blobs, 10, REPEATED, BYTES, offsetof(AllTypes, n_j_blobs)),
    FIELD(k_floats, 11, REPEATED, FLOAT, offsetof(AllTypes, n_k_floats)),
    FIELD(l_opt, 12, OPTIONAL, INT32, offsetof(AllTypes, has_l_opt)),
    FIELD(m_req, 13, REQUIRED, STRING, 0),
};

static const unsigned all_types_by_name[] = {0, 1, 2, 3,  4,  5, 6,
                                             7, 8, 9, 10, 11, 12};
static const ProtobufCIntRange all_types_ranges[] = {{1, 0}, {0, 13}};

static const ProtobufCMessageDescriptor all_types_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.AllTypes",
    "AllTypes",
    "AllTypes",
    "test",
    sizeof(AllTypes),
    JM_COUNTOF(all_types_fields),
    all_types_fields,
    all_types_by_name,
    1,
    all_types_ranges,
    all_types_init,
    NULL,
    NULL,
    NULL};

static void
test_other_scalar_types(void **state)
{
    char *names[] = {"één", ""};
    ProtobufCBinaryData blobs[] = {{3, (uint8_t *) "\x00\x01\x02"}, {0, NULL}};
    float floats[] = {1.5f, -0.0f, 3.4028235e38f};
    AllTypes all;
    ProtobufCMessage *msg;
    AllTypes *got;
    json_t *json;

    (void) state;
    all_types_init(&all.base);
    all.a_int32 = INT32_MIN;
    all.b_sint32 = -7;
    all.c_sfixed32 = INT32_MAX;
    all.d_sint64 = INT64_MIN;
    all.e_sfixed64 = -1;
    all.f_fixed32 = UINT32_MAX;
    all.g_fixed64 = 1ull << 53;
    all.h_float = 0.1f;
    all.n_i_names = 2;
    all.i_names = names;
    all.n_j_blobs = 2;
    all.j_blobs = blobs;
    all.n_k_floats = 3;
    all.k_floats = floats;
    all.has_l_opt = 1;
    all.l_opt = 0; /* present although zero: proto2 presence */
    all.m_req = "r";
    json = assert_round_trip(&all.base, 0);
    assert_int_equal(json_object_size(json), 13);
    assert_int_equal(json_integer_value(json_object_get(json, "l_opt")), 0);
    json_decref(json);

    msg = parse_ok(&all_types_descriptor,
                   "{'m_req': '', 'l_opt': 5, 'd_sint64': '-9',"
                   " 'h_float': 2, 'i_names': ['x']}");
    got = (AllTypes *) msg;
    assert_true(got->has_l_opt);
    assert_int_equal(got->l_opt, 5);
    assert_int_equal(got->d_sint64, -9);
    assert_true(got->h_float == 2.0f);
    assert_string_equal(got->i_names[0], "x");
    jm_json_message_free(msg);

    /* Without l_opt, has_l_opt stays 0 and l_opt is not written. */
    msg = parse_ok(&all_types_descriptor, "{'m_req': 'r'}");
    assert_false(((AllTypes *) msg)->has_l_opt);
    json = jm_json_from_message(msg, 0);
    assert_int_equal(json_object_size(json), 1);
    json_decref(json);
    jm_json_message_free(msg);

    parse_fails(&all_types_descriptor, "{'m_req': 'r', 'a_int32': 2147483648}",
                "a_int32: out of range for int32");
    parse_fails(&all_types_descriptor,
                "{'m_req': 'r', 'b_sint32': -2147483649}",
                "b_sint32: out of range for sint32");
    parse_fails(&all_types_descriptor, "{'m_req': 'r', 'c_sfixed32': '1'}",
                "c_sfixed32: expected an integer, got a string");
    parse_fails(&all_types_descriptor, "{'m_req': 'r', 'f_fixed32': -1}",
                "f_fixed32: out of range for fixed32");
    parse_fails(&all_types_descriptor, "{'m_req': 'r', 'h_float': 1e39}",
                "h_float: out of range for float");
    parse_fails(&all_types_descriptor, "{'a_int32': 1}",
                "m_req: missing required field");
    /* Errors after array elements were allocated. */
    parse_fails(&all_types_descriptor, "{'m_req': 'r', 'i_names': ['a', 5]}",
                "i_names[1]: expected a string, got a number");
    parse_fails(&all_types_descriptor,
                "{'m_req': 'r', 'j_blobs': ['AAEC', '!']}",
                "j_blobs[1]: invalid base64");
    parse_fails(&all_types_descriptor, "{'m_req': 'r', 'k_floats': [1, 'x']}",
                "k_floats[1]: expected a number, got a string");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_order_round_trip),
        cmocka_unit_test(test_reply_writes_only_the_set_member),
        cmocka_unit_test(test_request_with_submit_order),
        cmocka_unit_test(test_two_oneof_members_are_rejected),
        cmocka_unit_test(test_enum_spellings),
        cmocka_unit_test(test_enum_short_names),
        cmocka_unit_test(test_integer_ranges),
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_wrong_types_name_the_path),
        cmocka_unit_test(test_invalid_utf8_is_replaced_on_output),
        cmocka_unit_test(test_bytes_base64),
        cmocka_unit_test(test_defaults_left_out_unless_asked),
        cmocka_unit_test(test_other_scalar_types),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
