/* profiles_crypto.h - how profiles protects personal data (libsodium):
 * the node secret that keys the CPR look-up hash, the per-citizen keys
 * and their key file, sealing and opening the personal record, and the
 * random pseudonymous ids.
 *
 *   CPR look-up:  BLAKE2b-256(cpr, key = node secret)   (crypto_generichash)
 *   personal:     XChaCha20-Poly1305(PersonalData, key = citizen's key,
 *                 associated data = the profile id)
 *   erasure:      the citizen's key is overwritten in its slot of the key
 *                 file (keys.bin, outside LMDB) and fdatasync'ed.
 *
 * Why the keys live outside LMDB, and the order of writes that makes
 * erasure real, are explained at the top of profiles_crypto.c and in
 * services/profiles/README.md. Call profiles_crypto_init() once before
 * anything else here. Everything runs on the loop's thread; the file
 * operations block (they are small: 32-byte writes and one fdatasync). */
#ifndef PROFILES_CRYPTO_H
#define PROFILES_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "profiles_profile.h"

#define PROFILES_SECRET_BYTES   32
#define PROFILES_KEY_BYTES      32
#define PROFILES_CPR_HASH_BYTES 32
#define PROFILES_NONCE_BYTES    24 /* XChaCha20: random nonces are safe */
#define PROFILES_SEAL_OVERHEAD  16 /* the Poly1305 tag */

/* sodium_init(). Returns 0, or -EIO if libsodium cannot start. Safe to
 * call more than once. */
int profiles_crypto_init(void);

/* A new pseudonymous id: "p-" and 20 random base32 characters (100 bits
 * from the system's CSPRNG). Never derived from anything personal. */
void profiles_crypto_new_id(char id[PROFILES_ID_LEN + 1]);

/* Reads the 32-byte node secret from path, creating it (mode 0600, random
 * bytes, fsync'ed with its directory) if it does not exist. Returns -EPERM
 * if the file is readable or writable by group or others (it keys the CPR
 * index: whoever has it can test CPR numbers against the hashes), -EINVAL
 * if it is not exactly 32 bytes, other -errno from the file system. */
int profiles_secret_load(const char *path,
                         uint8_t secret[PROFILES_SECRET_BYTES]);

/* The keyed hash of a normalised CPR number (10 digits). */
void profiles_cpr_hash(const uint8_t secret[PROFILES_SECRET_BYTES],
                       const char cpr[10],
                       uint8_t out[PROFILES_CPR_HASH_BYTES]);

/* Seals plain (size bytes) for the citizen id: a fresh random nonce into
 * nonce, size + PROFILES_SEAL_OVERHEAD bytes into out. */
void profiles_seal(const uint8_t key[PROFILES_KEY_BYTES], const char *id,
                   const uint8_t *plain, size_t size,
                   uint8_t nonce[PROFILES_NONCE_BYTES], uint8_t *out);

/* Opens what profiles_seal made: size - PROFILES_SEAL_OVERHEAD bytes into
 * out. Returns 0, or -EBADMSG if the key, the id or the bytes are not the
 * ones it was sealed with (a destroyed key gives -EBADMSG). */
int profiles_open(const uint8_t key[PROFILES_KEY_BYTES], const char *id,
                  const uint8_t nonce[PROFILES_NONCE_BYTES],
                  const uint8_t *sealed, size_t size, uint8_t *out);

/* A value that tells whether a store was written with this secret,
 * without telling anything of it: a keyed hash of a fixed text. */
#define PROFILES_SECRET_CHECK_BYTES 16
void profiles_secret_check(const uint8_t secret[PROFILES_SECRET_BYTES],
                           uint8_t out[PROFILES_SECRET_CHECK_BYTES]);

/* ---- the key file: fixed 32-byte slots ---- */

typedef struct profiles_keys profiles_keys_t;

/* Opens (creating, mode 0600) the key file at path. Returns -EPERM if it
 * is readable by group or others. Caller owns *keys_p. Until
 * profiles_keys_start ran, no slot may be taken. */
int profiles_keys_open(profiles_keys_t **keys_p, const char *path);

/* Closes the file. Safe on NULL; sets *keys_p to NULL. */
void profiles_keys_destroy(profiles_keys_t **keys_p);

/* Start-up: used[0..count-1] are the slots the store's records reference.
 * Every other slot that is not all zeros is overwritten with zeros, then
 * the file is fdatasync'ed: that finishes an erasure interrupted between
 * its commit and its overwrite, and forgets keys taken for writes that
 * never committed. *zeroed_out (may be NULL) gets how many were zeroed.
 *
 * Referenced slots past the end of the file (*lost_out, may be NULL, gets
 * how many) mean the file is not the store's: missing, cut short or older.
 * Then -ENOKEY and nothing changed, unless accept_lost: the file grows to
 * cover them as erased (zeros), so they are never handed out again and
 * the next start finds nothing lost; those citizens' personal data is
 * unreadable for good. */
int profiles_keys_start(profiles_keys_t *keys, const uint32_t *used,
                        size_t count, bool accept_lost, size_t *lost_out,
                        size_t *zeroed_out);

/* Takes a fresh key for a new citizen: *slot_out and key. The key is
 * durable on return (written and fdatasync'ed), so a transaction that
 * references the slot may commit. Keys are prepared in batches (one
 * fdatasync for many) and held in a pool of unreferenced slots, which
 * profiles_keys_start zeroes after a crash. The slot counts as used until
 * profiles_keys_erase releases it. */
int profiles_keys_take(profiles_keys_t *keys, uint32_t *slot_out,
                       uint8_t key[PROFILES_KEY_BYTES]);

/* Reads the key in slot. -ENOENT if the slot is past the end of the file
 * or all zeros (an erased citizen). */
int profiles_keys_read(profiles_keys_t *keys, uint32_t slot,
                       uint8_t key[PROFILES_KEY_BYTES]);

/* Overwrites the slots with zeros, fdatasyncs, and frees them for reuse.
 * Call only after the commit that removed every reference to them. */
int profiles_keys_erase(profiles_keys_t *keys, const uint32_t *slots,
                        size_t count);

/* Slots in the file (used, pooled and free), for tests and metrics. */
size_t profiles_keys_slot_count(const profiles_keys_t *keys);

#endif
