// SPDX-License-Identifier: GPL-2.0
/*
 * fi->fh of open files and directories: an index into this table (plus
 * one, so that 0 is never a valid handle), not a pointer. An index means
 * the same thing to the next worker process (handover.c rebuilds the
 * table at the same indexes), a pointer would not. The table is sized
 * once (virtual memory, touched as it fills); lookups take no lock: a
 * slot is set before the open's reply leaves and cleared only by the
 * release the kernel sends after its last use.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "fusebpfd.h"
#include "fh_table.h"

#define FH_SLOTS_MIN	1024

int fh_table_init(struct fh_table *t, uint32_t cap)
{
	struct rlimit rl;

	if (!cap) {
		cap = FH_SLOTS_MAX;
		if (!getrlimit(RLIMIT_NOFILE, &rl) &&
		    rl.rlim_max != RLIM_INFINITY && rl.rlim_max < cap)
			cap = rl.rlim_max;
		if (cap < FH_SLOTS_MIN)
			cap = FH_SLOTS_MIN;
	}
	t->ptr = calloc(cap, sizeof(*t->ptr));
	t->free = calloc(cap, sizeof(*t->free));
	if (!t->ptr || !t->free) {
		free(t->ptr);
		free(t->free);
		return -ENOMEM;
	}
	t->cap = cap;
	t->used = 0;
	t->nfree = 0;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void fh_table_destroy(struct fh_table *t)
{
	free(t->ptr);
	free(t->free);
	t->ptr = NULL;
	t->free = NULL;
	t->cap = 0;
}

uint64_t fh_alloc(struct fh_table *t, void *ptr)
{
	uint32_t slot;

	pthread_mutex_lock(&t->lock);
	if (t->nfree) {
		slot = t->free[--t->nfree];
	} else if (t->used < t->cap) {
		slot = t->used++;
	} else {
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	__atomic_store_n(&t->ptr[slot], ptr, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&t->lock);
	return (uint64_t)slot + 1;
}

int fh_set(struct fh_table *t, uint64_t fh, void *ptr)
{
	if (!fh || fh > t->cap)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->ptr[fh - 1] = ptr;
	if (fh > t->used)
		t->used = fh;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void fh_table_rebuild_free(struct fh_table *t)
{
	pthread_mutex_lock(&t->lock);
	t->nfree = 0;
	for (uint32_t slot = t->used; slot-- > 0;)
		if (!t->ptr[slot])
			t->free[t->nfree++] = slot;
	pthread_mutex_unlock(&t->lock);
}

void *fh_get(struct fh_table *t, uint64_t fh)
{
	if (!fh || fh > t->cap)
		return NULL;
	return __atomic_load_n(&t->ptr[fh - 1], __ATOMIC_ACQUIRE);
}

void fh_free(struct fh_table *t, uint64_t fh)
{
	if (!fh || fh > t->cap)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->ptr[fh - 1]) {
		t->ptr[fh - 1] = NULL;
		t->free[t->nfree++] = fh - 1;
	}
	pthread_mutex_unlock(&t->lock);
}
