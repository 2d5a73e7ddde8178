/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The POSIX lock owners of an inode (inode->lock_owners, under the table
 * lock), each with its own open file description of the backing file:
 * see locks.c. Dropped with their descriptions on close, release and
 * when the inode is retired.
 */
#ifndef FUSEBPFD_LOCK_OWNERS_H
#define FUSEBPFD_LOCK_OWNERS_H

#include <stdint.h>
#include <sys/types.h>

struct daemon;
struct inode;
struct open_file;

struct lock_owner {
	uint64_t owner;
	const struct open_file *of;	/* the open it first locked through */
	pid_t pid;		/* of the last SETLK through this owner */
	int fd;
	uint32_t ho_slot;	/* its handover record (the supervisor keeps
				   the description: the locks outlive a worker) */
	struct lock_owner *next;
};

/* @owner's entry of @inode or NULL (table lock held) */
struct lock_owner *lock_owners_find(struct inode *inode, uint64_t owner);
/* drop the POSIX locks of @owner (close semantics) */
void lock_owners_release(struct daemon *d, struct inode *inode,
			 uint64_t owner);
/* RELEASE of @of: drop the locks of owners that locked through it (OFD) */
void lock_owners_release_file(struct daemon *d, const struct open_file *of);
/* the inode is retired: drop every owner's description (table lock held) */
void lock_owners_drop_all(struct daemon *d, struct inode *inode);
/* takeover (table lock held): an owner and its description @fd */
int lock_owners_restore(struct inode *inode, uint64_t owner,
			const struct open_file *of, pid_t pid, int fd,
			uint32_t ho_slot);

#endif /* FUSEBPFD_LOCK_OWNERS_H */
