#!/usr/bin/env bash
# make bench: run every bench/bench_* benchmark (bench_*.py with python3,
# bench_*.sh with bash), show their figures as they come, and write them to
# docs/benchmarks.md with the machine described (CPU, cores, memory, kernel,
# load). Benchmarks print figures; none passes or fails on time. The exit
# status is 1 only when a benchmark itself failed to run (non-zero exit).
#
#   scripts/run-bench.sh [NAME...]    # only bench/bench_*NAME* (e.g. coldstart size)
#
# Environment: BENCH_DOC (default docs/benchmarks.md; empty = do not write),
# BENCH_STATIC=0 (do not build build/secretsync-static first; by default it
# is rebuilt with scripts/build-static.sh when missing or older than src/),
# PYTHON (default python3: the one with moto and boto3 for the test world).
#
# In docs/benchmarks.md only the region between the GENERATED markers is
# rewritten, and within it only the sections of the benchmarks that ran:
# the analysis written around it stays.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

doc=${BENCH_DOC-docs/benchmarks.md}
py=${PYTHON:-python3}

benches=()
for b in bench/bench_*.py bench/bench_*.sh; do
	[ -e "$b" ] || continue
	if [ $# -gt 0 ]; then
		keep=0
		for pat in "$@"; do
			case "$b" in *"$pat"*) keep=1 ;; esac
		done
		[ $keep = 1 ] || continue
	fi
	benches+=("$b")
done
if [ ${#benches[@]} -eq 0 ]; then
	echo "bench: no benchmark matches${*:+ $*} (bench/bench_*.py, bench/bench_*.sh)" >&2
	exit 1
fi

# The static binary: cold start and size measure it when present.
if [ "${BENCH_STATIC:-1}" != 0 ]; then
	static=build/secretsync-static
	if [ ! -x "$static" ] || [ -n "$(find src Makefile scripts/build-static.sh -newer "$static" -print -quit 2>/dev/null)" ]; then
		echo "bench: building $static (scripts/build-static.sh; BENCH_STATIC=0 skips it)"
		if ! scripts/build-static.sh >build/bench-static.log 2>&1; then
			echo "bench: the static build failed (see build/bench-static.log); static figures are skipped or stale"
		fi
	fi
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- src 2>/dev/null)" ]; then
	commit="$commit + uncommitted changes in src/"
fi
"$py" bench/common.py machine >"$results/machine.txt"
echo "== machine"
cat "$results/machine.txt"

failed=0
for b in "${benches[@]}"; do
	name=$(basename "$b")
	echo
	echo "== $b"
	load=$(awk '{ print $1, $2, $3 }' /proc/loadavg 2>/dev/null)
	date=$(date -u '+%Y-%m-%d %H:%M UTC')
	start=$(date +%s.%N)
	case "$b" in
	*.py) "$py" -u "$b" 2>&1 | tee "$results/$name.out" ;;
	*) bash "$b" 2>&1 | tee "$results/$name.out" ;;
	esac
	code=${PIPESTATUS[0]}
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
	[ "$code" = 0 ] || { failed=1; echo "== $b: exit $code"; }
	{
		"$py" bench/common.py title "$b"
		echo "$code"
		echo "$secs"
		echo "$date"
		echo "$commit"
		echo "$load (1/5/15 min)"
	} >"$results/$name.meta"
done

if [ -n "$doc" ]; then
	"$py" bench/common.py write-doc "$results" "$doc" && echo && echo "bench: figures written to $doc"
fi
exit $failed
