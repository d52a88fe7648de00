#!/usr/bin/env bash
# Config goldens: tests/config/NN-name.yaml is validated with
#   BIN validate -c tests/config/NN-name.yaml
# and its stdout+stderr, plus a last line "exit: CODE", must equal
# tests/config/NN-name.expected byte for byte. Every examples/config-*.yaml
# must validate (exit 0). A missing file and an oversized file are checked
# too, and no value of the fixed environment that is a secret may appear in
# any output.
#
# usage: tests/config/run.sh BIN        (UPDATE=1 rewrites the .expected files)
# Prints "config goldens: N passed, M failed" and exits non-zero on failure.
set -uo pipefail

bin=${1:?usage: tests/config/run.sh BIN}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
[ -x "$bin" ] || { echo "run.sh: $bin is not executable" >&2; exit 2; }

# The fixed environment every golden runs in. VAULT_TOKEN is a secret: it
# must never be printed.
secret_token='s.golden-token-MUST-NOT-BE-PRINTED'
run() {
	env -i PATH=/usr/bin:/bin LC_ALL=C \
		VAULT_ADDR=https://vault.example.com \
		VAULT_TOKEN="$secret_token" \
		TEAM_ROLE=arn:aws:iam::444444444444:role/team \
		"$bin" validate -c "$@" 2>&1
	echo "exit: $?"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

check_leak() { # name file
	if grep -qF -- "$secret_token" "$2"; then
		echo "FAIL $1: the secret VAULT_TOKEN value was printed"
		return 1
	fi
	return 0
}

for yaml in tests/config/[0-9][0-9]-*.yaml; do
	name=${yaml%.yaml}
	expected=$name.expected
	run "$yaml" >"$tmp/out"
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/out" "$expected"
	fi
	if [ ! -f "$expected" ]; then
		echo "FAIL $yaml: no $expected"
		fail=$((fail + 1))
	elif ! diff -u "$expected" "$tmp/out" >"$tmp/diff"; then
		echo "FAIL $yaml:"
		cat "$tmp/diff"
		fail=$((fail + 1))
	elif ! check_leak "$yaml" "$tmp/out"; then
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done

# Every example config a user may copy must be valid.
for yaml in examples/config-*.yaml; do
	[ -e "$yaml" ] || continue
	run "$yaml" >"$tmp/out"
	if [ "$(tail -n 1 "$tmp/out")" != "exit: 0" ]; then
		echo "FAIL $yaml (an example) does not validate:"
		cat "$tmp/out"
		fail=$((fail + 1))
	elif ! check_leak "$yaml" "$tmp/out"; then
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done

# A missing file: exit 78 and a message naming the path and the fix.
run tests/config/no-such-file.yaml >"$tmp/out"
if [ "$(tail -n 1 "$tmp/out")" = "exit: 78" ] &&
	grep -q '^tests/config/no-such-file.yaml: config file not found (give its path with -c FILE' "$tmp/out"; then
	pass=$((pass + 1))
else
	echo "FAIL missing file:"
	cat "$tmp/out"
	fail=$((fail + 1))
fi

# A file over 4 MiB is refused without being parsed.
{
	printf 'sources:\n  s: {vault: {mount: kv}}\ntargets:\n  t: [s]\n'
	head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' '#'
	printf '\n'
} >"$tmp/big.yaml"
run "$tmp/big.yaml" >"$tmp/out"
if [ "$(tail -n 1 "$tmp/out")" = "exit: 78" ] &&
	grep -q 'larger than 4 MiB; refusing to read it' "$tmp/out"; then
	pass=$((pass + 1))
else
	echo "FAIL oversized file:"
	cat "$tmp/out"
	fail=$((fail + 1))
fi

echo "config goldens: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
