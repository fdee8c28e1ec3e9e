/* profiles_crypto.c - personal-data protection for profiles (see
 * profiles_crypto.h).
 *
 * Why the citizens' keys are not in LMDB. Erasure must leave no readable
 * name, e-mail or CPR number in any file. The personal part is encrypted
 * with a key of its own per citizen, so erasing it means destroying that
 * key. LMDB cannot destroy anything: a deleted value stays in its page,
 * the page goes to the free list, and the old bytes remain in data.mdb
 * until the page happens to be reused (copy-on-write never overwrites a
 * live page in place). A key deleted from LMDB could therefore be read
 * back from the file years later, and with it the ciphertext, which also
 * lingers in free pages. So the keys live in a separate file of fixed
 * 32-byte slots, keys.bin, which this module overwrites in place; the
 * citizen's record in LMDB names its slot (PersonalRecord.key_slot).
 *
 * The order of writes is what makes this crash-safe:
 *   - a new key is written to a free slot and fdatasync'ed BEFORE the LMDB
 *     transaction that references the slot commits: a committed record
 *     never points at a key that a crash could lose;
 *   - erasure commits the LMDB deletion first and only then overwrites the
 *     slot with zeros and fdatasyncs (profiles_keys_erase, called from the
 *     source's committed hook, before the reply): if the commit failed the
 *     citizen still exists with a working key; if the process dies between
 *     the two steps, the slot is unreferenced...
 *   - ...and at start every slot no record references is zeroed
 *     (profiles_keys_start), which finishes that erasure and also clears
 *     keys taken for transactions that never committed.
 * After erasure the ciphertext may survive in LMDB's free pages, but
 * without its key it cannot be decrypted (XChaCha20-Poly1305, 256-bit
 * key). The file is overwritten in place with pwrite(); on a file system
 * that writes in place (ext4, xfs) the old block is gone. Copy-on-write
 * file systems (btrfs, zfs) and SSD wear levelling may keep the old block
 * physically until it is reused; run the data directory on an encrypted
 * volume, or on a file system without copy-on-write for this file.
 *
 * Why a pool. An fdatasync costs about a millisecond. Taking a key for
 * each new citizen inside the write transaction would cost one per
 * citizen; instead keys are written to free slots in batches of
 * POOL_BATCH with a single fdatasync, and handed out from that pool.
 * Pooled keys were never used for anything, so zeroing them after a crash
 * (as profiles_keys_start does with every unreferenced slot) loses
 * nothing. */
#include "profiles_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "jm/log.h"
#include "jm/mem.h"

#define POOL_BATCH 64
#define SLOT_MAX   (UINT32_MAX / 2) /* keeps slot * 32 inside off_t */

enum slot_state {
    SLOT_FREE = 0, /* zeros on disk (or never written) */
    SLOT_POOL,     /* a fresh key on disk, not referenced */
    SLOT_USED,     /* referenced by a record, or taken for one */
};

struct profiles_keys {
    int fd;
    uint8_t *state; /* enum slot_state per slot */
    size_t count;   /* slots in the file */
    size_t cap;
    size_t free_hint; /* no FREE slot below this index */
    uint32_t pool[POOL_BATCH];
    size_t pooled;
    bool started;
};

int
profiles_crypto_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

void
profiles_crypto_new_id(char id[PROFILES_ID_LEN + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t random[PROFILES_ID_LEN - 2];

    /* One random byte per character, 5 bits used: simpler than packing
     * bits, and the CSPRNG is cheap. */
    randombytes_buf(random, sizeof(random));
    memcpy(id, PROFILES_ID_PREFIX, 2);
    for (size_t i = 0; i < sizeof(random); i++)
        id[2 + i] = alphabet[random[i] & 31];
    id[PROFILES_ID_LEN] = '\0';
}

/* ---- files ---- */

static int
write_all(int fd, const void *data, size_t size, off_t offset)
{
    const uint8_t *p = data;

    while (size > 0) {
        ssize_t n = pwrite(fd, p, size, offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        size -= (size_t) n;
        offset += n;
    }
    return 0;
}

static int
read_all(int fd, void *data, size_t size, off_t offset, size_t *got)
{
    uint8_t *p = data;

    *got = 0;
    while (*got < size) {
        ssize_t n = pread(fd, p + *got, size - *got, offset + (off_t) *got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        *got += (size_t) n;
    }
    return 0;
}

/* A new file's directory entry must be durable too, or a crash can lose
 * the file even though its data was synced. */
static int
sync_parent_dir(const char *path)
{
    char copy[PATH_MAX];
    size_t len = strlen(path);
    int fd, rc = 0;

    if (len >= sizeof(copy))
        return -ENAMETOOLONG;
    memcpy(copy, path, len + 1);
    if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Opens path for reading and writing, creating it with mode 0600; refuses
 * a file that group or others may read or write. */
static int
open_private(const char *path, bool *created)
{
    struct stat st;
    int fd;

    *created = false;
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600);
        *created = fd >= 0;
    }
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    if (st.st_mode & 077) {
        close(fd);
        return -EPERM;
    }
    return fd;
}

int
profiles_secret_load(const char *path, uint8_t secret[PROFILES_SECRET_BYTES])
{
    bool created;
    size_t got = 0;
    struct stat st;
    int fd, rc;

    if ((fd = open_private(path, &created)) < 0)
        return fd;
    if (created) {
        randombytes_buf(secret, PROFILES_SECRET_BYTES);
        rc = write_all(fd, secret, PROFILES_SECRET_BYTES, 0);
        if (rc == 0 && fsync(fd) != 0)
            rc = -errno;
        if (rc == 0)
            rc = sync_parent_dir(path);
        sodium_memzero(secret, PROFILES_SECRET_BYTES);
        if (rc != 0)
            goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (st.st_size != PROFILES_SECRET_BYTES) {
        rc = -EINVAL;
        goto out;
    }
    rc = read_all(fd, secret, PROFILES_SECRET_BYTES, 0, &got);
    if (rc == 0 && got != PROFILES_SECRET_BYTES)
        rc = -EINVAL;
out:
    close(fd);
    return rc;
}

void
profiles_secret_check(const uint8_t secret[PROFILES_SECRET_BYTES],
                      uint8_t out[PROFILES_SECRET_CHECK_BYTES])
{
    static const char text[] = "jobmatch profiles: secret check 1";

    crypto_generichash(out, PROFILES_SECRET_CHECK_BYTES, (const uint8_t *) text,
                       sizeof(text) - 1, secret, PROFILES_SECRET_BYTES);
}

/* ---- hashing and sealing ---- */

void
profiles_cpr_hash(const uint8_t secret[PROFILES_SECRET_BYTES],
                  const char cpr[10], uint8_t out[PROFILES_CPR_HASH_BYTES])
{
    /* Keyed, so that the 10^10 possible CPR numbers (far fewer with valid
     * dates) cannot be hashed and compared by anyone without the secret. */
    crypto_generichash(out, PROFILES_CPR_HASH_BYTES, (const uint8_t *) cpr, 10,
                       secret, PROFILES_SECRET_BYTES);
}

void
profiles_seal(const uint8_t key[PROFILES_KEY_BYTES], const char *id,
              const uint8_t *plain, size_t size,
              uint8_t nonce[PROFILES_NONCE_BYTES], uint8_t *out)
{
    unsigned long long out_len = 0;

    randombytes_buf(nonce, PROFILES_NONCE_BYTES);
    /* The id as associated data binds the ciphertext to its citizen: a
     * record copied under another id does not open. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(out, &out_len, plain, size,
                                               (const uint8_t *) id, strlen(id),
                                               NULL, nonce, key);
}

int
profiles_open(const uint8_t key[PROFILES_KEY_BYTES], const char *id,
              const uint8_t nonce[PROFILES_NONCE_BYTES], const uint8_t *sealed,
              size_t size, uint8_t *out)
{
    unsigned long long out_len = 0;

    if (size < PROFILES_SEAL_OVERHEAD)
        return -EBADMSG;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &out_len, NULL, sealed,
                                                   size, (const uint8_t *) id,
                                                   strlen(id), nonce, key) != 0)
        return -EBADMSG;
    return 0;
}

/* ---- the key file ---- */

static void
ensure_cap(profiles_keys_t *keys, size_t count)
{
    size_t old = keys->cap;

    if (count <= keys->cap)
        return;
    keys->cap = keys->cap ? keys->cap : 1024;
    while (keys->cap < count)
        keys->cap *= 2;
    keys->state = jm_xrealloc(keys->state, keys->cap);
    /* From the old capacity, not from count: at open, count is already
     * the file's, and the states below it were never written. */
    memset(keys->state + old, SLOT_FREE, keys->cap - old);
}

int
profiles_keys_open(profiles_keys_t **keys_p, const char *path)
{
    profiles_keys_t *keys;
    struct stat st;
    bool created;
    int fd, rc;

    if ((fd = open_private(path, &created)) < 0)
        return fd;
    if (created && (rc = sync_parent_dir(path)) != 0) {
        close(fd);
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    keys = jm_xcalloc(1, sizeof(*keys));
    keys->fd = fd;
    /* A slot cut short by a crash while the file grew still counts: it
     * is zeroed in full at start. */
    keys->count =
        ((size_t) st.st_size + PROFILES_KEY_BYTES - 1) / PROFILES_KEY_BYTES;
    ensure_cap(keys, keys->count);
    *keys_p = keys;
    return 0;
}

void
profiles_keys_destroy(profiles_keys_t **keys_p)
{
    profiles_keys_t *keys = *keys_p;

    if (keys == NULL)
        return;
    close(keys->fd);
    free(keys->state);
    free(keys);
    *keys_p = NULL;
}

static bool
all_zero(const uint8_t *p, size_t size)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < size; i++)
        acc |= p[i];
    return acc == 0;
}

int
profiles_keys_start(profiles_keys_t *keys, const uint32_t *used, size_t count,
                    bool accept_lost, size_t *lost_out, size_t *zeroed_out)
{
    static const uint8_t zeros[PROFILES_KEY_BYTES];
    uint8_t slot[PROFILES_KEY_BYTES];
    size_t zeroed = 0, lost = 0, got;
    uint32_t last_lost = 0;
    int rc;

    JM_ASSERT(!keys->started);
    if (zeroed_out != NULL)
        *zeroed_out = 0;
    /* Slots past the end of the file that records reference: their keys
     * were never lost by this code (a key is synced before its record
     * commits), so the file is not the one the store was written with:
     * missing, cut short, or restored from an older backup. Left as it
     * is, the first refill would write fresh keys into those slots and
     * hand them to new citizens, and erasing the old record would then
     * destroy the new citizen's key. */
    for (size_t i = 0; i < count; i++) {
        if (used[i] >= keys->count) {
            lost++;
            if (used[i] > last_lost)
                last_lost = used[i];
        }
    }
    if (lost_out != NULL)
        *lost_out = lost;
    if (lost > 0 && !accept_lost)
        return -ENOKEY;
    if (lost > 0) {
        /* Accepted: the file grows to cover them, as zeros (erased keys),
         * so that they count as referenced at every start from now on and
         * are never handed out again. */
        if ((rc = write_all(keys->fd, zeros, sizeof(zeros),
                            (off_t) last_lost * PROFILES_KEY_BYTES)) != 0)
            return rc;
        if (fdatasync(keys->fd) != 0)
            return -errno;
        ensure_cap(keys, (size_t) last_lost + 1);
        keys->count = (size_t) last_lost + 1;
    }
    for (size_t i = 0; i < count; i++)
        keys->state[used[i]] = SLOT_USED;
    for (size_t s = 0; s < keys->count; s++) {
        if (keys->state[s] == SLOT_USED)
            continue;
        rc = read_all(keys->fd, slot, sizeof(slot),
                      (off_t) s * PROFILES_KEY_BYTES, &got);
        if (rc != 0)
            goto out;
        if (got == sizeof(slot) && all_zero(slot, sizeof(slot)))
            continue;
        if ((rc = write_all(keys->fd, zeros, sizeof(zeros),
                            (off_t) s * PROFILES_KEY_BYTES)) != 0)
            goto out;
        zeroed++;
    }
    if (zeroed > 0 && fdatasync(keys->fd) != 0) {
        rc = -errno;
        goto out;
    }
    keys->started = true;
    rc = 0;
out:
    sodium_memzero(slot, sizeof(slot));
    if (zeroed_out != NULL)
        *zeroed_out = zeroed;
    return rc;
}

/* Writes POOL_BATCH fresh keys to free slots (growing the file as
 * needed) and syncs once. */
static int
refill(profiles_keys_t *keys)
{
    uint8_t key[PROFILES_KEY_BYTES];
    uint32_t batch[POOL_BATCH];
    size_t n = 0, s = keys->free_hint;
    int rc = 0;

    while (n < POOL_BATCH) {
        if (s >= SLOT_MAX)
            return n > 0 ? 0 : -ENOSPC;
        if (s >= keys->count) {
            ensure_cap(keys, s + 1);
            keys->count = s + 1;
        }
        if (keys->state[s] == SLOT_FREE) {
            randombytes_buf(key, sizeof(key));
            rc = write_all(keys->fd, key, sizeof(key),
                           (off_t) s * PROFILES_KEY_BYTES);
            if (rc != 0)
                break;
            batch[n++] = (uint32_t) s;
        }
        s++;
    }
    sodium_memzero(key, sizeof(key));
    keys->free_hint = s;
    /* Slots written but not synced are not handed out; they stay FREE
     * (a crash zeroes them at start; the next refill rewrites them). */
    if (rc == 0 && fdatasync(keys->fd) != 0)
        rc = -errno;
    if (rc != 0) {
        for (size_t i = 0; i < n; i++) {
            if (batch[i] < keys->free_hint)
                keys->free_hint = batch[i];
        }
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        keys->state[batch[i]] = SLOT_POOL;
        keys->pool[keys->pooled++] = batch[i];
    }
    return 0;
}

int
profiles_keys_take(profiles_keys_t *keys, uint32_t *slot_out,
                   uint8_t key[PROFILES_KEY_BYTES])
{
    uint32_t slot;
    int rc;

    JM_ASSERT(keys->started);
    if (keys->pooled == 0 && (rc = refill(keys)) != 0)
        return rc;
    slot = keys->pool[--keys->pooled];
    if ((rc = profiles_keys_read(keys, slot, key)) != 0) {
        /* The pooled key vanished under us: leave the slot FREE. */
        keys->state[slot] = SLOT_FREE;
        if (slot < keys->free_hint)
            keys->free_hint = slot;
        return rc == -ENOENT ? -EIO : rc;
    }
    keys->state[slot] = SLOT_USED;
    *slot_out = slot;
    return 0;
}

int
profiles_keys_read(profiles_keys_t *keys, uint32_t slot,
                   uint8_t key[PROFILES_KEY_BYTES])
{
    size_t got = 0;
    int rc;

    if (slot >= keys->count)
        return -ENOENT;
    rc = read_all(keys->fd, key, PROFILES_KEY_BYTES,
                  (off_t) slot * PROFILES_KEY_BYTES, &got);
    if (rc != 0)
        return rc;
    if (got != PROFILES_KEY_BYTES || all_zero(key, PROFILES_KEY_BYTES)) {
        sodium_memzero(key, PROFILES_KEY_BYTES);
        return -ENOENT;
    }
    return 0;
}

int
profiles_keys_erase(profiles_keys_t *keys, const uint32_t *slots, size_t count)
{
    static const uint8_t zeros[PROFILES_KEY_BYTES];
    int rc;

    if (count == 0)
        return 0;
    for (size_t i = 0; i < count; i++) {
        if (slots[i] >= keys->count)
            continue;
        if ((rc = write_all(keys->fd, zeros, sizeof(zeros),
                            (off_t) slots[i] * PROFILES_KEY_BYTES)) != 0)
            return rc;
    }
    if (fdatasync(keys->fd) != 0)
        return -errno;
    /* Free for reuse only once the zeros are durable. */
    for (size_t i = 0; i < count; i++) {
        if (slots[i] >= keys->count)
            continue;
        keys->state[slots[i]] = SLOT_FREE;
        if (slots[i] < keys->free_hint)
            keys->free_hint = slots[i];
    }
    return 0;
}

size_t
profiles_keys_slot_count(const profiles_keys_t *keys)
{
    return keys->count;
}
