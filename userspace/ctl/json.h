/* SPDX-License-Identifier: GPL-2.0 */
/* fusebpfctl --json: the option and the one string writer (json.c). */
#ifndef FUSEBPFCTL_JSON_H
#define FUSEBPFCTL_JSON_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Takes every "--json" out of @argv (up to a "--": what follows is a
 * command's own), *@argc updated. Was there one?
 */
bool json_flag(int *argc, char **argv);
/* @s as a JSON string, quoted and escaped */
void json_string(FILE *out, const char *s);

#endif /* FUSEBPFCTL_JSON_H */
