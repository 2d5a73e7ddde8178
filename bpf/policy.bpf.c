// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * policy: the fusebpf policy maps (layouts in include/fusebpf/policy.h),
 * loaded by fusebpfd through this object's skeleton and pinned under
 * /sys/fs/bpf/fusebpf/<instance>/ with BTF.
 *
 * In modes passthrough and userspace the daemon decides from these maps
 * itself (userspace/daemon/policy.c). In mode bpf the kernel filter
 * bpf/policy_filter.bpf.c (struct_ops fuse_bpf_ops, kernel-patches/0009)
 * decides from the same maps: a separate object, because struct_ops of
 * that type only load on the patched kernel while this one must load on
 * stock kernels. The map definitions both use are in
 * include/fusebpf/policy_maps.bpf.h.
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
#include "fusebpf/policy_maps.bpf.h"

SEC("syscall")
int audit_emit(struct fusebpf_audit_event *ctx)
{
	return audit_submit(ctx->nodeid, ctx->opcode, ctx->uid, ctx->pid,
			    ctx->tag, ctx->result, ctx->flags);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
