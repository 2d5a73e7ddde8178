// SPDX-License-Identifier: GPL-2.0
/*
 * Restart without unmount: what a worker hands to the next one.
 *
 * The supervisor (supervisor.c) holds /dev/fuse, a memfd with this state
 * and a SOCK_SEQPACKET socket to the worker; the worker keeps the state
 * up to date as it changes, always before the reply that lets the kernel
 * rely on it, so a worker killed at any instant leaves a state that
 * matches what the kernel holds (or holds a little more: a reference for
 * a reply that never left is only a leak of one retired node).
 *
 *  - nodes: nodeid -> backing key (file handle), generation, nlookup,
 *    place (parent nodeid, name), served. Each record has two copies and
 *    an index saying which is current, switched by one store after the
 *    other copy is written: a kill mid-update leaves the old one whole.
 *  - open files and directories: at the index of their fi->fh
 *    (fh_table.c), nodeid, open flags, passthrough backing id; the
 *    backing fd itself is sent to the supervisor (SCM_RIGHTS), which
 *    keeps a dup: the open file description survives (offsets, flock
 *    and OFD locks, an unlinked file).
 *  - lock owners (locks.c): the description each POSIX lock owner locks
 *    through, kept by the supervisor the same way, so the locks stay.
 *  - the kernel's INIT request (a new worker feeds it to libfuse, which
 *    wants one before any other request; raw_io.c swallows the reply).
 *  - a journal of non-idempotent requests (replay.c).
 *
 * The layout is versioned (header magic, version, region offsets): a live
 * upgrade to a binary with another layout version refuses the takeover.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/options.h"
#include "fusebpfd.h"
#include "handover.h"
#include "handover_msg.h"

#define HO_MAGIC	0x3130534f48465542ULL	/* "BUFHOS01" */
#define HO_VERSION	1
#define HO_NODES	(1u << 18)
#define HO_LOCKS	(1u << 16)
#define HO_JOURNAL	4096
#define HO_INIT_MAX	512

struct ho_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;
	uint64_t nodes_off, files_off, locks_off, journal_off;
	uint32_t nodes_max, files_max, locks_max, journal_max;
	uint32_t node_hw, lock_hw;	/* slots ever used (scan bounds) */
	uint64_t file_hw;		/* highest fh ever recorded */
	uint64_t next_nodeid;
	uint64_t replayed;		/* journaled requests that came again */
	char instance[FUSEBPF_INSTANCE_NAME_MAX];
	uint32_t init_len;
	uint8_t init[HO_INIT_MAX];
};

struct ho_node {
	uint64_t nodeid;
	uint64_t parent_id;		/* 0: no place */
	uint64_t nlookup;
	uint32_t generation;
	uint32_t type;
	uint32_t key_kind, key_len;
	uint8_t key[FUSEBPF_NODE_KEY_MAX];
	uint8_t served;
	uint8_t pad[7];
	char name[NAME_MAX + 1];
};

struct ho_node_slot {
	uint32_t cur;			/* 0: free; 1 or 2: rec[cur - 1] */
	uint32_t pad;
	struct ho_node rec[2];
};

struct ho_file {
	uint32_t used;			/* written last, cleared first */
	int32_t flags;			/* open flags */
	uint64_t nodeid;		/* 0 for a directory */
	int32_t backing_id;
	uint8_t rdwr, cached, dir, pad;
};

struct ho_lock {
	uint32_t used;
	int32_t pid;
	uint64_t nodeid;
	uint64_t owner;
	uint64_t of_fh;
};

struct handover {
	struct ho_header *hdr;
	size_t size;
	struct ho_node_slot *nodes;
	struct ho_file *files;
	struct ho_lock *locks;
	struct handover_journal *journal;
	int sock;
	bool takeover;
	bool frozen;
	bool init_taken;
	bool full_logged;
	uint32_t *node_free, nnode_free;	/* table lock */
	pthread_mutex_t lock;			/* lock slots */
	uint32_t *lock_free, nlock_free;
};

static size_t align_up(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

int handover_state_peek(int state_fd, char *instance, size_t len,
			uint64_t *replayed)
{
	struct ho_header h;

	if (pread(state_fd, &h, sizeof(h), 0) != sizeof(h) ||
	    h.magic != HO_MAGIC || h.version != HO_VERSION)
		return -ENOENT;
	h.instance[sizeof(h.instance) - 1] = '\0';
	snprintf(instance, len, "%s", h.instance);
	*replayed = h.replayed;
	return 0;
}

size_t handover_state_size(void)
{
	return align_up(sizeof(struct ho_header)) +
	       align_up((size_t)HO_NODES * sizeof(struct ho_node_slot)) +
	       align_up((size_t)FH_SLOTS_MAX * sizeof(struct ho_file)) +
	       align_up((size_t)HO_LOCKS * sizeof(struct ho_lock)) +
	       align_up((size_t)HO_JOURNAL * sizeof(struct handover_journal));
}

static void format(struct ho_header *h, size_t size)
{
	memset(h, 0, sizeof(*h));
	h->version = HO_VERSION;
	h->header_size = sizeof(*h);
	h->size = size;
	h->nodes_max = HO_NODES;
	h->files_max = FH_SLOTS_MAX;
	h->locks_max = HO_LOCKS;
	h->journal_max = HO_JOURNAL;
	h->nodes_off = align_up(sizeof(*h));
	h->files_off = h->nodes_off + align_up((size_t)HO_NODES *
					       sizeof(struct ho_node_slot));
	h->locks_off = h->files_off + align_up((size_t)FH_SLOTS_MAX *
					       sizeof(struct ho_file));
	h->journal_off = h->locks_off + align_up((size_t)HO_LOCKS *
						 sizeof(struct ho_lock));
	__atomic_store_n(&h->magic, HO_MAGIC, __ATOMIC_RELEASE);
}

static bool layout_ok(const struct ho_header *h, size_t size)
{
	return h->magic == HO_MAGIC && h->version == HO_VERSION &&
	       h->header_size == sizeof(*h) && h->size == size &&
	       h->nodes_max == HO_NODES && h->files_max == FH_SLOTS_MAX &&
	       h->locks_max == HO_LOCKS && h->journal_max == HO_JOURNAL &&
	       h->node_hw <= HO_NODES && h->lock_hw <= HO_LOCKS &&
	       h->init_len <= HO_INIT_MAX;
}

int handover_open(struct daemon *d, const struct handover_fds *fds)
{
	size_t size = handover_state_size();
	struct handover *ho = calloc(1, sizeof(*ho));
	struct stat st;
	void *map;

	if (!ho)
		return -ENOMEM;
	if (fstat(fds->state, &st) || (size_t)st.st_size != size) {
		log_error("handover: the state memfd is not %zu bytes", size);
		free(ho);
		return -EINVAL;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds->state,
		   0);
	if (map == MAP_FAILED) {
		free(ho);
		return -errno;
	}
	ho->hdr = map;
	ho->size = size;
	if (!fds->takeover) {
		format(ho->hdr, size);
	} else if (!layout_ok(ho->hdr, size)) {
		log_error("handover: the state has another layout (version %u, ours %u)",
			  ho->hdr->version, HO_VERSION);
		munmap(map, size);
		free(ho);
		return -EPROTO;
	}
	ho->nodes = (void *)((char *)map + ho->hdr->nodes_off);
	ho->files = (void *)((char *)map + ho->hdr->files_off);
	ho->locks = (void *)((char *)map + ho->hdr->locks_off);
	ho->journal = (void *)((char *)map + ho->hdr->journal_off);
	ho->node_free = calloc(HO_NODES, sizeof(*ho->node_free));
	ho->lock_free = calloc(HO_LOCKS, sizeof(*ho->lock_free));
	if (!ho->node_free || !ho->lock_free) {
		free(ho->node_free);
		free(ho->lock_free);
		munmap(map, size);
		free(ho);
		return -ENOMEM;
	}
	pthread_mutex_init(&ho->lock, NULL);
	ho->sock = fds->sock;
	ho->takeover = fds->takeover;
	d->ho = ho;
	return 0;
}

bool handover_takeover(const struct daemon *d)
{
	return d->ho && d->ho->takeover;
}

/* ---- messages to the supervisor ---- */

static int send_msg(struct handover *ho, uint32_t op, uint64_t key, int fd)
{
	struct handover_msg m = { .op = op, .key = key };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		msg.msg_control = c.buf;
		msg.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
	}
	do {
		n = sendmsg(ho->sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

void handover_ready(struct daemon *d)
{
	if (d->ho)
		send_msg(d->ho, HANDOVER_MSG_READY, 0, -1);
}

void handover_freeze(struct daemon *d)
{
	if (d->ho)
		__atomic_store_n(&d->ho->frozen, true, __ATOMIC_RELEASE);
}

static bool live(const struct daemon *d)
{
	return d->ho && !__atomic_load_n(&d->ho->frozen, __ATOMIC_ACQUIRE);
}

/* ---- INIT and instance ---- */

void handover_save_init(struct daemon *d, const void *req, size_t len)
{
	if (!live(d) || d->ho->takeover || len > HO_INIT_MAX)
		return;
	memcpy(d->ho->hdr->init, req, len);
	__atomic_store_n(&d->ho->hdr->init_len, len, __ATOMIC_RELEASE);
}

size_t handover_take_init(struct daemon *d, void *buf, size_t len)
{
	struct handover *ho = d->ho;
	size_t n;

	if (!ho || !ho->takeover ||
	    __atomic_exchange_n(&ho->init_taken, true, __ATOMIC_ACQ_REL))
		return 0;
	n = ho->hdr->init_len;
	if (!n || n > len)
		return 0;
	memcpy(buf, ho->hdr->init, n);
	return n;
}

void handover_set_instance(struct daemon *d)
{
	struct ho_header *h;

	if (!d->ho)
		return;
	h = d->ho->hdr;
	if (d->ho->takeover)
		snprintf(d->instance, sizeof(d->instance), "%s", h->instance);
	else
		snprintf(h->instance, sizeof(h->instance), "%s", d->instance);
}

/* ---- nodes (table lock held) ---- */

void handover_next_nodeid(struct daemon *d, uint64_t next)
{
	if (live(d))
		d->ho->hdr->next_nodeid = next;
}

static int node_slot_alloc(struct handover *ho)
{
	if (ho->nnode_free)
		return ho->node_free[--ho->nnode_free];
	if (ho->hdr->node_hw < HO_NODES)
		return ho->hdr->node_hw++;
	return -1;
}

void handover_node_sync(struct daemon *d, struct inode *inode)
{
	struct handover *ho = d->ho;
	struct ho_node_slot *s;
	struct ho_node *r;
	int slot;

	if (!live(d) || inode->node.nodeid == FUSE_ROOT_ID)
		return;
	if (!inode->ho_slot) {
		slot = node_slot_alloc(ho);
		if (slot < 0) {
			if (!ho->full_logged)
				log_error("handover: more than %u nodes: the next worker will not know them all",
					  HO_NODES);
			ho->full_logged = true;
			return;
		}
		inode->ho_slot = slot + 1;
	}
	s = &ho->nodes[inode->ho_slot - 1];
	r = &s->rec[s->cur == 1 ? 1 : 0];	/* the copy not in use */
	r->nodeid = inode->node.nodeid;
	r->generation = inode->node.generation;
	r->nlookup = inode->node.nlookup;
	r->type = inode->type;
	r->key_kind = inode->node.key.kind;
	r->key_len = inode->node.key.len;
	memcpy(r->key, inode->node.key.data, inode->node.key.len);
	r->served = inode->served;
	r->parent_id = inode->name ? inode->parent_id : 0;
	snprintf(r->name, sizeof(r->name), "%s", inode->name ? inode->name : "");
	__atomic_store_n(&s->cur, r == &s->rec[0] ? 1 : 2, __ATOMIC_RELEASE);
}

void handover_node_gone(struct daemon *d, struct inode *inode)
{
	struct handover *ho = d->ho;

	if (!live(d) || !inode->ho_slot)
		return;
	__atomic_store_n(&ho->nodes[inode->ho_slot - 1].cur, 0,
			 __ATOMIC_RELEASE);
	ho->node_free[ho->nnode_free++] = inode->ho_slot - 1;
	inode->ho_slot = 0;
}

/* ---- open files ---- */

/*
 * 0, also when the supervisor is gone (killed): then nothing can be
 * handed over any more and this worker serves on as an unsupervised
 * daemon (the mount ends with it).
 */
/* the restore scans open-file records up to the highest fh recorded */
static void file_hw_raise(struct handover *ho, uint64_t fh)
{
	uint64_t hw = __atomic_load_n(&ho->hdr->file_hw, __ATOMIC_RELAXED);

	while (fh > hw && !__atomic_compare_exchange_n(&ho->hdr->file_hw, &hw,
						       fh, false,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

uint64_t handover_file_slots(struct daemon *d)
{
	return d->ho ? __atomic_load_n(&d->ho->hdr->file_hw, __ATOMIC_RELAXED) :
	       0;
}

static int put_fd(struct daemon *d, uint64_t key, int fd)
{
	int ret = send_msg(d->ho, HANDOVER_MSG_PUT, key, fd);

	if (ret == -EPIPE || ret == -ECONNRESET || ret == -ENOTCONN) {
		if (!__atomic_exchange_n(&d->ho->frozen, true, __ATOMIC_ACQ_REL))
			log_error("handover: the supervisor is gone: no restart will take over this mount");
		return 0;
	}
	if (ret)
		log_error("handover: cannot hand an fd to the supervisor: %s",
			  strerror(-ret));
	return ret;
}

int handover_file_opened(struct daemon *d, const struct open_file *of,
			 int flags)
{
	struct ho_file *f;

	if (!live(d))
		return 0;
	if (of->fh > FH_SLOTS_MAX)
		return -ENFILE;
	file_hw_raise(d->ho, of->fh);
	f = &d->ho->files[of->fh - 1];
	f->flags = flags;
	f->nodeid = of->inode->node.nodeid;
	f->backing_id = of->backing_id;
	f->rdwr = of->rdwr;
	f->cached = of->cached;
	f->dir = 0;
	/* the fd first: a record without its fd is dropped at takeover */
	if (put_fd(d, HANDOVER_KEY_FILE(of->fh), of->fd))
		return -EIO;
	__atomic_store_n(&f->used, 1, __ATOMIC_RELEASE);
	return 0;
}

int handover_dir_opened(struct daemon *d, uint64_t fh, int fd)
{
	struct ho_file *f;

	if (!live(d))
		return 0;
	if (fh > FH_SLOTS_MAX)
		return -ENFILE;
	file_hw_raise(d->ho, fh);
	f = &d->ho->files[fh - 1];
	memset(f, 0, sizeof(*f));
	f->dir = 1;
	if (put_fd(d, HANDOVER_KEY_FILE(fh), fd))
		return -EIO;
	__atomic_store_n(&f->used, 1, __ATOMIC_RELEASE);
	return 0;
}

void handover_file_released(struct daemon *d, uint64_t fh)
{
	if (!live(d) || !fh || fh > FH_SLOTS_MAX)
		return;
	__atomic_store_n(&d->ho->files[fh - 1].used, 0, __ATOMIC_RELEASE);
	send_msg(d->ho, HANDOVER_MSG_DROP, HANDOVER_KEY_FILE(fh), -1);
}

int handover_file_flags(struct daemon *d, uint64_t fh)
{
	struct ho_file *f;

	if (!d->ho || !fh || fh > FH_SLOTS_MAX)
		return -1;
	f = &d->ho->files[fh - 1];
	return __atomic_load_n(&f->used, __ATOMIC_ACQUIRE) && !f->dir ?
	       f->flags : -1;
}

/* ---- lock owners ---- */

uint32_t handover_lock_saved(struct daemon *d, uint64_t nodeid,
			     uint64_t owner, uint64_t of_fh, pid_t pid, int fd)
{
	struct handover *ho = d->ho;
	struct ho_lock *l;
	uint32_t slot;

	if (!live(d))
		return 0;
	pthread_mutex_lock(&ho->lock);
	if (ho->nlock_free) {
		slot = ho->lock_free[--ho->nlock_free];
	} else if (ho->hdr->lock_hw < HO_LOCKS) {
		slot = ho->hdr->lock_hw++;
	} else {
		pthread_mutex_unlock(&ho->lock);
		return 0;
	}
	pthread_mutex_unlock(&ho->lock);
	l = &ho->locks[slot];
	l->pid = pid;
	l->nodeid = nodeid;
	l->owner = owner;
	l->of_fh = of_fh;
	if (put_fd(d, HANDOVER_KEY_LOCK(slot + 1), fd)) {
		pthread_mutex_lock(&ho->lock);
		ho->lock_free[ho->nlock_free++] = slot;
		pthread_mutex_unlock(&ho->lock);
		return 0;
	}
	__atomic_store_n(&l->used, 1, __ATOMIC_RELEASE);
	return slot + 1;
}

void handover_lock_pid(struct daemon *d, uint32_t slot, pid_t pid)
{
	if (live(d) && slot)
		__atomic_store_n(&d->ho->locks[slot - 1].pid, pid,
				 __ATOMIC_RELAXED);
}

void handover_lock_gone(struct daemon *d, uint32_t slot)
{
	struct handover *ho = d->ho;

	if (!live(d) || !slot)
		return;
	__atomic_store_n(&ho->locks[slot - 1].used, 0, __ATOMIC_RELEASE);
	send_msg(ho, HANDOVER_MSG_DROP, HANDOVER_KEY_LOCK(slot), -1);
	pthread_mutex_lock(&ho->lock);
	ho->lock_free[ho->nlock_free++] = slot - 1;
	pthread_mutex_unlock(&ho->lock);
}

/* ---- journal ---- */

struct handover_journal *handover_journal(struct daemon *d, uint64_t unique)
{
	if (!live(d))
		return NULL;
	return &d->ho->journal[(unique >> 1) % HO_JOURNAL];
}

void handover_count_replay(struct daemon *d)
{
	if (live(d))
		__atomic_fetch_add(&d->ho->hdr->replayed, 1, __ATOMIC_RELAXED);
}

/* ---- takeover ---- */


static int recv_msg(int sock, struct handover_msg *m, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf),
	};
	struct cmsghdr *ch;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != sizeof(*m))
		return -EPROTO;
	for (ch = CMSG_FIRSTHDR(&msg); ch; ch = CMSG_NXTHDR(&msg, ch))
		if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(ch), sizeof(int));
	return 0;
}

int handover_receive_fds(struct daemon *d, struct handover_kept *k)
{
	struct handover *ho = d->ho;
	struct handover_msg m;
	int fd, ret;

	k->nfile = FH_SLOTS_MAX;
	k->nlock = HO_LOCKS;
	/* fd + 1, 0: none; zeroed lazily by the kernel, touched as used */
	k->file = calloc(k->nfile, sizeof(int));
	k->lock = calloc(k->nlock, sizeof(int));
	if (!k->file || !k->lock)
		return -ENOMEM;
	for (;;) {
		ret = recv_msg(ho->sock, &m, &fd);
		if (ret)
			return ret;
		if (m.op == HANDOVER_MSG_END)
			return 0;
		if (m.op != HANDOVER_MSG_PUT || fd < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (HANDOVER_KEY_IS_LOCK(m.key) &&
		    HANDOVER_KEY_INDEX(m.key) - 1 < k->nlock) {
			k->lock[HANDOVER_KEY_INDEX(m.key) - 1] = fd + 1;
		} else if (!HANDOVER_KEY_IS_LOCK(m.key) &&
			   HANDOVER_KEY_INDEX(m.key) - 1 < k->nfile) {
			k->file[HANDOVER_KEY_INDEX(m.key) - 1] = fd + 1;
			if (HANDOVER_KEY_INDEX(m.key) > k->file_max)
				k->file_max = HANDOVER_KEY_INDEX(m.key);
		} else {
			close(fd);
		}
	}
}

static struct inode *find_inode(struct daemon *d, uint64_t nodeid)
{
	return (struct inode *)fusebpf_registry_find_id(&d->table.reg, nodeid);
}

/* relative path of @inode from its places, "" for the root; NULL if none */
static char *relpath_of(struct daemon *d, struct inode *inode)
{
	char *path = strdup(""), *next;
	int depth = 0;

	while (path && inode && inode != d->table.root) {
		if (!inode->name || ++depth > 4096) {
			free(path);
			return NULL;
		}
		if (asprintf(&next, "%s%s%s", inode->name, *path ? "/" : "",
			     path) < 0)
			next = NULL;
		free(path);
		path = next;
		inode = find_inode(d, inode->parent_id);
	}
	return path;
}

/* -o served=: directories above served subtrees keep their relpath */
static void restore_served(struct daemon *d, struct inode *inode)
{
	char *rel;

	if (!d->opts.nr_served || !S_ISDIR(inode->type) || inode->served)
		return;
	rel = relpath_of(d, inode);
	if (rel && fusebpf_served_relation(&d->opts, rel) ==
		   FUSEBPF_SERVED_ANCESTOR)
		inode->served_relpath = rel;
	else
		free(rel);
}

int handover_restore_nodes(struct daemon *d)
{
	struct handover *ho = d->ho;
	struct fusebpf_node_registry *reg = &d->table.reg;
	uint32_t hw = ho->hdr->node_hw, n = 0;

	pthread_mutex_lock(&d->table.lock);
	for (uint32_t slot = 0; slot < hw; slot++) {
		struct ho_node_slot *s = &ho->nodes[slot];
		struct ho_node *r;
		struct inode *inode;

		if (s->cur != 1 && s->cur != 2) {
			s->cur = 0;
			ho->node_free[ho->nnode_free++] = slot;
			continue;
		}
		r = &s->rec[s->cur - 1];
		inode = calloc(1, sizeof(*inode));
		if (!inode || r->key_len > FUSEBPF_NODE_KEY_MAX ||
		    r->nodeid <= FUSE_ROOT_ID || find_inode(d, r->nodeid)) {
			free(inode);
			s->cur = 0;
			ho->node_free[ho->nnode_free++] = slot;
			continue;
		}
		inode->fd = -1;
		inode->type = r->type;
		inode->served = r->served;
		inode->node.key.kind = r->key_kind;
		inode->node.key.len = r->key_len;
		memcpy(inode->node.key.data, r->key, r->key_len);
		fusebpf_registry_insert(reg, &inode->node, r->nodeid);
		inode->node.generation = r->generation;
		inode->ho_slot = slot + 1;
		/* retired nodes too: 1 now, dropped below once placed */
		fusebpf_registry_ref(reg, &inode->node,
				     r->nlookup ? r->nlookup : 1);
		if (r->parent_id && r->name[0]) {
			inode->parent_id = r->parent_id;
			inode->name = strndup(r->name, NAME_MAX);
		}
		n++;
	}
	if (ho->hdr->next_nodeid > reg->next_nodeid)
		reg->next_nodeid = ho->hdr->next_nodeid;
	/* places hold their parents */
	for (uint32_t slot = 0; slot < hw; slot++) {
		struct ho_node_slot *s = &ho->nodes[slot];
		struct inode *inode, *parent;

		if (!s->cur)
			continue;
		inode = find_inode(d, s->rec[s->cur - 1].nodeid);
		if (!inode || !inode->name)
			continue;
		parent = find_inode(d, inode->parent_id);
		if (parent) {
			fusebpf_registry_hold(reg, &parent->node);
		} else {
			free(inode->name);
			inode->name = NULL;
		}
	}
	for (uint32_t slot = 0; slot < hw; slot++) {
		struct ho_node_slot *s = &ho->nodes[slot];
		struct inode *inode;

		if (!s->cur)
			continue;
		inode = find_inode(d, s->rec[s->cur - 1].nodeid);
		if (!inode)
			continue;
		restore_served(d, inode);
		if (!s->rec[s->cur - 1].nlookup)
			fusebpf_registry_unref(reg, &inode->node, 1);
	}
	pthread_mutex_unlock(&d->table.lock);
	log_info("takeover: %u nodes", n);
	return 0;
}

void handover_file_forget(struct daemon *d, uint64_t fh)
{
	if (!d->ho || !fh || fh > FH_SLOTS_MAX)
		return;
	d->ho->files[fh - 1].used = 0;
	send_msg(d->ho, HANDOVER_MSG_DROP, HANDOVER_KEY_FILE(fh), -1);
}

bool handover_file_record(struct daemon *d, uint64_t fh,
			  struct handover_file_rec *rec)
{
	const struct ho_file *f;

	if (!d->ho || !fh || fh > FH_SLOTS_MAX)
		return false;
	f = &d->ho->files[fh - 1];
	if (!f->used)
		return false;
	*rec = (struct handover_file_rec){
		.nodeid = f->nodeid, .flags = f->flags,
		.backing_id = f->backing_id, .rdwr = f->rdwr,
		.cached = f->cached, .dir = f->dir,
	};
	return true;
}

uint32_t handover_lock_slots(struct daemon *d)
{
	return d->ho ? d->ho->hdr->lock_hw : 0;
}

bool handover_lock_record(struct daemon *d, uint32_t slot,
			  struct handover_lock_rec *rec)
{
	const struct ho_lock *l;

	if (!d->ho || !slot || slot > d->ho->hdr->lock_hw)
		return false;
	l = &d->ho->locks[slot - 1];
	if (!l->used)
		return false;
	*rec = (struct handover_lock_rec){
		.nodeid = l->nodeid, .owner = l->owner, .of_fh = l->of_fh,
		.pid = l->pid,
	};
	return true;
}

void handover_lock_forget(struct daemon *d, uint32_t slot)
{
	struct handover *ho = d->ho;

	if (!ho || !slot || slot > ho->hdr->lock_hw)
		return;
	ho->locks[slot - 1].used = 0;
	send_msg(ho, HANDOVER_MSG_DROP, HANDOVER_KEY_LOCK(slot), -1);
	ho->lock_free[ho->nlock_free++] = slot - 1;
}
