/*
 * Least privilege (daemon.user, daemon.group): hiked does as root what needs root (binding
 * ports 500/4500, the TUN device, raw ESP and netlink sockets, the control socket), then
 * switches to the configured user and keeps only the capabilities the running daemon uses:
 * CAP_NET_ADMIN (routes, addresses, SO_MARK, XFRM), CAP_NET_RAW (raw ESP) and
 * CAP_NET_BIND_SERVICE.
 */
#ifndef HIKE_DAEMON_PRIVDROP_H
#define HIKE_DAEMON_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/log.h"
#include "config/config.h"

struct hiked_privdrop {
    bool set; /* daemon.user configured */
    uid_t uid;
    gid_t gid;
    const char *user, *group; /* the configuration's names (group: NULL = primary group) */
};

/*
 * Looks daemon.user and daemon.group up in the system's user and group databases. A name
 * that does not exist is a configuration error: HK_E_CONFIG with "FILE:LINE: daemon.user:
 * no such user 'x'" in err. Without daemon.user, p->set is false and this succeeds.
 */
int hiked_privdrop_resolve(const struct hk_daemon_conf *dc, struct hiked_privdrop *p, char *err,
                           size_t errlen);

/*
 * Before the drop, as root: gives the control socket (and its directory when
 * ctl_dir_created, that is hiked made it at this start) to the user, so that the daemon can
 * remove it when it stops; creates daemon.keylog_dir (0700) for the user if it is missing.
 * Never changes the owner of anything that existed before.
 */
int hiked_privdrop_prepare(const struct hiked_privdrop *p, const struct hk_daemon_conf *dc,
                           bool ctl_dir_created, const struct hk_log *log);

/*
 * The drop: bounding set reduced to the three capabilities (when we may), PR_SET_KEEPCAPS,
 * setgroups (only the group), setresgid, setresuid, then permitted = effective = the three,
 * inheritable and ambient empty; each step checked, and the result read back. Any failure
 * is logged and returns an error: the caller must exit. Without daemon.user it only logs
 * that hiked runs as root.
 */
int hiked_privdrop_apply(const struct hiked_privdrop *p, const struct hk_log *log);

/*
 * Whether this process can read the files a (re)load needs: the configuration file itself
 * (path, may be NULL) and every connection's certificates, keys and CA files (loaded when
 * first used). The first one that cannot be opened is named in err.
 */
int hiked_files_readable(const char *path, const struct hk_config *cfg, char *err, size_t errlen);

#endif
