// SPDX-License-Identifier: GPL-2.0
/*
 * Raw /dev/fuse I/O hooks (libfuse's fuse_session_custom_io). libfuse
 * 3.14 knows neither FUSE_PASSTHROUGH nor FUSE-BPF, so:
 *  - read: count every request per opcode; remember the request being
 *    handled by this worker thread; learn the INIT flags the kernel offers
 *    and decide the mode before libfuse handles INIT;
 *  - writev: patch the reply to that request: INIT flags2 and
 *    max_stack_depth, open/create replies with FOPEN_PASSTHROUGH and the
 *    backing id, lookup replies with the FUSE-BPF entry extension.
 * The handler leaves those patches in the request's thread-local state
 * (request.c), which ties a reply to its request; the unique id is
 * checked too.
 *
 * Decision requests of the kernel filter (mode bpf: opcode | FUSE_PREFILTER
 * or FUSE_POSTFILTER, include/fusebpf/policy_request.h) are unknown to
 * libfuse: the read hook answers them on the fd itself, with the daemon's
 * policy decision, and reads on; libfuse never sees them.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fusebpf/fuse_compat.h"
#include "fusebpf/policy_request.h"
#include "fusebpf/reply.h"
#include "fusebpfd.h"
#include "handover.h"
#include "hooks.h"
#include "killpriv.h"
#include "request.h"
#include "replay.h"
#include "worker_io.h"

/* The reply to an audited request is on its way: one event, with its result. */
static void audit_reply(struct daemon *d, int32_t error)
{
	struct request_state *cur = request_current();

	if (!cur->audit)
		return;
	cur->audit = false;
	cur->event.opcode = cur->opcode;
	cur->event.uid = cur->uid;
	cur->event.pid = cur->pid;
	cur->event.result = error;
	policy_audit_emit(d, &cur->event);
	hooks_audit(d, &cur->event);
	fusebpf_stats_inc(&d->stats->audit_events);
}

static void see_request(struct daemon *d, const void *buf, size_t len)
{
	const struct fuse_in_header *in = buf;
	uint64_t flags;

	if (len < sizeof(*in)) {
		request_begin(0, 0, 0, 0);
		return;
	}
	request_begin(in->unique, in->opcode, in->uid, in->pid);
	if (in->opcode < FUSEBPF_STATS_OPCODES)
		fusebpf_stats_inc(&d->stats->requests[in->opcode]);
	killpriv_see_request(buf, len);
	if (in->opcode == FUSE_INIT &&
	    !fusebpf_init_in_flags(in + 1, len - sizeof(*in), &flags)) {
		mode_decide(d, flags);
		handover_save_init(d, buf, len);
	}
}

/* Malformed decision requests are logged; a flood of them only counted */
#define DECISION_ERRORS_LOGGED	20

static void answer_decision(struct daemon *d, int fd, const void *buf,
			    size_t len)
{
	struct fusebpf_decision dec;
	struct fuse_out_header out;
	const char *why;
	int err = fusebpf_decision_parse(buf, len, &dec, &why);
	uint64_t *count;

	if (err) {
		count = &d->stats->decision_errors;
		if (fusebpf_stats_load(count) < DECISION_ERRORS_LOGGED)
			log_error("decision request (opcode %#x, %zu bytes): %s: replied %s",
				  ((const struct fuse_in_header *)buf)->opcode,
				  len, why, strerror(-err));
		fusebpf_stats_inc(count);
		if (!dec.unique)	/* nothing to reply to */
			return;
	} else {
		count = dec.post ? d->stats->postfilter : d->stats->prefilter;
		if (dec.opcode < FUSEBPF_STATS_OPCODES)
			fusebpf_stats_inc(&count[dec.opcode]);
		err = -policy_decide_request(d, &dec);
	}
	fusebpf_decision_reply(&out, dec.unique, err);
	/* ENOENT: the request was interrupted meanwhile */
	if (write(fd, &out, sizeof(out)) < 0 && errno != ENOENT)
		log_error("decision reply: %s", strerror(errno));
}

static ssize_t raw_read(int fd, void *buf, size_t len, void *userdata)
{
	const struct fuse_in_header *in = buf;
	struct daemon *d = userdata;
	ssize_t n;

	log_bind(userdata);
	for (;;) {
		/* the last request of this thread is done with its inodes */
		inode_request_done(userdata);
		n = d->ho ? worker_read(d, fd, buf, len) : read(fd, buf, len);
		if (n < (ssize_t)sizeof(*in))
			break;
		if (fusebpf_is_decision(in->opcode)) {
			answer_decision(userdata, fd, buf, n);
			continue;
		}
		/* supervised: journal, or answer a replay (replay.c) */
		n = d->ho ? (ssize_t)replay_request(d, fd, buf, n) : n;
		if (n)
			break;
	}
	if (n > 0 && (((struct daemon *)userdata)->kernel_flags &
		      FUSE_SETXATTR_EXT))
		n = killpriv_setxattr_compat(buf, n);
	if (n > 0)
		see_request(userdata, buf, n);
	return n;
}

static void init_replied(struct daemon *d, int error)
{
	pthread_mutex_lock(&d->init_lock);
	d->init_replied = true;
	d->init_error = error;
	pthread_cond_broadcast(&d->init_cond);
	pthread_mutex_unlock(&d->init_lock);
}

int raw_io_wait_init(struct daemon *d, int timeout_sec)
{
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_sec;
	pthread_mutex_lock(&d->init_lock);
	while (!d->init_replied && ret == 0)
		ret = pthread_cond_timedwait(&d->init_cond, &d->init_lock,
					     &until);
	if (d->init_replied)
		ret = d->init_error;
	pthread_mutex_unlock(&d->init_lock);
	return ret;
}

/* Byte @off of the reply body (after the header) if it is in one iovec. */
static void *body_at(struct iovec *iov, int count, size_t off, size_t len)
{
	for (int i = 1; i < count; i++) {
		if (off + len <= iov[i].iov_len)
			return (char *)iov[i].iov_base + off;
		if (off < iov[i].iov_len)
			return NULL;
		off -= iov[i].iov_len;
	}
	return NULL;
}

static size_t body_len(const struct iovec *iov, int count)
{
	size_t len = 0;

	for (int i = 1; i < count; i++)
		len += iov[i].iov_len;
	return len;
}

static ssize_t write_with_ext(int fd, struct iovec *iov, int count)
{
	struct request_state *cur = request_current();
	struct fuse_out_header *out = iov[0].iov_base;
	struct iovec ext_iov[count + 1];

	memcpy(ext_iov, iov, sizeof(*iov) * count);
	ext_iov[count].iov_base = cur->ext;
	ext_iov[count].iov_len = cur->ext_len;
	out->len += cur->ext_len;
	return writev(fd, ext_iov, count + 1);
}

static ssize_t raw_writev(int fd, struct iovec *iov, int count,
			  void *userdata)
{
	struct daemon *d = userdata;
	struct request_state *cur = request_current();
	struct fuse_out_header *out = iov[0].iov_base;
	size_t blen = body_len(iov, count);
	bool ours = iov[0].iov_len >= sizeof(*out) && out->unique &&
		    out->unique == cur->unique && out->error == 0;
	ssize_t n;
	void *p;

	if (iov[0].iov_len >= sizeof(*out) && out->unique &&
	    out->unique == cur->unique) {
		audit_reply(d, out->error);
		if (d->ho)	/* journaled before the reply leaves */
			replay_reply(d, out->unique, cur->opcode, out->error,
				     count > 1 ? iov[1].iov_base : NULL,
				     count > 1 ? iov[1].iov_len : 0);
	}
	if (!ours)
		return writev(fd, iov, count);
	switch (cur->opcode) {
	case FUSE_INIT:
		if (worker_swallow_init(d, fd)) {	/* a takeover */
			init_replied(d, 0);
			return sizeof(*out) + blen;
		}
		p = body_at(iov, count, 0, blen);
		if (!p || fusebpf_init_out_add(p, blen, mode_init_flags(d),
					       mode_max_stack_depth(d)))
			log_error("INIT reply has an unexpected layout");
		n = writev(fd, iov, count);
		init_replied(d, n < 0 ? errno : 0);
		return n;
	case FUSE_OPEN:
	case FUSE_CREATE:
		/* fuse_open_out ends the reply (after fuse_entry_out: CREATE) */
		p = body_at(iov, count, blen - sizeof(struct fuse_compat_open_out),
			    sizeof(struct fuse_compat_open_out));
		if (cur->backing_id > 0 && p)
			fusebpf_open_out_passthrough(p, sizeof(struct fuse_compat_open_out),
						     cur->backing_id);
		return writev(fd, iov, count);
	case FUSE_LOOKUP:
		if (cur->ext_len)
			return write_with_ext(fd, iov, count);
		return writev(fd, iov, count);
	default:
		return writev(fd, iov, count);
	}
}

static ssize_t raw_splice_send(int fdin, off_t *offin, int fdout,
			       off_t *offout, size_t len, unsigned int flags,
			       void *userdata)
{
	/* data replies (READ) spliced from a pipe: they succeeded */
	audit_reply(userdata, 0);
	return splice(fdin, offin, fdout, offout, len, flags);
}

const struct fuse_custom_io raw_io = {
	.read = raw_read,
	.writev = raw_writev,
	.splice_send = raw_splice_send,
};
