/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decisions taken for a caller (policy.c): the ops the daemon performs,
 * and the decision requests of the kernel filter (policy_decision.c).
 * Each runs the judge (policy_judge.c) on the tags of the inodes
 * concerned, again until no policy load overlapped it, and counts its
 * refusals once under the caller's opcode.
 */
#ifndef FUSEBPFD_POLICY_CHECK_H
#define FUSEBPFD_POLICY_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "policy_judge.h"

struct daemon;
struct inode;
struct fuse_entry_param;

struct policy_caller {
	struct daemon *d;
	struct policy_view view;
	struct policy_ask ask;
	pid_t pid;
	/* what is judged, for the embedder's hook: the inode, or the directory */
	struct inode *at;
	uint32_t opcode;
	bool audit;		/* the reply goes through request_audit */
	uint64_t gen;		/* the policy generation of this attempt */
	uint32_t denied;	/* its refusals, counted when it counts */
};

/* a caller @uid/@gid/@pid asking for @opcode; @audit: its reply is audited */
struct policy_caller policy_caller(struct daemon *d, uid_t uid, gid_t gid,
				   pid_t pid, uint32_t opcode, bool audit);
bool policy_attempt_begin(struct policy_caller *c);
/* The attempt counts (no load overlapped it): its refusals too */
bool policy_attempt_done(struct policy_caller *c);

/*
 * @err = @expr, a decision, taken again until no policy load overlapped
 * it; EIO if a load never ended (a loader died mid-load).
 */
#define POLICY_JUDGED(c, err, expr)				\
	do {							\
		if (!policy_attempt_begin(c)) {			\
			(err) = EIO;				\
			break;					\
		}						\
		(err) = (expr);					\
	} while (!policy_attempt_done(c))

/* a refusal of this attempt */
static inline void policy_count_denied(struct policy_caller *c)
{
	c->denied++;
}

/* Inside POLICY_JUDGED: 0 or a positive errno */
int policy_caller_inode(struct policy_caller *c, struct inode *inode,
			int access);
int policy_caller_name(struct policy_caller *c, struct inode *dir,
		       const char *name, int access, bool create);
/* creating (@create) or removing the entry @name of @dir */
int policy_caller_change(struct policy_caller *c, struct inode *dir,
			 const char *name, bool create);
bool policy_caller_visible(struct policy_caller *c, struct inode *dir,
			   const char *name, struct inode *child,
			   struct fuse_entry_param *e);

#endif /* FUSEBPFD_POLICY_CHECK_H */
