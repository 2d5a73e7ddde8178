/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mainline FUSE passthrough definitions (Linux 6.9+, protocol 7.40) that
 * Debian bookworm's <linux/fuse.h> (6.1) lacks. Values are those of
 * include/uapi/linux/fuse.h in Linux 6.12.
 */
#ifndef FUSEBPF_FUSE_COMPAT_H
#define FUSEBPF_FUSE_COMPAT_H

#include <linux/fuse.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef FUSE_PASSTHROUGH
#define FUSE_PASSTHROUGH		(1ULL << 37)
#endif
/* Linux 6.6: MAP_SHARED mmap of FOPEN_DIRECT_IO opens */
#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP	(1ULL << 36)
#endif
#ifndef FOPEN_PASSTHROUGH
#define FOPEN_PASSTHROUGH		(1 << 7)
#endif
#ifndef FUSE_DEV_IOC_MAGIC
#define FUSE_DEV_IOC_MAGIC		229
#endif

/* FILESYSTEM_MAX_STACK_DEPTH of the kernel: the most init may ask for */
#define FUSE_COMPAT_MAX_STACK_DEPTH	2

#ifndef FUSE_DEV_IOC_BACKING_OPEN
struct fuse_backing_map {
	__s32	fd;
	__u32	flags;
	__u64	padding;
};
#define FUSE_DEV_IOC_BACKING_OPEN	_IOW(FUSE_DEV_IOC_MAGIC, 1, \
					     struct fuse_backing_map)
#define FUSE_DEV_IOC_BACKING_CLOSE	_IOW(FUSE_DEV_IOC_MAGIC, 2, __u32)
#endif

/*
 * struct fuse_init_out of protocol 7.40: 6.1's header has unused[7] where
 * mainline has max_stack_depth followed by unused[6].
 */
struct fuse_compat_init_out {
	__u32	major;
	__u32	minor;
	__u32	max_readahead;
	__u32	flags;
	__u16	max_background;
	__u16	congestion_threshold;
	__u32	max_write;
	__u32	time_gran;
	__u16	max_pages;
	__u16	map_alignment;
	__u32	flags2;
	__u32	max_stack_depth;
	__u32	unused[6];
};

/* struct fuse_open_out of 7.40: 6.1 calls backing_id "padding" */
struct fuse_compat_open_out {
	__u64	fh;
	__u32	open_flags;
	__s32	backing_id;
};

#endif /* FUSEBPF_FUSE_COMPAT_H */
