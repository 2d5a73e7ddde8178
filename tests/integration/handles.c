// SPDX-License-Identifier: GPL-2.0
/*
 * handles - file handle export and inode-number reuse on a mount.
 *
 *   handles MOUNT BACKING [--reuse-tries N] [--walk-files N]
 *
 * MOUNT is a FUSE mount of BACKING (root needed: open_by_handle_at wants
 * CAP_DAC_READ_SEARCH, drop_caches wants root).
 * (a) FUSE_EXPORT_SUPPORT: name_to_handle_at on the mount, drop the kernel
 *     caches, open_by_handle_at with a mount fd returns the same file (same
 *     st_ino and content); also for a directory and after a rename; a
 *     handle of a deleted file gives ESTALE.
 * (b) Handles are data: every single-byte modification of a handle gives
 *     ESTALE/EINVAL and never another file; a handle of the backing fs for
 *     a file outside BACKING, and FUSE-typed handles built from that file's
 *     inode number, never open that file through the mount.
 * (c) Inode-number reuse: a file seen through the mount is deleted behind
 *     the kernel's back (in BACKING), files are created in BACKING until
 *     the backing fs hands out the same inode number, and the mount must
 *     tell old and new apart: distinct (nodeid, generation) handles, the
 *     old name and old handle never reach the new file. Same with the old
 *     file kept open through the mount (old fd keeps old content).
 *     If the backing fs never reuses the number, the check is a SKIP.
 * (d) File descriptors stay bounded: with the daemon's open-file limit
 *     lowered to 4096 (prlimit), two stat walks through the mount over
 *     100,000 files (made in BACKING) see every file, and the daemon
 *     never holds more than 3/4 of the limit (--walk-files N to resize).
 * (e) Memory per inode does not grow with depth: 1,000 nested directories
 *     of 200-byte names made through the mount add less than 10 MiB to
 *     the daemon's VmRSS (a full path kept per inode costs ~100 MB).
 */
#include <dirent.h>
#include <stddef.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>

#include "testlib.h"

#define HANDLE_MAX 128

struct fh {
	union {
		struct file_handle h;
		unsigned char raw[sizeof(struct file_handle) + HANDLE_MAX];
	};
};

/* The handle bytes, reached without indexing the zero-length array. */
#define FHB(fhp) ((fhp)->raw + offsetof(struct file_handle, f_handle))

static char mnt[PATH_MAX / 2], back[PATH_MAX / 2];
static char mwork[PATH_MAX], bwork[PATH_MAX];	/* MOUNT/BACKING handles.<pid> */
static int mount_fd = -1;
static long reuse_tries = 2000;
static long walk_files = 100000;

#define M(name) tl_path("%s/%s", mwork, name)
#define B(name) tl_path("%s/%s", bwork, name)

static int get_handle(const char *path, struct fh *fh)
{
	int mount_id;

	fh->h.handle_bytes = HANDLE_MAX;
	return TL_ERR(name_to_handle_at(AT_FDCWD, path, &fh->h, &mount_id, 0));
}

static bool same_handle(struct fh *a, struct fh *b)
{
	return a->h.handle_type == b->h.handle_type &&
	       a->h.handle_bytes == b->h.handle_bytes &&
	       !memcmp(FHB(a), FHB(b), a->h.handle_bytes);
}

static void handle_str(struct fh *fh, char *out, size_t len)
{
	int n = snprintf(out, len, "type %d:", fh->h.handle_type);

	for (unsigned int i = 0; i < fh->h.handle_bytes && n + 3 < (int)len; i++)
		n += snprintf(out + n, len - n, "%02x", FHB(fh)[i]);
}

/* Opens a handle through the mount: fd, or -errno. */
static int open_handle(struct fh *fh, int flags)
{
	int fd = open_by_handle_at(mount_fd, &fh->h, flags);

	return fd < 0 ? -errno : fd;
}

static bool fd_content_is(int fd, const char *s)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	return n == (ssize_t)strlen(s) && !memcmp(buf, s, n);
}

static void test_export(void)
{
	struct fh fh, dfh, lfh;
	struct stat st, st2;
	int fd;

	tl_write_file(M("exp"), "exported content", 16, 0644);
	mkdir(M("expdir"), 0755);
	tl_write_file(M("expdir/child"), "c", 1, 0644);
	stat(M("exp"), &st);
	tl_check_errno("name_to_handle_at on the mount", get_handle(M("exp"), &fh),
		       0);
	tl_check_errno("name_to_handle_at on a mount directory",
		       get_handle(M("expdir"), &dfh), 0);
	tl_check_errno("drop_caches", tl_drop_caches(), 0);
	fd = open_handle(&fh, O_RDONLY);
	tl_check_errno("open_by_handle_at after drop_caches", fd < 0 ? -fd : 0, 0);
	if (fd >= 0) {
		fstat(fd, &st2);
		tl_check("handle opens the same file (st_ino, content)",
			 st2.st_ino == st.st_ino &&
			 fd_content_is(fd, "exported content"),
			 "got ino %ju expected %ju", (uintmax_t)st2.st_ino,
			 (uintmax_t)st.st_ino);
		close(fd);
	}
	tl_drop_caches();
	fd = open_handle(&dfh, O_RDONLY | O_DIRECTORY);
	tl_check_errno("open_by_handle_at directory after drop_caches",
		       fd < 0 ? -fd : 0, 0);
	if (fd >= 0) {
		tl_check("directory handle: child reachable from it",
			 !fstatat(fd, "child", &st2, 0) && st2.st_size == 1,
			 "fstatat child: %s", tl_errname(errno));
		close(fd);
	}

	/* a handle survives a rename of its file */
	rename(M("exp"), M("expdir/renamed"));
	tl_drop_caches();
	fd = open_handle(&fh, O_RDONLY);
	tl_check("handle still opens the file after rename + drop_caches",
		 fd >= 0 && fd_content_is(fd, "exported content"), "got %s",
		 fd < 0 ? tl_errname(-fd) : "other content");
	if (fd >= 0)
		close(fd);

	/* a handle names the inode, not its first name */
	tl_write_file(M("hl_a"), "hardlinked", 10, 0644);
	link(M("hl_a"), M("hl_b"));
	if (get_handle(M("hl_a"), &lfh)) {
		tl_fail("handle of a hard-linked file", "%s", tl_errname(errno));
	} else {
		unlink(M("hl_a"));
		tl_drop_caches();
		fd = open_handle(&lfh, O_RDONLY);
		tl_check("handle opens the file after its first link is removed",
			 fd >= 0 && fd_content_is(fd, "hardlinked"), "got %s",
			 fd < 0 ? tl_errname(-fd) : "other content");
		if (fd >= 0)
			close(fd);
	}
	/*
	 * ... also when the name it was last looked up by goes and another
	 * link stays: hl_d is made by link(), then hl_c is looked up again
	 */
	tl_write_file(M("hl_c"), "linked too", 10, 0644);
	link(M("hl_c"), M("hl_d"));
	tl_drop_caches();
	if (lstat(M("hl_c"), &st2) || get_handle(M("hl_c"), &lfh)) {
		tl_fail("handle of a file looked up by its first link", "%s",
			tl_errname(errno));
	} else {
		unlink(M("hl_c"));
		tl_drop_caches();
		fd = open_handle(&lfh, O_RDONLY);
		tl_check("handle opens the file after the name it was last looked up by is removed",
			 fd >= 0 && fd_content_is(fd, "linked too"), "got %s",
			 fd < 0 ? tl_errname(-fd) : "other content");
		if (fd >= 0)
			close(fd);
	}
	/* renamed in BACKING, behind the mount's back */
	tl_write_file(M("behind"), "moved behind", 12, 0644);
	if (get_handle(M("behind"), &lfh)) {
		tl_fail("handle of a file renamed in BACKING", "%s",
			tl_errname(errno));
	} else {
		tl_drop_caches();
		rename(B("behind"), B("expdir/behind-moved"));
		fd = open_handle(&lfh, O_RDONLY);
		tl_check("handle opens a file renamed in BACKING meanwhile",
			 fd >= 0 && fd_content_is(fd, "moved behind"), "got %s",
			 fd < 0 ? tl_errname(-fd) : "other content");
		if (fd >= 0)
			close(fd);
	}

	/* a handle of a deleted file is stale */
	unlink(M("expdir/renamed"));
	tl_drop_caches();
	fd = open_handle(&fh, O_RDONLY);
	tl_check_errno("handle of a deleted file: ESTALE", fd < 0 ? -fd : 0,
		       ESTALE);
	if (fd >= 0)
		close(fd);
}

/* Opens a modified handle; fails the check if it opens anything but ESTALE. */
static void test_forged(void)
{
	int bad_other = 0, same = 0, rejected = 0, other_err = 0, last_err = 0;
	char desc[512] = "", hs[256];
	struct stat st, st2;
	struct fh fh, mod;
	int fd;

	/* neighbours, so that a nearby nodeid exists */
	for (int i = 0; i < 8; i++)
		tl_write_file(M(tl_path("neigh%d", i)), "neighbour", 9, 0644);
	tl_write_file(M("target"), "the target", 10, 0644);
	for (int i = 8; i < 16; i++)
		tl_write_file(M(tl_path("neigh%d", i)), "neighbour", 9, 0644);
	stat(M("target"), &st);
	if (get_handle(M("target"), &fh)) {
		tl_fail("forged handles", "name_to_handle_at: %s",
			tl_errname(errno));
		return;
	}
	handle_str(&fh, hs, sizeof(hs));
	printf("# handle of target: %s\n", hs);
	for (unsigned int i = 0; i < fh.h.handle_bytes; i++) {
		static const unsigned char flips[] = { 0x01, 0x02, 0x10, 0x80, 0xff };

		for (size_t f = 0; f < sizeof(flips); f++) {
			mod = fh;
			FHB(&mod)[i] ^= flips[f];
			fd = open_handle(&mod, O_RDONLY);
			if (fd >= 0) {
				fstat(fd, &st2);
				if (st2.st_ino == st.st_ino &&
				    fd_content_is(fd, "the target")) {
					same++;
				} else {
					bad_other++;
					snprintf(desc, sizeof(desc),
						 "byte %u ^ 0x%02x opened ino %ju",
						 i, flips[f], (uintmax_t)st2.st_ino);
				}
				close(fd);
			} else if (-fd == ESTALE || -fd == EINVAL) {
				rejected++;
			} else {
				other_err++;
				last_err = -fd;
			}
		}
	}
	tl_check("byte-flipped handles never open another file", bad_other == 0,
		 "%d did, e.g. %s", bad_other, desc);
	tl_check("byte-flipped handles rejected with ESTALE/EINVAL",
		 same == 0 && other_err == 0,
		 "%d rejected, %d opened the same file, %d other errors (last %s)",
		 rejected, same, other_err, tl_errname(last_err));
	/* type and length are data too */
	mod = fh;
	mod.h.handle_type ^= 0x40;
	fd = open_handle(&mod, O_RDONLY);
	tl_check_errno2("handle with wrong type: ESTALE or EINVAL",
			fd < 0 ? -fd : 0, ESTALE, EINVAL);
	if (fd >= 0)
		close(fd);
	mod = fh;
	mod.h.handle_bytes = 4;
	fd = open_handle(&mod, O_RDONLY);
	tl_check_errno2("truncated handle: ESTALE or EINVAL", fd < 0 ? -fd : 0,
			ESTALE, EINVAL);
	if (fd >= 0)
		close(fd);
}

/*
 * A file of the backing fs outside BACKING must never be reachable through
 * the mount, whatever handle is presented.
 */
static void test_outside_root(void)
{
	char outside_dir[PATH_MAX], outside[PATH_MAX + 16], hs[256];
	struct fh bfh, forged;
	struct stat ost;
	unsigned int gen = 0;
	int fd, opened_outside = 0, tries = 0;
	char *slash;

	/* a sibling of BACKING, so on the same backing filesystem */
	snprintf(outside_dir, sizeof(outside_dir), "%s", back);
	slash = strrchr(outside_dir, '/');
	if (!slash || slash == outside_dir) {
		tl_skip("handle outside backing root", "BACKING has no parent");
		return;
	}
	snprintf(slash, sizeof(outside_dir) - (slash - outside_dir),
		 "/handles-outside.%d", getpid());
	mkdir(outside_dir, 0755);
	snprintf(outside, sizeof(outside), "%s/secret", outside_dir);
	tl_write_file(outside, "SECRET OUTSIDE", 14, 0644);
	stat(outside, &ost);
	fd = open(outside, O_RDONLY);
	if (fd >= 0) {
		if (ioctl(fd, FS_IOC_GETVERSION, &gen))
			gen = 0;
		close(fd);
	}
	if (get_handle(outside, &bfh)) {
		tl_skip("handle outside backing root", "backing fs has no handles");
		tl_rm_rf(outside_dir);
		return;
	}
	handle_str(&bfh, hs, sizeof(hs));
	printf("# backing handle of %s: %s\n", outside, hs);
	fd = open_handle(&bfh, O_RDONLY);
	tl_check_errno2("backing-fs handle of a file outside BACKING: ESTALE",
			fd < 0 ? -fd : 0, ESTALE, EINVAL);
	if (fd >= 0) {
		if (fd_content_is(fd, "SECRET OUTSIDE"))
			tl_fail("backing-fs handle opened the outside file", "leak");
		close(fd);
	}

	/*
	 * FUSE handles carry (nodeid, generation). Try nodeids a daemon could
	 * derive from the backing inode (its number, with its generation or
	 * 0), and the raw backing handle bytes retyped as a FUSE handle.
	 */
	{
		uint64_t ids[] = { ost.st_ino, ost.st_ino + 1, ost.st_ino - 1 };
		uint32_t gens[] = { gen, 0 };
		int types[] = { 0x81, 0x82 };

		for (size_t i = 0; i < 3; i++)
			for (size_t g = 0; g < 2; g++)
				for (size_t t = 0; t < 2; t++) {
					uint32_t w[6] = {
						(uint32_t)(ids[i] >> 32),
						(uint32_t)ids[i], gens[g],
						0, 1, 0 };

					forged.h.handle_type = types[t];
					forged.h.handle_bytes = t ? 24 : 12;
					memcpy(FHB(&forged), w, sizeof(w));
					fd = open_handle(&forged, O_RDONLY);
					tries++;
					if (fd >= 0) {
						if (fd_content_is(fd, "SECRET OUTSIDE"))
							opened_outside++;
						close(fd);
					}
				}
		forged = bfh;
		forged.h.handle_type = 0x81;
		fd = open_handle(&forged, O_RDONLY);
		tries++;
		if (fd >= 0) {
			if (fd_content_is(fd, "SECRET OUTSIDE"))
				opened_outside++;
			close(fd);
		}
	}
	tl_check("FUSE handles built from the outside file never open it",
		 opened_outside == 0, "%d of %d opened the outside file",
		 opened_outside, tries);
	tl_rm_rf(outside_dir);
}

/* Why a deleted backing file was not reused: who still holds it open. */
static const char *holder_of(const char *backing_path)
{
	static char why[PATH_MAX + 64];
	char want[PATH_MAX + 16], fdpath[320], target[PATH_MAX + 16];
	struct tl_counters c;
	struct dirent *de;
	DIR *d;

	snprintf(why, sizeof(why), "no fd on it found in the daemon");
	if (tl_counters_read(mnt, &c) || c.pid <= 0)
		return "daemon pid unknown";
	snprintf(want, sizeof(want), "%s (deleted)", backing_path);
	snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd", (int)c.pid);
	d = opendir(fdpath);
	if (!d)
		return "daemon fds unreadable";
	while ((de = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%s", (int)c.pid,
			 de->d_name);
		n = readlink(fdpath, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (!strcmp(target, want)) {
				snprintf(why, sizeof(why),
					 "daemon pid %d still holds it (fd %s)",
					 (int)c.pid, de->d_name);
				break;
			}
		}
	}
	closedir(d);
	return why;
}

/*
 * Creates files in BACKING until one gets inode number `want`. Returns the
 * index of that file or -1; the others are removed.
 */
static int create_until_reuse(ino_t want, const char *prefix)
{
	int found = -1, i;

	for (i = 0; i < reuse_tries && found < 0; i++) {
		const char *p = B(tl_path("%s%d", prefix, i));
		char content[64];
		struct stat st;

		snprintf(content, sizeof(content), "NEW-%s%d", prefix, i);
		if (tl_write_file(p, content, strlen(content), 0644))
			tl_die("create %s: %s", p, tl_errname(errno));
		if (!stat(p, &st) && st.st_ino == want)
			found = i;
		/* forgets reach the daemon asynchronously: let it unpin */
		if (i % 200 == 199) {
			nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
		}
	}
	for (int j = 0; j < i; j++)
		if (j != found)
			unlink(B(tl_path("%s%d", prefix, j)));
	return found;
}

/*
 * Makes the backing fs hand inode @ino of the removed @victim to a new
 * file (created by create_until_reuse with @prefix): its name and content
 * go to @newname/@want (64 bytes each). Reports a skip under @label and
 * returns false when the backing fs does not reuse it.
 */
static bool reuse_inode(const char *label, const char *victim, ino_t ino,
			const char *prefix, char *newname, char *want)
{
	int found = create_until_reuse(ino, prefix);

	if (found < 0) {
		tl_skip(label,
			"backing fs did not reuse inode %ju within %ld creates: %s",
			(uintmax_t)ino, reuse_tries, holder_of(B(victim)));
		return false;
	}
	printf("# backing inode %ju reused after %d creates\n",
	       (uintmax_t)ino, found + 1);
	snprintf(newname, 64, "%s%d", prefix, found);
	snprintf(want, 64, "NEW-%s%d", prefix, found);
	return true;
}

static void test_reuse_dentry(void)
{
	struct stat mst, bst, nst;
	struct fh old_fh, new_fh;
	char newname[64], want[64];
	int fd;

	tl_write_file(M("victim"), "OLD CONTENT", 11, 0644);
	sync();
	stat(M("victim"), &mst);	/* the kernel now caches dentry + inode */
	if (lstat(B("victim"), &bst)) {
		tl_fail("inode reuse (cached dentry)", "victim not in BACKING");
		return;
	}
	if (get_handle(M("victim"), &old_fh)) {
		tl_fail("inode reuse (cached dentry)", "name_to_handle_at: %s",
			tl_errname(errno));
		return;
	}
	/* deleted behind the kernel's back */
	unlink(B("victim"));
	if (strstr(holder_of(B("victim")), "still holds")) {
		/* while the kernel caches the inode the daemon may pin it */
		tl_skip("inode reuse (cached dentry)", "no reuse possible: %s",
			holder_of(B("victim")));
		return;
	}
	if (!reuse_inode("inode reuse (cached dentry)", "victim", bst.st_ino,
			 "r", newname, want))
		return;
	tl_check("new file reads its own content through the mount",
		 tl_file_equals(M(newname), want), "content differs");
	tl_check("new file's size through the mount",
		 !stat(M(newname), &nst) && nst.st_size == (off_t)strlen(want) &&
		 nst.st_nlink == 1, "size %jd nlink %ju", (intmax_t)nst.st_size,
		 (uintmax_t)nst.st_nlink);
	if (get_handle(M(newname), &new_fh)) {
		tl_fail("new file handle", "%s", tl_errname(errno));
	} else {
		char a[256], b[256];

		handle_str(&old_fh, a, sizeof(a));
		handle_str(&new_fh, b, sizeof(b));
		tl_check("old and new files have different (nodeid, generation)",
			 !same_handle(&old_fh, &new_fh), "both %s", a);
		printf("# old %s new %s\n", a, b);
	}
	fd = open(M("victim"), O_RDONLY);
	tl_check("old name never opens the new file",
		 fd < 0 || !fd_content_is(fd, want),
		 "old name shows the new file's content");
	tl_check_errno2("old name: ENOENT (or ESTALE)", fd < 0 ? errno : 0,
			ENOENT, ESTALE);
	if (fd >= 0)
		close(fd);
	fd = open_handle(&old_fh, O_RDONLY);
	tl_check("old handle never opens the new file",
		 fd < 0 || !fd_content_is(fd, want), "it does");
	/* the old FUSE inode may still be cached: its open may say ENOENT */
	tl_check_errno2("old handle: ESTALE (or ENOENT while cached)",
			fd < 0 ? -fd : 0, ESTALE, ENOENT);
	if (fd >= 0)
		close(fd);
	tl_drop_caches();
	fd = open_handle(&old_fh, O_RDONLY);
	tl_check_errno("old handle after drop_caches: ESTALE", fd < 0 ? -fd : 0,
		       ESTALE);
	if (fd >= 0)
		close(fd);
}

static void test_reuse_open_fd(void)
{
	struct stat bst, ost, nst;
	char newname[64], want[64];
	int old_fd;

	tl_write_file(M("kept"), "KEPT OPEN", 9, 0644);
	old_fd = open(M("kept"), O_RDONLY);
	lstat(B("kept"), &bst);
	unlink(M("kept"));
	if (strstr(holder_of(B("kept")), "still holds")) {
		tl_skip("inode reuse (old file kept open)", "no reuse possible: %s",
			holder_of(B("kept")));
		close(old_fd);
		return;
	}
	if (!reuse_inode("inode reuse (old file kept open)", "kept", bst.st_ino,
			 "k", newname, want)) {
		close(old_fd);
		return;
	}
	tl_check("old fd still reads old content", fd_content_is(old_fd, "KEPT OPEN"),
		 "old fd shows other content");
	tl_check("old fd: nlink 0, old size",
		 !fstat(old_fd, &ost) && ost.st_nlink == 0 && ost.st_size == 9,
		 "nlink %ju size %jd", (uintmax_t)ost.st_nlink,
		 (intmax_t)ost.st_size);
	tl_check("new file shows new content while old is open",
		 tl_file_equals(M(newname), want) && !stat(M(newname), &nst) &&
		 nst.st_nlink == 1, "content or nlink wrong");
	close(old_fd);
}

/*
 * The seed-000/001 case: a handle outlives the kernel's inode. Once the
 * kernel forgot the inode (drop_caches) the daemon may release the backing
 * inode, whose number the backing fs then hands to a new file. The old
 * handle must then be stale, not an alias of the new file.
 */
static void test_reuse_after_forget(void)
{
	struct fh old_fh, new_fh;
	char newname[64], want[64];
	struct stat bst;
	int fd;

	tl_write_file(M("forgotten"), "FORGOTTEN", 9, 0644);
	if (lstat(B("forgotten"), &bst) || get_handle(M("forgotten"), &old_fh)) {
		tl_fail("inode reuse (after forget)", "setup: %s",
			tl_errname(errno));
		return;
	}
	unlink(M("forgotten"));
	tl_drop_caches();
	if (!reuse_inode("inode reuse (after forget)", "forgotten", bst.st_ino,
			 "g", newname, want))
		return;
	tl_check("after forget: new file reads its own content",
		 tl_file_equals(M(newname), want), "content differs");
	if (get_handle(M(newname), &new_fh))
		tl_fail("after forget: new file handle", "%s", tl_errname(errno));
	else
		tl_check("after forget: old and new (nodeid, generation) differ",
			 !same_handle(&old_fh, &new_fh), "same handle");
	for (int round = 0; round < 2; round++) {
		fd = open_handle(&old_fh, O_RDONLY);
		tl_check(round ? "old handle never opens the new file (cached)" :
				 "old handle never opens the new file",
			 fd < 0 || !fd_content_is(fd, want), "it does");
		tl_check_errno(round ? "old handle: ESTALE (new file cached)" :
				       "old handle: ESTALE",
			       fd < 0 ? -fd : 0, ESTALE);
		if (fd >= 0)
			close(fd);
		/* second round: the new file's inode is in the kernel's cache */
		fd = open(M(newname), O_RDONLY);
		if (fd >= 0)
			close(fd);
		tl_drop_caches();
		fd = open(M(newname), O_RDONLY);
		if (round == 0 && fd >= 0) {
			fd_content_is(fd, want);
			close(fd);
		}
	}
}

#define WALK_DIRS	100
#define WALK_NOFILE	4096

/* how many fds @pid has open, -1 if unknown */
static int fd_count(pid_t pid)
{
	DIR *d = opendir(tl_path("/proc/%d/fd", (int)pid));
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The daemon serving the mount: its instance state, else the fusebpfd
 * process holding BACKING open.
 */
static pid_t daemon_pid(void)
{
	char real[PATH_MAX], target[PATH_MAX], comm[32];
	struct tl_counters c;
	struct dirent *pe;
	pid_t found = 0;
	DIR *proc;

	if (!tl_counters_read(mnt, &c) && c.pid > 0)
		return c.pid;
	if (!realpath(back, real) || !(proc = opendir("/proc")))
		return 0;
	while (!found && (pe = readdir(proc))) {
		pid_t pid = atoi(pe->d_name);
		struct dirent *fe;
		DIR *fds;
		FILE *f;

		if (pid <= 0)
			continue;
		f = fopen(tl_path("/proc/%d/comm", (int)pid), "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strcmp(comm, "fusebpfd\n"))
			continue;
		fds = opendir(tl_path("/proc/%d/fd", (int)pid));
		while (fds && !found && (fe = readdir(fds))) {
			ssize_t n = readlink(tl_path("/proc/%d/fd/%s", (int)pid,
						     fe->d_name),
					     target, sizeof(target) - 1);

			if (n > 0 && (target[n] = 0, !strcmp(target, real)))
				found = pid;
		}
		if (fds)
			closedir(fds);
	}
	closedir(proc);
	return found;
}

/* stats every file of the walk tree through the mount; files seen */
static long walk(const char *top, pid_t pid, int *max_fds, int *first_err)
{
	long seen = 0;

	for (int i = 0; i < WALK_DIRS; i++) {
		DIR *dh = opendir(tl_path("%s/d%d", top, i));
		struct dirent *de;
		struct stat st;
		int n;

		if (!dh) {
			if (!*first_err)
				*first_err = errno;
			continue;
		}
		while ((de = readdir(dh))) {
			if (de->d_name[0] == '.')
				continue;
			if (!fstatat(dirfd(dh), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
				seen++;
			else if (!*first_err)
				*first_err = errno;
		}
		closedir(dh);
		n = fd_count(pid);
		if (n > *max_fds)
			*max_fds = n;
	}
	return seen;
}

static void test_fd_bound(void)
{
	struct rlimit low = { WALK_NOFILE, WALK_NOFILE }, old;
	char btop[PATH_MAX + 8], mtop[PATH_MAX + 8];	/* tl_path's ring turns */
	long per_dir = walk_files / WALK_DIRS, seen;
	int max_fds = 0, err = 0;
	pid_t pid = daemon_pid();
	time_t start = time(NULL);

	if (pid <= 0) {
		tl_fail("fd bound", "daemon pid unknown");
		return;
	}
	snprintf(btop, sizeof(btop), "%s/walk", bwork);
	snprintf(mtop, sizeof(mtop), "%s/walk", mwork);
	if (mkdir(btop, 0755))
		tl_die("mkdir %s: %s", btop, tl_errname(errno));
	for (int i = 0; i < WALK_DIRS; i++) {
		char dir[PATH_MAX + 24];

		snprintf(dir, sizeof(dir), "%s/d%d", btop, i);
		if (mkdir(dir, 0755))
			tl_die("mkdir %s: %s", dir, tl_errname(errno));
		for (long j = 0; j < per_dir; j++)
			if (mknodat(AT_FDCWD, tl_path("%s/f%ld", dir, j),
				    S_IFREG | 0644, 0))
				tl_die("mknod in %s: %s", dir, tl_errname(errno));
	}
	printf("# %ld files made in BACKING in %lds\n", per_dir * WALK_DIRS,
	       (long)(time(NULL) - start));
	if (prlimit(pid, RLIMIT_NOFILE, &low, &old)) {
		tl_fail("fd bound: prlimit of the daemon", "%s", tl_errname(errno));
	} else {
		/* the second walk revalidates: lookups of dropped inodes */
		for (int round = 0; round < 2; round++) {
			err = 0;
			seen = walk(mtop, pid, &max_fds, &err);
			tl_check(tl_path("fd bound: walk %d of %ld files with RLIMIT_NOFILE %d sees every file",
					 round + 1, per_dir * WALK_DIRS, WALK_NOFILE),
				 seen == per_dir * WALK_DIRS && !err,
				 "%ld seen, first error %s", seen,
				 err ? tl_errname(err) : "none");
		}
		printf("# daemon fds: at most %d during the walks (%lds)\n",
		       max_fds, (long)(time(NULL) - start));
		tl_check("fd bound: the daemon's fds stay below 3/4 of its limit",
			 max_fds > 0 && max_fds <= WALK_NOFILE * 3 / 4,
			 "%d fds open", max_fds);
		prlimit(pid, RLIMIT_NOFILE, &old, NULL);
	}
	tl_rm_rf(btop);
	tl_drop_caches();
}

#define DEEP_LEVELS	1000
#define DEEP_NAME	200
#define DEEP_RSS_MAX_KB	(10 * 1024)

static long vm_rss_kb(pid_t pid)
{
	FILE *f = fopen(tl_path("/proc/%d/status", (int)pid), "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Removes a chain of nested @name directories below @top, deepest first. */
static void rm_chain(const char *top, const char *name)
{
	for (;;) {
		int fd = open(top, O_RDONLY | O_DIRECTORY), next, depth = 0;

		while (fd >= 0 &&
		       (next = openat(fd, name, O_RDONLY | O_DIRECTORY)) >= 0 &&
		       !faccessat(next, name, F_OK, AT_SYMLINK_NOFOLLOW)) {
			close(fd);
			fd = next;
			depth++;
		}
		if (fd < 0)
			return;
		if (next >= 0)
			close(next);
		/* fd: the parent of the deepest one */
		if (unlinkat(fd, name, AT_REMOVEDIR) || depth == 0) {
			close(fd);
			return;
		}
		close(fd);
	}
}

static void test_deep_tree(void)
{
	char name[DEEP_NAME + 1], top[PATH_MAX + 8];
	pid_t pid = daemon_pid();
	long before, after;
	int fd, next, made = 0;

	if (pid <= 0) {
		tl_fail("deep tree", "daemon pid unknown");
		return;
	}
	memset(name, 'n', DEEP_NAME);
	name[DEEP_NAME] = 0;
	snprintf(top, sizeof(top), "%s/deep", mwork);
	if (mkdir(top, 0755))
		tl_die("mkdir %s: %s", top, tl_errname(errno));
	before = vm_rss_kb(pid);
	fd = open(top, O_RDONLY | O_DIRECTORY);
	while (fd >= 0 && made < DEEP_LEVELS) {
		if (mkdirat(fd, name, 0755))
			break;
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		made += fd >= 0;
	}
	if (fd >= 0)
		close(fd);
	after = vm_rss_kb(pid);
	tl_check(tl_path("deep tree: %d nested dirs of %d-byte names made through the mount",
			 DEEP_LEVELS, DEEP_NAME),
		 made == DEEP_LEVELS, "%d made: %s", made, tl_errname(errno));
	printf("# daemon VmRSS %ld kB before, %ld kB after %d levels\n", before,
	       after, made);
	tl_check("deep tree: daemon memory grows by less than 10 MiB",
		 before > 0 && after - before < DEEP_RSS_MAX_KB,
		 "+%ld kB", after - before);
	rm_chain(tl_path("%s/deep", bwork), name);
	rmdir(tl_path("%s/deep", bwork));
	tl_drop_caches();
}

int main(int argc, char **argv)
{
	struct stat st;
	char *end;
	int pos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reuse-tries") && i + 1 < argc) {
			reuse_tries = strtol(argv[++i], &end, 0);
			if (*end || reuse_tries <= 0)
				goto usage;
		} else if (!strcmp(argv[i], "--walk-files") && i + 1 < argc) {
			walk_files = strtol(argv[++i], &end, 0);
			if (*end || walk_files < WALK_DIRS)
				goto usage;
		} else if (argv[i][0] != '-' && pos == 0) {
			snprintf(mnt, sizeof(mnt), "%s", argv[i]);
			pos++;
		} else if (argv[i][0] != '-' && pos == 1) {
			snprintf(back, sizeof(back), "%s", argv[i]);
			pos++;
		} else {
			goto usage;
		}
	}
	if (pos != 2)
		goto usage;
	if (geteuid() != 0) {
		fprintf(stderr, "handles: needs root (open_by_handle_at, drop_caches)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(mwork, sizeof(mwork), "%s/handles.%d", mnt, getpid());
	snprintf(bwork, sizeof(bwork), "%s/handles.%d", back, getpid());
	if (mkdir(mwork, 0755))
		tl_die("mkdir %s: %s", mwork, tl_errname(errno));
	if (stat(bwork, &st))
		tl_die("%s does not show %s: is MOUNT a mount of BACKING?", back,
		       mwork);
	mount_fd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (mount_fd < 0)
		tl_die("open %s: %s", mnt, tl_errname(errno));

	test_export();
	test_forged();
	test_outside_root();
	test_reuse_dentry();
	test_reuse_open_fd();
	test_reuse_after_forget();
	test_deep_tree();
	test_fd_bound();

	close(mount_fd);
	tl_rm_rf(mwork);
	return tl_done();
usage:
	fprintf(stderr, "usage: handles MOUNT BACKING [--reuse-tries N] [--walk-files N]\n");
	return 2;
}
