/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The embedder's hooks (include/fusebpf/fusebpf.h): post-operation
 * events, decisions of "decide" subtrees, audit records. The ops
 * handlers and the policy call these; without the hook they do nothing.
 *
 * Events keep the order of the changes: an op that may emit one takes
 * the order lock before its backing syscall (hooks_change_begin) and
 * drops it after emitting (hooks_change_end), so two changes are emitted
 * in the order the backing saw them. Only while an event hook is set.
 */
#ifndef FUSEBPFD_HOOKS_H
#define FUSEBPFD_HOOKS_H

#include "fusebpfd.h"

struct fusebpf_event;
struct fusebpf_decision_req;
struct fusebpf_audit_event;

int hooks_init(struct daemon *d);
/* once mounted (mode bpf: drains the filter's event ring buffer) */
int hooks_start(struct daemon *d);
void hooks_stop(struct daemon *d);
void hooks_destroy(struct daemon *d);
void hooks_stats(const struct daemon *d, uint64_t *events, uint64_t *lost,
		 uint64_t *decisions, uint64_t *denied);

bool hooks_want_events(const struct daemon *d);
void hooks_change_begin(struct daemon *d);
void hooks_change_end(struct daemon *d);
/*
 * A change made by @req succeeded: @type (FUSEBPF_EV_*) of @name in @dir
 * (@name NULL: @dir itself), with @dir2/@name2 for LINK and RENAME.
 */
void hooks_event(fuse_req_t req, uint32_t type, struct inode *dir,
		 const char *name, struct inode *dir2, const char *name2,
		 mode_t mode, uint64_t size, uint32_t flags);
/* CLOSE_WRITE of the open file @of (its path now), by its opener */
struct open_file;
void hooks_event_close_write(struct daemon *d, const struct open_file *of);
/* an event the daemon did not see (mode bpf ring buffer) */
void hooks_emit(struct daemon *d, struct fusebpf_event *ev);

/* does the policy give this class's ops to the embedder? */
bool hooks_want_decisions(const struct daemon *d);
/* 0 or a positive errno, from hooks.decide */
int hooks_decide(struct daemon *d, struct fusebpf_decision_req *req);
/* the path of @inode relative to BACKING ("" the root); 0 or -errno */
int hooks_inode_path(struct daemon *d, int fd, char *buf, size_t len);

/* the same for an inode, also a hard link whose first name is gone */
int hooks_node_path(struct daemon *d, struct inode *inode, char *buf,
		    size_t len);

void hooks_audit(struct daemon *d, const struct fusebpf_audit_event *ev);

#endif /* FUSEBPFD_HOOKS_H */
