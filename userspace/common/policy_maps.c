// SPDX-License-Identifier: GPL-2.0
/*
 * The pinned policy maps of an instance: opening them and replacing the
 * policy they hold. Used by fusebpfd at start and by `fusebpfctl policy
 * load` on a running instance.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "fusebpf/policy_compile.h"

void fusebpf_policy_pin_dir(const char *instance, char *buf, size_t len)
{
	snprintf(buf, len, FUSEBPF_POLICY_PIN_DIR "/%s", instance);
}

static const struct {
	const char *name;
	size_t offset;
} map_fields[] = {
	{ "rules", offsetof(struct fusebpf_policy_maps, rules) },
	{ "uid_classes", offsetof(struct fusebpf_policy_maps, uid_classes) },
	{ "paths", offsetof(struct fusebpf_policy_maps, paths) },
	{ "hidden_names", offsetof(struct fusebpf_policy_maps, hidden_names) },
	{ "owners", offsetof(struct fusebpf_policy_maps, owners) },
	{ "meta", offsetof(struct fusebpf_policy_maps, meta) },
	{ "audit_events", offsetof(struct fusebpf_policy_maps, audit_events) },
};

#define NR_MAPS (sizeof(map_fields) / sizeof(map_fields[0]))

static int *field(struct fusebpf_policy_maps *m, size_t i)
{
	return (int *)((char *)m + map_fields[i].offset);
}

void fusebpf_policy_maps_close(struct fusebpf_policy_maps *m)
{
	for (size_t i = 0; i < NR_MAPS; i++) {
		if (*field(m, i) >= 0)
			close(*field(m, i));
		*field(m, i) = -1;
	}
}

int fusebpf_policy_maps_open(const char *instance,
			     struct fusebpf_policy_maps *m)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int ret = 0;

	for (size_t i = 0; i < NR_MAPS; i++)
		*field(m, i) = -1;
	fusebpf_policy_pin_dir(instance, dir, sizeof(dir));
	for (size_t i = 0; i < NR_MAPS && !ret; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_fields[i].name);
		*field(m, i) = bpf_obj_get(path);
		if (*field(m, i) < 0)
			ret = -errno;
	}
	if (ret)
		fusebpf_policy_maps_close(m);
	return ret;
}

static int map_fail(char *err, size_t errlen, const char *map, int e)
{
	snprintf(err, errlen, "updating map %s: %s", map, strerror(e));
	return -1;
}

/* Deletes every key of a hash map for which @keep returns false. */
static int prune(int fd, size_t key_size,
		 bool (*keep)(const void *key, const struct fusebpf_policy *p),
		 const struct fusebpf_policy *p)
{
	char *key = calloc(2, key_size), *next = key + key_size;
	void *prev = NULL;
	int ret = 0;

	if (!key)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		if (!keep(key, p) && bpf_map_delete_elem(fd, key) &&
		    errno != ENOENT) {
			ret = -errno;
			break;
		}
		/* deleting the current key makes next_key restart: harmless */
		prev = key;
	}
	free(key);
	return ret;
}

static bool keep_uid(const void *key, const struct fusebpf_policy *p)
{
	__u32 uid;

	memcpy(&uid, key, sizeof(uid));
	for (size_t i = 0; i < p->nr_uids; i++)
		if (p->uids[i].uid == uid)
			return true;
	return false;
}

static bool keep_path(const void *key, const struct fusebpf_policy *p)
{
	for (size_t i = 0; i < p->nr_paths; i++)
		if (!memcmp(&p->paths[i].key, key, sizeof(p->paths[i].key)))
			return true;
	return false;
}

static bool keep_name(const void *key, const struct fusebpf_policy *p)
{
	for (size_t i = 0; i < p->nr_names; i++)
		if (!memcmp(&p->names[i].key, key, sizeof(p->names[i].key)))
			return true;
	return false;
}

static int write_maps(const struct fusebpf_policy_maps *m,
		      const struct fusebpf_policy *p, char *err, size_t errlen)
{
	int ret;

	/* rules first: new classes only become reachable through paths */
	for (__u32 cls = 0; cls < FUSEBPF_POLICY_CLASSES; cls++)
		if (bpf_map_update_elem(m->rules, &cls, &p->rules[cls], BPF_ANY))
			return map_fail(err, errlen, "rules", errno);
	for (size_t i = 0; i < p->nr_uids; i++)
		if (bpf_map_update_elem(m->uid_classes, &p->uids[i].uid,
					&p->uids[i].bits, BPF_ANY))
			return map_fail(err, errlen, "uid_classes", errno);
	ret = prune(m->uid_classes, sizeof(__u32), keep_uid, p);
	if (ret)
		return map_fail(err, errlen, "uid_classes", -ret);
	for (size_t i = 0; i < p->nr_paths; i++)
		if (bpf_map_update_elem(m->paths, &p->paths[i].key,
					&p->paths[i].val, BPF_ANY))
			return map_fail(err, errlen, "paths", errno);
	ret = prune(m->paths, sizeof(struct fusebpf_path_key), keep_path, p);
	if (ret)
		return map_fail(err, errlen, "paths", -ret);
	for (size_t i = 0; i < p->nr_names; i++)
		if (bpf_map_update_elem(m->hidden_names, &p->names[i].key,
					&p->names[i].val, BPF_ANY))
			return map_fail(err, errlen, "hidden_names", errno);
	ret = prune(m->hidden_names, sizeof(struct fusebpf_name_key),
		    keep_name, p);
	if (ret)
		return map_fail(err, errlen, "hidden_names", -ret);
	return 0;
}

/* meta.loading for this process: after a live loader, or over a dead one */
static void load_begin(struct fusebpf_policy_meta *meta)
{
	struct timespec tick = { 0, 1000000 };
	__u32 me = getpid(), cur;

	for (;;) {
		cur = 0;
		if (__atomic_compare_exchange_n(&meta->loading, &cur, me, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
		if (kill(cur, 0) && errno == ESRCH &&
		    __atomic_compare_exchange_n(&meta->loading, &cur, me, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
		nanosleep(&tick, NULL);
	}
}

/*
 * The maps are rewritten in place between two marks in meta (the seqlock
 * of include/fusebpf/policy.h): meta.loading set first, then the maps, then
 * meta.generation (the daemon re-tags its inodes against the new tree,
 * also after a failed load: the maps changed), then meta.loading cleared.
 * meta is written through its mmap, field by field, so that the daemon's
 * own fields (applied) and the filter's (audit_lost) stay as they are.
 */
int fusebpf_policy_apply(const struct fusebpf_policy_maps *m,
			 const struct fusebpf_policy *p, char *err,
			 size_t errlen)
{
	size_t len = sysconf(_SC_PAGESIZE);
	struct fusebpf_policy_meta *meta;
	int ret;

	meta = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->meta, 0);
	if (meta == MAP_FAILED)
		return map_fail(err, errlen, "meta (mmap)", errno);
	load_begin(meta);
	ret = write_maps(m, p, err, errlen);
	if (!ret)
		__atomic_store_n(&meta->classes, p->nr_classes, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&meta->generation, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&meta->loading, 0, __ATOMIC_SEQ_CST);
	munmap(meta, len);
	return ret;
}
