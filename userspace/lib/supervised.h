/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fusebpfd -o restart=on (userspace/daemon/supervisor.c): internal to
 * fusebpfd and the library, not part of the API (include/fusebpf/).
 */
#ifndef FUSEBPF_LIB_SUPERVISED_H
#define FUSEBPF_LIB_SUPERVISED_H

struct fusebpf_mount;
struct fusebpf_options;
struct handover_fds;

/*
 * After create (config.dev_fuse_fd = @fds->dev), before run: the mount is
 * a supervised worker; it keeps the handover state and, with
 * @fds->takeover, takes over from the last worker. Its run() ends the
 * process (the state is left as it is). 0 or -EINVAL.
 */
int fusebpf_mount_supervised(struct fusebpf_mount *m,
			     const struct handover_fds *fds);

/*
 * The supervisor: mounts (@opts, checked by a create before), runs
 * workers until unmounted; the exit status. @notify_fd (or -1) gets the
 * start-up status byte once the first worker is ready.
 */
int supervisor_run(const struct fusebpf_options *opts, int argc,
		   char **argv, int notify_fd);

#define SUPERVISOR_WORKER_ARG	"--fusebpf-worker="

#endif /* FUSEBPF_LIB_SUPERVISED_H */
