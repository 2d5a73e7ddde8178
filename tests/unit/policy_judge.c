// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the daemon's policy judge (userspace/daemon/policy_judge.c)
 * on a table view of a compiled policy, without maps or a mount:
 *
 *   Android/data/<pkg>        class 1: owner-only (the dir's uid)
 *   Android/data/<pkg>/files  class 5: owner-only, owner here and above
 *   Android/data/<pkg>/cache  class 6: owner-only, the owner from above
 *   DCIM                      class 2: read-only, privileged uids exempt
 *   secret                    class 3: hidden, privileged uids exempt
 *   audited                   class 4: audit
 *   decided                   class 7: the embedder's hook decides
 *   hidden names: ".nomedia" everywhere, "lost+found" in class 1 dirs
 *   uid 0 is privileged (owner-, write- and hide-exempt)
 */
#include <errno.h>
#include <string.h>

#include <linux/types.h>

#include "fusebpf/fuse_bpf_filter.h"
#include "fusebpf/fusebpf.h"
#include "fusebpf/policy_request.h"
#include "../../userspace/daemon/policy_judge.h"
#include "unit.h"

#define PRIV		FUSEBPF_UID_PRIVILEGED
#define APP1		10001
#define APP2		10002

struct path_row {
	uint32_t parent;
	const char *name;
	uint32_t node, cls;
};

static const struct path_row paths[] = {
	{ FUSEBPF_PATH_ROOT, "Android", 2, 0 },
	{ 2, "data", 3, 0 },
	{ 3, "*", 4, 1 },
	{ 4, "files", 8, 5 },
	{ 4, "cache", 9, 6 },
	{ FUSEBPF_PATH_ROOT, "DCIM", 5, 2 },
	{ FUSEBPF_PATH_ROOT, "secret", 6, 3 },
	{ FUSEBPF_PATH_ROOT, "audited", 7, 4 },
	{ FUSEBPF_PATH_ROOT, "decided", 10, 7 },
};

static struct fusebpf_rule rules[FUSEBPF_POLICY_CLASSES] = {
	[1] = { .flags = FUSEBPF_RULE_OWNER_ONLY,
		.owner_uid = FUSEBPF_OWNER_DIR, .owner_exempt = PRIV },
	[2] = { .flags = FUSEBPF_RULE_READ_ONLY, .write_exempt = PRIV },
	[3] = { .flags = FUSEBPF_RULE_HIDDEN, .hide_exempt = PRIV },
	[4] = { .flags = FUSEBPF_RULE_AUDIT },
	[5] = { .flags = FUSEBPF_RULE_OWNER_ONLY,
		.owner_uid = FUSEBPF_OWNER_DIR, .owner_exempt = PRIV,
		.owner_from = FUSEBPF_OWNER_FROM_BOTH },
	[6] = { .flags = FUSEBPF_RULE_OWNER_ONLY,
		.owner_uid = FUSEBPF_OWNER_DIR, .owner_exempt = PRIV,
		.owner_from = FUSEBPF_OWNER_FROM_ABOVE },
	[7] = { .flags = FUSEBPF_RULE_DECIDE | FUSEBPF_RULE_AUDIT },
};

static uid_t slots[8];
static unsigned int nr_slots;

static struct fusebpf_rule t_rule(void *ctx, uint32_t cls)
{
	(void)ctx;
	return rules[cls];
}

static uint32_t t_uid_bits(void *ctx, uid_t uid)
{
	(void)ctx;
	return uid == 0 ? PRIV : 0;
}

static bool t_path_child(void *ctx, uint32_t parent, const char *name,
			 struct fusebpf_name_dir *at,
			 struct fusebpf_path_node *out)
{
	const struct path_row *star = NULL;

	(void)ctx;
	(void)at;
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		if (paths[i].parent != parent)
			continue;
		if (!strcmp(paths[i].name, name)) {
			*out = (struct fusebpf_path_node){ paths[i].node,
							   paths[i].cls };
			return true;
		}
		if (!strcmp(paths[i].name, "*"))
			star = &paths[i];
	}
	if (star)
		*out = (struct fusebpf_path_node){ star->node, star->cls };
	return star != NULL;
}

static bool t_hidden(void *ctx, uint32_t cls, const char *name,
		     struct fusebpf_name_dir *at, struct fusebpf_hidden *out)
{
	(void)ctx;
	(void)at;
	*out = (struct fusebpf_hidden){ .hide_exempt = PRIV };
	return !strcmp(name, ".nomedia") ||
	       (cls == 1 && !strcmp(name, "lost+found"));
}

static uint32_t t_owner_slot(void *ctx, uid_t uid)
{
	(void)ctx;
	for (unsigned int i = 0; i < nr_slots; i++)
		if (slots[i] == uid)
			return i + 1;
	if (nr_slots == sizeof(slots) / sizeof(*slots))
		return 0;
	slots[nr_slots++] = uid;
	return nr_slots;
}

static uint32_t t_slot_owner(void *ctx, uint32_t slot)
{
	(void)ctx;
	return slot && slot <= nr_slots ? slots[slot - 1] : FUSEBPF_OWNER_DIR;
}

static const struct policy_view_ops ops = {
	.rule = t_rule,
	.uid_bits = t_uid_bits,
	.path_child = t_path_child,
	.hidden = t_hidden,
	.owner_slot = t_owner_slot,
	.slot_owner = t_slot_owner,
};

static const struct policy_view view = { .ops = &ops };

/* the owner callback: a fixed uid, and how often it was asked */
struct owner_probe {
	uid_t uid;
	int asked;
};

static uid_t probe_get(void *arg)
{
	struct owner_probe *o = arg;

	o->asked++;
	return o->uid;
}

#define OWNER(probe)	(&(struct policy_owner){ probe_get, (probe) })

static struct policy_ask ask(uid_t uid)
{
	return (struct policy_ask){ .uid = uid, .gid = uid };
}

/* the tag of the path @names (NULL-ended) below the root; owners @uid */
static struct policy_tag tag_of(const char *const *names, uid_t uid)
{
	struct policy_tag t = policy_root_tag(7, 3);
	struct owner_probe o = { .uid = uid };

	for (; *names; names++)
		t = policy_judge_child(&view, &t, *names, NULL, OWNER(&o));
	return t;
}

static void test_tags(void)
{
	struct policy_tag root = policy_root_tag(7, 3), t, app;
	struct owner_probe o = { .uid = APP1 };

	CHECK(root.pnode == FUSEBPF_PATH_ROOT && root.cls == 0 &&
	      root.gen == 7 && root.moves == 3);
	t = policy_judge_child(&view, &root, "Android", NULL, OWNER(&o));
	CHECK(t.pnode == 2 && t.cls == 0 && t.gen == 7);
	t = policy_judge_child(&view, &t, "data", NULL, OWNER(&o));
	CHECK(t.pnode == 3 && t.cls == 0);
	CHECK(o.asked == 0);		/* no class started: no owner asked */
	app = policy_judge_child(&view, &t, "com.app", NULL, OWNER(&o));
	CHECK(app.pnode == 4 && app.cls == 1 && app.owner_uid == APP1);
	CHECK(o.asked == 1);
	CHECK(app.slot && t_slot_owner(NULL, app.slot) == APP1);
	/* below every path: inherited, nothing asked */
	t = policy_judge_child(&view, &app, "Pictures", NULL, OWNER(&o));
	CHECK(t.pnode == FUSEBPF_PATH_NONE && t.cls == 1 &&
	      t.owner_uid == APP1 && t.slot == app.slot);
	t = policy_judge_child(&view, &t, "deeper", NULL, OWNER(&o));
	CHECK(t.pnode == FUSEBPF_PATH_NONE && t.cls == 1 && o.asked == 1);
	/* a name no path has */
	t = policy_judge_child(&view, &root, "Music", NULL, OWNER(&o));
	CHECK(t.pnode == FUSEBPF_PATH_NONE && t.cls == 0);
	/* owner from above: the package dir's owner, not asked */
	o.uid = APP2;
	t = policy_judge_child(&view, &app, "cache", NULL, OWNER(&o));
	CHECK(t.cls == 6 && t.owner_uid == APP1 && o.asked == 1);
	/* owner here and above: one uid must own both */
	t = policy_judge_child(&view, &app, "files", NULL, OWNER(&o));
	CHECK(t.cls == 5 && t.owner_uid == FUSEBPF_OWNER_DIR && t.slot == 0);
	CHECK(o.asked == 2);
	o.uid = APP1;
	t = policy_judge_child(&view, &app, "files", NULL, OWNER(&o));
	CHECK(t.cls == 5 && t.owner_uid == APP1 && t.slot == app.slot);
}

static void test_decide(void)
{
	static const char *const app1[] = { "Android", "data", "a1", NULL };
	static const char *const dcim[] = { "DCIM", NULL };
	static const char *const secret[] = { "secret", NULL };
	static const char *const music[] = { "Music", NULL };
	struct policy_tag t = tag_of(app1, APP1);
	struct policy_ask a;

	a = ask(APP1);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, true) == 0);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);
	a = ask(APP2);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, true) == ENOENT);
	a = ask(0);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);

	t = tag_of(dcim, APP1);
	a = ask(APP1);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, true) == 0);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == EROFS);
	a = ask(0);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);

	t = tag_of(secret, APP1);
	a = ask(APP1);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, true) == ENOENT);
	a = ask(0);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, true) == 0);

	t = tag_of(music, APP1);
	a = ask(APP2);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);
	CHECK(!a.audit);
}

static void test_audit(void)
{
	static const char *const audited[] = { "audited", NULL };
	static const char *const dcim[] = { "DCIM", NULL };
	struct policy_tag t = tag_of(audited, APP1);
	struct policy_ask a = ask(APP2);

	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);
	CHECK(t.slot && a.audit && a.audit_tag == FUSEBPF_TAG(4, t.slot) &&
	      !a.audit_denied);
	a = ask(APP2);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, false) == 0);
	CHECK(!a.audit);		/* a filter is not audited */
	t = tag_of(dcim, APP1);
	a = ask(APP2);
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == EROFS);
	CHECK(!a.audit);		/* the rule does not audit */
}

static void test_hidden(void)
{
	static const char *const app1[] = { "Android", "data", "a1", NULL };
	struct policy_tag root = policy_root_tag(7, 3);
	struct policy_tag app = tag_of(app1, APP1);
	struct policy_ask a = ask(APP1);
	bool listed;

	CHECK(policy_judge_hidden(&view, &a, root.cls, ".nomedia", NULL,
				  &listed) && listed);
	CHECK(!policy_judge_hidden(&view, &a, root.cls, "lost+found", NULL,
				   &listed) && !listed);
	CHECK(policy_judge_hidden(&view, &a, app.cls, "lost+found", NULL,
				  &listed) && listed);
	CHECK(!policy_judge_hidden(&view, &a, app.cls, "photo.jpg", NULL,
				   &listed) && !listed);
	a = ask(0);
	CHECK(!policy_judge_hidden(&view, &a, app.cls, ".nomedia", NULL,
				   &listed) && listed);
}

static void test_name(void)
{
	static const char *const data[] = { "Android", "data", NULL };
	static const char *const app1[] = { "Android", "data", "a1", NULL };
	struct policy_tag dir = tag_of(data, 0), app = tag_of(app1, APP1);
	struct owner_probe theirs = { .uid = APP2 }, missing = { .uid = APP1 };
	struct policy_ask a = ask(APP1);
	const int see = FUSEBPF_ACCESS_SEE, write = FUSEBPF_ACCESS_WRITE;

	/* another app's package dir: not there for lookups, EACCES to create */
	CHECK(policy_judge_name(&view, &a, &dir, "a2", NULL, OWNER(&theirs),
				see, false) == ENOENT);
	CHECK(policy_judge_name(&view, &a, &dir, "a2", NULL, OWNER(&theirs),
				write, true) == EACCES);
	/* a missing one becomes the caller's own */
	CHECK(policy_judge_name(&view, &a, &dir, "new", NULL, OWNER(&missing),
				write, true) == 0);
	/* hidden names */
	CHECK(policy_judge_name(&view, &a, &app, "lost+found", NULL,
				OWNER(&missing), see, false) == ENOENT);
	CHECK(policy_judge_name(&view, &a, &app, ".nomedia", NULL,
				OWNER(&missing), write, true) == EACCES);
	CHECK(policy_judge_name(&view, &a, &app, "photo.jpg", NULL,
				OWNER(&missing), write, true) == 0);
	/* root sees and creates everywhere, hidden names too */
	a = ask(0);
	CHECK(policy_judge_name(&view, &a, &dir, "a2", NULL, OWNER(&theirs),
				write, true) == 0);
	CHECK(policy_judge_name(&view, &a, &app, ".nomedia", NULL,
				OWNER(&missing), write, true) == 0);
}

static void test_lookup_visible(void)
{
	static const char *const data[] = { "Android", "data", NULL };
	static const char *const app1[] = { "Android", "data", "a1", NULL };
	static const char *const music[] = { "Music", NULL };
	struct policy_tag root = policy_root_tag(7, 3);
	struct policy_tag dir = tag_of(data, 0), app = tag_of(app1, APP1);
	struct policy_tag plain = tag_of(music, APP1);
	struct owner_probe theirs = { .uid = APP2 }, mine = { .uid = APP1 };
	struct policy_ask a = ask(APP1);
	bool per_caller;

	CHECK(policy_judge_lookup(&view, &a, &dir, "a1", NULL, &app,
				  &per_caller) == 0 && per_caller);
	CHECK(policy_judge_lookup(&view, &a, &root, "Music", NULL, &plain,
				  &per_caller) == 0 && !per_caller);
	/* a hidden name's answer depends on the caller too */
	CHECK(policy_judge_lookup(&view, &a, &root, ".nomedia", NULL, &plain,
				  &per_caller) == ENOENT);
	a = ask(0);
	CHECK(policy_judge_lookup(&view, &a, &root, ".nomedia", NULL, &plain,
				  &per_caller) == 0 && per_caller);
	a = ask(APP2);
	CHECK(policy_judge_lookup(&view, &a, &dir, "a1", NULL, &app,
				  &per_caller) == ENOENT && !per_caller);

	a = ask(APP1);
	CHECK(policy_judge_visible(&view, &a, &dir, "a1", NULL, NULL,
				   OWNER(&mine), &per_caller));
	CHECK(!policy_judge_visible(&view, &a, &dir, "a2", NULL, NULL,
				    OWNER(&theirs), &per_caller));
	CHECK(!policy_judge_visible(&view, &a, &root, ".nomedia", NULL, NULL,
				    OWNER(&mine), &per_caller));
	CHECK(policy_judge_visible(&view, &a, &dir, "a1", NULL, &app,
				   OWNER(&theirs), &per_caller) && per_caller);
	CHECK(policy_judge_visible(&view, &a, &root, "Music", NULL, &plain,
				   OWNER(&mine), &per_caller) && !per_caller);
	CHECK(!a.audit);
}

static void test_ktag(void)
{
	uint32_t slot = t_owner_slot(NULL, APP1);
	uint32_t app = FUSEBPF_TAG(1, slot) | FUSEBPF_KTAG_LIST_BY_DAEMON;
	uint32_t nobody = FUSEBPF_TAG(1, 7);		/* an empty slot */
	struct policy_ask a = ask(APP1);
	const int see = FUSEBPF_ACCESS_SEE, write = FUSEBPF_ACCESS_WRITE;

	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_INODE, see,
				NULL, NULL) == 0);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_LOOKUP, see,
				"photo.jpg", NULL) == 0);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_LOOKUP, see,
				"lost+found", NULL) == ENOENT);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_ENTRY, see,
				".nomedia", NULL) == ENOENT);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_NEW, write,
				".nomedia", NULL) == EACCES);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_REMOVE, write,
				".nomedia", NULL) == 0);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_RENAME, write,
				"a.jpg", "lost+found") == EACCES);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_RENAME, write,
				"a.jpg", "b.jpg") == 0);
	CHECK(policy_judge_ktag(&view, &a, nobody, FUSEBPF_JUDGE_INODE, see,
				NULL, NULL) == ENOENT);
	a = ask(APP2);
	CHECK(policy_judge_ktag(&view, &a, app, FUSEBPF_JUDGE_INODE, see,
				NULL, NULL) == ENOENT);
	CHECK(policy_judge_ktag(&view, &a, FUSEBPF_TAG(0, 0),
				FUSEBPF_JUDGE_NEW, write, "x", NULL) == 0);
	a = ask(0);
	CHECK(policy_judge_ktag(&view, &a, nobody, FUSEBPF_JUDGE_INODE, write,
				NULL, NULL) == 0);
	CHECK(policy_judge_ktag(&view, &a, FUSEBPF_TAG(2, 0),
				FUSEBPF_JUDGE_INODE, write, NULL, NULL) == 0);
	a = ask(APP1);
	CHECK(policy_judge_ktag(&view, &a, FUSEBPF_TAG(2, 0) |
				FUSEBPF_KTAG_CASEFOLD, FUSEBPF_JUDGE_INODE,
				write, NULL, NULL) == EROFS);
	CHECK(!a.audit);		/* decision requests are not audited */
}

/* the embedder's hook: what it was asked, and its answer */
static struct {
	int calls, answer;
	uint32_t kind;
	int access;
	const char *name;
} hook;

static int hook_decide(struct policy_ask *a, int access)
{
	hook.calls++;
	hook.kind = a->kind;
	hook.access = access;
	hook.name = a->name;
	return hook.answer;
}

static void test_embedder_decides(void)
{
	static const char *const decided[] = { "decided", NULL };
	static const char *const dcim[] = { "DCIM", NULL };
	struct policy_tag root = policy_root_tag(7, 3);
	struct policy_tag t = tag_of(decided, APP1), ro = tag_of(dcim, APP1);
	struct owner_probe o = { .uid = APP1 };
	struct policy_ask a = ask(APP1);
	bool per_caller;

	a.decide = hook_decide;
	a.kind = FUSEBPF_DECIDE_INODE;
	a.name = NULL;
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);
	CHECK(hook.calls == 1 && hook.kind == FUSEBPF_DECIDE_INODE &&
	      hook.access == FUSEBPF_ACCESS_WRITE && !hook.name);
	hook.answer = EPERM;
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_SEE, true) == EPERM);
	/* its refusal is what the audit records */
	CHECK(a.audit && a.audit_denied);
	/* not asked where the rule does not say so, or refused already */
	CHECK(policy_judge_tag(&view, &a, &ro, FUSEBPF_ACCESS_WRITE, true) == EROFS);
	CHECK(hook.calls == 2);
	/* names: what the hook hears */
	CHECK(policy_judge_name(&view, &a, &root, "decided", NULL, OWNER(&o),
				FUSEBPF_ACCESS_WRITE, true) == EPERM);
	CHECK(hook.kind == FUSEBPF_DECIDE_NEW && hook.name &&
	      !strcmp(hook.name, "decided"));
	CHECK(policy_judge_name(&view, &a, &root, "decided", NULL, OWNER(&o),
				FUSEBPF_ACCESS_WRITE, false) == EPERM);
	CHECK(hook.kind == FUSEBPF_DECIDE_REMOVE);
	hook.answer = ENOENT;	/* a create the hook hides: EACCES */
	CHECK(policy_judge_name(&view, &a, &root, "decided", NULL, OWNER(&o),
				FUSEBPF_ACCESS_WRITE, true) == EACCES);
	hook.answer = 0;
	CHECK(policy_judge_lookup(&view, &a, &root, "decided", NULL, &t,
				  &per_caller) == 0 && per_caller);
	CHECK(hook.kind == FUSEBPF_DECIDE_LOOKUP && hook.calls == 6);
	hook.answer = EACCES;
	CHECK(!policy_judge_visible(&view, &a, &root, "decided", NULL, &t,
				    OWNER(&o), &per_caller));
	CHECK(hook.kind == FUSEBPF_DECIDE_LOOKUP && hook.calls == 7);
	/* a kernel tag: asked about the node itself */
	CHECK(policy_judge_ktag(&view, &a, FUSEBPF_TAG(7, 0),
				FUSEBPF_JUDGE_INODE, FUSEBPF_ACCESS_SEE,
				NULL, NULL) == EACCES);
	CHECK(hook.kind == FUSEBPF_DECIDE_INODE && hook.calls == 8);
	/* no hook: the policy's answer */
	a.decide = NULL;
	CHECK(policy_judge_tag(&view, &a, &t, FUSEBPF_ACCESS_WRITE, true) == 0);
	CHECK(hook.calls == 8);
}

int main(void)
{
	test_tags();
	test_decide();
	test_audit();
	test_hidden();
	test_name();
	test_lookup_visible();
	test_ktag();
	test_embedder_decides();
	return unit_report();
}
