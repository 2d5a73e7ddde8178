// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * policy: the fusebpf policy maps (layouts in include/fusebpf/policy.h),
 * loaded by fusebpfd through this object's skeleton and pinned under
 * /sys/fs/bpf/fusebpf/<instance>/ with BTF.
 *
 * In modes passthrough and userspace the daemon decides from these maps
 * itself (userspace/daemon/policy.c). The phase-2 kernel filter
 * (struct_ops callbacks) belongs in this object too, reading the same maps
 * with fusebpf_policy_decide(); it needs the kernel patches that define
 * the struct_ops type, so it is not here yet. Its shape, from what the
 * daemon does now:
 *  - pre-filter: class = FUSEBPF_TAG_CLASS(inode tag), rule = rules[class],
 *    owner = rule.owner_uid or owners[FUSEBPF_TAG_SLOT(tag)], uid bits =
 *    uid_classes[caller uid]; fusebpf_policy_decide() gives ENOENT/EROFS
 *    or "run on backing"; LOOKUP also checks hidden_names for the name;
 *    SERVED sends the op to the daemon; AUDIT writes audit_events here;
 *  - tags: the daemon keeps FUSE_BPF_ENTRY_LOOKUP_SERVER on directories
 *    whose path tree node has children (pnode != FUSEBPF_PATH_NONE), so it
 *    sets FUSE_BPF_ENTRY_TAG at every class root; below the tree children
 *    inherit the tag in the kernel;
 *  - readdir of a directory with owner-only or hidden entries: sent to the
 *    daemon (it filters, as now) or filtered by a post-filter.
 *
 * audit_emit is the one program that loads on a stock kernel: userspace
 * cannot produce into a BPF ring buffer, so the daemon runs this
 * BPF_PROG_TYPE_SYSCALL program (BPF_PROG_TEST_RUN, the event as context)
 * to put its audit events in the same ring buffer the kernel filter will
 * write to.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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

SEC("syscall")
int audit_emit(struct fusebpf_audit_event *ctx)
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
	ev->nodeid = ctx->nodeid;
	ev->opcode = ctx->opcode;
	ev->uid = ctx->uid;
	ev->pid = ctx->pid;
	ev->tag = ctx->tag;
	ev->result = ctx->result;
	ev->flags = ctx->flags;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
