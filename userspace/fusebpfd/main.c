// SPDX-License-Identifier: GPL-2.0
/*
 * fusebpfd BACKING MOUNTPOINT [-f] [-d] [-o opt,...]
 *
 * A command line over libfusebpf (include/fusebpf/fusebpf.h): check the
 * arguments (one-line error, nothing mounted), fork unless -f, and run
 * the mount; the library's ready hook tells the waiting parent to exit 0
 * once the mount is up and /run/fusebpf/<instance> published, so the
 * mount is ready when the command returns. SIGTERM/SIGINT/SIGHUP or
 * umount end it; the library then unmounts and removes its runtime files.
 * The process-wide parts are this program's: signal handlers, umask 0,
 * the fd limit, daemonizing, syslog once detached.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fusebpf/fusebpf.h"
#include "fusebpf/options.h"
#include "../daemon/handover.h"
#include "../lib/supervised.h"

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
	"  -o entry_timeout=SECS,attr_timeout=SECS  kernel cache (default 1)\n"
	"  -o restart=on|off  a supervisor keeps the mount and restarts the\n"
	"                     daemon in place if it dies (default off)\n";

struct cli {
	struct fusebpf_options opts;
	struct fusebpf_mount *mount;
	int notify_fd;			/* the waiting parent, -1: none */
	bool syslog;			/* detached: messages to syslog */
};

static void log_hook(void *ctx, int level, const char *msg)
{
	struct cli *c = ctx;

	if (c->syslog)
		syslog(level, "%s", msg);
	else
		fprintf(stderr, "fusebpfd: %s\n", msg);
}

static void notify_parent(struct cli *c, int status)
{
	unsigned char byte = status;

	if (c->notify_fd < 0)
		return;
	if (write(c->notify_fd, &byte, 1) != 1)
		log_hook(c, LOG_ERR, "cannot notify the parent");
	close(c->notify_fd);
	c->notify_fd = -1;
}

static void detach_stdio(struct cli *c)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	openlog("fusebpfd", LOG_PID, LOG_DAEMON);
	c->syslog = true;
}

static void ready_hook(void *ctx, int status)
{
	struct cli *c = ctx;
	char backing[PATH_MAX], mnt[PATH_MAX], msg[3 * PATH_MAX];

	if (status) {
		notify_parent(c, 1);
		return;
	}
	if (c->opts.foreground && realpath(c->opts.backing, backing) &&
	    realpath(c->opts.mountpoint, mnt)) {
		snprintf(msg, sizeof(msg), "%s mounted on %s, mode %s, instance %s",
			 backing, mnt,
			 fusebpf_mode_str(fusebpf_mount_mode(c->mount)),
			 fusebpf_mount_instance(c->mount));
		log_hook(c, LOG_INFO, msg);
	}
	notify_parent(c, 0);
	if (!c->opts.foreground)
		detach_stdio(c);
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
 * A worker of -o restart=on (userspace/daemon/supervisor.c): the first
 * arguments are "--fusebpf-worker=DEV,STATE,SOCK,TAKEOVER BACKING
 * MOUNTPOINT" (real paths), then the supervisor's own. 1: a worker, 0:
 * not, -1: malformed.
 */
static int parse_worker_arg(int *argc, char **argv, struct handover_fds *fds)
{
	size_t len = strlen(SUPERVISOR_WORKER_ARG);
	int takeover;

	if (*argc < 2 || strncmp(argv[1], SUPERVISOR_WORKER_ARG, len))
		return 0;
	if (*argc < 4 || sscanf(argv[1] + len, "%d,%d,%d,%d", &fds->dev,
				&fds->state, &fds->sock, &takeover) != 4)
		return -1;
	fds->takeover = takeover;
	fds->backing = argv[2];
	fds->mountpoint = argv[3];
	memmove(&argv[1], &argv[4], (*argc - 3) * sizeof(*argv));
	*argc -= 3;
	return 1;
}

static int create(struct cli *c, const struct handover_fds *worker)
{
	struct fusebpf_config cfg = FUSEBPF_CONFIG_INIT;
	struct fusebpf_hooks hooks = FUSEBPF_HOOKS_INIT;
	const struct fusebpf_options *o = &c->opts;
	char err[512];

	cfg.backing = worker ? worker->backing : o->backing;
	cfg.mountpoint = worker ? worker->mountpoint : o->mountpoint;
	if (worker)
		cfg.dev_fuse_fd = worker->dev;
	cfg.mode = o->mode;
	cfg.flags = FUSEBPF_MOUNT_SIGNALS | FUSEBPF_MOUNT_NOFILE |
		    FUSEBPF_MOUNT_UMASK0 |
		    (o->debug ? FUSEBPF_MOUNT_DEBUG : 0) |
		    (o->no_watch_backing ? FUSEBPF_MOUNT_NO_WATCH : 0);
	cfg.instance = o->instance[0] ? o->instance : NULL;
	cfg.policy_file = o->policy;
	cfg.served = (const char *const *)o->served;
	cfg.nr_served = o->nr_served;
	cfg.entry_timeout = o->entry_timeout;
	cfg.attr_timeout = o->attr_timeout;
	cfg.mount_options = o->mount_opts;
	cfg.fsname = o->fsname;
	cfg.subtype = o->subtype;
	hooks.ctx = c;
	hooks.log = log_hook;
	hooks.ready = ready_hook;
	if (fusebpf_mount_create(&cfg, &hooks, &c->mount, err, sizeof(err))) {
		fprintf(stderr, "fusebpfd: %s\n", err);
		return -1;
	}
	if (worker && fusebpf_mount_supervised(c->mount, worker)) {
		fprintf(stderr, "fusebpfd: bad worker arguments\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = { .notify_fd = -1 };
	struct handover_fds worker_fds, *worker = NULL;
	char err[256];
	int pipefd[2], ret;

	ret = parse_worker_arg(&argc, argv, &worker_fds);
	if (ret < 0) {
		fprintf(stderr, "fusebpfd: bad %s arguments\n",
			SUPERVISOR_WORKER_ARG);
		return 2;
	}
	if (ret)
		worker = &worker_fds;
	if (fusebpf_options_parse(&c.opts, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "fusebpfd: %s\n", err);
		fusebpf_options_free(&c.opts);
		return 2;
	}
	if (c.opts.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (c.opts.supervise && !worker &&
	    (c.opts.mode == FUSEBPF_MODE_BPF ||
	     (c.opts.mode == FUSEBPF_MODE_AUTO &&
	      !access("/sys/fs/fuse/features/fuse_bpf", F_OK)))) {
		fprintf(stderr, "fusebpfd: restart=on: not available in mode bpf yet (use mode=passthrough or userspace)\n");
		fusebpf_options_free(&c.opts);
		return 1;
	}
	if (create(&c, worker)) {
		fusebpf_options_free(&c.opts);
		return 1;
	}
	if (worker) {
		/* stdio is the supervisor's (/dev/null once it detached) */
		if (!c.opts.foreground) {
			openlog("fusebpfd", LOG_PID, LOG_DAEMON);
			c.syslog = true;
		}
		return fusebpf_mount_run(c.mount) ? 1 : 0;	/* does not return */
	}
	if (c.opts.supervise) {
		/* checked; the supervisor mounts, its workers serve */
		fusebpf_mount_destroy(c.mount);
		c.mount = NULL;
	}
	if (!c.opts.foreground) {
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
			c.notify_fd = pipefd[1];
			setsid();
			if (chdir("/"))
				return 1;
			break;
		default:
			close(pipefd[1]);
			fusebpf_options_free(&c.opts);
			return wait_for_child(pipefd[0]);
		}
	}
	if (c.opts.supervise) {
		ret = supervisor_run(&c.opts, argc, argv, c.notify_fd);
		fusebpf_options_free(&c.opts);
		return ret;
	}
	ret = fusebpf_mount_run(c.mount) ? 1 : 0;
	notify_parent(&c, 1);
	fusebpf_mount_destroy(c.mount);
	fusebpf_options_free(&c.opts);
	return ret;
}
