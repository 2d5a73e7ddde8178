#!/bin/bash
# policy_reload.sh (VM step policy_reload, mode bpf): a policy loaded with
# `fusebpfctl policy load` into a mount started WITHOUT -o policy= is
# enforced by the kernel's policy filter at once, also on paths walked and
# cached before the load, and while another process keeps its working
# directory inside a subtree the new policy hides (its inodes keep the old
# attachment: new walks must not reuse them).
#
#   tests/vm/policy_reload.sh        (root, patched kernel; closing line
#                                     "N passed, N failed")
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CTL=$BUILD/fusebpfctl
FUSEBPFD=$BUILD/fusebpfd
A1=10001 A2=10002

# shellcheck source=../tap.sh
. "$ROOT/tests/tap.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/fusebpf-reload.XXXXXX") || exit 2
chmod 755 "$W"
B=$W/backing M=$W/mnt INST=reload-$$
HOLDER=
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2> /dev/null
	mountpoint -q "$M" && { umount "$M" 2> /dev/null || umount -l "$M"; }
	rm -rf "$W"
}
trap cleanup EXIT

# Mode bits alone let app2 into app1's directory (0755); the policy hides it.
D1=Android/data/com.example.app1
mkdir -p "$B/$D1/files" "$B/$D1/cache" "$B/Android/data/com.example.app2" \
	"$B/Ringtones" "$B/DCIM/Camera" "$M"
chmod 777 "$B/DCIM/Camera"
echo notes > "$B/$D1/files/notes.txt"
echo thumb > "$B/$D1/cache/thumb.bin"
echo ring > "$B/Ringtones/r.ogg"
echo hidden > "$B/DCIM/.secret"
chown -R $A1:$A1 "$B/$D1"
chown -R $A2:$A2 "$B/Android/data/com.example.app2"
chmod 777 "$B/Ringtones"
chmod 666 "$B/Ringtones/r.ogg"
cat > "$W/policy" <<'EOF'
privileged-uid 0
owner-only Android/data/*
read-only Ringtones exempt=privileged
hide .secret
EOF

# as UID EXPECT 'command' (run in the mount's root, stdin /dev/null)
as() {
	local uid=$1 want=$2 cmd=$3 out rc got
	out=$(setpriv --reuid="$uid" --regid="$uid" --clear-groups -- \
		sh -c "cd '$M' && $cmd" 2>&1 < /dev/null)
	rc=$?
	case $out in
	*"No such file"*|*nonexistent*) got=ENOENT ;;
	*"Read-only file system"*) got=EROFS ;;
	*"Permission denied"*) got=EACCES ;;
	*) [ $rc = 0 ] && got=ok || got="exit $rc: $out" ;;
	esac
	if [ "$got" = "$want" ]; then
		ok "$LABEL: uid $uid $cmd: $want"
	else
		notok "$LABEL: uid $uid $cmd: wanted $want, got $got"
	fi
}

if ! out=$("$FUSEBPFD" "$B" "$M" -o "mode=bpf,instance=$INST" 2>&1); then
	notok "mount -o mode=bpf without policy=: $out"
	finish
fi
ok "mount -o mode=bpf without policy="
if [ -e "/sys/fs/bpf/fusebpf/$INST/filter_counts" ]; then
	ok "policy filter attached without policy= (filter_counts pinned)"
else
	notok "policy filter attached without policy= (no /sys/fs/bpf/fusebpf/$INST/filter_counts)"
fi

LABEL="before the load"
as $A2 ok "cat $D1/files/notes.txt"
as $A2 ok "ls $D1/cache"
as $A2 ok "ls Android/data | grep -q com.example.app1"
as $A2 ok "echo more >> Ringtones/r.ogg"
as $A2 ok "cat DCIM/.secret"
as $A1 ok "cat $D1/files/notes.txt"

# app2 keeps a shell whose working directory is app1's cache directory
IO=$W/io
mkdir -m 1777 "$IO"
mkfifo -m 666 "$IO/go"
setpriv --reuid=$A2 --regid=$A2 --clear-groups -- sh -c \
	"cd '$M/$D1/cache' && echo ready > '$IO/ready' && read x < '$IO/go' &&
	 { cat thumb.bin; cat ../files/notes.txt; ls .; } > '$IO/cwd.out' 2>&1;
	 echo rc=\$? >> '$IO/cwd.out'" < /dev/null &
HOLDER=$!
for _ in $(seq 100); do [ -s "$IO/ready" ] && break; sleep 0.1; done
[ -s "$IO/ready" ] || notok "app2's shell did not get into $D1/cache"

if out=$("$CTL" policy load "$W/policy" "$INST" 2>&1); then
	ok "fusebpfctl policy load: $out"
else
	notok "fusebpfctl policy load: $out"
fi

LABEL="after the load"
as $A2 ENOENT "cat $D1/files/notes.txt"
as $A2 ENOENT "ls $D1/cache"
as $A2 ok "! ls Android/data | grep -q com.example.app1"
as $A2 ok "ls Android/data | grep -q com.example.app2"
as $A2 EROFS "echo more >> Ringtones/r.ogg"
as $A2 ENOENT "cat DCIM/.secret"
as $A1 ok "cat $D1/files/notes.txt"
as $A1 ok "ls $D1/cache"
as 0 ok "echo root >> Ringtones/r.ogg"

# The shell that was already in app1's directory
timeout 10 sh -c "echo go > '$IO/go'"
wait "$HOLDER"
HOLDER=
echo "  app2's shell with its cwd in $D1/cache since before the load:"
sed 's/^/  | /' "$IO/cwd.out"
# Not a check: the kernel keeps the attachment of inodes in use, and
# kernel-resolved inodes are not known to the daemon, so nothing can
# renew them (as with mode bits: a process already inside a directory
# keeps what it can reach from there). New walks are checked above, run
# while this shell held its directory.
if grep -q '^thumb$\|^notes$' "$IO/cwd.out"; then
	echo "  known limitation: a process whose cwd was inside app1's directory before" \
		"the load still reaches app1's files from there"
fi

# Second load: DCIM, which the daemon looked up under the first policy,
# becomes read-only while a shell keeps its cwd in DCIM/Camera below it.
# New walks must not reuse the kernel's DCIM inode of the first policy.
LABEL="second load"
as $A2 ok "echo 1 > DCIM/Camera/one.jpg"
setpriv --reuid=$A2 --regid=$A2 --clear-groups -- sh -c \
	"cd '$M/DCIM/Camera' && echo ready > '$IO/ready2' && read x < '$IO/go'" < /dev/null &
HOLDER=$!
for _ in $(seq 100); do [ -s "$IO/ready2" ] && break; sleep 0.1; done
[ -s "$IO/ready2" ] || notok "app2's shell did not get into DCIM/Camera"
printf 'read-only DCIM exempt=privileged\n' >> "$W/policy"
if out=$("$CTL" policy load "$W/policy" "$INST" 2>&1); then
	ok "fusebpfctl policy load (+ read-only DCIM): $out"
else
	notok "fusebpfctl policy load (+ read-only DCIM): $out"
fi
as $A2 EROFS "echo 2 > DCIM/Camera/two.jpg"
as $A2 EROFS "rm DCIM/Camera/one.jpg"
as $A2 ok "cat DCIM/Camera/one.jpg"
as 0 ok "echo root > DCIM/Camera/root.jpg"
as $A2 ENOENT "cat $D1/files/notes.txt"
timeout 10 sh -c "echo go > '$IO/go'"
wait "$HOLDER"
HOLDER=

"$CTL" stats "$INST" --json > "$W/stats.json"
n=$(jq '[.ops[] | .filter_denied // 0] | add' "$W/stats.json")
if [ "${n:-0}" -gt 0 ]; then
	ok "fusebpfctl stats: the filter denied $n ops in the kernel"
else
	notok "fusebpfctl stats: the filter denied nothing"
fi
"$CTL" stats "$INST" | sed 's/^/  /'

if umount "$M"; then ok "umount"; else notok "umount"; fi
finish
