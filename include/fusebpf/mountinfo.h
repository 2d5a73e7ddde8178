/* SPDX-License-Identifier: GPL-2.0 */
/* Reading /proc/self/mountinfo: the one parser the daemon and ctl share. */
#ifndef FUSEBPF_MOUNTINFO_H
#define FUSEBPF_MOUNTINFO_H

#include <limits.h>
#include <sys/types.h>

struct mount_entry {
	dev_t dev;			/* MAJ:MIN of the mounted filesystem */
	char mountpoint[PATH_MAX];	/* with mountinfo's \ooo escapes decoded */
	char fstype[64];		/* e.g. "fuse.fusebpf" */
};

/*
 * Find the last (top-most) mount matching @mountpoint (if not NULL) and
 * @dev (if not 0). Returns 0, -ENOENT, or -errno if mountinfo is unreadable.
 */
int mountinfo_find(const char *mountpoint, dev_t dev, struct mount_entry *e);

#endif
