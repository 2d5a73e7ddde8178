// SPDX-License-Identifier: GPL-2.0
/* Unit tests: policy file compiler (userspace/common/policy_compile.c). */
#include <stdio.h>
#include <stdlib.h>
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

/* the compiled node of @path, e.g. "a/b" or with a "*" component, or NULL */
static const struct fusebpf_policy_path *walk(const char *path)
{
	const struct fusebpf_policy_path *n = NULL;
	char copy[256], *save = NULL;
	__u32 parent = FUSEBPF_PATH_ROOT;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		n = node(parent, c);
		if (!n)
			return NULL;
		parent = n->val.node;
	}
	return n;
}

/* the rule of the class at @path (class 0: an all-zero rule) */
static struct fusebpf_rule rule_at(const char *path)
{
	const struct fusebpf_policy_path *n = walk(path);
	struct fusebpf_rule none = { 0 };

	return n && n->val.cls ? p.rules[n->val.cls] : none;
}

static __u32 class_at(const char *path)
{
	const struct fusebpf_policy_path *n = walk(path);

	return n ? n->val.cls : 0xffffffffu;
}

#define OWNER	FUSEBPF_RULE_OWNER_ONLY
#define RO	FUSEBPF_RULE_READ_ONLY
#define HIDDEN	FUSEBPF_RULE_HIDDEN
#define AUDIT	FUSEBPF_RULE_AUDIT
#define PRIV	FUSEBPF_UID_PRIVILEGED

/*
 * Issue 10 (2): "audit Android/data/com.example.app1/cache" next to
 * the owner-only rule of Android/data/<star> made com.example.app1 an intermediate node
 * of class 0 (exact beat "*": visible to every app) and cache audit-only.
 * Now both rules apply: the package dir stays owner-only, its owner
 * found there, and cache adds audit to owner-only, owner from above.
 */
static void test_compose_below_star(void)
{
	struct fusebpf_rule r;

	CHECK(compile("privileged-uid 0 1023\nowner-only Android/data/*\n"
		      "owner-only Android/obb/*\n"
		      "audit Android/data/com.example.app1/cache\n") == 0);
	r = rule_at("Android/data/com.example.app1");
	CHECK(r.flags == OWNER && r.owner_uid == FUSEBPF_OWNER_DIR &&
	      r.owner_exempt == PRIV && r.owner_from == FUSEBPF_OWNER_FROM_HERE);
	r = rule_at("Android/data/com.example.app1/cache");
	CHECK(r.flags == (OWNER | AUDIT) && r.owner_uid == FUSEBPF_OWNER_DIR &&
	      r.owner_exempt == PRIV && r.owner_from == FUSEBPF_OWNER_FROM_ABOVE);
	r = rule_at("Android/data/*");
	CHECK(r.flags == OWNER && r.owner_from == FUSEBPF_OWNER_FROM_HERE);
	CHECK(walk("Android/data/*/cache") == NULL);
	/* classes in file order: data/<star> and its copy, obb/<star>, cache */
	CHECK(class_at("Android/data/*") == 1 &&
	      class_at("Android/data/com.example.app1") == 2 &&
	      class_at("Android/obb/*") == 3 &&
	      class_at("Android/data/com.example.app1/cache") == 4);
	CHECK(p.nr_classes == 4 && !strcmp(p.class_path[2], "Android/data/com.example.app1"));
	/* policy check shows where the owner of a composed class comes from */
	{
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		fusebpf_policy_print(f, &p);
		fclose(f);
		CHECK(out && strstr(out, "class 4   Android/data/com.example.app1/cache owner-only,audit owner=dir(above) owner-exempt=privileged\n"));
		free(out);
	}
}

/* An exact name and a "*" sibling: both rules, and the rules below both */
static void test_compose_exact_and_star(void)
{
	struct fusebpf_rule r;

	CHECK(compile("read-only a/*\naudit a/x\nhide a/*/secret\n"
		      "audit a/x/y/z\n") == 0);
	CHECK(rule_at("a/x").flags == (RO | AUDIT));
	CHECK(rule_at("a/*").flags == RO);
	CHECK(rule_at("a/x/secret").flags == (RO | AUDIT | HIDDEN));
	CHECK(rule_at("a/*/secret").flags == (RO | HIDDEN));
	/* an intermediate node keeps the class above it (0: inherited) */
	CHECK(class_at("a/x/y") == 0);
	r = rule_at("a/x/y/z");
	CHECK(r.flags == (RO | AUDIT));
	CHECK(walk("a/*/y") == NULL);
}

/* A deeper rule adds; it never lifts a restriction or widens an exemption */
static void test_compose_never_lifts(void)
{
	struct fusebpf_rule r;

	CHECK(compile("read-only A exempt=none\nread-only A/b exempt=privileged\n"
		      "hide H/g exempt=privileged\nhide H/g/i exempt=none\n"
		      "owner-only O/* exempt=privileged\nowner-only O/*/in exempt=none\n"
		      "served A/b/c\n") == 0);
	r = rule_at("A/b");
	CHECK(r.flags == RO && r.write_exempt == 0);
	r = rule_at("A/b/c");
	CHECK(r.flags == (RO | FUSEBPF_RULE_SERVED) && r.write_exempt == 0);
	r = rule_at("H/g/i");
	CHECK(r.flags == HIDDEN && r.hide_exempt == 0);
	CHECK(rule_at("H/g").hide_exempt == PRIV);
	r = rule_at("O/*/in");
	CHECK(r.flags == OWNER && r.owner_exempt == 0 &&
	      r.owner_uid == FUSEBPF_OWNER_DIR &&
	      r.owner_from == FUSEBPF_OWNER_FROM_BOTH);
	/* owner=UID meets only the same uid */
	CHECK(compile("owner-only u/* owner=1000\nowner-only u/*/v owner=1000\n") == 0);
	r = rule_at("u/*/v");
	CHECK(r.owner_uid == 1000 && r.flags == OWNER);
	CHECK(compile("owner-only u/*\nowner-only u/x owner=1000\n") == -1);
	CHECK(!strcmp(err, "t.policy: owner-only rules of lines 1 and 2 apply to the same names with different owners (together they need owner=dir or the same uid)"));
	CHECK(compile("owner-only u owner=7\nowner-only u/v/w owner=8\n") == -1 &&
	      strstr(err, "different owners"));
}

/*
 * Issue 10 (6): the joined path of 18 components of 255 bytes overran a
 * PATH_MAX stack buffer (ASan: stack-buffer-overflow), 64 of them killed
 * fusebpfctl/fusebpfd. Now: no fixed buffer, and a clear error.
 */
static void test_long_paths(void)
{
	static char text[80 * 260];
	char comp[256];
	size_t o;

	memset(comp, 'c', 255);
	comp[255] = '\0';
	for (int n = 16; n <= 64; n += 2) {
		o = snprintf(text, sizeof(text), "audit ");
		for (int i = 0; i < n; i++)
			o += snprintf(text + o, sizeof(text) - o, "%s%s", i ? "/" : "", comp);
		snprintf(text + o, sizeof(text) - o, "\n");
		if (n == 16) {	/* 16 * 255 + 15 = 4095 bytes: the longest allowed */
			CHECK(compile(text) == 0 && p.nr_classes == 1 &&
			      strlen(p.class_path[1]) == 4095);
			continue;
		}
		CHECK(compile(text) == -1 &&
		      !strcmp(err, "t.policy:1: path longer than 4095 bytes"));
	}
	o = snprintf(text, sizeof(text), "audit ");
	for (int i = 0; i < 65; i++)
		o += snprintf(text + o, sizeof(text) - o, "%sd", i ? "/" : "");
	CHECK(compile(text) == -1 && strstr(err, "deeper than 64 components"));
	/* rules that meet under "*" build paths longer than either: fine */
	o = snprintf(text, sizeof(text), "audit %s/*/%s\naudit *", comp, comp);
	for (int i = 0; i < 15; i++)
		o += snprintf(text + o, sizeof(text) - o, "/%s", comp);
	CHECK(compile(text) == 0);
}

/* Copies made by "*" count against the class and node limits */
static void test_compose_limits(void)
{
	static char text[300 * 32];
	size_t o = snprintf(text, sizeof(text), "read-only a/*\n");

	for (int i = 0; i < 200; i++)
		o += snprintf(text + o, sizeof(text) - o, "audit a/x%d/y\n", i);
	CHECK(compile(text) == -1 &&
	      !strcmp(err, "t.policy: more than 255 classes once the rules under '*' are copied to the names they also match"));
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

/* "decide PATH": the embedder's hook judges the subtree, composed down */
static void test_decide(void)
{
	CHECK(compile("owner-only Android/data/*\ndecide DCIM\n"
		      "read-only DCIM/Camera\n") == 0);
	CHECK(rule_at("DCIM").flags == FUSEBPF_RULE_DECIDE);
	CHECK(rule_at("DCIM/Camera").flags ==
	      (FUSEBPF_RULE_DECIDE | FUSEBPF_RULE_READ_ONLY));
	CHECK(!(rule_at("Android/data/*").flags & FUSEBPF_RULE_DECIDE));
	CHECK(compile("decide DCIM exempt=privileged\n") == -1);
}

static void test_errors(void)
{
	CHECK(compile("read-only DCIM\nbogus x\n") == -1);
	CHECK(!strcmp(err, "t.policy:2: unknown directive 'bogus' (privileged-uid, owner-only, read-only, hide, served, audit, decide)"));
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
	test_decide();
	test_errors();
	test_limits();
	test_compose_below_star();
	test_compose_exact_and_star();
	test_compose_never_lifts();
	test_long_paths();
	test_compose_limits();
	fusebpf_policy_free(&p);
	return unit_report();
}
