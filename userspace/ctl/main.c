// SPDX-License-Identifier: GPL-2.0
/* fusebpfctl: inspect running fusebpfd instances. */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "stats.h"
#include "supervise.h"
#include "trace.h"

static const char usage[] =
	"usage: fusebpfctl COMMAND [ARGS...]\n"
	"commands:\n"
	"  stats MOUNTPOINT|INSTANCE [--json]   requests the daemon received, mode\n"
	"  trace MOUNTPOINT [--json] [--output FILE] -- COMMAND [ARGS...]\n"
	"  trace MOUNTPOINT [--json] [--output FILE] --seconds N\n"
	"                                       requests the kernel sent (tracepoints)\n"
	"  policy check FILE                    compile a policy file, report errors\n"
	"  policy load FILE [MOUNTPOINT|INSTANCE]\n"
	"                                       replace the policy of a running instance\n"
	"  policy events [MOUNTPOINT|INSTANCE] [--json]\n"
	"                                       audit events (drains the ring buffer)\n"
	"  status MOUNTPOINT|INSTANCE [--json]  supervisor, worker, restarts (-o restart=on)\n"
	"  restart MOUNTPOINT|INSTANCE          live upgrade: the installed fusebpfd takes\n"
	"                                       over without unmounting (-o restart=on)\n"
	"  help                                 this text\n";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "policy", cmd_policy },
	{ "restart", cmd_restart },
	{ "status", cmd_status },
	{ "stats", cmd_stats },
	{ "trace", cmd_trace },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "fusebpfctl: unknown command '%s' (see fusebpfctl --help)\n",
		argv[1]);
	return 2;
}
