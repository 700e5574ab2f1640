#!/bin/sh
# make check: the C unit tests, then every tests/*.bats against $CELLFTPD.
# Ends with one line "check: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 2
: "${CELLFTPD:?}" "${UNIT:?}"
export CELLFTPD
export BATS_LIB_PATH="${BATS_LIB_PATH:-/usr/lib/bats}"

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT

"$UNIT" | tee "$tap"
upass=$(grep -c '^ok ' "$tap")
ufail=$(grep -c '^not ok ' "$tap")

# every fuzz target over its seed corpus, once: a regression test
for f in ${FUZZERS:-}; do
	name=${f##*/fuzz_}
	if "$f" -runs=0 "tests/fuzz/corpus/$name" >"$tap" 2>&1; then
		echo "ok fuzz corpus $name ($(find "tests/fuzz/corpus/$name" -type f | wc -l) inputs)"
		upass=$((upass + 1))
	else
		echo "not ok fuzz corpus $name"
		sed 's/^/# /' "$tap" | tail -20
		ufail=$((ufail + 1))
	fi
done

# The bats files in BATS_JOBS groups at once (one per core by default),
# balanced by their running time: the longest first, each to the group
# with the least so far. The seconds are those of one run on a 2-core
# machine (tests/timings); a file not listed counts 10.
if [ $# -gt 0 ]; then files="$*"; else files=$(ls tests/*.bats); fi
jobs=${BATS_JOBS:-$(nproc)}
: >"$tap"
for f in $files; do
	s=$(awk -v f="${f##*/}" '$1 == f { print $2 }' tests/timings)
	echo "${s:-10} $f"
done | sort -rn | awk -v jobs="$jobs" -v tap="$tap" '
	{ g = 0
	  for (i = 1; i < jobs; i++) if (sum[i] < sum[g]) g = i
	  sum[g] += $1
	  print $2 >>(tap "." g ".list") }'
for list in "$tap".*.list; do
	# shellcheck disable=SC2046 # file names have no spaces
	bats --tap $(cat "$list") >"${list%.list}.tap" 2>&1 &
done
wait
for list in "$tap".*.list; do
	cat "${list%.list}.tap"
	cat "${list%.list}.tap" >>"$tap"
	rm -f "$list" "${list%.list}.tap"
done
skip=$(grep -c '^ok .* # skip' "$tap")
pass=$(($(grep -c '^ok ' "$tap") - skip + upass))
fail=$(($(grep -c '^not ok ' "$tap") + ufail))
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
