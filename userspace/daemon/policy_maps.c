// SPDX-License-Identifier: GPL-2.0
/*
 * The policy maps of bpf/policy.bpf.c (layouts and tag scheme in
 * include/fusebpf/policy.h): created and filled at start (policy=), pinned
 * under /sys/fs/bpf/fusebpf/<instance>/ for `fusebpfctl policy load` and
 * the kernel filter, and read by every decision as the judge's view
 * (policy_judge.h): rules and meta are mmap-ed arrays (no syscall),
 * uid_classes/paths/hidden_names are hash lookups. So a `bpftool map
 * update` or `fusebpfctl policy load` applies to the next operation. A
 * load is atomic: a decision that a load overlapped is taken again
 * (policy_load_settled/policy_load_held).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fusebpf/names.h"
#include "fusebpf/policy_compile.h"
#include "fusebpf/pseudofs.h"
#include "policy.skel.h"
#include "fusebpfd.h"
#include "policy_maps.h"

#define OWNER_SLOTS_MAX		4096

/* A name of the policy maps: a path tree child or a hidden name */
struct fold_name {
	uint32_t parent;	/* path tree node; hidden: class or CLASS_ANY */
	bool hidden;
	char *name;
};

struct policy {
	struct policy_bpf *skel;
	struct fusebpf_policy_maps maps;	/* fds owned by skel */
	const struct fusebpf_rule *rules;	/* mmap of the rules map */
	struct fusebpf_policy_meta *meta;	/* mmap of the meta map */
	size_t rules_len, meta_len;
	int audit_prog;
	char pin_dir[PATH_MAX];
	bool pinned;

	/* owner slots (inode tags are under the table lock) */
	pthread_mutex_t lock;
	uid_t owner_uids[OWNER_SLOTS_MAX];	/* slot i + 1 */
	unsigned int nr_owner_slots;

	/* policy names, for directories whose backing folds case */
	pthread_rwlock_t fold_lock;
	struct fold_name *fold;
	size_t nr_fold;
	uint64_t fold_gen;		/* generation + 1 of fold, 0: none */
};

static void fold_free(struct policy *p);

static uint64_t generation(const struct policy *p)
{
	return __atomic_load_n(&p->meta->generation, __ATOMIC_ACQUIRE);
}

/*
 * Policy loads are atomic for decisions: the seqlock of
 * include/fusebpf/policy.h. A decision starts once no load is writing the
 * maps, and counts only if none began or ended before it was taken.
 */
#define LOAD_WAIT_MS		5000	/* then a decision fails closed */
#define LOAD_POLL_US		200

/*
 * Waits out a load in progress: false if none ended in LOAD_WAIT_MS, or
 * at once if the loader is dead (it left the maps half written)
 */
static bool load_settled(const struct policy *p, uint64_t *gen)
{
	struct timespec tick = { 0, LOAD_POLL_US * 1000L };
	uint32_t loader;

	for (long us = 0; us < LOAD_WAIT_MS * 1000L; us += LOAD_POLL_US) {
		loader = __atomic_load_n(&p->meta->loading, __ATOMIC_ACQUIRE);
		if (!loader) {
			*gen = generation(p);
			return true;
		}
		if (kill((pid_t)loader, 0) && errno == ESRCH)
			return false;
		nanosleep(&tick, NULL);
	}
	return false;
}

/* No load began or ended since load_settled() gave @gen */
static bool load_held(const struct policy *p, uint64_t gen)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);	/* the maps were read */
	return !__atomic_load_n(&p->meta->loading, __ATOMIC_ACQUIRE) &&
	       generation(p) == gen;
}

static struct fusebpf_rule rule_of(const struct policy *p, uint32_t cls)
{
	struct fusebpf_rule r;

	/* a bpftool update may be writing it: copy, then decide on the copy */
	memcpy(&r, &p->rules[cls], sizeof(r));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return r;
}

static uint32_t uid_bits(const struct policy *p, uid_t uid)
{
	uint32_t key = uid, bits = 0;

	if (bpf_map_lookup_elem(p->maps.uid_classes, &key, &bits))
		return 0;
	return bits;
}

/* ---- setup ---- */

static void *map_mmap(struct bpf_map *map, size_t *len)
{
	size_t value = (bpf_map__value_size(map) + 7) & ~7ul;
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	*len = (value * bpf_map__max_entries(map) + page - 1) & ~(page - 1);
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(map), 0);
	return m == MAP_FAILED ? NULL : m;
}

int policy_init(struct daemon *d, const struct fusebpf_policy *compiled)
{
	struct fusebpf_policy empty;
	struct policy *p;
	char err[512];

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_rwlock_init(&p->fold_lock, NULL);
	libbpf_set_print(NULL);
	p->skel = policy_bpf__open_and_load();
	if (!p->skel) {
		int ret = -errno;

		log_error("cannot load the policy maps (bpf/policy.bpf.c): %s",
			  strerror(-ret));
		free(p);
		return ret ? ret : -EINVAL;
	}
	p->maps = (struct fusebpf_policy_maps){
		.rules = bpf_map__fd(p->skel->maps.rules),
		.uid_classes = bpf_map__fd(p->skel->maps.uid_classes),
		.paths = bpf_map__fd(p->skel->maps.paths),
		.hidden_names = bpf_map__fd(p->skel->maps.hidden_names),
		.owners = bpf_map__fd(p->skel->maps.owners),
		.meta = bpf_map__fd(p->skel->maps.meta),
		.audit_events = bpf_map__fd(p->skel->maps.audit_events),
	};
	p->audit_prog = bpf_program__fd(p->skel->progs.audit_emit);
	p->rules = map_mmap(p->skel->maps.rules, &p->rules_len);
	p->meta = map_mmap(p->skel->maps.meta, &p->meta_len);
	d->policy = p;
	if (!p->rules || !p->meta) {
		log_error("cannot mmap the policy maps: %s", strerror(errno));
		policy_destroy(d);
		return -EINVAL;
	}
	memset(&empty, 0, sizeof(empty));
	if (fusebpf_policy_apply(&p->maps, compiled ? compiled : &empty, err,
				 sizeof(err))) {
		log_error("policy: %s", err);
		policy_destroy(d);
		return -EINVAL;
	}
	return 0;
}

static const char *const pinned_maps[] = {
	"rules", "uid_classes", "paths", "hidden_names", "owners", "meta",
	"audit_events",
};

/* Is the object pinned at @path the map @map? */
static bool pinned_is(const char *path, struct bpf_map *map)
{
	struct bpf_map_info ours = { 0 }, there = { 0 };
	__u32 len = sizeof(there), ours_len = sizeof(ours);
	int fd = bpf_obj_get(path);
	bool same;

	if (fd < 0)
		return false;
	same = !bpf_obj_get_info_by_fd(fd, &there, &len) &&
	       !bpf_obj_get_info_by_fd(bpf_map__fd(map), &ours, &ours_len) &&
	       there.id == ours.id;
	close(fd);
	return same;
}

/*
 * Removes the pins of @dir: all of them (@skel NULL: a dead instance's,
 * whatever it pinned there), or only those still of @skel's maps, since
 * once our mount is gone another daemon may get its connection id, hence
 * the instance name, and pin its own maps there before we get here.
 */
static void unpin_all(const char *dir, struct policy_bpf *skel)
{
	char path[PATH_MAX + 32];
	struct bpf_map *map;
	struct dirent *de;
	DIR *dh;

	if (!skel) {
		dh = opendir(dir);
		while (dh && (de = readdir(dh)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(dh), de->d_name, 0);
		if (dh)
			closedir(dh);
		rmdir(dir);
		return;
	}
	for (size_t i = 0; i < sizeof(pinned_maps) / sizeof(*pinned_maps); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pinned_maps[i]);
		map = bpf_object__find_map_by_name(skel->obj, pinned_maps[i]);
		if (map && pinned_is(path, map))
			unlink(path);
	}
	rmdir(dir);
}

void policy_unpin_dead(const char *name)
{
	char dir[PATH_MAX];

	fusebpf_policy_pin_dir(name, dir, sizeof(dir));
	unpin_all(dir, NULL);
}

/*
 * Pins the maps under /sys/fs/bpf/fusebpf/<instance>/. Pins left there are
 * those of a dead instance of the same name (runtime_publish already
 * refused a live one) and are replaced.
 */
int policy_pin(struct daemon *d)
{
	struct policy *p = d->policy;
	struct bpf_map *map;
	char path[PATH_MAX + 32];
	int ret;

	if (!p)
		return 0;
	ret = pseudofs_ensure(&pseudofs_bpffs);
	if (ret) {
		log_error("policy: cannot mount bpffs on %s: %s", pseudofs_bpffs.path,
			  strerror(-ret));
		return d->opts.policy ? ret : 0;
	}
	fusebpf_policy_pin_dir(d->instance, p->pin_dir, sizeof(p->pin_dir));
	if (mkdir(FUSEBPF_POLICY_PIN_DIR, 0700) && errno != EEXIST)
		goto fail;
	unpin_all(p->pin_dir, NULL);
	if (mkdir(p->pin_dir, 0700))
		goto fail;
	p->pinned = true;
	bpf_object__for_each_map(map, p->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->pin_dir,
			 bpf_map__name(map));
		if (bpf_map__pin(map, path))
			goto fail;
	}
	return 0;
fail:
	ret = -errno;
	log_error("policy: cannot pin the maps in %s: %s", p->pin_dir,
		  strerror(-ret));
	/*
	 * Without policy= the maps were only on offer for a later `policy
	 * load`: the (empty) policy keeps working unpinned. Requests are
	 * already being served, so the maps stay.
	 */
	return d->opts.policy ? ret : 0;
}

uint64_t policy_generation(struct daemon *d)
{
	return generation(d->policy);
}

void policy_set_applied(struct daemon *d, uint64_t gen)
{
	__atomic_store_n(&d->policy->meta->applied, gen, __ATOMIC_RELEASE);
}

void policy_destroy(struct daemon *d)
{
	struct policy *p = d->policy;

	if (!p)
		return;
	if (p->pinned)
		unpin_all(p->pin_dir, p->skel);
	if (p->rules)
		munmap((void *)p->rules, p->rules_len);
	if (p->meta)
		munmap(p->meta, p->meta_len);
	policy_bpf__destroy(p->skel);
	pthread_mutex_destroy(&p->lock);
	fold_free(p);
	pthread_rwlock_destroy(&p->fold_lock);
	free(p);
	d->policy = NULL;
}

/* ---- owner slots: the uids that class roots' tags name ---- */

static uint32_t owner_slot(struct policy *p, uid_t uid)
{
	uint32_t slot = 0, key, val = uid;

	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < p->nr_owner_slots && !slot; i++)
		if (p->owner_uids[i] == uid)
			slot = i + 1;
	if (!slot && p->nr_owner_slots < OWNER_SLOTS_MAX) {
		key = p->nr_owner_slots + 1;
		if (bpf_map_update_elem(p->maps.owners, &key, &val, BPF_ANY) == 0) {
			p->owner_uids[p->nr_owner_slots++] = uid;
			slot = key;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return slot;	/* 0: no room; the kernel filter then sees no owner */
}

/* ---- names as the backing compares them (include/fusebpf/names.h) ---- */

static void fold_free(struct policy *p)
{
	for (size_t i = 0; i < p->nr_fold; i++)
		free(p->fold[i].name);
	free(p->fold);
	p->fold = NULL;
	p->nr_fold = 0;
	p->fold_gen = 0;
}

static void fold_add(struct policy *p, size_t *cap, uint32_t parent,
		     bool hidden, const char *name)
{
	struct fold_name *grown;

	if (p->nr_fold == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		grown = realloc(p->fold, *cap * sizeof(*grown));
		if (!grown)
			return;
		p->fold = grown;
	}
	p->fold[p->nr_fold].name = strdup(name);
	if (!p->fold[p->nr_fold].name)
		return;
	p->fold[p->nr_fold].parent = parent;
	p->fold[p->nr_fold].hidden = hidden;
	p->nr_fold++;
}

/*
 * The names of the paths and hidden_names maps of generation @gen, read
 * once per generation (a hand edit of those maps bumps it too, see
 * include/fusebpf/policy.h). Called with fold_lock held for writing.
 */
static void fold_load(struct policy *p, uint64_t gen)
{
	struct fusebpf_path_key pk, *pprev = NULL;
	struct fusebpf_name_key nk, *nprev = NULL;
	size_t cap = 0, n;

	fold_free(p);
	/*
	 * Bounded: a load rewriting the maps meanwhile can send the walk back
	 * to their first key. Such a cache is not kept (the decision that
	 * read it is taken again, see load_held).
	 */
	for (n = 0; n < FUSEBPF_POLICY_MAX_PATH_NODES &&
	     !bpf_map_get_next_key(p->maps.paths, pprev, &pk); n++) {
		if (strcmp(pk.name, "*"))
			fold_add(p, &cap, pk.parent, false, pk.name);
		pprev = &pk;
	}
	for (n = 0; n < FUSEBPF_POLICY_MAX_HIDDEN &&
	     !bpf_map_get_next_key(p->maps.hidden_names, nprev, &nk); n++) {
		fold_add(p, &cap, nk.cls, true, nk.name);
		nprev = &nk;
	}
	if (!__atomic_load_n(&p->meta->loading, __ATOMIC_ACQUIRE) &&
	    generation(p) == gen)
		p->fold_gen = gen + 1;
}

/*
 * The policy name other than @name that the entry @name of @at is: a
 * child of path tree node @parent (@hidden false), or a name hidden in
 * directories of class @parent or in all (@hidden). Sets @out (NUL
 * padded, FUSEBPF_POLICY_NAME_MAX) and @out_parent (hidden: the key's
 * class). FUSEBPF_FOLD_MAYBE: neither exists, @name is judged as that
 * name (a create).
 */
static enum fusebpf_fold fold_find(struct policy *p, bool hidden,
				   uint32_t parent, const char *name,
				   struct fusebpf_name_dir *at,
				   uint32_t *out_parent, char *out)
{
	uint64_t gen = generation(p);
	enum fusebpf_fold found = FUSEBPF_FOLD_NO, f;

	pthread_rwlock_rdlock(&p->fold_lock);
	if (p->fold_gen != gen + 1) {
		pthread_rwlock_unlock(&p->fold_lock);
		pthread_rwlock_wrlock(&p->fold_lock);
		if (p->fold_gen != gen + 1)
			fold_load(p, gen);
	}
	for (size_t i = 0; i < p->nr_fold && found != FUSEBPF_FOLD_YES; i++) {
		const struct fold_name *c = &p->fold[i];

		if (c->hidden != hidden || !strcmp(c->name, name))
			continue;
		if (hidden ? c->parent != FUSEBPF_CLASS_ANY &&
			     (!parent || c->parent != parent) :
			     c->parent != parent)
			continue;
		f = fusebpf_name_same(at, name, c->name);
		if (f == FUSEBPF_FOLD_NO ||
		    (f == FUSEBPF_FOLD_MAYBE && found == FUSEBPF_FOLD_MAYBE))
			continue;
		found = f;
		memset(out, 0, FUSEBPF_POLICY_NAME_MAX);
		snprintf(out, FUSEBPF_POLICY_NAME_MAX, "%s", c->name);
		*out_parent = c->parent;
	}
	pthread_rwlock_unlock(&p->fold_lock);
	return found;
}

/* The path tree child for the entry @name of @at (NULL: bytes only) */
static bool path_child(struct policy *p, uint32_t parent, const char *name,
		       struct fusebpf_name_dir *at,
		       struct fusebpf_path_node *node)
{
	struct fusebpf_path_key key = { .parent = parent };
	uint32_t unused;

	if (strlen(name) >= sizeof(key.name))
		return false;
	strcpy(key.name, name);
	if (bpf_map_lookup_elem(p->maps.paths, &key, node) == 0)
		return true;
	/* another spelling of a policy name, where the backing folds case */
	if (at && fold_find(p, false, parent, name, at, &unused,
			    key.name) != FUSEBPF_FOLD_NO &&
	    bpf_map_lookup_elem(p->maps.paths, &key, node) == 0)
		return true;
	memset(key.name, 0, sizeof(key.name));
	key.name[0] = '*';
	return bpf_map_lookup_elem(p->maps.paths, &key, node) == 0;
}

/* ---- the judge's view (policy_judge.h) ---- */

static struct fusebpf_rule view_rule(void *ctx, uint32_t cls)
{
	return rule_of(ctx, cls);
}

static uint32_t view_uid_bits(void *ctx, uid_t uid)
{
	return uid_bits(ctx, uid);
}

static bool view_path_child(void *ctx, uint32_t parent, const char *name,
			    struct fusebpf_name_dir *at,
			    struct fusebpf_path_node *out)
{
	return path_child(ctx, parent, name, at, out);
}

/* Is @name in hidden_names for every class or class @cls? */
static bool view_hidden(void *ctx, uint32_t cls, const char *name,
			struct fusebpf_name_dir *at, struct fusebpf_hidden *h)
{
	struct policy *p = ctx;
	struct fusebpf_name_key key = { .cls = FUSEBPF_CLASS_ANY };

	if (strlen(name) >= sizeof(key.name))
		return false;
	strcpy(key.name, name);
	if (!bpf_map_lookup_elem(p->maps.hidden_names, &key, h))
		return true;
	key.cls = cls;
	if (cls && !bpf_map_lookup_elem(p->maps.hidden_names, &key, h))
		return true;
	/* another spelling, where the backing folds case */
	return fold_find(p, true, cls, name, at, &key.cls,
			 key.name) != FUSEBPF_FOLD_NO &&
	       !bpf_map_lookup_elem(p->maps.hidden_names, &key, h);
}

static uint32_t view_owner_slot(void *ctx, uid_t uid)
{
	return owner_slot(ctx, uid);
}

static uint32_t view_slot_owner(void *ctx, uint32_t slot)
{
	struct policy *p = ctx;
	uint32_t uid = FUSEBPF_OWNER_DIR;

	if (bpf_map_lookup_elem(p->maps.owners, &slot, &uid))
		return FUSEBPF_OWNER_DIR;
	return uid;
}

static const struct policy_view_ops view_ops = {
	.rule = view_rule,
	.uid_bits = view_uid_bits,
	.path_child = view_path_child,
	.hidden = view_hidden,
	.owner_slot = view_owner_slot,
	.slot_owner = view_slot_owner,
};

struct policy_view policy_view(struct daemon *d)
{
	return (struct policy_view){ .ops = &view_ops, .ctx = d->policy };
}

bool policy_load_settled(struct daemon *d, uint64_t *gen)
{
	return load_settled(d->policy, gen);
}

bool policy_load_held(struct daemon *d, uint64_t gen)
{
	return load_held(d->policy, gen);
}

struct fusebpf_rule policy_rule(struct daemon *d, uint32_t cls)
{
	return rule_of(d->policy, cls);
}

int policy_audit_prog(struct daemon *d)
{
	return d->policy ? d->policy->audit_prog : -1;
}

/* ---- mode bpf: what the kernel filter needs ---- */

int policy_map_fd(struct daemon *d, const char *name)
{
	struct bpf_map *map;

	if (!d->policy)
		return -1;
	map = bpf_object__find_map_by_name(d->policy->skel->obj, name);
	return map ? bpf_map__fd(map) : -1;
}

const char *policy_pin_dir(struct daemon *d)
{
	return d->policy && d->policy->pinned ? d->policy->pin_dir : NULL;
}
