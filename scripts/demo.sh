#!/usr/bin/env bash
# make demo: run the real binary on the example configs.
#
# Until the pipeline lands (see the project's issues), the demo validates
# and explains the example configs offline; it grows into the full job
# against the local emulators (plan, sync, idempotent re-run, change, plan).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/secretsync
export VAULT_ADDR=${VAULT_ADDR:-https://vault.example.com:8200}
export VAULT_ROLE_ID=${VAULT_ROLE_ID:-demo-role-id}
export VAULT_SECRET_ID=${VAULT_SECRET_ID:-demo-secret-id}
export AWS_REGION=${AWS_REGION:-us-east-1}

echo "\$ secretsync version"
$bin version
for cfg in examples/config-*.yaml; do
  echo
  echo "\$ secretsync validate -c $cfg"
  $bin validate -c "$cfg"
done
echo
echo "\$ secretsync validate -c tests/config/ (a broken config: every problem listed, exit 78)"
bad=$(ls tests/config/*.yaml 2>/dev/null | grep -m1 -E 'cycle|errors|unknown' || true)
if [ -n "$bad" ]; then
  set +e; $bin validate -c "$bad"; rc=$?; set -e
  echo "(exit $rc)"
fi
