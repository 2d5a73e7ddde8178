// SPDX-License-Identifier: GPL-2.0
/* Raw FUSE message encoding; see include/fusebpf/reply.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpf/reply.h"

#define FIELD_END(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

int fusebpf_init_in_flags(const void *init_in, size_t len, uint64_t *flags)
{
	struct fuse_init_in in;

	if (len < FIELD_END(struct fuse_init_in, flags))
		return -EINVAL;
	memset(&in, 0, sizeof(in));
	memcpy(&in, init_in, len < sizeof(in) ? len : sizeof(in));
	*flags = in.flags;
	if ((in.flags & FUSE_INIT_EXT) &&
	    len >= FIELD_END(struct fuse_init_in, flags2))
		*flags |= (uint64_t)in.flags2 << 32;
	return 0;
}

int fusebpf_init_out_add(void *init_out, size_t len, uint64_t flags,
			 uint32_t max_stack_depth)
{
	struct fuse_compat_init_out out;
	size_t need = FIELD_END(struct fuse_compat_init_out, flags);

	if (flags >> 32)
		need = FIELD_END(struct fuse_compat_init_out, flags2);
	if (max_stack_depth)
		need = FIELD_END(struct fuse_compat_init_out, max_stack_depth);
	if (len < need)
		return -EINVAL;
	memcpy(&out, init_out, need);
	out.flags |= (uint32_t)flags;
	if (flags >> 32) {
		out.flags |= FUSE_INIT_EXT;
		out.flags2 |= (uint32_t)(flags >> 32);
	}
	if (max_stack_depth)
		out.max_stack_depth = max_stack_depth;
	memcpy(init_out, &out, need);
	return 0;
}

int fusebpf_open_out_passthrough(void *open_out, size_t len,
				 int32_t backing_id)
{
	struct fuse_compat_open_out out;

	if (len < sizeof(out) || backing_id <= 0)
		return -EINVAL;
	memcpy(&out, open_out, sizeof(out));
	out.open_flags |= FOPEN_PASSTHROUGH;
	out.backing_id = backing_id;
	memcpy(open_out, &out, sizeof(out));
	return 0;
}

void fusebpf_bpf_entry_encode(struct fuse_bpf_entry_out *ext,
			      enum fuse_bpf_backing_action action,
			      uint32_t backing_id, uint32_t flags)
{
	memset(ext, 0, sizeof(*ext));
	ext->backing_action = action;
	ext->backing_id = action == FUSE_BPF_BACKING_SET ? backing_id : 0;
	ext->filter_action = FUSE_BPF_FILTER_INHERIT;
	ext->flags = flags & FUSE_BPF_ENTRY_FLAGS;
}
