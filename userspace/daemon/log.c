// SPDX-License-Identifier: GPL-2.0
/*
 * Messages go to hooks.log of the daemon the calling thread works for
 * (each of the daemon's threads binds itself with log_bind), else to
 * stderr. Where they end up (stderr, syslog) is the embedder's choice:
 * fusebpfd's hook writes stderr until it detaches, then syslog.
 */
#include <stdarg.h>
#include <stdio.h>

#include "fusebpfd.h"

static __thread const struct daemon *bound;

void log_bind(const struct daemon *d)
{
	bound = d;
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	char msg[1024];

	if (bound && bound->hooks.log) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		bound->hooks.log(bound->hooks.ctx, prio, msg);
		return;
	}
	fputs("fusebpf: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(FUSEBPF_LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(FUSEBPF_LOG_INFO, fmt, ap);
	va_end(ap);
}
