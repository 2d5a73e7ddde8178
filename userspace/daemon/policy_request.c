// SPDX-License-Identifier: GPL-2.0
/* Decision requests from the kernel filter; see include/fusebpf/policy_request.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fusebpf/policy.h"
#include "fusebpf/policy_request.h"

#define NAME_BYTES_MAX	256	/* NAME_MAX + NUL */

/* What is judged for @opcode, and whether it names one or two entries */
static enum fusebpf_judge judge_of(uint32_t opcode, unsigned int *names)
{
	*names = 0;
	switch (opcode) {
	case FUSE_LOOKUP:
		*names = 1;
		return FUSEBPF_JUDGE_LOOKUP;
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		*names = 1;
		return FUSEBPF_JUDGE_ENTRY;
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		*names = 1;
		return FUSEBPF_JUDGE_NEW;
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		*names = 1;
		return FUSEBPF_JUDGE_REMOVE;
	case FUSE_RENAME:
	case FUSE_RENAME2:
		*names = 2;
		return FUSEBPF_JUDGE_RENAME;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
	case FUSE_GETATTR:
	case FUSE_ACCESS:
	case FUSE_READLINK:
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
	case FUSE_STATFS:
	case FUSE_SETATTR:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
	case FUSE_FALLOCATE:
		return FUSEBPF_JUDGE_INODE;
	default:
		return FUSEBPF_JUDGE_NONE;
	}
}

/* Ops on a node that change it (OPEN, ACCESS: by their flags) */
static int access_of(uint32_t opcode, uint32_t flags)
{
	switch (opcode) {
	case FUSE_OPEN:
		return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) ?
		       FUSEBPF_ACCESS_WRITE : FUSEBPF_ACCESS_SEE;
	case FUSE_ACCESS:
		return flags & 2 /* W_OK */ ? FUSEBPF_ACCESS_WRITE :
					      FUSEBPF_ACCESS_SEE;
	case FUSE_SETATTR:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
	case FUSE_FALLOCATE:
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
		return FUSEBPF_ACCESS_WRITE;
	default:
		return FUSEBPF_ACCESS_SEE;
	}
}

/* A name of @len bytes incl. its NUL: one path component, no NUL inside */
static const char *check_name(const char *p, size_t len, const char **why)
{
	if (len < 2 || len > NAME_BYTES_MAX) {
		*why = "name length out of range";
		return NULL;
	}
	if (p[len - 1] != '\0' || strlen(p) != len - 1) {
		*why = "name not NUL-terminated at its length";
		return NULL;
	}
	if (strchr(p, '/') || !strcmp(p, ".") || !strcmp(p, "..")) {
		*why = "not a directory entry name";
		return NULL;
	}
	return p;
}

int fusebpf_decision_parse(const void *buf, size_t len,
			   struct fusebpf_decision *dec, const char **why)
{
	const struct fuse_in_header *in = buf;
	struct fuse_bpf_filter_in fin;
	const char *body = (const char *)buf + sizeof(*in);
	uint32_t flags;
	unsigned int names;
	size_t blen;

	memset(dec, 0, sizeof(*dec));
	*why = NULL;
	if (len < sizeof(*in)) {
		*why = "shorter than a request header";
		return -EINVAL;
	}
	dec->unique = in->unique;
	if (in->len != len) {
		*why = "header length differs from the bytes read";
		return -EINVAL;
	}
	flags = in->opcode & (FUSE_PREFILTER | FUSE_POSTFILTER);
	if (flags == (FUSE_PREFILTER | FUSE_POSTFILTER)) {
		*why = "both PREFILTER and POSTFILTER";
		return -EINVAL;
	}
	dec->opcode = in->opcode & ~flags;
	dec->post = flags == FUSE_POSTFILTER;
	dec->nodeid = in->nodeid;
	dec->uid = in->uid;
	dec->gid = in->gid;
	dec->pid = in->pid;
	blen = len - sizeof(*in);
	if (blen < sizeof(fin)) {
		*why = "body shorter than struct fuse_bpf_filter_in";
		return -EINVAL;
	}
	memcpy(&fin, body, sizeof(fin));
	dec->tag = fin.tag;
	dec->flags = fin.flags;
	dec->result = fin.result;
	if (blen != sizeof(fin) + fin.name_len + fin.new_name_len) {
		*why = "name lengths do not fit the body";
		return -EINVAL;
	}
	if (!fin.name_len && fin.new_name_len) {
		*why = "a new name without a name";
		return -EINVAL;
	}
	if (dec->post && (fin.result > 0 || fin.result < -4095)) {
		*why = "backing result is not 0 or -errno";
		return -EINVAL;
	}
	body += sizeof(fin);
	if (fin.name_len &&
	    !(dec->name = check_name(body, fin.name_len, why)))
		return -EINVAL;
	body += fin.name_len;
	if (fin.new_name_len &&
	    !(dec->new_name = check_name(body, fin.new_name_len, why)))
		return -EINVAL;
	dec->judge = judge_of(dec->opcode, &names);
	if (dec->judge == FUSEBPF_JUDGE_NONE) {
		*why = "not an operation the daemon judges";
		return -EIO;
	}
	if (names >= 1 && !dec->name) {
		*why = "the operation's name is missing";
		return -EINVAL;
	}
	/* RENAME2 also asks the moved inode's filter, with its name only */
	if (names == 2 && !dec->new_name)
		dec->judge = FUSEBPF_JUDGE_INODE;
	dec->access = access_of(dec->opcode, dec->flags);
	return 0;
}

void fusebpf_decision_reply(struct fuse_out_header *out, uint64_t unique,
			    int error)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(*out);
	out->error = error;
	out->unique = unique;
}
