/* SPDX-License-Identifier: GPL-2.0 */
/* FUSE_HANDLE_KILLPRIV_V2: clearing set-id bits is the server's job. */
#ifndef FUSEBPFD_KILLPRIV_H
#define FUSEBPFD_KILLPRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebpfd.h"

/* The connection negotiated FUSE_HANDLE_KILLPRIV_V2. */
bool killpriv_negotiated(const struct daemon *d);
/* raw_io read hook: remember the kill flag of the request just read. */
void killpriv_see_request(const void *buf, size_t len);
/* The request this thread is handling asks to clear set-id bits. */
bool killpriv_requested(void);
/*
 * Clears the set-id bits of @inode (through @fd, or its path if @fd < 0)
 * that a modification by the caller of @req clears on a native
 * filesystem. 1 if the mode changed, 0 if not, or -errno.
 */
int killpriv_apply(fuse_req_t req, struct inode *inode, int fd);
/*
 * killpriv_apply() if this request asked for it, before the write,
 * truncate or O_TRUNC open it makes; then the kernel's cached attributes
 * of @inode are invalidated (its reply carries no mode). 0 or -errno.
 */
int killpriv_apply_requested(fuse_req_t req, struct inode *inode, int fd);

/*
 * raw_io read hook, with FUSE_SETXATTR_EXT negotiated: a SETXATTR request
 * in @buf (@len bytes) is rewritten in place into the layout libfuse 3.14
 * reads, its FUSE_SETXATTR_ACL_KILL_SGID remembered. The new length.
 */
size_t killpriv_setxattr_compat(void *buf, size_t len);
/*
 * After the SETXATTR @name of this request succeeded on @inode: clears
 * its set-gid bit if it set an access ACL the kernel says clears it.
 * 0 or -errno.
 */
int killpriv_acl_set(struct inode *inode, const char *name);

#endif
