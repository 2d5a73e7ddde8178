// SPDX-License-Identifier: GPL-2.0
/*
 * fusebpfctl policy check FILE
 * fusebpfctl policy load FILE [MOUNTPOINT|INSTANCE]
 * fusebpfctl policy events [MOUNTPOINT|INSTANCE] [--json]
 *
 * load compiles the whole file first: a file with any error changes
 * nothing. Then it rewrites the pinned maps of the running instance
 * (/sys/fs/bpf/fusebpf/<instance>/); the daemon decides from those maps
 * on every operation, so the new policy applies to the next one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fusebpf/instance.h"
#include "fusebpf/policy_compile.h"
#include "json.h"
#include "policy.h"

#define ERR_MAX 512
#define APPLY_WAIT_MS 3000

/*
 * The daemon drops the kernel's cached dentries and then sets meta.applied:
 * once it has, every later walk sees the new policy.
 */
static bool wait_applied(const struct fusebpf_policy_maps *m)
{
	struct timespec tick = { 0, 10 * 1000000L };
	struct fusebpf_policy_meta meta;
	__u32 zero = 0;

	for (int ms = 0; ms < APPLY_WAIT_MS; ms += 10) {
		if (bpf_map_lookup_elem(m->meta, &zero, &meta))
			return false;
		if (meta.applied == meta.generation)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

static int check(const char *file)
{
	struct fusebpf_policy p;
	char err[ERR_MAX];

	if (fusebpf_policy_compile_file(file, &p, err, sizeof(err))) {
		fprintf(stderr, "fusebpfctl: %s\n", err);
		fusebpf_policy_free(&p);
		return 1;
	}
	printf("%s: ok, ", file);
	fusebpf_policy_print(stdout, &p);
	fusebpf_policy_free(&p);
	return 0;
}

/*
 * The instance @target names, or the only running one if NULL; prints
 * why not (state that is not trusted is refused, see instance.h).
 */
static int find_instance(const char *cmd, const char *target, char *name,
			 size_t len)
{
	struct fusebpf_instance inst;
	DIR *dir;
	struct dirent *de;
	int found = 0, ret;

	if (target) {
		ret = fusebpf_instance_open(target, &inst);
		if (ret) {
			fprintf(stderr, "fusebpfctl %s: %s: %s\n", cmd, target,
				inst.error[0] ? inst.error :
				ret == -ENOENT ? "no running fusebpfd instance" :
				strerror(-ret));
			return -1;
		}
		snprintf(name, len, "%s", inst.name);
		fusebpf_instance_close(&inst);
		return 0;
	}
	dir = opendir(FUSEBPF_RUN_DIR);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		ret = fusebpf_instance_open(de->d_name, &inst);
		if (ret == -EPERM)
			fprintf(stderr, "fusebpfctl %s: ignoring %s\n", cmd, inst.error);
		if (ret)
			continue;
		if (!found++)
			snprintf(name, len, "%s", inst.name);
		fusebpf_instance_close(&inst);
	}
	if (dir)
		closedir(dir);
	if (found == 1)
		return 0;
	fprintf(stderr, "fusebpfctl %s: %s: name the MOUNTPOINT or INSTANCE\n", cmd,
		found ? "several fusebpfd instances are running" :
			"no fusebpfd instance is running");
	return -1;
}

static int load(const char *file, const char *target)
{
	char err[ERR_MAX], name[FUSEBPF_INSTANCE_NAME_MAX];
	struct fusebpf_policy_maps maps;
	struct fusebpf_policy p;
	int ret;

	if (fusebpf_policy_compile_file(file, &p, err, sizeof(err))) {
		fprintf(stderr, "fusebpfctl: %s (running policy unchanged)\n", err);
		fusebpf_policy_free(&p);
		return 1;
	}
	if (find_instance("policy load", target, name, sizeof(name))) {
		fusebpf_policy_free(&p);
		return 1;
	}
	ret = fusebpf_policy_maps_open(name, &maps);
	if (ret) {
		fprintf(stderr, "fusebpfctl policy load: instance %s has no policy maps in %s/%s: %s\n",
			name, FUSEBPF_POLICY_PIN_DIR, name, strerror(-ret));
		fusebpf_policy_free(&p);
		return 1;
	}
	ret = fusebpf_policy_apply(&maps, &p, err, sizeof(err));
	if (ret)
		fprintf(stderr, "fusebpfctl policy load: instance %s: %s\n", name,
			err);
	else if (!wait_applied(&maps))
		fprintf(stderr, "fusebpfctl policy load: instance %s: maps updated, but the daemon did not confirm within %d ms (cached dentries may see the old policy for up to a second)\n",
			name, APPLY_WAIT_MS);
	if (!ret)
		printf("instance %s: loaded %s (%u classes, %zu hidden names, %zu uids)\n",
		       name, file, p.nr_classes, p.nr_names, p.nr_uids);
	fusebpf_policy_maps_close(&maps);
	fusebpf_policy_free(&p);
	return ret ? 1 : 0;
}

static int print_event(void *ctx, void *data, size_t len)
{
	const struct fusebpf_audit_event *ev = data;
	const char *op;
	bool json = *(bool *)ctx;

	if (len < sizeof(*ev))
		return 0;
	op = fusebpf_opcode_name(ev->opcode);
	if (json)
		printf("{\"opcode\": \"%s\", \"uid\": %u, \"pid\": %u, \"class\": %u, \"tag\": %u, \"nodeid\": %llu, \"result\": %d, \"denied\": %s}\n",
		       op ? op : "?", ev->uid, ev->pid, FUSEBPF_TAG_CLASS(ev->tag),
		       ev->tag, (unsigned long long)ev->nodeid, ev->result,
		       ev->flags & FUSEBPF_AUDIT_DENIED ? "true" : "false");
	else
		printf("%-12s uid %-6u pid %-7u class %-3u nodeid %-8llu %s%s\n",
		       op ? op : "?", ev->uid, ev->pid, FUSEBPF_TAG_CLASS(ev->tag),
		       (unsigned long long)ev->nodeid,
		       ev->result ? strerror(-ev->result) : "ok",
		       ev->flags & FUSEBPF_AUDIT_DENIED ? " (policy)" : "");
	return 0;
}

/* Drains the audit ring buffer: each event is printed once. */
static int events(const char *target, bool json)
{
	char name[FUSEBPF_INSTANCE_NAME_MAX];
	struct fusebpf_policy_maps maps;
	struct ring_buffer *rb;
	int ret;

	if (find_instance("policy events", target, name, sizeof(name)))
		return 1;
	if (fusebpf_policy_maps_open(name, &maps)) {
		fprintf(stderr, "fusebpfctl policy events: instance %s has no policy maps\n",
			name);
		return 1;
	}
	libbpf_set_print(NULL);
	rb = ring_buffer__new(maps.audit_events, print_event, &json, NULL);
	ret = rb && ring_buffer__consume(rb) >= 0 ? 0 : 1;
	if (ret)
		fprintf(stderr, "fusebpfctl policy events: cannot read the ring buffer\n");
	ring_buffer__free(rb);
	fusebpf_policy_maps_close(&maps);
	return ret;
}

int cmd_policy(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "events")) {
		const char *target = NULL;
		bool json = json_flag(&argc, argv);

		for (int i = 2; i < argc; i++) {
			if (!target && argv[i][0] != '-')
				target = argv[i];
			else
				goto usage;
		}
		return events(target, json);
	}
	if (argc == 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "load"))
		return load(argv[2], argc == 4 ? argv[3] : NULL);
usage:
	fprintf(stderr, "usage: fusebpfctl policy check FILE\n"
			"       fusebpfctl policy load FILE [MOUNTPOINT|INSTANCE]\n"
			"       fusebpfctl policy events [MOUNTPOINT|INSTANCE] [--json]\n");
	return 2;
}
