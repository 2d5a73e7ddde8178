// SPDX-License-Identifier: GPL-2.0
/*
 * fusebpfctl status MOUNTPOINT|INSTANCE [--json]
 * fusebpfctl restart MOUNTPOINT|INSTANCE
 *
 * Instances run with -o restart=on (userspace/daemon/supervisor.c): the
 * supervisor writes /run/fusebpf/<instance>/supervisor (key=value lines);
 * restart sends it SIGUSR2 (live upgrade: the worker finishes what it
 * holds, the binary now installed takes over) and waits for the new
 * worker to be ready.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fusebpf/instance.h"
#include "json.h"
#include "supervise.h"

#define RESTART_WAIT_MS	30000

struct sup_status {
	long supervisor, worker;
	unsigned long restarts, upgrades, replayed, kept_fds;
	double last_takeover, last_ms, max_ms;
};

static int read_status(const char *name, struct sup_status *st)
{
	char path[PATH_MAX], line[128];
	struct stat sb;
	FILE *f;

	snprintf(path, sizeof(path), FUSEBPF_RUN_DIR "/%s/supervisor", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* root's and not writable by others, as info (instance.h) */
	if (fstat(fileno(f), &sb) || sb.st_uid != 0 || (sb.st_mode & 022)) {
		fclose(f);
		return -EPERM;
	}
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "supervisor=%ld", &st->supervisor);
		sscanf(line, "worker=%ld", &st->worker);
		sscanf(line, "restarts=%lu", &st->restarts);
		sscanf(line, "upgrades=%lu", &st->upgrades);
		sscanf(line, "replayed=%lu", &st->replayed);
		sscanf(line, "kept_fds=%lu", &st->kept_fds);
		sscanf(line, "last_takeover=%lf", &st->last_takeover);
		sscanf(line, "last_takeover_ms=%lf", &st->last_ms);
		sscanf(line, "max_takeover_ms=%lf", &st->max_ms);
	}
	fclose(f);
	return 0;
}

static int open_supervised(const char *cmd, const char *target,
			   struct fusebpf_instance *inst, struct sup_status *st)
{
	int ret = fusebpf_instance_open(target, inst);

	if (ret) {
		fprintf(stderr, "fusebpfctl %s: %s: %s\n", cmd, target,
			inst->error[0] ? inst->error :
			ret == -ENOENT ? "no running fusebpfd instance" :
			strerror(-ret));
		return 1;
	}
	ret = read_status(inst->name, st);
	if (ret || st->supervisor != inst->pid) {
		fprintf(stderr, "fusebpfctl %s: %s: %s\n", cmd, target,
			ret == -ENOENT || !ret ?
			"not supervised (start fusebpfd with -o restart=on)" :
			strerror(-ret));
		fusebpf_instance_close(inst);
		return 1;
	}
	return 0;
}

static void print_status(const struct fusebpf_instance *inst,
			 const struct sup_status *st, bool json)
{
	char when[64] = "never";
	time_t t = (time_t)st->last_takeover;

	if (json) {
		printf("{\"instance\": ");
		json_string(stdout, inst->name);
		printf(", \"mountpoint\": ");
		json_string(stdout, inst->mountpoint);
		printf(", \"mode\": \"%s\", "
		       "\"supervisor_pid\": %ld, \"worker_pid\": %ld, "
		       "\"restarts\": %lu, \"upgrades\": %lu, "
		       "\"last_takeover\": %.3f, \"last_takeover_ms\": %.1f, "
		       "\"max_takeover_ms\": %.1f, \"replayed_requests\": %lu, "
		       "\"kept_fds\": %lu}\n",
		       fusebpf_mode_name(inst->mode), st->supervisor,
		       st->worker, st->restarts, st->upgrades,
		       st->last_takeover, st->last_ms, st->max_ms,
		       st->replayed, st->kept_fds);
		return;
	}
	if (st->last_takeover > 0)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
			 gmtime(&t));
	printf("instance %s on %s, mode %s\n", inst->name, inst->mountpoint,
	       fusebpf_mode_name(inst->mode));
	printf("  supervisor pid   %ld\n", st->supervisor);
	printf("  worker pid       %ld%s\n", st->worker,
	       st->worker ? "" : " (starting)");
	printf("  restarts         %lu (worker ended), %lu upgrades\n",
	       st->restarts, st->upgrades);
	printf("  last takeover    %s, %.1f ms (longest %.1f ms)\n", when,
	       st->last_ms, st->max_ms);
	printf("  replayed         %lu non-idempotent requests\n",
	       st->replayed);
	printf("  kept fds         %lu (open files, lock owners)\n",
	       st->kept_fds);
}

int cmd_status(int argc, char **argv)
{
	struct fusebpf_instance inst;
	struct sup_status st;
	bool json = json_flag(&argc, argv);

	if (argc != 2) {
		fprintf(stderr, "usage: fusebpfctl status MOUNTPOINT|INSTANCE [--json]\n");
		return 2;
	}
	if (open_supervised("status", argv[1], &inst, &st))
		return 1;
	print_status(&inst, &st, json);
	fusebpf_instance_close(&inst);
	return 0;
}

int cmd_restart(int argc, char **argv)
{
	struct fusebpf_instance inst;
	struct sup_status st, now;
	struct timespec start, t;
	double ms = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fusebpfctl restart MOUNTPOINT|INSTANCE\n");
		return 2;
	}
	if (open_supervised("restart", argv[1], &inst, &st))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (kill(inst.pid, SIGUSR2)) {
		fprintf(stderr, "fusebpfctl restart: %s: %s\n", argv[1],
			strerror(errno));
		fusebpf_instance_close(&inst);
		return 1;
	}
	for (;;) {
		if (!read_status(inst.name, &now) && now.upgrades > st.upgrades &&
		    now.worker && now.worker != st.worker)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - start.tv_sec) * 1e3 +
		     (t.tv_nsec - start.tv_nsec) / 1e6;
		if (ms > RESTART_WAIT_MS) {
			fprintf(stderr, "fusebpfctl restart: %s: no new worker after %d s\n",
				argv[1], RESTART_WAIT_MS / 1000);
			fusebpf_instance_close(&inst);
			return 1;
		}
		usleep(10 * 1000);
	}
	printf("%s: worker %ld replaced by %ld (%s) in %.1f ms\n", argv[1],
	       st.worker, now.worker, "live upgrade", now.last_ms);
	fusebpf_instance_close(&inst);
	return 0;
}
