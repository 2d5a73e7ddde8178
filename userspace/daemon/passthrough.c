// SPDX-License-Identifier: GPL-2.0
/*
 * Stock-kernel passthrough (Linux >= 6.9): the backing file of an inode is
 * registered with FUSE_DEV_IOC_BACKING_OPEN and open replies carry its id
 * with FOPEN_PASSTHROUGH; the kernel then does read/write/splice/mmap on
 * the backing file itself.
 *
 * The kernel refuses a second backing id for an inode while it is open in
 * passthrough mode, a non-passthrough open of such an inode (EINVAL), and
 * a passthrough open while the inode has page-cache opens (ETXTBSY). So:
 * one id per inode shared by all its opens, registered on the first and
 * closed on the last release; every open of an inode that has an id is a
 * passthrough open (O_DIRECT ones too); an inode with daemon-served cached
 * opens gets no passthrough until they are closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "killpriv.h"

static int32_t register_backing(struct daemon *d, int fd)
{
	struct fuse_backing_map map = { .fd = fd };
	struct killpriv_saved kp = { 0 };
	int id;

	/* the kernel writes with these credentials: see killpriv.c */
	if (killpriv_negotiated(d) && killpriv_drop_fsetid(&kp)) {
		log_error("cannot drop CAP_FSETID for a passthrough backing file (%m): "
			  "serving the open in the daemon");
		return 0;
	}
	id = ioctl(fuse_session_fd(d->se), FUSE_DEV_IOC_BACKING_OPEN, &map);
	killpriv_restore(&kp);
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
			 int flags)
{
	int32_t id = 0;

	if (d->mode != FUSEBPF_MODE_PASSTHROUGH || inode->served ||
	    !S_ISREG(inode->type) || policy_served(d, inode))
		return 0;
	pthread_mutex_lock(&d->table.lock);
	if (!inode->backing_id && !inode->cached_opens && !(flags & O_DIRECT))
		inode->backing_id = register_backing(d, fd);
	id = inode->backing_id;
	if (id > 0)
		inode->passthrough_opens++;
	else if (!(flags & O_DIRECT))
		fusebpf_stats_inc(&d->stats->passthrough_fallbacks);
	pthread_mutex_unlock(&d->table.lock);
	if (id > 0)
		fusebpf_stats_inc(&d->stats->passthrough_opens);
	return id;
}

void passthrough_release(struct daemon *d, struct inode *inode,
			 int32_t backing_id)
{
	uint32_t id = backing_id;

	if (backing_id <= 0)
		return;
	pthread_mutex_lock(&d->table.lock);
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
