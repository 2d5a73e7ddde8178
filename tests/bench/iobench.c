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
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "benchlib.h"

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
	if (errno || end == s || *end || v <= 0)
		bench_usage_error("bad time '%s'", s);
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
		bench_die(writing ? "write" : "read", path);
	if ((size_t)n != len) {
		errno = EIO;
		bench_die(writing ? "short write" : "short read", path);
	}
}

int main(int argc, char **argv)
{
	int random_mode, writing, direct = 0, fd, flags;
	long long size, bs;
	double seconds = 0;
	const char *mode, *path;
	char *buf;
	double start, secs;

	bench_set_name("iobench", argc > 1 ? argv[1] : "");
	if (argc < 5) {
		fprintf(stderr, "usage: iobench write|read FILE SIZE BS [direct]\n"
			"       iobench randread|randwrite FILE SIZE BS SECONDS [direct]\n");
		return 2;
	}
	mode = argv[1];
	path = argv[2];
	size = bench_parse_int(argv[3], "size", 1, LLONG_MAX, true);
	bs = bench_parse_int(argv[4], "block size", 1, 1LL << 30, true);
	random_mode = !strcmp(mode, "randread") || !strcmp(mode, "randwrite");
	writing = !strcmp(mode, "write") || !strcmp(mode, "randwrite");
	if (!random_mode && strcmp(mode, "read") && strcmp(mode, "write"))
		bench_usage_error("unknown mode '%s'", mode);
	if (random_mode) {
		if (argc < 6)
			bench_usage_error("%s needs SECONDS", mode);
		seconds = parse_time(argv[5]);
	}
	if (argc > 5 + random_mode) {
		if (strcmp(argv[5 + random_mode], "direct") || argc > 6 + random_mode)
			bench_usage_error("unexpected argument '%s'",
					  argv[5 + random_mode]);
		direct = 1;
	}
	if (size < bs)
		bench_usage_error("size smaller than the block size");

	/* 4 KiB alignment satisfies O_DIRECT on every filesystem used here. */
	if (posix_memalign((void **)&buf, 4096, bs))
		bench_die("allocate", "buffer");
	for (long long i = 0; i < bs; i++)
		buf[i] = (char)(i * 7 + (i >> 12));

	flags = (writing ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0);
	if (!strcmp(mode, "write"))
		flags |= O_CREAT | O_TRUNC;
	fd = open(path, flags, 0644);
	if (fd < 0)
		bench_die("open", path);

	start = bench_now();
	if (!random_mode) {
		for (long long off = 0; off + bs <= size; off += bs)
			io_at(fd, writing, buf, bs, off, path);
		secs = bench_elapsed(start);
		printf("%.1f\n", (size / bs * bs) / secs / 1048576.0);
	} else {
		uint64_t seed = 0x9e3779b97f4a7c15ULL, blocks = size / bs;
		long long ops = 0;

		do {
			for (int i = 0; i < 64; i++, ops++)
				io_at(fd, writing, buf, bs,
				      (off_t)(xorshift(&seed) % blocks) * bs, path);
			secs = bench_elapsed(start);
		} while (secs < seconds);
		printf("%.1f\n", ops / secs);
	}
	if (close(fd))
		bench_die("close", path);
	free(buf);
	return 0;
}
