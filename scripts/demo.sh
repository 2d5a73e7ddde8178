#!/bin/bash
# fusebpf demo (`make demo`): mount a sample Android-like storage tree with
# build/fusebpfd, walk it as two app uids, and show what the kernel served
# itself (fast path) and what reached the daemon, counted twice: by the
# daemon (fusebpfctl stats) and by the kernel's fuse tracepoints
# (fusebpfctl trace). With examples/android-storage.policy (the default)
# it also shows the policy's owner-only, read-only, hidden, served and audit
# rules. Unmounts and cleans up on exit, failure or Ctrl-C.
#
# usage: scripts/demo.sh [--mode auto|bpf|passthrough|userspace] [--keep]
#        (or `make demo DEMO_MODE=userspace`; DEMO_POLICY=FILE|none)
# Exit status 0 only if every step gave the result it should.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
FUSEBPFD=$BUILD/fusebpfd
CTL=$BUILD/fusebpfctl
SELF=$ROOT/scripts/demo.sh

APP1=com.example.app1
APP2=com.example.app2
APP1_UID=10001
APP2_UID=10002
BULK_MIB=64

# ---- policy (policy engineer's section) ---------------------------------
# examples/android-storage.policy is passed as `-o policy=FILE` (DEMO_POLICY
# names another file, DEMO_POLICY=none runs on mode bits alone). With it,
# another app's directory is invisible (ENOENT, not EACCES), Ringtones is
# read-only, .transforms is hidden, Music is served by the daemon and
# Download is audited. The walk subprocesses learn the choice through
# DEMO_POLICY_ACTIVE.
if [ -n "${DEMO_POLICY_ACTIVE+set}" ]; then
	POLICY_FILE=$DEMO_POLICY_ACTIVE
else
	POLICY_FILE=${DEMO_POLICY:-$ROOT/examples/android-storage.policy}
	[ "$POLICY_FILE" = none ] && POLICY_FILE=""
fi
OTHER_APP=EACCES		# what app2 gets on app1's private data
[ -n "$POLICY_FILE" ] && OTHER_APP=ENOENT

# Before mounting: check the policy compiles (in mode bpf the kernel's
# policy filter, kernel-patches/0009, enforces it from the same maps).
policy_setup() {
	if [ -n "$POLICY_FILE" ]; then
		"$CTL" policy check "$POLICY_FILE" | sed 's/^/  /' ||
			die "policy $POLICY_FILE does not compile"
	fi
	export DEMO_POLICY_ACTIVE=$POLICY_FILE
}

# The parts of the backing tree the example policy names.
policy_tree() {
	mkfile "$BACKING/Ringtones/Pixel.ogg" 40000 'OggS'
	chmod 777 "$BACKING/Ringtones"
	chmod 666 "$BACKING/Ringtones/Pixel.ogg"
	mkfile "$BACKING/DCIM/.transforms/IMG_20240101_120000.heic.jpg" 30000 "$JPEG"
	chown -R 1023:1023 "$BACKING/DCIM/.transforms"
}

policy_walk() {
	echo "  ${BOLD}the policy: read-only, hidden, served and audited subtrees${RESET}"
	step app1 ok     'cat Ringtones/Pixel.ogg > /dev/null'
	step app1 EROFS  'echo x > Ringtones/Pixel.ogg'
	step app1 EROFS  'rm Ringtones/Pixel.ogg'
	step root ok     'touch Ringtones/Pixel.ogg'
	step app1 ok     '! ls -a DCIM | grep -qx .transforms'
	step app1 ENOENT 'ls DCIM/.transforms'
	step root ok     'ls DCIM/.transforms'
	step app1 ok     'cat Music/track01.mp3 > /dev/null'
	step app1 ok     'echo receipt > Download/receipt.txt'
}

# After the walk: the pinned maps, what the daemon refused, audit events.
policy_report() {
	local pins=/sys/fs/bpf/fusebpf/$INSTANCE used entries
	section "4b. The policy at work (maps pinned in $pins)"
	echo "  \$ bpftool map dump pinned $pins/rules"
	# bpftool's own output, up to the last class in use (10 lines each)
	bpftool map dump pinned "$pins/rules" > "$WORK/rules.dump" 2>&1 ||
		echo "    bpftool failed: $(head -n 1 "$WORK/rules.dump")"
	used=$(bpftool -j map dump pinned "$pins/rules" 2>/dev/null | jq '[.[]
		| (.formatted // .) | select(.value.flags != 0) | .key] | max // 0')
	entries=$(grep -c '"key":' "$WORK/rules.dump")
	head -n $(((used + 1) * 10)) "$WORK/rules.dump" | sed 's/^/    /'
	echo "        },{ ... $((entries - used - 1)) more entries (classes $((used + 1))-$((entries - 1))), all zero: unused"
	echo "  ${DIM}class = policy line; flags: 1 owner-only, 2 read-only, 4 hidden, 8 served," \
		"16 audit; owner_uid 4294967295: the directory's owner${RESET}"
	echo "  requests the daemon refused during the walk (fusebpfctl stats: denied):"
	jq -r --slurpfile s0 "$WORK/walk.stats0.json" '.denied | to_entries[]
		| select(.value - ($s0[0].denied[.key] // 0) > 0)
		| "    \(.key) \(.value - ($s0[0].denied[.key] // 0))"' "$WORK/walk.stats1.json"
	echo "  audit events (Download), from the ring buffer:"
	"$CTL" policy events "$INSTANCE" | tail -n 6 | sed 's/^/    /'
}
# ---- end of the policy section -------------------------------------------

if [ -t 1 ]; then
	BOLD=$'\e[1m' GREEN=$'\e[32m' RED=$'\e[31m' DIM=$'\e[2m' RESET=$'\e[0m'
else
	BOLD="" GREEN="" RED="" DIM="" RESET=""
fi

die() { echo "demo: $*" >&2; exit 1; }
section() { printf '\n%s== %s ==%s\n' "$BOLD" "$*" "$RESET"; }

uid_of() {
	case $1 in
	app1) echo $APP1_UID ;;
	app2) echo $APP2_UID ;;
	root) echo 0 ;;
	*) die "unknown actor $1" ;;
	esac
}

# step ACTOR EXPECT 'shell command'
# Runs the command as ACTOR's uid/gid (no supplementary groups) inside the
# mount. EXPECT is ok, EACCES, EPERM or ENOENT; anything else is a failure.
STEPS=0
STEP_FAILURES=0
step() {
	local actor=$1 expect=$2 cmd=$3 uid out rc want want2="" verdict
	uid=$(uid_of "$actor")
	STEPS=$((STEPS + 1))
	# stdin is not the terminal: rm would stop to ask before deleting a
	# write-protected file of another app, and the step would wait forever
	out=$(setpriv --reuid="$uid" --regid="$uid" --clear-groups -- \
		sh -c "cd \"\$1\" && $cmd" sh "$WALK_MNT" 2>&1 </dev/null)
	rc=$?
	case $expect in
	ok) want="" ;;
	EACCES) want="Permission denied" ;;
	EPERM) want="Operation not permitted" ;;
	ENOENT) want="No such file or directory" want2="Directory nonexistent" ;;
	EROFS) want="Read-only file system" ;;
	*) die "step: unknown expectation $expect" ;;
	esac
	if [ "$expect" = ok ] && [ $rc -eq 0 ]; then
		verdict="${GREEN}ok${RESET}"
	elif [ "$expect" != ok ] && [ $rc -ne 0 ] && { [[ $out == *"$want"* ]] ||
		{ [ -n "$want2" ] && [[ $out == *"$want2"* ]]; }; }; then
		verdict="${GREEN}$expect (expected)${RESET}"
		out=""
	else
		verdict="${RED}FAILED: exit $rc, wanted $expect${RESET}"
		STEP_FAILURES=$((STEP_FAILURES + 1))
	fi
	# pad by visible width: the colour codes take no columns
	printf '  %-5s %s%*s %s\n' "$actor" "$verdict" \
		$((26 - ${#verdict} + ${#GREEN} + ${#RESET})) "" "$cmd"
	[ -n "$out" ] && printf '%s\n' "$out" | head -n 6 | sed "s/^/        ${DIM}| /;s/\$/${RESET}/"
	return 0
}

# The scripted walk, run by `fusebpfctl trace` as its command so the kernel
# counts cover exactly these steps.
walk() {
	WALK_MNT=$1
	local d1=Android/data/$APP1 d2=Android/data/$APP2

	printf '%s  app1 = uid %d (%s), app2 = uid %d (%s), no supplementary groups%s\n' \
		"$DIM" $APP1_UID $APP1 $APP2_UID $APP2 "$RESET"
	printf '  %-5s %-26s %s\n' who result "command (run in the mount's root)"
	echo "  ${BOLD}app1 takes a photo, keeps notes, downloads and deletes a file${RESET}"
	step app1 ok     'ls DCIM/Camera'
	step app1 ok     'md5sum DCIM/Camera/IMG_20240101_120000.jpg'
	step app1 ok     'head -c 200000 /dev/urandom > DCIM/Camera/IMG_20240301_090000.jpg'
	step app1 ok     'mv DCIM/Camera/IMG_20240301_090000.jpg DCIM/Camera/IMG_20240301_090000_HDR.jpg'
	step app1 ok     "echo 'buy milk' >> $d1/files/notes.txt && cat $d1/files/notes.txt"
	step app1 ok     "mkdir $d1/cache && echo thumb > $d1/cache/thumb.bin"
	step app1 ok     "ls $d1"
	step app1 ok     'echo draft > Download/report.txt && mv Download/report.txt Download/report-final.txt'
	step app1 ok     'echo tmp > Download/tmp.part && rm Download/tmp.part'
	step app1 ok     "cat Android/obb/$APP1/main.1.$APP1.obb > /dev/null"

	echo "  ${BOLD}app2 uses the shared folders, and tries to get at app1's data${RESET}"
	step app2 ok     'ls DCIM/Camera'
	step app2 ok     'md5sum DCIM/Camera/IMG_20240301_090000_HDR.jpg'
	step app2 ok     'ls Android/data'
	[ -z "$POLICY_FILE" ] && echo "        ${DIM}(mode bits alone let app2 see that app1 exists; the" \
		"owner-only rule of examples/android-storage.policy hides it)${RESET}"
	step app2 "$OTHER_APP" "ls $d1"
	step app2 "$OTHER_APP" "cat $d1/files/notes.txt"
	step app2 "$OTHER_APP" "echo pwned > $d1/files/evil.txt"
	step app2 "$OTHER_APP" "mv $d1/files/notes.txt Download/stolen.txt"
	step app2 "$OTHER_APP" "rm -r $d1/cache"
	step app2 "$OTHER_APP" "cat Android/obb/$APP1/main.1.$APP1.obb"
	step app2 EPERM  'rm Download/report-final.txt'
	step app2 EPERM  'mv Download/report-final.txt Download/mine.txt'
	step app2 ok     "echo 'level 3' > $d2/files/save.dat"
	step app2 ok     "mv $d2/files/save.dat $d2/files/save1.dat"
	step app2 ok     "rm $d2/files/save1.dat"
	step app2 ok     'echo meme > Download/meme.txt && ls -l Download'

	[ -n "$POLICY_FILE" ] && policy_walk
	echo "  ${BOLD}app1 cleans up${RESET}"
	step app1 ok     "rm Download/report-final.txt && rm -r $d1/cache"
	[ $STEP_FAILURES -eq 0 ] || echo "  ${RED}$STEP_FAILURES step(s) did not give the expected result${RESET}"
}

# Bulk data: app1 reads a video and writes a copy of it with plain
# read()/write() (cp would use copy_file_range, one request for the lot).
bulk() {
	WALK_MNT=$1
	step app1 ok "cat DCIM/Camera/VID_20240101_120500.mp4 > /dev/null"
	step app1 ok "dd if=DCIM/Camera/VID_20240101_120500.mp4 of=Download/VID_copy.mp4 bs=1M status=none"
}

# demo.sh --walk|--bulk MNT INSTANCE OUTDIR: one phase, as the command of
# `fusebpfctl trace`. The daemon's counters are read inside the traced
# window, by instance name (no request to the mount), so both counts cover
# exactly the same requests.
case ${1:-} in
--walk|--bulk)
	[ $# -eq 4 ] || die "internal: $1 MNT INSTANCE OUTDIR"
	phase=${1#--}
	"$CTL" stats "$3" --json > "$4/$phase.stats0.json" || die "fusebpfctl stats $3 failed"
	"$phase" "$2"
	"$CTL" stats "$3" --json > "$4/$phase.stats1.json" || die "fusebpfctl stats $3 failed"
	echo "$STEPS $STEP_FAILURES" > "$4/$phase.steps"
	exit $((STEP_FAILURES > 100 ? 100 : STEP_FAILURES))
	;;
esac

MODE=${DEMO_MODE:-auto}
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--mode) [ $# -ge 2 ] || die "--mode needs a value"; MODE=$2; shift ;;
	--mode=*) MODE=${1#--mode=} ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
case $MODE in
auto|bpf|passthrough|userspace) ;;
*) die "unknown mode '$MODE' (auto, bpf, passthrough or userspace)" ;;
esac

[ "$(id -u)" = 0 ] || die "run as root (it mounts, and switches to the app uids)"
for bin in "$FUSEBPFD" "$CTL"; do
	[ -x "$bin" ] || die "$bin is missing: run 'make' first (or 'make demo')"
done
command -v setpriv > /dev/null || die "setpriv (util-linux) is missing"
command -v jq > /dev/null || die "jq is missing: run scripts/install-deps.sh"

WORK=$(mktemp -d /tmp/fusebpf-demo.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
BACKING=$WORK/backing
MNT=$WORK/mnt
DAEMON_PID=""

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	cd /
	if mountpoint -q "$MNT" 2> /dev/null; then
		for i in 1 2 3 4 5; do
			umount "$MNT" 2> /dev/null && break
			sleep 0.5
		done
		mountpoint -q "$MNT" && { echo "demo: $MNT busy, lazy unmount" >&2; umount -l "$MNT"; }
	fi
	if [ -n "$DAEMON_PID" ]; then
		for i in $(seq 50); do
			kill -0 "$DAEMON_PID" 2> /dev/null || break
			sleep 0.1
		done
		if kill -0 "$DAEMON_PID" 2> /dev/null; then
			echo "demo: daemon $DAEMON_PID still running after unmount, killing it" >&2
			kill "$DAEMON_PID"
			rc=1
		fi
	fi
	if [ $KEEP = 1 ]; then
		echo "demo: kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up" >&2; exit 130' INT TERM HUP

# ---------------------------------------------------------------------------
section "1. A sample Android-like storage tree (the backing directory)"
mkfile() {	# mkfile PATH SIZE_BYTES [MAGIC]
	mkdir -p "$(dirname "$1")"
	{ printf '%b' "${3:-}"; head -c "$2" /dev/urandom; } > "$1"
}
JPEG='\xff\xd8\xff\xe0\x00\x10JFIF\x00'
mkfile "$BACKING/DCIM/Camera/IMG_20240101_120000.jpg" 300000 "$JPEG"
mkfile "$BACKING/DCIM/Camera/IMG_20240102_093000.jpg" 250000 "$JPEG"
mkfile "$BACKING/DCIM/Camera/IMG_20240103_181500.jpg" 410000 "$JPEG"
mkfile "$BACKING/DCIM/Camera/VID_20240101_120500.mp4" $((BULK_MIB << 20)) '\x00\x00\x00\x18ftypmp42'
mkfile "$BACKING/Download/manual.pdf" 120000 '%PDF-1.7\n'
mkfile "$BACKING/Music/track01.mp3" 500000 'ID3\x04\x00'
mkfile "$BACKING/Music/track02.mp3" 450000 'ID3\x04\x00'
mkdir -p "$BACKING/Android/data/$APP1/files" "$BACKING/Android/data/$APP2/files" \
	"$BACKING/Android/obb/$APP1"
echo "app1 notes" > "$BACKING/Android/data/$APP1/files/notes.txt"
mkfile "$BACKING/Android/obb/$APP1/main.1.$APP1.obb" 200000
# Shared media folders: every app may add files, only the owner may remove
# or rename them (sticky, like /tmp). App directories: owner only.
chmod 1777 "$BACKING/DCIM" "$BACKING/DCIM/Camera" "$BACKING/Download" "$BACKING/Music"
chmod 644 "$BACKING"/DCIM/Camera/* "$BACKING"/Download/* "$BACKING"/Music/*
chown -R $APP1_UID:$APP1_UID "$BACKING/Android/data/$APP1" "$BACKING/Android/obb/$APP1"
chown -R $APP2_UID:$APP2_UID "$BACKING/Android/data/$APP2"
chmod 700 "$BACKING/Android/data/$APP1" "$BACKING/Android/data/$APP2" "$BACKING/Android/obb/$APP1"
[ -n "$POLICY_FILE" ] && policy_tree
# list_tree DIR [find predicates]: mode, owner, size, path
list_tree() {
	local dir=$1
	shift
	(cd "$dir" && find . -mindepth 1 "$@" | sort | while read -r p; do
		if [ -d "$p" ]; then
			printf '  %s %9s  %s/\n' "$(stat -c '%A %5u:%-5g' "$p")" - "${p#./}"
		else
			printf '  %s %9s  %s\n' "$(stat -c '%A %5u:%-5g' "$p")" \
				"$(stat -c %s "$p")" "${p#./}"
		fi
	done)
}
printf '  %-10s %-11s %9s  %s\n' mode uid:gid bytes path
list_tree "$BACKING"

# ---------------------------------------------------------------------------
section "2. Mount it with fusebpfd"
mkdir -p "$MNT"
policy_setup
MOUNT_OPTS=()
[ "$MODE" != auto ] && MOUNT_OPTS+=(-o "mode=$MODE")
[ -n "$POLICY_FILE" ] && MOUNT_OPTS+=(-o "policy=$POLICY_FILE")
echo "  \$ fusebpfd $BACKING $MNT${MOUNT_OPTS[*]:+ ${MOUNT_OPTS[*]}}"
"$FUSEBPFD" "$BACKING" "$MNT" "${MOUNT_OPTS[@]}" || die "fusebpfd failed to mount"
mountpoint -q "$MNT" || die "fusebpfd returned but $MNT is not a mount point"
[ "$(stat -f -c %T "$MNT")" = fuseblk ] || [ "$(stat -f -c %t "$MNT")" = 65735546 ] ||
	die "$MNT is mounted but not a FUSE mount"
# Instance name = FUSE connection id = the kernel dev_t (MKDEV) of the mount.
DEVNO=$(mountpoint -d "$MNT") || die "cannot read the device number of $MNT"
INSTANCE=$(( (${DEVNO%%:*} << 20) | ${DEVNO##*:} ))
INFO=/run/fusebpf/$INSTANCE/info
[ -r "$INFO" ] || die "no $INFO: the daemon did not publish its state"
info_get() { sed -n "s/^$1=//p" "$INFO" | head -n 1; }
DAEMON_PID=$(info_get pid)
ACTIVE_MODE=$(info_get mode)
[ -n "$ACTIVE_MODE" ] || die "$INFO has no mode= line"
if [ "$MODE" = auto ]; then
	echo "  mode detected: ${BOLD}$ACTIVE_MODE${RESET} (daemon pid $DAEMON_PID, instance $INSTANCE)"
else
	echo "  mode forced: ${BOLD}$ACTIVE_MODE${RESET} (daemon pid $DAEMON_PID, instance $INSTANCE)"
	[ "$ACTIVE_MODE" = "$MODE" ] || die "asked for mode $MODE, daemon runs $ACTIVE_MODE"
fi
case $ACTIVE_MODE in
bpf) echo "  bpf: ops on backed inodes run in the kernel on the backing inode" ;;
passthrough) echo "  passthrough: read/write of open files go straight to the backing file;" \
	"everything else is a daemon request" ;;
userspace) echo "  userspace: every operation is a request to the daemon" ;;
esac
cd /

# daemon_counts FILE: "OPCODE COUNT" lines from a `fusebpfctl stats --json`;
# the decision requests it judged (mode bpf) as OTHER, as the trace counts them.
daemon_counts() {
	jq -r '(.requests // {} | to_entries[] | "\(.key) \(if (.value|type)=="object" then .value.count // .value.received // 0 else .value end)"),
		"OTHER \([.ops // {} | .[] | .daemon_judged // 0] | add // 0)"' "$1"
}

# traced PHASE: runs `demo.sh --PHASE ...` under fusebpfctl trace.
traced() {
	local phase=$1 rc
	"$CTL" trace "$MNT" --json --output "$WORK/$phase.trace.json" -- \
		"$SELF" "--$phase" "$MNT" "$INSTANCE" "$WORK"
	rc=$?
	[ -s "$WORK/$phase.trace.json" ] || die "fusebpfctl trace failed (exit $rc)"
	[ -s "$WORK/$phase.stats1.json" ] || die "the $phase phase did not finish (exit $rc)"
	return $rc
}

# report PHASE: per-opcode table, kernel-sent (trace) vs daemon-received
# (stats delta), side by side.
report() {
	local phase=$1
	jq -r '.requests | to_entries[] | "\(.key) \(.value.sent)"' "$WORK/$phase.trace.json" \
		> "$WORK/$phase.kernel"
	daemon_counts "$WORK/$phase.stats0.json" > "$WORK/$phase.d0"
	daemon_counts "$WORK/$phase.stats1.json" > "$WORK/$phase.d1"
	awk -v kf="$WORK/$phase.kernel" -v d0="$WORK/$phase.d0" -v d1="$WORK/$phase.d1" '
		BEGIN {
			while ((getline l < kf) > 0) { split(l, a, " "); k[a[1]] = a[2]; seen[a[1]] = 1 }
			while ((getline l < d0) > 0) { split(l, a, " "); b[a[1]] = a[2] }
			while ((getline l < d1) > 0) { split(l, a, " ");
				if (a[2] - b[a[1]] > 0) { d[a[1]] = a[2] - b[a[1]]; seen[a[1]] = 1 } }
			printf "  %-16s %14s %16s\n", "opcode", "kernel sent", "daemon received"
			n = 0
			for (op in seen) names[++n] = op
			# insertion sort: awk has no portable sort
			for (i = 2; i <= n; i++) { v = names[i]; j = i - 1
				while (j > 0 && names[j] > v) { names[j + 1] = names[j]; j-- }
				names[j + 1] = v }
			for (i = 1; i <= n; i++) {
				op = names[i]; tk += k[op]; td += d[op]
				printf "  %-16s %14d %16d\n", op, k[op], d[op]
			}
			printf "  %-16s %14d %16d\n", "total", tk, td
		}'
}

# op_count PHASE OPCODE: requests of that opcode the kernel sent.
op_count() { jq -r --arg op "$2" '.requests[$op].sent // 0' "$WORK/$1.trace.json"; }
op_bytes() { jq -r --arg op "$2" '.requests[$op].'"$3"' // 0' "$WORK/$1.trace.json"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ---------------------------------------------------------------------------
section "3. Walk the mount as two apps (kernel-side counts by fusebpfctl trace)"
echo "  ${DIM}\$ fusebpfctl trace $MNT --json -- demo.sh --walk ...  (tracepoints" \
	"fuse:fuse_request_send/_end, this connection only)${RESET}"
traced walk
WALK_RC=$?

section "4. What reached the daemon during the walk"
report walk
echo "  ${DIM}kernel sent: fuse tracepoints (fusebpfctl trace); daemon received:" \
	"fusebpfctl stats delta.${RESET}"
echo "  ${DIM}FORGET/BATCH_FORGET/INTERRUPT bypass the tracepoint, so only the daemon" \
	"counts them.${RESET}"
[ "$ACTIVE_MODE" = bpf ] && echo "  ${DIM}OTHER: decision requests of the kernel's policy" \
	"filter (opcode | FUSE_PREFILTER/POSTFILTER), 'judged' in fusebpfctl stats.${RESET}"
[ -n "$POLICY_FILE" ] && policy_report

# ---------------------------------------------------------------------------
section "5. Bulk data: app1 reads a ${BULK_MIB} MiB video and copies it"
traced bulk
BULK_RC=$?
cmp -s "$BACKING/DCIM/Camera/VID_20240101_120500.mp4" "$BACKING/Download/VID_copy.mp4" ||
	{ echo "  ${RED}the copy in the backing tree differs from the original${RESET}"; BULK_RC=1; }
READS=$(op_count bulk READ)
WRITES=$(op_count bulk WRITE)
READ_BYTES=$(op_bytes bulk READ reply_bytes)
WRITE_BYTES=$(op_bytes bulk WRITE sent_bytes)
printf '  %-26s %12s %16s %18s\n' "" "app1 moved" "daemon requests" "bytes via daemon"
printf '  %-26s %12s %16d %18s\n' "read (cat, then dd)" "$(mib $((2 * (BULK_MIB << 20))))" \
	"$READS" "$(mib "$READ_BYTES")"
printf '  %-26s %12s %16d %18s\n' "written (dd)" "$(mib $((BULK_MIB << 20)))" \
	"$WRITES" "$(mib "$WRITE_BYTES")"
printf '  all requests the kernel sent the daemon in this phase: %s\n' \
	"$(jq -r '[.requests | to_entries[] | "\(.key) \(.value.sent)"] | join(", ")' "$WORK/bulk.trace.json")"
if [ "$READS" -eq 0 ] && [ "$WRITES" -eq 0 ]; then
	echo "  => all file data went through the kernel fast path, none through the daemon"
else
	echo "  => file data went through the daemon ($ACTIVE_MODE mode serves read/write itself)"
fi
if [ "$ACTIVE_MODE" != userspace ] && { [ "$READS" -ne 0 ] || [ "$WRITES" -ne 0 ]; }; then
	echo "  ${RED}mode $ACTIVE_MODE should not send READ/WRITE to the daemon${RESET}"
	BULK_RC=1
fi
jq -r --slurpfile s0 "$WORK/bulk.stats0.json" 'to_entries[]
	| select((.key | test("passthrough|backing")) and (.value | type) == "number")
	| "  daemon \(.key): \(.value - ($s0[0][.key] // 0))"' "$WORK/bulk.stats1.json"

# ---------------------------------------------------------------------------
section "6. The backing tree afterwards (files are owned by the app that made them)"
echo "  changed since the walk began:"
printf '  %-10s %-11s %9s  %s\n' mode uid:gid bytes path
list_tree "$BACKING" -newer "$WORK/walk.stats0.json"

# ---------------------------------------------------------------------------
section "7. The whole run in fusebpfctl stats"
echo "  \$ fusebpfctl stats $MNT"
"$CTL" stats "$MNT" | sed 's/^/  /'

# ---------------------------------------------------------------------------
section "8. Unmount"
cd /
umount "$MNT" || die "umount $MNT failed"
for i in $(seq 50); do
	kill -0 "$DAEMON_PID" 2> /dev/null || break
	sleep 0.1
done
kill -0 "$DAEMON_PID" 2> /dev/null && die "daemon $DAEMON_PID did not exit after umount"
echo "  unmounted, daemon exited"
DAEMON_PID=""

# ---------------------------------------------------------------------------
section "Summary"
read -r WALK_STEPS WALK_FAILED < "$WORK/walk.steps"
read -r BULK_STEPS BULK_FAILED < "$WORK/bulk.steps"
total_sent() { jq -r '[.requests[].sent] | add // 0' "$WORK/$1.trace.json"; }
printf '  %-34s %s\n' "mode" "$ACTIVE_MODE"
printf '  %-34s %d of %d as expected\n' "steps" \
	$((WALK_STEPS + BULK_STEPS - WALK_FAILED - BULK_FAILED)) $((WALK_STEPS + BULK_STEPS))
printf '  %-34s %d\n' "walk: requests sent to the daemon" "$(total_sent walk)"
printf '  %-34s %d (%d READ, %d WRITE)\n' "bulk: requests sent to the daemon" \
	"$(total_sent bulk)" "$READS" "$WRITES"
printf '  %-34s %s of %s moved\n' "bulk: file data through the daemon" \
	"$(mib $((READ_BYTES + WRITE_BYTES)))" "$(mib $((3 * (BULK_MIB << 20))))"

if [ $WALK_RC -ne 0 ] || [ $BULK_RC -ne 0 ]; then
	echo "${RED}demo: some steps did not give the expected result${RESET}"
	exit 1
fi
echo "${GREEN}demo: every step gave the expected result (mode $ACTIVE_MODE)${RESET}"
