/* SPDX-License-Identifier: GPL-2.0 */
/*
 * benchlib.h: what the harness's C helpers (iobench, metabench) share:
 * the clock, error lines and argument parsing. Errors are one line on
 * stderr: a failed operation exits 1 (the harness then records FAILED,
 * never a number), a bad argument exits 2.
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prefix of error lines: program and mode or phase ("metabench stat"). */
static const char *bench_prog = "bench", *bench_mode = "";

static inline void bench_set_name(const char *prog, const char *mode)
{
	bench_prog = prog;
	bench_mode = mode;
}

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Elapsed seconds since @start, never 0 (the callers divide by it). */
static inline double bench_elapsed(double start)
{
	double secs = bench_now() - start;

	return secs > 0 ? secs : 1e-9;
}

/* A failed operation on @path (errno says why): exit status 1. */
static inline __attribute__((noreturn)) void bench_die(const char *what,
							const char *path)
{
	fprintf(stderr, "%s %s: %s %s: %s\n", bench_prog, bench_mode, what,
		path, strerror(errno));
	exit(1);
}

/* A bad command line: exit status 2. */
static inline __attribute__((noreturn, format(printf, 1, 2))) void
bench_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/*
 * Decimal integer in [min, max]; with @suffixes, an optional K, M or G
 * multiplies by 2^10, 2^20 or 2^30 (fio's size syntax).
 */
static inline long long bench_parse_int(const char *s, const char *what,
					long long min, long long max,
					bool suffixes)
{
	int shift = 0;
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (suffixes && !errno && end != s) {
		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		}
	}
	if (errno || end == s || *end || v < min || v > (max >> shift) ||
	    v * (1LL << shift) < min)
		bench_usage_error("bad %s '%s' (want %lld..%lld%s)", what, s,
				  min, max, suffixes ? ", K/M/G suffix" : "");
	return v * (1LL << shift);
}

#endif
