/* SPDX-License-Identifier: GPL-2.0 */
/* /dev/fuse reads and INIT of a supervised worker: see worker_io.c */
#ifndef FUSEBPFD_WORKER_IO_H
#define FUSEBPFD_WORKER_IO_H

#include <stdbool.h>
#include <sys/types.h>

struct daemon;

/* non-blocking reads of @devfd, SIGUSR1 drains; 0 or -errno */
int worker_io_init(struct daemon *d, int devfd);
ssize_t worker_read(struct daemon *d, int fd, void *buf, size_t len);
/*
 * The INIT reply is ready: true if it must not reach the kernel (a
 * takeover; the requests the last worker held are then resent)
 */
bool worker_swallow_init(struct daemon *d, int fd);

#endif /* FUSEBPFD_WORKER_IO_H */
