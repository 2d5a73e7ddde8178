// SPDX-License-Identifier: GPL-2.0
/* Nodeid <-> backing key registry; see include/fusebpf/node_registry.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fusebpf/node_registry.h"

#define INITIAL_BUCKETS 1024

static uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* FNV-1a over kind, len and bytes */
static uint64_t hash_key(const struct fusebpf_node_key *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ key->kind;

	for (uint32_t i = 0; i < key->len; i++) {
		h ^= key->data[i];
		h *= 0x100000001b3ULL;
	}
	return hash_u64(h);
}

static bool key_equal(const struct fusebpf_node_key *a,
		      const struct fusebpf_node_key *b)
{
	return a->kind == b->kind && a->len == b->len &&
	       memcmp(a->data, b->data, a->len) == 0;
}

int fusebpf_registry_init(struct fusebpf_node_registry *reg,
			  uint64_t first_nodeid, size_t retired_max,
			  const struct fusebpf_node_ops *ops, void *ops_data)
{
	memset(reg, 0, sizeof(*reg));
	reg->nbuckets = INITIAL_BUCKETS;
	reg->by_id = calloc(reg->nbuckets, sizeof(*reg->by_id));
	reg->by_key = calloc(reg->nbuckets, sizeof(*reg->by_key));
	if (!reg->by_id || !reg->by_key) {
		free(reg->by_id);
		free(reg->by_key);
		return -ENOMEM;
	}
	reg->next_nodeid = first_nodeid;
	reg->retired_max = retired_max;
	reg->ops = ops;
	reg->ops_data = ops_data;
	return 0;
}

void fusebpf_registry_destroy(struct fusebpf_node_registry *reg)
{
	for (size_t b = 0; b < reg->nbuckets; b++) {
		struct fusebpf_node *node = reg->by_id[b];

		while (node) {
			struct fusebpf_node *next = node->id_next;

			if (node->nlookup)
				reg->ops->retire(node, reg->ops_data);
			reg->ops->release(node, reg->ops_data);
			node = next;
		}
	}
	free(reg->by_id);
	free(reg->by_key);
	memset(reg, 0, sizeof(*reg));
}

void fusebpf_key_handle(struct fusebpf_node_key *key, int handle_type,
			const void *bytes, size_t len)
{
	int32_t type = handle_type;

	memset(key, 0, sizeof(*key));
	if (len > FUSEBPF_NODE_KEY_MAX - sizeof(type))
		len = FUSEBPF_NODE_KEY_MAX - sizeof(type);
	key->kind = FUSEBPF_KEY_HANDLE;
	memcpy(key->data, &type, sizeof(type));
	memcpy(key->data + sizeof(type), bytes, len);
	key->len = sizeof(type) + len;
}

void fusebpf_key_fallback(struct fusebpf_node_key *key, uint64_t dev,
			  uint64_t ino)
{
	memset(key, 0, sizeof(*key));
	key->kind = FUSEBPF_KEY_FALLBACK;
	memcpy(key->data, &dev, sizeof(dev));
	memcpy(key->data + sizeof(dev), &ino, sizeof(ino));
	key->len = sizeof(dev) + sizeof(ino);
}

static size_t id_bucket(const struct fusebpf_node_registry *reg, uint64_t id)
{
	return hash_u64(id) & (reg->nbuckets - 1);
}

static size_t key_bucket(const struct fusebpf_node_registry *reg,
			 const struct fusebpf_node_key *key)
{
	return hash_key(key) & (reg->nbuckets - 1);
}

struct fusebpf_node *fusebpf_registry_find_id(struct fusebpf_node_registry *reg,
					      uint64_t nodeid)
{
	struct fusebpf_node *node = reg->by_id[id_bucket(reg, nodeid)];

	while (node && node->nodeid != nodeid)
		node = node->id_next;
	return node;
}

struct fusebpf_node *fusebpf_registry_find_key(struct fusebpf_node_registry *reg,
					       const struct fusebpf_node_key *key)
{
	struct fusebpf_node *node = reg->by_key[key_bucket(reg, key)];

	while (node && !key_equal(&node->key, key))
		node = node->key_next;
	return node;
}

static void link_node(struct fusebpf_node_registry *reg,
		      struct fusebpf_node *node)
{
	size_t ib = id_bucket(reg, node->nodeid);
	size_t kb = key_bucket(reg, &node->key);

	node->id_next = reg->by_id[ib];
	reg->by_id[ib] = node;
	if (node->unkeyed)
		return;
	node->key_next = reg->by_key[kb];
	reg->by_key[kb] = node;
}

static void unlink_key(struct fusebpf_node_registry *reg,
		       struct fusebpf_node *node)
{
	struct fusebpf_node **pp = &reg->by_key[key_bucket(reg, &node->key)];

	if (node->unkeyed)
		return;
	while (*pp != node)
		pp = &(*pp)->key_next;
	*pp = node->key_next;
	node->key_next = NULL;
}

/* Doubles the tables when they get crowded; on ENOMEM chains just grow. */
static void maybe_grow(struct fusebpf_node_registry *reg)
{
	struct fusebpf_node **old_id = reg->by_id;
	size_t old_n = reg->nbuckets;
	struct fusebpf_node **by_id, **by_key;

	if (reg->count < reg->nbuckets)
		return;
	by_id = calloc(old_n * 2, sizeof(*by_id));
	by_key = calloc(old_n * 2, sizeof(*by_key));
	if (!by_id || !by_key) {
		free(by_id);
		free(by_key);
		return;
	}
	free(reg->by_key);
	reg->by_id = by_id;
	reg->by_key = by_key;
	reg->nbuckets = old_n * 2;
	for (size_t b = 0; b < old_n; b++) {
		struct fusebpf_node *node = old_id[b];

		while (node) {
			struct fusebpf_node *next = node->id_next;

			link_node(reg, node);
			node = next;
		}
	}
	free(old_id);
}

static void unlink_node(struct fusebpf_node_registry *reg,
			struct fusebpf_node *node)
{
	struct fusebpf_node **pp = &reg->by_id[id_bucket(reg, node->nodeid)];

	while (*pp != node)
		pp = &(*pp)->id_next;
	*pp = node->id_next;
	unlink_key(reg, node);
	reg->count--;
}

static uint32_t random_generation(void)
{
	uint32_t gen = 0;

	while (gen == 0)
		if (getrandom(&gen, sizeof(gen), 0) != sizeof(gen))
			gen = 0;	/* EINTR: try again */
	return gen;
}

int fusebpf_registry_insert(struct fusebpf_node_registry *reg,
			    struct fusebpf_node *node, uint64_t nodeid)
{
	maybe_grow(reg);
	node->nodeid = nodeid ? nodeid : reg->next_nodeid++;
	node->generation = nodeid ? 0 : random_generation();
	node->nlookup = 0;
	node->holds = 0;
	node->unkeyed = false;
	node->lru_prev = node->lru_next = NULL;
	link_node(reg, node);
	reg->count++;
	return 0;
}

static void lru_remove(struct fusebpf_node_registry *reg,
		       struct fusebpf_node *node)
{
	if (node->lru_prev)
		node->lru_prev->lru_next = node->lru_next;
	else
		reg->lru_head = node->lru_next;
	if (node->lru_next)
		node->lru_next->lru_prev = node->lru_prev;
	else
		reg->lru_tail = node->lru_prev;
	node->lru_prev = node->lru_next = NULL;
	reg->retired--;
}

static void lru_append(struct fusebpf_node_registry *reg,
		       struct fusebpf_node *node)
{
	node->lru_next = NULL;
	node->lru_prev = reg->lru_tail;
	if (reg->lru_tail)
		reg->lru_tail->lru_next = node;
	else
		reg->lru_head = node;
	reg->lru_tail = node;
	reg->retired++;
}

void fusebpf_registry_ref(struct fusebpf_node_registry *reg,
			  struct fusebpf_node *node, uint64_t n)
{
	bool listed = reg->lru_head == node || node->lru_prev;

	if (listed && n)
		lru_remove(reg, node);
	node->nlookup += n;
}

void fusebpf_registry_unref(struct fusebpf_node_registry *reg,
			    struct fusebpf_node *node, uint64_t n)
{
	if (n > node->nlookup)
		n = node->nlookup;
	node->nlookup -= n;
	if (node->nlookup || n == 0)
		return;
	reg->ops->retire(node, reg->ops_data);
	if (node->holds) {
		/* a parent of known nodes: kept, and not by a reusable key */
		if (node->key.kind != FUSEBPF_KEY_HANDLE) {
			unlink_key(reg, node);
			node->unkeyed = true;
		}
		return;
	}
	if (node->key.kind != FUSEBPF_KEY_HANDLE) {
		unlink_node(reg, node);
		reg->ops->release(node, reg->ops_data);
		return;
	}
	lru_append(reg, node);
	while (reg->retired > reg->retired_max) {
		struct fusebpf_node *oldest = reg->lru_head;

		lru_remove(reg, oldest);
		unlink_node(reg, oldest);
		reg->ops->release(oldest, reg->ops_data);
	}
}

void fusebpf_registry_hold(struct fusebpf_node_registry *reg,
			   struct fusebpf_node *node)
{
	if (node->holds++ == 0 && (reg->lru_head == node || node->lru_prev))
		lru_remove(reg, node);
}

/*
 * The last hold of a retired node: it becomes evictable (handle key; the
 * next retirement trims the list) or goes (fallback key).
 */
void fusebpf_registry_unhold(struct fusebpf_node_registry *reg,
			     struct fusebpf_node *node)
{
	if (!node->holds || --node->holds || node->nlookup)
		return;
	if (node->key.kind == FUSEBPF_KEY_HANDLE) {
		lru_append(reg, node);
		return;
	}
	unlink_node(reg, node);
	reg->ops->release(node, reg->ops_data);
}
