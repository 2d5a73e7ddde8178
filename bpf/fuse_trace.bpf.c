// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuse_trace: count, per opcode, the requests the kernel sent to a FUSE
 * server, from the fuse tracepoints (stock Linux >= 6.12, no kernel patch).
 * This is the kernel-side view of what reached the daemon: an op served by
 * passthrough or by a backing inode never shows up here.
 *
 * Loaded by `fusebpfctl trace` (userspace/ctl/trace.c) through its skeleton.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "fusebpf/fuse_trace.h"

/* FUSE connection id (the mount's kernel dev_t) to count; 0 counts all. */
const volatile __u32 filter_connection = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUSE_TRACE_NR_SLOTS);
	__type(key, __u32);
	__type(value, struct fuse_trace_op);
} ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fuse_trace_ends);
} ends SEC(".maps");

/* LRU so that requests whose end we never see cannot fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FUSE_TRACE_MAX_INFLIGHT);
	__type(key, struct fuse_trace_req_key);
	__type(value, struct fuse_trace_req_start);
} inflight SEC(".maps");

static __always_inline bool connection_wanted(__u32 connection)
{
	return !filter_connection || connection == filter_connection;
}

static __always_inline __u32 opcode_slot(__u32 opcode)
{
	return opcode < FUSE_TRACE_OTHER ? opcode : FUSE_TRACE_OTHER;
}

SEC("tracepoint/fuse/fuse_request_send")
int fuse_request_send(struct trace_event_raw_fuse_request_send *ctx)
{
	struct fuse_trace_req_start start = {};
	struct fuse_trace_req_key key = {};
	struct fuse_trace_op *op;
	__u32 connection = BPF_CORE_READ(ctx, connection);
	__u32 slot;

	if (!connection_wanted(connection))
		return 0;

	slot = opcode_slot(BPF_CORE_READ(ctx, opcode));
	op = bpf_map_lookup_elem(&ops, &slot);
	if (!op)
		return 0;
	op->sent++;
	op->sent_bytes += BPF_CORE_READ(ctx, len);

	/* 6.12 fires this before the unique id is assigned: cannot pair. */
	key.unique = BPF_CORE_READ(ctx, unique);
	if (!key.unique)
		return 0;
	key.connection = connection;
	start.start_ns = bpf_ktime_get_ns();
	start.slot = slot;
	bpf_map_update_elem(&inflight, &key, &start, BPF_ANY);
	return 0;
}

SEC("tracepoint/fuse/fuse_request_end")
int fuse_request_end(struct trace_event_raw_fuse_request_end *ctx)
{
	struct fuse_trace_req_key key = {};
	struct fuse_trace_req_start *start;
	struct fuse_trace_ends *total;
	struct fuse_trace_op *op;
	__u32 connection = BPF_CORE_READ(ctx, connection);
	__s32 error = BPF_CORE_READ(ctx, error);
	__u32 zero = 0;

	if (!connection_wanted(connection))
		return 0;

	total = bpf_map_lookup_elem(&ends, &zero);
	if (!total)
		return 0;
	total->ended++;
	if (error)
		total->errors++;

	key.unique = BPF_CORE_READ(ctx, unique);
	key.connection = connection;
	start = bpf_map_lookup_elem(&inflight, &key);
	if (!start) {
		total->unpaired++;
		return 0;
	}
	op = bpf_map_lookup_elem(&ops, &start->slot);
	if (op) {
		op->replied++;
		if (error)
			op->errors++;
		op->reply_bytes += BPF_CORE_READ(ctx, len);
		op->latency_ns += bpf_ktime_get_ns() - start->start_ns;
	}
	bpf_map_delete_elem(&inflight, &key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
