// SPDX-License-Identifier: GPL-2.0
/* Unit tests: nodeid <-> handle registry (identity, retirement, eviction). */
#include <stdlib.h>
#include <string.h>

#include "fusebpf/node_registry.h"
#include "unit.h"

static int retired, released;

static void on_retire(struct fusebpf_node *node, void *data)
{
	(void)node;
	(void)data;
	retired++;
}

static void on_release(struct fusebpf_node *node, void *data)
{
	(void)data;
	released++;
	free(node);
}

static const struct fusebpf_node_ops ops = {
	.retire = on_retire,
	.release = on_release,
};

static struct fusebpf_node *add_handle(struct fusebpf_node_registry *reg,
				       int type, const char *bytes)
{
	struct fusebpf_node *node = calloc(1, sizeof(*node));

	fusebpf_key_handle(&node->key, type, bytes, strlen(bytes));
	fusebpf_registry_insert(reg, node, 0);
	fusebpf_registry_ref(reg, node, 1);
	return node;
}

static void test_identity(void)
{
	struct fusebpf_node_registry reg;
	struct fusebpf_node_key key, other;
	struct fusebpf_node *a, *b, *root;

	CHECK(fusebpf_registry_init(&reg, 2, 4, &ops, NULL) == 0);
	root = calloc(1, sizeof(*root));
	fusebpf_key_handle(&root->key, 1, "root", 4);
	fusebpf_registry_insert(&reg, root, 1);
	CHECK(root->nodeid == 1 && root->generation == 0);

	a = add_handle(&reg, 1, "ino7-gen1");
	b = add_handle(&reg, 1, "ino7-gen2");	/* inode number reused */
	CHECK(a->nodeid == 2 && b->nodeid == 3);
	CHECK(a->generation != 0 && b->generation != 0);
	fusebpf_key_handle(&key, 1, "ino7-gen1", 9);
	CHECK(fusebpf_registry_find_key(&reg, &key) == a);
	fusebpf_key_handle(&key, 2, "ino7-gen1", 9);	/* other type */
	CHECK(fusebpf_registry_find_key(&reg, &key) == NULL);
	CHECK(fusebpf_registry_find_id(&reg, 3) == b);
	CHECK(fusebpf_registry_find_id(&reg, 99) == NULL);

	fusebpf_key_fallback(&key, 1, 7);
	fusebpf_key_fallback(&other, 1, 8);
	CHECK(key.len == other.len && memcmp(key.data, other.data, key.len));
	fusebpf_registry_destroy(&reg);
	CHECK(released == 3);
}

static void test_retire_and_evict(void)
{
	struct fusebpf_node_registry reg;
	struct fusebpf_node *n[6], *fb;
	uint64_t ids[6];

	retired = released = 0;
	CHECK(fusebpf_registry_init(&reg, 2, 3, &ops, NULL) == 0);
	for (int i = 0; i < 6; i++) {
		char name[8] = { 'h', (char)('0' + i), 0 };

		n[i] = add_handle(&reg, 1, name);
		ids[i] = n[i]->nodeid;
	}
	fusebpf_registry_ref(&reg, n[0], 2);
	fusebpf_registry_unref(&reg, n[0], 2);
	CHECK(retired == 0 && n[0]->nlookup == 1);
	fusebpf_registry_unref(&reg, n[0], 1);
	CHECK(retired == 1 && fusebpf_node_retired(n[0]));
	/* retired: still found by id (export) and revived by key, same id */
	CHECK(fusebpf_registry_find_id(&reg, ids[0]) == n[0]);
	fusebpf_registry_ref(&reg, n[0], 1);
	CHECK(!fusebpf_node_retired(n[0]) && reg.retired == 0);

	/* retire 5: beyond 3 retired the oldest are evicted */
	for (int i = 1; i < 6; i++)
		fusebpf_registry_unref(&reg, n[i], 5);	/* clamps to nlookup */
	CHECK(reg.retired == 3 && released == 2);
	CHECK(fusebpf_registry_find_id(&reg, ids[1]) == NULL);
	CHECK(fusebpf_registry_find_id(&reg, ids[2]) == NULL);
	CHECK(fusebpf_registry_find_id(&reg, ids[3]) != NULL);

	/* the same file looked up after eviction gets a new nodeid */
	{
		struct fusebpf_node *again = add_handle(&reg, 1, "h1");

		CHECK(again->nodeid > ids[5]);
	}

	/* a fallback node is released as soon as it is forgotten */
	fb = calloc(1, sizeof(*fb));
	fusebpf_key_fallback(&fb->key, 5, 5);
	fusebpf_registry_insert(&reg, fb, 0);
	fusebpf_registry_ref(&reg, fb, 1);
	{
		uint64_t id = fb->nodeid;
		int before = released;

		fusebpf_registry_unref(&reg, fb, 1);
		CHECK(released == before + 1);
		CHECK(fusebpf_registry_find_id(&reg, id) == NULL);
	}
	fusebpf_registry_destroy(&reg);
}

static void test_growth(void)
{
	struct fusebpf_node_registry reg;
	const int count = 5000;
	int found = 0;

	released = 0;
	CHECK(fusebpf_registry_init(&reg, 2, 10, &ops, NULL) == 0);
	for (int i = 0; i < count; i++) {
		struct fusebpf_node *node = calloc(1, sizeof(*node));

		fusebpf_key_fallback(&node->key, 1, i);
		fusebpf_registry_insert(&reg, node, 0);
		fusebpf_registry_ref(&reg, node, 1);
	}
	CHECK(reg.nbuckets >= (size_t)count);
	for (int i = 0; i < count; i++) {
		struct fusebpf_node_key key;
		struct fusebpf_node *node;

		fusebpf_key_fallback(&key, 1, i);
		node = fusebpf_registry_find_key(&reg, &key);
		found += node && fusebpf_registry_find_id(&reg, node->nodeid) == node;
	}
	CHECK(found == count);
	fusebpf_registry_destroy(&reg);
	CHECK(released == count);
}

/* a node named as a parent stays while held, also past the capacity */
static void test_holds(void)
{
	struct fusebpf_node_registry reg;
	struct fusebpf_node *dir, *fdir, *other;
	struct fusebpf_node_key key;
	uint64_t dir_id, fdir_id;

	released = 0;
	CHECK(fusebpf_registry_init(&reg, 2, 1, &ops, NULL) == 0);
	dir = add_handle(&reg, 1, "dir");
	dir_id = dir->nodeid;
	fusebpf_registry_hold(&reg, dir);
	fusebpf_registry_unref(&reg, dir, 1);
	other = add_handle(&reg, 1, "other");
	fusebpf_registry_unref(&reg, other, 1);
	add_handle(&reg, 1, "third");
	fusebpf_registry_unref(&reg, fusebpf_registry_find_id(&reg, other->nodeid + 1), 1);
	/* capacity 1: "other" went, the held "dir" stays */
	CHECK(released == 1 && fusebpf_registry_find_id(&reg, dir_id) == dir);
	fusebpf_registry_unhold(&reg, dir);
	CHECK(fusebpf_registry_find_id(&reg, dir_id) == dir && reg.retired == 2);

	/* a held fallback node outlives its retirement, by nodeid only */
	fdir = calloc(1, sizeof(*fdir));
	fusebpf_key_fallback(&fdir->key, 9, 9);
	fusebpf_registry_insert(&reg, fdir, 0);
	fusebpf_registry_ref(&reg, fdir, 1);
	fdir_id = fdir->nodeid;
	fusebpf_registry_hold(&reg, fdir);
	released = 0;
	fusebpf_registry_unref(&reg, fdir, 1);
	fusebpf_key_fallback(&key, 9, 9);
	CHECK(released == 0 && fusebpf_registry_find_id(&reg, fdir_id) == fdir);
	CHECK(fusebpf_registry_find_key(&reg, &key) == NULL);
	fusebpf_registry_unhold(&reg, fdir);
	CHECK(released == 1 && fusebpf_registry_find_id(&reg, fdir_id) == NULL);
	fusebpf_registry_destroy(&reg);
}

int main(void)
{
	test_identity();
	test_retire_and_evict();
	test_growth();
	test_holds();
	return unit_report();
}
