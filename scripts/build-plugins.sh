#!/usr/bin/env bash
# Builds every example plugin (examples/plugins/<name>/*.cc) into <out>/<name>.wasm with
# Debian's clang-14 and wasi-libc/libc++ for wasm32-wasi, then checks each module against the
# Proxy-Wasm ABI (0.2.1): import modules and names, export names, and every proxy_* signature.
#
#   scripts/build-plugins.sh [out-dir]        (default: build/plugins in the repository)
#   scripts/build-plugins.sh --check a.wasm…  only run the ABI checks on existing modules
#
# Needs: clang-14, lld-14, wasi-libc, libc++-14-dev-wasm32, libc++abi-14-dev-wasm32,
# libclang-rt-14-dev-wasm32, wabt (wasm-objdump, wasm-validate).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHECK_ONLY=0
if [[ "${1:-}" == "--check" ]]; then
  CHECK_ONLY=1
  shift
  [[ $# -gt 0 ]] || { echo "usage: $0 --check module.wasm..." >&2; exit 2; }
fi
OUT="${1:-$ROOT/build/plugins}"
CXX="${WASM_CXX:-clang++-14}"
SDK="$ROOT/sdk/cpp"

tools=(wasm-objdump wasm-validate)
[[ $CHECK_ONLY == 1 ]] || tools+=("$CXX")
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "build-plugins: '$tool' not found" >&2; exit 1; }
done

# A WASI reactor: no main, `_initialize` runs the static constructors (which register the
# context factories). The SDK exports malloc and the proxy_on_* callbacks by name itself.
# Names stay in the module (only DWARF is stripped) so traps show function names.
# __FILE__ (in LOG_* prefixes) is made relative to the repository: shorter logs, reproducible
# modules.
CXXFLAGS=(--target=wasm32-wasi -O2 -std=c++17 -fno-exceptions -Wall -Wextra -Werror
          -I"$SDK" -mexec-model=reactor -ffile-prefix-map="$ROOT/"=)
LDFLAGS=(-Wl,--strip-debug)

# Expected signatures (proxy-wasm-abi.md sections 1 and 2), in wasm-objdump's notation.
# kind name signature; kind: import (env, ABI 0.2.1), export (required), reject (0.1.0-only).
ABI_TABLE=$(cat <<'EOF'
import proxy_log (i32, i32, i32) -> i32
import proxy_get_log_level (i32) -> i32
import proxy_get_current_time_nanoseconds (i32) -> i32
import proxy_set_tick_period_milliseconds (i32) -> i32
import proxy_get_status (i32, i32, i32) -> i32
import proxy_set_effective_context (i32) -> i32
import proxy_done () -> i32
import proxy_call_foreign_function (i32, i32, i32, i32, i32, i32) -> i32
import proxy_get_buffer_bytes (i32, i32, i32, i32, i32) -> i32
import proxy_set_buffer_bytes (i32, i32, i32, i32, i32) -> i32
import proxy_get_buffer_status (i32, i32, i32) -> i32
import proxy_get_header_map_pairs (i32, i32, i32) -> i32
import proxy_set_header_map_pairs (i32, i32, i32) -> i32
import proxy_get_header_map_value (i32, i32, i32, i32, i32) -> i32
import proxy_add_header_map_value (i32, i32, i32, i32, i32) -> i32
import proxy_replace_header_map_value (i32, i32, i32, i32, i32) -> i32
import proxy_remove_header_map_value (i32, i32, i32) -> i32
import proxy_get_header_map_size (i32, i32) -> i32
import proxy_continue_stream (i32) -> i32
import proxy_close_stream (i32) -> i32
import proxy_send_local_response (i32, i32, i32, i32, i32, i32, i32, i32) -> i32
import proxy_get_property (i32, i32, i32, i32) -> i32
import proxy_set_property (i32, i32, i32, i32) -> i32
import proxy_get_shared_data (i32, i32, i32, i32, i32) -> i32
import proxy_set_shared_data (i32, i32, i32, i32, i32) -> i32
import proxy_register_shared_queue (i32, i32, i32) -> i32
import proxy_resolve_shared_queue (i32, i32, i32, i32, i32) -> i32
import proxy_enqueue_shared_queue (i32, i32, i32) -> i32
import proxy_dequeue_shared_queue (i32, i32, i32) -> i32
import proxy_define_metric (i32, i32, i32, i32) -> i32
import proxy_increment_metric (i32, i64) -> i32
import proxy_record_metric (i32, i64) -> i32
import proxy_get_metric (i32, i32) -> i32
import proxy_http_call (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i32
import proxy_grpc_call (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i32
import proxy_grpc_stream (i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i32
import proxy_grpc_send (i32, i32, i32, i32) -> i32
import proxy_grpc_cancel (i32) -> i32
import proxy_grpc_close (i32) -> i32
reject proxy_get_configuration
reject proxy_continue_request
reject proxy_continue_response
reject proxy_clear_route_cache
export _initialize () -> nil
export malloc (i32) -> i32
export proxy_abi_version_0_2_1 () -> nil
export proxy_on_context_create (i32, i32) -> nil
export proxy_on_vm_start (i32, i32) -> i32
export proxy_validate_configuration (i32, i32) -> i32
export proxy_on_configure (i32, i32) -> i32
export proxy_on_tick (i32) -> nil
export proxy_on_queue_ready (i32, i32) -> nil
export proxy_on_foreign_function (i32, i32, i32) -> nil
export proxy_on_new_connection (i32) -> i32
export proxy_on_downstream_data (i32, i32, i32) -> i32
export proxy_on_upstream_data (i32, i32, i32) -> i32
export proxy_on_downstream_connection_close (i32, i32) -> nil
export proxy_on_upstream_connection_close (i32, i32) -> nil
export proxy_on_request_headers (i32, i32, i32) -> i32
export proxy_on_request_body (i32, i32, i32) -> i32
export proxy_on_request_trailers (i32, i32) -> i32
export proxy_on_request_metadata (i32, i32) -> i32
export proxy_on_response_headers (i32, i32, i32) -> i32
export proxy_on_response_body (i32, i32, i32) -> i32
export proxy_on_response_trailers (i32, i32) -> i32
export proxy_on_response_metadata (i32, i32) -> i32
export proxy_on_http_call_response (i32, i32, i32, i32, i32) -> nil
export proxy_on_grpc_receive_initial_metadata (i32, i32, i32) -> nil
export proxy_on_grpc_receive (i32, i32, i32) -> nil
export proxy_on_grpc_receive_trailing_metadata (i32, i32, i32) -> nil
export proxy_on_grpc_close (i32, i32, i32) -> nil
export proxy_on_done (i32) -> i32
export proxy_on_log (i32) -> nil
export proxy_on_delete (i32) -> nil
EOF
)

# WASI functions the host provides (proxy-wasm-abi.md 5.1); anything else fails to link.
WASI_ALLOWED="fd_write fd_read fd_pwrite fd_pread fd_seek fd_tell fd_close fd_fdstat_get
fd_fdstat_set_flags fd_fdstat_set_rights fd_filestat_get fd_filestat_set_size
fd_filestat_set_times fd_advise fd_allocate fd_datasync fd_sync fd_prestat_get
fd_prestat_dir_name fd_readdir fd_renumber path_open path_filestat_get path_filestat_set_times
path_create_directory path_remove_directory path_unlink_file path_rename path_readlink
path_link path_symlink sock_accept sock_recv sock_send sock_shutdown environ_sizes_get
environ_get args_sizes_get args_get clock_time_get clock_res_get random_get sched_yield
poll_oneoff proc_exit"

# Prints one problem per line; no output = the module conforms.
check_module() {
  wasm-objdump -x "$1" | awk -v table="$ABI_TABLE" -v wasi="$WASI_ALLOWED" '
    BEGIN {
      n = split(table, lines, "\n")
      for (i = 1; i <= n; i++) {
        split(lines[i], f, " "); kind = f[1]; name = f[2]
        sig = lines[i]; sub(/^[a-z]+ [^ ]+ ?/, "", sig)
        if (kind == "import") want_import[name] = sig
        else if (kind == "export") want_export[name] = sig
        else if (kind == "reject") reject[name] = 1
      }
      n = split(wasi, names, /[ \n]+/)
      for (i = 1; i <= n; i++) wasi_ok[names[i]] = 1
    }
    /^[A-Z][A-Za-z]*\[[0-9]+\]:/ { section = $0; sub(/\[.*/, "", section); next }
    section == "Type" && /^ - type\[/ {
      idx = $0; sub(/^ - type\[/, "", idx); sub(/\].*/, "", idx)
      s = $0; sub(/^ - type\[[0-9]+\] /, "", s); types[idx] = s; next
    }
    section == "Import" && /^ - func\[/ {
      idx = $0; sub(/^ - func\[/, "", idx); sub(/\].*/, "", idx)
      sig = $0; sub(/.* sig=/, "", sig); sub(/ .*/, "", sig); func_sig[idx] = sig
      full = $0; sub(/.* <- /, "", full)
      module = full; sub(/\..*/, "", module); name = full; sub(/^[^.]*\./, "", name)
      imports[++nimports] = module SUBSEP name SUBSEP idx
      next
    }
    section == "Import" && /^ - / { problems[++np] = "non-function import: " $0; next }
    section == "Function" && /^ - func\[/ {
      idx = $0; sub(/^ - func\[/, "", idx); sub(/\].*/, "", idx)
      sig = $0; sub(/.* sig=/, "", sig); sub(/ .*/, "", sig); func_sig[idx] = sig; next
    }
    section == "Export" && /^ - func\[/ {
      idx = $0; sub(/^ - func\[/, "", idx); sub(/\].*/, "", idx)
      name = $0; sub(/.* -> "/, "", name); sub(/"$/, "", name)
      if (name in exported) problems[++np] = "duplicate export \"" name "\""
      exported[name] = idx; next
    }
    END {
      for (i = 1; i <= nimports; i++) {
        split(imports[i], p, SUBSEP); module = p[1]; name = p[2]; got = types[func_sig[p[3]]]
        if (module == "env") {
          if (name in reject) problems[++np] = "imports " name " (ABI 0.1.0 only; fails to load as 0.2.1)"
          else if (!(name in want_import)) problems[++np] = "imports unknown env." name
          else if (got != want_import[name]) problems[++np] = "env." name " has type " got ", ABI: " want_import[name]
        } else if (module == "wasi_snapshot_preview1") {
          if (!(name in wasi_ok)) problems[++np] = "imports wasi_snapshot_preview1." name ", which hosts do not provide"
        } else {
          problems[++np] = "imports from module \"" module "\" (only env and wasi_snapshot_preview1 exist)"
        }
      }
      for (name in want_export) {
        if (!(name in exported)) problems[++np] = "missing export " name
        else if (types[func_sig[exported[name]]] != want_export[name])
          problems[++np] = "export " name " has type " types[func_sig[exported[name]]] ", ABI: " want_export[name]
      }
      if ("_start" in exported) problems[++np] = "exports _start (a WASI command, not a reactor)"
      for (i = 1; i <= np; i++) print problems[i]
    }'
}

if [[ $CHECK_ONLY == 1 ]]; then
  status=0
  for wasm in "$@"; do
    if ! wasm-validate "$wasm"; then
      status=1
      continue
    fi
    problems="$(check_module "$wasm")"
    if [[ -n "$problems" ]]; then
      echo "$wasm: does not conform to the Proxy-Wasm ABI:"
      echo "$problems" | sed 's/^/  /'
      status=1
    else
      echo "$wasm: ABI 0.2.1 imports/exports OK"
    fi
  done
  exit $status
fi

mkdir -p "$OUT"
built=()
for dir in "$ROOT"/examples/plugins/*/; do
  dir="${dir%/}"
  [[ -f "$dir/plugin.cc" ]] || continue
  name="$(basename "$dir")"
  wasm="$OUT/$name.wasm"
  echo "== $name"
  "$CXX" "${CXXFLAGS[@]}" "$dir"/*.cc "${LDFLAGS[@]}" -o "$wasm"
  wasm-validate "$wasm"
  problems="$(check_module "$wasm")"
  if [[ -n "$problems" ]]; then
    echo "build-plugins: $wasm does not conform to the Proxy-Wasm ABI:" >&2
    echo "$problems" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "   $wasm ($(stat -c %s "$wasm") bytes): ABI 0.2.1 imports/exports OK"
  built+=("$wasm")
done

if [[ ${#built[@]} -eq 0 ]]; then
  echo "build-plugins: no plugins found under examples/plugins/*/plugin.cc" >&2
  exit 1
fi
echo "built ${#built[@]} plugin(s) into $OUT"
