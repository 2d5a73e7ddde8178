/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Coherence with changes made directly in BACKING (modes userspace and
 * passthrough): a fanotify watch on the backing filesystem, and for every
 * change to something the kernel holds, the matching FUSE invalidation
 * (see backing_watch.c).
 */
#ifndef FUSEBPFD_BACKING_WATCH_H
#define FUSEBPFD_BACKING_WATCH_H

struct daemon;

/*
 * Once INIT is replied. Where the watch is impossible (no CAP_SYS_ADMIN,
 * no file handles, -o watch_backing=off) it logs one line and returns 0:
 * the mount then relies on the cache timeouts alone.
 */
int backing_watch_start(struct daemon *d);
/* Before the session goes away; no-op when not started. */
void backing_watch_stop(struct daemon *d);

#endif /* FUSEBPFD_BACKING_WATCH_H */
