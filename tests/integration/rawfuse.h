/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rawfuse - a tiny hand-written FUSE server spoken raw on /dev/fuse, for
 * the tests of the kernel UAPI (bpf_uapi.c, bpf_filter.c): no libfuse, no
 * fusebpfd, so every byte the kernel sees is the one the test chose.
 *
 * One mount per struct rawfuse, served by one thread reading its /dev/fuse
 * fd. It answers INIT (accepting FUSE_BPF if asked to), LOOKUP from a
 * script of names (each with the attributes and the reply extension to
 * return), GETATTR of the node ids it handed out and DESTROY; everything
 * else gets ENOSYS, unless the test's handler takes it. It counts the
 * requests it got per opcode.
 *
 * Needs testlib.h (tl_die) included before it.
 */
#ifndef FUSEBPF_TESTS_RAWFUSE_H
#define FUSEBPF_TESTS_RAWFUSE_H

#include <linux/fuse.h>
#include "uapi/linux/fuse_bpf.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#define RAWFUSE_NODE_MAX	64
#define RAWFUSE_SCRIPT_MAX	32
#define RAWFUSE_EXT_MAX		64
#define RAWFUSE_OPCODES		64

/* What the server answers to LOOKUP of one name (in any directory). */
struct rawfuse_script {
	char name[64];
	mode_t mode;		/* attributes of the entry it returns */
	unsigned char ext[RAWFUSE_EXT_MAX];	/* after fuse_entry_out */
	size_t ext_size;	/* 0: plain fuse_entry_out */
};

struct rawfuse;

/*
 * A test's own requests: called for every request before the server
 * looks at it, with the body of @len bytes; returns true if it replied.
 */
typedef bool (*rawfuse_handler)(struct rawfuse *c, struct fuse_in_header *ih,
				const void *in, size_t len);

struct rawfuse {
	const char *label;	/* for messages */
	int fd;
	char mnt[PATH_MAX];
	bool reply_bpf;		/* accept FUSE_BPF in the INIT reply */
	uint64_t reply_flags;	/* more flags for the INIT reply */
	rawfuse_handler handler;	/* NULL: none */
	pthread_t thread;
	unsigned int conn_id;	/* minor of st_dev: /sys/fs/fuse/connections */

	pthread_mutex_t lock;	/* the fields below */
	pthread_cond_t inited;
	bool init_done;
	uint64_t init_offer;	/* flags | flags2 << 32 of the INIT request */
	/* the last script entry of a name wins */
	struct rawfuse_script script[RAWFUSE_SCRIPT_MAX];
	int nscript;
	mode_t node_mode[RAWFUSE_NODE_MAX];	/* by nodeid; [1] is the root */
	uint64_t next_node;

	atomic_uint ops[RAWFUSE_OPCODES];	/* requests, by opcode */
	atomic_uint lookups_unscripted;
};

static inline unsigned int rawfuse_ops_of(struct rawfuse *c,
					  unsigned int opcode)
{
	return atomic_load(&c->ops[opcode]);
}

/* Requests of every opcode but INIT/FORGET/BATCH_FORGET/INTERRUPT. */
static inline bool rawfuse_counted(unsigned int opcode)
{
	return opcode != FUSE_INIT && opcode != FUSE_FORGET &&
	       opcode != FUSE_BATCH_FORGET && opcode != FUSE_INTERRUPT;
}

static inline unsigned int rawfuse_requests(struct rawfuse *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < RAWFUSE_OPCODES; i++)
		if (rawfuse_counted(i))
			n += atomic_load(&c->ops[i]);
	return n;
}

static inline void rawfuse_snapshot(struct rawfuse *c, unsigned int *ops)
{
	for (unsigned int i = 0; i < RAWFUSE_OPCODES; i++)
		ops[i] = atomic_load(&c->ops[i]);
}

/* rawfuse_requests() as it was when @ops was taken */
static inline unsigned int rawfuse_requests_at(const unsigned int *ops)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < RAWFUSE_OPCODES; i++)
		if (rawfuse_counted(i))
			n += ops[i];
	return n;
}

/* "OP:n ..." of the requests received since @before, for failures */
static inline const char *rawfuse_requests_since(struct rawfuse *c,
						 const unsigned int *before)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < RAWFUSE_OPCODES &&
	     len < sizeof(buf) - 16; i++) {
		unsigned int n = atomic_load(&c->ops[i]) - before[i];

		if (n && rawfuse_counted(i))
			len += snprintf(buf + len, sizeof(buf) - len, "%s:%u ",
					tl_opcode_name(i), n);
	}
	return buf;
}

static inline void rawfuse_fill_attr(struct fuse_attr *a, uint64_t ino,
				     mode_t mode)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = mode;
	a->nlink = S_ISDIR(mode) ? 2 : 1;
	a->blksize = 4096;
}

/* The payload (@a then @b) is sent with error 0 only. */
static inline void rawfuse_reply(struct rawfuse *c, uint64_t unique, int error,
				 const void *a, size_t alen, const void *b,
				 size_t blen)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh) + (error ? 0 : alen + blen),
		.error = error,
		.unique = unique,
	};
	struct iovec iov[3] = {
		{ &oh, sizeof(oh) },
		{ (void *)a, error ? 0 : alen },
		{ (void *)b, error ? 0 : blen },
	};

	/* A reply the kernel rejects is part of some tests: ignore those. */
	if (writev(c->fd, iov, 3) < 0 && errno != ENOENT && errno != EINVAL)
		fprintf(stderr, "%s: reply write: %s\n", c->label,
			strerror(errno));
}

static inline void rawfuse_serve_init(struct rawfuse *c,
				      struct fuse_in_header *ih,
				      const struct fuse_init_in *in)
{
	struct fuse_init_out out = { 0 };
	uint64_t offer = in->flags;

	if (in->flags & FUSE_INIT_EXT)
		offer |= (uint64_t)in->flags2 << 32;
	out.major = FUSE_KERNEL_VERSION;
	out.minor = in->minor;
	out.max_readahead = in->max_readahead;
	out.flags = FUSE_INIT_EXT | FUSE_MAX_PAGES;
	out.max_write = 128 * 1024;
	out.max_pages = 32;
	out.time_gran = 1;
	if (c->reply_bpf && (offer & FUSE_BPF))
		out.flags2 = (uint32_t)(FUSE_BPF >> 32);
	out.flags |= (uint32_t)(c->reply_flags & offer);
	out.flags2 |= (uint32_t)((c->reply_flags & offer) >> 32);
	rawfuse_reply(c, ih->unique, 0, &out, sizeof(out), NULL, 0);

	pthread_mutex_lock(&c->lock);
	c->init_offer = offer;
	c->init_done = true;
	pthread_cond_broadcast(&c->inited);
	pthread_mutex_unlock(&c->lock);
}

static inline void rawfuse_serve_lookup(struct rawfuse *c,
					struct fuse_in_header *ih,
					const char *name)
{
	struct fuse_entry_out eo = { 0 };
	struct rawfuse_script s;
	bool found = false;
	uint64_t node = 0;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < c->nscript; i++) {
		if (!strcmp(c->script[i].name, name)) {
			s = c->script[i];
			found = true;
		}
	}
	if (found && c->next_node < RAWFUSE_NODE_MAX) {
		node = c->next_node++;
		c->node_mode[node] = s.mode;
	} else {
		found = false;
	}
	pthread_mutex_unlock(&c->lock);
	if (!found) {
		atomic_fetch_add(&c->lookups_unscripted, 1);
		rawfuse_reply(c, ih->unique, -ENOENT, NULL, 0, NULL, 0);
		return;
	}
	eo.nodeid = node;
	eo.generation = 1;
	/* cached for long: walks through it must not revalidate with us */
	eo.entry_valid = 3600;
	eo.attr_valid = 3600;
	rawfuse_fill_attr(&eo.attr, node, s.mode);
	rawfuse_reply(c, ih->unique, 0, &eo, sizeof(eo), s.ext, s.ext_size);
}

static inline void rawfuse_serve_getattr(struct rawfuse *c,
					 struct fuse_in_header *ih)
{
	struct fuse_attr_out out = { 0 };
	mode_t mode = 0;

	pthread_mutex_lock(&c->lock);
	if (ih->nodeid < RAWFUSE_NODE_MAX)
		mode = c->node_mode[ih->nodeid];
	pthread_mutex_unlock(&c->lock);
	if (!mode) {
		rawfuse_reply(c, ih->unique, -ENOENT, NULL, 0, NULL, 0);
		return;
	}
	rawfuse_fill_attr(&out.attr, ih->nodeid, mode);
	out.attr_valid = 3600;
	rawfuse_reply(c, ih->unique, 0, &out, sizeof(out), NULL, 0);
}

static inline void *rawfuse_serve(void *arg)
{
	struct rawfuse *c = arg;
	size_t cap = 256 * 1024;
	char *buf = malloc(cap);

	if (!buf)
		tl_die("%s: out of memory", c->label);
	for (;;) {
		ssize_t n = read(c->fd, buf, cap);
		struct fuse_in_header *ih = (void *)buf;
		void *in = buf + sizeof(*ih);

		if (n < 0 && (errno == EINTR || errno == ENOENT ||
			      errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*ih))
			break;	/* ENODEV: unmounted or aborted */
		if (c->handler && c->handler(c, ih, in, n - sizeof(*ih)))
			continue;
		if (ih->opcode < RAWFUSE_OPCODES)
			atomic_fetch_add(&c->ops[ih->opcode], 1);
		switch (ih->opcode) {
		case FUSE_INIT:
			rawfuse_serve_init(c, ih, in);
			break;
		case FUSE_LOOKUP:
			rawfuse_serve_lookup(c, ih, in);
			break;
		case FUSE_GETATTR:
			rawfuse_serve_getattr(c, ih);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_DESTROY:
			rawfuse_reply(c, ih->unique, 0, NULL, 0, NULL, 0);
			break;
		default:
			rawfuse_reply(c, ih->unique, -ENOSYS, NULL, 0, NULL, 0);
			break;
		}
	}
	free(buf);
	return NULL;
}

/*
 * Mounts a connection at @mnt (created if missing) with fd=, file system
 * type fuse.@fsname and @more_opts (NULL: none) appended to the mount
 * options, starts its server thread (with @handler, or NULL) and waits for
 * INIT, which it answers with FUSE_BPF if @reply_bpf and with those of
 * @reply_flags the kernel offered.
 */
static inline void rawfuse_mount_opts(struct rawfuse *c, const char *label,
				      const char *mnt, const char *fsname,
				      bool reply_bpf, rawfuse_handler handler,
				      const char *more_opts,
				      uint64_t reply_flags)
{
	struct timespec deadline;
	char opts[256], type[64];
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->label = label;
	c->handler = handler;
	c->reply_bpf = reply_bpf;
	c->reply_flags = reply_flags;
	c->next_node = 2;
	c->node_mode[FUSE_ROOT_ID] = S_IFDIR | 0755;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->inited, NULL);
	if (snprintf(c->mnt, sizeof(c->mnt), "%s", mnt) >= (int)sizeof(c->mnt))
		tl_die("%s: path too long", label);
	if (mkdir(c->mnt, 0755) && errno != EEXIST)
		tl_die("mkdir %s: %s", c->mnt, strerror(errno));
	c->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		tl_die("open /dev/fuse: %s", strerror(errno));
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other%s%s",
		 c->fd, more_opts ? "," : "", more_opts ? more_opts : "");
	snprintf(type, sizeof(type), "fuse.%s", fsname);
	if (mount(fsname, c->mnt, type, MS_NOSUID | MS_NODEV, opts))
		tl_die("mount %s: %s", c->mnt, strerror(errno));
	if (pthread_create(&c->thread, NULL, rawfuse_serve, c))
		tl_die("pthread_create");
	/* The kernel sends INIT on the first operation at the latest. */
	if (stat(c->mnt, &st) == 0)
		c->conn_id = minor(st.st_dev);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&c->lock);
	while (!c->init_done)
		if (pthread_cond_timedwait(&c->inited, &c->lock, &deadline))
			break;
	pthread_mutex_unlock(&c->lock);
	if (!c->init_done)
		tl_die("%s: no INIT from the kernel within 30 s", label);
}

static inline void rawfuse_mount(struct rawfuse *c, const char *label,
				 const char *mnt, const char *fsname,
				 bool reply_bpf, rawfuse_handler handler)
{
	rawfuse_mount_opts(c, label, mnt, fsname, reply_bpf, handler, NULL, 0);
}

/* Aborts the connection: the server thread's read() ends with ENODEV. */
static inline int rawfuse_abort(struct rawfuse *c)
{
	char abort_path[PATH_MAX];
	int fd, err = 0;

	snprintf(abort_path, sizeof(abort_path),
		 "/sys/fs/fuse/connections/%u/abort", c->conn_id);
	fd = open(abort_path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

static inline void rawfuse_unmount(struct rawfuse *c)
{
	int err;

	if (umount2(c->mnt, MNT_DETACH))
		fprintf(stderr, "umount %s: %s\n", c->mnt, strerror(errno));
	/* in case the superblock lingers; gone already: fine */
	err = rawfuse_abort(c);
	if (err && err != -ENOENT)
		fprintf(stderr, "%s: abort: %s\n", c->label, strerror(-err));
	pthread_join(c->thread, NULL);
	close(c->fd);
}

/* Adds a LOOKUP answer; a later one for the same name wins. */
static inline void rawfuse_script(struct rawfuse *c, const char *name,
				  mode_t mode, const void *ext,
				  size_t ext_size)
{
	struct rawfuse_script *s;

	pthread_mutex_lock(&c->lock);
	if (c->nscript == RAWFUSE_SCRIPT_MAX || ext_size > RAWFUSE_EXT_MAX)
		tl_die("%s: lookup script full", c->label);
	s = &c->script[c->nscript++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->mode = mode;
	if (ext_size)
		memcpy(s->ext, ext, ext_size);
	s->ext_size = ext_size;
	pthread_mutex_unlock(&c->lock);
}

/* ---- the FUSE-BPF ioctls on the connection, returning -errno on failure ---- */

/* FUSE_DEV_IOC_BPF_BACKING_OPEN of @path: the backing id */
static inline int rawfuse_backing_open(struct rawfuse *c, const char *path)
{
	struct fuse_bpf_backing_open arg = { 0 };
	int id;

	arg.fd = open(path, O_PATH | O_CLOEXEC);
	if (arg.fd < 0)
		return -errno;
	id = ioctl(c->fd, FUSE_DEV_IOC_BPF_BACKING_OPEN, &arg);
	if (id < 0)
		id = -errno;
	close(arg.fd);
	return id;
}

/* FUSE_DEV_IOC_BPF_FILTER_OPEN of the registered filter @name: its id */
static inline int rawfuse_filter_open(struct rawfuse *c, const char *name,
				      uint32_t flags)
{
	struct fuse_bpf_filter_open arg = { .flags = flags };
	int id;

	memcpy(arg.name, name, strnlen(name, sizeof(arg.name)));
	id = ioctl(c->fd, FUSE_DEV_IOC_BPF_FILTER_OPEN, &arg);
	return id < 0 ? -errno : id;
}

static inline int rawfuse_filter_close(struct rawfuse *c, uint32_t id)
{
	return ioctl(c->fd, FUSE_DEV_IOC_BPF_FILTER_CLOSE, &id) ? -errno : 0;
}

static inline int rawfuse_root_set(struct rawfuse *c, uint32_t backing_id,
				   uint32_t filter_id)
{
	struct fuse_bpf_root_set arg = {
		.backing_id = backing_id, .filter_id = filter_id,
	};

	return ioctl(c->fd, FUSE_DEV_IOC_BPF_ROOT_SET, &arg) ? -errno : 0;
}

#endif /* FUSEBPF_TESTS_RAWFUSE_H */
