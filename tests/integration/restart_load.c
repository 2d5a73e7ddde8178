// SPDX-License-Identifier: GPL-2.0
/*
 * restart_load - applications that must not notice a daemon restart.
 *
 *   restart_load DIR --seconds N
 *
 * Runs for N seconds, in separate processes, on DIR (a mount whose
 * worker tests/integration/restart.sh kills meanwhile):
 *   appender: writes numbered lines to DIR/log through O_APPEND (reopened
 *             every 50 lines); afterwards the log must hold every line
 *             exactly once, in order;
 *   readers:  two processes, each with one fd opened at the start on a
 *             1 MiB file of known bytes, pread + fstat at random offsets;
 *   churn:    create/write/close, mkdir, rename, link, symlink, unlink,
 *             rmdir in DIR/churn: every call must succeed exactly as on
 *             a local filesystem (no EEXIST/ENOENT from a replay);
 *   locks:    a POSIX write lock (F_SETLK) and an exclusive flock held on
 *             DIR/lockf the whole time; another process checks now and
 *             then that both still conflict (F_GETLK, LOCK_NB).
 * Any failed call (ENOTCONN, EIO, ...) fails the check it belongs to.
 * Prints the longest time any single call took (the stall an application
 * saw) and "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE	(1 << 20)
#define LINE_LEN	9	/* "%08u\n" */

struct shared {
	double stall_ms[8];	/* per process */
	unsigned long ops[8];
	unsigned int lines;	/* appender */
	char error[8][256];
};

static struct shared *sh;
static const char *dir;
static double deadline;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double t0;
static int me;

/* times one call (between tick() and tock()) */
static void tick(void)
{
	t0 = now_ms();
}

static void tock(void)
{
	double d = now_ms() - t0;

	if (d > sh->stall_ms[me])
		sh->stall_ms[me] = d;
	sh->ops[me]++;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->error[me], sizeof(sh->error[me]), fmt, ap);
	va_end(ap);
	_exit(1);
}

static const char *path(const char *fmt, ...)
{
	static char buf[4][4096];
	static int i;
	char rel[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, rel);
	return buf[i];
}

static void appender(void)
{
	char line[LINE_LEN + 1];
	unsigned int n = 0;
	int fd = -1;

	while (now_ms() < deadline) {
		if (n % 50 == 0) {
			if (fd >= 0 && close(fd))
				fail("close log: %s", strerror(errno));
			tick();
			fd = open(path("log"), O_WRONLY | O_APPEND | O_CREAT, 0644);
			tock();
			if (fd < 0)
				fail("open log: %s", strerror(errno));
		}
		snprintf(line, sizeof(line), "%08u\n", n);
		tick();
		if (write(fd, line, LINE_LEN) != LINE_LEN)
			fail("append line %u: %s", n, strerror(errno));
		tock();
		sh->lines = ++n;
	}
	close(fd);
	_exit(0);
}

static unsigned char pattern(size_t off)
{
	return (unsigned char)(off * 7 + off / 4093);
}

static void reader(int which)
{
	unsigned char buf[4096];
	unsigned int seed = which + 1;
	struct stat st;
	int fd = open(path("read%d", which), O_RDONLY);

	if (fd < 0)
		fail("open read%d: %s", which, strerror(errno));
	while (now_ms() < deadline) {
		off_t off = rand_r(&seed) % (READ_SIZE - sizeof(buf));

		tick();
		if (pread(fd, buf, sizeof(buf), off) != sizeof(buf))
			fail("pread read%d at %lld: %s", which, (long long)off,
			     strerror(errno));
		tock();
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != pattern(off + i))
				fail("read%d: byte %lld differs", which,
				     (long long)(off + i));
		tick();
		if (fstat(fd, &st) || st.st_size != READ_SIZE)
			fail("fstat read%d: %s", which, strerror(errno));
		tock();
		usleep(200);
	}
	close(fd);
	_exit(0);
}

#define DO(call, what, ...) do { \
	tick(); \
	if ((call) < 0) \
		fail(what ": %s", ##__VA_ARGS__, strerror(errno)); \
	tock(); \
} while (0)

static void churn(void)
{
	unsigned int i = 0;
	int fd;

	DO(mkdir(path("churn"), 0755), "mkdir churn");
	while (now_ms() < deadline) {
		tick();
		fd = open(path("churn/f%u", i), O_WRONLY | O_CREAT | O_EXCL,
			  0644);
		if (fd < 0)
			fail("create churn/f%u: %s", i, strerror(errno));
		tock();
		DO(write(fd, "data", 4), "write churn/f%u", i);
		DO(close(fd), "close churn/f%u", i);
		DO(mkdir(path("churn/d%u", i), 0755), "mkdir churn/d%u", i);
		DO(rename(path("churn/f%u", i), path("churn/d%u/g", i)),
		   "rename churn/f%u", i);
		DO(link(path("churn/d%u/g", i), path("churn/h%u", i)),
		   "link churn/h%u", i);
		DO(symlink("target", path("churn/s%u", i)), "symlink churn/s%u", i);
		DO(unlink(path("churn/s%u", i)), "unlink churn/s%u", i);
		DO(unlink(path("churn/h%u", i)), "unlink churn/h%u", i);
		DO(unlink(path("churn/d%u/g", i)), "unlink churn/d%u/g", i);
		DO(rmdir(path("churn/d%u", i)), "rmdir churn/d%u", i);
		i++;
	}
	_exit(0);
}

/* does another process see both locks? */
static bool locks_held(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int fd = open(path("lockf"), O_RDWR);

		if (fd < 0 || fcntl(fd, F_GETLK, &fl) || fl.l_type == F_UNLCK)
			_exit(1);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			_exit(2);
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void locker(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path("lockf"), O_RDWR | O_CREAT, 0644);
	unsigned int checks = 0;

	if (fd < 0)
		fail("open lockf: %s", strerror(errno));
	DO(fcntl(fd, F_SETLK, &fl), "F_SETLK lockf");
	DO(flock(fd, LOCK_EX | LOCK_NB), "flock lockf");
	while (now_ms() < deadline) {
		if (!locks_held())
			fail("after %u checks: the locks on lockf are not held any more",
			     checks);
		checks++;
		usleep(100 * 1000);
	}
	close(fd);
	_exit(0);
}

static int check_log(unsigned int lines, char *why, size_t len)
{
	char *buf = malloc((size_t)lines * LINE_LEN + 1);
	int fd = open(path("log"), O_RDONLY);
	ssize_t n = 0, r;

	if (!buf || fd < 0) {
		snprintf(why, len, "open log: %s", strerror(errno));
		return -1;
	}
	while ((r = read(fd, buf + n, (size_t)lines * LINE_LEN + 1 - n)) > 0)
		n += r;
	close(fd);
	if (n != (ssize_t)lines * LINE_LEN) {
		snprintf(why, len, "log has %zd bytes, %u lines were appended (%u bytes)",
			 n, lines, lines * LINE_LEN);
		free(buf);
		return -1;
	}
	for (unsigned int i = 0; i < lines; i++) {
		char want[16];

		snprintf(want, sizeof(want), "%08u\n", i);
		if (memcmp(buf + (size_t)i * LINE_LEN, want, LINE_LEN)) {
			snprintf(why, len, "line %u is '%.8s'", i,
				 buf + (size_t)i * LINE_LEN);
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"appender", "reader 0", "reader 1", "churn", "locks",
	};
	void (*const roles[])(void) = { appender, NULL, NULL, churn, locker };
	int nroles = 5, passed = 0, failed = 0, status;
	double seconds = 10, stall = 0;
	pid_t pids[8];
	char why[256];

	if (argc < 2) {
		fprintf(stderr, "usage: restart_load DIR [--seconds N]\n");
		return 2;
	}
	dir = argv[1];
	if (argc >= 4 && !strcmp(argv[2], "--seconds"))
		seconds = atof(argv[3]);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	for (int w = 0; w < 2; w++) {
		unsigned char *data = malloc(READ_SIZE);
		int fd = open(path("read%d", w), O_WRONLY | O_CREAT | O_TRUNC,
			      0644);

		for (size_t i = 0; data && i < READ_SIZE; i++)
			data[i] = pattern(i);
		if (!data || fd < 0 || write(fd, data, READ_SIZE) != READ_SIZE ||
		    close(fd)) {
			printf("fatal: cannot write %s\n", path("read%d", w));
			return 1;
		}
		free(data);
	}
	deadline = now_ms() + seconds * 1e3;
	for (int i = 0; i < nroles; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			me = i;
			if (roles[i])
				roles[i]();
			reader(i - 1);
		}
	}
	for (int i = 0; i < nroles; i++) {
		bool ok = waitpid(pids[i], &status, 0) == pids[i] &&
			  WIFEXITED(status) && WEXITSTATUS(status) == 0;

		if (ok) {
			printf("ok - %s: %lu calls, longest %.1f ms\n", names[i],
			       sh->ops[i], sh->stall_ms[i]);
			passed++;
		} else {
			printf("not ok - %s: %s\n", names[i],
			       sh->error[i][0] ? sh->error[i] : "died");
			failed++;
		}
		if (sh->stall_ms[i] > stall)
			stall = sh->stall_ms[i];
	}
	if (check_log(sh->lines, why, sizeof(why))) {
		printf("not ok - O_APPEND log: %s\n", why);
		failed++;
	} else {
		printf("ok - O_APPEND log: %u lines, each exactly once, in order\n",
		       sh->lines);
		passed++;
	}
	printf("longest single call: %.1f ms\n", stall);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
