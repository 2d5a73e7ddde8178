/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libfusebpf: a fusebpf mount inside the caller's process.
 *
 * The only public header of the library (pkg-config fusebpf). A mount is
 * stacked over a backing directory as `fusebpfd` does (which is a command
 * line over this API): the same modes, policy and options. The embedder
 * owns its process: the library installs no signal handler, changes no
 * umask, rlimit, working directory or syslog unless a FUSEBPF_MOUNT_*
 * flag asks for it. It runs its own helper threads (policy sweeper,
 * backing watch, lock waiters).
 *
 *	struct fusebpf_config cfg = FUSEBPF_CONFIG_INIT;
 *	struct fusebpf_hooks hooks = FUSEBPF_HOOKS_INIT;
 *	struct fusebpf_mount *m;
 *	char err[256];
 *
 *	cfg.backing = "/data/media";
 *	cfg.mountpoint = "/mnt/media";
 *	cfg.policy_file = "/etc/media.policy";
 *	hooks.event = on_event;		// post-operation events
 *	hooks.decide = on_decide;	// "decide" subtrees of the policy
 *	if (fusebpf_mount_create(&cfg, &hooks, &m, err, sizeof(err)))
 *		errx(1, "%s", err);
 *	fusebpf_mount_start(m);		// own threads; returns once mounted
 *	...
 *	fusebpf_mount_stop(m);
 *	fusebpf_mount_destroy(m);
 *
 * API versioning: FUSEBPF_API_VERSION grows when something is added;
 * structs the caller passes start with their size, so a library built
 * against a newer header accepts an older caller's shorter struct
 * (missing fields read as zero) and refuses a longer one it does not
 * know (EINVAL).
 */
#ifndef FUSEBPF_FUSEBPF_H
#define FUSEBPF_FUSEBPF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FUSEBPF_API_VERSION	1

#ifndef FUSEBPF_API
#define FUSEBPF_API __attribute__((visibility("default")))
#endif

/* The library's API version (FUSEBPF_API_VERSION it was built with). */
FUSEBPF_API int fusebpf_api_version(void);

struct fusebpf_mount;

/* struct fusebpf_config.mode (the same values as fusebpfd -o mode=) */
#define FUSEBPF_MOUNT_MODE_AUTO		0
#define FUSEBPF_MOUNT_MODE_USERSPACE	1
#define FUSEBPF_MOUNT_MODE_PASSTHROUGH	2
#define FUSEBPF_MOUNT_MODE_BPF		3

/* struct fusebpf_config.flags: process-wide effects, only when asked */
#define FUSEBPF_MOUNT_SIGNALS	(1u << 0) /* SIGTERM/INT/HUP end the loop
					   * (libfuse's handlers) */
#define FUSEBPF_MOUNT_NOFILE	(1u << 1) /* raise RLIMIT_NOFILE to the max */
#define FUSEBPF_MOUNT_UMASK0	(1u << 2) /* umask(0) (creations use the
					   * caller's umask either way) */
#define FUSEBPF_MOUNT_DEBUG	(1u << 3) /* libfuse debug output */
#define FUSEBPF_MOUNT_NO_WATCH	(1u << 4) /* watch_backing=off */

struct fusebpf_config {
	uint32_t size;			/* sizeof(struct fusebpf_config) */
	uint32_t api_version;		/* FUSEBPF_API_VERSION */
	const char *backing;		/* the directory stacked on */
	const char *mountpoint;
	uint32_t mode;			/* FUSEBPF_MOUNT_MODE_* */
	uint32_t flags;			/* FUSEBPF_MOUNT_* */
	const char *instance;		/* /run/fusebpf/NAME; NULL: default */
	/* at most one of these two: the policy enforced from the start */
	const char *policy_file;
	const char *policy_text;
	/* subtrees served by the daemon (relative to backing), or NULL */
	const char *const *served;
	size_t nr_served;
	/* kernel cache seconds; < 0: default (1 s). Set both. */
	double entry_timeout;
	double attr_timeout;
	/* standard mount options, e.g. "ro,noatime" (as fusebpfd -o) */
	const char *mount_options;
	const char *fsname;		/* NULL: backing */
	const char *subtype;		/* NULL: "fusebpf" */
	/*
	 * An open /dev/fuse fd of a mount made by someone else (a
	 * supervisor, fusermount): the library serves it and neither mounts
	 * nor unmounts; its INIT must still be unanswered. -1: mount here.
	 * The fd belongs to the mount afterwards.
	 */
	int dev_fuse_fd;
};

#define FUSEBPF_CONFIG_INIT {						\
	.size = sizeof(struct fusebpf_config),				\
	.api_version = FUSEBPF_API_VERSION,				\
	.entry_timeout = -1, .attr_timeout = -1, .dev_fuse_fd = -1,	\
}

/* ---- hooks ---- */

/* struct fusebpf_decision_req.kind: what is judged */
#define FUSEBPF_DECIDE_INODE	0	/* an op on @path itself */
#define FUSEBPF_DECIDE_LOOKUP	1	/* @name in directory @path */
#define FUSEBPF_DECIDE_NEW	2	/* creating @name in @path */
#define FUSEBPF_DECIDE_REMOVE	3	/* removing @name from @path */

/* struct fusebpf_decision_req.access */
#define FUSEBPF_DECIDE_SEE	0	/* lookup, stat, read, list */
#define FUSEBPF_DECIDE_WRITE	1	/* any mutating op */

/*
 * An operation in a subtree the policy gives to the embedder ("decide
 * PATH" in the policy file), after the policy's own rules allowed it.
 * Paths are relative to the backing directory ("" is its root).
 */
struct fusebpf_decision_req {
	uint32_t size;			/* sizeof(struct fusebpf_decision_req) */
	uint32_t opcode;		/* FUSE opcode, fusebpf_op_name() */
	uint32_t kind;			/* FUSEBPF_DECIDE_* */
	uint32_t access;		/* FUSEBPF_DECIDE_SEE or _WRITE */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const char *path;		/* the inode, or the directory of @name */
	const char *name;		/* the entry (LOOKUP/NEW/REMOVE), or NULL */
};

/* struct fusebpf_event.type */
enum fusebpf_event_type {
	FUSEBPF_EV_CREATE = 1,		/* a regular file (create/open O_CREAT) */
	FUSEBPF_EV_MKDIR,
	FUSEBPF_EV_MKNOD,
	FUSEBPF_EV_SYMLINK,
	FUSEBPF_EV_LINK,		/* @path: the new name, @path2: the old */
	FUSEBPF_EV_UNLINK,
	FUSEBPF_EV_RMDIR,
	FUSEBPF_EV_RENAME,		/* @path: the old name, @path2: the new */
	FUSEBPF_EV_TRUNCATE,		/* setattr of the size */
	FUSEBPF_EV_CLOSE_WRITE,		/* last close of a file written through
					 * the mount (or opened for writing) */
	/*
	 * Events were lost (mode bpf: the kernel's ring buffer was full):
	 * the index is no longer known to match; rescan @path (the mount
	 * root if "").
	 */
	FUSEBPF_EV_OVERFLOW,
};

/*
 * A change made through the mount, after it succeeded: each exactly once,
 * in the order the operations completed (per mount, from one thread at a
 * time). Paths are relative to the backing directory.
 */
struct fusebpf_event {
	uint32_t size;			/* sizeof(struct fusebpf_event) */
	uint32_t type;			/* enum fusebpf_event_type */
	uint64_t seq;			/* 1, 2, ... per mount */
	uid_t uid;			/* the caller */
	gid_t gid;
	pid_t pid;
	uint32_t mode;			/* S_IFMT | permissions, 0: unknown */
	uint64_t size_after;		/* TRUNCATE: the new size */
	const char *path;
	const char *path2;		/* LINK, RENAME; else NULL */
	uint32_t rename_flags;		/* RENAME: RENAME_EXCHANGE, ... */
};

/* An audit event of the policy ("audit PATH"): one per audited request */
struct fusebpf_audit_record {
	uint32_t size;			/* sizeof(struct fusebpf_audit_record) */
	uint32_t opcode;
	uid_t uid;
	pid_t pid;
	uint64_t nodeid;		/* the inode (its parent for names) */
	uint32_t tag;			/* policy class and owner slot */
	int32_t result;			/* 0 or -errno, as replied */
	uint32_t denied;		/* the policy refused it */
};

/* log levels (syslog's) */
#define FUSEBPF_LOG_ERR		3
#define FUSEBPF_LOG_INFO	6

struct fusebpf_hooks {
	uint32_t size;			/* sizeof(struct fusebpf_hooks) */
	void *ctx;			/* passed to every hook */
	/*
	 * 0 to allow, or a positive errno (EACCES, ENOENT, EROFS, ...)
	 * that the caller gets. Called from the request's worker thread,
	 * possibly from several at once; keep it quick. NULL: allow.
	 */
	int (*decide)(void *ctx, const struct fusebpf_decision_req *req);
	/* post-operation events; must not block for long */
	void (*event)(void *ctx, const struct fusebpf_event *ev);
	/* messages; NULL: "fusebpf: MSG" on stderr */
	void (*log)(void *ctx, int level, const char *msg);
	/* audit events; NULL: only the ring buffer (fusebpfctl policy events) */
	void (*audit)(void *ctx, const struct fusebpf_audit_record *rec);
	/*
	 * The start-up finished (from run(), start() or process()): 0
	 * (mounted, serving) or a negative errno (the mount is gone).
	 */
	void (*ready)(void *ctx, int status);
};

#define FUSEBPF_HOOKS_INIT { .size = sizeof(struct fusebpf_hooks) }

/* ---- the mount ---- */

/*
 * Checks the configuration (backing and mountpoint exist, the mountpoint
 * is not already a mount point, the policy compiles, the mode is
 * available) and prepares a mount; nothing is mounted yet. 0, or a
 * negative errno with a one-line reason in @err. @hooks may be NULL.
 */
FUSEBPF_API int fusebpf_mount_create(const struct fusebpf_config *cfg,
				     const struct fusebpf_hooks *hooks,
				     struct fusebpf_mount **out,
				     char *err, size_t errlen);

/*
 * Mounts and serves on the calling thread (plus worker threads) until
 * the mount ends (umount, fusebpf_mount_stop, a signal with
 * FUSEBPF_MOUNT_SIGNALS). hooks.ready is called once the mount is ready.
 * 0: ended cleanly; negative errno: the start-up failed.
 */
FUSEBPF_API int fusebpf_mount_run(struct fusebpf_mount *m);

/*
 * run() on a thread of the library's: returns once the mount is ready
 * (0) or failed (negative errno). Then fusebpf_mount_wait() or _stop().
 */
FUSEBPF_API int fusebpf_mount_start(struct fusebpf_mount *m);
/* Waits for a start()ed mount to end; its run() result. */
FUSEBPF_API int fusebpf_mount_wait(struct fusebpf_mount *m);

/*
 * Driven from the caller's loop instead: begin() mounts and returns;
 * poll fusebpf_mount_fd() for POLLIN and call fusebpf_mount_process()
 * each time: it handles one request and returns 0, 1 once the mount
 * has ended, or a negative errno. The start-up finishes inside process()
 * once the kernel's INIT was answered (hooks.ready, fusebpf_mount_ready).
 * One thread at a time.
 */
FUSEBPF_API int fusebpf_mount_begin(struct fusebpf_mount *m);
FUSEBPF_API int fusebpf_mount_fd(const struct fusebpf_mount *m);
FUSEBPF_API int fusebpf_mount_process(struct fusebpf_mount *m);
/* 1: ready, 0: starting, negative errno: the start-up failed */
FUSEBPF_API int fusebpf_mount_ready(const struct fusebpf_mount *m);

/*
 * Ends the mount: the loop stops and the mount is detached (lazily: it
 * goes once nothing uses it). Safe from any thread and from a hook.
 */
FUSEBPF_API void fusebpf_mount_stop(struct fusebpf_mount *m);
/* After the loop ended (or was never started): frees everything. */
FUSEBPF_API void fusebpf_mount_destroy(struct fusebpf_mount *m);

/* ---- while mounted ---- */

/*
 * Replaces the policy (as `fusebpfctl policy load`): compiled first, so a
 * file with any error changes nothing; 0 or negative errno + @err.
 * Needs the policy maps (root).
 */
FUSEBPF_API int fusebpf_mount_policy_load_file(struct fusebpf_mount *m,
					       const char *file, char *err,
					       size_t errlen);
FUSEBPF_API int fusebpf_mount_policy_load_text(struct fusebpf_mount *m,
					       const char *text, char *err,
					       size_t errlen);

/* FUSEBPF_MOUNT_MODE_* decided at INIT (AUTO before) */
FUSEBPF_API uint32_t fusebpf_mount_mode(const struct fusebpf_mount *m);
FUSEBPF_API const char *fusebpf_mode_str(uint32_t mode);
/* the instance name (/run/fusebpf/NAME), "" before the mount is ready */
FUSEBPF_API const char *fusebpf_mount_instance(const struct fusebpf_mount *m);
/* "LOOKUP", "CREATE", ... of a FUSE opcode */
FUSEBPF_API const char *fusebpf_op_name(uint32_t opcode);

#define FUSEBPF_STAT_OPCODES	64

struct fusebpf_mount_stats {
	uint32_t size;			/* sizeof(struct fusebpf_mount_stats) */
	uint32_t mode;
	uint64_t requests[FUSEBPF_STAT_OPCODES];	/* by FUSE opcode */
	uint64_t denied[FUSEBPF_STAT_OPCODES];		/* refused by policy */
	uint64_t passthrough_opens;
	uint64_t passthrough_fallbacks;
	uint64_t audit_events;
	uint64_t events;		/* post-operation events delivered */
	uint64_t events_lost;		/* ... reported as overflow instead */
	uint64_t decisions;		/* hooks.decide calls */
	uint64_t decisions_denied;
};

/* Fills @st (st->size set by the caller); 0 or negative errno. */
FUSEBPF_API int fusebpf_mount_stats(const struct fusebpf_mount *m,
				    struct fusebpf_mount_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* FUSEBPF_FUSEBPF_H */
