// SPDX-License-Identifier: GPL-2.0
/*
 * The entries and attributes the daemon replies: an inode looked up in
 * the inode table is tagged for the policy (policy_tag_lookup), and its
 * cache timeouts are the daemon's unless the policy decides per caller
 * (0, see policy.c) or a shared writable mapping of the backing file may
 * change it behind our back (passthrough_attr_timeout).
 */
#include "fusebpfd.h"
#include "policy_tags.h"

static void set_timeouts(struct daemon *d, struct inode *inode,
			 struct fuse_entry_param *e)
{
	/* 0 where the policy decides per caller: see policy.c */
	e->attr_timeout = policy_timeout(d, inode);
	e->entry_timeout = e->attr_timeout > 0 ? d->entry_timeout : 0;
	e->attr_timeout = passthrough_attr_timeout(inode, e->attr_timeout);
}

int entry_lookup(struct daemon *d, struct inode *parent, const char *name,
		 struct fuse_entry_param *e, struct inode **out)
{
	struct inode *inode;
	int ret = inode_lookup(d, parent, name, e, &inode);

	if (ret)
		return ret;
	policy_tag_lookup(d, parent, inode, name, &e->attr);
	set_timeouts(d, inode, e);
	if (out)
		*out = inode;
	return 0;
}

int entry_lookup_self(struct daemon *d, fuse_ino_t ino,
		      struct fuse_entry_param *e, struct inode **out)
{
	int ret = inode_lookup_self(d, ino, e, out);

	if (!ret)
		set_timeouts(d, *out, e);
	return ret;
}

double entry_attr_timeout(struct daemon *d, struct inode *inode)
{
	return passthrough_attr_timeout(inode, policy_timeout(d, inode));
}
