/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decision requests (include/uapi/linux/fuse_bpf.h, FUSE_BPF_USER_FILTER):
 * the kernel's filter asks the daemon to judge an operation the kernel
 * then performs itself (FUSE_PREFILTER) or whose backing result it has
 * (FUSE_POSTFILTER). libfuse 3.14 does not know these opcodes; fusebpfd
 * answers them in its read hook (userspace/daemon/raw_io.c). Parsing and
 * the reply are pure functions over the raw bytes (unit-tested); the
 * decision itself is the daemon's policy code (userspace/daemon/policy.c).
 */
#ifndef FUSEBPF_POLICY_REQUEST_H
#define FUSEBPF_POLICY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/fuse.h>

#include "uapi/linux/fuse_bpf.h"

/* Node ids of inodes resolved in the kernel, unknown to the daemon */
#define FUSEBPF_KERNEL_NODEID	(1ULL << 63)

/* What the daemon judges for an opcode */
enum fusebpf_judge {
	FUSEBPF_JUDGE_NONE = 0,	/* not an op the daemon judges */
	FUSEBPF_JUDGE_INODE,	/* the node itself (see or write it) */
	FUSEBPF_JUDGE_LOOKUP,	/* may the caller see @name in the node */
	FUSEBPF_JUDGE_ENTRY,	/* a READDIR entry @name of the node */
	FUSEBPF_JUDGE_NEW,	/* @name is created in the node */
	FUSEBPF_JUDGE_REMOVE,	/* @name is removed from the node */
	FUSEBPF_JUDGE_RENAME,	/* @name leaves, @new_name arrives */
};

struct fusebpf_decision {
	uint64_t unique;
	uint64_t nodeid;	/* may be a kernel-only (bit 63) id */
	uint32_t opcode;	/* the judged op, flags stripped */
	bool post;		/* FUSE_POSTFILTER: @result is the backing's */
	uint32_t uid, gid, pid;	/* the caller */
	uint32_t tag;		/* the node's kernel tag */
	uint32_t flags;		/* as struct fuse_bpf_args.flags */
	int32_t result;		/* POSTFILTER: 0 or -errno */
	enum fusebpf_judge judge;
	int access;		/* FUSEBPF_ACCESS_SEE or _WRITE */
	const char *name;	/* into the request buffer, NULL: none */
	const char *new_name;
};

/* Does a request with this opcode ask for a decision? */
static inline bool fusebpf_is_decision(uint32_t opcode)
{
	return (opcode & (FUSE_PREFILTER | FUSE_POSTFILTER)) != 0;
}

/*
 * Parses the decision request @buf (@len bytes read from /dev/fuse, the
 * header included). Returns 0; or -EINVAL for a malformed request (with
 * the reason in @why), -EIO for an op the daemon does not judge: the
 * error to reply. @dec->unique is set whenever @len holds a header.
 */
int fusebpf_decision_parse(const void *buf, size_t len,
			   struct fusebpf_decision *dec, const char **why);

/*
 * The reply: a bare header whose error is the decision (0 or -errno; for
 * POSTFILTER the op's final result).
 */
void fusebpf_decision_reply(struct fuse_out_header *out, uint64_t unique,
			    int error);

#endif /* FUSEBPF_POLICY_REQUEST_H */
