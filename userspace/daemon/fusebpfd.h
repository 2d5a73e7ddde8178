/* SPDX-License-Identifier: GPL-2.0 */
/* fusebpfd: state shared by the daemon's files. */
#ifndef FUSEBPFD_H
#define FUSEBPFD_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fusebpf/fusebpf.h"
#include "fusebpf/node_registry.h"
#include "fusebpf/options.h"
#include "fusebpf/policy.h"
#include "fusebpf/stats.h"
#include "uapi/linux/fuse_bpf.h"
#include "fh_table.h"
#include "policy_judge.h"

struct link_place;

/* A FUSE inode: one backing inode, see include/fusebpf/node_registry.h. */
struct inode {
	struct fusebpf_node node;	/* first: container_of by cast */
	int fd;				/* O_PATH; -1 while retired or dropped */
	/* fd LRU of inode_table.c (table lock); pinned: not dropped */
	struct inode *fd_prev, *fd_next;
	bool fd_listed;
	uint32_t pins;			/* requests in flight using fd */
	mode_t type;			/* S_IFMT bits */
	bool served;			/* in a subtree the daemon serves */
	/*
	 * Where it is: the name in the directory it was last looked up or
	 * moved in (NULL: the root, or only reached by export handle). Its
	 * path is computed from these when needed, never stored.
	 */
	uint64_t parent_id;		/* held: fusebpf_registry_hold */
	char *name;
	struct link_place *links;	/* its other names (hard links) */
	char *served_relpath;		/* set on ancestors of served subtrees */
	/* passthrough (mode passthrough), under the table lock */
	int32_t backing_id;		/* 0: none registered */
	uint32_t passthrough_opens;	/* opens replied FOPEN_PASSTHROUGH */
	uint32_t rdwr_passthrough_opens; /* of those, O_RDWR (can mmap-write) */
	uint32_t cached_opens;		/* daemon-served opens (and O_DIRECT) */
	struct lock_owner *lock_owners;	/* POSIX locks, lock_owners.c */
	/* mode bpf: the LOOKUP reply extension last sent (mode.c, table lock) */
	struct fuse_bpf_entry_out kentry;
	uint64_t kentry_gen;		/* policy generation it was sent in */
	bool kentry_sent;
	/* policy_tags.c, under the table lock */
	struct policy_tag tag;
	uint32_t ho_slot;		/* handover.c record + 1, 0: none */
};

/*
 * What fi->fh names (fh_table.c) for files and directories. Both start
 * with the fd so that ops that may get either (setattr on an open
 * directory) can read it.
 */
struct open_file {
	int fd;
	struct inode *inode;
	uint64_t fh;			/* its fi->fh */
	int32_t backing_id;		/* > 0: replied FOPEN_PASSTHROUGH */
	bool cached;			/* counted in inode->cached_opens */
	bool rdwr;			/* O_RDWR */
	bool writable;			/* O_WRONLY or O_RDWR */
	uid_t uid;			/* the opener (RELEASE has no caller) */
	gid_t gid;
	pid_t pid;
	bool restored;			/* by a takeover (handover.c) */
};

/* the backing fd of an open file or directory; -1: unknown handle */
static inline int fi_fd(struct fh_table *t, const struct fuse_file_info *fi)
{
	const int *fd = fh_get(t, fi->fh);

	return fd ? *fd : -1;
}

struct inode_table {
	pthread_mutex_t lock;
	struct fusebpf_node_registry reg;
	struct inode *root;
	/*
	 * O_PATH fds of live handle-keyed inodes, least recently used first:
	 * beyond fd_cap (from RLIMIT_NOFILE) the oldest unpinned are closed
	 * and reopened by handle when next used.
	 */
	struct inode *fd_head, *fd_tail;
	size_t nr_fds, fd_cap;
	unsigned int fd_opens;		/* since fd_cap was last computed */
	pthread_key_t pins_key;		/* a worker thread's pinned inodes */
	uint64_t moves;			/* directory moves so far (atomic) */
	bool closing;			/* inode_table_destroy */
};

struct daemon {
	struct fusebpf_options opts;
	char backing[PATH_MAX];		/* realpath of BACKING */
	char mountpoint[PATH_MAX];	/* realpath of MOUNTPOINT */
	char instance[FUSEBPF_INSTANCE_NAME_MAX];
	int mount_fd;			/* BACKING, O_RDONLY: open_by_handle_at */
	int root_mount_id;		/* mount id of BACKING */
	dev_t root_dev;
	ino_t root_ino;
	double timeout;			/* attr cache seconds (> 0) */
	double entry_timeout;		/* entry cache seconds */

	enum fusebpf_mode mode;		/* decided at INIT */
	const struct mode_ops *mode_ops;	/* mode.h; NULL before INIT */
	uint64_t kernel_flags;		/* INIT flags the kernel offered */
	struct fuse_session *se;
	struct fusebpf_stats *stats;
	struct inode_table table;
	struct fh_table fh;		/* fi->fh of open files, fh_table.c */
	/* restart without unmount (supervisor.c, handover.c); NULL: off */
	struct handover *ho;

	/* startup: the INIT reply reached the kernel */
	pthread_mutex_t init_lock;
	pthread_cond_t init_cond;
	bool init_replied;
	int init_error;			/* errno of a failed INIT reply */

	bool passthrough_fallback_logged;
	struct policy *policy;		/* NULL: no policy maps */
	struct policy_reload *reload;	/* policy_reload.c; NULL: not running */
	uint32_t filter_id;		/* mode bpf: the policy filter, 0: none */
	struct bpf_filter *filter;	/* bpf_filter.c; NULL: none */
	struct backing_watch *watch;	/* backing_watch.c; NULL: not watching */
	/* locks.c: F_SETLKW waits on their own threads (atomic) */
	unsigned int lock_waiters;
	bool lock_waiters_stop;
	/* the embedder's (include/fusebpf/fusebpf.h), hooks.c */
	struct fusebpf_hooks hooks;
	struct hooks *hk;
};

static inline struct daemon *req_daemon(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* log.c: to hooks.log of the daemon this thread works for (log_bind) */
void log_bind(const struct daemon *d);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* inode_table.c */
int inode_table_init(struct daemon *d, int root_fd);
void inode_table_destroy(struct daemon *d);
/*
 * Live inode of a nodeid, or NULL (unknown or retired: ESTALE). Its fd is
 * open (reopened by handle if it was dropped) and pinned until this worker
 * thread reads its next request (inode_request_done).
 */
struct inode *inode_get(struct daemon *d, fuse_ino_t ino);
/* raw_io.c, before reading the next request: unpins the last one's inodes */
void inode_request_done(struct daemon *d);
/*
 * Looks @name up in @parent ("." and ".." included) and takes a reference;
 * @e has the daemon's cache timeouts (entry_lookup: the policy's)
 */
int inode_lookup(struct daemon *d, struct inode *parent, const char *name,
		 struct fuse_entry_param *e, struct inode **out);
/* LOOKUP "." of a nodeid the kernel rebuilt from an export handle. */
int inode_lookup_self(struct daemon *d, fuse_ino_t ino,
		      struct fuse_entry_param *e, struct inode **out);
void inode_forget(struct daemon *d, fuse_ino_t ino, uint64_t nlookup);
/* @name in @dir was renamed there: its place, tags and kernel attributes */
void inode_moved(struct daemon *d, struct inode *dir, const char *name);
/* table.moves: policy tags computed before a later move are stale */
uint64_t inode_moves(struct daemon *d);
/* the directory @inode is in, NULL if none known (table lock held) */
struct inode *inode_parent_locked(struct daemon *d, struct inode *inode);
/* a new O_PATH fd of the inode @nodeid (the caller closes it), or -errno */
int inode_dup_fd(struct daemon *d, uint64_t nodeid);
int inode_stat(struct inode *inode, struct stat *st);
/*
 * "/proc/self/fd/N" of the O_PATH fd, to reach path-only syscalls; the fd
 * is reopened and pinned as by inode_get if it was dropped
 */
void inode_proc_path(struct inode *inode, char *buf, size_t len);

/*
 * entry.c: the entries the daemon replies: inode_lookup*, then the inode
 * tagged for the policy and the cache timeouts that the policy and
 * passthrough allow
 */
int entry_lookup(struct daemon *d, struct inode *parent, const char *name,
		 struct fuse_entry_param *e, struct inode **out);
int entry_lookup_self(struct daemon *d, fuse_ino_t ino,
		      struct fuse_entry_param *e, struct inode **out);
/* the attribute timeout of a GETATTR/SETATTR reply */
double entry_attr_timeout(struct daemon *d, struct inode *inode);

/* session.c: the libfuse session with our operations */
struct fuse_session *session_new(struct daemon *d);

/* ops_*.c: each fills its part of the lowlevel operation table */
void ops_entry_fill(struct fuse_lowlevel_ops *ops);
void ops_file_fill(struct fuse_lowlevel_ops *ops);
void ops_dir_fill(struct fuse_lowlevel_ops *ops);
void ops_xattr_fill(struct fuse_lowlevel_ops *ops);
void ops_locks_fill(struct fuse_lowlevel_ops *ops);
/* takeover: a directory handle over the open directory @fd (consumed) */
void *ops_dir_restore(int fd);
/* replay.c: an open whose reply never reached the kernel goes away */
void open_file_drop(struct daemon *d, uint64_t fh);
void dir_handle_drop(struct daemon *d, uint64_t fh);
/* Gives a just-created @name in @dirfd to the caller (ops_entry.c). */
int give_to_caller(fuse_req_t req, int dirfd, const char *name, mode_t mode);
/* Creations on this thread use the caller's umask (ops_entry.c). */
void use_caller_umask(fuse_req_t req);

/* passthrough.c */
/*
 * How an open of @inode is served: the backing id (> 0) of a passthrough
 * open, or 0 (by the daemon; a regular file's open is then counted in
 * cached_opens). Decided and counted under the table lock.
 */
int32_t passthrough_open(struct daemon *d, struct inode *inode, int fd,
			 bool rdwr);
void passthrough_release(struct daemon *d, struct inode *inode,
			 int32_t backing_id, bool rdwr);
/*
 * The attribute timeout for @inode: 0 while it is open O_RDWR in
 * passthrough, since writes through a shared mapping of the backing file
 * change its mtime/ctime without a request to us. Needs no lock.
 */
double passthrough_attr_timeout(struct inode *inode, double timeout);

/* raw_io.c (the request a worker handles and its reply patches: request.h) */
extern const struct fuse_custom_io raw_io;
int raw_io_wait_init(struct daemon *d, int timeout_sec);

/*
 * policy.c: the checks of the ops the daemon performs; no-ops without
 * policy maps (policy_maps.h); the tags: policy_tags.h
 */
/* 0 or a positive errno; access: FUSEBPF_ACCESS_SEE or _WRITE */
int policy_check(fuse_req_t req, struct inode *inode, int access);
int policy_check_name(fuse_req_t req, struct inode *dir, const char *name,
		      int access, bool create);
/* creating @name in @dir (also a rename or link target) */
int policy_check_new(fuse_req_t req, struct inode *dir, const char *name);
/* removing @name from @dir (also a rename source) */
int policy_check_remove(fuse_req_t req, struct inode *dir, const char *name);
int policy_check_lookup(fuse_req_t req, struct inode *dir, const char *name,
			struct inode *inode, struct fuse_entry_param *e);
bool policy_entry_visible(fuse_req_t req, struct inode *dir, const char *name,
			  struct inode *child, struct fuse_entry_param *e);
bool policy_served(struct daemon *d, struct inode *inode);
double policy_timeout(struct daemon *d, struct inode *inode);
/* policy_audit.c: an audited reply's event to the audit ring buffer */
struct fusebpf_audit_event;
void policy_audit_emit(struct daemon *d, const struct fusebpf_audit_event *ev);
/*
 * policy_decision.c, mode bpf: a decision request of the kernel filter;
 * 0 or a positive errno (POSTFILTER: the op's final result, negated)
 */
struct fusebpf_decision;
int policy_decide_request(struct daemon *d, const struct fusebpf_decision *dec);

/* policy_reload.c: once mounted, applies policy loads to the kernel's caches */
int policy_reload_start(struct daemon *d);
/* before the session goes away; no-op when not started */
void policy_reload_stop(struct daemon *d);

/* bpf_filter.c: the policy filter in the kernel (mode bpf), d->filter */
int bpf_filter_start(struct daemon *d, int devfd, uint32_t *filter_id);
int bpf_filter_pin(struct daemon *d, const char *pin_dir);
/* what bpf_filter_start set up goes; no-op without filter */
void bpf_filter_destroy(struct daemon *d);
/* meta.generation of the policy maps the filter reads; 0 without filter */
uint64_t bpf_filter_policy_generation(struct daemon *d);
/* the filter's part of the root's attachment (@rs: backing, base flags) */
void bpf_filter_root_entry(struct daemon *d, struct fuse_bpf_root_set *rs);
/* a policy load: re-attach the root if its entry changed (sweeper thread) */
void bpf_filter_policy_loaded(struct daemon *d);

/* Replies @err if it is one: `if (policy_denied(req, policy_check(...)))` */
static inline bool policy_denied(fuse_req_t req, int err)
{
	if (err)
		fuse_reply_err(req, err);
	return err != 0;
}

/* mode.c: the mode decided at INIT and its ops (mode.h) */
bool mode_bpf_available(void);
void mode_decide(struct daemon *d, uint64_t kernel_flags);
/* the INIT reply: flags libfuse does not set itself, max_stack_depth */
uint64_t mode_init_flags(const struct daemon *d);
uint32_t mode_max_stack_depth(const struct daemon *d);
int mode_start(struct daemon *d);
/* once the policy maps are pinned */
int mode_pin(struct daemon *d);
/* @e: the entry of a LOOKUP by name, NULL for LOOKUP "." (export handle) */
void mode_lookup_reply(struct daemon *d, struct inode *inode,
		       struct fuse_entry_param *e);
/* a policy load (sweeper thread) */
void mode_policy_loaded(struct daemon *d);
/* at the end; no-op before INIT */
void mode_stop(struct daemon *d);

/* runtime.c: /run/fusebpf/<instance>/ */
int runtime_create(struct daemon *d);
int runtime_publish(struct daemon *d);
void runtime_remove(struct daemon *d);
/* a takeover: the instance's directory, as the last worker left it */
int runtime_adopt(struct daemon *d);
/* the supervisor, at the end: the directory of @name */
void runtime_remove_instance(const char *name);

/* session.c */
struct fuse_session *session_new(struct daemon *d);

/* locks.c (the owners kept per inode: lock_owners.h) */
/* the loop has ended: waiting F_SETLKW threads end */
void locks_stop(struct daemon *d);

#endif /* FUSEBPFD_H */
