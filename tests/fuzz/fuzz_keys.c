/* fuzz_keys.c - any bytes as the two files an operator writes for CURVE
 * (docs/operations.md, "Security"): an allow list ("PUBLIC_KEY_Z85
 * principal" per line) and a key file ("public KEY\nsecret KEY\n"). With
 * CURVE, the allow list is all that stands between a caller and the
 * service (libzmq without ZAP admits anyone), so its reader must take
 * only well-formed lines. The first byte picks the file (even: an allow
 * list, odd: a key file); the rest is its content.
 *
 * What must hold: no crash or sanitizer report; an allow list is taken
 * (0) or refused (-EINVAL) whole; a key file read gives two 40-character
 * Z85 keys whose public half is the key the secret makes. */
#include <errno.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "fuzz.h"
#include "jm/bus.h"
#include "jm/log.h"

static jm_bus_t *bus;
static uv_loop_t loop;

static bool
z85_key(const char *s)
{
    uint8_t raw[32];

    return strlen(s) == JM_KEY_Z85_LEN && zmq_z85_decode(raw, s) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char public_key[JM_KEY_Z85_LEN + 1], secret_key[JM_KEY_Z85_LEN + 1];
    const char *path;
    int rc;

    if (bus == NULL) {
        /* Each refused line is logged as an error: expected here, and
         * writing them would be most of the run's time. */
        jm_log_set_level(JM_LOG_ERR - 1);
        fuzz_check(uv_loop_init(&loop) == 0);
        fuzz_check(jm_bus_new(&bus, &loop) == 0);
    }
    if (size == 0)
        return 0;
    path = fuzz_input_file(data + 1, size - 1); /* 0600, as a key file is */
    if ((data[0] & 1) == 0) {
        rc = jm_bus_allow_load(bus, "fuzz", path, NULL, NULL, NULL);
        fuzz_check(rc == 0 || rc == -EINVAL);
        return 0;
    }
    rc = jm_keys_load(path, public_key, secret_key);
    if (rc == 0) {
        uint8_t pk[32], sk[32], derived[32];

        fuzz_check(z85_key(public_key) && z85_key(secret_key));
        fuzz_check(zmq_z85_decode(pk, public_key) != NULL);
        fuzz_check(zmq_z85_decode(sk, secret_key) != NULL);
        /* A pair that does not belong together would fail every
         * handshake: a loader that takes one is wrong. */
        fuzz_check(crypto_scalarmult_base(derived, sk) == 0);
        fuzz_check(memcmp(derived, pk, 32) == 0);
    } else {
        fuzz_check(rc == -EINVAL || rc == -EPERM || rc == -ENOENT);
    }
    return 0;
}

int
fuzz_write_seeds(const char *dir)
{
    char public_key[JM_KEY_Z85_LEN + 1], secret_key[JM_KEY_Z85_LEN + 1];
    char text[512];
    int n = 0, len;

    if (jm_keys_generate(public_key, secret_key) != 0)
        return -1;
    len = snprintf(text, sizeof(text),
                   "%c# the node's admin and one jobcentre\n%s admin\n%s "
                   "municipality:101\n",
                   '\0', public_key, public_key);
    n += fuzz_write_file(dir, "allow", text, (size_t) len) == 0;
    len = snprintf(text, sizeof(text), "%cpublic %s\nsecret %s\n", '\1',
                   public_key, secret_key);
    n += fuzz_write_file(dir, "keyfile", text, (size_t) len) == 0;
    return n;
}
