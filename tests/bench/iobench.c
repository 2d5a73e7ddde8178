// SPDX-License-Identifier: GPL-2.0
/*
 * iobench: the harness's fallback for fio, where fio cannot run (Debian's
 * fio needs SysV shared memory, which the test kernel may not have).
 * Same access patterns as the harness's fio jobs: psync, one thread.
 *
 *   iobench write|read FILE SIZE BS [direct]         -> MiB/s
 *   iobench randread|randwrite FILE SIZE BS TIME [direct]   -> IOPS
 *                                             (TIME: 5, 5s, 300ms)
 *
 * write creates/truncates FILE and writes SIZE bytes; read reads SIZE
 * bytes; the random modes run for SECONDS over the first SIZE bytes of an
 * existing FILE at BS-aligned offsets from a fixed-seed generator.
 * Any failed or short I/O is a one-line error and exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *mode;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "iobench %s: %s %s: %s\n", mode, what, path,
		strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long parse_size(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!errno && end != s) {
		switch (*end) {
		case 'k': case 'K': v <<= 10; end++; break;
		case 'm': case 'M': v <<= 20; end++; break;
		case 'g': case 'G': v <<= 30; end++; break;
		}
	}
	if (errno || end == s || *end || v <= 0) {
		fprintf(stderr, "iobench: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* "5", "5s" or "300ms" (the harness passes fio's syntax through). */
static double parse_time(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!errno && end != s) {
		if (!strcmp(end, "ms")) {
			v /= 1000;
			end += 2;
		} else if (!strcmp(end, "s")) {
			end++;
		}
	}
	if (errno || end == s || *end || v <= 0) {
		fprintf(stderr, "iobench: bad time '%s'\n", s);
		exit(2);
	}
	return v;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One full transfer of len bytes at off; short transfers are errors. */
static void io_at(int fd, int writing, char *buf, size_t len, off_t off,
		  const char *path)
{
	ssize_t n;

	do {
		n = writing ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die(writing ? "write" : "read", path);
	if ((size_t)n != len) {
		errno = EIO;
		die(writing ? "short write" : "short read", path);
	}
}

int main(int argc, char **argv)
{
	int random_mode, writing, direct = 0, fd, flags;
	long long size, bs;
	double seconds = 0;
	const char *path;
	char *buf;
	double start, secs;

	if (argc < 5) {
		fprintf(stderr, "usage: iobench write|read FILE SIZE BS [direct]\n"
			"       iobench randread|randwrite FILE SIZE BS SECONDS [direct]\n");
		return 2;
	}
	mode = argv[1];
	path = argv[2];
	size = parse_size(argv[3], "size");
	bs = parse_size(argv[4], "block size");
	random_mode = !strcmp(mode, "randread") || !strcmp(mode, "randwrite");
	writing = !strcmp(mode, "write") || !strcmp(mode, "randwrite");
	if (!random_mode && strcmp(mode, "read") && strcmp(mode, "write")) {
		fprintf(stderr, "iobench: unknown mode '%s'\n", mode);
		return 2;
	}
	if (random_mode) {
		if (argc < 6) {
			fprintf(stderr, "iobench: %s needs SECONDS\n", mode);
			return 2;
		}
		seconds = parse_time(argv[5]);
	}
	if (argc > 5 + random_mode) {
		if (strcmp(argv[5 + random_mode], "direct") || argc > 6 + random_mode) {
			fprintf(stderr, "iobench: unexpected argument '%s'\n",
				argv[5 + random_mode]);
			return 2;
		}
		direct = 1;
	}
	if (size < bs) {
		fprintf(stderr, "iobench: size smaller than the block size\n");
		return 2;
	}

	/* 4 KiB alignment satisfies O_DIRECT on every filesystem used here. */
	if (posix_memalign((void **)&buf, 4096, bs))
		die("allocate", "buffer");
	for (long long i = 0; i < bs; i++)
		buf[i] = (char)(i * 7 + (i >> 12));

	flags = (writing ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0);
	if (!strcmp(mode, "write"))
		flags |= O_CREAT | O_TRUNC;
	fd = open(path, flags, 0644);
	if (fd < 0)
		die("open", path);

	start = now();
	if (!random_mode) {
		for (long long off = 0; off + bs <= size; off += bs)
			io_at(fd, writing, buf, bs, off, path);
		secs = now() - start;
		if (secs <= 0)
			secs = 1e-9;
		printf("%.1f\n", (size / bs * bs) / secs / 1048576.0);
	} else {
		uint64_t seed = 0x9e3779b97f4a7c15ULL, blocks = size / bs;
		long long ops = 0;

		do {
			for (int i = 0; i < 64; i++, ops++)
				io_at(fd, writing, buf, bs,
				      (off_t)(xorshift(&seed) % blocks) * bs, path);
			secs = now() - start;
		} while (secs < seconds);
		printf("%.1f\n", ops / secs);
	}
	if (close(fd))
		die("close", path);
	free(buf);
	return 0;
}
