/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request a worker thread is handling (request.c): what its handler
 * leaves for the reply (raw_io.c patches the reply libfuse writes) and
 * what the reply carries to the audit ring buffer. A libfuse worker reads
 * a request and replies to it on the same thread (all our handlers reply
 * synchronously), so this is thread-local.
 */
#ifndef FUSEBPFD_REQUEST_H
#define FUSEBPFD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebpf/policy.h"
#include "uapi/linux/fuse_bpf.h"

struct request_state {
	uint64_t unique;
	uint32_t opcode;
	int32_t backing_id;		/* open/create: passthrough id */
	size_t ext_len;			/* lookup: FUSE-BPF entry extension */
	unsigned char ext[sizeof(struct fuse_bpf_entry_out)];
	uint32_t uid, pid;
	bool audit;			/* reply goes to the audit ring buffer */
	struct fusebpf_audit_event event;
};

/* this thread's request (raw_io.c reads and resets it) */
struct request_state *request_current(void);
/* a new request was read: @unique, @opcode, @uid, @pid; the rest cleared */
void request_begin(uint64_t unique, uint32_t opcode, uint32_t uid,
		   uint32_t pid);
uint32_t request_opcode(void);
/* Patches of its reply: FOPEN_PASSTHROUGH with @backing_id (open/create) */
void request_reply_passthrough(int32_t backing_id);
/* the FUSE-BPF entry extension appended to a LOOKUP reply */
void request_reply_entry_ext(const void *ext, size_t len);
/* its reply goes to the audit ring buffer (policy_audit_emit) */
void request_audit(uint32_t tag, uint64_t nodeid, bool denied);

#endif /* FUSEBPFD_REQUEST_H */
