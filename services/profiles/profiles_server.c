/* profiles_server.c - the profiles service's wiring: start-up (secret, key
 * file, store, jm_source), the check of every request (fields, then the
 * principal's rights), and the work that must follow each commit.
 *
 * The design decision to know: key files change only outside LMDB
 * transactions' reach in a fixed order (profiles_crypto.c explains why).
 * Apply takes durable keys for new citizens and notes erased citizens'
 * slots; the committed hook, which jm_source calls after the commit and
 * before any reply, zeroes erased slots and slots taken for writes that
 * did not commit. A client that hears "erased" therefore knows the key is
 * gone. The reads and writes themselves are in profiles_ops.c. */
#include "profiles_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "jm/clock.h"
#include "jm/err.h"
#include "jm/fs.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "profiles_internal.h"

#define SERVICE "profiles"

/* ---- checks: fields first, then the principal (docs/protocol.md) ---- */

/* PERMISSION_DENIED naming the caller's principal (which the caller
 * knows anyway) and what it tried; never a value from the request. */
static jm_source_kind
deny(jm_error *err, const char *path, const char *principal, const char *what)
{
    jm_error_set(err, JM_E_PERMISSION_DENIED, path, "'%s' may not %s",
                 principal, what);
    return JM_SOURCE_REJECT;
}

/* jm_source_ops.check: runs for every request before anything touches
 * the store. Fields first, then rights (docs/protocol.md, steps 6-7). */
static jm_source_kind
check(const Jobmatch__V1__Request *req, const char *principal, jm_error *err,
      void *arg)
{
    jm_principal p;

    (void) arg;
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE:
    case JOBMATCH__V1__REQUEST__BODY_GET_PROFILE:
    case JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE:
    case JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS:
    case JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS:
    case JOBMATCH__V1__REQUEST__BODY_SET_CONSENT:
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE:
        break;
    default:
        return JM_SOURCE_REJECT; /* jm_source answers UNSUPPORTED_TYPE */
    }
    if (!profiles_profile_check_request(req, jm_clock_today(), err))
        return JM_SOURCE_REJECT;

    jm_principal_parse(principal, &p);
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE:
        /* The payload names the municipality: it must be the caller's. */
        if (!profiles_may_write(
                &p, req->put_profile->profile->home->municipality_code))
            return deny(err, "put_profile.profile.home.municipality_code",
                        principal, "change citizens of this municipality");
        return JM_SOURCE_WRITE;
    case JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS:
    case JOBMATCH__V1__REQUEST__BODY_SET_CONSENT:
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE:
        /* Whether the principal may write at all; the citizen's
         * municipality is checked in apply, where the record is known. */
        if (!profiles_may_write(&p, p.municipality))
            return deny(err, "", principal, "change citizens' profiles");
        return JM_SOURCE_WRITE;
    case JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE:
        if (!profiles_may_see_personal(&p, NULL)) {
            profiles_log_access(principal, "find_profile", NULL, "refused");
            return deny(err, "", principal,
                        "look citizens up by CPR number (caseworkers only)");
        }
        return JM_SOURCE_READ;
    default:
        if (!profiles_may_read(&p))
            return deny(err, "", principal, "read profiles");
        return JM_SOURCE_READ;
    }
}

/* jm_source_ops.snapshot: live profiles for a consumer that fell behind
 * the pruned log. */
static int
snapshot(jm_txn_t *txn, const void *after_key, size_t after_size, size_t limit,
         jm_snapshot_page_t *page, void *arg)
{
    profiles_server_t *server = arg;

    return profiles_repo_snapshot(&server->repo, txn, after_key, after_size,
                                  limit, page);
}

/* ---- key work around the commit ---- */

/* Called from apply when a new citizen took a key slot: the committed
 * hook checks whether a committed record uses it. */
void
profiles_server_reserve(profiles_server_t *server, uint32_t slot,
                        const char *id)
{
    if (server->n_reserved == server->cap_reserved) {
        server->cap_reserved =
            server->cap_reserved ? server->cap_reserved * 2 : 64;
        server->reserved = jm_xrealloc(
            server->reserved, server->cap_reserved * sizeof(*server->reserved));
    }
    server->reserved[server->n_reserved].slot = slot;
    snprintf(server->reserved[server->n_reserved].id,
             sizeof(server->reserved[0].id), "%s", id);
    server->n_reserved++;
}

/* Called from apply when a citizen was erased: the committed hook
 * overwrites the slot once the deletion is durable. */
void
profiles_server_erased(profiles_server_t *server, uint32_t slot)
{
    if (server->n_erased == server->cap_erased) {
        server->cap_erased = server->cap_erased ? server->cap_erased * 2 : 64;
        server->erased = jm_xrealloc(
            server->erased, server->cap_erased * sizeof(*server->erased));
    }
    server->erased[server->n_erased++] = slot;
}

void
profiles_server_note_write(profiles_server_t *server, const char *principal,
                           const char *action, const char *result,
                           const char *id)
{
    struct profiles_write_note *w;

    if (server->n_writes == server->cap_writes) {
        server->cap_writes = server->cap_writes ? server->cap_writes * 2 : 64;
        server->writes = jm_xrealloc(
            server->writes, server->cap_writes * sizeof(*server->writes));
    }
    w = &server->writes[server->n_writes++];
    w->principal = jm_xstrdup(principal);
    w->action = action;
    w->result = result;
    snprintf(w->id, sizeof(w->id), "%s", id);
}

/* Logs the noted writes if committed, and forgets them. */
static void
settle_writes(profiles_server_t *server, bool committed)
{
    for (size_t i = 0; i < server->n_writes; i++) {
        struct profiles_write_note *w = &server->writes[i];

        if (committed)
            profiles_log_access(w->principal, w->action, w->id, w->result);
        free(w->principal);
    }
    server->n_writes = 0;
}

/* jm_source_ops.begin: an attempt at a batch starts; what an earlier one
 * noted is not what this one will commit. */
static void
on_begin(jm_source_t *source, void *arg)
{
    (void) source;
    settle_writes(arg, false);
}

struct unreferenced {
    profiles_server_t *server;
    uint32_t *slots; /* out: reservations no committed record uses */
    size_t count;
};

/* Which of the batch's new keys no committed record uses: taken in an
 * attempt that was redone, or by a citizen erased later in the batch. */
static int
find_unreferenced(jm_txn_t *txn, void *arg)
{
    struct unreferenced *u = arg;
    profiles_server_t *server = u->server;

    for (size_t i = 0; i < server->n_reserved; i++) {
        Jobmatch__V1__PersonalRecord *rec = NULL;
        int rc = profiles_repo_get_personal(&server->repo, txn,
                                            server->reserved[i].id, NULL, &rec);

        if (rc != 0 && rc != -ENOENT)
            return rc;
        if (rc == -ENOENT || rec->key_slot != server->reserved[i].slot)
            u->slots[u->count++] = server->reserved[i].slot;
        if (rec != NULL)
            jobmatch__v1__personal_record__free_unpacked(rec, NULL);
    }
    return 0;
}

/* After each batch, before its replies (jm_source_ops.committed). */
static void
on_committed(jm_source_t *source, int status, void *arg)
{
    profiles_server_t *server = arg;
    struct unreferenced u = {server, NULL, 0};
    int rc = 0;

    (void) source;
    settle_writes(server, status == 0);
    if (server->n_reserved + server->n_erased == 0)
        return;
    u.slots =
        jm_xcalloc(server->n_reserved + server->n_erased + 1, sizeof(uint32_t));
    if (status == 0) {
        /* Keys taken in this batch stay only if a committed record uses
         * them (a redo, or an erasure later in the batch, leaves some
         * unused); erased citizens' keys go now that the commit removed
         * every reference. */
        rc = jm_store_read(jm_source_store(server->source), find_unreferenced,
                           &u);
        if (rc != 0) {
            /* Cannot tell which new keys are unused: keep them all (the
             * next start zeroes what no record uses). The erased ones are
             * certainly unreferenced: they still go now. */
            jm_log(JM_LOG_WARN, SERVICE,
                   "cannot check this batch's new keys: %s", jm_strerror(rc));
            u.count = 0;
        }
        for (size_t i = 0; i < server->n_erased; i++)
            u.slots[u.count++] = server->erased[i];
    } else {
        /* Nothing committed: every key taken is unreferenced, and every
         * citizen "erased" in the batch still exists with its key. */
        for (size_t i = 0; i < server->n_reserved; i++)
            u.slots[u.count++] = server->reserved[i].slot;
    }
    if ((rc = profiles_keys_erase(server->keys, u.slots, u.count)) != 0)
        /* The records are gone but a key survives on disk until the next
         * start, which zeroes every unreferenced slot. */
        jm_log(JM_LOG_ERR, SERVICE,
               "cannot overwrite %zu key slot(s): %s; they will be zeroed "
               "at the next start",
               u.count, jm_strerror(rc));
    free(u.slots);
    server->n_reserved = 0;
    server->n_erased = 0;
}

/* ---- housekeeping ---- */

/* Notes per housekeeping tick: about a millisecond of work. */
#define TRIM_PER_TICK 10000

struct trim_ctx {
    profiles_server_t *server;
    uint64_t first;
    profiles_event_walk walk; /* a copy: the transaction may be redone */
    size_t removed;
};

static int
read_first(jm_txn_t *txn, void *arg)
{
    struct trim_ctx *t = arg;
    uint64_t head;

    return jm_source_log_bounds(t->server->source, txn, &t->first, &head);
}

static int
trim_txn(jm_txn_t *txn, void *arg)
{
    struct trim_ctx *t = arg;

    t->walk = t->server->trim_walk;
    return profiles_repo_trim_events(&t->server->repo, txn, t->first,
                                     TRIM_PER_TICK, &t->walk, &t->removed);
}

/* After jm_source pruned the log (log_retain): the notes of the pruned
 * events go too, a slice per tick, so that the notes of living citizens
 * do not pile up forever. Nothing to do while the log keeps everything,
 * nor once a whole pass has run since the log was last pruned. */
static void
on_housekeeping(jm_source_t *source, void *arg)
{
    profiles_server_t *server = arg;
    struct trim_ctx t = {.server = server};
    int rc;

    (void) source;
    if (jm_store_read(jm_source_store(server->source), read_first, &t) != 0 ||
        t.first <= 1)
        return;
    if (!server->trim_walk.started) {
        /* A new pass, if the log moved on since the last one. */
        if (t.first <= server->trim_done_first)
            return;
        server->trim_pass_first = t.first;
    }
    rc = jm_store_write(jm_source_store(server->source), trim_txn, &t);
    if (rc != 0) {
        jm_log(JM_LOG_WARN, SERVICE, "cannot trim the event notes: %s",
               jm_strerror(rc));
        return;
    }
    server->trim_walk = t.walk;
    if (!t.walk.started) /* round: nothing below pass_first is left */
        server->trim_done_first = server->trim_pass_first;
    if (t.removed > 0)
        jm_log(JM_LOG_DEBUG, SERVICE,
               "forgot %zu notes of events pruned from the log", t.removed);
}

/* ---- start-up ---- */

/* At start, before the first request: the key file's slots against the
 * records that reference them (profiles_keys_start). */
static int
reconcile_keys(jm_txn_t *txn, void *arg)
{
    profiles_server_t *server = arg;
    uint32_t *slots = NULL;
    size_t count = 0, zeroed = 0, lost = 0;
    int rc;

    if ((rc = profiles_repo_used_slots(&server->repo, txn, &slots, &count)) !=
        0)
        return rc;
    rc = profiles_keys_start(server->keys, slots, count,
                             server->accept_lost_keys, &lost, &zeroed);
    free(slots);
    if (rc == -ENOKEY) {
        jm_log(JM_LOG_ERR, SERVICE,
               "%zu citizen record(s) use key slots that keys.bin (%zu "
               "slots) does not have: it is missing, cut short, or older "
               "than the store. Restore keys.bin from the same backup as "
               "the store and start again. If it is lost for good, so is "
               "those citizens' personal data (their profiles are intact): "
               "start once with accept_lost_keys yes to go on without it "
               "(docs/operations.md)",
               lost, profiles_keys_slot_count(server->keys));
        return rc;
    }
    if (rc == 0 && lost > 0)
        jm_log(JM_LOG_WARN, SERVICE,
               "accept_lost_keys: the personal data of %zu citizen(s) is "
               "given up, their key slots kept as erased; remove the "
               "setting again",
               lost);
    if (rc == 0 && zeroed > 0)
        /* An erasure interrupted after its commit, or keys prepared for
         * writes that never committed. */
        jm_log(JM_LOG_NOTICE, SERVICE,
               "zeroed %zu key slot(s) no record references", zeroed);
    return rc;
}

/* The node secret against the store: the store keeps a check value of
 * the secret it was written with ("secret_check" in meta). Without that
 * secret, CPR look-ups of existing citizens find nothing and putting one
 * again makes a second citizen of them; a secret.key missing from a
 * restore is re-created at start, so this is where it shows. A store
 * without the value (new, or written before it existed) gets the present
 * secret's. */
static int
check_secret(jm_txn_t *txn, void *arg)
{
    profiles_server_t *server = arg;
    uint8_t check[PROFILES_SECRET_CHECK_BYTES];
    static const char key[] = "secret_check";
    jm_val v;
    int rc;

    profiles_secret_check(server->secret, check);
    rc = jm_txn_get(txn, server->repo.meta, key, sizeof(key) - 1, &v);
    if (rc == -ENOENT)
        return jm_txn_put(txn, server->repo.meta, key, sizeof(key) - 1, check,
                          sizeof(check), 0);
    if (rc != 0)
        return rc;
    if (v.size == sizeof(check) && memcmp(v.data, check, sizeof(check)) == 0)
        return 0;
    jm_log(JM_LOG_ERR, SERVICE,
           "the node secret (%s) is not the one this store was written "
           "with: it was missing and made anew, or comes from another node "
           "or backup. CPR look-ups would find no existing citizen. Restore "
           "it from the same backup as the store (docs/operations.md)",
           server->secret_path);
    return -EKEYREJECTED;
}

/* Called by jm_source_new right after the store opened. */
static int
open_dbs(jm_store_t *store, void *arg)
{
    profiles_server_t *server = arg;
    int rc;

    if ((rc = profiles_repo_open(&server->repo, store)) != 0)
        return rc;
    if ((rc = jm_store_write(store, check_secret, server)) != 0) {
        if (rc != -EKEYREJECTED) /* check_secret said what to do */
            jm_log(JM_LOG_ERR, SERVICE, "cannot check the node secret: %s",
                   jm_strerror(rc));
        return rc;
    }
    if ((rc = jm_store_read(store, reconcile_keys, server)) != 0 &&
        rc != -ENOKEY) /* reconcile_keys said what to do */
        jm_log(JM_LOG_ERR, SERVICE, "cannot check the key file: %s",
               jm_strerror(rc));
    return rc;
}

/* dir/name in a new string (caller frees). */
static char *
path_join(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = jm_xmalloc(size);

    snprintf(path, size, "%s/%s", dir, name);
    return path;
}

/* jm_source_ops.prepare: the node secret and the key file, after the key
 * pair was read and the data directory made, before the store: a server
 * that cannot protect personal data must not start, nor leave a store. */
static int
open_protection(void *arg)
{
    profiles_server_t *server = arg;
    char *path;
    int rc;

    if ((rc = profiles_secret_load(server->secret_path, server->secret)) != 0) {
        jm_log(JM_LOG_ERR, SERVICE, "cannot use the node secret %s: %s%s",
               server->secret_path, jm_strerror(rc),
               rc == -EPERM ? " (it must be readable by its owner only: "
                              "chmod 600)"
                            : "");
        return rc;
    }
    path = path_join(server->data_dir, "keys.bin");
    if ((rc = profiles_keys_open(&server->keys, path)) != 0)
        jm_log(JM_LOG_ERR, SERVICE, "cannot open the key file %s: %s%s", path,
               jm_strerror(rc),
               rc == -EPERM ? " (it must be readable by its owner only: "
                              "chmod 600)"
                            : "");
    free(path);
    return rc;
}

static const jm_source_ops profiles_ops = {
    .check = check,
    .read = profiles_ops_read,
    .apply = profiles_ops_apply,
    .snapshot = snapshot,
    .housekeeping = on_housekeeping,
    .committed = on_committed,
    .begin = on_begin,
    .prepare = open_protection,
};

int
profiles_server_new(profiles_server_t **server_p, uv_loop_t *loop,
                    const struct profiles_config *cfg)
{
    profiles_server_t *server = jm_xcalloc(1, sizeof(*server));
    jm_source_config sc = {0};
    char why[512];
    int rc;

    server->loop = loop;
    server->accept_lost_keys = cfg->accept_lost_keys;
    /* Checked when the config was read; a config given as a struct was
     * not. */
    if ((rc = jm_sharing_add(&server->sharing, cfg->agreements.items,
                             cfg->agreements.count, why, sizeof(why))) != 0) {
        jm_log(JM_LOG_ERR, SERVICE, "%s", why);
        goto fail;
    }
    if ((rc = profiles_crypto_init()) != 0) {
        jm_log(JM_LOG_ERR, SERVICE, "libsodium does not start");
        goto fail;
    }
    server->data_dir = jm_xstrdup(cfg->data_dir);
    server->secret_path = cfg->secret_file && cfg->secret_file[0]
                              ? jm_xstrdup(cfg->secret_file)
                              : path_join(cfg->data_dir, "secret.key");
    server->api = jm_xstrdup(cfg->api ? cfg->api : "");
    server->log = jm_xstrdup(cfg->log ? cfg->log : "");
    server->tick = jm_xstrdup(cfg->tick ? cfg->tick : "");
    server->source_name =
        jm_xstrdup(cfg->source_name ? cfg->source_name : SERVICE);
    server->allow_file = jm_xstrdup(cfg->allow_file ? cfg->allow_file : "");
    server->plain_principal =
        jm_xstrdup(cfg->plain_principal ? cfg->plain_principal : "local");
    sc.key_file = cfg->key_file;
    sc.allow_file = server->allow_file;
    sc.service = SERVICE;
    sc.source_name = server->source_name;
    sc.data_dir = server->data_dir;
    sc.data_dir_mode = 0700; /* personal data: the owner only */
    sc.api_endpoint = server->api;
    sc.log_endpoint = server->log;
    sc.tick_endpoint = server->tick;
    sc.max_request_size = (size_t) cfg->max_request_size;
    sc.map_size = (size_t) cfg->map_size_mb << 20;
    sc.log_retain = cfg->log_retain;
    sc.idem_retain_ms = cfg->idem_retain_hours * 3600 * 1000;
    sc.housekeeping_ms = (unsigned) cfg->housekeeping_ms;
    sc.plain_principal = server->plain_principal;
    rc = jm_source_new(&server->source, loop, &sc, &profiles_ops, open_dbs,
                       server);
    if (rc != 0)
        goto fail;
    *server_p = server;
    return 0;

fail:
    profiles_server_destroy(&server);
    return rc;
}

/* The secrets are wiped from memory; the store closes with the source. */
void
profiles_server_destroy(profiles_server_t **server_p)
{
    profiles_server_t *server = *server_p;

    if (server == NULL)
        return;
    jm_source_destroy(&server->source);
    profiles_keys_destroy(&server->keys);
    sodium_memzero(server->secret, sizeof(server->secret));
    free(server->data_dir);
    free(server->secret_path);
    free(server->api);
    free(server->log);
    free(server->tick);
    free(server->source_name);
    free(server->allow_file);
    free(server->plain_principal);
    jm_sharing_release(&server->sharing);
    settle_writes(server, false);
    free(server->writes);
    free(server->reserved);
    free(server->erased);
    free(server);
    *server_p = NULL;
}

const char *
profiles_server_api_endpoint(profiles_server_t *server)
{
    return jm_source_api_endpoint(server->source);
}

const char *
profiles_server_tick_endpoint(profiles_server_t *server)
{
    return jm_source_tick_endpoint(server->source);
}

jm_source_t *
profiles_server_source(profiles_server_t *server)
{
    return server->source;
}

bool
profiles_server_failed(const profiles_server_t *server)
{
    return jm_source_failed(server->source);
}
