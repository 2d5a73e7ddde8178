// SPDX-License-Identifier: GPL-2.0
/*
 * Policy enforcement for the ops the daemon performs (modes passthrough
 * and userspace, and served subtrees): each op asks the judge
 * (policy_judge.c) about the tags of the inodes it touches (policy_tags.c)
 * in the policy maps' view (policy_maps.c); no-ops without maps.
 *
 * Caching: the kernel must not answer a lookup from its dentry cache for
 * an inode whose visibility depends on the caller, or a dentry cached by
 * its owner would let another uid walk in (the Android FUSE hole: an
 * in-use dentry never re-ran lookup). Entries and attributes of inodes in
 * any policy class, and of names in hidden_names, are replied with
 * timeout 0: the kernel then revalidates the dentry with a LOOKUP on every
 * path walk, in-use or not, and that LOOKUP carries the walking caller's
 * uid. A negative answer (ENOENT reply) is never cached by FUSE. Inodes no
 * policy path covers keep the normal timeouts; when a policy load moves
 * meta.generation, the sweeper thread (policy_reload.c) drops every
 * dentry the daemon handed out (FUSE_NOTIFY_INVAL_ENTRY), so the new
 * policy applies to the next walk, and then sets meta.applied, which
 * `fusebpfctl policy load` waits for.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>

#include "fusebpfd.h"
#include "hooks.h"
#include "policy_check.h"
#include "policy_maps.h"
#include "policy_tags.h"
#include "request.h"

/*
 * "decide" subtrees: after the policy allowed the op, the embedder's hook
 * (hooks.decide) has the last word; 0 or a positive errno.
 */
static int embedder_decides(struct policy_ask *ask, int access)
{
	struct policy_caller *c = (struct policy_caller *)
		((char *)ask - offsetof(struct policy_caller, ask));
	struct fusebpf_decision_req req = {
		.opcode = c->opcode,
		.kind = ask->kind,
		.access = access,
		.uid = ask->uid,
		.gid = ask->gid,
		.pid = c->pid,
		.name = ask->name,
	};
	char path[PATH_MAX];

	/*
	 * A node only the kernel knows (mode bpf: one it created since the
	 * daemon last looked up its directory): no path to ask about. Its
	 * creation was judged here, and every walk to it runs the lookup
	 * decision of its directory (which the daemon knows): the policy's
	 * decision stands.
	 */
	if (!c->at)
		return 0;
	if (hooks_node_path(c->d, c->at, path, sizeof(path)))
		return EACCES;
	req.path = path;
	return hooks_decide(c->d, &req);
}

struct policy_caller policy_caller(struct daemon *d, uid_t uid, gid_t gid,
				   pid_t pid, uint32_t opcode, bool audit)
{
	return (struct policy_caller){
		.d = d,
		.view = policy_view(d),
		.ask = {
			.uid = uid, .gid = gid,
			.decide = hooks_want_decisions(d) ? embedder_decides :
							    NULL,
		},
		.pid = pid,
		.opcode = opcode,
		.audit = audit,
	};
}

static struct policy_caller caller_req(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	return policy_caller(req_daemon(req), ctx->uid, ctx->gid, ctx->pid,
			     request_opcode(), true);
}

bool policy_attempt_begin(struct policy_caller *c)
{
	c->denied = 0;
	return policy_load_settled(c->d, &c->gen);
}

bool policy_attempt_done(struct policy_caller *c)
{
	if (!policy_load_held(c->d, c->gen))
		return false;
	for (; c->denied && c->opcode < FUSEBPF_STATS_OPCODES; c->denied--)
		fusebpf_stats_inc(&c->d->stats->denied[c->opcode]);
	return true;
}

/* A judgement about @nodeid is done: its audit mark goes to the reply */
static int judged(struct policy_caller *c, uint64_t nodeid, int err)
{
	if (c->ask.audit && c->audit)
		request_audit(c->ask.audit_tag, nodeid, c->ask.audit_denied);
	c->ask.audit = false;
	if (err)
		policy_count_denied(c);
	return err;
}

int policy_caller_inode(struct policy_caller *c, struct inode *inode,
			int access)
{
	struct policy_tag t = policy_inode_tag(c->d, inode);

	c->at = inode;
	c->ask.kind = FUSEBPF_DECIDE_INODE;
	c->ask.name = NULL;
	return judged(c, inode->node.nodeid,
		      policy_judge_tag(&c->view, &c->ask, &t, access, true));
}

int policy_check(fuse_req_t req, struct inode *inode, int access)
{
	struct policy_caller c = caller_req(req);
	int err = 0;

	if (c.d->policy)
		POLICY_JUDGED(&c, err, policy_caller_inode(&c, inode, access));
	return err;
}

int policy_caller_name(struct policy_caller *c, struct inode *dir,
		       const char *name, int access, bool create)
{
	/* a missing entry would become the caller's */
	struct owner_src o = { .dirfd = dir->fd, .path = name,
			       .missing = c->ask.uid };
	struct fusebpf_name_dir at = fusebpf_name_dir_fd(dir->fd);
	struct policy_tag pt = policy_inode_tag(c->d, dir);

	c->at = dir;
	return judged(c, dir->node.nodeid,
		      policy_judge_name(&c->view, &c->ask, &pt, name, &at,
					&POLICY_OWNER(&o), access, create));
}

int policy_check_name(fuse_req_t req, struct inode *dir, const char *name,
		      int access, bool create)
{
	struct policy_caller c = caller_req(req);
	int err = 0;

	if (c.d->policy)
		POLICY_JUDGED(&c, err, policy_caller_name(&c, dir, name, access,
							  create));
	return err;
}

int policy_caller_change(struct policy_caller *c, struct inode *dir,
			 const char *name, bool create)
{
	int err = policy_caller_inode(c, dir, FUSEBPF_ACCESS_WRITE);

	return err ? err : policy_caller_name(c, dir, name,
					      FUSEBPF_ACCESS_WRITE, create);
}

int policy_check_new(fuse_req_t req, struct inode *dir, const char *name)
{
	struct policy_caller c = caller_req(req);
	int err = 0;

	if (c.d->policy)
		POLICY_JUDGED(&c, err, policy_caller_change(&c, dir, name, true));
	return err;
}

int policy_check_remove(fuse_req_t req, struct inode *dir, const char *name)
{
	struct policy_caller c = caller_req(req);
	int err = 0;

	if (c.d->policy)
		POLICY_JUDGED(&c, err, policy_caller_change(&c, dir, name, false));
	return err;
}

/*
 * LOOKUP of @name in @dir found @inode (tagged by entry_lookup). Returns
 * an errno if the caller may not see it; otherwise sets the timeouts of
 * @e to 0 when the answer depends on the caller.
 */
static int check_lookup(struct policy_caller *c, struct inode *dir,
			const char *name, struct inode *inode,
			struct fuse_entry_param *e)
{
	struct fusebpf_name_dir at = fusebpf_name_dir_fd(dir->fd);
	struct policy_tag pt = policy_inode_tag(c->d, dir);
	struct policy_tag t = policy_inode_tag(c->d, inode);
	bool per_caller;
	int err;

	c->at = dir;
	err = policy_judge_lookup(&c->view, &c->ask, &pt, name, &at, &t,
				  &per_caller);
	if (per_caller) {
		e->entry_timeout = 0;
		e->attr_timeout = 0;
	}
	return judged(c, inode->node.nodeid, err);
}

int policy_check_lookup(fuse_req_t req, struct inode *dir, const char *name,
			struct inode *inode, struct fuse_entry_param *e)
{
	struct policy_caller c = caller_req(req);
	int err = 0;

	if (c.d->policy)
		POLICY_JUDGED(&c, err, check_lookup(&c, dir, name, inode, e));
	return err;
}

bool policy_caller_visible(struct policy_caller *c, struct inode *dir,
			   const char *name, struct inode *child,
			   struct fuse_entry_param *e)
{
	struct owner_src o = { .dirfd = dir->fd, .path = name };
	struct fusebpf_name_dir at = fusebpf_name_dir_fd(dir->fd);
	struct policy_tag pt = policy_inode_tag(c->d, dir), ct;
	bool per_caller, visible;

	if (child)
		ct = policy_inode_tag(c->d, child);
	c->at = dir;
	visible = policy_judge_visible(&c->view, &c->ask, &pt, name, &at,
				       child ? &ct : NULL, &POLICY_OWNER(&o),
				       &per_caller);
	if (e && per_caller) {
		e->entry_timeout = 0;
		e->attr_timeout = 0;
	}
	return visible;
}

/*
 * readdir: may the caller see the entry @name? (no counting: a filter).
 * readdirplus passes the looked-up @child and its entry @e, whose timeouts
 * are zeroed as in policy_check_lookup.
 */
bool policy_entry_visible(fuse_req_t req, struct inode *dir, const char *name,
			  struct inode *child, struct fuse_entry_param *e)
{
	struct policy_caller c = caller_req(req);
	int err = 0;

	if (c.d->policy)
		POLICY_JUDGED(&c, err, policy_caller_visible(&c, dir, name,
							     child, e) ?
			      0 : ENOENT);
	return err == 0;
}

bool policy_served(struct daemon *d, struct inode *inode)
{
	struct policy_tag t;
	uint64_t gen;
	bool served;

	if (!d->policy)
		return false;
	do {
		if (!policy_load_settled(d, &gen))
			return true;	/* the daemon serves: no passthrough */
		t = policy_inode_tag(d, inode);
		served = t.cls &&
			 (policy_rule(d, t.cls).flags & FUSEBPF_RULE_SERVED);
	} while (!policy_load_held(d, gen));
	return served;
}

double policy_timeout(struct daemon *d, struct inode *inode)
{
	uint64_t gen;
	uint32_t cls;

	if (!d->policy)
		return d->timeout;
	do {
		if (!policy_load_settled(d, &gen))
			return 0;
		cls = policy_inode_tag(d, inode).cls;
	} while (!policy_load_held(d, gen));
	return cls ? 0 : d->timeout;
}
