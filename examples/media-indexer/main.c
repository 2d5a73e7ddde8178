// SPDX-License-Identifier: GPL-2.0
/*
 * media-indexer: a small policy daemon over libfusebpf.
 *
 *   media-indexer BACKING MOUNTPOINT --db FILE [--decide REL]
 *                 [--grant UID:PREFIX:r|w]... [--mode M] [--loop]
 *
 * Mounts BACKING on MOUNTPOINT and keeps an SQLite index of the media
 * files under it (path, size, mtime, type by extension) current from the
 * mount's post-operation events; it scans the tree once at start and
 * again below a path whenever events were lost. With --decide, the
 * subtree REL is judged here: an app (uid) sees and changes only what the
 * grants table gives it (prefix + 'r' or 'w'; root: everything; REL
 * itself and the directories on the way to a grant: visible). Prints
 * "ready MODE" on stdout once mounted; SIGTERM/SIGINT or umount end it.
 * --loop serves from this program's own poll loop instead of the
 * library's threads.
 *
 * Limits: a hard-linked file written through one of its names is
 * re-indexed under that name only; changes made in BACKING directly (not
 * through the mount) are not seen until the next start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fusebpf/fusebpf.h>

#include "db.h"

struct indexer {
	struct db *db;
	int backing_fd;
	const char *decide;		/* the decided subtree, or NULL */
	struct fusebpf_mount *mount;
};

/* ---- the index ---- */

static void index_path(struct indexer *ix, const char *path)
{
	struct stat st;

	if (fstatat(ix->backing_fd, path, &st, AT_SYMLINK_NOFOLLOW))
		db_remove(ix->db, path);
	else
		db_put(ix->db, path, &st);
}

/* @path ("" the root) and everything below it, from the backing */
static void index_tree(struct indexer *ix, const char *path)
{
	struct stat st;
	struct dirent *de;
	char sub[4096];
	DIR *dir;
	int fd;

	if (*path && fstatat(ix->backing_fd, path, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (*path && !S_ISDIR(st.st_mode)) {
		db_put(ix->db, path, &st);
		return;
	}
	fd = openat(ix->backing_fd, *path ? path : ".",
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", path,
				     *path ? "/" : "", de->d_name) < sizeof(sub))
			index_tree(ix, sub);
	}
	closedir(dir);
}

static const char *const event_names[] = {
	[FUSEBPF_EV_CREATE] = "create", [FUSEBPF_EV_MKDIR] = "mkdir",
	[FUSEBPF_EV_MKNOD] = "mknod", [FUSEBPF_EV_SYMLINK] = "symlink",
	[FUSEBPF_EV_LINK] = "link", [FUSEBPF_EV_UNLINK] = "unlink",
	[FUSEBPF_EV_RMDIR] = "rmdir", [FUSEBPF_EV_RENAME] = "rename",
	[FUSEBPF_EV_TRUNCATE] = "truncate",
	[FUSEBPF_EV_CLOSE_WRITE] = "close_write",
	[FUSEBPF_EV_OVERFLOW] = "overflow",
};

/* post-operation events: one at a time, in the order of the changes */
static void on_event(void *ctx, const struct fusebpf_event *ev)
{
	struct indexer *ix = ctx;

	db_log_event(ix->db, ev->seq,
		     ev->type <= FUSEBPF_EV_OVERFLOW && event_names[ev->type] ?
		     event_names[ev->type] : "?", ev->path, ev->path2);
	switch (ev->type) {
	case FUSEBPF_EV_CREATE:
	case FUSEBPF_EV_MKNOD:
	case FUSEBPF_EV_LINK:
	case FUSEBPF_EV_TRUNCATE:
	case FUSEBPF_EV_CLOSE_WRITE:
		index_path(ix, ev->path);
		break;
	case FUSEBPF_EV_UNLINK:
		db_remove(ix->db, ev->path);
		break;
	case FUSEBPF_EV_RMDIR:
		db_remove_tree(ix->db, ev->path);
		break;
	case FUSEBPF_EV_RENAME:
		/* a file or a whole directory; an exchange swaps both */
		db_remove_tree(ix->db, ev->path);
		db_remove_tree(ix->db, ev->path2);
		index_tree(ix, ev->path2);
		index_tree(ix, ev->path);
		break;
	case FUSEBPF_EV_OVERFLOW:
		db_remove_tree(ix->db, ev->path);
		index_tree(ix, ev->path);
		break;
	default:	/* mkdir, symlink: nothing to index */
		break;
	}
}

/* ---- decisions in the --decide subtree ---- */

static bool at_or_below(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(path, top, n) && (!path[n] || path[n] == '/');
}

static int on_decide(void *ctx, const struct fusebpf_decision_req *r)
{
	struct indexer *ix = ctx;
	char full[4096];
	bool visible;
	char grant;

	if (r->uid == 0)
		return 0;
	if ((size_t)snprintf(full, sizeof(full), "%s%s%s", r->path,
			     r->name && *r->path ? "/" : "",
			     r->name ? r->name : "") >= sizeof(full))
		return ENAMETOOLONG;
	if (!ix->decide || !at_or_below(full, ix->decide))
		return 0;
	grant = db_grant_of(ix->db, r->uid, full);
	visible = grant || !strcmp(full, ix->decide) ||
		  db_grant_below(ix->db, r->uid, full);
	if (r->access == FUSEBPF_DECIDE_SEE)
		return visible ? 0 : ENOENT;
	if (grant == 'w')
		return 0;
	return visible ? EACCES : ENOENT;
}

/* ---- the mount ---- */

static void on_ready(void *ctx, int status)
{
	struct indexer *ix = ctx;

	if (status)
		return;
	printf("ready %s\n", fusebpf_mode_str(fusebpf_mount_mode(ix->mount)));
	fflush(stdout);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* --loop: this program's poll loop drives the mount */
static int serve_loop(struct indexer *ix)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd = { .events = POLLIN };
	int ret;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ret = fusebpf_mount_begin(ix->mount);
	if (ret)
		return ret;
	pfd.fd = fusebpf_mount_fd(ix->mount);
	for (;;) {
		if (stop_signal) {
			stop_signal = 0;
			fusebpf_mount_stop(ix->mount);
		}
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		/* hooks.ready comes from here once the mount is up */
		ret = fusebpf_mount_process(ix->mount);
		if (ret)
			return ret < 0 ? ret : 0;
	}
}

static int usage(void)
{
	fputs("usage: media-indexer BACKING MOUNTPOINT --db FILE [--decide REL]\n"
	      "                     [--grant UID:PREFIX:r|w]... [--mode M] [--loop]\n",
	      stderr);
	return 2;
}

static int add_grant(struct db *db, const char *arg)
{
	char prefix[4096];
	unsigned int uid;
	char mode;

	if (sscanf(arg, "%u:%4095[^:]:%c", &uid, prefix, &mode) != 3 ||
	    (mode != 'r' && mode != 'w')) {
		fprintf(stderr, "media-indexer: --grant %s: UID:PREFIX:r|w\n",
			arg);
		return -1;
	}
	return db_grant(db, uid, prefix, mode);
}

int main(int argc, char **argv)
{
	struct fusebpf_config cfg = FUSEBPF_CONFIG_INIT;
	struct fusebpf_hooks hooks = FUSEBPF_HOOKS_INIT;
	struct indexer ix = { .backing_fd = -1 };
	const char *args[2] = { NULL, NULL }, *dbfile = NULL;
	char policy[4200], err[512];
	bool loop = false;
	int nargs = 0, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			dbfile = argv[++i];
		else if (!strcmp(argv[i], "--decide") && i + 1 < argc)
			ix.decide = argv[++i];
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			cfg.mode = !strcmp(argv[++i], "bpf") ? FUSEBPF_MOUNT_MODE_BPF :
				   !strcmp(argv[i], "passthrough") ?
				   FUSEBPF_MOUNT_MODE_PASSTHROUGH :
				   !strcmp(argv[i], "userspace") ?
				   FUSEBPF_MOUNT_MODE_USERSPACE :
				   FUSEBPF_MOUNT_MODE_AUTO;
		else if (!strcmp(argv[i], "--grant") && i + 1 < argc)
			i++;	/* once the database is open */
		else if (!strcmp(argv[i], "--loop"))
			loop = true;
		else if (argv[i][0] != '-' && nargs < 2)
			args[nargs++] = argv[i];
		else
			return usage();
	}
	if (nargs != 2 || !dbfile)
		return usage();
	ix.db = db_open(dbfile);
	if (!ix.db)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--grant") && add_grant(ix.db, argv[++i]))
			return 1;
	ix.backing_fd = open(args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ix.backing_fd < 0) {
		fprintf(stderr, "media-indexer: %s: %s\n", args[0],
			strerror(errno));
		return 1;
	}
	/* the whole tree once; then the events keep it current */
	db_clear(ix.db);
	index_tree(&ix, "");

	cfg.backing = args[0];
	cfg.mountpoint = args[1];
	cfg.flags = loop ? 0 : FUSEBPF_MOUNT_SIGNALS;
	if (ix.decide) {
		snprintf(policy, sizeof(policy),
			 "privileged-uid 0\ndecide %s\n", ix.decide);
		cfg.policy_text = policy;
	}
	hooks.ctx = &ix;
	hooks.event = on_event;
	hooks.decide = on_decide;
	hooks.ready = on_ready;
	if (fusebpf_mount_create(&cfg, &hooks, &ix.mount, err, sizeof(err))) {
		fprintf(stderr, "media-indexer: %s\n", err);
		return 1;
	}
	ret = loop ? serve_loop(&ix) : fusebpf_mount_run(ix.mount);
	if (ret)
		fprintf(stderr, "media-indexer: %s\n", strerror(-ret));
	fusebpf_mount_destroy(ix.mount);
	db_close(ix.db);
	close(ix.backing_fd);
	return ret ? 1 : 0;
}
