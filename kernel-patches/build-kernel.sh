#!/bin/bash
# Builds the fusebpf test kernel: Debian's linux-source-6.12 + kernel-patches/
# series + config.fragment, into a cache outside the checkout.
#
#   kernel-patches/build-kernel.sh            build if needed; print the dir
#   kernel-patches/build-kernel.sh --dir      print the dir if built, else fail
#   kernel-patches/build-kernel.sh --tree     set up the patched source tree only
#
# Output: $CACHE/<key>/{bzImage,vmlinux,config,build.log}; <key> hashes the
# source package version, the series, every patch in it, the fragment and
# this script, so a second run with the same inputs is instant.
#
# One persistent git-managed source tree ($CACHE/src) and one object tree
# ($CACHE/obj, O=) serve every build: the patched tree is checked out as a
# commit on top of the pristine base, and git rewrites only the files that
# differ from the previous build, so make rebuilds incrementally.
#
# Flavours (FUSEBPF_KERNEL_FLAVOR): "test" (default), the kernel `make test`
# boots, with KASAN and lockdep; "bench", the same series and config less
# the debugging options (config.bench.fragment), for `make vm-bench` only,
# so that the benchmark table measures the design and not KASAN. Each
# flavour has its own object tree; the source tree is shared.
#
# Environment: FUSEBPF_KERNEL_CACHE (default /var/cache/fusebpf/kernel),
# FUSEBPF_CCACHE=0 to compile without ccache ($CACHE/ccache),
# FUSEBPF_KERNEL_KEEP (cached builds to keep, default 4).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT="$HERE/$(basename "$0")"
CACHE=${FUSEBPF_KERNEL_CACHE:-/var/cache/fusebpf/kernel}
TARBALL=/usr/src/linux-source-6.12.tar.xz
PKG=linux-source-6.12
FLAVOR=${FUSEBPF_KERNEL_FLAVOR:-test}
case "$FLAVOR" in
test) FRAGMENTS=("$HERE/config.fragment") ;;
bench) FRAGMENTS=("$HERE/config.fragment" "$HERE/config.bench.fragment") ;;
*) echo "build-kernel: error: FUSEBPF_KERNEL_FLAVOR must be test or bench, not '$FLAVOR'" >&2
   exit 1 ;;
esac
SERIES="$HERE/series"
KEEP=${FUSEBPF_KERNEL_KEEP:-4}
KMAKE=(make ARCH=x86_64 KBUILD_BUILD_USER=fusebpf KBUILD_BUILD_HOST=fusebpf
       "KBUILD_BUILD_TIMESTAMP=Thu Jan  1 00:00:00 UTC 1970")

say() { echo "build-kernel: $*" >&2; }
die() { echo "build-kernel: error: $*" >&2; exit 1; }

mode=build
case "${1:-}" in
"") ;;
--dir) mode=dir ;;
--tree) mode=tree ;;
*) die "unknown argument '$1' (usage: $0 [--dir|--tree])" ;;
esac

# --- the base source must be exactly the version the series was made for ---
want=$(sed -n 's/^linux-source-6.12 //p' "$HERE/base-version")
[ -n "$want" ] || die "kernel-patches/base-version has no 'linux-source-6.12 VERSION' line"
have=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) ||
	die "$PKG is not installed (make deps, or apt-get install $PKG)"
# Another point release (the archive no longer offers $want) is used if the
# whole series applies to it, with a warning; the first patch that does not
# apply fails the build below, by name.
[ "$have" = "$want" ] ||
	say "warning: installed $PKG is $have, the series is made for $want" \
		"(kernel-patches/base-version): trying the series on $have"
[ -r "$TARBALL" ] || die "$TARBALL missing although $PKG is installed"

# --- series: one patch file name per line, '#' starts a comment ---
# Reads the series and computes the cache key ($key, $OUT) from the files as
# they are now; called again once the build lock is held, since the series
# may change while another build runs.
read_series_and_key() {
	patches=()
	if [ -f "$SERIES" ]; then
		while read -r p; do
			[ -n "$p" ] || continue
			[ -f "$HERE/$p" ] ||
				die "series names '$p' but kernel-patches/$p does not exist"
			patches+=("$p")
		done < <(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$SERIES")
	fi
	key=$( {
		echo "$PKG $have"
		echo "== series"; printf '%s\n' "${patches[@]}"
		for p in "${patches[@]}"; do echo "== $p"; cat "$HERE/$p"; done
		echo "== flavour $FLAVOR"
		for f in "${FRAGMENTS[@]}"; do echo "== fragment"; cat "$f"; done
		echo "== script"; cat "$SCRIPT"
	} | sha256sum | cut -c1-16)
	OUT="$CACHE/$key"
}
[ -f "$SERIES" ] || say "warning: no kernel-patches/series: building the unpatched kernel"
read_series_and_key

built() { [ -f "$OUT/bzImage" ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/config" ]; }

if [ "$mode" = dir ]; then
	built || die "no cached kernel for key $key (run make kernel)"
	echo "$OUT"
	exit 0
fi
if [ "$mode" = build ] && built; then
	say "cached: $OUT"
	echo "$OUT"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	say "waiting for another build in $CACHE to finish"
	flock 9
fi
read_series_and_key
if [ "$mode" = build ] && built; then
	say "cached: $OUT"
	echo "$OUT"
	exit 0
fi

SRC="$CACHE/src"
OBJ="$CACHE/obj"
CFG="$CACHE/cfg"
if [ "$FLAVOR" != test ]; then
	OBJ="$CACHE/obj-$FLAVOR"
	CFG="$CACHE/cfg-$FLAVOR"
fi
git_src() {
	git -C "$SRC" -c user.name=fusebpf -c user.email=fusebpf@localhost \
		-c advice.detachedHead=false "$@"
}

# --- pristine base: unpacked once per source version, committed as 'base' ---
stamp="$PKG $have"
if [ "$(cat "$SRC/.git/fusebpf-base" 2>/dev/null)" != "$stamp" ]; then
	say "unpacking $TARBALL into $SRC (once per source version)"
	rm -rf "$SRC" "$CACHE"/obj "$CACHE"/obj-* "$CACHE"/cfg "$CACHE"/cfg-*
	mkdir -p "$SRC"
	tar -xJf "$TARBALL" -C "$SRC" --strip-components=1
	git_src init -q
	git_src config core.autocrlf false
	git_src config gc.auto 0
	git_src add -f -A
	git_src commit -q -m "$stamp"
	git_src tag -f base >/dev/null
	echo "$stamp" > "$SRC/.git/fusebpf-base"
fi

# --- patched tree: build the commit in a private index, then check it out ---
index="$CACHE/.series-index"
rm -f "$index"
GIT_INDEX_FILE="$index" git_src read-tree base
for p in "${patches[@]}"; do
	GIT_INDEX_FILE="$index" git_src apply --cached "$HERE/$p" ||
		die "kernel-patches/$p does not apply to $PKG $have" \
			"(the series is made for $want; kernel-patches/README.md says how to rebase)"
done
tree=$(GIT_INDEX_FILE="$index" git_src write-tree)
rm -f "$index"
commit=$(echo "fusebpf series $key" | git_src commit-tree "$tree" -p base)
git_src checkout -q -f --detach "$commit"
git_src clean -q -f -d -x
git_src tag -f "series-$key" "$commit" >/dev/null
say "source tree: $SRC at series-$key (${#patches[@]} patches)"
[ "$mode" = tree ] && exit 0

# --- configure: tinyconfig + fragment, then check every option survived ---
cc=gcc
# ccache helps when the series goes back to an earlier state (checking that
# each patch builds on its own) and when the object tree is lost. Switching
# it on or off changes the compiler command line, so kbuild then rebuilds
# everything once.
if [ "${FUSEBPF_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
	cc="ccache gcc"
	export CCACHE_DIR="$CACHE/ccache" CCACHE_MAXSIZE=8G
	export CCACHE_BASEDIR="$CACHE" CCACHE_NOHASHDIR=1
fi
KMAKE+=("CC=$cc")
mkdir -p "$CFG" "$OBJ"
LOG="$CACHE/.build-$key.log"
: > "$LOG"
start=$(date +%s)
say "configuring (log: $LOG)"
{
	"${KMAKE[@]}" -C "$SRC" O="$CFG" tinyconfig
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$CFG" "$CFG/.config" "${FRAGMENTS[@]}"
	"${KMAKE[@]}" -C "$SRC" O="$CFG" olddefconfig
} >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; die "configuration failed (log: $LOG)"; }

defined="$CFG/defined-symbols"
git_src grep -hE "^[[:space:]]*(menu)?config[[:space:]]+[A-Za-z0-9_]+" -- '*Kconfig*' |
	awk '{ print $2 }' | sort -u > "$defined"
lost=()
while read -r line; do
	case "$line" in
	CONFIG_*=*) sym=${line%%=*}; sym=${sym#CONFIG_}; set_to=$line ;;
	"# CONFIG_"*" is not set") sym=${line#\# CONFIG_}; sym=${sym% is not set}; set_to= ;;
	*) continue ;;
	esac
	if ! grep -qxF "$sym" "$defined"; then
		say "warning: CONFIG_$sym is not defined in this tree (skipped)"
		continue
	fi
	if [ -n "$set_to" ]; then
		grep -qxF "$set_to" "$CFG/.config" || lost+=("$set_to")
	else
		! grep -q "^CONFIG_$sym=" "$CFG/.config" || lost+=("$line")
	fi
done < <(cat "${FRAGMENTS[@]}" | awk '
	# the last setting of a symbol wins, as in merge_config.sh
	{ sym = $0; sub(/^# /, "", sym); sub(/[= ].*/, "", sym) }
	sym ~ /^CONFIG_/ { last[sym] = $0; if (!(sym in seen)) { seen[sym] = 1; order[n++] = sym }; next }
	END { for (i = 0; i < n; i++) print last[order[i]] }')
[ ${#lost[@]} -eq 0 ] ||
	die "config.fragment options lost in olddefconfig (unmet dependencies?): ${lost[*]}"

# Replace the object tree's config only when it changed: an unchanged
# .config keeps every object file valid.
cmp -s "$CFG/.config" "$OBJ/.config" || cp "$CFG/.config" "$OBJ/.config"

# --- build ---
jobs=$(nproc)
say "building bzImage + vmlinux with BTF (make -j$jobs, CC='$cc')"
# A progress line a minute, so a long build is visibly alive.
( while sleep 60; do
	say "... $(grep -c '^  CC ' "$LOG") files compiled, $(( $(date +%s) - start ))s"
done ) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT
if ! "${KMAKE[@]}" -C "$SRC" O="$OBJ" -j"$jobs" bzImage >>"$LOG" 2>&1; then
	kill "$ticker" 2>/dev/null || true
	grep -E 'error|Error' "$LOG" | tail -20 >&2 || true
	tail -20 "$LOG" >&2
	die "kernel build failed (log: $LOG)"
fi
kill "$ticker" 2>/dev/null || true
grep -qx CONFIG_DEBUG_INFO_BTF=y "$OBJ/.config" && [ -s "$OBJ/vmlinux" ] ||
	die "build produced no vmlinux with BTF"
secs=$(( $(date +%s) - start ))
echo "build-kernel: built in ${secs}s" >> "$LOG"

tmp="$CACHE/.tmp-$key"
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$OBJ/arch/x86/boot/bzImage" "$OBJ/vmlinux" "$tmp/"
cp "$OBJ/.config" "$tmp/config"
mv "$LOG" "$tmp/build.log"
rm -rf "$OUT"
mv "$tmp" "$OUT"

# Keep the newest $KEEP builds: each holds a vmlinux of several hundred MB.
ls -1dt "$CACHE"/* | { grep -E '/[0-9a-f]{16}$' || true; } |
	tail -n +$((KEEP + 1)) | while read -r old; do
		if [ -f "$old/bzImage" ]; then rm -rf "$old"; fi
	done

say "built in ${secs}s: $OUT"
echo "$OUT"
