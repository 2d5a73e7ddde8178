/* SPDX-License-Identifier: GPL-2.0 */
/* FUSE_HANDLE_KILLPRIV_V2: clearing set-id bits is the server's job. */
#ifndef FUSEBPFD_KILLPRIV_H
#define FUSEBPFD_KILLPRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

/* The effective capabilities of the calling thread, to restore. */
struct killpriv_saved {
	bool dropped;
	uint32_t effective[2];
};

/* The connection negotiated FUSE_HANDLE_KILLPRIV_V2. */
bool killpriv_negotiated(const struct daemon *d);
/* raw_io read hook: remember the kill flag of the request just read. */
void killpriv_see_request(const void *buf, size_t len);
/* The request this thread is handling asks to clear set-id bits. */
bool killpriv_requested(void);
/*
 * Around the backing write / truncate / O_TRUNC open of such a request:
 * drops CAP_FSETID if it asked (0 or -errno), killpriv_restore() after.
 */
int killpriv_begin(struct killpriv_saved *saved);
/*
 * Drops CAP_FSETID from this thread's effective set (no-op if absent), so
 * the backing filesystem clears set-id bits on what the thread modifies.
 * 0 or -errno; killpriv_restore() undoes a successful drop.
 */
int killpriv_drop_fsetid(struct killpriv_saved *saved);
/* Keeps errno. */
void killpriv_restore(const struct killpriv_saved *saved);

#endif
