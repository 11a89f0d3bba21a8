// tcp_rewrite: an L4 (network filter) plugin in front of tcp_proxy. It counts the bytes of each
// connection in both directions (counters tcp_rewrite_downstream_bytes_total and
// tcp_rewrite_upstream_bytes_total), replaces a configured byte string in what the upstream
// sends back, and logs the totals when the client goes away.
//
// Configuration (the plugin configuration string, JSON):
//   {"from": "hello", "to": "HOWDY"}   both required, non-empty ("from" is replaced by "to")
// Each data chunk is rewritten on its own: a match split across two reads is not replaced.
// NOLINT(namespace-envoy)
#include <string>
#include <string_view>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(tcp_rewrite)

class RewriteRootContext : public RootContext {
public:
  explicit RewriteRootContext(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t configuration_size) override {
    auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
    std::string error;
    auto config = minijson::parse(conf->view(), &error);
    if (!config || !config->isObject()) {
      LOG_ERROR("tcp_rewrite: the configuration must be a JSON object: " +
                (error.empty() ? conf->toString() : error));
      return false;
    }
    from_ = config->get("from").asString("");
    to_ = config->get("to").asString("");
    if (from_.empty() || !config->get("to").isString()) {
      LOG_ERROR("tcp_rewrite: \"from\" (non-empty) and \"to\" are required strings");
      return false;
    }
    if (defineMetric(MetricType::Counter, "tcp_rewrite_downstream_bytes_total", &down_id_) !=
            WasmResult::Ok ||
        defineMetric(MetricType::Counter, "tcp_rewrite_upstream_bytes_total", &up_id_) !=
            WasmResult::Ok)
      return false;
    return true;
  }

  std::string from_;
  std::string to_;
  uint32_t down_id_ = 0;
  uint32_t up_id_ = 0;
};

class RewriteContext : public Context {
public:
  explicit RewriteContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<RewriteRootContext *>(root)) {}

  FilterStatus onDownstreamData(size_t size, bool) override {
    down_ += size;
    if (size > 0)
      incrementMetric(root_->down_id_, int64_t(size));
    return FilterStatus::Continue;
  }

  FilterStatus onUpstreamData(size_t size, bool) override {
    up_ += size;
    if (size == 0)
      return FilterStatus::Continue;
    incrementMetric(root_->up_id_, int64_t(size));
    auto data = getBufferBytes(WasmBufferType::NetworkUpstreamData, 0, size);
    std::string text = data->toString();
    bool changed = false;
    for (size_t at = text.find(root_->from_); at != std::string::npos;
         at = text.find(root_->from_, at + root_->to_.size())) {
      text.replace(at, root_->from_.size(), root_->to_);
      changed = true;
    }
    if (changed)
      setBuffer(WasmBufferType::NetworkUpstreamData, 0, size, text);
    return FilterStatus::Continue;
  }

  void onDownstreamConnectionClose(CloseType type) override {
    LOG_INFO("tcp_rewrite: connection closed by the " +
             std::string(type == CloseType::Remote ? "client" : "proxy") + " after " +
             std::to_string(down_) + " bytes in, " + std::to_string(up_) + " bytes out");
  }

private:
  RewriteRootContext *root_;
  uint64_t down_ = 0;
  uint64_t up_ = 0;
};

static RegisterContextFactory register_RewriteContext(CONTEXT_FACTORY(RewriteContext),
                                                      ROOT_FACTORY(RewriteRootContext));

END_WASM_PLUGIN

// Compiled into wasmgate itself (runtime envoy.wasm.runtime.null), this is its name.
WASMGATE_NULL_PLUGIN(tcp_rewrite)
