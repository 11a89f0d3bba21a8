#include "extensions/common/wasm/metrics.h"

#include <string>

namespace wasmgate::extensions::wasm {

namespace {
// Enough for any real plugin; bounds what a looping define can make the store hold.
constexpr size_t kMaxMetricsPerType = 1 << 16;
} // namespace

VmMetrics::VmMetrics(stats::Store* store)
    : own_store_(store ? nullptr : std::make_unique<stats::Store>()),
      store_(store ? *store : *own_store_) {
  store_.addCustomStatNamespace(std::string(kCustomStatNamespace));
}

VmMetrics::WasmResult VmMetrics::define(uint32_t type, std::string_view name, uint32_t& id) {
  if (type > kHistogram || name.empty())
    return WasmResult::BadArgument;
  const std::string stat = std::string(kCustomStatNamespace) + "." + std::string(name);
  // Slot index i (from 1) and type t give the id (i << 2) | t, Envoy's encoding.
  auto add = [&](auto& list, auto* metric) {
    if (list.size() >= kMaxMetricsPerType)
      return WasmResult::InternalFailure;
    list.push_back(metric);
    id = (uint32_t(list.size()) << 2) | type;
    return WasmResult::Ok;
  };
  switch (type) {
  case kCounter:
    return add(counters_, &store_.counter(stat));
  case kGauge:
    return add(gauges_, &store_.gauge(stat));
  default:
    return add(histograms_, &store_.histogram(stat));
  }
}

VmMetrics::WasmResult VmMetrics::increment(uint32_t id, int64_t offset) {
  switch (id & kTypeMask) {
  case kCounter:
    if (auto* c = lookup(counters_, id)) {
      if (offset <= 0)
        return WasmResult::BadArgument;
      c->inc(uint64_t(offset));
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  case kGauge:
    if (auto* g = lookup(gauges_, id)) {
      g->add(offset);
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  case kHistogram:
    return lookup(histograms_, id) ? WasmResult::BadArgument : WasmResult::NotFound;
  default:
    return WasmResult::NotFound;
  }
}

VmMetrics::WasmResult VmMetrics::record(uint32_t id, uint64_t value) {
  switch (id & kTypeMask) {
  case kCounter:
    if (auto* c = lookup(counters_, id)) {
      c->inc(value);
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  case kGauge:
    if (auto* g = lookup(gauges_, id)) {
      g->set(value);
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  case kHistogram:
    if (auto* h = lookup(histograms_, id)) {
      h->recordValue(value);
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  default:
    return WasmResult::NotFound;
  }
}

VmMetrics::WasmResult VmMetrics::get(uint32_t id, uint64_t& value) const {
  switch (id & kTypeMask) {
  case kCounter:
    if (auto* c = lookup(counters_, id)) {
      value = c->value();
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  case kGauge:
    if (auto* g = lookup(gauges_, id)) {
      value = g->value();
      return WasmResult::Ok;
    }
    return WasmResult::NotFound;
  case kHistogram:
    return lookup(histograms_, id) ? WasmResult::BadArgument : WasmResult::NotFound;
  default:
    return WasmResult::NotFound;
  }
}

} // namespace wasmgate::extensions::wasm
