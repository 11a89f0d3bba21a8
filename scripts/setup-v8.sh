#!/usr/bin/env bash
# Provides V8 10.2 (from Debian's libnode108, nodejs 18) for the Wasm engine layer.
#
# Debian's libnode-dev cannot always be installed with apt: a nodejs from another repository (for
# example nodesource's 20.x) conflicts with it, and /usr/include/node then holds that nodejs's
# headers, which do not match libnode.so.108. So unless Debian's libnode-dev 18.x is installed
# properly, we download the two packages and unpack them into third_party/libnode/ (git-ignored),
# then install only the shared libraries libnode108 links against.
# Idempotent: when everything is present it only checks, in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="third_party/libnode"
incdir="$dest/usr/include/node"
libfile="$dest/usr/lib/x86_64-linux-gnu/libnode.so.108"
# Runtime libraries of libnode108 (its Depends minus libc/libstdc++ and the node-* JS packages,
# which only the node binary's own JS loader uses, never an embedder of V8).
RUNTIME_PACKAGES=(libicu72 libuv1 libc-ares2 libbrotli1 libnghttp2-14 libssl3 zlib1g)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

v8_version_of() { # prints "major.minor" from a v8-version.h
  awk '/define V8_MAJOR_VERSION/{ma=$3} /define V8_MINOR_VERSION/{mi=$3} END{print ma"."mi}' "$1"
}

install_missing() {
  local missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "setup-v8: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
      { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
  fi
}

# 1. Debian's own libnode-dev 18.x installed properly: use the system paths.
if installed libnode-dev && dpkg-query -W -f='${Version}' libnode-dev | grep -q '^18\.' &&
  [ -f /usr/include/node/v8-version.h ] &&
  [ "$(v8_version_of /usr/include/node/v8-version.h)" = "10.2" ]; then
  echo "setup-v8: using system libnode-dev $(dpkg-query -W -f='${Version}' libnode-dev)"
  exit 0
fi

# 2. Already unpacked into third_party: only check the runtime libraries.
if [ -f "$incdir/v8.h" ] && [ -f "$libfile" ] && [ -f "$dest/.complete" ]; then
  install_missing "${RUNTIME_PACKAGES[@]}"
  echo "setup-v8: V8 $(v8_version_of "$incdir/v8-version.h") in $dest"
  exit 0
fi

# 3. Download and unpack.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's _apt user must be able to write here
echo "setup-v8: downloading libnode108 and libnode-dev"
if ! (cd "$tmp" && apt-get download -qq libnode108 libnode-dev >/dev/null 2>&1); then
  $SUDO apt-get update -qq
  (cd "$tmp" && apt-get download -qq libnode108 libnode-dev)
fi
for deb in "$tmp"/libnode108_*.deb "$tmp"/libnode-dev_*.deb; do
  [ -f "$deb" ] || { echo "setup-v8: download failed" >&2; exit 1; }
  ver="$(dpkg-deb -f "$deb" Version)"
  case "$ver" in 18.*) ;; *) echo "setup-v8: unexpected version $ver of $deb" >&2; exit 1 ;; esac
done
rm -rf "$dest"
mkdir -p "$dest"
dpkg -x "$tmp"/libnode108_*.deb "$dest"
dpkg -x "$tmp"/libnode-dev_*.deb "$dest"

# Runtime libraries: the fixed list plus any lib* package libnode108 declares and we lack.
deps=("${RUNTIME_PACKAGES[@]}")
while read -r p; do
  case "$p" in lib*) deps+=("$p") ;; esac
done < <(dpkg-deb -f "$tmp"/libnode108_*.deb Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g')
install_missing "${deps[@]}"

version="$(v8_version_of "$incdir/v8-version.h")"
if [ "$version" != "10.2" ]; then
  echo "setup-v8: expected V8 10.2 in $incdir, found $version" >&2
  exit 1
fi
touch "$dest/.complete"
echo "setup-v8: V8 $version unpacked into $dest"
