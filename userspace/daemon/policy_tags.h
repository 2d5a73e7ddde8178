/* SPDX-License-Identifier: GPL-2.0 */
/* Policy tags kept with the inode table (policy_tags.c). */
#ifndef FUSEBPFD_POLICY_TAGS_H
#define FUSEBPFD_POLICY_TAGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "policy_judge.h"

struct daemon;
struct inode;

/*
 * Where the owner of an entry comes from, should a class start there (the
 * class root's uid owns the subtree): a known @st, or a stat of @path in
 * @dirfd, done only then; @missing if the entry does not exist.
 */
struct owner_src {
	const struct stat *st;
	int dirfd;
	const char *path;
	uid_t missing;
};

/* policy_owner.get of a struct owner_src */
uid_t policy_owner_of(void *arg);
#define POLICY_OWNER(src)	((struct policy_owner){ policy_owner_of, (src) })

/* The tag of @inode, recomputed if stale (maps needed) */
struct policy_tag policy_inode_tag(struct daemon *d, struct inode *inode);
/* @inode was looked up as @name in @parent: its tag (no-op without maps) */
void policy_tag_lookup(struct daemon *d, struct inode *parent,
		       struct inode *inode, const char *name,
		       const struct stat *st);

/* mode bpf: what the kernel filter gets for an inode */
struct policy_kernel_entry {
	uint32_t tag;		/* FUSEBPF_TAG() | FUSEBPF_KTAG_* */
	bool lookup_server;	/* its children's lookups come to us */
	bool served;		/* its class is served by the daemon */
};
void policy_kernel_entry(struct daemon *d, struct inode *inode,
			 struct policy_kernel_entry *ke);

#endif /* FUSEBPFD_POLICY_TAGS_H */
