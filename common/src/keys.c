/* keys.c - CURVE key files: generated, saved and loaded, with what is
 * wrong with a file said in the log (out of zap.c, which decides who may
 * connect with them). */
#include "bus_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"

/* Key files are two short lines; anything bigger is not one. */
#define MAX_KEY_FILE_SIZE 4096

/* ---- keys ----
 *
 * A key file is "public KEY\nsecret KEY\n" (Z85), or only the public line
 * for a peer's key. Saving checks that the two halves belong together and
 * loading checks it again: a mismatched pair would otherwise show up much
 * later as every handshake failing with no detail. Secrets are wiped from
 * buffers after use (sodium_memzero cannot be optimised away). */

int
jm_keys_generate(char public_key[JM_KEY_Z85_LEN + 1],
                 char secret_key[JM_KEY_Z85_LEN + 1])
{
    JM_ASSERT(public_key != NULL && secret_key != NULL);
    /* ENOTSUP if libzmq was built without CURVE. */
    if (zmq_curve_keypair(public_key, secret_key) != 0)
        return jm__zmq_err();
    return 0;
}

/* True if both keys are valid and secret_key's public half is public_key. */
static bool
pair_valid(const char *public_key, const char *secret_key)
{
    char derived[JM_KEY_Z85_LEN + 1];
    bool ok;

    if (!jm__key_valid(public_key, NULL) || !jm__key_valid(secret_key, NULL))
        return false;
    if (zmq_curve_public(derived, secret_key) != 0)
        return false;
    ok = memcmp(derived, public_key, JM_KEY_Z85_LEN) == 0;
    sodium_memzero(derived, sizeof(derived));
    return ok;
}

static int
write_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        data += n;
        size -= (size_t) n;
    }
    return 0;
}

/* Makes the rename durable (best effort: some file systems refuse). */
static void
sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? jm_xstrdup(".")
                : slash == path ? jm_xstrdup("/")
                                : jm_xstrndup(path, (size_t) (slash - path));
    int fd = open(dir, O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int
jm_keys_save(const char *path, const char *public_key, const char *secret_key)
{
    char text[2 * (JM_KEY_Z85_LEN + 8) + 1];
    char *temp;
    int fd = -1, rc = 0;

    JM_ASSERT(path != NULL);
    if (!pair_valid(public_key, secret_key))
        return -EINVAL;
    snprintf(text, sizeof(text), "public %s\nsecret %s\n", public_key,
             secret_key);
    /* mkstemp creates the file 0600 and O_EXCL in the same directory, so
     * the secret is never readable by others and rename is atomic: a
     * reader sees the old file or the new one, never half of one. */
    temp = jm_xmalloc(strlen(path) + sizeof(".XXXXXX"));
    sprintf(temp, "%s.XXXXXX", path);
    if ((fd = mkstemp(temp)) < 0) {
        rc = -errno;
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || (rc = write_all(fd, text, strlen(text))) ||
        fsync(fd) != 0) {
        rc = rc ? rc : -errno;
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = -errno;
        goto out;
    }
    fd = -1;
    if (rename(temp, path) != 0) {
        rc = -errno;
        goto out;
    }
    sync_parent(path);
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(temp);
    free(temp);
    sodium_memzero(text, sizeof(text));
    return rc;
}

/* Reads at most MAX_KEY_FILE_SIZE bytes; -EINVAL if the file is larger. */
static int
read_small(int fd, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + *len, cap - *len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        *len += (size_t) n;
        if (*len == cap)
            return -EINVAL;
    }
}

/* Copies the key after "<label> " on a line of text into key. */
static bool
parse_key_line(const char *line, size_t len, const char *label, char *key)
{
    size_t label_len = strlen(label);

    if (len != label_len + 1 + JM_KEY_Z85_LEN ||
        memcmp(line, label, label_len) != 0 || line[label_len] != ' ')
        return false;
    memcpy(key, line + label_len + 1, JM_KEY_Z85_LEN);
    key[JM_KEY_Z85_LEN] = '\0';
    return jm__key_valid(key, NULL);
}

/* -EPERM, with the line that says what to do. The callers (each
 * service's start, the CLI) only have the code, whose text is "Operation
 * not permitted": the cure is said here, in the words the other secrets'
 * refusals use (secret.key, keys.bin). */
static int
refuse_readable(const char *path, mode_t mode)
{
    jm_log(JM_LOG_ERR, "keys",
           "%s: group or others may read it (mode 0%03o): it must be "
           "readable by its owner only: chmod 600",
           path, (unsigned) (mode & 0777));
    return -EPERM;
}

/* A file that is not a key file (or not a whole pair): -EINVAL, which
 * alone reads "Invalid argument", with what is wrong said here. */
static int
refuse_malformed(const char *path, const char *why)
{
    jm_log(JM_LOG_ERR, "keys",
           "%s: not a key file: %s (want a \"public KEY\" line and, for a key "
           "pair, a \"secret KEY\" line, 40 Z85 characters each, as `jobmatch "
           "node keygen` writes them)",
           path, why);
    return -EINVAL;
}

/* Permissions are judged on the open file (fstat), not on the path, so a
 * file swapped between the check and the read is not a hole. Any group or
 * other bit refuses a secret: 0600 or stricter, as ssh does for its keys. */
int
jm_keys_load(const char *path, char public_key[JM_KEY_Z85_LEN + 1],
             char secret_key[JM_KEY_Z85_LEN + 1])
{
    char text[MAX_KEY_FILE_SIZE];
    char public[JM_KEY_Z85_LEN + 1] = "", secret[JM_KEY_Z85_LEN + 1] = "";
    struct stat st;
    size_t len = 0, pos = 0;
    int fd, rc = 0;

    JM_ASSERT(path != NULL);
    JM_ASSERT(public_key != NULL);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = refuse_malformed(path, "not a regular file");
        goto out;
    }
    /* Refuse before reading a secret that others could read too. */
    if (secret_key != NULL && (st.st_mode & 077) != 0) {
        rc = refuse_readable(path, st.st_mode);
        goto out;
    }
    if ((rc = read_small(fd, text, sizeof(text), &len)) != 0) {
        if (rc == -EINVAL)
            rc = refuse_malformed(path, "longer than a key file can be");
        goto out;
    }
    while (pos < len) {
        const char *line = text + pos;
        const char *end = memchr(line, '\n', len - pos);
        size_t line_len = end ? (size_t) (end - line) : len - pos;

        pos += line_len + (end ? 1 : 0);
        if (line_len == 0)
            continue;
        if (public[0] == '\0' &&
            parse_key_line(line, line_len, "public", public))
            continue;
        if (secret[0] == '\0' &&
            parse_key_line(line, line_len, "secret", secret))
            continue;
        rc = refuse_malformed(path, "a line is neither");
        goto out;
    }
    /* A secret in a file others can read is refused even when only the
     * public half was asked for: the file itself is the problem. */
    if (secret[0] != '\0' && (st.st_mode & 077) != 0) {
        rc = refuse_readable(path, st.st_mode);
        goto out;
    }
    if (public[0] == '\0' || (secret_key != NULL && secret[0] == '\0')) {
        rc = refuse_malformed(path, public[0] == '\0' ? "no public key"
                                                      : "no secret key");
        goto out;
    }
    if (secret[0] != '\0' && !pair_valid(public, secret)) {
        rc = refuse_malformed(path, "the public key is not the secret key's");
        goto out;
    }
    memcpy(public_key, public, sizeof(public));
    if (secret_key != NULL)
        memcpy(secret_key, secret, sizeof(secret));
out:
    sodium_memzero(text, sizeof(text));
    sodium_memzero(secret, sizeof(secret));
    close(fd);
    return rc;
}

int
jm_keys_load_logged(const char *component, const char *what, const char *path,
                    char public_key[JM_KEY_Z85_LEN + 1],
                    char secret_key[JM_KEY_Z85_LEN + 1])
{
    int rc = jm_keys_load(path, public_key, secret_key);

    /* jm_keys_load has said what is wrong with a file it opened (-EPERM,
     * -EINVAL); what kept it from opening or reading one is said here. */
    if (rc != 0 && rc != -EPERM && rc != -EINVAL)
        jm_log(JM_LOG_ERR, component, "cannot read %s %s: %s", what, path,
               jm_strerror(rc));
    return rc;
}
