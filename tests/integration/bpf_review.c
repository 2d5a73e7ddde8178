// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_review - the kernel review's findings (issue 11), each one a check
 * that failed on the series before its fix, spoken raw on /dev/fuse by
 * the tiny server of rawfuse.h, with the test filter
 * tests/bpf/test_filter.bpf.c:
 *
 *   bpf_review [SCRATCH_DIR]       (default $TMPDIR or /tmp; needs root,
 *                                   a tmpfs or ext4 scratch dir for
 *                                   chattr and ACLs)
 *
 * Runs only on the patched kernel (make vm-test). Checks:
 *  H1  append-only and immutable backing files (chattr +a/+i, directly
 *      on the backing or through the mount) keep their meaning through
 *      the mount: no open for writing without O_APPEND, no O_TRUNC, no
 *      truncate/ftruncate, no clearing O_APPEND with F_SETFL;
 *  H3  a rename or link that a filter sends to the server (FUSE_BPF_USER)
 *      is refused with EXDEV when a kernel-only inode is involved: no
 *      request ever carries a kernel node id (bit 63);
 *  H4  SETATTR sent to the server (FUSE_BPF_USER) for a file whose open
 *      ran on the backing carries no file handle (FATTR_FH), nor does the
 *      GETATTR before killing suid (FUSE_GETATTR_FH);
 *  M6  POSIX ACLs (setxattr system.posix_acl_access) and file attributes
 *      (FS_IOC_SETFLAGS) are filtered: a read-only subtree refuses them;
 *  H2  a rename onto a name the FUSE dcache holds as absent but the
 *      backing has (here: hidden from uid 1000 by a LOOKUP filter) does
 *      not replace it (RENAME_NOREPLACE: EEXIST, else ESTALE), and the
 *      replaced inode's own filter (also the other side of
 *      RENAME_EXCHANGE) is asked;
 *  H5  a file opened on the backing and a file the server opened (a
 *      filter's FUSE_BPF_USER for uid 1000) never share one inode:
 *      whichever comes second fails with ETXTBSY;
 *  M8  a server that gives the node id of a cached inode another backing
 *      gets a new inode for it, not EIO for as long as the old one is
 *      cached;
 *  M7  a file backed on another file system than the root's backing
 *      keeps its backing's st_dev (st_ino is the backing's): no two
 *      files share (st_dev, st_ino);
 *  H6  FUSE_BPF is not accepted together with FUSE_ALLOW_IDMAP;
 *  M4  filter results that are no errno userspace knows (ERESTARTSYS,
 *      MAX_ERRNO, anything above EHWPOISON) become EIO.
 * The VM harness fails the run on any kernel report these provoke.
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "testlib.h"
#include "rawfuse.h"
#include "test_filter_setup.h"

#ifndef FUSE_ALLOW_IDMAP
#define FUSE_ALLOW_IDMAP	(1ULL << 40)
#endif

/* tests/bpf/test_filter.bpf.c */
#define READ_ONLY_TAG		7
#define SETATTR_USER_TAG	13
#define MOVE_USER_TAG		17
#define KERR_TAG		19
#define OPEN_USER_TAG		23

#define KERNEL_NODEID		(1ULL << 63)
#define REUSE_NODE		(RAWFUSE_NODE_MAX - 1)	/* M8's node id */

/* The raw server and what it saw of the requests these tests are about */
struct conn {
	struct rawfuse rf;
	atomic_uint kernel_ids;		/* requests naming a bit-63 node id */
	atomic_uint setattr_fh;		/* SETATTR with FATTR_FH */
	atomic_uint getattr_fh;		/* GETATTR with FUSE_GETATTR_FH */
	atomic_uint setattrs, getattrs;
	atomic_uint opens;		/* OPEN requests */
	atomic_uint reuse_id;		/* M8: backing id of "user_reuse" */
};

static struct test_filter_setup tf;	/* scratch dir, the test filter */

static bool kernel_id(uint64_t nodeid)
{
	return nodeid & KERNEL_NODEID;
}

/* SETATTR is answered with the node's attributes and the new size */
static void serve_setattr(struct conn *c, struct fuse_in_header *ih,
			  const struct fuse_setattr_in *in)
{
	struct fuse_attr_out out = { 0 };
	mode_t mode = 0;

	pthread_mutex_lock(&c->rf.lock);
	if (ih->nodeid < RAWFUSE_NODE_MAX)
		mode = c->rf.node_mode[ih->nodeid];
	pthread_mutex_unlock(&c->rf.lock);
	if (!mode) {
		rawfuse_reply(&c->rf, ih->unique, -ENOENT, NULL, 0, NULL, 0);
		return;
	}
	if (in->valid & FATTR_MODE)
		mode = (mode & S_IFMT) | (in->mode & 07777);
	rawfuse_fill_attr(&out.attr, ih->nodeid, mode);
	if (in->valid & FATTR_SIZE)
		out.attr.size = in->size;
	rawfuse_reply(&c->rf, ih->unique, 0, &out, sizeof(out), NULL, 0);
}

/*
 * M8: "user_reuse" is always node REUSE_NODE, never cached (entry and
 * attributes valid for 0 s), backed by the registered backing reuse_id
 */
static void serve_reuse(struct conn *c, struct fuse_in_header *ih)
{
	struct fuse_entry_out eo = { .nodeid = REUSE_NODE, .generation = 1 };
	struct fuse_bpf_entry_out ext = {
		.backing_action = FUSE_BPF_BACKING_SET,
		.backing_id = atomic_load(&c->reuse_id),
		.filter_action = FUSE_BPF_FILTER_INHERIT,
	};

	pthread_mutex_lock(&c->rf.lock);
	c->rf.node_mode[REUSE_NODE] = S_IFREG | 0644;
	pthread_mutex_unlock(&c->rf.lock);
	rawfuse_fill_attr(&eo.attr, REUSE_NODE, S_IFREG | 0644);
	rawfuse_reply(&c->rf, ih->unique, 0, &eo, sizeof(eo), &ext,
		      sizeof(ext));
}

/*
 * rawfuse handler: notes node ids with bit 63 in any request (the
 * header's, RENAME's new directory, LINK's source), the file handles of
 * SETATTR and GETATTR, and serves SETATTR; the rest to rawfuse.
 */
static bool serve(struct rawfuse *rf, struct fuse_in_header *ih,
		  const void *in, size_t len)
{
	struct conn *c = (struct conn *)rf;
	uint32_t op = ih->opcode & ~(FUSE_PREFILTER | FUSE_POSTFILTER);
	bool decision = op != ih->opcode;

	if (!decision && kernel_id(ih->nodeid))
		atomic_fetch_add(&c->kernel_ids, 1);
	if (decision)
		return false;
	switch (op) {
	case FUSE_LOOKUP:
		if (len < sizeof("user_reuse") ||
		    strcmp(in, "user_reuse") || !atomic_load(&c->reuse_id))
			break;
		serve_reuse(c, ih);
		return true;
	case FUSE_RENAME:
	case FUSE_RENAME2:
		/* both start with the new directory's node id */
		if (len >= sizeof(uint64_t) && kernel_id(*(const uint64_t *)in))
			atomic_fetch_add(&c->kernel_ids, 1);
		break;
	case FUSE_LINK:
		if (len >= sizeof(struct fuse_link_in) &&
		    kernel_id(((const struct fuse_link_in *)in)->oldnodeid))
			atomic_fetch_add(&c->kernel_ids, 1);
		break;
	case FUSE_GETATTR:
		atomic_fetch_add(&c->getattrs, 1);
		if (len >= sizeof(struct fuse_getattr_in) &&
		    ((const struct fuse_getattr_in *)in)->getattr_flags &
		    FUSE_GETATTR_FH)
			atomic_fetch_add(&c->getattr_fh, 1);
		break;
	case FUSE_OPEN: {
		/* fh 1, no open flags: the FUSE page cache (cached io mode) */
		struct fuse_open_out out = { .fh = 1 };

		atomic_fetch_add(&c->opens, 1);
		rawfuse_reply(rf, ih->unique, 0, &out, sizeof(out), NULL, 0);
		return true;
	}
	case FUSE_RELEASE:
		rawfuse_reply(rf, ih->unique, 0, NULL, 0, NULL, 0);
		return true;
	case FUSE_SETATTR:
		if (len < sizeof(struct fuse_setattr_in))
			break;
		atomic_fetch_add(&rf->ops[FUSE_SETATTR], 1);
		atomic_fetch_add(&c->setattrs, 1);
		if (((const struct fuse_setattr_in *)in)->valid & FATTR_FH)
			atomic_fetch_add(&c->setattr_fh, 1);
		serve_setattr(c, ih, in);
		return true;
	}
	return false;
}

/* ---- helpers, returning an errno (0: success) ---- */

/* FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (chattr) of @path: or @set, clear @clr */
static int chattr(const char *path, int set, int clr)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), flags, err = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
		err = errno;
	} else {
		flags = (flags | set) & ~clr;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags))
			err = errno;
	}
	close(fd);
	return err;
}

static int getflags(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), flags = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags))
		flags = -1;
	close(fd);
	return flags;
}

/* A script entry: a server inode backed by the same name, with a tag */
static void script_tagged(struct conn *c, const char *name, mode_t mode,
			  uint32_t tag)
{
	struct fuse_bpf_entry_out ext = {
		.backing_action = FUSE_BPF_BACKING_INHERIT,
		.filter_action = FUSE_BPF_FILTER_INHERIT,
		.flags = FUSE_BPF_ENTRY_TAG,
		.tag = tag,
	};

	rawfuse_script(&c->rf, name, mode, &ext, sizeof(ext));
}

/* ---- H1: append-only and immutable files ---- */

static void test_append_only(struct conn *c, const char *back)
{
	const char *m = c->rf.mnt, *log = tl_path("%s/log", m);
	int fd, err, flags;
	ssize_t n;
	struct stat st;

	/* the FUSE inode exists before the backing becomes append-only */
	tl_check_errno("H1: log looked up before chattr +a", tl_stat_err(log), 0);
	err = chattr(tl_path("%s/log", back), FS_APPEND_FL, 0);
	if (err) {
		tl_fail("H1: chattr +a on the backing (tmpfs/ext4 scratch?)",
			"%s", strerror(err));
		return;
	}
	tl_check_errno("H1: append-only: open O_WRONLY: EPERM",
		       tl_open_err(log, O_WRONLY), EPERM);
	tl_check_errno("H1: append-only: open O_RDWR: EPERM",
		       tl_open_err(log, O_RDWR), EPERM);
	tl_check_errno("H1: append-only: open O_APPEND|O_TRUNC: EPERM",
		       tl_open_err(log, O_WRONLY | O_APPEND | O_TRUNC), EPERM);
	tl_check_errno("H1: append-only: truncate(): EPERM",
		       truncate(log, 0) ? errno : 0, EPERM);
	tl_check("H1: append-only: the backing still holds the data",
		 tl_file_equals(tl_path("%s/log", back), "data\n"),
		 "truncated or overwritten");

	fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
	tl_check_errno("H1: append-only: open O_WRONLY|O_APPEND works",
		       fd < 0 ? errno : 0, 0);
	if (fd >= 0) {
		n = write(fd, "more\n", 5);
		tl_check("H1: append-only: an append works", n == 5,
			 "write: %zd %s", n, n < 0 ? strerror(errno) : "");
		flags = fcntl(fd, F_GETFL);
		tl_check_errno("H1: append-only: F_SETFL clearing O_APPEND: EPERM",
			       fcntl(fd, F_SETFL, flags & ~O_APPEND) ? errno : 0,
			       EPERM);
		tl_check_errno("H1: append-only: ftruncate: EPERM",
			       ftruncate(fd, 0) ? errno : 0, EPERM);
		close(fd);
	}
	tl_check("H1: append-only: backing is data + more",
		 tl_file_equals(tl_path("%s/log", back), "data\nmore\n"),
		 "wrong content");

	/* a name looked up after the chattr, and chattr through the mount */
	err = chattr(tl_path("%s/log_new", back), FS_APPEND_FL, 0);
	tl_check_errno("H1: chattr +a on the backing of a new name", err, 0);
	tl_check_errno("H1: append-only, first lookup: open O_WRONLY: EPERM",
		       tl_open_err(tl_path("%s/log_new", m), O_WRONLY), EPERM);
	tl_check_errno("H1: chattr +a through the mount",
		       chattr(tl_path("%s/log2", m), FS_APPEND_FL, 0), 0);
	flags = getflags(tl_path("%s/log2", back));
	tl_check("H1: ...the backing is append-only", flags >= 0 &&
		 (flags & FS_APPEND_FL), "flags %#x", flags);
	tl_check_errno("H1: after chattr +a through the mount: O_TRUNC: EPERM",
		       tl_open_err(tl_path("%s/log2", m), O_WRONLY | O_APPEND |
				O_TRUNC), EPERM);
	tl_check_errno("H1: ...and truncate(): EPERM",
		       truncate(tl_path("%s/log2", m), 0) ? errno : 0, EPERM);
	tl_check_errno("H1: chattr -a through the mount",
		       chattr(tl_path("%s/log2", m), 0, FS_APPEND_FL), 0);
	tl_check_errno("H1: after chattr -a: truncate() works",
		       truncate(tl_path("%s/log2", m), 0) ? errno : 0, 0);

	/* immutable */
	err = chattr(tl_path("%s/imm", back), FS_IMMUTABLE_FL, 0);
	tl_check_errno("H1: chattr +i on the backing", err, 0);
	tl_check_errno("H1: immutable: open O_WRONLY|O_APPEND: EPERM",
		       tl_open_err(tl_path("%s/imm", m), O_WRONLY | O_APPEND),
		       EPERM);
	tl_check_errno("H1: immutable: truncate(): EPERM",
		       truncate(tl_path("%s/imm", m), 0) ? errno : 0, EPERM);
	tl_check_errno("H1: immutable: chmod: EPERM",
		       chmod(tl_path("%s/imm", m), 0600) ? errno : 0, EPERM);
	tl_check_errno("H1: immutable: unlink: EPERM",
		       unlink(tl_path("%s/imm", m)) ? errno : 0, EPERM);
	tl_check("H1: immutable: stat shows the backing's size",
		 stat(tl_path("%s/imm", m), &st) == 0 && st.st_size == 5,
		 "size %lld", (long long)st.st_size);

	/* so that the scratch dir can be removed */
	chattr(tl_path("%s/log", back), 0, FS_APPEND_FL);
	chattr(tl_path("%s/log_new", back), 0, FS_APPEND_FL);
	chattr(tl_path("%s/log2", back), 0, FS_APPEND_FL);
	chattr(tl_path("%s/imm", back), 0, FS_IMMUTABLE_FL);
}

/* ---- H3: renames and links sent to the server ---- */

static void test_kernel_ids(struct conn *c, const char *back)
{
	const char *m = c->rf.mnt;
	unsigned int ops0[RAWFUSE_OPCODES];

	script_tagged(c, "user_mv", S_IFDIR | 0755, MOVE_USER_TAG);
	tl_check_errno("H3: user_mv (a server dir, RENAME2/LINK: USER)",
		       tl_stat_err(tl_path("%s/user_mv/f", m)) ?:
		       tl_stat_err(tl_path("%s/sub/g", m)), 0);
	rawfuse_snapshot(&c->rf, ops0);
	tl_check_errno("H3: rename from a USER dir into a kernel dir: EXDEV",
		       rename(tl_path("%s/user_mv/f", m),
			      tl_path("%s/sub/f2", m)) ? errno : 0, EXDEV);
	tl_check_errno("H3: rename from a kernel dir into a USER dir: EXDEV",
		       rename(tl_path("%s/sub/g", m),
			      tl_path("%s/user_mv/g2", m)) ? errno : 0, EXDEV);
	tl_check_errno("H3: rename of a kernel inode within a USER dir: EXDEV",
		       rename(tl_path("%s/user_mv/f", m),
			      tl_path("%s/user_mv/f3", m)) ? errno : 0, EXDEV);
	tl_check_errno("H3: link of a kernel inode into a USER dir: EXDEV",
		       link(tl_path("%s/sub/g", m),
			    tl_path("%s/user_mv/lnk", m)) ? errno : 0, EXDEV);
	tl_check("H3: no RENAME/RENAME2/LINK reached the server",
		 rawfuse_ops_of(&c->rf, FUSE_RENAME) == ops0[FUSE_RENAME] &&
		 rawfuse_ops_of(&c->rf, FUSE_RENAME2) == ops0[FUSE_RENAME2] &&
		 rawfuse_ops_of(&c->rf, FUSE_LINK) == ops0[FUSE_LINK], "%s",
		 rawfuse_requests_since(&c->rf, ops0));
	tl_check("H3: the backing is unchanged",
		 tl_stat_err(tl_path("%s/user_mv/f", back)) == 0 &&
		 tl_stat_err(tl_path("%s/sub/g", back)) == 0 &&
		 tl_stat_err(tl_path("%s/sub/f2", back)) == ENOENT &&
		 tl_stat_err(tl_path("%s/user_mv/lnk", back)) == ENOENT,
		 "changed");
	tl_check_errno("H3: a rename between kernel dirs still works",
		       rename(tl_path("%s/sub/g", m),
			      tl_path("%s/sub2/g", m)) ? errno : 0, 0);
	tl_check_errno("H3: a link between kernel dirs still works",
		       link(tl_path("%s/sub2/g", m),
			    tl_path("%s/sub/g_link", m)) ? errno : 0, 0);
}

/* ---- H2: renames onto names the FUSE dcache holds as absent ---- */

struct rename_args {
	const char *from, *to;
	unsigned int flags;
};

static int rename_fn(void *arg)
{
	const struct rename_args *r = arg;

	return renameat2(AT_FDCWD, r->from, AT_FDCWD, r->to, r->flags) ?
	       errno : 0;
}

static int stat_fn(void *path)
{
	return tl_stat_err(path);
}

static int rename_err(const char *from, const char *to, unsigned int flags)
{
	struct rename_args r = { from, to, flags };

	return rename_fn(&r);
}

static void test_rename_target(struct conn *c, const char *back)
{
	const char *m = c->rf.mnt, *secret = tl_path("%s/h2/secret", m);
	struct rename_args r;

	/* "secret" is hidden from uid != 0 by the LOOKUP filter */
	tl_check_errno("H2: h2/secret is hidden from uid 1000 (ENOENT)",
		       tl_as_user(&TL_USER_A, stat_fn, (void *)secret), ENOENT);
	r = (struct rename_args){ tl_path("%s/h2/mine1", m), secret,
				  RENAME_NOREPLACE };
	tl_check_errno("H2: uid 1000: RENAME_NOREPLACE onto the hidden name: "
		       "EEXIST", tl_as_user(&TL_USER_A, rename_fn, &r), EEXIST);
	r = (struct rename_args){ tl_path("%s/h2/mine2", m), secret, 0 };
	tl_check_errno("H2: uid 1000: rename onto the hidden name: ESTALE",
		       tl_as_user(&TL_USER_A, rename_fn, &r), ESTALE);
	tl_check("H2: ...the backing's secret is not replaced",
		 tl_file_equals(tl_path("%s/h2/secret", back), "data\n"),
		 "replaced");
	tl_check("H2: ...both sources are still there",
		 tl_stat_err(tl_path("%s/h2/mine1", back)) == 0 &&
		 tl_stat_err(tl_path("%s/h2/mine2", back)) == 0, "moved");
	r = (struct rename_args){ tl_path("%s/h2/mine1", m),
				  tl_path("%s/h2/mine3", m), RENAME_NOREPLACE };
	tl_check_errno("H2: uid 1000: rename onto a free name works",
		       tl_as_user(&TL_USER_A, rename_fn, &r), 0);

	/* the replaced inode has its own filter: read-only (tag 7) */
	script_tagged(c, "user_rotgt", S_IFREG | 0644, READ_ONLY_TAG);
	tl_check_errno("H2: user_rotgt (a read-only server file)",
		       tl_stat_err(tl_path("%s/user_rotgt", m)), 0);
	tl_check_errno("H2: unlink of the read-only file: EROFS (as before)",
		       unlink(tl_path("%s/user_rotgt", m)) ? errno : 0, EROFS);
	tl_check_errno("H2: rename onto the read-only file: EROFS",
		       rename_err(tl_path("%s/mv_src", m),
				  tl_path("%s/user_rotgt", m), 0), EROFS);
	tl_check_errno("H2: RENAME_EXCHANGE with the read-only file: EROFS",
		       rename_err(tl_path("%s/mv_src", m),
				  tl_path("%s/user_rotgt", m), RENAME_EXCHANGE),
		       EROFS);
	tl_check("H2: ...the read-only file is unchanged in the backing",
		 tl_file_equals(tl_path("%s/user_rotgt", back), "data\n") &&
		 tl_file_equals(tl_path("%s/mv_src", back), "move\n"),
		 "replaced or exchanged");
	tl_check_errno("H2: RENAME_EXCHANGE of two writable files works",
		       rename_err(tl_path("%s/mv_src", m),
				  tl_path("%s/mv_dst", m), RENAME_EXCHANGE), 0);
}

/* ---- H5: backing I/O and the FUSE page cache on one inode ---- */

/*
 * open(2) with the effective uid/gid 1000 of this thread only (raw
 * syscalls: glibc would change every thread, the server's too)
 */
static int open_as_user(const char *path, int flags)
{
	int fd, err;

	if (syscall(SYS_setresgid, -1, 1000, -1) ||
	    syscall(SYS_setresuid, -1, 1000, -1))
		tl_die("setresuid 1000: %s", strerror(errno));
	fd = open(path, flags | O_CLOEXEC);
	err = errno;
	if (syscall(SYS_setresuid, -1, 0, -1) ||
	    syscall(SYS_setresgid, -1, 0, -1))
		tl_die("setresuid 0: %s", strerror(errno));
	errno = err;
	return fd;
}

static void test_io_modes(struct conn *c)
{
	const char *f = tl_path("%s/user_io", c->rf.mnt);
	unsigned int o0;
	int fdb, fds;

	script_tagged(c, "user_io", S_IFREG | 0666, OPEN_USER_TAG);
	tl_check_errno("H5: user_io (a server file, OPEN by uid 1000: USER)",
		       tl_stat_err(f), 0);

	/* a server open (page cache) held: no open on the backing */
	o0 = atomic_load(&c->opens);
	fds = open_as_user(f, O_RDONLY);
	tl_check("H5: uid 1000 opens through the server",
		 fds >= 0 && atomic_load(&c->opens) == o0 + 1, "fd %d: %s, "
		 "%u OPEN", fds, strerror(errno), atomic_load(&c->opens) - o0);
	tl_check_errno("H5: ...meanwhile an open on the backing: ETXTBSY",
		       tl_open_err(f, O_RDONLY), ETXTBSY);
	if (fds >= 0)
		close(fds);
	fdb = open(f, O_RDWR | O_CLOEXEC);
	tl_check("H5: after its close an open on the backing works",
		 fdb >= 0, "%s", strerror(errno));

	/* an open on the backing held: no server open */
	o0 = atomic_load(&c->opens);
	fds = open_as_user(f, O_RDONLY);
	tl_check_errno("H5: ...meanwhile uid 1000's server open: ETXTBSY",
		       fds < 0 ? errno : 0, ETXTBSY);
	if (fds >= 0)
		close(fds);
	if (fdb >= 0)
		close(fdb);
	fds = open_as_user(f, O_RDONLY);
	tl_check("H5: after its close uid 1000's server open works",
		 fds >= 0 && atomic_load(&c->opens) > o0, "%s",
		 strerror(errno));
	if (fds >= 0)
		close(fds);
	tl_check_errno("H5: and then again an open on the backing",
		       tl_open_err(f, O_RDONLY), 0);
}

/* ---- M8: a node id given another backing ---- */

static void test_node_reuse(struct conn *c, const char *back)
{
	const char *f = tl_path("%s/user_reuse", c->rf.mnt);
	int id_a, id_b, fd;
	struct stat st;

	id_a = rawfuse_backing_open(&c->rf, tl_path("%s/reuse_a", back));
	id_b = rawfuse_backing_open(&c->rf, tl_path("%s/reuse_b", back));
	if (id_a <= 0 || id_b <= 0) {
		tl_fail("M8: backing open of reuse_a/reuse_b", "%s",
			strerror(-(id_a <= 0 ? id_a : id_b)));
		return;
	}
	atomic_store(&c->reuse_id, id_a);
	fd = open(f, O_RDONLY | O_CLOEXEC);	/* keeps the inode cached */
	tl_check("M8: node 63 backed by reuse_a (5 bytes)",
		 fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 5, "%s",
		 strerror(errno));
	atomic_store(&c->reuse_id, id_b);
	tl_check("M8: the server gives node 63 reuse_b (11 bytes): stat works",
		 stat(f, &st) == 0 && st.st_size == 11, "%s / size %lld",
		 strerror(errno), (long long)st.st_size);
	tl_check("M8: ...and reading it gives reuse_b",
		 tl_file_equals(f, "reuse b 11\n"), "wrong content");
	if (fd >= 0)
		close(fd);
	atomic_store(&c->reuse_id, 0);
}

/* ---- M7: st_dev of files backed on another file system ---- */

static void test_st_dev(struct conn *c, const char *back)
{
	const char *m = c->rf.mnt, *other = tl_path("%s/otherfs", tf.scratch);
	struct fuse_bpf_entry_out ext = {
		.backing_action = FUSE_BPF_BACKING_SET,
		.filter_action = FUSE_BPF_FILTER_INHERIT,
	};
	struct stat sm, sf, sb, so, sr;
	int id;

	if (mkdir(other, 0755) || mount("tmpfs", other, "tmpfs", 0, NULL) ||
	    tl_write_file(tl_path("%s/x", other), "x\n", 2, 0644)) {
		tl_fail("M7: a second tmpfs", "%s", strerror(errno));
		return;
	}
	id = rawfuse_backing_open(&c->rf, other);
	if (id <= 0) {
		tl_fail("M7: backing open of the second tmpfs", "%s",
			strerror(-id));
		goto out;
	}
	ext.backing_id = id;
	rawfuse_script(&c->rf, "user_other", S_IFDIR | 0755, &ext,
		       sizeof(ext));
	if (stat(m, &sm) || stat(tl_path("%s/file", m), &sf) ||
	    stat(tl_path("%s/file", back), &sr) ||
	    stat(tl_path("%s/user_other/x", m), &so) ||
	    stat(tl_path("%s/x", other), &sb)) {
		tl_fail("M7: stat", "%s", strerror(errno));
		goto out;
	}
	tl_check("M7: a file on the root's backing fs: the mount's st_dev, "
		 "the backing's st_ino", sf.st_dev == sm.st_dev &&
		 sf.st_ino == sr.st_ino, "dev %#llx/%#llx ino %llu/%llu",
		 (unsigned long long)sf.st_dev, (unsigned long long)sm.st_dev,
		 (unsigned long long)sf.st_ino, (unsigned long long)sr.st_ino);
	tl_check("M7: a file on another fs: its backing's st_dev and st_ino",
		 so.st_dev == sb.st_dev && so.st_ino == sb.st_ino &&
		 so.st_dev != sm.st_dev, "dev %#llx (backing %#llx, mount "
		 "%#llx) ino %llu/%llu", (unsigned long long)so.st_dev,
		 (unsigned long long)sb.st_dev, (unsigned long long)sm.st_dev,
		 (unsigned long long)so.st_ino, (unsigned long long)sb.st_ino);
out:
	umount2(other, MNT_DETACH);
}

/* ---- H4: no file handle the server never issued ---- */

static int ftruncate_fn(void *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (ftruncate(fd, 2))
		err = errno;
	close(fd);
	return err;
}

static void test_setattr_fh(struct conn *c)
{
	const char *f = tl_path("%s/user_sa", c->rf.mnt);
	unsigned int sa0, ga0;

	script_tagged(c, "user_sa", S_IFREG | 04777, SETATTR_USER_TAG);
	tl_check_errno("H4: user_sa (a server file, SETATTR: USER)",
		       tl_stat_err(f), 0);
	sa0 = atomic_load(&c->setattrs);
	tl_check_errno("H4: ftruncate of a file opened on the backing",
		       ftruncate_fn((void *)f), 0);
	tl_check("H4: ...sent SETATTR to the server",
		 atomic_load(&c->setattrs) > sa0, "no SETATTR");
	tl_check("H4: ...without FATTR_FH (fh 0 was never issued)",
		 atomic_load(&c->setattr_fh) == 0, "%u with FATTR_FH",
		 atomic_load(&c->setattr_fh));

	/* uid 1000 truncating a set-uid file: GETATTR before killing suid */
	sa0 = atomic_load(&c->setattrs);
	ga0 = atomic_load(&c->getattrs);
	tl_check_errno("H4: ftruncate of a set-uid file as uid 1000",
		       tl_as_user(&TL_USER_A, ftruncate_fn, (void *)f), 0);
	tl_check("H4: ...sent GETATTR and SETATTR to the server",
		 atomic_load(&c->getattrs) > ga0 &&
		 atomic_load(&c->setattrs) > sa0, "GETATTR %u SETATTR %u",
		 atomic_load(&c->getattrs) - ga0,
		 atomic_load(&c->setattrs) - sa0);
	tl_check("H4: ...GETATTR without FUSE_GETATTR_FH",
		 atomic_load(&c->getattr_fh) == 0, "%u with FUSE_GETATTR_FH",
		 atomic_load(&c->getattr_fh));
	tl_check("H4: ...SETATTR without FATTR_FH",
		 atomic_load(&c->setattr_fh) == 0, "%u with FATTR_FH",
		 atomic_load(&c->setattr_fh));
}

/* ---- M6: ACLs and file attributes are filtered ---- */

/* system.posix_acl_access giving uid 1000 rw- */
struct acl_xattr {
	uint32_t version;
	struct {
		uint16_t tag, perm;
		uint32_t id;
	} e[5];
};

static const struct acl_xattr acl_user = {
	2, {
		{ 0x01, 6, (uint32_t)-1 },	/* ACL_USER_OBJ rw- */
		{ 0x02, 6, 1000 },		/* ACL_USER 1000 rw- */
		{ 0x04, 4, (uint32_t)-1 },	/* ACL_GROUP_OBJ r-- */
		{ 0x10, 6, (uint32_t)-1 },	/* ACL_MASK rw- */
		{ 0x20, 4, (uint32_t)-1 },	/* ACL_OTHER r-- */
	},
};

#define ACL_ACCESS	"system.posix_acl_access"

static int setacl_err(const char *path)
{
	return setxattr(path, ACL_ACCESS, &acl_user, sizeof(acl_user), 0) ?
	       errno : 0;
}

static void test_unfiltered(struct conn *c, const char *back)
{
	const char *m = c->rf.mnt, *ro = tl_path("%s/user_ro/data", m);
	const char *bro = tl_path("%s/user_ro/data", back);
	char buf[256];
	int flags;

	script_tagged(c, "user_ro", S_IFDIR | 0755, READ_ONLY_TAG);
	tl_check_errno("M6: read-only subtree: chmod: EROFS (as before)",
		       chmod(ro, 0600) ? errno : 0, EROFS);
	tl_check_errno("M6: read-only subtree: setfacl: EROFS",
		       setacl_err(ro), EROFS);
	tl_check("M6: ...no ACL on the backing",
		 getxattr(bro, ACL_ACCESS, buf, sizeof(buf)) < 0 &&
		 errno == ENODATA, "it has one");
	tl_check_errno("M6: an ACL set on the backing directly",
		       setacl_err(tl_path("%s/user_ro/acl", back)), 0);
	tl_check_errno("M6: read-only subtree: removing the ACL: EROFS",
		       removexattr(tl_path("%s/user_ro/acl", m), ACL_ACCESS) ?
		       errno : 0, EROFS);
	tl_check("M6: ...the backing keeps its ACL",
		 getxattr(tl_path("%s/user_ro/acl", back), ACL_ACCESS, buf,
			  sizeof(buf)) > 0, "%s", strerror(errno));
	tl_check_errno("M6: read-only subtree: chattr +A: EROFS",
		       chattr(ro, FS_NOATIME_FL, 0), EROFS);
	flags = getflags(bro);
	tl_check("M6: ...the backing has no FS_NOATIME_FL",
		 flags >= 0 && !(flags & FS_NOATIME_FL), "flags %#x", flags);
	tl_check_errno("M6: read-only subtree: reading the ACL works",
		       getxattr(tl_path("%s/user_ro/acl", m), ACL_ACCESS, buf,
				sizeof(buf)) < 0 ? errno : 0, 0);

	tl_check_errno("M6: outside: setfacl works",
		       setacl_err(tl_path("%s/file", m)), 0);
	tl_check("M6: ...the backing got the ACL",
		 getxattr(tl_path("%s/file", back), ACL_ACCESS, buf,
			  sizeof(buf)) == (ssize_t)sizeof(acl_user),
		 "%s", strerror(errno));
	tl_check_errno("M6: outside: chattr +A works",
		       chattr(tl_path("%s/file", m), FS_NOATIME_FL, 0), 0);
	flags = getflags(tl_path("%s/file", back));
	tl_check("M6: ...the backing has FS_NOATIME_FL",
		 flags >= 0 && (flags & FS_NOATIME_FL), "flags %#x", flags);
}

/* ---- M4: kernel-internal codes from a filter ---- */

static void test_kernel_codes(struct conn *c)
{
	const char *f = tl_path("%s/user_kerr/f", c->rf.mnt);
	struct statfs sfs;
	char buf[256];

	script_tagged(c, "user_kerr", S_IFDIR | 0755, KERR_TAG);
	tl_check_errno("M4: pre-filter -ERESTARTSYS (GETATTR): EIO",
		       tl_stat_err(f), EIO);
	tl_check_errno("M4: pre-filter -MAX_ERRNO (STATFS): EIO",
		       statfs(f, &sfs) ? errno : 0, EIO);
	tl_check_errno("M4: pre-filter -134 (OPEN): EIO",
		       tl_open_err(f, O_RDONLY), EIO);
	tl_check_errno("M4: pre-filter -EHWPOISON (GETXATTR) is an errno",
		       getxattr(f, "user.x", buf, sizeof(buf)) < 0 ? errno : 0,
		       EHWPOISON);
	tl_check_errno("M4: post-filter -200 (LISTXATTR): EIO",
		       listxattr(f, buf, sizeof(buf)) < 0 ? errno : 0, EIO);
}

/* ---- H6: FUSE_BPF and FUSE_ALLOW_IDMAP ---- */

static void test_idmap(const char *back)
{
	struct rawfuse rf;
	int id;

	rawfuse_mount_opts(&rf, "bpf_review idmap", tl_path("%s/mnt_idmap",
							     tf.scratch),
			   "bpf_review", true, NULL, "default_permissions",
			   FUSE_ALLOW_IDMAP);
	tl_check_errno("H6: FUSE_BPF + FUSE_ALLOW_IDMAP: the mount works",
		       tl_stat_err(rf.mnt), 0);
	id = rawfuse_backing_open(&rf, back);
	tl_check_errno("H6: ...but FUSE_BPF is not accepted: BACKING_OPEN "
		       "EOPNOTSUPP", id < 0 ? -id : 0, EOPNOTSUPP);
	rawfuse_unmount(&rf);

	rawfuse_mount_opts(&rf, "bpf_review noidmap",
			   tl_path("%s/mnt_noidmap", tf.scratch), "bpf_review",
			   true, NULL, "default_permissions", 0);
	id = rawfuse_backing_open(&rf, back);
	tl_check("H6: FUSE_BPF alone (default_permissions): BACKING_OPEN works",
		 id > 0, "%s", strerror(-id));
	rawfuse_unmount(&rf);
}

static void make_tree(const char *back)
{
	static const char *const dirs[] = {
		"sub", "sub2", "user_mv", "user_ro", "user_kerr", "h2",
	};
	static const char *const files[] = {
		"file", "log", "log_new", "log2", "imm", "user_sa",
		"user_mv/f", "sub/g", "user_ro/data", "user_ro/acl",
		"user_kerr/f", "h2/secret", "user_rotgt", "user_io", "mv_dst",
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(tl_path("%s/%s", back, dirs[i]), 0755))
			tl_die("mkdir %s: %s", dirs[i], strerror(errno));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (tl_write_file(tl_path("%s/%s", back, files[i]), "data\n", 5,
				  0644))
			tl_die("cannot create %s", files[i]);
	if (chmod(tl_path("%s/user_sa", back), 04777))
		tl_die("chmod user_sa: %s", strerror(errno));
	if (tl_write_file(tl_path("%s/reuse_a", back), "aaaa\n", 5, 0644) ||
	    tl_write_file(tl_path("%s/reuse_b", back), "reuse b 11\n", 11,
			  0644) ||
	    tl_write_file(tl_path("%s/mv_src", back), "move\n", 5, 0644) ||
	    tl_write_file(tl_path("%s/h2/mine1", back), "mine\n", 5, 0644) ||
	    tl_write_file(tl_path("%s/h2/mine2", back), "mine\n", 5, 0644))
		tl_die("cannot create reuse_*, mv_src, h2/mine*");
	/* h2: uid 1000 may rename its files; root's "secret" is hidden */
	if (chmod(tl_path("%s/h2", back), 0777) ||
	    chown(tl_path("%s/h2/mine1", back), 1000, 1000) ||
	    chown(tl_path("%s/h2/mine2", back), 1000, 1000) ||
	    chmod(tl_path("%s/user_io", back), 0666))
		tl_die("h2/user_io modes: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : NULL;
	const char *back;
	int root_id, fid;
	struct conn c;

	test_filter_setup(&tf, "bpf_review", base);
	back = tf.back;
	make_tree(back);

	memset(&c, 0, sizeof(c));
	rawfuse_mount(&c.rf, "bpf_review", tl_path("%s/mnt", tf.scratch),
		      "bpf_review", true, serve);
	root_id = rawfuse_backing_open(&c.rf, back);
	if (root_id <= 0)
		tl_die("backing open: %s", strerror(-root_id));
	fid = rawfuse_filter_open(&c.rf, "fusebpf_test", 0);
	if (fid <= 0)
		tl_die("FILTER_OPEN of the test filter: %s", strerror(-fid));
	if (rawfuse_root_set(&c.rf, root_id, fid))
		tl_die("ROOT_SET: %s", strerror(errno));

	test_append_only(&c, back);
	test_kernel_ids(&c, back);
	test_rename_target(&c, back);
	test_io_modes(&c);
	test_node_reuse(&c, back);
	test_st_dev(&c, back);
	test_setattr_fh(&c);
	test_unfiltered(&c, back);
	test_kernel_codes(&c);
	tl_check("no request carried a kernel node id (bit 63)",
		 atomic_load(&c.kernel_ids) == 0, "%u did",
		 atomic_load(&c.kernel_ids));
	rawfuse_unmount(&c.rf);

	test_idmap(back);

	test_filter_teardown(&tf);
	return tl_done();
}
