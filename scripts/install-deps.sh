#!/bin/sh
# Installs the Debian bookworm packages fusebpf needs, only those missing.
# linux-source-6.12 is installed at the version kernel-patches/base-version
# names while the archive offers it (Debian's security archive moves the
# point release on); otherwise at the newest one, and build-kernel.sh says
# whether the series still applies to it.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
KSRC=linux-source-6.12
PKGS="build-essential pkg-config libfuse3-dev fuse3 libbpf-dev bpftool clang llvm
libelf-dev zlib1g-dev qemu-system-x86 flex bison bc libssl-dev
dwarves cpio kmod rsync xz-utils attr acl fio bindfs gnuplot-nox jq python3
ccache e2fsprogs util-linux procps libclang-rt-14-dev libsqlite3-dev"
KSRC_WANT=$(sed -n "s/^$KSRC //p" "$HERE/../kernel-patches/base-version")

installed_version() {
	dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
		sed -n 's/^install ok installed //p'
}

missing=""
for p in $PKGS; do
	[ -n "$(installed_version "$p")" ] || missing="$missing $p"
done
ksrc_have=$(installed_version $KSRC)
ksrc=""
[ "$ksrc_have" = "$KSRC_WANT" ] || ksrc=$KSRC
[ -z "$missing" ] && [ -z "$ksrc" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing${ksrc:+ $KSRC=$KSRC_WANT} (run as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	apt-get install -y -q --no-install-recommends $missing
fi
if [ -n "$ksrc" ]; then
	if apt-cache madison $KSRC | awk '{ print $3 }' | grep -qxF "$KSRC_WANT"; then
		echo "install-deps: installing $KSRC=$KSRC_WANT (kernel-patches/base-version)"
		apt-get install -y -q --no-install-recommends --allow-downgrades \
			"$KSRC=$KSRC_WANT"
	elif [ -z "$ksrc_have" ]; then
		echo "install-deps: warning: the archive no longer offers $KSRC $KSRC_WANT" \
			"(kernel-patches/base-version); installing the newest" >&2
		apt-get install -y -q --no-install-recommends $KSRC
	else
		echo "install-deps: warning: the archive no longer offers $KSRC $KSRC_WANT" \
			"(kernel-patches/base-version); keeping the installed $ksrc_have" >&2
	fi
fi
