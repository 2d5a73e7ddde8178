/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy maps (policy_maps.c): load, pinning, the atomic-load
 * protocol, and the judge's view of them. Every function is a no-op (or
 * says "no policy") when the daemon runs without maps (d->policy NULL),
 * except those marked: they need the maps.
 */
#ifndef FUSEBPFD_POLICY_MAPS_H
#define FUSEBPFD_POLICY_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebpf/policy.h"
#include "policy_judge.h"

struct daemon;
struct fusebpf_policy;

/* creates the maps filled with @compiled (NULL: empty rules) */
int policy_init(struct daemon *d, const struct fusebpf_policy *compiled);
int policy_pin(struct daemon *d);
/* removes the pinned maps of a dead instance @name (runtime.c) */
void policy_unpin_dead(const char *name);
void policy_destroy(struct daemon *d);

/* the maps: meta.generation, moved by every policy load */
uint64_t policy_generation(struct daemon *d);
/* the maps: a load of generation @gen reached the kernel (meta.applied) */
void policy_set_applied(struct daemon *d, uint64_t gen);
/*
 * The maps, atomic loads (include/fusebpf/policy.h): a decision starts
 * once no load is writing them (false: a load never ended, or its loader
 * died: fail closed) and counts only if none began or ended since.
 */
bool policy_load_settled(struct daemon *d, uint64_t *gen);
bool policy_load_held(struct daemon *d, uint64_t gen);
/* the maps: the judge's view of them */
struct policy_view policy_view(struct daemon *d);
/* the maps: a copy of the rule of class @cls */
struct fusebpf_rule policy_rule(struct daemon *d, uint32_t cls);

/* mode bpf: the fd of the map @name for the kernel filter, or -1 */
int policy_map_fd(struct daemon *d, const char *name);
const char *policy_pin_dir(struct daemon *d);
/* the program that writes an audit event to audit_events, or -1 */
int policy_audit_prog(struct daemon *d);

#endif /* FUSEBPFD_POLICY_MAPS_H */
