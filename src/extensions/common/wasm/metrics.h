#pragma once

// Metrics a plugin defines with proxy_define_metric, as Envoy treats them:
//   - the stat is "wasmcustom.<name>" in the proxy's store ("wasmcustom" is a custom stat
//     namespace: Prometheus shows it as <name>, without the namespace or the envoy_ prefix, and
//     stats_tags extract labels from the name);
//   - ids are per VM and encode the type in the low two bits (counter 0, gauge 1, histogram 2),
//     so the first counter is 4, the first gauge 5, the first histogram 6;
//   - counters only go up (a non-positive increment is BadArgument), gauges go both ways,
//     histograms only record, and get works for counters and gauges;
//   - an id this VM never handed out is NotFound.

#include <cstdint>
#include <string_view>
#include <vector>

#include "stats/stats.h"
#include "wasm/abi/host_context.h"

namespace wasmgate::extensions::wasm {

inline constexpr std::string_view kCustomStatNamespace = "wasmcustom";

class VmMetrics {
public:
  using WasmResult = ::wasmgate::wasm::abi::WasmResult;

  // `store` may be null (a plugin loaded without a stats store, e.g. in tests): metrics then
  // live in a private store of this VM.
  explicit VmMetrics(stats::Store* store);

  WasmResult define(uint32_t type, std::string_view name, uint32_t& id);
  WasmResult increment(uint32_t id, int64_t offset);
  WasmResult record(uint32_t id, uint64_t value);
  WasmResult get(uint32_t id, uint64_t& value) const;

private:
  static constexpr uint32_t kCounter = 0, kGauge = 1, kHistogram = 2, kTypeMask = 3;

  // The slot an id names, or nullptr.
  template <class T> T* lookup(const std::vector<T*>& list, uint32_t id) const {
    const uint32_t index = id >> 2;
    return index >= 1 && index <= list.size() ? list[index - 1] : nullptr;
  }

  std::unique_ptr<stats::Store> own_store_;
  stats::Store& store_;
  std::vector<stats::Counter*> counters_;
  std::vector<stats::Gauge*> gauges_;
  std::vector<stats::Histogram*> histograms_;
};

} // namespace wasmgate::extensions::wasm
