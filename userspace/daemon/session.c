// SPDX-License-Identifier: GPL-2.0
/* The libfuse session: mount options, capabilities, operation table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fusebpfd.h"
#include "mode.h"

/*
 * Capabilities. Left out on purpose: SPLICE_READ (libfuse would splice
 * requests straight from /dev/fuse, past our read hook), HANDLE_KILLPRIV
 * (v1: the kernel would not say which caller lacks CAP_FSETID; mode.c
 * adds HANDLE_KILLPRIV_V2 instead, which libfuse 3.14 does not know, see
 * killpriv.c), WRITEBACK_CACHE (the kernel refuses passthrough with it).
 * In bpf mode READDIRPLUS is off too, so every inode the daemon hands
 * out comes from a LOOKUP that carries the FUSE-BPF extension.
 * POSIX_ACL: the kernel enforces the backing inodes' ACLs (read through
 * getxattr) under default_permissions; with DONT_MASK it leaves the umask
 * to us, so default ACLs of the backing directories apply.
 */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct daemon *d = userdata;
	unsigned int want = FUSE_CAP_EXPORT_SUPPORT | FUSE_CAP_SPLICE_WRITE |
			    FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_POSIX_ACL |
			    FUSE_CAP_DONT_MASK;

	conn->want |= want & conn->capable;
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_HANDLE_KILLPRIV | FUSE_CAP_WRITEBACK_CACHE);
	if (!d->mode_ops->readdirplus)
		conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

/*
 * @s with commas and backslashes escaped for a libfuse option list; NULL
 * on ENOMEM.
 */
static char *escape_opt(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == ',' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/*
 * The mount: always default_permissions (and allow_other as root), then
 * the standard options given (-o ro,noatime,dev,...). The source shown in
 * /proc/mounts is fsname=, by default BACKING, so that each instance
 * names what it stacks on.
 */
static char *mount_options(const struct daemon *d)
{
	char *fsname = escape_opt(d->opts.fsname ? d->opts.fsname : d->backing);
	char *subtype = escape_opt(d->opts.subtype ? d->opts.subtype : "fusebpf");
	char *opts = NULL;

	if (fsname && subtype &&
	    asprintf(&opts, "default_permissions,fsname=%s,subtype=%s%s%s%s",
		     fsname, subtype, geteuid() == 0 ? ",allow_other" : "",
		     d->opts.mount_opts ? "," : "",
		     d->opts.mount_opts ? d->opts.mount_opts : "") < 0)
		opts = NULL;
	free(fsname);
	free(subtype);
	return opts;
}

struct fuse_session *session_new(struct daemon *d)
{
	struct fuse_lowlevel_ops ops = { .init = op_init };
	char *mount_opts = mount_options(d);
	char *argv[] = { "fusebpfd", "-o", mount_opts, NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se;

	if (!mount_opts)
		return NULL;
	if (d->opts.debug) {
		argv[3] = "-d";
		args.argc = 4;
	}
	ops_entry_fill(&ops);
	ops_file_fill(&ops);
	ops_dir_fill(&ops);
	ops_xattr_fill(&ops);
	ops_locks_fill(&ops);
	se = fuse_session_new(&args, &ops, sizeof(ops), d);
	fuse_opt_free_args(&args);
	free(mount_opts);
	return se;
}
