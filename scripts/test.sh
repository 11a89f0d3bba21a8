#!/usr/bin/env bash
# The one command that sets up, builds and runs every test: unit and integration tests
# (release build), the same under ASan+UBSan, and each fuzz target for a bounded time.
#   WG_FUZZ_SECONDS (default 60) bounds each fuzzer run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

echo "== release build, plugins (C++ SDK examples, AssemblyScript conformance) + all tests"
./scripts/build.sh release
./scripts/build-plugins.sh build/plugins
./scripts/build-conformance.sh tests/conformance/build
(cd build && ctest --output-on-failure -j 2)

echo "== ASan+UBSan build + all tests"
./scripts/build.sh asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j 2)

echo "== fuzz targets"
./scripts/build.sh fuzz
./scripts/fuzz.sh "${WG_FUZZ_SECONDS:-60}"
