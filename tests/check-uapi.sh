#!/bin/bash
# include/uapi/linux/fuse_bpf.h must be byte-identical to the copy the
# kernel series adds to the kernel tree: the daemon and the kernel build
# against the same contract.
#
# The kernel copy is rebuilt from the patches alone (every hunk of the series
# that touches include/uapi/linux/fuse_bpf.h, applied in series order to an
# empty tree), so no kernel source is needed.
#
# While kernel-patches/series names no patch there is nothing to compare:
# that is reported and passes. Once the series has patches, one of them
# must add the header, and the result must match.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
HDR=include/uapi/linux/fuse_bpf.h
SERIES="$REPO/kernel-patches/series"

patches=()
if [ -f "$SERIES" ]; then
	while read -r p; do
		[ -n "$p" ] && patches+=("$p")
	done < <(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$SERIES")
fi
if [ ${#patches[@]} -eq 0 ]; then
	echo "check-uapi: kernel-patches/series has no patches yet: no kernel copy of $HDR to compare"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touched=0
for p in "${patches[@]}"; do
	f="$REPO/kernel-patches/$p"
	[ -f "$f" ] || { echo "check-uapi: FAIL: series names missing patch $p" >&2; exit 1; }
	grep -q "^+++ b/$HDR\$" "$f" || continue
	touched=1
	(cd "$tmp" && git apply --include="$HDR" "$f") || {
		echo "check-uapi: FAIL: the $HDR part of $p does not apply" >&2
		exit 1
	}
done
if [ "$touched" = 0 ] || [ ! -f "$tmp/$HDR" ]; then
	echo "check-uapi: FAIL: no patch in kernel-patches/series adds $HDR" >&2
	exit 1
fi
if ! cmp -s "$tmp/$HDR" "$REPO/$HDR"; then
	echo "check-uapi: FAIL: $HDR differs from the copy the kernel series adds:" >&2
	diff -u "$tmp/$HDR" "$REPO/$HDR" --label "kernel series" --label "$HDR" >&2 || true
	exit 1
fi
echo "check-uapi: ok: $HDR is identical to the kernel series' copy"
