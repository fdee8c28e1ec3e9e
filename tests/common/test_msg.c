/* test_msg.c - hostile frames against jm_msg_unpack, and the validation
 * helpers.
 *
 * Frames are built from the real schema (jobmatch.v1.Request): packed from
 * generated structs and then corrupted, or encoded by hand where protobuf-c
 * would refuse to produce the bytes (wrong wire types, embedded NULs,
 * unpacked enums). Each bad frame must give its own code and field path;
 * none may crash or make memory grow past the arena's cap (ASan and the
 * arena size check that). The depth cap is tested in test_msg_depth.c,
 * the validation helpers in test_msg_check.c; msg_frames.h builds frames
 * by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "jm/msg.h"
#include "jm_test.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "jobmatch/v1/intake.pb-c.h"
#include "jobmatch/v1/log.pb-c.h"
#include "msg_frames.h"

/* The arena cap jm_msg_unpack applies to a frame of len bytes. */
static size_t
cap_of(size_t len)
{
    return (size_t) JM_MSG_DECODED_FACTOR * len + (size_t) JM_MSG_DECODED_SLACK;
}

/* ---- a realistic job order, from the generated structs ---- */

struct sample {
    Jobmatch__V1__Request req;
    Jobmatch__V1__SubmitOrder submit;
    Jobmatch__V1__JobOrder order;
    Jobmatch__V1__SkillRequirement skills[3];
    Jobmatch__V1__SkillRequirement *skill_ptrs[3];
    Jobmatch__V1__LanguageRequirement languages[2];
    Jobmatch__V1__LanguageRequirement *language_ptrs[2];
    Jobmatch__V1__Licence licences[2];
    Jobmatch__V1__Location workplace;
};

static void
sample_init(struct sample *s)
{
    static const char *uris[3] = {
        "http://data.europa.eu/esco/skill/0a1b2c3d-0000-4000-8000-000000000001",
        "http://data.europa.eu/esco/skill/0a1b2c3d-0000-4000-8000-000000000002",
        "http://data.europa.eu/esco/skill/0a1b2c3d-0000-4000-8000-000000000003",
    };
    static const char *langs[2] = {"da", "en"};

    memset(s, 0, sizeof(*s));
    jobmatch__v1__request__init(&s->req);
    jobmatch__v1__submit_order__init(&s->submit);
    jobmatch__v1__job_order__init(&s->order);
    jobmatch__v1__location__init(&s->workplace);
    s->req.request_id.data = (uint8_t *) request_id;
    s->req.request_id.len = sizeof(request_id);
    s->req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    s->req.submit_order = &s->submit;
    s->submit.order = &s->order;
    s->order.id = "ord-2025.001";
    s->order.cvr = "12345678";
    s->order.company_name = "Fynske Lagre ApS";
    s->order.title = "Lagermedarbejder på Fyn (truckcertifikat)";
    s->order.description = "Plukning og pakning.\nSkiftehold, 37 timer.";
    s->order.occupation_uri =
        "http://data.europa.eu/esco/occupation/aaaa0000-1111-4222-8333-"
        "444455556666";
    s->order.isco_code = "9333";
    for (int i = 0; i < 3; i++) {
        jobmatch__v1__skill_requirement__init(&s->skills[i]);
        s->skills[i].skill_uri = (char *) uris[i];
        s->skills[i].min_level = (uint32_t) i + 1;
        s->skill_ptrs[i] = &s->skills[i];
    }
    s->order.n_essential_skills = 3;
    s->order.essential_skills = s->skill_ptrs;
    for (int i = 0; i < 2; i++) {
        jobmatch__v1__language_requirement__init(&s->languages[i]);
        s->languages[i].language = (char *) langs[i];
        s->languages[i].min_level =
            JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1;
        s->language_ptrs[i] = &s->languages[i];
    }
    s->order.n_languages = 2;
    s->order.languages = s->language_ptrs;
    s->licences[0] = JOBMATCH__V1__LICENCE__LICENCE_DRIVING_B;
    s->licences[1] = JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT;
    s->order.n_licences = 2;
    s->order.licences = s->licences;
    s->order.kind = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    s->order.positions = 2;
    s->order.hours_per_week = 37;
    s->order.start_date = "2025-09-01";
    s->order.deadline = "2025-08-15";
    s->workplace.postcode = "5000";
    s->workplace.municipality_code = "461";
    s->workplace.latitude = 55.3959;
    s->workplace.longitude = 10.3883;
    s->order.workplace = &s->workplace;
    s->order.owner_municipality = "461";
    s->order.consultant = "kvk-17";
}

static struct buf
sample_pack(const struct sample *s)
{
    struct buf b = {0};

    assert_int_equal(jm_msg_pack(&s->req.base, &b.data, &b.len), 0);
    b.cap = b.len;
    return b;
}

/* Offset of the first occurrence of needle in b. */
static size_t
find(const struct buf *b, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, needle, n) == 0)
            return i;
    fail_msg("'%s' not found in the frame", needle);
    return 0;
}

/* The frame is refused with exactly this rc, code and path. */
static void
expect_error(const struct buf *b, int rc, int code, const char *path)
{
    jm_msg_t *msg = NULL;
    jm_error err;
    int got = unpack_request(&msg, b, &err);

    if (got != rc || err.code != code || strcmp(err.field_path, path) != 0)
        print_message("got rc %d code %s path '%s': %s\n", got,
                      jm_error_code_name(err.code), err.field_path,
                      err.message);
    assert_int_equal(got, rc);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field_path, path);
    assert_true(err.message[0] != '\0');
    assert_false(err.retryable);
    assert_null(msg);
}

static void
expect_invalid(const struct buf *b, const char *path)
{
    expect_error(b, -EPROTO, JM_E_INVALID_FIELD, path);
}

static void
expect_malformed(const struct buf *b, const char *path)
{
    expect_error(b, -EPROTO, JM_E_MALFORMED, path);
}

/* Packs the sample as it stands and expects INVALID_FIELD at path. */
static void
expect_sample_invalid(const struct sample *s, const char *path)
{
    struct buf b = sample_pack(s);

    expect_invalid(&b, path);
    buf_free(&b);
}

/* ---- unpack: the good cases ---- */

static void
test_valid_request_unpacks(void **state)
{
    struct sample s;
    struct buf b;
    jm_msg_t *msg = NULL;
    jm_error err;
    Jobmatch__V1__Request *req;
    Jobmatch__V1__JobOrder *order;
    size_t cap;

    (void) state;
    sample_init(&s);
    b = sample_pack(&s);
    assert_int_equal(unpack_request(&msg, &b, &err), 0);
    assert_int_equal(err.code, 0);
    req = (Jobmatch__V1__Request *) jm_msg_get(msg);
    assert_int_equal(req->body_case, JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER);
    assert_int_equal(req->request_id.len, 16);
    assert_memory_equal(req->request_id.data, request_id, 16);
    order = req->submit_order->order;
    assert_string_equal(order->title, s.order.title);
    assert_string_equal(order->description, s.order.description);
    assert_int_equal(order->n_essential_skills, 3);
    assert_string_equal(order->essential_skills[2]->skill_uri,
                        s.skills[2].skill_uri);
    assert_int_equal(order->essential_skills[2]->min_level, 3);
    assert_int_equal(order->n_licences, 2);
    assert_int_equal(order->licences[1],
                     JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    assert_int_equal(order->kind, JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY);
    assert_true(order->workplace->latitude == 55.3959);
    assert_false(jm_msg_has_unknown_fields(&req->base));

    /* The legit message stays far inside its cap. */
    cap = cap_of(b.len);
    print_message("legit order: %zu wire bytes, arena %zu bytes (cap %zu)\n",
                  b.len, jm_msg_arena_size(msg), cap);
    assert_true(jm_msg_arena_size(msg) > 0);
    assert_true(jm_msg_arena_size(msg) <= cap);

    jm_msg_free(&msg);
    assert_null(msg);
    jm_msg_free(&msg); /* safe on NULL */
    buf_free(&b);

    /* A big legitimate order: 200 skills with real-length URIs. */
    {
        struct buf big = {0};
        struct buf skill = {0};

        put_str(&skill, 1, s.skills[0].skill_uri);
        put_uint(&skill, 2, 3);
        for (int i = 0; i < 200; i++)
            put_len(&big, 11, skill.data, skill.len);
        b = wrap_order(&big);
        assert_int_equal(unpack_request(&msg, &b, &err), 0);
        cap = cap_of(b.len);
        print_message("200 skills: %zu wire bytes, arena %zu bytes (cap %zu)\n",
                      b.len, jm_msg_arena_size(msg), cap);
        assert_true(jm_msg_arena_size(msg) <= cap);
        jm_msg_free(&msg);
        buf_free(&b);
        buf_free(&big);
        buf_free(&skill);
    }
}

static void
test_pack_matches_protobuf_c(void **state)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    uint8_t *data = NULL;
    uint8_t expected[64];
    size_t size = 0;

    (void) state;
    req.request_id.data = (uint8_t *) request_id;
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(jm_msg_pack(&req.base, &data, &size), 0);
    assert_int_equal(size, protobuf_c_message_pack(&req.base, expected));
    assert_memory_equal(data, expected, size);
    free(data);

    /* An empty message packs to zero bytes and still gives a buffer. */
    assert_int_equal(jm_msg_pack(&ping.base, &data, &size), 0);
    assert_non_null(data);
    assert_int_equal(size, 0);
    free(data);
}

/* What jm_source_append_packed and intake store: an Event whose
 * OrderChanged is built around the order packed once, with the wire
 * helpers. It must be the bytes protobuf-c packs for the same event, for
 * an order shorter and longer than 127 bytes (one and two length bytes)
 * and for both kinds of change. */
static void
test_wire_fields_build_what_protobuf_c_packs(void **state)
{
    static char title[300];
    Jobmatch__V1__JobOrder order = JOBMATCH__V1__JOB_ORDER__INIT;
    Jobmatch__V1__OrderChanged changed = JOBMATCH__V1__ORDER_CHANGED__INIT;
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__Event head = JOBMATCH__V1__EVENT__INIT;

    (void) state;
    memset(title, 'x', sizeof(title) - 1);
    order.id = "jo-1";
    order.positions = 3;
    event.seq = head.seq = 300;
    event.source = head.source = "intake";
    event.time_ms = head.time_ms = 1795435200000LL;
    event.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
    event.order_changed = &changed;
    changed.order = &order;
    for (int round = 0; round < 4; round++) {
        uint8_t packed[400], body[440], built[520], expected[520];
        size_t size, n, total;

        order.title = round % 2 ? title : "short";
        changed.change = round < 2
                             ? JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED
                             : JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_UPDATED;
        size = protobuf_c_message_pack(&order.base, packed);
        n = jm_wire_put_len_field(body, 1, packed, size);
        n += jm_wire_put_varint_field(body + n, 2, (uint64_t) changed.change);
        assert_true(n <=
                    JM_WIRE_LEN_FIELD_MAX(size) + JM_WIRE_VARINT_FIELD_MAX);
        total = protobuf_c_message_pack(&head.base, built);
        total += jm_wire_put_len_field(built + total, 10, body, n);
        assert_int_equal(total, protobuf_c_message_pack(&event.base, expected));
        assert_memory_equal(built, expected, total);
    }
}

/* ---- unpack: hostile frames ---- */

static void
test_truncated_at_every_length(void **state)
{
    struct sample s;
    struct buf b;
    size_t ok = 0;

    (void) state;
    sample_init(&s);
    b = sample_pack(&s);
    /* The frame is request_id (18 bytes: tag, length, 16) then
     * submit_order: the only field boundaries are 0 and 18. */
    for (size_t cut = 0; cut < b.len; cut++) {
        struct buf part = {b.data, cut, cut};
        jm_msg_t *msg = NULL;
        jm_error err;
        int rc = unpack_request(&msg, &part, &err);

        if (cut == 0 || cut == 18) {
            assert_int_equal(rc, 0);
            jm_msg_free(&msg);
            ok++;
            continue;
        }
        assert_int_equal(rc, -EPROTO);
        assert_int_equal(err.code, JM_E_MALFORMED);
        assert_string_equal(err.field_path,
                            cut < 18 ? "request_id" : "submit_order");
        assert_null(msg);
    }
    assert_int_equal(ok, 2);
    buf_free(&b);
}

static void
test_oversized_frame(void **state)
{
    struct sample s;
    struct buf b;
    jm_msg_t *msg = NULL;
    jm_error err = {0};

    (void) state;
    sample_init(&s);
    b = sample_pack(&s);
    assert_int_equal(jm_msg_unpack(&msg, &jobmatch__v1__request__descriptor,
                                   b.data, b.len, b.len - 1, &err),
                     -EMSGSIZE);
    assert_int_equal(err.code, JM_E_TOO_LARGE);
    assert_string_equal(err.field_path, "");
    assert_null(msg);
    memset(&err, 0, sizeof(err));
    assert_int_equal(jm_msg_unpack(&msg, &jobmatch__v1__request__descriptor,
                                   b.data, b.len, b.len, &err),
                     0);
    jm_msg_free(&msg);
    buf_free(&b);
}

static void
test_wrong_wire_types(void **state)
{
    struct buf b = {0};
    struct buf order = {0};
    struct buf skills = {0};
    uint8_t fixed[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    (void) state;
    /* request_id (bytes) sent as a varint */
    put_uint(&b, 1, 7);
    expect_malformed(&b, "request_id");
    buf_free(&b);

    /* submit_order (a message) sent as fixed32 */
    put_len(&b, 1, request_id, 16);
    put_tag(&b, 10, 5);
    put_bytes(&b, fixed, 4);
    expect_malformed(&b, "submit_order");
    buf_free(&b);

    /* a string sent as a varint, two messages down */
    put_uint(&order, 6, 1);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.title");
    buf_free(&b);
    buf_free(&order);

    /* the same, after a later field: fields out of number order are
     * looked up as surely as those in order */
    put_uint(&order, 15, 1); /* kind */
    put_uint(&order, 6, 1);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.title");
    buf_free(&b);
    buf_free(&order);

    /* a singular enum sent packed: only repeated scalars may be */
    put_len(&order, 15, "\x01", 1);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.kind");
    buf_free(&b);
    buf_free(&order);

    /* the third skill's skill_uri as fixed64: the path carries the index */
    put_str(&skills, 1, "http://data.europa.eu/esco/skill/x");
    put_len(&order, 11, skills.data, skills.len);
    put_len(&order, 12, skills.data, skills.len); /* optional_skills */
    put_len(&order, 11, skills.data, skills.len);
    buf_free(&skills);
    put_tag(&skills, 1, 1);
    put_bytes(&skills, fixed, 8);
    put_len(&order, 11, skills.data, skills.len);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.essential_skills[2].skill_uri");
    buf_free(&b);
    buf_free(&order);
    buf_free(&skills);

    /* a length that fits the frame but not its own message */
    put_tag(&order, 6, 2);
    put_varint(&order, 40);
    put_bytes(&order, "short", 5);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.title");
    buf_free(&b);
    buf_free(&order);
}

static void
test_bad_tags_and_varints(void **state)
{
    struct buf b = {0};
    struct buf order = {0};
    uint8_t eleven[11];

    (void) state;
    /* group wire types (3, 4) and the undefined 6, 7 */
    for (int wt = 3; wt <= 7; wt == 4 ? wt += 2 : wt++) {
        put_tag(&b, 5, wt);
        put_varint(&b, 0);
        expect_malformed(&b, "");
        buf_free(&b);
    }
    /* field number 0, and one past 2^29 - 1 */
    put_tag(&b, 0, 0);
    put_varint(&b, 1);
    expect_malformed(&b, "");
    buf_free(&b);
    put_varint(&b, (uint64_t) 1 << 32); /* field 2^29, wire type 0 */
    put_varint(&b, 1);
    expect_malformed(&b, "");
    buf_free(&b);
    /* the largest field number is legal (and unknown: skipped) */
    put_len(&b, 1, request_id, 16);
    put_tag(&b, (1u << 29) - 1, 0);
    put_varint(&b, 1);
    {
        jm_msg_t *msg = NULL;
        jm_error err;

        assert_int_equal(unpack_request(&msg, &b, &err), 0);
        jm_msg_free(&msg);
    }
    buf_free(&b);

    /* padded (6-byte) tag and length: valid protobuf in theory, refused by
     * protobuf-c, so refused by the walk, which can say where */
    put_bytes(&b, "\x8a\x80\x80\x80\x80\x00\x00", 7); /* field 1 */
    expect_malformed(&b, "");
    buf_free(&b);
    put_tag(&b, 1, 2);
    put_bytes(&b, "\x80\x80\x80\x80\x80\x00", 6);
    expect_malformed(&b, "request_id");
    buf_free(&b);

    /* ten bytes: a 10th byte of 1 still fits 64 bits (UINT64_MAX, which
     * as an enum is -1: invalid); 2 would need a 65th bit (malformed) */
    memset(eleven, 0xff, 9);
    eleven[9] = 0x01;
    put_tag(&order, 15, 0);
    put_bytes(&order, eleven, 10);
    b = wrap_order(&order);
    expect_invalid(&b, "submit_order.order.kind");
    buf_free(&b);
    order.data[order.len - 1] = 0x02;
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.kind");
    buf_free(&b);
    buf_free(&order);

    /* an 11-byte varint in order.kind, and a tag cut short */
    memset(eleven, 0x80, sizeof(eleven));
    eleven[10] = 0x01;
    put_tag(&order, 15, 0);
    put_bytes(&order, eleven, sizeof(eleven));
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.kind");
    buf_free(&b);
    buf_free(&order);
    put_bytes(&order, "\x80", 1);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order");
    buf_free(&b);
    buf_free(&order);
}

static void
test_unknown_oneof_member(void **state)
{
    struct buf b = {0};
    struct buf body = {0};
    jm_msg_t *msg = NULL;
    jm_error err;
    Jobmatch__V1__Request *req;

    (void) state;
    /* Request{request_id, <field 89>: a sub-message from a newer client} */
    put_str(&body, 1, "what is this");
    put_uint(&body, 2, 42);
    put_len(&b, 1, request_id, 16);
    put_len(&b, 89, body.data, body.len);
    assert_int_equal(unpack_request(&msg, &b, &err), 0);
    req = (Jobmatch__V1__Request *) jm_msg_get(msg);
    assert_int_equal(req->body_case, JOBMATCH__V1__REQUEST__BODY__NOT_SET);
    assert_true(jm_msg_has_unknown_fields(&req->base));
    /* protobuf-c keeps the field whole: number, wire type and bytes. */
    assert_int_equal(req->base.n_unknown_fields, 1);
    assert_int_equal(req->base.unknown_fields[0].tag, 89);
    assert_int_equal(req->base.unknown_fields[0].wire_type,
                     PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
    assert_int_equal(req->request_id.len, 16);
    jm_msg_free(&msg);

    /* Unknown fields are still read structurally: a cut fixed64 fails. */
    put_tag(&b, 89, 1);
    put_bytes(&b, "1234", 4);
    expect_malformed(&b, "");
    buf_free(&b);
    buf_free(&body);
}

static void
test_invalid_utf8_in_strings(void **state)
{
    static const char *bad[] = {
        "Lager\xff",             /* never valid */
        "over\xc0\xaflong",      /* overlong '/' */
        "sur\xed\xa0\x80rogate", /* U+D800 */
        "cut \xe2\x82",          /* truncated euro sign */
        "big \xf4\x90\x80\x80",  /* U+110000 */
    };
    struct sample s;

    (void) state;
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        sample_init(&s);
        s.order.title = (char *) bad[i];
        expect_sample_invalid(&s, "submit_order.order.title");
    }
    /* the header's own example path */
    sample_init(&s);
    s.skills[2].skill_uri = "http://data.europa.eu/esco/skill/\xc3";
    expect_sample_invalid(&s,
                          "submit_order.order.essential_skills[2].skill_uri");
    /* a nested singular message */
    sample_init(&s);
    s.workplace.postcode = "50\x80\x80";
    expect_sample_invalid(&s, "submit_order.order.workplace.postcode");
}

static void
test_embedded_nul(void **state)
{
    struct sample s;
    struct buf b;
    jm_msg_t *msg = NULL;
    jm_error err;

    (void) state;
    /* Pack "aXevil", then turn X into NUL: protobuf-c would otherwise hand
     * out "a" and the rest would vanish. */
    sample_init(&s);
    s.order.id = "aXevil";
    b = sample_pack(&s);
    b.data[find(&b, "aXevil") + 1] = '\0';
    expect_invalid(&b, "submit_order.order.id");
    buf_free(&b);

    /* bytes fields may hold anything, NUL included */
    sample_init(&s);
    s.req.request_id.data = (uint8_t *) "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    b = sample_pack(&s);
    assert_int_equal(unpack_request(&msg, &b, &err), 0);
    jm_msg_free(&msg);
    buf_free(&b);
}

static void
test_enum_out_of_range(void **state)
{
    struct sample s;
    struct buf order = {0};
    struct buf b;

    (void) state;
    sample_init(&s);
    s.order.kind = 99;
    expect_sample_invalid(&s, "submit_order.order.kind");

    /* proto3 packs repeated enums: the index is the element's */
    sample_init(&s);
    s.licences[1] = 99;
    expect_sample_invalid(&s, "submit_order.order.licences[1]");

    /* an enum in the second element of a repeated sub-message */
    sample_init(&s);
    s.languages[1].min_level = 42;
    expect_sample_invalid(&s, "submit_order.order.languages[1].min_level");

    /* unpacked elements count one each */
    put_uint(&order, 14, 1);
    put_uint(&order, 14, 2);
    put_uint(&order, 14, 99);
    b = wrap_order(&order);
    expect_invalid(&b, "submit_order.order.licences[2]");
    buf_free(&b);
    buf_free(&order);

    /* packed and unpacked mixed: 1, then [2, 3], then [4, 99] */
    put_uint(&order, 14, 1);
    put_len(&order, 14, "\x02\x03", 2);
    put_len(&order, 14, "\x04\x63", 2);
    b = wrap_order(&order);
    expect_invalid(&b, "submit_order.order.licences[4]");
    buf_free(&b);
    buf_free(&order);

    /* -1 (ten bytes on the wire), and 2^32 + 1, which protobuf-c would
     * truncate to the valid value 1 */
    put_uint(&order, 15, UINT64_MAX);
    b = wrap_order(&order);
    expect_invalid(&b, "submit_order.order.kind");
    buf_free(&b);
    buf_free(&order);
    put_uint(&order, 15, ((uint64_t) 1 << 32) + 1);
    b = wrap_order(&order);
    expect_invalid(&b, "submit_order.order.kind");
    buf_free(&b);
    buf_free(&order);

    /* a truncated varint inside a packed run is malformed */
    put_len(&order, 14, "\x01\x82", 2);
    b = wrap_order(&order);
    expect_malformed(&b, "submit_order.order.licences[1]");
    buf_free(&b);
    buf_free(&order);
}

/* Request{submit_order{order{n x essential_skills{}}}}. */
static struct buf
empty_skills(size_t n)
{
    struct buf order = {0};
    struct buf b;

    for (size_t i = 0; i < n; i++)
        put_len(&order, 11, NULL, 0);
    b = wrap_order(&order);
    buf_free(&order);
    return b;
}

static void
test_amplification_hits_the_cap(void **state)
{
    struct buf b;
    jm_msg_t *msg = NULL;
    jm_error err;
    size_t first_fail = 0;
    size_t last_arena = 0;

    (void) state;
    /* 10,000 empty sub-messages: 20,000 wire bytes that protobuf-c would
     * turn into ~1 MB of structs, pointers and scratch slabs. */
    b = empty_skills(10000);
    assert_int_equal(unpack_request(&msg, &b, &err), -EMSGSIZE);
    assert_int_equal(err.code, JM_E_TOO_LARGE);
    assert_non_null(strstr(err.message, "decodes to more than"));
    assert_null(msg);
    print_message("%zu wire bytes: %s\n", b.len, err.message);
    buf_free(&b);

    /* Walk up from 1 item: every message below the cap unpacks and its
     * arena stays inside the cap; find where the cap starts to bite. */
    for (size_t n = 1; n <= 10000 && first_fail == 0; n++) {
        size_t cap;
        int rc;

        b = empty_skills(n);
        cap = cap_of(b.len);
        rc = unpack_request(&msg, &b, &err);
        if (rc == 0) {
            Jobmatch__V1__Request *req =
                (Jobmatch__V1__Request *) jm_msg_get(msg);

            assert_int_equal(req->submit_order->order->n_essential_skills, n);
            last_arena = jm_msg_arena_size(msg);
            assert_true(last_arena <= cap);
            jm_msg_free(&msg);
        } else {
            assert_int_equal(rc, -EMSGSIZE);
            assert_int_equal(err.code, JM_E_TOO_LARGE);
            first_fail = n;
            print_message("%zu empty items unpack in %zu bytes of arena; "
                          "%zu (%zu wire bytes) are over the cap of %zu\n",
                          n - 1, last_arena, n, b.len, cap);
        }
        buf_free(&b);
    }
    /* The cap leaves room for real messages, and bites near it. */
    assert_true(first_fail > 500);
    assert_true(last_arena > (size_t) JM_MSG_DECODED_SLACK);
    /* Past the edge it keeps failing. */
    for (size_t n = first_fail; n <= 10000; n += 997) {
        b = empty_skills(n);
        assert_int_equal(unpack_request(&msg, &b, &err), -EMSGSIZE);
        buf_free(&b);
    }
}

/* ---- fuzz ---- */

static uint64_t
next_random(uint64_t *state)
{
    /* xorshift64*: fixed seeds give the same run everywhere */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

static size_t
pick(uint64_t *rng, size_t n)
{
    return n ? (size_t) (next_random(rng) % n) : 0;
}

/* One random edit: flip a bit, overwrite a byte, truncate, insert random
 * bytes, delete a range, or copy a range elsewhere (replays structure). */
static void
mutate(struct buf *b, uint64_t *rng)
{
    size_t at = pick(rng, b->len + 1);
    size_t n = 1 + pick(rng, 8);
    uint8_t bytes[64];

    switch (pick(rng, 6)) {
    case 0:
        if (b->len)
            b->data[pick(rng, b->len)] ^= (uint8_t) (1u << pick(rng, 8));
        break;
    case 1:
        if (b->len)
            b->data[pick(rng, b->len)] = (uint8_t) next_random(rng);
        break;
    case 2:
        b->len = pick(rng, b->len + 1);
        break;
    case 3:
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t) next_random(rng);
        put_bytes(b, bytes, n); /* grow, then move the tail up */
        memmove(b->data + at + n, b->data + at, b->len - n - at);
        memcpy(b->data + at, bytes, n);
        break;
    case 4:
        if (at + n <= b->len) {
            memmove(b->data + at, b->data + at + n, b->len - at - n);
            b->len -= n;
        }
        break;
    default: {
        size_t from = pick(rng, b->len + 1);

        n = 1 + pick(rng, sizeof(bytes));
        if (from + n > b->len)
            break;
        memcpy(bytes, b->data + from, n);
        put_bytes(b, bytes, n);
        memmove(b->data + at + n, b->data + at, b->len - n - at);
        memcpy(b->data + at, bytes, n);
        break;
    }
    }
}

static void
test_fuzz_mutations(void **state)
{
    uint64_t seed = 0x6a6f626d61746368ULL; /* "jobmatch" */
    const char *env = getenv("JM_FUZZ_SEED");
    uint64_t rng;
    struct sample s;
    struct buf valid;
    size_t counts[9] = {0};
    size_t by_protobuf_c = 0;

    (void) state;
    if (env != NULL && *env != '\0')
        seed = strtoull(env, NULL, 0);
    print_message("fuzz seed %llu (set JM_FUZZ_SEED to replay)\n",
                  (unsigned long long) seed);
    rng = seed ? seed : 1;
    sample_init(&s);
    valid = sample_pack(&s);

    for (int round = 0; round < 20000; round++) {
        struct buf b = {0};
        jm_msg_t *msg = NULL;
        jm_error err;
        int rc;

        put_bytes(&b, valid.data, valid.len);
        for (size_t edits = 1 + pick(&rng, 3); edits > 0; edits--)
            mutate(&b, &rng);
        rc = unpack_request(&msg, &b, &err);
        if (rc == 0) {
            struct buf again = {0};
            jm_msg_t *msg2 = NULL;
            jm_error err2;

            /* What passed must pack into bytes that pass again. */
            assert_int_equal(err.code, 0);
            assert_int_equal(
                jm_msg_pack(jm_msg_get(msg), &again.data, &again.len), 0);
            assert_int_equal(unpack_request(&msg2, &again, &err2), 0);
            jm_msg_free(&msg2);
            jm_msg_free(&msg);
            free(again.data);
        } else {
            assert_null(msg);
            assert_true(err.code == JM_E_MALFORMED ||
                        err.code == JM_E_INVALID_FIELD ||
                        err.code == JM_E_TOO_LARGE);
            assert_int_equal(rc,
                             err.code == JM_E_TOO_LARGE ? -EMSGSIZE : -EPROTO);
        }
        counts[err.code]++;
        if (strstr(err.message, "protobuf-c") != NULL)
            by_protobuf_c++;
        buf_free(&b);
    }
    print_message("fuzz: %zu ok, %zu malformed, %zu invalid field, %zu too "
                  "large\n",
                  counts[0], counts[JM_E_MALFORMED], counts[JM_E_INVALID_FIELD],
                  counts[JM_E_TOO_LARGE]);
    /* the run exercised both sides of the gate */
    assert_true(counts[0] > 100);
    assert_true(counts[JM_E_MALFORMED] > 100);
    assert_true(counts[JM_E_INVALID_FIELD] > 10);
    /* The walk caught every bad frame itself, with a path: protobuf-c's
     * own refusal (no reason, no path) was never needed. */
    assert_int_equal(by_protobuf_c, 0);
    buf_free(&valid);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_request_unpacks),
        cmocka_unit_test(test_pack_matches_protobuf_c),
        cmocka_unit_test(test_wire_fields_build_what_protobuf_c_packs),
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_oversized_frame),
        cmocka_unit_test(test_wrong_wire_types),
        cmocka_unit_test(test_bad_tags_and_varints),
        cmocka_unit_test(test_unknown_oneof_member),
        cmocka_unit_test(test_invalid_utf8_in_strings),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_enum_out_of_range),
        cmocka_unit_test(test_amplification_hits_the_cap),
        cmocka_unit_test(test_fuzz_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
