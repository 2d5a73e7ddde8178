#!/bin/bash
# Host test runner: the integration suites against the backing directory
# itself (the reference) and against a fusebpfd mount in each host mode,
# plus the unit tests. Builds nothing (make does). Needs root.
#
#   tests/run-host.sh [--mode reference|userspace|passthrough|bpf|all]...
#                     [--suite unit|fresh|cli|posix|integrity|handles|passthrough_proof|policy|coherence|media|restart|bench|all]...
#                     [--verbose] [--keep-logs]
#
# Scratch directories live under $FUSEBPF_TEST_DIR (default /tmp; ext4 here,
# which reuses inode numbers quickly, as the handles suite wants). Every
# mount and daemon started here is removed by a trap, also on failure or
# Ctrl-C. Logs go to $BUILD/test-logs/ (or $FUSEBPF_TEST_LOGDIR). The last
# line is the sum over all suites and modes: "N passed, N failed"; exit
# status 1 on any failure. Mode bpf (not in "all") needs the patched
# kernel: tests/vm/guest-run.sh runs it in the VM.
set -u

BUILD=${BUILD:-build}
TESTDIR=${FUSEBPF_TEST_DIR:-/tmp}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}
MODES=()
SUITES=()
VERBOSE=0

usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--mode) [ $# -ge 2 ] || usage; MODES+=("$2"); shift 2 ;;
	--suite) [ $# -ge 2 ] || usage; SUITES+=("$2"); shift 2 ;;
	-v|--verbose) VERBOSE=1; shift ;;
	-h|--help) usage ;;
	*) echo "run-host: unknown argument '$1'" >&2; usage ;;
	esac
done
[ ${#MODES[@]} -eq 0 ] && MODES=(all)
[ ${#SUITES[@]} -eq 0 ] && SUITES=(all)
for m in "${MODES[@]}"; do
	case "$m" in reference|userspace|passthrough|bpf|all) ;;
	*) echo "run-host: unknown mode '$m'" >&2; exit 2 ;; esac
done
for s in "${SUITES[@]}"; do
	case "$s" in unit|fresh|cli|posix|integrity|handles|passthrough_proof|policy|coherence|media|restart|bench|all) ;;
	*) echo "run-host: unknown suite '$s'" >&2; exit 2 ;; esac
done
[ " ${MODES[*]} " = " all " ] && MODES=(reference userspace passthrough)

if [ "$(id -u)" != 0 ]; then
	echo "run-host: must run as root (FUSE mounts with allow_other, uid switches, drop_caches)" >&2
	exit 2
fi
INT="$BUILD/tests/integration"
NEED=("$INT/posix_suite" "$INT/integrity")
[ " ${MODES[*]} " != " reference " ] &&
	NEED+=("$BUILD/fusebpfd" "$INT/handles" "$INT/passthrough_proof")
for bin in "${NEED[@]}"; do
	if [ ! -x "$bin" ]; then
		echo "run-host: $bin missing: run make first" >&2
		exit 2
	fi
done

want_suite() {
	local s
	for s in "${SUITES[@]}"; do
		[ "$s" = all ] || [ "$s" = "$1" ] && return 0
	done
	return 1
}

LOGDIR=${FUSEBPF_TEST_LOGDIR:-$BUILD/test-logs}
mkdir -p "$LOGDIR"
SCRATCH=$(mktemp -d "$TESTDIR/fusebpf-test.XXXXXX") || exit 2
chmod 755 "$SCRATCH"	# the posix suite's uid 1000/2000 checks walk into it

TOTAL_PASS=0
TOTAL_FAIL=0
MOUNTS=()		# mountpoints this run created
declare -A DAEMON_PID	# mountpoint -> daemon pid

# pid of the fusebpfd serving a mountpoint: its instance info, else pgrep.
daemon_pid_of() {
	local mnt=$1 info pid
	for info in /run/fusebpf/*/info; do
		[ -f "$info" ] || continue
		if grep -qx "mountpoint=$mnt" "$info"; then
			pid=$(sed -n 's/^pid=//p' "$info")
			[ -n "$pid" ] && { echo "$pid"; return; }
		fi
	done
	pgrep -f "fusebpfd .* $mnt( |\$)" | head -n1
}

stop_mount() {
	local mnt=$1 pid=${DAEMON_PID[$1]:-}
	[ -n "$pid" ] || pid=$(daemon_pid_of "$mnt")
	if mountpoint -q "$mnt"; then
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	if [ -n "$pid" ] && pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	mountpoint -q "$mnt" && umount -l "$mnt" 2>/dev/null
}

SUITE_PID=
cleanup() {
	local mnt
	trap - EXIT INT TERM
	# timeout passes the TERM on to the suite it runs
	[ -n "$SUITE_PID" ] && kill -TERM "$SUITE_PID" 2>/dev/null && wait "$SUITE_PID"
	for mnt in "${MOUNTS[@]}"; do
		stop_mount "$mnt"
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'echo "run-host: interrupted" >&2; cleanup; exit 130' INT TERM

# Adds a result line to the totals: record LABEL PASSED FAILED
record() {
	printf '%-34s %s passed, %s failed\n' "$1" "$2" "$3"
	TOTAL_PASS=$((TOTAL_PASS + $2))
	TOTAL_FAIL=$((TOTAL_FAIL + $3))
}

# Runs one suite program, reads its closing "N passed, N failed" line.
# A crash, timeout or missing summary counts as one failure.
run_suite() {
	local label=$1; shift
	local log="$LOGDIR/${label//[^a-zA-Z0-9_.-]/_}.log" rc last p f
	local start=$SECONDS
	# in the background, so that a signal to this script runs the trap now
	timeout -k 10 "$SUITE_TIMEOUT" "$@" >"$log" 2>&1 &
	SUITE_PID=$!
	wait "$SUITE_PID"
	rc=$?
	SUITE_PID=
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)
	if [ -n "$last" ]; then
		p=${last%% passed*}
		f=${last#*, }; f=${f%% failed}
	else
		p=0; f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# it died, timed out, or exited non-zero without saying why
		echo "not ok - $label: exit status $rc without a failed check (timeout is ${SUITE_TIMEOUT}s)" >>"$log"
	fi
	if [ "$VERBOSE" = 1 ]; then
		sed "s/^/    /" "$log"
	else
		grep -E '^not ok|^fatal|SKIP' "$log" | sed "s/^/    /"
		[ "$rc" -ne 0 ] && [ -z "$last" ] && tail -n 5 "$log" | sed "s/^/    /"
	fi
	record "$label ($((SECONDS - start))s)" "$p" "$f"
}

# Records a single check done by this script.
check() {
	local label=$1; shift
	if "$@"; then
		record "$label" 1 0
	else
		echo "    not ok - $label"
		record "$label" 0 1
	fi
}

run_unit_tests() {
	local t
	for t in "$BUILD"/tests/unit/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		run_suite "unit/$(basename "$t")" "$t"
	done
}

run_reference() {
	local back="$SCRATCH/reference"
	mkdir -p "$back" && chmod 755 "$back"
	echo "== reference: the backing filesystem itself ($back)"
	want_suite posix && run_suite "reference/posix" "$INT/posix_suite" "$back"
	if want_suite posix; then
		mkdir -p "$back/as-uid1000" && chown 1000:1000 "$back/as-uid1000"
		run_suite "reference/posix-as-uid1000" setpriv --reuid 1000 --regid 1000 \
			--clear-groups "$INT/posix_suite" "$back/as-uid1000" --no-uid
	fi
	want_suite integrity && run_suite "reference/integrity" "$INT/integrity" "$back"
	want_suite integrity && run_suite "reference/integrity-concurrent" \
		"$INT/integrity" "$back" --jobs 4 --ops 3000 --seed 100 --drop-caches-ms 50
}

# A zombie counts as gone: our init may be slow to reap daemonized children.
pid_alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

daemon_gone() {
	local pid=$1
	for _ in $(seq 50); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	return 1
}

# exactly one line on stderr, non-zero status, and no mount left behind
one_line_error() {
	local mnt=$1 rc lines; shift
	"$@" 2>"$SCRATCH/cli.err" >/dev/null
	rc=$?
	lines=$(wc -l <"$SCRATCH/cli.err")
	if mountpoint -q "$mnt" && [ "$mnt" != "$CLI_KEEP_MOUNTED" ]; then
		echo "    $* left a mount behind"
		stop_mount "$mnt"
		return 1
	fi
	if [ "$rc" -eq 0 ] || [ "$lines" -ne 1 ]; then
		echo "    $*: status $rc, $lines stderr lines:"
		sed 's/^/      /' "$SCRATCH/cli.err"
		return 1
	fi
	return 0
}

# the mount's /proc/mounts line: SOURCE OPTIONS
mount_line() {
	awk -v m="$1" '$2 == m { print $1, $4 }' /proc/mounts | tail -n1
}

# has_opt OPTIONS OPT: OPT is one of the comma-separated OPTIONS
has_opt() {
	case ",$1," in *",$2,"*) return 0 ;; esac
	return 1
}

# -o ro,noatime,dev,suid,fsname= as mount(8) or fstab pass them, and the
# default source (the backing path); a device node works only with dev
cli_mount_options() {
	local mode=$1 back=$2 mnt=$3 line opts
	rm -f "$back/null" && mknod -m 666 "$back/null" c 1 3
	if "$BUILD/fusebpfd" "$back" "$mnt" \
		-o "mode=$mode,ro,noatime,dev,suid,fsname=fusebpf-cli-$mode" \
		>"$SCRATCH/cli.err" 2>&1; then
		line=$(mount_line "$mnt")
		opts=${line#* }
		check "$mode/cli: fsname= is the source ($line)" \
			test "${line%% *}" = "fusebpf-cli-$mode"
		check "$mode/cli: ro,noatime reach the mount" \
			eval 'has_opt "$opts" ro && has_opt "$opts" noatime'
		check "$mode/cli: dev,suid: no nodev,nosuid" \
			eval '! has_opt "$opts" nodev && ! has_opt "$opts" nosuid'
		check "$mode/cli: ro: creating a file is EROFS" \
			bash -c "touch '$mnt/f' 2>&1 | grep -q 'Read-only file system'"
		check "$mode/cli: dev: a device node on the mount opens" \
			bash -c "echo x >'$mnt/null'"
	else
		check "$mode/cli: mount with -o ro,noatime,dev,suid,fsname=" false
		sed 's/^/    /' "$SCRATCH/cli.err"
	fi
	stop_mount "$mnt"
	if "$BUILD/fusebpfd" "$back" "$mnt" -o "mode=$mode" >/dev/null 2>&1; then
		line=$(mount_line "$mnt")
		opts=${line#* }
		check "$mode/cli: default source is the backing path ($line)" \
			test "${line%% *}" = "$back"
		check "$mode/cli: default nodev: a device node does not open" \
			bash -c "! (echo x >'$mnt/null') 2>/dev/null"
	else
		check "$mode/cli: mount for the default source" false
	fi
	stop_mount "$mnt"
	# what mount(8) and fstab do: mount -t fuse 'fusebpfd#BACKING' MNT -o ...
	if timeout 30 mount -t fuse "$(realpath "$BUILD/fusebpfd")#$back" "$mnt" \
		-o "ro,noatime,mode=$mode" >"$SCRATCH/cli.err" 2>&1; then
		line=$(mount_line "$mnt")
		opts=${line#* }
		check "$mode/cli: mount -t fuse -o ro,noatime ($line)" \
			eval 'has_opt "$opts" ro && has_opt "$opts" noatime &&
			      test "${line%% *}" = "$back"'
	else
		check "$mode/cli: mount -t fuse -o ro,noatime" false
		sed 's/^/    /' "$SCRATCH/cli.err"
	fi
	stop_mount "$mnt"
	rm -f "$back/null"
}

# Daemon command line and signals: bad input is one clear line, SIGTERM and
# SIGINT unmount cleanly.
run_cli() {
	local mode=$1 back="$SCRATCH/$mode-cli-backing" mnt="$SCRATCH/$mode-cli-mnt"
	local sig pid
	mkdir -p "$back" "$mnt"
	MOUNTS+=("$mnt")
	CLI_KEEP_MOUNTED=
	check "$mode/cli: missing backing dir" one_line_error "$mnt" \
		"$BUILD/fusebpfd" "$SCRATCH/no-such-dir" "$mnt" -o "mode=$mode"
	check "$mode/cli: missing mountpoint" one_line_error "$mnt" \
		"$BUILD/fusebpfd" "$back" "$SCRATCH/no-such-mnt" -o "mode=$mode"
	check "$mode/cli: unknown option" one_line_error "$mnt" \
		"$BUILD/fusebpfd" "$back" "$mnt" -o "mode=$mode,no_such_option"
	check "$mode/cli: unknown mode" one_line_error "$mnt" \
		"$BUILD/fusebpfd" "$back" "$mnt" -o "mode=warp"
	# mountinfo escapes a space as \040: the daemon and ctl must decode it
	local spaced="$SCRATCH/$mode-cli mnt"
	mkdir -p "$spaced"
	MOUNTS+=("$spaced")
	check "$mode/cli: mountpoint with a space" \
		"$BUILD/fusebpfd" "$back" "$spaced" -o "mode=$mode"
	check "$mode/cli: stats of a mountpoint with a space" \
		"$BUILD/fusebpfctl" stats "$spaced"
	stop_mount "$spaced"
	# standard mount options reach the mount; the source names the backing
	cli_mount_options "$mode" "$back" "$mnt"
	# A shell started in the background ignores SIGINT and the daemon rightly
	# keeps an inherited SIG_IGN: start it with default dispositions.
	for sig in TERM INT; do
		if ! env --default-signal=INT,TERM "$BUILD/fusebpfd" "$back" "$mnt" \
			-o "mode=$mode" >/dev/null 2>&1; then
			check "$mode/cli: mount for SIG$sig" false
			continue
		fi
		pid=$(daemon_pid_of "$mnt")
		DAEMON_PID[$mnt]=$pid
		if [ "$sig" = TERM ]; then
			CLI_KEEP_MOUNTED=$mnt
			check "$mode/cli: busy mountpoint" one_line_error "$mnt" \
				"$BUILD/fusebpfd" "$back" "$mnt" -o "mode=$mode"
			CLI_KEEP_MOUNTED=
			check "$mode/cli: first mount still serves after busy attempt" \
				test -d "$mnt/."
		fi
		[ -n "$pid" ] && kill "-$sig" "$pid"
		check "$mode/cli: SIG$sig ends the daemon" daemon_gone "${pid:-0}"
		check "$mode/cli: SIG$sig unmounts" bash -c "! mountpoint -q '$mnt'"
		stop_mount "$mnt"
	done
}

# mount_daemon LABEL BACKING MNT OPTS: fusebpfd mounted and its pid in
# DAEMON_PID[MNT], or a failed LABEL check with the daemon's message
mount_daemon() {
	local label=$1 back=$2 mnt=$3 opts=$4 out
	MOUNTS+=("$mnt")
	if ! out=$("$BUILD/fusebpfd" "$back" "$mnt" -o "$opts" 2>&1) ||
	   ! mountpoint -q "$mnt"; then
		echo "    not ok - $label (-o $opts): $out"
		record "$label" 0 1
		return 1
	fi
	DAEMON_PID[$mnt]=$(daemon_pid_of "$mnt")
}

run_mode() {
	local mode=$1 back="$SCRATCH/$mode-backing" mnt="$SCRATCH/$mode-mnt"
	local ref="$SCRATCH/$mode-ref" pid
	mkdir -p "$back" "$mnt" "$ref" && chmod 755 "$back" "$mnt" "$ref"
	echo "== mode $mode: $BUILD/fusebpfd $back $mnt -o mode=$mode"
	[ "$mode" != bpf ] && want_suite cli && run_cli "$mode"
	# --- fusebpfctl stats (ops helper): its own mount, tests/integration/stats_cli.sh
	want_suite cli && run_suite "$mode/stats" tests/integration/stats_cli.sh --mode "$mode"
	want_suite cli && run_suite "$mode/runtime state" tests/integration/runtime_state.sh --mode "$mode"
	# --- end of fusebpfctl stats
	mount_daemon "$mode/mount" "$back" "$mnt" "mode=$mode" || return
	pid=${DAEMON_PID[$mnt]}
	check "$mode/mount (daemon pid ${pid:-?})" test -n "$pid"

	want_suite posix && run_suite "$mode/posix" "$INT/posix_suite" "$mnt" \
		--reference "$ref" --backing "$back"
	if want_suite posix; then
		# the whole suite again, every op with an unprivileged caller
		mkdir -p "$mnt/as-uid1000" "$ref/as-uid1000" &&
			chown 1000:1000 "$mnt/as-uid1000" "$ref/as-uid1000"
		run_suite "$mode/posix-as-uid1000" setpriv --reuid 1000 --regid 1000 \
			--clear-groups "$INT/posix_suite" "$mnt/as-uid1000" --no-uid \
			--reference "$ref/as-uid1000" --backing "$back/as-uid1000"
	fi
	want_suite integrity && run_suite "$mode/integrity" "$INT/integrity" "$mnt" \
		--backing "$back"
	want_suite integrity && run_suite "$mode/integrity-concurrent" "$INT/integrity" \
		"$mnt" --backing "$back" --jobs 4 --ops 3000 --seed 100 --drop-caches-ms 50
	# mode bpf runs in the TCG VM, where 100,000 files take minutes: the
	# kernel resolves backed inodes there, so 8,000 (above the 4,096 fd
	# limit of the check) still show whether the daemon holds an fd each;
	# its tmpfs never reuses inode numbers, so fewer creates to find out
	local walk=()
	[ "$mode" = bpf ] && walk=(--walk-files 8000 --reuse-tries 300)
	want_suite handles && run_suite "$mode/handles" "$INT/handles" "$mnt" "$back" "${walk[@]}"
	# mode bpf has its own proof in the VM (tests/integration/bpf_counters)
	[ "$mode" != bpf ] && want_suite passthrough_proof && run_suite "$mode/passthrough_proof" \
		"$INT/passthrough_proof" "$mnt" --expect "$mode"

	# restart without unmount (issue 14): its own mount with -o restart=on,
	# the worker SIGKILLed every 300 ms under load, then a live upgrade
	[ "$mode" != bpf ] && want_suite restart && run_suite "$mode/restart" \
		tests/integration/restart.sh --mode "$mode"

	# a clean unmount ends the daemon and leaves nothing behind
	check "$mode/umount" umount "$mnt"
	if [ -n "$pid" ]; then
		check "$mode/daemon exited after umount" daemon_gone "$pid"
	fi
	stop_mount "$mnt"
}

# --- policy suite (policy engineer): its own mount, started with the
# suite's policy file; the suite builds its tree in the backing dir.
POLICY_FILE=tests/integration/policy_suite.policy
run_policy() {
	local mode=$1 back="$SCRATCH/$mode-policy-backing" mnt="$SCRATCH/$mode-policy-mnt"
	local pid
	mkdir -p "$back" "$mnt" && chmod 755 "$back" "$mnt"
	echo "== mode $mode, policy $POLICY_FILE"
	mount_daemon "$mode/policy mount" "$back" "$mnt" "mode=$mode,policy=$POLICY_FILE" ||
		return
	pid=${DAEMON_PID[$mnt]}
	# FUSEBPF_TEST_CASEFOLD=1: $FUSEBPF_TEST_DIR is a casefolded directory
	# (tests/vm/guest-run.sh step casefold): other spellings are checked too
	run_suite "$mode/policy" "$INT/policy_suite" "$mnt" --backing "$back" \
		--policy "$POLICY_FILE" --ctl "$BUILD/fusebpfctl" --daemon "$BUILD/fusebpfd" \
		${FUSEBPF_TEST_CASEFOLD:+--casefold}
	check "$mode/policy umount" umount "$mnt"
	[ -n "$pid" ] && check "$mode/policy daemon exited after umount" daemon_gone "$pid"
	stop_mount "$mnt"
}
# --- end of policy suite

# --- coherence suite (backing watch): changes made directly in the backing
# become visible through a mount whose caches last 30 s, within 500 ms.
# Three mounts: the watch (20,000-change stress, daemon RSS), no watch
# (the same cases must then stay stale: the suite can fail), and a watch
# whose fanotify queue is 64 events (max_queued_events is read when the
# daemon starts and restored at once), so that it overflows.
COHERENCE_OPTS="entry_timeout=30,attr_timeout=30"
run_coherence() {
	local mode=$1 back="$SCRATCH/$mode-coh-backing" mnt="$SCRATCH/$mode-coh-mnt"
	local q=/proc/sys/fs/fanotify/max_queued_events qsave log pid
	mkdir -p "$back" "$mnt" && chmod 755 "$back" "$mnt"
	echo "== mode $mode, coherence with backing-side changes ($COHERENCE_OPTS)"
	if mount_daemon "$mode/coherence mount" "$back" "$mnt" "mode=$mode,$COHERENCE_OPTS"; then
		run_suite "$mode/coherence" "$INT/coherence" "$mnt" --backing "$back" \
			--label "$mode" --stress 20000 --daemon-pid "${DAEMON_PID[$mnt]}" \
			--own-changes
		stop_mount "$mnt"
	fi
	if mount_daemon "$mode/coherence mount without watch" "$back" "$mnt" \
		"mode=$mode,$COHERENCE_OPTS,watch_backing=off"; then
		run_suite "$mode/coherence without watch" "$INT/coherence" "$mnt" \
			--backing "$back" --label "$mode without watch" --expect-stale
		stop_mount "$mnt"
	fi
	log="$LOGDIR/$mode-coherence-overflow-daemon.log"
	qsave=$(cat "$q") && echo 64 >"$q" || return
	MOUNTS+=("$mnt")
	"$BUILD/fusebpfd" "$back" "$mnt" -f -o "mode=$mode,$COHERENCE_OPTS" 2>"$log" &
	pid=$!
	DAEMON_PID[$mnt]=$pid
	# the watch exists once the daemon says it is mounted (startup done)
	for _ in $(seq 100); do
		grep -q "mounted on" "$log" && break
		sleep 0.1
	done
	echo "$qsave" >"$q"
	if ! grep -q "mounted on" "$log"; then
		check "$mode/coherence mount with a 64-event queue" false
		stop_mount "$mnt"
		return
	fi
	run_suite "$mode/coherence, queue overflows" "$INT/coherence" "$mnt" --backing "$back" \
		--label "$mode, 64-event queue" --stress 5000 --daemon-pid "$pid"
	check "$mode/coherence: the daemon saw its queue overflow" \
		grep -q "event queue overflow" "$log"
	stop_mount "$mnt"
	# the policy (owner-only Android/data/*): a photo moved in the backing
	# into app 10001's directory is lost to app 10002 through its cached
	# name; without the watch app 10002 still reads it after 1 s
	if mount_daemon "$mode/coherence policy mount" "$back" "$mnt" \
		"mode=$mode,$COHERENCE_OPTS,policy=examples/android-storage.policy"; then
		run_suite "$mode/coherence, moved into an owner-only dir" "$INT/coherence" \
			"$mnt" --backing "$back" --label "$mode policy" --policy-move
		stop_mount "$mnt"
	fi
	if mount_daemon "$mode/coherence policy mount without watch" "$back" "$mnt" \
		"mode=$mode,$COHERENCE_OPTS,watch_backing=off,policy=examples/android-storage.policy"; then
		run_suite "$mode/coherence, moved into an owner-only dir, no watch" \
			"$INT/coherence" "$mnt" --backing "$back" \
			--label "$mode policy without watch" --policy-move --expect-stale
		stop_mount "$mnt"
	fi
	# a backing without file handles (sysfs): one line, and the mount serves
	log="$LOGDIR/$mode-coherence-nohandles-daemon.log"
	"$BUILD/fusebpfd" /sys/kernel/mm "$mnt" -f -o "mode=$mode" 2>"$log" &
	DAEMON_PID[$mnt]=$!
	for _ in $(seq 100); do
		grep -q "mounted on" "$log" && break
		sleep 0.1
	done
	check "$mode/coherence: no file handles, no watch: one line says so" \
		test "$(grep -c "not watching /sys/kernel/mm" "$log")" = 1
	check "$mode/coherence: no file handles, no watch: the mount serves" \
		test -n "$(ls "$mnt")"
	stop_mount "$mnt"
}
# --- end of coherence suite

# --- the example embedder (examples/media-indexer, libfusebpf): random
# operations as several uids through its mount; its SQLite index must
# equal the tree and its grants must hold. Mode userspace also with the
# indexer's own poll loop driving the mount (--loop). And lib_api.
MEDIA_OPS=${MEDIA_OPS:-300}
run_media() {
	local mode=$1 bin="$BUILD/examples/media-indexer/media-indexer"
	local MEDIA_NO_EVENTS=
	[ "$mode" = bpf ] && MEDIA_NO_EVENTS=1
	if [ ! -x "$bin" ] || [ ! -x "$INT/media_indexer" ]; then
		echo "    not ok - $mode/media-indexer: $bin missing (make)"
		record "$mode/media-indexer" 0 1
		return
	fi
	# the rest of the API: refusals, start/stop, policy load, stats, no
	# process-wide changes, a supervisor's /dev/fuse fd
	run_suite "$mode/lib-api" "$INT/lib_api" "$SCRATCH/$mode-lib-api" --mode "$mode"
	umount -l "$SCRATCH/$mode-lib-api/mnt" 2>/dev/null
	echo "== mode $mode, media-indexer ($MEDIA_OPS operations)"
	# mode bpf: the kernel performs the ops; their events are not
	# forwarded yet (README, libfusebpf): the grants only
	run_suite "$mode/media-indexer" "$INT/media_indexer" --indexer "$bin" \
		--dir "$SCRATCH/$mode-media" --mode "$mode" --ops "$MEDIA_OPS" \
		${MEDIA_NO_EVENTS:+--no-events}
	[ "$mode" = userspace ] &&
		run_suite "$mode/media-indexer --loop" "$INT/media_indexer" \
			--indexer "$bin" --dir "$SCRATCH/$mode-media-loop" \
			--mode "$mode" --ops "$MEDIA_OPS" --loop
	# a failed run may leave its mount behind
	umount -l "$SCRATCH/$mode-media/mnt" "$SCRATCH/$mode-media-loop/mnt" 2>/dev/null
	return 0
}
# --- end of media-indexer

echo "fusebpf host tests: modes ${MODES[*]}, suites ${SUITES[*]}, scratch $SCRATCH, logs $LOGDIR"
want_suite unit && run_unit_tests
# What a fresh machine lacks (tracefs, debugfs, bpffs): the demo walk and
# the trace/stats checks once in a private mount namespace without them.
want_suite fresh && [ " ${MODES[*]} " != " bpf " ] && [ " ${MODES[*]} " != " reference " ] &&
	run_suite "fresh-machine" tests/fresh_machine.sh
for mode in "${MODES[@]}"; do
	case "$mode" in
	reference) run_reference ;;
	*) run_mode "$mode"
	   # mode bpf: enforced by the kernel's policy filter (0009)
	   want_suite policy && run_policy "$mode"
	   [ "$mode" != bpf ] && want_suite coherence && run_coherence "$mode"
	   want_suite media && run_media "$mode" ;;
	esac
done

# The benchmark harness at tiny sizes, so that it cannot rot (no timings).
want_suite bench && [ " ${MODES[*]} " != " bpf " ] &&
	run_suite "bench/smoke" tests/bench/smoke.sh

echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
