# The secretsync image: one static binary and a CA bundle, nothing else.
#
#   docker build -t secretsync .          (or: podman build -t secretsync .)
#   docker build --build-arg SECRETSYNC_GIT_COMMIT=$(git rev-parse --short=12 HEAD) ...
#
# The builder compiles curl (BearSSL), BearSSL, cJSON and libyaml from
# Debian bookworm's source packages with musl, then the binary, with the same
# scripts/build-static.sh as `make static`. To package a binary you already
# built, use Dockerfile.scratch instead (no base image needed).

FROM debian:bookworm AS builder
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		autoconf automake binutils ca-certificates dpkg-dev file gcc \
		libtool make musl-tools patch util-linux xz-utils \
	&& rm -rf /var/lib/apt/lists/*
# The dependencies depend only on the build script: a layer of their own, so
# a source change does not rebuild libcurl.
COPY scripts/build-static.sh /src/scripts/build-static.sh
RUN /src/scripts/build-static.sh --deps-only
COPY . /src
WORKDIR /src
ARG SECRETSYNC_GIT_COMMIT=unknown
RUN SECRETSYNC_GIT_COMMIT="$SECRETSYNC_GIT_COMMIT" scripts/build-static.sh

FROM scratch
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /src/build/secretsync-static /secretsync
ENTRYPOINT ["/secretsync"]
