/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy judge (policy_judge.c): pure decisions from a view of the
 * compiled policy (rules, path tree, hidden names, uid classes, owner
 * slots), the caller, the access asked, the tags of the inodes concerned
 * and the names. No request, no daemon, no inode, no file: where a
 * decision needs the owner of an entry it asks a callback, only when a
 * class starts there. The view is the policy maps in the daemon
 * (policy_maps.c) and a table in tests/unit/policy_judge.c.
 */
#ifndef FUSEBPFD_POLICY_JUDGE_H
#define FUSEBPFD_POLICY_JUDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fusebpf/names.h"
#include "fusebpf/policy.h"

/* The policy tag of an inode; see include/fusebpf/policy.h. */
struct policy_tag {
	uint64_t gen;			/* meta.generation it was computed in */
	uint64_t moves;			/* table.moves it was computed in */
	uint32_t pnode;			/* path tree node, FUSEBPF_PATH_NONE */
	uint32_t cls;			/* policy class, 0: none */
	uint32_t owner_uid;		/* uid of the class root */
	uint32_t slot;			/* owners map slot of owner_uid */
};

/*
 * What a decision reads. @at is the directory the name is in, for
 * backings that fold case (another spelling of a policy name matches
 * there); NULL: names compare as bytes.
 */
struct policy_view_ops {
	/* a copy of the rule of class @cls (1..FUSEBPF_POLICY_CLASSES - 1) */
	struct fusebpf_rule (*rule)(void *ctx, uint32_t cls);
	/* FUSEBPF_UID_* bits of @uid */
	uint32_t (*uid_bits)(void *ctx, uid_t uid);
	/* the path tree child @name (else "*") of node @parent */
	bool (*path_child)(void *ctx, uint32_t parent, const char *name,
			   struct fusebpf_name_dir *at,
			   struct fusebpf_path_node *out);
	/*
	 * hidden_names: @name hidden in every directory, else in those of
	 * class @cls (0: none); true and *@out if so
	 */
	bool (*hidden)(void *ctx, uint32_t cls, const char *name,
		       struct fusebpf_name_dir *at, struct fusebpf_hidden *out);
	/* the owners slot of @uid (given one if new), 0: no room */
	uint32_t (*owner_slot)(void *ctx, uid_t uid);
	/* the uid in owners slot @slot, FUSEBPF_OWNER_DIR if none */
	uint32_t (*slot_owner)(void *ctx, uint32_t slot);
};

struct policy_view {
	const struct policy_view_ops *ops;
	void *ctx;
};

/*
 * Who asks, and what the judgement leaves for the audit: a rule with
 * FUSEBPF_RULE_AUDIT decided (the tag and the result of the last such).
 * A rule with FUSEBPF_RULE_DECIDE gives the last word, once the policy
 * allowed, to @decide (the embedder's hook; NULL: allowed) about what is
 * judged: @kind (FUSEBPF_DECIDE_*) and @name, set by the judge before it.
 */
struct policy_ask {
	uid_t uid;
	gid_t gid;
	bool audit;
	uint32_t audit_tag;
	bool audit_denied;
	int (*decide)(struct policy_ask *ask, int access);
	uint32_t kind;
	const char *name;
};

/* The owner of an entry, asked only when a class starts at it */
struct policy_owner {
	uid_t (*get)(void *arg);
	void *arg;
};

/* The tag of the mount root for policy generation @gen, @moves */
struct policy_tag policy_root_tag(uint64_t gen, uint64_t moves);

/* The tag of the entry @name of @at, a directory tagged @parent */
struct policy_tag policy_judge_child(const struct policy_view *v,
				     const struct policy_tag *parent,
				     const char *name,
				     struct fusebpf_name_dir *at,
				     const struct policy_owner *owner);

/*
 * Access @access (FUSEBPF_ACCESS_*) to an inode tagged @t: 0 or a
 * positive errno. @audit false: not marked for the audit (a filter, like
 * a readdir's). @ask's kind and name say what it is for @ask->decide.
 */
int policy_judge_tag(const struct policy_view *v, struct policy_ask *ask,
		     const struct policy_tag *t, int access, bool audit);

/*
 * Is @name hidden from the caller in a directory of class @cls?
 * @listed: it is in hidden_names at all (then the answer depends on the
 * caller and must not be cached).
 */
bool policy_judge_hidden(const struct policy_view *v,
			 const struct policy_ask *ask, uint32_t cls,
			 const char *name, struct fusebpf_name_dir *at,
			 bool *listed);

/*
 * Access to the entry @name of a directory tagged @dir, which may not
 * exist: @create (create-like ops): a name the caller may not see, or a
 * hidden one, is EACCES rather than ENOENT, and a missing entry would
 * become the caller's own (@owner gives the uid of the caller then).
 */
int policy_judge_name(const struct policy_view *v, struct policy_ask *ask,
		      const struct policy_tag *dir, const char *name,
		      struct fusebpf_name_dir *at,
		      const struct policy_owner *owner, int access,
		      bool create);

/*
 * LOOKUP of @name in a directory tagged @dir found an inode tagged
 * @child: 0 or a positive errno; @per_caller: the answer depends on the
 * caller (the kernel must not cache it).
 */
int policy_judge_lookup(const struct policy_view *v, struct policy_ask *ask,
			const struct policy_tag *dir, const char *name,
			struct fusebpf_name_dir *at,
			const struct policy_tag *child, bool *per_caller);

/*
 * readdir: may the caller see the entry @name of a directory tagged
 * @dir? @child: the entry's tag if known (readdirplus), else computed
 * with @owner. @per_caller as for policy_judge_lookup. Never audited.
 */
bool policy_judge_visible(const struct policy_view *v, struct policy_ask *ask,
			  const struct policy_tag *dir, const char *name,
			  struct fusebpf_name_dir *at,
			  const struct policy_tag *child,
			  const struct policy_owner *owner, bool *per_caller);

/*
 * A decision request of the kernel filter about a node only the kernel
 * knows: its kernel tag @ktag (FUSEBPF_TAG() | FUSEBPF_KTAG_*), the
 * judgement FUSEBPF_JUDGE_* @judge with the names @name and @new_name,
 * as the kernel filter decides. 0 or a positive errno.
 */
int policy_judge_ktag(const struct policy_view *v, struct policy_ask *ask,
		      uint32_t ktag, int judge, int access, const char *name,
		      const char *new_name);

#endif /* FUSEBPFD_POLICY_JUDGE_H */
