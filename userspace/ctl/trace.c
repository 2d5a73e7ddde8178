// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fusebpfctl trace: the kernel-side count of what reached a FUSE daemon.
 *
 * Loads bpf/fuse_trace.bpf.c (fuse:fuse_request_send/_end tracepoints)
 * filtered on the mount's connection id, runs a command (or waits N
 * seconds), and prints per opcode how many requests the kernel sent to the
 * daemon meanwhile. Ops served by passthrough or by backing inodes in the
 * kernel never appear: this is the proof that they bypassed the daemon,
 * independent of the daemon's own counters.
 */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fusebpf/fuse_trace.h"
#include "fusebpf/pseudofs.h"
#include "fusebpf/mountinfo.h"
#include "fusebpf/instance.h"
#include "fuse_trace.skel.h"
#include "json.h"
#include "trace.h"

#define FUSE_SUPER_MAGIC 0x65735546

/* Exit statuses besides the traced command's own. */
#define TRACE_EXIT_FAIL		1
#define TRACE_EXIT_USAGE	2

struct trace_args {
	const char *mountpoint;
	const char *output;
	char **command;		/* NULL-terminated, NULL with --seconds */
	double seconds;		/* > 0 with --seconds */
	bool json;
	bool verbose;
};

/* What the maps held after the run, summed over CPUs. */
struct trace_result {
	struct fuse_trace_op ops[FUSE_TRACE_NR_SLOTS];
	struct fuse_trace_ends ends;
	__u32 connection;
	double elapsed;		/* seconds the tracepoints were attached */
	int status;		/* command's exit status, -1 with --seconds */
};

/* Opcode names shared with `fusebpfctl stats` (userspace/common/instance.c). */
static const char *opcode_name(unsigned int slot, char *buf, size_t len)
{
	const char *name = NULL;

	if (slot == FUSE_TRACE_OTHER)
		return "OTHER";
	if (slot < FUSE_TRACE_OTHER)
		name = fusebpf_opcode_name(slot);
	if (name)
		return name;
	snprintf(buf, len, "OPCODE_%u", slot);
	return buf;
}

static void trace_usage(FILE *out)
{
	fprintf(out,
		"usage: fusebpfctl trace MOUNTPOINT [--json] [--output FILE] -- COMMAND [ARGS...]\n"
		"       fusebpfctl trace MOUNTPOINT [--json] [--output FILE] --seconds N\n"
		"Count, per opcode, the requests the kernel sends to the FUSE daemon of\n"
		"MOUNTPOINT while COMMAND runs (or for N seconds), from the fuse tracepoints.\n"
		"Requests from every process using the mount are counted. FORGET and\n"
		"INTERRUPT bypass the tracepoint and are never counted.\n"
		"  --json         print one JSON object instead of a table\n"
		"  --output FILE  write the report to FILE instead of stdout\n"
		"  --seconds N    trace for N seconds (Ctrl-C stops early) instead of a command\n"
		"  --verbose      show libbpf's messages\n"
		"Exit status: COMMAND's (128+signal if killed), 1 if tracing could not start.\n");
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400.0)
		return -1;
	*out = v;
	return 0;
}

static int parse_trace_args(int argc, char **argv, struct trace_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "fusebpfctl trace: no COMMAND after --\n");
				return -1;
			}
			a->command = &argv[i + 1];
			break;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			trace_usage(stdout);
			exit(0);
		} else if (!strcmp(arg, "--json")) {
			a->json = true;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
		} else if (!strcmp(arg, "--seconds") || !strcmp(arg, "--output")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "fusebpfctl trace: %s needs a value\n", arg);
				return -1;
			}
			if (!strcmp(arg, "--output")) {
				a->output = argv[++i];
			} else if (parse_seconds(argv[++i], &a->seconds)) {
				fprintf(stderr, "fusebpfctl trace: --seconds: '%s' is not a number of seconds in (0, 86400]\n",
					argv[i]);
				return -1;
			}
		} else if (!strncmp(arg, "--seconds=", 10)) {
			if (parse_seconds(arg + 10, &a->seconds)) {
				fprintf(stderr, "fusebpfctl trace: --seconds: '%s' is not a number of seconds in (0, 86400]\n",
					arg + 10);
				return -1;
			}
		} else if (!strncmp(arg, "--output=", 9)) {
			a->output = arg + 9;
		} else if (arg[0] == '-' && arg[1]) {
			fprintf(stderr, "fusebpfctl trace: unknown option '%s'\n", arg);
			return -1;
		} else if (!a->mountpoint) {
			a->mountpoint = arg;
		} else {
			fprintf(stderr, "fusebpfctl trace: unexpected argument '%s' (put the command after --)\n",
				arg);
			return -1;
		}
	}
	if (!a->mountpoint) {
		fprintf(stderr, "fusebpfctl trace: missing MOUNTPOINT\n");
		return -1;
	}
	if (!a->command == !(a->seconds > 0)) {
		fprintf(stderr, "fusebpfctl trace: give either -- COMMAND [ARGS...] or --seconds N\n");
		return -1;
	}
	return 0;
}

/*
 * Is the filesystem with this kernel device number a FUSE one? Read from
 * /proc/self/mountinfo rather than statfs(), which would itself send the
 * daemon a STATFS request that the trace then fails to see.
 */
static int is_fuse_dev(dev_t dev)
{
	struct mount_entry *e = malloc(sizeof(*e));
	int found = -1;

	if (e && !mountinfo_find(NULL, dev, e))
		found = !strcmp(e->fstype, "fuse") || !strcmp(e->fstype, "fuseblk") ||
			!strncmp(e->fstype, "fuse.", 5);
	free(e);
	return found;
}

/*
 * The tracepoints report fc->dev, the kernel dev_t of the mount's anonymous
 * superblock (MKDEV layout, 20-bit minor), which is what
 * /sys/fs/fuse/connections/ lists too.
 */
static int fuse_connection_of(const char *path, __u32 *connection)
{
	struct statfs sfs;
	struct stat st;
	int fuse;

	if (stat(path, &st)) {
		fprintf(stderr, "fusebpfctl trace: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fuse = is_fuse_dev(st.st_dev);
	if (fuse < 0) {
		/* not in our mount namespace's table: ask the filesystem */
		if (statfs(path, &sfs)) {
			fprintf(stderr, "fusebpfctl trace: %s: %s\n", path, strerror(errno));
			return -1;
		}
		fuse = sfs.f_type == FUSE_SUPER_MAGIC;
	}
	if (!fuse) {
		fprintf(stderr, "fusebpfctl trace: %s is not on a FUSE mount\n", path);
		return -1;
	}
	*connection = (major(st.st_dev) << 20) | minor(st.st_dev);
	return 0;
}

static bool fuse_tracepoint_exists(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/fuse/fuse_request_send",
		"/sys/kernel/debug/tracing/events/fuse/fuse_request_send",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!access(paths[i], F_OK))
			return true;
	return false;
}

static bool tracefs_mounted(void)
{
	return !access("/sys/kernel/tracing/events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/events", F_OK);
}

/* Turns a libbpf failure into the one line a user can act on. */
static void explain_bpf_failure(const char *what, int err)
{
	err = err < 0 ? -err : err;
	if (err == EPERM || err == EACCES)
		fprintf(stderr, "fusebpfctl trace: BPF not permitted (%s: %s); run as root or with CAP_BPF and CAP_PERFMON\n",
			what, strerror(err));
	else if (tracefs_mounted() && !fuse_tracepoint_exists())
		fprintf(stderr, "fusebpfctl trace: this kernel has no fuse:fuse_request_send tracepoint (needs Linux >= 6.12 with FUSE)\n");
	else if (!tracefs_mounted())
		fprintf(stderr, "fusebpfctl trace: %s failed: %s (tracefs is not mounted at /sys/kernel/tracing)\n",
			what, strerror(err));
	else
		fprintf(stderr, "fusebpfctl trace: %s failed: %s (run with --verbose for libbpf's log)\n",
			what, strerror(err));
}

static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	/* Failures get explain_bpf_failure()'s one line; the log on request. */
	if (!libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs COMMAND to completion; returns its exit status as a shell would. */
static int run_command(char **command)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int wstatus;
	pid_t pid;

	fflush(NULL);
	/* Like time(1): Ctrl-C goes to the command, we report afterwards. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fusebpfctl trace: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(command[0], command);
		fprintf(stderr, "fusebpfctl trace: cannot run %s: %s\n", command[0],
			strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "fusebpfctl trace: waitpid: %s\n", strerror(errno));
			wstatus = 127 << 8;
			break;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

static volatile sig_atomic_t stop_waiting;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_waiting = 1;
}

static void wait_seconds(double seconds)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old_int, old_term;
	double deadline = now_seconds() + seconds;

	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!stop_waiting) {
		double left = deadline - now_seconds();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);	/* EINTR on a signal: loop re-checks */
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}

static int read_maps(struct fuse_trace_bpf *skel, struct trace_result *r)
{
	int ncpus = libbpf_num_possible_cpus();
	int ops_fd = bpf_map__fd(skel->maps.ops);
	int ends_fd = bpf_map__fd(skel->maps.ends);
	struct fuse_trace_ends *ends;
	struct fuse_trace_op *ops;
	__u32 slot, zero = 0;
	int cpu, ret = -1;

	if (ncpus <= 0) {
		fprintf(stderr, "fusebpfctl trace: cannot count CPUs: %s\n", strerror(-ncpus));
		return -1;
	}
	ops = calloc(ncpus, sizeof(*ops));
	ends = calloc(ncpus, sizeof(*ends));
	if (!ops || !ends) {
		fprintf(stderr, "fusebpfctl trace: out of memory\n");
		goto out;
	}
	for (slot = 0; slot < FUSE_TRACE_NR_SLOTS; slot++) {
		struct fuse_trace_op *sum = &r->ops[slot];

		if (bpf_map_lookup_elem(ops_fd, &slot, ops)) {
			fprintf(stderr, "fusebpfctl trace: reading map ops: %s\n", strerror(errno));
			goto out;
		}
		for (cpu = 0; cpu < ncpus; cpu++) {
			sum->sent += ops[cpu].sent;
			sum->sent_bytes += ops[cpu].sent_bytes;
			sum->replied += ops[cpu].replied;
			sum->errors += ops[cpu].errors;
			sum->reply_bytes += ops[cpu].reply_bytes;
			sum->latency_ns += ops[cpu].latency_ns;
		}
	}
	if (bpf_map_lookup_elem(ends_fd, &zero, ends)) {
		fprintf(stderr, "fusebpfctl trace: reading map ends: %s\n", strerror(errno));
		goto out;
	}
	for (cpu = 0; cpu < ncpus; cpu++) {
		r->ends.ended += ends[cpu].ended;
		r->ends.errors += ends[cpu].errors;
		r->ends.unpaired += ends[cpu].unpaired;
	}
	ret = 0;
out:
	free(ops);
	free(ends);
	return ret;
}

/*
 * The tracepoint is found through tracefs, which a fresh machine has not
 * mounted: mount it as bpftool mounts bpffs, or say what to run.
 */
static int ensure_tracefs(void)
{
	char cmd[128];
	int err;

	if (tracefs_mounted())
		return 0;
	err = pseudofs_ensure(&pseudofs_tracefs);
	if (!err)
		return 0;
	if (err == -ENOENT) {
		fprintf(stderr, "fusebpfctl trace: this kernel has no tracefs (%s is missing; needs CONFIG_TRACING)\n",
			pseudofs_tracefs.path);
		return -1;
	}
	pseudofs_mount_command(&pseudofs_tracefs, cmd, sizeof(cmd));
	fprintf(stderr, "fusebpfctl trace: tracefs is not mounted at %s and mounting it failed: %s; as root run: %s\n",
		pseudofs_tracefs.path, strerror(-err), cmd);
	return -1;
}

/* Attaches, runs the command or waits, detaches, collects. */
static int trace_run(const struct trace_args *a, struct trace_result *r)
{
	struct fuse_trace_bpf *skel;
	double start;
	int err;

	libbpf_verbose = a->verbose;
	libbpf_set_print(libbpf_print);
	if (ensure_tracefs())
		return -1;

	skel = fuse_trace_bpf__open();
	if (!skel) {
		explain_bpf_failure("opening the BPF object", errno);
		return -1;
	}
	skel->rodata->filter_connection = r->connection;
	err = fuse_trace_bpf__load(skel);
	if (err) {
		explain_bpf_failure("loading the BPF program", err);
		goto fail;
	}
	err = fuse_trace_bpf__attach(skel);
	if (err) {
		explain_bpf_failure("attaching to fuse:fuse_request_send", err);
		goto fail;
	}

	start = now_seconds();
	if (a->command) {
		r->status = run_command(a->command);
	} else {
		r->status = -1;
		wait_seconds(a->seconds);
	}
	r->elapsed = now_seconds() - start;
	fuse_trace_bpf__detach(skel);

	err = read_maps(skel, r);
	fuse_trace_bpf__destroy(skel);
	return err;
fail:
	fuse_trace_bpf__destroy(skel);
	return -1;
}

static bool replies_paired(const struct trace_result *r)
{
	return r->ends.ended > r->ends.unpaired;
}

static void print_table(FILE *out, const struct trace_args *a, const struct trace_result *r)
{
	bool paired = replies_paired(r);
	__u64 sent = 0, sent_bytes = 0, errors = 0, reply_bytes = 0;
	char buf[32];
	unsigned int slot;
	char **arg;

	fprintf(out, "fusebpfctl trace: %s (FUSE connection %u), ", a->mountpoint,
		r->connection);
	if (a->command) {
		fprintf(out, "command '");
		for (arg = a->command; *arg; arg++)
			fprintf(out, "%s%s", arg == a->command ? "" : " ", *arg);
		fprintf(out, "' exited %d after %.3f s\n", r->status, r->elapsed);
	} else {
		fprintf(out, "%.3f s\n", r->elapsed);
	}
	fprintf(out, "requests the kernel sent to the FUSE daemon:\n");
	fprintf(out, "  %-16s %10s %12s", "opcode", "sent", "bytes sent");
	if (paired)
		fprintf(out, " %8s %14s %12s", "errors", "bytes replied", "avg latency");
	fprintf(out, "\n");
	for (slot = 0; slot < FUSE_TRACE_NR_SLOTS; slot++) {
		const struct fuse_trace_op *op = &r->ops[slot];

		if (!op->sent)
			continue;
		sent += op->sent;
		sent_bytes += op->sent_bytes;
		errors += op->errors;
		reply_bytes += op->reply_bytes;
		fprintf(out, "  %-16s %10llu %12llu", opcode_name(slot, buf, sizeof(buf)),
			(unsigned long long)op->sent, (unsigned long long)op->sent_bytes);
		if (paired && op->replied)
			fprintf(out, " %8llu %14llu %9.1f us", (unsigned long long)op->errors,
				(unsigned long long)op->reply_bytes,
				op->latency_ns / 1e3 / op->replied);
		else if (paired)
			fprintf(out, " %8s %14s %12s", "-", "-", "-");
		fprintf(out, "\n");
	}
	if (!sent)
		fprintf(out, "  (none)\n");
	fprintf(out, "  %-16s %10llu %12llu", "total", (unsigned long long)sent,
		(unsigned long long)sent_bytes);
	if (paired)
		fprintf(out, " %8llu %14llu", (unsigned long long)errors,
			(unsigned long long)reply_bytes);
	fprintf(out, "\n");
	if (!paired && r->ends.ended)
		fprintf(out, "replies: %llu, %llu with an error (this kernel assigns the request id after\n"
			"the send tracepoint, so replies cannot be matched to opcodes)\n",
			(unsigned long long)r->ends.ended, (unsigned long long)r->ends.errors);
}

static void print_json(FILE *out, const struct trace_args *a, const struct trace_result *r)
{
	bool paired = replies_paired(r), first = true;
	__u64 sent = 0;
	unsigned int slot;
	char buf[32];
	char **arg;

	fprintf(out, "{\"mountpoint\":");
	json_string(out, a->mountpoint);
	fprintf(out, ",\"connection\":%u,\"command\":", r->connection);
	if (a->command) {
		fputc('[', out);
		for (arg = a->command; *arg; arg++) {
			if (arg != a->command)
				fputc(',', out);
			json_string(out, *arg);
		}
		fprintf(out, "],\"exit_status\":%d", r->status);
	} else {
		fprintf(out, "null,\"exit_status\":null");
	}
	fprintf(out, ",\"seconds\":%.6f,\"replies_paired\":%s,\"requests\":{",
		r->elapsed, paired ? "true" : "false");
	for (slot = 0; slot < FUSE_TRACE_NR_SLOTS; slot++) {
		const struct fuse_trace_op *op = &r->ops[slot];

		if (!op->sent)
			continue;
		sent += op->sent;
		fprintf(out, "%s\"%s\":{\"opcode\":%u,\"sent\":%llu,\"sent_bytes\":%llu",
			first ? "" : ",", opcode_name(slot, buf, sizeof(buf)), slot,
			(unsigned long long)op->sent, (unsigned long long)op->sent_bytes);
		if (paired)
			fprintf(out, ",\"replied\":%llu,\"errors\":%llu,\"reply_bytes\":%llu,\"latency_ns\":%llu",
				(unsigned long long)op->replied, (unsigned long long)op->errors,
				(unsigned long long)op->reply_bytes,
				(unsigned long long)op->latency_ns);
		fputc('}', out);
		first = false;
	}
	fprintf(out, "},\"total\":{\"sent\":%llu,\"replies\":%llu,\"reply_errors\":%llu}}\n",
		(unsigned long long)sent, (unsigned long long)r->ends.ended,
		(unsigned long long)r->ends.errors);
}

int cmd_trace(int argc, char **argv)
{
	struct trace_result result;
	struct trace_args args;
	FILE *out = stdout;

	if (parse_trace_args(argc, argv, &args)) {
		fprintf(stderr, "(see 'fusebpfctl trace --help')\n");
		return TRACE_EXIT_USAGE;
	}
	memset(&result, 0, sizeof(result));
	if (fuse_connection_of(args.mountpoint, &result.connection))
		return TRACE_EXIT_FAIL;
	/* Open the report file first: a bad path must not cost a command run. */
	if (args.output) {
		out = fopen(args.output, "w");
		if (!out) {
			fprintf(stderr, "fusebpfctl trace: %s: %s\n", args.output, strerror(errno));
			return TRACE_EXIT_FAIL;
		}
	}
	if (trace_run(&args, &result)) {
		if (out != stdout)
			fclose(out);
		return TRACE_EXIT_FAIL;
	}
	if (args.json)
		print_json(out, &args, &result);
	else
		print_table(out, &args, &result);
	if (out != stdout && fclose(out)) {
		fprintf(stderr, "fusebpfctl trace: %s: %s\n", args.output, strerror(errno));
		return TRACE_EXIT_FAIL;
	}
	return args.command ? result.status : 0;
}
