/* json.h - protobuf-c messages to and from JSON (jansson), driven by the
 * message descriptors, so every message of proto/ has a JSON form without
 * hand-written code.
 *
 * Mapping (close to protobuf's canonical JSON):
 *   - keys are the .proto field names ("essential_skills");
 *   - enums are written as their full value names ("JOB_KIND_ORDINARY")
 *     and read from the full name, the name without its prefix in any case
 *     ("ordinary"), or the number;
 *   - 64-bit integers are JSON numbers (values stay below 2^53 in
 *     practice) and are also read from decimal strings;
 *   - bytes are base64 (standard alphabet, padded);
 *   - repeated fields are arrays, sub-messages objects;
 *   - on output, fields at their default (0, "", false, empty, NULL) are
 *     left out unless JM_JSON_DEFAULTS is given; a oneof writes its set
 *     member only.
 * Reading is strict: an unknown key, a wrong JSON type, an unknown enum
 * name or a number out of the field's range is an error naming the path. */
#ifndef JM_JSON_H
#define JM_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

enum {
    JM_JSON_DEFAULTS = 1 << 0, /* also write fields at their default */
};

/* Converts msg to a new JSON object. Caller owns the result (json_decref). */
json_t *jm_json_from_message(const ProtobufCMessage *msg, unsigned flags);

/* Builds a message of desc from a JSON object. On success returns 0 and
 * *msg_p is owned by the caller (free with jm_json_message_free). On
 * error returns -EINVAL and writes "path: reason" into err. */
int jm_json_to_message(const json_t *json,
                       const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **msg_p, char *err, size_t err_size);

/* Frees a message built by jm_json_to_message. Safe on NULL. */
void jm_json_message_free(ProtobufCMessage *msg);

/* The enum value's name without the enum's prefix, lower case:
 * JOB_KIND_ORDINARY -> "ordinary". Static storage per value; NULL for
 * unknown values. For readable tables. */
const char *jm_json_enum_short_name(const ProtobufCEnumDescriptor *desc,
                                    int value);

#endif
