#!/bin/sh
# fuzz.sh [FUZZTIME]: runs each fuzz target of the module (every Fuzz*
# function, found with `go test -list`) for FUZZTIME, go test's -fuzztime:
# a count of runs ("10000x", the default) or a duration ("5m"). go fuzzes
# one target of one package at a time, so they run one after the other.
#
# A failing input is written to the package's testdata/fuzz/<target>/,
# where every `go test` runs it from then on: check it in with the fix.
#
# Go before 1.27 can end a run with a duration with "context deadline
# exceeded" and no failing input, a race in its fuzzing coordinator
# (go.dev/issue/75804); such a run is reported and not counted as a
# failure. A count of runs has no deadline to race.
set -eu

fuzztime=${1:-10000x}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
# The integration packages fuzz nothing, and listing their tests would
# run their TestMain, which builds berth.
for pkg in $(go list ./... | grep -v /integration); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target for $fuzztime"
		if go test -run "^$target\$" -fuzz "^$target\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s "$pkg" >"$out" 2>&1; then
			tail -n 1 "$out"
			continue
		fi
		cat "$out"
		if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
			echo "fuzz: $target: Go's fuzztime race (go.dev/issue/75804), no failing input: not counted"
		else
			status=1
		fi
	done
done
exit $status
