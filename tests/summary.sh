#!/bin/sh
# summary.sh RESULTS_FILE: sum the "PASSED FAILED" lines every suite
# appended and print one final line "N passed, M failed". Exits 1 when
# anything failed, or when there is nothing to sum (a missing or empty file,
# or no test ran at all): a run that proved nothing must not look green.

results=$1

fail_empty() {
	echo "$1"
	echo "0 passed, 1 failed"
	exit 1
}

if [ -z "$results" ]; then
	fail_empty "usage: sh tests/summary.sh RESULTS_FILE"
fi
if [ ! -f "$results" ]; then
	fail_empty "$results: missing (no suite reported)"
fi
if [ ! -s "$results" ]; then
	fail_empty "$results: empty (no suite reported)"
fi

# A line that is not two numbers is a suite that broke its own reporting:
# count it as one failure rather than guess.
awk '
	/^[0-9]+ [0-9]+$/ { p += $1; f += $2; n++; next }
	/^[[:space:]]*$/ { next }
	{ print FILENAME ": bad line: " $0; f++; n++ }
	END {
		if (n == 0 || p + f == 0) {
			print FILENAME ": no test results"
			print "0 passed, 1 failed"
			exit 1
		}
		printf "%d passed, %d failed\n", p, f
		exit (f > 0 ? 1 : 0)
	}
' "$results"
