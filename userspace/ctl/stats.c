// SPDX-License-Identifier: GPL-2.0
/* fusebpfctl stats: daemon-side request counters of an instance. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fusebpf/instance.h"
#include "stats.h"

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct fusebpf_instance *inst)
{
	const struct fusebpf_stats *st = inst->stats;
	const char *sep = "";

	printf("{\"instance\": ");
	json_string(inst->name);
	printf(", \"pid\": %d, \"mode\": ", inst->pid);
	json_string(fusebpf_mode_name(inst->mode));
	printf(", \"backing\": ");
	json_string(inst->backing);
	printf(", \"mountpoint\": ");
	json_string(inst->mountpoint);
	printf(", \"requests\": {");
	for (unsigned int op = 0; op < FUSEBPF_STATS_OPCODES; op++) {
		const char *name = fusebpf_opcode_name(op);

		if (!name)
			continue;
		printf("%s\"%s\": %" PRIu64, sep, name,
		       fusebpf_stats_load(&st->requests[op]));
		sep = ", ";
	}
	printf("}, \"denied\": {");
	sep = "";
	for (unsigned int op = 0; op < FUSEBPF_STATS_OPCODES; op++) {
		const char *name = fusebpf_opcode_name(op);

		if (!name)
			continue;
		printf("%s\"%s\": %" PRIu64, sep, name,
		       fusebpf_stats_load(&st->denied[op]));
		sep = ", ";
	}
	printf("}, \"audit_events\": %" PRIu64,
	       fusebpf_stats_load(&st->audit_events));
	printf(", \"backing_opens\": %" PRIu64 ", \"backing_closes\": %" PRIu64
	       ", \"passthrough_opens\": %" PRIu64
	       ", \"passthrough_fallbacks\": %" PRIu64 "}\n",
	       fusebpf_stats_load(&st->backing_opens),
	       fusebpf_stats_load(&st->backing_closes),
	       fusebpf_stats_load(&st->passthrough_opens),
	       fusebpf_stats_load(&st->passthrough_fallbacks));
}

static void print_table(const struct fusebpf_instance *inst)
{
	const struct fusebpf_stats *st = inst->stats;

	printf("instance    %s (pid %d)\nmode        %s\nbacking     %s\nmountpoint  %s\n\n",
	       inst->name, inst->pid, fusebpf_mode_name(inst->mode),
	       inst->backing, inst->mountpoint);
	/* daemon: requests it received; denied: of those, refused by the policy */
	printf("%-22s %12s %12s\n", "REQUEST", "DAEMON", "DENIED");
	for (unsigned int op = 0; op < FUSEBPF_STATS_OPCODES; op++) {
		uint64_t n = fusebpf_stats_load(&st->requests[op]);
		uint64_t denied = fusebpf_stats_load(&st->denied[op]);
		const char *name = fusebpf_opcode_name(op);

		if (n || denied)
			printf("%-22s %12" PRIu64 " %12" PRIu64 "\n",
			       name ? name : "?", n, denied);
	}
	printf("\n%-22s %12" PRIu64 "\n", "audit events",
	       fusebpf_stats_load(&st->audit_events));
	printf("\n%-22s %12" PRIu64 "\n%-22s %12" PRIu64 "\n%-22s %12" PRIu64
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
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] == '-' || target) {
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
			ret == -ENOENT ? "no running fusebpfd instance" :
					 strerror(-ret));
		return 1;
	}
	if (json)
		print_json(&inst);
	else
		print_table(&inst);
	fusebpf_instance_close(&inst);
	return 0;
}
