#!/bin/bash
# run-bench.sh: the backing filesystem itself ("native") against fusebpfd in
# every mode this kernel offers and against bindfs, measured in one run.
#
# Every configuration gets its own backing directory on the same filesystem
# and stays mounted for the whole run. Each repetition runs every workload on
# every configuration, alternating (the configuration order rotates from one
# repetition to the next), after one warm-up repetition that is discarded.
# Reported: median over the repetitions, ratio to native, and the daemon's
# CPU time (utime+stime from /proc/<pid>/stat) per workload.
#
# Caches are warm on purpose (fio --invalidate=0, no drop_caches): the numbers
# measure the filesystem stack, not the disk under it.
#
# Output: a table on stdout; bench.csv, bench.json, bench.svg (ratio chart)
# and the raw samples under --out. Exit status 1 if any configuration failed
# to mount, failed a workload or failed the data check.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUSEBPFD=${FUSEBPFD:-$ROOT/build/fusebpfd}
METABENCH=${METABENCH:-$ROOT/build/tests/bench/metabench}
POLICY=${POLICY:-$ROOT/examples/android-storage.policy}
FEATURE_FILE=/sys/fs/fuse/features/fuse_bpf	# FUSE_BPF_FEATURE_FILE in the UAPI

ALL_CONFIGS="native passthrough userspace bpf bpf+policy bindfs passthrough+policy userspace+policy"
DEFAULT_CONFIGS="native passthrough userspace bpf bpf+policy bindfs"
ALL_WORKLOADS="seqwrite seqread randread randwrite randread-direct randwrite-direct
create stat open readdir rename unlink smallread"

usage() {
	cat <<EOF
usage: $0 [options]
  --smoke            tiny sizes, 1 repetition, no warm-up (harness check, < 1 min)
  --reps N           measured repetitions (default 5), after one warm-up
  --no-warmup        skip the warm-up repetition
  --size SIZE        sequential file size, fio syntax (default 1G)
  --rand-size SIZE   random I/O file size (default 256M)
  --rand-time TIME   length of each random I/O run, fio syntax (default 5s)
  --files N          files for metadata and small-file workloads (default 10000)
  --verify-size SIZE size of the data-check file (default 64M)
  --configs LIST     comma-separated, from: ${ALL_CONFIGS// /,}
                     (default ${DEFAULT_CONFIGS// /,}; X+policy = mode X with
                     examples/android-storage.policy loaded)
  --workloads LIST   comma-separated subset of: $(echo $ALL_WORKLOADS | tr ' ' ,)
  --dir DIR          where to create the scratch directory (default /var/tmp)
  --out DIR          where results go (default $ROOT/build/bench)
  --label TEXT       where this runs, printed in the table (default host)
  --emit             also print the CSV and JSON to stdout between markers
                     (for a guest whose files the host cannot read)
  --report DIR       measure nothing: render the table, CSV, JSON and chart
                     again from DIR's raw.tsv, status.tsv and meta.txt
  --include-warmup   with --report: count the warm-up samples too (a run cut
                     short after its warm-up; the table then says so)
EOF
}

die() { echo "run-bench: $*" >&2; exit 2; }

REPS=5 WARMUP=1 SIZE=1G RAND_SIZE=256M RAND_TIME=5s FILES=10000 VERIFY_SIZE=64M
CONFIGS=$DEFAULT_CONFIGS WORKLOADS=$ALL_WORKLOADS SCRATCH_PARENT=/var/tmp
OUT=$ROOT/build/bench LABEL=host EMIT=0 REPORT_DIR= MIN_REP=1 SMOKE=0 READDIR_PASSES=5 WL_TIMEOUT=900

while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 REPS=1 WARMUP=0 SIZE=8M RAND_SIZE=4M RAND_TIME=300ms FILES=200
		VERIFY_SIZE=1M READDIR_PASSES=2 WL_TIMEOUT=60 ;;
	--reps) REPS=${2:?}; shift ;;
	--no-warmup) WARMUP=0 ;;
	--size) SIZE=${2:?}; shift ;;
	--rand-size) RAND_SIZE=${2:?}; shift ;;
	--rand-time) RAND_TIME=${2:?}; shift ;;
	--files) FILES=${2:?}; shift ;;
	--verify-size) VERIFY_SIZE=${2:?}; shift ;;
	--configs) CONFIGS=${2:?}; CONFIGS=${CONFIGS//,/ }; shift ;;
	--workloads) WORKLOADS=${2:?}; WORKLOADS=${WORKLOADS//,/ }; shift ;;
	--dir) SCRATCH_PARENT=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--label) LABEL=${2:?}; shift ;;
	--emit) EMIT=1 ;;
	--report) REPORT_DIR=${2:?}; shift ;;
	--include-warmup) MIN_REP=0 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

# --- argument checks: one clear line each ---------------------------------
is_uint() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
to_bytes() {	# fio-style size (K/M/G suffix, powers of two) -> bytes
	local n=${1%[kKmMgG]} u=${1#"${1%[kKmMgG]}"}
	is_uint "$n" || return 1
	case $u in
	'') echo "$n" ;; k|K) echo $((n << 10)) ;; m|M) echo $((n << 20)) ;;
	g|G) echo $((n << 30)) ;;
	esac
}
is_uint "$REPS" && [ "$REPS" -ge 1 ] || die "bad --reps '$REPS'"
case $RAND_TIME in *[0-9]s|*[0-9]ms|*[0-9]) is_uint "${RAND_TIME%%[ms]*}" ;; *) false ;; esac ||
	die "bad --rand-time '$RAND_TIME' (e.g. 5s, 500ms)"
is_uint "$FILES" && [ "$FILES" -ge 1 ] || die "bad --files '$FILES'"
SIZE_B=$(to_bytes "$SIZE") && [ "$SIZE_B" -ge 131072 ] || die "bad --size '$SIZE' (at least 128K)"
RAND_B=$(to_bytes "$RAND_SIZE") && [ "$RAND_B" -ge 65536 ] || die "bad --rand-size '$RAND_SIZE'"
VERIFY_B=$(to_bytes "$VERIFY_SIZE") && [ "$VERIFY_B" -ge 4096 ] || die "bad --verify-size '$VERIFY_SIZE'"
for c in $CONFIGS; do
	case " $ALL_CONFIGS " in *" $c "*) ;; *) die "unknown configuration '$c'" ;; esac
done
for w in $WORKLOADS; do
	case " $(echo $ALL_WORKLOADS) " in *" $w "*) ;; *) die "unknown workload '$w'" ;; esac
done
case " $CONFIGS " in *" native "*) ;; *) CONFIGS="native $CONFIGS" ;; esac
for tool in fio jq awk sha256sum findmnt timeout; do
	command -v $tool >/dev/null || die "$tool not found (run scripts/install-deps.sh)"
done
[ -x "$METABENCH" ] || die "$METABENCH missing (run make)"
[ -d "$SCRATCH_PARENT" ] && [ -w "$SCRATCH_PARENT" ] || die "--dir $SCRATCH_PARENT is not a writable directory"
if [ -n "$REPORT_DIR" ]; then
	for f in raw.tsv status.tsv meta.txt; do
		[ -r "$REPORT_DIR/$f" ] || die "--report $REPORT_DIR: no $f there"
	done
	OUT=$REPORT_DIR
fi
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

CLK_TCK=$(getconf CLK_TCK)
RAW=$OUT/raw.tsv		# rep config workload value daemon_cpu_seconds
STATUS=$OUT/status.tsv		# config status detail
if [ -n "$REPORT_DIR" ]; then
	SCRATCH=$(mktemp -d) || die "cannot create a temporary dir"
else
# Leftovers of a run that was killed outright (SIGKILL, or a shell that died
# before its EXIT trap): the scratch dir name carries the runner's pid.
for old in "$SCRATCH_PARENT"/fusebpf-bench.*.*; do
	[ -d "$old" ] || continue
	opid=${old#"$SCRATCH_PARENT"/fusebpf-bench.}; opid=${opid%%.*}
	is_uint "$opid" && ! kill -0 "$opid" 2>/dev/null || continue
	for m in "$old"/mnt/*; do
		findmnt -n --mountpoint "$m" >/dev/null 2>&1 && umount "$m" 2>/dev/null
	done
	findmnt -n -o TARGET -R --target "$old" 2>/dev/null | grep -q "^$old/" ||
		rm -rf --one-file-system "$old"
done
SCRATCH=$(mktemp -d "$SCRATCH_PARENT/fusebpf-bench.$$.XXXXXX") || die "cannot create scratch dir"
rm -f "$OUT"/bench.csv "$OUT"/bench.json "$OUT"/bench.svg "$OUT"/table.txt "$OUT"/ratios.dat "$OUT"/medians.tsv
: >"$RAW"; : >"$STATUS"
fi

# --- configuration state (associative arrays keyed by config name) --------
declare -A TARGET BACKING MNT PID STATE REASON CHECK
INSTANCE_PREFIX=bench$$

safe_name() { echo "${1//+/-}"; }

fail_config() {	# config reason...
	local c=$1; shift
	STATE[$c]=FAILED
	[ -n "${REASON[$c]:-}" ] || REASON[$c]="$*"
	echo "run-bench: $c FAILED: $*" >&2
}

# Why a configuration is not applicable on this kernel, or nothing.
not_available() {
	case ${1%+policy} in
	bpf)
		[ -e "$FEATURE_FILE" ] || echo "kernel without FUSE-BPF ($FEATURE_FILE absent)" ;;
	passthrough)
		local v; v=$(uname -r | awk -F'[.-]' '{ print $1 * 1000 + $2 }')
		[ "$v" -ge 6009 ] || echo "kernel $(uname -r) < 6.9 has no FUSE passthrough"
		[ "$(id -u)" = 0 ] || echo "passthrough needs root" ;;
	esac
}

is_fuse_mounted() { findmnt -n -o FSTYPE --mountpoint "$1" 2>/dev/null | grep -q '^fuse'; }

wait_mounted() {	# mountpoint pid -> waits up to 10 s
	local i
	for i in $(seq 100); do
		is_fuse_mounted "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

mount_config() {
	local c=$1 s; s=$(safe_name "$c")
	local b=$SCRATCH/backing/$s m=$SCRATCH/mnt/$s err=$SCRATCH/$s.err
	mkdir -p "$b" "$m"
	BACKING[$c]=$b
	case $c in
	native)
		TARGET[$c]=$b PID[$c]= STATE[$c]=ok
		return ;;
	bindfs)
		command -v bindfs >/dev/null || { fail_config "$c" "bindfs not installed"; return; }
		bindfs -f "$b" "$m" 2>"$err" &
		PID[$c]=$!
		MNT[$c]=$m
		if ! wait_mounted "$m" "${PID[$c]}"; then
			fail_config "$c" "mount failed: $(head -c 300 "$err" | tr '\n' ' ')"
			return
		fi ;;
	*)
		local mode=${c%+policy} inst=$INSTANCE_PREFIX-$s opts
		opts="mode=$mode,instance=$inst"
		if [ "$mode" != "$c" ]; then
			[ -r "$POLICY" ] || { fail_config "$c" "policy $POLICY missing"; return; }
			opts="$opts,policy=$POLICY"
		fi
		[ -x "$FUSEBPFD" ] || { fail_config "$c" "$FUSEBPFD missing (run make)"; return; }
		if ! timeout 30 "$FUSEBPFD" "$b" "$m" -o "$opts" >"$err" 2>&1; then
			fail_config "$c" "fusebpfd -o $opts failed: $(head -c 300 "$err" | tr '\n' ' ')"
			is_fuse_mounted "$m" && MNT[$c]=$m
			return
		fi
		MNT[$c]=$m
		local info=/run/fusebpf/$inst/info
		PID[$c]=$(sed -n 's/^pid=//p' "$info" 2>/dev/null)
		local got; got=$(sed -n 's/^mode=//p' "$info" 2>/dev/null)
		if ! is_fuse_mounted "$m"; then
			fail_config "$c" "fusebpfd returned but $m is not a FUSE mount"; return
		fi
		if [ -z "${PID[$c]}" ] || ! kill -0 "${PID[$c]}" 2>/dev/null; then
			fail_config "$c" "no live daemon pid in $info"; return
		fi
		if [ "$got" != "$mode" ]; then
			fail_config "$c" "daemon runs in mode '$got', asked for '$mode'"; return
		fi ;;
	esac
	TARGET[$c]=$m STATE[$c]=ok
}

unmount_config() {
	local c=$1 m=${MNT[$1]:-} p=${PID[$1]:-} i
	[ -n "$m" ] || return 0
	is_fuse_mounted "$m" && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; }
	if [ -n "$p" ]; then
		for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$p" 2>/dev/null; then
			echo "run-bench: $c daemon $p still running after unmount, sending SIGTERM" >&2
			kill "$p" 2>/dev/null
		fi
	fi
	MNT[$c]=
}

cleanup() {
	local c
	for c in $CONFIGS; do unmount_config "$c"; done
	wait 2>/dev/null
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'echo "run-bench: interrupted" >&2; exit 130' INT TERM

daemon_ticks() {	# pid -> utime+stime in clock ticks (whole process)
	[ -n "$1" ] || { echo 0; return; }
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

# --- data check: once per configuration ------------------------------------
make_reference() {
	head -c "$VERIFY_B" /dev/urandom >"$SCRATCH/ref.bin" || die "cannot create reference data"
	REF_SUM=$(sha256sum <"$SCRATCH/ref.bin" | cut -d' ' -f1)
}

# Written through the mount, read back through the mount and from the backing
# dir: all three checksums must agree.
check_data() {
	local c=$1 t=${TARGET[$1]:-} b=${BACKING[$1]:-} s1 s2
	if ! timeout "$WL_TIMEOUT" dd if="$SCRATCH/ref.bin" of="$t/verify.bin" bs=128k \
		conv=fsync status=none 2>"$SCRATCH/check.err"; then
		CHECK[$c]=FAILED; fail_config "$c" "data check: write failed: $(head -1 "$SCRATCH/check.err")"
		return
	fi
	s1=$(timeout "$WL_TIMEOUT" sha256sum <"$t/verify.bin" | cut -d' ' -f1)
	s2=$(sha256sum <"$b/verify.bin" | cut -d' ' -f1)
	rm -f "$t/verify.bin"
	if [ "$s1" = "$REF_SUM" ] && [ "$s2" = "$REF_SUM" ]; then
		CHECK[$c]=ok
	else
		CHECK[$c]=FAILED
		fail_config "$c" "data check: read back $s1, backing $s2, written $REF_SUM"
	fi
}

# The big sequential file, after it was written and read through the mount.
check_seqfile() {
	local c=$1 s1 s2
	[ -e "${BACKING[$c]}/seqfile" ] || return 0
	s1=$(timeout "$WL_TIMEOUT" sha256sum <"${TARGET[$c]}/seqfile" | cut -d' ' -f1)
	s2=$(sha256sum <"${BACKING[$c]}/seqfile" | cut -d' ' -f1)
	if [ -z "$s1" ] || [ "$s1" != "$s2" ]; then
		CHECK[$c]=FAILED
		fail_config "$c" "data check: seqfile reads $s1 through the mount, $s2 in the backing dir"
	fi
}

# --- workloads ---------------------------------------------------------------
declare -A UNIT DESC
UNIT=([seqwrite]=MiB/s [seqread]=MiB/s [randread]=IOPS [randwrite]=IOPS
	[randread-direct]=IOPS [randwrite-direct]=IOPS [create]=ops/s [stat]=ops/s
	[open]=ops/s [readdir]=entries/s [rename]=ops/s [unlink]=ops/s
	[smallread]=files/s)
DESC=([seqwrite]="seq write 128k" [seqread]="seq read 128k"
	[randread]="rand read 4k" [randwrite]="rand write 4k"
	[randread-direct]="rand read 4k O_DIRECT" [randwrite-direct]="rand write 4k O_DIRECT"
	[create]="create" [stat]="stat" [open]="open+close" [readdir]="readdir"
	[rename]="rename" [unlink]="unlink" [smallread]="read 4k files")

fio_run() {	# dir rw bs size direct timed [file] -> MiB/s (seq) or IOPS (rand)
	local dir=$1 rw=$2 bs=$3 size=$4 direct=$5 timed=$6 file=${7:-} json=$SCRATCH/fio.json
	local extra=()
	# O_DIRECT writes invalidate the page cache of the range they write: the
	# O_DIRECT runs get a file of their own, or the next buffered run on
	# native would read from the disk.
	[ -n "$file" ] || case $rw:$direct in
	rand*:0) file=$dir/randfile ;;
	rand*:1) file=$dir/randfile-direct ;;
	*) file=$dir/seqfile ;;
	esac
	if [ "$IO_TOOL" != fio ]; then
		local args=("$rw" "$file" "$size" "$bs")
		[ "$timed" = 1 ] && args+=("$RAND_TIME")
		[ "$direct" = 1 ] && args+=(direct)
		timeout "$WL_TIMEOUT" "$IOBENCH" "${args[@]}"
		return
	fi
	[ "$timed" = 1 ] && extra=(--time_based --runtime="$RAND_TIME")
	timeout "$WL_TIMEOUT" fio --name=bench --filename="$file" --rw="$rw" --bs="$bs" \
		--size="$size" --ioengine=psync --iodepth=1 --direct="$direct" \
		--invalidate=0 --fallocate=none --randrepeat=1 "${extra[@]}" \
		--output-format=json --output="$json" >"$SCRATCH/fio.err" 2>&1 || {
		echo "fio $rw failed: $(grep -m1 -i err "$SCRATCH/fio.err" "$json" 2>/dev/null | head -c 200)" >&2
		return 1
	}
	local dirn=read; case $rw in *write) dirn=write ;; esac
	local field=bw_bytes; [ "$timed" = 1 ] && field=iops
	jq -r --arg d "$dirn" --arg f "$field" '
		.jobs[0] | if .error != 0 then error("fio job error \(.error)")
		elif $f == "bw_bytes" then .[$d].bw_bytes / 1048576 else .[$d].iops end' \
		"$json" 2>&1 | awk '/^[0-9.e+]+$/ { printf "%.1f\n", $1; ok = 1 } END { exit !ok }'
}

meta_run() {	# phase dir [arg]
	local out
	out=$(timeout "$WL_TIMEOUT" "$METABENCH" "$@" 2>"$SCRATCH/meta.err") || {
		echo "$(head -1 "$SCRATCH/meta.err")" >&2
		return 1
	}
	echo "$out" | awk '{ printf "%.1f\n", $4 }'
}

# Untimed preparation a workload needs, outside the measurement.
prepare() {
	local wl=$1 t=$2
	case $wl in
	seqwrite) rm -f "$t/seqfile" ;;
	seqread) [ -e "$t/seqfile" ] || fio_run "$t" write 128k "$SIZE" 0 0 >/dev/null ;;
	randread|randwrite)
		[ -e "$t/randfile" ] || fio_run "$t" write 1M "$RAND_SIZE" 0 0 "$t/randfile" >/dev/null ;;
	rand*-direct)
		[ -e "$t/randfile-direct" ] ||
			fio_run "$t" write 1M "$RAND_SIZE" 1 0 "$t/randfile-direct" >/dev/null ;;
	create) rm -rf "$t/meta" && mkdir "$t/meta" ;;
	stat|open|readdir|rename|unlink)
		# Phases run in order; a phase run on its own builds what it needs.
		local n; n=$(find "$t/meta" -maxdepth 1 -name 'f*' 2>/dev/null | wc -l)
		if [ "$wl" = unlink ]; then
			[ "$(find "$t/meta" -maxdepth 1 -name 'r*' 2>/dev/null | wc -l)" = "$FILES" ] ||
				{ prepare create "$t" && "$METABENCH" create "$t/meta" "$FILES" >/dev/null &&
				  "$METABENCH" rename "$t/meta" "$FILES" >/dev/null; }
		elif [ "$n" != "$FILES" ]; then
			prepare create "$t" && "$METABENCH" create "$t/meta" "$FILES" >/dev/null
		fi ;;
	smallread)
		[ -e "$t/small/s$(printf %06d $((FILES - 1)))" ] || {
			rm -rf "$t/small" && mkdir "$t/small" &&
			"$METABENCH" smallwrite "$t/small" "$FILES" 4096 >/dev/null; } ;;
	esac
}

measure() {	# workload target -> prints the value
	local wl=$1 t=$2
	case $wl in
	seqwrite) fio_run "$t" write 128k "$SIZE" 0 0 ;;
	seqread) fio_run "$t" read 128k "$SIZE" 0 0 ;;
	randread) fio_run "$t" randread 4k "$RAND_SIZE" 0 1 ;;
	randwrite) fio_run "$t" randwrite 4k "$RAND_SIZE" 0 1 ;;
	randread-direct) fio_run "$t" randread 4k "$RAND_SIZE" 1 1 ;;
	randwrite-direct) fio_run "$t" randwrite 4k "$RAND_SIZE" 1 1 ;;
	readdir) meta_run readdir "$t/meta" "$FILES" "$READDIR_PASSES" ;;
	smallread) meta_run smallread "$t/small" "$FILES" 4096 ;;
	*) meta_run "$wl" "$t/meta" "$FILES" ;;
	esac
}

run_one() {	# rep workload config
	local rep=$1 wl=$2 c=$3 t=${TARGET[$3]:-} p=${PID[$3]:-} v t0 t1 cpu
	if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then
		fail_config "$c" "daemon $p died before $wl (rep $rep)"
	fi
	if [ "${STATE[$c]}" != ok ]; then
		printf '%s\t%s\t%s\tFAILED\t-\n' "$rep" "$c" "$wl" >>"$RAW"
		return
	fi
	if ! prepare "$wl" "$t" 2>"$SCRATCH/prep.err"; then
		fail_config "$c" "$wl: preparation failed: $(head -1 "$SCRATCH/prep.err")"
		printf '%s\t%s\t%s\tFAILED\t-\n' "$rep" "$c" "$wl" >>"$RAW"
		return
	fi
	sync
	t0=$(daemon_ticks "$p")
	if v=$(measure "$wl" "$t" 2>"$SCRATCH/wl.err") && [ -n "$v" ]; then
		t1=$(daemon_ticks "$p")
		cpu=-
		[ -n "$p" ] && cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
		printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$c" "$wl" "$v" "$cpu" >>"$RAW"
	else
		printf '%s\t%s\t%s\tFAILED\t-\n' "$rep" "$c" "$wl" >>"$RAW"
		# One failed workload fails the configuration in the report, but the
		# other workloads still run: the table shows which ones broke.
		STATE_WL_FAILED[$c]="${STATE_WL_FAILED[$c]:-}$wl: $(head -c 200 "$SCRATCH/wl.err" | tr '\n' ' ') "
	fi
	if [ "$wl" = seqread ]; then
		if [ -z "${SEQ_CHECKED[$c]:-}" ]; then
			SEQ_CHECKED[$c]=1
			check_seqfile "$c"
		fi
		# seqwrite makes a new one; meanwhile a tmpfs (VM) holds one less.
		rm -f "$t/seqfile"
	fi
	# Each workload brings its own files: the next repetition writes them
	# again (untimed), and the daemon does not have to hold 10k inodes of
	# this workload while the metadata workloads add 10k of their own.
	[ "$wl" = smallread ] && rm -rf "$t/small"
}
declare -A STATE_WL_FAILED SEQ_CHECKED

# --- environment ------------------------------------------------------------
machine_info() {
	local cpu mem fs
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	fs=$(findmnt -n -o FSTYPE --target "$SCRATCH" | head -1)
	echo "where=$LABEL"
	echo "kernel=$(uname -r)"
	echo "cpu=$(nproc) x ${cpu:-unknown}"
	echo "memory=$mem"
	echo "backing_fs=$fs"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "fio=$(fio --version 2>/dev/null)"
	echo "io_tool=$IO_TOOL"
	echo "bindfs=$(bindfs --version 2>/dev/null | head -1)"
	echo "seq_size=$SIZE"
	echo "rand_size=$RAND_SIZE"
	echo "rand_time=$RAND_TIME"
	echo "files=$FILES"
	echo "reps=$REPS"
	echo "warmup=$WARMUP"
}

declare -A NA
if [ -n "$REPORT_DIR" ]; then
	# Configurations and their outcome as the run recorded them; a run cut
	# short has no final status line: its configurations count as FAILED.
	CONFIGS=$(awk -F'\t' '{ print $2 "\n" $1 }' "$RAW" "$STATUS" | awk 'NF && !seen[$0]++' | tr '\n' ' ')
	CONFIGS=$(for c in $ALL_CONFIGS; do case " $CONFIGS " in *" $c "*) echo "$c" ;; esac; done | tr '\n' ' ')
	RUN_CONFIGS=
	for c in $CONFIGS; do
		st=$(awk -F'\t' -v c="$c" '$1 == c { s = $2 } END { print s }' "$STATUS")
		if [ -z "$st" ]; then
			printf '%s\tFAILED\trun cut short before its end\n' "$c" >>"$STATUS"
			st=FAILED
		fi
		[ "$st" = n/a ] || RUN_CONFIGS="$RUN_CONFIGS $c"
		STATE[$c]=$st
	done
	LABEL=$(sed -n 's/^where=//p' "$OUT/meta.txt")
	grep -q '^loadavg_end=' "$OUT/meta.txt" || echo "loadavg_end=(run cut short)" >>"$OUT/meta.txt"
	if [ "$MIN_REP" = 0 ]; then
		sed -i 's/^reps=.*/reps=1 (warm-up only, run cut short)/; s/^warmup=.*/warmup=0/' "$OUT/meta.txt"
	fi
else
# Debian's fio needs SysV shared memory; a kernel without CONFIG_SYSVIPC
# (the minimal test kernel) gets iobench.c, same patterns, said in the table.
IO_TOOL=fio
if ! fio --name=probe --filename="$SCRATCH/fio-probe" --size=64k --bs=4k --rw=write \
	--output-format=json --output="$SCRATCH/probe.json" >"$SCRATCH/probe.err" 2>&1; then
	IOBENCH=${IOBENCH:-$ROOT/build/tests/bench/iobench}
	why=$(grep -m1 -v '^$' "$SCRATCH/probe.err" | head -c 100)
	[ -x "$IOBENCH" ] || die "fio does not run here ($why) and $IOBENCH is missing (run make)"
	IO_TOOL="iobench (fio fails here: $why)"
	echo "run-bench: fio does not run here ($why): using $IOBENCH" >&2
fi
rm -f "$SCRATCH/fio-probe"

# --- run -----------------------------------------------------------------------
machine_info >"$OUT/meta.txt"
make_reference

RUN_CONFIGS=
for c in $CONFIGS; do
	why=$(not_available "$c")
	if [ -n "$why" ]; then
		NA[$c]=$why
		echo "run-bench: $c not available here: $why" >&2
		echo -e "$c\tn/a\t$why" >>"$STATUS"
		continue
	fi
	RUN_CONFIGS="$RUN_CONFIGS $c"
	mount_config "$c"
	[ "${STATE[$c]}" = ok ] && check_data "$c"
done

first_rep=$((1 - WARMUP))
set -- $RUN_CONFIGS
nconf=$#
for rep in $(seq "$first_rep" "$REPS"); do
	# Rotate the order so no configuration always runs first or last.
	order=$(echo $RUN_CONFIGS | awk -v r="$rep" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
	[ "$rep" = 0 ] && tag="warm-up" || tag="rep $rep/$REPS"
	echo "run-bench: $tag ($order)" >&2
	for wl in $WORKLOADS; do
		for c in $order; do run_one "$rep" "$wl" "$c"; done
	done
done

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

# Final status per configuration.
for c in $RUN_CONFIGS; do
	if [ "${STATE[$c]}" = ok ] && [ -n "${STATE_WL_FAILED[$c]:-}" ]; then
		STATE[$c]=FAILED REASON[$c]="workload failed: ${STATE_WL_FAILED[$c]}"
	fi
	echo -e "$c\t${STATE[$c]}\tdata check ${CHECK[$c]:-not run}${REASON[$c]:+; ${REASON[$c]}}" >>"$STATUS"
done
fi

# --- report ------------------------------------------------------------------------
# Measured repetitions only (rep >= 1), median per (config, workload).
awk -F'\t' -v OFS='\t' -v min_rep="$MIN_REP" '
	$1 >= min_rep { key = $2 SUBSEP $3
		  if ($4 == "FAILED") failed[key] = 1
		  else { n[key]++; v[key, n[key]] = $4; if ($5 != "-") { cn[key]++; cv[key, cn[key]] = $5 } } }
	function median(arr, k, cnt,    i, j, t, a) {
		for (i = 1; i <= cnt; i++) a[i] = arr[k, i] + 0
		for (i = 2; i <= cnt; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return cnt % 2 ? a[(cnt + 1) / 2] : (a[cnt / 2] + a[cnt / 2 + 1]) / 2
	}
	END {
		for (key in n) {
			split(key, kk, SUBSEP)
			vals = ""; for (i = 1; i <= n[key]; i++) vals = vals (i > 1 ? ";" : "") v[key, i]
			print kk[1], kk[2], (key in failed) ? "FAILED" : "ok", median(v, key, n[key]),
			      cn[key] ? median(cv, key, cn[key]) : "-", vals
		}
		for (key in failed) if (!(key in n)) { split(key, kk, SUBSEP); print kk[1], kk[2], "FAILED", "-", "-", "" }
	}' "$RAW" >"$OUT/medians.tsv"

export LC_ALL=C
COLS="native"
for c in $ALL_CONFIGS; do
	[ "$c" != native ] && case " $CONFIGS " in *" $c "*) COLS="$COLS $c" ;; esac
done

# Table, CSV, JSON and the chart's data from the same medians.
awk -F'\t' -v cols="$COLS" -v wls="$(echo $WORKLOADS)" -v out="$OUT" \
    -v units="$(for w in $WORKLOADS; do printf '%s=%s|' "$w" "${UNIT[$w]}"; done)" \
    -v descs="$(for w in $WORKLOADS; do printf '%s=%s|' "$w" "${DESC[$w]}"; done)" \
    -v metafile="$OUT/meta.txt" -v statusfile="$STATUS" '
	function fmt(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }
	function samples(s) { gsub(/;/, ", ", s); return s }
	function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
	function kv(str, arr,    parts, i, n, p) { n = split(str, parts, "|"); for (i = 1; i <= n; i++) if (parts[i] != "") { p = index(parts[i], "="); arr[substr(parts[i], 1, p - 1)] = substr(parts[i], p + 1) } }
	BEGIN {
		nc = split(cols, C, " "); nw = split(wls, W, " "); kv(units, U); kv(descs, D)
		while ((getline line < metafile) > 0) { p = index(line, "="); mk[++nm] = substr(line, 1, p - 1); mv[nm] = substr(line, p + 1); M[mk[nm]] = mv[nm] }
		while ((getline line < statusfile) > 0) { split(line, f, "\t"); st[f[1]] = f[2]; why[f[1]] = f[3] }
	}
	{ status[$1, $2] = $3; med[$1, $2] = $4; cpu[$1, $2] = $5; vals[$1, $2] = $6 }
	function cell(c, w) {
		if (st[c] == "n/a") return "n/a"
		if (!((c, w) in med) || med[c, w] == "-") return "FAILED"
		return status[c, w] == "FAILED" ? "FAILED" : fmt(med[c, w])
	}
	function ratio(c, w) {
		if (c == "native" || cell(c, w) == "n/a" || cell(c, w) == "FAILED" || cell("native", w) == "FAILED" || med["native", w] == 0) return ""
		return sprintf("%.2f", med[c, w] / med["native", w])
	}
	END {
		csv = out "/bench.csv"; js = out "/bench.json"; dat = out "/ratios.dat"
		printf "fusebpf bench: %s, Linux %s, %s, %s, backing fs %s, load average %s at start, %s at end\n", M["where"], M["kernel"], M["cpu"], M["memory"], M["backing_fs"], M["loadavg_start"], M["loadavg_end"]
		printf "seq file %s, random I/O on a %s file for %s per run (psync, iodepth 1), %s files; median of %s repetition(s)%s; warm page cache\n", M["seq_size"], M["rand_size"], M["rand_time"], M["files"], M["reps"], M["warmup"] + 0 ? " after a warm-up" : ""
		if (M["io_tool"] != "" && M["io_tool"] != "fio") printf "I/O workloads run by %s\n", M["io_tool"]
		printf "cells: median (ratio to native)\n\n"
		printf "%-24s %-10s", "workload", "unit"
		for (i = 1; i <= nc; i++) printf " %19s", C[i]
		printf "\n"
		for (j = 1; j <= nw; j++) {
			w = W[j]; printf "%-24s %-10s", D[w], U[w]
			for (i = 1; i <= nc; i++) { r = ratio(C[i], W[j]); printf " %19s", cell(C[i], w) (r != "" ? " (" r ")" : "") }
			printf "\n"
		}
		printf "\ndaemon CPU seconds per run (utime+stime, median)\n%-24s %-10s", "workload", ""
		for (i = 2; i <= nc; i++) printf " %19s", C[i]
		printf "\n"
		for (j = 1; j <= nw; j++) {
			w = W[j]; printf "%-24s %-10s", D[w], ""
			for (i = 2; i <= nc; i++) { x = cpu[C[i], w]; printf " %19s", st[C[i]] == "n/a" ? "n/a" : (x == "" || x == "-" || cell(C[i], w) == "FAILED") ? "-" : sprintf("%.2f", x) }
			printf "\n"
		}
		printf "\nconfiguration status\n"
		for (i = 1; i <= nc; i++) printf "  %-19s %s%s\n", C[i], st[C[i]], why[C[i]] != "" ? "  " why[C[i]] : ""

		print "workload,description,unit,config,status,median,ratio_to_native,daemon_cpu_s,samples" > csv
		for (j = 1; j <= nw; j++) for (i = 1; i <= nc; i++) {
			w = W[j]; c = C[i]; v = cell(c, w)
			printf "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", w, D[w], U[w], c, (v == "n/a" || v == "FAILED") ? v : "ok",
				(v == "n/a" || v == "FAILED") ? "" : med[c, w], ratio(c, w), (v == "n/a" || v == "FAILED" || cpu[c, w] == "-") ? "" : cpu[c, w], vals[c, w] > csv
		}
		printf "{\n  \"meta\": {" > js
		for (i = 1; i <= nm; i++) printf "%s\n    %s: %s", (i > 1 ? "," : ""), jstr(mk[i]), jstr(mv[i]) > js
		printf "\n  },\n  \"configs\": {" > js
		for (i = 1; i <= nc; i++) printf "%s\n    %s: {\"status\": %s, \"detail\": %s}", (i > 1 ? "," : ""), jstr(C[i]), jstr(st[C[i]]), jstr(why[C[i]]) > js
		printf "\n  },\n  \"results\": [" > js
		first = 1
		for (j = 1; j <= nw; j++) for (i = 1; i <= nc; i++) {
			w = W[j]; c = C[i]; v = cell(c, w); r = ratio(c, w)
			printf "%s\n    {\"workload\": %s, \"description\": %s, \"unit\": %s, \"config\": %s, \"status\": %s, \"median\": %s, \"ratio_to_native\": %s, \"daemon_cpu_s\": %s, \"samples\": [%s]}", \
				first ? "" : ",", jstr(w), jstr(D[w]), jstr(U[w]), jstr(c), jstr((v == "n/a" || v == "FAILED") ? v : "ok"), \
				(v == "n/a" || v == "FAILED") ? "null" : med[c, w] + 0, r == "" ? "null" : r, \
				(v == "n/a" || v == "FAILED" || cpu[c, w] == "" || cpu[c, w] == "-") ? "null" : cpu[c, w] + 0, samples(vals[c, w]) > js
			first = 0
		}
		printf "\n  ]\n}\n" > js
		printf "workload" > dat
		for (i = 2; i <= nc; i++) printf "\t%s", C[i] > dat
		printf "\n" > dat
		for (j = 1; j <= nw; j++) {
			w = W[j]; printf "%s", D[w] > dat
			for (i = 2; i <= nc; i++) { r = ratio(C[i], w); printf "\t%s", r == "" ? "?" : r > dat }
			printf "\n" > dat
		}
	}' "$OUT/medians.tsv" | tee "$OUT/table.txt"

# Bar chart of ratios to native (log scale: 1.0 is native speed).
if command -v gnuplot >/dev/null; then
	ncols=$(head -1 "$OUT/ratios.dat" | awk -F'\t' '{ print NF }')
	if ! gnuplot >"$SCRATCH/gnuplot.err" 2>&1 <<EOF
set terminal svg size 1100,560 dynamic font "sans,11"
set output "$OUT/bench.svg"
set title "fusebpf bench ($LABEL, Linux $(uname -r)): median throughput / native (log scale)"
set datafile separator "\t"
set datafile missing "?"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [0.005:4]
set ylabel "ratio to native"
set grid ytics
set xtics rotate by 30 right noenhanced nomirror
set bmargin 7
set key top right noenhanced
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb "black"
plot for [i=2:$ncols] "$OUT/ratios.dat" using i:xtic(1) title columnheader(i)
EOF
	then
		echo "run-bench: gnuplot failed: $(head -3 "$SCRATCH/gnuplot.err")" >&2
	fi
else
	echo "run-bench: gnuplot not installed, no chart" >&2
fi
echo "results: $OUT/bench.csv $OUT/bench.json $OUT/bench.svg"

if [ "$EMIT" = 1 ]; then
	for f in bench.csv bench.json; do
		echo "=== BEGIN $f ==="; cat "$OUT/$f"; echo "=== END $f ==="
	done
fi

rc=0
for c in $RUN_CONFIGS; do [ "${STATE[$c]}" = ok ] || rc=1; done
exit $rc
