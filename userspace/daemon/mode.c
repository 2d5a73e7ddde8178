// SPDX-License-Identifier: GPL-2.0
/*
 * Mode of operation: bpf (FUSE-BPF kernel), passthrough (stock >= 6.9) or
 * userspace. Decided when the kernel's INIT request arrives, since only
 * then do we know what it offers:
 *   forced with -o mode=...: that mode, or a startup error if the kernel
 *     does not offer it;
 *   auto: bpf if FUSE_BPF_FEATURE_FILE exists and INIT offers FUSE_BPF
 *     (a policy is enforced there by the kernel filter, bpf_filter.c),
 *     else passthrough if INIT offers FUSE_PASSTHROUGH and we are root
 *     (FUSE_DEV_IOC_BACKING_OPEN needs CAP_SYS_ADMIN), else userspace.
 *
 * bpf mode start-up failure policy: if the root cannot be attached to
 * BACKING (FUSE_DEV_IOC_BPF_BACKING_OPEN or _ROOT_SET fails), fusebpfd
 * prints the reason, unmounts and exits non-zero. It does not fall back to
 * another mode: INIT was already answered for FUSE-BPF, and a mount that
 * silently runs every op through the daemon is not what mode bpf promises.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpf/reply.h"
#include "fusebpfd.h"
#include "policy_tags.h"
#include "request.h"

bool mode_bpf_available(void)
{
	char buf[16] = "";
	int fd = open(FUSE_BPF_FEATURE_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && atoi(buf) >= FUSE_BPF_VERSION;
}

void mode_decide(struct daemon *d, uint64_t kernel_flags)
{
	d->kernel_flags = kernel_flags;
	if (d->opts.mode != FUSEBPF_MODE_AUTO)
		d->mode = d->opts.mode;
	else if ((kernel_flags & FUSE_BPF) && mode_bpf_available())
		d->mode = FUSEBPF_MODE_BPF;
	else if ((kernel_flags & FUSE_PASSTHROUGH) && geteuid() == 0)
		d->mode = FUSEBPF_MODE_PASSTHROUGH;
	else
		d->mode = FUSEBPF_MODE_USERSPACE;
	__atomic_store_n(&d->stats->mode, d->mode, __ATOMIC_RELAXED);
}

/* INIT reply flags libfuse does not set itself, only those offered */
uint64_t mode_init_flags(const struct daemon *d)
{
	uint64_t want = 0;

	if (d->mode == FUSEBPF_MODE_PASSTHROUGH)
		want = FUSE_PASSTHROUGH;
	else if (d->mode == FUSEBPF_MODE_BPF)
		want = FUSE_BPF;
	want |= FUSE_HANDLE_KILLPRIV_V2;	/* every mode: see killpriv.c */
	/* an O_DIRECT open served by the daemon (direct_io) can be mmap'ed */
	want |= FUSE_DIRECT_IO_ALLOW_MMAP;
	/* ACL_KILL_SGID; raw_io converts its header for libfuse (killpriv.c) */
	want |= FUSE_SETXATTR_EXT;
	return want & d->kernel_flags;
}

static int bpf_attach_root(struct daemon *d)
{
	struct fuse_bpf_backing_open bo = { .fd = d->table.root->fd };
	struct fuse_bpf_root_set rs = { 0 };
	int devfd = fuse_session_fd(d->se);
	int id;

	id = ioctl(devfd, FUSE_DEV_IOC_BPF_BACKING_OPEN, &bo);
	if (id <= 0) {
		log_error("mode bpf: FUSE_DEV_IOC_BPF_BACKING_OPEN of %s: %s",
			  d->backing, id < 0 ? strerror(errno) : "bad id 0");
		return -1;
	}
	/* the id stays registered for the connection's life: the root uses it */
	rs.backing_id = id;
	/* served subtrees below: the root's lookups must come to us */
	rs.flags = d->opts.nr_served ? FUSE_BPF_ENTRY_LOOKUP_SERVER : 0;
	/*
	 * The policy filter judges every op on backed inodes, with the
	 * policy maps; also without policy= (empty rules: everything runs on
	 * the backing), so that a later `fusebpfctl policy load` is enforced
	 * in the kernel at once.
	 */
	if (d->policy && bpf_filter_start(d, devfd, &d->filter_id)) {
		bpf_filter_destroy();
		d->filter_id = 0;
		return -1;
	}
	if (d->filter_id)
		bpf_filter_root_entry(d, &rs);
	if (ioctl(devfd, FUSE_DEV_IOC_BPF_ROOT_SET, &rs)) {
		log_error("mode bpf: FUSE_DEV_IOC_BPF_ROOT_SET: %s",
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* After INIT was answered: check the mode got what it needs, attach. */
int mode_start(struct daemon *d)
{
	switch (d->mode) {
	case FUSEBPF_MODE_PASSTHROUGH:
		if (!(d->kernel_flags & FUSE_PASSTHROUGH)) {
			log_error("mode passthrough: the kernel does not offer FUSE_PASSTHROUGH");
			return -1;
		}
		return 0;
	case FUSEBPF_MODE_BPF:
		if (!(d->kernel_flags & FUSE_BPF)) {
			log_error("mode bpf: the kernel does not offer FUSE_BPF in INIT");
			return -1;
		}
		return bpf_attach_root(d);
	default:
		return 0;
	}
}

/*
 * The kernel keeps the attachment (backing, tag, flags) a node id got
 * first for as long as it holds the inode, and kernel-resolved children
 * inherit from it: after a policy load, an inode whose subtree someone
 * still uses (a cwd, an open directory) would keep the old rules for every
 * new walk through it. When a policy load changed the entry of an inode
 * the kernel still holds, a new generation makes the kernel retire that
 * inode (fuse_iget marks a node id with another generation bad) and build
 * a new one with this reply's attachment. Export handles of the old one
 * become ESTALE; LOOKUP "." (@e NULL) asks for exactly that generation.
 */
static void kernel_entry_renew(struct daemon *d, struct inode *inode,
			       const struct fuse_bpf_entry_out *ext,
			       struct fuse_entry_param *e)
{
	uint64_t policy_gen = bpf_filter_policy_generation();
	uint32_t gen;

	pthread_mutex_lock(&d->table.lock);
	/* nlookup counts this lookup: > 1, the kernel held it before */
	if (e && inode->kentry_sent && inode->kentry_gen != policy_gen &&
	    inode != d->table.root && inode->node.nlookup > 1 &&
	    memcmp(&inode->kentry, ext, sizeof(*ext))) {
		do {
			if (getrandom(&gen, sizeof(gen), 0) != sizeof(gen))
				gen = 0;
		} while (!gen || gen == inode->node.generation);
		inode->node.generation = gen;
		e->generation = gen;
	}
	inode->kentry = *ext;
	inode->kentry_gen = policy_gen;
	inode->kentry_sent = true;
	pthread_mutex_unlock(&d->table.lock);
}

/*
 * bpf mode: a lookup that reaches us is below a directory attached with
 * FUSE_BPF_ENTRY_LOOKUP_SERVER or inside a served subtree. Served inodes
 * get no backing; others inherit the backing of their name, and
 * ancestors of served subtrees keep sending their children's lookups here.
 */
void lookup_reply_ext(struct daemon *d, struct inode *inode,
		      struct fuse_entry_param *e)
{
	struct policy_kernel_entry ke = { 0 };
	struct fuse_bpf_entry_out ext;

	if (d->mode != FUSEBPF_MODE_BPF)
		return;
	if (d->filter_id)
		policy_kernel_entry(d, inode, &ke);
	if (inode->served || ke.served) {
		fusebpf_bpf_entry_encode(&ext, FUSE_BPF_BACKING_NONE, 0, 0);
	} else {
		fusebpf_bpf_entry_encode(&ext, FUSE_BPF_BACKING_INHERIT, 0,
					 inode->served_relpath ||
					 (ke.lookup_server &&
					  S_ISDIR(inode->type)) ?
					 FUSE_BPF_ENTRY_LOOKUP_SERVER : 0);
		/* the filter is inherited from the root; the tag is ours */
		if (d->filter_id) {
			ext.flags |= FUSE_BPF_ENTRY_TAG;
			ext.tag = ke.tag;
		}
	}
	kernel_entry_renew(d, inode, &ext, e);
	request_reply_entry_ext(&ext, sizeof(ext));
}
