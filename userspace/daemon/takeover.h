/* SPDX-License-Identifier: GPL-2.0 */
/* A worker taking over: see takeover.c */
#ifndef FUSEBPFD_TAKEOVER_H
#define FUSEBPFD_TAKEOVER_H

struct daemon;

/*
 * After inode_table_init and fh_table_init: the nodes, open files and
 * lock owners of the previous worker (nothing unless a takeover); 0 or
 * -errno.
 */
int takeover_restore(struct daemon *d);

#endif /* FUSEBPFD_TAKEOVER_H */
