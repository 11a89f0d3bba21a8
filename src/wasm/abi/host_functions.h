#pragma once

// The host functions a Proxy-Wasm module may import, per ABI version (ABI doc sections 1 and
// 5): every env.proxy_* function an SDK declares (version-gated as cpp-host registers them),
// Envoy's env.envoy_resolve_dns, the emscripten leftovers env.pthread_equal and
// env.emscripten_notify_memory_growth, and WASI preview1 under both wasi_snapshot_preview1 and
// wasi_unstable. Linking is strict, so a module importing anything else fails to load naming it.
//
// The functions find their WasmInstance through WasmVm::hostData() and act on its effective
// context; they are only usable by VMs created through WasmInstance.

#include <string>
#include <vector>

#include "wasm/abi/abi_version.h"
#include "wasm/engine.h"

namespace wasmgate::wasm::abi {

// Built once per version on first use; immutable and shared (thread-safe).
const ImportTable& hostFunctions(AbiVersion version);

// "module.name" of everything hostFunctions(version) provides, sorted.
std::vector<std::string> hostFunctionNames(AbiVersion version);

} // namespace wasmgate::wasm::abi
