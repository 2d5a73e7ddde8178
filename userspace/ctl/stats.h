/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FUSEBPF_CTL_STATS_H
#define FUSEBPF_CTL_STATS_H

/*
 * `fusebpfctl stats MOUNTPOINT|INSTANCE [--json]`: the mode and, per
 * opcode, what the kernel's policy filter decided (mode bpf) next to the
 * requests the daemon received and refused. argv[0] is "stats".
 * Returns 0, 1 when no instance matches, 2 on a usage error.
 */
int cmd_stats(int argc, char **argv);

#endif /* FUSEBPF_CTL_STATS_H */
