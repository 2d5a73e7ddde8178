/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The start every test of tests/bpf/test_filter.bpf.c shares (bpf_filter,
 * bpf_review): a scratch directory NAME.<pid> with its backing dir, and
 * the test filter loaded and registered, so that FILTER_OPEN finds it.
 */
#ifndef FUSEBPF_TEST_FILTER_SETUP_H
#define FUSEBPF_TEST_FILTER_SETUP_H

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "testlib.h"
#include "test_filter.skel.h"

struct test_filter_setup {
	char scratch[PATH_MAX];
	char back[PATH_MAX];
	struct test_filter_bpf *skel;
	struct bpf_link *link;
};

/* Under @base (else $TMPDIR, else /tmp); dies on any failure. */
static inline void test_filter_setup(struct test_filter_setup *s,
				     const char *name, const char *base)
{
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if (geteuid() != 0)
		tl_die("%s needs root (mount, CAP_SYS_ADMIN ioctls)", name);
	snprintf(s->scratch, sizeof(s->scratch), "%s/%s.%d", base, name, getpid());
	if (snprintf(s->back, sizeof(s->back), "%s/back", s->scratch) >=
	    (int)sizeof(s->back))
		tl_die("scratch path too long");
	if (mkdir(s->scratch, 0755) || mkdir(s->back, 0755))
		tl_die("mkdir %s: %s", s->back, strerror(errno));

	s->skel = test_filter_bpf__open_and_load();
	if (!s->skel)
		tl_die("the test filter does not load: %s", strerror(errno));
	s->link = bpf_map__attach_struct_ops(s->skel->maps.test_filter_ops);
	if (!s->link)
		tl_die("the test filter does not attach: %s", strerror(errno));
}

static inline void test_filter_teardown(struct test_filter_setup *s)
{
	bpf_link__destroy(s->link);
	test_filter_bpf__destroy(s->skel);
	tl_rm_rf(s->scratch);
}

#endif
