// SPDX-License-Identifier: GPL-2.0
/*
 * Mode passthrough (stock kernel >= 6.9): the daemon serves metadata, and
 * opens of regular files outside served subtrees are replied
 * FOPEN_PASSTHROUGH with a backing id (passthrough.c), so the kernel
 * reads and writes the backing file itself.
 */
#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "mode.h"

static int passthrough_start(struct daemon *d)
{
	if (!(d->kernel_flags & FUSE_PASSTHROUGH)) {
		log_error("mode passthrough: the kernel does not offer FUSE_PASSTHROUGH");
		return -1;
	}
	return 0;
}

const struct mode_ops mode_passthrough_ops = {
	.mode = FUSEBPF_MODE_PASSTHROUGH,
	.init_flag = FUSE_PASSTHROUGH,
	.max_stack_depth = 1,
	.passthrough_opens = true,
	.readdirplus = true,
	.watch_backing = true,
	.start = passthrough_start,
};
