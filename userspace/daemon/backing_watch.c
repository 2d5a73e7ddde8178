// SPDX-License-Identifier: GPL-2.0
/*
 * Backing-side changes reach the mount (DESIGN.md "Events", seed 002).
 *
 * The kernel keeps what the daemon told it: entries and attributes for
 * their timeouts, pages of files while they stay open. A change made
 * directly in BACKING (another process, another mount of the same tree)
 * would stay invisible through the mount until those expire. So the daemon
 * watches the backing filesystem with fanotify (FAN_MARK_FILESYSTEM,
 * events identified by file handles: the directory's, the name, and the
 * object's own) and, on a thread of its own, tells the kernel to drop what
 * a change made stale:
 *   create, delete, move from/to of name N in directory P:
 *       expire_entry(P, N) (notify_delete when the child is gone for good),
 *       inval_inode(P) (its attributes and listing), the child's attributes
 *   modify, close_write: inval_inode(node, 0, 0) (attributes and pages)
 *   attrib, delete_self: inval_inode(node, -1, 0) (attributes)
 *   queue overflow (or no memory for a batch): every inode the kernel
 *       holds, and every dentry
 *       (FUSE_NOTIFY_INC_EPOCH, Linux >= 6.16; older kernels: the names the
 *       daemon knows of non-directories; directories then wait for their
 *       entry timeout)
 * A filesystem mark sees the whole filesystem, not only BACKING: an event
 * counts only when its handle is a node the kernel holds (nlookup > 0);
 * the rest, and the events the daemon's own operations caused (the kernel
 * learnt those from the replies), are dropped. Known gap: a lookup that
 * read the backing just before a change but registers its node only after
 * the watch looked the event up leaves that node stale until its timeout;
 * the watch reads events 5 ms after they arrive, so the lookup must have
 * stalled that long between its stat and its registration.
 * Notifications are sent with no lock held and outside any request: an
 * entry invalidation takes the parent's inode lock, which a request in
 * flight on that directory holds.
 *
 * Not watched: other filesystems mounted inside BACKING (their inodes are
 * keyed by st_dev/st_ino, their caches expire by the timeouts), and mode
 * bpf: backed inodes read the backing directly, and forwarding the
 * backing's events in the kernel is a kernel patch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <linux/fuse.h>
#include <unistd.h>

#include "backing_watch.h"
#include "fusebpfd.h"
#include "mode.h"
#include "notify.h"

#define WATCH_MASK	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | \
			 FAN_MOVED_TO | FAN_ATTRIB | FAN_MODIFY | \
			 FAN_CLOSE_WRITE | FAN_DELETE_SELF | FAN_ONDIR)
#define ENTRY_EVENTS	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)
/* one read of events; the queue itself is fanotify's (16384 by default) */
#define EVENT_BUF	(64 * 1024)
#define OVERFLOWS_LOGGED	10
/*
 * Once woken, wait this long before reading: the kernel merges queued
 * events of one object by one process meanwhile, so a stream of writes to
 * a file (an app writing through a passthrough open, reported with its
 * pid) costs one event per period instead of one per write().
 */
#define COALESCE_NS		(5 * 1000 * 1000)

enum inval_kind {
	INVAL_ATTR,	/* attributes of node */
	INVAL_DATA,	/* attributes and cached pages (or listing) of node */
	INVAL_ENTRY,	/* name in directory node */
	INVAL_DELETE,	/* name in directory node, and child is gone */
};

struct inval {
	enum inval_kind kind;
	uint64_t node;
	uint64_t child;		/* INVAL_DELETE */
	char *name;		/* entries: in the event buffer, or owned */
	bool owned;
};

struct inval_list {
	struct inval *v;
	size_t n, cap;
};

struct backing_watch {
	int fan_fd;
	int stop_fd;		/* eventfd: ends the thread */
	pid_t self;		/* events of our own operations carry it */
	bool no_epoch;		/* the kernel refused FUSE_NOTIFY_INC_EPOCH */
	bool no_expire;		/* ... or FUSE_EXPIRE_ONLY */
	bool lost;		/* an invalidation of this batch did not fit */
	pthread_t thread;
	char *buf;
	struct inval_list entries, inodes;
	uint64_t overflows;
};

/* What an event names, pointing into the event buffer */
struct event_ids {
	const struct file_handle *dir;	/* the directory (DFID) */
	const char *name;		/* in it; NULL: none, or "." */
	const struct file_handle *obj;	/* the object itself (FID) */
};

static void parse_ids(const struct fanotify_event_metadata *m,
		      struct event_ids *ids)
{
	const char *p = (const char *)m + m->metadata_len;
	const char *end = (const char *)m + m->event_len;

	memset(ids, 0, sizeof(*ids));
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;
		const struct fanotify_event_info_fid *fid = (const void *)p;
		const struct file_handle *fh = (const void *)fid->handle;
		size_t fh_end = sizeof(*fid) + sizeof(*fh);

		if (h->len < sizeof(*h) || h->len > (size_t)(end - p))
			break;
		if (h->len >= fh_end)
			fh_end += fh->handle_bytes;
		if ((h->info_type == FAN_EVENT_INFO_TYPE_FID ||
		     h->info_type == FAN_EVENT_INFO_TYPE_DFID ||
		     h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) &&
		    fh_end <= h->len && fh->handle_bytes <= MAX_HANDLE_SZ) {
			if (h->info_type == FAN_EVENT_INFO_TYPE_FID) {
				ids->obj = fh;
			} else {
				const char *name = p + fh_end;

				ids->dir = fh;
				ids->name = NULL;
				if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME &&
				    memchr(name, '\0', h->len - fh_end) &&
				    *name && strcmp(name, "."))
					ids->name = name;
			}
		}
		p += h->len;
	}
}

/* The nodeid the kernel holds for @fh, or 0. Table lock held. */
static uint64_t held_node(struct daemon *d, const struct file_handle *fh)
{
	struct fusebpf_node_key key;
	struct fusebpf_node *node;

	if (!fh)
		return 0;
	fusebpf_key_handle(&key, fh->handle_type, fh->f_handle,
			   fh->handle_bytes);
	node = fusebpf_registry_find_key(&d->table.reg, &key);
	return node && !fusebpf_node_retired(node) ? node->nodeid : 0;
}

/* The backing object of @fh has no name left (not merely moved or linked) */
static bool backing_gone(struct daemon *d, const struct file_handle *fh)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h;
	struct stat st;
	bool gone;
	int fd;

	h.fh.handle_bytes = fh->handle_bytes;
	h.fh.handle_type = fh->handle_type;
	memcpy(h.fh.f_handle, fh->f_handle, fh->handle_bytes);
	fd = open_by_handle_at(d->mount_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE || errno == ENOENT;
	gone = !fstat(fd, &st) && st.st_nlink == 0;
	close(fd);
	return gone;
}

/* false: out of memory, that invalidation is lost */
static bool add(struct inval_list *l, enum inval_kind kind, uint64_t node,
		uint64_t child, char *name, bool owned)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct inval *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			if (owned)
				free(name);
			return false;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct inval){ kind, node, child, name, owned };
	return true;
}

static void handle_event(struct daemon *d, struct backing_watch *w,
			 const struct fanotify_event_metadata *m)
{
	uint64_t mask = m->mask, dir, obj;
	struct event_ids ids;

	parse_ids(m, &ids);
	pthread_mutex_lock(&d->table.lock);
	dir = held_node(d, ids.dir);
	obj = held_node(d, ids.obj);
	pthread_mutex_unlock(&d->table.lock);

	bool ok = true;

	if (obj && (mask & (FAN_MODIFY | FAN_CLOSE_WRITE)))
		ok &= add(&w->inodes, INVAL_DATA, obj, 0, NULL, false);
	/* an entry event changes the child's link count and ctime too */
	if (obj && (mask & (FAN_ATTRIB | FAN_DELETE_SELF | ENTRY_EVENTS)))
		ok &= add(&w->inodes, INVAL_ATTR, obj, 0, NULL, false);
	if (dir && ids.name && (mask & ENTRY_EVENTS)) {
		if (obj && (mask & FAN_DELETE) && backing_gone(d, ids.obj))
			ok &= add(&w->entries, INVAL_DELETE, dir, obj,
				  (char *)ids.name, false);
		else
			ok &= add(&w->entries, INVAL_ENTRY, dir, 0,
				  (char *)ids.name, false);
		/* an entry the kernel never looked up: dir listing, mtime */
		ok &= add(&w->inodes, INVAL_DATA, dir, 0, NULL, false);
	}
	/* out of memory: as if events were lost */
	if (!ok)
		w->lost = true;
}

static int by_node_then_kind(const void *a, const void *b)
{
	const struct inval *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return (int)y->kind - (int)x->kind;	/* INVAL_DATA first */
}

/*
 * Entries: each notification only makes the kernel ask again, so their
 * order does not matter and duplicates (a name changed many times in one
 * batch) go.
 */
static int by_entry(const void *a, const void *b)
{
	const struct inval *x = a, *y = b;
	int cmp;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	cmp = strcmp(x->name, y->name);
	if (cmp)
		return cmp;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return x->child < y->child ? -1 : x->child > y->child;
}

/*
 * A name to look up again at its next use (FUSE 7.38, Linux 6.2): unlike
 * an invalidation it leaves the dentry hashed, so a process's cwd inside
 * it and mounts on it stay as they are unless the name really changed.
 */
static int expire_entry(struct backing_watch *w, struct daemon *d,
			uint64_t parent, const char *name)
{
	int ret = notify_expire_entry(d, parent, name);

	if (ret == -ENOSYS || ret == -EINVAL)
		w->no_expire = true;
	return ret;
}

/*
 * Sends the batch. ENOENT from the kernel is normal: it no longer holds
 * that inode or name.
 */
static void flush(struct daemon *d, struct backing_watch *w)
{
	qsort(w->entries.v, w->entries.n, sizeof(*w->entries.v), by_entry);
	for (size_t i = 0; i < w->entries.n; i++) {
		struct inval *e = &w->entries.v[i];
		int ret = -1;

		if (i && !by_entry(e, e - 1))
			goto next;
		if (e->kind == INVAL_DELETE)
			ret = notify_delete(d, e->node, e->child, e->name);
		else if (!w->no_expire)
			ret = expire_entry(w, d, e->node, e->name);
		/*
		 * ENOENT: no such dentry, or (delete) another inode under that
		 * name, already invalidated; otherwise a non-empty directory,
		 * a kernel without expiry, ...: invalidate the name alone
		 */
		if (ret && ret != -ENOENT)
			notify_inval_entry(d, e->node, e->name);
next:
		if (e->owned)
			free(e->name);
	}
	w->entries.n = 0;

	qsort(w->inodes.v, w->inodes.n, sizeof(*w->inodes.v),
	      by_node_then_kind);
	for (size_t i = 0; i < w->inodes.n; i++) {
		struct inval *e = &w->inodes.v[i];

		if (i && e->node == e[-1].node)
			continue;	/* sorted: the first was the widest */
		if (e->kind == INVAL_DATA)
			notify_inval_data(d, e->node);
		else
			notify_inval_attr(d, e->node);
	}
	w->inodes.n = 0;
}

/*
 * Events were lost: anything the kernel holds may be stale. The registry
 * is walked bucket by bucket (it has no iterator of its own).
 */
static void invalidate_everything(struct daemon *d, struct backing_watch *w)
{
	struct fusebpf_node_registry *reg = &d->table.reg;
	bool places;

	/* names in the buffer: all covered below */
	for (size_t i = 0; i < w->entries.n; i++)
		if (w->entries.v[i].owned)
			free(w->entries.v[i].name);
	w->entries.n = 0;
	w->inodes.n = 0;
	w->lost = false;
	if (w->overflows++ < OVERFLOWS_LOGGED)
		log_info("backing watch: event queue overflow or out of memory, invalidating every cached inode%s",
			 w->overflows == OVERFLOWS_LOGGED ?
			 " (further ones not logged)" : "");
	if (!w->no_epoch && notify_inc_epoch(d) == -EINVAL) {
		w->no_epoch = true;
		log_info("backing watch: kernel without FUSE_NOTIFY_INC_EPOCH: after an overflow, directory entries wait for their timeout");
	}
	places = w->no_epoch;
	pthread_mutex_lock(&d->table.lock);
	for (size_t b = 0; b < reg->nbuckets; b++) {
		for (struct fusebpf_node *n = reg->by_id[b]; n; n = n->id_next) {
			struct inode *inode = (struct inode *)n;
			char *name;

			if (fusebpf_node_retired(n))
				continue;
			add(&w->inodes, INVAL_DATA, n->nodeid, 0, NULL, false);
			if (!places || S_ISDIR(inode->type) || !inode->name)
				continue;
			name = strdup(inode->name);
			if (name)
				add(&w->entries, INVAL_ENTRY, inode->parent_id, 0,
				    name, true);
		}
	}
	pthread_mutex_unlock(&d->table.lock);
	flush(d, w);
}

static void *watch_thread(void *arg)
{
	struct daemon *d = arg;
	struct backing_watch *w = d->watch;
	struct pollfd pfd[2] = {
		{ .fd = w->fan_fd, .events = POLLIN },
		{ .fd = w->stop_fd, .events = POLLIN },
	};

	log_bind(d);

	for (;;) {
		const struct fanotify_event_metadata *m;
		bool overflow = false;
		ssize_t len;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("backing watch: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		nanosleep(&(struct timespec){ 0, COALESCE_NS }, NULL);
		len = read(w->fan_fd, w->buf, EVENT_BUF);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			log_error("backing watch: read: %s", strerror(errno));
			break;
		}
		m = (const void *)w->buf;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION)
				continue;
			if (m->mask & FAN_Q_OVERFLOW)
				overflow = true;
			else if ((pid_t)m->pid != w->self)
				handle_event(d, w, m);
		}
		if (overflow || w->lost)
			invalidate_everything(d, w);
		else
			flush(d, w);
	}
	return NULL;
}

/* One line, and the mount runs on its timeouts alone */
static int not_watching(struct daemon *d, struct backing_watch *w,
			const char *why, int err)
{
	log_info("not watching %s for changes made beside the mount (%s: %s): cached entries and attributes expire only by their timeouts",
		 d->backing, why, strerror(err));
	if (w->fan_fd >= 0)
		close(w->fan_fd);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w->buf);
	free(w);
	return 0;
}

int backing_watch_start(struct daemon *d)
{
	struct backing_watch *w;
	sigset_t all, old;
	int ret;

	if (d->opts.no_watch_backing || !d->mode_ops->watch_backing)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->stop_fd = -1;
	w->self = getpid();
	if (d->root_mount_id < 0)
		return not_watching(d, w, "file handles", EOPNOTSUPP);
	/* the target's own handle needs 5.17; before, DELETE_SELF gives it */
	w->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
				  FAN_REPORT_DFID_NAME_TARGET, O_RDONLY);
	if (w->fan_fd < 0 && errno == EINVAL)
		w->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC |
					  FAN_NONBLOCK | FAN_REPORT_DFID_NAME |
					  FAN_REPORT_FID, O_RDONLY);
	if (w->fan_fd < 0)
		return not_watching(d, w, "fanotify_init", errno);
	if (fanotify_mark(w->fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
			  WATCH_MASK, d->mount_fd, NULL))
		return not_watching(d, w, "fanotify_mark", errno);
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	w->buf = malloc(EVENT_BUF);
	if (w->stop_fd < 0 || !w->buf)
		return not_watching(d, w, "start", w->buf ? errno : ENOMEM);
	d->watch = w;
	/* termination signals belong to the loop threads */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&w->thread, NULL, watch_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		d->watch = NULL;
		return not_watching(d, w, "thread", ret);
	}
	return 0;
}

void backing_watch_stop(struct daemon *d)
{
	struct backing_watch *w = d->watch;
	uint64_t one = 1;

	if (!w)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_error("backing watch: cannot stop: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	d->watch = NULL;
	for (size_t i = 0; i < w->entries.n; i++)
		if (w->entries.v[i].owned)
			free(w->entries.v[i].name);
	free(w->entries.v);
	free(w->inodes.v);
	free(w->buf);
	close(w->stop_fd);
	close(w->fan_fd);
	free(w);
}
