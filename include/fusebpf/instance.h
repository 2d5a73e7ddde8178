/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime state of a fusebpfd instance under /run/fusebpf/<instance>/:
 *   info   key=value lines: pid, mode, backing, mountpoint, instance
 *   stats  struct fusebpf_stats (mmap)
 * <instance> defaults to the FUSE connection id of the mount (the name of
 * its directory in /sys/fs/fuse/connections). Reader API for fusebpfctl and
 * the tests.
 */
#ifndef FUSEBPF_INSTANCE_H
#define FUSEBPF_INSTANCE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "fusebpf/stats.h"

#define FUSEBPF_INSTANCE_NAME_MAX	64

struct fusebpf_instance {
	char name[FUSEBPF_INSTANCE_NAME_MAX];
	pid_t pid;
	enum fusebpf_mode mode;
	char backing[PATH_MAX];
	char mountpoint[PATH_MAX];
	const struct fusebpf_stats *stats;	/* read-only mapping */
};

/*
 * Opens the instance named by a mountpoint (absolute or relative path) or
 * an instance name. Returns 0, or -ENOENT when no running instance matches,
 * or another -errno.
 */
int fusebpf_instance_open(const char *mountpoint_or_name,
			  struct fusebpf_instance *inst);
void fusebpf_instance_close(struct fusebpf_instance *inst);

/* Default instance name of a mount: its FUSE connection id. */
void fusebpf_instance_name_of_dev(dev_t dev, char *buf, size_t len);

/* "userspace", "passthrough", "bpf", "auto" ; NULL for an unknown value */
const char *fusebpf_mode_name(enum fusebpf_mode mode);
/* FUSEBPF_MODE_* for a name, or -1 */
int fusebpf_mode_from_name(const char *name);

/* "LOOKUP", "READ", ... ; NULL for an opcode that has no name */
const char *fusebpf_opcode_name(unsigned int opcode);

#endif /* FUSEBPF_INSTANCE_H */
