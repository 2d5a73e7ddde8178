// SPDX-License-Identifier: GPL-2.0
/* Mounting tracefs and bpffs where a fresh machine lacks them. */
#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "fusebpf/pseudofs.h"

/* from linux/magic.h, spelled out: that header is not on every libc */
#define TRACEFS_MAGIC_NUMBER	0x74726163
#define BPF_FS_MAGIC_NUMBER	0xcafe4a11

const struct pseudofs pseudofs_tracefs = {
	.type = "tracefs",
	.path = "/sys/kernel/tracing",
	.magic = TRACEFS_MAGIC_NUMBER,
};

/* 0700 as bpftool does: pins are root's business */
const struct pseudofs pseudofs_bpffs = {
	.type = "bpf",
	.path = "/sys/fs/bpf",
	.magic = BPF_FS_MAGIC_NUMBER,
	.options = "mode=0700",
};

static int is_mounted(const struct pseudofs *fs)
{
	struct statfs sfs;

	if (statfs(fs->path, &sfs))
		return -errno;
	return sfs.f_type == fs->magic;
}

int pseudofs_ensure(const struct pseudofs *fs)
{
	int ret = is_mounted(fs);

	if (ret < 0)
		return ret;	/* no such directory: this kernel lacks it */
	if (ret)
		return 0;
	if (mount(fs->type, fs->path, fs->type, MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  fs->options))
		return -errno;
	return 0;
}

void pseudofs_mount_command(const struct pseudofs *fs, char *buf, size_t len)
{
	snprintf(buf, len, "mount -t %s%s%s %s %s", fs->type,
		 fs->options ? " -o " : "", fs->options ? fs->options : "",
		 fs->type, fs->path);
}
