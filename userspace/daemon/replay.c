// SPDX-License-Identifier: GPL-2.0
/*
 * Requests replayed after a restart (FUSE_NOTIFY_RESEND: the kernel queues
 * again what the dead worker had read and not answered, with
 * FUSE_UNIQUE_RESEND in the unique). Most requests can simply run again;
 * these cannot, and are journaled (handover.h) when read and when
 * answered:
 *   mknod mkdir symlink link create: the name must not be created twice
 *     (EEXIST), nor an O_EXCL create fail on its own file;
 *   unlink rmdir rename: the second run would fail with ENOENT;
 *   write through an O_APPEND open: the data would be appended twice;
 *   open opendir create: the dead worker's open record for a reply that
 *     never arrived is dropped.
 * A replay of a request that was answered (the reply was being written)
 * gets the same answer; of one that was only started, the state of the
 * backing decides whether it was performed: the name it creates exists
 * now but did not when it came, the name it removes existed then and not
 * now, the O_APPEND file grew by the write's size. Only such a replay is
 * judged that way: another process changing the same name in that
 * instant could make it guess wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "handover.h"
#include "replay.h"

#ifndef FUSE_UNIQUE_RESEND
#define FUSE_UNIQUE_RESEND	(1ULL << 63)
#endif

static bool journaled(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
	case FUSE_CREATE:
	case FUSE_OPEN:
	case FUSE_OPENDIR:
	case FUSE_WRITE:
		return true;
	default:
		return false;
	}
}

/* the size of the fixed part before the (first) name, or -1 */
static ssize_t name_offset(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_MKNOD:	return sizeof(struct fuse_mknod_in);
	case FUSE_MKDIR:	return sizeof(struct fuse_mkdir_in);
	case FUSE_SYMLINK:	return 0;
	case FUSE_LINK:		return sizeof(struct fuse_link_in);
	case FUSE_UNLINK:
	case FUSE_RMDIR:	return 0;
	case FUSE_RENAME:	return sizeof(struct fuse_rename_in);
	case FUSE_RENAME2:	return sizeof(struct fuse_rename2_in);
	case FUSE_CREATE:	return sizeof(struct fuse_create_in);
	default:		return -1;
	}
}

/* the name the request creates or removes (rename: the source) */
static const char *req_name(void *buf, size_t n)
{
	struct fuse_in_header *in = buf;
	ssize_t off = name_offset(in->opcode);
	char *name;

	if (off < 0 || n <= sizeof(*in) + off)
		return NULL;
	name = (char *)buf + sizeof(*in) + off;
	if (!memchr(name, '\0', n - sizeof(*in) - off))
		return NULL;
	return name;
}

/* does @name exist in directory @nodeid? -1: cannot tell */
static int name_exists(struct daemon *d, uint64_t nodeid, const char *name)
{
	struct stat st;
	int fd = inode_dup_fd(d, nodeid), ret;

	if (fd < 0)
		return -1;
	ret = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 1 :
	      errno == ENOENT ? 0 : -1;
	close(fd);
	return ret;
}

/* an O_APPEND write: its open file's fd, else -1 */
static int append_fd(struct daemon *d, void *buf, size_t n)
{
	struct fuse_write_in *w = (void *)((char *)buf +
					   sizeof(struct fuse_in_header));
	int flags;

	if (n < sizeof(struct fuse_in_header) + sizeof(*w))
		return -1;
	flags = handover_file_flags(d, w->fh);
	if (flags < 0 || !(flags & O_APPEND))
		return -1;
	return fi_fd(&d->fh, &(struct fuse_file_info){ .fh = w->fh });
}

static int64_t file_size(int fd)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) ? st.st_size : -1;
}

/* What the request changes, as it is now: journaled when it is read. */
static void journal_start(struct daemon *d, struct handover_journal *j,
			  void *buf, size_t n)
{
	struct fuse_in_header *in = buf;
	const char *name = req_name(buf, n);
	int fd;

	__atomic_store_n(&j->state, HANDOVER_J_FREE, __ATOMIC_RELEASE);
	j->unique = in->unique & ~FUSE_UNIQUE_RESEND;
	j->opcode = in->opcode;
	j->error = 0;
	j->existed = 0;
	j->aux = 0;
	j->result = 0;
	if (in->opcode == FUSE_WRITE) {
		fd = append_fd(d, buf, n);
		if (fd < 0)
			return;		/* not journaled: a plain pwrite */
		j->aux = file_size(fd);
	} else if (name) {
		j->existed = name_exists(d, in->nodeid, name) == 1;
	}
	__atomic_store_n(&j->state, HANDOVER_J_STARTED, __ATOMIC_RELEASE);
}

static void answer(int fd, uint64_t unique, int error, const void *body,
		   size_t len)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + len, .error = error, .unique = unique,
	};
	struct iovec iov[2] = { { &out, sizeof(out) }, { (void *)body, len } };

	if (writev(fd, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		log_error("replayed request: reply: %s", strerror(errno));
}

/* MKDIR etc. that was performed: LOOKUP of the name gives its entry reply */
static size_t as_lookup(void *buf, size_t n)
{
	struct fuse_in_header *in = buf;
	const char *name = req_name(buf, n);
	size_t len;

	if (!name)
		return n;
	len = strlen(name) + 1;
	memmove((char *)buf + sizeof(*in), name, len);
	in->opcode = FUSE_LOOKUP;
	in->len = sizeof(*in) + len;
	return in->len;
}

/* a CREATE whose file is ours already: open it, as it is */
static void create_reopens(void *buf)
{
	struct fuse_create_in *c = (void *)((char *)buf +
					    sizeof(struct fuse_in_header));

	c->flags &= ~(O_EXCL | O_TRUNC);
}

static size_t replayed(struct daemon *d, int fd, struct handover_journal *j,
		       void *buf, size_t n)
{
	struct fuse_in_header *in = buf;
	struct fuse_write_in *w = (void *)(in + 1);
	struct fuse_write_out wo = { 0 };
	bool replied = j->state == HANDOVER_J_REPLIED;
	const char *name = req_name(buf, n);
	int exists = name ? name_exists(d, in->nodeid, name) : -1;

	handover_count_replay(d);
	if (replied && j->error) {
		answer(fd, in->unique, j->error, NULL, 0);
		return 0;
	}
	switch (in->opcode) {
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
		if (replied || (j->existed && exists == 0)) {
			answer(fd, in->unique, 0, NULL, 0);
			return 0;
		}
		return n;
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		if (replied || (!j->existed && exists == 1))
			return as_lookup(buf, n);
		return n;
	case FUSE_CREATE:
		if (replied && j->result)	/* that open never reached the app */
			open_file_drop(d, j->result);
		if (replied || (!j->existed && exists == 1))
			create_reopens(buf);
		return n;
	case FUSE_OPEN:
		if (replied && j->result)
			open_file_drop(d, j->result);
		return n;
	case FUSE_OPENDIR:
		if (replied && j->result)
			dir_handle_drop(d, j->result);
		return n;
	case FUSE_WRITE:
		if (replied) {
			wo.size = j->result;
		} else {
			int64_t size = file_size(append_fd(d, buf, n));

			if (size < 0 || (uint64_t)size < j->aux + w->size)
				return n;
			wo.size = w->size;
		}
		answer(fd, in->unique, 0, &wo, sizeof(wo));
		return 0;
	default:
		return n;
	}
}

size_t replay_request(struct daemon *d, int fd, void *buf, size_t n)
{
	struct fuse_in_header *in = buf;
	struct handover_journal *j;

	if (!d->ho || n < sizeof(*in) || !journaled(in->opcode))
		return n;
	j = handover_journal(d, in->unique);
	if (!j)
		return n;
	if ((in->unique & FUSE_UNIQUE_RESEND) &&
	    j->unique == (in->unique & ~FUSE_UNIQUE_RESEND) &&
	    j->opcode == in->opcode && j->state != HANDOVER_J_FREE) {
		n = replayed(d, fd, j, buf, n);
		if (!n)
			return 0;
		in = buf;
		if (!journaled(in->opcode))	/* now a LOOKUP */
			return n;
	}
	journal_start(d, j, buf, n);
	return n;
}

/* The reply to a journaled request is about to be written. */
void replay_reply(struct daemon *d, uint64_t unique, uint32_t opcode,
		  int32_t error, const void *body, size_t len)
{
	struct handover_journal *j;

	if (!d->ho || !journaled(opcode))
		return;
	j = handover_journal(d, unique);
	if (!j || j->unique != (unique & ~FUSE_UNIQUE_RESEND) ||
	    j->opcode != opcode || j->state != HANDOVER_J_STARTED)
		return;
	j->error = error;
	if (!error && opcode == FUSE_WRITE && body &&
	    len >= sizeof(struct fuse_write_out))
		j->result = ((const struct fuse_write_out *)body)->size;
	else if (!error && opcode == FUSE_CREATE && body &&
		 len >= sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out))
		j->result = ((const struct fuse_open_out *)
			     ((const char *)body + sizeof(struct fuse_entry_out)))->fh;
	else if (!error && (opcode == FUSE_OPEN || opcode == FUSE_OPENDIR) &&
		 body && len >= sizeof(struct fuse_open_out))
		j->result = ((const struct fuse_open_out *)body)->fh;
	__atomic_store_n(&j->state, HANDOVER_J_REPLIED, __ATOMIC_RELEASE);
}
