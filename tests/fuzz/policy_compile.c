// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the policy parser and compiler
 * (userspace/common/policy_compile.c) on arbitrary text, under ASan and
 * UBSan (make fuzz-smoke; seeds in tests/fuzz/corpus/). Besides memory
 * errors it checks what the maps rely on: every path node names a class
 * that exists and has a path, node ids are unique and above the root.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusebpf/policy_compile.h"

static void check_compiled(const struct fusebpf_policy *p)
{
	FILE *null = fopen("/dev/null", "w");

	if (p->nr_classes >= FUSEBPF_POLICY_CLASSES ||
	    p->nr_paths > FUSEBPF_POLICY_MAX_PATH_NODES)
		abort();
	for (unsigned int cls = 1; cls <= p->nr_classes; cls++)
		if (!p->class_path[cls] || !p->rules[cls].flags ||
		    (p->rules[cls].flags & ~FUSEBPF_RULE_FLAGS))
			abort();
	for (size_t i = 0; i < p->nr_paths; i++) {
		const struct fusebpf_policy_path *e = &p->paths[i];

		if (e->val.cls > p->nr_classes || e->val.node <= FUSEBPF_PATH_ROOT ||
		    !memchr(e->key.name, '\0', sizeof(e->key.name)))
			abort();
		/* quadratic, but inputs are small */
		for (size_t j = i + 1; j < p->nr_paths; j++)
			if (e->val.node == p->paths[j].val.node)
				abort();
	}
	if (null) {
		fusebpf_policy_print(null, p);
		fclose(null);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fusebpf_policy p;
	char err[512], *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (fusebpf_policy_compile_text("fuzz.policy", text, &p, err,
					sizeof(err)) == 0)
		check_compiled(&p);
	else if (!memchr(err, '\0', sizeof(err)) || !err[0])
		abort();	/* an error always says what */
	fusebpf_policy_free(&p);
	free(text);
	return 0;
}
