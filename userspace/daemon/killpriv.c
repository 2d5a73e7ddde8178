// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE_HANDLE_KILLPRIV_V2. Without it the kernel cannot mark a FUSE inode
 * S_NOSEC ("no set-id bits, no security.capability"), so every write()
 * first asks the daemon for GETXATTR(security.capability): one round trip
 * per write, even in passthrough mode where the data never reaches us.
 * With it the kernel leaves clearing set-id bits to the server and tells
 * it when (only for callers without CAP_FSETID, except chown):
 *   WRITE    with FUSE_WRITE_KILL_SUIDGID,
 *   SETATTR  with FATTR_KILL_SUIDGID (truncate, chown),
 *   OPEN / CREATE with FUSE_OPEN_KILL_SUIDGID (O_TRUNC).
 * libfuse 3.14 passes none of these flags to the handlers, so raw_io's
 * read hook hands every request to killpriv_see_request() and the handler
 * of that request (same worker thread) asks killpriv_requested().
 *
 * How: the daemon (root) performs such a write, truncate or O_TRUNC open
 * without CAP_FSETID in its effective set, so the backing filesystem
 * applies its own rule exactly as for an unprivileged writer (suid, sgid of
 * group-executable files, security.capability), as virtiofsd does. chown
 * needs nothing: a chown clears the bits whoever does it.
 *
 * Passthrough: writes never reach the daemon; the kernel writes the
 * backing file with the credentials of FUSE_DEV_IOC_BACKING_OPEN. They are
 * registered without CAP_FSETID, so the backing filesystem clears the bits
 * on every passthrough write, including a root writer's (POSIX allows
 * that; Linux keeps them for writers with CAP_FSETID).
 *
 * Mode bpf: ops on backed inodes run in the kernel with the caller's own
 * credentials (kernel patch 0004), so the backing filesystem clears the
 * bits itself; the flag still matters there, because it lets the kernel
 * mark the FUSE inode S_NOSEC: without it each write to a backed file
 * first runs GETXATTR(security.capability) on it in the kernel (through
 * the filter), which halved random writes. Daemon-served subtrees get the
 * same handling as mode userspace.
 */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpfd.h"
#include "killpriv.h"

static __thread bool kill_requested;

bool killpriv_negotiated(const struct daemon *d)
{
	return d->kernel_flags & FUSE_HANDLE_KILLPRIV_V2;
}

/* The u32 at @off of the request body, if the body holds it. */
static bool body_u32(const void *body, size_t len, size_t off, uint32_t *v)
{
	if (len < off + sizeof(*v))
		return false;
	memcpy(v, (const char *)body + off, sizeof(*v));
	return true;
}

void killpriv_see_request(const void *buf, size_t len)
{
	const struct fuse_in_header *in = buf;
	const void *body = in + 1;
	uint32_t v = 0, bit;
	size_t blen, off;

	kill_requested = false;
	if (len < sizeof(*in))
		return;
	blen = len - sizeof(*in);
	/* where each request carries its kill flag */
	switch (in->opcode) {
	case FUSE_WRITE:
		off = offsetof(struct fuse_write_in, write_flags);
		bit = FUSE_WRITE_KILL_SUIDGID;
		break;
	case FUSE_SETATTR:
		off = offsetof(struct fuse_setattr_in, valid);
		bit = FATTR_KILL_SUIDGID;
		break;
	case FUSE_OPEN:
		off = offsetof(struct fuse_open_in, open_flags);
		bit = FUSE_OPEN_KILL_SUIDGID;
		break;
	case FUSE_CREATE:
		off = offsetof(struct fuse_create_in, open_flags);
		bit = FUSE_OPEN_KILL_SUIDGID;
		break;
	default:
		return;
	}
	kill_requested = body_u32(body, blen, off, &v) && (v & bit);
}

bool killpriv_requested(void)
{
	return kill_requested;
}

int killpriv_begin(struct killpriv_saved *saved)
{
	saved->dropped = false;
	return kill_requested ? killpriv_drop_fsetid(saved) : 0;
}

/* capget/capset with pid 0 act on the calling thread only. */
int killpriv_drop_fsetid(struct killpriv_saved *saved)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	saved->dropped = false;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (!(data[CAP_TO_INDEX(CAP_FSETID)].effective & CAP_TO_MASK(CAP_FSETID)))
		return 0;
	saved->effective[0] = data[0].effective;
	saved->effective[1] = data[1].effective;
	data[CAP_TO_INDEX(CAP_FSETID)].effective &= ~CAP_TO_MASK(CAP_FSETID);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	saved->dropped = true;
	return 0;
}

void killpriv_restore(const struct killpriv_saved *saved)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	int saved_errno = errno;

	if (!saved->dropped)
		return;
	if (syscall(SYS_capget, &hdr, data) == 0) {
		data[0].effective = saved->effective[0];
		data[1].effective = saved->effective[1];
		if (syscall(SYS_capset, &hdr, data) == 0) {
			errno = saved_errno;
			return;
		}
	}
	/* the thread stays without CAP_FSETID: it clears set-id bits more often */
	log_error("cannot restore CAP_FSETID of a worker thread: %m");
	errno = saved_errno;
}
