// SPDX-License-Identifier: GPL-2.0
/*
 * The example embedder (examples/media-indexer) under a random sequence
 * of operations made through its mount by several uids:
 *
 *   media_indexer --indexer BIN --dir SCRATCH [--mode M] [--loop]
 *                 [--ops N] [--seed S] [--no-events]
 *
 * Builds a tree in SCRATCH/backing (every directory 0777, so mode bits
 * never refuse anything: only the indexer's grants do), starts the
 * indexer on SCRATCH/mnt with the decided subtree Pictures and grants
 * 10001 w Pictures/app1, 10002 w Pictures/app2, 10001 r Pictures/shared,
 * 10002 w Pictures/shared (10003 has none, root passes), then runs N
 * random operations (create+write, append, truncate, mkdir, rmdir,
 * unlink, rename, link, symlink, stat, listing) as uids 0, 10001, 10002,
 * 10003. Checks:
 *  - every operation the grants allow succeeds, every one they refuse
 *    fails (EACCES or ENOENT) and leaves the backing as it was;
 *  - listings of the decided directories show exactly what the caller
 *    may see;
 *  - the index (SQLite, table media) equals the media files of the tree
 *    (path, size, mtime, type), within 5 s (RELEASE is asynchronous);
 *  - the events the indexer got are numbered 1..n without a gap, and
 *    there is one per successful create, mkdir, rmdir, unlink, rename,
 *    link, symlink and truncate;
 *  - SIGTERM ends the indexer (status 0) and unmounts.
 * --no-events (mode bpf: the kernel performs the ops and libfusebpf
 * does not get their events there yet): the index and event checks are
 * skipped, the grants are checked.
 * Needs root (uid switches, policy maps).
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/time.h>

#include <sqlite3.h>

#include "testlib.h"

/* paths here are short and made by this test: truncation cannot happen */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define MAX_PATHS	4096
#define PATH_LEN	512

static char backing[PATH_MAX], mnt[PATH_MAX], dbfile[PATH_MAX];
static const char *const fixed_dirs[] = {
	"DCIM", "DCIM/Camera", "Pictures", "Pictures/app1", "Pictures/app2",
	"Pictures/shared", "Music",
};
static const uid_t uids[] = { 0, 10001, 10002, 10003 };
static const char *const exts[] = { "jpg", "png", "mp4", "mp3", "txt", "JPG" };

static const struct {
	uid_t uid;
	const char *prefix;
	char mode;
} grants[] = {
	{ 10001, "Pictures/app1", 'w' },
	{ 10002, "Pictures/app2", 'w' },
	{ 10001, "Pictures/shared", 'r' },
	{ 10002, "Pictures/shared", 'w' },
};

/* ---- the grants, as the indexer should apply them ---- */

static bool at_or_below(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(path, top, n) && (!path[n] || path[n] == '/');
}

static char grant_of(uid_t uid, const char *path)
{
	char best = 0;

	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
		if (grants[i].uid == uid && at_or_below(path, grants[i].prefix) &&
		    grants[i].mode > best)
			best = grants[i].mode;
	return best;
}

static bool may_see(uid_t uid, const char *path)
{
	if (uid == 0 || !at_or_below(path, "Pictures") || grant_of(uid, path) ||
	    !strcmp(path, "Pictures"))
		return true;
	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
		if (grants[i].uid == uid && at_or_below(grants[i].prefix, path))
			return true;
	return false;
}

static bool may_write(uid_t uid, const char *path)
{
	return uid == 0 || !at_or_below(path, "Pictures") ||
	       grant_of(uid, path) == 'w';
}

static void dir_of(const char *path, char *dir)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		dir[0] = '\0';
	else
		snprintf(dir, PATH_LEN, "%.*s", (int)(slash - path), path);
}

/* every component on the way visible, the last one included */
static bool path_visible(uid_t uid, const char *path)
{
	char part[PATH_LEN];

	for (const char *p = path; (p = strchr(p, '/')); p++) {
		snprintf(part, sizeof(part), "%.*s", (int)(p - path), path);
		if (!may_see(uid, part))
			return false;
	}
	return may_see(uid, path);
}

/* a new entry @path (or removing it): its directory and itself writable */
static bool may_change(uid_t uid, const char *path)
{
	char dir[PATH_LEN];

	dir_of(path, dir);
	return path_visible(uid, dir) && may_write(uid, dir) &&
	       may_write(uid, path);
}

/* ---- the tree ---- */

struct tree {
	char files[MAX_PATHS][PATH_LEN];	/* regular files, not symlinks */
	size_t nfiles;
	char dirs[MAX_PATHS][PATH_LEN];
	size_t ndirs;
	char others[MAX_PATHS][PATH_LEN];	/* symlinks */
	size_t nothers;
};

static void walk(struct tree *t, const char *rel)
{
	char path[PATH_MAX], sub[PATH_LEN];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", backing, rel);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel,
				     *rel ? "/" : "", de->d_name) >= sizeof(sub))
			continue;
		snprintf(path, sizeof(path), "%s/%s", backing, sub);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode) && t->ndirs < MAX_PATHS) {
			strcpy(t->dirs[t->ndirs++], sub);
			walk(t, sub);
		} else if (S_ISREG(st.st_mode) && t->nfiles < MAX_PATHS) {
			strcpy(t->files[t->nfiles++], sub);
		} else if (t->nothers < MAX_PATHS) {
			strcpy(t->others[t->nothers++], sub);
		}
	}
	if (d)
		closedir(d);
}

static void scan(struct tree *t)
{
	t->nfiles = t->ndirs = t->nothers = 0;
	walk(t, "");
}

static bool is_fixed(const char *dir)
{
	for (size_t i = 0; i < sizeof(fixed_dirs) / sizeof(fixed_dirs[0]); i++)
		if (!strcmp(dir, fixed_dirs[i]))
			return true;
	return false;
}

static bool dir_empty(const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", backing, rel);
	d = opendir(path);
	while (d && (de = readdir(d)))
		n++;
	if (d)
		closedir(d);
	return n == 2;
}

static nlink_t links_of(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", backing, rel);
	return lstat(path, &st) ? 0 : st.st_nlink;
}

/* ---- operations as a uid ---- */

enum op {
	OP_CREATE, OP_APPEND, OP_TRUNCATE, OP_MKDIR, OP_RMDIR, OP_UNLINK,
	OP_RENAME, OP_LINK, OP_SYMLINK, OP_STAT, NR_OPS,
};
static const char *const op_names[] = {
	"create", "append", "truncate", "mkdir", "rmdir", "unlink", "rename",
	"link", "symlink", "stat",
};
/* successes per op, to compare with the events */
static unsigned int done[NR_OPS];

static int do_op(enum op op, const char *a, const char *b, long n)
{
	char pa[PATH_MAX], pb[PATH_MAX], buf[256];
	struct stat st;
	int fd, err = 0;

	snprintf(pa, sizeof(pa), "%s/%s", mnt, a);
	snprintf(pb, sizeof(pb), "%s/%s", mnt, b ? b : "");
	memset(buf, 'x', sizeof(buf));
	switch (op) {
	case OP_CREATE:
	case OP_APPEND:
		fd = open(pa, op == OP_CREATE ? O_WRONLY | O_CREAT | O_EXCL :
			  O_WRONLY | O_APPEND, 0666);
		if (fd < 0)
			return errno;
		if (write(fd, buf, n % sizeof(buf) + 1) < 0)
			err = errno;
		if (close(fd) && !err)
			err = errno;
		return err;
	case OP_TRUNCATE:
		return truncate(pa, n) ? errno : 0;
	case OP_MKDIR:
		return mkdir(pa, 0777) ? errno : 0;
	case OP_RMDIR:
		return rmdir(pa) ? errno : 0;
	case OP_UNLINK:
		return unlink(pa) ? errno : 0;
	case OP_RENAME:
		return rename(pa, pb) ? errno : 0;
	case OP_LINK:
		return link(pa, pb) ? errno : 0;
	case OP_SYMLINK:
		return symlink("target", pa) ? errno : 0;
	case OP_STAT:
		return lstat(pa, &st) ? errno : 0;
	default:
		return EINVAL;
	}
}

static int as_uid(uid_t uid, enum op op, const char *a, const char *b, long n)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(126);
		umask(0);
		_exit(do_op(op, a, b, n));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* names listed in @rel through the mount, as @uid, vs. what it may see */
static void check_listing(uid_t uid, const char *rel, const struct tree *t)
{
	char name[80], path[PATH_MAX], want[8192] = "", got[8192] = "";
	int pipefd[2], status;
	pid_t pid;
	ssize_t n = 0;

	snprintf(name, sizeof(name), "listing of %s as %u", rel, uid);
	/* the expectation: direct children the uid may see */
	for (size_t i = 0; i < t->ndirs + t->nfiles + t->nothers; i++) {
		const char *p = i < t->ndirs ? t->dirs[i] :
				i < t->ndirs + t->nfiles ? t->files[i - t->ndirs] :
				t->others[i - t->ndirs - t->nfiles];
		char dir[PATH_LEN];

		dir_of(p, dir);
		if (!strcmp(dir, rel) && may_see(uid, p) &&
		    strlen(want) + strlen(p) + 2 < sizeof(want))
			strcat(strcat(want, strrchr(p, '/') + 1), " ");
	}
	if (pipe(pipefd)) {
		tl_fail(name, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct dirent **list;
		int k;

		close(pipefd[0]);
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(126);
		snprintf(path, sizeof(path), "%s/%s", mnt, rel);
		k = scandir(path, &list, NULL, NULL);
		for (int i = 0; i < k; i++)
			if (strcmp(list[i]->d_name, ".") &&
			    strcmp(list[i]->d_name, ".."))
				dprintf(pipefd[1], "%s\n", list[i]->d_name);
		_exit(k < 0);
	}
	close(pipefd[1]);
	for (size_t off = 0; off < sizeof(got) - 1; off += n) {
		n = read(pipefd[0], got + off, sizeof(got) - 1 - off);
		if (n <= 0) {
			got[off] = '\0';
			break;
		}
	}
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	/* a directory the uid may not see: not listed at all */
	if (!path_visible(uid, rel)) {
		tl_check(name, WIFEXITED(status) && WEXITSTATUS(status) == 1,
			 "listed: [%s]", got);
		return;
	}
	/* same set: every wanted name listed, and as many */
	{
		int nwant = 0, ngot = 0;
		bool all = true;
		char *save = NULL, copy[8192];

		for (char *s = got; *s; s++)
			ngot += *s == '\n';
		strcpy(copy, want);
		for (char *w = strtok_r(copy, " ", &save); w;
		     w = strtok_r(NULL, " ", &save)) {
			char line[300];

			nwant++;
			snprintf(line, sizeof(line), "%s\n", w);
			if (!strstr(got, line))	/* names are unique here */
				all = false;
		}
		tl_check(name, all && nwant == ngot && WIFEXITED(status) &&
			 !WEXITSTATUS(status), "want [%s] got [%s]", want, got);
	}
}

/* ---- the index ---- */

struct row {
	char path[PATH_LEN];
	long long size, mtime;
	char type[8];
};

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot)
		return NULL;
	if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".png"))
		return "image";
	if (!strcasecmp(dot, ".mp4"))
		return "video";
	if (!strcasecmp(dot, ".mp3"))
		return "audio";
	return NULL;
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->path, ((const struct row *)b)->path);
}

static size_t tree_rows(struct row *rows)
{
	struct tree *t = malloc(sizeof(*t));
	char path[PATH_MAX];
	struct stat st;
	size_t n = 0;

	scan(t);
	for (size_t i = 0; i < t->nfiles; i++) {
		const char *type = type_of(t->files[i]);

		snprintf(path, sizeof(path), "%s/%s", backing, t->files[i]);
		if (!type || lstat(path, &st))
			continue;
		snprintf(rows[n].path, PATH_LEN, "%s", t->files[i]);
		rows[n].size = st.st_size;
		rows[n].mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		snprintf(rows[n].type, sizeof(rows[n].type), "%s", type);
		n++;
	}
	free(t);
	qsort(rows, n, sizeof(*rows), cmp_row);
	return n;
}

static size_t db_rows(sqlite3 *db, struct row *rows)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT path, size, mtime_ns, type FROM media ORDER BY path",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	while (n < MAX_PATHS && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(rows[n].path, PATH_LEN, "%s", sqlite3_column_text(st, 0));
		rows[n].size = sqlite3_column_int64(st, 1);
		rows[n].mtime = sqlite3_column_int64(st, 2);
		snprintf(rows[n].type, sizeof(rows[n].type), "%s",
			 sqlite3_column_text(st, 3));
		n++;
	}
	sqlite3_finalize(st);
	qsort(rows, n, sizeof(*rows), cmp_row);
	return n;
}

/* the first difference, in @why; true if none */
static bool index_matches(sqlite3 *db, char *why, size_t len)
{
	static struct row want[MAX_PATHS], got[MAX_PATHS];
	size_t nw = tree_rows(want), ng = db_rows(db, got);

	for (size_t i = 0; i < nw || i < ng; i++) {
		if (i >= nw || i >= ng || strcmp(want[i].path, got[i].path) ||
		    want[i].size != got[i].size || want[i].mtime != got[i].mtime ||
		    strcmp(want[i].type, got[i].type)) {
			snprintf(why, len, "tree %zu files, index %zu; at %zu: tree %s %lld %lld, index %s %lld %lld",
				 nw, ng, i, i < nw ? want[i].path : "-",
				 i < nw ? want[i].size : 0, i < nw ? want[i].mtime : 0,
				 i < ng ? got[i].path : "-", i < ng ? got[i].size : 0,
				 i < ng ? got[i].mtime : 0);
			return false;
		}
	}
	snprintf(why, len, "%zu files", nw);
	return true;
}

static long long db_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static long long events_of(sqlite3 *db, const char *type)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = '%s'", type);
	return db_count(db, sql);
}

/* ---- the indexer ---- */

static pid_t start_indexer(const char *bin, const char *mode, bool loop)
{
	char line[128] = "";
	int pipefd[2];
	struct pollfd pfd;
	ssize_t n = 0;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(bin, bin, backing, mnt, "--db", dbfile, "--decide", "Pictures",
		      "--grant", "10001:Pictures/app1:w", "--grant", "10002:Pictures/app2:w",
		      "--grant", "10001:Pictures/shared:r", "--grant", "10002:Pictures/shared:w",
		      "--mode", mode, loop ? "--loop" : NULL, NULL);
		_exit(127);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 30000) == 1)
		n = read(pipefd[0], line, sizeof(line) - 1);
	close(pipefd[0]);
	line[n > 0 ? n : 0] = '\0';
	if (strncmp(line, "ready ", 6)) {
		printf("# indexer did not get ready: '%s'\n", line);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	printf("# indexer pid %d: %s", pid, line);
	return pid;
}

static void make_tree(void)
{
	char path[PATH_MAX];
	static const char *const files[] = {
		"DCIM/Camera/pre1.jpg", "DCIM/notes.txt", "Pictures/app1/old.png",
		"Pictures/app2/old.mp4", "Pictures/shared/s.jpg", "Music/song.mp3",
	};

	for (size_t i = 0; i < sizeof(fixed_dirs) / sizeof(fixed_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", backing, fixed_dirs[i]);
		mkdir(path, 0777);
		chmod(path, 0777);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", backing, files[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (fd >= 0) {
			if (write(fd, path, i + 3) < 0)
				perror(path);
			fchmod(fd, 0666);
			close(fd);
		}
	}
}

/* ---- one random step ---- */

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

static void fresh_name(const char *dir, char *out)
{
	static unsigned int k;

	snprintf(out, PATH_LEN, "%s%sf%u.%s", dir, *dir ? "/" : "", ++k,
		 exts[rnd(sizeof(exts) / sizeof(exts[0]))]);
}

static unsigned int wrong_grants, denied_ok, allowed_ok;

static void step(struct tree *t, int i)
{
	uid_t uid = uids[rnd(sizeof(uids) / sizeof(uids[0]))];
	enum op op = rnd(NR_OPS);
	char a[PATH_LEN] = "", b[PATH_LEN] = "", dir[PATH_LEN], name[PATH_LEN * 2 + 80];
	const char *d2;
	bool allowed;
	long n = rnd(5000);
	int err;

	scan(t);
	d2 = t->dirs[rnd(t->ndirs)];
	switch (op) {
	case OP_CREATE:
	case OP_MKDIR:
	case OP_SYMLINK:
		fresh_name(d2, a);
		allowed = may_change(uid, a);
		break;
	case OP_APPEND:
	case OP_TRUNCATE:
	case OP_UNLINK:
	case OP_STAT:
	case OP_LINK:
		if (!t->nfiles)
			return;
		strcpy(a, t->files[rnd(t->nfiles)]);
		/* one name per written file: see the indexer's limits */
		if ((op == OP_APPEND || op == OP_TRUNCATE) && links_of(a) > 1)
			return;
		if (op == OP_STAT) {
			allowed = path_visible(uid, a);
		} else if (op == OP_UNLINK) {
			allowed = may_change(uid, a);
		} else if (op == OP_LINK) {
			struct stat st;
			char pa[PATH_MAX];

			/*
			 * in the same directory: the decisions on an inode
			 * follow its first name (a link elsewhere would be
			 * judged by the policy where that is); and the
			 * caller's own file (fs.protected_hardlinks)
			 */
			snprintf(pa, sizeof(pa), "%s/%s", backing, a);
			if (lstat(pa, &st) || (uid && st.st_uid != uid))
				return;
			dir_of(a, dir);
			fresh_name(dir, b);
			allowed = path_visible(uid, a) && may_write(uid, a) &&
				  may_change(uid, b);
		} else {
			dir_of(a, dir);
			allowed = path_visible(uid, a) && may_write(uid, a);
		}
		break;
	case OP_RMDIR:
		strcpy(a, t->dirs[rnd(t->ndirs)]);
		if (is_fixed(a) || !dir_empty(a))
			return;
		allowed = may_change(uid, a);
		break;
	case OP_RENAME:
		if (rnd(3) == 0) {
			strcpy(a, t->dirs[rnd(t->ndirs)]);
			if (is_fixed(a) || at_or_below(d2, a))
				return;
		} else if (t->nfiles) {
			strcpy(a, t->files[rnd(t->nfiles)]);
			/* decisions follow an inode, not each of its names */
			if (links_of(a) > 1)
				return;
		} else {
			return;
		}
		fresh_name(d2, b);
		allowed = may_change(uid, a) && may_change(uid, b);
		break;
	default:
		return;
	}
	err = as_uid(uid, op, a, b[0] ? b : NULL, n);
	snprintf(name, sizeof(name), "op %d: %s %s%s%s as %u", i, op_names[op], a,
		 b[0] ? " -> " : "", b, uid);
	if (allowed && err == 0) {
		allowed_ok++;
		done[op]++;
		return;
	}
	if (!allowed && (err == EACCES || err == ENOENT)) {
		denied_ok++;
		return;
	}
	wrong_grants++;
	tl_fail(name, "got %s, the grants %s it", tl_errname(err),
		allowed ? "allow" : "refuse");
}

int main(int argc, char **argv)
{
	const char *bin = NULL, *dir = NULL, *mode = "userspace";
	unsigned int ops = 300, seed = 0;
	struct tree *t = malloc(sizeof(*t));
	char why[1024];
	bool loop = false, same = false, no_events = false;
	sqlite3 *db = NULL;
	long long nev;
	int status;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--indexer") && i + 1 < argc)
			bin = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--loop"))
			loop = true;
		else if (!strcmp(argv[i], "--no-events"))
			no_events = true;
		else
			dir = NULL, bin = NULL, i = argc;
	}
	if (!bin || !dir || !t) {
		fprintf(stderr, "usage: media_indexer --indexer BIN --dir SCRATCH [--mode M] [--loop] [--ops N] [--seed S]\n");
		return 2;
	}
	if (!seed) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		seed = tv.tv_usec ^ getpid();
	}
	srandom(seed);
	printf("# seed %u (--seed %u repeats this run), %u operations\n", seed, seed, ops);
	umask(0);
	snprintf(backing, sizeof(backing), "%s/backing", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(dbfile, sizeof(dbfile), "%s/index.db", dir);
	mkdir(dir, 0755);
	mkdir(backing, 0777);
	chmod(backing, 0777);
	mkdir(mnt, 0755);
	unlink(dbfile);
	make_tree();

	pid = start_indexer(bin, mode, loop);
	tl_check("the indexer mounts", pid > 0, "see its output above");
	if (pid <= 0)
		goto out;
	if (sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		tl_fail("open the index", "%s", sqlite3_errmsg(db));
		goto stop;
	}
	sqlite3_busy_timeout(db, 5000);
	tl_check("the start-up scan indexed the tree",
		 index_matches(db, why, sizeof(why)), "%s", why);

	for (unsigned int i = 0; i < ops; i++) {
		step(t, i);
		if (i % 50 == 49) {
			scan(t);
			for (size_t u = 0; u < sizeof(uids) / sizeof(uids[0]); u++) {
				check_listing(uids[u], "Pictures", t);
				check_listing(uids[u], "Pictures/app1", t);
			}
		}
	}
	tl_check("operations as the grants say", wrong_grants == 0,
		 "%u wrong (above)", wrong_grants);
	printf("# %u allowed ops succeeded, %u refused ops failed\n", allowed_ok,
	       denied_ok);
	tl_check("some ops were refused, some allowed", allowed_ok > ops / 4 &&
		 denied_ok > 0, "allowed %u, refused %u", allowed_ok, denied_ok);

	if (no_events) {
		tl_skip("index == tree", "--no-events");
		tl_skip("events", "--no-events");
		goto stop;
	}
	/* RELEASE (close after write) is asynchronous: up to 5 s */
	for (int tries = 0; tries < 50 && !same; tries++) {
		same = index_matches(db, why, sizeof(why));
		if (!same)
			usleep(100000);
	}
	tl_check("index == tree", same, "%s", why);
	nev = db_count(db, "SELECT count(*) FROM events");
	tl_check("events numbered 1..n without gaps", nev > 0 &&
		 db_count(db, "SELECT min(seq) FROM events") == 1 &&
		 db_count(db, "SELECT max(seq) FROM events") == nev,
		 "%lld events, seq %lld..%lld", nev,
		 db_count(db, "SELECT min(seq) FROM events"),
		 db_count(db, "SELECT max(seq) FROM events"));
	tl_check("no overflow", events_of(db, "overflow") == 0, "%lld",
		 events_of(db, "overflow"));
	{
		static const struct {
			enum op op;
			const char *type;
		} once[] = {
			{ OP_CREATE, "create" }, { OP_MKDIR, "mkdir" },
			{ OP_RMDIR, "rmdir" }, { OP_UNLINK, "unlink" },
			{ OP_RENAME, "rename" }, { OP_LINK, "link" },
			{ OP_SYMLINK, "symlink" }, { OP_TRUNCATE, "truncate" },
		};

		for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
			char nm[64];

			snprintf(nm, sizeof(nm), "one %s event per %s",
				 once[i].type, op_names[once[i].op]);
			tl_check(nm, events_of(db, once[i].type) == done[once[i].op],
				 "%lld events, %u ops", events_of(db, once[i].type),
				 done[once[i].op]);
		}
		tl_check("at most one close_write per create or append",
			 events_of(db, "close_write") <= done[OP_CREATE] + done[OP_APPEND] &&
			 events_of(db, "close_write") > 0,
			 "%lld events, %u ops", events_of(db, "close_write"),
			 done[OP_CREATE] + done[OP_APPEND]);
	}
stop:
	kill(pid, SIGTERM);
	for (int tries = 0; tries < 100; tries++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(100000);
		if (tries == 99) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	tl_check("SIGTERM ends the indexer cleanly", WIFEXITED(status) &&
		 WEXITSTATUS(status) == 0, "status %#x", status);
	tl_check("and unmounts", tl_stat_err(mnt) == 0 &&
		 umount2(mnt, MNT_DETACH) != 0, "still mounted");
out:
	if (db)
		sqlite3_close(db);
	free(t);
	printf("%d passed, %d failed\n", tl_passed, tl_failed);
	return tl_failed ? 1 : 0;
}
