// SPDX-License-Identifier: GPL-2.0
/*
 * Audit: a reply to an op on a class whose rule has FUSEBPF_RULE_AUDIT
 * (marked by the judgement, request_audit) becomes one event in the
 * audit_events ring buffer of the policy maps, written by the maps'
 * audit_emit program (the ring buffer has no userspace writer).
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fusebpfd.h"
#include "policy_maps.h"

void policy_audit_emit(struct daemon *d, const struct fusebpf_audit_event *ev)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ev,
		    .ctx_size_in = sizeof(*ev));
	int prog = policy_audit_prog(d);

	if (prog >= 0 && bpf_prog_test_run_opts(prog, &opts))
		log_error("policy: audit event lost: %s", strerror(errno));
}
