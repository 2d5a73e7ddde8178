/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime state of a fusebpfd instance under /run/fusebpf/<instance>/,
 * root's and writable by root only (0755 directories, 0644 files):
 *   info   key=value lines, each once: pid, mode, backing, mountpoint,
 *          instance, connection (FUSE connection id of the mount)
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
	char connection[FUSEBPF_INSTANCE_NAME_MAX];	/* of the mount */
	const struct fusebpf_stats *stats;	/* read-only mapping */
	char error[512];	/* why fusebpf_instance_open() refused it */
};

/*
 * Opens the instance named by a mountpoint (absolute or relative path) or
 * an instance name. Its state is trusted only if /run/fusebpf, its
 * directory and files are root's and writable by root only, its pid is a
 * running fusebpfd (/proc/PID/exe named fusebpfd; callers that may not
 * read it rely on the ownership) and its mountpoint is the mount of its
 * FUSE connection. Returns 0; -ENOENT when no running instance matches
 * (also the stale state of a killed daemon); -EPERM for state that is not
 * trusted; or another -errno. On failure @inst->error may say why in one
 * line.
 */
int fusebpf_instance_open(const char *mountpoint_or_name,
			  struct fusebpf_instance *inst);

/*
 * Is @pid a running fusebpfd? 0; -ESRCH: no such process; -ENOEXEC:
 * another program; -EACCES: alive, but the caller may not see its exe.
 */
int fusebpf_pid_check(pid_t pid);
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
