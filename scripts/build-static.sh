#!/usr/bin/env bash
# Build build/secretsync-static: one fully static x86-64 executable linked
# with musl against libcurl (BearSSL backend), BearSSL, cJSON and libyaml, all
# compiled from Debian bookworm's own source packages (apt-get source, with
# Debian's patches applied).
#
# The dependencies are built once per set of versions and cached outside the
# work tree (see --help); the cache is filled through a temporary directory
# and renamed into place, so an interrupted build never leaves half a cache.
#
# On a fresh Debian 12 machine run it as root: it installs the tools it needs
# (musl-tools, dpkg-dev, autoconf, ...) and adds a deb-src entry to apt. With
# the tools and a deb-src entry already present it runs as any user.

set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/build-static.sh [--deps-only] [--help]

Builds build/secretsync-static (and stages build/ca-certificates.crt for
Dockerfile.scratch).

  --deps-only   only build (or find in the cache) the static dependencies;
                needs nothing but this script (used by the Dockerfile)

Environment:
  SECRETSYNC_DEPS_CACHE  cache root for the built dependencies
                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/secretsync)
  SECRETSYNC_GIT_COMMIT  commit id baked into the binary (default: git HEAD,
                         or "unknown" outside a git checkout)
  JOBS                   parallel jobs (default: nproc)
EOF
}

say() { printf 'build-static: %s\n' "$*" >&2; }
die() { printf 'build-static: error: %s\n' "$*" >&2; exit 1; }

deps_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--deps-only) deps_only=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done

script_path=$(readlink -f "${BASH_SOURCE[0]}")
repo_root=$(dirname "$(dirname "$script_path")")
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
suite=bookworm
cache_root=${SECRETSYNC_DEPS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/secretsync}

is_root() { [ "$(id -u)" = 0 ]; }

need_root() {
	is_root || die "$1 needs root; run this script as root once (or do it by hand: $2)"
}

apt_updated=0
apt_update() {
	if [ "$apt_updated" = 0 ]; then
		say "apt-get update"
		apt-get update -q >&2 || die "apt-get update failed"
		apt_updated=1
	fi
}

# --- tools -----------------------------------------------------------------

# command (or file) -> Debian package that provides it
ensure_tools() {
	local missing=() pair cmd pkg
	for pair in musl-gcc:musl-tools gcc:gcc make:make ar:binutils \
		dpkg-source:dpkg-dev patch:patch xz:xz-utils \
		autoreconf:autoconf automake:automake libtoolize:libtool \
		file:file flock:util-linux; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
	if [ ${#missing[@]} -gt 0 ]; then
		need_root "installing ${missing[*]}" "apt-get install ${missing[*]}"
		say "installing: ${missing[*]}"
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "${missing[@]}" >&2 ||
			die "apt-get install ${missing[*]} failed"
	fi
}

# apt-get source needs a deb-src entry; add one for bookworm when there is none.
ensure_deb_src() {
	local codename=""
	if [ -r /etc/os-release ]; then
		# shellcheck disable=SC1091
		codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	fi
	[ "$codename" = "$suite" ] ||
		die "this build uses Debian $suite source packages; this machine is '${codename:-unknown}'"
	if apt-get -qq source --print-uris curl >/dev/null 2>&1; then
		return 0
	fi
	local f=/etc/apt/sources.list.d/secretsync-src.sources
	need_root "adding a deb-src entry ($f)" \
		"add 'Types: deb-src' for $suite, $suite-updates and $suite-security, then apt-get update"
	say "adding deb-src entries for $suite in $f"
	cat >"$f" <<EOF
# Added by secretsync scripts/build-static.sh: source packages for the
# fully static build (apt-get source curl bearssl cjson libyaml).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt_updated=0
	apt_update
	apt-get -qq source --print-uris curl >/dev/null 2>&1 ||
		die "apt-get source still finds no curl source package after adding $f"
}

# The Debian source version apt-get source would fetch, e.g. 7.88.1-10+deb12u15.
src_version() {
	local v
	v=$(apt-get -qq source --print-uris "$1" 2>/dev/null |
		awk -v p="$1_" '$2 ~ /\.dsc$/ && index($2, p) == 1 {
			sub(/\.dsc$/, "", $2); print substr($2, length(p) + 1); exit }')
	[ -n "$v" ] || die "cannot find the source package '$1' (is the deb-src entry there?)"
	printf '%s' "$v"
}

# >>> deps: everything from here to "<<< deps" is hashed into the cache key.
# Change anything here and the dependencies are rebuilt.
dep_cflags="-Os -ffunction-sections -fdata-sections"

# The curl package's last two patches rename the library for the GnuTLS and
# NSS flavours (libcurl-gnutls, libcurl-nss); debian/rules pops them before
# building the OpenSSL flavour, and so do we (in reverse order).
curl_unrename() {
	local series=debian/patches/series p
	local -a rename
	mapfile -t rename < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$series" |
		grep -E '^[0-9]+_(gnutls|nss)\.patch$' | tac)
	[ ${#rename[@]} -eq 2 ] ||
		die "expected the gnutls and nss renaming patches in curl's $series, found: ${rename[*]:-none}"
	for p in "${rename[@]}"; do
		say "curl: reversing Debian patch $p"
		patch -R -p1 -s --no-backup-if-mismatch <"debian/patches/$p" ||
			die "could not reverse $p"
	done
	grep -q '^lib_LTLIBRARIES = libcurl\.la' lib/Makefile.am ||
		die "curl's lib/Makefile.am still names a renamed library"
}

build_bearssl() { # $1 = source dir, $2 = prefix
	(
		cd "$1"
		make -s -j"$jobs" lib CONF=Unix BUILD=build CC=musl-gcc AR=ar \
			CFLAGS="-W -Wall $dep_cflags" >&2
		install -d "$2/lib" "$2/include/bearssl"
		install -m 644 build/libbearssl.a "$2/lib/"
		install -m 644 inc/*.h "$2/include/bearssl/"
		# Debian's layout: <bearssl.h> includes <bearssl/bearssl.h>.
		install -m 644 debian/bearssl.h "$2/include/bearssl.h"
	)
}

build_cjson() { # $1 = source dir, $2 = prefix
	(
		cd "$1"
		# shellcheck disable=SC2086 # a flag list
		musl-gcc -std=c89 -Wall -Wextra $dep_cflags -c cJSON.c -o cJSON.o
		ar rcs libcjson.a cJSON.o
		install -d "$2/lib" "$2/include/cjson"
		install -m 644 libcjson.a "$2/lib/"
		install -m 644 cJSON.h "$2/include/cjson/"
	)
}

build_yaml() { # $1 = source dir, $2 = prefix
	(
		cd "$1"
		autoreconf -fi >/dev/null 2>&1 || die "libyaml: autoreconf failed"
		./configure -q --prefix="$2" --disable-shared --enable-static \
			CC=musl-gcc CFLAGS="$dep_cflags" >&2
		make -s -j"$jobs" -C include install >&2
		make -s -j"$jobs" -C src install >&2
	)
}

build_curl() { # $1 = source dir, $2 = prefix (already holding BearSSL)
	(
		cd "$1"
		curl_unrename
		say "curl: autoreconf (Debian patches touch configure.ac and Makefile.am)"
		autoreconf -fi >/dev/null 2>&1 || die "curl: autoreconf failed"
		say "curl: configure (HTTP and HTTPS only, BearSSL)"
		./configure -q --prefix="$2" \
			CC=musl-gcc CFLAGS="$dep_cflags" \
			--disable-shared --enable-static --disable-dependency-tracking \
			--disable-debug --enable-optimize --disable-curldebug \
			--enable-http --disable-ftp --disable-file --disable-ldap \
			--disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
			--disable-tftp --disable-pop3 --disable-imap --disable-smb \
			--disable-smtp --disable-gopher --disable-mqtt --disable-manual \
			--disable-ntlm --disable-ntlm-wb --disable-tls-srp \
			--disable-libcurl-option --disable-websockets \
			--enable-threaded-resolver --enable-pthreads --enable-ipv6 \
			--with-bearssl="$2" \
			--without-zlib --without-brotli --without-zstd \
			--without-libidn2 --without-libpsl --without-libssh2 \
			--without-libssh --without-wolfssh --without-librtmp \
			--without-nghttp2 --without-ngtcp2 --without-nghttp3 \
			--without-quiche --without-msh3 --without-hyper \
			--without-libgsasl --without-gssapi \
			--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
			--without-ca-path --without-ca-fallback \
			--without-zsh-functions-dir --without-fish-functions-dir >&2
		grep -q '^#define USE_BEARSSL 1' lib/curl_config.h ||
			die "curl: configure did not pick BearSSL"
		say "curl: make (library only)"
		make -s -j"$jobs" -C lib >&2
		make -s -C lib install >&2
		make -s -C include install >&2
	)
}
# <<< deps

deps_hash() {
	{
		sed -n '/^# >>> deps/,/^# <<< deps/p' "$script_path"
		dpkg-query -W -f='musl ${Version}\n' musl-dev 2>/dev/null || true
	} | sha256sum | cut -c1-12
}

fetch_source() { # $1 = source package, $2 = version; unpacks into $1-<upstream>
	if ! apt-get -q source "$1=$2"; then
		# The package lists may be older than the archive: refresh once.
		is_root || exit 1
		apt-get update -q
		apt-get -q source "$1=$2"
	fi
	[ -d "$1-${2%-*}" ] || die "apt-get source $1 did not unpack into $1-${2%-*}"
}

# Runs "$@" with its output in a log; on failure shows the log's tail, keeps
# the log and stops. (Not "cmd || die": that would switch off set -e inside.)
run_logged() { # $1 = step name, then the command
	local name=$1 log rc
	shift
	log="$work/$name.log"
	set +e
	(
		set -e
		"$@"
	) >"$log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
		cp -f "$log" "${TMPDIR:-/tmp}/secretsync-static-$name.log"
		die "$name failed (full log: ${TMPDIR:-/tmp}/secretsync-static-$name.log)"
	fi
}

# Sets $prefix to the cached dependency prefix, building it if missing.
ensure_deps() {
	local v_curl v_bearssl v_cjson v_yaml key tmp d lib
	v_curl=$(src_version curl)
	v_bearssl=$(src_version bearssl)
	v_cjson=$(src_version cjson)
	v_yaml=$(src_version libyaml)
	key="static-deps-$v_curl-$v_bearssl-$v_cjson-$v_yaml-$(deps_hash)"
	prefix="$cache_root/$key"

	mkdir -p "$cache_root"
	case "$(readlink -f "$cache_root")/" in
	"$repo_root"/*) die "the dependency cache ($cache_root) must live outside the work tree" ;;
	esac
	if [ -f "$prefix/.complete" ]; then
		say "dependencies: cached in $prefix"
		return 0
	fi

	# One builder at a time per cache; a second one waits, then finds it.
	exec 9>"$cache_root/.lock"
	flock 9
	if [ -f "$prefix/.complete" ]; then
		say "dependencies: cached in $prefix (built meanwhile)"
		flock -u 9
		return 0
	fi

	# Leftovers of builds that were killed (we hold the lock: none is live).
	rm -rf "${cache_root:?}"/.tmp-*
	say "dependencies: building $key"
	say "  curl $v_curl, bearssl $v_bearssl, cjson $v_cjson, libyaml $v_yaml"
	local t0=$SECONDS
	tmp=$(mktemp -d "$cache_root/.tmp-$key.XXXXXX")
	cleanup_dirs+=("$tmp")
	chmod 755 "$tmp"
	mkdir "$work/src"
	# apt's download sandbox user (_apt) must be able to write here.
	chmod 755 "$work" "$work/src"
	cd "$work/src"
	for d in bearssl:"$v_bearssl" cjson:"$v_cjson" libyaml:"$v_yaml" curl:"$v_curl"; do
		say "fetching ${d%%:*} ${d#*:} (apt-get source)"
		run_logged "fetch-${d%%:*}" fetch_source "${d%%:*}" "${d#*:}"
	done
	say "building BearSSL"
	run_logged bearssl build_bearssl "$work/src/bearssl-${v_bearssl%-*}" "$tmp"
	say "building cJSON"
	run_logged cjson build_cjson "$work/src/cjson-${v_cjson%-*}" "$tmp"
	say "building libyaml"
	run_logged libyaml build_yaml "$work/src/libyaml-${v_yaml%-*}" "$tmp"
	say "building libcurl (reverse the renaming patches, autoreconf, configure, make)"
	run_logged curl build_curl "$work/src/curl-${v_curl%-*}" "$tmp"
	cd "$repo_root"

	# libtool/pkg-config files name the temporary prefix; nothing uses them.
	rm -rf "${tmp:?}/lib/pkgconfig" "${tmp:?}/share" "${tmp:?}/bin"
	rm -f "${tmp:?}"/lib/*.la
	for lib in libcurl.a libbearssl.a libcjson.a libyaml.a; do
		[ -f "$tmp/lib/$lib" ] || die "the dependency build did not produce lib/$lib"
	done
	cat >"$tmp/BUILD-INFO" <<EOF
curl $v_curl
bearssl $v_bearssl
cjson $v_cjson
libyaml $v_yaml
cflags $dep_cflags
built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - t0)) s
EOF
	touch "$tmp/.complete"
	rm -rf "$prefix"
	mv -T "$tmp" "$prefix"
	flock -u 9
	say "dependencies: built in $((SECONDS - t0)) s -> $prefix"
}

cleanup_dirs=()
cleanup() {
	local d
	for d in "${cleanup_dirs[@]}"; do
		[ -e "$d" ] && rm -rf "$d"
	done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the binary ------------------------------------------------------------

# Prints the value of a variable as the Makefile computes it.
make_var() {
	make -s --no-print-directory -C "$repo_root" -f Makefile -f - \
		"$@" <<'EOF'
print-%:
	@printf '%s\n' '$($*)'
EOF
}

build_binary() {
	cd "$repo_root"
	local -a srcs
	mapfile -t srcs < <(find src -name '*.c' | LC_ALL=C sort)
	[ ${#srcs[@]} -gt 0 ] || die "no sources under src/"
	grep -qx 'src/main.c' < <(printf '%s\n' "${srcs[@]}") ||
		die "src/main.c is missing"

	local version commit warnings
	version=$(make_var print-VERSION)
	[ -n "$version" ] || die "cannot read VERSION from the Makefile"
	if [ -n "${SECRETSYNC_GIT_COMMIT:-}" ]; then
		commit=$SECRETSYNC_GIT_COMMIT
	else
		commit=$(make_var print-GIT_COMMIT)
	fi
	# The Makefile's warnings, without -Werror: the regular build is the
	# warnings gate, this one must not fail on a musl-only diagnostic.
	warnings=$(make_var print-WARNINGS)
	warnings=${warnings//-Werror/}

	local -a cflags
	# shellcheck disable=SC2206 # word splitting of the flag lists is wanted
	cflags=(-static -Os -ffunction-sections -fdata-sections $warnings
		-D_GNU_SOURCE -Isrc "-DSS_VERSION=\"$version\""
		"-DSS_GIT_COMMIT=\"$commit\"" -I"$prefix/include")

	local objdir="$work/obj" out=build/secretsync-static
	# A failed build must not leave an older binary to be packaged.
	rm -f "$out" "$out.tmp"
	say "compiling ${#srcs[@]} files with musl-gcc (secretsync $version, $commit)"
	local -a pids=() objs=()
	local s o fail=0 i
	for s in "${srcs[@]}"; do
		o="$objdir/${s%.c}.o"
		mkdir -p "$(dirname "$o")"
		objs+=("$o")
		musl-gcc "${cflags[@]}" -c "$s" -o "$o" &
		pids+=($!)
		if [ ${#pids[@]} -ge "$jobs" ]; then
			wait "${pids[0]}" || fail=1
			pids=("${pids[@]:1}")
		fi
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail=1
	done
	[ "$fail" = 0 ] || die "compilation failed (see the messages above)"

	say "linking $out"
	mkdir -p build
	musl-gcc -static -Os -s -Wl,--gc-sections -o "$out.tmp" "${objs[@]}" \
		-L"$prefix/lib" -lcurl -lbearssl -lcjson -lyaml -lpthread -lm
	mv -f "$out.tmp" "$out"

	local desc
	desc=$(file -b "$out")
	case "$desc" in
	*"statically linked"*) ;;
	*) die "$out is not statically linked: $desc" ;;
	esac
	if ldd "$out" >/dev/null 2>&1; then
		die "ldd sees $out as a dynamic executable"
	fi

	# The CA bundle Dockerfile.scratch copies next to the binary.
	cp -f /etc/ssl/certs/ca-certificates.crt build/ca-certificates.crt

	local size
	size=$(stat -c %s "$out")
	say "ok: $desc"
	printf '%s: %s bytes (%s KiB)\n' "$out" "$size" "$(((size + 1023) / 1024))"
}

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/secretsync-static.XXXXXX")
cleanup_dirs+=("$work")
ensure_tools
ensure_deb_src
prefix=""
ensure_deps
if [ "$deps_only" = 1 ]; then
	say "done (--deps-only) in $((SECONDS - start)) s"
	exit 0
fi
build_binary
say "done in $((SECONDS - start)) s"
