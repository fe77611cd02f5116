#!/bin/sh
# run.sh RESULTS_FILE BIN...: run each cmocka test binary, show its output,
# count test cases, print "unit: N passed, M failed" and append "N M" to
# RESULTS_FILE. Always exits 0: tests/summary.sh decides.
#
# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), ..."
# (on stderr, hence 2>&1). A binary that dies before printing its FAILED
# line (a crash, a sanitizer report, a hang cut by timeout) or that prints
# no result at all counts as one failed case, so nothing is lost silently.

if [ $# -lt 1 ]; then
	echo "usage: sh tests/unit/run.sh RESULTS_FILE BIN..." >&2
	exit 0
fi
results=$1
shift

# Seconds one binary may run; the suite must not hang on a stuck test.
limit=${UNIT_TIMEOUT:-300}
if command -v timeout >/dev/null 2>&1; then
	run_with_limit="timeout $limit"
else
	run_with_limit=
fi

out=$(mktemp "${TMPDIR:-/tmp}/ssereplay-unit.XXXXXX") || exit 0
trap 'rm -f "$out"' EXIT INT TERM

passed=0
failed=0
for bin in "$@"; do
	echo "== $bin"
	if [ ! -x "$bin" ]; then
		echo "$bin: not found or not executable"
		failed=$((failed + 1))
		continue
	fi
	# Plain cmocka output, whatever the environment asks for.
	CMOCKA_MESSAGE_OUTPUT=stdout $run_with_limit "$bin" >"$out" 2>&1
	rc=$?
	cat "$out"

	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' \
	    "$out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' \
	    "$out" | tail -n 1)
	passed=$((passed + ${p:-0}))
	if [ -n "$f" ]; then
		failed=$((failed + f))
	elif [ "$rc" -ne 0 ]; then
		echo "$bin: exited with status $rc before reporting failures"
		failed=$((failed + 1))
	elif [ -z "$p" ]; then
		echo "$bin: reported no results"
		failed=$((failed + 1))
	fi
done

echo "unit: $passed passed, $failed failed"
echo "$passed $failed" >>"$results"
exit 0
