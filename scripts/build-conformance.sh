#!/usr/bin/env bash
# Builds the third-party-SDK conformance plugins (AssemblyScript Proxy-Wasm modules) described in
# tests/conformance/README.md, then checks every module with `wasm-objdump -x`.
#
#   scripts/build-conformance.sh [OUT_DIR]      (default: tests/conformance/build; a relative OUT_DIR is
#                                                 taken from the current directory)
#
# Output: OUT_DIR/{solo,gcore}/<plugin>.wasm plus OUT_DIR/{solo,gcore}/<plugin>.txt (import/export
# summary taken from wasm-objdump).
#
# Needs node + npm (npm registry access only on the first run or after a lockfile change) and wabt's
# wasm-objdump. Idempotent: `npm ci` runs only when node_modules is missing or package.json /
# package-lock.json changed (sha256 stamp in node_modules/), and a plugin is recompiled only when its
# inputs are newer than its .wasm. The module checks run every time.
#
# Finally tests/conformance/mock_host.mjs (a tiny Node Proxy-Wasm host) runs every case of
# tests/conformance/expected.json against the modules, as a self-check of plugins + expectations.
#
# Environment: WG_CONFORMANCE_FORCE=1 recompiles everything; WG_CONFORMANCE_QUIET=1 prints no
# summaries; WG_CONFORMANCE_SELFTEST=0 skips the mock-host self-check.
set -euo pipefail
out_arg="${1:-}"
if [[ -n "$out_arg" ]]; then mkdir -p "$out_arg"; out_arg="$(cd "$out_arg" && pwd)"; fi  # relative to the caller's cwd
cd "$(dirname "$0")/.."
repo="$PWD"
conf="$repo/tests/conformance"
script="$repo/scripts/build-conformance.sh"

out="${out_arg:-$conf/build}"
mkdir -p "$out"

sdks=(solo gcore)
plugins=(add_header local_response config_echo callout tick_gate queue_relay)

die() { echo "build-conformance: $*" >&2; exit 1; }
for tool in node npm wasm-objdump sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done

# --- dependencies ------------------------------------------------------------------------------
deps_hash() { cat "$1/package.json" "$1/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1; }

ensure_deps() {
  local dir="$1" stamp="$1/node_modules/.wasmgate-conformance-stamp"
  if [[ -d "$dir/node_modules" && -f "$stamp" && "$(cat "$stamp")" == "$(deps_hash "$dir")" ]]; then
    return 0
  fi
  if [[ -f "$dir/package-lock.json" ]]; then
    echo "build-conformance: npm ci in ${dir#"$repo"/}" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
  else
    echo "build-conformance: npm install in ${dir#"$repo"/} (no lockfile yet; commit the new package-lock.json)" >&2
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) >&2
  fi
  [[ -x "$dir/node_modules/.bin/asc" ]] || die "asc missing in ${dir#"$repo"/}/node_modules after npm"
  deps_hash "$dir" >"$stamp"
}

# --- compilation -------------------------------------------------------------------------------
# The flags follow each SDK's documentation:
#  solo : README of @solo-io/proxy-runtime 0.1.8: `asc ... --use abort=abort_proc_exit --optimize`
#         (default `full` runtime: the SDK's malloc/free use __retain/__release from rt/index-full).
#  gcore: docs/quickstart of @gcoredev/proxy-wasm-sdk-as: asconfig.json extending
#         @assemblyscript/wasi-shim, target release (-O3, shrink 0), `use abort=abort_proc_exit`.
compile() {
  local sdk="$1" plugin="$2" dst="$3" dir="$conf/$1"
  local tmp="$dst.tmp.$$"
  case "$sdk" in
    solo)  (cd "$dir" && ./node_modules/.bin/asc "assembly/$plugin.ts" -b "$tmp" \
              --use abort=abort_proc_exit --optimize) ;;
    gcore) (cd "$dir" && ./node_modules/.bin/asc "assembly/$plugin.ts" --config asconfig.json \
              --target release -o "$tmp") ;;
  esac
  mv -f "$tmp" "$dst"
}

needs_build() {
  local dst="$1" dir="$2"
  [[ "${WG_CONFORMANCE_FORCE:-0}" == 1 || ! -f "$dst" ]] && return 0
  local f
  for f in "$dir"/assembly/*.ts "$dir/package-lock.json" "$dir/package.json" "$dir/asconfig.json" "$script"; do
    [[ -e "$f" && "$f" -nt "$dst" ]] && return 0
  done
  return 1
}

# --- inspection --------------------------------------------------------------------------------
# Turns `wasm-objdump -x` output into a summary: ABI marker, allocator, entry point, every import
# with its signature, every export (functions with their signatures).
summarize() {
  wasm-objdump -x "$1" | awk -v file="$2" '
    function section(line) { sub(/\[.*$/, "", line); sub(/:.*$/, "", line); return line }
    /^[A-Z][A-Za-z]*(\[[0-9]+\])?:/ { sec = section($0); next }
    sec == "Type" && /^ - type\[/ {
      i = $0; sub(/^ - type\[/, "", i); sub(/\].*$/, "", i)
      s = $0; sub(/^ - type\[[0-9]+\] /, "", s); sub(/ -> nil$/, " -> ()", s); types[i] = s; next
    }
    sec == "Import" && /^ - / {
      kind = $0; sub(/^ - /, "", kind); sub(/\[.*$/, "", kind)
      full = $0; sub(/^.* <- /, "", full)
      if (kind == "func") {
        idx = $0; sub(/^ - func\[/, "", idx); sub(/\].*$/, "", idx)
        sig = $0; sub(/^.* sig=/, "", sig); sub(/ .*$/, "", sig)
        funcsig[idx] = sig
        imports[++nimp] = full " : " types[sig]
      } else {
        imports[++nimp] = full " : " kind
      }
      next
    }
    sec == "Function" && /^ - func\[/ {
      idx = $0; sub(/^ - func\[/, "", idx); sub(/\].*$/, "", idx)
      sig = $0; sub(/^.* sig=/, "", sig); sub(/ .*$/, "", sig)
      funcsig[idx] = sig; next
    }
    sec == "Export" && /^ - / {
      kind = $0; sub(/^ - /, "", kind); sub(/\[.*$/, "", kind)
      name = $0; sub(/^.* -> "/, "", name); sub(/"$/, "", name)
      exported[name] = kind
      if (kind == "func") {
        idx = $0; sub(/^ - func\[/, "", idx); sub(/\].*$/, "", idx)
        exports[++nexp] = sprintf("%-6s %s : %s", kind, name, types[funcsig[idx]])
      } else {
        exports[++nexp] = sprintf("%-6s %s", kind, name)
      }
      if (name ~ /^proxy_abi_version_/ && abi == "") abi = name
      next
    }
    sec == "Start" && /start function/ { start = $0; sub(/^.*: /, "", start); next }
    END {
      alloc = ("malloc" in exported) ? "malloc" : (("proxy_on_memory_allocate" in exported) ? "proxy_on_memory_allocate" : "MISSING")
      if ("_initialize" in exported) entry = "export _initialize"
      else if ("_start" in exported) entry = "export _start (WASI command style; host must call it, no _initialize)"
      else if (start != "") entry = "wasm start section (func " start "), runs during instantiation"
      else entry = "none"
      printf "module: %s\n", file
      printf "abi: %s\n", (abi == "" ? "MISSING" : abi)
      printf "allocator: %s\n", alloc
      printf "entry: %s\n", entry
      printf "imports (%d):\n", nimp
      for (i = 1; i <= nimp; i++) printf "  %s\n", imports[i]
      printf "exports (%d):\n", nexp
      for (i = 1; i <= nexp; i++) printf "  %s\n", exports[i]
    }'
}

check_module() {
  local summary="$1" name="$2" ok=1
  grep -q '^abi: proxy_abi_version_' "$summary" || { echo "build-conformance: $name: no proxy_abi_version_* export" >&2; ok=0; }
  grep -Eq '^  func +proxy_on_context_create : ' "$summary" || { echo "build-conformance: $name: no proxy_on_context_create export" >&2; ok=0; }
  grep -q '^allocator: MISSING' "$summary" && { echo "build-conformance: $name: exports neither malloc nor proxy_on_memory_allocate" >&2; ok=0; }
  [[ $ok == 1 ]]
}

# --- main --------------------------------------------------------------------------------------
failed=0
for sdk in "${sdks[@]}"; do
  dir="$conf/$sdk"
  ensure_deps "$dir"
  mkdir -p "$out/$sdk"
  for plugin in "${plugins[@]}"; do
    wasm="$out/$sdk/$plugin.wasm"
    if needs_build "$wasm" "$dir"; then
      echo "build-conformance: compiling $sdk/$plugin.wasm" >&2
      compile "$sdk" "$plugin" "$wasm"
    fi
    summarize "$wasm" "$sdk/$plugin.wasm" >"$out/$sdk/$plugin.txt"
    check_module "$out/$sdk/$plugin.txt" "$sdk/$plugin.wasm" || failed=1
    [[ "${WG_CONFORMANCE_QUIET:-0}" == 1 ]] || { cat "$out/$sdk/$plugin.txt"; echo; }
  done
done
[[ $failed == 0 ]] || die "module check failed"

if [[ "${WG_CONFORMANCE_SELFTEST:-1}" != 0 ]]; then
  if [[ "${WG_CONFORMANCE_QUIET:-0}" == 1 ]]; then
    node "$conf/mock_host.mjs" "$out" >/dev/null || { node "$conf/mock_host.mjs" "$out" >&2 || true; die "mock-host self-check failed"; }
  else
    node "$conf/mock_host.mjs" "$out" || die "mock-host self-check failed"
  fi
fi
echo "build-conformance: ok -> $out" >&2
