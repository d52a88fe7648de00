#!/usr/bin/env bash
# Prints the size of what the FROM scratch image holds: the static binary and
# the CA bundle (the files Dockerfile.scratch copies), without a container
# engine. Usage: scripts/image-size.sh [BINARY [CA_BUNDLE]]
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-build/secretsync-static}
ca=${2:-build/ca-certificates.crt}
[ -f "$ca" ] || ca=/etc/ssl/certs/ca-certificates.crt

[ -f "$bin" ] || { echo "image-size: $bin is missing; run make static" >&2; exit 1; }
[ -f "$ca" ] || { echo "image-size: no CA bundle ($ca); install ca-certificates" >&2; exit 1; }

total=0
row() { # $1 = path in the image, $2 = file
	local n
	n=$(stat -L -c %s "$2")
	total=$((total + n))
	awk -v p="$1" -v f="$2" -v n="$n" \
		'BEGIN { printf "%-36s %10d bytes %8.2f MiB  (%s)\n", p, n, n / 1048576, f }'
}
row /secretsync "$bin"
row /etc/ssl/certs/ca-certificates.crt "$ca"
awk -v n="$total" 'BEGIN { printf "%-36s %10d bytes %8.2f MiB\n", "total (image content)", n, n / 1048576 }'
