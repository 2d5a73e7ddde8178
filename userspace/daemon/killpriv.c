// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE_HANDLE_KILLPRIV_V2. Without it the kernel cannot mark a FUSE inode
 * S_NOSEC ("no set-id bits, no security.capability"), so every write()
 * first asks the daemon for GETXATTR(security.capability): one round trip
 * per write, even in passthrough mode where the data never reaches us.
 * With it the kernel leaves clearing set-id bits to the server and tells
 * it when (only for callers without CAP_FSETID, except chown):
 *   WRITE    with FUSE_WRITE_KILL_SUIDGID,
 *   SETATTR  with FATTR_KILL_SUIDGID (truncate, chown),
 *   OPEN / CREATE with FUSE_OPEN_KILL_SUIDGID (O_TRUNC),
 *   SETATTR with nothing to set: the kernel's file_remove_privs() before
 *     fallocate, copy_file_range, cached and passthrough writes (it strips
 *     ATTR_KILL_SUID/SGID from the setattr and sends what is left).
 * libfuse 3.14 passes none of these flags to the handlers, so raw_io's
 * read hook hands every request to killpriv_see_request() and the handler
 * of that request (same worker thread) asks killpriv_requested().
 *
 * How: the daemon (root, with CAP_FSETID) clears the bits itself before
 * the modification, by the kernel's rule for the caller (fs/attr.c,
 * setattr_should_drop_suidgid): set-uid always; set-gid if the file is
 * group-executable or the caller (fsgid and supplementary groups) is not
 * in the file's group. It cannot leave that to the backing filesystem by
 * dropping CAP_FSETID: the backing fs would judge group membership by the
 * daemon's groups, not the caller's, and clear the set-gid bit of a 02644
 * file a group member writes. security.capability is removed by the
 * backing filesystem on every write, whoever writes.
 *
 * Passthrough: writes never reach the daemon; the kernel first runs
 * file_remove_privs() on the FUSE file with the caller's credentials
 * (the empty SETATTR above, decided by the caller's CAP_FSETID and
 * groups), then writes the backing file with the credentials of
 * FUSE_DEV_IOC_BACKING_OPEN, the daemon's own: with CAP_FSETID, so the
 * backing fs does not clear the bits a second time by the daemon's groups.
 * The kernel decides by its cached mode: bits set directly on the backing
 * file count once backing_watch.c has invalidated it (FAN_ATTRIB), or
 * after the attribute timeout without the watch.
 *
 * POSIX ACLs: setting an access ACL clears the set-gid bit when the
 * caller is not in the file's group (posix_acl_update_mode); the kernel
 * says so with FUSE_SETXATTR_ACL_KILL_SGID in the extended SETXATTR
 * header (FUSE_SETXATTR_EXT), which libfuse 3.14 cannot parse: the read
 * hook rewrites such a request into the old layout and keeps the flag.
 *
 * Mode bpf: ops on backed inodes run in the kernel with the caller's own
 * credentials (kernel patch 0004), so the backing filesystem clears the
 * bits itself; the flag still matters there, because it lets the kernel
 * mark the FUSE inode S_NOSEC: without it each write to a backed file
 * first runs GETXATTR(security.capability) on it in the kernel (through
 * the filter), which halved random writes. Daemon-served subtrees get the
 * same handling as mode userspace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "killpriv.h"
#include "notify.h"

static __thread bool kill_requested;
static __thread bool acl_kill_sgid;	/* FUSE_SETXATTR_ACL_KILL_SGID */

bool killpriv_negotiated(const struct daemon *d)
{
	return d->kernel_flags & FUSE_HANDLE_KILLPRIV_V2;
}

/* The u32 at @off of the request body, if the body holds it. */
static bool body_u32(const void *body, size_t len, size_t off, uint32_t *v)
{
	if (len < off + sizeof(*v))
		return false;
	memcpy(v, (const char *)body + off, sizeof(*v));
	return true;
}

void killpriv_see_request(const void *buf, size_t len)
{
	const struct fuse_in_header *in = buf;
	const void *body = in + 1;
	uint32_t v = 0, bit;
	size_t blen, off;

	kill_requested = false;
	if (len < sizeof(*in))
		return;
	blen = len - sizeof(*in);
	/* where each request carries its kill flag */
	switch (in->opcode) {
	case FUSE_WRITE:
		off = offsetof(struct fuse_write_in, write_flags);
		bit = FUSE_WRITE_KILL_SUIDGID;
		break;
	case FUSE_SETATTR:
		off = offsetof(struct fuse_setattr_in, valid);
		bit = FATTR_KILL_SUIDGID;
		break;
	case FUSE_OPEN:
		off = offsetof(struct fuse_open_in, open_flags);
		bit = FUSE_OPEN_KILL_SUIDGID;
		break;
	case FUSE_CREATE:
		off = offsetof(struct fuse_create_in, open_flags);
		bit = FUSE_OPEN_KILL_SUIDGID;
		break;
	default:
		return;
	}
	kill_requested = body_u32(body, blen, off, &v) && (v & bit);
}

bool killpriv_requested(void)
{
	return kill_requested;
}

/* Is the caller of @req in group @gid (fsgid or a supplementary group)? */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t small[32], *list = small;
	int n, i;
	bool found = false;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	n = fuse_req_getgroups(req, 32, small);
	if (n > 32) {
		list = calloc(n, sizeof(*list));
		n = list ? fuse_req_getgroups(req, n, list) : -ENOMEM;
	}
	/* unknown groups (the caller is gone): not a member, bits go */
	for (i = 0; i < n && !found; i++)
		found = list[i] == gid;
	if (list != small)
		free(list);
	return found;
}

int killpriv_apply(fuse_req_t req, struct inode *inode, int fd)
{
	struct stat st;
	char proc[64];
	mode_t kill;
	int ret;

	ret = fd >= 0 ? (fstat(fd, &st) ? -errno : 0) : inode_stat(inode, &st);
	if (ret)
		return ret;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_ISUID | S_ISGID)))
		return 0;
	kill = st.st_mode & S_ISUID;
	if ((st.st_mode & S_ISGID) &&
	    ((st.st_mode & S_IXGRP) || !caller_in_group(req, st.st_gid)))
		kill |= S_ISGID;
	if (!kill)
		return 0;
	if (fd >= 0) {
		ret = fchmod(fd, st.st_mode & 07777 & ~kill);
	} else {
		inode_proc_path(inode, proc, sizeof(proc));
		ret = chmod(proc, st.st_mode & 07777 & ~kill);
	}
	return ret ? -errno : 1;
}

int killpriv_apply_requested(fuse_req_t req, struct inode *inode, int fd)
{
	int ret = kill_requested ? killpriv_apply(req, inode, fd) : 0;

	/* the kernel's cached mode is stale now; the reply does not say */
	if (ret > 0)
		notify_inval_attr(req_daemon(req), inode->node.nodeid);
	return ret < 0 ? ret : 0;
}

size_t killpriv_setxattr_compat(void *buf, size_t len)
{
	struct fuse_in_header *in = buf;
	struct fuse_setxattr_in arg;
	const size_t shrink = sizeof(arg) - FUSE_COMPAT_SETXATTR_IN_SIZE;
	char *body = (char *)(in + 1);

	acl_kill_sgid = false;
	if (len < sizeof(*in) + sizeof(arg) || in->opcode != FUSE_SETXATTR)
		return len;
	memcpy(&arg, body, sizeof(arg));
	acl_kill_sgid = arg.setxattr_flags & FUSE_SETXATTR_ACL_KILL_SGID;
	/* size and flags stay where they are; name and value move up */
	memmove(body + FUSE_COMPAT_SETXATTR_IN_SIZE, body + sizeof(arg),
		len - sizeof(*in) - sizeof(arg));
	in->len -= shrink;
	return len - shrink;
}

int killpriv_acl_set(struct inode *inode, const char *name)
{
	struct stat st;
	char proc[64];
	int ret;

	if (!acl_kill_sgid || strcmp(name, "system.posix_acl_access"))
		return 0;
	ret = inode_stat(inode, &st);
	if (ret || !(st.st_mode & S_ISGID) || S_ISLNK(st.st_mode))
		return ret;
	inode_proc_path(inode, proc, sizeof(proc));
	return chmod(proc, st.st_mode & 07777 & ~S_ISGID) ? -errno : 0;
}
