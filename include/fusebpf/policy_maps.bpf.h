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

#endif /* FUSEBPF_POLICY_MAPS_BPF_H */
