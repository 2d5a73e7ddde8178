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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchlib.h"

#define MAX_COUNT	10000000L
#define MAX_SMALL_SIZE	(1L << 20)

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

static long phase_create(const char *dir, long count)
{
	char path[PATH_MAX];

	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 'f', i);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);

		if (fd < 0)
			bench_die("create", path);
		if (close(fd))
			bench_die("close", path);
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
			bench_die("stat", path);
		if (!S_ISREG(st.st_mode)) {
			errno = EINVAL;
			bench_die("stat (not a regular file)", path);
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
			bench_die("open", path);
		if (close(fd))
			bench_die("close", path);
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
			bench_die("opendir", dir);
		errno = 0;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				entries++;
		}
		if (errno)
			bench_die("readdir", dir);
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
			bench_die("rename", from);
	}
	return count;
}

static long phase_unlink(const char *dir, long count)
{
	char path[PATH_MAX];

	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 'r', i);
		if (unlink(path))
			bench_die("unlink", path);
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
			bench_die("write", path);
		done += n;
	}
}

static long phase_smallwrite(const char *dir, long count, long size)
{
	unsigned char *buf = malloc(size);
	char path[PATH_MAX];

	if (!buf)
		bench_die("malloc", "buffer");
	for (long i = 0; i < count; i++) {
		name_of(path, sizeof(path), dir, 's', i);
		for (long off = 0; off < size; off++)
			buf[off] = pattern_byte(i, off);
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

		if (fd < 0)
			bench_die("create", path);
		write_all(fd, buf, size, path);
		if (close(fd))
			bench_die("close", path);
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
		bench_die("malloc", "buffer");
	for (long i = 0; i < count; i++) {
		long got = 0;
		ssize_t n;

		name_of(path, sizeof(path), dir, 's', i);
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			bench_die("open", path);
		while ((n = read(fd, buf + got, size + 1 - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				bench_die("read", path);
			got += n;
			if (got > size)
				break;
		}
		if (close(fd))
			bench_die("close", path);
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
	const char *phase, *dir;
	double start, secs;

	bench_set_name("metabench", argc > 1 ? argv[1] : "");
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: metabench create|stat|open|readdir|rename|unlink|"
			"smallwrite|smallread DIR COUNT [PASSES|SIZE]\n");
		return 2;
	}
	phase = argv[1];
	dir = argv[2];
	count = bench_parse_int(argv[3], "count", 1, MAX_COUNT, false);

	if (!strcmp(phase, "readdir"))
		arg = argc == 5 ? bench_parse_int(argv[4], "passes", 1, 1000, false) : 5;
	else if (!strcmp(phase, "smallwrite") || !strcmp(phase, "smallread"))
		arg = argc == 5 ? bench_parse_int(argv[4], "size", 1, MAX_SMALL_SIZE,
						  false) : 4096;
	else if (argc == 5)
		bench_usage_error("phase %s takes no fourth argument", phase);

	start = bench_now();
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
	else
		bench_usage_error("unknown phase '%s'", phase);
	secs = bench_elapsed(start);
	printf("%s %ld %.6f %.1f\n", phase, ops, secs, ops / secs);
	return 0;
}
