#include "wasm/abi/abi_version.h"

#include <optional>

namespace wasmgate::wasm::abi {

const char* abiVersionName(AbiVersion v) {
  switch (v) {
  case AbiVersion::V0_1_0: return "0.1.0";
  case AbiVersion::V0_2_0: return "0.2.0";
  case AbiVersion::V0_2_1: return "0.2.1";
  }
  return "?";
}

namespace {

std::optional<AbiVersion> versionOf(std::string_view name) {
  if (name == "proxy_abi_version_0_1_0")
    return AbiVersion::V0_1_0;
  if (name == "proxy_abi_version_0_2_0")
    return AbiVersion::V0_2_0;
  if (name == "proxy_abi_version_0_2_1")
    return AbiVersion::V0_2_1;
  return std::nullopt;
}

} // namespace

Result<AbiVersion> detectAbiVersion(const ModuleInfo& module) {
  for (const Export& e : module.exports) {
    if (e.kind != ExternKind::Function)
      continue;
    if (auto v = versionOf(e.name))
      return *v;
  }
  return Status::error("missing or unknown Proxy-Wasm ABI version (expected an export "
                       "proxy_abi_version_0_1_0, _0_2_0 or _0_2_1)");
}

} // namespace wasmgate::wasm::abi
