#pragma once

// Proxy-Wasm shared data (proxy_get_shared_data / proxy_set_shared_data): one key-value store
// per vm_id for the whole process, shared by every VM with that vm_id on every worker, with
// compare-and-swap tokens exactly as proxy-wasm-cpp-host's SharedData:
//   - every successful set gives the entry a new, process-wide unique CAS token (never 0);
//   - set with cas 0 always writes; with a non-zero cas it writes only while the entry still
//     has that token (else CasMismatch); a set of an absent key ignores the cas.
// Unlike Envoy, the store is bounded (SharedDataLimits): a set past a limit fails cleanly and
// leaves the store as it was.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "wasm/abi/host_context.h"

namespace wasmgate::extensions::wasm {

struct SharedDataLimits {
  size_t max_value_bytes = 1 << 20;    // one value
  size_t max_keys_per_vm_id = 1 << 16; // entries of one vm_id
};

class SharedData {
public:
  using WasmResult = ::wasmgate::wasm::abi::WasmResult;

  // The process-wide store the Wasm filters use.
  static SharedData& global();

  WasmResult get(std::string_view vm_id, std::string_view key, std::string& value,
                 uint32_t& cas) const;
  // BadArgument: the value is larger than max_value_bytes. InternalFailure: a new key would
  // exceed max_keys_per_vm_id. (Envoy has neither limit.)
  WasmResult set(std::string_view vm_id, std::string_view key, std::string_view value,
                 uint32_t cas);

  void setLimits(SharedDataLimits limits);
  SharedDataLimits limits() const;
  size_t size(std::string_view vm_id) const;

private:
  struct Entry {
    std::string value;
    uint32_t cas = 0;
  };
  uint32_t nextCas();

  mutable std::mutex mu_;
  SharedDataLimits limits_;
  uint32_t next_cas_ = 1;
  std::unordered_map<std::string, std::unordered_map<std::string, Entry>> data_;
};

} // namespace wasmgate::extensions::wasm
