// SPDX-License-Identifier: GPL-2.0
/*
 * policy_suite - the policy engine, checked op by op as several uids.
 *
 *   policy_suite MOUNT --backing DIR --policy FILE --ctl FUSEBPFCTL
 *                --daemon FUSEBPFD [--casefold]
 *
 * MOUNT is a fusebpfd mount of DIR started with -o policy=FILE, FILE being
 * tests/integration/policy_suite.policy. The suite builds the tree those
 * rules name in DIR (removing what was there) and checks, with the same
 * expected results in every mode:
 *   - another app's directory is invisible (ENOENT on lookup, not listed),
 *     also while its owner holds the dentry in use (cwd inside) and after
 *     the owner just looked it up; the owner has full access; privileged
 *     uids (root, media 1023) see everything;
 *   - a read-only subtree gives EROFS on every mutating op, reads work
 *     (and in mode passthrough they send no READ to the daemon);
 *   - a hidden name is invisible to every uid its rule covers;
 *   - rules below an owner-only dir add to it and lift nothing;
 *   - an open file of one app passed to another: its metadata reads fail
 *     (ENOENT) as the lookup would;
 *   - `bpftool map update` on the pinned rules map flips a decision on the
 *     very next op, and back;
 *   - decisions taken by the daemon: denied counters, a served subtree
 *     whose reads reach the daemon, audit events in the ring buffer;
 *     changes to entries of directories the daemon lists are judged by
 *     the daemon (mode bpf: decision requests, FUSE_PREFILTER, and the
 *     kernel performs what the daemon allowed: no plain request);
 *   - hidden names are not listed in any kind of directory (listed by the
 *     daemon, or in mode bpf by the kernel, one and two levels below);
 *   - --casefold (BACKING on a casefolded ext4 directory, as Android's
 *     shared storage): every other spelling of a policy name gets the
 *     same decision (owner-only, hidden names and paths, read-only,
 *     served, audit), also ASCII-foreign ones (U+017F folds to "s"), in
 *     directories the daemon lists and, in mode bpf, those the kernel
 *     lists; a lookup through another spelling does not re-tag the inode;
 *   - bad policy files: file:line errors from `fusebpfctl policy check`,
 *     `policy load` and `fusebpfd -o policy=`, the running policy stays,
 *     nothing is mounted; a good `policy load` applies to cached inodes.
 */
#include <dirent.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/mman.h>
#include <time.h>

#include "fusebpf/policy.h"
#include "fusebpf/policy_compile.h"
#include "testlib.h"

static const char *mnt, *back, *policy_file, *ctl, *daemon_bin;
static char instance[FUSEBPF_INSTANCE_NAME_MAX];
static char pin_dir[PATH_MAX];
static enum fusebpf_mode mode;
static bool casefold;

static const struct tl_user ROOT = { 0, 0, 0, { 0 } };
static const struct tl_user MEDIA = { 1023, 1023, 0, { 0 } };
static const struct tl_user APP1 = { 10001, 10001, 0, { 0 } };
static const struct tl_user APP2 = { 10002, 10002, 0, { 0 } };

#define APP1_DIR "Android/data/com.app1"
#define APP2_DIR "Android/data/com.app2"
#define APP1_OBB "Android/obb/com.app1"
#define CAMERA "DCIM/Camera"
#define NEST APP1_DIR "/nest"	/* audit, then read-only ro/ below */

/* ---- the tree ---- */

static void make(const char *rel, mode_t m, uid_t uid, const char *content)
{
	const char *p = tl_path("%s/%s", back, rel);
	int err;

	if (content)
		err = tl_write_file(p, content, strlen(content), m);
	else
		err = mkdir(p, m) ? errno : 0;
	if (err || chmod(p, m) || chown(p, uid, uid))
		tl_die("cannot create %s: %s", p, strerror(err ? err : errno));
}

static void build_tree(void)
{
	const char *top[] = { "Android", "DCIM", "Music", "Download" };

	for (size_t i = 0; i < sizeof(top) / sizeof(*top); i++)
		tl_rm_rf(tl_path("%s/%s", back, top[i]));
	make("Android", 0755, 0, NULL);
	/* sticky and writable: apps may make their own dirs here */
	make("Android/data", 01777, 0, NULL);
	make("Android/obb", 0755, 0, NULL);
	/* 0755 and 0644: mode bits alone would let every uid in */
	make(APP1_DIR, 0755, 10001, NULL);
	make(APP1_DIR "/files", 0755, 10001, NULL);
	make(APP1_DIR "/files/notes.txt", 0644, 10001, "app1 notes\n");
	/* root's, 0777: its owner-only rule and owner come from com.app1 */
	make(NEST, 0777, 0, NULL);
	make(NEST "/n.txt", 0666, 0, "nested\n");
	make(NEST "/ro", 0777, 10001, NULL);
	make(NEST "/ro/r.txt", 0666, 10001, "read me\n");
	make(APP2_DIR, 0755, 10002, NULL);
	make(APP2_DIR "/save.dat", 0644, 10002, "level 3\n");
	make(APP1_OBB, 0755, 10001, NULL);
	make(APP1_OBB "/main.obb", 0644, 10001, "obb\n");
	make("Android/secret", 0755, 0, NULL);
	make("Android/secret/key", 0644, 0, "k\n");
	make("DCIM", 0777, 0, NULL);
	/* 0777/0666 owned by app1: only the policy can say EROFS */
	make(CAMERA, 0777, 10001, NULL);
	make(CAMERA "/IMG_1.jpg", 0666, 10001, "jpeg data\n");
	make(CAMERA "/sub", 0777, 10001, NULL);
	make("DCIM/.transforms", 0755, 1023, NULL);
	make("DCIM/.transforms/t.bin", 0644, 1023, "transcoded\n");
	make("Music", 0755, 0, NULL);
	make("Music/song.mp3", 0644, 0, "la la la\n");
	make("Download", 01777, 0, NULL);
	make("Download/free.txt", 0666, 10001, "free\n");
	/* no policy path below Download/: mode bpf lists these in the kernel */
	make("Download/sub", 0777, 10001, NULL);
	make("Download/sub/.transforms", 0755, 1023, NULL);
	make("Download/sub/deep", 0777, 10001, NULL);
	make("Download/sub/deep/.transforms", 0644, 1023, "t\n");
}

/* ---- one operation as some uid ---- */

enum op {
	OP_STAT, OP_LISTED, OP_READ, OP_OPEN_W, OP_OPEN_RW, OP_OPEN_TRUNC,
	OP_CREATE, OP_MKDIR, OP_RMDIR, OP_UNLINK, OP_RENAME, OP_LINK,
	OP_SYMLINK, OP_MKFIFO, OP_TRUNCATE, OP_CHMOD, OP_CHOWN, OP_UTIMES,
	OP_SETXATTR, OP_REMOVEXATTR, OP_WRITE_FILE,
	OP_FSTAT_FD, OP_FLISTXATTR_FD,	/* on passed_fd, opened by root */
};

static int passed_fd = -1;

struct op_arg {
	enum op op;
	const char *a, *b;	/* paths relative to the mount */
};

static const char *in_mnt(const char *rel)
{
	return tl_path("%s/%s", mnt, rel);
}

/* 0 if directory @dir lists @name, ENOENT if not, or the errno of opendir */
static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = ENOENT;

	if (!d)
		return errno;
	while ((de = readdir(d)))
		if (!strcmp(de->d_name, name))
			found = 0;
	closedir(d);
	return found;
}

static int do_op(void *p)
{
	const struct op_arg *o = p;
	const char *a = in_mnt(o->a), *b = o->b ? in_mnt(o->b) : NULL;
	struct stat st;
	char buf[256];
	int fd;

	switch (o->op) {
	case OP_STAT:
		return TL_ERR(lstat(a, &st));
	case OP_LISTED:
		return listed(a, o->b);
	case OP_READ: {
		ssize_t n = tl_read_file(a, buf, sizeof(buf));

		return n < 0 ? -n : 0;
	}
	case OP_OPEN_W:
	case OP_OPEN_RW:
	case OP_OPEN_TRUNC:
		fd = open(a, o->op == OP_OPEN_W ? O_WRONLY :
			     o->op == OP_OPEN_RW ? O_RDWR : O_RDONLY | O_TRUNC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	case OP_CREATE:
		fd = open(a, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	case OP_WRITE_FILE:
		return tl_write_file(a, "new\n", 4, 0644);
	case OP_MKDIR:
		return TL_ERR(mkdir(a, 0755));
	case OP_RMDIR:
		return TL_ERR(rmdir(a));
	case OP_UNLINK:
		return TL_ERR(unlink(a));
	case OP_RENAME:
		return TL_ERR(rename(a, b));
	case OP_LINK:
		return TL_ERR(link(a, b));
	case OP_SYMLINK:
		return TL_ERR(symlink("target", a));
	case OP_MKFIFO:
		return TL_ERR(mkfifo(a, 0644));
	case OP_TRUNCATE:
		return TL_ERR(truncate(a, 1));
	case OP_CHMOD:
		return TL_ERR(chmod(a, 0600));
	case OP_CHOWN:
		return TL_ERR(chown(a, 10002, -1));
	case OP_UTIMES:
		return TL_ERR(utimes(a, NULL));
	case OP_SETXATTR:
		return TL_ERR(setxattr(a, "user.policy", "1", 1, 0));
	case OP_REMOVEXATTR:
		return TL_ERR(removexattr(a, "user.policy"));
	case OP_FSTAT_FD: {
		struct statx stx;

		/* FORCE_SYNC: ask, whatever attributes FUSE has cached */
		return TL_ERR(statx(passed_fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
				    STATX_BASIC_STATS, &stx));
	}
	case OP_FLISTXATTR_FD:
		return flistxattr(passed_fd, buf, sizeof(buf)) < 0 ? errno : 0;
	}
	return EINVAL;
}

static const char *user_name(const struct tl_user *u)
{
	return u->uid == 0 ? "root" : u->uid == 1023 ? "media" :
	       u->uid == 10001 ? "app1" : u->uid == 10002 ? "app2" : "?";
}

static bool expect(const struct tl_user *u, const char *what, enum op op,
		   const char *a, const char *b, int want)
{
	struct op_arg o = { op, a, b };
	char name[512];
	int got = tl_as_user(u, do_op, &o);

	snprintf(name, sizeof(name), "%s: %s", user_name(u), what);
	if (got < 0) {
		tl_fail(name, "could not run as uid %u", u->uid);
		return false;
	}
	return tl_check_errno(name, got, want);
}

/* ---- maps, bpftool, counters ---- */

static int pinned(const char *map)
{
	int fd = bpf_obj_get(tl_path("%s/%s", pin_dir, map));

	if (fd < 0)
		tl_die("no pinned map %s/%s: %s", pin_dir, map, strerror(errno));
	return fd;
}

/* class of a policy path, from the pinned path tree */
static uint32_t class_of(const char *path)
{
	struct fusebpf_path_key key = { .parent = FUSEBPF_PATH_ROOT };
	struct fusebpf_path_node node = { 0 };
	char *copy = strdup(path), *save = NULL;
	int fd = pinned("paths");

	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		memset(key.name, 0, sizeof(key.name));
		snprintf(key.name, sizeof(key.name), "%s", c);
		if (bpf_map_lookup_elem(fd, &key, &node))
			tl_die("policy path %s not in the paths map", path);
		key.parent = node.node;
	}
	close(fd);
	free(copy);
	return node.cls;
}

static struct fusebpf_rule get_rule(uint32_t cls)
{
	struct fusebpf_rule r;
	int fd = pinned("rules");

	if (bpf_map_lookup_elem(fd, &cls, &r))
		tl_die("rules[%u]: %s", cls, strerror(errno));
	close(fd);
	return r;
}

/* Runs argv, waits; exit status, or -1. Stderr+stdout into @out. */
static int run(char *const argv[], char *out, size_t outlen)
{
	int pfd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		/* a daemon started here must not keep the pipe open */
		close(pfd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (out && got + 1 < outlen &&
	       (n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += n;
	if (out)
		out[got] = '\0';
	close(pfd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* `bpftool map update pinned .../rules key CLS value RULE`, as bytes */
static int bpftool_set_rule(uint32_t cls, const struct fusebpf_rule *r)
{
	char bytes[4 + sizeof(*r)][8], path[PATH_MAX + 16];
	char *argv[8 + 4 + sizeof(*r) + 1];
	const unsigned char *k = (const void *)&cls, *v = (const void *)r;
	int n = 0, b = 0;

	snprintf(path, sizeof(path), "%s/rules", pin_dir);
	argv[n++] = "bpftool";
	argv[n++] = "map";
	argv[n++] = "update";
	argv[n++] = "pinned";
	argv[n++] = path;
	argv[n++] = "key";
	for (int i = 0; i < 4; i++, b++) {
		snprintf(bytes[b], sizeof(bytes[b]), "%u", k[i]);
		argv[n++] = bytes[b];
	}
	argv[n++] = "value";
	for (size_t i = 0; i < sizeof(*r); i++, b++) {
		snprintf(bytes[b], sizeof(bytes[b]), "%u", v[i]);
		argv[n++] = bytes[b];
	}
	argv[n] = NULL;
	return run(argv, NULL, 0);
}

static uint64_t denied_count(unsigned int opcode)
{
	struct fusebpf_instance inst;
	uint64_t n;

	if (fusebpf_instance_open(mnt, &inst))
		tl_die("no fusebpfd instance for %s", mnt);
	n = fusebpf_stats_load(&inst.stats->denied[opcode]);
	fusebpf_instance_close(&inst);
	return n;
}

/* What the daemon got for one opcode: requests, decision requests, refusals */
struct op_stats {
	uint64_t requests, judged, denied;
};

static struct op_stats op_stats(unsigned int opcode)
{
	struct fusebpf_instance inst;
	struct op_stats s;

	if (fusebpf_instance_open(mnt, &inst))
		tl_die("no fusebpfd instance for %s", mnt);
	s.requests = fusebpf_stats_load(&inst.stats->requests[opcode]);
	s.judged = fusebpf_stats_load(&inst.stats->prefilter[opcode]);
	s.denied = fusebpf_stats_load(&inst.stats->denied[opcode]);
	fusebpf_instance_close(&inst);
	return s;
}

static uint64_t generation(void)
{
	struct fusebpf_policy_meta m;
	uint32_t zero = 0;
	int fd = pinned("meta");

	if (bpf_map_lookup_elem(fd, &zero, &m))
		tl_die("meta: %s", strerror(errno));
	close(fd);
	return m.generation;
}

/* ---- the checks ---- */

static void test_owner_only(void)
{
	uint64_t denied = denied_count(FUSE_LOOKUP);

	expect(&APP2, "another app's dir: lookup ENOENT", OP_STAT, APP1_DIR, NULL, ENOENT);
	expect(&APP2, "another app's dir: not listed", OP_LISTED, "Android/data", "com.app1", ENOENT);
	expect(&APP2, "another app's file: ENOENT", OP_READ, APP1_DIR "/files/notes.txt", NULL, ENOENT);
	expect(&APP2, "another app's obb dir: ENOENT", OP_STAT, APP1_OBB, NULL, ENOENT);
	expect(&APP2, "another app's dir: mkdir over it EACCES", OP_MKDIR, APP1_DIR, NULL, EACCES);
	expect(&APP2, "another app's dir: rename it ENOENT", OP_RENAME, APP1_DIR, "Download/stolen", ENOENT);
	expect(&APP2, "own dir listed", OP_LISTED, "Android/data", "com.app2", 0);
	expect(&APP2, "own file readable", OP_READ, APP2_DIR "/save.dat", NULL, 0);
	tl_check("denied LOOKUPs counted by the daemon", denied_count(FUSE_LOOKUP) > denied,
		 "denied[LOOKUP] stayed at %" PRIu64, denied);

	expect(&APP1, "owner: lookup", OP_STAT, APP1_DIR, NULL, 0);
	expect(&APP1, "owner: listed", OP_LISTED, "Android/data", "com.app1", 0);
	expect(&APP1, "owner: read", OP_READ, APP1_DIR "/files/notes.txt", NULL, 0);
	expect(&APP1, "owner: create", OP_CREATE, APP1_DIR "/files/new.txt", NULL, 0);
	expect(&APP1, "owner: rename", OP_RENAME, APP1_DIR "/files/new.txt", APP1_DIR "/files/new2.txt", 0);
	expect(&APP1, "owner: setxattr", OP_SETXATTR, APP1_DIR "/files/new2.txt", NULL, 0);
	expect(&APP1, "owner: unlink", OP_UNLINK, APP1_DIR "/files/new2.txt", NULL, 0);
	expect(&APP1, "owner: mkdir", OP_MKDIR, APP1_DIR "/cache", NULL, 0);
	expect(&APP1, "owner: rmdir", OP_RMDIR, APP1_DIR "/cache", NULL, 0);
	expect(&APP1, "owner: obb readable", OP_READ, APP1_OBB "/main.obb", NULL, 0);
	expect(&APP1, "owner: new app dir of its own", OP_MKDIR, "Android/data/com.app1.extra", NULL, 0);
	expect(&APP2, "app2 cannot see app1's new dir", OP_STAT, "Android/data/com.app1.extra", NULL, ENOENT);
	expect(&APP1, "owner: remove it", OP_RMDIR, "Android/data/com.app1.extra", NULL, 0);

	expect(&ROOT, "privileged: lookup", OP_STAT, APP1_DIR, NULL, 0);
	expect(&ROOT, "privileged: listed", OP_LISTED, "Android/data", "com.app1", 0);
	expect(&MEDIA, "privileged: lookup", OP_STAT, APP1_DIR, NULL, 0);
	expect(&MEDIA, "privileged: listed", OP_LISTED, "Android/data", "com.app2", 0);
	expect(&MEDIA, "privileged: read", OP_READ, APP1_DIR "/files/notes.txt", NULL, 0);
	expect(&MEDIA, "privileged: obb", OP_STAT, APP1_OBB "/main.obb", NULL, 0);
}

/*
 * A directory moved through the mount is judged by its new place at once
 * (issue 10 item 4): root moves a staged directory of app1 (0755, a 0644
 * file in it) into Android/data, where owner-only makes it app1's. app2
 * read the file just before, so the kernel holds the moved entries with
 * the timeout of their old place: app2 must get ENOENT right after the
 * move, not once those expire.
 */
#define STAGED "DCIM/staged"
#define APP3_DIR "Android/data/com.app3"

static void test_move_rejudged(void)
{
	tl_rm_rf(tl_path("%s/%s", back, STAGED));
	tl_rm_rf(tl_path("%s/%s", back, APP3_DIR));
	expect(&ROOT, "move: root stages a dir", OP_MKDIR, STAGED, NULL, 0);
	expect(&ROOT, "move: a file in it", OP_WRITE_FILE, STAGED "/data.txt", NULL, 0);
	tl_check_errno("move: the staged dir and file are app1's",
		       TL_ERR(chown(in_mnt(STAGED), 10001, 10001) ||
			      chown(in_mnt(STAGED "/data.txt"), 10001, 10001)), 0);
	expect(&APP2, "move: app2 reads the staged file", OP_READ, STAGED "/data.txt", NULL, 0);
	tl_check_errno("move: root moves it to " APP3_DIR,
		       TL_ERR(rename(in_mnt(STAGED), in_mnt(APP3_DIR))), 0);
	expect(&APP2, "move: right after, app2 cannot read the moved file", OP_READ,
	       APP3_DIR "/data.txt", NULL, ENOENT);
	expect(&APP2, "move: nor see the moved dir", OP_STAT, APP3_DIR, NULL, ENOENT);
	expect(&APP1, "move: its owner reads the moved file", OP_READ, APP3_DIR "/data.txt", NULL, 0);
	expect(&APP2, "move: app2 right after the owner: ENOENT", OP_READ,
	       APP3_DIR "/data.txt", NULL, ENOENT);
	tl_check_errno("move: root moves it back out",
		       TL_ERR(rename(in_mnt(APP3_DIR), in_mnt(STAGED))), 0);
	expect(&APP2, "move: moved out, app2 reads it again", OP_READ, STAGED "/data.txt", NULL, 0);
	tl_rm_rf(tl_path("%s/%s", back, STAGED));
}

/* app1 holds its dir as cwd while app2 walks to it */
static void test_cached_dentry(void)
{
	int ready[2], go[2], status;
	struct op_arg o = { OP_STAT, APP1_DIR, NULL };
	char c = 0;
	pid_t pid;

	expect(&APP1, "owner looks its dir up (dentry cached)", OP_STAT, APP1_DIR "/files", NULL, 0);
	expect(&APP2, "right after: still ENOENT for app2", OP_STAT, APP1_DIR, NULL, ENOENT);
	if (pipe(ready) || pipe(go))
		tl_die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct stat st;

		if (setgroups(0, NULL) || setresgid(10001, 10001, 10001) ||
		    setresuid(10001, 10001, 10001) || chdir(in_mnt(APP1_DIR)))
			_exit(100);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(101);
		/* the in-use dentry still works for its owner */
		_exit(stat("files/notes.txt", &st) ? 102 : 0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		tl_fail("app1 holds its dir as cwd", "child could not chdir");
	} else {
		expect(&APP2, "dir in use as app1's cwd: lookup ENOENT", OP_STAT, APP1_DIR, NULL, ENOENT);
		expect(&APP2, "dir in use as app1's cwd: not listed", OP_LISTED, "Android/data", "com.app1", ENOENT);
		expect(&APP2, "dir in use as app1's cwd: file below ENOENT", OP_READ,
		       APP1_DIR "/files/notes.txt", NULL, ENOENT);
		o.a = APP1_DIR;
		tl_check("dir in use: app1 (another process) still finds it",
			 tl_as_user(&APP1, do_op, &o) == 0, "lookup failed");
		expect(&APP2, "and app2 right after: ENOENT", OP_STAT, APP1_DIR "/files", NULL, ENOENT);
	}
	if (write(go[1], "g", 1) != 1)
		tl_die("pipe write");
	waitpid(pid, &status, 0);
	tl_check("app1 works relative to its in-use cwd", WIFEXITED(status) &&
		 WEXITSTATUS(status) == 0, "child exit %d", WEXITSTATUS(status));
	close(ready[0]);
	close(go[1]);
}

/*
 * Issue 10 (2): rules below a package dir (audit nest, read-only nest/ro)
 * used to make com.app1 an intermediate path node of class 0 that beat
 * the "*" rule: app2 saw and read app1's dir, and nest was audit-only.
 * Now they add to owner-only, whose owner stays com.app1's uid (nest is
 * root's), in every mode: the maps the kernel filter reads hold the
 * composed rules.
 */
static void test_nested_rules(void)
{
	struct fusebpf_rule r = get_rule(class_of(NEST "/ro"));

	tl_check("nested: the maps hold owner-only + audit + read-only for nest/ro",
		 r.flags == (FUSEBPF_RULE_OWNER_ONLY | FUSEBPF_RULE_AUDIT |
			     FUSEBPF_RULE_READ_ONLY) &&
		 r.owner_from == FUSEBPF_OWNER_FROM_ABOVE,
		 "flags 0x%x owner_from %u", r.flags, r.owner_from);
	tl_check("nested: com.app1 itself has a class",
		 class_of(APP1_DIR) != 0, "class 0 (rule of '*' lost)");
	expect(&APP2, "nested: another app's dir still ENOENT", OP_STAT, APP1_DIR, NULL, ENOENT);
	expect(&APP2, "nested: another app's dir still not listed", OP_LISTED, "Android/data",
	       "com.app1", ENOENT);
	expect(&APP2, "nested: another app's file still ENOENT", OP_READ,
	       APP1_DIR "/files/notes.txt", NULL, ENOENT);
	expect(&APP2, "nested: the audited subdir ENOENT", OP_STAT, NEST, NULL, ENOENT);
	expect(&APP2, "nested: a file in it ENOENT", OP_READ, NEST "/n.txt", NULL, ENOENT);
	expect(&APP2, "nested: create in it refused", OP_CREATE, NEST "/x.txt", NULL, ENOENT);
	expect(&APP2, "nested: read-only below ENOENT", OP_READ, NEST "/ro/r.txt", NULL, ENOENT);
	expect(&APP1, "nested: owner reads the audited subdir (root's)", OP_READ, NEST "/n.txt",
	       NULL, 0);
	expect(&APP1, "nested: owner lists it", OP_LISTED, NEST, "n.txt", 0);
	expect(&APP1, "nested: owner creates in it", OP_CREATE, NEST "/mine.txt", NULL, 0);
	expect(&APP1, "nested: owner unlinks there", OP_UNLINK, NEST "/mine.txt", NULL, 0);
	expect(&APP1, "nested: owner reads below read-only", OP_READ, NEST "/ro/r.txt", NULL, 0);
	expect(&APP1, "nested: read-only below: create EROFS", OP_CREATE, NEST "/ro/new.txt",
	       NULL, EROFS);
	expect(&APP1, "nested: read-only below: write EROFS", OP_OPEN_W, NEST "/ro/r.txt", NULL,
	       EROFS);
	expect(&MEDIA, "nested: privileged reads it", OP_READ, NEST "/ro/r.txt", NULL, 0);
}

/*
 * An open file of app1 in app2's hands (inherited here; SCM_RIGHTS works
 * alike): no lookup is involved, the reads of its metadata are judged
 * themselves (mode bpf: the kernel filters GETATTR and LISTXATTR).
 */
static void test_passed_fd(void)
{
	passed_fd = open(in_mnt(APP1_DIR "/files/notes.txt"), O_RDONLY);
	if (passed_fd < 0)
		tl_die("open %s: %s", APP1_DIR "/files/notes.txt", strerror(errno));
	expect(&APP1, "app1's open file: owner's fstat", OP_FSTAT_FD, "", NULL, 0);
	expect(&APP1, "app1's open file: owner's flistxattr", OP_FLISTXATTR_FD, "", NULL, 0);
	expect(&APP2, "app1's open file in app2's hands: fstat ENOENT", OP_FSTAT_FD, "", NULL, ENOENT);
	expect(&APP2, "app1's open file in app2's hands: flistxattr ENOENT", OP_FLISTXATTR_FD, "", NULL, ENOENT);
	expect(&MEDIA, "app1's open file: privileged fstat", OP_FSTAT_FD, "", NULL, 0);
	close(passed_fd);
	passed_fd = -1;
}

static void test_read_only(void)
{
	static const struct tl_user *const who[] = { &APP1, &ROOT };
	struct tl_counters before, after;
	const char *img = CAMERA "/IMG_1.jpg";

	for (size_t i = 0; i < sizeof(who) / sizeof(*who); i++) {
		const struct tl_user *u = who[i];

		expect(u, "read-only: read", OP_READ, img, NULL, 0);
		expect(u, "read-only: list", OP_LISTED, CAMERA, "IMG_1.jpg", 0);
		expect(u, "read-only: open O_WRONLY", OP_OPEN_W, img, NULL, EROFS);
		expect(u, "read-only: open O_RDWR", OP_OPEN_RW, img, NULL, EROFS);
		expect(u, "read-only: open O_TRUNC", OP_OPEN_TRUNC, img, NULL, EROFS);
		expect(u, "read-only: create", OP_CREATE, CAMERA "/new.jpg", NULL, EROFS);
		expect(u, "read-only: mkdir", OP_MKDIR, CAMERA "/newdir", NULL, EROFS);
		expect(u, "read-only: mknod (fifo)", OP_MKFIFO, CAMERA "/fifo", NULL, EROFS);
		expect(u, "read-only: symlink", OP_SYMLINK, CAMERA "/link", NULL, EROFS);
		expect(u, "read-only: link into", OP_LINK, "Download/free.txt", CAMERA "/free.txt", EROFS);
		expect(u, "read-only: link out of", OP_LINK, img, "Download/img-link.jpg", EROFS);
		expect(u, "read-only: unlink", OP_UNLINK, img, NULL, EROFS);
		expect(u, "read-only: rmdir", OP_RMDIR, CAMERA "/sub", NULL, EROFS);
		expect(u, "read-only: rename within", OP_RENAME, img, CAMERA "/IMG_2.jpg", EROFS);
		expect(u, "read-only: rename out", OP_RENAME, img, "Download/IMG_1.jpg", EROFS);
		expect(u, "read-only: rename in", OP_RENAME, "Download/free.txt", CAMERA "/free.txt", EROFS);
		expect(u, "read-only: rename the subtree root", OP_RENAME, CAMERA, "DCIM/Camera2", EROFS);
		expect(u, "read-only: truncate", OP_TRUNCATE, img, NULL, EROFS);
		expect(u, "read-only: chmod", OP_CHMOD, img, NULL, EROFS);
		expect(u, "read-only: utimes", OP_UTIMES, img, NULL, EROFS);
		expect(u, "read-only: setxattr", OP_SETXATTR, img, NULL, EROFS);
		expect(u, "read-only: removexattr", OP_REMOVEXATTR, img, NULL, EROFS);
		expect(u, "read-only: rmdir the subtree root", OP_RMDIR, CAMERA, NULL, EROFS);
	}
	expect(&ROOT, "read-only: chown", OP_CHOWN, img, NULL, EROFS);
	tl_check("read-only: backing file unchanged",
		 tl_file_equals(tl_path("%s/%s", back, img), "jpeg data\n"), "content changed");

	/* reads stay on the fast path: no READ to the daemon in passthrough */
	if (tl_counters_read(mnt, &before))
		tl_die("no counters for %s", mnt);
	expect(&APP1, "read-only: read again", OP_READ, img, NULL, 0);
	tl_counters_read(mnt, &after);
	if (mode == FUSEBPF_MODE_USERSPACE)
		tl_check("read-only: reads served by the daemon (mode userspace)",
			 tl_counters_delta(&before, &after, FUSE_READ) > 0, "no READ");
	else
		tl_check("read-only: reads at full speed (no READ request)",
			 tl_counters_delta(&before, &after, FUSE_READ) == 0,
			 "%" PRIu64 " READ", tl_counters_delta(&before, &after, FUSE_READ));
}

static void test_hidden(void)
{
	expect(&APP1, "hidden name: lookup ENOENT", OP_STAT, "DCIM/.transforms", NULL, ENOENT);
	expect(&APP1, "hidden name: not listed", OP_LISTED, "DCIM", ".transforms", ENOENT);
	expect(&APP1, "hidden name: file below ENOENT", OP_READ, "DCIM/.transforms/t.bin", NULL, ENOENT);
	expect(&APP1, "hidden name: create over it EACCES", OP_MKDIR, "DCIM/.transforms", NULL, EACCES);
	expect(&APP2, "hidden name: in any directory", OP_CREATE, "Download/.transforms", NULL, EACCES);
	expect(&MEDIA, "hidden name, exempt uid: sees it", OP_STAT, "DCIM/.transforms/t.bin", NULL, 0);
	expect(&MEDIA, "hidden name, exempt uid: listed", OP_LISTED, "DCIM", ".transforms", 0);
	expect(&APP1, "hidden name: still ENOENT after media cached it", OP_STAT, "DCIM/.transforms", NULL, ENOENT);
	/* directories without policy paths below: in mode bpf the kernel lists them */
	expect(&APP1, "hidden name: not listed in Download/sub", OP_LISTED, "Download/sub", ".transforms", ENOENT);
	expect(&APP1, "hidden name: not listed in Download/sub/deep", OP_LISTED, "Download/sub/deep", ".transforms", ENOENT);
	expect(&APP1, "hidden name: other entries listed", OP_LISTED, "Download/sub", "deep", 0);
	expect(&APP2, "hidden name: lookup ENOENT in Download/sub/deep", OP_STAT, "Download/sub/deep/.transforms", NULL, ENOENT);
	expect(&MEDIA, "hidden name, exempt uid: listed in Download/sub", OP_LISTED, "Download/sub", ".transforms", 0);
	expect(&MEDIA, "hidden name, exempt uid: listed in Download/sub/deep", OP_LISTED, "Download/sub/deep", ".transforms", 0);
	expect(&ROOT, "hidden path (no exemption): root ENOENT", OP_STAT, "Android/secret", NULL, ENOENT);
	expect(&ROOT, "hidden path: not listed", OP_LISTED, "Android", "secret", ENOENT);
	expect(&APP1, "hidden path: app1 ENOENT", OP_READ, "Android/secret/key", NULL, ENOENT);
}

static void test_bpftool_flip(void)
{
	/* com.app1 has its own class: "*" composed with the rules below it */
	uint32_t data = class_of(APP1_DIR), dl = class_of("Download");
	struct fusebpf_rule saved = get_rule(data), r = saved;
	int fd;

	tl_check("rule of Android/data/com.app1 is owner-only", saved.flags & FUSEBPF_RULE_OWNER_ONLY,
		 "flags %#x", saved.flags);
	r.flags &= ~FUSEBPF_RULE_OWNER_ONLY;
	tl_check_errno("bpftool map update: Android/data/com.app1 not owner-only", bpftool_set_rule(data, &r), 0);
	expect(&APP2, "after the update: app1's dir visible", OP_STAT, APP1_DIR, NULL, 0);
	expect(&APP2, "after the update: listed", OP_LISTED, "Android/data", "com.app1", 0);
	tl_check_errno("bpftool map update: owner-only again", bpftool_set_rule(data, &saved), 0);
	expect(&APP2, "after restoring: ENOENT again", OP_STAT, APP1_DIR, NULL, ENOENT);

	/* an fd opened for writing, then the subtree turns read-only */
	saved = get_rule(dl);
	fd = open(in_mnt("Download/free.txt"), O_RDWR);
	if (fd < 0)
		tl_die("open Download/free.txt: %s", strerror(errno));
	r = saved;
	r.flags |= FUSEBPF_RULE_READ_ONLY;
	tl_check_errno("bpftool map update: Download read-only", bpftool_set_rule(dl, &r), 0);
	tl_check_errno("read-only after open: fallocate EROFS",
		       TL_ERR(fallocate(fd, 0, 0, 4096)), EROFS);
	expect(&APP1, "read-only after update: create EROFS", OP_CREATE, "Download/x.txt", NULL, EROFS);
	tl_check_errno("bpftool map update: Download writable", bpftool_set_rule(dl, &saved), 0);
	tl_check_errno("writable again: fallocate", TL_ERR(fallocate(fd, 0, 0, 4096)), 0);
	close(fd);
}

static int audit_seen_uid, audit_seen_op, audit_seen_tag, audit_seen_denied;
static uint32_t audit_want_tag;

static int on_event(void *ctx, void *data, size_t len)
{
	const struct fusebpf_audit_event *ev = data;

	(void)ctx;
	if (len < sizeof(*ev) || FUSEBPF_TAG_CLASS(ev->tag) != audit_want_tag)
		return 0;
	audit_seen_tag++;
	if (ev->uid == 10001 && ev->opcode == FUSE_CREATE && ev->result == 0)
		audit_seen_op++;
	if (ev->uid == 10002)
		audit_seen_uid++;
	if (ev->flags & FUSEBPF_AUDIT_DENIED)
		audit_seen_denied++;
	return 0;
}

static void test_daemon_decisions(void)
{
	struct tl_counters before, after;
	struct ring_buffer *rb;
	uint32_t dl = class_of("Download");
	struct fusebpf_rule saved = get_rule(dl), r = saved;
	int fd = pinned("audit_events");

	/* served: reads go to the daemon, in every mode */
	tl_counters_read(mnt, &before);
	expect(&APP1, "served subtree: read", OP_READ, "Music/song.mp3", NULL, 0);
	tl_counters_read(mnt, &after);
	tl_check("served subtree: the daemon serves its reads",
		 tl_counters_delta(&before, &after, FUSE_READ) > 0, "no READ reached the daemon");
	tl_check("served subtree: no passthrough open",
		 after.passthrough_opens == before.passthrough_opens, "passthrough open");

	/* audit: events with caller, opcode, tag and result */
	audit_want_tag = dl;
	rb = ring_buffer__new(fd, on_event, NULL, NULL);
	if (!rb)
		tl_die("ring_buffer__new: %s", strerror(errno));
	ring_buffer__consume(rb);
	audit_seen_uid = audit_seen_op = audit_seen_tag = audit_seen_denied = 0;
	expect(&APP1, "audited subtree: create", OP_CREATE, "Download/audited.txt", NULL, 0);
	expect(&APP2, "audited subtree: read", OP_READ, "Download/free.txt", NULL, 0);
	r.flags |= FUSEBPF_RULE_READ_ONLY;
	bpftool_set_rule(dl, &r);
	expect(&APP2, "audited + read-only: create EROFS", OP_CREATE, "Download/denied.txt", NULL, EROFS);
	bpftool_set_rule(dl, &saved);
	ring_buffer__consume(rb);
	tl_check("audit: events for the subtree's class", audit_seen_tag > 0, "none");
	tl_check("audit: app1's CREATE with result 0", audit_seen_op > 0, "missing");
	tl_check("audit: app2's ops", audit_seen_uid > 0, "missing");
	tl_check("audit: the denied op flagged", audit_seen_denied > 0, "missing");
	ring_buffer__free(rb);
	close(fd);
}

/* U+017F LATIN SMALL LETTER LONG S: casefolds to "s" */
#define LONG_S "\xc5\xbf"
/* linux/fs.h, which clashes with sys/mount.h */
#define CF_FS_IOC_GETFLAGS _IOR('f', 1, long)
#define CF_FS_CASEFOLD_FL 0x40000000

/*
 * Other spellings on a casefolded backing (--casefold): the attacks of
 * issue 10 item 1, as app2 (and app1 for hidden names), each with the
 * answer the canonical spelling gets.
 */
static void test_casefold(void)
{
	struct tl_counters before, after;
	struct ring_buffer *rb;
	int flags = 0, fd = open(back, O_RDONLY | O_DIRECTORY);
	struct stat st;

	if (fd < 0 || ioctl(fd, CF_FS_IOC_GETFLAGS, &flags) || !(flags & CF_FS_CASEFOLD_FL))
		tl_die("--casefold: %s is not a casefolded directory (flags %#x: %s)", back,
		       flags, strerror(errno));
	close(fd);
	tl_check("casefold: the backing resolves ANDROID/DATA",
		 lstat(tl_path("%s/ANDROID/DATA/COM.APP1", back), &st) == 0, "%s", strerror(errno));

	/* owner-only: app1's dir and files under every spelling */
	expect(&APP2, "casefold: Android/DATA does not list com.app1", OP_LISTED, "Android/DATA", "com.app1", ENOENT);
	expect(&APP2, "casefold: android/data does not list com.app1", OP_LISTED, "android/data", "com.app1", ENOENT);
	expect(&APP2, "casefold: stat android/data/COM.APP1 ENOENT", OP_STAT, "android/data/COM.APP1", NULL, ENOENT);
	expect(&APP2, "casefold: read Android/DATA/com.app1/files/notes.txt ENOENT", OP_READ,
	       "Android/DATA/com.app1/files/notes.txt", NULL, ENOENT);
	expect(&APP2, "casefold: read ANDROID/Data/Com.App1/FILES/NOTES.TXT ENOENT", OP_READ,
	       "ANDROID/Data/Com.App1/FILES/NOTES.TXT", NULL, ENOENT);
	expect(&APP2, "casefold: stat android/OBB/com.app1 ENOENT", OP_STAT, "android/OBB/com.app1", NULL, ENOENT);
	expect(&APP2, "casefold: mkdir android/data/COM.APP1 EACCES", OP_MKDIR, "android/data/COM.APP1", NULL, EACCES);
	expect(&APP2, "casefold: own dir under another spelling", OP_READ, "android/DATA/COM.APP2/SAVE.DAT", NULL, 0);
	expect(&APP1, "casefold: owner reads under another spelling", OP_READ,
	       "android/Data/COM.APP1/files/NOTES.txt", NULL, 0);
	expect(&MEDIA, "casefold: privileged lists android/DATA", OP_LISTED, "android/DATA", "com.app1", 0);

	/* a lookup through another spelling must not re-tag the shared inode */
	expect(&ROOT, "casefold: root looks up android/DATA", OP_STAT, "android/DATA", NULL, 0);
	expect(&ROOT, "casefold: root looks up ANDROID/DATA/COM.APP1", OP_STAT, "ANDROID/DATA/COM.APP1", NULL, 0);
	expect(&APP2, "casefold: then the canonical spelling: ENOENT", OP_STAT, APP1_DIR, NULL, ENOENT);
	expect(&APP2, "casefold: then canonical listing: not listed", OP_LISTED, "Android/data", "com.app1", ENOENT);
	expect(&APP2, "casefold: then canonical read: ENOENT", OP_READ, APP1_DIR "/files/notes.txt", NULL, ENOENT);

	/* hidden path and hidden names */
	expect(&ROOT, "casefold: hidden path android/SECRET ENOENT", OP_STAT, "android/SECRET", NULL, ENOENT);
	expect(&ROOT, "casefold: hidden path Android/" LONG_S "ecret ENOENT", OP_STAT, "Android/" LONG_S "ecret", NULL, ENOENT);
	expect(&ROOT, "casefold: ANDROID does not list secret", OP_LISTED, "ANDROID", "secret", ENOENT);
	expect(&APP1, "casefold: read DCIM/.TRANSFORMS/t.bin ENOENT", OP_READ, "DCIM/.TRANSFORMS/t.bin", NULL, ENOENT);
	expect(&APP1, "casefold: stat dcim/.Transforms ENOENT", OP_STAT, "dcim/.Transforms", NULL, ENOENT);
	expect(&APP1, "casefold: stat DCIM/.tran" LONG_S "forms ENOENT", OP_STAT, "DCIM/.tran" LONG_S "forms", NULL, ENOENT);
	expect(&APP1, "casefold: dcim does not list .transforms", OP_LISTED, "dcim", ".transforms", ENOENT);
	expect(&APP1, "casefold: mkdir DCIM/.TRANSFORMS EACCES", OP_MKDIR, "DCIM/.TRANSFORMS", NULL, EACCES);
	expect(&APP2, "casefold: create Download/.TRANSFORMS EACCES", OP_CREATE, "Download/.TRANSFORMS", NULL, EACCES);
	expect(&APP2, "casefold: create download/.tran" LONG_S "forms EACCES", OP_CREATE,
	       "download/.tran" LONG_S "forms", NULL, EACCES);
	/* directories without policy paths below: mode bpf resolves them in the kernel */
	expect(&APP1, "casefold: stat Download/sub/.TRANSFORMS ENOENT", OP_STAT, "Download/sub/.TRANSFORMS", NULL, ENOENT);
	expect(&APP1, "casefold: stat Download/SUB/deep/.Transforms ENOENT", OP_STAT,
	       "Download/SUB/deep/.Transforms", NULL, ENOENT);
	expect(&APP1, "casefold: stat Download/sub/.tran" LONG_S "forms ENOENT", OP_STAT,
	       "Download/sub/.tran" LONG_S "forms", NULL, ENOENT);
	expect(&APP1, "casefold: mkdir Download/sub/.TRANSFORMS EACCES", OP_MKDIR, "Download/sub/.TRANSFORMS", NULL, EACCES);
	expect(&APP1, "casefold: create Download/sub/deep/.TRANSFORMS.new (not hidden)", OP_CREATE,
	       "Download/sub/deep/.TRANSFORMS.new", NULL, 0);
	expect(&MEDIA, "casefold: exempt uid sees Download/sub/.TRANSFORMS", OP_STAT, "Download/sub/.TRANSFORMS", NULL, 0);
	expect(&MEDIA, "casefold: exempt uid reads DCIM/.TRANSFORMS/t.bin", OP_READ, "DCIM/.TRANSFORMS/t.bin", NULL, 0);

	/* read-only */
	expect(&APP1, "casefold: open dcim/CAMERA/img_1.JPG O_WRONLY EROFS", OP_OPEN_W, "dcim/CAMERA/img_1.JPG", NULL, EROFS);
	expect(&APP1, "casefold: create Dcim/Camera/new.jpg EROFS", OP_CREATE, "Dcim/Camera/new.jpg", NULL, EROFS);
	expect(&APP1, "casefold: unlink DCIM/camera/IMG_1.jpg EROFS", OP_UNLINK, "DCIM/camera/IMG_1.jpg", NULL, EROFS);
	expect(&APP1, "casefold: rename DCIM/CAMERA/IMG_1.jpg out EROFS", OP_RENAME, "DCIM/CAMERA/IMG_1.jpg",
	       "Download/img.jpg", EROFS);
	expect(&APP1, "casefold: rmdir dcim/camera/SUB EROFS", OP_RMDIR, "dcim/camera/SUB", NULL, EROFS);
	tl_check("casefold: read-only file unchanged",
		 tl_file_equals(tl_path("%s/%s", back, CAMERA "/IMG_1.jpg"), "jpeg data\n"), "content changed");

	/* served: reads reach the daemon whatever the spelling */
	tl_counters_read(mnt, &before);
	expect(&APP1, "casefold: read music/SONG.mp3", OP_READ, "music/SONG.mp3", NULL, 0);
	expect(&APP1, "casefold: read Mu" LONG_S "ic/song.mp3", OP_READ, "Mu" LONG_S "ic/song.mp3", NULL, 0);
	tl_counters_read(mnt, &after);
	tl_check("casefold: served under other spellings: 2 READs reach the daemon",
		 tl_counters_delta(&before, &after, FUSE_READ) >= 2, "%" PRIu64 " READ",
		 tl_counters_delta(&before, &after, FUSE_READ));
	tl_check("casefold: served under other spellings: no passthrough open",
		 after.passthrough_opens == before.passthrough_opens, "%" PRIu64 " passthrough opens",
		 after.passthrough_opens - before.passthrough_opens);

	/* audit: a create under download/ is an event of Download's class */
	fd = pinned("audit_events");
	audit_want_tag = class_of("Download");
	rb = ring_buffer__new(fd, on_event, NULL, NULL);
	if (!rb)
		tl_die("ring_buffer__new: %s", strerror(errno));
	ring_buffer__consume(rb);
	audit_seen_uid = audit_seen_op = audit_seen_tag = audit_seen_denied = 0;
	expect(&APP1, "casefold: create download/cf-audit.txt", OP_CREATE, "download/cf-audit.txt", NULL, 0);
	expect(&APP1, "casefold: unlink DOWNLOAD/cf-audit.txt", OP_UNLINK, "DOWNLOAD/cf-audit.txt", NULL, 0);
	ring_buffer__consume(rb);
	tl_check("casefold: app1's CREATE under download/ audited", audit_seen_op > 0,
		 "%d events of the class, none a CREATE of app1", audit_seen_tag);
	ring_buffer__free(rb);
	close(fd);
	unlink(tl_path("%s/Download/sub/deep/.TRANSFORMS.new", back));
}

/*
 * -o served=Music on a second mount of the same casefolded backing (no
 * policy): reads under other spellings are the daemon's too. Mode
 * userspace serves every read anyway: nothing to tell apart there.
 */
static void test_casefold_served(void)
{
	const char *mnt3 = tl_path("%s/../served-mnt", back);
	char opt[64], out[4096], *argv[] = { (char *)daemon_bin, (char *)back,
					     (char *)mnt3, "-o", opt, NULL };
	/* one file each: a second read of one file may come from the page cache */
	static const char *const spellings[] = { "MUSIC/a.mp3", "music/B.MP3",
						 "Mu" LONG_S "ic/c.mp3" };
	struct tl_counters before, after;
	char buf[64];
	int rc;

	if (mode == FUSEBPF_MODE_USERSPACE)
		return;
	make("Music/a.mp3", 0644, 0, "a\n");
	make("Music/b.mp3", 0644, 0, "b\n");
	make("Music/c.mp3", 0644, 0, "c\n");
	snprintf(opt, sizeof(opt), "mode=%s,served=Music", fusebpf_mode_name(mode));
	mkdir(mnt3, 0755);
	rc = run(argv, out, sizeof(out));
	if (rc != 0 || tl_counters_read(mnt3, &before)) {
		tl_fail("casefold: served= mount", "exit %d: %s", rc, out);
		return;
	}
	for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
		const char *p = tl_path("%s/%s", mnt3, spellings[i]);

		tl_counters_read(mnt3, &before);
		tl_check(tl_path("casefold: served=Music: read %s", spellings[i]),
			 tl_read_file(p, buf, sizeof(buf)) > 0, "%s", strerror(errno));
		tl_counters_read(mnt3, &after);
		tl_check(tl_path("casefold: served=Music: %s read by the daemon", spellings[i]),
			 tl_counters_delta(&before, &after, FUSE_READ) > 0 &&
			 after.passthrough_opens == before.passthrough_opens,
			 "%" PRIu64 " READ, %" PRIu64 " passthrough opens",
			 tl_counters_delta(&before, &after, FUSE_READ),
			 after.passthrough_opens - before.passthrough_opens);
	}
	tl_check_errno("casefold: served= umount", TL_ERR(umount2(mnt3, 0)), 0);
	rmdir(mnt3);
}

/*
 * Changes to entries of a directory the daemon lists (Android/data,
 * Android/data/<pkg>): the daemon judges them, with the same results in
 * every mode. Modes passthrough/userspace: it gets the plain request and
 * performs it. Mode bpf: it gets a decision request and the kernel runs
 * what it allowed on the backing.
 */
static void test_daemon_judges(void)
{
	static const unsigned int ops[] = { FUSE_MKDIR, FUSE_CREATE, FUSE_UNLINK };
	static const unsigned int want[] = { 2, 1, 1 };
	struct op_stats before[3], after[3];
	const char *mine = "Android/data/com.app1.judged";
	struct stat st;

	for (int i = 0; i < 3; i++)
		before[i] = op_stats(ops[i]);
	expect(&APP2, "judged: mkdir over another app's dir EACCES", OP_MKDIR, APP1_DIR, NULL, EACCES);
	expect(&APP1, "judged: owner's mkdir in Android/data", OP_MKDIR, mine, NULL, 0);
	expect(&APP1, "judged: owner's create in its dir", OP_CREATE, APP1_DIR "/judged.txt", NULL, 0);
	expect(&APP1, "judged: owner's unlink in its dir", OP_UNLINK, APP1_DIR "/judged.txt", NULL, 0);
	for (int i = 0; i < 3; i++)
		after[i] = op_stats(ops[i]);
	tl_check("judged: the new dir is app1's in the backing",
		 lstat(tl_path("%s/%s", back, mine), &st) == 0 && st.st_uid == 10001,
		 "uid %u", (unsigned int)st.st_uid);
	expect(&APP2, "judged: app2 cannot see it", OP_STAT, mine, NULL, ENOENT);
	tl_check("judged: the refusal counted (denied MKDIR)",
		 after[0].denied - before[0].denied == 1, "%" PRIu64,
		 after[0].denied - before[0].denied);
	for (int i = 0; i < 3; i++) {
		const char *op = tl_opcode_name(ops[i]);
		uint64_t req = after[i].requests - before[i].requests;
		uint64_t judged = after[i].judged - before[i].judged;

		if (mode == FUSEBPF_MODE_BPF) {
			tl_check(tl_path("judged: no plain %s request (mode bpf)", op), req == 0,
				 "%" PRIu64 " %s requests", req, op);
			tl_check(tl_path("judged: %u %s decision request(s) (mode bpf)", want[i], op),
				 judged == want[i], "%" PRIu64, judged);
		} else {
			tl_check(tl_path("judged: the daemon performed %u %s", want[i], op),
				 req == want[i] && judged == 0,
				 "%" PRIu64 " requests, %" PRIu64 " decision requests", req, judged);
		}
	}
	expect(&APP1, "judged: owner removes its dir", OP_RMDIR, mine, NULL, 0);
}

static const char *write_policy(const char *name, const char *text)
{
	const char *p = tl_path("%s/../%s", back, name);

	if (tl_write_file(p, text, strlen(text), 0644))
		tl_die("cannot write %s", p);
	return p;
}

/*
 * A policy load is atomic (issue 10 item 3): while root loads, thousands
 * of times, two policies whose class numbers differ (one has a rule
 * prepended), app2 reading app1's file never succeeds and app1 reading
 * it never fails. Loads are applied in-process, as `fusebpfctl policy
 * load` applies them, without waiting for the daemon between loads.
 */
#define RELOADS		2000

struct reload_race {
	volatile int stop;
	long tries[2], ok[2];	/* [0] app2, [1] app1 */
};

static void read_until_stopped(struct reload_race *r, int who)
{
	const char *file = in_mnt(APP1_DIR "/files/notes.txt");
	char buf[64];

	while (!r->stop) {
		int fd = open(file, O_RDONLY);

		__atomic_add_fetch(&r->tries[who], 1, __ATOMIC_RELAXED);
		if (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
			__atomic_add_fetch(&r->ok[who], 1, __ATOMIC_RELAXED);
		if (fd >= 0)
			close(fd);
	}
}

static void test_reload_atomic(void)
{
	char text[4096], shifted_text[4096 + 64], err[512];
	const struct tl_user *who[2] = { &APP2, &APP1 };
	struct fusebpf_policy pol[2];
	struct fusebpf_policy_maps maps;
	struct reload_race *r;
	const char *shifted;
	pid_t pid[2];
	ssize_t n = tl_read_file(policy_file, text, sizeof(text) - 64);
	char *good_argv[] = { (char *)ctl, "policy", "load", (char *)policy_file,
			      (char *)mnt, NULL };
	int loads = 0, status;
	time_t start = time(NULL);

	if (n <= 0)
		tl_die("cannot read %s", policy_file);
	text[n] = 0;
	/* one more path first: every class number moves up by one */
	snprintf(shifted_text, sizeof(shifted_text), "read-only Zzz/shifted\n%s", text);
	shifted = write_policy("shifted.policy", shifted_text);
	memset(pol, 0, sizeof(pol));
	if (fusebpf_policy_compile_file(policy_file, &pol[0], err, sizeof(err)) ||
	    fusebpf_policy_compile_file(shifted, &pol[1], err, sizeof(err)))
		tl_die("reload: %s", err);
	if (fusebpf_policy_maps_open(instance, &maps))
		tl_die("reload: no pinned maps of %s", instance);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (r == MAP_FAILED)
		tl_die("mmap: %s", strerror(errno));
	memset(r, 0, sizeof(*r));
	fflush(stdout);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			if (setgroups(0, NULL) || setresgid(who[i]->gid, who[i]->gid, who[i]->gid) ||
			    setresuid(who[i]->uid, who[i]->uid, who[i]->uid))
				_exit(1);
			read_until_stopped(r, i);
			_exit(0);
		}
	}
	for (int i = 0; i < RELOADS; i++) {
		if (fusebpf_policy_apply(&maps, &pol[i % 2], err, sizeof(err)))
			tl_die("reload %d: %s", i, err);
		loads++;
		/* a breath between loads, as between two admin commands */
		nanosleep(&(struct timespec){ 0, 500 * 1000 }, NULL);
	}
	r->stop = 1;
	for (int i = 0; i < 2; i++)
		waitpid(pid[i], &status, 0);
	printf("# %d loads in %lds: app2 %ld/%ld reads succeeded, app1 %ld/%ld\n",
	       loads, (long)(time(NULL) - start), r->ok[0], r->tries[0], r->ok[1],
	       r->tries[1]);
	tl_check("reload: the readers ran", r->tries[0] > 100 && r->tries[1] > 100,
		 "app2 %ld, app1 %ld reads", r->tries[0], r->tries[1]);
	tl_check("reload: app2 never reads app1's file during loads", r->ok[0] == 0,
		 "%ld of %ld reads succeeded", r->ok[0], r->tries[0]);
	tl_check("reload: app1 always reads its file during loads",
		 r->ok[1] == r->tries[1], "%ld of %ld reads failed",
		 r->tries[1] - r->ok[1], r->tries[1]);
	munmap(r, sizeof(*r));
	fusebpf_policy_maps_close(&maps);
	fusebpf_policy_free(&pol[0]);
	fusebpf_policy_free(&pol[1]);
	tl_check("reload: the suite's policy loaded again", run(good_argv, err, sizeof(err)) == 0,
		 "%s", err);
	expect(&APP2, "after the reloads: app1's dir ENOENT", OP_STAT, APP1_DIR, NULL, ENOENT);
}

/*
 * A loader that died mid-load (meta.loading names a dead pid): decisions
 * fail closed (EIO) rather than read half-written maps, and the next load
 * takes the dead loader's turn.
 */
static void test_reload_dead_loader(void)
{
	char *load_argv[] = { (char *)ctl, "policy", "load", (char *)policy_file,
			      (char *)mnt, NULL };
	struct fusebpf_policy_meta *m;
	char out[1024];
	int fd = pinned("meta"), status, rc;
	pid_t dead = fork();

	if (dead == 0)
		_exit(0);
	waitpid(dead, &status, 0);
	m = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		tl_die("mmap meta: %s", strerror(errno));
	__atomic_store_n(&m->loading, (uint32_t)dead, __ATOMIC_SEQ_CST);
	expect(&APP1, "dead loader: the owner's stat fails closed (EIO)", OP_STAT,
	       APP1_DIR "/files/notes.txt", NULL, EIO);
	rc = run(load_argv, out, sizeof(out));
	tl_check("dead loader: the next policy load takes its turn", rc == 0 &&
		 __atomic_load_n(&m->loading, __ATOMIC_SEQ_CST) == 0,
		 "exit %d, loading %u: %s", rc, m->loading, out);
	expect(&APP1, "dead loader: then the owner reads its file", OP_READ,
	       APP1_DIR "/files/notes.txt", NULL, 0);
	expect(&APP2, "dead loader: and app2 still cannot", OP_READ,
	       APP1_DIR "/files/notes.txt", NULL, ENOENT);
	munmap(m, sysconf(_SC_PAGESIZE));
}

static void test_policy_files(void)
{
	char out[4096], want[PATH_MAX + 16];
	const char *bad = write_policy("bad.policy",
		"privileged-uid 0\n# fine so far\nread-only DCIM\nowner-only Android/../etc\n");
	const char *relaxed;
	uint64_t gen = generation();
	char *check_argv[] = { (char *)ctl, "policy", "check", (char *)bad, NULL };
	char *load_argv[] = { (char *)ctl, "policy", "load", (char *)bad, (char *)mnt, NULL };
	char *good_argv[] = { (char *)ctl, "policy", "load", NULL, (char *)mnt, NULL };
	const char *mnt2 = tl_path("%s/../policy-mnt2", back);
	char *daemon_argv[] = { (char *)daemon_bin, (char *)back, (char *)mnt2, "-o",
				NULL, NULL };
	char opt[PATH_MAX + 16];
	int rc;

	snprintf(want, sizeof(want), "%s:4:", bad);
	rc = run(check_argv, out, sizeof(out));
	tl_check("policy check of a bad file: exit 1, FILE:LINE", rc == 1 && strstr(out, want),
		 "exit %d, output: %s", rc, out);
	rc = run(load_argv, out, sizeof(out));
	tl_check("policy load of a bad file: exit 1, FILE:LINE", rc == 1 && strstr(out, want),
		 "exit %d, output: %s", rc, out);
	tl_check("policy load of a bad file: maps untouched", generation() == gen,
		 "generation moved");
	expect(&APP2, "bad file: running policy stays", OP_STAT, APP1_DIR, NULL, ENOENT);
	expect(&APP1, "bad file: running policy stays (DCIM writable)", OP_CREATE, "DCIM/x.jpg", NULL, 0);

	mkdir(mnt2, 0755);
	snprintf(opt, sizeof(opt), "policy=%s", bad);
	daemon_argv[4] = opt;
	rc = run(daemon_argv, out, sizeof(out));
	tl_check("fusebpfd -o policy=BAD: exit non-zero, FILE:LINE",
		 rc != 0 && strstr(out, want), "exit %d, output: %s", rc, out);
	tl_check("fusebpfd -o policy=BAD: nothing mounted",
		 TL_ERR(umount2(mnt2, MNT_DETACH)) == EINVAL, "a mount was left");
	rmdir(mnt2);

	/* a good load applies to inodes the kernel and daemon have cached */
	expect(&APP2, "before reload: obb of app1 ENOENT", OP_STAT, APP1_OBB, NULL, ENOENT);
	relaxed = write_policy("relaxed.policy",
		"privileged-uid 0 1023\nowner-only Android/data/*\nread-only DCIM/Camera\n"
		"hide .transforms exempt=privileged\nhide Android/secret\nserved Music\n"
		"audit Download\n");
	good_argv[3] = (char *)relaxed;
	rc = run(good_argv, out, sizeof(out));
	tl_check("policy load of a good file", rc == 0, "exit %d: %s", rc, out);
	tl_check("policy load bumps the generation", generation() == gen + 1, "generation %" PRIu64,
		 generation());
	expect(&APP2, "after reload: obb no longer owner-only", OP_STAT, APP1_OBB "/main.obb", NULL, 0);
	expect(&APP2, "after reload: data still owner-only", OP_STAT, APP1_DIR, NULL, ENOENT);
	good_argv[3] = (char *)policy_file;
	rc = run(good_argv, out, sizeof(out));
	tl_check("policy load of the original file", rc == 0, "exit %d: %s", rc, out);
	expect(&APP2, "original again: obb ENOENT", OP_STAT, APP1_OBB, NULL, ENOENT);
	expect(&APP1, "original again: owner sees obb", OP_STAT, APP1_OBB "/main.obb", NULL, 0);
}

int main(int argc, char **argv)
{
	struct fusebpf_instance inst;
	struct tl_counters c;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--backing") && i + 1 < argc)
			back = argv[++i];
		else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			policy_file = argv[++i];
		else if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
			ctl = argv[++i];
		else if (!strcmp(argv[i], "--daemon") && i + 1 < argc)
			daemon_bin = argv[++i];
		else if (!strcmp(argv[i], "--casefold"))
			casefold = true;
		else if (!mnt && argv[i][0] != '-')
			mnt = argv[i];
		else
			tl_die("usage: policy_suite MOUNT --backing DIR --policy FILE --ctl FUSEBPFCTL --daemon FUSEBPFD [--casefold]");
	}
	if (!mnt || !back || !policy_file || !ctl || !daemon_bin)
		tl_die("usage: policy_suite MOUNT --backing DIR --policy FILE --ctl FUSEBPFCTL --daemon FUSEBPFD [--casefold]");
	if (geteuid() != 0)
		tl_die("must run as root (switches uids, reads pinned maps)");
	if (fusebpf_instance_open(mnt, &inst))
		tl_die("no fusebpfd instance for %s", mnt);
	snprintf(instance, sizeof(instance), "%s", inst.name);
	fusebpf_instance_close(&inst);
	snprintf(pin_dir, sizeof(pin_dir), FUSEBPF_POLICY_PIN_DIR "/%s", instance);
	tl_counters_read(mnt, &c);
	mode = c.mode;
	printf("# policy suite on %s (instance %s, mode %s, maps %s)\n", mnt, instance,
	       fusebpf_mode_name(mode), pin_dir);
	libbpf_set_print(NULL);
	build_tree();

	test_owner_only();
	test_nested_rules();
	test_cached_dentry();
	/*
	 * Mode bpf: the kernel performs the rename of a backed directory and
	 * the moved subtree keeps the tags it was resolved with (issue 10,
	 * kernel review M2/M3): not fixed there yet, so not claimed.
	 */
	if (mode == FUSEBPF_MODE_BPF)
		printf("# SKIP test_move_rejudged: mode bpf does not re-judge a subtree the kernel moved (open)\n");
	else
		test_move_rejudged();
	test_passed_fd();
	test_read_only();
	test_hidden();
	test_bpftool_flip();
	test_daemon_decisions();
	if (casefold) {
		test_casefold();
		test_casefold_served();
	}
	test_daemon_judges();
	test_policy_files();
	if (casefold) {
		/*
		 * Not about names, and under qemu TCG the 2000 loads of
		 * test_reload_atomic leave the mount hung (a daemon thread in
		 * D state taking a directory lock, readers waiting for their
		 * LOOKUP), casefolded or not: the VM step casefold would only
		 * time out there.
		 */
		printf("# SKIP test_reload_atomic, test_reload_dead_loader (--casefold)\n");
	} else if (mode == FUSEBPF_MODE_BPF) {
		/*
		 * The kernel filter reads the maps without the load-in-
		 * progress flag and kernel tags carry no policy generation
		 * (issue 10 item 3 in mode bpf: open); under TCG the 2000
		 * loads also outlast the suite's timeout.
		 */
		printf("# SKIP test_reload_atomic, test_reload_dead_loader: not atomic in mode bpf yet (open)\n");
	} else {
		test_reload_atomic();
		test_reload_dead_loader();
	}
	return tl_done();
}
