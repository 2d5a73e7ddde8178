/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names as the backing filesystem compares them (userspace/daemon/names.c).
 *
 * In a casefolded backing directory (FS_CASEFOLD_FL on ext4, f2fs, tmpfs:
 * Android's shared storage) "Android", "android" and "ANDROID" are one
 * entry, and Unicode folding makes more spellings equal (U+017F "ſ" is
 * "s", U+212A is "K"). fusebpf does not fold names itself: the backing
 * decides. A name N is the policy name P (P != N) in directory D when
 *  - D is casefolded (else names are bytes), and
 *  - both are ASCII and differ only in ASCII case (Unicode folding maps
 *    ASCII to its lowercase and nothing non-ASCII to an ASCII-only
 *    string... except code points such as the two above: those are not
 *    ASCII, and fall under the next case), or
 *  - one is not ASCII, N may fold like P (fusebpf_name_may_fold_equal,
 *    conservative) and N and P reach the same backing inode. If one of
 *    them exists and the other does not, they differ; if neither exists
 *    (N is being created) it cannot be told: FUSEBPF_FOLD_MAYBE, which
 *    callers judge as P.
 */
#ifndef FUSEBPF_NAMES_H
#define FUSEBPF_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "fusebpf/options.h"

enum fusebpf_fold { FUSEBPF_FOLD_NO, FUSEBPF_FOLD_YES, FUSEBPF_FOLD_MAYBE };

/* The directory names are looked up in */
struct fusebpf_name_dir {
	int dirfd;		/* -1: unknown (a node only the kernel knows) */
	const char *dir;	/* path below dirfd, "" for dirfd itself */
	int casefold;		/* -1: ask the backing (FS_IOC_GETFLAGS) */
};

static inline struct fusebpf_name_dir fusebpf_name_dir_fd(int dirfd)
{
	return (struct fusebpf_name_dir){ .dirfd = dirfd, .dir = "",
					  .casefold = -1 };
}

bool fusebpf_name_is_ascii(const char *s);
/* Could Unicode casefolding make @a and @b equal? (pure, conservative) */
bool fusebpf_name_may_fold_equal(const char *a, const char *b);
/* Is @at casefolded? Asked once per @at, remembered in it. */
bool fusebpf_name_dir_casefolded(struct fusebpf_name_dir *at);
/* Is the entry @name of @at the entry @other (!= @name)? */
enum fusebpf_fold fusebpf_name_same(struct fusebpf_name_dir *at,
				    const char *name, const char *other);

/*
 * -o served=: @name is looked up in @at, whose path below BACKING is
 * @dir_rel ("" the root). If @name is another spelling of the next
 * component of a served path below @dir_rel, that component's spelling
 * is copied to @buf (@len bytes) and returned; otherwise @name.
 */
const char *fusebpf_served_spelling(const struct fusebpf_options *opts,
				    const char *dir_rel,
				    struct fusebpf_name_dir *at,
				    const char *name, char *buf, size_t len);

#endif /* FUSEBPF_NAMES_H */
