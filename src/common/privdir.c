#include "common/fmt.h"
#include "common/privdir.h"

#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hk_dir_open_checked(const char *path, enum hk_dir_policy policy, uid_t owner, char *err,
                        size_t errlen)
{
    if (!path || !*path)
        return hk_errf(HK_E_INVALID, err, errlen, "no directory name");
    if (mkdir(path, 0700) && errno != EEXIST)
        return hk_errf(HK_E_IO, err, errlen, "cannot create directory %s: %s", path,
                       strerror(errno));
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        if (e == ELOOP || e == ENOTDIR)
            return hk_errf(HK_E_CONFIG, err, errlen, "%s is %s, not a directory", path,
                           !lstat(path, &st) && S_ISLNK(st.st_mode) ? "a symbolic link"
                                                                    : "something else");
        return hk_errf(HK_E_IO, err, errlen, "cannot open directory %s: %s", path, strerror(e));
    }
    struct stat st;
    uid_t me = owner == HK_DIR_OWNER_SELF ? geteuid() : owner;
    mode_t forbidden = policy == HK_DIR_PRIVATE ? 077 : 022;
    int rc = HK_OK;
    if (fstat(fd, &st))
        rc = hk_errf(HK_E_IO, err, errlen, "cannot stat directory %s: %s", path, strerror(errno));
    else if (st.st_uid != me && !(policy == HK_DIR_NO_FOREIGN_WRITE && st.st_uid == 0))
        rc = hk_errf(HK_E_CONFIG, err, errlen,
                     "directory %s is owned by uid %u, not by hiked's user (uid %u): refused", path,
                     (unsigned)st.st_uid, (unsigned)me);
    else if (st.st_mode & forbidden)
        rc = hk_errf(HK_E_CONFIG, err, errlen,
                     "directory %s has mode %04o: group or others may %s it; refused (chmod %s)",
                     path, (unsigned)(st.st_mode & 07777),
                     policy == HK_DIR_PRIVATE ? "access" : "write to",
                     policy == HK_DIR_PRIVATE ? "0700" : "go-w");
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}
