#!/bin/sh
# Installs the Debian bookworm packages fusebpf needs, only those missing.
set -eu
PKGS="build-essential pkg-config libfuse3-dev fuse3 libbpf-dev bpftool clang llvm
libelf-dev zlib1g-dev qemu-system-x86 linux-source-6.12 flex bison bc libssl-dev
dwarves cpio kmod rsync xz-utils attr acl fio bindfs gnuplot-nox jq python3"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
