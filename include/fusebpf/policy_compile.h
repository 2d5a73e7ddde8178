/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy files: parsing and compiling into map contents
 * (include/fusebpf/policy.h), and writing those into the pinned maps of a
 * running instance.
 *
 * Format: one directive per line, '#' starts a comment, paths are
 * relative to the mount root, "*" matches one whole path component.
 *
 *   privileged-uid UID...            uids of the "privileged" uid class
 *   owner-only PATH [owner=dir|UID] [exempt=privileged|none]
 *        visible only to its owner (default: the uid of the directory
 *        PATH matched) and the exempt uid classes (default: privileged);
 *        others get ENOENT and do not see it listed
 *   read-only PATH [exempt=privileged|none]    EROFS on every mutating op
 *   hide NAME [exempt=...]           NAME (no '/') invisible in every dir
 *   hide PATH [exempt=...]           the subtree at PATH invisible
 *   served PATH                      served by the daemon, never passthrough
 *   audit PATH                       ops go to the audit ring buffer
 *
 * Rules compose (ISOLATION.md): every rule whose path matches a name
 * applies to it and to everything below it, whether it names the path
 * exactly or with "*", and a deeper rule adds to the rules above it; none
 * lifts a restriction (owner-only, read-only, hide) set above it, and
 * where two restrict the same way an exemption holds only if both grant
 * it. Nested owner-only rules: the caller must own every one of them, or be
 * exempt from all of them; they may only meet with owner=dir or one uid.
 * A path longer than 4095 bytes or deeper than 64 components is an error.
 */
#ifndef FUSEBPF_POLICY_COMPILE_H
#define FUSEBPF_POLICY_COMPILE_H

#include <stddef.h>
#include <stdio.h>

#include "fusebpf/policy.h"

struct fusebpf_policy_path {
	struct fusebpf_path_key key;
	struct fusebpf_path_node val;
};

struct fusebpf_policy_name {
	struct fusebpf_name_key key;
	struct fusebpf_hidden val;
};

struct fusebpf_policy_uid {
	__u32 uid;
	__u32 bits;
};

struct fusebpf_policy {
	struct fusebpf_rule rules[FUSEBPF_POLICY_CLASSES];
	char *class_path[FUSEBPF_POLICY_CLASSES];	/* e.g. "Android/obb/pkg" */
	unsigned int nr_classes;	/* classes 1..nr_classes are used */
	struct fusebpf_policy_path *paths;
	size_t nr_paths;
	struct fusebpf_policy_name *names;
	size_t nr_names;
	struct fusebpf_policy_uid *uids;
	size_t nr_uids;
};

/*
 * Compiles @file. On error returns -1 with "FILE:LINE: message" (or
 * "FILE: message") in @err; @p is then empty. Release with
 * fusebpf_policy_free() in every case.
 */
int fusebpf_policy_compile_file(const char *file, struct fusebpf_policy *p,
				char *err, size_t errlen);
/* The same for text already in memory; @name stands for the file name. */
int fusebpf_policy_compile_text(const char *name, const char *text,
				struct fusebpf_policy *p, char *err,
				size_t errlen);
void fusebpf_policy_free(struct fusebpf_policy *p);

/* Human-readable summary: classes, rules, hidden names, uid classes. */
void fusebpf_policy_print(FILE *out, const struct fusebpf_policy *p);

/* "owner-only,read-only" for rule flags, in @buf */
const char *fusebpf_rule_flags_str(__u32 flags, char *buf, size_t len);

/* fds of the pinned maps of one instance */
struct fusebpf_policy_maps {
	int rules, uid_classes, paths, hidden_names, owners, meta, audit_events;
};

/* FUSEBPF_POLICY_PIN_DIR "/" @instance */
void fusebpf_policy_pin_dir(const char *instance, char *buf, size_t len);
/* Opens the pinned maps of @instance; 0 or -errno (-ENOENT: none pinned). */
int fusebpf_policy_maps_open(const char *instance,
			     struct fusebpf_policy_maps *m);
void fusebpf_policy_maps_close(struct fusebpf_policy_maps *m);

/*
 * Replaces the policy in the maps with @p (already fully validated):
 * rules, uid classes, path tree, hidden names, then meta.generation + 1 so
 * the daemon re-tags its inodes. The owners map belongs to the daemon and
 * is left alone. 0 or -1 with a message in @err.
 */
int fusebpf_policy_apply(const struct fusebpf_policy_maps *m,
			 const struct fusebpf_policy *p, char *err,
			 size_t errlen);

#endif /* FUSEBPF_POLICY_COMPILE_H */
