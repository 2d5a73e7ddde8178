/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages between a worker and its supervisor (SOCK_SEQPACKET, one per
 * packet). Worker -> supervisor: PUT (with an fd: keep a dup under key),
 * DROP (close the one under key), READY (start-up done). Supervisor ->
 * new worker: PUT for every fd it keeps, then END.
 */
#ifndef FUSEBPFD_HANDOVER_MSG_H
#define FUSEBPFD_HANDOVER_MSG_H

#include <stdint.h>

enum {
	HANDOVER_MSG_PUT = 1,
	HANDOVER_MSG_DROP = 2,
	HANDOVER_MSG_READY = 3,
	HANDOVER_MSG_END = 4,
};

struct handover_msg {
	uint32_t op;
	uint32_t pad;
	uint64_t key;
};

/* keys: open files by fi->fh, lock owners by record + 1 */
#define HANDOVER_KEY_FILE(fh)		((uint64_t)(fh) << 1)
#define HANDOVER_KEY_LOCK(slot)		(((uint64_t)(slot) << 1) | 1)
#define HANDOVER_KEY_IS_LOCK(key)	((key) & 1)
#define HANDOVER_KEY_INDEX(key)		((key) >> 1)

/* size of the state memfd the supervisor creates (handover.c) */
#include <stddef.h>
size_t handover_state_size(void);
/* the supervisor's look at the state: instance name, replays; 0 or -errno */
int handover_state_peek(int state_fd, char *instance, size_t len,
			uint64_t *replayed);

#endif /* FUSEBPFD_HANDOVER_MSG_H */
