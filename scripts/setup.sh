#!/usr/bin/env bash
# Installs everything wasmgate needs to build, test and benchmark on Debian 12, from Debian's
# packages only. Idempotent: when everything is present it only checks, in about a second.
set -euo pipefail

PACKAGES=(
  # toolchain and build
  g++ cmake ninja-build pkg-config git
  # libraries
  libyaml-cpp-dev libfmt-dev nlohmann-json3-dev libre2-dev zlib1g-dev libcli11-dev libssl-dev
  # tests, fuzzing, benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev llvm-14
  python3 nginx-light wrk curl procps
  # Wasm: hand-written test modules, and C++ plugins built with clang for wasm32-wasi
  wabt wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32 lld-14
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's nginx package starts a system nginx on port 80; the project never uses it.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
pkill -f "nginx: master process /usr/sbin/nginx -g daemon on" >/dev/null 2>&1 || true
# V8 10.2 from Debian's libnode (unpacked into third_party/ when another nodejs blocks it).
"$(dirname "$0")/setup-v8.sh"
echo "setup: all dependencies present"
