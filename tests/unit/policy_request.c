// SPDX-License-Identifier: GPL-2.0
/* Unit tests: decision requests of the kernel filter, parsed and replied. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fusebpf/policy.h"
#include "fusebpf/policy_request.h"
#include "unit.h"

static unsigned char buf[512];

/* A request of @opcode with @name_len/@new_len bytes of names as given */
static size_t build(uint32_t opcode, const char *name, size_t name_len,
		    const char *new_name, size_t new_len)
{
	struct fuse_in_header in = {
		.opcode = opcode, .unique = 42, .nodeid = 7,
		.uid = 10001, .gid = 10001, .pid = 99,
	};
	struct fuse_bpf_filter_in fin = {
		.tag = 0x80000101, .flags = O_RDWR, .result = 0,
		.name_len = name_len, .new_name_len = new_len,
	};
	size_t len = sizeof(in) + sizeof(fin) + name_len + new_len;

	in.len = len;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &in, sizeof(in));
	memcpy(buf + sizeof(in), &fin, sizeof(fin));
	if (name_len)
		memcpy(buf + sizeof(in) + sizeof(fin), name, name_len);
	if (new_len)
		memcpy(buf + sizeof(in) + sizeof(fin) + name_len, new_name, new_len);
	return len;
}

static int parse(size_t len, struct fusebpf_decision *dec)
{
	const char *why;
	int err = fusebpf_decision_parse(buf, len, dec, &why);

	CHECK(!err == !why);	/* an error always says why */
	return err;
}

static void test_good(void)
{
	struct fusebpf_decision dec;
	size_t len;

	CHECK(fusebpf_is_decision(FUSE_UNLINK | FUSE_PREFILTER));
	CHECK(fusebpf_is_decision(FUSE_LOOKUP | FUSE_POSTFILTER));
	CHECK(!fusebpf_is_decision(FUSE_UNLINK));

	len = build(FUSE_UNLINK | FUSE_PREFILTER, "a.txt", 6, NULL, 0);
	CHECK(parse(len, &dec) == 0);
	CHECK(dec.opcode == FUSE_UNLINK && !dec.post);
	CHECK(dec.unique == 42 && dec.nodeid == 7 && dec.uid == 10001 &&
	      dec.pid == 99 && dec.tag == 0x80000101);
	CHECK(dec.judge == FUSEBPF_JUDGE_REMOVE);
	CHECK(dec.access == FUSEBPF_ACCESS_WRITE);
	CHECK(dec.name && !strcmp(dec.name, "a.txt") && !dec.new_name);

	len = build(FUSE_RENAME2 | FUSE_PREFILTER, "old", 4, "new", 4);
	CHECK(parse(len, &dec) == 0);
	CHECK(dec.judge == FUSEBPF_JUDGE_RENAME);
	CHECK(!strcmp(dec.name, "old") && !strcmp(dec.new_name, "new"));

	/* the moved inode's own check: its name only, judged on itself */
	len = build(FUSE_RENAME2 | FUSE_PREFILTER, "old", 4, NULL, 0);
	CHECK(parse(len, &dec) == 0 && dec.judge == FUSEBPF_JUDGE_INODE);
	CHECK(dec.access == FUSEBPF_ACCESS_WRITE);

	len = build(FUSE_MKDIR | FUSE_PREFILTER, "d", 2, NULL, 0);
	CHECK(parse(len, &dec) == 0 && dec.judge == FUSEBPF_JUDGE_NEW);

	/* OPEN judged by its flags (O_RDWR in build) */
	len = build(FUSE_OPEN | FUSE_PREFILTER, NULL, 0, NULL, 0);
	CHECK(parse(len, &dec) == 0 && dec.judge == FUSEBPF_JUDGE_INODE);
	CHECK(dec.access == FUSEBPF_ACCESS_WRITE && !dec.name);
	len = build(FUSE_GETATTR | FUSE_PREFILTER, NULL, 0, NULL, 0);
	CHECK(parse(len, &dec) == 0 && dec.access == FUSEBPF_ACCESS_SEE);

	/* post-filter: the backing result travels */
	len = build(FUSE_LOOKUP | FUSE_POSTFILTER, "x", 2, NULL, 0);
	((struct fuse_bpf_filter_in *)(buf + sizeof(struct fuse_in_header)))->result = -ENOENT;
	CHECK(parse(len, &dec) == 0);
	CHECK(dec.post && dec.result == -ENOENT && dec.judge == FUSEBPF_JUDGE_LOOKUP);

	/* per-entry READDIR filtering */
	len = build(FUSE_READDIR | FUSE_PREFILTER, ".transforms", 12, NULL, 0);
	CHECK(parse(len, &dec) == 0 && dec.judge == FUSEBPF_JUDGE_ENTRY);
}

static void test_malformed(void)
{
	struct fusebpf_decision dec;
	struct fuse_in_header *in = (void *)buf;
	size_t len;

	/* shorter than a header: no unique to reply to */
	CHECK(parse(sizeof(*in) - 1, &dec) == -EINVAL && dec.unique == 0);

	/* short body */
	len = build(FUSE_UNLINK | FUSE_PREFILTER, NULL, 0, NULL, 0);
	in->len = sizeof(*in) + 8;
	CHECK(parse(sizeof(*in) + 8, &dec) == -EINVAL && dec.unique == 42);

	/* header length differs from what was read */
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "a", 2, NULL, 0);
	CHECK(parse(len - 1, &dec) == -EINVAL);

	/* name lengths that do not fit the body */
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "abc", 4, NULL, 0);
	((struct fuse_bpf_filter_in *)(buf + sizeof(*in)))->name_len = 5;
	CHECK(parse(len, &dec) == -EINVAL);
	((struct fuse_bpf_filter_in *)(buf + sizeof(*in)))->name_len = 0xffff;
	CHECK(parse(len, &dec) == -EINVAL);

	/* no NUL at the end, a NUL inside, empty, slash, dot-dot */
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "abcd", 4, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "a\0b", 4, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "", 1, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "a/b", 4, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);
	len = build(FUSE_UNLINK | FUSE_PREFILTER, "..", 3, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);

	/* missing names, a new name alone */
	len = build(FUSE_UNLINK | FUSE_PREFILTER, NULL, 0, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);
	len = build(FUSE_RENAME2 | FUSE_PREFILTER, NULL, 0, "new", 4);
	CHECK(parse(len, &dec) == -EINVAL);

	/* both flags; a post result that is no errno */
	len = build(FUSE_UNLINK | FUSE_PREFILTER | FUSE_POSTFILTER, "a", 2, NULL, 0);
	CHECK(parse(len, &dec) == -EINVAL);
	len = build(FUSE_UNLINK | FUSE_POSTFILTER, "a", 2, NULL, 0);
	((struct fuse_bpf_filter_in *)(buf + sizeof(*in)))->result = 5;
	CHECK(parse(len, &dec) == -EINVAL);

	/* an op the daemon does not judge */
	len = build(FUSE_READ | FUSE_PREFILTER, NULL, 0, NULL, 0);
	CHECK(parse(len, &dec) == -EIO && dec.unique == 42);
}

static void test_reply(void)
{
	struct fuse_out_header out;

	fusebpf_decision_reply(&out, 42, -EACCES);
	CHECK(out.len == sizeof(out) && out.error == -EACCES && out.unique == 42);
	fusebpf_decision_reply(&out, 43, 0);
	CHECK(out.error == 0 && out.unique == 43);
}

int main(void)
{
	test_good();
	test_malformed();
	test_reply();
	return unit_report();
}
