// SPDX-License-Identifier: GPL-2.0
/* Mode userspace (any kernel): the daemon serves every operation. */
#include "fusebpfd.h"
#include "mode.h"

const struct mode_ops mode_userspace_ops = {
	.mode = FUSEBPF_MODE_USERSPACE,
	.readdirplus = true,
	.watch_backing = true,
};
