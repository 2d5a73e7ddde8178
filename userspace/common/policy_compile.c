// SPDX-License-Identifier: GPL-2.0
/*
 * Policy file parser and compiler; format in include/fusebpf/policy_compile.h.
 * The whole file is checked before anything is produced, so a bad file
 * never reaches the maps.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusebpf/policy_compile.h"

#define MAX_TOKENS	64
#define MAX_COMPONENTS	64
#define MAX_PATH_BYTES	(PATH_MAX - 1)	/* a policy path as written */
#define NR_FLAGS	6

/*
 * A path as the file writes it: a node of the rule tree, before the rules
 * that apply to one name are composed (build_tree() below).
 */
struct rule_node {
	unsigned int parent;		/* id of the parent; 0: the mount root */
	char name[FUSEBPF_POLICY_NAME_MAX];	/* a component or "*" */
	struct fusebpf_rule rule;	/* the directives on exactly this path */
	unsigned int order;		/* rank of its first directive, 0: none */
	unsigned int flag_line[NR_FLAGS];	/* line that set each flag */
};

/* A rule with everything above it composed in */
struct composed {
	struct fusebpf_rule rule;
	unsigned int owner_line;	/* an owner-only directive in it */
};

/* A class of the compiled tree before numbering in file order */
struct pending_class {
	struct fusebpf_rule rule;
	char *path;
	unsigned int order;		/* first directive among its rules */
};

struct compiler {
	const char *file;
	unsigned int line;
	char *err;
	size_t errlen;
	struct fusebpf_policy *p;
	struct rule_node *nodes;	/* node id i is nodes[i - 1] */
	unsigned int nr_nodes;
	unsigned int nr_rule_paths;	/* nodes with an order */
	struct pending_class classes[FUSEBPF_POLICY_CLASSES];	/* 1.. */
	unsigned int nr_classes;
	__u32 next_node;
};

static int fail(struct compiler *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct compiler *c, const char *fmt, ...)
{
	int n = c->line ? snprintf(c->err, c->errlen, "%s:%u: ", c->file, c->line) :
			  snprintf(c->err, c->errlen, "%s: ", c->file);
	va_list ap;

	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const flag_names[] = {
	"owner-only", "read-only", "hide", "served", "audit", "decide",
};

const char *fusebpf_rule_flags_str(__u32 flags, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < NR_FLAGS && o < len; i++)
		if (flags & (1u << i))
			o += snprintf(buf + o, len - o, "%s%s", o ? "," : "",
				      flag_names[i]);
	if (!o)
		snprintf(buf, len, "-");
	return buf;
}

static int parse_uid(struct compiler *c, const char *s, __u32 *uid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end || errno || v >= UINT32_MAX)
		return fail(c, "'%s' is not a uid (a number below 4294967295)", s);
	*uid = v;
	return 0;
}

static bool valid_name(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') &&
	       strlen(s) < FUSEBPF_POLICY_NAME_MAX;
}

/*
 * Splits a policy path into components (in place). A leading or trailing
 * '/' is allowed; empty, "." and ".." components are not, "*" only whole.
 */
static int split_path(struct compiler *c, char *path, char **comp, int *n)
{
	char *s = path, *save = NULL, *tok;

	*n = 0;
	if (strlen(path) > MAX_PATH_BYTES)
		return fail(c, "path longer than %d bytes", MAX_PATH_BYTES);
	if (strstr(path, "//"))
		return fail(c, "'%s': empty path component", path);
	while (*s == '/')
		s++;
	for (tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, ".") || !strcmp(tok, ".."))
			return fail(c, "'%s' in a path: paths are relative to the mount root, without . or ..",
				    tok);
		if (strchr(tok, '*') && strcmp(tok, "*"))
			return fail(c, "'%s': '*' matches whole path components only",
				    tok);
		if (strlen(tok) >= FUSEBPF_POLICY_NAME_MAX)
			return fail(c, "path component longer than %d bytes",
				    FUSEBPF_POLICY_NAME_MAX - 1);
		if (*n == MAX_COMPONENTS)
			return fail(c, "path deeper than %d components",
				    MAX_COMPONENTS);
		comp[(*n)++] = tok;
	}
	if (!*n)
		return fail(c, "a rule on the mount root itself is not supported: name a subtree");
	return 0;
}

/* The path of rule node @id as written, e.g. "Android/data/<star>" */
static char *node_path(const struct compiler *c, unsigned int id)
{
	size_t len = 0, o;
	char *path;

	for (unsigned int i = id; i; i = c->nodes[i - 1].parent)
		len += strlen(c->nodes[i - 1].name) + 1;
	path = malloc(len ? len : 1);
	if (!path)
		return NULL;
	o = len ? len - 1 : 0;
	path[o] = '\0';
	for (unsigned int i = id; i; i = c->nodes[i - 1].parent) {
		size_t n = strlen(c->nodes[i - 1].name);

		o -= n;
		memcpy(path + o, c->nodes[i - 1].name, n);
		if (o)
			path[--o] = '/';
	}
	return path;
}

/* The rule node of a policy path, created with the nodes on its way. */
static int path_node(struct compiler *c, char *path, unsigned int *id)
{
	char *comp[MAX_COMPONENTS];
	unsigned int parent = 0, found;
	int n;

	if (split_path(c, path, comp, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		found = 0;
		for (unsigned int j = 0; j < c->nr_nodes && !found; j++)
			if (c->nodes[j].parent == parent &&
			    !strcmp(c->nodes[j].name, comp[i]))
				found = j + 1;
		if (!found) {
			struct rule_node *grown;

			if (c->nr_nodes == FUSEBPF_POLICY_MAX_PATH_NODES)
				return fail(c, "more than %d path components in all",
					    FUSEBPF_POLICY_MAX_PATH_NODES);
			grown = realloc(c->nodes, (c->nr_nodes + 1) * sizeof(*grown));
			if (!grown)
				return fail(c, "out of memory");
			c->nodes = grown;
			memset(&grown[c->nr_nodes], 0, sizeof(*grown));
			grown[c->nr_nodes].parent = parent;
			strcpy(grown[c->nr_nodes].name, comp[i]);
			found = ++c->nr_nodes;
		}
		parent = found;
	}
	if (!c->nodes[parent - 1].order) {
		if (c->nr_rule_paths == FUSEBPF_POLICY_CLASSES - 1)
			return fail(c, "more than %d policy paths",
				    FUSEBPF_POLICY_CLASSES - 1);
		c->nodes[parent - 1].order = ++c->nr_rule_paths;
	}
	*id = parent;
	return 0;
}

/* key=value options after the path; @allowed lists the keys */
struct options {
	const char *owner;	/* "dir" or a uid */
	const char *exempt;	/* "privileged" or "none" */
};

static int parse_options(struct compiler *c, const char *directive,
			 char **tok, int ntok, const char *allowed,
			 struct options *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		const char **slot = NULL;

		if (!eq)
			return fail(c, "%s takes one path, then key=value options; unexpected '%s'",
				    directive, tok[i]);
		*eq = '\0';
		if (!strcmp(tok[i], "owner") && strstr(allowed, "owner"))
			slot = &o->owner;
		else if (!strcmp(tok[i], "exempt") && strstr(allowed, "exempt"))
			slot = &o->exempt;
		if (!slot)
			return fail(c, "%s has no option '%s'%s%s", directive,
				    tok[i], *allowed ? " (options: " : "",
				    *allowed ? allowed : "");
		if (*slot)
			return fail(c, "option '%s' given twice", tok[i]);
		*slot = eq + 1;
	}
	return 0;
}

static int exempt_bits(struct compiler *c, const char *val, __u32 dflt,
		       __u32 *bits)
{
	if (!val)
		*bits = dflt;
	else if (!strcmp(val, "privileged"))
		*bits = FUSEBPF_UID_PRIVILEGED;
	else if (!strcmp(val, "none"))
		*bits = 0;
	else
		return fail(c, "exempt=%s: expected exempt=privileged or exempt=none",
			    val);
	return 0;
}

/* Sets one flag of a rule node, once. */
static int set_flag(struct compiler *c, unsigned int id, unsigned int bit)
{
	struct rule_node *n = &c->nodes[id - 1];
	char *path;

	if (n->rule.flags & (1u << bit)) {
		path = node_path(c, id);
		fail(c, "'%s %s' repeats line %u", flag_names[bit],
		     path ? path : "?", n->flag_line[bit]);
		free(path);
		return -1;
	}
	n->rule.flags |= 1u << bit;
	n->flag_line[bit] = c->line;
	return 0;
}

static int add_hidden_name(struct compiler *c, const char *name, __u32 exempt)
{
	struct fusebpf_policy *p = c->p;
	struct fusebpf_policy_name *e;
	void *grown;

	for (size_t i = 0; i < p->nr_names; i++)
		if (!strcmp(p->names[i].key.name, name))
			return fail(c, "'hide %s' is repeated", name);
	if (p->nr_names == FUSEBPF_POLICY_MAX_HIDDEN)
		return fail(c, "more than %d hidden names", FUSEBPF_POLICY_MAX_HIDDEN);
	grown = realloc(p->names, (p->nr_names + 1) * sizeof(*e));
	if (!grown)
		return fail(c, "out of memory");
	p->names = grown;
	e = &p->names[p->nr_names++];
	memset(e, 0, sizeof(*e));
	e->key.cls = FUSEBPF_CLASS_ANY;
	strcpy(e->key.name, name);
	e->val.hide_exempt = exempt;
	return 0;
}

static int add_uid(struct compiler *c, __u32 uid, __u32 bits)
{
	struct fusebpf_policy *p = c->p;
	void *grown;

	for (size_t i = 0; i < p->nr_uids; i++) {
		if (p->uids[i].uid == uid) {
			p->uids[i].bits |= bits;
			return 0;
		}
	}
	if (p->nr_uids == FUSEBPF_POLICY_MAX_UIDS)
		return fail(c, "more than %d uids", FUSEBPF_POLICY_MAX_UIDS);
	grown = realloc(p->uids, (p->nr_uids + 1) * sizeof(*p->uids));
	if (!grown)
		return fail(c, "out of memory");
	p->uids = grown;
	p->uids[p->nr_uids].uid = uid;
	p->uids[p->nr_uids].bits = bits;
	p->nr_uids++;
	return 0;
}

static int directive_rule(struct compiler *c, const char *dir, char **tok,
			  int ntok)
{
	struct fusebpf_rule *r;
	struct options o;
	unsigned int id = 0;
	__u32 bits;

	if (ntok < 1)
		return fail(c, "%s needs a path", dir);
	if (!strcmp(dir, "hide") && !strchr(tok[0], '/')) {
		if (!valid_name(tok[0]) || strchr(tok[0], '*'))
			return fail(c, "hide '%s': not a file name", tok[0]);
		if (parse_options(c, dir, tok + 1, ntok - 1, "exempt", &o) ||
		    exempt_bits(c, o.exempt, 0, &bits))
			return -1;
		return add_hidden_name(c, tok[0], bits);
	}
	if (parse_options(c, dir, tok + 1, ntok - 1,
			  !strcmp(dir, "owner-only") ? "owner, exempt" :
			  !strcmp(dir, "read-only") || !strcmp(dir, "hide") ?
			  "exempt" : "", &o) ||
	    path_node(c, tok[0], &id))
		return -1;
	r = &c->nodes[id - 1].rule;
	if (!strcmp(dir, "owner-only")) {
		if (set_flag(c, id, 0) ||
		    exempt_bits(c, o.exempt, FUSEBPF_UID_PRIVILEGED,
				&r->owner_exempt))
			return -1;
		r->owner_uid = FUSEBPF_OWNER_DIR;
		if (o.owner && strcmp(o.owner, "dir") &&
		    parse_uid(c, o.owner, &r->owner_uid))
			return -1;
		return 0;
	}
	if (!strcmp(dir, "read-only"))
		return set_flag(c, id, 1) ||
		       exempt_bits(c, o.exempt, 0, &r->write_exempt) ? -1 : 0;
	if (!strcmp(dir, "hide"))
		return set_flag(c, id, 2) ||
		       exempt_bits(c, o.exempt, 0, &r->hide_exempt) ? -1 : 0;
	if (!strcmp(dir, "served"))
		return set_flag(c, id, 3);
	if (!strcmp(dir, "decide"))
		return set_flag(c, id, 5);
	return set_flag(c, id, 4);
}

static int compile_line(struct compiler *c, char *line)
{
	char *tok[MAX_TOKENS], *save = NULL, *hash = strchr(line, '#');
	int ntok = 0;

	if (hash)
		*hash = '\0';
	for (char *t = strtok_r(line, " \t\r\n", &save); t;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (ntok == MAX_TOKENS)
			return fail(c, "more than %d words", MAX_TOKENS);
		tok[ntok++] = t;
	}
	if (!ntok)
		return 0;
	if (!strcmp(tok[0], "privileged-uid")) {
		__u32 uid;

		if (ntok < 2)
			return fail(c, "privileged-uid needs at least one uid");
		for (int i = 1; i < ntok; i++)
			if (parse_uid(c, tok[i], &uid) ||
			    add_uid(c, uid, FUSEBPF_UID_PRIVILEGED))
				return -1;
		return 0;
	}
	if (!strcmp(tok[0], "owner-only") || !strcmp(tok[0], "read-only") ||
	    !strcmp(tok[0], "hide") || !strcmp(tok[0], "served") ||
	    !strcmp(tok[0], "audit") || !strcmp(tok[0], "decide"))
		return directive_rule(c, tok[0], tok + 1, ntok - 1);
	return fail(c, "unknown directive '%s' (privileged-uid, owner-only, read-only, hide, served, audit, decide)",
		    tok[0]);
}

/* ---- composition: the rules of every path that applies to a name ---- */

/*
 * Adds the restrictions of @add (from rule node @from) to @into. Flags
 * are ORed; where both restrict the same way, an exemption holds only if
 * both grant it, and the caller must be the owner for both owner-only
 * rules (userspace/daemon/policy.c compares the owners of owner=dir
 * rules; owner=UID rules can only meet the same uid).
 */
static int compose(struct compiler *c, struct composed *into,
		   const struct rule_node *from)
{
	const struct fusebpf_rule *add = &from->rule;
	struct fusebpf_rule *r = &into->rule;

	if (add->flags & FUSEBPF_RULE_OWNER_ONLY) {
		if (!(r->flags & FUSEBPF_RULE_OWNER_ONLY)) {
			r->owner_uid = add->owner_uid;
			r->owner_exempt = add->owner_exempt;
			into->owner_line = from->flag_line[0];
		} else if (r->owner_uid != add->owner_uid) {
			c->line = 0;
			return fail(c, "owner-only rules of lines %u and %u apply to the same names with different owners (together they need owner=dir or the same uid)",
				    into->owner_line, from->flag_line[0]);
		} else {
			r->owner_exempt &= add->owner_exempt;
		}
	}
	if (add->flags & FUSEBPF_RULE_READ_ONLY)
		r->write_exempt = (r->flags & FUSEBPF_RULE_READ_ONLY) ?
				  r->write_exempt & add->write_exempt :
				  add->write_exempt;
	if (add->flags & FUSEBPF_RULE_HIDDEN)
		r->hide_exempt = (r->flags & FUSEBPF_RULE_HIDDEN) ?
				 r->hide_exempt & add->hide_exempt :
				 add->hide_exempt;
	r->flags |= add->flags;
	return 0;
}

static bool in_set(const unsigned int *set, size_t n, unsigned int id)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}

static int add_path(struct compiler *c, __u32 parent, const char *name,
		    __u32 cls, __u32 *node)
{
	struct fusebpf_policy *p = c->p;
	struct fusebpf_policy_path *e;
	void *grown;

	if (p->nr_paths == FUSEBPF_POLICY_MAX_PATH_NODES)
		return fail(c, "more than %d path nodes once the rules under '*' are copied to the names they also match",
			    FUSEBPF_POLICY_MAX_PATH_NODES);
	grown = realloc(p->paths, (p->nr_paths + 1) * sizeof(*e));
	if (!grown)
		return fail(c, "out of memory");
	p->paths = grown;
	e = &p->paths[p->nr_paths++];
	memset(e, 0, sizeof(*e));
	e->key.parent = parent;
	strcpy(e->key.name, name);
	e->val.node = *node = ++c->next_node;
	e->val.cls = cls;
	return 0;
}

/*
 * The compiled child @name of the compiled node @node, which stands for
 * the rule nodes @set (@above: their composed rule). A name matches its
 * exact rule node and the "*" one: the child stands for both, so rules on
 * either apply, and so do the rules below either. Its class composes the
 * rules above with those on the matched paths; none: class 0, the tag
 * keeps the parent's class.
 */
static int build_child(struct compiler *c, const unsigned int *set, size_t n,
		       __u32 node, const struct composed *above,
		       const char *path, const char *name, int depth);

static int build_children(struct compiler *c, const unsigned int *set,
			  size_t n, __u32 node, const struct composed *above,
			  const char *path, int depth)
{
	for (unsigned int i = 0; i < c->nr_nodes; i++) {
		const char *name = c->nodes[i].name;
		bool seen = false;

		if (!in_set(set, n, c->nodes[i].parent))
			continue;
		/* each name once: the first rule node of that name */
		for (unsigned int j = 0; j < i && !seen; j++)
			seen = in_set(set, n, c->nodes[j].parent) &&
			       !strcmp(c->nodes[j].name, name);
		if (!seen && build_child(c, set, n, node, above, path, name,
					 depth))
			return -1;
	}
	return 0;
}

static int build_child(struct compiler *c, const unsigned int *set, size_t n,
		       __u32 node, const struct composed *above,
		       const char *path, const char *name, int depth)
{
	bool star = !strcmp(name, "*");
	struct composed here = { 0 }, all = *above;
	unsigned int *child = NULL, order = 0;
	size_t nchild = 0;
	char *child_path = NULL;
	__u32 cls = 0, id = 0;
	int ret = -1;

	if (depth == MAX_COMPONENTS)	/* split_path() keeps rules shallower */
		return fail(c, "path deeper than %d components", MAX_COMPONENTS);
	child = malloc(c->nr_nodes * sizeof(*child));
	if (!child || asprintf(&child_path, "%s%s%s", path, *path ? "/" : "",
			       name) < 0) {
		child_path = NULL;
		fail(c, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < c->nr_nodes; i++) {
		const struct rule_node *r = &c->nodes[i];

		if (!in_set(set, n, r->parent) ||
		    (strcmp(r->name, name) && (star || strcmp(r->name, "*"))))
			continue;
		child[nchild++] = i + 1;
		if (r->order && compose(c, &here, r))
			goto out;
		if (r->order && (!order || r->order < order))
			order = r->order;
	}
	if (order) {
		struct pending_class *pc;

		if (compose(c, &all, &(struct rule_node){
				.rule = here.rule,
				.flag_line = { here.owner_line } }))
			goto out;
		/* where the owner of the composed owner-only rule comes from */
		all.rule.owner_from = FUSEBPF_OWNER_FROM_HERE;
		if (above->rule.flags & FUSEBPF_RULE_OWNER_ONLY)
			all.rule.owner_from =
				(here.rule.flags & FUSEBPF_RULE_OWNER_ONLY) ?
				FUSEBPF_OWNER_FROM_BOTH :
				FUSEBPF_OWNER_FROM_ABOVE;
		if (c->nr_classes == FUSEBPF_POLICY_CLASSES - 1) {
			fail(c, "more than %d classes once the rules under '*' are copied to the names they also match",
			     FUSEBPF_POLICY_CLASSES - 1);
			goto out;
		}
		cls = ++c->nr_classes;
		pc = &c->classes[cls];
		pc->rule = all.rule;
		pc->order = order;
		pc->path = child_path;
		child_path = strdup(pc->path);
		if (!child_path) {
			fail(c, "out of memory");
			goto out;
		}
	}
	if (add_path(c, node, name, cls, &id))
		goto out;
	ret = build_children(c, child, nchild, id, &all, child_path, depth + 1);
out:
	free(child_path);
	free(child);
	return ret;
}

/*
 * Numbers the classes in the order of their first directive in the file
 * (a policy without nesting keeps one class per path, numbered as
 * written), and moves them into @c->p.
 */
static int number_classes(struct compiler *c)
{
	struct fusebpf_policy *p = c->p;
	unsigned int rank[FUSEBPF_POLICY_CLASSES] = { 0 };
	unsigned int next = 0;

	for (unsigned int order = 1; order <= c->nr_rule_paths; order++)
		for (unsigned int cls = 1; cls <= c->nr_classes; cls++)
			if (c->classes[cls].order == order)
				rank[cls] = ++next;
	for (unsigned int cls = 1; cls <= c->nr_classes; cls++) {
		p->rules[rank[cls]] = c->classes[cls].rule;
		p->class_path[rank[cls]] = c->classes[cls].path;
		c->classes[cls].path = NULL;
	}
	for (size_t i = 0; i < p->nr_paths; i++)
		p->paths[i].val.cls = rank[p->paths[i].val.cls];
	p->nr_classes = c->nr_classes;
	return 0;
}

static int build_tree(struct compiler *c)
{
	const unsigned int root = 0;
	const struct composed none = { 0 };

	c->line = 0;
	if (build_children(c, &root, 1, FUSEBPF_PATH_ROOT, &none, "", 0))
		return -1;
	return number_classes(c);
}

void fusebpf_policy_free(struct fusebpf_policy *p)
{
	for (unsigned int i = 0; i < FUSEBPF_POLICY_CLASSES; i++)
		free(p->class_path[i]);
	free(p->paths);
	free(p->names);
	free(p->uids);
	memset(p, 0, sizeof(*p));
}

int fusebpf_policy_compile_text(const char *name, const char *text,
				struct fusebpf_policy *p, char *err,
				size_t errlen)
{
	struct compiler *c = calloc(1, sizeof(*c));
	const char *s = text;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	c->file = name;
	c->err = err;
	c->errlen = errlen;
	c->p = p;
	c->next_node = FUSEBPF_PATH_ROOT;
	while (*s && !ret) {
		size_t len = strcspn(s, "\n");
		char *line = strndup(s, len);

		c->line++;
		if (!line) {
			ret = fail(c, "out of memory");
			break;
		}
		if (memchr(s, '\0', len))
			ret = fail(c, "NUL byte in the line");
		else
			ret = compile_line(c, line);
		free(line);
		s += len;
		if (*s)
			s++;
	}
	if (!ret)
		ret = build_tree(c);
	for (unsigned int i = 1; i <= c->nr_classes; i++)
		free(c->classes[i].path);
	free(c->nodes);
	free(c);
	if (ret)
		fusebpf_policy_free(p);
	return ret;
}

int fusebpf_policy_compile_file(const char *file, struct fusebpf_policy *p,
				char *err, size_t errlen)
{
	FILE *f = fopen(file, "re");
	char *text = NULL;
	size_t size = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	text = malloc(1 << 20);
	size = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
	if (!text || ferror(f) || !feof(f)) {
		snprintf(err, errlen, "%s: %s", file,
			 !text ? "out of memory" :
			 ferror(f) ? strerror(errno) : "larger than 1 MiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	if (memchr(text, '\0', size)) {
		snprintf(err, errlen, "%s: not a text file (NUL byte)", file);
		free(text);
		return -1;
	}
	text[size] = '\0';
	ret = fusebpf_policy_compile_text(file, text, p, err, errlen);
	free(text);
	return ret;
}

static void print_exempt(FILE *out, const char *what, __u32 bits)
{
	if (bits)
		fprintf(out, " %s-exempt=%s", what,
			bits & FUSEBPF_UID_PRIVILEGED ? "privileged" : "?");
}

void fusebpf_policy_print(FILE *out, const struct fusebpf_policy *p)
{
	char flags[96];

	fprintf(out, "%u class(es), %zu path node(s), %zu hidden name(s), %zu uid(s)\n",
		p->nr_classes, p->nr_paths, p->nr_names, p->nr_uids);
	for (unsigned int cls = 1; cls <= p->nr_classes; cls++) {
		const struct fusebpf_rule *r = &p->rules[cls];

		fprintf(out, "  class %-3u %-28s %s", cls, p->class_path[cls],
			fusebpf_rule_flags_str(r->flags, flags, sizeof(flags)));
		if (r->flags & FUSEBPF_RULE_OWNER_ONLY) {
			if (r->owner_uid == FUSEBPF_OWNER_DIR)
				fprintf(out, " owner=dir");
			else
				fprintf(out, " owner=%u", r->owner_uid);
			/* composed from an enclosing owner-only rule */
			if (r->owner_from == FUSEBPF_OWNER_FROM_ABOVE)
				fprintf(out, "(above)");
			else if (r->owner_from == FUSEBPF_OWNER_FROM_BOTH)
				fprintf(out, "(here+above)");
		}
		print_exempt(out, "owner", r->owner_exempt);
		print_exempt(out, "write", r->write_exempt);
		print_exempt(out, "hide", r->hide_exempt);
		fputc('\n', out);
	}
	for (size_t i = 0; i < p->nr_names; i++) {
		fprintf(out, "  hidden name %s", p->names[i].key.name);
		print_exempt(out, "hide", p->names[i].val.hide_exempt);
		fputc('\n', out);
	}
	for (size_t i = 0; i < p->nr_uids; i++)
		fprintf(out, "  uid %u%s\n", p->uids[i].uid,
			p->uids[i].bits & FUSEBPF_UID_PRIVILEGED ?
			" privileged" : "");
}
