// SPDX-License-Identifier: GPL-2.0
/* fusebpfctl --json: see json.h. */
#include <string.h>

#include "json.h"

bool json_flag(int *argc, char **argv)
{
	bool found = false;
	int i, n = 0;

	for (i = 0; i < *argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--json"))
			found = true;
		else
			argv[n++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[n++] = argv[i];
	if (n < *argc)
		argv[n] = NULL;
	*argc = n;
	return found;
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
