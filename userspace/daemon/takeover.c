// SPDX-License-Identifier: GPL-2.0
/*
 * A worker taking over (see supervisor.c, handover.c): the nodes from
 * the state, then the open files, directories and lock owners, each with
 * the fd the supervisor kept for it, at the fi->fh the kernel knows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "handover.h"
#include "lock_owners.h"
#include "takeover.h"

static struct inode *find_inode(struct daemon *d, uint64_t nodeid)
{
	return (struct inode *)fusebpf_registry_find_id(&d->table.reg, nodeid);
}

/* an open file of the last worker, over the kept @fd; NULL if lost */
static struct open_file *restore_file(struct daemon *d, uint64_t fh,
				      const struct handover_file_rec *r, int fd)
{
	struct open_file *of = NULL;
	struct inode *inode;

	pthread_mutex_lock(&d->table.lock);
	inode = find_inode(d, r->nodeid);
	if (inode)
		of = calloc(1, sizeof(*of));
	if (of) {
		of->fd = fd;
		of->inode = inode;
		of->fh = fh;
		of->backing_id = r->backing_id;
		of->rdwr = r->rdwr;
		of->cached = r->cached;
		of->restored = true;
		of->writable = (r->flags & O_ACCMODE) != O_RDONLY;
		/* the counts passthrough.c keeps per inode */
		if (of->backing_id > 0) {
			inode->backing_id = of->backing_id;
			inode->passthrough_opens++;
			inode->rdwr_passthrough_opens += of->rdwr;
		} else if (of->cached) {
			inode->cached_opens++;
		}
	}
	pthread_mutex_unlock(&d->table.lock);
	return of;
}

static void restore_files(struct daemon *d, struct handover_kept *k)
{
	uint64_t hw = handover_file_slots(d);
	uint32_t nfiles = 0, ndirs = 0, lost = 0;

	/* fds above hw: none can be kept (put before the record) */
	for (uint64_t fh = 1; fh <= hw && fh <= k->nfile && fh <= d->fh.cap;
	     fh++) {
		struct handover_file_rec r;
		int fd = k->file[fh - 1] - 1;
		void *p = NULL;

		k->file[fh - 1] = 0;
		if (!handover_file_record(d, fh, &r)) {
			if (fd >= 0) {	/* released before its record: drop */
				close(fd);
				handover_file_forget(d, fh);
			}
			continue;
		}
		if (fd >= 0)
			p = r.dir ? ops_dir_restore(fd) :
			    (void *)restore_file(d, fh, &r, fd);
		if (!p) {
			if (fd >= 0)
				close(fd);
			lost++;
			handover_file_forget(d, fh);
			continue;
		}
		fh_set(&d->fh, fh, p);
		if (r.dir) {
			ndirs++;
			continue;
		}
		nfiles++;
		/*
		 * its inode's O_PATH fd, opened by handle now: ops on an open
		 * file (locks, killpriv) reach the inode by /proc/self/fd
		 * without inode_get
		 */
		if (!inode_get(d, r.nodeid))
			log_error("takeover: open file of node %llu: its inode is gone",
				  (unsigned long long)r.nodeid);
	}
	inode_request_done(d);
	fh_table_rebuild_free(&d->fh);
	log_info("takeover: %u open files, %u open directories, %u lost",
		 nfiles, ndirs, lost);
}

static void restore_locks(struct daemon *d, struct handover_kept *k)
{
	uint32_t hw = handover_lock_slots(d), n = 0;

	for (uint32_t slot = 1; slot <= hw; slot++) {
		int fd = slot <= k->nlock ? k->lock[slot - 1] - 1 : -1;
		struct handover_lock_rec r;
		struct inode *inode;
		bool ok = false;

		if (slot <= k->nlock)
			k->lock[slot - 1] = 0;
		if (fd >= 0 && handover_lock_record(d, slot, &r)) {
			pthread_mutex_lock(&d->table.lock);
			inode = find_inode(d, r.nodeid);
			ok = inode && !lock_owners_restore(inode, r.owner,
					fh_get(&d->fh, r.of_fh), r.pid, fd, slot);
			pthread_mutex_unlock(&d->table.lock);
		}
		if (ok) {
			n++;
			continue;
		}
		if (fd >= 0)
			close(fd);
		handover_lock_forget(d, slot);
	}
	log_info("takeover: %u lock owners", n);
}

int takeover_restore(struct daemon *d)
{
	struct handover_kept k = { 0 };
	int ret;

	if (!handover_takeover(d))
		return 0;
	ret = handover_receive_fds(d, &k);
	if (!ret)
		ret = handover_restore_nodes(d);
	if (!ret) {
		restore_files(d, &k);
		restore_locks(d, &k);
	}
	for (uint32_t i = 0; k.file && i < k.file_max; i++)
		if (k.file[i] > 0)
			close(k.file[i] - 1);
	for (uint32_t i = 0; k.lock && i < k.nlock; i++)
		if (k.lock[i] > 0)
			close(k.lock[i] - 1);
	free(k.file);
	free(k.lock);
	if (ret)
		log_error("takeover: %s", strerror(-ret));
	return ret;
}
