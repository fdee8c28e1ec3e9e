/* json.c - protobuf-c messages to and from JSON, driven by descriptors.
 *
 * Output walks the message descriptor and writes one key per field that is
 * present (see is_written()). Input walks the JSON object's keys, finds each
 * field by name, and checks the JSON type, the range and the encoding before
 * storing anything.
 *
 * The one rule that keeps the error paths simple: everything allocated while
 * reading is stored into the message under construction at once, in a form
 * protobuf_c_message_free_unpacked() understands (a repeated count covers
 * only the elements already stored; a oneof case is set as soon as its
 * member holds memory). So on any error the caller frees the top message and
 * nothing leaks, however deep the error was. Memory comes from malloc (via
 * jm_xmalloc), which is what protobuf-c's default allocator frees with. */
#include "jm/json.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "jm/mem.h"

/* Reading state: the path of the value being read ("order.skills[2]") and
 * where the error text goes. */
struct ctx {
    char *err;
    size_t err_size;
    size_t path_len;
    char path[256];
};

static int fail(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes "path: reason" (or only the reason at the top) and returns the
 * one error code of jm_json_to_message(). */
static int
fail(struct ctx *c, const char *fmt, ...)
{
    char reason[200];
    va_list ap;

    va_start(ap, fmt);
    (void) vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->err_size > 0) {
        if (c->path_len > 0)
            (void) snprintf(c->err, c->err_size, "%s: %s", c->path, reason);
        else
            (void) snprintf(c->err, c->err_size, "%s", reason);
    }
    return -EINVAL;
}

/* Appends to the path and returns the old length, for path_pop(). A path
 * longer than the buffer is cut short, which only shortens error texts. */
static size_t
path_push(struct ctx *c, const char *name, size_t index, bool is_index)
{
    size_t mark = c->path_len, room = sizeof(c->path) - mark;
    int n;

    if (is_index)
        n = snprintf(c->path + mark, room, "[%zu]", index);
    else
        n = snprintf(c->path + mark, room, mark > 0 ? ".%s" : "%s", name);
    c->path_len = n < 0 ? mark : mark + (size_t) n;
    if (c->path_len >= sizeof(c->path))
        c->path_len = sizeof(c->path) - 1;
    return mark;
}

static void
path_pop(struct ctx *c, size_t mark)
{
    c->path_len = mark;
    c->path[mark] = '\0';
}

/* "got ..." in error texts, indexed by json_type. */
static const char *
kind(const json_t *json)
{
    static const char *const kinds[] = {
        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
        [JSON_STRING] = "a string",  [JSON_INTEGER] = "a number",
        [JSON_REAL] = "a number",    [JSON_TRUE] = "a boolean",
        [JSON_FALSE] = "a boolean",  [JSON_NULL] = "null",
    };

    return kinds[json_typeof(json)];
}

/* What the code needs per ProtobufCType, indexed by it: the name for error
 * texts, the size of one array element as protobuf-c lays arrays out (enums
 * and booleans are 4-byte ints), and for the integer types (the first ten)
 * their range. */
static const struct {
    const char *name;
    size_t size;
    int64_t min;
    uint64_t max;
} types[] = {
    [PROTOBUF_C_TYPE_INT32] = {"int32", 4, INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_SINT32] = {"sint32", 4, INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_SFIXED32] = {"sfixed32", 4, INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_INT64] = {"int64", 8, INT64_MIN, INT64_MAX},
    [PROTOBUF_C_TYPE_SINT64] = {"sint64", 8, INT64_MIN, INT64_MAX},
    [PROTOBUF_C_TYPE_SFIXED64] = {"sfixed64", 8, INT64_MIN, INT64_MAX},
    [PROTOBUF_C_TYPE_UINT32] = {"uint32", 4, 0, UINT32_MAX},
    [PROTOBUF_C_TYPE_FIXED32] = {"fixed32", 4, 0, UINT32_MAX},
    [PROTOBUF_C_TYPE_UINT64] = {"uint64", 8, 0, UINT64_MAX},
    [PROTOBUF_C_TYPE_FIXED64] = {"fixed64", 8, 0, UINT64_MAX},
    [PROTOBUF_C_TYPE_FLOAT] = {"float", sizeof(float), 0, 0},
    [PROTOBUF_C_TYPE_DOUBLE] = {"double", sizeof(double), 0, 0},
    [PROTOBUF_C_TYPE_BOOL] = {"bool", sizeof(protobuf_c_boolean), 0, 0},
    [PROTOBUF_C_TYPE_ENUM] = {"enum", sizeof(int), 0, 0},
    [PROTOBUF_C_TYPE_STRING] = {"string", sizeof(char *), 0, 0},
    [PROTOBUF_C_TYPE_BYTES] = {"bytes", sizeof(ProtobufCBinaryData), 0, 0},
    [PROTOBUF_C_TYPE_MESSAGE] = {"message", sizeof(ProtobufCMessage *), 0, 0},
};

/* The 64-bit integer types, which JSON numbers cannot always carry. */
static bool
is_64bit(ProtobufCType type)
{
    return type <= PROTOBUF_C_TYPE_FIXED64 && types[type].size == 8;
}

/* ---- enums ---------------------------------------------------------- */

/* Length of the prefix all value names share, cut back to just after a
 * '_' ("JOB_KIND_"), and never a whole name, so no short name is empty. */
static size_t
enum_prefix_len(const ProtobufCEnumDescriptor *desc)
{
    const char *first;
    size_t common, i, k, len;

    if (desc->n_values == 0)
        return 0;
    first = desc->values[0].name;
    common = strlen(first);
    for (i = 0; i < desc->n_values; i++) {
        const char *name = desc->values[i].name;

        for (k = 0; k < common && first[k] == name[k]; k++)
            ;
        common = k;
        len = strlen(name);
        if (len > 0 && common > len - 1)
            common = len - 1;
    }
    while (common > 0 && first[common - 1] != '_')
        common--;
    return common;
}

/* jm_json_enum_short_name() hands out static storage, so the lower-cased
 * names live here: filled on first use per enum and never freed, hence
 * nothing to leak. This is file-level mutable state, which the house style
 * avoids; it is safe because every jobmatch process is single-threaded and
 * the table only grows. The enums of proto/ need about 1 KiB; the limits
 * are far above that, and reaching them is a programmer error. */
#define SHORT_ENUMS 64
#define SHORT_CHARS 16384

static struct {
    const ProtobufCEnumDescriptor *desc;
    const char *names; /* one string per value, in values[] order */
} short_cache[SHORT_ENUMS];

static size_t short_cache_len;
static char short_chars[SHORT_CHARS];
static size_t short_chars_used;

static const char *
short_names_add(const ProtobufCEnumDescriptor *desc)
{
    size_t skip = enum_prefix_len(desc), i;
    char *names = short_chars + short_chars_used;

    JM_ASSERT(short_cache_len < SHORT_ENUMS);
    for (i = 0; i < desc->n_values; i++) {
        const char *name = desc->values[i].name + skip;
        size_t len = strlen(name), k;

        JM_ASSERT(short_chars_used + len + 1 <= SHORT_CHARS);
        for (k = 0; k <= len; k++) {
            char ch = name[k];

            /* ASCII only, whatever the locale: these are C identifiers. */
            short_chars[short_chars_used++] =
                (char) (ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
    }
    short_cache[short_cache_len].desc = desc;
    short_cache[short_cache_len].names = names;
    short_cache_len++;
    return names;
}

const char *
jm_json_enum_short_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *found;
    const char *names = NULL;
    size_t i, index;

    JM_ASSERT(desc != NULL);
    found = protobuf_c_enum_descriptor_get_value(desc, value);
    if (found == NULL)
        return NULL;
    for (i = 0; i < short_cache_len && names == NULL; i++) {
        if (short_cache[i].desc == desc)
            names = short_cache[i].names;
    }
    if (names == NULL)
        names = short_names_add(desc);
    for (index = (size_t) (found - desc->values); index > 0; index--)
        names += strlen(names) + 1;
    return names;
}

/* Full name or short name in any case ("ordinary", "JOB_KIND_ORDINARY"),
 * or a number that is one of the enum's values. */
static int
enum_from_json(struct ctx *c, const ProtobufCEnumDescriptor *desc,
               const json_t *json, int *out)
{
    if (json_is_integer(json)) {
        json_int_t v = json_integer_value(json);

        if (v >= INT32_MIN && v <= INT32_MAX &&
            protobuf_c_enum_descriptor_get_value(desc, (int) v) != NULL) {
            *out = (int) v;
            return 0;
        }
        return fail(c, "%" JSON_INTEGER_FORMAT " is not a %s value", v,
                    desc->short_name);
    }
    if (json_is_string(json)) {
        const char *text = json_string_value(json);
        size_t skip = enum_prefix_len(desc), i;

        if (strlen(text) != json_string_length(json))
            return fail(c, "contains a NUL character");
        for (i = 0; i < desc->n_values; i++) {
            const char *name = desc->values[i].name;

            if (strcasecmp(text, name) == 0 ||
                strcasecmp(text, name + skip) == 0) {
                *out = desc->values[i].value;
                return 0;
            }
        }
        return fail(c, "unknown %s \"%.64s\"", desc->short_name, text);
    }
    return fail(c, "expected a %s name or number, got %s", desc->short_name,
                kind(json));
}

/* ---- message -> JSON ------------------------------------------------ */

/* jansson returns NULL only when out of memory (values it would refuse are
 * screened out before): abort, as jm_xmalloc does. */
static json_t *
checked(json_t *json)
{
    JM_ASSERT(json != NULL);
    return json;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if there is
 * none: overlong forms, surrogates and code points past U+10FFFF are not
 * valid (RFC 3629). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80 ? 1 : s[0] < 0xc0 ? 0 : s[0] < 0xe0 ? 2 : 3;
    uint32_t cp;
    size_t i;

    if (s[0] >= 0xf0)
        len = s[0] < 0xf8 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    cp = len == 1 ? s[0] : s[0] & (0x7fu >> len);
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* protobuf-c unpacks strings without checking UTF-8 (DESIGN.md 6), and
 * jansson refuses invalid UTF-8. Output must not fail on a bad peer's
 * message, so invalid bytes become U+FFFD, each. */
static json_t *
string_to_json(const char *s)
{
    const unsigned char *in = (const unsigned char *) (s ? s : "");
    size_t n = strlen((const char *) in), i = 0, used = 0;
    json_t *json = json_string((const char *) in);
    char *clean;

    if (json != NULL)
        return json;
    clean = jm_xmalloc(3 * n + 1);
    while (i < n) {
        size_t len = utf8_len(in + i, n - i);
        const void *from = len ? (const void *) (in + i) : "\xef\xbf\xbd";

        memcpy(clean + used, from, len ? len : 3);
        used += len ? len : 3;
        i += len ? len : 1;
    }
    json = checked(json_stringn(clean, used));
    free(clean);
    return json;
}

/* Bytes as standard, padded base64 (libsodium's codec). */
static json_t *
bytes_to_json(const ProtobufCBinaryData *bytes)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    size_t size;
    char *text;
    json_t *json;

    if (bytes->len == 0)
        return checked(json_string(""));
    size = sodium_base64_ENCODED_LEN(bytes->len, variant);
    text = jm_xmalloc(size);
    (void) sodium_bin2base64(text, size, bytes->data, bytes->len, variant);
    json = checked(json_string(text));
    free(text);
    return json;
}

/* JSON has no NaN or infinity. Writing them as the strings of protobuf's
 * canonical JSON keeps output total and readable; reading rejects them. */
static json_t *
real_to_json(double v)
{
    if (isnan(v))
        return checked(json_string("NaN"));
    if (isinf(v))
        return checked(json_string(v > 0 ? "Infinity" : "-Infinity"));
    return checked(json_real(v));
}

static json_t *message_to_json(const ProtobufCMessage *msg, unsigned flags);

/* One value (a singular field, or one element of a repeated one). */
static json_t *
value_to_json(const ProtobufCFieldDescriptor *f, const void *member,
              unsigned flags)
{
    if (f->type <= PROTOBUF_C_TYPE_FIXED64 && types[f->type].min < 0) {
        return checked(json_integer(is_64bit(f->type)
                                        ? *(const int64_t *) member
                                        : *(const int32_t *) member));
    }
    if (f->type <= PROTOBUF_C_TYPE_FIXED64) {
        uint64_t v = is_64bit(f->type) ? *(const uint64_t *) member
                                       : *(const uint32_t *) member;
        char text[24];

        if (v <= INT64_MAX)
            return checked(json_integer((json_int_t) v));
        /* Past json_int_t: a decimal string, which reading accepts. */
        (void) snprintf(text, sizeof(text), "%" PRIu64, v);
        return checked(json_string(text));
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
        return real_to_json(*(const float *) member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return real_to_json(*(const double *) member);
    case PROTOBUF_C_TYPE_BOOL:
        return checked(json_boolean(*(const protobuf_c_boolean *) member));
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *) member;
        const ProtobufCEnumValue *found =
            protobuf_c_enum_descriptor_get_value(f->descriptor, v);

        /* protobuf-c does not range-check enums: show unknown numbers. */
        return checked(found ? json_string(found->name) : json_integer(v));
    }
    case PROTOBUF_C_TYPE_STRING:
        return string_to_json(*(const char *const *) member);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_to_json(member);
    default: { /* message; the integers were handled above */
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *) member;

        return sub ? message_to_json(sub, flags) : checked(json_null());
    }
    }
}

/* Whether a singular field goes into the output. An absent sub-message is
 * never written, not even with JM_JSON_DEFAULTS: writing {} would make it
 * present when read back. */
static bool
is_written(const char *base, const ProtobufCFieldDescriptor *f, unsigned flags)
{
    static const unsigned char zero[sizeof(uint64_t)];
    const void *member = base + f->offset;
    bool all = (flags & JM_JSON_DEFAULTS) != 0;

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *) (base + f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(const void *const *) member != NULL;
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL: /* proto2 */
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            const char *s = *(const char *const *) member;

            return s != NULL && (all || s != f->default_value);
        }
        return all ||
               *(const protobuf_c_boolean *) (base + f->quantifier_offset);
    default: /* proto3: no presence, zero is the default */
        break;
    }
    if (all)
        return true;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(const char *const *) member;

        return s != NULL && s[0] != '\0';
    }
    if (f->type == PROTOBUF_C_TYPE_BYTES)
        return ((const ProtobufCBinaryData *) member)->len != 0;
    /* All bytes zero, as protobuf-c's packer sees it: -0.0 is packed. */
    return memcmp(member, zero, types[f->type].size) != 0;
}

static json_t *
message_to_json(const ProtobufCMessage *msg, unsigned flags)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *base = (const char *) msg;
    json_t *obj = checked(json_object());
    unsigned i;

    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        json_t *value;
        int rc;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset), k;
            const char *array = *(const char *const *) (base + f->offset);

            if (n == 0 && !(flags & JM_JSON_DEFAULTS))
                continue;
            value = checked(json_array());
            for (k = 0; k < n; k++) {
                rc = json_array_append_new(
                    value,
                    value_to_json(f, array + k * types[f->type].size, flags));
                JM_ASSERT(rc == 0);
            }
        } else {
            if (!is_written(base, f, flags))
                continue;
            value = value_to_json(f, base + f->offset, flags);
        }
        rc = json_object_set_new(obj, f->name, value);
        JM_ASSERT(rc == 0);
    }
    return obj;
}

json_t *
jm_json_from_message(const ProtobufCMessage *msg, unsigned flags)
{
    JM_ASSERT(msg != NULL);
    JM_ASSERT(msg->descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    return message_to_json(msg, flags);
}

/* ---- JSON -> message ------------------------------------------------ */

/* A message with its defaults, from malloc so that
 * protobuf_c_message_free_unpacked(msg, NULL) frees it. */
static ProtobufCMessage *
message_new(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = jm_xmalloc(desc->sizeof_message);

    protobuf_c_message_init(desc, msg);
    return msg;
}

/* "-?[0-9]+" exactly (no spaces, no '+', no leading junk that strtoull
 * would accept) into a sign and a magnitude. 0 on success, -1 if not a
 * decimal number, -ERANGE past 2^64-1. */
static int
parse_decimal(const char *s, size_t len, bool *negative, uint64_t *magnitude)
{
    size_t i = 0;
    uint64_t m = 0;

    *negative = len > 0 && s[0] == '-';
    if (*negative)
        i++;
    if (i == len)
        return -1;
    for (; i < len; i++) {
        unsigned digit = (unsigned) (s[i] - '0');

        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (m > (UINT64_MAX - digit) / 10)
            return -ERANGE;
        m = m * 10 + digit;
    }
    *magnitude = m;
    return 0;
}

/* Every integer type: a JSON integer, or for 64-bit types also a decimal
 * string (JSON numbers cannot carry all of them), within the type's range.
 * The value travels as sign and magnitude so that one check covers both
 * int64 and uint64 limits. */
static int
integer_from_json(struct ctx *c, const ProtobufCFieldDescriptor *f,
                  const json_t *json, void *member)
{
    const char *name = types[f->type].name;
    bool negative;
    uint64_t mag, max;
    int64_t min;

    if (json_is_integer(json)) {
        json_int_t v = json_integer_value(json);

        negative = v < 0;
        mag = negative ? (uint64_t) (-(v + 1)) + 1 : (uint64_t) v;
    } else if (json_is_string(json) && is_64bit(f->type)) {
        int rc = parse_decimal(json_string_value(json),
                               json_string_length(json), &negative, &mag);

        if (rc == -ERANGE)
            return fail(c, "out of range for %s", name);
        if (rc != 0)
            return fail(c, "expected a decimal integer");
    } else {
        return fail(c, "expected an integer, got %s", kind(json));
    }

    min = types[f->type].min;
    max = types[f->type].max;
    /* The magnitude of min is -(min + 1) + 1, computed without overflow. */
    if (negative ? mag > (uint64_t) (-(min + 1)) + 1 : mag > max)
        return fail(c, "out of range for %s", name);

    if (is_64bit(f->type)) {
        /* Two's complement: the cast gives -mag for negative values. */
        *(uint64_t *) member = negative ? 0 - mag : mag;
    } else {
        *(uint32_t *) member = (uint32_t) (negative ? 0 - mag : mag);
    }
    return 0;
}

/* float and double: a JSON real or integer, finite, and for float within
 * its range (a double past FLT_MAX would silently become infinity). */
static int
real_from_json(struct ctx *c, const ProtobufCFieldDescriptor *f,
               const json_t *json, void *member)
{
    double v;

    if (json_is_real(json))
        v = json_real_value(json);
    else if (json_is_integer(json))
        v = (double) json_integer_value(json);
    else
        return fail(c, "expected a number, got %s", kind(json));
    if (!isfinite(v))
        return fail(c, "not a finite number");
    if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
        *(double *) member = v;
        return 0;
    }
    if (fabs(v) > FLT_MAX)
        return fail(c, "out of range for float");
    *(float *) member = (float) v;
    return 0;
}

/* jansson guarantees valid UTF-8 in its strings (it checks on load and in
 * json_string()), but allows "\u0000"; a C string would end there and
 * "a\0evil" would compare equal to "a" (DESIGN.md 6), so refuse it. */
static int
string_from_json(struct ctx *c, const json_t *json, char **out)
{
    const char *text;
    size_t len;

    if (!json_is_string(json))
        return fail(c, "expected a string, got %s", kind(json));
    text = json_string_value(json);
    len = json_string_length(json);
    if (strlen(text) != len)
        return fail(c, "contains a NUL character");
    *out = jm_xstrndup(text, len);
    return 0;
}

static int
bytes_from_json(struct ctx *c, const json_t *json, ProtobufCBinaryData *out)
{
    const char *text;
    size_t len, max, n;
    unsigned char *data;

    if (!json_is_string(json))
        return fail(c, "expected a base64 string, got %s", kind(json));
    text = json_string_value(json);
    len = json_string_length(json);
    if (len == 0) {
        out->len = 0;
        out->data = NULL;
        return 0;
    }
    max = len / 4 * 3 + 3;
    data = jm_xmalloc(max);
    /* No characters to ignore and no end pointer: anything but exactly
     * padded base64 (including a NUL or a space) is an error. */
    if (sodium_base642bin(data, max, text, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(data);
        return fail(c, "invalid base64");
    }
    out->len = n;
    out->data = data;
    return 0;
}

static int message_from_json(struct ctx *c, ProtobufCMessage *msg,
                             const json_t *json);

/* One value into member (a singular field, or one array slot). Pointers are
 * stored only once the JSON type is right; a sub-message is stored before
 * it is filled, so that a failure inside it is freed with its parent. */
static int
value_from_json(struct ctx *c, const ProtobufCFieldDescriptor *f,
                const json_t *json, void *member)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return real_from_json(c, f, json, member);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(json))
            return fail(c, "expected true or false, got %s", kind(json));
        *(protobuf_c_boolean *) member = json_is_true(json);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return enum_from_json(c, f->descriptor, json, member);
    case PROTOBUF_C_TYPE_STRING:
        return string_from_json(c, json, member);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_from_json(c, json, member);
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub;

        if (!json_is_object(json))
            return fail(c, "expected an object, got %s", kind(json));
        sub = message_new(f->descriptor);
        *(ProtobufCMessage **) member = sub;
        return message_from_json(c, sub, json);
    }
    default:
        return integer_from_json(c, f, json, member);
    }
}

/* A repeated field: the array is allocated whole and stored at once; the
 * count grows as elements are stored, so free_unpacked() sees exactly the
 * elements that hold something. */
static int
repeated_from_json(struct ctx *c, char *base, const ProtobufCFieldDescriptor *f,
                   const json_t *json)
{
    size_t *count = (size_t *) (base + f->quantifier_offset);
    size_t size = types[f->type].size, n, i;
    char *array;

    if (!json_is_array(json))
        return fail(c, "expected an array, got %s", kind(json));
    n = json_array_size(json);
    if (n == 0)
        return 0;
    array = jm_xcalloc(n, size);
    *(char **) (base + f->offset) = array;
    for (i = 0; i < n; i++) {
        char *slot = array + i * size;
        size_t mark = path_push(c, NULL, i, true);
        int rc = value_from_json(c, f, json_array_get(json, i), slot);

        if (rc == 0 || (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                        *(ProtobufCMessage **) slot != NULL))
            *count = i + 1;
        if (rc != 0)
            return rc;
        path_pop(c, mark);
    }
    return 0;
}

/* A singular field, with the bookkeeping of oneofs and proto2 presence. */
static int
field_from_json(struct ctx *c, ProtobufCMessage *msg,
                const ProtobufCFieldDescriptor *f, const json_t *json)
{
    char *base = (char *) msg;
    void *member = base + f->offset;
    uint32_t *which = NULL;
    int rc;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_from_json(c, base, f, json);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        which = (uint32_t *) (base + f->quantifier_offset);
        if (*which != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(msg->descriptor,
                                                        *which);

            return fail(c, "only one of %s, %s may be set",
                        other ? other->name : "?", f->name);
        }
    }
    rc = value_from_json(c, f, json, member);
    /* A oneof's case must cover a stored sub-message even on failure, or
     * free_unpacked() would not look at the union. */
    if (which != NULL && (rc == 0 || (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                                      *(ProtobufCMessage **) member != NULL)))
        *which = f->id;
    if (rc == 0 && which == NULL && f->label == PROTOBUF_C_LABEL_OPTIONAL &&
        f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *) (base + f->quantifier_offset) = 1;
    return rc;
}

static int
message_from_json(struct ctx *c, ProtobufCMessage *msg, const json_t *json)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    /* jansson's iteration API takes non-const pointers; it does not write. */
    json_t *object = (json_t *) json;
    const char *key;
    size_t key_len, mark;
    json_t *value;
    unsigned i;
    int rc;

    json_object_keylen_foreach(object, key, key_len, value)
    {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, key);

        mark = path_push(c, key, 0, false);
        if (f == NULL || strlen(key) != key_len)
            return fail(c, "unknown field");
        if ((rc = field_from_json(c, msg, f, value)) != 0)
            return rc;
        path_pop(c, mark);
    }
    /* proto2 only; proto3 has no required fields. */
    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];

        if (f->label == PROTOBUF_C_LABEL_REQUIRED &&
            json_object_get(json, f->name) == NULL) {
            path_push(c, f->name, 0, false);
            return fail(c, "missing required field");
        }
    }
    return 0;
}

int
jm_json_to_message(const json_t *json, const ProtobufCMessageDescriptor *desc,
                   ProtobufCMessage **msg_p, char *err, size_t err_size)
{
    struct ctx c = {.err = err, .err_size = err_size};
    ProtobufCMessage *msg = NULL;
    int rc;

    JM_ASSERT(json != NULL);
    JM_ASSERT(desc != NULL &&
              desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    JM_ASSERT(msg_p != NULL);
    JM_ASSERT(err != NULL || err_size == 0);
    *msg_p = NULL;
    if (err_size > 0)
        err[0] = '\0';
    if (!json_is_object(json)) {
        rc = fail(&c, "expected an object for %s, got %s", desc->short_name,
                  kind(json));
        goto fail;
    }
    msg = message_new(desc);
    if ((rc = message_from_json(&c, msg, json)) != 0)
        goto fail;
    *msg_p = msg;
    return 0;

fail:
    jm_json_message_free(msg);
    return rc;
}

void
jm_json_message_free(ProtobufCMessage *msg)
{
    if (msg != NULL)
        protobuf_c_message_free_unpacked(msg, NULL);
}
