// SPDX-License-Identifier: GPL-2.0
/*
 * metabench: metadata and small-file micro-benchmarks for one directory.
 *
 *   metabench PHASE DIR COUNT [ARG]
 *
 * Each run performs one phase over COUNT files and prints one line
 *   PHASE OPS SECONDS OPS_PER_SEC
 * so the harness can alternate configurations between phases and take the
 * daemon's CPU time per phase. Phases, in the order the harness runs them:
 *   create     open(O_CREAT|O_EXCL)+close of f000000..    (DIR must not hold them)
 *   stat       stat() of every f*
 *   open       open(O_RDONLY)+close of every f*
 *   readdir    list DIR ARG times (default 5); ops = entries returned
 *   rename     rename f* -> r*
 *   unlink     unlink r*
 *   smallwrite create s* with ARG bytes (default 4096) of a known pattern
 *   smallread  open+read whole+close every s*, checking size and content
 * Only the loop is timed: process start-up (expensive over 9p in the VM) is
 * not. Any failed operation is a one-line error and exit status 1, so a
 * broken filesystem cannot produce a number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT	10000000L
#define MAX_SMALL_SIZE	(1L << 20)

static const char *phase;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "metabench %s: %s %s: %s\n", phase, what, path,
		strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void name_of(char *buf, size_t len, const char *dir, char prefix, long i)
{
	snprintf(buf, len, "%s/%c%06ld", dir, prefix, i);
}

/* Content of small file i: differs per file and per offset, so a read that
 * returns another file's data or the wrong offset is caught. */
static unsigned char pattern_byte(long file, long off)
{
	return (unsigned char)(file * 131 + off * 7 + (off >> 8));
}

static long parse_long(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "metabench: bad %s '%s' (want %ld..%ld)\n",
			what, s, min, max);
		exit(2);
	}
	return v;
}

static long phase_create(const char *dir, long count)
{
	char path[PATH_MAX];

	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 'f', i);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);

		if (fd < 0)
			die("create", path);
		if (close(fd))
			die("close", path);
	}
	return count;
}

static long phase_stat(const char *dir, long count)
{
	char path[PATH_MAX];
	struct stat st;

	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 'f', i);
		if (stat(path, &st))
			die("stat", path);
		if (!S_ISREG(st.st_mode)) {
			errno = EINVAL;
			die("stat (not a regular file)", path);
		}
	}
	return count;
}

static long phase_open(const char *dir, long count)
{
	char path[PATH_MAX];

	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 'f', i);
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			die("open", path);
		if (close(fd))
			die("close", path);
	}
	return count;
}

static long phase_readdir(const char *dir, long count, long passes)
{
	long ops = 0;

	for (long p = 0; p < passes; p++) {
		DIR *d = opendir(dir);
		struct dirent *de;
		long entries = 0;

		if (!d)
			die("opendir", dir);
		errno = 0;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				entries++;
		}
		if (errno)
			die("readdir", dir);
		closedir(d);
		if (entries != count) {
			fprintf(stderr, "metabench readdir: %s has %ld entries, expected %ld\n",
				dir, entries, count);
			exit(1);
		}
		ops += entries;
	}
	return ops;
}

static long phase_rename(const char *dir, long count)
{
	char from[PATH_MAX], to[PATH_MAX];

	for (long i = 0; i < count; i++) {
		name_of(from, sizeof(from), dir, 'f', i);
		name_of(to, sizeof(to), dir, 'r', i);
		if (rename(from, to))
			die("rename", from);
	}
	return count;
}

static long phase_unlink(const char *dir, long count)
{
	char path[PATH_MAX];

	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 'r', i);
		if (unlink(path))
			die("unlink", path);
	}
	return count;
}

static void write_all(int fd, const unsigned char *buf, long size, const char *path)
{
	long done = 0;

	while (done < size) {
		ssize_t n = write(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write", path);
		done += n;
	}
}

static long phase_smallwrite(const char *dir, long count, long size)
{
	unsigned char *buf = malloc(size);
	char path[PATH_MAX];

	if (!buf)
		die("malloc", "buffer");
	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 's', i);
		for (long off = 0; off < size; off++)
			buf[off] = pattern_byte(i, off);
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

		if (fd < 0)
			die("create", path);
		write_all(fd, buf, size, path);
		if (close(fd))
			die("close", path);
	}
	free(buf);
	return count;
}

static long phase_smallread(const char *dir, long count, long size)
{
	/* One spare byte so a file longer than expected is noticed. */
	unsigned char *buf = malloc(size + 1);
	char path[PATH_MAX];

	if (!buf)
		die("malloc", "buffer");
	for (long i = 0; i < count; i++) {
		long got = 0;
		ssize_t n;

		name_of(path, sizeof(path), dir, 's', i);
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			die("open", path);
		while ((n = read(fd, buf + got, size + 1 - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("read", path);
			got += n;
			if (got > size)
				break;
		}
		if (close(fd))
			die("close", path);
		if (got != size) {
			fprintf(stderr, "metabench smallread: %s: read %ld bytes, expected %ld\n",
				path, got, size);
			exit(1);
		}
		for (long off = 0; off < size; off++) {
			if (buf[off] != pattern_byte(i, off)) {
				fprintf(stderr, "metabench smallread: %s: wrong byte at offset %ld\n",
					path, off);
				exit(1);
			}
		}
	}
	free(buf);
	return count;
}

int main(int argc, char **argv)
{
	long count, arg = -1, ops;
	const char *dir;
	double start, secs;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: metabench create|stat|open|readdir|rename|unlink|"
			"smallwrite|smallread DIR COUNT [PASSES|SIZE]\n");
		return 2;
	}
	phase = argv[1];
	dir = argv[2];
	count = parse_long(argv[3], "count", 1, MAX_COUNT);

	if (!strcmp(phase, "readdir"))
		arg = argc == 5 ? parse_long(argv[4], "passes", 1, 1000) : 5;
	else if (!strcmp(phase, "smallwrite") || !strcmp(phase, "smallread"))
		arg = argc == 5 ? parse_long(argv[4], "size", 1, MAX_SMALL_SIZE) : 4096;
	else if (argc == 5) {
		fprintf(stderr, "metabench: phase %s takes no fourth argument\n", phase);
		return 2;
	}

	start = now();
	if (!strcmp(phase, "create"))
		ops = phase_create(dir, count);
	else if (!strcmp(phase, "stat"))
		ops = phase_stat(dir, count);
	else if (!strcmp(phase, "open"))
		ops = phase_open(dir, count);
	else if (!strcmp(phase, "readdir"))
		ops = phase_readdir(dir, count, arg);
	else if (!strcmp(phase, "rename"))
		ops = phase_rename(dir, count);
	else if (!strcmp(phase, "unlink"))
		ops = phase_unlink(dir, count);
	else if (!strcmp(phase, "smallwrite"))
		ops = phase_smallwrite(dir, count, arg);
	else if (!strcmp(phase, "smallread"))
		ops = phase_smallread(dir, count, arg);
	else {
		fprintf(stderr, "metabench: unknown phase '%s'\n", phase);
		return 2;
	}
	secs = now() - start;
	if (secs <= 0)
		secs = 1e-9;
	printf("%s %ld %.6f %.1f\n", phase, ops, secs, ops / secs);
	return 0;
}
