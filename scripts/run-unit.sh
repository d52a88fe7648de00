#!/usr/bin/env bash
# Run every unit test binary in BUILD/tests (optionally under valgrind).
# Prints a closing line "unit: N passed, M failed".
set -uo pipefail
build=${1:-build}
mode=${2:-plain}
pass=0; fail=0; failed=()
for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  if [ "$mode" = valgrind ]; then
    out=$(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
          --show-leak-kinds=definite "$t" 2>&1)
  else
    out=$("$t" 2>&1)
  fi
  rc=$?
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); failed+=("$name")
    printf '%s\n' "$out" | tail -40
  fi
  n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  printf '  %-28s %s (%s cases)\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAILED)" "${n:-?}"
done
label="unit"
[ "$mode" = valgrind ] && label="unit (valgrind)"
[ "$build" = build-asan ] && label="unit (asan+ubsan)"
echo "$label: $pass passed, $fail failed"
[ $fail -eq 0 ]
