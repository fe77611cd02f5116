#!/bin/sh
# run.sh [-t SECONDS] [-d DIR] [-j JOBS] [-r RESULTS] BIN...: run each
# libFuzzer harness for SECONDS on a copy of its seed corpus and report.
#
#   - The seeds are tests/fuzz/corpus/NAME/ plus the regression inputs in
#     tests/fuzz/crashes-found/NAME/, copied to a temporary directory:
#     what libFuzzer finds on the way is thrown away, tests/fuzz/ is never
#     written to.
#   - A crash, a sanitizer report, a leak, a broken FUZZ_CHECK or a hang
#     (one input running over 10 s) fails the harness; the input is kept
#     as DIR/crashes/fuzz_NAME-crash-<sha1> (or -leak-, -timeout-, -oom-)
#     and the whole log as DIR/logs/fuzz_NAME.log.
#   - Per harness one line: executions (libFuzzer's
#     stat::number_of_executed_units), coverage (cov: of the last status
#     line), and ok or FAILED. Then "fuzz: P passed, F failed".
#   - JOBS harnesses run at once (default: the number of CPUs).
#
# Without -r, exits 1 if a harness failed (make fuzz). With -r, appends
# "P F" to RESULTS and exits 0: tests/summary.sh decides (make test).

seconds=10
dir=backend/.obj-fuzz
jobs=$(nproc 2>/dev/null || echo 2)
results=
while getopts t:d:j:r: opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	d) dir=$OPTARG ;;
	j) jobs=$OPTARG ;;
	r) results=$OPTARG ;;
	*) echo "usage: sh tests/fuzz/run.sh [-t S] [-d DIR] [-j N]" \
	       "[-r FILE] BIN..." >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/crashes" "$dir/logs" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssereplay-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# The longest input worth trying, per parser: a little over its bound.
max_len() {
	case $1 in
	eventid)	echo 256 ;;		# RESUME_ID_MAX 64
	auth)		echo 4096 ;;		# ACCESS_TOKEN_MAX 2048
	wshandshake)	echo 8400 ;;		# WS_REQUEST_MAX 8192
	httpclient)	echo 17000 ;;		# HTTPC_HEAD_MAX 16384
	*)		echo 8192 ;;
	esac
}

# One harness, in the background: its verdict goes to $tmp/NAME.verdict.
run_one() {
	bin=$1
	name=${bin##*/fuzz_}
	corpus=$tmp/$name
	log=$dir/logs/fuzz_$name.log
	mkdir -p "$corpus"
	for src in "$here/corpus/$name" "$here/crashes-found/$name"; do
		[ -d "$src" ] && cp "$src"/* "$corpus"/ 2>/dev/null
	done
	if [ ! -x "$bin" ]; then
		echo "$bin: not built" >"$log"
		echo "fuzz_$name: not built, FAILED" >"$tmp/$name.verdict"
		return
	fi
	# The outer timeout catches a harness that hangs outside an input.
	UBSAN_OPTIONS=print_stacktrace=1 timeout $((seconds + 60)) "$bin" \
	    -max_total_time="$seconds" -max_len="$(max_len "$name")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$dir/crashes/fuzz_$name-" \
	    "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9][0-9]*\) .*/\1/p' "$log" | tail -n 1)
	if [ $rc -eq 0 ] && ! grep -q '^==[0-9]*==ERROR\|contract broken' "$log"
	then
		verdict=ok
	else
		art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" |
		    tail -n 1)
		verdict="FAILED (exit $rc; log $log${art:+; input $art})"
	fi
	echo "fuzz_$name: ${execs:-?} executions, cov ${cov:-?}, $verdict" \
	    >"$tmp/$name.verdict"
}

# JOBS at a time: they all run for the same time, so batches lose little.
running=0
for bin in "$@"; do
	run_one "$bin" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

passed=0
failed=0
for bin in "$@"; do
	name=${bin##*/fuzz_}
	line=$(cat "$tmp/$name.verdict" 2>/dev/null ||
	    echo "fuzz_$name: no verdict FAILED")
	echo "$line"
	case $line in
	*", ok") passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done
echo "fuzz: $passed passed, $failed failed"
if [ -n "$results" ]; then
	echo "$passed $failed" >>"$results"
	exit 0
fi
[ "$failed" -eq 0 ]
