# shellcheck shell=bash
# tap.sh: the checks of our shell test scripts, sourced by them. Each check
# prints "ok - NAME" or "not ok - NAME" (what run-host.sh and the VM runner
# show on failure) and finish prints the closing "N passed, N failed" that
# both runners add up; its exit status is 1 if anything failed.
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() {	# check NAME COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}
quiet() { "$@" > /dev/null 2>&1; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}
