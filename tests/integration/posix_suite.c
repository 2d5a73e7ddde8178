// SPDX-License-Identifier: GPL-2.0
/*
 * posix_suite - POSIX behaviour op by op, with errno checks.
 *
 *   posix_suite DIR [--reference REFDIR] [--backing BACKDIR] [--no-uid]
 *
 * Runs every check inside a fresh DIR/posix.<pid>. The expected results are
 * those of a real local filesystem; the same binary run on the backing
 * directory (the reference) and on a mount of it must give the same lines.
 * Where a result legitimately depends on the filesystem (O_DIRECT, xattr
 * support, fallocate modes, SEEK_HOLE granularity, d_type...), the check is
 * first run on REFDIR (default: DIR itself) and the target must match it.
 * BACKDIR, when DIR is a mount of it, lets the suite compare attributes and
 * contents seen through the mount with the backing files.
 * The permission checks (--no-uid skips them) need root: they fork and
 * switch to uid/gid 1000 and 2000.
 */
#include <dirent.h>
#include <linux/falloc.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>

#include "testlib.h"

static char work[PATH_MAX];	/* DIR/posix.<pid>: target of the checks */
static char probe[PATH_MAX];	/* REFDIR/posix-probe.<pid>: reference probes */
static char backwork[PATH_MAX];	/* BACKDIR/posix.<pid> or "" */

#define W(name) tl_path("%s/%s", work, name)
#define R(name) tl_path("%s/%s", probe, name)
#define B(name) tl_path("%s/%s", backwork, name)

/* open() and close again; 0 or errno. */
static int open_err(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags, mode);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int put(const char *path, const char *s)
{
	return tl_write_file(path, s, strlen(s), 0644);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? (mode_t)-1 : st.st_mode;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Compares what the mount shows of a file with the backing file. */
static void check_mirrors_backing(const char *name)
{
	struct stat m, b;
	char what[256];

	if (!backwork[0])
		return;
	snprintf(what, sizeof(what), "stat of %s matches backing file", name);
	if (lstat(W(name), &m) || lstat(B(name), &b)) {
		tl_fail(what, "lstat failed: %s", tl_errname(errno));
		return;
	}
	if (m.st_mode != b.st_mode || m.st_nlink != b.st_nlink ||
	    m.st_uid != b.st_uid || m.st_gid != b.st_gid ||
	    m.st_size != b.st_size || m.st_rdev != b.st_rdev ||
	    m.st_mtim.tv_sec != b.st_mtim.tv_sec ||
	    m.st_mtim.tv_nsec != b.st_mtim.tv_nsec ||
	    (S_ISREG(m.st_mode) && m.st_blocks != b.st_blocks))
		tl_fail(what,
			"got mode %o nlink %ju uid %u gid %u size %jd blocks %jd mtime %ld.%09ld expected mode %o nlink %ju uid %u gid %u size %jd blocks %jd mtime %ld.%09ld",
			m.st_mode, (uintmax_t)m.st_nlink, m.st_uid, m.st_gid,
			(intmax_t)m.st_size, (intmax_t)m.st_blocks,
			m.st_mtim.tv_sec, m.st_mtim.tv_nsec, b.st_mode,
			(uintmax_t)b.st_nlink, b.st_uid, b.st_gid,
			(intmax_t)b.st_size, (intmax_t)b.st_blocks,
			b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
	else
		tl_ok(what);
}

/* ------------------------------------------------------------------ */

static void test_open(void)
{
	char buf[64];
	struct stat st;
	int fd;

	tl_check_errno("open O_CREAT|O_EXCL new file",
		       open_err(W("o1"), O_CREAT | O_EXCL | O_WRONLY, 0666), 0);
	tl_check("new file mode is 0666 & ~umask",
		 (mode_of(W("o1")) & 07777) == 0644, "got %o expected 644",
		 mode_of(W("o1")) & 07777);
	tl_check_errno("open O_CREAT|O_EXCL existing: EEXIST",
		       open_err(W("o1"), O_CREAT | O_EXCL | O_WRONLY, 0644),
		       EEXIST);
	put(W("o1"), "keep");
	tl_check_errno("open O_CREAT existing without O_EXCL",
		       open_err(W("o1"), O_CREAT | O_WRONLY, 0644), 0);
	tl_check("O_CREAT without O_EXCL keeps content",
		 tl_file_equals(W("o1"), "keep"), "content changed");
	tl_check_errno("open missing without O_CREAT: ENOENT",
		       open_err(W("missing"), O_RDONLY, 0), ENOENT);
	tl_check_errno("open missing in missing dir: ENOENT",
		       open_err(W("nodir/x"), O_CREAT | O_WRONLY, 0644), ENOENT);
	tl_check_errno("open file with O_DIRECTORY: ENOTDIR",
		       open_err(W("o1"), O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
	tl_check_errno("open path through a file: ENOTDIR",
		       open_err(W("o1/x"), O_RDONLY, 0), ENOTDIR);
	tl_check_errno("open dir O_WRONLY: EISDIR",
		       open_err(work, O_WRONLY, 0), EISDIR);
	tl_check_errno("open dir O_DIRECTORY",
		       open_err(work, O_RDONLY | O_DIRECTORY, 0), 0);

	{
		char longname[NAME_MAX + 2];

		memset(longname, 'a', NAME_MAX + 1);
		longname[NAME_MAX + 1] = 0;
		tl_check_errno("open name longer than NAME_MAX: ENAMETOOLONG",
			       open_err(W(longname), O_CREAT | O_WRONLY, 0644),
			       ENAMETOOLONG);
		longname[NAME_MAX] = 0;
		tl_check_errno("create name of exactly NAME_MAX",
			       open_err(W(longname), O_CREAT | O_WRONLY, 0644), 0);
		tl_check_call("unlink name of NAME_MAX", unlink(W(longname)), 0);
	}

	/* O_TRUNC */
	put(W("o2"), "0123456789");
	fd = open(W("o2"), O_WRONLY | O_TRUNC);
	tl_check("open O_TRUNC truncates to 0",
		 fd >= 0 && !fstat(fd, &st) && st.st_size == 0,
		 "got size %jd", fd >= 0 ? (intmax_t)st.st_size : -1);
	if (fd >= 0)
		close(fd);
	put(W("o2"), "0123456789");
	fd = open(W("o2"), O_RDONLY | O_TRUNC);
	if (fd >= 0)
		close(fd);
	/* Linux truncates even on O_RDONLY|O_TRUNC when write is allowed. */
	tl_check("open O_RDONLY|O_TRUNC truncates (Linux)",
		 !stat(W("o2"), &st) && st.st_size == 0, "got size %jd",
		 (intmax_t)st.st_size);

	/* O_APPEND */
	put(W("o3"), "abc");
	fd = open(W("o3"), O_WRONLY | O_APPEND);
	if (fd >= 0) {
		lseek(fd, 0, SEEK_SET);
		if (write(fd, "def", 3) != 3)
			tl_fail("O_APPEND write", "%s", tl_errname(errno));
		/* pwrite on O_APPEND appends on Linux, offset ignored */
		if (pwrite(fd, "gh", 2, 0) != 2)
			tl_fail("O_APPEND pwrite", "%s", tl_errname(errno));
		close(fd);
	}
	tl_check("O_APPEND writes at end (write and pwrite)",
		 tl_file_equals(W("o3"), "abcdefgh"), "content differs");

	/* O_NOFOLLOW, symlinks */
	symlink("o1", W("o_link"));
	tl_check_errno("open symlink O_NOFOLLOW: ELOOP",
		       open_err(W("o_link"), O_RDONLY | O_NOFOLLOW, 0), ELOOP);
	symlink("o_dangle_target", W("o_dangle"));
	tl_check_errno("O_CREAT|O_EXCL on dangling symlink: EEXIST",
		       open_err(W("o_dangle"), O_CREAT | O_EXCL | O_WRONLY,
				0644), EEXIST);
	tl_check_errno("O_CREAT through dangling symlink creates target",
		       open_err(W("o_dangle"), O_CREAT | O_WRONLY, 0644), 0);
	tl_check("dangling symlink target now exists",
		 exists(W("o_dangle_target")), "target missing");

	/* access mode enforcement on the fd */
	fd = open(W("o1"), O_RDONLY);
	tl_check_errno("write on O_RDONLY fd: EBADF",
		       fd < 0 ? errno : TL_ERR(write(fd, "x", 1)), EBADF);
	if (fd >= 0)
		close(fd);
	fd = open(W("o1"), O_WRONLY);
	tl_check_errno("read on O_WRONLY fd: EBADF",
		       fd < 0 ? errno : TL_ERR(read(fd, buf, 1)), EBADF);
	if (fd >= 0)
		close(fd);
	check_mirrors_backing("o1");
}

/* 0 if O_DIRECT write+read of one aligned block works, else the errno. */
static int odirect_roundtrip(const char *path)
{
	void *wbuf, *rbuf;
	int fd, err = 0;

	if (posix_memalign(&wbuf, 4096, 4096) || posix_memalign(&rbuf, 4096, 4096))
		return ENOMEM;
	tl_fill(wbuf, 4096, 7);
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (fd < 0) {
		err = errno;
	} else {
		if (pwrite(fd, wbuf, 4096, 0) != 4096)
			err = errno ? errno : EIO;
		else if (pread(fd, rbuf, 4096, 0) != 4096)
			err = errno ? errno : EIO;
		else if (memcmp(wbuf, rbuf, 4096))
			err = EILSEQ;
		close(fd);
	}
	free(wbuf);
	free(rbuf);
	return err;
}

/*
 * Opens that fail while an O_DIRECT writer and a buffered reader open the
 * same file over and over (mode passthrough: every open must agree with
 * the inode's io mode, or the kernel fails it with EIO).
 */
static int odirect_race(const char *path, int rounds)
{
	int pfd[2], failed = 0, status;
	void *buf;
	pid_t pid;

	if (tl_write_file(path, (char[8192]){ 0 }, 8192, 0644) || pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int n = 0;

		if (posix_memalign(&buf, 4096, 4096))
			_exit(1);
		memset(buf, 'D', 4096);
		for (int i = 0; i < rounds; i++) {
			int fd = open(path, O_WRONLY | O_DIRECT);

			if (fd < 0 || pwrite(fd, buf, 4096, 4096) != 4096)
				n++;
			if (fd >= 0)
				close(fd);
		}
		_exit(write(pfd[1], &n, sizeof(n)) == sizeof(n) ? 0 : 1);
	}
	close(pfd[1]);
	for (int i = 0; i < rounds; i++) {
		char c[64];
		int fd = open(path, O_RDONLY);

		if (fd < 0 || read(fd, c, sizeof(c)) != sizeof(c))
			failed++;
		if (fd >= 0)
			close(fd);
	}
	if (read(pfd[0], &status, sizeof(status)) == sizeof(status))
		failed += status;
	else
		failed++;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	return failed;
}

/*
 * 0 if a file opened O_DIRECT can be mmap'ed MAP_SHARED and written
 * through the mapping (seen by a buffered read), else the errno.
 */
static int odirect_mmap(const char *path)
{
	char buf[8];
	char *m;
	int fd, err = 0;

	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0)
		return errno;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = errno;
	} else {
		memcpy(m + 8, "MAPPED!!", 8);
		if (msync(m, 4096, MS_SYNC))
			err = errno;
		munmap(m, 4096);
	}
	close(fd);
	if (!err && (tl_read_file(path, (char[16]){ 0 }, 16) != 16 ||
		     (fd = open(path, O_RDONLY)) < 0))
		err = EIO;
	if (!err) {
		if (pread(fd, buf, 8, 8) != 8 || memcmp(buf, "MAPPED!!", 8))
			err = EILSEQ;
		close(fd);
	}
	return err;
}

static void test_odirect(void)
{
	int ref = odirect_roundtrip(R("direct"));
	int got = odirect_roundtrip(W("direct"));
	char name[128];

	snprintf(name, sizeof(name), "O_DIRECT write+read as reference (%s)",
		 tl_errname(ref));
	tl_check_errno(name, got, ref);
	if (!got && !ref)
		tl_check("O_DIRECT data visible to buffered read",
			 tl_read_file(W("direct"), (char[4096]){ 0 }, 4096) == 4096,
			 "short read");
	if (ref || got)
		return;
	ref = odirect_race(R("direct_race"), 300);
	snprintf(name, sizeof(name),
		 "O_DIRECT writer racing a buffered reader: %d failed opens or I/O as reference",
		 ref);
	got = odirect_race(W("direct_race"), 300);
	tl_check(name, got == ref, "%d failed", got);
	ref = odirect_mmap(R("direct"));
	snprintf(name, sizeof(name),
		 "mmap MAP_SHARED of an O_DIRECT open as reference (%s)",
		 tl_errname(ref));
	tl_check_errno(name, odirect_mmap(W("direct")), ref);
}

static void test_read_write(void)
{
	enum { BIG = 1 << 20 };
	char *a = malloc(BIG), *b = malloc(BIG);
	struct stat st;
	ssize_t n;
	int fd;

	tl_fill(a, BIG, 1);
	fd = open(W("rw"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		tl_die("create rw: %s", tl_errname(errno));
	n = write(fd, a, BIG);
	tl_check("write 1 MiB", n == BIG, "got %zd", n);
	n = pread(fd, b, BIG, 0);
	tl_check("pread 1 MiB back, same bytes", n == BIG && !memcmp(a, b, BIG),
		 "got %zd / content differs", n);
	n = pwrite(fd, "XYZ", 3, 4096 + 5);
	memcpy(a + 4096 + 5, "XYZ", 3);
	n = pread(fd, b, 8192, 4096);
	tl_check("pwrite in the middle seen by pread",
		 n == 8192 && !memcmp(a + 4096, b, 8192), "content differs");
	tl_check("file offset unchanged by pread/pwrite",
		 lseek(fd, 0, SEEK_CUR) == BIG, "got %jd",
		 (intmax_t)lseek(fd, 0, SEEK_CUR));
	n = pwrite(fd, "end", 3, 3 * BIG);
	tl_check("pwrite past EOF extends file",
		 n == 3 && !fstat(fd, &st) && st.st_size == 3 * BIG + 3,
		 "got size %jd", (intmax_t)st.st_size);
	memset(a, 0xff, 4096);
	n = pread(fd, a, 4096, 2 * BIG);
	tl_check("gap after pwrite past EOF reads as zeros",
		 n == 4096 && !memcmp(a, (char[4096]){ 0 }, 4096),
		 "got %zd or nonzero bytes", n);
	n = pread(fd, b, 100, 3 * BIG + 1);
	tl_check("short read at EOF", n == 2 && !memcmp(b, "nd", 2), "got %zd", n);
	n = pread(fd, b, 100, 4 * BIG);
	tl_check("pread past EOF returns 0", n == 0, "got %zd", n);
	tl_check("lseek SEEK_END", lseek(fd, 0, SEEK_END) == 3 * BIG + 3,
		 "got %jd", (intmax_t)lseek(fd, 0, SEEK_END));
	tl_check_errno("lseek negative offset: EINVAL",
		       TL_ERR(lseek(fd, -1, SEEK_SET)), EINVAL);
	tl_check_errno("pread negative offset: EINVAL",
		       TL_ERR(pread(fd, b, 1, -1)), EINVAL);
	/* sequential read after write on the same fd */
	lseek(fd, 0, SEEK_SET);
	n = read(fd, b, 4);
	tl_check("read at offset 0 after lseek", n == 4, "got %zd", n);
	close(fd);
	check_mirrors_backing("rw");

	/* write via one fd, read via another opened before the write */
	{
		int w = open(W("rw2"), O_RDWR | O_CREAT | O_TRUNC, 0644);
		int r = open(W("rw2"), O_RDONLY);
		char c[6] = { 0 };

		if (write(w, "fresh", 5) != 5)
			tl_fail("write rw2", "%s", tl_errname(errno));
		n = read(r, c, 5);
		tl_check("data written on one fd visible on another",
			 n == 5 && !memcmp(c, "fresh", 5), "got %zd '%s'", n, c);
		close(w);
		close(r);
	}
	if (backwork[0]) {
		tl_check("content written through mount is in backing file",
			 tl_file_equals(B("rw2"), "fresh"), "backing differs");
		put(B("rw2"), "changed-in-backing");
		/* a fresh open of the mount sees what is in the backing file */
		tl_check("content written in backing visible through mount",
			 tl_file_equals(W("rw2"), "changed-in-backing"),
			 "mount shows stale content");
	}
	free(a);
	free(b);
}

/* Two processes append 500 records each with O_APPEND: none lost or torn. */
static void test_append_race(void)
{
	enum { RECS = 500, LEN = 100 };
	char rec[LEN], buf[LEN];
	int fd, torn = 0, count[2] = { 0, 0 };
	pid_t pid;
	struct stat st;

	put(W("append"), "");
	fflush(stdout);
	pid = fork();
	{
		char c = pid == 0 ? 'c' : 'p';

		memset(rec, c, LEN - 1);
		rec[LEN - 1] = '\n';
		fd = open(W("append"), O_WRONLY | O_APPEND);
		for (int i = 0; i < RECS && fd >= 0; i++)
			if (write(fd, rec, LEN) != LEN)
				break;
		if (fd >= 0)
			close(fd);
		if (pid == 0)
			_exit(0);
	}
	waitpid(pid, NULL, 0);
	fd = open(W("append"), O_RDONLY);
	while (fd >= 0 && read(fd, buf, LEN) == LEN) {
		if (buf[LEN - 1] != '\n' || (buf[0] != 'c' && buf[0] != 'p') ||
		    memchr(buf, buf[0] == 'c' ? 'p' : 'c', LEN))
			torn++;
		else
			count[buf[0] == 'c']++;
	}
	if (fd >= 0)
		close(fd);
	stat(W("append"), &st);
	tl_check("concurrent O_APPEND writers: nothing lost or torn",
		 st.st_size == 2 * RECS * LEN && torn == 0 && count[0] == RECS &&
		 count[1] == RECS, "size %jd, %d torn, %d/%d records",
		 (intmax_t)st.st_size, torn, count[0], count[1]);
}

/* The file a name pointed to stays readable through an fd after rename(). */
static void test_rename_over_open(void)
{
	char buf[16] = { 0 };
	int fd;

	put(W("ro_old"), "OLD");
	put(W("ro_new"), "NEW");
	fd = open(W("ro_old"), O_RDONLY);
	rename(W("ro_new"), W("ro_old"));
	tl_check("fd of a file replaced by rename still reads the old data",
		 fd >= 0 && pread(fd, buf, sizeof(buf), 0) == 3 &&
		 !memcmp(buf, "OLD", 3) && tl_file_equals(W("ro_old"), "NEW"),
		 "got '%s'", buf);
	if (fd >= 0)
		close(fd);
}

/* 64-bit offsets: a sparse write at 5 GiB. */
static void test_large_offset(void)
{
	const off_t off = (off_t)5 << 30;
	char buf[8] = { 0 };
	struct stat st;
	int fd = open(W("large"), O_RDWR | O_CREAT | O_TRUNC, 0644);

	tl_check("pwrite/pread at 5 GiB",
		 fd >= 0 && pwrite(fd, "5GiB", 4, off) == 4 &&
		 pread(fd, buf, 8, off) == 4 && !memcmp(buf, "5GiB", 4) &&
		 !fstat(fd, &st) && st.st_size == off + 4,
		 "failed: %s", tl_errname(errno));
	tl_check("lseek SEEK_END past 4 GiB", lseek(fd, 0, SEEK_END) == off + 4,
		 "got %jd", (intmax_t)lseek(fd, 0, SEEK_END));
	if (fd >= 0)
		close(fd);
	check_mirrors_backing("large");
	unlink(W("large"));
}

static void test_truncate(void)
{
	struct stat st;
	char buf[64];
	int fd;

	put(W("t"), "0123456789");
	tl_check_call("truncate grow", truncate(W("t"), 5000), 0);
	tl_check("truncate grow: size and zero fill",
		 !stat(W("t"), &st) && st.st_size == 5000 &&
		 tl_read_file(W("t"), buf, 12) == 12 &&
		 !memcmp(buf, "0123456789\0\0", 12), "got size %jd",
		 (intmax_t)st.st_size);
	tl_check_call("truncate shrink", truncate(W("t"), 4), 0);
	tl_check("truncate shrink keeps prefix", tl_file_equals(W("t"), "0123"),
		 "content differs");
	fd = open(W("t"), O_RDWR);
	tl_check_call("ftruncate", ftruncate(fd, 2), 0);
	tl_check("ftruncate size visible via fstat",
		 !fstat(fd, &st) && st.st_size == 2, "got %jd",
		 (intmax_t)st.st_size);
	tl_check_errno("ftruncate negative: EINVAL", TL_ERR(ftruncate(fd, -1)),
		       EINVAL);
	close(fd);
	fd = open(W("t"), O_RDONLY);
	tl_check_errno("ftruncate on O_RDONLY fd: EINVAL",
		       TL_ERR(ftruncate(fd, 0)), EINVAL);
	close(fd);
	tl_check_errno("truncate directory: EISDIR", TL_ERR(truncate(work, 0)),
		       EISDIR);
	tl_check_errno("truncate missing: ENOENT",
		       TL_ERR(truncate(W("missing"), 0)), ENOENT);
	/* extend then rewrite across the old EOF */
	fd = open(W("t"), O_RDWR);
	if (ftruncate(fd, 100000) || pwrite(fd, "Z", 1, 99999) != 1)
		tl_fail("truncate then write at end", "%s", tl_errname(errno));
	close(fd);
	tl_check("truncate then write at end: size",
		 !stat(W("t"), &st) && st.st_size == 100000, "got %jd",
		 (intmax_t)st.st_size);
	check_mirrors_backing("t");
}

static void test_stat(void)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat st, st2, dst, rst;
	char buf[65536];
	int fd;

	tl_fill(buf, sizeof(buf), 3);
	tl_write_file(W("s"), buf, sizeof(buf), 0640);
	chmod(W("s"), 0640);
	tl_check_call("stat regular file", stat(W("s"), &st), 0);
	tl_check("stat: S_IFREG, mode, nlink, owner, size",
		 S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640 &&
		 st.st_nlink == 1 && st.st_uid == geteuid() &&
		 st.st_gid == getegid() && st.st_size == (off_t)sizeof(buf),
		 "got mode %o nlink %ju uid %u gid %u size %jd", st.st_mode,
		 (uintmax_t)st.st_nlink, st.st_uid, st.st_gid,
		 (intmax_t)st.st_size);
	tl_write_file(R("s"), buf, sizeof(buf), 0640);
	stat(R("s"), &rst);
	tl_check("stat: st_blocks as reference for a 64 KiB file",
		 st.st_blocks == rst.st_blocks,
		 "got %jd expected %jd", (intmax_t)st.st_blocks,
		 (intmax_t)rst.st_blocks);
	tl_check("stat: st_blksize > 0", st.st_blksize > 0, "got %jd",
		 (intmax_t)st.st_blksize);
	fd = open(W("s"), O_RDONLY);
	tl_check("fstat equals stat",
		 fd >= 0 && !fstat(fd, &st2) && st2.st_ino == st.st_ino &&
		 st2.st_dev == st.st_dev && st2.st_size == st.st_size &&
		 st2.st_mode == st.st_mode, "differs");
	close(fd);
	tl_check_errno("stat missing: ENOENT", TL_ERR(stat(W("nope"), &st2)),
		       ENOENT);
	tl_check_errno("stat through file: ENOTDIR",
		       TL_ERR(stat(W("s/x"), &st2)), ENOTDIR);

	/* mtime/ctime move on write */
	utimensat(AT_FDCWD, W("s"), old, 0);
	stat(W("s"), &st);
	tl_check("utimensat set old mtime", st.st_mtim.tv_sec == 1000000000,
		 "got %ld", st.st_mtim.tv_sec);
	fd = open(W("s"), O_WRONLY);
	if (write(fd, "x", 1) != 1)
		tl_fail("write s", "%s", tl_errname(errno));
	close(fd);
	stat(W("s"), &st2);
	tl_check("write updates mtime", st2.st_mtim.tv_sec > 1000000000,
		 "mtime still %ld", st2.st_mtim.tv_sec);
	tl_check("write updates ctime",
		 st2.st_ctim.tv_sec > st.st_ctim.tv_sec ||
		 (st2.st_ctim.tv_sec == st.st_ctim.tv_sec &&
		  st2.st_ctim.tv_nsec >= st.st_ctim.tv_nsec) ,
		 "ctime went back");

	/* directories: nlink counts subdirectories where the fs does so */
	mkdir(W("sd"), 0755);
	mkdir(W("sd/sub"), 0755);
	mkdir(R("sd"), 0755);
	mkdir(R("sd/sub"), 0755);
	stat(W("sd"), &dst);
	stat(R("sd"), &rst);
	tl_check("stat dir: S_IFDIR, nlink as reference",
		 S_ISDIR(dst.st_mode) && dst.st_nlink == rst.st_nlink,
		 "got mode %o nlink %ju expected nlink %ju", dst.st_mode,
		 (uintmax_t)dst.st_nlink, (uintmax_t)rst.st_nlink);
	check_mirrors_backing("s");
	check_mirrors_backing("sd");
}

static void test_chmod_chown_utimes(void)
{
	struct timespec ts[2];
	struct stat st, st2;
	time_t now;
	int fd;

	put(W("c"), "c");
	tl_check_call("chmod 0600", chmod(W("c"), 0600), 0);
	tl_check("chmod result", (mode_of(W("c")) & 07777) == 0600, "got %o",
		 mode_of(W("c")) & 07777);
	tl_check_call("chmod 04755 as root", chmod(W("c"), 04755), 0);
	tl_check("chmod keeps setuid bit", (mode_of(W("c")) & 07777) == 04755,
		 "got %o", mode_of(W("c")) & 07777);
	fd = open(W("c"), O_RDONLY);
	tl_check_call("fchmod 0640", fchmod(fd, 0640), 0);
	tl_check("fchmod result", (mode_of(W("c")) & 07777) == 0640, "got %o",
		 mode_of(W("c")) & 07777);
	if (geteuid() == 0) {
		tl_check_call("chown 1000:2000", chown(W("c"), 1000, 2000), 0);
		stat(W("c"), &st);
		tl_check("chown result", st.st_uid == 1000 && st.st_gid == 2000,
			 "got %u:%u", st.st_uid, st.st_gid);
		tl_check_call("fchown -1:3000", fchown(fd, -1, 3000), 0);
		fstat(fd, &st);
		tl_check("fchown -1 keeps uid", st.st_uid == 1000 && st.st_gid == 3000,
			 "got %u:%u", st.st_uid, st.st_gid);
		close(fd);
		chmod(W("c"), 06755);
		chown(W("c"), 0, 0);
		tl_check("chown clears setuid and setgid (group-exec file)",
			 (mode_of(W("c")) & 07777) == 0755, "got %o",
			 mode_of(W("c")) & 07777);
		symlink("c", W("c_link"));
		tl_check_call("lchown symlink", lchown(W("c_link"), 1000, 1000), 0);
		lstat(W("c_link"), &st);
		stat(W("c"), &st2);
		tl_check("lchown changes link, not target",
			 st.st_uid == 1000 && st2.st_uid == 0, "link %u target %u",
			 st.st_uid, st2.st_uid);
	} else {
		close(fd);
		tl_check_call("chown to own uid/gid as non-root",
			      chown(W("c"), geteuid(), getegid()), 0);
		tl_check_errno("chown to another uid as non-root: EPERM",
			       TL_ERR(chown(W("c"), geteuid() + 1, -1)), EPERM);
		chmod(W("c"), 06755);
		tl_check_call("chgrp to own group as non-root",
			      chown(W("c"), -1, getegid()), 0);
		tl_check("chown by non-root clears setuid and setgid",
			 (mode_of(W("c")) & 07777) == 0755, "got %o",
			 mode_of(W("c")) & 07777);
		symlink("c", W("c_link"));
	}
	tl_check_errno("chmod missing: ENOENT", TL_ERR(chmod(W("nope"), 0644)),
		       ENOENT);

	/* utimensat */
	ts[0] = (struct timespec){ 1500000000, 123456789 };
	ts[1] = (struct timespec){ 1600000000, 987654321 };
	tl_check_call("utimensat explicit times", utimensat(AT_FDCWD, W("c"), ts, 0),
		      0);
	stat(W("c"), &st);
	tl_check("utimensat explicit times with ns",
		 st.st_atim.tv_sec == 1500000000 &&
		 st.st_atim.tv_nsec == 123456789 &&
		 st.st_mtim.tv_sec == 1600000000 &&
		 st.st_mtim.tv_nsec == 987654321,
		 "got atime %ld.%09ld mtime %ld.%09ld", st.st_atim.tv_sec,
		 st.st_atim.tv_nsec, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	now = time(NULL);
	tl_check_call("utimensat UTIME_OMIT atime, UTIME_NOW mtime",
		      utimensat(AT_FDCWD, W("c"), ts, 0), 0);
	stat(W("c"), &st2);
	tl_check("UTIME_OMIT keeps atime, UTIME_NOW sets mtime to now",
		 st2.st_atim.tv_sec == 1500000000 &&
		 st2.st_atim.tv_nsec == 123456789 &&
		 st2.st_mtim.tv_sec >= now - 2 && st2.st_mtim.tv_sec <= now + 2,
		 "got atime %ld.%09ld mtime %ld (now %ld)", st2.st_atim.tv_sec,
		 st2.st_atim.tv_nsec, st2.st_mtim.tv_sec, now);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_OMIT;
	utimensat(AT_FDCWD, W("c"), ts, 0);
	stat(W("c"), &st);
	tl_check("UTIME_OMIT both changes nothing",
		 st.st_atim.tv_sec == st2.st_atim.tv_sec &&
		 st.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
		 st.st_mtim.tv_nsec == st2.st_mtim.tv_nsec, "times changed");
	ts[0] = (struct timespec){ 1234567890, 0 };
	ts[1] = (struct timespec){ 1234567890, 0 };
	tl_check_call("utimensat AT_SYMLINK_NOFOLLOW on symlink",
		      utimensat(AT_FDCWD, W("c_link"), ts, AT_SYMLINK_NOFOLLOW), 0);
	lstat(W("c_link"), &st);
	stat(W("c"), &st2);
	tl_check("AT_SYMLINK_NOFOLLOW sets the link's mtime only",
		 st.st_mtim.tv_sec == 1234567890 &&
		 st2.st_mtim.tv_sec != 1234567890, "link %ld target %ld",
		 st.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	fd = open(W("c"), O_RDONLY);
	tl_check_call("futimens NULL (now)", futimens(fd, NULL), 0);
	close(fd);
	check_mirrors_backing("c");
}

static void test_mkdir_rmdir_unlink(void)
{
	struct stat st, st2;
	int fd;

	tl_check_call("mkdir", mkdir(W("d"), 0777), 0);
	tl_check("mkdir mode 0777 & ~umask, S_IFDIR",
		 mode_of(W("d")) == (S_IFDIR | 0755), "got %o", mode_of(W("d")));
	tl_check_errno("mkdir existing: EEXIST", TL_ERR(mkdir(W("d"), 0755)),
		       EEXIST);
	put(W("d_file"), "x");
	tl_check_errno("mkdir over file: EEXIST",
		       TL_ERR(mkdir(W("d_file"), 0755)), EEXIST);
	tl_check_errno("mkdir in missing parent: ENOENT",
		       TL_ERR(mkdir(W("nope/d"), 0755)), ENOENT);
	stat(W("d"), &st);
	mkdir(W("d/sub"), 0755);
	stat(W("d"), &st2);
	mkdir(R("m"), 0755);
	{
		struct stat r1, r2;

		stat(R("m"), &r1);
		mkdir(R("m/sub"), 0755);
		stat(R("m"), &r2);
		tl_check("parent nlink after mkdir changes as on reference",
			 st2.st_nlink - st.st_nlink == r2.st_nlink - r1.st_nlink,
			 "got +%jd expected +%jd",
			 (intmax_t)(st2.st_nlink - st.st_nlink),
			 (intmax_t)(r2.st_nlink - r1.st_nlink));
	}
	put(W("d/sub/f"), "x");
	tl_check_errno("rmdir non-empty: ENOTEMPTY", TL_ERR(rmdir(W("d/sub"))),
		       ENOTEMPTY);
	tl_check_errno("rmdir file: ENOTDIR", TL_ERR(rmdir(W("d_file"))),
		       ENOTDIR);
	tl_check_errno("rmdir missing: ENOENT", TL_ERR(rmdir(W("d/none"))),
		       ENOENT);
	tl_check_errno("rmdir '.': EINVAL", TL_ERR(rmdir(W("d/."))), EINVAL);
	tl_check_errno("unlink directory: EISDIR", TL_ERR(unlink(W("d/sub"))),
		       EISDIR);
	tl_check_errno("unlink missing: ENOENT", TL_ERR(unlink(W("d/none"))),
		       ENOENT);
	tl_check_call("unlink file", unlink(W("d/sub/f")), 0);
	tl_check("unlinked file is gone", !exists(W("d/sub/f")), "still there");
	tl_check_call("rmdir empty dir", rmdir(W("d/sub")), 0);
	tl_check("removed dir is gone", !exists(W("d/sub")), "still there");
	stat(W("d"), &st2);
	tl_check("parent nlink back after rmdir", st2.st_nlink == st.st_nlink,
		 "got %ju expected %ju", (uintmax_t)st2.st_nlink,
		 (uintmax_t)st.st_nlink);

	/* an open file survives its unlink */
	put(W("d/open"), "still here");
	fd = open(W("d/open"), O_RDWR);
	unlink(W("d/open"));
	{
		char buf[32] = { 0 };

		tl_check("read from unlinked open file",
			 pread(fd, buf, sizeof(buf), 0) == 10 &&
			 !strcmp(buf, "still here"), "got '%s'", buf);
		tl_check("write to unlinked open file",
			 pwrite(fd, "S", 1, 0) == 1 && pread(fd, buf, 1, 0) == 1 &&
			 buf[0] == 'S', "failed");
		tl_check("fstat of unlinked open file: nlink 0",
			 !fstat(fd, &st) && st.st_nlink == 0, "got nlink %ju",
			 (uintmax_t)st.st_nlink);
	}
	close(fd);
	tl_check("unlinked name stays gone", !exists(W("d/open")), "reappeared");
	if (backwork[0])
		tl_check("unlink reached the backing dir", !exists(B("d/open")) &&
			 !exists(B("d/sub")), "backing still has it");
}

static void test_rename(void)
{
	struct stat st, st2;

	mkdir(W("r"), 0755);
	put(W("r/a"), "AAA");
	put(W("r/b"), "BBB");
	stat(W("r/a"), &st);
	tl_check_call("rename replaces existing file", rename(W("r/a"), W("r/b")),
		      0);
	tl_check("rename: target has source content, source gone",
		 tl_file_equals(W("r/b"), "AAA") && !exists(W("r/a")),
		 "content or source wrong");
	stat(W("r/b"), &st2);
	tl_check("rename keeps inode number", st.st_ino == st2.st_ino,
		 "got %ju expected %ju", (uintmax_t)st2.st_ino,
		 (uintmax_t)st.st_ino);
	tl_check_errno("rename missing: ENOENT",
		       TL_ERR(rename(W("r/none"), W("r/x"))), ENOENT);
	mkdir(W("r/d1"), 0755);
	mkdir(W("r/d2"), 0755);
	put(W("r/d2/f"), "f");
	tl_check_errno("rename file over dir: EISDIR",
		       TL_ERR(rename(W("r/b"), W("r/d1"))), EISDIR);
	tl_check_errno("rename dir over file: ENOTDIR",
		       TL_ERR(rename(W("r/d1"), W("r/b"))), ENOTDIR);
	tl_check_errno2("rename dir over non-empty dir: ENOTEMPTY",
			TL_ERR(rename(W("r/d1"), W("r/d2"))), ENOTEMPTY, EEXIST);
	mkdir(W("r/d3"), 0755);
	tl_check_call("rename dir over empty dir", rename(W("r/d3"), W("r/d1")),
		      0);
	tl_check_errno("rename dir into its own subdir: EINVAL",
		       TL_ERR(rename(W("r/d2"), W("r/d2/sub"))), EINVAL);
	tl_check_call("rename file to itself", rename(W("r/b"), W("r/b")), 0);
	link(W("r/b"), W("r/b_link"));
	tl_check_call("rename onto a hard link of itself",
		      rename(W("r/b"), W("r/b_link")), 0);
	tl_check("rename onto own hard link keeps both names",
		 exists(W("r/b")) && exists(W("r/b_link")), "a name vanished");
	unlink(W("r/b_link"));
	tl_check_call("rename across directories (no EXDEV)",
		      rename(W("r/b"), W("r/d2/moved")), 0);
	tl_check("moved file content", tl_file_equals(W("r/d2/moved"), "AAA"),
		 "content differs");
	tl_check_call("rename directory with content",
		      rename(W("r/d2"), W("r/d2renamed")), 0);
	tl_check("children follow renamed directory",
		 tl_file_equals(W("r/d2renamed/moved"), "AAA") &&
		 tl_file_equals(W("r/d2renamed/f"), "f") && !exists(W("r/d2")),
		 "children wrong");

	/* renameat2 flags */
	put(W("r/x"), "X");
	put(W("r/y"), "Y");
	tl_check_errno("RENAME_NOREPLACE onto existing: EEXIST",
		       TL_ERR(renameat2(AT_FDCWD, W("r/x"), AT_FDCWD, W("r/y"),
					RENAME_NOREPLACE)), EEXIST);
	tl_check("RENAME_NOREPLACE failure changed nothing",
		 tl_file_equals(W("r/x"), "X") && tl_file_equals(W("r/y"), "Y"),
		 "content changed");
	tl_check_call("RENAME_NOREPLACE onto free name",
		      renameat2(AT_FDCWD, W("r/x"), AT_FDCWD, W("r/z"),
				RENAME_NOREPLACE), 0);
	tl_check_call("RENAME_EXCHANGE two files",
		      renameat2(AT_FDCWD, W("r/z"), AT_FDCWD, W("r/y"),
				RENAME_EXCHANGE), 0);
	tl_check("RENAME_EXCHANGE swapped contents",
		 tl_file_equals(W("r/z"), "Y") && tl_file_equals(W("r/y"), "X"),
		 "not swapped");
	tl_check_call("RENAME_EXCHANGE file and directory",
		      renameat2(AT_FDCWD, W("r/z"), AT_FDCWD, W("r/d1"),
				RENAME_EXCHANGE), 0);
	tl_check("RENAME_EXCHANGE file/dir swapped types",
		 S_ISDIR(mode_of(W("r/z"))) && S_ISREG(mode_of(W("r/d1"))),
		 "types not swapped");
	tl_check_errno("RENAME_EXCHANGE with missing target: ENOENT",
		       TL_ERR(renameat2(AT_FDCWD, W("r/y"), AT_FDCWD, W("r/none"),
					RENAME_EXCHANGE)), ENOENT);
	tl_check_errno("RENAME_EXCHANGE|RENAME_NOREPLACE: EINVAL",
		       TL_ERR(renameat2(AT_FDCWD, W("r/y"), AT_FDCWD, W("r/d1"),
					RENAME_EXCHANGE | RENAME_NOREPLACE)),
		       EINVAL);
	if (backwork[0])
		tl_check("renames reached the backing dir",
			 S_ISDIR(mode_of(B("r/z"))) &&
			 tl_file_equals(B("r/d2renamed/moved"), "AAA") &&
			 !exists(B("r/d2")), "backing tree differs");
}

static void test_links(void)
{
	char buf[PATH_MAX];
	struct stat a, b;
	ssize_t n;

	put(W("l"), "LINK");
	tl_check_call("link", link(W("l"), W("l2")), 0);
	stat(W("l"), &a);
	stat(W("l2"), &b);
	tl_check("hard link: same inode, nlink 2",
		 a.st_ino == b.st_ino && a.st_nlink == 2 && b.st_nlink == 2,
		 "ino %ju/%ju nlink %ju/%ju", (uintmax_t)a.st_ino,
		 (uintmax_t)b.st_ino, (uintmax_t)a.st_nlink,
		 (uintmax_t)b.st_nlink);
	put(W("l2"), "VIA2");
	tl_check("write via one link read via the other",
		 tl_file_equals(W("l"), "VIA2"), "content differs");
	tl_check_errno("link onto existing: EEXIST",
		       TL_ERR(link(W("l"), W("l2"))), EEXIST);
	mkdir(W("ldir"), 0755);
	tl_check_errno("link a directory: EPERM",
		       TL_ERR(link(W("ldir"), W("ldir2"))), EPERM);
	tl_check_errno("link missing: ENOENT",
		       TL_ERR(link(W("none"), W("l3"))), ENOENT);
	unlink(W("l"));
	stat(W("l2"), &b);
	tl_check("unlink one link: nlink 1", b.st_nlink == 1, "got %ju",
		 (uintmax_t)b.st_nlink);

	tl_check_call("symlink", symlink("l2", W("sl")), 0);
	n = readlink(W("sl"), buf, sizeof(buf));
	tl_check("readlink returns target", n == 2 && !memcmp(buf, "l2", 2),
		 "got %zd", n);
	lstat(W("sl"), &a);
	tl_check("lstat symlink: S_IFLNK, size = target length",
		 S_ISLNK(a.st_mode) && a.st_size == 2, "mode %o size %jd",
		 a.st_mode, (intmax_t)a.st_size);
	tl_check("stat follows symlink", !stat(W("sl"), &a) &&
		 S_ISREG(a.st_mode) && a.st_ino == b.st_ino, "not followed");
	tl_check("open through symlink", tl_file_equals(W("sl"), "VIA2"),
		 "content differs");
	tl_check_errno("symlink onto existing: EEXIST",
		       TL_ERR(symlink("x", W("sl"))), EEXIST);
	tl_check_errno("readlink on regular file: EINVAL",
		       TL_ERR(readlink(W("l2"), buf, sizeof(buf))), EINVAL);
	symlink("nowhere", W("dangling"));
	tl_check_errno("stat dangling symlink: ENOENT",
		       TL_ERR(stat(W("dangling"), &a)), ENOENT);
	tl_check_call("lstat dangling symlink", lstat(W("dangling"), &a), 0);
	{
		char longt[1024];

		memset(longt, 'p', sizeof(longt) - 1);
		longt[sizeof(longt) - 1] = 0;
		for (int i = 100; i < 1000; i += 100)
			longt[i] = '/';
		tl_check_call("symlink with 1023-byte target",
			      symlink(longt, W("longlink")), 0);
		n = readlink(W("longlink"), buf, sizeof(buf));
		tl_check("readlink of long target",
			 n == 1023 && !memcmp(buf, longt, 1023), "got %zd", n);
	}
	n = readlink(W("sl"), buf, 1);
	tl_check("readlink truncates to buffer size", n == 1 && buf[0] == 'l',
		 "got %zd", n);
	check_mirrors_backing("sl");
	check_mirrors_backing("l2");
}

static void test_mknod(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char c = 0;
	int fd, s, cl;

	tl_check_call("mkfifo", mkfifo(W("fifo"), 0644), 0);
	tl_check("fifo is S_IFIFO", S_ISFIFO(mode_of(W("fifo"))), "mode %o",
		 mode_of(W("fifo")));
	fd = open(W("fifo"), O_RDWR | O_NONBLOCK);
	tl_check("fifo carries data",
		 fd >= 0 && write(fd, "p", 1) == 1 && read(fd, &c, 1) == 1 &&
		 c == 'p', "failed: %s", tl_errname(errno));
	if (fd >= 0)
		close(fd);
	tl_check_call("mknod S_IFSOCK", mknod(W("sock"), S_IFSOCK | 0644, 0), 0);
	tl_check("mknod socket is S_IFSOCK", S_ISSOCK(mode_of(W("sock"))),
		 "mode %o", mode_of(W("sock")));
	if (geteuid() == 0) {
		tl_check_call("mknod S_IFCHR 1:3 as root",
			      mknod(W("chr"), S_IFCHR | 0666, makedev(1, 3)), 0);
		tl_check("char device type and st_rdev",
			 !lstat(W("chr"), &st) && S_ISCHR(st.st_mode) &&
			 st.st_rdev == makedev(1, 3), "mode %o rdev %jx",
			 st.st_mode, (uintmax_t)st.st_rdev);
		check_mirrors_backing("chr");
	}
	tl_check_errno("mknod existing: EEXIST",
		       TL_ERR(mknod(W("fifo"), S_IFIFO | 0644, 0)), EEXIST);

	/* bind() creates a socket inode; connect through the path */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", W("bound.sock"));
	if (strlen(W("bound.sock")) >= sizeof(sa.sun_path)) {
		tl_skip("bind/connect unix socket", "path too long");
		return;
	}
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	tl_check_call("bind unix socket on the fs",
		      bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	listen(s, 1);
	tl_check_call("connect to unix socket through the fs",
		      connect(cl, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	close(cl);
	check_mirrors_backing("fifo");
}

/* Lists a directory into names/types; returns the count or -errno. */
struct dent {
	char name[NAME_MAX + 1];
	unsigned char type;
	ino_t ino;
};

static int list_dir(const char *path, struct dent *out, int cap)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (n < cap) {
			snprintf(out[n].name, sizeof(out[n].name), "%s", de->d_name);
			out[n].type = de->d_type;
			out[n].ino = de->d_ino;
		}
		n++;
	}
	closedir(d);
	return n;
}

static int find_dent(struct dent *d, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return i;
	return -1;
}

static void make_dir_entries(const char *(*p)(const char *fmt, ...),
			     const char *base)
{
	mkdir(p("%s", base), 0755);
	put(p("%s/file", base), "f");
	mkdir(p("%s/dir", base), 0755);
	symlink("file", p("%s/link", base));
	mkfifo(p("%s/fifo", base), 0644);
	mknod(p("%s/sock", base), S_IFSOCK | 0644, 0);
}

static void test_readdir(void)
{
	enum { MANY = 1000 };
	static struct dent got[MANY + 16], ref[16];
	const char *kinds[] = { "file", "dir", "link", "fifo", "sock" };
	bool seen[MANY] = { 0 };
	int n, nref, dup = 0, bad = 0;
	char name[64];
	DIR *d;

	make_dir_entries(tl_path, W("rd"));
	make_dir_entries(tl_path, R("rd"));
	n = list_dir(W("rd"), got, 16);
	nref = list_dir(R("rd"), ref, 16);
	tl_check("readdir lists . .. and 5 entries", n == 7 &&
		 find_dent(got, n, ".") >= 0 && find_dent(got, n, "..") >= 0,
		 "got %d entries", n);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int i = find_dent(got, n, kinds[k]), j = find_dent(ref, nref, kinds[k]);
		char what[64];

		snprintf(what, sizeof(what), "readdir d_type of %s as reference",
			 kinds[k]);
		tl_check(what, i >= 0 && j >= 0 && got[i].type == ref[j].type,
			 "got %d expected %d", i >= 0 ? got[i].type : -1,
			 j >= 0 ? ref[j].type : -1);
	}
	for (int i = 0; i < n; i++) {
		struct stat st;

		if (got[i].name[0] == '.')
			continue;
		if (lstat(tl_path("%s/rd/%s", work, got[i].name), &st) ||
		    st.st_ino != got[i].ino)
			bad++;
	}
	tl_check("readdir d_ino equals lstat st_ino", bad == 0,
		 "%d entries differ", bad);

	/* many entries: spans several readdir buffers, none lost or doubled */
	mkdir(W("many"), 0755);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many/entry-with-a-longish-name-%04d", i);
		if (open_err(W(name), O_CREAT | O_WRONLY, 0644))
			break;
	}
	d = opendir(W("many"));
	n = 0;
	if (d) {
		struct dirent *de;

		while ((de = readdir(d)) != NULL) {
			int i;

			if (de->d_name[0] == '.')
				continue;
			if (sscanf(de->d_name, "entry-with-a-longish-name-%d", &i) != 1 ||
			    i < 0 || i >= MANY) {
				bad++;
				continue;
			}
			if (seen[i])
				dup++;
			seen[i] = true;
			n++;
		}
		put(W("many/added-later"), "x");
		rewinddir(d);
		bad = 0;
		{
			struct dirent *de2;
			bool found = false;

			while ((de2 = readdir(d)) != NULL)
				if (!strcmp(de2->d_name, "added-later"))
					found = true;
			tl_check("rewinddir sees entry added meanwhile", found,
				 "not found");
		}
		closedir(d);
	}
	tl_check("readdir of 1000 entries: each exactly once",
		 n == MANY && dup == 0, "got %d entries, %d duplicates", n, dup);
	tl_check_errno("opendir on file: ENOTDIR",
		       (d = opendir(W("rd/file"))) ? (closedir(d), 0) : errno,
		       ENOTDIR);
	if (backwork[0]) {
		n = list_dir(B("many"), got, MANY + 16);
		tl_check("backing dir has the same 1001 entries (+ . ..)",
			 n == MANY + 3, "got %d", n);
	}
}

/* Result of setting a user xattr on a fresh file in dir: 0 or errno. */
static int xattr_probe(const char *path)
{
	put(path, "x");
	return TL_ERR(setxattr(path, "user.probe", "v", 1, 0));
}

static void test_xattr(void)
{
	char buf[8192], val[4000];
	int ref = xattr_probe(R("xp"));
	int got = xattr_probe(W("xp"));
	ssize_t n;
	char name[128];

	snprintf(name, sizeof(name), "setxattr user.* as reference (%s)",
		 tl_errname(ref));
	tl_check_errno(name, got, ref);
	if (ref) {
		tl_skip("xattr semantics", "reference fs has no user xattrs");
		return;
	}
	put(W("x"), "x");
	tl_check_call("setxattr user.a", setxattr(W("x"), "user.a", "hello", 5, 0),
		      0);
	n = getxattr(W("x"), "user.a", buf, sizeof(buf));
	tl_check("getxattr returns value", n == 5 && !memcmp(buf, "hello", 5),
		 "got %zd", n);
	tl_check("getxattr size query", getxattr(W("x"), "user.a", NULL, 0) == 5,
		 "got %zd", getxattr(W("x"), "user.a", NULL, 0));
	tl_check_errno("getxattr buffer too small: ERANGE",
		       TL_ERR(getxattr(W("x"), "user.a", buf, 2)), ERANGE);
	tl_check_errno("getxattr missing: ENODATA",
		       TL_ERR(getxattr(W("x"), "user.none", buf, sizeof(buf))),
		       ENODATA);
	tl_check_errno("XATTR_CREATE on existing: EEXIST",
		       TL_ERR(setxattr(W("x"), "user.a", "v", 1, XATTR_CREATE)),
		       EEXIST);
	tl_check_errno("XATTR_REPLACE on missing: ENODATA",
		       TL_ERR(setxattr(W("x"), "user.b", "v", 1, XATTR_REPLACE)),
		       ENODATA);
	tl_check_call("XATTR_REPLACE on existing",
		      setxattr(W("x"), "user.a", "world!", 6, XATTR_REPLACE), 0);
	n = getxattr(W("x"), "user.a", buf, sizeof(buf));
	tl_check("replaced value", n == 6 && !memcmp(buf, "world!", 6),
		 "got %zd", n);
	tl_fill(val, sizeof(val), 9);
	tl_check_call("setxattr 4000-byte value",
		      setxattr(W("x"), "user.big", val, sizeof(val), XATTR_CREATE),
		      0);
	n = getxattr(W("x"), "user.big", buf, sizeof(buf));
	tl_check("getxattr 4000-byte value", n == (ssize_t)sizeof(val) &&
		 !memcmp(buf, val, sizeof(val)), "got %zd", n);
	setxattr(W("x"), "user.empty", "", 0, 0);
	tl_check("empty xattr value", getxattr(W("x"), "user.empty", buf,
						sizeof(buf)) == 0,
		 "got %zd", getxattr(W("x"), "user.empty", buf, sizeof(buf)));
	n = listxattr(W("x"), buf, sizeof(buf));
	{
		int found = 0;

		for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1)
			found += !strcmp(buf + i, "user.a") ||
				 !strcmp(buf + i, "user.big") ||
				 !strcmp(buf + i, "user.empty");
		tl_check("listxattr lists the three names", found == 3,
			 "found %d of 3", found);
	}
	tl_check("listxattr size query matches",
		 listxattr(W("x"), NULL, 0) == n, "got %zd expected %zd",
		 listxattr(W("x"), NULL, 0), n);
	tl_check_errno("listxattr buffer too small: ERANGE",
		       TL_ERR(listxattr(W("x"), buf, 3)), ERANGE);
	tl_check_call("removexattr", removexattr(W("x"), "user.a"), 0);
	tl_check_errno("getxattr after remove: ENODATA",
		       TL_ERR(getxattr(W("x"), "user.a", buf, sizeof(buf))),
		       ENODATA);
	tl_check_errno("removexattr missing: ENODATA",
		       TL_ERR(removexattr(W("x"), "user.a")), ENODATA);
	mkdir(W("xd"), 0755);
	tl_check_call("setxattr on directory",
		      setxattr(W("xd"), "user.d", "dir", 3, 0), 0);
	tl_check("getxattr on directory",
		 getxattr(W("xd"), "user.d", buf, sizeof(buf)) == 3, "failed");
	symlink("x", W("xl"));
	tl_check_errno("lsetxattr user.* on symlink: EPERM",
		       TL_ERR(lsetxattr(W("xl"), "user.l", "v", 1, 0)), EPERM);
	tl_check_errno("setxattr unknown namespace: EOPNOTSUPP",
		       TL_ERR(setxattr(W("x"), "bogus.a", "v", 1, 0)),
		       EOPNOTSUPP);
	{
		int fd = open(W("x"), O_RDONLY);

		tl_check("fgetxattr on fd", fd >= 0 &&
			 fgetxattr(fd, "user.big", buf, sizeof(buf)) ==
			 (ssize_t)sizeof(val), "failed");
		close(fd);
	}
	if (backwork[0]) {
		n = getxattr(B("x"), "user.big", buf, sizeof(buf));
		tl_check("xattr set through mount is on backing file",
			 n == (ssize_t)sizeof(val), "got %zd", n);
	}
}

static void test_access_statfs(void)
{
	struct statfs sf, bsf;
	int fd;

	put(W("a"), "a");
	chmod(W("a"), 0644);
	tl_check_call("access F_OK", access(W("a"), F_OK), 0);
	tl_check_errno("access F_OK missing: ENOENT",
		       TL_ERR(access(W("none"), F_OK)), ENOENT);
	tl_check_call("access R_OK|W_OK as root", access(W("a"), R_OK | W_OK), 0);
	if (geteuid() == 0)
		tl_check_errno("access X_OK as root on 0644 file: EACCES",
			       TL_ERR(access(W("a"), X_OK)), EACCES);
	chmod(W("a"), 0744);
	tl_check_call("access X_OK on 0744 file", access(W("a"), X_OK), 0);
	tl_check_call("access X_OK on dir", access(work, X_OK), 0);

	tl_check_call("statfs", statfs(work, &sf), 0);
	tl_check("statfs: sane block size, blocks, namelen",
		 sf.f_bsize > 0 && sf.f_blocks > 0 && sf.f_namelen == 255,
		 "bsize %ld blocks %ju namelen %ld", (long)sf.f_bsize,
		 (uintmax_t)sf.f_blocks, (long)sf.f_namelen);
	fd = open(W("a"), O_RDONLY);
	tl_check_call("fstatfs", fstatfs(fd, &bsf), 0);
	close(fd);
	if (backwork[0]) {
		statfs(backwork, &bsf);
		tl_check("statfs total size equals backing fs",
			 (uint64_t)sf.f_blocks * sf.f_frsize ==
			 (uint64_t)bsf.f_blocks * bsf.f_frsize &&
			 sf.f_files == bsf.f_files,
			 "got %ju bytes %ju files, expected %ju bytes %ju files",
			 (uintmax_t)sf.f_blocks * sf.f_frsize,
			 (uintmax_t)sf.f_files,
			 (uintmax_t)bsf.f_blocks * bsf.f_frsize,
			 (uintmax_t)bsf.f_files);
	}
}

/* Runs one fallocate mode on a fresh 3x64K file; 0 or errno. */
static int falloc_try(const char *path, int mode)
{
	char buf[3 * 65536];
	int fd, e;

	tl_fill(buf, sizeof(buf), 5);
	if (tl_write_file(path, buf, sizeof(buf), 0644))
		return EIO;
	fd = open(path, O_RDWR);
	if (fd < 0)
		return errno;
	e = TL_ERR(fallocate(fd, mode, 65536, 65536));
	close(fd);
	return e;
}

static void test_fallocate(void)
{
	static const struct {
		const char *name;
		int mode;
	} modes[] = {
		{ "fallocate mode 0", 0 },
		{ "fallocate KEEP_SIZE", FALLOC_FL_KEEP_SIZE },
		{ "fallocate PUNCH_HOLE|KEEP_SIZE",
		  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE },
		{ "fallocate ZERO_RANGE", FALLOC_FL_ZERO_RANGE },
		{ "fallocate PUNCH_HOLE without KEEP_SIZE", FALLOC_FL_PUNCH_HOLE },
	};
	char buf[3 * 65536], exp[3 * 65536], name[128];
	int ref[5], fd;
	struct stat st, st2;

	for (size_t i = 0; i < 5; i++) {
		ref[i] = falloc_try(R("fa"), modes[i].mode);
		snprintf(name, sizeof(name), "%s as reference (%s)", modes[i].name,
			 tl_errname(ref[i]));
		tl_check_errno(name, falloc_try(W("fa"), modes[i].mode), ref[i]);
	}
	if (!ref[0]) {
		fd = open(W("fb"), O_RDWR | O_CREAT | O_TRUNC, 0644);
		tl_check_call("fallocate 1 MiB on empty file",
			      fallocate(fd, 0, 0, 1 << 20), 0);
		fstat(fd, &st);
		tl_check("fallocate: size and blocks",
			 st.st_size == 1 << 20 && st.st_blocks >= 2048,
			 "size %jd blocks %jd", (intmax_t)st.st_size,
			 (intmax_t)st.st_blocks);
		memset(buf, 1, 65536);
		tl_check("fallocated range reads zeros",
			 pread(fd, buf, 65536, 4096) == 65536 &&
			 !memcmp(buf, (char[65536]){ 0 }, 65536), "not zeros");
		tl_check_call("fallocate KEEP_SIZE beyond EOF",
			      fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20),
			      0);
		fstat(fd, &st2);
		tl_check("KEEP_SIZE keeps size, adds blocks",
			 st2.st_size == 1 << 20 && st2.st_blocks > st.st_blocks,
			 "size %jd blocks %jd", (intmax_t)st2.st_size,
			 (intmax_t)st2.st_blocks);
		close(fd);
		fd = open(W("fb"), O_RDONLY);
		tl_check_errno("fallocate on O_RDONLY fd: EBADF",
			       TL_ERR(fallocate(fd, 0, 0, 4096)), EBADF);
		close(fd);
	}
	if (!ref[2]) {
		tl_fill(exp, sizeof(exp), 5);
		tl_write_file(W("fh"), exp, sizeof(exp), 0644);
		fd = open(W("fh"), O_RDWR);
		fsync(fd);
		fstat(fd, &st);
		tl_check_call("punch hole in the middle 64 KiB",
			      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					65536, 65536), 0);
		memset(exp + 65536, 0, 65536);
		fstat(fd, &st2);
		tl_check("punch hole: zeros inside, data around, size kept",
			 pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
			 !memcmp(buf, exp, sizeof(buf)) &&
			 st2.st_size == (off_t)sizeof(buf), "content or size wrong");
		tl_check("punch hole frees blocks", st2.st_blocks < st.st_blocks,
			 "blocks %jd -> %jd", (intmax_t)st.st_blocks,
			 (intmax_t)st2.st_blocks);
		close(fd);
		if (backwork[0]) {
			ssize_t n = tl_read_file(B("fh"), buf, sizeof(buf));

			tl_check("punched hole visible in backing file",
				 n == (ssize_t)sizeof(buf) &&
				 !memcmp(buf, exp, sizeof(buf)), "backing differs");
		}
	}
}

struct seek_result {
	off_t v[5];
	int e[5];
};

static void seek_probe(const char *path, struct seek_result *r)
{
	char buf[65536];
	int fd;
	off_t offs[5] = { 0, 0, 65536 + 1, 1 << 20, (2 << 20) };
	int whence[5] = { SEEK_DATA, SEEK_HOLE, SEEK_DATA, SEEK_HOLE, SEEK_DATA };

	tl_fill(buf, sizeof(buf), 11);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf) ||
	    pwrite(fd, buf, sizeof(buf), 1 << 20) != sizeof(buf))
		tl_die("seek probe write %s: %s", path, tl_errname(errno));
	fsync(fd);
	for (int i = 0; i < 5; i++) {
		errno = 0;
		r->v[i] = lseek(fd, offs[i], whence[i]);
		r->e[i] = r->v[i] < 0 ? errno : 0;
	}
	close(fd);
}

static void test_seek_data_hole(void)
{
	static const char *what[5] = {
		"SEEK_DATA from 0", "SEEK_HOLE from 0", "SEEK_DATA inside hole",
		"SEEK_HOLE inside last data", "SEEK_DATA past EOF",
	};
	struct seek_result ref, got;
	char name[96];

	seek_probe(R("seek"), &ref);
	seek_probe(W("seek"), &got);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "%s as reference (%jd %s)", what[i],
			 (intmax_t)ref.v[i], tl_errname(ref.e[i]));
		tl_check(name, ref.v[i] == got.v[i] && ref.e[i] == got.e[i],
			 "got %jd %s", (intmax_t)got.v[i], tl_errname(got.e[i]));
	}
}

static void test_copy_file_range(void)
{
	char a[100000], b[100000];
	loff_t in_off = 1000, out_off = 5;
	ssize_t n;
	int in, out;

	tl_fill(a, sizeof(a), 13);
	tl_write_file(W("cfr_in"), a, sizeof(a), 0644);
	in = open(W("cfr_in"), O_RDONLY);
	out = open(W("cfr_out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	n = copy_file_range(in, &in_off, out, &out_off, 50000, 0);
	tl_check("copy_file_range with offsets", n > 0 && in_off == 1000 + n &&
		 out_off == 5 + n, "got %zd: %s", n, tl_errname(errno));
	while (n > 0 && n < 50000) {	/* short copies are allowed */
		ssize_t m = copy_file_range(in, &in_off, out, &out_off,
					    50000 - (out_off - 5), 0);
		if (m <= 0)
			break;
		n += m;
	}
	tl_check("copy_file_range copied bytes",
		 n == 50000 && pread(out, b, 50005, 0) == 50005 &&
		 !memcmp(b, (char[5]){ 0 }, 5) && !memcmp(b + 5, a + 1000, 50000),
		 "got %zd bytes or content differs", n);
	in_off = sizeof(a) + 10;
	n = copy_file_range(in, &in_off, out, NULL, 100, 0);
	tl_check("copy_file_range past EOF of source returns 0", n == 0,
		 "got %zd", n);
	close(out);
	out = open(W("cfr_out"), O_RDONLY);
	in_off = 0;
	tl_check_errno("copy_file_range into O_RDONLY fd: EBADF",
		       TL_ERR(copy_file_range(in, &in_off, out, NULL, 10, 0)),
		       EBADF);
	close(out);
	out = open(W("cfr_in"), O_RDWR);
	in_off = 0;
	out_off = 100;
	tl_check_errno("copy_file_range overlapping same file: EINVAL",
		       TL_ERR(copy_file_range(out, &in_off, out, &out_off, 1000, 0)),
		       EINVAL);
	close(out);
	close(in);
	if (backwork[0])
		tl_check("copied data in backing file",
			 tl_read_file(B("cfr_out"), b, sizeof(b)) == 50005 &&
			 !memcmp(b + 5, a + 1000, 50000), "backing differs");
}

/* Child side of the lock tests: tries a lock, reports 0 or errno. */
static int child_lock(const char *path, int kind, struct flock *out)
{
	int fd = open(path, O_RDWR), e;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 100 };

	if (fd < 0)
		return errno;
	switch (kind) {
	case 0:
		e = TL_ERR(flock(fd, LOCK_EX | LOCK_NB));
		break;
	case 1:
		e = TL_ERR(flock(fd, LOCK_SH | LOCK_NB));
		break;
	case 2:
		e = TL_ERR(fcntl(fd, F_SETLK, &fl));
		break;
	case 3:
		fl.l_start = 200;
		e = TL_ERR(fcntl(fd, F_SETLK, &fl));
		break;
	default:
		e = TL_ERR(fcntl(fd, F_GETLK, &fl));
		*out = fl;
		break;
	}
	close(fd);
	return e;
}

/* Runs child_lock in a forked process (locks must conflict across pids). */
static int in_child(const char *path, int kind, struct flock *out)
{
	int pfd[2], status;
	struct flock fl = { 0 };
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int e = child_lock(path, kind, &fl);

		if (write(pfd[1], &fl, sizeof(fl)) != sizeof(fl))
			_exit(255);
		_exit(e);
	}
	close(pfd[1]);
	if (read(pfd[0], &fl, sizeof(fl)) != sizeof(fl))
		memset(&fl, 0, sizeof(fl));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (out)
		*out = fl;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_locks(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 100 };
	struct flock seen;
	int fd;

	put(W("lock"), "lockfile");
	fd = open(W("lock"), O_RDWR);
	tl_check_call("flock LOCK_EX", flock(fd, LOCK_EX), 0);
	tl_check_errno("other process flock LOCK_EX|LOCK_NB: EWOULDBLOCK",
		       in_child(W("lock"), 0, NULL), EWOULDBLOCK);
	tl_check_errno("other process flock LOCK_SH|LOCK_NB: EWOULDBLOCK",
		       in_child(W("lock"), 1, NULL), EWOULDBLOCK);
	flock(fd, LOCK_SH);
	tl_check_errno("shared flock held by both",
		       in_child(W("lock"), 1, NULL), 0);
	flock(fd, LOCK_UN);
	tl_check_errno("flock free after LOCK_UN", in_child(W("lock"), 0, NULL),
		       0);

	tl_check_call("fcntl F_SETLK write lock [0,100)",
		      fcntl(fd, F_SETLK, &fl), 0);
	tl_check_errno2("other process overlapping F_SETLK: EAGAIN",
			in_child(W("lock"), 2, NULL), EAGAIN, EACCES);
	tl_check_errno("other process non-overlapping F_SETLK",
		       in_child(W("lock"), 3, NULL), 0);
	in_child(W("lock"), 4, &seen);
	tl_check("F_GETLK reports the holder",
		 seen.l_type == F_WRLCK && seen.l_pid == getpid() &&
		 seen.l_start == 0 && seen.l_len == 100,
		 "type %d pid %d (expected %d) start %jd len %jd", seen.l_type,
		 seen.l_pid, getpid(), (intmax_t)seen.l_start,
		 (intmax_t)seen.l_len);
	close(fd);	/* closing any fd drops the process' POSIX locks */
	tl_check_errno("POSIX lock released on close",
		       in_child(W("lock"), 2, NULL), 0);
	in_child(W("lock"), 4, &seen);
	tl_check("F_GETLK on free range: F_UNLCK", seen.l_type == F_UNLCK,
		 "type %d", seen.l_type);

	/* OFD locks conflict even within one process */
	{
		struct flock ofd = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				     .l_start = 0, .l_len = 10 };
		int a = open(W("lock"), O_RDWR), b = open(W("lock"), O_RDWR);

		tl_check_call("F_OFD_SETLK", fcntl(a, F_OFD_SETLK, &ofd), 0);
		tl_check_errno("second open file description F_OFD_SETLK: EAGAIN",
			       TL_ERR(fcntl(b, F_OFD_SETLK, &ofd)), EAGAIN);
		close(a);
		close(b);
	}
}

/* ---------------- locks whose owner is gone ---------------- */

static void on_alarm(int sig)
{
	(void)sig;
}

/* F_OFD_SETLK(W) of [0,10) on a new description; 0 or errno */
static int ofd_lock(const char *path, int cmd, int *fdp)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 10 };
	int fd = open(path, O_RDWR), e;

	if (fd < 0)
		return errno;
	e = TL_ERR(fcntl(fd, cmd, &fl));
	if (e || !fdp)
		close(fd);
	else
		*fdp = fd;
	return e;
}

/*
 * A child takes a lock of @kind (0 OFD, 1 POSIX, 2 flock), tells us, waits
 * @hold_ms and exits without unlocking or closing. Its pid, or -1.
 */
static pid_t lock_and_exit(const char *path, int kind, int hold_ms)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 10 };
	int pfd[2];
	char c = 0;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR);

		c = fd >= 0 && !(kind == 0 ? fcntl(fd, F_OFD_SETLK, &fl) :
				 kind == 1 ? fcntl(fd, F_SETLK, &fl) :
				 flock(fd, LOCK_EX | LOCK_NB));
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		usleep(hold_ms * 1000);
		_exit(0);
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], &c, 1) != 1 || !c) {
		if (pid > 0)
			waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

/*
 * 0 once a non-blocking lock of @kind by this process succeeds, else its
 * errno. Through FUSE the kernel sends RELEASE of a closed file in the
 * background, so an OFD lock can outlive its description by a moment:
 * retried for up to 2 s.
 */
static int lock_free_soon(const char *path, int kind)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 10 };
	int e = EIO;

	for (int i = 0; i < 20; i++) {
		int fd = open(path, O_RDWR);

		if (fd < 0)
			return errno;
		e = kind == 0 ? TL_ERR(fcntl(fd, F_OFD_SETLK, &fl)) :
		    kind == 1 ? TL_ERR(fcntl(fd, F_SETLK, &fl)) :
		    TL_ERR(flock(fd, LOCK_EX | LOCK_NB));
		close(fd);
		if (!e)
			break;
		usleep(100 * 1000);
	}
	return e;
}

/*
 * More F_OFD_SETLKW waiters than a FUSE daemon has worker threads: when
 * the holder exits, each gets the lock in turn and exits (the daemon must
 * not spend a worker per waiter, or none would be left to read RELEASE).
 */
#define LOCK_WAITERS	48

static void test_many_lock_waiters(void)
{
	pid_t holder, pids[LOCK_WAITERS];
	int got = 0, status;

	holder = lock_and_exit(W("lock_gone"), 0, 500);
	for (int i = 0; i < LOCK_WAITERS; i++) {
		fflush(stdout);
		pids[i] = holder < 0 ? -1 : fork();
		if (pids[i] == 0) {
			signal(SIGALRM, SIG_DFL);
			alarm(30);
			_exit(ofd_lock(W("lock_gone"), F_OFD_SETLKW, NULL));
		}
	}
	/* 30 s at most, then count what finished */
	for (int t = 0; t < 300 && got < LOCK_WAITERS; t++) {
		for (int i = 0; i < LOCK_WAITERS; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) > 0) {
				if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
					got++;
				pids[i] = -1;
			}
		}
		if (got < LOCK_WAITERS)
			usleep(100 * 1000);
	}
	for (int i = 0; i < LOCK_WAITERS; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	if (holder > 0)
		waitpid(holder, NULL, 0);
	tl_check(tl_path("%d F_OFD_SETLKW waiters each get the lock after its holder exits",
			 LOCK_WAITERS), got == LOCK_WAITERS, "%d did", got);
}

static void test_locks_owner_gone(void)
{
	static const char *kinds[] = { "OFD", "POSIX", "flock" };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	char name[128];
	int a = -1, b;
	pid_t pid;

	put(W("lock_gone"), "lockfile");
	for (int k = 0; k < 3; k++) {
		pid = lock_and_exit(W("lock_gone"), k, 0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		snprintf(name, sizeof(name),
			 "%s lock of an exited process is released", kinds[k]);
		tl_check_errno(name, pid < 0 ? EIO :
			       lock_free_soon(W("lock_gone"), k), 0);
	}

	/* no SA_RESTART: the alarm ends a wait with EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	pid = lock_and_exit(W("lock_gone"), 0, 300);
	alarm(5);
	tl_check_errno("F_OFD_SETLKW waiter gets the lock when its holder exits",
		       pid < 0 ? EIO : ofd_lock(W("lock_gone"), F_OFD_SETLKW,
						NULL), 0);
	alarm(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);

	tl_check_errno("F_OFD_SETLK", ofd_lock(W("lock_gone"), F_OFD_SETLK, &a),
		       0);
	b = dup(a);
	close(b);	/* not the description's last fd: the lock stays */
	tl_check_errno("OFD lock kept after closing a dup: EAGAIN",
		       ofd_lock(W("lock_gone"), F_OFD_SETLK, NULL), EAGAIN);
	alarm(1);
	tl_check_errno("F_OFD_SETLKW interrupted by a signal: EINTR",
		       ofd_lock(W("lock_gone"), F_OFD_SETLKW, NULL), EINTR);
	alarm(0);
	close(a);
	tl_check_errno("OFD lock released with its description's last fd",
		       lock_free_soon(W("lock_gone"), 0), 0);
	sigaction(SIGALRM, &old, NULL);
	test_many_lock_waiters();
}

static void test_sync_mmap(void)
{
	char buf[8192];
	char *m;
	int fd, dfd;

	tl_fill(buf, sizeof(buf), 17);
	tl_write_file(W("m"), buf, sizeof(buf), 0644);
	fd = open(W("m"), O_RDWR);
	tl_check_call("fsync", fsync(fd), 0);
	tl_check_call("fdatasync", fdatasync(fd), 0);
	dfd = open(work, O_RDONLY | O_DIRECTORY);
	tl_check_call("fsync directory", fsync(dfd), 0);
	close(dfd);
	tl_check_call("syncfs", syncfs(fd), 0);

	m = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tl_check("mmap MAP_SHARED read sees file content",
		 m != MAP_FAILED && !memcmp(m, buf, sizeof(buf)), "differs");
	if (m != MAP_FAILED) {
		char c[8];

		memcpy(m + 100, "MMAPPED!", 8);
		tl_check_call("msync", msync(m, sizeof(buf), MS_SYNC), 0);
		tl_check("mmap write visible to pread",
			 pread(fd, c, 8, 100) == 8 && !memcmp(c, "MMAPPED!", 8),
			 "differs");
		if (pwrite(fd, "PWRITTEN", 8, 4096) != 8)
			tl_fail("pwrite m", "%s", tl_errname(errno));
		tl_check("pwrite visible in mapping",
			 !memcmp(m + 4096, "PWRITTEN", 8), "differs");
		munmap(m, sizeof(buf));
		if (backwork[0]) {
			char bb[8192];

			tl_check("mmap write reached backing file",
				 tl_read_file(B("m"), bb, sizeof(bb)) == 8192 &&
				 !memcmp(bb + 100, "MMAPPED!", 8), "differs");
		}
	}
	close(fd);

	/* a write through a shared mapping is a modification: new mtime */
	put(W("mt"), "mmap times");
	utimensat(AT_FDCWD, W("mt"), (struct timespec[2]){ { 1, 0 }, { 1, 0 } },
		  0);
	fd = open(W("mt"), O_RDWR);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED) {
		struct stat st;

		stat(W("mt"), &st);	/* the kernel may cache these */
		m[0] = 'M';
		msync(m, 4096, MS_SYNC);
		tl_check("stat after a write through a shared mapping: new mtime",
			 !stat(W("mt"), &st) && st.st_mtim.tv_sec != 1,
			 "mtime %ld", st.st_mtim.tv_sec);
		check_mirrors_backing("mt");
		munmap(m, 4096);
	} else {
		tl_fail("mmap MAP_SHARED mt", "%s", tl_errname(errno));
	}
	close(fd);

	fd = open(W("m"), O_RDONLY);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tl_check_errno("mmap PROT_WRITE MAP_SHARED on O_RDONLY fd: EACCES",
		       m == MAP_FAILED ? errno : (munmap(m, 4096), 0), EACCES);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	tl_check("MAP_PRIVATE write stays private",
		 m != MAP_FAILED && (m[0] = 'Q', 1) &&
		 pread(fd, buf, 1, 0) == 1 && buf[0] != 'Q', "leaked");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	close(fd);
}

/* ---------------- permission checks as other uids ---------------- */

enum uop {
	U_OPEN_R, U_OPEN_W, U_CREATE, U_MKDIR, U_SYMLINK, U_MKFIFO, U_CHMOD,
	U_CHOWN, U_UNLINK, U_RENAME, U_STAT, U_TRUNCATE, U_UTIMES_NOW,
	U_UTIMES_SET, U_SETXATTR, U_ACCESS_R, U_ACCESS_W, U_MKNOD_CHR, U_LINK,
	U_WRITE, U_RMDIR, U_CREATE_MODE,
};

struct uarg {
	enum uop op;
	const char *a, *b;
	long n;
};

static int u_run(void *p)
{
	struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
	struct uarg *u = p;
	struct stat st;
	int fd;

	switch (u->op) {
	case U_OPEN_R:
		return open_err(u->a, O_RDONLY, 0);
	case U_OPEN_W:
		return open_err(u->a, O_WRONLY, 0);
	case U_CREATE:
		return open_err(u->a, O_CREAT | O_EXCL | O_WRONLY, 0644);
	case U_CREATE_MODE:
		fd = open(u->a, O_CREAT | O_EXCL | O_WRONLY, 0777);
		if (fd < 0)
			return errno;
		/* umask would drop nothing of 02755; set explicitly too */
		return fchmod(fd, u->n) ? errno : (close(fd), 0);
	case U_MKDIR:
		return TL_ERR(mkdir(u->a, 0755));
	case U_SYMLINK:
		return TL_ERR(symlink("target", u->a));
	case U_MKFIFO:
		return TL_ERR(mkfifo(u->a, 0644));
	case U_CHMOD:
		return TL_ERR(chmod(u->a, u->n));
	case U_CHOWN:
		return TL_ERR(chown(u->a, u->n >> 32, u->n & 0xffffffff));
	case U_UNLINK:
		return TL_ERR(unlink(u->a));
	case U_RENAME:
		return TL_ERR(rename(u->a, u->b));
	case U_STAT:
		return TL_ERR(stat(u->a, &st));
	case U_TRUNCATE:
		return TL_ERR(truncate(u->a, 0));
	case U_UTIMES_NOW:
		return TL_ERR(utimensat(AT_FDCWD, u->a, NULL, 0));
	case U_UTIMES_SET:
		return TL_ERR(utimensat(AT_FDCWD, u->a, ts, 0));
	case U_SETXATTR:
		return TL_ERR(setxattr(u->a, "user.u", "v", 1, 0));
	case U_ACCESS_R:
		return TL_ERR(access(u->a, R_OK));
	case U_ACCESS_W:
		return TL_ERR(access(u->a, W_OK));
	case U_MKNOD_CHR:
		return TL_ERR(mknod(u->a, S_IFCHR | 0644, makedev(1, 3)));
	case U_LINK:
		return TL_ERR(link(u->a, u->b));
	case U_WRITE:
		fd = open(u->a, O_WRONLY | O_APPEND);
		if (fd < 0)
			return errno;
		if (write(fd, "w", 1) != 1) {
			int e = errno;

			close(fd);
			return e;
		}
		return close(fd) ? errno : 0;
	case U_RMDIR:
		return TL_ERR(rmdir(u->a));
	}
	return EINVAL;
}

static int as(const struct tl_user *who, enum uop op, const char *a,
	      const char *b, long n)
{
	struct uarg u = { op, a, b, n };

	return tl_as_user(who, u_run, &u);
}

#define A (&TL_USER_A)
#define Bu (&TL_USER_B)

static void mkowned(const char *path, uid_t uid, gid_t gid, mode_t mode,
		    bool dir)
{
	if (dir ? mkdir(path, 0700) : put(path, "owned"))
		tl_die("setup %s: %s", path, tl_errname(errno));
	if (chown(path, uid, gid) || chmod(path, mode))
		tl_die("setup chown/chmod %s: %s", path, tl_errname(errno));
}

static void check_owner(const char *name, const char *path, uid_t uid,
			gid_t gid)
{
	struct stat st;

	if (lstat(path, &st)) {
		tl_fail(name, "lstat: %s", tl_errname(errno));
		return;
	}
	tl_check(name, st.st_uid == uid && st.st_gid == gid,
		 "got %u:%u expected %u:%u", st.st_uid, st.st_gid, uid, gid);
}

static void test_permissions(void)
{
	struct tl_user a3000 = { 1000, 1000, 1, { 3000 } };
	struct stat st;

	mkowned(W("p"), 0, 0, 0777, true);
	mkowned(W("p/a600"), 1000, 1000, 0600, false);
	mkowned(W("p/a644"), 1000, 1000, 0644, false);
	mkowned(W("p/a666"), 1000, 1000, 0666, false);

	tl_check_errno("uid 1000 opens own 0600 file", as(A, U_OPEN_R, W("p/a600"),
							  NULL, 0), 0);
	tl_check_errno("uid 2000 opens 0600 file of uid 1000: EACCES",
		       as(Bu, U_OPEN_R, W("p/a600"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 reads 0644 file of uid 1000",
		       as(Bu, U_OPEN_R, W("p/a644"), NULL, 0), 0);
	tl_check_errno("uid 2000 writes 0644 file of uid 1000: EACCES",
		       as(Bu, U_OPEN_W, W("p/a644"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 truncates 0644 file of uid 1000: EACCES",
		       as(Bu, U_TRUNCATE, W("p/a644"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 access W_OK on 0644 of uid 1000: EACCES",
		       as(Bu, U_ACCESS_W, W("p/a644"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 access R_OK on 0644 of uid 1000",
		       as(Bu, U_ACCESS_R, W("p/a644"), NULL, 0), 0);
	tl_check_errno("uid 2000 chmod file of uid 1000: EPERM",
		       as(Bu, U_CHMOD, W("p/a644"), NULL, 0666), EPERM);
	tl_check_errno("uid 1000 chmod own file",
		       as(A, U_CHMOD, W("p/a644"), NULL, 0640), 0);
	tl_check("chmod by owner took effect",
		 (mode_of(W("p/a644")) & 07777) == 0640, "got %o",
		 mode_of(W("p/a644")) & 07777);
	chmod(W("p/a644"), 0644);
	tl_check_errno("uid 1000 gives own file to uid 2000: EPERM",
		       as(A, U_CHOWN, W("p/a644"), NULL,
			  (2000L << 32) | 0xffffffffL), EPERM);
	tl_check_errno("uid 1000 chgrp own file to a group it lacks: EPERM",
		       as(A, U_CHOWN, W("p/a644"), NULL,
			  (0xffffffffL << 32) | 3000), EPERM);
	tl_check_errno("uid 1000 chgrp own file to supplementary group",
		       tl_as_user(&a3000, u_run, &(struct uarg){ U_CHOWN,
				  W("p/a644"), NULL,
				  (0xffffffffL << 32) | 3000 }), 0);
	check_owner("chgrp by owner took effect", W("p/a644"), 1000, 3000);
	tl_check_errno("uid 2000 utimensat explicit times on other's file: EPERM",
		       as(Bu, U_UTIMES_SET, W("p/a666"), NULL, 0), EPERM);
	tl_check_errno("uid 2000 utimensat now on other's writable file",
		       as(Bu, U_UTIMES_NOW, W("p/a666"), NULL, 0), 0);
	tl_check_errno("uid 2000 utimensat now on other's 0644 file: EACCES",
		       as(Bu, U_UTIMES_NOW, W("p/a600"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 setxattr on other's 0644 file: EACCES",
		       as(Bu, U_SETXATTR, W("p/a644"), NULL, 0), EACCES);
	tl_check_errno("uid 1000 mknod char device: EPERM",
		       as(A, U_MKNOD_CHR, W("p/chr"), NULL, 0), EPERM);
	tl_check_errno("uid 2000 hardlinks other's 0600 file: EPERM (protected_hardlinks)",
		       as(Bu, U_LINK, W("p/a600"), W("p/b_link"), 0), EPERM);

	/* group permission through a supplementary group */
	mkowned(W("p/g640"), 2000, 3000, 0640, false);
	tl_check_errno("uid 1000 without group 3000 reads 0640 g3000 file: EACCES",
		       as(A, U_OPEN_R, W("p/g640"), NULL, 0), EACCES);
	tl_check_errno("uid 1000 with supplementary group 3000 reads it",
		       tl_as_user(&a3000, u_run, &(struct uarg){ U_OPEN_R,
				  W("p/g640"), NULL, 0 }), 0);

	/* directory permissions */
	mkowned(W("p/adir"), 1000, 1000, 0755, true);
	mkowned(W("p/adir/f"), 1000, 1000, 0644, false);
	tl_check_errno("uid 2000 creates in 0755 dir of uid 1000: EACCES",
		       as(Bu, U_CREATE, W("p/adir/new"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 unlinks in 0755 dir of uid 1000: EACCES",
		       as(Bu, U_UNLINK, W("p/adir/f"), NULL, 0), EACCES);
	tl_check_errno("uid 2000 renames out of 0755 dir of uid 1000: EACCES",
		       as(Bu, U_RENAME, W("p/adir/f"), W("p/stolen"), 0), EACCES);
	chmod(W("p/adir"), 0700);
	tl_check_errno("uid 2000 stats in 0700 dir of uid 1000: EACCES",
		       as(Bu, U_STAT, W("p/adir/f"), NULL, 0), EACCES);
	tl_check_errno("uid 1000 stats in own 0700 dir",
		       as(A, U_STAT, W("p/adir/f"), NULL, 0), 0);
	chmod(W("p/adir"), 0555);
	tl_check_errno("owner creates in own 0555 dir: EACCES",
		       as(A, U_CREATE, W("p/adir/new"), NULL, 0), EACCES);
	tl_check_errno("owner mkdir in own 0555 dir: EACCES",
		       as(A, U_MKDIR, W("p/adir/newd"), NULL, 0), EACCES);
	chmod(W("p/adir"), 0755);

	/* sticky directory */
	mkowned(W("p/sticky"), 0, 0, 01777, true);
	tl_check_errno("uid 1000 creates in sticky dir",
		       as(A, U_CREATE, W("p/sticky/af"), NULL, 0), 0);
	tl_check_errno("uid 2000 unlinks uid 1000's file in sticky dir: EPERM",
		       as(Bu, U_UNLINK, W("p/sticky/af"), NULL, 0), EPERM);
	tl_check_errno("uid 2000 renames uid 1000's file in sticky dir: EPERM",
		       as(Bu, U_RENAME, W("p/sticky/af"), W("p/sticky/bf"), 0),
		       EPERM);
	tl_check_errno("uid 1000 unlinks own file in sticky dir",
		       as(A, U_UNLINK, W("p/sticky/af"), NULL, 0), 0);

	/* ownership of new inodes = caller's fsuid/fsgid */
	tl_check_errno("uid 1000 creates file in 0777 dir",
		       as(A, U_CREATE, W("p/new_file"), NULL, 0), 0);
	check_owner("new file owned by caller uid/gid", W("p/new_file"), 1000,
		    1000);
	tl_check_errno("uid 1000 mkdir", as(A, U_MKDIR, W("p/new_dir"), NULL, 0),
		       0);
	check_owner("new dir owned by caller", W("p/new_dir"), 1000, 1000);
	tl_check_errno("uid 1000 symlink", as(A, U_SYMLINK, W("p/new_link"),
					      NULL, 0), 0);
	check_owner("new symlink owned by caller", W("p/new_link"), 1000, 1000);
	tl_check_errno("uid 1000 mkfifo", as(A, U_MKFIFO, W("p/new_fifo"), NULL,
					     0), 0);
	check_owner("new fifo owned by caller", W("p/new_fifo"), 1000, 1000);
	tl_check_errno("uid 2000 hardlinks own file",
		       as(Bu, U_CREATE, W("p/b_own"), NULL, 0) ?:
		       as(Bu, U_LINK, W("p/b_own"), W("p/b_own2"), 0), 0);
	check_owner("hard link keeps owner", W("p/b_own2"), 2000, 2000);

	/* setgid directory: group inherited, S_ISGID inherited by subdirs */
	mkowned(W("p/sgid"), 0, 3000, 02777, true);
	tl_check_errno("uid 1000 creates file in setgid dir",
		       as(A, U_CREATE, W("p/sgid/f"), NULL, 0), 0);
	check_owner("file in setgid dir gets dir's group", W("p/sgid/f"), 1000,
		    3000);
	tl_check_errno("uid 1000 mkdir in setgid dir",
		       as(A, U_MKDIR, W("p/sgid/d"), NULL, 0), 0);
	check_owner("dir in setgid dir gets dir's group", W("p/sgid/d"), 1000,
		    3000);
	tl_check("dir in setgid dir inherits S_ISGID",
		 (mode_of(W("p/sgid/d")) & S_ISGID) != 0, "mode %o",
		 mode_of(W("p/sgid/d")));
	tl_check_errno("uid 1000 symlink in setgid dir",
		       as(A, U_SYMLINK, W("p/sgid/l"), NULL, 0), 0);
	check_owner("symlink in setgid dir gets dir's group", W("p/sgid/l"),
		    1000, 3000);

	/* a write by a non-root owner clears setuid/setgid */
	mkowned(W("p/suid"), 1000, 1000, 06755, false);
	tl_check_errno("uid 1000 writes own setuid file",
		       as(A, U_WRITE, W("p/suid"), NULL, 0), 0);
	stat(W("p/suid"), &st);
	tl_check("write by non-root clears setuid and setgid",
		 (st.st_mode & 07777) == 0755, "mode %o", st.st_mode & 07777);
	mkowned(W("p/suid2"), 1000, 1000, 04755, false);
	tl_check_errno("uid 1000 truncates own setuid file",
		       as(A, U_TRUNCATE, W("p/suid2"), NULL, 0), 0);
	tl_check("truncate by non-root clears setuid",
		 (mode_of(W("p/suid2")) & 07777) == 0755, "mode %o",
		 mode_of(W("p/suid2")) & 07777);
	tl_check_errno("uid 1000 chmod g+s on own file, group not its own",
		       (chown(W("p/a666"), 1000, 3000), chmod(W("p/a666"), 0666),
			as(A, U_CHMOD, W("p/a666"), NULL, 02755)), 0);
	tl_check("chmod g+s by non-member silently drops S_ISGID",
		 (mode_of(W("p/a666")) & 07777) == 0755, "mode %o",
		 mode_of(W("p/a666")) & 07777);
	tl_check_errno("uid 2000 rmdir in other's 0755 dir: EACCES",
		       (mkdir(W("p/adir/sub"), 0755),
			as(Bu, U_RMDIR, W("p/adir/sub"), NULL, 0)), EACCES);
	if (backwork[0]) {
		struct stat b;

		tl_check("owner of new file set in backing fs",
			 !lstat(B("p/new_file"), &b) && b.st_uid == 1000 &&
			 b.st_gid == 1000, "got %u:%u", b.st_uid, b.st_gid);
		tl_check("setgid group set in backing fs",
			 !lstat(B("p/sgid/f"), &b) && b.st_gid == 3000,
			 "got gid %u", b.st_gid);
	}
}

/* ---------------- POSIX ACLs (system.posix_acl_* xattrs) ---------------- */

static void setid_modes(const char *path, char *out, size_t len);

struct acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};

enum { ACL_USER_OBJ_ = 1, ACL_USER_ = 2, ACL_GROUP_OBJ_ = 4, ACL_GROUP_ = 8,
       ACL_MASK_ = 16, ACL_OTHER_ = 32 };

/* Sets an ACL in the kernel's xattr format; 0 or errno. */
static int acl_set(const char *path, const char *xname,
		   const struct acl_entry *e, int n)
{
	unsigned char buf[4 + 8 * 8];
	uint32_t version = 2;

	memcpy(buf, &version, 4);
	memcpy(buf + 4, e, n * sizeof(*e));
	return TL_ERR(setxattr(path, xname, buf, 4 + n * sizeof(*e), 0));
}

struct acl_arg {
	const char *path;
	const struct acl_entry *e;
	int n;
};

static int acl_set_as(void *p)
{
	const struct acl_arg *a = p;

	return acl_set(a->path, "system.posix_acl_access", a->e, a->n);
}

/*
 * Setting an access ACL clears the set-gid bit when the caller is not in
 * the file's group (posix_acl_update_mode), as a chmod would; a member
 * keeps it. Mode compared with the reference.
 */
static void test_acl_setgid(void)
{
	static const struct acl_entry acl[] = {
		{ ACL_USER_OBJ_, 7, 0 }, { ACL_USER_, 4, 2000 },
		{ ACL_GROUP_OBJ_, 5, 0 }, { ACL_MASK_, 5, 0 },
		{ ACL_OTHER_, 5, 0 },
	};
	static const struct {
		gid_t gid;
		bool dir;
		const char *what;
	} cases[] = {
		{ 3000, false, "uid 1000 sets an ACL on its 02755 file of group 3000" },
		{ 1000, false, "uid 1000 sets an ACL on its 02755 file of group 1000" },
		{ 3000, true, "uid 1000 sets an ACL on its 02755 directory of group 3000" },
	};
	char name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acl_arg ref = { R("acl_sgid"), acl, 5 };
		struct acl_arg got = { W("acl_sgid"), acl, 5 };
		int ref_err, got_err;
		char ref_modes[32], got_modes[32];

		mkowned(ref.path, 1000, cases[i].gid, 02755, cases[i].dir);
		mkowned(got.path, 1000, cases[i].gid, 02755, cases[i].dir);
		ref_err = tl_as_user(A, acl_set_as, &ref);
		got_err = tl_as_user(A, acl_set_as, &got);
		setid_modes(ref.path, ref_modes, sizeof(ref_modes));
		setid_modes(got.path, got_modes, sizeof(got_modes));
		snprintf(name, sizeof(name), "%s: %s, mode %s as reference",
			 cases[i].what, tl_errname(ref_err), ref_modes);
		tl_check(name, got_err == ref_err && !strcmp(got_modes, ref_modes),
			 "%s, mode %s", tl_errname(got_err), got_modes);
		if (cases[i].dir) {
			rmdir(ref.path);
			rmdir(got.path);
		} else {
			unlink(ref.path);
			unlink(got.path);
		}
	}
}

static void test_acl(void)
{
	/* uid 2000 named with no rights on an otherwise world-readable file */
	static const struct acl_entry deny[] = {
		{ ACL_USER_OBJ_, 6, 0 }, { ACL_USER_, 0, 2000 },
		{ ACL_GROUP_OBJ_, 4, 0 }, { ACL_MASK_, 4, 0 },
		{ ACL_OTHER_, 4, 0 },
	};
	/* uid 2000 granted read on a file that is 0600 by its mode */
	static const struct acl_entry allow[] = {
		{ ACL_USER_OBJ_, 6, 0 }, { ACL_USER_, 4, 2000 },
		{ ACL_GROUP_OBJ_, 0, 0 }, { ACL_MASK_, 4, 0 },
		{ ACL_OTHER_, 0, 0 },
	};
	/* default ACL rwx for all: new files ignore the umask */
	static const struct acl_entry dflt[] = {
		{ ACL_USER_OBJ_, 7, 0 }, { ACL_GROUP_OBJ_, 7, 0 },
		{ ACL_OTHER_, 7, 0 },
	};
	char name[128];
	int ref;

	put(R("acl_probe"), "x");
	ref = acl_set(R("acl_probe"), "system.posix_acl_access", deny, 5);
	put(W("acl_deny"), "hidden");
	snprintf(name, sizeof(name), "set access ACL as reference (%s)",
		 tl_errname(ref));
	tl_check_errno(name, acl_set(W("acl_deny"), "system.posix_acl_access",
				     deny, 5), ref);
	if (ref) {
		tl_skip("ACL permission checks", "reference fs has no POSIX ACLs");
		return;
	}
	tl_check_errno("ACL user:2000:--- denies uid 2000 a 0644 file: EACCES",
		       as(Bu, U_OPEN_R, W("acl_deny"), NULL, 0), EACCES);
	tl_check_errno("ACL user:2000:--- still lets uid 1000 read",
		       as(A, U_OPEN_R, W("acl_deny"), NULL, 0), 0);
	mkowned(W("acl_allow"), 1000, 1000, 0600, false);
	acl_set(W("acl_allow"), "system.posix_acl_access", allow, 5);
	tl_check_errno("ACL user:2000:r-- lets uid 2000 read a 0600 file",
		       as(Bu, U_OPEN_R, W("acl_allow"), NULL, 0), 0);
	tl_check_errno("ACL user:2000:r-- does not let uid 2000 write: EACCES",
		       as(Bu, U_OPEN_W, W("acl_allow"), NULL, 0), EACCES);
	mkdir(W("acl_dir"), 0755);
	tl_check_call("set default ACL on a directory",
		      acl_set(W("acl_dir"), "system.posix_acl_default", dflt, 3)
		      ? -1 : 0, 0);
	open_err(W("acl_dir/f"), O_CREAT | O_WRONLY, 0666);
	tl_check("file under default ACL rwx: mode 0666 despite umask 022",
		 (mode_of(W("acl_dir/f")) & 07777) == 0666, "got %o",
		 mode_of(W("acl_dir/f")) & 07777);
	test_acl_setgid();
}

/* ---------------- set-id bits after an unprivileged modification ---------------- */
/*
 * With FUSE_HANDLE_KILLPRIV_V2 clearing set-user-ID / set-group-ID bits is
 * the daemon's job (userspace/daemon/killpriv.c). Every way an
 * unprivileged caller can modify a file must leave the mode the reference
 * fs leaves: set-uid always goes; set-gid goes if the file is group-
 * executable or the caller is not in its group, and stays on a 02644 file
 * modified by a group member. The mode is read twice: statx(STATX_MODE)
 * alone (served from the kernel's attribute cache if it is still valid)
 * and a full stat.
 */
enum setid_op {
	S_PWRITE, S_OTRUNC, S_FTRUNCATE, S_TRUNCATE, S_ODIRECT, S_FALLOCATE,
	S_PUNCH, S_ZERO, S_CFR, S_CHGRP,
};

struct setid_arg {
	enum setid_op op;
	const char *path;
	const char *src;	/* S_CFR: the file copied from */
};

static int setid_modify(void *p)
{
	const struct setid_arg *a = p;
	void *buf = NULL;
	int fd, in, err = 0;

	if (a->op == S_TRUNCATE)
		return TL_ERR(truncate(a->path, 1));
	if (a->op == S_CHGRP)	/* to the caller's own group */
		return TL_ERR(chown(a->path, -1, getgid()));
	fd = open(a->path, a->op == S_OTRUNC ? O_WRONLY | O_TRUNC :
		  a->op == S_ODIRECT ? O_WRONLY | O_DIRECT : O_RDWR);
	if (fd < 0)
		return errno;
	switch (a->op) {
	case S_PWRITE:
		if (pwrite(fd, "w", 1, 2) != 1)
			err = errno ? errno : EIO;
		break;
	case S_FTRUNCATE:
		err = TL_ERR(ftruncate(fd, 1));
		break;
	case S_ODIRECT:
		if (posix_memalign(&buf, 4096, 4096))
			err = ENOMEM;
		else if (memset(buf, 'd', 4096), pwrite(fd, buf, 4096, 0) != 4096)
			err = errno ? errno : EIO;
		free(buf);
		break;
	case S_FALLOCATE:
		err = TL_ERR(fallocate(fd, 0, 0, 8192));
		break;
	case S_PUNCH:
		err = TL_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				       FALLOC_FL_KEEP_SIZE, 0, 4096));
		break;
	case S_ZERO:
		err = TL_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096));
		break;
	case S_CFR:
		in = open(a->src, O_RDONLY);
		if (in < 0)
			err = errno;
		else if (copy_file_range(in, NULL, fd, NULL, 3, 0) != 3)
			err = errno ? errno : EIO;
		if (in >= 0)
			close(in);
		break;
	default:
		break;
	}
	if (close(fd) && !err)
		err = errno;
	return err;
}

/* statx(STATX_MODE) alone, then a full stat: "MODE/MODE" */
static void setid_modes(const char *path, char *out, size_t len)
{
	struct statx stx;
	struct stat st;
	int cached = statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MODE, &stx);

	snprintf(out, len, "%o/%o", cached ? 0 : stx.stx_mode & 07777,
		 lstat(path, &st) ? 0 : st.st_mode & 07777);
}

static const struct tl_user root_user = { 0, 0, 0, { 0 } };

static void test_setid_cleared(void)
{
	static const struct {
		enum setid_op op;
		const char *what;
	} ops[] = {
		{ S_PWRITE, "pwrite" },
		{ S_OTRUNC, "open O_TRUNC" },
		{ S_FTRUNCATE, "ftruncate" },
		{ S_TRUNCATE, "truncate" },
		{ S_ODIRECT, "O_DIRECT write" },
		{ S_FALLOCATE, "fallocate" },
		{ S_PUNCH, "fallocate PUNCH_HOLE" },
		{ S_ZERO, "fallocate ZERO_RANGE" },
		{ S_CFR, "copy_file_range into" },
		{ S_CHGRP, "chgrp to its own group" },
	};
	/* file owner:group and mode, and who modifies it */
	static const struct {
		uid_t uid;
		gid_t gid;
		mode_t mode;
		const struct tl_user *who;
		const char *what;
	} files[] = {
		{ 1000, 1000, 06755, &TL_USER_A, "uid 1000 on own 06755 file" },
		{ 1000, 1000, 06666, &TL_USER_A, "uid 1000 on own 06666 file (in group)" },
		{ 1000, 3000, 06666, &TL_USER_A, "uid 1000 on own 06666 file (not in group 3000)" },
		{ 1000, 1000, 02644, &TL_USER_A, "uid 1000 on own 02644 file (in group)" },
		{ 1000, 1000, 06666, &TL_USER_B, "uid 2000 on uid 1000's 06666 file" },
		/* CAP_FSETID: the bits stay (chgrp to group 0 clears set-uid) */
		{ 1000, 1000, 06755, &root_user, "root on uid 1000's 06755 file" },
	};
	char name[192], ref_modes[32], got_modes[32];

	put(R("setid_src"), "src");
	put(W("setid_src"), "src");
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			struct setid_arg ref = { ops[i].op, R("setid"), R("setid_src") };
			struct setid_arg got = { ops[i].op, W("setid"), W("setid_src") };
			int ref_err, got_err;

			mkowned(ref.path, files[f].uid, files[f].gid,
				files[f].mode, false);
			mkowned(got.path, files[f].uid, files[f].gid,
				files[f].mode, false);
			ref_err = tl_as_user(files[f].who, setid_modify, &ref);
			got_err = tl_as_user(files[f].who, setid_modify, &got);
			setid_modes(ref.path, ref_modes, sizeof(ref_modes));
			setid_modes(got.path, got_modes, sizeof(got_modes));
			snprintf(name, sizeof(name), "%s: %s: %s, mode %s as reference",
				 files[f].what, ops[i].what, tl_errname(ref_err),
				 ref_modes);
			tl_check(name, got_err == ref_err &&
				 !strcmp(got_modes, ref_modes), "%s, mode %s",
				 tl_errname(got_err), got_modes);
			unlink(ref.path);
			unlink(got.path);
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: posix_suite DIR [--reference REFDIR] [--backing BACKDIR] [--no-uid]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *ref = NULL, *back = NULL;
	bool uid_tests = true;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reference") && i + 1 < argc)
			ref = argv[++i];
		else if (!strcmp(argv[i], "--backing") && i + 1 < argc)
			back = argv[++i];
		else if (!strcmp(argv[i], "--no-uid"))
			uid_tests = false;
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else
			usage();
	}
	if (!dir)
		usage();
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "posix_suite: %s is not a directory\n", dir);
		return 2;
	}
	if (!ref)
		ref = dir;
	umask(022);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(work, sizeof(work), "%s/posix.%d", dir, getpid());
	snprintf(probe, sizeof(probe), "%s/posix-probe.%d", ref, getpid());
	if (back)
		snprintf(backwork, sizeof(backwork), "%s/posix.%d", back, getpid());
	if (mkdir(work, 0755) || chmod(work, 0755))
		tl_die("mkdir %s: %s", work, tl_errname(errno));
	if (mkdir(probe, 0755))
		tl_die("mkdir %s: %s", probe, tl_errname(errno));
	if (back && stat(backwork, &st))
		tl_die("%s does not show %s: is DIR a mount of BACKDIR?", back,
		       work);

	test_open();
	test_odirect();
	test_read_write();
	test_append_race();
	test_rename_over_open();
	test_large_offset();
	test_truncate();
	test_stat();
	test_chmod_chown_utimes();
	test_mkdir_rmdir_unlink();
	test_rename();
	test_links();
	test_mknod();
	test_readdir();
	test_xattr();
	test_access_statfs();
	test_fallocate();
	test_seek_data_hole();
	test_copy_file_range();
	test_locks();
	test_locks_owner_gone();
	test_sync_mmap();
	if (uid_tests && geteuid() == 0) {
		test_permissions();
		test_acl();
		test_setid_cleared();
	}
	else if (uid_tests)
		tl_skip("permission checks as uid 1000/2000", "not root");

	tl_rm_rf(work);
	tl_rm_rf(probe);
	tl_check("work directory removed", !exists(work), "still there");
	return tl_done();
}
