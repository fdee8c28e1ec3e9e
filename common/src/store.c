/* store.c - one service's LMDB environment: open and close, transactions
 * that survive a full map, the key/value helpers, backup copy and the
 * stale-reader check.
 *
 * The rules this file enforces come from DESIGN.md section 5 and are
 * repeated in store.h. The two that shape the code most:
 *   - mdb_txn_commit frees the transaction whether it succeeds or not, so
 *     after a commit the handle is never touched again;
 *   - MDB_MAP_FULL can come from any write (put, del, dbi_open) and from the
 *     commit itself. jm_store_write then drops the transaction, grows the
 *     map while no transaction of this environment is alive (a read
 *     transaction holds pointers into the old mapping, which
 *     mdb_env_set_mapsize unmaps) and runs the caller's function again from
 *     the start. */
#include "jm/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "store_internal.h"

#define DEFAULT_MAP_SIZE     ((size_t) 1 << 30)
#define DEFAULT_MAP_SIZE_MAX ((size_t) 64 << 30)
#define DEFAULT_MAX_DBS      32

struct jm_store {
    MDB_env *env;
    int dir_fd;  /* the directory, flock()ed: one open per store (lock_dir) */
    bool broken; /* a resize failed and left no mapping: refuse all work */
    size_t map_size;
    size_t map_size_max;
    unsigned growths;
    /* Transactions of this environment alive right now. Growing the map
     * with one alive would pull the mapping from under it, so grow() and
     * jm_store_write assert this is 0. The rule is per environment: the
     * mapping belongs to the MDB_env, not to the process. */
    unsigned active_txns;
    jm_dbi cursors;
};

struct jm_txn {
    MDB_txn *txn;
    jm_store_t *store;
    bool write;
    /* Set when a write in this transaction got MDB_MAP_FULL. LMDB then
     * marks the transaction as failed, so whatever the caller's function
     * made of the error, the only way on is abort, grow and redo. */
    bool map_full;
};

/* MDB_* and errno -> -errno (err.h). LMDB returns errno values as they
 * are; its own codes are negative. The unexpected ones are logged here,
 * because the caller only ever sees -EIO. */
static int
store_err(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return -ENOENT;
    case MDB_KEYEXIST:
        return -EEXIST;
    case MDB_MAP_FULL:
        return -ENOSPC;
    default:
        break;
    }
    if (rc > 0)
        return -rc;
    /* What the operator can do about it, for the codes that mean the
     * files themselves are not what LMDB wrote (a damaged disk, a file
     * cut short or copied in from elsewhere). */
    jm_log(JM_LOG_ERR, "store", "%s: %s%s", what, mdb_strerror(rc),
           rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
                   rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH
               ? " (the store's files are damaged or not an LMDB store of "
                 "this version: restore the directory from a backup, or "
                 "for a matcher empty it; docs/operations.md)"
               : "");
    return -EIO;
}

/* Below this much room for us on the store's file system, a failed commit
 * is taken for a full disk. LMDB reports a write cut short (the disk filled
 * up during the commit) as EIO, not ENOSPC, and the pages it did write lie
 * past the last committed one, so little is left free afterwards. */
#define FULL_DISK_BYTES ((uint64_t) 16 << 20)

/* store_err for a failed commit, which says when the disk is full: the
 * operator then reads "No space left on device" and the room left, in the
 * log and in the replies, not an I/O error to blame on the hardware. */
static int
commit_err(jm_store_t *store, int rc)
{
    mdb_filehandle_t fd;
    struct statvfs fs;
    uint64_t room;

    if ((rc == EIO || rc == ENOSPC) && mdb_env_get_fd(store->env, &fd) == 0 &&
        fstatvfs(fd, &fs) == 0) {
        room = (uint64_t) fs.f_bavail * fs.f_frsize;
        if (room < FULL_DISK_BYTES) {
            jm_log(JM_LOG_ERR, "store",
                   "a commit failed (%s) with %llu KiB left on the store's "
                   "file system: the disk is full. Nothing of the "
                   "transaction was stored; it can be once there is room",
                   strerror(rc), (unsigned long long) (room >> 10));
            return -ENOSPC;
        }
    }
    return store_err(rc, "mdb_txn_commit");
}

/* store_err inside a transaction. A full map marks the transaction as
 * failed (LMDB flags it, and every later call on it returns MDB_BAD_TXN,
 * checked here): remember it so that jm_store_write redoes the batch, and
 * report the calls that follow as -ENOSPC too, not as logged -EIO. */
static int
txn_err(jm_txn_t *txn, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        txn->map_full = true;
    if (rc == MDB_BAD_TXN && txn->map_full)
        return -ENOSPC;
    return store_err(rc, what);
}

static bool
key_size_ok(size_t size)
{
    return size > 0 && size <= JM__STORE_KEY_MAX;
}

/* Remaps the environment to size bytes (0: the size another process
 * recorded). LMDB rounds up to the data already used. If remapping fails,
 * the old mapping is already gone, so the store refuses further work. */
static int
set_map_size(jm_store_t *self, size_t size)
{
    MDB_envinfo info;
    int rc;

    JM_ASSERT(self->active_txns == 0);
    if ((rc = mdb_env_set_mapsize(self->env, size)) != 0) {
        self->broken = true;
        jm_log(JM_LOG_ERR, "store", "mdb_env_set_mapsize(%zu): %s", size,
               mdb_strerror(rc));
        return rc == MDB_MAP_FULL ? -ENOSPC : -EIO;
    }
    if ((rc = mdb_env_info(self->env, &info)) != 0)
        return store_err(rc, "mdb_env_info");
    self->map_size = info.me_mapsize;
    return 0;
}

/* Doubles the map, up to map_size_max. where is "write" (a put, del or
 * dbi_open) or "commit": both happen, and which one did is worth a line in
 * the log. */
static int
grow(jm_store_t *self, const char *where)
{
    size_t old = self->map_size;
    size_t size;
    int rc;

    if (old >= self->map_size_max) {
        jm_log(JM_LOG_WARN, "store",
               "map full at %s and already at its maximum of %zu bytes", where,
               self->map_size_max);
        return -ENOSPC;
    }
    size = old > self->map_size_max / 2 ? self->map_size_max : old * 2;
    if ((rc = set_map_size(self, size)) != 0)
        return rc;
    if (self->map_size <= old)
        return -ENOSPC; /* cannot happen, but must not loop forever */
    self->growths++;
    jm_log(JM_LOG_NOTICE, "store", "map full at %s: grew map from %zu to %zu",
           where, old, self->map_size);
    return 0;
}

static int
txn_begin(jm_store_t *self, bool write, jm_txn_t *out)
{
    unsigned flags = write ? 0 : MDB_RDONLY;
    MDB_txn *txn = NULL;
    int rc;

    out->txn = NULL;
    out->store = self;
    out->write = write;
    out->map_full = false;
    if (self->broken)
        return -EIO;
    rc = mdb_txn_begin(self->env, NULL, flags, &txn);
    if (rc == MDB_MAP_RESIZED && self->active_txns == 0) {
        /* Another process (an LMDB tool) grew the map: adopt its size. */
        if ((rc = set_map_size(self, 0)) != 0)
            return rc;
        rc = mdb_txn_begin(self->env, NULL, flags, &txn);
    }
    if (rc != 0)
        return store_err(rc, "mdb_txn_begin");
    out->txn = txn;
    self->active_txns++;
    return 0;
}

static void
txn_abort(jm_txn_t *txn)
{
    mdb_txn_abort(txn->txn);
    txn->txn = NULL;
    txn->store->active_txns--;
}

enum data_file { DATA_NONE, DATA_EMPTY, DATA_HELD };

/* What dir's data.mdb is: none yet, an empty file (which LMDB too takes
 * for a new environment), or a file with data. */
static enum data_file
data_file(const char *dir)
{
    size_t size = strlen(dir) + sizeof("/data.mdb");
    char *path = jm_xmalloc(size);
    struct stat st;
    enum data_file what;

    (void) snprintf(path, size, "%s/data.mdb", dir);
    if (stat(path, &st) != 0)
        what = DATA_NONE;
    else
        what = st.st_size == 0 ? DATA_EMPTY : DATA_HELD;
    free(path);
    return what;
}

/* Refuses a data file shorter than the pages its meta page says are in
 * use. LMDB maps the file and trusts that: reading a page past the end of
 * the file is SIGBUS, a crash with no word of why, at the first read of
 * the tree. mdb_env_open reads only the two meta pages (with read(), so a
 * file too short for those already fails there, MDB_INVALID). A file cut
 * short is a backup copy that ran out of room or was interrupted, or a
 * disk that lost its end: nothing to repair here, only to say so. */
static int
check_file_size(jm_store_t *self, const char *dir)
{
    MDB_envinfo info;
    MDB_stat stat;
    mdb_filehandle_t fd;
    struct stat st;
    unsigned long long needed;
    int rc;

    if ((rc = mdb_env_info(self->env, &info)) != 0)
        return store_err(rc, "mdb_env_info");
    if ((rc = mdb_env_stat(self->env, &stat)) != 0)
        return store_err(rc, "mdb_env_stat");
    if ((rc = mdb_env_get_fd(self->env, &fd)) != 0)
        return store_err(rc, "mdb_env_get_fd");
    if (fstat(fd, &st) != 0)
        return -errno;
    needed = ((unsigned long long) info.me_last_pgno + 1) * stat.ms_psize;
    if ((unsigned long long) st.st_size >= needed)
        return 0;
    jm_log(
        JM_LOG_ERR, "store",
        "%s/data.mdb is %lld bytes long but the data it holds needs %llu "
        "(%llu pages of %u bytes): the file was cut short: restore it from a "
        "backup, or for a matcher empty the directory (docs/operations.md, "
        "\"Backup and restore\")",
        dir, (long long) st.st_size, needed,
        (unsigned long long) info.me_last_pgno + 1, stat.ms_psize);
    return -EIO;
}

/* One open per directory: in this process or any other. LMDB itself lets
 * a second open in. In one process, its POSIX record locks are per
 * process and per file, so a second MDB_env on the same files shares them
 * and closing either releases the other's (lmdb.h caveats): tests that
 * opened a service's directory twice would corrupt it silently. In two
 * processes its locks order the readers and writers of one environment,
 * and two services on one directory are not that: each keeps state in
 * memory that the other's writes make wrong (a second intake would hand
 * out sequence numbers and list orders the first never saw).
 *
 * The lock is flock() on the directory itself, not on a file of LMDB's
 * (closing any descriptor of ours on lock.mdb would drop LMDB's locks).
 * flock locks belong to an open file description, so a second open() in
 * this process conflicts as another process's does; the directory is the
 * one its path, a symlink or a bind mount leads to. The kernel releases it
 * when the process ends, kill -9 included: nothing to clean up, no stale
 * lock to break. mdb_copy (the backup) does not take it. Returns the
 * locked descriptor, or -EBUSY (logged) or another -errno. */
static int
lock_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
    close(fd);
    return rc;
}

int
jm_store_open(jm_store_t **store_p, const char *dir, const jm_store_opts *opts)
{
    jm_store_opts o = {.map_size = DEFAULT_MAP_SIZE,
                       .map_size_max = DEFAULT_MAP_SIZE_MAX,
                       .max_dbs = DEFAULT_MAX_DBS};
    jm_store_t *self = NULL;
    MDB_envinfo info;
    struct stat st;
    enum data_file what;
    int rc, dead = 0;

    JM_ASSERT(store_p != NULL);
    JM_ASSERT(dir != NULL);
    *store_p = NULL;
    if (opts != NULL) {
        if (opts->map_size != 0)
            o.map_size = opts->map_size;
        if (opts->map_size_max != 0)
            o.map_size_max = opts->map_size_max;
        if (opts->max_dbs != 0)
            o.max_dbs = opts->max_dbs;
        o.refetchable = opts->refetchable;
    }
    /* Only a maximum below the default start: start at the maximum. */
    if ((opts == NULL || opts->map_size == 0) && o.map_size > o.map_size_max)
        o.map_size = o.map_size_max;
    if (o.map_size > o.map_size_max)
        return -EINVAL;
    if (stat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;

    self = jm_xcalloc(1, sizeof(*self));
    self->map_size_max = o.map_size_max;
    if ((self->dir_fd = lock_dir(dir)) < 0) {
        rc = self->dir_fd;
        if (rc == -EBUSY)
            jm_log(JM_LOG_ERR, "store",
                   "%s is in use: another process has it open (is this "
                   "service already running on it?), or this one does; one "
                   "open per data directory",
                   dir);
        goto fail;
    }
    if ((rc = mdb_env_create(&self->env)) != 0) {
        rc = store_err(rc, "mdb_env_create");
        goto fail;
    }
    /* One more than asked for: the cursors database is ours. */
    if ((rc = mdb_env_set_maxdbs(self->env, o.max_dbs + 1)) != 0) {
        rc = store_err(rc, "mdb_env_set_maxdbs");
        goto fail;
    }
    /* An empty data file where data should be (a copy or a restore that
     * wrote nothing, a disk that lost it): LMDB would start a new, empty
     * store in it, and a source would hand out a new log that its
     * consumers take for a restore. Its data is gone; what to do is the
     * operator's call. A refetchable store (the matcher's view) is
     * fetched again anyway. LMDB writes its two meta pages as it creates
     * the file, so its own first open leaves no empty file behind. */
    what = data_file(dir);
    if (what == DATA_EMPTY && !o.refetchable) {
        jm_log(JM_LOG_ERR, "store",
               "%s/data.mdb is empty (0 bytes): the data of this store is not "
               "in it (a copy or a restore that wrote nothing?): restore the "
               "directory from a backup (docs/operations.md, \"Backup and "
               "restore\"); if it never held data, delete the empty file",
               dir);
        rc = -EIO;
        goto fail;
    }
    /* A new environment starts at the configured size. (Set after the
     * open, it would start at LMDB's 1 MiB default, which the file then
     * keeps: LMDB never records a smaller size than it once had.) */
    if (what != DATA_HELD &&
        (rc = mdb_env_set_mapsize(self->env, o.map_size)) != 0) {
        rc = store_err(rc, "mdb_env_set_mapsize");
        goto fail;
    }
    /* Full sync (no NOSYNC, NOMETASYNC, MAPASYNC, WRITEMAP): an
     * acknowledged commit survives a crash; a refetchable store gives up
     * only the meta page's sync (see store.h). NOTLS: read transactions
     * are not bound to a thread slot, so two can be open in one thread. */
    if ((rc = mdb_env_open(self->env, dir,
                           MDB_NOTLS | (o.refetchable ? MDB_NOMETASYNC : 0),
                           0600)) != 0) {
        rc = store_err(rc, "mdb_env_open");
        goto fail;
    }
    /* Before anything reads a page of the tree, which the lines below do
     * (jm_store_dbi). */
    if ((rc = check_file_size(self, dir)) != 0)
        goto fail;
    JM_ASSERT(mdb_env_get_maxkeysize(self->env) == JM__STORE_KEY_MAX);
    /* An existing environment was opened without a size, so LMDB took
     * the largest it ever recorded: a map that grew in an earlier run
     * keeps its size instead of filling up and growing again. It is only
     * raised to the configured size. */
    if ((rc = mdb_env_info(self->env, &info)) != 0) {
        rc = store_err(rc, "mdb_env_info");
        goto fail;
    }
    self->map_size = info.me_mapsize;
    if (self->map_size < o.map_size &&
        (rc = set_map_size(self, o.map_size)) != 0)
        goto fail;
    if ((rc = jm_store_reader_check(self, &dead)) != 0)
        goto fail;
    if (dead > 0)
        jm_log(JM_LOG_NOTICE, "store", "%s: cleared %d stale reader slot(s)",
               dir, dead);
    if ((rc = jm_store_dbi(self, JM__STORE_CURSORS_DB, false,
                           &self->cursors)) != 0)
        goto fail;
    *store_p = self;
    return 0;

fail:
    jm_store_destroy(&self);
    return rc;
}

void
jm_store_destroy(jm_store_t **store_p)
{
    jm_store_t *self;

    JM_ASSERT(store_p != NULL);
    self = *store_p;
    if (self == NULL)
        return;
    JM_ASSERT(self->active_txns == 0);
    /* mdb_env_close is also the way to discard an env whose open failed. */
    if (self->env != NULL)
        mdb_env_close(self->env);
    /* After the environment: the lock guards it to the end. */
    if (self->dir_fd >= 0)
        close(self->dir_fd);
    free(self);
    *store_p = NULL;
}

struct dbi_open {
    const char *name;
    unsigned flags;
    MDB_dbi dbi;
};

static int
dbi_open_fn(jm_txn_t *txn, void *arg)
{
    struct dbi_open *d = arg;

    return txn_err(txn, mdb_dbi_open(txn->txn, d->name, d->flags, &d->dbi),
                   "mdb_dbi_open");
}

int
jm_store_dbi(jm_store_t *store, const char *name, bool dupsort, jm_dbi *dbi_out)
{
    struct dbi_open d = {name, MDB_CREATE | (dupsort ? MDB_DUPSORT : 0), 0};
    int rc;

    JM_ASSERT(store != NULL);
    JM_ASSERT(name != NULL);
    JM_ASSERT(dbi_out != NULL);
    /* Names are keys of LMDB's main database. */
    if (!key_size_ok(strlen(name)))
        return -EINVAL;
    /* The handle becomes visible to other transactions only once the
     * transaction that opened it commits: hence a write of its own (which
     * also grows the map if creating the database needs it). */
    if ((rc = jm_store_write(store, dbi_open_fn, &d)) != 0)
        return rc;
    *dbi_out = d.dbi;
    return 0;
}

int
jm_store_dbi_pair(jm_store_t *store, const char *name, const char *suffix,
                  jm_dbi *first_out, jm_dbi *second_out)
{
    size_t size = strlen(name) + strlen(suffix) + 1;
    char *companion;
    int rc;

    if (name[0] == '\0')
        return -EINVAL;
    companion = jm_xmalloc(size);
    (void) snprintf(companion, size, "%s%s", name, suffix);
    if ((rc = jm_store_dbi(store, name, false, first_out)) == 0)
        rc = jm_store_dbi(store, companion, false, second_out);
    free(companion);
    return rc;
}

int
jm_store_write(jm_store_t *store, jm_store_txn_fn fn, void *arg)
{
    const char *where;
    jm_txn_t txn = {NULL, NULL, false, false};
    int rc;

    JM_ASSERT(store != NULL);
    JM_ASSERT(fn != NULL);
    /* No nesting: a second write transaction would wait on LMDB's writer
     * lock forever, and a read transaction left open around this one would
     * make growing the map unsafe. Failing here, every time, beats failing
     * on the rare day the map fills up. */
    JM_ASSERT(store->active_txns == 0);
    for (;;) {
        if ((rc = txn_begin(store, true, &txn)) != 0)
            return rc;
        rc = fn(&txn, arg);
        if (rc != 0 || txn.map_full) {
            txn_abort(&txn);
            if (!txn.map_full)
                return rc;
            where = "write";
        } else {
            /* Frees the transaction even when it fails: no abort after. */
            rc = mdb_txn_commit(txn.txn);
            txn.txn = NULL;
            store->active_txns--;
            if (rc == 0)
                return 0;
            if (rc != MDB_MAP_FULL)
                return commit_err(store, rc);
            where = "commit";
        }
        if ((rc = grow(store, where)) != 0)
            return rc;
    }
}

int
jm_store_read(jm_store_t *store, jm_store_txn_fn fn, void *arg)
{
    jm_txn_t txn = {NULL, NULL, false, false};
    int rc;

    JM_ASSERT(store != NULL);
    JM_ASSERT(fn != NULL);
    if ((rc = txn_begin(store, false, &txn)) != 0)
        return rc;
    rc = fn(&txn, arg);
    /* A read-only transaction has nothing to commit; abort releases its
     * reader slot (with NOTLS the slot belongs to the transaction, not to
     * the thread). */
    txn_abort(&txn);
    return rc;
}

int
jm_store_reader_check(jm_store_t *store, int *dead_out)
{
    int dead = 0;
    int rc;

    JM_ASSERT(store != NULL);
    if ((rc = mdb_reader_check(store->env, &dead)) != 0)
        return store_err(rc, "mdb_reader_check");
    if (dead_out != NULL)
        *dead_out = dead;
    return 0;
}

int
jm_store_copy(jm_store_t *store, const char *dir)
{
    int fd, rc;

    JM_ASSERT(store != NULL);
    JM_ASSERT(dir != NULL);
    /* Copying over a live environment would corrupt it: the target must
     * not be open, here or elsewhere (its lock is held while copying). */
    if ((fd = lock_dir(dir)) < 0)
        return fd;
    /* The copy runs in its own read transaction: a consistent snapshot
     * while writes go on. It creates data.mdb exclusively (-EEXIST if the
     * directory already holds one). */
    rc = store_err(mdb_env_copy2(store->env, dir, MDB_CP_COMPACT),
                   "mdb_env_copy2");
    close(fd);
    return rc;
}

size_t
jm_store_map_size(const jm_store_t *store)
{
    JM_ASSERT(store != NULL);
    return store->map_size;
}

unsigned
jm_store_growths(const jm_store_t *store)
{
    JM_ASSERT(store != NULL);
    return store->growths;
}

jm_dbi
jm__store_cursors_dbi(const jm_store_t *store)
{
    return store->cursors;
}

/* ---- inside a transaction ---- */

jm_store_t *
jm_txn_store(jm_txn_t *txn)
{
    JM_ASSERT(txn != NULL);
    return txn->store;
}

bool
jm_txn_is_write(const jm_txn_t *txn)
{
    JM_ASSERT(txn != NULL);
    return txn->write;
}

int
jm_txn_get(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size,
           jm_val *out)
{
    MDB_val k = {key_size, (void *) key};
    MDB_val v;
    int rc;

    JM_ASSERT(txn != NULL && txn->txn != NULL);
    JM_ASSERT(out != NULL);
    out->data = NULL;
    out->size = 0;
    /* Checked here so that a caller's bad key is -EINVAL, not LMDB's
     * MDB_BAD_VALSIZE (which would be logged as -EIO). */
    if (!key_size_ok(key_size))
        return -EINVAL;
    if ((rc = mdb_get(txn->txn, dbi, &k, &v)) != 0)
        return txn_err(txn, rc, "mdb_get");
    out->data = v.mv_data;
    out->size = v.mv_size;
    return 0;
}

int
jm_txn_put(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size,
           const void *data, size_t size, unsigned flags)
{
    MDB_val k = {key_size, (void *) key};
    MDB_val v = {size, (void *) data};
    unsigned mdb_flags = 0, db_flags = 0;
    int rc;

    JM_ASSERT(txn != NULL && txn->txn != NULL && txn->write);
    JM_ASSERT((flags & ~(unsigned) (JM_PUT_NOOVERWRITE | JM_PUT_APPEND)) == 0);
    JM_ASSERT(data != NULL || size == 0);
    if (!key_size_ok(key_size))
        return -EINVAL;
    /* A DUPSORT value is stored like a key and has the same limit. */
    if (size > JM__STORE_KEY_MAX) {
        if ((rc = mdb_dbi_flags(txn->txn, dbi, &db_flags)) != 0)
            return txn_err(txn, rc, "mdb_dbi_flags");
        if (db_flags & MDB_DUPSORT)
            return -EINVAL;
    }
    if (flags & JM_PUT_NOOVERWRITE)
        mdb_flags |= MDB_NOOVERWRITE;
    if (flags & JM_PUT_APPEND)
        mdb_flags |= MDB_APPEND; /* a key out of order: MDB_KEYEXIST */
    return txn_err(txn, mdb_put(txn->txn, dbi, &k, &v, mdb_flags), "mdb_put");
}

int
jm_txn_del(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size)
{
    MDB_val k = {key_size, (void *) key};

    JM_ASSERT(txn != NULL && txn->txn != NULL && txn->write);
    if (!key_size_ok(key_size))
        return -EINVAL;
    /* Copy-on-write: a delete allocates pages too, and can fill the map. */
    return txn_err(txn, mdb_del(txn->txn, dbi, &k, NULL), "mdb_del");
}

int
jm_txn_scan(jm_txn_t *txn, jm_dbi dbi, const void *start, size_t start_size,
            jm_txn_scan_fn fn, void *arg)
{
    MDB_cursor *cursor = NULL;
    MDB_val k = {start_size, (void *) start};
    MDB_val v;
    MDB_cursor_op op = start_size > 0 ? MDB_SET_RANGE : MDB_FIRST;
    int rc;

    JM_ASSERT(txn != NULL && txn->txn != NULL);
    JM_ASSERT(fn != NULL);
    if (start_size > JM__STORE_KEY_MAX)
        return -EINVAL;
    if ((rc = mdb_cursor_open(txn->txn, dbi, &cursor)) != 0)
        return txn_err(txn, rc, "mdb_cursor_open");
    for (;;) {
        jm_val key, val;

        rc = mdb_cursor_get(cursor, &k, &v, op);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc != 0) {
            rc = txn_err(txn, rc, "mdb_cursor_get");
            break;
        }
        key.data = k.mv_data;
        key.size = k.mv_size;
        val.data = v.mv_data;
        val.size = v.mv_size;
        if ((rc = fn(&key, &val, arg)) != 0) {
            rc = rc < 0 ? rc : 0;
            break;
        }
        op = MDB_NEXT; /* on DUPSORT: every value of every key */
    }
    /* A cursor of a read-only transaction is not freed with it. */
    mdb_cursor_close(cursor);
    return rc;
}

int
jm_txn_count(jm_txn_t *txn, jm_dbi dbi, uint64_t *count)
{
    MDB_stat st;
    int rc;

    JM_ASSERT(txn != NULL && txn->txn != NULL);
    JM_ASSERT(count != NULL);
    *count = 0;
    if ((rc = mdb_stat(txn->txn, dbi, &st)) != 0)
        return txn_err(txn, rc, "mdb_stat");
    *count = st.ms_entries;
    return 0;
}

int
jm_txn_last(jm_txn_t *txn, jm_dbi dbi, jm_val *key, jm_val *val)
{
    MDB_cursor *cursor = NULL;
    MDB_val k, v;
    int rc;

    JM_ASSERT(txn != NULL && txn->txn != NULL);
    if ((rc = mdb_cursor_open(txn->txn, dbi, &cursor)) != 0)
        return txn_err(txn, rc, "mdb_cursor_open");
    rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
    mdb_cursor_close(cursor);
    if (rc != 0)
        return txn_err(txn, rc, "mdb_cursor_get");
    if (key != NULL) {
        key->data = k.mv_data;
        key->size = k.mv_size;
    }
    if (val != NULL) {
        val->data = v.mv_data;
        val->size = v.mv_size;
    }
    return 0;
}

void
jm_be64_put(uint8_t out[8], uint64_t value)
{
    int i;

    for (i = 7; i >= 0; i--) {
        out[i] = (uint8_t) (value & 0xff);
        value >>= 8;
    }
}

uint64_t
jm_be64_get(const uint8_t in[8])
{
    uint64_t value = 0;
    int i;

    for (i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}
