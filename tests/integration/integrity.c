// SPDX-License-Identifier: GPL-2.0
/*
 * integrity - random-operation data-integrity test.
 *
 *   integrity DIR [--seed N] [--ops N] [--backing BACKDIR] [--no-fallocate]
 *             [--jobs N [--drop-caches-ms MS]]
 *
 * Runs a reproducible stream of mixed operations (write, pwrite, append,
 * read, truncate, ftruncate, fallocate, punch hole, mmap write, rename,
 * link, unlink, copy_file_range) on a few files in DIR/integrity.<pid>,
 * and mirrors each on an in-memory model of the files (names -> inodes ->
 * bytes). Reads are compared with the model byte for byte; every
 * CHECKPOINT ops, and at the end (also after dropping the kernel caches),
 * every file's size, link count and whole content are verified, and the
 * directory must list exactly the model's names. With BACKDIR (DIR is a
 * mount of it) the backing files are verified too.
 * Some inodes keep a long-lived fd, so ops also hit open files that were
 * renamed or unlinked meanwhile. The first mismatch stops the run and
 * prints the seed and op index that reproduce it.
 * --jobs N runs N such streams at once (seeds N..N+jobs-1, each in its own
 * directory), optionally while another process drops the kernel caches
 * every MS milliseconds, so lookups, forgets and I/O race in the daemon.
 */
#include <dirent.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "testlib.h"

#define NAMES		8	/* file names f0..f7 */
#define INODES		32
#define MAX_SIZE	(256 * 1024)
#define MAX_IO		(64 * 1024)
#define CHECKPOINT	500

struct inode {
	bool used;
	unsigned char *data;	/* MAX_SIZE + MAX_IO bytes, zero past size */
	off_t size;
	int nlink;
	int fd;			/* long-lived O_RDWR fd or -1 */
};

static struct inode ino[INODES];
static int name_ino[NAMES];	/* inode index per name, -1: no such name */
static char work[PATH_MAX], backwork[PATH_MAX];
static uint64_t seed = 1;
static long nops = 5000, cur_op = -1;
static bool use_fallocate = true;
static char history[8][160];
static int job = -1;		/* index when run as one of --jobs N, else -1 */
static int jobs = 1;
static unsigned char *iobuf, *cmpbuf;

static const char *fpath(int name)
{
	return tl_path("%s/f%d", work, name);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(history[cur_op & 7], sizeof(history[0]), fmt, ap);
	va_end(ap);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
mismatch(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (long i = cur_op - 7; i <= cur_op; i++)
		if (i >= 0)
			printf("# op %ld: %s\n", i, history[i & 7]);
	if (job >= 0) {
		tl_fail("data integrity", "job %d of %d (concurrent): op %ld: %s; replay alone with --seed %" PRIu64
			" --ops %ld", job, jobs, cur_op, msg, seed, cur_op + 1);
		exit(1);
	}
	tl_fail("data integrity", "op %ld: %s; reproduce with --seed %" PRIu64
		" --ops %ld", cur_op, msg, seed, cur_op + 1);
	exit(tl_done());
}

static int new_inode(void)
{
	for (int i = 0; i < INODES; i++) {
		if (!ino[i].used) {
			ino[i] = (struct inode){ .used = true, .fd = -1 };
			ino[i].data = calloc(1, MAX_SIZE + MAX_IO);
			if (!ino[i].data)
				tl_die("out of memory");
			return i;
		}
	}
	return -1;
}

static void put_inode(int i)
{
	if (ino[i].nlink == 0 && ino[i].fd < 0) {
		free(ino[i].data);
		ino[i].used = false;
	}
}

static void model_resize(struct inode *in, off_t size)
{
	if (size < in->size)
		memset(in->data + size, 0, in->size - size);
	in->size = size;
}

/* An fd on the inode of `name`: its long-lived fd, or a fresh open. */
static int get_fd(int name, bool *fresh)
{
	struct inode *in = &ino[name_ino[name]];
	int fd;

	if (in->fd >= 0) {
		*fresh = false;
		return in->fd;
	}
	fd = open(fpath(name), O_RDWR);
	if (fd < 0)
		mismatch("open f%d: %s", name, tl_errname(errno));
	*fresh = true;
	return fd;
}

static void put_fd(int fd, bool fresh)
{
	if (fresh && close(fd))
		mismatch("close: %s", tl_errname(errno));
}

static void must(long ret, const char *what)
{
	if (ret < 0)
		mismatch("%s: %s", what, tl_errname(errno));
}

static void verify_range(int fd, struct inode *in, off_t off, size_t len,
			 const char *what)
{
	ssize_t want = off >= in->size ? 0 :
		       (ssize_t)(off + (off_t)len > in->size ? in->size - off : (off_t)len);
	ssize_t got = 0, n = 0;

	while ((size_t)got < len &&
	       (n = pread(fd, cmpbuf + got, len - got, off + got)) > 0)
		got += n;
	if (n < 0)
		mismatch("%s: pread: %s", what, tl_errname(errno));
	if (got != want)
		mismatch("%s: read %zd bytes at %jd, expected %zd", what, got,
			 (intmax_t)off, want);
	for (ssize_t i = 0; i < got; i++)
		if (cmpbuf[i] != in->data[off + i])
			mismatch("%s: byte %jd is 0x%02x, expected 0x%02x", what,
				 (intmax_t)(off + i), cmpbuf[i],
				 in->data[off + i]);
}

/* Full check of every name (and every long-lived fd) against the model. */
static void verify_all(const char *dir, const char *label)
{
	int names_seen = 0, model_names = 0;
	struct dirent *de;
	DIR *d;

	for (int n = 0; n < NAMES; n++) {
		const char *p = tl_path("%s/f%d", dir, n);
		struct stat st;
		int fd;

		if (name_ino[n] < 0) {
			if (lstat(p, &st) == 0 || errno != ENOENT)
				mismatch("%s: f%d exists, expected ENOENT", label, n);
			continue;
		}
		model_names++;
		struct inode *in = &ino[name_ino[n]];

		if (stat(p, &st))
			mismatch("%s: stat f%d: %s", label, n, tl_errname(errno));
		if (st.st_size != in->size || (int)st.st_nlink != in->nlink)
			mismatch("%s: f%d size %jd nlink %ju, expected %jd %d",
				 label, n, (intmax_t)st.st_size,
				 (uintmax_t)st.st_nlink, (intmax_t)in->size,
				 in->nlink);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			mismatch("%s: open f%d: %s", label, n, tl_errname(errno));
		verify_range(fd, in, 0, in->size + 1, label);
		close(fd);
	}
	d = opendir(dir);
	if (!d)
		mismatch("%s: opendir: %s", label, tl_errname(errno));
	while ((de = readdir(d)) != NULL) {
		int n;

		if (de->d_name[0] == '.')
			continue;
		if (sscanf(de->d_name, "f%d", &n) != 1 || n < 0 || n >= NAMES ||
		    name_ino[n] < 0)
			mismatch("%s: unexpected directory entry %s", label,
				 de->d_name);
		names_seen++;
	}
	closedir(d);
	if (names_seen != model_names)
		mismatch("%s: directory lists %d names, expected %d", label,
			 names_seen, model_names);
	for (int i = 0; i < INODES; i++)
		if (ino[i].used && ino[i].fd >= 0)
			verify_range(ino[i].fd, &ino[i], 0, ino[i].size + 1,
				     "long-lived fd");
}

static int pick_name(struct tl_rng *r, bool existing)
{
	for (int tries = 0; tries < 64; tries++) {
		int n = tl_rng_below(r, NAMES);

		if ((name_ino[n] >= 0) == existing)
			return n;
	}
	return -1;
}

static off_t pick_off(struct tl_rng *r)
{
	/* bias toward page boundaries, where caches split */
	off_t off = tl_rng_below(r, MAX_SIZE);

	if (tl_rng_below(r, 3) == 0)
		off &= ~(off_t)4095;
	return off;
}

static size_t pick_len(struct tl_rng *r, off_t off)
{
	size_t len = 1 + tl_rng_below(r, tl_rng_below(r, 4) ? 8192 : MAX_IO);

	if (off + (off_t)len > MAX_SIZE)
		len = MAX_SIZE - off;
	return len ? len : 1;
}

static void do_op(struct tl_rng *r)
{
	int op = tl_rng_below(r, 16), a, b, fd, fd2;
	bool fresh, fresh2;
	struct inode *in;
	off_t off, off2;
	size_t len;
	ssize_t n;

	a = pick_name(r, true);
	if (a < 0 || op == 0) {			/* create */
		a = pick_name(r, false);
		if (a < 0)
			return;
		int i = new_inode();

		if (i < 0)
			return;
		note("create f%d", a);
		fd = open(fpath(a), O_RDWR | O_CREAT | O_EXCL, 0644);
		must(fd, "create");
		ino[i].nlink = 1;
		name_ino[a] = i;
		if (tl_rng_below(r, 2))
			ino[i].fd = fd;		/* keep it open for later ops */
		else
			close(fd);
		return;
	}
	in = &ino[name_ino[a]];
	off = pick_off(r);
	len = pick_len(r, off);
	switch (op) {
	case 1: case 2:				/* pwrite */
		tl_fill(iobuf, len, tl_rng_next(r));
		note("pwrite f%d off %jd len %zu", a, (intmax_t)off, len);
		fd = get_fd(a, &fresh);
		n = pwrite(fd, iobuf, len, off);
		if (n != (ssize_t)len)
			mismatch("pwrite returned %zd: %s", n, tl_errname(errno));
		memcpy(in->data + off, iobuf, len);
		if (off + (off_t)len > in->size)
			in->size = off + len;
		put_fd(fd, fresh);
		break;
	case 3:					/* lseek + write */
		tl_fill(iobuf, len, tl_rng_next(r));
		note("lseek+write f%d off %jd len %zu", a, (intmax_t)off, len);
		fd = open(fpath(a), O_WRONLY);
		must(fd, "open");
		must(lseek(fd, off, SEEK_SET), "lseek");
		if (write(fd, iobuf, len) != (ssize_t)len)
			mismatch("write: %s", tl_errname(errno));
		close(fd);
		memcpy(in->data + off, iobuf, len);
		if (off + (off_t)len > in->size)
			in->size = off + len;
		break;
	case 4:					/* append */
		if (in->size + (off_t)len > MAX_SIZE)
			len = MAX_SIZE - in->size;
		if (!len)
			return;
		tl_fill(iobuf, len, tl_rng_next(r));
		note("append f%d len %zu at %jd", a, len, (intmax_t)in->size);
		fd = open(fpath(a), O_WRONLY | O_APPEND);
		must(fd, "open O_APPEND");
		if (write(fd, iobuf, len) != (ssize_t)len)
			mismatch("append: %s", tl_errname(errno));
		close(fd);
		memcpy(in->data + in->size, iobuf, len);
		in->size += len;
		break;
	case 5: case 6:				/* read */
		note("read f%d off %jd len %zu", a, (intmax_t)off, len);
		fd = get_fd(a, &fresh);
		verify_range(fd, in, off, len, "read");
		put_fd(fd, fresh);
		break;
	case 7:					/* truncate / ftruncate */
		off = tl_rng_below(r, 3) ? pick_off(r) : 0;
		if (tl_rng_below(r, 2)) {
			note("truncate f%d to %jd", a, (intmax_t)off);
			must(truncate(fpath(a), off), "truncate");
		} else {
			note("ftruncate f%d to %jd", a, (intmax_t)off);
			fd = get_fd(a, &fresh);
			must(ftruncate(fd, off), "ftruncate");
			put_fd(fd, fresh);
		}
		model_resize(in, off);
		break;
	case 8:					/* fallocate */
		if (!use_fallocate)
			return;
		fd = get_fd(a, &fresh);
		if (tl_rng_below(r, 2)) {
			int keep = tl_rng_below(r, 2) ? FALLOC_FL_KEEP_SIZE : 0;

			note("fallocate%s f%d off %jd len %zu",
			     keep ? " KEEP_SIZE" : "", a, (intmax_t)off, len);
			must(fallocate(fd, keep, off, len), "fallocate");
			if (!keep && off + (off_t)len > in->size)
				in->size = off + len;
		} else {
			note("punch hole f%d off %jd len %zu", a, (intmax_t)off,
			     len);
			must(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       off, len), "punch hole");
			if (off < in->size)
				memset(in->data + off, 0,
				       (off + (off_t)len > in->size ? in->size : off + (off_t)len) - off);
		}
		put_fd(fd, fresh);
		break;
	case 9:					/* mmap write inside EOF */
		if (in->size == 0)
			return;
		off = tl_rng_below(r, in->size);
		len = 1 + tl_rng_below(r, in->size - off);
		if (len > MAX_IO)
			len = MAX_IO;
		tl_fill(iobuf, len, tl_rng_next(r));
		note("mmap write f%d off %jd len %zu", a, (intmax_t)off, len);
		fd = get_fd(a, &fresh);
		{
			off_t pg = off & ~(off_t)4095;
			char *m = mmap(NULL, off - pg + len, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, pg);

			if (m == MAP_FAILED)
				mismatch("mmap: %s", tl_errname(errno));
			memcpy(m + (off - pg), iobuf, len);
			must(msync(m, off - pg + len, MS_SYNC), "msync");
			munmap(m, off - pg + len);
		}
		memcpy(in->data + off, iobuf, len);
		put_fd(fd, fresh);
		break;
	case 10:				/* rename, maybe replacing */
		b = tl_rng_below(r, NAMES);
		if (b == a)
			return;
		note("rename f%d -> f%d%s", a, b, name_ino[b] >= 0 ? " (replace)" : "");
		if (name_ino[b] == name_ino[a]) {
			/* same inode: rename is a successful no-op */
			must(rename(fpath(a), fpath(b)), "rename onto own link");
			return;
		}
		must(rename(fpath(a), fpath(b)), "rename");
		if (name_ino[b] >= 0) {
			ino[name_ino[b]].nlink--;
			put_inode(name_ino[b]);
		}
		name_ino[b] = name_ino[a];
		name_ino[a] = -1;
		break;
	case 11:				/* link */
		b = pick_name(r, false);
		if (b < 0)
			return;
		note("link f%d -> f%d", a, b);
		must(link(fpath(a), fpath(b)), "link");
		name_ino[b] = name_ino[a];
		in->nlink++;
		break;
	case 12:				/* unlink */
		note("unlink f%d", a);
		must(unlink(fpath(a)), "unlink");
		in->nlink--;
		put_inode(name_ino[a]);
		name_ino[a] = -1;
		break;
	case 13:				/* copy_file_range */
		b = pick_name(r, true);
		if (b < 0 || name_ino[b] == name_ino[a] || in->size == 0)
			return;
		{
			struct inode *out = &ino[name_ino[b]];
			loff_t lin, lout;
			size_t done = 0;

			off = tl_rng_below(r, in->size);
			off2 = pick_off(r);
			len = pick_len(r, off2);
			note("copy_file_range f%d@%jd -> f%d@%jd len %zu", a,
			     (intmax_t)off, b, (intmax_t)off2, len);
			fd = get_fd(a, &fresh);
			fd2 = get_fd(b, &fresh2);
			lin = off;
			lout = off2;
			while (done < len) {
				n = copy_file_range(fd, &lin, fd2, &lout,
						    len - done, 0);
				if (n < 0)
					mismatch("copy_file_range: %s",
						 tl_errname(errno));
				if (n == 0)
					break;	/* source EOF */
				done += n;
			}
			size_t expect = off + (off_t)len > in->size ?
					(size_t)(in->size - off) : len;
			if (done != expect)
				mismatch("copy_file_range copied %zu, expected %zu",
					 done, expect);
			memcpy(out->data + off2, in->data + off, done);
			if (done && off2 + (off_t)done > out->size)
				out->size = off2 + done;
			put_fd(fd, fresh);
			put_fd(fd2, fresh2);
		}
		break;
	case 14:				/* drop or take a long-lived fd */
		if (in->fd >= 0) {
			note("close long-lived fd of f%d", a);
			must(close(in->fd), "close");
			in->fd = -1;
		} else {
			note("open long-lived fd of f%d", a);
			in->fd = open(fpath(a), O_RDWR);
			must(in->fd, "open");
		}
		break;
	case 15:				/* fstat through an open fd */
		{
			struct stat st;

			note("fstat f%d", a);
			fd = get_fd(a, &fresh);
			must(fstat(fd, &st), "fstat");
			if (st.st_size != in->size || (int)st.st_nlink != in->nlink)
				mismatch("fstat f%d: size %jd nlink %ju, expected %jd %d",
					 a, (intmax_t)st.st_size,
					 (uintmax_t)st.st_nlink,
					 (intmax_t)in->size, in->nlink);
			put_fd(fd, fresh);
		}
		break;
	}
	/* the inode of an unlinked name may now be unreachable */
	for (int i = 0; i < INODES; i++)
		if (ino[i].used)
			put_inode(i);
}

/* One stream of ops in its own directory. */
static void run_one(const char *dir, const char *back)
{
	struct tl_rng rng;

	snprintf(work, sizeof(work), "%s/integrity.%d", dir, getpid());
	if (back)
		snprintf(backwork, sizeof(backwork), "%s/integrity.%d", back,
			 getpid());
	if (mkdir(work, 0755))
		tl_die("mkdir %s: %s", work, tl_errname(errno));
	printf("# seed %" PRIu64 ", %ld ops in %s\n", seed, nops, work);
	for (int n = 0; n < NAMES; n++)
		name_ino[n] = -1;
	tl_rng_seed(&rng, seed);
	for (cur_op = 0; cur_op < nops; cur_op++) {
		do_op(&rng);
		if ((cur_op + 1) % CHECKPOINT == 0 || cur_op + 1 == nops) {
			char label[64];

			snprintf(label, sizeof(label), "ops 0..%ld verified", cur_op);
			verify_all(work, label);
			tl_ok(label);
		}
	}
	cur_op = nops - 1;
	for (int i = 0; i < INODES; i++)
		if (ino[i].used && ino[i].fd >= 0) {
			close(ino[i].fd);
			ino[i].fd = -1;
		}
	if (geteuid() == 0) {
		if (tl_drop_caches())
			tl_die("drop_caches: %s", tl_errname(errno));
		verify_all(work, "after drop_caches");
		tl_ok("all files verified after drop_caches");
	}
	if (back) {
		verify_all(backwork, "backing files");
		tl_ok("backing files match the model");
	}
	tl_rm_rf(work);
}

static void usage(void)
{
	fprintf(stderr, "usage: integrity DIR [--seed N] [--ops N] [--backing BACKDIR] [--no-fallocate]\n"
		"                 [--jobs N [--drop-caches-ms MS]]\n");
	exit(2);
}

/* Drops the kernel caches every ms milliseconds until killed. */
static void drop_caches_loop(long ms)
{
	for (;;) {
		tl_drop_caches();
		nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 },
			  NULL);
	}
}

/*
 * N concurrent streams (seeds seed..seed+N-1) in one mount, optionally
 * with the caches dropped meanwhile: lookups, forgets and I/O race in the
 * daemon. One check per job; only this process prints the summary.
 */
static int run_jobs(const char *dir, const char *back, long drop_ms)
{
	pid_t pids[64], dropper = -1;
	uint64_t base = seed;

	fflush(stdout);
	for (int i = 0; i < jobs; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			job = i;
			seed = base + i;
			run_one(dir, back);
			fflush(stdout);
			_exit(tl_failed ? 1 : 0);
		}
	}
	if (drop_ms > 0 && geteuid() == 0) {
		dropper = fork();
		if (dropper == 0)
			drop_caches_loop(drop_ms);
	}
	for (int i = 0; i < jobs; i++) {
		int status = 0;
		char name[96];

		waitpid(pids[i], &status, 0);
		snprintf(name, sizeof(name), "job %d (seed %" PRIu64 ") of %d concurrent%s",
			 i, base + i, jobs, dropper > 0 ? ", caches dropped meanwhile" : "");
		tl_check(name, WIFEXITED(status) && WEXITSTATUS(status) == 0,
			 "failed (status 0x%x), see its lines above", status);
	}
	if (dropper > 0) {
		kill(dropper, SIGKILL);
		waitpid(dropper, NULL, 0);
	}
	return tl_done();
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *back = NULL;
	long drop_ms = 0;
	char *end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], &end, 0);
			if (*end)
				usage();
		} else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			nops = strtol(argv[++i], &end, 0);
			if (*end || nops <= 0)
				usage();
		} else if (!strcmp(argv[i], "--backing") && i + 1 < argc) {
			back = argv[++i];
		} else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) {
			jobs = strtol(argv[++i], &end, 0);
			if (*end || jobs < 1 || jobs > 64)
				usage();
		} else if (!strcmp(argv[i], "--drop-caches-ms") && i + 1 < argc) {
			drop_ms = strtol(argv[++i], &end, 0);
			if (*end || drop_ms < 0)
				usage();
		} else if (!strcmp(argv[i], "--no-fallocate")) {
			use_fallocate = false;
		} else if (argv[i][0] != '-' && !dir) {
			dir = argv[i];
		} else {
			usage();
		}
	}
	if (!dir)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	iobuf = malloc(MAX_IO);
	cmpbuf = malloc(MAX_SIZE + MAX_IO);
	if (!iobuf || !cmpbuf)
		tl_die("out of memory");
	if (jobs == 1) {
		run_one(dir, back);
		return tl_done();
	}
	return run_jobs(dir, back, drop_ms);
}
