#!/bin/bash
# runtime_state.sh: /run/fusebpf is root's, and fusebpfctl trusts only
# state that is (issue 10 item 5: info was 0666, so an app could append
# pid=... to hide the instance from `policy load`, or forge mountpoint= to
# send a load meant for one mount to another).
#
#   tests/integration/runtime_state.sh --mode userspace|passthrough|bpf
#
# Checks, against one mount:
#   - /run/fusebpf and the instance dir are 0755, info and stats 0644, all
#     root's, though the daemon runs with umask 0; an app cannot append to
#     info, and may still read the stats;
#   - forged state, made by root, is refused with one line on stderr:
#     info writable by others, owned by an app, a pid that is not a
#     fusebpfd, a mountpoint that is not the instance's FUSE connection's
#     mount; a load to the mountpoint the forgery claims goes to the real
#     instance;
#   - its pinned policy maps are root's (0700 dir, 0600 pins);
#   - a SIGKILLed daemon's directory is recognised (ctl: "gone") and
#     removed at the next fusebpfd start with its pinned maps, live
#     instances' are kept.
# Needs root and setpriv. Closing line: "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CTL=$BUILD/fusebpfctl
FUSEBPFD=$BUILD/fusebpfd
RUN=/run/fusebpf
APP=10002
MODE=
while [ $# -gt 0 ]; do
	case $1 in
	--mode) MODE=${2:-}; shift 2 ;;
	*) echo "runtime_state: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $MODE in userspace|passthrough|bpf) ;;
*) echo "usage: $0 --mode userspace|passthrough|bpf" >&2; exit 2 ;;
esac

# shellcheck source=../tap.sh
. "$ROOT/tests/tap.sh"

W=$(mktemp -d "${FUSEBPF_TEST_DIR:-${TMPDIR:-/tmp}}/fusebpf-runtime.XXXXXX") || exit 2
chmod 755 "$W"
B=$W/backing M=$W/mnt M2=$W/mnt2 M3=$W/mnt3
INST=rs-$$ STALE=rs-stale-$$ FORGED=rs-forged-$$
cleanup() {
	local m
	for m in "$M" "$M2" "$M3"; do
		mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
	done
	rm -rf "${RUN:?}/$FORGED" "${RUN:?}/$STALE" "$W"
}
trap cleanup EXIT
mkdir -p "$B/d" "$M" "$M2" "$M3"
echo data > "$B/d/f"
printf 'read-only d\n' > "$W/policy"

# mode_owner PATH: "MODE UID" as stat prints them
mode_owner() { stat -c '%a %u' "$1" 2>/dev/null; }

# refused WHAT PATTERN CMD...: exit 1, exactly one stderr line matching PATTERN
refused() {
	local what=$1 pattern=$2 rc lines; shift 2
	"$@" > /dev/null 2> "$W/err"
	rc=$?
	lines=$(wc -l < "$W/err")
	if [ "$rc" = 1 ] && [ "$lines" = 1 ] && grep -q -- "$pattern" "$W/err"; then
		ok "$what"
	else
		notok "$what (exit $rc, $lines line(s): $(head -c 300 "$W/err"))"
	fi
}

if ! out=$(umask 000; "$FUSEBPFD" "$B" "$M" -o "mode=$MODE,instance=$INST" 2>&1); then
	notok "mount in mode $MODE: $out"
	finish
fi
ok "mount in mode $MODE (started with umask 000)"
PID=$(awk -F= '$1 == "pid" { print $2 }' "$RUN/$INST/info")

# --- modes and owners of what the daemon made
check "$RUN is 0755 root" test "$(mode_owner "$RUN")" = "755 0"
check "$RUN/INSTANCE is 0755 root" test "$(mode_owner "$RUN/$INST")" = "755 0"
check "info is 0644 root" test "$(mode_owner "$RUN/$INST/info")" = "644 0"
check "stats is 0644 root" test "$(mode_owner "$RUN/$INST/stats")" = "644 0"
check "info names the mount's FUSE connection" \
	grep -qx "connection=$(($(mountpoint -d "$M" | cut -d: -f1) << 20 | $(mountpoint -d "$M" | cut -d: -f2)))" \
	"$RUN/$INST/info"
PIN=/sys/fs/bpf/fusebpf/$INST
check "its policy maps: pin dir 0700 root" test "$(mode_owner "$PIN")" = "700 0"
check "its policy maps: pins 0600 root (rules, audit_events)" \
	test "$(mode_owner "$PIN/rules") $(mode_owner "$PIN/audit_events")" = "600 0 600 0"
check "an app cannot list the pinned maps" \
	bash -c "! setpriv --reuid $APP --regid $APP --clear-groups ls $PIN > /dev/null 2>&1"
check "an app cannot append to info" \
	bash -c "! setpriv --reuid $APP --regid $APP --clear-groups sh -c 'echo pid=1 >> $RUN/$INST/info' 2>/dev/null"
check "an app may read the stats" \
	quiet setpriv --reuid $APP --regid $APP --clear-groups "$CTL" stats "$M"
check "root: stats of the mount" quiet "$CTL" stats "$M"

# --- forged state (root made it: a stand-in for what an app could do
# before, or a mistake): each is refused with one line
mkdir -m 755 "$RUN/$FORGED"
forge() {	# forge PID MOUNTPOINT: info of a fake instance
	printf 'pid=%s\nmode=%s\nbacking=%s\nmountpoint=%s\ninstance=%s\nconnection=%s\n' \
		"$1" "$MODE" "$B" "$2" "$FORGED" \
		"$(awk -F= '$1 == "connection" { print $2 }' "$RUN/$INST/info")" \
		> "$RUN/$FORGED/info"
	cp "$RUN/$INST/stats" "$RUN/$FORGED/stats"
	chmod 644 "$RUN/$FORGED/info" "$RUN/$FORGED/stats"
}
forge "$PID" "$M"
check "a copy of the real state is accepted (the checks are what refuses)" \
	quiet "$CTL" stats "$FORGED"
chmod 666 "$RUN/$FORGED/info"
refused "forged info writable by others: refused" "writable by others" \
	"$CTL" stats "$FORGED"
out=$("$CTL" policy load "$W/policy" "$M" 2>&1)
check "policy load MOUNTPOINT with a forgery claiming it: goes to the real instance" \
	test "${out#instance "$INST": loaded}" != "$out"
chmod 644 "$RUN/$FORGED/info"
chown $APP "$RUN/$FORGED/info"
refused "forged info owned by an app: refused" "owned by uid $APP" \
	"$CTL" stats "$FORGED"
chown 0 "$RUN/$FORGED/info"
chmod 777 "$RUN/$FORGED"
refused "instance dir writable by others: refused" "writable by others" \
	"$CTL" stats "$FORGED"
chmod 755 "$RUN/$FORGED"
forge $$ "$M"
refused "pid that is not a fusebpfd: refused" "pid $$ is not a fusebpfd" \
	"$CTL" stats "$FORGED"
refused "policy load to it: refused" "is not a fusebpfd" \
	"$CTL" policy load "$W/policy" "$FORGED"
forge "$PID" "$W"
refused "mountpoint that is not its connection's mount: refused" "is not the mount of its FUSE connection" \
	"$CTL" stats "$FORGED"
printf 'pid=%s\n' "$PID" >> "$RUN/$FORGED/info"
refused "info with a key twice (appended pid=): refused" "given twice" \
	"$CTL" stats "$FORGED"
forge 2147483646 "$M"
refused "pid of no process: not running" "is gone" "$CTL" stats "$FORGED"

# --- a SIGKILLed daemon's state is removed at the next start
if "$FUSEBPFD" "$B" "$M2" -o "mode=$MODE,instance=$STALE" > "$W/out2" 2>&1; then
	pid2=$(awk -F= '$1 == "pid" { print $2 }' "$RUN/$STALE/info")
	check "killed daemon's maps were pinned" test -d "/sys/fs/bpf/fusebpf/$STALE"
	kill -KILL "$pid2"
	for _ in $(seq 50); do [ -e "/proc/$pid2/exe" ] || break; sleep 0.1; done
	umount -l "$M2"
	check "killed daemon: its state is left behind" test -d "$RUN/$STALE"
	refused "killed daemon: ctl says it is gone" "is gone" "$CTL" stats "$STALE"
	if "$FUSEBPFD" "$B" "$M3" -o "mode=$MODE" > "$W/out3" 2>&1; then
		check "next start: the killed daemon's state is removed" test ! -e "$RUN/$STALE"
		check "next start: the killed daemon's pinned maps are removed" \
			test ! -e "/sys/fs/bpf/fusebpf/$STALE"
		check "next start: the dead forged instance is removed" test ! -e "$RUN/$FORGED"
		check "next start: the live instance is kept" test -s "$RUN/$INST/info"
		check "the live instance still answers" quiet "$CTL" stats "$M"
		umount "$M3"
	else
		notok "third mount: $(cat "$W/out3")"
	fi
else
	notok "second mount: $(cat "$W/out2")"
fi
umount "$M"
for _ in $(seq 50); do [ -e "/proc/$PID/exe" ] || break; sleep 0.1; done
check "umount: the daemon removed its state" test ! -e "$RUN/$INST"
finish
