// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/self/mountinfo lines: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS
 * [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". Space, tab, newline and
 * backslash in paths are written as octal escapes (\040 ...): decode them,
 * or a mountpoint with a space is never found.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fusebpf/mountinfo.h"

/* Copy the space-terminated field at @s into @out, decoding \ooo. */
static const char *field_decode(const char *s, char *out, size_t size)
{
	size_t n = 0;

	while (*s && *s != ' ' && *s != '\n') {
		char c = *s++;

		if (c == '\\' && s[0] >= '0' && s[0] <= '3' &&
		    s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') << 6 | (s[1] - '0') << 3 | (s[2] - '0'));
			s += 3;
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	out[n] = '\0';
	return s;
}

static int parse_line(const char *line, struct mount_entry *e)
{
	unsigned int maj, mnr;
	const char *p = line, *sep;
	int skip;

	if (sscanf(p, "%*d %*d %u:%u %*s %n", &maj, &mnr, &skip) != 2)
		return -1;
	field_decode(p + skip, e->mountpoint, sizeof(e->mountpoint));
	sep = strstr(p, " - ");
	if (!sep)
		return -1;
	field_decode(sep + 3, e->fstype, sizeof(e->fstype));
	e->dev = makedev(maj, mnr);
	return 0;
}

int mountinfo_find(const char *mountpoint, dev_t dev, struct mount_entry *e)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	struct mount_entry *cur;
	char *line = NULL;
	size_t cap = 0;
	int found = -ENOENT;

	if (!f)
		return -errno;
	cur = malloc(sizeof(*cur));
	if (!cur) {
		fclose(f);
		return -ENOMEM;
	}
	while (getline(&line, &cap, f) > 0) {
		if (parse_line(line, cur))
			continue;
		if (mountpoint && strcmp(cur->mountpoint, mountpoint))
			continue;
		if (dev && cur->dev != dev)
			continue;
		*e = *cur;
		found = 0;
	}
	free(line);
	free(cur);
	fclose(f);
	return found;
}
