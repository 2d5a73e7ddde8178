// SPDX-License-Identifier: GPL-2.0
/* The POSIX lock owners of an inode: see lock_owners.h and locks.c. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "handover.h"
#include "lock_owners.h"

static void owner_free(struct daemon *d, struct lock_owner *lo)
{
	handover_lock_gone(d, lo->ho_slot);
	close(lo->fd);
	free(lo);
}

int lock_owners_restore(struct inode *inode, uint64_t owner,
			const struct open_file *of, pid_t pid, int fd,
			uint32_t ho_slot)
{
	struct lock_owner *lo = calloc(1, sizeof(*lo));

	if (!lo)
		return -ENOMEM;
	*lo = (struct lock_owner){ owner, of, pid, fd, ho_slot,
				   inode->lock_owners };
	inode->lock_owners = lo;
	return 0;
}

struct lock_owner *lock_owners_find(struct inode *inode, uint64_t owner)
{
	struct lock_owner *lo;

	for (lo = inode->lock_owners; lo; lo = lo->next)
		if (lo->owner == owner)
			break;
	return lo;
}

void lock_owners_release(struct daemon *d, struct inode *inode,
			 uint64_t owner)
{
	struct lock_owner **pp, *lo = NULL;

	pthread_mutex_lock(&d->table.lock);
	for (pp = &inode->lock_owners; *pp; pp = &(*pp)->next) {
		if ((*pp)->owner == owner) {
			lo = *pp;
			*pp = lo->next;
			break;
		}
	}
	pthread_mutex_unlock(&d->table.lock);
	if (lo)
		owner_free(d, lo);
}

void lock_owners_release_file(struct daemon *d, const struct open_file *of)
{
	struct lock_owner **pp, *lo, *gone = NULL;

	pthread_mutex_lock(&d->table.lock);
	for (pp = &of->inode->lock_owners; (lo = *pp);) {
		if (lo->of == of) {
			*pp = lo->next;
			lo->next = gone;
			gone = lo;
		} else {
			pp = &lo->next;
		}
	}
	pthread_mutex_unlock(&d->table.lock);
	while ((lo = gone)) {
		gone = lo->next;
		owner_free(d, lo);
	}
}

void lock_owners_drop_all(struct daemon *d, struct inode *inode)
{
	while (inode->lock_owners) {
		struct lock_owner *lo = inode->lock_owners;

		inode->lock_owners = lo->next;
		owner_free(d, lo);
	}
}
