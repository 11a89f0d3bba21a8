#pragma once

// Foreign functions (proxy_call_foreign_function): the ones Envoy ships that make sense here,
// with Envoy's argument and result encodings (protobuf messages of
// envoy.source.extensions.common.wasm for the structured ones):
//
//   compress                raw bytes -> zlib stream (compress2, default level)
//   uncompress              zlib stream -> raw bytes (output capped: SerializationFailure past it)
//   verify_signature        VerifySignatureArguments{hash_function, signature, public_key (DER
//                           SubjectPublicKeyInfo), text} -> VerifySignatureResult{result, error}
//   declare_property        DeclarePropertyArguments{name, type, schema, readonly, span}: later
//                           proxy_set_property(name) of a readonly property succeeds once
//   clear_route_cache       no arguments: the stream re-evaluates its route
//   set_envoy_filter_state  SetEnvoyFilterStateArguments{path, value, span}: a filter-state value
//                           under `path` itself (not wasm.<path>)
//
// Anything else is NotFound (Envoy's answer for an unknown name).

#include <string>
#include <string_view>

#include "wasm/abi/host_context.h"

namespace wasmgate::extensions::wasm {

// What the functions need from the calling context. Stream-only operations answer NotFound
// on a root context.
class ForeignFunctionTarget {
public:
  virtual ~ForeignFunctionTarget() = default;
  virtual ::wasmgate::wasm::abi::WasmResult foreignClearRouteCache() = 0;
  virtual ::wasmgate::wasm::abi::WasmResult foreignSetFilterState(std::string_view key,
                                                                  std::string_view value) = 0;
  virtual ::wasmgate::wasm::abi::WasmResult foreignDeclareProperty(std::string_view name,
                                                                   bool readonly) = 0;
};

::wasmgate::wasm::abi::WasmResult callForeignFunction(ForeignFunctionTarget& target,
                                                      std::string_view name,
                                                      std::string_view arguments,
                                                      std::string& result);

// Largest output `uncompress` produces (a zlib bomb fails instead of eating memory).
inline constexpr size_t kMaxUncompressedBytes = 16 << 20;

namespace protowire {
// The few protobuf wire-format pieces the structured functions need, exposed for tests.
std::string encodeBytesField(uint32_t field, std::string_view value);
std::string encodeVarintField(uint32_t field, uint64_t value);
} // namespace protowire

} // namespace wasmgate::extensions::wasm
