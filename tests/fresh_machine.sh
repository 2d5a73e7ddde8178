#!/bin/bash
# fresh_machine.sh: the README's walk as a fresh machine sees it.
#
#   tests/fresh_machine.sh
#
# A fresh Debian machine has no tracefs, debugfs or bpffs mounted; the
# machines we develop and run CI on usually do, which once hid two missing
# set-up steps behind a green run. This script re-runs itself in a private
# mount namespace, unmounts all three there (the host keeps its mounts),
# and then runs what a new user runs first: the demo walk and the
# `fusebpfctl trace`/`stats` checks, in both host modes. It also checks
# that an unprivileged `fusebpfctl trace` says exactly what to run.
# Needs root. Closing line: "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export BUILD

if [ -z "${FUSEBPF_FRESH_NS:-}" ]; then
	FUSEBPF_FRESH_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

# shellcheck source=tap.sh
. "$ROOT/tests/tap.sh"

TRACEFS=/sys/kernel/tracing
DEBUGFS=/sys/kernel/debug
BPFFS=/sys/fs/bpf

fstype() { stat -f -c %T "$1" 2>/dev/null; }
# unmount everything at or below DIR, innermost first (debugfs/tracing)
unmount_all() {
	local dir=$1 m
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

for d in "$TRACEFS" "$DEBUGFS" "$BPFFS"; do
	unmount_all "$d"
done
check "no tracefs at $TRACEFS in the private namespace" \
	test "$(fstype "$TRACEFS")" != tracefs
check "no debugfs at $DEBUGFS in the private namespace" \
	test "$(fstype "$DEBUGFS")" != debugfs
check "no bpffs at $BPFFS in the private namespace" \
	test "$(fstype "$BPFFS")" != bpf_fs

W=$(mktemp -d "${FUSEBPF_TEST_DIR:-/tmp}/fusebpf-fresh.XXXXXX") || exit 2
chmod 755 "$W"
MNT=$W/mnt
cleanup() {
	mountpoint -q "$MNT" && umount "$MNT" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# Without privilege the tracer cannot mount tracefs: one line that says
# what to run instead.
mkdir -p "$W/back" "$MNT"
if "$BUILD/fusebpfd" "$W/back" "$MNT" -o mode=userspace > "$W/mount.out" 2>&1; then
	setpriv --reuid 1000 --regid 1000 --clear-groups \
		"$BUILD/fusebpfctl" trace "$MNT" -- true > /dev/null 2> "$W/trace.err"
	rc=$?
	check "unprivileged fusebpfctl trace fails" test "$rc" -ne 0
	check "... saying which command mounts tracefs" \
		grep -q "as root run: mount -t tracefs tracefs $TRACEFS" "$W/trace.err"
	check "... in one line" test "$(wc -l < "$W/trace.err")" -eq 1
	check "... and mounts nothing" test "$(fstype "$TRACEFS")" != tracefs
	umount "$MNT"
else
	notok "mount for the unprivileged trace check: $(cat "$W/mount.out")"
fi

# The README's first command: the demo walk (it traces every phase).
"$ROOT/scripts/demo.sh" --mode passthrough > "$W/demo.out" 2>&1
rc=$?
check "make demo's walk (mode passthrough) with nothing mounted" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 20 "$W/demo.out" | sed 's/^/    /'
check "... tracefs is mounted by fusebpfctl trace" test "$(fstype "$TRACEFS")" = tracefs

# The stats/trace checks of both host modes, each from an unmounted state.
for mode in passthrough userspace; do
	unmount_all "$TRACEFS"
	unmount_all "$BPFFS"
	"$ROOT/tests/integration/stats_cli.sh" --mode "$mode" > "$W/stats-$mode.out" 2>&1
	rc=$?
	check "stats_cli --mode $mode with nothing mounted ($(tail -n 1 "$W/stats-$mode.out"))" \
		test "$rc" -eq 0
	[ "$rc" -eq 0 ] || grep '^not ok' "$W/stats-$mode.out" | sed 's/^/    /'
done
finish
