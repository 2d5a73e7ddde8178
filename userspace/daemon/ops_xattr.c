// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes, through /proc/self/fd/N: the f*xattr calls do not
 * take O_PATH fds, and the magic link names the inode itself (also for
 * symlinks).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/xattr.h>

#include "fusebpfd.h"
#include "killpriv.h"

/* the inode, if the policy allows @access; otherwise replies */
static struct inode *get_or_reply(fuse_req_t req, fuse_ino_t ino, char *proc,
				  size_t len, int access)
{
	struct inode *inode = inode_get(req_daemon(req), ino);

	if (!inode)
		fuse_reply_err(req, ESTALE);
	else if (policy_denied(req, policy_check(req, inode, access)))
		return NULL;
	else
		inode_proc_path(inode, proc, len);
	return inode;
}

/* size 0 asks for the size; otherwise the value, or ERANGE */
static void reply_sized(fuse_req_t req, size_t size, ssize_t n, char *buf)
{
	if (n < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, n);
	else
		fuse_reply_buf(req, buf, n);
}

/* getxattr (@name) or listxattr (@name NULL): same buffer and size rules */
static void read_xattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		       size_t size)
{
	char proc[64], *buf = NULL;
	ssize_t n;

	if (!get_or_reply(req, ino, proc, sizeof(proc), FUSEBPF_ACCESS_SEE))
		return;
	if (size && !(buf = malloc(size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = name ? getxattr(proc, name, buf, size) : listxattr(proc, buf, size);
	reply_sized(req, size, n, buf);
	free(buf);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	read_xattr(req, ino, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	read_xattr(req, ino, NULL, size);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct inode *inode;
	char proc[64];
	int ret;

	inode = get_or_reply(req, ino, proc, sizeof(proc), FUSEBPF_ACCESS_WRITE);
	if (!inode)
		return;
	ret = setxattr(proc, name, value, size, flags) ? -errno : 0;
	/* an access ACL set by a caller outside the group: set-gid goes */
	if (!ret)
		ret = killpriv_acl_set(inode, name);
	fuse_reply_err(req, -ret);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	char proc[64];

	if (get_or_reply(req, ino, proc, sizeof(proc), FUSEBPF_ACCESS_WRITE))
		fuse_reply_err(req, removexattr(proc, name) ? errno : 0);
}

void ops_xattr_fill(struct fuse_lowlevel_ops *ops)
{
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->setxattr = op_setxattr;
	ops->removexattr = op_removexattr;
}
