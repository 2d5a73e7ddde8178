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

struct compiler {
	const char *file;
	unsigned int line;
	char *err;
	size_t errlen;
	struct fusebpf_policy *p;
	__u32 next_node;
	/* line of the directive that set each class's flag, for messages */
	unsigned int flag_line[FUSEBPF_POLICY_CLASSES][5];
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
	"owner-only", "read-only", "hide", "served", "audit",
};

const char *fusebpf_rule_flags_str(__u32 flags, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 5 && o < len; i++)
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

static struct fusebpf_policy_path *find_path(struct fusebpf_policy *p,
					     __u32 parent, const char *name)
{
	for (size_t i = 0; i < p->nr_paths; i++)
		if (p->paths[i].key.parent == parent &&
		    !strcmp(p->paths[i].key.name, name))
			return &p->paths[i];
	return NULL;
}

/* The class of a policy path, creating its path tree nodes and class. */
static int path_class(struct compiler *c, char *path, __u32 *cls)
{
	struct fusebpf_policy *p = c->p;
	char *comp[MAX_COMPONENTS], joined[PATH_MAX] = "";
	struct fusebpf_policy_path *e = NULL;
	__u32 parent = FUSEBPF_PATH_ROOT;
	size_t o = 0;
	int n;

	if (split_path(c, path, comp, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		o += snprintf(joined + o, sizeof(joined) - o, "%s%s",
			      i ? "/" : "", comp[i]);
		e = find_path(p, parent, comp[i]);
		if (!e) {
			void *grown;

			if (p->nr_paths == FUSEBPF_POLICY_MAX_PATH_NODES)
				return fail(c, "more than %d path components in all",
					    FUSEBPF_POLICY_MAX_PATH_NODES);
			grown = realloc(p->paths, (p->nr_paths + 1) * sizeof(*e));
			if (!grown)
				return fail(c, "out of memory");
			p->paths = grown;
			e = &p->paths[p->nr_paths++];
			memset(e, 0, sizeof(*e));
			e->key.parent = parent;
			strcpy(e->key.name, comp[i]);
			e->val.node = ++c->next_node;
		}
		parent = e->val.node;
	}
	if (!e->val.cls) {
		if (p->nr_classes == FUSEBPF_POLICY_CLASSES - 1)
			return fail(c, "more than %d policy paths",
				    FUSEBPF_POLICY_CLASSES - 1);
		e->val.cls = ++p->nr_classes;
		p->class_path[e->val.cls] = strdup(joined);
		if (!p->class_path[e->val.cls])
			return fail(c, "out of memory");
	}
	*cls = e->val.cls;
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

/* Sets one flag of a class, once. */
static int set_flag(struct compiler *c, __u32 cls, unsigned int bit)
{
	struct fusebpf_rule *r = &c->p->rules[cls];

	if (r->flags & (1u << bit))
		return fail(c, "'%s %s' repeats line %u", flag_names[bit],
			    c->p->class_path[cls], c->flag_line[cls][bit]);
	r->flags |= 1u << bit;
	c->flag_line[cls][bit] = c->line;
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
	__u32 cls = 0, bits;

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
	    path_class(c, tok[0], &cls))
		return -1;
	r = &c->p->rules[cls];
	if (!strcmp(dir, "owner-only")) {
		if (set_flag(c, cls, 0) ||
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
		return set_flag(c, cls, 1) ||
		       exempt_bits(c, o.exempt, 0, &r->write_exempt) ? -1 : 0;
	if (!strcmp(dir, "hide"))
		return set_flag(c, cls, 2) ||
		       exempt_bits(c, o.exempt, 0, &r->hide_exempt) ? -1 : 0;
	if (!strcmp(dir, "served"))
		return set_flag(c, cls, 3);
	return set_flag(c, cls, 4);
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
	    !strcmp(tok[0], "audit"))
		return directive_rule(c, tok[0], tok + 1, ntok - 1);
	return fail(c, "unknown directive '%s' (privileged-uid, owner-only, read-only, hide, served, audit)",
		    tok[0]);
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
