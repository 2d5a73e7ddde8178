/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Request counters of one fusebpfd instance, shared with readers through
 * /run/fusebpf/<instance>/stats (mmap). The daemon updates every counter
 * atomically (relaxed); readers load them atomically as well.
 */
#ifndef FUSEBPF_STATS_H
#define FUSEBPF_STATS_H

#include <stdint.h>

#define FUSEBPF_RUN_DIR		"/run/fusebpf"
#define FUSEBPF_STATS_MAGIC	0x66627374u	/* "fbst" */
#define FUSEBPF_STATS_VERSION	3
#define FUSEBPF_STATS_OPCODES	64	/* FUSE opcodes 0..63 */

enum fusebpf_mode {
	FUSEBPF_MODE_AUTO	 = 0,	/* only in options: not decided yet */
	FUSEBPF_MODE_USERSPACE	 = 1,
	FUSEBPF_MODE_PASSTHROUGH = 2,
	FUSEBPF_MODE_BPF	 = 3,
};

struct fusebpf_stats {
	uint32_t magic;		/* FUSEBPF_STATS_MAGIC */
	uint32_t version;	/* FUSEBPF_STATS_VERSION */
	uint32_t mode;		/* enum fusebpf_mode, set once INIT is done */
	uint32_t nr_opcodes;	/* FUSEBPF_STATS_OPCODES */
	/* requests received from the kernel, indexed by FUSE opcode */
	uint64_t requests[FUSEBPF_STATS_OPCODES];
	/* passthrough: FUSE_DEV_IOC_BACKING_OPEN / _CLOSE that succeeded */
	uint64_t backing_opens;
	uint64_t backing_closes;
	/* opens replied with FOPEN_PASSTHROUGH */
	uint64_t passthrough_opens;
	/* opens that wanted passthrough but were served by the daemon */
	uint64_t passthrough_fallbacks;
	/* version 2: requests the policy refused, indexed by FUSE opcode */
	uint64_t denied[FUSEBPF_STATS_OPCODES];
	/* audit events the daemon put in the policy ring buffer */
	uint64_t audit_events;
	/*
	 * version 3: decision requests of the kernel filter (mode bpf),
	 * indexed by the judged FUSE opcode; refusals count in denied[]
	 */
	uint64_t prefilter[FUSEBPF_STATS_OPCODES];	/* FUSE_PREFILTER */
	uint64_t postfilter[FUSEBPF_STATS_OPCODES];	/* FUSE_POSTFILTER */
	/* ... answered EINVAL/EIO without a decision (malformed, unknown op) */
	uint64_t decision_errors;
};

static inline void fusebpf_stats_inc(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static inline uint64_t fusebpf_stats_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#endif /* FUSEBPF_STATS_H */
