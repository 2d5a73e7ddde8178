/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Encoding of the raw FUSE messages that libfuse 3.14 cannot produce:
 * INIT flags it does not know, passthrough open replies, FUSE-BPF lookup
 * reply extensions. Pure functions over byte buffers (unit-tested).
 */
#ifndef FUSEBPF_REPLY_H
#define FUSEBPF_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "uapi/linux/fuse_bpf.h"

/* Flags the kernel offered in a FUSE_INIT request (flags2 merged in). */
int fusebpf_init_in_flags(const void *init_in, size_t len, uint64_t *flags);

/*
 * Adds @flags (64-bit, bits >= 32 go to flags2 with FUSE_INIT_EXT) to a
 * fuse_init_out and sets max_stack_depth when nonzero. Returns 0 or
 * -EINVAL when @len is too small for the fields involved.
 */
int fusebpf_init_out_add(void *init_out, size_t len, uint64_t flags,
			 uint32_t max_stack_depth);

/* Marks a fuse_open_out as passthrough on @backing_id. */
int fusebpf_open_out_passthrough(void *open_out, size_t len,
				 int32_t backing_id);

/* Builds the lookup reply extension for a child inode. */
void fusebpf_bpf_entry_encode(struct fuse_bpf_entry_out *ext,
			      enum fuse_bpf_backing_action action,
			      uint32_t backing_id, uint32_t flags);

#endif /* FUSEBPF_REPLY_H */
