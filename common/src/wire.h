/* wire.h - the protobuf wire walk that runs before protobuf-c sees a frame
 * (internal to jm_common; used by msg.c).
 *
 * jm__wire_check() reads the bytes the way a protobuf decoder would, guided
 * by the message descriptors, and refuses what protobuf-c would either
 * reject anyway (bad tags, truncation, wrong wire types: MALFORMED) or
 * accept although it is not valid for us (strings that are not UTF-8 or
 * hold a NUL, enum values the schema does not know: INVALID_FIELD). It
 * allocates nothing and keeps its own bounded stack, so hostile nesting
 * costs neither memory nor C stack. */
#ifndef JM_WIRE_H
#define JM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "jm/msg.h"

/* Deepest nesting of messages accepted, counting the top-level message.
 * The schema has no recursive types, so legitimate messages stay far
 * below; the cap also bounds protobuf-c's own recursion. */
#define JM__WIRE_MAX_DEPTH 32

/* Checks data[0..size) as a message of desc. Returns 0, or -EPROTO with err
 * filled (MALFORMED or INVALID_FIELD, and the field path). */
int jm__wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                   size_t size, jm_error *err);

#endif
