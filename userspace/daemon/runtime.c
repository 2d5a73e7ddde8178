// SPDX-License-Identifier: GPL-2.0
/*
 * /run/fusebpf/<instance>/{info,stats}. The stats must count INIT, which
 * arrives before we know the instance name (the connection id of the new
 * mount), so they live in /run/fusebpf/.starting-<pid>/ until the mount is
 * up, and that directory is then renamed to the instance name.
 *
 * All of it is root's and writable by root only (fusebpfctl refuses state
 * that is not, include/fusebpf/instance.h): the daemon runs with umask 0
 * for its callers' creations, so every mode here is explicit. Directories
 * left by daemons that are gone (SIGKILL) are removed at the next start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fusebpf/instance.h"
#include "fusebpf/mountinfo.h"
#include "fusebpfd.h"
#include "policy_maps.h"

#define STARTING_PREFIX	".starting-"
#define DIR_MODE	0755
#define FILE_MODE	0644

static char run_dir[PATH_MAX];

/* room for run_dir plus a file name */
#define FILE_PATH_MAX (PATH_MAX + 16)

static void remove_dir(const char *dir)
{
	char path[FILE_PATH_MAX];

	snprintf(path, sizeof(path), "%s/info", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stats", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/supervisor", dir);
	unlink(path);
	rmdir(dir);
}

/* A directory of ours with exactly DIR_MODE, whatever the umask */
static int make_dir(const char *path, bool may_exist)
{
	struct stat st;
	int fd, ret = 0;

	if (mkdir(path, DIR_MODE) && !(may_exist && errno == EEXIST))
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
	} else if (st.st_uid != geteuid()) {
		log_error("%s is owned by uid %u, not by us: refusing it", path,
			  (unsigned int)st.st_uid);
		ret = -EPERM;
	} else if ((st.st_mode & 07777) != DIR_MODE && fchmod(fd, DIR_MODE)) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

/* A new file of ours with exactly FILE_MODE (a leftover is replaced) */
static int make_file(const char *path, int flags)
{
	int fd;

	unlink(path);
	fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  FILE_MODE);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, FILE_MODE)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* pid recorded in @dir/info, or 0 */
static pid_t instance_pid(const char *dir)
{
	char path[FILE_PATH_MAX], line[64];
	pid_t pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/info", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "pid=", 4))
			pid = atoi(line + 4);
	fclose(f);
	return pid;
}

/*
 * Removes the directories of daemons that are gone: a SIGKILLed daemon
 * cannot remove its own, and a stale info would point fusebpfctl at a pid
 * that may since belong to another program. Live daemons (of any build)
 * keep theirs.
 */
static void remove_stale(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dh = opendir(FUSEBPF_RUN_DIR);
	pid_t pid;

	while (dh && (de = readdir(dh))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s", de->d_name);
		pid = !strncmp(de->d_name, STARTING_PREFIX, strlen(STARTING_PREFIX)) ?
		      atoi(de->d_name + strlen(STARTING_PREFIX)) :
		      instance_pid(path);
		if (pid == getpid() || fusebpf_pid_check(pid) == 0)
			continue;
		log_info("removing %s: its daemon (pid %d) is gone", path, pid);
		if (de->d_type != DT_DIR)
			unlink(path);
		else
			remove_dir(path);
		/* and the policy maps it pinned (it never got to unpin them) */
		if (de->d_name[0] != '.')
			policy_unpin_dead(de->d_name);
	}
	if (dh)
		closedir(dh);
}

int runtime_create(struct daemon *d)
{
	char path[FILE_PATH_MAX];
	void *map;
	int fd, ret;

	ret = make_dir(FUSEBPF_RUN_DIR, true);
	if (ret)
		return ret;
	remove_stale();
	snprintf(run_dir, sizeof(run_dir), FUSEBPF_RUN_DIR "/" STARTING_PREFIX "%d",
		 getpid());
	remove_dir(run_dir);	/* of an earlier process with our pid */
	ret = make_dir(run_dir, false);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/stats", run_dir);
	fd = make_file(path, O_RDWR);
	if (fd < 0 || ftruncate(fd, sizeof(*d->stats))) {
		int err = fd < 0 ? fd : -errno;

		if (fd >= 0)
			close(fd);
		remove_dir(run_dir);
		return err;
	}
	map = mmap(NULL, sizeof(*d->stats), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		remove_dir(run_dir);
		return -errno;
	}
	d->stats = map;
	d->stats->magic = FUSEBPF_STATS_MAGIC;
	d->stats->version = FUSEBPF_STATS_VERSION;
	d->stats->nr_opcodes = FUSEBPF_STATS_OPCODES;
	return 0;
}

/* major:minor of the FUSE mount on our mountpoint (the top-most one there) */
static int mount_dev(const char *mountpoint, dev_t *dev)
{
	struct mount_entry *e = malloc(sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	ret = mountinfo_find(mountpoint, 0, e);
	if (!ret && strncmp(e->fstype, "fuse", 4))
		ret = -ENOENT;
	if (!ret)
		*dev = e->dev;
	free(e);
	return ret;
}

static int write_info(struct daemon *d, const char *connection)
{
	char path[FILE_PATH_MAX];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/info", run_dir);
	fd = make_file(path, O_WRONLY);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	/* supervised (-o restart=on): the supervisor, which outlives us */
	fprintf(f, "pid=%d\nmode=%s\nbacking=%s\nmountpoint=%s\ninstance=%s\nconnection=%s\n",
		d->ho ? getppid() : getpid(), fusebpf_mode_name(d->mode),
		d->backing, d->mountpoint, d->instance, connection);
	return fclose(f) ? -errno : 0;
}

/*
 * Publishes the complete .starting directory under the instance name with
 * one rename. A default name is the connection id of a live mount, so a
 * directory already there belongs to a mount that is gone (its daemon may
 * not have cleaned up yet: it only removes a directory holding its own
 * pid) and is replaced. An explicit name in use by a live daemon is an
 * error.
 */
int runtime_publish(struct daemon *d)
{
	char dir[PATH_MAX], connection[FUSEBPF_INSTANCE_NAME_MAX];
	dev_t dev = 0;
	pid_t owner;
	int ret;

	/* fusebpfctl checks that the mountpoint is this connection's mount */
	ret = mount_dev(d->mountpoint, &dev);
	if (ret) {
		log_error("cannot find the new mount in /proc/self/mountinfo");
		return ret;
	}
	fusebpf_instance_name_of_dev(dev, connection, sizeof(connection));
	snprintf(d->instance, sizeof(d->instance), "%s",
		 d->opts.instance[0] ? d->opts.instance : connection);
	ret = write_info(d, connection);
	if (ret) {
		log_error("cannot write %s/info: %s", run_dir, strerror(-ret));
		return ret;
	}
	snprintf(dir, sizeof(dir), FUSEBPF_RUN_DIR "/%s", d->instance);
	owner = instance_pid(dir);
	if (d->opts.instance[0] && owner > 0 && owner != getpid() &&
	    fusebpf_pid_check(owner) == 0) {
		log_error("instance %s is already running (pid %d)",
			  d->instance, owner);
		return -EEXIST;
	}
	remove_dir(dir);
	if (rename(run_dir, dir)) {
		ret = -errno;
		log_error("cannot create %s: %s", dir, strerror(-ret));
		return ret;
	}
	snprintf(run_dir, sizeof(run_dir), "%s", dir);
	return 0;
}

int runtime_adopt(struct daemon *d)
{
	char path[FILE_PATH_MAX];
	void *map;
	int fd;

	snprintf(run_dir, sizeof(run_dir), FUSEBPF_RUN_DIR "/%s", d->instance);
	snprintf(path, sizeof(path), "%s/stats", run_dir);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, sizeof(*d->stats), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	d->stats = map;
	return 0;
}

void runtime_remove_instance(const char *name)
{
	char dir[PATH_MAX];

	if (!*name || strchr(name, '/') || name[0] == '.')
		return;
	snprintf(dir, sizeof(dir), FUSEBPF_RUN_DIR "/%s", name);
	remove_dir(dir);
}

void runtime_remove(struct daemon *d)
{
	if (d->stats)
		munmap(d->stats, sizeof(*d->stats));
	d->stats = NULL;
	if (run_dir[0] && (strstr(run_dir, "/" STARTING_PREFIX) ||
			   instance_pid(run_dir) == getpid()))
		remove_dir(run_dir);
	run_dir[0] = '\0';
}
