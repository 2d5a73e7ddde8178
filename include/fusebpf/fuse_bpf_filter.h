/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel side of FUSE-BPF filters, as BPF programs and the daemon see
 * it (kernel-patches/0009: fs/fuse/fuse_i.h, fs/fuse/bpf_filter.c).
 *
 * BPF programs are built against the host's vmlinux.h, which comes from a
 * stock kernel without these types: they are declared here with
 * preserve_access_index, so libbpf relocates field offsets against the
 * running (patched) kernel's BTF and matches struct fuse_bpf_ops by name.
 *
 * Also shared with the daemon: the per-opcode counters the filter keeps
 * and the bit the daemon adds to the kernel tag of directories whose
 * listing it filters itself.
 */
#ifndef FUSEBPF_FUSE_BPF_FILTER_H
#define FUSEBPF_FUSE_BPF_FILTER_H

#ifdef __bpf__
struct qstr;

struct fuse_bpf_args {
	__u64 nodeid;
	__u32 opcode;
	__u32 uid;
	__u32 gid;
	__u32 pid;
	__u32 tag;
	__u32 flags;
} __attribute__((preserve_access_index));

struct fuse_bpf_ops {
	int (*pre_filter)(struct fuse_bpf_args *args);
	int (*post_filter)(struct fuse_bpf_args *args, int result);
	char name[16];
} __attribute__((preserve_access_index));

/* Copies a name argument (0: entry name, 1: RENAME's new name) */
extern int bpf_fuse_get_name(struct fuse_bpf_args *args, __u32 which,
			     char *buf, __u32 buf__sz) __ksym;

/* Filter results (include/uapi/linux/fuse_bpf.h, not in vmlinux.h) */
#define FUSE_BPF_BACKING	0	/* run on the backing inode */
#define FUSE_BPF_USER		1	/* the server performs the op */
#define FUSE_BPF_POST		2	/* backing, then post-filter */
#define FUSE_BPF_USER_FILTER	3	/* the server judges, the kernel runs it */
#endif /* __bpf__ */

/* The struct_ops name the policy filter registers (FUSE_BPF_FILTER_NAME_MAX) */
#define FUSEBPF_FILTER_NAME	"fusebpf_policy"

/*
 * Kernel tag bit: the daemon lists this directory itself (some entries are
 * hidden from some callers), so the filter sends its OPENDIR to the
 * daemon, and asks the daemon to judge changes to its entries (decision
 * requests, FUSE_BPF_USER_FILTER). Owner slots stay below both bits
 * (FUSEBPF_FILTER_MAX_SLOT).
 */
#define FUSEBPF_KTAG_LIST_BY_DAEMON	(1u << 31)
/*
 * Kernel tag bit: the backing directory is casefolded (FS_CASEFOLD_FL),
 * so the filter compares names with hidden names as the backing does
 * (ASCII case ignored; names with non-ASCII bytes that may fold to a
 * hidden name are judged by the daemon). Kernel-resolved children inherit
 * it, as they inherit FS_CASEFOLD_FL in the backing.
 */
#define FUSEBPF_KTAG_CASEFOLD		(1u << 30)
#define FUSEBPF_FILTER_MAX_SLOT		((1u << 22) - 1)

/* filter_counts: ARRAY indexed by FUSE opcode */
#define FUSEBPF_FILTER_OPCODES		64
struct fusebpf_filter_count {
	__u64 kernel;		/* allowed, run on the backing in the kernel */
	__u64 daemon;		/* sent to the daemon: performed or judged there */
	__u64 denied;		/* refused by the filter */
};

#endif /* FUSEBPF_FUSE_BPF_FILTER_H */
