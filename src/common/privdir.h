/*
 * Directories that hold what only hiked may read or replace: the key log (daemon.keylog_dir)
 * and the control socket's directory. A missing one is created 0700; an existing one must be
 * a directory (not a symbolic link) owned by hiked's effective user, without the access the
 * caller's policy forbids. The check is made on the opened directory, and files are then
 * opened relative to it, so nothing can be swapped between check and use.
 */
#ifndef HIKE_COMMON_PRIVDIR_H
#define HIKE_COMMON_PRIVDIR_H

#include <stddef.h>
#include <sys/types.h>

enum hk_dir_policy {
    /* No access at all for group or others (mode & 077 == 0): secrets live in it. */
    HK_DIR_PRIVATE = 0,
    /* Not writable by group or others (mode & 022 == 0), and root may own it too: for a
     * directory whose files protect themselves (the 0600 control socket), where only
     * replacing them is a danger. */
    HK_DIR_NO_FOREIGN_WRITE = 1,
};

/* owner of hk_dir_open_checked: the effective user of this process. */
#define HK_DIR_OWNER_SELF ((uid_t)-1)

/*
 * Opens path as a directory (O_DIRECTORY, O_NOFOLLOW), creating it with mode 0700 when it is
 * missing (its parent must exist), and checks it against policy: owned by owner (hiked's
 * user: HK_DIR_OWNER_SELF, or daemon.user's uid while hiked still runs as root). Returns the
 * descriptor (>= 0; the caller closes it), or HK_E_CONFIG (the directory is unsafe: owner,
 * mode, a symbolic link or not a directory) / HK_E_IO, with a one-line reason naming path in
 * err.
 */
int hk_dir_open_checked(const char *path, enum hk_dir_policy policy, uid_t owner, char *err,
                        size_t errlen);

#endif
