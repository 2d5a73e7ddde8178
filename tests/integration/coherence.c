// SPDX-License-Identifier: GPL-2.0
/*
 * coherence - changes made directly in the backing directory become
 * visible through the mount (fusebpfd's backing watch, backing_watch.c).
 *
 *   coherence MNT --backing DIR [--bound-ms N] [--label L]
 *             [--expect-stale] [--stress N] [--daemon-pid PID]
 *
 * Run it against a mount with long cache timeouts (run-host.sh uses
 * entry_timeout=30,attr_timeout=30), so that only the daemon's
 * invalidations can make a change visible in time. Each case first gets
 * the mount to cache what it will change (lookup, stat, listing, pages of
 * an open file), then changes the backing directly (create, write,
 * truncate, chmod, chown, utimes, rename within/across directories and
 * over a cached name, unlink, mkdir, rmdir, hard link, symlink) and polls
 * the mount until every path involved looks as it does in the backing
 * (type, mode, owner, size, links, inode, mtime, content, link target,
 * directory listing). Each case must become visible within --bound-ms
 * (default 500); the maximum and median measured staleness are printed.
 *
 * --expect-stale: the mount runs without the watch (watch_backing=off);
 * then most cases must stay stale past the bound, which shows that this
 * test can fail.
 *
 * --stress N: N random backing-side changes while a reader walks the
 * mount; afterwards the whole tree through the mount must equal the
 * backing (within a generous 10 s), and the daemon's RSS (--daemon-pid)
 * must not have grown by more than 64 MiB.
 *
 * --own-changes: changes made through the mount leave the attributes the
 * kernel holds valid (the daemon drops its own events); not on a mount
 * whose queue may overflow, which rightly invalidates everything.
 *
 * --policy-move: the mount enforces examples/android-storage.policy
 * (owner-only Android/data/<pkg>). A photo app 10002 has read in DCIM is
 * moved, in the backing, into app 10001's Android/data directory: app
 * 10002 must lose it through its old, cached name within the bound (with
 * --expect-stale: without the watch it still reads it after twice the
 * bound, which is the leak the watch closes).
 */
#include <dirent.h>
#include <linux/fuse.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "testlib.h"

#define POLL_MAX_MS		5000	/* how long a change is waited for */
#define CONVERGE_MAX_MS		10000	/* stress: the whole tree */
#define RSS_GROWTH_MAX_KB	(64 * 1024)
#define MAX_CASES		32
#define STRESS_DIRS		8
#define STRESS_NAMES		48

struct ctx {
	const char *mnt, *back, *label;
	int bound_ms;
	bool expect_stale;
	double lat[MAX_CASES];
	int nlat;
	int stale;	/* cases not visible within the bound */
	int cases;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void must(int err, const char *what)
{
	if (err)
		tl_die("%s: %s", what, strerror(err));
}

#define MUST(expr) must(TL_ERR(expr), #expr)

/* sorted names of a directory, "\n"-separated; NULL if it cannot be read */
static char *listing(const char *dir)
{
	struct dirent **names;
	size_t len = 1;
	char *out;
	int n = scandir(dir, &names, NULL, alphasort);

	if (n < 0)
		return NULL;
	for (int i = 0; i < n; i++)
		len += strlen(names[i]->d_name) + 1;
	out = calloc(1, len);
	for (int i = 0; out && i < n; i++) {
		strcat(out, names[i]->d_name);
		strcat(out, "\n");
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return out;
}

/*
 * Does @rel look the same through the mount as in the backing? If not,
 * @why says what differs.
 */
static bool same(const struct ctx *c, const char *rel, char *why, size_t len)
{
	const char *m = tl_path("%s/%s", c->mnt, rel);
	const char *b = tl_path("%s/%s", c->back, rel);
	struct stat ms, bs;
	int me = TL_ERR(lstat(m, &ms)), be = TL_ERR(lstat(b, &bs));

	if (me || be) {
		snprintf(why, len, "%s: mount %s, backing %s", rel,
			 tl_errname(me), tl_errname(be));
		return me == be;
	}
#define DIFF(field, fmt)						\
	if (ms.field != bs.field) {					\
		snprintf(why, len, "%s: " #field " " fmt " through the mount, " \
			 fmt " in the backing", rel, ms.field, bs.field); \
		return false;						\
	}
	DIFF(st_ino, "%lu");
	DIFF(st_mode, "%o");
	DIFF(st_uid, "%u");
	DIFF(st_gid, "%u");
	DIFF(st_nlink, "%lu");
	DIFF(st_size, "%ld");
	DIFF(st_mtim.tv_sec, "%ld");
	DIFF(st_mtim.tv_nsec, "%ld");
#undef DIFF
	if (S_ISLNK(bs.st_mode)) {
		char mt[PATH_MAX] = "", bt[PATH_MAX] = "";

		if (readlink(m, mt, sizeof(mt) - 1) < 0 ||
		    readlink(b, bt, sizeof(bt) - 1) < 0 || strcmp(mt, bt)) {
			snprintf(why, len, "%s: link target '%s', backing '%s'",
				 rel, mt, bt);
			return false;
		}
	} else if (S_ISREG(bs.st_mode) && bs.st_size <= 65536) {
		static char mbuf[65536], bbuf[65536];
		ssize_t mn = tl_read_file(m, mbuf, sizeof(mbuf));
		ssize_t bn = tl_read_file(b, bbuf, sizeof(bbuf));

		if (mn != bn || (mn > 0 && memcmp(mbuf, bbuf, mn))) {
			snprintf(why, len, "%s: content differs (%zd bytes through the mount, %zd in the backing)",
				 rel, mn, bn);
			return false;
		}
	} else if (S_ISDIR(bs.st_mode)) {
		char *ml = listing(m), *bl = listing(b);
		bool eq = ml && bl && !strcmp(ml, bl);

		if (!eq)
			snprintf(why, len, "%s: listing differs", rel);
		free(ml);
		free(bl);
		return eq;
	}
	return true;
}

/* Every path of @rels (NULL-terminated) and the open file @fd, if any */
static bool all_same(const struct ctx *c, const char *const *rels, int fd,
		     const char *fd_rel, char *why, size_t len)
{
	for (; *rels; rels++)
		if (!same(c, *rels, why, len))
			return false;
	if (fd >= 0) {
		char mbuf[4096], bbuf[4096];
		ssize_t mn = pread(fd, mbuf, sizeof(mbuf), 0);
		ssize_t bn = tl_read_file(tl_path("%s/%s", c->back, fd_rel),
					  bbuf, sizeof(bbuf));

		if (mn != bn || (mn > 0 && memcmp(mbuf, bbuf, mn))) {
			snprintf(why, len, "%s: pages of the open file differ from the backing",
				 fd_rel);
			return false;
		}
	}
	return true;
}

/*
 * Touches every path through the mount so that the kernel caches it. A
 * read or a listing invalidates the cached atime, so the attributes are
 * fetched once more at the end: each path is then cached as a whole.
 */
static void prime(const struct ctx *c, const char *const *rels)
{
	struct stat st;
	char why[256];

	for (const char *const *r = rels; *r; r++)
		same(c, *r, why, sizeof(why));
	for (const char *const *r = rels; *r; r++)
		lstat(tl_path("%s/%s", c->mnt, *r), &st);
}

/*
 * Polls until the mount shows the change made at @t0; records the case.
 * In --expect-stale mode it polls only to twice the bound.
 */
static void settle(struct ctx *c, const char *name, double t0,
		   const char *const *rels, int fd, const char *fd_rel)
{
	int limit = c->expect_stale ? 2 * c->bound_ms : POLL_MAX_MS;
	char why[512] = "", label[128];
	double ms;
	bool ok;

	while (!(ok = all_same(c, rels, fd, fd_rel, why, sizeof(why))) &&
	       now_ms() - t0 < limit)
		sleep_ms(1);
	ms = now_ms() - t0;
	c->cases++;
	snprintf(label, sizeof(label), "%s: %s visible through the mount",
		 c->label, name);
	if (!ok || ms > c->bound_ms)
		c->stale++;
	if (c->expect_stale) {
		printf("# %s: %s after %.1f ms%s%s\n", name,
		       ok && ms <= c->bound_ms ? "visible" : "still stale",
		       ms, ok ? "" : ": ", ok ? "" : why);
		return;
	}
	if (ok && c->nlat < MAX_CASES)
		c->lat[c->nlat++] = ms;
	tl_check(label, ok && ms <= c->bound_ms, "%s after %.1f ms (bound %d ms)%s%s",
		 ok ? "visible only" : "still stale", ms, c->bound_ms,
		 ok ? "" : ": ", why);
}

static void put(const struct ctx *c, const char *rel, const char *content)
{
	must(tl_write_file(tl_path("%s/%s", c->back, rel), content,
			   strlen(content), 0644), rel);
}

static const char *bk(const struct ctx *c, const char *rel)
{
	return tl_path("%s/%s", c->back, rel);
}

/* ---- the cases: set up, prime, change the backing, settle ---- */

static void run_cases(struct ctx *c)
{
	double t0;
	int fd;

	MUST(mkdir(bk(c, "t"), 0755));

	/* create: the directory's mtime, links and listing change */
	MUST(mkdir(bk(c, "t/create"), 0755));
	prime(c, (const char *[]){ "t/create", NULL });
	t0 = now_ms();
	put(c, "t/create/new", "new file\n");
	settle(c, "create", t0, (const char *[]){ "t/create", "t/create/new", NULL },
	       -1, NULL);

	put(c, "t/write", "hello\n");
	prime(c, (const char *[]){ "t/write", NULL });
	t0 = now_ms();
	put(c, "t/write", "hello, world: longer now\n");
	settle(c, "write", t0, (const char *[]){ "t/write", NULL }, -1, NULL);

	/* pages the kernel holds for a file open through the mount */
	put(c, "t/open", "AAAAAAAAAAAAAAAA\n");
	fd = open(tl_path("%s/t/open", c->mnt), O_RDONLY);
	if (fd < 0)
		tl_die("open through the mount: %s", strerror(errno));
	prime(c, (const char *[]){ "t/open", NULL });
	all_same(c, (const char *[]){ NULL }, fd, "t/open", (char[8]){ 0 }, 8);
	t0 = now_ms();
	{
		int wfd = open(bk(c, "t/open"), O_WRONLY);

		if (wfd < 0 || pwrite(wfd, "BBBB", 4, 4) != 4)
			tl_die("write t/open: %s", strerror(errno));
		close(wfd);
	}
	settle(c, "write to a file open through the mount", t0,
	       (const char *[]){ NULL }, fd, "t/open");
	close(fd);

	put(c, "t/trunc", "some bytes to cut\n");
	prime(c, (const char *[]){ "t/trunc", NULL });
	t0 = now_ms();
	MUST(truncate(bk(c, "t/trunc"), 4));
	settle(c, "truncate", t0, (const char *[]){ "t/trunc", NULL }, -1, NULL);

	put(c, "t/chmod", "x\n");
	prime(c, (const char *[]){ "t/chmod", NULL });
	t0 = now_ms();
	MUST(chmod(bk(c, "t/chmod"), 0600));
	settle(c, "chmod", t0, (const char *[]){ "t/chmod", NULL }, -1, NULL);

	put(c, "t/chown", "x\n");
	prime(c, (const char *[]){ "t/chown", NULL });
	t0 = now_ms();
	MUST(chown(bk(c, "t/chown"), 1000, 1000));
	settle(c, "chown", t0, (const char *[]){ "t/chown", NULL }, -1, NULL);

	put(c, "t/utimes", "x\n");
	prime(c, (const char *[]){ "t/utimes", NULL });
	t0 = now_ms();
	MUST(utimes(bk(c, "t/utimes"), (struct timeval[2]){ { 1000000, 0 },
							     { 1000000, 0 } }));
	settle(c, "utimes", t0, (const char *[]){ "t/utimes", NULL }, -1, NULL);

	MUST(mkdir(bk(c, "t/ren"), 0755));
	put(c, "t/ren/a", "renamed\n");
	prime(c, (const char *[]){ "t/ren", "t/ren/a", "t/ren/b", NULL });
	t0 = now_ms();
	MUST(rename(bk(c, "t/ren/a"), bk(c, "t/ren/b")));
	settle(c, "rename within a directory", t0,
	       (const char *[]){ "t/ren/a", "t/ren/b", "t/ren", NULL }, -1, NULL);

	MUST(mkdir(bk(c, "t/from"), 0755));
	MUST(mkdir(bk(c, "t/to"), 0755));
	put(c, "t/from/f", "moving\n");
	prime(c, (const char *[]){ "t/from", "t/to", "t/from/f", "t/to/f", NULL });
	t0 = now_ms();
	MUST(rename(bk(c, "t/from/f"), bk(c, "t/to/f")));
	settle(c, "rename across directories", t0,
	       (const char *[]){ "t/from/f", "t/to/f", "t/from", "t/to", NULL },
	       -1, NULL);

	MUST(mkdir(bk(c, "t/over"), 0755));
	put(c, "t/over/new", "the replacement\n");
	put(c, "t/over/old", "the original\n");
	prime(c, (const char *[]){ "t/over", "t/over/new", "t/over/old", NULL });
	t0 = now_ms();
	MUST(rename(bk(c, "t/over/new"), bk(c, "t/over/old")));
	settle(c, "rename over a cached name", t0,
	       (const char *[]){ "t/over/new", "t/over/old", "t/over", NULL },
	       -1, NULL);

	MUST(mkdir(bk(c, "t/unl"), 0755));
	put(c, "t/unl/f", "doomed\n");
	prime(c, (const char *[]){ "t/unl", "t/unl/f", NULL });
	t0 = now_ms();
	MUST(unlink(bk(c, "t/unl/f")));
	settle(c, "unlink", t0, (const char *[]){ "t/unl/f", "t/unl", NULL },
	       -1, NULL);

	MUST(mkdir(bk(c, "t/hl"), 0755));
	put(c, "t/hl/a", "two names\n");
	MUST(link(bk(c, "t/hl/a"), bk(c, "t/hl/b")));
	prime(c, (const char *[]){ "t/hl", "t/hl/a", "t/hl/b", NULL });
	t0 = now_ms();
	MUST(unlink(bk(c, "t/hl/a")));
	settle(c, "unlink of one of two hard links", t0,
	       (const char *[]){ "t/hl/a", "t/hl/b", "t/hl", NULL }, -1, NULL);

	MUST(mkdir(bk(c, "t/mk"), 0755));
	prime(c, (const char *[]){ "t/mk", "t/mk/sub", NULL });
	t0 = now_ms();
	MUST(mkdir(bk(c, "t/mk/sub"), 0700));
	settle(c, "mkdir", t0, (const char *[]){ "t/mk/sub", "t/mk", NULL },
	       -1, NULL);

	MUST(mkdir(bk(c, "t/rm"), 0755));
	MUST(mkdir(bk(c, "t/rm/sub"), 0755));
	prime(c, (const char *[]){ "t/rm", "t/rm/sub", NULL });
	t0 = now_ms();
	MUST(rmdir(bk(c, "t/rm/sub")));
	settle(c, "rmdir", t0, (const char *[]){ "t/rm/sub", "t/rm", NULL },
	       -1, NULL);

	MUST(mkdir(bk(c, "t/ln"), 0755));
	put(c, "t/ln/f", "linked\n");
	prime(c, (const char *[]){ "t/ln", "t/ln/f", "t/ln/g", NULL });
	t0 = now_ms();
	MUST(link(bk(c, "t/ln/f"), bk(c, "t/ln/g")));
	settle(c, "hard link", t0, (const char *[]){ "t/ln/f", "t/ln/g", "t/ln", NULL },
	       -1, NULL);

	MUST(mkdir(bk(c, "t/sl"), 0755));
	prime(c, (const char *[]){ "t/sl", "t/sl/s", NULL });
	t0 = now_ms();
	MUST(symlink("some/target", bk(c, "t/sl/s")));
	settle(c, "symlink", t0, (const char *[]){ "t/sl/s", "t/sl", NULL },
	       -1, NULL);

	/* a directory renamed away and replaced by another */
	MUST(mkdir(bk(c, "t/dswap"), 0755));
	MUST(mkdir(bk(c, "t/dswap/d"), 0755));
	put(c, "t/dswap/d/f", "in the old directory\n");
	prime(c, (const char *[]){ "t/dswap", "t/dswap/d", "t/dswap/d/f", NULL });
	t0 = now_ms();
	MUST(rename(bk(c, "t/dswap/d"), bk(c, "t/dswap/old")));
	MUST(mkdir(bk(c, "t/dswap/d"), 0711));
	settle(c, "directory renamed and replaced", t0,
	       (const char *[]){ "t/dswap/d", "t/dswap/d/f", "t/dswap/old",
				 "t/dswap/old/f", "t/dswap", NULL }, -1, NULL);
}

/*
 * Changes made through the mount: the daemon makes them in the backing
 * itself, and drops their events (the kernel learnt them from its
 * replies), so the attributes the kernel holds stay valid: no GETATTR
 * when they are read again (through an O_PATH fd, which also keeps the
 * inode from being reclaimed meanwhile).
 */
static void own_changes(struct ctx *c)
{
	const char *m = tl_path("%s/t/own", c->mnt);
	struct tl_counters before, after;
	uint64_t getattr;
	struct stat st;
	int fd;

	put(c, "t/own", "changed through the mount\n");
	sleep_ms(100);	/* the watch has handled that backing-side create */
	fd = open(m, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		tl_die("open %s: %s", m, strerror(errno));
	MUST(fstat(fd, &st));
	MUST(chmod(m, 0640));
	MUST(chown(m, 1000, 1000));
	MUST(truncate(m, 3));
	MUST(utimes(m, (struct timeval[2]){ { 2000000, 0 }, { 2000000, 0 } }));
	sleep_ms(100);	/* the watch has read their events meanwhile */
	if (tl_counters_read(c->mnt, &before)) {
		tl_skip(tl_path("%s: own changes", c->label),
			"no request counters for %s", c->mnt);
		close(fd);
		return;
	}
	for (int i = 0; i < 3; i++)
		MUST(fstat(fd, &st));
	tl_counters_read(c->mnt, &after);
	close(fd);
	getattr = tl_counters_delta(&before, &after, FUSE_GETATTR);
	tl_check(tl_path("%s: changes made through the mount keep the kernel's attributes (own events dropped)",
			 c->label), getattr == 0,
		 "%ju GETATTR requests for 3 stats", (uintmax_t)getattr);
	tl_check(tl_path("%s: and those attributes are the backing's", c->label),
		 same(c, "t/own", (char[256]){ 0 }, 256), "they differ");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(struct ctx *c)
{
	if (c->expect_stale) {
		tl_check(tl_path("%s: without the watch, changes stay stale past %d ms",
				 c->label, c->bound_ms),
			 c->stale * 2 >= c->cases,
			 "only %d of %d cases were stale: the test could not fail",
			 c->stale, c->cases);
		printf("# %s: %d of %d changes still stale after %d ms without the watch\n",
		       c->label, c->stale, c->cases, 2 * c->bound_ms);
		return;
	}
	if (!c->nlat)
		return;
	qsort(c->lat, c->nlat, sizeof(*c->lat), cmp_double);
	printf("# %s: staleness over %d backing-side changes: max %.1f ms, median %.1f ms (bound %d ms)\n",
	       c->label, c->nlat, c->lat[c->nlat - 1], c->lat[c->nlat / 2],
	       c->bound_ms);
}

/* ---- a move into an owner-only directory (--policy-move) ---- */

static int read_as(void *path)
{
	char buf[256];
	ssize_t n = tl_read_file(path, buf, sizeof(buf));

	return n < 0 ? -n : 0;
}

static void policy_move(struct ctx *c)
{
	const struct tl_user app1 = { 10001, 10001, 0, { 0 } };
	const struct tl_user app2 = { 10002, 10002, 0, { 0 } };
	const char *old = tl_path("%s/DCIM/photo.jpg", c->mnt);
	const char *priv = tl_path("%s/Android/data/com.example.app1/photo.jpg",
				   c->mnt);
	int limit = c->expect_stale ? 2 * c->bound_ms : POLL_MAX_MS, err;
	double t0, ms;

	MUST(mkdir(bk(c, "Android"), 0755));
	MUST(mkdir(bk(c, "Android/data"), 0755));
	MUST(mkdir(bk(c, "Android/data/com.example.app1"), 0755));
	MUST(chown(bk(c, "Android/data/com.example.app1"), 10001, 10001));
	MUST(mkdir(bk(c, "DCIM"), 0777));
	put(c, "DCIM/photo.jpg", "app1's photo\n");
	MUST(chown(bk(c, "DCIM/photo.jpg"), 10001, 10001));
	tl_check_errno(tl_path("%s: app 10002 reads DCIM/photo.jpg", c->label),
		       tl_as_user(&app2, read_as, (void *)old), 0);
	t0 = now_ms();
	MUST(rename(bk(c, "DCIM/photo.jpg"),
		    bk(c, "Android/data/com.example.app1/photo.jpg")));
	while ((err = tl_as_user(&app2, read_as, (void *)old)) == 0 &&
	       now_ms() - t0 < limit)
		sleep_ms(1);
	ms = now_ms() - t0;
	if (c->expect_stale) {
		tl_check(tl_path("%s: without the watch, app 10002 still reads the photo moved into app 10001's directory",
				 c->label), err == 0,
			 "%s after %.1f ms: the test could not fail",
			 tl_errname(err), ms);
		printf("# %s: app 10002 %s the moved photo through its old name %.0f ms after the move\n",
		       c->label, err ? "lost" : "still reads", ms);
		return;
	}
	tl_check(tl_path("%s: photo moved into app 10001's directory: app 10002 loses it through its cached name",
			 c->label), err == ENOENT && ms <= c->bound_ms,
		 "%s after %.1f ms (bound %d ms)", tl_errname(err), ms,
		 c->bound_ms);
	printf("# %s: app 10002 lost the moved photo %.1f ms after the move\n",
	       c->label, ms);
	tl_check_errno(tl_path("%s: app 10002 cannot read it at its new place",
			       c->label),
		       tl_as_user(&app2, read_as, (void *)priv), ENOENT);
	tl_check_errno(tl_path("%s: app 10001 reads it at its new place",
			       c->label),
		       tl_as_user(&app1, read_as, (void *)priv), 0);
}

/* ---- stress ---- */

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Walks @dir through the mount: listings, stats, contents */
static void walk(const char *dir, int depth)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char buf[4096];

	if (!dp)
		return;
	while ((de = readdir(dp))) {
		char p[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth < 4)
			walk(p, depth + 1);
		else if (S_ISREG(st.st_mode))
			tl_read_file(p, buf, sizeof(buf));
	}
	closedir(dp);
}

/* Mismatches between the mount and the backing below @rel (recursive) */
static int compare_tree(const struct ctx *c, const char *rel, char *why,
			size_t len)
{
	char *names = listing(tl_path("%s/%s", c->back, rel));
	int bad = 0;

	if (!same(c, rel, why, len))
		bad++;
	for (char *name = names, *nl; name && *name; name = nl + 1) {
		char child[PATH_MAX];
		struct stat st;

		nl = strchr(name, '\n');
		*nl = '\0';
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", rel, name);
		if (!lstat(tl_path("%s/%s", c->back, child), &st) &&
		    S_ISDIR(st.st_mode))
			bad += compare_tree(c, child, bad ? (char[512]){ 0 } : why,
					    bad ? 512 : len);
		else if (!same(c, child, bad ? (char[512]){ 0 } : why,
			       bad ? 512 : len))
			bad++;
	}
	free(names);
	return bad;
}

static void stress_change(const struct ctx *c, struct tl_rng *r)
{
	char a[PATH_MAX], b[PATH_MAX], data[4096];
	int da = tl_rng_below(r, STRESS_DIRS), na = tl_rng_below(r, STRESS_NAMES);
	int db = tl_rng_below(r, STRESS_DIRS), nb = tl_rng_below(r, STRESS_NAMES);
	struct stat st;
	size_t n;

	snprintf(a, sizeof(a), "%s/s/d%d/n%d", c->back, da, na);
	snprintf(b, sizeof(b), "%s/s/d%d/n%d", c->back, db, nb);
	if (lstat(a, &st)) {
		switch (tl_rng_below(r, 4)) {
		case 0:
			mkdir(a, 0755);
			break;
		case 1:
			symlink("target", a);
			break;
		default:
			n = tl_rng_below(r, sizeof(data));
			tl_fill(data, n, tl_rng_next(r));
			tl_write_file(a, data, n, 0644);
		}
		return;
	}
	switch (tl_rng_below(r, 8)) {
	case 0:
		if (S_ISDIR(st.st_mode))
			rmdir(a);	/* only when empty */
		else
			unlink(a);
		break;
	case 1:
		rename(a, b);
		break;
	case 2:
		if (!S_ISDIR(st.st_mode))
			link(a, b);
		break;
	case 3:
		chmod(a, 0600 | tl_rng_below(r, 0100));
		break;
	case 4:
		lchown(a, tl_rng_below(r, 3) * 1000, tl_rng_below(r, 3) * 1000);
		break;
	default:
		if (S_ISREG(st.st_mode)) {
			int fd = open(a, O_WRONLY);

			n = tl_rng_below(r, sizeof(data));
			tl_fill(data, n, tl_rng_next(r));
			if (fd >= 0) {
				if (pwrite(fd, data, n, tl_rng_below(r, 2048)) < 0 ||
				    ftruncate(fd, tl_rng_below(r, 4096)) < 0)
					perror("stress write");
				close(fd);
			}
		} else if (S_ISDIR(st.st_mode)) {
			tl_write_file(tl_path("%s/f%d", a, nb), "inner\n", 6,
				      0644);
		}
	}
}

static void stress(struct ctx *c, int changes, pid_t daemon)
{
	long rss0 = daemon ? rss_kb(daemon) : -1, rss1;
	struct tl_rng r;
	char why[512] = "";
	double t0, ms;
	pid_t reader;
	int bad;

	tl_rng_seed(&r, 13);
	MUST(mkdir(bk(c, "s"), 0755));
	for (int i = 0; i < STRESS_DIRS; i++)
		MUST(mkdir(tl_path("%s/s/d%d", c->back, i), 0755));
	reader = fork();
	if (reader == 0) {
		for (;;)
			walk(tl_path("%s/s", c->mnt), 0);
	}
	for (int i = 0; i < changes; i++)
		stress_change(c, &r);
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	/* quiescence: the last events are in flight; the tree must converge */
	t0 = now_ms();
	while ((bad = compare_tree(c, "s", why, sizeof(why))) &&
	       now_ms() - t0 < CONVERGE_MAX_MS)
		sleep_ms(20);
	ms = now_ms() - t0;
	tl_check(tl_path("%s: after %d backing-side changes under a reader, the mount equals the backing",
			 c->label, changes), !bad,
		 "%d paths still differ after %.0f ms, e.g. %s", bad, ms, why);
	printf("# %s: stress of %d changes: mount equal to the backing %.0f ms after the last change\n",
	       c->label, changes, ms);
	if (!daemon)
		return;
	rss1 = rss_kb(daemon);
	tl_check(tl_path("%s: daemon RSS bounded under %d backing-side changes",
			 c->label, changes),
		 rss0 > 0 && rss1 > 0 && rss1 - rss0 < RSS_GROWTH_MAX_KB,
		 "RSS %ld kB -> %ld kB", rss0, rss1);
	printf("# %s: daemon RSS %ld kB before the stress, %ld kB after\n",
	       c->label, rss0, rss1);
}

int main(int argc, char **argv)
{
	struct ctx c = { .bound_ms = 500, .label = "coherence" };
	int stress_changes = 0;
	bool move = false, own = false;
	pid_t daemon = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--backing") && i + 1 < argc)
			c.back = argv[++i];
		else if (!strcmp(argv[i], "--bound-ms") && i + 1 < argc)
			c.bound_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--label") && i + 1 < argc)
			c.label = argv[++i];
		else if (!strcmp(argv[i], "--stress") && i + 1 < argc)
			stress_changes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--daemon-pid") && i + 1 < argc)
			daemon = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--expect-stale"))
			c.expect_stale = true;
		else if (!strcmp(argv[i], "--policy-move"))
			move = true;
		else if (!strcmp(argv[i], "--own-changes"))
			own = true;
		else if (!c.mnt && argv[i][0] != '-')
			c.mnt = argv[i];
		else
			tl_die("usage: coherence MNT --backing DIR [--bound-ms N] [--label L] [--expect-stale] [--stress N] [--daemon-pid PID] [--policy-move] [--own-changes]");
	}
	if (!c.mnt || !c.back)
		tl_die("usage: coherence MNT --backing DIR [...]");
	if (geteuid() != 0)
		tl_die("needs root (chown in the backing)");
	tl_rm_rf(bk(&c, "t"));
	tl_rm_rf(bk(&c, "s"));
	if (move) {
		tl_rm_rf(bk(&c, "Android"));
		tl_rm_rf(bk(&c, "DCIM"));
		policy_move(&c);
		tl_rm_rf(bk(&c, "Android"));
		tl_rm_rf(bk(&c, "DCIM"));
		return tl_done();
	}
	run_cases(&c);
	report(&c);
	if (own && !c.expect_stale)
		own_changes(&c);
	if (stress_changes && !c.expect_stale)
		stress(&c, stress_changes, daemon);
	tl_rm_rf(bk(&c, "t"));
	tl_rm_rf(bk(&c, "s"));
	return tl_done();
}
