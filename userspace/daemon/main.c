// SPDX-License-Identifier: GPL-2.0
/*
 * fusebpfd BACKING MOUNTPOINT [-f] [-d] [-o opt,...]
 *
 * Start-up: check the arguments (one-line error, nothing mounted), fork
 * unless -f, mount, run the libfuse loop; a start-up thread waits for the
 * INIT reply, finishes the mode set-up and publishes /run/fusebpf/<instance>
 * and only then tells the waiting parent to exit 0: the mount is ready
 * when the command returns. SIGTERM/SIGINT/SIGHUP or umount end the loop;
 * the daemon then unmounts and removes its runtime files.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/mountinfo.h"
#include "fusebpf/policy_compile.h"
#include "uapi/linux/fuse_bpf.h"
#include "fusebpfd.h"
#include "backing_watch.h"

#define INIT_TIMEOUT_SEC	30
#define MAX_THREADS		32
#define CACHE_TIMEOUT_SEC	1.0	/* entry_timeout, attr_timeout */

struct fuse_session *session_new(struct daemon *d);
void log_to_syslog(void);

static const char usage[] =
	"usage: fusebpfd BACKING MOUNTPOINT [-f] [-d] [-o opt[,opt...]]\n"
	"  -f                 stay in the foreground\n"
	"  -d                 debug output (implies -f)\n"
	"  -o mode=bpf|passthrough|userspace   (default: detect)\n"
	"  -o instance=NAME   runtime state in /run/fusebpf/NAME\n"
	"                     (default: the FUSE connection id)\n"
	"  -o served=REL[:REL...]  subtrees of BACKING served by the daemon\n"
	"  -o policy=FILE     enforce a policy file (see fusebpfctl policy)\n"
	"  -o watch_backing=on|off  invalidate kernel caches on changes made\n"
	"                     directly in BACKING (default on)\n"
	"  -o entry_timeout=SECS,attr_timeout=SECS  kernel cache (default 1)\n";

/* -o policy=FILE, compiled before anything is mounted */
static struct fusebpf_policy policy_file;

/* Is @path already a mount point? (mounting over it would hide a mount) */
static bool is_mount_point(const char *path)
{
	struct mount_entry *e = malloc(sizeof(*e));
	bool found;

	found = e && !mountinfo_find(path, 0, e);
	free(e);
	return found;
}

static int check_dir(const char *what, const char *arg, char *real)
{
	struct stat st;

	if (!realpath(arg, real) || stat(real, &st)) {
		fprintf(stderr, "fusebpfd: %s '%s': %s\n", what, arg,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fusebpfd: %s '%s': Not a directory\n", what,
			arg);
		return -1;
	}
	return 0;
}

static int check_args(struct daemon *d)
{
	if (check_dir("backing directory", d->opts.backing, d->backing) ||
	    check_dir("mountpoint", d->opts.mountpoint, d->mountpoint))
		return -1;
	if (is_mount_point(d->mountpoint)) {
		fprintf(stderr, "fusebpfd: mountpoint '%s' is busy (already a mount point)\n",
			d->mountpoint);
		return -1;
	}
	if (d->opts.policy) {
		char err[512];

		if (fusebpf_policy_compile_file(d->opts.policy, &policy_file,
						err, sizeof(err))) {
			fprintf(stderr, "fusebpfd: %s\n", err);
			return -1;
		}
		if (geteuid() != 0) {
			fprintf(stderr, "fusebpfd: policy=%s: policies need root (BPF maps)\n",
				d->opts.policy);
			return -1;
		}
	}
	if (d->opts.mode == FUSEBPF_MODE_BPF && !mode_bpf_available()) {
		fprintf(stderr, "fusebpfd: mode bpf: this kernel has no FUSE-BPF (%s missing)\n",
			FUSE_BPF_FEATURE_FILE);
		return -1;
	}
	return 0;
}

static int open_backing(struct daemon *d, int *root_fd)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h = { .fh.handle_bytes = MAX_HANDLE_SZ };
	struct stat st;

	d->mount_fd = open(d->backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*root_fd = open(d->backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->mount_fd < 0 || *root_fd < 0 || fstat(*root_fd, &st)) {
		log_error("backing directory '%s': %s", d->backing,
			  strerror(errno));
		return -1;
	}
	d->root_dev = st.st_dev;
	d->root_ino = st.st_ino;
	/* no handles (EOPNOTSUPP): every inode uses the O_PATH fallback */
	if (name_to_handle_at(d->mount_fd, "", &h.fh, &d->root_mount_id,
			      AT_EMPTY_PATH))
		d->root_mount_id = -1;
	return 0;
}

static int notify_fd = -1;

static void notify_parent(int status)
{
	unsigned char c = status;

	if (notify_fd < 0)
		return;
	if (write(notify_fd, &c, 1) != 1)
		log_error("cannot notify the parent: %s", strerror(errno));
	close(notify_fd);
	notify_fd = -1;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	log_to_syslog();
}

static bool startup_failed;

/* Runs beside the loop: the loop must be answering INIT meanwhile. */
static void *startup_thread(void *arg)
{
	struct daemon *d = arg;
	sigset_t set;
	int ret;

	/* termination signals must wake the loop threads, not this one */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	ret = raw_io_wait_init(d, INIT_TIMEOUT_SEC);
	if (ret)
		log_error("no INIT exchange with the kernel: %s", strerror(ret));
	if (!ret)
		ret = mode_start(d);
	if (!ret)
		ret = runtime_publish(d);
	if (!ret)
		ret = policy_pin(d);
	if (!ret && d->filter_id && policy_pin_dir(d))
		ret = bpf_filter_pin(policy_pin_dir(d));
	if (!ret)
		ret = policy_reload_start(d);
	if (!ret)
		ret = backing_watch_start(d);
	if (ret) {
		startup_failed = true;
		/* ends the loop: the kernel aborts the connection */
		umount2(d->mountpoint, MNT_DETACH);
		notify_parent(1);
		return NULL;
	}
	if (d->opts.foreground)
		log_info("%s mounted on %s, mode %s, instance %s", d->backing,
			 d->mountpoint, fusebpf_mode_name(d->mode), d->instance);
	notify_parent(0);
	if (!d->opts.foreground)
		detach_stdio();
	return NULL;
}

static int run(struct daemon *d)
{
	struct fuse_loop_config *cfg = NULL;
	pthread_t startup;
	int root_fd = -1, ret = 1;

	pthread_mutex_init(&d->init_lock, NULL);
	pthread_cond_init(&d->init_cond, NULL);
	/* attr 0 is kept as 1 ns: policy_timeout() 0 means "per caller" */
	d->timeout = d->opts.attr_timeout < 0 ? CACHE_TIMEOUT_SEC :
		     d->opts.attr_timeout > 0 ? d->opts.attr_timeout : 1e-9;
	d->entry_timeout = d->opts.entry_timeout < 0 ? CACHE_TIMEOUT_SEC :
			   d->opts.entry_timeout;
	if (open_backing(d, &root_fd))
		goto out_fds;
	ret = runtime_create(d);
	if (ret) {
		log_error("cannot create runtime state in %s: %s",
			  FUSEBPF_RUN_DIR, strerror(-ret));
		ret = 1;
		goto out_fds;
	}
	ret = inode_table_init(d, root_fd);
	if (ret) {
		log_error("backing directory '%s': %s", d->backing,
			  strerror(-ret));
		ret = 1;
		goto out_runtime;
	}
	root_fd = -1;	/* owned by the root inode */
	ret = 1;
	/*
	 * The policy maps exist in every instance run by root, so that
	 * `fusebpfctl policy load` can give any of them a policy later;
	 * only an explicit policy= makes their absence fatal.
	 */
	if (d->opts.policy || geteuid() == 0) {
		int err = policy_init(d, d->opts.policy ? &policy_file : NULL);

		if (err && d->opts.policy)
			goto out_table;
		if (err)
			log_error("running without policy maps");
	}
	d->se = session_new(d);
	if (!d->se)
		goto out_table;
	if (fuse_set_signal_handlers(d->se))
		goto out_session;
	if (fuse_session_mount(d->se, d->mountpoint))
		goto out_signals;
	if (fuse_session_custom_io(d->se, &raw_io, fuse_session_fd(d->se))) {
		log_error("cannot hook /dev/fuse I/O");
		goto out_unmount;
	}
	cfg = fuse_loop_cfg_create();
	if (!cfg || pthread_create(&startup, NULL, startup_thread, d))
		goto out_unmount;
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_max_threads(cfg, MAX_THREADS);
	/* > 0: the signal that ended it (a clean exit); < 0: -errno */
	ret = fuse_session_loop_mt(d->se, cfg) < 0 ? 1 : 0;
	pthread_join(startup, NULL);
	locks_stop(d);
	backing_watch_stop(d);
	policy_reload_stop(d);
	/* unpublish before unmounting: the instance name becomes free */
	runtime_remove(d);
	if (startup_failed)
		ret = 1;
out_unmount:
	if (cfg)
		fuse_loop_cfg_destroy(cfg);
	fuse_session_unmount(d->se);
out_signals:
	fuse_remove_signal_handlers(d->se);
out_session:
	fuse_session_destroy(d->se);
out_table:
	bpf_filter_destroy();
	policy_destroy(d);
	inode_table_destroy(d);
out_runtime:
	runtime_remove(d);
out_fds:
	if (root_fd >= 0)
		close(root_fd);
	if (d->mount_fd >= 0)
		close(d->mount_fd);
	notify_parent(1);
	return ret;
}

/* Parent side of daemonizing: exit with the child's start-up status. */
static int wait_for_child(int fd)
{
	unsigned char status = 1;

	if (read(fd, &status, 1) != 1)
		status = 1;
	return status;
}

/*
 * Open files of the mount each hold a backing fd here, and the inode table
 * keeps O_PATH fds of cached inodes up to half the limit (inode_table.c):
 * raise the soft limit to the hard limit, and the hard limit to
 * fs.nr_open when privileged.
 */
static void maximize_fd_limit(void)
{
	struct rlimit lim;
	unsigned long nr_open = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &lim))
		return;
	f = fopen("/proc/sys/fs/nr_open", "re");
	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (nr_open > lim.rlim_max) {
		struct rlimit raised = { .rlim_cur = nr_open, .rlim_max = nr_open };

		if (!setrlimit(RLIMIT_NOFILE, &raised))
			return;
	}
	lim.rlim_cur = lim.rlim_max;
	setrlimit(RLIMIT_NOFILE, &lim);
}

int main(int argc, char **argv)
{
	struct daemon d = { .mount_fd = -1 };
	char err[256];
	int pipefd[2], ret;

	if (fusebpf_options_parse(&d.opts, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "fusebpfd: %s\n", err);
		fusebpf_options_free(&d.opts);
		return 2;
	}
	if (d.opts.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (check_args(&d)) {
		fusebpf_options_free(&d.opts);
		return 1;
	}
	/* modes of new inodes come from the caller, already masked */
	umask(0);
	maximize_fd_limit();
	if (!d.opts.foreground) {
		if (pipe2(pipefd, O_CLOEXEC)) {
			perror("fusebpfd: pipe");
			return 1;
		}
		switch (fork()) {
		case -1:
			perror("fusebpfd: fork");
			return 1;
		case 0:
			close(pipefd[0]);
			notify_fd = pipefd[1];
			setsid();
			if (chdir("/"))
				return 1;
			break;
		default:
			close(pipefd[1]);
			fusebpf_options_free(&d.opts);
			return wait_for_child(pipefd[0]);
		}
	}
	ret = run(&d);
	fusebpf_policy_free(&policy_file);
	fusebpf_options_free(&d.opts);
	return ret;
}
