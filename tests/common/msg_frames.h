/* msg_frames.h - hand-encoded protobuf frames for the tests of jm/msg.h
 * (test_msg.c, test_msg_depth.c): a byte builder for what protobuf-c
 * would refuse to produce, a Request wrapping an order's bytes, and the
 * unpack the tests call. Header-only: each test is its own executable. */
#ifndef MSG_FRAMES_H
#define MSG_FRAMES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jm/msg.h"
#include "jm_test.h"
#include "jobmatch/v1/envelope.pb-c.h"

#define MAX_FRAME ((size_t) 1024 * 1024)

/* ---- a byte builder for hand-encoded frames ---- */

struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

static inline void
put_bytes(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void
put_varint(struct buf *b, uint64_t v)
{
    uint8_t c;

    do {
        c = (uint8_t) (v & 0x7f);
        v >>= 7;
        if (v != 0)
            c |= 0x80;
        put_bytes(b, &c, 1);
    } while (v != 0);
}

static inline void
put_tag(struct buf *b, uint32_t field, int wire_type)
{
    put_varint(b, ((uint64_t) field << 3) | (uint64_t) wire_type);
}

/* A length-delimited field. */
static inline void
put_len(struct buf *b, uint32_t field, const void *p, size_t n)
{
    put_tag(b, field, 2);
    put_varint(b, n);
    put_bytes(b, p, n);
}

static inline void
put_str(struct buf *b, uint32_t field, const char *s)
{
    put_len(b, field, s, strlen(s));
}

static inline void
put_uint(struct buf *b, uint32_t field, uint64_t v)
{
    put_tag(b, field, 0);
    put_varint(b, v);
}

static inline void
buf_free(struct buf *b)
{
    free(b->data);
    *b = (struct buf){0};
}

static const uint8_t request_id[16] = "0123456789abcdef";

/* Request{request_id, submit_order{order{<order>}}}. */
static inline struct buf
wrap_order(const struct buf *order)
{
    struct buf submit = {0};
    struct buf req = {0};

    put_len(&req, 1, request_id, sizeof(request_id));
    put_len(&submit, 1, order->data, order->len);
    put_len(&req, 10, submit.data, submit.len);
    buf_free(&submit);
    return req;
}

static inline int
unpack_request(jm_msg_t **msg, const struct buf *b, jm_error *err)
{
    memset(err, 0, sizeof(*err));
    return jm_msg_unpack(msg, &jobmatch__v1__request__descriptor, b->data,
                         b->len, MAX_FRAME, err);
}

#endif
