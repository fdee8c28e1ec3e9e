/* msg.h - protobuf-c messages in and out, and the validation helpers that
 * turn bad input into a jobmatch.v1.Error.
 *
 * protobuf-c checks only the wire encoding (DESIGN.md section 6): no UTF-8
 * check on strings, an embedded NUL silently truncates a char *, enum values
 * are not range-checked, and an empty repeated sub-message costs ~50 times
 * its wire size once unpacked. jm_msg_unpack therefore:
 *   1. rejects frames above max_size (TOO_LARGE);
 *   2. walks the wire bytes with the message descriptors (iteratively
 *      bounded: the schema has no recursive types) and rejects bad wire
 *      types, lengths past the end and truncation (MALFORMED), strings that
 *      are not UTF-8 or hold a NUL, and enum values the schema does not
 *      know (INVALID_FIELD), each with the field path;
 *   3. unpacks with an arena allocator capped at a multiple of the wire
 *      size, so that amplification fails cleanly (TOO_LARGE).
 * Field paths use the .proto names: "submit_order.order.essential_skills[2]
 * .skill_uri". */
#ifndef JM_MSG_H
#define JM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "jobmatch/v1/error.pb-c.h"

/* Short names for the wire error codes. */
#define JM_E_TOO_LARGE     JOBMATCH__V1__ERROR_CODE__ERROR_CODE_TOO_LARGE
#define JM_E_MALFORMED     JOBMATCH__V1__ERROR_CODE__ERROR_CODE_MALFORMED
#define JM_E_UNSUPPORTED   JOBMATCH__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED_TYPE
#define JM_E_INVALID_FIELD JOBMATCH__V1__ERROR_CODE__ERROR_CODE_INVALID_FIELD
#define JM_E_NOT_FOUND     JOBMATCH__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND
#define JM_E_CONFLICT      JOBMATCH__V1__ERROR_CODE__ERROR_CODE_CONFLICT
#define JM_E_PERMISSION_DENIED \
    JOBMATCH__V1__ERROR_CODE__ERROR_CODE_PERMISSION_DENIED
#define JM_E_UNAVAILABLE JOBMATCH__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE

/* A validation outcome on its way to becoming a wire Error. code 0 means
 * "no error". */
typedef struct jm_error {
    int code; /* a JM_E_* value */
    bool retryable;
    char field_path[192];
    char message[256];
} jm_error;

/* Fills err (printf-style message) and returns false, so that validators
 * can write "return jm_error_set(err, ...)". The first error wins: if err
 * already holds one, it is kept. */
bool jm_error_set(jm_error *err, int code, const char *field_path,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Copies err into a wire Error (strings point into err: keep err alive
 * until the reply is packed). */
void jm_error_to_wire(const jm_error *err, Jobmatch__V1__Error *wire);

/* Name of a JM_E_* code: "invalid_field", "not_found", ... */
const char *jm_error_code_name(int code);

/* ---- unpack and pack ---- */

/* An unpacked message and the arena that holds it. */
typedef struct jm_msg jm_msg_t;

/* The arena may grow to decoded_factor x size + decoded_slack bytes. */
#define JM_MSG_DECODED_FACTOR 16
#define JM_MSG_DECODED_SLACK  (64 * 1024)

/* Validates and unpacks data as a message of desc (see the file comment).
 * On success returns 0 and *msg_p owns the message (free with
 * jm_msg_free). On failure returns -EPROTO (or -EMSGSIZE for the size
 * checks), fills err, and *msg_p is NULL. */
int jm_msg_unpack(jm_msg_t **msg_p, const ProtobufCMessageDescriptor *desc,
                  const void *data, size_t size, size_t max_size,
                  jm_error *err);

/* The unpacked message; borrowed, valid until jm_msg_free. Cast it to the
 * generated type of the descriptor. */
ProtobufCMessage *jm_msg_get(jm_msg_t *msg);

/* Bytes the arena holds (for tests of the memory bound). */
size_t jm_msg_arena_size(const jm_msg_t *msg);

/* Safe on NULL; sets *msg_p to NULL. */
void jm_msg_free(jm_msg_t **msg_p);

/* Packs msg into a new buffer. Caller owns *data_p (free()). Returns 0;
 * packing a valid message cannot fail. */
int jm_msg_pack(const ProtobufCMessage *msg, uint8_t **data_p, size_t *size_p);

/* Appends to out a length-delimited field (a sub-message, bytes or a
 * string already packed): its tag, the length and the bytes. Returns the
 * bytes written, at most JM_WIRE_LEN_FIELD_MAX(size). A message is its
 * fields in any order, so a packed message with such a field appended is
 * that message with the field set: what is packed once can be carried
 * into an envelope without unpacking and packing it again. */
#define JM_WIRE_LEN_FIELD_MAX(size) (5 + 10 + (size))
size_t jm_wire_put_len_field(uint8_t *out, uint32_t field, const void *data,
                             size_t size);

/* Appends a varint field (tag and value; enums, integers >= 0). Returns
 * the bytes written, at most JM_WIRE_VARINT_FIELD_MAX. */
#define JM_WIRE_VARINT_FIELD_MAX (5 + 10)
size_t jm_wire_put_varint_field(uint8_t *out, uint32_t field, uint64_t value);

/* True if the message (top level only) carries fields this build does not
 * know: with its oneof unset, that is "unsupported type", not
 * "malformed". */
bool jm_msg_has_unknown_fields(const ProtobufCMessage *msg);

/* ---- validation helpers: each returns true when the value is fine, else
 * fills err (first error wins) and returns false. path is the field path
 * to report. ---- */

/* Builds a field path with printf syntax into buf and returns buf. */
const char *jm_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool jm_utf8_valid(const void *data, size_t len);

/* A free-text field: length in bytes <= max_len, at least 1 if required,
 * and no control characters except, if multiline, "\n" and "\t". (UTF-8 and
 * NUL were checked by jm_msg_unpack.) */
bool jm_check_text(jm_error *err, const char *path, const char *s,
                   size_t max_len, bool required, bool multiline);

/* Free text that people read as it is (a list on a terminal, a web page):
 * jm_check_text's rules, and also
 *   - no bidirectional embedding, override or isolate (U+202A-U+202E,
 *     U+2066-U+2069): a terminal reorders the text after one, so that what
 *     is shown is not what was sent;
 *   - single-line: no line or paragraph separator (U+2028, U+2029);
 *   - not blank: a value given holds something besides Unicode white
 *     space (and the invisible U+200B-U+200D, U+2060, U+FEFF).
 * The message names the code point and its position in characters. Marks
 * that only hint a direction (U+200E, U+200F, U+061C) are allowed: right-
 * to-left text needs them, and they move no text around them. */
bool jm_check_display_text(jm_error *err, const char *path, const char *s,
                           size_t max_len, bool required, bool multiline);

/* A pseudonymous profile id as the profiles service makes them: "p-" and
 * 20 characters of the lower-case base32 alphabet (a-z, 2-7). By form
 * only: whether such a citizen exists only profiles knows. The message
 * shows the form, never the value (a client that mixes up fields may have
 * sent a CPR number). */
#define JM_PROFILE_ID_LEN 22
bool jm_check_profile_id(jm_error *err, const char *path, const char *id,
                         bool required);

/* How far from its postcode's position (jm/dk.h) a point may lie. The
 * positions are GeoNames points, mostly in the postcode's main town; how
 * far a postcode's addresses lie from it is not in our data. What is: the
 * point of every postcode but those of the islands Anholt and Læsø has
 * another postcode's point within 18 km, so postcode areas are small next
 * to 50 km: a margin wide enough that no real address should be refused; what
 * the bound catches is a point in the wrong region (coordinates mistyped,
 * swapped, or of another place). */
#define JM_PLACE_RADIUS_KM 50.0

/* A Danish postcode and municipality as a Location carries them, fields
 * named under path ("home" gives "home.postcode"): postcode one of the
 * list; municipality_code one of the 98 and the postcode's own (the table
 * keeps one municipality per postcode, the main one: data/README.md). For
 * a place whose coordinates are not kept (a citizen's home: profiles
 * replaces them by the postcode's, and a message repeating them could
 * name a home). */
bool jm_check_dk_codes(jm_error *err, const char *path, const char *postcode,
                       const char *municipality_code);

/* A Danish place (a workplace): its codes as jm_check_dk_codes; latitude
 * and longitude both 0 (not given: the service fills the postcode's
 * position) or a point within JM_PLACE_RADIUS_KM of the postcode's
 * position (its municipality's centre for the three postcodes without
 * one). */
bool jm_check_dk_place(jm_error *err, const char *path, const char *postcode,
                       const char *municipality_code, double latitude,
                       double longitude);

/* An identifier: [A-Za-z0-9._:-], 1 to 64 bytes. Empty passes only when
 * not required. */
bool jm_check_id(jm_error *err, const char *path, const char *s, bool required);

/* Exactly n ASCII digits. */
bool jm_check_digits(jm_error *err, const char *path, const char *s, size_t n,
                     bool required);

bool jm_check_count(jm_error *err, const char *path, size_t count, size_t min,
                    size_t max);

bool jm_check_range(jm_error *err, const char *path, int64_t value, int64_t min,
                    int64_t max);

/* value must be a value of the enum; UNSPECIFIED (0) passes only when
 * allow_unspecified. */
bool jm_check_enum(jm_error *err, const char *path,
                   const ProtobufCEnumDescriptor *desc, int value,
                   bool allow_unspecified);

/* "YYYY-MM-DD", a real date of the years jm_date_parse accepts
 * (1900-2199; the message of a date outside says so). Empty passes when
 * not required (days_out is then left alone). days_out may be NULL. */
bool jm_check_date(jm_error *err, const char *path, const char *s,
                   bool required, int32_t *days_out);

/* A 16-byte request id. */
bool jm_check_request_id(jm_error *err, const char *path,
                         const ProtobufCBinaryData *id);

#endif
