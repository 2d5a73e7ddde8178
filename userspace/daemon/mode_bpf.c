// SPDX-License-Identifier: GPL-2.0
/*
 * Mode bpf (FUSE-BPF kernel): the root is attached to BACKING with the
 * policy filter (bpf_filter.c), and the kernel resolves and performs
 * operations below it; lookups that reach the daemon get the FUSE-BPF
 * entry extension (backing, filter tag, flags).
 *
 * Start-up failure policy: if the root cannot be attached to BACKING
 * (FUSE_DEV_IOC_BPF_BACKING_OPEN or _ROOT_SET fails), fusebpfd prints the
 * reason, unmounts and exits non-zero. It does not fall back to another
 * mode: INIT was already answered for FUSE-BPF, and a mount that silently
 * runs every op through the daemon is not what mode bpf promises.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>

#include "fusebpf/reply.h"
#include "fusebpfd.h"
#include "mode.h"
#include "policy_maps.h"
#include "policy_tags.h"
#include "request.h"

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
		bpf_filter_destroy(d);
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

static int bpf_start(struct daemon *d)
{
	if (!(d->kernel_flags & FUSE_BPF)) {
		log_error("mode bpf: the kernel does not offer FUSE_BPF in INIT");
		return -1;
	}
	return bpf_attach_root(d);
}

static int bpf_pin(struct daemon *d)
{
	if (!d->filter_id || !policy_pin_dir(d))
		return 0;
	return bpf_filter_pin(d, policy_pin_dir(d));
}

static void bpf_policy_loaded(struct daemon *d)
{
	/* the root's kernel entry (bpf_filter.c) */
	if (d->filter_id)
		bpf_filter_policy_loaded(d);
}

static void bpf_stop(struct daemon *d)
{
	(void)d;
	bpf_filter_destroy(d);
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
	uint64_t policy_gen = bpf_filter_policy_generation(d);
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
static void bpf_lookup_reply(struct daemon *d, struct inode *inode,
			     struct fuse_entry_param *e)
{
	struct policy_kernel_entry ke = { 0 };
	struct fuse_bpf_entry_out ext;

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

const struct mode_ops mode_bpf_ops = {
	.mode = FUSEBPF_MODE_BPF,
	.init_flag = FUSE_BPF,
	/* every inode handed out comes from a LOOKUP with the extension */
	.readdirplus = false,
	/* the kernel performs the ops: changes beside it are its own */
	.watch_backing = false,
	.start = bpf_start,
	.pin = bpf_pin,
	.lookup_reply = bpf_lookup_reply,
	.policy_loaded = bpf_policy_loaded,
	.stop = bpf_stop,
};
