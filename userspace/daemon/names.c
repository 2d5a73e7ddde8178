// SPDX-License-Identifier: GPL-2.0
/* Names as the backing compares them: see include/fusebpf/names.h. */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/names.h"
#include "fusebpf/policy.h"

/* linux/fs.h, not included: it clashes with glibc's sys/mount.h */
#define NAMES_FS_IOC_GETFLAGS	_IOR('f', 1, long)
#define NAMES_FS_CASEFOLD_FL	0x40000000

/* Longest ASCII string one code point casefolds to (U+FB03 "ffi") */
#define FOLD_ASCII_MAX		3

bool fusebpf_name_is_ascii(const char *s)
{
	for (; *s; s++)
		if (*s & 0x80)
			return false;
	return true;
}

/*
 * Could casefolding make @a (with non-ASCII code points) equal to the
 * ASCII @b? Every non-ASCII code point of @a may fold to 0..3 ASCII
 * characters (ignorable code points fold to nothing), every ASCII one to
 * its lowercase. A set of reachable positions in @b, one step per code
 * point of @a.
 */
static bool may_fold_to_ascii(const char *a, const char *b)
{
	bool at[FUSEBPF_POLICY_NAME_MAX + 1] = { true }, next[sizeof(at)];
	size_t blen = strlen(b);

	if (blen >= FUSEBPF_POLICY_NAME_MAX)
		return false;
	while (*a) {
		bool wild = *a & 0x80;

		memset(next, 0, sizeof(next));
		for (size_t j = 0; j <= blen; j++) {
			if (!at[j])
				continue;
			if (!wild && j < blen &&
			    tolower((unsigned char)*a) == tolower((unsigned char)b[j]))
				next[j + 1] = true;
			for (size_t k = 0; wild && k <= FOLD_ASCII_MAX &&
			     j + k <= blen; k++)
				next[j + k] = true;
		}
		memcpy(at, next, sizeof(at));
		/* a code point: its UTF-8 continuation bytes go with it */
		a++;
		while (wild && (*a & 0xc0) == 0x80)
			a++;
	}
	return at[blen];
}

bool fusebpf_name_may_fold_equal(const char *a, const char *b)
{
	bool a_ascii = fusebpf_name_is_ascii(a);
	bool b_ascii = fusebpf_name_is_ascii(b);

	if (a_ascii && b_ascii)
		return !strcasecmp(a, b);
	if (!a_ascii && !b_ascii)
		return true;	/* the backing decides */
	return a_ascii ? may_fold_to_ascii(b, a) : may_fold_to_ascii(a, b);
}

bool fusebpf_name_dir_casefolded(struct fusebpf_name_dir *at)
{
	int fd, flags = 0;

	if (at->casefold < 0) {
		at->casefold = 0;
		fd = openat(at->dirfd, *at->dir ? at->dir : ".",
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if (!ioctl(fd, NAMES_FS_IOC_GETFLAGS, &flags))
				at->casefold = !!(flags & NAMES_FS_CASEFOLD_FL);
			close(fd);
		}
	}
	return at->casefold > 0;
}

static int stat_in(const struct fusebpf_name_dir *at, const char *name,
		   struct stat *st)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s%s", at->dir,
		     *at->dir ? "/" : "", name) >= (int)sizeof(path))
		return -1;
	return fstatat(at->dirfd, path, st, AT_SYMLINK_NOFOLLOW);
}

enum fusebpf_fold fusebpf_name_same(struct fusebpf_name_dir *at,
				    const char *name, const char *other)
{
	struct stat a, b;
	bool has_a, has_b;

	if (!strcmp(name, other))
		return FUSEBPF_FOLD_YES;
	/* cheap tests first: most names are no spelling of @other */
	if (!fusebpf_name_may_fold_equal(name, other) ||
	    !fusebpf_name_dir_casefolded(at))
		return FUSEBPF_FOLD_NO;
	if (fusebpf_name_is_ascii(name) && fusebpf_name_is_ascii(other))
		return FUSEBPF_FOLD_YES;
	if (at->dirfd < 0)
		return FUSEBPF_FOLD_MAYBE;
	has_a = !stat_in(at, name, &a);
	has_b = !stat_in(at, other, &b);
	if (has_a && has_b)
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino ?
		       FUSEBPF_FOLD_YES : FUSEBPF_FOLD_NO;
	return has_a || has_b ? FUSEBPF_FOLD_NO : FUSEBPF_FOLD_MAYBE;
}

const char *fusebpf_served_spelling(const struct fusebpf_options *opts,
				    const char *dir_rel,
				    struct fusebpf_name_dir *at,
				    const char *name, char *buf, size_t len)
{
	size_t dlen = strlen(dir_rel);

	for (size_t i = 0; i < opts->nr_served; i++) {
		const char *s = opts->served[i], *end;

		/* the component of served[i] right below dir_rel */
		if (dlen && (strncmp(s, dir_rel, dlen) || s[dlen] != '/'))
			continue;
		s += dlen ? dlen + 1 : 0;
		end = strchrnul(s, '/');
		if ((size_t)(end - s) >= len || !*s)
			continue;
		snprintf(buf, len, "%.*s", (int)(end - s), s);
		if (strcmp(buf, name) &&
		    fusebpf_name_same(at, name, buf) != FUSEBPF_FOLD_NO)
			return buf;
	}
	return name;
}
