#!/usr/bin/env bash
# make bench: run every benchmark under bench/ (each prints its figures).
set -uo pipefail
cd "$(dirname "$0")/.."
found=0
for b in bench/*.sh bench/*.py; do
  [ -e "$b" ] || continue
  found=1
  echo "== $b"
  case "$b" in
    *.py) python3 "$b" ;;
    *) bash "$b" ;;
  esac
done
[ $found -eq 1 ] || echo "bench: no benchmarks yet (they arrive with the Vault, AWS and pipeline issues)"
