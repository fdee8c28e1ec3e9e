/* fs.h - the little file-system help the services share. */
#ifndef JM_FS_H
#define JM_FS_H

#include <sys/types.h>

/* mkdir -p: creates dir and its missing parents. Parents get mode 0750,
 * the last directory gets mode (a service's data directory may want 0700).
 * Existing directories are left as they are. Returns 0 or -errno
 * (-EINVAL for an empty or over-long dir). */
int jm_fs_mkdirs(const char *dir, mode_t mode);

#endif
