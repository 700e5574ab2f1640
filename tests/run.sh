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

if [ $# -gt 0 ]; then files="$*"; else files=$(ls tests/*.bats); fi
# shellcheck disable=SC2086 # file names have no spaces
bats --tap $files | tee "$tap"
skip=$(grep -c '^ok .* # skip' "$tap")
pass=$(($(grep -c '^ok ' "$tap") - skip + upass))
fail=$(($(grep -c '^not ok ' "$tap") + ufail))
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
