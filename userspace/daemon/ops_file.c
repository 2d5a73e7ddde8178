// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on open files. In passthrough mode, read/write/splice/mmap of
 * a passthrough open never reach these handlers: the kernel does them on
 * the backing file registered in passthrough.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "handover.h"
#include "hooks.h"
#include "killpriv.h"
#include "lock_owners.h"
#include "notify.h"
#include "request.h"

/* NULL: a handle not in use (a RELEASE replayed after a restart) */
static struct open_file *fi_file(fuse_req_t req,
				 const struct fuse_file_info *fi)
{
	return fh_get(&req_daemon(req)->fh, fi->fh);
}

static int req_fd(fuse_req_t req, const struct fuse_file_info *fi)
{
	return fi_fd(&req_daemon(req)->fh, fi);
}

/* an open file's counts and fd go away (release, or a reply nobody read) */
static void drop_open(struct daemon *d, struct open_file *of)
{
	handover_file_released(d, of->fh);
	passthrough_release(d, of->inode, of->backing_id, of->rdwr);
	if (of->cached) {
		pthread_mutex_lock(&d->table.lock);
		of->inode->cached_opens--;
		pthread_mutex_unlock(&d->table.lock);
	}
	close(of->fd);
	fh_free(&d->fh, of->fh);
	free(of);
}

void open_file_drop(struct daemon *d, uint64_t fh)
{
	struct open_file *of = fh_get(&d->fh, fh);

	if (!of || !of->restored)	/* not the dead worker's any more */
		return;
	lock_owners_release_file(d, of);
	drop_open(d, of);
}

/*
 * Wraps the backing @fd of a new open in an open_file, decides passthrough
 * and replies. Consumes @fd. For CREATE, @e is the new entry.
 */
static void reply_open(fuse_req_t req, struct inode *inode, int fd,
		       struct fuse_file_info *fi, struct fuse_entry_param *e)
{
	struct daemon *d = req_daemon(req);
	struct open_file *of = calloc(1, sizeof(*of));
	int ret;

	if (!of) {
		close(fd);
		if (e)
			inode_forget(d, e->ino, 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	of->fd = fd;
	of->inode = inode;
	of->fh = fh_alloc(&d->fh, of);
	if (!of->fh) {
		close(fd);
		free(of);
		if (e)
			inode_forget(d, e->ino, 1);
		fuse_reply_err(req, ENFILE);
		return;
	}
	of->rdwr = (fi->flags & O_ACCMODE) == O_RDWR;
	of->writable = (fi->flags & O_ACCMODE) != O_RDONLY;
	of->uid = fuse_req_ctx(req)->uid;
	of->gid = fuse_req_ctx(req)->gid;
	of->pid = fuse_req_ctx(req)->pid;
	/* counted in inode->cached_opens when not passthrough */
	of->backing_id = passthrough_open(d, inode, fd, of->rdwr);
	of->cached = of->backing_id <= 0 && S_ISREG(inode->type);
	if (of->backing_id > 0) {
		request_reply_passthrough(of->backing_id);
		/*
		 * O_RDWR: a shared mapping may write the backing file, so no
		 * cached attributes while open (passthrough_attr_timeout())
		 */
		if (of->rdwr && e)
			e->attr_timeout = 0;
		else if (of->rdwr)
			notify_inval_attr(d, inode->node.nodeid);
	} else if (fi->flags & O_DIRECT) {
		/* daemon-served O_DIRECT: keep it out of the page cache */
		fi->direct_io = 1;
	} else if (of->cached && !e) {
		/*
		 * Close-to-open consistency with the backing file: the kernel
		 * drops cached pages on open (no keep_cache), but would trust
		 * a cached size; make it fetch the attributes again.
		 */
		notify_inval_attr(d, inode->node.nodeid);
	}
	fi->fh = of->fh;
	fi->noflush = 0;
	ret = handover_file_opened(d, of, fi->flags);
	if (ret) {
		drop_open(d, of);
		if (e)
			inode_forget(d, e->ino, 1);
		fuse_reply_err(req, -ret);
		return;
	}
	if (e) {
		ret = fuse_reply_create(req, e, fi);
	} else {
		ret = fuse_reply_open(req, fi);
	}
	if (ret == -ENOENT) {
		/* the opener is gone: the kernel sends no RELEASE */
		drop_open(d, of);
		if (e)
			inode_forget(d, e->ino, 1);
	}
}

/*
 * Flags of the daemon's backing fd. O_DIRECT opens served by the daemon
 * are replied with direct_io (no page cache in the FUSE mount), but the
 * backing fd is buffered: libfuse's request buffers are not aligned as
 * O_DIRECT needs. Passthrough opens are unaffected: the kernel opens its
 * own backing file with the caller's flags.
 */
static int backing_flags(int flags)
{
	return (flags & ~(O_NOFOLLOW | O_DIRECT)) | O_CLOEXEC;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *inode = inode_get(req_daemon(req), ino);
	char proc[64];
	int fd;

	if (!inode) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (policy_denied(req, policy_check(req, inode,
			  (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) ?
			  FUSEBPF_ACCESS_WRITE : FUSEBPF_ACCESS_SEE)))
		return;
	inode_proc_path(inode, proc, sizeof(proc));
	/* O_TRUNC by a caller without CAP_FSETID: clears set-id bits */
	fd = killpriv_apply_requested(req, inode, -1);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	fd = open(proc, backing_flags(fi->flags) & ~(O_CREAT | O_EXCL));
	if (fd < 0)
		fuse_reply_err(req, errno);
	else
		reply_open(req, inode, fd, fi, NULL);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct daemon *d = req_daemon(req);
	struct inode *dir = inode_get(d, parent), *inode;
	int flags = backing_flags(fi->flags);
	struct fuse_entry_param e;
	bool created = true;
	int fd, ret;

	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (policy_denied(req, policy_check_new(req, dir, name)))
		return;
	/* only a file we create changes owner; an existing one is opened */
	use_caller_umask(req);
	hooks_change_begin(d);
	fd = openat(dir->fd, name, flags | O_CREAT | O_EXCL, mode);
	if (fd < 0 && errno == EEXIST && !(fi->flags & O_EXCL)) {
		created = false;
		fd = openat(dir->fd, name, flags & ~O_CREAT);
	}
	if (fd < 0) {
		ret = errno;
		hooks_change_end(d);
		fuse_reply_err(req, ret);
		return;
	}
	/*
	 * O_TRUNC of an existing file by a caller without CAP_FSETID clears
	 * set-id bits (after the truncation here; the reply has the mode)
	 */
	ret = created ? give_to_caller(req, dir->fd, name, S_IFREG | mode) :
	      killpriv_requested() ? killpriv_apply(req, NULL, fd) : 0;
	if (ret > 0)
		ret = 0;
	if (!ret)
		ret = entry_lookup(d, dir, name, &e, &inode);
	if (ret) {
		if (created)
			unlinkat(dir->fd, name, 0);
		hooks_change_end(d);
		close(fd);
		fuse_reply_err(req, -ret);
		return;
	}
	if (created)
		hooks_event(req, FUSEBPF_EV_CREATE, dir, name, NULL, NULL,
			    S_IFREG | mode, 0, 0);
	hooks_change_end(d);
	reply_open(req, inode, fd, fi, &e);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = req_fd(req, fi);
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	struct open_file *of = fi_file(req, fi);
	ssize_t n;

	(void)ino;
	if (!of) {
		fuse_reply_err(req, EBADF);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = of->fd;
	out.buf[0].pos = off;
	/* a writer without CAP_FSETID: clear set-id bits as it would */
	n = killpriv_apply_requested(req, of->inode, of->fd);
	if (n == 0)
		n = fuse_buf_copy(&out, in, 0);
	if (n < 0)
		fuse_reply_err(req, -n);
	else
		fuse_reply_write(req, n);
}

/* close(2) of one of the caller's fds: backing close semantics + locks */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct open_file *of = fi_file(req, fi);
	int fd;

	(void)ino;
	if (!of) {
		fuse_reply_err(req, EBADF);
		return;
	}
	fd = dup(of->fd);
	lock_owners_release(req_daemon(req), of->inode, fi->lock_owner);
	if (fd < 0 || close(fd))
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct daemon *d = req_daemon(req);
	struct open_file *of = fi_file(req, fi);

	(void)ino;
	/* none: released already by a worker that died before replying */
	if (of) {
		/* the kernel's owner of OFD locks is the open file: gone now */
		lock_owners_release_file(d, of);
		if (fi->flock_release)
			flock(of->fd, LOCK_UN);
		if (of->writable && hooks_want_events(d)) {
			hooks_change_begin(d);
			hooks_event_close_write(d, of);
			hooks_change_end(d);
		}
		drop_open(d, of);
	}
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	int fd = req_fd(req, fi);

	(void)ino;
	fuse_reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	struct open_file *of = fi_file(req, fi);

	(void)ino;
	if (!of) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (policy_denied(req, policy_check(req, of->inode,
					    FUSEBPF_ACCESS_WRITE)))
		return;
	fuse_reply_err(req, fallocate(of->fd, mode, offset, length) ?
			    errno : 0);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	off_t res = lseek(req_fd(req, fi), off, whence);

	(void)ino;
	if (res < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
			       off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	struct open_file *out = fi_file(req, fi_out);
	ssize_t n;

	(void)ino_in;
	(void)ino_out;
	if (!out) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (policy_denied(req, policy_check(req, out->inode,
					    FUSEBPF_ACCESS_WRITE)))
		return;
	n = copy_file_range(req_fd(req, fi_in), &off_in, out->fd, &off_out,
			    len, flags);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, n);
}

/* flock(2) locks belong to an open file description, as our backing fd */
static void op_flock(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi, int op)
{
	(void)ino;
	fuse_reply_err(req, flock(req_fd(req, fi), op) ? errno : 0);
}

void ops_file_fill(struct fuse_lowlevel_ops *ops)
{
	ops->open = op_open;
	ops->create = op_create;
	ops->write_buf = op_write_buf;
	ops->flush = op_flush;
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->fallocate = op_fallocate;
	ops->lseek = op_lseek;
	ops->copy_file_range = op_copy_file_range;
	ops->flock = op_flock;
	ops->read = op_read;
}
