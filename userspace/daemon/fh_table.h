/* SPDX-License-Identifier: GPL-2.0 */
/* fi->fh values: indexes of open files and directories, see fh_table.c */
#ifndef FUSEBPFD_FH_TABLE_H
#define FUSEBPFD_FH_TABLE_H

#include <pthread.h>
#include <stdint.h>

/* also the number of open-file records in the handover state */
#define FH_SLOTS_MAX	(1u << 20)

struct fh_table {
	pthread_mutex_t lock;		/* allocation only */
	void **ptr;			/* by slot; NULL: free */
	uint32_t *free;			/* free slots below used */
	uint32_t cap, used, nfree;
};

/* @cap 0: from RLIMIT_NOFILE, at most FH_SLOTS_MAX */
int fh_table_init(struct fh_table *t, uint32_t cap);
void fh_table_destroy(struct fh_table *t);
/* a new fi->fh (> 0) naming @ptr, or 0 when the table is full */
uint64_t fh_alloc(struct fh_table *t, void *ptr);
/* NULL for a handle not in use (e.g. a RELEASE replayed after a restart) */
void *fh_get(struct fh_table *t, uint64_t fh);
void fh_free(struct fh_table *t, uint64_t fh);
/* takeover: @ptr at the handle the previous worker gave, then the free list */
int fh_set(struct fh_table *t, uint64_t fh, void *ptr);
void fh_table_rebuild_free(struct fh_table *t);

#endif /* FUSEBPFD_FH_TABLE_H */
