// SPDX-License-Identifier: GPL-2.0
/* Messages: stderr while attached to a terminal/parent, syslog once detached. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "fusebpfd.h"

static bool use_syslog;

void log_to_syslog(void)
{
	openlog("fusebpfd", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	fputs("fusebpfd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}
