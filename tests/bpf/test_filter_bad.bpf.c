// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_filter_bad: a FUSE-BPF filter the verifier must reject (it writes
 * to the read-only filter arguments), for tests/integration/bpf_filter.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fusebpf/fuse_bpf_filter.h"

SEC("struct_ops/pre_filter")
int BPF_PROG(bad_pre, struct fuse_bpf_args *args)
{
	args->tag = 0;	/* the arguments are read-only: rejected */
	return 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops bad_filter_ops = {
	.pre_filter = (void *)bad_pre,
	.name = "fusebpf_bad",
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";
