/* node_keys.c - the CURVE keys of a local node (see node.h).
 *
 * A node runs with CURVE unless started with --plain, as production does:
 * each service has its own key pair (DIR/keys/<svc>.key, the services'
 * key_file; its public half also in DIR/keys/<svc>.pub, which the matcher
 * names as source_key for the sources it follows), and an allow list
 * (DIR/etc/<svc>.allow) that admits
 *   - the node's client key (DIR/keys/client.key) as "admin": the CLI with
 *     --node DIR, the sample loader, the node's own requests;
 *   - the matcher's key as "service:matcher" on intake and profiles, whose
 *     logs it follows.
 * Keys are made once, on the first start, and kept: a client that saved a
 * service's public key keeps working across restarts of the node. The key
 * files are 0600 in a 0700 directory; jm_keys_load refuses a secret key
 * that group or others may read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jm/bus.h"
#include "jm/err.h"
#include "jm/mem.h"
#include "node.h"

int
node_key_pair(const char *dir, const char *name, node_key *key)
{
    char file[64], line[JM_KEY_Z85_LEN + 16], *keys = node_path(dir, "keys");
    int rc;

    snprintf(file, sizeof(file), "keys/%s.key", name);
    key->path = node_path(dir, file);
    if (mkdir(keys, 0700) != 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    rc = jm_keys_load(key->path, key->public_key, key->secret_key);
    if (rc == -ENOENT) {
        if ((rc = jm_keys_generate(key->public_key, key->secret_key)) != 0 ||
            (rc = jm_keys_save(key->path, key->public_key, key->secret_key)) !=
                0)
            goto out;
    }
    if (rc != 0)
        goto out;
    /* The public half alone, for those who connect to it (the matcher's
     * source_key): they need not be able to read the secret. */
    snprintf(file, sizeof(file), "keys/%s.pub", name);
    key->public_path = node_path(dir, file);
    snprintf(line, sizeof(line), "public %s\n", key->public_key);
    rc = cli_write_file(key->public_path, line, 0644);
out:
    free(keys);
    if (rc != 0) {
        fprintf(stderr, "jobmatch: key %s: %s\n", key->path, jm_strerror(rc));
        node_key_release(key);
    }
    return rc;
}

void
node_key_release(node_key *key)
{
    free(key->path);
    free(key->public_path);
    key->path = key->public_path = NULL;
    /* The secret does not linger in freed memory. */
    memset(key->secret_key, 0, sizeof(key->secret_key));
}

int
node_write_allow(const char *path, const node_key *const *keys,
                 const char *const *principals, size_t count)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    int rc;

    if (out == NULL)
        return -errno;
    fprintf(out,
            "# Written by `jobmatch node start`: the CURVE public keys this\n"
            "# service admits, each with the principal its requests carry.\n");
    for (size_t i = 0; i < count; i++)
        fprintf(out, "%s %s\n", keys[i]->public_key, principals[i]);
    fclose(out);
    rc = cli_write_file(path, text, 0640);
    free(text);
    return rc;
}

/* Makes the missing directories above path, as `mkdir -p` would, so that
 * the documented `keygen ~/.jobmatch/admin.key` works on a new machine.
 * Mode 0755: the key file itself is 0600, and a directory such as
 * /etc/jobmatch also holds the configs a service's own user reads. */
static int
make_parents(const char *path)
{
    char *dir = jm_xstrdup(path);
    int rc = 0;

    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}

int
node_keygen(cli *c, int argc, char **argv)
{
    char public_key[JM_KEY_Z85_LEN + 1], secret_key[JM_KEY_Z85_LEN + 1];
    int rc;

    if (argc != 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        FILE *out = argc == 2 ? stdout : stderr;

        fprintf(
            out,
            "usage: jobmatch node keygen FILE\n\n"
            "Writes a new CURVE key pair to FILE (mode 0600, \"public KEY\"\n"
            "and \"secret KEY\" lines: a service's key_file, or a client's\n"
            "key) and prints the public key, for the allow lists of the\n"
            "services it will call. An existing FILE is not replaced.\n");
        return argc == 2 ? CLI_OK : CLI_USAGE;
    }
    if (access(argv[1], F_OK) == 0) {
        fprintf(stderr, "%s: %s exists; not replacing a key\n", c->prog,
                argv[1]);
        return CLI_ERROR_REPLY;
    }
    if ((rc = make_parents(argv[1])) != 0) {
        fprintf(stderr, "%s: cannot make the directories of %s: %s\n", c->prog,
                argv[1], jm_strerror(rc));
        return CLI_ERROR_REPLY;
    }
    if ((rc = jm_keys_generate(public_key, secret_key)) != 0 ||
        (rc = jm_keys_save(argv[1], public_key, secret_key)) != 0) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, argv[1], jm_strerror(rc));
        return CLI_ERROR_REPLY;
    }
    memset(secret_key, 0, sizeof(secret_key));
    if (c->json) {
        json_t *out = json_object();

        json_object_set_new(out, "public_key", json_string(public_key));
        json_object_set_new(out, "file", json_string(argv[1]));
        cli_print_json(out);
    } else {
        printf("%s\n", public_key);
    }
    return CLI_OK;
}
