// request_metrics: Prometheus-style request metrics defined by the plugin itself.
//
//   method.<M>.response_code.<C>.requests_total   counter per method and response code
//   requests_active                               gauge: requests in flight through the plugin
//   request_duration_ms                           histogram: request headers to stream end
//
// Envoy prefixes them with the "wasmcustom." namespace; with the stats_tags in envoy.yaml the
// Prometheus endpoint shows requests_total{method="GET",response_code="200"}. The names use the
// C++ SDK's tagged-metric convention (Counter<std::string, int> with tag descriptors).
// No configuration.
// NOLINT(namespace-envoy)
#include <memory>
#include <string>

#include "proxy_wasm_intrinsics.h"

START_WASM_PLUGIN(request_metrics)

class MetricsRootContext : public RootContext {
public:
  explicit MetricsRootContext(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t) override {
    requests_.reset(Counter<std::string, int>::New("requests_total", "method", "response_code"));
    if (defineMetric(MetricType::Gauge, "requests_active", &active_id_) != WasmResult::Ok ||
        defineMetric(MetricType::Histogram, "request_duration_ms", &duration_id_) !=
            WasmResult::Ok) {
      LOG_ERROR("request_metrics: cannot define metrics");
      return false;
    }
    return true;
  }

  // The SDK's New() hands out an owning raw pointer (the upstream SDK's API).
  std::unique_ptr<Counter<std::string, int>> requests_;
  uint32_t active_id_ = 0;
  uint32_t duration_id_ = 0;
};

class MetricsContext : public Context {
public:
  explicit MetricsContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<MetricsRootContext *>(root)) {}

  FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    started_ns_ = getCurrentTimeNanoseconds();
    method_ = getRequestHeader(":method")->toString();
    incrementMetric(root_->active_id_, 1);
    counted_ = true;
    return FilterHeadersStatus::Continue;
  }

  FilterHeadersStatus onResponseHeaders(uint32_t, bool) override {
    code_ = std::atoi(getResponseHeader(":status")->toString().c_str());
    return FilterHeadersStatus::Continue;
  }

  void onDone() override {
    if (!counted_)
      return;
    incrementMetric(root_->active_id_, -1);
    root_->requests_->increment(1, method_, code_);
    recordMetric(root_->duration_id_, (getCurrentTimeNanoseconds() - started_ns_) / 1000000);
  }

private:
  MetricsRootContext *root_;
  bool counted_ = false;
  uint64_t started_ns_ = 0;
  std::string method_;
  int code_ = 0;
};

static RegisterContextFactory register_MetricsContext(CONTEXT_FACTORY(MetricsContext),
                                                      ROOT_FACTORY(MetricsRootContext));

END_WASM_PLUGIN

// Compiled into wasmgate itself (runtime envoy.wasm.runtime.null), this is its name.
WASMGATE_NULL_PLUGIN(request_metrics)
