#!/usr/bin/env bash
# Sizes: the static binary (target under 1.5 MB), the FROM scratch image's
# content from scripts/image-size.sh (target under 2 MB) and the dynamic
# binary. MB here is 10^6 bytes (the stricter reading of the targets); MiB
# is printed too. Figures are printed, never asserted.
#
#   bash bench/bench_size.sh [STATIC [DYNAMIC]]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

static=${1:-build/secretsync-static}
dynamic=${2:-build/secretsync}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fmt() { # bytes -> "N bytes (x.xx MB, y.yy MiB)"
	awk -v n="$1" 'BEGIN { printf "%d bytes (%.3f MB, %.3f MiB)", n, n / 1e6, n / 1048576 }'
}

verdict() { # bytes limit-bytes label
	awk -v n="$1" -v l="$2" -v t="$3" 'BEGIN {
		printf "  target under %s: %s (%.0f%% of it)\n", t, (n < l ? "met" : "NOT met"), 100 * n / l }'
}

sections() { # the loadable sections, from size(1)
	command -v size >/dev/null 2>&1 || return 0
	size "$1" | awk 'NR == 2 { printf "  text %d, data %d, bss %d bytes\n", $1, $2, $3 }'
}

describe() { # file
	local what
	what=$(file -b "$1" 2>/dev/null | cut -d, -f1-2,5- | sed 's/, BuildID\[[^]]*\]=[0-9a-f]*//')
	[ -n "$what" ] && echo "  ($what)"
}

stripped() { # file: size once stripped, when strip(1) exists
	command -v strip >/dev/null 2>&1 || return 0
	strip -o "$tmp/s" "$1" 2>/dev/null || return 0
	echo "  stripped: $(fmt "$(stat -c %s "$tmp/s")")"
}

echo "static binary ($static):"
if [ -f "$static" ]; then
	n=$(stat -L -c %s "$static")
	echo "  $(fmt "$n")"
	describe "$static"
	sections "$static"
	stripped "$static"
	verdict "$n" 1500000 "1.5 MB"
else
	echo "  missing: run make static"
fi

echo
echo "image content (scripts/image-size.sh: what Dockerfile.scratch copies):"
if [ -f "$static" ] && scripts/image-size.sh "$static" >"$tmp/img" 2>&1; then
	sed 's/^/  /' "$tmp/img"
	total=$(awk '/^total/ { print $(NF - 3) }' "$tmp/img")
	[ -n "$total" ] && verdict "$total" 2000000 "2 MB"
	echo "  (a FROM scratch image adds only its JSON config and manifest, ~1 KB)"
else
	sed 's/^/  /' "$tmp/img" 2>/dev/null
	echo "  not measured"
fi

echo
echo "dynamic binary ($dynamic):"
if [ -f "$dynamic" ]; then
	echo "  $(fmt "$(stat -L -c %s "$dynamic")")"
	describe "$dynamic"
	sections "$dynamic"
	stripped "$dynamic"
	if command -v readelf >/dev/null 2>&1; then
		echo "  needs: $(readelf -d "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd ' ' -)"
	fi
	if command -v ldd >/dev/null 2>&1; then
		echo "  shared libraries loaded in all (ldd): $(ldd "$dynamic" | grep -c '=>')"
	fi
else
	echo "  missing: run make"
fi
