/* wire.c - walk a protobuf frame with the descriptors before unpacking it.
 *
 * protobuf-c 1.4.1 checks the encoding but nothing above it (DESIGN.md
 * section 6), and it recurses as deep as the bytes say. So every frame is
 * read once here first, the way a decoder would, and protobuf-c only ever
 * sees bytes that are well-formed, shallow enough, and whose strings and
 * enum values are ones we accept.
 *
 * The walk keeps an explicit stack of the messages it is inside (one frame
 * per length-delimited sub-message of a known message field) and allocates
 * nothing. Field paths are rebuilt only when something fails: the index of
 * a repeated field is found by counting its earlier occurrences in the
 * enclosing message, which is cheaper than keeping counters for every
 * field of every frame on the happy path. */
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Wire types (protobuf encoding guide). 3 and 4 are the deprecated groups,
 * which proto3 never produces and protobuf-c cannot skip: malformed. */
enum {
    WT_VARINT = 0,
    WT_I64 = 1,
    WT_LEN = 2,
    WT_I32 = 5,
};

#define MAX_FIELD_NUMBER ((1u << 29) - 1)
#define MAX_VARINT_BYTES 10
#define MAX_HEADER_BYTES 5

/* One message being walked. */
struct frame {
    const ProtobufCMessageDescriptor *desc;
    const ProtobufCFieldDescriptor *field; /* in the parent; NULL at top */
    size_t tag_at;                         /* where field's tag is */
    size_t start;                          /* first byte of the message */
    size_t end;                            /* one past its last byte */
    size_t pos;                            /* next tag to read */
    unsigned next;                         /* desc->fields index after
                                              the last field read */
};

struct walk {
    const uint8_t *data;
    jm_error *err;
    int depth;
    struct frame stack[JM__WIRE_MAX_DEPTH];
};

/* A value as found on the wire after its tag. */
struct value {
    uint64_t number; /* the varint itself, or the length of WT_LEN */
    size_t at;       /* first byte of the payload (after a length) */
    size_t len;      /* bytes of payload */
};

/* Reads a varint of at most max_bytes at *pos that must end before end.
 * In the 10th byte of a 64-bit varint only the lowest bit fits: anything
 * more is refused rather than silently truncated. */
static bool
read_varint_max(const uint8_t *data, size_t *pos, size_t end, int max_bytes,
                uint64_t *out)
{
    uint64_t value = 0;
    size_t p = *pos;

    for (int i = 0; i < max_bytes; i++, p++) {
        if (p >= end)
            return false;
        if (i == MAX_VARINT_BYTES - 1 && data[p] > 1)
            return false;
        value |= (uint64_t) (data[p] & 0x7f) << (7 * i);
        if ((data[p] & 0x80) == 0) {
            *pos = p + 1;
            *out = value;
            return true;
        }
    }
    return false;
}

static bool
read_varint(const uint8_t *data, size_t *pos, size_t end, uint64_t *out)
{
    return read_varint_max(data, pos, end, MAX_VARINT_BYTES, out);
}

/* Tags and length prefixes: protobuf-c 1.4.1 reads at most 5 bytes of
 * either (enough for any 32-bit value) and refuses padded longer forms.
 * Refusing them here too keeps the walk's verdict the final one, with a
 * field path, instead of protobuf-c's unexplained NULL. */
static bool
read_varint32(const uint8_t *data, size_t *pos, size_t end, uint64_t *out)
{
    return read_varint_max(data, pos, end, MAX_HEADER_BYTES, out);
}

/* Reads the value of wire type wt at *pos (bounded by end) and moves *pos
 * past it. False if it is truncated or runs past the enclosing message. */
static bool
read_value(const uint8_t *data, size_t *pos, size_t end, int wt,
           struct value *v)
{
    size_t width;

    v->number = 0;
    switch (wt) {
    case WT_VARINT:
        v->at = *pos;
        if (!read_varint(data, pos, end, &v->number))
            return false;
        v->len = *pos - v->at;
        return true;
    case WT_LEN:
        if (!read_varint32(data, pos, end, &v->number) ||
            v->number > end - *pos)
            return false;
        width = (size_t) v->number;
        break;
    case WT_I64:
        width = 8;
        break;
    case WT_I32:
        width = 4;
        break;
    default:
        return false;
    }
    if (width > end - *pos)
        return false;
    v->at = *pos;
    v->len = width;
    *pos += width;
    return true;
}

/* The wire type a field's values use when not packed. */
static int
wire_type_of(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM:
        return WT_VARINT;
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return WT_I32;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return WT_I64;
    default: /* STRING, BYTES, MESSAGE */
        return WT_LEN;
    }
}

/* A repeated scalar may come packed (one length-delimited run), and a
 * conforming parser must accept both forms (protobuf-c does). */
static bool
is_packed(const ProtobufCFieldDescriptor *field, int wt)
{
    return wt == WT_LEN && field->label == PROTOBUF_C_LABEL_REPEATED &&
           wire_type_of(field->type) != WT_LEN;
}

/* protobuf-c stores an enum as the low 32 bits of the varint (int32_t).
 * Only varints that are an int32 sign-extended to 64 bits are accepted, so
 * that 2^32 + 1 cannot pass as 1. */
static bool
enum_value_ok(const ProtobufCEnumDescriptor *desc, uint64_t raw)
{
    int32_t value = (int32_t) (uint32_t) raw;

    if ((uint64_t) (int64_t) value != raw)
        return false;
    return protobuf_c_enum_descriptor_get_value(desc, value) != NULL;
}

/* Elements that occurrences of field hold in frame f before offset stop
 * (the index of the next one). Everything before stop was read once
 * already, so it parses. */
static size_t
count_before(const uint8_t *data, const struct frame *f,
             const ProtobufCFieldDescriptor *field, size_t stop)
{
    size_t pos = f->start;
    size_t count = 0;
    uint64_t tag;
    struct value v;

    while (pos < stop && read_varint32(data, &pos, stop, &tag) &&
           read_value(data, &pos, stop, (int) (tag & 7), &v)) {
        if ((tag >> 3) != field->id)
            continue;
        if (!is_packed(field, (int) (tag & 7))) {
            count++;
        } else if (wire_type_of(field->type) == WT_I32) {
            count += v.len / 4;
        } else if (wire_type_of(field->type) == WT_I64) {
            count += v.len / 8;
        } else {
            for (size_t i = 0; i < v.len; i++) /* one last byte each */
                count += (data[v.at + i] & 0x80) == 0;
        }
    }
    return count;
}

/* Appends "name" or "name[i]" (with a dot unless first) to buf. The path
 * is cut at the buffer's size; it is diagnostic text. */
static void
append_segment(char *buf, size_t size, const char *name, bool repeated,
               size_t index)
{
    size_t used = strlen(buf);

    if (used + 1 >= size)
        return;
    (void) snprintf(buf + used, size - used, "%s%s", used ? "." : "", name);
    used = strlen(buf);
    if (repeated && used + 1 < size)
        (void) snprintf(buf + used, size - used, "[%zu]", index);
}

/* The path of field (NULL: of the innermost message itself) whose tag is
 * at tag_at in the innermost frame; extra is the element's position within
 * a packed run. The top-level message has no name in the path. */
static void
build_path(const struct walk *w, const ProtobufCFieldDescriptor *field,
           size_t tag_at, size_t extra, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 1; i < w->depth; i++) {
        const struct frame *f = &w->stack[i];
        bool repeated = f->field->label == PROTOBUF_C_LABEL_REPEATED;
        size_t index = repeated ? count_before(w->data, &w->stack[i - 1],
                                               f->field, f->tag_at)
                                : 0;

        append_segment(buf, size, f->field->name, repeated, index);
    }
    if (field != NULL) {
        bool repeated = field->label == PROTOBUF_C_LABEL_REPEATED;
        size_t index = 0;

        if (repeated)
            index =
                count_before(w->data, &w->stack[w->depth - 1], field, tag_at) +
                extra;
        append_segment(buf, size, field->name, repeated, index);
    }
}

/* Records the first error with its path and returns false. */
__attribute__((format(printf, 6, 7))) static bool
fail(struct walk *w, int code, const ProtobufCFieldDescriptor *field,
     size_t tag_at, size_t extra, const char *fmt, ...)
{
    char path[sizeof(w->err->field_path)];
    char message[sizeof(w->err->message)];
    va_list ap;

    build_path(w, field, tag_at, extra, path, sizeof(path));
    va_start(ap, fmt);
    /* clang-tidy 14 loses va_start when it inlines a static variadic
     * function into its callers, hence: */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void) vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    return jm_error_set(w->err, code, path, "%s", message);
}

/* A packed run of scalars: whole elements only, and every enum value
 * known. */
static bool
check_packed(struct walk *w, const ProtobufCFieldDescriptor *field,
             size_t tag_at, const struct value *v)
{
    int wt = wire_type_of(field->type);
    size_t pos = v->at;
    size_t end = v->at + v->len;
    uint64_t raw;

    if (wt == WT_I32 || wt == WT_I64) {
        size_t width = wt == WT_I32 ? 4 : 8;

        if (v->len % width != 0)
            return fail(w, JM_E_MALFORMED, field, tag_at, 0,
                        "packed run of %zu bytes is not a multiple of %zu",
                        v->len, width);
        return true;
    }
    for (size_t index = 0; pos < end; index++) {
        if (!read_varint(w->data, &pos, end, &raw))
            return fail(w, JM_E_MALFORMED, field, tag_at, index,
                        "truncated or overlong varint in a packed run");
        if (field->type == PROTOBUF_C_TYPE_ENUM &&
            !enum_value_ok(field->descriptor, raw)) {
            const ProtobufCEnumDescriptor *e = field->descriptor;

            return fail(w, JM_E_INVALID_FIELD, field, tag_at, index,
                        "%lld is not a value of %s", (long long) raw, e->name);
        }
    }
    return true;
}

/* The value of a known field, once its wire type matched: strings, enums,
 * packed runs, and sub-messages (pushed, to be walked next). */
static bool
check_value(struct walk *w, const ProtobufCFieldDescriptor *field,
            size_t tag_at, int wt, const struct value *v)
{
    const uint8_t *bytes = w->data + v->at;

    if (wt == WT_VARINT && field->type == PROTOBUF_C_TYPE_ENUM &&
        !enum_value_ok(field->descriptor, v->number)) {
        const ProtobufCEnumDescriptor *e = field->descriptor;

        return fail(w, JM_E_INVALID_FIELD, field, tag_at, 0,
                    "%lld is not a value of %s", (long long) v->number,
                    e->name);
    }
    if (wt != WT_LEN)
        return true;
    if (is_packed(field, wt))
        return check_packed(w, field, tag_at, v);
    if (field->type == PROTOBUF_C_TYPE_STRING) {
        /* A NUL would cut the char * that protobuf-c hands out: "a\0evil"
         * would read as "a". */
        if (!jm_utf8_valid(bytes, v->len))
            return fail(w, JM_E_INVALID_FIELD, field, tag_at, 0,
                        "string is not valid UTF-8");
        if (memchr(bytes, '\0', v->len) != NULL)
            return fail(w, JM_E_INVALID_FIELD, field, tag_at, 0,
                        "string holds a NUL byte");
        return true;
    }
    if (field->type != PROTOBUF_C_TYPE_MESSAGE)
        return true; /* bytes: anything goes */
    if (w->depth == JM__WIRE_MAX_DEPTH)
        return fail(w, JM_E_MALFORMED, field, tag_at, 0,
                    "messages nested deeper than %d", JM__WIRE_MAX_DEPTH);
    w->stack[w->depth++] = (struct frame){
        .desc = field->descriptor,
        .field = field,
        .tag_at = tag_at,
        .start = v->at,
        .end = v->at + v->len,
        .pos = v->at,
    };
    return true;
}

/* The descriptor of field number in f's message, or NULL if it has none.
 * Packers write fields in number order, and a repeated field's items one
 * after the other: the field read last, or the one after it in the
 * descriptor, is most often the one, and is tried before protobuf-c's
 * binary search (which was 1 % of intake's loop thread). */
static const ProtobufCFieldDescriptor *
field_of(struct frame *f, unsigned number)
{
    const ProtobufCMessageDescriptor *d = f->desc;
    const ProtobufCFieldDescriptor *field;

    if (f->next < d->n_fields && d->fields[f->next].id == number)
        return &d->fields[f->next++];
    if (f->next > 0 && d->fields[f->next - 1].id == number)
        return &d->fields[f->next - 1];
    field = protobuf_c_message_descriptor_get_field(d, number);
    if (field != NULL)
        f->next = (unsigned) (field - d->fields) + 1;
    return field;
}

/* Reads one field (tag and value) of the innermost message. */
static bool
step(struct walk *w)
{
    struct frame *f = &w->stack[w->depth - 1];
    const ProtobufCFieldDescriptor *field;
    size_t tag_at = f->pos;
    uint64_t tag;
    uint64_t number;
    struct value v;
    int wt;

    if (!read_varint32(w->data, &f->pos, f->end, &tag) || tag > UINT32_MAX)
        return fail(w, JM_E_MALFORMED, NULL, 0, 0,
                    "bad or truncated tag at byte %zu", tag_at);
    number = tag >> 3;
    wt = (int) (tag & 7);
    if (number == 0 || number > MAX_FIELD_NUMBER)
        return fail(w, JM_E_MALFORMED, NULL, 0, 0,
                    "field number %llu at byte %zu is out of range",
                    (unsigned long long) number, tag_at);
    if (wt != WT_VARINT && wt != WT_I64 && wt != WT_LEN && wt != WT_I32)
        return fail(w, JM_E_MALFORMED, NULL, 0, 0,
                    "wire type %d at byte %zu is not supported", wt, tag_at);
    /* Unknown numbers (a newer peer) are read past, not looked into. */
    field = field_of(f, (unsigned) number);
    if (!read_value(w->data, &f->pos, f->end, wt, &v))
        return fail(w, JM_E_MALFORMED, field, tag_at, 0,
                    "value of field %llu at byte %zu is truncated or runs "
                    "past its message",
                    (unsigned long long) number, tag_at);
    if (field == NULL)
        return true;
    if (wt != wire_type_of(field->type) && !is_packed(field, wt))
        return fail(w, JM_E_MALFORMED, field, tag_at, 0,
                    "wire type %d where %d was expected", wt,
                    wire_type_of(field->type));
    return check_value(w, field, tag_at, wt, &v);
}

int
jm__wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
               size_t size, jm_error *err)
{
    struct walk w;

    w.data = data;
    w.err = err;
    w.depth = 1;
    w.stack[0] =
        (struct frame){.desc = desc, .start = 0, .end = size, .pos = 0};
    while (w.depth > 0) {
        struct frame *f = &w.stack[w.depth - 1];

        if (f->pos == f->end) {
            w.depth--; /* this message is done; back to its parent */
            continue;
        }
        if (!step(&w))
            return -EPROTO;
    }
    return 0;
}
