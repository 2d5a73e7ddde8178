#!/bin/bash
# stats_cli.sh: `fusebpfctl stats` against a mount in one mode.
#
#   tests/integration/stats_cli.sh --mode userspace|passthrough|bpf
#
# Mounts a small tree with a small policy (a hidden name, a read-only
# subtree), runs a known walk under `fusebpfctl trace` (the kernel's count
# of the requests it sent, from the fuse tracepoints) and checks that
# `fusebpfctl stats`:
#   - prints one table and a JSON form with the same rows and numbers;
#   - 'daemon received' moved by exactly what the kernel sent (trace);
#   - 'daemon denied' / 'kernel denied' show the two refusals of the walk;
#   - mode bpf: the policy filter's kernel column is non-zero for the
#     filtered ops of the walk (LOOKUP, OPEN, CREATE, UNLINK), READ never
#     reached the daemon, and what the filter sent to the daemon arrived;
#   - other modes: the kernel columns are empty ("-", null) with a note.
# Needs root and jq. Closing line: "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CTL=$BUILD/fusebpfctl
FUSEBPFD=$BUILD/fusebpfd
MODE=
while [ $# -gt 0 ]; do
	case $1 in
	--mode) MODE=${2:-}; shift 2 ;;
	*) echo "stats_cli: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $MODE in userspace|passthrough|bpf) ;;
*) echo "usage: $0 --mode userspace|passthrough|bpf" >&2; exit 2 ;;
esac

# shellcheck source=../tap.sh
. "$ROOT/tests/tap.sh"

W=$(mktemp -d "${FUSEBPF_TEST_DIR:-${TMPDIR:-/tmp}}/fusebpf-stats.XXXXXX") || exit 2
chmod 755 "$W"
B=$W/backing M=$W/mnt INST=stats-cli-$$
cleanup() {
	mountpoint -q "$M" && { umount "$M" 2>/dev/null || umount -l "$M"; }
	rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$B/d" "$B/ro" "$M"
echo data > "$B/d/f"
echo secret > "$B/d/.secret"
echo ringtone > "$B/ro/f"
chmod 666 "$B/ro/f"
cat > "$W/policy" <<'EOF'
hide .secret
read-only ro
EOF

if ! out=$("$FUSEBPFD" "$B" "$M" -o "mode=$MODE,instance=$INST,policy=$W/policy" 2>&1); then
	notok "mount in mode $MODE: $out"
	finish
fi
ok "mount in mode $MODE"

# usage and unknown instances: one line on stderr, exit 2 / 1
"$CTL" stats > /dev/null 2> "$W/err"
check "stats without target: exit 2, one line" \
	test $? = 2 -a "$(wc -l < "$W/err")" = 1
"$CTL" stats no-such-instance-$$ > /dev/null 2> "$W/err"
check "stats of an unknown instance: exit 1, one line" \
	test $? = 1 -a "$(wc -l < "$W/err")" = 1

# The walk, traced; the daemon's counters are read inside the traced
# window (by instance name: no request to the mount), the second time
# after the asynchronous RELEASEs arrived.
cat > "$W/walk" <<EOF
cd "$M" || exit 1
"$CTL" stats $INST --json > "$W/s0.json" || exit 1
cat d/f > /dev/null || exit 1
ls d > /dev/null || exit 1
stat d/.secret > /dev/null 2>&1 && exit 1
echo new > d/new || exit 1
rm d/new || exit 1
echo x 2> /dev/null > ro/f && exit 1
sleep 0.3
"$CTL" stats $INST --json > "$W/s1.json" || exit 1
"$CTL" stats $INST > "$W/s1.txt" || exit 1
exit 0
EOF
"$CTL" trace "$M" --json --output "$W/trace.json" -- sh "$W/walk" > "$W/trace.out" 2>&1
check "walk under fusebpfctl trace: every step as expected" test $? = 0
[ -s "$W/s1.json" ] && [ -s "$W/trace.json" ] || { sed 's/^/  | /' "$W/trace.out"; finish; }

check "stats --json is valid JSON" quiet jq -e . "$W/s1.json"
check "JSON names the mode" test "$(jq -r .mode "$W/s1.json")" = "$MODE"

# Table rows (opcode and six columns) == JSON ops, in the same order.
awk '/^OPCODE/ { t = 1; next } t && /^total/ { exit } t && NF == 7 { print }' \
	"$W/s1.txt" > "$W/table.rows"
jq -r '.ops | to_entries[] | [.key, (.value.kernel // "-"),
	(.value.filter_to_daemon // "-"), (.value.filter_denied // "-"),
	.value.daemon_received, .value.daemon_judged, .value.daemon_denied]
	| map(tostring) | join(" ")' \
	"$W/s1.json" > "$W/json.rows"
# (files, not <(...): the VM has no /dev/fd)
awk '{ $1 = $1; print }' "$W/table.rows" > "$W/table.norm"
check "table has rows" test -s "$W/table.rows"
check "table rows == JSON ops" cmp -s "$W/table.norm" "$W/json.rows"
cmp -s "$W/table.norm" "$W/json.rows" || diff "$W/table.norm" "$W/json.rows" | sed 's/^/  | /'
check "no all-zero row" awk '{ z = 1; for (i = 2; i <= 7; i++) if ($i != "0" && $i != "-") z = 0 } z { exit 1 }' \
	"$W/table.rows"

# delta OPCODE FIELD: change of .ops[OPCODE].FIELD over the walk
delta() {
	jq -n --slurpfile a "$W/s0.json" --slurpfile b "$W/s1.json" --arg op "$1" --arg f "$2" \
		'($b[0].ops[$op][$f] // 0) - ($a[0].ops[$op][$f] // 0)'
}

# What the kernel sent (tracepoints) is what the daemon received, per
# opcode; FORGET and INTERRUPT bypass the tracepoint; decision requests
# count as OTHER there and as 'judged' for the daemon.
jq -r '.requests | to_entries[] | "\(.key) \(.value.sent)"' "$W/trace.json" > "$W/sent"
mismatch=
for op in $(jq -r --slurpfile a "$W/s0.json" \
	'[(.ops | keys[]), ($a[0].ops | keys[])] | unique[]' "$W/s1.json") $(cut -d' ' -f1 "$W/sent"); do
	case $op in FORGET|BATCH_FORGET|INTERRUPT) continue ;; esac
	sent=$(awk -v op="$op" '$1 == op { print $2 }' "$W/sent")
	if [ "$op" = OTHER ]; then
		# decision requests (opcode | FUSE_PREFILTER/POSTFILTER): judged
		got=$(jq -n --slurpfile a "$W/s0.json" --slurpfile b "$W/s1.json" \
			'([$b[0].ops[].daemon_judged] | add // 0) - ([$a[0].ops[].daemon_judged] | add // 0)')
	else
		got=$(delta "$op" daemon_received)
	fi
	[ "${sent:-0}" = "$got" ] || mismatch+=" $op(kernel sent ${sent:-0}, daemon received $got)"
done
check "daemon received == kernel sent (trace), per opcode${mismatch:+:$mismatch}" test -z "$mismatch"

if [ "$MODE" = bpf ]; then
	check "mode bpf: JSON names the filter's counters" \
		test "$(jq -r .kernel_counts "$W/s1.json")" = "/sys/fs/bpf/fusebpf/$INST/filter_counts"
	for op in LOOKUP OPEN CREATE UNLINK; do
		n=$(delta $op kernel)
		check "mode bpf: $op served in the kernel by the filter ($n)" test "$n" -gt 0
	done
	n=$(delta READ daemon_received)
	check "mode bpf: READ never reached the daemon ($n)" test "$n" = 0
	n=$(delta LOOKUP filter_denied)
	check "mode bpf: hidden name denied in the kernel (LOOKUP $n)" test "$n" -ge 1
	# the permission check (ACCESS, kernel 0011) may refuse it before OPEN
	n=$(delta OPEN filter_denied) a=$(delta ACCESS filter_denied)
	check "mode bpf: read-only write denied in the kernel (OPEN $n, ACCESS $a)" \
		test $((n + a)) -ge 1
	short=
	for op in $(jq -r '.ops | keys[]' "$W/s1.json"); do
		[ "$(delta "$op" filter_to_daemon)" -le \
			$(($(delta "$op" daemon_received) + $(delta "$op" daemon_judged))) ] ||
			short+=" $op"
	done
	check "mode bpf: what the filter sent the daemon arrived${short:+ (not:$short)}" test -z "$short"
	bpftool map dump pinned "/sys/fs/bpf/fusebpf/$INST/filter_counts" > "$W/dump" 2>&1
	check "bpftool dumps the pinned filter_counts" grep -q '"kernel"\|kernel' "$W/dump"
else
	check "mode $MODE: kernel columns empty in the table" \
		awk '$2 != "-" || $3 != "-" || $4 != "-" { exit 1 }' "$W/table.rows"
	check "mode $MODE: kernel columns null in JSON" \
		quiet jq -e '.kernel_counts == null and ([.ops[] | .kernel, .filter_to_daemon, .filter_denied] | all(. == null))' \
		"$W/s1.json"
	check "mode $MODE: the note says what the kernel column means" \
		grep -q "mode $MODE" "$W/s1.txt"
	n=$(delta LOOKUP daemon_denied)
	check "mode $MODE: hidden name denied by the daemon (LOOKUP $n)" test "$n" -ge 1
	n=$(delta OPEN daemon_denied)
	check "mode $MODE: read-only write denied by the daemon (OPEN $n)" test "$n" -ge 1
	if [ "$MODE" = passthrough ]; then
		n=$(delta READ daemon_received)
		check "mode passthrough: READ never reached the daemon ($n)" test "$n" = 0
	fi
fi

check "umount" umount "$M"
finish
