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
		echo "ok fuzz corpus $name ($(ls "tests/fuzz/corpus/$name" | wc -l) inputs)"
		upass=$((upass + 1))
	else
		echo "not ok fuzz corpus $name"
		sed 's/^/# /' "$tap" | tail -20
		ufail=$((ufail + 1))
	fi
done

if [ $# -gt 0 ]; then files="$*"; else files=$(ls tests/*.bats); fi
# shellcheck disable=SC2086 # file names have no spaces
bats --tap $files | tee "$tap"
skip=$(grep -c '^ok .* # skip' "$tap")
pass=$(($(grep -c '^ok ' "$tap") - skip + upass))
fail=$(($(grep -c '^not ok ' "$tap") + ufail))
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
