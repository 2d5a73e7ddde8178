#!/bin/bash
# smoke.sh: runs the benchmark harness with tiny sizes so it cannot rot.
# Checks that it works, not how fast anything is: no timing assertions.
# Closing line: "N passed, N failed"; exit status 1 if anything failed.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/tests/bench/run-bench.sh
OUT=$(mktemp -d /tmp/fusebpf-bench-smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
# shellcheck source=../tap.sh
. "$ROOT/tests/tap.sh"

# 1. The real thing at tiny sizes: every configuration available here.
"$BENCH" --smoke --out "$OUT/run" >"$OUT/stdout" 2>"$OUT/stderr"
rc=$?
check "harness exits 0 (every available configuration mounted and ran)" [ $rc = 0 ]
[ $rc = 0 ] || { sed 's/^/  | /' "$OUT/stderr" | tail -20; sed 's/^/  | /' "$OUT/stdout" | tail -30; }

configs=$(awk -F'\t' '$2 != "n/a" { print $1 }' "$OUT/run/status.tsv" 2>/dev/null)
nconf=$(awk 'END { print NR }' "$OUT/run/status.tsv" 2>/dev/null)
nwl=13

has_rows() { [ "$(grep -c -E '(MiB/s|IOPS|ops/s|entries/s|files/s) ' "$OUT/stdout")" = $nwl ]; }
check "table on stdout has all $nwl workload rows" has_rows

csv_complete() {
	awk -F, -v n=$((nwl * nconf)) 'NR > 1 { rows++ } END { exit rows != n }' "$OUT/run/bench.csv"
}
check "CSV has one row per workload and configuration" csv_complete

csv_numbers() {	# every row of a configuration that ran has a positive median
	awk -F, 'NR > 1 && $5 != "n/a" && !($5 == "ok" && $6 + 0 > 0) { if (++bad <= 5) print "  bad row: " $0 }
		 END { exit bad > 0 }' "$OUT/run/bench.csv"
}
check "CSV: every configuration that ran has a positive median everywhere" csv_numbers

ratios() {	# every non-native ok row has a ratio; native rows have none
	awk -F, 'NR > 1 && $5 == "ok" && (($4 == "native") != ($7 == "")) { if (++bad <= 5) print "  bad ratio: " $0 }
		 END { exit bad > 0 }' "$OUT/run/bench.csv"
}
check "CSV: ratio to native present exactly for the non-native configurations" ratios

json_ok() {
	jq -e --argjson n $((nwl * nconf)) '(.results | length) == $n and (.meta.kernel | length) > 0' \
		"$OUT/run/bench.json" >/dev/null
}
check "JSON parses and holds every result" json_ok

svg_ok() { [ -s "$OUT/run/bench.svg" ] && grep -q '<svg' "$OUT/run/bench.svg"; }
check "SVG chart written" svg_ok

data_checked() {
	local c
	for c in $configs; do
		grep -q "^$c	ok	data check ok" "$OUT/run/status.tsv" || { echo "  $c: $(grep "^$c	" "$OUT/run/status.tsv")"; return 1; }
	done
}
check "data read back verified for every configuration that ran" data_checked

cpu_present() {	# daemon configurations report CPU time, native does not
	awk -F, 'NR > 1 && $5 == "ok" && (($4 == "native") != ($8 == "")) { if (++bad <= 5) print "  bad cpu: " $0 }
		 END { exit bad > 0 }' "$OUT/run/bench.csv"
}
check "daemon CPU time reported for each daemon configuration" cpu_present

# 2. A configuration that cannot mount is reported FAILED, not skipped.
FUSEBPFD=/bin/false "$BENCH" --smoke --configs native,userspace --workloads stat \
	--out "$OUT/fail" >"$OUT/fail.stdout" 2>&1
rc=$?
reported_failed() {
	[ $rc = 1 ] && grep -q '^stat .* FAILED' "$OUT/fail.stdout" &&
		grep -q "^userspace	FAILED" "$OUT/fail/status.tsv"
}
check "a configuration that fails to mount is reported FAILED (exit 1)" reported_failed

# 3. Bad input: one-line error, exit 2.
"$BENCH" --reps zero >"$OUT/bad.out" 2>&1
rc=$?
check "bad option gives a one-line error" [ $rc = 2 -a "$(wc -l <"$OUT/bad.out")" = 1 ]

# Nothing left mounted by the harness.
no_leftovers() { ! grep -q fusebpf-bench /proc/self/mountinfo; }
check "no mounts left behind" no_leftovers

finish
