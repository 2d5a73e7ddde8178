/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The policy maps (layouts in policy.h), for BPF objects only: defined
 * once for bpf/policy.bpf.c, which creates and pins them, and
 * bpf/policy_filter.bpf.c, whose skeleton reuses the pinned maps
 * (bpf_map__reuse_fd needs identical definitions).
 */
#ifndef FUSEBPF_POLICY_MAPS_BPF_H
#define FUSEBPF_POLICY_MAPS_BPF_H

#include "fusebpf/policy.h"

/* mmap-able: the daemon reads rules and meta without a syscall */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FUSEBPF_POLICY_CLASSES);
	__type(key, __u32);
	__type(value, struct fusebpf_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUSEBPF_POLICY_MAX_UIDS);
	__type(key, __u32);
	__type(value, __u32);
} uid_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUSEBPF_POLICY_MAX_PATH_NODES);
	__type(key, struct fusebpf_path_key);
	__type(value, struct fusebpf_path_node);
} paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUSEBPF_POLICY_MAX_HIDDEN);
	__type(key, struct fusebpf_name_key);
	__type(value, struct fusebpf_hidden);
} hidden_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUSEBPF_POLICY_MAX_OWNERS);
	__type(key, __u32);
	__type(value, __u32);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fusebpf_policy_meta);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FUSEBPF_POLICY_AUDIT_BYTES);
} audit_events SEC(".maps");

/*
 * Append one event to audit_events; a full ring buffer is counted in
 * meta.audit_lost rather than blocking the operation. Returns 0 or 1 (lost).
 */
static __always_inline int audit_submit(__u64 nodeid, __u32 opcode, __u32 uid,
					__u32 pid, __u32 tag, __s32 result,
					__u32 flags)
{
	struct fusebpf_audit_event *ev;
	struct fusebpf_policy_meta *m;
	__u32 zero = 0;

	ev = bpf_ringbuf_reserve(&audit_events, sizeof(*ev), 0);
	if (!ev) {
		m = bpf_map_lookup_elem(&meta, &zero);
		if (m)
			__sync_fetch_and_add(&m->audit_lost, 1);
		return 1;
	}
	ev->nodeid = nodeid;
	ev->opcode = opcode;
	ev->uid = uid;
	ev->pid = pid;
	ev->tag = tag;
	ev->result = result;
	ev->flags = flags;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

#endif /* FUSEBPF_POLICY_MAPS_BPF_H */
