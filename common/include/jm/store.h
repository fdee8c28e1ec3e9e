/* store.h - each service's LMDB environment, and the pieces every service
 * builds on it: the append-only event log, idempotency records, consumer
 * cursors and group commit.
 *
 * Facts this module is built on (DESIGN.md section 5, checked against LMDB
 * 0.9.24):
 *   - Full sync (no MDB_NOSYNC/NOMETASYNC/MAPASYNC): a committed transaction
 *     survives kill -9 and power loss. Throughput comes from group commit.
 *   - MDB_NOTLS, so that read transactions are not tied to a thread slot.
 *   - mdb_txn_commit frees the transaction even when it fails: never abort
 *     after a failed commit.
 *   - MDB_MAP_FULL comes from mdb_put *and* from mdb_txn_commit. The
 *     recovery that works: drop the transaction, grow the map with no
 *     transaction active, redo the whole batch. jm_store_write does this,
 *     which is why its callback must be redo-safe.
 *   - mdb_reader_check at open and from the housekeeping timer.
 *   - One open per directory: in one process a second environment on the
 *     same files shares LMDB's locks, and closing one breaks the other's;
 *     a second service on a directory in use would keep state in memory
 *     the first one's writes make wrong. jm_store_open refuses both (-EBUSY:
 *     flock on the directory), and jm_store_copy refuses an open target.
 *   - Keys are binary and numbers big-endian, so that byte order is numeric
 *     order. Keys are at most 511 bytes.
 *
 * Transactions are short: a read transaction never outlives one loop
 * callback, and values read through it are borrowed until it ends. Every
 * call here runs on the loop's thread and returns 0 or -errno (-ENOENT for
 * a missing key, -EEXIST for an existing one, -ENOSPC is handled inside
 * jm_store_write, -EIO for the rest, logged). */
#ifndef JM_STORE_H
#define JM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct jm_store jm_store_t;
typedef struct jm_txn jm_txn_t;

/* A named database inside the environment (an MDB_dbi). */
typedef unsigned int jm_dbi;

/* A borrowed value: valid until its transaction ends. */
typedef struct jm_val {
    const void *data;
    size_t size;
} jm_val;

/* A zero field takes the default. The initial map defaults to 1 GiB, or
 * map_size_max if that is smaller; a map that grew keeps its size across
 * restarts. max_dbs does not count the "cursors" database. */
typedef struct jm_store_opts {
    size_t map_size;     /* initial map size; default 1 GiB (sparse) */
    size_t map_size_max; /* growth stops here; default 64 GiB */
    unsigned max_dbs;    /* named databases; default 32 */
    /* The store holds only what can be fetched again from elsewhere: a
     * consumer's view, with its cursors in the same transactions (the
     * matcher). Commits then sync the data but not the meta page
     * (MDB_NOMETASYNC): one fdatasync instead of two. A system crash may
     * undo the last transactions, cursor and data together, which the
     * consumer fetches again; the store is never corrupted. A source of
     * truth (intake, profiles) must leave this false. */
    bool refetchable;
} jm_store_opts;

/* Opens (creating if needed) the environment in directory dir, which must
 * exist. opts NULL: defaults. Runs mdb_reader_check. Returns -EBUSY
 * (logged) if this process or another has dir open. Caller owns
 * *store_p. */
int jm_store_open(jm_store_t **store_p, const char *dir,
                  const jm_store_opts *opts);

/* Closes the environment. No transaction may be active. Safe on NULL. */
void jm_store_destroy(jm_store_t **store_p);

/* Opens (creating) the named database. Call right after jm_store_open,
 * before any other transaction (it runs a write transaction of its own, so
 * never from inside a transaction). dupsort for MDB_DUPSORT. Opening the
 * same name again gives the same handle. */
int jm_store_dbi(jm_store_t *store, const char *name, bool dupsort,
                 jm_dbi *dbi_out);

/* Opens name and its companion name + suffix ("requests" and
 * "requests.time"): the pairs the event log and the idempotency records
 * keep. -EINVAL for an empty name. */
int jm_store_dbi_pair(jm_store_t *store, const char *name, const char *suffix,
                      jm_dbi *first_out, jm_dbi *second_out);

/* A unit of work inside one transaction. Return 0 to commit, or -errno to
 * abort (the error is returned by jm_store_write/read). For
 * jm_store_write the function may be called more than once: after
 * -ENOSPC the transaction is dropped, the map grown and the function called
 * again from the start, so it must not have effects outside the
 * transaction that a second call would repeat wrongly. */
typedef int (*jm_store_txn_fn)(jm_txn_t *txn, void *arg);

/* Runs fn in a write transaction and commits (fsync). Returns 0 only after
 * the commit returned 0: only then may the caller say "accepted". Never
 * from inside another transaction of the store (asserted): the map can
 * only grow when no transaction is alive. Reads inside fn are fine. */
int jm_store_write(jm_store_t *store, jm_store_txn_fn fn, void *arg);

/* Runs fn in a read-only transaction (a consistent MVCC view). */
int jm_store_read(jm_store_t *store, jm_store_txn_fn fn, void *arg);

/* Removes stale reader slots of dead processes; *dead_out (may be NULL)
 * gets their number. For the housekeeping timer. */
int jm_store_reader_check(jm_store_t *store, int *dead_out);

/* A consistent, compacted copy of the environment into the empty
 * directory dir, while the store stays in use (mdb_env_copy2 with
 * MDB_CP_COMPACT). For backups. */
int jm_store_copy(jm_store_t *store, const char *dir);

/* Current map size in bytes, and how many times it has grown. */
size_t jm_store_map_size(const jm_store_t *store);
unsigned jm_store_growths(const jm_store_t *store);

/* ---- inside a transaction ---- */

enum {
    JM_PUT_NOOVERWRITE = 1 << 0, /* -EEXIST if the key exists */
    JM_PUT_APPEND = 1 << 1,      /* key sorts after every existing key */
};

/* The store the transaction belongs to. */
jm_store_t *jm_txn_store(jm_txn_t *txn);
bool jm_txn_is_write(const jm_txn_t *txn);

int jm_txn_get(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size,
               jm_val *out);
int jm_txn_put(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size,
               const void *data, size_t size, unsigned flags);
/* -ENOENT if the key is absent. On a DUPSORT database deletes all values
 * of the key. */
int jm_txn_del(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size);

/* Called for every key >= start (in key order; start_size 0: from the
 * first) until it returns non-zero: 1 stops the walk (jm_txn_scan returns
 * 0), a negative value stops it and is returned. key and val are borrowed
 * until the transaction ends. On a DUPSORT database every value of every
 * key is visited. fn must not write to dbi. */
typedef int (*jm_txn_scan_fn)(const jm_val *key, const jm_val *val, void *arg);
int jm_txn_scan(jm_txn_t *txn, jm_dbi dbi, const void *start, size_t start_size,
                jm_txn_scan_fn fn, void *arg);

/* How many entries dbi holds (values, on a DUPSORT database): LMDB keeps
 * the count in the tree's root, so this reads no data. */
int jm_txn_count(jm_txn_t *txn, jm_dbi dbi, uint64_t *count);

/* The last key and value of dbi; -ENOENT if empty. */
int jm_txn_last(jm_txn_t *txn, jm_dbi dbi, jm_val *key, jm_val *val);

/* Big-endian 64-bit keys: memcmp order is numeric order. */
void jm_be64_put(uint8_t out[8], uint64_t value);
uint64_t jm_be64_get(const uint8_t in[8]);

/* ---- the event log: seq (big-endian u64) -> event bytes ---- */

typedef struct jm_eventlog jm_eventlog_t;

/* Opens the log stored in databases "<name>" and "<name>.meta". The first
 * open creates a random log id (32 hex characters): a consumer that sees
 * it change knows the store was replaced. Caller owns *log_p. */
int jm_eventlog_open(jm_eventlog_t **log_p, jm_store_t *store,
                     const char *name);
void jm_eventlog_destroy(jm_eventlog_t **log_p);

/* Borrowed; lives as long as the log. */
const char *jm_eventlog_id(const jm_eventlog_t *log);

/* The seq the next append in this transaction will get (head + 1). */
int jm_eventlog_next_seq(jm_eventlog_t *log, jm_txn_t *txn, uint64_t *seq);

/* Appends data as entry seq, which must equal jm_eventlog_next_seq
 * (-EINVAL otherwise): seqs stay contiguous. */
int jm_eventlog_append(jm_eventlog_t *log, jm_txn_t *txn, uint64_t seq,
                       const void *data, size_t size);

/* Replaces the data of entry seq, which must still be kept (-ENOENT if
 * pruned or never written): for redacting what an entry said (an erased
 * citizen's profile), never for changing history otherwise. Its seq
 * stays, so consumers' positions stay valid. */
int jm_eventlog_replace(jm_eventlog_t *log, jm_txn_t *txn, uint64_t seq,
                        const void *data, size_t size);

/* Last committed seq (0 if empty) and oldest kept seq (head + 1 if
 * nothing is kept), as seen by txn. */
int jm_eventlog_bounds(jm_eventlog_t *log, jm_txn_t *txn, uint64_t *first,
                       uint64_t *head);

/* Calls fn for entries with seq > after, in order, until fn returns
 * non-zero (as jm_txn_scan) or limit entries were visited (limit 0: none).
 * Entries before the first kept seq are simply not there: compare after
 * with jm_eventlog_bounds to notice a gap. */
typedef int (*jm_eventlog_fn)(uint64_t seq, const jm_val *entry, void *arg);
int jm_eventlog_read(jm_eventlog_t *log, jm_txn_t *txn, uint64_t after,
                     size_t limit, jm_eventlog_fn fn, void *arg);

/* Deletes entries with seq <= upto (keeping at least the head entry, so
 * that the head seq survives a restart) and records the new first seq. */
int jm_eventlog_prune(jm_eventlog_t *log, jm_txn_t *txn, uint64_t upto);

/* ---- idempotency: request id -> the first reply ---- */

typedef struct jm_idem jm_idem_t;

/* Databases "<name>" (id -> record) and "<name>.time" (for pruning). */
int jm_idem_open(jm_idem_t **idem_p, jm_store_t *store, const char *name);
void jm_idem_destroy(jm_idem_t **idem_p);

/* The digest of a request (jm_rpc_call_request_digest): a key id (8
 * bytes), then a keyed hash of the request (8). Tells a retry from
 * another request sent with the same id, as long as the key is the same:
 * the key lives in the serving process's memory only. */
#define JM_IDEM_DIGEST_LEN 16

/* If request_id was recorded: 0 with *reply the stored reply bytes
 * (borrowed until the transaction ends); -EACCES if it was recorded for
 * another principal; -EEXIST if for a request of another digest under the
 * same key id (digest NULL, a record made without one, or one of another
 * key id, is not compared). -ENOENT if unknown. */
int jm_idem_lookup(jm_idem_t *idem, jm_txn_t *txn, const uint8_t id[16],
                   const char *principal,
                   const uint8_t digest[JM_IDEM_DIGEST_LEN], jm_val *reply);

/* Records the reply for request_id, and the request's digest (may be
 * NULL), at time now_ms (>= 0). -EEXIST if the id is already recorded
 * (the first reply stays); -EINVAL if the principal is longer than 255
 * bytes. */
int jm_idem_record(jm_idem_t *idem, jm_txn_t *txn, const uint8_t id[16],
                   const char *principal,
                   const uint8_t digest[JM_IDEM_DIGEST_LEN], int64_t now_ms,
                   const void *reply, size_t size);

/* Forgets records older than before_ms; at most limit per call (keeps
 * transactions short). *removed_out may be NULL. */
int jm_idem_prune(jm_idem_t *idem, jm_txn_t *txn, int64_t before_ms,
                  size_t limit, size_t *removed_out);

/* ---- consumer cursors: source name -> (log id, applied seq) ---- */

typedef struct jm_cursor {
    char log_id[33]; /* empty if the source has never been seen */
    uint64_t seq;    /* last applied seq */
} jm_cursor;

/* Database name "cursors", which jm_store_open always opens: these are
 * called inside a transaction, where a database can no longer be opened.
 * -ENOENT leaves *out zeroed. save wants a 32-character log_id (-EINVAL
 * otherwise). */
int jm_cursor_load(jm_store_t *store, jm_txn_t *txn, const char *source,
                   jm_cursor *out);
int jm_cursor_save(jm_store_t *store, jm_txn_t *txn, const char *source,
                   const jm_cursor *cursor);
/* Deletes the cursor of source, if there is one: the consumer starts
 * again from the beginning (or a snapshot) of that source's log. */
int jm_cursor_forget(jm_store_t *store, jm_txn_t *txn, const char *source);

/* ---- group commit ---- */

/* All valid requests of one loop turn go into one write transaction and
 * their replies go out after it commits (DESIGN.md section 3).
 *
 * apply is called for each queued item inside the transaction, in queue
 * order. It returns 0 if the item was applied, a positive value if the item
 * was rejected *without writing anything* (a conflict found by reading,
 * say; the item records its own error reply), or -errno to fail the whole
 * batch. On -ENOSPC the whole batch is redone after growing the map, so
 * apply must be redo-safe (jm_store_txn_fn). done is then called for each
 * item, in order, after the commit: status 0 (applied), the positive
 * rejection, or the batch's -errno (nothing was committed). */
typedef struct jm_commit jm_commit_t;
typedef int (*jm_commit_apply_fn)(jm_txn_t *txn, void *item, void *arg);
typedef void (*jm_commit_done_fn)(void *item, int status, void *arg);

/* Caller owns *commit_p. */
int jm_commit_new(jm_commit_t **commit_p, jm_store_t *store,
                  jm_commit_apply_fn apply, jm_commit_done_fn done, void *arg);
void
jm_commit_destroy(jm_commit_t **commit_p); /* pending items: done(-ECANCELED) */

/* Called once per flush, right after the transaction committed (status
 * 0) or failed (the batch's -errno), before any done call: the place for
 * work that must follow the commit and precede every reply (a source
 * publishing its new head, say). Optional; NULL removes it. */
typedef void (*jm_commit_committed_fn)(int status, void *arg);
void jm_commit_on_committed(jm_commit_t *commit, jm_commit_committed_fn fn);

/* Called at the start of each attempt at the transaction, before the first
 * apply: once per flush, and again when the batch is redone after growing
 * the map. Optional; NULL removes it. */
typedef void (*jm_commit_begin_fn)(void *arg);
void jm_commit_on_begin(jm_commit_t *commit, jm_commit_begin_fn fn);

/* Called at the end of each attempt at the transaction, after the last
 * apply and before the commit (which may still fail): inside txn, for a
 * hint to others that the batch is being committed (a source announcing
 * its pending events). Optional; NULL removes it. */
typedef void (*jm_commit_prepared_fn)(jm_txn_t *txn, void *arg);
void jm_commit_on_prepared(jm_commit_t *commit, jm_commit_prepared_fn fn);

/* Queues item (borrowed until its done call). */
void jm_commit_add(jm_commit_t *commit, void *item);
size_t jm_commit_pending(const jm_commit_t *commit);

/* Commits everything queued in one transaction, then calls done for each.
 * The owner calls it once per loop turn, from the socket's drained callback
 * (and after queueing from a timer). Returns the batch status. Items queued
 * by done callbacks wait for the next flush. */
int jm_commit_flush(jm_commit_t *commit);

/* Counters for metrics. */
typedef struct jm_commit_stats {
    uint64_t batches;
    uint64_t items;
    uint64_t largest_batch;
    uint64_t redos; /* batches redone after growing the map */
} jm_commit_stats;

void jm_commit_get_stats(const jm_commit_t *commit, jm_commit_stats *out);

#endif
