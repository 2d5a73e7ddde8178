// SPDX-License-Identifier: GPL-2.0
/*
 * fusebpfd -o restart=on: restart without unmount.
 *
 * This process (the supervisor) mounts, keeps the /dev/fuse fd, the
 * handover state (a memfd, handover.c) and the fds a worker hands it
 * (open files and lock descriptions), and runs a worker: the same binary,
 * exec'ed with the hidden first argument
 *   --fusebpf-worker=DEVFD,STATEFD,SOCKFD,TAKEOVER
 * which serves the mount through DEVFD (libfuse's "/dev/fd/N" mountpoint:
 * no mount of its own). Whenever the worker ends while the mount lives
 * (killed, crashed, or drained for a live upgrade), a new one is started
 * at once and takes over: state, fds, the kernel's INIT, and the requests
 * the last one held (FUSE_NOTIFY_RESEND). SIGUSR2 (fusebpfctl restart;
 * passed on to the worker, which stops reading)
 * drains the worker and starts the binary now installed. SIGTERM, SIGINT
 * and SIGHUP unmount. Status: /run/fusebpf/<instance>/supervisor.
 *
 * What is lost if the supervisor itself is killed: nothing at once (the
 * worker keeps serving, as an unsupervised daemon), but no restart after
 * that: when that worker ends, the mount's connection goes with it
 * (ENOTCONN for the applications), as without -o restart=on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fusebpf/instance.h"
#include "fusebpfd.h"
#include "handover_msg.h"
#include "policy_maps.h"
#include "../lib/supervised.h"

/* workers that die before they are ready, in a row, before giving up */
#define FAILED_STARTS_MAX	5
/* a worker asked to end (unmount) gets this long before SIGKILL */
#define STOP_GRACE_SEC		10
/* how often the worker's main thread is checked (see leader_dead) */
#define LEADER_CHECK_MS		20
/* then how long its other threads get to end (see reap_dying) */
#define DYING_WAIT_MS		50

struct supervisor {
	struct daemon *d;
	char self[PATH_MAX];		/* the binary to exec */
	char **args;			/* argv[1..] of the supervisor */
	int nargs;
	struct fuse_session *se;
	int dev, state, sig;
	int sock;			/* to the current worker, -1: none */
	pid_t worker;
	bool ready;			/* the current worker is */
	bool ever_ready;
	bool stopping;
	bool upgrading;
	int failed_starts;
	int notify_fd;			/* the waiting parent, -1: none */
	/* the fds workers handed over, by key (handover_msg.h) */
	int *files, *locks;
	size_t nfiles, nlocks, kept;
	/* status */
	unsigned int restarts, upgrades;
	struct timespec died;		/* the last worker ended */
	double last_takeover;		/* wall clock seconds, 0: none */
	double last_stall_ms, max_stall_ms;
	char instance[FUSEBPF_INSTANCE_NAME_MAX];
};

static double mono_ms(const struct timespec *t)
{
	return t->tv_sec * 1e3 + t->tv_nsec / 1e6;
}

static int *slot_of(struct supervisor *s, uint64_t key)
{
	uint64_t i = HANDOVER_KEY_INDEX(key);

	if (HANDOVER_KEY_IS_LOCK(key))
		return i < s->nlocks ? &s->locks[i] : NULL;
	return i < s->nfiles ? &s->files[i] : NULL;
}

static void keep(struct supervisor *s, uint64_t key, int fd)
{
	int *slot = slot_of(s, key);

	if (!slot) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (*slot >= 0) {
		close(*slot);
		s->kept--;
	}
	*slot = fd;
	if (fd >= 0)
		s->kept++;
}

static void write_status(struct supervisor *s)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	uint64_t replayed = 0;
	FILE *f;
	int fd;

	if (!s->instance[0] &&
	    handover_state_peek(s->state, s->instance, sizeof(s->instance),
				&replayed))
		return;
	handover_state_peek(s->state, s->instance, sizeof(s->instance),
			    &replayed);
	if (!s->instance[0])
		return;
	snprintf(dir, sizeof(dir), FUSEBPF_RUN_DIR "/%s", s->instance);
	snprintf(path, sizeof(path), "%s/supervisor", dir);
	snprintf(tmp, sizeof(tmp), "%s/.supervisor.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return;
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	fprintf(f, "supervisor=%d\nworker=%d\nrestarts=%u\nupgrades=%u\n"
		"last_takeover=%.3f\nlast_takeover_ms=%.1f\nmax_takeover_ms=%.1f\n"
		"replayed=%llu\nkept_fds=%zu\n",
		getpid(), s->ready ? s->worker : 0, s->restarts, s->upgrades,
		s->last_takeover, s->last_stall_ms, s->max_stall_ms,
		(unsigned long long)replayed, s->kept);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

/* once detached: messages to syslog (log.c sends them to hooks.log) */
static void syslog_hook(void *ctx, int level, const char *msg)
{
	(void)ctx;
	syslog(level, "%s", msg);
}

/* daemonized: the parent waits for this byte, then stdio goes */
static void notify_parent(struct supervisor *s, int status)
{
	unsigned char c = status;
	int null;

	if (s->notify_fd < 0)
		return;
	if (write(s->notify_fd, &c, 1) != 1)
		log_error("cannot notify the parent: %s", strerror(errno));
	close(s->notify_fd);
	s->notify_fd = -1;
	if (status)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return;
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	openlog("fusebpfd", LOG_PID, LOG_DAEMON);
	s->d->hooks.log = syslog_hook;
	log_bind(s->d);
}

static int send_fd(int sock, uint64_t key, int fd)
{
	struct handover_msg m = { .op = fd >= 0 ? HANDOVER_MSG_PUT :
					  HANDOVER_MSG_END, .key = key };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		msg.msg_control = c.buf;
		msg.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* every fd kept, then END: the new worker's handover_restore reads them */
static void hand_fds(struct supervisor *s)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->files[i] >= 0 &&
		    send_fd(s->sock, HANDOVER_KEY_FILE(i), s->files[i]))
			return;
	for (size_t i = 0; i < s->nlocks; i++)
		if (s->locks[i] >= 0 &&
		    send_fd(s->sock, HANDOVER_KEY_LOCK(i), s->locks[i]))
			return;
	send_fd(s->sock, 0, -1);
}

static int spawn(struct supervisor *s, bool takeover)
{
	char arg[96];
	char **argv;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	argv = calloc(s->nargs + 5, sizeof(*argv));
	if (!argv) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		/* dup: without FD_CLOEXEC, so the worker inherits them */
		int dev = dup(s->dev), state = dup(s->state), sock = dup(sv[1]);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		snprintf(arg, sizeof(arg), "--fusebpf-worker=%d,%d,%d,%d", dev,
			 state, sock, takeover);
		argv[0] = "fusebpfd";
		argv[1] = arg;
		argv[2] = s->d->backing;
		argv[3] = s->d->mountpoint;
		for (int i = 0; i < s->nargs; i++)
			argv[i + 4] = s->args[i];
		execv(s->self, argv);
		log_error("cannot run the worker %s: %s", s->self,
			  strerror(errno));
		_exit(127);
	}
	free(argv);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -errno;
	}
	s->worker = pid;
	s->sock = sv[0];
	s->ready = false;
	if (takeover)
		hand_fds(s);
	return 0;
}

/* one message of the worker; false at its end (EOF or error) */
static bool worker_message(struct supervisor *s, int flags)
{
	struct handover_msg m;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf),
	};
	struct cmsghdr *ch;
	struct timespec now;
	ssize_t n;
	int fd = -1;

	n = recvmsg(s->sock, &msg, MSG_CMSG_CLOEXEC | flags);
	if (n <= 0)
		return false;
	for (ch = CMSG_FIRSTHDR(&msg); ch; ch = CMSG_NXTHDR(&msg, ch))
		if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(ch), sizeof(int));
	if (n != sizeof(m)) {
		if (fd >= 0)
			close(fd);
		return true;
	}
	switch (m.op) {
	case HANDOVER_MSG_PUT:
		keep(s, m.key, fd);
		return true;
	case HANDOVER_MSG_DROP:
		keep(s, m.key, -1);
		break;
	case HANDOVER_MSG_READY:
		s->ready = true;
		s->failed_starts = 0;
		if (s->ever_ready) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			s->last_stall_ms = mono_ms(&now) - mono_ms(&s->died);
			if (s->last_stall_ms > s->max_stall_ms)
				s->max_stall_ms = s->last_stall_ms;
			clock_gettime(CLOCK_REALTIME, &now);
			s->last_takeover = now.tv_sec + now.tv_nsec / 1e9;
			log_info("worker %d took over in %.1f ms", s->worker,
				 s->last_stall_ms);
		}
		s->ever_ready = true;
		write_status(s);
		notify_parent(s, 0);
		break;
	}
	if (fd >= 0)
		close(fd);
	return true;
}

/*
 * Has the worker's main thread exited (killed, crashed)? Its other
 * threads may stay behind for good: one blocked in the kernel on a page
 * lock while it writes an invalidation to /dev/fuse waits for a READ
 * that only a worker can answer (seen when a worker was SIGKILLed under
 * mmap I/O). Waiting for the whole process (SIGCHLD) would then wait
 * forever; the next worker answers that READ and the thread ends.
 */
static bool leader_dead(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* reaped: SIGCHLD says so */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/*
 * The main thread is gone: give the other threads a moment to die too (a
 * thread still running its last instructions could hand over an fd after
 * we took what the socket holds); one stuck in the kernel stays behind.
 */
static int reap_dying(pid_t pid)
{
	int status;

	for (int i = 0; i < DYING_WAIT_MS; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(1000);
	}
	return W_EXITCODE(0, SIGKILL);
}

static bool connection_gone(struct supervisor *s)
{
	struct pollfd p = { .fd = s->dev, .events = 0 };

	return s->dev < 0 ||
	       (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)));
}

static void stop(struct supervisor *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	/* closes our /dev/fuse fd and detaches the mount */
	fuse_session_unmount(s->se);
	s->dev = -1;
	if (s->worker > 0) {
		kill(s->worker, SIGTERM);
		alarm(STOP_GRACE_SEC);
	}
}

/* The worker ended: start the next one, or finish. false: finish. */
static bool worker_ended(struct supervisor *s, int status)
{
	bool was_ready = s->ready;

	clock_gettime(CLOCK_MONOTONIC, &s->died);
	/* what it sent before it died is still in the socket: keep it */
	while (s->sock >= 0 && worker_message(s, MSG_DONTWAIT))
		;
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
	s->worker = 0;
	s->ready = false;
	if (s->stopping || connection_gone(s))
		return false;
	if (WIFSIGNALED(status))
		log_info("worker killed by signal %d: starting another",
			 WTERMSIG(status));
	else
		log_info("worker exited with status %d: starting another",
			 WEXITSTATUS(status));
	if (!s->ever_ready) {
		log_error("the first worker did not start: unmounting");
		return false;
	}
	if (!was_ready && ++s->failed_starts > FAILED_STARTS_MAX) {
		log_error("%d workers in a row died before they were ready: unmounting",
			  s->failed_starts);
		return false;
	}
	if (s->upgrading)
		s->upgrades++;
	else
		s->restarts++;
	s->upgrading = false;
	if (spawn(s, true)) {
		log_error("cannot start a worker: %s", strerror(errno));
		return false;
	}
	write_status(s);
	return true;
}

static void handle_signals(struct supervisor *s, bool *done)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(s->sig, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
		case SIGHUP:
			stop(s);
			break;
		case SIGALRM:	/* the worker did not end after unmount */
			if (s->worker > 0)
				kill(s->worker, SIGKILL);
			break;
		case SIGUSR2:	/* live upgrade: drain, then the new binary */
			if (s->worker > 0 && s->ready) {
				s->upgrading = true;
				kill(s->worker, SIGUSR2);
			}
			break;
		}
	}
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == s->worker && !worker_ended(s, status))
			*done = true;
}

static int setup(struct supervisor *s, char **argv, int argc)
{
	sigset_t set;
	ssize_t n;

	n = readlink("/proc/self/exe", s->self, sizeof(s->self) - 1);
	if (n <= 0)
		return -errno;
	s->self[n] = '\0';
	s->args = argv + 1;
	s->nargs = argc - 1;
	s->nfiles = FH_SLOTS_MAX + 1;
	s->nlocks = (1u << 16) + 1;
	s->files = malloc(s->nfiles * sizeof(int));
	s->locks = malloc(s->nlocks * sizeof(int));
	if (!s->files || !s->locks)
		return -ENOMEM;
	memset(s->files, 0xff, s->nfiles * sizeof(int));
	memset(s->locks, 0xff, s->nlocks * sizeof(int));
	s->state = memfd_create("fusebpf-state", MFD_CLOEXEC);
	if (s->state < 0 || ftruncate(s->state, handover_state_size()))
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sig < 0 ? -errno : 0;
}

int supervisor_run(const struct fusebpf_options *opts, int argc,
		   char **argv, int notify_fd)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct supervisor s = {
		.d = d, .dev = -1, .state = -1, .sig = -1, .sock = -1,
		.notify_fd = notify_fd,
	};
	bool done = false;
	int ret = 1;

	if (!d)
		return 1;
	/* what session_new needs: the options and the real paths */
	d->opts = *opts;
	d->hooks.size = sizeof(d->hooks);
	if (!realpath(opts->backing, d->backing) ||
	    !realpath(opts->mountpoint, d->mountpoint)) {
		log_error("supervisor: %s", strerror(errno));
		free(d);
		return 1;
	}
	log_bind(d);
	if (setup(&s, argv, argc)) {
		log_error("supervisor: %s", strerror(errno));
		goto out;
	}
	s.se = session_new(d);
	if (!s.se || fuse_session_mount(s.se, d->mountpoint))
		goto out;
	s.dev = fuse_session_fd(s.se);
	if (spawn(&s, false)) {
		log_error("cannot start the worker: %s", strerror(errno));
		stop(&s);
		goto out;
	}
	while (!done) {
		struct pollfd p[3] = {
			{ .fd = s.sig, .events = POLLIN },
			{ .fd = s.sock, .events = POLLIN },
			{ .fd = s.stopping ? -1 : s.dev, .events = 0 },
		};

		if (poll(p, 3, s.worker > 0 ? LEADER_CHECK_MS : -1) < 0 &&
		    errno != EINTR)
			break;
		if (s.worker > 0 && leader_dead(s.worker) &&
		    !worker_ended(&s, reap_dying(s.worker)))
			done = true;
		if (p[1].revents & POLLIN)
			worker_message(&s, MSG_DONTWAIT);
		if (p[2].revents & (POLLERR | POLLHUP)) {
			/* unmounted: the worker ends with the connection */
			s.stopping = true;
		}
		if (p[0].revents & POLLIN)
			handle_signals(&s, &done);
		if (!s.worker && !done)
			done = true;
	}
	ret = s.ever_ready ? 0 : 1;
out:
	if (!s.stopping && s.se)
		stop(&s);
	if (s.worker > 0) {
		kill(s.worker, SIGKILL);
		waitpid(s.worker, NULL, 0);
	}
	notify_parent(&s, 1);
	if (s.instance[0] || !handover_state_peek(s.state, s.instance,
						  sizeof(s.instance),
						  &(uint64_t){ 0 })) {
		if (s.instance[0]) {
			runtime_remove_instance(s.instance);
			policy_unpin_dead(s.instance);
		}
	}
	if (s.se)
		fuse_session_destroy(s.se);
	for (size_t i = 0; s.files && i < s.nfiles; i++)
		if (s.files[i] >= 0)
			close(s.files[i]);
	for (size_t i = 0; s.locks && i < s.nlocks; i++)
		if (s.locks[i] >= 0)
			close(s.locks[i]);
	free(s.files);
	free(s.locks);
	free(d);
	return ret;
}
