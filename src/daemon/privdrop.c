/* Least privilege: daemon.user / daemon.group, and the capabilities hiked keeps (privdrop.h). */
#include "common/fmt.h"
#include "daemon/privdrop.h"

#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the running daemon needs: routes, addresses, rules, SO_MARK, SO_RCVBUFFORCE and XFRM
 * (NET_ADMIN), raw ESP sockets (NET_RAW), and a port below 1024 should one be opened again
 * (NET_BIND_SERVICE). Nothing else: no file access beyond the user's, no setuid. */
static const cap_value_t keep_caps[] = {CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_NET_RAW};
#define NKEEP ((int)(sizeof(keep_caps) / sizeof(keep_caps[0])))

#define NSS_BUF_MAX (1024 * 1024) /* getpwnam_r/getgrnam_r buffer: grown up to this */

static bool kept(cap_value_t c)
{
    for (int i = 0; i < NKEEP; i++)
        if (keep_caps[i] == c)
            return true;
    return false;
}

/* The user's uid and primary gid; 0, HK_E_NOTFOUND, or HK_E_IO with errno set. */
static int lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
    struct passwd pw, *res = NULL;
    for (size_t len = 4096; len <= NSS_BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return HK_E_NOMEM;
        int e = getpwnam_r(name, &pw, buf, len, &res);
        if (!e && res) {
            *uid = pw.pw_uid;
            *gid = pw.pw_gid;
        }
        free(buf);
        if (e == ERANGE)
            continue;
        errno = e;
        return e ? HK_E_IO : res ? HK_OK : HK_E_NOTFOUND;
    }
    return HK_E_NOMEM;
}

static int lookup_group(const char *name, gid_t *gid)
{
    struct group gr, *res = NULL;
    for (size_t len = 4096; len <= NSS_BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return HK_E_NOMEM;
        int e = getgrnam_r(name, &gr, buf, len, &res);
        if (!e && res)
            *gid = gr.gr_gid;
        free(buf);
        if (e == ERANGE)
            continue;
        errno = e;
        return e ? HK_E_IO : res ? HK_OK : HK_E_NOTFOUND;
    }
    return HK_E_NOMEM;
}

/* A user or group the configuration names cannot be used: a configuration error, at its line. */
static int lookup_failed(int rc, const char *what, const char *name, const char *at, char *err,
                         size_t errlen)
{
    if (rc == HK_E_NOTFOUND)
        return hk_errf(HK_E_CONFIG, err, errlen, "%s: no such %s '%s'", at, what, name);
    return hk_errf(HK_E_CONFIG, err, errlen, "%s: cannot look up %s '%s': %s", at, what, name,
                   rc == HK_E_IO ? strerror(errno) : hk_strerror(rc));
}

int hiked_privdrop_resolve(const struct hk_daemon_conf *dc, struct hiked_privdrop *p, char *err,
                           size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (!dc->user)
        return HK_OK;
    p->user = dc->user;
    p->group = dc->group;
    int rc = lookup_user(dc->user, &p->uid, &p->gid);
    if (rc)
        return lookup_failed(rc, "user", dc->user, dc->user_at, err, errlen);
    if (dc->group && (rc = lookup_group(dc->group, &p->gid)))
        return lookup_failed(rc, "group", dc->group, dc->group_at, err, errlen);
    p->set = true;
    return HK_OK;
}

/* The directory part of path, or "" when it has none (or is "/"). */
static void dir_of(const char *path, char *dir, size_t len)
{
    snprintf(dir, len, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        dir[0] = '\0';
    else
        *slash = '\0';
}

static int give(const struct hiked_privdrop *p, const char *path, const struct hk_log *log)
{
    /* lchown: never follow a link someone may have put in our place. */
    if (lchown(path, p->uid, p->gid)) {
        hk_err(log, "cannot give %s to user %s: %s", path, p->user, strerror(errno));
        return HK_E_IO;
    }
    return HK_OK;
}

int hiked_privdrop_prepare(const struct hiked_privdrop *p, const struct hk_daemon_conf *dc,
                           bool ctl_dir_created, const struct hk_log *log)
{
    if (!p->set)
        return HK_OK;
    const char *ctl = dc->control_socket ? dc->control_socket : HK_CONF_CONTROL_SOCKET;
    char dir[4096];
    int rc = give(p, ctl, log);
    dir_of(ctl, dir, sizeof(dir));
    /* Unlinking the socket when hiked stops needs write access to its directory: ours only
     * when hiked made it now; a directory that was there keeps its owner (the socket then
     * stays behind and the next start, as root, removes it). */
    if (!rc && ctl_dir_created && dir[0])
        rc = give(p, dir, log);
    if (rc || !dc->keylog_dir)
        return rc;
    /* Key logging writes its files after the drop: the directory must be the user's. */
    const char *kd = dc->keylog_dir;
    if (!mkdir(kd, 0700))
        return give(p, kd, log);
    struct stat st;
    if (errno != EEXIST || lstat(kd, &st)) {
        hk_warn(log, "keylog: cannot create %s: %s", kd, strerror(errno));
        return HK_OK;
    }
    if (!S_ISDIR(st.st_mode))
        hk_warn(log, "keylog: %s is not a directory", kd);
    else if (st.st_uid != p->uid)
        hk_warn(log, "keylog: %s belongs to uid %u, not to %s: hiked cannot write keys there", kd,
                (unsigned)st.st_uid, p->user);
    return HK_OK;
}

static int fail(const struct hk_log *log, const struct hiked_privdrop *p, const char *what)
{
    hk_err(log, "cannot drop root privileges to user %s: %s: %s", p->user, what, strerror(errno));
    return HK_E_IO;
}

/* Drops every capability but the three from the bounding set, which needs CAP_SETPCAP; a
 * process started without it (a systemd unit's CapabilityBoundingSet= leaving it out) has its
 * bounding set chosen for it already. */
static int reduce_bounding(const struct hiked_privdrop *p, const struct hk_log *log)
{
    cap_flag_value_t setpcap = CAP_CLEAR;
    cap_t cur = cap_get_proc();
    if (!cur)
        return fail(log, p, "cap_get_proc");
    int rc = cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
    cap_free(cur);
    if (rc)
        return fail(log, p, "cap_get_flag");
    if (setpcap != CAP_SET) {
        hk_info(log, "capability bounding set left as it is (no CAP_SETPCAP)");
        return HK_OK;
    }
    for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
        if (kept(c) || cap_get_bound(c) != 1) /* -1: the kernel does not know it */
            continue;
        if (cap_drop_bound(c)) {
            char *name = cap_to_name(c);
            char what[96];
            snprintf(what, sizeof(what), "dropping %s from the bounding set", name ? name : "?");
            cap_free(name);
            return fail(log, p, what);
        }
    }
    return HK_OK;
}

/* Reads back what the kernel now says: ids, groups, capability sets. */
static int verify(const struct hiked_privdrop *p, const struct hk_log *log)
{
    uid_t r, e, s;
    gid_t rg, eg, sg, groups[2];
    if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
        return fail(log, p, "getresuid/getresgid");
    if (r != p->uid || e != p->uid || s != p->uid || rg != p->gid || eg != p->gid || sg != p->gid) {
        hk_err(log, "dropping root to user %s: ids are %u/%u/%u, groups %u/%u/%u after the switch",
               p->user, (unsigned)r, (unsigned)e, (unsigned)s, (unsigned)rg, (unsigned)eg,
               (unsigned)sg);
        return HK_E_STATE;
    }
    int ng = getgroups(2, groups);
    if (ng != 1 || groups[0] != p->gid) {
        hk_err(log, "dropping root to user %s: supplementary groups were not reduced", p->user);
        return HK_E_STATE;
    }
    cap_t want = cap_init(), have = cap_get_proc();
    int rc = HK_OK;
    if (!want || !have || cap_set_flag(want, CAP_PERMITTED, NKEEP, keep_caps, CAP_SET) ||
        cap_set_flag(want, CAP_EFFECTIVE, NKEEP, keep_caps, CAP_SET))
        rc = fail(log, p, "cap_get_proc");
    else if (cap_compare(want, have)) {
        char *txt = cap_to_text(have, NULL);
        hk_err(log, "dropping root to user %s: capabilities are \"%s\" after the switch", p->user,
               txt ? txt : "?");
        cap_free(txt);
        rc = HK_E_STATE;
    }
    for (cap_value_t c = 0; !rc && c < (cap_value_t)cap_max_bits(); c++)
        if (cap_get_ambient(c) > 0) {
            hk_err(log, "dropping root to user %s: ambient capabilities remain", p->user);
            rc = HK_E_STATE;
        }
    cap_free(want);
    cap_free(have);
    /* Root must be out of reach for good (the saved uid too). */
    if (!rc && p->uid != 0 && setuid(0) == 0) {
        hk_err(log, "dropping root to user %s: setuid(0) still succeeds", p->user);
        rc = HK_E_STATE;
    }
    return rc;
}

int hiked_privdrop_apply(const struct hiked_privdrop *p, const struct hk_log *log)
{
    if (!p->set) {
        if (geteuid() == 0)
            hk_info(log, "running as root (daemon.user not set)");
        else
            hk_info(log, "running as uid %u (daemon.user not set)", (unsigned)geteuid());
        return HK_OK;
    }
    if (p->uid == 0)
        hk_warn(log, "daemon.user %s has uid 0: only the capabilities are reduced", p->user);
    int rc = reduce_bounding(p, log);
    if (rc)
        return rc;
    /* Keep the permitted set across setuid (it would be cleared), to narrow it after. */
    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L))
        return fail(log, p, "prctl(PR_SET_KEEPCAPS)");
    if (setgroups(1, &p->gid))
        return fail(log, p, "setgroups");
    if (setresgid(p->gid, p->gid, p->gid))
        return fail(log, p, "setresgid");
    if (setresuid(p->uid, p->uid, p->uid))
        return fail(log, p, "setresuid");
    cap_t caps = cap_init();
    if (!caps)
        return fail(log, p, "cap_init");
    /* Inheritable stays empty (cap_init clears all three sets): nothing reaches a child. */
    if (cap_set_flag(caps, CAP_PERMITTED, NKEEP, keep_caps, CAP_SET) ||
        cap_set_flag(caps, CAP_EFFECTIVE, NKEEP, keep_caps, CAP_SET) || cap_set_proc(caps)) {
        cap_free(caps);
        return fail(log, p, "setting the capabilities (cap_set_proc)");
    }
    cap_free(caps);
    if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L))
        return fail(log, p, "prctl(PR_SET_KEEPCAPS, 0)");
    if (cap_reset_ambient())
        return fail(log, p, "clearing the ambient set");
    if ((rc = verify(p, log)))
        return rc;
    hk_info(log,
            "dropped root: running as user %s (uid %u, gid %u), keeping CAP_NET_ADMIN, "
            "CAP_NET_RAW and CAP_NET_BIND_SERVICE",
            p->user, (unsigned)p->uid, (unsigned)p->gid);
    return HK_OK;
}

static int readable(const char *file, const char *conn, char *err, size_t errlen)
{
    if (!file)
        return HK_OK;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        close(fd);
        return HK_OK;
    }
    if (conn)
        snprintf(err, errlen, "connection %s: cannot read %s: %s", conn, file, strerror(errno));
    else
        snprintf(err, errlen, "cannot read %s: %s", file, strerror(errno));
    return HK_E_IO;
}

int hiked_files_readable(const char *path, const struct hk_config *cfg, char *err, size_t errlen)
{
    int rc = readable(path, NULL, err, errlen);
    for (size_t i = 0; !rc && i < cfg->nconns; i++) {
        const struct hk_conn *c = &cfg->conns[i];
        rc = readable(c->local.cert, c->name, err, errlen);
        if (!rc)
            rc = readable(c->local.key, c->name, err, errlen);
        for (size_t k = 0; !rc && k < c->local.ncerts; k++)
            rc = readable(c->local.certs[k], c->name, err, errlen);
        for (size_t k = 0; !rc && k < c->remote.nca; k++)
            rc = readable(c->remote.ca[k], c->name, err, errlen);
        if (!rc)
            rc = readable(c->remote.cert, c->name, err, errlen);
    }
    return rc;
}
