// SPDX-License-Identifier: GPL-2.0
/* Unit tests: raw INIT/OPEN/LOOKUP reply encoding. */
#include <errno.h>
#include <string.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpf/reply.h"
#include "unit.h"

static void test_init_in(void)
{
	struct fuse_init_in in = { .major = 7, .minor = 41 };
	uint64_t flags;

	in.flags = FUSE_ASYNC_READ | FUSE_INIT_EXT;
	in.flags2 = (uint32_t)(FUSE_PASSTHROUGH >> 32);
	CHECK(fusebpf_init_in_flags(&in, sizeof(in), &flags) == 0);
	CHECK(flags & FUSE_PASSTHROUGH);
	CHECK(flags & FUSE_ASYNC_READ);

	in.flags = FUSE_ASYNC_READ;	/* flags2 only counts with INIT_EXT */
	CHECK(fusebpf_init_in_flags(&in, sizeof(in), &flags) == 0);
	CHECK(!(flags & FUSE_PASSTHROUGH));
	CHECK(fusebpf_init_in_flags(&in, 8, &flags) == -EINVAL);
}

static void test_init_out(void)
{
	struct fuse_compat_init_out out = { .major = 7, .flags = FUSE_ASYNC_READ };

	CHECK(sizeof(out) == 64);
	CHECK(fusebpf_init_out_add(&out, sizeof(out), FUSE_PASSTHROUGH, 1) == 0);
	CHECK(out.flags == (FUSE_ASYNC_READ | FUSE_INIT_EXT));
	CHECK(out.flags2 == (1u << 5));	/* bit 37 */
	CHECK(out.max_stack_depth == 1 && out.major == 7);

	memset(&out, 0, sizeof(out));
	CHECK(fusebpf_init_out_add(&out, sizeof(out), FUSE_BPF, 0) == 0);
	CHECK(out.flags2 == (1u << 30) && out.max_stack_depth == 0);

	memset(&out, 0, sizeof(out));
	CHECK(fusebpf_init_out_add(&out, sizeof(out), 0, 0) == 0);
	CHECK(out.flags == 0 && out.flags2 == 0);
	/* a protocol 7.22 sized reply has no flags2 */
	CHECK(fusebpf_init_out_add(&out, 24, FUSE_PASSTHROUGH, 1) == -EINVAL);
}

static void test_open_out(void)
{
	struct fuse_compat_open_out out = { .fh = 42, .open_flags = FOPEN_KEEP_CACHE };

	CHECK(sizeof(out) == sizeof(struct fuse_open_out));
	CHECK(fusebpf_open_out_passthrough(&out, sizeof(out), 3) == 0);
	CHECK(out.open_flags == (FOPEN_KEEP_CACHE | FOPEN_PASSTHROUGH));
	CHECK(out.backing_id == 3 && out.fh == 42);
	CHECK(fusebpf_open_out_passthrough(&out, sizeof(out), 0) == -EINVAL);
	CHECK(fusebpf_open_out_passthrough(&out, 8, 3) == -EINVAL);
}

static void test_entry_ext(void)
{
	struct fuse_bpf_entry_out ext;

	CHECK(sizeof(ext) == 40);
	fusebpf_bpf_entry_encode(&ext, FUSE_BPF_BACKING_NONE, 9, 0);
	CHECK(ext.backing_action == FUSE_BPF_BACKING_NONE);
	CHECK(ext.backing_id == 0 && ext.filter_id == 0 && ext.flags == 0);
	CHECK(ext.filter_action == FUSE_BPF_FILTER_INHERIT);
	CHECK(ext.reserved[0] == 0 && ext.reserved[1] == 0);

	fusebpf_bpf_entry_encode(&ext, FUSE_BPF_BACKING_SET, 9,
				 FUSE_BPF_ENTRY_LOOKUP_SERVER | (1u << 31));
	CHECK(ext.backing_id == 9);
	CHECK(ext.flags == FUSE_BPF_ENTRY_LOOKUP_SERVER);	/* unknown bit dropped */
}

int main(void)
{
	test_init_in();
	test_init_out();
	test_open_out();
	test_entry_ext();
	return unit_report();
}
