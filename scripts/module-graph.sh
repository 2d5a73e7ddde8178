#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module graph of the daemon: which file of userspace/daemon (and of
# userspace/lib, named lib/FILE, on top of it) calls (or reads) which, from
# the symbols their objects define and use (nm), so it is what the linker
# sees, not what a header promises. Needs a build; run from the top of
# the tree.
#
#   scripts/module-graph.sh [--symbols] [--dot] [BUILD]
#
# Prints one line per edge "caller -> callee" (--symbols: with the symbols
# used), then the call cycles: each group of files that reach each other
# (strongly connected), or "cycles: none". --dot: a graphviz digraph instead.
# Exit status 0, or 1 if there is a cycle.
set -eu

symbols=0
dot=0
while [ $# -gt 0 ]; do
	case "$1" in
	--symbols) symbols=1 ;;
	--dot) dot=1 ;;
	-h|--help) sed -n '4,14p' "$0"; exit 0 ;;
	-*) echo "usage: $0 [--symbols] [--dot] [BUILD]" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
build=${1:-build}
dir=$build/userspace/daemon
if ! ls "$dir"/*.o >/dev/null 2>&1; then
	echo "$0: no objects in $dir: run make first" >&2
	exit 2
fi

# "module D symbol" for what each object defines, "module U symbol" for
# what it uses; a module is the source file's name without .c
for o in "$dir"/*.o "$build"/userspace/lib/*.o; do
	[ -e "$o" ] || continue
	m=$(basename "$o" .o)
	case "$o" in */userspace/lib/*) src=userspace/lib ;; *) src=userspace/daemon ;; esac
	# an object whose source is gone (a stale build) is not a module
	[ -e "$src/$m.c" ] || continue
	[ "$src" = userspace/lib ] && m=lib/$m
	nm "$o" | awk -v m="$m" '
		$1 == "U" { print m, "U", $2; next }
		NF == 3 && $2 ~ /^[TDBRCVW]$/ { print m, "D", $3 }'
done | awk -v symbols="$symbols" -v dot="$dot" '
	$2 == "D" { def[$3] = $1; mods[$1] = 1; next }
	{ use[++n] = $1 " " $3; mods[$1] = 1 }
	END {
		for (i = 1; i <= n; i++) {
			split(use[i], f, " ")
			callee = def[f[2]]
			if (callee == "" || callee == f[1])
				continue
			e = f[1] SUBSEP callee
			if (!(e in edge))
				edge[e] = f[2]
			else
				edge[e] = edge[e] ", " f[2]
			reach[f[1], callee] = 1
		}
		nm_ = 0
		for (m in mods)
			names[++nm_] = m
		# sorted module names (insertion sort: a few dozen)
		for (i = 2; i <= nm_; i++)
			for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
				t = names[j]; names[j] = names[j - 1]; names[j - 1] = t
			}
		if (dot)
			print "digraph daemon {"
		for (i = 1; i <= nm_; i++)
			for (j = 1; j <= nm_; j++) {
				e = names[i] SUBSEP names[j]
				if (!(e in edge))
					continue
				if (dot)
					printf "\t\"%s\" -> \"%s\";\n", names[i], names[j]
				else if (symbols)
					printf "%s -> %s: %s\n", names[i], names[j], edge[e]
				else
					printf "%s -> %s\n", names[i], names[j]
			}
		if (dot) {
			print "}"
			exit 0
		}
		# transitive closure (Floyd-Warshall), then the cycles
		for (k = 1; k <= nm_; k++)
			for (i = 1; i <= nm_; i++) {
				if (!((names[i], names[k]) in reach))
					continue
				for (j = 1; j <= nm_; j++)
					if ((names[k], names[j]) in reach)
						reach[names[i], names[j]] = 1
			}
		cycles = 0
		for (i = 1; i <= nm_; i++) {
			if (names[i] in done || !((names[i], names[i]) in reach))
				continue
			line = names[i]
			for (j = i + 1; j <= nm_; j++)
				if ((names[i], names[j]) in reach &&
				    (names[j], names[i]) in reach) {
					line = line " " names[j]
					done[names[j]] = 1
				}
			printf "cycle: %s\n", line
			cycles++
		}
		if (!cycles)
			print "cycles: none"
		exit cycles ? 1 : 0
	}'
