/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every notification the daemon sends the kernel (notify.c): what it
 * caches of an inode or a name is dropped or marked stale. Each returns 0
 * or -errno (-ENOENT: the kernel holds no such inode or name, which is
 * normal; -ENOTCONN: no session yet). Never from a request handler for
 * an entry whose directory the kernel holds locked for that request (the
 * kernel takes the parent's inode lock: a deadlock).
 */
#ifndef FUSEBPFD_NOTIFY_H
#define FUSEBPFD_NOTIFY_H

#include <stdint.h>

struct daemon;

/* the attributes of @nodeid (FUSE_NOTIFY_INVAL_INODE, no pages) */
int notify_inval_attr(struct daemon *d, uint64_t nodeid);
/* its attributes and cached pages (or listing) */
int notify_inval_data(struct daemon *d, uint64_t nodeid);
/* the dentry @name in @parent is dropped (FUSE_NOTIFY_INVAL_ENTRY) */
int notify_inval_entry(struct daemon *d, uint64_t parent, const char *name);
/*
 * @name in @parent is looked up again at its next use, but stays hashed
 * (FUSE 7.38, Linux 6.2): -ENOSYS or -EINVAL where the kernel cannot
 */
int notify_expire_entry(struct daemon *d, uint64_t parent, const char *name);
/* @name in @parent, the inode @child, is gone (FUSE_NOTIFY_DELETE) */
int notify_delete(struct daemon *d, uint64_t parent, uint64_t child,
		  const char *name);
/*
 * Every dentry of the mount is revalidated at its next use
 * (FUSE_NOTIFY_INC_EPOCH, Linux 6.16): -EINVAL where the kernel cannot
 */
int notify_inc_epoch(struct daemon *d);
/*
 * The kernel sends again the requests it is waiting for an answer to
 * (FUSE_NOTIFY_RESEND, Linux 6.9), on the connection @devfd
 */
int notify_resend(int devfd);

#endif /* FUSEBPFD_NOTIFY_H */
