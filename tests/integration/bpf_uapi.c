// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_uapi - the FUSE-BPF kernel UAPI (include/uapi/linux/fuse_bpf.h),
 * spoken raw on /dev/fuse by a tiny hand-written server: no libfuse, no
 * fusebpfd, so every byte the kernel sees is the one the test chose.
 *
 *   bpf_uapi [SCRATCH_DIR]        (default $TMPDIR or /tmp; needs root)
 *
 * Runs only on a kernel with the kernel-patches/ series (make vm-test). It
 * mounts three connections with fd=, answers INIT and LOOKUP by hand and
 * checks: the feature file; the INIT offer; backing registration (flags,
 * reserved, bad fd, O_PATH, unprivileged caller, close); stacking (a FUSE
 * superblock and a too-deep overlayfs refused); lookup reply extensions
 * (a good one served in the kernel with no request to the server; unknown
 * id, id of another connection, short/long extension, bad action/flags/
 * reserved, extension without FUSE_BPF negotiated: EIO); BACKING_NONE
 * subtrees served by the server; the root attached and detached by ioctl.
 * The VM harness fails the run on any kernel report these provoke.
 */
#include <dirent.h>
#include <linux/fuse.h>
#include "uapi/linux/fuse_bpf.h"
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include "testlib.h"

#ifndef FUSE_PASSTHROUGH
#define FUSE_PASSTHROUGH (1ULL << 37)
#endif

#define NODE_MAX	64
#define SCRIPT_MAX	32
#define EXT_MAX		64

/* What the server answers to LOOKUP of one name. */
struct lookup_script {
	char name[64];
	mode_t mode;		/* attributes of the entry it returns */
	unsigned char ext[EXT_MAX];	/* appended after fuse_entry_out */
	size_t ext_size;	/* 0: plain fuse_entry_out */
};

/* One mount, served by one thread reading its /dev/fuse fd. */
struct conn {
	const char *label;
	int fd;
	char mnt[PATH_MAX];
	bool reply_bpf;		/* accept FUSE_BPF in the INIT reply */
	pthread_t thread;
	unsigned int conn_id;	/* minor of st_dev: /sys/fs/fuse/connections */

	pthread_mutex_t lock;
	pthread_cond_t inited;
	bool init_done;
	uint64_t init_offer;	/* flags | flags2 << 32 of the INIT request */
	struct lookup_script script[SCRIPT_MAX];
	int nscript;
	mode_t node_mode[NODE_MAX];	/* by nodeid; [1] is the root */
	uint64_t next_node;
	atomic_uint ops[64];	/* requests received, by opcode */
	atomic_uint lookups_unscripted;
};

static char scratch[PATH_MAX];

static unsigned int ops_of(struct conn *c, unsigned int opcode)
{
	return atomic_load(&c->ops[opcode]);
}

/* Requests of every opcode but FORGET/BATCH_FORGET/INTERRUPT. */
static unsigned int requests(struct conn *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < 64; i++)
		if (i != FUSE_FORGET && i != FUSE_BATCH_FORGET &&
		    i != FUSE_INTERRUPT)
			n += atomic_load(&c->ops[i]);
	return n;
}

static void fill_attr(struct fuse_attr *a, uint64_t ino, mode_t mode)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = mode;
	a->nlink = S_ISDIR(mode) ? 2 : 1;
	a->blksize = 4096;
}

static void reply(struct conn *c, uint64_t unique, int error,
		  const void *a, size_t alen, const void *b, size_t blen)
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

	/* A reply the kernel rejects is part of some tests: ignore errors. */
	if (writev(c->fd, iov, 3) < 0 && errno != ENOENT && errno != EINVAL)
		fprintf(stderr, "%s: reply write: %s\n", c->label,
			strerror(errno));
}

static void serve_init(struct conn *c, struct fuse_in_header *ih, void *arg)
{
	struct fuse_init_in *in = arg;
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
	reply(c, ih->unique, 0, &out, sizeof(out), NULL, 0);

	pthread_mutex_lock(&c->lock);
	c->init_offer = offer;
	c->init_done = true;
	pthread_cond_broadcast(&c->inited);
	pthread_mutex_unlock(&c->lock);
}

static void serve_lookup(struct conn *c, struct fuse_in_header *ih,
			 const char *name)
{
	struct fuse_entry_out eo = { 0 };
	struct lookup_script s;
	bool found = false;
	uint64_t node;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < c->nscript; i++) {
		if (!strcmp(c->script[i].name, name)) {
			s = c->script[i];
			found = true;
		}
	}
	if (found && c->next_node < NODE_MAX) {
		node = c->next_node++;
		c->node_mode[node] = s.mode;
	} else {
		found = false;
	}
	pthread_mutex_unlock(&c->lock);
	if (!found) {
		atomic_fetch_add(&c->lookups_unscripted, 1);
		reply(c, ih->unique, -ENOENT, NULL, 0, NULL, 0);
		return;
	}
	eo.nodeid = node;
	eo.generation = 1;
	/* cached for long: walks through it must not revalidate with us */
	eo.entry_valid = 3600;
	eo.attr_valid = 3600;
	fill_attr(&eo.attr, node, s.mode);
	reply(c, ih->unique, 0, &eo, sizeof(eo), s.ext, s.ext_size);
}

static void serve_getattr(struct conn *c, struct fuse_in_header *ih)
{
	struct fuse_attr_out out = { 0 };
	mode_t mode = 0;

	pthread_mutex_lock(&c->lock);
	if (ih->nodeid < NODE_MAX)
		mode = c->node_mode[ih->nodeid];
	pthread_mutex_unlock(&c->lock);
	if (!mode) {
		reply(c, ih->unique, -ENOENT, NULL, 0, NULL, 0);
		return;
	}
	fill_attr(&out.attr, ih->nodeid, mode);
	out.attr_valid = 3600;
	reply(c, ih->unique, 0, &out, sizeof(out), NULL, 0);
}

static void *serve(void *arg)
{
	struct conn *c = arg;
	size_t cap = 256 * 1024;
	char *buf = malloc(cap);

	for (;;) {
		ssize_t n = read(c->fd, buf, cap);
		struct fuse_in_header *ih = (void *)buf;
		void *in = buf + sizeof(*ih);

		if (n < 0 && (errno == EINTR || errno == ENOENT || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*ih))
			break;	/* ENODEV: unmounted or aborted */
		if (ih->opcode < 64)
			atomic_fetch_add(&c->ops[ih->opcode], 1);
		switch (ih->opcode) {
		case FUSE_INIT:
			serve_init(c, ih, in);
			break;
		case FUSE_LOOKUP:
			serve_lookup(c, ih, in);
			break;
		case FUSE_GETATTR:
			serve_getattr(c, ih);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_DESTROY:
			reply(c, ih->unique, 0, NULL, 0, NULL, 0);
			break;
		default:
			reply(c, ih->unique, -ENOSYS, NULL, 0, NULL, 0);
			break;
		}
	}
	free(buf);
	return NULL;
}

static void conn_mount(struct conn *c, const char *label, bool reply_bpf)
{
	char opts[256];
	struct timespec deadline;

	memset(c, 0, sizeof(*c));
	c->label = label;
	c->reply_bpf = reply_bpf;
	c->next_node = 2;
	c->node_mode[FUSE_ROOT_ID] = S_IFDIR | 0755;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->inited, NULL);
	if (snprintf(c->mnt, sizeof(c->mnt), "%s/mnt-%s", scratch, label) >=
	    (int)sizeof(c->mnt))
		tl_die("path too long");
	if (mkdir(c->mnt, 0755) && errno != EEXIST)
		tl_die("mkdir %s: %s", c->mnt, strerror(errno));
	c->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		tl_die("open /dev/fuse: %s", strerror(errno));
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", c->fd);
	if (mount("bpf_uapi", c->mnt, "fuse.bpf_uapi", MS_NOSUID | MS_NODEV,
		  opts))
		tl_die("mount %s: %s", c->mnt, strerror(errno));
	if (pthread_create(&c->thread, NULL, serve, c))
		tl_die("pthread_create");
	/* The kernel sends INIT on the first operation at the latest. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	{
		struct stat st;

		if (stat(c->mnt, &st) == 0)
			c->conn_id = minor(st.st_dev);
	}
	pthread_mutex_lock(&c->lock);
	while (!c->init_done)
		if (pthread_cond_timedwait(&c->inited, &c->lock, &deadline))
			break;
	pthread_mutex_unlock(&c->lock);
	if (!c->init_done)
		tl_die("%s: no INIT from the kernel within 30 s", label);
}

static void conn_unmount(struct conn *c)
{
	char abort_path[PATH_MAX];
	int fd;

	if (umount2(c->mnt, MNT_DETACH))
		fprintf(stderr, "umount %s: %s\n", c->mnt, strerror(errno));
	/* Abort the connection in case the superblock lingers: that ends
	 * the server thread's read() with ENODEV. */
	snprintf(abort_path, sizeof(abort_path),
		 "/sys/fs/fuse/connections/%u/abort", c->conn_id);
	fd = open(abort_path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			fprintf(stderr, "%s: %s\n", abort_path, strerror(errno));
		close(fd);
	}
	pthread_join(c->thread, NULL);
	close(c->fd);
}

static void script(struct conn *c, const char *name, mode_t mode,
		   const void *ext, size_t ext_size)
{
	struct lookup_script *s;

	pthread_mutex_lock(&c->lock);
	if (c->nscript == SCRIPT_MAX || ext_size > EXT_MAX)
		tl_die("lookup script full");
	s = &c->script[c->nscript++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->mode = mode;
	memcpy(s->ext, ext, ext_size);
	s->ext_size = ext_size;
	pthread_mutex_unlock(&c->lock);
}

/* Extension with backing_action/id, everything else zero. */
static struct fuse_bpf_entry_out ext_backing(uint32_t action, uint32_t id)
{
	struct fuse_bpf_entry_out e = { 0 };

	e.backing_action = action;
	e.backing_id = id;
	return e;
}

/* ---- backing registration ---- */

static int backing_open_raw(struct conn *c, int fd, uint32_t flags,
			    uint64_t reserved)
{
	struct fuse_bpf_backing_open arg = {
		.fd = fd, .flags = flags, .reserved = reserved,
	};

	return ioctl(c->fd, FUSE_DEV_IOC_BPF_BACKING_OPEN, &arg);
}

/* Registers path (opened with oflags); returns the id or -errno. */
static int backing_open_path(struct conn *c, const char *path, int oflags)
{
	int fd = open(path, oflags | O_CLOEXEC);
	int id, e;

	if (fd < 0)
		return -errno;
	id = backing_open_raw(c, fd, 0, 0);
	e = errno;
	close(fd);
	return id < 0 ? -e : id;
}

static int backing_close(struct conn *c, uint32_t id)
{
	return ioctl(c->fd, FUSE_DEV_IOC_BPF_BACKING_CLOSE, &id);
}

static int root_set(struct conn *c, uint32_t id, uint64_t reserved0)
{
	struct fuse_bpf_root_set arg = { .backing_id = id };

	arg.reserved[0] = reserved0;
	return ioctl(c->fd, FUSE_DEV_IOC_BPF_ROOT_SET, &arg);
}

static struct conn *unpriv_conn;
static int unpriv_fd;

static int unpriv_backing_open(void *arg)
{
	(void)arg;
	return backing_open_raw(unpriv_conn, unpriv_fd, 0, 0) < 0 ? errno : 0;
}

static void check_id(const char *name, int id)
{
	if (id > 0)
		tl_ok(name);
	else
		tl_fail(name, "got %s, expected an id > 0", tl_errname(-id));
}

static void test_registration(struct conn *a, const char *back)
{
	int fd, id;

	check_id("BACKING_OPEN of a directory", backing_open_path(a, back, O_RDONLY));
	check_id("BACKING_OPEN of an O_PATH directory fd",
		 backing_open_path(a, back, O_PATH));
	check_id("BACKING_OPEN of a regular file",
		 backing_open_path(a, tl_path("%s/file", back), O_RDONLY));

	fd = open(back, O_RDONLY | O_CLOEXEC);
	tl_check_call("BACKING_OPEN with flags != 0", backing_open_raw(a, fd, 1, 0),
		      EINVAL);
	tl_check_call("BACKING_OPEN with reserved != 0",
		      backing_open_raw(a, fd, 0, 1), EINVAL);
	tl_check_call("BACKING_OPEN of fd -1", backing_open_raw(a, -1, 0, 0),
		      EBADF);

	/* Registration is privileged (CAP_SYS_ADMIN), as passthrough. */
	unpriv_conn = a;
	unpriv_fd = fd;
	tl_check_errno("BACKING_OPEN by uid 1000 (no CAP_SYS_ADMIN)",
		       tl_as_user(&TL_USER_A, unpriv_backing_open, NULL), EPERM);
	close(fd);

	id = backing_open_path(a, back, O_RDONLY);
	check_id("BACKING_OPEN before close", id);
	tl_check_call("BACKING_CLOSE of a registered id", backing_close(a, id), 0);
	tl_check_call("BACKING_CLOSE of the same id again", backing_close(a, id),
		      ENOENT);
	tl_check_call("BACKING_CLOSE of an id never registered",
		      backing_close(a, 54321), ENOENT);
	tl_check_call("BACKING_CLOSE of id 0", backing_close(a, 0), EINVAL);
}

static void test_stacking(struct conn *a, struct conn *b)
{
	const char *l1 = tl_path("%s/ovl-l1", scratch);
	const char *l2 = tl_path("%s/ovl-l2", scratch);
	const char *l3 = tl_path("%s/ovl-l3", scratch);
	const char *o1 = tl_path("%s/ovl-1", scratch);
	const char *o2 = tl_path("%s/ovl-2", scratch);
	char opts[PATH_MAX * 3];
	int id;

	/* A FUSE superblock is never a backing: this mount, or another. */
	id = backing_open_path(a, a->mnt, O_RDONLY);
	tl_check_errno("BACKING_OPEN of a dir on this FUSE mount: ELOOP",
		       id < 0 ? -id : 0, ELOOP);
	id = backing_open_path(a, b->mnt, O_RDONLY);
	tl_check_errno("BACKING_OPEN of a dir on another FUSE mount: ELOOP",
		       id < 0 ? -id : 0, ELOOP);

	/* overlayfs at depth 1 can back; at the maximum depth (2) not. */
	mkdir(l1, 0755);
	mkdir(l2, 0755);
	mkdir(l3, 0755);
	mkdir(tl_path("%s/sub", l1), 0755);
	mkdir(o1, 0755);
	mkdir(o2, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", l1, l2);
	if (mount("overlay", o1, "overlay", 0, opts)) {
		tl_fail("overlayfs depth 1 mounted", "%s", tl_errname(errno));
		return;
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s/sub:%s", o1, l3);
	if (mount("overlay", o2, "overlay", 0, opts)) {
		tl_fail("overlayfs depth 2 mounted", "%s", tl_errname(errno));
		umount2(o1, MNT_DETACH);
		return;
	}
	check_id("BACKING_OPEN on overlayfs (stack depth 1)",
		 backing_open_path(a, o1, O_RDONLY));
	id = backing_open_path(a, o2, O_RDONLY);
	tl_check_errno("BACKING_OPEN on overlayfs over overlayfs (too deep)",
		       id < 0 ? -id : 0, ELOOP);
	umount2(o2, MNT_DETACH);
	umount2(o1, MNT_DETACH);
}

/* ---- lookup reply extensions (root not backed: lookups reach us) ---- */

static int stat_err(const char *path)
{
	struct stat st;

	return TL_ERR(lstat(path, &st));
}

static void test_lookup_ext(struct conn *a, struct conn *b, struct conn *c,
			    const char *back)
{
	struct fuse_bpf_entry_out e;
	unsigned char raw[EXT_MAX];
	unsigned int before, lookups;
	int dir_id, file_id, other_id;
	char buf[64];
	ssize_t n;

	dir_id = backing_open_path(a, back, O_RDONLY);
	file_id = backing_open_path(a, tl_path("%s/file", back), O_RDONLY);
	check_id("register backing dir for lookups", dir_id);
	check_id("register backing file for lookups", file_id);
	if (dir_id <= 0 || file_id <= 0)
		return;

	/* A backed directory: its subtree is served in the kernel. */
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	script(a, "good", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("lookup with a good extension", stat_err(tl_path("%s/good", a->mnt)), 0);
	before = requests(a);
	tl_check_errno("stat of a child of the backed dir",
		      stat_err(tl_path("%s/good/file", a->mnt)), 0);
	tl_check("child content read from the backing file",
		 tl_file_equals(tl_path("%s/good/file", a->mnt), "backing file\n"),
		 "content differs");
	tl_check_errno("missing child of the backed dir: ENOENT",
		      stat_err(tl_path("%s/good/nope", a->mnt)), ENOENT);
	tl_check_errno("create in the backed dir",
		      tl_write_file(tl_path("%s/good/created", a->mnt), "new\n", 4, 0644), 0);
	tl_check("created file is in the backing dir",
		 tl_file_equals(tl_path("%s/created", back), "new\n"), "not there");
	tl_check("backed subtree sent no request to the server",
		 requests(a) == before, "%u requests (LOOKUP %u, GETATTR %u, OPEN %u, READ %u, CREATE %u)",
		 requests(a) - before, ops_of(a, FUSE_LOOKUP), ops_of(a, FUSE_GETATTR),
		 ops_of(a, FUSE_OPEN), ops_of(a, FUSE_READ), ops_of(a, FUSE_CREATE));

	/* A backed regular file. */
	e = ext_backing(FUSE_BPF_BACKING_SET, file_id);
	script(a, "goodfile", S_IFREG | 0644, &e, sizeof(e));
	before = requests(a);
	n = tl_read_file(tl_path("%s/goodfile", a->mnt), buf, sizeof(buf));
	tl_check("backed file reads the backing content",
		 n == 13 && !memcmp(buf, "backing file\n", 13), "got %zd bytes", n);
	tl_check("backed file: only the LOOKUP reached the server",
		 requests(a) - before == 1 && ops_of(a, FUSE_READ) == 0 &&
		 ops_of(a, FUSE_OPEN) == 0,
		 "%u requests, OPEN %u, READ %u", requests(a) - before,
		 ops_of(a, FUSE_OPEN), ops_of(a, FUSE_READ));

	/* Malformed extensions: the lookup fails with EIO, nothing attached. */
	e = ext_backing(FUSE_BPF_BACKING_SET, 54321);
	script(a, "unknown_id", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown id: EIO",
		      stat_err(tl_path("%s/unknown_id", a->mnt)), EIO);

	/* An id only registered on connection B (ids are per connection). */
	/* ids are allocated upwards: one above every id of A is not A's */
	do
		other_id = backing_open_path(b, back, O_RDONLY);
	while (other_id > 0 && other_id <= file_id);
	check_id("register backing on connection B", other_id);
	e = ext_backing(FUSE_BPF_BACKING_SET, other_id);
	script(a, "other_conn", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an id of another connection: EIO",
		      stat_err(tl_path("%s/other_conn", a->mnt)), EIO);

	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	memcpy(raw, &e, sizeof(e));
	script(a, "short", S_IFDIR | 0755, raw, sizeof(e) - 4);
	tl_check_errno("extension 4 bytes short: EIO",
		      stat_err(tl_path("%s/short", a->mnt)), EIO);
	memset(raw + sizeof(e), 0, 8);
	script(a, "long", S_IFDIR | 0755, raw, sizeof(e) + 8);
	tl_check_errno("extension 8 bytes long: EIO",
		      stat_err(tl_path("%s/long", a->mnt)), EIO);
	script(a, "tiny", S_IFDIR | 0755, raw, 1);
	tl_check_errno("extension of 1 byte: EIO",
		      stat_err(tl_path("%s/tiny", a->mnt)), EIO);

	e = ext_backing(77, dir_id);
	script(a, "bad_action", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown backing action: EIO",
		      stat_err(tl_path("%s/bad_action", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.flags = 1U << 20;
	script(a, "bad_flags", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown flag: EIO",
		      stat_err(tl_path("%s/bad_flags", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.reserved[1] = 1;
	script(a, "bad_reserved", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with reserved != 0: EIO",
		      stat_err(tl_path("%s/bad_reserved", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.filter_action = 99;
	script(a, "bad_filter", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown filter action: EIO",
		      stat_err(tl_path("%s/bad_filter", a->mnt)), EIO);

	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.filter_action = FUSE_BPF_FILTER_SET;
	e.filter_id = 1;
	script(a, "filter_set", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with a filter (none in phase 1): EIO",
		       stat_err(tl_path("%s/filter_set", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_INHERIT, 0);
	script(a, "inherit", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("INHERIT below an unbacked parent: EIO",
		       stat_err(tl_path("%s/inherit", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_NONE, dir_id);
	script(a, "none_with_id", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("NONE with a backing id: EIO",
		       stat_err(tl_path("%s/none_with_id", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, file_id);
	script(a, "type_mismatch", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("a file backing for a directory entry: EIO",
		       stat_err(tl_path("%s/type_mismatch", a->mnt)), EIO);

	/* The failed lookups did not leave a half-attached inode around. */
	tl_check_errno("a failed name fails again (no cached entry)",
		      stat_err(tl_path("%s/unknown_id", a->mnt)), EIO);

	/* BACKING_NONE: a subtree served by the server as on any mount. */
	e = ext_backing(FUSE_BPF_BACKING_NONE, 0);
	script(a, "served", S_IFDIR | 0755, &e, sizeof(e));
	script(a, "served_child", S_IFREG | 0644, NULL, 0);
	tl_check_errno("lookup of a BACKING_NONE dir",
		      stat_err(tl_path("%s/served", a->mnt)), 0);
	lookups = ops_of(a, FUSE_LOOKUP);
	tl_check_errno("child of a BACKING_NONE dir comes from the server",
		      stat_err(tl_path("%s/served/served_child", a->mnt)), 0);
	tl_check("the child's LOOKUP reached the server",
		 ops_of(a, FUSE_LOOKUP) == lookups + 1, "LOOKUP +%u",
		 ops_of(a, FUSE_LOOKUP) - lookups);

	/* Connection C did not accept FUSE_BPF: extensions are refused. */
	{
		int id = backing_open_path(c, back, O_RDONLY);

		tl_check_errno("without FUSE_BPF in the INIT reply, BACKING_OPEN: EOPNOTSUPP",
			       id < 0 ? -id : 0, EOPNOTSUPP);
	}
	e = ext_backing(FUSE_BPF_BACKING_NONE, 0);
	script(c, "ext", S_IFDIR | 0755, &e, sizeof(e));
	script(c, "plain", S_IFDIR | 0755, NULL, 0);
	tl_check_errno("without FUSE_BPF, a plain lookup reply works",
		      stat_err(tl_path("%s/plain", c->mnt)), 0);
	tl_check_errno("without FUSE_BPF, a lookup reply with an extension: EIO",
		      stat_err(tl_path("%s/ext", c->mnt)), EIO);
}

/* ---- the root, attached and detached by ioctl ---- */

static bool dir_lists(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (!strcmp(de->d_name, name))
			found = true;
	closedir(d);
	return found;
}

static void test_root(struct conn *a, const char *back)
{
	unsigned int before;
	int id, file_id;

	id = backing_open_path(a, back, O_RDONLY);
	check_id("register backing for the root", id);
	if (id <= 0)
		return;
	tl_check_call("ROOT_SET of an unknown id", root_set(a, 54321, 0), ENOENT);
	file_id = backing_open_path(a, tl_path("%s/file", back), O_RDONLY);
	check_id("register a backing file", file_id);
	tl_check_call("ROOT_SET of a regular file: ENOTDIR", root_set(a, file_id, 0),
		      ENOTDIR);
	tl_check_call("ROOT_SET with reserved != 0", root_set(a, id, 1), EINVAL);

	tl_check_call("ROOT_SET attaches the backing dir", root_set(a, id, 0), 0);
	before = requests(a);
	tl_check_errno("backed root: stat of a backing file",
		      stat_err(tl_path("%s/rootfile", a->mnt)), 0);
	tl_check("backed root: readdir lists the backing dir",
		 dir_lists(a->mnt, "rootfile"), "rootfile not listed");
	tl_check_errno("backed root: mkdir",
		      TL_ERR(mkdir(tl_path("%s/rootdir", a->mnt), 0755)), 0);
	tl_check("backed root: mkdir made the backing dir",
		 stat_err(tl_path("%s/rootdir", back)) == 0, "not in backing");
	tl_check("backed root: no request reached the server",
		 requests(a) == before, "%u requests (LOOKUP %u, READDIR %u, MKDIR %u)",
		 requests(a) - before, ops_of(a, FUSE_LOOKUP),
		 ops_of(a, FUSE_READDIR), ops_of(a, FUSE_MKDIR));

	tl_check_call("ROOT_SET 0 detaches the root", root_set(a, 0, 0), 0);
	before = ops_of(a, FUSE_LOOKUP);
	if (tl_write_file(tl_path("%s/late", back), "late\n", 5, 0644))
		tl_die("cannot create %s/late", back);
	tl_check_errno("detached root: a new name is the server's (ENOENT)",
		      stat_err(tl_path("%s/late", a->mnt)), ENOENT);
	tl_check("detached root: the LOOKUP reached the server",
		 ops_of(a, FUSE_LOOKUP) > before, "no LOOKUP");
	tl_check_call("BACKING_CLOSE of the former root backing",
		      backing_close(a, id), 0);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : getenv("TMPDIR");
	const char *feature = FUSE_BPF_FEATURE_FILE;
	char back[PATH_MAX], want[16];
	struct conn a, b, c;

	if (!base || !*base)
		base = "/tmp";
	if (geteuid() != 0)
		tl_die("bpf_uapi needs root (mount, CAP_SYS_ADMIN ioctls)");

	snprintf(want, sizeof(want), "%d\n", FUSE_BPF_VERSION);
	if (access(feature, R_OK)) {
		tl_fail("feature file present", "%s: %s (kernel without FUSE-BPF)",
			feature, tl_errname(errno));
		return tl_done();
	}
	tl_check("feature file holds FUSE_BPF_VERSION",
		 tl_file_equals(feature, want), "content differs from %d", FUSE_BPF_VERSION);

	snprintf(scratch, sizeof(scratch), "%s/bpf_uapi.%d", base, getpid());
	if (snprintf(back, sizeof(back), "%s/back", scratch) >= (int)sizeof(back))
		tl_die("scratch path too long");
	if (mkdir(scratch, 0755) || mkdir(back, 0755))
		tl_die("mkdir %s: %s", back, strerror(errno));
	if (tl_write_file(tl_path("%s/file", back), "backing file\n", 13, 0644) ||
	    tl_write_file(tl_path("%s/rootfile", back), "root\n", 5, 0644))
		tl_die("cannot fill %s", back);

	conn_mount(&a, "a", true);
	conn_mount(&b, "b", true);
	conn_mount(&c, "c", false);
	tl_check("INIT offers FUSE_BPF", a.init_offer & FUSE_BPF,
		 "flags 0x%" PRIx64, a.init_offer);

	test_registration(&a, back);
	test_stacking(&a, &b);
	test_lookup_ext(&a, &b, &c, back);
	test_root(&a, back);

	conn_unmount(&a);
	conn_unmount(&b);
	conn_unmount(&c);
	tl_rm_rf(scratch);
	return tl_done();
}
