#!/bin/bash
# Boots the fusebpf test kernel under qemu with the host root (read-only,
# 9p) as the guest root, and runs something inside:
#
#   tests/vm/run-vm.sh test          the VM suites (tests/vm/guest-run.sh);
#                                    exit status = the guest's result
#   tests/vm/run-vm.sh shell         interactive shell on the serial console
#   tests/vm/run-vm.sh run CMD ARG.. one command in the guest (cwd = checkout)
#
# The kernel comes from kernel-patches/build-kernel.sh (built on demand,
# cached). A test or run fails on a timeout, on a missing result marker, and
# on any kernel report in the guest log (WARNING, BUG, KASAN, lockdep, Oops).
#
# Environment: FUSEBPF_KERNEL_DIR (use this bzImage dir instead of the cache),
# FUSEBPF_VM_TIMEOUT (seconds, default 1200), FUSEBPF_VM_ACCEL (tcg; kvm
# hangs at boot on these machines), FUSEBPF_VM_MEM (default 3G),
# FUSEBPF_VM_SUITES (test: only these steps of tests/vm/guest-run.sh),
# FUSEBPF_VM_CMDLINE (extra kernel arguments).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
action=${1:-}
case "$action" in
test | shell) shift ;;
run) shift; [ $# -gt 0 ] || { echo "run-vm: run needs a command" >&2; exit 2; } ;;
*) echo "usage: $0 test | shell | run CMD [ARG...]" >&2; exit 2 ;;
esac

die() { echo "run-vm: error: $*" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (make deps)"

if [ -n "${FUSEBPF_KERNEL_DIR:-}" ]; then
	KDIR=$FUSEBPF_KERNEL_DIR
else
	KDIR=$("$REPO/kernel-patches/build-kernel.sh")
fi
[ -f "$KDIR/bzImage" ] || die "no bzImage in $KDIR"

TIMEOUT=${FUSEBPF_VM_TIMEOUT:-1200}
ACCEL=${FUSEBPF_VM_ACCEL:-tcg}
MEM=${FUSEBPF_VM_MEM:-3G}

case "$REPO" in
*[[:space:]]*) die "the checkout path must not contain spaces: $REPO" ;;
esac

# One directory per run, shared read-write with the guest as 9p tag "out".
RUNDIR="$REPO/build/vm/$action-$$"
rm -rf "$RUNDIR"
mkdir -p "$RUNDIR"
ln -sfn "$(basename "$RUNDIR")" "$REPO/build/vm/last"
# keep the logs of the 20 newest runs, and those of every run still going
# (its run-vm.sh pid ends the name): a long vm-bench writes its results there
# (another run may remove a dir between the glob and ls: not an error)
{ ls -1dt "$REPO"/build/vm/*-[0-9]* 2>/dev/null || true; } | tail -n +21 | while read -r old; do
	kill -0 "${old##*-}" 2>/dev/null && continue
	rm -rf "$old"
done
LOG="$RUNDIR/guest.log"
if [ "$action" = run ]; then
	printf '%s\n' "$@" > "$RUNDIR/cmd"
fi

append="console=ttyS0 root=host rootfstype=9p ro"
append+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro"
append+=" init=$REPO/tests/vm/guest-init.sh panic=-1 oops=panic"
append+=" FUSEBPF_REPO=$REPO FUSEBPF_ACTION=$action FUSEBPF_RUNDIR=$RUNDIR"
# extra kernel arguments, e.g. FUSEBPF_VM_CMDLINE=initcall_debug
[ -n "${FUSEBPF_VM_CMDLINE:-}" ] && append+=" $FUSEBPF_VM_CMDLINE"
# The guest's environment comes from the kernel command line: no spaces.
if [ -n "${FUSEBPF_VM_SUITES:-}" ]; then
	suites=$(echo $FUSEBPF_VM_SUITES | tr ' ' ',')
	append+=" FUSEBPF_VM_SUITES=$suites"
fi

qemu=(qemu-system-x86_64 -accel "$ACCEL" -cpu max -m "$MEM" -smp 2
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$KDIR/bzImage" -append "$append"
	-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$RUNDIR,mount_tag=out,security_model=none,multidevs=remap"
	-device virtio-rng-pci)

echo "run-vm: kernel $KDIR, log $LOG" >&2
if [ "$action" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio
fi

qpid=
tpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s.%N)
: > "$LOG"
timeout -k 10 "$TIMEOUT" "${qemu[@]}" -serial "file:$LOG" </dev/null &
qpid=$!
# Show the guest's console from init on, live.
tail -n +1 -F --pid="$qpid" "$LOG" 2>/dev/null |
	sed -u -n '/^fusebpf-vm: init started/,$p' &
tpid=$!
set +e
wait "$qpid"
qrc=$?
set -e
qpid=
sleep 0.3
kill "$tpid" 2>/dev/null || true
wait "$tpid" 2>/dev/null || true
tpid=
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

fail=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run-vm: FAIL: guest timed out after ${TIMEOUT}s" >&2
	fail=1
elif [ "$qrc" != 0 ]; then
	echo "run-vm: FAIL: qemu exited with status $qrc" >&2
	fail=1
fi

# Any kernel report fails the run, whatever the tests said.
splat='WARNING:|BUG:|KASAN:|possible recursive locking|circular locking|INFO: |Oops|Call Trace|Kernel panic|general protection fault|UBSAN'
if grep -aEq "$splat" "$LOG"; then
	echo "run-vm: FAIL: kernel report in the guest log ($LOG):" >&2
	grep -aE -A20 "$splat" "$LOG" | head -80 >&2
	fail=1
fi

rc=$(sed -n 's/^.*===FUSEBPF-VM-END rc=\([0-9]*\)===.*$/\1/p' "$LOG" | tail -1)
if [ -z "$rc" ]; then
	echo "run-vm: FAIL: the guest reported no result (see $LOG)" >&2
	tail -30 "$LOG" >&2
	rc=1
	fail=1
fi
boot=$(sed -n 's/^fusebpf-vm: init started at \([0-9.]*\)s.*/\1/p' "$LOG" | head -1)
echo "run-vm: $action finished in ${elapsed%.*}s (guest init at ${boot:-?}s of uptime), guest rc=$rc" >&2
summary=$(grep -aE '^vm: [0-9]+ passed, [0-9]+ failed' "$LOG" | tail -1 | tr -d '\r' || true)
[ -n "$summary" ] && echo "$summary"
[ "$fail" = 0 ] || exit 1
exit "$rc"
