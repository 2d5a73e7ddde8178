// SPDX-License-Identifier: GPL-2.0
/*
 * Stock-kernel passthrough (Linux >= 6.9): the backing file of an inode is
 * registered with FUSE_DEV_IOC_BACKING_OPEN and open replies carry its id
 * with FOPEN_PASSTHROUGH; the kernel then does read/write/splice/mmap on
 * the backing file itself.
 *
 * The kernel refuses a second backing id for an inode while it is open in
 * passthrough mode, a non-passthrough open of such an inode (EINVAL), and
 * a passthrough open while the inode has page-cache opens (ETXTBSY); it
 * fails the open with EIO. So: one id per inode shared by all its opens,
 * registered on the first and closed on the last release; every open of
 * an inode that has an id is a passthrough open (O_DIRECT ones too: the
 * kernel opens its backing file with the caller's flags); an inode with
 * daemon-served opens gets no passthrough until they are all released.
 * The decision and the count that later decisions see are taken under one
 * lock: the opener applies our reply only after we sent it, so a served
 * open decided just before a passthrough registration would otherwise
 * meet an inode already in passthrough mode (EIO, seen with an O_DIRECT
 * writer racing buffered readers).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "mode.h"

static int32_t register_backing(struct daemon *d, int fd)
{
	struct fuse_backing_map map = { .fd = fd };
	int id;

	/*
	 * The kernel writes with the daemon's credentials, CAP_FSETID
	 * included: set-id bits are cleared by the caller's rule, not the
	 * daemon's (killpriv.c)
	 */
	id = ioctl(fuse_session_fd(d->se), FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (id <= 0) {
		/* e.g. EPERM (not negotiated, unprivileged), ELOOP (stacking) */
		if (!__atomic_exchange_n(&d->passthrough_fallback_logged, true,
					 __ATOMIC_RELAXED))
			log_error("passthrough refused by the kernel (%m): "
				  "serving such opens in the daemon");
		return 0;
	}
	fusebpf_stats_inc(&d->stats->backing_opens);
	return id;
}

int32_t passthrough_open(struct daemon *d, struct inode *inode, int fd,
			 bool rdwr)
{
	bool eligible = d->mode_ops->passthrough_opens && !inode->served &&
			S_ISREG(inode->type) && !policy_served(d, inode);
	int32_t id = 0;

	pthread_mutex_lock(&d->table.lock);
	if (eligible && !inode->backing_id && !inode->cached_opens)
		inode->backing_id = register_backing(d, fd);
	if (eligible)
		id = inode->backing_id;
	if (id > 0) {
		inode->passthrough_opens++;
		inode->rdwr_passthrough_opens += rdwr;
	} else if (S_ISREG(inode->type)) {
		inode->cached_opens++;
	}
	pthread_mutex_unlock(&d->table.lock);
	if (id > 0)
		fusebpf_stats_inc(&d->stats->passthrough_opens);
	else if (eligible)
		fusebpf_stats_inc(&d->stats->passthrough_fallbacks);
	return id;
}

void passthrough_release(struct daemon *d, struct inode *inode,
			 int32_t backing_id, bool rdwr)
{
	uint32_t id = backing_id;

	if (backing_id <= 0)
		return;
	pthread_mutex_lock(&d->table.lock);
	inode->rdwr_passthrough_opens -= rdwr;
	if (--inode->passthrough_opens == 0) {
		if (ioctl(fuse_session_fd(d->se), FUSE_DEV_IOC_BACKING_CLOSE,
			  &id) == 0)
			fusebpf_stats_inc(&d->stats->backing_closes);
		else
			log_error("FUSE_DEV_IOC_BACKING_CLOSE %u: %m", id);
		inode->backing_id = 0;
	}
	pthread_mutex_unlock(&d->table.lock);
}

double passthrough_attr_timeout(struct inode *inode, double timeout)
{
	return __atomic_load_n(&inode->rdwr_passthrough_opens,
			       __ATOMIC_RELAXED) ? 0 : timeout;
}
