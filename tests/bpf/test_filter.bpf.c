// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_filter: a FUSE-BPF filter for tests/integration/bpf_filter.c only.
 * Every decision is keyed on a name prefix or the inode tag, so the test
 * can reach each pre-filter result and the post-filter:
 *   LOOKUP/MKDIR/... of "deny_*"        -> -EACCES
 *   LOOKUP of "secret" by uid != 0     -> -ENOENT (cached dentries too)
 *   LOOKUP of "post_*"                 -> FUSE_BPF_POST; the post-filter
 *                                         turns a found entry into -ENOENT
 *   LOOKUP of "user_*"                 -> FUSE_BPF_USER
 *   mutating ops on tag 7 inodes       -> -EROFS (read-only subtree)
 *   any op on "ask_*" / "askbad_*"     -> FUSE_BPF_USER_FILTER: the server
 *                                         decides (PREFILTER request)
 *   LOOKUP of "askpost_*"              -> FUSE_BPF_POST; the post-filter
 *                                         asks the server (POSTFILTER)
 *   READDIR entry "hidden_*"           -> -ENOENT (hidden from listings)
 *   reads of metadata on tag 9 inodes  -> GETATTR -EPERM, ACCESS for
 *                                         writing -EACCES, for reading
 *                                         the server decides, READLINK
 *                                         -ENOLINK, STATFS -ENOSTR,
 *                                         GETXATTR asks the server,
 *                                         LISTXATTR: the post-filter
 *                                         turns success into -EBADR
 *   permission checks on tag 11 inodes -> FUSE_BPF_USER (FUSE's own check)
 *   SETATTR on tag 13 inodes           -> FUSE_BPF_USER (bpf_review.c)
 *   RENAME2 (the directory's check)/LINK
 *   on tag 17 inodes                   -> FUSE_BPF_USER (bpf_review.c)
 *   OPEN on tag 23 inodes by uid != 0 -> FUSE_BPF_USER (bpf_review.c)
 *   tag 19 inodes (bpf_review.c): results that are no errno userspace
 *   knows                              -> GETATTR -ERESTARTSYS, STATFS
 *                                         -MAX_ERRNO, OPEN -134, GETXATTR
 *                                         -EHWPOISON (the last errno),
 *                                         LISTXATTR: the post-filter
 *                                         returns -200
 * It counts pre-filter calls per opcode in `calls` and records the last
 * uid/tag it saw in `last`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fusebpf/fuse_bpf_filter.h"

#define ENOENT			2
#define EACCES			13
#define EROFS			30
#define EPERM			1
#define EBADR			53
#define ENOSTR			60
#define ENOLINK			67
#define MAY_WRITE		2
#define MAY_READ		4
#define O_ACCMODE		00000003
#define O_TRUNC			00001000
#define READ_ONLY_TAG		7
#define META_TAG		9
#define USER_PERM_TAG		11
#define SETATTR_USER_TAG	13
#define MOVE_USER_TAG		17
#define KERR_TAG		19
#define OPEN_USER_TAG		23
#define ERESTARTSYS		512
#define EHWPOISON		133
#define MAX_ERRNO		4095

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct test_last {
	__u32 uid;
	__u32 tag;
	__u32 opcode;
	__u32 name_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct test_last);
} last SEC(".maps");

static int prefix(const char *name, const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (name[i] != p[i])
			return 0;
	return 1;
}

static int mutating(__u32 opcode, __u32 flags)
{
	switch (opcode) {
	case FUSE_OPEN:
		return (flags & O_ACCMODE) || (flags & O_TRUNC);
	case FUSE_SETATTR: case FUSE_SYMLINK: case FUSE_MKNOD:
	case FUSE_MKDIR: case FUSE_UNLINK: case FUSE_RMDIR:
	case FUSE_LINK: case FUSE_SETXATTR: case FUSE_REMOVEXATTR:
	case FUSE_CREATE: case FUSE_RENAME2:
		return 1;
	}
	return 0;
}

SEC("struct_ops/pre_filter")
int BPF_PROG(test_pre, struct fuse_bpf_args *args)
{
	__u32 opcode = args->opcode, zero = 0;
	struct test_last *l;
	char name[32] = {}, new_name[32] = {};
	__u64 *c;
	int n;

	c = bpf_map_lookup_elem(&calls, &opcode);
	if (c)
		__sync_fetch_and_add(c, 1);
	n = bpf_fuse_get_name(args, 0, name, sizeof(name));
	l = bpf_map_lookup_elem(&last, &zero);
	if (l) {
		l->uid = args->uid;
		l->tag = args->tag;
		l->opcode = opcode;
		l->name_len = n;
	}

	if (n >= 5 && prefix(name, "deny_", 5))
		return -EACCES;
	if (opcode == FUSE_READDIR && n >= 7 && prefix(name, "hidden_", 7))
		return -ENOENT;
	if (args->tag == META_TAG) {
		switch (opcode) {
		case FUSE_GETATTR:
			return -EPERM;
		case FUSE_ACCESS:
			if (args->flags & MAY_WRITE)
				return -EACCES;
			return args->flags & MAY_READ ? FUSE_BPF_USER_FILTER :
			       FUSE_BPF_BACKING;
		case FUSE_READLINK:
			return -ENOLINK;
		case FUSE_STATFS:
			return -ENOSTR;
		case FUSE_GETXATTR:
			return FUSE_BPF_USER_FILTER;
		case FUSE_LISTXATTR:
			return FUSE_BPF_POST;
		}
	}
	if (args->tag == USER_PERM_TAG && opcode == FUSE_ACCESS)
		return FUSE_BPF_USER;
	if (args->tag == SETATTR_USER_TAG && opcode == FUSE_SETATTR)
		return FUSE_BPF_USER;
	/*
	 * The directory's check of a rename has both names; the moved
	 * inode's own check has one (and would be EIO for a kernel inode)
	 */
	if (args->tag == MOVE_USER_TAG &&
	    (opcode == FUSE_LINK ||
	     (opcode == FUSE_RENAME2 &&
	      bpf_fuse_get_name(args, 1, new_name, sizeof(new_name)) !=
	      -ENOENT)))
		return FUSE_BPF_USER;
	if (args->tag == OPEN_USER_TAG && opcode == FUSE_OPEN && args->uid != 0)
		return FUSE_BPF_USER;
	if (args->tag == KERR_TAG) {
		switch (opcode) {
		case FUSE_GETATTR:
			return -ERESTARTSYS;
		case FUSE_STATFS:
			return -MAX_ERRNO;
		case FUSE_OPEN:
			return -(EHWPOISON + 1);
		case FUSE_GETXATTR:
			return -EHWPOISON;
		case FUSE_LISTXATTR:
			return FUSE_BPF_POST;
		}
	}
	if ((n >= 4 && prefix(name, "ask_", 4)) ||
	    (n >= 7 && prefix(name, "askbad_", 7)))
		return FUSE_BPF_USER_FILTER;
	if (opcode == FUSE_LOOKUP && n >= 8 && prefix(name, "askpost_", 8))
		return FUSE_BPF_POST;
	if (opcode == FUSE_LOOKUP && n == 6 && prefix(name, "secret", 7) &&
	    args->uid != 0)
		return -ENOENT;
	if (opcode == FUSE_LOOKUP && n >= 5 && prefix(name, "post_", 5))
		return FUSE_BPF_POST;
	if (opcode == FUSE_LOOKUP && n >= 5 && prefix(name, "user_", 5))
		return FUSE_BPF_USER;
	if (args->tag == READ_ONLY_TAG && mutating(opcode, args->flags))
		return -EROFS;
	return FUSE_BPF_BACKING;
}

SEC("struct_ops/post_filter")
int BPF_PROG(test_post, struct fuse_bpf_args *args, int result)
{
	char name[32] = {};
	int n;

	n = bpf_fuse_get_name(args, 0, name, sizeof(name));
	if (n >= 8 && prefix(name, "askpost_", 8))
		return FUSE_BPF_USER_FILTER;
	if (args->tag == KERR_TAG && args->opcode == FUSE_LISTXATTR)
		return -200;
	if (args->opcode == FUSE_LISTXATTR && result == 0)
		return -EBADR;
	if (args->opcode == FUSE_LOOKUP && result == 0)
		return -ENOENT;
	return result;
}

SEC(".struct_ops")
struct fuse_bpf_ops test_filter_ops = {
	.pre_filter = (void *)test_pre,
	.post_filter = (void *)test_post,
	.name = "fusebpf_test",
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";
