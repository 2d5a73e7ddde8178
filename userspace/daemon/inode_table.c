// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE inodes keyed by backing file handle (after libfuse's passthrough_hp
 * and virtiofsd's inodes_by_handle); identity and nodeid rules are in
 * include/fusebpf/node_registry.h.
 *
 * File descriptors stay bounded whatever the tree size (as virtiofsd's
 * --inode-file-handles): a live inode holds an O_PATH fd while it is in
 * use, but beyond a cap derived from RLIMIT_NOFILE the least recently
 * used fds of handle-keyed inodes are closed and reopened by handle
 * (open_by_handle_at on BACKING's mount fd) when next needed. The kernel
 * still holds such an inode, so its handle names exactly the inode we
 * had open: no check that it is inside BACKING is needed, unlike a
 * retired inode's. Fallback-keyed inodes (no handles) keep their fd: it
 * pins their inode number. An fd in use by a request is never closed
 * under it: inode_get pins the inode until the worker thread reads its
 * next request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fusebpf/names.h"
#include "fusebpfd.h"
#include "lock_owners.h"
#include "handover.h"
#include "notify.h"

/* Retired nodes kept for export handles and stable nodeids. */
#define RETIRED_MAX	65536
/* Directory depth walked to prove a reopened directory is inside BACKING */
#define ANCESTRY_MAX	4096
/*
 * O_PATH fds kept for cached inodes: half of RLIMIT_NOFILE (the rest is
 * for open files, directory streams and lock descriptions), within these
 * bounds; the limit is read again every FD_CAP_REFRESH opens and on
 * EMFILE, so a lowered limit (prlimit) is followed.
 */
#define FD_CAP_MIN	64
#define FD_CAP_MAX	65536
#define FD_CAP_REFRESH	256
/* other names remembered of a hard-linked file, to reopen it by */
#define LINKS_MAX	3

/* a name of a non-directory other than its place (parent_id, name) */
struct link_place {
	struct link_place *next;	/* less recently seen */
	uint64_t parent_id;
	char *name;
};

static void free_links(struct link_place *l)
{
	while (l) {
		struct link_place *next = l->next;

		free(l->name);
		free(l);
		l = next;
	}
}

/* ---- the fd LRU ---- */

static void fd_cap_read(struct inode_table *t)
{
	struct rlimit rl;
	rlim_t cap = FD_CAP_MAX;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 2 < cap)
		cap = rl.rlim_cur / 2;
	t->fd_cap = cap < FD_CAP_MIN ? FD_CAP_MIN : cap;
	t->fd_opens = 0;
}

static void fd_unlink(struct inode_table *t, struct inode *inode)
{
	if (inode->fd_prev)
		inode->fd_prev->fd_next = inode->fd_next;
	else
		t->fd_head = inode->fd_next;
	if (inode->fd_next)
		inode->fd_next->fd_prev = inode->fd_prev;
	else
		t->fd_tail = inode->fd_prev;
	inode->fd_prev = inode->fd_next = NULL;
}

static void fd_append(struct inode_table *t, struct inode *inode)
{
	inode->fd_next = NULL;
	inode->fd_prev = t->fd_tail;
	if (t->fd_tail)
		t->fd_tail->fd_next = inode;
	else
		t->fd_head = inode;
	t->fd_tail = inode;
}

/* Closes the least recently used unpinned fds beyond the cap. */
static void fd_trim(struct inode_table *t)
{
	size_t skipped = 0;

	while (t->nr_fds > t->fd_cap && skipped < t->nr_fds) {
		struct inode *old = t->fd_head;

		fd_unlink(t, old);
		if (old->pins) {	/* in use: now the most recent */
			fd_append(t, old);
			skipped++;
			continue;
		}
		old->fd_listed = false;
		t->nr_fds--;
		close(old->fd);
		old->fd = -1;
	}
}

/* @inode got an fd: list it if it may be dropped, and keep to the cap. */
static void fd_opened(struct daemon *d, struct inode *inode)
{
	struct inode_table *t = &d->table;

	if (inode == t->root || inode->node.key.kind != FUSEBPF_KEY_HANDLE ||
	    inode->fd_listed)
		return;
	inode->fd_listed = true;
	fd_append(t, inode);
	t->nr_fds++;
	if (++t->fd_opens >= FD_CAP_REFRESH)
		fd_cap_read(t);
	fd_trim(t);
}

/* @inode's fd is being closed (retired) */
static void fd_closed(struct inode_table *t, struct inode *inode)
{
	if (!inode->fd_listed)
		return;
	fd_unlink(t, inode);
	inode->fd_listed = false;
	t->nr_fds--;
}

/* ---- pins: inodes whose fd a request of this thread uses ---- */

struct pin_set {
	struct daemon *d;
	uint64_t *ids;		/* nodeids: a pinned node may be freed */
	size_t n, cap;
};

/* the worker thread's set, also in d->table.pins_key for thread exit */
static __thread struct pin_set *thread_pins;

static int pin_locked(struct daemon *d, struct inode *inode)
{
	struct pin_set *s = thread_pins;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->d = d;
		thread_pins = s;
		pthread_setspecific(d->table.pins_key, s);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		uint64_t *ids = realloc(s->ids, cap * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		s->ids = ids;
		s->cap = cap;
	}
	s->ids[s->n++] = inode->node.nodeid;
	inode->pins++;
	if (inode->fd_listed) {		/* most recently used */
		fd_unlink(&d->table, inode);
		fd_append(&d->table, inode);
	}
	return 0;
}

static void unpin_set(struct pin_set *s)
{
	struct inode_table *t = &s->d->table;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < s->n; i++) {
		struct inode *inode = (struct inode *)
			fusebpf_registry_find_id(&t->reg, s->ids[i]);

		if (inode && inode->pins)
			inode->pins--;
	}
	fd_trim(t);
	pthread_mutex_unlock(&t->lock);
	s->n = 0;
}

void inode_request_done(struct daemon *d)
{
	struct pin_set *s = thread_pins;

	(void)d;
	if (s && s->n)
		unpin_set(s);
}

/* a worker thread ends (libfuse stops idle ones) */
static void pins_thread_exit(void *arg)
{
	struct pin_set *s = arg;

	if (s->n)
		unpin_set(s);
	free(s->ids);
	free(s);
}

/* ---- inodes ---- */

static void retire_inode(struct fusebpf_node *node, void *data)
{
	struct inode *inode = (struct inode *)node;
	struct daemon *d = data;

	lock_owners_drop_all(d, inode);
	if (inode->fd >= 0) {
		fd_closed(&d->table, inode);
		close(inode->fd);
	}
	inode->fd = -1;
}

static void release_inode(struct fusebpf_node *node, void *data)
{
	struct inode *inode = (struct inode *)node;
	struct daemon *d = data;
	struct fusebpf_node *parent;

	handover_node_gone(d, inode);
	/* its place no longer needs the parent (not while tearing down) */
	if (inode->name && !d->table.closing) {
		parent = fusebpf_registry_find_id(&d->table.reg,
						  inode->parent_id);
		if (parent)
			fusebpf_registry_unhold(&d->table.reg, parent);
	}
	free(inode->served_relpath);
	free(inode->name);
	free_links(inode->links);
	free(inode);
}

static const struct fusebpf_node_ops inode_ops = {
	.retire = retire_inode,
	.release = release_inode,
};

static int reopen_dropped(struct daemon *d, struct inode *inode);

void inode_proc_path(struct inode *inode, char *buf, size_t len)
{
	struct pin_set *s = thread_pins;
	int fd = inode->fd;

	/* an inode reached without inode_get (an open file's, for locks) */
	if (s) {
		pthread_mutex_lock(&s->d->table.lock);
		fd = (inode->fd >= 0 || !reopen_dropped(s->d, inode)) &&
		     !pin_locked(s->d, inode) ? inode->fd : -1;
		pthread_mutex_unlock(&s->d->table.lock);
	}
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static int inode_stat_fd(int fd, struct stat *st)
{
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

int inode_stat(struct inode *inode, struct stat *st)
{
	return inode_stat_fd(inode->fd, st);
}

/*
 * Key of the inode behind @fd. A handle is used when the backing fs gives
 * one on BACKING's own mount (open_by_handle_at needs that mount's fd);
 * otherwise (EOPNOTSUPP, a submount inside BACKING) dev + ino.
 */
static int make_key(struct daemon *d, int fd, const struct stat *st,
		    struct fusebpf_node_key *key)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h;
	int mount_id;

	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) == 0) {
		if (mount_id == d->root_mount_id) {
			fusebpf_key_handle(key, h.fh.handle_type, h.fh.f_handle,
					   h.fh.handle_bytes);
			return 0;
		}
	} else if (errno != EOPNOTSUPP) {
		return -errno;
	}
	fusebpf_key_fallback(key, st->st_dev, st->st_ino);
	return 0;
}

static void set_served(struct daemon *d, struct inode *parent,
		       struct inode *inode, const char *name)
{
	struct fusebpf_name_dir at;
	char *rel, spelling[NAME_MAX + 1];

	free(inode->served_relpath);
	inode->served_relpath = NULL;
	inode->served = parent->served;
	if (inode->served || !parent->served_relpath || !strcmp(name, ".."))
		return;
	/* another spelling of a served path, where the backing folds case */
	at = fusebpf_name_dir_fd(parent->fd);
	name = fusebpf_served_spelling(&d->opts, parent->served_relpath, &at,
				       name, spelling, sizeof(spelling));
	if (asprintf(&rel, "%s%s%s", parent->served_relpath,
		     *parent->served_relpath ? "/" : "", name) < 0)
		return;
	switch (fusebpf_served_relation(&d->opts, rel)) {
	case FUSEBPF_SERVED_INSIDE:
		inode->served = true;
		free(rel);
		break;
	case FUSEBPF_SERVED_ANCESTOR:
		inode->served_relpath = S_ISDIR(inode->type) ? rel : NULL;
		if (!inode->served_relpath)
			free(rel);
		break;
	case FUSEBPF_SERVED_NONE:
		free(rel);
		break;
	}
}

/*
 * @name in @parent is where @inode is now: the one record of where an
 * inode is (its path is never stored: memory per inode does not grow
 * with depth). The parent is held while named here. A directory that
 * changed place makes every cached policy tag stale (the tags of its
 * subtree were computed from its old place: table.moves). With @linked
 * (a file with other links) the previous place is kept among its links,
 * most recent first: if this name goes, another may still reach it.
 */
static void set_place(struct daemon *d, struct inode *inode,
		      struct inode *parent, const char *name, bool linked)
{
	uint64_t pid = parent->node.nodeid;
	struct link_place **pp, *old = NULL;
	struct fusebpf_node *was;
	unsigned int n = 0;
	char *copy;

	if (inode->parent_id == pid && inode->name &&
	    !strcmp(inode->name, name))
		return;
	copy = strdup(name);
	if (!copy)
		return;	/* keeps the old place: a reopen may then be ESTALE */
	fusebpf_registry_hold(&d->table.reg, &parent->node);
	if (inode->name) {
		was = fusebpf_registry_find_id(&d->table.reg, inode->parent_id);
		if (was)
			fusebpf_registry_unhold(&d->table.reg, was);
		if (S_ISDIR(inode->type))
			__atomic_add_fetch(&d->table.moves, 1, __ATOMIC_RELEASE);
	}
	if (linked && inode->name)
		old = malloc(sizeof(*old));
	if (old) {
		old->parent_id = inode->parent_id;
		old->name = inode->name;
		old->next = inode->links;
		inode->links = old;
	} else {
		free(inode->name);
	}
	inode->name = copy;
	inode->parent_id = pid;
	/* the new place is no longer one of the others; keep a few */
	for (pp = &inode->links; *pp;) {
		struct link_place *l = *pp;

		if ((l->parent_id == pid && !strcmp(l->name, name)) ||
		    !linked || ++n > LINKS_MAX) {
			*pp = l->next;
			l->next = NULL;
			free_links(l);
		} else {
			pp = &l->next;
		}
	}
}

static void fill_entry(struct daemon *d, struct inode *inode,
		       const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = inode->node.nodeid;
	e->generation = inode->node.generation;
	e->attr = *st;
	/* the caller's timeouts: entry.c has the policy's and passthrough's */
	e->attr_timeout = d->timeout;
	e->entry_timeout = d->entry_timeout;
}

/*
 * Registers the inode open as @fd (consumed) and takes one reference.
 * Called with the table lock held.
 */
static int attach_locked(struct daemon *d, int fd, const struct stat *st,
			 const struct fusebpf_node_key *key,
			 struct inode **out)
{
	struct fusebpf_node *node = fusebpf_registry_find_key(&d->table.reg, key);
	struct inode *inode = (struct inode *)node;

	if (inode) {
		if (inode->fd < 0) {
			/* revived or dropped: same file, same nodeid */
			inode->fd = fd;
			fd_opened(d, inode);
		} else {
			close(fd);
		}
	} else {
		inode = calloc(1, sizeof(*inode));
		if (!inode) {
			close(fd);
			return -ENOMEM;
		}
		inode->fd = fd;
		inode->type = st->st_mode & S_IFMT;
		inode->node.key = *key;
		fusebpf_registry_insert(&d->table.reg, &inode->node, 0);
		handover_next_nodeid(d, d->table.reg.next_nodeid);
		fd_opened(d, inode);
	}
	fusebpf_registry_ref(&d->table.reg, &inode->node, 1);
	/* the caller goes on with its fd: not to be dropped under it */
	if (pin_locked(d, inode)) {
		fusebpf_registry_unref(&d->table.reg, &inode->node, 1);
		return -ENOMEM;
	}
	*out = inode;
	return 0;
}

/*
 * openat(O_PATH) of @name in @dirfd; on EMFILE (the limit was lowered
 * meanwhile) drops fds down to the new cap and tries once more.
 */
static int open_path_at(struct daemon *d, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EMFILE) {
		pthread_mutex_lock(&d->table.lock);
		fd_cap_read(&d->table);
		fd_trim(&d->table);
		pthread_mutex_unlock(&d->table.lock);
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

int inode_lookup(struct daemon *d, struct inode *parent, const char *name,
		 struct fuse_entry_param *e, struct inode **out)
{
	struct fusebpf_node_key key;
	struct inode *inode;
	struct stat st;
	int fd, ret;

	/* never above BACKING, whatever name the kernel sends */
	if (parent == d->table.root && !strcmp(name, ".."))
		return -ENOENT;
	fd = open_path_at(d, parent->fd, name);
	if (fd < 0)
		return fd;
	ret = inode_stat_fd(fd, &st);
	if (!ret)
		ret = make_key(d, fd, &st, &key);
	if (ret) {
		close(fd);
		return ret;
	}
	pthread_mutex_lock(&d->table.lock);
	ret = attach_locked(d, fd, &st, &key, &inode);
	if (!ret && strcmp(name, ".") && strcmp(name, "..") &&
	    inode != d->table.root) {
		set_served(d, parent, inode, name);
		set_place(d, inode, parent, name,
			  !S_ISDIR(inode->type) && st.st_nlink > 1);
	}
	if (!ret)	/* before the reply: the next worker must know it */
		handover_node_sync(d, inode);
	pthread_mutex_unlock(&d->table.lock);
	if (ret)
		return ret;
	fill_entry(d, inode, &st, e);
	if (out)
		*out = inode;
	return 0;
}

/* A directory is inside BACKING when ".." leads to it. */
static bool dir_within_root(struct daemon *d, int fd)
{
	int cur = dup(fd);
	bool inside = false;

	for (int depth = 0; cur >= 0 && depth < ANCESTRY_MAX; depth++) {
		struct stat st, pst;
		int parent;

		if (fstat(cur, &st))
			break;
		if (st.st_dev == d->root_dev && st.st_ino == d->root_ino) {
			inside = true;
			break;
		}
		parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &pst) ||
		    (pst.st_dev == st.st_dev && pst.st_ino == st.st_ino)) {
			if (parent >= 0)
				close(parent);
			break;	/* reached the filesystem root */
		}
		close(cur);
		cur = parent;
	}
	if (cur >= 0)
		close(cur);
	return inside;
}

/* Opens a handle-keyed inode by handle; -ESTALE if it is gone. */
static int open_handle(struct daemon *d, const struct inode *inode,
		       struct stat *st)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h;
	const struct fusebpf_node_key *key = &inode->node.key;
	int32_t type;
	int fd;

	if (key->kind != FUSEBPF_KEY_HANDLE)
		return -ESTALE;
	memcpy(&type, key->data, sizeof(type));
	h.fh.handle_type = type;
	h.fh.handle_bytes = key->len - sizeof(type);
	memcpy(h.fh.f_handle, key->data + sizeof(type), h.fh.handle_bytes);
	fd = open_by_handle_at(d->mount_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)	/* out of fds: not the file's fault */
		return errno == EMFILE || errno == ENFILE ? -errno : -ESTALE;
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ||
	    st->st_dev != d->root_dev || (st->st_mode & S_IFMT) != inode->type) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/*
 * A live inode whose fd was dropped: the kernel holds it, so its handle
 * names the inode we had open (see the top of this file). Table lock held.
 */
static int reopen_dropped(struct daemon *d, struct inode *inode)
{
	struct stat st;
	int fd = open_handle(d, inode, &st);

	if (fd < 0 && fd != -ESTALE) {
		fd_cap_read(&d->table);
		fd_trim(&d->table);
		fd = open_handle(d, inode, &st);
	}
	if (fd < 0)
		return fd;
	inode->fd = fd;
	fd_opened(d, inode);
	return 0;
}

/* A directory, proven inside BACKING by its ".." chain. */
static int reopen_dir(struct daemon *d, const struct inode *inode)
{
	struct stat st;
	int fd = open_handle(d, inode, &st);

	if (fd >= 0 && !dir_within_root(d, fd)) {
		close(fd);
		fd = -ESTALE;
	}
	return fd;
}

/* @name in directory @parent_id, if it is still the very same file */
static int reopen_at(struct daemon *d, const struct inode *inode,
		     uint64_t parent_id, const char *name)
{
	struct inode *dir = (struct inode *)
		fusebpf_registry_find_id(&d->table.reg, parent_id);
	struct fusebpf_node_key key;
	int dirfd, fd, ret;
	struct stat st;

	if (!dir || !name)
		return -ESTALE;
	dirfd = dir->fd >= 0 ? dir->fd : reopen_dir(d, dir);
	if (dirfd < 0)
		return -ESTALE;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd != dir->fd)
		close(dirfd);
	if (fd < 0)
		return -ESTALE;
	ret = inode_stat_fd(fd, &st);
	if (!ret)
		ret = make_key(d, fd, &st, &key);
	if (ret || key.kind != inode->node.key.kind ||
	    key.len != inode->node.key.len ||
	    memcmp(key.data, inode->node.key.data, key.len)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/*
 * A non-directory has no ".." to prove where it is. First choice: the name
 * it had in its directory, then its other names (hard links) we saw.
 */
static int reopen_by_place(struct daemon *d, const struct inode *inode)
{
	int fd = reopen_at(d, inode, inode->parent_id, inode->name);

	for (struct link_place *l = inode->links; fd < 0 && l; l = l->next)
		fd = reopen_at(d, inode, l->parent_id, l->name);
	return fd;
}

/*
 * Otherwise (moved behind our back, that name unlinked) the handle, if the
 * backing dentry it gives is connected with a path below BACKING; a
 * disconnected dentry has no such path and stays ESTALE.
 */
static int reopen_by_path(struct daemon *d, const struct inode *inode)
{
	char proc[64], path[PATH_MAX];
	size_t blen = strlen(d->backing);
	struct stat st;
	int fd = open_handle(d, inode, &st);
	ssize_t n;

	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, sizeof(path) - 1);
	if (n > 0)
		path[n] = '\0';
	if (n <= 0 || strncmp(path, d->backing, blen) || path[blen] != '/' ||
	    strstr(path, " (deleted)") || st.st_nlink == 0) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/*
 * Reopens a retired handle-keyed inode. The handle came from our own
 * lookups, but the file may have moved out of BACKING since: anything not
 * provably inside BACKING is ESTALE.
 */
static int reopen_retired(struct daemon *d, struct inode *inode)
{
	int fd;

	if (S_ISDIR(inode->type)) {
		fd = reopen_dir(d, inode);
	} else {
		fd = reopen_by_place(d, inode);
		if (fd < 0)
			fd = reopen_by_path(d, inode);
	}

	if (fd < 0)
		return fd;
	inode->fd = fd;
	fd_opened(d, inode);
	return 0;
}

/*
 * A rename through the mount: the moved inode's place, served state and
 * policy tags (its own and, for a directory, its subtree's: table.moves)
 * follow at once. The kernel keeps the moved dentry with the timeout of
 * its old place, so its attributes are dropped too: the next walk through
 * it asks GETATTR, which the policy of the new place judges. (No entry
 * invalidation here: the kernel holds both directories locked until this
 * RENAME is answered.)
 */
void inode_moved(struct daemon *d, struct inode *dir, const char *name)
{
	struct fusebpf_node_key key;
	struct inode *inode = NULL;
	uint64_t nodeid = 0;
	struct stat st;
	int fd = open_path_at(d, dir->fd, name);

	if (fd < 0)
		return;
	if (!inode_stat_fd(fd, &st) && !make_key(d, fd, &st, &key)) {
		pthread_mutex_lock(&d->table.lock);
		inode = (struct inode *)fusebpf_registry_find_key(&d->table.reg,
								  &key);
		if (inode && inode != d->table.root) {
			set_served(d, dir, inode, name);
			/* renamed: its old name is gone (a directory's move
			 * makes every tag stale: set_place) */
			set_place(d, inode, dir, name, false);
			handover_node_sync(d, inode);
			/* a file's own policy tag is stale (policy.c) */
			inode->tag.moves = UINT64_MAX;
			nodeid = inode->node.nodeid;
		}
		pthread_mutex_unlock(&d->table.lock);
	}
	close(fd);
	if (nodeid)
		notify_inval_attr(d, nodeid);
}

uint64_t inode_moves(struct daemon *d)
{
	return __atomic_load_n(&d->table.moves, __ATOMIC_ACQUIRE);
}

struct inode *inode_parent_locked(struct daemon *d, struct inode *inode)
{
	if (inode == d->table.root || !inode->name)
		return NULL;
	return (struct inode *)fusebpf_registry_find_id(&d->table.reg,
							inode->parent_id);
}

int inode_dup_fd(struct daemon *d, uint64_t nodeid)
{
	struct inode *inode;
	struct stat st;
	int fd;

	pthread_mutex_lock(&d->table.lock);
	inode = (struct inode *)fusebpf_registry_find_id(&d->table.reg, nodeid);
	if (!inode) {
		fd = -ESTALE;
	} else if (inode->fd >= 0) {
		fd = fcntl(inode->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
	} else {
		fd = open_handle(d, inode, &st);
	}
	pthread_mutex_unlock(&d->table.lock);
	return fd;
}

int inode_lookup_self(struct daemon *d, fuse_ino_t ino,
		      struct fuse_entry_param *e, struct inode **out)
{
	struct inode *inode;
	struct stat st;
	int ret = 0;

	pthread_mutex_lock(&d->table.lock);
	inode = (struct inode *)fusebpf_registry_find_id(&d->table.reg, ino);
	if (!inode)
		ret = -ESTALE;
	else if (inode->fd < 0)
		ret = fusebpf_node_retired(&inode->node) ?
		      reopen_retired(d, inode) : reopen_dropped(d, inode);
	if (!ret)
		ret = inode_stat(inode, &st);
	if (!ret)
		ret = pin_locked(d, inode);
	if (!ret) {
		fusebpf_registry_ref(&d->table.reg, &inode->node, 1);
		handover_node_sync(d, inode);
	}
	pthread_mutex_unlock(&d->table.lock);
	if (ret)
		return ret;
	fill_entry(d, inode, &st, e);
	*out = inode;
	return 0;
}

struct inode *inode_get(struct daemon *d, fuse_ino_t ino)
{
	struct inode *inode;

	pthread_mutex_lock(&d->table.lock);
	inode = (struct inode *)fusebpf_registry_find_id(&d->table.reg, ino);
	if (inode && fusebpf_node_retired(&inode->node))
		inode = NULL;
	if (inode && inode->fd < 0 && reopen_dropped(d, inode))
		inode = NULL;
	if (inode && pin_locked(d, inode))
		inode = NULL;
	pthread_mutex_unlock(&d->table.lock);
	return inode;
}

void inode_forget(struct daemon *d, fuse_ino_t ino, uint64_t nlookup)
{
	struct fusebpf_node *node;

	pthread_mutex_lock(&d->table.lock);
	node = fusebpf_registry_find_id(&d->table.reg, ino);
	if (node && node != &d->table.root->node) {
		fusebpf_registry_unref(&d->table.reg, node, nlookup);
		/* still known (retired or live): its record follows */
		node = fusebpf_registry_find_id(&d->table.reg, ino);
		if (node)
			handover_node_sync(d, (struct inode *)node);
	}
	pthread_mutex_unlock(&d->table.lock);
}

int inode_table_init(struct daemon *d, int root_fd)
{
	struct fusebpf_node_key key;
	struct inode *root;
	struct stat st;
	int ret;

	if (fstat(root_fd, &st))
		return -errno;
	ret = make_key(d, root_fd, &st, &key);
	if (ret)
		return ret;
	root = calloc(1, sizeof(*root));
	if (!root)
		return -ENOMEM;
	root->served_relpath = d->opts.nr_served ? strdup("") : NULL;
	ret = fusebpf_registry_init(&d->table.reg, FUSE_ROOT_ID + 1,
				    RETIRED_MAX, &inode_ops, d);
	if (ret || (d->opts.nr_served && !root->served_relpath)) {
		free(root->served_relpath);
		free(root);
		return ret ? ret : -ENOMEM;
	}
	ret = pthread_key_create(&d->table.pins_key, pins_thread_exit);
	if (ret) {
		fusebpf_registry_destroy(&d->table.reg);
		free(root->served_relpath);
		free(root);
		return -ret;
	}
	pthread_mutex_init(&d->table.lock, NULL);
	fd_cap_read(&d->table);
	root->fd = root_fd;
	root->type = S_IFDIR;
	root->node.key = key;
	fusebpf_registry_insert(&d->table.reg, &root->node, FUSE_ROOT_ID);
	/* the kernel never forgets the root */
	fusebpf_registry_ref(&d->table.reg, &root->node, 1);
	d->table.root = root;
	return 0;
}

void inode_table_destroy(struct daemon *d)
{
	d->table.closing = true;
	fusebpf_registry_destroy(&d->table.reg);
	pthread_key_delete(d->table.pins_key);
	pthread_mutex_destroy(&d->table.lock);
}
