/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef FUSEBPF_CTL_TRACE_H
#define FUSEBPF_CTL_TRACE_H

/*
 * `fusebpfctl trace MOUNTPOINT [--json] [--output FILE] -- COMMAND [ARGS...]`
 * `fusebpfctl trace MOUNTPOINT [--json] [--output FILE] --seconds N`
 *
 * Counts, per opcode, the requests the kernel sent to the FUSE server of
 * MOUNTPOINT (fuse tracepoints, bpf/fuse_trace.bpf.c) while COMMAND runs or
 * for N seconds, and prints them. argv[0] is the subcommand name ("trace").
 * Returns the process exit status: COMMAND's status (128 + signal if it was
 * killed), 0 after --seconds, 1 if tracing could not be set up, 2 on a
 * usage error.
 */
int cmd_trace(int argc, char **argv);

#endif /* FUSEBPF_CTL_TRACE_H */
