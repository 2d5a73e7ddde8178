#!/bin/sh
# Guest side of `make vm-test`, started by guest-init.sh in the checkout on
# the patched kernel. Runs the suites in mode bpf with the binaries of
# build/ (shared from the host over 9p), each printing its own
# `N passed, N failed`, and closes with their sum:
#   vm: N passed, N failed
# Every exec over 9p costs ~150 ms: each suite is one process doing many
# operations, and the daemon starts once per suite.
# FUSEBPF_VM_SUITES (space-separated step names) runs a subset.
B=build
T=${TMPDIR:-/tmp}
passed=0
failed=0
steps=$(echo "${FUSEBPF_VM_SUITES:-feature,bpf_uapi,bpf_counters,bpf_filter,bpf_review,host_suites,policy,casefold,stats,policy_reload,media}" | tr ',' ' ')

# Uptime in centiseconds, without spawning a process.
now_cs() {
	read -r up _ < /proc/uptime
	echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}

# step NAME CMD [ARG...]: runs CMD, adds its closing counts to the totals;
# a step that dies without a closing line counts as one failure. Only tee
# is spawned besides CMD (every exec is expensive here).
step() {
	name=$1
	shift
	echo "=== vm step: $name: $*"
	start=$(now_cs)
	{ "$@" 2>&1; echo $? > "$T/step.rc"; } | tee "$T/step.out"
	read -r rc < "$T/step.rc"
	p=
	f=
	while read -r a b c d; do
		[ "$b" = "passed," ] && [ "$d" = failed ] || continue
		case "$a$c" in
		*[!0-9]*) ;;
		*) p=$a; f=$c ;;
		esac
	done < "$T/step.out"
	if [ -n "$p" ]; then
		[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	elif [ "$rc" = 0 ]; then
		echo "vm step $name: exited 0 without a closing 'N passed, N failed' line"
		p=0
		f=1
	else
		p=0
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	cs=$(( $(now_cs) - start ))
	echo "=== vm step: $name: rc=$rc, $p passed, $f failed, $((cs / 100)).$((cs % 100 / 10))s"
}

# The kernel must announce FUSE-BPF, or nothing below tests the patches.
feature() {
	f=/sys/fs/fuse/features/fuse_bpf
	echo "kernel: $(uname -r)"
	if [ -r "$f" ]; then
		echo "ok 1 - $f present: $(cat "$f")"
		echo "1 passed, 0 failed"
	else
		echo "not ok 1 - $f missing: the kernel has no FUSE-BPF"
		echo "0 passed, 1 failed"
	fi
}

need() {
	[ -x "$1" ] && return 0
	echo "not ok 1 - $1 missing (run make on the host)"
	echo "0 passed, 1 failed"
	return 1
}

for s in $steps; do
	case $s in
	feature)
		step feature feature
		;;
	bpf_uapi | bpf_counters | bpf_filter | bpf_review)
		bin=$B/tests/integration/$s
		if need "$bin" > "$T/need.out"; then
			step "$s" "$bin"
		else
			step "$s" cat "$T/need.out"
		fi
		;;
	host_suites)
		# The host suites themselves (posix, integrity, handles), in
		# mode bpf only: tests/run-host.sh, not a copy of it.
		mkdir -p "$T/test-logs"
		export FUSEBPF_TEST_DIR="$T" FUSEBPF_TEST_LOGDIR="$T/test-logs"
		step host_suites tests/run-host.sh --mode bpf \
			--suite posix --suite integrity --suite handles
		;;
	policy)
		# --- BPF filters (kernel-patches/0009): the policy suite in
		# mode bpf, enforced by the kernel's policy filter
		mkdir -p "$T/test-logs"
		export FUSEBPF_TEST_DIR="$T" FUSEBPF_TEST_LOGDIR="$T/test-logs"
		step policy tests/run-host.sh --mode bpf --suite policy
		;;
		# --- end of BPF filters
	media)
		# libfusebpf's example embedder in mode bpf: its grants
		# ("decide" subtree: decision requests of the policy filter)
		mkdir -p "$T/test-logs"
		export FUSEBPF_TEST_DIR="$T" FUSEBPF_TEST_LOGDIR="$T/test-logs"
		step media tests/run-host.sh --mode bpf --suite media
		;;
	casefold)
		# Issue 10: Android's shared storage is ext4 with casefold. The
		# policy suite over a casefolded directory of a loop-mounted
		# ext4 image, with the other-spelling attacks (--casefold), in
		# every mode this kernel offers.
		cf=$T/casefold
		mkdir -p "$cf/mnt" "$T/test-logs"
		if mke2fs -q -t ext4 -O casefold -F "$cf/ext4.img" 64M &&
		   mount -o loop "$cf/ext4.img" "$cf/mnt" &&
		   mkdir -m 755 "$cf/mnt/storage" && chattr +F "$cf/mnt/storage"; then
			export FUSEBPF_TEST_DIR="$cf/mnt/storage" \
				FUSEBPF_TEST_LOGDIR="$T/test-logs" FUSEBPF_TEST_CASEFOLD=1
			step casefold tests/run-host.sh --mode userspace \
				--mode passthrough --mode bpf --suite policy
			# the later steps make their scratch dirs in $T again
			unset FUSEBPF_TEST_CASEFOLD
			export FUSEBPF_TEST_DIR="$T"
			umount "$cf/mnt"
		else
			echo "not ok 1 - no casefolded ext4 image (mke2fs -O casefold, loop mount, chattr +F)" > "$T/need.out"
			echo "0 passed, 1 failed" >> "$T/need.out"
			step casefold cat "$T/need.out"
		fi
		rm -f "$cf/ext4.img"
		;;
	stats)
		# fusebpfctl stats: the policy filter's kernel column and the
		# daemon's, against the kernel's tracepoints
		step stats tests/integration/stats_cli.sh --mode bpf
		;;
	policy_reload)
		# policy load into a mount started without policy=
		step policy_reload tests/vm/policy_reload.sh
		;;
	*)
		echo "vm: unknown step '$s'"
		failed=$((failed + 1))
		;;
	esac
done

echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
