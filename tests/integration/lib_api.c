// SPDX-License-Identifier: GPL-2.0
/*
 * libfusebpf's API (include/fusebpf/fusebpf.h) beyond what fusebpfd and
 * the media indexer use:
 *
 *   lib_api SCRATCH [--mode M]
 *
 *  - create refuses what it must (struct sizes, missing or busy dirs,
 *    a policy that does not compile, file and text together) with a
 *    one-line reason and mounts nothing;
 *  - start returns once mounted, the mount serves, stats count, a policy
 *    loaded as text applies to the next op, stop + wait unmount it;
 *  - nothing process-wide changed without a flag (umask, SIGTERM
 *    disposition, RLIMIT_NOFILE);
 *  - a connection mounted by someone else (config.dev_fuse_fd: mount(2)
 *    with fd=N, as a supervisor would) is served and not unmounted by
 *    the library;
 *  - log and ready hooks are called.
 * Needs root (mount(2), policy maps).
 */
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "fusebpf/fusebpf.h"
#include "testlib.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

static char back[PATH_MAX], mnt[PATH_MAX];
static uint32_t mode;

struct seen {
	int logs, ready, ready_status;
};

static void on_log(void *ctx, int level, const char *msg)
{
	struct seen *s = ctx;

	(void)level;
	(void)msg;
	__atomic_add_fetch(&s->logs, 1, __ATOMIC_RELAXED);
}

static void on_ready(void *ctx, int status)
{
	struct seen *s = ctx;

	s->ready++;
	s->ready_status = status;
}

static bool mounted(const char *path)
{
	char line[PATH_MAX * 2];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, path) && strstr(line, "fuse"))
			found = true;
	if (f)
		fclose(f);
	return found;
}

static int create(struct fusebpf_config *cfg, struct fusebpf_hooks *hooks,
		  struct fusebpf_mount **m, char *err, size_t len)
{
	err[0] = '\0';
	return fusebpf_mount_create(cfg, hooks, m, err, len);
}

static void test_create_refuses(void)
{
	struct fusebpf_config cfg = FUSEBPF_CONFIG_INIT;
	struct fusebpf_hooks hooks = FUSEBPF_HOOKS_INIT;
	struct fusebpf_mount *m = NULL;
	char err[512], nodir[PATH_MAX + 8];
	int ret;

	cfg.backing = back;
	cfg.mountpoint = mnt;
	cfg.size = sizeof(cfg) + 8;
	ret = create(&cfg, NULL, &m, err, sizeof(err));
	tl_check("create: a longer config than known is refused",
		 ret == -EINVAL && !m && strstr(err, "size"), "%d '%s'", ret, err);
	cfg.size = sizeof(cfg);
	hooks.size = 2;
	ret = create(&cfg, &hooks, &m, err, sizeof(err));
	tl_check("create: a hooks struct too short for its size field is refused",
		 ret == -EINVAL && !m, "%d '%s'", ret, err);
	snprintf(nodir, sizeof(nodir), "%s/none", back);
	cfg.backing = nodir;
	ret = create(&cfg, NULL, &m, err, sizeof(err));
	tl_check("create: a missing backing dir is refused with its name",
		 ret == -ENOENT && strstr(err, "backing directory") &&
		 strstr(err, "none"), "%d '%s'", ret, err);
	cfg.backing = back;
	cfg.mountpoint = "/proc";
	ret = create(&cfg, NULL, &m, err, sizeof(err));
	tl_check("create: a busy mountpoint is refused", ret == -EBUSY &&
		 strstr(err, "busy"), "%d '%s'", ret, err);
	cfg.mountpoint = mnt;
	cfg.policy_text = "owner-only\n";
	ret = create(&cfg, NULL, &m, err, sizeof(err));
	tl_check("create: a policy that does not compile is refused",
		 ret == -EINVAL && strstr(err, "owner-only"), "%d '%s'", ret, err);
	cfg.policy_file = "/dev/null";
	cfg.policy_text = "read-only x\n";
	ret = create(&cfg, NULL, &m, err, sizeof(err));
	tl_check("create: a policy file and text together are refused",
		 ret == -EINVAL && strstr(err, "not both"), "%d '%s'", ret, err);
	tl_check("create: nothing was mounted", !mounted(mnt), "mounted");
}

static void test_start_stop(void)
{
	struct fusebpf_config cfg = FUSEBPF_CONFIG_INIT;
	struct fusebpf_hooks hooks = FUSEBPF_HOOKS_INIT;
	struct fusebpf_mount_stats st = { .size = sizeof(st) };
	struct seen seen = { 0 };
	struct fusebpf_mount *m;
	struct sigaction before, after;
	struct rlimit lim_before, lim_after;
	char err[512], path[PATH_MAX + 16];
	mode_t umask_before, umask_after;
	int ret;

	cfg.backing = back;
	cfg.mountpoint = mnt;
	cfg.mode = mode;
	cfg.policy_text = "privileged-uid 0\n";
	hooks.ctx = &seen;
	hooks.log = on_log;
	hooks.ready = on_ready;
	umask(022);
	umask_before = 022;
	sigaction(SIGTERM, NULL, &before);
	getrlimit(RLIMIT_NOFILE, &lim_before);
	ret = create(&cfg, &hooks, &m, err, sizeof(err));
	if (!tl_check_errno("create", -ret, 0)) {
		printf("# %s\n", err);
		return;
	}
	ret = fusebpf_mount_start(m);
	tl_check_errno("start: mounted on return", -ret, 0);
	tl_check("start: mounted", mounted(mnt), "not in /proc/self/mounts");
	tl_check("start: ready hook once, status 0", seen.ready == 1 &&
		 seen.ready_status == 0, "%d calls, status %d", seen.ready,
		 seen.ready_status);
	tl_check("mode and instance known", fusebpf_mount_mode(m) != 0 &&
		 fusebpf_mount_instance(m)[0], "mode %u instance '%s'",
		 fusebpf_mount_mode(m), fusebpf_mount_instance(m));
	snprintf(path, sizeof(path), "%s/a", mnt);
	tl_check_call("the mount serves: mkdir", mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a", back);
	tl_check("... in the backing", tl_stat_err(path) == 0, "missing");
	ret = fusebpf_mount_stats(m, &st);
	/* FUSE_INIT 26; FUSE_MKDIR 9 (mode bpf: the kernel makes it) */
	tl_check("stats: INIT and MKDIR counted", ret == 0 &&
		 st.requests[26] == 1 &&
		 (st.requests[9] >= 1 || mode == FUSEBPF_MOUNT_MODE_BPF) &&
		 st.mode == fusebpf_mount_mode(m), "ret %d init %llu mkdir %llu",
		 ret, (unsigned long long)st.requests[26],
		 (unsigned long long)st.requests[9]);
	ret = fusebpf_mount_policy_load_text(m, "hide a\n", err, sizeof(err));
	tl_check("policy load (text)", ret == 0, "%d '%s'", ret, err);
	snprintf(path, sizeof(path), "%s/a", mnt);
	/* the daemon applies a load within 50 ms (policy_reload.c) */
	for (int i = 0; i < 40 && tl_stat_err(path) == 0; i++)
		usleep(50000);
	tl_check("... applies: the hidden name is gone", tl_stat_err(path) == ENOENT,
		 "stat: %s", tl_errname(tl_stat_err(path)));
	ret = fusebpf_mount_policy_load_text(m, "bogus\n", err, sizeof(err));
	tl_check("policy load of a bad text changes nothing", ret == -EINVAL &&
		 tl_stat_err(path) == ENOENT, "%d '%s'", ret, err);
	umask_after = umask(022);
	sigaction(SIGTERM, NULL, &after);
	getrlimit(RLIMIT_NOFILE, &lim_after);
	tl_check("no process-wide change: umask", umask_after == umask_before,
		 "%03o", umask_after);
	tl_check("no process-wide change: SIGTERM", after.sa_handler ==
		 before.sa_handler, "handler changed");
	tl_check("no process-wide change: RLIMIT_NOFILE", lim_after.rlim_cur ==
		 lim_before.rlim_cur, "%llu -> %llu",
		 (unsigned long long)lim_before.rlim_cur,
		 (unsigned long long)lim_after.rlim_cur);
	fusebpf_mount_stop(m);
	ret = fusebpf_mount_wait(m);
	tl_check_errno("stop + wait: run ended cleanly", -ret, 0);
	tl_check("stop: unmounted", !mounted(mnt), "still mounted");
	fusebpf_mount_destroy(m);
	snprintf(path, sizeof(path), "%s/a", back);
	rmdir(path);
}

/* a supervisor's connection: mount(2) with fd=N, the library serves it */
static void test_dev_fuse_fd(void)
{
	struct fusebpf_config cfg = FUSEBPF_CONFIG_INIT;
	struct fusebpf_mount *m;
	char opts[128], err[512], path[PATH_MAX + 16];
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0) {
		tl_skip("dev_fuse_fd", "/dev/fuse: %s", strerror(errno));
		return;
	}
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other",
		 fd);
	if (mount("supervised", mnt, "fuse.fusebpf", MS_NOSUID | MS_NODEV, opts)) {
		tl_fail("dev_fuse_fd: mount(2)", "%s", strerror(errno));
		close(fd);
		return;
	}
	cfg.backing = back;
	cfg.mountpoint = mnt;
	cfg.mode = mode == FUSEBPF_MOUNT_MODE_BPF ? mode : FUSEBPF_MOUNT_MODE_USERSPACE;
	cfg.dev_fuse_fd = fd;
	ret = create(&cfg, NULL, &m, err, sizeof(err));
	if (!tl_check_errno("dev_fuse_fd: create over the mounted mountpoint", -ret, 0)) {
		printf("# %s\n", err);
		umount2(mnt, MNT_DETACH);
		close(fd);
		return;
	}
	ret = fusebpf_mount_start(m);
	tl_check_errno("dev_fuse_fd: start", -ret, 0);
	snprintf(path, sizeof(path), "%s/b", mnt);
	tl_check_call("dev_fuse_fd: the connection serves", mkdir(path, 0755), 0);
	tl_check_call("... and rmdir", rmdir(path), 0);
	/* the mount belongs to the supervisor: it unmounts, the loop ends */
	tl_check_call("dev_fuse_fd: the supervisor unmounts", umount2(mnt, 0), 0);
	ret = fusebpf_mount_wait(m);
	tl_check("dev_fuse_fd: the loop ends with the connection", ret == 0,
		 "%d", ret);
	fusebpf_mount_destroy(m);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: lib_api SCRATCH [--mode M]\n");
		return 2;
	}
	if (argc >= 4 && !strcmp(argv[2], "--mode"))
		mode = !strcmp(argv[3], "bpf") ? FUSEBPF_MOUNT_MODE_BPF :
		       !strcmp(argv[3], "passthrough") ?
		       FUSEBPF_MOUNT_MODE_PASSTHROUGH : FUSEBPF_MOUNT_MODE_USERSPACE;
	snprintf(back, sizeof(back), "%s/backing", argv[1]);
	snprintf(mnt, sizeof(mnt), "%s/mnt", argv[1]);
	mkdir(argv[1], 0755);
	mkdir(back, 0755);
	mkdir(mnt, 0755);
	test_create_refuses();
	test_start_stop();
	test_dev_fuse_fd();
	printf("%d passed, %d failed\n", tl_passed, tl_failed);
	return tl_failed ? 1 : 0;
}
