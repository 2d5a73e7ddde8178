/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Identity of FUSE inodes: nodeid <-> backing inode key.
 *
 * A key is a file handle of the backing filesystem (handle type + bytes,
 * which include the inode generation, so a reused inode number gives a new
 * key) or, where the filesystem has no handles, st_dev + st_ino (a
 * fallback node lives only while its O_PATH fd pins the inode). Nodeids
 * come from a 64-bit counter and are never reused, so a (nodeid,
 * generation) pair can never name two backing inodes. The generation is
 * random per node (fixed for its life): a guessed or corrupted export
 * handle (nodeid, generation) then does not name another live node either.
 *
 * When the kernel forgets a node, a handle-keyed node is *retired*, not
 * freed: it stays findable by nodeid (export handles: LOOKUP "." after
 * drop_caches) and by key (a later lookup of the same file gets the same
 * nodeid) until it is evicted, oldest first, beyond a capacity. A
 * fallback-keyed node cannot be retired (its inode number may be reused as
 * soon as nobody holds the inode) and is freed at once.
 *
 * Holds: a node other nodes name as their parent (where they were last
 * seen) is held, so that their place stays resolvable. A held retired node
 * is never evicted; a held retired fallback node is kept by nodeid only
 * (no longer findable by key: its inode number may be reused) until its
 * last hold goes.
 *
 * The registry is intrusive and not locked: the caller embeds a struct
 * fusebpf_node and serializes calls.
 */
#ifndef FUSEBPF_NODE_REGISTRY_H
#define FUSEBPF_NODE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fusebpf_node_ops;

#define FUSEBPF_NODE_KEY_MAX	(128 + 8)	/* MAX_HANDLE_SZ + type */

enum fusebpf_key_kind {
	FUSEBPF_KEY_HANDLE   = 1,
	FUSEBPF_KEY_FALLBACK = 2,
};

struct fusebpf_node_key {
	uint32_t kind;		/* enum fusebpf_key_kind */
	uint32_t len;		/* bytes used in data */
	unsigned char data[FUSEBPF_NODE_KEY_MAX];
};

struct fusebpf_node {
	uint64_t nodeid;
	uint32_t generation;	/* random, nonzero; 0 for an explicit nodeid
				   (the root, as the kernel's root inode) */
	uint64_t nlookup;	/* kernel references; 0 = retired */
	uint32_t holds;		/* nodes naming it as their parent */
	bool unkeyed;		/* out of the key table (held fallback) */
	struct fusebpf_node_key key;
	struct fusebpf_node *id_next;	/* hash chains */
	struct fusebpf_node *key_next;
	struct fusebpf_node *lru_prev;	/* retired list, oldest first */
	struct fusebpf_node *lru_next;
};

struct fusebpf_node_registry {
	struct fusebpf_node **by_id;
	struct fusebpf_node **by_key;
	size_t nbuckets;	/* power of two */
	size_t count;		/* live + retired */
	uint64_t next_nodeid;
	struct fusebpf_node *lru_head, *lru_tail;
	size_t retired, retired_max;
	const struct fusebpf_node_ops *ops;
	void *ops_data;
};

struct fusebpf_node_ops {
	/* the kernel dropped its last reference: drop backing resources */
	void (*retire)(struct fusebpf_node *node, void *data);
	/* the registry dropped the node (fallback key, eviction): free it */
	void (*release)(struct fusebpf_node *node, void *data);
};

int fusebpf_registry_init(struct fusebpf_node_registry *reg,
			  uint64_t first_nodeid, size_t retired_max,
			  const struct fusebpf_node_ops *ops, void *ops_data);
/* Releases every node (live or retired) and the tables. */
void fusebpf_registry_destroy(struct fusebpf_node_registry *reg);

void fusebpf_key_handle(struct fusebpf_node_key *key, int handle_type,
			const void *bytes, size_t len);
void fusebpf_key_fallback(struct fusebpf_node_key *key, uint64_t dev,
			  uint64_t ino);

struct fusebpf_node *fusebpf_registry_find_id(struct fusebpf_node_registry *reg,
					      uint64_t nodeid);
struct fusebpf_node *fusebpf_registry_find_key(struct fusebpf_node_registry *reg,
					       const struct fusebpf_node_key *key);

/*
 * Inserts @node (key set by the caller) with a fresh nodeid, or with
 * @nodeid when nonzero (the root). Returns 0 or -ENOMEM.
 */
int fusebpf_registry_insert(struct fusebpf_node_registry *reg,
			    struct fusebpf_node *node, uint64_t nodeid);

/* Takes @n kernel references; revives a retired node. */
void fusebpf_registry_ref(struct fusebpf_node_registry *reg,
			  struct fusebpf_node *node, uint64_t n);

/*
 * Drops @n kernel references. At zero the node is retired (ops->retire),
 * and then kept (handle key, or held) or released (fallback key,
 * ops->release).
 */
void fusebpf_registry_unref(struct fusebpf_node_registry *reg,
			    struct fusebpf_node *node, uint64_t n);

/* Another node names @node as its parent / no longer does. */
void fusebpf_registry_hold(struct fusebpf_node_registry *reg,
			   struct fusebpf_node *node);
void fusebpf_registry_unhold(struct fusebpf_node_registry *reg,
			     struct fusebpf_node *node);

static inline bool fusebpf_node_retired(const struct fusebpf_node *node)
{
	return node->nlookup == 0;
}

#endif /* FUSEBPF_NODE_REGISTRY_H */
