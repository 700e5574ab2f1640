#!/bin/sh
# make fuzz: every target for FUZZ_TIME seconds, FUZZ_JOBS at a time.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS JOBS TARGET...
# What a target finds new lands in BUILD_DIR/corpus-NAME, a crash in
# BUILD_DIR/NAME-crash-* (or -leak-, -timeout-, -oom-), its whole output
# in BUILD_DIR/fuzz-NAME.log. An input that runs 60 s is a finding (a hang).
# One line per target as it ends, the table again at the end (also in
# BUILD_DIR/fuzz-summary.txt); exit status 1 when any target failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
[ $# -ge 4 ] || { echo "usage: $0 build-dir seconds jobs target..." >&2; exit 2; }
build=$1 time=$2 jobs=$3
shift 3
top=$PWD

one() {
	t=$1
	log=$build/fuzz-$t.log
	mkdir -p "$build/corpus-$t"
	(cd "$build" && exec "./fuzz_$t" -max_total_time="$time" -timeout=60 -print_final_stats=1 \
		-artifact_prefix="$t-" "corpus-$t" "$top/tests/fuzz/corpus/$t") \
		>"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $t: ok, ${runs:-?} executions, ${rate:-?}/s ($done_line)"
	else
		echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} executions, ${rate:-?}/s;" \
			"see $log $(ls "$build/$t"-crash-* "$build/$t"-leak-* "$build/$t"-timeout-* \
			"$build/$t"-oom-* 2>/dev/null | tr '\n' ' ')"
	fi
}

summary=$build/fuzz-summary.txt
: >"$summary"
# every target runs as long as the others: batches of $jobs
running=0
for t in "$@"; do
	one "$t" | tee -a "$summary" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
echo "---- make fuzz: $time s per target"
cat "$summary"
! grep -q FAILED "$summary"
