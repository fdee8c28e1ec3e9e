/* msg.c - hostile bytes in, validated protobuf-c messages out; the
 * validation helpers that turn bad values into a jobmatch.v1.Error.
 *
 * jm_msg_unpack runs three gates in the order of error.proto: the frame
 * size, the wire walk of wire.c (structure, UTF-8, NUL, enum values), and
 * protobuf-c's unpack into an arena that may only grow to a fixed multiple
 * of the wire size. The arena is what makes amplification harmless: 20 KB
 * of empty repeated sub-messages would otherwise decode into about a
 * megabyte of small mallocs. It also makes freeing a message one walk over
 * a few chunks instead of protobuf-c's recursive free. */
#include "jm/msg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/mem.h"
#include "wire.h"

/* ---- errors ---- */

bool
jm_error_set(jm_error *err, int code, const char *field_path, const char *fmt,
             ...)
{
    va_list ap;

    JM_ASSERT(err != NULL);
    JM_ASSERT(code != 0);
    if (err->code != 0)
        return false; /* the first, most basic problem is the one reported */
    err->code = code;
    /* Only "try again later" is worth retrying with the same request. */
    err->retryable = code == JM_E_UNAVAILABLE;
    (void) snprintf(err->field_path, sizeof(err->field_path), "%s",
                    field_path ? field_path : "");
    va_start(ap, fmt);
    (void) vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return false;
}

void
jm_error_to_wire(const jm_error *err, Jobmatch__V1__Error *wire)
{
    JM_ASSERT(err != NULL);
    JM_ASSERT(wire != NULL);
    jobmatch__v1__error__init(wire);
    wire->code = (Jobmatch__V1__ErrorCode) err->code;
    /* protobuf-c's structs take char *, but pack only reads them. */
    wire->field_path = (char *) err->field_path;
    wire->message = (char *) err->message;
    wire->retryable = err->retryable;
}

const char *
jm_error_code_name(int code)
{
    switch (code) {
    case 0:
        return "ok";
    case JM_E_TOO_LARGE:
        return "too_large";
    case JM_E_MALFORMED:
        return "malformed";
    case JM_E_UNSUPPORTED:
        return "unsupported_type";
    case JM_E_INVALID_FIELD:
        return "invalid_field";
    case JM_E_NOT_FOUND:
        return "not_found";
    case JM_E_CONFLICT:
        return "conflict";
    case JM_E_PERMISSION_DENIED:
        return "permission_denied";
    case JM_E_UNAVAILABLE:
        return "unavailable";
    default:
        return "unknown";
    }
}

/* ---- the arena ---- */

/* A bump allocator over malloc'd chunks. protobuf-c frees as it goes (its
 * scratch slabs, a replaced oneof member); those frees are no-ops here and
 * everything goes at once in jm_msg_free. held counts every byte taken from
 * malloc, headers and unused chunk tails included, so the cap bounds real
 * memory, not just what protobuf-c asked for. */
struct chunk {
    struct chunk *next;
    size_t size; /* bytes of data */
    size_t used;
    max_align_t data[]; /* aligned for anything protobuf-c stores */
};

struct arena {
    struct chunk *chunks; /* the first is the one being bumped */
    size_t held;
    size_t cap;
    size_t next_size; /* of the next bump chunk; doubles up to a limit */
    bool exhausted;   /* an allocation was refused: the cap, not bad bytes */
};

#define ARENA_ALIGN       _Alignof(max_align_t)
#define ARENA_FIRST_CHUNK 4096
#define ARENA_MAX_CHUNK   ((size_t) 64 * 1024)
/* Requests at least this big get a chunk of their own, so that one large
 * array does not throw away the rest of the current chunk. */
#define ARENA_DEDICATED (ARENA_MAX_CHUNK / 4)

struct jm_msg {
    ProtobufCMessage *message; /* lives in the arena */
    struct arena arena;
};

/* Takes a chunk of size data bytes from malloc, if the cap allows. */
static struct chunk *
arena_chunk(struct arena *a, size_t size)
{
    struct chunk *c;
    size_t room = a->cap - a->held; /* held <= cap always */

    if (room < sizeof(struct chunk) || size > room - sizeof(struct chunk))
        return NULL;
    c = jm_xmalloc(sizeof(struct chunk) + size);
    c->size = size;
    c->used = 0;
    a->held += sizeof(struct chunk) + size;
    return c;
}

/* Starts a new chunk to bump in, big enough for need. The sizes double,
 * so that a message takes few mallocs; near the cap the chunk takes what
 * is left. */
static struct chunk *
arena_bump_chunk(struct arena *a, size_t need)
{
    size_t room = a->cap - a->held;
    size_t size = a->next_size > need ? a->next_size : need;
    struct chunk *c;

    if (room >= sizeof(struct chunk) && size > room - sizeof(struct chunk))
        size = room - sizeof(struct chunk);
    if (size < need || (c = arena_chunk(a, size)) == NULL)
        return NULL;
    c->next = a->chunks;
    a->chunks = c;
    if (a->next_size < ARENA_MAX_CHUNK)
        a->next_size *= 2;
    return c;
}

static void *
arena_alloc(void *data, size_t size)
{
    struct arena *a = data;
    struct chunk *c = a->chunks;
    size_t need;

    if (size > a->cap || size > SIZE_MAX - ARENA_ALIGN)
        goto exhausted; /* the second keeps the rounding from wrapping */
    need =
        size == 0 ? ARENA_ALIGN : (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (c != NULL && c->size - c->used >= need)
        goto bump;
    if (need >= ARENA_DEDICATED) {
        if ((c = arena_chunk(a, need)) == NULL)
            goto exhausted;
        /* Behind the current bump chunk, which keeps its free space. */
        if (a->chunks != NULL) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = NULL;
            a->chunks = c;
        }
        c->used = need;
        return c->data;
    }
    if ((c = arena_bump_chunk(a, need)) == NULL)
        goto exhausted;
bump:
    c->used += need;
    return (char *) c->data + (c->used - need);
exhausted:
    a->exhausted = true;
    return NULL;
}

static void
arena_free(void *data, void *pointer)
{
    (void) data;
    (void) pointer; /* released with the whole arena */
}

static void
arena_release(struct arena *a)
{
    struct chunk *c = a->chunks;

    while (c != NULL) {
        struct chunk *next = c->next;

        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->held = 0;
}

/* factor x size + slack, saturating instead of wrapping. */
static size_t
arena_cap(size_t size)
{
    const size_t factor = JM_MSG_DECODED_FACTOR;
    const size_t slack = (size_t) JM_MSG_DECODED_SLACK;

    if (size > (SIZE_MAX - slack) / factor)
        return SIZE_MAX;
    return factor * size + slack;
}

/* ---- unpack and pack ---- */

int
jm_msg_unpack(jm_msg_t **msg_p, const ProtobufCMessageDescriptor *desc,
              const void *data, size_t size, size_t max_size, jm_error *err)
{
    jm_msg_t *self = NULL;
    ProtobufCAllocator allocator;
    int rc;

    JM_ASSERT(msg_p != NULL);
    JM_ASSERT(desc != NULL);
    JM_ASSERT(data != NULL || size == 0);
    JM_ASSERT(err != NULL);
    *msg_p = NULL;
    if (size > max_size) {
        jm_error_set(err, JM_E_TOO_LARGE, "",
                     "message of %zu bytes is over the limit of %zu bytes",
                     size, max_size);
        return -EMSGSIZE;
    }
    if ((rc = jm__wire_check(desc, data, size, err)) != 0)
        return rc;

    self = jm_xcalloc(1, sizeof(*self));
    self->arena.cap = arena_cap(size);
    self->arena.next_size = ARENA_FIRST_CHUNK;
    allocator.alloc = arena_alloc;
    allocator.free = arena_free;
    allocator.allocator_data = &self->arena;
    self->message = protobuf_c_message_unpack(desc, &allocator, size, data);
    if (self->message == NULL) {
        if (self->arena.exhausted) {
            jm_error_set(err, JM_E_TOO_LARGE, "",
                         "message of %zu bytes decodes to more than %zu "
                         "bytes",
                         size, self->arena.cap);
            rc = -EMSGSIZE;
        } else {
            /* The walk should have caught it; protobuf-c has the last
             * word on the encoding all the same. */
            jm_error_set(err, JM_E_MALFORMED, "",
                         "protobuf-c could not decode the message");
            rc = -EPROTO;
        }
        goto fail;
    }
    *msg_p = self;
    return 0;

fail:
    jm_msg_free(&self);
    return rc;
}

ProtobufCMessage *
jm_msg_get(jm_msg_t *msg)
{
    JM_ASSERT(msg != NULL);
    return msg->message;
}

size_t
jm_msg_arena_size(const jm_msg_t *msg)
{
    JM_ASSERT(msg != NULL);
    return msg->arena.held;
}

void
jm_msg_free(jm_msg_t **msg_p)
{
    JM_ASSERT(msg_p != NULL);
    if (*msg_p == NULL)
        return;
    /* No protobuf_c_message_free_unpacked: every byte is in the arena. */
    arena_release(&(*msg_p)->arena);
    free(*msg_p);
    *msg_p = NULL;
}

int
jm_msg_pack(const ProtobufCMessage *msg, uint8_t **data_p, size_t *size_p)
{
    size_t size;
    size_t written;
    uint8_t *data;

    JM_ASSERT(msg != NULL);
    JM_ASSERT(data_p != NULL);
    JM_ASSERT(size_p != NULL);
    size = protobuf_c_message_get_packed_size(msg);
    data = jm_xmalloc(size);
    written = protobuf_c_message_pack(msg, data);
    JM_ASSERT(written == size);
    *data_p = data;
    *size_p = size;
    return 0;
}

static size_t
put_varint(uint8_t *out, uint64_t value)
{
    size_t n = 0;

    do {
        out[n++] = (uint8_t) ((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
        value >>= 7;
    } while (value > 0);
    return n;
}

size_t
jm_wire_put_len_field(uint8_t *out, uint32_t field, const void *data,
                      size_t size)
{
    size_t n = put_varint(out, (uint64_t) field << 3 | 2);

    n += put_varint(out + n, size);
    memcpy(out + n, data, size);
    return n + size;
}

size_t
jm_wire_put_varint_field(uint8_t *out, uint32_t field, uint64_t value)
{
    size_t n = put_varint(out, (uint64_t) field << 3);

    return n + put_varint(out + n, value);
}

bool
jm_msg_has_unknown_fields(const ProtobufCMessage *msg)
{
    /* protobuf-c 1.4.1 keeps every field whose number its descriptor lacks
     * (any syntax) in unknown_fields, with a copy of its bytes. */
    JM_ASSERT(msg != NULL);
    return msg->n_unknown_fields > 0;
}

/* ---- validation helpers ---- */

const char *
jm_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    JM_ASSERT(buf != NULL && size > 0);
    va_start(ap, fmt);
    (void) vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return buf;
}

/* The length of the UTF-8 sequence at s[0] (len > 0 bytes available and
 * s[0] >= 0x80), or 0 if it is not one. UTF-8 as RFC 3629 defines it:
 * shortest form only, no surrogates (U+D800-DFFF), nothing above
 * U+10FFFF. The second byte's range depends on the lead byte; that is
 * where overlongs and surrogates are caught. */
static size_t
utf8_sequence(const uint8_t *s, size_t len)
{
    uint8_t c = s[0];
    size_t n;                     /* continuation bytes */
    uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */

    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        if (c == 0xe0)
            lo = 0xa0; /* else overlong */
        else if (c == 0xed)
            hi = 0x9f; /* else a surrogate */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        if (c == 0xf0)
            lo = 0x90; /* else overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* else above U+10FFFF */
    } else {
        return 0; /* a stray continuation, C0/C1, or F5-FF */
    }
    if (len - 1 < n)
        return 0; /* truncated sequence */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= n; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    return n + 1;
}

bool
jm_utf8_valid(const void *data, size_t len)
{
    const uint8_t *s = data;
    size_t i = 0;

    while (i < len) {
        uint64_t word;
        size_t n;

        /* Eight ASCII bytes at once: most text is ASCII, and a job order
         * is mostly text (this loop was 5 % of intake's CPU per order). */
        if (len - i >= 8) {
            memcpy(&word, s + i, 8);
            if ((word & UINT64_C(0x8080808080808080)) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((n = utf8_sequence(s + i, len - i)) == 0)
            return false;
        i += n;
    }
    return true;
}

/* NULL is how a caller spells "not given"; protobuf-c itself uses "". */
static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

/* Whether the eight bytes of word are all printable ASCII (0x20-0x7e):
 * none has its top bit, none is below 0x20, none is 0x7f. The "below"
 * and "equal" tests are the exact word-at-a-time ones (Anderson's bit
 * twiddling hacks, "determine if a word has a byte less than n"). */
static inline bool
printable_ascii8(uint64_t word)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t highs = UINT64_C(0x8080808080808080);
    uint64_t del = word ^ (ones * 0x7f);

    return ((word | ((word - ones * 0x20) & ~word) | ((del - ones) & ~del)) &
            highs) == 0;
}

bool
jm_check_text(jm_error *err, const char *path, const char *s, size_t max_len,
              bool required, bool multiline)
{
    const uint8_t *u;
    size_t len, i = 0;

    s = or_empty(s);
    len = strlen(s);
    if (len == 0)
        return required
                   ? jm_error_set(err, JM_E_INVALID_FIELD, path, "is required")
                   : true;
    if (len > max_len)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "is %zu bytes long; at most %zu are allowed", len,
                            max_len);
    /* One pass for both rules: the text is UTF-8 (jm_msg_unpack checked
     * that already, but the helper stays right for text that did not
     * come through it) and holds no control character. Printable ASCII,
     * most of any text, goes eight bytes at a time. */
    u = (const uint8_t *) s;
    while (i < len) {
        uint64_t word;
        uint8_t c = u[i];
        unsigned code_point = c;
        bool control;

        if (len - i >= 8) {
            memcpy(&word, u + i, 8);
            if (printable_ascii8(word)) {
                i += 8;
                continue;
            }
        }
        if (c >= 0x80) {
            size_t n = utf8_sequence(u + i, len - i);

            if (n == 0)
                return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                    "is not valid UTF-8");
            /* C1 controls U+0080-U+009F are C2 80 - C2 9F in UTF-8. */
            control = c == 0xc2 && u[i + 1] <= 0x9f;
            code_point = u[i + 1];
            if (!control) {
                i += n;
                continue;
            }
        } else {
            control = (c < 0x20 || c == 0x7f) &&
                      !(multiline && (c == '\n' || c == '\t'));
        }
        if (control)
            return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                "holds a control character, U+%04X, at byte "
                                "%zu",
                                code_point, i);
        i++;
    }
    return true;
}

/* The name of a character that moves the text around it on screen: a
 * bidirectional embedding, override or isolate, or NULL. */
static const char *
direction_control_name(unsigned code_point)
{
    switch (code_point) {
    case 0x202a:
        return "left-to-right embedding";
    case 0x202b:
        return "right-to-left embedding";
    case 0x202c:
        return "pop directional formatting";
    case 0x202d:
        return "left-to-right override";
    case 0x202e:
        return "right-to-left override";
    case 0x2066:
        return "left-to-right isolate";
    case 0x2067:
        return "right-to-left isolate";
    case 0x2068:
        return "first strong isolate";
    case 0x2069:
        return "pop directional isolate";
    default:
        return NULL;
    }
}

/* The bytes of the white-space or invisible character at u (len > 0 bytes
 * of valid UTF-8), or 0 if it is another. Unicode's White_Space property
 * (U+0009-000D, 0020, 0085, 00A0, 1680, 2000-200A, 2028, 2029, 202F,
 * 205F, 3000) and the zero-width characters a reader cannot see either
 * (U+200B-200D, 2060, FEFF). */
static size_t
blank_char_len(const uint8_t *u, size_t len)
{
    if ((u[0] >= 0x09 && u[0] <= 0x0d) || u[0] == 0x20)
        return 1;
    if (len >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
        return 2;
    if (len < 3)
        return 0;
    if ((u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) ||
        (u[0] == 0xe2 && u[1] == 0x80 &&
         (u[2] <= 0x8d || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf)) ||
        (u[0] == 0xe2 && u[1] == 0x81 && (u[2] == 0x9f || u[2] == 0xa0)) ||
        (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) ||
        (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf))
        return 3;
    return 0;
}

bool
jm_check_display_text(jm_error *err, const char *path, const char *s,
                      size_t max_len, bool required, bool multiline)
{
    const uint8_t *u, *p;
    size_t len, i = 0;

    if (!jm_check_text(err, path, s, max_len, required, multiline))
        return false;
    s = or_empty(s);
    len = strlen(s);
    if (len == 0)
        return true;
    u = (const uint8_t *) s;
    /* Every character refused here is E2 80 xx or E2 81 xx in UTF-8 (and
     * the text is valid UTF-8, so an E2 leads three bytes): only the E2
     * bytes are looked at, and most text costs one memchr. */
    for (p = memchr(u, 0xe2, len); p != NULL;
         p = memchr(p + 3, 0xe2, len - (size_t) (p + 3 - u))) {
        unsigned code_point =
            ((unsigned) (p[1] & 0x3f) << 6 | (p[2] & 0x3f)) | 0x2000;
        const char *name = direction_control_name(code_point);
        size_t at = 1; /* in characters, as a reader counts */

        if (name == NULL &&
            (multiline || (code_point != 0x2028 && code_point != 0x2029)))
            continue;
        for (const uint8_t *q = u; q < p; q++)
            at += (*q & 0xc0) != 0x80;
        if (name != NULL)
            return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                "holds U+%04X (%s) at character %zu: it "
                                "reorders the text around it on screen",
                                code_point, name, at);
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "holds U+%04X (a line or paragraph separator) "
                            "at character %zu; the field is one line",
                            code_point, at);
    }
    while (i < len) {
        size_t n = blank_char_len(u + i, len - i);

        if (n == 0)
            return true;
        i += n;
    }
    return jm_error_set(err, JM_E_INVALID_FIELD, path,
                        required ? "is blank: it holds only white space"
                                 : "is blank: give text or leave it empty");
}

bool
jm_check_profile_id(jm_error *err, const char *path, const char *id,
                    bool required)
{
    bool ok;

    id = or_empty(id);
    if (*id == '\0')
        return required
                   ? jm_error_set(err, JM_E_INVALID_FIELD, path, "is required")
                   : true;
    ok = strlen(id) == JM_PROFILE_ID_LEN && id[0] == 'p' && id[1] == '-';
    for (size_t i = 2; ok && i < JM_PROFILE_ID_LEN; i++)
        ok = (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '2' && id[i] <= '7');
    if (!ok)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "is not a profile id (\"p-\" and 20 characters "
                            "a-z, 2-7)");
    return true;
}

bool
jm_check_dk_codes(jm_error *err, const char *path, const char *postcode,
                  const char *municipality_code)
{
    char field[sizeof(err->field_path)];
    const jm_dk_postcode *pc;
    const jm_dk_municipality *m;

    jm_path(field, sizeof(field), "%s.postcode", path);
    if (!jm_check_digits(err, field, postcode, 4, true))
        return false;
    if ((pc = jm_dk_postcode_find(postcode)) == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, field,
                            "%s is not a Danish postcode", postcode);
    jm_path(field, sizeof(field), "%s.municipality_code", path);
    if (!jm_check_digits(err, field, municipality_code, 3, true))
        return false;
    if ((m = jm_dk_municipality_find(municipality_code)) == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, field,
                            "%s is not one of the 98 municipality codes",
                            municipality_code);
    /* A place in another municipality than its postcode's is a typing
     * mistake in one of the two fields. */
    if (strcmp(pc->municipality_code, municipality_code) != 0)
        return jm_error_set(err, JM_E_INVALID_FIELD, field,
                            "does not match the postcode: %s %s lies in "
                            "municipality %s, not %s (%s)",
                            pc->code, pc->name, pc->municipality_code, m->code,
                            m->name);
    return true;
}

bool
jm_check_dk_place(jm_error *err, const char *path, const char *postcode,
                  const char *municipality_code, double latitude,
                  double longitude)
{
    char field[sizeof(err->field_path)];
    const jm_dk_postcode *pc;
    const jm_dk_municipality *m;
    double lat, lon, km;

    if (!jm_check_dk_codes(err, path, postcode, municipality_code))
        return false;
    /* Both 0 means "not given": the service fills the position. */
    if (latitude == 0 && longitude == 0)
        return true;
    pc = jm_dk_postcode_find(postcode);
    m = jm_dk_municipality_find(municipality_code);
    jm_path(field, sizeof(field), "%s.latitude", path);
    if (!(isfinite(latitude) && isfinite(longitude) &&
          jm_geo_in_denmark(latitude, longitude)))
        return jm_error_set(err, JM_E_INVALID_FIELD, field,
                            "(%g, %g) is not in Denmark; give both as 0 to "
                            "use the postcode's position",
                            latitude, longitude);
    /* The point the service would fill in: three postcodes have no
     * position (jm/dk.h), and their municipality's centre stands in. */
    lat = pc->has_coordinates ? pc->latitude : m->latitude;
    lon = pc->has_coordinates ? pc->longitude : m->longitude;
    km = jm_geo_distance_km(latitude, longitude, lat, lon);
    if (km > JM_PLACE_RADIUS_KM)
        return jm_error_set(err, JM_E_INVALID_FIELD, field,
                            "(%g, %g) is %.0f km from the position of "
                            "postcode %s %s; at most %.0f km are accepted: "
                            "check both, or give both as 0 to use the "
                            "postcode's position",
                            latitude, longitude, km, pc->code, pc->name,
                            JM_PLACE_RADIUS_KM);
    return true;
}

bool
jm_check_id(jm_error *err, const char *path, const char *s, bool required)
{
    size_t len;

    s = or_empty(s);
    len = strlen(s);
    if (len == 0)
        return required
                   ? jm_error_set(err, JM_E_INVALID_FIELD, path, "is required")
                   : true;
    if (len > 64)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "is %zu bytes long; ids have at most 64", len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                "may hold only A-Z a-z 0-9 . _ : -");
    }
    return true;
}

bool
jm_check_digits(jm_error *err, const char *path, const char *s, size_t n,
                bool required)
{
    size_t len;

    s = or_empty(s);
    len = strlen(s);
    if (len == 0)
        return required
                   ? jm_error_set(err, JM_E_INVALID_FIELD, path, "is required")
                   : true;
    if (len != n)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "must be exactly %zu digits", n);
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                "must be exactly %zu digits", n);
    return true;
}

bool
jm_check_count(jm_error *err, const char *path, size_t count, size_t min,
               size_t max)
{
    if (count < min || count > max)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "has %zu items; %zu to %zu are allowed", count, min,
                            max);
    return true;
}

bool
jm_check_range(jm_error *err, const char *path, int64_t value, int64_t min,
               int64_t max)
{
    if (value < min || value > max)
        return jm_error_set(
            err, JM_E_INVALID_FIELD, path, "is %lld; it must be %lld to %lld",
            (long long) value, (long long) min, (long long) max);
    return true;
}

bool
jm_check_enum(jm_error *err, const char *path,
              const ProtobufCEnumDescriptor *desc, int value,
              bool allow_unspecified)
{
    JM_ASSERT(desc != NULL);
    if (value == 0 && !allow_unspecified)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "is required (0 means unspecified)");
    if (protobuf_c_enum_descriptor_get_value(desc, value) == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "%d is not a value of %s", value, desc->name);
    return true;
}

/* "YYYY-MM-DD" with a real month and day of any year 0000-9999. */
static bool
shaped_like_a_date(const char *s)
{
    int part[3] = {0, 0, 0};

    for (int i = 0, k = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return false;
            k++;
        } else if (s[i] >= '0' && s[i] <= '9') {
            part[k] = 10 * part[k] + (s[i] - '0');
        } else {
            return false; /* NUL included: a short text stops here */
        }
    }
    return s[10] == '\0' && jm_date_valid(part[0], part[1], part[2]);
}

bool
jm_check_date(jm_error *err, const char *path, const char *s, bool required,
              int32_t *days_out)
{
    int32_t days;

    s = or_empty(s);
    if (*s == '\0')
        return required
                   ? jm_error_set(err, JM_E_INVALID_FIELD, path, "is required")
                   : true;
    if (jm_date_parse(s, &days) != 0) {
        /* A real date of a year jm_date_parse does not accept (it keeps
         * typos such as 0224 or 9024 out) is another mistake than a
         * malformed one, and the fix is to know the range. */
        if (shaped_like_a_date(s))
            return jm_error_set(err, JM_E_INVALID_FIELD, path,
                                "is outside the dates accepted, 1900-01-01 "
                                "to 2199-12-31");
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "is not a date as YYYY-MM-DD");
    }
    if (days_out != NULL)
        *days_out = days;
    return true;
}

bool
jm_check_request_id(jm_error *err, const char *path,
                    const ProtobufCBinaryData *id)
{
    JM_ASSERT(id != NULL);
    if (id->len != 16 || id->data == NULL)
        return jm_error_set(err, JM_E_INVALID_FIELD, path,
                            "must be 16 bytes, not %zu", id->len);
    return true;
}
