#!/bin/bash
# run-vm-bench.sh: `make vm-bench`. Runs tests/bench/run-bench.sh inside the
# patched-kernel VM (through the VM harness's `run` action), where mode bpf
# and bpf+policy exist, with sizes a TCG guest can hold in tmpfs. Extra
# arguments go to run-bench.sh and override the VM defaults below.
#
# The guest writes its results into the run directory the harness shares
# read-write (/run/vm-out in the guest); they are copied to build/bench/vm/.
# Guest numbers are only comparable with each other: TCG emulation makes
# everything many times slower than on the host, and sizes are smaller
# (stated in the table). Debian's fio needs
# SysV IPC, which the test kernel lacks: run-bench.sh then uses iobench.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/bench/vm

# The benchmark kernel (make kernel-bench: no KASAN, no lockdep) unless
# FUSEBPF_KERNEL_DIR names another; the table says which it ran on.
export FUSEBPF_KERNEL_FLAVOR=${FUSEBPF_KERNEL_FLAVOR:-bench}
if [ -z "${FUSEBPF_KERNEL_DIR:-}" ]; then
	FUSEBPF_KERNEL_DIR=$("$ROOT/kernel-patches/build-kernel.sh")
	export FUSEBPF_KERNEL_DIR
fi
if grep -qx 'CONFIG_KASAN=y' "$FUSEBPF_KERNEL_DIR/config" 2>/dev/null; then
	kernel_label="KASAN+lockdep test kernel"
else
	kernel_label="bench kernel, no KASAN/lockdep"
fi
kernel_label="$kernel_label $(basename "$FUSEBPF_KERNEL_DIR")"

# Backing dirs live on the guest's /dev/shm (tmpfs: the guest root is a
# read-only 9p share). One copy of each file per configuration must fit.
defaults=(--label "vm (qemu TCG, 2 vCPU, $kernel_label)" --dir /dev/shm --out /run/vm-out/bench
	--size 8M --rand-size 4M --rand-time 1s --files 300 --reps 2
	--verify-size 4M)

export FUSEBPF_VM_TIMEOUT=${FUSEBPF_VM_TIMEOUT:-5400}
export FUSEBPF_VM_MEM=${FUSEBPF_VM_MEM:-4G}

mkdir -p "$ROOT/build/bench"
console=$ROOT/build/bench/vm-console.log
set +e
"$ROOT/tests/vm/run-vm.sh" run tests/bench/run-bench.sh "${defaults[@]}" "$@" 2>&1 |
	tee "$console"
rc=${PIPESTATUS[0]}
set -e

# The run directory run-vm.sh names in its first line (build/vm/last may
# already point at another VM run started meanwhile).
rundir=$(sed -n 's|^run-vm: kernel .*, log \(.*\)/guest\.log$|\1|p' "$console" | head -1)
src=${rundir:-/nonexistent}/bench
if [ -d "$src" ]; then
	rm -rf "$OUT"
	mkdir -p "$OUT"
	cp -r "$src"/. "$OUT"/
	echo "vm-bench: results in $OUT"
else
	echo "vm-bench: the guest wrote no results ($src missing)" >&2
	[ "$rc" != 0 ] || rc=1
fi
exit "$rc"
