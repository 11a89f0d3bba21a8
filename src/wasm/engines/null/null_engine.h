#pragma once

// The null engine ("envoy.wasm.runtime.null", Istio's NullVM): plugins compiled natively into
// the proxy binary against the C++ SDK (sdk/cpp, built with -DPROXY_WASM_NULL_VM) and
// registered by name with WASMGATE_NULL_PLUGIN(name). `compile()` takes that name (Envoy's
// `code.local.inline_string`) instead of module bytes.
//
// A native plugin goes through the same WasmVm seam as a wasm module, so the ABI layer
// (WasmInstance, the host functions and their checks) is shared: exports are the plugin's
// NullVmPlugin table; the plugin's hostcalls (NullVmHostApi) are marshalled onto the very host
// functions a wasm module imports. See README.md next to this file.
//
// What a native plugin does not get: a sandbox. A crash or an endless loop in it is one in the
// proxy; terminate() only refuses later calls.

#include <memory>
#include <string>
#include <vector>

#include "wasm/engine.h"

namespace wasmgate::wasm {

inline constexpr std::string_view kNullRuntimeName = "envoy.wasm.runtime.null";

std::shared_ptr<WasmEngine> createNullEngine();

// The native plugins linked into this binary, sorted by name.
std::vector<std::string> nullPluginNames();

} // namespace wasmgate::wasm
