/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Restart without unmount: the state a worker hands to the next one
 * (handover.c). Every call is a no-op when d->ho is NULL (not supervised).
 */
#ifndef FUSEBPFD_HANDOVER_H
#define FUSEBPFD_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct daemon;
struct inode;
struct open_file;

/* fds given by the supervisor to a worker (supervisor.c) */
struct handover_fds {
	int dev;		/* /dev/fuse */
	int state;		/* the state memfd */
	int sock;		/* SOCK_SEQPACKET to the supervisor */
	bool takeover;		/* a worker ran before: take its state over */
	const char *backing;	/* real paths, as the supervisor has them */
	const char *mountpoint;
};

/* Maps the state (formats it for a first worker); 0 or -errno. */
int handover_open(struct daemon *d, const struct handover_fds *fds);
bool handover_takeover(const struct daemon *d);
/* first worker: the kernel's INIT request, for the next workers */
void handover_save_init(struct daemon *d, const void *req, size_t len);
/* takeover: copies the saved INIT request into @buf once; 0 after that */
size_t handover_take_init(struct daemon *d, void *buf, size_t len);
/* instance published (first worker) / recorded name (takeover) */
void handover_set_instance(struct daemon *d);
const char *handover_instance(const struct daemon *d);
/* start-up done: the supervisor counts the takeover as finished */
void handover_ready(struct daemon *d);
/* the loop ended: nothing is recorded or dropped from here on */
void handover_freeze(struct daemon *d);

/* table lock held: the node's record follows its registry state */
void handover_node_sync(struct daemon *d, struct inode *inode);
void handover_node_gone(struct daemon *d, struct inode *inode);
/* nodeids handed out so far (table lock held, after each insert) */
void handover_next_nodeid(struct daemon *d, uint64_t next);

/*
 * An open file or directory got of->fh: its record and a dup of its fd
 * go to the state / the supervisor before the reply; 0 or -errno.
 */
int handover_file_opened(struct daemon *d, const struct open_file *of,
			 int flags);
int handover_dir_opened(struct daemon *d, uint64_t fh, int fd);
void handover_file_released(struct daemon *d, uint64_t fh);
/* open flags recorded for @fh (O_APPEND writes are journaled), or -1 */
int handover_file_flags(struct daemon *d, uint64_t fh);

/* lock owners (locks.c): a record + 1, or 0 */
uint32_t handover_lock_saved(struct daemon *d, uint64_t nodeid,
			     uint64_t owner, uint64_t of_fh, pid_t pid, int fd);
void handover_lock_pid(struct daemon *d, uint32_t slot, pid_t pid);
void handover_lock_gone(struct daemon *d, uint32_t slot);

/* takeover (takeover.c): the fds the supervisor kept, by key */
struct handover_kept {
	int *file;			/* fd + 1 by fh - 1; 0: none */
	int *lock;			/* fd + 1 by lock record - 1 */
	uint32_t nfile, nlock;
	uint32_t file_max;		/* highest fh received */
};
int handover_receive_fds(struct daemon *d, struct handover_kept *k);
/* the nodes of the last worker into the (new) table; 0 or -errno */
int handover_restore_nodes(struct daemon *d);
struct handover_file_rec {
	uint64_t nodeid;
	int32_t flags, backing_id;
	bool rdwr, cached, dir;
};
/* the highest fh ever recorded (records above it are all unused) */
uint64_t handover_file_slots(struct daemon *d);
bool handover_file_record(struct daemon *d, uint64_t fh,
			  struct handover_file_rec *rec);
/* the record and the kept fd of @fh go (lost, or released) */
void handover_file_forget(struct daemon *d, uint64_t fh);
struct handover_lock_rec {
	uint64_t nodeid, owner, of_fh;
	pid_t pid;
};
uint32_t handover_lock_slots(struct daemon *d);
bool handover_lock_record(struct daemon *d, uint32_t slot,
			  struct handover_lock_rec *rec);
void handover_lock_forget(struct daemon *d, uint32_t slot);

/* the journal of non-idempotent requests (replay.c) */
struct handover_journal {
	uint64_t unique;	/* without FUSE_UNIQUE_RESEND */
	uint32_t opcode;
	uint32_t state;		/* HANDOVER_J_* */
	int32_t error;		/* the reply's (negative errno or 0) */
	uint32_t existed;	/* the name existed when the request came */
	uint64_t aux;		/* append: size before */
	uint64_t result;	/* write: bytes written; open/create: fh */
};
#define HANDOVER_J_FREE		0
#define HANDOVER_J_STARTED	1	/* read, maybe performed */
#define HANDOVER_J_REPLIED	2	/* the reply was on its way */
struct handover_journal *handover_journal(struct daemon *d, uint64_t unique);
/* a journaled request came again (counted in the state for status) */
void handover_count_replay(struct daemon *d);

#endif /* FUSEBPFD_HANDOVER_H */
