/* test_eventlog.c - the event log: contiguous seqs, read, bounds, prune
 * that keeps the head, a log id that survives reopening, consumer cursors,
 * and what a committed append is worth when the writer is killed -9. The
 * store's stale-reader check is here too: like the crash test it needs
 * child processes that die. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "jm/store.h"
#include "jm_test.h"

#define KIB ((size_t) 1024)

/* Entry content is a function of its seq, so that any entry can be
 * checked without remembering what was written: 8 bytes of seq, then a
 * pattern, 8..1007 bytes in all. */
static size_t
entry_make(uint64_t seq, uint8_t *buf)
{
    size_t size = 8 + (size_t) ((seq * 7919) % 1000), i;

    jm_be64_put(buf, seq);
    for (i = 8; i < size; i++)
        buf[i] = (uint8_t) (seq * 31 + i);
    return size;
}

static void
entry_check(uint64_t seq, const jm_val *entry)
{
    uint8_t want[1024];
    size_t size = entry_make(seq, want);

    assert_int_equal(entry->size, size);
    assert_memory_equal(entry->data, want, size);
}

struct fixture {
    char dir[256];
    jm_store_t *store;
    jm_eventlog_t *log;
};

static void
fixture_open_with(struct fixture *f, const jm_store_opts *opts)
{
    assert_int_equal(jm_store_open(&f->store, f->dir, opts), 0);
    assert_int_equal(jm_eventlog_open(&f->log, f->store, "events"), 0);
}

static void
fixture_open(struct fixture *f)
{
    fixture_open_with(f, NULL);
}

static void
fixture_close(struct fixture *f)
{
    jm_eventlog_destroy(&f->log);
    assert_null(f->log);
    jm_eventlog_destroy(&f->log); /* idempotent */
    jm_store_destroy(&f->store);
}

static int
setup(void **state)
{
    struct fixture *f = jm_xcalloc(1, sizeof(*f));

    jm_test_tmpdir(f->dir, sizeof(f->dir));
    fixture_open(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    fixture_close(f);
    jm_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Appends count entries in one transaction. */
struct append {
    jm_eventlog_t *log;
    unsigned count;
    uint64_t last;
};

static int
append_fn(jm_txn_t *txn, void *arg)
{
    struct append *a = arg;
    uint8_t buf[1024];
    uint64_t seq;
    unsigned i;
    int rc;

    for (i = 0; i < a->count; i++) {
        if ((rc = jm_eventlog_next_seq(a->log, txn, &seq)) != 0)
            return rc;
        if ((rc = jm_eventlog_append(a->log, txn, seq, buf,
                                     entry_make(seq, buf))) != 0)
            return rc;
        a->last = seq;
    }
    return 0;
}

static void
append_n(jm_store_t *store, jm_eventlog_t *log, unsigned count)
{
    struct append a = {log, count, 0};

    assert_int_equal(jm_store_write(store, append_fn, &a), 0);
}

struct bounds {
    jm_eventlog_t *log;
    uint64_t first;
    uint64_t head;
};

static int
bounds_fn(jm_txn_t *txn, void *arg)
{
    struct bounds *b = arg;

    return jm_eventlog_bounds(b->log, txn, &b->first, &b->head);
}

static void
check_bounds(struct fixture *f, uint64_t first, uint64_t head)
{
    struct bounds b = {f->log, 0, 0};

    assert_int_equal(jm_store_read(f->store, bounds_fn, &b), 0);
    assert_true(b.first == first);
    assert_true(b.head == head);
}

/* Reads the log after `after` and checks each entry; records the seqs. */
struct reader {
    jm_eventlog_t *log;
    uint64_t after;
    size_t limit;
    uint64_t seqs[64];
    size_t count;
    int stop_at; /* return 1 from the callback at this count (0: never) */
};

static int
read_entry(uint64_t seq, const jm_val *entry, void *arg)
{
    struct reader *r = arg;

    entry_check(seq, entry);
    assert_true(r->count < JM_COUNTOF(r->seqs));
    r->seqs[r->count++] = seq;
    return r->stop_at != 0 && (int) r->count == r->stop_at ? 1 : 0;
}

static int
read_fn(jm_txn_t *txn, void *arg)
{
    struct reader *r = arg;

    r->count = 0;
    return jm_eventlog_read(r->log, txn, r->after, r->limit, read_entry, r);
}

static void
read_range(struct fixture *f, uint64_t after, size_t limit, uint64_t from,
           size_t count)
{
    struct reader r = {f->log, after, limit, {0}, 0, 0};
    size_t i;

    assert_int_equal(jm_store_read(f->store, read_fn, &r), 0);
    assert_int_equal(r.count, count);
    for (i = 0; i < count; i++)
        assert_true(r.seqs[i] == from + i);
}

/* ---- appends, reads, bounds ---- */

struct bad_append {
    jm_eventlog_t *log;
};

static int
bad_appends(jm_txn_t *txn, void *arg)
{
    struct bad_append *b = arg;
    uint64_t next;

    assert_int_equal(jm_eventlog_next_seq(b->log, txn, &next), 0);
    assert_true(next == 4);
    /* a repeat, a gap and 0 are all refused */
    assert_int_equal(jm_eventlog_append(b->log, txn, 3, "x", 1), -EINVAL);
    assert_int_equal(jm_eventlog_append(b->log, txn, 5, "x", 1), -EINVAL);
    assert_int_equal(jm_eventlog_append(b->log, txn, 0, "x", 1), -EINVAL);
    return 0;
}

static void
test_append_and_read(void **state)
{
    struct fixture *f = *state;
    struct bad_append b = {f->log};
    struct reader stop = {f->log, 0, 100, {0}, 0, 2};

    check_bounds(f, 1, 0); /* empty: first = head + 1 */
    read_range(f, 0, 10, 0, 0);
    append_n(f->store, f->log, 3);
    check_bounds(f, 1, 3);
    assert_int_equal(jm_store_write(f->store, bad_appends, &b), 0);
    append_n(f->store, f->log, 7);
    check_bounds(f, 1, 10);

    read_range(f, 0, 100, 1, 10);
    read_range(f, 3, 4, 4, 4);  /* limit */
    read_range(f, 9, 5, 10, 1); /* the tail */
    read_range(f, 10, 5, 0, 0); /* nothing after the head */
    read_range(f, 3, 0, 0, 0);  /* no credit, nothing */
    read_range(f, UINT64_MAX, 5, 0, 0);
    /* the callback stops the walk with 1 */
    assert_int_equal(jm_store_read(f->store, read_fn, &stop), 0);
    assert_int_equal(stop.count, 2);
}

/* An aborted append leaves no trace and no gap. */
static int
append_then_fail(jm_txn_t *txn, void *arg)
{
    int rc = append_fn(txn, arg);

    assert_int_equal(rc, 0);
    return -ECANCELED;
}

static void
test_aborted_append_leaves_no_gap(void **state)
{
    struct fixture *f = *state;
    struct append a = {f->log, 5, 0};

    append_n(f->store, f->log, 2);
    assert_int_equal(jm_store_write(f->store, append_then_fail, &a),
                     -ECANCELED);
    check_bounds(f, 1, 2);
    append_n(f->store, f->log, 1);
    read_range(f, 0, 10, 1, 3);
}

/* ---- prune ---- */

struct prune {
    jm_eventlog_t *log;
    uint64_t upto;
};

static int
prune_fn(jm_txn_t *txn, void *arg)
{
    struct prune *p = arg;

    return jm_eventlog_prune(p->log, txn, p->upto);
}

static void
prune(struct fixture *f, uint64_t upto)
{
    struct prune p = {f->log, upto};

    assert_int_equal(jm_store_write(f->store, prune_fn, &p), 0);
}

static void
test_prune_keeps_head(void **state)
{
    struct fixture *f = *state;

    prune(f, 5); /* empty log: nothing to do */
    check_bounds(f, 1, 0);
    append_n(f->store, f->log, 10);
    prune(f, 0);
    check_bounds(f, 1, 10);
    prune(f, 4);
    check_bounds(f, 5, 10);
    read_range(f, 0, 100, 5, 6); /* a reader from 0 starts at first */
    read_range(f, 6, 2, 7, 2);
    prune(f, 3); /* behind first: nothing changes */
    check_bounds(f, 5, 10);
    /* everything: the head entry stays, so the head survives */
    prune(f, 100);
    check_bounds(f, 10, 10);
    read_range(f, 0, 100, 10, 1);
    prune(f, 100);
    check_bounds(f, 10, 10);

    /* after a restart the head, and so the next seq, are the same */
    fixture_close(f);
    fixture_open(f);
    check_bounds(f, 10, 10);
    append_n(f->store, f->log, 2);
    check_bounds(f, 10, 12);
    read_range(f, 0, 100, 10, 3);
    prune(f, 11);
    check_bounds(f, 12, 12);
}

/* ---- replace (redaction) ---- */

struct replace {
    jm_eventlog_t *log;
    char got[16];
    size_t got_size;
};

static int
replace_fn(jm_txn_t *txn, void *arg)
{
    struct replace *r = arg;

    assert_int_equal(jm_eventlog_replace(r->log, txn, 4, "redacted", 8), 0);
    /* pruned, beyond the head, and 0: nothing to replace */
    assert_int_equal(jm_eventlog_replace(r->log, txn, 1, "x", 1), -ENOENT);
    assert_int_equal(jm_eventlog_replace(r->log, txn, 6, "x", 1), -ENOENT);
    assert_int_equal(jm_eventlog_replace(r->log, txn, 0, "x", 1), -ENOENT);
    return 0;
}

static int
read_fourth(uint64_t seq, const jm_val *entry, void *arg)
{
    struct replace *r = arg;

    if (seq != 4) {
        entry_check(seq, entry); /* the others unchanged */
        return 0;
    }
    assert_true(entry->size <= sizeof(r->got));
    memcpy(r->got, entry->data, entry->size);
    r->got_size = entry->size;
    return 0;
}

static int
read_all_fn(jm_txn_t *txn, void *arg)
{
    struct replace *r = arg;

    return jm_eventlog_read(r->log, txn, 0, 100, read_fourth, r);
}

static void
test_replace_keeps_seqs(void **state)
{
    struct fixture *f = *state;
    struct replace r = {f->log, {0}, 0};

    append_n(f->store, f->log, 5);
    prune(f, 2);
    assert_int_equal(jm_store_write(f->store, replace_fn, &r), 0);
    /* Same bounds, same seqs, the one entry's new data. */
    check_bounds(f, 3, 5);
    assert_int_equal(jm_store_read(f->store, read_all_fn, &r), 0);
    assert_int_equal(r.got_size, 8);
    assert_memory_equal(r.got, "redacted", 8);
    /* The next append still follows the head. */
    append_n(f->store, f->log, 1);
    check_bounds(f, 3, 6);
}

/* ---- the log id ---- */

static void
test_log_id_is_stable(void **state)
{
    struct fixture *f = *state;
    jm_eventlog_t *other = NULL;
    char id[33];
    size_t i;

    snprintf(id, sizeof(id), "%s", jm_eventlog_id(f->log));
    assert_int_equal(strlen(id), 32);
    for (i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", id[i]));
    append_n(f->store, f->log, 1);
    fixture_close(f);
    fixture_open(f);
    assert_string_equal(jm_eventlog_id(f->log), id);
    /* another log, in the same store, has its own */
    assert_int_equal(jm_eventlog_open(&other, f->store, "other"), 0);
    assert_string_not_equal(jm_eventlog_id(other), id);
    jm_eventlog_destroy(&other);
    assert_int_equal(jm_eventlog_open(&other, f->store, ""), -EINVAL);
    assert_null(other);
}

/* ---- cursors ---- */

struct cursor_case {
    jm_store_t *store;
    const char *source;
    jm_cursor cursor;
    int rc;
};

static int
cursor_load_fn(jm_txn_t *txn, void *arg)
{
    struct cursor_case *c = arg;

    c->rc = jm_cursor_load(c->store, txn, c->source, &c->cursor);
    return 0;
}

static int
cursor_save_fn(jm_txn_t *txn, void *arg)
{
    struct cursor_case *c = arg;

    return jm_cursor_save(c->store, txn, c->source, &c->cursor);
}

static void
test_cursors(void **state)
{
    struct fixture *f = *state;
    struct cursor_case c = {f->store, "intake", {"", 0}, 0};
    struct cursor_case bad = c;

    /* never seen: -ENOENT and zeroes */
    memset(&c.cursor, 0xff, sizeof(c.cursor));
    assert_int_equal(jm_store_read(f->store, cursor_load_fn, &c), 0);
    assert_int_equal(c.rc, -ENOENT);
    assert_string_equal(c.cursor.log_id, "");
    assert_true(c.cursor.seq == 0);

    snprintf(c.cursor.log_id, sizeof(c.cursor.log_id), "%s",
             jm_eventlog_id(f->log));
    c.cursor.seq = 0x0102030405060708ull;
    assert_int_equal(jm_store_write(f->store, cursor_save_fn, &c), 0);
    c.source = "profiles";
    c.cursor.seq = 7;
    assert_int_equal(jm_store_write(f->store, cursor_save_fn, &c), 0);
    /* a log id must be one: 32 characters */
    snprintf(bad.cursor.log_id, sizeof(bad.cursor.log_id), "short");
    assert_int_equal(jm_store_write(f->store, cursor_save_fn, &bad), -EINVAL);
    bad.cursor = c.cursor;
    bad.source = "";
    assert_int_equal(jm_store_write(f->store, cursor_save_fn, &bad), -EINVAL);

    fixture_close(f);
    fixture_open(f);
    c.store = f->store;
    c.source = "intake";
    memset(&c.cursor, 0, sizeof(c.cursor));
    assert_int_equal(jm_store_read(f->store, cursor_load_fn, &c), 0);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.cursor.log_id, jm_eventlog_id(f->log));
    assert_true(c.cursor.seq == 0x0102030405060708ull);
    c.source = "profiles";
    assert_int_equal(jm_store_read(f->store, cursor_load_fn, &c), 0);
    assert_int_equal(c.rc, 0);
    assert_true(c.cursor.seq == 7);
}

struct capture {
    int notices;
    char last[256];
};

static void
capture_sink(int level, const char *component, const char *message, void *arg)
{
    struct capture *c = arg;

    if (level == JM_LOG_NOTICE)
        c->notices++;
    snprintf(c->last, sizeof(c->last), "%s: %s", component, message);
}

/* ---- stale readers ---- */

/* Tells the parent the child is ready, then waits to be killed. */
static void
report_and_wait(const int fds[2])
{
    char c = 'r';

    if (write(fds[0], &c, 1) != 1)
        _exit(3);
    (void) read(fds[1], &c, 1);
    _exit(4);
}

/* Forks a child that opens dir's environment as another program would:
 * mdb_copy taking a backup, with LMDB itself and read-only (not with
 * jm_store, whose directory lock keeps a second service out). If reader,
 * it then sits in a read transaction, else it just keeps the environment
 * open. Returns its pid once it is there. dir must hold a store, and the
 * parent have nothing of LMDB open when it forks. */
struct child {
    pid_t pid;
    int block_fd; /* kept open: the child waits for it to close */
};

static struct child
spawn_child(const char *dir, bool reader)
{
    struct child child;
    int up[2], down[2];
    struct pollfd pfd;
    pid_t pid;
    char c;

    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        int fds[2] = {up[1], down[0]};

        close(up[0]);
        close(down[1]);
        if (mdb_env_create(&env) != 0 ||
            mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) != 0)
            _exit(2);
        if (reader && mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
            _exit(2);
        report_and_wait(fds);
    }
    close(up[1]);
    close(down[0]);
    pfd.fd = up[0];
    pfd.events = POLLIN;
    assert_int_equal(poll(&pfd, 1, 30000), 1);
    assert_int_equal(read(up[0], &c, 1), 1);
    close(up[0]);
    child.pid = pid;
    child.block_fd = down[1];
    return child;
}

static void
kill_child(struct child child)
{
    int status;

    assert_int_equal(kill(child.pid, SIGKILL), 0);
    assert_int_equal(waitpid(child.pid, &status, 0), child.pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(child.block_fd);
}

static void
test_reader_check(void **state)
{
    struct capture c = {0, ""};
    struct child reader, holder;
    jm_store_t *store;
    char dir[256];
    int dead = -1;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(jm_store_open(&store, dir, NULL), 0); /* created */
    jm_store_destroy(&store);
    /* 1. A reader dies while we have the store open: the check clears its
     * slot, which would otherwise pin old pages for ever. */
    reader = spawn_child(dir, true);
    assert_int_equal(jm_store_open(&store, dir, NULL), 0);
    assert_int_equal(jm_store_reader_check(store, &dead), 0);
    assert_int_equal(dead, 0); /* alive is not stale */
    kill_child(reader);
    assert_int_equal(jm_store_reader_check(store, &dead), 0);
    assert_int_equal(dead, 1);
    assert_int_equal(jm_store_reader_check(store, NULL), 0);
    jm_store_destroy(&store);

    /* 2. A reader died while another process kept the environment open
     * (were we the only user, LMDB would reset the reader table itself):
     * jm_store_open clears it. */
    holder = spawn_child(dir, false);
    reader = spawn_child(dir, true);
    kill_child(reader);
    jm_log_set_sink(capture_sink, &c);
    assert_int_equal(jm_store_open(&store, dir, NULL), 0);
    jm_log_set_sink(NULL, NULL);
    assert_int_equal(c.notices, 1);
    assert_non_null(strstr(c.last, "cleared 1 stale reader"));
    assert_int_equal(jm_store_reader_check(store, &dead), 0);
    assert_int_equal(dead, 0);
    jm_store_destroy(&store);
    kill_child(holder);
    jm_test_rmtree(dir);
}

/* ---- crash safety ---- */

#define CRASH_ROUNDS     5
#define CRASH_MIN_ACKS   20
#define CRASH_MAX_ACKS   120
#define CRASH_BATCH_MAX  3
#define CRASH_TIMEOUT_MS 30000
#define CRASH_MAP        (64 * KIB)
#define CRASH_MAP_MAX    (256 * KIB * KIB)

/* A small map, so that the child also grows it while being killed. */
static const jm_store_opts crash_opts = {
    .map_size = CRASH_MAP, .map_size_max = CRASH_MAP_MAX, .max_dbs = 4};

/* The child: opens the store, then appends batches of 1..3 entries
 * forever, each batch one committed transaction, and reports each batch's
 * last seq on the pipe only after the commit returned. It never
 * returns. */
static void
crash_child(const char *dir, int report_fd)
{
    jm_store_t *store = NULL;
    jm_eventlog_t *log = NULL;
    unsigned round;

    if (jm_store_open(&store, dir, &crash_opts) != 0)
        _exit(2);
    if (jm_eventlog_open(&log, store, "events") != 0)
        _exit(3);
    for (round = 0;; round++) {
        struct append a = {log, 1 + round % CRASH_BATCH_MAX, 0};

        if (jm_store_write(store, append_fn, &a) != 0)
            _exit(4);
        if (write(report_fd, &a.last, sizeof(a.last)) != sizeof(a.last))
            _exit(5);
    }
}

/* Reads one 8-byte report; false at end of file (the child is gone). */
static bool
read_report(int fd, uint64_t *seq)
{
    uint8_t buf[8];
    size_t got = 0;

    while (got < sizeof(buf)) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;

        assert_int_equal(poll(&pfd, 1, CRASH_TIMEOUT_MS), 1);
        n = read(fd, buf + got, sizeof(buf) - got);
        if (n == 0)
            return false;
        assert_true(n > 0);
        got += (size_t) n;
    }
    memcpy(seq, buf, sizeof(*seq));
    return true;
}

struct verify {
    jm_eventlog_t *log;
    uint64_t first;
    uint64_t head;
    uint64_t expect; /* the next seq the walk must see */
};

static int
verify_entry(uint64_t seq, const jm_val *entry, void *arg)
{
    struct verify *v = arg;

    assert_true(seq == v->expect);
    entry_check(seq, entry);
    v->expect++;
    return 0;
}

static int
verify_fn(jm_txn_t *txn, void *arg)
{
    struct verify *v = arg;
    int rc;

    if ((rc = jm_eventlog_bounds(v->log, txn, &v->first, &v->head)) != 0)
        return rc;
    v->expect = v->first;
    return jm_eventlog_read(v->log, txn, 0, SIZE_MAX, verify_entry, v);
}

static void
test_committed_appends_survive_kill(void **state)
{
    struct fixture f;
    uint64_t acked = 0, seq;
    char id[33] = "";
    unsigned round;

    (void) state;
    /* No fixture: the first fork comes before anything LMDB exists in
     * this process, and the store is closed again before every later
     * fork (a forked child must not inherit an open environment). */
    memset(&f, 0, sizeof(f));
    jm_test_tmpdir(f.dir, sizeof(f.dir));
    for (round = 0; round < CRASH_ROUNDS; round++) {
        struct verify v = {NULL, 0, 0, 0};
        uint32_t random;
        unsigned target, acks = 0;
        int fds[2], status;
        pid_t pid;

        jm_test_random(&random, sizeof(random));
        target = CRASH_MIN_ACKS + random % (CRASH_MAX_ACKS - CRASH_MIN_ACKS);
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(f.dir, fds[1]);
        }
        close(fds[1]);
        while (acks < target) {
            assert_true(read_report(fds[0], &seq));
            assert_true(seq > acked); /* from the head it reopened at */
            acked = seq;
            acks++;
        }
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Reports written between our last read and the kill were
         * acknowledged too. */
        while (read_report(fds[0], &seq))
            acked = seq;
        close(fds[0]);

        /* The child is reaped: now the environment may be opened here. */
        fixture_open_with(&f, &crash_opts);
        v.log = f.log;
        assert_int_equal(jm_store_read(f.store, verify_fn, &v), 0);
        assert_true(v.first == 1);
        /* every acknowledged seq is there; at most one batch more (the
         * one committed but not yet reported when the kill came) */
        assert_true(v.head >= acked);
        assert_true(v.head <= acked + CRASH_BATCH_MAX);
        assert_true(v.expect == v.head + 1); /* contiguous, all checked */
        /* the id the child created in round 0 never changes */
        if (round == 0)
            snprintf(id, sizeof(id), "%s", jm_eventlog_id(f.log));
        assert_string_equal(jm_eventlog_id(f.log), id);
        acked = v.head;
        /* At least 100 batches of ~500-byte entries do not fit in 64 KiB:
         * the children grew the map (which LMDB records in the file), so
         * growth, too, happened under fire. */
        if (round == CRASH_ROUNDS - 1)
            assert_true(jm_store_map_size(f.store) > CRASH_MAP);
        fixture_close(&f);
    }
    jm_test_rmtree(f.dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aborted_append_leaves_no_gap,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_keeps_seqs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_id_is_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursors, setup, teardown),
        cmocka_unit_test(test_reader_check),
        cmocka_unit_test(test_committed_appends_survive_kill),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
