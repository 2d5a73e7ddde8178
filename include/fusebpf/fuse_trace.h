/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Layout shared by bpf/fuse_trace.bpf.c and userspace/ctl/trace.c: what the
 * kernel sent to a FUSE server, counted per opcode from the fuse:
 * fuse_request_send / fuse_request_end tracepoints (Linux >= 6.12).
 *
 * Included by the BPF program (after vmlinux.h) and by userspace (after
 * <stdint.h>), so it only uses fixed-width types both sides know.
 */
#ifndef FUSEBPF_FUSE_TRACE_H
#define FUSEBPF_FUSE_TRACE_H

/*
 * FUSE opcodes are small (FUSE_STATX == 52 in 6.12). Anything at or above
 * FUSE_TRACE_OTHER (CUSE_INIT, future opcodes) is counted in that last slot.
 */
#define FUSE_TRACE_NR_SLOTS	64
#define FUSE_TRACE_OTHER	(FUSE_TRACE_NR_SLOTS - 1)

/* Requests waiting for their reply, keyed by connection + unique. */
#define FUSE_TRACE_MAX_INFLIGHT	16384

/* Value of the per-CPU `ops` array, one slot per opcode. */
struct fuse_trace_op {
	__u64 sent;		/* fuse_request_send events */
	__u64 sent_bytes;	/* request length incl. header (WRITE data too) */
	__u64 replied;		/* fuse_request_end events paired with a send */
	__u64 errors;		/* ... of which ended with error != 0 */
	__u64 reply_bytes;	/* reply length incl. header (READ data too) */
	__u64 latency_ns;	/* sum of send -> end time of the paired ones */
};

/*
 * Value of the one-slot per-CPU `ends` array: every fuse_request_end seen,
 * also those that could not be paired with their send. Linux 6.12 assigns
 * the request's unique id only after the send tracepoint fired, so there
 * the pairing (and per-opcode errors/latency) is not possible and only
 * these totals are.
 */
struct fuse_trace_ends {
	__u64 ended;
	__u64 errors;
	__u64 unpaired;
};

/* Key and value of the `inflight` LRU hash (send -> end pairing). */
struct fuse_trace_req_key {
	__u64 unique;
	__u32 connection;
	__u32 pad;
};

struct fuse_trace_req_start {
	__u64 start_ns;
	__u32 slot;
	__u32 pad;
};

#endif /* FUSEBPF_FUSE_TRACE_H */
