#!/usr/bin/env bash
# make demo: the real job, end to end, against the local test world.
#
# Starts the emulators (Vault, AWS through moto, GitHub; tests/emulators/),
# writes a small config with two AWS accounts, and runs:
#   1. secretsync plan       what would change (names and keys, never values)
#   2. secretsync pipeline   the sync
#   3. secretsync pipeline   again: nothing to do
#   4. a value changes in Vault
#   5. secretsync plan       shows the changed key
# then stops the world. Nothing leaves 127.0.0.1.
#
# Usage: scripts/demo.sh [BINARY]   (default build/secretsync; PYTHON=python3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${1:-$root/build/secretsync}
py=${PYTHON:-python3}

if [ -t 1 ]; then bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'; else bold= dim= off=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ -x "$bin" ] || die "$bin is not built (run make)"
"$py" -c 'import moto' 2>/dev/null || die "$py has no moto (run make deps)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secretsync-demo.XXXXXX")
world_pid=
cleanup() {
	if [ -n "$world_pid" ] && kill -0 "$world_pid" 2>/dev/null; then
		kill -TERM "$world_pid" 2>/dev/null || true
		wait "$world_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Keep the caller's own cloud settings away from the demo.
while IFS= read -r var; do
	unset "$var"
done < <(env | sed -n 's/^\(\(AWS\|VAULT\|GITHUB\|ACTIONS\|SECRETSYNC\|INPUT\|RUNNER\)_[A-Za-z0-9_]*\)=.*/\1/p')

step "Starting the test world (Vault, AWS via moto, GitHub) on 127.0.0.1"
"$py" tests/emulators/world.py --fixture tests/emulators/fixtures/demo.json \
	--env-file "$tmp/world.env" --parent-pid $$ --quiet \
	>"$tmp/world.out" 2>"$tmp/world.err" </dev/null &
world_pid=$!
for _ in $(seq 1 600); do
	grep -q 'WORLD READY' "$tmp/world.out" 2>/dev/null && break
	kill -0 "$world_pid" 2>/dev/null || { cat "$tmp/world.err" >&2; die "the world did not start"; }
	sleep 0.1
done
grep -q 'WORLD READY' "$tmp/world.out" || die "the world did not start in 60 s"
set -a
# shellcheck disable=SC1091
. "$tmp/world.env"
set +a
echo "Vault $VAULT_ADDR, AWS $AWS_ENDPOINT_URL, GitHub $GITHUB_API_URL"

cat >"$tmp/secretsync.yaml" <<'EOF'
# Vault (AppRole) -> merge -> AWS Secrets Manager in two accounts.
vault:
  address: ${VAULT_ADDR}
  auth:
    approle:
      role_id: ${VAULT_ROLE_ID}
      secret_id: ${VAULT_SECRET_ID}
aws:
  region: us-east-1
  role_pattern: "arn:aws:iam::{account_id}:role/secretsync"
sources:
  shared: {vault: {mount: shared}}            # the whole mount
  team: {vault: {mount: kv, paths: [team/app]}}
merge_store: {s3: {bucket: secretsync-merged, prefix: bundles/}}
targets:
  staging: {account_id: "111111111111", imports: [shared, team], secret_prefix: "app/"}
  prod: {account_id: "222222222222", imports: [staging], secret_prefix: "app/"}
pipeline:
  sync: {delete_orphans: true}
EOF
cfg=$tmp/secretsync.yaml
step "The config ($cfg)"
sed -n '2,$p' "$cfg"

run() { # run the binary, show the command, keep going on a non-zero exit
	show "secretsync $*"
	local rc=0
	"$bin" "$@" || rc=$?
	[ "$rc" = 0 ] || printf '%s(exit %s)%s\n' "$dim" "$rc" "$off"
	return 0
}

step "1. secretsync plan: what would change (masked: names and keys, never values)"
run plan -c "$cfg"

step "2. secretsync pipeline: merge and sync"
run pipeline -c "$cfg"

step "3. secretsync pipeline again: nothing to do (idempotent)"
run pipeline -c "$cfg" --exit-code

step "4. Someone rotates the database password in Vault (kv/team/app/db)"
show "POST $SECRETSYNC_TEST_VAULT_URL/_emu/secret"
"$py" - "$SECRETSYNC_TEST_VAULT_URL" <<'EOF'
import json, sys, urllib.request
body = {"namespace": "", "mount": "kv", "path": "team/app/db",
        "data": {"host": "db.internal", "password": "rotated-db-password", "port": 5432,
                 "pool": 20}}
req = urllib.request.Request(sys.argv[1] + "/_emu/secret", data=json.dumps(body).encode(),
                             method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
print("kv/team/app/db: password changed, pool added")
EOF

step "5. secretsync plan: the changed keys, in both accounts"
run plan -c "$cfg"

step "Stopping the test world"
kill -TERM "$world_pid" 2>/dev/null || true
wait "$world_pid" 2>/dev/null || true
world_pid=
echo "done"
