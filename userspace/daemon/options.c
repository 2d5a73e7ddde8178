// SPDX-License-Identifier: GPL-2.0
/* fusebpfd command line parsing; see include/fusebpf/options.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusebpf/options.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Normalizes a served path: strips leading/trailing/duplicate slashes and
 * "." components; rejects "..", empty paths and the root itself.
 */
char *fusebpf_served_normalize(const char *in)
{
	size_t len = strlen(in);
	char *out = malloc(len + 1);
	size_t o = 0;
	const char *p = in;

	if (!out)
		return NULL;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = end - p;

		if (n == 2 && !strncmp(p, "..", 2)) {
			free(out);
			return NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = *end ? end + 1 : end;
	}
	out[o] = '\0';
	if (!o) {
		free(out);
		return NULL;
	}
	return out;
}

static int parse_served(struct fusebpf_options *opts, const char *val,
			char *err, size_t errlen)
{
	char *list = strdup(val), *save = NULL;
	int ret = 0;

	if (!list)
		return fail(err, errlen, "out of memory");
	for (char *tok = strtok_r(list, ":", &save); tok;
	     tok = strtok_r(NULL, ":", &save)) {
		char *rel = fusebpf_served_normalize(tok);

		if (!rel) {
			ret = fail(err, errlen,
				   "served=%s: not a path below BACKING", tok);
			break;
		}
		if (opts->nr_served == FUSEBPF_SERVED_MAX) {
			free(rel);
			ret = fail(err, errlen, "served: more than %d paths",
				   FUSEBPF_SERVED_MAX);
			break;
		}
		opts->served[opts->nr_served++] = rel;
	}
	if (!ret && !opts->nr_served)
		ret = fail(err, errlen, "served= needs at least one path");
	free(list);
	return ret;
}

/* A cache timeout: a finite number of seconds, 0 or more */
static int parse_seconds(double *out, const char *opt, const char *val,
			 char *err, size_t errlen)
{
	char *end;
	double secs;

	errno = 0;
	secs = strtod(val, &end);
	if (!*val || *end || errno || !(secs >= 0 && secs <= 1e9))
		return fail(err, errlen, "%s: not a number of seconds", opt);
	*out = secs;
	return 0;
}

/*
 * Mount options every filesystem takes (mount(8), fstab, mount -t fuse):
 * libfuse sets them on the mount itself. Without suid/dev a FUSE mount is
 * nosuid,nodev (libfuse's default).
 */
static const char *const mount_flags[] = {
	"ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
	"sync", "async", "dirsync", "atime", "noatime", "diratime",
	"nodiratime", "relatime", "norelatime", "strictatime",
	"nostrictatime", "lazytime", "nolazytime",
};
/* meant for mount(8) and fstab only: nothing to do for the mount */
static const char *const fstab_only[] = {
	"defaults", "auto", "noauto", "nofail", "_netdev", "user", "nouser",
	"users",
};

static bool in_list(const char *opt, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(opt, list[i]))
			return true;
	return false;
}

static int add_mount_opt(struct fusebpf_options *opts, const char *opt,
			 char *err, size_t errlen)
{
	size_t old = opts->mount_opts ? strlen(opts->mount_opts) : 0;
	char *s = realloc(opts->mount_opts, old + strlen(opt) + 2);

	if (!s)
		return fail(err, errlen, "out of memory");
	sprintf(s + old, "%s%s", old ? "," : "", opt);
	opts->mount_opts = s;
	return 0;
}

static int set_string(char **field, const char *opt, const char *val,
		      char *err, size_t errlen)
{
	if (!*val)
		return fail(err, errlen, "%s needs a value", opt);
	free(*field);
	*field = strdup(val);
	return *field ? 0 : fail(err, errlen, "out of memory");
}

static int parse_one(struct fusebpf_options *opts, const char *opt,
		     char *err, size_t errlen)
{
	const char *eq = strchr(opt, '=');
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
	const char *val = eq ? eq + 1 : NULL;

#define KEY_IS(k) (klen == strlen(k) && !strncmp(opt, k, klen))
	if (KEY_IS("mode") && val) {
		int mode = fusebpf_mode_from_name(val);

		if (mode < 0 || mode == FUSEBPF_MODE_AUTO)
			return fail(err, errlen,
				    "unknown mode '%s' (bpf, passthrough, userspace)",
				    val);
		opts->mode = mode;
		return 0;
	}
	if (KEY_IS("instance") && val) {
		if (!*val || strlen(val) >= sizeof(opts->instance) ||
		    strchr(val, '/') || val[0] == '.')
			return fail(err, errlen, "bad instance name '%s'", val);
		strcpy(opts->instance, val);
		return 0;
	}
	if (KEY_IS("served") && val)
		return parse_served(opts, val, err, errlen);
	if (KEY_IS("policy") && val) {
		if (!*val)
			return fail(err, errlen, "policy= needs a file");
		free(opts->policy);
		opts->policy = strdup(val);
		return opts->policy ? 0 : fail(err, errlen, "out of memory");
	}
	if (KEY_IS("restart") && val) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return fail(err, errlen, "restart=%s: on or off", val);
		opts->supervise = !strcmp(val, "on");
		return 0;
	}
	if (KEY_IS("watch_backing") && val) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return fail(err, errlen, "watch_backing=%s: on or off",
				    val);
		opts->no_watch_backing = !strcmp(val, "off");
		return 0;
	}
	if (KEY_IS("entry_timeout") && val)
		return parse_seconds(&opts->entry_timeout, opt, val, err,
				     errlen);
	if (KEY_IS("attr_timeout") && val)
		return parse_seconds(&opts->attr_timeout, opt, val, err,
				     errlen);
	if (KEY_IS("fsname") && val)
		return set_string(&opts->fsname, opt, val, err, errlen);
	if (KEY_IS("subtype") && val)
		return set_string(&opts->subtype, opt, val, err, errlen);
#undef KEY_IS
	if (in_list(opt, mount_flags, sizeof(mount_flags) / sizeof(*mount_flags)))
		return add_mount_opt(opts, opt, err, errlen);
	if (in_list(opt, fstab_only, sizeof(fstab_only) / sizeof(*fstab_only)) ||
	    !strncmp(opt, "x-", 2))
		return 0;
	return fail(err, errlen, "unknown option '%s'", opt);
}

static int parse_option_list(struct fusebpf_options *opts, const char *list,
			     char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL;
	int ret = 0;

	if (!copy)
		return fail(err, errlen, "out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save))
		ret = parse_one(opts, tok, err, errlen);
	free(copy);
	return ret;
}

int fusebpf_options_parse(struct fusebpf_options *opts, int argc,
			  char **argv, char *err, size_t errlen)
{
	memset(opts, 0, sizeof(*opts));
	opts->entry_timeout = -1;
	opts->attr_timeout = -1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-f")) {
			opts->foreground = true;
		} else if (!strcmp(arg, "-d")) {
			opts->debug = true;
			opts->foreground = true;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			opts->help = true;
			return 0;
		} else if (!strcmp(arg, "-o")) {
			if (++i == argc)
				return fail(err, errlen, "-o needs an argument");
			if (parse_option_list(opts, argv[i], err, errlen))
				return -1;
		} else if (!strncmp(arg, "-o", 2)) {
			if (parse_option_list(opts, arg + 2, err, errlen))
				return -1;
		} else if (arg[0] == '-' && arg[1]) {
			return fail(err, errlen, "unknown option '%s'", arg);
		} else if (!opts->backing) {
			opts->backing = arg;
		} else if (!opts->mountpoint) {
			opts->mountpoint = arg;
		} else {
			return fail(err, errlen, "unexpected argument '%s'", arg);
		}
	}
	if (!opts->mountpoint)
		return fail(err, errlen, "usage: fusebpfd BACKING MOUNTPOINT [-f] [-d] [-o opt,...]");
	return 0;
}

void fusebpf_options_free(struct fusebpf_options *opts)
{
	for (size_t i = 0; i < opts->nr_served; i++)
		free(opts->served[i]);
	opts->nr_served = 0;
	free(opts->policy);
	opts->policy = NULL;
	free(opts->mount_opts);
	opts->mount_opts = NULL;
	free(opts->fsname);
	opts->fsname = NULL;
	free(opts->subtype);
	opts->subtype = NULL;
}

/* @a is @b or a path below it */
static bool path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

enum fusebpf_served_rel fusebpf_served_relation(const struct fusebpf_options *opts,
						const char *relpath)
{
	enum fusebpf_served_rel rel = FUSEBPF_SERVED_NONE;

	for (size_t i = 0; i < opts->nr_served; i++) {
		if (path_within(relpath, opts->served[i]))
			return FUSEBPF_SERVED_INSIDE;
		if (!*relpath || path_within(opts->served[i], relpath))
			rel = FUSEBPF_SERVED_ANCESTOR;
	}
	return rel;
}
