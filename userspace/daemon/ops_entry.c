// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on names and inode attributes.
 *
 * Permissions: the mount uses default_permissions, so the kernel checks
 * every access against the attributes we mirror from the backing inode,
 * exactly as the backing filesystem would for the caller (mode bits,
 * sticky dirs, owner-only chmod/utimes, ...). The daemon itself runs as
 * root and performs the operation; that keeps the result identical to the
 * backing fs even for callers whose supplementary groups (not carried in
 * FUSE requests) grant the access.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "hooks.h"
#include "killpriv.h"

#define GROUPS_MAX 64

static struct inode *get_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct inode *inode = inode_get(req_daemon(req), ino);

	if (!inode)
		fuse_reply_err(req, ESTALE);
	return inode;
}

static void reply_entry(fuse_req_t req, struct fuse_entry_param *e)
{
	struct daemon *d = req_daemon(req);

	/* the kernel did not take the reference if it dropped the reply */
	if (fuse_reply_entry(req, e) == -ENOENT)
		inode_forget(d, e->ino, 1);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct daemon *d = req_daemon(req);
	struct fuse_entry_param e;
	struct inode *inode, *dir;
	int ret;

	if (!strcmp(name, ".")) {
		/* export handle of a forgotten nodeid (FUSE_EXPORT_SUPPORT) */
		ret = entry_lookup_self(d, parent, &e, &inode);
	} else {
		dir = inode_get(d, parent);
		ret = dir ? -policy_check(req, dir, FUSEBPF_ACCESS_SEE) : -ESTALE;
		if (!ret)
			ret = entry_lookup(d, dir, name, &e, &inode);
		/* the caller may not know the name exists: ENOENT */
		if (!ret) {
			ret = -policy_check_lookup(req, dir, name, inode, &e);
			if (ret)
				inode_forget(d, e.ino, 1);
		}
	}
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	mode_lookup_reply(d, inode, strcmp(name, ".") ? &e : NULL);
	reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(req_daemon(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inode_forget(req_daemon(req), forgets[i].ino,
			     forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct inode *inode = get_or_reply(req, ino);
	struct stat st;
	int ret;

	(void)fi;
	if (!inode || policy_denied(req, policy_check(req, inode,
							FUSEBPF_ACCESS_SEE)))
		return;
	ret = inode_stat(inode, &st);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st,
				entry_attr_timeout(req_daemon(req), inode));
}

static struct timespec set_time(int valid, int set_bit, int now_bit,
				const struct timespec *ts)
{
	if (valid & now_bit)
		return (struct timespec){ .tv_nsec = UTIME_NOW };
	if (valid & set_bit)
		return *ts;
	return (struct timespec){ .tv_nsec = UTIME_OMIT };
}

static int do_setattr(struct inode *inode, const struct stat *attr, int valid,
		      int fd)
{
	char proc[64];

	inode_proc_path(inode, proc, sizeof(proc));
	if ((valid & FUSE_SET_ATTR_MODE) &&
	    (fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(proc, attr->st_mode)))
		return -errno;
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;

		if (fchownat(inode->fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	if ((valid & FUSE_SET_ATTR_SIZE) &&
	    (fd >= 0 ? ftruncate(fd, attr->st_size) :
		       truncate(proc, attr->st_size)))
		return -errno;
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		     FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
		struct timespec ts[2] = {
			set_time(valid, FUSE_SET_ATTR_ATIME,
				 FUSE_SET_ATTR_ATIME_NOW, &attr->st_atim),
			set_time(valid, FUSE_SET_ATTR_MTIME,
				 FUSE_SET_ATTR_MTIME_NOW, &attr->st_mtim),
		};

		if (fd >= 0 ? futimens(fd, ts) :
			      utimensat(inode->fd, "", ts,
					AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	return 0;
}

/* what a SETATTR can change; none of them: the kernel's file_remove_privs() */
#define SETATTR_CHANGES (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |		\
			 FUSE_SET_ATTR_GID | FUSE_SET_ATTR_SIZE |		\
			 FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |		\
			 FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW |	\
			 FUSE_SET_ATTR_CTIME)

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct inode *inode = get_or_reply(req, ino);
	struct stat st;
	int ret;

	if (!inode || policy_denied(req, policy_check(req, inode,
							FUSEBPF_ACCESS_WRITE)))
		return;
	/*
	 * Set-id bits go, by the caller's rule: for a truncate by a caller
	 * without CAP_FSETID, for the kernel's file_remove_privs(), which
	 * sends a SETATTR with nothing else to set (killpriv.c), and for a
	 * chown by anyone but root (the kernel flags every chown; the
	 * daemon's own chown would keep set-gid by root's rule)
	 */
	ret = ((valid & FUSE_SET_ATTR_SIZE) && killpriv_requested()) ||
	      ((valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) &&
	       killpriv_requested() && fuse_req_ctx(req)->uid != 0) ||
	      !(valid & SETATTR_CHANGES) ?
	      killpriv_apply(req, inode, fi ? fi_fd(&req_daemon(req)->fh, fi) : -1) : 0;
	if (valid & FUSE_SET_ATTR_SIZE)
		hooks_change_begin(req_daemon(req));
	if (ret >= 0)
		ret = do_setattr(inode, attr, valid, fi ? fi_fd(&req_daemon(req)->fh, fi) : -1);
	if (!ret)
		ret = inode_stat(inode, &st);
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (!ret)
			hooks_event(req, FUSEBPF_EV_TRUNCATE, inode, NULL, NULL,
				    NULL, st.st_mode, st.st_size, 0);
		hooks_change_end(req_daemon(req));
	}
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st,
				entry_attr_timeout(req_daemon(req), inode));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct inode *inode = get_or_reply(req, ino);
	char buf[PATH_MAX + 1];
	ssize_t n;

	if (!inode || policy_denied(req, policy_check(req, inode,
							FUSEBPF_ACCESS_SEE)))
		return;
	n = readlinkat(inode->fd, "", buf, sizeof(buf));
	if (n < 0)
		fuse_reply_err(req, errno);
	else if (n == sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/*
 * New inodes belong to the caller. The daemon (root) creates them, then
 * gives them to the caller's fsuid and fsgid, or to the parent's group
 * when the parent is setgid (the backing fs already did that, and set the
 * setgid bit of new directories). We do not switch fsuid per thread
 * instead: that drops CAP_DAC_OVERRIDE and would check the parent against
 * the caller's uid without its supplementary groups, so the backing fs
 * could refuse what the kernel rightly allowed. chown clears the set-id
 * bits of non-directories, so they are restored afterwards; the kernel has
 * already stripped a setgid bit the caller may not set.
 */
int give_to_caller(fuse_req_t req, int dirfd, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat parent;
	gid_t gid = ctx->gid;

	if (fstat(dirfd, &parent))
		return -errno;
	if (parent.st_mode & S_ISGID)
		gid = parent.st_gid;
	if (fchownat(dirfd, name, ctx->uid, gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISDIR(mode) && !S_ISLNK(mode) && (mode & (S_ISUID | S_ISGID)) &&
	    fchmodat(dirfd, name, mode & 07777, 0))
		return -errno;
	return 0;
}

/*
 * New inodes get the caller's umask unless the parent has a default ACL:
 * with FUSE_CAP_POSIX_ACL + DONT_MASK the kernel leaves that to us, and
 * the backing fs decides it when it creates with the caller's umask. The
 * umask is per process, so each worker thread first gets its own fs_struct
 * (as virtiofsd does).
 */
void use_caller_umask(fuse_req_t req)
{
	static __thread bool own_fs;

	if (!own_fs && unshare(CLONE_FS) == 0)
		own_fs = true;
	if (own_fs)
		umask(fuse_req_ctx(req)->umask);
}

/*
 * After a create-like op: set the owner, emit the event @type and reply
 * the new entry. Ends the change begun with hooks_change_begin.
 */
static void finish_new(fuse_req_t req, struct inode *parent, const char *name,
		       mode_t mode, uint32_t type)
{
	struct fuse_entry_param e;
	struct inode *inode;
	int ret = give_to_caller(req, parent->fd, name, mode);

	if (ret) {
		unlinkat(parent->fd, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
		hooks_change_end(req_daemon(req));
		fuse_reply_err(req, -ret);
		return;
	}
	hooks_event(req, type, parent, name, NULL, NULL, mode, 0, 0);
	hooks_change_end(req_daemon(req));
	ret = entry_lookup(req_daemon(req), parent, name, &e, &inode);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		reply_entry(req, &e);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct inode *dir = get_or_reply(req, parent);

	if (!dir || policy_denied(req, policy_check_new(req, dir, name)))
		return;
	use_caller_umask(req);
	hooks_change_begin(req_daemon(req));
	if (mknodat(dir->fd, name, mode, rdev)) {
		hooks_change_end(req_daemon(req));
		fuse_reply_err(req, errno);
	} else {
		finish_new(req, dir, name, mode, S_ISREG(mode) ?
			   FUSEBPF_EV_CREATE : FUSEBPF_EV_MKNOD);
	}
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct inode *dir = get_or_reply(req, parent);

	if (!dir || policy_denied(req, policy_check_new(req, dir, name)))
		return;
	use_caller_umask(req);
	hooks_change_begin(req_daemon(req));
	if (mkdirat(dir->fd, name, mode)) {
		hooks_change_end(req_daemon(req));
		fuse_reply_err(req, errno);
	} else {
		finish_new(req, dir, name, S_IFDIR | mode, FUSEBPF_EV_MKDIR);
	}
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct inode *dir = get_or_reply(req, parent);

	if (!dir || policy_denied(req, policy_check_new(req, dir, name)))
		return;
	hooks_change_begin(req_daemon(req));
	if (symlinkat(link, dir->fd, name)) {
		hooks_change_end(req_daemon(req));
		fuse_reply_err(req, errno);
	} else {
		finish_new(req, dir, name, S_IFLNK | 0777, FUSEBPF_EV_SYMLINK);
	}
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct inode *inode = get_or_reply(req, ino);
	struct inode *dir = inode ? get_or_reply(req, newparent) : NULL;
	struct fuse_entry_param e;
	struct inode *linked;
	int ret;

	if (!dir ||
	    policy_denied(req, policy_check(req, inode, FUSEBPF_ACCESS_WRITE)) ||
	    policy_denied(req, policy_check_new(req, dir, newname)))
		return;
	hooks_change_begin(req_daemon(req));
	if (linkat(inode->fd, "", dir->fd, newname, AT_EMPTY_PATH)) {
		hooks_change_end(req_daemon(req));
		fuse_reply_err(req, errno);
		return;
	}
	hooks_event(req, FUSEBPF_EV_LINK, dir, newname, inode, NULL,
		    inode->type, 0, 0);
	hooks_change_end(req_daemon(req));
	ret = entry_lookup(req_daemon(req), dir, newname, &e, &linked);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		reply_entry(req, &e);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	struct inode *dir = get_or_reply(req, parent);

	struct daemon *d = req_daemon(req);
	int err;

	if (!dir || policy_denied(req, policy_check_remove(req, dir, name)))
		return;
	hooks_change_begin(d);
	err = unlinkat(dir->fd, name, flags) ? errno : 0;
	if (!err)
		hooks_event(req, flags & AT_REMOVEDIR ? FUSEBPF_EV_RMDIR :
			    FUSEBPF_EV_UNLINK, dir, name, NULL, NULL, 0, 0, 0);
	hooks_change_end(d);
	fuse_reply_err(req, err);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct inode *dir = get_or_reply(req, parent);
	struct inode *newdir = dir ? get_or_reply(req, newparent) : NULL;

	if (!newdir ||
	    policy_denied(req, policy_check_remove(req, dir, name)) ||
	    policy_denied(req, policy_check_new(req, newdir, newname)))
		return;
	hooks_change_begin(req_daemon(req));
	if (renameat2(dir->fd, name, newdir->fd, newname, flags)) {
		hooks_change_end(req_daemon(req));
		fuse_reply_err(req, errno);
		return;
	}
	hooks_event(req, FUSEBPF_EV_RENAME, dir, name, newdir, newname, 0, 0,
		    flags);
	hooks_change_end(req_daemon(req));
	inode_moved(req_daemon(req), newdir, newname);
	if (flags & RENAME_EXCHANGE)
		inode_moved(req_daemon(req), dir, name);
	fuse_reply_err(req, 0);
}

/*
 * Mode-bit check as the caller. Under default_permissions the kernel
 * answers access(2) itself and does not send ACCESS; this answers the same
 * way should a kernel send it anyway.
 */
static bool caller_may(fuse_req_t req, const struct stat *st, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t groups[GROUPS_MAX];
	int ngroups, shift = 0;

	if (ctx->uid == 0) {
		return !(mask & X_OK) || S_ISDIR(st->st_mode) ||
		       (st->st_mode & 0111);
	}
	if (ctx->uid == st->st_uid) {
		shift = 6;
	} else if (ctx->gid == st->st_gid) {
		shift = 3;
	} else {
		ngroups = fuse_req_getgroups(req, GROUPS_MAX, groups);
		for (int i = 0; i < ngroups && i < GROUPS_MAX; i++)
			if (groups[i] == st->st_gid)
				shift = 3;
	}
	return ((st->st_mode >> shift) & mask & 7) == (unsigned int)(mask & 7);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct inode *inode = get_or_reply(req, ino);
	struct stat st;
	int ret;

	if (!inode || policy_denied(req, policy_check(req, inode,
				(mask & W_OK) ? FUSEBPF_ACCESS_WRITE : FUSEBPF_ACCESS_SEE)))
		return;
	ret = inode_stat(inode, &st);
	if (!ret && mask != F_OK && !caller_may(req, &st, mask))
		ret = -EACCES;
	fuse_reply_err(req, -ret);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct inode *inode = get_or_reply(req, ino);
	struct statvfs sv;

	if (!inode)
		return;
	if (fstatvfs(inode->fd, &sv))
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

void ops_entry_fill(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->readlink = op_readlink;
	ops->mknod = op_mknod;
	ops->mkdir = op_mkdir;
	ops->symlink = op_symlink;
	ops->link = op_link;
	ops->unlink = op_unlink;
	ops->rmdir = op_rmdir;
	ops->rename = op_rename;
	ops->access = op_access;
	ops->statfs = op_statfs;
}
