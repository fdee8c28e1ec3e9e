/* test_store_disk.c - the store when the disk lets it down.
 *
 * A file system that fills up: a commit that cannot be written fails
 * with -ENOSPC and a log line that says the disk is full (LMDB itself
 * says EIO when the disk fills during its write, which an operator would
 * blame on the hardware); nothing of it is stored, everything committed
 * before is intact, and once there is room the same transaction commits.
 * The file system is a small tmpfs mounted in a mount namespace of the
 * test's own; where that is not allowed (not root, or a container without
 * CAP_SYS_ADMIN) that test is skipped.
 *
 * Damaged files: a store whose header was overwritten, or whose data file
 * was cut short (a copy interrupted, a disk that filled during a
 * transfer), does not open, and the log says what to do (restore from a
 * backup). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jm/log.h"
#include "jm/store.h"
#include "jm_test.h"

#define VALUE_SIZE 16384 /* four pages each: overflow pages, one write */
#define PER_BATCH  8

struct batch {
    jm_dbi dbi;
    unsigned number; /* keys number * PER_BATCH .. + PER_BATCH - 1 */
};

static void
value_of(uint8_t *value, unsigned key)
{
    for (unsigned i = 0; i < VALUE_SIZE; i++)
        value[i] = (uint8_t) (key * 31 + i);
}

static int
write_batch(jm_txn_t *txn, void *arg)
{
    const struct batch *b = arg;
    static uint8_t value[VALUE_SIZE];
    uint8_t key[8];
    int rc;

    for (unsigned i = 0; i < PER_BATCH; i++) {
        unsigned k = b->number * PER_BATCH + i;

        jm_be64_put(key, k);
        value_of(value, k);
        if ((rc = jm_txn_put(txn, b->dbi, key, sizeof(key), value, VALUE_SIZE,
                             JM_PUT_NOOVERWRITE)) != 0)
            return rc;
    }
    return 0;
}

struct count {
    unsigned n;
};

static int
check_value(const jm_val *key, const jm_val *val, void *arg)
{
    struct count *c = arg;
    static uint8_t want[VALUE_SIZE];

    assert_int_equal(key->size, 8);
    assert_true(jm_be64_get(key->data) == c->n);
    value_of(want, c->n);
    assert_int_equal(val->size, VALUE_SIZE);
    assert_memory_equal(val->data, want, VALUE_SIZE);
    c->n++;
    return 0;
}

struct scan {
    jm_dbi dbi;
    struct count count;
};

static int
scan_all(jm_txn_t *txn, void *arg)
{
    struct scan *s = arg;

    return jm_txn_scan(txn, s->dbi, NULL, 0, check_value, &s->count);
}

/* Every value committed so far, each checked; returns how many. */
static unsigned
stored(jm_store_t *store, jm_dbi dbi)
{
    struct scan s = {dbi, {0}};

    assert_int_equal(jm_store_read(store, scan_all, &s), 0);
    return s.count.n;
}

struct log_capture {
    int errors;
    bool says_full;
};

static void
capture(int level, const char *component, const char *message, void *arg)
{
    struct log_capture *c = arg;

    (void) component;
    if (level > JM_LOG_ERR)
        return;
    c->errors++;
    if (strstr(message, "the disk is full") != NULL &&
        strstr(message, "KiB left") != NULL)
        c->says_full = true;
}

static void
test_full_disk_fails_the_commit_and_loses_nothing(void **state)
{
    jm_store_opts opts = {
        .map_size = (size_t) 64 << 20, .map_size_max = 0, .max_dbs = 4};
    struct log_capture log = {0, false};
    jm_store_t *store = NULL;
    struct batch b = {0, 0};
    char dir[256];
    int rc = 0;

    (void) state;
    if (unshare(CLONE_NEWNS) != 0) {
        fprintf(stderr, "no mount namespace here (%s): skipped\n",
                strerror(errno));
        skip();
    }
    /* Nothing mounted here may show outside this process. */
    assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(
        mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,mode=0700"),
        0);

    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    assert_int_equal(jm_store_dbi(store, "values", false, &b.dbi), 0);
    /* 128 KiB a batch into 2 MiB: it fills within 16 batches. */
    jm_log_set_sink(capture, &log);
    for (b.number = 0; b.number < 64; b.number++) {
        if ((rc = jm_store_write(store, write_batch, &b)) != 0)
            break;
    }
    jm_log_set_sink(NULL, NULL);
    assert_int_equal(rc, -ENOSPC);
    assert_true(b.number > 0 && b.number < 16);
    assert_true(log.says_full);
    /* The failed batch left nothing; the ones before are all there. */
    assert_int_equal(stored(store, b.dbi), b.number * PER_BATCH);

    /* Room again: the same batch commits, and the next ones. */
    assert_int_equal(mount("tmpfs", dir, "tmpfs", MS_REMOUNT, "size=8m"), 0);
    assert_int_equal(jm_store_write(store, write_batch, &b), 0);
    b.number++;
    assert_int_equal(jm_store_write(store, write_batch, &b), 0);
    b.number++;
    assert_int_equal(stored(store, b.dbi), b.number * PER_BATCH);

    /* And they are there after the store is opened again. */
    jm_store_destroy(&store);
    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    assert_int_equal(jm_store_dbi(store, "values", false, &b.dbi), 0);
    assert_int_equal(stored(store, b.dbi), b.number * PER_BATCH);
    jm_store_destroy(&store);

    assert_int_equal(umount(dir), 0);
    jm_test_rmtree(dir);
}

struct last_error {
    char text[1024];
};

static void
keep_error(int level, const char *component, const char *message, void *arg)
{
    struct last_error *e = arg;

    if (level <= JM_LOG_ERR)
        snprintf(e->text, sizeof(e->text), "%s: %s", component, message);
}

/* The headers of data.mdb's two meta pages overwritten (as a damaged
 * disk or a file copied in from elsewhere would leave them; damage
 * inside the B-tree LMDB finds only when it reads there, where the
 * services' record checks take over): the store does not open, -EIO, and
 * the log line names the cause and the cure. */
static void
test_damaged_store_does_not_open_and_says_why(void **state)
{
    static const uint8_t junk[64] = {0x5a};
    struct last_error e = {""};
    jm_store_t *store = NULL;
    struct batch b = {0, 0};
    char dir[256], path[300];
    FILE *f;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(jm_store_open(&store, dir, NULL), 0);
    assert_int_equal(jm_store_dbi(store, "values", false, &b.dbi), 0);
    assert_int_equal(jm_store_write(store, write_batch, &b), 0);
    jm_store_destroy(&store);

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    assert_non_null(f = fopen(path, "r+b"));
    for (long page = 0; page < 2; page++) {
        assert_int_equal(fseek(f, page * 4096, SEEK_SET), 0);
        assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
    }
    assert_int_equal(fclose(f), 0);

    jm_log_set_sink(keep_error, &e);
    assert_int_equal(jm_store_open(&store, dir, NULL), -EIO);
    jm_log_set_sink(NULL, NULL);
    assert_null(store);
    assert_non_null(strstr(e.text, "damaged"));
    assert_non_null(strstr(e.text, "restore the directory from a backup"));
    jm_test_rmtree(dir);
}

/* Opens dir in a child, so that a crash (LMDB reading a page past the
 * end of the mapped file is SIGBUS) fails this test rather than ending
 * the whole run: the child sends back the return code and the last error
 * line logged. */
static int
open_in_child(const char *dir, char *logged, size_t logged_size)
{
    int fds[2], status = 0, rc = 1;
    pid_t child;
    ssize_t got, n;

    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct last_error e = {""};
        jm_store_t *store = NULL;

        /* cmocka's handlers would catch the crash here and run the rest
         * of the tests in this copy of the process. */
        signal(SIGBUS, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        close(fds[0]);
        jm_log_set_sink(keep_error, &e);
        rc = jm_store_open(&store, dir, NULL);
        jm_store_destroy(&store);
        if (write(fds[1], &rc, sizeof(rc)) != (ssize_t) sizeof(rc) ||
            write(fds[1], e.text, strlen(e.text)) < 0)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    got = read(fds[0], &rc, sizeof(rc));
    n = read(fds[0], logged, logged_size - 1);
    logged[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("opening a cut-short store killed the process (signal %d)",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    assert_int_equal(got, (ssize_t) sizeof(rc));
    return rc;
}

/* A backup (the compact copy mdb_copy -c makes) cut to half its size, as
 * a full disk or an interrupted transfer leaves it: LMDB maps the file
 * and would read past its end (SIGBUS, no message). The open must refuse
 * it instead, naming the file, its size, the size it needs and the cure;
 * the same for the store's own data file cut short. */
static void
test_cut_short_store_does_not_open_and_says_why(void **state)
{
    char dir[256], backup[256], path[300], logged[1024], want[400];
    const char *dirs[2] = {backup, dir};
    jm_store_t *store = NULL;
    struct batch b = {0, 0};
    struct stat st;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    jm_test_tmpdir(backup, sizeof(backup));
    assert_int_equal(jm_store_open(&store, dir, NULL), 0);
    assert_int_equal(jm_store_dbi(store, "values", false, &b.dbi), 0);
    for (b.number = 0; b.number < 2; b.number++)
        assert_int_equal(jm_store_write(store, write_batch, &b), 0);
    assert_int_equal(jm_store_copy(store, backup), 0);
    jm_store_destroy(&store);

    for (int i = 0; i < 2; i++) {
        off_t full;

        snprintf(path, sizeof(path), "%s/data.mdb", dirs[i]);
        assert_int_equal(stat(path, &st), 0);
        full = st.st_size;
        assert_int_equal(truncate(path, full / 2), 0);
        assert_int_equal(open_in_child(dirs[i], logged, sizeof(logged)), -EIO);
        snprintf(want, sizeof(want), "store: %s is %lld bytes long", path,
                 (long long) (full / 2));
        if (strstr(logged, want) == NULL ||
            strstr(logged, "cut short: restore it from a backup") == NULL ||
            strstr(logged, "docs/operations.md") == NULL)
            fail_msg("logged \"%s\"", logged);
        if (i == 0) {
            /* A compact copy is exactly as long as the store it holds. */
            snprintf(want, sizeof(want), "needs %lld (", (long long) full);
            if (strstr(logged, want) == NULL)
                fail_msg("logged \"%s\", not \"%s\"", logged, want);
        }
    }
    jm_test_rmtree(backup);
    jm_test_rmtree(dir);
}

/* An empty data.mdb where a store was (a copy or a restore that wrote
 * nothing): LMDB would start a new store in it; the open refuses, says
 * what to do, and leaves the file as it is. A refetchable store (the
 * matcher's view, fetched again from its sources) starts afresh. */
static void
test_empty_data_file_is_refused_unless_refetchable(void **state)
{
    jm_store_opts refetchable = {.refetchable = true};
    struct last_error e = {""};
    jm_store_t *store = NULL;
    char dir[256], path[300];
    struct stat st;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    jm_test_write_file(path, "");
    jm_log_set_sink(keep_error, &e);
    assert_int_equal(jm_store_open(&store, dir, NULL), -EIO);
    jm_log_set_sink(NULL, NULL);
    assert_null(store);
    assert_non_null(strstr(e.text, "data.mdb is empty (0 bytes)"));
    assert_non_null(strstr(e.text, "restore the directory from a backup"));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);

    assert_int_equal(jm_store_open(&store, dir, &refetchable), 0);
    jm_store_destroy(&store);
    /* And a directory without the file is a new store, as always. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(jm_store_open(&store, dir, NULL), 0);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_disk_fails_the_commit_and_loses_nothing),
        cmocka_unit_test(test_damaged_store_does_not_open_and_says_why),
        cmocka_unit_test(test_cut_short_store_does_not_open_and_says_why),
        cmocka_unit_test(test_empty_data_file_is_refused_unless_refetchable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
