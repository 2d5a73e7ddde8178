// SPDX-License-Identifier: GPL-2.0
/*
 * fusebpfctl stats: per-opcode counts of an instance, in one table.
 *
 * Two sources, each counting what it sees:
 *  - the daemon's stats file (/run/fusebpf/<instance>/stats): requests it
 *    received (to perform), decision requests it judged (mode bpf:
 *    FUSE_PREFILTER/FUSE_POSTFILTER from the filter), and of both, the ones
 *    its policy refused;
 *  - mode bpf with the policy filter attached: the filter's decisions,
 *    pinned as /sys/fs/bpf/fusebpf/<instance>/filter_counts (struct
 *    fusebpf_filter_count): run in the kernel, sent to the daemon, denied.
 * Other modes have no in-kernel counter: their kernel columns are empty
 * ("-", JSON null) and a note says what the kernel serves there.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/instance.h"
#include "fusebpf/policy_compile.h"
#include "json.h"
#include "stats.h"

#define NR_OPS FUSEBPF_STATS_OPCODES

_Static_assert(FUSEBPF_FILTER_OPCODES == FUSEBPF_STATS_OPCODES,
	       "filter_counts and the daemon's stats index the same opcodes");

struct op_row {
	uint64_t kernel;	/* filter: allowed, run on the backing */
	uint64_t to_daemon;	/* filter: sent to the daemon */
	uint64_t filter_denied;	/* filter: refused in the kernel */
	uint64_t received;	/* daemon: requests received, to perform */
	uint64_t judged;	/* daemon: decision requests (pre + post) */
	uint64_t denied;	/* daemon: of both, refused by its policy */
};

struct counts {
	bool filter;		/* kernel columns come from filter_counts */
	int filter_err;		/* mode bpf: why there are none (errno) */
	char filter_path[PATH_MAX + 32];
	struct op_row ops[NR_OPS];
};

static void read_filter_counts(const struct fusebpf_instance *inst,
			       struct counts *c)
{
	char dir[PATH_MAX];
	int fd;

	fusebpf_policy_pin_dir(inst->name, dir, sizeof(dir));
	snprintf(c->filter_path, sizeof(c->filter_path), "%s/filter_counts",
		 dir);
	if (inst->mode != FUSEBPF_MODE_BPF)
		return;
	fd = bpf_obj_get(c->filter_path);
	if (fd < 0) {
		c->filter_err = errno;
		return;
	}
	for (__u32 op = 0; op < NR_OPS; op++) {
		struct fusebpf_filter_count v;

		if (bpf_map_lookup_elem(fd, &op, &v)) {
			c->filter_err = errno;
			close(fd);
			return;
		}
		c->ops[op].kernel = v.kernel;
		c->ops[op].to_daemon = v.daemon;
		c->ops[op].filter_denied = v.denied;
	}
	close(fd);
	c->filter = true;
}

static void read_counts(const struct fusebpf_instance *inst, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	read_filter_counts(inst, c);
	for (unsigned int op = 0; op < NR_OPS; op++) {
		c->ops[op].received =
			fusebpf_stats_load(&inst->stats->requests[op]);
		c->ops[op].judged =
			fusebpf_stats_load(&inst->stats->prefilter[op]) +
			fusebpf_stats_load(&inst->stats->postfilter[op]);
		c->ops[op].denied = fusebpf_stats_load(&inst->stats->denied[op]);
	}
}

static bool row_used(const struct op_row *r)
{
	return r->kernel || r->to_daemon || r->filter_denied || r->received ||
	       r->judged || r->denied;
}

/* What the kernel columns mean (or why they are empty), one paragraph. */
static void kernel_note(const struct fusebpf_instance *inst,
			const struct counts *c, char *buf, size_t len)
{
	const struct fusebpf_stats *st = inst->stats;

	switch (inst->mode) {
	case FUSEBPF_MODE_BPF:
		if (c->filter) {
			snprintf(buf, len,
				 "kernel: decisions of the policy filter (%s). "
				 "'in kernel': allowed, run on the backing inode; 'to daemon': sent to "
				 "the daemon to perform ('received') or to judge ('judged'), after "
				 "which the kernel runs it. LOOKUP also counts "
				 "revalidations of cached dentries and lookups the kernel then sends "
				 "to the daemon (directories whose entries it decides), which appear "
				 "under 'received' too; READDIR counts one decision per entry listed "
				 "in the kernel. Ops the filter does not judge (READ, WRITE, FLUSH, "
				 "RELEASE, ... of open files) run in the kernel on backed inodes, "
				 "counted nowhere. 'received' also counts ops in daemon-served "
				 "subtrees, which have no filter.",
				 c->filter_path);
		} else {
			snprintf(buf, len,
				 "kernel: no filter counts (%s: %s): ops on backed inodes run in "
				 "the kernel, counted nowhere.",
				 c->filter_path, strerror(c->filter_err));
		}
		break;
	case FUSEBPF_MODE_PASSTHROUGH:
		snprintf(buf, len,
			 "kernel: not counted in mode passthrough. Reads, writes, splice and "
			 "mmap of files opened with passthrough (%" PRIu64 " opens so far) go "
			 "to the backing file in the kernel and never reach the daemon; every "
			 "other operation is a daemon request ('received'). `fusebpfctl trace` "
			 "shows what the kernel sends.",
			 fusebpf_stats_load(&st->passthrough_opens));
		break;
	default:
		snprintf(buf, len,
			 "kernel: nothing is served in the kernel in mode %s: every operation "
			 "is a daemon request ('received'); hits in the kernel's dentry and "
			 "attribute caches are not requests and are counted nowhere.",
			 fusebpf_mode_name(inst->mode) ?: "?");
		break;
	}
}

static void json_count(const char *key, bool known, uint64_t n)
{
	if (known)
		printf("\"%s\": %" PRIu64, key, n);
	else
		printf("\"%s\": null", key);
}

/* "requests"/"denied": every named opcode, as before the filter columns */
static void json_per_opcode(const char *key, const uint64_t *counters)
{
	const char *sep = "";

	printf(", \"%s\": {", key);
	for (unsigned int op = 0; op < NR_OPS; op++) {
		const char *name = fusebpf_opcode_name(op);

		if (!name)
			continue;
		printf("%s\"%s\": %" PRIu64, sep, name,
		       fusebpf_stats_load(&counters[op]));
		sep = ", ";
	}
	putchar('}');
}

static void print_json(const struct fusebpf_instance *inst,
		       const struct counts *c, const char *note)
{
	const struct fusebpf_stats *st = inst->stats;
	const char *sep = "";

	printf("{\"instance\": ");
	json_string(stdout, inst->name);
	printf(", \"pid\": %d, \"mode\": ", inst->pid);
	json_string(stdout, fusebpf_mode_name(inst->mode));
	printf(", \"backing\": ");
	json_string(stdout, inst->backing);
	printf(", \"mountpoint\": ");
	json_string(stdout, inst->mountpoint);
	printf(", \"kernel_counts\": ");
	if (c->filter)
		json_string(stdout, c->filter_path);
	else
		printf("null");
	printf(", \"kernel_note\": ");
	json_string(stdout, note);
	/* the table's rows: the same data as the text form */
	printf(", \"ops\": {");
	for (unsigned int op = 0; op < NR_OPS; op++) {
		const struct op_row *r = &c->ops[op];
		const char *name = fusebpf_opcode_name(op);
		char unnamed[16];

		if (!row_used(r))
			continue;
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "OPCODE_%u", op);
			name = unnamed;
		}
		printf("%s\"%s\": {", sep, name);
		json_count("kernel", c->filter, r->kernel);
		printf(", ");
		json_count("filter_to_daemon", c->filter, r->to_daemon);
		printf(", ");
		json_count("filter_denied", c->filter, r->filter_denied);
		printf(", \"daemon_received\": %" PRIu64
		       ", \"daemon_judged\": %" PRIu64
		       ", \"daemon_denied\": %" PRIu64 "}",
		       r->received, r->judged, r->denied);
		sep = ", ";
	}
	putchar('}');
	json_per_opcode("requests", st->requests);
	json_per_opcode("denied", st->denied);
	printf(", \"audit_events\": %" PRIu64 ", \"decision_errors\": %" PRIu64,
	       fusebpf_stats_load(&st->audit_events),
	       fusebpf_stats_load(&st->decision_errors));
	printf(", \"backing_opens\": %" PRIu64 ", \"backing_closes\": %" PRIu64
	       ", \"passthrough_opens\": %" PRIu64
	       ", \"passthrough_fallbacks\": %" PRIu64 "}\n",
	       fusebpf_stats_load(&st->backing_opens),
	       fusebpf_stats_load(&st->backing_closes),
	       fusebpf_stats_load(&st->passthrough_opens),
	       fusebpf_stats_load(&st->passthrough_fallbacks));
}

static void print_count(bool known, uint64_t n, int width)
{
	if (known)
		printf(" %*" PRIu64, width, n);
	else
		printf(" %*s", width, "-");
}

/* Prints @text wrapped at 78 columns, each line indented by @indent. */
static void print_wrapped(const char *text, const char *indent)
{
	const int width = 78 - (int)strlen(indent);

	while (*text) {
		int n = (int)strlen(text), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && text[cut] != ' '; cut--)
				;
			if (!cut)
				cut = width;
		}
		printf("%s%.*s\n", indent, cut, text);
		text += cut;
		while (*text == ' ')
			text++;
	}
}

static void print_table(const struct fusebpf_instance *inst,
			const struct counts *c, const char *note)
{
	const struct fusebpf_stats *st = inst->stats;
	struct op_row total = { 0 };
	bool any = false;

	printf("instance    %s (pid %d)\nmode        %s\nbacking     %s\nmountpoint  %s\n\n",
	       inst->name, inst->pid, fusebpf_mode_name(inst->mode),
	       inst->backing, inst->mountpoint);
	printf("%-16s %-32s  %s\n", "",
	       c->filter ? "----- kernel (policy filter) ----" :
			   "------ kernel (not counted) -----",
	       "------------- daemon -----------");
	printf("%-16s %10s %10s %10s  %10s %10s %10s\n", "OPCODE", "in kernel",
	       "to daemon", "denied", "received", "judged", "denied");
	for (unsigned int op = 0; op < NR_OPS; op++) {
		const struct op_row *r = &c->ops[op];
		const char *name = fusebpf_opcode_name(op);

		if (!row_used(r))
			continue;
		any = true;
		if (name)
			printf("%-16s", name);
		else
			printf("OPCODE_%-9u", op);
		print_count(c->filter, r->kernel, 10);
		print_count(c->filter, r->to_daemon, 10);
		print_count(c->filter, r->filter_denied, 10);
		printf(" ");
		print_count(true, r->received, 10);
		print_count(true, r->judged, 10);
		print_count(true, r->denied, 10);
		printf("\n");
		total.kernel += r->kernel;
		total.to_daemon += r->to_daemon;
		total.filter_denied += r->filter_denied;
		total.received += r->received;
		total.judged += r->judged;
		total.denied += r->denied;
	}
	if (!any)
		printf("(no operation counted yet)\n");
	printf("%-16s", "total");
	print_count(c->filter, total.kernel, 10);
	print_count(c->filter, total.to_daemon, 10);
	print_count(c->filter, total.filter_denied, 10);
	printf(" ");
	print_count(true, total.received, 10);
	print_count(true, total.judged, 10);
	print_count(true, total.denied, 10);
	printf("\n\n");
	print_wrapped(note, "");
	print_wrapped("daemon: 'received' = requests fusebpfd got to perform, 'judged' = "
		      "decision requests of the kernel filter it answered, 'denied' = of "
		      "both, refused by its policy.", "");
	printf("\n%-22s %12" PRIu64 "\n%-22s %12" PRIu64 "\n", "audit events",
	       fusebpf_stats_load(&st->audit_events), "decision errors",
	       fusebpf_stats_load(&st->decision_errors));
	printf("%-22s %12" PRIu64 "\n%-22s %12" PRIu64 "\n%-22s %12" PRIu64
	       "\n%-22s %12" PRIu64 "\n",
	       "backing opens", fusebpf_stats_load(&st->backing_opens),
	       "backing closes", fusebpf_stats_load(&st->backing_closes),
	       "passthrough opens", fusebpf_stats_load(&st->passthrough_opens),
	       "passthrough fallbacks",
	       fusebpf_stats_load(&st->passthrough_fallbacks));
}

int cmd_stats(int argc, char **argv)
{
	struct fusebpf_instance inst;
	const char *target = NULL;
	static struct counts counts;
	char note[sizeof(counts.filter_path) + 1024];
	bool json = json_flag(&argc, argv);
	int ret;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' || target) {
			fprintf(stderr, "fusebpfctl stats: unexpected argument '%s'\n",
				argv[i]);
			return 2;
		} else {
			target = argv[i];
		}
	}
	if (!target) {
		fprintf(stderr, "usage: fusebpfctl stats MOUNTPOINT|INSTANCE [--json]\n");
		return 2;
	}
	ret = fusebpf_instance_open(target, &inst);
	if (ret) {
		fprintf(stderr, "fusebpfctl stats: %s: %s\n", target,
			inst.error[0] ? inst.error :
			ret == -ENOENT ? "no running fusebpfd instance" :
			strerror(-ret));
		return 1;
	}
	read_counts(&inst, &counts);
	kernel_note(&inst, &counts, note, sizeof(note));
	if (json)
		print_json(&inst, &counts, note);
	else
		print_table(&inst, &counts, note);
	fusebpf_instance_close(&inst);
	return 0;
}
