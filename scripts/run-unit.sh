#!/usr/bin/env bash
# Run every unit test binary in BUILD/tests (optionally under valgrind).
# Prints a closing line "unit: N passed, M failed".
set -uo pipefail
build=${1:-build}
mode=${2:-plain}
pass=0; fail=0; failed=(); cases_pass=0; cases_fail=0
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
  nf=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  cases_pass=$((cases_pass + ${n:-0}))
  if [ $rc -ne 0 ]; then cases_fail=$((cases_fail + ${nf:-1})); fi
  printf '  %-28s %s (%s cases)\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAILED)" "${n:-?}"
done
label="unit"
[ "$mode" = valgrind ] && label="unit (valgrind)"
[ "$build" = build-asan ] && label="unit (asan+ubsan)"
echo "$label: $pass of $((pass + fail)) test programs ok"
echo "$label: $cases_pass passed, $cases_fail failed"
[ $fail -eq 0 ]
