/* test_msg_depth.c - the depth cap of jm_msg_unpack. The real schema has
 * no recursive type, so a small hand-written recursive descriptor shows
 * that nesting past the cap is refused rather than followed down the
 * stack, and that deep garbage inside an unknown or known field is
 * bounded. (The other hostile frames are in test_msg.c.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "msg_frames.h"

/* ---- a recursive type, which the schema does not have ---- */

typedef struct Node {
    ProtobufCMessage base;
    struct Node *child;
    char *name;
} Node;

static const ProtobufCMessageDescriptor node_descriptor;

static const ProtobufCFieldDescriptor node_fields[2] = {
    {.name = "child",
     .id = 1,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .offset = offsetof(Node, child),
     .descriptor = &node_descriptor},
    {.name = "name",
     .id = 2,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_STRING,
     .offset = offsetof(Node, name)},
};
static const unsigned node_by_name[2] = {0, 1};
static const ProtobufCIntRange node_ranges[2] = {{1, 0}, {0, 2}};

static void
node_init(ProtobufCMessage *message)
{
    Node *node = (Node *) message;

    memset(node, 0, sizeof(*node));
    node->base.descriptor = &node_descriptor;
    node->name = (char *) protobuf_c_empty_string;
}

static const ProtobufCMessageDescriptor node_descriptor = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "test.Node",
    .short_name = "Node",
    .c_name = "Node",
    .package_name = "test",
    .sizeof_message = sizeof(Node),
    .n_fields = 2,
    .fields = node_fields,
    .fields_sorted_by_name = node_by_name,
    .n_field_ranges = 1,
    .field_ranges = node_ranges,
    .message_init = node_init,
};

static size_t
varint_size(uint64_t v)
{
    size_t n = 1;

    while (v >>= 7)
        n++;
    return n;
}

/* depth nested messages (each the field of its parent) around a leaf
 * holding name. Lengths are worked out inside-out first, so that 100,000
 * levels take linear time. */
static struct buf
nest(size_t depth, uint32_t field, const char *name)
{
    size_t *lens = calloc(depth + 1, sizeof(*lens));
    struct buf b = {0};

    assert_non_null(lens);
    lens[0] = 1 + varint_size(strlen(name)) + strlen(name); /* the leaf */
    for (size_t i = 1; i <= depth; i++)
        lens[i] = varint_size((uint64_t) field << 3) +
                  varint_size(lens[i - 1]) + lens[i - 1];
    for (size_t i = depth; i > 0; i--) {
        put_tag(&b, field, 2);
        put_varint(&b, lens[i - 1]);
    }
    put_str(&b, 2, name);
    assert_int_equal(b.len, lens[depth]);
    free(lens);
    return b;
}

static int
unpack_node(jm_msg_t **msg, const struct buf *b, jm_error *err)
{
    memset(err, 0, sizeof(*err));
    return jm_msg_unpack(msg, &node_descriptor, b->data, b->len, MAX_FRAME,
                         err);
}

static void
test_depth_is_capped(void **state)
{
    struct buf b;
    jm_msg_t *msg = NULL;
    jm_error err;
    Node *node;
    int depth = 0;
    char path[192] = "";

    (void) state;
    /* 31 children: 32 messages, the most accepted */
    b = nest(31, 1, "leaf");
    assert_int_equal(unpack_node(&msg, &b, &err), 0);
    for (node = (Node *) jm_msg_get(msg); node->child; node = node->child)
        depth++;
    assert_int_equal(depth, 31);
    assert_string_equal(node->name, "leaf");
    jm_msg_free(&msg);
    buf_free(&b);

    /* one more is malformed, reported at the child that is too deep */
    b = nest(32, 1, "leaf");
    assert_int_equal(unpack_node(&msg, &b, &err), -EPROTO);
    assert_int_equal(err.code, JM_E_MALFORMED);
    for (int i = 0; i < 32; i++) /* 191 characters: fits the 192 */
        memcpy(path + (i ? 6 * i - 1 : 0), i ? ".child" : "child", i ? 7 : 6);
    assert_string_equal(err.field_path, path);
    assert_null(msg);
    buf_free(&b);

    /* 100,000 levels cost the walk nothing: no recursion, no allocation */
    b = nest(100000, 1, "leaf");
    assert_int_equal(unpack_node(&msg, &b, &err), -EPROTO);
    assert_int_equal(err.code, JM_E_MALFORMED);
    buf_free(&b);

    /* a bad string 20 levels down names its whole path */
    b = nest(20, 1, "bad\xff");
    assert_int_equal(unpack_node(&msg, &b, &err), -EPROTO);
    assert_int_equal(err.code, JM_E_INVALID_FIELD);
    memcpy(path + 119, ".name", 6); /* after 20 segments: 5 + 19 x 6 */
    assert_string_equal(err.field_path, path);
    buf_free(&b);
}

static void
test_nested_garbage_in_unknown_field(void **state)
{
    struct buf garbage = nest(5000, 1, "x");
    struct buf b = {0};
    jm_msg_t *msg = NULL;
    jm_error err;
    int rc;

    (void) state;
    /* In an unknown field it is skipped whole: the walk does not guess
     * that the bytes are messages. */
    put_len(&b, 1, request_id, 16);
    put_len(&b, 99, garbage.data, garbage.len);
    assert_int_equal(unpack_request(&msg, &b, &err), 0);
    assert_true(jm_msg_has_unknown_fields(jm_msg_get(msg)));
    jm_msg_free(&msg);
    buf_free(&b);

    /* In a known message field it is read as that message (order.id =
     * field 1, a string of tag bytes); whatever the verdict, bounded. */
    b = wrap_order(&garbage);
    rc = unpack_request(&msg, &b, &err);
    assert_true(rc == 0 || rc == -EPROTO);
    jm_msg_free(&msg);
    buf_free(&b);
    buf_free(&garbage);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_is_capped),
        cmocka_unit_test(test_nested_garbage_in_unknown_field),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
