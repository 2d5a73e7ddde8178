// SPDX-License-Identifier: GPL-2.0
/* Unit tests: policy file compiler (userspace/common/policy_compile.c). */
#include <string.h>

#include "fusebpf/policy_compile.h"
#include "unit.h"

static struct fusebpf_policy p;
static char err[512];

static int compile(const char *text)
{
	fusebpf_policy_free(&p);
	err[0] = '\0';
	return fusebpf_policy_compile_text("t.policy", text, &p, err, sizeof(err));
}

/* the node of @name below @parent, or NULL */
static const struct fusebpf_policy_path *node(__u32 parent, const char *name)
{
	for (size_t i = 0; i < p.nr_paths; i++)
		if (p.paths[i].key.parent == parent &&
		    !strcmp(p.paths[i].key.name, name))
			return &p.paths[i];
	return NULL;
}

static void test_full(void)
{
	const struct fusebpf_policy_path *android, *data, *star, *obb;

	CHECK(compile("# comment\n\nprivileged-uid 0 1023   # trailing\n"
		      "owner-only Android/data/*\n"
		      "audit Android/data/*\n"
		      "owner-only /Android/obb/*/ owner=1000 exempt=none\n"
		      "read-only DCIM/Camera exempt=privileged\n"
		      "hide .nomedia\nhide Android/secret\n"
		      "served Music\n") == 0);
	CHECK(p.nr_classes == 5);
	CHECK(p.nr_uids == 2 && p.uids[0].uid == 0 && p.uids[1].uid == 1023 &&
	      p.uids[1].bits == FUSEBPF_UID_PRIVILEGED);
	android = node(FUSEBPF_PATH_ROOT, "Android");
	CHECK(android && android->val.cls == 0);
	data = android ? node(android->val.node, "data") : NULL;
	star = data ? node(data->val.node, "*") : NULL;
	CHECK(star && star->val.cls == 1);
	CHECK(p.rules[1].flags == (FUSEBPF_RULE_OWNER_ONLY | FUSEBPF_RULE_AUDIT));
	CHECK(p.rules[1].owner_uid == FUSEBPF_OWNER_DIR);
	CHECK(p.rules[1].owner_exempt == FUSEBPF_UID_PRIVILEGED);
	obb = android ? node(android->val.node, "obb") : NULL;
	star = obb ? node(obb->val.node, "*") : NULL;
	CHECK(star && star->val.cls == 2);
	CHECK(p.rules[2].owner_uid == 1000 && p.rules[2].owner_exempt == 0);
	CHECK(p.rules[3].flags == FUSEBPF_RULE_READ_ONLY &&
	      p.rules[3].write_exempt == FUSEBPF_UID_PRIVILEGED);
	CHECK(!strcmp(p.class_path[3], "DCIM/Camera"));
	CHECK(p.nr_names == 1 && !strcmp(p.names[0].key.name, ".nomedia") &&
	      p.names[0].key.cls == FUSEBPF_CLASS_ANY);
	CHECK(p.rules[4].flags == FUSEBPF_RULE_HIDDEN);
	CHECK(p.rules[5].flags == FUSEBPF_RULE_SERVED);
	/* node ids are unique */
	for (size_t i = 0; i < p.nr_paths; i++)
		for (size_t j = i + 1; j < p.nr_paths; j++)
			CHECK(p.paths[i].val.node != p.paths[j].val.node);
}

static void test_errors(void)
{
	CHECK(compile("read-only DCIM\nbogus x\n") == -1);
	CHECK(!strcmp(err, "t.policy:2: unknown directive 'bogus' (privileged-uid, owner-only, read-only, hide, served, audit)"));
	CHECK(p.nr_classes == 0 && p.nr_paths == 0);
	CHECK(compile("\n\nread-only a/../b\n") == -1 && !strncmp(err, "t.policy:3: ", 12));
	CHECK(compile("read-only a/b*\n") == -1 && strstr(err, "whole path components"));
	CHECK(compile("read-only a//b\n") == -1 && strstr(err, "empty path component"));
	CHECK(compile("read-only /\n") == -1 && strstr(err, "mount root"));
	CHECK(compile("read-only\n") == -1 && strstr(err, "needs a path"));
	CHECK(compile("read-only a b\n") == -1 && strstr(err, "unexpected 'b'"));
	CHECK(compile("read-only a owner=1\n") == -1 && strstr(err, "no option 'owner'"));
	CHECK(compile("served a exempt=none\n") == -1 && strstr(err, "no option 'exempt'"));
	CHECK(compile("owner-only a owner=x\n") == -1 && strstr(err, "not a uid"));
	CHECK(compile("owner-only a exempt=all\n") == -1 && strstr(err, "exempt=privileged or exempt=none"));
	CHECK(compile("privileged-uid\n") == -1 && strstr(err, "at least one uid"));
	CHECK(compile("privileged-uid -1\n") == -1 && strstr(err, "not a uid"));
	CHECK(compile("privileged-uid 4294967295\n") == -1);
	CHECK(compile("read-only a\nread-only a/\n") == -1 &&
	      !strcmp(err, "t.policy:2: 'read-only a' repeats line 1"));
	CHECK(compile("hide x\nhide x\n") == -1 && strstr(err, "repeated"));
	CHECK(compile("hide ..\n") == -1 && strstr(err, "not a file name"));
	CHECK(compile("hide a*\n") == -1);
	CHECK(compile("read-only a exempt=none exempt=none\n") == -1 && strstr(err, "given twice"));
}

static void test_limits(void)
{
	static char text[300 * 16];
	size_t o = 0;

	for (int i = 0; i < 256; i++)
		o += snprintf(text + o, sizeof(text) - o, "audit d%d\n", i);
	CHECK(compile(text) == -1 && strstr(err, "t.policy:256: more than 255 policy paths"));
	CHECK(compile("") == 0 && p.nr_classes == 0);
}

int main(void)
{
	test_full();
	test_errors();
	test_limits();
	fusebpf_policy_free(&p);
	return unit_report();
}
