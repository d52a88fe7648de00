#!/usr/bin/env bash
# make lint: cppcheck, clang-tidy (the clang static analyzer) and
# gcc -fanalyzer over src/. Any finding fails; the last line counts them.
set -uo pipefail
cd "$(dirname "$0")/.."
srcs=$(find src -name '*.c' | sort)
flags=(-D_GNU_SOURCE -Isrc -std=c11)
findings=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== cppcheck"
cppcheck --quiet --enable=warning,portability --std=c11 --inline-suppr \
	--suppress=missingIncludeSystem -D_GNU_SOURCE -Isrc $srcs >"$out" 2>&1
n=$(grep -c ': \(warning\|error\|portability\):' "$out")
cat "$out"; findings=$((findings + n)); echo "cppcheck: $n findings"

echo "== clang-tidy (clang-analyzer)"
clang-tidy --quiet --checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
	$srcs -- "${flags[@]}" >"$out" 2>/dev/null
n=$(grep -c 'warning:' "$out")
grep -A3 'warning:' "$out"; findings=$((findings + n)); echo "clang-tidy: $n findings"

echo "== gcc -fanalyzer"
: >"$out"
for f in $srcs; do
	gcc "${flags[@]}" -O1 -fanalyzer -c -o /dev/null "$f" >>"$out" 2>&1
done
n=$(grep -c 'warning:' "$out")
grep 'warning:' "$out"; findings=$((findings + n)); echo "gcc -fanalyzer: $n findings"

echo "lint: $findings findings"
[ "$findings" -eq 0 ]
