/* err.h - error codes of the common library.
 *
 * Every function of jm_common that can fail returns 0 on success or a
 * negative errno value (libuv's convention). LMDB, ZeroMQ and libuv codes
 * are translated at the common boundary, so services only ever see
 * -errno values:
 *   -ENOENT  no such key / record
 *   -EEXIST  key already present
 *   -EINVAL  bad argument or bad input
 *   -EPROTO  malformed message
 *   -EMSGSIZE message too large
 *   -ENOSPC  LMDB map full (handled inside jm_store_write)
 *   -EAGAIN  would block / try again
 *   -EHOSTUNREACH a ROUTER peer that is gone
 *   -EIO     anything else (the detail is logged where it is handled)
 */
#ifndef JM_ERR_H
#define JM_ERR_H

/* Text for a negative errno value (or 0). Never NULL; static storage. */
const char *jm_strerror(int rc);

#endif
