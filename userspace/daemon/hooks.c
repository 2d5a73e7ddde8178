// SPDX-License-Identifier: GPL-2.0
/*
 * The embedder's hooks: see hooks.h and include/fusebpf/fusebpf.h.
 * Paths handed to the embedder are relative to BACKING and come from the
 * kernel (/proc/self/fd/N of the backing fd), so they are right after
 * moves without any bookkeeping here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fusebpf/fusebpf.h"
#include "fusebpf/policy.h"
#include "hooks.h"

struct hooks {
	pthread_mutex_t order;		/* events in the order of the changes */
	uint64_t seq;			/* under order */
	uint64_t events, lost;		/* atomic */
	uint64_t decisions, denied;	/* atomic */
};

int hooks_init(struct daemon *d)
{
	struct hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->order, NULL);
	d->hk = h;
	return 0;
}

int hooks_start(struct daemon *d)
{
	(void)d;
	return 0;
}

void hooks_stop(struct daemon *d)
{
	(void)d;
}

void hooks_destroy(struct daemon *d)
{
	if (!d->hk)
		return;
	pthread_mutex_destroy(&d->hk->order);
	free(d->hk);
	d->hk = NULL;
}

void hooks_stats(const struct daemon *d, uint64_t *events, uint64_t *lost,
		 uint64_t *decisions, uint64_t *denied)
{
	const struct hooks *h = d->hk;

	*events = h ? __atomic_load_n(&h->events, __ATOMIC_RELAXED) : 0;
	*lost = h ? __atomic_load_n(&h->lost, __ATOMIC_RELAXED) : 0;
	*decisions = h ? __atomic_load_n(&h->decisions, __ATOMIC_RELAXED) : 0;
	*denied = h ? __atomic_load_n(&h->denied, __ATOMIC_RELAXED) : 0;
}

bool hooks_want_events(const struct daemon *d)
{
	return d->hk && d->hooks.event;
}

void hooks_change_begin(struct daemon *d)
{
	if (hooks_want_events(d))
		pthread_mutex_lock(&d->hk->order);
}

void hooks_change_end(struct daemon *d)
{
	if (hooks_want_events(d))
		pthread_mutex_unlock(&d->hk->order);
}

int hooks_inode_path(struct daemon *d, int fd, char *buf, size_t len)
{
	char proc[32], link[PATH_MAX];
	size_t blen = strlen(d->backing);
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	/* unlinked meanwhile: it has no path any more */
	if (n > 10 && !strcmp(link + n - 10, " (deleted)"))
		return -ENOENT;
	if (blen == 1)		/* BACKING is / */
		blen = 0;
	if (strncmp(link, d->backing, blen) ||
	    (link[blen] && link[blen] != '/'))
		return -EXDEV;	/* not below BACKING (moved out of it) */
	snprintf(buf, len, "%s", link[blen] ? link + blen + 1 : "");
	return 0;
}

/*
 * The path of @inode: its O_PATH fd's, or, where that name is gone (a
 * hard link whose first name was removed), the name it was last looked
 * up or moved under in its directory.
 */
static int node_path(struct daemon *d, struct inode *inode, int ifd,
		     char *buf, size_t len)
{
	char dpath[PATH_MAX], *name = NULL;
	struct inode *parent;
	uint64_t parent_id = 0;
	int ret = hooks_inode_path(d, ifd, buf, len), fd;

	if (ret != -ENOENT)
		return ret;
	pthread_mutex_lock(&d->table.lock);
	parent = inode_parent_locked(d, inode);
	if (parent) {
		parent_id = parent->node.nodeid;
		name = strdup(inode->name);
	}
	pthread_mutex_unlock(&d->table.lock);
	if (!name)
		return ret;
	fd = inode_dup_fd(d, parent_id);
	ret = fd < 0 ? fd : hooks_inode_path(d, fd, dpath, sizeof(dpath));
	if (fd >= 0)
		close(fd);
	if (!ret && (size_t)snprintf(buf, len, "%s%s%s", dpath,
				     *dpath ? "/" : "", name) >= len)
		ret = -ENAMETOOLONG;
	free(name);
	return ret;
}

int hooks_node_path(struct daemon *d, struct inode *inode, char *buf,
		    size_t len)
{
	return node_path(d, inode, inode->fd, buf, len);
}

/* "DIR/NAME" relative to BACKING, or DIR's own path if @name is NULL */
static int entry_path(struct daemon *d, struct inode *dir, const char *name,
		      char *buf, size_t len)
{
	char dpath[PATH_MAX];
	int ret = hooks_node_path(d, dir, dpath, sizeof(dpath));

	if (ret)
		return ret;
	if ((size_t)snprintf(buf, len, "%s%s%s", dpath,
			     name && *dpath ? "/" : "", name ? name : "") >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* under h->order (or from the one thread draining the kernel's events) */
void hooks_emit(struct daemon *d, struct fusebpf_event *ev)
{
	ev->size = sizeof(*ev);
	ev->seq = ++d->hk->seq;
	if (ev->type == FUSEBPF_EV_OVERFLOW)
		__atomic_add_fetch(&d->hk->lost, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&d->hk->events, 1, __ATOMIC_RELAXED);
	d->hooks.event(d->hooks.ctx, ev);
}

static void event_of(fuse_req_t req, struct fusebpf_event *ev, uint32_t type)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->uid = ctx->uid;
	ev->gid = ctx->gid;
	ev->pid = ctx->pid;
}

void hooks_event(fuse_req_t req, uint32_t type, struct inode *dir,
		 const char *name, struct inode *dir2, const char *name2,
		 mode_t mode, uint64_t size, uint32_t flags)
{
	struct daemon *d = req_daemon(req);
	char path[PATH_MAX], path2[PATH_MAX];
	struct fusebpf_event ev;
	int ret;

	if (!hooks_want_events(d))
		return;
	event_of(req, &ev, type);
	ev.mode = mode;
	ev.size_after = size;
	ev.rename_flags = flags;
	ret = entry_path(d, dir, name, path, sizeof(path));
	if (!ret && dir2)
		ret = entry_path(d, dir2, name2, path2, sizeof(path2));
	if (ret) {
		/* the place is gone already: whoever uses it must rescan */
		log_error("event %u: no path (%s): reported as overflow", type,
			  strerror(-ret));
		memset(&ev, 0, sizeof(ev));
		ev.type = FUSEBPF_EV_OVERFLOW;
		ev.path = "";
		hooks_emit(d, &ev);
		return;
	}
	ev.path = path;
	ev.path2 = dir2 ? path2 : NULL;
	hooks_emit(d, &ev);
}

void hooks_event_close_write(struct daemon *d, const struct open_file *of)
{
	char path[PATH_MAX];
	struct fusebpf_event ev = {
		.type = FUSEBPF_EV_CLOSE_WRITE,
		.uid = of->uid,
		.gid = of->gid,
		.pid = of->pid,
		.mode = of->inode->type,
		.path = path,
	};

	if (!hooks_want_events(d))
		return;
	/* unlinked since: its UNLINK was the last word on it */
	if (node_path(d, of->inode, of->fd, path, sizeof(path)))
		return;
	hooks_emit(d, &ev);
}

bool hooks_want_decisions(const struct daemon *d)
{
	return d->hk && d->hooks.decide;
}

int hooks_decide(struct daemon *d, struct fusebpf_decision_req *req)
{
	int err;

	if (!hooks_want_decisions(d))
		return 0;
	req->size = sizeof(*req);
	err = d->hooks.decide(d->hooks.ctx, req);
	__atomic_add_fetch(&d->hk->decisions, 1, __ATOMIC_RELAXED);
	if (err < 0)
		err = -err;
	if (err)
		__atomic_add_fetch(&d->hk->denied, 1, __ATOMIC_RELAXED);
	return err;
}

void hooks_audit(struct daemon *d, const struct fusebpf_audit_event *ev)
{
	struct fusebpf_audit_record rec = {
		.size = sizeof(rec),
		.opcode = ev->opcode,
		.uid = ev->uid,
		.pid = ev->pid,
		.nodeid = ev->nodeid,
		.tag = ev->tag,
		.result = ev->result,
		.denied = !!(ev->flags & FUSEBPF_AUDIT_DENIED),
	};

	if (d->hooks.audit)
		d->hooks.audit(d->hooks.ctx, &rec);
}
