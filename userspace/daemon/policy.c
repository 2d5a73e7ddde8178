// SPDX-License-Identifier: GPL-2.0
/*
 * Policy enforcement in modes passthrough and userspace, from the maps of
 * bpf/policy.bpf.c (layouts and tag scheme in include/fusebpf/policy.h);
 * in mode bpf, the same decisions for the kernel filter's decision
 * requests (policy_decide_request, answered by raw_io.c): on the node's
 * path when the daemon knows the node, else from the kernel tag.
 *
 * Every decision reads the maps again: rules and meta are mmap-ed arrays
 * (no syscall), uid_classes/paths/hidden_names are hash lookups. So a
 * `bpftool map update` or `fusebpfctl policy load` applies to the next
 * operation. A load is atomic: a decision that a load overlapped is taken
 * again (load_settled/load_held). Tags (class, path tree node, owner) are
 * computed at lookup from the parent's tag and the name; after a policy
 * load (meta.generation moved) or a directory move, a tag is recomputed
 * from the inode's place (parent and name, inode_table.c), from the
 * nearest ancestor whose tag is still valid.
 *
 * Caching: the kernel must not answer a lookup from its dentry cache for
 * an inode whose visibility depends on the caller, or a dentry cached by
 * its owner would let another uid walk in (the Android FUSE hole: an
 * in-use dentry never re-ran lookup). Entries and attributes of inodes in
 * any policy class, and of names in hidden_names, are replied with
 * timeout 0: the kernel then revalidates the dentry with a LOOKUP on every
 * path walk, in-use or not, and that LOOKUP carries the walking caller's
 * uid. A negative answer (ENOENT reply) is never cached by FUSE. Inodes no
 * policy path covers keep the normal timeouts; when a policy load moves
 * meta.generation, the sweeper thread (policy_reload.c) drops every
 * dentry the daemon handed out (FUSE_NOTIFY_INVAL_ENTRY), so the new
 * policy applies to the next walk, and then sets meta.applied, which
 * `fusebpfctl policy load` waits for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/names.h"
#include "fusebpf/policy_compile.h"
#include "fusebpf/policy_request.h"
#include "fusebpf/pseudofs.h"
#include "policy.skel.h"
#include "fusebpfd.h"
#include "hooks.h"
#include "request.h"

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

/* ---- tags ---- */

static uint32_t owner_slot(struct daemon *d, uid_t uid)
{
	struct policy *p = d->policy;
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

/*
 * Where the owner of an entry comes from, should a class start there (the
 * class root's uid owns the subtree): a known uid, or a stat of @path in
 * @dirfd, done only then; @missing if the entry does not exist.
 */
struct owner_src {
	const struct stat *st;
	int dirfd;
	const char *path;
	uid_t missing;
};

static uid_t owner_of(const struct owner_src *o)
{
	struct stat st;

	if (o->st)
		return o->st->st_uid;
	if (fstatat(o->dirfd, o->path, &st, AT_SYMLINK_NOFOLLOW))
		return o->missing;
	return st.st_uid;
}

/* Tag of the entry @name of @at, a directory tagged @parent. */
static struct policy_tag tag_child(struct daemon *d,
				   const struct policy_tag *parent,
				   const char *name, struct fusebpf_name_dir *at,
				   const struct owner_src *o)
{
	struct policy_tag t = *parent;
	struct fusebpf_path_node node;

	t.pnode = FUSEBPF_PATH_NONE;
	if (parent->pnode == FUSEBPF_PATH_NONE ||
	    !path_child(d->policy, parent->pnode, name, at, &node))
		return t;
	t.pnode = node.node;
	if (node.cls && node.cls < FUSEBPF_POLICY_CLASSES) {
		uint32_t from = rule_of(d->policy, node.cls).owner_from;

		t.cls = node.cls;
		/* owner-only from above: keep that directory's owner */
		if (from == FUSEBPF_OWNER_FROM_ABOVE)
			return t;
		t.owner_uid = owner_of(o);
		/* owner-only here and above: one uid must own both, else nobody */
		if (from == FUSEBPF_OWNER_FROM_BOTH &&
		    t.owner_uid != parent->owner_uid)
			t.owner_uid = FUSEBPF_OWNER_DIR;
		t.slot = t.owner_uid == FUSEBPF_OWNER_DIR ? 0 :
			 owner_slot(d, t.owner_uid);
	}
	return t;
}

static struct policy_tag root_tag(uint64_t gen, uint64_t moves)
{
	return (struct policy_tag){ .gen = gen, .moves = moves,
				    .pnode = FUSEBPF_PATH_ROOT };
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
	struct fusebpf_name_dir at;
	struct owner_src o = { .dirfd = -1, .path = name };
	struct policy_tag t;

	/* below every policy path: inherited, nothing to look at */
	if (parent->pnode == FUSEBPF_PATH_NONE)
		return tag_child(d, parent, name, NULL, &o);
	o.dirfd = dir_id ? inode_dup_fd(d, dir_id) : -1;
	at = fusebpf_name_dir_fd(o.dirfd);
	t = tag_child(d, parent, name, &at, &o);
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
static struct policy_tag inode_tag(struct daemon *d, struct inode *inode)
{
	uint64_t gen = generation(d->policy), moves = inode_moves(d);
	struct policy_tag t = root_tag(gen, moves);
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
	struct policy_tag pt, t;
	struct fusebpf_name_dir at;

	if (!d->policy || inode == d->table.root || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return;
	pt = inode_tag(d, parent);
	at = fusebpf_name_dir_fd(parent->fd);
	t = tag_child(d, &pt, name, &at, &(struct owner_src){ .st = st });
	pthread_mutex_lock(&d->table.lock);
	inode->tag = t;
	pthread_mutex_unlock(&d->table.lock);
}

/* ---- decisions ---- */

/*
 * Who asks: the caller of a request (fuse_req_t for the ops the daemon
 * performs, a decision request of the kernel filter otherwise), and the
 * opcode its refusals count under.
 */
struct judge {
	struct daemon *d;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	uint32_t opcode;
	/* what is judged, for the embedder's hook (FUSEBPF_RULE_DECIDE) */
	struct inode *at;	/* the inode, or the directory of @name */
	const char *name;
	uint32_t kind;		/* FUSEBPF_DECIDE_* */
	bool audit;		/* the reply goes through request_audit */
	uint64_t gen;		/* the policy generation of this attempt */
	uint32_t denied;	/* its refusals, counted when it counts */
};

static struct judge judge_req(fuse_req_t req)
{
	return (struct judge){
		.d = req_daemon(req),
		.uid = fuse_req_ctx(req)->uid,
		.gid = fuse_req_ctx(req)->gid,
		.pid = fuse_req_ctx(req)->pid,
		.opcode = request_opcode(),
		.audit = true,
	};
}

static void count_denied(struct judge *j)
{
	j->denied++;
}

static bool attempt_begin(struct judge *j)
{
	j->denied = 0;
	return load_settled(j->d->policy, &j->gen);
}

/* The attempt counts (no load overlapped it): its refusals too */
static bool attempt_done(struct judge *j)
{
	if (!load_held(j->d->policy, j->gen))
		return false;
	for (; j->denied && j->opcode < FUSEBPF_STATS_OPCODES; j->denied--)
		fusebpf_stats_inc(&j->d->stats->denied[j->opcode]);
	return true;
}

/*
 * @err = @expr, a decision, taken again until no policy load overlapped
 * it; EIO if a load never ended (a loader died mid-load).
 */
#define JUDGED(j, err, expr)					\
	do {							\
		if (!attempt_begin(j)) {			\
			(err) = EIO;				\
			break;					\
		}						\
		(err) = (expr);					\
	} while (!attempt_done(j))

/*
 * "decide" subtrees: after the policy allowed the op, the embedder's hook
 * (hooks.decide) has the last word; 0 or a positive errno.
 */
static int embedder_decides(const struct judge *j, int access)
{
	struct fusebpf_decision_req req = {
		.opcode = j->opcode,
		.kind = j->kind,
		.access = access,
		.uid = j->uid,
		.gid = j->gid,
		.pid = j->pid,
		.name = j->name,
	};
	char path[PATH_MAX];

	/* a node only the kernel knows (mode bpf): no path, nobody's */
	if (!j->at || hooks_node_path(j->d, j->at, path, sizeof(path)))
		return EACCES;
	req.path = path;
	return hooks_decide(j->d, &req);
}

/* Decision for a tag; 0 or a positive errno. */
static int decide(const struct judge *j, const struct policy_tag *t,
		  uint64_t nodeid, int access, bool audit)
{
	struct fusebpf_rule r;
	uint32_t bits = 0;
	int err;

	if (!t->cls)
		return 0;
	r = rule_of(j->d->policy, t->cls);
	if (fusebpf_rule_needs_uid_bits(&r))
		bits = uid_bits(j->d->policy, j->uid);
	err = fusebpf_policy_decide(&r, j->uid, bits,
				    r.owner_uid == FUSEBPF_OWNER_DIR ?
				    t->owner_uid : r.owner_uid, access);
	if (!err && (r.flags & FUSEBPF_RULE_DECIDE) &&
	    hooks_want_decisions(j->d))
		err = embedder_decides(j, access);
	if (audit && j->audit && (r.flags & FUSEBPF_RULE_AUDIT))
		request_audit(FUSEBPF_TAG(t->cls, t->slot), nodeid, err != 0);
	return err;
}

static int check_inode(struct judge *j, struct inode *inode, int access)
{
	struct policy_tag t = inode_tag(j->d, inode);
	int err;

	j->at = inode;
	j->name = NULL;
	j->kind = FUSEBPF_DECIDE_INODE;
	err = decide(j, &t, inode->node.nodeid, access, true);

	if (err)
		count_denied(j);
	return err;
}

int policy_check(fuse_req_t req, struct inode *inode, int access)
{
	struct judge j = judge_req(req);
	int err = 0;

	if (j.d->policy)
		JUDGED(&j, err, check_inode(&j, inode, access));
	return err;
}

/* Is @name hidden from the caller in a directory of class @cls? */
static bool name_hidden(struct judge *j, uint32_t cls, const char *name,
			struct fusebpf_name_dir *at, bool *listed)
{
	struct policy *p = j->d->policy;
	struct fusebpf_name_key key = { .cls = FUSEBPF_CLASS_ANY };
	struct fusebpf_hidden h;

	*listed = false;
	if (strlen(name) >= sizeof(key.name))
		return false;
	strcpy(key.name, name);
	if (bpf_map_lookup_elem(p->maps.hidden_names, &key, &h)) {
		key.cls = cls;
		if ((!cls || bpf_map_lookup_elem(p->maps.hidden_names, &key,
						 &h)) &&
		    /* another spelling, where the backing folds case */
		    (fold_find(p, true, cls, name, at, &key.cls,
			       key.name) == FUSEBPF_FOLD_NO ||
		     bpf_map_lookup_elem(p->maps.hidden_names, &key, &h)))
			return false;
	}
	*listed = true;
	return !(uid_bits(p, j->uid) & h.hide_exempt);
}

/*
 * Access to the entry @name of @dir, which may not exist (create-like ops
 * pass @create: then a name the caller may not see, or a hidden one, is
 * EACCES rather than ENOENT, and a missing entry would become the
 * caller's own).
 */
static int check_name(struct judge *j, struct inode *dir,
		      const char *name, int access, bool create)
{
	/* a missing entry would become the caller's */
	struct owner_src o = { .dirfd = dir->fd, .path = name,
			       .missing = j->uid };
	struct fusebpf_name_dir at = fusebpf_name_dir_fd(dir->fd);
	struct policy_tag pt, t;
	bool listed;
	int err;

	pt = inode_tag(j->d, dir);
	if (name_hidden(j, pt.cls, name, &at, &listed)) {
		err = create ? EACCES : ENOENT;
		goto denied;
	}
	t = tag_child(j->d, &pt, name, &at, &o);
	j->at = dir;
	j->name = name;
	j->kind = create ? FUSEBPF_DECIDE_NEW :
		  access == FUSEBPF_ACCESS_WRITE ? FUSEBPF_DECIDE_REMOVE :
		  FUSEBPF_DECIDE_LOOKUP;
	err = decide(j, &t, dir->node.nodeid, access, true);
	if (err == ENOENT && create)
		err = EACCES;
	if (!err)
		return 0;
denied:
	count_denied(j);
	return err;
}

int policy_check_name(fuse_req_t req, struct inode *dir, const char *name,
		      int access, bool create)
{
	struct judge j = judge_req(req);
	int err = 0;

	if (j.d->policy)
		JUDGED(&j, err, check_name(&j, dir, name, access, create));
	return err;
}

/* A change to the entry @name of @dir: creating it (@create) or removing it */
static int check_change(struct judge *j, struct inode *dir,
			const char *name, bool create)
{
	int err = check_inode(j, dir, FUSEBPF_ACCESS_WRITE);

	return err ? err : check_name(j, dir, name, FUSEBPF_ACCESS_WRITE, create);
}

int policy_check_new(fuse_req_t req, struct inode *dir, const char *name)
{
	struct judge j = judge_req(req);
	int err = 0;

	if (j.d->policy)
		JUDGED(&j, err, check_change(&j, dir, name, true));
	return err;
}

int policy_check_remove(fuse_req_t req, struct inode *dir, const char *name)
{
	struct judge j = judge_req(req);
	int err = 0;

	if (j.d->policy)
		JUDGED(&j, err, check_change(&j, dir, name, false));
	return err;
}

/*
 * LOOKUP of @name in @dir found @inode (tagged by inode_lookup). Returns
 * an errno if the caller may not see it; otherwise sets the timeouts of
 * @e to 0 when the answer depends on the caller.
 */
static int check_lookup(struct judge *j, struct inode *dir, const char *name,
			struct inode *inode, struct fuse_entry_param *e)
{
	struct fusebpf_name_dir at = fusebpf_name_dir_fd(dir->fd);
	struct policy_tag pt, t;
	bool listed;
	int err;

	pt = inode_tag(j->d, dir);
	if (name_hidden(j, pt.cls, name, &at, &listed)) {
		count_denied(j);
		return ENOENT;
	}
	t = inode_tag(j->d, inode);
	j->at = dir;
	j->name = name;
	j->kind = FUSEBPF_DECIDE_LOOKUP;
	err = decide(j, &t, inode->node.nodeid, FUSEBPF_ACCESS_SEE, true);
	if (err) {
		count_denied(j);
		return err;
	}
	if (listed || t.cls) {
		e->entry_timeout = 0;
		e->attr_timeout = 0;
	}
	return 0;
}

int policy_check_lookup(fuse_req_t req, struct inode *dir, const char *name,
			struct inode *inode, struct fuse_entry_param *e)
{
	struct judge j = judge_req(req);
	int err = 0;

	if (j.d->policy)
		JUDGED(&j, err, check_lookup(&j, dir, name, inode, e));
	return err;
}

static bool entry_visible(struct judge *j, struct inode *dir,
			  const char *name, struct inode *child,
			  struct fuse_entry_param *e)
{
	struct owner_src o = { .dirfd = dir->fd, .path = name };
	struct fusebpf_name_dir at = fusebpf_name_dir_fd(dir->fd);
	struct policy_tag pt, t;
	bool listed;

	pt = inode_tag(j->d, dir);
	if (name_hidden(j, pt.cls, name, &at, &listed))
		return false;
	if (child) {
		t = inode_tag(j->d, child);
		if (e && (listed || t.cls)) {
			e->entry_timeout = 0;
			e->attr_timeout = 0;
		}
	} else {
		t = tag_child(j->d, &pt, name, &at, &o);
	}
	j->at = dir;
	j->name = name;
	j->kind = FUSEBPF_DECIDE_LOOKUP;
	return decide(j, &t, dir->node.nodeid, FUSEBPF_ACCESS_SEE, false) == 0;
}

/*
 * readdir: may the caller see the entry @name? (no counting: a filter).
 * readdirplus passes the looked-up @child and its entry @e, whose timeouts
 * are zeroed as in policy_check_lookup.
 */
bool policy_entry_visible(fuse_req_t req, struct inode *dir, const char *name,
			  struct inode *child, struct fuse_entry_param *e)
{
	struct judge j = judge_req(req);
	int err = 0;

	if (j.d->policy)
		JUDGED(&j, err, entry_visible(&j, dir, name, child, e) ? 0 : ENOENT);
	return err == 0;
}

/* ---- decision requests of the kernel filter (mode bpf) ---- */

/*
 * A node the daemon knows: the same checks as for the ops it performs
 * itself, on the node's path. RENAME2 asks each directory's filter with
 * both names and the directory's own node id: the old name is judged
 * where it exists, the new one as created in the node.
 */
static int judge_known(struct judge *j, struct inode *node,
		       const struct fusebpf_decision *dec)
{
	struct stat st;
	int err;

	switch (dec->judge) {
	case FUSEBPF_JUDGE_INODE:
		return check_inode(j, node, dec->access);
	case FUSEBPF_JUDGE_LOOKUP:
		err = check_inode(j, node, FUSEBPF_ACCESS_SEE);
		return err ? err : check_name(j, node, dec->name,
					      FUSEBPF_ACCESS_SEE, false);
	case FUSEBPF_JUDGE_ENTRY:
		return entry_visible(j, node, dec->name, NULL, NULL) ? 0 : ENOENT;
	case FUSEBPF_JUDGE_NEW:
		return check_change(j, node, dec->name, true);
	case FUSEBPF_JUDGE_REMOVE:
		return check_change(j, node, dec->name, false);
	case FUSEBPF_JUDGE_RENAME:
		err = 0;
		if (!fstatat(node->fd, dec->name, &st, AT_SYMLINK_NOFOLLOW))
			err = check_change(j, node, dec->name, false);
		return err ? err : check_change(j, node, dec->new_name, true);
	default:
		return EIO;
	}
}

/*
 * A node only the kernel knows (resolved in the kernel, bit-63 id): its
 * kernel tag, the caller and the names, as the kernel filter decides.
 */
static int judge_tag(struct judge *j, const struct fusebpf_decision *dec)
{
	uint32_t tag = dec->tag & ~(FUSEBPF_KTAG_LIST_BY_DAEMON |
				    FUSEBPF_KTAG_CASEFOLD);
	/* no backing directory here: the kernel tag says if it folds case */
	struct fusebpf_name_dir at = {
		.dirfd = -1, .dir = "",
		.casefold = !!(dec->tag & FUSEBPF_KTAG_CASEFOLD),
	};
	struct policy_tag t = {
		.cls = FUSEBPF_TAG_CLASS(tag),
		.slot = FUSEBPF_TAG_SLOT(tag),
		.owner_uid = FUSEBPF_OWNER_DIR,		/* unknown: nobody */
	};
	const char *created = NULL;
	bool listed;
	int err;

	if (t.cls >= FUSEBPF_POLICY_CLASSES)
		t.cls = 0;
	if (t.slot)
		bpf_map_lookup_elem(j->d->policy->maps.owners, &t.slot,
				    &t.owner_uid);
	err = decide(j, &t, dec->nodeid, dec->access, false);
	if (!err && (dec->judge == FUSEBPF_JUDGE_LOOKUP ||
		     dec->judge == FUSEBPF_JUDGE_ENTRY) &&
	    name_hidden(j, t.cls, dec->name, &at, &listed))
		err = ENOENT;
	if (dec->judge == FUSEBPF_JUDGE_NEW)
		created = dec->name;
	else if (dec->judge == FUSEBPF_JUDGE_RENAME)
		created = dec->new_name;
	if (!err && created && name_hidden(j, t.cls, created, &at, &listed))
		err = EACCES;
	if (err && dec->judge != FUSEBPF_JUDGE_ENTRY)
		count_denied(j);
	return err;
}

int policy_decide_request(struct daemon *d, const struct fusebpf_decision *dec)
{
	struct judge j = {
		.d = d,
		.uid = dec->uid,
		.gid = dec->gid,
		.pid = dec->pid,
		.opcode = dec->opcode,
	};
	struct inode *node;
	int err;

	/* a failed backing op stays failed: nothing to judge */
	if (dec->post && dec->result < 0)
		return -dec->result;
	if (!d->policy)
		return 0;
	node = (dec->nodeid & FUSEBPF_KERNEL_NODEID) ? NULL :
	       inode_get(d, dec->nodeid);
	JUDGED(&j, err, node ? judge_known(&j, node, dec) : judge_tag(&j, dec));
	return err;
}

bool policy_served(struct daemon *d, struct inode *inode)
{
	struct policy_tag t;
	uint64_t gen;
	bool served;

	if (!d->policy)
		return false;
	do {
		if (!load_settled(d->policy, &gen))
			return true;	/* the daemon serves: no passthrough */
		t = inode_tag(d, inode);
		served = t.cls &&
			 (rule_of(d->policy, t.cls).flags & FUSEBPF_RULE_SERVED);
	} while (!load_held(d->policy, gen));
	return served;
}

double policy_timeout(struct daemon *d, struct inode *inode)
{
	uint64_t gen;
	uint32_t cls;

	if (!d->policy)
		return d->timeout;
	do {
		if (!load_settled(d->policy, &gen))
			return 0;
		cls = inode_tag(d, inode).cls;
	} while (!load_held(d->policy, gen));
	return cls ? 0 : d->timeout;
}

void policy_audit_emit(struct daemon *d, const struct fusebpf_audit_event *ev)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ev,
		    .ctx_size_in = sizeof(*ev));

	if (d->policy && bpf_prog_test_run_opts(d->policy->audit_prog, &opts))
		log_error("policy: audit event lost: %s", strerror(errno));
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
	t = inode_tag(d, inode);
	ke->tag = FUSEBPF_TAG(t.cls, t.slot);
	if (t.slot > FUSEBPF_FILTER_MAX_SLOT)
		ke->tag = FUSEBPF_TAG(t.cls, 0);	/* owner unknown: nobody */
	ke->lookup_server = t.pnode != FUSEBPF_PATH_NONE;
	if (ke->lookup_server)
		ke->tag |= FUSEBPF_KTAG_LIST_BY_DAEMON;
	ke->served = t.cls &&
		     (rule_of(d->policy, t.cls).flags & FUSEBPF_RULE_SERVED);
	/* the filter then compares names with hidden names as the backing */
	if (S_ISDIR(inode->type)) {
		struct fusebpf_name_dir at = fusebpf_name_dir_fd(inode->fd);

		if (fusebpf_name_dir_casefolded(&at))
			ke->tag |= FUSEBPF_KTAG_CASEFOLD;
	}
}
