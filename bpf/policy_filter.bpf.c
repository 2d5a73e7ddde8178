// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * policy_filter: the fusebpf policy as a FUSE-BPF filter (struct_ops
 * fuse_bpf_ops, kernel-patches/0009). It decides every filtered operation
 * in the kernel from the same maps as the daemon (include/fusebpf/
 * policy_maps.bpf.h; the daemon reuses the pinned maps of the policy
 * object) with the same fusebpf_policy_decide().
 *
 * Only the patched kernel has struct fuse_bpf_ops, so this is its own
 * object: the daemon loads its skeleton in mode bpf only, and the policy
 * object (maps, audit_emit) keeps loading on stock kernels.
 *
 * The tag the kernel passes is the inode's (for ops on names: the
 * directory's) FUSEBPF_TAG(class, owner slot), set by the daemon at
 * lookup; children resolved in the kernel inherit it. Decisions:
 *  - hidden names: -ENOENT on LOOKUP and READDIR entries, -EACCES on ops
 *    creating them; in casefolded directories (FUSEBPF_KTAG_CASEFOLD)
 *    under every ASCII spelling, and names with non-ASCII bytes are
 *    judged by the daemon (FUSE_BPF_USER_FILTER) when the policy hides
 *    names there;
 *    owner-only, read-only: -ENOENT / -EROFS;
 *  - served classes: FUSE_BPF_USER, the daemon serves the op;
 *  - "decide" classes: FUSE_BPF_USER_FILTER, the daemon asks the
 *    embedder's hook (libfusebpf) and the kernel runs what it allows;
 *  - directories the daemon lists itself (FUSEBPF_KTAG_LIST_BY_DAEMON:
 *    policy paths go on below them): OPENDIR goes to the daemon
 *    (FUSE_BPF_USER), which filters the listing; changes to their entries
 *    are judged by the daemon (FUSE_BPF_USER_FILTER: a decision request,
 *    the same decision as in the other modes) and, if allowed, run on
 *    the backing in the kernel;
 *  - READDIR entries (the kernel asks per entry of directories it lists
 *    itself): hidden names are left out (-ENOENT); reads of metadata
 *    (GETATTR, ACCESS, READLINK, GETXATTR, LISTXATTR, STATFS) are
 *    decided like every op, by the rule of the inode's class;
 *  - everything else: FUSE_BPF_BACKING, served in the kernel.
 * Every decision is counted in filter_counts per opcode; audit classes
 * write events to audit_events like the daemon does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/policy.h"
#include "fusebpf/policy_maps.bpf.h"

#define O_ACCMODE		00000003
#define O_TRUNC			00001000
#define MAY_WRITE		0x00000002
#define ENOENT			2
#define EACCES			13

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FUSEBPF_FILTER_OPCODES);
	__type(key, __u32);
	__type(value, struct fusebpf_filter_count);
} filter_counts SEC(".maps");

/* Name keys are too big for the 512-byte stack: one per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fusebpf_name_key);
} name_scratch SEC(".maps");

static int count(__u32 opcode, int verdict)
{
	struct fusebpf_filter_count *c;
	__u32 op = opcode;

	c = bpf_map_lookup_elem(&filter_counts, &op);
	if (c) {
		if (verdict < 0)
			__sync_fetch_and_add(&c->denied, 1);
		else if (verdict == FUSE_BPF_USER ||
			 verdict == FUSE_BPF_USER_FILTER)
			__sync_fetch_and_add(&c->daemon, 1);
		else
			__sync_fetch_and_add(&c->kernel, 1);
	}
	return verdict;
}

static int is_mutating(__u32 opcode, __u32 flags)
{
	switch (opcode) {
	case FUSE_OPEN:
		return (flags & O_ACCMODE) != 0 || (flags & O_TRUNC);
	case FUSE_ACCESS:	/* every permission check, flags: MAY_* */
		return (flags & MAY_WRITE) != 0;
	case FUSE_SETATTR:
	case FUSE_SYMLINK:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_LINK:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
	case FUSE_CREATE:
	case FUSE_RENAME2:
	case FUSE_FALLOCATE:
		return 1;
	default:
		return 0;
	}
}

/* Ops that change the entries of a directory; which name they create */
static int name_op(__u32 opcode, int *creates)
{
	*creates = -1;
	switch (opcode) {
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		*creates = 0;
		return 1;
	case FUSE_RENAME2:
		*creates = 1;
		return 1;
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		return 1;
	default:
		return 0;
	}
}

/*
 * Hidden names as a casefolded backing directory compares them, filled by
 * the daemon from hidden_names (bpf_filter.c): each name with ASCII
 * lowercased, and per class (or FUSEBPF_CLASS_ANY) the empty name when
 * some name is hidden there. Lookups only: a loop over the hidden names
 * costs the verifier too much.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * FUSEBPF_POLICY_MAX_HIDDEN + 1);
	__type(key, struct fusebpf_name_key);
	__type(value, struct fusebpf_hidden);
} hidden_folded SEC(".maps");

static struct fusebpf_hidden *hidden_in(void *map,
					 struct fusebpf_name_key *key,
					 __u32 cls)
{
	struct fusebpf_hidden *h;

	key->cls = cls;
	h = cls ? bpf_map_lookup_elem(map, key) : NULL;
	if (!h) {
		key->cls = FUSEBPF_CLASS_ANY;
		h = bpf_map_lookup_elem(map, key);
	}
	return h;
}

/*
 * Is name @which of the op hidden in a directory of class @cls? 1, 0, or
 * FUSE_BPF_USER_FILTER: the daemon decides. In a casefolded directory
 * (@casefold) every spelling of a hidden name is hidden, and only the
 * backing knows every spelling (U+017F folds to "s"): where some name is
 * hidden (the empty name of hidden_folded), a name that is not itself a
 * hidden name is judged by the daemon. Folding the name here with
 * bpf_loop made the verifier take minutes under KASAN.
 */
static int name_hidden(struct fuse_bpf_args *args, __u32 which, __u32 cls,
		       __u32 bits, int casefold)
{
	struct fusebpf_hidden *h;
	struct fusebpf_name_key *key;
	__u32 zero = 0;

	key = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!key)
		return 0;
	__builtin_memset(key->name, 0, sizeof(key->name));
	if (bpf_fuse_get_name(args, which, key->name, sizeof(key->name)) < 0)
		return 0;
	h = hidden_in(&hidden_names, key, cls);
	if (h || !casefold)
		return h && !(bits & h->hide_exempt);
	__builtin_memset(key->name, 0, sizeof(key->name));
	return hidden_in(&hidden_folded, key, cls) ? FUSE_BPF_USER_FILTER : 0;
}

/*
 * RENAME2 asks the filter of the moved inode too, with its name only:
 * that check is on the inode's own tag, decided here.
 */
static int has_new_name(struct fuse_bpf_args *args)
{
	struct fusebpf_name_key *key;
	__u32 zero = 0;

	key = bpf_map_lookup_elem(&name_scratch, &zero);
	return key && bpf_fuse_get_name(args, 1, key->name,
					sizeof(key->name)) >= 0;
}

static void audit(struct fuse_bpf_args *args, __u32 tag, int err)
{
	audit_submit(args->nodeid, args->opcode, args->uid, args->pid, tag,
		     -err, err ? FUSEBPF_AUDIT_DENIED : 0);
}

SEC("struct_ops/pre_filter")
int BPF_PROG(fusebpf_pre_filter, struct fuse_bpf_args *args)
{
	__u32 opcode = args->opcode, uid = args->uid;
	__u32 ktag = args->tag;
	__u32 tag = ktag & ~(FUSEBPF_KTAG_LIST_BY_DAEMON | FUSEBPF_KTAG_CASEFOLD);
	int casefold = !!(ktag & FUSEBPF_KTAG_CASEFOLD);
	__u32 cls = FUSEBPF_TAG_CLASS(tag), slot, bits = 0, owner;
	struct fusebpf_rule *rule, r = {};
	int err = 0, creates, names = name_op(opcode, &creates);
	int hidden, ask = 0;
	int entry = opcode == FUSE_READDIR || opcode == FUSE_READDIRPLUS;
	__u32 *v;

	v = bpf_map_lookup_elem(&uid_classes, &uid);
	if (v)
		bits = *v;
	rule = cls ? bpf_map_lookup_elem(&rules, &cls) : NULL;
	if (rule) {
		r = *rule;
		owner = r.owner_uid;
		if (owner == FUSEBPF_OWNER_DIR) {
			slot = FUSEBPF_TAG_SLOT(tag);
			v = bpf_map_lookup_elem(&owners, &slot);
			owner = v ? *v : FUSEBPF_OWNER_DIR;	/* unknown: nobody */
		}
		err = fusebpf_policy_decide(&r, uid, bits, owner,
					    is_mutating(opcode, args->flags) ?
					    FUSEBPF_ACCESS_WRITE :
					    FUSEBPF_ACCESS_SEE);
	}
	if (!err && (opcode == FUSE_LOOKUP || entry)) {
		hidden = name_hidden(args, 0, cls, bits, casefold);
		if (hidden == 1)
			err = ENOENT;
		ask = hidden == FUSE_BPF_USER_FILTER;
	}
	if (!err && creates >= 0) {
		hidden = name_hidden(args, creates, cls, bits, casefold);
		if (hidden == 1)
			err = EACCES;
		ask |= hidden == FUSE_BPF_USER_FILTER;
	}
	/*
	 * One event per operation: not per listed entry, nor per permission
	 * check that lets the op go on (the daemon, under
	 * default_permissions, never sees those); a refused one ends the op
	 */
	if (rule && (r.flags & FUSEBPF_RULE_AUDIT) && !entry &&
	    (err || args->opcode != FUSE_ACCESS))
		audit(args, tag, err);
	if (err)
		return count(opcode, -err);
	/* a name only the daemon can compare with hidden names */
	if (ask)
		return count(opcode, FUSE_BPF_USER_FILTER);

	/*
	 * The daemon lists these directories (some entries are hidden from
	 * some callers) and decides on their entries, which may start other
	 * classes and whose owners only it knows: it judges changes to them
	 * too, as in the other modes, and the kernel performs them.
	 */
	if ((ktag & FUSEBPF_KTAG_LIST_BY_DAEMON) && opcode == FUSE_OPENDIR)
		return count(opcode, FUSE_BPF_USER);
	if ((ktag & FUSEBPF_KTAG_LIST_BY_DAEMON) && names &&
	    !(opcode == FUSE_RENAME2 && !has_new_name(args)))
		return count(opcode, FUSE_BPF_USER_FILTER);
	if (rule && (r.flags & FUSEBPF_RULE_SERVED))
		return count(opcode, FUSE_BPF_USER);
	/* "decide" classes: the embedder's hook judges, the kernel runs it */
	if (rule && (r.flags & FUSEBPF_RULE_DECIDE))
		return count(opcode, FUSE_BPF_USER_FILTER);
	return count(opcode, FUSE_BPF_BACKING);
}

SEC(".struct_ops")
struct fuse_bpf_ops fusebpf_policy_ops = {
	.pre_filter = (void *)fusebpf_pre_filter,
	.name = FUSEBPF_FILTER_NAME,
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";
