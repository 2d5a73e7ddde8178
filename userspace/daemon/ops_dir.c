// SPDX-License-Identifier: GPL-2.0
/* Directory handles and listing (after libfuse's passthrough_hp). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "handover.h"

struct dir_handle {
	int fd;			/* first, see struct open_file */
	DIR *dp;
	off_t offset;		/* telldir cookie of the next entry */
	struct dirent *entry;	/* read but not yet returned */
};

/* NULL: a handle not in use (a RELEASEDIR replayed after a restart) */
static struct dir_handle *fi_dir(fuse_req_t req,
				 const struct fuse_file_info *fi)
{
	return fh_get(&req_daemon(req)->fh, fi->fh);
}

void *ops_dir_restore(int fd)
{
	struct dir_handle *dh = calloc(1, sizeof(*dh));

	if (!dh)
		return NULL;
	dh->dp = fdopendir(fd);
	if (!dh->dp) {
		free(dh);
		return NULL;
	}
	dh->fd = fd;
	dh->offset = -1;	/* the next READDIR seeks to its offset */
	return dh;
}

static void dir_close(struct daemon *d, uint64_t fh, struct dir_handle *dh)
{
	handover_file_released(d, fh);
	closedir(dh->dp);
	fh_free(&d->fh, fh);
	free(dh);
}

void dir_handle_drop(struct daemon *d, uint64_t fh)
{
	struct dir_handle *dh = fh_get(&d->fh, fh);

	/* only one restored and never read: the kernel never had it */
	if (dh && dh->offset == -1)
		dir_close(d, fh, dh);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct daemon *d = req_daemon(req);
	struct inode *inode = inode_get(d, ino);
	struct dir_handle *dh;
	int fd, err;

	if (!inode) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (policy_denied(req, policy_check(req, inode, FUSEBPF_ACCESS_SEE)))
		return;
	dh = calloc(1, sizeof(*dh));
	fd = openat(inode->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!dh || fd < 0) {
		err = dh ? errno : ENOMEM;
		if (fd >= 0)
			close(fd);
		free(dh);
		fuse_reply_err(req, err);
		return;
	}
	dh->dp = fdopendir(fd);
	if (!dh->dp) {
		err = errno;
		close(fd);
		free(dh);
		fuse_reply_err(req, err);
		return;
	}
	dh->fd = dirfd(dh->dp);
	fi->fh = fh_alloc(&d->fh, dh);
	err = fi->fh ? handover_dir_opened(d, fi->fh, dh->fd) : -ENFILE;
	if (err) {
		if (fi->fh) {
			dir_close(d, fi->fh, dh);
		} else {
			closedir(dh->dp);
			free(dh);
		}
		fuse_reply_err(req, -err);
		return;
	}
	if (fuse_reply_open(req, fi) == -ENOENT)
		dir_close(d, fi->fh, dh);
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * Fills one reply buffer from @off. With @plus, every entry but "." and
 * ".." is looked up (the kernel takes a reference on each returned entry).
 */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi, bool plus)
{
	struct daemon *d = req_daemon(req);
	struct dir_handle *dh = fi_dir(req, fi);
	struct inode *dir = inode_get(d, ino);
	char *buf = calloc(1, size), *p = buf;
	size_t rem = size;
	int err = 0;

	if (!buf || !dir || !dh) {
		free(buf);
		fuse_reply_err(req, !buf ? ENOMEM : !dir ? ESTALE : EBADF);
		return;
	}
	if (policy_denied(req, policy_check(req, dir, FUSEBPF_ACCESS_SEE))) {
		free(buf);
		return;
	}
	if (off != dh->offset) {
		seekdir(dh->dp, off);
		dh->entry = NULL;
		dh->offset = off;
	}
	for (;;) {
		struct fuse_entry_param e = { 0 };
		struct inode *child = NULL;
		size_t entsize;

		if (!dh->entry) {
			errno = 0;
			dh->entry = readdir(dh->dp);
			if (!dh->entry) {
				err = errno;
				break;
			}
		}
		if (plus && !is_dot_or_dotdot(dh->entry->d_name)) {
			err = -entry_lookup(d, dir, dh->entry->d_name, &e,
					    &child);
			if (err == ENOENT) {	/* removed meanwhile */
				err = 0;
				dh->offset = dh->entry->d_off;
				dh->entry = NULL;
				continue;
			}
			if (err)
				break;
			/* names the caller may not see are not listed */
			if (!policy_entry_visible(req, dir, dh->entry->d_name,
						  child, &e)) {
				inode_forget(d, e.ino, 1);
				dh->offset = dh->entry->d_off;
				dh->entry = NULL;
				continue;
			}
		} else if (!is_dot_or_dotdot(dh->entry->d_name) &&
			   !policy_entry_visible(req, dir, dh->entry->d_name,
						 NULL, NULL)) {
			dh->offset = dh->entry->d_off;
			dh->entry = NULL;
			continue;
		} else {
			e.attr.st_ino = dh->entry->d_ino;
			e.attr.st_mode = dh->entry->d_type << 12;
		}
		if (plus)
			entsize = fuse_add_direntry_plus(req, p, rem,
							 dh->entry->d_name,
							 &e, dh->entry->d_off);
		else
			entsize = fuse_add_direntry(req, p, rem,
						    dh->entry->d_name,
						    &e.attr, dh->entry->d_off);
		if (entsize > rem) {
			if (child)
				inode_forget(d, e.ino, 1);
			break;
		}
		p += entsize;
		rem -= entsize;
		dh->offset = dh->entry->d_off;
		dh->entry = NULL;
	}
	/* an error after some entries: return those, the error comes next */
	if (err && p == buf)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, p - buf);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dir_handle *dh = fi_dir(req, fi);

	(void)ino;
	/* none: released already by a worker that died before replying */
	if (dh)
		dir_close(req_daemon(req), fi->fh, dh);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	int fd = fi_fd(&req_daemon(req)->fh, fi);

	(void)ino;
	fuse_reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}

void ops_dir_fill(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = op_opendir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	ops->releasedir = op_releasedir;
	ops->fsyncdir = op_fsyncdir;
}
