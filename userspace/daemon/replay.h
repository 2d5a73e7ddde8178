/* SPDX-License-Identifier: GPL-2.0 */
/* Requests replayed after a restart: see replay.c. */
#ifndef FUSEBPFD_REPLAY_H
#define FUSEBPFD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct daemon;

/*
 * A request just read (raw_io.c): journals it, or answers a replay on @fd
 * (returns 0: read the next one), or rewrites it in @buf (returns its new
 * length; otherwise @n).
 */
size_t replay_request(struct daemon *d, int fd, void *buf, size_t n);
/* the reply to the request @unique: @body is its first @len bytes */
void replay_reply(struct daemon *d, uint64_t unique, uint32_t opcode,
		  int32_t error, const void *body, size_t len);

#endif /* FUSEBPFD_REPLAY_H */
