// SPDX-License-Identifier: GPL-2.0
/*
 * libfusebpf: the life of a mount (include/fusebpf/fusebpf.h).
 *
 * create: check the configuration (one-line error, nothing mounted),
 * compile the policy. run/start/begin: open the backing, create the
 * runtime state, mount, hook /dev/fuse I/O; once the kernel's INIT was
 * answered, finish the mode set-up and publish /run/fusebpf/<instance>
 * (a start-up thread beside the loop, or inside process() for a caller's
 * loop), and only then report ready. The end: the loop stops (umount,
 * fusebpf_mount_stop, a signal with FUSEBPF_MOUNT_SIGNALS); the library
 * then unmounts and removes its runtime files.
 *
 * The daemon's inside (userspace/daemon/) does the serving; this file
 * only sequences it, and touches the process only when a flag asks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/fusebpf.h"
#include "fusebpf/mountinfo.h"
#include "fusebpf/policy_compile.h"
#include "uapi/linux/fuse_bpf.h"
#include "../daemon/fusebpfd.h"
#include "../daemon/backing_watch.h"
#include "../daemon/handover.h"
#include "../daemon/hooks.h"
#include "../daemon/policy_maps.h"
#include "../daemon/takeover.h"
#include "../daemon/worker_io.h"
#include "supervised.h"

#define INIT_TIMEOUT_SEC	30
#define MAX_THREADS		32
#define CACHE_TIMEOUT_SEC	1.0	/* entry_timeout, attr_timeout */

enum mount_state {
	STATE_CREATED,		/* checked, nothing mounted */
	STATE_RUNNING,		/* mounted, loop running or caller-driven */
	STATE_ENDED,		/* unmounted, torn down */
};

struct fusebpf_mount {
	struct daemon d;
	uint32_t flags;
	int dev_fuse_fd;		/* given by the caller, or -1 */
	/* a worker of fusebpfd -o restart=on (supervised.h) */
	struct handover_fds ho_fds;
	bool supervised;
	char *backing_arg, *mountpoint_arg;
	struct fusebpf_policy compiled;
	bool have_policy;

	enum mount_state state;
	bool mounted;			/* fuse_session_mount succeeded */
	bool signals;			/* libfuse's signal handlers set */
	bool caller_loop;		/* begin/process */
	struct fuse_buf buf;		/* process(): the request buffer */

	/* ready: 0 starting, 1 ready, < 0 start-up failed (-errno) */
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	int ready;
	bool ready_notified;		/* hooks.ready has returned */
	bool startup_done;		/* the start-up steps ran */
	pthread_t startup;
	bool startup_thread;

	pthread_t thread;		/* start(): the thread running run() */
	bool threaded;
	int result;			/* run()'s result for wait() */
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

FUSEBPF_API int fusebpf_api_version(void)
{
	return FUSEBPF_API_VERSION;
}

/* Is @path already a mount point? (mounting over it would hide a mount) */
static bool is_mount_point(const char *path)
{
	struct mount_entry *e = malloc(sizeof(*e));
	bool found;

	found = e && !mountinfo_find(path, 0, e);
	free(e);
	return found;
}

static int check_dir(const char *what, const char *arg, char *real,
		     char *err, size_t errlen)
{
	struct stat st;

	if (!arg)
		return fail(err, errlen, -EINVAL, "%s missing", what);
	if (!realpath(arg, real) || stat(real, &st))
		return fail(err, errlen, -errno, "%s '%s': %s", what, arg,
			    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, errlen, -ENOTDIR, "%s '%s': Not a directory",
			    what, arg);
	return 0;
}

/*
 * A caller's struct of @size bytes, known up to @known: a shorter one
 * (older caller) is zero-extended, a longer one refused.
 */
static int copy_sized(void *dst, size_t known, const void *src, uint32_t size)
{
	memset(dst, 0, known);
	if (!src)
		return 0;
	if (size < sizeof(uint32_t) || size > known)
		return -EINVAL;
	memcpy(dst, src, size);
	return 0;
}

/* The daemon's options from the caller's configuration */
static int config_options(struct fusebpf_mount *m,
			  const struct fusebpf_config *cfg, char *err,
			  size_t errlen)
{
	struct fusebpf_options *o = &m->d.opts;

	memset(o, 0, sizeof(*o));
	m->backing_arg = cfg->backing ? strdup(cfg->backing) : NULL;
	m->mountpoint_arg = cfg->mountpoint ? strdup(cfg->mountpoint) : NULL;
	o->backing = m->backing_arg;
	o->mountpoint = m->mountpoint_arg;
	o->debug = cfg->flags & FUSEBPF_MOUNT_DEBUG;
	o->foreground = true;
	if (cfg->mode > FUSEBPF_MOUNT_MODE_BPF)
		return fail(err, errlen, -EINVAL, "mode %u unknown", cfg->mode);
	o->mode = cfg->mode;
	if (cfg->instance) {
		if (!*cfg->instance ||
		    strlen(cfg->instance) >= sizeof(o->instance) ||
		    strchr(cfg->instance, '/') || cfg->instance[0] == '.')
			return fail(err, errlen, -EINVAL,
				    "instance=%s: not a valid name",
				    cfg->instance);
		strcpy(o->instance, cfg->instance);
	}
	if (cfg->nr_served > FUSEBPF_SERVED_MAX)
		return fail(err, errlen, -EINVAL, "served: more than %d paths",
			    FUSEBPF_SERVED_MAX);
	for (size_t i = 0; i < cfg->nr_served; i++) {
		char *rel = fusebpf_served_normalize(cfg->served[i]);

		if (!rel)
			return fail(err, errlen, -EINVAL,
				    "served=%s: not a path below BACKING",
				    cfg->served[i]);
		o->served[o->nr_served++] = rel;
	}
	if (cfg->policy_file && cfg->policy_text)
		return fail(err, errlen, -EINVAL,
			    "policy: a file or a text, not both");
	if (cfg->policy_file && !(o->policy = strdup(cfg->policy_file)))
		return -ENOMEM;
	o->no_watch_backing = cfg->flags & FUSEBPF_MOUNT_NO_WATCH;
	o->entry_timeout = cfg->entry_timeout;
	o->attr_timeout = cfg->attr_timeout;
	if ((cfg->mount_options && !(o->mount_opts = strdup(cfg->mount_options))) ||
	    (cfg->fsname && !(o->fsname = strdup(cfg->fsname))) ||
	    (cfg->subtype && !(o->subtype = strdup(cfg->subtype))))
		return -ENOMEM;
	return 0;
}

static int check_config(struct fusebpf_mount *m,
			const struct fusebpf_config *cfg, char *err,
			size_t errlen)
{
	struct daemon *d = &m->d;
	char cerr[512];
	int ret;

	ret = check_dir("backing directory", d->opts.backing, d->backing,
			err, errlen);
	if (ret)
		return ret;
	/*
	 * A supervisor's fd: the mount is there already, and a stat of it
	 * would wait for the INIT that only we can answer
	 */
	if (m->dev_fuse_fd >= 0 && d->opts.mountpoint &&
	    d->opts.mountpoint[0] == '/' &&
	    strlen(d->opts.mountpoint) < sizeof(d->mountpoint))
		strcpy(d->mountpoint, d->opts.mountpoint);
	else if (m->dev_fuse_fd >= 0)
		return fail(err, errlen, -EINVAL,
			    "dev_fuse_fd: the mountpoint must be an absolute path");
	else
		ret = check_dir("mountpoint", d->opts.mountpoint,
				d->mountpoint, err, errlen);
	if (ret)
		return ret;
	/* a supervisor's fd: its mount is on the mountpoint already */
	if (m->dev_fuse_fd < 0 && is_mount_point(d->mountpoint))
		return fail(err, errlen, -EBUSY,
			    "mountpoint '%s' is busy (already a mount point)",
			    d->mountpoint);
	if (cfg->policy_file || cfg->policy_text) {
		ret = cfg->policy_file ?
		      fusebpf_policy_compile_file(cfg->policy_file,
						  &m->compiled, cerr,
						  sizeof(cerr)) :
		      fusebpf_policy_compile_text("policy", cfg->policy_text,
						  &m->compiled, cerr,
						  sizeof(cerr));
		m->have_policy = true;
		if (ret)
			return fail(err, errlen, -EINVAL, "%s", cerr);
		if (geteuid() != 0)
			return fail(err, errlen, -EPERM,
				    "policy=%s: policies need root (BPF maps)",
				    cfg->policy_file ? cfg->policy_file :
				    "(text)");
	}
	if (d->opts.mode == FUSEBPF_MODE_BPF && !mode_bpf_available())
		return fail(err, errlen, -EOPNOTSUPP,
			    "mode bpf: this kernel has no FUSE-BPF (%s missing)",
			    FUSE_BPF_FEATURE_FILE);
	return 0;
}

FUSEBPF_API int fusebpf_mount_create(const struct fusebpf_config *ucfg,
				     const struct fusebpf_hooks *uhooks,
				     struct fusebpf_mount **out, char *err,
				     size_t errlen)
{
	struct fusebpf_config cfg;
	struct fusebpf_mount *m;
	int ret;

	*out = NULL;
	if (!ucfg || copy_sized(&cfg, sizeof(cfg), ucfg, ucfg->size))
		return fail(err, errlen, -EINVAL,
			    "struct fusebpf_config: unknown size");
	if (ucfg->size < offsetof(struct fusebpf_config, dev_fuse_fd) +
			 sizeof(int))
		cfg.dev_fuse_fd = -1;
	m = calloc(1, sizeof(*m));
	if (!m)
		return fail(err, errlen, -ENOMEM, "out of memory");
	m->d.mount_fd = -1;
	m->flags = cfg.flags;
	m->dev_fuse_fd = cfg.dev_fuse_fd;
	pthread_mutex_init(&m->ready_lock, NULL);
	pthread_cond_init(&m->ready_cond, NULL);
	if (copy_sized(&m->d.hooks, sizeof(m->d.hooks), uhooks,
		       uhooks ? uhooks->size : 0)) {
		ret = fail(err, errlen, -EINVAL,
			   "struct fusebpf_hooks: unknown size");
		goto out_free;
	}
	ret = config_options(m, &cfg, err, errlen);
	if (ret == -ENOMEM)
		fail(err, errlen, ret, "out of memory");
	if (!ret)
		ret = check_config(m, &cfg, err, errlen);
	if (ret)
		goto out_free;
	*out = m;
	return 0;
out_free:
	fusebpf_mount_destroy(m);
	return ret;
}

static int open_backing(struct daemon *d, int *root_fd)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h = { .fh.handle_bytes = MAX_HANDLE_SZ };
	struct stat st;

	d->mount_fd = open(d->backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*root_fd = open(d->backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->mount_fd < 0 || *root_fd < 0 || fstat(*root_fd, &st)) {
		log_error("backing directory '%s': %s", d->backing,
			  strerror(errno));
		return -1;
	}
	d->root_dev = st.st_dev;
	d->root_ino = st.st_ino;
	/* no handles (EOPNOTSUPP): every inode uses the O_PATH fallback */
	if (name_to_handle_at(d->mount_fd, "", &h.fh, &d->root_mount_id,
			      AT_EMPTY_PATH))
		d->root_mount_id = -1;
	return 0;
}

/*
 * Open files of the mount each hold a backing fd here, and the inode table
 * keeps O_PATH fds of cached inodes up to half the limit (inode_table.c):
 * raise the soft limit to the hard limit, and the hard limit to
 * fs.nr_open when privileged. Only with FUSEBPF_MOUNT_NOFILE.
 */
static void maximize_fd_limit(void)
{
	struct rlimit lim;
	unsigned long nr_open = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &lim))
		return;
	f = fopen("/proc/sys/fs/nr_open", "re");
	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (nr_open > lim.rlim_max) {
		struct rlimit raised = { .rlim_cur = nr_open, .rlim_max = nr_open };

		if (!setrlimit(RLIMIT_NOFILE, &raised))
			return;
	}
	lim.rlim_cur = lim.rlim_max;
	setrlimit(RLIMIT_NOFILE, &lim);
}

/* the start-up's end: ready() is true in the hook, start() returns after it */
static void set_ready(struct fusebpf_mount *m, int status)
{
	__atomic_store_n(&m->ready, status ? status : 1, __ATOMIC_RELEASE);
	if (m->d.hooks.ready)
		m->d.hooks.ready(m->d.hooks.ctx, status);
	pthread_mutex_lock(&m->ready_lock);
	m->ready_notified = true;
	pthread_cond_broadcast(&m->ready_cond);
	pthread_mutex_unlock(&m->ready_lock);
}

/* After INIT was answered: the mode, the runtime state, the policy. */
static int finish_startup(struct fusebpf_mount *m)
{
	struct daemon *d = &m->d;
	int ret;

	/* a takeover: set up and published long ago, by the first worker */
	ret = handover_takeover(d) ? 0 : mode_start(d);
	if (!ret && !handover_takeover(d))
		ret = runtime_publish(d);
	if (!ret)
		handover_set_instance(d);
	if (!ret)
		ret = policy_pin(d);
	if (!ret)
		ret = mode_pin(d);
	if (!ret)
		ret = policy_reload_start(d);
	if (!ret)
		ret = hooks_start(d);
	if (!ret)
		ret = backing_watch_start(d);
	m->startup_done = true;
	if (ret) {
		/* ends the loop: the kernel aborts the connection */
		if (m->mounted && m->dev_fuse_fd < 0)
			umount2(d->mountpoint, MNT_DETACH);
		else
			fuse_session_exit(d->se);
		set_ready(m, ret < 0 ? ret : -EIO);
		return -1;
	}
	if (d->opts.debug)
		log_info("%s mounted on %s, mode %s, instance %s", d->backing,
			 d->mountpoint, fusebpf_mode_name(d->mode), d->instance);
	handover_ready(d);
	set_ready(m, 0);
	return 0;
}

/* Runs beside the loop: the loop must be answering INIT meanwhile. */
static void *startup_thread(void *arg)
{
	struct fusebpf_mount *m = arg;
	struct daemon *d = &m->d;
	sigset_t set;
	int ret;

	log_bind(d);
	/* termination signals must wake the loop threads, not this one */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	ret = raw_io_wait_init(d, INIT_TIMEOUT_SEC);
	if (ret) {
		log_error("no INIT exchange with the kernel: %s", strerror(ret));
		m->startup_done = true;
		if (m->mounted && m->dev_fuse_fd < 0)
			umount2(d->mountpoint, MNT_DETACH);
		else
			fuse_session_exit(d->se);
		set_ready(m, -ret);
		return NULL;
	}
	finish_startup(m);
	return NULL;
}

/* Everything up to a mounted session with our I/O hooks; 0 or -errno. */
static int setup(struct fusebpf_mount *m)
{
	struct daemon *d = &m->d;
	char fdpath[32];
	int root_fd = -1, ret;

	if (m->state != STATE_CREATED)
		return -EALREADY;
	m->state = STATE_RUNNING;
	log_bind(d);
	if (m->flags & FUSEBPF_MOUNT_UMASK0)
		umask(0);
	if (m->flags & FUSEBPF_MOUNT_NOFILE)
		maximize_fd_limit();
	pthread_mutex_init(&d->init_lock, NULL);
	pthread_cond_init(&d->init_cond, NULL);
	/* attr 0 is kept as 1 ns: policy_timeout() 0 means "per caller" */
	d->timeout = d->opts.attr_timeout < 0 ? CACHE_TIMEOUT_SEC :
		     d->opts.attr_timeout > 0 ? d->opts.attr_timeout : 1e-9;
	d->entry_timeout = d->opts.entry_timeout < 0 ? CACHE_TIMEOUT_SEC :
			   d->opts.entry_timeout;
	if (open_backing(d, &root_fd))
		goto fail;
	if (m->supervised) {
		ret = handover_open(d, &m->ho_fds);
		if (ret) {
			log_error("worker: %s", strerror(-ret));
			goto fail;
		}
		/* a takeover: the instance name the first worker published */
		handover_set_instance(d);
	}
	ret = handover_takeover(d) ? runtime_adopt(d) : runtime_create(d);
	if (ret) {
		log_error("cannot create runtime state in %s: %s",
			  FUSEBPF_RUN_DIR, strerror(-ret));
		goto fail;
	}
	ret = inode_table_init(d, root_fd);
	if (ret) {
		log_error("backing directory '%s': %s", d->backing,
			  strerror(-ret));
		goto fail;
	}
	root_fd = -1;	/* owned by the root inode */
	ret = fh_table_init(&d->fh, 0);
	if (!ret)
		ret = takeover_restore(d);
	if (ret)
		goto fail;
	/*
	 * The policy maps exist in every instance run by root, so that
	 * `fusebpfctl policy load` can give any of them a policy later;
	 * only an explicit policy makes their absence fatal.
	 */
	if (m->have_policy || geteuid() == 0) {
		int err = policy_init(d, m->have_policy ? &m->compiled : NULL);

		if (err && m->have_policy)
			goto fail;
		if (err)
			log_error("running without policy maps");
	}
	if (hooks_init(d))
		goto fail;
	d->se = session_new(d);
	if (!d->se)
		goto fail;
	if (m->flags & FUSEBPF_MOUNT_SIGNALS) {
		if (fuse_set_signal_handlers(d->se))
			goto fail;
		m->signals = true;
	}
	if (m->dev_fuse_fd >= 0)
		snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", m->dev_fuse_fd);
	if (fuse_session_mount(d->se, m->dev_fuse_fd >= 0 ? fdpath :
			       d->mountpoint))
		goto fail;
	m->mounted = true;
	if (m->supervised && worker_io_init(d, m->dev_fuse_fd))
		goto fail;
	if (fuse_session_custom_io(d->se, &raw_io, fuse_session_fd(d->se))) {
		log_error("cannot hook /dev/fuse I/O");
		goto fail;
	}
	return 0;
fail:
	if (root_fd >= 0)
		close(root_fd);
	return -EIO;
}

/* The loop has ended (or never ran): unmount and free the session. */
static void teardown(struct fusebpf_mount *m)
{
	struct daemon *d = &m->d;

	/* a concurrent fusebpf_mount_stop() is done with the session */
	pthread_mutex_lock(&m->ready_lock);
	if (m->state != STATE_RUNNING) {
		pthread_mutex_unlock(&m->ready_lock);
		return;
	}
	m->state = STATE_ENDED;
	pthread_mutex_unlock(&m->ready_lock);
	if (m->startup_thread)
		pthread_join(m->startup, NULL);
	m->startup_thread = false;
	locks_stop(d);
	backing_watch_stop(d);
	policy_reload_stop(d);
	hooks_stop(d);
	/* unpublish before unmounting: the instance name becomes free */
	runtime_remove(d);
	if (d->se) {
		if (m->mounted)
			fuse_session_unmount(d->se);
		if (m->signals)
			fuse_remove_signal_handlers(d->se);
		fuse_session_destroy(d->se);
		d->se = NULL;
		m->dev_fuse_fd = -1;	/* closed with the session */
	}
	m->mounted = m->signals = false;
	mode_stop(d);
	policy_destroy(d);
	hooks_destroy(d);
	inode_table_destroy(d);
	fh_table_destroy(&d->fh);
	runtime_remove(d);
	if (d->mount_fd >= 0)
		close(d->mount_fd);
	d->mount_fd = -1;
	free(m->buf.mem);
	m->buf.mem = NULL;
	if (!m->startup_done || m->ready == 0)
		set_ready(m, -EIO);
}

FUSEBPF_API int fusebpf_mount_run(struct fusebpf_mount *m)
{
	struct fuse_loop_config *cfg = NULL;
	int ret;

	ret = setup(m);
	if (ret)
		goto out;
	cfg = fuse_loop_cfg_create();
	if (!cfg || pthread_create(&m->startup, NULL, startup_thread, m)) {
		ret = -ENOMEM;
		goto out;
	}
	m->startup_thread = true;
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_max_threads(cfg, MAX_THREADS);
	/* > 0: the signal that ended it (a clean exit); < 0: -errno */
	ret = fuse_session_loop_mt(m->d.se, cfg) < 0 ? -EIO : 0;
	pthread_join(m->startup, NULL);
	m->startup_thread = false;
	if (m->ready < 0)
		ret = m->ready;
	if (m->supervised) {
		/*
		 * Whatever ended the loop, the state stays as it is for the
		 * next worker: no tear-down that would record closes or drop
		 * what the supervisor keeps (nor the time it takes).
		 */
		handover_freeze(&m->d);
		_exit(ret ? 1 : 0);
	}
out:
	if (cfg)
		fuse_loop_cfg_destroy(cfg);
	teardown(m);
	return ret;
}

static void *run_thread(void *arg)
{
	struct fusebpf_mount *m = arg;

	m->result = fusebpf_mount_run(m);
	return NULL;
}

FUSEBPF_API int fusebpf_mount_start(struct fusebpf_mount *m)
{
	sigset_t all, old;
	int ret;

	if (m->state != STATE_CREATED || m->threaded)
		return -EALREADY;
	/* the caller's signals stay the caller's */
	sigfillset(&all);
	if (m->flags & FUSEBPF_MOUNT_SIGNALS) {
		sigdelset(&all, SIGTERM);
		sigdelset(&all, SIGINT);
		sigdelset(&all, SIGHUP);
	}
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&m->thread, NULL, run_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	m->threaded = true;
	pthread_mutex_lock(&m->ready_lock);
	while (!m->ready_notified)
		pthread_cond_wait(&m->ready_cond, &m->ready_lock);
	ret = m->ready < 0 ? m->ready : 0;
	pthread_mutex_unlock(&m->ready_lock);
	return ret;
}

FUSEBPF_API int fusebpf_mount_wait(struct fusebpf_mount *m)
{
	if (!m->threaded)
		return -EINVAL;
	pthread_join(m->thread, NULL);
	m->threaded = false;
	return m->result;
}

FUSEBPF_API int fusebpf_mount_begin(struct fusebpf_mount *m)
{
	int ret = setup(m);

	if (ret) {
		teardown(m);
		return ret;
	}
	m->caller_loop = true;
	return 0;
}

FUSEBPF_API int fusebpf_mount_fd(const struct fusebpf_mount *m)
{
	return m->d.se ? fuse_session_fd(m->d.se) : -1;
}

FUSEBPF_API int fusebpf_mount_process(struct fusebpf_mount *m)
{
	struct daemon *d = &m->d;
	int n;

	if (!m->caller_loop)
		return -EINVAL;
	if (m->state != STATE_RUNNING)
		return 1;
	log_bind(d);
	if (fuse_session_exited(d->se))
		goto ended;
	n = fuse_session_receive_buf(d->se, &m->buf);
	if (n == -EINTR || n == -EAGAIN)
		return 0;
	if (n <= 0)
		goto ended;
	fuse_session_process_buf(d->se, &m->buf);
	if (!m->startup_done && d->init_replied) {
		if (d->init_error) {
			log_error("no INIT exchange with the kernel: %s",
				  strerror(d->init_error));
			m->startup_done = true;
			set_ready(m, -d->init_error);
			goto ended;
		}
		if (finish_startup(m))
			goto ended;
	}
	if (fuse_session_exited(d->se))
		goto ended;
	return 0;
ended:
	teardown(m);
	return m->ready < 0 ? m->ready : 1;
}

FUSEBPF_API int fusebpf_mount_ready(const struct fusebpf_mount *m)
{
	return __atomic_load_n(&m->ready, __ATOMIC_ACQUIRE);
}

FUSEBPF_API void fusebpf_mount_stop(struct fusebpf_mount *m)
{
	struct daemon *d = &m->d;

	/* the session stays while we hold the lock (teardown takes it) */
	pthread_mutex_lock(&m->ready_lock);
	if (m->state == STATE_RUNNING && d->se) {
		fuse_session_exit(d->se);
		/* wakes the loop: the kernel ends the connection once unused */
		if (m->mounted && m->dev_fuse_fd < 0)
			umount2(d->mountpoint, MNT_DETACH);
	}
	pthread_mutex_unlock(&m->ready_lock);
}

FUSEBPF_API void fusebpf_mount_destroy(struct fusebpf_mount *m)
{
	if (!m)
		return;
	if (m->threaded) {
		fusebpf_mount_stop(m);
		fusebpf_mount_wait(m);
	}
	teardown(m);
	if (m->dev_fuse_fd >= 0)
		close(m->dev_fuse_fd);
	if (m->have_policy)
		fusebpf_policy_free(&m->compiled);
	fusebpf_options_free(&m->d.opts);
	free(m->backing_arg);
	free(m->mountpoint_arg);
	pthread_mutex_destroy(&m->ready_lock);
	pthread_cond_destroy(&m->ready_cond);
	free(m);
}

int fusebpf_mount_supervised(struct fusebpf_mount *m,
			     const struct handover_fds *fds)
{
	if (m->state != STATE_CREATED || m->dev_fuse_fd != fds->dev)
		return -EINVAL;
	m->ho_fds = *fds;
	m->supervised = true;
	return 0;
}

/* ---- while mounted ---- */

static int policy_load(struct fusebpf_mount *m, const char *file,
		       const char *text, char *err, size_t errlen)
{
	struct fusebpf_policy p;
	struct fusebpf_policy_maps maps;
	char cerr[512];
	int ret;

	if (fusebpf_mount_ready(m) != 1)
		return fail(err, errlen, -EAGAIN, "the mount is not ready");
	ret = file ? fusebpf_policy_compile_file(file, &p, cerr, sizeof(cerr)) :
	      fusebpf_policy_compile_text("policy", text, &p, cerr,
					  sizeof(cerr));
	if (ret) {
		fusebpf_policy_free(&p);
		return fail(err, errlen, -EINVAL, "%s", cerr);
	}
	ret = fusebpf_policy_maps_open(m->d.instance, &maps);
	if (ret) {
		fusebpf_policy_free(&p);
		return fail(err, errlen, ret,
			    "instance %s has no policy maps: %s",
			    m->d.instance, strerror(-ret));
	}
	ret = fusebpf_policy_apply(&maps, &p, cerr, sizeof(cerr));
	fusebpf_policy_maps_close(&maps);
	fusebpf_policy_free(&p);
	return ret ? fail(err, errlen, -EIO, "%s", cerr) : 0;
}

FUSEBPF_API int fusebpf_mount_policy_load_file(struct fusebpf_mount *m,
					       const char *file, char *err,
					       size_t errlen)
{
	return policy_load(m, file, NULL, err, errlen);
}

FUSEBPF_API int fusebpf_mount_policy_load_text(struct fusebpf_mount *m,
					       const char *text, char *err,
					       size_t errlen)
{
	return policy_load(m, NULL, text, err, errlen);
}

FUSEBPF_API uint32_t fusebpf_mount_mode(const struct fusebpf_mount *m)
{
	return m->d.stats ? __atomic_load_n(&m->d.stats->mode, __ATOMIC_RELAXED) :
	       m->d.mode;
}

FUSEBPF_API const char *fusebpf_mode_str(uint32_t mode)
{
	return fusebpf_mode_name(mode);
}

FUSEBPF_API const char *fusebpf_op_name(uint32_t opcode)
{
	const char *name = fusebpf_opcode_name(opcode);

	return name ? name : "?";
}

FUSEBPF_API const char *fusebpf_mount_instance(const struct fusebpf_mount *m)
{
	return fusebpf_mount_ready(m) == 1 ? m->d.instance : "";
}

FUSEBPF_API int fusebpf_mount_stats(const struct fusebpf_mount *m,
				    struct fusebpf_mount_stats *st)
{
	const struct fusebpf_stats *s = m->d.stats;
	struct fusebpf_mount_stats out = { .size = sizeof(out) };

	if (st->size < sizeof(uint32_t) || st->size > sizeof(out))
		return -EINVAL;
	if (!s)
		return -ENOTCONN;
	out.mode = __atomic_load_n(&s->mode, __ATOMIC_RELAXED);
	for (int i = 0; i < FUSEBPF_STAT_OPCODES; i++) {
		out.requests[i] = fusebpf_stats_load(&s->requests[i]);
		out.denied[i] = fusebpf_stats_load(&s->denied[i]);
	}
	out.passthrough_opens = fusebpf_stats_load(&s->passthrough_opens);
	out.passthrough_fallbacks = fusebpf_stats_load(&s->passthrough_fallbacks);
	out.audit_events = fusebpf_stats_load(&s->audit_events);
	hooks_stats(&m->d, &out.events, &out.events_lost, &out.decisions,
		    &out.decisions_denied);
	out.size = st->size;
	memcpy(st, &out, st->size);
	return 0;
}
