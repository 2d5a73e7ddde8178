#!/bin/sh
# PID 1 of the fusebpf test VM. The root is the host's root, read-only over
# 9p; the kernel passes FUSEBPF_* (from its command line) in the environment:
#   FUSEBPF_REPO    the checkout (binaries in $FUSEBPF_REPO/build)
#   FUSEBPF_ACTION  test | shell | run
#   FUSEBPF_RUNDIR  host directory of this run, also shared read-write as
#                   9p tag "out" (mounted at /run/vm-out)
# Every exec over 9p costs ~150 ms, so this script runs few programs.
# Output goes to the serial console; the host reads the markers
#   ===FUSEBPF-VM-BEGIN===   and   ===FUSEBPF-VM-END rc=N===
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=${TERM:-vt100}

mount -t proc proc /proc
read -r up _ < /proc/uptime
echo "fusebpf-vm: init started at ${up}s of uptime"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Scratch space: tmpfs hides whatever is below it, so never mount it over
# the checkout (a fresh clone may live in /tmp).
mount -t tmpfs -o mode=755 run /run
mkdir -p /run/vm-out /dev/shm /run/tmp
mount -t tmpfs -o mode=1777 shm /dev/shm
case "$FUSEBPF_REPO/" in
/tmp/*) export TMPDIR=/run/tmp; chmod 1777 /run/tmp ;;
*) mount -t tmpfs -o mode=1777 tmp /tmp ;;
esac
# No bpffs and no tracefs, as on a fresh machine: fusebpfd mounts bpffs to
# pin its maps and fusebpfctl trace mounts tracefs, so every VM step also
# proves that nothing of ours depends on them being there already.
mount -t fusectl fusectl /sys/fs/fuse/connections
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /run/vm-out

cd "$FUSEBPF_REPO" || echo "fusebpf-vm: cannot enter checkout $FUSEBPF_REPO"
echo "===FUSEBPF-VM-BEGIN==="
case "$FUSEBPF_ACTION" in
test)
	tests/vm/guest-run.sh
	rc=$?
	;;
run)
	# the host wrote the command line (one argument per line) here
	set --
	while IFS= read -r arg; do set -- "$@" "$arg"; done < /run/vm-out/cmd
	"$@"
	rc=$?
	;;
shell)
	echo "fusebpf-vm: interactive shell; exit it to power off"
	# no profile: the host's rc files spawn many programs (slow over 9p)
	PS1='fusebpf-vm:\w# ' setsid -c /bin/bash --noprofile --norc -i \
		< /dev/ttyS0 > /dev/ttyS0 2>&1
	rc=$?
	;;
*)
	echo "fusebpf-vm: unknown FUSEBPF_ACTION '$FUSEBPF_ACTION'"
	rc=2
	;;
esac
echo "$rc" > /run/vm-out/rc
echo "===FUSEBPF-VM-END rc=$rc==="
# qemu runs with -no-reboot: an immediate reboot ends it.
echo b > /proc/sysrq-trigger
sleep 10
