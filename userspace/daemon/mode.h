/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A mode of operation as an ops table: one file per mode
 * (mode_userspace.c, mode_passthrough.c, mode_bpf.c); mode.c decides
 * which at INIT (d->mode_ops) and calls it. What differs between modes is
 * here, nowhere else.
 */
#ifndef FUSEBPFD_MODE_H
#define FUSEBPFD_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebpfd.h"

struct mode_ops {
	enum fusebpf_mode mode;
	/* INIT reply: the flag the mode needs (0: none), max_stack_depth */
	uint64_t init_flag;
	uint32_t max_stack_depth;
	/* regular files may be opened FOPEN_PASSTHROUGH (passthrough.c) */
	bool passthrough_opens;
	/* READDIRPLUS: every inode handed out may come from a listing */
	bool readdirplus;
	/* changes beside the mount are watched (backing_watch.c) */
	bool watch_backing;
	/* after INIT was answered: check the kernel gave what it needs */
	int (*start)(struct daemon *d);
	/* once the policy maps are pinned: pin the mode's own next to them */
	int (*pin)(struct daemon *d);
	/* the reply to a LOOKUP of @inode (@e NULL: LOOKUP ".") is patched */
	void (*lookup_reply)(struct daemon *d, struct inode *inode,
			     struct fuse_entry_param *e);
	/* a policy load (sweeper thread), before the dentries are dropped */
	void (*policy_loaded)(struct daemon *d);
	/* the end: what start set up goes (also after a failed start) */
	void (*stop)(struct daemon *d);
};

extern const struct mode_ops mode_userspace_ops;
extern const struct mode_ops mode_passthrough_ops;
extern const struct mode_ops mode_bpf_ops;

#endif /* FUSEBPFD_MODE_H */
