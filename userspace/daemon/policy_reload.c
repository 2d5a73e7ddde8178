// SPDX-License-Identifier: GPL-2.0
/*
 * Policy reloads: a sweeper thread watches meta.generation of the policy
 * maps. When a load moved it, the kernel's caches are brought in line
 * (mode bpf: the root's attachment first, bpf_filter.c; then every dentry
 * the daemon handed out is dropped with FUSE_NOTIFY_INVAL_ENTRY, so the
 * new policy applies to the next walk), and then meta.applied is set,
 * which `fusebpfctl policy load` waits for. See policy.c for why.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fusebpfd.h"
#include "notify.h"
#include "policy_maps.h"

#define SWEEP_PERIOD_MS		50

struct policy_reload {
	pthread_t sweeper;
	bool stopping;			/* atomic */
};

struct entry_ref {
	uint64_t parent;
	char *name;
};

/* Adds the entry @name of @parent to @refs; false when out of memory */
static bool add_ref(struct entry_ref **refs, size_t *n, size_t *cap,
		    uint64_t parent, const char *name)
{
	struct entry_ref *grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		grown = realloc(*refs, *cap * sizeof(**refs));
		if (!grown)
			return false;
		*refs = grown;
	}
	(*refs)[*n].parent = parent;
	(*refs)[*n].name = strdup(name);
	if ((*refs)[*n].name)
		(*n)++;
	return true;
}

static void sweep(struct daemon *d)
{
	struct fusebpf_node_registry *reg = &d->table.reg;
	struct entry_ref *refs = NULL;
	size_t n = 0, cap = 0;
	bool room = true;

	/* every entry the kernel may hold: the places of live inodes */
	pthread_mutex_lock(&d->table.lock);
	for (size_t b = 0; b < reg->nbuckets && room; b++) {
		struct fusebpf_node *node;

		for (node = reg->by_id[b]; node && room; node = node->id_next) {
			struct inode *i = (struct inode *)node;

			if (!fusebpf_node_retired(node) && i->name)
				room = add_ref(&refs, &n, &cap, i->parent_id,
					       i->name);
		}
	}
	pthread_mutex_unlock(&d->table.lock);
	/* outside any request: the kernel takes the parents' inode locks */
	for (size_t i = 0; i < n; i++) {
		notify_inval_entry(d, refs[i].parent, refs[i].name);
		free(refs[i].name);
	}
	free(refs);
}

static void *sweeper_thread(void *arg)
{
	struct daemon *d = arg;
	struct policy_reload *r = d->reload;
	struct timespec period = { 0, SWEEP_PERIOD_MS * 1000000L };
	uint64_t seen = policy_generation(d);

	log_bind(d);
	policy_set_applied(d, seen);
	while (!__atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE)) {
		uint64_t gen = policy_generation(d);

		if (gen != seen) {
			/* the mode's part first (bpf: the root's entry) */
			mode_policy_loaded(d);
			sweep(d);
			seen = gen;
			policy_set_applied(d, gen);
		}
		nanosleep(&period, NULL);
	}
	return NULL;
}

int policy_reload_start(struct daemon *d)
{
	struct policy_reload *r;
	sigset_t all, old;
	int ret;

	if (!d->policy)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	d->reload = r;
	/* termination signals belong to the loop threads */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&r->sweeper, NULL, sweeper_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		log_error("policy: cannot start the sweeper thread: %s",
			  strerror(ret));
		d->reload = NULL;
		free(r);
		return -ret;
	}
	return 0;
}

void policy_reload_stop(struct daemon *d)
{
	struct policy_reload *r = d->reload;

	if (!r)
		return;
	__atomic_store_n(&r->stopping, true, __ATOMIC_RELEASE);
	pthread_join(r->sweeper, NULL);
	d->reload = NULL;
	free(r);
}
