// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_counters - proof that mode bpf serves backed inodes in the kernel.
 *
 *   bpf_counters [SCRATCH_DIR]      (default $TMPDIR or /tmp; needs root)
 *
 * Mounts `fusebpfd BACK MNT -o mode=bpf,served=served` (fusebpfd next to
 * this binary's build/, or $FUSEBPFD) and runs every operation twice: on
 * MNT/backed (backed by BACK/backed: the daemon's request counters must not
 * move at all) and on MNT/served (a subtree the daemon serves itself: the
 * operation's opcode must reach the daemon, which shows the counters do
 * count). The operation must succeed on both sides. Then it kills the
 * daemon with SIGKILL and checks that backed files stay readable and
 * writable through the mount.
 *
 * The counters are the daemon's own (struct fusebpf_stats, mmap'ed from
 * /run/fusebpf/<instance>/stats), read without spawning a process.
 */
#include <dirent.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#include "fusebpf/instance.h"
#include "uapi/linux/fuse_bpf.h"
#include "testlib.h"

#ifndef FUSE_COPY_FILE_RANGE
#define FUSE_COPY_FILE_RANGE 47
#endif

static char scratch[PATH_MAX];
static char back[PATH_MAX];
static char mnt[PATH_MAX];
/* MNT/backed and MNT/served; not tl_path()s: the ops reuse its ring */
static char dir_backed[PATH_MAX + 16];
static char dir_served[PATH_MAX + 16];
static struct fusebpf_instance inst;
static int seq;

static const char *daemon_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("FUSEBPFD");
	ssize_t n;
	char *p;

	if (env && *env)
		return env;
	/* build/tests/integration/bpf_counters -> build/fusebpfd */
	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n <= 0)
		return "build/fusebpfd";
	path[n] = 0;
	for (int up = 0; up < 3 && (p = strrchr(path, '/')); up++)
		*p = 0;
	strcat(path, "/fusebpfd");
	return path;
}

/* Requests the daemon received so far, all opcodes but the forgets. */
static uint64_t requests_total(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < FUSEBPF_STATS_OPCODES; i++)
		if (i != FUSE_FORGET && i != FUSE_BATCH_FORGET &&
		    i != FUSE_INTERRUPT)
			n += fusebpf_stats_load(&inst.stats->requests[i]);
	return n;
}

static uint64_t requests_of(unsigned int opcode)
{
	return fusebpf_stats_load(&inst.stats->requests[opcode]);
}

static void snapshot(uint64_t *v)
{
	for (unsigned int i = 0; i < FUSEBPF_STATS_OPCODES; i++)
		v[i] = fusebpf_stats_load(&inst.stats->requests[i]);
}

/* "LOOKUP+1 GETATTR+2" of what moved since the snapshot. */
static const char *moved(const uint64_t *before)
{
	static char buf[512];
	size_t o = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < FUSEBPF_STATS_OPCODES; i++) {
		uint64_t d = fusebpf_stats_load(&inst.stats->requests[i]) - before[i];
		const char *name = fusebpf_opcode_name(i);

		if (d && o < sizeof(buf) - 40)
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s+%" PRIu64,
				      o ? " " : "", name ? name : "?", d);
	}
	return buf[0] ? buf : "nothing";
}

/*
 * ---- the operations ----
 * Each runs on one side, "backed" or "served", with that side's directory
 * as the cwd and DIR = "." (a walk from the cwd does not revalidate the
 * top-level dentry, which the daemon resolved and may time out: that
 * LOOKUP would be about MNT/side, not about the op). Fresh files are made
 * directly in BACK/side, so that the first access through the mount finds
 * nothing cached (no dentry, no page cache).
 */
static char cur_back[PATH_MAX + 16];	/* BACK/side of the current side */

static const char *P(const char *dir, const char *name)
{
	return tl_path("%s/%s", dir, name);
}

static const char *backing_of(const char *dir, const char *name)
{
	(void)dir;
	return tl_path("%s/%s", cur_back, name);
}

/* Makes MNT/side the cwd; returns "." for the ops, NULL on failure. */
static const char *enter_side(const char *side)
{
	snprintf(cur_back, sizeof(cur_back), "%s/%s", back, side);
	if (chdir(side[0] == 'b' ? dir_backed : dir_served)) {
		tl_fail(side, "chdir: %s", tl_errname(errno));
		return NULL;
	}
	return ".";
}

static int fresh_file(const char *dir, char *name, size_t len)
{
	snprintf(name, len, "f%d", ++seq);
	return tl_write_file(backing_of(dir, name), "0123456789abcdef", 16, 0644);
}

static int op_lookup(const char *dir)
{
	char name[32];
	struct stat st;
	int e = fresh_file(dir, name, sizeof(name));

	return e ? e : TL_ERR(lstat(P(dir, name), &st));
}

static int op_getattr(const char *dir)
{
	struct statx stx;

	return TL_ERR(statx(AT_FDCWD, P(dir, "base"), AT_STATX_FORCE_SYNC,
			    STATX_BASIC_STATS, &stx));
}

static int op_setattr(const char *dir)
{
	return TL_ERR(chmod(P(dir, "base"), ++seq & 1 ? 0640 : 0644));
}

static int op_readlink(const char *dir)
{
	char buf[64], name[32];

	snprintf(name, sizeof(name), "l%d", ++seq);
	if (symlink("base", backing_of(dir, name)))
		return errno;
	return TL_ERR(readlink(P(dir, name), buf, sizeof(buf)));
}

static int op_mknod(const char *dir)
{
	return TL_ERR(mknod(tl_path("%s/n%d", dir, ++seq), S_IFIFO | 0644, 0));
}

static int op_mkdir(const char *dir)
{
	return TL_ERR(mkdir(tl_path("%s/d%d", dir, ++seq), 0755));
}

static int op_rmdir(const char *dir)
{
	const char *d = tl_path("%s/r%d", dir, ++seq);

	if (mkdir(d, 0755))
		return errno;
	return TL_ERR(rmdir(d));
}

static int op_unlink(const char *dir)
{
	char name[32];
	int e = fresh_file(dir, name, sizeof(name));

	return e ? e : TL_ERR(unlink(P(dir, name)));
}

static int op_rename(const char *dir)
{
	char name[32];
	int e = fresh_file(dir, name, sizeof(name));

	return e ? e : TL_ERR(rename(P(dir, name), tl_path("%s/m%d", dir, ++seq)));
}

static int op_rename_exchange(const char *dir)
{
	char a[32], b[32];
	int e = fresh_file(dir, a, sizeof(a));

	if (!e)
		e = fresh_file(dir, b, sizeof(b));
	if (e)
		return e;
	return TL_ERR(renameat2(AT_FDCWD, P(dir, a), AT_FDCWD, P(dir, b),
				RENAME_EXCHANGE));
}

static int op_rename_noreplace(const char *dir)
{
	char name[32];
	int e = fresh_file(dir, name, sizeof(name));

	if (e)
		return e;
	return TL_ERR(renameat2(AT_FDCWD, P(dir, name), AT_FDCWD,
				tl_path("%s/q%d", dir, ++seq), RENAME_NOREPLACE));
}

static int op_link(const char *dir)
{
	return TL_ERR(link(P(dir, "base"), tl_path("%s/h%d", dir, ++seq)));
}

static int op_symlink(const char *dir)
{
	return TL_ERR(symlink("base", tl_path("%s/s%d", dir, ++seq)));
}

static int op_create(const char *dir)
{
	int fd = open(tl_path("%s/c%d", dir, ++seq), O_CREAT | O_EXCL | O_WRONLY, 0644);

	if (fd < 0)
		return errno;
	return close(fd) ? errno : 0;
}

static int op_open(const char *dir)
{
	int fd = open(P(dir, "base"), O_RDONLY);

	if (fd < 0)
		return errno;
	return close(fd) ? errno : 0;
}

static int op_read(const char *dir)
{
	char name[32], buf[16];
	int e = fresh_file(dir, name, sizeof(name));
	int fd;
	ssize_t n;

	if (e)
		return e;
	fd = open(P(dir, name), O_RDONLY);
	if (fd < 0)
		return errno;
	n = pread(fd, buf, sizeof(buf), 0);
	e = n < 0 ? errno : (n == 16 && !memcmp(buf, "0123456789abcdef", 16)) ? 0 : EIO;
	close(fd);
	return e;
}

static int op_write_fsync(const char *dir)
{
	int fd = open(P(dir, "base"), O_WRONLY);
	int e = 0;

	if (fd < 0)
		return errno;
	if (pwrite(fd, "x", 1, 100) != 1 || fsync(fd))
		e = errno;
	close(fd);
	return e;
}

static int op_flush(const char *dir)
{
	return op_open(dir);
}

static int op_mmap(const char *dir)
{
	char name[32];
	int e = fresh_file(dir, name, sizeof(name));
	int fd;
	char *p;

	if (e)
		return e;
	fd = open(P(dir, name), O_RDWR);
	if (fd < 0)
		return errno;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		close(fd);
		return e;
	}
	e = memcmp(p, "0123", 4) ? EIO : 0;
	p[0] = 'M';
	if (msync(p, 4096, MS_SYNC))
		e = errno;
	munmap(p, 4096);
	close(fd);
	return e;
}

static int op_splice(const char *dir)
{
	char name[32];
	int e = fresh_file(dir, name, sizeof(name));
	int fd, pfd[2];
	loff_t off = 0;

	if (e)
		return e;
	fd = open(P(dir, name), O_RDONLY);
	if (fd < 0)
		return errno;
	if (pipe(pfd)) {
		e = errno;
		close(fd);
		return e;
	}
	if (splice(fd, &off, pfd[1], NULL, 16, 0) != 16)
		e = errno ? errno : EIO;
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	return e;
}

static int op_readdir(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return errno;
	while (readdir(d))
		n++;
	closedir(d);
	return n >= 3 ? 0 : ENOENT;
}

static int op_fsyncdir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int e;

	if (fd < 0)
		return errno;
	e = TL_ERR(fsync(fd));
	close(fd);
	return e;
}

static int op_statfs(const char *dir)
{
	struct statfs sfs;

	return TL_ERR(statfs(P(dir, "base"), &sfs));
}

static int op_setxattr(const char *dir)
{
	return TL_ERR(setxattr(P(dir, "base"), "user.t", "v", 1, 0));
}

static int op_getxattr(const char *dir)
{
	char v[8];

	return TL_ERR(getxattr(P(dir, "base"), "user.t", v, sizeof(v)));
}

static int op_listxattr(const char *dir)
{
	char v[256];

	return TL_ERR(listxattr(P(dir, "base"), v, sizeof(v)));
}

static int op_removexattr(const char *dir)
{
	if (setxattr(P(dir, "base"), "user.r", "v", 1, 0))
		return errno;
	return TL_ERR(removexattr(P(dir, "base"), "user.r"));
}

static int op_lseek(const char *dir)
{
	int fd = open(P(dir, "base"), O_RDONLY);
	int e;

	if (fd < 0)
		return errno;
	e = TL_ERR(lseek(fd, 0, SEEK_DATA));
	close(fd);
	return e;
}

static int op_fallocate(const char *dir)
{
	int fd = open(P(dir, "base"), O_WRONLY);
	int e;

	if (fd < 0)
		return errno;
	e = TL_ERR(fallocate(fd, 0, 0, 8192));
	close(fd);
	return e;
}

static int op_copy_file_range(const char *dir)
{
	int in = open(P(dir, "base"), O_RDONLY);
	int out = open(tl_path("%s/cfr%d", dir, ++seq), O_CREAT | O_WRONLY, 0644);
	int e = 0;

	if (in < 0 || out < 0)
		e = errno;
	else if (copy_file_range(in, NULL, out, NULL, 8, 0) != 8)
		e = errno ? errno : EIO;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return e;
}

static int op_flock(const char *dir)
{
	int fd = open(P(dir, "base"), O_RDONLY);
	int e;

	if (fd < 0)
		return errno;
	e = TL_ERR(flock(fd, LOCK_EX | LOCK_NB));
	flock(fd, LOCK_UN);
	close(fd);
	return e;
}

struct op {
	const char *name;
	int (*fn)(const char *dir);
	/* on the served side, at least one of these must reach the daemon */
	unsigned int served_opcodes[3];
};

static const struct op ops[] = {
	{ "lookup", op_lookup, { FUSE_LOOKUP } },
	{ "getattr (statx sync)", op_getattr, { FUSE_GETATTR } },
	{ "setattr (chmod)", op_setattr, { FUSE_SETATTR } },
	{ "readlink", op_readlink, { FUSE_READLINK } },
	{ "mknod (fifo)", op_mknod, { FUSE_MKNOD } },
	{ "mkdir", op_mkdir, { FUSE_MKDIR } },
	{ "rmdir", op_rmdir, { FUSE_RMDIR } },
	{ "unlink", op_unlink, { FUSE_UNLINK } },
	{ "rename", op_rename, { FUSE_RENAME, FUSE_RENAME2 } },
	{ "rename2 (RENAME_EXCHANGE)", op_rename_exchange, { FUSE_RENAME2 } },
	{ "rename2 (RENAME_NOREPLACE)", op_rename_noreplace, { FUSE_RENAME2 } },
	{ "link", op_link, { FUSE_LINK } },
	{ "symlink", op_symlink, { FUSE_SYMLINK } },
	{ "create", op_create, { FUSE_CREATE, FUSE_MKNOD } },
	{ "open", op_open, { FUSE_OPEN } },
	{ "flush (close)", op_flush, { FUSE_FLUSH } },
	{ "read", op_read, { FUSE_READ } },
	{ "write + fsync", op_write_fsync, { FUSE_WRITE, FUSE_FSYNC } },
	{ "mmap read/write", op_mmap, { FUSE_READ, FUSE_WRITE } },
	{ "splice read", op_splice, { FUSE_READ } },
	{ "opendir/readdir", op_readdir, { FUSE_OPENDIR, FUSE_READDIR, FUSE_READDIRPLUS } },
	{ "fsyncdir", op_fsyncdir, { FUSE_FSYNCDIR } },
	{ "statfs", op_statfs, { FUSE_STATFS } },
	{ "setxattr", op_setxattr, { FUSE_SETXATTR } },
	{ "getxattr", op_getxattr, { FUSE_GETXATTR } },
	{ "listxattr", op_listxattr, { FUSE_LISTXATTR } },
	{ "removexattr", op_removexattr, { FUSE_REMOVEXATTR } },
	{ "lseek (SEEK_DATA)", op_lseek, { FUSE_LSEEK } },
	{ "fallocate", op_fallocate, { FUSE_FALLOCATE } },
	{ "copy_file_range", op_copy_file_range, { FUSE_COPY_FILE_RANGE, FUSE_READ } },
	{ "flock", op_flock, { FUSE_SETLK, FUSE_GETLK } },
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* Waits up to 2 s for async requests (RELEASE, FORGET) to land. */
static void settle(void)
{
	uint64_t last = requests_total();

	for (int i = 0; i < 20; i++) {
		poll(NULL, 0, 100);
		if (requests_total() == last && i >= 2)
			return;
		last = requests_total();
	}
}

static void run_backed(void)
{
	const char *dir = enter_side("backed");
	char name[160];
	uint64_t before[FUSEBPF_STATS_OPCODES];

	if (!dir)
		return;
	for (size_t i = 0; i < NOPS; i++) {
		uint64_t total;
		int e;

		settle();
		snapshot(before);
		total = requests_total();
		e = ops[i].fn(dir);
		snprintf(name, sizeof(name), "backed: %s succeeds", ops[i].name);
		tl_check_errno(name, e, 0);
		/* the release of a file closed above is asynchronous */
		settle();
		snprintf(name, sizeof(name), "backed: %s sends the daemon nothing",
			 ops[i].name);
		tl_check(name, requests_total() == total, "daemon got %s", moved(before));
	}
}

static void run_served(void)
{
	const char *dir = enter_side("served");
	char name[160];
	uint64_t before[FUSEBPF_STATS_OPCODES];

	if (!dir)
		return;
	for (size_t i = 0; i < NOPS; i++) {
		bool reached = false;
		int e;

		settle();
		snapshot(before);
		e = ops[i].fn(dir);
		settle();
		snprintf(name, sizeof(name), "served: %s succeeds", ops[i].name);
		tl_check_errno(name, e, 0);
		for (int k = 0; k < 3 && ops[i].served_opcodes[k]; k++) {
			unsigned int opc = ops[i].served_opcodes[k];

			if (requests_of(opc) > before[opc])
				reached = true;
		}
		snprintf(name, sizeof(name), "served: %s reaches the daemon (%s)",
			 ops[i].name, fusebpf_opcode_name(ops[i].served_opcodes[0]));
		tl_check(name, reached, "daemon got %s", moved(before));
	}
}

static void run_after_kill(void)
{
	const char *dir = enter_side("backed");
	pid_t pid = inst.pid;
	char buf[64];
	ssize_t n;
	int fd;

	if (!dir)
		return;
	tl_check_call("SIGKILL the daemon", kill(pid, SIGKILL), 0);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
		poll(NULL, 0, 50);
	tl_check("daemon is gone", kill(pid, 0) && errno == ESRCH, "still alive");

	n = tl_read_file(P(dir, "keep"), buf, sizeof(buf));
	tl_check("after SIGKILL: backed file readable", n == 5 && !memcmp(buf, "keep\n", 5),
		 "got %zd: %s", n, n < 0 ? tl_errname(-n) : "wrong content");
	tl_check_errno("after SIGKILL: backed file writable",
		      tl_write_file(P(dir, "keep"), "kept\n", 5, 0644), 0);
	tl_check("after SIGKILL: the write reached the backing file",
		 tl_file_equals(tl_path("%s/backed/keep", back), "kept\n"), "backing unchanged");
	fd = open(P(dir, "keep"), O_WRONLY | O_APPEND);
	tl_check("after SIGKILL: append through an fd",
		 fd >= 0 && write(fd, "more\n", 5) == 5, "%s", tl_errname(errno));
	if (fd >= 0)
		close(fd);
	tl_check_errno("after SIGKILL: create a backed file",
		      tl_write_file(P(dir, "born-after-kill"), "new\n", 4, 0644), 0);
	tl_check("after SIGKILL: created file is in the backing dir",
		 tl_file_equals(tl_path("%s/backed/born-after-kill", back), "new\n"), "missing");
	tl_check("after SIGKILL: readdir of the backed dir",
		 op_readdir(dir) == 0, "failed");
	{
		struct stat st;

		tl_check_errno2("after SIGKILL: the served subtree is gone (ENOTCONN)",
				TL_ERR(lstat(tl_path("%s/served/newname", mnt), &st)),
				ENOTCONN, ECONNABORTED);
	}
}

static int start_daemon(void)
{
	char opts[] = "mode=bpf,served=served";
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		execl(daemon_path(), "fusebpfd", back, mnt, "-o", opts, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", daemon_path(), strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return ECHILD;
	return 0;
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : getenv("TMPDIR");
	int pin_backed = -1, pin_served = -1;
	int e;

	if (!base || !*base)
		base = "/tmp";
	if (geteuid() != 0)
		tl_die("bpf_counters needs root");
	if (access(FUSE_BPF_FEATURE_FILE, R_OK)) {
		tl_fail("kernel has FUSE-BPF", "%s missing", FUSE_BPF_FEATURE_FILE);
		return tl_done();
	}
	if (snprintf(scratch, sizeof(scratch), "%s/bpf_counters.%d", base, getpid()) >=
	    (int)sizeof(back) - 16)
		tl_die("scratch path too long");
	if (snprintf(back, sizeof(back), "%s/back", scratch) >= (int)sizeof(back) ||
	    snprintf(mnt, sizeof(mnt), "%s/mnt", scratch) >= (int)sizeof(mnt))
		tl_die("scratch path too long");
	snprintf(dir_backed, sizeof(dir_backed), "%s/backed", mnt);
	snprintf(dir_served, sizeof(dir_served), "%s/served", mnt);
	if (mkdir(scratch, 0755) || mkdir(back, 0755) || mkdir(mnt, 0755) ||
	    mkdir(tl_path("%s/backed", back), 0755) ||
	    mkdir(tl_path("%s/served", back), 0755))
		tl_die("mkdir in %s: %s", scratch, strerror(errno));
	if (tl_write_file(tl_path("%s/backed/base", back), "base file content\n", 18, 0644) ||
	    tl_write_file(tl_path("%s/served/base", back), "base file content\n", 18, 0644) ||
	    tl_write_file(tl_path("%s/backed/keep", back), "keep\n", 5, 0644))
		tl_die("cannot fill %s", back);

	e = start_daemon();
	if (e) {
		tl_fail("fusebpfd -o mode=bpf,served=served starts", "%s", tl_errname(e));
		tl_rm_rf(scratch);
		return tl_done();
	}
	e = -fusebpf_instance_open(mnt, &inst);
	tl_check_errno("instance of the mount found", e, 0);
	if (e)
		goto out;
	tl_check("daemon runs in mode bpf", inst.stats->mode == FUSEBPF_MODE_BPF,
		 "mode %s", fusebpf_mode_name(inst.stats->mode) ?: "?");

	/* The top-level names are the daemon's to resolve: look them up now
	 * and keep their dentries pinned. */
	pin_backed = open(tl_path("%s/backed", mnt), O_PATH | O_DIRECTORY);
	pin_served = open(tl_path("%s/served", mnt), O_PATH | O_DIRECTORY);
	if (pin_backed < 0 || pin_served < 0)
		tl_fail("top-level dirs visible", "%s", tl_errname(errno));
	run_backed();
	run_served();
	run_after_kill();
	fusebpf_instance_close(&inst);
	if (chdir("/"))
		tl_fail("chdir /", "%s", tl_errname(errno));
	if (pin_backed >= 0)
		close(pin_backed);
	if (pin_served >= 0)
		close(pin_served);
out:
	if (umount2(mnt, MNT_DETACH))
		fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
	tl_rm_rf(scratch);
	return tl_done();
}
