/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fusebpf policy model: map layouts shared by bpf/policy.bpf.c, fusebpfd,
 * fusebpfctl and the tests. Maps are created by the policy skeleton and
 * pinned under FUSEBPF_POLICY_PIN_DIR/<instance>/<map name>; everything a
 * decision reads is in them, so `bpftool map update pinned ...` changes
 * behaviour on the next operation in every mode.
 *
 *   rules        ARRAY  class (u32)            -> struct fusebpf_rule
 *   uid_classes  HASH   uid (u32)              -> u32 FUSEBPF_UID_* bits
 *   paths        HASH   struct fusebpf_path_key -> struct fusebpf_path_node
 *   hidden_names HASH   struct fusebpf_name_key -> struct fusebpf_hidden
 *   owners       HASH   owner slot (u32)       -> u32 uid
 *   meta         ARRAY  0                      -> struct fusebpf_policy_meta
 *   audit_events RINGBUF of struct fusebpf_audit_event
 *
 * Classes and tags. Every policy path of the file gets a class (1..255);
 * class 0 is "no rule" and its rules entry is never read. The daemon tags
 * each inode at lookup with the class of the deepest node of the path
 * tree its path reaches. The compiler composes the rules: a node's class
 * holds the rules of every policy path that matches it ("*" and an exact
 * name alike) and of those above it, so one class per inode is enough.
 * The 32-bit per-inode tag (what the phase-2 kernel filter sees) is
 * FUSEBPF_TAG(class, owner slot): owner-only subtrees need the owner's
 * uid, which differs per matched directory (Android/data/<pkg> belongs to
 * the package's uid), so the daemon records that uid in the owners map
 * under a slot and puts the slot in the tag.
 *
 * The path tree: node FUSEBPF_PATH_ROOT is the mount root; the child named
 * N (or "*") of node P is paths[{P, N}]. A node with class 0 is only on the
 * way to deeper policy paths; inodes there keep their parent's class.
 * Tags depend on the path tree and classes of one compiled file: a policy
 * load bumps meta.generation last; the daemon then re-tags inodes whose
 * tags are older, drops the kernel's cached dentries, and sets
 * meta.applied. Changing rules or uid_classes needs no generation bump;
 * after changing paths or hidden_names by hand, bump meta.generation too.
 *
 * A load is atomic for the daemon's decisions (a seqlock on meta, whose
 * fields are written one at a time through its mmap): meta.loading holds
 * the pid of the loader from before its first map write until after it
 * moved meta.generation (loaders take turns; a dead one's turn is taken
 * over). A decision that saw loading == 0 and generation G before it read
 * the maps counts only if it sees the same after; else it is taken again
 * (a load in progress is waited out).
 */
#ifndef FUSEBPF_POLICY_H
#define FUSEBPF_POLICY_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define FUSEBPF_POLICY_PIN_DIR		"/sys/fs/bpf/fusebpf"

#define FUSEBPF_POLICY_CLASSES		256	/* rules entries; 0 = no rule */
#define FUSEBPF_POLICY_NAME_MAX		256	/* a path component + NUL */
#define FUSEBPF_POLICY_MAX_PATH_NODES	4096
#define FUSEBPF_POLICY_MAX_HIDDEN	1024
#define FUSEBPF_POLICY_MAX_UIDS		1024
#define FUSEBPF_POLICY_MAX_OWNERS	65536
#define FUSEBPF_POLICY_AUDIT_BYTES	(256 * 1024)

/* struct fusebpf_rule.flags */
#define FUSEBPF_RULE_OWNER_ONLY	(1u << 0)	/* others: ENOENT, not listed */
#define FUSEBPF_RULE_READ_ONLY	(1u << 1)	/* mutating ops: EROFS */
#define FUSEBPF_RULE_HIDDEN	(1u << 2)	/* the subtree is invisible */
#define FUSEBPF_RULE_SERVED	(1u << 3)	/* the daemon serves it */
#define FUSEBPF_RULE_AUDIT	(1u << 4)	/* ops go to audit_events */
#define FUSEBPF_RULE_DECIDE	(1u << 5)	/* the embedder's hook decides
						 * (libfusebpf hooks.decide) */
#define FUSEBPF_RULE_FLAGS	0x3fu

/* struct fusebpf_rule.owner_uid: the uid of the directory the path matched */
#define FUSEBPF_OWNER_DIR	0xffffffffu

/* uid_classes bits */
#define FUSEBPF_UID_PRIVILEGED	(1u << 0)

/* a tag: class in the low 8 bits, owner slot (0: none) above */
#define FUSEBPF_TAG(cls, slot)	(((__u32)(slot) << 8) | ((__u32)(cls) & 0xff))
#define FUSEBPF_TAG_CLASS(tag)	((tag) & 0xffu)
#define FUSEBPF_TAG_SLOT(tag)	((tag) >> 8)
#define FUSEBPF_MAX_OWNER_SLOT	((1u << 24) - 1)

#define FUSEBPF_PATH_ROOT	1u	/* path tree node of the mount root */
#define FUSEBPF_PATH_NONE	0u	/* below every policy path */

/* Flags are ORed when several lines name the same path. */
struct fusebpf_rule {
	__u32 flags;		/* FUSEBPF_RULE_* */
	__u32 owner_uid;	/* OWNER_ONLY: FUSEBPF_OWNER_DIR or a uid */
	__u32 owner_exempt;	/* uid classes with full access to OWNER_ONLY */
	__u32 write_exempt;	/* uid classes READ_ONLY does not bind */
	__u32 hide_exempt;	/* uid classes that still see HIDDEN */
	__u32 owner_from;	/* FUSEBPF_OWNER_FROM_*: whose uid is owner=dir */
};

/*
 * struct fusebpf_rule.owner_from: a class's rule is composed with the
 * rules above it (policy_compile.h), so its owner-only restriction may
 * come from the directory where the class starts, from an enclosing
 * directory (whose owner the tag carries down), or from both: then the
 * owner is the uid that owns both, and nobody if they differ.
 */
#define FUSEBPF_OWNER_FROM_HERE		0	/* the class's own directory */
#define FUSEBPF_OWNER_FROM_ABOVE	1	/* the enclosing owner-only one */
#define FUSEBPF_OWNER_FROM_BOTH		2	/* both, if one uid owns both */

struct fusebpf_path_key {
	__u32 parent;				/* path tree node */
	char name[FUSEBPF_POLICY_NAME_MAX];	/* NUL padded; "*" */
};

struct fusebpf_path_node {
	__u32 node;		/* this node's id (> FUSEBPF_PATH_ROOT) */
	__u32 cls;		/* class of this exact path, 0: inherited */
};

/* hidden_names key: a name hidden in every directory of class @cls */
#define FUSEBPF_CLASS_ANY	0xffffffffu	/* in every directory */
struct fusebpf_name_key {
	__u32 cls;
	char name[FUSEBPF_POLICY_NAME_MAX];	/* NUL padded */
};

struct fusebpf_hidden {
	__u32 hide_exempt;	/* uid classes that still see the name */
	__u32 reserved;
};

struct fusebpf_policy_meta {
	__u64 generation;	/* bumped by every policy load, last */
	__u64 applied;		/* generation the daemon has applied: re-tagged,
				 * kernel dentry cache invalidated */
	__u64 audit_lost;	/* events dropped: ring buffer full */
	__u32 classes;		/* classes the loaded file uses (1..classes) */
	__u32 loading;		/* pid of the loader writing the maps, 0 */
};

/* struct fusebpf_audit_event.flags */
#define FUSEBPF_AUDIT_DENIED	(1u << 0)	/* the policy refused the op */

struct fusebpf_audit_event {
	__u64 nodeid;		/* the inode the op was on (its parent for names) */
	__u32 opcode;		/* FUSE opcode */
	__u32 uid;		/* caller */
	__u32 pid;
	__u32 tag;
	__s32 result;		/* 0 or -errno, as replied */
	__u32 flags;		/* FUSEBPF_AUDIT_* */
};

/*
 * The decision for one operation, from the inode's rule, the caller and
 * the inode's owner. Pure: the same function serves the daemon and the
 * kernel filter. Returns 0 or a positive errno.
 */
#define FUSEBPF_ACCESS_SEE	0	/* lookup, stat, read, list */
#define FUSEBPF_ACCESS_WRITE	1	/* any mutating op */

static inline int fusebpf_policy_decide(const struct fusebpf_rule *rule,
					__u32 uid, __u32 uid_bits,
					__u32 owner_uid, int access)
{
	__u32 flags = rule->flags;

	if ((flags & FUSEBPF_RULE_HIDDEN) && !(uid_bits & rule->hide_exempt))
		return 2;	/* ENOENT */
	if ((flags & FUSEBPF_RULE_OWNER_ONLY) && uid != owner_uid &&
	    !(uid_bits & rule->owner_exempt))
		return 2;	/* ENOENT */
	if (access == FUSEBPF_ACCESS_WRITE &&
	    (flags & FUSEBPF_RULE_READ_ONLY) &&
	    !(uid_bits & rule->write_exempt))
		return 30;	/* EROFS */
	return 0;
}

/* Does a decision for this rule depend on the caller's uid classes? */
static inline int fusebpf_rule_needs_uid_bits(const struct fusebpf_rule *rule)
{
	return (rule->flags & (FUSEBPF_RULE_OWNER_ONLY | FUSEBPF_RULE_READ_ONLY |
			       FUSEBPF_RULE_HIDDEN)) != 0;
}

#endif /* FUSEBPF_POLICY_H */
