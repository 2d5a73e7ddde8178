// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX record locks (fcntl F_GETLK/F_SETLK/F_SETLKW on the mount).
 *
 * The daemon is one process, so its own POSIX locks could not tell the
 * kernel's lock owners apart. Instead every (inode, lock owner) pair gets
 * its own open file description of the backing file and locks through it
 * with open-file-description locks: locks of one owner merge and replace
 * each other, locks of different owners conflict, as POSIX wants, and
 * processes locking the backing file directly see them too. Closing any fd
 * releases all of a process's locks on the file: the kernel then sends
 * FLUSH with that lock owner and the description is closed.
 * The kernel's owner of an OFD lock (F_OFD_SETLK) is the open file itself,
 * which no FLUSH names, and RELEASE names a lock owner only after flock():
 * so every owner remembers the open (fh) it first locked through, and the
 * RELEASE of that fh closes its description. A POSIX owner (a process's
 * file table) cannot outlive its fds that way: each close already sent
 * FLUSH for it. flock() locks live on the open's own backing fd.
 * OFD locks have no pid: F_GETLK reports the pid that last locked through
 * the owner holding the conflicting lock (0 for a lock taken directly on
 * the backing file).
 * The owners of an inode and their descriptions: lock_owners.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "handover.h"
#include "lock_owners.h"

static int open_for_locks(struct inode *inode)
{
	char proc[64];
	int fd;

	inode_proc_path(inode, proc, sizeof(proc));
	fd = open(proc, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EISDIR || errno == EACCES || errno == EROFS ||
		       errno == ETXTBSY))
		fd = open(proc, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * A dup of @owner's description, created when @create; -errno if none.
 * @pid > 0 is recorded as the owner's pid.
 */
static int owner_fd(struct daemon *d, const struct open_file *of,
		    uint64_t owner, bool create, pid_t pid)
{
	struct inode *inode = of->inode;
	struct lock_owner *lo, *fresh = NULL;
	int fd;

	for (;;) {
		pthread_mutex_lock(&d->table.lock);
		lo = lock_owners_find(inode, owner);
		if (!lo && fresh) {
			lo = fresh;
			lo->next = inode->lock_owners;
			inode->lock_owners = lo;
			fresh = NULL;
			lo->ho_slot = handover_lock_saved(d, inode->node.nodeid,
							  owner, of->fh, pid,
							  lo->fd);
		}
		if (lo || !create)
			break;
		pthread_mutex_unlock(&d->table.lock);
		/* opened unlocked: reaching the inode's path takes the lock */
		fresh = calloc(1, sizeof(*fresh));
		if (!fresh)
			return -ENOMEM;
		fresh->fd = open_for_locks(inode);
		if (fresh->fd < 0) {
			fd = fresh->fd;
			free(fresh);
			return fd;
		}
		fresh->owner = owner;
		fresh->of = of;
	}
	fd = -ENOENT;
	if (lo) {
		if (pid > 0 && lo->pid != pid) {
			lo->pid = pid;
			handover_lock_pid(d, lo->ho_slot, pid);
		}
		fd = fcntl(lo->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
	}
	pthread_mutex_unlock(&d->table.lock);
	if (fresh) {	/* another request of this owner came first */
		close(fresh->fd);
		free(fresh);
	}
	return fd;
}

/*
 * The holder of @conflict is an owner that does not see it from its own
 * description (a description never conflicts with itself).
 */
static pid_t holder_pid(struct daemon *d, struct inode *inode,
			uint64_t requester, const struct flock *conflict)
{
	struct lock_owner *lo;
	pid_t pid = 0;

	pthread_mutex_lock(&d->table.lock);
	for (lo = inode->lock_owners; lo && !pid; lo = lo->next) {
		struct flock probe = *conflict;

		if (lo->owner == requester)
			continue;
		probe.l_pid = 0;
		if (fcntl(lo->fd, F_OFD_GETLK, &probe) == 0 &&
		    (probe.l_type == F_UNLCK ||
		     probe.l_start != conflict->l_start ||
		     probe.l_len != conflict->l_len ||
		     probe.l_type != conflict->l_type))
			pid = lo->pid;
	}
	pthread_mutex_unlock(&d->table.lock);
	return pid;
}

static void op_getlk(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi, struct flock *lock)
{
	struct daemon *d = req_daemon(req);
	struct open_file *of = fh_get(&d->fh, fi->fh);
	int fd;

	(void)ino;
	if (!of) {
		fuse_reply_err(req, EBADF);
		return;
	}
	fd = owner_fd(d, of, fi->lock_owner, false, 0);
	if (fd < 0)
		fd = open_for_locks(of->inode);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	lock->l_pid = 0;
	if (fcntl(fd, F_OFD_GETLK, lock)) {
		fuse_reply_err(req, errno);
	} else {
		if (lock->l_type != F_UNLCK)
			lock->l_pid = holder_pid(d, of->inode, fi->lock_owner,
						 lock);
		fuse_reply_lock(req, lock);
	}
	close(fd);
}

/*
 * A caller blocked in F_SETLKW that gets a signal makes the kernel send
 * INTERRUPT; it then waits for our reply (uninterruptibly if the signal
 * was fatal). The waiting thread is woken with SIGINTERRUPT, whose
 * handler does nothing but make fcntl() return EINTR. That signal can
 * come just before the thread enters fcntl() and be lost: a timer sends
 * the thread the same signal every LOCK_RECHECK_SEC, and the wait goes on
 * only while the request is not interrupted. 0 or the errno to reply;
 * -1: the daemon is ending, no reply.
 */
#define SIGINTERRUPT SIGUSR1
#define LOCK_RECHECK_SEC 1

static void on_sig_interrupt(int sig)
{
	(void)sig;
}

static void interrupt_waiter(fuse_req_t req, void *data)
{
	(void)req;
	pthread_kill(*(pthread_t *)data, SIGINTERRUPT);
}

static int wait_for_lock(struct daemon *d, fuse_req_t req, int fd,
			 struct flock *lock)
{
	struct itimerspec every = {
		.it_value = { LOCK_RECHECK_SEC, 0 },
		.it_interval = { LOCK_RECHECK_SEC, 0 },
	};
	struct sigevent ev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGINTERRUPT,
	};
	pthread_t self = pthread_self();
	timer_t timer;
	int ret;

	ev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer))
		return errno;
	timer_settime(timer, 0, &every, NULL);
	fuse_req_interrupt_func(req, interrupt_waiter, &self);
	do {
		ret = fuse_req_interrupted(req) ? EINTR :
		      fcntl(fd, F_OFD_SETLKW, lock) ? errno : 0;
	} while (ret == EINTR && !fuse_req_interrupted(req) &&
		 !__atomic_load_n(&d->lock_waiters_stop, __ATOMIC_ACQUIRE));
	fuse_req_interrupt_func(req, NULL, NULL);
	timer_delete(timer);
	/* the daemon is ending: no reply (the kernel ends the request) */
	if (ret == EINTR && !fuse_req_interrupted(req) &&
	    __atomic_load_n(&d->lock_waiters_stop, __ATOMIC_ACQUIRE))
		return -1;
	return ret;
}

/*
 * F_SETLKW waits on threads of their own, not on libfuse's workers: those
 * are limited (MAX_THREADS), and with all of them asleep in waits nobody
 * would read the RELEASE that frees the lock they wait for, nor anything
 * else. At most LOCK_WAITERS_MAX wait at a time; beyond, ENOLCK.
 */
#define LOCK_WAITERS_MAX	1024
#define LOCK_WAITER_STACK	(128 * 1024)

struct lock_wait {
	struct daemon *d;
	fuse_req_t req;
	int fd;			/* a dup of the owner's description */
	struct flock lock;
};

static void *lock_wait_thread(void *arg)
{
	struct lock_wait *w = arg;
	struct daemon *d = w->d;
	int err;

	log_bind(d);
	err = wait_for_lock(d, w->req, w->fd, &w->lock);

	/*
	 * EINTR from an interrupted wait: the kernel restarts the call or
	 * returns EINTR to the caller, as for a native lock wait
	 */
	if (err >= 0)
		fuse_reply_err(w->req, err);
	close(w->fd);
	free(w);
	__atomic_sub_fetch(&d->lock_waiters, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Starts the wait of @req on its own thread (consumes @fd), or -errno. */
static int wait_in_thread(struct daemon *d, fuse_req_t req, int fd,
			  const struct flock *lock)
{
	struct lock_wait *w;
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	if (__atomic_add_fetch(&d->lock_waiters, 1, __ATOMIC_ACQ_REL) >
	    LOCK_WAITERS_MAX) {
		__atomic_sub_fetch(&d->lock_waiters, 1, __ATOMIC_RELEASE);
		return -ENOLCK;
	}
	w = malloc(sizeof(*w));
	err = w ? pthread_attr_init(&attr) : ENOMEM;
	if (!err) {
		*w = (struct lock_wait){ d, req, fd, *lock };
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, LOCK_WAITER_STACK);
		err = pthread_create(&thread, &attr, lock_wait_thread, w);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		free(w);
		__atomic_sub_fetch(&d->lock_waiters, 1, __ATOMIC_RELEASE);
		log_error("F_SETLKW: no waiting thread: %s", strerror(err));
		return -ENOLCK;
	}
	return 0;
}

void locks_stop(struct daemon *d)
{
	__atomic_store_n(&d->lock_waiters_stop, true, __ATOMIC_RELEASE);
	/* each sees it within LOCK_RECHECK_SEC and ends without a reply */
	for (int i = 0; i < 300 &&
	     __atomic_load_n(&d->lock_waiters, __ATOMIC_ACQUIRE); i++)
		usleep(10 * 1000);
}

static void op_setlk(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi, struct flock *lock, int sleep)
{
	struct daemon *d = req_daemon(req);
	struct open_file *of = fh_get(&d->fh, fi->fh);
	int fd;

	(void)ino;
	if (!of) {
		fuse_reply_err(req, EBADF);
		return;
	}
	fd = owner_fd(d, of, fi->lock_owner, lock->l_type != F_UNLCK,
		      lock->l_pid);
	if (fd == -ENOENT) {	/* unlocking with no locks held */
		fuse_reply_err(req, 0);
		return;
	}
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	lock->l_pid = 0;
	/* a lock that is free needs no wait */
	if (fcntl(fd, F_OFD_SETLK, lock) == 0) {
		fuse_reply_err(req, 0);
	} else if (!sleep || (errno != EAGAIN && errno != EACCES)) {
		fuse_reply_err(req, errno);
	} else {
		int err = wait_in_thread(d, req, fd, lock);

		if (!err)
			return;		/* the thread replies */
		fuse_reply_err(req, -err);
	}
	close(fd);
}

void ops_locks_fill(struct fuse_lowlevel_ops *ops)
{
	struct sigaction sa = { .sa_handler = on_sig_interrupt };

	/* no SA_RESTART: the blocked fcntl() must return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINTERRUPT, &sa, NULL);
	ops->getlk = op_getlk;
	ops->setlk = op_setlk;
}
