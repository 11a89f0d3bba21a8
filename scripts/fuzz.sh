#!/usr/bin/env bash
# Runs every fuzz target built in build-fuzz/ for N seconds from its committed corpus.
# Fails if a target finds a crash (the input is left in build-fuzz/crashes/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
mkdir -p build-fuzz/crashes
ran=0
for bin in build-fuzz/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name="$(basename "$bin" _fuzz)"
  corpus="fuzz/corpus/$name"
  mkdir -p "$corpus"
  work="build-fuzz/corpus-$name"
  mkdir -p "$work"
  if [ "$name" = wasm_module ]; then
    # Seeds: the test suite's modules and, when built, the example plugins.
    for wat in tests/wasm/abi/data/*.wat tests/integration/data/*.wat; do
      wat2wasm --debug-names "$wat" -o "$work/seed-$(basename "$wat" .wat).wasm" 2>/dev/null || true
    done
    cp build/plugins/*.wasm "$work/" 2>/dev/null || true
  fi
  extra=()
  case "$name" in
    # V8 keeps pointers to its malloc'd bookkeeping in its own mmap'd heap pages, which the
    # per-input leak check does not scan: it would report V8's live memory as leaked.
    abi_host|wasm_module) extra=(-detect_leaks=0) ;;
  esac
  dict=()
  if [ -f "fuzz/$name.dict" ]; then dict=(-dict="fuzz/$name.dict"); fi
  if [ -f "fuzz/${name%%_*}.dict" ]; then dict=(-dict="fuzz/${name%%_*}.dict"); fi
  echo "fuzz: $name for ${seconds}s"
  "$bin" "$work" "$corpus" "${dict[@]}" "${extra[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1 2>&1 | tail -n 12
  ran=$((ran + 1))
done
# A target that crashes stops the script above (pipefail), so reaching here means none did.
echo "fuzz: $ran passed, 0 failed"
