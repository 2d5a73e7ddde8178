// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of userspace/daemon/names.c: which names may be another
 * spelling of a policy name. Real casefolded directories need a kernel
 * with CONFIG_UNICODE: the VM step casefold runs the policy suite on one.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusebpf/names.h"
#include "unit.h"

#define LONG_S	"\xc5\xbf"		/* U+017F, folds to "s" */
#define KELVIN	"\xe2\x84\xaa"		/* U+212A, folds to "k" */
#define FFI	"\xef\xac\x83"		/* U+FB03, folds to "ffi" */
#define ZWSP	"\xe2\x80\x8b"		/* U+200B, ignorable */

static void test_may_fold_equal(void)
{
	CHECK(fusebpf_name_may_fold_equal("Android", "android"));
	CHECK(fusebpf_name_may_fold_equal(".TRANSFORMS", ".transforms"));
	CHECK(!fusebpf_name_may_fold_equal("Androids", "android"));
	CHECK(!fusebpf_name_may_fold_equal("data", "date"));
	/* code points that fold to ASCII */
	CHECK(fusebpf_name_may_fold_equal(".tran" LONG_S "forms", ".transforms"));
	CHECK(fusebpf_name_may_fold_equal(".transforms", ".TRAN" LONG_S "FORMS"));
	CHECK(fusebpf_name_may_fold_equal(KELVIN "ey", "key"));
	CHECK(fusebpf_name_may_fold_equal("o" FFI "ce", "office"));
	CHECK(fusebpf_name_may_fold_equal("se" ZWSP "cret", "secret"));
	/* but the ASCII around them must match */
	CHECK(!fusebpf_name_may_fold_equal("Mu" LONG_S "ik", "Music"));
	CHECK(!fusebpf_name_may_fold_equal("caf\xc3\xa9", ".transforms"));
	CHECK(!fusebpf_name_may_fold_equal(LONG_S "ecretkey", "secret"));
	/* two non-ASCII names: only the backing can tell */
	CHECK(fusebpf_name_may_fold_equal("caf\xc3\xa9", "CAF\xc3\x89"));
}

static void test_same(void)
{
	char dir[] = "/tmp/fusebpf-names.XXXXXX";
	struct fusebpf_name_dir at, kernel = { .dirfd = -1, .dir = "",
					       .casefold = 1 };
	int fd;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	mkdirat(fd, "Music", 0755);
	/* a directory without FS_CASEFOLD_FL compares bytes */
	at = fusebpf_name_dir_fd(fd);
	CHECK(fusebpf_name_same(&at, "Music", "Music") == FUSEBPF_FOLD_YES);
	CHECK(fusebpf_name_same(&at, "music", "Music") == FUSEBPF_FOLD_NO);
	CHECK(at.casefold == 0);
	/* known casefolded, no directory fd (mode bpf kernel nodes) */
	CHECK(fusebpf_name_same(&kernel, "MUSIC", "Music") == FUSEBPF_FOLD_YES);
	CHECK(fusebpf_name_same(&kernel, "Musik", "Music") == FUSEBPF_FOLD_NO);
	CHECK(fusebpf_name_same(&kernel, "Mu" LONG_S "ic", "Music") ==
	      FUSEBPF_FOLD_MAYBE);
	/* casefolded with an fd: non-ASCII names by inode identity */
	at = fusebpf_name_dir_fd(fd);
	at.casefold = 1;
	CHECK(fusebpf_name_same(&at, "MUSIC", "Music") == FUSEBPF_FOLD_YES);
	/* "Muſic" is no entry here (bytes), "Music" is: they differ */
	CHECK(fusebpf_name_same(&at, "Mu" LONG_S "ic", "Music") == FUSEBPF_FOLD_NO);
	/* neither exists: cannot tell */
	CHECK(fusebpf_name_same(&at, "Vide" LONG_S "x", "Videos") == FUSEBPF_FOLD_NO);
	CHECK(fusebpf_name_same(&at, "Video" LONG_S, "Videos") == FUSEBPF_FOLD_MAYBE);
	unlinkat(fd, "Music", AT_REMOVEDIR);
	close(fd);
	rmdir(dir);
}

static void test_served_spelling(void)
{
	struct fusebpf_options opts = { 0 };
	struct fusebpf_name_dir at = { .dirfd = -1, .dir = "", .casefold = 1 };
	struct fusebpf_name_dir bytes = { .dirfd = -1, .dir = "",
					  .casefold = 0 };
	char buf[256];

	opts.served[0] = "Music";
	opts.served[1] = "Android/media/com.app";
	opts.nr_served = 2;
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "", &at, "music", buf,
					      sizeof(buf)), "Music"));
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "", &at, "ANDROID", buf,
					      sizeof(buf)), "Android"));
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "Android", &at, "MEDIA",
					      buf, sizeof(buf)), "media"));
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "Android/media", &at,
					      "COM.APP", buf, sizeof(buf)),
		      "com.app"));
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "", &at, "Musik", buf,
					      sizeof(buf)), "Musik"));
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "", &bytes, "music", buf,
					      sizeof(buf)), "music"));
	/* not below a served path's parent */
	CHECK(!strcmp(fusebpf_served_spelling(&opts, "DCIM", &at, "music", buf,
					      sizeof(buf)), "music"));
}

int main(void)
{
	test_may_fold_equal();
	test_same();
	test_served_spelling();
	return unit_report();
}
