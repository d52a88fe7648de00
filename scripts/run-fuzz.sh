#!/usr/bin/env bash
# run-fuzz.sh SECONDS FUZZER... : run each libFuzzer harness on its seed
# corpus (tests/fuzz/corpus/<name>) for SECONDS; a crash fails the run.
set -uo pipefail
secs=$1; shift
pass=0; fail=0
for f in "$@"; do
  name=$(basename "$f"); name=${name#fuzz_}
  corpus=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
  if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="build-fuzz/${name}-" "$work" >"build-fuzz/${name}.log" 2>&1; then
    pass=$((pass + 1))
    runs=$(grep -oE 'Done [0-9]+ runs' "build-fuzz/${name}.log" | tail -1 | grep -oE '[0-9]+')
    echo "  fuzz_$name: ok (${runs:-?} runs in ${secs}s)"
  else
    fail=$((fail + 1))
    echo "  fuzz_$name: FINDING (see build-fuzz/${name}.log)"
    tail -30 "build-fuzz/${name}.log"
  fi
  rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
