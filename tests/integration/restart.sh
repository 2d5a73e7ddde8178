#!/bin/bash
# restart.sh: restart without unmount (issue 14).
#
#   tests/integration/restart.sh --mode userspace|passthrough [--seconds N]
#                                [--kill-ms MS]
#
# Mounts with -o restart=on and, while applications run on the mount,
# kills the worker with SIGKILL every MS milliseconds (default 300):
#   - restart_load (an O_APPEND writer whose log must have every line
#     exactly once, readers with fds opened once at the start, metadata
#     churn whose every call must succeed, POSIX + flock locks that must
#     stay held);
#   - integrity --jobs 2 (random ops against an in-memory model: data,
#     sizes, links, names; long-open fds on renamed/unlinked files).
# Then: the supervisor counted the restarts; a live upgrade
# (fusebpfctl restart) under the same load; status --json; the mount
# still equals the backing; umount ends supervisor and worker and leaves
# no runtime state. Last, on a second mount, the supervisor is SIGKILLed:
# the worker serves on, and once it dies too the mount gives ENOTCONN.
# Closing line: "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
INT=$BUILD/tests/integration
MODE=
SECONDS_RUN=8
KILL_MS=300
while [ $# -gt 0 ]; do
	case $1 in
	--mode) MODE=${2:-}; shift 2 ;;
	--seconds) SECONDS_RUN=${2:-}; shift 2 ;;
	--kill-ms) KILL_MS=${2:-}; shift 2 ;;
	*) echo "restart: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $MODE in userspace|passthrough) ;;
*) echo "usage: $0 --mode userspace|passthrough" >&2; exit 2 ;; esac

PASS=0 FAIL=0
ok() { echo "ok - $*"; PASS=$((PASS + 1)); }
notok() { echo "not ok - $*"; FAIL=$((FAIL + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

T=$(mktemp -d /tmp/fusebpf-restart.XXXXXX)
BACK=$T/backing MNT=$T/mnt INST=restart-$MODE-$$
mkdir -p "$BACK" "$MNT"
KILLER=
cleanup() {
	[ -n "$KILLER" ] && kill "$KILLER" 2>/dev/null
	mountpoint -q "$MNT" && umount -l "$MNT"
	# the logs of a failure stay (restart_load, integrity)
	if [ "$FAIL" = 0 ]; then
		rm -rf "$T"
	else
		rm -rf "$BACK"
		echo "logs kept in $T"
	fi
}
trap cleanup EXIT

worker_pid() {
	sed -n 's/^worker=//p' "/run/fusebpf/$INST/supervisor" 2>/dev/null
}
status_val() {
	sed -n "s/^$1=//p" "/run/fusebpf/$INST/supervisor" 2>/dev/null
}

# kills the worker every KILL_MS until killed itself
killer() {
	local n=0 w
	while :; do
		sleep "$(awk "BEGIN { print $KILL_MS / 1000 }")"
		w=$(pgrep -f -- "--fusebpf-worker=.* $BACK $MNT" | head -n1)
		[ -n "$w" ] && kill -KILL "$w" 2>/dev/null && n=$((n + 1))
		echo "$n" >"$T/kills"
	done
}

# in the foreground, its messages (takeovers, lost state) in the log
"$BUILD/fusebpfd" "$BACK" "$MNT" -f -o "mode=$MODE,restart=on,instance=$INST" \
	>"$T/daemon.log" 2>&1 &
for _ in $(seq 100); do
	[ -e "/run/fusebpf/$INST/supervisor" ] && break
	sleep 0.1
done
if [ ! -e "/run/fusebpf/$INST/supervisor" ]; then
	notok "mount with restart=on"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
ok "mount with restart=on, mode $MODE"
SUP=$(sed -n 's/^pid=//p' "/run/fusebpf/$INST/info")
check "info names the supervisor (pid ${SUP:-?}), status names a worker" \
	test -n "$SUP" -a -n "$(worker_pid)" -a "$(worker_pid)" != 0

# --- SIGKILL of the worker every KILL_MS under load
killer &
KILLER=$!
"$INT/integrity" "$MNT" --backing "$BACK" --jobs 2 --ops 4000 --seed 7 \
	>"$T/integrity.log" 2>&1 &
INTEG=$!
"$INT/restart_load" "$MNT" --seconds "$SECONDS_RUN" >"$T/load.log" 2>&1
LOAD_RC=$?
wait "$INTEG"
INTEG_RC=$?
kill "$KILLER" 2>/dev/null
wait "$KILLER" 2>/dev/null
KILLER=
KILLS=$(cat "$T/kills" 2>/dev/null || echo 0)
sed 's/^/    /' "$T/load.log"
check "restart_load under $KILLS worker kills (every $KILL_MS ms)" test "$LOAD_RC" = 0
tail -n 3 "$T/integrity.log" | sed 's/^/    /'
check "integrity --jobs 2 under the same kills" test "$INTEG_RC" = 0
sleep 0.5
RESTARTS=$(status_val restarts)
check "supervisor counted the restarts ($RESTARTS restarts, $KILLS kills, longest takeover $(status_val max_takeover_ms) ms, $(status_val replayed) requests replayed)" \
	test "${RESTARTS:-0}" -ge "$KILLS" -a "$KILLS" -gt 0
check "the mount equals the backing after the kills" diff -r "$MNT" "$BACK"

# --- live upgrade under load: the worker drains and the binary is exec'ed again
if [ -x "$BUILD/fusebpfctl" ] && "$BUILD/fusebpfctl" help 2>&1 | grep -q restart; then
	OLD=$(worker_pid)
	mkdir "$MNT/upgrade"
	"$INT/restart_load" "$MNT/upgrade" --seconds 3 >"$T/load2.log" 2>&1 &
	L2=$!
	sleep 1
	"$BUILD/fusebpfctl" restart "$MNT" >"$T/ctl.log" 2>&1
	CTL_RC=$?
	wait "$L2"
	L2_RC=$?
	sed 's/^/    /' "$T/ctl.log"
	check "fusebpfctl restart (worker $OLD -> $(worker_pid))" \
		test "$CTL_RC" = 0 -a "$(worker_pid)" != "$OLD" -a "$(status_val upgrades)" = 1
	grep -E "longest|not ok" "$T/load2.log" | sed 's/^/    /'
	check "restart_load across the live upgrade" test "$L2_RC" = 0
	"$BUILD/fusebpfctl" status "$MNT" --json >"$T/status.json" 2>&1
	check "fusebpfctl status --json" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["supervisor_pid"] > 0 and s["worker_pid"] > 0 and s["upgrades"] == 1, s
' "$T/status.json"
fi

# --- umount ends it all
W=$(worker_pid)
check "umount" umount "$MNT"
for _ in $(seq 150); do
	kill -0 "$SUP" 2>/dev/null || kill -0 "$W" 2>/dev/null || break
	sleep 0.1
done
check "supervisor and worker exited (within 15 s)" bash -c "! kill -0 $SUP 2>/dev/null && ! kill -0 $W 2>/dev/null"
check "runtime state removed" test ! -e "/run/fusebpf/$INST"

# --- the supervisor itself killed: what applications see (reported, and
# checked to stay so): the worker serves on, open fds and new opens work;
# no restart after that: once the worker dies too, ENOTCONN
INST=$INST-k
if "$BUILD/fusebpfd" "$BACK" "$MNT" -o "mode=$MODE,restart=on,instance=$INST"; then
	SUP=$(sed -n 's/^pid=//p' "/run/fusebpf/$INST/info")
	W=$(worker_pid)
	exec 8<"$MNT/read0"
	kill -KILL "$SUP"
	sleep 0.3
	check "supervisor SIGKILLed: the worker serves on (open fd, new open, create)" \
		bash -c "head -c 10 <&8 >/dev/null && cat '$MNT/log' >/dev/null && echo x >'$MNT/after-supervisor'"
	kill -KILL "$W"
	sleep 0.3
	ERR=$(cat "$MNT/log" 2>&1 >/dev/null)
	echo "    after the worker died too: cat: ${ERR:-no error}"
	check "then the worker killed: no restart, applications get ENOTCONN" \
		bash -c "[[ '$ERR' == *'not connected'* ]]"
	exec 8<&-
	umount -l "$MNT"
	# what the next fusebpfd start would remove as stale
	rm -rf "/run/fusebpf/$INST" "/sys/fs/bpf/fusebpf/$INST"
else
	notok "mount for the supervisor-kill check"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
