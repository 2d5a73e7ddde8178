/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * FUSE-BPF: FUSE inodes backed by inodes of another filesystem, with
 * operations served in the kernel on the backing inode.
 *
 * This file is the contract between the kernel patch series in
 * kernel-patches/ and the fusebpf daemon. The patch series adds the very
 * same file to the kernel tree; a test checks that they are byte-identical.
 *
 * Model
 * -----
 * A *backing* is a directory or file of another (non-FUSE) filesystem,
 * registered by the server with FUSE_DEV_IOC_BPF_BACKING_OPEN. Registration
 * is an ioctl on /dev/fuse, never a raw fd inside a write() reply: a reply
 * can be forged by tricking a privileged program into write(), an ioctl
 * cannot. Registration needs CAP_SYS_ADMIN, as mainline passthrough.
 *
 * The server attaches a backing (by id) to the root with
 * FUSE_DEV_IOC_BPF_ROOT_SET, and to any inode it returns from LOOKUP by
 * appending a struct fuse_bpf_entry_out to struct fuse_entry_out.
 *
 * Every operation on a backed inode runs in the kernel on the backing inode,
 * with the credentials of the calling task, so the backing filesystem's own
 * permission checks, ownership rules and errno values apply.
 *
 * Lookups below a backed directory are resolved in the kernel by looking
 * up the same name in the backing directory; the child inherits the
 * backing (of that name) and the filter. Such kernel-resolved inodes are
 * not known to the server and get no FORGET. If the directory was attached
 * with FUSE_BPF_ENTRY_LOOKUP_SERVER, lookups of its children are sent to
 * the server instead, which may keep the inherited backing
 * (FUSE_BPF_BACKING_INHERIT), attach another one (FUSE_BPF_BACKING_SET) or
 * none (FUSE_BPF_BACKING_NONE: the child and its subtree are served by the
 * server as on any FUSE mount).
 *
 * Filters are BPF struct_ops programs of type struct fuse_bpf_ops (see
 * fs/fuse/bpf_filter.c): a program attaches its struct_ops map under a
 * name, the server opens that name with FUSE_DEV_IOC_BPF_FILTER_OPEN and
 * attaches the returned id to the root (struct fuse_bpf_root_set) and in
 * LOOKUP replies (FUSE_BPF_FILTER_SET); children inherit the filter with
 * the backing. The pre-filter runs before an operation on a backed inode
 * and returns FUSE_BPF_BACKING, FUSE_BPF_POST, FUSE_BPF_USER,
 * FUSE_BPF_USER_FILTER or a negative errno (the operation fails with it);
 * the post-filter sees the backing operation's result and returns the
 * result to give (0 or -errno) or FUSE_BPF_USER_FILTER. Errnos above
 * EHWPOISON (codes internal to the kernel, such as ERESTARTSYS) and any
 * other value fail the operation with EIO.
 *
 * FUSE_BPF_USER_FILTER asks the server for a decision: a request whose
 * opcode is the operation's, or-ed with FUSE_PREFILTER (from the
 * pre-filter) or FUSE_POSTFILTER (from the post-filter), whose node id is
 * the filter's (possibly a kernel-only id the server does not know) and
 * whose body is a struct fuse_bpf_filter_in followed by the names. The
 * server only judges, it does not perform the operation: its reply is a
 * header without payload whose error is the decision. PREFILTER: 0 runs
 * the operation on the backing, -errno fails it. POSTFILTER: the
 * operation's result (a failed operation cannot be made to succeed: a
 * reply of 0 keeps the backing error). A reply with payload, or an error
 * that is no errno, fails the operation with EIO; so does any failure to
 * get a reply (the connection's errno): decisions fail closed.
 *
 * Locks: a decision request waits for its reply with the locks the VFS
 * took for the operation, the same as a plain request for that operation
 * (CREATE, RENAME2, ...) does: the directory exclusively for CREATE,
 * MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR and RENAME2 (both
 * directories, the inodes involved and, across directories, the
 * superblock's rename lock), the inode for SETATTR, SETXATTR and
 * REMOVEXATTR, the directory shared for LOOKUP and READDIR (exclusively
 * for the LOOKUP of a create or rename). No lock of the backing file
 * system is held while the kernel waits. Until the server replies, other
 * callers block on those directories and inodes; once sent, a request is
 * only ended by its reply or by aborting the connection. So the server
 * must judge from its own state or the backing tree, never by accessing
 * the mount: such an access from the thread that answers deadlocks.
 */
#ifndef _UAPI_LINUX_FUSE_BPF_H
#define _UAPI_LINUX_FUSE_BPF_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Version of this interface, also the content of the feature file. */
#define FUSE_BPF_VERSION		1

/* sysfs feature file: present and holding FUSE_BPF_VERSION when supported */
#define FUSE_BPF_FEATURE_FILE		"/sys/fs/fuse/features/fuse_bpf"

/*
 * FUSE_INIT flag (flags2 word, i.e. bit 62 of the 64-bit flags): the kernel
 * offers FUSE-BPF; the server sets it in its reply to accept lookup reply
 * extensions. Without it a lookup reply must be a plain fuse_entry_out.
 * A reply that also sets FUSE_ALLOW_IDMAP does not get FUSE-BPF (backed
 * inodes cannot honour an idmapped mount): the ioctls fail with EOPNOTSUPP.
 */
#define FUSE_BPF			(1ULL << 62)

/* struct fuse_bpf_backing_open.flags */
#define FUSE_BPF_BACKING_OPEN_FLAGS	0

/* FUSE_DEV_IOC_BPF_BACKING_OPEN: returns the new id (> 0) or -1/errno */
struct fuse_bpf_backing_open {
	__s32	fd;		/* any fd of the backing dir/file, O_PATH ok */
	__u32	flags;		/* must be 0 */
	__u64	reserved;	/* must be 0 */
};

/* struct fuse_bpf_entry_out.backing_action */
enum fuse_bpf_backing_action {
	FUSE_BPF_BACKING_INHERIT = 0,	/* same name in the parent's backing */
	FUSE_BPF_BACKING_SET	= 1,	/* the registered backing_id */
	FUSE_BPF_BACKING_NONE	= 2,	/* not backed: served by the server */
};

/* struct fuse_bpf_entry_out.filter_action */
enum fuse_bpf_filter_action {
	FUSE_BPF_FILTER_INHERIT	= 0,	/* the parent's filter */
	FUSE_BPF_FILTER_SET	= 1,	/* the registered filter_id */
	FUSE_BPF_FILTER_NONE	= 2,	/* no filter */
};

/* struct fuse_bpf_entry_out.flags */
/* lookups of this directory's children are sent to the server */
#define FUSE_BPF_ENTRY_LOOKUP_SERVER	(1U << 0)
/* .tag is valid; otherwise the tag is inherited from the parent */
#define FUSE_BPF_ENTRY_TAG		(1U << 1)
#define FUSE_BPF_ENTRY_FLAGS		(FUSE_BPF_ENTRY_LOOKUP_SERVER | \
					 FUSE_BPF_ENTRY_TAG)

/*
 * Appended to struct fuse_entry_out in a LOOKUP reply (only when FUSE_BPF
 * was negotiated). The size must be exactly sizeof(struct
 * fuse_bpf_entry_out); any other size fails the lookup with EIO, as does an
 * unknown id or an unknown action/flag.
 */
struct fuse_bpf_entry_out {
	__u32	backing_action;	/* enum fuse_bpf_backing_action */
	__u32	backing_id;
	__u32	filter_action;	/* enum fuse_bpf_filter_action */
	__u32	filter_id;
	__u32	flags;		/* FUSE_BPF_ENTRY_* */
	__u32	tag;		/* policy class of the inode, seen by the filter */
	__u64	reserved[2];	/* must be 0 */
};

/* FUSE_DEV_IOC_BPF_ROOT_SET: attach backing/filter to the root inode */
struct fuse_bpf_root_set {
	__u32	backing_id;	/* registered backing dir, 0: detach */
	__u32	filter_id;	/* opened filter, 0: none */
	__u32	flags;		/* FUSE_BPF_ENTRY_* */
	__u32	tag;
	__u64	reserved[2];	/* must be 0 */
};

/*
 * Pre-filter results. FUSE_BPF_USER sends the operation to the server as
 * a plain request; it is only possible on inodes the server knows (looked
 * up through the server): on inodes resolved in the kernel the operation
 * fails with EIO, the filter's decision is never silently dropped.
 * FUSE_BPF_USER_FILTER (pre- or post-filter result) only asks the server
 * for a decision, on any inode.
 */
#define FUSE_BPF_BACKING		0	/* run on the backing inode */
#define FUSE_BPF_USER			1	/* send to the server */
#define FUSE_BPF_POST			2	/* backing, then post-filter */
#define FUSE_BPF_USER_FILTER		3	/* the server decides */

/* Opcode flags of decision requests (FUSE_BPF_USER_FILTER) */
#define FUSE_PREFILTER			0x10000	/* judge before the op */
#define FUSE_POSTFILTER			0x20000	/* judge the backing result */

/* Body of a decision request, followed by name, then new_name */
struct fuse_bpf_filter_in {
	__u32	tag;		/* the inode's tag */
	__u32	flags;		/* as struct fuse_bpf_args.flags */
	__s32	result;		/* POSTFILTER: backing result (0/-errno) */
	__u16	name_len;	/* bytes of the name incl. NUL, 0: none */
	__u16	new_name_len;	/* RENAME2's new name incl. NUL, 0: none */
};

/* Filter names: the .name of the struct fuse_bpf_ops, NUL-terminated */
#define FUSE_BPF_FILTER_NAME_MAX	16

/* FUSE_DEV_IOC_BPF_FILTER_OPEN: returns the new filter id (> 0) */
struct fuse_bpf_filter_open {
	char	name[FUSE_BPF_FILTER_NAME_MAX];	/* attached struct_ops */
	__u32	flags;		/* must be 0 */
	__u32	reserved;	/* must be 0 */
};

/* Device ioctls, after mainline's FUSE_DEV_IOC_* (magic 229, nr 0..31) */
#define FUSE_BPF_IOC_MAGIC		229
#define FUSE_DEV_IOC_BPF_BACKING_OPEN	_IOW(FUSE_BPF_IOC_MAGIC, 64, \
					     struct fuse_bpf_backing_open)
#define FUSE_DEV_IOC_BPF_BACKING_CLOSE	_IOW(FUSE_BPF_IOC_MAGIC, 65, __u32)
#define FUSE_DEV_IOC_BPF_ROOT_SET	_IOW(FUSE_BPF_IOC_MAGIC, 66, \
					     struct fuse_bpf_root_set)
#define FUSE_DEV_IOC_BPF_FILTER_OPEN	_IOW(FUSE_BPF_IOC_MAGIC, 67, \
					     struct fuse_bpf_filter_open)
#define FUSE_DEV_IOC_BPF_FILTER_CLOSE	_IOW(FUSE_BPF_IOC_MAGIC, 68, __u32)

#endif /* _UAPI_LINUX_FUSE_BPF_H */
