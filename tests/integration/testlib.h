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
 * daemon's per-opcode request counters (through `fusebpfctl stats --json`,
 * so the suites do not depend on the in-memory layout of the stats file).
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
 * Counters of the requests the daemon received, by FUSE opcode name
 * ("READ", "WRITE", "OPEN", ...), as printed by `fusebpfctl stats --json`.
 * Names are matched case-insensitively so "read" and "READ" both work.
 */
#define TL_STATS_MAX 128

struct tl_stats {
	int n;
	char name[TL_STATS_MAX][32];
	uint64_t value[TL_STATS_MAX];
};

/* Path of fusebpfctl: $FUSEBPFCTL, else build/fusebpfctl next to the test. */
static inline const char *tl_fusebpfctl(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("FUSEBPFCTL");
	char self[PATH_MAX];
	ssize_t n;
	char *p;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		/* build/tests/integration/NAME -> build/fusebpfctl */
		for (int up = 0; up < 3 && (p = strrchr(self, '/')); up++)
			*p = 0;
		snprintf(path, sizeof(path), "%s/fusebpfctl", self);
		if (access(path, X_OK) == 0)
			return path;
	}
	return "build/fusebpfctl";
}

/*
 * Parses every `"KEY": NUMBER` pair of the JSON text, whatever the nesting,
 * into s. Keys holding non-numbers are ignored.
 */
static inline void tl_stats_parse(const char *json, struct tl_stats *s)
{
	const char *p = json;

	s->n = 0;
	while ((p = strchr(p, '"')) != NULL) {
		const char *start = ++p, *end = strchr(p, '"');
		const char *v;
		char *vend;
		unsigned long long num;

		if (!end)
			break;
		v = end + 1;
		while (*v == ' ' || *v == '\t' || *v == '\n')
			v++;
		p = end + 1;
		if (*v != ':')
			continue;
		v++;
		while (*v == ' ' || *v == '\t' || *v == '\n')
			v++;
		if (*v < '0' || *v > '9')
			continue;
		num = strtoull(v, &vend, 10);
		if (s->n < TL_STATS_MAX && (size_t)(end - start) < 32) {
			memcpy(s->name[s->n], start, end - start);
			s->name[s->n][end - start] = 0;
			s->value[s->n] = num;
			s->n++;
		}
		p = vend;
	}
}

/* Returns 0 or an errno-like code (ENOENT: fusebpfctl failed). */
static inline int tl_stats_read(const char *mnt, struct tl_stats *s)
{
	char cmd[PATH_MAX * 2 + 64];
	static char out[65536];
	size_t len = 0, n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' stats '%s' --json 2>/dev/null",
		 tl_fusebpfctl(), mnt);
	f = popen(cmd, "r");
	if (!f)
		return errno;
	while (len < sizeof(out) - 1 &&
	       (n = fread(out + len, 1, sizeof(out) - 1 - len, f)) > 0)
		len += n;
	out[len] = 0;
	if (pclose(f) != 0 || len == 0)
		return ENOENT;
	tl_stats_parse(out, s);
	return s->n ? 0 : EPROTO;
}

/* Value of counter `name`; *found tells whether it exists at all. */
static inline uint64_t tl_stats_get(const struct tl_stats *s, const char *name,
				    bool *found)
{
	for (int i = 0; i < s->n; i++) {
		if (!strcasecmp(s->name[i], name)) {
			if (found)
				*found = true;
			return s->value[i];
		}
	}
	if (found)
		*found = false;
	return 0;
}

/* Increase of counter `name` between two snapshots. */
static inline uint64_t tl_stats_delta(const struct tl_stats *before,
				      const struct tl_stats *after,
				      const char *name)
{
	return tl_stats_get(after, name, NULL) - tl_stats_get(before, name, NULL);
}

#endif /* FUSEBPF_TESTLIB_H */
