// SPDX-License-Identifier: GPL-2.0
/*
 * passthrough_proof - shows from the daemon's request counters whether
 * file data went through the daemon.
 *
 *   passthrough_proof MOUNT --expect passthrough|userspace [--mb N]
 *
 * Writes N MiB (default 32) through the mount, drops the kernel caches,
 * reads it all back with read() and through mmap, and reads the fusebpfd
 * counters of MOUNT before and after:
 *   passthrough: READ and WRITE do not move while OPEN does, opens are
 *                replied with FOPEN_PASSTHROUGH, and two concurrent opens of
 *                one inode share one backing id;
 *   userspace:   READ and WRITE do move (the same test, so it can fail).
 */
#include <linux/fuse.h>
#include <sys/mman.h>
#include <time.h>

#include "testlib.h"

#define CHUNK (256 * 1024)

static const char *mnt;
static char path[PATH_MAX];

static int snapshot(struct tl_counters *c)
{
	int err = tl_counters_read(mnt, c);

	if (err)
		tl_die("no fusebpfd instance for %s: %s", mnt, tl_errname(err));
	return 0;
}

/* Writes mb MiB of seeded data; 0 or errno. */
static int write_data(int mb)
{
	char *buf = malloc(CHUNK);
	int fd, err = 0;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || !buf) {
		free(buf);
		return errno;
	}
	for (long off = 0; off < (long)mb << 20 && !err; off += CHUNK) {
		tl_fill(buf, CHUNK, off / CHUNK);
		if (pwrite(fd, buf, CHUNK, off) != CHUNK)
			err = errno ? errno : EIO;
	}
	if (!err && fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	free(buf);
	return err;
}

/* Reads it back with read(); 0, errno, or EILSEQ on a content mismatch. */
static int read_data(int mb)
{
	char *buf = malloc(CHUNK), *exp = malloc(CHUNK);
	int fd, err = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf || !exp) {
		free(buf);
		free(exp);
		return errno;
	}
	for (long off = 0; off < (long)mb << 20 && !err; off += CHUNK) {
		tl_fill(exp, CHUNK, off / CHUNK);
		if (read(fd, buf, CHUNK) != CHUNK)
			err = errno ? errno : EIO;
		else if (memcmp(buf, exp, CHUNK))
			err = EILSEQ;
	}
	close(fd);
	free(buf);
	free(exp);
	return err;
}

/* Reads the first chunk through a shared mapping. */
static int mmap_data(void)
{
	char *exp = malloc(CHUNK), *m;
	int fd, err = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !exp) {
		free(exp);
		return errno;
	}
	m = mmap(NULL, CHUNK, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = errno;
	} else {
		tl_fill(exp, CHUNK, 0);
		if (memcmp(m, exp, CHUNK))
			err = EILSEQ;
		munmap(m, CHUNK);
	}
	close(fd);
	free(exp);
	return err;
}

int main(int argc, char **argv)
{
	struct tl_counters before, mid, after, c1, c2;
	const char *expect = NULL;
	bool passthrough;
	int mb = 32;
	char *end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			expect = argv[++i];
		} else if (!strcmp(argv[i], "--mb") && i + 1 < argc) {
			mb = strtol(argv[++i], &end, 0);
			if (*end || mb <= 0)
				goto usage;
		} else if (argv[i][0] != '-' && !mnt) {
			mnt = argv[i];
		} else {
			goto usage;
		}
	}
	if (!mnt || !expect || (strcmp(expect, "passthrough") &&
				strcmp(expect, "userspace")))
		goto usage;
	if (geteuid() != 0) {
		fprintf(stderr, "passthrough_proof: needs root (drop_caches)\n");
		return 2;
	}
	passthrough = !strcmp(expect, "passthrough");
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "%s/passthrough_proof.%d", mnt, getpid());

	snapshot(&before);
	tl_check("daemon runs in the expected mode",
		 fusebpf_mode_name(before.mode) &&
		 !strcmp(fusebpf_mode_name(before.mode), expect),
		 "got %s expected %s", fusebpf_mode_name(before.mode) ?: "?",
		 expect);
	tl_check_errno("write data through the mount", write_data(mb), 0);
	snapshot(&mid);
	tl_check_errno("drop_caches", tl_drop_caches(), 0);
	tl_check_errno("read data back, same bytes", read_data(mb), 0);
	tl_check_errno("read data through mmap, same bytes", mmap_data(), 0);
	snapshot(&after);

	printf("# %d MiB: WRITE %ju, READ %ju, OPEN %ju, CREATE %ju, passthrough opens %ju\n",
	       mb, (uintmax_t)tl_counters_delta(&before, &mid, FUSE_WRITE),
	       (uintmax_t)tl_counters_delta(&mid, &after, FUSE_READ),
	       (uintmax_t)tl_counters_delta(&before, &after, FUSE_OPEN),
	       (uintmax_t)tl_counters_delta(&before, &after, FUSE_CREATE),
	       (uintmax_t)(after.passthrough_opens - before.passthrough_opens));
	/* read+mmap opened the existing file twice: both are FUSE_OPEN */
	tl_check("OPEN requests reached the daemon",
		 tl_counters_delta(&before, &after, FUSE_OPEN) >= 2,
		 "OPEN moved by %ju",
		 (uintmax_t)tl_counters_delta(&before, &after, FUSE_OPEN));
	if (passthrough) {
		tl_check("no WRITE request reached the daemon",
			 tl_counters_delta(&before, &after, FUSE_WRITE) == 0,
			 "WRITE moved by %ju",
			 (uintmax_t)tl_counters_delta(&before, &after, FUSE_WRITE));
		tl_check("no READ request reached the daemon",
			 tl_counters_delta(&before, &after, FUSE_READ) == 0,
			 "READ moved by %ju",
			 (uintmax_t)tl_counters_delta(&before, &after, FUSE_READ));
		tl_check("opens were replied with FOPEN_PASSTHROUGH",
			 after.passthrough_opens - before.passthrough_opens >= 3 &&
			 after.passthrough_fallbacks == before.passthrough_fallbacks,
			 "passthrough opens +%ju, fallbacks +%ju",
			 (uintmax_t)(after.passthrough_opens - before.passthrough_opens),
			 (uintmax_t)(after.passthrough_fallbacks -
				     before.passthrough_fallbacks));
	} else {
		tl_check("WRITE requests reached the daemon",
			 tl_counters_delta(&before, &mid, FUSE_WRITE) >= 1,
			 "WRITE did not move");
		tl_check("READ requests reached the daemon",
			 tl_counters_delta(&mid, &after, FUSE_READ) >= 1,
			 "READ did not move");
		tl_check("no open was replied with FOPEN_PASSTHROUGH",
			 after.passthrough_opens == before.passthrough_opens,
			 "passthrough opens +%ju",
			 (uintmax_t)(after.passthrough_opens - before.passthrough_opens));
	}

	/* two concurrent opens of one inode share one backing id */
	if (passthrough) {
		int fd1, fd2;
		char b1[16], b2[16];

		/* earlier releases are asynchronous: let them settle */
		for (int i = 0; i < 100; i++) {
			snapshot(&c1);
			if (c1.backing_opens == c1.backing_closes)
				break;
			nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
		}
		fd1 = open(path, O_RDONLY);
		fd2 = open(path, O_RDWR);
		tl_check("two concurrent opens read through passthrough",
			 fd1 >= 0 && fd2 >= 0 && pread(fd1, b1, 16, 4096) == 16 &&
			 pread(fd2, b2, 16, 4096) == 16 && !memcmp(b1, b2, 16),
			 "failed: %s", tl_errname(errno));
		snapshot(&c2);
		tl_check("two concurrent opens: one backing id",
			 c2.backing_opens - c1.backing_opens == 1,
			 "backing opens +%ju",
			 (uintmax_t)(c2.backing_opens - c1.backing_opens));
		tl_check("two concurrent opens: no READ request",
			 tl_counters_delta(&c1, &c2, FUSE_READ) == 0,
			 "READ moved by %ju",
			 (uintmax_t)tl_counters_delta(&c1, &c2, FUSE_READ));
		close(fd1);
		close(fd2);
		/* RELEASE is asynchronous: give the daemon a moment */
		for (int i = 0; i < 100; i++) {
			snapshot(&c2);
			if (c2.backing_closes - c1.backing_closes >= 1)
				break;
			nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
		}
		tl_check("backing id closed on last release",
			 c2.backing_closes - c1.backing_closes == 1,
			 "backing closes +%ju",
			 (uintmax_t)(c2.backing_closes - c1.backing_closes));
	}
	unlink(path);
	return tl_done();
usage:
	fprintf(stderr, "usage: passthrough_proof MOUNT --expect passthrough|userspace [--mb N]\n");
	return 2;
}
