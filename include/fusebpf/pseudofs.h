/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's pseudo filesystems our tools need (tracefs for the fuse
 * tracepoints, bpffs for pinned maps), mounted where missing, the way
 * bpftool mounts bpffs: a fresh machine has neither.
 */
#ifndef FUSEBPF_PSEUDOFS_H
#define FUSEBPF_PSEUDOFS_H

#include <stddef.h>

struct pseudofs {
	const char *type;	/* filesystem type for mount(2), e.g. "tracefs" */
	const char *path;	/* where it belongs, e.g. "/sys/kernel/tracing" */
	long magic;		/* statfs f_type once mounted */
	const char *options;	/* mount data, e.g. "mode=0700", or NULL */
};

extern const struct pseudofs pseudofs_tracefs;
extern const struct pseudofs pseudofs_bpffs;

/*
 * Makes sure @fs is mounted at its path: 0 if it already was or now is,
 * else -errno (-EPERM without CAP_SYS_ADMIN, -ENOENT if the kernel has no
 * such mount point). Mounts nothing elsewhere and never remounts.
 */
int pseudofs_ensure(const struct pseudofs *fs);

/* The command a privileged user runs to mount @fs by hand, in @buf. */
void pseudofs_mount_command(const struct pseudofs *fs, char *buf, size_t len);

#endif
