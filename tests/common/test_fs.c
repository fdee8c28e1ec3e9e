/* test_fs.c - mkdir -p creates parents, sets the last mode, leaves
 * existing directories alone and reports real errors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "jm/fs.h"
#include "jm_test.h"

static void
test_creates_parents_with_modes(void **state)
{
    char dir[256], path[512];
    struct stat st;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    umask(022);
    assert_int_equal(jm_fs_mkdirs(path, 0700), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/a/b", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    /* Again: nothing to do, not an error. */
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    assert_int_equal(jm_fs_mkdirs(path, 0700), 0);
    jm_test_rmtree(dir);
}

static void
test_reports_errors(void **state)
{
    char dir[256], path[512];
    FILE *f;

    (void) state;
    assert_int_equal(jm_fs_mkdirs("", 0700), -EINVAL);
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/file", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    /* A file in the way of a parent. */
    snprintf(path, sizeof(path), "%s/file/sub", dir);
    assert_int_equal(jm_fs_mkdirs(path, 0700), -ENOTDIR);
    jm_test_rmtree(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creates_parents_with_modes),
        cmocka_unit_test(test_reports_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
