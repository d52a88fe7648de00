#!/usr/bin/env bash
# The whole test suite behind `make test`. Each stage prints its own
# "STAGE: N passed, M failed" line; the last line sums them.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0; total_fail=0; failed_stages=()
start=$(date +%s)

stage() {
  local name=$1; shift
  local t0=$(date +%s) out rc line p f
  echo "== $name"
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
  p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
  f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    failed_stages+=("$name")
    [ -n "$f" ] && [ "$f" -gt 0 ] || total_fail=$((total_fail + 1))
  fi
  echo "-- $name: $([ $rc -eq 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - t0 ))s"
}

stage build $MAKE -j"$jobs" all
stage unit $MAKE -j"$jobs" unit
stage "unit (asan+ubsan)" sh -c "$MAKE -j$jobs asan >/dev/null && scripts/run-unit.sh build-asan"
stage "unit (valgrind)" $MAKE -j"$jobs" valgrind
stage "config goldens" $MAKE config-test
command -v cppcheck >/dev/null && command -v clang-tidy >/dev/null && stage lint $MAKE lint
[ -f tests/differential/merge_diff.py ] && stage "merge differential" $MAKE differential
ls tests/fuzz/fuzz_*.c >/dev/null 2>&1 && stage "fuzz smoke" $MAKE -j"$jobs" fuzz-smoke FUZZ_SECONDS=${FUZZ_SECONDS:-5}
[ -f tests/integration/run.py ] && stage integration $MAKE integration
[ -f tests/integration/run.py ] && stage "integration (asan+ubsan binary)" $MAKE integration-asan
[ -f tests/integration/run.py ] && stage "integration (valgrind binary, chosen set)" $MAKE integration-valgrind

echo
echo "test stages failed: ${failed_stages[*]:-none} ($(( $(date +%s) - start ))s)"
echo "total: $total_pass passed, $total_fail failed"
[ ${#failed_stages[@]} -eq 0 ]
