#!/usr/bin/env bash
# Configures and builds one flavour: release (build/), asan (build-asan/) or fuzz (build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="${WG_JOBS:-$(nproc)}"
case "$flavour" in
  release)
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    ninja -C build -j "$jobs" ;;
  asan)
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWG_SANITIZE=ON >/dev/null
    ninja -C build-asan -j "$jobs" ;;
  fuzz)
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DWG_FUZZ=ON -DWG_BUILD_TESTS=OFF >/dev/null
    targets=()
    for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
    ninja -C build-fuzz -j "$jobs" "${targets[@]}" ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
