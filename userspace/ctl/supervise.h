/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FUSEBPF_CTL_SUPERVISE_H
#define FUSEBPF_CTL_SUPERVISE_H

/*
 * Instances run with -o restart=on. argv[0] is the command name.
 * `status MOUNTPOINT|INSTANCE [--json]`: supervisor and worker pids,
 * restarts, the last takeover; `restart MOUNTPOINT|INSTANCE`: a live
 * upgrade, waits for the new worker. 0, 1 (no such supervised instance,
 * or no new worker in time), 2 on a usage error.
 */
int cmd_status(int argc, char **argv);
int cmd_restart(int argc, char **argv);

#endif /* FUSEBPF_CTL_SUPERVISE_H */
