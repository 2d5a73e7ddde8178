// SPDX-License-Identifier: GPL-2.0
/*
 * Notifications to the kernel: see notify.h. Their users: the backing
 * watch (changes made beside the mount), policy reloads (every dentry
 * handed out), mode bpf's root re-attachment (the root's kernel-resolved
 * names), moves (the moved inode's attributes), opens (close-to-open
 * attributes) and cleared set-id bits (the mode).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "fusebpfd.h"
#include "notify.h"

/* enum fuse_notify_code; Debian's headers predate them */
#define NOTIFY_RESEND		7	/* Linux 6.9 (7.40) */
#define NOTIFY_INC_EPOCH	8	/* Linux 6.16 (7.44) */

int notify_inval_attr(struct daemon *d, uint64_t nodeid)
{
	if (!d->se)
		return -ENOTCONN;
	return fuse_lowlevel_notify_inval_inode(d->se, nodeid, -1, 0);
}

int notify_inval_data(struct daemon *d, uint64_t nodeid)
{
	if (!d->se)
		return -ENOTCONN;
	return fuse_lowlevel_notify_inval_inode(d->se, nodeid, 0, 0);
}

int notify_inval_entry(struct daemon *d, uint64_t parent, const char *name)
{
	if (!d->se)
		return -ENOTCONN;
	return fuse_lowlevel_notify_inval_entry(d->se, parent, name,
						strlen(name));
}

int notify_expire_entry(struct daemon *d, uint64_t parent, const char *name)
{
	if (!d->se)
		return -ENOTCONN;
	return fuse_lowlevel_notify_expire_entry(d->se, parent, name,
						 strlen(name),
						 FUSE_LL_EXPIRE_ONLY);
}

int notify_delete(struct daemon *d, uint64_t parent, uint64_t child,
		  const char *name)
{
	if (!d->se)
		return -ENOTCONN;
	return fuse_lowlevel_notify_delete(d->se, parent, child, name,
					   strlen(name));
}

/* A notification without a body, which libfuse 3.14 cannot send */
static int notify_code(int devfd, int code)
{
	struct fuse_out_header out = {
		.len = sizeof(out),
		.error = code,
	};

	if (write(devfd, &out, sizeof(out)) != sizeof(out))
		return -errno;
	return 0;
}

int notify_inc_epoch(struct daemon *d)
{
	if (!d->se)
		return -ENOTCONN;
	return notify_code(fuse_session_fd(d->se), NOTIFY_INC_EPOCH);
}

int notify_resend(int devfd)
{
	return notify_code(devfd, NOTIFY_RESEND);
}
