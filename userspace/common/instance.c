// SPDX-License-Identifier: GPL-2.0
/* Reader side of /run/fusebpf/<instance>/; see include/fusebpf/instance.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fusebpf/instance.h"

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

static int read_info(const char *name, struct fusebpf_instance *inst)
{
	char path[PATH_MAX], line[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s/info", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(inst, 0, sizeof(*inst));
	snprintf(inst->name, sizeof(inst->name), "%s", name);
	while (fgets(line, sizeof(line), f)) {
		char *val = strchr(line, '=');

		if (!val)
			continue;
		*val++ = '\0';
		val[strcspn(val, "\n")] = '\0';
		if (!strcmp(line, "pid"))
			inst->pid = atoi(val);
		else if (!strcmp(line, "mode"))
			inst->mode = fusebpf_mode_from_name(val) < 0 ?
				     FUSEBPF_MODE_AUTO : fusebpf_mode_from_name(val);
		else if (!strcmp(line, "backing"))
			snprintf(inst->backing, sizeof(inst->backing), "%s", val);
		else if (!strcmp(line, "mountpoint"))
			snprintf(inst->mountpoint, sizeof(inst->mountpoint), "%s", val);
	}
	fclose(f);
	return inst->pid > 0 ? 0 : -EINVAL;
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

static int find_by_mountpoint(const char *mountpoint,
			      struct fusebpf_instance *inst)
{
	char want[PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir(FUSEBPF_RUN_DIR);
	int ret = -ENOENT;

	if (!dir)
		return -ENOENT;
	absolute_path(mountpoint, want, sizeof(want));
	while (ret && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (!read_info(de->d_name, inst) &&
		    !strcmp(inst->mountpoint, want))
			ret = 0;
	}
	closedir(dir);
	return ret;
}

static int map_stats(struct fusebpf_instance *inst)
{
	char path[PATH_MAX];
	struct fusebpf_stats *stats;
	int fd;

	snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s/stats", inst->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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
	struct stat st;
	int ret;

	ret = find_by_mountpoint(arg, inst);
	if (ret && !strchr(arg, '/') && arg[0] != '.')
		ret = read_info(arg, inst);
	if (ret && stat(arg, &st) == 0) {
		fusebpf_instance_name_of_dev(st.st_dev, name, sizeof(name));
		ret = read_info(name, inst);
	}
	if (ret)
		return -ENOENT;
	if (kill(inst->pid, 0) && errno == ESRCH)
		return -ENOENT;
	return map_stats(inst);
}

void fusebpf_instance_close(struct fusebpf_instance *inst)
{
	if (inst->stats)
		munmap((void *)inst->stats, sizeof(*inst->stats));
	inst->stats = NULL;
}
