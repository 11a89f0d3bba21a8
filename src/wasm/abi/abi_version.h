#pragma once

// Which Proxy-Wasm ABI a module speaks, decided from its exports before instantiation (the
// version picks the host-function set and a few callback signatures).

#include <string_view>

#include "common/status.h"
#include "wasm/bytecode.h"

namespace wasmgate::wasm::abi {

enum class AbiVersion { V0_1_0, V0_2_0, V0_2_1 };

// "0.1.0", "0.2.0", "0.2.1".
const char* abiVersionName(AbiVersion v);

// The first function export (in export order) named proxy_abi_version_0_1_0, _0_2_0 or _0_2_1.
// Other proxy_abi_version_* names (e.g. the spec's vNEXT "0_x_x") are not recognised, as in
// cpp-host. The marker function is never called.
Result<AbiVersion> detectAbiVersion(const ModuleInfo& module);

} // namespace wasmgate::wasm::abi
