// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE inodes keyed by backing file handle (after libfuse's passthrough_hp
 * and virtiofsd's inodes_by_handle). Each live inode holds an O_PATH fd;
 * identity and nodeid rules are in include/fusebpf/node_registry.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fusebpfd.h"

/* Retired nodes kept for export handles and stable nodeids. */
#define RETIRED_MAX	65536
/* Directory depth walked to prove a reopened directory is inside BACKING */
#define ANCESTRY_MAX	4096

static void retire_inode(struct fusebpf_node *node, void *data)
{
	struct inode *inode = (struct inode *)node;

	(void)data;
	locks_drop_all(inode);
	close(inode->fd);
	inode->fd = -1;
}

static void release_inode(struct fusebpf_node *node, void *data)
{
	struct inode *inode = (struct inode *)node;

	policy_forget(data, inode);
	free(inode->served_relpath);
	free(inode->relpath);
	free(inode->name);
	free(inode);
}

static const struct fusebpf_node_ops inode_ops = {
	.retire = retire_inode,
	.release = release_inode,
};

void inode_proc_path(const struct inode *inode, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", inode->fd);
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
	char *rel;

	free(inode->served_relpath);
	inode->served_relpath = NULL;
	inode->served = parent->served;
	if (inode->served || !parent->served_relpath || !strcmp(name, ".."))
		return;
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

static void set_place(struct inode *inode, struct inode *parent,
		      const char *name)
{
	char *copy;

	if (inode->parent_id == parent->node.nodeid && inode->name &&
	    !strcmp(inode->name, name))
		return;
	copy = strdup(name);
	if (!copy)
		return;	/* keeps the old place: a reopen may then be ESTALE */
	free(inode->name);
	inode->name = copy;
	inode->parent_id = parent->node.nodeid;
}

static void fill_entry(struct daemon *d, struct inode *inode,
		       const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = inode->node.nodeid;
	e->generation = inode->node.generation;
	e->attr = *st;
	/* 0 where the policy decides per caller: see policy.c */
	e->attr_timeout = policy_timeout(d, inode);
	e->entry_timeout = e->attr_timeout > 0 ? d->entry_timeout : 0;
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
		if (inode->fd < 0)
			inode->fd = fd;	/* revived: same file, same nodeid */
		else
			close(fd);
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
	}
	fusebpf_registry_ref(&d->table.reg, &inode->node, 1);
	*out = inode;
	return 0;
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
	fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = inode_stat_fd(fd, &st);
	if (!ret)
		ret = make_key(d, fd, &st, &key);
	if (ret) {
		close(fd);
		return ret;
	}
	pthread_mutex_lock(&d->table.lock);
	ret = attach_locked(d, fd, &st, &key, &inode);
	if (!ret && strcmp(name, ".") && inode != d->table.root) {
		set_served(d, parent, inode, name);
		if (!S_ISDIR(inode->type))
			set_place(inode, parent, name);
	}
	pthread_mutex_unlock(&d->table.lock);
	if (ret)
		return ret;
	policy_tag_lookup(d, parent, inode, name, &st);
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
	if (fd < 0)
		return -ESTALE;
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ||
	    st->st_dev != d->root_dev || (st->st_mode & S_IFMT) != inode->type) {
		close(fd);
		return -ESTALE;
	}
	return fd;
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

/*
 * A non-directory has no ".." to prove where it is. First choice: the name
 * it had in its directory, which must still hold the very same file.
 */
static int reopen_by_place(struct daemon *d, const struct inode *inode)
{
	struct inode *dir = (struct inode *)
		fusebpf_registry_find_id(&d->table.reg, inode->parent_id);
	struct fusebpf_node_key key;
	int dirfd, fd, ret;
	struct stat st;

	if (!dir || !inode->name)
		return -ESTALE;
	dirfd = dir->fd >= 0 ? dir->fd : reopen_dir(d, dir);
	if (dirfd < 0)
		return -ESTALE;
	fd = openat(dirfd, inode->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
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
	return 0;
}

void inode_moved(struct daemon *d, struct inode *dir, const char *name)
{
	struct fusebpf_node_key key;
	struct inode *inode;
	struct stat st;
	int fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!inode_stat_fd(fd, &st) && !S_ISDIR(st.st_mode) &&
	    !make_key(d, fd, &st, &key)) {
		pthread_mutex_lock(&d->table.lock);
		inode = (struct inode *)fusebpf_registry_find_key(&d->table.reg,
								  &key);
		if (inode)
			set_place(inode, dir, name);
		pthread_mutex_unlock(&d->table.lock);
	}
	close(fd);
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
		ret = reopen_retired(d, inode);
	if (!ret)
		ret = inode_stat(inode, &st);
	if (!ret)
		fusebpf_registry_ref(&d->table.reg, &inode->node, 1);
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
	if (inode && inode->fd < 0)
		inode = NULL;
	pthread_mutex_unlock(&d->table.lock);
	return inode;
}

void inode_forget(struct daemon *d, fuse_ino_t ino, uint64_t nlookup)
{
	struct fusebpf_node *node;

	pthread_mutex_lock(&d->table.lock);
	node = fusebpf_registry_find_id(&d->table.reg, ino);
	if (node && node != &d->table.root->node)
		fusebpf_registry_unref(&d->table.reg, node, nlookup);
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
	pthread_mutex_init(&d->table.lock, NULL);
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
	fusebpf_registry_destroy(&d->table.reg);
	pthread_mutex_destroy(&d->table.lock);
}
