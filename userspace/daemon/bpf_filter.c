// SPDX-License-Identifier: GPL-2.0
/*
 * Mode bpf with a policy: the policy filter (bpf/policy_filter.bpf.c) in
 * the kernel. Its skeleton reuses the policy maps the policy skeleton
 * created (policy.c), so both the kernel filter and the daemon decide from
 * the same maps. The struct_ops map is attached through a BPF link where
 * the kernel has them (the registration ends with the daemon), under a
 * per-daemon name, opened by name on /dev/fuse and attached at the root;
 * lookup replies let children inherit it (mode.c). Its per-opcode counters
 * are pinned next to the policy maps as `filter_counts`. Its state is
 * d->filter (NULL: no filter). Started in mode
 * bpf whenever the policy maps exist (also without policy=: empty rules
 * let everything through, and a later policy load applies at once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/policy.h"
#include "uapi/linux/fuse_bpf.h"
#include "policy_filter.skel.h"
#include "fusebpfd.h"
#include "notify.h"
#include "policy_maps.h"
#include "policy_tags.h"

#ifndef BPF_F_LINK
#define BPF_F_LINK		(1U << 13)
#endif
#define ATTACH_STRUCT_OPS	44	/* BPF_STRUCT_OPS, newer than our headers */

struct bpf_filter {
	struct policy_filter_bpf *skel;
	const struct fusebpf_policy_meta *meta;	/* read-only mmap */
	size_t meta_len;
	char counts_pin[PATH_MAX + 32];	/* filter_counts, "" unpinned */
	/* the root's attachment: without the filter's part, and as sent */
	struct fuse_bpf_root_set root_base, root_sent;
	struct bpf_link *link;		/* without kernel links: update + delete */
	int link_fd;			/* kernel link: ends with us */
	uint32_t id;			/* FUSE_DEV_IOC_BPF_FILTER_OPEN */
	char name[FUSE_BPF_FILTER_NAME_MAX];
};

/*
 * The skeleton's object with the struct_ops .name replaced: names are
 * global in the kernel and libbpf 1.1 has no way to set struct_ops data.
 */
static struct policy_filter_bpf *open_named(const char *name)
{
	static const char want[FUSE_BPF_FILTER_NAME_MAX] = FUSEBPF_FILTER_NAME;
	struct policy_filter_bpf *obj = calloc(1, sizeof(*obj));
	unsigned char *elf = NULL, *hit = NULL;
	size_t size, i;

	if (!obj || policy_filter_bpf__create_skeleton(obj))
		goto fail;
	size = obj->skeleton->data_sz;
	elf = malloc(size);
	if (!elf)
		goto fail;
	memcpy(elf, obj->skeleton->data, size);
	for (i = 0; i + sizeof(want) <= size; i++) {
		if (memcmp(elf + i, want, sizeof(want)))
			continue;
		if (hit) {	/* must be the one struct_ops field */
			errno = EINVAL;
			goto fail;
		}
		hit = elf + i;
	}
	if (!hit) {
		errno = EINVAL;
		goto fail;
	}
	memset(hit, 0, sizeof(want));
	memcpy(hit, name, strlen(name));
	obj->skeleton->data = elf;
	if (bpf_object__open_skeleton(obj->skeleton, NULL))
		goto fail;
	return obj;	/* elf stays: libbpf may keep pointing into it */
fail:
	free(elf);
	if (obj)
		policy_filter_bpf__destroy(obj);
	return NULL;
}

static int reuse_policy_maps(struct daemon *d, struct policy_filter_bpf *s)
{
	struct bpf_map *map;
	int fd;

	bpf_object__for_each_map(map, s->obj) {
		if (bpf_map__is_internal(map) || map == s->maps.filter_counts ||
		    map == s->maps.name_scratch ||
		    map == s->maps.hidden_folded ||
		    map == s->maps.fusebpf_policy_ops)
			continue;
		fd = policy_map_fd(d, bpf_map__name(map));
		if (fd < 0 || bpf_map__reuse_fd(map, fd)) {
			log_error("mode bpf: policy filter: no policy map %s",
				  bpf_map__name(map));
			return -1;
		}
	}
	return 0;
}

static int attach_struct_ops(struct bpf_filter *f,
			     struct policy_filter_bpf *s)
{
	int map_fd = bpf_map__fd(s->maps.fusebpf_policy_ops);

	/* BPF_F_LINK maps: libbpf 1.1 stores the value, we add the link */
	f->link = bpf_map__attach_struct_ops(s->maps.fusebpf_policy_ops);
	if (!f->link)
		return -1;
	if (bpf_map__map_flags(s->maps.fusebpf_policy_ops) & BPF_F_LINK) {
		f->link_fd = bpf_link_create(map_fd, 0, ATTACH_STRUCT_OPS,
					     NULL);
		if (f->link_fd < 0)
			return -1;
	}
	return 0;
}

/* hidden_folded: one key of the hidden names (ASCII lowercased) */
static void fold_put(int fd, struct fusebpf_name_key *keys, size_t *n,
		     const struct fusebpf_name_key *key,
		     const struct fusebpf_hidden *h)
{
	struct fusebpf_hidden old;

	/* two spellings of one name: exempt only who both exempt */
	if (!bpf_map_lookup_elem(fd, key, &old)) {
		for (size_t i = 0; i < *n; i++)
			if (!memcmp(&keys[i], key, sizeof(*key))) {
				old.hide_exempt &= h->hide_exempt;
				bpf_map_update_elem(fd, key, &old, BPF_ANY);
				return;
			}
	}
	if (!bpf_map_update_elem(fd, key, h, BPF_ANY))
		keys[(*n)++] = *key;
}

/*
 * The filter's hidden_folded map from the policy's hidden_names (see
 * bpf/policy_filter.bpf.c): what casefolded directories hide under every
 * ASCII spelling. New keys go in before stale ones go, so a name hidden
 * before and after a policy load is never missing.
 */
static void fill_hidden_folded(struct daemon *d)
{
	struct bpf_filter *f = d->filter;
	int fd = f->skel ? bpf_map__fd(f->skel->maps.hidden_folded) : -1;
	int src = policy_map_fd(d, "hidden_names");
	size_t n = 0, max = 2 * FUSEBPF_POLICY_MAX_HIDDEN + 1;
	struct fusebpf_name_key key, *prev = NULL, *keys;
	struct fusebpf_hidden h, none = { 0 };

	if (fd < 0 || src < 0)
		return;
	keys = calloc(max, sizeof(*keys));
	if (!keys)
		return;
	while (n + 3 <= max && !bpf_map_get_next_key(src, prev, &key)) {
		struct fusebpf_name_key folded = key, marker = { .cls = key.cls };

		prev = &key;
		if (bpf_map_lookup_elem(src, &key, &h))
			continue;
		for (char *c = folded.name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c += 'a' - 'A';
		fold_put(fd, keys, &n, &folded, &h);
		/* some name is hidden in this class: non-ASCII names ask us */
		fold_put(fd, keys, &n, &marker, &none);
	}
	prev = NULL;
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		bool keep = false;

		for (size_t i = 0; i < n && !keep; i++)
			keep = !memcmp(&keys[i], &key, sizeof(key));
		if (!keep && !bpf_map_delete_elem(fd, &key))
			continue;	/* the next key after a deleted one: again */
		prev = &key;
	}
	free(keys);
}

/* The policy generation, read where policy loads write it (no syscall) */
static void map_meta(struct daemon *d)
{
	struct bpf_filter *f = d->filter;
	long page = sysconf(_SC_PAGESIZE);
	int fd = policy_map_fd(d, "meta");
	void *m;

	if (fd < 0)
		return;
	m = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		log_error("mode bpf: cannot map the policy meta map: %s",
			  strerror(errno));
		return;
	}
	f->meta = m;
	f->meta_len = page;
}

uint64_t bpf_filter_policy_generation(struct daemon *d)
{
	struct bpf_filter *f = d->filter;

	if (!f || !f->meta)
		return 0;
	return __atomic_load_n(&f->meta->generation, __ATOMIC_ACQUIRE);
}

/* Does the policy name any path? (a policy without paths has no key) */
static bool policy_has_paths(struct daemon *d)
{
	struct fusebpf_path_key key;
	int fd = policy_map_fd(d, "paths");

	return fd >= 0 && bpf_map_get_next_key(fd, NULL, &key) == 0;
}

/*
 * The root's filter, tag and flags. A policy path below the root makes it
 * send its children's lookups and its listing to us (policy_kernel_entry);
 * without any path (no policy=, or one of hidden names only) everything
 * below it is resolved in the kernel as with no filter at all.
 */
static void root_entry(struct daemon *d, struct fuse_bpf_root_set *rs)
{
	struct policy_kernel_entry ke;

	policy_kernel_entry(d, d->table.root, &ke);
	rs->filter_id = d->filter->id;
	rs->tag = ke.tag;
	rs->flags |= FUSE_BPF_ENTRY_TAG;
	if (ke.lookup_server && policy_has_paths(d)) {
		rs->flags |= FUSE_BPF_ENTRY_LOOKUP_SERVER;
	} else {
		rs->tag &= ~FUSEBPF_KTAG_LIST_BY_DAEMON;
	}
}

/* mode.c sends it with FUSE_DEV_IOC_BPF_ROOT_SET */
void bpf_filter_root_entry(struct daemon *d, struct fuse_bpf_root_set *rs)
{
	d->filter->root_base = *rs;
	root_entry(d, rs);
	d->filter->root_sent = *rs;
}

/*
 * Kernel-resolved entries of the root are unknown to us: drop each name
 * of the backing root (also dentries in use: new walks look them up
 * again, through us once the root sends its lookups here).
 */
static void invalidate_root_names(struct daemon *d)
{
	int fd = openat(d->table.root->fd, ".", O_RDONLY | O_DIRECTORY |
			O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		log_error("mode bpf: policy load: cannot list the backing root: %s",
			  strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		notify_inval_entry(d, FUSE_ROOT_ID, de->d_name);
	}
	closedir(dir);
}

/*
 * After a policy load the root may have to start or stop sending its
 * children's lookups to us: re-attach it (the kernel drops the unused
 * dentries below it), then drop the names in use too. Inodes we handed
 * out are renewed at their next lookup (mode.c, kernel_entry_renew).
 */
void bpf_filter_policy_loaded(struct daemon *d)
{
	struct bpf_filter *f = d->filter;
	struct fuse_bpf_root_set rs;

	if (!f || !f->id)
		return;
	rs = f->root_base;
	fill_hidden_folded(d);
	root_entry(d, &rs);
	if (!memcmp(&rs, &f->root_sent, sizeof(rs)))
		return;
	if (ioctl(fuse_session_fd(d->se), FUSE_DEV_IOC_BPF_ROOT_SET, &rs)) {
		log_error("mode bpf: policy load: FUSE_DEV_IOC_BPF_ROOT_SET: %s",
			  strerror(errno));
		return;
	}
	f->root_sent = rs;
	invalidate_root_names(d);
}

int bpf_filter_start(struct daemon *d, int devfd, uint32_t *filter_id)
{
	struct fuse_bpf_filter_open fo = { 0 };
	struct policy_filter_bpf *s;
	struct bpf_filter *f;
	int id;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->link_fd = -1;
	d->filter = f;	/* bpf_filter_destroy() frees what a failure left */

	snprintf(f->name, sizeof(f->name), "fbpf_%d", (int)getpid());
	s = open_named(f->name);
	if (!s) {
		log_error("mode bpf: policy filter: cannot open: %s",
			  strerror(errno));
		return -1;
	}
	f->skel = s;
	if (reuse_policy_maps(d, s))
		return -1;
	bpf_map__set_map_flags(s->maps.fusebpf_policy_ops, BPF_F_LINK);
	if (policy_filter_bpf__load(s)) {
		/* a kernel without struct_ops links: registered until we stop */
		policy_filter_bpf__destroy(s);
		s = open_named(f->name);
		f->skel = s;
		if (!s || reuse_policy_maps(d, s) || policy_filter_bpf__load(s)) {
			log_error("mode bpf: policy filter: the kernel refuses it (load): %s",
				  strerror(errno));
			return -1;
		}
	}
	if (attach_struct_ops(f, s)) {
		log_error("mode bpf: policy filter: cannot attach the struct_ops: %s",
			  strerror(errno));
		return -1;
	}
	memcpy(fo.name, f->name, strlen(f->name));
	id = ioctl(devfd, FUSE_DEV_IOC_BPF_FILTER_OPEN, &fo);
	if (id <= 0) {
		log_error("mode bpf: FUSE_DEV_IOC_BPF_FILTER_OPEN %s: %s",
			  f->name, id < 0 ? strerror(errno) : "bad id 0");
		return -1;
	}
	f->id = id;
	*filter_id = id;
	map_meta(d);
	fill_hidden_folded(d);
	return 0;
}

int bpf_filter_pin(struct daemon *d, const char *pin_dir)
{
	struct bpf_filter *f = d->filter;
	char path[PATH_MAX + 32];

	if (!f || !f->skel)
		return 0;
	snprintf(path, sizeof(path), "%s/filter_counts", pin_dir);
	if (bpf_map__pin(f->skel->maps.filter_counts, path)) {
		log_error("mode bpf: cannot pin %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(f->counts_pin, sizeof(f->counts_pin), "%s", path);
	return 0;
}

void bpf_filter_destroy(struct daemon *d)
{
	struct bpf_filter *f = d->filter;

	if (!f)
		return;
	/* before the policy maps go: their directory must end up empty */
	if (f->counts_pin[0])
		unlink(f->counts_pin);
	if (f->meta)
		munmap((void *)f->meta, f->meta_len);
	if (f->link_fd >= 0)
		close(f->link_fd);
	bpf_link__destroy(f->link);
	if (f->skel)
		policy_filter_bpf__destroy(f->skel);
	free(f);
	d->filter = NULL;
}
