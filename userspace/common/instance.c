// SPDX-License-Identifier: GPL-2.0
/* Reader side of /run/fusebpf/<instance>/; see include/fusebpf/instance.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fusebpf/instance.h"
#include "fusebpf/mountinfo.h"

static const char *const mode_names[] = {
	[FUSEBPF_MODE_AUTO]	   = "auto",
	[FUSEBPF_MODE_USERSPACE]   = "userspace",
	[FUSEBPF_MODE_PASSTHROUGH] = "passthrough",
	[FUSEBPF_MODE_BPF]	   = "bpf",
};

const char *fusebpf_mode_name(enum fusebpf_mode mode)
{
	if ((unsigned int)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return NULL;
	return mode_names[mode];
}

int fusebpf_mode_from_name(const char *name)
{
	for (unsigned int i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(name, mode_names[i]))
			return i;
	return -1;
}

/* FUSE opcodes of protocol 7.40 (include/uapi/linux/fuse.h) */
static const char *const opcode_names[FUSEBPF_STATS_OPCODES] = {
	[1] = "LOOKUP",		[2] = "FORGET",		[3] = "GETATTR",
	[4] = "SETATTR",	[5] = "READLINK",	[6] = "SYMLINK",
	[8] = "MKNOD",		[9] = "MKDIR",		[10] = "UNLINK",
	[11] = "RMDIR",		[12] = "RENAME",	[13] = "LINK",
	[14] = "OPEN",		[15] = "READ",		[16] = "WRITE",
	[17] = "STATFS",	[18] = "RELEASE",	[20] = "FSYNC",
	[21] = "SETXATTR",	[22] = "GETXATTR",	[23] = "LISTXATTR",
	[24] = "REMOVEXATTR",	[25] = "FLUSH",		[26] = "INIT",
	[27] = "OPENDIR",	[28] = "READDIR",	[29] = "RELEASEDIR",
	[30] = "FSYNCDIR",	[31] = "GETLK",		[32] = "SETLK",
	[33] = "SETLKW",	[34] = "ACCESS",	[35] = "CREATE",
	[36] = "INTERRUPT",	[37] = "BMAP",		[38] = "DESTROY",
	[39] = "IOCTL",		[40] = "POLL",		[41] = "NOTIFY_REPLY",
	[42] = "BATCH_FORGET",	[43] = "FALLOCATE",	[44] = "READDIRPLUS",
	[45] = "RENAME2",	[46] = "LSEEK",		[47] = "COPY_FILE_RANGE",
	[48] = "SETUPMAPPING",	[49] = "REMOVEMAPPING",	[50] = "SYNCFS",
	[51] = "TMPFILE",	[52] = "STATX",		[53] = "COPY_FILE_RANGE_64",
};

const char *fusebpf_opcode_name(unsigned int opcode)
{
	return opcode < FUSEBPF_STATS_OPCODES ? opcode_names[opcode] : NULL;
}

/* The kernel's internal dev_t of the superblock, as in /sys/fs/fuse/connections. */
void fusebpf_instance_name_of_dev(dev_t dev, char *buf, size_t len)
{
	snprintf(buf, len, "%u", (major(dev) << 20) | minor(dev));
}

/* Records why @inst is refused (one line) and returns @err. */
static int refuse(struct fusebpf_instance *inst, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct fusebpf_instance *inst, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(inst->error, sizeof(inst->error), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Runtime state is trusted only if root made it and nobody else can
 * change it: an app that could write an info file could send a policy
 * load to another mount, or hide the running instance.
 */
static int check_owner(struct fusebpf_instance *inst, const char *path,
		       const struct stat *st, mode_t type)
{
	if ((st->st_mode & S_IFMT) != type)
		return refuse(inst, -EPERM, "%s is not a %s: not trusted", path,
			      type == S_IFDIR ? "directory" : "regular file");
	if (st->st_uid != 0)
		return refuse(inst, -EPERM, "%s is owned by uid %u, not root: not trusted",
			      path, (unsigned int)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(inst, -EPERM, "%s is writable by others (mode %04o): not trusted",
			      path, (unsigned int)(st->st_mode & 07777));
	return 0;
}

static int check_path(struct fusebpf_instance *inst, const char *path,
		      mode_t type)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? -ENOENT :
		       refuse(inst, -errno, "%s: %s", path, strerror(errno));
	return check_owner(inst, path, &st, type);
}

/* Opens @name in the instance's directory, if it is trusted. */
static int open_state(struct fusebpf_instance *inst, const char *name,
		      int flags)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s/%s", inst->name, name);
	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT :
		       refuse(inst, -errno, "%s: %s", path, strerror(errno));
	err = fstat(fd, &st) ? -errno : check_owner(inst, path, &st, S_IFREG);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int fusebpf_pid_check(pid_t pid)
{
	char link[64], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0) {
		/* no process, a zombie, or a kernel thread */
		if (errno == ENOENT)
			return -ESRCH;
		if (errno == EACCES || errno == EPERM)
			return kill(pid, 0) && errno == ESRCH ? -ESRCH : -EACCES;
		return -errno;
	}
	exe[n] = '\0';
	/* an upgraded binary: "/path/fusebpfd (deleted)" */
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';
	base = strrchr(exe, '/');
	return strcmp(base ? base + 1 : exe, "fusebpfd") ? -ENOEXEC : 0;
}

/* info: key=value lines, each key once */
static int parse_info(struct fusebpf_instance *inst, FILE *f,
		      const char *path)
{
	char line[PATH_MAX + 32];
	unsigned int seen = 0;

	while (fgets(line, sizeof(line), f)) {
		static const char *const keys[] = {
			"pid", "mode", "backing", "mountpoint", "instance",
			"connection",
		};
		char *val = strchr(line, '=');
		unsigned int k;

		if (!strchr(line, '\n') && !feof(f))
			return refuse(inst, -EPERM, "%s: line too long: not trusted", path);
		if (!val)
			continue;
		*val++ = '\0';
		val[strcspn(val, "\n")] = '\0';
		for (k = 0; k < sizeof(keys) / sizeof(*keys); k++)
			if (!strcmp(line, keys[k]))
				break;
		if (k == sizeof(keys) / sizeof(*keys))
			continue;
		if (seen & (1u << k))
			return refuse(inst, -EPERM, "%s: '%s' given twice: not trusted",
				      path, line);
		seen |= 1u << k;
		if (!strcmp(line, "pid"))
			inst->pid = atoi(val);
		else if (!strcmp(line, "mode"))
			inst->mode = fusebpf_mode_from_name(val) < 0 ?
				     FUSEBPF_MODE_AUTO : fusebpf_mode_from_name(val);
		else if (!strcmp(line, "backing"))
			snprintf(inst->backing, sizeof(inst->backing), "%s", val);
		else if (!strcmp(line, "mountpoint"))
			snprintf(inst->mountpoint, sizeof(inst->mountpoint), "%s", val);
		else if (!strcmp(line, "connection"))
			snprintf(inst->connection, sizeof(inst->connection), "%s", val);
	}
	if (inst->pid <= 0 || !inst->mountpoint[0] || !inst->connection[0])
		return refuse(inst, -EPERM, "%s: no pid, mountpoint or connection: not trusted",
			      path);
	return 0;
}

/*
 * Reads and checks the state of instance @name: root's and writable by
 * root only, its pid a running fusebpfd, its mountpoint the mount of its
 * FUSE connection.
 */
static int read_info(const char *name, struct fusebpf_instance *inst)
{
	char path[PATH_MAX];
	struct mount_entry *m;
	FILE *f;
	int fd, err;

	memset(inst, 0, sizeof(*inst));
	if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || strlen(name) >= sizeof(inst->name))
		return -ENOENT;
	snprintf(inst->name, sizeof(inst->name), "%s", name);
	snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s", name);
	err = check_path(inst, path, S_IFDIR);
	fd = err ? err : open_state(inst, "info", O_RDONLY);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s/info", name);
	err = parse_info(inst, f, path);
	fclose(f);
	if (err)
		return err;
	switch (fusebpf_pid_check(inst->pid)) {
	case 0:
	case -EACCES:	/* not ours to see: the root-owned state vouches */
		break;
	case -ESRCH:
		return refuse(inst, -ENOENT, "instance %s: its daemon (pid %d) is gone; fusebpfd removes its state at the next start",
			      name, inst->pid);
	default:
		return refuse(inst, -EPERM, "instance %s: pid %d is not a fusebpfd: not trusted",
			      name, inst->pid);
	}
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	err = mountinfo_find(inst->mountpoint, 0, m);
	if (!err) {
		char conn[FUSEBPF_INSTANCE_NAME_MAX];

		fusebpf_instance_name_of_dev(m->dev, conn, sizeof(conn));
		if (strncmp(m->fstype, "fuse", 4) || strcmp(conn, inst->connection))
			err = -EXDEV;
	}
	free(m);
	if (err)
		return refuse(inst, -EPERM, "instance %s: %s is not the mount of its FUSE connection %s: not trusted",
			      name, inst->mountpoint, inst->connection);
	return 0;
}

/* Lexically absolute path, without touching the (maybe FUSE) filesystem. */
static void absolute_path(const char *in, char *out, size_t len)
{
	char cwd[PATH_MAX];
	size_t n;

	if (in[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, len, "%s", in);
	else
		n = snprintf(out, len, "%s/%s", cwd, in);
	if (n >= len)
		n = len - 1;
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
}

/*
 * The instance whose info names @mountpoint and passes the checks. One
 * that names it but fails them is skipped; the first such is kept in
 * @why (and its error in @why_err) to explain a miss.
 */
static int find_by_mountpoint(const char *mountpoint,
			      struct fusebpf_instance *inst,
			      struct fusebpf_instance *why, int *why_err)
{
	char want[PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir(FUSEBPF_RUN_DIR);
	int ret = -ENOENT, err;

	if (!dir)
		return -ENOENT;
	absolute_path(mountpoint, want, sizeof(want));
	while (ret && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		err = read_info(de->d_name, inst);
		if (strcmp(inst->mountpoint, want))
			continue;
		if (!err) {
			ret = 0;
		} else if (!*why_err && inst->error[0]) {
			*why = *inst;
			*why_err = err;
		}
	}
	closedir(dir);
	return ret;
}

static int map_stats(struct fusebpf_instance *inst)
{
	struct fusebpf_stats *stats;
	int fd = open_state(inst, "stats", O_RDONLY);

	if (fd < 0)
		return fd;
	stats = mmap(NULL, sizeof(*stats), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (stats == MAP_FAILED)
		return -errno;
	if (stats->magic != FUSEBPF_STATS_MAGIC ||
	    stats->version != FUSEBPF_STATS_VERSION) {
		munmap(stats, sizeof(*stats));
		return -EPROTO;
	}
	inst->stats = stats;
	return 0;
}

int fusebpf_instance_open(const char *mountpoint_or_name,
			  struct fusebpf_instance *inst)
{
	const char *arg = mountpoint_or_name;
	char name[FUSEBPF_INSTANCE_NAME_MAX];
	struct fusebpf_instance *why = calloc(1, sizeof(*why));
	struct stat st;
	int ret, why_err = 0;

	memset(inst, 0, sizeof(*inst));
	if (!why)
		return -ENOMEM;
	ret = check_path(inst, FUSEBPF_RUN_DIR, S_IFDIR);
	if (!ret)
		ret = find_by_mountpoint(arg, inst, why, &why_err);
	if (ret == -ENOENT && !strchr(arg, '/') && arg[0] != '.')
		ret = read_info(arg, inst);
	if (ret == -ENOENT && !inst->error[0] && stat(arg, &st) == 0) {
		fusebpf_instance_name_of_dev(st.st_dev, name, sizeof(name));
		ret = read_info(name, inst);
	}
	if (ret == -ENOENT && !inst->error[0] && why_err) {
		*inst = *why;
		ret = why_err;
	}
	free(why);
	if (!ret)
		ret = map_stats(inst);
	return ret;
}

void fusebpf_instance_close(struct fusebpf_instance *inst)
{
	if (inst->stats)
		munmap((void *)inst->stats, sizeof(*inst->stats));
	inst->stats = NULL;
}
