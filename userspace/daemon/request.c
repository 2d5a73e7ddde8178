// SPDX-License-Identifier: GPL-2.0
/* The request this worker thread is handling: see request.h. */
#include <string.h>

#include "request.h"

static __thread struct request_state current;

struct request_state *request_current(void)
{
	return &current;
}

void request_begin(uint64_t unique, uint32_t opcode, uint32_t uid,
		   uint32_t pid)
{
	memset(&current, 0, sizeof(current));
	current.unique = unique;
	current.opcode = opcode;
	current.uid = uid;
	current.pid = pid;
}

uint32_t request_opcode(void)
{
	return current.opcode;
}

void request_reply_passthrough(int32_t backing_id)
{
	current.backing_id = backing_id;
}

void request_reply_entry_ext(const void *ext, size_t len)
{
	if (len > sizeof(current.ext))
		len = sizeof(current.ext);
	memcpy(current.ext, ext, len);
	current.ext_len = len;
}

void request_audit(uint32_t tag, uint64_t nodeid, bool denied)
{
	current.audit = true;
	current.event.tag = tag;
	current.event.nodeid = nodeid;
	if (denied)
		current.event.flags |= FUSEBPF_AUDIT_DENIED;
}
