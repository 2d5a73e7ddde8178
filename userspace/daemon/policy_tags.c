// SPDX-License-Identifier: GPL-2.0
/*
 * Policy tags kept with the inode table (inode->tag, under the table
 * lock): the class, path tree node and owner of an inode, computed at
 * lookup from the parent's tag and the name (policy_judge_child). After a
 * policy load (meta.generation moved) or a directory move (table.moves),
 * a tag is recomputed from the inode's place (parent and name,
 * inode_table.c), from the nearest ancestor whose tag is still valid.
 * Mode bpf: the tag the kernel filter gets for an inode.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/names.h"
#include "fusebpfd.h"
#include "policy_maps.h"
#include "policy_tags.h"

uid_t policy_owner_of(void *arg)
{
	const struct owner_src *o = arg;
	struct stat st;

	if (o->st)
		return o->st->st_uid;
	if (fstatat(o->dirfd, o->path, &st, AT_SYMLINK_NOFOLLOW))
		return o->missing;
	return st.st_uid;
}

/* computed for this policy generation and no directory moved since */
static bool tag_valid(const struct policy_tag *t, uint64_t gen,
		      uint64_t moves)
{
	return t->gen == gen && t->moves == moves;
}

/*
 * Tag of the entry @name of the directory @dir_id (a nodeid) tagged
 * @parent: names are matched, and a class root's owner read, in that
 * directory (an fd of its own: this may run outside any request).
 */
static struct policy_tag tag_in_dir(struct daemon *d,
				    const struct policy_tag *parent,
				    uint64_t dir_id, const char *name)
{
	struct policy_view v = policy_view(d);
	struct fusebpf_name_dir at;
	struct owner_src o = { .dirfd = -1, .path = name };
	struct policy_tag t;

	/* below every policy path: inherited, nothing to look at */
	if (parent->pnode == FUSEBPF_PATH_NONE)
		return policy_judge_child(&v, parent, name, NULL,
					  &POLICY_OWNER(&o));
	o.dirfd = dir_id ? inode_dup_fd(d, dir_id) : -1;
	at = fusebpf_name_dir_fd(o.dirfd);
	t = policy_judge_child(&v, parent, name, &at, &POLICY_OWNER(&o));
	if (o.dirfd >= 0)
		close(o.dirfd);
	return t;
}

/* one step of an inode's place, see inode_tag */
struct tag_step {
	uint64_t nodeid;
	char *name;
};

/*
 * The inode's tag, recomputed if the policy was reloaded or a directory
 * moved since: from the nearest ancestor whose tag is still valid (or the
 * root) down its place, parent and name at a time. No path is built: the
 * work and memory are O(depth) only for the inodes that need it.
 */
struct policy_tag policy_inode_tag(struct daemon *d, struct inode *inode)
{
	uint64_t gen = policy_generation(d), moves = inode_moves(d);
	struct policy_tag t = policy_root_tag(gen, moves);
	uint64_t top = FUSE_ROOT_ID;
	struct tag_step *steps = NULL, *grown;
	size_t n = 0, cap = 0;
	struct inode *i;

	if (inode == d->table.root)
		return t;
	pthread_mutex_lock(&d->table.lock);
	for (i = inode; i && i != d->table.root &&
	     !tag_valid(&i->tag, gen, moves); i = inode_parent_locked(d, i)) {
		if (!i->name)	/* only reached by export handle: as the root */
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(steps, cap * sizeof(*steps));
			if (!grown)
				break;
			steps = grown;
		}
		steps[n].nodeid = i->node.nodeid;
		steps[n].name = strdup(i->name);
		if (!steps[n].name)
			break;
		n++;
	}
	if (i && i != d->table.root) {
		if (tag_valid(&i->tag, gen, moves))
			t = i->tag;
		top = i->node.nodeid;
	}
	pthread_mutex_unlock(&d->table.lock);
	for (size_t k = n; k-- > 0;) {
		struct fusebpf_node *node;

		t = tag_in_dir(d, &t, k + 1 < n ? steps[k + 1].nodeid : top,
			       steps[k].name);
		pthread_mutex_lock(&d->table.lock);
		node = fusebpf_registry_find_id(&d->table.reg, steps[k].nodeid);
		if (node)
			((struct inode *)node)->tag = t;
		pthread_mutex_unlock(&d->table.lock);
		free(steps[k].name);
	}
	free(steps);
	return t;
}

void policy_tag_lookup(struct daemon *d, struct inode *parent,
		       struct inode *inode, const char *name,
		       const struct stat *st)
{
	struct policy_view v = policy_view(d);
	struct owner_src o = { .st = st };
	struct policy_tag pt, t;
	struct fusebpf_name_dir at;

	if (!d->policy || inode == d->table.root || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return;
	pt = policy_inode_tag(d, parent);
	at = fusebpf_name_dir_fd(parent->fd);
	t = policy_judge_child(&v, &pt, name, &at, &POLICY_OWNER(&o));
	pthread_mutex_lock(&d->table.lock);
	inode->tag = t;
	pthread_mutex_unlock(&d->table.lock);
}

/*
 * The tag the kernel filter gets for @inode, whether the daemon must see
 * the lookups of its children (a policy path goes on below it: children
 * may start other classes, and its listing is filtered here) and whether
 * its class is served by the daemon (no backing at all).
 */
void policy_kernel_entry(struct daemon *d, struct inode *inode,
			 struct policy_kernel_entry *ke)
{
	struct policy_tag t;

	memset(ke, 0, sizeof(*ke));
	if (!d->policy)
		return;
	t = policy_inode_tag(d, inode);
	ke->tag = FUSEBPF_TAG(t.cls, t.slot);
	if (t.slot > FUSEBPF_FILTER_MAX_SLOT)
		ke->tag = FUSEBPF_TAG(t.cls, 0);	/* owner unknown: nobody */
	/*
	 * "decide" classes too: the embedder gets paths, so every inode
	 * there must be one the daemon looked up
	 */
	ke->lookup_server = t.pnode != FUSEBPF_PATH_NONE ||
			    (t.cls && (policy_rule(d, t.cls).flags &
				       FUSEBPF_RULE_DECIDE));
	if (ke->lookup_server)
		ke->tag |= FUSEBPF_KTAG_LIST_BY_DAEMON;
	ke->served = t.cls &&
		     (policy_rule(d, t.cls).flags & FUSEBPF_RULE_SERVED);
	/* the filter then compares names with hidden names as the backing */
	if (S_ISDIR(inode->type)) {
		struct fusebpf_name_dir at = fusebpf_name_dir_fd(inode->fd);

		if (fusebpf_name_dir_casefolded(&at))
			ke->tag |= FUSEBPF_KTAG_CASEFOLD;
	}
}
