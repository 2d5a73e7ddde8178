// SPDX-License-Identifier: GPL-2.0
/*
 * The policy judge: see policy_judge.h. Pure over its view: the same
 * inputs give the same decision, and a unit test judges without a mount
 * or maps (tests/unit/policy_judge.c).
 */
#include <errno.h>
#include <linux/types.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/fusebpf.h"
#include "fusebpf/policy_request.h"
#include "policy_judge.h"

struct policy_tag policy_root_tag(uint64_t gen, uint64_t moves)
{
	return (struct policy_tag){ .gen = gen, .moves = moves,
				    .pnode = FUSEBPF_PATH_ROOT };
}

struct policy_tag policy_judge_child(const struct policy_view *v,
				     const struct policy_tag *parent,
				     const char *name,
				     struct fusebpf_name_dir *at,
				     const struct policy_owner *owner)
{
	struct policy_tag t = *parent;
	struct fusebpf_path_node node;

	t.pnode = FUSEBPF_PATH_NONE;
	if (parent->pnode == FUSEBPF_PATH_NONE ||
	    !v->ops->path_child(v->ctx, parent->pnode, name, at, &node))
		return t;
	t.pnode = node.node;
	if (node.cls && node.cls < FUSEBPF_POLICY_CLASSES) {
		uint32_t from = v->ops->rule(v->ctx, node.cls).owner_from;

		t.cls = node.cls;
		/* owner-only from above: keep that directory's owner */
		if (from == FUSEBPF_OWNER_FROM_ABOVE)
			return t;
		t.owner_uid = owner->get(owner->arg);
		/* owner-only here and above: one uid must own both, else nobody */
		if (from == FUSEBPF_OWNER_FROM_BOTH &&
		    t.owner_uid != parent->owner_uid)
			t.owner_uid = FUSEBPF_OWNER_DIR;
		t.slot = t.owner_uid == FUSEBPF_OWNER_DIR ? 0 :
			 v->ops->owner_slot(v->ctx, t.owner_uid);
	}
	return t;
}

int policy_judge_tag(const struct policy_view *v, struct policy_ask *ask,
		     const struct policy_tag *t, int access, bool audit)
{
	struct fusebpf_rule r;
	uint32_t bits = 0;
	int err;

	if (!t->cls)
		return 0;
	r = v->ops->rule(v->ctx, t->cls);
	if (fusebpf_rule_needs_uid_bits(&r))
		bits = v->ops->uid_bits(v->ctx, ask->uid);
	err = fusebpf_policy_decide(&r, ask->uid, bits,
				    r.owner_uid == FUSEBPF_OWNER_DIR ?
				    t->owner_uid : r.owner_uid, access);
	/* "decide" subtrees: the embedder has the last word */
	if (!err && (r.flags & FUSEBPF_RULE_DECIDE) && ask->decide)
		err = ask->decide(ask, access);
	if (audit && (r.flags & FUSEBPF_RULE_AUDIT)) {
		ask->audit = true;
		ask->audit_tag = FUSEBPF_TAG(t->cls, t->slot);
		ask->audit_denied = err != 0;
	}
	return err;
}

bool policy_judge_hidden(const struct policy_view *v,
			 const struct policy_ask *ask, uint32_t cls,
			 const char *name, struct fusebpf_name_dir *at,
			 bool *listed)
{
	struct fusebpf_hidden h;

	*listed = false;
	if (!v->ops->hidden(v->ctx, cls, name, at, &h))
		return false;
	*listed = true;
	return !(v->ops->uid_bits(v->ctx, ask->uid) & h.hide_exempt);
}

int policy_judge_name(const struct policy_view *v, struct policy_ask *ask,
		      const struct policy_tag *dir, const char *name,
		      struct fusebpf_name_dir *at,
		      const struct policy_owner *owner, int access,
		      bool create)
{
	struct policy_tag t;
	bool listed;
	int err;

	if (policy_judge_hidden(v, ask, dir->cls, name, at, &listed))
		return create ? EACCES : ENOENT;
	t = policy_judge_child(v, dir, name, at, owner);
	ask->kind = create ? FUSEBPF_DECIDE_NEW :
		    access == FUSEBPF_ACCESS_WRITE ? FUSEBPF_DECIDE_REMOVE :
		    FUSEBPF_DECIDE_LOOKUP;
	ask->name = name;
	err = policy_judge_tag(v, ask, &t, access, true);
	if (err == ENOENT && create)
		err = EACCES;
	return err;
}

int policy_judge_lookup(const struct policy_view *v, struct policy_ask *ask,
			const struct policy_tag *dir, const char *name,
			struct fusebpf_name_dir *at,
			const struct policy_tag *child, bool *per_caller)
{
	bool listed;
	int err;

	*per_caller = false;
	if (policy_judge_hidden(v, ask, dir->cls, name, at, &listed))
		return ENOENT;
	ask->kind = FUSEBPF_DECIDE_LOOKUP;
	ask->name = name;
	err = policy_judge_tag(v, ask, child, FUSEBPF_ACCESS_SEE, true);
	if (!err)
		*per_caller = listed || child->cls;
	return err;
}

bool policy_judge_visible(const struct policy_view *v, struct policy_ask *ask,
			  const struct policy_tag *dir, const char *name,
			  struct fusebpf_name_dir *at,
			  const struct policy_tag *child,
			  const struct policy_owner *owner, bool *per_caller)
{
	struct policy_tag t;
	bool listed;

	*per_caller = false;
	if (policy_judge_hidden(v, ask, dir->cls, name, at, &listed))
		return false;
	if (child) {
		t = *child;
		*per_caller = listed || t.cls;
	} else {
		t = policy_judge_child(v, dir, name, at, owner);
	}
	ask->kind = FUSEBPF_DECIDE_LOOKUP;
	ask->name = name;
	return policy_judge_tag(v, ask, &t, FUSEBPF_ACCESS_SEE, false) == 0;
}

int policy_judge_ktag(const struct policy_view *v, struct policy_ask *ask,
		      uint32_t ktag, int judge, int access, const char *name,
		      const char *new_name)
{
	uint32_t tag = ktag & ~(FUSEBPF_KTAG_LIST_BY_DAEMON |
				FUSEBPF_KTAG_CASEFOLD);
	/* no backing directory here: the kernel tag says if it folds case */
	struct fusebpf_name_dir at = {
		.dirfd = -1, .dir = "",
		.casefold = !!(ktag & FUSEBPF_KTAG_CASEFOLD),
	};
	struct policy_tag t = {
		.cls = FUSEBPF_TAG_CLASS(tag),
		.slot = FUSEBPF_TAG_SLOT(tag),
		.owner_uid = FUSEBPF_OWNER_DIR,		/* unknown: nobody */
	};
	const char *created = NULL;
	bool listed;
	int err;

	if (t.cls >= FUSEBPF_POLICY_CLASSES)
		t.cls = 0;
	if (t.slot)
		t.owner_uid = v->ops->slot_owner(v->ctx, t.slot);
	ask->kind = FUSEBPF_DECIDE_INODE;
	ask->name = NULL;
	err = policy_judge_tag(v, ask, &t, access, false);
	if (!err && (judge == FUSEBPF_JUDGE_LOOKUP ||
		     judge == FUSEBPF_JUDGE_ENTRY) &&
	    policy_judge_hidden(v, ask, t.cls, name, &at, &listed))
		err = ENOENT;
	if (judge == FUSEBPF_JUDGE_NEW)
		created = name;
	else if (judge == FUSEBPF_JUDGE_RENAME)
		created = new_name;
	if (!err && created &&
	    policy_judge_hidden(v, ask, t.cls, created, &at, &listed))
		err = EACCES;
	return err;
}
