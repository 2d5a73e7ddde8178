/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal checks for unit tests: prints failures and "N passed, N failed". */
#ifndef FUSEBPF_UNIT_H
#define FUSEBPF_UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond) do {						\
	if (cond) {							\
		unit_passed++;						\
	} else {							\
		unit_failed++;						\
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
	}								\
} while (0)

static inline int unit_report(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* FUSEBPF_UNIT_H */
