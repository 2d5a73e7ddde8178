/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command line of fusebpfd:
 *   fusebpfd BACKING MOUNTPOINT [-f] [-d] [-o opt[,opt...]]
 *   opts: mode=bpf|passthrough|userspace, instance=NAME,
 *         served=RELPATH[:RELPATH...], policy=FILE,
 *         watch_backing=on|off, entry_timeout=SECS, attr_timeout=SECS,
 *         restart=on|off,
 *         and the standard mount options (ro, rw, [no]suid, [no]dev,
 *         [no]exec, [a]sync, dirsync, the atime ones, fsname=, subtype=)
 */
#ifndef FUSEBPF_OPTIONS_H
#define FUSEBPF_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "fusebpf/instance.h"
#include "fusebpf/stats.h"

#define FUSEBPF_SERVED_MAX	32

struct fusebpf_options {
	const char *backing;
	const char *mountpoint;
	bool foreground;
	bool debug;
	bool help;
	enum fusebpf_mode mode;		/* FUSEBPF_MODE_AUTO unless forced */
	char instance[FUSEBPF_INSTANCE_NAME_MAX];	/* "" = default */
	/* subtrees served by the daemon, relative to BACKING, normalized */
	char *served[FUSEBPF_SERVED_MAX];
	size_t nr_served;
	char *policy;			/* policy file, or NULL */
	bool no_watch_backing;		/* watch_backing=off */
	bool supervise;			/* restart=on: supervisor + worker */
	/* kernel cache seconds; < 0: the daemon's default */
	double entry_timeout;
	double attr_timeout;
	/* standard mount options for the mount, comma-separated, or NULL */
	char *mount_opts;
	char *fsname;			/* fsname=, or NULL (BACKING) */
	char *subtype;			/* subtype=, or NULL */
};

/*
 * Parses argv. On error returns -1 with a one-line message in @err.
 * Release with fusebpf_options_free() in every case.
 */
int fusebpf_options_parse(struct fusebpf_options *opts, int argc,
			  char **argv, char *err, size_t errlen);
void fusebpf_options_free(struct fusebpf_options *opts);
/*
 * A served path normalized (no leading, trailing or double slashes, no
 * "."), malloc'ed; NULL for "..", the root itself, or ENOMEM.
 */
char *fusebpf_served_normalize(const char *path);

/*
 * Relation of a relative path ("" is the root) to the served subtrees:
 * inside one (or equal to its root), a proper ancestor of one, or neither.
 */
enum fusebpf_served_rel {
	FUSEBPF_SERVED_NONE,
	FUSEBPF_SERVED_INSIDE,
	FUSEBPF_SERVED_ANCESTOR,
};
enum fusebpf_served_rel fusebpf_served_relation(const struct fusebpf_options *opts,
						const char *relpath);

#endif /* FUSEBPF_OPTIONS_H */
