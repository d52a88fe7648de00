#!/usr/bin/env bash
# Install what building and testing secretsync needs on Debian 12 (root).
# With --quiet: print nothing when everything is already there.
set -euo pipefail

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1

pkgs=(gcc make pkg-config git file ca-certificates
      libcurl4-openssl-dev libcjson-dev libyaml-dev libbearssl-dev libcmocka-dev
      musl-tools dpkg-dev clang clang-tidy libclang-rt-14-dev valgrind cppcheck
      python3-deepmerge python3-hvac awscli iproute2
      podman runc)

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run 'make deps' as root (apt-get needs it), or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The AWS side of the test world is moto in the default python3.
py=${PYTHON:-python3}
if ! "$py" -c 'import moto.server, boto3, werkzeug, flask' 2>/dev/null; then
  echo "deps: installing moto[server] and boto3 for $py"
  "$py" -m pip install --quiet 'moto[server]==5.2.1' boto3
fi
[ $quiet -eq 1 ] || echo "deps: everything is installed"
