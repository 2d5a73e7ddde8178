// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_uapi - the FUSE-BPF kernel UAPI (include/uapi/linux/fuse_bpf.h),
 * spoken raw on /dev/fuse by a tiny hand-written server (rawfuse.h): no
 * libfuse, no fusebpfd, so every byte the kernel sees is the one the test
 * chose.
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
#include <poll.h>
#include <sys/ioctl.h>

#include "testlib.h"
#include "rawfuse.h"

#ifndef FUSE_PASSTHROUGH
#define FUSE_PASSTHROUGH (1ULL << 37)
#endif

static char scratch[PATH_MAX];

/* Extension with backing_action/id, everything else zero. */
static struct fuse_bpf_entry_out ext_backing(uint32_t action, uint32_t id)
{
	struct fuse_bpf_entry_out e = { 0 };

	e.backing_action = action;
	e.backing_id = id;
	return e;
}

/* ---- backing registration ---- */

static int backing_open_raw(struct rawfuse *c, int fd, uint32_t flags,
			    uint64_t reserved)
{
	struct fuse_bpf_backing_open arg = {
		.fd = fd, .flags = flags, .reserved = reserved,
	};

	return ioctl(c->fd, FUSE_DEV_IOC_BPF_BACKING_OPEN, &arg);
}

/* Registers path (opened with oflags); returns the id or -errno. */
static int backing_open_path(struct rawfuse *c, const char *path, int oflags)
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

static int backing_close(struct rawfuse *c, uint32_t id)
{
	return ioctl(c->fd, FUSE_DEV_IOC_BPF_BACKING_CLOSE, &id);
}

static int root_set(struct rawfuse *c, uint32_t id, uint64_t reserved0)
{
	struct fuse_bpf_root_set arg = { .backing_id = id };

	arg.reserved[0] = reserved0;
	return ioctl(c->fd, FUSE_DEV_IOC_BPF_ROOT_SET, &arg);
}

static struct rawfuse *unpriv_conn;
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

static void test_registration(struct rawfuse *a, const char *back)
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

static void test_stacking(struct rawfuse *a, struct rawfuse *b)
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

static void test_lookup_ext(struct rawfuse *a, struct rawfuse *b, struct rawfuse *c,
			    const char *back)
{
	struct fuse_bpf_entry_out e;
	unsigned char raw[RAWFUSE_EXT_MAX];
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
	rawfuse_script(a, "good", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("lookup with a good extension", stat_err(tl_path("%s/good", a->mnt)), 0);
	before = rawfuse_requests(a);
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
		 rawfuse_requests(a) == before, "%u requests (LOOKUP %u, GETATTR %u, OPEN %u, READ %u, CREATE %u)",
		 rawfuse_requests(a) - before, rawfuse_ops_of(a, FUSE_LOOKUP), rawfuse_ops_of(a, FUSE_GETATTR),
		 rawfuse_ops_of(a, FUSE_OPEN), rawfuse_ops_of(a, FUSE_READ), rawfuse_ops_of(a, FUSE_CREATE));

	/* A backed regular file. */
	e = ext_backing(FUSE_BPF_BACKING_SET, file_id);
	rawfuse_script(a, "goodfile", S_IFREG | 0644, &e, sizeof(e));
	before = rawfuse_requests(a);
	n = tl_read_file(tl_path("%s/goodfile", a->mnt), buf, sizeof(buf));
	tl_check("backed file reads the backing content",
		 n == 13 && !memcmp(buf, "backing file\n", 13), "got %zd bytes", n);
	tl_check("backed file: only the LOOKUP reached the server",
		 rawfuse_requests(a) - before == 1 && rawfuse_ops_of(a, FUSE_READ) == 0 &&
		 rawfuse_ops_of(a, FUSE_OPEN) == 0,
		 "%u requests, OPEN %u, READ %u", rawfuse_requests(a) - before,
		 rawfuse_ops_of(a, FUSE_OPEN), rawfuse_ops_of(a, FUSE_READ));

	/* Malformed extensions: the lookup fails with EIO, nothing attached. */
	e = ext_backing(FUSE_BPF_BACKING_SET, 54321);
	rawfuse_script(a, "unknown_id", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown id: EIO",
		      stat_err(tl_path("%s/unknown_id", a->mnt)), EIO);

	/* An id only registered on connection B (ids are per connection). */
	/* ids are allocated upwards: one above every id of A is not A's */
	do
		other_id = backing_open_path(b, back, O_RDONLY);
	while (other_id > 0 && other_id <= file_id);
	check_id("register backing on connection B", other_id);
	e = ext_backing(FUSE_BPF_BACKING_SET, other_id);
	rawfuse_script(a, "other_conn", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an id of another connection: EIO",
		      stat_err(tl_path("%s/other_conn", a->mnt)), EIO);

	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	memcpy(raw, &e, sizeof(e));
	rawfuse_script(a, "short", S_IFDIR | 0755, raw, sizeof(e) - 4);
	tl_check_errno("extension 4 bytes short: EIO",
		      stat_err(tl_path("%s/short", a->mnt)), EIO);
	memset(raw + sizeof(e), 0, 8);
	rawfuse_script(a, "long", S_IFDIR | 0755, raw, sizeof(e) + 8);
	tl_check_errno("extension 8 bytes long: EIO",
		      stat_err(tl_path("%s/long", a->mnt)), EIO);
	rawfuse_script(a, "tiny", S_IFDIR | 0755, raw, 1);
	tl_check_errno("extension of 1 byte: EIO",
		      stat_err(tl_path("%s/tiny", a->mnt)), EIO);

	e = ext_backing(77, dir_id);
	rawfuse_script(a, "bad_action", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown backing action: EIO",
		      stat_err(tl_path("%s/bad_action", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.flags = 1U << 20;
	rawfuse_script(a, "bad_flags", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown flag: EIO",
		      stat_err(tl_path("%s/bad_flags", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.reserved[1] = 1;
	rawfuse_script(a, "bad_reserved", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with reserved != 0: EIO",
		      stat_err(tl_path("%s/bad_reserved", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.filter_action = 99;
	rawfuse_script(a, "bad_filter", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with an unknown filter action: EIO",
		      stat_err(tl_path("%s/bad_filter", a->mnt)), EIO);

	e = ext_backing(FUSE_BPF_BACKING_SET, dir_id);
	e.filter_action = FUSE_BPF_FILTER_SET;
	e.filter_id = 1;
	rawfuse_script(a, "filter_set", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("extension with a filter (none in phase 1): EIO",
		       stat_err(tl_path("%s/filter_set", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_INHERIT, 0);
	rawfuse_script(a, "inherit", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("INHERIT below an unbacked parent: EIO",
		       stat_err(tl_path("%s/inherit", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_NONE, dir_id);
	rawfuse_script(a, "none_with_id", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("NONE with a backing id: EIO",
		       stat_err(tl_path("%s/none_with_id", a->mnt)), EIO);
	e = ext_backing(FUSE_BPF_BACKING_SET, file_id);
	rawfuse_script(a, "type_mismatch", S_IFDIR | 0755, &e, sizeof(e));
	tl_check_errno("a file backing for a directory entry: EIO",
		       stat_err(tl_path("%s/type_mismatch", a->mnt)), EIO);

	/* The failed lookups did not leave a half-attached inode around. */
	tl_check_errno("a failed name fails again (no cached entry)",
		      stat_err(tl_path("%s/unknown_id", a->mnt)), EIO);

	/* BACKING_NONE: a subtree served by the server as on any mount. */
	e = ext_backing(FUSE_BPF_BACKING_NONE, 0);
	rawfuse_script(a, "served", S_IFDIR | 0755, &e, sizeof(e));
	rawfuse_script(a, "served_child", S_IFREG | 0644, NULL, 0);
	tl_check_errno("lookup of a BACKING_NONE dir",
		      stat_err(tl_path("%s/served", a->mnt)), 0);
	lookups = rawfuse_ops_of(a, FUSE_LOOKUP);
	tl_check_errno("child of a BACKING_NONE dir comes from the server",
		      stat_err(tl_path("%s/served/served_child", a->mnt)), 0);
	tl_check("the child's LOOKUP reached the server",
		 rawfuse_ops_of(a, FUSE_LOOKUP) == lookups + 1, "LOOKUP +%u",
		 rawfuse_ops_of(a, FUSE_LOOKUP) - lookups);

	/* Connection C did not accept FUSE_BPF: extensions are refused. */
	{
		int id = backing_open_path(c, back, O_RDONLY);

		tl_check_errno("without FUSE_BPF in the INIT reply, BACKING_OPEN: EOPNOTSUPP",
			       id < 0 ? -id : 0, EOPNOTSUPP);
	}
	e = ext_backing(FUSE_BPF_BACKING_NONE, 0);
	rawfuse_script(c, "ext", S_IFDIR | 0755, &e, sizeof(e));
	rawfuse_script(c, "plain", S_IFDIR | 0755, NULL, 0);
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

static void test_root(struct rawfuse *a, const char *back)
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
	before = rawfuse_requests(a);
	tl_check_errno("backed root: stat of a backing file",
		      stat_err(tl_path("%s/rootfile", a->mnt)), 0);
	tl_check("backed root: readdir lists the backing dir",
		 dir_lists(a->mnt, "rootfile"), "rootfile not listed");
	tl_check_errno("backed root: mkdir",
		      TL_ERR(mkdir(tl_path("%s/rootdir", a->mnt), 0755)), 0);
	tl_check("backed root: mkdir made the backing dir",
		 stat_err(tl_path("%s/rootdir", back)) == 0, "not in backing");
	tl_check("backed root: no request reached the server",
		 rawfuse_requests(a) == before, "%u requests (LOOKUP %u, READDIR %u, MKDIR %u)",
		 rawfuse_requests(a) - before, rawfuse_ops_of(a, FUSE_LOOKUP),
		 rawfuse_ops_of(a, FUSE_READDIR), rawfuse_ops_of(a, FUSE_MKDIR));

	tl_check_call("ROOT_SET 0 detaches the root", root_set(a, 0, 0), 0);
	before = rawfuse_ops_of(a, FUSE_LOOKUP);
	if (tl_write_file(tl_path("%s/late", back), "late\n", 5, 0644))
		tl_die("cannot create %s/late", back);
	tl_check_errno("detached root: a new name is the server's (ENOENT)",
		      stat_err(tl_path("%s/late", a->mnt)), ENOENT);
	tl_check("detached root: the LOOKUP reached the server",
		 rawfuse_ops_of(a, FUSE_LOOKUP) > before, "no LOOKUP");
	tl_check_call("BACKING_CLOSE of the former root backing",
		      backing_close(a, id), 0);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : getenv("TMPDIR");
	const char *feature = FUSE_BPF_FEATURE_FILE;
	char back[PATH_MAX], want[16];
	struct rawfuse a, b, c;

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

	rawfuse_mount(&a, "a", tl_path("%s/mnt-a", scratch), "bpf_uapi",
		      true, NULL);
	rawfuse_mount(&b, "b", tl_path("%s/mnt-b", scratch), "bpf_uapi",
		      true, NULL);
	rawfuse_mount(&c, "c", tl_path("%s/mnt-c", scratch), "bpf_uapi",
		      false, NULL);
	tl_check("INIT offers FUSE_BPF", a.init_offer & FUSE_BPF,
		 "flags 0x%" PRIx64, a.init_offer);

	test_registration(&a, back);
	test_stacking(&a, &b);
	test_lookup_ext(&a, &b, &c, back);
	test_root(&a, back);

	rawfuse_unmount(&a);
	rawfuse_unmount(&b);
	rawfuse_unmount(&c);
	tl_rm_rf(scratch);
	return tl_done();
}
