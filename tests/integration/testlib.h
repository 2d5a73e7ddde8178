/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testlib.h - header-only helpers shared by the integration suites.
 *
 * Output is TAP-like: one line per check, `ok N - name`,
 * `not ok N - name: got X expected Y` or `ok N - name # SKIP reason`,
 * and a closing line `N passed, N failed` that tests/run-host.sh sums.
 * A skip is neither a pass nor a failure.
 *
 * Also: path helpers, running a check as another uid (fork + setgroups +
 * setresgid + setresuid), a seeded PRNG, drop_caches, and reading the
 * daemon's per-opcode request counters through the userspace/common
 * instance API (tests link with userspace/common objects).
 */
#ifndef FUSEBPF_TESTLIB_H
#define FUSEBPF_TESTLIB_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fusebpf/instance.h"
#include "fusebpf/stats.h"

static int tl_n;
static int tl_passed;
static int tl_failed;
static int tl_skipped;

static inline const char *tl_errname(int e)
{
	const char *s;

	if (e == 0)
		return "success";
	s = strerrorname_np(e);
	return s ? s : "E?";
}

static inline void tl_ok(const char *name)
{
	tl_passed++;
	printf("ok %d - %s\n", ++tl_n, name);
	fflush(stdout);
}

static inline void __attribute__((format(printf, 2, 3)))
tl_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	tl_failed++;
	printf("not ok %d - %s: ", ++tl_n, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void __attribute__((format(printf, 2, 3)))
tl_skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	tl_skipped++;
	printf("ok %d - %s # SKIP ", ++tl_n, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Generic boolean check with a formatted explanation on failure. */
#define tl_check(name, cond, ...)				\
	do {							\
		if (cond)					\
			tl_ok(name);				\
		else						\
			tl_fail(name, __VA_ARGS__);		\
	} while (0)

/* got_errno: 0 for success; expected: 0 for success or an errno. */
static inline bool tl_check_errno(const char *name, int got_errno, int expected)
{
	if (got_errno == expected) {
		tl_ok(name);
		return true;
	}
	tl_fail(name, "got %s expected %s", tl_errname(got_errno),
		tl_errname(expected));
	return false;
}

/* Either of two errnos is acceptable (POSIX leaves a choice). */
static inline bool tl_check_errno2(const char *name, int got_errno, int exp1,
				   int exp2)
{
	if (got_errno == exp1 || got_errno == exp2) {
		tl_ok(name);
		return true;
	}
	tl_fail(name, "got %s expected %s or %s", tl_errname(got_errno),
		tl_errname(exp1), tl_errname(exp2));
	return false;
}

/* Evaluates a syscall expression and yields 0 or the errno it failed with. */
#define TL_ERR(expr) ({ errno = 0; (long)(expr) < 0 ? errno : 0; })

#define tl_check_call(name, expr, expected) \
	tl_check_errno(name, TL_ERR(expr), expected)

/* stat(2) of @path: 0 or its errno */
static inline int tl_stat_err(const char *path)
{
	struct stat st;

	return stat(path, &st) ? errno : 0;
}

/* open(2) of @path with @flags (mode 0644 if it creates), closed again: 0 or its errno */
static inline int tl_open_err(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static inline int tl_done(void)
{
	if (tl_skipped)
		printf("# %d skipped\n", tl_skipped);
	printf("%d passed, %d failed\n", tl_passed, tl_failed);
	fflush(stdout);
	return tl_failed ? 1 : 0;
}

static inline void __attribute__((noreturn, format(printf, 1, 2)))
tl_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	printf("%d passed, %d failed\n", tl_passed, tl_failed + 1);
	exit(2);
}

/* ---- paths and files ---- */

/* Returns a static ring of buffers so several paths can be live at once. */
static inline const char *__attribute__((format(printf, 1, 2)))
tl_path(const char *fmt, ...)
{
	static char ring[16][PATH_MAX];
	static unsigned int next;
	char *buf = ring[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

static inline int tl_write_file(const char *path, const void *buf, size_t len,
				mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, buf, len);
	if (n != (ssize_t)len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		return e;
	}
	return close(fd) ? errno : 0;
}

/* Reads at most cap bytes; returns length or -errno. */
static inline ssize_t tl_read_file(const char *path, void *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (got < cap && (n = read(fd, (char *)buf + got, cap - got)) > 0)
		got += n;
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return got;
}

static inline bool tl_file_equals(const char *path, const char *content)
{
	char buf[4096];
	ssize_t n = tl_read_file(path, buf, sizeof(buf));

	return n == (ssize_t)strlen(content) && !memcmp(buf, content, n);
}

static inline void tl_rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];

	/* Only ever called on directories this test created itself. */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
}

/* Fills buf deterministically from a seed (distinct content per seed). */
static inline void tl_fill(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

/* ---- PRNG (xorshift64*), reproducible from a printed seed ---- */

struct tl_rng {
	uint64_t s;
};

static inline void tl_rng_seed(struct tl_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x2545F4914F6CDD1Dull;
}

static inline uint64_t tl_rng_next(struct tl_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t tl_rng_below(struct tl_rng *r, uint64_t n)
{
	return n ? tl_rng_next(r) % n : 0;
}

/* ---- running code as another user ---- */

struct tl_user {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[4];
};

static const struct tl_user TL_USER_A = { 1000, 1000, 0, { 0 } };
static const struct tl_user TL_USER_B = { 2000, 2000, 0, { 0 } };

/*
 * Runs fn(arg) in a child with the user's credentials; fn returns an errno
 * (0 for success). Returns that errno, or -1 if the child could not switch
 * credentials or died.
 */
static inline int tl_as_user(const struct tl_user *u, int (*fn)(void *),
			     void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(u->ngroups, u->groups) ||
		    setresgid(u->gid, u->gid, u->gid) ||
		    setresuid(u->uid, u->uid, u->uid))
			_exit(255);
		umask(022);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}

/* ---- kernel caches ---- */

static inline int tl_drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, "3\n", 2) != 2) {
		int e = errno;

		close(fd);
		return e;
	}
	return close(fd) ? errno : 0;
}

/* ---- daemon request counters ---- */

/*
 * A snapshot of the requests a fusebpfd instance received, per FUSE opcode
 * (FUSE_READ, FUSE_WRITE... from <linux/fuse.h>), read through the
 * userspace/common instance API (/run/fusebpf/<instance>/stats).
 */
struct tl_counters {
	enum fusebpf_mode mode;
	pid_t pid;
	uint64_t req[FUSEBPF_STATS_OPCODES];
	uint64_t backing_opens, backing_closes;
	uint64_t passthrough_opens, passthrough_fallbacks;
};

/* Returns 0, or a positive errno (ENOENT: no fusebpfd instance there). */
static inline int tl_counters_read(const char *mnt, struct tl_counters *c)
{
	struct fusebpf_instance inst;
	int err = fusebpf_instance_open(mnt, &inst);

	if (err)
		return -err;
	memset(c, 0, sizeof(*c));
	c->mode = inst.mode;
	c->pid = inst.pid;
	for (unsigned int i = 0; i < FUSEBPF_STATS_OPCODES &&
	     i < inst.stats->nr_opcodes; i++)
		c->req[i] = fusebpf_stats_load(&inst.stats->requests[i]);
	c->backing_opens = fusebpf_stats_load(&inst.stats->backing_opens);
	c->backing_closes = fusebpf_stats_load(&inst.stats->backing_closes);
	c->passthrough_opens = fusebpf_stats_load(&inst.stats->passthrough_opens);
	c->passthrough_fallbacks =
		fusebpf_stats_load(&inst.stats->passthrough_fallbacks);
	fusebpf_instance_close(&inst);
	return 0;
}

/* Requests of `opcode` between two snapshots. */
static inline uint64_t tl_counters_delta(const struct tl_counters *before,
					 const struct tl_counters *after,
					 unsigned int opcode)
{
	return opcode < FUSEBPF_STATS_OPCODES ?
	       after->req[opcode] - before->req[opcode] : 0;
}

/* Name of an opcode for messages ("READ"), or its number. */
static inline const char *tl_opcode_name(unsigned int opcode)
{
	static char buf[16];
	const char *n = fusebpf_opcode_name(opcode);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "op%u", opcode);
	return buf;
}

#endif /* FUSEBPF_TESTLIB_H */
