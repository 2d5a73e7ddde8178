// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_filter - FUSE-BPF struct_ops filters (kernel-patches/0009), spoken
 * raw on /dev/fuse by a tiny hand-written server (rawfuse.h, plus the
 * decision requests here), with the test filter
 * tests/bpf/test_filter.bpf.c:
 *
 *   bpf_filter [SCRATCH_DIR]       (default $TMPDIR or /tmp; needs root)
 *
 * Runs only on the patched kernel (make vm-test). Checks: a program the
 * verifier rejects fails to load and the mount keeps working; filter open
 * errors (unknown name, unterminated name, flags) and attach errors
 * (unknown filter id at the root and in a LOOKUP reply); a pre-filter
 * errno on lookup and mkdir; a per-caller decision that a cached dentry
 * does not skip; a post-filter that changes a result; FUSE_BPF_USER sent
 * to the server on a server inode and EIO on a kernel inode; a read-only
 * subtree (tag set in a LOOKUP reply) refusing every mutating op with
 * EROFS while reads are served in the kernel with no request to the
 * server; the filter's view of uid/tag; a filter closed or detached while
 * attached keeps working. Decision requests (kernel-patches/0010): a
 * PREFILTER request allowing (the op then runs on the backing, with no
 * plain request) and refusing, a POSTFILTER request that sees the backing
 * result and changes it, in a server-known and in a kernel-only directory;
 * the opcode flags, node id, uid, tag and names the server gets; replies
 * with payload or a bad errno give EIO; an aborted connection fails the
 * op. Reads of metadata and listings (kernel-patches/0011): stat, statx,
 * access (also decided by the server, per caller), readlink, getxattr (a decision by the server), listxattr (a
 * post-filter) and statfs refused by the tag of a subtree; entries hidden
 * from readdir/getdents64 by the per-entry filter (also by the server's
 * decision) while lookups of them still work; a READDIR decision asked
 * with the listed backing directory unlocked (the server's lookup in it
 * does not wait behind a queued writer), each entry listed once also one
 * entry per getdents64; FUSE_BPF_USER for permission checks keeping the
 * backing's check where FUSE asks nobody. The VM harness fails the
 * run on any kernel report these provoke.
 */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "testlib.h"
#include "rawfuse.h"
#include "test_filter_setup.h"
#include "test_filter_bad.skel.h"

#define READ_ONLY_TAG	7
#define META_TAG	9
#define USER_PERM_TAG	11

/* The lookup probe run while lockdir/ask_lock is judged */
enum { PROBE_OFF, PROBE_ARMED, PROBE_RUNNING, PROBE_PASSED, PROBE_STUCK };

/* The value of test_filter's `last` map (tests/bpf/test_filter.bpf.c) */
struct test_last {
	uint32_t uid;
	uint32_t tag;
	uint32_t opcode;
	uint32_t name_len;
};

/* The last decision request the server got */
struct decision {
	uint32_t opcode;	/* with FUSE_PREFILTER / FUSE_POSTFILTER */
	uint64_t nodeid;
	uint32_t uid;
	struct fuse_bpf_filter_in in;
	char name[256];
	char new_name[256];
};

/* The raw server (rawfuse.h) and the decision requests it got */
struct conn {
	struct rawfuse rf;
	/* decision requests by opcode, and malformed ones */
	atomic_uint pre_ops[RAWFUSE_OPCODES], post_ops[RAWFUSE_OPCODES];
	atomic_uint bad_decisions;
	atomic_int lock_probe;	/* PROBE_* */
	struct decision last;	/* under rf.lock */
	struct decision last_two_names;	/* the last one with a new name */
};

static struct test_filter_setup tf;	/* scratch dir, the test filter */
static char lock_dir[PATH_MAX];	/* the backing of lockdir */

static unsigned int requests(struct conn *c)
{
	return rawfuse_requests(&c->rf);
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* A decision request's name field: @len bytes ending in their only NUL */
static bool copy_name(char *dst, size_t cap, const char *src, uint16_t len)
{
	if (!len) {
		dst[0] = '\0';
		return true;
	}
	if (len > cap || src[len - 1] || strlen(src) != len - 1u)
		return false;
	memcpy(dst, src, len);
	return true;
}

/*
 * A server judging a listed entry by a lookup in the directory being
 * listed, while a writer waits for that directory: the lookup must not
 * wait for the listing. A kernel that asks with the backing directory
 * locked hangs it until the reply (the reader queues behind the writer,
 * which waits for the listing, which waits for the reply): the probe
 * gives up after 2 s and says so.
 */
struct probe {
	char writer_path[PATH_MAX], reader_path[PATH_MAX];
	pthread_t writer, reader;
	atomic_bool looked_up;
};

static void *probe_writer(void *arg)
{
	struct probe *p = arg;

	if (mkdir(p->writer_path, 0755))
		fprintf(stderr, "probe: mkdir %s: %s\n", p->writer_path,
			strerror(errno));
	return NULL;
}

static void *probe_reader(void *arg)
{
	struct probe *p = arg;
	struct stat st;

	stat(p->reader_path, &st);	/* a name never looked up: ENOENT */
	atomic_store(&p->looked_up, true);
	return NULL;
}

static bool probe_run(struct probe *p)
{
	static int n;

	if (snprintf(p->writer_path, sizeof(p->writer_path), "%s/w%d",
		     lock_dir, n) >= (int)sizeof(p->writer_path) ||
	    snprintf(p->reader_path, sizeof(p->reader_path), "%s/missing%d",
		     lock_dir, n) >= (int)sizeof(p->reader_path))
		tl_die("probe: path too long");
	n++;
	atomic_store(&p->looked_up, false);
	if (pthread_create(&p->writer, NULL, probe_writer, p))
		tl_die("pthread_create");
	usleep(100 * 1000);	/* the writer queues on the directory */
	if (pthread_create(&p->reader, NULL, probe_reader, p))
		tl_die("pthread_create");
	for (int i = 0; i < 200 && !atomic_load(&p->looked_up); i++)
		usleep(10 * 1000);
	return atomic_load(&p->looked_up);
}

/*
 * Decision requests (FUSE_BPF_USER_FILTER): judged by name.
 * PREFILTER: ask_no* refused (EACCES), GETXATTR refused (EBADE), ACCESS
 * refused for uid 1000 (EACCES),
 * askbad_payload answered with a
 * payload, askbad_errno with an error that is no errno, others allowed.
 * POSTFILTER: askpost_hide turned into ENOENT, askpost_missing into 0
 * (which must not make it exist), others keep the backing result.
 */
static void serve_decision(struct conn *c, struct fuse_in_header *ih,
			   const void *body, size_t len)
{
	static const uint64_t payload = 0;
	const struct fuse_bpf_filter_in *in = body;
	const char *names = (const char *)(in + 1);
	bool pre = ih->opcode & FUSE_PREFILTER;
	uint32_t op = ih->opcode & ~(FUSE_PREFILTER | FUSE_POSTFILTER);
	struct decision d = { .opcode = ih->opcode, .nodeid = ih->nodeid,
			      .uid = ih->uid };
	int error = 0, armed = PROBE_ARMED;
	bool probing = false;
	struct probe probe;

	if (len < sizeof(*in) ||
	    len != sizeof(*in) + in->name_len + in->new_name_len ||
	    (ih->opcode & FUSE_PREFILTER && ih->opcode & FUSE_POSTFILTER) ||
	    (pre && in->result) || in->result > 0 ||
	    !copy_name(d.name, sizeof(d.name), names, in->name_len) ||
	    !copy_name(d.new_name, sizeof(d.new_name), names + in->name_len,
		       in->new_name_len)) {
		atomic_fetch_add(&c->bad_decisions, 1);
		rawfuse_reply(&c->rf, ih->unique, -EPROTO, NULL, 0, NULL, 0);
		return;
	}
	d.in = *in;
	pthread_mutex_lock(&c->rf.lock);
	c->last = d;
	if (d.new_name[0])
		c->last_two_names = d;
	pthread_mutex_unlock(&c->rf.lock);
	if (op < 64)
		atomic_fetch_add(pre ? &c->pre_ops[op] : &c->post_ops[op], 1);

	if (pre && has_prefix(d.name, "askbad_payload")) {
		rawfuse_reply(&c->rf, ih->unique, 0, &payload, sizeof(payload), NULL, 0);
		return;
	}
	if (pre && op == FUSE_READDIR && !strcmp(d.name, "ask_lock") &&
	    atomic_compare_exchange_strong(&c->lock_probe, &armed,
					   PROBE_RUNNING)) {
		probing = true;
		atomic_store(&c->lock_probe, probe_run(&probe) ? PROBE_PASSED :
			     PROBE_STUCK);
	}
	if (pre && op == FUSE_GETXATTR)
		error = -EBADE;
	else if (pre && op == FUSE_ACCESS)
		error = d.uid == 1000 ? -EACCES : 0;
	else if (pre)
		error = has_prefix(d.name, "ask_no") ? -EACCES :
			has_prefix(d.name, "askbad_errno") ? -300 : 0;
	else
		error = has_prefix(d.name, "askpost_hide") ? -ENOENT :
			has_prefix(d.name, "askpost_missing") ? 0 : in->result;
	rawfuse_reply(&c->rf, ih->unique, error, NULL, 0, NULL, 0);
	if (probing) {
		pthread_join(probe.writer, NULL);
		pthread_join(probe.reader, NULL);
	}
}

/* rawfuse handler: the decision requests, the rest to rawfuse */
static bool serve_decisions(struct rawfuse *rf, struct fuse_in_header *ih,
			    const void *in, size_t len)
{
	if (!(ih->opcode & (FUSE_PREFILTER | FUSE_POSTFILTER)))
		return false;
	serve_decision((struct conn *)rf, ih, in, len);
	return true;
}

static void conn_mount(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	rawfuse_mount(&c->rf, "bpf_filter", tl_path("%s/mnt", tf.scratch),
		      "bpf_filter", true, serve_decisions);
}

/* ---- ops, returning an errno (0: success) ---- */

static int stat_fn(void *path)
{
	return tl_stat_err(path);
}

static int read_err(const char *path)
{
	return tl_file_equals(path, "data\n") ? 0 : EIO;
}

static uint64_t calls_of(struct test_filter_bpf *skel, uint32_t opcode)
{
	uint64_t v = 0;

	bpf_map__lookup_elem(skel->maps.calls, &opcode, sizeof(opcode), &v,
			     sizeof(v), 0);
	return v;
}

static struct test_last last_seen(struct test_filter_bpf *skel)
{
	struct test_last l = { 0 };
	uint32_t zero = 0;

	bpf_map__lookup_elem(skel->maps.last, &zero, sizeof(zero), &l,
			     sizeof(l), 0);
	return l;
}

static struct decision last_decision(struct conn *c, bool two_names)
{
	struct decision d;

	pthread_mutex_lock(&c->rf.lock);
	d = two_names ? c->last_two_names : c->last;
	pthread_mutex_unlock(&c->rf.lock);
	return d;
}

static void make_tree(const char *back)
{
	static const char *const dirs[] = {
		"sub", "user_ro", "user_ro/d", "user_meta", "lockdir",
	};
	static const char *const files[] = {
		"file", "secret", "deny_x", "post_hide", "sub/user_x",
		"user_ro/data", "user_ro/d/inner",
		"ask_ok", "ask_no", "ask_from", "askbad_payload",
		"askbad_errno", "askpost_keep", "askpost_hide", "sub/ask_ok",
		"sub/askpost_hide", "hidden_a", "sub/hidden_b", "user_meta/f",
		"lockdir/a", "lockdir/ask_lock", "lockdir/b", "user_perm",
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(tl_path("%s/%s", back, dirs[i]), 0755))
			tl_die("mkdir %s: %s", dirs[i], strerror(errno));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (tl_write_file(tl_path("%s/%s", back, files[i]), "data\n", 5,
				  0644))
			tl_die("cannot create %s", files[i]);
	if (symlink("f", tl_path("%s/user_meta/l", back)))
		tl_die("symlink user_meta/l: %s", strerror(errno));
	if (chmod(tl_path("%s/user_perm", back), 0600))
		tl_die("chmod user_perm: %s", strerror(errno));
	if (snprintf(lock_dir, sizeof(lock_dir), "%s/lockdir", back) >=
	    (int)sizeof(lock_dir))
		tl_die("scratch path too long");
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void test_bad_program(struct conn *c, const char *mnt)
{
	struct test_filter_bad_bpf *bad;

	libbpf_set_print(quiet);	/* the verifier log is expected */
	bad = test_filter_bad_bpf__open_and_load();
	libbpf_set_print(NULL);
	tl_check("a filter writing its read-only args is rejected at load",
		 !bad, "it loaded");
	test_filter_bad_bpf__destroy(bad);
	tl_check_errno("its name was never registered: FILTER_OPEN ENOENT",
		       -rawfuse_filter_open(&c->rf, "fusebpf_bad", 0), ENOENT);
	tl_check_errno("the mount keeps working after the rejected load",
		       tl_stat_err(tl_path("%s/file", mnt)), 0);
}

static void test_attach_errors(struct conn *c, int root_id, int fid)
{
	tl_check_errno("ROOT_SET with an unknown filter id: ENOENT",
		       -rawfuse_root_set(&c->rf, root_id, 999), ENOENT);
	tl_check_errno("ROOT_SET with a filter but no backing: EINVAL",
		       -rawfuse_root_set(&c->rf, 0, fid), EINVAL);
	tl_check_errno("the mount keeps working after the refused attach",
		       -rawfuse_root_set(&c->rf, root_id, 0) ?:
		       tl_stat_err(tl_path("%s/file", c->rf.mnt)), 0);
}

static void test_read_only(struct conn *c, struct test_filter_bpf *skel,
			   const char *back)
{
	const char *m = c->rf.mnt;
	struct test_last l;
	unsigned int req0 = requests(c), ops0[RAWFUSE_OPCODES];

	rawfuse_snapshot(&c->rf, ops0);

	tl_check_errno("read-only: read a file",
		       read_err(tl_path("%s/user_ro/data", m)), 0);
	tl_check_errno("read-only: read a file one level down",
		       read_err(tl_path("%s/user_ro/d/inner", m)), 0);
	l = last_seen(skel);
	tl_check("read-only: the filter saw tag 7", l.tag == READ_ONLY_TAG,
		 "tag %u", l.tag);
	tl_check_errno("read-only: open for writing: EROFS",
		       tl_open_err(tl_path("%s/user_ro/data", m), O_WRONLY), EROFS);
	tl_check_errno("read-only: O_TRUNC: EROFS",
		       tl_open_err(tl_path("%s/user_ro/data", m), O_RDONLY | O_TRUNC),
		       EROFS);
	tl_check_errno("read-only: create: EROFS",
		       tl_open_err(tl_path("%s/user_ro/new", m), O_CREAT | O_WRONLY),
		       EROFS);
	tl_check_errno("read-only: mkdir: EROFS",
		       mkdir(tl_path("%s/user_ro/d/x", m), 0755) ? errno : 0, EROFS);
	tl_check_errno("read-only: unlink: EROFS",
		       unlink(tl_path("%s/user_ro/d/inner", m)) ? errno : 0, EROFS);
	tl_check_errno("read-only: rename out: EROFS",
		       rename(tl_path("%s/user_ro/data", m),
			      tl_path("%s/moved", m)) ? errno : 0, EROFS);
	tl_check_errno("read-only: chmod: EROFS",
		       chmod(tl_path("%s/user_ro/data", m), 0600) ? errno : 0,
		       EROFS);
	tl_check_errno("read-only: symlink: EROFS",
		       symlink("x", tl_path("%s/user_ro/l", m)) ? errno : 0, EROFS);
	tl_check("read-only: backing unchanged",
		 tl_file_equals(tl_path("%s/user_ro/data", back), "data\n") &&
		 tl_stat_err(tl_path("%s/user_ro/d/inner", back)) == 0 &&
		 tl_stat_err(tl_path("%s/user_ro/new", back)) == ENOENT, "changed");
	tl_check("read-only: no request reached the server",
		 requests(c) == req0, "%u requests: %s", requests(c) - req0,
		 rawfuse_requests_since(&c->rf, ops0));
	tl_check_errno("outside the read-only subtree, writes work",
		       tl_open_err(tl_path("%s/newfile", m), O_CREAT | O_WRONLY), 0);
}

/* PREFILTER requests: the server allows or refuses, the kernel runs */
static void test_prefilter(struct conn *c, const char *back)
{
	const char *m = c->rf.mnt;
	unsigned int ops0[RAWFUSE_OPCODES], pre0 = atomic_load(&c->pre_ops[FUSE_LOOKUP]);
	struct decision d;

	rawfuse_snapshot(&c->rf, ops0);
	tl_check_errno("PREFILTER allows: ask_ok found",
		       tl_stat_err(tl_path("%s/ask_ok", m)), 0);
	d = last_decision(c, false);
	tl_check("the server got LOOKUP|FUSE_PREFILTER for ask_ok",
		 atomic_load(&c->pre_ops[FUSE_LOOKUP]) > pre0 &&
		 d.opcode == (FUSE_LOOKUP | FUSE_PREFILTER) &&
		 !strcmp(d.name, "ask_ok") && !d.new_name[0] &&
		 d.in.name_len == 7 && d.in.result == 0,
		 "opcode %#x name '%s' name_len %u result %d", d.opcode,
		 d.name, d.in.name_len, d.in.result);
	tl_check("the decision names the root (a server inode), uid 0, tag 0",
		 d.nodeid == FUSE_ROOT_ID && d.uid == 0 && d.in.tag == 0,
		 "nodeid %#llx uid %u tag %u", (unsigned long long)d.nodeid,
		 d.uid, d.in.tag);
	tl_check_errno("PREFILTER allows: ask_ok read on the backing",
		       read_err(tl_path("%s/ask_ok", m)), 0);
	tl_check_errno("PREFILTER refuses: ask_no gets the server's EACCES",
		       tl_stat_err(tl_path("%s/ask_no", m)), EACCES);
	tl_check_errno("PREFILTER allows mkdir: ask_dir created",
		       mkdir(tl_path("%s/ask_dir", m), 0755) ? errno : 0, 0);
	d = last_decision(c, false);
	tl_check("the server judged MKDIR|FUSE_PREFILTER with the mode",
		 d.opcode == (FUSE_MKDIR | FUSE_PREFILTER) &&
		 !strcmp(d.name, "ask_dir") && (d.in.flags & 0777) == 0755,
		 "opcode %#x name '%s' flags %#o", d.opcode, d.name, d.in.flags);
	tl_check_errno("ask_dir exists in the backing",
		       tl_stat_err(tl_path("%s/ask_dir", back)), 0);
	tl_check_errno("PREFILTER refuses mkdir: ask_no_dir EACCES",
		       mkdir(tl_path("%s/ask_no_dir", m), 0755) ? errno : 0,
		       EACCES);
	tl_check_errno("ask_no_dir not created in the backing",
		       tl_stat_err(tl_path("%s/ask_no_dir", back)), ENOENT);
	tl_check_errno("PREFILTER allows rename: ask_from -> ask_to",
		       rename(tl_path("%s/ask_from", m),
			      tl_path("%s/ask_to", m)) ? errno : 0, 0);
	/* the moved inode's own filter is asked too, with its name only */
	d = last_decision(c, true);
	tl_check("RENAME2|FUSE_PREFILTER carries both names",
		 d.opcode == (FUSE_RENAME2 | FUSE_PREFILTER) &&
		 !strcmp(d.name, "ask_from") && !strcmp(d.new_name, "ask_to") &&
		 d.in.new_name_len == 7,
		 "opcode %#x names '%s' '%s'", d.opcode, d.name, d.new_name);
	tl_check_errno("ask_to exists in the backing",
		       tl_stat_err(tl_path("%s/ask_to", back)), 0);
	tl_check("no plain request reached the server", requests(c) ==
		 rawfuse_requests_at(ops0), "%s", rawfuse_requests_since(&c->rf, ops0));

	tl_check_errno("PREFILTER as uid 1000: allowed",
		       tl_as_user(&TL_USER_A, stat_fn,
				  (void *)tl_path("%s/ask_ok", m)), 0);
	d = last_decision(c, false);
	tl_check("the decision request carries uid 1000", d.uid == 1000,
		 "uid %u", d.uid);
	tl_check_errno("PREFILTER in a kernel-resolved dir: sub/ask_ok found",
		       tl_stat_err(tl_path("%s/sub/ask_ok", m)), 0);
	d = last_decision(c, false);
	tl_check("the decision names the kernel-only node id of sub",
		 d.nodeid & (1ULL << 63) && !strcmp(d.name, "ask_ok"),
		 "nodeid %#llx name '%s'", (unsigned long long)d.nodeid,
		 d.name);
}

/* POSTFILTER requests: the server sees the backing result, changes it */
static void test_postfilter(struct conn *c, struct test_filter_bpf *skel)
{
	const char *m = c->rf.mnt;
	unsigned int ops0[RAWFUSE_OPCODES], post0 = atomic_load(&c->post_ops[FUSE_LOOKUP]);
	struct decision d;

	rawfuse_snapshot(&c->rf, ops0);
	tl_check_errno("POSTFILTER keeps the result: askpost_keep found",
		       tl_stat_err(tl_path("%s/askpost_keep", m)), 0);
	d = last_decision(c, false);
	tl_check("the server got LOOKUP|FUSE_POSTFILTER with result 0",
		 atomic_load(&c->post_ops[FUSE_LOOKUP]) > post0 &&
		 d.opcode == (FUSE_LOOKUP | FUSE_POSTFILTER) &&
		 !strcmp(d.name, "askpost_keep") && d.in.result == 0,
		 "opcode %#x name '%s' result %d", d.opcode, d.name,
		 d.in.result);
	tl_check_errno("POSTFILTER changes 0 into ENOENT: askpost_hide",
		       tl_stat_err(tl_path("%s/askpost_hide", m)), ENOENT);
	d = last_decision(c, false);
	tl_check("...after seeing the backing result 0 (root: server inode)",
		 d.in.result == 0 && d.nodeid == FUSE_ROOT_ID,
		 "result %d nodeid %#llx", d.in.result,
		 (unsigned long long)d.nodeid);
	tl_check_errno("POSTFILTER in a kernel-resolved dir: sub/askpost_hide ENOENT",
		       tl_stat_err(tl_path("%s/sub/askpost_hide", m)), ENOENT);
	d = last_decision(c, false);
	tl_check("...judged on the kernel-only node id with result 0",
		 d.in.result == 0 && d.nodeid & (1ULL << 63) &&
		 d.opcode == (FUSE_LOOKUP | FUSE_POSTFILTER),
		 "result %d nodeid %#llx", d.in.result,
		 (unsigned long long)d.nodeid);
	tl_check_errno("POSTFILTER 0 for a missing name: still ENOENT",
		       tl_stat_err(tl_path("%s/askpost_missing", m)), ENOENT);
	d = last_decision(c, false);
	tl_check("...the server saw the backing result -ENOENT",
		 d.in.result == -ENOENT && !strcmp(d.name, "askpost_missing"),
		 "result %d name '%s'", d.in.result, d.name);
	tl_check("no plain request reached the server", requests(c) ==
		 rawfuse_requests_at(ops0), "%s", rawfuse_requests_since(&c->rf, ops0));
	tl_check("the post-filter ran", calls_of(skel, FUSE_LOOKUP) > 0,
		 "no LOOKUP call");
}

/* Garbage replies to decision requests give EIO, nothing else */
static void test_bad_decisions(struct conn *c)
{
	const char *m = c->rf.mnt;

	tl_check_errno("decision reply with a payload: EIO",
		       tl_stat_err(tl_path("%s/askbad_payload", m)), EIO);
	tl_check_errno("decision reply with an error that is no errno: EIO",
		       tl_stat_err(tl_path("%s/askbad_errno", m)), EIO);
	tl_check_errno("the mount keeps working after garbage replies",
		       tl_stat_err(tl_path("%s/file", m)), 0);
	tl_check("every decision request was well-formed",
		 atomic_load(&c->bad_decisions) == 0, "%u malformed",
		 atomic_load(&c->bad_decisions));
}

static int access_read_fn(void *path)
{
	return access(path, R_OK) ? errno : 0;
}

/* Reads of metadata in a subtree with tag 9 (tests/bpf/test_filter.bpf.c) */
static void test_metadata_reads(struct conn *c, int fid)
{
	const char *m = c->rf.mnt, *f = tl_path("%s/user_meta/f", m);
	unsigned int ops0[RAWFUSE_OPCODES], pre0;
	struct statx stx;
	struct statfs sfs;
	struct decision d;
	char buf[256];

	struct fuse_bpf_entry_out ext = {
		.backing_action = FUSE_BPF_BACKING_INHERIT,
		.filter_action = FUSE_BPF_FILTER_SET,
		.filter_id = fid,
		.flags = FUSE_BPF_ENTRY_TAG,
		.tag = META_TAG,
	};

	rawfuse_script(&c->rf, "user_meta", S_IFDIR | 0755, &ext, sizeof(ext));
	tl_check_errno("tag 9: stat of the subtree's root: EPERM (GETATTR)",
		       tl_stat_err(tl_path("%s/user_meta", m)), EPERM);
	rawfuse_snapshot(&c->rf, ops0);
	tl_check_errno("tag 9: stat: EPERM", tl_stat_err(f), EPERM);
	tl_check_errno("tag 9: statx: EPERM",
		       statx(AT_FDCWD, f, 0, STATX_BASIC_STATS, &stx) ?
		       errno : 0, EPERM);
	pre0 = atomic_load(&c->pre_ops[FUSE_ACCESS]);
	tl_check_errno("tag 9: access(R_OK) allowed by the server",
		       access(f, R_OK) ? errno : 0, 0);
	d = last_decision(c, false);
	tl_check("a permission check sent ACCESS|FUSE_PREFILTER with MAY_READ",
		 atomic_load(&c->pre_ops[FUSE_ACCESS]) > pre0 &&
		 d.opcode == (FUSE_ACCESS | FUSE_PREFILTER) &&
		 (d.in.flags & 4), "opcode %#x flags %#x", d.opcode,
		 d.in.flags);
	tl_check_errno("tag 9: access(R_OK) as uid 1000: the server's EACCES",
		       tl_as_user(&TL_USER_A, access_read_fn, (void *)f),
		       EACCES);
	tl_check_errno("tag 9: access(W_OK): EACCES (ACCESS)",
		       access(f, W_OK) ? errno : 0, EACCES);
	tl_check_errno("tag 9: read through the filter still works",
		       read_err(f), 0);
	tl_check_errno("tag 9: readlink: ENOLINK (READLINK)",
		       readlink(tl_path("%s/user_meta/l", m), buf,
				sizeof(buf)) < 0 ? errno : 0, ENOLINK);
	tl_check_errno("tag 9: following the symlink: ENOLINK",
		       tl_open_err(tl_path("%s/user_meta/l", m), O_RDONLY),
		       ENOLINK);
	tl_check_errno("tag 9: getxattr: the server's EBADE (GETXATTR decision)",
		       getxattr(f, "user.x", buf, sizeof(buf)) < 0 ? errno : 0,
		       EBADE);
	d = last_decision(c, false);
	tl_check("the server judged GETXATTR|FUSE_PREFILTER with tag 9",
		 d.opcode == (FUSE_GETXATTR | FUSE_PREFILTER) &&
		 d.in.tag == META_TAG && !d.in.name_len &&
		 d.nodeid & (1ULL << 63),
		 "opcode %#x tag %u name_len %u nodeid %#llx", d.opcode,
		 d.in.tag, d.in.name_len, (unsigned long long)d.nodeid);
	tl_check_errno("tag 9: listxattr: the post-filter's EBADR",
		       listxattr(f, buf, sizeof(buf)) < 0 ? errno : 0, EBADR);
	tl_check_errno("tag 9: statfs: ENOSTR (STATFS)",
		       statfs(f, &sfs) ? errno : 0, ENOSTR);
	tl_check("tag 9: no plain request reached the server",
		 requests(c) == rawfuse_requests_at(ops0), "%s",
		 rawfuse_requests_since(&c->rf, ops0));

	f = tl_path("%s/file", m);
	tl_check_errno("outside: stat works", tl_stat_err(f), 0);
	tl_check_errno("outside: statx works",
		       statx(AT_FDCWD, f, 0, STATX_BASIC_STATS, &stx) ?
		       errno : 0, 0);
	tl_check_errno("outside: access(W_OK) works", access(f, W_OK) ?
		       errno : 0, 0);
	tl_check_errno("outside: getxattr reaches the backing (ENODATA)",
		       getxattr(f, "user.x", buf, sizeof(buf)) < 0 ? errno : 0,
		       ENODATA);
	tl_check_errno("outside: listxattr works",
		       listxattr(f, buf, sizeof(buf)) < 0 ? errno : 0, 0);
	tl_check_errno("outside: statfs works", statfs(f, &sfs) ? errno : 0,
		       0);
}

/* Does the listing of @dir (opendir/readdir) contain @name? -1: error */
static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, name))
			found = 1;
	closedir(d);
	return found;
}

/*
 * The names getdents64 returns for @dir, NUL-separated in @out, reading
 * @bufsize bytes at a time
 */
static int getdents_names(const char *dir, char *out, size_t cap,
			  size_t bufsize)
{
	char buf[8192];
	size_t len = 0;
	long n;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (bufsize > sizeof(buf))
		bufsize = sizeof(buf);
	while ((n = syscall(SYS_getdents64, fd, buf, bufsize)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *e = (void *)(buf + off);
			size_t l = strlen(e->d_name) + 1;

			if (len + l < cap) {
				memcpy(out + len, e->d_name, l);
				len += l;
			}
			off += e->d_reclen;
		}
	}
	close(fd);
	out[len] = '\0';
	return n < 0 ? -errno : 0;
}

static int names_count(const char *names, const char *name)
{
	int n = 0;

	for (const char *p = names; *p; p += strlen(p) + 1)
		n += !strcmp(p, name);
	return n;
}

static bool names_have(const char *names, const char *name)
{
	return names_count(names, name) > 0;
}

/* In-kernel READDIR with the per-entry filter */
static void test_readdir(struct conn *c)
{
	const char *m = c->rf.mnt;
	unsigned int ops0[RAWFUSE_OPCODES], pre0 = atomic_load(&c->pre_ops[FUSE_READDIR]);
	char names[4096];
	int err;

	rawfuse_snapshot(&c->rf, ops0);
	tl_check("readdir of the root lists file and ask_ok",
		 listed(m, "file") == 1 && listed(m, "ask_ok") == 1 &&
		 listed(m, ".") == 1 && listed(m, "..") == 1, "missing");
	tl_check("readdir hides hidden_a (READDIR pre-filter ENOENT)",
		 listed(m, "hidden_a") == 0, "listed");
	tl_check_errno("hidden_a is only hidden from listings: stat works",
		       tl_stat_err(tl_path("%s/hidden_a", m)), 0);
	tl_check("readdir hides deny_x (pre-filter EACCES for every op)",
		 listed(m, "deny_x") == 0, "listed");
	tl_check("readdir hides ask_no (the server refuses READDIR|PREFILTER)",
		 listed(m, "ask_no") == 0, "listed");
	tl_check("readdir hides askbad_* (garbage decisions: EIO)",
		 listed(m, "askbad_payload") == 0 &&
		 listed(m, "askbad_errno") == 0, "listed");
	tl_check("the server got READDIR|FUSE_PREFILTER per ask_* entry",
		 atomic_load(&c->pre_ops[FUSE_READDIR]) > pre0, "none");
	err = getdents_names(tl_path("%s/sub", m), names, sizeof(names), 8192);
	tl_check("getdents64 in a kernel-resolved dir lists user_x and ask_ok",
		 !err && names_have(names, "user_x") &&
		 names_have(names, "ask_ok"), "%s", strerror(-err));
	tl_check("getdents64 in a kernel-resolved dir hides hidden_b",
		 !err && !names_have(names, "hidden_b"), "listed");
	tl_check_errno("sub/hidden_b still found by lookup",
		       tl_stat_err(tl_path("%s/sub/hidden_b", m)), 0);
	tl_check("listings sent the server no plain request",
		 requests(c) == rawfuse_requests_at(ops0), "%s",
		 rawfuse_requests_since(&c->rf, ops0));
}

static bool lockdir_listed_once(const char *names)
{
	return names_count(names, "a") == 1 &&
	       names_count(names, "ask_lock") == 1 &&
	       names_count(names, "b") == 1 && names_count(names, ".") == 1;
}

/*
 * A READDIR decision is asked with the backing directory unlocked (the
 * probe in serve_decision), and the entry is listed once, also when
 * getdents64 is full right at it and the next call starts with it.
 */
static void test_readdir_unlocked(struct conn *c)
{
	const char *dir = tl_path("%s/lockdir", c->rf.mnt);
	char names[4096];
	int err, probe;

	atomic_store(&c->lock_probe, PROBE_ARMED);
	err = getdents_names(dir, names, sizeof(names), 8192);
	probe = atomic_load(&c->lock_probe);
	tl_check("READDIR decision: the server's lookup in the listed dir did "
		 "not wait for the listing (dir unlocked while asking)",
		 probe == PROBE_PASSED, "%s", probe == PROBE_STUCK ?
		 "stuck behind the writer for 2 s" : "no decision request");
	tl_check("lockdir lists a, ask_lock and b once each",
		 !err && lockdir_listed_once(names), "%s",
		 err ? strerror(-err) : "wrong names");
	/* 40 bytes: one entry per getdents64 call */
	err = getdents_names(dir, names, sizeof(names), 40);
	tl_check("one entry per getdents64: a, ask_lock and b once each",
		 !err && lockdir_listed_once(names), "%s",
		 err ? strerror(-err) : "wrong names");
}

static int open_read_fn(void *path)
{
	return tl_open_err(path, O_RDONLY);
}

/*
 * FUSE_BPF_USER for a permission check on a server inode: FUSE's own
 * check. This mount has no default_permissions, so FUSE asks nobody for
 * open's check; the backing's check stays (the open runs on the backing):
 * uid 1000 cannot open root's 0600 file.
 */
static void test_user_permission(struct conn *c)
{
	const char *f = tl_path("%s/user_perm", c->rf.mnt);
	struct fuse_bpf_entry_out ext = {
		.backing_action = FUSE_BPF_BACKING_INHERIT,
		.flags = FUSE_BPF_ENTRY_TAG,
		.tag = USER_PERM_TAG,
	};

	rawfuse_script(&c->rf, "user_perm", S_IFREG | 0600, &ext, sizeof(ext));
	tl_check_errno("FUSE_BPF_USER permission: root opens user_perm",
		       tl_open_err(f, O_RDONLY), 0);
	tl_check_errno("FUSE_BPF_USER permission: uid 1000 gets the backing's "
		       "EACCES on a 0600 file",
		       tl_as_user(&TL_USER_A, open_read_fn, (void *)f), EACCES);
}

/* Decisions fail closed: with the connection aborted, the op fails */
static void test_dead_server(struct conn *c)
{
	int err = rawfuse_abort(&c->rf);

	if (err) {
		tl_fail("abort the connection", "%s", strerror(-err));
		return;
	}
	tl_check_errno("aborted connection: a decision fails (ENOTCONN)",
		       tl_stat_err(tl_path("%s/ask_ok", c->rf.mnt)), ENOTCONN);
	tl_check_errno("aborted connection: a new name needing a decision fails",
		       tl_stat_err(tl_path("%s/ask_other", c->rf.mnt)), ENOTCONN);
	tl_check_errno("aborted connection: ops without decision still work",
		       tl_stat_err(tl_path("%s/file", c->rf.mnt)), 0);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : NULL;
	struct fuse_bpf_entry_out ext = { 0 };
	struct test_filter_bpf *skel;
	const char *back;
	struct test_last l;
	unsigned int req0;
	int root_id, fid, err;
	struct conn c;
	const char *m;
	uint64_t n0;

	test_filter_setup(&tf, "bpf_filter", base);
	skel = tf.skel;
	back = tf.back;
	make_tree(back);

	conn_mount(&c);
	m = c.rf.mnt;
	root_id = rawfuse_backing_open(&c.rf, back);
	if (root_id <= 0)
		tl_die("backing open: %s", strerror(-root_id));

	tl_check_errno("FILTER_OPEN of an unregistered name: ENOENT",
		       -rawfuse_filter_open(&c.rf, "no_such_filter", 0), ENOENT);
	tl_check_errno("FILTER_OPEN with flags: EINVAL",
		       -rawfuse_filter_open(&c.rf, "fusebpf_test", 1), EINVAL);
	tl_check_errno("FILTER_OPEN of an unterminated name: EINVAL",
		       -rawfuse_filter_open(&c.rf, "0123456789abcdef", 0), EINVAL);
	tl_check_errno("FILTER_CLOSE of an unknown id: ENOENT",
		       -rawfuse_filter_close(&c.rf, 999), ENOENT);
	fid = rawfuse_filter_open(&c.rf, "fusebpf_test", 0);
	if (fid <= 0)
		tl_die("FILTER_OPEN of the attached test filter: %s",
		       strerror(-fid));
	test_attach_errors(&c, root_id, fid);
	tl_check_errno("ROOT_SET with the filter", -rawfuse_root_set(&c.rf, root_id, fid), 0);
	test_bad_program(&c, m);

	/* the read-only subtree comes from the server, with tag 7 */
	ext.backing_action = FUSE_BPF_BACKING_INHERIT;
	ext.filter_action = FUSE_BPF_FILTER_SET;
	ext.filter_id = 999;
	ext.flags = FUSE_BPF_ENTRY_TAG;
	ext.tag = READ_ONLY_TAG;
	rawfuse_script(&c.rf, "user_ro", S_IFDIR | 0755, &ext, sizeof(ext));
	tl_check_errno("LOOKUP reply naming an unknown filter id: EIO",
		       tl_stat_err(tl_path("%s/user_ro", m)), EIO);
	ext.filter_id = fid;
	rawfuse_script(&c.rf, "user_ro", S_IFDIR | 0755, &ext, sizeof(ext));

	req0 = requests(&c);
	n0 = calls_of(skel, FUSE_LOOKUP);
	tl_check_errno("allowed name: served in the kernel",
		       tl_stat_err(tl_path("%s/file", m)), 0);
	tl_check("the pre-filter ran for LOOKUP",
		 calls_of(skel, FUSE_LOOKUP) > n0, "no call");
	tl_check_errno("read through the filter", read_err(tl_path("%s/file", m)), 0);
	tl_check("no request reached the server", requests(&c) == req0,
		 "%u requests", requests(&c) - req0);

	tl_check_errno("pre-filter errno on LOOKUP (deny_x: EACCES)",
		       tl_stat_err(tl_path("%s/deny_x", m)), EACCES);
	tl_check_errno("pre-filter errno on MKDIR (deny_dir: EACCES)",
		       mkdir(tl_path("%s/deny_dir", m), 0755) ? errno : 0, EACCES);
	tl_check("deny_dir not created in the backing",
		 tl_stat_err(tl_path("%s/deny_dir", back)) == ENOENT, "it exists");

	tl_check_errno("secret: root finds it (dentry cached)",
		       tl_stat_err(tl_path("%s/secret", m)), 0);
	tl_check_errno("secret: uid 1000 gets ENOENT despite the cached dentry",
		       tl_as_user(&TL_USER_A, stat_fn,
				  (void *)tl_path("%s/secret", m)), ENOENT);
	l = last_seen(skel);
	tl_check("the filter saw uid 1000", l.uid == 1000, "uid %u", l.uid);
	tl_check_errno("secret: root still finds it",
		       tl_stat_err(tl_path("%s/secret", m)), 0);

	tl_check_errno("post-filter turns a found entry into ENOENT (post_hide)",
		       tl_stat_err(tl_path("%s/post_hide", m)), ENOENT);
	tl_check_errno("post_hide exists in the backing",
		       tl_stat_err(tl_path("%s/post_hide", back)), 0);

	req0 = atomic_load(&c.rf.ops[FUSE_LOOKUP]);
	tl_check_errno("FUSE_BPF_USER on a server inode: the server answers",
		       tl_stat_err(tl_path("%s/user_ro", m)), 0);
	tl_check("the server got the LOOKUP",
		 atomic_load(&c.rf.ops[FUSE_LOOKUP]) == req0 + 1, "%u LOOKUPs",
		 atomic_load(&c.rf.ops[FUSE_LOOKUP]) - req0);
	tl_check_errno("FUSE_BPF_USER on a kernel inode: EIO",
		       tl_stat_err(tl_path("%s/sub/user_x", m)), EIO);

	test_read_only(&c, skel, back);
	test_prefilter(&c, back);
	test_postfilter(&c, skel);
	test_bad_decisions(&c);
	test_readdir(&c);
	test_readdir_unlocked(&c);
	test_metadata_reads(&c, fid);
	test_user_permission(&c);

	tl_check_errno("FILTER_CLOSE of the attached id", -rawfuse_filter_close(&c.rf, fid), 0);
	tl_check_errno("closed id: attached inodes keep their filter",
		       tl_stat_err(tl_path("%s/deny_x", m)), EACCES);
	err = bpf_link__destroy(tf.link);
	tf.link = NULL;
	tl_check("struct_ops detached", err == 0, "%s", strerror(-err));
	tl_check_errno("detached program: attached inodes keep their filter",
		       tl_stat_err(tl_path("%s/deny_x", m)), EACCES);
	tl_check_errno("detached program: a new FILTER_OPEN fails",
		       -rawfuse_filter_open(&c.rf, "fusebpf_test", 0), ENOENT);

	test_dead_server(&c);
	rawfuse_unmount(&c.rf);
	test_filter_teardown(&tf);
	return tl_done();
}
