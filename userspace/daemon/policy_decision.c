// SPDX-License-Identifier: GPL-2.0
/*
 * Mode bpf: the decision requests of the kernel filter (opcode |
 * FUSE_PREFILTER or FUSE_POSTFILTER, include/fusebpf/policy_request.h),
 * read and answered by raw_io.c. On the node's path when the daemon
 * knows the node (the same checks as for the ops it performs, policy.c),
 * else from the kernel tag, as the kernel filter decides (the judge).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fusebpf/policy_request.h"
#include "fusebpfd.h"
#include "policy_check.h"

/*
 * A node the daemon knows. RENAME2 asks each directory's filter with
 * both names and the directory's own node id: the old name is judged
 * where it exists, the new one as created in the node.
 */
static int judge_known(struct policy_caller *c, struct inode *node,
		       const struct fusebpf_decision *dec)
{
	struct stat st;
	int err;

	switch (dec->judge) {
	case FUSEBPF_JUDGE_INODE:
		return policy_caller_inode(c, node, dec->access);
	case FUSEBPF_JUDGE_LOOKUP:
		err = policy_caller_inode(c, node, FUSEBPF_ACCESS_SEE);
		return err ? err : policy_caller_name(c, node, dec->name,
						      FUSEBPF_ACCESS_SEE, false);
	case FUSEBPF_JUDGE_ENTRY:
		return policy_caller_visible(c, node, dec->name, NULL, NULL) ?
		       0 : ENOENT;
	case FUSEBPF_JUDGE_NEW:
		return policy_caller_change(c, node, dec->name, true);
	case FUSEBPF_JUDGE_REMOVE:
		return policy_caller_change(c, node, dec->name, false);
	case FUSEBPF_JUDGE_RENAME:
		err = 0;
		if (!fstatat(node->fd, dec->name, &st, AT_SYMLINK_NOFOLLOW))
			err = policy_caller_change(c, node, dec->name, false);
		return err ? err : policy_caller_change(c, node, dec->new_name,
							true);
	default:
		return EIO;
	}
}

/* A node only the kernel knows (resolved in the kernel, bit-63 id) */
static int judge_ktag(struct policy_caller *c,
		      const struct fusebpf_decision *dec)
{
	int err;

	c->at = NULL;
	err = policy_judge_ktag(&c->view, &c->ask, dec->tag, dec->judge,
				    dec->access, dec->name, dec->new_name);

	if (err && dec->judge != FUSEBPF_JUDGE_ENTRY)
		policy_count_denied(c);
	return err;
}

int policy_decide_request(struct daemon *d, const struct fusebpf_decision *dec)
{
	struct policy_caller c;
	struct inode *node;
	int err;

	/* a failed backing op stays failed: nothing to judge */
	if (dec->post && dec->result < 0)
		return -dec->result;
	if (!d->policy)
		return 0;
	c = policy_caller(d, dec->uid, dec->gid, dec->pid, dec->opcode, false);
	node = (dec->nodeid & FUSEBPF_KERNEL_NODEID) ? NULL :
	       inode_get(d, dec->nodeid);
	POLICY_JUDGED(&c, err, node ? judge_known(&c, node, dec) :
			       judge_ktag(&c, dec));
	return err;
}
