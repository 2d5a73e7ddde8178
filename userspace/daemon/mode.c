// SPDX-License-Identifier: GPL-2.0
/*
 * Mode of operation: bpf (FUSE-BPF kernel, mode_bpf.c), passthrough
 * (stock >= 6.9, mode_passthrough.c) or userspace (mode_userspace.c), an
 * ops table each (mode.h). Decided when the kernel's INIT request arrives, since only
 * then do we know what it offers:
 *   forced with -o mode=...: that mode, or a startup error if the kernel
 *     does not offer it;
 *   auto: bpf if FUSE_BPF_FEATURE_FILE exists and INIT offers FUSE_BPF
 *     (a policy is enforced there by the kernel filter, bpf_filter.c),
 *     else passthrough if INIT offers FUSE_PASSTHROUGH and we are root
 *     (FUSE_DEV_IOC_BACKING_OPEN needs CAP_SYS_ADMIN), else userspace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "mode.h"

bool mode_bpf_available(void)
{
	char buf[16] = "";
	int fd = open(FUSE_BPF_FEATURE_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && atoi(buf) >= FUSE_BPF_VERSION;
}

void mode_decide(struct daemon *d, uint64_t kernel_flags)
{
	d->kernel_flags = kernel_flags;
	if (d->opts.mode != FUSEBPF_MODE_AUTO)
		d->mode = d->opts.mode;
	else if ((kernel_flags & FUSE_BPF) && mode_bpf_available())
		d->mode = FUSEBPF_MODE_BPF;
	else if ((kernel_flags & FUSE_PASSTHROUGH) && geteuid() == 0)
		d->mode = FUSEBPF_MODE_PASSTHROUGH;
	else
		d->mode = FUSEBPF_MODE_USERSPACE;
	d->mode_ops = d->mode == FUSEBPF_MODE_BPF ? &mode_bpf_ops :
		      d->mode == FUSEBPF_MODE_PASSTHROUGH ?
		      &mode_passthrough_ops : &mode_userspace_ops;
	__atomic_store_n(&d->stats->mode, d->mode, __ATOMIC_RELAXED);
}

/* INIT reply flags libfuse does not set itself, only those offered */
uint64_t mode_init_flags(const struct daemon *d)
{
	uint64_t want = d->mode_ops->init_flag;

	want |= FUSE_HANDLE_KILLPRIV_V2;	/* every mode: see killpriv.c */
	/* an O_DIRECT open served by the daemon (direct_io) can be mmap'ed */
	want |= FUSE_DIRECT_IO_ALLOW_MMAP;
	/* ACL_KILL_SGID; raw_io converts its header for libfuse (killpriv.c) */
	want |= FUSE_SETXATTR_EXT;
	return want & d->kernel_flags;
}

uint32_t mode_max_stack_depth(const struct daemon *d)
{
	return d->mode_ops->max_stack_depth;
}

/* After INIT was answered: check the mode got what it needs, attach. */
int mode_start(struct daemon *d)
{
	return d->mode_ops->start ? d->mode_ops->start(d) : 0;
}

int mode_pin(struct daemon *d)
{
	return d->mode_ops && d->mode_ops->pin ? d->mode_ops->pin(d) : 0;
}

void mode_lookup_reply(struct daemon *d, struct inode *inode,
		       struct fuse_entry_param *e)
{
	if (d->mode_ops->lookup_reply)
		d->mode_ops->lookup_reply(d, inode, e);
}

void mode_policy_loaded(struct daemon *d)
{
	if (d->mode_ops && d->mode_ops->policy_loaded)
		d->mode_ops->policy_loaded(d);
}

void mode_stop(struct daemon *d)
{
	if (d->mode_ops && d->mode_ops->stop)
		d->mode_ops->stop(d);
}
