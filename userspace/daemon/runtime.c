// SPDX-License-Identifier: GPL-2.0
/*
 * /run/fusebpf/<instance>/{info,stats}. The stats must count INIT, which
 * arrives before we know the instance name (the connection id of the new
 * mount), so they live in /run/fusebpf/.starting-<pid>/ until the mount is
 * up, and that directory is then renamed to the instance name.
 */
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
	rmdir(dir);
}

int runtime_create(struct daemon *d)
{
	char path[FILE_PATH_MAX];
	void *map;
	int fd;

	if (mkdir(FUSEBPF_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	snprintf(run_dir, sizeof(run_dir), FUSEBPF_RUN_DIR "/.starting-%d",
		 getpid());
	if (mkdir(run_dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/stats", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, sizeof(*d->stats))) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		remove_dir(run_dir);
		return -err;
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

static int write_info(struct daemon *d)
{
	char path[FILE_PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/info", run_dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "pid=%d\nmode=%s\nbacking=%s\nmountpoint=%s\ninstance=%s\n",
		getpid(), fusebpf_mode_name(d->mode), d->backing, d->mountpoint,
		d->instance);
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
	char dir[PATH_MAX];
	dev_t dev = 0;
	pid_t owner;
	int ret;

	if (!d->opts.instance[0]) {
		ret = mount_dev(d->mountpoint, &dev);
		if (ret) {
			log_error("cannot find the new mount in /proc/self/mountinfo");
			return ret;
		}
		fusebpf_instance_name_of_dev(dev, d->instance,
					     sizeof(d->instance));
	} else {
		snprintf(d->instance, sizeof(d->instance), "%s",
			 d->opts.instance);
	}
	ret = write_info(d);
	if (ret) {
		log_error("cannot write %s/info: %s", run_dir, strerror(-ret));
		return ret;
	}
	snprintf(dir, sizeof(dir), FUSEBPF_RUN_DIR "/%s", d->instance);
	owner = instance_pid(dir);
	if (d->opts.instance[0] && owner > 0 && kill(owner, 0) == 0) {
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

void runtime_remove(struct daemon *d)
{
	if (d->stats)
		munmap(d->stats, sizeof(*d->stats));
	d->stats = NULL;
	if (run_dir[0] && (strstr(run_dir, "/.starting-") ||
			   instance_pid(run_dir) == getpid()))
		remove_dir(run_dir);
	run_dir[0] = '\0';
}
