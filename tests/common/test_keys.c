/* test_keys.c - CURVE key files (jm_keys_save, jm_keys_load): written
 * 0600 and replaced atomically, a secret others may read refused with the
 * chmod that cures it, and a file that is not a key pair said to be so.
 * (Moved out of test_zap.c, which is about who may connect.) */
#include <sys/stat.h>

#include "bus_test_support.h"
#include "jm/log.h"
#include "jm/mem.h"

static void
test_keys_round_trip_and_permissions(void **state)
{
    struct keys k, k2, loaded;
    char dir[256], path[300], pub_only[300];
    char public_key[JM_KEY_Z85_LEN + 1];
    struct fixture *f = *state;
    struct stat st;
    FILE *file;

    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/service.key", dir);
    make_keys(&k);
    make_keys(&k2);
    assert_int_equal(jm_keys_save(path, k.public_key, k2.secret_key),
                     -EINVAL); /* not a pair */
    assert_int_equal(jm_keys_save(path, k.public_key, k.secret_key), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(jm_keys_load(path, loaded.public_key, loaded.secret_key),
                     0);
    assert_string_equal(loaded.public_key, k.public_key);
    assert_string_equal(loaded.secret_key, k.secret_key);

    /* Replaced atomically: a second save leaves one file, the new keys. */
    assert_int_equal(jm_keys_save(path, k2.public_key, k2.secret_key), 0);
    assert_int_equal(jm_keys_load(path, loaded.public_key, loaded.secret_key),
                     0);
    assert_string_equal(loaded.secret_key, k2.secret_key);
    {
        uv_fs_t req;
        uv_dirent_t entry;
        int n = uv_fs_scandir(NULL, &req, dir, 0, NULL);

        assert_int_equal(n, 1); /* no temporary file left behind */
        assert_int_equal(uv_fs_scandir_next(&req, &entry), 0);
        assert_string_equal(entry.name, "service.key");
        /* Iterating to the end is what frees the entries. */
        assert_int_equal(uv_fs_scandir_next(&req, &entry), UV_EOF);
        uv_fs_req_cleanup(&req);
    }

    /* A secret others can read is refused, even for its public half. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(jm_keys_load(path, loaded.public_key, loaded.secret_key),
                     -EPERM);
    assert_int_equal(jm_keys_load(path, public_key, NULL), -EPERM);

    /* A public-only file may be world-readable. */
    snprintf(pub_only, sizeof(pub_only), "%s/server.pub", dir);
    file = fopen(pub_only, "w");
    assert_non_null(file);
    fprintf(file, "public %s\n", k.public_key);
    fclose(file);
    assert_int_equal(chmod(pub_only, 0644), 0);
    assert_int_equal(jm_keys_load(pub_only, public_key, NULL), 0);
    assert_string_equal(public_key, k.public_key);
    assert_int_equal(chmod(pub_only, 0600), 0);
    assert_int_equal(jm_keys_load(pub_only, public_key, loaded.secret_key),
                     -EINVAL); /* no secret in it */

    file = fopen(pub_only, "w");
    assert_non_null(file);
    fprintf(file, "public %.39s\n", k.public_key); /* truncated key */
    fclose(file);
    assert_int_equal(jm_keys_load(pub_only, public_key, NULL), -EINVAL);
    strcat(pub_only, "-missing");
    assert_int_equal(jm_keys_load(pub_only, public_key, NULL), -ENOENT);
    jm_test_rmtree(dir);
    f->finished = true;
}

struct last_error {
    int count;
    char text[1024];
};

static void
keep_error(int level, const char *component, const char *message, void *arg)
{
    struct last_error *e = arg;

    if (level > JM_LOG_ERR)
        return;
    e->count++;
    snprintf(e->text, sizeof(e->text), "%s: %s", component, message);
}

/* A key pair file group-readable (0640, as a shared admin group makes
 * it): the service's start fails, and the log says what to do, as it
 * does for the other secrets (secret.key, keys.bin), not only "Operation
 * not permitted". */
static void
test_key_pair_readable_by_others_says_chmod(void **state)
{
    struct last_error logged = {0};
    struct keys k, loaded;
    char dir[256], path[300], want[400];
    struct fixture *f = *state;

    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/k640.key", dir);
    make_keys(&k);
    assert_int_equal(jm_keys_save(path, k.public_key, k.secret_key), 0);
    assert_int_equal(chmod(path, 0640), 0);
    jm_log_set_sink(keep_error, &logged);
    assert_int_equal(jm_keys_load(path, loaded.public_key, loaded.secret_key),
                     -EPERM);
    /* The public half alone, from the pair's file: the same. */
    assert_int_equal(jm_keys_load(path, loaded.public_key, NULL), -EPERM);
    jm_log_set_sink(NULL, NULL);
    assert_int_equal(logged.count, 2);
    snprintf(want, sizeof(want),
             "keys: %s: group or others may read it (mode 0640): it must be "
             "readable by its owner only: chmod 600",
             path);
    assert_string_equal(logged.text, want);

    /* Once fixed, it loads, and nothing more is logged. */
    assert_int_equal(chmod(path, 0600), 0);
    jm_log_set_sink(keep_error, &logged);
    assert_int_equal(jm_keys_load(path, loaded.public_key, loaded.secret_key),
                     0);
    jm_log_set_sink(NULL, NULL);
    assert_int_equal(logged.count, 2);
    jm_test_rmtree(dir);
    f->finished = true;
}

/* A file that is not a key pair: the log says what is wrong with it, not
 * only "Invalid argument" (an operator pointed key_file at a public-key
 * file, or at a file mangled by an editor). */
static void
test_malformed_key_file_says_what_is_wrong(void **state)
{
    struct last_error logged = {0};
    struct keys k, k2, loaded;
    char dir[256], path[300];
    struct fixture *f = *state;

    static const struct {
        const char *what, *why;
    } cases[] = {
        {"public-only", "no secret key"},
        {"not-a-pair", "the public key is not the secret key's"},
        {"garbage", "a line is neither"},
    };

    jm_test_tmpdir(dir, sizeof(dir));
    make_keys(&k);
    make_keys(&k2);
    for (size_t i = 0; i < JM_COUNTOF(cases); i++) {
        FILE *file;

        snprintf(path, sizeof(path), "%s/%s.key", dir, cases[i].what);
        file = fopen(path, "w");
        assert_non_null(file);
        if (i == 0)
            fprintf(file, "public %s\n", k.public_key);
        else if (i == 1)
            fprintf(file, "public %s\nsecret %s\n", k.public_key,
                    k2.secret_key);
        else
            fprintf(file, "-----BEGIN PRIVATE KEY-----\n");
        fclose(file);
        assert_int_equal(chmod(path, 0600), 0);
        memset(&logged, 0, sizeof(logged));
        jm_log_set_sink(keep_error, &logged);
        assert_int_equal(
            jm_keys_load(path, loaded.public_key, loaded.secret_key), -EINVAL);
        jm_log_set_sink(NULL, NULL);
        assert_int_equal(logged.count, 1);
        if (strstr(logged.text, cases[i].why) == NULL ||
            strstr(logged.text, path) == NULL)
            fail_msg("%s: '%s'", cases[i].what, logged.text);
    }
    jm_test_rmtree(dir);
    f->finished = true;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_round_trip_and_permissions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_key_pair_readable_by_others_says_chmod, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_malformed_key_file_says_what_is_wrong, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
