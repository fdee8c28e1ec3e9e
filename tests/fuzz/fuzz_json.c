/* fuzz_json.c - any bytes as the JSON a user gives the CLI (`order submit
 * FILE`, `profile put FILE`, or any request's --json output edited and
 * sent back): parsed by jansson, turned into the protobuf message by
 * jm_json_to_message, and, when accepted, turned back into JSON and
 * packed for the wire.
 *
 * What must hold: no crash or sanitizer report; a refusal says why; an
 * accepted message packs, and its JSON converts again to a message whose
 * packed bytes are the same (the JSON mapping loses nothing). */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jm/json.h"
#include "jm/msg.h"
#include "jobmatch/v1/envelope.pb-c.h"

static const ProtobufCMessageDescriptor *const targets[] = {
    &jobmatch__v1__job_order__descriptor,
    &jobmatch__v1__put_profile__descriptor,
    &jobmatch__v1__request__descriptor,
};

static void
one(const json_t *json, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = NULL, *again = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    char err[256] = "";
    json_t *back;

    if (jm_json_to_message(json, desc, &msg, err, sizeof(err)) != 0) {
        fuzz_check(msg == NULL && err[0] != '\0');
        return;
    }
    fuzz_check(jm_msg_pack(msg, &a, &na) == 0);
    back = jm_json_from_message(msg, 0);
    fuzz_check(back != NULL);
    fuzz_check(jm_json_to_message(back, desc, &again, err, sizeof(err)) == 0);
    fuzz_check(jm_msg_pack(again, &b, &nb) == 0);
    fuzz_check(na == nb && memcmp(a, b, na) == 0);
    json_decref(back);
    free(a);
    free(b);
    jm_json_message_free(msg);
    jm_json_message_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json = json_loadb((const char *) data, size, 0, &jerr);

    if (json == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        one(json, targets[i]);
    json_decref(json);
    return 0;
}

/* The shipped examples, and a request as `--json` prints one. */
int
fuzz_write_seeds(const char *dir)
{
    static const char *const files[] = {"job-order.json", "profile.json"};
    static const char request[] =
        "{\"request_id\":\"MDEyMzQ1Njc4OWFiY2RlZg==\",\"match_order\":"
        "{\"order_id\":\"jo-23ocaqeflg6eyxj3ozbv\",\"top_k\":5,\"explain\":"
        "true}}";
    int n = 0;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[4096];
        json_t *json;
        char *text;

        snprintf(path, sizeof(path), "%s/docs/examples/%s", JM_SOURCE_DIR,
                 files[i]);
        if ((json = json_load_file(path, 0, NULL)) == NULL)
            return -1;
        text = json_dumps(json, JSON_COMPACT);
        n += fuzz_write_file(dir, files[i], text, strlen(text)) == 0;
        free(text);
        json_decref(json);
    }
    n += fuzz_write_file(dir, "match_order.json", request,
                         sizeof(request) - 1) == 0;
    return n;
}
