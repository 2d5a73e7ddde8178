// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/fuse reads and the INIT exchange of a supervised worker (see
 * supervisor.c). A worker that takes over a live connection feeds libfuse
 * the kernel's INIT request that the first worker saved (libfuse refuses
 * every other request before one), swallows the reply (the kernel had
 * its answer long ago), then sends FUSE_NOTIFY_RESEND (Linux >= 6.9): the
 * kernel queues again every request the dead worker had read and not
 * answered (replay.c keeps the non-idempotent ones from running twice).
 * Reads are non-blocking and polled beside an eventfd, so that a live
 * upgrade (SIGUSR2) can stop every loop thread from reading more: they
 * finish the requests they hold and the loop ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "handover.h"
#include "notify.h"
#include "worker_io.h"

#define FUSE_HAS_RESEND_FLAG	(1ULL << 39)

/* written by the SIGUSR2 handler: only an fd, no context to reach */
static int drain_fd = -1;

static void on_drain(int sig)
{
	uint64_t one = 1;
	int saved = errno;

	(void)sig;
	if (drain_fd >= 0 && write(drain_fd, &one, sizeof(one)) < 0)
		(void)0;
	errno = saved;
}

int worker_io_init(struct daemon *d, int devfd)
{
	struct sigaction sa = { .sa_handler = on_drain };
	int flags = fcntl(devfd, F_GETFL);

	(void)d;
	if (flags < 0 || fcntl(devfd, F_SETFL, flags | O_NONBLOCK))
		return -errno;
	drain_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (drain_fd < 0)
		return -errno;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(SIGUSR2, &sa, NULL) ? -errno : 0;
}

static bool draining(void)
{
	struct pollfd p = { .fd = drain_fd, .events = POLLIN };

	return drain_fd >= 0 && poll(&p, 1, 0) == 1;
}

ssize_t worker_read(struct daemon *d, int fd, void *buf, size_t len)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = drain_fd, .events = POLLIN },
	};
	size_t n = handover_take_init(d, buf, len);
	ssize_t r;

	if (n)
		return n;
	if (handover_takeover(d)) {	/* no request before the INIT is done */
		pthread_mutex_lock(&d->init_lock);
		while (!d->init_replied)
			pthread_cond_wait(&d->init_cond, &d->init_lock);
		pthread_mutex_unlock(&d->init_lock);
	}
	for (;;) {
		if (draining()) {
			errno = ENODEV;		/* libfuse: the session ends */
			return -1;
		}
		r = read(fd, buf, len);
		if (r >= 0 || errno != EAGAIN)
			return r;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
	}
}

bool worker_swallow_init(struct daemon *d, int fd)
{
	int ret;

	if (!handover_takeover(d))
		return false;
	if (!(d->kernel_flags & FUSE_HAS_RESEND_FLAG))
		log_error("takeover: the kernel has no FUSE_NOTIFY_RESEND: requests the last worker held stay unanswered");
	else if ((ret = notify_resend(fd)))
		log_error("takeover: FUSE_NOTIFY_RESEND: %s", strerror(-ret));
	return true;
}
